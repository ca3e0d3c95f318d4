//! The Berth console: manages a Docker engine through the relay that served
//! it. Calls go through `api`; `state` holds the pure parts (tested
//! natively); `live` keeps data current from the engine's events; `ui`
//! holds what several pages share; `routes` holds the pages, one a file;
//! `app` is the shell and the router.

mod api;
mod app;
mod lazy;
mod live;
mod routes;
mod state;
mod ui;

fn main() {
    // Panic messages in the browser's console (debug builds: release builds
    // abort at the panic, and index.html tells the person).
    console_error_panic_hook::set_once();
    api::end_requests_when_hidden();
    leptos::mount::mount_to_body(app::App);
}

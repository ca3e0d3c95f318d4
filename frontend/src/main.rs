//! The Berth console: manages a Docker engine through the relay that served
//! it. State and calls live in `api`, pages in `routes`, shared pieces in `ui`.

mod ansi;
mod api;
mod app;
mod engines;
mod live;
mod palette;
mod routes;
mod ui;

fn main() {
    console_error_panic_hook::set_once();
    api::end_requests_when_hidden();
    leptos::mount::mount_to_body(app::App);
}

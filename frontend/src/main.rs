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
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        show_stopped();
    }));
    api::end_requests_when_hidden();
    leptos::mount::mount_to_body(app::App);
}

/// A panic ends the app (panic = abort): instead of a page that no longer
/// answers, say so, with a reload button that needs no wasm. Plain DOM, as
/// nothing of the app can run any more. (A page whose code fails to
/// download does not panic: see `lazy`.)
fn show_stopped() {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let (Some(body), None) = (doc.body(), doc.get_element_by_id("berth-stopped")) else {
        return;
    };
    let Ok(el) = doc.create_element("section") else {
        return;
    };
    el.set_id("berth-stopped");
    el.set_class_name("problem");
    let _ = el.set_attribute("role", "alert");
    let _ = el.set_attribute("data-problem", "stopped");
    let _ = el.set_attribute(
        "style",
        "position:fixed;top:1rem;left:50%;transform:translateX(-50%);z-index:1000;max-width:40rem",
    );
    el.set_inner_html(
        "<h2>The console stopped</h2>\
         <p>An error ended it (details in the browser's console). Reload to start it again.</p>\
         <button type=\"button\" onclick=\"location.reload()\">Reload</button>",
    );
    let _ = body.prepend_with_node_1(&el);
}

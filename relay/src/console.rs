//! Serves the built console (Trunk's dist/) with an SPA fallback: any path
//! under the prefix that is not a file gets index.html, and the console's
//! router takes it from there.

use std::path::Path;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{any, MethodRouter};
use tower_http::services::{ServeDir, ServeFile};

pub const PREFIX: &str = "/console";
pub const PREFIX_SLASH: &str = "/console/";

pub fn service(dir: &Path) -> MethodRouter {
    let index = dir.join("index.html");
    if index.is_file() {
        let serve = ServeDir::new(dir).fallback(ServeFile::new(index));
        axum::routing::any_service(serve)
    } else {
        let message = format!(
            "The Berth console has not been built: {} is missing.\n\
             Build it with `trunk build --release` (see the README), or point --console-dir at a built console.\n\
             The Engine API is served all the same.\n",
            index.display()
        );
        any(
            move || async move { (StatusCode::SERVICE_UNAVAILABLE, message.clone()).into_response() },
        )
    }
}

//! Serves the built console (Trunk's dist/) with an SPA fallback: any path
//! under the prefix that is not a file gets index.html, and the console's
//! router takes it from there.
//!
//! Files are sent gzip-compressed to browsers that take it (a `.gz` beside
//! the file if the build left one, else compressed on the way).

use std::path::Path;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{any, MethodRouter};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

pub const PREFIX: &str = "/console";
pub const PREFIX_SLASH: &str = "/console/";

pub fn service(dir: &Path) -> MethodRouter {
    let index = dir.join("index.html");
    if index.is_file() {
        let serve = ServeDir::new(dir)
            .precompressed_gzip()
            .fallback(ServeFile::new(index).precompressed_gzip());
        let service = ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::if_not_present(
                header::CACHE_CONTROL,
                |resp: &axum::response::Response<_>| cache_control(resp),
            ))
            .layer(CompressionLayer::new().gzip(true))
            .service(serve);
        axum::routing::any_service(service)
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

/// index.html is checked on every load; the rest may be kept an hour (Trunk
/// names the wasm, js and css after their content's hash, so a new build
/// is new URLs).
fn cache_control<B>(resp: &axum::response::Response<B>) -> Option<HeaderValue> {
    let html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    Some(HeaderValue::from_static(if html {
        "no-cache"
    } else {
        "public, max-age=3600"
    }))
}

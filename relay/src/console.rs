//! Serves the built console (Trunk's dist/, built into the binary or from a
//! folder given with --console-dir) with an SPA fallback: any path
//! under the prefix that is not a file gets index.html, and the console's
//! router takes it from there.
//!
//! Files are sent compressed to browsers that take it: brotli or gzip, as
//! the `.br` and `.gz` the build left beside them (from a folder without
//! them, and the page itself, gzip on the way).

use std::path::Path;

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, MethodRouter};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

pub const PREFIX: &str = "/console";
pub const PREFIX_SLASH: &str = "/console/";

/// The console built into this binary: Trunk's dist/ as it was when the
/// relay was compiled (release builds carry the files; debug builds read
/// them from that folder as they run).
#[derive(rust_embed::RustEmbed)]
#[folder = "../dist"]
#[allow_missing = true]
struct Built;

/// The console's page names its files by absolute path (`/console/…`);
/// under a base path they are `{base}/console/…`.
fn rebase(html: &[u8], base: &str) -> Vec<u8> {
    let html = String::from_utf8_lossy(html);
    if base.is_empty() {
        return html.into_owned().into_bytes();
    }
    html.replace("'/console/", &format!("'{base}/console/"))
        .replace("\"/console/", &format!("\"{base}/console/"))
        .into_bytes()
}

/// The console from `dir`, or the one built in when there is none; `base`
/// is the path berth is reached under (empty, or e.g. `/berth`).
pub fn service(dir: Option<&Path>, base: &str) -> MethodRouter {
    let base = base.to_owned();
    match dir {
        Some(dir) => from_dir(dir, base),
        None if Built::get("index.html").is_some() => {
            // The page itself is rebased per request, so it is compressed
            // on the way; the rest comes compressed already.
            any(move |method, uri, headers| built(method, uri, headers, base.clone()))
                .layer(CompressionLayer::new().gzip(true))
        }
        None => missing(
            "The Berth console was not built into this relay: build it (`trunk build --release`) \
             before the relay, or point --console-dir at a built console."
                .to_owned(),
        ),
    }
}

fn missing(message: String) -> MethodRouter {
    let message = format!("{message}\nThe Engine API is served all the same.\n");
    any(move || async move { (StatusCode::SERVICE_UNAVAILABLE, message.clone()).into_response() })
}

/// Whether `Accept-Encoding` takes `coding` (named, or `*`, with a
/// quality above 0).
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    let mut named = None;
    let mut any = None;
    for value in headers.get_all(header::ACCEPT_ENCODING).iter() {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if name.eq_ignore_ascii_case(coding) {
                named = Some(q > 0.0);
            } else if name == "*" {
                any = Some(q > 0.0);
            }
        }
    }
    named.or(any).unwrap_or(false)
}

/// A file of the built-in console, as the `.br` or `.gz` the build left
/// beside it when the browser takes that (brotli first); anything else
/// under the prefix is index.html (the console's router takes it from
/// there).
async fn built(method: Method, uri: Uri, headers: HeaderMap, base: String) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let path = uri.path().trim_start_matches('/');
    let plain = !path.is_empty() && !path.ends_with(".gz") && !path.ends_with(".br");
    let name = if plain && Built::get(path).is_some() {
        path
    } else {
        "index.html"
    };
    let compressed = ["br", "gzip"].into_iter().find_map(|coding| {
        let ext = if coding == "br" { "br" } else { "gz" };
        accepts(&headers, coding)
            .then(|| Built::get(&format!("{name}.{ext}")))
            .flatten()
            .map(|f| (coding, f))
    });
    let Some(file) = compressed
        .as_ref()
        .map(|(_, f)| f.clone())
        .or_else(|| Built::get(name))
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let coding = compressed.map(|(c, _)| c);
    let etag = format!(
        "\"{}{}\"",
        hex(&file.metadata.sha256_hash()[..12]),
        coding.map_or(String::new(), |c| format!("-{c}"))
    );
    // The type of the file asked for, not of its .br or .gz.
    let mime = Built::get(name).map_or_else(
        || "application/octet-stream".to_owned(),
        |f| f.metadata.mimetype().to_owned(),
    );
    let mut resp = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else if method == Method::HEAD {
        let mut r = StatusCode::OK.into_response();
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, file.data.len().into());
        r
    } else if name == "index.html" {
        (StatusCode::OK, rebase(&file.data, &base)).into_response()
    } else {
        (StatusCode::OK, file.data.into_owned()).into_response()
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Some(coding) = coding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if name.ends_with(".html") {
            "no-cache"
        } else {
            "public, max-age=3600"
        }),
    );
    resp
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_dir(dir: &Path, base: String) -> MethodRouter {
    let index = dir.join("index.html");
    if index.is_file() {
        // The page itself is read per request (a new build is seen at
        // once) and rebased; everything else is a file as it is.
        let page = axum::routing::get(move || {
            let (index, base) = (index.clone(), base.clone());
            async move {
                match tokio::fs::read(&index).await {
                    Ok(html) => (
                        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                        rebase(&html, &base),
                    )
                        .into_response(),
                    Err(e) => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!("{}: {e}", index.display()),
                    )
                        .into_response(),
                }
            }
        });
        let serve = ServeDir::new(dir)
            .precompressed_br()
            .precompressed_gzip()
            .append_index_html_on_directories(false)
            .fallback(page);
        let service = ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::if_not_present(
                header::CACHE_CONTROL,
                |resp: &axum::response::Response<_>| cache_control(resp),
            ))
            .layer(CompressionLayer::new().gzip(true))
            .service(serve);
        axum::routing::any_service(service)
    } else {
        missing(format!(
            "The Berth console has not been built: {} is missing.\n\
             Build it with `trunk build --release` (see the README), or point --console-dir at a built console.",
            index.display()
        ))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        h
    }

    #[test]
    fn accept_encoding_is_read_with_its_qualities() {
        assert!(accepts(&with("gzip, deflate, br, zstd"), "br"));
        assert!(accepts(&with("gzip, deflate, br, zstd"), "gzip"));
        assert!(!accepts(&with("gzip"), "br"));
        assert!(!accepts(&with("br;q=0, gzip"), "br"));
        assert!(accepts(&with("BR;q=0.5"), "br"));
        assert!(accepts(&with("*"), "br"));
        assert!(!accepts(&with("*;q=0, gzip"), "br"));
        assert!(!accepts(&with("identity"), "gzip"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
    }
}

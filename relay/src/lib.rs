//! The Berth relay: serves the console and forwards the Docker Engine API
//! unchanged, adding what browsers need (CORS).
//!
//! Routes: `/_berth/…` are the relay's own endpoints, `/console/…` the
//! console, `/` a redirect to it; everything else goes to the engine
//! byte for byte.

pub mod access;
pub mod admit;
pub mod coalesce;
pub mod config;
pub mod console;
pub mod engine;
pub mod error;
pub mod fanin;
pub mod hub;
pub mod overlap;
pub mod own;
pub mod proxy;
pub mod recorder;
pub mod serve;
pub mod sessions;
pub mod tls;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::header::{self, HeaderName};
use axum::middleware;
use axum::response::Redirect;
use axum::routing::get;
use axum::Router;
use tower::ServiceExt;
use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use access::Access;
pub use config::Config;
use engine::Engine;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub access: Arc<Access>,
    pub gate: Arc<admit::Gate>,
    pub hub: Arc<hub::Hub>,
    pub sessions: Arc<sessions::Sessions>,
    /// The flight recorder, when `--record` is given.
    pub recorder: Option<Arc<recorder::Recorder>>,
}

/// The relay's own paths (redirect, console, `/_berth`); everything else is
/// the engine's.
pub(crate) fn is_relay_path(path: &str) -> bool {
    path == "/"
        || path == console::PREFIX
        || path.starts_with(console::PREFIX_SLASH)
        || path
            .strip_prefix(berth_engine::relay::PREFIX)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The whole relay as a router, apart from `main` so tests drive it directly.
///
/// Layers, outermost first: the request log; Host and Origin checks (before
/// anything else can answer, CORS preflights included); CORS; the token;
/// the policy.
pub fn app(config: &Config) -> Router {
    let access = Arc::new(Access::new(
        config.allow_hosts.clone(),
        config.allow_origins.clone(),
        config.token.as_deref(),
    ));
    let engine = Arc::new(Engine::new(config.engine(), config.engine_tls.clone()));
    let owner = if config.token.is_some() {
        "token"
    } else if config.authenticates() {
        "certificate"
    } else {
        "local"
    };
    let hub = hub::Hub::new(engine.clone());
    let recorder = config
        .record
        .clone()
        .map(|dir| recorder::Recorder::start(dir, config.record_max, engine.clone(), hub.clone()));
    let state = AppState {
        hub,
        recorder,
        sessions: sessions::Sessions::new(config.terminal_idle(), owner),
        engine,
        access: access.clone(),
        gate: Arc::new(admit::Gate::new(config.rules(), config.allow_binds.clone())),
    };
    let base = config.base_path.clone().unwrap_or_default();
    let home = format!("{base}{}", console::PREFIX_SLASH);
    let router = Router::new()
        .route("/", get(move || async move { Redirect::temporary(&home) }))
        .nest(berth_engine::relay::PREFIX, own::routes(state.clone()))
        .nest_service(
            console::PREFIX,
            console::service(config.console_dir.as_deref(), &base),
        )
        .fallback(admit::pass)
        .with_state(state.clone())
        .layer(middleware::from_fn_with_state(
            access.clone(),
            access::check_token,
        ))
        .layer(cors(access.clone()))
        .layer(middleware::from_fn_with_state(
            access,
            access::check_host_and_origin,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    tracing::info_span!(
                        "request",
                        method = %req.method(),
                        uri = %redacted(req.uri()),
                        version = ?req.version(),
                    )
                })
                .on_request(())
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(tower_http::LatencyUnit::Micros),
                ),
        );
    // Engine calls that do not come from a page (no Origin: the docker CLI,
    // scripts, and the console's own same-origin reads) need none of the
    // layers above but the checks; every layer cost each call a few tens of
    // microseconds, a third of a `/_ping`.
    let full = router;
    let router = Router::new().fallback_service(tower::service_fn(move |req: Request| {
        let (full, state) = (full.clone(), state.clone());
        async move {
            let plain =
                !req.headers().contains_key(header::ORIGIN) && !is_relay_path(req.uri().path());
            if plain {
                Ok::<_, std::convert::Infallible>(engine_call(state, req).await)
            } else {
                full.oneshot(req).await
            }
        }
    }));
    // Behind a proxy that keeps the base path, it is taken off here; one
    // that strips it reaches the same routes.
    if base.is_empty() {
        router
    } else {
        Router::new()
            .nest_service(&base, router.clone())
            .fallback_service(router)
    }
}

/// An engine call that is not a page's: the same checks as the layers make
/// (Host, the token), the gate, the engine, and the request's log line.
async fn engine_call(state: AppState, req: Request) -> axum::response::Response {
    let logged = tracing::enabled!(target: "berth::request", tracing::Level::INFO);
    let started = logged.then(std::time::Instant::now);
    let (method, uri) = (req.method().clone(), req.uri().clone());
    let resp = async {
        if let Err(refused) = state.access.check_host_and_origin(&req) {
            return refused;
        }
        if let Some(miss) = state.access.check_token(&req) {
            return state.access.refuse_token(miss).await;
        }
        admit::pass(axum::extract::State(state), req).await
    }
    .await;
    if let Some(started) = started {
        tracing::info!(
            target: "berth::request",
            %method,
            uri = %redacted(&uri),
            status = resp.status().as_u16(),
            latency = %format!("{} μs", started.elapsed().as_micros()),
            "finished processing request"
        );
    }
    resp
}

/// Query parameters whose values may be logged; any other's value (a
/// ticket, build arguments, anything new) is written as `…`.
const LOGGED_PARAMS: &[&str] = &[
    "all",
    "follow",
    "stdout",
    "stderr",
    "stdin",
    "stream",
    "logs",
    "timestamps",
    "tail",
    "since",
    "until",
    "size",
    "force",
    "v",
    "link",
    "signal",
    "t",
    "h",
    "w",
    "name",
    "fromImage",
    "fromSrc",
    "repo",
    "tag",
    "filters",
    "path",
    "noprune",
    "rm",
    "q",
    "nocache",
    "pull",
    "forcerm",
    "dockerfile",
    "target",
    "platform",
    "limit",
    "term",
    "one-shot",
    "condition",
    "timeout",
    "s",
];

/// A request's path and query as the log shows them.
fn redacted(uri: &axum::http::Uri) -> String {
    let Some(query) = uri.query() else {
        return uri.path().to_owned();
    };
    let params: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if !LOGGED_PARAMS.contains(&k) => format!("{k}=…"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{}?{}", uri.path(), params.join("&"))
}

/// CORS for exactly the origins the Origin check admits; `Vary: Origin` is
/// always sent, and the engine's `/_ping` headers are readable.
fn cors(access: Arc<Access>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, parts| {
            let host = parts
                .headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok());
            origin
                .to_str()
                .is_ok_and(|o| access.origin_allowed(o, host))
        }))
        .allow_methods(AllowMethods::mirror_request())
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers(config::EXPOSED_HEADERS.map(HeaderName::from_static))
}

/// How long shutdown waits for open streams before it closes them.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;
    use crate::config::EngineAddr;

    fn config(console_dir: &std::path::Path) -> Config {
        let mut c = Config::for_engine(EngineAddr::Unix("/nonexistent/docker.sock".into()));
        c.console_dir = Some(console_dir.to_owned());
        c.allow_origins = vec!["http://console.example:8080".into()];
        c
    }

    async fn call(app: Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
        let resp = app.oneshot(req).await.unwrap();
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        (
            parts.status,
            parts.headers,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    fn get(path: &str) -> Request<Body> {
        Request::get(path)
            .header(header::HOST, "127.0.0.1:2375")
            .body(Body::empty())
            .unwrap()
    }

    #[test]
    fn logged_queries_keep_no_secrets() {
        let uri = "/_berth/download?ticket=abc123&path=/containers/x/export&name=x.tar"
            .parse()
            .unwrap();
        assert_eq!(
            redacted(&uri),
            "/_berth/download?ticket=…&path=/containers/x/export&name=x.tar"
        );
        let build = "/v1.41/build?t=app&buildargs=%7B%22TOKEN%22%3A%22s3cret%22%7D"
            .parse()
            .unwrap();
        assert_eq!(redacted(&build), "/v1.41/build?t=app&buildargs=…");
    }

    #[tokio::test]
    async fn root_redirects_to_the_console() {
        let (status, headers, _) = call(app(&config("/nonexistent".as_ref())), get("/")).await;
        assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(headers[header::LOCATION], "/console/");
    }

    #[tokio::test]
    async fn console_is_served_with_spa_fallback() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<title>berth</title>").unwrap();
        std::fs::write(dir.path().join("app.js"), "js").unwrap();
        let app = app(&config(dir.path()));
        let (status, _, body) = call(app.clone(), get("/console/")).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, "<title>berth</title>")
        );
        let (_, _, body) = call(app.clone(), get("/console/app.js")).await;
        assert_eq!(body, "js");
        // A deep link the console's router owns.
        let (status, _, body) = call(app, get("/console/containers")).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, "<title>berth</title>")
        );
    }

    #[tokio::test]
    async fn precompressed_files_go_as_the_browser_takes_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<title>berth</title>").unwrap();
        std::fs::write(dir.path().join("app.wasm"), "plain").unwrap();
        std::fs::write(dir.path().join("app.wasm.br"), "brotli").unwrap();
        std::fs::write(dir.path().join("app.wasm.gz"), "gzip").unwrap();
        let app = app(&config(dir.path()));
        for (accept, body, coding) in [
            ("gzip, deflate, br, zstd", "brotli", Some("br")),
            ("gzip", "gzip", Some("gzip")),
            ("identity", "plain", None),
        ] {
            let req = Request::get("/console/app.wasm")
                .header(header::HOST, "127.0.0.1:2375")
                .header(header::ACCEPT_ENCODING, accept)
                .body(Body::empty())
                .unwrap();
            let (status, headers, got) = call(app.clone(), req).await;
            assert_eq!((status, got.as_str()), (StatusCode::OK, body), "{accept}");
            assert_eq!(
                headers
                    .get(header::CONTENT_ENCODING)
                    .map(|v| v.to_str().unwrap()),
                coding,
                "{accept}"
            );
        }
    }

    #[tokio::test]
    async fn a_missing_console_says_how_to_build_it() {
        let (status, _, body) = call(app(&config("/nonexistent".as_ref())), get("/console/")).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("trunk build"), "{body}");
    }

    #[tokio::test]
    async fn unreachable_engine_is_a_clear_502() {
        let app = app(&config("/nonexistent".as_ref()));
        let (status, headers, body) = call(app.clone(), get("/v1.41/containers/json")).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        let msg: serde_json::Value = serde_json::from_str(&body).unwrap();
        let msg = msg["message"].as_str().unwrap();
        assert!(
            msg.starts_with(
                "berth: cannot reach the Docker engine at unix:///nonexistent/docker.sock"
            ),
            "{msg}"
        );
        // The relay's own health still answers, and says why.
        let (status, _, body) = call(app, get("/_berth/health")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("cannot reach"), "{body}");
    }

    #[tokio::test]
    async fn cors_admits_exactly_the_allowed_origins() {
        let app = app(&config("/nonexistent".as_ref()));
        let preflight = |origin: &str| {
            Request::builder()
                .method("OPTIONS")
                .uri("/containers/x/stop")
                .header(header::HOST, "localhost:2375")
                .header(header::ORIGIN, origin)
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
                .body(Body::empty())
                .unwrap()
        };
        for origin in ["http://console.example:8080", "http://localhost:2375"] {
            let (_, headers, _) = call(app.clone(), preflight(origin)).await;
            assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], origin);
            assert!(headers
                .get_all(header::VARY)
                .iter()
                .any(|v| v.to_str().unwrap().contains("origin")));
        }
        let (_, headers, _) = call(app.clone(), preflight("http://evil.example")).await;
        assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());

        let ping = Request::get("/_berth/config")
            .header(header::HOST, "localhost:2375")
            .header(header::ORIGIN, "http://console.example:8080")
            .body(Body::empty())
            .unwrap();
        let (_, headers, _) = call(app, ping).await;
        let exposed = headers[header::ACCESS_CONTROL_EXPOSE_HEADERS]
            .to_str()
            .unwrap();
        assert!(
            exposed.contains("api-version") && exposed.contains("ostype"),
            "{exposed}"
        );
    }
}

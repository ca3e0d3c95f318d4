//! Calls to the engine through a Berth relay (the one that served the
//! console, or another chosen in the engines list), typed by the shared
//! endpoint catalogue.

use std::fmt;

use berth_engine::endpoints::JsonStream;
use berth_engine::{
    Api, ApiVersion, Endpoint, EngineError, FaninDecoder, Fanned, JsonLines, Method, Policy,
};
use gloo_net::http::{RequestBuilder, Response};
use serde::de::DeserializeOwned;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Where the tab keeps a relay's token: for this tab only (reloads keep
/// it), gone when it closes, never in a cookie. One per relay URL; the
/// relay that served the console is `""`.
const TOKEN_KEY: &str = "berth.token";

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

fn token_key(base: &str) -> String {
    if base.is_empty() {
        TOKEN_KEY.to_owned()
    } else {
        format!("{TOKEN_KEY}:{base}")
    }
}

/// The token this tab signed in with at the current relay, if any.
pub fn token() -> Option<String> {
    token_at(&crate::engines::current().url)
}

/// The token this tab keeps for the relay at `base`.
pub fn token_at(base: &str) -> Option<String> {
    session_storage()?.get_item(&token_key(base)).ok()?
}

/// Keeps `token` for the current relay, for this tab (`None` signs out).
pub fn set_token(token: Option<&str>) {
    set_token_at(&crate::engines::current().url, token);
}

pub fn set_token_at(base: &str, token: Option<&str>) {
    if let Some(storage) = session_storage() {
        let _ = match token {
            Some(t) => storage.set_item(&token_key(base), t),
            None => storage.remove_item(&token_key(base)),
        };
    }
}

/// The URL of a path at the current relay (the console's own relay, or
/// another Berth relay chosen in the engines list).
pub fn url(path: &str) -> String {
    match crate::engines::current().url {
        u if u.is_empty() => format!("{}{path}", crate::app::prefix()),
        u => format!("{u}{path}"),
    }
}

/// Why a call failed, in words a person can act on.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// Neither the relay nor the engine behind it answered.
    Unreachable(String),
    /// The relay wants a token, or a different one.
    Unauthorized(String),
    /// The engine (or the relay on its behalf) refused the call.
    Engine(EngineError),
    /// The answer was not what the API describes.
    Unexpected(String),
}

impl ApiError {
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ApiError::Unreachable(_))
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unreachable(why) => write!(f, "The Docker engine is unreachable: {why}"),
            ApiError::Unauthorized(why) => write!(f, "{why}"),
            ApiError::Engine(e) => write!(f, "{}", e.message),
            ApiError::Unexpected(why) => write!(f, "Unexpected answer from the engine: {why}"),
        }
    }
}

impl std::error::Error for ApiError {}

/// What a request carries.
pub enum Body<'a> {
    None,
    Json(&'a str),
}

async fn send(
    method: Method,
    path: &str,
    body: Option<&str>,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<Response, ApiError> {
    send_body(method, path, body.map_or(Body::None, Body::Json), signal).await
}

thread_local! {
    /// Aborted when the page is left: see [`end_requests_when_hidden`].
    static PAGE: Option<web_sys::AbortController> = web_sys::AbortController::new().ok();
}

/// Ends every request, streams included, when the page is left. Chromium
/// keeps a left page frozen in its back/forward cache, streams open: six
/// such pages would hold all six connections a browser allows per host,
/// and the next page would wait for one. A page brought back from that
/// cache is loaded afresh.
pub fn end_requests_when_hidden() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let hide = Closure::<dyn Fn()>::new(|| {
        PAGE.with(|p| {
            if let Some(p) = p {
                p.abort();
            }
        })
    });
    let show =
        Closure::<dyn Fn(web_sys::PageTransitionEvent)>::new(|ev: web_sys::PageTransitionEvent| {
            if ev.persisted() {
                if let Some(w) = web_sys::window() {
                    let _ = w.location().reload();
                }
            }
        });
    let _ = window.add_event_listener_with_callback("pagehide", hide.as_ref().unchecked_ref());
    let _ = window.add_event_listener_with_callback("pageshow", show.as_ref().unchecked_ref());
    hide.forget();
    show.forget();
}

/// `signal`, also aborted when the page is left.
fn with_page(signal: Option<&web_sys::AbortSignal>) -> Option<web_sys::AbortSignal> {
    let page = PAGE.with(|p| p.as_ref().map(web_sys::AbortController::signal));
    match (signal, page) {
        (Some(s), Some(p)) => Some(web_sys::AbortSignal::any(&js_sys::Array::of2(s, &p))),
        (s, p) => s.cloned().or(p),
    }
}

pub async fn send_body(
    method: Method,
    path: &str,
    body: Body<'_>,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<Response, ApiError> {
    let base = crate::engines::current().url;
    send_to(&base, method, path, body, signal).await
}

/// A call to the relay at `base` (`""`: the console's own), with the token
/// kept for it.
pub async fn send_to(
    base: &str,
    method: Method,
    path: &str,
    body: Body<'_>,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<Response, ApiError> {
    let signal = with_page(signal);
    let signal = signal.as_ref();
    let origin = if base.is_empty() {
        crate::app::prefix()
    } else {
        base.to_owned()
    };
    let builder = RequestBuilder::new(&format!("{origin}{path}"))
        .method(match method {
            Method::Get => gloo_net::http::Method::GET,
            Method::Head => gloo_net::http::Method::HEAD,
            Method::Post => gloo_net::http::Method::POST,
            Method::Put => gloo_net::http::Method::PUT,
            Method::Delete => gloo_net::http::Method::DELETE,
        })
        .abort_signal(signal);
    let builder = match token_at(base) {
        Some(t) => builder.header("Authorization", &format!("Bearer {t}")),
        None => builder,
    };
    let sent = match body {
        Body::Json(json) => {
            builder
                .header("Content-Type", "application/json")
                .body(json.to_owned())
                .map_err(|e| ApiError::Unexpected(e.to_string()))?
                .send()
                .await
        }
        Body::None => builder.send().await,
    };
    let which = if base.is_empty() {
        "the relay".to_owned()
    } else {
        format!("the relay at {base}")
    };
    let resp = sent.map_err(|e| ApiError::Unreachable(format!("{which} did not answer ({e})")))?;
    if resp.ok() {
        return Ok(resp);
    }
    let status = resp.status();
    let body = resp.binary().await.unwrap_or_default();
    let err = EngineError::from_response(status, &body);
    match status {
        // The relay answers 502 when it cannot reach the engine, 401 and
        // 429 about the token.
        502 => Err(ApiError::Unreachable(err.message)),
        401 | 429 => Err(ApiError::Unauthorized(err.message)),
        _ => Err(ApiError::Engine(err)),
    }
}

/// What the relay says about itself (`/_berth/config`).
#[derive(Debug, Clone, serde::Deserialize)]
struct RelayConfig {
    policy: RelayPolicy,
}

#[derive(Debug, Clone, serde::Deserialize)]
struct RelayPolicy {
    name: String,
    rules: String,
}

/// The relay's policy, to offer only what it lets through. If it cannot be
/// read, nothing is hidden: the relay still refuses, in words.
pub async fn policy() -> Policy {
    let read = async {
        let resp = send(Method::Get, "/_berth/config", None, None).await.ok()?;
        let config: RelayConfig = resp.json().await.ok()?;
        Policy::parse(&config.policy.name, &config.policy.rules).ok()
    };
    read.await.unwrap_or_else(Policy::full)
}

/// Learns the engine's API version from `/_ping`.
pub async fn negotiate() -> Result<Api, ApiError> {
    let ping = Api::ping();
    let resp = send(ping.method, &ping.path, None, None).await?;
    let version = resp
        .headers()
        .get("API-Version")
        .ok_or_else(|| ApiError::Unexpected("/_ping gave no API-Version header".into()))?;
    let version =
        ApiVersion::negotiate(&version).map_err(|e| ApiError::Unexpected(e.to_string()))?;
    Ok(Api::new(version))
}

/// Makes a call and decodes its JSON answer.
pub async fn call<T: DeserializeOwned>(endpoint: Endpoint<T>) -> Result<T, ApiError> {
    let resp = send(
        endpoint.method,
        &endpoint.path,
        endpoint.body.as_deref(),
        None,
    )
    .await?;
    let body = resp
        .binary()
        .await
        .map_err(|e| ApiError::Unreachable(e.to_string()))?;
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::Unexpected(format!("{}: {e}", endpoint.path)))
}

/// Makes a call and returns its raw answer (headers, streamed body).
pub async fn raw<T>(endpoint: &Endpoint<T>, body: Body<'_>) -> Result<Response, ApiError> {
    let body = match (body, endpoint.body.as_deref()) {
        (Body::None, Some(json)) => Body::Json(json),
        (b, _) => b,
    };
    send_body(endpoint.method, &endpoint.path, body, None).await
}

/// Makes a call whose answer has no body worth reading.
pub async fn act(endpoint: Endpoint<()>) -> Result<(), ApiError> {
    send(
        endpoint.method,
        &endpoint.path,
        endpoint.body.as_deref(),
        None,
    )
    .await
    .map(drop)
}

/// Reads a JSON-lines stream as it arrives: `opened` once the engine has
/// answered, then `each` value, until the stream ends, fails, or `signal`
/// aborts it.
pub async fn stream<T: DeserializeOwned>(
    endpoint: Endpoint<JsonStream<T>>,
    signal: &web_sys::AbortSignal,
    opened: impl FnOnce(),
    mut each: impl FnMut(T),
) -> Result<(), ApiError> {
    let resp = send(
        endpoint.method,
        &endpoint.path,
        endpoint.body.as_deref(),
        Some(signal),
    )
    .await?;
    opened();
    let mut lines = JsonLines::<T>::new();
    read_body(resp, |chunk| {
        lines.push(chunk);
        while let Some(item) = lines.next_value() {
            match item {
                Ok(v) => each(v),
                Err(e) => leptos::logging::warn!("skipping a stream line: {e}"),
            }
        }
    })
    .await
}

/// Several engine streams over one connection (the relay's fan-in): a
/// browser has six connections per host, so pages with many streams share
/// one. `each` gets every frame, tagged with its path's index.
pub async fn fanin(
    paths: &[String],
    signal: &web_sys::AbortSignal,
    opened: impl FnOnce(),
    mut each: impl FnMut(Fanned),
) -> Result<(), ApiError> {
    let query: Vec<String> = paths
        .iter()
        .map(|p| format!("s={}", String::from(js_sys::encode_uri_component(p))))
        .collect();
    let url = format!("/_berth/fanin?{}", query.join("&"));
    let resp = send(Method::Get, &url, None, Some(signal)).await?;
    opened();
    let mut frames = FaninDecoder::new();
    read_body(resp, |chunk| {
        frames.push(chunk);
        while let Some(f) = frames.next_frame() {
            each(f);
        }
    })
    .await
}

/// A single-use ticket for a WebSocket or a download link, which cannot
/// carry the token.
pub async fn ticket() -> Result<String, ApiError> {
    #[derive(serde::Deserialize)]
    struct Ticket {
        ticket: String,
    }
    let resp = send(Method::Post, "/_berth/tickets", None, None).await?;
    let t: Ticket = resp
        .json()
        .await
        .map_err(|e| ApiError::Unexpected(e.to_string()))?;
    Ok(t.ticket)
}

/// Saves what an engine GET answers as a file, streamed by the browser's
/// own download (with its progress), never held in the page.
pub async fn download<T>(endpoint: Endpoint<T>, name: &str) -> Result<(), ApiError> {
    let ticket = ticket().await?;
    let url = format!(
        "/_berth/download?ticket={ticket}&path={}&name={}",
        String::from(js_sys::encode_uri_component(&endpoint.path)),
        String::from(js_sys::encode_uri_component(name)),
    );
    save_url(&self::url(&url), name);
    Ok(())
}

/// Clicks a temporary link that saves `url` as `name`.
pub fn save_url(url: &str, name: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let Ok(a) = doc.create_element("a") {
        let _ = a.set_attribute("href", url);
        let _ = a.set_attribute("download", name);
        if let (Some(body), Ok(a)) = (doc.body(), a.dyn_into::<web_sys::HtmlElement>()) {
            let _ = body.append_child(&a);
            a.click();
            a.remove();
        }
    }
}

/// Feeds a response body to `each` chunk by chunk as it arrives.
pub async fn read_body(resp: Response, mut each: impl FnMut(&[u8])) -> Result<(), ApiError> {
    let body = resp
        .body()
        .ok_or_else(|| ApiError::Unexpected("a stream without a body".into()))?;
    let reader: web_sys::ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| ApiError::Unexpected("the stream cannot be read".into()))?;
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|_| ApiError::Unreachable("the stream was cut".into()))?;
        let done = js_sys::Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            return Ok(());
        }
        let value = js_sys::Reflect::get(&chunk, &"value".into()).unwrap_or_default();
        each(&js_sys::Uint8Array::new(&value).to_vec());
    }
}

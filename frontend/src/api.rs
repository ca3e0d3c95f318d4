//! Where the console's calls go, and how: the relay it drives (the one that
//! served it, or another chosen on the engines page) and the tokens kept
//! for each, the path prefix the console is served under, the negotiated
//! [`Engine`] handle every page calls through, and the calls themselves,
//! typed by the shared endpoint catalogue and the relay's own protocol
//! (`berth_engine::relay`).

use std::fmt;

use berth_engine::endpoints::JsonStream;
use berth_engine::relay::{self, Config, Open, Session, Ticket};
use berth_engine::{
    Api, ApiVersion, Endpoint, EngineError, FaninDecoder, Fanned, JsonLines, Method, Policy,
};
use gloo_net::http::{RequestBuilder, Response};
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::state::relays::{self, Relay};

// ---- Where the console is served, and its links --------------------------

/// Where the relay serves the console, below the relay's own path.
const CONSOLE: &str = "/console";

/// The path the relay is reached under: empty, or a reverse proxy's
/// sub-path such as `/berth` (the console is then at `/berth/console/` and
/// the Engine API at `/berth/v1.41/…`). Read from the page's own address,
/// once, when the page loads (moving between the console's pages keeps it).
pub fn prefix() -> String {
    thread_local! {
        static PREFIX: String = {
            let path = web_sys::window()
                .and_then(|w| w.location().pathname().ok())
                .unwrap_or_default();
            path.match_indices(CONSOLE)
                .map(|(i, _)| i)
                .find(|&i| matches!(path[i + CONSOLE.len()..].chars().next(), None | Some('/')))
                .map(|i| path[..i].to_owned())
                .unwrap_or_default()
        };
    }
    PREFIX.with(String::clone)
}

/// The router's base: the console's path. Links carry it themselves (the
/// router leaves absolute hrefs as they are).
pub fn base() -> String {
    format!("{}{CONSOLE}", prefix())
}

/// A link to a console page: `href("/containers")`. (The router's
/// `navigate` takes the page without the base: it adds it.)
pub fn href(page: &str) -> String {
    format!("{}{page}", base())
}

// ---- The relays, the one in use, and their tokens -------------------------

/// Where the browser keeps the relays added (names and URLs): they survive
/// reloads and restarts. Another relay must admit this console's origin
/// (`--allow-origin`).
const RELAYS_KEY: &str = "berth.engines";
/// The URL of the relay in use.
const CURRENT_KEY: &str = "berth.engine";
/// Where the tab keeps a relay's token: for this tab only (reloads keep
/// it), gone when it closes, never in a cookie. One per relay URL; the
/// relay that served the console is `""`.
const TOKEN_KEY: &str = "berth.token";

fn local() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn session() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// Every relay: this one first, then those added, in order.
pub fn relays() -> Vec<Relay> {
    let stored = local().and_then(|s| s.get_item(RELAYS_KEY).ok().flatten());
    relays::list(stored.as_deref())
}

pub fn save_relays(all: &[Relay]) {
    if let Some(s) = local() {
        let _ = s.set_item(RELAYS_KEY, &relays::stored(all));
    }
}

/// The relay the console drives now. Read once per page load: every
/// request asks, and a switch loads the console again.
pub fn current() -> Relay {
    thread_local! {
        static CURRENT: Relay = {
            let url = local()
                .and_then(|s| s.get_item(CURRENT_KEY).ok().flatten())
                .unwrap_or_default();
            relays::current(relays(), &url)
        };
    }
    CURRENT.with(Relay::clone)
}

/// Drives the relay at `url` from now on: the console starts again on it,
/// at `page`.
pub fn switch_to(url: &str, page: &str) {
    if let Some(s) = local() {
        let _ = s.set_item(CURRENT_KEY, url);
    }
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_href(&href(page));
    }
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
    token_at(&current().url)
}

/// The token this tab keeps for the relay at `base`.
pub fn token_at(base: &str) -> Option<String> {
    session()?.get_item(&token_key(base)).ok()?
}

/// Keeps `token` for the current relay, for this tab (`None` signs out).
pub fn set_token(token: Option<&str>) {
    set_token_at(&current().url, token);
}

pub fn set_token_at(base: &str, token: Option<&str>) {
    if let Some(storage) = session() {
        let _ = match token.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => storage.set_item(&token_key(base), t),
            None => storage.remove_item(&token_key(base)),
        };
    }
}

/// The origin of the relay at `base` (`""`: the console's own).
fn origin(base: &str) -> String {
    if base.is_empty() {
        prefix()
    } else {
        base.to_owned()
    }
}

/// The URL of a path at the current relay.
pub fn url(path: &str) -> String {
    format!("{}{path}", origin(&current().url))
}

/// The WebSocket URL of a relay path, at the current relay.
pub fn ws_url(path: &str) -> String {
    let base = current().url;
    if let Some(rest) = base.strip_prefix("https://") {
        return format!("wss://{rest}{path}");
    }
    if let Some(rest) = base.strip_prefix("http://") {
        return format!("ws://{rest}{path}");
    }
    let loc = web_sys::window().map(|w| w.location());
    let scheme = match loc.as_ref().and_then(|l| l.protocol().ok()).as_deref() {
        Some("https:") => "wss",
        _ => "ws",
    };
    let host = loc.and_then(|l| l.host().ok()).unwrap_or_default();
    format!("{scheme}://{host}{}{path}", prefix())
}

// ---- The engine handle ----------------------------------------------------

/// The negotiated connection every page calls through (a context).
#[derive(Clone, Copy)]
pub struct Engine {
    pub api: LocalResource<Result<Api, ApiError>>,
    /// What the relay lets through, to disable the rest.
    pub policy: LocalResource<Policy>,
}

impl Engine {
    pub fn new() -> Engine {
        Engine {
            api: LocalResource::new(negotiate),
            policy: LocalResource::new(policy),
        }
    }

    /// The API once negotiated (waits for it).
    pub async fn api(self) -> Result<Api, ApiError> {
        self.api.await
    }

    /// Why the relay would refuse the call `make` builds, if it would,
    /// read as the relay reads it. Reactive: it follows the policy as it
    /// loads (until then nothing is refused here; the relay still would).
    pub fn refusal<T>(self, make: impl FnOnce(&Api) -> Endpoint<T>) -> Option<String> {
        let endpoint = make(&Api::new(ApiVersion::MIN));
        self.policy
            .with(|p| p.as_ref().and_then(|p| p.check_endpoint(&endpoint).err()))
    }
}

/// The relay's policy, to offer only what it lets through. If it cannot be
/// read, nothing is disabled: the relay still refuses, in words.
async fn policy() -> Policy {
    let read = async {
        let config: Config = own(Method::Get, relay::CONFIG, None).await.ok()?;
        Policy::parse(&config.policy.name, &config.policy.rules).ok()
    };
    read.await.unwrap_or_else(Policy::full)
}

/// Learns the engine's API version from `/_ping`.
async fn negotiate() -> Result<Api, ApiError> {
    let ping = Api::ping();
    let resp = send(ping.method, &ping.path, None, None).await?;
    negotiated(&resp)
}

/// The API version a `/_ping` answer names.
pub fn negotiated(ping: &Response) -> Result<Api, ApiError> {
    let version = ping.headers().get("API-Version").ok_or_else(|| {
        ApiError::Unexpected(
            "/_ping gave no API-Version header (is the relay's CORS admitting this console?)"
                .into(),
        )
    })?;
    let version =
        ApiVersion::negotiate(&version).map_err(|e| ApiError::Unexpected(e.to_string()))?;
    Ok(Api::new(version))
}

// ---- Errors ---------------------------------------------------------------

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

// ---- Requests -------------------------------------------------------------

/// What a request carries.
pub enum Body<'a> {
    None,
    Json(&'a str),
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

async fn send(
    method: Method,
    path: &str,
    body: Option<&str>,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<Response, ApiError> {
    let body = body.map_or(Body::None, Body::Json);
    send_to(&current().url, method, path, body, signal).await
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
    let builder = RequestBuilder::new(&format!("{}{path}", origin(base)))
        .method(match method {
            Method::Get => gloo_net::http::Method::GET,
            Method::Head => gloo_net::http::Method::HEAD,
            Method::Post => gloo_net::http::Method::POST,
            Method::Put => gloo_net::http::Method::PUT,
            Method::Delete => gloo_net::http::Method::DELETE,
        })
        .abort_signal(signal.as_ref());
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
    Err(refused(status, &body))
}

/// An answer that is not a success, as an error: the relay answers 502
/// when it cannot reach the engine, 401 and 429 about the token.
fn refused(status: u16, body: &[u8]) -> ApiError {
    let err = EngineError::from_response(status, body);
    match status {
        502 => ApiError::Unreachable(err.message),
        401 | 429 => ApiError::Unauthorized(err.message),
        _ => ApiError::Engine(err),
    }
}

/// Makes a call and decodes its JSON answer (an answer of `()` is not
/// read: those calls answer nothing worth reading).
pub async fn call<T: DeserializeOwned + 'static>(endpoint: Endpoint<T>) -> Result<T, ApiError> {
    call_at(&current().url, endpoint).await
}

/// [`call`], to the relay at `base` (`""`: the console's own).
pub async fn call_at<T: DeserializeOwned + 'static>(
    base: &str,
    endpoint: Endpoint<T>,
) -> Result<T, ApiError> {
    let body = endpoint.body.as_deref().map_or(Body::None, Body::Json);
    let resp = send_to(base, endpoint.method, &endpoint.path, body, None).await?;
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<()>() {
        return serde_json::from_value(serde_json::Value::Null)
            .map_err(|e| ApiError::Unexpected(e.to_string()));
    }
    let bytes = resp
        .binary()
        .await
        .map_err(|e| ApiError::Unreachable(e.to_string()))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::Unexpected(format!("{}: {e}", endpoint.path)))
}

/// Makes a call and returns its raw answer (headers, streamed body).
pub async fn raw<T>(endpoint: &Endpoint<T>) -> Result<Response, ApiError> {
    send(
        endpoint.method,
        &endpoint.path,
        endpoint.body.as_deref(),
        None,
    )
    .await
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
    let body = endpoint.body.as_deref();
    let resp = send(endpoint.method, &endpoint.path, body, Some(signal)).await?;
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

/// Reads what a GET answers as it arrives (a record's log), until it
/// ends, fails, or `signal` aborts it.
pub async fn read(
    path: &str,
    signal: &web_sys::AbortSignal,
    each: impl FnMut(&[u8]),
) -> Result<(), ApiError> {
    let resp = send(Method::Get, path, None, Some(signal)).await?;
    read_body(resp, each).await
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
    let query: Vec<String> = paths.iter().map(|p| format!("s={}", encode(p))).collect();
    let path = format!("{}?{}", relay::FANIN, query.join("&"));
    let resp = send(Method::Get, &path, None, Some(signal)).await?;
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

/// `s` as one component of a URL (a path segment, a query value).
pub fn encode(s: &str) -> String {
    js_sys::encode_uri_component(s).into()
}

/// A call to the relay's own endpoints (`berth_engine::relay`), its JSON
/// answer decoded.
async fn own<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<&str>,
) -> Result<T, ApiError> {
    let resp = send(method, path, body, None).await?;
    resp.json()
        .await
        .map_err(|e| ApiError::Unexpected(format!("{path}: {e}")))
}

/// A single-use ticket for a WebSocket or a download link, which cannot
/// carry the token.
pub async fn ticket() -> Result<String, ApiError> {
    own::<Ticket>(Method::Post, relay::TICKETS, None)
        .await
        .map(|t| t.ticket)
}

/// The terminal sessions the relay holds on a container (those this
/// caller may use).
pub async fn sessions(container: &str) -> Result<Vec<Session>, ApiError> {
    let path = format!("{}?container={}", relay::SESSIONS, encode(container));
    own(Method::Get, &path, None).await
}

/// Starts a terminal session: the relay holds it, pages join it.
pub async fn open_session(open: &Open) -> Result<Session, ApiError> {
    let body = serde_json::to_string(open).expect("a session's start serializes");
    own(Method::Post, relay::SESSIONS, Some(&body)).await
}

/// Ends a session: an exec's process is killed, an attach detaches.
pub async fn end_session(id: &str) -> Result<(), ApiError> {
    let path = format!("{}/{}", relay::SESSIONS, encode(id));
    send(Method::Delete, &path, None, None).await.map(drop)
}

/// Saves what an engine GET answers as a file, streamed by the browser's
/// own download (with its progress), never held in the page.
pub async fn download<T>(endpoint: Endpoint<T>, name: &str) -> Result<(), ApiError> {
    let ticket = ticket().await?;
    let path = format!(
        "{}?ticket={ticket}&path={}&name={}",
        relay::DOWNLOAD,
        encode(&endpoint.path),
        encode(name),
    );
    save_url(&url(&path), name);
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

/// Sends `body` (a file, or a blob of several parts) to `endpoint` as a
/// tar, streamed by the browser from disk, telling `progress` the fraction
/// sent; returns the engine's answer as text. (XMLHttpRequest: fetch does
/// not report an upload's progress.)
pub async fn upload<T>(
    endpoint: &Endpoint<T>,
    body: &web_sys::Blob,
    progress: impl Fn(f64) + 'static,
) -> Result<String, ApiError> {
    let unexpected = |what: &str| ApiError::Unexpected(what.to_owned());
    let xhr = web_sys::XmlHttpRequest::new().map_err(|_| unexpected("no XMLHttpRequest"))?;
    xhr.open(endpoint.method.as_str(), &url(&endpoint.path))
        .map_err(|_| unexpected("cannot open the upload"))?;
    let _ = xhr.set_request_header("Content-Type", "application/x-tar");
    if let Some(t) = token() {
        let _ = xhr.set_request_header("Authorization", &format!("Bearer {t}"));
    }
    let on_progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
            if ev.length_computable() && ev.total() > 0.0 {
                progress(ev.loaded() / ev.total());
            }
        });
    if let Ok(up) = xhr.upload() {
        up.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    let done = js_sys::Promise::new(&mut |resolve, _| xhr.set_onloadend(Some(&resolve)));
    xhr.send_with_opt_blob(Some(body))
        .map_err(|_| unexpected("cannot send the upload"))?;
    let _ = JsFuture::from(done).await;
    drop(on_progress);
    let status = xhr.status().unwrap_or(0);
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    match status {
        0 => Err(ApiError::Unreachable("the relay did not answer".into())),
        200..300 => Ok(text),
        _ => Err(refused(status, text.as_bytes())),
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

//! Who gets in: the checks every request passes before it can reach the
//! engine. Host against DNS rebinding, Origin against cross-site requests
//! (CSRF), then the token.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use berth_engine::relay;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tracing::warn;

use crate::error::{refuse, RelayError};

/// Failed token attempts allowed per client address in one window.
const MAX_FAILURES: u32 = 10;
const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Past the limit, each wrong guess from an address waits this long, one
/// at a time.
const PENALTY: Duration = Duration::from_secs(1);

/// How long a WebSocket ticket stays good; it is also good for one use only.
pub const TICKET_LIFETIME: Duration = Duration::from_secs(30);

pub struct Access {
    /// Host names (besides IP literals and localhost) requests may carry.
    hosts: Vec<String>,
    /// Origins, besides the relay's own, whose pages may call it.
    origins: Vec<String>,
    /// SHA-256 of the token, when one is required.
    token: Option<[u8; 32]>,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
    /// Per address past the limit: wrong guesses queue here.
    lanes: Mutex<HashMap<IpAddr, Arc<tokio::sync::Mutex<()>>>>,
    /// WebSocket tickets handed out, with when they were.
    tickets: Mutex<HashMap<String, Instant>>,
}

impl Access {
    pub fn new(hosts: Vec<String>, origins: Vec<String>, token: Option<&str>) -> Access {
        Access {
            hosts: hosts.into_iter().map(|h| h.to_ascii_lowercase()).collect(),
            origins: origins
                .into_iter()
                .map(|o| o.trim_end_matches('/').to_owned())
                .collect(),
            token: token.map(|t| Sha256::digest(t.as_bytes()).into()),
            failures: Mutex::new(HashMap::new()),
            lanes: Mutex::new(HashMap::new()),
            tickets: Mutex::new(HashMap::new()),
        }
    }

    pub fn requires_token(&self) -> bool {
        self.token.is_some()
    }

    /// A Host header names this relay when it is an IP literal (a rebound
    /// DNS name never is), localhost, or a configured name.
    fn host_allowed(&self, host: &str) -> bool {
        let name = host_name(host).to_ascii_lowercase();
        name.parse::<IpAddr>().is_ok()
            || name == "localhost"
            || name.ends_with(".localhost")
            || self.hosts.contains(&name)
    }

    /// An Origin may call when it is configured, or is the page's own
    /// origin: the same host and port as the (already checked) Host.
    pub fn origin_allowed(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.trim_end_matches('/');
        if self.origins.iter().any(|o| o == origin) {
            return true;
        }
        let Some(host) = host else { return false };
        ["http://", "https://"]
            .iter()
            .filter_map(|scheme| origin.strip_prefix(scheme))
            .any(|authority| authority.eq_ignore_ascii_case(host))
    }

    fn token_ok(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.token else {
            return true;
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default()
            .trim();
        // Comparing digests keeps the time independent of where (and at
        // what length) a guess differs.
        let given: [u8; 32] = Sha256::digest(given.as_bytes()).into();
        bool::from(given.ct_eq(expected))
    }

    /// A new ticket for one WebSocket, to a caller that passed the HTTP
    /// checks (browsers cannot put a token on a WebSocket).
    pub fn issue_ticket(&self) -> String {
        let mut bytes = [0u8; 24];
        getrandom::fill(&mut bytes).expect("the system's random source");
        let ticket: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut tickets = self.tickets.lock().expect("tickets lock");
        tickets.retain(|_, at| at.elapsed() < TICKET_LIFETIME);
        tickets.insert(ticket.clone(), Instant::now());
        ticket
    }

    /// Whether `ticket` was handed out, is fresh, and was not used before;
    /// it is used up either way.
    pub fn redeem_ticket(&self, ticket: &str) -> bool {
        let mut tickets = self.tickets.lock().expect("tickets lock");
        tickets
            .remove(ticket)
            .is_some_and(|at| at.elapsed() < TICKET_LIFETIME)
    }

    fn locked_out(&self, ip: IpAddr) -> bool {
        let mut failures = self.failures.lock().expect("failures lock");
        match failures.get(&ip) {
            Some((_, since)) if since.elapsed() >= FAILURE_WINDOW => {
                failures.remove(&ip);
                false
            }
            Some((count, _)) => *count >= MAX_FAILURES,
            None => false,
        }
    }

    /// Holds a wrong guess from an address past the limit: one at a time,
    /// a second each.
    async fn slow_down(&self, ip: IpAddr) {
        let lane = {
            let mut lanes = self.lanes.lock().expect("lanes lock");
            lanes.retain(|_, lane| Arc::strong_count(lane) > 1);
            lanes.entry(ip).or_default().clone()
        };
        let _turn = lane.lock().await;
        tokio::time::sleep(PENALTY).await;
    }

    fn record_failure(&self, ip: IpAddr) {
        let mut failures = self.failures.lock().expect("failures lock");
        failures.retain(|_, (_, since)| since.elapsed() < FAILURE_WINDOW);
        failures.entry(ip).or_insert((0, Instant::now())).0 += 1;
    }
}

/// The client's address (absent when the router is driven without a
/// listener, as in unit tests).
pub fn client_ip(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The client's address as the audit log writes it (`-` when unknown).
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "-".to_owned(), |c| c.0.ip().to_string()),
        ))
    }
}

/// `example.com:2375` → `example.com`; `[::1]:2375` → `::1`.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

impl Access {
    /// Whether the request names this relay in its Host and, if it comes
    /// from a page, the page's origin may call it; the refusal if not.
    #[allow(clippy::result_large_err)] // a refusal is the answer itself
    pub fn check_host_and_origin(&self, req: &Request) -> Result<(), Response> {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok());
        let Some(host) = host.filter(|h| self.host_allowed(h)) else {
            warn!(host = ?req.headers().get(header::HOST), path = %req.uri().path(), "refused: Host not allowed");
            return Err(refuse(
                StatusCode::MISDIRECTED_REQUEST,
                "this relay does not answer to that Host name (start it with --allow-host NAME to add one)",
            ));
        };
        if let Some(origin) = req.headers().get(header::ORIGIN) {
            let allowed = origin
                .to_str()
                .is_ok_and(|o| self.origin_allowed(o, Some(host)));
            if !allowed {
                warn!(origin = ?origin, path = %req.uri().path(), "refused: Origin not allowed");
                return Err(refuse(
                    StatusCode::FORBIDDEN,
                    format!(
                        "pages from {} may not use this relay (start it with --allow-origin to allow one)",
                        origin.to_str().unwrap_or("that origin")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The token, for everything but the console's files and the relay's
    /// public endpoints (the console must load to ask for the token): `None`
    /// when the request may pass, else who sent it without the right one
    /// (for [`Access::refuse_token`]).
    pub fn check_token(&self, req: &Request) -> Option<(IpAddr, String)> {
        // The right token always passes: behind a proxy every client
        // shares one address, and one client's wrong guesses must not lock
        // the others out.
        if !self.requires_token() || is_public(req.uri().path()) || self.token_ok(req.headers()) {
            return None;
        }
        let ip = client_ip(req).unwrap_or(IpAddr::from([0, 0, 0, 0]));
        Some((ip, req.uri().path().to_owned()))
    }

    /// A missing or wrong token from `ip`: slowed past the limit, refused.
    pub async fn refuse_token(&self, (ip, path): (IpAddr, String)) -> Response {
        if self.locked_out(ip) {
            self.slow_down(ip).await;
            return refuse(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many wrong tokens from {ip}; each wrong one now waits its turn"),
            );
        }
        self.record_failure(ip);
        warn!(client = %ip, %path, "refused: missing or wrong token");
        let mut resp = RelayError::Unauthorized.into_response();
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"berth\""),
        );
        resp
    }
}

/// Host and Origin, for every request (upgrades and the console included).
pub async fn check_host_and_origin(
    State(access): State<Arc<Access>>,
    req: Request,
    next: Next,
) -> Response {
    match access.check_host_and_origin(&req) {
        Ok(()) => next.run(req).await,
        Err(refused) => refused,
    }
}

/// The token, for everything that needs it.
pub async fn check_token(State(access): State<Arc<Access>>, req: Request, next: Next) -> Response {
    match access.check_token(&req) {
        None => next.run(req).await,
        Some(miss) => access.refuse_token(miss).await,
    }
}

/// Paths that need no token: the console must load to ask for one, and
/// WebSockets authenticate with a ticket instead (checked where they open).
fn is_public(path: &str) -> bool {
    relay::ws::is_session(path)
        || path == relay::DOWNLOAD
        || path == "/"
        || path == crate::console::PREFIX
        || path.starts_with(crate::console::PREFIX_SLASH)
        || path == relay::HEALTH
        || path == relay::CONFIG
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let a = Access::new(vec!["Berth.Example".into()], vec![], None);
        for ok in [
            "127.0.0.1:2375",
            "localhost:2375",
            "[::1]:2375",
            "10.1.2.3",
            "berth.example:80",
            "x.localhost",
        ] {
            assert!(a.host_allowed(ok), "{ok}");
        }
        for bad in [
            "evil.example:2375",
            "127.0.0.1.nip.io:2375",
            "",
            "berth.example.evil.example",
        ] {
            assert!(!a.host_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn origins() {
        let a = Access::new(vec![], vec!["http://console.example:8080/".into()], None);
        assert!(a.origin_allowed("http://console.example:8080", None));
        assert!(a.origin_allowed("http://127.0.0.1:2375", Some("127.0.0.1:2375")));
        assert!(a.origin_allowed("https://localhost:2375", Some("localhost:2375")));
        assert!(!a.origin_allowed("http://127.0.0.1:9999", Some("127.0.0.1:2375")));
        assert!(!a.origin_allowed("http://evil.example", Some("127.0.0.1:2375")));
        assert!(!a.origin_allowed("null", Some("127.0.0.1:2375")));
    }

    #[test]
    fn tickets_are_single_use() {
        let a = Access::new(vec![], vec![], None);
        let t = a.issue_ticket();
        assert_eq!(t.len(), 48);
        assert_ne!(t, a.issue_ticket());
        assert!(!a.redeem_ticket("made-up"));
        assert!(a.redeem_ticket(&t));
        assert!(!a.redeem_ticket(&t));
    }

    #[test]
    fn tokens_and_lockout() {
        let a = Access::new(vec![], vec![], Some("s3cret-token-of-some-length"));
        let mut h = HeaderMap::new();
        assert!(!a.token_ok(&h));
        h.insert(header::AUTHORIZATION, "Bearer wrong".parse().unwrap());
        assert!(!a.token_ok(&h));
        h.insert(
            header::AUTHORIZATION,
            "Bearer s3cret-token-of-some-length".parse().unwrap(),
        );
        assert!(a.token_ok(&h));
        let ip: IpAddr = [192, 0, 2, 1].into();
        for _ in 0..MAX_FAILURES {
            assert!(!a.locked_out(ip));
            a.record_failure(ip);
        }
        assert!(a.locked_out(ip));
        assert!(!a.locked_out([192, 0, 2, 2].into()));
    }
}

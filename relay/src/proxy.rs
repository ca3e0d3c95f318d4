//! Forwards any request to the engine as it came: method, path, query,
//! headers and body, streamed both ways; answers likewise. HTTP upgrades
//! (attach, exec start, /session, /grpc) become a raw byte bridge.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use tracing::{debug, warn};

use crate::error::RelayError;
use crate::AppState;

/// Sends an admitted request (its URI the engine's, see
/// [`crate::engine::Engine::uri`]) to the engine, and the answer back.
pub async fn forward(state: &AppState, mut req: Request) -> Response {
    let engine = &state.engine;
    let downstream = is_upgrade(req.headers()).then(|| hyper::upgrade::on(&mut req));

    let (mut parts, body) = req.into_parts();
    // hyper's server already answered any `Expect: 100-continue`; the body
    // is on its way, so the engine must not be asked to wait for it again.
    parts.headers.remove(header::EXPECT);
    if downstream.is_none() {
        strip_hop_by_hop(&mut parts.headers);
    }
    let upstream_req = hyper::Request::from_parts(parts, body);
    if downstream.is_none() {
        return match engine.send(upstream_req).await {
            Ok(resp) => resp,
            Err(err) => {
                warn!("{err}");
                err.into_response()
            }
        };
    }

    // An upgrade: the pooled client, which hands the raw connection over.
    let mut resp = match engine.client.request(upstream_req).await {
        Ok(resp) => resp,
        Err(e) => {
            let err = engine.error(&e);
            warn!("{err}");
            return err.into_response();
        }
    };

    if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
        match downstream {
            Some(downstream) => {
                let upstream = hyper::upgrade::on(&mut resp);
                tokio::spawn(async move {
                    match tokio::try_join!(downstream, upstream) {
                        Ok((client, engine)) => bridge(client, engine).await,
                        Err(e) => debug!("upgrade did not complete: {e}"),
                    }
                });
            }
            None => {
                return RelayError::Upstream {
                    engine: engine.addr.to_string(),
                    reason: "it switched protocols on a request that did not ask to".into(),
                }
                .into_response()
            }
        }
    }
    resp.map(Body::new)
}

/// Copies bytes both ways until both sides are done. When one side stops
/// sending, only the other's write side is shut: a client's stdin EOF
/// reaches the process while its output keeps flowing back.
async fn bridge(client: hyper::upgrade::Upgraded, engine: hyper::upgrade::Upgraded) {
    let mut client = TokioIo::new(client);
    let mut engine = TokioIo::new(engine);
    match tokio::io::copy_bidirectional(&mut client, &mut engine).await {
        Ok((up, down)) => debug!(up, down, "upgraded connection closed"),
        Err(e) => debug!("upgraded connection ended: {e}"),
    }
}

/// Headers about the client's connection to berth, not the request
/// (RFC 9110 7.6.1): berth's connection to the engine is its own.
/// (Upgrades keep theirs: they ask the engine for the connection itself.)
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<header::HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| header::HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        header::CONNECTION,
        header::TE,
        header::TRAILER,
        header::UPGRADE,
        header::PROXY_AUTHORIZATION,
    ] {
        headers.remove(name);
    }
    headers.remove("keep-alive");
    headers.remove("proxy-connection");
}

fn is_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE)
        && headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
}

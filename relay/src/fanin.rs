//! Streams for pages that need many at once, and downloads a browser can
//! save without holding them in memory.
//!
//! `GET /_berth/fanin?s=<engine path>&s=…` opens each engine stream and
//! interleaves them as [`berth_engine::fanin`] frames in one response: a
//! browser has only six connections per host, so merged logs and a stats
//! column for every row could not otherwise stream at once.
//!
//! `GET /_berth/download?ticket=…&path=<engine path>&name=…` forwards one
//! GET as an attachment. A link cannot carry the token, so it takes a
//! single-use ticket, as the WebSockets do.

use std::convert::Infallible;
use std::task::Poll;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use berth_engine::fanin::{frame, DATA, END, ERROR, MAX_SOURCES};
use berth_engine::relay::{DOWNLOAD_ROUTES, FANIN_ROUTES};
use http_body_util::BodyExt;
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::access::ClientAddr;
use crate::admit::{audit, Admitted};
use crate::coalesce::{Joined, MAX};
use crate::engine::Engine;
use crate::error::refuse;
use crate::AppState;

pub async fn fanin(State(state): State<AppState>, uri: Uri) -> Response {
    let sources: Vec<String> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .filter(|(k, _)| k == "s")
        .map(|(_, v)| v.into_owned())
        .collect();
    if sources.is_empty() || sources.len() > MAX_SOURCES {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!("a fan-in takes 1 to {MAX_SOURCES} streams as s=<engine path>"),
        );
    }
    let mut admitted = Vec::with_capacity(sources.len());
    for s in &sources {
        match state.gate.admit_get(
            s,
            FANIN_ROUTES,
            "the fan-in carries log, stats and event streams",
        ) {
            Ok(a) => admitted.push(a),
            Err(refused) => return refused.into_response(),
        }
    }
    let (tx, mut rx) = mpsc::channel::<Bytes>(32);
    for (i, a) in admitted.into_iter().enumerate() {
        tokio::spawn(source(state.clone(), i as u8, a, tx.clone()));
    }
    drop(tx);
    // Whatever frames are ready go as one piece (see `coalesce`).
    let body = futures_util::stream::poll_fn(move |cx| {
        let mut joined = Joined::default();
        loop {
            match rx.poll_recv(cx) {
                Poll::Ready(Some(b)) => {
                    joined.push(b);
                    if joined.len() >= MAX {
                        return Poll::Ready(Some(Ok::<_, Infallible>(joined.take())));
                    }
                }
                Poll::Ready(None) if joined.is_empty() => return Poll::Ready(None),
                Poll::Pending if joined.is_empty() => return Poll::Pending,
                Poll::Ready(None) | Poll::Pending => return Poll::Ready(Some(Ok(joined.take()))),
            }
        }
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/vnd.berth.fanin")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from_stream(body))
        .expect("a valid response")
}

/// Copies one engine stream into the fan-in until it ends or the client
/// leaves (then the engine connection is dropped at once, even when the
/// stream is quiet).
/// Copies one source into the fan-in until it ends or the client leaves
/// (then its engine stream is dropped at once, even when it is quiet): a
/// shared stream when the hub shares it, else one of its own.
async fn source(state: AppState, i: u8, admitted: Admitted, tx: mpsc::Sender<Bytes>) {
    let run = async {
        let Some(plan) = state
            .hub
            .plan(&admitted.routed, admitted.query.as_deref())
            .await
        else {
            return own(&state.engine, i, &admitted.uri, &tx).await;
        };
        let (out, mut from_hub) = mpsc::channel(64);
        let relay = state.hub.relay(plan, out);
        let forward = async {
            while let Some(item) = from_hub.recv().await {
                let sent = match item {
                    Ok(bytes) if bytes.is_empty() => continue,
                    Ok(bytes) => tx.send(frame(DATA, i, &bytes).into()).await,
                    Err(why) => {
                        let _ = tx.send(frame(ERROR, i, why.as_bytes()).into()).await;
                        return;
                    }
                };
                if sent.is_err() {
                    return;
                }
            }
            let _ = tx.send(frame(END, i, b"").into()).await;
        };
        tokio::join!(relay, forward);
    };
    tokio::select! {
        () = run => {}
        () = tx.closed() => {}
    }
}

/// A source's own engine stream.
async fn own(engine: &Engine, i: u8, path: &str, tx: &mpsc::Sender<Bytes>) {
    let mut body = match crate::hub::open(engine, path).await {
        Ok(body) => body,
        Err(why) => {
            let _ = tx.send(frame(ERROR, i, why.as_bytes()).into()).await;
            return;
        }
    };
    while let Some(next) = body.frame().await {
        match next {
            Ok(f) => {
                if let Ok(data) = f.into_data() {
                    if tx.send(frame(DATA, i, &data).into()).await.is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                let msg = format!("the engine cut the stream: {e}");
                let _ = tx.send(frame(ERROR, i, msg.as_bytes()).into()).await;
                return;
            }
        }
    }
    let _ = tx.send(frame(END, i, b"").into()).await;
}

#[derive(Deserialize)]
pub struct Download {
    ticket: String,
    path: String,
    name: Option<String>,
}

pub async fn download(
    State(state): State<AppState>,
    client: ClientAddr,
    Query(q): Query<Download>,
) -> Response {
    if !state.access.redeem_ticket(&q.ticket) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "a download needs a fresh ticket from POST /_berth/tickets (single use, 30 s)",
        );
    }
    let admitted = match state.gate.admit_get(
        &q.path,
        DOWNLOAD_ROUTES,
        "a download saves an export, an archive or an image",
    ) {
        Ok(a) => a,
        Err(refused) => return refused.into_response(),
    };
    let path = admitted.uri;
    let engine = &state.engine;
    let req = hyper::Request::get(engine.uri(&path).expect("a checked path"))
        .body(Body::empty())
        .expect("a valid request");
    let resp = match engine.send(req).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let (parts, body) = resp.into_parts();
    audit(&client.0, &admitted.routed, parts.status);
    if !parts.status.is_success() {
        let bytes = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        return refuse(
            parts.status,
            berth_engine::error_message(parts.status.as_u16(), &bytes),
        );
    }
    // Only safe characters reach the header; the browser picks the rest.
    let name: String = q
        .name
        .unwrap_or_else(|| "download.tar".into())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut out = Response::new(Body::new(body));
    for h in [header::CONTENT_TYPE, header::CONTENT_LENGTH] {
        if let Some(v) = parts.headers.get(&h) {
            out.headers_mut().insert(h, v.clone());
        }
    }
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        out.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    out.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    out
}

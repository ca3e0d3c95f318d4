//! The console's terminals: a WebSocket bridged to an exec's or a
//! container's hijacked connection (browsers cannot send `Upgrade: tcp`).
//!
//! `/_berth/exec/{exec-id}/ws` starts an exec; `/_berth/attach/{id}/ws`
//! attaches to a container's main process. Closing the WebSocket without
//! `eof` detaches: the container keeps running.
//!
//! Binary messages carry the bytes both ways, unchanged (multiplexed frames
//! when the exec has no TTY). Text messages are control: from the browser
//! `{"type":"resize","rows":R,"cols":C}` and `{"type":"eof"}` (stdin ends;
//! output keeps coming: closing a WebSocket can't say that), and to it, at
//! the end, `{"type":"exit","code":N}`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_engine::relay::Control;
use futures_util::{SinkExt, StreamExt};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing::debug;

use crate::error::refuse;

use crate::access::ClientAddr;
use crate::admit::{audit, Gate};
use crate::engine::Engine;
use crate::AppState;

/// What a terminal is connected to.
#[derive(Clone)]
enum Target {
    Exec(String),
    Attach(String),
}

impl Target {
    /// The hijacking call, as the policy sees it.
    fn start_path(&self) -> String {
        match self {
            Target::Exec(id) => format!("/exec/{id}/start"),
            Target::Attach(id) => format!("/containers/{id}/attach"),
        }
    }

    fn resize_path(&self) -> String {
        match self {
            Target::Exec(id) => format!("/exec/{id}/resize"),
            Target::Attach(id) => format!("/containers/{id}/resize"),
        }
    }

    fn inspect_path(&self) -> String {
        match self {
            Target::Exec(id) => format!("/exec/{id}/json"),
            Target::Attach(id) => format!("/containers/{id}/json"),
        }
    }

    fn id(&self) -> &str {
        match self {
            Target::Exec(id) | Target::Attach(id) => id,
        }
    }
}

#[derive(Deserialize)]
pub struct Ticket {
    ticket: Option<String>,
}

/// GET /_berth/exec/{id}/ws?ticket=…
pub async fn exec(
    State(state): State<AppState>,
    client: ClientAddr,
    Path(id): Path<String>,
    Query(q): Query<Ticket>,
    ws: WebSocketUpgrade,
) -> Response {
    open(state, client, Target::Exec(id), q, ws).await
}

/// GET /_berth/attach/{container-id}/ws?ticket=…
pub async fn attach(
    State(state): State<AppState>,
    client: ClientAddr,
    Path(id): Path<String>,
    Query(q): Query<Ticket>,
    ws: WebSocketUpgrade,
) -> Response {
    open(state, client, Target::Attach(id), q, ws).await
}

async fn open(
    state: AppState,
    client: ClientAddr,
    target: Target,
    q: Ticket,
    ws: WebSocketUpgrade,
) -> Response {
    let id = target.id().to_owned();
    if !q.ticket.is_some_and(|t| state.access.redeem_ticket(&t)) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "a WebSocket needs a fresh ticket from POST /_berth/tickets (single use, 30 s)",
        );
    }
    // Ids are hex (exec) or hex and names (containers: [a-zA-Z0-9_.-]);
    // anything else could carry path segments into the engine calls made
    // from it.
    let id_ok = !id.is_empty()
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !id_ok
        || (matches!(target, Target::Exec(_)) && !id.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return refuse(StatusCode::BAD_REQUEST, format!("{id:?} is not an id"));
    }
    // These calls reach the engine outside the proxy: the gate reads them
    // as it reads the proxy's.
    let query = match target {
        Target::Exec(_) => None,
        Target::Attach(_) => Some("stream=1&stdin=1&stdout=1&stderr=1"),
    };
    let admitted = match state.gate.admit("POST", &target.start_path(), query, &[]) {
        Ok(a) => a,
        Err(refused) => return refused.into_response(),
    };
    let engine = state.engine.clone();
    let body = match &target {
        Target::Exec(_) => {
            let tty = match call(&engine, Method::GET, &target.inspect_path(), None).await {
                Ok(v) => v["ProcessConfig"]["tty"].as_bool().unwrap_or(false),
                Err(resp) => return resp,
            };
            Body::from(json!({ "Detach": false, "Tty": tty }).to_string())
        }
        Target::Attach(_) => Body::empty(),
    };
    let uri = admitted.uri;
    let req = hyper::Request::post(engine.uri(&uri).expect("a checked path"))
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "tcp")
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .expect("a valid request");
    let mut resp = match engine.client.request(req).await {
        Ok(r) => r,
        Err(e) => return engine.error(&e).into_response(),
    };
    if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
        let (status, body) = read(resp).await;
        return refuse(status, berth_engine::error_message(status.as_u16(), &body));
    }
    let upgraded = hyper::upgrade::on(&mut resp);
    audit(&client.0, &admitted.routed, StatusCode::SWITCHING_PROTOCOLS);
    let gate = state.gate.clone();
    ws.on_upgrade(move |socket| async move {
        match upgraded.await {
            Ok(io) => pump(socket, TokioIo::new(io), engine, gate, target).await,
            Err(e) => debug!("upgrade failed: {e}"),
        }
    })
}

/// A small engine call with a JSON answer, errors already in words.
pub(crate) async fn call(
    engine: &Engine,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value, Response> {
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(engine.uri(path).expect("a valid path"));
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .expect("a valid request");
    let resp = engine
        .client
        .request(req)
        .await
        .map_err(|e| engine.error(&e).into_response())?;
    let (status, bytes) = read(resp).await;
    if !status.is_success() {
        return Err(refuse(
            status,
            berth_engine::error_message(status.as_u16(), &bytes),
        ));
    }
    Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// A small answer's status and body (empty if it broke off).
async fn read(resp: hyper::Response<hyper::body::Incoming>) -> (StatusCode, axum::body::Bytes) {
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    (status, body)
}

async fn pump(
    socket: WebSocket,
    io: TokioIo<hyper::upgrade::Upgraded>,
    engine: Arc<Engine>,
    gate: Arc<Gate>,
    target: Target,
) {
    let (mut to_browser, mut from_browser) = socket.split();
    let (mut from_engine, mut to_engine) = tokio::io::split(io);

    let output = async {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match from_engine.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to_browser
                        .send(Message::Binary(buf[..n].to_vec().into()))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
        // The process ended: say how, then close.
        let code = exit_code(&engine, &target).await;
        let _ = to_browser
            .send(Message::Text(Control::Exit { code }.to_text().into()))
            .await;
        let _ = to_browser.send(Message::Close(None)).await;
    };
    let input = async {
        while let Some(Ok(msg)) = from_browser.next().await {
            match msg {
                Message::Binary(bytes) if to_engine.write_all(&bytes).await.is_err() => break,
                Message::Binary(_) => {}
                Message::Text(text) => match serde_json::from_str::<Control>(&text) {
                    Ok(Control::Resize { rows, cols }) => {
                        let size = format!("h={rows}&w={cols}");
                        if let Ok(a) = gate.admit("POST", &target.resize_path(), Some(&size), &[]) {
                            let _ = call(&engine, Method::POST, &a.uri, None).await;
                        }
                    }
                    // Half-close: stdin ends, output goes on.
                    Ok(Control::Eof) => {
                        let _ = to_engine.shutdown().await;
                    }
                    Ok(Control::Exit { .. }) => {}
                    Err(e) => debug!("ignoring a control message: {e}"),
                },
                Message::Close(_) => break,
                _ => {}
            }
        }
        // The browser is gone: dropping the connection detaches (attach)
        // or hangs up the terminal (exec).
    };
    tokio::select! {
        () = output => {}
        () = input => {}
    }
}

/// The process's exit code, once the engine has it (shortly after output
/// ends); none when it is still running (an attach the engine ended).
async fn exit_code(engine: &Engine, target: &Target) -> Option<i64> {
    for _ in 0..20 {
        if let Ok(v) = call(engine, Method::GET, &target.inspect_path(), None).await {
            match target {
                Target::Exec(_) if v["Running"] == Value::Bool(false) => {
                    return v["ExitCode"].as_i64()
                }
                Target::Attach(_) if v["State"]["Running"] == Value::Bool(false) => {
                    return v["State"]["ExitCode"].as_i64()
                }
                _ => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

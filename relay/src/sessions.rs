//! Terminal sessions that belong to the relay, not to the page that opened
//! them.
//!
//! A session is an exec (or an attach to a container's main process)
//! whose hijacked connection the relay holds. Pages join it by WebSocket
//! (browsers cannot send `Upgrade: tcp`): on joining they get the last
//! [`REPLAY`] bytes of output, so the screen is as it was, then the live
//! output; a writer's bytes go to the process's stdin. Leaving, reloading
//! or losing the network leaves the session as it is, to be joined again.
//! It ends when its process exits, when it is ended (the process is
//! killed), or after `--terminal-idle` without input or output.
//!
//! Binary messages carry the bytes both ways, unchanged (whole multiplexed
//! frames when there is no TTY). Text messages are [`Control`]s.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_engine::mux::{encode, MuxDecoder};
use berth_engine::relay::{self, Control, Mode, Open};
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc};
use tracing::debug;

use crate::access::ClientAddr;
use crate::admit::{audit, Gate};
use crate::engine::Engine;
use crate::error::{refuse, Refused};
use crate::AppState;

/// Output kept for a page that joins: enough to redraw a screen and some.
pub const REPLAY: usize = 1024 * 1024;

/// The most sessions a relay holds (each keeps up to [`REPLAY`] bytes).
pub const MAX_SESSIONS: usize = 64;

/// Output a page may fall behind before it is dropped (it joins again).
const BACKLOG: usize = 4096;

/// What a session's process is.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    Exec(String),
    Attach(String),
}

impl Target {
    /// The hijacking call, as the gate reads it.
    fn start(&self) -> (String, Option<&'static str>) {
        match self {
            Target::Exec(id) => (format!("/exec/{id}/start"), None),
            Target::Attach(id) => (
                format!("/containers/{id}/attach"),
                Some("stream=1&stdin=1&stdout=1&stderr=1"),
            ),
        }
    }

    fn resize(&self) -> String {
        match self {
            Target::Exec(id) => format!("/exec/{id}/resize"),
            Target::Attach(id) => format!("/containers/{id}/resize"),
        }
    }

    fn inspect(&self) -> String {
        match self {
            Target::Exec(id) => format!("/exec/{id}/json"),
            Target::Attach(id) => format!("/containers/{id}/json"),
        }
    }
}

/// What the engine's side hears from pages.
enum Input {
    Bytes(Bytes),
    Eof,
}

/// What pages hear from the engine's side.
#[derive(Clone)]
enum Output {
    Bytes(Bytes),
    Exit(Option<i64>),
}

/// The last output, in whole pieces (whole frames without a TTY).
#[derive(Default)]
struct Replay {
    pieces: VecDeque<Bytes>,
    len: usize,
}

impl Replay {
    fn push(&mut self, piece: Bytes) {
        self.len += piece.len();
        self.pieces.push_back(piece);
        while self.len > REPLAY && self.pieces.len() > 1 {
            if let Some(old) = self.pieces.pop_front() {
                self.len -= old.len();
            }
        }
    }
}

struct Session {
    info: relay::Session,
    target: Target,
    /// The replay and whether it ended, under one lock with the sends, so
    /// a page that joins gets each piece once.
    state: Mutex<(Replay, Option<Option<i64>>)>,
    output: broadcast::Sender<Output>,
    input: mpsc::Sender<Input>,
    /// Dropped to end the session.
    end: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    last: Mutex<Instant>,
    viewers: AtomicUsize,
}

impl Session {
    fn touch(&self) {
        *self.last.lock().expect("last lock") = Instant::now();
    }

    fn snapshot(&self) -> relay::Session {
        relay::Session {
            idle: self.last.lock().expect("last lock").elapsed().as_secs(),
            viewers: self.viewers.load(Ordering::Relaxed),
            ..self.info.clone()
        }
    }
}

/// The sessions a relay holds.
pub struct Sessions {
    all: Mutex<HashMap<String, Arc<Session>>>,
    idle: Duration,
    /// Who opens sessions here: `token`, `certificate` or `local`.
    owner: &'static str,
}

impl Sessions {
    pub fn new(idle: Duration, owner: &'static str) -> Arc<Sessions> {
        let sessions = Arc::new(Sessions {
            all: Mutex::new(HashMap::new()),
            idle,
            owner,
        });
        // Ends the sessions idle too long.
        let weak = Arc::downgrade(&sessions);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5).min(idle)).await;
                let Some(sessions) = weak.upgrade() else {
                    return;
                };
                let idle: Vec<Arc<Session>> = sessions
                    .all
                    .lock()
                    .expect("sessions lock")
                    .values()
                    .filter(|s| s.last.lock().expect("last lock").elapsed() >= sessions.idle)
                    .cloned()
                    .collect();
                for s in idle {
                    debug!(session = %s.info.id, "ending an idle session");
                    s.end.lock().expect("end lock").take();
                }
            }
        });
        sessions
    }

    fn get(&self, id: &str) -> Option<Arc<Session>> {
        self.all.lock().expect("sessions lock").get(id).cloned()
    }

    /// The sessions open now (in one container, or all).
    pub fn list(&self, container: Option<&str>) -> Vec<relay::Session> {
        let mut out: Vec<relay::Session> = self
            .all
            .lock()
            .expect("sessions lock")
            .values()
            .filter(|s| container.is_none_or(|c| s.info.container == c))
            .map(|s| s.snapshot())
            .collect();
        out.sort_by(|a, b| (a.started, &a.id).cmp(&(b.started, &b.id)));
        out
    }
}

/// An id the engine calls could carry path segments in: refused.
fn plain_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// `POST /_berth/sessions`: starts a session on an exec or an attach.
pub async fn open(
    State(state): State<AppState>,
    client: ClientAddr,
    Json(open): Json<Open>,
) -> Response {
    match start(&state, &client.0, open).await {
        Ok(s) => (StatusCode::CREATED, Json(s)).into_response(),
        Err(refused) => refused.into_response(),
    }
}

async fn start(state: &AppState, client: &str, open: Open) -> Result<relay::Session, Refused> {
    let target = match open {
        Open::Exec(id) if plain_id(&id) => Target::Exec(id),
        Open::Attach(id) if plain_id(&id) => Target::Attach(id),
        Open::Exec(id) | Open::Attach(id) => {
            return Err(Refused::new(
                StatusCode::BAD_REQUEST,
                format!("{id:?} is not an id"),
            ))
        }
    };
    if state.sessions.all.lock().expect("sessions lock").len() >= MAX_SESSIONS {
        return Err(Refused::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the relay holds {MAX_SESSIONS} terminal sessions already: end one first"),
        ));
    }
    let (path, query) = target.start();
    let admitted = state.gate.admit("POST", &path, query, &[])?;
    let engine = state.engine.clone();
    state.gate.check_target(&engine, &admitted.routed).await?;
    let inspect = engine.json(Method::GET, &target.inspect(), None).await?;
    let (container, command, tty) = match &target {
        Target::Exec(_) => {
            let p = &inspect["ProcessConfig"];
            let mut words = vec![p["entrypoint"].as_str().unwrap_or_default().to_owned()];
            words.extend(
                p["arguments"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned),
            );
            (
                inspect["ContainerID"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                words.join(" "),
                p["tty"].as_bool().unwrap_or(false),
            )
        }
        Target::Attach(_) => (
            inspect["Id"].as_str().unwrap_or_default().to_owned(),
            "attach".to_owned(),
            inspect["Config"]["Tty"].as_bool().unwrap_or(false),
        ),
    };
    let body = match &target {
        Target::Exec(_) => Body::from(json!({ "Detach": false, "Tty": tty }).to_string()),
        Target::Attach(_) => Body::empty(),
    };
    let req = hyper::Request::post(engine.uri(&admitted.uri).expect("an admitted path"))
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "tcp")
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .expect("a valid request");
    let mut resp = engine
        .client
        .request(req)
        .await
        .map_err(|e| Refused::new(StatusCode::BAD_GATEWAY, engine.error(&e)))?;
    if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
        let status = resp.status();
        let bytes = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        return Err(Refused::new(
            status,
            berth_engine::error_message(status.as_u16(), &bytes),
        ));
    }
    let io = hyper::upgrade::on(&mut resp).await.map_err(|e| {
        Refused::new(
            StatusCode::BAD_GATEWAY,
            format!("the engine's terminal did not open: {e}"),
        )
    })?;
    audit(client, &admitted.routed, StatusCode::SWITCHING_PROTOCOLS);

    let mut id = [0u8; 12];
    getrandom::fill(&mut id).expect("the system's random source");
    let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let (output, _) = broadcast::channel(BACKLOG);
    let (input, inputs) = mpsc::channel(64);
    let (end, ended) = tokio::sync::oneshot::channel();
    let session = Arc::new(Session {
        info: relay::Session {
            id: id.clone(),
            container,
            command,
            attach: matches!(target, Target::Attach(_)),
            tty,
            owner: state.sessions.owner.to_owned(),
            started: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
            idle: 0,
            viewers: 0,
        },
        target,
        state: Mutex::new((Replay::default(), None)),
        output,
        input,
        end: Mutex::new(Some(end)),
        last: Mutex::new(Instant::now()),
        viewers: AtomicUsize::new(0),
    });
    state
        .sessions
        .all
        .lock()
        .expect("sessions lock")
        .insert(id, session.clone());
    let info = session.snapshot();
    tokio::spawn(run(
        state.sessions.clone(),
        engine,
        session,
        TokioIo::new(io),
        inputs,
        ended,
    ));
    Ok(info)
}

/// The engine's side of a session: its output into the replay and to every
/// page, pages' input into it, until the process exits or the session is
/// ended.
async fn run(
    sessions: Arc<Sessions>,
    engine: Arc<Engine>,
    session: Arc<Session>,
    io: TokioIo<hyper::upgrade::Upgraded>,
    mut inputs: mpsc::Receiver<Input>,
    ended: tokio::sync::oneshot::Receiver<()>,
) {
    let (mut from_engine, mut to_engine) = tokio::io::split(io);
    let mut mux = (!session.info.tty).then(MuxDecoder::new);
    let output = async {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            let n = match from_engine.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            session.touch();
            // Whole frames only, so a replay starts on one.
            let pieces: Vec<Bytes> = match &mut mux {
                None => vec![Bytes::copy_from_slice(&buf[..n])],
                Some(mux) => {
                    mux.push(&buf[..n]);
                    std::iter::from_fn(|| mux.next_frame())
                        .filter_map(Result::ok)
                        .map(|f| Bytes::from(encode(f.stream, &f.payload)))
                        .collect()
                }
            };
            let mut state = session.state.lock().expect("session lock");
            for piece in pieces {
                state.0.push(piece.clone());
                let _ = session.output.send(Output::Bytes(piece));
            }
        }
    };
    let input = async {
        while let Some(input) = inputs.recv().await {
            session.touch();
            match input {
                Input::Bytes(b) => {
                    if to_engine.write_all(&b).await.is_err() {
                        break;
                    }
                }
                // Half-close: stdin ends, output goes on.
                Input::Eof => {
                    let _ = to_engine.shutdown().await;
                }
            }
        }
        // Nothing more to send; the output decides when it is over.
        std::future::pending::<()>().await;
    };
    let was_ended = tokio::select! {
        () = output => false,
        () = input => false,
        _ = ended => true,
    };
    drop((from_engine, to_engine));
    let code = if was_ended {
        stop(&engine, &session.target).await;
        None
    } else {
        exit_code(&engine, &session.target).await
    };
    sessions
        .all
        .lock()
        .expect("sessions lock")
        .remove(&session.info.id);
    let mut state = session.state.lock().expect("session lock");
    state.1 = Some(code);
    let _ = session.output.send(Output::Exit(code));
}

/// Ends an exec's process: the engine keeps it running when its connection
/// closes, and has no call to signal it. Its pid inside the container is
/// read from `/proc` (where the relay shares the engine's host), then
/// killed by an exec of `kill`. An attach just detaches.
async fn stop(engine: &Engine, target: &Target) {
    let Target::Exec(_) = target else { return };
    let Ok(exec) = engine.json(Method::GET, &target.inspect(), None).await else {
        return;
    };
    if exec["Running"] != Value::Bool(true) {
        return;
    }
    let (Some(host_pid), Some(container)) = (exec["Pid"].as_i64(), exec["ContainerID"].as_str())
    else {
        return;
    };
    // Only where berth sees the engine's processes as the engine does: a
    // berth in a pid namespace of its own (a container) may have a process
    // of its own under that number. The process must be in the container's
    // cgroup.
    let ours = std::fs::read_to_string(format!("/proc/{host_pid}/cgroup"))
        .is_ok_and(|cgroups| cgroups.contains(container));
    let pid = ours
        .then(|| std::fs::read_to_string(format!("/proc/{host_pid}/status")).ok())
        .flatten()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("NSpid:"))
                .and_then(|v| v.split_whitespace().last().map(str::to_owned))
        });
    let Some(pid) = pid else {
        debug!(
            host_pid,
            "cannot see the session's process from here; it keeps running"
        );
        return;
    };
    let kill =
        json!({ "Cmd": ["kill", "-KILL", pid], "AttachStdout": false, "AttachStderr": false });
    let Ok(made) = engine
        .json(
            Method::POST,
            &format!("/containers/{container}/exec"),
            Some(kill),
        )
        .await
    else {
        return;
    };
    if let Some(id) = made["Id"].as_str() {
        let _ = engine
            .json(
                Method::POST,
                &format!("/exec/{id}/start"),
                Some(json!({ "Detach": true })),
            )
            .await;
    }
}

/// The process's exit code, once the engine has it (shortly after output
/// ends); none when it is still running (an attach the engine ended).
async fn exit_code(engine: &Engine, target: &Target) -> Option<i64> {
    for _ in 0..20 {
        if let Ok(v) = engine.json(Method::GET, &target.inspect(), None).await {
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

#[derive(Deserialize)]
pub struct ListQuery {
    container: Option<String>,
}

/// `GET /_berth/sessions?container=<name or id>`.
pub async fn list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> Response {
    let container = match q.container.as_deref() {
        Some(c) if plain_id(c) => {
            match state
                .engine
                .json(Method::GET, &format!("/containers/{c}/json"), None)
                .await
            {
                Ok(v) => Some(v["Id"].as_str().unwrap_or_default().to_owned()),
                Err(refused) => return refused.into_response(),
            }
        }
        Some(c) => return refuse(StatusCode::BAD_REQUEST, format!("{c:?} is not a container")),
        None => None,
    };
    let all = state.sessions.list(container.as_deref());
    // What the caller may not use, it does not see.
    let visible: Vec<relay::Session> = all
        .into_iter()
        .filter(|s| {
            state.sessions.get(&s.id).is_some_and(|session| {
                let (path, query) = session.target.start();
                state.gate.admit("POST", &path, query, &[]).is_ok()
            })
        })
        .collect();
    Json(visible).into_response()
}

/// `DELETE /_berth/sessions/{id}`: ends a session, its process with it.
pub async fn end(
    State(state): State<AppState>,
    client: ClientAddr,
    Path(id): Path<String>,
) -> Response {
    let Some(session) = state.sessions.get(&id) else {
        return refuse(
            StatusCode::NOT_FOUND,
            format!("no terminal session {id:?} (it ended?)"),
        );
    };
    let (path, query) = session.target.start();
    match state.gate.admit("POST", &path, query, &[]) {
        Ok(a) => audit(&client.0, &a.routed, StatusCode::NO_CONTENT),
        Err(refused) => return refused.into_response(),
    }
    session.end.lock().expect("end lock").take();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
pub struct Join {
    ticket: Option<String>,
    mode: Option<Mode>,
}

/// `GET /_berth/sessions/{id}/ws?ticket=…&mode=write|watch`.
pub async fn join(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Join>,
    ws: WebSocketUpgrade,
) -> Response {
    if !q.ticket.is_some_and(|t| state.access.redeem_ticket(&t)) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "a WebSocket needs a fresh ticket from POST /_berth/tickets (single use, 30 s)",
        );
    }
    let Some(session) = state.sessions.get(&id) else {
        return refuse(
            StatusCode::NOT_FOUND,
            format!("no terminal session {id:?} (it ended?)"),
        );
    };
    let (path, query) = session.target.start();
    if let Err(refused) = state.gate.admit("POST", &path, query, &[]) {
        return refused.into_response();
    }
    let mode = q.mode.unwrap_or(Mode::Write);
    let (engine, gate) = (state.engine.clone(), state.gate.clone());
    ws.on_upgrade(move |socket| view(socket, session, mode, engine, gate))
}

/// One page joined to a session.
async fn view(
    socket: WebSocket,
    session: Arc<Session>,
    mode: Mode,
    engine: Arc<Engine>,
    gate: Arc<Gate>,
) {
    session.viewers.fetch_add(1, Ordering::Relaxed);
    let (mut to_page, mut from_page) = socket.split();
    // The replay and the subscription under one lock: each piece once.
    let (replay, ended, mut live) = {
        let state = session.state.lock().expect("session lock");
        (state.0.pieces.clone(), state.1, session.output.subscribe())
    };
    let exit = |code| Message::Text(Control::Exit { code }.to_text().into());
    let output = async {
        for piece in replay {
            if to_page.send(Message::Binary(piece)).await.is_err() {
                return;
            }
        }
        if let Some(code) = ended {
            let _ = to_page.send(exit(code)).await;
            let _ = to_page.send(Message::Close(None)).await;
            return;
        }
        loop {
            match live.recv().await {
                Ok(Output::Bytes(b)) => {
                    if to_page.send(Message::Binary(b)).await.is_err() {
                        return;
                    }
                }
                Ok(Output::Exit(code)) => {
                    let _ = to_page.send(exit(code)).await;
                    let _ = to_page.send(Message::Close(None)).await;
                    return;
                }
                // Too far behind: the page joins again, from the replay.
                Err(_) => {
                    let _ = to_page.send(Message::Close(None)).await;
                    return;
                }
            }
        }
    };
    let input = async {
        while let Some(Ok(msg)) = from_page.next().await {
            if mode == Mode::Watch {
                if matches!(msg, Message::Close(_)) {
                    break;
                }
                continue;
            }
            let go_on = match msg {
                Message::Binary(bytes) => session.input.send(Input::Bytes(bytes)).await.is_ok(),
                Message::Text(text) => {
                    match serde_json::from_str::<Control>(&text) {
                        Ok(Control::Resize { rows, cols }) => {
                            let size = format!("h={rows}&w={cols}");
                            if let Ok(a) =
                                gate.admit("POST", &session.target.resize(), Some(&size), &[])
                            {
                                let _ = engine.json(Method::POST, &a.uri, None).await;
                            }
                        }
                        Ok(Control::Eof) => {
                            let _ = session.input.send(Input::Eof).await;
                        }
                        Ok(Control::Exit { .. }) => {}
                        Err(e) => debug!("ignoring a control message: {e}"),
                    }
                    true
                }
                Message::Close(_) => false,
                _ => true,
            };
            if !go_on {
                break;
            }
        }
    };
    // The page leaving leaves the session as it is.
    tokio::select! {
        () = output => {}
        () = input => {}
    }
    session.viewers.fetch_sub(1, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replay_keeps_the_last_output_within_its_bound() {
        let mut r = Replay::default();
        for i in 0..3000u32 {
            r.push(Bytes::from(format!("{i:>1023}\n")));
        }
        assert!(r.len <= REPLAY, "{}", r.len);
        assert!(r.len > REPLAY - 1024);
        let last: Vec<u8> = r.pieces.back().unwrap().to_vec();
        assert_eq!(String::from_utf8(last).unwrap().trim(), "2999");
        // One piece larger than the bound is kept whole: it is all there is.
        r.push(Bytes::from(vec![b'x'; 2 * REPLAY]));
        assert_eq!(r.pieces.len(), 1);
    }
}

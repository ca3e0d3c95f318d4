//! One engine stream per thing, however many of the console's viewers
//! watch it: the fan-in's sources share the engine's events stream (per
//! filter), a container's stats stream, and a container's followed logs.
//! The stream closes a few seconds after its last viewer leaves.
//!
//! Only the fan-in (the console's own route, whose protocol is Berth's)
//! shares: the docker CLI and other API clients get their own streams, as
//! the engine would give them.
//!
//! A viewer of followed logs first gets what it asked of the past (its
//! `tail` or `since`) from the engine, then joins the shared stream: the
//! shared stream carries timestamps, so what both hold is sent once, and
//! nothing falls between the two because the viewer subscribes before it
//! asks for the past.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use axum::body::{Body, Bytes};
use berth_engine::logline::{nanos, split_time};
use berth_engine::mux::{encode, MuxDecoder, StreamKind};
use berth_engine::Routed;
use http_body_util::BodyExt;
use tokio::sync::{broadcast, watch};

use crate::engine::Engine;
use crate::overlap::Overlap;

/// How long a stream outlives its last viewer (a page reloaded comes back
/// to it).
pub const LINGER: Duration = Duration::from_secs(5);

/// How many of the engine's chunks a viewer may fall behind before it is
/// told so. A chunk holds what arrived together, so the further a reader
/// falls behind, the more each holds; a slot costs a few words however
/// long the stream runs.
const BACKLOG: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// `/events` with this query (filters only).
    Events(String),
    /// A container's stats stream, by its full id.
    Stats(String),
    /// A container's followed stdout and stderr, with timestamps, by id.
    Logs(String),
}

/// A JSON line (events, stats) or a log message (with its stream when the
/// container has no TTY).
type Unit = (Option<StreamKind>, Bytes);

/// What a shared stream carries: whole units, as many as arrived
/// together, so a viewer joins between two.
#[derive(Debug, Clone)]
enum Item {
    Units(Arc<[Unit]>),
    End,
    Failed(Arc<str>),
}

/// Where a shared stream is.
#[derive(Debug, Clone, PartialEq)]
enum Opened {
    Opening,
    Open,
    Failed(String),
    /// The engine ended it: a new viewer needs a new one.
    Ended,
}

struct Shared {
    tx: broadcast::Sender<Item>,
    opened: watch::Receiver<Opened>,
    viewers: AtomicUsize,
    /// Dropped to end the engine stream.
    stop: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

/// The streams open now.
pub struct Hub {
    engine: Arc<Engine>,
    streams: Mutex<HashMap<Key, Weak<Shared>>>,
    /// Containers looked up lately, by the name a viewer gave: many pages
    /// opening the same streams at once ask the engine once.
    known: Mutex<HashMap<String, Known>>,
}

/// A container's id and whether it has a TTY, as the engine said (or is
/// saying) a moment ago.
struct Known {
    at: std::time::Instant,
    answer: Arc<tokio::sync::OnceCell<Option<(String, bool)>>>,
}

/// How long a lookup stands for the next viewers.
const KNOWN_FOR: Duration = Duration::from_secs(2);

/// A viewer's place in a shared stream; leaving (dropping it) may end the
/// stream after [`LINGER`].
struct Seat {
    hub: Arc<Hub>,
    key: Key,
    shared: Arc<Shared>,
}

impl Drop for Seat {
    fn drop(&mut self) {
        if self.shared.viewers.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let (hub, key, shared) = (self.hub.clone(), self.key.clone(), self.shared.clone());
        tokio::spawn(async move {
            tokio::time::sleep(LINGER).await;
            if shared.viewers.load(Ordering::Acquire) == 0 {
                hub.close(&key, &shared);
            }
        });
    }
}

/// A viewer the hub will serve: which stream, and (for logs) what it
/// asked to see and whether the container has a TTY.
pub struct Plan {
    key: Key,
    logs: Option<(LogView, bool)>,
}

impl Plan {
    /// The engine's events with these filters (a query such as
    /// `filters=…`).
    pub fn events(query: &str) -> Plan {
        Plan {
            key: Key::Events(query.to_owned()),
            logs: None,
        }
    }

    /// A container's stats stream (by full id).
    pub fn stats(id: &str) -> Plan {
        Plan {
            key: Key::Stats(id.to_owned()),
            logs: None,
        }
    }

    /// A container's followed stdout and stderr with timestamps (by full
    /// id), from `since` (the engine's form) on.
    pub fn logs(id: &str, tty: bool, since: &str) -> Plan {
        Plan {
            key: Key::Logs(id.to_owned()),
            logs: Some((
                LogView {
                    stdout: true,
                    stderr: true,
                    timestamps: true,
                    past: format!("since={since}"),
                },
                tty,
            )),
        }
    }
}

/// What a viewer asked of a followed log.
struct LogView {
    stdout: bool,
    stderr: bool,
    timestamps: bool,
    /// The query for its past: `tail`, `since`.
    past: String,
}

impl Hub {
    pub fn new(engine: Arc<Engine>) -> Arc<Hub> {
        Arc::new(Hub {
            engine,
            streams: Mutex::new(HashMap::new()),
            known: Mutex::new(HashMap::new()),
        })
    }

    /// The engine streams the hub holds open now.
    pub fn open_streams(&self) -> usize {
        let streams = self.streams.lock().expect("hub lock");
        streams.values().filter(|w| w.strong_count() > 0).count()
    }

    /// Whether the admitted GET `routed?query` is one the hub shares, and
    /// how; `None`: it gets a stream of its own.
    pub async fn plan(&self, routed: &Routed, query: Option<&str>) -> Option<Plan> {
        let params: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let truthy =
            |k: &str| get(k).is_some_and(|v| !matches!(v, "" | "0" | "false" | "no" | "none"));
        let only = |allowed: &[&str]| params.iter().all(|(k, _)| allowed.contains(&k.as_str()));
        match routed.route.template {
            "/events" if only(&["filters"]) => Some(Plan {
                key: Key::Events(query.unwrap_or("").to_owned()),
                logs: None,
            }),
            "/containers/{name:.*}/stats"
                if only(&["stream"]) && get("stream").is_none_or(|v| v != "0" && v != "false") =>
            {
                let (id, _) = self.container(routed.param("name")?).await?;
                Some(Plan {
                    key: Key::Stats(id),
                    logs: None,
                })
            }
            "/containers/{name:.*}/logs"
                if truthy("follow")
                    && only(&["follow", "stdout", "stderr", "timestamps", "tail", "since"]) =>
            {
                let (id, tty) = self.container(routed.param("name")?).await?;
                let past: Vec<String> = params
                    .iter()
                    .filter(|(k, _)| k == "tail" || k == "since")
                    .map(|(k, v)| {
                        format!(
                            "{k}={}",
                            form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                        )
                    })
                    .collect();
                let view = LogView {
                    stdout: truthy("stdout"),
                    stderr: truthy("stderr"),
                    timestamps: truthy("timestamps"),
                    past: past.join("&"),
                };
                Some(Plan {
                    key: Key::Logs(id),
                    logs: Some((view, tty)),
                })
            }
            _ => None,
        }
    }

    /// A container's full id and whether it has a TTY (`None` when the
    /// engine does not know it: the viewer then gets the engine's own
    /// answer, unshared).
    async fn container(&self, name: &str) -> Option<(String, bool)> {
        let answer = {
            let mut known = self.known.lock().expect("hub lock");
            known.retain(|_, k| k.at.elapsed() < KNOWN_FOR);
            known
                .entry(name.to_owned())
                .or_insert_with(|| Known {
                    at: std::time::Instant::now(),
                    answer: Arc::new(tokio::sync::OnceCell::new()),
                })
                .answer
                .clone()
        };
        answer.get_or_init(|| self.look_up(name)).await.clone()
    }

    async fn look_up(&self, name: &str) -> Option<(String, bool)> {
        let path = format!(
            "/containers/{}/json",
            berth_engine::route::encode_segment(name)
        );
        let v = self
            .engine
            .json(axum::http::Method::GET, &path, None)
            .await
            .ok()?;
        let id = v["Id"].as_str()?.to_owned();
        Some((id, v["Config"]["Tty"].as_bool().unwrap_or(false)))
    }

    /// The shared stream for `key`, joined (opened if need be).
    fn seat(self: &Arc<Hub>, key: &Key, tty: bool) -> (Seat, broadcast::Receiver<Item>) {
        let mut streams = self.streams.lock().expect("hub lock");
        let live = streams
            .get(key)
            .and_then(Weak::upgrade)
            .filter(|s| matches!(*s.opened.borrow(), Opened::Opening | Opened::Open));
        let (shared, rx) = match live {
            Some(s) => {
                let rx = s.tx.subscribe();
                (s, rx)
            }
            None => {
                let (tx, rx) = broadcast::channel(BACKLOG);
                let (opened_tx, opened) = watch::channel(Opened::Opening);
                let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
                let shared = Arc::new(Shared {
                    tx: tx.clone(),
                    opened,
                    viewers: AtomicUsize::new(0),
                    stop: Mutex::new(Some(stop_tx)),
                });
                streams.insert(key.clone(), Arc::downgrade(&shared));
                tokio::spawn(run(
                    self.engine.clone(),
                    key.clone(),
                    tty,
                    tx,
                    opened_tx,
                    stop_rx,
                ));
                (shared, rx)
            }
        };
        shared.viewers.fetch_add(1, Ordering::AcqRel);
        let seat = Seat {
            hub: self.clone(),
            key: key.clone(),
            shared,
        };
        (seat, rx)
    }

    /// Ends `shared` if it is still the stream for `key`.
    fn close(&self, key: &Key, shared: &Arc<Shared>) {
        let mut streams = self.streams.lock().expect("hub lock");
        if streams
            .get(key)
            .and_then(Weak::upgrade)
            .is_some_and(|s| Arc::ptr_eq(&s, shared))
        {
            streams.remove(key);
        }
        drop(shared.stop.lock().expect("stop lock").take());
    }

    /// One viewer: joins, catches up on the past (logs), then sends what
    /// the stream carries on `out` until it ends or `out` closes. Its bytes
    /// are what the engine would have sent for the viewer's own request;
    /// an empty piece marks where the past ends and the live stream starts.
    pub async fn relay(
        self: &Arc<Hub>,
        plan: Plan,
        out: tokio::sync::mpsc::Sender<Result<Bytes, String>>,
    ) {
        let Plan { key, logs } = plan;
        let tty = logs.as_ref().is_some_and(|(_, tty)| *tty);
        let (seat, mut rx) = self.seat(&key, tty);
        // The shared stream must be open before the past is asked for, or
        // a line could fall between the two.
        let mut opened = seat.shared.opened.clone();
        let state = opened
            .wait_for(|o| *o != Opened::Opening)
            .await
            .map(|o| o.clone())
            .unwrap_or(Opened::Failed("the stream ended".into()));
        // A stream that ended already (a container that stopped): a log's
        // viewer still gets the past it asked for, and nothing live.
        let ended = match state {
            Opened::Failed(why) => {
                let _ = out.send(Err(why)).await;
                return;
            }
            Opened::Ended if logs.is_none() => return,
            Opened::Ended => true,
            _ => false,
        };
        // What the live stream repeats of the past: not sent again. After
        // a tail, nothing older than its newest message is new either.
        let mut overlap = Overlap::default();
        let mut tail_newest: Option<i64> = None;
        if let (Key::Logs(id), Some((view, _))) = (&key, &logs) {
            let path = format!(
                "/containers/{id}/logs?stdout=1&stderr=1&timestamps=1{}{}",
                if view.past.is_empty() { "" } else { "&" },
                view.past
            );
            match self.read_past(&path, tty).await {
                Ok(units) => {
                    let mut had = Vec::new();
                    for (stream, bytes) in units {
                        if let Some(t) = unit_time(&bytes) {
                            had.push((t, stream_byte(stream), bytes.clone()));
                        }
                        if let Some(b) = for_viewer(view, tty, stream, &bytes) {
                            if out.send(Ok(b)).await.is_err() {
                                return;
                            }
                        }
                    }
                    overlap = Overlap::new(had.iter().map(|(t, s, b)| (*t, *s, &b[..])));
                    if view.past.contains("tail=") {
                        tail_newest = had.iter().map(|(t, ..)| *t).max();
                    }
                }
                Err(why) => {
                    let _ = out.send(Err(why)).await;
                    return;
                }
            }
        }
        // Joined: an empty piece says so (what follows is live).
        if ended || out.send(Ok(Bytes::new())).await.is_err() {
            return;
        }
        loop {
            let item = tokio::select! {
                item = rx.recv() => item,
                () = out.closed() => return,
            };
            let units = match item {
                Ok(Item::Units(units)) => units,
                Ok(Item::End) => return,
                Ok(Item::Failed(why)) => {
                    let _ = out.send(Err(why.to_string())).await;
                    return;
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    let _ = out
                        .send(Err(format!(
                            "this viewer fell {n} reads behind the stream; open it again"
                        )))
                        .await;
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            let mut joined = Vec::new();
            for (stream, bytes) in units.iter() {
                let bytes = match &logs {
                    None => Some(bytes.clone()),
                    Some((view, _)) => {
                        if let Some(t) = unit_time(bytes) {
                            if overlap.repeat(t, stream_byte(*stream), bytes)
                                || tail_newest.is_some_and(|newest| t < newest)
                            {
                                continue;
                            }
                        }
                        for_viewer(view, tty, *stream, bytes)
                    }
                };
                if let Some(b) = bytes {
                    joined.extend_from_slice(&b);
                }
            }
            if !joined.is_empty() && out.send(Ok(Bytes::from(joined))).await.is_err() {
                return;
            }
        }
    }

    /// A log's past, as units.
    async fn read_past(
        &self,
        path: &str,
        tty: bool,
    ) -> Result<Vec<(Option<StreamKind>, Bytes)>, String> {
        let body = open(&self.engine, path).await?;
        let mut units = Units::new(tty);
        let mut out = Vec::new();
        let mut body = body;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| format!("the engine cut the stream: {e}"))?;
            if let Ok(data) = frame.into_data() {
                units.push(&data, |u| out.push(u))?;
            }
        }
        Ok(out)
    }
}

/// A log message as a viewer asked for it: its streams, with or without
/// the time, framed as the engine frames it (no frames with a TTY).
fn for_viewer(
    view: &LogView,
    tty: bool,
    stream: Option<StreamKind>,
    bytes: &Bytes,
) -> Option<Bytes> {
    let wanted = match stream {
        Some(StreamKind::Stderr) => view.stderr,
        _ => view.stdout,
    };
    if !wanted {
        return None;
    }
    let payload: &[u8] = if view.timestamps {
        bytes
    } else {
        split_time(bytes).map_or(bytes, |(_, rest)| rest)
    };
    Some(match (tty, stream) {
        (false, Some(s)) => Bytes::from(encode(s, payload)),
        _ => Bytes::copy_from_slice(payload),
    })
}

/// Opens a GET on the engine: its body, or the engine's words.
pub async fn open(engine: &Engine, path: &str) -> Result<Body, String> {
    let req = hyper::Request::get(engine.uri(path).map_err(|e| e.to_string())?)
        .body(Body::empty())
        .expect("a valid request");
    let resp = engine.send(req).await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let body = resp.into_body();
    if !status.is_success() {
        let bytes = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        return Err(berth_engine::error_message(status.as_u16(), &bytes));
    }
    Ok(body)
}

/// Cuts an engine stream into units: frames of a multiplexed log, else
/// lines.
struct Units {
    mux: Option<MuxDecoder>,
    line: Vec<u8>,
}

impl Units {
    fn new(raw: bool) -> Units {
        Units {
            mux: (!raw).then(MuxDecoder::new),
            line: Vec::new(),
        }
    }

    fn push(
        &mut self,
        data: &[u8],
        mut each: impl FnMut((Option<StreamKind>, Bytes)),
    ) -> Result<(), String> {
        match &mut self.mux {
            Some(mux) => {
                mux.push(data);
                while let Some(frame) = mux.next_frame() {
                    let f = frame.map_err(|e| e.to_string())?;
                    each((Some(f.stream), Bytes::from(f.payload)));
                }
            }
            None => {
                for piece in data.split_inclusive(|b| *b == b'\n') {
                    self.line.extend_from_slice(piece);
                    if piece.ends_with(b"\n") {
                        each((None, Bytes::from(std::mem::take(&mut self.line))));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Reads the engine stream for `key` into `tx` until it ends, fails, or
/// the hub stops it.
async fn run(
    engine: Arc<Engine>,
    key: Key,
    tty: bool,
    tx: broadcast::Sender<Item>,
    opened: watch::Sender<Opened>,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    let path = match &key {
        Key::Events(query) if query.is_empty() => "/events".to_owned(),
        Key::Events(query) => format!("/events?{query}"),
        Key::Stats(id) => format!("/containers/{id}/stats?stream=1"),
        Key::Logs(id) => {
            format!("/containers/{id}/logs?follow=1&stdout=1&stderr=1&timestamps=1&tail=0")
        }
    };
    let read = async {
        let mut body = match open(&engine, &path).await {
            Ok(b) => b,
            Err(why) => {
                let _ = opened.send(Opened::Failed(why));
                return;
            }
        };
        let _ = opened.send(Opened::Open);
        // Events and stats are JSON lines; logs are framed unless a TTY.
        let mut units = Units::new(tty || !matches!(key, Key::Logs(_)));
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(f) => {
                    if let Ok(data) = f.into_data() {
                        let mut got = Vec::new();
                        if let Err(why) = units.push(&data, |u| got.push(u)) {
                            let _ = tx.send(Item::Failed(why.into()));
                            return;
                        }
                        if !got.is_empty() {
                            let _ = tx.send(Item::Units(got.into()));
                        }
                    }
                }
                Err(e) => {
                    let _ = tx.send(Item::Failed(
                        format!("the engine cut the stream: {e}").into(),
                    ));
                    return;
                }
            }
        }
        let _ = tx.send(Item::End);
    };
    tokio::select! {
        () = read => {}
        _ = stop => {}
    }
    opened.send_modify(|o| {
        if !matches!(o, Opened::Failed(_)) {
            *o = Opened::Ended;
        }
    });
}

/// A log unit's time (ns), from the timestamp in front of it.
fn unit_time(bytes: &[u8]) -> Option<i64> {
    split_time(bytes).and_then(|(key, _)| nanos(&key))
}

fn stream_byte(stream: Option<StreamKind>) -> u8 {
    match stream {
        None => 0,
        Some(StreamKind::Stdin) => 1,
        Some(StreamKind::Stdout) => 2,
        Some(StreamKind::Stderr) => 3,
    }
}

//! The flight recorder (`--record DIR`): the whole log of every container,
//! kept after the container is gone, with what was known of it when it
//! died, and one search across all of it.
//!
//! From the relay's start, and for every container that starts later (the
//! engine's events), the recorder follows each running container's stdout
//! and stderr with timestamps, through the hub: the follow stream is the
//! one the console's viewers share. Messages are batched in memory and
//! written every second ([`store`]), so a crash loses at most the last
//! second; after a restart each record continues from its last message's
//! time, with no gap and no repeat. On `die`, `oom`, `kill` and an
//! unhealthy health check it also keeps the exit code, the OOM flag, the
//! inspect (environment values redacted) and the last stats sample. When
//! the store holds more than `--record-max`, the oldest segments go. A
//! write that fails (a full disk) stops the recorder, with an error in the
//! log and in `/_berth/health`; what is on disk stays whole.

pub mod api;
mod search;
pub mod store;

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::Method;
use berth_engine::logline::{engine_time, nanos, split_time};
use berth_engine::mux::{MuxDecoder, StreamKind};
use serde_json::Value;
use tokio::sync::mpsc;
use tracing::{error, info, warn};

use crate::engine::Engine;
use crate::hub::{Hub, Plan};
use crate::overlap::{self, Overlap};
use store::{Message, Meta, Record, Stream};

/// How often batched messages are written.
const FLUSH: Duration = Duration::from_secs(1);

/// What the recorder holds for a container it records.
#[derive(Default)]
struct Live {
    meta: Meta,
    /// Encoded messages not yet written.
    pending: Vec<u8>,
    /// The newest message's time, the messages of the last
    /// [`overlap::WINDOW`] before it, and what a resumed follow will
    /// repeat of them.
    newest: Option<i64>,
    recent: VecDeque<Message>,
    overlap: Overlap,
    /// Its last stats sample.
    stats: Option<Value>,
    /// A follow of its log is running.
    following: bool,
    /// Its stats are watched.
    watching: bool,
    /// Its inspect when it started.
    known: Option<Value>,
}

impl Live {
    /// A message kept.
    fn note(&mut self, m: &Message) {
        let newest = self.newest.map_or(m.time, |n| n.max(m.time));
        self.newest = Some(newest);
        self.meta.last = Some(newest);
        self.recent.push_back(m.clone());
        while self
            .recent
            .front()
            .is_some_and(|f| f.time < newest - overlap::WINDOW)
        {
            self.recent.pop_front();
        }
    }

    /// Where a follow of its log starts: from its start the first time;
    /// then a little before its newest message, what it has of those
    /// skipped as they come again.
    fn resume(&mut self) -> String {
        self.overlap = Overlap::new(
            self.recent
                .iter()
                .map(|m| (m.time, m.stream.letter(true), &m.bytes[..])),
        );
        self.newest
            .map_or("0".to_owned(), |n| engine_time(Overlap::resume_from(n)))
    }
}

pub struct Recorder {
    root: PathBuf,
    max: u64,
    engine: Arc<Engine>,
    hub: Arc<Hub>,
    live: Mutex<HashMap<String, Live>>,
    /// Why recording stopped, if it did.
    stopped: Mutex<Option<String>>,
    /// Held while batches are written, so they land in order.
    writing: Mutex<()>,
    /// Attached output of containers just created (see [`Bridge`]).
    bridges: Mutex<HashMap<String, Arc<Bridge>>>,
}

/// What a container printed, attached to from its creation until the
/// follow of its log is open. A container run with `--rm` can print, exit
/// and be removed before the engine's `start` event reaches the relay and
/// its log is asked for: then this is all there is of it (with the times
/// the relay received each message, not the engine's). The attach asks for
/// the log so far too, so it only has to reach the engine before the
/// container is removed; if it arrives while the container is printing,
/// the engine may send a line both in the log so far and live, and the
/// record then holds it twice (only for a container gone before its log
/// could be followed).
#[derive(Default)]
struct Bridge {
    inner: Mutex<BridgeState>,
    done: tokio::sync::Notify,
}

#[derive(Default)]
struct BridgeState {
    /// Its inspect when created.
    inspect: Option<Value>,
    /// What the attach brought, with when it came.
    chunks: Vec<(i64, axum::body::Bytes)>,
    ended: bool,
    task: Option<tokio::task::AbortHandle>,
}

impl Bridge {
    fn close(&self) {
        let mut s = self.inner.lock().expect("bridge lock");
        if let Some(task) = s.task.take() {
            task.abort();
        }
        s.ended = true;
        drop(s);
        self.done.notify_waiters();
    }

    /// Its messages once the attach has ended (the container exited), or
    /// after `wait` at most.
    async fn messages(&self, tty: bool, wait: Duration) -> Vec<Message> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.done.notified();
            if self.inner.lock().expect("bridge lock").ended {
                break;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                break;
            }
        }
        let chunks = std::mem::take(&mut self.inner.lock().expect("bridge lock").chunks);
        let mut lines = Lines::new(tty);
        let mut out = Vec::new();
        for (time, chunk) in chunks {
            lines.push(&chunk, |stream, bytes| {
                out.push(Message {
                    time,
                    stream,
                    bytes: bytes.to_vec(),
                });
            });
        }
        out
    }
}

impl Recorder {
    /// Opens the store in `root` (repairing what a crash left), and starts
    /// recording; when the store cannot be opened, the recorder is stopped
    /// and says why.
    pub fn start(root: PathBuf, max: u64, engine: Arc<Engine>, hub: Arc<Hub>) -> Arc<Recorder> {
        let (live, stopped) = match Self::load(&root) {
            Ok(live) => (live, None),
            Err(e) => {
                error!("the flight recorder cannot open {}: {e}", root.display());
                (
                    HashMap::new(),
                    Some(format!("cannot open {}: {e}", root.display())),
                )
            }
        };
        let failed = stopped.is_some();
        let recorder = Arc::new(Recorder {
            root,
            max,
            engine,
            hub,
            live: Mutex::new(live),
            stopped: Mutex::new(stopped),
            writing: Mutex::new(()),
            bridges: Mutex::new(HashMap::new()),
        });
        if !failed {
            tokio::spawn(recorder.clone().follow_events());
            tokio::spawn(recorder.clone().flush_every_second());
        }
        recorder
    }

    /// The records in `root`, each repaired.
    fn load(root: &std::path::Path) -> std::io::Result<HashMap<String, Live>> {
        std::fs::create_dir_all(root)?;
        let mut live = HashMap::new();
        for entry in std::fs::read_dir(root)?.flatten() {
            let id = entry.file_name().to_string_lossy().into_owned();
            let record = Record::new(root, &id);
            let Some(mut meta) = record.meta() else {
                continue;
            };
            let last = record.repair()?;
            meta.last = last.or(meta.last);
            let mut l = Live {
                meta,
                ..Live::default()
            };
            if let Some(t) = l.meta.last {
                let _ = record.read(t.saturating_sub(2 * overlap::WINDOW), i64::MAX, |m| {
                    l.note(&m);
                    true
                });
            }
            live.insert(id, l);
        }
        Ok(live)
    }

    /// `None` while recording; else why it stopped.
    pub fn stopped(&self) -> Option<String> {
        self.stopped.lock().expect("stopped lock").clone()
    }

    fn record(&self, id: &str) -> Record {
        Record::new(&self.root, id)
    }

    /// Follows the engine's container events for as long as the relay runs,
    /// again after the engine restarts.
    async fn follow_events(self: Arc<Self>) {
        let query = format!(
            "filters={}",
            form_urlencoded::byte_serialize(br#"{"type":["container"]}"#).collect::<String>()
        );
        // Events are handled in order by a task of their own, so that the
        // inspects they wait for don't hold the reading back: a container
        // just created is attached to as soon as its event arrives.
        let (events, mut queued) = mpsc::unbounded_channel::<Value>();
        let me = self.clone();
        tokio::spawn(async move {
            while let Some(event) = queued.recv().await {
                me.clone().on_event(event).await;
            }
        });
        let mut delay = Duration::from_millis(500);
        loop {
            let (tx, mut rx) = mpsc::channel(256);
            let hub = self.hub.clone();
            let plan = Plan::events(&query);
            let relay = tokio::spawn(async move { hub.relay(plan, tx).await });
            // The running containers, once the events are followed (the
            // hub's first, empty piece says so): none starts unseen.
            let first = rx.recv().await;
            if first.is_some() {
                if let Err(e) = self.catch_up().await {
                    warn!(
                        "the recorder could not list the running containers: {}",
                        e.message
                    );
                }
            }
            let mut lines = Vec::new();
            let mut item = first;
            while let Some(next) = item {
                match next {
                    Ok(bytes) => {
                        delay = Duration::from_millis(500);
                        lines.extend_from_slice(&bytes);
                        while let Some(i) = lines.iter().position(|b| *b == b'\n') {
                            let line: Vec<u8> = lines.drain(..=i).collect();
                            if let Ok(event) = serde_json::from_slice::<Value>(&line) {
                                if event["Action"] == "create" {
                                    if let Some(id) = event_id(&event) {
                                        self.clone().bridge(id.to_owned());
                                    }
                                }
                                let _ = events.send(event);
                            }
                        }
                    }
                    Err(why) => warn!("the recorder's events stream failed: {why}"),
                }
                item = rx.recv().await;
            }
            relay.abort();
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    /// Follows every running container not followed yet.
    async fn catch_up(self: &Arc<Self>) -> Result<(), crate::error::Refused> {
        let list = self
            .engine
            .json(Method::GET, "/containers/json", None)
            .await?;
        for c in list.as_array().into_iter().flatten() {
            if let Some(id) = c["Id"].as_str() {
                self.clone().watch(id.to_owned()).await;
            }
        }
        Ok(())
    }

    async fn on_event(self: Arc<Self>, event: Value) {
        let Some(id) = event_id(&event) else {
            return;
        };
        let id = id.to_owned();
        let action = event["Action"].as_str().unwrap_or_default();
        let attrs = &event["Actor"]["Attributes"];
        match action {
            "start" => self.watch(id).await,
            "die" | "oom" | "kill" | "health_status: unhealthy" => {
                let inspect = self
                    .engine
                    .json(Method::GET, &format!("/containers/{id}/json"), None)
                    .await
                    .ok();
                let mut live = self.live.lock().expect("recorder lock");
                let Some(l) = live.get_mut(&id) else { return };
                // Gone already (`--rm`): what it was when it started.
                let inspect = inspect.or_else(|| l.known.take());
                let now = event["time"].as_i64();
                match action {
                    "die" => {
                        l.meta.died = now;
                        l.meta.exit_code = attrs["exitCode"].as_str().and_then(|c| c.parse().ok());
                    }
                    "oom" => l.meta.oom = true,
                    "kill" => {}
                    _ => l.meta.unhealthy = true,
                }
                if let Some(mut inspect) = inspect {
                    l.meta.oom |= inspect["State"]["OOMKilled"] == Value::Bool(true);
                    berth_engine::guard::redact_env(&mut inspect);
                    l.meta.inspect = Some(inspect);
                }
                l.meta.stats = l.stats.clone();
                self.save_meta(&id, &l.meta);
            }
            "destroy" => {
                let mut live = self.live.lock().expect("recorder lock");
                // What was attached to stays for a follow that is still to
                // end: it may be all there is of the container.
                let following = live.get(&id).is_some_and(|l| l.following);
                let mut bridges = self.bridges.lock().expect("bridges lock");
                let bridge = if following {
                    bridges.get(&id).cloned()
                } else {
                    bridges.remove(&id)
                };
                drop(bridges);
                if let Some(b) = bridge {
                    b.close();
                }
                if let Some(l) = live.get_mut(&id) {
                    l.meta.destroyed = true;
                    self.save_meta(&id, &l.meta);
                }
            }
            _ => {}
        }
    }

    fn save_meta(&self, id: &str, meta: &Meta) {
        if self.stopped().is_some() {
            return;
        }
        if let Err(e) = self.record(id).save_meta(meta) {
            self.stop(format!(
                "cannot write {}: {e}",
                self.record(id).dir.display()
            ));
        }
    }

    fn stop(&self, why: String) {
        let mut stopped = self.stopped.lock().expect("stopped lock");
        if stopped.is_none() {
            error!("the flight recorder stopped: {why}");
            *stopped = Some(why);
        }
    }

    /// Attaches to a container just created, until its log is followed.
    fn bridge(self: Arc<Self>, id: String) {
        if self.stopped().is_some() {
            return;
        }
        let bridge = Arc::new(Bridge::default());
        self.bridges
            .lock()
            .expect("bridges lock")
            .insert(id.clone(), bridge.clone());
        let me = self.clone();
        let b = bridge.clone();
        let task = tokio::spawn(async move {
            me.attach(&id, &b).await;
            b.inner.lock().expect("bridge lock").ended = true;
            b.done.notify_waiters();
        });
        let mut s = bridge.inner.lock().expect("bridge lock");
        if s.ended {
            task.abort();
        } else {
            s.task = Some(task.abort_handle());
        }
    }

    async fn attach(&self, id: &str, bridge: &Bridge) {
        let about = format!("/containers/{id}/json");
        let inspect = self.engine.json(Method::GET, &about, None);
        // `logs=1`: what it printed before the attach reached the engine
        // comes first, so the attach only has to arrive before the
        // container is removed, not before it prints.
        let path = format!("/containers/{id}/attach?logs=1&stream=1&stdout=1&stderr=1");
        let Ok(uri) = self.engine.uri(&path) else {
            return;
        };
        let req = hyper::Request::post(uri)
            .body(axum::body::Body::empty())
            .expect("a valid request");
        // Both at once: the container may be starting already.
        let (inspect, resp) = tokio::join!(inspect, self.engine.send(req));
        bridge.inner.lock().expect("bridge lock").inspect = inspect.ok();
        let Ok(resp) = resp else { return };
        if !resp.status().is_success() {
            return;
        }
        let mut body = resp.into_body();
        while let Some(Ok(frame)) = http_body_util::BodyExt::frame(&mut body).await {
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as i64);
            bridge
                .inner
                .lock()
                .expect("bridge lock")
                .chunks
                .push((now, data));
        }
    }

    /// Starts following a container's log and stats, unless it is already.
    async fn watch(self: Arc<Self>, id: String) {
        if self.stopped().is_some() {
            return;
        }
        let bridge = self.bridges.lock().expect("bridges lock").get(&id).cloned();
        let inspect = match self
            .engine
            .json(Method::GET, &format!("/containers/{id}/json"), None)
            .await
        {
            Ok(inspect) => inspect,
            // Gone already: what it printed was attached to, if anything.
            Err(_) => match bridge
                .as_ref()
                .and_then(|b| b.inner.lock().expect("bridge lock").inspect.clone())
            {
                Some(inspect) => inspect,
                None => return,
            },
        };
        let tty = inspect["Config"]["Tty"].as_bool().unwrap_or(false);
        let since = {
            let mut live = self.live.lock().expect("recorder lock");
            let l = live.entry(id.clone()).or_default();
            if l.following {
                return;
            }
            l.following = true;
            fill_meta(&mut l.meta, &id, &inspect);
            l.meta.started = l.meta.started.or(Some(now_secs()));
            l.known = Some(inspect);
            self.save_meta(&id, &l.meta);
            l.resume()
        };
        tokio::spawn(self.clone().follow_log(id.clone(), tty, since));
        tokio::spawn(self.follow_stats(id));
    }

    /// Follows a container's log for as long as it runs: again from the
    /// last message when the follow ends early (it fell behind a burst the
    /// shared stream could not hold, or the engine cut it).
    async fn follow_log(self: Arc<Self>, id: String, tty: bool, mut since: String) {
        let mut got = 0usize;
        loop {
            got += self.follow_once(&id, tty, &since).await;
            let running = self
                .engine
                .json(Method::GET, &format!("/containers/{id}/json"), None)
                .await
                .is_ok_and(|i| i["State"]["Running"] == Value::Bool(true));
            if !running || self.stopped().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            let mut live = self.live.lock().expect("recorder lock");
            since = live.get_mut(&id).map_or("0".to_owned(), Live::resume);
        }
        // Nothing came from its log (it was removed before it could be
        // read): what it printed, as attached to.
        let bridge = self.bridges.lock().expect("bridges lock").remove(&id);
        if let Some(b) = bridge {
            let messages = b.messages(tty, Duration::from_secs(5)).await;
            b.close();
            if got == 0 {
                self.keep(&id, messages);
            }
        }
        if let Some(l) = self.live.lock().expect("recorder lock").get_mut(&id) {
            l.following = false;
        }
    }

    /// One follow of a container's log, until it ends; how many messages
    /// it brought.
    async fn follow_once(&self, id: &str, tty: bool, since: &str) -> usize {
        let (tx, mut rx) = mpsc::channel(256);
        let hub = self.hub.clone();
        let plan = Plan::logs(id, tty, since);
        let relay = tokio::spawn(async move { hub.relay(plan, tx).await });
        let mut units = Lines::new(tty);
        let mut got = 0usize;
        while let Some(item) = rx.recv().await {
            let Ok(bytes) = item else { break };
            let mut messages = Vec::new();
            units.push(&bytes, |stream, raw| messages.extend(message(stream, raw)));
            got += messages.len();
            self.keep(id, messages);
            // The log is followed: what is attached is not needed.
            if got > 0 {
                if let Some(b) = self.bridges.lock().expect("bridges lock").remove(id) {
                    b.close();
                }
            }
        }
        relay.abort();
        got
    }

    /// Keeps the container's latest stats sample while it runs.
    async fn follow_stats(self: Arc<Self>, id: String) {
        {
            let mut live = self.live.lock().expect("recorder lock");
            let Some(l) = live.get_mut(&id) else { return };
            if l.watching {
                return;
            }
            l.watching = true;
        }
        let (tx, mut rx) = mpsc::channel(16);
        let hub = self.hub.clone();
        let plan = Plan::stats(&id);
        let relay = tokio::spawn(async move { hub.relay(plan, tx).await });
        let mut line = Vec::new();
        while let Some(Ok(bytes)) = rx.recv().await {
            line.extend_from_slice(&bytes);
            while let Some(i) = line.iter().position(|b| *b == b'\n') {
                let sample: Vec<u8> = line.drain(..=i).collect();
                if let Ok(v) = serde_json::from_slice::<Value>(&sample) {
                    if let Some(l) = self.live.lock().expect("recorder lock").get_mut(&id) {
                        l.stats = Some(v);
                    }
                }
            }
        }
        relay.abort();
        if let Some(l) = self.live.lock().expect("recorder lock").get_mut(&id) {
            l.watching = false;
        }
    }

    /// Adds messages to a container's batch, skipping what it holds.
    fn keep(&self, id: &str, messages: Vec<Message>) {
        let mut live = self.live.lock().expect("recorder lock");
        let Some(l) = live.get_mut(id) else { return };
        for m in messages {
            if l.overlap.repeat(m.time, m.stream.letter(true), &m.bytes) {
                continue;
            }
            m.encode(&mut l.pending);
            l.note(&m);
        }
    }

    async fn flush_every_second(self: Arc<Self>) {
        loop {
            tokio::time::sleep(FLUSH).await;
            let me = self.clone();
            let _ = tokio::task::spawn_blocking(move || me.flush()).await;
        }
    }

    /// Writes every batch, then keeps the store within its cap.
    pub fn flush(&self) {
        let _writing = self.writing.lock().expect("writing lock");
        if self.stopped().is_some() {
            return;
        }
        let batches: Vec<(String, Vec<u8>, Meta)> = {
            let mut live = self.live.lock().expect("recorder lock");
            live.iter_mut()
                .filter(|(_, l)| !l.pending.is_empty())
                .map(|(id, l)| (id.clone(), std::mem::take(&mut l.pending), l.meta.clone()))
                .collect()
        };
        for (id, bytes, meta) in batches {
            let record = self.record(&id);
            let written = record
                .append(&bytes, store::segment_size(self.max))
                .and_then(|()| record.save_meta(&meta));
            if let Err(e) = written {
                self.stop(format!("cannot write {}: {e}", record.dir.display()));
                return;
            }
        }
        self.keep_within_cap();
    }

    /// Deletes the oldest segments while the store holds more than its cap;
    /// a removed container whose record is empty then goes whole.
    fn keep_within_cap(&self) {
        let mut all: Vec<(String, store::Segment)> = std::fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten()
            .flat_map(|e| {
                let id = e.file_name().to_string_lossy().into_owned();
                self.record(&id)
                    .segments()
                    .into_iter()
                    .map(move |s| (id.clone(), s))
            })
            .collect();
        let mut total: u64 = all.iter().map(|(_, s)| s.size).sum();
        if total <= self.max {
            return;
        }
        all.sort_by_key(|(_, s)| s.first);
        for (id, seg) in all {
            if total <= self.max {
                break;
            }
            if std::fs::remove_file(&seg.path).is_ok() {
                total = total.saturating_sub(seg.size);
                info!(container = %id, segment = %seg.path.display(), "the recorder's cap: oldest segment dropped");
            }
            let record = self.record(&id);
            let gone = record.segments().is_empty() && record.meta().is_none_or(|m| m.destroyed);
            if gone {
                let _ = std::fs::remove_dir_all(&record.dir);
                self.live.lock().expect("recorder lock").remove(&id);
            }
        }
    }

    /// The records, removed containers included.
    pub fn metas(&self) -> Vec<(Meta, u64)> {
        let live = self.live.lock().expect("recorder lock");
        live.iter()
            .map(|(id, l)| {
                (
                    l.meta.clone(),
                    self.record(id).bytes() + l.pending.len() as u64,
                )
            })
            .collect()
    }

    pub fn meta(&self, id: &str) -> Option<Meta> {
        self.live
            .lock()
            .expect("recorder lock")
            .get(id)
            .map(|l| l.meta.clone())
    }

    pub fn root(&self) -> &std::path::Path {
        &self.root
    }
}

/// Cuts what the engine sends into messages: frames of a multiplexed
/// stream, else lines.
struct Lines {
    mux: Option<MuxDecoder>,
    partial: Vec<u8>,
}

impl Lines {
    fn new(tty: bool) -> Lines {
        Lines {
            mux: (!tty).then(MuxDecoder::new),
            partial: Vec::new(),
        }
    }

    fn push(&mut self, bytes: &[u8], mut each: impl FnMut(Stream, &[u8])) {
        match &mut self.mux {
            Some(mux) => {
                mux.push(bytes);
                while let Some(Ok(f)) = mux.next_frame() {
                    let stream = if f.stream == StreamKind::Stderr {
                        Stream::Stderr
                    } else {
                        Stream::Stdout
                    };
                    each(stream, &f.payload);
                }
            }
            None => {
                self.partial.extend_from_slice(bytes);
                let mut start = 0;
                while let Some(i) = self.partial[start..].iter().position(|b| *b == b'\n') {
                    each(Stream::Tty, &self.partial[start..start + i + 1]);
                    start += i + 1;
                }
                self.partial.drain(..start);
            }
        }
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The container an event is about.
fn event_id(event: &Value) -> Option<&str> {
    event["Actor"]["ID"].as_str().or(event["id"].as_str())
}

/// A log message with its timestamp as the engine sends it.
fn message(stream: Stream, raw: &[u8]) -> Option<Message> {
    let (key, rest) = split_time(raw)?;
    Some(Message {
        time: nanos(&key)?,
        stream,
        bytes: rest.to_vec(),
    })
}

/// What a container's inspect says of it.
fn fill_meta(meta: &mut Meta, id: &str, inspect: &Value) {
    let labels = &inspect["Config"]["Labels"];
    let secs = |v: &Value| {
        v.as_str()
            .and_then(|t| split_time(format!("{t} ").as_bytes()).map(|(k, _)| k))
            .and_then(|k| nanos(&k))
            .map(|ns| ns / 1_000_000_000)
            .filter(|s| *s > 0)
    };
    meta.id = id.to_owned();
    meta.name = inspect["Name"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_owned();
    meta.image = inspect["Config"]["Image"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    meta.project = labels["com.docker.compose.project"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    meta.service = labels["com.docker.compose.service"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    meta.tty = inspect["Config"]["Tty"].as_bool().unwrap_or(false);
    meta.created = secs(&inspect["Created"]).unwrap_or_default();
    meta.started = secs(&inspect["State"]["StartedAt"]).or(meta.started);
}

/// `1G`, `512M`, `100k`, or plain bytes.
pub fn size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (n, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{text:?}: a size is like 1G, 512M or 100k"))?;
    let unit = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => return Err(format!("{text:?}: a size is like 1G, 512M or 100k")),
    };
    Ok(n * unit)
}

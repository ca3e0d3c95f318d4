//! Reading the recorder: `/_berth/history` (the records), one record, its
//! log as the engine's logs endpoint sends one, and `/_berth/search`.

use std::collections::{HashMap, VecDeque};

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_engine::logline::{nanos, rfc3339, split_time};
use berth_engine::mux::{self, StreamKind};
use berth_engine::relay::{HistoryEntry, SearchHit, RECORDER_OFF};
use serde_json::Value;

use super::search;
use super::store::{Message, Meta, Record, Stream};
use super::Recorder;
use crate::error::Refused;
use crate::AppState;

/// The most matches one search returns.
const MAX_HITS: usize = 100_000;

/// A record as the history documents it: its meta, with whether it runs
/// and what its log takes.
fn entry(mut meta: Meta, bytes: u64) -> HistoryEntry {
    meta.running = !meta.destroyed
        && meta
            .died
            .is_none_or(|d| meta.started.is_some_and(|s| s > d));
    meta.bytes = bytes;
    meta
}

fn recorder(state: &AppState) -> Result<&std::sync::Arc<Recorder>, Refused> {
    state
        .recorder
        .as_ref()
        .ok_or_else(|| Refused::new(StatusCode::NOT_FOUND, RECORDER_OFF))
}

/// Every record, removed containers' included, the most recent first.
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<HistoryEntry>>, Refused> {
    let mut all: Vec<HistoryEntry> = recorder(&state)?
        .metas()
        .into_iter()
        .map(|(mut meta, bytes)| {
            meta.inspect = None;
            meta.stats = None;
            entry(meta, bytes)
        })
        .collect();
    let recent = |e: &HistoryEntry| e.died.max(e.started).unwrap_or(e.created);
    all.sort_by_key(|e| std::cmp::Reverse(recent(e)));
    Ok(Json(all))
}

/// The record `key` names: a full id, an id's unique prefix, or a name
/// (its most recent container).
fn find(rec: &Recorder, key: &str) -> Result<Meta, Refused> {
    let metas = rec.metas();
    if let Some((m, _)) = metas.iter().find(|(m, _)| m.id == key) {
        return Ok(m.clone());
    }
    let named = metas
        .iter()
        .filter(|(m, _)| m.name == key)
        .max_by_key(|(m, _)| m.created);
    if let Some((m, _)) = named {
        return Ok(m.clone());
    }
    let prefixed: Vec<&Meta> = metas
        .iter()
        .map(|(m, _)| m)
        .filter(|m| !key.is_empty() && m.id.starts_with(key))
        .collect();
    match prefixed[..] {
        [m] => Ok(m.clone()),
        [] => Err(Refused::new(
            StatusCode::NOT_FOUND,
            format!("the recorder has no container {key:?}"),
        )),
        _ => Err(Refused::new(
            StatusCode::BAD_REQUEST,
            format!("{key:?} is the start of more than one recorded container's id"),
        )),
    }
}

/// One record, with the inspect and stats it kept at its death.
pub async fn one(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<HistoryEntry>, Refused> {
    let rec = recorder(&state)?;
    let meta = find(rec, &key)?;
    let bytes = Record::new(rec.root(), &meta.id).bytes();
    Ok(Json(entry(meta, bytes)))
}

/// A boolean query parameter as the engine reads one (moby's
/// `httputils.BoolValue`).
fn truthy(params: &HashMap<String, String>, key: &str) -> bool {
    params.get(key).is_some_and(|v| {
        !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "" | "0" | "no" | "false" | "none"
        )
    })
}

/// A time as the engine's logs endpoint takes one (`SECONDS[.FRACTION]`),
/// or RFC 3339; 0 or absent is no bound.
fn time(params: &HashMap<String, String>, key: &str) -> Result<Option<i64>, Refused> {
    let Some(v) = params.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let bad = || {
        Refused::new(
            StatusCode::BAD_REQUEST,
            format!("{key}={v:?}: a time is seconds since the epoch (1700000000.5) or RFC 3339"),
        )
    };
    if v.contains('-') || v.contains('T') {
        let (k, _) = split_time(format!("{v} ").as_bytes()).ok_or_else(bad)?;
        return nanos(&k).map(Some).ok_or_else(bad);
    }
    let (secs, frac) = v.split_once('.').unwrap_or((v, ""));
    let secs: i64 = secs.parse().map_err(|_| bad())?;
    let frac: i64 = if frac.is_empty() {
        0
    } else if frac.len() <= 9 && frac.bytes().all(|b| b.is_ascii_digit()) {
        format!("{frac:0<9}").parse().map_err(|_| bad())?
    } else {
        return Err(bad());
    };
    let ns = secs.saturating_mul(1_000_000_000).saturating_add(frac);
    Ok((ns != 0).then_some(ns))
}

/// A record's log with the engine's parameters (`stdout`, `stderr`,
/// `since`, `until`, `timestamps`, `tail`) in the engine's format:
/// multiplexed frames, or the raw stream of a TTY. It ends at the record's
/// end (`follow` is taken, and has nothing more to wait for).
pub async fn logs(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, Refused> {
    let rec = recorder(&state)?;
    let meta = find(rec, &key)?;
    let (stdout, stderr) = (truthy(&params, "stdout"), truthy(&params, "stderr"));
    if !stdout && !stderr {
        // The engine's words.
        return Err(Refused::new(
            StatusCode::BAD_REQUEST,
            "Bad parameters: you must choose at least one stream".to_owned(),
        ));
    }
    let since = time(&params, "since")?.unwrap_or(i64::MIN);
    let until = time(&params, "until")?.unwrap_or(i64::MAX);
    let stamps = truthy(&params, "timestamps");
    let tail = match params.get("tail").map(|t| t.trim()) {
        None | Some("" | "all") => None,
        Some(n) => n.parse::<i64>().ok().and_then(|n| usize::try_from(n).ok()),
    };
    let record = Record::new(rec.root(), &meta.id);
    let tty = meta.tty;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(8);
    tokio::task::spawn_blocking(move || {
        let wanted = |m: &Message| match m.stream {
            Stream::Stderr => stderr,
            _ => stdout,
        };
        let frame = |m: Message, out: &mut Vec<u8>| {
            let mut payload = Vec::with_capacity(m.bytes.len() + 32);
            if stamps {
                payload.extend_from_slice(rfc3339(m.time).as_bytes());
                payload.push(b' ');
            }
            payload.extend_from_slice(&m.bytes);
            if tty {
                out.extend_from_slice(&payload);
            } else {
                let kind = if m.stream == Stream::Stderr {
                    StreamKind::Stderr
                } else {
                    StreamKind::Stdout
                };
                out.extend_from_slice(&mux::encode(kind, &payload));
            }
        };
        let mut out = Vec::with_capacity(64 * 1024);
        let read = match tail {
            // As the engine's json-file driver: the last `n` messages of
            // the whole log, then the window and the streams.
            Some(n) => {
                let mut last = VecDeque::with_capacity(n.min(100_000));
                let read = record.read(i64::MIN, i64::MAX, |m| {
                    if n > 0 {
                        if last.len() == n {
                            last.pop_front();
                        }
                        last.push_back(m);
                    }
                    true
                });
                for m in last {
                    if wanted(&m) && (since..=until).contains(&m.time) {
                        frame(m, &mut out);
                    }
                }
                read
            }
            None => record.read(since, until, |m| {
                if wanted(&m) {
                    frame(m, &mut out);
                    if out.len() >= 64 * 1024 {
                        let full = std::mem::replace(&mut out, Vec::with_capacity(64 * 1024));
                        return tx.blocking_send(Ok(full)).is_ok();
                    }
                }
                true
            }),
        };
        if !out.is_empty() {
            let _ = tx.blocking_send(Ok(out));
        }
        if let Err(e) = read {
            let _ = tx.blocking_send(Err(e));
        }
    });
    let kind = if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    };
    let body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|piece| (piece, rx))
    }));
    Ok(([(header::CONTENT_TYPE, kind)], body).into_response())
}

/// `/_berth/search?q=REGEX&since=&until=&container=&project=&limit=`: the
/// matching messages of every record, in time order, as JSON lines
/// `{container, id, time, stream, line}`.
pub async fn search(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, Refused> {
    let rec = recorder(&state)?.clone();
    let q = params.get("q").map(String::as_str).unwrap_or_default();
    if q.is_empty() {
        return Err(Refused::new(
            StatusCode::BAD_REQUEST,
            "search needs q, a regular expression".to_owned(),
        ));
    }
    let regex = regex::bytes::RegexBuilder::new(q)
        .size_limit(16 << 20)
        .build()
        .map_err(|e| Refused::new(StatusCode::BAD_REQUEST, format!("q={q:?}: {e}")))?;
    let limit = match params.get("limit").filter(|l| !l.is_empty()) {
        None => 1000,
        Some(l) => l
            .parse::<usize>()
            .map_err(|_| {
                Refused::new(StatusCode::BAD_REQUEST, format!("limit={l:?}: not a count"))
            })?
            .min(MAX_HITS),
    };
    let query = search::Query {
        regex,
        since: time(&params, "since")?.unwrap_or(i64::MIN),
        until: time(&params, "until")?.unwrap_or(i64::MAX),
        container: params.get("container").filter(|c| !c.is_empty()).cloned(),
        project: params.get("project").filter(|p| !p.is_empty()).cloned(),
        limit,
    };
    let hits = tokio::task::spawn_blocking(move || {
        rec.flush();
        let metas: Vec<Meta> = rec.metas().into_iter().map(|(m, _)| m).collect();
        search::search(rec.root(), &metas, &query)
    })
    .await
    .map_err(|e| {
        Refused::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("search failed: {e}"),
        )
    })?;
    let lines = hits.into_iter().map(|h: SearchHit| {
        let mut line = serde_json::to_vec(&h).unwrap_or_default();
        line.push(b'\n');
        Ok::<_, std::convert::Infallible>(line)
    });
    let body = Body::from_stream(futures_util::stream::iter(lines));
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}

/// What `/_berth/health` says of the recorder.
pub fn health(state: &AppState) -> Value {
    match &state.recorder {
        None => Value::String("off".into()),
        Some(rec) => match rec.stopped() {
            None => Value::String("recording".into()),
            Some(why) => Value::String(format!("stopped: {why}")),
        },
    }
}

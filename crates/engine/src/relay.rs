//! What the relay and the console must agree on about the relay's own
//! endpoints, under `/_berth` (a prefix no Engine API path uses): their
//! paths, the config document, tickets, the terminals' messages, the
//! flight recorder's documents and calls. The fan-in's framing is
//! [`crate::fanin`].

use serde::{Deserialize, Serialize};

use crate::endpoints::{component, Endpoint, JsonStream, LogsOptions, Method, Multiplexed, Query};

/// The relay's own prefix.
pub const PREFIX: &str = "/_berth";
/// `GET`: always 200 while the relay serves; says whether the engine answers.
pub const HEALTH: &str = "/_berth/health";
/// `GET`: a [`Config`].
pub const CONFIG: &str = "/_berth/config";
/// `POST`: a [`Ticket`], for a WebSocket or a download link (neither can
/// carry the token).
pub const TICKETS: &str = "/_berth/tickets";
/// `GET ?s=<engine path>&s=…`: several engine streams in one response.
pub const FANIN: &str = "/_berth/fanin";
/// `GET ?ticket=…&path=<engine path>&name=…`: one engine GET as a download.
pub const DOWNLOAD: &str = "/_berth/download";

/// Terminal sessions: `POST` an [`Open`] to start one (a [`Session`]
/// comes back), `GET ?container=<id>` lists a container's, `DELETE
/// /_berth/sessions/{id}` ends one. A session belongs to the relay, not to
/// the page that opened it: pages join and leave it by WebSocket.
pub const SESSIONS: &str = "/_berth/sessions";
/// The flight recorder's records (`/{id}`, `/{id}/logs`).
pub const HISTORY: &str = "/_berth/history";
/// One search across every record.
pub const SEARCH: &str = "/_berth/search";
/// Why the recorder's endpoints answer 404 when berth runs without
/// `--record` (the message, after the relay's `berth: `): the console
/// tells that apart from a record that does not exist, and says how to
/// turn the recorder on.
pub const RECORDER_OFF: &str = "the flight recorder is off (start berth with --record DIR)";

/// A session's WebSocket, as the relay's router writes it (below
/// [`PREFIX`]) and as the console opens it.
pub mod ws {
    use super::Mode;

    /// `GET /_berth/sessions/{id}/ws?ticket=…&mode=write|watch`.
    pub const SESSION_ROUTE: &str = "/sessions/{id}/ws";

    pub fn session(id: &str, ticket: &str, mode: Mode) -> String {
        format!(
            "/_berth/sessions/{id}/ws?ticket={ticket}&mode={}",
            mode.as_str()
        )
    }

    /// Whether `path` is a session's WebSocket (it takes a ticket: the
    /// token check leaves it be).
    pub fn is_session(path: &str) -> bool {
        path.strip_prefix("/_berth/sessions/")
            .and_then(|rest| rest.strip_suffix("/ws"))
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
    }
}

/// What to start a session on: an exec made through the API (`exec`), or
/// a container's main process (`attach`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Open {
    Exec(String),
    Attach(String),
}

/// How a page joins a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Sees the output and types.
    Write,
    /// Sees the output only.
    Watch,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Write => "write",
            Mode::Watch => "watch",
        }
    }
}

/// A terminal session the relay holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    /// The container's full id.
    pub container: String,
    /// What runs: the exec's command, or `attach`.
    pub command: String,
    pub attach: bool,
    pub tty: bool,
    /// Who opened it: `token`, `certificate`, or `local`.
    pub owner: String,
    /// Seconds since the epoch.
    pub started: i64,
    /// Seconds since its last input or output.
    pub idle: u64,
    /// Pages joined now.
    pub viewers: usize,
}

/// The Engine routes the fan-in carries: streams a page may need many of.
pub const FANIN_ROUTES: &[&str] = &[
    "/containers/{name:.*}/logs",
    "/containers/{name:.*}/stats",
    "/services/{id}/logs",
    "/tasks/{id}/logs",
    "/events",
];

/// The Engine routes a download saves: archives of a container's or an
/// image's files.
pub const DOWNLOAD_ROUTES: &[&str] = &[
    "/containers/{name:.*}/export",
    "/containers/{name:.*}/archive",
    "/images/get",
    "/images/{name:.*}/get",
];

/// What the relay tells the console about itself ([`CONFIG`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// The relay's version.
    pub version: String,
    /// The engine it relays to, as an address.
    pub engine: String,
    /// Whether callers need a token.
    pub auth: Auth,
    pub policy: PolicyDoc,
    /// Whether the guard reads what requests ask the engine to create
    /// (on whenever the policy is not `full`).
    pub guard: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    None,
    Token,
}

/// A policy as text: [`crate::Policy::parse`] reads it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyDoc {
    pub name: String,
    pub rules: String,
}

/// A single-use ticket ([`TICKETS`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub ticket: String,
    /// Seconds it stays good.
    pub expires_in: u64,
}

/// A terminal's control messages, sent as WebSocket text (the bytes go as
/// binary messages: on joining, the session's last output first). From
/// the console: `resize` and `eof` (stdin ends, output keeps coming:
/// closing a WebSocket can't say that). From the relay, last: `exit`
/// (`code` null when the engine could not tell, or the session was ended).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Control {
    Resize { rows: u32, cols: u32 },
    Eof,
    Exit { code: Option<i64> },
}

impl Control {
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("control messages serialize")
    }
}

/// One container's record, as [`HISTORY`] lists them (the most recent
/// first, removed containers included; without `inspect` and `stats`) and
/// as `HISTORY/{id}` gives one (with them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// The container's full id.
    pub id: String,
    pub name: String,
    pub image: String,
    /// The compose project and service, from its labels (empty when none).
    pub project: String,
    pub service: String,
    pub tty: bool,
    /// Seconds since the epoch.
    pub created: i64,
    /// When it last started, and last died (seconds since the epoch).
    pub started: Option<i64>,
    pub died: Option<i64>,
    pub exit_code: Option<i64>,
    /// The kernel killed it for memory.
    pub oom: bool,
    /// Its health turned unhealthy at least once.
    pub unhealthy: bool,
    /// The engine removed it.
    pub destroyed: bool,
    /// Its inspect at its death, environment values replaced by `…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspect: Option<serde_json::Value>,
    /// Its last stats sample before it died (the engine's stats document).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<serde_json::Value>,
    /// The time of its last message recorded (nanoseconds since the epoch).
    pub last: Option<i64>,
    /// Not removed, and not dead since it last started (a container
    /// created and never started counts).
    #[serde(default)]
    pub running: bool,
    /// The bytes its log takes on disk.
    #[serde(default)]
    pub bytes: u64,
}

/// Which stream a recorded message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    Stdout,
    Stderr,
    /// A TTY's output (one stream).
    Tty,
}

/// One match of a search: [`SEARCH`] streams them as JSON lines, oldest
/// first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The container's name.
    pub container: String,
    /// Its full id: the record to open.
    pub id: String,
    /// Nanoseconds since the epoch.
    pub time: i64,
    pub stream: LogStream,
    /// The message, without its newline.
    pub line: String,
}

/// What to search for: a regular expression (Rust's `regex` syntax) over
/// every record's messages, within a window, by container or project.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    pub q: String,
    /// Seconds since the epoch.
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// A container's name or the start of its id.
    pub container: Option<String>,
    /// A compose project.
    pub project: Option<String>,
    /// The most matches (the relay's default is 1000).
    pub limit: Option<usize>,
}

/// The recorder's records, the most recent first.
pub fn history() -> Endpoint<Vec<HistoryEntry>> {
    Endpoint::new(Method::Get, HISTORY.to_owned())
}

/// One record (a full id, the start of one, or a name: its most recent
/// container), with its final inspect and stats.
pub fn history_entry(key: &str) -> Endpoint<HistoryEntry> {
    Endpoint::new(Method::Get, format!("{HISTORY}/{}", component(key)))
}

/// A record's log, with the engine's logs parameters, in the engine's
/// format (multiplexed, or raw for a TTY). It ends where the record does.
pub fn history_logs(key: &str, opts: &LogsOptions) -> Endpoint<Multiplexed> {
    Endpoint::new(
        Method::Get,
        format!("{HISTORY}/{}/logs{}", component(key), opts.query()),
    )
}

/// Every record searched.
pub fn search(query: &SearchQuery) -> Endpoint<JsonStream<SearchHit>> {
    let mut q = Query::default();
    q.pair("q", &query.q);
    q.opt("since", query.since);
    q.opt("until", query.until);
    q.opt("container", query.container.as_deref());
    q.opt("project", query.project.as_deref());
    q.opt("limit", query.limit);
    Endpoint::new(Method::Get, format!("{SEARCH}{q}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_messages_as_the_wire_has_them() {
        assert_eq!(
            Control::Resize { rows: 24, cols: 80 }.to_text(),
            r#"{"type":"resize","rows":24,"cols":80}"#
        );
        assert_eq!(Control::Eof.to_text(), r#"{"type":"eof"}"#);
        assert_eq!(
            serde_json::from_str::<Control>(r#"{"type":"exit","code":3}"#).unwrap(),
            Control::Exit { code: Some(3) }
        );
        assert_eq!(
            serde_json::from_str::<Control>(r#"{"type":"exit","code":null}"#).unwrap(),
            Control::Exit { code: None }
        );
    }

    #[test]
    fn session_websockets_are_known_by_their_path() {
        assert_eq!(
            ws::session("ab12", "t", Mode::Watch),
            "/_berth/sessions/ab12/ws?ticket=t&mode=watch"
        );
        assert!(ws::is_session("/_berth/sessions/ab12/ws"));
        assert!(!ws::is_session("/_berth/sessions/ab12"));
        assert!(!ws::is_session("/_berth/sessions/a/b/ws"));
        assert_eq!(
            serde_json::to_string(&Open::Exec("e1".into())).unwrap(),
            r#"{"exec":"e1"}"#
        );
    }

    #[test]
    fn the_recorder_documents_as_the_wire_has_them() {
        let text = r#"{"id":"ab12","name":"web-1","image":"busybox","project":"shop","service":"web","tty":false,"created":1700000000,"started":1700000001,"died":1700000061,"exitCode":137,"oom":true,"unhealthy":false,"destroyed":true,"last":1700000060500000000,"running":false,"bytes":42}"#;
        let e: HistoryEntry = serde_json::from_str(text).unwrap();
        assert_eq!(
            (e.exit_code, e.oom, e.destroyed, e.inspect.is_none()),
            (Some(137), true, true, true)
        );
        assert_eq!(serde_json::to_string(&e).unwrap(), text);
        let hit = r#"{"container":"web-1","id":"ab12","time":1700000060500000000,"stream":"stderr","line":"boom"}"#;
        let h: SearchHit = serde_json::from_str(hit).unwrap();
        assert_eq!(h.stream, LogStream::Stderr);
        assert_eq!(serde_json::to_string(&h).unwrap(), hit);
    }

    #[test]
    fn the_recorder_calls_escape_what_they_carry() {
        assert_eq!(history().path, "/_berth/history");
        assert_eq!(history_entry("web/1").path, "/_berth/history/web%2F1");
        let opts = LogsOptions {
            stdout: true,
            stderr: true,
            timestamps: true,
            since: Some(10),
            until: Some(70),
            ..LogsOptions::default()
        };
        assert_eq!(
            history_logs("ab12", &opts).path,
            "/_berth/history/ab12/logs?stdout=1&stderr=1&timestamps=1&since=10&until=70"
        );
        let q = SearchQuery {
            q: "^err [24]$".into(),
            container: Some("web-1".into()),
            ..SearchQuery::default()
        };
        assert_eq!(
            search(&q).path,
            "/_berth/search?q=%5Eerr%20%5B24%5D%24&container=web-1"
        );
    }

    #[test]
    fn the_config_document_round_trips() {
        let c = Config {
            version: "0.1.0".into(),
            engine: "unix:///var/run/docker.sock".into(),
            auth: Auth::Token,
            policy: PolicyDoc {
                name: "read-only".into(),
                rules: crate::policy::READ_ONLY.into(),
            },
            guard: true,
        };
        let text = serde_json::to_string(&c).unwrap();
        assert!(text.contains(r#""auth":"token""#), "{text}");
        assert_eq!(serde_json::from_str::<Config>(&text).unwrap(), c);
        let t: Ticket = serde_json::from_str(r#"{"ticket":"ab","expiresIn":30}"#).unwrap();
        assert_eq!(t.expires_in, 30);
    }
}

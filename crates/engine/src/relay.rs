//! What the relay and the console must agree on about the relay's own
//! endpoints, under `/_berth` (a prefix no Engine API path uses): their
//! paths, the config document, tickets, the terminals' messages. The
//! fan-in's framing is [`crate::fanin`].

use serde::{Deserialize, Serialize};

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

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

/// The terminals' WebSockets, as the relay's router writes them (below
/// [`PREFIX`]) and as the console opens them.
pub mod ws {
    /// `GET /_berth/exec/{exec id}/ws?ticket=…`: starts an exec.
    pub const EXEC_ROUTE: &str = "/exec/{id}/ws";
    /// `GET /_berth/attach/{container}/ws?ticket=…`: attaches.
    pub const ATTACH_ROUTE: &str = "/attach/{id}/ws";
    /// What the token check leaves to the ticket.
    pub const PREFIXES: [&str; 2] = ["/_berth/exec/", "/_berth/attach/"];

    pub fn exec(id: &str, ticket: &str) -> String {
        format!("/_berth/exec/{id}/ws?ticket={ticket}")
    }

    pub fn attach(container: &str, ticket: &str) -> String {
        format!("/_berth/attach/{container}/ws?ticket={ticket}")
    }
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
/// binary messages). From the console: `resize` and `eof` (stdin ends,
/// output keeps coming: closing a WebSocket can't say that). From the
/// relay, last: `exit` (`code` null when the engine could not tell).
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

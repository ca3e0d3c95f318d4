//! The relay's own endpoints, under `/_berth`, a prefix no Engine API path
//! uses.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use berth_engine::relay;
use serde_json::{json, Value};

use crate::AppState;

/// A path of [`relay`] as the router nested under its prefix sees it.
fn own(path: &str) -> &str {
    &path[relay::PREFIX.len()..]
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(own(relay::HEALTH), get(health))
        .route(own(relay::CONFIG), get(config))
        .route(own(relay::TICKETS), post(ticket))
        .route(relay::ws::EXEC_ROUTE, get(crate::bridge::exec))
        .route(relay::ws::ATTACH_ROUTE, get(crate::bridge::attach))
        .route(own(relay::FANIN), get(crate::fanin::fanin))
        .route(own(relay::DOWNLOAD), get(crate::fanin::download))
        // Nothing under /_berth is the engine's.
        .fallback(|uri: axum::http::Uri| async move {
            crate::error::refuse(
                axum::http::StatusCode::NOT_FOUND,
                format!(
                    "the relay has no {} (paths under /_berth/ are its own)",
                    uri.path()
                ),
            )
        })
}

/// Always 200 while the relay serves; says whether the engine answers,
/// and how many connections and shared streams it holds to it.
async fn health(State(state): State<AppState>) -> Json<Value> {
    let engine = match state.engine.ping().await {
        Ok(()) => "ok".to_owned(),
        Err(e) => e.to_string(),
    };
    Json(json!({
        "relay": "ok",
        "engine": engine,
        "engineConnections": state.engine.open_connections(),
        "engineStreams": state.engine.open_streams(),
        "sharedStreams": state.hub.open_streams(),
    }))
}

/// What the console needs to know about the relay that served it.
async fn config(State(state): State<AppState>) -> Json<relay::Config> {
    Json(relay::Config {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        engine: state.engine.addr.to_string(),
        auth: if state.access.requires_token() {
            relay::Auth::Token
        } else {
            relay::Auth::None
        },
        policy: relay::PolicyDoc {
            name: state.gate.policy.name.clone(),
            rules: state.gate.policy.to_text(),
        },
        guard: state.gate.guard.is_some(),
    })
}

/// A single-use ticket for one WebSocket, for a caller that passed the
/// token and Origin checks.
async fn ticket(State(state): State<AppState>) -> Json<relay::Ticket> {
    Json(relay::Ticket {
        ticket: state.access.issue_ticket(),
        expires_in: crate::access::TICKET_LIFETIME.as_secs(),
    })
}

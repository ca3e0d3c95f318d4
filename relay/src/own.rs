//! The relay's own endpoints, under `/_berth`, a prefix no Engine API path
//! uses.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/config", get(config))
        .route("/tickets", post(ticket))
        .route("/exec/{id}/ws", get(crate::bridge::exec))
        .route("/attach/{id}/ws", get(crate::bridge::attach))
        .route("/fanin", get(crate::fanin::fanin))
        .route("/download", get(crate::fanin::download))
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

/// Always 200 while the relay serves; says whether the engine answers.
async fn health(State(state): State<AppState>) -> Json<Value> {
    let engine = match state.engine.ping().await {
        Ok(()) => "ok".to_owned(),
        Err(e) => e.to_string(),
    };
    Json(json!({ "relay": "ok", "engine": engine }))
}

/// What the console needs to know about the relay that served it.
async fn config(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "engine": state.engine.addr.to_string(),
        "auth": if state.access.requires_token() { "token" } else { "none" },
        "policy": { "name": state.gate.policy.name, "rules": state.gate.policy.to_text() },
        "guard": state.gate.guard.is_some(),
    }))
}

/// A single-use ticket for one WebSocket, for a caller that passed the
/// token and Origin checks.
async fn ticket(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "ticket": state.access.issue_ticket(),
        "expiresIn": crate::access::TICKET_LIFETIME.as_secs(),
    }))
}

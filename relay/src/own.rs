//! The relay's own endpoints, under `/_berth`, a prefix no Engine API path
//! uses.

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use berth_engine::relay;
use serde_json::{json, Value};

use crate::recorder::api as recorder;
use crate::AppState;

/// A path of [`relay`] as the router nested under its prefix sees it.
fn own(path: &str) -> &str {
    &path[relay::PREFIX.len()..]
}

pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route(own(relay::HEALTH), get(health))
        .route(own(relay::CONFIG), get(config))
        .route(own(relay::TICKETS), post(ticket))
        .route(
            own(relay::SESSIONS),
            post(crate::sessions::open).get(crate::sessions::list),
        )
        .route(
            &format!("{}/{{id}}", own(relay::SESSIONS)),
            delete(crate::sessions::end),
        )
        .route(relay::ws::SESSION_ROUTE, get(crate::sessions::join))
        .route(own(relay::FANIN), get(crate::fanin::fanin))
        .route(own(relay::DOWNLOAD), get(crate::fanin::download))
        .merge(
            Router::new()
                .route(own(relay::HISTORY), get(recorder::list))
                .route(
                    &format!("{}/{{id}}", own(relay::HISTORY)),
                    get(recorder::one),
                )
                .route(
                    &format!("{}/{{id}}/logs", own(relay::HISTORY)),
                    get(recorder::logs),
                )
                .route(own(relay::SEARCH), get(recorder::search))
                .route_layer(middleware::from_fn_with_state(state, policed)),
        )
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
        "recorder": recorder::health(&state),
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

/// The relay's routes that rules speak of (the recorder's) go through the
/// policy as the engine's do.
async fn policed(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    // The router nested under the prefix sees the path without it.
    let full = if path.starts_with(relay::PREFIX) {
        path.to_owned()
    } else {
        format!("{}{path}", relay::PREFIX)
    };
    match state.gate.admit_relay(req.method().as_str(), &full) {
        Ok(()) => next.run(req).await,
        Err(refused) => refused.into_response(),
    }
}

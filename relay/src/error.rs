//! Errors the relay itself answers, in the engine's own format
//! (`{"message": …}`) so the docker CLI and the console show them as is.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("cannot reach the Docker engine at {engine}: {reason}")]
    Unreachable { engine: String, reason: String },
    #[error("the Docker engine at {engine} failed to answer: {reason}")]
    Upstream { engine: String, reason: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("a token is required (Authorization: Bearer …); it is missing or wrong")]
    Unauthorized,
}

impl RelayError {
    pub fn status(&self) -> StatusCode {
        match self {
            RelayError::Unreachable { .. } | RelayError::Upstream { .. } => StatusCode::BAD_GATEWAY,
            RelayError::BadRequest(_) => StatusCode::BAD_REQUEST,
            RelayError::Unauthorized => StatusCode::UNAUTHORIZED,
        }
    }
}

impl IntoResponse for RelayError {
    fn into_response(self) -> Response {
        refuse(self.status(), self)
    }
}

/// An answer of the relay's own in the engine's error format, which the
/// docker CLI prints as `Error response from daemon: berth: …`.
pub fn refuse(status: StatusCode, message: impl std::fmt::Display) -> Response {
    let body = serde_json::json!({ "message": format!("berth: {message}") });
    (status, Json(body)).into_response()
}

/// A request the relay turns away: its status and why, in words.
#[derive(Debug)]
pub struct Refused {
    pub status: StatusCode,
    pub message: String,
}

impl Refused {
    pub fn new(status: StatusCode, message: impl std::fmt::Display) -> Refused {
        Refused {
            status,
            message: message.to_string(),
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        refuse(self.status, self.message)
    }
}

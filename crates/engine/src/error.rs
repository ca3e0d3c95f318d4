//! Engine errors in words.

use bollard_stubs::models::ErrorResponse;

/// An error the engine (or the relay, which answers in the engine's format)
/// returned: the HTTP status and the message to show a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EngineError {
    pub status: u16,
    pub message: String,
}

impl EngineError {
    /// Builds the error from a non-2xx response's status and body.
    pub fn from_response(status: u16, body: &[u8]) -> Self {
        EngineError {
            status,
            message: error_message(status, body),
        }
    }
}

/// The words to show for an error response: the engine's `message` when the
/// body is the engine's JSON error, else the body as text, else the status.
pub fn error_message(status: u16, body: &[u8]) -> String {
    if let Ok(err) = serde_json::from_slice::<ErrorResponse>(body) {
        if !err.message.trim().is_empty() {
            return err.message.trim().to_owned();
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        format!("the engine answered HTTP {status} with no explanation")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_the_engine_message() {
        let body = br#"{"message":"No such container: nope"}"#;
        let err = EngineError::from_response(404, body);
        assert_eq!(err.message, "No such container: nope");
        assert_eq!(err.to_string(), "No such container: nope");
    }

    #[test]
    fn falls_back_to_text_then_status() {
        assert_eq!(error_message(404, b"page not found\n"), "page not found");
        assert_eq!(
            error_message(500, b""),
            "the engine answered HTTP 500 with no explanation"
        );
    }
}

//! Errors, and the one place they are mapped to the wire and to HTTP.

use axum::http::StatusCode;
use tafel_protocol::ErrorCode;

/// Why the room refused a command or a join. Carries the stable code the client sees and a
/// human message. Internal causes are logged where they happen and never put in `message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct Refusal {
    /// The code sent to the client.
    pub code: ErrorCode,
    /// The English message sent to the client.
    pub message: String,
}

impl Refusal {
    /// A refusal with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// The HTTP status that goes with this refusal's code.
    pub fn status(&self) -> StatusCode {
        use ErrorCode::*;
        match self.code {
            SessionNotFound | UnknownCard | UnknownRound | UnknownParticipant | UnknownRule
            | UnknownReport => StatusCode::NOT_FOUND,
            TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            Forbidden | BadToken => StatusCode::FORBIDDEN,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
            SessionLocked | SessionEnded | SessionFull | RoundOpen | RoundClosed | NoTurn
            | QueueEmpty | FloorPaused | ReportClosed => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// Shorthand constructors, so rules read like sentences: `return Err(forbidden("…"))`.
pub fn refuse(code: ErrorCode, message: impl Into<String>) -> Refusal {
    Refusal::new(code, message)
}

/// A failure of the storage layer. Rooms treat it as fatal for their in-memory state.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database reported an error.
    #[error("database: {0}")]
    Db(String),
    /// A stored value could not be decoded.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The storage thread is gone (shutting down).
    #[error("storage is closed")]
    Closed,
    /// A session with this code already exists.
    #[error("session code already taken")]
    Conflict,
}

impl From<StorageError> for Refusal {
    fn from(err: StorageError) -> Self {
        tracing::error!(error = %err, "storage failed");
        Refusal::new(
            ErrorCode::Internal,
            "the server could not store this; nothing changed, try again",
        )
    }
}

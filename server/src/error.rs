//! The errors every layer shares: a refusal (what a client is told, with its stable code) and
//! a storage failure. How they map to HTTP is the HTTP layer's business (`http.rs`); the
//! session core and the room have typed errors of their own.

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
    /// The command's field the refusal is about (`budget`, `text`, …), when it is about one:
    /// lets a client say which of a form's fields to fix.
    pub field: Option<&'static str>,
}

impl Refusal {
    /// A refusal with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// The same refusal, about one field of the command.
    pub fn on(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }
}

/// A refusal, as whatever error type the caller returns (a [`Refusal`] itself, or an error
/// that wraps one), so rules read like sentences: `return Err(refuse(Forbidden, "…"))`.
pub fn refuse<E: From<Refusal>>(code: ErrorCode, message: impl Into<String>) -> E {
    Refusal::new(code, message).into()
}

/// A refusal about one field of the command (`refuse` with the field named).
pub fn refuse_on<E: From<Refusal>>(
    code: ErrorCode,
    field: &'static str,
    message: impl Into<String>,
) -> E {
    Refusal::new(code, message).on(field).into()
}

/// A failure of the storage layer. Rooms treat it as fatal for their in-memory state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    /// Something is already taken: a session's code, or a change's sequence number. Nothing
    /// was overwritten.
    #[error("already taken: {0}")]
    Conflict(String),
    /// A write for a session that does not exist.
    #[error("no session {0}")]
    UnknownSession(String),
    /// A write whose fence is not the session's lease: another node owns the session now.
    /// Nothing was written.
    #[error("fenced off: {0}")]
    Fenced(String),
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

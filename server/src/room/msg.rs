//! What connections and the HTTP layer say to a room, and how they reach it.

use crate::error::Refusal;
use crate::secrets::TokenHash;
use axum::extract::ws::Utf8Bytes;
use std::sync::Arc;
use std::time::Duration;
use tafel_protocol::{Command, Perspective, Role, SessionInfo};
use tokio::sync::{mpsc, oneshot};

/// Identifies a connection, process-wide.
pub type ConnId = u64;

/// Where a room sends a connection's frames: a bounded outbox. When it is full the room drops
/// the connection instead of waiting, so a slow phone never slows its room.
#[derive(Debug, Clone)]
pub struct ConnSink {
    /// The connection.
    pub id: ConnId,
    /// Its outbox of encoded frames.
    pub outbox: mpsc::Sender<Utf8Bytes>,
}

/// A successful join or resume.
#[derive(Debug, Clone, Copy)]
pub struct Joined {
    /// The connection's role.
    pub role: Role,
    /// Its participant index, if any.
    pub participant: Option<usize>,
}

/// Why a join, resume or info request did not succeed.
#[derive(Debug)]
pub enum JoinError {
    /// Refused, with a reason for the client.
    Refused(Refusal),
    /// The room was unloading; ask the registry again.
    Retry,
    /// Another node owns the session (several nodes over one database).
    Elsewhere(crate::storage::Owner),
}

/// A reply that comes once the room has answered (after the batch is durable).
pub type Reply<T> = oneshot::Sender<Result<T, JoinError>>;

/// What connections and the HTTP layer ask of a room.
#[derive(Debug)]
pub enum RoomMsg {
    /// A new participant.
    Join {
        /// Display name as typed.
        name: String,
        /// Perspective.
        perspective: Perspective,
        /// Where to send the welcome and everything after.
        conn: ConnSink,
        /// Told the outcome after the welcome is in the outbox.
        reply: Reply<Joined>,
    },
    /// Someone with a token.
    Resume {
        /// The token's hash.
        token: TokenHash,
        /// Where to send the welcome and everything after.
        conn: ConnSink,
        /// Told the outcome after the welcome is in the outbox.
        reply: Reply<Joined>,
    },
    /// A command from a joined connection; answered through its outbox.
    Command {
        /// The connection.
        conn: ConnId,
        /// The client's command id.
        id: String,
        /// The command.
        cmd: Command,
    },
    /// A barrier from a joined connection: answered through its outbox after everything the
    /// room sent it before.
    Sync {
        /// The connection.
        conn: ConnId,
        /// The client's id for it.
        id: String,
    },
    /// A connection closed.
    Leave {
        /// The connection.
        conn: ConnId,
    },
    /// What a phone may know before joining.
    Info {
        /// Told the answer.
        reply: Reply<SessionInfo>,
    },
    /// Delete the session for good: the room deletes it from storage, stops, and closes every
    /// connection; whoever asks after that hears that there is no such session.
    Delete {
        /// Told once the session is gone from storage.
        reply: Reply<()>,
    },
}

impl RoomMsg {
    /// Answers a request the room will not take (it is closing, or could not load).
    pub fn turn_away(self, why: impl FnOnce() -> JoinError) {
        match self {
            RoomMsg::Join { reply, .. } | RoomMsg::Resume { reply, .. } => {
                let _ = reply.send(Err(why()));
            }
            RoomMsg::Info { reply } => {
                let _ = reply.send(Err(why()));
            }
            RoomMsg::Delete { reply } => {
                let _ = reply.send(Err(why()));
            }
            RoomMsg::Command { .. } | RoomMsg::Sync { .. } | RoomMsg::Leave { .. } => {}
        }
    }
}

/// A handle to a running room.
#[derive(Debug, Clone)]
pub struct RoomHandle {
    /// Distinguishes this run of the room from a later one with the same code.
    pub id: u64,
    /// The room's mailbox.
    pub tx: mpsc::Sender<RoomMsg>,
}

/// Settings every room shares.
#[derive(Debug, Clone)]
pub struct RoomConfig {
    /// Base of links, e.g. `http://192.168.1.20:8080`, without trailing slash.
    pub public_url: Arc<str>,
    /// How long a room with no connection stays loaded.
    pub idle: Duration,
    /// Write a snapshot once this many changes (or a twentieth of the session's changes, if
    /// more) were stored after the last one, at the room's next quiet moment (a second without
    /// messages), or in a batch at twice that if it has none. A crash leaves at most that
    /// twice to read back after the snapshot.
    pub snapshot_every: u64,
    /// Capacity of each connection's outbox, in frames.
    pub outbox: usize,
}

impl Default for RoomConfig {
    fn default() -> Self {
        Self {
            public_url: "http://localhost:8080".into(),
            idle: Duration::from_secs(300),
            snapshot_every: 500,
            outbox: 256,
        }
    }
}

//! A room: the live actor of one session, driving the session core.
//!
//! - [`msg`] — what connections and the HTTP layer say to a room ([`RoomMsg`]), its handle,
//!   and the settings rooms share.
//! - [`clock`] — the room's clock: the server's time, advanced by tokio's (pausable) clock.
//! - [`load`] — loading a session from storage, and writing snapshots.
//! - [`actor`] — the batch loop: take what waits, apply, store durably, then fan out.
//! - [`fanout`] — the room's connections, their outboxes and presence.

pub mod actor;
pub mod clock;
pub mod fanout;
pub mod load;
pub mod msg;

pub use actor::run;
pub use clock::{Clock, now_ms};
pub use msg::{ConnId, ConnSink, JoinError, Joined, RoomConfig, RoomHandle, RoomMsg};

#[cfg(test)]
mod tests;

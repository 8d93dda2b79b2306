//! Several nodes over one PostgreSQL database: who owns a live session, and reaching it.
//!
//! - [`lease`] — the [`Keeper`] of this node's leases: claims one when a room starts, renews
//!   them all in one statement every third of the lease time, tells a room that lost its
//!   lease to stop, and closes forwarded connections whose room moved.
//! - [`forward`] — a connection or a lookup for a room another node owns, passed on to that
//!   node: the phone keeps one socket to whichever node it reached, and the owner sees the
//!   phone's own address (vouched for with the nodes' shared secret).
//!
//! Nothing here decides what a room does; the fence that keeps a stale owner from writing is
//! in the database's write transaction (`storage::postgres`).

pub mod forward;
pub mod lease;

pub use lease::{Claimed, Keeper, Lease};

use std::time::Duration;

/// This node as the others see it.
#[derive(Debug, Clone)]
pub struct Node {
    /// A new random id each time the process starts: a restarted node is a new owner.
    pub id: String,
    /// Where the other nodes reach this one (`host:port`).
    pub addr: String,
    /// How long a lease lasts unless renewed.
    pub lease: Duration,
    /// The secret every node of the cluster shares (kept in the database), shown on
    /// forwarded connections so the owner may trust the phone's address they carry.
    pub secret: String,
}

impl Node {
    /// Whether `shown` is the cluster's secret (compared in constant time).
    pub fn vouches(&self, shown: &str) -> bool {
        blake3::hash(shown.as_bytes()) == blake3::hash(self.secret.as_bytes())
    }
}

//! The session core: everything a session *is*, with no runtime, network, storage or metrics
//! in it. The live room drives it; replay, the report and tests use it directly.
//!
//! - [`record`] — [`Record`]: the automerge document and the typed state, applied to together,
//!   one change per command; joins, the projector link, command-id answers, the floor's next
//!   deadline. Opens a stored document without an actor.
//! - [`replay`] — the session at any moment of its history: the changes folded forward from
//!   checkpoints, the same fold as loading.
//! - [`report`] — the report of a session, made from a role's view, and its CSV.
//! - [`state`] — the typed state ([`Session`]: fields, participants, cards, rounds, …).
//! - [`views`] — what each role may see: the whole view, the patch of what changed, own data.
//! - [`changes`] — [`Changed`]: what a batch of commands touched, per [`Part`] of the view.
//! - [`checkpoint`] — the typed state stored with each snapshot, so opening a session reads
//!   only what changed after it.
//! - [`ids`] — record ids on the wire (`k12`) and indexes in memory.
//! - [`doc`] — the document's shape and writing records.
//! - [`export`] — the raw automerge file for other tools, without pseudonyms.
//! - [`fold`] — reading it back, record by record: `hydrate` (document → state) and the same
//!   appliers for replay.
//! - [`floor`] — the floor folded from its events: hands, turns, the queue, the balance.
//! - [`conduct`] — ground rules and reported violations.
//! - [`method`] — what a session produces: readiness, the table, criteria, experiments,
//!   reflections.
//! - [`text`] — the character rules for every text a person types.
//! - [`cmd`] — one file per command: who may give it, the rules, its change.
//!
//! **Invariant:** nothing in here uses an async runtime, the web framework, storage or metrics (a test checks the
//! sources); the room depends on the core, never the reverse.

pub mod changes;
pub mod checkpoint;
pub mod cmd;
pub mod conduct;
pub mod doc;
pub mod export;
pub mod floor;
pub mod fold;
pub mod ids;
pub mod method;
pub mod record;
pub mod replay;
pub mod report;
pub mod state;
pub mod text;
pub mod views;

pub use changes::{Changed, Part};
pub use record::{Answer, NewParticipant, Record};
pub use replay::Replay;
pub use state::{Moment, Session};

#[cfg(test)]
mod tests;

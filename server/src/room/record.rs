//! A session's record: its automerge document and the typed state projected from it, kept in
//! step. Every accepted command or join is exactly one automerge change.

use super::doc::{self, ChangeMessage, Objs};
use super::state::{Participant, Session};
use crate::cmd::{self, Actor, Ctx, Dirty, Outcome};
use crate::error::Refusal;
use automerge::{Automerge, ChangeHash};
use tafel_protocol::{AckResult, Command, Millis};

/// The document and its typed projection.
pub struct Record {
    /// The automerge document: the durable truth and the replay.
    pub doc: Automerge,
    /// The document's top-level maps.
    pub objs: Objs,
    /// The typed state, equal to `doc::hydrate(doc)` at all times.
    pub state: Session,
}

impl Record {
    /// Wraps a loaded document, rebuilding the typed state from it.
    pub fn from_doc(doc: Automerge, key: [u8; 32]) -> Result<Self, String> {
        let objs = doc::objs(&doc).map_err(|e| e.to_string())?;
        let state = doc::hydrate(&doc, key)?;
        Ok(Self { doc, objs, state })
    }

    /// The document's heads, to find what a batch added.
    pub fn heads(&self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// Applies one command as one change. On refusal nothing changes, in the document or in
    /// memory. `online` counts each participant's live connections.
    pub fn apply(
        &mut self,
        actor: Actor,
        cmd_id: &str,
        cmd: &Command,
        now: Millis,
        online: &[u32],
        dirty: &mut Dirty,
    ) -> Outcome {
        let by = actor.participant.map(|p| self.state.pseudonyms[p].clone());
        self.change(now, online, dirty, |cx| {
            let ack = cmd::apply(cx, actor, cmd)?;
            let message = ChangeMessage {
                cmd: cmd::name(cmd).into(),
                by,
                id: Some(cmd_id.to_owned()),
                ack: ack.clone(),
            };
            Ok((ack, message))
        })
    }

    /// The server's own change when a turn reaches its hard limit. Records nothing and returns
    /// false when there is nothing to end.
    pub fn limit_reached(
        &mut self,
        now: Millis,
        online: &[u32],
        dirty: &mut Dirty,
    ) -> Result<bool, Refusal> {
        let result = self.change(now, online, dirty, |cx| {
            if cmd::floor::limit_reached(cx)? {
                let message = ChangeMessage {
                    cmd: "turn_limit".into(),
                    by: None,
                    id: None,
                    ack: AckResult::default(),
                };
                Ok((AckResult::default(), message))
            } else {
                Err(crate::error::refuse(
                    tafel_protocol::ErrorCode::NoTurn,
                    "no turn at its limit",
                ))
            }
        });
        match result {
            Ok(_) => Ok(true),
            Err(r) if r.code == tafel_protocol::ErrorCode::NoTurn => Ok(false),
            Err(r) => Err(r),
        }
    }

    /// Runs `f` in one transaction: committed as one change with the message it returns, or
    /// rolled back when it refuses.
    fn change(
        &mut self,
        now: Millis,
        online: &[u32],
        dirty: &mut Dirty,
        f: impl FnOnce(&mut Ctx<'_, '_>) -> Result<(AckResult, ChangeMessage), Refusal>,
    ) -> Outcome {
        let Self {
            doc: document,
            objs,
            state,
        } = self;
        let mut tx = document.transaction();
        let mut cx = Ctx {
            s: state,
            tx: &mut tx,
            o: objs,
            now,
            dirty,
            online,
        };
        match f(&mut cx) {
            Ok((ack, message)) => {
                // A command that changed nothing (lock when locked) is still recorded, as an
                // empty change: every acknowledged command is in the history, so its answer
                // survives a restart and replay shows it.
                if tx
                    .commit_with(doc::commit_options(&message, now))
                    .0
                    .is_none()
                {
                    document.empty_commit(doc::commit_options(&message, now));
                }
                Ok(ack)
            }
            Err(refusal) => {
                tx.rollback();
                Err(refusal)
            }
        }
    }

    /// Records a new participant; returns their index.
    pub fn join(&mut self, p: Participant, dirty: &mut Dirty) -> Result<usize, Refusal> {
        let index = self.state.participants.len();
        let at = p.joined_at;
        let mut tx = self.doc.transaction();
        if let Err(e) = doc::put_participant(&mut tx, &self.objs, index, &p) {
            tx.rollback();
            return Err(e.into());
        }
        let by = crate::secrets::pseudonym(&self.state.key, &super::state::id('p', index));
        let message = ChangeMessage {
            cmd: "join".into(),
            by: Some(by),
            id: None,
            ack: AckResult::default(),
        };
        tx.commit_with(doc::commit_options(&message, at));
        self.state.push_participant(p);
        dirty.participants.insert(index);
        Ok(index)
    }
}

//! Replay: the session at any moment of its history, as a role saw it then (or, for a replay
//! link, as the big screen could have shown it).
//!
//! Opening a replay reads the document's history once: every change, with its time, its
//! message and its operations. Stepping through it folds the changes forward into the typed
//! state with the same appliers loading uses ([`fold::apply_record`]), and keeps a checkpoint
//! of the state every [`CHECKPOINT`] changes; the state after change *n* is the checkpoint
//! before it plus the changes in between. No `fork_at`: it costs a third of a second per
//! moment at 20,000 changes.
//!
//! The fold keeps, beside the typed state, the fields of every record so far (a record can be
//! written by several changes: a card's text, then its status), each behind an `Arc`, so a
//! checkpoint copies pointers, not records.

use super::doc::{ChangeMessage, DocError, INIT};
use super::fold::{self, MAPS};
use super::state::{Moment, Session};
use automerge::hydrate::{Map, MapValue, Value};
use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::{Automerge, ObjType, ScalarValue};
use std::collections::HashMap;
use std::sync::Arc;
use tafel_protocol::{Millis, ReplayLane, ReplayMark, ReplayTimeline, Role, View};

/// How many changes lie between two checkpoints of the state. The state at any moment is at
/// most this many changes away from one.
pub const CHECKPOINT: usize = 500;

/// Where an object of the document sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The session's own map.
    Session,
    /// A top-level map of records (an index into [`MAPS`]).
    Records(u8),
    /// A record: its map and its index.
    Record(u8, usize),
    /// Something this version does not read.
    Other,
}

/// One operation, as the fold needs it.
#[derive(Debug, Clone)]
enum Op {
    /// A field of the session map, or of a record, was written.
    Put(Place, Arc<str>, ScalarValue),
    /// A field was removed.
    Delete(Place, Arc<str>),
    /// A record was made.
    Make(Place),
}

/// One change of the history.
#[derive(Debug, Clone)]
pub struct Step {
    /// Its time, on the server's clock.
    pub at: Millis,
    /// What it records: the command, its giver's pseudonym, the client's id, the ack.
    pub message: Option<ChangeMessage>,
    ops: Vec<Op>,
}

/// The fold's state after some changes.
#[derive(Debug, Clone, Default)]
struct Folded {
    /// The typed state (none before the first change).
    session: Option<Session>,
    /// The session map's fields so far.
    session_fields: Arc<Map>,
    /// Every record's fields so far.
    records: HashMap<(u8, usize), Arc<Map>>,
    /// How many changes are folded in.
    applied: usize,
}

/// A session's history, ready to be shown at any moment.
pub struct Replay {
    key: [u8; 32],
    steps: Vec<Step>,
    /// The state after 0, `CHECKPOINT`, 2 × `CHECKPOINT`, … changes.
    checkpoints: Vec<Folded>,
}

impl Replay {
    /// Reads a document's whole history and folds it once, keeping checkpoints.
    pub fn new(doc: &Automerge, key: [u8; 32]) -> Result<Self, DocError> {
        let steps = read_steps(doc);
        let mut checkpoints = vec![Folded::default()];
        let mut folded = Folded::default();
        for (i, step) in steps.iter().enumerate() {
            folded.apply(step, key)?;
            if (i + 1) % CHECKPOINT == 0 {
                checkpoints.push(folded.clone());
            }
        }
        Ok(Self {
            key,
            steps,
            checkpoints,
        })
    }

    /// How many changes the history holds.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether the history is empty (it never is for a stored session).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Every change, oldest first.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The session after its first `n` changes (at least one).
    pub fn state_after(&self, n: usize) -> Result<Session, DocError> {
        let n = n.clamp(1, self.steps.len().max(1));
        let mut folded = self.checkpoints[n / CHECKPOINT].clone();
        for step in &self.steps[folded.applied..n] {
            folded.apply(step, self.key)?;
        }
        folded
            .session
            .ok_or_else(|| DocError::Missing("the session's first change".into()))
    }

    /// The number of changes made at or before `at` (at least the first).
    pub fn changes_until(&self, at: Millis) -> usize {
        self.steps.partition_point(|s| s.at <= at).max(1)
    }

    /// What `role` saw after the first `n` changes, at the moment of the last of them. Who was
    /// connected is not recorded: everyone who had joined counts as present.
    pub fn view_after(&self, n: usize, role: Role, public_url: &str) -> Result<View, DocError> {
        let n = n.clamp(1, self.steps.len().max(1));
        let session = self.state_after(n)?;
        let online = vec![1; session.participants.len()];
        let at = Moment {
            now: self.steps[n - 1].at,
            online: &online,
            public_url,
        };
        Ok(session.view(role, &at))
    }
}

/// The commands a timeline marks.
const MARKED: &[&str] = &[
    "set_phase",
    "give_floor",
    "end_turn",
    "turn_limit",
    "open_round",
    "close_round",
    "flag",
    "confirm_flag",
    "dismiss_flag",
    "open_check",
    "conclude_check",
    "ask_consent",
    "decide_criterion",
    "assess_criterion",
    "add_experiment",
    "update_experiment",
    "open_reflection",
    "close_reflection",
    "lock",
    "unlock",
    "end",
];

impl Step {
    /// The phase this change moved the session to, if it did.
    fn phase(&self) -> Option<u8> {
        self.ops.iter().find_map(|op| match op {
            Op::Put(Place::Session, field, v) if &**field == "phase" => {
                v.as_i64().and_then(|p| u8::try_from(p).ok())
            }
            _ => None,
        })
    }
}

impl Replay {
    /// The timeline for `role`: every change's time, the moments that matter, who spoke when
    /// (per person for the facilitator, per perspective otherwise), and the balance figure
    /// after each turn.
    pub fn timeline(&self, role: Role) -> Result<ReplayTimeline, DocError> {
        let end = self.steps.last().map_or(0, |s| s.at);
        let state = self.state_after(self.steps.len())?;
        let marks = self
            .steps
            .iter()
            .enumerate()
            .filter_map(|(i, step)| {
                let cmd = step.message.as_ref()?.cmd.as_str();
                MARKED.contains(&cmd).then(|| ReplayMark {
                    seq: i as u64 + 1,
                    at: step.at,
                    cmd: cmd.to_owned(),
                    phase: step.phase(),
                })
            })
            .collect();
        let floor = &state.floor;
        let per_person = role == Role::Facilitator;
        let mut lanes: Vec<ReplayLane> = Vec::new();
        for (p, person) in state.participants.iter().enumerate() {
            let turns: Vec<(Millis, Millis)> = floor
                .turns
                .iter()
                .filter(|t| t.speaker == p)
                .map(|t| (t.started_at, t.ended.map_or(end, |(at, _)| at)))
                .collect();
            if person.role != Role::Participant && turns.is_empty() {
                continue;
            }
            let id = if per_person {
                super::ids::id('p', p)
            } else {
                super::doc::wire(&person.perspective)
            };
            let lane = match lanes.iter_mut().position(|l| l.id == id) {
                Some(i) => &mut lanes[i],
                None => {
                    lanes.push(ReplayLane {
                        id,
                        name: per_person.then(|| person.name.clone()),
                        perspective: person.perspective,
                        turns: Vec::new(),
                        floor_ms: 0,
                    });
                    lanes.last_mut().expect("just added")
                }
            };
            lane.turns.extend(turns);
            lane.turns.sort();
            lane.floor_ms += floor.floor_ms(p);
        }
        // The balance after each turn that ended, over the participants who had joined by
        // then (who was connected is not recorded).
        let mut spoken = vec![0i64; state.participants.len()];
        let mut ended: Vec<_> = floor
            .turns
            .iter()
            .filter_map(|t| Some((t.ended?.0, t)))
            .collect();
        ended.sort_by_key(|(at, _)| *at);
        let mut balance = Vec::new();
        for (at, turn) in ended {
            spoken[turn.speaker] += floor.elapsed(turn, at);
            let times: Vec<i64> = state
                .participants
                .iter()
                .enumerate()
                .filter(|(_, p)| p.role == Role::Participant && p.joined_at <= at)
                .map(|(i, _)| spoken[i])
                .collect();
            if let Some(figure) = super::floor::balance(&times) {
                balance.push((at, figure));
            }
        }
        Ok(ReplayTimeline {
            role,
            code: state.fields.code.clone(),
            title: state.fields.title.clone(),
            times: self.steps.iter().map(|s| s.at).collect(),
            marks,
            lanes,
            balance,
        })
    }
}

impl Folded {
    /// Folds one change in.
    fn apply(&mut self, step: &Step, key: [u8; 32]) -> Result<(), DocError> {
        let mut touched: Vec<(u8, usize)> = Vec::new();
        let mut session_touched = false;
        for op in &step.ops {
            match op {
                Op::Make(Place::Record(m, i)) => {
                    self.records.insert((*m, *i), Arc::default());
                    touch(&mut touched, (*m, *i));
                }
                Op::Put(Place::Session, field, value) => {
                    set(Arc::make_mut(&mut self.session_fields), field, Some(value));
                    session_touched = true;
                }
                Op::Delete(Place::Session, field) => {
                    set(Arc::make_mut(&mut self.session_fields), field, None);
                    session_touched = true;
                }
                Op::Put(Place::Record(m, i), field, value) => {
                    if let Some(r) = self.records.get_mut(&(*m, *i)) {
                        set(Arc::make_mut(r), field, Some(value));
                        touch(&mut touched, (*m, *i));
                    }
                }
                Op::Delete(Place::Record(m, i), field) => {
                    if let Some(r) = self.records.get_mut(&(*m, *i)) {
                        set(Arc::make_mut(r), field, None);
                        touch(&mut touched, (*m, *i));
                    }
                }
                _ => {}
            }
        }
        if self.session.is_none() && self.session_fields.get("code").is_some() {
            self.session = Some(fold::new_session(&self.session_fields, key)?);
        }
        if let Some(session) = &mut self.session {
            if session_touched {
                fold::apply_session(session, &self.session_fields)?;
            }
            for (m, i) in touched {
                fold::apply_record(session, MAPS[m as usize].0, i, &self.records[&(m, i)])?;
            }
        }
        self.applied += 1;
        Ok(())
    }
}

/// Notes a record as touched by this change, once, in the order of first touch.
fn touch(touched: &mut Vec<(u8, usize)>, record: (u8, usize)) {
    if !touched.contains(&record) {
        touched.push(record);
    }
}

/// Writes (or, with `None`, removes) one field of a map.
fn set(map: &mut Map, field: &str, value: Option<&ScalarValue>) {
    match value {
        Some(v) => {
            map.insert(
                field.to_owned(),
                MapValue {
                    value: Value::Scalar(v.clone()),
                    conflict: false,
                },
            );
        }
        None => {
            map.remove(field);
        }
    }
}

/// Every change of the document, with the operations the fold reads, in history order.
fn read_steps(doc: &Automerge) -> Vec<Step> {
    let mut places: HashMap<ObjectId, Place> = HashMap::new();
    let map_index = |name: &str| MAPS.iter().position(|(m, _)| *m == name).map(|i| i as u8);
    doc.get_changes(&[])
        .iter()
        .map(|change| {
            let expanded = change.decode();
            let start = expanded.start_op.get();
            let mut ops = Vec::with_capacity(expanded.operations.len());
            for (n, op) in expanded.operations.iter().enumerate() {
                let Key::Map(key) = &op.key else { continue };
                let parent = match &op.obj {
                    ObjectId::Root => None,
                    id => Some(places.get(id).copied().unwrap_or(Place::Other)),
                };
                match (&op.action, parent) {
                    // A top-level map: the session's, or a map of records.
                    (OpType::Make(ObjType::Map), None) => {
                        let place = match key.as_str() {
                            "session" => Place::Session,
                            name => map_index(name).map_or(Place::Other, Place::Records),
                        };
                        let id = OpId::new(start + n as u64, &expanded.actor_id);
                        places.insert(ObjectId::Id(id), place);
                    }
                    // A record in a map of records, keyed by its id.
                    (OpType::Make(ObjType::Map), Some(Place::Records(m))) => {
                        let prefix = MAPS[m as usize].1;
                        let place = super::ids::parse_id(prefix, key)
                            .map_or(Place::Other, |i| Place::Record(m, i));
                        let id = OpId::new(start + n as u64, &expanded.actor_id);
                        places.insert(ObjectId::Id(id), place);
                        ops.push(Op::Make(place));
                    }
                    // A record made in one operation: its fields, one JSON value.
                    (OpType::Put(v @ ScalarValue::Str(_)), Some(Place::Records(m))) => {
                        let prefix = MAPS[m as usize].1;
                        if let Some(i) = super::ids::parse_id(prefix, key) {
                            let place = Place::Record(m, i);
                            ops.push(Op::Make(place));
                            ops.push(Op::Put(place, Arc::from(INIT), v.clone()));
                        }
                    }
                    (OpType::Put(v), Some(place @ (Place::Session | Place::Record(..)))) => {
                        ops.push(Op::Put(place, Arc::from(key.as_str()), v.clone()));
                    }
                    (OpType::Delete, Some(place @ (Place::Session | Place::Record(..)))) => {
                        ops.push(Op::Delete(place, Arc::from(key.as_str())));
                    }
                    _ => {}
                }
            }
            Step {
                at: expanded.time,
                message: expanded
                    .message
                    .as_deref()
                    .and_then(|m| serde_json::from_str(m).ok()),
                ops,
            }
        })
        .collect()
}

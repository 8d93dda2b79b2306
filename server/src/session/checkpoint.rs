//! A checkpoint of the typed state, stored with each snapshot, so that opening a stored
//! session needs no pass over the whole document: the state as of the snapshot is read back as
//! it was, and only the records that the changes stored after the snapshot touched are read
//! from the document and applied (with the same appliers as `fold::hydrate`).
//!
//! How a stored snapshot carries it is the document's business (`doc::snapshot_with`,
//! `doc::split_snapshot`). A checkpoint is only a shortcut: one of another version,
//! one that does not decode, or one whose heads are not the snapshot's is ignored, and the
//! state is hydrated from the document as it always was.

use super::doc::{ChangeMessage, DocError};
use super::fold::{self, MAPS};
use super::state::{Session, parse_id};
use automerge::hydrate::Value;
use automerge::{Automerge, ChangeHash, ObjType, Prop, ReadDoc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use tafel_protocol::AckResult;

/// Which build's state a checkpoint holds: any other is ignored (the state's shape and the
/// fold may differ between versions).
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "/1");

/// The state of a record as of a snapshot, as written.
#[derive(Serialize)]
struct Written<'a> {
    version: &'a str,
    heads: Vec<String>,
    seq: u64,
    state: &'a Session,
    answers: Vec<(usize, &'a str, &'a AckResult)>,
}

/// The state of a record as of a snapshot, as read back.
#[derive(Deserialize)]
pub struct Checkpoint {
    version: String,
    /// The document's heads it was taken at, as hex.
    heads: Vec<String>,
    seq: u64,
    /// The typed state (without the session key, which is never stored with it).
    state: Session,
    /// The answer of every command id: (participant, id, answer).
    answers: Vec<(usize, String, AckResult)>,
}

/// A checkpoint of the state as of the document's `heads` (`seq`, `state` and `answers` as
/// of those heads), to store before the document's bytes (`doc::snapshot_with`).
pub fn encode(
    heads: &[ChangeHash],
    seq: u64,
    state: &Session,
    answers: &HashMap<(usize, String), AckResult>,
) -> Vec<u8> {
    let checkpoint = Written {
        version: VERSION,
        heads: heads.iter().map(ToString::to_string).collect(),
        seq,
        state,
        answers: answers
            .iter()
            .map(|((p, id), ack)| (*p, id.as_str(), ack))
            .collect(),
    };
    serde_json::to_vec(&checkpoint).expect("the state serializes")
}

/// What a checkpoint gives back: the state, the answers and the change count, brought up to
/// `doc`'s heads.
pub struct Restored {
    pub state: Session,
    pub answers: HashMap<(usize, String), AckResult>,
    pub seq: u64,
}

impl Checkpoint {
    /// The document's heads it was taken at (none if they do not parse).
    pub fn heads(&self) -> Option<Vec<ChangeHash>> {
        self.heads.iter().map(|h| h.parse().ok()).collect()
    }
}

/// A stored checkpoint read back; `None` when it cannot be used (another version, or it does
/// not decode). It needs no document, so it can be read while the document loads.
pub fn decode(checkpoint: &[u8]) -> Option<Checkpoint> {
    serde_json::from_slice::<Checkpoint>(checkpoint)
        .ok()
        .filter(|cp| cp.version == VERSION)
}

/// The state of `doc` from `checkpoint` and the changes after it; `None` when the checkpoint
/// cannot be used (then hydrate the whole document instead).
pub fn restore(
    doc: &Automerge,
    checkpoint: &[u8],
    key: [u8; 32],
) -> Result<Option<Restored>, DocError> {
    match decode(checkpoint) {
        Some(cp) => restore_decoded(doc, cp, key),
        None => Ok(None),
    }
}

/// As [`restore`], from a checkpoint already decoded.
pub fn restore_decoded(
    doc: &Automerge,
    cp: Checkpoint,
    key: [u8; 32],
) -> Result<Option<Restored>, DocError> {
    let Some(heads) = cp.heads() else {
        return Ok(None);
    };
    if heads.iter().any(|h| doc.get_change_by_hash(h).is_none()) {
        return Ok(None);
    }
    let mut state = cp.state;
    state.key = key;
    let mut answers: HashMap<(usize, String), AckResult> = cp
        .answers
        .into_iter()
        .map(|(p, id, ack)| ((p, id), ack))
        .collect();

    // What the later changes touched: the session's map, and records by (map, index).
    let after = doc.get_changes(&heads);
    let mut session_touched = false;
    let mut touched: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut messages = Vec::new();
    // Where each object sits, looked up once: a map of records is the object of every new
    // record's first operation.
    let mut paths: HashMap<automerge::legacy::OpId, Vec<Prop>> = HashMap::new();
    for change in &after {
        if let Some(m) = change
            .message()
            .and_then(|m| serde_json::from_str::<ChangeMessage>(m).ok())
        {
            messages.push(m);
        }
        for op in change.decode().operations {
            let key = match &op.key {
                automerge::legacy::Key::Map(k) => Some(k.to_string()),
                automerge::legacy::Key::Seq(_) => None,
            };
            let (top, record) = match &op.obj {
                automerge::legacy::ObjectId::Root => continue,
                automerge::legacy::ObjectId::Id(id) => {
                    let path = match paths.get(id) {
                        Some(path) => path,
                        None => {
                            let obj = doc.import_obj(&id.to_string())?;
                            let mut path: Vec<Prop> = doc.parents(&obj)?.map(|p| p.prop).collect();
                            path.reverse();
                            paths.entry(id.clone()).or_insert(path)
                        }
                    };
                    match path.as_slice() {
                        [Prop::Map(top)] => (top.clone(), key),
                        [Prop::Map(top), Prop::Map(record), ..] => {
                            (top.clone(), Some(record.clone()))
                        }
                        _ => continue,
                    }
                }
            };
            if top == "session" {
                session_touched = true;
                continue;
            }
            let (Some(at), Some(record)) = (MAPS.iter().position(|(m, _)| *m == top), record)
            else {
                continue;
            };
            if let Some(index) = parse_id(MAPS[at].1, &record) {
                touched.insert((at, index));
            }
        }
    }

    // Applied as hydrating applies them: the session's own fields, then map by map in
    // `MAPS` order, each record whole as it is now.
    let root = automerge::ROOT;
    if session_touched && let Some((_, obj)) = doc.get(&root, "session")? {
        fold::apply_session(&mut state, &map_of(doc, &obj)?)?;
    }
    let mut maps = HashMap::new();
    for (at, index) in touched {
        let (name, prefix) = MAPS[at];
        let map = match maps.get(&at) {
            Some(map) => map,
            None => {
                let Some((_, obj)) = doc.get(&root, name)? else {
                    continue;
                };
                maps.entry(at).or_insert(obj)
            }
        };
        let record = match doc.get(map, super::state::id(prefix, index))? {
            Some((automerge::Value::Object(ObjType::Map), record)) => map_of(doc, &record)?,
            // As it was made: its fields one JSON value.
            Some((automerge::Value::Scalar(made), _)) => match made.as_ref() {
                automerge::ScalarValue::Str(json) => fold::made(json),
                _ => continue,
            },
            _ => continue,
        };
        fold::apply_record(&mut state, name, index, &record)?;
    }
    for m in &messages {
        if let (Some(by), Some(id)) = (&m.by, &m.id)
            && let Some(p) = state.by_pseudonym.get(by)
        {
            answers.insert((*p, id.clone()), m.ack.clone());
        }
    }
    Ok(Some(Restored {
        state,
        answers,
        seq: cp.seq + messages.len() as u64,
    }))
}

/// One object of the document, hydrated as a map.
fn map_of(doc: &Automerge, obj: &automerge::ObjId) -> Result<automerge::hydrate::Map, DocError> {
    match ReadDoc::hydrate(doc, obj, None)? {
        Value::Map(m) => Ok(m),
        _ => Err(DocError::Missing("a record map".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::doc;

    #[test]
    fn a_checkpoint_of_another_version_or_other_heads_is_not_used() {
        let doc = Automerge::new();
        let state = Session::new(
            super::super::state::SessionFields {
                code: "K7QM2X".into(),
                title: "t".into(),
                problem: String::new(),
                language: Default::default(),
                anonymous_cards: false,
                created_at: 0,
                phase: 0,
                status: tafel_protocol::SessionStatus::Open,
            },
            [1; 32],
        );
        let wrapped = doc::snapshot_with(
            &encode(&doc.get_heads(), 0, &state, &HashMap::new()),
            &doc.save(),
        );
        let (cp, _) = doc::split_snapshot(&wrapped);
        let cp = cp.expect("a checkpoint");
        assert!(restore(&doc, cp, [1; 32]).unwrap().is_some());
        let other = String::from_utf8(cp.to_vec())
            .unwrap()
            .replace(VERSION, "0.0.0/0");
        assert!(restore(&doc, other.as_bytes(), [1; 32]).unwrap().is_none());
        let json = String::from_utf8(cp.to_vec()).unwrap();
        assert!(json.contains(r#""heads":[]"#));
        let unknown_heads = json.replace(
            r#""heads":[]"#,
            &format!(r#""heads":["{}"]"#, "ab".repeat(32)),
        );
        assert!(
            restore(&doc, unknown_heads.as_bytes(), [1; 32])
                .unwrap()
                .is_none()
        );
    }
}

//! The raw automerge file of a session, for other tools: the whole history, change by change,
//! with nothing in it that identifies a voter, a reporter, an anonymous author or who answered
//! what. The session's own document cannot be handed out as it is: its records name people by
//! pseudonym, and the change that made each participant carries that participant's pseudonym,
//! which ties the two together. So the export is a copy built change by change, in which
//!
//! - change messages keep the command's name and drop who gave it and the client's id;
//! - every pseudonym is replaced by an alias numbered per map (`a1`, `a2`, … in the votes, other
//!   ones in the reports), so a person's votes cannot be tied to their reports, nor to a name.

use super::doc::{ChangeMessage, DocError, INIT, commit_options};
use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::transaction::Transactable;
use automerge::{Automerge, ObjId, ObjType, ROOT, ScalarValue};
use std::collections::HashMap;

/// Fields that may hold a pseudonym.
const PSEUDONYMOUS: [&str; 4] = ["voter", "by", "author", "invitee"];

/// A pseudonym in the field `key` of a record of `map`, replaced by its alias in that map.
fn alias(
    aliases: &mut HashMap<(String, String), String>,
    map: &str,
    key: &str,
    value: ScalarValue,
) -> ScalarValue {
    match value {
        ScalarValue::Str(s) if PSEUDONYMOUS.contains(&key) && s.starts_with('~') => {
            let next = aliases.keys().filter(|(m, _)| m == map).count() + 1;
            let alias = aliases
                .entry((map.to_owned(), s.to_string()))
                .or_insert_with(|| format!("a{next}"));
            ScalarValue::Str(alias.as_str().into())
        }
        other => other,
    }
}

/// Writes the fields of a record's JSON (as it was made) into `obj`, a key each, with every
/// pseudonym replaced by its alias in `map`.
fn put_fields(
    tx: &mut automerge::transaction::Transaction<'_>,
    obj: &ObjId,
    json: &str,
    map: &str,
    aliases: &mut HashMap<(String, String), String>,
) -> Result<(), DocError> {
    let Ok(serde_json::Value::Object(made)) = serde_json::from_str(json) else {
        return Err(DocError::Bad {
            key: INIT.into(),
            problem: "not a JSON object".into(),
        });
    };
    for (field, value) in made {
        let Some(value) = super::fold::plain_value(value) else {
            continue;
        };
        let value = alias(aliases, map, &field, value);
        tx.put(obj, field.as_str(), value)?;
    }
    Ok(())
}

/// The export of a session's document.
pub fn raw(doc: &Automerge) -> Result<Vec<u8>, DocError> {
    let mut out = Automerge::new();
    // Each object of the export: its id, the name of its top-level map, whether it is one.
    let mut objects: HashMap<ObjectId, (ObjId, String, bool)> = HashMap::new();
    let mut aliases: HashMap<(String, String), String> = HashMap::new();
    for change in doc.get_changes(&[]) {
        let expanded = change.decode();
        let start = expanded.start_op.get();
        let message = expanded
            .message
            .as_deref()
            .and_then(|m| serde_json::from_str::<ChangeMessage>(m).ok())
            .map(|m| ChangeMessage {
                cmd: m.cmd,
                by: None,
                id: None,
                ack: m.ack,
            })
            .unwrap_or(ChangeMessage {
                cmd: String::new(),
                by: None,
                id: None,
                ack: Default::default(),
            });
        let mut tx = out.transaction();
        for (n, op) in expanded.operations.iter().enumerate() {
            let Key::Map(key) = &op.key else {
                return Err(DocError::Missing(
                    "a map key (the export knows only maps)".into(),
                ));
            };
            // The new object an operation works in, and the name of its top-level map.
            let (parent, map, top) = match &op.obj {
                ObjectId::Root => (ROOT, String::new(), false),
                id => objects
                    .get(id)
                    .cloned()
                    .ok_or(DocError::Dangling("an operation's object"))?,
            };
            match &op.action {
                OpType::Make(ObjType::Map) => {
                    let made = tx.put_object(&parent, key.as_str(), ObjType::Map)?;
                    // Records keep the name of their top-level map; top-level maps their own.
                    let (name, top) = if map.is_empty() {
                        (key.to_string(), true)
                    } else {
                        (map, false)
                    };
                    let id = OpId::new(start + n as u64, &expanded.actor_id);
                    objects.insert(ObjectId::Id(id), (made, name, top));
                }
                // A record made in one operation becomes a map with a key per field, and a
                // record's `init` a key per field again, for other tools.
                OpType::Put(ScalarValue::Str(json)) if top && map != "session" => {
                    let made = tx.put_object(&parent, key.as_str(), ObjType::Map)?;
                    put_fields(&mut tx, &made, json, &map, &mut aliases)?;
                }
                OpType::Put(ScalarValue::Str(json)) if key.as_str() == INIT => {
                    put_fields(&mut tx, &parent, json, &map, &mut aliases)?;
                }
                // A field cleared beside an `init`: gone, in plain maps.
                OpType::Put(ScalarValue::Null) => {
                    let _ = tx.delete(&parent, key.as_str());
                }
                OpType::Put(value) => {
                    let value = alias(&mut aliases, &map, key.as_str(), value.clone());
                    tx.put(&parent, key.as_str(), value)?;
                }
                OpType::Delete => tx.delete(&parent, key.as_str())?,
                _ => {
                    return Err(DocError::Missing(
                        "only maps and values (the export)".into(),
                    ));
                }
            }
        }
        if tx
            .commit_with(commit_options(&message, expanded.time))
            .0
            .is_none()
        {
            out.empty_commit(commit_options(&message, expanded.time));
        }
    }
    Ok(out.save())
}

//! How a session is recorded in its automerge document.
//!
//! ```text
//! ROOT
//! ├─ session       map: code title problem language anonymous_cards created_at phase status
//! ├─ participants  map id → {name perspective role joined_at}
//! ├─ cards         map id → {kind phase text author builds_on? created_at edited_at? status merged_into?}
//! ├─ rounds        map id → {phase budget max_per_card live opened_at closed_at? cards}
//! ├─ votes         map id → {round card voter delta at}      (append-only: +1 placed, −1 taken back)
//! ├─ floor         map id → {t at p? k? n? o? ph? v?}        (append-only floor events, see below)
//! ├─ rules         map id → {text status}
//! ├─ agreements    map id → {voter agree version at}         (append-only; the latest per voter counts)
//! ├─ reports       map id → {rule about? note? by anonymous at status resolved_at? consequence?}
//! ├─ checks        map id → {opened_at closed_at? conclusion? note?}
//! ├─ check_answers map id → {check voter urgent? complex? willing? comment? at}   (append-only)
//! ├─ parties       map id → {name perspective stake status by at}
//! ├─ criteria      map id → {text target? unit? status by at asked assessment? assessment_note?}
//! ├─ consents      map id → {criterion voter agree at}       (append-only)
//! ├─ experiments   map id → {title card? by prediction measure owners owner_party? start?
//! │                           review? stop status outcome? observed decision? at updated_at}
//! ├─ reflections   map id → {phase opened_at closed_at?}
//! ├─ entries       map id → {reflection by worked not_worked at}   (append-only)
//! └─ replay_links  map id → {made_at revoked_at?}
//! ```
//!
//! A card may also hold `source` (an example's origin) and `lesson_of` (`e3` or `phase:2`);
//! the session map `display_table`, `display_criteria` and `share_report`.
//!
//! A floor event's `t` is `raise` (p, k = hand kind), `lower` (p), `pass` (p), `give` (p, k =
//! turn kind, n = limit in ms, o = out of queue order, ph = phase), `end` (k = how), `pause`,
//! `resume`, `set` (v = the settings change as JSON) or `invite` (invitee = the person's
//! pseudonym, k = `room` or `facilitator`). Turns, floor time and the queue are
//! derived from these; nothing that ticks is stored.
//!
//! A record is made in one automerge operation: its fields, as one JSON object, are the value
//! under its id (each operation costs the room tens of microseconds, and most records are
//! never written again). The first later change makes the record a map, with the fields it was
//! made with as the JSON under the key `init`; a field changed then is its own key beside
//! `init` and wins over it, and one cleared is put as null. Earlier documents hold a record as
//! such a map from the start (made in two operations), or, before `init`, with every field as
//! its own key; all three read the same. The raw export writes every field as its own key
//! again, so other tools see the plain maps drawn above.
//!
//! Records live in maps keyed by id (fast to add to, unlike a long list); votes, floor events
//! and agreements are never rewritten; a card's `text` and `status`, a round's `closed_at`, a
//! rule's `text` and `status`, a report's decision and the session's `phase`, `status` and
//! `rules_version` are the only keys ever written twice, and rarely. Card authors in an anonymous
//! session, and every voter, are stored as pseudonyms (a keyed hash), never as a plain id.
//! Nothing in the document is a secret: tokens and the pseudonym key live in storage only.
//!
//! Every change carries a [`ChangeMessage`] naming the command, its pseudonymous giver and its
//! client id, and the server's time in milliseconds: the document's history is the replay.

use super::conduct::{Report, default_rules};
use super::floor::Event;
use super::method::Lesson;
use super::state::{Card, Participant, Round, SessionFields, id};
use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{Automerge, AutomergeError, ObjId, ObjType, ROOT, ReadDoc, ScalarValue};
use serde::{Deserialize, Serialize};
use tafel_protocol::{AckResult, CardStatus, Millis};

/// Why a document could not be read as a session.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// automerge could not load or write it.
    #[error("automerge: {0}")]
    Automerge(#[from] AutomergeError),
    /// A field or map the session needs is not there.
    #[error("missing {0}")]
    Missing(String),
    /// A field holds a value of the wrong type or out of range.
    #[error("{key}: {problem}")]
    Bad {
        /// The field.
        key: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A record refers to one that does not exist (a vote by an unknown voter, say).
    #[error("{0} refers to nothing")]
    Dangling(&'static str),
}

/// The ids of the document's top-level maps, looked up once per load.
#[derive(Debug, Clone)]
pub struct Objs {
    session: ObjId,
    participants: ObjId,
    cards: ObjId,
    rounds: ObjId,
    votes: ObjId,
}

/// What each change's message records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeMessage {
    /// The command's wire name (`add_card`), or `create` / `join`.
    pub cmd: String,
    /// The giver's pseudonym.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The client's command id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What the ack said.
    #[serde(default, skip_serializing_if = "AckResult::is_empty")]
    pub ack: AckResult,
}

/// Commit options for one change.
pub fn commit_options(message: &ChangeMessage, at: Millis) -> CommitOptions {
    CommitOptions::default()
        .with_message(serde_json::to_string(message).expect("plain struct"))
        .with_time(at)
}

/// The wire name of an enum value (`"medewerker"`), as stored in the document.
pub fn wire<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => panic!("not a unit enum: {other:?}"),
    }
}

/// A new document holding the session's fields and its facilitator as participant `p1`.
pub fn create(
    fields: &SessionFields,
    facilitator: &Participant,
) -> Result<Automerge, AutomergeError> {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    let session = tx.put_object(ROOT, "session", ObjType::Map)?;
    tx.put(&session, "code", fields.code.as_str())?;
    tx.put(&session, "title", fields.title.as_str())?;
    tx.put(&session, "problem", fields.problem.as_str())?;
    tx.put(&session, "language", wire(&fields.language))?;
    tx.put(&session, "anonymous_cards", fields.anonymous_cards)?;
    tx.put(&session, "created_at", fields.created_at)?;
    tx.put(&session, "phase", i64::from(fields.phase))?;
    tx.put(&session, "status", wire(&fields.status))?;
    tx.put(&session, "rules_version", 0)?;
    for name in ["participants", "cards", "rounds", "votes"] {
        tx.put_object(ROOT, name, ObjType::Map)?;
    }
    let objs = objs_in(&tx)?;
    put_participant(&mut tx, &objs, 0, facilitator)?;
    for (i, text) in default_rules(fields.language).iter().enumerate() {
        put_rule(&mut tx, i, text)?;
    }
    // A new session's floor starts balanced (an older document without this event keeps the
    // settings it had: the defaults of `FloorSettings`).
    let balanced = Event::Set(tafel_protocol::FloorPreset::Balanced.change());
    put_floor_event(&mut tx, 0, &balanced, fields.created_at, &|_| String::new())?;
    let message = ChangeMessage {
        cmd: "create".into(),
        by: None,
        id: None,
        ack: AckResult::default(),
    };
    tx.commit_with(commit_options(&message, fields.created_at));
    Ok(doc)
}

fn objs_in(doc: &impl ReadDoc) -> Result<Objs, AutomergeError> {
    let get = |name: &str| -> Result<ObjId, AutomergeError> {
        match doc.get(ROOT, name)? {
            Some((automerge::Value::Object(ObjType::Map), id)) => Ok(id),
            _ => Err(AutomergeError::InvalidObjId(format!(
                "missing top-level map {name}"
            ))),
        }
    };
    Ok(Objs {
        session: get("session")?,
        participants: get("participants")?,
        cards: get("cards")?,
        rounds: get("rounds")?,
        votes: get("votes")?,
    })
}

/// Looks up the top-level maps of a loaded document.
pub fn objs(doc: &Automerge) -> Result<Objs, AutomergeError> {
    objs_in(doc)
}

/// Records the current phase.
pub fn put_phase(tx: &mut Transaction<'_>, o: &Objs, phase: u8) -> Result<(), AutomergeError> {
    tx.put(&o.session, "phase", i64::from(phase))
}

/// Records the session's status.
pub fn put_status(
    tx: &mut Transaction<'_>,
    o: &Objs,
    status: tafel_protocol::SessionStatus,
) -> Result<(), AutomergeError> {
    tx.put(&o.session, "status", wire(&status))
}

/// Records a new participant.
pub fn put_participant(
    tx: &mut Transaction<'_>,
    o: &Objs,
    index: usize,
    p: &Participant,
) -> Result<(), AutomergeError> {
    let (perspective, role) = (wire(&p.perspective), wire(&p.role));
    new_record(
        tx,
        &o.participants,
        &id('p', index),
        &[
            ("name", p.name.as_str().into()),
            ("perspective", perspective.as_str().into()),
            ("role", role.as_str().into()),
            ("joined_at", p.joined_at.into()),
        ],
    )
}

/// Records a new card. `author` is the stored form: a plain id, or a pseudonym when anonymous.
pub fn put_card(
    tx: &mut Transaction<'_>,
    o: &Objs,
    index: usize,
    c: &Card,
    author: &str,
) -> Result<(), AutomergeError> {
    let (kind, status) = (wire(&c.kind), wire(&c.status));
    let builds_on = c.builds_on.map(|b| id('k', b));
    let lesson_of = c.lesson_of.map(lesson_key);
    new_record(
        tx,
        &o.cards,
        &id('k', index),
        &[
            ("kind", kind.as_str().into()),
            ("phase", i64::from(c.phase).into()),
            ("text", c.text.as_str().into()),
            ("author", author.into()),
            ("builds_on", builds_on.as_deref().into()),
            ("created_at", c.created_at.into()),
            ("source", c.source.as_deref().into()),
            ("lesson_of", lesson_of.as_deref().into()),
            ("status", status.as_str().into()),
        ],
    )
}

fn card_obj(tx: &mut Transaction<'_>, o: &Objs, index: usize) -> Result<ObjId, AutomergeError> {
    record_obj(tx, &o.cards, &id('k', index))
}

/// Records a card's new text.
pub fn put_card_text(
    tx: &mut Transaction<'_>,
    o: &Objs,
    index: usize,
    text: &str,
    at: Millis,
) -> Result<(), AutomergeError> {
    let obj = card_obj(tx, o, index)?;
    tx.put(&obj, "text", text)?;
    tx.put(&obj, "edited_at", at)
}

/// Records a card's new kind (changed by its author).
pub fn put_card_kind(
    tx: &mut Transaction<'_>,
    o: &Objs,
    index: usize,
    kind: tafel_protocol::CardKind,
) -> Result<(), AutomergeError> {
    let obj = card_obj(tx, o, index)?;
    tx.put(&obj, "kind", wire(&kind))
}

/// Records a card's new status.
pub fn put_card_status(
    tx: &mut Transaction<'_>,
    o: &Objs,
    index: usize,
    status: CardStatus,
    merged_into: Option<usize>,
) -> Result<(), AutomergeError> {
    let obj = card_obj(tx, o, index)?;
    tx.put(&obj, "status", wire(&status))?;
    match merged_into {
        Some(m) => tx.put(&obj, "merged_into", id('k', m)),
        None => tx.delete(&obj, "merged_into").or(Ok(())),
    }
}

/// Records a new round.
pub fn put_round(
    tx: &mut Transaction<'_>,
    o: &Objs,
    index: usize,
    r: &Round,
) -> Result<(), AutomergeError> {
    let cards = ids_text('k', &r.cards);
    new_record(
        tx,
        &o.rounds,
        &id('r', index),
        &[
            ("phase", i64::from(r.phase).into()),
            ("budget", i64::from(r.budget).into()),
            ("max_per_card", i64::from(r.max_per_card).into()),
            ("live", r.live.into()),
            ("opened_at", r.opened_at.into()),
            ("cards", cards.as_str().into()),
        ],
    )
}

/// Records that a round closed.
pub fn put_round_closed(
    tx: &mut Transaction<'_>,
    o: &Objs,
    index: usize,
    at: Millis,
) -> Result<(), AutomergeError> {
    let obj = record_obj(tx, &o.rounds, &id('r', index))?;
    tx.put(&obj, "closed_at", at)
}

/// One vote record: `delta` is +1 (placed) or −1 (taken back); `voter` is a pseudonym.
pub struct VoteRecord<'a> {
    /// Round index.
    pub round: usize,
    /// Card index.
    pub card: usize,
    /// The voter's pseudonym.
    pub voter: &'a str,
    /// +1 or −1.
    pub delta: i64,
    /// Server time.
    pub at: Millis,
}

/// Appends a vote record.
pub fn put_vote(
    tx: &mut Transaction<'_>,
    o: &Objs,
    index: u64,
    v: &VoteRecord<'_>,
) -> Result<(), AutomergeError> {
    let (round, card) = (id('r', v.round), id('k', v.card));
    new_record(
        tx,
        &o.votes,
        &format!("v{}", index + 1),
        &[
            ("round", round.as_str().into()),
            ("card", card.as_str().into()),
            ("voter", v.voter.into()),
            ("delta", v.delta.into()),
            ("at", v.at.into()),
        ],
    )
}

/// A top-level map added after the first version: looked up, and created in this change when an
/// older document lacks it.
fn late_map(tx: &mut Transaction<'_>, name: &str) -> Result<ObjId, AutomergeError> {
    match tx.get(ROOT, name)? {
        Some((automerge::Value::Object(ObjType::Map), obj)) => Ok(obj),
        _ => tx.put_object(ROOT, name, ObjType::Map),
    }
}

/// The map of the record `key` in `parent`, to write a field of it: a record still as it was
/// made (its fields as one JSON value) becomes a map first, holding that JSON under [`INIT`].
fn record_obj(
    tx: &mut Transaction<'_>,
    parent: &ObjId,
    key: &str,
) -> Result<ObjId, AutomergeError> {
    match tx.get(parent, key)? {
        Some((automerge::Value::Object(ObjType::Map), obj)) => Ok(obj),
        Some((automerge::Value::Scalar(made), _)) => {
            let ScalarValue::Str(json) = made.as_ref() else {
                return Err(AutomergeError::InvalidObjId(key.to_owned()));
            };
            let json = json.to_string();
            let obj = tx.put_object(parent, key, ObjType::Map)?;
            tx.put(&obj, INIT, json)?;
            Ok(obj)
        }
        _ => Err(AutomergeError::InvalidObjId(key.to_owned())),
    }
}

/// Appends a floor event.
///
/// An invitation names its person by pseudonym (`invitee`), so the raw export, which aliases
/// pseudonyms, does not say who was invited.
pub fn put_floor_event(
    tx: &mut Transaction<'_>,
    index: u64,
    event: &Event,
    at: Millis,
    pseudonym: &dyn Fn(usize) -> String,
) -> Result<(), AutomergeError> {
    let floor = late_map(tx, "floor")?;
    let t = match event {
        Event::Raise { .. } => "raise",
        Event::Lower { .. } => "lower",
        Event::Pass { .. } => "pass",
        Event::Give { .. } => "give",
        Event::End { .. } => "end",
        Event::Pause => "pause",
        Event::Resume => "resume",
        Event::Set(_) => "set",
        Event::Invite { .. } => "invite",
    };
    let mut fields: Vec<(&str, Field<'_>)> = vec![("t", t.into()), ("at", at.into())];
    let (p, k, v);
    match event {
        Event::Raise { p: who, kind } => {
            (p, k) = (id('p', *who), wire(kind));
            fields.extend([("p", p.as_str().into()), ("k", k.as_str().into())]);
        }
        Event::Lower { p: who } | Event::Pass { p: who } => {
            p = id('p', *who);
            fields.push(("p", p.as_str().into()));
        }
        Event::Give {
            p: who,
            kind,
            limit_ms,
            over,
            phase,
        } => {
            (p, k) = (id('p', *who), wire(kind));
            fields.extend([
                ("p", p.as_str().into()),
                ("k", k.as_str().into()),
                ("n", (*limit_ms).into()),
                ("o", (*over).into()),
                ("ph", i64::from(*phase).into()),
            ]);
        }
        Event::End { how } => {
            k = wire(how);
            fields.push(("k", k.as_str().into()));
        }
        Event::Pause | Event::Resume => {}
        Event::Set(change) => {
            v = serde_json::to_string(change).expect("plain struct");
            fields.push(("v", v.as_str().into()));
        }
        Event::Invite { p: who, by } => {
            (p, k) = (pseudonym(*who), wire(by));
            fields.extend([("invitee", p.as_str().into()), ("k", k.as_str().into())]);
        }
    }
    new_record(tx, &floor, &format!("f{}", index + 1), &fields)
}

/// Records a new ground rule.
pub fn put_rule(tx: &mut Transaction<'_>, index: usize, text: &str) -> Result<(), AutomergeError> {
    let rules = late_map(tx, "rules")?;
    let fields = [("text", text.into()), ("status", "active".into())];
    new_record(tx, &rules, &id('g', index), &fields)
}

/// Records a rule's new text, or that it was taken out; and the rules' new version.
pub fn put_rule_change(
    tx: &mut Transaction<'_>,
    o: &Objs,
    index: usize,
    change: RuleChange<'_>,
    version: u32,
) -> Result<(), AutomergeError> {
    let rules = late_map(tx, "rules")?;
    match change {
        RuleChange::Added(text) => put_rule(tx, index, text)?,
        RuleChange::Text(text) => {
            let obj = record_obj(tx, &rules, &id('g', index))?;
            tx.put(&obj, "text", text)?;
        }
        RuleChange::Removed => {
            let obj = record_obj(tx, &rules, &id('g', index))?;
            tx.put(&obj, "status", "removed")?;
        }
    }
    tx.put(&o.session, "rules_version", i64::from(version))
}

/// What happened to a rule.
#[derive(Debug, Clone, Copy)]
pub enum RuleChange<'a> {
    /// A new rule with this text.
    Added(&'a str),
    /// New text.
    Text(&'a str),
    /// Taken out.
    Removed,
}

/// Appends an answer to the ground rules, under the voter's pseudonym.
pub fn put_agreement(
    tx: &mut Transaction<'_>,
    index: u64,
    voter: &str,
    agree: bool,
    version: u32,
    at: Millis,
) -> Result<(), AutomergeError> {
    let agreements = late_map(tx, "agreements")?;
    let fields = [
        ("voter", voter.into()),
        ("agree", agree.into()),
        ("version", i64::from(version).into()),
        ("at", at.into()),
    ];
    new_record(tx, &agreements, &format!("a{}", index + 1), &fields)
}

/// Records a new report; the reporter only as a pseudonym.
pub fn put_report(
    tx: &mut Transaction<'_>,
    index: usize,
    r: &Report,
    by: &str,
) -> Result<(), AutomergeError> {
    let reports = late_map(tx, "reports")?;
    let (rule, about, status) = (
        id('g', r.rule),
        r.about.map(|p| id('p', p)),
        wire(&r.status),
    );
    let fields = [
        ("rule", rule.as_str().into()),
        ("about", about.as_deref().into()),
        ("note", r.note.as_deref().into()),
        ("by", by.into()),
        ("anonymous", r.anonymous.into()),
        ("at", r.at.into()),
        ("status", status.as_str().into()),
    ];
    new_record(tx, &reports, &id('x', index), &fields)
}

/// Records the facilitator's decision on a report.
pub fn put_report_decision(
    tx: &mut Transaction<'_>,
    index: usize,
    r: &Report,
) -> Result<(), AutomergeError> {
    let reports = late_map(tx, "reports")?;
    let obj = record_obj(tx, &reports, &id('x', index))?;
    tx.put(&obj, "status", wire(&r.status))?;
    if let Some(at) = r.resolved_at {
        tx.put(&obj, "resolved_at", at)?;
    }
    if let Some(c) = &r.consequence {
        tx.put(
            &obj,
            "consequence",
            serde_json::to_string(c).expect("plain enum"),
        )?;
    }
    Ok(())
}

// --- what a session produces ----------------------------------------------------------------

/// A value written into a record; `None` removes the key (an optional field cleared).
#[derive(Debug, Clone, Copy)]
pub enum Field<'a> {
    /// Text.
    Text(&'a str),
    /// A whole number.
    Int(i64),
    /// A number with a fraction.
    Float(f64),
    /// A yes or no.
    Bool(bool),
    /// No value.
    None,
}

impl<'a> From<&'a str> for Field<'a> {
    fn from(s: &'a str) -> Self {
        Field::Text(s)
    }
}

impl<'a, T: Into<Field<'a>>> From<Option<T>> for Field<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Field::None, Into::into)
    }
}

impl From<i64> for Field<'_> {
    fn from(n: i64) -> Self {
        Field::Int(n)
    }
}

impl From<bool> for Field<'_> {
    fn from(b: bool) -> Self {
        Field::Bool(b)
    }
}

/// Writes fields of the record `key` in the top-level map `map` (a map added after the first
/// version, created when missing): a new record when `new`, else the record as it is.
pub fn put_fields(
    tx: &mut Transaction<'_>,
    map: &str,
    key: &str,
    new: bool,
    fields: &[(&str, Field<'_>)],
) -> Result<(), AutomergeError> {
    let parent = late_map(tx, map)?;
    if new {
        return new_record(tx, &parent, key, fields);
    }
    let obj = record_obj(tx, &parent, key)?;
    for (name, value) in fields {
        match *value {
            Field::Text(s) => tx.put(&obj, *name, s)?,
            Field::Int(n) => tx.put(&obj, *name, n)?,
            Field::Float(x) => tx.put(&obj, *name, x)?,
            Field::Bool(b) => tx.put(&obj, *name, b)?,
            // The field may be in the record's `init`: a null says it is gone.
            Field::None => tx.put(&obj, *name, ScalarValue::Null)?,
        }
    }
    Ok(())
}

/// The key under which a record that became a map holds the fields it was made with.
pub const INIT: &str = "init";

/// Makes the record `key` in `parent` in one automerge operation: every field it is made
/// with, as one JSON object, is the value under `key`. Each operation costs the room tens of
/// microseconds on its hot path, and most records are never written again. A later change
/// makes it a map first ([`record_obj`]). The fold reads every shape
/// (`fold::record_fields`), and the raw export writes each field as its own key again, so
/// other tools read plain maps.
fn new_record(
    tx: &mut Transaction<'_>,
    parent: &ObjId,
    key: &str,
    fields: &[(&str, Field<'_>)],
) -> Result<(), AutomergeError> {
    let mut init = serde_json::Map::with_capacity(fields.len());
    for (name, value) in fields {
        let value = match *value {
            Field::Text(s) => serde_json::Value::from(s),
            Field::Int(n) => serde_json::Value::from(n),
            Field::Float(x) => serde_json::Value::from(x),
            Field::Bool(b) => serde_json::Value::from(b),
            Field::None => continue,
        };
        init.insert((*name).to_owned(), value);
    }
    tx.put(parent, key, serde_json::Value::Object(init).to_string())
}

/// Records what the big screen shows.
pub fn put_display(
    tx: &mut Transaction<'_>,
    o: &Objs,
    display: &tafel_protocol::Display,
) -> Result<(), AutomergeError> {
    tx.put(&o.session, "display_table", display.table)?;
    tx.put(&o.session, "display_criteria", display.criteria)
}

/// Records whether participants find the report on their phones.
pub fn put_share_report(
    tx: &mut Transaction<'_>,
    o: &Objs,
    share: bool,
) -> Result<(), AutomergeError> {
    tx.put(&o.session, "share_report", share)
}

/// How a lesson's link is stored: `e3`, or `phase:2`.
pub fn lesson_key(lesson: Lesson) -> String {
    match lesson {
        Lesson::Experiment(e) => id('e', e),
        Lesson::Phase(p) => format!("phase:{p}"),
    }
}

/// The ids of several participants, as one text: `p2,p5`.
pub fn ids_text(prefix: char, indexes: &[usize]) -> String {
    indexes
        .iter()
        .map(|i| id(prefix, *i))
        .collect::<Vec<_>>()
        .join(",")
}

/// Marks a stored snapshot that carries a checkpoint of the typed state before its document.
const CHECKPOINTED: &[u8; 8] = b"TAFELCK1";

/// A snapshot to store: `CHECKPOINTED`, the checkpoint's length (4 bytes, little-endian), the
/// checkpoint, then the automerge document. A snapshot without the prefix is a plain automerge
/// document (as every snapshot was before checkpoints).
pub fn snapshot_with(checkpoint: &[u8], document: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(CHECKPOINTED.len() + 4 + checkpoint.len() + document.len());
    out.extend_from_slice(CHECKPOINTED);
    out.extend_from_slice(&(checkpoint.len() as u32).to_le_bytes());
    out.extend_from_slice(checkpoint);
    out.extend_from_slice(document);
    out
}

/// A stored snapshot's checkpoint (if it has one) and its automerge document.
pub fn split_snapshot(snapshot: &[u8]) -> (Option<&[u8]>, &[u8]) {
    let Some(rest) = snapshot.strip_prefix(CHECKPOINTED) else {
        return (None, snapshot);
    };
    let Some((len, rest)) = rest.split_first_chunk::<4>() else {
        return (None, snapshot);
    };
    let len = u32::from_le_bytes(*len) as usize;
    if rest.len() < len {
        return (None, snapshot);
    }
    let (checkpoint, document) = rest.split_at(len);
    (Some(checkpoint), document)
}

/// Loads a stored document: its snapshot and the changes stored after it (concatenated).
/// Also returns how many changes came after the snapshot.
pub fn load(snapshot: &[u8], changes: &[u8]) -> Result<(Automerge, u64), DocError> {
    let mut doc = Automerge::load(split_snapshot(snapshot).1)?;
    let mut after = 0;
    if !changes.is_empty() {
        let in_snapshot = doc.get_changes_meta(&[]).len();
        // One call for all of them: automerge applies a batch of changes far faster than the
        // same changes chunk by chunk (307 ms against 2.2 s for 10,000 changes).
        doc.load_incremental(changes)?;
        after = doc.get_changes_meta(&[]).len().saturating_sub(in_snapshot) as u64;
    }
    Ok((doc, after))
}

/// A stored session's document in one load: the snapshot (with or without its checkpoint) and
/// the changes after it together, a fifth faster than loading them apart. How many changes
/// came after the snapshot is not known here (see [`load`]).
pub fn load_at_once(snapshot: &[u8], changes: &[u8]) -> Result<Automerge, DocError> {
    let snapshot = split_snapshot(snapshot).1;
    if changes.is_empty() {
        return Ok(Automerge::load(snapshot)?);
    }
    Ok(Automerge::load(&[snapshot, changes].concat())?)
}

/// When the session ended (the time of its `end` change), if it did.
pub fn ended_at(doc: &Automerge) -> Option<Millis> {
    doc.get_changes_meta(&[])
        .into_iter()
        .filter(|c| {
            c.message
                .as_deref()
                .and_then(|m| serde_json::from_str::<ChangeMessage>(m).ok())
                .is_some_and(|m| m.cmd == "end")
        })
        .map(|c| c.timestamp)
        .max()
}

/// The change messages of the whole history, oldest first, for rebuilding the command-id
/// answers after a restart.
pub fn messages(doc: &Automerge) -> Vec<ChangeMessage> {
    doc.get_changes_meta(&[])
        .into_iter()
        .filter_map(|c| c.message.and_then(|m| serde_json::from_str(&m).ok()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_document_has_no_checkpoint_and_a_cut_one_is_ignored() {
        let plain = Automerge::new().save();
        assert_eq!(split_snapshot(&plain), (None, plain.as_slice()));
        let framed = snapshot_with(b"{}", &plain);
        assert_eq!(
            split_snapshot(&framed),
            (Some(&b"{}"[..]), plain.as_slice())
        );
        let mut cut = CHECKPOINTED.to_vec();
        cut.extend_from_slice(&100u32.to_le_bytes());
        cut.extend_from_slice(b"{}");
        assert_eq!(split_snapshot(&cut).0, None, "shorter than it says");
    }
}

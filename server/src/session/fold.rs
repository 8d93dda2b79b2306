//! Reading a session's document back into its typed state, one record at a time. Loading
//! applies every record in id order, map by map (`hydrate`); replay applies the records each
//! change touched, change by change (`replay.rs`). Both go through [`apply_record`] and
//! [`apply_session`], so what a session was at any moment and what it is now are read the same
//! way.

use super::conduct::{Report, Rule};
use super::doc::{DocError, INIT};
use super::floor::Event;
use super::method::{Check, Criterion, Entry, Experiment, Lesson, Party, Reflection, ReplayLink};
use super::state::{Card, Participant, Round, Session, SessionFields, parse_id};
use automerge::hydrate::{Map, Value};
use automerge::{Automerge, ScalarValue};
use std::borrow::Cow;
use std::collections::HashMap;

/// The maps of records, in the order loading applies them: a record refers only to records of
/// maps before its own (a vote to its round, a card to its author).
pub const MAPS: [(&str, char); 17] = [
    ("participants", 'p'),
    ("cards", 'k'),
    ("rounds", 'r'),
    ("votes", 'v'),
    ("rules", 'g'),
    ("agreements", 'a'),
    ("reports", 'x'),
    ("floor", 'f'),
    ("checks", 'q'),
    ("check_answers", 'a'),
    ("parties", 's'),
    ("criteria", 'c'),
    ("consents", 'a'),
    ("experiments", 'e'),
    ("reflections", 'y'),
    ("entries", 'a'),
    ("replay_links", 'l'),
];

/// Rebuilds the session from its document. `key` is the session's pseudonym key.
pub fn hydrate(doc: &Automerge, key: [u8; 32]) -> Result<Session, DocError> {
    let Value::Map(root) = doc.hydrate(None) else {
        return Err(DocError::Missing("the root map".into()));
    };
    let mut session = new_session(child(&root, "session")?, key)?;
    for (name, prefix) in MAPS {
        let Some(map) = root.get(name) else {
            // Maps added after the first version are missing from older documents.
            continue;
        };
        let Value::Map(map) = map else {
            return Err(bad(name, "not a map"));
        };
        for (index, record) in records(map, prefix)?.into_iter().enumerate() {
            apply_record(&mut session, name, index, &record)?;
        }
    }
    Ok(session)
}

/// A session from its `session` map (the first change writes all of it).
pub fn new_session(s: &Map, key: [u8; 32]) -> Result<Session, DocError> {
    let fields = SessionFields {
        code: text(s, "code")?,
        title: text(s, "title")?,
        problem: text(s, "problem")?,
        language: from_wire(s, "language")?,
        anonymous_cards: boolean(s, "anonymous_cards")?,
        created_at: int(s, "created_at")?,
        phase: small(s, "phase")?,
        status: from_wire(s, "status")?,
    };
    let mut session = Session::new(fields, key);
    apply_session(&mut session, s)?;
    Ok(session)
}

/// The session map's fields that change: the phase, the status, the rules' version, what the
/// big screen shows.
pub fn apply_session(session: &mut Session, s: &Map) -> Result<(), DocError> {
    session.fields.phase = small(s, "phase")?;
    session.fields.status = from_wire(s, "status")?;
    session.rules_version = match s.get("rules_version") {
        Some(_) => small(s, "rules_version")?,
        None => 0,
    };
    session.method.display = tafel_protocol::Display {
        table: s.get("display_table").is_some() && boolean(s, "display_table")?,
        criteria: s.get("display_criteria").is_some() && boolean(s, "display_criteria")?,
    };
    session.method.share_report = s.get("share_report").is_some() && boolean(s, "share_report")?;
    Ok(())
}

/// Applies one record of the map `map` (its `index`-th, from its key) to the session: a new
/// one is added, one seen before replaces the earlier (what was derived from other records,
/// such as a round's tallies, stays). Records of maps this version does not know are skipped.
pub fn apply_record(
    session: &mut Session,
    map: &str,
    index: usize,
    r: &Map,
) -> Result<(), DocError> {
    let whole = fields(r)?;
    let r = whole.as_ref().unwrap_or(r);
    let person = |session: &Session, key: &str, what| {
        let pseudonym = text(r, key)?;
        session
            .by_pseudonym
            .get(&pseudonym)
            .copied()
            .ok_or(DocError::Dangling(what))
    };
    match map {
        // A participant is written once, when they join.
        "participants" if index == session.participants.len() => {
            session.push_participant(Participant {
                name: text(r, "name")?,
                perspective: from_wire(r, "perspective")?,
                role: from_wire(r, "role")?,
                joined_at: int(r, "joined_at")?,
            });
        }
        "cards" => {
            let card = Card {
                kind: from_wire(r, "kind")?,
                phase: small(r, "phase")?,
                text: text(r, "text")?,
                author: session
                    .resolve_author(&text(r, "author")?)
                    .ok_or(DocError::Dangling("a card's author"))?,
                builds_on: ref_id(r, "builds_on", 'k')?,
                created_at: int(r, "created_at")?,
                edited_at: opt_int(r, "edited_at")?,
                status: from_wire(r, "status")?,
                merged_into: ref_id(r, "merged_into", 'k')?,
                source: opt_text(r, "source")?,
                lesson_of: lesson(r)?,
            };
            match session.cards.get_mut(index) {
                Some(old) => *old = card,
                None => {
                    session.push_card(card);
                }
            }
        }
        "rounds" => {
            let round = Round {
                phase: small(r, "phase")?,
                budget: small(r, "budget")?,
                max_per_card: small(r, "max_per_card")?,
                live: boolean(r, "live")?,
                opened_at: int(r, "opened_at")?,
                closed_at: opt_int(r, "closed_at")?,
                cards: id_list(r, "cards", 'k')?,
                totals: HashMap::new(),
                by_voter: HashMap::new(),
            };
            match session.rounds.get_mut(index) {
                Some(old) => {
                    let (totals, by_voter) = (
                        std::mem::take(&mut old.totals),
                        std::mem::take(&mut old.by_voter),
                    );
                    *old = Round {
                        totals,
                        by_voter,
                        ..round
                    };
                }
                None => session.rounds.push(round),
            }
        }
        "votes" => {
            let round = required_id(r, "round", 'r')?;
            let card = required_id(r, "card", 'k')?;
            let voter = person(session, "voter", "a vote's voter")?;
            let delta = int(r, "delta")?;
            session
                .rounds
                .get_mut(round)
                .ok_or(DocError::Dangling("a vote's round"))?
                .tally(voter, card, delta);
            session.vote_records += 1;
        }
        "rules" => {
            let rule = Rule {
                text: text(r, "text")?,
                removed: text(r, "status")? == "removed",
            };
            replace_or_push(&mut session.rules, index, rule);
        }
        "agreements" => {
            let voter = person(session, "voter", "an agreement's voter")?;
            let answer = (small(r, "version")?, boolean(r, "agree")?);
            session.agreements.insert(voter, answer);
            session.agreement_records += 1;
        }
        "reports" => {
            let reporter = person(session, "by", "a report's reporter")?;
            let report = Report {
                rule: required_id(r, "rule", 'g')?,
                about: ref_id(r, "about", 'p')?,
                note: opt_text(r, "note")?,
                reporter,
                anonymous: boolean(r, "anonymous")?,
                at: int(r, "at")?,
                status: from_wire(r, "status")?,
                resolved_at: opt_int(r, "resolved_at")?,
                consequence: match r.get("consequence") {
                    Some(_) => Some(from_json(r, "consequence")?),
                    None => None,
                },
            };
            session.put_report(index, report);
        }
        "floor" => {
            let at = int(r, "at")?;
            let event = if text(r, "t")? == "invite" {
                let who = text(r, "invitee")?;
                let p = session
                    .by_pseudonym
                    .get(&who)
                    .copied()
                    .ok_or_else(|| bad("invitee", "names nobody in the session"))?;
                Event::Invite {
                    p,
                    by: from_wire(r, "k")?,
                }
            } else {
                floor_event(r)?
            };
            session.floor.apply(&event, at);
        }
        "checks" => {
            let check = Check {
                opened_at: int(r, "opened_at")?,
                closed_at: opt_int(r, "closed_at")?,
                conclusion: opt_wire(r, "conclusion")?,
                note: opt_text(r, "note")?,
                answers: Default::default(),
            };
            let checks = &mut session.method.checks;
            match checks.get_mut(index) {
                Some(old) => {
                    *old = Check {
                        answers: std::mem::take(&mut old.answers),
                        ..check
                    }
                }
                None => checks.push(check),
            }
        }
        "check_answers" => {
            let voter = person(session, "voter", "a readiness answer's voter")?;
            let check = required_id(r, "check", 'q')?;
            let given = tafel_protocol::ReadinessAnswers {
                urgent: opt_wire(r, "urgent")?,
                complex: opt_wire(r, "complex")?,
                willing: opt_wire(r, "willing")?,
            };
            let comment = opt_text(r, "comment")?;
            session
                .method
                .checks
                .get_mut(check)
                .ok_or(DocError::Dangling("a readiness answer's check"))?
                .answers
                .insert(voter, (given, comment));
            session.method.check_answers += 1;
        }
        "parties" => {
            let party = Party {
                name: text(r, "name")?,
                perspective: from_wire(r, "perspective")?,
                stake: from_wire(r, "stake")?,
                status: from_wire(r, "status")?,
                by: person(session, "by", "a party's proposer")?,
                at: int(r, "at")?,
            };
            replace_or_push(&mut session.method.parties, index, party);
        }
        "criteria" => {
            let criterion = Criterion {
                text: text(r, "text")?,
                target: opt_float(r, "target")?,
                unit: opt_text(r, "unit")?,
                status: from_wire(r, "status")?,
                by: person(session, "by", "a criterion's proposer")?,
                at: int(r, "at")?,
                asked: boolean(r, "asked")?,
                consents: Default::default(),
                assessment: opt_wire(r, "assessment")?,
                assessment_note: opt_text(r, "assessment_note")?,
            };
            let criteria = &mut session.method.criteria;
            match criteria.get_mut(index) {
                Some(old) => {
                    *old = Criterion {
                        consents: std::mem::take(&mut old.consents),
                        ..criterion
                    };
                }
                None => criteria.push(criterion),
            }
        }
        "consents" => {
            let voter = person(session, "voter", "a consent's voter")?;
            let criterion = required_id(r, "criterion", 'c')?;
            let agree = boolean(r, "agree")?;
            session
                .method
                .criteria
                .get_mut(criterion)
                .ok_or(DocError::Dangling("a consent's criterion"))?
                .consents
                .insert(voter, agree);
            session.method.consent_records += 1;
        }
        "experiments" => {
            let experiment = Experiment {
                title: text(r, "title")?,
                from_card: ref_id(r, "card", 'k')?,
                by: person(session, "by", "an experiment's maker")?,
                prediction: text(r, "prediction")?,
                measure: text(r, "measure")?,
                owners: id_list(r, "owners", 'p')?,
                owner_party: opt_text(r, "owner_party")?,
                start: opt_text(r, "start")?,
                review: opt_text(r, "review")?,
                stop_criterion: text(r, "stop")?,
                status: from_wire(r, "status")?,
                outcome: opt_wire(r, "outcome")?,
                observed: text(r, "observed")?,
                decision: opt_wire(r, "decision")?,
                created_at: int(r, "at")?,
                updated_at: int(r, "updated_at")?,
            };
            replace_or_push(&mut session.method.experiments, index, experiment);
        }
        "reflections" => {
            let reflection = Reflection {
                phase: small(r, "phase")?,
                opened_at: int(r, "opened_at")?,
                closed_at: opt_int(r, "closed_at")?,
                entries: Default::default(),
            };
            let reflections = &mut session.method.reflections;
            match reflections.get_mut(index) {
                Some(old) => {
                    *old = Reflection {
                        entries: std::mem::take(&mut old.entries),
                        ..reflection
                    };
                }
                None => reflections.push(reflection),
            }
        }
        "entries" => {
            let by = person(session, "by", "a reflection's writer")?;
            let reflection = required_id(r, "reflection", 'y')?;
            let entry = Entry {
                worked: text(r, "worked")?,
                not_worked: text(r, "not_worked")?,
            };
            session
                .method
                .reflections
                .get_mut(reflection)
                .ok_or(DocError::Dangling("a reflection's round"))?
                .entries
                .insert(by, entry);
            session.method.entry_records += 1;
        }
        "replay_links" => {
            let link = ReplayLink {
                made_at: int(r, "made_at")?,
                revoked_at: opt_int(r, "revoked_at")?,
            };
            replace_or_push(&mut session.method.replay_links, index, link);
        }
        _ => {}
    }
    Ok(())
}

/// A record seen before replaces the earlier one; a new one is added.
fn replace_or_push<T>(list: &mut Vec<T>, index: usize, item: T) {
    match list.get_mut(index) {
        Some(old) => *old = item,
        None => list.push(item),
    }
}

/// What a lesson card is about: `e3`, or `phase:2`.
fn lesson(r: &Map) -> Result<Option<Lesson>, DocError> {
    let Some(v) = opt_text(r, "lesson_of")? else {
        return Ok(None);
    };
    Ok(Some(match v.strip_prefix("phase:") {
        Some(p) => Lesson::Phase(p.parse().map_err(|_| bad("lesson_of", &v))?),
        None => Lesson::Experiment(parse_id('e', &v).ok_or_else(|| bad("lesson_of", &v))?),
    }))
}

/// A floor event from its record.
fn floor_event(e: &Map) -> Result<Event, DocError> {
    let p = || required_id(e, "p", 'p');
    Ok(match text(e, "t")?.as_str() {
        "raise" => Event::Raise {
            p: p()?,
            kind: from_wire(e, "k")?,
        },
        "lower" => Event::Lower { p: p()? },
        "pass" => Event::Pass { p: p()? },
        "give" => Event::Give {
            p: p()?,
            kind: from_wire(e, "k")?,
            limit_ms: int(e, "n")?,
            over: boolean(e, "o")?,
            phase: small(e, "ph")?,
        },
        "end" => Event::End {
            how: from_wire(e, "k")?,
        },
        "pause" => Event::Pause,
        "resume" => Event::Resume,
        "set" => Event::Set(from_json(e, "v")?),
        other => return Err(bad("t", format!("unknown floor event {other:?}"))),
    })
}

fn bad(key: &str, problem: impl std::fmt::Display) -> DocError {
    DocError::Bad {
        key: key.to_owned(),
        problem: problem.to_string(),
    }
}

fn from_wire<T: serde::de::DeserializeOwned>(m: &Map, key: &str) -> Result<T, DocError> {
    let s = text(m, key)?;
    serde_json::from_value(serde_json::Value::String(s)).map_err(|e| bad(key, e))
}

fn from_json<T: serde::de::DeserializeOwned>(m: &Map, key: &str) -> Result<T, DocError> {
    serde_json::from_str(&text(m, key)?).map_err(|e| bad(key, e))
}

fn scalar<'a>(m: &'a Map, key: &str) -> Result<&'a ScalarValue, DocError> {
    match m.get(key) {
        Some(Value::Scalar(s)) => Ok(s),
        _ => Err(DocError::Missing(key.to_owned())),
    }
}
fn text(m: &Map, key: &str) -> Result<String, DocError> {
    scalar(m, key)?
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| bad(key, "not text"))
}
fn int(m: &Map, key: &str) -> Result<i64, DocError> {
    scalar(m, key)?
        .as_i64()
        .ok_or_else(|| bad(key, "not a number"))
}
fn opt_int(m: &Map, key: &str) -> Result<Option<i64>, DocError> {
    if m.get(key).is_none() {
        Ok(None)
    } else {
        int(m, key).map(Some)
    }
}
fn opt_text(m: &Map, key: &str) -> Result<Option<String>, DocError> {
    if m.get(key).is_none() {
        Ok(None)
    } else {
        text(m, key).map(Some)
    }
}
fn opt_float(m: &Map, key: &str) -> Result<Option<f64>, DocError> {
    match m.get(key) {
        None => Ok(None),
        Some(_) => match scalar(m, key)? {
            ScalarValue::F64(x) => Ok(Some(*x)),
            ScalarValue::Int(n) => Ok(Some(*n as f64)),
            _ => Err(bad(key, "not a number")),
        },
    }
}
fn opt_wire<T: serde::de::DeserializeOwned>(m: &Map, key: &str) -> Result<Option<T>, DocError> {
    match m.get(key) {
        None => Ok(None),
        Some(_) => from_wire(m, key).map(Some),
    }
}
fn id_list(m: &Map, key: &str, prefix: char) -> Result<Vec<usize>, DocError> {
    text(m, key)?
        .split(',')
        .filter(|x| !x.is_empty())
        .map(|x| parse_id(prefix, x).ok_or_else(|| bad(key, format!("{x:?} is not an id"))))
        .collect()
}
fn boolean(m: &Map, key: &str) -> Result<bool, DocError> {
    scalar(m, key)?
        .as_bool()
        .ok_or_else(|| bad(key, "not a boolean"))
}
fn small<T: TryFrom<i64>>(m: &Map, key: &str) -> Result<T, DocError> {
    T::try_from(int(m, key)?).map_err(|_| bad(key, "out of range"))
}
fn child<'a>(m: &'a Map, key: &str) -> Result<&'a Map, DocError> {
    match m.get(key) {
        Some(Value::Map(c)) => Ok(c),
        _ => Err(DocError::Missing(format!("map {key}"))),
    }
}
fn ref_id(m: &Map, key: &str, prefix: char) -> Result<Option<usize>, DocError> {
    match opt_text(m, key)? {
        None => Ok(None),
        Some(v) => parse_id(prefix, &v)
            .map(Some)
            .ok_or_else(|| bad(key, format!("{v:?} is not an id"))),
    }
}
fn required_id(m: &Map, key: &str, prefix: char) -> Result<usize, DocError> {
    ref_id(m, key, prefix)?.ok_or_else(|| DocError::Missing(key.to_owned()))
}
/// A record still as it was made, its fields one JSON value, as the map a later change makes
/// of it: that JSON under [`INIT`].
pub fn made(json: &str) -> Map {
    let value = Value::Scalar(ScalarValue::Str(json.into()));
    Map::from(HashMap::from([(INIT.to_owned(), value)]))
}

/// A field of a record's JSON (as it was made) as the value it is in the document: text, a
/// number or a flag; `None` for anything else.
pub fn plain_value(value: serde_json::Value) -> Option<ScalarValue> {
    Some(match value {
        serde_json::Value::String(s) => ScalarValue::Str(s.into()),
        serde_json::Value::Bool(b) => ScalarValue::Boolean(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => ScalarValue::Int(i),
            None => ScalarValue::F64(n.as_f64()?),
        },
        _ => return None,
    })
}

/// A record's fields as one map, when it keeps some in its `init` (the fields it was made
/// with, as JSON) or marks some cleared (null): `init` first, then each key beside it, which
/// wins, and without the cleared ones. `None` when the record is a plain map already (as
/// every record of documents written before `init`).
fn fields(r: &Map) -> Result<Option<Map>, DocError> {
    let null = |v: &Value| matches!(v, Value::Scalar(ScalarValue::Null));
    let init = r.get(INIT);
    if init.is_none() && !r.values().any(|v| null(&v.value)) {
        return Ok(None);
    }
    let mut out: HashMap<String, Value> = HashMap::with_capacity(r.len() + 8);
    if let Some(init) = init {
        let Value::Scalar(ScalarValue::Str(json)) = init else {
            return Err(bad(INIT, "not text"));
        };
        let serde_json::Value::Object(made) =
            serde_json::from_str(json.as_str()).map_err(|_| bad(INIT, "not a JSON object"))?
        else {
            return Err(bad(INIT, "not a JSON object"));
        };
        for (key, value) in made {
            let scalar = plain_value(value).ok_or_else(|| bad(&key, "not a plain value"))?;
            out.insert(key, Value::Scalar(scalar));
        }
    }
    for (key, v) in r.iter() {
        if key == INIT {
            continue;
        }
        if null(&v.value) {
            out.remove(key);
        } else {
            out.insert(key.clone(), v.value.clone());
        }
    }
    Ok(Some(Map::from(out)))
}

/// Entries of a map keyed by `{prefix}{n}`, in id order.
fn records(m: &Map, prefix: char) -> Result<Vec<Cow<'_, Map>>, DocError> {
    let mut out: Vec<(usize, Cow<'_, Map>)> = Vec::with_capacity(m.len());
    for (key, v) in m.iter() {
        let i = parse_id(prefix, key).ok_or_else(|| bad(key, "not a record id"))?;
        match &v.value {
            Value::Map(r) => out.push((i, Cow::Borrowed(r))),
            Value::Scalar(ScalarValue::Str(json)) => out.push((i, Cow::Owned(made(json)))),
            _ => return Err(bad(key, "not a record")),
        }
    }
    out.sort_by_key(|(i, _)| *i);
    if out.iter().enumerate().any(|(n, (i, _))| n != *i) {
        return Err(bad(&prefix.to_string(), "a gap in the record ids"));
    }
    Ok(out.into_iter().map(|(_, r)| r).collect())
}

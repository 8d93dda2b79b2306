//! `open_check`, `answer_check` and `conclude_check`: phase 0's readiness check. The
//! facilitator opens it; each participant answers the three questions (urgent? complex?
//! willing to work on it together?) and may add a comment; the facilitator records the
//! group's conclusion. Answers are stored under the person's pseudonym, append-only (the
//! latest counts), and shown only as counts.

use super::{Actor, Ctx, Outcome, existing, facilitator, member, note_of};
use crate::error::{Refusal, refuse};
use crate::session::changes::Part;
use crate::session::doc::{self, Field};
use crate::session::method::Check;
use crate::session::state::id;
use tafel_protocol::{AckResult, Conclusion, ErrorCode, ReadinessAnswers, method_limits};

/// A check that exists.
fn check(cx: &Ctx<'_, '_>, check: &str) -> Result<usize, Refusal> {
    let len = cx.s.method.checks.len();
    existing('q', check, len, ErrorCode::UnknownCheck, "readiness check")
}

/// A check that takes answers.
fn open_check(cx: &Ctx<'_, '_>, id: &str) -> Result<usize, Refusal> {
    let q = check(cx, id)?;
    if !cx.s.method.checks[q].is_open() {
        return Err(refuse(ErrorCode::Closed, "this readiness check is closed"));
    }
    Ok(q)
}

pub(super) fn open(cx: &mut Ctx<'_, '_>, actor: Actor) -> Outcome {
    facilitator(actor)?;
    if cx.s.method.open_check().is_some() {
        return Err(refuse(
            ErrorCode::AlreadyOpen,
            "a readiness check is open; record its conclusion first",
        ));
    }
    let index = cx.s.method.checks.len();
    if index >= method_limits::MAX_ROUNDS {
        let why = format!("at most {} readiness checks", method_limits::MAX_ROUNDS);
        return Err(refuse(ErrorCode::Invalid, why));
    }
    let fields = [("opened_at", Field::Int(cx.now))];
    doc::put_fields(cx.tx, "checks", &id('q', index), true, &fields)?;
    cx.s.method.checks.push(Check {
        opened_at: cx.now,
        closed_at: None,
        conclusion: None,
        note: None,
        answers: Default::default(),
    });
    cx.changed.entity(Part::Checks, index);
    Ok(AckResult {
        check: Some(id('q', index)),
        ..AckResult::default()
    })
}

pub(super) fn answer(
    cx: &mut Ctx<'_, '_>,
    actor: Actor,
    check: &str,
    answers: ReadinessAnswers,
    comment: Option<&str>,
) -> Outcome {
    let me = member(actor)?;
    let q = open_check(cx, check)?;
    let comment = note_of(comment, method_limits::NOTE_CHARS, "a comment")?;
    if answers == ReadinessAnswers::default() && comment.is_none() {
        return Err(refuse(
            ErrorCode::Invalid,
            "answer at least one question, or write a comment",
        ));
    }
    let given = (answers, comment);
    if cx.s.method.checks[q].answers.get(&me) == Some(&given) {
        return Ok(AckResult::default());
    }
    let wire = |a: Option<tafel_protocol::Answer>| a.map(|a| doc::wire(&a));
    let (urgent, complex, willing) = (
        wire(answers.urgent),
        wire(answers.complex),
        wire(answers.willing),
    );
    let fields = [
        ("check", Field::Text(&id('q', q))),
        ("voter", Field::Text(&cx.s.pseudonyms[me])),
        ("urgent", urgent.as_deref().into()),
        ("complex", complex.as_deref().into()),
        ("willing", willing.as_deref().into()),
        ("comment", given.1.as_deref().into()),
        ("at", Field::Int(cx.now)),
    ];
    let key = format!("a{}", cx.s.method.check_answers + 1);
    doc::put_fields(cx.tx, "check_answers", &key, true, &fields)?;
    cx.s.method.check_answers += 1;
    cx.s.method.checks[q].answers.insert(me, given);
    cx.changed.entity(Part::Checks, q);
    cx.changed.your_answers(me, q);
    Ok(AckResult::default())
}

pub(super) fn conclude(
    cx: &mut Ctx<'_, '_>,
    actor: Actor,
    check: &str,
    conclusion: Conclusion,
    note: Option<&str>,
) -> Outcome {
    facilitator(actor)?;
    let q = open_check(cx, check)?;
    let note = note_of(note, method_limits::NOTE_CHARS, "a note")?;
    let fields = [
        ("closed_at", Field::Int(cx.now)),
        ("conclusion", Field::Text(&doc::wire(&conclusion))),
        ("note", note.as_deref().into()),
    ];
    doc::put_fields(cx.tx, "checks", &id('q', q), false, &fields)?;
    let c = &mut cx.s.method.checks[q];
    c.closed_at = Some(cx.now);
    c.conclusion = Some(conclusion);
    c.note = note;
    cx.changed.entity(Part::Checks, q);
    Ok(AckResult::default())
}

//! `open_reflection`, `reflect` and `close_reflection`: a short look back at the end of a
//! phase. The facilitator opens it; each participant writes a sentence on what worked and one
//! on what did not (without their name when the session's cards are anonymous); the
//! facilitator closes it.

use super::{Actor, Ctx, Outcome, existing, facilitator, member, text_of};
use crate::error::{Refusal, refuse};
use crate::session::changes::Part;
use crate::session::doc::{self, Field};
use crate::session::method::{Entry, Reflection};
use crate::session::state::{PHASES, id};
use tafel_protocol::{AckResult, ErrorCode, method_limits};

fn reflection(cx: &Ctx<'_, '_>, reflection: &str) -> Result<usize, Refusal> {
    let len = cx.s.method.reflections.len();
    let y = existing(
        'y',
        reflection,
        len,
        ErrorCode::UnknownReflection,
        "reflection",
    )?;
    if !cx.s.method.reflections[y].is_open() {
        return Err(refuse(ErrorCode::Closed, "this reflection is closed"));
    }
    Ok(y)
}

pub(super) fn open(cx: &mut Ctx<'_, '_>, actor: Actor, phase: Option<u8>) -> Outcome {
    facilitator(actor)?;
    let phase = phase.unwrap_or(cx.s.fields.phase);
    if phase >= PHASES {
        let why = format!("phase must be 0 to {}", PHASES - 1);
        return Err(refuse(ErrorCode::Invalid, why));
    }
    if cx.s.method.open_reflection().is_some() {
        return Err(refuse(
            ErrorCode::AlreadyOpen,
            "a reflection is open; close it first",
        ));
    }
    let index = cx.s.method.reflections.len();
    if index >= method_limits::MAX_ROUNDS {
        let why = format!("at most {} reflections", method_limits::MAX_ROUNDS);
        return Err(refuse(ErrorCode::Invalid, why));
    }
    let fields = [
        ("phase", Field::Int(i64::from(phase))),
        ("opened_at", Field::Int(cx.now)),
    ];
    doc::put_fields(cx.tx, "reflections", &id('y', index), true, &fields)?;
    cx.s.method.reflections.push(Reflection {
        phase,
        opened_at: cx.now,
        closed_at: None,
        entries: Default::default(),
    });
    cx.changed.entity(Part::Reflections, index);
    Ok(AckResult {
        reflection: Some(id('y', index)),
        ..AckResult::default()
    })
}

pub(super) fn reflect(
    cx: &mut Ctx<'_, '_>,
    actor: Actor,
    reflection_id: &str,
    worked: &str,
    not_worked: &str,
) -> Outcome {
    let me = member(actor)?;
    let y = reflection(cx, reflection_id)?;
    let entry = Entry {
        worked: text_of(worked, method_limits::REFLECTION_CHARS, "what worked")?,
        not_worked: text_of(not_worked, method_limits::REFLECTION_CHARS, "what did not")?,
    };
    if entry.worked.is_empty() && entry.not_worked.is_empty() {
        return Err(refuse(
            ErrorCode::Invalid,
            "write what worked, what did not, or both",
        ));
    }
    if cx.s.method.reflections[y].entries.get(&me) == Some(&entry) {
        return Ok(AckResult::default());
    }
    let fields = [
        ("reflection", Field::Text(&id('y', y))),
        ("by", Field::Text(&cx.s.pseudonyms[me])),
        ("worked", Field::Text(&entry.worked)),
        ("not_worked", Field::Text(&entry.not_worked)),
        ("at", Field::Int(cx.now)),
    ];
    let key = format!("a{}", cx.s.method.entry_records + 1);
    doc::put_fields(cx.tx, "entries", &key, true, &fields)?;
    cx.s.method.entry_records += 1;
    cx.s.method.reflections[y].entries.insert(me, entry);
    cx.changed.entity(Part::Reflections, y);
    cx.changed.your_reflection(me, y);
    Ok(AckResult::default())
}

pub(super) fn close(cx: &mut Ctx<'_, '_>, actor: Actor, reflection_id: &str) -> Outcome {
    facilitator(actor)?;
    let y = reflection(cx, reflection_id)?;
    let fields = [("closed_at", Field::Int(cx.now))];
    doc::put_fields(cx.tx, "reflections", &id('y', y), false, &fields)?;
    cx.s.method.reflections[y].closed_at = Some(cx.now);
    cx.changed.entity(Part::Reflections, y);
    Ok(AckResult::default())
}

//! `propose_criterion`, `ask_consent`, `consent`, `decide_criterion` and `assess_criterion`:
//! when the group will be satisfied. Anyone proposes a criterion; the facilitator asks the
//! group (a consent round: each participant agrees or objects, counted, never named) and
//! records the decision; in phase 5 the facilitator records how far each agreed criterion was
//! met.

use super::{Actor, Ctx, Outcome, existing, facilitator, member, note_of, person, text_of};
use crate::error::{Refusal, refuse};
use crate::session::changes::Part;
use crate::session::doc::{self, Field};
use crate::session::method::Criterion;
use crate::session::state::id;
use tafel_protocol::{AckResult, Assessment, CriterionStatus, ErrorCode, method_limits};

/// The phase in which criteria are assessed: present and reflect.
const ASSESSED_IN: u8 = 5;

fn criterion(cx: &Ctx<'_, '_>, criterion: &str) -> Result<usize, Refusal> {
    let len = cx.s.method.criteria.len();
    existing(
        'c',
        criterion,
        len,
        ErrorCode::UnknownCriterion,
        "criterion",
    )
}

/// Writes a criterion's status (and that it was asked) and marks it changed.
fn set_status(
    cx: &mut Ctx<'_, '_>,
    c: usize,
    status: CriterionStatus,
) -> Result<(), super::CmdError> {
    let asked = cx.s.method.criteria[c].asked || status == CriterionStatus::Asked;
    let fields = [
        ("status", Field::Text(&doc::wire(&status))),
        ("asked", Field::Bool(asked)),
    ];
    doc::put_fields(cx.tx, "criteria", &id('c', c), false, &fields)?;
    let criterion = &mut cx.s.method.criteria[c];
    criterion.status = status;
    criterion.asked = asked;
    cx.changed.entity(Part::Criteria, c);
    Ok(())
}

pub(super) fn propose(
    cx: &mut Ctx<'_, '_>,
    actor: Actor,
    text: &str,
    target: Option<f64>,
    unit: Option<&str>,
) -> Outcome {
    let me = person(actor)?;
    let text = text_of(text, method_limits::CRITERION_CHARS, "a criterion")?;
    let unit = unit
        .map(|u| text_of(u, method_limits::UNIT_CHARS, "a unit"))
        .transpose()?;
    if target.is_some() != unit.is_some() {
        return Err(refuse(
            ErrorCode::Invalid,
            "a measurable criterion has both a target and a unit",
        ));
    }
    if target.is_some_and(|t| !t.is_finite() || t.abs() > 1e12) {
        return Err(refuse(
            ErrorCode::Invalid,
            "the target must be a plain number",
        ));
    }
    let index = cx.s.method.criteria.len();
    if index >= method_limits::MAX_CRITERIA {
        let why = format!("at most {} criteria", method_limits::MAX_CRITERIA);
        return Err(refuse(ErrorCode::Invalid, why));
    }
    let status = CriterionStatus::Proposed;
    let fields = [
        ("text", Field::Text(&text)),
        ("target", target.map_or(Field::None, Field::Float)),
        ("unit", unit.as_deref().into()),
        ("status", Field::Text(&doc::wire(&status))),
        ("by", Field::Text(&cx.s.pseudonyms[me])),
        ("at", Field::Int(cx.now)),
        ("asked", Field::Bool(false)),
    ];
    doc::put_fields(cx.tx, "criteria", &id('c', index), true, &fields)?;
    cx.s.method.criteria.push(Criterion {
        text,
        target,
        unit,
        status,
        by: me,
        at: cx.now,
        asked: false,
        consents: Default::default(),
        assessment: None,
        assessment_note: None,
    });
    cx.changed.entity(Part::Criteria, index);
    Ok(AckResult {
        criterion: Some(id('c', index)),
        ..AckResult::default()
    })
}

pub(super) fn ask(cx: &mut Ctx<'_, '_>, actor: Actor, criterion_id: &str) -> Outcome {
    facilitator(actor)?;
    let c = criterion(cx, criterion_id)?;
    match cx.s.method.criteria[c].status {
        CriterionStatus::Asked => Ok(AckResult::default()),
        CriterionStatus::Agreed => Err(refuse(
            ErrorCode::Invalid,
            "the group already agreed to this criterion",
        )),
        CriterionStatus::Proposed | CriterionStatus::Dropped => {
            set_status(cx, c, CriterionStatus::Asked)?;
            Ok(AckResult::default())
        }
    }
}

pub(super) fn consent(
    cx: &mut Ctx<'_, '_>,
    actor: Actor,
    criterion_id: &str,
    agree: bool,
) -> Outcome {
    let me = member(actor)?;
    let c = criterion(cx, criterion_id)?;
    if cx.s.method.criteria[c].status != CriterionStatus::Asked {
        return Err(refuse(
            ErrorCode::Closed,
            "the group is not being asked about this criterion now",
        ));
    }
    if cx.s.method.criteria[c].consents.get(&me) == Some(&agree) {
        return Ok(AckResult::default());
    }
    let fields = [
        ("criterion", Field::Text(&id('c', c))),
        ("voter", Field::Text(&cx.s.pseudonyms[me])),
        ("agree", Field::Bool(agree)),
        ("at", Field::Int(cx.now)),
    ];
    let key = format!("a{}", cx.s.method.consent_records + 1);
    doc::put_fields(cx.tx, "consents", &key, true, &fields)?;
    cx.s.method.consent_records += 1;
    cx.s.method.criteria[c].consents.insert(me, agree);
    cx.changed.entity(Part::Criteria, c);
    cx.changed.your_consent(me, c);
    Ok(AckResult::default())
}

pub(super) fn decide(
    cx: &mut Ctx<'_, '_>,
    actor: Actor,
    criterion_id: &str,
    agreed: bool,
) -> Outcome {
    facilitator(actor)?;
    let c = criterion(cx, criterion_id)?;
    let status = if agreed {
        CriterionStatus::Agreed
    } else {
        CriterionStatus::Dropped
    };
    if cx.s.method.criteria[c].status != status {
        set_status(cx, c, status)?;
    }
    Ok(AckResult::default())
}

pub(super) fn assess(
    cx: &mut Ctx<'_, '_>,
    actor: Actor,
    criterion_id: &str,
    assessment: Assessment,
    note: Option<&str>,
) -> Outcome {
    facilitator(actor)?;
    let c = criterion(cx, criterion_id)?;
    if cx.s.fields.phase != ASSESSED_IN {
        return Err(refuse(
            ErrorCode::Invalid,
            "criteria are assessed in phase 5, present and reflect",
        ));
    }
    if cx.s.method.criteria[c].status != CriterionStatus::Agreed {
        return Err(refuse(
            ErrorCode::Invalid,
            "only a criterion the group agreed to is assessed",
        ));
    }
    let note = note_of(note, method_limits::NOTE_CHARS, "a note")?;
    let fields = [
        ("assessment", Field::Text(&doc::wire(&assessment))),
        ("assessment_note", note.as_deref().into()),
        ("assessed_at", Field::Int(cx.now)),
    ];
    doc::put_fields(cx.tx, "criteria", &id('c', c), false, &fields)?;
    let criterion = &mut cx.s.method.criteria[c];
    criterion.assessment = Some(assessment);
    criterion.assessment_note = note;
    cx.changed.entity(Part::Criteria, c);
    Ok(AckResult::default())
}

//! `add_experiment` and `update_experiment`: an idea tried out. The facilitator, or the author
//! of the idea it comes from, makes one; they and its owners keep it up to date: the
//! prediction and measure up front, owners and dates, when to stop, and afterwards the outcome
//! against the prediction and the decision. A failed experiment is kept like any other.

use super::{Actor, CmdError, Ctx, Outcome, card, existing, name_of, person, text_of};
use crate::error::{Refusal, refuse};
use crate::session::changes::Part;
use crate::session::doc::{self, Field};
use crate::session::method::Experiment;
use crate::session::state::id;
use tafel_protocol::{
    AckResult, CardStatus, ErrorCode, ExperimentChange, ExperimentStatus, Role, method_limits,
};

fn experiment(cx: &Ctx<'_, '_>, experiment: &str) -> Result<usize, Refusal> {
    let len = cx.s.method.experiments.len();
    existing(
        'e',
        experiment,
        len,
        ErrorCode::UnknownExperiment,
        "experiment",
    )
}

/// A calendar date written `YYYY-MM-DD`; empty for none.
fn date(value: &str, what: &str) -> Result<Option<String>, Refusal> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let invalid = || {
        refuse(
            ErrorCode::Invalid,
            format!("{what} must be a date, YYYY-MM-DD"),
        )
    };
    let parts: Vec<&str> = value.split('-').collect();
    let [y, m, d] = parts[..] else {
        return Err(invalid());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(invalid());
    }
    let number = |s: &str| s.parse::<u16>().map_err(|_| invalid());
    let (year, month, day) = (number(y)?, number(m)?, number(d)?);
    let month = time::Month::try_from(u8::try_from(month).map_err(|_| invalid())?)
        .map_err(|_| invalid())?;
    let day = u8::try_from(day).map_err(|_| invalid())?;
    time::Date::from_calendar_date(i32::from(year), month, day).map_err(|_| invalid())?;
    Ok(Some(value.to_owned()))
}

pub(super) fn add(
    cx: &mut Ctx<'_, '_>,
    actor: Actor,
    title: &str,
    from_card: Option<&str>,
) -> Outcome {
    let me = person(actor)?;
    let title = text_of(title, method_limits::TITLE_CHARS, "a title")?;
    let from_card = from_card.map(|k| card(cx.s, k)).transpose()?;
    match from_card {
        Some(k) if cx.s.cards[k].status != CardStatus::Visible => {
            return Err(refuse(
                ErrorCode::CardUnavailable,
                "an experiment comes from a card on the board",
            ));
        }
        Some(k) if actor.role != Role::Facilitator && cx.s.cards[k].author != me => {
            return Err(refuse(
                ErrorCode::Forbidden,
                "only the facilitator or the idea's author turns it into an experiment",
            ));
        }
        None if actor.role != Role::Facilitator => {
            return Err(refuse(
                ErrorCode::Forbidden,
                "an experiment comes from your own idea, or from the facilitator",
            ));
        }
        _ => {}
    }
    let index = cx.s.method.experiments.len();
    if index >= method_limits::MAX_EXPERIMENTS {
        let why = format!("at most {} experiments", method_limits::MAX_EXPERIMENTS);
        return Err(refuse(ErrorCode::Invalid, why));
    }
    let new = Experiment {
        title,
        from_card,
        by: me,
        prediction: String::new(),
        measure: String::new(),
        owners: Vec::new(),
        owner_party: None,
        start: None,
        review: None,
        stop_criterion: String::new(),
        status: ExperimentStatus::Planned,
        outcome: None,
        observed: String::new(),
        decision: None,
        created_at: cx.now,
        updated_at: cx.now,
    };
    write(cx, index, &new, true)?;
    cx.s.method.experiments.push(new);
    cx.changed.entity(Part::Experiments, index);
    Ok(AckResult {
        experiment: Some(id('e', index)),
        ..AckResult::default()
    })
}

/// Writes an experiment whole (it changes rarely; a whole record keeps the code simple).
fn write(cx: &mut Ctx<'_, '_>, index: usize, e: &Experiment, new: bool) -> Result<(), CmdError> {
    let wire = |v: Option<String>| v;
    let (status, outcome, decision) = (
        doc::wire(&e.status),
        wire(e.outcome.map(|o| doc::wire(&o))),
        wire(e.decision.map(|d| doc::wire(&d))),
    );
    let card = e.from_card.map(|k| id('k', k));
    let owners = doc::ids_text('p', &e.owners);
    let fields = [
        ("title", Field::Text(&e.title)),
        ("card", card.as_deref().into()),
        ("by", Field::Text(&cx.s.pseudonyms[e.by])),
        ("prediction", Field::Text(&e.prediction)),
        ("measure", Field::Text(&e.measure)),
        ("owners", Field::Text(&owners)),
        ("owner_party", e.owner_party.as_deref().into()),
        ("start", e.start.as_deref().into()),
        ("review", e.review.as_deref().into()),
        ("stop", Field::Text(&e.stop_criterion)),
        ("status", Field::Text(&status)),
        ("outcome", outcome.as_deref().into()),
        ("observed", Field::Text(&e.observed)),
        ("decision", decision.as_deref().into()),
        ("at", Field::Int(e.created_at)),
        ("updated_at", Field::Int(e.updated_at)),
    ];
    doc::put_fields(cx.tx, "experiments", &id('e', index), new, &fields)?;
    Ok(())
}

pub(super) fn update(
    cx: &mut Ctx<'_, '_>,
    actor: Actor,
    experiment_id: &str,
    change: &ExperimentChange,
) -> Outcome {
    let me = person(actor)?;
    let x = experiment(cx, experiment_id)?;
    let old = cx.s.method.experiments[x].clone();
    let idea_author = old.from_card.map(|k| cx.s.cards[k].author);
    let may = actor.role == Role::Facilitator
        || old.by == me
        || idea_author == Some(me)
        || old.owners.contains(&me);
    if !may {
        return Err(refuse(
            ErrorCode::Forbidden,
            "only the facilitator, the idea's author or an owner changes an experiment",
        ));
    }
    if change == &ExperimentChange::default() {
        return Err(refuse(ErrorCode::Invalid, "nothing to change"));
    }
    let long = |v: &Option<String>, what| {
        v.as_deref()
            .map(|t| text_of(t, method_limits::EXPERIMENT_TEXT_CHARS, what))
            .transpose()
    };
    let mut e = old.clone();
    if let Some(t) = &change.title {
        e.title = text_of(t, method_limits::TITLE_CHARS, "a title")?;
    }
    if let Some(t) = long(&change.prediction, "a prediction")? {
        e.prediction = t;
    }
    if let Some(t) = long(&change.measure, "a measure")? {
        e.measure = t;
    }
    if let Some(t) = long(&change.stop_criterion, "a stop criterion")? {
        e.stop_criterion = t;
    }
    if let Some(t) = long(&change.observed, "what was observed")? {
        e.observed = t;
    }
    if let Some(owners) = &change.owners {
        if owners.len() > method_limits::MAX_OWNERS {
            let why = format!("at most {} owners", method_limits::MAX_OWNERS);
            return Err(refuse(ErrorCode::Invalid, why));
        }
        let len = cx.s.participants.len();
        let mut indexes = Vec::new();
        for p in owners {
            let p = existing('p', p, len, ErrorCode::UnknownParticipant, "participant")?;
            if !indexes.contains(&p) {
                indexes.push(p);
            }
        }
        e.owners = indexes;
    }
    if let Some(party) = &change.owner_party {
        let party = name_of(party, method_limits::OWNER_PARTY_CHARS, "an owner's name")?;
        e.owner_party = Some(party).filter(|p| !p.is_empty());
    }
    if let Some(start) = &change.start {
        e.start = date(start, "the start")?;
    }
    if let Some(review) = &change.review {
        e.review = date(review, "the review date")?;
    }
    if let Some(status) = change.status {
        e.status = status;
    }
    if let Some(outcome) = change.outcome {
        e.outcome = Some(outcome);
    }
    if let Some(decision) = change.decision {
        e.decision = Some(decision);
    }
    if e == old {
        return Ok(AckResult::default());
    }
    e.updated_at = cx.now;
    write(cx, x, &e, false)?;
    cx.s.method.experiments[x] = e;
    cx.changed.entity(Part::Experiments, x);
    Ok(AckResult::default())
}

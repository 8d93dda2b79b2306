//! `add_card`: a person adds a card to the current phase. An example may say where it comes
//! from; a lesson, what it is about (an experiment or a phase).

use super::{Ctx, Outcome, card, existing, person, text_of};
use crate::error::refuse;
use crate::session::changes::Part;
use crate::session::doc;
use crate::session::method::Lesson;
use crate::session::state::{Card, PHASES, id};
use tafel_protocol::{AckResult, CardKind, CardStatus, ErrorCode, LessonOf, limits, method_limits};

/// What a card says besides its text.
pub(super) struct Extras<'a> {
    /// The card it builds on.
    pub builds_on: Option<&'a str>,
    /// An example's origin.
    pub source: Option<&'a str>,
    /// What a lesson is about.
    pub lesson_of: Option<&'a LessonOf>,
}

pub(super) fn apply(
    cx: &mut Ctx<'_, '_>,
    actor: super::Actor,
    text: &str,
    kind: CardKind,
    extras: Extras<'_>,
) -> Outcome {
    let author = person(actor)?;
    let text = text_of(text, limits::CARD_CHARS, "a card")?;
    let builds_on = match extras.builds_on {
        Some(b) => {
            let b = card(cx.s, b)?;
            if cx.s.cards[b].status != CardStatus::Visible {
                return Err(refuse(
                    ErrorCode::CardUnavailable,
                    "you can only build on a card on the board",
                ));
            }
            Some(b)
        }
        None => None,
    };
    let source = match extras.source {
        Some(_) if kind != CardKind::Example => {
            return Err(refuse(ErrorCode::Invalid, "only an example has a source"));
        }
        Some(s) => {
            Some(text_of(s, method_limits::SOURCE_CHARS, "a source")?).filter(|s| !s.is_empty())
        }
        None => None,
    };
    let lesson_of = match extras.lesson_of {
        Some(_) if kind != CardKind::Lesson => {
            return Err(refuse(
                ErrorCode::Invalid,
                "only a lesson is about something",
            ));
        }
        Some(LessonOf::Experiment(e)) => {
            let len = cx.s.method.experiments.len();
            let e = existing('e', e, len, ErrorCode::UnknownExperiment, "experiment")?;
            Some(Lesson::Experiment(e))
        }
        Some(LessonOf::Phase(p)) if *p < PHASES => Some(Lesson::Phase(*p)),
        Some(LessonOf::Phase(_)) => {
            let why = format!("phase must be 0 to {}", PHASES - 1);
            return Err(refuse(ErrorCode::Invalid, why));
        }
        None => None,
    };
    let index = cx.s.cards.len();
    let new = Card {
        kind,
        phase: cx.s.fields.phase,
        text,
        author,
        builds_on,
        created_at: cx.now,
        edited_at: None,
        status: CardStatus::Visible,
        merged_into: None,
        source,
        lesson_of,
    };
    let stored_author = if cx.s.fields.anonymous_cards {
        cx.s.pseudonyms[author].clone()
    } else {
        id('p', author)
    };
    doc::put_card(cx.tx, cx.o, index, &new, &stored_author)?;
    cx.s.push_card(new);
    cx.changed.entity(Part::Cards, index);
    cx.changed.your_card(author, index);
    Ok(AckResult {
        card: Some(id('k', index)),
        ..Default::default()
    })
}

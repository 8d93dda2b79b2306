//! `add_card`: a person adds a card to the current phase.

use super::{Ctx, Outcome, card, person, text_of};
use crate::error::refuse;
use crate::session::changes::Part;
use crate::session::doc;
use crate::session::state::{Card, id};
use tafel_protocol::{AckResult, CardKind, CardStatus, ErrorCode, limits};

pub(super) fn apply(
    cx: &mut Ctx<'_, '_>,
    actor: super::Actor,
    text: &str,
    kind: CardKind,
    builds_on: Option<&str>,
) -> Outcome {
    let author = person(actor)?;
    let text = text_of(text, limits::CARD_CHARS, "a card")?;
    let builds_on = match builds_on {
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

//! `merge_cards`: the facilitator folds a duplicate into another card.

use super::{Actor, Ctx, Outcome, card, card_in, facilitator, not_in_open_round};
use crate::error::refuse;
use crate::session::changes::Part;
use crate::session::doc;
use tafel_protocol::{AckResult, CardStatus, ErrorCode};

pub(super) fn apply(cx: &mut Ctx<'_, '_>, actor: Actor, id: &str, into: &str) -> Outcome {
    facilitator(actor)?;
    let c = card(cx.s, id)?;
    let into = card(cx.s, into)?;
    if c == into {
        return Err(refuse(
            ErrorCode::Invalid,
            "a card cannot be merged into itself",
        ));
    }
    card_in(cx.s, c, &[CardStatus::Visible, CardStatus::Hidden])?;
    card_in(cx.s, into, &[CardStatus::Visible])?;
    not_in_open_round(cx.s, c)?;
    not_in_open_round(cx.s, into)?;
    doc::put_card_status(cx.tx, cx.o, c, CardStatus::Merged, Some(into))?;
    let card = &mut cx.s.cards[c];
    card.status = CardStatus::Merged;
    card.merged_into = Some(into);
    cx.changed.entity(Part::Cards, c);
    Ok(AckResult::default())
}

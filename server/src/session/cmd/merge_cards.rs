//! `merge_cards` and `unmerge_card`: the facilitator folds a duplicate into another card, and
//! takes it out again.

use super::{Actor, Ctx, Outcome, card, card_in, facilitator, not_in_open_round};
use crate::error::refuse_on;
use crate::session::changes::Part;
use crate::session::doc;
use tafel_protocol::{AckResult, CardStatus, ErrorCode};

pub(super) fn apply(cx: &mut Ctx<'_, '_>, actor: Actor, id: &str, into: &str) -> Outcome {
    facilitator(actor)?;
    let c = card(cx.s, id)?;
    let into = card(cx.s, into)?;
    if c == into {
        return Err(refuse_on(
            ErrorCode::Invalid,
            "into",
            "a card cannot be merged into itself",
        ));
    }
    card_in(cx.s, c, &[CardStatus::Visible, CardStatus::Hidden]).map_err(|r| r.on("card"))?;
    card_in(cx.s, into, &[CardStatus::Visible]).map_err(|r| r.on("into"))?;
    not_in_open_round(cx.s, c).map_err(|r| r.on("card"))?;
    not_in_open_round(cx.s, into).map_err(|r| r.on("into"))?;
    doc::put_card_status(cx.tx, cx.o, c, CardStatus::Merged, Some(into))?;
    let card = &mut cx.s.cards[c];
    card.status = CardStatus::Merged;
    card.merged_into = Some(into);
    cx.changed.entity(Part::Cards, c);
    Ok(AckResult::default())
}

/// Undoes a merge: the card is `visible` again, merged into nothing.
pub(super) fn undo(cx: &mut Ctx<'_, '_>, actor: Actor, id: &str) -> Outcome {
    facilitator(actor)?;
    let c = card(cx.s, id)?;
    card_in(cx.s, c, &[CardStatus::Merged])?;
    doc::put_card_status(cx.tx, cx.o, c, CardStatus::Visible, None)?;
    let card = &mut cx.s.cards[c];
    card.status = CardStatus::Visible;
    card.merged_into = None;
    cx.changed.entity(Part::Cards, c);
    Ok(AckResult::default())
}

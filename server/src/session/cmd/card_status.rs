//! `hide_card` and `restore_card`: the facilitator takes a card off the board and back.

use super::{Actor, Ctx, Outcome, card, card_in, facilitator};
use crate::session::changes::Part;
use crate::session::doc;
use tafel_protocol::{AckResult, CardStatus};

fn set(cx: &mut Ctx<'_, '_>, actor: Actor, id: &str, from: CardStatus, to: CardStatus) -> Outcome {
    facilitator(actor)?;
    let c = card(cx.s, id)?;
    card_in(cx.s, c, &[from])?;
    doc::put_card_status(cx.tx, cx.o, c, to, None)?;
    cx.s.cards[c].status = to;
    cx.changed.entity(Part::Cards, c);
    Ok(AckResult::default())
}

pub(super) fn hide(cx: &mut Ctx<'_, '_>, actor: Actor, id: &str) -> Outcome {
    set(cx, actor, id, CardStatus::Visible, CardStatus::Hidden)
}

pub(super) fn restore(cx: &mut Ctx<'_, '_>, actor: Actor, id: &str) -> Outcome {
    set(cx, actor, id, CardStatus::Hidden, CardStatus::Visible)
}

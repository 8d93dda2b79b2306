//! `edit_card` and `withdraw_card`: an author changes or takes back their own card. In an
//! anonymous session this still works: the room knows each card's author by pseudonym.

use super::{Actor, Ctx, Outcome, card, card_in, not_in_open_round, person, text_of};
use crate::error::{Refusal, refuse};
use crate::session::changes::Part;
use crate::session::doc;
use tafel_protocol::{AckResult, CardKind, CardStatus, ErrorCode, limits};

fn own_card(cx: &Ctx<'_, '_>, actor: Actor, id: &str) -> Result<usize, Refusal> {
    let me = person(actor)?;
    let c = card(cx.s, id)?;
    if cx.s.cards[c].author != me {
        return Err(refuse(
            ErrorCode::Forbidden,
            "you can only change your own cards",
        ));
    }
    Ok(c)
}

pub(super) fn edit(
    cx: &mut Ctx<'_, '_>,
    actor: Actor,
    id: &str,
    text: &str,
    kind: Option<CardKind>,
) -> Outcome {
    let c = own_card(cx, actor, id)?;
    card_in(cx.s, c, &[CardStatus::Visible, CardStatus::Hidden])?;
    not_in_open_round(cx.s, c)?;
    let text = text_of(text, limits::CARD_CHARS, "a card")?;
    let old = &cx.s.cards[c];
    let kind = kind.filter(|k| *k != old.kind);
    if kind.is_some() && (old.source.is_some() || old.lesson_of.is_some()) {
        let what = if old.source.is_some() {
            "an example with a source stays an example"
        } else {
            "a lesson about something stays a lesson"
        };
        return Err(refuse(ErrorCode::Invalid, what));
    }
    doc::put_card_text(cx.tx, cx.o, c, &text, cx.now)?;
    if let Some(kind) = kind {
        doc::put_card_kind(cx.tx, cx.o, c, kind)?;
    }
    let card = &mut cx.s.cards[c];
    if let Some(kind) = kind {
        card.kind = kind;
    }
    card.text = text;
    card.edited_at = Some(cx.now);
    cx.changed.entity(Part::Cards, c);
    Ok(AckResult::default())
}

pub(super) fn withdraw(cx: &mut Ctx<'_, '_>, actor: Actor, id: &str) -> Outcome {
    let c = own_card(cx, actor, id)?;
    card_in(cx.s, c, &[CardStatus::Visible, CardStatus::Hidden])?;
    not_in_open_round(cx.s, c)?;
    doc::put_card_status(cx.tx, cx.o, c, CardStatus::Withdrawn, None)?;
    cx.s.cards[c].status = CardStatus::Withdrawn;
    cx.changed.entity(Part::Cards, c);
    Ok(AckResult::default())
}

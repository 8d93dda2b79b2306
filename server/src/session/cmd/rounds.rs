//! `open_round` and `close_round`: the facilitator runs a dot-vote over a phase's cards.

use super::{Actor, Ctx, Outcome, facilitator};
use crate::error::{refuse, refuse_on};
use crate::session::changes::Part;
use crate::session::doc;
use crate::session::state::{PHASES, Round, id};
use std::collections::HashMap;
use tafel_protocol::{AckResult, CardStatus, ErrorCode, limits};

pub(super) fn open(
    cx: &mut Ctx<'_, '_>,
    actor: Actor,
    phase: Option<u8>,
    budget: u32,
    max_per_card: u32,
    live: bool,
) -> Outcome {
    facilitator(actor)?;
    if cx.s.open_round().is_some() {
        return Err(refuse(
            ErrorCode::RoundOpen,
            "close the open voting round first",
        ));
    }
    let phase = phase.unwrap_or(cx.s.fields.phase);
    if phase >= PHASES {
        return Err(refuse_on(
            ErrorCode::Invalid,
            "phase",
            format!("phase must be 0 to {}", PHASES - 1),
        ));
    }
    if !(1..=limits::MAX_BUDGET).contains(&budget) {
        return Err(refuse_on(
            ErrorCode::Invalid,
            "budget",
            format!("the budget must be 1 to {}", limits::MAX_BUDGET),
        ));
    }
    if !(1..=budget).contains(&max_per_card) {
        return Err(refuse_on(
            ErrorCode::Invalid,
            "max_per_card",
            "the maximum per card must be 1 to the budget",
        ));
    }
    let cards: Vec<usize> = (0..cx.s.cards.len())
        .filter(|c| cx.s.cards[*c].phase == phase && cx.s.cards[*c].status == CardStatus::Visible)
        .collect();
    if cards.is_empty() {
        return Err(refuse_on(
            ErrorCode::Invalid,
            "cards",
            "this phase has no cards on the board to vote on",
        ));
    }
    let index = cx.s.rounds.len();
    let round = Round {
        phase,
        budget,
        max_per_card,
        live,
        opened_at: cx.now,
        closed_at: None,
        cards,
        totals: HashMap::new(),
        by_voter: HashMap::new(),
    };
    doc::put_round(cx.tx, cx.o, index, &round)?;
    cx.s.rounds.push(round);
    cx.changed.entity(Part::Rounds, index);
    Ok(AckResult {
        round: Some(id('r', index)),
        ..Default::default()
    })
}

pub(super) fn close(cx: &mut Ctx<'_, '_>, actor: Actor, round: &str) -> Outcome {
    facilitator(actor)?;
    let r = super::round(cx.s, round)?;
    if !cx.s.rounds[r].is_open() {
        return Err(refuse(
            ErrorCode::RoundClosed,
            "this round is already closed",
        ));
    }
    doc::put_round_closed(cx.tx, cx.o, r, cx.now)?;
    cx.s.rounds[r].closed_at = Some(cx.now);
    cx.changed.entity(Part::Rounds, r);
    Ok(AckResult::default())
}

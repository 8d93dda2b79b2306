//! `lock`, `unlock` and `end`: the facilitator closes the door, opens it, or ends the session.
//! Ending also closes an open voting round, so its result is final and visible, and ends a
//! running turn.

use super::{Actor, Ctx, Outcome, facilitator};
use crate::session::changes::Part;
use crate::session::doc;
use tafel_protocol::{AckResult, SessionStatus, TurnEnd};

pub(super) fn set(cx: &mut Ctx<'_, '_>, actor: Actor, to: SessionStatus) -> Outcome {
    facilitator(actor)?;
    if cx.s.fields.status == to {
        return Ok(AckResult::default());
    }
    let open_round = if to == SessionStatus::Ended {
        cx.s.open_round()
    } else {
        None
    };
    if let Some(r) = open_round {
        doc::put_round_closed(cx.tx, cx.o, r, cx.now)?;
    }
    if to == SessionStatus::Ended && cx.s.floor.running().is_some() {
        super::floor::end_turn(cx, TurnEnd::SessionEnd, cx.now)?;
    }
    doc::put_status(cx.tx, cx.o, to)?;
    if let Some(r) = open_round {
        cx.s.rounds[r].closed_at = Some(cx.now);
        cx.changed.entity(Part::Rounds, r);
    }
    cx.s.fields.status = to;
    cx.changed.whole(Part::Session);
    Ok(AckResult::default())
}

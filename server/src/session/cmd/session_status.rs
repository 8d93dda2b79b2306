//! `lock`, `unlock` and `end`: the facilitator closes the door, opens it, or ends the session.
//! Ending also closes an open voting round, so its result is final and visible, ends a
//! running turn, and lets open invitations to speak lapse.

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
    // An open invitation to speak lapses with the session (the views say so): the invited
    // phones stop showing it, and the facilitator's list shows it lapsed.
    if to == SessionStatus::Ended {
        let invited = cx.s.floor.invited();
        if !invited.is_empty() {
            cx.changed.whole(Part::Floor);
        }
        for p in invited {
            cx.changed.your_floor(p);
        }
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

//! `set_phase`: the facilitator moves the group to a phase of the method (0–5).

use super::{Actor, Ctx, Outcome, facilitator};
use crate::error::refuse_on;
use crate::session::changes::Part;
use crate::session::doc;
use crate::session::state::PHASES;
use tafel_protocol::{AckResult, ErrorCode};

pub(super) fn apply(cx: &mut Ctx<'_, '_>, actor: Actor, phase: u8) -> Outcome {
    facilitator(actor)?;
    if phase >= PHASES {
        return Err(refuse_on(
            ErrorCode::Invalid,
            "phase",
            format!("phase must be 0 to {}", PHASES - 1),
        ));
    }
    if cx.s.fields.phase != phase {
        doc::put_phase(cx.tx, cx.o, phase)?;
        cx.s.fields.phase = phase;
        cx.changed.whole(Part::Session);
        // Direct responses are capped per phase: whoever used some sees a fresh count.
        for p in 0..cx.s.floor.stats.len() {
            if !cx.s.floor.stats[p].responses.is_empty() {
                cx.changed.your_floor(p);
            }
        }
    }
    Ok(AckResult::default())
}

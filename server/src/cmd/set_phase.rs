//! `set_phase`: the facilitator moves the group to a phase of the method (0–5).

use super::{Actor, Ctx, Outcome, facilitator};
use crate::error::refuse;
use crate::room::doc;
use crate::room::state::PHASES;
use tafel_protocol::{AckResult, ErrorCode};

pub(super) fn apply(cx: &mut Ctx<'_, '_>, actor: Actor, phase: u8) -> Outcome {
    facilitator(actor)?;
    if phase >= PHASES {
        return Err(refuse(
            ErrorCode::Invalid,
            format!("phase must be 0 to {}", PHASES - 1),
        ));
    }
    if cx.s.fields.phase != phase {
        doc::put_phase(cx.tx, cx.o, phase)?;
        cx.s.fields.phase = phase;
        cx.dirty.session = true;
        // Direct responses are capped per phase: whoever used some sees a fresh count.
        cx.dirty.you.extend(
            (0..cx.s.floor.stats.len()).filter(|p| !cx.s.floor.stats[*p].responses.is_empty()),
        );
    }
    Ok(AckResult::default())
}

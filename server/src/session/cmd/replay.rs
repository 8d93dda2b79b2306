//! `replay_link`, `revoke_replay` and `share_report`: what the facilitator shares afterwards.
//! A replay link opens the session's replay and report, read-only; its token is derived from
//! the session key and the link's id (see `Record`), never recorded. The facilitator also
//! chooses whether participants find the report on their phones once the session ended.

use super::{Actor, Ctx, Outcome, existing, facilitator};
use crate::session::changes::Part;
use crate::session::doc::{self, Field};
use crate::session::method::ReplayLink;
use crate::session::state::id;
use tafel_protocol::{AckResult, ErrorCode, method_limits};

pub(super) fn link(cx: &mut Ctx<'_, '_>, actor: Actor) -> Outcome {
    facilitator(actor)?;
    let index = cx.s.method.replay_links.len();
    if index >= method_limits::MAX_ROUNDS {
        let why = format!("at most {} replay links", method_limits::MAX_ROUNDS);
        return Err(crate::error::refuse(ErrorCode::Invalid, why));
    }
    let fields = [("made_at", Field::Int(cx.now))];
    doc::put_fields(cx.tx, "replay_links", &id('l', index), true, &fields)?;
    cx.s.method.replay_links.push(ReplayLink {
        made_at: cx.now,
        revoked_at: None,
    });
    cx.changed.entity(Part::ReplayLinks, index);
    Ok(AckResult {
        replay_link: Some(id('l', index)),
        ..AckResult::default()
    })
}

pub(super) fn revoke(cx: &mut Ctx<'_, '_>, actor: Actor, link: &str) -> Outcome {
    facilitator(actor)?;
    let len = cx.s.method.replay_links.len();
    let l = existing('l', link, len, ErrorCode::UnknownLink, "replay link")?;
    if cx.s.method.replay_links[l].revoked_at.is_none() {
        let fields = [("revoked_at", Field::Int(cx.now))];
        doc::put_fields(cx.tx, "replay_links", &id('l', l), false, &fields)?;
        cx.s.method.replay_links[l].revoked_at = Some(cx.now);
        cx.changed.entity(Part::ReplayLinks, l);
    }
    Ok(AckResult::default())
}

pub(super) fn share(cx: &mut Ctx<'_, '_>, actor: Actor, share: bool) -> Outcome {
    facilitator(actor)?;
    if cx.s.method.share_report != share {
        doc::put_share_report(cx.tx, cx.o, share)?;
        cx.s.method.share_report = share;
        cx.changed.whole(Part::Session);
    }
    Ok(AckResult::default())
}

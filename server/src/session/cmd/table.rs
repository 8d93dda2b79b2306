//! `propose_party`, `update_party` and `set_display`: who is at the table. Anyone may propose a
//! party (a group or role needed for the change or affected by it); the facilitator keeps the
//! list, and chooses what the big screen shows.

use super::{Actor, Ctx, Outcome, existing, facilitator, name_of, person};
use crate::error::{Refusal, refuse};
use crate::session::changes::Part;
use crate::session::doc::{self, Field};
use crate::session::method::Party;
use crate::session::state::id;
use tafel_protocol::{AckResult, ErrorCode, PartyStatus, Perspective, Role, Stake, method_limits};

/// A party's name, by the rules for names.
fn party_name(name: &str) -> Result<String, Refusal> {
    name_of(name, method_limits::PARTY_CHARS, "a party's name")
}

pub(super) fn propose(
    cx: &mut Ctx<'_, '_>,
    actor: Actor,
    name: &str,
    perspective: Perspective,
    stake: Stake,
) -> Outcome {
    let me = person(actor)?;
    let name = party_name(name)?;
    let index = cx.s.method.parties.len();
    if index >= method_limits::MAX_PARTIES {
        let why = format!("at most {} parties", method_limits::MAX_PARTIES);
        return Err(refuse(ErrorCode::Invalid, why));
    }
    // The facilitator keeps the list: what they propose is on it at once.
    let status = if actor.role == Role::Facilitator {
        PartyStatus::Listed
    } else {
        PartyStatus::Proposed
    };
    let fields = [
        ("name", Field::Text(&name)),
        ("perspective", Field::Text(&doc::wire(&perspective))),
        ("stake", Field::Text(&doc::wire(&stake))),
        ("status", Field::Text(&doc::wire(&status))),
        ("by", Field::Text(&cx.s.pseudonyms[me])),
        ("at", Field::Int(cx.now)),
    ];
    doc::put_fields(cx.tx, "parties", &id('s', index), true, &fields)?;
    cx.s.method.parties.push(Party {
        name,
        perspective,
        stake,
        status,
        by: me,
        at: cx.now,
    });
    cx.changed.entity(Part::Parties, index);
    cx.changed.whole(Part::Table);
    Ok(AckResult {
        party: Some(id('s', index)),
        ..AckResult::default()
    })
}

/// What `update_party` changes.
pub(super) struct PartyChange<'a> {
    pub name: Option<&'a str>,
    pub perspective: Option<Perspective>,
    pub stake: Option<Stake>,
    pub status: Option<PartyStatus>,
}

pub(super) fn update(
    cx: &mut Ctx<'_, '_>,
    actor: Actor,
    party: &str,
    change: PartyChange<'_>,
) -> Outcome {
    facilitator(actor)?;
    let len = cx.s.method.parties.len();
    let s = existing('s', party, len, ErrorCode::UnknownParty, "party")?;
    let name = change.name.map(party_name).transpose()?;
    let nothing = change.perspective.is_none() && change.stake.is_none() && change.status.is_none();
    if name.is_none() && nothing {
        return Err(refuse(ErrorCode::Invalid, "nothing to change"));
    }
    let p = cx.s.method.parties[s].clone();
    let new = Party {
        name: name.unwrap_or(p.name.clone()),
        perspective: change.perspective.unwrap_or(p.perspective),
        stake: change.stake.unwrap_or(p.stake),
        status: change.status.unwrap_or(p.status),
        ..p.clone()
    };
    if new == p {
        return Ok(AckResult::default());
    }
    let fields = [
        ("name", Field::Text(&new.name)),
        ("perspective", Field::Text(&doc::wire(&new.perspective))),
        ("stake", Field::Text(&doc::wire(&new.stake))),
        ("status", Field::Text(&doc::wire(&new.status))),
    ];
    doc::put_fields(cx.tx, "parties", &id('s', s), false, &fields)?;
    cx.s.method.parties[s] = new;
    cx.changed.entity(Part::Parties, s);
    cx.changed.whole(Part::Table);
    Ok(AckResult::default())
}

pub(super) fn display(
    cx: &mut Ctx<'_, '_>,
    actor: Actor,
    table: Option<bool>,
    criteria: Option<bool>,
) -> Outcome {
    facilitator(actor)?;
    if table.is_none() && criteria.is_none() {
        return Err(refuse(ErrorCode::Invalid, "nothing to change"));
    }
    let old = cx.s.method.display;
    let new = tafel_protocol::Display {
        table: table.unwrap_or(old.table),
        criteria: criteria.unwrap_or(old.criteria),
    };
    if new != old {
        doc::put_display(cx.tx, cx.o, &new)?;
        cx.s.method.display = new;
        cx.changed.whole(Part::Session);
    }
    Ok(AckResult::default())
}

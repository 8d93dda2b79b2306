//! The floor: hands, passing, giving and ending turns, pausing, and the floor's settings. Each
//! command records one or more append-only events (see `room::floor`).

use super::{Actor, CmdError, Ctx, Outcome, facilitator, person};
use crate::error::{Refusal, refuse};
use crate::session::changes::Part;
use crate::session::doc;
use crate::session::floor::Event;
use crate::session::state::{id, parse_id};
use tafel_protocol::{
    AckResult, ErrorCode, FloorSettingsChange, HandKind, InvitedBy, QueueOrder, QueueReason, Role,
    TurnEnd, TurnKind, floor_limits,
};

/// Records one floor event and applies it to the state.
pub(super) fn record(cx: &mut Ctx<'_, '_>, event: Event, at: i64) -> Result<(), CmdError> {
    let pseudonyms = &cx.s.pseudonyms;
    let pseudonym = |p: usize| pseudonyms[p].clone();
    doc::put_floor_event(cx.tx, cx.s.floor.events, &event, at, &pseudonym)?;
    cx.s.floor.apply(&event, at);
    cx.changed.whole(Part::Floor);
    Ok(())
}

/// Makes room for the quiet when the floor calls for it (see `Floor::room_to_make`): one
/// invitation by the floor for each person present under the fair share with no hand up.
/// Called after every floor command that can free the floor or change who "next" would pick.
fn make_room(cx: &mut Ctx<'_, '_>) -> Result<(), CmdError> {
    let invite =
        cx.s.with_people(cx.online, |people| cx.s.floor.room_to_make(people, cx.now));
    for p in invite {
        record(
            cx,
            Event::Invite {
                p,
                by: InvitedBy::Room,
            },
            cx.now,
        )?;
        cx.changed.your_floor(p);
    }
    Ok(())
}

/// A participant named by id.
fn participant(cx: &Ctx<'_, '_>, pid: &str) -> Result<usize, Refusal> {
    parse_id('p', pid)
        .filter(|p| *p < cx.s.participants.len())
        .ok_or_else(|| {
            let shown: String = pid.chars().take(24).collect();
            refuse(
                ErrorCode::UnknownParticipant,
                format!("there is no participant {shown:?}"),
            )
        })
}

pub(super) fn raise(cx: &mut Ctx<'_, '_>, actor: Actor, kind: HandKind) -> Outcome {
    let me = person(actor)?;
    if cx.s.floor.running().is_some_and(|t| t.speaker == me) {
        return Err(refuse(ErrorCode::Invalid, "you have the floor now"));
    }
    if kind == HandKind::Hand && cx.s.floor.settings.order == QueueOrder::Round {
        return Err(refuse(
            ErrorCode::Invalid,
            "the floor goes round: everyone gets a turn without raising a hand",
        ));
    }
    if kind == HandKind::Response {
        match cx.s.floor.running() {
            Some(t) if t.speaker != me => {}
            Some(_) => {
                return Err(refuse(
                    ErrorCode::Invalid,
                    "you have the floor yourself; a direct response is for replying to someone else",
                ));
            }
            None => {
                return Err(refuse(
                    ErrorCode::NoTurn,
                    "nobody has the floor, so there is nobody to respond to",
                ));
            }
        }
        let cap = cx.s.floor.settings.response_cap;
        if cx.s.floor.responses_in(me, cx.s.fields.phase) >= cap {
            return Err(refuse(
                ErrorCode::ResponseCap,
                format!("at most {cap} direct responses per person in this phase"),
            ));
        }
    }
    if cx.s.floor.hand_of(me).is_some_and(|h| h.kind == kind) {
        return Ok(AckResult::default());
    }
    record(cx, Event::Raise { p: me, kind }, cx.now)?;
    cx.changed.your_floor(me);
    make_room(cx)?;
    Ok(AckResult::default())
}

pub(super) fn lower(cx: &mut Ctx<'_, '_>, actor: Actor, whose: Option<&str>) -> Outcome {
    let me = person(actor)?;
    let p = match whose {
        None => me,
        Some(pid) => {
            let p = participant(cx, pid)?;
            if p != me {
                facilitator(actor)?;
            }
            p
        }
    };
    if cx.s.floor.hand_of(p).is_some() {
        record(cx, Event::Lower { p }, cx.now)?;
        cx.changed.your_floor(p);
        make_room(cx)?;
    }
    Ok(AckResult::default())
}

pub(super) fn pass(cx: &mut Ctx<'_, '_>, actor: Actor) -> Outcome {
    let me = person(actor)?;
    if cx.s.floor.settings.order != QueueOrder::Round {
        return Err(refuse(
            ErrorCode::Invalid,
            "passing is only possible when the floor goes round",
        ));
    }
    if cx.s.floor.running().is_some_and(|t| t.speaker == me) {
        return Err(refuse(
            ErrorCode::Invalid,
            "you have the floor; end your turn instead",
        ));
    }
    if !cx.s.floor.passed.contains(&me) {
        record(cx, Event::Pass { p: me }, cx.now)?;
        cx.changed.your_floor(me);
    }
    Ok(AckResult::default())
}

pub(super) fn give(cx: &mut Ctx<'_, '_>, actor: Actor, to: Option<&str>) -> Outcome {
    facilitator(actor)?;
    if cx.s.floor.paused_since.is_some() {
        return Err(refuse(
            ErrorCode::FloorPaused,
            "the floor is paused; resume it first",
        ));
    }
    // A hand on hold after a violation, or one making room for the quiet, waits: "next"
    // never picks it, only the facilitator's own choice (an override) does.
    let queue =
        cx.s.with_people(cx.online, |people| cx.s.floor.queue(people, cx.now));
    let waits = |pl: &&crate::session::floor::Place| {
        matches!(pl.reason, QueueReason::OnHold | QueueReason::MakingRoom)
    };
    let head = queue.iter().find(|pl| !waits(pl));
    let p = match (to, head) {
        (Some(pid), _) => participant(cx, pid)?,
        (None, Some(place)) => place.p,
        (None, None) => {
            if let Some(ready) = queue.iter().find_map(|pl| pl.ready_at) {
                let secs = (ready - cx.now + 999) / 1000;
                return Err(refuse(
                    ErrorCode::MakingRoom,
                    format!(
                        "a moment of room for those who spoke less: the next hand can have the floor in {secs} s"
                    ),
                ));
            }
            return Err(refuse(
                ErrorCode::QueueEmpty,
                "nobody is waiting for the floor (hands on hold wait)",
            ));
        }
    };
    let over = head.is_some_and(|h| h.p != p);
    let floor = &cx.s.floor;
    let hand = floor.hand_of(p).map(|h| h.kind);
    let kind = if hand == Some(HandKind::Response) {
        TurnKind::Response
    } else if floor.settings.order == QueueOrder::Round
        && cx.s.participants[p].role == Role::Participant
    {
        TurnKind::Round
    } else if hand == Some(HandKind::Hand) {
        TurnKind::Hand
    } else {
        TurnKind::Invited
    };
    // Whose own data changes with this turn: the new speaker; whoever's direct response ends
    // because someone new speaks; and whoever passed and is now passed by.
    let mut touched: Vec<usize> = floor
        .hands
        .iter()
        .filter(|h| kind != TurnKind::Response && h.kind == HandKind::Response)
        .map(|h| h.p)
        .chain(floor.passed.iter().copied())
        .collect();
    touched.push(p);
    // Open invitations lapse with a new turn: their people's own data changes.
    touched.extend(floor.invited());
    // The limit follows the share before this turn (the ending one's floor time counted).
    if floor.running().is_some() {
        end_turn(cx, TurnEnd::Next, cx.now)?;
    }
    let limit_ms = cx.s.with_people(cx.online, |people| {
        let share = cx.s.floor.share(people);
        cx.s.floor.limit_of(kind, p, &share)
    });
    let event = Event::Give {
        p,
        kind,
        limit_ms,
        over,
        phase: cx.s.fields.phase,
    };
    record(cx, event, cx.now)?;
    for p in touched {
        cx.changed.your_floor(p);
    }
    Ok(AckResult {
        turn: Some(id('t', cx.s.floor.turns.len() - 1)),
        ..AckResult::default()
    })
}

pub(super) fn end(cx: &mut Ctx<'_, '_>, actor: Actor) -> Outcome {
    let me = person(actor)?;
    let Some(turn) = cx.s.floor.running() else {
        return Err(refuse(ErrorCode::NoTurn, "nobody has the floor"));
    };
    let speaker = turn.speaker;
    let how = if actor.role == Role::Facilitator {
        TurnEnd::Facilitator
    } else if speaker == me {
        TurnEnd::Speaker
    } else {
        return Err(refuse(
            ErrorCode::Forbidden,
            "only the speaker or the facilitator can end a turn",
        ));
    };
    end_turn(cx, how, cx.now)?;
    make_room(cx)?;
    Ok(AckResult::default())
}

pub(super) fn invite(cx: &mut Ctx<'_, '_>, actor: Actor, pid: &str) -> Outcome {
    facilitator(actor)?;
    let p = participant(cx, pid)?;
    if cx.s.participants[p].role != Role::Participant {
        return Err(refuse(
            ErrorCode::Invalid,
            "only participants can be invited",
        ));
    }
    if cx.s.floor.running().is_some_and(|t| t.speaker == p) {
        return Err(refuse(ErrorCode::Invalid, "they have the floor now"));
    }
    if cx.s.floor.hand_of(p).is_some() {
        return Err(refuse(ErrorCode::Invalid, "their hand is already up"));
    }
    if cx.s.floor.invitation_of(p).is_none() {
        let by = InvitedBy::Facilitator;
        record(cx, Event::Invite { p, by }, cx.now)?;
        cx.changed.your_floor(p);
    }
    Ok(AckResult::default())
}

/// Ends the running turn (the caller checked there is one).
pub(crate) fn end_turn(cx: &mut Ctx<'_, '_>, how: TurnEnd, at: i64) -> Result<(), CmdError> {
    let speaker = cx.s.floor.running().map(|t| t.speaker);
    // Whose direct response ends with this turn (see `Floor::apply`).
    let responders: Vec<usize> = if how == TurnEnd::Next {
        Vec::new()
    } else {
        cx.s.floor
            .hands
            .iter()
            .filter(|h| h.kind == HandKind::Response)
            .map(|h| h.p)
            .collect()
    };
    record(cx, Event::End { how }, at)?;
    for p in speaker.into_iter().chain(responders) {
        cx.changed.your_floor(p);
    }
    Ok(())
}

/// The server's own command: a hard limit reached. Returns false when there was nothing to end
/// (the turn already ended, or its clock was paused).
pub fn limit_reached(cx: &mut Ctx<'_, '_>) -> Result<bool, CmdError> {
    match cx.s.floor.deadline() {
        Some(deadline) if cx.s.floor.hard() && deadline <= cx.now => {
            // At the limit; or, when it passed in soft mode and hard mode was chosen since, at
            // that choice: the overtime until then counts, and events keep their order.
            let at = deadline.max(cx.s.floor.last_at);
            end_turn(cx, TurnEnd::Limit, at)?;
            make_room(cx)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

pub(super) fn pause(cx: &mut Ctx<'_, '_>, actor: Actor, on: bool) -> Outcome {
    facilitator(actor)?;
    if cx.s.floor.paused_since.is_some() != on {
        let event = if on { Event::Pause } else { Event::Resume };
        record(cx, event, cx.now)?;
    }
    Ok(AckResult::default())
}

fn within<T: PartialOrd + std::fmt::Display>(
    v: Option<T>,
    range: std::ops::RangeInclusive<T>,
    what: &str,
) -> Result<(), Refusal> {
    match v {
        Some(v) if !range.contains(&v) => Err(refuse(
            ErrorCode::Invalid,
            format!(
                "{what} must be {} to {}, not {v}",
                range.start(),
                range.end()
            ),
        )),
        _ => Ok(()),
    }
}

pub(super) fn settings(
    cx: &mut Ctx<'_, '_>,
    actor: Actor,
    change: &FloorSettingsChange,
) -> Outcome {
    facilitator(actor)?;
    if change == &FloorSettingsChange::default() {
        return Err(refuse(ErrorCode::Invalid, "no setting to change"));
    }
    within(
        change.min_turn_secs,
        floor_limits::MIN_TURN_SECS,
        "min_turn_secs",
    )?;
    within(change.room_secs, floor_limits::ROOM_SECS, "room_secs")?;
    within(change.turn_secs, floor_limits::TURN_SECS, "turn_secs")?;
    within(
        change.response_secs,
        floor_limits::RESPONSE_SECS,
        "response_secs",
    )?;
    within(change.fair_share, floor_limits::FAIR_SHARE, "fair_share")?;
    within(
        change.response_cap,
        floor_limits::RESPONSE_CAP,
        "response_cap",
    )?;
    // A preset stands for its settings; the fields given beside it win. The record holds the
    // settings, not the preset's name, so a preset changed later leaves the past as it was.
    let mut change = match change.preset {
        Some(preset) => preset.change().and(*change),
        None => *change,
    };
    change.preset = None;
    change.fair_share = change.fair_share.map(|f| (f * 10.0).round() / 10.0);
    if change.order.is_some_and(|o| o != cx.s.floor.settings.order) {
        // A new order starts afresh: nobody has passed.
        for p in &cx.s.floor.passed {
            cx.changed.your_floor(*p);
        }
    }
    record(cx, Event::Set(change), cx.now)?;
    make_room(cx)?;
    Ok(AckResult::default())
}

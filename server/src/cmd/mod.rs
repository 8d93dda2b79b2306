//! One file per command: each checks who may give it and what the rules allow, then records
//! its change. Rules come first and touch nothing; only when every check passed does a command
//! write to the document and then to the in-memory state, so a refused command changes nothing.

mod add_card;
mod card_status;
mod conduct;
mod edit_card;
pub mod floor;
mod merge_cards;
mod rounds;
mod session_status;
mod set_phase;
mod vote;

use crate::error::{Refusal, refuse};
use crate::room::doc::Objs;
use crate::room::state::{Session, parse_id};
use automerge::AutomergeError;
use automerge::transaction::Transaction;
use std::collections::BTreeSet;
use tafel_protocol::{AckResult, CardStatus, Command, ErrorCode, Millis, Role, SessionStatus};

/// Who gives a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// The connection's role.
    pub role: Role,
    /// The participant index (facilitators have one too; the projector has none).
    pub participant: Option<usize>,
}

/// What changed in a batch of commands, so the room sends each changed entity once.
#[derive(Debug, Default)]
pub struct Dirty {
    /// The session's own fields.
    pub session: bool,
    /// Participant indexes (joins and presence).
    pub participants: BTreeSet<usize>,
    /// Card indexes.
    pub cards: BTreeSet<usize>,
    /// Round indexes.
    pub rounds: BTreeSet<usize>,
    /// Participants whose own data (`you`) changed.
    pub you: BTreeSet<usize>,
    /// The floor (any event, or presence, which changes the queue and the balance).
    pub floor: bool,
    /// The ground rules or their counts.
    pub rules: bool,
    /// Report indexes (sent to the facilitator only).
    pub reports: BTreeSet<usize>,
}

impl Dirty {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        !self.session
            && !self.floor
            && !self.rules
            && self.participants.is_empty()
            && self.cards.is_empty()
            && self.rounds.is_empty()
            && self.reports.is_empty()
    }
}

/// Everything a command may touch.
pub struct Ctx<'a, 'tx> {
    /// The session in memory.
    pub s: &'a mut Session,
    /// The open automerge transaction; committed by the room on success.
    pub tx: &'a mut Transaction<'tx>,
    /// The document's top-level maps.
    pub o: &'a Objs,
    /// The server's time for this command.
    pub now: Millis,
    /// Where to note what changed.
    pub dirty: &'a mut Dirty,
    /// Live connections per participant (the queue in round order counts who is present).
    pub online: &'a [u32],
}

/// A command's answer.
pub type Outcome = Result<AckResult, Refusal>;

impl From<AutomergeError> for Refusal {
    fn from(err: AutomergeError) -> Self {
        tracing::error!(error = %err, "document write failed");
        refuse(
            ErrorCode::Internal,
            "the server could not record this; nothing changed",
        )
    }
}

/// Checks the session's status and dispatches to the command's own file.
pub fn apply(cx: &mut Ctx<'_, '_>, actor: Actor, cmd: &Command) -> Outcome {
    if cx.s.fields.status == SessionStatus::Ended {
        return Err(refuse(
            ErrorCode::SessionEnded,
            "the session has ended; nothing can change",
        ));
    }
    match cmd {
        Command::AddCard {
            text,
            kind,
            builds_on,
        } => add_card::apply(cx, actor, text, *kind, builds_on.as_deref()),
        Command::EditCard { card, text } => edit_card::edit(cx, actor, card, text),
        Command::WithdrawCard { card } => edit_card::withdraw(cx, actor, card),
        Command::HideCard { card } => card_status::hide(cx, actor, card),
        Command::RestoreCard { card } => card_status::restore(cx, actor, card),
        Command::MergeCards { card, into } => merge_cards::apply(cx, actor, card, into),
        Command::SetPhase { phase } => set_phase::apply(cx, actor, *phase),
        Command::OpenRound {
            phase,
            budget,
            max_per_card,
            live,
        } => rounds::open(cx, actor, *phase, *budget, *max_per_card, *live),
        Command::CloseRound { round } => rounds::close(cx, actor, round),
        Command::Vote { round, card } => vote::apply(cx, actor, round, card, 1),
        Command::Unvote { round, card } => vote::apply(cx, actor, round, card, -1),
        Command::Lock => session_status::set(cx, actor, SessionStatus::Locked),
        Command::Unlock => session_status::set(cx, actor, SessionStatus::Open),
        Command::End => session_status::set(cx, actor, SessionStatus::Ended),
        // Recorded as an empty change; the room derives and stores the link's token.
        Command::ProjectorLink => facilitator(actor).map(|()| AckResult::default()),
        Command::RaiseHand { kind } => floor::raise(cx, actor, *kind),
        Command::LowerHand { participant } => floor::lower(cx, actor, participant.as_deref()),
        Command::Pass => floor::pass(cx, actor),
        Command::GiveFloor { to } => floor::give(cx, actor, to.as_deref()),
        Command::EndTurn => floor::end(cx, actor),
        Command::PauseFloor => floor::pause(cx, actor, true),
        Command::ResumeFloor => floor::pause(cx, actor, false),
        Command::FloorSettings { change } => floor::settings(cx, actor, change),
        Command::SetRule { rule, text } => conduct::set_rule(cx, actor, rule.as_deref(), text),
        Command::RemoveRule { rule } => conduct::remove_rule(cx, actor, rule),
        Command::AgreeRules { agree } => conduct::agree(cx, actor, *agree),
        Command::Flag {
            rule,
            about,
            note,
            anonymous,
        } => conduct::flag(
            cx,
            actor,
            rule,
            about.as_deref(),
            note.as_deref(),
            *anonymous,
        ),
        Command::ConfirmFlag {
            report,
            consequence,
        } => conduct::decide(cx, actor, report, true, *consequence),
        Command::DismissFlag { report } => conduct::decide(cx, actor, report, false, None),
    }
}

/// The wire name of a command, for logs, metrics and change messages.
pub fn name(cmd: &Command) -> &'static str {
    match cmd {
        Command::AddCard { .. } => "add_card",
        Command::EditCard { .. } => "edit_card",
        Command::WithdrawCard { .. } => "withdraw_card",
        Command::HideCard { .. } => "hide_card",
        Command::RestoreCard { .. } => "restore_card",
        Command::MergeCards { .. } => "merge_cards",
        Command::SetPhase { .. } => "set_phase",
        Command::OpenRound { .. } => "open_round",
        Command::CloseRound { .. } => "close_round",
        Command::Vote { .. } => "vote",
        Command::Unvote { .. } => "unvote",
        Command::Lock => "lock",
        Command::Unlock => "unlock",
        Command::End => "end",
        Command::ProjectorLink => "projector_link",
        Command::RaiseHand { .. } => "raise_hand",
        Command::LowerHand { .. } => "lower_hand",
        Command::Pass => "pass",
        Command::GiveFloor { .. } => "give_floor",
        Command::EndTurn => "end_turn",
        Command::PauseFloor => "pause_floor",
        Command::ResumeFloor => "resume_floor",
        Command::FloorSettings { .. } => "floor_settings",
        Command::SetRule { .. } => "set_rule",
        Command::RemoveRule { .. } => "remove_rule",
        Command::AgreeRules { .. } => "agree_rules",
        Command::Flag { .. } => "flag",
        Command::ConfirmFlag { .. } => "confirm_flag",
        Command::DismissFlag { .. } => "dismiss_flag",
    }
}

// --- checks shared by several commands -----------------------------------------------------

/// Only the facilitator.
pub(crate) fn facilitator(actor: Actor) -> Result<(), Refusal> {
    if actor.role == Role::Facilitator {
        Ok(())
    } else {
        Err(refuse(
            ErrorCode::Forbidden,
            "only the facilitator can do this",
        ))
    }
}

/// A person in the session (participant or facilitator); returns their index.
fn person(actor: Actor) -> Result<usize, Refusal> {
    match (actor.role, actor.participant) {
        (Role::Participant | Role::Facilitator, Some(p)) => Ok(p),
        _ => Err(refuse(ErrorCode::Forbidden, "the projector is read-only")),
    }
}

/// The index of an existing record: `id` is `{prefix}{n}` among `len` of them.
fn existing(
    prefix: char,
    id: &str,
    len: usize,
    code: ErrorCode,
    what: &str,
) -> Result<usize, Refusal> {
    // An error message repeats at most 24 characters of whatever the client sent.
    let shown: String = id.chars().take(24).collect();
    parse_id(prefix, id)
        .filter(|i| *i < len)
        .ok_or_else(|| refuse(code, format!("there is no {what} {shown:?}")))
}

/// A card that exists.
fn card(s: &Session, id: &str) -> Result<usize, Refusal> {
    existing('k', id, s.cards.len(), ErrorCode::UnknownCard, "card")
}

/// A round that exists.
fn round(s: &Session, id: &str) -> Result<usize, Refusal> {
    existing('r', id, s.rounds.len(), ErrorCode::UnknownRound, "round")
}

/// A card that is in the currently open round may not be changed under the voters' feet.
fn not_in_open_round(s: &Session, card: usize) -> Result<(), Refusal> {
    match s.open_round() {
        Some(r) if s.rounds[r].cards.contains(&card) => Err(refuse(
            ErrorCode::RoundOpen,
            "this card is in the open voting round; close the round first",
        )),
        _ => Ok(()),
    }
}

/// A card in one of the given states.
fn card_in(s: &Session, card: usize, states: &[CardStatus]) -> Result<(), Refusal> {
    if states.contains(&s.cards[card].status) {
        Ok(())
    } else {
        Err(refuse(
            ErrorCode::CardUnavailable,
            format!("the card is {:?}", s.cards[card].status).to_lowercase(),
        ))
    }
}

/// Trims `text` and checks its length in characters.
pub(crate) fn text_of(
    text: &str,
    limits: std::ops::RangeInclusive<usize>,
    what: &str,
) -> Result<String, Refusal> {
    let trimmed = text.trim();
    let n = trimmed.chars().count();
    if limits.contains(&n) {
        Ok(trimmed.to_owned())
    } else {
        Err(refuse(
            ErrorCode::Invalid,
            format!(
                "{what} must be {} to {} characters, not {n}",
                limits.start(),
                limits.end()
            ),
        ))
    }
}

/// Trims and checks a display name; used by joins too.
pub fn display_name(name: &str) -> Result<String, Refusal> {
    let name = text_of(name, tafel_protocol::limits::NAME_CHARS, "a name")?;
    if name.chars().any(char::is_control) {
        return Err(refuse(
            ErrorCode::Invalid,
            "a name cannot hold control characters",
        ));
    }
    Ok(name)
}

#[cfg(test)]
pub(crate) mod tests;

//! One file per command: each checks who may give it and what the rules allow, then records
//! its change. Rules come first and touch nothing; only when every check passed does a command
//! write to the document and then to the in-memory state, so a refused command changes nothing.
//! Each marks in [`Changed`] what it touched, for the deltas and the people concerned.

mod add_card;
mod card_status;
mod conduct;
mod criteria;
mod edit_card;
mod experiments;
pub mod floor;
mod merge_cards;
mod readiness;
mod reflections;
mod replay;
mod rounds;
mod session_status;
mod set_phase;
mod table;
mod vote;

use super::changes::Changed;
use super::doc::{DocError, Objs};
use super::state::{Session, parse_id};
use super::text::{self, Kind, Problem};
use crate::error::{Refusal, refuse};
use automerge::AutomergeError;
use automerge::transaction::Transaction;
use tafel_protocol::{AckResult, CardStatus, Command, ErrorCode, Millis, Role, SessionStatus};

/// Who gives a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// The connection's role.
    pub role: Role,
    /// The participant index (facilitators have one too; the projector has none).
    pub participant: Option<usize>,
}

/// Everything a command may touch.
pub struct Ctx<'a, 'tx> {
    /// The session in memory.
    pub s: &'a mut Session,
    /// The open automerge transaction; committed by the record on success.
    pub tx: &'a mut Transaction<'tx>,
    /// The document's top-level maps.
    pub o: &'a Objs,
    /// The server's time for this command.
    pub now: Millis,
    /// Where to mark what changed.
    pub changed: &'a mut Changed,
    /// Live connections per participant (the queue in round order counts who is present).
    pub online: &'a [u32],
}

/// Why a command did not go through.
#[derive(Debug, thiserror::Error)]
pub enum CmdError {
    /// The rules refused it; the client is told why.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The document could not be written (a bug, not the client's doing). Nothing changed in
    /// memory either; the room that sees this reloads the session from storage.
    #[error("the document could not be written: {0}")]
    Failed(#[from] DocError),
}

impl From<AutomergeError> for CmdError {
    fn from(e: AutomergeError) -> Self {
        CmdError::Failed(DocError::Automerge(e))
    }
}

impl CmdError {
    /// What the client is told.
    pub fn refusal(&self) -> Refusal {
        match self {
            CmdError::Refused(r) => r.clone(),
            CmdError::Failed(_) => refuse(
                ErrorCode::Internal,
                "the server could not record this; nothing changed",
            ),
        }
    }
}

/// A command's answer.
pub type Outcome = Result<AckResult, CmdError>;

/// Checks the session's status and dispatches to the command's own file.
pub fn apply(cx: &mut Ctx<'_, '_>, actor: Actor, cmd: &Command) -> Outcome {
    // After the end the session itself stands still; what the facilitator shares of it
    // afterwards (replay links, the report) can still change, a leaked link can be revoked.
    let afterwards = matches!(
        cmd,
        Command::ReplayLink | Command::RevokeReplay { .. } | Command::ShareReport { .. }
    );
    if cx.s.fields.status == SessionStatus::Ended && !afterwards {
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
            source,
            lesson_of,
        } => {
            let extras = add_card::Extras {
                builds_on: builds_on.as_deref(),
                source: source.as_deref(),
                lesson_of: lesson_of.as_ref(),
            };
            add_card::apply(cx, actor, text, *kind, extras)
        }
        Command::EditCard { card, text, kind } => edit_card::edit(cx, actor, card, text, *kind),
        Command::WithdrawCard { card } => edit_card::withdraw(cx, actor, card),
        Command::HideCard { card } => card_status::hide(cx, actor, card),
        Command::RestoreCard { card } => card_status::restore(cx, actor, card),
        Command::MergeCards { card, into } => merge_cards::apply(cx, actor, card, into),
        Command::UnmergeCard { card } => merge_cards::undo(cx, actor, card),
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
        // Recorded as an empty change; the record derives the link's token (see `Record`).
        Command::ProjectorLink => {
            facilitator(actor)?;
            Ok(AckResult::default())
        }
        Command::RaiseHand { kind } => floor::raise(cx, actor, *kind),
        Command::LowerHand { participant } => floor::lower(cx, actor, participant.as_deref()),
        Command::Pass => floor::pass(cx, actor),
        Command::GiveFloor { to } => floor::give(cx, actor, to.as_deref()),
        Command::EndTurn => floor::end(cx, actor),
        Command::PauseFloor => floor::pause(cx, actor, true),
        Command::ResumeFloor => floor::pause(cx, actor, false),
        Command::FloorSettings { change } => floor::settings(cx, actor, change),
        Command::Invite { participant } => floor::invite(cx, actor, participant),
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
        Command::OpenCheck => readiness::open(cx, actor),
        Command::AnswerCheck {
            check,
            answers,
            comment,
        } => readiness::answer(cx, actor, check, *answers, comment.as_deref()),
        Command::ConcludeCheck {
            check,
            conclusion,
            note,
        } => readiness::conclude(cx, actor, check, *conclusion, note.as_deref()),
        Command::ProposeParty {
            name,
            perspective,
            stake,
        } => table::propose(cx, actor, name, *perspective, *stake),
        Command::UpdateParty {
            party,
            name,
            perspective,
            stake,
            status,
        } => {
            let change = table::PartyChange {
                name: name.as_deref(),
                perspective: *perspective,
                stake: *stake,
                status: *status,
            };
            table::update(cx, actor, party, change)
        }
        Command::SetDisplay { table, criteria } => table::display(cx, actor, *table, *criteria),
        Command::ProposeCriterion { text, target, unit } => {
            criteria::propose(cx, actor, text, *target, unit.as_deref())
        }
        Command::AskConsent { criterion } => criteria::ask(cx, actor, criterion),
        Command::Consent { criterion, agree } => criteria::consent(cx, actor, criterion, *agree),
        Command::DecideCriterion { criterion, agreed } => {
            criteria::decide(cx, actor, criterion, *agreed)
        }
        Command::AssessCriterion {
            criterion,
            assessment,
            note,
        } => criteria::assess(cx, actor, criterion, *assessment, note.as_deref()),
        Command::AddExperiment { title, from_card } => {
            experiments::add(cx, actor, title, from_card.as_deref())
        }
        Command::UpdateExperiment { experiment, change } => {
            experiments::update(cx, actor, experiment, change)
        }
        Command::OpenReflection { phase } => reflections::open(cx, actor, *phase),
        Command::Reflect {
            reflection,
            worked,
            not_worked,
        } => reflections::reflect(cx, actor, reflection, worked, not_worked),
        Command::CloseReflection { reflection } => reflections::close(cx, actor, reflection),
        Command::ReplayLink => replay::link(cx, actor),
        Command::RevokeReplay { link } => replay::revoke(cx, actor, link),
        Command::ShareReport { share } => replay::share(cx, actor, *share),
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

/// A participant (not the facilitator, not the projector): the group answers; the facilitator
/// records the conclusion. Returns their index.
fn member(actor: Actor) -> Result<usize, Refusal> {
    match (actor.role, actor.participant) {
        (Role::Participant, Some(p)) => Ok(p),
        (Role::Facilitator, _) => Err(refuse(
            ErrorCode::Forbidden,
            "the group answers this; the facilitator records what the group decides",
        )),
        _ => Err(refuse(ErrorCode::Forbidden, "the projector is read-only")),
    }
}

/// Trims an optional note and checks its length; an empty note is none.
fn note_of(
    note: Option<&str>,
    limits: std::ops::RangeInclusive<usize>,
    what: &str,
) -> Result<Option<String>, Refusal> {
    match note {
        Some(n) => Ok(Some(text_of(n, limits, what)?).filter(|n| !n.is_empty())),
        None => Ok(None),
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

/// Checks a free text against the character rules (`session::text`); returns it trimmed.
pub(crate) fn text_of(
    text: &str,
    limits: std::ops::RangeInclusive<usize>,
    what: &str,
) -> Result<String, Refusal> {
    checked(text, Kind::Text, limits, what)
}

/// Checks a name (of a person, a party, an owner) against the character rules.
pub(crate) fn name_of(
    name: &str,
    limits: std::ops::RangeInclusive<usize>,
    what: &str,
) -> Result<String, Refusal> {
    checked(name, Kind::Name, limits, what)
}

fn checked(
    text: &str,
    kind: Kind,
    limits: std::ops::RangeInclusive<usize>,
    what: &str,
) -> Result<String, Refusal> {
    let (lo, hi) = (*limits.start(), *limits.end());
    text::check(text, kind, limits).map_err(|problem| {
        let why = match problem {
            Problem::Control if kind == Kind::Name => {
                format!("{what} cannot hold control characters, tabs or line breaks")
            }
            Problem::Control => format!("{what} cannot hold control characters"),
            Problem::Direction => format!(
                "{what} cannot hold characters that change the direction of the text \
                 (U+202A to U+202E, U+2066 to U+2069)"
            ),
            Problem::Invisible => format!("{what} must hold at least one visible character"),
            Problem::Length { n } => format!("{what} must be {lo} to {hi} characters, not {n}"),
        };
        refuse(ErrorCode::Invalid, why)
    })
}

/// Trims and checks a display name; used by joins too.
pub fn display_name(name: &str) -> Result<String, Refusal> {
    name_of(name, tafel_protocol::limits::NAME_CHARS, "a name")
}

#[cfg(test)]
pub(crate) mod tests;

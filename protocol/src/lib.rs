//! The Tafel wire protocol, version 1.
//!
//! Everything a client and the server say to each other over the WebSocket at `/ws`.
//! Each message is one JSON text frame holding one object with a `"type"` field.
//! This crate holds only the types (serde); it knows nothing of sockets, rooms or storage,
//! so a client in any language can be written from these docs and `docs/protocol.md`.
//!
//! # The conversation
//!
//! 1. The client opens `/ws` and sends [`ClientMessage::Join`] (a new participant, with a join
//!    code, name and perspective) or [`ClientMessage::Resume`] (anyone who holds a token: a
//!    returning participant, the facilitator, the projector).
//! 2. The server answers [`ServerMessage::Welcome`]: the role, the client's own data
//!    ([`You`]), and a snapshot of everything this role may see ([`View`]). A `Join` welcome
//!    also carries the new participant's token, once; the client keeps it to resume later.
//! 3. The client sends [`ClientMessage::Cmd`] with an id it chose and a [`Command`]. The server
//!    answers [`ServerMessage::Ack`] (the command is applied and on disk) or
//!    [`ServerMessage::Error`] (nothing changed). Sending the same id again — after a
//!    reconnect, say — gets the first answer again; the command is never applied twice.
//! 4. After every change, every connected client receives a [`ServerMessage::Delta`]: the
//!    entities that changed, as its role may see them. A client that only ever applies
//!    welcomes and deltas always shows the room as it is.
//! 5. The client sends `ping` every 20 seconds or so; the server answers `pong`. The server
//!    closes connections that stay silent for 60 seconds.
//!
//! # Errors and limits
//!
//! A bad message gets an [`ServerMessage::Error`] with a stable [`ErrorCode`] and changes
//! nothing; the connection stays open. A frame larger than [`MAX_FRAME_BYTES`] closes the
//! connection with close code 1009; a client sending faster than the rate limit is closed with
//! 1008. A client that reads too slowly to keep up is closed with 1013 and should resume: it
//! receives a fresh snapshot.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod floor;
mod method;
mod report;
pub use floor::*;
pub use method::*;
pub use report::*;

/// The protocol version this crate describes. Clients send it in `join` and `resume`.
pub const PROTOCOL_VERSION: u32 = 1;

/// The largest text frame the server accepts, in bytes.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;

/// Length limits, counted in Unicode characters (not bytes).
pub mod limits {
    /// A display name: 1 to 40 characters after trimming.
    pub const NAME_CHARS: std::ops::RangeInclusive<usize> = 1..=40;
    /// A card's text: 1 to 500 characters after trimming.
    pub const CARD_CHARS: std::ops::RangeInclusive<usize> = 1..=500;
    /// A session title: 1 to 120 characters.
    pub const TITLE_CHARS: std::ops::RangeInclusive<usize> = 1..=120;
    /// The problem statement: 0 to 2000 characters.
    pub const PROBLEM_CHARS: std::ops::RangeInclusive<usize> = 0..=2000;
    /// A command id chosen by the client: 1 to 64 characters.
    pub const COMMAND_ID_CHARS: std::ops::RangeInclusive<usize> = 1..=64;
    /// The largest vote budget per person in one round.
    pub const MAX_BUDGET: u32 = 50;
}

/// Identifies a participant within a session, e.g. `"p3"`.
pub type ParticipantId = String;
/// Identifies a card within a session, e.g. `"k12"`.
pub type CardId = String;
/// Identifies a voting round within a session, e.g. `"r2"`.
pub type RoundId = String;
/// Milliseconds since the Unix epoch, on the server's clock.
pub type Millis = i64;

// ---------------------------------------------------------------------------------------------
// Client → server
// ---------------------------------------------------------------------------------------------

/// A message from a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Join a session as a new participant.
    ///
    /// `{"type":"join","v":1,"code":"K7QM2X","name":"Anna","perspective":"medewerker"}`
    Join {
        /// The protocol version the client speaks: [`PROTOCOL_VERSION`].
        v: u32,
        /// The session's join code (case-insensitive).
        code: String,
        /// Display name, 1–40 characters.
        name: String,
        /// From which position this person takes part.
        perspective: Perspective,
    },
    /// Come back with a token received earlier (participant) or from a link (facilitator,
    /// projector).
    ///
    /// `{"type":"resume","v":1,"code":"K7QM2X","token":"…"}`
    Resume {
        /// The protocol version the client speaks: [`PROTOCOL_VERSION`].
        v: u32,
        /// The session's join code.
        code: String,
        /// The secret token.
        token: String,
    },
    /// A command, with an id the client chose (1–64 characters). Acks are remembered per
    /// person across their devices, so ids must be unique per person (a random prefix per
    /// device plus a counter works). Refusals are not remembered: an id resent after a refusal
    /// is checked again.
    ///
    /// `{"type":"cmd","id":"c-17","cmd":{"type":"add_card","text":"…","kind":"idea"}}`
    Cmd {
        /// Chosen by the client; the answer carries it back.
        id: String,
        /// What to do.
        cmd: Command,
    },
    /// A barrier: answered with [`ServerMessage::Synced`] once everything the room had to send
    /// this connection before it has been sent. Changes nothing and is not recorded. A client
    /// (or a test) that wants to know it has seen every change up to now sends this and waits
    /// for the answer.
    ///
    /// `{"type":"sync","id":"s-1"}`
    Sync {
        /// Chosen by the client (1–64 characters); the answer carries it back.
        id: String,
    },
    /// Heartbeat; answered with `pong`.
    Ping,
}

/// What a client asks the room to do. Each acknowledged command is one change in the session's
/// record. The role that may give each command is in its doc line; "person" means a participant
/// or the facilitator (who is participant `p1`); the projector may give no command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Person: add a card to the current phase. Acked with `result.card`.
    AddCard {
        /// 1–500 characters.
        text: String,
        /// What sort of card this is.
        kind: CardKind,
        /// Optional: the card this one builds on (a condition builds on its idea).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        builds_on: Option<CardId>,
        /// Optional, for an `example`: where it comes from, up to 200 characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<String>,
        /// Optional, for a `lesson`: the experiment or phase it is about (none: the session).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lesson_of: Option<LessonOf>,
    },
    /// Person: change the text of one's own card, and its kind if given (not while it is in
    /// an open round: voters vote on the text they read).
    EditCard {
        /// The card.
        card: CardId,
        /// The new text, 1–500 characters.
        text: String,
        /// The new kind; absent keeps it. An example with a source and a lesson about
        /// something keep their kind.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<CardKind>,
    },
    /// Person: take back one's own card (not while it is in an open round).
    WithdrawCard {
        /// The card.
        card: CardId,
    },
    /// Facilitator: hide a card from participants and the projector. Allowed during a round:
    /// votes already given still count, new ones are refused.
    HideCard {
        /// The card.
        card: CardId,
    },
    /// Facilitator: show a hidden card again.
    RestoreCard {
        /// The card.
        card: CardId,
    },
    /// Facilitator: fold `card` into `into` (for duplicates). Not while either is in an open
    /// voting round.
    MergeCards {
        /// The card that disappears into the other.
        card: CardId,
        /// The card that stays.
        into: CardId,
    },
    /// Facilitator: undo a merge. The merged card is back on the board, on its own.
    UnmergeCard {
        /// The merged card.
        card: CardId,
    },
    /// Facilitator: move the session to a phase (0–5).
    SetPhase {
        /// The phase number, 0–5.
        phase: u8,
    },
    /// Facilitator: open a voting round over the visible cards of a phase. Only one round is
    /// open at a time. Acked with `result.round`.
    OpenRound {
        /// The phase whose cards are voted on; default: the current phase.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phase: Option<u8>,
        /// Votes per person, 1–50; default 5.
        #[serde(default = "default_budget")]
        budget: u32,
        /// The most votes one person may give one card, 1–budget; default 3.
        #[serde(default = "default_max_per_card")]
        max_per_card: u32,
        /// Show running totals to everyone while the round is open; default false.
        #[serde(default)]
        live: bool,
    },
    /// Facilitator: close a round; everyone then sees the ranked totals.
    CloseRound {
        /// The round.
        round: RoundId,
    },
    /// Person: place one vote on a card in an open round.
    Vote {
        /// The round.
        round: RoundId,
        /// The card.
        card: CardId,
    },
    /// Person: take back one of one's own votes on a card in an open round.
    Unvote {
        /// The round.
        round: RoundId,
        /// The card.
        card: CardId,
    },
    /// Facilitator: let no new participants join (those who joined can still come back).
    Lock,
    /// Facilitator: let new participants join again.
    Unlock,
    /// Facilitator: end the session. From then on it is read-only. An open round is closed.
    End,
    /// Facilitator: make a new secret link for the big screen. Acked with
    /// `result.projector_url`. Older projector links keep working.
    ProjectorLink,
    /// Person: raise a hand (again raising the same kind changes nothing; raising the other
    /// kind swaps it). A direct response needs someone else to have the floor and counts
    /// against the per-phase cap when it is given.
    RaiseHand {
        /// `hand` (default) or `response`.
        #[serde(default)]
        kind: HandKind,
    },
    /// Person: lower one's own hand. Facilitator: lower anyone's (`participant`). Lowering a
    /// hand that is not raised changes nothing.
    LowerHand {
        /// Whose hand (facilitator only); default: one's own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        participant: Option<ParticipantId>,
    },
    /// Participant, in round order: skip one's turn in this round.
    Pass,
    /// Facilitator: give the floor to the first in the queue, or to `to` (anyone; recorded as
    /// an override when it is not the first in the queue). A running turn ends first. Acked
    /// with `result.turn`.
    GiveFloor {
        /// Who gets it; default: the first in the queue.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<ParticipantId>,
    },
    /// Speaker: end one's own turn. Facilitator: end the running turn.
    EndTurn,
    /// Facilitator: invite a participant privately to speak (only they and the facilitator
    /// learn of it). Open until the next turn is given; raising a hand takes it.
    Invite {
        /// Who.
        participant: ParticipantId,
    },
    /// Facilitator: pause the floor: the turn's clock stands still and no turn can start.
    PauseFloor,
    /// Facilitator: let the floor go on.
    ResumeFloor,
    /// Facilitator: change floor settings (only the fields given).
    FloorSettings {
        /// The changes.
        #[serde(flatten)]
        change: FloorSettingsChange,
    },
    /// Facilitator: add a ground rule (no `rule`) or change one's text. Acked with
    /// `result.rule` for a new rule. Agreements so far no longer count: everyone agrees to the
    /// new version.
    SetRule {
        /// The rule to change; absent to add one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<RuleId>,
        /// 1–200 characters.
        text: String,
    },
    /// Facilitator: take a ground rule out (its violations stay on record).
    RemoveRule {
        /// The rule.
        rule: RuleId,
    },
    /// Person: agree (or not) to the current ground rules. A later answer replaces an earlier.
    AgreeRules {
        /// Yes or no.
        agree: bool,
    },
    /// Person: report a violation of a ground rule. At most one open report per reporter per
    /// person, and at most 3 reports per 10 minutes. Acked with `result.report`.
    Flag {
        /// The rule.
        rule: RuleId,
        /// About whom (optional).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        about: Option<ParticipantId>,
        /// A note, up to 280 characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        /// Hide the reporter from the facilitator too.
        #[serde(default)]
        anonymous: bool,
    },
    /// Facilitator: confirm an open report, optionally with a consequence for the person it is
    /// about.
    ConfirmFlag {
        /// The report.
        report: ReportId,
        /// What follows (needs a report about someone).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        consequence: Option<Consequence>,
    },
    /// Facilitator: dismiss an open report.
    DismissFlag {
        /// The report.
        report: ReportId,
    },
    /// Facilitator: open a readiness check, phase 0's three questions (urgent? complex? willing
    /// to work on it together?). One check is open at a time. Acked with `result.check`.
    OpenCheck,
    /// Person: answer the open readiness check: any of the three questions, and a comment. A
    /// later answer replaces the earlier one. Answers are counted, never shown with a name.
    AnswerCheck {
        /// The check.
        check: CheckId,
        /// The answers (a question left out stays unanswered).
        #[serde(flatten)]
        answers: ReadinessAnswers,
        /// A comment, up to 280 characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    /// Facilitator: record the group's conclusion (start, or not yet), which closes the check.
    ConcludeCheck {
        /// The check.
        check: CheckId,
        /// Start, or not yet.
        conclusion: Conclusion,
        /// A note, up to 280 characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Person: propose a party for the table: a group or role needed for the change or
    /// affected by it. Listed at once when the facilitator proposes it. Acked with
    /// `result.party`.
    ProposeParty {
        /// 1–80 characters.
        name: String,
        /// The perspective it speaks from.
        perspective: Perspective,
        /// Needed, affected or both.
        stake: Stake,
    },
    /// Facilitator: change a party (only the fields given): list a proposed one, take one off,
    /// correct it.
    UpdateParty {
        /// The party.
        party: PartyId,
        /// A new name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// A new perspective.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        perspective: Option<Perspective>,
        /// A new stake.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stake: Option<Stake>,
        /// A new status.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<PartyStatus>,
    },
    /// Facilitator: what the big screen shows besides the board (only the fields given).
    SetDisplay {
        /// Who is at the table.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        table: Option<bool>,
        /// The success criteria.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        criteria: Option<bool>,
    },
    /// Person: propose a success criterion, plain or with a target and its unit (both or
    /// neither). Acked with `result.criterion`.
    ProposeCriterion {
        /// 1–200 characters.
        text: String,
        /// A target, for a measurable criterion.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<f64>,
        /// The target's unit, 1–20 characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<String>,
    },
    /// Facilitator: ask the group whether it agrees to a proposed criterion (a consent round).
    AskConsent {
        /// The criterion.
        criterion: CriterionId,
    },
    /// Person: agree to, or object to, a criterion the group is asked about. A later answer
    /// replaces the earlier one. Counted, never shown with a name.
    Consent {
        /// The criterion.
        criterion: CriterionId,
        /// Agree (true) or object (false).
        agree: bool,
    },
    /// Facilitator: decide a criterion: agreed, or dropped (this closes its consent round, if
    /// one is open).
    DecideCriterion {
        /// The criterion.
        criterion: CriterionId,
        /// Agreed (true) or dropped (false).
        agreed: bool,
    },
    /// Facilitator, in phase 5: how far an agreed criterion was met, with a note.
    AssessCriterion {
        /// The criterion.
        criterion: CriterionId,
        /// Met, partly or not met.
        assessment: Assessment,
        /// A note, up to 280 characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Facilitator, or the author of the idea it comes from: make an experiment. Acked with
    /// `result.experiment`.
    AddExperiment {
        /// 1–120 characters.
        title: String,
        /// The idea card it comes from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from_card: Option<CardId>,
    },
    /// Facilitator, the author of its idea, or an owner: change an experiment (only the
    /// fields given).
    UpdateExperiment {
        /// The experiment.
        experiment: ExperimentId,
        /// The changes (boxed: every other command is much smaller).
        #[serde(flatten)]
        change: Box<ExperimentChange>,
    },
    /// Facilitator: open a short reflection on a phase (default: the current one). One is
    /// open at a time. Acked with `result.reflection`.
    OpenReflection {
        /// The phase it looks back on, 0–5.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phase: Option<u8>,
    },
    /// Person: write one's reflection (what worked, what did not; at least one of them). A
    /// later one replaces the earlier. Without a name when cards are anonymous.
    Reflect {
        /// The reflection round.
        reflection: ReflectionId,
        /// What worked, up to 280 characters.
        #[serde(default)]
        worked: String,
        /// What did not, up to 280 characters.
        #[serde(default)]
        not_worked: String,
    },
    /// Facilitator: close a reflection.
    CloseReflection {
        /// The reflection round.
        reflection: ReflectionId,
    },
    /// Facilitator: make a read-only replay link (to step through the session and read its
    /// report). Acked with `result.replay_url` and `result.replay_link`. Older links keep
    /// working until revoked.
    ReplayLink,
    /// Facilitator: revoke a replay link; it opens nothing any more.
    RevokeReplay {
        /// The link.
        link: ReplayLinkId,
    },
    /// Facilitator: whether participants find the report on their phones once the session
    /// has ended.
    ShareReport {
        /// Shared or not.
        share: bool,
    },
}

impl Command {
    /// Every command's wire name, as serde itself knows them: asked for a type that does not
    /// exist, serde's derived code names the ones that do.
    pub fn names() -> &'static [&'static str] {
        use serde::de::value::MapDeserializer;
        let unknown = MapDeserializer::<_, VariantNames>::new(std::iter::once(("type", "")));
        match Command::deserialize(unknown) {
            Err(VariantNames(Some(names))) => names,
            _ => unreachable!("serde names the variants of an unknown type"),
        }
    }

    /// The command's wire name (its `"type"`), for logs, metrics and the session's record.
    pub fn name(&self) -> &'static str {
        match self {
            Self::AddCard { .. } => "add_card",
            Self::EditCard { .. } => "edit_card",
            Self::WithdrawCard { .. } => "withdraw_card",
            Self::HideCard { .. } => "hide_card",
            Self::RestoreCard { .. } => "restore_card",
            Self::MergeCards { .. } => "merge_cards",
            Self::UnmergeCard { .. } => "unmerge_card",
            Self::SetPhase { .. } => "set_phase",
            Self::OpenRound { .. } => "open_round",
            Self::CloseRound { .. } => "close_round",
            Self::Vote { .. } => "vote",
            Self::Unvote { .. } => "unvote",
            Self::Lock => "lock",
            Self::Unlock => "unlock",
            Self::End => "end",
            Self::ProjectorLink => "projector_link",
            Self::RaiseHand { .. } => "raise_hand",
            Self::LowerHand { .. } => "lower_hand",
            Self::Pass => "pass",
            Self::GiveFloor { .. } => "give_floor",
            Self::EndTurn => "end_turn",
            Self::Invite { .. } => "invite",
            Self::PauseFloor => "pause_floor",
            Self::ResumeFloor => "resume_floor",
            Self::FloorSettings { .. } => "floor_settings",
            Self::SetRule { .. } => "set_rule",
            Self::RemoveRule { .. } => "remove_rule",
            Self::AgreeRules { .. } => "agree_rules",
            Self::Flag { .. } => "flag",
            Self::ConfirmFlag { .. } => "confirm_flag",
            Self::DismissFlag { .. } => "dismiss_flag",
            Self::OpenCheck => "open_check",
            Self::AnswerCheck { .. } => "answer_check",
            Self::ConcludeCheck { .. } => "conclude_check",
            Self::ProposeParty { .. } => "propose_party",
            Self::UpdateParty { .. } => "update_party",
            Self::SetDisplay { .. } => "set_display",
            Self::ProposeCriterion { .. } => "propose_criterion",
            Self::AskConsent { .. } => "ask_consent",
            Self::Consent { .. } => "consent",
            Self::DecideCriterion { .. } => "decide_criterion",
            Self::AssessCriterion { .. } => "assess_criterion",
            Self::AddExperiment { .. } => "add_experiment",
            Self::UpdateExperiment { .. } => "update_experiment",
            Self::OpenReflection { .. } => "open_reflection",
            Self::Reflect { .. } => "reflect",
            Self::CloseReflection { .. } => "close_reflection",
            Self::ReplayLink => "replay_link",
            Self::RevokeReplay { .. } => "revoke_replay",
            Self::ShareReport { .. } => "share_report",
        }
    }
}

/// The error a deserializer gives when it only wants to know the variants serde expected.
#[derive(Debug)]
struct VariantNames(Option<&'static [&'static str]>);

impl std::fmt::Display for VariantNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "expected one of {:?}", self.0)
    }
}

impl std::error::Error for VariantNames {}

impl serde::de::Error for VariantNames {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        VariantNames(None)
    }

    fn unknown_variant(_: &str, expected: &'static [&'static str]) -> Self {
        VariantNames(Some(expected))
    }
}

fn default_budget() -> u32 {
    5
}
fn default_max_per_card() -> u32 {
    3
}

// ---------------------------------------------------------------------------------------------
// Server → client
// ---------------------------------------------------------------------------------------------

/// A message from the server. (A welcome is large; a message lives only while it is encoded
/// or decoded, so its size does not matter.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)]
pub enum ServerMessage {
    /// The answer to `join` or `resume`.
    Welcome {
        /// The protocol version the server speaks.
        v: u32,
        /// The role of this connection.
        role: Role,
        /// The new participant's secret token; only in the answer to `join`. Keep it to resume.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
        /// This client's own data.
        you: You,
        /// The room as this role may see it.
        view: View,
        /// The number of the last change included in `view`.
        seq: u64,
    },
    /// A command was applied and is durable.
    Ack {
        /// The command's id, as the client sent it.
        id: String,
        /// What the command created, if anything.
        #[serde(default, skip_serializing_if = "AckResult::is_empty")]
        result: AckResult,
    },
    /// Something was refused. Nothing changed.
    Error {
        /// The command's id, when the error answers a command.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// Stable, machine-readable reason.
        code: ErrorCode,
        /// A human-readable explanation (English), for logs and developers.
        message: String,
        /// The command's field the refusal is about (`"budget"`, `"text"`, …), when it is
        /// about one: a form can say which of its fields to fix.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
    },
    /// What changed in the room, as this role may see it. Apply in order.
    Delta {
        /// The number of the last change included.
        seq: u64,
        /// The changed entities.
        patch: Patch,
    },
    /// This client's own data changed (for example its votes): what changed, to apply to the
    /// `you` of the welcome with [`You::apply`]. Sent only to that person's connections, after
    /// the deltas of the same change and before its ack.
    YouDelta {
        /// What changed.
        you: YouPatch,
    },
    /// The answer to [`ClientMessage::Sync`]: everything before it has been sent.
    Synced {
        /// The sync's id, as the client sent it.
        id: String,
        /// The number of the last change the room had made.
        seq: u64,
    },
    /// Answer to `ping`.
    Pong,
    /// Storing has been slow: a write of this room has taken more than a second
    /// (`slow: true`), or the slow write is over (`slow: false`). Nothing is lost meanwhile:
    /// commands sent wait to be stored and are answered once they are (or refused).
    Storage {
        /// Whether a write is still taking long.
        slow: bool,
    },
}

/// Ids of what a command created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckResult {
    /// The card `add_card` created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardId>,
    /// The round `open_round` opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<RoundId>,
    /// The link `projector_link` made (holds a secret token; sent only to the facilitator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projector_url: Option<String>,
    /// The turn `give_floor` started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn: Option<String>,
    /// The rule `set_rule` added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleId>,
    /// The report `flag` made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<ReportId>,
    /// The readiness check `open_check` opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckId>,
    /// The party `propose_party` made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<PartyId>,
    /// The criterion `propose_criterion` made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criterion: Option<CriterionId>,
    /// The experiment `add_experiment` made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<ExperimentId>,
    /// The reflection `open_reflection` opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reflection: Option<ReflectionId>,
    /// The replay link `replay_link` made (holds a secret token; sent only to the
    /// facilitator, never recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_url: Option<String>,
    /// The id of that link, to revoke it later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_link: Option<ReplayLinkId>,
}

impl AckResult {
    /// True when the command created nothing.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// Why something was refused. Serialized in snake_case, e.g. `"over_budget"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not valid JSON, or not a known message.
    BadMessage,
    /// The command type is unknown.
    UnknownCommand,
    /// The client speaks another protocol version.
    UnsupportedVersion,
    /// A command was sent before `join` or `resume` succeeded.
    NotJoined,
    /// `join` or `resume` was sent twice on one connection.
    AlreadyJoined,
    /// No session has this code.
    SessionNotFound,
    /// The session is locked: no new participants.
    SessionLocked,
    /// The session has ended: nothing can change any more.
    SessionEnded,
    /// The session has as many participants as it can take.
    SessionFull,
    /// The token is not valid for this session.
    BadToken,
    /// Too many wrong codes from this address; wait a while.
    TooManyAttempts,
    /// This role may not give this command, or not on this card.
    Forbidden,
    /// A field is invalid: a length, a phase number, a budget.
    Invalid,
    /// The card does not exist, or is not part of the round.
    UnknownCard,
    /// The round does not exist.
    UnknownRound,
    /// The card cannot be voted on or changed in its current state.
    CardUnavailable,
    /// The round is closed.
    RoundClosed,
    /// Another round is still open, or the card is in an open round.
    RoundOpen,
    /// The vote would exceed your budget for the round.
    OverBudget,
    /// The vote would exceed the maximum per card.
    CardLimit,
    /// There is no vote of yours to take back.
    NoVote,
    /// No participant has this id.
    UnknownParticipant,
    /// The ground rule does not exist (or was taken out).
    UnknownRule,
    /// The report does not exist.
    UnknownReport,
    /// Nobody has the floor.
    NoTurn,
    /// The queue is empty: there is nobody to give the floor to.
    QueueEmpty,
    /// Only hands that wait a moment to make room for the quiet are in the queue.
    MakingRoom,
    /// The floor is paused.
    FloorPaused,
    /// You used all your direct responses in this phase.
    ResponseCap,
    /// The report was already decided.
    ReportClosed,
    /// You already have an open report about this person, or made too many reports lately.
    ReportLimit,
    /// The readiness check does not exist.
    UnknownCheck,
    /// The party does not exist.
    UnknownParty,
    /// The criterion does not exist.
    UnknownCriterion,
    /// The experiment does not exist.
    UnknownExperiment,
    /// The reflection does not exist.
    UnknownReflection,
    /// The check, consent round or reflection takes no answers now (closed, or not asked).
    Closed,
    /// Another readiness check or reflection is still open.
    AlreadyOpen,
    /// The replay link does not exist.
    UnknownLink,
    /// The server could not complete the command; nothing changed. Try again (the same id
    /// may be resent: refusals are not remembered).
    Internal,
    /// Too many sessions were created lately, from this address or on the whole server;
    /// wait and try again.
    TooManySessions,
    /// Creating a session on this server needs the organiser key, and it was missing or wrong.
    OrganiserKey,
    /// The server could not store the command (its disk is full or read-only, or its database
    /// fails); it was not applied. Resend it (the same id) a little later: the session goes on,
    /// and takes commands again as soon as storage works.
    StorageUnavailable,
}

/// The three kinds of connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the session: phases, moderation, voting rounds, lock and end.
    Facilitator,
    /// Takes part from a phone: cards and votes.
    Participant,
    /// The read-only big screen.
    Projector,
    /// Someone with a replay link: reads the session afterwards (over HTTP, never live), as
    /// the big screen showed it or could have shown it.
    Replay,
}

/// From which position someone takes part. Serialized as the Dutch word without accents:
/// `"client"` is cliënt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Perspective {
    /// Cliënt: someone who receives care.
    Client,
    /// Naaste: a relative or someone close to a client.
    Naaste,
    /// Medewerker: a care worker.
    Medewerker,
    /// Teamleider: a team lead.
    Teamleider,
    /// Manager.
    Manager,
    /// Bestuurder: a director or board member.
    Bestuurder,
    /// Anders: any other position.
    Anders,
}

/// What sort of note a card is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardKind {
    /// A problem, or part of one.
    Problem,
    /// A question.
    Question,
    /// An idea for a solution.
    Idea,
    /// An existing solution or example from elsewhere (with where it comes from).
    Example,
    /// A condition an idea needs.
    Condition,
    /// An experiment to try.
    Experiment,
    /// A lesson learned.
    Lesson,
    /// Anything else.
    Note,
}

/// The session's language, for its screens' defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// Dutch.
    #[default]
    Nl,
    /// English.
    En,
}

/// Where the session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// People can join.
    Open,
    /// No new participants; everything else goes on.
    Locked,
    /// Read-only.
    Ended,
}

/// A card's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardStatus {
    /// On the board.
    Visible,
    /// Hidden by the facilitator. Only the facilitator receives its text.
    Hidden,
    /// Taken back by its author. Nobody receives its text.
    Withdrawn,
    /// Folded into another card (`merged_into`). Only the facilitator receives its text.
    Merged,
}

/// A voting round's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundStatus {
    /// Votes can be placed and taken back.
    Open,
    /// Final; the ranked totals are visible to everyone.
    Closed,
}

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

/// The whole room as one role may see it. Sent in `welcome`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct View {
    /// The session itself.
    pub session: SessionView,
    /// Everyone who joined, in order of joining (the facilitator included, with role
    /// `facilitator`).
    pub participants: Vec<ParticipantView>,
    /// The cards, in order of creation.
    pub cards: Vec<CardView>,
    /// The voting rounds, in order of opening.
    pub rounds: Vec<RoundView>,
    /// The floor: settings, the running turn, the queue, and balance as this role may see it.
    pub floor: FloorView,
    /// The ground rules with their confirmed-violation counts.
    pub rules: RulesView,
    /// Reported violations (facilitator only; empty for other roles).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reports: Vec<ReportView>,
    /// Readiness checks, in order of opening (counts only). Left out while there are none,
    /// like the lists below.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckView>,
    /// Parties proposed for the table, in order of proposing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parties: Vec<PartyView>,
    /// Who is at the table, per perspective, against the parties listed (left out while
    /// nobody is listed or present).
    #[serde(default, skip_serializing_if = "TableView::is_empty")]
    pub table: TableView,
    /// Success criteria, in order of proposing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub criteria: Vec<CriterionView>,
    /// Experiments, in order of making.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub experiments: Vec<ExperimentView>,
    /// Reflection rounds, in order of opening.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reflections: Vec<ReflectionView>,
    /// Replay links (facilitator only), in order of making.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replay_links: Vec<ReplayLinkView>,
}

/// What changed. An absent field of the patch means "nothing of this kind changed". Each entity
/// present is whole and replaces the client's copy with the same id (or is added): a field
/// missing inside an entity (a card's `text`, a round's `results`) means "none now", so do not
/// merge field by field. Entities are never deleted: a withdrawn card is sent again with
/// status `withdrawn` and no text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Patch {
    /// The session, whole, if anything in it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionView>,
    /// Participants that joined or changed (presence included).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participants: Vec<ParticipantView>,
    /// Cards that were added or changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cards: Vec<CardView>,
    /// Rounds that were opened or changed (new votes included).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rounds: Vec<RoundView>,
    /// The floor, whole, if anything in it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<FloorView>,
    /// The ground rules, whole, if anything in them changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<RulesView>,
    /// Reports that were made or decided (facilitator only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reports: Vec<ReportView>,
    /// Readiness checks opened, answered or concluded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckView>,
    /// Parties proposed or changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parties: Vec<PartyView>,
    /// Who is at the table, whole, if the parties or who is present changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<TableView>,
    /// Criteria proposed or changed (consent counts included).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub criteria: Vec<CriterionView>,
    /// Experiments made or changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub experiments: Vec<ExperimentView>,
    /// Reflection rounds opened, written in or closed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reflections: Vec<ReflectionView>,
    /// Replay links made or revoked (facilitator only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replay_links: Vec<ReplayLinkView>,
}

impl Patch {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

impl View {
    /// Applies a delta's patch, as every client must: an entity replaces the one with the same
    /// id, or is added at the end; the session, the floor and the rules are replaced whole.
    pub fn apply(&mut self, patch: &Patch) {
        if let Some(s) = &patch.session {
            self.session = s.clone();
        }
        upsert(&mut self.participants, &patch.participants, |p| &p.id);
        upsert(&mut self.cards, &patch.cards, |c| &c.id);
        upsert(&mut self.rounds, &patch.rounds, |r| &r.id);
        if let Some(f) = &patch.floor {
            self.floor = f.clone();
        }
        if let Some(r) = &patch.rules {
            self.rules = r.clone();
        }
        upsert(&mut self.reports, &patch.reports, |r| &r.id);
        upsert(&mut self.checks, &patch.checks, |c| &c.id);
        upsert(&mut self.parties, &patch.parties, |p| &p.id);
        if let Some(t) = &patch.table {
            self.table = t.clone();
        }
        upsert(&mut self.criteria, &patch.criteria, |c| &c.id);
        upsert(&mut self.experiments, &patch.experiments, |e| &e.id);
        upsert(&mut self.reflections, &patch.reflections, |r| &r.id);
        upsert(&mut self.replay_links, &patch.replay_links, |l| &l.id);
    }
}

/// Replaces the entities of `list` that have the id of one in `items`, and adds the others.
/// Ids are numbered in creation order, so a new entity is nearly always past the end: look
/// there first.
fn upsert<T: Clone>(list: &mut Vec<T>, items: &[T], id: impl Fn(&T) -> &str) {
    for item in items {
        match list.iter_mut().rev().find(|x| id(x) == id(item)) {
            Some(slot) => *slot = item.clone(),
            None => list.push(item.clone()),
        }
    }
}

/// The session's own fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    /// The join code, e.g. `"K7QM2X"`.
    pub code: String,
    /// The session's title.
    pub title: String,
    /// The problem the group works on.
    pub problem: String,
    /// The session's language.
    pub language: Language,
    /// When true, nobody is shown who wrote which card.
    pub anonymous_cards: bool,
    /// The current phase, 0–5.
    pub phase: u8,
    /// Open, locked or ended.
    pub status: SessionStatus,
    /// When the session was created.
    pub created_at: Millis,
    /// The link participants open to join (also encoded in the QR code at
    /// `/api/sessions/{code}/qr.svg`).
    pub join_url: String,
    /// What the big screen shows besides the board.
    #[serde(default)]
    pub display: Display,
    /// Whether participants find the report on their phones once the session has ended.
    #[serde(default)]
    pub share_report: bool,
}

/// One person in the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantView {
    /// The participant's id.
    pub id: ParticipantId,
    /// Display name.
    pub name: String,
    /// From which position they take part.
    pub perspective: Perspective,
    /// Facilitator or participant.
    pub role: Role,
    /// When they joined.
    pub joined_at: Millis,
    /// Whether they have a live connection now.
    pub online: bool,
}

/// One card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardView {
    /// The card's id.
    pub id: CardId,
    /// Its kind.
    pub kind: CardKind,
    /// The phase it was added in.
    pub phase: u8,
    /// Visible, hidden, withdrawn or merged.
    pub status: CardStatus,
    /// The text; absent when this role may not see it (see [`CardStatus`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The author; absent when cards are anonymous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<ParticipantId>,
    /// The card this one builds on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builds_on: Option<CardId>,
    /// For merged cards: the card it was folded into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<CardId>,
    /// When it was added.
    pub created_at: Millis,
    /// When its text last changed, if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<Millis>,
    /// For an `example`: where it comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// For a `lesson`: the experiment or phase it is about (absent: the session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lesson_of: Option<LessonOf>,
}

/// One voting round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundView {
    /// The round's id.
    pub id: RoundId,
    /// The phase whose cards are voted on.
    pub phase: u8,
    /// Votes per person.
    pub budget: u32,
    /// The most votes one person may give one card.
    pub max_per_card: u32,
    /// Whether running totals are shown while open.
    pub live: bool,
    /// Open or closed.
    pub status: RoundStatus,
    /// The cards in this round (the phase's visible cards when it opened).
    pub cards: Vec<CardId>,
    /// How many people have at least one vote placed.
    pub voters: u32,
    /// When it opened.
    pub opened_at: Millis,
    /// When it closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Millis>,
    /// Totals per card, highest first (ties: earlier card first). Present once closed; while
    /// open only for the facilitator, or for everyone when `live`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<CardTotal>>,
}

/// A card's total in a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardTotal {
    /// The card.
    pub card: CardId,
    /// Its number of votes.
    pub votes: u32,
}

/// A client's own data. Sent only to that client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct You {
    /// Your participant id (absent for the projector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<ParticipantId>,
    /// Your role.
    pub role: Role,
    /// The cards you wrote (also when cards are anonymous).
    pub cards: Vec<CardId>,
    /// Your votes, per round: every open round as of the welcome, and closed rounds you voted
    /// in; `you_delta` brings the rounds where your votes change. A round missing here is one
    /// where you have used none of its budget.
    pub votes: Vec<YourVotes>,
    /// Your floor time, responses, ground-rule answer, warnings and reports (absent for the
    /// projector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<YourFloor>,
    /// Your answers to readiness checks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readiness: Vec<YourAnswers>,
    /// Your answers in consent rounds on criteria.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consents: Vec<YourConsent>,
    /// Your reflections.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reflections: Vec<YourReflection>,
}

/// Your votes in one round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YourVotes {
    /// The round.
    pub round: RoundId,
    /// Votes per card (cards with none left out).
    pub cards: BTreeMap<CardId, u32>,
    /// Votes you can still place.
    pub remaining: u32,
}

/// What changed in your own data (a `you_delta` message). An absent field means "unchanged".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct YouPatch {
    /// Cards you wrote since the last message: add them to `you.cards`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub new_cards: Vec<CardId>,
    /// Your votes in the rounds where they changed, whole: each replaces the entry of
    /// `you.votes` with the same round, or is added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub votes: Vec<YourVotes>,
    /// Your floor and ground-rule data, whole, when any of it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<YourFloor>,
    /// Your answers to the readiness checks where they changed: each replaces the entry of
    /// `you.readiness` with the same check, or is added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readiness: Vec<YourAnswers>,
    /// Your consent answers that changed (by criterion).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consents: Vec<YourConsent>,
    /// Your reflections that changed (by reflection round).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reflections: Vec<YourReflection>,
}

impl YouPatch {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

impl You {
    /// Applies a `you_delta`.
    pub fn apply(&mut self, patch: &YouPatch) {
        self.cards.extend(patch.new_cards.iter().cloned());
        upsert(&mut self.votes, &patch.votes, |v| &v.round);
        if let Some(f) = &patch.floor {
            self.floor = Some(f.clone());
        }
        upsert(&mut self.readiness, &patch.readiness, |a| &a.check);
        upsert(&mut self.consents, &patch.consents, |c| &c.criterion);
        upsert(&mut self.reflections, &patch.reflections, |r| &r.reflection);
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP API
// ---------------------------------------------------------------------------------------------

/// `POST /api/sessions`: create a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateSession {
    /// 1–120 characters.
    pub title: String,
    /// The problem statement, up to 2000 characters.
    #[serde(default)]
    pub problem: String,
    /// Default `nl`.
    #[serde(default)]
    pub language: Language,
    /// Hide who wrote which card; default false.
    #[serde(default)]
    pub anonymous_cards: bool,
    /// The facilitator's display name; default "Procesbegeleider" (`nl`) or "Facilitator"
    /// (`en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facilitator_name: Option<String>,
}

/// The answer to `POST /api/sessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionCreated {
    /// The join code participants type.
    pub code: String,
    /// The link participants open (also in the QR code).
    pub join_url: String,
    /// The facilitator's secret link (holds the facilitator token after `#`).
    pub facilitator_url: String,
    /// The projector's secret link (holds the projector token after `#`).
    pub projector_url: String,
    /// The QR code of `join_url`, as SVG.
    pub qr_url: String,
    /// The facilitator's token (also in `facilitator_url`).
    pub facilitator_token: String,
    /// The projector's token (also in `projector_url`).
    pub projector_token: String,
}

/// `GET /api/sessions/{code}`: what a phone may know before joining.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The join code.
    pub code: String,
    /// The title.
    pub title: String,
    /// The session's language.
    pub language: Language,
    /// Open, locked or ended.
    pub status: SessionStatus,
}

/// The body of an HTTP error answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpError {
    /// Stable, machine-readable reason.
    pub code: ErrorCode,
    /// Human-readable explanation.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_round_trips_in_documented_shape() {
        let raw = r#"{"type":"cmd","id":"c-1","cmd":{"type":"add_card","text":"Meer tijd","kind":"idea"}}"#;
        let msg: ClientMessage = serde_json::from_str(raw).unwrap();
        assert_eq!(
            msg,
            ClientMessage::Cmd {
                id: "c-1".into(),
                cmd: Command::AddCard {
                    text: "Meer tijd".into(),
                    kind: CardKind::Idea,
                    builds_on: None,
                    source: None,
                    lesson_of: None,
                }
            }
        );
        assert_eq!(serde_json::to_string(&msg).unwrap(), raw);
    }

    #[test]
    fn open_round_takes_documented_defaults() {
        let cmd: Command = serde_json::from_str(r#"{"type":"open_round"}"#).unwrap();
        assert_eq!(
            cmd,
            Command::OpenRound {
                phase: None,
                budget: 5,
                max_per_card: 3,
                live: false
            }
        );
    }

    #[test]
    fn unit_messages_are_plain_objects() {
        assert_eq!(
            serde_json::to_string(&ClientMessage::Ping).unwrap(),
            r#"{"type":"ping"}"#
        );
        assert_eq!(
            serde_json::to_string(&ServerMessage::Pong).unwrap(),
            r#"{"type":"pong"}"#
        );
        let lock: ClientMessage =
            serde_json::from_str(r#"{"type":"cmd","id":"x","cmd":{"type":"lock"}}"#).unwrap();
        assert!(matches!(
            lock,
            ClientMessage::Cmd {
                cmd: Command::Lock,
                ..
            }
        ));
    }

    #[test]
    fn perspective_client_is_ascii_on_the_wire() {
        assert_eq!(
            serde_json::to_string(&Perspective::Client).unwrap(),
            r#""client""#
        );
    }

    /// Every command type serde knows has an instance, and `name` gives exactly that type: the
    /// names cannot drift from the wire.
    #[test]
    fn command_names_are_the_wire_types() {
        let names = Command::names();
        assert!(names.len() > 20, "{names:?}");
        for &n in names {
            // Every field any command needs, so each type decodes (unknown fields are ignored);
            // `kind` is a card's kind for some commands and a hand's for others.
            let cmd = ["idea", "hand"]
                .iter()
                .find_map(|kind| {
                    let raw = format!(
                        r#"{{"type":"{n}","text":"x","kind":"{kind}","card":"k1","into":"k2",
                           "phase":1,"round":"r1","rule":"g1","agree":true,"report":"x1",
                           "check":"q1","conclusion":"start","name":"x","perspective":"client",
                           "stake":"both","criterion":"c1","agreed":true,"assessment":"met",
                           "title":"x","experiment":"e1","reflection":"y1","party":"s1",
                           "link":"l1","share":true,"participant":"p2"}}"#
                    );
                    serde_json::from_str::<Command>(&raw).ok()
                })
                .unwrap_or_else(|| panic!("no instance of {n}"));
            assert_eq!(cmd.name(), n);
        }
    }

    #[test]
    fn a_patch_applied_to_a_view_replaces_by_id_and_adds_the_rest() {
        let card = |id: &str, text: &str| CardView {
            id: id.into(),
            kind: CardKind::Idea,
            phase: 1,
            status: CardStatus::Visible,
            text: Some(text.into()),
            author: None,
            builds_on: None,
            merged_into: None,
            created_at: 1,
            edited_at: None,
            source: None,
            lesson_of: None,
        };
        let view_json = r#"{"session":{"code":"K","title":"T","problem":"","language":"nl",
            "anonymous_cards":false,"phase":1,"status":"open","created_at":1,"join_url":"u"},
            "participants":[],"cards":[],"rounds":[],
            "floor":{"now":1,"settings":{"order":"least_spoken","turn_secs":120,"response_secs":30,
            "mode":"soft","fair_share":2.0,"response_cap":2,"show_balance":false},"paused":false,
            "queue":[],"waiting":0,"spoken_ms":0,"turns":0},
            "rules":{"rules":[],"version":0,"agreed":0,"disagreed":0}}"#;
        let mut view: View = serde_json::from_str(view_json).unwrap();
        view.cards = vec![card("k1", "een"), card("k2", "twee")];
        view.apply(&Patch {
            cards: vec![card("k2", "TWEE"), card("k3", "drie")],
            ..Patch::default()
        });
        let texts: Vec<_> = view
            .cards
            .iter()
            .map(|c| c.text.as_deref().unwrap())
            .collect();
        assert_eq!(texts, ["een", "TWEE", "drie"]);
    }

    #[test]
    fn empty_ack_has_no_result_field() {
        let ack = ServerMessage::Ack {
            id: "a".into(),
            result: AckResult::default(),
        };
        assert_eq!(
            serde_json::to_string(&ack).unwrap(),
            r#"{"type":"ack","id":"a"}"#
        );
    }
}

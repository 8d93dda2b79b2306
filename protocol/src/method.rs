//! What a session produces, beyond cards and votes: the readiness check of phase 0, who is at
//! the table, the success criteria, experiments, and reflections. The wire types; see
//! `docs/protocol.md` §5 and §6 for the rules behind them.

use crate::{CardId, Millis, ParticipantId, Perspective};
use serde::{Deserialize, Serialize};

/// Identifies a readiness check, e.g. `"q1"`.
pub type CheckId = String;
/// Identifies a party at the table, e.g. `"s3"`.
pub type PartyId = String;
/// Identifies a success criterion, e.g. `"c2"`.
pub type CriterionId = String;
/// Identifies an experiment, e.g. `"e1"`.
pub type ExperimentId = String;
/// Identifies a reflection round, e.g. `"y1"`.
pub type ReflectionId = String;
/// Identifies a replay link, e.g. `"l1"`.
pub type ReplayLinkId = String;

/// Limits of what a session produces, counted in Unicode characters after trimming.
pub mod method_limits {
    use std::ops::RangeInclusive;
    /// A comment with readiness answers, or a note with a conclusion or an assessment.
    pub const NOTE_CHARS: RangeInclusive<usize> = 0..=280;
    /// A party's name ("wijkverpleging").
    pub const PARTY_CHARS: RangeInclusive<usize> = 1..=80;
    /// The most parties a session lists (removed ones included).
    pub const MAX_PARTIES: usize = 60;
    /// A success criterion's text.
    pub const CRITERION_CHARS: RangeInclusive<usize> = 1..=200;
    /// The unit of a measurable criterion ("%", "dagen").
    pub const UNIT_CHARS: RangeInclusive<usize> = 1..=20;
    /// The most success criteria a session keeps (dropped ones included).
    pub const MAX_CRITERIA: usize = 30;
    /// An experiment's title.
    pub const TITLE_CHARS: RangeInclusive<usize> = 1..=120;
    /// An experiment's longer texts: prediction, measure, stop criterion, observed result.
    pub const EXPERIMENT_TEXT_CHARS: RangeInclusive<usize> = 0..=500;
    /// A named owner of an experiment that is not a participant ("team Noord").
    pub const OWNER_PARTY_CHARS: RangeInclusive<usize> = 0..=80;
    /// The most participants who own one experiment.
    pub const MAX_OWNERS: usize = 10;
    /// The most experiments a session keeps.
    pub const MAX_EXPERIMENTS: usize = 40;
    /// Each of the two sentences of a reflection (what worked, what did not).
    pub const REFLECTION_CHARS: RangeInclusive<usize> = 0..=280;
    /// Where an existing example comes from (a card of kind `example`).
    pub const SOURCE_CHARS: RangeInclusive<usize> = 0..=200;
    /// The most readiness checks, and the most reflection rounds, one session opens.
    pub const MAX_ROUNDS: usize = 50;
}

/// An answer to one readiness question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// Yes.
    Yes,
    /// Not sure.
    NotSure,
    /// No.
    No,
}

/// One person's answers to the three readiness questions; a question left out is unanswered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadinessAnswers {
    /// Is the problem urgent?
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgent: Option<Answer>,
    /// Is it complex (no quick fix)?
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complex: Option<Answer>,
    /// Are we willing to work on it together?
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub willing: Option<Answer>,
}

/// The group's conclusion after a readiness check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conclusion {
    /// Ready: the group starts.
    Start,
    /// Not yet.
    NotYet,
}

/// Whether a check, a consent round or a reflection still takes answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Taking answers.
    Open,
    /// Closed.
    Closed,
}

/// How many people gave each answer to one question.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerCounts {
    /// Yes.
    pub yes: u32,
    /// Not sure.
    pub not_sure: u32,
    /// No.
    pub no: u32,
}

/// A readiness check: counts only, for every role. Nothing in it, or in any message, says who
/// answered what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckView {
    /// The check's id.
    pub id: CheckId,
    /// Open or closed.
    pub stage: Stage,
    /// When it opened.
    pub opened_at: Millis,
    /// When the facilitator recorded the conclusion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Millis>,
    /// How many people answered at least one question.
    pub answered: u32,
    /// Is the problem urgent?
    pub urgent: AnswerCounts,
    /// Is it complex?
    pub complex: AnswerCounts,
    /// Are we willing to work on it together?
    pub willing: AnswerCounts,
    /// The comments given with the answers, without names, in alphabetical order (the
    /// facilitator's view only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<String>,
    /// The group's conclusion, once recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<Conclusion>,
    /// The facilitator's note with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What a party has to do with the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stake {
    /// Needed to make the change.
    Needed,
    /// Affected by it.
    Affected,
    /// Both.
    Both,
}

/// Where a party stands on the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyStatus {
    /// Proposed by a participant, not yet taken on by the facilitator.
    Proposed,
    /// On the list.
    Listed,
    /// Taken off the list.
    Removed,
}

/// A party: a group or role needed for the change or affected by it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartyView {
    /// The party's id.
    pub id: PartyId,
    /// Its name, e.g. "wijkverpleging".
    pub name: String,
    /// The perspective it speaks from.
    pub perspective: Perspective,
    /// Needed, affected or both.
    pub stake: Stake,
    /// Proposed, listed or removed.
    pub status: PartyStatus,
    /// When it was proposed.
    pub at: Millis,
}

/// One perspective at the table: who is there against the parties listed for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// The perspective.
    pub perspective: Perspective,
    /// Participants with this perspective connected now.
    pub present: u32,
    /// Listed parties with this perspective.
    pub parties: u32,
    /// Whether a listed party of this perspective is needed for the change.
    pub needed: bool,
    /// Whether a listed party of this perspective is affected by it.
    pub affected: bool,
}

/// Who is at the table: coverage per perspective, and the needed or affected perspectives with
/// nobody present now. Sent whole, with every change to the parties and to who is present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableView {
    /// Every perspective that has a listed party or someone present, in the perspectives'
    /// order.
    pub coverage: Vec<Coverage>,
    /// Perspectives a listed party needs or affects, with nobody of them present: "no client
    /// at the table".
    pub missing: Vec<Perspective>,
}

impl TableView {
    /// True when no perspective is listed or present.
    pub fn is_empty(&self) -> bool {
        self.coverage.is_empty() && self.missing.is_empty()
    }
}

/// Where a success criterion stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriterionStatus {
    /// Proposed, not yet put to the group.
    Proposed,
    /// The group is asked: a consent round is open.
    Asked,
    /// The group agreed.
    Agreed,
    /// Not agreed, or dropped.
    Dropped,
}

/// How far a criterion was met, judged at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assessment {
    /// Met.
    Met,
    /// Partly met.
    Partly,
    /// Not met.
    NotMet,
}

/// A consent round's counts: nobody is named.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentCounts {
    /// People who can agree.
    pub agree: u32,
    /// People who object.
    pub object: u32,
}

/// When the group will be satisfied: plain ("2–3 feasible scenarios") or measurable (a target
/// with a unit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriterionView {
    /// The criterion's id.
    pub id: CriterionId,
    /// What would satisfy the group.
    pub text: String,
    /// The target, for a measurable criterion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    /// The target's unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Proposed, asked, agreed or dropped.
    pub status: CriterionStatus,
    /// When it was proposed.
    pub at: Millis,
    /// The consent round's counts, once one was opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentCounts>,
    /// How far it was met, once assessed (phase 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<Assessment>,
    /// The note with the assessment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment_note: Option<String>,
}

/// Where an experiment stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExperimentStatus {
    /// Being prepared.
    #[default]
    Planned,
    /// Being tried.
    Running,
    /// Stopped early: the stop criterion was met, or it did not work.
    Stopped,
    /// Finished.
    Done,
}

/// What an experiment showed, against its prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It worked.
    Worked,
    /// It partly worked.
    Partly,
    /// It did not work. Worth as much as a success: share it.
    DidNotWork,
}

/// What the group decided after an experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Keep doing it.
    Adopt,
    /// Change it and try again.
    Adapt,
    /// Stop doing it.
    Abandon,
}

/// An experiment: an idea tried out, with a prediction up front, a measure, owners, dates, a
/// criterion to stop, and afterwards its outcome against the prediction and the decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentView {
    /// The experiment's id.
    pub id: ExperimentId,
    /// Its title.
    pub title: String,
    /// The idea it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_card: Option<CardId>,
    /// "If we …, then …".
    pub prediction: String,
    /// How we will know.
    pub measure: String,
    /// Participants who own it.
    pub owners: Vec<ParticipantId>,
    /// A named owner that is not a participant ("team Noord").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_party: Option<String>,
    /// When it starts, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// When it is reviewed, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<String>,
    /// When we stop: what would tell us it does not work.
    pub stop_criterion: String,
    /// Planned, running, stopped or done.
    pub status: ExperimentStatus,
    /// What it showed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// What was observed, against the prediction.
    pub observed: String,
    /// What the group decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// When it was made.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
}

/// A change to an experiment: only the fields given change. Text fields are trimmed; an empty
/// text clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExperimentChange {
    /// A new title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A new prediction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction: Option<String>,
    /// A new measure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure: Option<String>,
    /// The owners, whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners: Option<Vec<ParticipantId>>,
    /// A named owner; empty to clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_party: Option<String>,
    /// The start date, `YYYY-MM-DD`; empty to clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// The review date, `YYYY-MM-DD`; empty to clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<String>,
    /// A new stop criterion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_criterion: Option<String>,
    /// A new status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ExperimentStatus>,
    /// The outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// What was observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
    /// The decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
}

/// One person's reflection: a sentence on what worked and one on what did not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReflectionEntry {
    /// What worked.
    pub worked: String,
    /// What did not.
    pub not_worked: String,
    /// Who wrote it; absent in a session with anonymous cards (then the entries come in
    /// alphabetical order, not in the order they were written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<ParticipantId>,
}

/// A short reflection at the end of a phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReflectionView {
    /// The reflection's id.
    pub id: ReflectionId,
    /// The phase it looks back on.
    pub phase: u8,
    /// Open or closed.
    pub stage: Stage,
    /// When it opened.
    pub opened_at: Millis,
    /// When it closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Millis>,
    /// One entry per person who wrote something.
    pub entries: Vec<ReflectionEntry>,
}

/// What the big screen shows besides the board, as the facilitator chose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Display {
    /// Who is at the table: the coverage per perspective.
    #[serde(default)]
    pub table: bool,
    /// The success criteria.
    #[serde(default)]
    pub criteria: bool,
}

/// Your own answers, sent only to you.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YourAnswers {
    /// The readiness check.
    pub check: CheckId,
    /// Your answers.
    pub answers: ReadinessAnswers,
    /// Your comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// Your answer in a consent round, sent only to you.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YourConsent {
    /// The criterion.
    pub criterion: CriterionId,
    /// Whether you agree.
    pub agree: bool,
}

/// Your reflection, sent only to you.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YourReflection {
    /// The reflection round.
    pub reflection: ReflectionId,
    /// What you wrote.
    pub entry: ReflectionEntry,
}

/// What a lesson card is about: an experiment, a phase, or (neither) the session as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LessonOf {
    /// An experiment.
    Experiment(ExperimentId),
    /// A phase of the method, 0–5.
    Phase(u8),
}

/// A replay link, as the facilitator sees it (never its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayLinkView {
    /// The link's id.
    pub id: ReplayLinkId,
    /// When it was made.
    pub made_at: Millis,
    /// When it was revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Millis>,
}

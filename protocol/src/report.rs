//! The report of a session: what it produced, on one page, and as JSON for other tools
//! (`GET /api/sessions/{code}/report`). The schema is versioned by [`REPORT_SCHEMA`]; a later
//! version only adds fields. It holds what the reader's role may see, and never who wrote an
//! anonymous card, who voted for what, who reported whom or who answered what; floor time per
//! person only in the facilitator's.

use crate::{
    CardId, CardKind, CheckView, CriterionView, ExperimentView, Language, LessonOf, Millis,
    PartyView, PersonFloor, Perspective, PerspectiveFloor, ReflectionView, Role, RoundId,
    SessionStatus, TableView,
};
use serde::{Deserialize, Serialize};

/// The report's schema and its version.
pub const REPORT_SCHEMA: &str = "tafel.report/1";

/// A session's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`REPORT_SCHEMA`].
    pub schema: String,
    /// For whom it was made: `facilitator`, `replay` (a replay link) or `participant`.
    pub role: Role,
    /// The session.
    pub session: ReportSession,
    /// Who took part, per perspective (never names).
    pub participants: Vec<PerspectiveCount>,
    /// The readiness checks: counts and the conclusion.
    pub readiness: Vec<CheckView>,
    /// The parties at the table, and the coverage with everyone who took part counted.
    pub parties: Vec<PartyView>,
    /// Coverage per perspective.
    pub table: TableView,
    /// The success criteria and whether they were met.
    pub criteria: Vec<CriterionView>,
    /// The experiments, failures included, each with its idea and its lessons.
    pub experiments: Vec<ReportExperiment>,
    /// Every lesson on the board.
    pub lessons: Vec<ReportLesson>,
    /// Every voting round, with its ranked result once closed.
    pub rounds: Vec<ReportRound>,
    /// The cards on the board, per phase.
    pub phases: Vec<ReportPhase>,
    /// The ground rules: agreement and violations per rule, no names.
    pub rules: ReportRules,
    /// How balanced the floor was.
    pub floor: ReportFloor,
    /// The reflections.
    pub reflections: Vec<ReflectionView>,
}

/// The session's own facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSession {
    /// Its join code.
    pub code: String,
    /// Its title.
    pub title: String,
    /// The problem the group worked on.
    pub problem: String,
    /// Its language.
    pub language: Language,
    /// Open, locked or ended.
    pub status: SessionStatus,
    /// The phase it reached.
    pub phase: u8,
    /// When it was created.
    pub created_at: Millis,
    /// When its last change was made.
    pub last_change_at: Millis,
    /// Whether cards were anonymous.
    pub anonymous_cards: bool,
}

/// How many people took part from one perspective.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerspectiveCount {
    /// The perspective.
    pub perspective: Perspective,
    /// How many participants.
    pub people: u32,
}

/// An experiment in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportExperiment {
    /// The experiment.
    #[serde(flatten)]
    pub experiment: ExperimentView,
    /// The text of the idea it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idea: Option<String>,
    /// The owners' names.
    pub owner_names: Vec<String>,
    /// The lessons about it.
    pub lessons: Vec<String>,
}

/// A lesson.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportLesson {
    /// The card.
    pub card: CardId,
    /// What was learned.
    pub text: String,
    /// What it is about (absent: the session as a whole).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<LessonOf>,
}

/// A voting round's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRound {
    /// The round.
    pub id: RoundId,
    /// The phase whose cards were voted on.
    pub phase: u8,
    /// When it opened.
    pub opened_at: Millis,
    /// When it closed (absent: still open; then no result for anyone but the facilitator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Millis>,
    /// How many people voted.
    pub voters: u32,
    /// The cards, highest first; tied cards share a rank (1, 2, 2, 4).
    pub ranking: Vec<RankedCard>,
}

/// A card's place in a round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedCard {
    /// The card.
    pub card: CardId,
    /// Its text (absent when this role may not see it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Its votes.
    pub votes: u32,
    /// Its rank: 1 + the number of cards with more votes.
    pub rank: u32,
}

/// The cards of one phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportPhase {
    /// The phase, 0–5.
    pub phase: u8,
    /// Its cards on the board (hidden, withdrawn and merged ones left out), in order.
    pub cards: Vec<ReportCard>,
}

/// A card on the board. Never its author.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportCard {
    /// The card.
    pub id: CardId,
    /// Its kind.
    pub kind: CardKind,
    /// Its text.
    pub text: String,
    /// The card it builds on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builds_on: Option<CardId>,
    /// Where an example comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// The ground rules in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRules {
    /// The version of the rules in force.
    pub version: u32,
    /// How many agreed to it.
    pub agreed: u32,
    /// How many did not.
    pub disagreed: u32,
    /// Each rule, with its confirmed violations (never who).
    pub rules: Vec<ReportRule>,
}

/// One ground rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRule {
    /// Its text.
    pub text: String,
    /// Confirmed violations.
    pub violations: u32,
}

/// How the floor went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportFloor {
    /// Turns given.
    pub turns: u32,
    /// Floor time of all ended turns.
    pub spoken_ms: i64,
    /// 1 − the Gini coefficient of floor time over everyone who took part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figure: Option<f64>,
    /// Per perspective.
    pub per_perspective: Vec<PerspectiveFloor>,
    /// Per person (the facilitator's report only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_person: Vec<PersonFloor>,
}

/// `GET /api/sessions/{code}/replay`: the session's history, to step through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayTimeline {
    /// Whose replay: `facilitator` (the facilitator's view at each moment) or `replay` (what
    /// the big screen showed or could have shown).
    pub role: Role,
    /// The session's code.
    pub code: String,
    /// The session's title.
    pub title: String,
    /// The time of every change, oldest first: change *n* (1-based) at `times[n − 1]`.
    pub times: Vec<Millis>,
    /// The moments that matter: phases, turns, votes, reports, checks, criteria, experiments,
    /// reflections, lock and end.
    pub marks: Vec<ReplayMark>,
    /// Who spoke when: one lane per person (facilitator) or per perspective (replay link).
    pub lanes: Vec<ReplayLane>,
    /// The balance figure after each turn that ended: `[time, figure]`.
    pub balance: Vec<(Millis, f64)>,
}

/// A moment on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayMark {
    /// The change (1-based).
    pub seq: u64,
    /// Its time.
    pub at: Millis,
    /// What happened: the command's name (`set_phase`, `give_floor`, `turn_limit`, …).
    pub cmd: String,
    /// For `set_phase`: the new phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<u8>,
}

/// One lane of "who spoke when".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayLane {
    /// A participant's id (facilitator's replay) or a perspective's name (replay link).
    pub id: String,
    /// The participant's name (facilitator's replay only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The perspective.
    pub perspective: Perspective,
    /// Every turn: `[start, end]` (a turn still running ends at the last change).
    pub turns: Vec<(Millis, Millis)>,
    /// Floor time in all, in ms.
    pub floor_ms: i64,
}

/// `GET /api/sessions/{code}/replay/{n}`: the room after its first `n` changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayMoment {
    /// The change (1-based).
    pub seq: u64,
    /// Its time.
    pub at: Millis,
    /// What the role saw then.
    pub view: crate::View,
}

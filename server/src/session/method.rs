//! What a session produces, in memory: readiness checks, the parties at the table, success
//! criteria, experiments and reflections. Each person's answers are kept by participant index
//! (in the document under their pseudonym); the views give counts, never names, where an
//! answer is anonymous.

use std::collections::BTreeMap;
use tafel_protocol::{
    Assessment, Conclusion, CriterionStatus, Decision, ExperimentStatus, Millis, Outcome,
    PartyStatus, Perspective, ReadinessAnswers, Stake,
};

/// A readiness check: the three questions of phase 0, and the group's conclusion.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Check {
    /// When it opened.
    pub opened_at: Millis,
    /// When the conclusion closed it.
    pub closed_at: Option<Millis>,
    /// The group's conclusion.
    pub conclusion: Option<Conclusion>,
    /// The facilitator's note with it.
    pub note: Option<String>,
    /// Each person's latest answers and comment.
    pub answers: BTreeMap<usize, (ReadinessAnswers, Option<String>)>,
}

impl Check {
    /// Whether it still takes answers.
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}

/// A party: a group or role needed for the change or affected by it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Party {
    /// Its name.
    pub name: String,
    /// Its perspective.
    pub perspective: Perspective,
    /// Needed, affected or both.
    pub stake: Stake,
    /// Proposed, listed or removed.
    pub status: PartyStatus,
    /// Who proposed it.
    pub by: usize,
    /// When.
    pub at: Millis,
}

/// A success criterion.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Criterion {
    /// What would satisfy the group.
    pub text: String,
    /// A target, for a measurable one.
    pub target: Option<f64>,
    /// The target's unit.
    pub unit: Option<String>,
    /// Proposed, asked, agreed or dropped.
    pub status: CriterionStatus,
    /// Who proposed it.
    pub by: usize,
    /// When.
    pub at: Millis,
    /// Whether the group was ever asked (then its consent counts are shown).
    pub asked: bool,
    /// Each person's latest consent answer.
    pub consents: BTreeMap<usize, bool>,
    /// How far it was met.
    pub assessment: Option<Assessment>,
    /// The note with the assessment.
    pub assessment_note: Option<String>,
}

/// An experiment.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Experiment {
    /// Its title.
    pub title: String,
    /// The idea card it came from.
    pub from_card: Option<usize>,
    /// Who made it.
    pub by: usize,
    /// "If we …, then …".
    pub prediction: String,
    /// How we will know.
    pub measure: String,
    /// Participants who own it.
    pub owners: Vec<usize>,
    /// A named owner that is not a participant.
    pub owner_party: Option<String>,
    /// Start date, `YYYY-MM-DD`.
    pub start: Option<String>,
    /// Review date, `YYYY-MM-DD`.
    pub review: Option<String>,
    /// When to stop.
    pub stop_criterion: String,
    /// Planned, running, stopped or done.
    pub status: ExperimentStatus,
    /// What it showed.
    pub outcome: Option<Outcome>,
    /// What was observed.
    pub observed: String,
    /// What the group decided.
    pub decision: Option<Decision>,
    /// When it was made.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
}

/// One person's reflection.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// What worked.
    pub worked: String,
    /// What did not.
    pub not_worked: String,
}

/// A reflection round on a phase.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reflection {
    /// The phase it looks back on.
    pub phase: u8,
    /// When it opened.
    pub opened_at: Millis,
    /// When it closed.
    pub closed_at: Option<Millis>,
    /// Each person's latest reflection.
    pub entries: BTreeMap<usize, Entry>,
}

impl Reflection {
    /// Whether it still takes reflections.
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}

/// A read-only replay link. Its token is derived from the session key and the link's id, and
/// only its hash is stored; the document holds when it was made and revoked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReplayLink {
    /// When it was made.
    pub made_at: Millis,
    /// When it was revoked.
    pub revoked_at: Option<Millis>,
}

/// What a lesson card is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Lesson {
    /// An experiment, by index.
    Experiment(usize),
    /// A phase.
    Phase(u8),
}

/// Everything above for one session, with the counts of its append-only records (the next
/// record ids).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Method {
    /// Every readiness check opened.
    pub checks: Vec<Check>,
    /// Every party proposed.
    pub parties: Vec<Party>,
    /// Every criterion proposed.
    pub criteria: Vec<Criterion>,
    /// Every experiment made.
    pub experiments: Vec<Experiment>,
    /// Every reflection round opened.
    pub reflections: Vec<Reflection>,
    /// What the big screen shows.
    pub display: tafel_protocol::Display,
    /// Answer records of readiness checks.
    pub check_answers: u64,
    /// Consent records.
    pub consent_records: u64,
    /// Reflection records.
    pub entry_records: u64,
    /// Every replay link made.
    pub replay_links: Vec<ReplayLink>,
    /// Whether participants find the report on their phones once the session has ended.
    pub share_report: bool,
}

impl Method {
    /// The open readiness check, if any (one at a time).
    pub fn open_check(&self) -> Option<usize> {
        self.checks.iter().rposition(Check::is_open)
    }

    /// The open reflection round, if any (one at a time).
    pub fn open_reflection(&self) -> Option<usize> {
        self.reflections.iter().rposition(Reflection::is_open)
    }
}

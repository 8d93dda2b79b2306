//! The floor (who speaks, for how long, in what order) and the ground rules with their reported
//! violations: the wire types. See `docs/protocol.md` §5 and §6 for the rules behind them.

use crate::{Millis, ParticipantId, Perspective};
use serde::{Deserialize, Serialize};

/// Identifies a ground rule, e.g. `"g3"`.
pub type RuleId = String;
/// Identifies a reported violation, e.g. `"x2"`.
pub type ReportId = String;

/// Limits of the floor and the ground rules.
pub mod floor_limits {
    /// A turn's limit, in seconds.
    pub const TURN_SECS: std::ops::RangeInclusive<u32> = 5..=1800;
    /// A direct response's limit, in seconds.
    pub const RESPONSE_SECS: std::ops::RangeInclusive<u32> = 5..=300;
    /// The fair-share factor: a hand waits once its owner spoke more than this many times the
    /// fair share.
    pub const FAIR_SHARE: std::ops::RangeInclusive<f64> = 1.0..=10.0;
    /// Direct responses per person per phase.
    pub const RESPONSE_CAP: std::ops::RangeInclusive<u32> = 0..=20;
    /// A ground rule's text, in characters.
    pub const RULE_CHARS: std::ops::RangeInclusive<usize> = 1..=200;
    /// The most ground rules a session keeps.
    pub const MAX_RULES: usize = 30;
    /// A report's note, in characters.
    pub const NOTE_CHARS: std::ops::RangeInclusive<usize> = 0..=280;
    /// How long a hand may be made to wait after a confirmed violation, in minutes.
    pub const HAND_WAIT_MINUTES: std::ops::RangeInclusive<u32> = 1..=60;
    /// Reports one person may make in [`REPORT_WINDOW_MS`].
    pub const REPORTS_PER_WINDOW: usize = 3;
    /// The window of the report rate limit: ten minutes.
    pub const REPORT_WINDOW_MS: i64 = 10 * 60 * 1000;
    /// The most places of the queue a floor view lists (`waiting` counts them all).
    pub const QUEUE_SHOWN: usize = 50;
}

/// Which hand someone raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandKind {
    /// A normal turn.
    #[default]
    Hand,
    /// A short, direct reply to the current speaker: its own shorter limit, first in the
    /// queue, and a cap per person per phase.
    Response,
}

/// In what order raised hands get the floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueOrder {
    /// First come, first served.
    Fcfs,
    /// Whoever has had the least floor time goes first; people who have not spoken yet before
    /// everyone; ties by the time the hand went up.
    #[default]
    LeastSpoken,
    /// Everyone present in turn, by order of joining, continuing after the last speaker. A
    /// participant may pass.
    Round,
}

/// What happens at a turn's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitMode {
    /// The server ends the turn.
    #[default]
    Hard,
    /// The turn goes on, marked overtime.
    Soft,
}

/// How a turn came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnKind {
    /// From a raised hand.
    Hand,
    /// From a direct-response hand (the shorter limit).
    Response,
    /// The next person in round order.
    Round,
    /// Given by the facilitator to someone without a raised hand.
    Invited,
}

/// How a turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnEnd {
    /// The speaker ended it.
    Speaker,
    /// The facilitator ended it.
    Facilitator,
    /// The limit was reached (hard mode).
    Limit,
    /// The facilitator gave the floor to someone else.
    Next,
    /// The session ended.
    SessionEnd,
}

/// Why someone stands where they stand in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueReason {
    /// A direct response goes before the other hands.
    Response,
    /// Has not spoken yet in this session (least spoken first).
    NotSpokenYet,
    /// Has had less floor time than those behind (least spoken first).
    SpokeLess,
    /// Raised the hand earlier (first come, first served).
    RaisedEarlier,
    /// Next in round order.
    Round,
    /// Spoke more than the fair-share cap allows: waits for those who spoke less.
    OverShare,
    /// Waits for a while after a confirmed ground-rule violation. Only the facilitator's queue
    /// lists such hands; the person sees it in their own `you.floor.hand_wait_until`.
    OnHold,
}

/// Settings of the floor, all changeable live by the facilitator.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FloorSettings {
    /// The queue order.
    pub order: QueueOrder,
    /// A turn's limit in seconds (default 120).
    pub turn_secs: u32,
    /// A direct response's limit in seconds (default 30).
    pub response_secs: u32,
    /// What happens at the limit.
    pub mode: LimitMode,
    /// The fair-share factor (default 2.0).
    pub fair_share: f64,
    /// Direct responses per person per phase (default 2).
    pub response_cap: u32,
    /// Whether the projector shows the balance figure.
    pub show_balance: bool,
}

impl Default for FloorSettings {
    fn default() -> Self {
        Self {
            order: QueueOrder::LeastSpoken,
            turn_secs: 120,
            response_secs: 30,
            mode: LimitMode::Hard,
            fair_share: 2.0,
            response_cap: 2,
            show_balance: false,
        }
    }
}

/// A change to the floor settings: only the fields present change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct FloorSettingsChange {
    /// The queue order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<QueueOrder>,
    /// A turn's limit in seconds, 5–1800.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn_secs: Option<u32>,
    /// A direct response's limit in seconds, 5–300.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_secs: Option<u32>,
    /// Hard or soft limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<LimitMode>,
    /// The fair-share factor, 1.0–10.0 (kept to one decimal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fair_share: Option<f64>,
    /// Direct responses per person per phase, 0–20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_cap: Option<u32>,
    /// Show the balance figure on the projector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_balance: Option<bool>,
}

/// What follows a confirmed violation for the person it was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Consequence {
    /// A warning shown on that person's phone.
    Warning,
    /// Their raised hand waits this many minutes (1–60) before it can get the floor.
    HandWait {
        /// Minutes.
        minutes: u32,
    },
}

/// Where a report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// Waiting for the facilitator.
    Open,
    /// The facilitator agreed it was a violation.
    Confirmed,
    /// The facilitator did not.
    Dismissed,
}

/// The floor as a role may see it. Sent whole whenever anything in it changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FloorView {
    /// The server's time when this view was made: compare it with the local clock to show the
    /// server's times (`hand_wait_until`, `raised_at`) without the phone's clock error.
    pub now: Millis,
    /// The settings.
    pub settings: FloorSettings,
    /// Whether the facilitator paused the floor (the turn's clock stands still; no new turns).
    pub paused: bool,
    /// The turn now running, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn: Option<TurnView>,
    /// Who gets the floor next, first first: the first [`floor_limits::QUEUE_SHOWN`] places.
    /// Hands on hold after a violation are listed for the facilitator only.
    pub queue: Vec<QueueEntry>,
    /// How many places the queue has in all (more than `queue` lists in a very large room).
    pub waiting: u32,
    /// Floor time of all finished turns together, in ms (for one's own share).
    pub spoken_ms: i64,
    /// Turns given so far.
    pub turns: u32,
    /// The balance figures: for the facilitator always, for the projector when
    /// `settings.show_balance`, for participants never (they see their own share in `you`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<Balance>,
}

/// The running turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnView {
    /// The turn's id, e.g. `"t4"`.
    pub id: String,
    /// Who has the floor.
    pub speaker: ParticipantId,
    /// How the turn came about.
    pub kind: TurnKind,
    /// When it started (server clock).
    pub started_at: Millis,
    /// Its limit in ms.
    pub limit_ms: i64,
    /// Floor time used when this message was made, in ms (pauses not counted). The client
    /// counts on from the moment the message arrived, unless the floor is paused.
    pub elapsed_ms: i64,
    /// Past the limit (soft mode).
    pub overtime: bool,
}

/// One place in the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueEntry {
    /// Who.
    pub participant: ParticipantId,
    /// A raised hand, a direct response, or (in round order) no hand at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hand: Option<HandKind>,
    /// When the hand went up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raised_at: Option<Millis>,
    /// Why this place.
    pub reason: QueueReason,
}

/// How balanced the floor has been, over everyone present (participants who are connected or
/// have spoken; the facilitator is not counted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Balance {
    /// 1 − the Gini coefficient of floor time: 1 is perfectly even. Absent before anyone spoke.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figure: Option<f64>,
    /// The share of all floor time of the person who spoke most (0–1). Absent before anyone
    /// spoke.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_share: Option<f64>,
    /// How many people counted.
    pub people: u32,
    /// How many of them have not spoken yet.
    pub silent: u32,
    /// Per person (facilitator only; empty for the projector).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_person: Vec<PersonFloor>,
    /// Per perspective, for perspectives with people counted.
    pub per_perspective: Vec<PerspectiveFloor>,
}

/// One person's floor time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonFloor {
    /// Who.
    pub participant: ParticipantId,
    /// Floor time of finished turns, ms.
    pub floor_ms: i64,
    /// Turns given.
    pub turns: u32,
    /// Confirmed ground-rule violations about this person.
    pub violations: u32,
}

/// One perspective's floor time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerspectiveFloor {
    /// The perspective.
    pub perspective: Perspective,
    /// People counted with this perspective.
    pub people: u32,
    /// Their floor time together, ms.
    pub floor_ms: i64,
    /// Their turns together.
    pub turns: u32,
}

/// The ground rules. Sent whole whenever anything in them changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulesView {
    /// The rules in force, in order.
    pub rules: Vec<RuleView>,
    /// Bumped by every edit; agreement counts are for this version.
    pub version: u32,
    /// People who agreed to this version.
    pub agreed: u32,
    /// People who did not agree to this version.
    pub disagreed: u32,
}

/// One ground rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleView {
    /// The rule's id.
    pub id: RuleId,
    /// Its text.
    pub text: String,
    /// Confirmed violations of it (never who).
    pub violations: u32,
}

/// A reported violation, as the facilitator sees it. Nobody else receives reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportView {
    /// The report's id.
    pub id: ReportId,
    /// The rule.
    pub rule: RuleId,
    /// About whom, if the reporter said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<ParticipantId>,
    /// The reporter's note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The reporter; absent when they reported anonymously.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter: Option<ParticipantId>,
    /// Open, confirmed or dismissed.
    pub status: ReportStatus,
    /// When it was made.
    pub at: Millis,
    /// When the facilitator decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Millis>,
    /// What followed, if confirmed with a consequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consequence: Option<Consequence>,
}

/// Your own floor and ground-rule data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct YourFloor {
    /// Your raised hand, if one is up (also when the queue lists you too far down to show).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hand: Option<HandKind>,
    /// You passed in this round (round order): the round comes back to you next time.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub passed: bool,
    /// Your floor time of finished turns, ms. Your share is this over the floor's `spoken_ms`.
    pub floor_ms: i64,
    /// Turns you were given.
    pub turns: u32,
    /// Direct responses you had in the current phase.
    pub responses_used: u32,
    /// Until when your hand waits after a confirmed violation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hand_wait_until: Option<Millis>,
    /// Your answer to the current version of the ground rules, if you gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreed: Option<bool>,
    /// Warnings you received, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<YourWarning>,
    /// The reports you made and where they stand.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reports: Vec<YourReport>,
    /// Your latest turn, once it ended (how, and the floor time it took), so your phone can
    /// say "your time is up" after a hard stop; absent while you have the floor, and before
    /// your first turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_turn: Option<YourLastTurn>,
}

/// Your latest turn, ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YourLastTurn {
    /// The turn, e.g. `"t4"`.
    pub turn: String,
    /// How it ended.
    pub how: TurnEnd,
    /// Its floor time, ms (pauses not counted).
    pub used_ms: i64,
    /// When it ended (server clock).
    pub ended_at: Millis,
}

/// A warning after a confirmed violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YourWarning {
    /// The rule.
    pub rule: RuleId,
    /// When.
    pub at: Millis,
    /// Minutes your hand waits, if that was the consequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hand_wait_minutes: Option<u32>,
}

/// A report you made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YourReport {
    /// The report.
    pub id: ReportId,
    /// The rule.
    pub rule: RuleId,
    /// Where it stands.
    pub status: ReportStatus,
}

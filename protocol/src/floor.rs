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
    /// The shortest a turn limit may shrink to, in seconds (`min_turn_secs`).
    pub const MIN_TURN_SECS: std::ops::RangeInclusive<u32> = 1..=1800;
    /// How long an over-share hand waits to make room for the quiet, in seconds (0: never).
    pub const ROOM_SECS: std::ops::RangeInclusive<u32> = 0..=120;
    /// The most invitations a facilitator's floor view lists (the latest).
    pub const INVITATIONS_SHOWN: usize = 20;
    /// The most people the console suggests inviting.
    pub const SUGGESTIONS_SHOWN: usize = 3;
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
    /// (`perspectives` on) Their perspective has had far less of the floor than its share of
    /// the people present: goes before the other hands.
    QuietPerspective,
    /// Spoke more than the fair share while someone present spoke far less: waits a moment
    /// (`settings.room_secs`, until `ready_at`) before "next" can give it the floor.
    MakingRoom,
}

/// A set of floor settings that work together, chosen in one tap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FloorPreset {
    /// The floor balances itself: least spoken first, the fair-share cap, turns that shrink
    /// beyond the fair share, a moment of room (with invitations) for the quiet, and quiet
    /// perspectives first. The default of a new session.
    Balanced,
    /// First come, first served, and nothing else: no cap, no shrinking, no room, no
    /// perspectives.
    Fcfs,
}

impl FloorPreset {
    /// The settings this preset sets (the others stay as they are).
    pub fn change(self) -> FloorSettingsChange {
        match self {
            Self::Balanced => FloorSettingsChange {
                order: Some(QueueOrder::LeastSpoken),
                fair_share: Some(2.0),
                fair_share_cap: Some(true),
                shrink_turns: Some(true),
                min_turn_secs: Some(30),
                room_secs: Some(15),
                perspectives: Some(true),
                ..Default::default()
            },
            Self::Fcfs => FloorSettingsChange {
                order: Some(QueueOrder::Fcfs),
                fair_share_cap: Some(false),
                shrink_turns: Some(false),
                room_secs: Some(0),
                perspectives: Some(false),
                ..Default::default()
            },
        }
    }

    /// The preset these settings match, if any.
    pub fn of(s: &FloorSettings) -> Option<Self> {
        [Self::Balanced, Self::Fcfs].into_iter().find(|preset| {
            let c = preset.change();
            c.order.is_none_or(|v| v == s.order)
                && c.fair_share.is_none_or(|v| v == s.fair_share)
                && c.fair_share_cap.is_none_or(|v| v == s.fair_share_cap)
                && c.shrink_turns.is_none_or(|v| v == s.shrink_turns)
                && c.min_turn_secs.is_none_or(|v| v == s.min_turn_secs)
                && c.room_secs.is_none_or(|v| v == s.room_secs)
                && c.perspectives.is_none_or(|v| v == s.perspectives)
        })
    }
}

/// Who sent an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitedBy {
    /// The floor itself, making room for those under the fair share.
    Room,
    /// The facilitator.
    Facilitator,
}

/// Where an invitation stands (the facilitator's view).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    /// Not answered yet: open until the next turn is given.
    Open,
    /// Taken: the invited person raised their hand.
    Taken,
    /// Not taken before the next turn was given (or the person got the floor without raising).
    Lapsed,
}

/// Why the console suggests inviting someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionReason {
    /// Has not had a turn yet.
    NotSpokenYet,
    /// The only person present of a perspective that has had far less of the floor than its
    /// share of the people.
    OnlyOfPerspective,
    /// Under the fair share.
    UnderShare,
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
    /// Whether the fair-share cap holds over-share hands back (default true; `fair_share` is
    /// its factor).
    #[serde(default = "yes")]
    pub fair_share_cap: bool,
    /// Time follows the share: beyond the fair share a turn's limit halves, beyond twice the
    /// fair share it is a quarter, never below `min_turn_secs`.
    #[serde(default)]
    pub shrink_turns: bool,
    /// The shortest a shrunk turn limit gets, in seconds (default 30).
    #[serde(default = "thirty")]
    pub min_turn_secs: u32,
    /// Room for the quiet: seconds an over-share hand waits, while someone present is far
    /// under the fair share, before "next" gives it the floor; those under the share are
    /// invited meanwhile. 0: off.
    #[serde(default)]
    pub room_secs: u32,
    /// Weigh perspectives: the hands of a perspective far below its share of the people
    /// present go first.
    #[serde(default)]
    pub perspectives: bool,
}

fn yes() -> bool {
    true
}

fn thirty() -> u32 {
    30
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
            fair_share_cap: true,
            shrink_turns: false,
            min_turn_secs: 30,
            room_secs: 0,
            perspectives: false,
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
    /// Switch the fair-share cap on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fair_share_cap: Option<bool>,
    /// Shrink turns beyond the fair share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shrink_turns: Option<bool>,
    /// The shortest a shrunk turn gets, 1–1800 seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_turn_secs: Option<u32>,
    /// Room for the quiet, 0–120 seconds (0: off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_secs: Option<u32>,
    /// Weigh perspectives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perspectives: Option<bool>,
    /// A preset, applied first (the fields given beside it win). Only in the command: the
    /// server records the settings it stands for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<FloorPreset>,
}

impl FloorSettingsChange {
    /// The fields of `other` laid over these.
    pub fn and(self, other: Self) -> Self {
        Self {
            order: other.order.or(self.order),
            turn_secs: other.turn_secs.or(self.turn_secs),
            response_secs: other.response_secs.or(self.response_secs),
            mode: other.mode.or(self.mode),
            fair_share: other.fair_share.or(self.fair_share),
            response_cap: other.response_cap.or(self.response_cap),
            show_balance: other.show_balance.or(self.show_balance),
            fair_share_cap: other.fair_share_cap.or(self.fair_share_cap),
            shrink_turns: other.shrink_turns.or(self.shrink_turns),
            min_turn_secs: other.min_turn_secs.or(self.min_turn_secs),
            room_secs: other.room_secs.or(self.room_secs),
            perspectives: other.perspectives.or(self.perspectives),
            preset: other.preset.or(self.preset),
        }
    }
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
    /// The preset the settings match, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<FloorPreset>,
    /// The turn that ended last, with `ended_at` and its floor time in `elapsed_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<TurnView>,
    /// Time follows the share (`settings.shrink_turns`): whoever has more floor time than a
    /// step's `above_ms` gets that step's limit for a plain turn now (the last step that
    /// applies). Empty when turns do not shrink, or before anyone spoke.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub share_limits: Vec<ShareLimit>,
    /// Facilitator only: the latest invitations, oldest first, and whether they were taken.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invitations: Vec<InvitationView>,
    /// Facilitator only: whom to invite, most needed first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<Suggestion>,
}

/// One step of shrinking turn limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareLimit {
    /// Floor time (ms) above which the step applies: the fair share, then twice it.
    pub above_ms: i64,
    /// The limit of a plain turn for whoever is above it, ms.
    pub limit_ms: i64,
}

/// An invitation, as the facilitator sees it. Nobody else learns of it but the invited person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvitationView {
    /// Who was invited.
    pub participant: ParticipantId,
    /// When.
    pub at: Millis,
    /// By the floor (making room) or by the facilitator.
    pub by: InvitedBy,
    /// Open, taken or lapsed.
    pub status: InvitationStatus,
}

/// Someone the console suggests inviting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// Who.
    pub participant: ParticipantId,
    /// Why.
    pub reason: SuggestionReason,
    /// Their share of the counted people's floor time, 0–1.
    pub share: f64,
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
    /// When it ended (only in `previous`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Millis>,
    /// How it ended (only in `previous`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub how: Option<TurnEnd>,
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
    /// The limit this place's turn would have if it were given now, ms.
    pub limit_ms: i64,
    /// Until when the place waits (`making_room`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<Millis>,
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
    /// Their floor share is under half their share of the people counted (and someone spoke).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub behind: bool,
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
    /// An invitation to speak, while it is open: raising your hand takes it, ignoring it costs
    /// nothing (nobody but the facilitator learns whether you took it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation: Option<YourInvitation>,
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

/// An open invitation to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct YourInvitation {
    /// When it came.
    pub at: Millis,
    /// From the floor (making room) or from the facilitator.
    pub by: InvitedBy,
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

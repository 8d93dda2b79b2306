//! The floor: raised hands, turns, the queue and the balance figures.
//!
//! Everything here is derived from append-only [`Event`]s: the room applies each event as the
//! command that caused it is recorded, and loading a session folds the stored events through the
//! same [`Floor::apply`]. Nothing that ticks is stored: a running turn's floor time, overtime and
//! the queue's order are computed from the events and the server's clock when asked.

use std::collections::{BTreeSet, HashMap};
use tafel_protocol::{
    FloorSettings, FloorSettingsChange, HandKind, InvitationStatus, InvitedBy, LimitMode, Millis,
    Perspective, QueueOrder, QueueReason, ShareLimit, TurnEnd, TurnKind,
};

/// One thing that happened on the floor.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Event {
    /// A hand went up (or changed kind).
    Raise { p: usize, kind: HandKind },
    /// A hand came down (by its owner or the facilitator).
    Lower { p: usize },
    /// Someone skipped their turn in round order.
    Pass { p: usize },
    /// Someone got the floor.
    Give {
        p: usize,
        kind: TurnKind,
        limit_ms: i64,
        /// The facilitator chose someone other than the first in the queue.
        over: bool,
        /// The session's phase, for the direct-response cap.
        phase: u8,
    },
    /// The running turn ended.
    End { how: TurnEnd },
    /// The floor's clock stopped.
    Pause,
    /// The floor's clock runs again.
    Resume,
    /// Settings changed.
    Set(FloorSettingsChange),
    /// Someone was invited to speak: by the floor making room for the quiet (which also makes
    /// over-share hands wait `room_secs` from now), or by the facilitator.
    Invite { p: usize, by: InvitedBy },
}

/// An invitation to speak. Open until its person raises a hand (taken) or the next turn is
/// given (lapsed, unless taken).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Invitation {
    /// Who.
    pub p: usize,
    /// When.
    pub at: Millis,
    /// From the floor or the facilitator.
    pub by: InvitedBy,
    /// Where it stands.
    pub status: InvitationStatus,
}

/// A raised hand.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Hand {
    /// Whose.
    pub p: usize,
    /// Which kind.
    pub kind: HandKind,
    /// When it went up.
    pub at: Millis,
}

/// A turn, running or ended.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Turn {
    /// The speaker.
    pub speaker: usize,
    /// How it came about.
    pub kind: TurnKind,
    /// When it started.
    pub started_at: Millis,
    /// Its limit.
    pub limit_ms: i64,
    /// Paused time within the turn that has ended (a pause still running is not in here).
    pub paused_ms: i64,
    /// When and how it ended.
    pub ended: Option<(Millis, TurnEnd)>,
    /// Given out of queue order by the facilitator.
    pub over: bool,
}

/// One person's floor so far.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    /// Floor time of ended turns.
    pub floor_ms: i64,
    /// Turns given (the running one included).
    pub turns: u32,
    /// Direct responses given, per phase.
    pub responses: HashMap<u8, u32>,
    /// Their latest turn (an index into `Floor::turns`).
    pub last_turn: Option<usize>,
}

/// The floor of one session.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Floor {
    /// The settings now.
    pub settings: FloorSettings,
    /// Since when the floor is paused.
    pub paused_since: Option<Millis>,
    /// Raised hands, in the order they went up.
    pub hands: Vec<Hand>,
    /// Every turn, the running one last.
    pub turns: Vec<Turn>,
    /// Per participant index (grown on demand).
    pub stats: Vec<Stats>,
    /// The last speaker of a round-order turn: the round continues after them.
    pub round_cursor: Option<usize>,
    /// Who passed in the current round.
    pub passed: BTreeSet<usize>,
    /// Every invitation, in order.
    pub invitations: Vec<Invitation>,
    /// Since when the floor makes room for the quiet (an invitation by the floor since the
    /// last turn was given).
    pub room_since: Option<Millis>,
    /// How many events were recorded (the next event id).
    pub events: u64,
    /// The time of the latest event.
    pub last_at: Millis,
}

/// Who the queue is about: what the floor needs to know of the session.
pub struct People<'a> {
    /// Per participant index: whether they count (a participant, not the facilitator).
    pub counts: &'a dyn Fn(usize) -> bool,
    /// Per participant index: whether they are connected now.
    pub online: &'a dyn Fn(usize) -> bool,
    /// Per participant index: until when their hand waits after a confirmed violation.
    pub held_until: &'a dyn Fn(usize) -> Option<Millis>,
    /// Per participant index: their perspective.
    pub perspective: &'a dyn Fn(usize) -> Perspective,
    /// How many participants the session has.
    pub len: usize,
}

/// The fair share now, and who it is computed over.
pub struct Share {
    /// Everyone the balance counts.
    pub counted: Vec<usize>,
    /// Their floor time together.
    pub total: i64,
    /// The total over their number.
    pub fair: f64,
}

impl Share {
    /// Over the fair share (someone must have spoken).
    pub fn over(&self, ms: i64) -> bool {
        self.total > 0 && ms as f64 > self.fair
    }

    /// Under three quarters of the fair share: "well under" (someone must have spoken).
    pub fn well_under(&self, ms: i64) -> bool {
        self.total > 0 && (ms as f64) < self.fair * 0.75
    }
}

/// One place in the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// Who.
    pub p: usize,
    /// Their hand, if the place comes from one.
    pub hand: Option<HandKind>,
    /// When it went up.
    pub raised_at: Option<Millis>,
    /// Why this place.
    pub reason: QueueReason,
    /// Until when it waits (making room).
    pub ready_at: Option<Millis>,
}

impl Floor {
    /// Applies one event at the server's time `at`.
    pub fn apply(&mut self, event: &Event, at: Millis) {
        self.events += 1;
        self.last_at = self.last_at.max(at);
        match *event {
            Event::Raise { p, kind } => {
                self.hands.retain(|h| h.p != p);
                self.hands.push(Hand { p, kind, at });
                for inv in self.invitations.iter_mut().rev() {
                    if inv.p == p && inv.status == InvitationStatus::Open {
                        inv.status = InvitationStatus::Taken;
                    }
                }
            }
            Event::Invite { p, by } => {
                if by == InvitedBy::Room && self.room_since.is_none() {
                    self.room_since = Some(at);
                }
                self.invitations.push(Invitation {
                    p,
                    at,
                    by,
                    status: InvitationStatus::Open,
                });
            }
            Event::Lower { p } => self.hands.retain(|h| h.p != p),
            Event::Pass { p } => {
                self.passed.insert(p);
            }
            Event::Give {
                p,
                kind,
                limit_ms,
                over,
                phase,
            } => {
                self.hands.retain(|h| h.p != p);
                self.room_since = None;
                for inv in self.open_invitations_mut() {
                    inv.status = InvitationStatus::Lapsed;
                }
                if kind != TurnKind::Response {
                    // Direct responses answer the speaker before; a new speaker ends them.
                    self.hands.retain(|h| h.kind != HandKind::Response);
                }
                let turn = self.turns.len();
                let stats = self.stats_mut(p);
                stats.turns += 1;
                stats.last_turn = Some(turn);
                if kind == TurnKind::Response {
                    *stats.responses.entry(phase).or_default() += 1;
                }
                if kind == TurnKind::Round {
                    // Those the round went past are no longer "passed": their next chance is
                    // the next time round.
                    let from = self.round_cursor.map_or(0, |c| c + 1);
                    let went_past = |i: usize| {
                        if from <= p {
                            from <= i && i <= p
                        } else {
                            i >= from || i <= p
                        }
                    };
                    self.passed.retain(|i| !went_past(*i));
                    self.round_cursor = Some(p);
                }
                self.turns.push(Turn {
                    speaker: p,
                    kind,
                    started_at: at,
                    limit_ms,
                    paused_ms: 0,
                    ended: None,
                    over,
                });
            }
            Event::End { how } => {
                if how != TurnEnd::Next {
                    // A direct response answers the turn that runs: it ends with that turn,
                    // unless the floor goes straight on to a direct response (`Next`), when
                    // the other responses to the same speaker wait their turn.
                    self.hands.retain(|h| h.kind != HandKind::Response);
                }
                let paused = self.paused_since;
                if let Some(turn) = self.running_mut() {
                    if let Some(since) = paused {
                        turn.paused_ms += at - since.max(turn.started_at);
                    }
                    turn.ended = Some((at, how));
                    let used = (at - turn.started_at - turn.paused_ms).max(0);
                    let speaker = turn.speaker;
                    self.stats_mut(speaker).floor_ms += used;
                }
            }
            Event::Pause => {
                if self.paused_since.is_none() {
                    self.paused_since = Some(at);
                }
            }
            Event::Resume => {
                if let Some(since) = self.paused_since.take()
                    && let Some(turn) = self.running_mut()
                {
                    turn.paused_ms += at - since.max(turn.started_at);
                }
            }
            Event::Set(change) => {
                let s = &mut self.settings;
                if let Some(order) = change.order
                    && order != s.order
                {
                    s.order = order;
                    self.passed.clear();
                }
                if let Some(v) = change.turn_secs {
                    s.turn_secs = v;
                }
                if let Some(v) = change.response_secs {
                    s.response_secs = v;
                }
                if let Some(v) = change.mode {
                    s.mode = v;
                }
                if let Some(v) = change.fair_share {
                    s.fair_share = v;
                }
                if let Some(v) = change.response_cap {
                    s.response_cap = v;
                }
                if let Some(v) = change.show_balance {
                    s.show_balance = v;
                }
                if let Some(v) = change.fair_share_cap {
                    s.fair_share_cap = v;
                }
                if let Some(v) = change.shrink_turns {
                    s.shrink_turns = v;
                }
                if let Some(v) = change.min_turn_secs {
                    s.min_turn_secs = v;
                }
                if let Some(v) = change.room_secs {
                    s.room_secs = v;
                }
                if let Some(v) = change.perspectives {
                    s.perspectives = v;
                }
            }
        }
    }

    fn open_invitations_mut(&mut self) -> impl Iterator<Item = &mut Invitation> {
        self.invitations
            .iter_mut()
            .filter(|i| i.status == InvitationStatus::Open)
    }

    /// Someone's open invitation.
    pub fn invitation_of(&self, p: usize) -> Option<&Invitation> {
        self.invitations
            .iter()
            .rev()
            .find(|i| i.p == p && i.status == InvitationStatus::Open)
    }

    /// Who has an open invitation.
    pub fn invited(&self) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .invitations
            .iter()
            .filter(|i| i.status == InvitationStatus::Open)
            .map(|i| i.p)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The fair share now.
    pub fn share(&self, people: &People<'_>) -> Share {
        let counted = self.counted(people);
        let total: i64 = counted.iter().map(|p| self.floor_ms(*p)).sum();
        let fair = if counted.is_empty() {
            0.0
        } else {
            total as f64 / counted.len() as f64
        };
        Share {
            counted,
            total,
            fair,
        }
    }

    /// The steps by which a plain turn's limit shrinks beyond the fair share (empty when turns
    /// do not shrink or nobody spoke): half beyond the fair share, a quarter beyond twice it,
    /// never below `min_turn_secs` (nor above the full limit).
    pub fn share_limits(&self, share: &Share) -> Vec<ShareLimit> {
        if !self.settings.shrink_turns || share.total <= 0 {
            return Vec::new();
        }
        let full = i64::from(self.settings.turn_secs) * 1000;
        let least = (i64::from(self.settings.min_turn_secs) * 1000).min(full);
        [(1.0, 2), (2.0, 4)]
            .into_iter()
            .map(|(times, part)| ShareLimit {
                above_ms: (share.fair * times).floor() as i64,
                limit_ms: (full / part).max(least),
            })
            .collect()
    }

    /// The limit a turn of this kind would get for `p` now.
    pub fn limit_of(&self, kind: TurnKind, p: usize, share: &Share) -> i64 {
        let base = self.limit_for(kind);
        if kind == TurnKind::Response {
            return base;
        }
        let ms = self.floor_ms(p);
        self.share_limits(share)
            .into_iter()
            .filter(|step| ms > step.above_ms)
            .map(|step| step.limit_ms)
            .next_back()
            .unwrap_or(base)
    }

    /// The perspectives whose floor share is under half their share of the people counted.
    pub fn behind(&self, people: &People<'_>, share: &Share) -> BTreeSet<Perspective> {
        let mut per: HashMap<Perspective, (usize, i64)> = HashMap::new();
        for p in &share.counted {
            let e = per.entry((people.perspective)(*p)).or_default();
            e.0 += 1;
            e.1 += self.floor_ms(*p);
        }
        if share.total <= 0 {
            return BTreeSet::new();
        }
        let n = share.counted.len() as f64;
        per.into_iter()
            .filter(|(_, (count, ms))| {
                (*ms as f64 / share.total as f64) < (*count as f64 / n) / 2.0
            })
            .map(|(perspective, _)| perspective)
            .collect()
    }

    /// Until when over-share hands wait while the floor makes room, if it does.
    pub fn room_until(&self) -> Option<Millis> {
        self.room_since
            .map(|since| since + i64::from(self.settings.room_secs) * 1000)
    }

    /// Whether the floor should make room now: room is on, nobody speaks, no room is made yet
    /// since the last turn, the first hand "next" would give is over the fair share, and
    /// someone present is well under it. Returns those to invite: the present under the share
    /// with no hand up.
    pub fn room_to_make(&self, people: &People<'_>, now: Millis) -> Vec<usize> {
        if self.settings.room_secs == 0
            || self.settings.order == QueueOrder::Round
            || self.running().is_some()
            || self.room_since.is_some()
        {
            return Vec::new();
        }
        let share = self.share(people);
        let head = self
            .queue(people, now)
            .into_iter()
            .find(|pl| pl.reason != QueueReason::OnHold);
        let Some(head) = head else {
            return Vec::new();
        };
        if head.hand != Some(HandKind::Hand) || !share.over(self.floor_ms(head.p)) {
            return Vec::new();
        }
        let present: Vec<usize> = share
            .counted
            .iter()
            .copied()
            .filter(|p| (people.online)(*p) && self.hand_of(*p).is_none())
            .collect();
        if !present.iter().any(|p| share.well_under(self.floor_ms(*p))) {
            return Vec::new();
        }
        present
            .into_iter()
            .filter(|p| (self.floor_ms(*p) as f64) < share.fair)
            .collect()
    }

    fn stats_mut(&mut self, p: usize) -> &mut Stats {
        if self.stats.len() <= p {
            self.stats.resize_with(p + 1, Stats::default);
        }
        &mut self.stats[p]
    }

    /// One person's floor so far.
    pub fn stats(&self, p: usize) -> Stats {
        self.stats.get(p).cloned().unwrap_or_default()
    }

    /// Floor time of one person's ended turns.
    pub fn floor_ms(&self, p: usize) -> i64 {
        self.stats.get(p).map_or(0, |s| s.floor_ms)
    }

    /// Turns one person was given.
    pub fn turns_of(&self, p: usize) -> u32 {
        self.stats.get(p).map_or(0, |s| s.turns)
    }

    /// Direct responses one person had in a phase.
    pub fn responses_in(&self, p: usize, phase: u8) -> u32 {
        self.stats
            .get(p)
            .and_then(|s| s.responses.get(&phase))
            .copied()
            .unwrap_or(0)
    }

    /// The running turn.
    pub fn running(&self) -> Option<&Turn> {
        self.turns.last().filter(|t| t.ended.is_none())
    }

    fn running_mut(&mut self) -> Option<&mut Turn> {
        self.turns.last_mut().filter(|t| t.ended.is_none())
    }

    /// The running turn's id (`t4`).
    pub fn running_id(&self) -> Option<String> {
        self.running()
            .map(|_| super::ids::id('t', self.turns.len() - 1))
    }

    /// Someone's raised hand.
    pub fn hand_of(&self, p: usize) -> Option<&Hand> {
        self.hands.iter().find(|h| h.p == p)
    }

    /// Floor time the running turn has used at `now`, pauses not counted.
    pub fn elapsed(&self, turn: &Turn, now: Millis) -> i64 {
        let end = turn.ended.map_or(now, |(at, _)| at);
        let mut paused = turn.paused_ms;
        if turn.ended.is_none()
            && let Some(since) = self.paused_since
        {
            paused += (now - since.max(turn.started_at)).max(0);
        }
        (end - turn.started_at - paused).max(0)
    }

    /// When the running turn reaches its limit, if its clock runs: the server's time at which a
    /// hard turn ends or a soft one turns overtime.
    pub fn deadline(&self) -> Option<Millis> {
        if self.paused_since.is_some() {
            return None;
        }
        self.running()
            .map(|t| t.started_at + t.paused_ms + t.limit_ms)
    }

    /// Whether the running turn has used up its limit at `now`.
    pub fn overtime(&self, now: Millis) -> bool {
        self.running()
            .is_some_and(|t| self.elapsed(t, now) >= t.limit_ms)
    }

    /// The limit a new turn of this kind gets.
    pub fn limit_for(&self, kind: TurnKind) -> i64 {
        let secs = match kind {
            TurnKind::Response => self.settings.response_secs,
            _ => self.settings.turn_secs,
        };
        i64::from(secs) * 1000
    }

    /// Whether the limit ends turns (hard) or only marks them (soft).
    pub fn hard(&self) -> bool {
        self.settings.mode == LimitMode::Hard
    }

    /// Everyone the balance counts: participants who are connected or have spoken.
    pub fn counted(&self, people: &People<'_>) -> Vec<usize> {
        (0..people.len)
            .filter(|p| (people.counts)(*p) && ((people.online)(*p) || self.turns_of(*p) > 0))
            .collect()
    }

    /// Who gets the floor next, first first, at `now`.
    ///
    /// Direct responses come first, in the order they went up. Then, by the queue order: raised
    /// hands first come first served, or least floor time first (those who have not spoken
    /// before everyone, ties by the time the hand went up), or everyone present in turn after
    /// the last round speaker. A hand whose owner spoke more than the fair-share factor times
    /// the fair share waits behind every hand of someone who spoke less (unless the cap is off);
    /// with `perspectives`, hands of a perspective far below its share of the people go
    /// before the other hands; while the floor makes room, hands over the fair share wait
    /// behind those until the room's moment ends; a hand on hold after a confirmed violation
    /// waits behind everyone.
    pub fn queue(&self, people: &People<'_>, now: Millis) -> Vec<Place> {
        let share = self.share(people);
        let (total, fair) = (share.total, share.fair);
        let capped = |p: usize| {
            self.settings.fair_share_cap
                && total > 0
                && self.floor_ms(p) as f64 > self.settings.fair_share * fair
        };
        let behind = if self.settings.perspectives {
            self.behind(people, &share)
        } else {
            BTreeSet::new()
        };
        let room = self.room_until().filter(|until| *until > now);
        let making_room = |p: usize| room.is_some() && share.over(self.floor_ms(p));
        let held = |p: usize| (people.held_until)(p).is_some_and(|until| until > now);
        let speaker = self.running().map(|t| t.speaker);
        let order = self.settings.order;

        // (group, tie-breakers…) sorts the queue: 0 responses, 1 normal (quiet perspectives
        // first), 2 over the cap, 3 making room, 4 on hold.
        type Key = (u8, i64, u8, i64, usize);
        let mut keyed: Vec<(Key, Place)> = Vec::new();
        for (i, hand) in self.hands.iter().enumerate() {
            let p = hand.p;
            if Some(p) == speaker {
                continue;
            }
            let place = |reason| Place {
                p,
                hand: Some(hand.kind),
                raised_at: Some(hand.at),
                reason,
                ready_at: None,
            };
            if held(p) {
                keyed.push(((4, 0, 0, 0, i), place(QueueReason::OnHold)));
            } else if hand.kind == HandKind::Response {
                keyed.push(((0, 0, 0, 0, i), place(QueueReason::Response)));
            } else if order == QueueOrder::Round {
                // In round order everyone present is in the queue anyway (below).
            } else if making_room(p) {
                keyed.push((
                    (3, self.floor_ms(p), 0, 0, i),
                    Place {
                        ready_at: room,
                        ..place(QueueReason::MakingRoom)
                    },
                ));
            } else if capped(p) {
                keyed.push((
                    (2, self.floor_ms(p), 0, 0, i),
                    place(QueueReason::OverShare),
                ));
            } else if behind.contains(&(people.perspective)(p)) {
                keyed.push((
                    (1, -1, 0, self.floor_ms(p), i),
                    place(QueueReason::QuietPerspective),
                ));
            } else if order == QueueOrder::Fcfs {
                keyed.push(((1, 0, 0, 0, i), place(QueueReason::RaisedEarlier)));
            } else {
                let spoke = self.turns_of(p) > 0;
                let reason = if spoke {
                    QueueReason::SpokeLess
                } else {
                    QueueReason::NotSpokenYet
                };
                keyed.push(((1, 0, u8::from(spoke), self.floor_ms(p), i), place(reason)));
            }
        }
        if order == QueueOrder::Round && people.len > 0 {
            let n = people.len;
            let from = self.round_cursor.map_or(0, |c| c + 1);
            let with_response: BTreeSet<usize> = keyed.iter().map(|(_, pl)| pl.p).collect();
            for step in 0..n {
                let p = (from + step) % n;
                if !(people.counts)(p)
                    || !(people.online)(p)
                    || Some(p) == speaker
                    || self.passed.contains(&p)
                    || with_response.contains(&p)
                {
                    continue;
                }
                let (group, reason) = if held(p) {
                    (4, QueueReason::OnHold)
                } else {
                    (1, QueueReason::Round)
                };
                keyed.push((
                    (group, 0, 0, 0, usize::MAX / 2 + step),
                    Place {
                        p,
                        hand: None,
                        raised_at: None,
                        reason,
                        ready_at: None,
                    },
                ));
            }
        }
        keyed.sort_by_key(|(k, _)| *k);
        keyed.into_iter().map(|(_, place)| place).collect()
    }
}

/// 1 − the Gini coefficient of `xs`: 1 when everyone has the same, towards 0 when one has
/// everything. `None` when there is nobody or nothing to share.
pub fn balance(xs: &[i64]) -> Option<f64> {
    let n = xs.len();
    let sum: i64 = xs.iter().sum();
    if n == 0 || sum <= 0 {
        return None;
    }
    let mut sorted = xs.to_vec();
    sorted.sort_unstable();
    // G = 2·Σ i·x_(i) / (n·Σx) − (n+1)/n, with x sorted ascending and i counted from 1.
    let weighted: f64 = sorted
        .iter()
        .enumerate()
        .map(|(i, x)| (i as f64 + 1.0) * *x as f64)
        .sum();
    let n = n as f64;
    let gini = 2.0 * weighted / (n * sum as f64) - (n + 1.0) / n;
    Some((1.0 - gini).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_000_000;

    fn people(n: usize, held: Option<(usize, Millis)>) -> impl Fn(&Floor, Millis) -> Vec<usize> {
        move |floor, now| {
            let counts = |p: usize| p > 0; // p0 is the facilitator
            let online = |_| true;
            let held_until = |p: usize| held.filter(|(h, _)| *h == p).map(|(_, until)| until);
            let who = People {
                counts: &counts,
                online: &online,
                held_until: &held_until,
                perspective: &|_| Perspective::Medewerker,
                len: n,
            };
            floor.queue(&who, now).into_iter().map(|pl| pl.p).collect()
        }
    }

    fn speak(f: &mut Floor, p: usize, at: Millis, ms: i64) {
        f.apply(
            &Event::Give {
                p,
                kind: TurnKind::Hand,
                limit_ms: 120_000,
                over: false,
                phase: 0,
            },
            at,
        );
        f.apply(
            &Event::End {
                how: TurnEnd::Speaker,
            },
            at + ms,
        );
    }

    fn raise(f: &mut Floor, p: usize, at: Millis) {
        f.apply(
            &Event::Raise {
                p,
                kind: HandKind::Hand,
            },
            at,
        );
    }

    fn with_order(order: QueueOrder) -> Floor {
        let mut f = Floor::default();
        f.apply(
            &Event::Set(FloorSettingsChange {
                order: Some(order),
                fair_share: Some(10.0),
                ..Default::default()
            }),
            T,
        );
        f
    }

    #[test]
    fn first_come_first_served_keeps_the_order_of_raising() {
        let mut f = with_order(QueueOrder::Fcfs);
        speak(&mut f, 3, T, 60_000);
        raise(&mut f, 3, T + 100_000);
        raise(&mut f, 1, T + 100_001);
        raise(&mut f, 2, T + 100_002);
        assert_eq!(people(4, None)(&f, T + 200_000), vec![3, 1, 2]);
        // Raising again moves a hand to the back.
        raise(&mut f, 3, T + 100_003);
        assert_eq!(people(4, None)(&f, T + 200_000), vec![1, 2, 3]);
    }

    #[test]
    fn least_spoken_puts_the_silent_first_then_by_floor_time_then_by_raising() {
        let mut f = with_order(QueueOrder::LeastSpoken);
        speak(&mut f, 1, T, 90_000);
        speak(&mut f, 2, T + 100_000, 30_000);
        raise(&mut f, 1, T + 200_000); // spoke 90 s
        raise(&mut f, 2, T + 200_001); // spoke 30 s
        raise(&mut f, 4, T + 200_002); // silent, raised later
        raise(&mut f, 3, T + 200_003); // silent, raised last
        let who = People {
            counts: &|p| p > 0,
            online: &|_| true,
            held_until: &|_| None,
            perspective: &|_| Perspective::Medewerker,
            len: 5,
        };
        let q = f.queue(&who, T + 300_000);
        assert_eq!(
            q.iter().map(|pl| pl.p).collect::<Vec<_>>(),
            vec![4, 3, 2, 1]
        );
        assert_eq!(q[0].reason, QueueReason::NotSpokenYet);
        assert_eq!(q[2].reason, QueueReason::SpokeLess);
    }

    #[test]
    fn direct_responses_go_first_and_the_speaker_is_never_queued() {
        let mut f = with_order(QueueOrder::Fcfs);
        raise(&mut f, 1, T);
        f.apply(
            &Event::Give {
                p: 2,
                kind: TurnKind::Invited,
                limit_ms: 120_000,
                over: true,
                phase: 1,
            },
            T + 1,
        );
        raise(&mut f, 2, T + 2);
        f.apply(
            &Event::Raise {
                p: 3,
                kind: HandKind::Response,
            },
            T + 3,
        );
        assert_eq!(people(4, None)(&f, T + 10), vec![3, 1]);
    }

    #[test]
    fn round_order_continues_after_the_last_round_speaker_and_skips_who_passed() {
        let mut f = with_order(QueueOrder::Round);
        let q = people(5, None);
        assert_eq!(q(&f, T), vec![1, 2, 3, 4], "p0 is the facilitator");
        let give = |f: &mut Floor, p, at| {
            f.apply(
                &Event::Give {
                    p,
                    kind: TurnKind::Round,
                    limit_ms: 60_000,
                    over: false,
                    phase: 0,
                },
                at,
            );
            f.apply(
                &Event::End {
                    how: TurnEnd::Speaker,
                },
                at + 10,
            );
        };
        give(&mut f, 2, T);
        assert_eq!(q(&f, T + 20), vec![3, 4, 1, 2]);
        f.apply(&Event::Pass { p: 3 }, T + 30);
        assert_eq!(q(&f, T + 40), vec![4, 1, 2]);
        give(&mut f, 4, T + 50);
        assert_eq!(
            q(&f, T + 70),
            vec![1, 2, 3, 4],
            "the round went past the one who passed: next time round they are back"
        );
    }

    #[test]
    fn the_fair_share_cap_holds_a_hand_behind_everyone_who_spoke_less() {
        // Five people; p1 spoke 100 s, p2 10 s: fair share = 110/5 = 22 s, 2× = 44 s.
        let mut f = Floor::default();
        f.apply(
            &Event::Set(FloorSettingsChange {
                order: Some(QueueOrder::Fcfs),
                ..Default::default()
            }),
            T,
        );
        speak(&mut f, 1, T, 100_000);
        speak(&mut f, 2, T + 200_000, 10_000);
        raise(&mut f, 1, T + 300_000);
        raise(&mut f, 2, T + 300_001);
        raise(&mut f, 5, T + 300_002);
        let who = People {
            counts: &|p| p > 0,
            online: &|_| true,
            held_until: &|_| None,
            perspective: &|_| Perspective::Medewerker,
            len: 6,
        };
        let q = f.queue(&who, T + 400_000);
        assert_eq!(q.iter().map(|pl| pl.p).collect::<Vec<_>>(), vec![2, 5, 1]);
        assert_eq!(q[2].reason, QueueReason::OverShare);
        // A factor of 10 lifts the cap: first come, first served again.
        f.apply(
            &Event::Set(FloorSettingsChange {
                fair_share: Some(10.0),
                ..Default::default()
            }),
            T + 400_001,
        );
        assert_eq!(people(6, None)(&f, T + 400_002), vec![1, 2, 5]);
    }

    #[test]
    fn a_hand_on_hold_waits_behind_everyone_until_the_hold_ends() {
        let mut f = with_order(QueueOrder::Fcfs);
        raise(&mut f, 1, T);
        raise(&mut f, 2, T + 1);
        let q = people(3, Some((1, T + 60_000)));
        assert_eq!(q(&f, T + 59_999), vec![2, 1]);
        assert_eq!(q(&f, T + 60_000), vec![1, 2]);
    }

    #[test]
    fn pauses_do_not_count_as_floor_time() {
        let mut f = Floor::default();
        f.apply(
            &Event::Give {
                p: 1,
                kind: TurnKind::Hand,
                limit_ms: 60_000,
                over: false,
                phase: 0,
            },
            T,
        );
        f.apply(&Event::Pause, T + 10_000);
        assert_eq!(f.deadline(), None, "a paused turn has no deadline");
        let running = f.running().unwrap().clone();
        assert_eq!(f.elapsed(&running, T + 50_000), 10_000);
        f.apply(&Event::Resume, T + 40_000);
        assert_eq!(f.deadline(), Some(T + 90_000));
        f.apply(
            &Event::End {
                how: TurnEnd::Limit,
            },
            T + 90_000,
        );
        assert_eq!(f.floor_ms(1), 60_000);
    }

    #[test]
    fn balance_is_one_minus_gini() {
        assert_eq!(balance(&[]), None);
        assert_eq!(balance(&[0, 0, 0]), None, "nobody spoke yet");
        assert_eq!(balance(&[5, 5, 5, 5]), Some(1.0));
        // One of four did all the talking: G = 3/4.
        assert!((balance(&[0, 0, 0, 8]).unwrap() - 0.25).abs() < 1e-12);
        // 1, 2, 3, 4: G = Σ|xi−xj| / (2n²μ) = 20 / (2·16·2.5) = 0.25.
        assert!((balance(&[4, 1, 3, 2]).unwrap() - 0.75).abs() < 1e-12);
        // Silent people count, with zero: two even speakers among four people.
        assert!((balance(&[10, 10, 0, 0]).unwrap() - 0.5).abs() < 1e-12);
        assert!((balance(&[10, 10]).unwrap() - 1.0).abs() < 1e-12);
    }
}

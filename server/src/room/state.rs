//! The session as the room holds it in memory: a typed projection of its automerge document,
//! plus the views each role may see.
//!
//! Ids on the wire are a letter and a number (`p3`, `k12`, `r2`, `v40`); in memory they are
//! indexes into vectors (`p3` is `participants[2]`), because records are never deleted.

use super::conduct::{Report, Rule};
use super::floor::{self, Floor, People};
use std::collections::{BTreeMap, HashMap};
use tafel_protocol::{
    Balance, CardKind, CardStatus, CardTotal, CardView, FloorView, Language, Millis,
    ParticipantView, PersonFloor, Perspective, PerspectiveFloor, QueueEntry, QueueReason,
    ReportStatus, ReportView, Role, RoundStatus, RoundView, RuleView, RulesView, SessionStatus,
    SessionView, TurnView, View, You, YourFloor, YourReport, YourVotes, YourWarning,
};

/// The number of phases of the method (0–5).
pub const PHASES: u8 = 6;

/// The session's own fields.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionFields {
    /// The join code.
    pub code: String,
    /// Title.
    pub title: String,
    /// Problem statement.
    pub problem: String,
    /// Language.
    pub language: Language,
    /// Whether card authors are hidden.
    pub anonymous_cards: bool,
    /// Creation time.
    pub created_at: Millis,
    /// Current phase.
    pub phase: u8,
    /// Open, locked, ended.
    pub status: SessionStatus,
}

/// Someone who joined.
#[derive(Debug, Clone, PartialEq)]
pub struct Participant {
    /// Display name.
    pub name: String,
    /// Perspective.
    pub perspective: Perspective,
    /// Facilitator or participant.
    pub role: Role,
    /// When they joined.
    pub joined_at: Millis,
}

/// A card.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// Kind.
    pub kind: CardKind,
    /// The phase it was added in.
    pub phase: u8,
    /// Current text.
    pub text: String,
    /// The author's participant index. In an anonymous session the document holds only the
    /// author's pseudonym; the room resolves it with the session key.
    pub author: usize,
    /// The card it builds on.
    pub builds_on: Option<usize>,
    /// When it was added.
    pub created_at: Millis,
    /// When its text last changed.
    pub edited_at: Option<Millis>,
    /// Visible, hidden, withdrawn or merged.
    pub status: CardStatus,
    /// For merged cards: the card it was folded into.
    pub merged_into: Option<usize>,
}

/// A voting round with its tallies.
#[derive(Debug, Clone, PartialEq)]
pub struct Round {
    /// The phase whose cards are voted on.
    pub phase: u8,
    /// Votes per person.
    pub budget: u32,
    /// Most votes per person per card.
    pub max_per_card: u32,
    /// Totals visible to everyone while open.
    pub live: bool,
    /// When it opened.
    pub opened_at: Millis,
    /// When it closed.
    pub closed_at: Option<Millis>,
    /// The cards voted on.
    pub cards: Vec<usize>,
    /// Votes per card (derived from vote records).
    pub totals: HashMap<usize, u32>,
    /// Votes per participant per card (derived from vote records).
    pub by_voter: HashMap<usize, BTreeMap<usize, u32>>,
}

impl Round {
    /// Whether votes can still change.
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }

    /// Votes placed by one participant.
    pub fn used_by(&self, voter: usize) -> u32 {
        self.by_voter
            .get(&voter)
            .map_or(0, |cards| cards.values().sum())
    }

    /// Applies one vote record (+1 or −1) to the tallies.
    pub fn tally(&mut self, voter: usize, card: usize, delta: i64) {
        let mine = self.by_voter.entry(voter).or_default();
        let n = mine.entry(card).or_default();
        *n = n.saturating_add_signed(delta as i32);
        if *n == 0 {
            mine.remove(&card);
        }
        if mine.is_empty() {
            self.by_voter.remove(&voter);
        }
        let total = self.totals.entry(card).or_default();
        *total = total.saturating_add_signed(delta as i32);
    }

    /// Totals, highest first; ties keep the earlier card first.
    pub fn ranking(&self) -> Vec<(usize, u32)> {
        let mut ranked: Vec<(usize, u32)> = self
            .cards
            .iter()
            .map(|c| (*c, self.totals.get(c).copied().unwrap_or(0)))
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
    }
}

/// The whole session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The session's own fields.
    pub fields: SessionFields,
    /// Everyone who joined; index = id number − 1.
    pub participants: Vec<Participant>,
    /// Every card ever added.
    pub cards: Vec<Card>,
    /// Every round ever opened.
    pub rounds: Vec<Round>,
    /// How many vote records exist (the next vote id).
    pub vote_records: u64,
    /// The session key for pseudonyms (from storage, never in the document).
    pub key: [u8; 32],
    /// Each participant's pseudonym, by index.
    pub pseudonyms: Vec<String>,
    /// Pseudonym → participant index.
    pub by_pseudonym: HashMap<String, usize>,
    /// Each participant's cards, by index (so `you` needs no scan of every card).
    pub own_cards: Vec<Vec<usize>>,
    /// The floor, folded from its events.
    pub floor: Floor,
    /// Every ground rule ever added.
    pub rules: Vec<Rule>,
    /// Bumped by every change to the rules; agreements count for the current version.
    pub rules_version: u32,
    /// Each person's latest answer to the rules: (version, agreed).
    pub agreements: HashMap<usize, (u32, bool)>,
    /// How many agreement records exist (the next id).
    pub agreement_records: u64,
    /// Every reported violation.
    pub reports: Vec<Report>,
    /// Until when a person's hand waits, after confirmed violations (derived from reports).
    pub holds: HashMap<usize, Millis>,
}

/// Formats an id: `id('p', 0)` is `"p1"`.
pub fn id(prefix: char, index: usize) -> String {
    format!("{prefix}{}", index + 1)
}

/// Parses an id of the given prefix into an index; `None` when it is not one.
pub fn parse_id(prefix: char, id: &str) -> Option<usize> {
    // Exactly as the server writes them: digits only, no sign, no leading zero.
    let digits = id.strip_prefix(prefix)?;
    if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: usize = digits.parse().ok()?;
    n.checked_sub(1)
}

impl Session {
    /// A new session with only its fields.
    pub fn new(fields: SessionFields, key: [u8; 32]) -> Self {
        Self {
            fields,
            participants: Vec::new(),
            cards: Vec::new(),
            rounds: Vec::new(),
            vote_records: 0,
            key,
            pseudonyms: Vec::new(),
            by_pseudonym: HashMap::new(),
            own_cards: Vec::new(),
            floor: Floor::default(),
            rules: Vec::new(),
            rules_version: 0,
            agreements: HashMap::new(),
            agreement_records: 0,
            reports: Vec::new(),
            holds: HashMap::new(),
        }
    }

    /// Adds a report to memory, or replaces one that was decided (the caller records it).
    pub fn put_report(&mut self, index: usize, report: Report) {
        if let Some((p, until)) = report.hold() {
            let hold = self.holds.entry(p).or_default();
            *hold = (*hold).max(until);
        }
        if index == self.reports.len() {
            self.reports.push(report);
        } else {
            self.reports[index] = report;
        }
    }

    /// What the floor needs to know of the people in the session, given who is connected.
    pub fn with_people<R>(&self, online: &[u32], f: impl FnOnce(&People<'_>) -> R) -> R {
        let counts = |p: usize| {
            self.participants
                .get(p)
                .is_some_and(|x| x.role == Role::Participant)
        };
        let is_online = |p: usize| online.get(p).is_some_and(|n| *n > 0);
        let held_until = |p: usize| self.holds.get(&p).copied();
        f(&People {
            counts: &counts,
            online: &is_online,
            held_until: &held_until,
            len: self.participants.len(),
        })
    }

    /// The floor as `role` may see it at `now`.
    pub fn floor_view(&self, role: Role, now: Millis, online: &[u32]) -> FloorView {
        let fl = &self.floor;
        self.with_people(online, |people| {
            // Who waits after a violation is the facilitator's business (and the person's own).
            let places: Vec<_> = fl
                .queue(people, now)
                .into_iter()
                .filter(|pl| role == Role::Facilitator || pl.reason != QueueReason::OnHold)
                .collect();
            let waiting = places.len() as u32;
            let queue = places
                .into_iter()
                .take(tafel_protocol::floor_limits::QUEUE_SHOWN)
                .map(|pl| QueueEntry {
                    participant: id('p', pl.p),
                    hand: pl.hand,
                    raised_at: pl.raised_at,
                    reason: pl.reason,
                })
                .collect();
            let show_balance = match role {
                Role::Facilitator => true,
                Role::Projector => fl.settings.show_balance,
                Role::Participant => false,
            };
            FloorView {
                now,
                settings: fl.settings,
                paused: fl.paused_since.is_some(),
                turn: fl.running().map(|t| TurnView {
                    id: id('t', fl.turns.len() - 1),
                    speaker: id('p', t.speaker),
                    kind: t.kind,
                    started_at: t.started_at,
                    limit_ms: t.limit_ms,
                    elapsed_ms: fl.elapsed(t, now),
                    overtime: fl.overtime(now),
                }),
                queue,
                waiting,
                spoken_ms: fl.stats.iter().map(|s| s.floor_ms).sum(),
                turns: fl.turns.len() as u32,
                balance: show_balance.then(|| self.balance(people, role == Role::Facilitator)),
            }
        })
    }

    /// The balance figures over everyone counted.
    fn balance(&self, people: &People<'_>, per_person: bool) -> Balance {
        let fl = &self.floor;
        let counted = fl.counted(people);
        let times: Vec<i64> = counted.iter().map(|p| fl.floor_ms(*p)).collect();
        let total: i64 = times.iter().sum();
        let mut per_perspective: BTreeMap<Perspective, PerspectiveFloor> = BTreeMap::new();
        for p in &counted {
            let perspective = self.participants[*p].perspective;
            let e = per_perspective
                .entry(perspective)
                .or_insert(PerspectiveFloor {
                    perspective,
                    people: 0,
                    floor_ms: 0,
                    turns: 0,
                });
            e.people += 1;
            e.floor_ms += fl.floor_ms(*p);
            e.turns += fl.turns_of(*p);
        }
        Balance {
            figure: floor::balance(&times),
            top_share: (total > 0).then(|| *times.iter().max().unwrap_or(&0) as f64 / total as f64),
            people: counted.len() as u32,
            silent: counted.iter().filter(|p| fl.turns_of(**p) == 0).count() as u32,
            per_person: if per_person {
                counted
                    .iter()
                    .map(|p| PersonFloor {
                        participant: id('p', *p),
                        floor_ms: fl.floor_ms(*p),
                        turns: fl.turns_of(*p),
                        violations: self.confirmed(|r| r.about == Some(*p)),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            per_perspective: per_perspective.into_values().collect(),
        }
    }

    fn confirmed(&self, which: impl Fn(&Report) -> bool) -> u32 {
        self.reports
            .iter()
            .filter(|r| r.status == ReportStatus::Confirmed && which(r))
            .count() as u32
    }

    /// The ground rules in force, with counts.
    pub fn rules_view(&self) -> RulesView {
        let answers = || {
            self.agreements
                .values()
                .filter(|(v, _)| *v == self.rules_version)
        };
        RulesView {
            rules: self
                .rules
                .iter()
                .enumerate()
                .filter(|(_, r)| !r.removed)
                .map(|(i, r)| RuleView {
                    id: id('g', i),
                    text: r.text.clone(),
                    violations: self.confirmed(|x| x.rule == i),
                })
                .collect(),
            version: self.rules_version,
            agreed: answers().filter(|(_, yes)| *yes).count() as u32,
            disagreed: answers().filter(|(_, yes)| !*yes).count() as u32,
        }
    }

    /// A report, as the facilitator sees it.
    pub fn report_view(&self, index: usize) -> ReportView {
        let r = &self.reports[index];
        ReportView {
            id: id('x', index),
            rule: id('g', r.rule),
            about: r.about.map(|p| id('p', p)),
            note: r.note.clone(),
            reporter: (!r.anonymous).then(|| id('p', r.reporter)),
            status: r.status,
            at: r.at,
            resolved_at: r.resolved_at,
            consequence: r.consequence,
        }
    }

    /// One person's own floor and ground-rule data.
    pub fn your_floor(&self, me: usize) -> YourFloor {
        let fl = &self.floor;
        YourFloor {
            hand: fl.hand_of(me).map(|h| h.kind),
            passed: fl.passed.contains(&me),
            floor_ms: fl.floor_ms(me),
            turns: fl.turns_of(me),
            responses_used: fl.responses_in(me, self.fields.phase),
            hand_wait_until: self.holds.get(&me).copied(),
            agreed: self
                .agreements
                .get(&me)
                .filter(|(v, _)| *v == self.rules_version)
                .map(|(_, yes)| *yes),
            warnings: self
                .reports
                .iter()
                .filter(|r| r.about == Some(me) && r.status == ReportStatus::Confirmed)
                .filter_map(|r| {
                    Some(YourWarning {
                        rule: id('g', r.rule),
                        at: r.resolved_at?,
                        hand_wait_minutes: match r.consequence? {
                            tafel_protocol::Consequence::Warning => None,
                            tafel_protocol::Consequence::HandWait { minutes } => Some(minutes),
                        },
                    })
                })
                .collect(),
            reports: self
                .reports
                .iter()
                .enumerate()
                .filter(|(_, r)| r.reporter == me)
                .map(|(i, r)| YourReport {
                    id: id('x', i),
                    rule: id('g', r.rule),
                    status: r.status,
                })
                .collect(),
        }
    }

    /// Adds a participant to memory (the caller records it in the document).
    pub fn push_participant(&mut self, p: Participant) -> usize {
        let index = self.participants.len();
        let pseudo = crate::secrets::pseudonym(&self.key, &id('p', index));
        self.by_pseudonym.insert(pseudo.clone(), index);
        self.own_cards.push(Vec::new());
        self.pseudonyms.push(pseudo);
        self.participants.push(p);
        index
    }

    /// Adds a card to memory (the caller records it in the document).
    pub fn push_card(&mut self, card: Card) -> usize {
        let index = self.cards.len();
        self.own_cards[card.author].push(index);
        self.cards.push(card);
        index
    }

    /// The participant a card's stored author string names (a plain id or a pseudonym).
    pub fn resolve_author(&self, stored: &str) -> Option<usize> {
        if stored.starts_with('~') {
            self.by_pseudonym.get(stored).copied()
        } else {
            parse_id('p', stored).filter(|i| *i < self.participants.len())
        }
    }

    /// The currently open round, if any.
    pub fn open_round(&self) -> Option<usize> {
        self.rounds.iter().rposition(Round::is_open)
    }

    /// The session as everyone sees it.
    pub fn session_view(&self, public_url: &str) -> SessionView {
        let f = &self.fields;
        SessionView {
            code: f.code.clone(),
            title: f.title.clone(),
            problem: f.problem.clone(),
            language: f.language,
            anonymous_cards: f.anonymous_cards,
            phase: f.phase,
            status: f.status,
            created_at: f.created_at,
            join_url: format!("{public_url}/j/{}", f.code),
        }
    }

    /// A participant as everyone sees them.
    pub fn participant_view(&self, index: usize, online: bool) -> ParticipantView {
        let p = &self.participants[index];
        ParticipantView {
            id: id('p', index),
            name: p.name.clone(),
            perspective: p.perspective,
            role: p.role,
            joined_at: p.joined_at,
            online,
        }
    }

    /// A card as `role` may see it.
    pub fn card_view(&self, index: usize, role: Role) -> CardView {
        let c = &self.cards[index];
        let text_visible = match c.status {
            CardStatus::Visible => true,
            CardStatus::Hidden | CardStatus::Merged => role == Role::Facilitator,
            CardStatus::Withdrawn => false,
        };
        CardView {
            id: id('k', index),
            kind: c.kind,
            phase: c.phase,
            status: c.status,
            text: text_visible.then(|| c.text.clone()),
            author: (!self.fields.anonymous_cards).then(|| id('p', c.author)),
            builds_on: c.builds_on.map(|b| id('k', b)),
            merged_into: c.merged_into.map(|m| id('k', m)),
            created_at: c.created_at,
            edited_at: c.edited_at,
        }
    }

    /// A round as `role` may see it: totals only once closed, when live, or for the
    /// facilitator; never who voted for what.
    pub fn round_view(&self, index: usize, role: Role) -> RoundView {
        let r = &self.rounds[index];
        let show_totals = !r.is_open() || r.live || role == Role::Facilitator;
        RoundView {
            id: id('r', index),
            phase: r.phase,
            budget: r.budget,
            max_per_card: r.max_per_card,
            live: r.live,
            status: if r.is_open() {
                RoundStatus::Open
            } else {
                RoundStatus::Closed
            },
            cards: r.cards.iter().map(|c| id('k', *c)).collect(),
            voters: r.by_voter.len() as u32,
            opened_at: r.opened_at,
            closed_at: r.closed_at,
            results: show_totals.then(|| {
                r.ranking()
                    .into_iter()
                    .map(|(c, votes)| CardTotal {
                        card: id('k', c),
                        votes,
                    })
                    .collect()
            }),
        }
    }

    /// Everything `role` may see at `now`. `online` counts, per participant, their connections.
    pub fn view(&self, role: Role, public_url: &str, now: Millis, online: &[u32]) -> View {
        View {
            session: self.session_view(public_url),
            participants: (0..self.participants.len())
                .map(|i| self.participant_view(i, online.get(i).is_some_and(|n| *n > 0)))
                .collect(),
            cards: (0..self.cards.len())
                .map(|i| self.card_view(i, role))
                .collect(),
            rounds: (0..self.rounds.len())
                .map(|i| self.round_view(i, role))
                .collect(),
            floor: self.floor_view(role, now, online),
            rules: self.rules_view(),
            reports: if role == Role::Facilitator {
                (0..self.reports.len())
                    .map(|i| self.report_view(i))
                    .collect()
            } else {
                Vec::new()
            },
        }
    }

    /// A client's own data.
    pub fn you(&self, role: Role, participant: Option<usize>) -> You {
        let Some(me) = participant else {
            return You {
                id: None,
                role,
                cards: Vec::new(),
                votes: Vec::new(),
                floor: None,
            };
        };
        You {
            id: Some(id('p', me)),
            role,
            cards: self.own_cards[me].iter().map(|c| id('k', *c)).collect(),
            votes: self
                .rounds
                .iter()
                .enumerate()
                .filter(|(_, r)| r.is_open() || r.by_voter.contains_key(&me))
                .map(|(i, r)| YourVotes {
                    round: id('r', i),
                    cards: r
                        .by_voter
                        .get(&me)
                        .map(|m| m.iter().map(|(c, n)| (id('k', *c), *n)).collect())
                        .unwrap_or_default(),
                    remaining: r.budget.saturating_sub(r.used_by(me)),
                })
                .collect(),
            floor: Some(self.your_floor(me)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(cards: Vec<usize>) -> Round {
        Round {
            phase: 2,
            budget: 5,
            max_per_card: 3,
            live: false,
            opened_at: 0,
            closed_at: None,
            cards,
            totals: HashMap::new(),
            by_voter: HashMap::new(),
        }
    }

    #[test]
    fn ids_round_trip_and_reject_garbage() {
        assert_eq!(id('k', 11), "k12");
        assert_eq!(parse_id('k', "k12"), Some(11));
        assert_eq!(parse_id('k', "k0"), None);
        assert_eq!(parse_id('k', "p1"), None);
        assert_eq!(parse_id('k', "k-1"), None);
        assert_eq!(parse_id('k', "k+1"), None, "one spelling per id");
        assert_eq!(parse_id('k', "k01"), None);
        assert_eq!(parse_id('k', "k99999999999999999999999"), None);
    }

    #[test]
    fn tally_counts_voters_and_takes_votes_back() {
        let mut r = round(vec![0, 1, 2]);
        r.tally(0, 1, 1);
        r.tally(0, 1, 1);
        r.tally(1, 2, 1);
        assert_eq!((r.used_by(0), r.by_voter.len()), (2, 2));
        r.tally(1, 2, -1);
        assert_eq!(
            r.by_voter.len(),
            1,
            "a voter who took back every vote no longer counts"
        );
        assert_eq!(r.ranking(), vec![(1, 2), (0, 0), (2, 0)]);
    }

    #[test]
    fn ranking_breaks_ties_by_card_age() {
        let mut r = round(vec![0, 1, 2]);
        r.tally(0, 2, 1);
        r.tally(1, 1, 1);
        assert_eq!(r.ranking(), vec![(1, 1), (2, 1), (0, 0)]);
    }
}

//! The session in memory: a typed projection of its automerge document (the views each role
//! may see of it are in `views.rs`).
//!
//! Ids on the wire are a letter and a number (`p3`, `k12`, `r2`, `v40`); in memory they are
//! indexes into vectors (`p3` is `participants[2]`), because records are never deleted.

use super::conduct::{Report, Rule};
use super::floor::{Floor, People};
use super::method::{Lesson, Method};
use std::collections::{BTreeMap, HashMap};
use tafel_protocol::{CardKind, CardStatus, Language, Millis, Perspective, Role, SessionStatus};

/// The moment a command is applied or a view is made: the server's time, who is connected
/// (live connections per participant, kept by the room in memory only), and the server's
/// public address (the base of the join link).
#[derive(Debug, Clone, Copy)]
pub struct Moment<'a> {
    /// The server's time, in milliseconds since the epoch.
    pub now: Millis,
    /// Live connections per participant index.
    pub online: &'a [u32],
    /// Base of links, e.g. `http://192.168.1.20:8080`.
    pub public_url: &'a str,
}

impl Moment<'_> {
    /// Whether a participant has a live connection.
    pub fn is_online(&self, p: usize) -> bool {
        self.online.get(p).is_some_and(|n| *n > 0)
    }
}

/// The number of phases of the method (0–5).
pub const PHASES: u8 = 6;

/// The session's own fields.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
    /// For an example: where it comes from.
    pub source: Option<String>,
    /// For a lesson: what it is about.
    pub lesson_of: Option<Lesson>,
}

/// A voting round with its tallies.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
    /// The session key for pseudonyms (from storage, never in the document nor in a
    /// checkpoint).
    #[serde(skip)]
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
    /// Readiness, the table, criteria, experiments and reflections.
    pub method: Method,
}

pub use super::ids::{id, parse_id};

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
            method: Method::default(),
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
        let perspective = |p: usize| {
            self.participants
                .get(p)
                .map_or(Perspective::Anders, |x| x.perspective)
        };
        f(&People {
            counts: &counts,
            online: &is_online,
            held_until: &held_until,
            perspective: &perspective,
            len: self.participants.len(),
        })
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

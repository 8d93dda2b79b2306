//! What a batch of commands changed, so that each changed part of the room is sent once, to
//! each role as it may see it, and each person's own data to that person.
//!
//! A command marks what it touched; [`Session::patch`](super::Session::patch) turns the marks
//! into a role's [`Patch`](tafel_protocol::Patch), and the welcome's whole view is the same
//! function over every part ([`Changed::everything`]). So a delta can never show what the
//! welcome would not, and a new kind of record is one more [`Part`].

use std::collections::{BTreeMap, BTreeSet};

/// A part of a role's view. Records are sent entity by entity (by index); the session, the
/// floor and the rules are sent whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// The session's own fields.
    Session,
    /// Participants (joins and presence).
    Participants,
    /// Cards.
    Cards,
    /// Voting rounds (new votes included).
    Rounds,
    /// The floor: any event, or presence, which changes the queue and the balance.
    Floor,
    /// The ground rules and their counts.
    Rules,
    /// Reported violations (the facilitator's only).
    Reports,
    /// Readiness checks (counts only).
    Checks,
    /// Parties proposed for the table.
    Parties,
    /// Who is at the table: coverage per perspective (sent whole; it changes with presence).
    Table,
    /// Success criteria.
    Criteria,
    /// Experiments.
    Experiments,
    /// Reflection rounds.
    Reflections,
    /// Replay links (the facilitator's only).
    ReplayLinks,
}

impl Part {
    /// Every part, in the order a patch lists them.
    pub const ALL: [Part; 14] = [
        Part::Session,
        Part::Participants,
        Part::Cards,
        Part::Rounds,
        Part::Floor,
        Part::Rules,
        Part::Reports,
        Part::Checks,
        Part::Parties,
        Part::Table,
        Part::Criteria,
        Part::Experiments,
        Part::Reflections,
        Part::ReplayLinks,
    ];
}

/// What changed in one person's own data (their `you`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YourChange {
    /// Cards they wrote, in order.
    pub new_cards: Vec<usize>,
    /// Rounds in which their votes changed.
    pub votes: BTreeSet<usize>,
    /// Their floor or ground-rule data.
    pub floor: bool,
    /// Readiness checks they answered.
    pub answers: BTreeSet<usize>,
    /// Criteria they agreed or objected to.
    pub consents: BTreeSet<usize>,
    /// Reflection rounds they wrote in.
    pub reflections: BTreeSet<usize>,
}

/// The marks of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changed {
    /// Per part, the entities that changed (empty for a part sent whole).
    parts: BTreeMap<Part, BTreeSet<usize>>,
    /// Rounds whose totals changed and nothing else a role without the totals sees (a vote
    /// that did not change how many people voted): sent only to roles that see the totals, so
    /// a hidden round's progress cannot be counted vote by vote.
    tallies: BTreeSet<usize>,
    /// Per person, what changed in their own data.
    you: BTreeMap<usize, YourChange>,
}

impl Changed {
    /// One entity of a part changed.
    pub fn entity(&mut self, part: Part, index: usize) {
        self.parts.entry(part).or_default().insert(index);
    }

    /// A part that is sent whole changed.
    pub fn whole(&mut self, part: Part) {
        self.parts.entry(part).or_default();
    }

    /// Every part, with the given number of entities in each (the whole view).
    pub fn everything(len: impl Fn(Part) -> usize) -> Self {
        let parts = Part::ALL
            .into_iter()
            .map(|part| (part, (0..len(part)).collect()))
            .collect();
        Self {
            parts,
            tallies: BTreeSet::new(),
            you: BTreeMap::new(),
        }
    }

    /// Only a round's totals changed: the roles that see them get the round, the others
    /// nothing (unless something else marked the round whole).
    pub fn tally(&mut self, round: usize) {
        self.tallies.insert(round);
    }

    /// Rounds whose totals alone changed (not marked whole as well).
    pub fn tallies(&self) -> impl Iterator<Item = usize> + '_ {
        let whole = self.parts.get(&Part::Rounds);
        self.tallies
            .iter()
            .copied()
            .filter(move |r| !whole.is_some_and(|w| w.contains(r)))
    }

    /// A person wrote a card.
    pub fn your_card(&mut self, p: usize, card: usize) {
        self.you.entry(p).or_default().new_cards.push(card);
    }

    /// A person's votes in a round changed.
    pub fn your_votes(&mut self, p: usize, round: usize) {
        self.you.entry(p).or_default().votes.insert(round);
    }

    /// A person's floor or ground-rule data changed.
    pub fn your_floor(&mut self, p: usize) {
        self.you.entry(p).or_default().floor = true;
    }

    /// A person answered a readiness check.
    pub fn your_answers(&mut self, p: usize, check: usize) {
        self.you.entry(p).or_default().answers.insert(check);
    }

    /// A person agreed or objected to a criterion.
    pub fn your_consent(&mut self, p: usize, criterion: usize) {
        self.you.entry(p).or_default().consents.insert(criterion);
    }

    /// A person wrote a reflection.
    pub fn your_reflection(&mut self, p: usize, reflection: usize) {
        self.you
            .entry(p)
            .or_default()
            .reflections
            .insert(reflection);
    }

    /// A person came or went: who is present counts for the participants list, the round
    /// order, the balance and the table's coverage.
    pub fn presence(&mut self, p: usize) {
        self.entity(Part::Participants, p);
        self.whole(Part::Floor);
        self.whole(Part::Table);
    }

    /// The changed parts, each with its changed entities.
    pub fn parts(&self) -> impl Iterator<Item = (Part, &BTreeSet<usize>)> {
        self.parts.iter().map(|(part, ids)| (*part, ids))
    }

    /// Whether a part changed.
    pub fn has(&self, part: Part) -> bool {
        self.parts.contains_key(&part)
    }

    /// Whose own data changed, and how.
    pub fn you(&self) -> impl Iterator<Item = (usize, &YourChange)> {
        self.you.iter().map(|(p, c)| (*p, c))
    }

    /// True when nothing changed for anyone.
    pub fn is_empty(&self) -> bool {
        self.room_unchanged() && self.you.is_empty()
    }

    /// Whether nothing in the room's parts changed (own data aside).
    pub fn room_unchanged(&self) -> bool {
        self.parts.is_empty() && self.tallies.is_empty()
    }
}

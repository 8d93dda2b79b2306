//! The rules, checked on a real automerge record (no storage, no sockets).

use super::*;
use crate::session::changes::Changed;
use crate::session::doc;
use crate::session::record::Record;
use crate::session::state::Moment;
use tafel_protocol::{CardKind, Command as C, CreateSession, Language, Perspective, Stake};

mod fair;
mod floor;
pub(crate) mod fuzz;
mod method;
mod replay;

const F: Actor = Actor {
    role: Role::Facilitator,
    participant: Some(0),
};
const PROJECTOR: Actor = Actor {
    role: Role::Projector,
    participant: None,
};

struct Room {
    record: Record,
    now: Millis,
    n: u32,
    /// Live connections per participant, as the room counts them.
    online: Vec<u32>,
}

pub(super) fn participant(i: usize) -> Actor {
    Actor {
        role: Role::Participant,
        participant: Some(i),
    }
}

impl Room {
    fn new(anonymous_cards: bool) -> Self {
        let people = [
            ("Anna", Perspective::Medewerker),
            ("Bram", Perspective::Medewerker),
            ("Cato", Perspective::Medewerker),
        ];
        Self::with(anonymous_cards, &people)
    }

    /// A session with these participants (p1, p2, …) besides the facilitator (p0).
    fn with(anonymous_cards: bool, people: &[(&str, Perspective)]) -> Self {
        let req = CreateSession {
            title: "Regie".into(),
            problem: "Hoe?".into(),
            language: Language::Nl,
            anonymous_cards,
            facilitator_name: Some("Fee".into()),
        };
        let record = Record::create(&req, "K7QM2X".into(), 1, [7; 32]).unwrap();
        let mut r = Self {
            record,
            now: 1,
            n: 0,
            online: vec![1],
        };
        for (name, perspective) in people {
            r.now += 1;
            r.join(name, *perspective).unwrap();
        }
        r.now = 10;
        r
    }

    /// The moment now, as the room would give it.
    fn moment(&self) -> Moment<'_> {
        Moment {
            now: self.now,
            online: &self.online,
            public_url: "http://x",
        }
    }

    /// Someone joins (and is online).
    fn join(&mut self, name: &str, perspective: Perspective) -> Result<usize, CmdError> {
        let moment = Moment {
            now: self.now,
            online: &self.online,
            public_url: "http://x",
        };
        let new = self
            .record
            .join(name, perspective, &moment, &mut Changed::default())?;
        self.online.push(1);
        Ok(new.index)
    }

    /// The room's timer fires: whether a hard turn ended at its limit.
    fn limit_reached(&mut self) -> bool {
        self.limit_step().0
    }

    /// [`Room::limit_reached`], also returning what it marked.
    fn limit_step(&mut self) -> (bool, Changed) {
        let mut changed = Changed::default();
        let moment = Moment {
            now: self.now,
            online: &self.online,
            public_url: "http://x",
        };
        let ended = self
            .record
            .limit_reached(&moment, &mut changed)
            .expect("the turn limit never fails");
        (ended, changed)
    }

    fn run(&mut self, actor: Actor, cmd: C) -> Result<AckResult, Refusal> {
        self.step(actor, &cmd).0
    }

    /// Runs a command once; its answer and what it marked.
    fn step(&mut self, actor: Actor, cmd: &C) -> (Result<AckResult, Refusal>, Changed) {
        self.now += 1;
        self.n += 1;
        let id = format!("c{}", self.n);
        let mut changed = Changed::default();
        let moment = Moment {
            now: self.now,
            online: &self.online,
            public_url: "http://x",
        };
        let result = self.record.command(actor, &id, cmd, &moment, &mut changed);
        let result = result.map(|a| a.ack).map_err(|e| {
            assert!(matches!(e, CmdError::Refused(_)), "{cmd:?} failed: {e}");
            e.refusal()
        });
        (result, changed)
    }

    /// Runs a command and checks the record's promise: a refused command changes nothing (not
    /// the document, not the state, and marks nothing to send), an accepted one is exactly one
    /// change.
    fn checked(&mut self, actor: Actor, cmd: &C) -> Result<AckResult, Refusal> {
        self.checked_step(actor, cmd).0
    }

    /// [`Room::checked`], also returning what the command marked.
    fn checked_step(&mut self, actor: Actor, cmd: &C) -> (Result<AckResult, Refusal>, Changed) {
        let heads = self.record.heads();
        let state = self.record.state.clone();
        let (result, changed) = self.step(actor, cmd);
        match &result {
            Err(e) => {
                assert_ne!(e.code, ErrorCode::Internal, "{cmd:?} failed: {e}");
                assert_eq!(
                    self.record.heads(),
                    heads,
                    "a refused {cmd:?} changed the document"
                );
                assert_eq!(
                    self.record.state, state,
                    "a refused {cmd:?} changed the state"
                );
                assert!(
                    changed.is_empty(),
                    "a refused {cmd:?} marked {changed:?} as changed"
                );
            }
            Ok(_) => assert_eq!(
                self.record.doc.get_changes(&heads).len(),
                1,
                "an accepted {cmd:?} is exactly one change"
            ),
        }
        (result, changed)
    }

    fn ok(&mut self, actor: Actor, cmd: C) -> AckResult {
        self.run(actor, cmd.clone())
            .unwrap_or_else(|e| panic!("{cmd:?} refused: {e}"))
    }

    /// Refused, and nothing changed in the document or in memory.
    fn refused(&mut self, actor: Actor, cmd: C) -> ErrorCode {
        self.checked(actor, &cmd)
            .expect_err(&format!("{cmd:?} was accepted"))
            .code
    }

    /// The saved document, opened anew, gives the same state, every role the same view, and
    /// the same count of changes.
    /// Opening the document from `snapshot` (taken at `heads`, with its checkpoint) and the
    /// changes after it gives the same record as the live one, through the checkpoint.
    fn assert_restores(&self, snapshot: &[u8], heads: &[automerge::ChangeHash]) {
        let after = self.record.doc.save_after(heads);
        let (checkpoint, _) = doc::split_snapshot(snapshot);
        let checkpoint = checkpoint.expect("a snapshot carries its checkpoint");
        let (document, _) = doc::load(snapshot, &after).unwrap();
        let restored = crate::session::checkpoint::restore(&document, checkpoint, [7; 32])
            .unwrap()
            .expect("the checkpoint is used");
        assert_eq!(
            restored.state, self.record.state,
            "the restored state differs"
        );
        assert_eq!(restored.seq, self.record.seq());
        assert_eq!(&restored.answers, self.record.answers());
        let opened = Record::from_checkpoint(document, [7; 32], Some(checkpoint)).unwrap();
        assert_eq!(opened.state, self.record.state);
    }

    fn assert_hydrates(&self) {
        let reloaded = Record::open(&self.record.doc.save(), &[], [7; 32]).unwrap();
        assert_eq!(
            reloaded.state, self.record.state,
            "the reloaded state differs"
        );
        assert_eq!(reloaded.seq(), self.record.seq());
        for role in [Role::Facilitator, Role::Participant, Role::Projector] {
            assert_eq!(
                reloaded.view(role, &self.moment()),
                self.record.view(role, &self.moment()),
                "{role:?} sees another room after a reload"
            );
        }
    }

    fn add(&mut self, who: Actor, text: &str) -> String {
        self.ok(
            who,
            C::AddCard {
                text: text.into(),
                kind: CardKind::Idea,
                builds_on: None,
                source: None,
                lesson_of: None,
            },
        )
        .card
        .unwrap()
    }
}

fn open_round(budget: u32, max_per_card: u32) -> C {
    C::OpenRound {
        phase: None,
        budget,
        max_per_card,
        live: false,
    }
}

#[test]
fn participants_cannot_give_facilitator_commands() {
    let mut r = Room::new(false);
    let k = r.add(participant(1), "Idee");
    let facilitator_only = [
        C::HideCard { card: k.clone() },
        C::RestoreCard { card: k.clone() },
        C::MergeCards {
            card: k.clone(),
            into: k.clone(),
        },
        C::SetPhase { phase: 2 },
        open_round(5, 3),
        C::CloseRound { round: "r1".into() },
        C::Lock,
        C::Unlock,
        C::End,
    ];
    for cmd in facilitator_only {
        assert_eq!(
            r.refused(participant(2), cmd.clone()),
            ErrorCode::Forbidden,
            "{cmd:?}"
        );
        assert_eq!(r.refused(PROJECTOR, cmd), ErrorCode::Forbidden);
    }
}

#[test]
fn the_projector_cannot_add_or_vote() {
    let mut r = Room::new(false);
    let k = r.add(participant(1), "Idee");
    assert_eq!(
        r.refused(
            PROJECTOR,
            C::AddCard {
                text: "x".into(),
                kind: CardKind::Note,
                builds_on: None,
                source: None,
                lesson_of: None,
            }
        ),
        ErrorCode::Forbidden
    );
    let round = r.ok(F, open_round(5, 3)).round.unwrap();
    assert_eq!(
        r.refused(PROJECTOR, C::Vote { round, card: k }),
        ErrorCode::Forbidden
    );
}

#[test]
fn only_the_author_edits_or_withdraws_a_card() {
    let mut r = Room::new(false);
    let k = r.add(participant(1), "Eerste versie");
    assert_eq!(
        r.refused(
            participant(2),
            C::EditCard {
                kind: None,
                card: k.clone(),
                text: "Gekaapt".into()
            }
        ),
        ErrorCode::Forbidden
    );
    assert_eq!(
        r.refused(
            F,
            C::EditCard {
                kind: None,
                card: k.clone(),
                text: "Ook niet".into()
            }
        ),
        ErrorCode::Forbidden
    );
    assert_eq!(
        r.refused(participant(2), C::WithdrawCard { card: k.clone() }),
        ErrorCode::Forbidden
    );
    r.ok(
        participant(1),
        C::EditCard {
            kind: None,
            card: k.clone(),
            text: "  Tweede versie ".into(),
        },
    );
    let view = r.record.state.card_view(0, Role::Participant);
    assert_eq!(view.text.as_deref(), Some("Tweede versie"));
    assert!(view.edited_at.is_some());
    r.ok(participant(1), C::WithdrawCard { card: k.clone() });
    assert_eq!(
        r.record.state.card_view(0, Role::Facilitator).text,
        None,
        "nobody sees a withdrawn card's text"
    );
    assert_eq!(
        r.refused(
            participant(1),
            C::EditCard {
                kind: None,
                card: k,
                text: "terug".into()
            }
        ),
        ErrorCode::CardUnavailable
    );
}

#[test]
fn an_author_changes_a_cards_kind_while_editing_but_an_example_keeps_its_source() {
    let mut r = Room::new(false);
    let k = r.add(participant(1), "Een probleem, eigenlijk");
    r.ok(
        participant(1),
        C::EditCard {
            card: k.clone(),
            text: "Een probleem, eigenlijk".into(),
            kind: Some(CardKind::Problem),
        },
    );
    let view = r.record.state.card_view(0, Role::Participant);
    assert_eq!(view.kind, CardKind::Problem);
    let example = r
        .ok(
            participant(1),
            C::AddCard {
                text: "Zo doen ze het in Zwolle".into(),
                kind: CardKind::Example,
                builds_on: None,
                source: Some("Zorggroep Zwolle".into()),
                lesson_of: None,
            },
        )
        .card
        .unwrap();
    assert_eq!(
        r.refused(
            participant(1),
            C::EditCard {
                card: example.clone(),
                text: "Zo doen ze het".into(),
                kind: Some(CardKind::Idea),
            }
        ),
        ErrorCode::Invalid
    );
    assert_eq!(
        r.record
            .state
            .card_view(1, Role::Participant)
            .text
            .as_deref(),
        Some("Zo doen ze het in Zwolle"),
        "a refused edit changes nothing"
    );
    // Its own kind again is no change of kind: allowed.
    r.ok(
        participant(1),
        C::EditCard {
            card: example,
            text: "Zo doen ze het".into(),
            kind: Some(CardKind::Example),
        },
    );
    r.assert_hydrates();
}

#[test]
fn anonymous_cards_hide_the_author_yet_the_author_can_edit() {
    let mut r = Room::new(true);
    let k = r.add(participant(1), "Anoniem idee");
    for role in [Role::Participant, Role::Facilitator, Role::Projector] {
        assert_eq!(r.record.state.card_view(0, role).author, None);
    }
    assert_eq!(
        r.record.state.you(Role::Participant, Some(1)).cards,
        vec![k.clone()],
        "the author still knows"
    );
    assert!(
        r.record
            .state
            .you(Role::Participant, Some(2))
            .cards
            .is_empty()
    );
    r.ok(
        participant(1),
        C::EditCard {
            kind: None,
            card: k.clone(),
            text: "Beter idee".into(),
        },
    );
    assert_eq!(
        r.refused(
            participant(2),
            C::EditCard {
                kind: None,
                card: k,
                text: "x".into()
            }
        ),
        ErrorCode::Forbidden
    );

    // The document itself holds no plain author id for the card.
    let hydrated = automerge::AutoCommit::load(&r.record.doc.save()).unwrap();
    let card_author = {
        let (_, cards) = automerge::ReadDoc::get(&hydrated, automerge::ROOT, "cards")
            .unwrap()
            .unwrap();
        let (_, card) = automerge::ReadDoc::get(&hydrated, &cards, "k1")
            .unwrap()
            .unwrap();
        // Its fields as it was made, one JSON object.
        let init = automerge::ReadDoc::get(&hydrated, &card, "init")
            .unwrap()
            .unwrap()
            .0
            .as_str()
            .unwrap()
            .to_owned();
        let init: serde_json::Value = serde_json::from_str(&init).unwrap();
        init["author"].as_str().unwrap().to_owned()
    };
    assert!(
        card_author.contains('~'),
        "stored author is a pseudonym: {card_author}"
    );
    assert!(!card_author.contains("p2"));
}

#[test]
fn text_lengths_are_counted_in_characters_after_trimming() {
    let mut r = Room::new(false);
    let add = |text: String| C::AddCard {
        text,
        kind: CardKind::Problem,
        builds_on: None,
        source: None,
        lesson_of: None,
    };
    assert_eq!(
        r.refused(participant(1), add("   ".into())),
        ErrorCode::Invalid
    );
    assert_eq!(
        r.refused(participant(1), add("x".repeat(501))),
        ErrorCode::Invalid
    );
    r.ok(participant(1), add("ë".repeat(500)));
    r.ok(participant(1), add(format!("  {}  ", "y".repeat(500))));
}

#[test]
fn names_must_show_and_keep_their_direction_while_cards_may_mix_directions() {
    let mut r = Room::new(false);
    for name in [
        "\u{200b}",
        "\u{200d}\u{200c}",
        "Anna\u{202e}",
        "\u{2067}Jan",
    ] {
        let refused = r.join(name, Perspective::Client).unwrap_err();
        assert!(
            matches!(refused, CmdError::Refused(ref e) if e.code == ErrorCode::Invalid),
            "{name:?}: {refused:?}"
        );
    }
    assert_eq!(
        r.refused(
            participant(1),
            C::ProposeParty {
                name: "Cliënt\u{202e}enraad".into(),
                perspective: Perspective::Client,
                stake: Stake::Both,
            }
        ),
        ErrorCode::Invalid
    );
    let add = |text: &str| C::AddCard {
        text: text.into(),
        kind: CardKind::Problem,
        builds_on: None,
        source: None,
        lesson_of: None,
    };
    assert_eq!(
        r.refused(participant(1), add("\u{200b}\u{feff}")),
        ErrorCode::Invalid
    );
    assert_eq!(
        r.refused(participant(1), add("a\u{1b}[2J")),
        ErrorCode::Invalid
    );
    // A card may hold a direction control: every screen shows it isolated.
    let card = r.add(participant(1), "zie \u{202e}hier");
    assert!(card.starts_with('k'));
}

#[test]
fn voting_keeps_budget_and_per_card_limits() {
    let mut r = Room::new(false);
    let a = r.add(participant(1), "A");
    let b = r.add(participant(2), "B");
    let round = r.ok(F, open_round(4, 2)).round.unwrap();
    let vote = |card: &str| C::Vote {
        round: round.clone(),
        card: card.into(),
    };
    let unvote = |card: &str| C::Unvote {
        round: round.clone(),
        card: card.into(),
    };
    let p = participant(3);
    r.ok(p, vote(&a));
    r.ok(p, vote(&a));
    assert_eq!(r.refused(p, vote(&a)), ErrorCode::CardLimit);
    r.ok(p, vote(&b));
    r.ok(p, vote(&b));
    assert_eq!(r.refused(p, vote(&b)), ErrorCode::OverBudget);
    r.ok(p, unvote(&b));
    assert_eq!(
        r.record.state.you(Role::Participant, Some(3)).votes[0].remaining,
        1
    );
    r.ok(p, vote(&b));
    assert_eq!(
        r.refused(participant(1), unvote(&a)),
        ErrorCode::NoVote,
        "nobody takes back another's vote"
    );
    assert_eq!(
        r.refused(
            p,
            C::Vote {
                round: round.clone(),
                card: "k99".into()
            }
        ),
        ErrorCode::UnknownCard
    );
    assert_eq!(
        r.refused(
            p,
            C::Vote {
                round: "r9".into(),
                card: a.clone()
            }
        ),
        ErrorCode::UnknownRound
    );
    assert_eq!(
        r.refused(F, open_round(5, 3)),
        ErrorCode::RoundOpen,
        "one round at a time"
    );
    r.ok(F, C::HideCard { card: a.clone() });
    assert_eq!(
        r.refused(participant(1), vote(&a)),
        ErrorCode::CardUnavailable,
        "no new votes on a hidden card"
    );
}

#[test]
fn totals_are_hidden_until_the_round_closes_unless_live() {
    let mut r = Room::new(false);
    let a = r.add(participant(1), "A");
    let b = r.add(participant(1), "B");
    let round = r.ok(F, open_round(5, 3)).round.unwrap();
    r.ok(
        participant(2),
        C::Vote {
            round: round.clone(),
            card: b.clone(),
        },
    );
    r.ok(
        participant(3),
        C::Vote {
            round: round.clone(),
            card: b.clone(),
        },
    );
    r.ok(
        participant(3),
        C::Vote {
            round: round.clone(),
            card: a.clone(),
        },
    );
    for role in [Role::Participant, Role::Projector] {
        let v = r.record.state.round_view(0, role);
        assert_eq!(v.results, None, "{role:?} sees no totals while open");
        assert_eq!(v.voters, 2, "{role:?} sees progress");
    }
    assert!(
        r.record
            .state
            .round_view(0, Role::Facilitator)
            .results
            .is_some()
    );
    r.ok(
        F,
        C::CloseRound {
            round: round.clone(),
        },
    );
    let results = r
        .record
        .state
        .round_view(0, Role::Projector)
        .results
        .unwrap();
    assert_eq!(
        results
            .iter()
            .map(|t| (t.card.as_str(), t.votes))
            .collect::<Vec<_>>(),
        vec![("k2", 2), ("k1", 1)]
    );
    assert_eq!(
        r.refused(
            participant(2),
            C::Vote {
                round: round.clone(),
                card: a
            }
        ),
        ErrorCode::RoundClosed
    );
    assert_eq!(
        r.refused(F, C::CloseRound { round }),
        ErrorCode::RoundClosed
    );

    r.ok(
        F,
        C::OpenRound {
            phase: None,
            budget: 3,
            max_per_card: 3,
            live: true,
        },
    );
    assert!(
        r.record
            .state
            .round_view(1, Role::Participant)
            .results
            .is_some(),
        "live rounds show totals"
    );
}

#[test]
fn rounds_take_the_visible_cards_of_the_phase() {
    let mut r = Room::new(false);
    let a = r.add(participant(1), "fase 0");
    r.ok(F, C::SetPhase { phase: 2 });
    let b = r.add(participant(1), "fase 2");
    let c = r.add(participant(2), "verborgen");
    r.ok(F, C::HideCard { card: c.clone() });
    assert_eq!(
        r.refused(
            F,
            C::OpenRound {
                phase: Some(4),
                budget: 5,
                max_per_card: 3,
                live: false
            }
        ),
        ErrorCode::Invalid
    );
    assert_eq!(
        r.refused(
            F,
            C::OpenRound {
                phase: None,
                budget: 0,
                max_per_card: 1,
                live: false
            }
        ),
        ErrorCode::Invalid
    );
    assert_eq!(
        r.refused(
            F,
            C::OpenRound {
                phase: None,
                budget: 2,
                max_per_card: 3,
                live: false
            }
        ),
        ErrorCode::Invalid
    );
    r.ok(F, open_round(5, 3));
    assert_eq!(r.record.state.rounds[0].cards, vec![1]);
    assert_eq!(
        r.refused(
            participant(3),
            C::Vote {
                round: "r1".into(),
                card: a
            }
        ),
        ErrorCode::UnknownCard
    );
    assert_eq!(
        r.refused(
            F,
            C::MergeCards {
                card: c,
                into: b.clone()
            }
        ),
        ErrorCode::RoundOpen
    );
    assert_eq!(
        r.refused(
            participant(1),
            C::EditCard {
                kind: None,
                card: b,
                text: "x".into()
            }
        ),
        ErrorCode::RoundOpen
    );
}

#[test]
fn facilitator_hides_restores_and_merges() {
    let mut r = Room::new(false);
    let a = r.add(participant(1), "Dubbel");
    let b = r.add(participant(2), "Dubbel ook");
    r.ok(F, C::HideCard { card: a.clone() });
    assert_eq!(r.record.state.card_view(0, Role::Participant).text, None);
    assert_eq!(
        r.record
            .state
            .card_view(0, Role::Facilitator)
            .text
            .as_deref(),
        Some("Dubbel")
    );
    assert_eq!(
        r.refused(F, C::HideCard { card: a.clone() }),
        ErrorCode::CardUnavailable
    );
    r.ok(F, C::RestoreCard { card: a.clone() });
    assert_eq!(
        r.refused(
            F,
            C::MergeCards {
                card: a.clone(),
                into: a.clone()
            }
        ),
        ErrorCode::Invalid
    );
    r.ok(
        F,
        C::MergeCards {
            card: b.clone(),
            into: a.clone(),
        },
    );
    let merged = r.record.state.card_view(1, Role::Participant);
    assert_eq!(
        (merged.status, merged.merged_into.as_deref()),
        (CardStatus::Merged, Some("k1"))
    );
    assert_eq!(
        r.refused(F, C::MergeCards { card: a, into: b }),
        ErrorCode::CardUnavailable
    );
}

#[test]
fn a_merge_is_undone_and_the_card_is_back_on_its_own() {
    let mut r = Room::new(false);
    let a = r.add(participant(1), "Roosters");
    let b = r.add(participant(2), "Het rooster");
    assert_eq!(
        r.refused(F, C::UnmergeCard { card: b.clone() }),
        ErrorCode::CardUnavailable,
        "a card that is not merged"
    );
    r.ok(
        F,
        C::MergeCards {
            card: b.clone(),
            into: a.clone(),
        },
    );
    assert_eq!(
        r.refused(participant(2), C::UnmergeCard { card: b.clone() }),
        ErrorCode::Forbidden
    );
    r.ok(F, C::UnmergeCard { card: b.clone() });
    let back = r.record.state.card_view(1, Role::Participant);
    assert_eq!(
        (back.status, back.merged_into, back.text.as_deref()),
        (CardStatus::Visible, None, Some("Het rooster"))
    );
    r.assert_hydrates();
}

#[test]
fn a_refusal_names_the_field_it_is_about() {
    let mut r = Room::new(false);
    let field = |r: &mut Room, cmd: C| r.checked(F, &cmd).expect_err("accepted").field;
    assert_eq!(
        field(&mut r, open_round(5, 3)),
        Some("cards"),
        "no cards yet"
    );
    r.add(participant(1), "Een kaart");
    assert_eq!(field(&mut r, open_round(0, 1)), Some("budget"));
    assert_eq!(field(&mut r, open_round(2, 3)), Some("max_per_card"));
    assert_eq!(field(&mut r, C::SetPhase { phase: 9 }), Some("phase"));
}

#[test]
fn in_a_hidden_round_only_the_facilitator_hears_of_every_vote() {
    let mut r = Room::new(false);
    let a = r.add(participant(1), "A");
    let b = r.add(participant(1), "B");
    r.ok(F, open_round(5, 3));
    let vote = |card: &str| C::Vote {
        round: "r1".into(),
        card: card.into(),
    };
    let rounds = |r: &Room, changed: &Changed, role: Role| {
        r.record
            .state
            .patch(changed, role, &r.moment())
            .rounds
            .len()
    };
    // A first vote changes how many people voted: everyone hears of it.
    let (_, first) = r.checked_step(participant(2), &vote(&a));
    for role in [Role::Facilitator, Role::Participant, Role::Projector] {
        assert_eq!(rounds(&r, &first, role), 1, "{role:?}");
    }
    // A second vote by the same person changes only the totals.
    let (_, second) = r.checked_step(participant(2), &vote(&b));
    assert_eq!(rounds(&r, &second, Role::Facilitator), 1);
    assert_eq!(rounds(&r, &second, Role::Participant), 0);
    assert_eq!(rounds(&r, &second, Role::Projector), 0);
    assert!(
        r.record
            .state
            .patch(&second, Role::Projector, &r.moment())
            .is_empty(),
        "the projector gets no delta for it at all"
    );
    // Taking back every vote changes the number again.
    let unvote = |card: &str| C::Unvote {
        round: "r1".into(),
        card: card.into(),
    };
    let (_, _) = r.checked_step(participant(2), &unvote(&a));
    let (_, last) = r.checked_step(participant(2), &unvote(&b));
    assert_eq!(rounds(&r, &last, Role::Projector), 1);
    assert_eq!(r.record.state.round_view(0, Role::Projector).voters, 0);
}

#[test]
fn an_ended_session_refuses_everything_and_closes_its_round() {
    let mut r = Room::new(false);
    let a = r.add(participant(1), "A");
    r.ok(F, open_round(5, 3));
    r.ok(F, C::Lock);
    r.ok(
        participant(2),
        C::Vote {
            round: "r1".into(),
            card: a.clone(),
        },
    );
    r.ok(F, C::End);
    assert!(!r.record.state.rounds[0].is_open());
    assert_eq!(
        r.refused(
            participant(1),
            C::AddCard {
                text: "laat".into(),
                kind: CardKind::Idea,
                builds_on: None,
                source: None,
                lesson_of: None,
            }
        ),
        ErrorCode::SessionEnded
    );
    assert_eq!(r.refused(F, C::Unlock), ErrorCode::SessionEnded);
    assert_eq!(
        r.refused(F, C::SetPhase { phase: 1 }),
        ErrorCode::SessionEnded
    );
    // What is shared afterwards can still change: a replay link made and revoked, the report
    // shared. Only by the facilitator.
    let link = r.ok(F, C::ReplayLink).replay_link.expect("a replay link");
    r.ok(F, C::RevokeReplay { link });
    r.ok(F, C::ShareReport { share: true });
    assert!(r.record.state.method.share_report);
    assert_eq!(
        r.refused(participant(1), C::ShareReport { share: false }),
        ErrorCode::Forbidden
    );
}

#[test]
fn a_command_that_changes_nothing_is_still_recorded() {
    let mut r = Room::new(false);
    r.ok(F, C::Lock);
    let before = r.record.heads();
    r.ok(F, C::Lock);
    r.ok(F, C::SetPhase { phase: 0 });
    assert_ne!(
        r.record.heads(),
        before,
        "each acknowledged command is a change"
    );
    let messages = doc::messages(&r.record.doc);
    assert_eq!(messages.iter().filter(|m| m.cmd == "lock").count(), 2);
    assert_eq!(messages.last().map(|m| m.cmd.as_str()), Some("set_phase"));
}

#[test]
fn unknown_ids_are_refused_cleanly() {
    let mut r = Room::new(false);
    for bad in ["", "k", "k0", "x1", "k1", "k18446744073709551616"] {
        assert_eq!(
            r.refused(
                participant(1),
                C::EditCard {
                    kind: None,
                    card: bad.into(),
                    text: "t".into()
                }
            ),
            ErrorCode::UnknownCard
        );
    }
    assert_eq!(
        r.refused(F, C::CloseRound { round: "r1".into() }),
        ErrorCode::UnknownRound
    );
    assert_eq!(r.refused(F, C::SetPhase { phase: 6 }), ErrorCode::Invalid);
}

/// A new card is one operation in the document (each costs the room tens of microseconds);
/// the first later change of it makes it a map, and it reads the same either way.
#[test]
fn a_new_card_is_one_operation_until_it_changes() {
    let mut r = Room::new(false);
    let heads = r.record.heads();
    let k = r.add(participant(1), "Meer tijd");
    let made = r.record.doc.get_changes(&heads);
    assert_eq!(
        (made.len(), made[0].len()),
        (1, 1),
        "one change, one operation"
    );
    let heads = r.record.heads();
    r.ok(F, C::HideCard { card: k.clone() });
    let hidden = r.record.doc.get_changes(&heads);
    assert_eq!(
        hidden[0].len(),
        3,
        "the map, the fields it was made with, the status"
    );
    r.assert_hydrates();
    assert_eq!(r.record.state.cards[0].status, CardStatus::Hidden);
    assert_eq!(r.record.state.cards[0].text, "Meer tijd");
}

/// The raw export of `doc`, loaded, and its first card's object in it.
fn exported_first_card(doc: &automerge::Automerge) -> (automerge::Automerge, automerge::ObjId) {
    let plain = crate::session::export::raw(doc).unwrap();
    let plain = automerge::Automerge::load(&plain).unwrap();
    let (_, cards) = automerge::ReadDoc::get(&plain, automerge::ROOT, "cards")
        .unwrap()
        .unwrap();
    let (_, first) = automerge::ReadDoc::get(&plain, &cards, "k1")
        .unwrap()
        .unwrap();
    (plain, first)
}

/// Until records were made in one operation, each was a map from the start, its fields as JSON
/// under `init`. A session stored that way (by 9c7d924: a busy room, edits, a merge, votes, a
/// closed round, turns, then 1,200 random steps until it ended) opens, replays and exports as
/// it was.
#[test]
fn a_session_stored_with_records_as_init_maps_opens_as_it_was() {
    let bytes = include_bytes!("../../../testdata/records-in-init-maps.automerge");
    let mut was: crate::session::state::Session =
        serde_json::from_str(include_str!("../../../testdata/records-in-init-maps.json")).unwrap();
    // The pseudonym key is never written out.
    was.key = [7; 32];
    assert!(was.cards.iter().any(|c| c.edited_at.is_some()));
    assert!(was.cards.iter().any(|c| c.merged_into.is_some()));
    assert!(was.vote_records > 0 && was.floor.events > 0);
    let opened = Record::open(bytes, &[], [7; 32]).unwrap();
    assert_eq!(opened.state, was, "opened");
    let doc = automerge::Automerge::load(bytes).unwrap();
    let replay = crate::session::Replay::new(&doc, [7; 32]).unwrap();
    assert_eq!(replay.state_after(replay.len()).unwrap(), was, "replayed");
    let (plain, first) = exported_first_card(&doc);
    let text = automerge::ReadDoc::get(&plain, &first, "text").unwrap();
    assert_eq!(text.unwrap().0.as_str(), Some("Meer tijd"), "exported");
}

/// The typed state must always equal what the document says: run a script of every command,
/// then rebuild from the saved bytes and compare every role's view.
#[test]
fn a_document_with_every_field_as_its_own_key_reads_the_same() {
    // Documents written before records kept their fields in `init` hold each field as a key of
    // its own, as the raw export still writes them. Participants and cards, with their edits
    // and merges (nothing here carries a pseudonym, which the export replaces by an alias).
    let mut r = Room::new(false);
    let a = r.add(participant(1), "A");
    let b = r.add(participant(2), "B");
    r.ok(
        participant(1),
        C::EditCard {
            card: a.clone(),
            text: "A2".into(),
            kind: Some(CardKind::Problem),
        },
    );
    r.ok(F, C::HideCard { card: a.clone() });
    r.ok(F, C::RestoreCard { card: a.clone() });
    r.ok(F, C::MergeCards { card: a, into: b });
    let (plain, first) = exported_first_card(&r.record.doc);
    assert!(
        automerge::ReadDoc::get(&plain, &first, "init")
            .unwrap()
            .is_none()
            && automerge::ReadDoc::get(&plain, &first, "kind")
                .unwrap()
                .is_some(),
        "the export writes plain keys"
    );
    let read = crate::session::fold::hydrate(&plain, r.record.state.key).unwrap();
    assert_eq!(read.cards, r.record.state.cards);
    assert_eq!(read.participants, r.record.state.participants);
}

#[test]
fn hydrating_the_saved_document_gives_the_same_state() {
    for anonymous in [false, true] {
        let mut r = Room::new(anonymous);
        let a = r.add(participant(1), "A");
        let b = r.add(participant(2), "B");
        let c = r
            .ok(
                participant(3),
                C::AddCard {
                    text: "C".into(),
                    kind: CardKind::Condition,
                    builds_on: Some(a.clone()),
                    source: None,
                    lesson_of: None,
                },
            )
            .card
            .unwrap();
        r.ok(
            participant(1),
            C::EditCard {
                kind: None,
                card: a.clone(),
                text: "A2".into(),
            },
        );
        r.ok(F, C::HideCard { card: c.clone() });
        r.ok(F, C::RestoreCard { card: c.clone() });
        let d = r.add(participant(2), "D");
        r.ok(
            F,
            C::MergeCards {
                card: d,
                into: b.clone(),
            },
        );
        r.ok(F, C::SetPhase { phase: 0 });
        let round = r.ok(F, open_round(5, 2)).round.unwrap();
        r.ok(
            participant(1),
            C::Vote {
                round: round.clone(),
                card: b.clone(),
            },
        );
        r.ok(
            participant(2),
            C::Vote {
                round: round.clone(),
                card: b.clone(),
            },
        );
        r.ok(
            participant(2),
            C::Unvote {
                round: round.clone(),
                card: b.clone(),
            },
        );
        r.ok(
            participant(3),
            C::Vote {
                round: round.clone(),
                card: c.clone(),
            },
        );
        r.ok(F, C::CloseRound { round });
        r.ok(F, C::SetPhase { phase: 3 });
        floor::script(&mut r);
        r.ok(F, C::Lock);
        let e = r.add(participant(3), "E");
        r.ok(participant(3), C::WithdrawCard { card: e });
        r.ok(F, C::End);

        r.online = vec![0, 1, 0, 1];
        r.assert_hydrates();
        let reloaded = automerge::Automerge::load(&r.record.doc.save()).unwrap();
        let messages = doc::messages(&reloaded);
        assert_eq!(messages.first().map(|m| m.cmd.as_str()), Some("create"));
        assert_eq!(messages.iter().filter(|m| m.cmd == "vote").count(), 3);
        assert!(
            messages
                .iter()
                .all(|m| m.by.as_deref().is_none_or(|b| b.starts_with('~'))),
            "givers are pseudonyms"
        );
    }
}

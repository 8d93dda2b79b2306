//! Property tests: arbitrary commands from arbitrary actors, in arbitrary order, with the clock,
//! the room's turn-limit timer, presence and joins in between, run against a real record.
//!
//! After every step: nothing panicked, a refused command changed nothing (document, state, or
//! what is marked to send), an accepted one is exactly one change, every role's view and
//! everyone's own data can be made and encoded. After the whole sequence: the saved document
//! hydrates to the state in memory, and its history gives back every acknowledged answer.
//!
//! The strategies are shared with the decoding tests in `connection.rs`.

use super::*;
use crate::session::changes::Part;
use crate::session::doc::ChangeMessage;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use std::ops::RangeInclusive;
use tafel_protocol::{
    Answer, Assessment, Conclusion, Consequence, Decision, ExperimentChange, ExperimentStatus,
    FloorPreset, FloorSettingsChange, HandKind, LessonOf, LimitMode, Outcome, PartyStatus,
    QueueOrder, ReadinessAnswers, Stake, floor_limits, limits,
};
use tafel_protocol::{View, You};

/// Ids that are almost right; `#` stands for the prefix.
const NEAR_IDS: &[&str] = &[
    "",
    "#",
    "#0",
    "#+1",
    "#01",
    "#-1",
    "# 1",
    "#1 ",
    "#1.0",
    "#1e1",
    "#0x1",
    "#١",
    "#１",
    "#1\0",
    "#\u{200b}1",
    "#18446744073709551615",
    "#18446744073709551616",
    "#99999999999999999999999999",
];

/// An id of the given kind (`'k'`): mostly one that may exist (1 to `max`), sometimes one of
/// another kind, almost right, or anything at all.
pub(crate) fn id(prefix: char, max: usize) -> BoxedStrategy<String> {
    prop_oneof![
        // The first few exist most often.
        8 => prop_oneof![Just(1), 1..=max].prop_map(move |n| format!("{prefix}{n}")),
        1 => (select(&['p', 'k', 'r', 'g', 'x', 't', 'v', 'a', 'f', 'q', 's', 'c', 'e', 'y', 'l', 'K', 'P'][..]), 0..=4usize)
            .prop_map(|(c, n)| format!("{c}{n}")),
        2 => select(NEAR_IDS).prop_map(move |s| s.replace('#', &prefix.to_string())),
        1 => ".{0,30}",
    ]
    .boxed()
}

/// A text: ordinary, empty, only whitespace, any printable Unicode, control characters, or
/// right at (and past) the limits, in one- and multi-byte characters, perhaps padded.
pub(crate) fn text() -> BoxedStrategy<String> {
    let at_limits = (
        select(
            &[
                39usize, 40, 41, 119, 120, 199, 200, 201, 279, 280, 281, 499, 500, 501, 2001,
            ][..],
        ),
        select(&["x", "ë", "🙂", "e\u{301}", "\u{200b}"][..]),
    )
        .prop_map(|(n, c)| c.repeat(n));
    let inner = prop_oneof![
        6 => "[a-zA-Z ]{1,20}",
        1 => Just(String::new()),
        1 => "[ \t\n\r\u{a0}\u{2003}\u{3000}]{1,8}",
        2 => "\\PC{0,40}",
        2 => "[\\x00-\\x1f\\x7f\u{200b}\u{202e}\u{feff}\u{fffd}a ]{0,16}",
        2 => at_limits,
        1 => any::<String>(),
    ];
    (inner, any::<bool>())
        .prop_map(|(t, pad)| if pad { format!("  {t}\n") } else { t })
        .boxed()
}

/// A number in `range`, just outside it, or anything.
fn number(range: RangeInclusive<u32>) -> impl Strategy<Value = u32> {
    let (lo, hi) = (
        range.start().saturating_sub(1),
        range.end().saturating_add(1),
    );
    prop_oneof![
        6 => lo..=hi,
        1 => select(&[0, 1, u32::MAX, u32::MAX - 1, 1 << 31][..]),
        1 => any::<u32>(),
    ]
}

/// A fair-share factor as JSON can carry it: tenths in and around the range, odd decimals,
/// zero, negative, huge.
fn fair_share() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => (-5i32..=110).prop_map(|n| f64::from(n) / 10.0),
        1 => select(&[0.0, -0.0, 0.95, 0.999, 1.05, 9.94, 9.96, 10.04, 10.05, 1e300, -1e300][..]),
        1 => (0u32..=1_000_000).prop_map(|n| f64::from(n) / 1000.0),
    ]
}

fn phase() -> impl Strategy<Value = u8> {
    prop_oneof![6 => 0u8..=6, 1 => any::<u8>()]
}

fn card_kind() -> impl Strategy<Value = CardKind> {
    select(
        &[
            CardKind::Problem,
            CardKind::Question,
            CardKind::Idea,
            CardKind::Example,
            CardKind::Condition,
            CardKind::Experiment,
            CardKind::Lesson,
            CardKind::Note,
        ][..],
    )
}

pub(crate) fn perspective() -> impl Strategy<Value = Perspective> {
    select(
        &[
            Perspective::Client,
            Perspective::Naaste,
            Perspective::Medewerker,
            Perspective::Teamleider,
            Perspective::Manager,
            Perspective::Bestuurder,
            Perspective::Anders,
        ][..],
    )
}

fn hand_kind() -> impl Strategy<Value = HandKind> {
    prop_oneof![Just(HandKind::Hand), Just(HandKind::Response)]
}

fn settings_change() -> BoxedStrategy<FloorSettingsChange> {
    (
        prop::option::weighted(
            0.5,
            select(&[QueueOrder::Fcfs, QueueOrder::LeastSpoken, QueueOrder::Round][..]),
        ),
        prop::option::weighted(0.3, number(floor_limits::TURN_SECS)),
        prop::option::weighted(0.3, number(floor_limits::RESPONSE_SECS)),
        prop::option::weighted(
            0.3,
            prop_oneof![Just(LimitMode::Hard), Just(LimitMode::Soft)],
        ),
        prop::option::weighted(0.2, fair_share()),
        prop::option::weighted(0.2, number(floor_limits::RESPONSE_CAP)),
        prop::option::weighted(0.2, any::<bool>()),
        (
            prop::option::weighted(0.2, any::<bool>()),
            prop::option::weighted(0.2, any::<bool>()),
            prop::option::weighted(0.2, number(floor_limits::MIN_TURN_SECS)),
            prop::option::weighted(0.2, number(floor_limits::ROOM_SECS)),
            prop::option::weighted(0.2, any::<bool>()),
            prop::option::weighted(
                0.2,
                prop_oneof![Just(FloorPreset::Balanced), Just(FloorPreset::Fcfs)],
            ),
        ),
    )
        .prop_map(
            |(
                order,
                turn_secs,
                response_secs,
                mode,
                fair_share,
                response_cap,
                show_balance,
                (fair_share_cap, shrink_turns, min_turn_secs, room_secs, perspectives, preset),
            )| {
                FloorSettingsChange {
                    order,
                    turn_secs,
                    response_secs,
                    mode,
                    fair_share,
                    response_cap,
                    show_balance,
                    fair_share_cap,
                    shrink_turns,
                    min_turn_secs,
                    room_secs,
                    perspectives,
                    preset,
                }
            },
        )
        .boxed()
}

fn consequence() -> impl Strategy<Value = Consequence> {
    prop_oneof![
        Just(Consequence::Warning),
        number(floor_limits::HAND_WAIT_MINUTES)
            .prop_map(|minutes| Consequence::HandWait { minutes }),
    ]
}

fn round_command() -> impl Strategy<Value = C> {
    (
        prop::option::weighted(0.2, phase()),
        number(1..=limits::MAX_BUDGET),
        number(1..=6),
        any::<bool>(),
    )
        .prop_map(|(phase, budget, max_per_card, live)| C::OpenRound {
            phase,
            budget,
            max_per_card,
            live,
        })
}

fn flag() -> impl Strategy<Value = C> {
    (
        id('g', 12),
        prop::option::weighted(0.7, id('p', 5)),
        prop::option::weighted(0.5, text()),
        any::<bool>(),
    )
        .prop_map(|(rule, about, note, anonymous)| C::Flag {
            rule,
            about,
            note,
            anonymous,
        })
}

/// What a person (participant or facilitator) may do: cards, votes, hands, rules.
fn person_command() -> BoxedStrategy<C> {
    prop_oneof![
        8 => (
            text(),
            card_kind(),
            prop::option::weighted(0.2, id('k', 5)),
            prop::option::weighted(0.1, text()),
            prop::option::weighted(0.1, lesson_of()),
        )
            .prop_map(|(text, kind, builds_on, source, lesson_of)| C::AddCard {
                text,
                kind,
                builds_on,
                source,
                lesson_of,
            }),
        3 => (id('q', 2), readiness_answers(), prop::option::weighted(0.3, text()))
            .prop_map(|(check, answers, comment)| C::AnswerCheck { check, answers, comment }),
        2 => (text(), perspective(), stake())
            .prop_map(|(name, perspective, stake)| C::ProposeParty { name, perspective, stake }),
        2 => (text(), prop::option::weighted(0.3, float()), prop::option::weighted(0.3, text()))
            .prop_map(|(text, target, unit)| C::ProposeCriterion { text, target, unit }),
        3 => (id('c', 3), any::<bool>())
            .prop_map(|(criterion, agree)| C::Consent { criterion, agree }),
        2 => (text(), prop::option::weighted(0.7, id('k', 5)))
            .prop_map(|(title, from_card)| C::AddExperiment { title, from_card }),
        2 => (id('e', 2), experiment_change())
            .prop_map(|(experiment, change)| C::UpdateExperiment { experiment, change: Box::new(change) }),
        3 => (id('y', 2), text(), text())
            .prop_map(|(reflection, worked, not_worked)| C::Reflect { reflection, worked, not_worked }),
        2 => (id('k', 5), text(), proptest::option::of(card_kind()))
            .prop_map(|(card, text, kind)| C::EditCard { card, text, kind }),
        1 => id('k', 5).prop_map(|card| C::WithdrawCard { card }),
        8 => (id('r', 2), id('k', 5)).prop_map(|(round, card)| C::Vote { round, card }),
        3 => (id('r', 2), id('k', 5)).prop_map(|(round, card)| C::Unvote { round, card }),
        6 => hand_kind().prop_map(|kind| C::RaiseHand { kind }),
        2 => prop::option::weighted(0.3, id('p', 5))
            .prop_map(|participant| C::LowerHand { participant }),
        2 => Just(C::Pass),
        2 => Just(C::EndTurn),
        1 => id('p', 5).prop_map(|participant| C::Invite { participant }),
        2 => any::<bool>().prop_map(|agree| C::AgreeRules { agree }),
        3 => flag(),
    ]
    .boxed()
}

/// What only the facilitator may do: moderate cards, run the session, rounds, the floor, the
/// rules and reports.
fn facilitator_command() -> BoxedStrategy<C> {
    prop_oneof![
        1 => id('k', 5).prop_map(|card| C::HideCard { card }),
        1 => id('k', 5).prop_map(|card| C::RestoreCard { card }),
        1 => (id('k', 5), id('k', 5)).prop_map(|(card, into)| C::MergeCards { card, into }),
        1 => id('k', 5).prop_map(|card| C::UnmergeCard { card }),
        3 => phase().prop_map(|phase| C::SetPhase { phase }),
        4 => round_command(),
        2 => id('r', 2).prop_map(|round| C::CloseRound { round }),
        1 => prop_oneof![Just(C::Lock), Just(C::Unlock)],
        // Rare: an ended session refuses everything after.
        1 => prop_oneof![12 => Just(C::ProjectorLink), 1 => Just(C::End)],
        6 => prop::option::weighted(0.3, id('p', 5)).prop_map(|to| C::GiveFloor { to }),
        2 => Just(C::EndTurn),
        2 => id('p', 5).prop_map(|participant| C::Invite { participant }),
        2 => prop_oneof![Just(C::PauseFloor), Just(C::ResumeFloor)],
        3 => settings_change().prop_map(|change| C::FloorSettings { change }),
        2 => (prop::option::weighted(0.5, id('g', 12)), text())
            .prop_map(|(rule, text)| C::SetRule { rule, text }),
        1 => id('g', 12).prop_map(|rule| C::RemoveRule { rule }),
        2 => (id('x', 3), prop::option::weighted(0.6, consequence()))
            .prop_map(|(report, consequence)| C::ConfirmFlag { report, consequence }),
        1 => id('x', 3).prop_map(|report| C::DismissFlag { report }),
        2 => Just(C::OpenCheck),
        2 => (id('q', 2), select(&[Conclusion::Start, Conclusion::NotYet][..]), prop::option::weighted(0.3, text()))
            .prop_map(|(check, conclusion, note)| C::ConcludeCheck { check, conclusion, note }),
        2 => (
            id('s', 3),
            prop::option::weighted(0.3, text()),
            prop::option::weighted(0.2, perspective()),
            prop::option::weighted(0.2, stake()),
            prop::option::weighted(0.6, select(&[PartyStatus::Proposed, PartyStatus::Listed, PartyStatus::Removed][..])),
        )
            .prop_map(|(party, name, perspective, stake, status)| C::UpdateParty {
                party,
                name,
                perspective,
                stake,
                status,
            }),
        1 => (prop::option::of(any::<bool>()), prop::option::of(any::<bool>()))
            .prop_map(|(table, criteria)| C::SetDisplay { table, criteria }),
        2 => id('c', 3).prop_map(|criterion| C::AskConsent { criterion }),
        2 => (id('c', 3), any::<bool>())
            .prop_map(|(criterion, agreed)| C::DecideCriterion { criterion, agreed }),
        2 => (
            id('c', 3),
            select(&[Assessment::Met, Assessment::Partly, Assessment::NotMet][..]),
            prop::option::weighted(0.3, text()),
        )
            .prop_map(|(criterion, assessment, note)| C::AssessCriterion { criterion, assessment, note }),
        2 => prop::option::weighted(0.4, phase()).prop_map(|phase| C::OpenReflection { phase }),
        1 => id('y', 2).prop_map(|reflection| C::CloseReflection { reflection }),
        1 => Just(C::ReplayLink),
        1 => id('l', 2).prop_map(|link| C::RevokeReplay { link }),
        1 => any::<bool>().prop_map(|share| C::ShareReport { share }),
    ]
    .boxed()
}

fn stake() -> impl Strategy<Value = Stake> {
    select(&[Stake::Needed, Stake::Affected, Stake::Both][..])
}

fn answer() -> impl Strategy<Value = Option<Answer>> {
    prop::option::weighted(0.8, select(&[Answer::Yes, Answer::NotSure, Answer::No][..]))
}

fn readiness_answers() -> impl Strategy<Value = ReadinessAnswers> {
    (answer(), answer(), answer()).prop_map(|(urgent, complex, willing)| ReadinessAnswers {
        urgent,
        complex,
        willing,
    })
}

fn lesson_of() -> impl Strategy<Value = LessonOf> {
    prop_oneof![
        id('e', 2).prop_map(LessonOf::Experiment),
        (0u8..=7).prop_map(LessonOf::Phase),
    ]
}

/// Numbers JSON can carry: ordinary and huge (JSON has no NaN or infinity).
fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => (-1000i32..=1000).prop_map(|n| f64::from(n) / 4.0),
        1 => Just(1e13),
        1 => Just(-1e300),
    ]
}

/// A date written right, nearly right, or not at all.
fn date() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (2020u16..=2030, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}")),
        1 => select(&["", "2026-02-30", "2026-13-01", "26-1-1", "2026/01/01", "2026-01-01T10:00", "२०२६-०१-०१"][..]).prop_map(str::to_owned),
        1 => text(),
    ]
}

fn experiment_change() -> impl Strategy<Value = ExperimentChange> {
    let status = select(
        &[
            ExperimentStatus::Planned,
            ExperimentStatus::Running,
            ExperimentStatus::Stopped,
            ExperimentStatus::Done,
        ][..],
    );
    let outcome = select(&[Outcome::Worked, Outcome::Partly, Outcome::DidNotWork][..]);
    let decision = select(&[Decision::Adopt, Decision::Adapt, Decision::Abandon][..]);
    let texts = (
        prop::option::weighted(0.3, text()),
        prop::option::weighted(0.3, text()),
        prop::option::weighted(0.3, text()),
        prop::option::weighted(0.3, text()),
        prop::option::weighted(0.3, text()),
    );
    let rest = (
        prop::option::weighted(0.3, vec(id('p', 6), 0..4)),
        prop::option::weighted(0.2, text()),
        prop::option::weighted(0.3, date()),
        prop::option::weighted(0.3, date()),
        prop::option::weighted(0.4, status),
        prop::option::weighted(0.3, outcome),
        prop::option::weighted(0.3, decision),
    );
    (texts, rest).prop_map(
        |(
            (title, prediction, measure, stop_criterion, observed),
            (owners, owner_party, start, review, status, outcome, decision),
        )| {
            ExperimentChange {
                title,
                prediction,
                measure,
                owners,
                owner_party,
                start,
                review,
                stop_criterion,
                status,
                outcome,
                observed,
                decision,
            }
        },
    )
}

/// Any command, every variant, with ids and values valid and not.
pub(crate) fn command() -> BoxedStrategy<C> {
    prop_oneof![person_command(), facilitator_command()].boxed()
}

/// A participant (`p2`…; mapped onto those who joined when given).
fn someone() -> impl Strategy<Value = Actor> {
    (1..=7usize).prop_map(participant)
}

/// Who gives which command: mostly someone who may (so sequences get somewhere), sometimes
/// anyone (the facilitator, a participant, the projector).
fn command_step() -> impl Strategy<Value = Step> {
    let anyone = prop_oneof![3 => Just(F), 6 => someone(), 1 => Just(PROJECTOR)];
    prop_oneof![
        8 => (prop_oneof![5 => someone(), 1 => Just(F)], person_command()),
        6 => (Just(F), facilitator_command()),
        3 => (anyone, command()),
    ]
    .prop_map(|(a, c)| Step::Cmd(a, c))
}

/// One thing that happens to a room.
#[derive(Debug, Clone)]
enum Step {
    /// Someone gives a command.
    Cmd(Actor, C),
    /// The clock moves on this many ms.
    Wait(i64),
    /// The room's timer fires: a hard turn at its limit ends.
    Tick,
    /// A participant (mapped onto those who joined) now has this many connections.
    Presence(usize, u32),
    /// Someone new joins, when the room would let them.
    Join(String, Perspective),
}

fn step() -> BoxedStrategy<Step> {
    let wait = prop_oneof![0i64..=2_000, 2_000i64..=200_000, 200_000i64..=4_000_000];
    prop_oneof![
        16 => command_step(),
        2 => wait.prop_map(Step::Wait),
        2 => Just(Step::Tick),
        1 => (0..=7usize, 0u32..=2).prop_map(|(p, n)| Step::Presence(p, n)),
        1 => (text(), perspective()).prop_map(|(name, p)| Step::Join(name, p)),
    ]
    .boxed()
}

/// The most participants a fuzzed room lets join (it starts with four).
const MAX_PEOPLE: usize = 8;

impl Room {
    /// A room where something is going on already: three cards and an open round over them,
    /// a raised hand, an open report.
    fn busy(anonymous: bool) -> Self {
        let mut r = Self::new(anonymous);
        for (p, text) in [(1, "Meer tijd"), (2, "Minder regels"), (3, "Vaste teams")] {
            r.add(participant(p), text);
        }
        r.ok(F, open_round(5, 3));
        r.ok(
            participant(3),
            C::RaiseHand {
                kind: HandKind::Hand,
            },
        );
        let flag = C::Flag {
            rule: "g1".into(),
            about: Some("p4".into()),
            note: None,
            anonymous: false,
        };
        r.ok(participant(1), flag);
        r
    }

    /// Every role's view and everyone's own data, as a fresh welcome would give them.
    fn seen(&self) -> Seen {
        let s = &self.record.state;
        let moment = self.moment();
        Seen {
            views: ROLES.map(|role| self.record.view(role, &moment)),
            you: (0..s.participants.len())
                .map(|p| s.you(s.participants[p].role, Some(p)))
                .collect(),
        }
    }

    /// What the clients saw before, with this step's deltas applied, is what a welcome would
    /// show now: the deltas and the welcome come from one path. (The floor's clock moves
    /// without a delta: clients count it on themselves, so a floor left out of the patch is
    /// compared at the time it was sent.) Every view and own data can be encoded.
    fn assert_views(&self, before: &Seen, changed: &Changed) {
        let moment = self.moment();
        let now = self.seen();
        for (i, role) in ROLES.into_iter().enumerate() {
            let mut patched = before.views[i].clone();
            patched.apply(&self.record.state.patch(changed, role, &moment));
            if !changed.has(Part::Floor) {
                patched.floor = now.views[i].floor.clone();
            }
            assert_eq!(
                patched, now.views[i],
                "{role:?}: the deltas and a welcome differ"
            );
            serde_json::to_string(&now.views[i]).expect("a view encodes");
        }
        let s = &self.record.state;
        for (p, whole) in now.you.iter().enumerate() {
            let mut patched = before.you.get(p).cloned().unwrap_or_else(|| whole.clone());
            if let Some((_, change)) = changed.you().find(|(q, _)| *q == p) {
                patched.apply(&s.you_patch(p, change));
            }
            assert_eq!(
                voted(patched),
                voted(whole.clone()),
                "p{}: the own-data deltas and a welcome differ",
                p + 1
            );
            serde_json::to_string(whole).expect("you encodes");
        }
        serde_json::to_string(&s.you(Role::Projector, None)).expect("you encodes");
    }

    /// The actor as the room would have it: a participant index names someone who joined.
    fn seat(&self, actor: Actor) -> Actor {
        match actor {
            Actor {
                role: Role::Participant,
                participant: Some(i),
            } => participant(1 + (i - 1) % (self.record.state.participants.len() - 1)),
            other => other,
        }
    }
}

/// What the history must give back after a restart: each acknowledged command's message. A
/// projector link holds a secret token: the ack carries it, the record never does.
fn acked(r: &Room, actor: Actor, cmd: &C, mut ack: AckResult) -> ChangeMessage {
    ack.projector_url = None;
    ack.replay_url = None;
    ChangeMessage {
        cmd: cmd.name().into(),
        by: actor
            .participant
            .map(|p| r.record.state.pseudonyms[p].clone()),
        id: Some(format!("c{}", r.n)),
        ack,
    }
}

const ROLES: [Role; 3] = [Role::Facilitator, Role::Participant, Role::Projector];

/// What the clients were shown: each role's view and each person's own data.
struct Seen {
    views: [View; 3],
    you: Vec<You>,
}

/// Own data without the rounds in which one has no vote: a welcome lists every open round
/// with its full budget, a delta only the rounds where one's votes changed.
fn voted(mut you: You) -> You {
    you.votes.retain(|v| !v.cards.is_empty());
    you
}

fn play(anonymous: bool, busy: bool, steps: &[Step]) {
    let mut r = if busy {
        Room::busy(anonymous)
    } else {
        Room::new(anonymous)
    };
    let mut answers = history(&r);
    // The state after each change from here on, to compare with the replay of the history.
    let start = r.record.seq() as usize;
    let mut states = vec![r.record.state.clone()];
    // A snapshot with its checkpoint halfway, to open the final document from.
    let mut halfway = None;
    for (n, step) in steps.iter().enumerate() {
        if n == steps.len() / 2 {
            halfway = Some((r.record.snapshot_bytes(), r.record.heads()));
        }
        let before = r.seen();
        let mut changed = Changed::default();
        match step {
            Step::Cmd(actor, cmd) => {
                let actor = r.seat(*actor);
                let (result, marked) = r.checked_step(actor, cmd);
                if let Ok(ack) = result {
                    answers.push(acked(&r, actor, cmd, ack));
                }
                changed = marked;
            }
            Step::Wait(ms) => r.now += ms,
            Step::Tick => {
                let heads = r.record.heads();
                let state = r.record.state.clone();
                let (ended, marked) = r.limit_step();
                let changes = r.record.doc.get_changes(&heads).len();
                if ended {
                    assert_eq!(changes, 1, "a turn ended at its limit is one change");
                } else {
                    assert_eq!(changes, 0, "nothing at its limit, nothing recorded");
                    assert_eq!(
                        r.record.state, state,
                        "nothing at its limit, nothing changed"
                    );
                }
                let floor = &r.record.state.floor;
                assert!(
                    !(floor.hard() && floor.deadline().is_some_and(|d| d <= r.now)),
                    "a hard turn runs past its limit after the timer fired"
                );
                // The room sends the floor anew whenever its timer fires.
                changed = marked;
                changed.whole(Part::Floor);
            }
            Step::Presence(p, n) => {
                let len = r.online.len();
                r.online[p % len] = *n;
                // As the room marks it when someone comes or goes.
                changed.presence(p % len);
            }
            Step::Join(name, perspective) => {
                if r.record.state.participants.len() >= MAX_PEOPLE {
                    continue;
                }
                let heads = r.record.heads();
                let state = r.record.state.clone();
                let moment = Moment {
                    now: r.now,
                    online: &r.online,
                    public_url: "http://x",
                };
                match r.record.join(name, *perspective, &moment, &mut changed) {
                    Ok(_) => {
                        assert_eq!(
                            r.record.doc.get_changes(&heads).len(),
                            1,
                            "a join is one change"
                        );
                        r.online.push(1);
                        // The new phone's presence, as the room marks it.
                        changed.presence(r.online.len() - 1);
                    }
                    Err(e) => {
                        assert!(matches!(e, CmdError::Refused(_)), "a join failed: {e}");
                        assert_eq!(
                            r.record.heads(),
                            heads,
                            "a refused join changed the document"
                        );
                        assert_eq!(r.record.state, state, "a refused join changed the state");
                    }
                }
            }
        }
        r.assert_views(&before, &changed);
        while start + states.len() <= r.record.seq() as usize {
            states.push(r.record.state.clone());
        }
    }
    r.assert_hydrates();
    if let Some((snapshot, heads)) = halfway {
        r.assert_restores(&snapshot, &heads);
    }
    assert_eq!(history(&r), answers, "the history gives back every answer");
    // Replay folds the saved history to the same state after every change.
    let reloaded = automerge::Automerge::load(&r.record.doc.save()).expect("the document loads");
    let replay = crate::session::Replay::new(&reloaded, [7; 32]).expect("the history replays");
    assert_eq!(replay.len(), start + states.len() - 1);
    for (k, state) in states.iter().enumerate() {
        let n = start + k;
        assert_eq!(
            &replay.state_after(n).expect("a state"),
            state,
            "after change {n}"
        );
    }
}

/// The messages of the acknowledged commands in the document's history, oldest first.
fn history(r: &Room) -> Vec<ChangeMessage> {
    let reloaded = automerge::Automerge::load(&r.record.doc.save()).expect("the document loads");
    doc::messages(&reloaded)
        .into_iter()
        .filter(|m| m.id.is_some())
        .collect()
}

proptest! {
    // Each case is a fresh room and up to 40 steps: 256 cases take about 6 s in a debug build
    // (dependencies are optimised, see the workspace's profile).
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_command_sequences_keep_the_record_whole(
        anonymous in any::<bool>(),
        busy in prop::bool::weighted(0.7),
        steps in vec(step(), 0..40),
    ) {
        play(anonymous, busy, &steps);
    }
}

/// The strategy gives every command there is: a command added to the protocol fails here until
/// the fuzz tests give it too.
#[test]
fn the_command_strategy_covers_every_command() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = command();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..20_000 {
        seen.insert(strategy.new_tree(&mut runner).unwrap().current().name());
        if seen.len() == C::names().len() {
            return;
        }
    }
    let missing: Vec<_> = C::names().iter().filter(|n| !seen.contains(*n)).collect();
    panic!("the fuzz strategy never gives {missing:?}");
}

//! What a session produces, checked on a real automerge record: the readiness check, who is at
//! the table, success criteria, experiments, reflections, examples and lessons.

use super::*;
use tafel_protocol::{
    Answer, Assessment, Conclusion, CriterionStatus, Decision, ExperimentChange, ExperimentStatus,
    LessonOf, Outcome as Result_, PartyStatus, ReadinessAnswers, Stage, Stake,
};

fn answers(urgent: Answer, complex: Answer, willing: Answer) -> ReadinessAnswers {
    ReadinessAnswers {
        urgent: Some(urgent),
        complex: Some(complex),
        willing: Some(willing),
    }
}

fn answer_check(check: &str, a: ReadinessAnswers, comment: Option<&str>) -> C {
    C::AnswerCheck {
        check: check.into(),
        answers: a,
        comment: comment.map(Into::into),
    }
}

/// Whether a piece of JSON names nobody: no participant id (`"p3"`) and no pseudonym.
fn names_nobody(json: &str) -> bool {
    let ids = json
        .match_indices("\"p")
        .any(|(at, _)| json[at + 2..].starts_with(|c: char| c.is_ascii_digit()));
    !ids && !json.contains('~')
}

fn view(r: &Room, role: Role) -> tafel_protocol::View {
    r.record.view(role, &r.moment())
}

fn card_with(kind: CardKind, source: Option<&str>, lesson_of: Option<LessonOf>) -> C {
    C::AddCard {
        text: "Zo doen ze het in Zwolle".into(),
        kind,
        builds_on: None,
        source: source.map(Into::into),
        lesson_of,
    }
}

#[test]
fn a_readiness_check_counts_answers_and_never_names_who_gave_them() {
    use Answer::*;
    let mut r = Room::new(false);
    assert_eq!(
        r.refused(participant(1), C::OpenCheck),
        ErrorCode::Forbidden
    );
    let q = r.ok(F, C::OpenCheck).check.unwrap();
    assert_eq!(
        r.refused(F, C::OpenCheck),
        ErrorCode::AlreadyOpen,
        "one at a time"
    );
    r.ok(
        participant(1),
        answer_check(&q, answers(Yes, Yes, Yes), Some("Het moet nu")),
    );
    r.ok(
        participant(2),
        answer_check(&q, answers(Yes, NotSure, No), None),
    );
    r.ok(
        participant(3),
        answer_check(&q, answers(No, Yes, Yes), Some("Al eens geprobeerd")),
    );
    // A second answer replaces the first.
    r.ok(
        participant(2),
        answer_check(&q, answers(Yes, Yes, Yes), None),
    );
    for (who, cmd) in [
        (F, answer_check(&q, answers(Yes, Yes, Yes), None)),
        (PROJECTOR, answer_check(&q, answers(Yes, Yes, Yes), None)),
    ] {
        assert_eq!(r.refused(who, cmd), ErrorCode::Forbidden, "{who:?}");
    }
    assert_eq!(
        r.refused(
            participant(1),
            answer_check(&q, ReadinessAnswers::default(), None)
        ),
        ErrorCode::Invalid,
        "an answer says something"
    );
    let long = "x".repeat(281);
    assert_eq!(
        r.refused(
            participant(1),
            answer_check(&q, answers(Yes, Yes, Yes), Some(&long))
        ),
        ErrorCode::Invalid
    );

    let fac = view(&r, Role::Facilitator).checks[0].clone();
    assert_eq!(fac.answered, 3);
    assert_eq!((fac.urgent.yes, fac.urgent.no), (2, 1));
    assert_eq!((fac.complex.yes, fac.complex.not_sure), (3, 0));
    assert_eq!((fac.willing.yes, fac.willing.no), (3, 0));
    assert_eq!(
        fac.comments,
        ["Al eens geprobeerd", "Het moet nu"],
        "sorted, no names"
    );
    for role in [Role::Participant, Role::Projector] {
        let check = &view(&r, role).checks[0];
        assert_eq!(check.urgent, fac.urgent);
        assert!(check.comments.is_empty(), "{role:?} sees no comments");
    }
    // Nobody's view ties an answer to a person: no participant id, no pseudonym.
    for role in [Role::Facilitator, Role::Participant, Role::Projector] {
        let json = serde_json::to_string(&view(&r, role).checks).unwrap();
        assert!(names_nobody(&json), "{role:?}: {json}");
    }
    // Each person sees their own answers only.
    let anna = r.record.state.you(Role::Participant, Some(1));
    assert_eq!(anna.readiness.len(), 1);
    assert_eq!(anna.readiness[0].comment.as_deref(), Some("Het moet nu"));
    assert!(
        r.record
            .state
            .you(Role::Facilitator, Some(0))
            .readiness
            .is_empty()
    );

    let conclude = C::ConcludeCheck {
        check: q.clone(),
        conclusion: Conclusion::Start,
        note: Some("We beginnen".into()),
    };
    assert_eq!(
        r.refused(participant(1), conclude.clone()),
        ErrorCode::Forbidden
    );
    r.ok(F, conclude.clone());
    let check = &view(&r, Role::Projector).checks[0];
    assert_eq!(
        (check.stage, check.conclusion, check.note.as_deref()),
        (Stage::Closed, Some(Conclusion::Start), Some("We beginnen"))
    );
    assert_eq!(
        r.refused(participant(1), answer_check(&q, answers(No, No, No), None)),
        ErrorCode::Closed
    );
    assert_eq!(r.refused(F, conclude), ErrorCode::Closed);
    assert_eq!(
        r.refused(
            participant(1),
            answer_check("q9", answers(No, No, No), None)
        ),
        ErrorCode::UnknownCheck
    );
    r.ok(F, C::OpenCheck);
    r.assert_hydrates();
}

#[test]
fn the_table_shows_which_needed_or_affected_perspectives_nobody_present_speaks_for() {
    use tafel_protocol::Perspective::*;
    let mut r = Room::new(false);
    // p2–p4 are care workers; a client joins, but is not connected.
    r.join("Dirk", Client).unwrap();
    r.online[4] = 0;
    let party = |name: &str, perspective, stake| C::ProposeParty {
        name: name.into(),
        perspective,
        stake,
    };
    let clients = r
        .ok(F, party("Cliëntenraad", Client, Stake::Affected))
        .party
        .unwrap();
    let proposed = r
        .ok(
            participant(1),
            party("Wijkverpleging", Medewerker, Stake::Needed),
        )
        .party
        .unwrap();
    assert_eq!(
        r.refused(PROJECTOR, party("X", Anders, Stake::Both)),
        ErrorCode::Forbidden
    );
    assert_eq!(
        r.refused(participant(1), party("\u{7}", Anders, Stake::Both)),
        ErrorCode::Invalid
    );
    assert_eq!(
        r.refused(participant(1), party(" ", Anders, Stake::Both)),
        ErrorCode::Invalid
    );
    let parties = view(&r, Role::Participant).parties;
    assert_eq!(
        parties.iter().map(|p| p.status).collect::<Vec<_>>(),
        [PartyStatus::Listed, PartyStatus::Proposed],
        "the facilitator's party is listed at once, a participant's waits"
    );

    let table = view(&r, Role::Facilitator).table;
    assert_eq!(table.missing, [Client], "no client at the table");
    let row = |p| {
        table
            .coverage
            .iter()
            .find(|c| c.perspective == p)
            .cloned()
            .unwrap()
    };
    assert_eq!((row(Client).present, row(Client).parties), (0, 1));
    assert_eq!(
        (row(Medewerker).present, row(Medewerker).parties),
        (3, 0),
        "not yet listed"
    );

    let list = C::UpdateParty {
        party: proposed.clone(),
        name: None,
        perspective: None,
        stake: None,
        status: Some(PartyStatus::Listed),
    };
    assert_eq!(
        r.refused(participant(1), list.clone()),
        ErrorCode::Forbidden
    );
    r.ok(F, list);
    assert!(
        view(&r, Role::Facilitator)
            .table
            .coverage
            .iter()
            .any(|c| c.perspective == Medewerker && c.needed)
    );
    // The client's phone connects: nobody is missing.
    r.online[4] = 1;
    assert!(view(&r, Role::Facilitator).table.missing.is_empty());
    // Taken off the list, a party no longer counts.
    r.online[4] = 0;
    let remove = C::UpdateParty {
        party: clients,
        name: None,
        perspective: None,
        stake: None,
        status: Some(PartyStatus::Removed),
    };
    r.ok(F, remove);
    assert!(view(&r, Role::Facilitator).table.missing.is_empty());
    let nothing = C::UpdateParty {
        party: proposed,
        name: None,
        perspective: None,
        stake: None,
        status: None,
    };
    assert_eq!(r.refused(F, nothing), ErrorCode::Invalid);

    // The big screen shows the table when the facilitator wants it.
    let show = C::SetDisplay {
        table: Some(true),
        criteria: None,
    };
    assert_eq!(
        r.refused(participant(1), show.clone()),
        ErrorCode::Forbidden
    );
    r.ok(F, show);
    assert!(view(&r, Role::Projector).session.display.table);
    r.assert_hydrates();
}

#[test]
fn criteria_are_agreed_by_consent_and_assessed_at_the_end() {
    let mut r = Room::new(false);
    let propose = |text: &str, target: Option<f64>, unit: Option<&str>| C::ProposeCriterion {
        text: text.into(),
        target,
        unit: unit.map(Into::into),
    };
    let plain = r
        .ok(
            participant(1),
            propose("We hebben 2–3 haalbare scenario's", None, None),
        )
        .criterion
        .unwrap();
    let measurable = r
        .ok(
            F,
            propose("Minder dubbel registreren", Some(30.0), Some("%")),
        )
        .criterion
        .unwrap();
    assert_eq!(
        r.refused(participant(1), propose("Half", Some(3.0), None)),
        ErrorCode::Invalid
    );
    assert_eq!(
        r.refused(participant(1), propose("Half", None, Some("%"))),
        ErrorCode::Invalid
    );
    assert_eq!(
        r.refused(participant(1), propose("", None, None)),
        ErrorCode::Invalid
    );
    assert_eq!(
        r.refused(PROJECTOR, propose("Ja", None, None)),
        ErrorCode::Forbidden
    );

    let consent = |c: &str, agree| C::Consent {
        criterion: c.into(),
        agree,
    };
    assert_eq!(
        r.refused(participant(2), consent(&plain, true)),
        ErrorCode::Closed,
        "not asked yet"
    );
    let ask = C::AskConsent {
        criterion: plain.clone(),
    };
    assert_eq!(r.refused(participant(1), ask.clone()), ErrorCode::Forbidden);
    r.ok(F, ask);
    r.ok(participant(1), consent(&plain, true));
    r.ok(participant(2), consent(&plain, false));
    r.ok(participant(3), consent(&plain, true));
    r.ok(participant(2), consent(&plain, true)); // changed their mind
    assert_eq!(r.refused(F, consent(&plain, true)), ErrorCode::Forbidden);
    let c = &view(&r, Role::Projector).criteria[0];
    assert_eq!(c.status, CriterionStatus::Asked);
    assert_eq!(c.consent.map(|n| (n.agree, n.object)), Some((3, 0)));
    let json = serde_json::to_string(&view(&r, Role::Facilitator).criteria).unwrap();
    assert!(names_nobody(&json), "no names: {json}");
    assert_eq!(
        r.record
            .state
            .you(Role::Participant, Some(2))
            .consents
            .len(),
        1
    );

    let decide = |c: &str, agreed| C::DecideCriterion {
        criterion: c.into(),
        agreed,
    };
    r.ok(F, decide(&plain, true));
    r.ok(F, decide(&measurable, false));
    assert_eq!(
        r.refused(participant(1), consent(&plain, false)),
        ErrorCode::Closed
    );
    let statuses: Vec<_> = view(&r, Role::Participant)
        .criteria
        .iter()
        .map(|c| c.status)
        .collect();
    assert_eq!(
        statuses,
        [CriterionStatus::Agreed, CriterionStatus::Dropped]
    );

    let assess = |c: &str, a| C::AssessCriterion {
        criterion: c.into(),
        assessment: a,
        note: Some("Twee scenario's klaar".into()),
    };
    assert_eq!(
        r.refused(F, assess(&plain, Assessment::Met)),
        ErrorCode::Invalid,
        "phase 5 only"
    );
    r.ok(F, C::SetPhase { phase: 5 });
    assert_eq!(
        r.refused(participant(1), assess(&plain, Assessment::Met)),
        ErrorCode::Forbidden
    );
    assert_eq!(
        r.refused(F, assess(&measurable, Assessment::Met)),
        ErrorCode::Invalid,
        "a dropped criterion is not assessed"
    );
    r.ok(F, assess(&plain, Assessment::Partly));
    let c = &view(&r, Role::Participant).criteria[0];
    assert_eq!(c.assessment, Some(Assessment::Partly));
    assert_eq!(c.assessment_note.as_deref(), Some("Twee scenario's klaar"));
    r.assert_hydrates();
}

#[test]
fn an_idea_becomes_an_experiment_that_may_fail_and_keeps_its_lesson() {
    let mut r = Room::new(false);
    let idea = r.add(participant(1), "Vaste gezichten op de groep");
    let other = r.add(participant(2), "Minder overleg");
    let add = |title: &str, from: Option<&str>| C::AddExperiment {
        title: title.into(),
        from_card: from.map(Into::into),
    };
    assert_eq!(
        r.refused(participant(2), add("Proef", Some(&idea))),
        ErrorCode::Forbidden,
        "not the author's idea"
    );
    assert_eq!(
        r.refused(participant(2), add("Proef", None)),
        ErrorCode::Forbidden
    );
    let e = r
        .ok(participant(1), add("Vaste koppels, zes weken", Some(&idea)))
        .experiment
        .unwrap();
    let f = r
        .ok(F, add("Overleg halveren", Some(&other)))
        .experiment
        .unwrap();
    assert_eq!(r.refused(F, add("", None)), ErrorCode::Invalid);

    let update = |e: &str, change: ExperimentChange| C::UpdateExperiment {
        experiment: e.into(),
        change: Box::new(change),
    };
    let plan = ExperimentChange {
        prediction: Some("Als we vaste koppels maken, dan kennen cliënten hun zorg".into()),
        measure: Some("Vragenlijst bij cliënten".into()),
        owners: Some(vec!["p4".into(), "p4".into()]),
        owner_party: Some("Team Noord".into()),
        start: Some("2026-12-07".into()),
        review: Some("2027-01-18".into()),
        stop_criterion: Some("Als de roosters niet rond komen".into()),
        status: Some(ExperimentStatus::Running),
        ..Default::default()
    };
    assert_eq!(
        r.refused(participant(3), update(&e, plan.clone())),
        ErrorCode::Forbidden
    );
    r.ok(participant(1), update(&e, plan));
    // An owner keeps it up to date too; someone else does not.
    let failed = ExperimentChange {
        status: Some(ExperimentStatus::Stopped),
        outcome: Some(Result_::DidNotWork),
        observed: Some("Roosters liepen vast na twee weken".into()),
        decision: Some(Decision::Abandon),
        ..Default::default()
    };
    r.ok(participant(3), update(&e, failed));
    assert_eq!(
        r.refused(participant(2), update(&e, ExperimentChange::default())),
        ErrorCode::Forbidden
    );
    assert_eq!(
        r.refused(F, update(&e, ExperimentChange::default())),
        ErrorCode::Invalid
    );
    for bad in ["2026-02-30", "2026-13-01", "26-1-1", "2026/01/01", "morgen"] {
        let change = ExperimentChange {
            start: Some(bad.into()),
            ..Default::default()
        };
        assert_eq!(
            r.refused(F, update(&f, change)),
            ErrorCode::Invalid,
            "{bad}"
        );
    }
    let too_many = ExperimentChange {
        owners: Some((1..=11).map(|i| format!("p{i}")).collect()),
        ..Default::default()
    };
    assert_eq!(r.refused(F, update(&f, too_many)), ErrorCode::Invalid);
    let nobody = ExperimentChange {
        owners: Some(vec!["p99".into()]),
        ..Default::default()
    };
    assert_eq!(
        r.refused(F, update(&f, nobody)),
        ErrorCode::UnknownParticipant
    );

    let x = &view(&r, Role::Projector).experiments[0];
    assert_eq!(x.from_card.as_deref(), Some(idea.as_str()));
    assert_eq!(x.owners, ["p4"], "each owner once");
    assert_eq!(
        (x.status, x.outcome, x.decision),
        (
            ExperimentStatus::Stopped,
            Some(Result_::DidNotWork),
            Some(Decision::Abandon)
        )
    );
    assert_eq!(x.start.as_deref(), Some("2026-12-07"));

    // Its lesson is a card about it.
    let lesson = card_with(
        CardKind::Lesson,
        None,
        Some(LessonOf::Experiment(e.clone())),
    );
    let k = r.ok(participant(3), lesson).card.unwrap();
    let card = view(&r, Role::Participant)
        .cards
        .into_iter()
        .find(|c| c.id == k)
        .unwrap();
    assert_eq!(card.lesson_of, Some(LessonOf::Experiment(e)));
    assert_eq!(
        r.refused(
            participant(3),
            card_with(
                CardKind::Lesson,
                None,
                Some(LessonOf::Experiment("e9".into()))
            )
        ),
        ErrorCode::UnknownExperiment
    );
    assert_eq!(
        r.refused(
            participant(3),
            card_with(CardKind::Idea, None, Some(LessonOf::Phase(2)))
        ),
        ErrorCode::Invalid,
        "only a lesson is about something"
    );
    assert_eq!(
        r.refused(
            participant(3),
            card_with(CardKind::Lesson, None, Some(LessonOf::Phase(6)))
        ),
        ErrorCode::Invalid
    );
    r.assert_hydrates();
}

#[test]
fn an_example_says_where_it_comes_from() {
    let mut r = Room::new(false);
    let k = r
        .ok(
            participant(1),
            card_with(CardKind::Example, Some("  Zorggroep Zwolle "), None),
        )
        .card
        .unwrap();
    let card = view(&r, Role::Projector)
        .cards
        .into_iter()
        .find(|c| c.id == k)
        .unwrap();
    assert_eq!(
        (card.kind, card.source.as_deref()),
        (CardKind::Example, Some("Zorggroep Zwolle"))
    );
    assert_eq!(
        r.refused(
            participant(1),
            card_with(CardKind::Idea, Some("ergens"), None)
        ),
        ErrorCode::Invalid,
        "only an example has a source"
    );
    let long = "x".repeat(201);
    assert_eq!(
        r.refused(
            participant(1),
            card_with(CardKind::Example, Some(&long), None)
        ),
        ErrorCode::Invalid
    );
    r.assert_hydrates();
}

#[test]
fn reflections_are_anonymous_when_the_session_is() {
    for anonymous in [false, true] {
        let mut r = Room::new(anonymous);
        let open = C::OpenReflection { phase: None };
        assert_eq!(
            r.refused(participant(1), open.clone()),
            ErrorCode::Forbidden
        );
        let y = r.ok(F, open.clone()).reflection.unwrap();
        assert_eq!(r.refused(F, open), ErrorCode::AlreadyOpen);
        let reflect = |y: &str, worked: &str, not_worked: &str| C::Reflect {
            reflection: y.into(),
            worked: worked.into(),
            not_worked: not_worked.into(),
        };
        r.ok(
            participant(2),
            reflect(&y, "Zo, ieder kwam aan het woord", ""),
        );
        r.ok(participant(1), reflect(&y, "Alles", "Te weinig tijd"));
        assert_eq!(
            r.refused(participant(1), reflect(&y, " ", "")),
            ErrorCode::Invalid
        );
        assert_eq!(r.refused(F, reflect(&y, "Ja", "")), ErrorCode::Forbidden);
        let entries = view(&r, Role::Projector).reflections[0].entries.clone();
        if anonymous {
            assert!(entries.iter().all(|e| e.by.is_none()), "no names");
            assert_eq!(
                entries[0].worked, "Alles",
                "alphabetical, not the order written"
            );
            let json = serde_json::to_string(&view(&r, Role::Facilitator).reflections).unwrap();
            assert!(names_nobody(&json), "{json}");
        } else {
            let by: Vec<_> = entries.iter().map(|e| e.by.clone().unwrap()).collect();
            assert_eq!(by, ["p2", "p3"]);
        }
        let you = r.record.state.you(Role::Participant, Some(1));
        assert_eq!(you.reflections[0].entry.not_worked, "Te weinig tijd");
        r.ok(
            F,
            C::CloseReflection {
                reflection: y.clone(),
            },
        );
        assert_eq!(
            r.refused(participant(3), reflect(&y, "Laat", "")),
            ErrorCode::Closed
        );
        assert_eq!(
            r.refused(F, C::OpenReflection { phase: Some(6) }),
            ErrorCode::Invalid
        );
        r.ok(F, C::OpenReflection { phase: Some(2) });
        r.assert_hydrates();
    }
}

#[test]
fn everything_a_session_produces_is_closed_once_it_ends() {
    let mut r = Room::new(false);
    let q = r.ok(F, C::OpenCheck).check.unwrap();
    r.ok(F, C::End);
    assert_eq!(
        r.refused(
            participant(1),
            answer_check(&q, answers(Answer::Yes, Answer::Yes, Answer::Yes), None)
        ),
        ErrorCode::SessionEnded
    );
    assert_eq!(
        r.refused(F, C::OpenReflection { phase: None }),
        ErrorCode::SessionEnded
    );
}

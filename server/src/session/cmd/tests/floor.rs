//! The floor, the ground rules and reports, checked on a real automerge record.

use super::*;
use tafel_protocol::{
    Consequence, FloorSettingsChange, HandKind, QueueOrder, QueueReason, ReportStatus, TurnEnd,
    TurnKind,
};

fn raise(r: &mut Room, p: usize) {
    r.ok(
        participant(p),
        C::RaiseHand {
            kind: HandKind::Hand,
        },
    );
}

/// The floor before the balanced preset: least spoken first with the cap, and none of the
/// rules that came with it (no shrinking turns, no room for the quiet, no perspectives).
fn classic() -> FloorSettingsChange {
    FloorSettingsChange {
        order: Some(QueueOrder::LeastSpoken),
        shrink_turns: Some(false),
        room_secs: Some(0),
        perspectives: Some(false),
        ..Default::default()
    }
}

fn settings(change: FloorSettingsChange) -> C {
    C::FloorSettings { change }
}

fn order(o: QueueOrder) -> C {
    settings(FloorSettingsChange {
        order: Some(o),
        ..Default::default()
    })
}

fn queue(r: &Room, role: Role) -> Vec<(String, QueueReason)> {
    r.record
        .state
        .floor_view(role, r.now, &[1, 1, 1, 1])
        .queue
        .into_iter()
        .map(|e| (e.participant, e.reason))
        .collect()
}

fn speaker(r: &Room) -> Option<String> {
    r.record
        .state
        .floor_view(Role::Projector, r.now, &[1, 1, 1, 1])
        .turn
        .map(|t| t.speaker)
}

/// Gives the floor to the first in the queue and lets them speak `ms`.
fn next_speaks(r: &mut Room, ms: i64) -> String {
    r.ok(F, C::GiveFloor { to: None });
    let who = speaker(r).unwrap();
    r.now += ms;
    r.ok(F, C::EndTurn);
    who
}

/// A bit of everything the floor and the rules record, for the hydrate test.
pub(super) fn script(r: &mut Room) {
    r.ok(F, order(QueueOrder::Fcfs));
    raise(r, 1);
    raise(r, 2);
    r.ok(F, C::GiveFloor { to: None });
    r.ok(
        participant(3),
        C::RaiseHand {
            kind: HandKind::Response,
        },
    );
    r.ok(F, C::PauseFloor);
    r.now += 5_000;
    r.ok(F, C::ResumeFloor);
    r.now += 20_000;
    r.ok(F, C::GiveFloor { to: None });
    r.ok(participant(3), C::EndTurn);
    r.ok(
        F,
        C::LowerHand {
            participant: Some("p3".into()),
        },
    );
    r.ok(F, order(QueueOrder::Round));
    r.ok(participant(2), C::Pass);
    r.ok(F, C::GiveFloor { to: None });
    r.ok(
        F,
        C::SetRule {
            rule: Some("g1".into()),
            text: "Uitpraten".into(),
        },
    );
    r.ok(participant(1), C::AgreeRules { agree: true });
    r.ok(participant(2), C::AgreeRules { agree: false });
    let x = r
        .ok(
            participant(1),
            C::Flag {
                rule: "g2".into(),
                about: Some("p3".into()),
                note: Some("te lang".into()),
                anonymous: true,
            },
        )
        .report
        .unwrap();
    r.ok(
        F,
        C::ConfirmFlag {
            report: x,
            consequence: Some(Consequence::HandWait { minutes: 2 }),
        },
    );
    r.ok(F, C::RemoveRule { rule: "g10".into() });
    r.ok(
        F,
        settings(FloorSettingsChange {
            turn_secs: Some(60),
            fair_share: Some(1.55),
            show_balance: Some(true),
            ..Default::default()
        }),
    );
}

#[test]
fn participants_cannot_steer_the_floor_or_judge_reports() {
    let mut r = Room::new(false);
    raise(&mut r, 1);
    r.ok(F, C::GiveFloor { to: None });
    let x = r
        .ok(
            participant(2),
            C::Flag {
                rule: "g1".into(),
                about: Some("p1".into()),
                note: None,
                anonymous: false,
            },
        )
        .report
        .unwrap();
    let p = participant(2);
    for cmd in [
        C::GiveFloor { to: None },
        C::GiveFloor {
            to: Some("p3".into()),
        },
        C::EndTurn,
        order(QueueOrder::Fcfs),
        C::PauseFloor,
        C::LowerHand {
            participant: Some("p2".into()),
        },
        C::ConfirmFlag {
            report: x.clone(),
            consequence: None,
        },
        C::DismissFlag { report: x.clone() },
        C::SetRule {
            rule: None,
            text: "Nieuw".into(),
        },
        C::RemoveRule { rule: "g1".into() },
    ] {
        assert_eq!(r.refused(p, cmd.clone()), ErrorCode::Forbidden, "{cmd:?}");
    }
    assert_eq!(
        r.refused(
            PROJECTOR,
            C::RaiseHand {
                kind: HandKind::Hand
            }
        ),
        ErrorCode::Forbidden
    );
    // Nobody but the facilitator receives reports, and theirs carries the reporter only when
    // the report was not anonymous.
    for role in [Role::Participant, Role::Projector] {
        let view = r.record.view(role, &r.moment());
        assert!(view.reports.is_empty(), "{role:?} sees reports");
        let json = serde_json::to_string(&view).unwrap();
        assert!(!json.contains("\"reporter\""), "{role:?}: {json}");
    }
}

#[test]
fn the_speaker_ends_their_own_turn_and_floor_time_is_counted() {
    let mut r = Room::new(false);
    raise(&mut r, 1);
    let ack = r.ok(F, C::GiveFloor { to: None });
    assert_eq!(ack.turn.as_deref(), Some("t1"));
    assert_eq!(speaker(&r).as_deref(), Some("p2"));
    assert!(
        r.record.state.floor.hand_of(1).is_none(),
        "the hand comes down with the floor"
    );
    r.now += 42_000;
    // Someone else cannot end it; the speaker can.
    assert_eq!(r.refused(participant(2), C::EndTurn), ErrorCode::Forbidden);
    r.ok(participant(1), C::EndTurn);
    assert_eq!(speaker(&r), None);
    let t = &r.record.state.floor.turns[0];
    assert_eq!(t.ended.map(|(_, how)| how), Some(TurnEnd::Speaker));
    let mine = r.record.state.your_floor(1);
    assert_eq!((mine.floor_ms, mine.turns), (42_002, 1));
    assert_eq!(r.refused(participant(1), C::EndTurn), ErrorCode::NoTurn);
    assert_eq!(
        r.refused(F, C::GiveFloor { to: None }),
        ErrorCode::QueueEmpty
    );
}

#[test]
fn giving_the_floor_out_of_order_is_recorded_as_an_override() {
    let mut r = Room::new(false);
    r.ok(F, order(QueueOrder::Fcfs));
    raise(&mut r, 1);
    raise(&mut r, 2);
    r.ok(
        F,
        C::GiveFloor {
            to: Some("p3".into()),
        },
    );
    r.ok(
        F,
        C::GiveFloor {
            to: Some("p2".into()),
        },
    );
    r.ok(
        F,
        C::GiveFloor {
            to: Some("p4".into()),
        },
    );
    let turns = &r.record.state.floor.turns;
    assert_eq!(
        turns
            .iter()
            .map(|t| (t.speaker, t.kind, t.over))
            .collect::<Vec<_>>(),
        vec![
            (2, TurnKind::Hand, true),
            (1, TurnKind::Hand, false),
            (3, TurnKind::Invited, false),
        ],
        "p2 was first in the queue by then; with nobody waiting, nobody is passed over"
    );
    assert_eq!(
        turns[0].ended.map(|(_, how)| how),
        Some(TurnEnd::Next),
        "giving the floor ends the running turn"
    );
    assert_eq!(
        r.refused(
            F,
            C::GiveFloor {
                to: Some("p9".into())
            }
        ),
        ErrorCode::UnknownParticipant
    );
}

#[test]
fn least_spoken_first_gives_quiet_people_the_floor_before_loud_ones() {
    let mut r = Room::new(false);
    r.ok(
        F,
        settings(FloorSettingsChange {
            fair_share: Some(10.0),
            ..classic()
        }),
    );
    raise(&mut r, 1);
    assert_eq!(next_speaks(&mut r, 60_000), "p2");
    raise(&mut r, 1); // spoke 60 s, raised first
    raise(&mut r, 3); // silent
    raise(&mut r, 2); // silent
    assert_eq!(
        queue(&r, Role::Participant),
        vec![
            ("p4".to_string(), QueueReason::NotSpokenYet),
            ("p3".to_string(), QueueReason::NotSpokenYet),
            ("p2".to_string(), QueueReason::SpokeLess),
        ]
    );
    // Switched live to first come, first served: the order of raising.
    r.ok(F, order(QueueOrder::Fcfs));
    assert_eq!(
        queue(&r, Role::Participant)
            .into_iter()
            .map(|(p, _)| p)
            .collect::<Vec<_>>(),
        vec!["p2", "p4", "p3"]
    );
}

#[test]
fn direct_responses_need_a_speaker_go_first_and_are_capped_per_phase() {
    let mut r = Room::new(false);
    let response = C::RaiseHand {
        kind: HandKind::Response,
    };
    assert_eq!(
        r.refused(participant(2), response.clone()),
        ErrorCode::NoTurn
    );
    raise(&mut r, 1);
    raise(&mut r, 3);
    r.ok(F, C::GiveFloor { to: None }); // p2 speaks
    assert_eq!(
        r.refused(participant(1), response.clone()),
        ErrorCode::Invalid,
        "no response to oneself"
    );
    r.ok(
        F,
        settings(FloorSettingsChange {
            response_cap: Some(1),
            response_secs: Some(20),
            ..Default::default()
        }),
    );
    r.ok(participant(2), response.clone());
    assert_eq!(
        queue(&r, Role::Participant)[0],
        ("p3".into(), QueueReason::Response)
    );
    r.ok(F, C::GiveFloor { to: None });
    let turn = r.record.state.floor.running().unwrap().clone();
    assert_eq!(
        (turn.speaker, turn.kind, turn.limit_ms),
        (2, TurnKind::Response, 20_000)
    );
    assert_eq!(r.record.state.your_floor(2).responses_used, 1);
    r.ok(
        F,
        C::GiveFloor {
            to: Some("p2".into()),
        },
    );
    assert_eq!(
        r.refused(participant(2), response.clone()),
        ErrorCode::ResponseCap
    );
    // A new phase, a new allowance.
    r.ok(F, C::SetPhase { phase: 1 });
    assert_eq!(r.record.state.your_floor(2).responses_used, 0);
    r.ok(participant(2), response);
}

#[test]
fn round_order_takes_everyone_present_in_turn_and_a_participant_may_pass() {
    let mut r = Room::new(false);
    assert_eq!(r.refused(participant(1), C::Pass), ErrorCode::Invalid);
    r.ok(F, order(QueueOrder::Round));
    let ids = |r: &Room| {
        queue(r, Role::Participant)
            .into_iter()
            .map(|(p, _)| p)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&r),
        vec!["p2", "p3", "p4"],
        "the facilitator is not in the round"
    );
    assert_eq!(next_speaks(&mut r, 1_000), "p2");
    r.ok(participant(2), C::Pass);
    assert_eq!(ids(&r), vec!["p4", "p2"]);
    assert_eq!(next_speaks(&mut r, 1_000), "p4");
    assert_eq!(next_speaks(&mut r, 1_000), "p2");
    assert_eq!(
        next_speaks(&mut r, 1_000),
        "p3",
        "who passed is back next time round"
    );
    assert_eq!(r.record.state.floor.turns[0].kind, TurnKind::Round);
}

#[test]
fn a_paused_floor_gives_no_turns_and_counts_no_time() {
    let mut r = Room::new(false);
    raise(&mut r, 1);
    raise(&mut r, 2);
    r.ok(F, C::GiveFloor { to: None });
    r.ok(F, C::PauseFloor);
    r.ok(F, C::PauseFloor); // twice changes nothing
    assert_eq!(
        r.refused(F, C::GiveFloor { to: None }),
        ErrorCode::FloorPaused
    );
    r.now += 60_000;
    r.ok(F, C::ResumeFloor);
    r.now += 10_000;
    r.ok(participant(1), C::EndTurn);
    let used = r.record.state.floor.floor_ms(1);
    assert!((10_000..10_010).contains(&used), "{used}");
}

#[test]
fn floor_settings_are_checked() {
    let mut r = Room::new(false);
    for bad in [
        FloorSettingsChange::default(),
        FloorSettingsChange {
            turn_secs: Some(4),
            ..Default::default()
        },
        FloorSettingsChange {
            response_secs: Some(301),
            ..Default::default()
        },
        FloorSettingsChange {
            fair_share: Some(0.5),
            ..Default::default()
        },
        FloorSettingsChange {
            response_cap: Some(21),
            ..Default::default()
        },
    ] {
        assert_eq!(r.refused(F, settings(bad)), ErrorCode::Invalid, "{bad:?}");
    }
    r.ok(
        F,
        settings(FloorSettingsChange {
            fair_share: Some(2.44),
            ..Default::default()
        }),
    );
    assert_eq!(r.record.state.floor.settings.fair_share, 2.4);
}

#[test]
fn rules_start_with_ten_and_an_edit_asks_everyone_to_agree_again() {
    let mut r = Room::new(false);
    let rules = r.record.state.rules_view();
    assert_eq!(rules.rules.len(), 10);
    assert_eq!(rules.rules[0].text, "We laten elkaar uitpraten.");
    r.ok(participant(1), C::AgreeRules { agree: true });
    r.ok(participant(2), C::AgreeRules { agree: true });
    r.ok(participant(3), C::AgreeRules { agree: false });
    r.ok(participant(3), C::AgreeRules { agree: true });
    let rules = r.record.state.rules_view();
    assert_eq!(
        (rules.agreed, rules.disagreed),
        (3, 0),
        "the latest answer counts"
    );
    assert_eq!(r.record.state.your_floor(3).agreed, Some(true));
    let added = r
        .ok(
            F,
            C::SetRule {
                rule: None,
                text: "  Koffie om elf uur.  ".into(),
            },
        )
        .rule
        .unwrap();
    assert_eq!(added, "g11");
    let rules = r.record.state.rules_view();
    assert_eq!(rules.rules[10].text, "Koffie om elf uur.");
    assert_eq!((rules.version, rules.agreed), (1, 0));
    assert_eq!(r.record.state.your_floor(3).agreed, None);
    r.ok(F, C::RemoveRule { rule: "g11".into() });
    assert_eq!(r.record.state.rules_view().rules.len(), 10);
    assert_eq!(
        r.refused(F, C::RemoveRule { rule: "g11".into() }),
        ErrorCode::UnknownRule
    );
    assert_eq!(
        r.refused(
            F,
            C::SetRule {
                rule: Some("g1".into()),
                text: " ".into()
            }
        ),
        ErrorCode::Invalid
    );
}

fn flag(r: &mut Room, by: usize, rule: &str, about: Option<&str>) -> Result<String, ErrorCode> {
    r.run(
        participant(by),
        C::Flag {
            rule: rule.into(),
            about: about.map(Into::into),
            note: None,
            anonymous: true,
        },
    )
    .map(|a| a.report.unwrap())
    .map_err(|e| e.code)
}

#[test]
fn reports_cannot_be_used_to_harass() {
    let mut r = Room::new(false);
    flag(&mut r, 1, "g1", Some("p3")).unwrap();
    assert_eq!(
        r.refused(
            participant(1),
            C::Flag {
                rule: "g3".into(),
                about: Some("p3".into()),
                note: None,
                anonymous: false
            }
        ),
        ErrorCode::ReportLimit,
        "one open report per reporter per person"
    );
    flag(&mut r, 1, "g1", Some("p4")).unwrap();
    flag(&mut r, 1, "g1", None).unwrap();
    assert_eq!(
        r.refused(
            participant(1),
            C::Flag {
                rule: "g1".into(),
                about: None,
                note: None,
                anonymous: false
            }
        ),
        ErrorCode::ReportLimit,
        "three reports per ten minutes"
    );
    r.now += 10 * 60 * 1000;
    flag(&mut r, 1, "g1", None).unwrap();
    // Once decided, a new report about the same person is possible again.
    r.ok(
        F,
        C::DismissFlag {
            report: "x1".into(),
        },
    );
    r.now += 10 * 60 * 1000;
    flag(&mut r, 1, "g1", Some("p3")).unwrap();
    assert_eq!(
        r.refused(
            F,
            C::DismissFlag {
                report: "x1".into()
            }
        ),
        ErrorCode::ReportClosed
    );
}

#[test]
fn confirmed_violations_count_per_rule_and_person_and_carry_consequences() {
    let mut r = Room::new(false);
    let x1 = flag(&mut r, 1, "g3", Some("p3")).unwrap();
    let x2 = flag(&mut r, 2, "g3", Some("p3")).unwrap();
    let x3 = flag(&mut r, 3, "g1", None).unwrap();
    assert_eq!(
        r.refused(
            F,
            C::ConfirmFlag {
                report: x3.clone(),
                consequence: Some(Consequence::Warning)
            }
        ),
        ErrorCode::Invalid,
        "a consequence needs someone it is about"
    );
    assert_eq!(
        r.refused(
            F,
            C::ConfirmFlag {
                report: x1.clone(),
                consequence: Some(Consequence::HandWait { minutes: 61 })
            }
        ),
        ErrorCode::Invalid
    );
    r.ok(
        F,
        C::ConfirmFlag {
            report: x1,
            consequence: Some(Consequence::Warning),
        },
    );
    r.ok(
        F,
        C::ConfirmFlag {
            report: x2,
            consequence: Some(Consequence::HandWait { minutes: 5 }),
        },
    );
    let confirmed_at = r.now;
    r.ok(F, C::DismissFlag { report: x3 });
    let rules = r.record.state.rules_view();
    assert_eq!(
        (rules.rules[2].violations, rules.rules[0].violations),
        (2, 0)
    );
    let fac = r
        .record
        .state
        .floor_view(Role::Facilitator, r.now, &[1, 1, 1, 1]);
    let p3 = fac.balance.unwrap().per_person;
    assert_eq!(
        p3.iter()
            .find(|p| p.participant == "p3")
            .unwrap()
            .violations,
        2
    );
    let mine = r.record.state.your_floor(2);
    assert_eq!(mine.warnings.len(), 2);
    assert_eq!(mine.warnings[1].hand_wait_minutes, Some(5));
    let until = mine.hand_wait_until.unwrap();
    assert_eq!(until, confirmed_at + 5 * 60_000);
    assert_eq!(
        r.record.state.your_floor(1).reports[0].status,
        ReportStatus::Confirmed,
        "the reporter sees what became of the report"
    );
    // The held hand waits behind a later one, and only the facilitator sees why.
    raise(&mut r, 2);
    raise(&mut r, 1);
    assert_eq!(
        queue(&r, Role::Facilitator),
        vec![
            ("p2".to_string(), QueueReason::NotSpokenYet),
            ("p3".to_string(), QueueReason::OnHold)
        ]
    );
    assert_eq!(
        queue(&r, Role::Participant),
        vec![("p2".to_string(), QueueReason::NotSpokenYet)],
        "only the facilitator sees who waits after a violation"
    );
    assert_eq!(
        r.ok(F, C::GiveFloor { to: None }).turn.as_deref(),
        Some("t1"),
        "next is p2, not the held p3"
    );
    assert_eq!(speaker(&r).as_deref(), Some("p2"));
    assert_eq!(
        r.refused(F, C::GiveFloor { to: None }),
        ErrorCode::QueueEmpty,
        "a held hand alone does not get the floor by itself"
    );
    r.now = until;
    assert_eq!(queue(&r, Role::Participant)[0].0, "p3", "the hold is over");
    r.ok(F, C::GiveFloor { to: None });
    assert_eq!(speaker(&r).as_deref(), Some("p3"));
}

#[test]
fn a_long_queue_is_listed_up_to_fifty_places_and_counted_whole() {
    let mut r = Room::new(false);
    for i in 0..57 {
        let name = format!("Deelnemer {i}");
        r.join(&name, tafel_protocol::Perspective::Medewerker)
            .unwrap();
    }
    r.ok(F, order(QueueOrder::Round));
    let view = r
        .record
        .state
        .floor_view(Role::Participant, r.now, &[1; 61]);
    assert_eq!((view.queue.len(), view.waiting), (50, 60));
    assert_eq!(view.queue[0].participant, "p2");
}

#[test]
fn a_direct_response_ends_when_someone_new_gets_the_floor() {
    let mut r = Room::new(false);
    raise(&mut r, 1);
    raise(&mut r, 2);
    r.ok(F, C::GiveFloor { to: None }); // p2 speaks
    let response = C::RaiseHand {
        kind: HandKind::Response,
    };
    r.ok(participant(3), response);
    assert_eq!(
        r.refused(
            participant(1),
            C::RaiseHand {
                kind: HandKind::Hand
            }
        ),
        ErrorCode::Invalid,
        "the speaker raises no hand"
    );
    // The facilitator passes over the response: a new speaker, so the response is gone.
    r.ok(
        F,
        C::GiveFloor {
            to: Some("p3".into()),
        },
    );
    assert_eq!(r.record.state.your_floor(3).hand, None);
    assert!(queue(&r, Role::Facilitator).is_empty());
    r.ok(F, order(QueueOrder::Round));
    assert_eq!(
        r.refused(
            participant(1),
            C::RaiseHand {
                kind: HandKind::Hand
            }
        ),
        ErrorCode::Invalid,
        "in round order everyone is in line without a hand"
    );
}

#[test]
fn a_direct_response_ends_with_the_turn_it_answers() {
    let response = C::RaiseHand {
        kind: HandKind::Response,
    };
    let mut r = Room::new(false);
    raise(&mut r, 1);
    r.ok(F, C::GiveFloor { to: None }); // p2 speaks
    r.ok(participant(2), response.clone());
    r.ok(participant(3), response.clone());
    // Straight on to a direct response: the other response to the same speaker waits.
    r.ok(F, C::GiveFloor { to: None });
    assert_eq!(speaker(&r).as_deref(), Some("p3"));
    assert_eq!(
        queue(&r, Role::Participant),
        vec![("p4".into(), QueueReason::Response)]
    );
    // That exchange ends without another response: the waiting one ends with it.
    let (answer, changed) = r.step(participant(2), &C::EndTurn);
    answer.unwrap();
    assert_eq!(r.record.state.your_floor(3).hand, None);
    assert!(queue(&r, Role::Facilitator).is_empty());
    assert!(
        changed.you().any(|(p, c)| p == 3 && c.floor),
        "the responder's own data is sent again"
    );

    // A speaker's turn that the facilitator ends, or that runs out, takes its responses along;
    // ordinary hands stay up.
    for ending in ["facilitator", "limit"] {
        let mut r = Room::new(false);
        r.ok(
            F,
            settings(FloorSettingsChange {
                mode: Some(tafel_protocol::LimitMode::Hard),
                turn_secs: Some(60),
                ..Default::default()
            }),
        );
        raise(&mut r, 1);
        raise(&mut r, 2);
        r.ok(F, C::GiveFloor { to: None }); // p2 speaks
        r.ok(participant(3), response.clone());
        assert_eq!(queue(&r, Role::Participant)[0].1, QueueReason::Response);
        if ending == "facilitator" {
            r.ok(F, C::EndTurn);
        } else {
            r.now += 60_000;
            assert!(r.limit_reached());
        }
        assert_eq!(r.record.state.your_floor(3).hand, None, "{ending}");
        let last = r.record.state.your_floor(1).last_turn.unwrap();
        let how = if ending == "limit" {
            TurnEnd::Limit
        } else {
            TurnEnd::Facilitator
        };
        assert_eq!((last.turn.as_str(), last.how), ("t1", how), "{ending}");
        if ending == "limit" {
            assert_eq!(last.used_ms, 60_000);
        }
        assert_eq!(
            queue(&r, Role::Participant)
                .into_iter()
                .map(|(p, _)| p)
                .collect::<Vec<_>>(),
            vec!["p3".to_string()],
            "{ending}: the ordinary hand stays"
        );
        r.assert_hydrates();
    }
}

#[test]
fn switching_to_hard_limits_in_overtime_ends_the_turn_at_the_switch() {
    let mut r = Room::new(false);
    r.ok(
        F,
        settings(FloorSettingsChange {
            mode: Some(tafel_protocol::LimitMode::Soft),
            turn_secs: Some(60),
            ..Default::default()
        }),
    );
    raise(&mut r, 1);
    r.ok(F, C::GiveFloor { to: None });
    let started = r.now;
    r.now += 90_000;
    r.ok(
        F,
        settings(FloorSettingsChange {
            mode: Some(tafel_protocol::LimitMode::Hard),
            ..Default::default()
        }),
    );
    let switched = r.now;
    r.now += 5;
    let ended = r.limit_reached();
    assert!(ended);
    let turn = &r.record.state.floor.turns[0];
    assert_eq!(turn.ended, Some((switched, TurnEnd::Limit)));
    assert_eq!(r.record.state.floor.floor_ms(1), switched - started);
    assert!(!r.limit_reached(), "nothing left to end");
}

/// The scripted session of the floor's end-to-end test, on the pure fold with given times:
/// eight phones, two loud ones (p2, p3) that raise again the moment their turn is over, six
/// quiet ones (p4–p9) that each raise once, one before each of the turns 1 to 6. Ten turns of
/// exactly a minute. Returns who spoke, in order, and the balance figure at the end.
fn scripted(order: QueueOrder, fair_share: f64) -> (Vec<usize>, f64) {
    let mut r = Room::new(false);
    for name in ["Dirk", "Eva", "Fien", "Gijs", "Hana"] {
        r.join(name, tafel_protocol::Perspective::Client).unwrap();
    }
    r.ok(
        F,
        settings(FloorSettingsChange {
            order: Some(order),
            fair_share: Some(fair_share),
            ..classic()
        }),
    );
    raise(&mut r, 1);
    raise(&mut r, 2);
    let mut spoke = Vec::new();
    for turn in 0..10 {
        if (1..=6).contains(&turn) {
            raise(&mut r, turn + 2);
        }
        let who = next_speaks(&mut r, 60_000);
        let p = crate::session::state::parse_id('p', &who).unwrap();
        spoke.push(p);
        if p <= 2 {
            raise(&mut r, p);
        }
    }
    let balance = r
        .record
        .state
        .floor_view(Role::Facilitator, r.now, &r.online)
        .balance
        .unwrap();
    assert_eq!(balance.people, 8, "the facilitator does not count");
    (spoke, balance.figure.unwrap())
}

/// 1 − the Gini coefficient of the given floor times, counted by hand: the mean absolute
/// difference over all pairs, over twice the mean.
fn one_minus_gini(times: &[f64]) -> f64 {
    let n = times.len() as f64;
    let mean = times.iter().sum::<f64>() / n;
    let diffs: f64 = times
        .iter()
        .flat_map(|a| times.iter().map(move |b| (a - b).abs()))
        .sum();
    1.0 - diffs / (2.0 * n * n * mean)
}

#[test]
fn least_spoken_first_gives_the_quiet_ones_the_floor_and_a_better_balance() {
    // The fair-share cap off (factor 10), to compare the orders alone; then first come, first
    // served with the default cap (2×), as a facilitator would run it.
    let (fcfs, fcfs_figure) = scripted(QueueOrder::Fcfs, 10.0);
    let (capped, capped_figure) = scripted(QueueOrder::Fcfs, 2.0);
    let (least, least_figure) = scripted(QueueOrder::LeastSpoken, 10.0);
    let turns = |order: &[usize], p: usize| order.iter().filter(|x| **x == p).count() as f64;
    let by_hand = |order: &[usize]| {
        one_minus_gini(&(1..=8).map(|p| turns(order, p) * 60.0).collect::<Vec<_>>())
    };
    // The server's figure is the one counted by hand from who spoke (every turn a minute).
    for (order, figure) in [
        (&fcfs, fcfs_figure),
        (&capped, capped_figure),
        (&least, least_figure),
    ] {
        assert!(
            (figure - by_hand(order)).abs() < 1e-9,
            "{figure} for {order:?}"
        );
    }
    // Under least spoken first, every quiet person spoke before either loud one spoke twice.
    let second_loud = least
        .iter()
        .enumerate()
        .filter(|(_, p)| **p <= 2)
        .nth(2)
        .unwrap()
        .0;
    for q in 3..=8 {
        let first = least.iter().position(|p| *p == q).unwrap();
        assert!(first < second_loud, "p{} waited: {least:?}", q + 1);
    }
    // Under first come, first served the loud ones take most turns.
    assert!(turns(&fcfs, 1) + turns(&fcfs, 2) >= 6.0, "{fcfs:?}");
    assert!(
        fcfs_figure < capped_figure,
        "{fcfs_figure} vs {capped_figure}"
    );
    assert!(
        capped_figure < least_figure,
        "{capped_figure} vs {least_figure}"
    );
    // With every turn exactly a minute the figures are exact (bench/RESULTS.md quotes them).
    let figures = [fcfs_figure, capped_figure, least_figure];
    let expected = [0.55, 0.675, 0.85];
    assert!(
        figures
            .iter()
            .zip(expected)
            .all(|(f, e)| (f - e).abs() < 1e-9),
        "{figures:?}"
    );
}

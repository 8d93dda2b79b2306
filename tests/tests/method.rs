//! What a session produces, end to end over real sockets against the real server: the
//! readiness check, who is at the table, success criteria, experiments and lessons, and
//! reflections. Every new command goes through, every role sees what it may, and no frame any
//! role receives ties an anonymous answer or reflection to a person.

use tafel_protocol::*;
use tafel_tests::*;

fn answers(urgent: Answer, complex: Answer, willing: Answer) -> ReadinessAnswers {
    ReadinessAnswers {
        urgent: Some(urgent),
        complex: Some(complex),
        willing: Some(willing),
    }
}

/// A phrase only one person wrote, to hunt for in everyone's frames.
const ANNAS_COMMENT: &str = "Ik durf het niet hardop te zeggen";
const BRAMS_REFLECTION: &str = "Het ging te snel voor mij";

/// Every frame a client received that mentions `needle`, with its type.
fn frames_with<'a>(client: &'a Client, needle: &str) -> Vec<&'a str> {
    client
        .frames
        .iter()
        .filter(|f| f.contains(needle))
        .map(String::as_str)
        .collect()
}

/// Whether a frame's readiness checks and reflections name nobody (no participant id, no
/// pseudonym) — the rest of a frame may name people (cards, the floor, …).
fn answers_name_nobody(frame: &str) -> bool {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(frame) else {
        return false;
    };
    let parts = [
        value.pointer("/view/checks"),
        value.pointer("/patch/checks"),
        value.pointer("/view/reflections"),
        value.pointer("/patch/reflections"),
        value.pointer("/view/criteria"),
        value.pointer("/patch/criteria"),
    ];
    parts.into_iter().flatten().all(|part| {
        let text = part.to_string();
        let ids = text
            .match_indices("\"p")
            .any(|(at, _)| text[at + 2..].starts_with(|c: char| c.is_ascii_digit()));
        !ids && !text.contains('~')
    })
}

#[tokio::test]
async fn readiness_answers_and_anonymous_reflections_reach_no_one_with_a_name() -> anyhow::Result<()>
{
    let server = Server::start()?;
    let mut t = server
        .table(
            "Klaar voor actieleren?",
            true,
            Perspective::Client,
            Perspective::Naaste,
        )
        .await?;
    use Answer::*;
    let q = t.fac.ok(Command::OpenCheck).await?.check.unwrap();
    let answer = |a, comment: Option<&str>| Command::AnswerCheck {
        check: q.clone(),
        answers: a,
        comment: comment.map(Into::into),
    };
    t.anna
        .ok(answer(answers(Yes, Yes, NotSure), Some(ANNAS_COMMENT)))
        .await?;
    t.bram.ok(answer(answers(No, Yes, Yes), None)).await?;
    assert_eq!(
        t.fac.refused(answer(answers(Yes, Yes, Yes), None)).await?,
        ErrorCode::Forbidden,
        "the facilitator records the conclusion; the group answers"
    );
    let y = t
        .fac
        .ok(Command::OpenReflection { phase: None })
        .await?
        .reflection
        .unwrap();
    let reflect = |worked: &str, not_worked: &str| Command::Reflect {
        reflection: y.clone(),
        worked: worked.into(),
        not_worked: not_worked.into(),
    };
    t.bram
        .ok(reflect("Iedereen kwam aan bod", BRAMS_REFLECTION))
        .await?;
    t.anna.ok(reflect("Fijn gesprek", "")).await?;
    t.fac
        .ok(Command::ConcludeCheck {
            check: q.clone(),
            conclusion: Conclusion::Start,
            note: None,
        })
        .await?;
    for c in [&mut t.fac, &mut t.proj, &mut t.anna, &mut t.bram] {
        c.sync().await?;
    }

    // Everyone sees the same counts and the conclusion.
    for (who, c) in [
        ("facilitator", &t.fac),
        ("projector", &t.proj),
        ("anna", &t.anna),
        ("bram", &t.bram),
    ] {
        let check = &c.view().checks[0];
        assert_eq!(check.answered, 2, "{who}");
        assert_eq!((check.urgent.yes, check.urgent.no), (1, 1), "{who}");
        assert_eq!(check.conclusion, Some(Conclusion::Start), "{who}");
        let r = &c.view().reflections[0];
        assert_eq!(r.entries.len(), 2, "{who}");
        assert!(
            r.entries.iter().all(|e| e.by.is_none()),
            "{who}: anonymous session"
        );
    }
    // Anna's comment: in the facilitator's frames only inside a check's comments, in her own
    // `you`, and nowhere else.
    assert_eq!(t.fac.view().checks[0].comments, [ANNAS_COMMENT]);
    for f in frames_with(&t.fac, ANNAS_COMMENT) {
        assert!(
            f.contains("\"comments\":[\""),
            "the facilitator got it outside comments: {f}"
        );
    }
    assert!(frames_with(&t.proj, ANNAS_COMMENT).is_empty());
    assert!(frames_with(&t.bram, ANNAS_COMMENT).is_empty());
    assert!(
        frames_with(&t.anna, ANNAS_COMMENT)
            .iter()
            .all(|f| f.contains("\"type\":\"you_delta\"") || f.contains("\"type\":\"welcome\"")),
        "Anna sees her comment only as her own data"
    );
    assert_eq!(
        t.anna.you.as_ref().unwrap().readiness[0].comment.as_deref(),
        Some(ANNAS_COMMENT)
    );
    // No frame any role received ties a readiness answer or a reflection to a person.
    for (who, c) in [
        ("facilitator", &t.fac),
        ("projector", &t.proj),
        ("anna", &t.anna),
        ("bram", &t.bram),
    ] {
        for f in &c.frames {
            assert!(answers_name_nobody(f), "{who}: {f}");
        }
        // Bram's reflection reaches everyone, but never in the same message as his `you`.
        for f in frames_with(c, BRAMS_REFLECTION) {
            if !f.contains("\"type\":\"you_delta\"") {
                assert!(answers_name_nobody(f), "{who}: {f}");
            }
        }
    }
    let bram_you = t.bram.you.as_ref().unwrap();
    assert_eq!(bram_you.reflections[0].entry.not_worked, BRAMS_REFLECTION);
    assert!(
        t.anna.you.as_ref().unwrap().reflections[0]
            .entry
            .not_worked
            .is_empty()
    );
    Ok(())
}

#[tokio::test]
async fn the_table_warns_while_a_needed_perspective_has_nobody_present() -> anyhow::Result<()> {
    let server = Server::start()?;
    let mut t = server
        .table(
            "Wie zit aan tafel?",
            false,
            Perspective::Medewerker,
            Perspective::Manager,
        )
        .await?;
    let party = |name: &str, perspective, stake| Command::ProposeParty {
        name: name.into(),
        perspective,
        stake,
    };
    let clients = t
        .fac
        .ok(party(
            "Cliënten van de wijk",
            Perspective::Client,
            Stake::Both,
        ))
        .await?
        .party
        .unwrap();
    let proposed = t
        .anna
        .ok(party("Huisartsen", Perspective::Anders, Stake::Needed))
        .await?
        .party
        .unwrap();
    t.fac
        .until(|v| v.table.missing == [Perspective::Client])
        .await?;
    // A proposal waits for the facilitator, who lists it.
    t.fac
        .ok(Command::UpdateParty {
            party: proposed,
            name: None,
            perspective: None,
            stake: None,
            status: Some(PartyStatus::Listed),
        })
        .await?;
    t.fac
        .until(|v| v.table.missing == [Perspective::Client, Perspective::Anders])
        .await?;
    // A client joins: the warning for clients goes.
    let mut dirk = server.client().await?;
    dirk.join(&t.session.code, "Dirk", Perspective::Client)
        .await?;
    t.fac
        .until(|v| v.table.missing == [Perspective::Anders])
        .await?;
    let row = t
        .fac
        .view()
        .table
        .coverage
        .iter()
        .find(|c| c.perspective == Perspective::Client)
        .cloned()
        .unwrap();
    assert_eq!(
        (row.present, row.parties, row.needed, row.affected),
        (1, 1, true, true)
    );
    // Dirk's phone goes away: the warning comes back.
    drop(dirk);
    t.fac
        .until(|v| v.table.missing.contains(&Perspective::Client))
        .await?;
    assert_eq!(
        t.anna
            .refused(Command::UpdateParty {
                party: clients,
                name: None,
                perspective: None,
                stake: None,
                status: Some(PartyStatus::Removed),
            })
            .await?,
        ErrorCode::Forbidden
    );
    // The big screen shows the coverage once the facilitator says so.
    t.fac
        .ok(Command::SetDisplay {
            table: Some(true),
            criteria: Some(true),
        })
        .await?;
    t.proj
        .until(|v| v.session.display.table && v.session.display.criteria)
        .await?;
    assert!(!t.proj.view().table.coverage.is_empty());
    Ok(())
}

#[tokio::test]
async fn criteria_experiments_and_lessons_over_the_wire() -> anyhow::Result<()> {
    let server = Server::start()?;
    let mut t = server
        .table(
            "Tevreden als…",
            false,
            Perspective::Client,
            Perspective::Medewerker,
        )
        .await?;
    let c = t
        .anna
        .ok(Command::ProposeCriterion {
            text: "Cliënten kiezen zelf hun tijd".into(),
            target: Some(80.0),
            unit: Some("%".into()),
        })
        .await?
        .criterion
        .unwrap();
    t.fac
        .ok(Command::AskConsent {
            criterion: c.clone(),
        })
        .await?;
    for phone in [&mut t.anna, &mut t.bram] {
        phone
            .ok(Command::Consent {
                criterion: c.clone(),
                agree: true,
            })
            .await?;
    }
    t.proj
        .until(|v| {
            v.criteria
                .first()
                .and_then(|c| c.consent)
                .is_some_and(|n| n.agree == 2)
        })
        .await?;
    t.fac
        .ok(Command::DecideCriterion {
            criterion: c.clone(),
            agreed: true,
        })
        .await?;

    // An idea, a condition under it, and the experiment the idea's author makes of it.
    let idea = t
        .anna
        .ok(idea("Vaste gezichten op de groep"))
        .await?
        .card
        .unwrap();
    let condition = Command::AddCard {
        text: "Het rooster moet het toelaten".into(),
        kind: CardKind::Condition,
        builds_on: Some(idea.clone()),
        source: None,
        lesson_of: None,
    };
    t.bram.ok(condition).await?;
    assert_eq!(
        t.bram
            .refused(Command::AddExperiment {
                title: "Niet van mij".into(),
                from_card: Some(idea.clone()),
            })
            .await?,
        ErrorCode::Forbidden
    );
    let e = t
        .anna
        .ok(Command::AddExperiment {
            title: "Vaste koppels".into(),
            from_card: Some(idea.clone()),
        })
        .await?
        .experiment
        .unwrap();
    let change = ExperimentChange {
        prediction: Some("Als we vaste koppels maken, dan is het rustiger".into()),
        owners: Some(vec![t.bram.you.as_ref().unwrap().id.clone().unwrap()]),
        start: Some("2027-01-04".into()),
        status: Some(ExperimentStatus::Running),
        ..Default::default()
    };
    t.anna
        .ok(Command::UpdateExperiment {
            experiment: e.clone(),
            change: Box::new(change),
        })
        .await?;
    // The owner records that it failed.
    let failed = ExperimentChange {
        status: Some(ExperimentStatus::Stopped),
        outcome: Some(Outcome::DidNotWork),
        observed: Some("Na twee weken liepen de roosters vast".into()),
        decision: Some(Decision::Abandon),
        ..Default::default()
    };
    t.bram
        .ok(Command::UpdateExperiment {
            experiment: e.clone(),
            change: Box::new(failed),
        })
        .await?;
    let lesson = Command::AddCard {
        text: "Roosters eerst, dan koppels".into(),
        kind: CardKind::Lesson,
        builds_on: None,
        source: None,
        lesson_of: Some(LessonOf::Experiment(e.clone())),
    };
    // A lesson sent twice with the same id (a phone resending after a reconnect) is made once.
    let first = t.bram.cmd_with_id("les-1", lesson.clone()).await?;
    let again = t.bram.cmd_with_id("les-1", lesson).await?;
    assert_eq!(first, again, "the same answer");
    t.fac.ok(Command::SetPhase { phase: 5 }).await?;
    t.fac
        .ok(Command::AssessCriterion {
            criterion: c.clone(),
            assessment: Assessment::NotMet,
            note: Some("Eerst de roosters".into()),
        })
        .await?;
    t.proj.sync().await?;
    let v = t.proj.view();
    let x = &v.experiments[0];
    assert_eq!(
        (x.outcome, x.decision),
        (Some(Outcome::DidNotWork), Some(Decision::Abandon))
    );
    let lessons: Vec<_> = v
        .cards
        .iter()
        .filter(|k| k.kind == CardKind::Lesson)
        .collect();
    assert_eq!(lessons.len(), 1, "applied once");
    assert_eq!(lessons[0].lesson_of, Some(LessonOf::Experiment(e)));
    assert_eq!(v.criteria[0].assessment, Some(Assessment::NotMet));
    let under: Vec<_> = v
        .cards
        .iter()
        .filter(|k| k.builds_on.as_deref() == Some(idea.as_str()))
        .collect();
    assert_eq!(under.len(), 1, "the condition builds on the idea");
    Ok(())
}

/// The exchange that `docs/protocol.md` shows for what a session produces: a facilitator and
/// one participant, each step's frames as they arrived. With `TAFEL_RECORD=file` it also writes
/// the transcript to that file (for the docs).
#[tokio::test]
async fn a_recorded_exchange_of_what_a_session_produces() -> anyhow::Result<()> {
    let server = Server::start()?;
    let s = server
        .create_session("Minder papierwerk, meer zorg", false)
        .await?;
    let mut fac = server.client().await?;
    fac.resume(&s.code, &s.facilitator_token).await?;
    let mut anna = server.client().await?;
    anna.join(&s.code, "Anna", Perspective::Client).await?;
    fac.sync().await?;
    let mut transcript = String::new();
    let mut seen = (fac.frames.len(), anna.frames.len());
    let mut types = Vec::new();
    let steps: Vec<(bool, Command)> = vec![
        (true, Command::OpenCheck),
        (
            false,
            Command::AnswerCheck {
                check: "q1".into(),
                answers: answers(Answer::Yes, Answer::Yes, Answer::NotSure),
                comment: Some("Het speelt al jaren".into()),
            },
        ),
        (
            true,
            Command::ConcludeCheck {
                check: "q1".into(),
                conclusion: Conclusion::Start,
                note: None,
            },
        ),
        (
            true,
            Command::ProposeParty {
                name: "Cliëntenraad".into(),
                perspective: Perspective::Client,
                stake: Stake::Affected,
            },
        ),
        (
            false,
            Command::ProposeCriterion {
                text: "Een uur minder papierwerk per dienst".into(),
                target: Some(1.0),
                unit: Some("uur".into()),
            },
        ),
        (
            true,
            Command::AskConsent {
                criterion: "c1".into(),
            },
        ),
        (
            false,
            Command::Consent {
                criterion: "c1".into(),
                agree: true,
            },
        ),
        (
            true,
            Command::AddExperiment {
                title: "Rapporteren met spraak".into(),
                from_card: None,
            },
        ),
        (true, Command::OpenReflection { phase: None }),
        (
            false,
            Command::Reflect {
                reflection: "y1".into(),
                worked: "Iedereen kwam aan het woord".into(),
                not_worked: String::new(),
            },
        ),
    ];
    for (n, (by_fac, cmd)) in steps.into_iter().enumerate() {
        let (who, client) = if by_fac {
            ("facilitator", &mut fac)
        } else {
            ("participant", &mut anna)
        };
        let id = format!("c{}", n + 1);
        let sent = serde_json::to_string(&ClientMessage::Cmd {
            id: id.clone(),
            cmd: cmd.clone(),
        })?;
        match client.cmd_with_id(&id, cmd).await? {
            ServerMessage::Ack { .. } => {}
            other => anyhow::bail!("step {}: {other:?}", n + 1),
        }
        fac.sync().await?;
        anna.sync().await?;
        transcript += &format!("{who} → {sent}\n");
        for (name, c, from) in [
            ("facilitator", &fac, seen.0),
            ("participant", &anna, seen.1),
        ] {
            for f in &c.frames[from..] {
                if f.contains("\"type\":\"synced\"") {
                    continue;
                }
                let v: serde_json::Value = serde_json::from_str(f)?;
                types.push(format!("{name}:{}", v["type"].as_str().unwrap_or("?")));
                transcript += &format!("{name} ← {f}\n");
            }
        }
        transcript += "\n";
        seen = (fac.frames.len(), anna.frames.len());
    }
    if let Ok(file) = std::env::var("TAFEL_RECORD") {
        std::fs::write(file, &transcript)?;
    }
    // Every command was answered after its deltas, and own data went only to its owner.
    assert!(types.iter().filter(|t| t.ends_with(":ack")).count() == 10);
    assert!(
        types
            .iter()
            .filter(|t| t.ends_with(":you_delta"))
            .all(|t| t.starts_with("participant")),
        "{types:?}"
    );
    Ok(())
}

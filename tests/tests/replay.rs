//! Replay and the report, end to end: a scripted session over real sockets, then its replay
//! and its report over HTTP from the same server. The replay of each recorded moment equals
//! what each role was shown then; nothing in any replay frame or report identifies a voter, a
//! reporter or an anonymous author, or holds a token.

use tafel_protocol::*;
use tafel_tests::*;

/// A view without what depends on the moment it was looked at rather than on the session:
/// the floor's clock, and how long a running turn had run.
fn settled(mut v: View) -> View {
    v.floor.now = 0;
    if let Some(t) = &mut v.floor.turn {
        t.elapsed_ms = 0;
        t.overtime = false;
    }
    v
}

/// The projector's view as a replay link shows it: what the big screen showed, or could
/// have shown (its balance, which the facilitator may not have put on it).
fn as_replay_link(mut projector: View, replay: &View) -> View {
    projector.floor.balance = replay.floor.balance.clone();
    projector
}

async fn json<T: serde::de::DeserializeOwned>(
    server: &Server,
    path: &str,
    token: &str,
) -> anyhow::Result<T> {
    let res = server.get_with_token(path, token).await?;
    anyhow::ensure!(res.status == 200, "{path}: {} {}", res.status, res.body);
    Ok(serde_json::from_str(&res.body)?)
}

/// A replay link made by the facilitator: its token.
async fn replay_link(fac: &mut Client) -> anyhow::Result<(String, String)> {
    let ack = fac.ok(Command::ReplayLink).await?;
    let url = ack.replay_url.expect("a link");
    let token = url.split_once('#').expect("a token after #").1.to_owned();
    Ok((ack.replay_link.expect("an id"), token))
}

#[tokio::test]
async fn the_replay_of_each_moment_equals_what_each_role_was_shown() -> anyhow::Result<()> {
    let server = Server::start()?;
    let mut t = server
        .table(
            "Terugkijken",
            true,
            Perspective::Client,
            Perspective::Manager,
        )
        .await?;
    let fac_token = t.session.facilitator_token.clone();
    let mut moments: Vec<(u64, View, View)> = Vec::new();
    // What the facilitator and the projector were shown, now (after everything before).
    async fn record(t: &mut Table, moments: &mut Vec<(u64, View, View)>) -> anyhow::Result<()> {
        let seq = t.fac.sync().await?;
        t.proj.sync().await?;
        moments.push((seq, t.fac.view().clone(), t.proj.view().clone()));
        Ok(())
    }
    t.fac.ok(Command::SetPhase { phase: 1 }).await?;
    let a = t
        .anna
        .ok(idea("Vaste gezichten op de groep"))
        .await?
        .card
        .unwrap();
    let b = t.bram.ok(idea("Minder overleg")).await?.card.unwrap();
    let c = t.bram.ok(idea("Minder overleg, echt")).await?.card.unwrap();
    record(&mut t, &mut moments).await?;
    t.anna
        .ok(Command::EditCard {
            kind: None,
            card: a.clone(),
            text: "Vaste gezichten op elke groep".into(),
        })
        .await?;
    t.fac
        .ok(Command::MergeCards {
            card: c.clone(),
            into: b.clone(),
        })
        .await?;
    let hidden = t.anna.ok(idea("Iets geheims")).await?.card.unwrap();
    t.fac.ok(Command::HideCard { card: hidden }).await?;
    record(&mut t, &mut moments).await?;
    // A hidden round: only the facilitator sees its totals while it is open.
    let round = t
        .fac
        .ok(Command::OpenRound {
            phase: None,
            budget: 3,
            max_per_card: 2,
            live: false,
        })
        .await?
        .round
        .unwrap();
    for phone in [&mut t.anna, &mut t.bram] {
        phone
            .ok(Command::Vote {
                round: round.clone(),
                card: a.clone(),
            })
            .await?;
    }
    record(&mut t, &mut moments).await?;
    t.fac.ok(Command::CloseRound { round }).await?;
    record(&mut t, &mut moments).await?;
    // Turns, and a report confirmed.
    t.anna
        .ok(Command::RaiseHand {
            kind: HandKind::Hand,
        })
        .await?;
    t.fac.ok(Command::GiveFloor { to: None }).await?;
    record(&mut t, &mut moments).await?;
    t.fac.ok(Command::EndTurn).await?;
    let bram_id = t.bram.you.as_ref().unwrap().id.clone().unwrap();
    let x = t
        .anna
        .ok(Command::Flag {
            rule: "g1".into(),
            about: Some(bram_id),
            note: Some("Onderbrak".into()),
            anonymous: true,
        })
        .await?
        .report
        .unwrap();
    t.fac
        .ok(Command::ConfirmFlag {
            report: x,
            consequence: Some(Consequence::Warning),
        })
        .await?;
    t.fac.ok(Command::SetPhase { phase: 2 }).await?;
    record(&mut t, &mut moments).await?;
    let (_, link) = replay_link(&mut t.fac).await?;
    t.fac.sync().await?;

    let code = &t.session.code;
    let timeline: ReplayTimeline =
        json(&server, &format!("/api/sessions/{code}/replay"), &fac_token).await?;
    assert_eq!(timeline.role, Role::Facilitator);
    assert!(
        timeline
            .marks
            .iter()
            .any(|m| m.cmd == "set_phase" && m.phase == Some(2))
    );
    assert!(timeline.marks.iter().any(|m| m.cmd == "give_floor"));
    for (seq, fac_view, proj_view) in &moments {
        let path = format!("/api/sessions/{code}/replay/{seq}");
        let as_fac: ReplayMoment = json(&server, &path, &fac_token).await?;
        assert_eq!(
            settled(as_fac.view),
            settled(fac_view.clone()),
            "the facilitator at change {seq}"
        );
        let as_link: ReplayMoment = json(&server, &path, &link).await?;
        let shown = as_replay_link(proj_view.clone(), &as_link.view);
        assert_eq!(
            settled(as_link.view),
            settled(shown),
            "the replay link at change {seq}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn no_replay_frame_or_report_holds_a_secret_or_an_identity() -> anyhow::Result<()> {
    let server = Server::start()?;
    let mut t = server
        .table("Geheimen", true, Perspective::Client, Perspective::Naaste)
        .await?;
    let k = t
        .anna
        .ok(idea("Anoniem idee van Anna"))
        .await?
        .card
        .unwrap();
    let round = t
        .fac
        .ok(Command::OpenRound {
            phase: None,
            budget: 3,
            max_per_card: 2,
            live: false,
        })
        .await?
        .round
        .unwrap();
    t.bram
        .ok(Command::Vote {
            round: round.clone(),
            card: k.clone(),
        })
        .await?;
    let q = t.fac.ok(Command::OpenCheck).await?.check.unwrap();
    t.anna
        .ok(Command::AnswerCheck {
            check: q,
            answers: ReadinessAnswers {
                urgent: Some(Answer::Yes),
                complex: None,
                willing: None,
            },
            comment: Some("Alleen voor de facilitator".into()),
        })
        .await?;
    let anna_id = t.anna.you.as_ref().unwrap().id.clone().unwrap();
    t.bram
        .ok(Command::Flag {
            rule: "g2".into(),
            about: Some(anna_id.clone()),
            note: None,
            anonymous: true,
        })
        .await?;
    let (link_id, link) = replay_link(&mut t.fac).await?;
    t.fac.sync().await?;
    let code = t.session.code.clone();
    let fac_token = t.session.facilitator_token.clone();
    let secrets = [
        fac_token.as_str(),
        t.session.projector_token.as_str(),
        t.anna.token.clone().unwrap().leak(),
        t.bram.token.clone().unwrap().leak(),
        link.as_str(),
    ];
    let timeline: ReplayTimeline =
        json(&server, &format!("/api/sessions/{code}/replay"), &link).await?;
    assert_eq!(timeline.role, Role::Replay);
    assert!(
        timeline.lanes.iter().all(|l| l.name.is_none()),
        "lanes per perspective"
    );
    let mut bodies = Vec::new();
    for n in 1..=timeline.times.len() {
        for token in [&link, &fac_token] {
            let res = server
                .get_with_token(&format!("/api/sessions/{code}/replay/{n}"), token)
                .await?;
            anyhow::ensure!(res.status == 200, "{}", res.body);
            bodies.push((token == &link, res.body));
        }
    }
    for token in [&link, &fac_token] {
        for path in ["replay", "report", "report.csv"] {
            let res = server
                .get_with_token(&format!("/api/sessions/{code}/{path}"), token)
                .await?;
            anyhow::ensure!(res.status == 200, "{path}: {}", res.body);
            bodies.push((token == &link, res.body));
        }
    }
    for (by_link, body) in &bodies {
        for secret in secrets {
            assert!(!body.contains(secret), "a token in {body}");
        }
        assert!(!body.contains('~'), "a pseudonym in {body}");
        assert!(
            !body.contains("\"author\""),
            "an anonymous author in {body}"
        );
        assert!(!body.contains("\"reporter\""), "a reporter in {body}");
        if *by_link {
            assert!(
                !body.contains("Alleen voor de facilitator"),
                "a readiness comment: {body}"
            );
            assert!(!body.contains("\"reports\""), "reports: {body}");
            assert!(
                !body.contains("\"per_person\""),
                "per-person figures: {body}"
            );
        }
    }
    // The report fits its documented schema, for each reader.
    for token in [&link, &fac_token] {
        let res = server
            .get_with_token(&format!("/api/sessions/{code}/report"), token)
            .await?;
        tafel_tests::report_fits_its_schema(&res.body)?;
    }
    // The report: ranked results once the round closed, never before for the link.
    let report: Report = json(&server, &format!("/api/sessions/{code}/report"), &link).await?;
    assert_eq!(report.schema, REPORT_SCHEMA);
    assert!(
        report.rounds[0].ranking.is_empty(),
        "an open hidden round has no result yet"
    );
    t.fac.ok(Command::CloseRound { round }).await?;
    t.fac.sync().await?;
    let report: Report = json(&server, &format!("/api/sessions/{code}/report"), &link).await?;
    assert_eq!(report.rounds[0].ranking[0].votes, 1);
    // A revoked link opens nothing any more; a participant gets the report only once shared.
    t.fac.ok(Command::RevokeReplay { link: link_id }).await?;
    t.fac.sync().await?;
    let res = server
        .get_with_token(&format!("/api/sessions/{code}/report"), &link)
        .await?;
    assert_eq!(res.status, 403, "{}", res.body);
    let anna_token = t.anna.token.clone().unwrap();
    let path = format!("/api/sessions/{code}/report");
    assert_eq!(server.get_with_token(&path, &anna_token).await?.status, 403);
    t.fac.ok(Command::ShareReport { share: true }).await?;
    t.fac.ok(Command::End).await?;
    t.fac.sync().await?;
    let shared: Report = json(&server, &path, &anna_token).await?;
    assert_eq!(shared.role, Role::Participant);
    let replay = server
        .get_with_token(&format!("/api/sessions/{code}/replay"), &anna_token)
        .await?;
    assert_eq!(replay.status, 403, "a participant has no replay");
    Ok(())
}

#[tokio::test]
async fn the_report_downloads_as_csv_and_as_the_raw_automerge_file() -> anyhow::Result<()> {
    let server = Server::start()?;
    let mut t = server
        .table("Meenemen", false, Perspective::Client, Perspective::Manager)
        .await?;
    t.fac.ok(Command::SetPhase { phase: 2 }).await?;
    let texts = [
        "Koppel de systemen",
        "Eén dossier, \"echt\" één",
        "Spreek af, met komma's",
    ];
    let mut cards = Vec::new();
    for text in texts {
        cards.push(t.anna.ok(idea(text)).await?.card.unwrap());
    }
    let round = t
        .fac
        .ok(Command::OpenRound {
            phase: None,
            budget: 3,
            max_per_card: 3,
            live: false,
        })
        .await?
        .round
        .unwrap();
    let vote = |card: &String| Command::Vote {
        round: round.clone(),
        card: card.clone(),
    };
    t.anna.ok(vote(&cards[1])).await?;
    t.bram.ok(vote(&cards[1])).await?;
    t.bram.ok(vote(&cards[2])).await?;
    t.fac.ok(Command::CloseRound { round }).await?;
    t.fac.sync().await?;
    let code = t.session.code.clone();
    let token = t.session.facilitator_token.clone();

    // The CSV: a parser reads it back, with the cards' texts and the ranks (ties share one).
    let (res, bytes) = server
        .download_with_token(&format!("/api/sessions/{code}/report.csv"), &token)
        .await?;
    assert_eq!(res.status, 200);
    assert!(
        res.header("content-disposition")
            .is_some_and(|d| d.contains("attachment"))
    );
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>()?;
    let card_rows: Vec<_> = rows.iter().filter(|r| &r[0] == "card").collect();
    assert_eq!(
        card_rows
            .iter()
            .map(|r| r[4].to_owned())
            .collect::<Vec<_>>(),
        texts
    );
    let votes: Vec<(String, String)> = rows
        .iter()
        .filter(|r| &r[0] == "vote")
        .map(|r| (r[7].to_owned(), r[8].to_owned()))
        .collect();
    assert_eq!(
        votes,
        [("2", "1"), ("1", "2"), ("0", "3")].map(|(v, r)| (v.into(), r.into()))
    );

    // The raw automerge file: the automerge package from npm opens it and finds the cards.
    let (res, raw) = server
        .download_with_token(&format!("/api/sessions/{code}/session.automerge"), &token)
        .await?;
    assert_eq!(res.status, 200);
    let Some(read) = tafel_tests::node_reads_automerge(&raw)? else {
        return Ok(());
    };
    let found: serde_json::Value = serde_json::from_str(&read)?;
    let mut seen: Vec<String> = found["cards"]
        .as_object()
        .expect("cards")
        .values()
        .map(|c| c["text"].as_str().unwrap().to_owned())
        .collect();
    seen.sort();
    let mut expected = texts.map(String::from).to_vec();
    expected.sort();
    assert_eq!(seen, expected);
    assert!(!read.contains('~'), "no pseudonyms in the export: {read}");
    Ok(())
}

//! A session end to end, over real sockets against the real server process: joining and
//! coming back, the card life cycle, voting and the reveal, and who may do what.

use tafel_protocol::*;
use tafel_tests::*;

#[tokio::test]
async fn a_participant_joins_and_comes_back_as_the_same_person() -> anyhow::Result<()> {
    let server = Server::start()?;
    let s = server.create_session("Regie over de dag", false).await?;
    let mut anna = server.client().await?;
    let ServerMessage::Welcome {
        role,
        token: Some(token),
        you,
        view,
        ..
    } = anna
        .join(&s.code.to_lowercase(), "  Anna ", Perspective::Client)
        .await?
    else {
        anyhow::bail!("no welcome with a token");
    };
    assert_eq!(role, Role::Participant);
    assert_eq!(view.session.title, "Regie over de dag");
    let me = view
        .participants
        .iter()
        .find(|p| Some(&p.id) == you.id.as_ref())
        .unwrap();
    assert_eq!(
        (me.name.as_str(), me.perspective, me.online),
        ("Anna", Perspective::Client, true)
    );
    let card = anna
        .ok(idea("Zelf kiezen wanneer ik opsta"))
        .await?
        .card
        .unwrap();
    drop(anna);

    // Later, from a new connection (a reload, a locked screen): the same person, no new join.
    let mut again = server.client().await?;
    let ServerMessage::Welcome {
        you: you_again,
        view,
        token: None,
        ..
    } = again.resume(&s.code, &token).await?
    else {
        anyhow::bail!("resume was not welcomed");
    };
    assert_eq!(you_again.id, you.id);
    assert_eq!(you_again.cards, vec![card.clone()]);
    assert_eq!(
        view.participants.len(),
        2,
        "the facilitator and Anna, nobody new"
    );
    again
        .ok(Command::EditCard {
            kind: None,
            card,
            text: "Zelf kiezen wanneer ik opsta, ook in het weekend".into(),
        })
        .await?;

    // A wrong token is refused, and the connection can still be used.
    let mut stranger = server.client().await?;
    match stranger.resume(&s.code, "not-a-real-token").await? {
        ServerMessage::Error {
            code: ErrorCode::BadToken,
            ..
        } => {}
        other => anyhow::bail!("expected bad_token, got {other:?}"),
    }
    assert!(matches!(
        stranger.join(&s.code, "Bram", Perspective::Naaste).await?,
        ServerMessage::Welcome { .. }
    ));
    Ok(())
}

#[tokio::test]
async fn everyone_sees_the_card_life_cycle() -> anyhow::Result<()> {
    let server = Server::start()?;
    let Table {
        session: _,
        mut fac,
        mut proj,
        mut anna,
        mut bram,
    } = server
        .table(
            "Kaarten",
            false,
            Perspective::Medewerker,
            Perspective::Manager,
        )
        .await?;

    fac.ok(Command::SetPhase { phase: 2 }).await?;
    let a = anna
        .ok(idea("Vaste gezichten op de groep"))
        .await?
        .card
        .unwrap();
    let b = bram.ok(idea("Vaste gezichten")).await?.card.unwrap();
    let c = bram
        .ok(Command::AddCard {
            text: "Roosters een maand vooruit".into(),
            kind: CardKind::Condition,
            builds_on: Some(a.clone()),
            source: None,
            lesson_of: None,
        })
        .await?
        .card
        .unwrap();
    proj.until(|v| v.cards.len() == 3 && v.session.phase == 2)
        .await?;
    assert_eq!(
        proj.card(&c).unwrap().builds_on.as_deref(),
        Some(a.as_str())
    );
    assert_eq!(
        proj.card(&a).unwrap().phase,
        2,
        "cards land in the current phase"
    );

    fac.ok(Command::MergeCards {
        card: b.clone(),
        into: a.clone(),
    })
    .await?;
    anna.until(|v| {
        v.cards
            .iter()
            .any(|k| k.id == b && k.status == CardStatus::Merged)
    })
    .await?;
    assert_eq!(
        anna.card(&b).unwrap().merged_into.as_deref(),
        Some(a.as_str())
    );

    fac.ok(Command::HideCard { card: c.clone() }).await?;
    proj.until(|v| {
        v.cards
            .iter()
            .any(|k| k.id == c && k.status == CardStatus::Hidden)
    })
    .await?;
    assert_eq!(
        proj.card(&c).unwrap().text,
        None,
        "the projector gets no text of a hidden card"
    );
    fac.ok(Command::RestoreCard { card: c.clone() }).await?;
    proj.until(|v| v.cards.iter().any(|k| k.id == c && k.text.is_some()))
        .await?;

    anna.ok(Command::EditCard {
        kind: None,
        card: a.clone(),
        text: "Vaste gezichten op elke groep".into(),
    })
    .await?;
    bram.until(|v| {
        v.cards
            .iter()
            .any(|k| k.id == a && k.text.as_deref() == Some("Vaste gezichten op elke groep"))
    })
    .await?;
    bram.ok(Command::WithdrawCard { card: c.clone() }).await?;
    anna.until(|v| {
        v.cards
            .iter()
            .any(|k| k.id == c && k.status == CardStatus::Withdrawn && k.text.is_none())
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn voting_limits_progress_and_the_same_ranking_everywhere() -> anyhow::Result<()> {
    let server = Server::start()?;
    let Table {
        session: _,
        mut fac,
        mut proj,
        mut anna,
        mut bram,
    } = server
        .table(
            "Stemmen",
            false,
            Perspective::Client,
            Perspective::Bestuurder,
        )
        .await?;
    let a = anna
        .ok(idea("Ontbijt wanneer je wilt"))
        .await?
        .card
        .unwrap();
    let b = bram.ok(idea("Zelf je kleren kiezen")).await?.card.unwrap();
    let c = bram.ok(idea("Een eigen sleutel")).await?.card.unwrap();

    let round = fac
        .ok(Command::OpenRound {
            phase: None,
            budget: 3,
            max_per_card: 2,
            live: false,
        })
        .await?
        .round
        .unwrap();
    let vote = |card: &str| Command::Vote {
        round: round.clone(),
        card: card.into(),
    };
    anna.ok(vote(&b)).await?;
    anna.ok(vote(&b)).await?;
    assert_eq!(anna.refused(vote(&b)).await?, ErrorCode::CardLimit);
    anna.ok(vote(&c)).await?;
    assert_eq!(anna.refused(vote(&a)).await?, ErrorCode::OverBudget);
    let mine = anna
        .you
        .as_ref()
        .unwrap()
        .votes
        .iter()
        .find(|v| v.round == round)
        .unwrap()
        .clone();
    assert_eq!(
        (mine.remaining, mine.cards.get(&b).copied()),
        (0, Some(2)),
        "the phone knows its own votes and budget"
    );
    anna.ok(Command::Unvote {
        round: round.clone(),
        card: c.clone(),
    })
    .await?;
    assert_eq!(
        anna.you
            .as_ref()
            .unwrap()
            .votes
            .iter()
            .find(|v| v.round == round)
            .unwrap()
            .remaining,
        1
    );
    bram.ok(vote(&a)).await?;
    bram.ok(vote(&b)).await?;

    // While open: progress for everyone, totals for nobody but the facilitator.
    proj.until(|v| v.rounds.first().is_some_and(|r| r.voters == 2))
        .await?;
    assert_eq!(proj.view().rounds[0].results, None);
    anna.until(|v| v.rounds.first().is_some_and(|r| r.voters == 2))
        .await?;
    assert_eq!(anna.view().rounds[0].results, None);

    fac.ok(Command::CloseRound {
        round: round.clone(),
    })
    .await?;
    let expected = vec![(b.clone(), 3), (a.clone(), 1), (c.clone(), 0)];
    for client in [&mut fac, &mut proj, &mut anna, &mut bram] {
        client
            .until(|v| v.rounds[0].status == RoundStatus::Closed)
            .await?;
        let ranking: Vec<(String, u32)> = client.view().rounds[0]
            .results
            .clone()
            .unwrap()
            .into_iter()
            .map(|t| (t.card, t.votes))
            .collect();
        assert_eq!(ranking, expected);
    }
    assert_eq!(bram.refused(vote(&c)).await?, ErrorCode::RoundClosed);
    Ok(())
}

#[tokio::test]
async fn every_permission_is_enforced_by_the_server() -> anyhow::Result<()> {
    let server = Server::start()?;
    let Table {
        session: _,
        fac,
        mut proj,
        mut anna,
        mut bram,
    } = server
        .table(
            "Rechten",
            false,
            Perspective::Teamleider,
            Perspective::Naaste,
        )
        .await?;
    let a = anna.ok(idea("Van Anna")).await?.card.unwrap();

    for cmd in [
        Command::SetPhase { phase: 3 },
        Command::HideCard { card: a.clone() },
        Command::RestoreCard { card: a.clone() },
        Command::MergeCards {
            card: a.clone(),
            into: a.clone(),
        },
        Command::OpenRound {
            phase: None,
            budget: 5,
            max_per_card: 3,
            live: true,
        },
        Command::CloseRound { round: "r1".into() },
        Command::Lock,
        Command::Unlock,
        Command::End,
        Command::EditCard {
            kind: None,
            card: a.clone(),
            text: "Van Bram nu".into(),
        },
        Command::WithdrawCard { card: a.clone() },
        Command::ProjectorLink,
    ] {
        assert_eq!(
            bram.refused(cmd.clone()).await?,
            ErrorCode::Forbidden,
            "participant: {cmd:?}"
        );
        assert_eq!(
            proj.refused(cmd.clone()).await?,
            ErrorCode::Forbidden,
            "projector: {cmd:?}"
        );
    }
    assert_eq!(
        proj.refused(idea("van de beamer")).await?,
        ErrorCode::Forbidden
    );
    let anna_sees = anna.card(&a).unwrap().clone();
    assert_eq!(
        (anna_sees.text.as_deref(), anna_sees.status),
        (Some("Van Anna"), CardStatus::Visible),
        "nothing changed"
    );
    assert_eq!(fac.view().session.phase, 0);
    Ok(())
}

#[tokio::test]
async fn locked_and_ended_sessions() -> anyhow::Result<()> {
    let server = Server::start()?;
    let s = server.create_session("Deur dicht", false).await?;
    let mut fac = server.client().await?;
    fac.resume(&s.code, &s.facilitator_token).await?;
    let mut anna = server.client().await?;
    anna.join(&s.code, "Anna", Perspective::Medewerker).await?;
    let token = anna.token.clone().unwrap();
    fac.ok(Command::Lock).await?;
    let mut late = server.client().await?;
    assert!(matches!(
        late.join(&s.code, "Laat", Perspective::Anders).await?,
        ServerMessage::Error {
            code: ErrorCode::SessionLocked,
            ..
        }
    ));
    let mut back = server.client().await?;
    assert!(
        matches!(
            back.resume(&s.code, &token).await?,
            ServerMessage::Welcome { .. }
        ),
        "those who joined come back"
    );
    back.ok(idea("Nog steeds welkom")).await?;

    fac.ok(Command::End).await?;
    assert_eq!(
        back.refused(idea("te laat")).await?,
        ErrorCode::SessionEnded
    );
    assert!(matches!(
        late.join(&s.code, "Laat", Perspective::Anders).await?,
        ServerMessage::Error {
            code: ErrorCode::SessionEnded,
            ..
        }
    ));
    let mut reader = server.client().await?;
    let ServerMessage::Welcome { view, .. } = reader.resume(&s.code, &token).await? else {
        anyhow::bail!("no read-only welcome")
    };
    assert_eq!(view.session.status, SessionStatus::Ended);
    assert_eq!(view.cards.len(), 1);
    Ok(())
}

/// Nothing a participant or the projector may not see reaches them: no token but one's own,
/// no author of an anonymous card, no totals or voters of an open round.
#[tokio::test]
async fn no_hidden_data_in_any_message_to_participants_or_the_projector() -> anyhow::Result<()> {
    let server = Server::start()?;
    let Table {
        session: s,
        mut fac,
        mut proj,
        mut anna,
        mut bram,
    } = server
        .table("Geheim", true, Perspective::Client, Perspective::Bestuurder)
        .await?;
    let anna_token = anna.token.clone().unwrap();
    let bram_token = bram.token.clone().unwrap();

    let a = anna.ok(idea("Anoniem van Anna")).await?.card.unwrap();
    let b = bram.ok(idea("Anoniem van Bram")).await?.card.unwrap();
    bram.ok(Command::EditCard {
        kind: None,
        card: b.clone(),
        text: "Anoniem van Bram, aangepast".into(),
    })
    .await?;
    let round = fac
        .ok(Command::OpenRound {
            phase: None,
            budget: 5,
            max_per_card: 3,
            live: false,
        })
        .await?
        .round
        .unwrap();
    anna.ok(Command::Vote {
        round: round.clone(),
        card: b.clone(),
    })
    .await?;
    bram.ok(Command::Vote {
        round: round.clone(),
        card: a.clone(),
    })
    .await?;
    bram.ok(Command::Vote {
        round: round.clone(),
        card: a.clone(),
    })
    .await?;
    for c in [&mut anna, &mut bram, &mut proj] {
        c.until(|v| v.rounds.first().is_some_and(|r| r.voters == 2))
            .await?;
    }
    // A reconnect mid-round: its welcome must hide the same things.
    let mut anna2 = server.client().await?;
    anna2.resume(&s.code, &anna_token).await?;
    fac.ok(Command::HideCard { card: a.clone() }).await?;
    for c in [&mut anna, &mut anna2, &mut bram, &mut proj] {
        c.until(|v| {
            v.cards
                .iter()
                .any(|k| k.id == a && k.status == CardStatus::Hidden)
        })
        .await?;
    }

    let secrets = [
        s.facilitator_token.as_str(),
        s.projector_token.as_str(),
        anna_token.as_str(),
        bram_token.as_str(),
    ];
    let check = |who: &str, frames: &[String], own_token: Option<&str>| {
        for frame in frames {
            for secret in secrets.iter().filter(|t| Some(**t) != own_token) {
                assert!(
                    !frame.contains(secret),
                    "{who} received someone else's token: {frame}"
                );
            }
            let msg: serde_json::Value = serde_json::from_str(frame).unwrap();
            for card in msg
                .pointer("/view/cards")
                .or(msg.pointer("/patch/cards"))
                .and_then(|c| c.as_array())
                .into_iter()
                .flatten()
            {
                assert!(
                    card.get("author").is_none(),
                    "{who} learned an anonymous author: {frame}"
                );
                if card["status"] == "hidden" {
                    assert!(
                        card.get("text").is_none(),
                        "{who} read a hidden card: {frame}"
                    );
                }
            }
            for r in msg
                .pointer("/view/rounds")
                .or(msg.pointer("/patch/rounds"))
                .and_then(|c| c.as_array())
                .into_iter()
                .flatten()
            {
                assert!(
                    r.get("results").is_none(),
                    "{who} saw totals of an open round: {frame}"
                );
            }
            assert!(!frame.contains('~'), "{who} received a pseudonym: {frame}");
            assert!(
                !frame.contains(r#""voter""#) && !frame.contains("by_voter"),
                "{who} learned who voted: {frame}"
            );
        }
    };
    check("anna", &anna.frames, Some(&anna_token));
    check("anna after resume", &anna2.frames, None);
    check("bram", &bram.frames, Some(&bram_token));
    check("the projector", &proj.frames, None);
    // Bram's own votes reach only Bram.
    assert!(bram.you.as_ref().unwrap().votes[0].cards.get(&a) == Some(&2));
    assert!(
        anna.frames
            .iter()
            .all(|f| !f.contains(r#""type":"you""#) || !f.contains(&format!(r#""{a}":2"#)))
    );
    // Each author still knows their own card.
    assert_eq!(anna.you.as_ref().unwrap().cards, vec![a]);
    Ok(())
}

#[tokio::test]
async fn the_facilitator_gets_a_new_projector_link_on_any_device() -> anyhow::Result<()> {
    let mut server = Server::start()?;
    let s = server.create_session("Beamer", false).await?;
    let mut fac = server.client().await?;
    fac.resume(&s.code, &s.facilitator_token).await?;
    let ServerMessage::Ack { result, .. } =
        fac.cmd_with_id("link-1", Command::ProjectorLink).await?
    else {
        anyhow::bail!("not acked")
    };
    let url = result.projector_url.unwrap();
    let (path, token) = url.split_once('#').unwrap();
    assert!(path.ends_with(&format!("/p/{}", s.code)));
    let mut screen = server.client().await?;
    let ServerMessage::Welcome { role, .. } = screen.resume(&s.code, token).await? else {
        anyhow::bail!("not welcomed")
    };
    assert_eq!(role, Role::Projector);
    let mut old = server.client().await?;
    assert!(
        matches!(
            old.resume(&s.code, &s.projector_token).await?,
            ServerMessage::Welcome { .. }
        ),
        "the first link still works"
    );

    // Resending the id gives the same link, also after a crash; the token is in no record.
    server.kill()?;
    server.restart()?;
    let mut fac = server.client().await?;
    fac.resume(&s.code, &s.facilitator_token).await?;
    let again = fac.cmd_with_id("link-1", Command::ProjectorLink).await?;
    assert!(
        matches!(&again, ServerMessage::Ack { result, .. } if result.projector_url.as_deref() == Some(url.as_str()))
    );
    let raw = std::fs::read(server.data_dir().join("tafel.redb"))?;
    assert!(
        !raw.windows(token.len()).any(|w| w == token.as_bytes()),
        "the token is stored only hashed"
    );

    fac.ok(Command::End).await?;
    assert_eq!(
        fac.refused(Command::ProjectorLink).await?,
        ErrorCode::SessionEnded
    );
    Ok(())
}

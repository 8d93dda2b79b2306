//! The floor and the ground rules end to end, over real sockets against the real server:
//! a scripted session of eight phones under two queue orders, who may steer the floor, and
//! who may learn what about a reported violation. (The balance figures of the scripted
//! session are checked on the pure floor, with given times, in the server's unit tests.)

use tafel_protocol::*;
use tafel_tests::*;

struct Phone {
    name: &'static str,
    client: Client,
    id: String,
}

async fn phones(
    server: &Server,
    code: &str,
    who: &[(&'static str, Perspective)],
) -> anyhow::Result<Vec<Phone>> {
    let mut out = Vec::new();
    for (name, perspective) in who {
        let mut client = server.client().await?;
        client.join(code, name, *perspective).await?;
        let id = client.you.as_ref().and_then(|y| y.id.clone()).unwrap();
        out.push(Phone { name, client, id });
    }
    Ok(out)
}

fn hand() -> Command {
    Command::RaiseHand {
        kind: HandKind::Hand,
    }
}

/// One scripted session: eight phones, two of which raise their hand again after every turn
/// of theirs, while the six others each raise once; each turn ends as soon as it starts.
/// Returns who spoke, in order, and how many people the balance counts.
async fn scripted(order: QueueOrder, fair_share: f64) -> anyhow::Result<(Vec<&'static str>, u32)> {
    let server = Server::start()?;
    let s = server.create_session("Wie heeft het woord?", false).await?;
    let mut fac = server.client().await?;
    fac.resume(&s.code, &s.facilitator_token).await?;
    // The queue orders alone: none of the balanced preset's rules beyond the queue (those are
    // measured in fair.rs).
    let change = FloorSettingsChange {
        order: Some(order),
        fair_share: Some(fair_share),
        shrink_turns: Some(false),
        room_secs: Some(0),
        perspectives: Some(false),
        ..Default::default()
    };
    fac.ok(Command::FloorSettings { change }).await?;
    use Perspective::*;
    let mut p = phones(
        &server,
        &s.code,
        &[
            ("Luid1", Bestuurder),
            ("Luid2", Manager),
            ("Stil1", Client),
            ("Stil2", Naaste),
            ("Stil3", Medewerker),
            ("Stil4", Client),
            ("Stil5", Medewerker),
            ("Stil6", Teamleider),
        ],
    )
    .await?;
    // The loud ones raise first and raise again the moment their own turn is over; the quiet
    // ones each raise once, one before each of the turns 1 to 6 — always just after a loud
    // one raised again.
    p[0].client.ok(hand()).await?;
    p[1].client.ok(hand()).await?;
    let mut spoke = Vec::new();
    for turn in 0..10 {
        if (1..=6).contains(&turn) {
            p[turn + 1].client.ok(hand()).await?;
        }
        let result = fac.ok(Command::GiveFloor { to: None }).await?;
        anyhow::ensure!(result.turn.is_some(), "no turn started");
        let speaker = fac.view().floor.turn.as_ref().unwrap().speaker.clone();
        let i = p.iter().position(|x| x.id == speaker).unwrap();
        spoke.push(p[i].name);
        p[i].client.ok(Command::EndTurn).await?;
        if i < 2 {
            p[i].client.ok(hand()).await?;
        }
    }
    fac.sync().await?;
    let balance = fac.view().floor.balance.clone().unwrap();
    Ok((spoke, balance.people))
}

#[tokio::test]
async fn least_spoken_first_gives_the_quiet_ones_the_floor_first() -> anyhow::Result<()> {
    // The fair-share cap off (factor 10), to compare the orders alone.
    let (fcfs, fcfs_people) = scripted(QueueOrder::Fcfs, 10.0).await?;
    let (least, least_people) = scripted(QueueOrder::LeastSpoken, 10.0).await?;
    assert_eq!(
        (fcfs_people, least_people),
        (8, 8),
        "the facilitator does not count"
    );

    let turns_of = |order: &[&str], who: &str| order.iter().filter(|n| **n == who).count();
    // Under least spoken first, every quiet person spoke before either loud one spoke twice.
    let second_loud = least
        .iter()
        .enumerate()
        .filter(|(_, n)| n.starts_with("Luid"))
        .nth(2)
        .map(|(i, _)| i)
        .unwrap();
    for q in ["Stil1", "Stil2", "Stil3", "Stil4", "Stil5", "Stil6"] {
        let first = least.iter().position(|n| *n == q).unwrap();
        assert!(
            first < second_loud,
            "{q} waited behind a loud second turn: {least:?}"
        );
    }
    // Under first come, first served the loud ones take most turns and someone never speaks.
    assert!(
        turns_of(&fcfs, "Luid1") + turns_of(&fcfs, "Luid2") >= 6,
        "{fcfs:?}"
    );
    Ok(())
}

#[tokio::test]
async fn only_the_facilitator_steers_the_floor() -> anyhow::Result<()> {
    let server = Server::start()?;
    let mut t = server
        .table(
            "Spelregels",
            false,
            Perspective::Client,
            Perspective::Manager,
        )
        .await?;
    t.anna.ok(hand()).await?;
    t.bram.ok(hand()).await?;
    for cmd in [
        Command::GiveFloor { to: None },
        Command::FloorSettings {
            change: FloorSettingsChange {
                order: Some(QueueOrder::Fcfs),
                ..Default::default()
            },
        },
        Command::PauseFloor,
        Command::LowerHand {
            participant: Some(t.anna.you.as_ref().unwrap().id.clone().unwrap()),
        },
    ] {
        assert_eq!(
            t.bram.refused(cmd.clone()).await?,
            ErrorCode::Forbidden,
            "{cmd:?}"
        );
    }
    t.fac.ok(Command::GiveFloor { to: None }).await?;
    let anna_id = t.anna.you.as_ref().unwrap().id.clone().unwrap();
    // Anna's phone learns it has the floor; Bram cannot end her turn; she can.
    t.anna
        .until(|v| {
            v.floor
                .turn
                .as_ref()
                .is_some_and(|turn| turn.speaker == anna_id)
        })
        .await?;
    assert_eq!(
        t.bram.refused(Command::EndTurn).await?,
        ErrorCode::Forbidden
    );
    t.anna.ok(Command::EndTurn).await?;
    t.proj
        .until(|v| v.floor.turn.is_none() && v.floor.turns == 1)
        .await?;
    assert_eq!(t.proj.refused(hand()).await?, ErrorCode::Forbidden);
    // The projector sees who is waiting, but no balance until the facilitator shows it.
    assert!(t.proj.view().floor.balance.is_none());
    t.fac
        .ok(Command::FloorSettings {
            change: FloorSettingsChange {
                show_balance: Some(true),
                ..Default::default()
            },
        })
        .await?;
    t.proj.until(|v| v.floor.balance.is_some()).await?;
    let b = t.proj.view().floor.balance.clone().unwrap();
    assert!(
        b.per_person.is_empty(),
        "the big screen shows no one's own figures"
    );
    assert_eq!((b.people, b.silent), (2, 1));
    assert!(
        t.bram.view().floor.balance.is_none(),
        "participants see only their own share"
    );
    Ok(())
}

#[tokio::test]
async fn a_report_never_tells_who_made_it_except_to_the_facilitator_when_not_anonymous()
-> anyhow::Result<()> {
    let server = Server::start()?;
    let mut t = server
        .table(
            "Spelregels",
            false,
            Perspective::Client,
            Perspective::Bestuurder,
        )
        .await?;
    let anna = t.anna.you.as_ref().unwrap().id.clone().unwrap();
    let bram = t.bram.you.as_ref().unwrap().id.clone().unwrap();
    let flag = |about: &str, anonymous: bool| Command::Flag {
        rule: "g3".into(),
        about: Some(about.into()),
        note: Some("Over de persoon, niet over het idee".into()),
        anonymous,
    };
    let open = t.anna.ok(flag(&bram, false)).await?.report.unwrap();
    let secret = t.bram.ok(flag(&anna, true)).await?.report.unwrap();
    assert_eq!(
        t.anna.refused(flag(&bram, true)).await?,
        ErrorCode::ReportLimit,
        "one open report per person"
    );
    t.fac.until(|v| v.reports.len() == 2).await?;
    let reports = &t.fac.view().reports;
    assert_eq!(reports[0].reporter.as_deref(), Some(anna.as_str()));
    assert_eq!(
        reports[1].reporter, None,
        "anonymous: not even the facilitator"
    );
    assert_eq!(reports[1].about.as_deref(), Some(anna.as_str()));

    assert_eq!(
        t.anna
            .refused(Command::ConfirmFlag {
                report: secret.clone(),
                consequence: None
            })
            .await?,
        ErrorCode::Forbidden
    );
    t.fac
        .ok(Command::ConfirmFlag {
            report: open,
            consequence: Some(Consequence::Warning),
        })
        .await?;
    t.fac.ok(Command::DismissFlag { report: secret }).await?;
    // Bram gets his warning; everyone sees the count for the rule, and nothing more.
    t.bram.sync().await?;
    let warnings = &t
        .bram
        .you
        .as_ref()
        .unwrap()
        .floor
        .as_ref()
        .unwrap()
        .warnings;
    assert_eq!(warnings.len(), 1);
    t.proj.until(|v| v.rules.rules[2].violations == 1).await?;
    t.anna.sync().await?;
    t.proj.sync().await?;
    for (who, c) in [("projector", &t.proj), ("anna", &t.anna), ("bram", &t.bram)] {
        assert!(c.view().reports.is_empty(), "{who} received reports");
        for f in &c.frames {
            assert!(!f.contains("\"reporter\""), "{who} saw a reporter: {f}");
            assert!(
                !f.contains("\"patch\":{}"),
                "{who} was told something happened: {f}"
            );
            assert!(!f.contains("niet over het idee"), "{who} saw a note: {f}");
        }
    }
    Ok(())
}

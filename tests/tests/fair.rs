//! Fair voice beyond the queue, end to end over real sockets against the real server: the
//! scripted session of eight phones under four queue orders (its balance figures are printed
//! and recorded in bench/RESULTS.md), and who may learn of an invitation.
//!
//! Run the measurement alone with
//! `cargo test -p tafel-tests --test fair -- --nocapture scripted`.

use std::time::Duration;
use tafel_protocol::*;
use tafel_tests::*;

/// The script's clock: a real session's 120 s turn is 5 s here (1/24), so a quiet person's
/// 30 s is 1.25 s and a dominant person's 90 s is 3.75 s.
const SCALE: f64 = 1.0 / 24.0;

fn secs(real_secs: f64) -> Duration {
    Duration::from_secs_f64(real_secs * SCALE)
}

/// The same small deterministic random source as the pure-fold script (xorshift).
struct Dice(u64);

impl Dice {
    fn roll(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Run {
    Fcfs,
    LeastSpoken,
    Round,
    Balanced,
}

fn hand() -> Command {
    Command::RaiseHand {
        kind: HandKind::Hand,
    }
}

struct Phone {
    client: Client,
    id: String,
    /// The invitation this phone already answered (its time).
    seen: Option<Millis>,
}

/// Quiet phones answer each new invitation once, taking it about half the time. Returns
/// whether one took it.
async fn answer(phones: &mut [Phone], dice: &mut Dice) -> anyhow::Result<bool> {
    let mut took = false;
    for phone in phones.iter_mut().skip(2) {
        phone.client.sync().await?;
        let invitation = phone
            .client
            .you
            .as_ref()
            .and_then(|y| y.floor.as_ref())
            .and_then(|f| f.invitation);
        let Some(invitation) = invitation else {
            continue;
        };
        if phone.seen == Some(invitation.at) {
            continue;
        }
        phone.seen = Some(invitation.at);
        if dice.roll() < 0.5 {
            phone.client.cmd(hand()).await?;
            took = true;
        }
    }
    Ok(took)
}

/// The scripted session: eight phones; two dominant ones that raise again the moment their
/// turn ends and speak three times as long as the others (90 s against 30 s, scaled); six
/// quiet ones that raise rarely (each, after a turn, one time in ten) and take an invitation
/// about half the time. The facilitator only presses "next"; refused while the floor makes
/// room, they press again as soon as something changed. A hard turn limit of 120 s (scaled).
/// 40 turns. Returns the balance figure and everyone's floor time.
async fn scripted(run: Run) -> anyhow::Result<(f64, Vec<i64>)> {
    let server = Server::start()?;
    let s = server.create_session("Wie heeft het woord?", false).await?;
    let mut fac = server.client().await?;
    fac.resume(&s.code, &s.facilitator_token).await?;
    anyhow::ensure!(
        fac.view().floor.preset == Some(FloorPreset::Balanced),
        "a new session starts balanced"
    );
    let mut change = match run {
        Run::Fcfs => FloorSettingsChange {
            preset: Some(FloorPreset::Fcfs),
            ..Default::default()
        },
        Run::LeastSpoken | Run::Round => FloorSettingsChange {
            order: Some(if run == Run::Round {
                QueueOrder::Round
            } else {
                QueueOrder::LeastSpoken
            }),
            shrink_turns: Some(false),
            room_secs: Some(0),
            perspectives: Some(false),
            ..Default::default()
        },
        Run::Balanced => FloorSettingsChange {
            preset: Some(FloorPreset::Balanced),
            // The preset's 15 s and 30 s, scaled and rounded up to whole seconds.
            room_secs: Some(1),
            min_turn_secs: Some(1),
            ..Default::default()
        },
    };
    change.turn_secs = Some(5);
    change.mode = Some(LimitMode::Hard);
    fac.ok(Command::FloorSettings { change }).await?;
    use Perspective::*;
    let who = [
        ("Luid1", Bestuurder),
        ("Luid2", Manager),
        ("Stil1", Client),
        ("Stil2", Naaste),
        ("Stil3", Medewerker),
        ("Stil4", Client),
        ("Stil5", Medewerker),
        ("Stil6", Teamleider),
    ];
    let mut phones = Vec::new();
    for (name, perspective) in who {
        let mut client = server.client().await?;
        client.join(&s.code, name, perspective).await?;
        let id = client.you.as_ref().and_then(|y| y.id.clone()).unwrap();
        phones.push(Phone {
            client,
            id,
            seen: None,
        });
    }
    let mut dice = Dice(0x5eed_1600_0000_0001);
    for phone in &mut phones[..2] {
        phone.client.cmd(hand()).await?;
    }
    for _turn in 0..40 {
        // The facilitator presses "next".
        loop {
            match fac.cmd(Command::GiveFloor { to: None }).await? {
                ServerMessage::Ack { .. } => break,
                ServerMessage::Error {
                    code: ErrorCode::MakingRoom,
                    ..
                } => {
                    if !answer(&mut phones, &mut dice).await? {
                        // Nobody took it: the server sends the floor when the moment is over.
                        fac.until(|v| {
                            !v.floor
                                .queue
                                .iter()
                                .any(|e| e.reason == QueueReason::MakingRoom)
                        })
                        .await?;
                    }
                }
                ServerMessage::Error {
                    code: ErrorCode::QueueEmpty,
                    ..
                } => {
                    // Nobody waits: after a while a quiet one raises.
                    tokio::time::sleep(secs(10.0)).await;
                    let q = 2 + (dice.roll() * 6.0) as usize;
                    phones[q].client.cmd(hand()).await?;
                }
                other => anyhow::bail!("next refused: {other:?}"),
            }
        }
        let turn = fac.view().floor.turn.clone().expect("a turn");
        let i = phones.iter().position(|p| p.id == turn.speaker).unwrap();
        let wants = secs(if i < 2 { 90.0 } else { 30.0 });
        let speaker = &mut phones[i].client;
        if wants.as_millis() as i64 >= turn.limit_ms {
            // The server ends the turn at its limit.
            speaker.until(|v| v.floor.turn.is_none()).await?;
        } else {
            // Speaking: the scenario's own time, not a wait for something to happen.
            tokio::time::sleep(wants).await;
            speaker.cmd(Command::EndTurn).await?;
        }
        if i < 2 {
            // Refused in round order (nobody raises there); that is fine.
            phones[i].client.cmd(hand()).await?;
        }
        for quiet in phones.iter_mut().skip(2) {
            let up = quiet
                .client
                .you
                .as_ref()
                .is_some_and(|y| y.floor.as_ref().is_some_and(|f| f.hand.is_some()));
            if !up && dice.roll() < 0.1 {
                quiet.client.cmd(hand()).await?;
            }
        }
        answer(&mut phones, &mut dice).await?;
    }
    fac.sync().await?;
    let balance = fac.view().floor.balance.clone().unwrap();
    let times = balance.per_person.iter().map(|p| p.floor_ms).collect();
    Ok((balance.figure.unwrap(), times))
}

#[tokio::test]
async fn scripted_session_the_balanced_preset_balances_the_floor() -> anyhow::Result<()> {
    let (fcfs, least, round, balanced) = tokio::try_join!(
        scripted(Run::Fcfs),
        scripted(Run::LeastSpoken),
        scripted(Run::Round),
        scripted(Run::Balanced),
    )?;
    for (name, (figure, times)) in [
        ("first come, first served", &fcfs),
        ("least spoken first (cap 2x)", &least),
        ("round", &round),
        ("balanced preset", &balanced),
    ] {
        println!(
            "scripted session over sockets, {name}: 1 - Gini = {figure:.3}; floor ms {times:?}"
        );
    }
    assert!(fcfs.0 <= 0.5, "first come, first served: {}", fcfs.0);
    assert!(balanced.0 >= 0.8, "balanced: {}", balanced.0);
    assert!(balanced.0 > least.0 && balanced.0 > round.0);
    Ok(())
}

/// An invitation, and whether it was taken, reaches only the invited phone and the
/// facilitator: checked against every frame every other phone and the projector received,
/// and every moment of the replay.
#[tokio::test]
async fn an_invitation_reaches_only_the_invited_phone_and_the_facilitator() -> anyhow::Result<()> {
    let server = Server::start()?;
    let s = server.create_session("Uitnodigen", false).await?;
    let mut fac = server.client().await?;
    fac.resume(&s.code, &s.facilitator_token).await?;
    let mut screen = server.client().await?;
    screen.resume(&s.code, &s.projector_token).await?;
    let mut loud = server.client().await?;
    loud.join(&s.code, "Luid", Perspective::Bestuurder).await?;
    let mut quiet = server.client().await?;
    quiet.join(&s.code, "Stil", Perspective::Client).await?;
    let mut other = server.client().await?;
    other
        .join(&s.code, "Ander", Perspective::Medewerker)
        .await?;
    let quiet_id = quiet.you.as_ref().unwrap().id.clone().unwrap();
    let other_id = other.you.as_ref().unwrap().id.clone().unwrap();

    // The loud one speaks, and raises again: the floor makes room and invites the two others.
    loud.ok(hand()).await?;
    fac.ok(Command::GiveFloor { to: None }).await?;
    loud.ok(Command::EndTurn).await?;
    loud.ok(hand()).await?;
    quiet.sync().await?;
    let invitation = quiet
        .you
        .as_ref()
        .unwrap()
        .floor
        .as_ref()
        .unwrap()
        .invitation;
    assert_eq!(invitation.map(|i| i.by), Some(InvitedBy::Room));
    assert_eq!(
        fac.refused(Command::GiveFloor { to: None }).await?,
        ErrorCode::MakingRoom
    );
    // The quiet one takes it with one tap and gets the floor; the other ignores it.
    quiet.ok(hand()).await?;
    fac.sync().await?;
    let invitations = &fac.view().floor.invitations;
    assert!(
        invitations
            .iter()
            .any(|i| i.participant == quiet_id && i.status == InvitationStatus::Taken)
    );
    assert!(
        invitations
            .iter()
            .any(|i| i.participant == other_id && i.status == InvitationStatus::Open)
    );
    fac.ok(Command::GiveFloor { to: None }).await?;
    assert_eq!(fac.view().floor.turn.as_ref().unwrap().speaker, quiet_id);
    // The loud one lowers the hand meanwhile: no room to make when the turn ends.
    loud.ok(Command::LowerHand { participant: None }).await?;
    quiet.ok(Command::EndTurn).await?;
    // The facilitator invites the other one by name: the console suggested them.
    fac.sync().await?;
    assert!(
        fac.view()
            .floor
            .suggestions
            .iter()
            .any(|g| g.participant == other_id && g.reason == SuggestionReason::NotSpokenYet)
    );
    fac.ok(Command::Invite {
        participant: other_id.clone(),
    })
    .await?;
    other.sync().await?;
    assert_eq!(
        other
            .you
            .as_ref()
            .unwrap()
            .floor
            .as_ref()
            .unwrap()
            .invitation
            .map(|i| i.by),
        Some(InvitedBy::Facilitator)
    );
    // Taken, with one tap; the facilitator sees it.
    other.ok(hand()).await?;
    fac.sync().await?;
    assert!(
        fac.view()
            .floor
            .invitations
            .iter()
            .any(|i| i.participant == other_id
                && i.by == InvitedBy::Facilitator
                && i.status == InvitationStatus::Taken)
    );
    fac.ok(Command::GiveFloor { to: None }).await?;
    fac.ok(Command::End).await?;
    for c in [&mut loud, &mut quiet, &mut other, &mut screen] {
        c.sync().await?;
    }

    // Nobody but the facilitator ever received the invitations list or a suggestion, and the
    // loud phone and the projector never heard of any invitation; each invited phone only
    // of its own.
    let never = |frames: &[String], words: &[&str], who: &str| {
        for frame in frames {
            for word in words {
                assert!(!frame.contains(word), "{who} received {word}: {frame}");
            }
        }
    };
    let fac_only = [
        "\"invitations\"",
        "\"suggestions\"",
        "\"taken\"",
        "\"lapsed\"",
    ];
    never(&loud.frames, &fac_only, "the loud phone");
    never(&loud.frames, &["invitation"], "the loud phone");
    never(&screen.frames, &fac_only, "the projector");
    never(&screen.frames, &["invitation"], "the projector");
    never(&quiet.frames, &fac_only, "the quiet phone");
    never(&other.frames, &fac_only, "the other phone");
    for (phone, by) in [(&quiet, "\"room\""), (&other, "\"facilitator\"")] {
        assert!(
            phone
                .frames
                .iter()
                .any(|f| f.contains("\"invitation\"") && f.contains(by)),
            "the invited phone was told"
        );
    }
    assert!(
        !quiet
            .frames
            .iter()
            .any(|f| f.contains("\"invitation\"") && f.contains("\"facilitator\"")),
        "the quiet phone never hears of the other's invitation"
    );
    // The replay link sees no invitation at any moment.
    let ack = fac.ok(Command::ReplayLink).await?;
    let url = ack.replay_url.expect("a link");
    let token = url.split_once('#').unwrap().1.to_owned();
    let seq = fac.sync().await?;
    let timeline = server
        .get_with_token(&format!("/api/sessions/{}/replay", s.code), &token)
        .await?;
    assert_eq!(timeline.status, 200);
    never(
        &[timeline.body],
        &["invitation", "suggestions"],
        "the replay",
    );
    for n in 0..=seq {
        let moment = server
            .get_with_token(&format!("/api/sessions/{}/replay/{n}", s.code), &token)
            .await?;
        if moment.status == 200 {
            never(&[moment.body], &["invitation", "suggestions"], "the replay");
        }
    }
    Ok(())
}

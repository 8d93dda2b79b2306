//! Nothing acknowledged is lost, nothing is applied twice: resent command ids, a graceful
//! restart, and a SIGKILL in the middle of a stream of commands.

use futures_util::future::join_all;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tafel_protocol::*;
use tafel_tests::*;

#[tokio::test]
async fn a_resent_command_id_is_applied_once_even_across_a_crash() -> anyhow::Result<()> {
    let mut server = Server::start()?;
    let s = server.create_session("Dubbel", false).await?;
    let mut anna = server.client().await?;
    anna.join(&s.code, "Anna", Perspective::Medewerker).await?;
    let token = anna.token.clone().unwrap();

    let first = anna.cmd_with_id("same-id", idea("Eén keer")).await?;
    let again = anna.cmd_with_id("same-id", idea("Eén keer")).await?;
    assert_eq!(first, again, "the same answer, not a second card");
    let ServerMessage::Ack { result, .. } = &first else {
        anyhow::bail!("not acked: {first:?}")
    };

    // A phone that lost its connection resends on a new one.
    let mut phone = server.client().await?;
    phone.resume(&s.code, &token).await?;
    assert_eq!(phone.cmd_with_id("same-id", idea("Eén keer")).await?, first);

    // And after the server was killed: the answer is rebuilt from the stored record.
    server.kill()?;
    server.restart()?;
    let mut phone = server.client().await?;
    phone.resume(&s.code, &token).await?;
    assert_eq!(phone.cmd_with_id("same-id", idea("Eén keer")).await?, first);
    assert_eq!(phone.view().cards.len(), 1);
    assert_eq!(phone.view().cards[0].id, result.card.clone().unwrap());

    // A refused command's id is answered with the same refusal.
    let refused = phone
        .cmd_with_id("bad", Command::SetPhase { phase: 1 })
        .await?;
    assert_eq!(
        phone
            .cmd_with_id("bad", Command::SetPhase { phase: 1 })
            .await?,
        refused
    );
    Ok(())
}

#[tokio::test]
async fn sigterm_closes_connections_stores_everything_and_exits_zero() -> anyhow::Result<()> {
    let mut server = Server::start()?;
    let s = server.create_session("Netjes stoppen", false).await?;
    let mut fac = server.client().await?;
    fac.resume(&s.code, &s.facilitator_token).await?;
    let mut anna = server.client().await?;
    anna.join(&s.code, "Anna", Perspective::Client).await?;
    for i in 0..20 {
        anna.ok(idea(&format!("Idee {i}"))).await?;
    }
    fac.ok(Command::SetPhase { phase: 1 }).await?;

    let exit = server.terminate()?;
    assert_eq!(exit, Some(0), "exit code after SIGTERM");
    assert_eq!(
        anna.closed().await?,
        1001,
        "phones get a going-away close frame"
    );
    assert_eq!(fac.closed().await?, 1001);

    server.restart()?;
    let mut back = server.client().await?;
    back.resume(&s.code, anna.token.as_ref().unwrap()).await?;
    assert_eq!(back.view().cards.len(), 20);
    assert_eq!(back.view().session.phase, 1);
    assert_eq!(back.you.as_ref().unwrap().cards.len(), 20);
    Ok(())
}

/// Forty-eight phones stream cards as fast as they may; the server is killed without warning
/// once the first is acknowledged (a fast server acknowledges hundreds while `kill` starts). After a restart every acknowledged card is there, exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_loses_no_acknowledged_command() -> anyhow::Result<()> {
    const PHONES: usize = 48;
    // Within the per-connection burst allowance, so the rate limit does not cut phones off.
    const PER_PHONE: usize = 55;
    let mut server = Server::start()?;
    let s = server.create_session("Stroomuitval", false).await?;
    let mut phones = Vec::new();
    for i in 0..PHONES {
        let mut c = server.client().await?;
        c.join(&s.code, &format!("Telefoon {i}"), Perspective::Medewerker)
            .await?;
        phones.push(c);
    }
    let tokens: Vec<String> = phones.iter().map(|p| p.token.clone().unwrap()).collect();
    let acks = Arc::new(AtomicUsize::new(0));

    let streams = phones.into_iter().enumerate().map(|(i, mut phone)| {
        let acks = acks.clone();
        async move {
            let mut acked: HashSet<String> = HashSet::new();
            for n in 0..PER_PHONE {
                let cmd = ClientMessage::Cmd {
                    id: format!("p{i}-{n}"),
                    cmd: idea(&format!("telefoon {i} kaart {n}")),
                };
                if phone.send(&cmd).await.is_err() {
                    break;
                }
            }
            while let Ok(msg) = phone.recv().await {
                if let ServerMessage::Ack { id, .. } = msg {
                    acked.insert(id);
                    acks.fetch_add(1, Ordering::SeqCst);
                }
            }
            acked
        }
    });
    // An OS thread, so the kill lands while the streams are busy: SIGKILL at the first ack.
    let pid = server.pid();
    let watched = acks.clone();
    let killer = std::thread::spawn(move || {
        while watched.load(Ordering::SeqCst) < 1 {
            std::hint::spin_loop();
        }
        std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
    });
    let results = join_all(streams).await;
    assert!(killer.join().expect("killer thread")?.success());
    let acked_total: usize = results.iter().map(HashSet::len).sum();
    println!(
        "sent {}, acknowledged before the kill {acked_total}",
        PHONES * PER_PHONE
    );
    assert!(
        acked_total < PHONES * PER_PHONE,
        "the kill landed mid-stream"
    );

    server.restart()?;
    let mut check = server.client().await?;
    check.resume(&s.code, &tokens[0]).await?;
    let texts: Vec<String> = check
        .view()
        .cards
        .iter()
        .map(|c| c.text.clone().unwrap())
        .collect();
    let unique: HashSet<&String> = texts.iter().collect();
    assert_eq!(unique.len(), texts.len(), "no card is doubled");
    for (i, acked) in results.iter().enumerate() {
        for id in acked {
            let n = id.rsplit('-').next().unwrap();
            let text = format!("telefoon {i} kaart {n}");
            assert!(
                unique.contains(&text),
                "acknowledged {id} is missing after the restart"
            );
        }
    }
    println!("after restart: {} cards stored", texts.len());

    // The phones resend what was not acknowledged (same ids): each is applied once.
    let mut phone = server.client().await?;
    phone.resume(&s.code, &tokens[1]).await?;
    for n in 0..PER_PHONE {
        phone
            .cmd_with_id(&format!("p1-{n}"), idea(&format!("telefoon 1 kaart {n}")))
            .await?;
    }
    let mine: Vec<_> = phone
        .view()
        .cards
        .iter()
        .filter(|c| c.text.as_deref().unwrap().starts_with("telefoon 1 "))
        .collect();
    assert_eq!(
        mine.len(),
        PER_PHONE,
        "every card of phone 1 exactly once after resending"
    );
    Ok(())
}

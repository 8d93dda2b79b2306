//! What phones do to a server, end to end over real sockets against the real process, at small
//! sizes: every phone of several rooms dropping and coming back at once; a phone that stops
//! reading; a crash under load in several rooms; bad clients beside honest ones.

use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use tafel_protocol::*;
use tafel_tests::*;
use tokio_tungstenite::tungstenite::Message;

/// A phone of a room: its token and the cards it knows were acknowledged.
struct Seat {
    code: String,
    token: String,
    acked: Vec<String>,
}

async fn seat(server: &Server, code: &str, name: &str) -> anyhow::Result<(Client, Seat)> {
    let mut c = server.client().await?;
    c.join(code, name, Perspective::Medewerker).await?;
    let token = c.token.clone().unwrap();
    Ok((
        c,
        Seat {
            code: code.into(),
            token,
            acked: Vec::new(),
        },
    ))
}

/// The texts of the visible cards in a view, counted.
fn texts(view: &View) -> HashMap<String, usize> {
    let mut n = HashMap::new();
    for c in &view.cards {
        if let Some(t) = &c.text {
            *n.entry(t.clone()).or_default() += 1;
        }
    }
    n
}

#[tokio::test]
async fn a_reconnect_storm_loses_nothing_acknowledged_and_doubles_nothing() -> anyhow::Result<()> {
    let server = Server::start()?;
    const ROOMS: usize = 4;
    const PHONES: usize = 6;
    let mut phones = Vec::new();
    for r in 0..ROOMS {
        let s = server.create_session(&format!("Storm {r}"), false).await?;
        for p in 0..PHONES {
            phones.push(seat(&server, &s.code, &format!("Telefoon {p}")).await?);
        }
    }
    // Each phone adds three cards and has a fourth on its way when everything drops.
    let mut in_flight = Vec::new();
    for (i, (c, seat)) in phones.iter_mut().enumerate() {
        for k in 0..3 {
            let text = format!("kaart {i}.{k}");
            c.ok(idea(&text)).await?;
            seat.acked.push(text);
        }
        let text = format!("kaart {i}.3");
        c.send(&ClientMessage::Cmd {
            id: "last".into(),
            cmd: idea(&text),
        })
        .await?;
        in_flight.push(text);
    }
    let seats: Vec<Seat> = phones.into_iter().map(|(_, s)| s).collect();

    // Everyone comes back at the same moment and resends what had no answer, with its id.
    let comebacks = seats.iter().zip(&in_flight).map(|(seat, text)| {
        let server = &server;
        async move {
            let mut c = server.client().await?;
            c.resume(&seat.code, &seat.token).await?;
            c.cmd_with_id("last", idea(text)).await?;
            anyhow::Ok(c)
        }
    });
    let mut back: Vec<Client> = futures_util::future::try_join_all(comebacks).await?;
    for c in &mut back {
        c.sync().await?;
    }
    for (r, room) in back.chunks(PHONES).enumerate() {
        let expected: Vec<&String> = seats[r * PHONES..(r + 1) * PHONES]
            .iter()
            .flat_map(|s| &s.acked)
            .chain(&in_flight[r * PHONES..(r + 1) * PHONES])
            .collect();
        for c in room {
            let seen = texts(c.view());
            for t in &expected {
                assert_eq!(seen.get(*t), Some(&1), "room {r}: {t} once, in {seen:?}");
            }
            assert_eq!(seen.len(), expected.len(), "room {r}: nothing else");
            assert_eq!(
                (&c.view().cards, &c.view().participants),
                (&room[0].view().cards, &room[0].view().participants),
                "every phone shows the same room"
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_phone_that_stops_reading_is_cut_off_and_catches_up_when_it_returns() -> anyhow::Result<()>
{
    // The facilitator's console writes faster than a person would.
    let server = Server::start_with(&["--max-messages-per-sec", "10000"])?;
    let mut t = server
        .table("Traag", false, Perspective::Client, Perspective::Naaste)
        .await?;
    // A phone that joins and then never reads again, with a small receive window.
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4096)?;
    let stream = socket.connect(server.addr).await?;
    let (mut stalled, _) =
        tokio_tungstenite::client_async(format!("ws://{}/ws", server.addr), stream).await?;
    let join = ClientMessage::Join {
        v: PROTOCOL_VERSION,
        code: t.session.code.clone(),
        name: "Stil".into(),
        perspective: Perspective::Medewerker,
    };
    stalled
        .send(Message::text(serde_json::to_string(&join)?))
        .await?;
    let token = loop {
        if let Some(Ok(Message::Text(text))) = stalled.next().await
            && let ServerMessage::Welcome {
                token: Some(token), ..
            } = serde_json::from_str(text.as_str())?
        {
            break token;
        }
    };
    // Anna keeps reading all along; the projector and Bram leave.
    let mut anna = t.anna;
    drop((t.proj, t.bram));
    let (done_tx, done_rx) = tokio::sync::watch::channel(None::<usize>);
    let reader = tokio::spawn(async move {
        loop {
            anna.recv().await?;
            if let Some(total) = *done_rx.borrow()
                && anna.view().cards.len() >= total
            {
                return anyhow::Ok(anna);
            }
        }
    });
    // Long cards (about 2 KB each), 250 at a time with 8 in flight, until the server reports
    // that it cut a phone off: more than the kernel's socket buffers and the outbox hold.
    let text = |i: usize| format!("{i:05} {}", "🌷".repeat(490));
    let mut acked = 0;
    for round in 0.. {
        anyhow::ensure!(round < 20, "the stalled phone was never cut off");
        let mut waiting = std::collections::HashSet::new();
        let mut sent = 0;
        while sent < 250 || !waiting.is_empty() {
            while sent < 250 && waiting.len() < 8 {
                let id = format!("k{round}-{sent}");
                let cmd = idea(&text(acked + waiting.len()));
                t.fac
                    .send(&ClientMessage::Cmd {
                        id: id.clone(),
                        cmd,
                    })
                    .await?;
                waiting.insert(id);
                sent += 1;
            }
            if let ServerMessage::Ack { id, .. } = t.fac.recv().await?
                && waiting.remove(&id)
            {
                acked += 1;
            }
        }
        t.fac.frames.clear();
        if server.metric("tafel_outbox_drops_total").await? >= 1.0 {
            break;
        }
    }
    // The reading phone got every card; the stalled one got what its buffers held, then the
    // connection ended.
    done_tx.send(Some(acked))?;
    t.fac.ok(idea("klaar")).await?;
    let anna = reader.await??;
    assert_eq!(anna.view().cards.len(), acked + 1);
    let mut buffered = 0;
    loop {
        match tokio::time::timeout(WAIT, stalled.next()).await? {
            Some(Ok(Message::Text(_))) => buffered += 1,
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
            Some(Ok(_)) => {}
        }
    }
    assert!(
        buffered < acked,
        "cut off before the end ({buffered} frames)"
    );
    // Back, it gets the whole room in one welcome.
    let mut back = server.client().await?;
    let ServerMessage::Welcome { view, .. } = back.resume(&t.session.code, &token).await? else {
        anyhow::bail!("no welcome");
    };
    assert_eq!(view.cards.len(), acked + 1);
    Ok(())
}

#[tokio::test]
async fn sigkill_under_load_in_several_rooms_loses_no_acknowledged_card() -> anyhow::Result<()> {
    let mut server = Server::start()?;
    const ROOMS: usize = 5;
    let mut writers = Vec::new();
    let mut sessions = Vec::new();
    for r in 0..ROOMS {
        let s = server.create_session(&format!("Crash {r}"), false).await?;
        let (c, _) = seat(&server, &s.code, "Schrijver").await?;
        writers.push(c);
        sessions.push(s);
    }
    // Every room writes as fast as it can; the server dies in the middle of it, once every
    // room has had twenty cards acknowledged.
    let counts: std::sync::Arc<Vec<std::sync::atomic::AtomicUsize>> =
        std::sync::Arc::new((0..ROOMS).map(|_| Default::default()).collect());
    let tasks: Vec<_> = writers
        .into_iter()
        .enumerate()
        .map(|(r, mut c)| {
            let counts = counts.clone();
            tokio::spawn(async move {
                let mut acked = Vec::new();
                for i in 0.. {
                    let text = format!("r{r} kaart {i}");
                    match c.cmd(idea(&text)).await {
                        Ok(ServerMessage::Ack { .. }) => acked.push(text),
                        _ => break,
                    }
                    counts[r].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                acked
            })
        })
        .collect();
    let give_up = std::time::Instant::now() + WAIT;
    while counts
        .iter()
        .any(|n| n.load(std::sync::atomic::Ordering::Relaxed) < 20)
    {
        anyhow::ensure!(
            std::time::Instant::now() < give_up,
            "the rooms never got going"
        );
        tokio::task::yield_now().await;
    }
    server.kill()?;
    let mut acked = Vec::new();
    for t in tasks {
        acked.push(t.await?);
    }
    assert!(
        acked.iter().all(|a| !a.is_empty()),
        "every room was writing"
    );
    server.restart()?;
    for (s, acked) in sessions.iter().zip(&acked) {
        let mut fac = server.client().await?;
        let ServerMessage::Welcome { view, .. } = fac.resume(&s.code, &s.facilitator_token).await?
        else {
            anyhow::bail!("no welcome");
        };
        let seen = texts(&view);
        for text in acked {
            assert_eq!(seen.get(text), Some(&1), "{text} is there once");
        }
    }
    Ok(())
}

#[tokio::test]
async fn bad_clients_are_limited_and_their_room_goes_on() -> anyhow::Result<()> {
    let server = Server::start()?;
    let mut t = server
        .table("Rommel", false, Perspective::Client, Perspective::Naaste)
        .await?;
    let code = t.session.code.clone();
    // Ten clients in the room misbehave at once: garbage, oversized frames, floods.
    let mut bad = Vec::new();
    for i in 0..10 {
        let (mut c, _) = seat(&server, &code, &format!("Rommel {i}")).await?;
        bad.push(tokio::spawn(async move {
            for _ in 0..200 {
                let frame = match i % 3 {
                    0 => "{\"type\":\"cmd\",\"id\":".to_string(),
                    1 => "x".repeat(MAX_FRAME_BYTES + 1),
                    _ => serde_json::to_string(&ClientMessage::Cmd {
                        id: "same".into(),
                        cmd: Command::RaiseHand {
                            kind: HandKind::Hand,
                        },
                    })
                    .unwrap(),
                };
                if c.send_raw(&frame).await.is_err() {
                    break;
                }
            }
            c.closed().await.unwrap_or(0)
        }));
    }
    // Meanwhile the honest phones go on, and every one of their cards arrives.
    for i in 0..20 {
        t.anna.ok(idea(&format!("eerlijk {i}"))).await?;
        t.bram.ok(idea(&format!("ook eerlijk {i}"))).await?;
    }
    let mut closes = Vec::new();
    for b in bad {
        closes.push(b.await?);
    }
    assert!(
        closes.iter().all(|c| *c == 1008 || *c == 1009),
        "each bad client is cut off for flooding (1008) or size (1009): {closes:?}"
    );
    t.proj.until(|v| v.cards.len() == 40).await?;
    Ok(())
}

//! `tafel-bench`: measures a real `tafel` process over real sockets.
//!
//! ```sh
//! cargo build --release --bin tafel --bin tafel-bench
//! target/release/tafel-bench --server target/release/tafel
//! ```
//!
//! It starts the server itself (a temporary data directory, a free port) and reports:
//! idle memory; memory with one room of N connected phones; the commands per second one room
//! sustains (cards added by W phones, each keeping a window of commands in flight, every one
//! acknowledged, so stored durably); command→ack latency; the time from the facilitator's
//! "give the floor" to the speaker's phone receiving its turn, in a room of P phones (given
//! 100 ms after the hand went up, and at once); and how
//! long a stored room of C changes takes to load after the server was killed (SIGKILL) and
//! restarted. Also the commands per second of what a session produces: readiness answers,
//! consent and reflections, from W phones at once; and replay at 2,000 and 20,000 changes:
//! opening it and the room at 200 moments, over HTTP. Last, memory at rest: it fills R rooms with a typical session (20 participants,
//! 100 cards, a voting round of 200 votes, 40 hands), restarts the server, loads every room
//! (one resume each, then nobody connected) and resumes every participant without acting:
//! the growth of RSS per idle loaded room and per idle connection.

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt, TryStreamExt};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tafel_protocol::*;
use tafel_tests::{Server, Ws, ws_connect};
use tokio_tungstenite::tungstenite::Message;

/// Measures a real `tafel` process over real sockets: memory, a stress room, the floor, a
/// stored room after SIGKILL, replay, and rooms at rest. It starts the server itself.
#[derive(clap::Parser)]
#[command(name = "tafel-bench")]
struct Args {
    /// The server binary to start.
    #[arg(long, default_value = "target/release/tafel")]
    server: String,
    /// Connections in the room for the memory figure.
    #[arg(long, default_value_t = 200)]
    idle_conns: usize,
    /// Phones adding cards at once in the stress room.
    #[arg(long, default_value_t = 32)]
    writers: usize,
    /// Commands each writer keeps in flight.
    #[arg(long, default_value_t = 32)]
    window: usize,
    /// Cards added in the stress room.
    #[arg(long, default_value_t = 40_000)]
    commands: usize,
    /// Changes in the stored room that is loaded after SIGKILL.
    #[arg(long, default_value_t = 10_000)]
    load_changes: usize,
    /// Turns given in the floor measurement.
    #[arg(long, default_value_t = 200)]
    floor_turns: usize,
    /// Phones in the floor measurement's room.
    #[arg(long, default_value_t = 50)]
    floor_phones: usize,
    /// Rooms filled for the memory-at-rest figure.
    #[arg(long, default_value_t = 100)]
    idle_rooms: usize,
    /// Changes in the larger replay.
    #[arg(long, default_value_t = 20_000)]
    replay_changes: usize,
}

/// Resident memory of a process, in KiB, from /proc.
fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("VmRSS value")?
        .parse()?)
}

/// Opens a socket and joins; returns it once welcomed.
async fn joined(server: &Server, code: &str, name: &str) -> Result<Ws> {
    Ok(welcomed(server, &join_msg(code, name)).await?.0)
}

fn join_msg(code: &str, name: &str) -> ClientMessage {
    ClientMessage::Join {
        v: PROTOCOL_VERSION,
        code: code.into(),
        name: name.into(),
        perspective: Perspective::Medewerker,
    }
}

fn resume_msg(code: &str, token: &str) -> ClientMessage {
    ClientMessage::Resume {
        v: PROTOCOL_VERSION,
        code: code.into(),
        token: token.into(),
    }
}

/// Opens a socket, sends `hello` (a join or a resume) and returns it once welcomed, with the
/// token a join hands out.
async fn welcomed(server: &Server, hello: &ClientMessage) -> Result<(Ws, Option<String>)> {
    let mut ws = ws_connect(server.addr).await?;
    ws.send(Message::text(serde_json::to_string(hello)?))
        .await?;
    while let Some(frame) = ws.next().await {
        if let Message::Text(t) = frame? {
            match serde_json::from_str::<ServerMessage>(t.as_str())? {
                ServerMessage::Welcome { token, .. } => return Ok((ws, token)),
                ServerMessage::Error { message, .. } => bail!("refused: {message}"),
                _ => {}
            }
        }
    }
    bail!("closed before the welcome")
}

/// Sends every command at once and waits for all their acks; returns them in order.
async fn pipelined(ws: &mut Ws, prefix: &str, cmds: Vec<Command>) -> Result<Vec<AckResult>> {
    let n = cmds.len();
    for (i, cmd) in cmds.into_iter().enumerate() {
        let msg = ClientMessage::Cmd {
            id: format!("{prefix}{i}"),
            cmd,
        };
        ws.feed(Message::text(serde_json::to_string(&msg)?)).await?;
    }
    ws.flush().await?;
    let mut acks: Vec<Option<AckResult>> = vec![None; n];
    let mut left = n;
    while left > 0 {
        let Message::Text(t) = ws.next().await.context("socket closed")?? else {
            continue;
        };
        if t.as_str().starts_with(r#"{"type":"delta""#) {
            continue;
        }
        match serde_json::from_str::<ServerMessage>(t.as_str())? {
            ServerMessage::Ack { id, result } => {
                let i: usize = id.strip_prefix(prefix).context("ack id")?.parse()?;
                acks[i] = Some(result);
                left -= 1;
            }
            ServerMessage::Error { message, .. } => bail!("refused: {message}"),
            _ => {}
        }
    }
    Ok(acks.into_iter().flatten().collect())
}

/// Fills one room with a typical session; returns the participants' tokens.
async fn typical_session(server: &Server, code: &str, fac_token: &str) -> Result<Vec<String>> {
    const PEOPLE: usize = 20;
    let (mut fac, _) = welcomed(server, &resume_msg(code, fac_token)).await?;
    let mut phones = Vec::new();
    for i in 0..PEOPLE {
        let (ws, token) = welcomed(server, &join_msg(code, &format!("Deelnemer {i}"))).await?;
        phones.push((ws, token.context("a join hands out a token")?));
    }
    // Five cards each, all at once.
    let cards = futures_util::future::try_join_all(phones.iter_mut().map(|(ws, _)| {
        let cmds = (0..5)
            .map(|k| Command::AddCard {
                text: format!("Idee {k}: wat we morgen anders willen doen op de afdeling"),
                kind: CardKind::Idea,
                builds_on: None,
                source: None,
                lesson_of: None,
            })
            .collect();
        pipelined(ws, "c", cmds)
    }))
    .await?;
    let cards: Vec<String> = cards.into_iter().flatten().filter_map(|a| a.card).collect();
    let round = Command::OpenRound {
        phase: None,
        budget: 10,
        max_per_card: 3,
        live: false,
    };
    let round = pipelined(&mut fac, "r", vec![round]).await?[0]
        .round
        .clone()
        .context("round")?;
    // Ten votes each, and a hand raised and lowered twice.
    futures_util::future::try_join_all(phones.iter_mut().enumerate().map(|(i, (ws, _))| {
        let mut cmds: Vec<Command> = (0..10)
            .map(|v| Command::Vote {
                round: round.clone(),
                card: cards[(i * 7 + v * 3) % cards.len()].clone(),
            })
            .collect();
        for _ in 0..2 {
            cmds.push(Command::RaiseHand {
                kind: HandKind::Hand,
            });
            cmds.push(Command::LowerHand { participant: None });
        }
        pipelined(ws, "v", cmds)
    }))
    .await?;
    Ok(phones.into_iter().map(|(_, token)| token).collect())
}

/// Memory at rest: idle loaded rooms, then idle connections in them.
async fn memory_at_rest(server: &mut Server, rooms: usize) -> Result<()> {
    let mut sessions = Vec::new();
    for i in 0..rooms {
        let s = server.create_session(&format!("Rust {i}"), false).await?;
        sessions.push(s);
    }
    // Eight rooms at a time: the server refuses an address with 50 joins running at once.
    let filled: Vec<Vec<String>> = futures_util::stream::iter(&sessions)
        .map(|s| typical_session(server, &s.code, &s.facilitator_token))
        .buffered(8)
        .try_collect()
        .await?;
    // A fresh process: what it holds comes from loading the rooms, not from filling them.
    server.terminate()?;
    server.restart()?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(server.pid())?;
    for s in &sessions {
        // Loading the room; when the socket closes nobody is connected, and it stays loaded.
        let (ws, _) = welcomed(server, &resume_msg(&s.code, &s.facilitator_token)).await?;
        drop(ws);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let loaded = rss_kib(server.pid())?;
    let mut idle = Vec::new();
    for (s, tokens) in sessions.iter().zip(&filled) {
        for token in tokens {
            idle.push(drain(
                welcomed(server, &resume_msg(&s.code, token)).await?.0,
            ));
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let connected = rss_kib(server.pid())?;
    println!(
        "memory at rest: {rooms} loaded rooms of a typical session (20 participants, 100 cards, 200 votes, 40 hands; nobody connected): {:.1} KiB each (RSS {before} → {loaded} KiB)",
        (loaded.saturating_sub(before)) as f64 / rooms as f64
    );
    println!(
        "  {} idle participants resumed in them: {:.1} KiB per connection (RSS {loaded} → {connected} KiB)",
        idle.len(),
        (connected.saturating_sub(loaded)) as f64 / idle.len().max(1) as f64
    );
    for r in idle {
        r.abort();
    }
    Ok(())
}

/// Keeps reading a socket (deltas) until it closes, so the server never sees a slow reader.
fn drain(ws: Ws) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let (_, mut read) = ws.split();
        while let Some(Ok(_)) = read.next().await {}
    })
}

/// One phone adding `n` cards with up to `window` in flight; returns each command's latency.
async fn add_cards(ws: Ws, phone: usize, n: usize, window: usize) -> Result<Vec<Duration>> {
    let card = move |next| Command::AddCard {
        text: format!("kaart {next} van telefoon {phone}"),
        kind: CardKind::Idea,
        builds_on: None,
        source: None,
        lesson_of: None,
    };
    send_commands(ws, phone, n, window, card).await
}

/// One phone sending `n` commands (`make(i)` is the i-th) with up to `window` in flight;
/// returns each command's latency.
async fn send_commands(
    ws: Ws,
    phone: usize,
    n: usize,
    window: usize,
    make: impl Fn(usize) -> Command,
) -> Result<Vec<Duration>> {
    let (mut write, mut read) = ws.split();
    let mut sent_at: HashMap<String, Instant> = HashMap::new();
    let mut latencies = Vec::with_capacity(n);
    let mut next = 0;
    while latencies.len() < n {
        while next < n && sent_at.len() < window {
            let id = format!("{phone}-{next}");
            let cmd = make(next);
            write
                .feed(Message::text(serde_json::to_string(&ClientMessage::Cmd {
                    id: id.clone(),
                    cmd,
                })?))
                .await?;
            sent_at.insert(id, Instant::now());
            next += 1;
        }
        write.flush().await?;
        let frame = read.next().await.context("socket closed")??;
        if let Message::Text(t) = frame {
            // Only acks and errors are parsed in full; deltas are recognised by their prefix.
            if t.as_str().starts_with(r#"{"type":"ack""#)
                || t.as_str().starts_with(r#"{"type":"error""#)
            {
                match serde_json::from_str::<ServerMessage>(t.as_str())? {
                    ServerMessage::Ack { id, .. } => {
                        let at = sent_at.remove(&id).context("ack for an unknown id")?;
                        latencies.push(at.elapsed());
                    }
                    ServerMessage::Error { message, .. } => bail!("refused: {message}"),
                    _ => {}
                }
            }
        }
    }
    Ok(latencies)
}

/// Replay at size: a session of `changes` changes (cards added by 16 phones), then opening
/// its replay (the timeline) and asking for the room at 200 moments spread over it, over
/// HTTP as the replay page does. The first request reads and folds the history; the others
/// reuse it.
async fn replay_speed(server: &Server, changes: usize) -> Result<()> {
    let room = server.create_session("Terugkijken", false).await?;
    let writers = 16;
    let mut tasks = Vec::new();
    for i in 0..writers {
        let ws = joined(server, &room.code, &format!("Schrijver {i}")).await?;
        tasks.push(tokio::spawn(add_cards(ws, i, changes / writers, 32)));
    }
    for t in tasks {
        t.await??;
    }
    let token = &room.facilitator_token;
    let started = Instant::now();
    let res = server
        .get_with_token(&format!("/api/sessions/{}/replay", room.code), token)
        .await?;
    let open = started.elapsed();
    anyhow::ensure!(res.status == 200, "replay: {}", res.status);
    let timeline: ReplayTimeline = serde_json::from_str(&res.body)?;
    let n = timeline.times.len();
    let mut times = Vec::new();
    let mut bytes = 0;
    for i in 1..=200 {
        let moment = (i * 7919 % 200 + 1) * n / 200;
        let started = Instant::now();
        let res = server
            .get_with_token(
                &format!("/api/sessions/{}/replay/{moment}", room.code),
                token,
            )
            .await?;
        times.push(started.elapsed());
        anyhow::ensure!(res.status == 200, "moment {moment}: {}", res.status);
        bytes += res.body.len();
    }
    times.sort();
    println!(
        "replay of {n} changes: open (read and fold the history, the timeline) {:.0} ms; the room at 200 moments: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} KiB a moment on average)",
        open.as_secs_f64() * 1e3,
        percentile(&times, 0.50).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3,
        bytes / 200 / 1024
    );
    Ok(())
}

/// What a session produces, at speed: in a room of `writers` phones (and as many listening as
/// in the card throughput), each phone answers the readiness check, agrees or objects to a
/// criterion and rewrites its reflection, over and over (each answer differs from the last, so
/// each is a change of its own), with a window of commands in flight.
async fn records(server: &Server, args: &Args) -> Result<()> {
    let room = server.create_session("Wat het oplevert", false).await?;
    let (mut fac, _) = welcomed(server, &resume_msg(&room.code, &room.facilitator_token)).await?;
    let setup = vec![
        Command::OpenCheck,
        Command::ProposeCriterion {
            text: "Een uur minder papierwerk per dienst".into(),
            target: None,
            unit: None,
        },
        Command::AskConsent {
            criterion: "c1".into(),
        },
        Command::OpenReflection { phase: None },
    ];
    pipelined(&mut fac, "s", setup).await?;
    let mut readers = Vec::new();
    for i in 0..args.idle_conns {
        readers.push(drain(
            joined(server, &room.code, &format!("Lezer {i}")).await?,
        ));
    }
    let _fac = drain(fac);
    let mut writers = Vec::new();
    for i in 0..args.writers {
        writers.push(joined(server, &room.code, &format!("Schrijver {i}")).await?);
    }
    let per_writer = args.commands / 4 / args.writers;
    let answer = |i: usize| {
        let pick = [Answer::Yes, Answer::NotSure, Answer::No];
        match i % 3 {
            0 => Command::AnswerCheck {
                check: "q1".into(),
                answers: ReadinessAnswers {
                    urgent: Some(pick[i / 3 % 3]),
                    complex: Some(pick[(i / 3 + 1) % 3]),
                    willing: Some(Answer::Yes),
                },
                comment: None,
            },
            1 => Command::Consent {
                criterion: "c1".into(),
                agree: (i / 3).is_multiple_of(2),
            },
            _ => Command::Reflect {
                reflection: "y1".into(),
                worked: format!("Wat werkte, versie {i}"),
                not_worked: String::new(),
            },
        }
    };
    let started = Instant::now();
    let tasks: Vec<_> = writers
        .into_iter()
        .enumerate()
        .map(|(i, ws)| tokio::spawn(send_commands(ws, i, per_writer, args.window, answer)))
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let took = started.elapsed();
    latencies.sort();
    println!(
        "what a session produces: {} answers (readiness, consent, reflection) by {} phones (window {}) with {} connections in the room: {:.0} commands/s",
        latencies.len(),
        args.writers,
        args.window,
        args.idle_conns + args.writers + 1,
        latencies.len() as f64 / took.as_secs_f64()
    );
    println!(
        "  command→ack latency: p50 {:.1} ms, p99 {:.1} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    );
    for r in readers {
        r.abort();
    }
    Ok(())
}

/// "Give the floor" → the speaker's phone has its turn: the facilitator gives the floor to the
/// one raised hand, over and over, while the room's other phones receive every change too.
/// The facilitator gives it `pause` after the hand went up: a person takes a moment, and a
/// room flushes a change after a quiet moment at once but gathers changes that follow each
/// other within its flush interval.
async fn floor_latency(server: &Server, args: &Args, pause: Duration) -> Result<()> {
    let room = server.create_session("Het woord", false).await?;
    let mut fac = server.client().await?;
    fac.resume(&room.code, &room.facilitator_token).await?;
    // One speaker, over and over: no moment of room for quieter people between the turns.
    fac.ok(Command::FloorSettings {
        change: FloorSettingsChange {
            room_secs: Some(0),
            ..Default::default()
        },
    })
    .await?;
    let mut listeners = Vec::new();
    for i in 1..args.floor_phones {
        listeners.push(drain(
            joined(server, &room.code, &format!("Luisteraar {i}")).await?,
        ));
    }
    let mut phone = server.client().await?;
    phone
        .join(&room.code, "Spreker", Perspective::Client)
        .await?;
    let me = phone
        .you
        .as_ref()
        .and_then(|y| y.id.clone())
        .context("id")?;
    let mut latencies = Vec::with_capacity(args.floor_turns);
    for _ in 0..args.floor_turns {
        phone
            .ok(Command::RaiseHand {
                kind: HandKind::Hand,
            })
            .await?;
        tokio::time::sleep(pause).await;
        let id = fac.next_id();
        let started = Instant::now();
        fac.send(&ClientMessage::Cmd {
            id: id.clone(),
            cmd: Command::GiveFloor { to: None },
        })
        .await?;
        let turn = phone
            .until(|v| v.floor.turn.as_ref().is_some_and(|t| t.speaker == me))
            .await;
        let took = started.elapsed();
        let answer = fac.answer(&id).await?;
        turn.with_context(|| format!("the speaker never got the floor; give_floor: {answer:?}"))?;
        latencies.push(took);
        phone.ok(Command::EndTurn).await?;
    }
    latencies.sort();
    println!(
        "give the floor {} ms after the hand → the speaker's phone has its turn, {} turns in a room of {} phones: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pause.as_millis(),
        latencies.len(),
        args.floor_phones,
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().context("no turns")?.as_secs_f64() * 1e3
    );
    for l in listeners {
        l.abort();
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = <Args as clap::Parser>::parse();
    let mut server =
        Server::start_bin(args.server.as_ref(), &["--max-messages-per-sec", "1000000"])?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!("server: {} (pid {})", args.server, server.pid());
    println!("idle RSS: {} KiB", rss_kib(server.pid())?);

    // One room, many phones connected.
    let room = server.create_session("Meting", false).await?;
    let mut readers = Vec::new();
    for i in 0..args.idle_conns {
        readers.push(drain(
            joined(&server, &room.code, &format!("Lezer {i}")).await?,
        ));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!(
        "RSS with 1 room x {} connections: {} KiB",
        args.idle_conns,
        rss_kib(server.pid())?
    );

    // Throughput: writers add cards into the same room; every change goes to all connections.
    let mut writers = Vec::new();
    for i in 0..args.writers {
        writers.push(joined(&server, &room.code, &format!("Schrijver {i}")).await?);
    }
    let per_writer = args.commands / args.writers;
    let started = Instant::now();
    let tasks: Vec<_> = writers
        .into_iter()
        .enumerate()
        .map(|(i, ws)| tokio::spawn(add_cards(ws, i, per_writer, args.window)))
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let took = started.elapsed();
    latencies.sort();
    let total = latencies.len();
    println!(
        "one room: {total} cards added and acked by {} phones (window {}) with {} connections in the room: {:.0} commands/s",
        args.writers,
        args.window,
        args.idle_conns + args.writers,
        total as f64 / took.as_secs_f64()
    );
    println!(
        "  command→ack latency: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3
    );
    println!("  RSS after: {} KiB", rss_kib(server.pid())?);
    for r in readers {
        r.abort();
    }

    records(&server, &args).await?;
    floor_latency(&server, &args, Duration::from_millis(100)).await?;
    floor_latency(&server, &args, Duration::ZERO).await?;

    // Load time of a stored room with `load_changes` changes, after SIGKILL.
    let big = server.create_session("Groot", false).await?;
    let writers = 16.min(args.load_changes);
    let mut tasks = Vec::new();
    for i in 0..writers {
        let ws = joined(&server, &big.code, &format!("Vuller {i}")).await?;
        tasks.push(tokio::spawn(add_cards(
            ws,
            i,
            args.load_changes / writers,
            32,
        )));
    }
    for t in tasks {
        t.await??;
    }
    server.kill()?;
    server.restart()?;
    for attempt in 0..2 {
        let mut client = server.client().await?;
        let started = Instant::now();
        let ServerMessage::Welcome { view, seq, .. } =
            client.resume(&big.code, &big.facilitator_token).await?
        else {
            bail!("no welcome")
        };
        if attempt == 0 {
            println!(
                "stored room of {seq} changes ({} cards), after SIGKILL and restart: first join (loads the room) {:.0} ms",
                view.cards.len(),
                started.elapsed().as_secs_f64() * 1e3
            );
        } else {
            println!(
                "  a second join (room already loaded) {:.1} ms",
                started.elapsed().as_secs_f64() * 1e3
            );
        }
    }
    for changes in [2_000, args.replay_changes] {
        replay_speed(&server, changes).await?;
    }
    memory_at_rest(&mut server, args.idle_rooms).await?;
    server.terminate()?;
    Ok(())
}

//! `tafel-load`: a load generator. R rooms × P phones against a Tafel server, over real
//! WebSockets, speaking the real protocol.
//!
//! ```sh
//! cargo build --release --bin tafel --bin tafel-load
//! target/release/tafel-load --server target/release/tafel --rooms 100 --phones 50 --rate 0.1
//! ```
//!
//! Per room it creates a session, seats the facilitator (who adds five cards and opens a voting
//! round) and P phones. Then every phone acts at random moments (a Poisson process of `--rate`
//! actions a second): it adds a card, votes or takes a vote back, or raises or lowers its hand,
//! in the proportions of `--mix`. It measures, after a warm-up and for `--duration` seconds:
//! command→ack latency; command→delivery latency, from the moment a phone sends a card to the
//! moment each other phone of its room receives it; updates delivered per second (one
//! command's change arriving at one phone; a delta frame may carry several, and its `seq` says
//! how many); delta frames per second; errors; and the server's RSS and CPU, sampled every
//! second from /proc, with the server's CPU time per update delivered.
//! It prints a summary and, with `--json FILE`, writes it as JSON.
//!
//! `--server PATH` starts the server itself (on a free port, with an empty data directory;
//! `--server-cpus 0` pins it with taskset). `--addr HOST:PORT --pid PID` measures a server
//! that is already running.

use anyhow::{Context, Result, bail};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tafel_protocol::*;
use tafel_tests::{Server, Ws, ws_connect};
use tokio::time::sleep_until;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser, Debug, Clone)]
#[command(about = "Load generator for Tafel: R rooms × P phones over real WebSockets")]
struct Args {
    /// Start this server binary (free port, empty data directory).
    #[arg(long, conflicts_with = "addr")]
    server: Option<std::path::PathBuf>,
    /// Pin the started server to these CPUs (taskset -c), e.g. "0".
    #[arg(long, requires = "server")]
    server_cpus: Option<String>,
    /// Measure a running server at this address instead.
    #[arg(long, requires = "pid")]
    addr: Option<SocketAddr>,
    /// The running server's process id (for RSS and CPU).
    #[arg(long)]
    pid: Option<u32>,
    /// Rooms (sessions).
    #[arg(long, default_value_t = 10)]
    rooms: usize,
    /// Phones per room.
    #[arg(long, default_value_t = 50)]
    phones: usize,
    /// Actions per phone per second, on average (0.1: every ten seconds).
    #[arg(long, default_value_t = 0.1)]
    rate: f64,
    /// Actions per room per second instead (spread over its phones).
    #[arg(long)]
    room_rate: Option<f64>,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// Seconds measured.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Weights of the actions: cards, votes, hands.
    #[arg(long, default_value = "4,4,2")]
    mix: String,
    /// Joins in flight at once (the server limits attempts per address).
    #[arg(long, default_value_t = 32)]
    join_parallel: usize,
    /// Write the summary as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

/// What each phone of a room needs to know.
struct RoomInfo {
    index: usize,
    code: String,
    round: String,
    cards: Vec<String>,
}

/// Counters shared by every phone.
#[derive(Default)]
struct Counters {
    /// Delta frames received by phones.
    deliveries: AtomicU64,
    /// Changes those frames carried, by the jumps of `seq`.
    updates: AtomicU64,
    errors: AtomicU64,
    closed: AtomicU64,
    sent: AtomicU64,
}

/// What one phone measured.
#[derive(Default)]
struct PhoneResult {
    ack_us: Vec<u32>,
    delivery_us: Vec<u32>,
    errors: Vec<String>,
}

/// The summary, printed and written as JSON.
#[derive(Serialize)]
struct Summary {
    rooms: usize,
    phones_per_room: usize,
    connections: usize,
    actions_per_second_target: f64,
    seconds: f64,
    commands_sent: u64,
    commands_per_second: f64,
    acks: usize,
    ack_ms: Percentiles,
    delivery_ms: Percentiles,
    deliveries: u64,
    deliveries_per_second: f64,
    updates: u64,
    updates_per_second: f64,
    errors: u64,
    connections_closed: u64,
    error_samples: Vec<String>,
    server_rss_mib_max: f64,
    server_rss_mib_after_setup: f64,
    server_cpu_percent: f64,
    server_cpu_us_per_delivery: f64,
    server_cpu_us_per_update: f64,
}

#[derive(Serialize)]
struct Percentiles {
    count: usize,
    p50: f64,
    p99: f64,
    max: f64,
}

fn percentiles(mut us: Vec<u32>) -> Percentiles {
    us.sort_unstable();
    let at = |p: f64| {
        us.get(((us.len() as f64 * p) as usize).min(us.len().saturating_sub(1)))
            .map_or(0.0, |v| f64::from(*v) / 1000.0)
    };
    Percentiles {
        count: us.len(),
        p50: at(0.50),
        p99: at(0.99),
        max: us.last().map_or(0.0, |v| f64::from(*v) / 1000.0),
    }
}

/// RSS in KiB and CPU time (user + system) in clock ticks, from /proc.
fn sample(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some((rss, ticks))
}

async fn send(ws: &mut Ws, msg: &ClientMessage) -> Result<()> {
    ws.send(Message::text(serde_json::to_string(msg)?)).await?;
    Ok(())
}

/// Reads until a message `f` accepts; fails on an error frame or a close.
async fn expect<T>(ws: &mut Ws, f: impl Fn(ServerMessage) -> Option<T>) -> Result<T> {
    while let Some(frame) = tokio::time::timeout(Duration::from_secs(30), ws.next())
        .await
        .context("no answer in 30 s")?
    {
        if let Message::Text(t) = frame? {
            let msg: ServerMessage = serde_json::from_str(t.as_str())?;
            if let ServerMessage::Error { code, message, .. } = &msg {
                bail!("refused: {code:?} {message}");
            }
            if let Some(found) = f(msg) {
                return Ok(found);
            }
        }
    }
    bail!("closed")
}

async fn command(ws: &mut Ws, id: &str, cmd: Command) -> Result<AckResult> {
    send(ws, &ClientMessage::Cmd { id: id.into(), cmd }).await?;
    expect(ws, |m| match m {
        ServerMessage::Ack { id: got, result } if got == id => Some(result),
        _ => None,
    })
    .await
}

/// Creates a session, seats its facilitator, adds five cards and opens a round over them.
async fn setup_room(server: &Server, index: usize) -> Result<(RoomInfo, Ws)> {
    let s = server
        .create_session(&format!("Last {index}"), false)
        .await?;
    let mut fac = ws_connect(server.addr).await?;
    send(
        &mut fac,
        &ClientMessage::Resume {
            v: PROTOCOL_VERSION,
            code: s.code.clone(),
            token: s.facilitator_token.clone(),
        },
    )
    .await?;
    expect(&mut fac, |m| {
        matches!(m, ServerMessage::Welcome { .. }).then_some(())
    })
    .await?;
    let mut cards = Vec::new();
    for i in 0..5 {
        let cmd = Command::AddCard {
            text: format!("Startkaart {i}"),
            kind: CardKind::Idea,
            builds_on: None,
        };
        cards.push(
            command(&mut fac, &format!("f{i}"), cmd)
                .await?
                .card
                .context("card")?,
        );
    }
    let open = Command::OpenRound {
        phase: None,
        budget: 50,
        max_per_card: 10,
        live: true,
    };
    let round = command(&mut fac, "fr", open)
        .await?
        .round
        .context("round")?;
    Ok((
        RoomInfo {
            index,
            code: s.code,
            round,
            cards,
        },
        fac,
    ))
}

/// Joins a room; returns the socket and the welcome's `seq`.
async fn join(addr: SocketAddr, code: &str, name: String) -> Result<(Ws, u64)> {
    let mut ws = ws_connect(addr).await?;
    send(
        &mut ws,
        &ClientMessage::Join {
            v: PROTOCOL_VERSION,
            code: code.into(),
            name,
            perspective: Perspective::Medewerker,
        },
    )
    .await?;
    let seq = expect(&mut ws, |m| match m {
        ServerMessage::Welcome { seq, .. } => Some(seq),
        _ => None,
    })
    .await?;
    Ok((ws, seq))
}

/// The `seq` of a delta frame, read without parsing the rest.
fn delta_seq(frame: &str) -> Option<u64> {
    let rest = &frame[frame.find("\"seq\":")? + 6..];
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    rest[..end].parse().ok()
}

/// Card texts carry their room, sender and send time, so receivers can time the delivery:
/// `L{room}:{phone}:{micros since start}`.
fn stamp(text: &str) -> Option<(usize, usize, u64)> {
    let rest = text.strip_prefix('L')?;
    let mut parts = rest.splitn(3, ':');
    Some((
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    ))
}

/// Finds the stamped card texts in a delta without parsing all of it.
fn stamped_texts(frame: &str) -> impl Iterator<Item = &str> {
    frame
        .match_indices("\"text\":\"L")
        .filter_map(move |(i, m)| {
            let start = i + m.len() - 1;
            let end = frame[start..].find('"')? + start;
            Some(&frame[start..end])
        })
}

struct Phone {
    room: Arc<RoomInfo>,
    index: usize,
    mix: [u32; 3],
    rate: f64,
    start: Instant,
    measure_from: Instant,
    stop: Instant,
    counters: Arc<Counters>,
}

impl Phone {
    async fn run(self, ws: Ws, mut seq: u64) -> PhoneResult {
        let mut out = PhoneResult::default();
        let (mut write, mut read) = ws.split();
        let mut rng = fastrand::Rng::with_seed((self.room.index * 100_000 + self.index) as u64);
        let wait = |rng: &mut fastrand::Rng| {
            // Exponential gaps: a Poisson process of `rate` actions a second.
            Duration::from_secs_f64(-(1.0 - rng.f64()).ln() / self.rate)
        };
        let mut next = Instant::now() + wait(&mut rng);
        let mut pending: HashMap<String, Instant> = HashMap::new();
        let mut votes: HashMap<usize, u32> = HashMap::new();
        let mut hand_up = false;
        let mut n = 0u64;
        let grace = self.stop + Duration::from_secs(5);
        loop {
            let acting = Instant::now() < self.stop;
            if !acting && (pending.is_empty() || Instant::now() > grace) {
                break;
            }
            tokio::select! {
                frame = read.next() => {
                    let Some(Ok(frame)) = frame else {
                        self.counters.closed.fetch_add(1, Relaxed);
                        out.errors.push(format!("room {} phone {}: connection closed", self.room.index, self.index));
                        break;
                    };
                    let Message::Text(t) = frame else { continue };
                    let t = t.as_str();
                    let now = Instant::now();
                    if t.starts_with(r#"{"type":"delta""#) {
                        let got = delta_seq(t).unwrap_or(seq);
                        if now >= self.measure_from && now < self.stop {
                            self.counters.deliveries.fetch_add(1, Relaxed);
                            self.counters.updates.fetch_add(got.saturating_sub(seq), Relaxed);
                        }
                        seq = seq.max(got);
                        for text in stamped_texts(t) {
                            if let Some((room, phone, sent_us)) = stamp(text)
                                && room == self.room.index && phone != self.index
                            {
                                let sent = self.start + Duration::from_micros(sent_us);
                                if sent >= self.measure_from && sent < self.stop {
                                    out.delivery_us.push(now.duration_since(sent).as_micros() as u32);
                                }
                            }
                        }
                    } else if t.starts_with(r#"{"type":"ack""#) || t.starts_with(r#"{"type":"error""#) {
                        let Ok(msg) = serde_json::from_str::<ServerMessage>(t) else { continue };
                        let (id, error) = match msg {
                            ServerMessage::Ack { id, .. } => (id, None),
                            ServerMessage::Error { id, code, message } => (id.unwrap_or_default(), Some(format!("{code:?}: {message}"))),
                            _ => continue,
                        };
                        if let Some(sent) = pending.remove(&id)
                            && sent >= self.measure_from && sent < self.stop
                        {
                            out.ack_us.push(now.duration_since(sent).as_micros() as u32);
                        }
                        if let Some(e) = error {
                            self.counters.errors.fetch_add(1, Relaxed);
                            if out.errors.len() < 5 {
                                out.errors.push(format!("room {} phone {} {id}: {e}", self.room.index, self.index));
                            }
                        }
                    }
                }
                _ = sleep_until(next.into()), if acting => {
                    n += 1;
                    let id = format!("{}", n);
                    let cmd = self.pick(&mut rng, &mut votes, &mut hand_up);
                    let msg = ClientMessage::Cmd { id: id.clone(), cmd };
                    let text = serde_json::to_string(&msg).expect("serializes");
                    let sent = Instant::now();
                    if write.send(Message::text(text)).await.is_err() {
                        self.counters.closed.fetch_add(1, Relaxed);
                        break;
                    }
                    if sent >= self.measure_from {
                        self.counters.sent.fetch_add(1, Relaxed);
                    }
                    pending.insert(id, sent);
                    next += wait(&mut rng);
                }
            }
        }
        out
    }

    /// The next action, by the mix: a card, a vote (or taking one back), a hand up or down.
    fn pick(
        &self,
        rng: &mut fastrand::Rng,
        votes: &mut HashMap<usize, u32>,
        hand_up: &mut bool,
    ) -> Command {
        let [cards, vote, _] = self.mix;
        let total: u32 = self.mix.iter().sum();
        let roll = rng.u32(0..total.max(1));
        if roll < cards {
            let us = self.start.elapsed().as_micros();
            Command::AddCard {
                text: format!("L{}:{}:{us}", self.room.index, self.index),
                kind: CardKind::Idea,
                builds_on: None,
            }
        } else if roll < cards + vote {
            let card = rng.usize(0..self.room.cards.len());
            let used: u32 = votes.values().sum();
            let mine = votes.entry(card).or_default();
            if used < 50 && *mine < 10 {
                *mine += 1;
                Command::Vote {
                    round: self.room.round.clone(),
                    card: self.room.cards[card].clone(),
                }
            } else if *mine > 0 {
                *mine -= 1;
                Command::Unvote {
                    round: self.room.round.clone(),
                    card: self.room.cards[card].clone(),
                }
            } else {
                // This card has none of mine and the budget is spent: take one back elsewhere.
                let (other, n) = votes
                    .iter_mut()
                    .find(|(_, n)| **n > 0)
                    .expect("votes were spent");
                *n -= 1;
                Command::Unvote {
                    round: self.room.round.clone(),
                    card: self.room.cards[*other].clone(),
                }
            }
        } else {
            *hand_up = !*hand_up;
            if *hand_up {
                Command::RaiseHand {
                    kind: HandKind::Hand,
                }
            } else {
                Command::LowerHand { participant: None }
            }
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let mix: Vec<u32> = args
        .mix
        .split(',')
        .map(|w| w.trim().parse())
        .collect::<Result<_, _>>()
        .context("--mix: three whole numbers, e.g. 4,4,2")?;
    let mix: [u32; 3] = mix
        .try_into()
        .map_err(|_| anyhow::anyhow!("--mix needs three weights"))?;
    let rate = args.room_rate.map_or(args.rate, |r| r / args.phones as f64);

    // Enough sockets for thousands of phones.
    raise_fd_limit();
    let (server, pid) = match (&args.server, args.addr, args.pid) {
        (Some(bin), _, _) => {
            let server = Server::start_on_cpus(
                bin,
                &["--max-messages-per-sec", "1000"],
                args.server_cpus.as_deref(),
            )?;
            let pid = server.pid();
            (server, pid)
        }
        (None, Some(addr), Some(pid)) => (Server::running(addr), pid),
        _ => bail!("give --server PATH, or --addr HOST:PORT with --pid PID"),
    };
    let addr = server.addr;
    println!(
        "server {addr} (pid {pid}); {} rooms x {} phones at {rate:.3} actions/phone/s ({:.0} actions/s in all)",
        args.rooms,
        args.phones,
        rate * (args.rooms * args.phones) as f64
    );

    // Seat everyone.
    let setup_started = Instant::now();
    let mut rooms = Vec::new();
    let mut facilitators = Vec::new();
    for i in 0..args.rooms {
        let (room, fac) = setup_room(&server, i).await?;
        rooms.push(Arc::new(room));
        facilitators.push(fac);
    }
    let mut phones: Vec<(Arc<RoomInfo>, usize, (Ws, u64))> = Vec::new();
    let seats: Vec<(Arc<RoomInfo>, usize)> = rooms
        .iter()
        .flat_map(|r| (0..args.phones).map(move |p| (r.clone(), p)))
        .collect();
    for chunk in seats.chunks(args.join_parallel.max(1)) {
        let joins = chunk.iter().map(|(room, p)| {
            let room = room.clone();
            let p = *p;
            async move {
                let ws = join(addr, &room.code, format!("Telefoon {p}")).await?;
                anyhow::Ok((room, p, ws))
            }
        });
        for joined in futures_util::future::join_all(joins).await {
            phones.push(joined?);
        }
    }
    // Facilitators keep reading, so they never fall behind.
    let fac_readers: Vec<_> = facilitators
        .into_iter()
        .map(|ws| {
            tokio::spawn(async move {
                let (_w, mut r) = ws.split();
                while let Some(Ok(_)) = r.next().await {}
            })
        })
        .collect();
    println!(
        "{} phones joined in {:.1} s",
        phones.len(),
        setup_started.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_after_setup = sample(pid).map_or(0, |(rss, _)| rss);

    // Act.
    let counters = Arc::new(Counters::default());
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(args.warmup);
    let stop = measure_from + Duration::from_secs(args.duration);
    let tasks: Vec<_> = phones
        .into_iter()
        .map(|(room, index, (ws, seq))| {
            let phone = Phone {
                room,
                index,
                mix,
                rate,
                start,
                measure_from,
                stop,
                counters: counters.clone(),
            };
            tokio::spawn(phone.run(ws, seq))
        })
        .collect();

    // Sample the server every second while measuring.
    let sampler = tokio::spawn(async move {
        tokio::time::sleep_until(measure_from.into()).await;
        let first = sample(pid);
        let mut max_rss = first.map_or(0, |(rss, _)| rss);
        while Instant::now() < stop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if let Some((rss, _)) = sample(pid) {
                max_rss = max_rss.max(rss);
            }
        }
        let last = sample(pid);
        let ticks = match (first, last) {
            (Some((_, a)), Some((_, b))) => b.saturating_sub(a),
            _ => 0,
        };
        (max_rss, ticks)
    });

    let mut ack_us = Vec::new();
    let mut delivery_us = Vec::new();
    let mut samples = Vec::new();
    for t in tasks {
        let r = t.await?;
        ack_us.extend(r.ack_us);
        delivery_us.extend(r.delivery_us);
        for e in r.errors {
            if samples.len() < 10 {
                samples.push(e);
            }
        }
    }
    let (max_rss, ticks) = sampler.await?;
    for r in fac_readers {
        r.abort();
    }
    let seconds = args.duration as f64;
    let ticks_per_second = 100.0; // USER_HZ on Linux
    let cpu_seconds = ticks as f64 / ticks_per_second;
    let deliveries = counters.deliveries.load(Relaxed);
    let updates = counters.updates.load(Relaxed);
    let per = |n: u64| {
        if n > 0 {
            cpu_seconds * 1e6 / n as f64
        } else {
            0.0
        }
    };
    let sent = counters.sent.load(Relaxed);
    let summary = Summary {
        rooms: args.rooms,
        phones_per_room: args.phones,
        connections: args.rooms * (args.phones + 1),
        actions_per_second_target: rate * (args.rooms * args.phones) as f64,
        seconds,
        commands_sent: sent,
        commands_per_second: sent as f64 / seconds,
        acks: ack_us.len(),
        ack_ms: percentiles(ack_us),
        delivery_ms: percentiles(delivery_us),
        deliveries,
        deliveries_per_second: deliveries as f64 / seconds,
        updates,
        updates_per_second: updates as f64 / seconds,
        errors: counters.errors.load(Relaxed),
        connections_closed: counters.closed.load(Relaxed),
        error_samples: samples,
        server_rss_mib_max: max_rss as f64 / 1024.0,
        server_rss_mib_after_setup: rss_after_setup as f64 / 1024.0,
        server_cpu_percent: 100.0 * cpu_seconds / seconds,
        server_cpu_us_per_delivery: per(deliveries),
        server_cpu_us_per_update: per(updates),
    };
    print_summary(&summary);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&summary)?)?;
        println!("written to {}", path.display());
    }
    drop(server);
    Ok(())
}

fn print_summary(s: &Summary) {
    println!(
        "measured {:.0} s: {} commands sent ({:.0}/s), {} acked",
        s.seconds, s.commands_sent, s.commands_per_second, s.acks
    );
    println!(
        "  command→ack       p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        s.ack_ms.p50, s.ack_ms.p99, s.ack_ms.max
    );
    println!(
        "  command→delivery  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  ({} deliveries timed)",
        s.delivery_ms.p50, s.delivery_ms.p99, s.delivery_ms.max, s.delivery_ms.count
    );
    println!(
        "  updates delivered {} ({:.0}/s) in {} delta frames ({:.0}/s); errors {}; connections closed {}",
        s.updates,
        s.updates_per_second,
        s.deliveries,
        s.deliveries_per_second,
        s.errors,
        s.connections_closed
    );
    for e in &s.error_samples {
        println!("    {e}");
    }
    println!(
        "  server: RSS {:.1} MiB after setup, {:.1} MiB max; CPU {:.0} % of a core; {:.2} µs CPU per update, {:.2} per frame",
        s.server_rss_mib_after_setup,
        s.server_rss_mib_max,
        s.server_cpu_percent,
        s.server_cpu_us_per_update,
        s.server_cpu_us_per_delivery
    );
}

/// Lifts the soft limit of open files to the hard limit (thousands of sockets); a server
/// started from here inherits it.
fn raise_fd_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => println!("open files allowed: {n}"),
        Err(e) => println!("could not raise the open-files limit: {e}"),
    }
}

//! Bad clients beside honest phones, with the server's default rate limit. In each room a few
//! participants misbehave, taking turns at three kinds: garbage (broken JSON text and binary
//! frames), one oversized frame, and a flood of valid commands, each at `--flood-rate` frames a
//! second. Each is cut off (1008 for the rate, 1009 for the size), comes back after a pause and
//! does it again, for `--duration` seconds. The honest phones act as in the steady load, far
//! under the limit; their delivery latency is measured before and during the abuse.

use crate::Args;
use crate::common::{self, Dial, RoomInfo, loopback};
use crate::measure::{Checks, Samples, Trace, WindowFigures, Windows, write_json};
use crate::phone::{Ended, Load, Phone};
use anyhow::{Context, Result};
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tafel_protocol::*;
use tafel_tests::{Scrape, Ws};
use tokio::sync::watch;
use tokio::time::sleep_until;
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Garbage,
    Oversized,
    Flood,
}

impl Kind {
    /// The close code the server owes this kind.
    fn due(self) -> u16 {
        match self {
            Kind::Oversized => 1009,
            Kind::Garbage | Kind::Flood => 1008,
        }
    }
}

/// What one bad client went through.
#[derive(Debug)]
struct Bad {
    kind: Kind,
    /// How each of its connections ended: `close 1008`, `no close frame`, `still open`.
    ends: BTreeMap<String, usize>,
    connections: usize,
    frames_sent: u64,
    /// `bad_message` errors it received.
    bad_message_errors: u64,
    note: Option<String>,
}

/// How one connection of a bad client ended.
enum End {
    Code(u16),
    NoCloseFrame,
    StillOpen,
}

/// Misbehaves on one connection until the server ends it (or 15 s pass).
async fn misbehave(ws: &mut Ws, kind: Kind, rate: f64, me: &mut Bad, ids: &mut u64) -> End {
    let gap = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let deadline = Instant::now() + Duration::from_secs(15);
    let oversized = "x".repeat(MAX_FRAME_BYTES + 1);
    let mut next = Instant::now();
    let mut writing = true;
    loop {
        tokio::select! {
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(t))) => {
                    if t.as_str().starts_with(r#"{"type":"error""#) && t.as_str().contains(r#""code":"bad_message""#) {
                        me.bad_message_errors += 1;
                    }
                }
                Some(Ok(Message::Close(Some(c)))) => return End::Code(c.code.into()),
                Some(Ok(Message::Close(None))) => return End::NoCloseFrame,
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return End::NoCloseFrame,
            },
            () = sleep_until(next.into()), if writing => {
                let frame = match kind {
                    Kind::Garbage if me.frames_sent.is_multiple_of(2) => Message::text(r#"{"type":"cmd","id":"#),
                    Kind::Garbage => Message::binary(vec![0xde, 0xad, 0xbe, 0xef]),
                    Kind::Oversized => {
                        writing = false;
                        Message::text(oversized.clone())
                    }
                    Kind::Flood => {
                        *ids += 1;
                        let cmd = ClientMessage::Cmd {
                            id: format!("f{ids}"),
                            cmd: Command::AddCard { text: format!("Rommel {ids}"), kind: CardKind::Note, builds_on: None, source: None, lesson_of: None },
                        };
                        Message::text(serde_json::to_string(&cmd).expect("serializes"))
                    }
                };
                if ws.send(frame).await.is_err() {
                    // Closed under our feet: read what the server said.
                    writing = false;
                }
                me.frames_sent += 1;
                next += gap;
            }
            () = sleep_until(deadline.into()) => return End::StillOpen,
        }
    }
}

/// Reads (and pings) until `signal`.
async fn idle(ws: &mut Ws, signal: impl std::future::Future<Output = ()>) {
    tokio::pin!(signal);
    let mut ping = tokio::time::interval(common::PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            () = &mut signal => return,
            frame = ws.next() => if !matches!(frame, Some(Ok(_))) { return },
            _ = ping.tick() => { let _ = common::send(ws, &ClientMessage::Ping).await; }
        }
    }
}

/// One bad client: joins, waits quietly for the abuse to start, then misbehaves, is cut off,
/// pauses and comes back (resuming), until the abuse ends.
#[allow(clippy::too_many_arguments)]
async fn bad_client(
    kind: Kind,
    addr: SocketAddr,
    dial: Dial,
    room: Arc<RoomInfo>,
    name: String,
    mut stage: watch::Receiver<u32>,
    rate: f64,
    pause: Duration,
    mut ws: Ws,
    token: String,
) -> Bad {
    let mut me = Bad {
        kind,
        ends: BTreeMap::new(),
        connections: 0,
        frames_sent: 0,
        bad_message_errors: 0,
        note: None,
    };
    let mut ids = 0;
    idle(&mut ws, async {
        let _ = stage.wait_for(|s| *s >= ABUSE).await;
    })
    .await;
    loop {
        me.connections += 1;
        let end = match misbehave(&mut ws, kind, rate, &mut me, &mut ids).await {
            End::Code(code) => format!("close {code}"),
            End::NoCloseFrame => "no close frame".into(),
            End::StillOpen => "still open".into(),
        };
        *me.ends.entry(end).or_default() += 1;
        drop(ws);
        tokio::time::sleep(pause).await;
        if *stage.borrow() >= CALM {
            return me;
        }
        ws = match common::resume(&[addr], 0, dial, &room.code, &token).await {
            Ok(r) => r.ws,
            Err(e) => {
                me.note = Some(format!("{name}: could not come back: {e:#}"));
                return me;
            }
        };
    }
}

// Stages.
const ABUSE: u32 = 1;
const CALM: u32 = 2;
const QUIET: u32 = 3;

#[derive(Serialize)]
struct Report {
    scenario: &'static str,
    rooms: usize,
    phones_per_room: usize,
    bad_per_room: usize,
    connections: usize,
    actions_per_second_target: f64,
    server_rate_limit: &'static str,
    /// The honest phones: without the abuse, and during it.
    windows: Vec<WindowFigures>,
    bad_clients: usize,
    /// Per kind: connections and how they ended.
    bad_connections: BTreeMap<String, BTreeMap<String, usize>>,
    bad_frames_sent: u64,
    bad_message_errors_received: u64,
    /// Growth during the abuse of the server's counters.
    metric_closed_rate_limit: f64,
    metric_closed_too_big: f64,
    metric_bad_message_errors: f64,
    honest_errors: u64,
    honest_connections_closed: u64,
    honest_unanswered: usize,
    error_samples: Vec<String>,
    server_rss_mib_max: f64,
    checks: Checks,
    passed: bool,
}

const RATE_LIMIT: &str = r#"tafel_connections_closed_total{reason="rate_limit"}"#;
const TOO_BIG: &str = r#"tafel_connections_closed_total{reason="too_big"}"#;
const BAD_MESSAGE: &str = r#"tafel_command_errors_total{code="bad_message"}"#;

pub async fn run(args: &Args) -> Result<bool> {
    // The server's own rate limit, so floods are limited.
    let target = common::target(args, true)?;
    common::announce(args, &target);
    let addr = target.server.addr;
    let peers = args.peers();
    let seated = common::seat_everyone(&target, args, |room, _, global| {
        Dial::phone(peers, room, global)
    })
    .await?;
    let rooms = seated.rooms.clone();
    let fac_readers = common::keep_reading(seated.facilitators);

    // The bad clients join like anyone else, each from an address of its own.
    let (stage_tx, stage_rx) = watch::channel(0u32);
    let mut bad_tasks = Vec::new();
    let pause = Duration::from_millis(args.bad_pause_ms);
    for room in &rooms {
        for i in 0..args.bad {
            let kind = [Kind::Garbage, Kind::Oversized, Kind::Flood][i % 3];
            let dial = Dial {
                source: Some(loopback(3, room.index * args.bad + i)),
                ..Dial::default()
            };
            let name = format!("Rommel {i}");
            let (ws, welcome) = common::join(addr, dial, &room.code, name.clone()).await?;
            let token = welcome.token.context("a join welcome carries a token")?;
            bad_tasks.push(tokio::spawn(bad_client(
                kind,
                addr,
                dial,
                room.clone(),
                format!("room {} {name}", room.index),
                stage_rx.clone(),
                args.flood_rate,
                pause,
                ws,
                token,
            )));
        }
    }
    let bad_total = bad_tasks.len();

    let start = Instant::now();
    let windows = Arc::new(Windows::new(start, &["calm", "abuse"]));
    let load = Arc::new(Load {
        mix: args.mix()?,
        rate: args.rate(),
        windows: windows.clone(),
        track_views: false,
        nodes: vec![addr],
    });
    let trace = Trace::start(target.pids());
    let settle = Duration::from_secs(args.settle);
    let tasks: Vec<_> = seated
        .seats
        .into_iter()
        .map(|seat| {
            let (mut phone, mut ws) = Phone::new(seat, load.clone(), true);
            let mut stage = stage_rx.clone();
            tokio::spawn(async move {
                let quiet = async move {
                    let _ = stage.wait_for(|s| *s >= QUIET).await;
                };
                phone
                    .run_resuming(&mut ws, true, |_: &Phone| false, quiet, None)
                    .await;
                let ended = phone
                    .run_resuming(
                        &mut ws,
                        false,
                        |p: &Phone| p.pending() == 0,
                        std::future::pending(),
                        Some(Instant::now() + settle),
                    )
                    .await;
                if ended != Ended::Done {
                    phone.note(format!("{} commands unanswered", phone.pending()));
                }
                phone
            })
        })
        .collect();

    let measure_from = start + Duration::from_secs(args.warmup);
    tokio::time::sleep_until(measure_from.into()).await;
    windows.open(0, measure_from);
    trace.mark();
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    let before = Scrape::of(&target.server).await?;
    let abuse_at = Instant::now();
    windows.close(0, abuse_at);
    windows.open(1, abuse_at);
    trace.mark();
    stage_tx.send_replace(ABUSE);
    println!("{bad_total} bad clients at work");
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    windows.close(1, Instant::now());
    trace.mark();
    stage_tx.send_replace(CALM);
    let mut bad = Vec::new();
    for t in bad_tasks {
        bad.push(t.await?);
    }
    let after = Scrape::of(&target.server).await?;
    stage_tx.send_replace(QUIET);
    let mut honest = Vec::new();
    for t in tasks {
        honest.push(t.await?);
    }
    for r in fac_readers {
        r.abort();
    }

    let mut per_window: Vec<Samples> = (0..windows.len()).map(|_| Samples::default()).collect();
    let mut notes: Vec<String> = bad.iter().filter_map(|b| b.note.clone()).take(5).collect();
    let (mut honest_errors, mut honest_closed, mut unanswered) = (0, 0, 0);
    for p in &mut honest {
        for (w, s) in p.samples.iter_mut().enumerate() {
            per_window[w].merge(std::mem::take(s));
        }
        honest_errors += p.errors;
        honest_closed += p.closed;
        unanswered += p.pending();
        for note in &p.notes {
            if notes.len() < 10 {
                notes.push(note.clone());
            }
        }
    }
    let figures: Vec<WindowFigures> = per_window
        .into_iter()
        .enumerate()
        .map(|(w, s)| WindowFigures::new(&windows, w, s, &trace))
        .collect();
    let mut by_kind: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let (mut wrong_ends, mut connections) = (0, 0);
    let (mut closes_1008, mut closes_1009) = (0, 0);
    for b in &bad {
        let kind = serde_json::to_value(b.kind)?
            .as_str()
            .unwrap_or("?")
            .to_owned();
        let ends = by_kind.entry(kind).or_default();
        *ends.entry("connections".into()).or_default() += b.connections;
        connections += b.connections;
        for (end, n) in &b.ends {
            *ends.entry(end.clone()).or_default() += n;
            if *end != format!("close {}", b.kind.due()) {
                wrong_ends += n;
            }
            match end.as_str() {
                "close 1008" => closes_1008 += n,
                "close 1009" => closes_1009 += n,
                _ => {}
            }
        }
    }
    let delta = |series: &str| after.get(series) - before.get(series);
    let bad_message_received: u64 = bad.iter().map(|b| b.bad_message_errors).sum();

    let mut checks = Checks::default();
    checks.add(
        "every bad client cut off (1008 or 1009)",
        wrong_ends == 0 && connections >= bad_total,
        format!("{connections} bad connections: {by_kind:?}"),
    );
    checks.add(
        "cut-offs counted in /metrics",
        delta(RATE_LIMIT) == closes_1008 as f64 && delta(TOO_BIG) == closes_1009 as f64,
        format!(
            "connections_closed rate_limit +{}, too_big +{}; seen by the clients: {closes_1008} × 1008, {closes_1009} × 1009",
            delta(RATE_LIMIT),
            delta(TOO_BIG)
        ),
    );
    checks.add(
        "garbage answered with counted errors",
        delta(BAD_MESSAGE) == bad_message_received as f64 && bad_message_received > 0,
        format!(
            "command_errors bad_message +{}; bad_message errors received {bad_message_received}",
            delta(BAD_MESSAGE)
        ),
    );
    checks.add(
        "honest phones unaffected",
        honest_errors == 0 && honest_closed == 0 && unanswered == 0,
        format!(
            "{honest_errors} error frames, {honest_closed} connections closed, {unanswered} commands unanswered"
        ),
    );

    let report = Report {
        scenario: "abuse",
        rooms: args.rooms(),
        phones_per_room: args.phones,
        bad_per_room: args.bad,
        connections: args.rooms() * (args.phones + 1) + bad_total,
        actions_per_second_target: args.rate() * (args.rooms() * args.phones) as f64,
        server_rate_limit: "default",
        windows: figures,
        bad_clients: bad_total,
        bad_connections: by_kind,
        bad_frames_sent: bad.iter().map(|b| b.frames_sent).sum(),
        bad_message_errors_received: bad_message_received,
        metric_closed_rate_limit: delta(RATE_LIMIT),
        metric_closed_too_big: delta(TOO_BIG),
        metric_bad_message_errors: delta(BAD_MESSAGE),
        honest_errors,
        honest_connections_closed: honest_closed,
        honest_unanswered: unanswered,
        error_samples: notes,
        server_rss_mib_max: trace.rss_max_mib(),
        passed: checks.passed(),
        checks,
    };
    println!(
        "abuse: {} rooms x {} honest phones + {} bad clients per room; the honest phones:",
        report.rooms, report.phones_per_room, report.bad_per_room
    );
    for w in &report.windows {
        w.print();
    }
    if let [a, b] = &report.windows[..] {
        println!(
            "  delivery p50 {:.2} → {:.2} ms, p99 {:.2} → {:.2} ms (calm → abuse)",
            a.delivery_ms.p50, b.delivery_ms.p50, a.delivery_ms.p99, b.delivery_ms.p99
        );
    }
    println!(
        "  bad clients: {} connections, {} frames sent; {:?}; server RSS max {:.1} MiB",
        connections, report.bad_frames_sent, report.bad_connections, report.server_rss_mib_max
    );
    for s in &report.error_samples {
        println!("    {s}");
    }
    report.checks.print();
    write_json(args.json.as_deref(), &report)?;
    Ok(report.passed)
}

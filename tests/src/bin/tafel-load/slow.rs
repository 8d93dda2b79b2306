//! Slow readers: under steady load, a few phones per room stop reading (the socket stays open;
//! they send nothing either, not even a ping). The others go on. The server must cut the
//! stalled ones off without slowing the room: when the outbox is full (a busy room), or when a
//! write has been stuck for 10 s once the socket buffers are full (a quiet one), or after 60 s
//! of silence, whichever comes first; the summary says which. They then
//! read what was buffered, find the connection closed, resume, and must show the server's
//! state like everyone else.

use crate::Args;
use crate::common::{self, Dial};
use crate::converge::{self, Accounting, Control, Finish, Stage};
use crate::measure::{Checks, Samples, WindowFigures, ms, write_json};
use crate::phone::{Ended, Phone};
use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tafel_tests::{Scrape, Ws};

// Stages.
const STALL: u32 = 1;
const RETURN: u32 = 2;
const QUIET: u32 = 3;
// Gates.
const BACK: usize = 0;

/// A stalled phone's receive buffer: small, as on a phone, so the server's writes block soon.
const STALLED_RECV_BUFFER: u32 = 4096;

/// A stalled phone's TCP segments: as on Wi-Fi, not loopback's 64 KiB.
const STALLED_MSS: u32 = 1400;

/// How long a stalled phone, reading again, waits for the server to end its connection.
const CLOSE_WAIT: Duration = Duration::from_secs(30);

struct Outcome {
    phone: Phone,
    stalled: bool,
    /// For a stalled phone: how its old connection ended once it read again, and when.
    cut: Option<(Ended, Instant)>,
    welcomed: bool,
    finish: Option<Finish>,
}

async fn script(
    mut phone: Phone,
    mut ws: Ws,
    ctl: Arc<Control>,
    settle: Duration,
    stalled: bool,
) -> Outcome {
    let ended = phone
        .run_resuming(&mut ws, true, |_: &Phone| false, ctl.reached(STALL), None)
        .await;
    if ended != Ended::Signal {
        phone.note(format!("before the stall: {ended:?}"));
    }
    let mut out = Outcome {
        stalled,
        cut: None,
        welcomed: false,
        finish: None,
        phone,
    };
    let phone = &mut out.phone;
    if stalled {
        // Not a read, not a write, until told to come back.
        ctl.reached(RETURN).await;
        // What was buffered, then the end the server gave the connection.
        let ended = phone
            .run(
                &mut ws,
                false,
                |_: &Phone| false,
                std::future::pending(),
                Some(Instant::now() + CLOSE_WAIT),
            )
            .await;
        out.cut = Some((ended, Instant::now()));
        drop(ws);
        ws = match phone.resume().await {
            Ok((ws, _)) => ws,
            Err(e) => {
                phone.note(format!("could not come back: {e:#}"));
                ctl.gone();
                return out;
            }
        };
        out.welcomed = true;
        ctl.arrive(BACK);
        if let Err(e) = phone.resend(&mut ws).await {
            phone.note(format!("resending failed: {e}"));
        }
        phone.reschedule();
        phone
            .run_resuming(&mut ws, true, |_: &Phone| false, ctl.reached(QUIET), None)
            .await;
    } else {
        phone
            .run_resuming(&mut ws, true, |_: &Phone| false, ctl.reached(QUIET), None)
            .await;
    }
    out.finish = Some(converge::finish(phone, ws, &ctl, settle).await);
    out
}

#[derive(Serialize)]
struct Report {
    scenario: &'static str,
    rooms: usize,
    phones_per_room: usize,
    stalled_per_room: usize,
    connections: usize,
    actions_per_second_target: f64,
    /// The reading phones: before the stall, and while the stalled phones were stalled (until
    /// the server had cut them all off).
    windows: Vec<WindowFigures>,
    stalled_phones: usize,
    /// From the stall until the server had cut every stalled phone off.
    stall_to_cut_off_ms: f64,
    /// Growth of `tafel_outbox_drops_total` and of closes for a write that did not finish
    /// (`tafel_connections_closed_total{reason="write_failed"}`) during the stall.
    outbox_drops: f64,
    write_timeouts: f64,
    /// Growth of closes for 60 s of silence (`reason="idle"`).
    idle_closes: f64,
    /// How the stalled phones found their connection ended when they read again: close codes,
    /// "no close frame" (the socket simply ended), or "still open".
    stalled_connection_ends: BTreeMap<String, usize>,
    stalled_welcomed_back: usize,
    accounting: Accounting,
    reading_phones_errors: u64,
    reading_phones_connections_closed: u64,
    errors: u64,
    error_samples: Vec<String>,
    server_rss_mib_max: f64,
    checks: Checks,
    passed: bool,
}

const DROPS: &str = "tafel_outbox_drops_total";
const WRITE_FAILED: &str = r#"tafel_connections_closed_total{reason="write_failed"}"#;
const IDLE: &str = r#"tafel_connections_closed_total{reason="idle"}"#;

pub async fn run(args: &Args) -> Result<bool> {
    let target = common::target(args, false)?;
    common::announce(args, &target);
    let peers = args.peers();
    let stalled_per_room = args.stalled.min(args.phones);
    let seated = common::seat_everyone(&target, args, |room, phone, global| Dial {
        recv_buffer: (phone < stalled_per_room).then_some(STALLED_RECV_BUFFER),
        mss: (phone < stalled_per_room).then_some(STALLED_MSS),
        ..Dial::phone(peers, room, global)
    })
    .await?;
    let rooms = seated.rooms.clone();
    let fac_readers = common::keep_reading(seated.facilitators);
    let n = seated.seats.len();
    let stalled_total = stalled_per_room * rooms.len();

    let stage = Stage::new(args, &target, &["before", "stalled"])?;
    let (start, windows, trace) = (stage.start, &stage.windows, &stage.trace);
    let (ctl, settle) = (stage.ctl.clone(), stage.settle);
    let tasks = stage.spawn(seated.seats, |seat| seat.index < stalled_per_room, script);

    let measure_from = start + Duration::from_secs(args.warmup);
    tokio::time::sleep_until(measure_from.into()).await;
    windows.open(0, measure_from);
    trace.mark();
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    let before = Scrape::of(&target.server).await?;
    let stalled_at = Instant::now();
    windows.close(0, stalled_at);
    windows.open(1, stalled_at);
    trace.mark();
    ctl.set(STALL);
    println!("{stalled_total} phones stopped reading");
    // Wait for the server to cut them off: every stalled phone dropped for a full outbox, or
    // its connection given up for a write that did not finish, or for its silence.
    let limit = stalled_at + Duration::from_secs(args.stall_limit);
    let (drops, write_timeouts, idle_closes) = loop {
        let now = Scrape::of(&target.server).await?;
        let grew = |series: &str| now.get(series) - before.get(series);
        let (drops, timeouts, idle) = (grew(DROPS), grew(WRITE_FAILED), grew(IDLE));
        let all = stalled_total as f64;
        if drops >= all || timeouts >= all || idle >= all || timeouts + idle >= all {
            break (drops, timeouts, idle);
        }
        if Instant::now() > limit {
            println!(
                "the server had not cut them all off after {} s",
                args.stall_limit
            );
            break (drops, timeouts, idle);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let cut_off_at = Instant::now();
    windows.close(1, cut_off_at);
    trace.mark();
    println!(
        "after {:.1} s: {drops} outbox drops, {write_timeouts} write timeouts, {idle_closes} idle closes; the stalled phones read again",
        (cut_off_at - stalled_at).as_secs_f64()
    );
    ctl.set(RETURN);
    let back = ctl
        .gathered(
            BACK,
            stalled_total,
            Instant::now() + CLOSE_WAIT + Duration::from_secs(60),
        )
        .await;
    ctl.set(QUIET);
    let (views, ref_readers) =
        converge::settle_and_publish(&ctl, &target.addrs(), &rooms, n, settle).await?;

    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await?);
    }
    for r in fac_readers.into_iter().chain(ref_readers) {
        r.abort();
    }

    let mut per_window: Vec<Samples> = (0..windows.len()).map(|_| Samples::default()).collect();
    let mut report_notes = Vec::new();
    let (mut errors, mut reading_errors, mut reading_closed) = (0, 0, 0);
    let mut ends: BTreeMap<String, usize> = BTreeMap::new();
    for o in &mut outcomes {
        for (w, s) in o.phone.samples.iter_mut().enumerate() {
            per_window[w].merge(std::mem::take(s));
        }
        errors += o.phone.errors;
        if !o.stalled {
            reading_errors += o.phone.errors;
            reading_closed += o.phone.closed;
        }
        if let Some((ended, _)) = o.cut {
            let end = match ended {
                Ended::Closed(Some(code)) => format!("close {code}"),
                Ended::Closed(None) => "no close frame".into(),
                _ => "still open".into(),
            };
            *ends.entry(end).or_default() += 1;
        }
        for note in &o.phone.notes {
            if report_notes.len() < 10 {
                report_notes.push(note.clone());
            }
        }
    }
    let figures = stage.figures(per_window);
    let phones: Vec<&Phone> = outcomes.iter().map(|o| &o.phone).collect();
    let accounting = converge::account(&phones, &rooms, &views);
    let finishes: Vec<&Finish> = outcomes.iter().filter_map(|o| o.finish.as_ref()).collect();
    let closed_by_server = outcomes
        .iter()
        .filter(|o| matches!(o.cut, Some((Ended::Closed(_), _))))
        .count();

    let mut checks = Checks::default();
    let cut_off = drops.max(write_timeouts + idle_closes);
    checks.add(
        "stalled phones cut off by the server",
        cut_off >= stalled_total as f64 && closed_by_server == stalled_total,
        format!(
            "{:.1} s after the stall: {drops} outbox drops, {write_timeouts} write timeouts, {idle_closes} idle closes; {closed_by_server} of {stalled_total} found their socket ended: {ends:?}",
            (cut_off_at - stalled_at).as_secs_f64()
        ),
    );
    checks.add(
        "stalled phones resumed",
        back == stalled_total && outcomes.iter().filter(|o| o.stalled).all(|o| o.welcomed),
        format!("{back} of {stalled_total}"),
    );
    let differences = converge::check_finishes(&finishes, &mut checks);
    accounting.check(&mut checks);
    checks.add(
        "reading phones unaffected",
        reading_errors == 0 && reading_closed == 0,
        format!("{reading_errors} error frames, {reading_closed} connections closed"),
    );

    let report = Report {
        scenario: "slow",
        rooms: args.rooms(),
        phones_per_room: args.phones,
        stalled_per_room,
        connections: args.rooms() * (args.phones + 1),
        actions_per_second_target: args.rate() * n as f64,
        windows: figures,
        stalled_phones: stalled_total,
        stall_to_cut_off_ms: ms(cut_off_at - stalled_at),
        outbox_drops: drops,
        write_timeouts,
        idle_closes,
        stalled_connection_ends: ends,
        stalled_welcomed_back: back,
        accounting,
        reading_phones_errors: reading_errors,
        reading_phones_connections_closed: reading_closed,
        errors,
        error_samples: report_notes,
        server_rss_mib_max: trace.rss_max_mib(),
        passed: checks.passed(),
        checks,
    };
    println!(
        "slow: {} rooms x {} phones, {} per room stalled; the reading phones:",
        report.rooms, report.phones_per_room, report.stalled_per_room
    );
    for w in &report.windows {
        w.print();
    }
    if let [a, b] = &report.windows[..] {
        println!(
            "  delivery p50 {:.2} → {:.2} ms, p99 {:.2} → {:.2} ms (before → stalled)",
            a.delivery_ms.p50, b.delivery_ms.p50, a.delivery_ms.p99, b.delivery_ms.p99
        );
    }
    println!(
        "  cut off after {:.1} s: {} outbox drops, {} write timeouts, {} idle closes; ends seen {:?}; {} back; server RSS max {:.1} MiB",
        report.stall_to_cut_off_ms / 1000.0,
        report.outbox_drops,
        report.write_timeouts,
        report.idle_closes,
        report.stalled_connection_ends,
        report.stalled_welcomed_back,
        report.server_rss_mib_max
    );
    for s in report
        .error_samples
        .iter()
        .chain(&report.accounting.samples)
        .chain(&differences)
    {
        println!("    {s}");
    }
    report.checks.print();
    write_json(args.json.as_deref(), &report)?;
    Ok(report.passed)
}

//! The reconnect storm: under steady load, every phone's socket drops at the same moment, each
//! with a command sent and not yet answered; all come back at once (resume with their token)
//! and resend what had no answer, with the same ids. Then the load goes on, and at the end
//! every phone must show what the server has, with every acknowledged card there exactly once.

use crate::Args;
use crate::common::{self, Dial};
use crate::converge::{self, Accounting, Control, Finish, Stage};
use crate::measure::{Checks, Percentiles, Samples, WindowFigures, ms, percentiles_of, write_json};
use crate::phone::{Ended, Phone};
use anyhow::Result;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tafel_tests::Ws;

// Stages.
const DROP: u32 = 1;
const RECONNECT: u32 = 2;
const QUIET: u32 = 3;
// Gates.
const DROPPED: usize = 0;
const WELCOMED: usize = 1;

/// What one phone went through.
struct Outcome {
    phone: Phone,
    /// Commands unanswered when its socket dropped.
    in_flight: usize,
    back: converge::Comeback,
}

async fn script(mut phone: Phone, mut ws: Ws, ctl: Arc<Control>, settle: Duration) -> Outcome {
    let ended = phone
        .run_resuming(&mut ws, true, |_: &Phone| false, ctl.reached(DROP), None)
        .await;
    if ended != Ended::Signal {
        phone.note(format!("before the storm: {ended:?}"));
    }
    // A command in flight, then the socket goes (without a close frame, as when a phone loses
    // its network).
    if phone.pending() == 0 && phone.act(&mut ws).await.is_err() {
        phone.note("could not send before the drop".into());
    }
    let in_flight = phone.pending();
    drop(ws);
    ctl.arrive(DROPPED);
    ctl.reached(RECONNECT).await;
    let back = converge::come_back(&mut phone, &ctl, WELCOMED, QUIET, settle).await;
    Outcome {
        in_flight,
        back,
        phone,
    }
}

#[derive(Serialize)]
struct Report {
    scenario: &'static str,
    rooms: usize,
    phones_per_room: usize,
    connections: usize,
    actions_per_second_target: f64,
    peers: String,
    /// Before the storm and after everyone was back.
    windows: Vec<WindowFigures>,
    phones_dropped: usize,
    commands_in_flight_at_drop: usize,
    phones_with_command_in_flight: usize,
    /// From the drop to each phone's welcome.
    drop_to_welcome_ms: Percentiles,
    /// From the go to reconnect (every socket closed) to each phone's welcome.
    reconnect_to_welcome_ms: Percentiles,
    /// From the drop until the last phone was welcomed.
    drop_to_all_welcomed_ms: f64,
    phones_welcomed: usize,
    resume_retries: u32,
    commands_resent: u64,
    resent_answered: u64,
    stray_answers: u64,
    accounting: Accounting,
    errors: u64,
    connections_closed_unexpectedly: u64,
    error_samples: Vec<String>,
    server_rss_mib_max: f64,
    checks: Checks,
    passed: bool,
}

pub async fn run(args: &Args) -> Result<bool> {
    let target = common::target(args, false)?;
    common::announce(args, &target);
    let peers = args.peers();
    let seated = common::seat_everyone(&target, args, |room, _, global| {
        Dial::phone(peers, room, global)
    })
    .await?;
    let rooms = seated.rooms.clone();
    let fac_readers = common::keep_reading(seated.facilitators);
    let n = seated.seats.len();

    let stage = Stage::new(args, &target, &["before", "after"])?;
    let (start, windows, trace) = (stage.start, &stage.windows, &stage.trace);
    let (ctl, settle) = (stage.ctl.clone(), stage.settle);
    let tasks = stage.spawn(
        seated.seats,
        |_| false,
        |phone, ws, ctl, settle, _| script(phone, ws, ctl, settle),
    );

    // Steady load, measured.
    let measure_from = start + Duration::from_secs(args.warmup);
    tokio::time::sleep_until(measure_from.into()).await;
    windows.open(0, measure_from);
    trace.mark();
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    // The storm.
    let dropped_at = Instant::now();
    windows.close(0, dropped_at);
    trace.mark();
    ctl.set(DROP);
    let dropped = ctl
        .gathered(DROPPED, n, Instant::now() + Duration::from_secs(30))
        .await;
    let reconnect_at = Instant::now();
    ctl.set(RECONNECT);
    println!(
        "{dropped} sockets dropped in {:.0} ms; all reconnecting",
        ms(reconnect_at - dropped_at)
    );
    let welcomed = ctl
        .gathered(WELCOMED, n, Instant::now() + Duration::from_secs(120))
        .await;
    let all_back = Instant::now();
    println!(
        "{welcomed} phones welcomed back {:.0} ms after the drop",
        ms(all_back - dropped_at)
    );
    // Load after the storm, measured.
    windows.open(1, all_back);
    trace.mark();
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    windows.close(1, Instant::now());
    trace.mark();
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

    // Figures.
    let mut per_window: Vec<Samples> = (0..windows.len()).map(|_| Samples::default()).collect();
    let mut report_notes = Vec::new();
    let (mut errors, mut closed, mut retries) = (0, 0, 0);
    let (mut resent, mut resent_answered, mut stray) = (0, 0, 0);
    let mut drop_to_welcome = Vec::new();
    let mut reconnect_to_welcome = Vec::new();
    for o in &mut outcomes {
        for (w, s) in o.phone.samples.iter_mut().enumerate() {
            per_window[w].merge(std::mem::take(s));
        }
        errors += o.phone.errors;
        closed += o.phone.closed;
        retries += o.back.retries;
        resent += o.phone.resent;
        resent_answered += o.phone.resent_answered;
        stray += o.phone.stray_answers;
        if let Some(at) = o.back.welcomed {
            drop_to_welcome.push(at - dropped_at);
            reconnect_to_welcome.push(at - reconnect_at);
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
    let finishes: Vec<&Finish> = outcomes
        .iter()
        .filter_map(|o| o.back.finish.as_ref())
        .collect();

    let mut checks = Checks::default();
    checks.add(
        "every phone dropped with a command in flight",
        dropped == n && outcomes.iter().all(|o| o.in_flight > 0),
        format!(
            "{dropped} of {n} dropped; {} with a command unanswered",
            outcomes.iter().filter(|o| o.in_flight > 0).count()
        ),
    );
    checks.add(
        "every phone welcomed back",
        welcomed == n,
        format!("{welcomed} of {n}; {retries} resume attempts refused or retried"),
    );
    let differences = converge::check_finishes(&finishes, &mut checks);
    accounting.check(&mut checks);
    checks.add(
        "every resent command answered once",
        resent_answered == resent && stray == 0,
        format!("{resent} resent, {resent_answered} answered, {stray} answers nobody waited for"),
    );
    checks.add(
        "no errors",
        errors == 0 && closed == 0,
        format!("{errors} error frames; {closed} connections closed unexpectedly"),
    );

    let report = Report {
        scenario: "storm",
        rooms: args.rooms(),
        phones_per_room: args.phones,
        connections: args.rooms() * (args.phones + 1),
        actions_per_second_target: args.rate() * n as f64,
        peers: format!("{peers:?}").to_lowercase(),
        windows: figures,
        phones_dropped: dropped,
        commands_in_flight_at_drop: outcomes.iter().map(|o| o.in_flight).sum(),
        phones_with_command_in_flight: outcomes.iter().filter(|o| o.in_flight > 0).count(),
        drop_to_welcome_ms: percentiles_of(&drop_to_welcome),
        reconnect_to_welcome_ms: percentiles_of(&reconnect_to_welcome),
        drop_to_all_welcomed_ms: ms(all_back - dropped_at),
        phones_welcomed: welcomed,
        resume_retries: retries,
        commands_resent: resent,
        resent_answered,
        stray_answers: stray,
        accounting,
        errors,
        connections_closed_unexpectedly: closed,
        error_samples: report_notes,
        server_rss_mib_max: trace.rss_max_mib(),
        passed: checks.passed(),
        checks,
    };
    println!(
        "storm: {} rooms x {} phones",
        report.rooms, report.phones_per_room
    );
    for w in &report.windows {
        w.print();
    }
    println!(
        "  drop: {} phones, {} commands in flight; drop→welcome p50 {:.0} ms p99 {:.0} ms max {:.0} ms; all back after {:.0} ms ({} retries)",
        report.phones_dropped,
        report.commands_in_flight_at_drop,
        report.drop_to_welcome_ms.p50,
        report.drop_to_welcome_ms.p99,
        report.drop_to_welcome_ms.max,
        report.drop_to_all_welcomed_ms,
        report.resume_retries
    );
    println!(
        "  resent {} commands, {} answered; {} cards acked, {} lost, {} doubled; server RSS max {:.1} MiB",
        report.commands_resent,
        report.resent_answered,
        report.accounting.cards_acked,
        report.accounting.lost,
        report.accounting.doubled,
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

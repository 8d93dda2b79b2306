//! The crash: under steady load every phone sends one more command, and while those are on
//! their way the server is killed (SIGKILL). It is restarted on the same data directory and
//! port; every phone resumes and resends what had no answer. Nothing acknowledged may be lost,
//! nothing applied twice, and every phone must end up showing what the server has.

use crate::Args;
use crate::common::{self, Dial};
use crate::converge::{self, Accounting, Control, Finish, Stage};
use crate::measure::{Checks, Percentiles, Samples, WindowFigures, ms, percentiles_of, write_json};
use crate::phone::{Ended, Phone};
use anyhow::{Result, bail};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};
use tafel_tests::Ws;

// Stages.
const BURST: u32 = 1;
const RESTARTED: u32 = 2;
const QUIET: u32 = 3;
// Gates.
const SENT: usize = 0;
const WELCOMED: usize = 1;

struct Outcome {
    phone: Phone,
    /// How its connection ended at the kill.
    cut: Ended,
    /// Commands unanswered when the connection died.
    in_flight: usize,
    back: converge::Comeback,
}

async fn script(mut phone: Phone, mut ws: Ws, ctl: Arc<Control>, settle: Duration) -> Outcome {
    let ended = phone
        .run_resuming(&mut ws, true, |_: &Phone| false, ctl.reached(BURST), None)
        .await;
    if ended != Ended::Signal {
        phone.note(format!("before the crash: {ended:?}"));
    }
    // One more command, so that many are on their way when the server dies.
    if phone.pending() == 0 && phone.act(&mut ws).await.is_err() {
        phone.note("could not send before the kill".into());
    }
    ctl.arrive(SENT);
    // Read (answers may still come) until the connection dies with the server.
    let cut = phone
        .run(
            &mut ws,
            false,
            |_: &Phone| false,
            std::future::pending(),
            Some(Instant::now() + Duration::from_secs(60)),
        )
        .await;
    let in_flight = phone.pending();
    drop(ws);
    ctl.reached(RESTARTED).await;
    let back = converge::come_back(&mut phone, &ctl, WELCOMED, QUIET, settle).await;
    Outcome {
        cut,
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
    /// Before the kill and after everyone was back.
    windows: Vec<WindowFigures>,
    /// Commands (of every kind) acknowledged before the kill, and cards among them.
    commands_acked_before_kill: usize,
    cards_acked_before_kill: usize,
    /// Commands without an answer when the connections died.
    commands_in_flight_at_kill: usize,
    /// From the kill to the restarted server listening.
    kill_to_listening_ms: f64,
    /// From the restarted server listening to each phone's welcome.
    restart_to_welcome_ms: Percentiles,
    /// From the restarted server listening until the last phone was welcomed.
    restart_to_all_welcomed_ms: f64,
    kill_to_all_welcomed_ms: f64,
    phones_welcomed: usize,
    resume_retries: u32,
    commands_resent: u64,
    resent_answered: u64,
    stray_answers: u64,
    /// Acknowledged cards not shown after the restart (must be 0).
    lost: usize,
    /// Acknowledged cards shown twice (must be 0).
    doubled: usize,
    accounting: Accounting,
    errors: u64,
    connections_closed_unexpectedly: u64,
    error_samples: Vec<String>,
    server_rss_mib_max: f64,
    checks: Checks,
    passed: bool,
}

pub async fn run(args: &Args) -> Result<bool> {
    if args.server.is_none() {
        bail!("the crash scenario kills and restarts the server: give --server PATH");
    }
    let mut target = common::target(args, false)?;
    common::announce(args, &target);
    let peers = args.peers();
    let addr = target.server.addr;
    let seated = common::seat_everyone(&target, args, |room, _, global| {
        Dial::phone(peers, room, global)
    })
    .await?;
    let rooms = seated.rooms.clone();
    // The facilitators' consoles die with the server and stay away.
    let fac_readers = common::keep_reading(seated.facilitators);
    let n = seated.seats.len();

    let stage = Stage::new(args, &target, &["before", "after"])?;
    let (windows, ctl, settle) = (&stage.windows, stage.ctl.clone(), stage.settle);
    let tasks = stage.spawn(
        seated.seats,
        |_| false,
        |phone, ws, ctl, settle, _| script(phone, ws, ctl, settle),
    );
    stage.measure_first(args).await;
    // Everyone sends; the server dies while those commands are on their way.
    ctl.set(BURST);
    let sent = ctl
        .gathered(SENT, n, Instant::now() + Duration::from_secs(10))
        .await;
    let killed_at = Instant::now();
    tokio::task::block_in_place(|| target.server.kill())?;
    println!("killed the server (SIGKILL) with {sent} phones' last commands on their way");
    tokio::task::block_in_place(|| target.server.restart())?;
    let listening_at = Instant::now();
    target.pid.store(target.server.pid(), Relaxed);
    println!(
        "restarted on the same data directory and port, listening {:.0} ms after the kill",
        ms(listening_at - killed_at)
    );
    ctl.set(RESTARTED);
    let welcomed = ctl
        .gathered(WELCOMED, n, Instant::now() + Duration::from_secs(120))
        .await;
    let all_back = Instant::now();
    println!(
        "{welcomed} phones welcomed back {:.0} ms after the restart",
        ms(all_back - listening_at)
    );
    stage.measure(args, 1).await;
    ctl.set(QUIET);
    let (views, ref_readers) =
        converge::settle_and_publish(&ctl, &[addr], &rooms, n, settle).await?;

    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await?);
    }
    for r in fac_readers.into_iter().chain(ref_readers) {
        r.abort();
    }

    let mut per_window: Vec<Samples> = (0..windows.len()).map(|_| Samples::default()).collect();
    let mut report_notes = Vec::new();
    let (mut errors, mut closed, mut retries) = (0, 0, 0);
    let (mut resent, mut resent_answered, mut stray) = (0, 0, 0);
    let mut restart_to_welcome = Vec::new();
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
            restart_to_welcome.push(at - listening_at);
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
    let acked_before: usize = phones
        .iter()
        .map(|p| p.acked.at.iter().filter(|t| **t < killed_at).count())
        .sum();
    let cards_before: usize = phones
        .iter()
        .map(|p| p.acked.cards.iter().filter(|(_, t)| *t < killed_at).count())
        .sum();
    let cut_by_kill = outcomes
        .iter()
        .filter(|o| matches!(o.cut, Ended::Closed(_)))
        .count();

    let mut checks = Checks::default();
    checks.add(
        "every connection ended with the server",
        cut_by_kill == n,
        format!("{cut_by_kill} of {n}"),
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
        scenario: "crash",
        rooms: args.rooms(),
        phones_per_room: args.phones,
        connections: args.rooms() * (args.phones + 1),
        actions_per_second_target: args.rate() * n as f64,
        peers: format!("{peers:?}").to_lowercase(),
        windows: figures,
        commands_acked_before_kill: acked_before,
        cards_acked_before_kill: cards_before,
        commands_in_flight_at_kill: outcomes.iter().map(|o| o.in_flight).sum(),
        kill_to_listening_ms: ms(listening_at - killed_at),
        restart_to_welcome_ms: percentiles_of(&restart_to_welcome),
        restart_to_all_welcomed_ms: ms(all_back - listening_at),
        kill_to_all_welcomed_ms: ms(all_back - killed_at),
        phones_welcomed: welcomed,
        resume_retries: retries,
        commands_resent: resent,
        resent_answered,
        stray_answers: stray,
        lost: accounting.lost,
        doubled: accounting.doubled,
        accounting,
        errors,
        connections_closed_unexpectedly: closed,
        error_samples: report_notes,
        server_rss_mib_max: stage.trace.rss_max_mib(),
        passed: checks.passed(),
        checks,
    };
    println!(
        "crash: {} rooms x {} phones",
        report.rooms, report.phones_per_room
    );
    for w in &report.windows {
        w.print();
    }
    println!(
        "  acked before the kill: {} commands ({} cards); {} in flight at the kill",
        report.commands_acked_before_kill,
        report.cards_acked_before_kill,
        report.commands_in_flight_at_kill
    );
    println!(
        "  kill→listening {:.0} ms; restart→welcome p50 {:.0} ms p99 {:.0} ms max {:.0} ms; all back {:.0} ms after the restart ({} retries)",
        report.kill_to_listening_ms,
        report.restart_to_welcome_ms.p50,
        report.restart_to_welcome_ms.p99,
        report.restart_to_welcome_ms.max,
        report.restart_to_all_welcomed_ms,
        report.resume_retries
    );
    println!(
        "  resent {} commands, {} answered; {} cards acked in all, lost {}, doubled {}; server RSS max {:.1} MiB",
        report.commands_resent,
        report.resent_answered,
        report.accounting.cards_acked,
        report.lost,
        report.doubled,
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

//! The failover: several nodes over one database, rooms owned all over them, phones spread
//! over them; under steady load node 0 is killed (SIGKILL) and stays dead. The phones whose
//! socket it held resume through the next node; the phones of the rooms it owned are dropped
//! by the nodes that forwarded them (the owner is gone) and resume there; each such room is
//! taken by the first node that is asked once its lease has run out. Reported: kill → each cut
//! phone welcomed again. Nothing acknowledged may be lost or doubled, and every phone must end
//! up showing what the new owner has.

use crate::Args;
use crate::common::{self, Dial};
use crate::converge::{self, Accounting, Control, Finish, Stage};
use crate::measure::{Checks, Percentiles, Samples, WindowFigures, ms, percentiles_of, write_json};
use crate::phone::{Ended, Phone};
use anyhow::{Result, bail};
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tafel_tests::Ws;

// Stages.
const KILLED: u32 = 1;
const QUIET: u32 = 2;
// Gates.
const WELCOMED: usize = 0;

struct Outcome {
    phone: Phone,
    /// When its connection was cut after the kill, and when it was welcomed again.
    cut: Option<Instant>,
    back: Option<Instant>,
    finish: Finish,
}

/// Acts until `QUIET`; a connection that ends after the kill is resumed (through its own node
/// first, then the next ones) and its unanswered commands resent.
async fn script(mut phone: Phone, mut ws: Ws, ctl: Arc<Control>, settle: Duration) -> Outcome {
    let (mut cut, mut back) = (None, None);
    loop {
        let ended = phone
            .run(&mut ws, true, |_: &Phone| false, ctl.reached(QUIET), None)
            .await;
        let Ended::Closed(code) = ended else { break };
        let at = Instant::now();
        if ctl.stage() < KILLED {
            phone.closed += 1;
            phone.note(format!("closed before the kill ({code:?})"));
        }
        match phone.resume().await {
            Ok((new, _)) => {
                ws = new;
                if cut.is_none() && ctl.stage() >= KILLED {
                    (cut, back) = (Some(at), Some(Instant::now()));
                    ctl.arrive(WELCOMED);
                }
                if let Err(e) = phone.resend(&mut ws).await {
                    phone.note(format!("resending failed: {e}"));
                }
            }
            Err(e) => {
                phone.note(format!("could not come back: {e:#}"));
                ctl.gone();
                break;
            }
        }
    }
    let finish = converge::finish(&mut phone, ws, &ctl, settle).await;
    Outcome {
        phone,
        cut,
        back,
        finish,
    }
}

#[derive(Serialize)]
struct Report {
    scenario: &'static str,
    nodes: usize,
    lease_secs: f64,
    rooms: usize,
    phones_per_room: usize,
    connections: usize,
    actions_per_second_target: f64,
    /// Before the kill and after every cut phone was back.
    windows: Vec<WindowFigures>,
    /// Rooms node 0 owned, and phones whose socket or room it held.
    rooms_moved: usize,
    phones_cut: usize,
    /// From the kill to each cut phone's new welcome.
    kill_to_welcome_ms: Percentiles,
    kill_to_all_welcomed_ms: f64,
    commands_resent: u64,
    resent_answered: u64,
    stray_answers: u64,
    lost: usize,
    doubled: usize,
    accounting: Accounting,
    errors: u64,
    error_samples: Vec<String>,
    checks: Checks,
    passed: bool,
}

pub async fn run(args: &Args) -> Result<bool> {
    if args.server.is_none() || args.nodes < 2 {
        bail!("the failover scenario kills one of several nodes: give --server PATH --nodes 3");
    }
    let mut target = common::target(args, false)?;
    common::announce(args, &target);
    let peers = args.peers();
    let seated = common::seat_everyone(&target, args, |room, _, global| {
        Dial::phone(peers, room, global)
    })
    .await?;
    let rooms = seated.rooms.clone();
    let fac_readers = common::keep_reading(seated.facilitators);
    let n = seated.seats.len();
    let nodes = args.nodes;
    // Room i is owned by node i mod N; phone p of room r came in through node (r + p) mod N.
    let rooms_moved = rooms.iter().filter(|r| r.index % nodes == 0).count();
    let expect_cut = seated
        .seats
        .iter()
        .filter(|s| s.home == 0 || s.room.index % nodes == 0)
        .count();

    let stage = Stage::new(args, &target, &["before", "after"])?;
    let (windows, ctl, settle) = (&stage.windows, stage.ctl.clone(), stage.settle);
    let tasks = stage.spawn(
        seated.seats,
        |_| false,
        |phone, ws, ctl, settle, _| script(phone, ws, ctl, settle),
    );
    stage.measure_first(args).await;

    ctl.set(KILLED);
    let killed_at = Instant::now();
    tokio::task::block_in_place(|| target.server.kill())?;
    println!("killed node 0 (SIGKILL): {rooms_moved} rooms to move, {expect_cut} phones cut");
    let welcomed = ctl
        .gathered(
            WELCOMED,
            expect_cut,
            Instant::now() + Duration::from_secs(120),
        )
        .await;
    let all_back = Instant::now();
    println!(
        "{welcomed} phones welcomed again {:.0} ms after the kill",
        ms(all_back - killed_at)
    );
    stage.measure(args, 1).await;
    ctl.set(QUIET);
    let live = target.addrs()[1..].to_vec();
    let (views, ref_readers) = converge::settle_and_publish(&ctl, &live, &rooms, n, settle).await?;

    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await?);
    }
    for r in fac_readers.into_iter().chain(ref_readers) {
        r.abort();
    }

    let mut per_window: Vec<Samples> = (0..windows.len()).map(|_| Samples::default()).collect();
    let mut notes = Vec::new();
    let (mut errors, mut closed, mut resent, mut resent_answered, mut stray) = (0, 0, 0, 0, 0);
    let mut kill_to_welcome = Vec::new();
    for o in &mut outcomes {
        for (w, s) in o.phone.samples.iter_mut().enumerate() {
            per_window[w].merge(std::mem::take(s));
        }
        errors += o.phone.errors;
        closed += o.phone.closed;
        resent += o.phone.resent;
        resent_answered += o.phone.resent_answered;
        stray += o.phone.stray_answers;
        if let (Some(_), Some(back)) = (o.cut, o.back) {
            kill_to_welcome.push(back - killed_at);
        }
        for note in &o.phone.notes {
            if notes.len() < 10 {
                notes.push(note.clone());
            }
        }
    }
    let figures = stage.figures(per_window);
    let phones: Vec<&Phone> = outcomes.iter().map(|o| &o.phone).collect();
    let accounting = converge::account(&phones, &rooms, &views);
    let finishes: Vec<&Finish> = outcomes.iter().map(|o| &o.finish).collect();

    let mut checks = Checks::default();
    checks.add(
        "every cut phone welcomed again",
        welcomed == expect_cut && kill_to_welcome.len() == expect_cut,
        format!(
            "{} of {expect_cut} (gate: {welcomed})",
            kill_to_welcome.len()
        ),
    );
    let differences = converge::check_finishes(&finishes, &mut checks);
    accounting.check(&mut checks);
    checks.add(
        "every resent command answered once",
        resent_answered == resent && stray == 0,
        format!("{resent} resent, {resent_answered} answered, {stray} answers nobody waited for"),
    );
    checks.add(
        "no errors, no connection lost before the kill",
        errors == 0 && closed == 0,
        format!("{errors} error frames; {closed} connections closed before the kill"),
    );

    let kill_to_welcome_ms = percentiles_of(&kill_to_welcome);
    let report = Report {
        scenario: "failover",
        nodes,
        lease_secs: args.lease_secs,
        rooms: args.rooms(),
        phones_per_room: args.phones,
        connections: args.rooms() * (args.phones + 1),
        actions_per_second_target: args.rate() * n as f64,
        windows: figures,
        rooms_moved,
        phones_cut: kill_to_welcome.len(),
        kill_to_welcome_ms,
        kill_to_all_welcomed_ms: ms(all_back - killed_at),
        commands_resent: resent,
        resent_answered,
        stray_answers: stray,
        lost: accounting.lost,
        doubled: accounting.doubled,
        accounting,
        errors,
        error_samples: notes,
        passed: checks.passed(),
        checks,
    };
    println!(
        "failover: {} nodes, lease {} s, {} rooms x {} phones",
        report.nodes, report.lease_secs, report.rooms, report.phones_per_room
    );
    for w in &report.windows {
        w.print();
    }
    println!(
        "  {} rooms moved, {} phones cut; kill→welcome p50 {:.0} ms p99 {:.0} ms max {:.0} ms",
        report.rooms_moved,
        report.phones_cut,
        report.kill_to_welcome_ms.p50,
        report.kill_to_welcome_ms.p99,
        report.kill_to_welcome_ms.max
    );
    println!(
        "  resent {} commands, {} answered; {} cards acked in all, lost {}, doubled {}",
        report.commands_resent,
        report.resent_answered,
        report.accounting.cards_acked,
        report.lost,
        report.doubled
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

//! The steady load: every phone acts at random for the warm-up and `--duration` seconds, then
//! waits (up to 5 s) for its last answers. Measured over `--duration`.

use crate::Args;
use crate::common::{self, Dial};
use crate::measure::{self, Percentiles, Samples, Trace, Windows, percentiles, sample, write_json};
use crate::phone::{Ended, Load, Phone};
use anyhow::Result;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

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
    /// CPU time the virtual machine's host took from this machine while measuring, in % of one
    /// core (figures measured on a shared VM vary with it).
    host_steal_percent: Option<f64>,
    /// Nodes of the server (over PostgreSQL when more than one, or with --postgres).
    nodes: usize,
    postgres: bool,
    /// The storage commits (one transaction each, group commit) while measuring, every node's.
    storage: Commits,
    /// The CPU of the PostgreSQL processes serving the nodes, when there are any (not in
    /// `server_cpu_*`).
    postgres_cpu_percent: Option<f64>,
    postgres_cpu_us_per_update: Option<f64>,
}

/// Storage transactions over the measured window, from the nodes' `/metrics`.
#[derive(Serialize, Default)]
struct Commits {
    commits: f64,
    /// Room write requests they carried.
    requests: f64,
    requests_per_commit: f64,
    mean_ms: f64,
    /// The upper bounds of the histogram's buckets holding the 50th and 99th percentiles.
    p50_ms_at_most: f64,
    p99_ms_at_most: f64,
}

/// The bounds of `tafel_storage_flush_seconds`' buckets, as the server names them.
fn bucket_bounds() -> impl Iterator<Item = f64> {
    (0..13).map(|k| 0.0005 * f64::from(1u32 << k))
}

async fn scrape_all(target: &common::Target) -> Result<Vec<tafel_tests::Scrape>> {
    let mut all = Vec::new();
    for node in target.nodes() {
        all.push(tafel_tests::Scrape::of(node).await?);
    }
    Ok(all)
}

fn commits(before: &[tafel_tests::Scrape], after: &[tafel_tests::Scrape]) -> Commits {
    let delta = |series: &str| -> f64 {
        before
            .iter()
            .zip(after)
            .map(|(b, a)| a.get(series) - b.get(series))
            .sum()
    };
    let commits = delta("tafel_storage_flush_seconds_count");
    let requests = delta("tafel_storage_requests_total");
    let at_most = |p: f64| {
        bucket_bounds()
            .find(|le| {
                delta(&format!(
                    "tafel_storage_flush_seconds_bucket{{le=\"{le}\"}}"
                )) >= p * commits
            })
            .map_or(f64::INFINITY, |le| le * 1000.0)
    };
    let per = |x: f64| if commits > 0.0 { x / commits } else { 0.0 };
    Commits {
        commits,
        requests,
        requests_per_commit: per(requests),
        mean_ms: per(delta("tafel_storage_flush_seconds_sum") * 1000.0),
        p50_ms_at_most: at_most(0.5),
        p99_ms_at_most: at_most(0.99),
    }
}

pub async fn run(args: &Args) -> Result<bool> {
    let target = common::target(args, false)?;
    common::announce(args, &target);
    let peers = args.peers();
    let seated = common::seat_everyone(&target, args, |room, _, global| {
        Dial::phone(peers, room, global)
    })
    .await?;
    let fac_readers = common::keep_reading(seated.facilitators);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pid = target.pid.load(Relaxed);
    let rss_after_setup = sample(pid).map_or(0, |(rss, _)| rss);

    // Act.
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(args.warmup);
    let stop = measure_from + Duration::from_secs(args.duration);
    let windows = Arc::new(Windows::new(start, &["measured"]));
    windows.open(0, measure_from);
    windows.close(0, stop);
    let load = Arc::new(Load {
        mix: args.mix()?,
        rate: args.rate(),
        windows: windows.clone(),
        track_views: false,
        nodes: target.addrs(),
    });
    let trace = Trace::start(target.pids());
    let tasks: Vec<_> = seated
        .seats
        .into_iter()
        .map(|seat| {
            let (mut phone, mut ws) = Phone::new(seat, load.clone(), true);
            tokio::spawn(async move {
                let ended = phone
                    .run(
                        &mut ws,
                        true,
                        |_: &Phone| false,
                        tokio::time::sleep_until(stop.into()),
                        None,
                    )
                    .await;
                let ended = if ended == Ended::Signal {
                    // The last answers, for a while.
                    phone
                        .run(
                            &mut ws,
                            false,
                            |p: &Phone| p.pending() == 0,
                            std::future::pending(),
                            Some(stop + Duration::from_secs(5)),
                        )
                        .await
                } else {
                    ended
                };
                if let Ended::Closed(_) = ended {
                    phone.closed += 1;
                    phone.note("connection closed".into());
                }
                phone
            })
        })
        .collect();
    tokio::time::sleep_until(measure_from.into()).await;
    trace.mark();
    let steal_before = measure::steal_ticks();
    let scraped_before = scrape_all(&target).await?;
    let db_url = target.db.as_ref().map(|db| db.url.clone());
    let pg_before = db_url.as_deref().map(measure::postgres_ticks);
    tokio::time::sleep_until(stop.into()).await;
    trace.mark();
    let steal_after = measure::steal_ticks();
    let pg_after = db_url.as_deref().map(measure::postgres_ticks);
    let scraped_after = scrape_all(&target).await?;

    let mut all = Samples::default();
    let (mut errors, mut closed) = (0, 0);
    let mut notes = Vec::new();
    for t in tasks {
        let mut phone = t.await?;
        all.merge(std::mem::take(&mut phone.samples[0]));
        errors += phone.errors;
        closed += phone.closed;
        for n in phone.notes {
            if notes.len() < 10 {
                notes.push(n);
            }
        }
    }
    for r in fac_readers {
        r.abort();
    }
    let seconds = args.duration as f64;
    let cpu_seconds = trace.cpu_seconds(measure_from, stop);
    let per = |n: u64| {
        if n > 0 {
            cpu_seconds * 1e6 / n as f64
        } else {
            0.0
        }
    };
    let rate = args.rate();
    let pg_cpu = pg_before
        .zip(pg_after)
        .map(|(b, a)| measure::ticks_between(&b, &a));
    let summary = Summary {
        rooms: args.rooms(),
        phones_per_room: args.phones,
        connections: args.rooms() * (args.phones + 1),
        actions_per_second_target: rate * (args.rooms() * args.phones) as f64,
        seconds,
        commands_sent: all.sent,
        commands_per_second: all.sent as f64 / seconds,
        acks: all.ack_us.len(),
        ack_ms: percentiles(all.ack_us),
        delivery_ms: percentiles(all.delivery_us),
        deliveries: all.frames,
        deliveries_per_second: all.frames as f64 / seconds,
        updates: all.updates,
        updates_per_second: all.updates as f64 / seconds,
        errors,
        connections_closed: closed,
        error_samples: notes,
        server_rss_mib_max: trace.rss_max_mib_in(measure_from, stop + Duration::from_secs(1)),
        server_rss_mib_after_setup: rss_after_setup as f64 / 1024.0,
        server_cpu_percent: 100.0 * cpu_seconds / seconds,
        host_steal_percent: steal_before
            .zip(steal_after)
            .map(|(a, b)| (b.saturating_sub(a)) as f64 / seconds),
        server_cpu_us_per_delivery: per(all.frames),
        server_cpu_us_per_update: per(all.updates),
        nodes: args.nodes,
        postgres: args.nodes > 1 || args.postgres,
        storage: commits(&scraped_before, &scraped_after),
        postgres_cpu_percent: pg_cpu.map(|s| 100.0 * s / seconds),
        postgres_cpu_us_per_update: pg_cpu.map(|s| {
            if all.updates > 0 {
                s * 1e6 / all.updates as f64
            } else {
                0.0
            }
        }),
    };
    print_summary(&summary);
    write_json(args.json.as_deref(), &summary)?;
    drop(target);
    Ok(true)
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
    if let Some(steal) = s.host_steal_percent {
        println!("  host steal while measuring: {steal:.0} % of a core");
    }
    println!(
        "  storage ({} node(s), {}): {:.0} commits, {:.1} room writes each; {:.2} ms mean, p50 ≤ {} ms, p99 ≤ {} ms",
        s.nodes,
        if s.postgres {
            "PostgreSQL"
        } else {
            "embedded file"
        },
        s.storage.commits,
        s.storage.requests_per_commit,
        s.storage.mean_ms,
        s.storage.p50_ms_at_most,
        s.storage.p99_ms_at_most
    );
    if let (Some(pct), Some(us)) = (s.postgres_cpu_percent, s.postgres_cpu_us_per_update) {
        println!(
            "  PostgreSQL's processes for the nodes: CPU {pct:.0} % of a core; {us:.2} µs per update"
        );
    }
}

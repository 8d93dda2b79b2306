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
}

pub async fn run(args: &Args) -> Result<bool> {
    let target = common::target(args, false)?;
    common::announce(args, &target);
    let peers = args.peers();
    let seated = common::seat_everyone(&target.server, args, |room, _, global| {
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
        addr: target.server.addr,
    });
    let trace = Trace::start(target.pid.clone());
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
    tokio::time::sleep_until(stop.into()).await;
    trace.mark();
    let steal_after = measure::steal_ticks();

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
}

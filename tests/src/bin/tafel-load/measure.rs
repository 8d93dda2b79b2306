//! Measuring: windows of time that samples fall into, percentiles, the server's RSS and CPU
//! from /proc, and the checks a scenario prints and writes.

use serde::Serialize;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Named spans of time, opened and closed while the load runs. A command belongs to the windows
/// open when it was sent (its ack and its deliveries are timed there, however late they come);
/// a frame to the windows open when it arrived.
pub struct Windows {
    /// Times are microseconds since this moment (as in the card stamps).
    pub origin: Instant,
    names: Vec<&'static str>,
    from: Vec<AtomicU64>,
    to: Vec<AtomicU64>,
}

const UNSET: u64 = u64::MAX;

impl Windows {
    pub fn new(origin: Instant, names: &[&'static str]) -> Self {
        Self {
            origin,
            names: names.to_vec(),
            from: names.iter().map(|_| AtomicU64::new(UNSET)).collect(),
            to: names.iter().map(|_| AtomicU64::new(UNSET)).collect(),
        }
    }

    fn us(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.origin).as_micros() as u64
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn name(&self, w: usize) -> &'static str {
        self.names[w]
    }

    /// Window `w` starts at `at`.
    pub fn open(&self, w: usize, at: Instant) {
        self.from[w].store(self.us(at), Relaxed);
    }

    /// Window `w` ends at `at`.
    pub fn close(&self, w: usize, at: Instant) {
        self.to[w].store(self.us(at), Relaxed);
    }

    /// The windows `at` falls in (one open but not yet closed counts).
    pub fn containing(&self, at: Instant) -> impl Iterator<Item = usize> + '_ {
        let t = self.us(at);
        (0..self.names.len()).filter(move |&w| {
            let from = self.from[w].load(Relaxed);
            from != UNSET && from <= t && t < self.to[w].load(Relaxed)
        })
    }

    /// When window `w` started and ended.
    pub fn span(&self, w: usize) -> Option<(Instant, Instant)> {
        let from = self.from[w].load(Relaxed);
        let to = self.to[w].load(Relaxed);
        (from != UNSET && to != UNSET).then(|| {
            (
                self.origin + Duration::from_micros(from),
                self.origin + Duration::from_micros(to),
            )
        })
    }
}

/// What one phone measured in one window.
#[derive(Default)]
pub struct Samples {
    /// Command→ack, µs, of commands sent in the window.
    pub ack_us: Vec<u32>,
    /// Card sent→received by another phone, µs, of cards sent in the window.
    pub delivery_us: Vec<u32>,
    /// Delta frames received in the window.
    pub frames: u64,
    /// Changes those frames carried, by the jumps of `seq`.
    pub updates: u64,
    /// Commands sent in the window.
    pub sent: u64,
}

impl Samples {
    pub fn merge(&mut self, other: Samples) {
        self.ack_us.extend(other.ack_us);
        self.delivery_us.extend(other.delivery_us);
        self.frames += other.frames;
        self.updates += other.updates;
        self.sent += other.sent;
    }
}

#[derive(Serialize, Clone, Debug, Default)]
pub struct Percentiles {
    pub count: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

/// Percentiles of microseconds, in milliseconds.
pub fn percentiles(mut us: Vec<u32>) -> Percentiles {
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

/// Percentiles of durations.
pub fn percentiles_of(durations: &[Duration]) -> Percentiles {
    percentiles(
        durations
            .iter()
            .map(|d| d.as_micros().min(u128::from(u32::MAX)) as u32)
            .collect(),
    )
}

/// What a window measured, over every phone that counts.
#[derive(Serialize, Clone, Debug)]
pub struct WindowFigures {
    pub name: &'static str,
    pub seconds: f64,
    pub commands_sent: u64,
    pub commands_per_second: f64,
    pub acks: usize,
    pub ack_ms: Percentiles,
    pub delivery_ms: Percentiles,
    pub deliveries: u64,
    pub deliveries_per_second: f64,
    pub updates: u64,
    pub updates_per_second: f64,
    pub server_cpu_percent: f64,
}

impl WindowFigures {
    pub fn new(windows: &Windows, w: usize, samples: Samples, trace: &Trace) -> Self {
        let (seconds, cpu) = match windows.span(w) {
            Some((from, to)) => (
                to.duration_since(from).as_secs_f64(),
                trace.cpu_percent(from, to),
            ),
            None => (0.0, 0.0),
        };
        let per = |n: u64| {
            if seconds > 0.0 {
                n as f64 / seconds
            } else {
                0.0
            }
        };
        Self {
            name: windows.name(w),
            seconds,
            commands_sent: samples.sent,
            commands_per_second: per(samples.sent),
            acks: samples.ack_us.len(),
            ack_ms: percentiles(samples.ack_us),
            delivery_ms: percentiles(samples.delivery_us),
            deliveries: samples.frames,
            deliveries_per_second: per(samples.frames),
            updates: samples.updates,
            updates_per_second: per(samples.updates),
            server_cpu_percent: cpu,
        }
    }

    pub fn print(&self) {
        println!(
            "  {:<8} {:>5.1} s: {} commands ({:.0}/s), ack p50 {:.2} ms p99 {:.2} ms; delivery p50 {:.2} ms p99 {:.2} ms max {:.2} ms ({} timed); {:.0} updates/s in {:.0} frames/s; server CPU {:.0} %",
            self.name,
            self.seconds,
            self.commands_sent,
            self.commands_per_second,
            self.ack_ms.p50,
            self.ack_ms.p99,
            self.delivery_ms.p50,
            self.delivery_ms.p99,
            self.delivery_ms.max,
            self.delivery_ms.count,
            self.updates_per_second,
            self.deliveries_per_second,
            self.server_cpu_percent
        );
    }
}

/// RSS in KiB and CPU time (user + system) in clock ticks, from /proc.
/// Clock ticks (1/100 s) the hypervisor gave to others while this machine wanted to run: the
/// `steal` column of /proc/stat, all cores together.
pub fn steal_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find(|l| l.starts_with("cpu "))?
        .split_whitespace()
        .nth(8)?
        .parse()
        .ok()
}

pub fn sample(pid: u32) -> Option<(u64, u64)> {
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

/// CPU ticks of the PostgreSQL processes serving the nodes (`application_name = 'tafel'`) of
/// the database at `url`, by process id.
pub fn postgres_ticks(url: &str) -> Vec<(u32, u64)> {
    let url = url.to_owned();
    let pids: Vec<i32> = std::thread::spawn(move || {
        let mut db = postgres::Client::connect(&url, postgres::NoTls).ok()?;
        let rows = db
            .query(
                "SELECT pid FROM pg_stat_activity \
                 WHERE application_name = 'tafel' AND datname = current_database()",
                &[],
            )
            .ok()?;
        Some(rows.iter().map(|r| r.get(0)).collect())
    })
    .join()
    .ok()
    .flatten()
    .unwrap_or_default();
    pids.into_iter()
        .filter_map(|pid| {
            let pid = u32::try_from(pid).ok()?;
            Some((pid, sample(pid)?.1))
        })
        .collect()
}

/// CPU seconds the processes present at both moments spent between them.
pub fn ticks_between(before: &[(u32, u64)], after: &[(u32, u64)]) -> f64 {
    after
        .iter()
        .filter_map(|(pid, t)| {
            let (_, b) = before.iter().find(|(p, _)| p == pid)?;
            Some(t.saturating_sub(*b) as f64 / TICKS_PER_SECOND)
        })
        .sum()
}

/// USER_HZ on Linux.
pub const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Clone, Copy)]
struct Point {
    at: Instant,
    /// Which of the server's processes.
    node: usize,
    pid: u32,
    rss_kib: u64,
    ticks: u64,
}

/// The server's RSS and CPU time over the run (every node's, when there are several): a point
/// every second and one at every mark.
#[derive(Clone)]
pub struct Trace {
    pids: Vec<Arc<AtomicU32>>,
    points: Arc<Mutex<Vec<Point>>>,
}

impl Trace {
    /// Samples the processes `pids` hold (one changes on a restart) every second from now on.
    pub fn start(pids: Vec<Arc<AtomicU32>>) -> Self {
        let trace = Self {
            pids,
            points: Arc::default(),
        };
        let t = trace.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                t.mark();
                if Arc::strong_count(&t.points) == 1 {
                    break;
                }
            }
        });
        trace
    }

    /// Samples now (at the edge of a window).
    pub fn mark(&self) {
        let at = Instant::now();
        for (node, pid) in self.pids.iter().enumerate() {
            let pid = pid.load(Relaxed);
            if let Some((rss_kib, ticks)) = sample(pid) {
                self.points.lock().expect("not poisoned").push(Point {
                    at,
                    node,
                    pid,
                    rss_kib,
                    ticks,
                });
            }
        }
    }

    /// The largest RSS seen (of one node), in MiB.
    pub fn rss_max_mib(&self) -> f64 {
        let points = self.points.lock().expect("not poisoned");
        points.iter().map(|p| p.rss_kib).max().unwrap_or(0) as f64 / 1024.0
    }

    /// The largest RSS seen between two moments (of one node), in MiB.
    pub fn rss_max_mib_in(&self, from: Instant, to: Instant) -> f64 {
        let points = self.points.lock().expect("not poisoned");
        points
            .iter()
            .filter(|p| p.at >= from && p.at <= to)
            .map(|p| p.rss_kib)
            .max()
            .unwrap_or(0) as f64
            / 1024.0
    }

    /// Server CPU seconds between the samples nearest to two moments, over every node (each
    /// counted while one process of it ran throughout).
    pub fn cpu_seconds(&self, from: Instant, to: Instant) -> f64 {
        let points = self.points.lock().expect("not poisoned");
        (0..self.pids.len())
            .map(|node| {
                let near = |t: Instant| {
                    points
                        .iter()
                        .filter(|p| p.node == node)
                        .min_by_key(|p| if p.at > t { p.at - t } else { t - p.at })
                };
                match (near(from), near(to)) {
                    (Some(a), Some(b)) if a.pid == b.pid => {
                        b.ticks.saturating_sub(a.ticks) as f64 / TICKS_PER_SECOND
                    }
                    _ => 0.0,
                }
            })
            .sum()
    }

    /// Server CPU between two moments, in % of a core.
    pub fn cpu_percent(&self, from: Instant, to: Instant) -> f64 {
        let seconds = to.duration_since(from).as_secs_f64();
        if seconds > 0.0 {
            100.0 * self.cpu_seconds(from, to) / seconds
        } else {
            0.0
        }
    }
}

/// One thing a scenario promises, and whether it held.
#[derive(Serialize, Clone, Debug)]
pub struct Check {
    pub name: String,
    pub pass: bool,
    pub detail: String,
}

/// The checks of a run.
#[derive(Serialize, Clone, Debug, Default)]
#[serde(transparent)]
pub struct Checks(pub Vec<Check>);

impl Checks {
    pub fn add(&mut self, name: &str, pass: bool, detail: impl Into<String>) {
        self.0.push(Check {
            name: name.into(),
            pass,
            detail: detail.into(),
        });
    }

    pub fn passed(&self) -> bool {
        self.0.iter().all(|c| c.pass)
    }

    pub fn print(&self) {
        println!("checks:");
        for c in &self.0 {
            println!(
                "  {} {}: {}",
                if c.pass { "PASS" } else { "FAIL" },
                c.name,
                c.detail
            );
        }
        println!(
            "{}",
            if self.passed() {
                "all checks passed"
            } else {
                "SOME CHECKS FAILED"
            }
        );
    }
}

/// Writes `value` as JSON to `path`, if given.
pub fn write_json(path: Option<&std::path::Path>, value: &impl Serialize) -> anyhow::Result<()> {
    if let Some(path) = path {
        std::fs::write(path, serde_json::to_string_pretty(value)?)?;
        println!("written to {}", path.display());
    }
    Ok(())
}

/// Milliseconds of a duration, for reports.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

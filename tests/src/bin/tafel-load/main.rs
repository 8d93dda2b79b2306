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
//! that is already running. `--nodes N` starts N nodes of it over a PostgreSQL database of
//! the run's own (created at `TAFEL_TEST_DATABASE_URL`'s server and dropped at the end),
//! node i on 127.0.0.(i+1): room i is set up on node i mod N, and phone p of room r joins
//! through node (r + p) mod N, so most phones reach their room through another node.
//! `--postgres` runs one node over PostgreSQL. The server's CPU is then every node's.
//!
//! # Scenarios
//!
//! `--scenario` picks what happens under that load (`steady`, the default, is the above):
//!
//! - `storm`: every phone's socket drops at the same moment, each with a command in flight;
//!   all resume at once and resend what was unanswered.
//! - `crash`: the server is killed (SIGKILL) with commands in flight and restarted on the same
//!   data directory and port; all phones resume and resend.
//! - `slow`: a few phones per room stop reading; the server must cut them off without slowing
//!   the others, and they catch up when they come back.
//! - `abuse`: bad clients beside the honest phones (garbage, oversized frames, floods), with the
//!   server's default rate limit.
//! - `failover`: with `--nodes 3`, node 0 is killed (SIGKILL) under load; the phones it
//!   served resume through the other nodes, the phones of the rooms it owned are dropped by
//!   their nodes and resume there, the rooms move once their leases run out; nothing
//!   acknowledged may be lost or doubled.
//!
//! Each prints its figures and a PASS or FAIL per check, writes them with `--json`, and exits
//! with status 1 when a check failed.
//!
//! # Layout
//!
//! - `common.rs`: the server, seating rooms of phones, the protocol moves (join, resume).
//! - `phone.rs`: one phone: acting, reading, timing, keeping its view, resending.
//! - `measure.rs`: windows of time, percentiles, /proc samples, checks and reports.
//! - `converge.rs`: the end of a scenario: everyone's answers in, every view against a freshly
//!   resumed facilitator's, no acknowledged command lost or doubled.
//! - One file per scenario: `steady.rs`, `storm.rs`, `crash.rs`, `slow.rs`, `abuse.rs`.

mod abuse;
mod common;
mod converge;
mod crash;
mod failover;
mod measure;
mod phone;
mod slow;
mod steady;
mod storm;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use std::net::SocketAddr;

/// What happens under the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// Steady load, measured.
    Steady,
    /// Every phone drops at once and comes back at once.
    Storm,
    /// SIGKILL and restart of the server under load (needs --server).
    Crash,
    /// A few phones per room stop reading.
    Slow,
    /// Bad clients beside honest phones, under the server's default rate limit.
    Abuse,
    /// SIGKILL of one of several nodes under load (needs --server and --nodes 2 or more).
    Failover,
}

/// Which source addresses the phones connect from (the server limits join attempts per
/// address: at most 50 running at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Peers {
    /// All from 127.0.0.1.
    One,
    /// One address per room, like a venue's Wi-Fi behind one router.
    Room,
    /// One address per phone, like phones on mobile data.
    Phone,
}

#[derive(Parser, Debug, Clone)]
#[command(about = "Load generator for Tafel: R rooms × P phones over real WebSockets")]
pub struct Args {
    /// What happens under the load.
    #[arg(long, value_enum, default_value_t = Scenario::Steady)]
    pub scenario: Scenario,
    /// Start this server binary (free port, empty data directory).
    #[arg(long, conflicts_with = "addr")]
    pub server: Option<std::path::PathBuf>,
    /// Pin the started server to these CPUs (taskset -c), e.g. "0".
    #[arg(long, requires = "server")]
    pub server_cpus: Option<String>,
    /// Start this many nodes of the server over one PostgreSQL database (needs --server).
    #[arg(long, default_value_t = 1, requires = "server")]
    pub nodes: usize,
    /// Keep sessions in PostgreSQL even with one node.
    #[arg(long, requires = "server")]
    pub postgres: bool,
    /// Seconds of a node's lease on a session (the nodes' --lease-secs).
    #[arg(long, default_value_t = 10.0)]
    pub lease_secs: f64,
    /// Measure a running server at this address instead.
    #[arg(long, requires = "pid")]
    pub addr: Option<SocketAddr>,
    /// The running server's process id (for RSS and CPU).
    #[arg(long)]
    pub pid: Option<u32>,
    /// Rooms (sessions). Default 10; 20 for the storm.
    #[arg(long)]
    pub rooms: Option<usize>,
    /// Phones per room.
    #[arg(long, default_value_t = 50)]
    pub phones: usize,
    /// Actions per phone per second, on average (0.1: every ten seconds).
    #[arg(long, default_value_t = 0.1)]
    pub rate: f64,
    /// Actions per room per second instead (spread over its phones).
    #[arg(long)]
    pub room_rate: Option<f64>,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 5)]
    pub warmup: u64,
    /// Seconds measured (in the scenarios: the length of each window compared).
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
    /// Weights of the actions: cards, votes, hands.
    #[arg(long, default_value = "4,4,2")]
    pub mix: String,
    /// Joins in flight at once (the server limits attempts per address).
    #[arg(long, default_value_t = 32)]
    pub join_parallel: usize,
    /// Source addresses of the phones. Default: one for steady, room for the scenarios.
    #[arg(long, value_enum)]
    pub peers: Option<Peers>,
    /// slow: phones per room that stop reading.
    #[arg(long, default_value_t = 2)]
    pub stalled: usize,
    /// slow: seconds the stalled phones may take to be cut off (the server closes a silent
    /// connection after 60).
    #[arg(long, default_value_t = 75)]
    pub stall_limit: u64,
    /// abuse: bad clients per room, taking turns at garbage, an oversized frame, a flood.
    #[arg(long, default_value_t = 3)]
    pub bad: usize,
    /// abuse: frames a second a bad client sends.
    #[arg(long, default_value_t = 1000.0)]
    pub flood_rate: f64,
    /// abuse: milliseconds a bad client waits after being cut off before it comes back.
    #[arg(long, default_value_t = 1000)]
    pub bad_pause_ms: u64,
    /// Seconds allowed at the end for every answer to arrive and every view to converge.
    #[arg(long, default_value_t = 30)]
    pub settle: u64,
    /// Write the summary as JSON to this file.
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
}

impl Args {
    /// Rooms, with the scenario's default.
    pub fn rooms(&self) -> usize {
        self.rooms.unwrap_or(match self.scenario {
            Scenario::Storm => 20,
            _ => 10,
        })
    }

    /// Actions per phone per second.
    pub fn rate(&self) -> f64 {
        self.room_rate
            .map_or(self.rate, |r| r / self.phones.max(1) as f64)
    }

    /// The weights of cards, votes and hands.
    pub fn mix(&self) -> Result<[u32; 3]> {
        let mix: Vec<u32> = self
            .mix
            .split(',')
            .map(|w| w.trim().parse())
            .collect::<Result<_, _>>()
            .context("--mix: three whole numbers, e.g. 4,4,2")?;
        mix.try_into()
            .map_err(|_| anyhow::anyhow!("--mix needs three weights"))
    }

    /// Where the phones connect from.
    pub fn peers(&self) -> Peers {
        self.peers.unwrap_or(match self.scenario {
            Scenario::Steady => Peers::One,
            _ => Peers::Room,
        })
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    // Enough sockets for thousands of phones.
    common::raise_fd_limit();
    let passed = match args.scenario {
        Scenario::Steady => steady::run(&args).await?,
        Scenario::Storm => storm::run(&args).await?,
        Scenario::Crash => crash::run(&args).await?,
        Scenario::Slow => slow::run(&args).await?,
        Scenario::Abuse => abuse::run(&args).await?,
        Scenario::Failover => failover::run(&args).await?,
    };
    if !passed {
        std::process::exit(1);
    }
    Ok(())
}

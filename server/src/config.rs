//! The server's settings: flags, each also an environment variable, all with working defaults.

use clap::Parser;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

/// Tafel: live action-learning sessions, from phones, with fair speaking turns.
#[derive(Debug, Clone, Parser)]
#[command(name = "tafel", version, about)]
pub struct Config {
    /// Address and port to listen on. The default reaches phones on the same network.
    #[arg(long, env = "TAFEL_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,

    /// Directory for Tafel's database file (tafel.redb). Created if missing.
    #[arg(long, env = "TAFEL_DATA_DIR", default_value = "./tafel-data")]
    pub data_dir: PathBuf,

    /// Base URL of links and QR codes, e.g. `https://tafel.example.org` when behind a proxy.
    /// Default: this machine's network address and the listening port.
    #[arg(long, env = "TAFEL_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Seconds a session with nobody connected stays in memory before it is saved and unloaded.
    #[arg(long, env = "TAFEL_IDLE_SECS", default_value_t = 300)]
    pub idle_secs: u64,

    /// Messages per second one connection may send (bursts of three times as many); a client
    /// that sends faster is disconnected. People never come near the default.
    #[arg(long, env = "TAFEL_MAX_MESSAGES_PER_SEC", default_value_t = 20)]
    pub max_messages_per_sec: u32,

    /// Wrong join codes and tokens the whole server answers per minute, from every address
    /// together, after a burst of 20. Beyond it a wrong code waits its turn for its answer; a
    /// right code or a valid token is answered at once. With 100 live sessions, the default
    /// makes guessing any code take about 1.7 years (see the README).
    #[arg(long, env = "TAFEL_WRONG_CODES_PER_MINUTE", default_value_t = 10)]
    pub wrong_codes_per_minute: u32,

    /// A key that creating a session needs (the home page asks for it once and keeps it on
    /// that device). Without it, anyone who reaches the server may create sessions.
    #[arg(long, env = "TAFEL_ORGANISER_KEY", hide_env_values = true)]
    pub organiser_key: Option<String>,

    /// Sessions one address may create an hour (bursts of a sixth of it, at least one).
    #[arg(
        long,
        env = "TAFEL_SESSIONS_PER_ADDRESS_PER_HOUR",
        default_value_t = 60
    )]
    pub sessions_per_address_per_hour: u32,

    /// Sessions the whole server may create an hour (bursts of a sixth of it).
    #[arg(long, env = "TAFEL_SESSIONS_PER_HOUR", default_value_t = 600)]
    pub sessions_per_hour: u32,

    /// Delete sessions that ended more than this many days ago, for good (checked every hour,
    /// and at start). Fractions are allowed. Off by default: Tafel deletes nothing by itself.
    #[arg(long, env = "TAFEL_DELETE_ENDED_AFTER_DAYS")]
    pub delete_ended_after_days: Option<f64>,

    /// PostgreSQL database to keep sessions in, for several nodes sharing it, e.g.
    /// `postgres://tafel@db.internal/tafel` or `host=/run/postgresql dbname=tafel`. Without it,
    /// sessions live in the embedded file in --data-dir (one node).
    #[arg(long, env = "TAFEL_DATABASE_URL")]
    pub database_url: Option<String>,

    /// With --database-url: where the other nodes reach this one, `host:port` (they pass on
    /// phones whose session this node runs). Default: the listening address, or this
    /// machine's network address and the listening port when listening on every interface.
    #[arg(long, env = "TAFEL_NODE_ADDR")]
    pub node_addr: Option<String>,

    /// With --database-url: seconds a node's lease on a session lasts unless renewed (every
    /// third of it). Sessions of a node that died or stalled move after at most this long.
    #[arg(long, env = "TAFEL_LEASE_SECS", default_value_t = 10.0)]
    pub lease_secs: f64,

    /// How log lines on standard error look: `text` for people, `json` (one object a line,
    /// every field its own key) for a log collector. The level comes from `TAFEL_LOG`.
    #[arg(long, env = "TAFEL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// The format of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl Config {
    /// The base of links for a server bound to `bound`.
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        if let Some(url) = &self.public_url {
            return url.trim_end_matches('/').to_owned();
        }
        let host = if bound.ip().is_unspecified() {
            lan_address().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
        } else {
            bound.ip()
        };
        format!("http://{}", SocketAddr::new(host, bound.port()))
    }
}

impl Config {
    /// Where other nodes reach a node bound to `bound`.
    pub fn node_addr_for(&self, bound: SocketAddr) -> String {
        if let Some(addr) = &self.node_addr {
            return addr.clone();
        }
        let host = if bound.ip().is_unspecified() {
            lan_address().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
        } else {
            bound.ip()
        };
        SocketAddr::new(host, bound.port()).to_string()
    }
}

/// This machine's first non-loopback IPv4 address: the one phones on the Wi-Fi can reach.
pub fn lan_address() -> Option<IpAddr> {
    let mut addrs: Vec<IpAddr> = if_addrs::get_if_addrs()
        .ok()?
        .into_iter()
        .map(|i| i.ip())
        .filter(|ip| ip.is_ipv4() && !ip.is_loopback())
        .collect();
    // Prefer private network addresses (the venue's Wi-Fi) over others.
    addrs.sort_by_key(|ip| match ip {
        IpAddr::V4(v4) => !v4.is_private(),
        IpAddr::V6(_) => true,
    });
    addrs.first().copied()
}

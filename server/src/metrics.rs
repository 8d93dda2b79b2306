//! Process-wide metrics for operators, served at `GET /metrics` in the OpenMetrics text format
//! (which Prometheus scrapes as is).
//!
//! The rest of the server calls the named functions here and never touches the metric types,
//! so room logic stays free of them. Every handle is resolved once, when the first metric is
//! touched: counting a delivered frame is one relaxed atomic add, a command is one lookup by its
//! static name (a read lock and a hash of a short string) plus a histogram observation. Labels
//! are fixed, small sets (command names, error codes, roles, close reasons): never a room code,
//! a name or an address, so the series stay few and say nothing about anyone.
//!
//! Each process counts for itself: with several nodes, each exposes its own (scrape them all).

use prometheus_client::encoding::{EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use std::fmt::Write as _;
use std::sync::LazyLock;
use std::time::Duration;
use tafel_protocol::{ErrorCode, Role};

/// The `Content-Type` of [`render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// An error code as a label value, in the snake_case the wire uses (`over_budget`). Hashing the
/// enum is all a count costs; the name is written only when scraped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Code(ErrorCode);

impl EncodeLabelValue for Code {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        match serde_json::to_value(self.0) {
            Ok(serde_json::Value::String(name)) => encoder.write_str(&name),
            _ => encoder.write_str("unknown"),
        }
    }
}

type ByName = Family<[(&'static str, &'static str); 1], Counter>;

/// The connection gauge's slots: not yet joined, then one per role.
const UNJOINED: usize = 0;
const ROLES: [&str; 4] = ["unjoined", "facilitator", "participant", "projector"];

fn slot(role: Role) -> usize {
    match role {
        Role::Facilitator => 1,
        Role::Participant => 2,
        // A replay link never opens a live connection (the room refuses it).
        Role::Projector | Role::Replay => 3,
    }
}

struct Metrics {
    registry: Registry,
    rooms_loaded: Gauge,
    room_load_seconds: Histogram,
    connections: [Gauge; 4],
    connections_closed: ByName,
    commands: ByName,
    command_errors: Family<[(&'static str, Code); 1], Counter>,
    command_seconds: Histogram,
    deliveries: Counter,
    outbox_drops: Counter,
    storage_flush_seconds: Histogram,
    storage_requests: Counter,
    storage_failures: Counter,
    slow_writes: Counter,
    leases_held: Gauge,
    leases_claimed: Counter,
    lease_takeovers: Counter,
    leases_lost: Counter,
    fenced_writes: Counter,
    forwarded: Gauge,
    forwards: Counter,
    pending: Gauge,
    http_timeouts: Counter,
    refused: ByName,
}

/// Half a millisecond to about two seconds, doubling: 0.5, 1, 2, 4 … 1024, 2048 ms.
fn latency_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(0.0005, 2.0, 13)
}

impl Metrics {
    fn new() -> Self {
        let mut r = Registry::with_prefix("tafel");
        r.register(
            "build",
            "The running version",
            Info::new([("version", env!("CARGO_PKG_VERSION"))]),
        );
        let m = Self {
            rooms_loaded: Gauge::default(),
            room_load_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 14)),
            connections: Default::default(),
            connections_closed: ByName::default(),
            commands: ByName::default(),
            command_errors: Family::default(),
            command_seconds: Histogram::new(latency_buckets()),
            deliveries: Counter::default(),
            outbox_drops: Counter::default(),
            storage_flush_seconds: Histogram::new(latency_buckets()),
            storage_requests: Counter::default(),
            storage_failures: Counter::default(),
            slow_writes: Counter::default(),
            leases_held: Gauge::default(),
            leases_claimed: Counter::default(),
            lease_takeovers: Counter::default(),
            leases_lost: Counter::default(),
            fenced_writes: Counter::default(),
            forwarded: Gauge::default(),
            forwards: Counter::default(),
            pending: Gauge::default(),
            http_timeouts: Counter::default(),
            refused: ByName::default(),
            registry: Registry::default(),
        };
        r.register(
            "rooms_loaded",
            "Sessions loaded in memory (a room actor running)",
            m.rooms_loaded.clone(),
        );
        r.register(
            "room_load_seconds",
            "Time to load a session from storage into a room",
            m.room_load_seconds.clone(),
        );
        let connections = Family::<[(&'static str, &'static str); 1], Gauge>::default();
        let mut gauges: [Gauge; 4] = Default::default();
        for (gauge, role) in gauges.iter_mut().zip(ROLES) {
            // The family hands out a handle sharing the same atomic: later updates skip it.
            *gauge = connections.get_or_create_owned(&[("role", role)]);
        }
        r.register(
            "connections",
            "Open WebSocket connections, by role (unjoined until a join or resume succeeds)",
            connections,
        );
        r.register(
            "connections_closed",
            "WebSocket connections ended, by reason",
            m.connections_closed.clone(),
        );
        r.register(
            "commands",
            "Commands a room answered (accepted, refused or a resent id), by command",
            m.commands.clone(),
        );
        r.register(
            "command_errors",
            "Error frames sent on WebSockets (refused commands, joins, bad messages), by code",
            m.command_errors.clone(),
        );
        r.register(
            "command_seconds",
            "From a command taken from the room's mailbox to its answer queued: apply plus the \
             durable storage commit of its batch",
            m.command_seconds.clone(),
        );
        r.register(
            "deliveries",
            "Frames put into connections' outboxes (acks, deltas, welcomes)",
            m.deliveries.clone(),
        );
        r.register(
            "outbox_drops",
            "Connections dropped because their outbox was full (they resync with a fresh welcome)",
            m.outbox_drops.clone(),
        );
        r.register(
            "storage_flush_seconds",
            "Time of one storage transaction (group commit, fsync included) on the writer thread",
            m.storage_flush_seconds.clone(),
        );
        r.register(
            "storage_requests",
            "Writes rooms asked the writer thread for (several share one flush)",
            m.storage_requests.clone(),
        );
        r.register(
            "storage_failures",
            "Storage transactions that failed",
            m.storage_failures.clone(),
        );
        r.register(
            "slow_writes",
            "Writes of a room that took longer than a second (its connections were told)",
            m.slow_writes.clone(),
        );
        r.register(
            "leases_held",
            "Session leases this node holds (one per room it runs, with several nodes)",
            m.leases_held.clone(),
        );
        r.register(
            "leases_claimed",
            "Session leases this node took (a room starting here)",
            m.leases_claimed.clone(),
        );
        r.register(
            "lease_takeovers",
            "Leases this node took from another node that let them run out (it died or stalled)",
            m.lease_takeovers.clone(),
        );
        r.register(
            "leases_lost",
            "Leases this node lost: a newer owner took them, or renewing failed for a lease time",
            m.leases_lost.clone(),
        );
        r.register(
            "fenced_writes",
            "Writes the database refused because another node owns the session now",
            m.fenced_writes.clone(),
        );
        r.register(
            "forwarded_connections",
            "WebSockets this node passes on to the node that owns their session",
            m.forwarded.clone(),
        );
        r.register(
            "forwards",
            "Connections and lookups this node passed on to another node",
            m.forwards.clone(),
        );
        r.register(
            "pending_connections",
            "TCP connections not yet past their first request's headers, or WebSockets not yet \
             joined",
            m.pending.clone(),
        );
        r.register(
            "http_timeouts",
            "HTTP requests closed because their headers or body did not arrive in time",
            m.http_timeouts.clone(),
        );
        r.register(
            "refused",
            "Connections and requests refused before any work, by reason",
            m.refused.clone(),
        );
        Self {
            registry: r,
            connections: gauges,
            ..m
        }
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// A TCP connection waits for its first request, or a WebSocket for its join; counted until
/// the returned guard is dropped.
#[must_use = "the connection counts as pending while the guard lives"]
pub fn pending_connection() -> Pending {
    METRICS.pending.inc();
    Pending(())
}

/// See [`pending_connection`].
pub struct Pending(());

impl Drop for Pending {
    fn drop(&mut self) {
        METRICS.pending.dec();
    }
}

/// An HTTP request's headers or body did not arrive within its time limit.
pub fn http_timeout() {
    METRICS.http_timeouts.inc();
}

/// A connection or request was refused before any work, for `reason` (a fixed word such as
/// `unjoined_limit` or `sessions_per_address`).
pub fn refused(reason: &'static str) {
    METRICS.refused.get_or_create(&[("reason", reason)]).inc();
}

/// Every metric, in the OpenMetrics text format (ends with `# EOF`).
pub fn render() -> String {
    let mut out = String::with_capacity(16 * 1024);
    prometheus_client::encoding::text::encode(&mut out, &METRICS.registry)
        .expect("writing to a String cannot fail");
    out
}

/// A room has loaded, after `took`. Counted as loaded until the returned guard is dropped.
#[must_use = "the room counts as loaded while the guard lives"]
pub fn room_loaded(took: Duration) -> LoadedRoom {
    METRICS.room_load_seconds.observe(took.as_secs_f64());
    METRICS.rooms_loaded.inc();
    LoadedRoom(())
}

/// Keeps a room in `tafel_rooms_loaded`; see [`room_loaded`].
#[derive(Debug)]
pub struct LoadedRoom(());

impl Drop for LoadedRoom {
    fn drop(&mut self) {
        METRICS.rooms_loaded.dec();
    }
}

/// A WebSocket connection opened. Counted (as unjoined, then by role) until the returned guard
/// is dropped.
#[must_use = "the connection counts as open while the guard lives"]
pub fn connection_opened() -> OpenConnection {
    METRICS.connections[UNJOINED].inc();
    OpenConnection(UNJOINED)
}

/// Keeps a connection in `tafel_connections`; see [`connection_opened`].
#[derive(Debug)]
pub struct OpenConnection(usize);

impl OpenConnection {
    /// The connection joined or resumed with `role`.
    pub fn joined(&mut self, role: Role) {
        let to = slot(role);
        METRICS.connections[self.0].dec();
        METRICS.connections[to].inc();
        self.0 = to;
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        METRICS.connections[self.0].dec();
    }
}

/// A connection ended, for `reason` (a fixed word such as `rate_limit` or `client`).
pub fn connection_closed(reason: &'static str) {
    METRICS
        .connections_closed
        .get_or_create(&[("reason", reason)])
        .inc();
}

/// A room took a command `cmd` (its wire name, from [`tafel_protocol::Command::name`]) to answer.
pub fn command(cmd: &'static str) {
    METRICS.commands.get_or_create(&[("cmd", cmd)]).inc();
}

/// An error frame with `code` is sent to a client.
pub fn error(code: ErrorCode) {
    METRICS
        .command_errors
        .get_or_create(&[("code", Code(code))])
        .inc();
}

/// A command's answer was queued `took` after the room took it.
pub fn command_answered(took: Duration) {
    METRICS.command_seconds.observe(took.as_secs_f64());
}

/// A frame went into an outbox. One relaxed atomic add: this runs for every frame of a fan-out.
#[inline]
pub fn delivered() {
    METRICS.deliveries.inc();
}

/// A connection was dropped because its outbox was full.
pub fn outbox_dropped() {
    METRICS.outbox_drops.inc();
}

/// The writer thread committed one transaction for `requests` rooms' writes in `took`.
pub fn storage_flushed(took: Duration, requests: usize, ok: bool) {
    METRICS.storage_flush_seconds.observe(took.as_secs_f64());
    METRICS.storage_requests.inc_by(requests as u64);
    if !ok {
        METRICS.storage_failures.inc();
    }
}

/// This node took a session's lease (`took_over`: from a node that let it run out). Counted
/// as held until the returned guard is dropped.
#[must_use = "the lease counts as held while the guard lives"]
pub fn lease_won(took_over: bool) -> HeldLease {
    METRICS.leases_claimed.inc();
    if took_over {
        METRICS.lease_takeovers.inc();
    }
    METRICS.leases_held.inc();
    HeldLease(())
}

/// Keeps a lease in `tafel_leases_held`; see [`lease_won`].
#[derive(Debug)]
pub struct HeldLease(());

impl Drop for HeldLease {
    fn drop(&mut self) {
        METRICS.leases_held.dec();
    }
}

/// A lease was lost.
pub fn lease_lost() {
    METRICS.leases_lost.inc();
}

/// A room's write has taken longer than a second.
pub fn slow_write() {
    METRICS.slow_writes.inc();
}

/// The database refused a room's write: its fence is stale.
pub fn fenced_write() {
    METRICS.fenced_writes.inc();
}

/// A lookup was passed on to the owner of its session.
pub fn forwarded_lookup() {
    METRICS.forwards.inc();
}

/// A WebSocket is passed on to the owner of its session, until the guard is dropped.
#[must_use = "the connection counts as forwarded while the guard lives"]
pub fn forwarded_connection() -> ForwardedConnection {
    METRICS.forwards.inc();
    METRICS.forwarded.inc();
    ForwardedConnection(())
}

/// Keeps a connection in `tafel_forwarded_connections`; see [`forwarded_connection`].
#[derive(Debug)]
pub struct ForwardedConnection(());

impl Drop for ForwardedConnection {
    fn drop(&mut self) {
        METRICS.forwarded.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of the series that starts with `series` (name and labels, as printed).
    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn renders_every_metric_with_its_labels() {
        command("add_card");
        error(ErrorCode::OverBudget);
        connection_closed("rate_limit");
        command_answered(Duration::from_millis(3));
        storage_flushed(Duration::from_millis(2), 3, true);
        delivered();
        let mut c = connection_opened();
        c.joined(Role::Projector);
        let text = render();
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(value(&text, r#"tafel_commands_total{cmd="add_card"}"#).unwrap() >= 1.0);
        assert!(
            value(&text, r#"tafel_command_errors_total{code="over_budget"}"#).unwrap() >= 1.0,
            "error codes are snake_case as on the wire: {text}"
        );
        assert!(
            value(
                &text,
                r#"tafel_connections_closed_total{reason="rate_limit"}"#
            )
            .is_some()
        );
        assert!(value(&text, r#"tafel_connections{role="projector"}"#).unwrap() >= 1.0);
        assert!(value(&text, r#"tafel_connections{role="unjoined"}"#).is_some());
        assert!(value(&text, r#"tafel_command_seconds_bucket{le="0.004"}"#).unwrap() >= 1.0);
        assert!(value(&text, r#"tafel_command_seconds_bucket{le="+Inf"}"#).is_some());
        assert!(value(&text, "tafel_storage_requests_total").unwrap() >= 3.0);
        assert!(value(&text, "tafel_deliveries_total").unwrap() >= 1.0);
        assert!(value(&text, "tafel_rooms_loaded").is_some());
        assert!(text.contains(r#"tafel_build_info{version=""#), "{text}");
        let held = lease_won(true);
        lease_lost();
        fenced_write();
        let forwarded = forwarded_connection();
        let text = render();
        for series in [
            "tafel_leases_held",
            "tafel_leases_claimed_total",
            "tafel_lease_takeovers_total",
            "tafel_leases_lost_total",
            "tafel_fenced_writes_total",
            "tafel_forwarded_connections",
            "tafel_forwards_total",
        ] {
            assert!(value(&text, series).unwrap() >= 1.0, "{series}: {text}");
        }
        drop((held, forwarded));
        drop(c);
    }
}

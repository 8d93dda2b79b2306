//! The Tafel server: rooms over WebSocket, an automerge record per session, durable storage.
//!
//! # Layout
//!
//! - [`cli`] — the `tafel` binary's entry: config, logging, bind, signals.
//! - [`config`] — the flags and their `TAFEL_…` environment variables.
//! - [`accept`] — the HTTP/1 server loop: header time limit, pending connections per address.
//! - [`http`] — the router: API, QR code, embedded web client ([`web`]), the `/ws` upgrade.
//! - [`connection`] — one WebSocket: frames to typed messages, limits, outbox writes;
//!   [`woken`] polls its read side only when it has something.
//! - [`registry`] — which rooms are loaded (handles only); loads each session once.
//! - [`replays`] — replays and reports, answered from storage (no live room needed).
//! - [`retention`] — deleting sessions that ended long ago, when the operator asks for it.
//! - [`session`] — the session core, pure: the state, the document's shape, the floor, the
//!   ground rules, every command's rules and each role's view. No tokio, axum or storage.
//! - [`room`] — the live actor of one session: its mailbox, clock, loading and snapshots, the
//!   batch loop (apply, store, then fan out) and its connections.
//! - [`storage`] — the storage trait, the embedded redb file, PostgreSQL, an in-memory double,
//!   group commit.
//! - [`cluster`] — several nodes over PostgreSQL: this node's leases, and passing a phone on
//!   to the node that owns its session.
//! - [`sessions`] — creating and storing a new session; [`creation`] — who may, how fast.
//! - [`secrets`] — tokens, hashes, pseudonyms, join codes. [`guard`] — the wrong-code throttle.
//! - [`error`] — errors, and their mapping to the wire and to HTTP.
//! - [`metrics`] — process-wide counters for operators, served at `GET /metrics`.

pub mod accept;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod connection;
pub mod creation;
pub mod error;
pub mod guard;
pub mod http;
pub mod metrics;
pub mod registry;
pub mod replays;
pub mod retention;
pub mod room;
pub mod secrets;
pub mod session;
pub mod sessions;
pub mod storage;
pub mod web;
pub mod woken;

use config::Config;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "tafel.redb";

/// Connections waiting to be accepted. A room full of phones reconnects at once after a Wi-Fi
/// hiccup or a restart; the usual 128 would make the kernel drop hundreds of them, each to
/// retry a second or more later.
const LISTEN_BACKLOG: u32 = 4096;

/// Bytes the kernel buffers for one phone's socket (it doubles this for bookkeeping). A phone
/// that stops reading then fills its outbox, and is dropped, after tens of kilobytes instead of
/// megabytes; a welcome bigger than this simply goes out in several writes.
pub(crate) const SEND_BUFFER: usize = 64 * 1024;

/// Binds the listening socket, with room for a storm of reconnects in its accept queue.
pub fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Serves on `listener` until `shutdown` is cancelled; then stops accepting, sends every
/// WebSocket a close frame, lets every room store and snapshot, and returns.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let bound = listener.local_addr()?;
    let (storage, keeper) = open_storage(&config, bound).await?;
    // The keeper renews leases until every room has stored its last write.
    let renewing = CancellationToken::new();
    if let Some(keeper) = &keeper {
        tokio::spawn(keeper.clone().run(renewing.clone()));
    }
    let guard = guard::JoinGuard::new(
        config.wrong_codes_per_minute,
        keeper.as_ref().map(|_| storage.clone()),
    );
    let room_config = room::RoomConfig {
        public_url: config.public_url_for(bound).into(),
        idle: Duration::from_secs(config.idle_secs),
        ..Default::default()
    };
    let replays = Arc::new(replays::Replays::new(
        storage.clone(),
        room_config.public_url.clone(),
    ));
    let registry = registry::Registry::new(storage, room_config, shutdown.clone(), keeper);
    if let Some(days) = config.delete_ended_after_days {
        anyhow::ensure!(
            days.is_finite() && days > 0.0,
            "--delete-ended-after-days must be a positive number of days"
        );
        let age = Duration::from_secs_f64(days * 86_400.0);
        tokio::spawn(retention::run(registry.clone(), age, shutdown.clone()));
        tracing::info!(days, "sessions that ended longer ago than this are deleted");
    }
    let app = http::AppState {
        registry: registry.clone(),
        guard: Arc::new(guard),
        shutdown: shutdown.clone(),
        sockets: TaskTracker::new(),
        rate: config.max_messages_per_sec,
        rates: Arc::default(),
        replays,
        pending: Arc::default(),
        creation: Arc::new(creation::Creation::new(
            config.organiser_key.as_deref(),
            config.sessions_per_address_per_hour,
            config.sessions_per_hour,
        )),
    };
    accept::serve(
        listener,
        http::router(app.clone()),
        app.pending.clone(),
        shutdown.clone(),
    )
    .await;
    // axum does not wait for upgraded connections: they close themselves on `shutdown`, each
    // write bounded by a timeout; the bound here is a last resort, the rooms store regardless.
    app.sockets.close();
    if tokio::time::timeout(Duration::from_secs(15), app.sockets.wait())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not close in time");
    }
    registry.wait_stopped().await;
    renewing.cancel();
    tracing::info!("stopped; every room is stored");
    Ok(())
}

/// The embedded file in the data directory, or PostgreSQL (with this node's keeper of leases)
/// when a database URL is given.
async fn open_storage(
    config: &Config,
    bound: SocketAddr,
) -> anyhow::Result<(storage::Storage, Option<Arc<cluster::Keeper>>)> {
    let Some(url) = config.database_url.clone() else {
        std::fs::create_dir_all(&config.data_dir)?;
        let backend = storage::redb::RedbBackend::open(&config.data_dir.join(DB_FILE))?;
        return Ok((storage::Storage::new(Arc::new(backend)), None));
    };
    let backend =
        tokio::task::spawn_blocking(move || storage::postgres::PgBackend::open(&url)).await??;
    let storage = storage::Storage::new(Arc::new(backend));
    let proposal = secrets::new_token();
    let secret = storage.cluster(move |c| c.secret(&proposal)).await?;
    anyhow::ensure!(
        config.lease_secs.is_finite() && config.lease_secs >= 0.3,
        "--lease-secs must be at least 0.3"
    );
    let node = cluster::Node {
        id: secrets::new_token()[..16].to_owned(),
        addr: config.node_addr_for(bound),
        lease: Duration::from_secs_f64(config.lease_secs),
        secret,
    };
    tracing::info!(node = %node.id, addr = %node.addr, "a node of a cluster over PostgreSQL");
    let keeper = cluster::Keeper::new(node, storage.clone());
    Ok((storage, Some(keeper)))
}

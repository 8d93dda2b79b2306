//! Accepting connections: the HTTP/1 server loop, with the limits axum's own `serve` lacks.
//!
//! - A request's headers must arrive within [`HEADER_READ`] (5 s) of the connection waiting
//!   for them (hyper's header timeout, on tokio's timer); a socket that sends half a request,
//!   or nothing, is closed then. The same limit closes a kept-alive connection that stays
//!   silent between requests.
//! - An address holds at most [`MAX_PENDING`] connections that are *pending*: not yet past
//!   their first request's headers, or upgraded to a WebSocket that has not joined a session.
//!   Beyond that a new connection from it is closed at once. A WebSocket stays pending until
//!   its join or resume is answered (see [`Unjoined`]); the connection itself gives it 10 s
//!   to send one (`JOIN_WAIT` in `connection.rs`, which depends on this file, not the reverse).
//!
//! Both are counted in `/metrics`: `tafel_http_timeouts_total`, `tafel_pending_connections`
//! and `tafel_refused_total{reason="pending_limit"}`.

use axum::Router;
use axum::extract::ConnectInfo;
use dashmap::DashMap;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// How long a request's headers may take to arrive.
pub const HEADER_READ: Duration = Duration::from_secs(5);
/// How long a request's body may take to arrive (the only bodies are a few KiB of JSON).
pub const BODY_READ: Duration = Duration::from_secs(5);
/// Pending connections one address (an IPv6 /64) may hold. A venue's router that all its
/// phones share reconnects them at once after a restart; they join ten at a time (the
/// wrong-code throttle's pace), so a hundred waiting is far more than one venue needs.
pub const MAX_PENDING: u32 = 100;

/// Pending connections per address.
#[derive(Default)]
pub struct PendingBook(DashMap<IpAddr, u32>);

/// The address a pending connection counts against: IPv4 as is, IPv6 by its /64.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !(u128::MAX >> 64)).into()),
    }
}

impl PendingBook {
    /// Counts a new connection from `ip` as pending, unless its address holds too many.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Ticket> {
        let key = key(ip);
        let mut count = self.0.entry(key).or_insert(0);
        if *count >= MAX_PENDING {
            return None;
        }
        *count += 1;
        Some(Ticket {
            book: self.clone(),
            key,
            _counted: crate::metrics::pending_connection(),
        })
    }

    /// Pending connections from `ip`'s address now.
    pub fn pending(&self, ip: IpAddr) -> u32 {
        self.0.get(&key(ip)).map_or(0, |c| *c)
    }
}

/// One pending connection, counted until dropped.
pub struct Ticket {
    book: Arc<PendingBook>,
    key: IpAddr,
    _counted: crate::metrics::Pending,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(mut count) = self.book.0.get_mut(&self.key) {
            *count = count.saturating_sub(1);
        }
        self.book.0.remove_if(&self.key, |_, c| *c == 0);
    }
}

/// A WebSocket's pending ticket, in its upgrade request's extensions: the connection calls
/// [`Unjoined::joined`] once its join or resume was answered (or drops it when it closes).
#[derive(Clone, Default)]
pub struct Unjoined(Arc<Mutex<Option<Ticket>>>);

impl Unjoined {
    /// No longer pending.
    pub fn joined(&self) {
        drop(self.0.lock().unwrap_or_else(|e| e.into_inner()).take());
    }
}

/// Socket options every connection gets.
fn tune(tcp: &TcpStream) {
    // Without TCP_NODELAY a small frame that follows another waits for the phone's delayed
    // ACK (40 ms or more): every delta after a quiet moment would arrive late.
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "could not set TCP_NODELAY");
    }
    // A send buffer of its own size per phone: the kernel would otherwise grow it to
    // megabytes for a phone that stopped reading, long before its outbox fills and the room
    // drops it.
    if let Err(e) = socket2::SockRef::from(tcp).set_send_buffer_size(crate::SEND_BUFFER) {
        tracing::debug!(error = %e, "could not set SO_SNDBUF");
    }
}

/// Serves `router` on `listener` until `shutdown` is cancelled; then stops accepting, lets
/// every HTTP connection finish its request (at most 5 s), and returns. Upgraded WebSockets
/// are the caller's to wait for.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    book: Arc<PendingBook>,
    shutdown: CancellationToken,
) {
    let connections = TaskTracker::new();
    loop {
        let (tcp, peer) = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, usually: wait for some to close.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        tune(&tcp);
        let Some(ticket) = book.admit(peer.ip()) else {
            crate::metrics::refused("pending_limit");
            tracing::info!(%peer, "too many pending connections from one address");
            continue;
        };
        let pending = Unjoined(Arc::new(Mutex::new(Some(ticket))));
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            if req.headers().contains_key(hyper::header::UPGRADE) {
                // Pending until its join is answered; the connection holds it from here.
                req.extensions_mut().insert(pending.clone());
            } else {
                pending.joined();
            }
            router.clone().oneshot(req.map(axum::body::Body::new))
        });
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ);
            let conn = builder
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades();
            tokio::pin!(conn);
            let result = tokio::select! {
                result = conn.as_mut() => result,
                _ = shutdown.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                if e.is_timeout() {
                    crate::metrics::http_timeout();
                    tracing::debug!(%peer, "a request's headers did not arrive in time");
                } else {
                    tracing::trace!(%peer, error = %e, "an HTTP connection failed");
                }
            }
        });
    }
    connections.close();
    if tokio::time::timeout(Duration::from_secs(5), connections.wait())
        .await
        .is_err()
    {
        tracing::debug!("some HTTP connections did not finish in time");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_its_pending_connections() {
        let book = Arc::new(PendingBook::default());
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let held: Vec<_> = (0..MAX_PENDING).map(|_| book.admit(ip).unwrap()).collect();
        assert!(book.admit(ip).is_none(), "one more is refused");
        assert!(book.admit("10.0.0.2".parse().unwrap()).is_some());
        let v6 = |s: &str| s.parse::<IpAddr>().unwrap();
        let a = book.admit(v6("2001:db8::1")).unwrap();
        assert_eq!(book.pending(v6("2001:db8::ffff")), 1, "a /64 counts as one");
        drop(a);
        drop(held);
        assert_eq!(book.pending(ip), 0);
        assert!(book.0.len() <= 1, "empty counts are forgotten");
    }
}

//! Slows down whoever guesses join codes or tokens.
//!
//! Every attempt to enter a session by code or token counts against its address from the moment
//! it starts, so a burst of parallel guesses counts in full. An address is refused for the rest
//! of the minute after 10 failures; while 50 attempts are failing or still running, a new one
//! waits for a free place (up to 10 s) before it is refused: a room of phones behind one
//! router may join or reconnect at the same moment, and guessers get at most 50 tries a minute
//! either way. Each failure waits 200 ms per failure so far (at most 2 s) before its
//! answer. IPv6 addresses count per /64, which one client usually holds whole. With 887 million
//! codes, guessing is hopeless.
//!
//! With several nodes the failures count across them: each failure is also counted in the
//! database ([`JoinGuard::shared`]), which answers with every node's failures in the window,
//! and the node adopts that count. A success costs nothing more than before (no database
//! round trip on the way in): a node learns of the others' failures at its own next failure
//! from that address. So across N nodes an address gets at most 10 + (N − 1) wrong guesses a
//! minute — each node lets one more through before it has heard — instead of 10 × N. The
//! count of attempts still running stays per node: it paces a burst at one node's door, and a
//! guesser spread over N nodes still meets the failure limit, which is the one that counts.

use crate::error::{Refusal, refuse};
use crate::storage::Storage;
use dashmap::DashMap;
use std::net::IpAddr;
use std::time::Duration;
use tafel_protocol::ErrorCode;
use tokio::time::Instant;

const WINDOW: Duration = Duration::from_secs(60);
const MAX_FAILURES: u32 = 10;
const MAX_ATTEMPTS: u32 = 50;
const DELAY_STEP: Duration = Duration::from_millis(200);
const MAX_DELAY: Duration = Duration::from_secs(2);
/// How long an attempt waits for a free place among its address's running ones.
const BUSY_WAIT: Duration = Duration::from_secs(10);
const BUSY_POLL: Duration = Duration::from_millis(20);

#[derive(Debug, Clone, Copy)]
struct Attempts {
    failures: u32,
    running: u32,
    since: Instant,
}

/// Attempts per address.
#[derive(Default)]
pub struct JoinGuard {
    attempts: DashMap<IpAddr, Attempts>,
    /// Where every node counts failures, with several nodes.
    shared: Option<Storage>,
}

/// The address an attempt counts against: IPv4 as is, IPv6 by its /64 prefix.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
    }
}

impl JoinGuard {
    /// A guard whose failures count across every node sharing `storage`.
    pub fn shared(storage: Storage) -> Self {
        Self {
            attempts: DashMap::new(),
            shared: Some(storage),
        }
    }

    /// Counts an attempt from `ip`, or refuses it when the address used up its attempts.
    pub fn begin(&self, ip: IpAddr) -> Result<(), Refusal> {
        let now = Instant::now();
        if self.attempts.len() > 100_000 {
            self.attempts
                .retain(|_, a| a.running > 0 || a.since.elapsed() < WINDOW);
        }
        let fresh = Attempts {
            failures: 0,
            running: 0,
            since: now,
        };
        let mut entry = self.attempts.entry(key(ip)).or_insert(fresh);
        if entry.since.elapsed() >= WINDOW {
            *entry = Attempts {
                running: entry.running,
                ..fresh
            };
        }
        if entry.failures >= MAX_FAILURES || entry.failures + entry.running >= MAX_ATTEMPTS {
            return Err(refuse(
                ErrorCode::TooManyAttempts,
                "too many wrong codes; wait a minute and try again",
            ));
        }
        entry.running += 1;
        Ok(())
    }

    /// Like [`JoinGuard::begin`], but an attempt refused only because many others from the same
    /// address are still running waits its turn (up to [`BUSY_WAIT`]) instead: a room of
    /// phones behind one router that reconnects at once gets in, 50 at a time. An address
    /// blocked for its failures is refused at once.
    pub async fn begin_when_free(&self, ip: IpAddr) -> Result<(), Refusal> {
        let give_up = Instant::now() + BUSY_WAIT;
        loop {
            match self.begin(ip) {
                Err(_) if !self.blocked(ip) && Instant::now() < give_up => {
                    tokio::time::sleep(BUSY_POLL).await;
                }
                other => return other,
            }
        }
    }

    /// Whether the address used up its failures for this minute.
    fn blocked(&self, ip: IpAddr) -> bool {
        self.attempts
            .get(&key(ip))
            .is_some_and(|a| a.failures >= MAX_FAILURES && a.since.elapsed() < WINDOW)
    }

    /// The attempt succeeded (or failed for another reason than a wrong code): it no longer
    /// counts.
    pub fn succeeded(&self, ip: IpAddr) {
        if let Some(mut entry) = self.attempts.get_mut(&key(ip)) {
            entry.running = entry.running.saturating_sub(1);
        }
    }

    /// The attempt failed: counts it (with every node, when shared) and waits before the answer.
    pub async fn fail(&self, ip: IpAddr) {
        let local = self.failed(ip);
        let delay = match &self.shared {
            None => local,
            Some(storage) => {
                let addr = key(ip).to_string();
                match storage
                    .cluster(move |c| c.wrong_attempt(&addr, WINDOW))
                    .await
                {
                    Ok((failures, left)) => self.adopt(ip, failures, left),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not count a wrong code with the other nodes");
                        local
                    }
                }
            }
        };
        tokio::time::sleep(delay).await;
    }

    /// Takes on every node's count of failures from `ip` in a window that ends in `left`, if
    /// it is higher than this node's; returns the delay it calls for.
    fn adopt(&self, ip: IpAddr, failures: u32, left: Duration) -> Duration {
        let now = Instant::now();
        let mut entry = self.attempts.entry(key(ip)).or_insert(Attempts {
            failures: 0,
            running: 0,
            since: now,
        });
        if failures > entry.failures {
            entry.failures = failures;
            entry.since = (now + left).checked_sub(WINDOW).unwrap_or(now);
        }
        (DELAY_STEP * entry.failures).min(MAX_DELAY)
    }

    /// The attempt failed: it counts as a failure. Returns how long to wait before answering.
    pub fn failed(&self, ip: IpAddr) -> Duration {
        let fresh = Attempts {
            failures: 0,
            running: 1,
            since: Instant::now(),
        };
        let mut entry = self.attempts.entry(key(ip)).or_insert(fresh);
        entry.running = entry.running.saturating_sub(1);
        entry.failures += 1;
        (DELAY_STEP * entry.failures).min(MAX_DELAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn fail(guard: &JoinGuard, ip: IpAddr) -> Duration {
        guard.begin(ip).unwrap();
        guard.failed(ip)
    }

    #[tokio::test(start_paused = true)]
    async fn failures_slow_down_then_block_then_expire() {
        let guard = JoinGuard::default();
        let ip: IpAddr = "10.0.0.7".parse().unwrap();
        let other: IpAddr = "10.0.0.8".parse().unwrap();
        assert_eq!(fail(&guard, ip), Duration::from_millis(200));
        assert_eq!(fail(&guard, ip), Duration::from_millis(400));
        for _ in 2..MAX_FAILURES - 1 {
            fail(&guard, ip);
        }
        assert_eq!(fail(&guard, ip), MAX_DELAY, "the delay is capped");
        assert_eq!(
            guard.begin(ip).unwrap_err().code,
            ErrorCode::TooManyAttempts
        );
        assert!(
            guard.begin(other).is_ok(),
            "other addresses are not affected"
        );
        tokio::time::advance(WINDOW).await;
        assert!(guard.begin(ip).is_ok(), "the block lifts after a minute");
        assert_eq!(
            guard.failed(ip),
            Duration::from_millis(200),
            "and the count starts again"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn parallel_guesses_count_before_their_answers() {
        let guard = JoinGuard::default();
        let ip: IpAddr = "10.0.0.9".parse().unwrap();
        // A thousand lookups at once: only 50 get through to a lookup at all.
        let admitted = (0..1000).filter(|_| guard.begin(ip).is_ok()).count();
        assert_eq!(admitted, MAX_ATTEMPTS as usize);
    }

    #[tokio::test(start_paused = true)]
    async fn a_room_of_phones_behind_one_address_joins_at_once() {
        let guard = JoinGuard::default();
        let proxy: IpAddr = "10.0.0.10".parse().unwrap();
        // Forty phones scan the QR code at the same moment, all seen from one address.
        for _ in 0..40 {
            guard.begin(proxy).unwrap();
        }
        for _ in 0..40 {
            guard.succeeded(proxy);
        }
        for _ in 0..200 {
            guard.begin(proxy).unwrap();
            guard.succeeded(proxy);
        }
        assert!(
            guard.begin(proxy).is_ok(),
            "people joining with the right code are never blocked"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_room_reconnecting_at_once_behind_one_address_waits_its_turn_and_gets_in() {
        let guard = Arc::new(JoinGuard::default());
        let venue: IpAddr = "10.0.0.11".parse().unwrap();
        // Two hundred phones come back at the same moment; each entry takes 30 ms.
        let phones: Vec<_> = (0..200)
            .map(|_| {
                let guard = guard.clone();
                tokio::spawn(async move {
                    guard.begin_when_free(venue).await?;
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    guard.succeeded(venue);
                    Ok::<_, Refusal>(())
                })
            })
            .collect();
        for p in phones {
            p.await.unwrap().expect("every phone gets in");
        }
        // An address blocked for wrong codes is not kept waiting: it is refused at once.
        let guesser: IpAddr = "10.0.0.12".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            fail(&guard, guesser);
        }
        let asked = Instant::now();
        assert_eq!(
            guard.begin_when_free(guesser).await.unwrap_err().code,
            ErrorCode::TooManyAttempts
        );
        assert_eq!(asked.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn failures_count_across_nodes_sharing_storage() {
        let storage = Storage::in_memory();
        let (a, b) = (
            JoinGuard::shared(storage.clone()),
            JoinGuard::shared(storage),
        );
        let ip: IpAddr = "10.0.0.13".parse().unwrap();
        // Guesses spread over two nodes: each failure counts for both.
        for i in 0..MAX_FAILURES {
            let node = if i % 2 == 0 { &a } else { &b };
            node.begin(ip).unwrap();
            node.fail(ip).await;
        }
        assert!(
            b.begin(ip).is_err(),
            "the node of the tenth guess is blocked"
        );
        // The other learns of it at its own next failure, and is blocked from then on.
        a.begin(ip).unwrap();
        a.fail(ip).await;
        assert_eq!(a.begin(ip).unwrap_err().code, ErrorCode::TooManyAttempts);
        tokio::time::advance(WINDOW).await;
        assert!(
            a.begin(ip).is_ok() && b.begin(ip).is_ok(),
            "the block lifts"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn ipv6_counts_per_64() {
        let guard = JoinGuard::default();
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            fail(&guard, a);
        }
        assert!(
            guard.begin(b).is_err(),
            "another address in the same /64 shares the count"
        );
    }
}

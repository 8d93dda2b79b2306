//! Slows down whoever guesses join codes or tokens.
//!
//! Every attempt to enter a session by code or token counts against its address before the
//! lookup starts (so a burst of parallel guesses counts in full); a successful one is taken
//! back. After 10 attempts that failed or are still running within a minute the address is
//! refused until the minute has passed, and each failure waits 200 ms per counted attempt (at
//! most 2 s) before its answer. IPv6 addresses count per /64, which one client usually holds
//! whole. With 887 million codes, guessing is hopeless. Kept per server: it guards this node's
//! doors and needs no sharing between nodes.

use crate::error::{Refusal, refuse};
use dashmap::DashMap;
use std::net::IpAddr;
use std::time::Duration;
use tafel_protocol::ErrorCode;
use tokio::time::Instant;

const WINDOW: Duration = Duration::from_secs(60);
const MAX_ATTEMPTS: u32 = 10;
const DELAY_STEP: Duration = Duration::from_millis(200);
const MAX_DELAY: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy)]
struct Attempts {
    count: u32,
    since: Instant,
}

/// Attempts per address.
#[derive(Debug, Default)]
pub struct JoinGuard {
    attempts: DashMap<IpAddr, Attempts>,
}

/// The address an attempt counts against: IPv4 as is, IPv6 by its /64 prefix.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
    }
}

impl JoinGuard {
    /// Counts an attempt from `ip`, or refuses it when the address used up its attempts.
    pub fn begin(&self, ip: IpAddr) -> Result<(), Refusal> {
        let now = Instant::now();
        if self.attempts.len() > 100_000 {
            self.attempts.retain(|_, a| a.since.elapsed() < WINDOW);
        }
        let mut entry = self.attempts.entry(key(ip)).or_insert(Attempts {
            count: 0,
            since: now,
        });
        if entry.since.elapsed() >= WINDOW {
            *entry = Attempts {
                count: 0,
                since: now,
            };
        }
        if entry.count >= MAX_ATTEMPTS {
            return Err(refuse(
                ErrorCode::TooManyAttempts,
                "too many wrong codes; wait a minute and try again",
            ));
        }
        entry.count += 1;
        Ok(())
    }

    /// The attempt succeeded: it no longer counts.
    pub fn succeeded(&self, ip: IpAddr) {
        if let Some(mut entry) = self.attempts.get_mut(&key(ip)) {
            entry.count = entry.count.saturating_sub(1);
        }
    }

    /// The attempt failed: it keeps counting. Returns how long to wait before answering.
    pub fn failed(&self, ip: IpAddr) -> Duration {
        let count = self.attempts.get(&key(ip)).map_or(1, |a| a.count);
        (DELAY_STEP * count).min(MAX_DELAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn failures_slow_down_then_block_then_expire() {
        let guard = JoinGuard::default();
        let ip: IpAddr = "10.0.0.7".parse().unwrap();
        let other: IpAddr = "10.0.0.8".parse().unwrap();
        guard.begin(ip).unwrap();
        assert_eq!(guard.failed(ip), Duration::from_millis(200));
        guard.begin(ip).unwrap();
        assert_eq!(guard.failed(ip), Duration::from_millis(400));
        for _ in 2..MAX_ATTEMPTS {
            guard.begin(ip).unwrap();
        }
        assert_eq!(guard.failed(ip), MAX_DELAY, "the delay is capped");
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
        // A thousand lookups at once: only the first ten get through to a lookup at all.
        let admitted = (0..1000).filter(|_| guard.begin(ip).is_ok()).count();
        assert_eq!(admitted, MAX_ATTEMPTS as usize);
    }

    #[tokio::test(start_paused = true)]
    async fn successes_do_not_count_and_ipv6_counts_per_64() {
        let guard = JoinGuard::default();
        let ip: IpAddr = "10.0.0.10".parse().unwrap();
        for _ in 0..50 {
            guard.begin(ip).unwrap();
            guard.succeeded(ip);
        }
        assert!(
            guard.begin(ip).is_ok(),
            "people joining with the right code are never blocked"
        );
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        for _ in 0..MAX_ATTEMPTS {
            guard.begin(a).unwrap();
        }
        assert!(
            guard.begin(b).is_err(),
            "another address in the same /64 shares the count"
        );
    }
}

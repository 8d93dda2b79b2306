//! Slows down whoever guesses join codes or tokens.
//!
//! Each wrong code or token from an address adds a delay before its answer (200 ms per recent
//! failure, at most 2 s); after 10 failures within a minute the address is refused outright
//! until the minute has passed. With 887 million codes, that makes guessing hopeless. Kept per
//! server: it guards this node's doors, and needs no sharing between nodes.

use crate::error::{Refusal, refuse};
use dashmap::DashMap;
use std::net::IpAddr;
use std::time::Duration;
use tafel_protocol::ErrorCode;
use tokio::time::Instant;

const WINDOW: Duration = Duration::from_secs(60);
const MAX_FAILURES: u32 = 10;
const DELAY_STEP: Duration = Duration::from_millis(200);
const MAX_DELAY: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
}

/// Failed attempts per address.
#[derive(Debug, Default)]
pub struct JoinGuard {
    failures: DashMap<IpAddr, Failures>,
}

impl JoinGuard {
    /// Refuses an address that failed too often in the last minute.
    pub fn check(&self, ip: IpAddr) -> Result<(), Refusal> {
        match self.failures.get(&ip) {
            Some(f) if f.since.elapsed() < WINDOW && f.count >= MAX_FAILURES => Err(refuse(
                ErrorCode::TooManyAttempts,
                "too many wrong codes; wait a minute and try again",
            )),
            _ => Ok(()),
        }
    }

    /// Notes a failure; returns how long to wait before answering it.
    pub fn fail(&self, ip: IpAddr) -> Duration {
        let now = Instant::now();
        if self.failures.len() > 100_000 {
            self.failures.retain(|_, f| f.since.elapsed() < WINDOW);
        }
        let mut entry = self.failures.entry(ip).or_insert(Failures {
            count: 0,
            since: now,
        });
        if entry.since.elapsed() >= WINDOW {
            *entry = Failures {
                count: 0,
                since: now,
            };
        }
        entry.count += 1;
        (DELAY_STEP * entry.count).min(MAX_DELAY)
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
        assert_eq!(guard.fail(ip), Duration::from_millis(200));
        assert_eq!(guard.fail(ip), Duration::from_millis(400));
        for _ in 2..MAX_FAILURES {
            guard.fail(ip);
        }
        assert_eq!(guard.fail(ip), MAX_DELAY, "the delay is capped");
        assert_eq!(
            guard.check(ip).unwrap_err().code,
            ErrorCode::TooManyAttempts
        );
        assert!(
            guard.check(other).is_ok(),
            "other addresses are not affected"
        );
        tokio::time::advance(WINDOW).await;
        assert!(guard.check(ip).is_ok(), "the block lifts after a minute");
        assert_eq!(
            guard.fail(ip),
            Duration::from_millis(200),
            "and the count starts again"
        );
    }
}

//! Slows down whoever guesses join codes or tokens.
//!
//! Every attempt to enter a session by code or token is an [`Attempt`] from the moment it
//! starts until its answer is sent, so a burst of parallel guesses counts in full:
//!
//! - **Per address.** An address has at most [`MAX_FAILURES`] (10) attempts checked per
//!   minute that are wrong or still running: the eleventh of a burst sent at the same moment
//!   waits for a free place (up to 10 s) and is refused once ten were wrong, so exactly ten of
//!   any burst are checked. Ten wrong ones within a minute block the address for the rest of
//!   it. Each failure waits 200 ms per failure so far (at most 2 s) before its answer. A room
//!   of phones behind one router joining at the same moment gets in ten at a time.
//! - **IPv6 by prefix.** An IPv6 address counts with its /64, which one client usually holds
//!   whole, and with its /48: once several of a /48's /64s misbehave (30 wrong codes in a
//!   minute, three /64s' worth) the whole /48 is blocked like one address.
//! - **Server-wide.** Wrong answers leave the server at most `Budget` a minute (10 by
//!   default, after a burst of 20), however many addresses ask: beyond it a wrong code or
//!   token waits its turn before its answer, while a right code or a valid token is answered
//!   at once. A guesser learns nothing from a wrong answer until it is sent, and each address
//!   has only ten attempts in flight, so a thousand addresses guess no faster than one.
//!
//! With several nodes the per-address failures count across them: each failure is also counted in the
//! database ([`JoinGuard::shared`]), which answers with every node's failures in the window,
//! and the node adopts that count. A success costs nothing more than before (no database
//! round trip on the way in): a node learns of the others' failures at its own next failure
//! from that address. So across N nodes an address gets at most 10 + (N − 1) wrong guesses a
//! minute — each node lets one more through before it has heard — instead of 10 × N. The
//! count of attempts still running stays per node: it paces a burst at one node's door, and a
//! guesser spread over N nodes still meets the failure limit, which is the one that counts.
//! The server-wide budget is per node.

use crate::error::{Refusal, refuse};
use crate::storage::Storage;
use dashmap::DashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;
use tafel_protocol::ErrorCode;
use tokio::time::Instant;

const WINDOW: Duration = Duration::from_secs(60);
/// Wrong (or still running) attempts one address may have checked per minute.
pub const MAX_FAILURES: u32 = 10;
/// Wrong attempts per minute from one IPv6 /48, several /64s' worth.
pub const PREFIX_FAILURES: u32 = 30;
/// Wrong answers per minute the whole server gives, by default.
pub const BUDGET_PER_MINUTE: u32 = 10;
/// Wrong answers the server gives at once before the budget paces them.
pub const BUDGET_BURST: u32 = 20;
const DELAY_STEP: Duration = Duration::from_millis(200);
const MAX_DELAY: Duration = Duration::from_secs(2);
/// How long an attempt waits for a free place among its address's running ones.
const BUSY_WAIT: Duration = Duration::from_secs(10);
const BUSY_POLL: Duration = Duration::from_millis(20);

/// What one key (an address or a prefix) has done in its current window.
#[derive(Debug, Clone, Copy)]
struct Attempts {
    /// Wrong attempts in this window (answered or not).
    failures: u32,
    /// Attempts being checked.
    checking: u32,
    /// Wrong attempts waiting for their answer to go out.
    answering: u32,
    since: Instant,
}

/// What an attempt counts against: an address or a prefix, with its length.
type Key = (IpAddr, u8);

/// The keys of an address and the failures each may have: IPv4 as is; IPv6 by its /64 and its
/// /48.
fn keys(ip: IpAddr) -> Vec<(Key, u32)> {
    match ip {
        IpAddr::V4(_) => vec![((ip, 32), MAX_FAILURES)],
        IpAddr::V6(v6) => {
            let prefix = |len: u32| IpAddr::V6((u128::from(v6) & !(u128::MAX >> len)).into());
            vec![
                ((prefix(64), 64), MAX_FAILURES),
                ((prefix(48), 48), PREFIX_FAILURES),
            ]
        }
    }
}

/// The server-wide pace of wrong answers: a burst, then one every `interval` (a generic cell
/// rate: `due` is when the next answer would go out with no burst left).
struct Budget {
    interval: Duration,
    burst: u32,
    due: Mutex<Option<Instant>>,
}

impl Budget {
    fn new(per_minute: u32) -> Self {
        Self {
            interval: WINDOW / per_minute.max(1),
            burst: BUDGET_BURST,
            due: Mutex::new(None),
        }
    }

    /// Takes the next wrong answer's place; returns how long it waits for it.
    fn reserve(&self) -> Duration {
        let now = Instant::now();
        let mut due = self.due.lock().unwrap_or_else(|e| e.into_inner());
        let next = due.map_or(now, |d| d.max(now)) + self.interval;
        *due = Some(next);
        let at = next.checked_sub(self.interval * self.burst).unwrap_or(now);
        at.saturating_duration_since(now)
    }
}

/// Attempts per address and prefix, and the server-wide budget of wrong answers.
pub struct JoinGuard {
    attempts: DashMap<Key, Attempts>,
    budget: Budget,
    /// Where every node counts failures, with several nodes.
    shared: Option<Storage>,
}

impl Default for JoinGuard {
    fn default() -> Self {
        Self::new(BUDGET_PER_MINUTE, None)
    }
}

/// Why an attempt may not start.
enum Refused {
    /// The address (or its prefix) used up its failures for this minute.
    Blocked,
    /// Too many of its attempts are running; a place frees up soon.
    Busy,
}

/// One attempt to enter, counted until it is answered. Dropped without [`Attempt::fail`] it
/// counts as not a guess (a right code, or a failure for another reason).
#[must_use = "an attempt counts until it is answered"]
pub struct Attempt<'a> {
    guard: &'a JoinGuard,
    ip: IpAddr,
    done: bool,
}

impl Attempt<'_> {
    /// The code or token was wrong: counts it (with every node, when shared) and waits before
    /// the answer, for the address's delay and for the server-wide budget, whichever is longer.
    pub async fn fail(mut self) {
        self.done = true;
        let guard = self.guard;
        let local = guard.failed(self.ip);
        let delay = match &guard.shared {
            None => local,
            Some(storage) => {
                let addr = keys(self.ip)[0].0.0.to_string();
                match storage
                    .cluster(move |c| c.wrong_attempt(&addr, WINDOW))
                    .await
                {
                    Ok((failures, left)) => guard.adopt(self.ip, failures, left),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not count a wrong code with the other nodes");
                        local
                    }
                }
            }
        };
        let answered = Answered { guard, ip: self.ip };
        tokio::time::sleep(delay.max(guard.budget.reserve())).await;
        drop(answered);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.guard
                .update(self.ip, |a| a.checking = a.checking.saturating_sub(1));
        }
    }
}

/// A wrong attempt's answer is on its way (or its asker went away): it no longer waits.
struct Answered<'a> {
    guard: &'a JoinGuard,
    ip: IpAddr,
}

impl Drop for Answered<'_> {
    fn drop(&mut self) {
        self.guard
            .update(self.ip, |a| a.answering = a.answering.saturating_sub(1));
    }
}

impl JoinGuard {
    /// A guard giving at most `per_minute` wrong answers a minute server-wide (after a burst),
    /// whose failures count across every node sharing `shared`.
    pub fn new(per_minute: u32, shared: Option<Storage>) -> Self {
        Self {
            attempts: DashMap::new(),
            budget: Budget::new(per_minute),
            shared,
        }
    }

    /// A guard whose failures count across every node sharing `storage`.
    pub fn shared(storage: Storage) -> Self {
        Self::new(BUDGET_PER_MINUTE, Some(storage))
    }

    /// Changes the counts of every key of `ip`.
    fn update(&self, ip: IpAddr, f: impl Fn(&mut Attempts)) {
        for (key, _) in keys(ip) {
            if let Some(mut entry) = self.attempts.get_mut(&key) {
                f(&mut entry);
            }
        }
    }

    fn try_begin(&self, ip: IpAddr) -> Result<(), Refused> {
        let now = Instant::now();
        if self.attempts.len() > 100_000 {
            self.attempts
                .retain(|_, a| a.checking > 0 || a.answering > 0 || a.since.elapsed() < WINDOW);
        }
        let fresh = Attempts {
            failures: 0,
            checking: 0,
            answering: 0,
            since: now,
        };
        let keys = keys(ip);
        for (i, &(key, limit)) in keys.iter().enumerate() {
            let mut entry = self.attempts.entry(key).or_insert(fresh);
            if entry.since.elapsed() >= WINDOW {
                *entry = Attempts {
                    checking: entry.checking,
                    answering: entry.answering,
                    ..fresh
                };
            }
            let refused = if entry.failures >= limit {
                Some(Refused::Blocked)
            } else if entry.failures + entry.checking >= limit
                || entry.checking + entry.answering >= limit
            {
                Some(Refused::Busy)
            } else {
                None
            };
            if let Some(refused) = refused {
                drop(entry);
                for (key, _) in &keys[..i] {
                    if let Some(mut earlier) = self.attempts.get_mut(key) {
                        earlier.checking = earlier.checking.saturating_sub(1);
                    }
                }
                return Err(refused);
            }
            entry.checking += 1;
        }
        Ok(())
    }

    /// Starts an attempt from `ip`, or refuses it when the address used up its attempts or
    /// too many of its attempts are running.
    pub fn begin(&self, ip: IpAddr) -> Result<Attempt<'_>, Refusal> {
        match self.try_begin(ip) {
            Ok(()) => Ok(Attempt {
                guard: self,
                ip,
                done: false,
            }),
            Err(_) => Err(too_many()),
        }
    }

    /// Like [`JoinGuard::begin`], but an attempt refused only because others from the same
    /// address are still running waits its turn (up to `BUSY_WAIT`) instead: a room of
    /// phones behind one router that reconnects at once gets in, ten at a time. An address
    /// blocked for its failures is refused at once.
    pub async fn begin_when_free(&self, ip: IpAddr) -> Result<Attempt<'_>, Refusal> {
        let give_up = Instant::now() + BUSY_WAIT;
        loop {
            match self.try_begin(ip) {
                Ok(()) => {
                    return Ok(Attempt {
                        guard: self,
                        ip,
                        done: false,
                    });
                }
                Err(Refused::Busy) if Instant::now() < give_up => {
                    tokio::time::sleep(BUSY_POLL).await;
                }
                Err(_) => return Err(too_many()),
            }
        }
    }

    /// Takes on every node's count of failures from `ip` in a window that ends in `left`, if
    /// it is higher than this node's; returns the delay it calls for.
    fn adopt(&self, ip: IpAddr, failures: u32, left: Duration) -> Duration {
        let now = Instant::now();
        let key = keys(ip)[0].0;
        let mut entry = self.attempts.entry(key).or_insert(Attempts {
            failures: 0,
            checking: 0,
            answering: 0,
            since: now,
        });
        if failures > entry.failures {
            entry.failures = failures;
            entry.since = (now + left).checked_sub(WINDOW).unwrap_or(now);
        }
        (DELAY_STEP * entry.failures).min(MAX_DELAY)
    }

    /// The attempt was wrong: it counts as a failure and waits for its answer. Returns how
    /// long the address's delay is.
    fn failed(&self, ip: IpAddr) -> Duration {
        let mut delay = Duration::ZERO;
        for (i, (key, _)) in keys(ip).into_iter().enumerate() {
            let mut entry = self.attempts.entry(key).or_insert(Attempts {
                failures: 0,
                checking: 1,
                answering: 0,
                since: Instant::now(),
            });
            entry.checking = entry.checking.saturating_sub(1);
            entry.failures += 1;
            entry.answering += 1;
            if i == 0 {
                delay = (DELAY_STEP * entry.failures).min(MAX_DELAY);
            }
        }
        delay
    }
}

fn too_many() -> Refusal {
    refuse(
        ErrorCode::TooManyAttempts,
        "too many wrong codes; wait a minute and try again",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    async fn fail(guard: &JoinGuard, ip: IpAddr) {
        guard.begin(ip).unwrap().fail().await;
    }

    #[tokio::test(start_paused = true)]
    async fn failures_slow_down_then_block_then_expire() {
        let guard = JoinGuard::default();
        let ip: IpAddr = "10.0.0.7".parse().unwrap();
        let other: IpAddr = "10.0.0.8".parse().unwrap();
        let took = |start: Instant| start.elapsed();
        let start = Instant::now();
        fail(&guard, ip).await;
        assert_eq!(took(start), Duration::from_millis(200));
        let start = Instant::now();
        fail(&guard, ip).await;
        assert_eq!(took(start), Duration::from_millis(400));
        for _ in 2..MAX_FAILURES - 1 {
            fail(&guard, ip).await;
        }
        let start = Instant::now();
        fail(&guard, ip).await;
        assert_eq!(took(start), MAX_DELAY, "the delay is capped");
        assert_eq!(
            guard.begin(ip).err().unwrap().code,
            ErrorCode::TooManyAttempts
        );
        assert!(
            guard.begin(other).is_ok(),
            "other addresses are not affected"
        );
        tokio::time::advance(WINDOW).await;
        assert!(guard.begin(ip).is_ok(), "the block lifts after a minute");
        let start = Instant::now();
        fail(&guard, ip).await;
        assert_eq!(
            took(start),
            Duration::from_millis(200),
            "and the count starts again"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_has_exactly_ten_checked() {
        let guard = Arc::new(JoinGuard::default());
        let ip: IpAddr = "10.0.0.9".parse().unwrap();
        // 29 wrong codes sent at the same moment: ten are checked, the rest refused unchecked.
        let burst: Vec<_> = (0..29)
            .map(|_| {
                let guard = guard.clone();
                tokio::spawn(async move {
                    match guard.begin_when_free(ip).await {
                        Ok(attempt) => {
                            attempt.fail().await;
                            true
                        }
                        Err(r) => {
                            assert_eq!(r.code, ErrorCode::TooManyAttempts);
                            false
                        }
                    }
                })
            })
            .collect();
        let mut checked = 0;
        for b in burst {
            checked += usize::from(b.await.unwrap());
        }
        assert_eq!(checked, MAX_FAILURES as usize);
        // A thousand at once without waiting: ten get through to a lookup at all.
        let other: IpAddr = "10.0.0.19".parse().unwrap();
        let admitted: Vec<_> = (0..1000).filter_map(|_| guard.begin(other).ok()).collect();
        assert_eq!(admitted.len(), MAX_FAILURES as usize);
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
                    let attempt = guard.begin_when_free(venue).await?;
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    drop(attempt);
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
            fail(&guard, guesser).await;
        }
        let asked = Instant::now();
        assert_eq!(
            guard.begin_when_free(guesser).await.err().unwrap().code,
            ErrorCode::TooManyAttempts
        );
        assert_eq!(asked.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn wrong_answers_keep_the_server_wide_pace_and_right_codes_pass_at_once() {
        let guard = Arc::new(JoinGuard::default());
        let start = Instant::now();
        // 60 addresses, ten wrong codes each, all at once.
        let storm: Vec<_> = (0..600)
            .map(|i| {
                let guard = guard.clone();
                let ip = IpAddr::from([10, 1, (i / 10) as u8, 0]);
                tokio::spawn(async move {
                    guard.begin_when_free(ip).await.unwrap().fail().await;
                    start.elapsed()
                })
            })
            .collect();
        // Meanwhile a phone with the right code, from an address of its own, is let in at once.
        tokio::time::advance(Duration::from_secs(30)).await;
        let asked = Instant::now();
        drop(
            guard
                .begin_when_free("10.2.0.1".parse().unwrap())
                .await
                .unwrap(),
        );
        assert_eq!(asked.elapsed(), Duration::ZERO);
        let mut answered = Vec::new();
        for s in storm {
            answered.push(s.await.unwrap());
        }
        answered.sort();
        let interval = WINDOW / BUDGET_PER_MINUTE;
        for (k, at) in answered.iter().enumerate() {
            let earliest = interval * (k as u32 + 1).saturating_sub(BUDGET_BURST);
            assert!(
                *at >= earliest,
                "answer {k} came at {at:?}, before {earliest:?}"
            );
        }
        assert!(answered[599] <= interval * 600, "and every one is answered");
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
            fail(node, ip).await;
        }
        assert!(
            b.begin(ip).is_err(),
            "the node of the tenth guess is blocked"
        );
        // The other learns of it at its own next failure, and is blocked from then on.
        fail(&a, ip).await;
        assert_eq!(a.begin(ip).err().unwrap().code, ErrorCode::TooManyAttempts);
        tokio::time::advance(WINDOW).await;
        assert!(
            a.begin(ip).is_ok() && b.begin(ip).is_ok(),
            "the block lifts"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn ipv6_counts_per_64_and_blocks_a_48_whose_64s_misbehave() {
        // A budget that does not pace these 30 failures past the minute they count in.
        let guard = JoinGuard::new(10_000, None);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            fail(&guard, a).await;
        }
        assert!(
            guard.begin(b).is_err(),
            "another address in the same /64 shares the count"
        );
        let neighbour: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(
            guard.begin(neighbour).is_ok(),
            "one bad /64 blocks only itself"
        );
        for net in 4..6 {
            let ip: IpAddr = format!("2001:db8:1:{net}::1").parse().unwrap();
            for _ in 0..MAX_FAILURES {
                fail(&guard, ip).await;
            }
        }
        assert!(
            guard.begin(neighbour).is_err(),
            "three misbehaving /64s block their whole /48"
        );
        let elsewhere: IpAddr = "2001:db8:2:3::1".parse().unwrap();
        assert!(
            guard.begin(elsewhere).is_ok(),
            "another /48 is not affected"
        );
    }
}

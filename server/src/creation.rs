//! Who may create sessions, and how fast.
//!
//! - **The organiser key** (`--organiser-key`, optional). When set, `POST /api/sessions`
//!   needs it in `Authorization: Bearer …`; a missing or wrong key is refused with
//!   `organiser_key` (401), and a wrong one counts as a wrong code against the address (the
//!   same throttle as join codes, so the key cannot be guessed quickly either). When not set,
//!   anyone who reaches the server may create sessions; the start-up log says which.
//! - **Rates.** Each address (an IPv6 /64) may create `per_address` sessions an hour, and the
//!   whole server `per_server` an hour, each with a burst of ten minutes' worth (10 and 100 by
//!   default). Beyond either, creating is refused with `too_many_sessions` (429), saying which
//!   limit was reached. A refused attempt uses nothing up.

use crate::error::{Refusal, refuse};
use dashmap::DashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;
use tafel_protocol::ErrorCode;
use tokio::time::Instant;

/// A token bucket of sessions.
#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A rate: so many an hour, with a burst of ten minutes' worth (at least one).
#[derive(Clone, Copy)]
struct Rate {
    per_sec: f64,
    burst: f64,
}

impl Rate {
    fn per_hour(n: u32) -> Self {
        let n = f64::from(n.max(1));
        Self {
            per_sec: n / 3600.0,
            burst: (n / 6.0).max(1.0),
        }
    }

    fn full(self) -> Bucket {
        Bucket {
            tokens: self.burst,
            at: Instant::now(),
        }
    }

    /// Refills `b` to now; whether one session is left in it.
    fn has_one(self, b: &mut Bucket) -> bool {
        let now = Instant::now();
        b.tokens =
            (b.tokens + now.duration_since(b.at).as_secs_f64() * self.per_sec).min(self.burst);
        b.at = now;
        b.tokens >= 1.0
    }
}

/// The rules for creating sessions.
pub struct Creation {
    /// The organiser key's hash, when one is set.
    key: Option<blake3::Hash>,
    address_rate: Rate,
    server_rate: Rate,
    addresses: DashMap<IpAddr, Bucket>,
    server: Mutex<Bucket>,
}

/// The address a creation counts against: IPv4 as is, IPv6 by its /64.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !(u128::MAX >> 64)).into()),
    }
}

/// What the organiser key check says.
pub enum KeyCheck {
    /// No key is set, or the right one was given.
    Fine,
    /// No key was given, though one is needed.
    Missing,
    /// A key was given, and it is wrong: a guess.
    Wrong,
}

impl Creation {
    /// Sessions an address and the whole server may create an hour, and the organiser key.
    pub fn new(organiser_key: Option<&str>, per_address: u32, per_server: u32) -> Self {
        let server_rate = Rate::per_hour(per_server);
        Self {
            key: organiser_key
                .filter(|k| !k.is_empty())
                .map(|k| blake3::hash(k.as_bytes())),
            address_rate: Rate::per_hour(per_address),
            server_rate,
            addresses: DashMap::new(),
            server: Mutex::new(server_rate.full()),
        }
    }

    /// Whether creating needs the organiser key.
    pub fn needs_key(&self) -> bool {
        self.key.is_some()
    }

    /// Checks the key a request gave (compared as hashes, so in constant time).
    pub fn check_key(&self, given: Option<&str>) -> KeyCheck {
        match (&self.key, given.filter(|g| !g.is_empty())) {
            (None, _) => KeyCheck::Fine,
            (Some(_), None) => KeyCheck::Missing,
            (Some(key), Some(given)) if blake3::hash(given.as_bytes()) == *key => KeyCheck::Fine,
            (Some(_), Some(_)) => KeyCheck::Wrong,
        }
    }

    /// Takes one session from `ip`'s allowance and the server's, or refuses when either is
    /// used up (taking nothing).
    pub fn take(&self, ip: IpAddr) -> Result<(), Refusal> {
        if self.addresses.len() > 100_000 {
            let rate = self.address_rate;
            self.addresses.retain(|_, b| {
                rate.has_one(b);
                b.tokens < rate.burst
            });
        }
        let mut address = self
            .addresses
            .entry(key(ip))
            .or_insert_with(|| self.address_rate.full());
        if !self.address_rate.has_one(&mut address) {
            crate::metrics::refused("sessions_per_address");
            return Err(refuse(
                ErrorCode::TooManySessions,
                format!(
                    "too many new sessions from this address; wait {} and try again",
                    wait_words(self.address_rate, &address)
                ),
            ));
        }
        let mut server = self.server.lock().unwrap_or_else(|e| e.into_inner());
        if !self.server_rate.has_one(&mut server) {
            crate::metrics::refused("sessions_per_server");
            return Err(refuse(
                ErrorCode::TooManySessions,
                format!(
                    "too many new sessions on this server lately; wait {} and try again",
                    wait_words(self.server_rate, &server)
                ),
            ));
        }
        server.tokens -= 1.0;
        address.tokens -= 1.0;
        Ok(())
    }
}

/// How long until `b` holds one session again, in words.
fn wait_words(rate: Rate, b: &Bucket) -> String {
    let secs = ((1.0 - b.tokens) / rate.per_sec).ceil().max(1.0);
    let wait = Duration::from_secs_f64(secs);
    if wait < Duration::from_secs(120) {
        format!("{} seconds", wait.as_secs())
    } else {
        format!("{} minutes", wait.as_secs().div_ceil(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_address_gets_its_burst_then_its_rate() {
        let c = Creation::new(None, 60, 100_000);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..10 {
            c.take(ip).unwrap();
        }
        let refused = c.take(ip).unwrap_err();
        assert_eq!(refused.code, ErrorCode::TooManySessions);
        assert!(
            refused.message.contains("this address"),
            "{}",
            refused.message
        );
        assert!(c.take("10.0.0.2".parse().unwrap()).is_ok(), "others may");
        tokio::time::advance(Duration::from_secs(60)).await;
        assert!(c.take(ip).is_ok(), "one a minute");
        assert!(c.take(ip).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn the_server_has_a_limit_of_its_own() {
        let c = Creation::new(None, 600, 60);
        for i in 0..10u8 {
            c.take(IpAddr::from([10, 0, 1, i])).unwrap();
        }
        let refused = c.take("10.0.2.1".parse().unwrap()).unwrap_err();
        assert!(
            refused.message.contains("this server"),
            "{}",
            refused.message
        );
    }

    #[test]
    fn the_key_is_checked_when_set() {
        let open = Creation::new(None, 1, 1);
        assert!(!open.needs_key());
        assert!(matches!(open.check_key(None), KeyCheck::Fine));
        let closed = Creation::new(Some("geheim"), 1, 1);
        assert!(matches!(closed.check_key(None), KeyCheck::Missing));
        assert!(matches!(closed.check_key(Some("fout")), KeyCheck::Wrong));
        assert!(matches!(closed.check_key(Some("geheim")), KeyCheck::Fine));
    }
}

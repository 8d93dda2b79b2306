//! A room's clock.

use std::time::Duration;
use tafel_protocol::Millis;

/// The server's clock, in milliseconds since the epoch.
pub fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A room's clock: the server's time in milliseconds since the epoch, read once when the room
/// loads and then advanced by tokio's monotonic clock. So times in a session never run
/// backwards, and tests can pause and advance a room's time.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    base_ms: Millis,
    base: tokio::time::Instant,
}

impl Clock {
    /// Starts at the system's time now.
    pub fn start() -> Self {
        Self {
            base_ms: now_ms(),
            base: tokio::time::Instant::now(),
        }
    }

    /// The time now.
    pub fn now(&self) -> Millis {
        self.base_ms + self.base.elapsed().as_millis() as i64
    }

    /// The instant at which this clock reads `ms`.
    pub fn instant_at(&self, ms: Millis) -> tokio::time::Instant {
        self.base + Duration::from_millis((ms - self.base_ms).max(0) as u64)
    }
}

/// Sleeps until `deadline`, or forever without one.
pub async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

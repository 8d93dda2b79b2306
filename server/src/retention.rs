//! The operator's retention setting: sessions that ended more than `--delete-ended-after-days`
//! ago are deleted for good, checked at start and then every hour (or every quarter of the
//! age, when that is shorter). Off by default. A session that never ended is never deleted by
//! this; an ended one is deleted as the facilitator would (its room, when loaded, deletes it
//! and closes its connections).

use crate::registry::{Answer, Registry};
use crate::room::RoomMsg;
use crate::storage::Storage;
use std::sync::Arc;
use std::time::Duration;
use tafel_protocol::Millis;
use tokio_util::sync::CancellationToken;

/// When a stored session ended, reading only its changes' metadata.
async fn ended_at(storage: &Storage, code: &str) -> Option<Millis> {
    let stored = storage.load(code).await.ok()??;
    tokio::task::spawn_blocking(move || {
        let changes: Vec<u8> = stored.changes.into_iter().flat_map(|(_, b)| b).collect();
        let (doc, _) = crate::session::doc::load(&stored.snapshot, &changes).ok()?;
        crate::session::doc::ended_at(&doc)
    })
    .await
    .ok()?
}

/// Deletes every session that ended before `before`; returns the codes deleted.
pub async fn sweep(registry: &Arc<Registry>, before: Millis) -> Vec<String> {
    let storage = registry.storage().clone();
    let codes = match storage.list().await {
        Ok(codes) => codes,
        Err(e) => {
            tracing::warn!(error = %e, "retention: could not list the sessions");
            return Vec::new();
        }
    };
    let mut deleted = Vec::new();
    for code in codes {
        if ended_at(&storage, &code)
            .await
            .is_none_or(|at| at >= before)
        {
            continue;
        }
        let gone = match registry.ask(&code, |reply| RoomMsg::Delete { reply }).await {
            Ok(Answer::Here((), _)) => true,
            Ok(Answer::Elsewhere(_)) => storage.delete(&code).await.is_ok(),
            Err(_) => false,
        };
        if gone {
            tracing::info!(room = %code, "retention: deleted a session that ended long ago");
            deleted.push(code);
        }
    }
    deleted
}

/// Sweeps for sessions older than `age` until `shutdown`.
pub async fn run(registry: Arc<Registry>, age: Duration, shutdown: CancellationToken) {
    let every = (age / 4).clamp(Duration::from_secs(1), Duration::from_secs(3600));
    loop {
        let before = crate::room::now_ms() - age.as_millis() as Millis;
        sweep(&registry, before).await;
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

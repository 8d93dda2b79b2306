//! The registry: which rooms are loaded. It holds only handles; each room's state lives in its
//! own task. It is the one place that knows where a room runs, so a later multi-node Tafel can
//! route here instead.

use crate::error::{Refusal, refuse};
use crate::room::{self, JoinError, RoomConfig, RoomHandle, RoomMsg};
use crate::storage::Storage;
use dashmap::DashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tafel_protocol::ErrorCode;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Capacity of a room's mailbox. Senders wait when it is full, which slows only the senders.
const MAILBOX: usize = 4096;

/// The loaded rooms.
pub struct Registry {
    rooms: DashMap<String, RoomHandle>,
    next_id: AtomicU64,
    storage: Storage,
    cfg: Arc<RoomConfig>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
}

impl Registry {
    /// A registry whose rooms store to `storage` and stop when `shutdown` is cancelled.
    pub fn new(storage: Storage, cfg: RoomConfig, shutdown: CancellationToken) -> Arc<Self> {
        Arc::new(Self {
            rooms: DashMap::new(),
            next_id: AtomicU64::new(1),
            storage,
            cfg: Arc::new(cfg),
            shutdown,
            tracker: TaskTracker::new(),
        })
    }

    /// The shared room settings.
    pub fn config(&self) -> &RoomConfig {
        &self.cfg
    }

    /// The storage rooms write to.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// A new process-wide id for a connection.
    pub fn next_conn_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// How many rooms are loaded.
    pub fn loaded(&self) -> usize {
        self.rooms.len()
    }

    /// The handle of the room for `code`, starting it if needed. Concurrent callers get the
    /// same room: the map's entry lock makes the check-and-start one step, so a session is
    /// loaded once however many phones join at the same moment.
    pub fn room(self: &Arc<Self>, code: &str) -> RoomHandle {
        if let Some(handle) = self.rooms.get(code) {
            return handle.clone();
        }
        self.rooms
            .entry(code.to_owned())
            .or_insert_with(|| {
                let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                let (tx, rx) = mpsc::channel(MAILBOX);
                let task = room::run(
                    code.to_owned(),
                    id,
                    rx,
                    self.storage.clone(),
                    self.cfg.clone(),
                    self.clone(),
                    self.shutdown.clone(),
                );
                self.tracker.spawn(task);
                RoomHandle { id, tx }
            })
            .clone()
    }

    /// Forgets a room run that has stopped (only that run: a newer one stays).
    pub(crate) fn remove(&self, code: &str, id: u64) {
        self.rooms.remove_if(code, |_, h| h.id == id);
    }

    /// Sends a request that expects a reply, retrying when the room was just unloading.
    pub async fn ask<T>(
        self: &Arc<Self>,
        code: &str,
        mut make: impl FnMut(oneshot::Sender<Result<T, JoinError>>) -> RoomMsg,
    ) -> Result<T, Refusal> {
        for _ in 0..5 {
            let handle = self.room(code);
            let (reply, answer) = oneshot::channel();
            if handle.tx.send(make(reply)).await.is_err() {
                self.remove(code, handle.id);
                continue;
            }
            match answer.await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(JoinError::Refused(r))) => return Err(r),
                Ok(Err(JoinError::Retry)) | Err(_) => self.remove(code, handle.id),
            }
        }
        Err(refuse(
            ErrorCode::Internal,
            "the session is busy reloading; try again",
        ))
    }

    /// Waits until every room has saved and stopped (after `shutdown` was cancelled).
    pub async fn wait_stopped(&self) {
        self.tracker.close();
        self.tracker.wait().await;
    }
}

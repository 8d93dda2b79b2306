//! The registry: which rooms are loaded. It holds only handles; each room's state lives in its
//! own task. It is the one place that knows where a room runs: here, or (with several nodes)
//! on the node that holds its lease, which it learns when the room it starts finds the lease
//! taken. It learns that a room ended by watching the room's task: a room knows nothing of the
//! registry.

use crate::cluster::Keeper;
use crate::error::{Refusal, refuse};
use crate::room::msg::Reply;
use crate::room::{self, JoinError, RoomConfig, RoomHandle, RoomMsg};
use crate::storage::{Owner, Storage};
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
    /// This node's leases, when several nodes share the storage.
    keeper: Option<Arc<Keeper>>,
}

/// Where a request found its room.
#[derive(Debug)]
pub enum Answer<T> {
    /// On this node, which answered; the handle of the room that did (a connection must stay
    /// with the room that welcomed it).
    Here(T, RoomHandle),
    /// On another node, which holds the session's lease.
    Elsewhere(Owner),
}

impl Registry {
    /// A registry whose rooms store to `storage` and stop when `shutdown` is cancelled; with
    /// a `keeper`, each room holds its session's lease while it runs.
    pub fn new(
        storage: Storage,
        cfg: RoomConfig,
        shutdown: CancellationToken,
        keeper: Option<Arc<Keeper>>,
    ) -> Arc<Self> {
        Arc::new(Self {
            rooms: DashMap::new(),
            next_id: AtomicU64::new(1),
            storage,
            cfg: Arc::new(cfg),
            shutdown,
            tracker: TaskTracker::new(),
            keeper,
        })
    }

    /// This node's leases, when several nodes share the storage.
    pub fn keeper(&self) -> Option<&Arc<Keeper>> {
        self.keeper.as_ref()
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
                let room = room::run(
                    code.to_owned(),
                    rx,
                    self.storage.clone(),
                    self.cfg.clone(),
                    self.shutdown.clone(),
                    self.keeper.clone(),
                );
                // When the room's task ends, this run of it is forgotten (a newer one stays).
                let (registry, code) = (self.clone(), code.to_owned());
                self.tracker.spawn(async move {
                    room.await;
                    registry.remove(&code, id);
                });
                RoomHandle { id, tx }
            })
            .clone()
    }

    /// Forgets a room run that has stopped (only that run: a newer one stays).
    fn remove(&self, code: &str, id: u64) {
        self.rooms.remove_if(code, |_, h| h.id == id);
    }

    /// Sends a request that expects a reply to the room, starting it here if no node runs it,
    /// retrying when the room was just unloading. The answer, or who owns the room.
    pub async fn ask<T>(
        self: &Arc<Self>,
        code: &str,
        mut make: impl FnMut(Reply<T>) -> RoomMsg,
    ) -> Result<Answer<T>, Refusal> {
        for _ in 0..5 {
            let handle = self.room(code);
            let (reply, answer) = oneshot::channel();
            if handle.tx.send(make(reply)).await.is_err() {
                self.remove(code, handle.id);
                continue;
            }
            match answer.await {
                Ok(Ok(value)) => return Ok(Answer::Here(value, handle)),
                Ok(Err(JoinError::Refused(r))) => return Err(r),
                Ok(Err(JoinError::Elsewhere(owner))) => {
                    self.remove(code, handle.id);
                    return Ok(Answer::Elsewhere(owner));
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::StorageError;
    use crate::storage::{Backend, NewSession, StoredSession, Write};
    use std::sync::atomic::Ordering::Relaxed;
    use std::time::Duration;
    use tafel_protocol::{Perspective, SessionCreated};

    fn here<T>(answer: Answer<T>) -> T {
        match answer {
            Answer::Here(value, _) => value,
            Answer::Elsewhere(owner) => panic!("answered by another node: {owner:?}"),
        }
    }

    async fn setup_on(
        storage: Storage,
        cfg: RoomConfig,
    ) -> (Storage, Arc<Registry>, SessionCreated) {
        let created = crate::sessions::for_test(&storage).await;
        let registry = Registry::new(storage.clone(), cfg, CancellationToken::new(), None);
        (storage, registry, created)
    }

    #[tokio::test]
    async fn concurrent_requests_load_a_session_once() {
        let (storage, registry, s) = setup_on(Storage::in_memory(), RoomConfig::default()).await;
        let asks = (0..50).map(|_| {
            let (registry, code) = (registry.clone(), s.code.clone());
            tokio::spawn(async move { registry.ask(&code, |reply| RoomMsg::Info { reply }).await })
        });
        let answers = tokio::time::timeout(
            Duration::from_secs(10),
            futures_util::future::join_all(asks),
        );
        for answer in answers.await.expect("every ask is answered") {
            assert_eq!(here(answer.unwrap().unwrap()).title, "Test");
        }
        assert_eq!(storage.stats().loads.load(Relaxed), 1);
        assert_eq!(registry.loaded(), 1);
    }

    /// Storage that holds every snapshot write until the test lets it through.
    struct GatedSnapshots {
        inner: crate::storage::memory::MemoryBackend,
        entered: std::sync::Mutex<std::sync::mpsc::Sender<()>>,
        release: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
    }

    impl Backend for GatedSnapshots {
        fn create(&self, s: &NewSession) -> Result<(), StorageError> {
            self.inner.create(s)
        }
        fn commit(&self, requests: &[Vec<Write>]) -> Vec<Result<(), StorageError>> {
            let snapshot = |w: &Write| matches!(w, Write::Snapshot { .. });
            if requests.iter().flatten().any(snapshot) {
                let _ = self.entered.lock().unwrap().send(());
                let _ = self.release.lock().unwrap().recv();
            }
            self.inner.commit(requests)
        }
        fn load(&self, code: &str) -> Result<Option<StoredSession>, StorageError> {
            self.inner.load(code)
        }
        fn list(&self) -> Result<Vec<String>, StorageError> {
            self.inner.list()
        }
        fn delete(&self, code: &str) -> Result<bool, StorageError> {
            self.inner.delete(code)
        }
    }

    #[tokio::test]
    async fn requests_that_meet_an_unloading_room_are_retried_not_refused() {
        let (entered_tx, entered) = std::sync::mpsc::channel();
        let (release, release_rx) = std::sync::mpsc::channel();
        let backend = GatedSnapshots {
            inner: Default::default(),
            entered: std::sync::Mutex::new(entered_tx),
            release: std::sync::Mutex::new(release_rx),
        };
        let cfg = RoomConfig {
            idle: Duration::from_millis(50),
            ..Default::default()
        };
        let (_, registry, s) = setup_on(Storage::new(Arc::new(backend)), cfg).await;

        // A change, so the room writes a snapshot when it unloads; then nobody is connected.
        let (outbox, _rx) = mpsc::channel(64);
        let conn = crate::room::ConnSink {
            id: registry.next_conn_id(),
            outbox,
        };
        let conn_id = conn.id;
        registry
            .ask(&s.code, |reply| RoomMsg::Join {
                name: "Anna".into(),
                perspective: Perspective::Client,
                conn: conn.clone(),
                reply,
            })
            .await
            .unwrap();
        let old = registry.room(&s.code);
        old.tx.send(RoomMsg::Leave { conn: conn_id }).await.unwrap();

        // The room is now inside its closing snapshot, still in the registry.
        tokio::task::spawn_blocking(move || entered.recv_timeout(Duration::from_secs(10)))
            .await
            .unwrap()
            .expect("the room began its closing snapshot");
        let asks: Vec<_> = (0..5)
            .map(|_| {
                let (registry, code) = (registry.clone(), s.code.clone());
                tokio::spawn(
                    async move { registry.ask(&code, |reply| RoomMsg::Info { reply }).await },
                )
            })
            .collect();
        // All five wait in the old room's mailbox.
        let give_up = std::time::Instant::now() + Duration::from_secs(10);
        while old.tx.max_capacity() - old.tx.capacity() < 5 {
            assert!(
                std::time::Instant::now() < give_up,
                "the asks never reached the mailbox"
            );
            tokio::task::yield_now().await;
        }
        release.send(()).unwrap();
        let answers = tokio::time::timeout(
            Duration::from_secs(10),
            futures_util::future::join_all(asks),
        );
        for answer in answers.await.expect("every ask is answered") {
            let info = here(answer.unwrap().expect("answered by a freshly loaded room"));
            assert_eq!(info.code, s.code);
        }
        let _ = release.send(()); // the new room's own snapshot, later
    }
}

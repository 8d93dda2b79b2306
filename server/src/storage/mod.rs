//! Durable storage of sessions.
//!
//! A session is stored as: its metadata (the pseudonym key, never shown to anyone), a snapshot
//! of its automerge document, the incremental changes appended after that snapshot (numbered by
//! `seq`), and the hashes of its tokens. [`Backend`] is that, synchronously, in bytes: the
//! embedded [`redb`](self::redb) file and an in-memory double for unit tests implement it; a
//! networked database can implement it later. [`Storage`] is the async handle rooms use: every
//! write goes through one writer thread that gathers whatever is waiting into one transaction
//! — one fsync for many rooms' commands (group commit).

pub mod memory;
pub mod redb;

use crate::error::StorageError;
use crate::secrets::TokenHash;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tafel_protocol::{Millis, Role};
use tokio::sync::oneshot;

/// What the server keeps about a session outside its document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionMeta {
    /// Hex of the 32-byte key for pseudonyms.
    pub key: String,
    /// When the session was created.
    pub created_at: Millis,
}

/// Who a token lets in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenGrant {
    /// The role the token gives.
    pub role: Role,
    /// The participant it belongs to (none for the projector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
}

/// One write, applied atomically with the others of its batch.
#[derive(Debug, Clone)]
pub enum Write {
    /// Changes of a session's document, appended under a new sequence number.
    Changes {
        /// The session.
        code: String,
        /// Strictly increasing per session.
        seq: u64,
        /// Output of `Automerge::save_after`.
        bytes: Vec<u8>,
    },
    /// A new token for a session.
    Token {
        /// The session.
        code: String,
        /// The token's hash.
        hash: TokenHash,
        /// Who it lets in.
        grant: TokenGrant,
    },
    /// A new snapshot that includes every change up to `upto`; those changes are removed.
    Snapshot {
        /// The session.
        code: String,
        /// Output of `Automerge::save`.
        bytes: Vec<u8>,
        /// The last change number the snapshot includes.
        upto: u64,
    },
}

/// A new session: written once, refused if the code is taken.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The join code.
    pub code: String,
    /// Its metadata.
    pub meta: SessionMeta,
    /// The first snapshot of its document.
    pub snapshot: Vec<u8>,
    /// The facilitator's and projector's tokens.
    pub tokens: Vec<(TokenHash, TokenGrant)>,
}

/// Everything stored of one session.
#[derive(Debug, Clone, Default)]
pub struct StoredSession {
    /// Its metadata.
    pub meta: Option<SessionMeta>,
    /// The last snapshot.
    pub snapshot: Vec<u8>,
    /// The last change number the snapshot includes.
    pub snapshot_upto: u64,
    /// The changes after the snapshot, in order.
    pub changes: Vec<(u64, Vec<u8>)>,
    /// Every token of the session.
    pub tokens: Vec<(TokenHash, TokenGrant)>,
}

/// A storage engine, synchronous and byte-oriented. Implementations make `commit` atomic and
/// durable: when it returns `Ok`, the writes survive a crash.
pub trait Backend: Send + Sync + 'static {
    /// Stores a new session; [`StorageError::Conflict`] when the code exists.
    fn create(&self, session: &NewSession) -> Result<(), StorageError>;
    /// Applies all writes in one atomic, durable transaction.
    fn commit(&self, writes: &[Write]) -> Result<(), StorageError>;
    /// Reads a session; `None` when there is none with this code.
    fn load(&self, code: &str) -> Result<Option<StoredSession>, StorageError>;
}

struct WriteRequest {
    writes: Vec<Write>,
    done: oneshot::Sender<Result<(), StorageError>>,
}

/// Counters of the writer thread, for logs and metrics.
#[derive(Debug, Default)]
pub struct StorageStats {
    /// Transactions committed.
    pub commits: std::sync::atomic::AtomicU64,
    /// Batches requested by rooms (several share one commit).
    pub requests: std::sync::atomic::AtomicU64,
    /// Total time spent committing, in microseconds.
    pub commit_micros: std::sync::atomic::AtomicU64,
    /// Sessions read from storage (room loads).
    pub loads: std::sync::atomic::AtomicU64,
}

/// The async handle to storage. Cheap to clone.
#[derive(Clone)]
pub struct Storage {
    backend: Arc<dyn Backend>,
    writer: std::sync::mpsc::Sender<WriteRequest>,
    stats: Arc<StorageStats>,
}

impl Storage {
    /// Starts the writer thread over `backend`.
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        let (writer, requests) = std::sync::mpsc::channel::<WriteRequest>();
        let stats = Arc::new(StorageStats::default());
        let (b, s) = (backend.clone(), stats.clone());
        std::thread::Builder::new()
            .name("tafel-storage".into())
            .spawn(move || write_loop(&*b, &requests, &s))
            .expect("could not start the storage thread");
        Self {
            backend,
            writer,
            stats,
        }
    }

    /// An in-memory storage, for tests.
    pub fn in_memory() -> Self {
        Self::new(Arc::new(memory::MemoryBackend::default()))
    }

    /// Writes durably; returns once the writes are on disk.
    pub async fn commit(&self, writes: Vec<Write>) -> Result<(), StorageError> {
        let (done, wait) = oneshot::channel();
        self.writer
            .send(WriteRequest { writes, done })
            .map_err(|_| StorageError::Closed)?;
        wait.await.map_err(|_| StorageError::Closed)?
    }

    /// Creates a session durably.
    pub async fn create(&self, session: NewSession) -> Result<(), StorageError> {
        let backend = self.backend.clone();
        tokio::task::spawn_blocking(move || backend.create(&session))
            .await
            .map_err(|e| StorageError::Db(e.to_string()))?
    }

    /// Reads a session.
    pub async fn load(&self, code: &str) -> Result<Option<StoredSession>, StorageError> {
        self.stats
            .loads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let backend = self.backend.clone();
        let code = code.to_owned();
        tokio::task::spawn_blocking(move || backend.load(&code))
            .await
            .map_err(|e| StorageError::Db(e.to_string()))?
    }

    /// The writer's counters.
    pub fn stats(&self) -> &StorageStats {
        &self.stats
    }
}

/// The writer thread: take every request that is waiting, commit them together, answer all.
fn write_loop(
    backend: &dyn Backend,
    requests: &std::sync::mpsc::Receiver<WriteRequest>,
    stats: &StorageStats,
) {
    use std::sync::atomic::Ordering::Relaxed;
    const MAX_BATCH: usize = 1024;
    while let Ok(first) = requests.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match requests.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let writes: Vec<Write> = batch
            .iter_mut()
            .flat_map(|r| std::mem::take(&mut r.writes))
            .collect();
        let started = Instant::now();
        let result = backend.commit(&writes);
        let took = started.elapsed();
        stats.commits.fetch_add(1, Relaxed);
        stats.requests.fetch_add(batch.len() as u64, Relaxed);
        stats
            .commit_micros
            .fetch_add(took.as_micros() as u64, Relaxed);
        crate::metrics::storage_flushed(took, batch.len(), result.is_ok());
        if let Err(e) = &result {
            tracing::error!(
                error = %e,
                ms = took.as_millis() as u64,
                writes = writes.len(),
                requests = batch.len(),
                "storage commit failed"
            );
        } else if took > Duration::from_millis(200) {
            tracing::warn!(
                ms = took.as_millis() as u64,
                writes = writes.len(),
                requests = batch.len(),
                "slow storage commit"
            );
        }
        for request in batch {
            let answer = match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(StorageError::Db(e.to_string())),
            };
            let _ = request.done.send(answer);
        }
    }
}

#[cfg(test)]
pub(crate) mod contract {
    //! The behaviour every backend must have; run against each implementation.
    use super::*;

    pub fn new_session(code: &str) -> NewSession {
        NewSession {
            code: code.into(),
            meta: SessionMeta {
                key: "00".repeat(32),
                created_at: 1,
            },
            snapshot: vec![1, 2, 3],
            tokens: vec![(
                [7; 32],
                TokenGrant {
                    role: Role::Facilitator,
                    participant: Some("p1".into()),
                },
            )],
        }
    }

    pub fn check(backend: &dyn Backend) {
        assert!(backend.load("AAAAAA").unwrap().is_none());
        backend.create(&new_session("AAAAAA")).unwrap();
        assert!(matches!(
            backend.create(&new_session("AAAAAA")),
            Err(StorageError::Conflict)
        ));

        let changes = |seq: u64| Write::Changes {
            code: "AAAAAA".into(),
            seq,
            bytes: vec![seq as u8],
        };
        let token = Write::Token {
            code: "AAAAAA".into(),
            hash: [9; 32],
            grant: TokenGrant {
                role: Role::Participant,
                participant: Some("p2".into()),
            },
        };
        backend.commit(&[changes(1), token, changes(2)]).unwrap();
        backend.commit(&[changes(3)]).unwrap();

        let s = backend.load("AAAAAA").unwrap().unwrap();
        assert_eq!(s.meta.unwrap().created_at, 1);
        assert_eq!(s.snapshot, vec![1, 2, 3]);
        assert_eq!(s.changes, vec![(1, vec![1]), (2, vec![2]), (3, vec![3])]);
        assert_eq!(s.tokens.len(), 2);

        backend
            .commit(&[
                Write::Snapshot {
                    code: "AAAAAA".into(),
                    bytes: vec![4],
                    upto: 2,
                },
                changes(4),
            ])
            .unwrap();
        let s = backend.load("AAAAAA").unwrap().unwrap();
        assert_eq!((s.snapshot, s.snapshot_upto), (vec![4], 2));
        assert_eq!(s.changes, vec![(3, vec![3]), (4, vec![4])]);

        // Another session's records stay apart.
        backend.create(&new_session("BBBBBB")).unwrap();
        assert!(backend.load("BBBBBB").unwrap().unwrap().changes.is_empty());
    }
}

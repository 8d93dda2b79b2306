//! Durable storage of sessions.
//!
//! A session is stored as: its metadata (the pseudonym key, never shown to anyone), a snapshot
//! of its automerge document, the incremental changes appended after that snapshot (numbered by
//! `seq`), and the hashes of its tokens. [`Backend`] is that, synchronously, in bytes: the
//! embedded [`redb`](self::redb) file and an in-memory double for unit tests implement it; a
//! networked database can implement it later. [`Storage`] is the async handle rooms use: every
//! write goes through one writer thread that gathers whatever is waiting into one transaction
//! — one fsync for many rooms' commands (group commit).
//!
//! The contract, fit for more than one writer (checked against every backend by
//! [`contract::check`]): a change's sequence number is taken once — writing at a taken one, or
//! at one a snapshot already covers, is refused with [`StorageError::Conflict`] and overwrites
//! nothing; a snapshot never goes back to an older one; each write request gets its own
//! result, so one room's refused request leaves the others of its transaction alone; a
//! backend can list the sessions it holds.

pub mod memory;
pub mod redb;

use crate::error::StorageError;
use crate::secrets::{TokenGrant, TokenHash};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tafel_protocol::Millis;
use tokio::sync::oneshot;

/// What the server keeps about a session outside its document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionMeta {
    /// Hex of the 32-byte key for pseudonyms.
    pub key: String,
    /// When the session was created.
    pub created_at: Millis,
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

/// A storage engine, synchronous and byte-oriented. Implementations make each request of a
/// `commit` atomic and durable: when its result is `Ok`, its writes survive a crash.
pub trait Backend: Send + Sync + 'static {
    /// Stores a new session; [`StorageError::Conflict`] when the code exists.
    fn create(&self, session: &NewSession) -> Result<(), StorageError>;
    /// Applies each request (a list of writes) atomically and durably, and answers each in
    /// order: a request whose writes break the contract (a taken sequence number, an older
    /// snapshot, an unknown session) is refused whole and the others still apply. Several
    /// requests may share one transaction; if that transaction fails, every one of them fails.
    fn commit(&self, requests: &[Vec<Write>]) -> Vec<Result<(), StorageError>>;
    /// Reads a session; `None` when there is none with this code.
    fn load(&self, code: &str) -> Result<Option<StoredSession>, StorageError>;
    /// The codes of every session stored.
    fn list(&self) -> Result<Vec<String>, StorageError>;
}

/// Checks a request against what a session has: every change past its snapshot and not yet
/// taken, snapshots never older. `taken` tells whether a change's sequence number is stored
/// (by this request's earlier writes too); `upto` is the session's snapshot's last change, or
/// `None` when the session does not exist. Backends call this inside their transaction.
pub fn check_request(
    writes: &[Write],
    mut upto: impl FnMut(&str) -> Result<Option<u64>, StorageError>,
    mut taken: impl FnMut(&str, u64) -> Result<bool, StorageError>,
) -> Result<(), StorageError> {
    let mut seen: Vec<(&str, u64)> = Vec::new();
    for w in writes {
        let code = w.code();
        let Some(snapshot_upto) = upto(code)? else {
            return Err(StorageError::UnknownSession(code.to_owned()));
        };
        match w {
            Write::Changes { seq, .. } => {
                if *seq <= snapshot_upto || seen.contains(&(code, *seq)) || taken(code, *seq)? {
                    return Err(StorageError::Conflict(format!("change {seq} of {code}")));
                }
                seen.push((code, *seq));
            }
            Write::Snapshot { upto, .. } if *upto < snapshot_upto => {
                return Err(StorageError::Conflict(format!(
                    "a snapshot of {code} up to {snapshot_upto} exists, not going back to {upto}"
                )));
            }
            Write::Snapshot { .. } | Write::Token { .. } => {}
        }
    }
    Ok(())
}

impl Write {
    /// The session written to.
    pub fn code(&self) -> &str {
        match self {
            Write::Changes { code, .. }
            | Write::Token { code, .. }
            | Write::Snapshot { code, .. } => code,
        }
    }
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

    /// The codes of every stored session.
    pub async fn list(&self) -> Result<Vec<String>, StorageError> {
        let backend = self.backend.clone();
        tokio::task::spawn_blocking(move || backend.list())
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
        let requests: Vec<Vec<Write>> = batch
            .iter_mut()
            .map(|r| std::mem::take(&mut r.writes))
            .collect();
        let writes: usize = requests.iter().map(Vec::len).sum();
        let started = Instant::now();
        let results = backend.commit(&requests);
        let took = started.elapsed();
        let failed = results.iter().filter(|r| r.is_err()).count();
        stats.commits.fetch_add(1, Relaxed);
        stats.requests.fetch_add(batch.len() as u64, Relaxed);
        stats
            .commit_micros
            .fetch_add(took.as_micros() as u64, Relaxed);
        crate::metrics::storage_flushed(took, batch.len(), failed == 0);
        if let Some(Err(e)) = results.iter().find(|r| r.is_err()) {
            tracing::error!(
                error = %e,
                ms = took.as_millis() as u64,
                writes,
                requests = batch.len(),
                failed,
                "storage commit failed"
            );
        } else if took > Duration::from_millis(200) {
            tracing::warn!(
                ms = took.as_millis() as u64,
                writes,
                requests = batch.len(),
                "slow storage commit"
            );
        }
        debug_assert_eq!(results.len(), batch.len(), "one result per request");
        for (request, result) in batch.into_iter().zip(results) {
            let _ = request.done.send(result);
        }
    }
}

#[cfg(test)]
pub(crate) mod contract {
    //! The behaviour every backend must have; run against each implementation.
    use super::*;
    use tafel_protocol::Role;

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
                    link: None,
                },
            )],
        }
    }

    fn changes(code: &str, seq: u64, byte: u8) -> Write {
        Write::Changes {
            code: code.into(),
            seq,
            bytes: vec![byte],
        }
    }

    /// Commits one request; its one result.
    fn one(backend: &dyn Backend, writes: Vec<Write>) -> Result<(), StorageError> {
        let mut results = backend.commit(&[writes]);
        assert_eq!(results.len(), 1, "one result per request");
        results.remove(0)
    }

    pub fn check(backend: &dyn Backend) {
        assert!(backend.load("AAAAAA").unwrap().is_none());
        assert!(backend.list().unwrap().is_empty());
        backend.create(&new_session("AAAAAA")).unwrap();
        assert!(matches!(
            backend.create(&new_session("AAAAAA")),
            Err(StorageError::Conflict(_))
        ));

        let token = Write::Token {
            code: "AAAAAA".into(),
            hash: [9; 32],
            grant: TokenGrant {
                role: Role::Participant,
                participant: Some("p2".into()),
                link: None,
            },
        };
        one(
            backend,
            vec![changes("AAAAAA", 1, 1), token, changes("AAAAAA", 2, 2)],
        )
        .unwrap();
        one(backend, vec![changes("AAAAAA", 3, 3)]).unwrap();

        let s = backend.load("AAAAAA").unwrap().unwrap();
        assert_eq!(s.meta.unwrap().created_at, 1);
        assert_eq!(s.snapshot, vec![1, 2, 3]);
        assert_eq!(s.changes, vec![(1, vec![1]), (2, vec![2]), (3, vec![3])]);
        assert_eq!(s.tokens.len(), 2);

        // A taken sequence number is refused, the whole request with it, and nothing is
        // overwritten.
        let taken = one(
            backend,
            vec![changes("AAAAAA", 4, 4), changes("AAAAAA", 2, 99)],
        );
        assert!(matches!(taken, Err(StorageError::Conflict(_))), "{taken:?}");
        let twice = one(
            backend,
            vec![changes("AAAAAA", 4, 4), changes("AAAAAA", 4, 5)],
        );
        assert!(matches!(twice, Err(StorageError::Conflict(_))), "{twice:?}");
        let s = backend.load("AAAAAA").unwrap().unwrap();
        assert_eq!(s.changes, vec![(1, vec![1]), (2, vec![2]), (3, vec![3])]);

        one(
            backend,
            vec![
                Write::Snapshot {
                    code: "AAAAAA".into(),
                    bytes: vec![4],
                    upto: 2,
                },
                changes("AAAAAA", 4, 4),
            ],
        )
        .unwrap();
        let s = backend.load("AAAAAA").unwrap().unwrap();
        assert_eq!((s.snapshot, s.snapshot_upto), (vec![4], 2));
        assert_eq!(s.changes, vec![(3, vec![3]), (4, vec![4])]);

        // A number the snapshot covers is taken too, and a snapshot never goes back.
        let covered = one(backend, vec![changes("AAAAAA", 1, 1)]);
        assert!(
            matches!(covered, Err(StorageError::Conflict(_))),
            "{covered:?}"
        );
        let older = one(
            backend,
            vec![Write::Snapshot {
                code: "AAAAAA".into(),
                bytes: vec![0],
                upto: 1,
            }],
        );
        assert!(matches!(older, Err(StorageError::Conflict(_))), "{older:?}");
        assert_eq!(backend.load("AAAAAA").unwrap().unwrap().snapshot, vec![4]);

        // Another session's records stay apart.
        backend.create(&new_session("BBBBBB")).unwrap();
        assert!(backend.load("BBBBBB").unwrap().unwrap().changes.is_empty());

        // Each request its own result: a refused one leaves the others of the same commit.
        let results = backend.commit(&[
            vec![changes("BBBBBB", 1, 1)],
            vec![changes("AAAAAA", 3, 33)],
            vec![changes("CCCCCC", 1, 1)],
            vec![changes("AAAAAA", 5, 5)],
        ]);
        assert_eq!(results.len(), 4);
        assert!(results[0].is_ok() && results[3].is_ok(), "{results:?}");
        assert!(matches!(results[1], Err(StorageError::Conflict(_))));
        assert!(matches!(results[2], Err(StorageError::UnknownSession(_))));
        assert_eq!(
            backend.load("BBBBBB").unwrap().unwrap().changes,
            vec![(1, vec![1])]
        );
        assert_eq!(
            backend.load("AAAAAA").unwrap().unwrap().changes,
            vec![(3, vec![3]), (4, vec![4]), (5, vec![5])]
        );
        assert!(backend.load("CCCCCC").unwrap().is_none());

        let mut listed = backend.list().unwrap();
        listed.sort();
        assert_eq!(listed, ["AAAAAA", "BBBBBB"]);
    }
}

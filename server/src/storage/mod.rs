//! Durable storage of sessions.
//!
//! A session is stored as: its metadata (the pseudonym key, never shown to anyone), a snapshot
//! of its automerge document, the incremental changes appended after that snapshot (numbered by
//! `seq`), and the hashes of its tokens. [`Backend`] is that, synchronously, in bytes: the
//! embedded [`redb`] file, [`PostgreSQL`](self::postgres) for several nodes, and an
//! in-memory double for unit tests implement it. [`Storage`] is the async handle rooms use:
//! every write goes through one writer thread that gathers whatever is waiting into one
//! transaction — one fsync for many rooms' commands (group commit).
//!
//! The contract, fit for more than one writer (checked against every backend by
//! `contract::check`): a change's sequence number is taken once — writing at a taken one, or
//! at one a snapshot already covers, is refused with [`StorageError::Conflict`] and overwrites
//! nothing; a snapshot never goes back to an older one; each write request gets its own
//! result, so one room's refused request leaves the others of its transaction alone; a
//! backend can list the sessions it holds.
//!
//! A backend shared by several nodes also keeps [`Cluster`] records (checked by
//! `contract::check_cluster`): a lease per live session, whose fencing number grows with
//! every new owner. A request that carries a [`Write::Fence`] applies only while that fence is
//! the session's current lease, and a session that ever had a lease takes only fenced
//! requests: a node that lost its lease cannot write, even if it does not know yet.

pub mod memory;
pub mod postgres;
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
    /// Not a write but the condition of its request: the writer holds `code`'s lease with
    /// this fencing number. Refused ([`StorageError::Fenced`]) once a newer owner exists.
    Fence {
        /// The session.
        code: String,
        /// The fencing number of the writer's lease.
        fence: u64,
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
    /// Deletes a session for good: its record, snapshot, changes, tokens (and lease), so that
    /// none of its bytes stay behind (the embedded file is rewritten without them). Answers
    /// whether there was one.
    fn delete(&self, code: &str) -> Result<bool, StorageError>;
    /// The records several nodes share, if this backend can be shared (the embedded file
    /// cannot).
    fn cluster(&self) -> Option<&dyn Cluster> {
        None
    }
}

/// The node that holds a session's lease.
#[derive(Debug, Clone, PartialEq)]
pub struct Owner {
    /// Its id (new each time a node starts).
    pub node: String,
    /// Where the other nodes reach it, `host:port`.
    pub addr: String,
    /// The lease's fencing number.
    pub fence: u64,
    /// How long the lease runs unless renewed.
    pub expires_in: Duration,
}

/// The answer to a claim of a session's lease.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The lease is the claimer's, with this fencing number. `took_over`: another node held
    /// it and let it expire without releasing it.
    Won {
        /// The new fencing number.
        fence: u64,
        /// Whether it was taken from a node that did not release it.
        took_over: bool,
    },
    /// Another node holds a live lease.
    Held(Owner),
    /// There is no session with this code.
    NoSession,
}

/// What several nodes share through the database: who owns each live session, the count of
/// wrong codes per address, and the secret a node shows when it forwards a connection.
pub trait Cluster: Send + Sync {
    /// Takes `code`'s lease for `node` (reached at `addr`) for `ttl`, if nobody else holds a
    /// live one; a node that holds it already takes it anew, with a new fencing number.
    fn claim(
        &self,
        code: &str,
        node: &str,
        addr: &str,
        ttl: Duration,
    ) -> Result<Claim, StorageError>;
    /// Extends the leases `node` holds (code and fence) by `ttl`; returns the codes whose
    /// lease is still `node`'s (a missing one was taken by a newer owner).
    fn renew(
        &self,
        node: &str,
        held: &[(String, u64)],
        ttl: Duration,
    ) -> Result<Vec<String>, StorageError>;
    /// Gives a lease up (only if `fence` is still the current one): the next claim wins.
    fn release(&self, code: &str, fence: u64) -> Result<(), StorageError>;
    /// The live leases of these sessions.
    fn owners(&self, codes: &[String]) -> Result<Vec<(String, Owner)>, StorageError>;
    /// Counts a wrong code or token from `addr` in the current window of `window`; returns
    /// the failures in it so far (every node's) and how long the window still runs.
    fn wrong_attempt(&self, addr: &str, window: Duration) -> Result<(u32, Duration), StorageError>;
    /// The nodes' shared secret: `proposal` if none was set yet, else the one set first.
    fn secret(&self, proposal: &str) -> Result<String, StorageError>;
}

/// A session's lease as a write sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    /// Never leased: unfenced writes apply (one node, or a session not yet opened).
    Never,
    /// Held with this fencing number.
    Held(u64),
    /// Released (or never renewed and then taken over): no write applies until a new claim.
    Released,
}

/// Checks a request against what a session has: the writer's fence is the session's lease
/// (or neither has one), every change past its snapshot and not yet taken, snapshots never
/// older. `lease` tells a session's lease; `taken` whether a change's sequence number is
/// stored (by this request's earlier writes too); `upto` is the session's snapshot's last
/// change, or `None` when the session does not exist. Backends call this inside their
/// transaction.
pub fn check_request(
    writes: &[Write],
    mut lease: impl FnMut(&str) -> Result<LeaseState, StorageError>,
    mut upto: impl FnMut(&str) -> Result<Option<u64>, StorageError>,
    mut taken: impl FnMut(&str, u64) -> Result<bool, StorageError>,
) -> Result<(), StorageError> {
    let mut seen: Vec<(&str, u64)> = Vec::new();
    let mut fenced: Vec<&str> = Vec::new();
    for w in writes {
        let code = w.code();
        if fenced.contains(&code) {
            continue;
        }
        fenced.push(code);
        let carried = writes.iter().find_map(|w| match w {
            Write::Fence { code: c, fence } if c == code => Some(*fence),
            _ => None,
        });
        match (lease(code)?, carried) {
            (LeaseState::Never, None) => {}
            (LeaseState::Held(held), Some(fence)) if held == fence => {}
            (state, carried) => {
                return Err(StorageError::Fenced(format!(
                    "{code}: the write carries {carried:?}, the lease is {state:?}"
                )));
            }
        }
    }
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
            Write::Snapshot { .. } | Write::Token { .. } | Write::Fence { .. } => {}
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
            | Write::Snapshot { code, .. }
            | Write::Fence { code, .. } => code,
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
        self.submit(writes).await
    }

    /// Hands the writes to the writer thread now; the future resolves once they are on disk.
    /// A room keeps working while it waits, and the writes of requests handed over in order
    /// are committed in that order.
    pub fn submit(
        &self,
        writes: Vec<Write>,
    ) -> impl Future<Output = Result<(), StorageError>> + Send + 'static {
        let (done, wait) = oneshot::channel();
        let sent = self.writer.send(WriteRequest { writes, done });
        async move {
            sent.map_err(|_| StorageError::Closed)?;
            wait.await.map_err(|_| StorageError::Closed)?
        }
    }

    /// Runs `f` on the backend, off the async workers.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Backend) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        let backend = self.backend.clone();
        tokio::task::spawn_blocking(move || f(&*backend))
            .await
            .map_err(|e| StorageError::Db(e.to_string()))?
    }

    /// Creates a session durably.
    pub async fn create(&self, session: NewSession) -> Result<(), StorageError> {
        self.blocking(move |b| b.create(&session)).await
    }

    /// Reads a session.
    pub async fn load(&self, code: &str) -> Result<Option<StoredSession>, StorageError> {
        self.stats
            .loads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let code = code.to_owned();
        self.blocking(move |b| b.load(&code)).await
    }

    /// The codes of every stored session.
    pub async fn list(&self) -> Result<Vec<String>, StorageError> {
        self.blocking(|b| b.list()).await
    }

    /// Deletes a session for good (see [`Backend::delete`]); whether there was one.
    pub async fn delete(&self, code: &str) -> Result<bool, StorageError> {
        let code = code.to_owned();
        self.blocking(move |b| b.delete(&code)).await
    }

    /// Whether several nodes share this storage (it keeps leases).
    pub fn is_shared(&self) -> bool {
        self.backend.cluster().is_some()
    }

    /// Runs `f` on the records the nodes share, off the async workers.
    pub async fn cluster<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Cluster) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        self.blocking(|b| match b.cluster() {
            Some(cluster) => f(cluster),
            None => Err(StorageError::Db(
                "this storage is not shared by nodes".into(),
            )),
        })
        .await
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
        // A fenced request is a node that lost its lease finding out, not a storage failure.
        let fenced = results
            .iter()
            .filter(|r| matches!(r, Err(StorageError::Fenced(_))))
            .count();
        stats.commits.fetch_add(1, Relaxed);
        stats.requests.fetch_add(batch.len() as u64, Relaxed);
        stats
            .commit_micros
            .fetch_add(took.as_micros() as u64, Relaxed);
        crate::metrics::storage_flushed(took, batch.len(), failed == fenced);
        let failure = results.iter().find(|r| {
            r.as_ref()
                .is_err_and(|e| !matches!(e, StorageError::Fenced(_)))
        });
        if let Some(Err(e)) = failure {
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

        // A session nobody leased takes no fenced write.
        if backend.cluster().is_none() {
            let fenced = one(backend, vec![fence("BBBBBB", 1), changes("BBBBBB", 2, 2)]);
            assert!(matches!(fenced, Err(StorageError::Fenced(_))), "{fenced:?}");
        }

        // Deleted for good: gone from loading and listing, its writes refused, the others kept.
        assert!(backend.delete("AAAAAA").unwrap());
        assert!(backend.load("AAAAAA").unwrap().is_none());
        assert_eq!(backend.list().unwrap(), ["BBBBBB"]);
        assert!(!backend.delete("AAAAAA").unwrap(), "nothing left to delete");
        assert!(matches!(
            one(backend, vec![changes("AAAAAA", 9, 9)]),
            Err(StorageError::UnknownSession(_))
        ));
        assert_eq!(
            backend.load("BBBBBB").unwrap().unwrap().changes,
            vec![(1, vec![1])]
        );
        // Its code may be given to a new session, which starts empty.
        backend.create(&new_session("AAAAAA")).unwrap();
        let fresh = backend.load("AAAAAA").unwrap().unwrap();
        assert!(fresh.changes.is_empty() && fresh.snapshot_upto == 0);
        assert_eq!(fresh.tokens.len(), new_session("AAAAAA").tokens.len());
        assert!(backend.delete("AAAAAA").unwrap());
    }

    fn fence(code: &str, fence: u64) -> Write {
        Write::Fence {
            code: code.into(),
            fence,
        }
    }

    const LONG: Duration = Duration::from_secs(600);

    fn won(claim: Claim) -> (u64, bool) {
        match claim {
            Claim::Won { fence, took_over } => (fence, took_over),
            other => panic!("not won: {other:?}"),
        }
    }

    /// Leases, fences, the shared count of wrong codes and the secret: what a backend that
    /// several nodes share must keep.
    pub fn check_cluster(backend: &dyn Backend) {
        let c = backend.cluster().expect("a shared backend");
        assert_eq!(
            c.claim("LLLLLL", "n1", "a1", LONG).unwrap(),
            Claim::NoSession
        );
        backend.create(&new_session("LLLLLL")).unwrap();
        backend.create(&new_session("MMMMMM")).unwrap();

        // One owner at a time; the others learn who it is.
        let (f1, took) = won(c.claim("LLLLLL", "n1", "a1", LONG).unwrap());
        assert!(!took);
        match c.claim("LLLLLL", "n2", "a2", LONG).unwrap() {
            Claim::Held(owner) => {
                assert_eq!((owner.node.as_str(), owner.addr.as_str()), ("n1", "a1"));
                assert_eq!(owner.fence, f1);
                assert!(owner.expires_in > Duration::from_secs(500), "{owner:?}");
            }
            other => panic!("n2 got {other:?}"),
        }
        let owners = c.owners(&["LLLLLL".into(), "MMMMMM".into()]).unwrap();
        assert_eq!(owners.len(), 1);
        assert_eq!((owners[0].0.as_str(), owners[0].1.fence), ("LLLLLL", f1));

        // A leased session takes only writes under its current fence.
        let unfenced = one(backend, vec![changes("LLLLLL", 1, 1)]);
        assert!(
            matches!(unfenced, Err(StorageError::Fenced(_))),
            "{unfenced:?}"
        );
        let wrong = one(
            backend,
            vec![fence("LLLLLL", f1 + 1), changes("LLLLLL", 1, 1)],
        );
        assert!(matches!(wrong, Err(StorageError::Fenced(_))), "{wrong:?}");
        one(backend, vec![fence("LLLLLL", f1), changes("LLLLLL", 1, 1)]).unwrap();
        assert_eq!(
            c.renew("n1", &[("LLLLLL".into(), f1)], LONG).unwrap(),
            ["LLLLLL"]
        );

        // The same node claiming again is a new owner: the old fence no longer writes.
        let (f2, _) = won(c.claim("LLLLLL", "n1", "a1", LONG).unwrap());
        assert!(f2 > f1);
        let stale = one(backend, vec![fence("LLLLLL", f1), changes("LLLLLL", 2, 2)]);
        assert!(matches!(stale, Err(StorageError::Fenced(_))), "{stale:?}");

        // A lease that runs out is taken over; its old holder can neither write nor renew.
        let (f3, _) = won(c.claim("LLLLLL", "n1", "a1", Duration::ZERO).unwrap());
        let (f4, took) = won(c.claim("LLLLLL", "n2", "a2", LONG).unwrap());
        assert!(took && f4 > f3, "taken over from n1");
        assert!(
            c.renew("n1", &[("LLLLLL".into(), f3)], LONG)
                .unwrap()
                .is_empty()
        );
        let results = backend.commit(&[
            vec![fence("LLLLLL", f3), changes("LLLLLL", 2, 2)],
            vec![
                fence("LLLLLL", f4),
                changes("LLLLLL", 2, 3),
                snapshot("LLLLLL", 1),
            ],
        ]);
        assert!(
            matches!(results[0], Err(StorageError::Fenced(_))),
            "{results:?}"
        );
        assert!(results[1].is_ok(), "{results:?}");
        let s = backend.load("LLLLLL").unwrap().unwrap();
        assert_eq!(s.changes, vec![(2, vec![3])], "only the new owner's change");

        // Released: nobody writes until the next claim, which is no takeover.
        c.release("LLLLLL", f3).unwrap(); // not the current fence: nothing happens
        assert_eq!(c.owners(&["LLLLLL".into()]).unwrap().len(), 1);
        c.release("LLLLLL", f4).unwrap();
        assert!(c.owners(&["LLLLLL".into()]).unwrap().is_empty());
        let released = one(backend, vec![fence("LLLLLL", f4), changes("LLLLLL", 3, 3)]);
        assert!(
            matches!(released, Err(StorageError::Fenced(_))),
            "{released:?}"
        );
        let (f5, took) = won(c.claim("LLLLLL", "n1", "a1", LONG).unwrap());
        assert!(!took && f5 > f4);

        // Wrong codes count across nodes within a window.
        let window = Duration::from_secs(60);
        assert_eq!(c.wrong_attempt("10.0.0.1", window).unwrap().0, 1);
        let (n, left) = c.wrong_attempt("10.0.0.1", window).unwrap();
        assert_eq!(n, 2);
        assert!(left <= window && left > Duration::from_secs(50), "{left:?}");
        assert_eq!(c.wrong_attempt("10.0.0.2", window).unwrap().0, 1);
        assert_eq!(c.wrong_attempt("10.0.0.1", Duration::ZERO).unwrap().0, 1);

        assert_eq!(c.secret("first").unwrap(), "first");
        assert_eq!(c.secret("second").unwrap(), "first");
    }

    fn snapshot(code: &str, upto: u64) -> Write {
        Write::Snapshot {
            code: code.into(),
            bytes: vec![upto as u8],
            upto,
        }
    }
}

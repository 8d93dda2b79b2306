//! The embedded backend: one [redb](https://docs.rs/redb) file in the data directory.
//!
//! redb is a pure-Rust, ACID key-value store: a commit with immediate durability is fsync'd
//! before it returns, it needs no server and no C toolchain, and its file is crash-safe. Tables:
//!
//! | table | key | value |
//! |---|---|---|
//! | `meta` | code | JSON [`SessionMeta`] |
//! | `snapshots` | code | (last change included, automerge bytes) |
//! | `changes` | (code, seq) | automerge bytes of the changes of one batch |
//! | `tokens` | (code, BLAKE3 hash of the token) | JSON [`TokenGrant`] |

use super::{Backend, NewSession, SessionMeta, StoredSession, TokenGrant, Write};
use crate::error::StorageError;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::{Path, PathBuf};
use std::sync::{RwLock, RwLockReadGuard};

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const SNAPSHOTS: TableDefinition<&str, (u64, &[u8])> = TableDefinition::new("snapshots");
const CHANGES: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("changes");
const TOKENS: TableDefinition<(&str, &[u8]), &[u8]> = TableDefinition::new("tokens");

/// A redb database file.
pub struct RedbBackend {
    /// Shared by every read and write; taken alone only to rewrite the file after a deletion,
    /// or to open it again after an I/O error (`None` until that works: redb refuses every
    /// operation after one, and nothing may be acknowledged that is not in the file).
    db: RwLock<Option<Database>>,
    path: PathBuf,
}

fn db_err(e: impl std::fmt::Display) -> StorageError {
    StorageError::Db(e.to_string())
}

impl RedbBackend {
    /// Opens (or creates) the database file at `path`, creating its tables.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        // A rewrite that did not finish (the server stopped mid-way) leaves its new file.
        let _ = std::fs::remove_file(rewrite_path(path));
        let db = Self::open_file(path)?;
        Ok(Self {
            db: RwLock::new(Some(db)),
            path: path.to_owned(),
        })
    }

    fn open_file(path: &Path) -> Result<Database, StorageError> {
        let db = Database::create(path).map_err(db_err)?;
        let tx = db.begin_write().map_err(db_err)?;
        tx.open_table(META).map_err(db_err)?;
        tx.open_table(SNAPSHOTS).map_err(db_err)?;
        tx.open_table(CHANGES).map_err(db_err)?;
        tx.open_table(TOKENS).map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        Ok(db)
    }

    /// Runs `f` on the open database, opening the file again first if an I/O error closed
    /// it. A failure of `f` closes it (the next call opens it again): after a full or
    /// read-only disk, Tafel carries on by itself once the disk is writable.
    fn with_db<T>(
        &self,
        f: impl Fn(&Database) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let result = {
            let guard: RwLockReadGuard<'_, Option<Database>> =
                self.db.read().unwrap_or_else(|e| e.into_inner());
            guard.as_ref().map(&f)
        };
        let result = match result {
            Some(result) => result,
            None => {
                let mut db = self.db.write().unwrap_or_else(|e| e.into_inner());
                if db.is_none() {
                    *db = Some(Self::open_file(&self.path)?);
                    tracing::info!("the database file is open again");
                }
                f(db.as_ref().expect("just opened"))
            }
        };
        if let Err(StorageError::Db(e)) = &result {
            tracing::warn!(error = %e, "closing the database file; it is opened again on the next request");
            *self.db.write().unwrap_or_else(|e| e.into_inner()) = None;
        }
        result
    }

    /// Rewrites the file with only what it holds now: freed pages of a B-tree keep their old
    /// bytes until reused, so after a deletion the data is copied into a new file, synced, and
    /// renamed over the old one (atomic: a crash leaves the old file or the new one).
    fn rewrite(&self) -> Result<(), StorageError> {
        let mut db = self.db.write().unwrap_or_else(|e| e.into_inner());
        let new_path = rewrite_path(&self.path);
        let _ = std::fs::remove_file(&new_path);
        if db.is_none() {
            *db = Some(Self::open_file(&self.path)?);
        }
        {
            let fresh = Self::open_file(&new_path)?;
            let read = db.as_ref().expect("open").begin_read().map_err(db_err)?;
            let write = fresh.begin_write().map_err(db_err)?;
            copy(&read, &write, META)?;
            copy(&read, &write, SNAPSHOTS)?;
            copy(&read, &write, CHANGES)?;
            copy(&read, &write, TOKENS)?;
            write.commit().map_err(db_err)?;
        }
        // Only now is the old file let go: until the rename, it is the database.
        *db = None;
        let renamed = std::fs::rename(&new_path, &self.path).map_err(db_err);
        if let Some(dir) = self.path.parent()
            && let Ok(dir) = std::fs::File::open(dir)
        {
            let _ = dir.sync_all();
        }
        // Opened again whether or not the rename worked: the old file is whole either way.
        *db = Some(Self::open_file(&self.path)?);
        renamed
    }
}

/// Where a rewrite puts its new file.
fn rewrite_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".rewrite");
    PathBuf::from(name)
}

/// Copies every entry of one table.
fn copy<K: redb::Key + 'static, V: redb::Value + 'static>(
    read: &redb::ReadTransaction,
    write: &redb::WriteTransaction,
    table: TableDefinition<K, V>,
) -> Result<(), StorageError> {
    let from = read.open_table(table).map_err(db_err)?;
    let mut to = write.open_table(table).map_err(db_err)?;
    for entry in from.iter().map_err(db_err)? {
        let (k, v) = entry.map_err(db_err)?;
        to.insert(k.value(), v.value()).map_err(db_err)?;
    }
    Ok(())
}

fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("plain structs serialize")
}

fn from_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StorageError> {
    serde_json::from_slice(bytes).map_err(|e| StorageError::Corrupt(e.to_string()))
}

impl RedbBackend {
    /// One transaction for every request: each is checked against what the transaction holds
    /// so far (earlier requests included), and applied only if the whole of it passes.
    fn commit_all(
        &self,
        requests: &[Vec<Write>],
    ) -> Result<Vec<Result<(), StorageError>>, StorageError> {
        self.with_db(|db| Self::commit_in(db, requests))
    }

    fn commit_in(
        db: &Database,
        requests: &[Vec<Write>],
    ) -> Result<Vec<Result<(), StorageError>>, StorageError> {
        let tx = db.begin_write().map_err(db_err)?;
        let mut results = Vec::with_capacity(requests.len());
        {
            let meta = tx.open_table(META).map_err(db_err)?;
            let mut changes = tx.open_table(CHANGES).map_err(db_err)?;
            let mut tokens = tx.open_table(TOKENS).map_err(db_err)?;
            let mut snapshots = tx.open_table(SNAPSHOTS).map_err(db_err)?;
            for writes in requests {
                // One node: no session ever has a lease, and a fenced request is refused.
                let checked = super::check_request(
                    writes,
                    |_| Ok(super::LeaseState::Never),
                    |code| {
                        if meta.get(code).map_err(db_err)?.is_none() {
                            return Ok(None);
                        }
                        Ok(Some(
                            snapshots
                                .get(code)
                                .map_err(db_err)?
                                .map_or(0, |v| v.value().0),
                        ))
                    },
                    |code, seq| Ok(changes.get((code, seq)).map_err(db_err)?.is_some()),
                );
                if let Err(e) = checked {
                    results.push(Err(e));
                    continue;
                }
                for w in writes {
                    match w {
                        Write::Changes { code, seq, bytes } => {
                            changes
                                .insert((code.as_str(), *seq), bytes.as_slice())
                                .map_err(db_err)?;
                        }
                        Write::Token { code, hash, grant } => {
                            tokens
                                .insert((code.as_str(), hash.as_slice()), to_json(grant).as_slice())
                                .map_err(db_err)?;
                        }
                        Write::Snapshot { code, bytes, upto } => {
                            snapshots
                                .insert(code.as_str(), (*upto, bytes.as_slice()))
                                .map_err(db_err)?;
                            changes
                                .retain_in((code.as_str(), 0)..=(code.as_str(), *upto), |_, _| {
                                    false
                                })
                                .map_err(db_err)?;
                        }
                        Write::Fence { .. } => {}
                    }
                }
                results.push(Ok(()));
            }
        }
        tx.commit().map_err(db_err)?;
        Ok(results)
    }
}

impl Backend for RedbBackend {
    fn create(&self, s: &NewSession) -> Result<(), StorageError> {
        self.with_db(|db| Self::create_in(db, s))
    }

    fn commit(&self, requests: &[Vec<Write>]) -> Vec<Result<(), StorageError>> {
        match self.commit_all(requests) {
            Ok(results) => results,
            Err(e) => requests.iter().map(|_| Err(e.clone())).collect(),
        }
    }

    fn delete(&self, code: &str) -> Result<bool, StorageError> {
        let existed = self.with_db(|db| Self::delete_in(db, code))?;
        if existed {
            self.rewrite()?;
        }
        Ok(existed)
    }

    fn list(&self) -> Result<Vec<String>, StorageError> {
        self.with_db(Self::list_in)
    }

    fn load(&self, code: &str) -> Result<Option<StoredSession>, StorageError> {
        self.with_db(|db| Self::load_in(db, code))
    }
}

impl RedbBackend {
    fn create_in(db: &Database, s: &NewSession) -> Result<(), StorageError> {
        let tx = db.begin_write().map_err(db_err)?;
        {
            let mut meta = tx.open_table(META).map_err(db_err)?;
            if meta.get(s.code.as_str()).map_err(db_err)?.is_some() {
                return Err(StorageError::Conflict(format!("session code {}", s.code)));
            }
            meta.insert(s.code.as_str(), to_json(&s.meta).as_slice())
                .map_err(db_err)?;
            let mut snapshots = tx.open_table(SNAPSHOTS).map_err(db_err)?;
            snapshots
                .insert(s.code.as_str(), (0, s.snapshot.as_slice()))
                .map_err(db_err)?;
            let mut tokens = tx.open_table(TOKENS).map_err(db_err)?;
            for (hash, grant) in &s.tokens {
                tokens
                    .insert(
                        (s.code.as_str(), hash.as_slice()),
                        to_json(grant).as_slice(),
                    )
                    .map_err(db_err)?;
            }
        }
        tx.commit().map_err(db_err)
    }

    fn delete_in(db: &Database, code: &str) -> Result<bool, StorageError> {
        let tx = db.begin_write().map_err(db_err)?;
        let existed = {
            let mut meta = tx.open_table(META).map_err(db_err)?;
            let existed = meta.remove(code).map_err(db_err)?.is_some();
            tx.open_table(SNAPSHOTS)
                .map_err(db_err)?
                .remove(code)
                .map_err(db_err)?;
            tx.open_table(CHANGES)
                .map_err(db_err)?
                .retain_in((code, 0)..=(code, u64::MAX), |_, _| false)
                .map_err(db_err)?;
            let empty: &[u8] = &[];
            let full: &[u8] = &[0xff; 33];
            tx.open_table(TOKENS)
                .map_err(db_err)?
                .retain_in((code, empty)..(code, full), |_, _| false)
                .map_err(db_err)?;
            existed
        };
        tx.commit().map_err(db_err)?;
        Ok(existed)
    }

    fn list_in(db: &Database) -> Result<Vec<String>, StorageError> {
        let tx = db.begin_read().map_err(db_err)?;
        let meta = tx.open_table(META).map_err(db_err)?;
        let mut codes = Vec::new();
        for entry in meta.iter().map_err(db_err)? {
            codes.push(entry.map_err(db_err)?.0.value().to_owned());
        }
        Ok(codes)
    }

    fn load_in(db: &Database, code: &str) -> Result<Option<StoredSession>, StorageError> {
        let tx = db.begin_read().map_err(db_err)?;
        let meta = tx.open_table(META).map_err(db_err)?;
        let Some(raw_meta) = meta.get(code).map_err(db_err)? else {
            return Ok(None);
        };
        let meta: SessionMeta = from_json(raw_meta.value())?;
        let snapshots = tx.open_table(SNAPSHOTS).map_err(db_err)?;
        let (snapshot_upto, snapshot) = match snapshots.get(code).map_err(db_err)? {
            Some(v) => {
                let (upto, bytes) = v.value();
                (upto, bytes.to_vec())
            }
            None => (0, Vec::new()),
        };
        let changes_table = tx.open_table(CHANGES).map_err(db_err)?;
        let mut changes = Vec::new();
        for entry in changes_table
            .range((code, 0)..=(code, u64::MAX))
            .map_err(db_err)?
        {
            let (k, v) = entry.map_err(db_err)?;
            changes.push((k.value().1, v.value().to_vec()));
        }
        let tokens_table = tx.open_table(TOKENS).map_err(db_err)?;
        let mut tokens = Vec::new();
        let empty: &[u8] = &[];
        let full: &[u8] = &[0xff; 33];
        for entry in tokens_table
            .range((code, empty)..(code, full))
            .map_err(db_err)?
        {
            let (k, v) = entry.map_err(db_err)?;
            let hash: [u8; 32] = k
                .value()
                .1
                .try_into()
                .map_err(|_| StorageError::Corrupt("token hash length".into()))?;
            tokens.push((hash, from_json::<TokenGrant>(v.value())?));
        }
        Ok(Some(StoredSession {
            meta: Some(meta),
            snapshot,
            snapshot_upto,
            changes,
            tokens,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_backend_contract() {
        let dir = tempfile::tempdir().unwrap();
        super::super::contract::check(&RedbBackend::open(&dir.path().join("t.redb")).unwrap());
    }

    #[test]
    fn survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.redb");
        {
            let b = RedbBackend::open(&path).unwrap();
            b.create(&super::super::contract::new_session("CCCCCC"))
                .unwrap();
            let results = b.commit(&[vec![Write::Changes {
                code: "CCCCCC".into(),
                seq: 1,
                bytes: vec![42],
            }]]);
            assert!(results[0].is_ok());
        }
        let b = RedbBackend::open(&path).unwrap();
        assert_eq!(
            b.load("CCCCCC").unwrap().unwrap().changes,
            vec![(1, vec![42])]
        );
    }

    #[test]
    fn a_deleted_session_leaves_none_of_its_bytes_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.redb");
        let b = RedbBackend::open(&path).unwrap();
        let marker = b"ONLY-IN-DDDDDD-ONLY-IN-DDDDDD".repeat(100);
        for code in ["DDDDDD", "EEEEEE"] {
            b.create(&super::super::contract::new_session(code))
                .unwrap();
            let bytes = if code == "DDDDDD" {
                marker.clone()
            } else {
                vec![7; 10]
            };
            assert!(
                b.commit(&[vec![Write::Changes {
                    code: code.into(),
                    seq: 1,
                    bytes
                }]])[0]
                    .is_ok()
            );
        }
        let file = || std::fs::read(&path).unwrap();
        let holds = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
        assert!(holds(&file(), &marker[..29]));
        assert!(b.delete("DDDDDD").unwrap());
        assert!(
            !holds(&file(), &marker[..29]),
            "the file still holds the session's bytes"
        );
        assert!(!holds(&file(), b"DDDDDD"), "not even its code");
        assert_eq!(
            b.load("EEEEEE").unwrap().unwrap().changes,
            vec![(1, vec![7; 10])]
        );
        assert!(!b.delete("DDDDDD").unwrap());
    }
}

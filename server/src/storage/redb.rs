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
use std::path::Path;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const SNAPSHOTS: TableDefinition<&str, (u64, &[u8])> = TableDefinition::new("snapshots");
const CHANGES: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("changes");
const TOKENS: TableDefinition<(&str, &[u8]), &[u8]> = TableDefinition::new("tokens");

/// A redb database file.
pub struct RedbBackend {
    db: Database,
}

fn db_err(e: impl std::fmt::Display) -> StorageError {
    StorageError::Db(e.to_string())
}

impl RedbBackend {
    /// Opens (or creates) the database file at `path`, creating its tables.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let db = Database::create(path).map_err(db_err)?;
        let tx = db.begin_write().map_err(db_err)?;
        tx.open_table(META).map_err(db_err)?;
        tx.open_table(SNAPSHOTS).map_err(db_err)?;
        tx.open_table(CHANGES).map_err(db_err)?;
        tx.open_table(TOKENS).map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        Ok(Self { db })
    }
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
        let tx = self.db.begin_write().map_err(db_err)?;
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
        let tx = self.db.begin_write().map_err(db_err)?;
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

    fn commit(&self, requests: &[Vec<Write>]) -> Vec<Result<(), StorageError>> {
        match self.commit_all(requests) {
            Ok(results) => results,
            Err(e) => requests.iter().map(|_| Err(e.clone())).collect(),
        }
    }

    fn list(&self) -> Result<Vec<String>, StorageError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let meta = tx.open_table(META).map_err(db_err)?;
        let mut codes = Vec::new();
        for entry in meta.iter().map_err(db_err)? {
            codes.push(entry.map_err(db_err)?.0.value().to_owned());
        }
        Ok(codes)
    }

    fn load(&self, code: &str) -> Result<Option<StoredSession>, StorageError> {
        let tx = self.db.begin_read().map_err(db_err)?;
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
}

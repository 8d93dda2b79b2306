//! An in-memory [`Backend`] for unit tests. Not durable.

use super::{Backend, NewSession, StoredSession, Write};
use crate::error::StorageError;
use std::collections::HashMap;
use std::sync::Mutex;

/// Sessions kept in a map behind a mutex.
#[derive(Default)]
pub struct MemoryBackend {
    sessions: Mutex<HashMap<String, StoredSession>>,
}

impl Backend for MemoryBackend {
    fn create(&self, s: &NewSession) -> Result<(), StorageError> {
        let mut sessions = self.sessions.lock().expect("poisoned");
        if sessions.contains_key(&s.code) {
            return Err(StorageError::Conflict(format!("session code {}", s.code)));
        }
        let stored = StoredSession {
            meta: Some(s.meta.clone()),
            snapshot: s.snapshot.clone(),
            tokens: s.tokens.clone(),
            ..Default::default()
        };
        sessions.insert(s.code.clone(), stored);
        Ok(())
    }

    fn commit(&self, requests: &[Vec<Write>]) -> Vec<Result<(), StorageError>> {
        let mut sessions = self.sessions.lock().expect("poisoned");
        let mut results = Vec::with_capacity(requests.len());
        for writes in requests {
            let checked = super::check_request(
                writes,
                |code| Ok(sessions.get(code).map(|s| s.snapshot_upto)),
                |code, seq| Ok(sessions[code].changes.iter().any(|(n, _)| *n == seq)),
            );
            if let Err(e) = checked {
                results.push(Err(e));
                continue;
            }
            for w in writes {
                let s = sessions.get_mut(w.code()).expect("checked above");
                match w {
                    Write::Changes { seq, bytes, .. } => s.changes.push((*seq, bytes.clone())),
                    Write::Token { hash, grant, .. } => s.tokens.push((*hash, grant.clone())),
                    Write::Snapshot { bytes, upto, .. } => {
                        s.snapshot = bytes.clone();
                        s.snapshot_upto = *upto;
                        s.changes.retain(|(seq, _)| seq > upto);
                    }
                }
            }
            results.push(Ok(()));
        }
        results
    }

    fn list(&self) -> Result<Vec<String>, StorageError> {
        Ok(self
            .sessions
            .lock()
            .expect("poisoned")
            .keys()
            .cloned()
            .collect())
    }

    fn load(&self, code: &str) -> Result<Option<StoredSession>, StorageError> {
        Ok(self.sessions.lock().expect("poisoned").get(code).cloned())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_backend_contract() {
        super::super::contract::check(&super::MemoryBackend::default());
    }
}

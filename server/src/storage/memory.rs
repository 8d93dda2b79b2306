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
            return Err(StorageError::Conflict);
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

    fn commit(&self, writes: &[Write]) -> Result<(), StorageError> {
        let mut sessions = self.sessions.lock().expect("poisoned");
        for w in writes {
            match w {
                Write::Changes { code, seq, bytes } => sessions
                    .entry(code.clone())
                    .or_default()
                    .changes
                    .push((*seq, bytes.clone())),
                Write::Token { code, hash, grant } => sessions
                    .entry(code.clone())
                    .or_default()
                    .tokens
                    .push((*hash, grant.clone())),
                Write::Snapshot { code, bytes, upto } => {
                    let s = sessions.entry(code.clone()).or_default();
                    s.snapshot = bytes.clone();
                    s.snapshot_upto = *upto;
                    s.changes.retain(|(seq, _)| seq > upto);
                }
            }
        }
        Ok(())
    }

    fn load(&self, code: &str) -> Result<Option<StoredSession>, StorageError> {
        Ok(self
            .sessions
            .lock()
            .expect("poisoned")
            .get(code)
            .filter(|s| s.meta.is_some())
            .cloned())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_backend_contract() {
        super::super::contract::check(&super::MemoryBackend::default());
    }
}

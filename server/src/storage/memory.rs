//! An in-memory [`Backend`] for unit tests, with [`Cluster`] records on tokio's clock (so a
//! test can pause it and let a lease expire). Not durable.

use super::{Backend, Claim, Cluster, LeaseState, NewSession, Owner, StoredSession, Write};
use crate::error::StorageError;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Sessions kept in a map behind a mutex.
#[derive(Default)]
pub struct MemoryBackend {
    sessions: Mutex<HashMap<String, StoredSession>>,
    shared: Mutex<Shared>,
}

#[derive(Default)]
struct Shared {
    leases: HashMap<String, Lease>,
    wrong: HashMap<String, (Instant, u32)>,
    secret: Option<String>,
}

struct Lease {
    /// Empty once released.
    node: String,
    addr: String,
    fence: u64,
    expires: Instant,
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
        let shared = self.shared.lock().expect("poisoned");
        let mut results = Vec::with_capacity(requests.len());
        for writes in requests {
            let checked = super::check_request(
                writes,
                |code| {
                    Ok(match shared.leases.get(code) {
                        None => LeaseState::Never,
                        Some(l) if l.node.is_empty() => LeaseState::Released,
                        Some(l) => LeaseState::Held(l.fence),
                    })
                },
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
                    Write::Fence { .. } => {}
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

    fn delete(&self, code: &str) -> Result<bool, StorageError> {
        self.shared.lock().expect("poisoned").leases.remove(code);
        Ok(self
            .sessions
            .lock()
            .expect("poisoned")
            .remove(code)
            .is_some())
    }

    fn cluster(&self) -> Option<&dyn Cluster> {
        Some(self)
    }
}

impl Cluster for MemoryBackend {
    fn claim(
        &self,
        code: &str,
        node: &str,
        addr: &str,
        ttl: Duration,
    ) -> Result<Claim, StorageError> {
        if !self.sessions.lock().expect("poisoned").contains_key(code) {
            return Ok(Claim::NoSession);
        }
        let mut shared = self.shared.lock().expect("poisoned");
        let now = Instant::now();
        let lease = shared.leases.entry(code.to_owned()).or_insert(Lease {
            node: String::new(),
            addr: String::new(),
            fence: 0,
            expires: now,
        });
        let live = lease.expires > now && !lease.node.is_empty();
        if live && lease.node != node {
            return Ok(Claim::Held(Owner {
                node: lease.node.clone(),
                addr: lease.addr.clone(),
                fence: lease.fence,
                expires_in: lease.expires - now,
            }));
        }
        let took_over = !live && !lease.node.is_empty() && lease.node != node;
        *lease = Lease {
            node: node.to_owned(),
            addr: addr.to_owned(),
            fence: lease.fence + 1,
            expires: now + ttl,
        };
        Ok(Claim::Won {
            fence: lease.fence,
            took_over,
        })
    }

    fn renew(
        &self,
        node: &str,
        held: &[(String, u64)],
        ttl: Duration,
    ) -> Result<Vec<String>, StorageError> {
        let mut shared = self.shared.lock().expect("poisoned");
        let now = Instant::now();
        let mut kept = Vec::new();
        for (code, fence) in held {
            if let Some(l) = shared.leases.get_mut(code)
                && l.node == node
                && l.fence == *fence
            {
                l.expires = now + ttl;
                kept.push(code.clone());
            }
        }
        Ok(kept)
    }

    fn release(&self, code: &str, fence: u64) -> Result<(), StorageError> {
        let mut shared = self.shared.lock().expect("poisoned");
        if let Some(l) = shared.leases.get_mut(code)
            && l.fence == fence
        {
            l.node.clear();
            l.addr.clear();
            l.expires = Instant::now();
        }
        Ok(())
    }

    fn owners(&self, codes: &[String]) -> Result<Vec<(String, Owner)>, StorageError> {
        let shared = self.shared.lock().expect("poisoned");
        let now = Instant::now();
        Ok(codes
            .iter()
            .filter_map(|code| {
                let l = shared.leases.get(code)?;
                (l.expires > now && !l.node.is_empty()).then(|| {
                    let owner = Owner {
                        node: l.node.clone(),
                        addr: l.addr.clone(),
                        fence: l.fence,
                        expires_in: l.expires - now,
                    };
                    (code.clone(), owner)
                })
            })
            .collect())
    }

    fn wrong_attempt(&self, addr: &str, window: Duration) -> Result<(u32, Duration), StorageError> {
        let mut shared = self.shared.lock().expect("poisoned");
        let now = Instant::now();
        let entry = shared.wrong.entry(addr.to_owned()).or_insert((now, 0));
        if now >= entry.0 + window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        Ok((entry.1, entry.0 + window - now))
    }

    fn secret(&self, proposal: &str) -> Result<String, StorageError> {
        let mut shared = self.shared.lock().expect("poisoned");
        Ok(shared
            .secret
            .get_or_insert_with(|| proposal.to_owned())
            .clone())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_backend_contract() {
        super::super::contract::check(&super::MemoryBackend::default());
    }

    #[test]
    fn keeps_the_cluster_contract() {
        super::super::contract::check_cluster(&super::MemoryBackend::default());
    }
}

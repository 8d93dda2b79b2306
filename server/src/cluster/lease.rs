//! The leases this node holds, renewed in the background.
//!
//! A room claims its session's lease before it loads (through [`Keeper::claim`]) and holds a
//! [`Lease`] while it runs: the fencing number its writes carry, and a token cancelled when
//! the lease is lost. Every third of the lease time the keeper renews all of them in one
//! statement; a lease the database no longer gives back was taken by a newer owner, and its
//! room stops (its writes would be refused anyway). If renewing fails for a whole lease time,
//! every room stops: another node may own them by now. The same pass looks up the owners of
//! the rooms this node forwards phones to, and closes the forwarded connections of a room that
//! moved or whose owner stopped renewing, so those phones resume at the new owner.

use super::Node;
use crate::error::StorageError;
use crate::storage::{Claim, Owner, Storage};
use dashmap::DashMap;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// This node's leases and the rooms it forwards phones to.
pub struct Keeper {
    node: Node,
    storage: Storage,
    /// Code → the lease held and the token its room watches.
    held: DashMap<String, (u64, CancellationToken)>,
    /// Forwarded connection → the room, the owner's fence it was forwarded under, and the
    /// token its connection watches.
    watched: DashMap<u64, (String, u64, CancellationToken)>,
    next_watch: AtomicU64,
}

/// The outcome of a claim.
pub enum Claimed {
    /// This node owns the session now.
    Won(Lease),
    /// Another node does.
    Held(Owner),
    /// There is no such session.
    NoSession,
}

/// A lease this node holds, for as long as its room runs.
pub struct Lease {
    keeper: Arc<Keeper>,
    code: String,
    /// The fencing number every write of the room carries.
    pub fence: u64,
    /// Cancelled when the lease is lost.
    pub lost: CancellationToken,
    _held: crate::metrics::HeldLease,
}

impl Lease {
    /// Gives the lease up, so the next node to be asked takes the room at once. Only after
    /// the room's last write: a room that lost its lease has nothing to give up.
    pub async fn release(self) {
        let (code, fence) = (self.code.clone(), self.fence);
        if let Err(e) = self
            .keeper
            .storage
            .cluster(move |c| c.release(&code, fence))
            .await
        {
            tracing::warn!(error = %e, "could not release the lease; it runs out by itself");
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.keeper
            .held
            .remove_if(&self.code, |_, (fence, _)| *fence == self.fence);
    }
}

/// A forwarded connection's watch on its room's owner; dropping it ends the watch.
pub struct Watch {
    keeper: Arc<Keeper>,
    id: u64,
    /// Cancelled when the room moved or its owner stopped renewing.
    pub moved: CancellationToken,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.keeper.watched.remove(&self.id);
    }
}

impl Keeper {
    /// A keeper for `node` over shared `storage`.
    pub fn new(node: Node, storage: Storage) -> Arc<Self> {
        Arc::new(Self {
            node,
            storage,
            held: DashMap::new(),
            watched: DashMap::new(),
            next_watch: AtomicU64::new(1),
        })
    }

    /// This node.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Claims `code`'s lease for this node.
    pub async fn claim(self: &Arc<Self>, code: &str) -> Result<Claimed, StorageError> {
        let (c, node, addr, ttl) = (
            code.to_owned(),
            self.node.id.clone(),
            self.node.addr.clone(),
            self.node.lease,
        );
        let claim = self
            .storage
            .cluster(move |cluster| cluster.claim(&c, &node, &addr, ttl))
            .await?;
        Ok(match claim {
            Claim::Won { fence, took_over } => {
                if took_over {
                    tracing::info!(room = %code, fence, "took over a lease that ran out");
                }
                let lost = CancellationToken::new();
                self.held.insert(code.to_owned(), (fence, lost.clone()));
                Claimed::Won(Lease {
                    keeper: self.clone(),
                    code: code.to_owned(),
                    fence,
                    lost,
                    _held: crate::metrics::lease_won(took_over),
                })
            }
            Claim::Held(owner) => Claimed::Held(owner),
            Claim::NoSession => Claimed::NoSession,
        })
    }

    /// Watches the owner of `code` for a connection forwarded to it under `fence`.
    pub fn watch(self: &Arc<Self>, code: &str, fence: u64) -> Watch {
        let id = self.next_watch.fetch_add(1, Ordering::Relaxed);
        let moved = CancellationToken::new();
        self.watched
            .insert(id, (code.to_owned(), fence, moved.clone()));
        Watch {
            keeper: self.clone(),
            id,
            moved,
        }
    }

    /// Renews and watches until `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let every = self.node.lease / 3;
        let mut renewed_at = Instant::now();
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let started = Instant::now();
            match self.renew().await {
                Ok(()) => renewed_at = started,
                Err(e) if started.duration_since(renewed_at) >= self.node.lease => {
                    tracing::error!(error = %e, "could not renew the leases for a whole lease time; stopping every room");
                    self.lose(|_| true);
                }
                Err(e) => tracing::warn!(error = %e, "could not renew the leases; trying again"),
            }
            if let Err(e) = self.check_watched().await {
                tracing::warn!(error = %e, "could not look up the owners of forwarded rooms");
            }
        }
    }

    /// One renewal of every lease held; the rooms of those not renewed stop.
    async fn renew(&self) -> Result<(), StorageError> {
        let held: Vec<(String, u64)> = self
            .held
            .iter()
            .map(|e| (e.key().clone(), e.value().0))
            .collect();
        if held.is_empty() {
            return Ok(());
        }
        let (node, ttl) = (self.node.id.clone(), self.node.lease);
        let asked = held.clone();
        let kept: HashSet<String> = self
            .storage
            .cluster(move |c| c.renew(&node, &asked, ttl))
            .await?
            .into_iter()
            .collect();
        self.lose(|(code, fence)| {
            !kept.contains(code) && held.iter().any(|(c, f)| c == code && *f == fence)
        });
        Ok(())
    }

    /// Stops the rooms of the leases `which` picks (code and fence).
    fn lose(&self, which: impl Fn((&String, u64)) -> bool) {
        self.held.retain(|code, (fence, lost)| {
            if which((code, *fence)) {
                tracing::warn!(room = %code, fence = *fence, "lost the lease; the room stops");
                crate::metrics::lease_lost();
                lost.cancel();
                false
            } else {
                true
            }
        });
    }

    /// Closes forwarded connections whose room is no longer owned under the fence they were
    /// forwarded with.
    async fn check_watched(&self) -> Result<(), StorageError> {
        let mut codes: Vec<String> = self.watched.iter().map(|e| e.value().0.clone()).collect();
        if codes.is_empty() {
            return Ok(());
        }
        codes.sort_unstable();
        codes.dedup();
        let owners = self.storage.cluster(move |c| c.owners(&codes)).await?;
        for e in self.watched.iter() {
            let (code, fence, moved) = e.value();
            if !owners.iter().any(|(c, o)| c == code && o.fence == *fence) {
                moved.cancel();
            }
        }
        Ok(())
    }
}

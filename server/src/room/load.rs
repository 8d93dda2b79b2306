//! Loading a room's session from storage, and writing its snapshots.

use crate::error::StorageError;
use crate::secrets::{self, TokenGrant, TokenHash};
use crate::session::Record;
use crate::session::checkpoint;
use crate::session::doc::{self, DocError};
use crate::storage::{Storage, Write};
use std::collections::HashMap;

/// Why a stored session could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The session has no metadata (its key).
    #[error("the session has no metadata")]
    NoMeta,
    /// The stored key is not 32 bytes of hex.
    #[error("the session's key is malformed")]
    BadKey,
    /// The document is not a session.
    #[error("the document: {0}")]
    Doc(#[from] DocError),
    /// The loading task ended abnormally.
    #[error("the loading task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// A session as storage gave it back.
pub struct Loaded {
    /// The document and its state.
    pub record: Record,
    /// The hashes of its tokens, and whom each lets in.
    pub tokens: HashMap<TokenHash, TokenGrant>,
    /// The last storage sequence number written.
    pub store_seq: u64,
    /// Changes stored after the last snapshot.
    pub since_snapshot: u64,
}

/// Reads a session and rebuilds its record, off the async workers. `None`: no such session.
pub async fn load(code: &str, storage: &Storage) -> Result<Option<Loaded>, LoadError> {
    let Some(stored) = storage.load(code).await? else {
        return Ok(None);
    };
    let meta = stored.meta.as_ref().ok_or(LoadError::NoMeta)?;
    let key = secrets::from_hex32(&meta.key).ok_or(LoadError::BadKey)?;
    let store_seq = stored
        .changes
        .last()
        .map_or(stored.snapshot_upto, |(seq, _)| *seq);
    let mut tokens: HashMap<TokenHash, TokenGrant> = stored.tokens.iter().cloned().collect();
    let (record, since_snapshot) = tokio::task::spawn_blocking(move || {
        let changes: Vec<u8> = stored.changes.into_iter().flat_map(|(_, b)| b).collect();
        // The checkpoint stored with the snapshot, read while the document loads: then only
        // what came after the snapshot is read from the document.
        let (checkpoint, _) = doc::split_snapshot(&stored.snapshot);
        let Some(checkpoint) = checkpoint else {
            let (document, after) = doc::load(&stored.snapshot, &changes)?;
            return Ok((Record::from_doc(document, key)?, after));
        };
        let (decoded, document) = std::thread::scope(|s| {
            let decoding = s.spawn(move || checkpoint::decode(checkpoint));
            let document = doc::load_at_once(&stored.snapshot, &changes);
            (decoding.join().ok().flatten(), document)
        });
        let document = document?;
        // The changes after the snapshot, for when the next one is due; a checkpoint this
        // version cannot use makes a snapshot overdue, so the first batch writes a usable one.
        let after = match decoded.as_ref().and_then(|cp| cp.heads()) {
            Some(heads) => document.get_changes_meta(&heads).len() as u64,
            None => u64::MAX / 4,
        };
        Ok::<_, DocError>((Record::from_decoded(document, key, decoded)?, after))
    })
    .await??;
    // A revoked replay link's hash stays in storage; the record says it is revoked.
    tokens.retain(|_, g| g.link.as_deref().is_none_or(|l| record.replay_link_open(l)));
    Ok(Some(Loaded {
        record,
        tokens,
        store_seq,
        since_snapshot,
    }))
}

/// Compacts: one snapshot (the document with a checkpoint of the state) replaces the changes
/// stored up to `upto`. Saving a large document is CPU work, so it runs off the async workers;
/// the room lends its document out and waits.
/// `fence`: the room's lease, which the write carries (several nodes).
pub async fn snapshot(
    record: &mut Record,
    storage: &Storage,
    code: &str,
    upto: u64,
    fence: Option<u64>,
) -> Result<(), StorageError> {
    let heads = record.doc.get_heads();
    let document = std::mem::take(&mut record.doc);
    let saving = tokio::task::spawn_blocking(move || {
        let bytes = document.save();
        (document, bytes)
    });
    // Written while the document saves: the state does not change while the room waits.
    let checkpoint = record.checkpoint(&heads);
    let (document, bytes) = saving
        .await
        .map_err(|e| StorageError::Db(format!("snapshot task: {e}")))?;
    record.doc = document;
    let bytes = crate::session::doc::snapshot_with(&checkpoint, &bytes);
    let mut writes = fenced(code, fence);
    writes.push(Write::Snapshot {
        code: code.to_owned(),
        bytes,
        upto,
    });
    storage.commit(writes).await
}

/// The start of a room's write request: its lease's fence, when it holds one.
pub fn fenced(code: &str, fence: Option<u64>) -> Vec<Write> {
    fence
        .map(|fence| Write::Fence {
            code: code.to_owned(),
            fence,
        })
        .into_iter()
        .collect()
}

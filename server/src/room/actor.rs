//! The batch loop: one task per loaded session owns its [`Record`] outright. The loop takes
//! whatever messages are waiting (a batch), applies each through the session core, writes the
//! batch's changes to storage in one durable commit, and only then sends deltas (encoded once
//! per role), own-data deltas, answers and welcomes. So nothing is acknowledged, or shown to
//! anyone, before it is on disk.
//!
//! With several nodes, a room first claims its session's lease, and every write it makes
//! carries the lease's fence; it stops when the lease is lost or the database refuses a write
//! for a stale fence (another node owns the session), and gives the lease up when it unloads.

use super::clock::{Clock, sleep_until};
use super::fanout::Fanout;
use super::load::{self, Loaded};
use super::msg::{ConnId, ConnSink, JoinError, Joined, Reply, RoomConfig, RoomMsg};
use crate::cluster::{Claimed, Keeper};
use crate::error::{Refusal, StorageError, refuse};
use crate::secrets::{TokenGrant, TokenHash};
use crate::session::cmd::Actor;
use crate::session::record::grantee;
use crate::session::{Changed, Moment, Part, Record};
use crate::storage::{Storage, Write};
use axum::extract::ws::Utf8Bytes;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tafel_protocol::{ErrorCode, Millis, ServerMessage, SessionInfo};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// The most messages one batch takes from the mailbox.
const MAX_BATCH: usize = 512;
/// A snapshot that is due is taken once the room has had no message for this long: saving
/// the whole document with its checkpoint holds the room up (14–20 ms for 10,000 cards), and
/// under load that delay would reach every phone.
const SNAPSHOT_QUIET: Duration = Duration::from_secs(1);
/// A room busy without a pause puts a snapshot in its batch anyway at this many times
/// its due count (`Room::snapshot_due`), so a crash never leaves more than that to read back.
const SNAPSHOT_OVERDUE: u64 = 2;
/// A commit that takes longer than this is a slow write: everyone in the room is told (and
/// told again when it is over), so no phone looks as if it hangs without a word.
pub const SLOW_WRITE: Duration = Duration::from_secs(1);

/// Runs a room until it unloads, fails or the server stops. The registry spawns it and
/// forgets the room when this returns. With a `keeper` (several nodes), the room claims its
/// session's lease first, and turns everyone to the owner if another node has it.
pub async fn run(
    code: String,
    mut rx: mpsc::Receiver<RoomMsg>,
    storage: Storage,
    cfg: Arc<RoomConfig>,
    shutdown: CancellationToken,
    keeper: Option<Arc<Keeper>>,
) {
    let span = tracing::info_span!("room", room = %code);
    async move {
        let started = Instant::now();
        let lease = match &keeper {
            None => None,
            Some(keeper) => match keeper.claim(&code).await {
                Ok(Claimed::Won(lease)) => Some(lease),
                Ok(Claimed::Held(owner)) => {
                    drain(&mut rx, || JoinError::Elsewhere(owner.clone())).await;
                    return;
                }
                Ok(Claimed::NoSession) => return not_found(&mut rx).await,
                Err(e) => {
                    tracing::error!(error = %e, "could not claim the session's lease");
                    return failed_to_open(&mut rx, "the session could not be opened; try again")
                        .await;
                }
            },
        };
        let loaded = match load::load(&code, &storage).await {
            Ok(Some(loaded)) => loaded,
            Ok(None) => return not_found(&mut rx).await,
            Err(e) => {
                tracing::error!(error = %e, "could not load the session");
                return failed_to_open(&mut rx, "the session could not be loaded").await;
            }
        };
        let took = started.elapsed();
        tracing::info!(
            changes = loaded.record.seq(),
            ms = took.as_millis() as u64,
            "session loaded"
        );
        let _loaded = crate::metrics::room_loaded(took);
        let fence = lease.as_ref().map(|l| l.fence);
        let lost = lease.as_ref().map(|l| l.lost.clone()).unwrap_or_default();
        let room = Room::new(code, loaded, storage, cfg, fence);
        let exit = room.serve(rx, shutdown, lost).await;
        // Given up only after the last write: the next node to be asked takes it at once.
        if let Some(lease) = lease
            && !matches!(exit, Exit::Lost | Exit::Deleted)
        {
            lease.release().await;
        }
    }
    .instrument(span)
    .await
}

/// Why the room stops after a failed write: the storage failed (it reloads from disk), or the
/// database fenced it off (another node owns the session).
fn failed(e: &StorageError) -> Exit {
    if matches!(e, StorageError::Fenced(_)) {
        crate::metrics::fenced_write();
        crate::metrics::lease_lost();
        tracing::warn!(error = %e, "another node owns the session now; nothing was written, the room stops");
        Exit::Lost
    } else {
        tracing::error!(error = %e, "storage failed; unloading the room so it reloads from disk");
        Exit::Failed
    }
}

/// Turns everyone away: there is no such session.
async fn not_found(rx: &mut mpsc::Receiver<RoomMsg>) {
    let why = "there is no session with this code";
    drain(rx, || {
        JoinError::Refused(refuse(ErrorCode::SessionNotFound, why))
    })
    .await;
}

/// Turns everyone away: the session could not be opened, for the reason `why`.
async fn failed_to_open(rx: &mut mpsc::Receiver<RoomMsg>, why: &'static str) {
    drain(rx, || JoinError::Refused(refuse(ErrorCode::Internal, why))).await;
}

/// Answers everything left in a closed mailbox.
async fn drain(rx: &mut mpsc::Receiver<RoomMsg>, why: impl Fn() -> JoinError) {
    rx.close();
    while let Some(msg) = rx.recv().await {
        msg.turn_away(&why);
    }
}

/// An answer that waits until the batch is durable: nothing is shown before it is stored.
enum Later {
    Info(Reply<SessionInfo>),
    Refused(Reply<Joined>, Refusal),
}

struct PendingWelcome {
    conn: ConnSink,
    joined: Joined,
    token: Option<String>,
    reply: Reply<Joined>,
}

/// What the room has taken since the last batch was sealed.
struct Batch {
    heads_before: Vec<automerge::ChangeHash>,
    seq_before: u64,
    writes: Vec<Write>,
    changed: Changed,
    /// Answers to commands and syncs, each with when the room took a command.
    replies: Vec<(ConnId, Utf8Bytes, Option<Instant>)>,
    welcomes: Vec<PendingWelcome>,
    later: Vec<Later>,
    /// The commands of the batch (connection and id), to refuse if it cannot be stored.
    commands: Vec<(ConnId, String)>,
    /// What the batch did to the room's tokens, to undo if it cannot be stored.
    tokens: TokenUndo,
    /// Messages taken.
    taken: usize,
}

/// What a batch did to the room's tokens: the hashes it added, and the grants it revoked.
#[derive(Default)]
struct TokenUndo {
    added: Vec<TokenHash>,
    revoked: Vec<(TokenHash, TokenGrant)>,
}

/// The room as it was stored before a batch, to go back to if the batch cannot be stored.
struct Before {
    heads: Vec<automerge::ChangeHash>,
    store_seq: u64,
    since_snapshot: u64,
    floor_sent_at: Millis,
    tokens: TokenUndo,
}

impl Batch {
    fn new(record: &Record) -> Self {
        Self {
            heads_before: record.heads(),
            seq_before: record.seq(),
            writes: Vec::new(),
            changed: Changed::default(),
            replies: Vec::new(),
            welcomes: Vec::new(),
            later: Vec::new(),
            commands: Vec::new(),
            tokens: TokenUndo::default(),
            taken: 0,
        }
    }

    /// Whether there is nothing to store or send.
    fn is_empty(&self, record: &Record) -> bool {
        self.writes.is_empty()
            && self.changed.is_empty()
            && self.replies.is_empty()
            && self.welcomes.is_empty()
            && self.later.is_empty()
            && record.seq() == self.seq_before
    }
}

/// A batch made ready to go out: every frame encoded from the state right after its last
/// command, held until its writes are durable.
struct Sealed {
    /// One delta per role.
    deltas: Vec<(tafel_protocol::Role, Utf8Bytes)>,
    /// Each person's own delta.
    yours: Vec<(usize, Utf8Bytes)>,
    /// Connections welcomed in this batch: their welcome already holds its changes.
    fresh: HashSet<ConnId>,
    replies: Vec<(ConnId, Utf8Bytes, Option<Instant>)>,
    welcomes: Vec<(ConnId, Utf8Bytes, Joined, Reply<Joined>)>,
    later: Vec<Later>,
    /// The batch's commands, to refuse if it cannot be stored.
    commands: Vec<(ConnId, String)>,
    /// The room before the batch, to go back to if it cannot be stored.
    before: Before,
}

/// A sealed batch whose commit is under way.
struct InFlight {
    done: std::pin::Pin<Box<dyn Future<Output = Result<(), StorageError>> + Send>>,
    sealed: Sealed,
    /// When it counts as a slow write.
    slow_at: tokio::time::Instant,
}

enum Exit {
    Idle,
    Shutdown,
    Failed,
    /// Another node owns the session now: the lease was lost, or a write was fenced off.
    Lost,
    /// The session was deleted.
    Deleted,
}

struct Room {
    code: String,
    record: Record,
    storage: Storage,
    cfg: Arc<RoomConfig>,
    tokens: HashMap<TokenHash, TokenGrant>,
    fanout: Fanout,
    /// The last storage sequence number written.
    store_seq: u64,
    /// Changes stored since the last snapshot.
    since_snapshot: u64,
    /// The room's time.
    clock: Clock,
    /// When the floor was last sent to everyone: a moment of the floor's own (overtime, a hold
    /// ending) after this is still to be sent, even if the room was busy when it came.
    floor_sent_at: Millis,
    /// A command failed inside the document (not a refusal): the room stores what it has and
    /// unloads, so the next request loads it whole from disk.
    failed: bool,
    /// The fence of the session's lease, carried by every write (several nodes).
    fence: Option<u64>,
    /// The facilitator deleted the session: the room deletes it and stops once what it took
    /// before is stored and answered.
    deleting: Option<Reply<()>>,
    /// Everyone was told that a write is slow, and has not yet been told it is over.
    slow: bool,
    /// The floor's deadline last ticked: it stays in the past until the next batch is sealed
    /// (a commit may be in flight), and is not ticked again meanwhile.
    ticked: Option<tokio::time::Instant>,
}

/// The moment now, for commands and views: taken from the room's parts, not the whole room,
/// so the record can be changed while it is held.
fn moment<'a>(clock: &Clock, fanout: &'a Fanout, cfg: &'a RoomConfig) -> Moment<'a> {
    Moment {
        now: clock.now(),
        online: fanout.online(),
        public_url: &cfg.public_url,
    }
}

fn encode(msg: &ServerMessage) -> Utf8Bytes {
    Utf8Bytes::from(serde_json::to_string(msg).expect("protocol types serialize"))
}

fn error_frame(id: &str, r: &Refusal) -> Utf8Bytes {
    crate::metrics::error(r.code);
    encode(&ServerMessage::Error {
        id: Some(id.to_owned()),
        code: r.code,
        message: r.message.clone(),
        field: r.field.map(str::to_owned),
    })
}

/// Waits for the commit in flight, or forever when there is none.
async fn committed(inflight: &mut Option<InFlight>) -> Result<(), StorageError> {
    match inflight {
        Some(f) => f.done.as_mut().await,
        None => std::future::pending().await,
    }
}

impl Room {
    fn new(
        code: String,
        loaded: Loaded,
        storage: Storage,
        cfg: Arc<RoomConfig>,
        fence: Option<u64>,
    ) -> Self {
        Self {
            code,
            fanout: Fanout::new(loaded.record.state.participants.len()),
            record: loaded.record,
            storage,
            cfg,
            tokens: loaded.tokens,
            store_seq: loaded.store_seq,
            since_snapshot: loaded.since_snapshot,
            clock: Clock::start(),
            floor_sent_at: 0,
            failed: false,
            fence,
            deleting: None,
            slow: false,
            ticked: None,
        }
    }

    /// The moment now, for views.
    fn moment(&self) -> Moment<'_> {
        moment(&self.clock, &self.fanout, &self.cfg)
    }

    /// Serves until the room unloads, fails, loses its lease (`lost`) or the server stops.
    ///
    /// Group commit without a timer: when no commit is in flight, what has been taken is
    /// sealed and its commit starts at once; whatever arrives while a commit is in flight is
    /// applied meanwhile and forms the next batch. A quiet room so adds no wait to a change,
    /// and under load batches grow by themselves with the time a commit takes.
    async fn serve(
        mut self,
        mut rx: mpsc::Receiver<RoomMsg>,
        shutdown: CancellationToken,
        lost: CancellationToken,
    ) -> Exit {
        let mut batch = Batch::new(&self.record);
        let mut inflight: Option<InFlight> = None;
        let exit = loop {
            if inflight.is_none() && !batch.is_empty(&self.record) {
                let taken = std::mem::replace(&mut batch, Batch::new(&self.record));
                let (writes, sealed) = self.seal(taken);
                if writes.is_empty() {
                    self.deliver(sealed, &mut batch);
                } else {
                    inflight = Some(InFlight {
                        done: Box::pin(self.storage.submit(writes)),
                        sealed,
                        slow_at: tokio::time::Instant::now() + SLOW_WRITE,
                    });
                }
                continue;
            }
            if inflight.is_none()
                && let Some(reply) = self.deleting.take()
            {
                if let Err(e) = self.flush(&mut batch).await {
                    tracing::error!(error = %e, "storage failed before the session was deleted");
                }
                match self.storage.delete(&self.code).await {
                    Ok(_) => {
                        tracing::info!("session deleted");
                        let _ = reply.send(Ok(()));
                        return self.deleted(rx).await;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "could not delete the session");
                        let why = "the session could not be deleted; try again";
                        let _ =
                            reply.send(Err(JoinError::Refused(refuse(ErrorCode::Internal, why))));
                    }
                }
                continue;
            }
            if self.failed && inflight.is_none() {
                tracing::error!(
                    "a change failed in the document; unloading the room so it reloads from disk"
                );
                break Exit::Failed;
            }
            let deadline = self.deadline().filter(|d| Some(*d) != self.ticked);
            let idle = inflight.is_none() && batch.is_empty(&self.record);
            let slow_at = inflight.as_ref().filter(|_| !self.slow).map(|f| f.slow_at);
            tokio::select! {
                biased;
                _ = lost.cancelled() => break Exit::Lost,
                _ = shutdown.cancelled() => break Exit::Shutdown,
                done = committed(&mut inflight) => {
                    let f = inflight.take().expect("a commit was in flight");
                    self.tell_slow(false, &f.sealed.fresh);
                    match done {
                        Ok(()) => {}
                        // The database could not write it (a full or read-only disk, a failing
                        // database): nothing of it is stored, and the room goes back in memory.
                        Err(e @ StorageError::Db(_)) => {
                            let next = std::mem::replace(&mut batch, Batch::new(&self.record));
                            match self.unstored(f.sealed, next, e) {
                                Ok(()) => {
                                    batch = Batch::new(&self.record);
                                    // Presence and the floor are not in the document: whatever
                                    // the two batches would have said of them goes out anew.
                                    self.fanout.mark_presence(&mut batch.changed);
                                    batch.changed.whole(Part::Floor);
                                    continue;
                                }
                                Err(e) => break failed(&e),
                            }
                        }
                        // Anything else (another node owns the session, a conflict that says the
                        // write may have landed after all): storage is the truth, and the room
                        // unloads so the next request reads it from there.
                        Err(e) => break failed(&e),
                    }
                    self.deliver(f.sealed, &mut batch);
                }
                msg = rx.recv(), if !self.failed && self.deleting.is_none() && batch.taken < MAX_BATCH => match msg {
                    Some(msg) => {
                        self.handle(msg, &mut batch);
                        while batch.taken < MAX_BATCH && !self.failed && self.deleting.is_none() {
                            match rx.try_recv() {
                                Ok(msg) => self.handle(msg, &mut batch),
                                Err(_) => break,
                            }
                        }
                    }
                    None => break Exit::Shutdown,
                },
                _ = sleep_until(slow_at), if slow_at.is_some() => {
                    let fresh = inflight.as_ref().map(|f| f.sealed.fresh.clone()).unwrap_or_default();
                    self.tell_slow(true, &fresh);
                }
                _ = sleep_until(deadline) => {
                    self.ticked = deadline;
                    self.tick(&mut batch);
                }
                _ = tokio::time::sleep(SNAPSHOT_QUIET), if idle && self.since_snapshot >= self.snapshot_due() => {
                    if let Err(e) = self.snapshot().await {
                        break failed(&e);
                    }
                }
                _ = tokio::time::sleep(self.cfg.idle), if idle && self.fanout.is_empty() => break Exit::Idle,
            }
        };
        // On a plain stop, what was taken is still stored and answered.
        if matches!(exit, Exit::Shutdown | Exit::Idle) {
            if let Some(f) = inflight.take() {
                match f.done.await {
                    Ok(()) => self.deliver(f.sealed, &mut batch),
                    Err(e) => {
                        tracing::error!(error = %e, "storage failed while the room was stopping")
                    }
                }
            }
            if let Err(e) = self.flush(&mut batch).await {
                tracing::error!(error = %e, "storage failed while the room was stopping");
            }
        }
        let stopping = Instant::now();
        if !matches!(exit, Exit::Failed | Exit::Lost)
            && self.since_snapshot > 0
            && let Err(e) = self.snapshot().await
        {
            tracing::error!(error = %e, "could not write the final snapshot (the changes are stored)");
        }
        let stop_ms = stopping.elapsed().as_millis() as u64;
        // Whoever knocked while the room was closing asks the registry again, and gets a room
        // freshly loaded from storage.
        drain(&mut rx, || JoinError::Retry).await;
        tracing::info!(
            reason = match exit {
                Exit::Idle => "idle",
                Exit::Shutdown => "shutdown",
                Exit::Failed => "failed",
                Exit::Lost => "lost_lease",
                Exit::Deleted => "deleted",
            },
            changes = self.record.seq(),
            ms = stop_ms,
            "room unloaded"
        );
        // Dropping `self` drops every outbox sender: connections close and clients resume.
        exit
    }

    /// How many changes after the last snapshot make a new one due: `snapshot_every`, or a
    /// twentieth of the session's changes once that is more. A snapshot costs time in
    /// proportion to the whole document, reading back after a crash in proportion to the
    /// changes after it: so both stay a small share of the work per change.
    fn snapshot_due(&self) -> u64 {
        self.cfg.snapshot_every.max(self.record.seq() / 20)
    }

    /// Tells everyone that a write is slow (`true`) or that the slow write is over (`false`),
    /// when that is news; not those whose welcome waits in the batch being written (`fresh`:
    /// nothing comes before a welcome).
    fn tell_slow(&mut self, slow: bool, fresh: &HashSet<ConnId>) {
        if self.slow == slow {
            return;
        }
        self.slow = slow;
        if slow {
            crate::metrics::slow_write();
            tracing::warn!(
                after_ms = SLOW_WRITE.as_millis() as u64,
                "a write is slow; the room is told"
            );
        } else {
            tracing::info!("the slow write is over");
        }
        self.fanout
            .send_to_all(&encode(&ServerMessage::Storage { slow }), fresh);
    }

    /// Stores and sends what was taken, waiting for it (nothing is in flight).
    async fn flush(&mut self, batch: &mut Batch) -> Result<(), StorageError> {
        while !batch.is_empty(&self.record) {
            let taken = std::mem::replace(batch, Batch::new(&self.record));
            let (writes, sealed) = self.seal(taken);
            if !writes.is_empty() {
                self.storage.submit(writes).await?;
            }
            self.deliver(sealed, batch);
        }
        Ok(())
    }

    /// The session is gone from storage: everyone who knocks hears so, and dropping the room
    /// closes every connection (its phones resume, and learn there is no such session).
    async fn deleted(self, mut rx: mpsc::Receiver<RoomMsg>) -> Exit {
        drop(self);
        not_found(&mut rx).await;
        Exit::Deleted
    }

    /// A sealed batch could not be stored (a full or read-only disk, a failing database):
    /// nothing of it, nor of what the room took while its commit was in flight (`next`, which
    /// built on it), is acknowledged or shown. The room goes back, in memory, to the session as
    /// it was stored before the batch (what every connection was last shown; storage may not
    /// even be readable now), answers both batches' commands with `storage_unavailable`, turns
    /// their joins away, and goes on with every connection; the next batch tries storage again.
    fn unstored(
        &mut self,
        sealed: Sealed,
        mut next: Batch,
        e: StorageError,
    ) -> Result<(), StorageError> {
        let commands = sealed.commands.len() + next.commands.len();
        tracing::error!(error = %e, commands, "storage failed; the batch is refused and the room goes on as stored");
        let before = sealed.before;
        let doc = self
            .record
            .doc
            .fork_at(&before.heads)
            .map_err(|e| StorageError::Db(format!("going back before the batch: {e}")))?;
        self.record = Record::from_doc(doc, self.record.state.key)
            .map_err(|e| StorageError::Db(format!("going back before the batch: {e}")))?;
        // The tokens, undone from the latest batch back, each batch's in reverse: what it
        // revoked comes back, then what it added goes (a link made and revoked in one batch
        // leaves nothing).
        for undo in [std::mem::take(&mut next.tokens), before.tokens] {
            self.tokens.extend(undo.revoked);
            for hash in undo.added {
                self.tokens.remove(&hash);
            }
        }
        self.store_seq = before.store_seq;
        self.since_snapshot = before.since_snapshot;
        self.floor_sent_at = before.floor_sent_at;
        let why = refuse::<Refusal>(
            ErrorCode::StorageUnavailable,
            "the server could not store this, so it was not applied; send it again shortly",
        );
        // Those welcomed in the sealed batch joined the fan-out when it was sealed; they never
        // got their welcome, and nobody was told they came.
        let mut unseen = Changed::default();
        for (conn, _, _, reply) in sealed.welcomes {
            self.fanout.remove(conn, &mut unseen);
            let _ = reply.send(Err(JoinError::Refused(why.clone())));
        }
        for w in next.welcomes {
            let _ = w.reply.send(Err(JoinError::Refused(why.clone())));
        }
        // Those who joined in either batch were never stored.
        self.fanout.fit(self.record.state.participants.len());
        for (conn, id) in sealed.commands.iter().chain(&next.commands) {
            self.fanout.send(*conn, error_frame(id, &why));
        }
        for (conn, frame, taken) in sealed.replies.into_iter().chain(next.replies) {
            if taken.is_none() {
                // A sync: still a barrier after everything sent before.
                self.fanout.send(conn, frame);
            }
        }
        for later in sealed.later.into_iter().chain(next.later) {
            match later {
                Later::Info(reply) => {
                    let _ = reply.send(Err(JoinError::Refused(why.clone())));
                }
                Later::Refused(reply, refusal) => {
                    let _ = reply.send(Err(JoinError::Refused(refusal)));
                }
            }
        }
        Ok(())
    }

    /// When the floor next changes by itself, on tokio's clock.
    fn deadline(&self) -> Option<tokio::time::Instant> {
        self.record
            .next_deadline(self.floor_sent_at)
            .map(|ms| self.clock.instant_at(ms))
    }

    /// A deadline passed: a hard turn ends (a change in the record, by the server), a soft one
    /// turns overtime, or a hold ended. Either way everyone gets the floor anew.
    fn tick(&mut self, b: &mut Batch) {
        let moment = moment(&self.clock, &self.fanout, &self.cfg);
        match self.record.limit_reached(&moment, &mut b.changed) {
            Ok(true) => tracing::debug!("turn ended at its limit"),
            Ok(false) => {}
            Err(e) => {
                tracing::error!(error = %e, "could not end a turn at its limit");
                self.failed = true;
            }
        }
        b.changed.whole(Part::Floor);
    }

    fn handle(&mut self, msg: RoomMsg, b: &mut Batch) {
        b.taken += 1;
        match msg {
            RoomMsg::Join {
                name,
                perspective,
                conn,
                reply,
            } => self.join(&name, perspective, conn, reply, b),
            RoomMsg::Resume { token, conn, reply } => match self.tokens.get(&token) {
                // A replay link opens the replay over HTTP, never the live room.
                Some(grant) if grant.role != tafel_protocol::Role::Replay => {
                    let (role, participant) = grantee(grant);
                    b.welcomes.push(PendingWelcome {
                        conn,
                        joined: Joined { role, participant },
                        token: None,
                        reply,
                    });
                }
                _ => b.later.push(Later::Refused(
                    reply,
                    refuse(
                        ErrorCode::BadToken,
                        "this link or token is not valid for this session",
                    ),
                )),
            },
            RoomMsg::Command { conn, id, cmd } => {
                let Some(who) = self.fanout.who(conn) else {
                    return;
                };
                let taken = Instant::now();
                let id_for_refusal = id.clone();
                crate::metrics::command(cmd.name());
                let actor = Actor {
                    role: who.role,
                    participant: who.participant,
                };
                let moment = moment(&self.clock, &self.fanout, &self.cfg);
                let frame = match self
                    .record
                    .command(actor, &id, &cmd, &moment, &mut b.changed)
                {
                    Ok(answer) => {
                        tracing::debug!(cmd = cmd.name(), participant = ?actor.participant, "applied");
                        if let Some((hash, grant)) = answer.new_token {
                            self.store_token(hash, grant, b);
                        }
                        if let Some(hash) = answer.revoked_token
                            // Stored hashes stay; the record says the link is revoked, and a
                            // room loaded later leaves it out (see `load`).
                            && let Some(grant) = self.tokens.remove(&hash)
                        {
                            b.tokens.revoked.push((hash, grant));
                        }
                        encode(&ServerMessage::Ack {
                            id,
                            result: answer.ack,
                        })
                    }
                    Err(e) => {
                        let refusal = e.refusal();
                        if refusal.code == ErrorCode::Internal {
                            tracing::error!(cmd = cmd.name(), error = %e, "a command failed in the document");
                            self.failed = true;
                        } else {
                            tracing::debug!(cmd = cmd.name(), code = ?refusal.code, "refused");
                        }
                        error_frame(&id, &refusal)
                    }
                };
                b.replies.push((conn, frame, Some(taken)));
                b.commands.push((conn, id_for_refusal));
            }
            RoomMsg::Sync { conn, id } => {
                if self.fanout.who(conn).is_some() {
                    let seq = self.record.seq();
                    b.replies
                        .push((conn, encode(&ServerMessage::Synced { id, seq }), None));
                }
            }
            RoomMsg::Leave { conn } => self.fanout.remove(conn, &mut b.changed),
            RoomMsg::Info { reply } => b.later.push(Later::Info(reply)),
            RoomMsg::Delete { reply } => self.deleting = Some(reply),
        }
    }

    /// A new token, kept for resuming and stored in this batch, before the answer goes out.
    fn store_token(&mut self, hash: TokenHash, grant: TokenGrant, b: &mut Batch) {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.tokens.entry(hash) {
            slot.insert(grant.clone());
            b.tokens.added.push(hash);
            b.writes.push(Write::Token {
                code: self.code.clone(),
                hash,
                grant,
            });
        }
    }

    fn join(
        &mut self,
        name: &str,
        perspective: tafel_protocol::Perspective,
        conn: ConnSink,
        reply: Reply<Joined>,
        b: &mut Batch,
    ) {
        let moment = moment(&self.clock, &self.fanout, &self.cfg);
        match self.record.join(name, perspective, &moment, &mut b.changed) {
            Ok(new) => {
                self.fanout.grow();
                let (hash, grant) = new.grant;
                self.store_token(hash, grant, b);
                b.welcomes.push(PendingWelcome {
                    conn,
                    joined: Joined {
                        role: tafel_protocol::Role::Participant,
                        participant: Some(new.index),
                    },
                    token: Some(new.token),
                    reply,
                });
            }
            Err(e) => {
                if matches!(e, crate::session::cmd::CmdError::Failed(_)) {
                    tracing::error!(error = %e, "a join failed in the document");
                    self.failed = true;
                }
                b.later.push(Later::Refused(reply, e.refusal()));
            }
        }
    }

    /// Seals a batch: its writes (the document's new changes among them), and every frame it
    /// sends, encoded now from the state right after its last command. New connections join
    /// the room here, so the next batch's deltas reach them after their welcome.
    fn seal(&mut self, mut b: Batch) -> (Vec<Write>, Sealed) {
        let before = Before {
            heads: std::mem::take(&mut b.heads_before),
            store_seq: self.store_seq,
            since_snapshot: self.since_snapshot,
            floor_sent_at: self.floor_sent_at,
            tokens: std::mem::take(&mut b.tokens),
        };
        if self.record.seq() != b.seq_before {
            self.store_seq += 1;
            self.since_snapshot += self.record.seq() - b.seq_before;
            let bytes = self.record.doc.save_after(&before.heads);
            b.writes.push(Write::Changes {
                code: self.code.clone(),
                seq: self.store_seq,
                bytes,
            });
            // Snapshots wait for a quiet moment (see `serve`); a room that never pauses puts
            // one in this batch once it is well past due: the whole document as of this
            // batch, in the same transaction as the batch's changes, so it holds nothing that
            // is not stored (and if the commit fails, the room goes back to before both).
            if self.since_snapshot >= self.snapshot_due() * SNAPSHOT_OVERDUE {
                b.writes.push(Write::Snapshot {
                    code: self.code.clone(),
                    bytes: self.record.snapshot_bytes(),
                    upto: self.store_seq,
                });
                self.since_snapshot = 0;
            }
        }
        let writes = if b.writes.is_empty() {
            Vec::new()
        } else {
            let mut writes = load::fenced(&self.code, self.fence);
            writes.append(&mut b.writes);
            writes
        };

        let mut fresh = HashSet::new();
        for w in &b.welcomes {
            fresh.insert(w.conn.id);
            self.fanout.add(&w.conn, w.joined, &mut b.changed);
        }
        if b.changed.has(Part::Floor) {
            self.floor_sent_at = self.clock.now();
        }
        let moment = self.moment();
        let seq = self.record.seq();
        let deltas = if b.changed.room_unchanged() {
            Vec::new()
        } else {
            self.fanout
                .roles(&fresh)
                .into_iter()
                .filter_map(|role| {
                    let patch = self.record.state.patch(&b.changed, role, &moment);
                    (!patch.is_empty())
                        .then(|| (role, encode(&ServerMessage::Delta { seq, patch })))
                })
                .collect()
        };
        let yours = b
            .changed
            .you()
            .filter_map(|(p, change)| {
                let you = self.record.state.you_patch(p, change);
                (!you.is_empty()).then(|| (p, encode(&ServerMessage::YouDelta { you })))
            })
            .collect();
        let welcomes = b
            .welcomes
            .into_iter()
            .map(|w| {
                let frame = encode(&ServerMessage::Welcome {
                    v: tafel_protocol::PROTOCOL_VERSION,
                    role: w.joined.role,
                    token: w.token,
                    you: self.record.state.you(w.joined.role, w.joined.participant),
                    view: self.record.view(w.joined.role, &moment),
                    seq,
                });
                (w.conn.id, frame, w.joined, w.reply)
            })
            .collect();
        let sealed = Sealed {
            deltas,
            yours,
            fresh,
            replies: b.replies,
            welcomes,
            later: b.later,
            commands: b.commands,
            before,
        };
        (writes, sealed)
    }

    /// Sends a sealed batch whose writes are durable. Connections that fell behind are dropped;
    /// their presence goes out with the next batch.
    fn deliver(&mut self, s: Sealed, next: &mut Batch) {
        for (role, frame) in &s.deltas {
            self.fanout.send_to_role(*role, frame, &s.fresh);
        }
        for (p, frame) in &s.yours {
            self.fanout.send_to_person(*p, frame, &s.fresh);
        }
        for (conn, frame, taken) in s.replies {
            if let Some(taken) = taken {
                crate::metrics::command_answered(taken.elapsed());
            }
            self.fanout.send(conn, frame);
        }
        for (conn, frame, joined, reply) in s.welcomes {
            self.fanout.send(conn, frame);
            let _ = reply.send(Ok(joined));
        }
        self.fanout.take_dropped(&mut next.changed);
        for later in s.later {
            match later {
                Later::Info(reply) => {
                    let f = &self.record.state.fields;
                    let info = SessionInfo {
                        code: f.code.clone(),
                        title: f.title.clone(),
                        language: f.language,
                        status: f.status,
                    };
                    let _ = reply.send(Ok(info));
                }
                Later::Refused(reply, r) => {
                    let _ = reply.send(Err(JoinError::Refused(r)));
                }
            }
        }
    }

    /// Compacts: one snapshot replaces the changes stored so far.
    async fn snapshot(&mut self) -> Result<(), StorageError> {
        load::snapshot(
            &mut self.record,
            &self.storage,
            &self.code,
            self.store_seq,
            self.fence,
        )
        .await?;
        self.since_snapshot = 0;
        Ok(())
    }
}

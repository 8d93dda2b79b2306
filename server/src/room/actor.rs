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
/// A snapshot that is due is taken once the room has had no message for this long: writing
/// the whole document holds the room up for tens of milliseconds, and under load that delay
/// would reach every phone.
const SNAPSHOT_QUIET: Duration = Duration::from_secs(1);
/// A room busy without a pause takes its snapshot anyway at this many times `snapshot_every`.
const SNAPSHOT_OVERDUE: u64 = 10;
/// A room with this many connections gathers changes for the whole `flush_interval`; a
/// smaller one for its share of it.
const FULL_GATHER_CONNS: usize = 50;

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

/// What one pass of the loop gathered.
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
    /// When the room last flushed; the next flush waits until `flush_interval` after it.
    flushed_at: tokio::time::Instant,
    /// The fence of the session's lease, carried by every write (several nodes).
    fence: Option<u64>,
    /// The facilitator deleted the session: the room deletes it and stops after this batch.
    deleting: Option<Reply<()>>,
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
    })
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
            flushed_at: tokio::time::Instant::now(),
            fence,
            deleting: None,
        }
    }

    /// The moment now, for views.
    fn moment(&self) -> Moment<'_> {
        moment(&self.clock, &self.fanout, &self.cfg)
    }

    /// Serves until the room unloads, fails, loses its lease (`lost`) or the server stops.
    async fn serve(
        mut self,
        mut rx: mpsc::Receiver<RoomMsg>,
        shutdown: CancellationToken,
        lost: CancellationToken,
    ) -> Exit {
        let exit = loop {
            let deadline = self.deadline();
            let msg = tokio::select! {
                biased;
                _ = lost.cancelled() => break Exit::Lost,
                _ = shutdown.cancelled() => break Exit::Shutdown,
                msg = rx.recv() => match msg {
                    Some(msg) => Some(msg),
                    None => break Exit::Shutdown,
                },
                _ = sleep_until(deadline) => None,
                _ = tokio::time::sleep(SNAPSHOT_QUIET), if self.since_snapshot >= self.cfg.snapshot_every => {
                    if let Err(e) = self.snapshot().await {
                        break failed(&e);
                    }
                    continue;
                }
                _ = tokio::time::sleep(self.cfg.idle), if self.fanout.is_empty() => break Exit::Idle,
            };
            let mut batch = Batch {
                heads_before: self.record.heads(),
                seq_before: self.record.seq(),
                writes: Vec::new(),
                changed: Changed::default(),
                replies: Vec::new(),
                welcomes: Vec::new(),
                later: Vec::new(),
                commands: Vec::new(),
            };
            match msg {
                Some(msg) => self.handle(msg, &mut batch),
                None => self.tick(&mut batch),
            }
            self.gather(&mut rx, &shutdown, &mut batch).await;
            self.flushed_at = tokio::time::Instant::now();
            if let Err(e) = self.finish(batch).await {
                break failed(&e);
            }
            if self.failed {
                tracing::error!(
                    "a change failed in the document; unloading the room so it reloads from disk"
                );
                break Exit::Failed;
            }
            if let Some(reply) = self.deleting.take() {
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
            }
        };
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

    /// The session is gone from storage: everyone who knocks hears so, and dropping the room
    /// closes every connection (its phones resume, and learn there is no such session).
    async fn deleted(self, mut rx: mpsc::Receiver<RoomMsg>) -> Exit {
        drop(self);
        not_found(&mut rx).await;
        Exit::Deleted
    }

    /// The batch could not be stored (a full or read-only disk, a failing database): nothing of
    /// it is acknowledged or shown. The room reads its session back as stored (what every
    /// connection was last shown), answers the batch's commands with `storage_unavailable`,
    /// turns its joins away, and goes on with every connection; the next batch tries storage
    /// again. Only a session that cannot even be read back unloads, as before.
    async fn unstored(&mut self, b: Batch, e: StorageError) -> Result<(), StorageError> {
        tracing::error!(error = %e, commands = b.commands.len(), "storage failed; the batch is refused and the room goes on as stored");
        let loaded = match load::load(&self.code, &self.storage).await {
            Ok(Some(loaded)) => loaded,
            _ => return Err(e),
        };
        self.record = loaded.record;
        self.tokens = loaded.tokens;
        self.store_seq = loaded.store_seq;
        self.since_snapshot = loaded.since_snapshot;
        let why = refuse::<Refusal>(
            ErrorCode::StorageUnavailable,
            "the server could not store this, so it was not applied; send it again shortly",
        );
        for (conn, id) in &b.commands {
            self.fanout.send(*conn, error_frame(id, &why));
        }
        for (conn, frame, taken) in b.replies {
            if taken.is_none() {
                // A sync: still a barrier after everything sent before.
                self.fanout.send(conn, frame);
            }
        }
        for w in b.welcomes {
            let _ = w.reply.send(Err(JoinError::Refused(why.clone())));
        }
        for later in b.later {
            match later {
                Later::Info(reply) => {
                    let _ = reply.send(Err(JoinError::Refused(why.clone())));
                }
                Later::Refused(reply, refusal) => {
                    let _ = reply.send(Err(JoinError::Refused(refusal)));
                }
            }
        }
        self.drop_overflowed();
        Ok(())
    }

    /// When the floor next changes by itself, on tokio's clock.
    fn deadline(&self) -> Option<tokio::time::Instant> {
        self.record
            .next_deadline(self.floor_sent_at)
            .map(|ms| self.clock.instant_at(ms))
    }

    /// Takes what else is waiting into the batch. Within `flush_interval` of the last flush it
    /// also waits, until then, for more: under load, many changes share one flush. A room with
    /// fewer than [`FULL_GATHER_CONNS`] connections waits that much less (its flush is cheap,
    /// and a lone client sending command after command is not held up). The floor's own
    /// moments (a turn reaching its limit) still happen on time, into the same batch.
    async fn gather(
        &mut self,
        rx: &mut mpsc::Receiver<RoomMsg>,
        shutdown: &CancellationToken,
        b: &mut Batch,
    ) {
        let fan_out = (self.fanout.len() as f64 / FULL_GATHER_CONNS as f64).min(1.0);
        let flush_at = self.flushed_at + self.cfg.flush_interval.mul_f64(fan_out);
        let mut taken = 1;
        while taken < MAX_BATCH {
            if let Ok(msg) = rx.try_recv() {
                self.handle(msg, b);
                taken += 1;
                continue;
            }
            if tokio::time::Instant::now() >= flush_at {
                break;
            }
            let deadline = self.deadline();
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                msg = rx.recv() => match msg {
                    Some(msg) => {
                        self.handle(msg, b);
                        taken += 1;
                    }
                    None => break,
                },
                _ = sleep_until(deadline) => self.tick(b),
                _ = tokio::time::sleep_until(flush_at) => break,
            }
        }
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
                b.commands.push((conn, id.clone()));
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
                        if let Some(hash) = answer.revoked_token {
                            // Stored hashes stay; the record says the link is revoked, and a
                            // room loaded later leaves it out (see `load`).
                            self.tokens.remove(&hash);
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

    /// Makes the batch durable, then tells everyone.
    async fn finish(&mut self, mut b: Batch) -> Result<(), StorageError> {
        if self.record.heads() != b.heads_before {
            self.store_seq += 1;
            self.since_snapshot += self.record.seq() - b.seq_before;
            let bytes = self.record.doc.save_after(&b.heads_before);
            b.writes.push(Write::Changes {
                code: self.code.clone(),
                seq: self.store_seq,
                bytes,
            });
        }
        if !b.writes.is_empty() {
            let mut writes = load::fenced(&self.code, self.fence);
            writes.append(&mut b.writes);
            match self.storage.commit(writes).await {
                Ok(()) => {}
                Err(e @ StorageError::Fenced(_)) => return Err(e),
                Err(e) => return self.unstored(b, e).await,
            }
        }

        // New connections join the room now; this batch's delta is already in their welcome.
        let mut fresh = HashSet::new();
        for w in &b.welcomes {
            fresh.insert(w.conn.id);
            self.fanout.add(&w.conn, w.joined, &mut b.changed);
        }
        if b.changed.has(Part::Floor) {
            self.floor_sent_at = self.clock.now();
        }
        self.broadcast(&b.changed, &fresh);
        for (p, change) in b.changed.you() {
            let you = self.record.state.you_patch(p, change);
            if !you.is_empty() {
                let frame = encode(&ServerMessage::YouDelta { you });
                self.fanout.send_to_person(p, &frame, &fresh);
            }
        }
        for (conn, frame, taken) in b.replies {
            if let Some(taken) = taken {
                crate::metrics::command_answered(taken.elapsed());
            }
            self.fanout.send(conn, frame);
        }
        let moment = self.moment();
        let welcomes: Vec<_> = b
            .welcomes
            .iter()
            .map(|w| {
                encode(&ServerMessage::Welcome {
                    v: tafel_protocol::PROTOCOL_VERSION,
                    role: w.joined.role,
                    token: w.token.clone(),
                    you: self.record.state.you(w.joined.role, w.joined.participant),
                    view: self.record.view(w.joined.role, &moment),
                    seq: self.record.seq(),
                })
            })
            .collect();
        for (w, frame) in b.welcomes.into_iter().zip(welcomes) {
            self.fanout.send(w.conn.id, frame);
            let _ = w.reply.send(Ok(w.joined));
        }
        self.drop_overflowed();
        for later in b.later {
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

        // Snapshots wait for a quiet moment (see `serve`); a room that never pauses takes one
        // here once it is far past due, so a crash never leaves too much to replay.
        if self.since_snapshot >= self.cfg.snapshot_every * SNAPSHOT_OVERDUE {
            self.snapshot().await?;
        }
        Ok(())
    }

    /// Sends each role the changed parts, encoded once per role. A change this role may not
    /// see (a report, for a participant) sends it nothing.
    fn broadcast(&mut self, changed: &Changed, skip: &HashSet<ConnId>) {
        if changed.room_unchanged() {
            return;
        }
        let moment = self.moment();
        let frames: Vec<_> = self
            .fanout
            .roles(skip)
            .into_iter()
            .filter_map(|role| {
                let patch = self.record.state.patch(changed, role, &moment);
                let seq = self.record.seq();
                (!patch.is_empty()).then(|| (role, encode(&ServerMessage::Delta { seq, patch })))
            })
            .collect();
        for (role, frame) in frames {
            self.fanout.send_to_role(role, &frame, skip);
        }
    }

    /// Drops connections that fell behind; they resume and get a fresh snapshot. Their
    /// presence change goes out at once (and may drop more).
    fn drop_overflowed(&mut self) {
        loop {
            let changed = self.fanout.take_dropped();
            if changed.is_empty() {
                break;
            }
            self.broadcast(&changed, &HashSet::new());
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

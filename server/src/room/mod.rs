//! A room: the live actor of one session.
//!
//! One task per loaded session owns its [`Record`] outright; connections talk to it over a
//! bounded channel of [`RoomMsg`]. The loop takes whatever messages are waiting (a batch),
//! applies each as one automerge change, writes the batch's changes to storage in one durable
//! commit, and only then sends deltas (encoded once per role), own-data updates, acks and
//! welcomes. So nothing is acknowledged, or shown to anyone, before it is on disk.

pub mod conduct;
pub mod doc;
pub mod floor;
pub mod record;
pub mod state;

use crate::cmd::{Actor, Dirty, display_name};
use crate::error::{Refusal, StorageError, refuse};
use crate::registry::Registry;
use crate::secrets::{self, TokenHash};
use crate::storage::{Storage, TokenGrant, Write};
use axum::extract::ws::Utf8Bytes;
use record::Record;
use state::{Participant, parse_id};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tafel_protocol::{
    AckResult, Command, ErrorCode, Patch, Perspective, Role, ServerMessage, SessionInfo,
    SessionStatus,
};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// Identifies a connection, process-wide.
pub type ConnId = u64;

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

/// Where a room sends a connection's frames: a bounded outbox. When it is full the room drops
/// the connection instead of waiting, so a slow phone never slows its room.
#[derive(Debug, Clone)]
pub struct ConnSink {
    /// The connection.
    pub id: ConnId,
    /// Its outbox of encoded frames.
    pub outbox: mpsc::Sender<Utf8Bytes>,
}

/// A successful join or resume.
#[derive(Debug, Clone, Copy)]
pub struct Joined {
    /// The connection's role.
    pub role: Role,
    /// Its participant index, if any.
    pub participant: Option<usize>,
}

/// Why a join, resume or info request did not succeed.
#[derive(Debug)]
pub enum JoinError {
    /// Refused, with a reason for the client.
    Refused(Refusal),
    /// The room was unloading; ask the registry again.
    Retry,
}

/// What connections and the HTTP layer ask of a room.
#[derive(Debug)]
pub enum RoomMsg {
    /// A new participant.
    Join {
        /// Display name as typed.
        name: String,
        /// Perspective.
        perspective: Perspective,
        /// Where to send the welcome and everything after.
        conn: ConnSink,
        /// Told the outcome after the welcome is in the outbox.
        reply: oneshot::Sender<Result<Joined, JoinError>>,
    },
    /// Someone with a token.
    Resume {
        /// The token's hash.
        token: TokenHash,
        /// Where to send the welcome and everything after.
        conn: ConnSink,
        /// Told the outcome after the welcome is in the outbox.
        reply: oneshot::Sender<Result<Joined, JoinError>>,
    },
    /// A command from a joined connection; answered through its outbox.
    Command {
        /// The connection.
        conn: ConnId,
        /// The client's command id.
        id: String,
        /// The command.
        cmd: Command,
    },
    /// A connection closed.
    Leave {
        /// The connection.
        conn: ConnId,
    },
    /// What a phone may know before joining.
    Info {
        /// Told the answer.
        reply: oneshot::Sender<Result<SessionInfo, JoinError>>,
    },
}

/// A handle to a running room.
#[derive(Debug, Clone)]
pub struct RoomHandle {
    /// Distinguishes this run of the room from a later one with the same code.
    pub id: u64,
    /// The room's mailbox.
    pub tx: mpsc::Sender<RoomMsg>,
}

/// Settings every room shares.
#[derive(Debug, Clone)]
pub struct RoomConfig {
    /// Base of links, e.g. `http://192.168.1.20:8080`, without trailing slash.
    pub public_url: Arc<str>,
    /// How long a room with no connection stays loaded.
    pub idle: Duration,
    /// Write a snapshot once this many changes were stored after the last one, at the room's
    /// next quiet moment (a second without messages), or at ten times this many if it has
    /// none. A crash leaves at most that many to replay.
    pub snapshot_every: u64,
    /// Capacity of each connection's outbox, in frames.
    pub outbox: usize,
    /// The shortest time between two flushes of a room of 50 connections or more (store, then
    /// acks and deltas; smaller rooms wait their share of it). A change after a quiet moment
    /// goes out at once; under load, what arrives within this time after a flush is gathered
    /// and goes out together: one storage commit, one delta frame per role and one write per
    /// connection for many changes.
    pub flush_interval: Duration,
}

impl Default for RoomConfig {
    fn default() -> Self {
        Self {
            public_url: "http://localhost:8080".into(),
            idle: Duration::from_secs(300),
            snapshot_every: 2000,
            outbox: 256,
            flush_interval: Duration::from_millis(20),
        }
    }
}

/// The server's clock, in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A room's clock: the server's time in milliseconds since the epoch, read once when the room
/// loads and then advanced by tokio's monotonic clock. So times in a session never run
/// backwards, and tests can pause and advance a room's time.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    base_ms: i64,
    base: tokio::time::Instant,
}

impl Clock {
    /// Starts at the system's time now.
    pub fn start() -> Self {
        Self {
            base_ms: now_ms(),
            base: tokio::time::Instant::now(),
        }
    }

    /// The time now.
    pub fn now(&self) -> tafel_protocol::Millis {
        self.base_ms + self.base.elapsed().as_millis() as i64
    }

    /// The instant at which this clock reads `ms`.
    pub fn instant_at(&self, ms: tafel_protocol::Millis) -> tokio::time::Instant {
        self.base + Duration::from_millis((ms - self.base_ms).max(0) as u64)
    }
}

/// The most participants one session takes (each is a record every screen shows).
pub const MAX_PARTICIPANTS: usize = 2000;

/// An answer that waits until the batch is durable: nothing is shown before it is stored.
enum Later {
    Info(oneshot::Sender<Result<SessionInfo, JoinError>>),
    Refused(oneshot::Sender<Result<Joined, JoinError>>, Refusal),
}

struct Conn {
    outbox: mpsc::Sender<Utf8Bytes>,
    role: Role,
    participant: Option<usize>,
}

struct PendingWelcome {
    conn: ConnSink,
    joined: Joined,
    token: Option<String>,
    reply: oneshot::Sender<Result<Joined, JoinError>>,
}

/// What one pass of the loop gathered.
struct Batch {
    heads_before: Vec<automerge::ChangeHash>,
    seq_before: u64,
    writes: Vec<Write>,
    dirty: Dirty,
    /// Answers to commands, each with when the room took the command.
    replies: Vec<(ConnId, Utf8Bytes, std::time::Instant)>,
    welcomes: Vec<PendingWelcome>,
    later: Vec<Later>,
}

struct Room {
    code: String,
    record: Record,
    storage: Storage,
    cfg: Arc<RoomConfig>,
    tokens: HashMap<TokenHash, TokenGrant>,
    /// The ack of every applied command, per (participant, command id), so a resent command
    /// is answered the same way and applied once. Rebuilt from the change messages on load.
    /// Refusals are not kept: a client never resends an id it saw refused, and one it did not
    /// see is simply checked again.
    answers: HashMap<(usize, String), AckResult>,
    conns: HashMap<ConnId, Conn>,
    /// Live connections per participant: presence, kept in memory only.
    online: Vec<u32>,
    /// Number of changes in the document (the `seq` clients see).
    seq: u64,
    /// The last storage sequence number written.
    store_seq: u64,
    /// Changes stored since the last snapshot.
    since_snapshot: u64,
    /// Connections whose outbox overflowed, to drop after the fan-out.
    dropped: Vec<ConnId>,
    /// The room's time.
    clock: Clock,
    /// When the floor was last sent to everyone: a moment of the floor's own (overtime, a hold
    /// ending) after this is still to be sent, even if the room was busy when it came.
    floor_sent_at: tafel_protocol::Millis,
    /// A command failed inside the document (not a refusal): the room stores what it has and
    /// unloads, so the next request loads it whole from disk.
    failed: bool,
    /// When the room last flushed; the next flush waits until `flush_interval` after it.
    flushed_at: tokio::time::Instant,
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

/// Runs a room until it unloads, fails or the server stops. Spawned by the [`Registry`].
pub(crate) async fn run(
    code: String,
    id: u64,
    mut rx: mpsc::Receiver<RoomMsg>,
    storage: Storage,
    cfg: Arc<RoomConfig>,
    registry: Arc<Registry>,
    shutdown: CancellationToken,
) {
    let span = tracing::info_span!("room", room = %code);
    async move {
        let started = std::time::Instant::now();
        let room = match load(&code, storage, cfg).await {
            Ok(Some(room)) => room,
            Ok(None) => {
                registry.remove(&code, id);
                drain(&mut rx, || {
                    JoinError::Refused(refuse(
                        ErrorCode::SessionNotFound,
                        "there is no session with this code",
                    ))
                })
                .await;
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "could not load the session");
                registry.remove(&code, id);
                drain(&mut rx, || {
                    JoinError::Refused(refuse(
                        ErrorCode::Internal,
                        "the session could not be loaded",
                    ))
                })
                .await;
                return;
            }
        };
        let took = started.elapsed();
        tracing::info!(
            changes = room.seq,
            ms = took.as_millis() as u64,
            "session loaded"
        );
        let _loaded = crate::metrics::room_loaded(took);
        room.serve(rx, id, registry, shutdown).await;
    }
    .instrument(span)
    .await
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Answers everything left in a closed mailbox.
async fn drain(rx: &mut mpsc::Receiver<RoomMsg>, answer: impl Fn() -> JoinError) {
    rx.close();
    while let Some(msg) = rx.recv().await {
        match msg {
            RoomMsg::Join { reply, .. } | RoomMsg::Resume { reply, .. } => {
                let _ = reply.send(Err(answer()));
            }
            RoomMsg::Info { reply } => {
                let _ = reply.send(Err(answer()));
            }
            RoomMsg::Command { .. } | RoomMsg::Leave { .. } => {}
        }
    }
}

async fn load(code: &str, storage: Storage, cfg: Arc<RoomConfig>) -> Result<Option<Room>, String> {
    let Some(stored) = storage.load(code).await.map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let meta = stored.meta.clone().ok_or("session without metadata")?;
    let key = secrets::from_hex32(&meta.key).ok_or("bad session key")?;
    let store_seq = stored
        .changes
        .last()
        .map_or(stored.snapshot_upto, |(seq, _)| *seq);
    let (record, messages, since_snapshot) =
        tokio::task::spawn_blocking(move || -> Result<_, String> {
            let mut doc =
                automerge::Automerge::load(&stored.snapshot).map_err(|e| e.to_string())?;
            let mut since_snapshot = 0;
            if !stored.changes.is_empty() {
                let in_snapshot = doc.get_changes_meta(&[]).len();
                // One call for all of them: automerge applies a batch of changes far faster than
                // the same changes chunk by chunk (307 ms against 2.2 s for 10,000 changes).
                let all: Vec<u8> = stored
                    .changes
                    .iter()
                    .flat_map(|(_, bytes)| bytes.iter().copied())
                    .collect();
                doc.load_incremental(&all).map_err(|e| e.to_string())?;
                since_snapshot = doc.get_changes_meta(&[]).len().saturating_sub(in_snapshot) as u64;
            }
            let messages = doc::messages(&doc);
            Ok((Record::from_doc(doc, key)?, messages, since_snapshot))
        })
        .await
        .map_err(|e| e.to_string())??;
    let mut answers = HashMap::new();
    for m in &messages {
        if let (Some(by), Some(id)) = (&m.by, &m.id)
            && let Some(p) = record.state.by_pseudonym.get(by)
        {
            answers.insert((*p, id.clone()), m.ack.clone());
        }
    }
    let online = vec![0; record.state.participants.len()];
    Ok(Some(Room {
        code: code.to_owned(),
        seq: messages.len() as u64,
        record,
        storage,
        cfg,
        tokens: stored.tokens.into_iter().collect(),
        answers,
        conns: HashMap::new(),
        online,
        store_seq,
        since_snapshot,
        dropped: Vec::new(),
        clock: Clock::start(),
        floor_sent_at: 0,
        failed: false,
        flushed_at: tokio::time::Instant::now(),
    }))
}

enum Exit {
    Idle,
    Shutdown,
    Failed,
}

impl Room {
    async fn serve(
        mut self,
        mut rx: mpsc::Receiver<RoomMsg>,
        id: u64,
        registry: Arc<Registry>,
        shutdown: CancellationToken,
    ) {
        let exit = loop {
            let deadline = self.next_deadline().map(|ms| self.clock.instant_at(ms));
            let msg = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break Exit::Shutdown,
                msg = rx.recv() => match msg {
                    Some(msg) => Some(msg),
                    None => break Exit::Shutdown,
                },
                _ = sleep_until(deadline) => None,
                _ = tokio::time::sleep(SNAPSHOT_QUIET), if self.since_snapshot >= self.cfg.snapshot_every => {
                    if let Err(e) = self.snapshot().await {
                        tracing::error!(error = %e, "storage failed; unloading the room so it reloads from disk");
                        break Exit::Failed;
                    }
                    continue;
                }
                _ = tokio::time::sleep(self.cfg.idle), if self.conns.is_empty() => break Exit::Idle,
            };
            let mut batch = Batch {
                heads_before: self.record.heads(),
                seq_before: self.seq,
                writes: Vec::new(),
                dirty: Dirty::default(),
                replies: Vec::new(),
                welcomes: Vec::new(),
                later: Vec::new(),
            };
            match msg {
                Some(msg) => self.handle(msg, &mut batch),
                None => self.tick(&mut batch),
            }
            self.gather(&mut rx, &shutdown, &mut batch).await;
            self.flushed_at = tokio::time::Instant::now();
            if let Err(e) = self.finish(batch).await {
                tracing::error!(error = %e, "storage failed; unloading the room so it reloads from disk");
                break Exit::Failed;
            }
            if self.failed {
                tracing::error!(
                    "a change failed in the document; unloading the room so it reloads from disk"
                );
                break Exit::Failed;
            }
        };
        let stopping = std::time::Instant::now();
        if !matches!(exit, Exit::Failed)
            && self.since_snapshot > 0
            && let Err(e) = self.snapshot().await
        {
            tracing::error!(error = %e, "could not write the final snapshot (the changes are stored)");
        }
        let stop_ms = stopping.elapsed().as_millis() as u64;
        registry.remove(&self.code, id);
        // Whoever knocked while the room was closing asks the registry again, and gets a room
        // freshly loaded from storage.
        drain(&mut rx, || JoinError::Retry).await;
        tracing::info!(
            reason = match exit {
                Exit::Idle => "idle",
                Exit::Shutdown => "shutdown",
                Exit::Failed => "failed",
            },
            changes = self.seq,
            ms = stop_ms,
            "room unloaded"
        );
        // Dropping `self` drops every outbox sender: connections close and clients resume.
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
        let fan_out = (self.conns.len() as f64 / FULL_GATHER_CONNS as f64).min(1.0);
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
            let deadline = self.next_deadline().map(|ms| self.clock.instant_at(ms));
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

    /// The next moment the floor changes by itself: a turn reaching its limit, or a hand whose
    /// hold ends.
    fn next_deadline(&self) -> Option<tafel_protocol::Millis> {
        let sent = self.floor_sent_at;
        let s = &self.record.state;
        let turn = s.floor.deadline().filter(|d| s.floor.hard() || *d > sent);
        let hold = s
            .holds
            .values()
            .copied()
            .filter(|until| *until > sent)
            .min();
        turn.into_iter().chain(hold).min()
    }

    /// A deadline passed: a hard turn ends (a change in the record, by the server), a soft one
    /// turns overtime, or a hold ended. Either way everyone gets the floor anew.
    fn tick(&mut self, b: &mut Batch) {
        let now = self.clock.now();
        match self.record.limit_reached(now, &self.online, &mut b.dirty) {
            Ok(true) => {
                self.seq += 1;
                tracing::debug!("turn ended at its limit");
            }
            Ok(false) => {}
            Err(r) => {
                tracing::error!(error = %r, "could not end a turn at its limit");
                self.failed = true;
            }
        }
        b.dirty.floor = true;
    }

    fn handle(&mut self, msg: RoomMsg, b: &mut Batch) {
        match msg {
            RoomMsg::Join {
                name,
                perspective,
                conn,
                reply,
            } => match self.join(&name, perspective, b) {
                Ok((joined, token)) => b.welcomes.push(PendingWelcome {
                    conn,
                    joined,
                    token: Some(token),
                    reply,
                }),
                Err(r) => b.later.push(Later::Refused(reply, r)),
            },
            RoomMsg::Resume { token, conn, reply } => match self.tokens.get(&token) {
                Some(grant) => {
                    let participant = grant.participant.as_deref().and_then(|p| parse_id('p', p));
                    let joined = Joined {
                        role: grant.role,
                        participant,
                    };
                    b.welcomes.push(PendingWelcome {
                        conn,
                        joined,
                        token: None,
                        reply,
                    });
                }
                None => b.later.push(Later::Refused(
                    reply,
                    refuse(
                        ErrorCode::BadToken,
                        "this link or token is not valid for this session",
                    ),
                )),
            },
            RoomMsg::Command { conn, id, cmd } => {
                let Some(c) = self.conns.get(&conn) else {
                    return;
                };
                let taken = std::time::Instant::now();
                crate::metrics::command(crate::cmd::name(&cmd));
                let actor = Actor {
                    role: c.role,
                    participant: c.participant,
                };
                let answer = match actor
                    .participant
                    .and_then(|p| self.answers.get(&(p, id.clone())))
                {
                    Some(previous) => Ok(previous.clone()),
                    None => {
                        let answer = self.apply(actor, &id, &cmd, b);
                        if let (Ok(ack), Some(p)) = (&answer, actor.participant) {
                            self.answers.insert((p, id.clone()), ack.clone());
                        }
                        answer
                    }
                };
                let frame = match answer {
                    Ok(mut result) => {
                        if let (Command::ProjectorLink, Some(p)) = (&cmd, actor.participant) {
                            result.projector_url = Some(self.projector_link(p, &id, b));
                        }
                        encode(&ServerMessage::Ack { id, result })
                    }
                    Err(r) => error_frame(&id, &r),
                };
                b.replies.push((conn, frame, taken));
            }
            RoomMsg::Leave { conn } => self.remove_conn(conn, &mut b.dirty),
            RoomMsg::Info { reply } => b.later.push(Later::Info(reply)),
        }
    }

    /// The link a `projector_link` command made: its token is derived from the session key,
    /// the giver and the command id, so a resent command gives the same link, and only the
    /// token's hash is ever kept. A new token is stored in this batch, before the ack.
    fn projector_link(&mut self, p: usize, id: &str, b: &mut Batch) -> String {
        let context = format!("projector-link\0{}\0{id}", self.record.state.pseudonyms[p]);
        let token = secrets::derived_token(&self.record.state.key, &context);
        let hash = secrets::hash_token(&token);
        if let std::collections::hash_map::Entry::Vacant(slot) = self.tokens.entry(hash) {
            let grant = TokenGrant {
                role: Role::Projector,
                participant: None,
            };
            slot.insert(grant.clone());
            b.writes.push(Write::Token {
                code: self.code.clone(),
                hash,
                grant,
            });
        }
        format!("{}/p/{}#{token}", self.cfg.public_url, self.code)
    }

    fn apply(
        &mut self,
        actor: Actor,
        id: &str,
        cmd: &Command,
        b: &mut Batch,
    ) -> Result<AckResult, Refusal> {
        let now = self.clock.now();
        let result = self
            .record
            .apply(actor, id, cmd, now, &self.online, &mut b.dirty);
        match &result {
            Ok(_) => {
                self.seq += 1;
                tracing::debug!(cmd = crate::cmd::name(cmd), participant = ?actor.participant, "applied");
            }
            Err(r) if r.code == ErrorCode::Internal => self.failed = true,
            Err(r) => tracing::debug!(cmd = crate::cmd::name(cmd), code = ?r.code, "refused"),
        }
        result
    }

    fn join(
        &mut self,
        name: &str,
        perspective: Perspective,
        b: &mut Batch,
    ) -> Result<(Joined, String), Refusal> {
        match self.record.state.fields.status {
            SessionStatus::Open => {}
            SessionStatus::Locked => {
                return Err(refuse(
                    ErrorCode::SessionLocked,
                    "this session is closed to new participants",
                ));
            }
            SessionStatus::Ended => {
                return Err(refuse(ErrorCode::SessionEnded, "this session has ended"));
            }
        }
        if self.record.state.participants.len() >= MAX_PARTICIPANTS {
            return Err(refuse(
                ErrorCode::SessionFull,
                "this session has as many participants as it can take",
            ));
        }
        let name = display_name(name)?;
        let p = Participant {
            name,
            perspective,
            role: Role::Participant,
            joined_at: self.clock.now(),
        };
        let index = self.record.join(p, &mut b.dirty)?;
        self.seq += 1;
        self.online.push(0);
        let token = secrets::new_token();
        let grant = TokenGrant {
            role: Role::Participant,
            participant: Some(state::id('p', index)),
        };
        let hash = secrets::hash_token(&token);
        self.tokens.insert(hash, grant.clone());
        b.writes.push(Write::Token {
            code: self.code.clone(),
            hash,
            grant,
        });
        Ok((
            Joined {
                role: Role::Participant,
                participant: Some(index),
            },
            token,
        ))
    }

    /// Makes the batch durable, then tells everyone.
    async fn finish(&mut self, mut b: Batch) -> Result<(), StorageError> {
        if self.record.heads() != b.heads_before {
            self.store_seq += 1;
            self.since_snapshot += self.seq - b.seq_before;
            let bytes = self.record.doc.save_after(&b.heads_before);
            b.writes.push(Write::Changes {
                code: self.code.clone(),
                seq: self.store_seq,
                bytes,
            });
        }
        if !b.writes.is_empty() {
            self.storage.commit(std::mem::take(&mut b.writes)).await?;
        }

        // New connections join the room now; this batch's delta is already in their welcome.
        let mut fresh = HashSet::new();
        for w in &b.welcomes {
            fresh.insert(w.conn.id);
            self.conns.insert(
                w.conn.id,
                Conn {
                    outbox: w.conn.outbox.clone(),
                    role: w.joined.role,
                    participant: w.joined.participant,
                },
            );
            if let Some(p) = w.joined.participant {
                self.online[p] += 1;
                if self.online[p] == 1 {
                    b.dirty.participants.insert(p);
                    // Who is present counts for the round order and the balance.
                    b.dirty.floor = true;
                }
            }
        }

        if b.dirty.floor {
            self.floor_sent_at = self.clock.now();
        }
        self.broadcast(&b.dirty, &fresh);
        for p in &b.dirty.you {
            let frame = encode(&ServerMessage::You {
                you: self.record.state.you(self.role_of(*p), Some(*p)),
            });
            let targets: Vec<ConnId> = self
                .conns
                .iter()
                .filter(|(id, c)| c.participant == Some(*p) && !fresh.contains(*id))
                .map(|(id, _)| *id)
                .collect();
            for id in targets {
                self.send(id, frame.clone());
            }
        }
        for (conn, frame, taken) in b.replies {
            crate::metrics::command_answered(taken.elapsed());
            self.send(conn, frame);
        }
        for w in b.welcomes {
            let welcome = ServerMessage::Welcome {
                v: tafel_protocol::PROTOCOL_VERSION,
                role: w.joined.role,
                token: w.token,
                you: self.record.state.you(w.joined.role, w.joined.participant),
                view: self.view(w.joined.role),
                seq: self.seq,
            };
            self.send(w.conn.id, encode(&welcome));
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

    fn role_of(&self, p: usize) -> Role {
        self.record.state.participants[p].role
    }

    fn view(&self, role: Role) -> tafel_protocol::View {
        self.record
            .state
            .view(role, &self.cfg.public_url, self.clock.now(), &self.online)
    }

    /// Sends each role the changed entities, encoded once per role.
    fn broadcast(&mut self, dirty: &Dirty, skip: &HashSet<ConnId>) {
        if dirty.is_empty() {
            return;
        }
        for role in [Role::Facilitator, Role::Participant, Role::Projector] {
            let targets: Vec<ConnId> = self
                .conns
                .iter()
                .filter(|(id, c)| c.role == role && !skip.contains(*id))
                .map(|(id, _)| *id)
                .collect();
            if targets.is_empty() {
                continue;
            }
            // A change this role may not see (a report, for a participant) sends it nothing:
            // not even an empty delta, which would tell that something happened.
            let Some(frame) = self.delta(dirty, role) else {
                continue;
            };
            for id in targets {
                self.send(id, frame.clone());
            }
        }
    }

    fn delta(&self, dirty: &Dirty, role: Role) -> Option<Utf8Bytes> {
        let s = &self.record.state;
        let online = |p: usize| self.online.get(p).is_some_and(|n| *n > 0);
        let patch = Patch {
            session: dirty.session.then(|| s.session_view(&self.cfg.public_url)),
            participants: dirty
                .participants
                .iter()
                .map(|p| s.participant_view(*p, online(*p)))
                .collect(),
            cards: dirty.cards.iter().map(|c| s.card_view(*c, role)).collect(),
            rounds: dirty
                .rounds
                .iter()
                .map(|r| s.round_view(*r, role))
                .collect(),
            floor: dirty
                .floor
                .then(|| s.floor_view(role, self.clock.now(), &self.online)),
            rules: dirty.rules.then(|| s.rules_view()),
            reports: if role == Role::Facilitator {
                dirty.reports.iter().map(|r| s.report_view(*r)).collect()
            } else {
                Vec::new()
            },
        };
        (!patch.is_empty()).then(|| {
            encode(&ServerMessage::Delta {
                seq: self.seq,
                patch,
            })
        })
    }

    /// Puts a frame in a connection's outbox without waiting; a full outbox marks the
    /// connection to be dropped.
    fn send(&mut self, conn: ConnId, frame: Utf8Bytes) {
        // Once a frame could not go out, nothing later may: an ack must not arrive without its
        // delta. The connection closes and resyncs.
        if self.dropped.contains(&conn) {
            return;
        }
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        match c.outbox.try_send(frame) {
            Ok(()) => crate::metrics::delivered(),
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(
                    conn,
                    role = ?c.role,
                    outbox = self.cfg.outbox,
                    "outbox full: dropping a connection that fell behind"
                );
                crate::metrics::outbox_dropped();
                self.dropped.push(conn);
            }
            // Already closed; its Leave is on the way. Stop sending to it now.
            Err(mpsc::error::TrySendError::Closed(_)) => self.dropped.push(conn),
        }
    }

    /// Drops connections that fell behind; they resume and get a fresh snapshot. Their
    /// presence change goes out at once.
    fn drop_overflowed(&mut self) {
        while !self.dropped.is_empty() {
            let mut dirty = Dirty::default();
            for conn in std::mem::take(&mut self.dropped) {
                self.remove_conn(conn, &mut dirty);
            }
            self.broadcast(&dirty, &HashSet::new());
        }
    }

    fn remove_conn(&mut self, conn: ConnId, dirty: &mut Dirty) {
        if let Some(c) = self.conns.remove(&conn)
            && let Some(p) = c.participant
        {
            self.online[p] -= 1;
            if self.online[p] == 0 {
                dirty.participants.insert(p);
                dirty.floor = true;
            }
        }
    }

    /// Compacts: one snapshot replaces the changes stored so far.
    async fn snapshot(&mut self) -> Result<(), StorageError> {
        // Saving a large document is CPU work: do it off the async workers. The room owns its
        // document, so it lends it out and waits.
        let doc = std::mem::take(&mut self.record.doc);
        let (doc, bytes) = tokio::task::spawn_blocking(move || {
            let bytes = doc.save();
            (doc, bytes)
        })
        .await
        .map_err(|e| StorageError::Db(format!("snapshot task: {e}")))?;
        self.record.doc = doc;
        let upto = self.store_seq;
        self.storage
            .commit(vec![Write::Snapshot {
                code: self.code.clone(),
                bytes,
                upto,
            }])
            .await?;
        self.since_snapshot = 0;
        Ok(())
    }
}

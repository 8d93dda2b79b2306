//! One WebSocket connection: turns frames into typed messages, joins a room, forwards commands
//! to it, and writes what the room puts in its outbox.
//!
//! Written against any `Stream` + `Sink` of [`Message`], so it needs no real socket to test.
//! Limits: a text frame of at most [`MAX_FRAME_BYTES`] (bigger closes with 1009), a token
//! bucket of `--max-messages-per-sec` messages a second with bursts of three times that
//! (flooding closes with 1008), and 60 s of silence closes the connection (clients ping every 20 s).

use crate::cluster::forward::{self, Opened, Upstream};
use crate::error::{Refusal, refuse};
use crate::guard::JoinGuard;
use crate::registry::{Answer, Registry};
use crate::room::{ConnSink, JoinError, Joined, RoomHandle, RoomMsg};
use crate::secrets;
use crate::woken::Woken;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use dashmap::DashMap;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tafel_protocol::{
    ClientMessage, ErrorCode, MAX_FRAME_BYTES, PROTOCOL_VERSION, Role, ServerMessage, limits,
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Silence after which the server closes a connection.
pub const IDLE: Duration = Duration::from_secs(60);

/// How long a new connection may take to send its `join` or `resume`.
pub const JOIN_WAIT: Duration = Duration::from_secs(10);

/// WebSocket close codes the server uses.
pub mod close {
    /// Normal closure (idle).
    pub const NORMAL: u16 = 1000;
    /// The server is stopping.
    pub const GOING_AWAY: u16 = 1001;
    /// Flooding: too many messages.
    pub const POLICY: u16 = 1008;
    /// A frame over the size limit.
    pub const TOO_BIG: u16 = 1009;
    /// A frame that breaks RFC 6455 (reserved bits, an unmasked frame, an unknown opcode, a
    /// stray continuation, a fragmented or oversized control frame).
    pub const PROTOCOL: u16 = 1002;
    /// A text frame that is not valid UTF-8.
    pub const INVALID_DATA: u16 = 1007;
    /// The client fell behind; resume for a fresh snapshot.
    pub const TRY_AGAIN: u16 = 1013;
}

/// What a connection needs from the server.
#[derive(Clone)]
pub struct ConnEnv {
    /// The rooms.
    pub registry: Arc<Registry>,
    /// Wrong-code throttle.
    pub guard: Arc<JoinGuard>,
    /// The client's address.
    pub peer: IpAddr,
    /// Cancelled when the server stops.
    pub shutdown: CancellationToken,
    /// Sustained messages per second this client may send.
    pub rate: u32,
    /// Buckets of participants who left with theirs not yet full.
    pub rates: Arc<RateBook>,
    /// Counts the connection as pending (against its address) until its join is answered.
    pub unjoined: crate::accept::Unjoined,
    /// The connection comes from another node, which passes a phone's frames on to this one
    /// (the owner of its session). It is never passed on again.
    pub forwarded: bool,
}

/// A token bucket: `rate` a second, holding at most `burst`.
struct Bucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    at: Instant,
}

impl Bucket {
    fn new(rate: u32) -> Self {
        let rate = f64::from(rate.max(1));
        Self {
            tokens: rate * 3.0,
            rate,
            burst: rate * 3.0,
            at: Instant::now(),
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.burst);
        self.at = now;
    }

    fn take(&mut self) -> bool {
        self.refill();
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The buckets of participants whose connection ended before their bucket was full again,
/// so reconnecting does not hand out a fresh burst: a client cut off for flooding that comes
/// straight back finds its bucket as empty as it left it (refilled only by the time passed).
#[derive(Default)]
pub struct RateBook(DashMap<(String, usize), Bucket>);

impl RateBook {
    /// Keeps a leaving participant's bucket if it is not yet full again.
    fn keep(&self, who: (String, usize), mut bucket: Bucket) {
        bucket.refill();
        if bucket.tokens >= bucket.burst {
            return;
        }
        if self.0.len() > 10_000 {
            self.0.retain(|_, b| {
                b.refill();
                b.tokens < b.burst
            });
        }
        self.0.insert(who, bucket);
    }

    /// A participant coming back continues with the emptier of its new bucket and the kept one.
    fn resume(&self, who: &(String, usize), bucket: &mut Bucket) {
        if let Some((_, mut kept)) = self.0.remove(who) {
            kept.refill();
            if kept.tokens < bucket.tokens {
                *bucket = kept;
            }
        }
    }
}

struct InRoom {
    room: RoomHandle,
    role: Role,
    /// The session's code and the participant, for the rate book.
    who: Option<(String, usize)>,
}

enum Flow {
    /// Keep serving.
    Continue,
    /// Close with this code and reason.
    Close(u16, &'static str),
    /// The client is gone or stuck: stop without a close frame. Says why, as a metric label.
    Gone(&'static str),
    /// Another node owns the session and welcomed the phone: pass frames on to it.
    Forward(Box<Forwarding>),
    /// A forwarded connection ended: close with the code and reason the owner gave.
    Relay(u16, String),
}

/// A phone welcomed by the node that owns its session.
struct Forwarding {
    upstream: Box<Upstream>,
    welcome: Utf8Bytes,
    role: Role,
    watch: crate::cluster::lease::Watch,
}

impl Flow {
    /// Why the connection ended, as a fixed word for metrics and logs.
    fn reason(&self) -> &'static str {
        match self {
            Flow::Continue => "open",
            Flow::Close(close::NORMAL, _) => "idle",
            Flow::Close(close::GOING_AWAY, _) => "shutdown",
            Flow::Close(close::POLICY, JOIN_LATE) => "join_timeout",
            Flow::Close(close::POLICY, _) => "rate_limit",
            Flow::Close(close::TOO_BIG, _) => "too_big",
            Flow::Close(close::TRY_AGAIN, _) => "resync",
            Flow::Close(close::PROTOCOL, _) => "protocol_error",
            Flow::Close(close::INVALID_DATA, _) => "invalid_utf8",
            Flow::Close(..) => "other",
            Flow::Gone(why) => why,
            Flow::Forward(_) => "forwarding",
            Flow::Relay(..) => "forwarded",
        }
    }
}

/// Whether a frame is a `join` or a `resume` (read before the whole message is parsed).
fn is_hello(frame: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Kind<'a> {
        #[serde(rename = "type", borrow)]
        kind: &'a str,
    }
    serde_json::from_str::<Kind<'_>>(frame).is_ok_and(|k| matches!(k.kind, "join" | "resume"))
}

/// The reason of the close for a connection that never said who it is.
const JOIN_LATE: &str = "send join or resume first";

/// How a read error ends the connection: with the close code RFC 6455 names for it when the
/// socket can still carry one, or without a word when the client is gone.
fn read_error(e: &axum::Error) -> Flow {
    match std::error::Error::source(e).and_then(|s| s.downcast_ref::<tungstenite::Error>()) {
        Some(tungstenite::Error::Capacity(_)) => Flow::Close(close::TOO_BIG, "message too big"),
        Some(tungstenite::Error::Utf8(_)) => {
            Flow::Close(close::INVALID_DATA, "a text frame is not valid UTF-8")
        }
        Some(tungstenite::Error::Protocol(
            tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
        )) => Flow::Gone("read_error"),
        Some(tungstenite::Error::Protocol(_)) => {
            Flow::Close(close::PROTOCOL, "the frame breaks the WebSocket protocol")
        }
        _ => Flow::Gone("read_error"),
    }
}

fn text(msg: &ServerMessage) -> Message {
    Message::Text(Utf8Bytes::from(
        serde_json::to_string(msg).expect("protocol types serialize"),
    ))
}

/// Every error frame a connection sends itself passes here (the room's go through its own).
fn error(id: Option<String>, code: ErrorCode, message: impl Into<String>) -> Message {
    crate::metrics::error(code);
    text(&ServerMessage::Error {
        id,
        code,
        message: message.into(),
        field: None,
    })
}

fn refusal(id: Option<String>, r: Refusal) -> Message {
    crate::metrics::error(r.code);
    text(&ServerMessage::Error {
        id,
        code: r.code,
        message: r.message,
        field: r.field.map(str::to_owned),
    })
}

/// Parses a client frame; on failure, the error to send (with the command id when one can be
/// read, and `unknown_command` when only the command type is unknown).
fn parse(frame: &str) -> Result<ClientMessage, Message> {
    match serde_json::from_str::<ClientMessage>(frame) {
        Ok(msg) => Ok(msg),
        Err(err) => {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(frame) else {
                return Err(error(
                    None,
                    ErrorCode::BadMessage,
                    "the message is not valid JSON",
                ));
            };
            let id = value.get("id").and_then(|v| v.as_str()).map(str::to_owned);
            let kind = value.pointer("/cmd/type").and_then(|v| v.as_str());
            // A command type is known when serde complains about its fields, not its name.
            let unknown = kind.is_some_and(|k| {
                serde_json::from_value::<tafel_protocol::Command>(serde_json::json!({ "type": k }))
                    .is_err_and(|e| e.to_string().starts_with("unknown variant"))
            });
            if value.get("type").and_then(|v| v.as_str()) == Some("cmd") && unknown {
                return Err(error(
                    id,
                    ErrorCode::UnknownCommand,
                    format!("unknown command {:?}", kind.unwrap_or("")),
                ));
            }
            Err(error(
                id,
                ErrorCode::BadMessage,
                format!("not a valid message: {err}"),
            ))
        }
    }
}

/// How long one write to a client may take before the connection is given up. A client that
/// stops reading (or shrinks its TCP window to zero) must not hold a task, or shutdown, forever.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends one frame within [`WRITE_TIMEOUT`]; false when the socket is dead or stuck.
async fn send<S>(socket: &mut S, msg: Message) -> bool
where
    S: Sink<Message, Error = axum::Error> + Unpin,
{
    matches!(
        tokio::time::timeout(WRITE_TIMEOUT, socket.send(msg)).await,
        Ok(Ok(()))
    )
}

/// Writes `first` and whatever else waits in the outbox (up to 64 frames), then flushes once,
/// all within [`WRITE_TIMEOUT`].
async fn write_out<S>(
    socket: &mut S,
    first: Utf8Bytes,
    outbox: &mut mpsc::Receiver<Utf8Bytes>,
) -> bool
where
    S: Sink<Message, Error = axum::Error> + Unpin,
{
    let write = async {
        socket.feed(Message::Text(first)).await?;
        for _ in 0..64 {
            match outbox.try_recv() {
                Ok(frame) => socket.feed(Message::Text(frame)).await?,
                Err(_) => break,
            }
        }
        socket.flush().await
    };
    matches!(tokio::time::timeout(WRITE_TIMEOUT, write).await, Ok(Ok(())))
}

/// Serves one connection until it closes, the room drops it, or the server stops.
pub async fn serve<S>(mut socket: S, env: ConnEnv)
where
    S: Stream<Item = Result<Message, axum::Error>> + Sink<Message, Error = axum::Error> + Unpin,
{
    let id = env.registry.next_conn_id();
    let (outbox_tx, mut outbox) = mpsc::channel::<Utf8Bytes>(env.registry.config().outbox);
    // Held until joined: the room then holds the only sender, so dropping it closes the outbox.
    let mut sink = Some(ConnSink {
        id,
        outbox: outbox_tx,
    });
    let mut in_room: Option<InRoom> = None;
    let mut bucket = Bucket::new(env.rate);
    let mut deadline = Instant::now() + IDLE;
    // A connection that has not joined within this is closed (a join in progress is not
    // interrupted: the loop waits for its answer). Each answered `join` or `resume` gives
    // it this long again, so a phone may try another code; pings do not.
    let mut join_by = Instant::now() + JOIN_WAIT;
    let mut counted = crate::metrics::connection_opened();
    // Made once, not per message: a phone wakes up for every frame the room sends it, and
    // registering a timer and a cancellation waiter anew each time was a good part of the
    // server's own cost per delivery. The idle timer is moved on only when it fires.
    let stopping = env.shutdown.cancelled();
    tokio::pin!(stopping);
    let idle = tokio::time::sleep_until(deadline);
    tokio::pin!(idle);
    let join_late = tokio::time::sleep_until(join_by);
    tokio::pin!(join_late);
    // Most wakes are the room's frames; the read side is polled only when it was woken.
    let mut reading = Woken::default();

    // Order matters under `biased`: stopping first, then what the client says (so a busy room
    // cannot starve its votes and pings), then the room's frames, then the idle deadline.
    let flow = loop {
        tokio::select! {
            biased;
            _ = &mut stopping => break Flow::Close(close::GOING_AWAY, "the server is restarting"),
            frame = std::future::poll_fn(|cx| reading.poll_next(&mut socket, cx)) => {
                deadline = Instant::now() + IDLE;
                match frame {
                    Some(Ok(Message::Text(t))) => {
                        if !bucket.take() {
                            break Flow::Close(close::POLICY, "too many messages");
                        }
                        let was_in = in_room.is_some();
                        let hello = !was_in && is_hello(t.as_str());
                        let flow = on_text(&mut socket, t.as_str(), &env, &mut sink, &mut in_room, id).await;
                        if hello {
                            // Answered, either way: no longer pending against its address.
                            env.unjoined.joined();
                            join_by = Instant::now() + JOIN_WAIT;
                            join_late.as_mut().reset(join_by);
                        }
                        if let (false, Some(r)) = (was_in, &in_room) {
                            counted.joined(r.role);
                            if let Some(who) = &r.who {
                                env.rates.resume(who, &mut bucket);
                            }
                        }
                        match flow {
                            Flow::Continue => {}
                            other => break other,
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        if !bucket.take() {
                            break Flow::Close(close::POLICY, "too many messages");
                        }
                        if !send(&mut socket, error(None, ErrorCode::BadMessage, "send JSON text frames, not binary")).await {
                            break Flow::Gone("write_failed");
                        }
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(_))) | None => break Flow::Gone("client"),
                    Some(Err(e)) => break read_error(&e),
                }
            },
            out = outbox.recv() => match out {
                Some(frame) => {
                    if !write_out(&mut socket, frame, &mut outbox).await {
                        break Flow::Gone("write_failed");
                    }
                }
                None => break Flow::Close(close::TRY_AGAIN, "you fell behind; reconnect to catch up"),
            },
            _ = &mut join_late, if in_room.is_none() => {
                break Flow::Close(close::POLICY, JOIN_LATE);
            }
            _ = &mut idle => {
                if Instant::now() >= deadline {
                    break Flow::Close(close::NORMAL, "no message for 60 seconds");
                }
                // A message came since it was set: wait for the rest of the silence.
                idle.as_mut().reset(deadline);
            }
        }
    };
    let flow = match flow {
        Flow::Forward(f) => forward_phone(&mut socket, &env, *f, &mut counted).await,
        other => other,
    };
    // Kept before the close handshake, which may take seconds: a client that comes straight
    // back must find its bucket already there.
    if let Some(who) = in_room.as_ref().and_then(|r| r.who.clone()) {
        env.rates.keep(who, bucket);
    }
    let why = flow.reason();
    crate::metrics::connection_closed(why);
    match why {
        "rate_limit" | "too_big" => {
            tracing::warn!(conn = id, peer = %env.peer, reason = why, "connection closed by the server")
        }
        "write_failed" | "resync" => {
            tracing::info!(conn = id, peer = %env.peer, reason = why, "connection closed by the server")
        }
        _ => tracing::debug!(conn = id, peer = %env.peer, reason = why, "connection closed"),
    }
    let close = match flow {
        Flow::Close(code, reason) => Some((code, Utf8Bytes::from(reason))),
        Flow::Relay(code, reason) => Some((code, Utf8Bytes::from(reason))),
        _ => None,
    };
    if let Some((code, reason)) = close
        && send(
            &mut socket,
            Message::Close(Some(CloseFrame { code, reason })),
        )
        .await
    {
        // Finish the close handshake: read and drop until the client's close, briefly. Closing
        // the TCP socket with unread data resets it, and the client would never see the code.
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(Ok(frame)) = socket.next().await {
                if let Message::Close(_) = frame {
                    break;
                }
            }
        })
        .await;
    }
    if let Some(r) = in_room {
        let _ = r.room.tx.send(RoomMsg::Leave { conn: id }).await;
    }
}

async fn on_text<S>(
    socket: &mut S,
    frame: &str,
    env: &ConnEnv,
    sink: &mut Option<ConnSink>,
    in_room: &mut Option<InRoom>,
    id: u64,
) -> Flow
where
    S: Sink<Message, Error = axum::Error> + Unpin,
{
    debug_assert!(frame.len() <= MAX_FRAME_BYTES);
    let msg = match parse(frame) {
        Ok(msg) => msg,
        Err(reply) => {
            return if send(socket, reply).await {
                Flow::Continue
            } else {
                Flow::Gone("write_failed")
            };
        }
    };
    let reply = match msg {
        ClientMessage::Ping => text(&ServerMessage::Pong),
        ClientMessage::Join { .. } | ClientMessage::Resume { .. } if in_room.is_some() => error(
            None,
            ErrorCode::AlreadyJoined,
            "this connection has already joined",
        ),
        ClientMessage::Join { v, .. } | ClientMessage::Resume { v, .. }
            if v != PROTOCOL_VERSION =>
        {
            error(
                None,
                ErrorCode::UnsupportedVersion,
                format!(
                    "this server speaks protocol version {PROTOCOL_VERSION}, not {v}; reload the page"
                ),
            )
        }
        ClientMessage::Join {
            code,
            name,
            perspective,
            ..
        } => {
            let make = |conn, reply| RoomMsg::Join {
                name: name.clone(),
                perspective,
                conn,
                reply,
            };
            match enter(env, &code, frame, sink, in_room, make).await {
                Ok(entered) => match entered.flow() {
                    Ok(flow) => return flow,
                    Err(reply) => reply,
                },
                Err(r) => refusal(None, r),
            }
        }
        ClientMessage::Resume { code, token, .. } => {
            let token = secrets::hash_token(&token);
            let make = |conn, reply| RoomMsg::Resume { token, conn, reply };
            match enter(env, &code, frame, sink, in_room, make).await {
                Ok(entered) => match entered.flow() {
                    Ok(flow) => return flow,
                    Err(reply) => reply,
                },
                Err(r) => refusal(None, r),
            }
        }
        ClientMessage::Sync { id: sync_id } => {
            let conn = id;
            match forward(in_room, sync_id, |id| RoomMsg::Sync { conn, id }).await {
                Ok(flow) => return flow,
                Err(reply) => reply,
            }
        }
        ClientMessage::Cmd { id: cmd_id, cmd } => {
            let conn = id;
            match forward(in_room, cmd_id, |id| RoomMsg::Command { conn, id, cmd }).await {
                Ok(flow) => return flow,
                Err(reply) => reply,
            }
        }
    };
    if send(socket, reply).await {
        Flow::Continue
    } else {
        Flow::Gone("write_failed")
    }
}

/// Passes a command or a sync, with the id the client chose, to the room this connection is
/// in; the room answers through the outbox. `Err`: the error to send instead.
async fn forward(
    in_room: &Option<InRoom>,
    id: String,
    make: impl FnOnce(String) -> RoomMsg,
) -> Result<Flow, Message> {
    let Some(r) = in_room else {
        return Err(error(
            Some(id),
            ErrorCode::NotJoined,
            "join or resume first",
        ));
    };
    if !limits::COMMAND_ID_CHARS.contains(&id.chars().count()) {
        let why = "a command id must be 1 to 64 characters";
        return Err(error(Some(id), ErrorCode::Invalid, why));
    }
    tracing::trace!(role = ?r.role, "to the room");
    if r.room.tx.send(make(id)).await.is_err() {
        return Ok(Flow::Close(
            close::TRY_AGAIN,
            "the session is reloading; reconnect",
        ));
    }
    Ok(Flow::Continue)
}

/// How a join or resume went in.
enum Entered {
    /// Into a room on this node.
    Here,
    /// Into a room on another node, which welcomed the phone.
    Forwarded(Box<Forwarding>),
    /// The other node refused; its error frame, for the phone.
    Refused(Utf8Bytes),
    /// The room is on another node, and this connection came from one: the phone must ask
    /// again (its node will find the owner).
    Moved,
}

impl Entered {
    /// What the connection does next, or the frame it answers.
    fn flow(self) -> Result<Flow, Message> {
        match self {
            Entered::Here => Ok(Flow::Continue),
            Entered::Forwarded(f) => Ok(Flow::Forward(f)),
            Entered::Refused(frame) => Err(Message::Text(frame)),
            Entered::Moved => Ok(Flow::Close(
                close::TRY_AGAIN,
                "the session moved; reconnect",
            )),
        }
    }
}

/// How long a phone waits for a session whose owner cannot be reached (it died, or stalled)
/// beyond the lease time, before it is told to try again.
pub const OWNER_GRACE: Duration = Duration::from_secs(5);

/// Joins or resumes through the registry, with the wrong-code throttle around it. On success
/// the room holds the connection's outbox sender and the connection is in the room, or the
/// node that owns the session welcomed the phone (`hello` is the phone's frame, passed on).
/// An owner that cannot be reached is waited for until its lease runs out and this node can
/// take the session.
async fn enter(
    env: &ConnEnv,
    code: &str,
    hello: &str,
    sink: &mut Option<ConnSink>,
    in_room: &mut Option<InRoom>,
    mut make: impl FnMut(ConnSink, oneshot::Sender<Result<Joined, JoinError>>) -> RoomMsg,
) -> Result<Entered, Refusal> {
    let attempt = env.guard.begin_when_free(env.peer).await?;
    let conn = sink.clone().expect("a connection enters a room once");
    let result = match secrets::normalize_code(code) {
        Some(code) => reach(env, &code, hello, |reply| make(conn.clone(), reply)).await,
        None => Err(refuse(
            ErrorCode::SessionNotFound,
            "there is no session with this code",
        )),
    };
    match result {
        Ok(Reached::Here(joined, room)) => {
            drop(attempt);
            *sink = None;
            *in_room = Some(InRoom {
                room,
                role: joined.role,
                who: joined
                    .participant
                    .zip(secrets::normalize_code(code))
                    .map(|(p, code)| (code, p)),
            });
            Ok(Entered::Here)
        }
        Ok(Reached::There(entered)) => {
            // The owner counted the token against the phone's address itself.
            drop(attempt);
            Ok(entered)
        }
        Err(r) if matches!(r.code, ErrorCode::SessionNotFound | ErrorCode::BadToken) => {
            tracing::info!(peer = %env.peer, code = ?r.code, "wrong code or token");
            attempt.fail().await;
            Err(r)
        }
        Err(r) => {
            // The code was right (a locked session, a name too long): not a guess.
            drop(attempt);
            Err(r)
        }
    }
}

enum Reached {
    Here(Joined, RoomHandle),
    There(Entered),
}

/// Asks the room, here or at the node that owns it.
async fn reach(
    env: &ConnEnv,
    code: &str,
    hello: &str,
    mut make: impl FnMut(oneshot::Sender<Result<Joined, JoinError>>) -> RoomMsg,
) -> Result<Reached, Refusal> {
    let mut give_up = None;
    loop {
        let owner = match env.registry.ask(code, &mut make).await? {
            Answer::Here(joined, room) => return Ok(Reached::Here(joined, room)),
            Answer::Elsewhere(_) if env.forwarded => return Ok(Reached::There(Entered::Moved)),
            Answer::Elsewhere(owner) => owner,
        };
        let keeper = env
            .registry
            .keeper()
            .expect("only a registry with a keeper finds rooms elsewhere");
        let unreachable = match forward::open(keeper.node(), &owner, hello, env.peer).await {
            Ok(Opened::Welcomed {
                upstream,
                welcome,
                role,
                fence,
            }) => {
                let watch = keeper.watch(code, fence);
                let f = Forwarding {
                    upstream,
                    welcome,
                    role,
                    watch,
                };
                return Ok(Reached::There(Entered::Forwarded(Box::new(f))));
            }
            Ok(Opened::Refused(frame)) => return Ok(Reached::There(Entered::Refused(frame))),
            Err(e) => e,
        };
        let give_up =
            *give_up.get_or_insert_with(|| Instant::now() + keeper.node().lease + OWNER_GRACE);
        tracing::debug!(owner = %owner.addr, error = %unreachable.0, "the owner cannot be reached");
        if env.shutdown.is_cancelled() || !forward::wait_for(&owner, give_up).await {
            return Err(refuse(
                ErrorCode::Internal,
                "the session's server cannot be reached; try again",
            ));
        }
    }
}

/// Passes a phone's frames on to the node that owns its session, after sending it that node's
/// welcome, until either side ends.
async fn forward_phone<S>(
    socket: &mut S,
    env: &ConnEnv,
    f: Forwarding,
    counted: &mut crate::metrics::OpenConnection,
) -> Flow
where
    S: Stream<Item = Result<Message, axum::Error>> + Sink<Message, Error = axum::Error> + Unpin,
{
    let Forwarding {
        mut upstream,
        welcome,
        role,
        watch,
    } = f;
    counted.joined(role);
    let _forwarded = crate::metrics::forwarded_connection();
    if !send(socket, Message::Text(welcome)).await {
        return Flow::Gone("write_failed");
    }
    match forward::pipe(socket, &mut upstream, &env.shutdown, &watch.moved).await {
        forward::Ended::Shutdown => Flow::Close(close::GOING_AWAY, "the server is restarting"),
        forward::Ended::Moved => Flow::Close(close::TRY_AGAIN, "the session moved; reconnect"),
        forward::Ended::OwnerGone => {
            Flow::Close(close::TRY_AGAIN, "the session's server is gone; reconnect")
        }
        forward::Ended::Closed(code, reason) => Flow::Relay(code, reason),
        forward::Ended::Gone(why) => Flow::Gone(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(msg: Message) -> (Option<String>, ErrorCode) {
        let Message::Text(t) = msg else {
            panic!("not text")
        };
        match serde_json::from_str::<ServerMessage>(t.as_str()).unwrap() {
            ServerMessage::Error { id, code, .. } => (id, code),
            other => panic!("not an error: {other:?}"),
        }
    }

    #[test]
    fn parse_errors_name_the_problem_and_keep_the_id() {
        assert_eq!(
            code_of(parse("{not json").unwrap_err()),
            (None, ErrorCode::BadMessage)
        );
        assert_eq!(
            code_of(
                parse(r#"{"type":"cmd","id":"c1","cmd":{"type":"launch_rocket"}}"#).unwrap_err()
            ),
            (Some("c1".into()), ErrorCode::UnknownCommand)
        );
        assert_eq!(
            code_of(
                parse(r#"{"type":"cmd","id":"c2","cmd":{"type":"add_card","kind":"idea"}}"#)
                    .unwrap_err()
            ),
            (Some("c2".into()), ErrorCode::BadMessage),
            "a known command with a missing field is a bad message, not an unknown command"
        );
        assert_eq!(
            code_of(parse(r#"{"type":"dance"}"#).unwrap_err()),
            (None, ErrorCode::BadMessage)
        );
    }

    /// serde_json stops at 128 levels, so no frame can recurse the decoder off its stack.
    #[test]
    fn deeply_nested_frames_are_refused_without_overflowing_the_stack() {
        let space = MAX_FRAME_BYTES - 64;
        for depth in [127, 128, 129, 1_000, space / 5, space] {
            for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
                // As deep as still fits in one frame.
                let n = depth.min(space / (open.len() + close.len()));
                let nested = format!("{}1{}", open.repeat(n), close.repeat(n));
                for frame in [
                    nested.clone(),
                    format!(r#"{{"type":"cmd","id":"d","cmd":{nested}}}"#),
                    format!(
                        r#"{{"type":"cmd","id":"d","cmd":{{"type":"add_card","text":{nested}}}}}"#
                    ),
                    open.repeat(n),
                ] {
                    let (_, code) = code_of(parse(&frame).unwrap_err());
                    assert_eq!(code, ErrorCode::BadMessage, "depth {n}");
                }
            }
        }
    }

    /// Property tests of [`parse`], the decoding every text frame goes through: it never
    /// panics, and whatever it refuses gets a well-formed error that keeps the command id.
    mod fuzz {
        use super::*;
        use crate::session::cmd::tests::fuzz::{command, perspective, text as any_text};
        use proptest::collection::{btree_map, vec};
        use proptest::prelude::*;
        use proptest::sample::select;
        use serde_json::{Value, json};

        /// Field names a message or command may have, and a few it may not.
        const KEYS: &[&str] = &[
            "type",
            "id",
            "cmd",
            "v",
            "code",
            "name",
            "token",
            "perspective",
            "text",
            "kind",
            "builds_on",
            "card",
            "into",
            "phase",
            "budget",
            "max_per_card",
            "live",
            "round",
            "participant",
            "to",
            "order",
            "turn_secs",
            "response_secs",
            "mode",
            "fair_share",
            "response_cap",
            "show_balance",
            "change",
            "rule",
            "agree",
            "about",
            "note",
            "anonymous",
            "report",
            "consequence",
            "minutes",
            "",
            "Type",
            "__proto__",
        ];

        /// Strings a message may hold: message and command types, enum values, ids.
        const WORDS: &[&str] = &[
            "cmd",
            "join",
            "resume",
            "ping",
            "pong",
            "ack",
            "idea",
            "problem",
            "note",
            "hand",
            "response",
            "fcfs",
            "least_spoken",
            "round",
            "hard",
            "soft",
            "warning",
            "hand_wait",
            "medewerker",
            "client",
            "cliënt",
            "k1",
            "p2",
            "r1",
            "g3",
            "x1",
            "t1",
            "K7QM2X",
            "",
            "CMD",
            "add_card ",
            "Add_Card",
        ];

        /// A JSON value built from the protocol's own words, numbers of every size, and
        /// anything at all, nested a few levels.
        fn value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                (-100i64..=100).prop_map(Value::from),
                (-1000i32..=1000).prop_map(|n| Value::from(f64::from(n) / 10.0)),
                select(tafel_protocol::Command::names()).prop_map(Value::from),
                select(WORDS).prop_map(Value::from),
                any_text().prop_map(Value::from),
            ];
            leaf.prop_recursive(4, 48, 6, |inner| {
                prop_oneof![
                    vec(inner.clone(), 0..6).prop_map(Value::Array),
                    btree_map(select(KEYS), inner, 0..6).prop_map(|m| {
                        Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                    }),
                ]
            })
        }

        /// A message the client could send: every kind, every command, ids of any text.
        fn message() -> impl Strategy<Value = ClientMessage> {
            prop_oneof![
                6 => (".{0,70}", command()).prop_map(|(id, cmd)| ClientMessage::Cmd { id, cmd }),
                1 => (any::<u32>(), ".{0,10}", any_text(), perspective()).prop_map(
                    |(v, code, name, perspective)| ClientMessage::Join { v, code, name, perspective }
                ),
                1 => (any::<u32>(), ".{0,10}", ".{0,60}")
                    .prop_map(|(v, code, token)| ClientMessage::Resume { v, code, token }),
                1 => Just(ClientMessage::Ping),
            ]
        }

        /// A real message with some of its fields (at the top or in `cmd`) dropped, replaced or
        /// added.
        fn mutated() -> impl Strategy<Value = Value> {
            let edit = (
                any::<bool>(),
                select(KEYS),
                prop::option::weighted(0.7, value()),
            );
            (message(), vec(edit, 1..4)).prop_map(|(msg, edits)| {
                let mut v = serde_json::to_value(&msg).expect("messages encode");
                for (in_cmd, key, new) in edits {
                    let obj = if in_cmd {
                        v.get_mut("cmd").and_then(Value::as_object_mut)
                    } else {
                        v.as_object_mut()
                    };
                    let Some(obj) = obj else { continue };
                    match new {
                        Some(new) => obj.insert(key.to_owned(), new),
                        None => obj.remove(key),
                    };
                }
                v
            })
        }

        /// Decodes one frame; a refusal must be an `error` message, with a code that a
        /// decoding failure may have.
        fn decode(frame: &str) -> Result<ClientMessage, (Option<String>, ErrorCode)> {
            parse(frame).map_err(|reply| {
                let (id, code) = code_of(reply);
                assert!(
                    matches!(code, ErrorCode::BadMessage | ErrorCode::UnknownCommand),
                    "{code:?} for {frame:?}"
                );
                (id, code)
            })
        }

        /// What `parse` promises about a JSON value it refused or accepted.
        fn check_value(v: &Value) -> Result<(), TestCaseError> {
            let frame = v.to_string();
            match decode(&frame) {
                Ok(msg) => {
                    // What was accepted is accepted again when sent again. (Equal, too, but
                    // serde_json's default float parsing may move a long number by one ulp;
                    // `every_message_decodes_as_it_was_sent` checks equality.)
                    let again = serde_json::to_string(&msg).expect("messages encode");
                    prop_assert!(decode(&again).is_ok(), "{again} was refused");
                }
                Err((id, code)) => {
                    prop_assert_eq!(
                        id.as_deref(),
                        v.get("id").and_then(Value::as_str),
                        "the error keeps the id"
                    );
                    let kind = v.pointer("/cmd/type").and_then(Value::as_str);
                    let is_cmd = v.get("type") == Some(&json!("cmd"));
                    if code == ErrorCode::UnknownCommand {
                        prop_assert!(is_cmd && kind.is_some_and(|k| !tafel_protocol::Command::names().contains(&k)));
                    } else if is_cmd
                        && kind.is_some_and(|k| !tafel_protocol::Command::names().contains(&k))
                    {
                        prop_assert!(false, "an unknown command was called a bad message");
                    }
                }
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn any_text_frame_decodes_or_gets_an_error(frame in any::<String>()) {
                let _ = decode(&frame);
            }

            #[test]
            fn any_bytes_decode_or_get_an_error(
                bytes in prop_oneof![
                    vec(any::<u8>(), 0..512),
                    vec(select(&b"{}[]\":,0123456789.-+eE \\/truefalsnulxyc_"[..]), 0..512),
                ]
            ) {
                let _ = decode(&String::from_utf8_lossy(&bytes));
            }

            #[test]
            fn json_made_of_the_protocols_words_keeps_its_promises(v in value()) {
                check_value(&v)?;
            }

            #[test]
            fn real_messages_with_fields_changed_keep_their_promises(v in mutated()) {
                check_value(&v)?;
            }

            #[test]
            fn real_messages_cut_or_bent_decode_or_get_an_error(
                msg in message(),
                at in any::<prop::sample::Index>(),
                insert in select(&["", "\"", "}", "{", ",", "\\", "\\u", "\u{0}", "é", "1e999"][..]),
            ) {
                let frame = serde_json::to_string(&msg).expect("messages encode");
                let mut cut = at.index(frame.len() + 1);
                while !frame.is_char_boundary(cut) {
                    cut -= 1;
                }
                let _ = decode(&frame[..cut]);
                let _ = decode(&format!("{}{insert}{}", &frame[..cut], &frame[cut..]));
            }

            #[test]
            fn every_message_decodes_as_it_was_sent(msg in message()) {
                let frame = serde_json::to_string(&msg).expect("messages encode");
                prop_assert_eq!(decode(&frame), Ok(msg));
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn bucket_allows_bursts_then_the_sustained_rate() {
        let mut b = Bucket::new(20);
        for _ in 0..60 {
            assert!(b.take());
        }
        assert!(!b.take(), "the burst is spent");
        tokio::time::advance(Duration::from_millis(100)).await;
        assert!(b.take() && b.take(), "100 ms refills two messages at 20/s");
        assert!(!b.take());
    }
}

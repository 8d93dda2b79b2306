//! One WebSocket connection: turns frames into typed messages, joins a room, forwards commands
//! to it, and writes what the room puts in its outbox.
//!
//! Written against any `Stream` + `Sink` of [`Message`], so it needs no real socket to test.
//! Limits: a text frame of at most [`MAX_FRAME_BYTES`] (bigger closes with 1009), a token
//! bucket of [`RATE_PER_SEC`] messages a second with bursts of [`BURST`] (flooding closes with
//! 1008), and 60 s of silence closes the connection (clients ping every 20 s).

use crate::error::{Refusal, refuse};
use crate::guard::JoinGuard;
use crate::registry::Registry;
use crate::room::{ConnSink, JoinError, Joined, RoomHandle, RoomMsg};
use crate::secrets;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
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

    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

struct InRoom {
    room: RoomHandle,
    role: Role,
}

enum Flow {
    /// Keep serving.
    Continue,
    /// Close with this code and reason.
    Close(u16, &'static str),
    /// The client is gone or stuck: stop without a close frame.
    Gone,
}

fn text(msg: &ServerMessage) -> Message {
    Message::Text(Utf8Bytes::from(
        serde_json::to_string(msg).expect("protocol types serialize"),
    ))
}

fn error(id: Option<String>, code: ErrorCode, message: impl Into<String>) -> Message {
    text(&ServerMessage::Error {
        id,
        code,
        message: message.into(),
    })
}

fn refusal(id: Option<String>, r: Refusal) -> Message {
    error(id, r.code, r.message)
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

    // Order matters under `biased`: stopping first, then what the client says (so a busy room
    // cannot starve its votes and pings), then the room's frames, then the idle deadline.
    let flow = loop {
        tokio::select! {
            biased;
            _ = env.shutdown.cancelled() => break Flow::Close(close::GOING_AWAY, "the server is restarting"),
            frame = socket.next() => {
                deadline = Instant::now() + IDLE;
                match frame {
                    Some(Ok(Message::Text(t))) => {
                        if !bucket.take() {
                            tracing::warn!(conn = id, peer = %env.peer, "rate limit exceeded; closing");
                            break Flow::Close(close::POLICY, "too many messages");
                        }
                        match on_text(&mut socket, t.as_str(), &env, &mut sink, &mut in_room, id).await {
                            Flow::Continue => {}
                            other => break other,
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        if !bucket.take() {
                            break Flow::Close(close::POLICY, "too many messages");
                        }
                        if !send(&mut socket, error(None, ErrorCode::BadMessage, "send JSON text frames, not binary")).await {
                            break Flow::Gone;
                        }
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(_))) | None => break Flow::Gone,
                    Some(Err(e)) => {
                        let too_big = std::error::Error::source(&e)
                            .and_then(|s| s.downcast_ref::<tungstenite::Error>())
                            .is_some_and(|e| matches!(e, tungstenite::Error::Capacity(_)));
                        if too_big {
                            tracing::warn!(conn = id, peer = %env.peer, "frame too big; closing");
                            break Flow::Close(close::TOO_BIG, "message too big");
                        }
                        break Flow::Gone;
                    }
                }
            },
            out = outbox.recv() => match out {
                Some(frame) => {
                    if !write_out(&mut socket, frame, &mut outbox).await {
                        tracing::info!(conn = id, "a write did not finish in time; closing");
                        break Flow::Gone;
                    }
                }
                None => break Flow::Close(close::TRY_AGAIN, "you fell behind; reconnect to catch up"),
            },
            _ = tokio::time::sleep_until(deadline) => break Flow::Close(close::NORMAL, "no message for 60 seconds"),
        }
    };
    if let Flow::Close(code, reason) = flow
        && send(
            &mut socket,
            Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })),
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
                Flow::Gone
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
            match enter(env, &code, sink, in_room, make).await {
                Ok(()) => return Flow::Continue,
                Err(r) => refusal(None, r),
            }
        }
        ClientMessage::Resume { code, token, .. } => {
            let token = secrets::hash_token(&token);
            let make = |conn, reply| RoomMsg::Resume { token, conn, reply };
            match enter(env, &code, sink, in_room, make).await {
                Ok(()) => return Flow::Continue,
                Err(r) => refusal(None, r),
            }
        }
        ClientMessage::Cmd { id: cmd_id, cmd } => match in_room {
            None => error(Some(cmd_id), ErrorCode::NotJoined, "join or resume first"),
            Some(_) if !limits::COMMAND_ID_CHARS.contains(&cmd_id.chars().count()) => error(
                Some(cmd_id),
                ErrorCode::Invalid,
                "a command id must be 1 to 64 characters",
            ),
            Some(r) => {
                tracing::trace!(conn = id, role = ?r.role, "command");
                if r.room
                    .tx
                    .send(RoomMsg::Command {
                        conn: id,
                        id: cmd_id,
                        cmd,
                    })
                    .await
                    .is_err()
                {
                    return Flow::Close(close::TRY_AGAIN, "the session is reloading; reconnect");
                }
                return Flow::Continue;
            }
        },
    };
    if send(socket, reply).await {
        Flow::Continue
    } else {
        Flow::Gone
    }
}

/// Joins or resumes through the registry, with the wrong-code throttle around it. On success
/// the room holds the connection's outbox sender and the connection is in the room.
async fn enter(
    env: &ConnEnv,
    code: &str,
    sink: &mut Option<ConnSink>,
    in_room: &mut Option<InRoom>,
    mut make: impl FnMut(ConnSink, oneshot::Sender<Result<Joined, JoinError>>) -> RoomMsg,
) -> Result<(), Refusal> {
    env.guard.begin(env.peer)?;
    let conn = sink.clone().expect("a connection enters a room once");
    let result = match secrets::normalize_code(code) {
        Some(code) => {
            env.registry
                .ask_room(&code, |reply| make(conn.clone(), reply))
                .await
        }
        None => Err(refuse(
            ErrorCode::SessionNotFound,
            "there is no session with this code",
        )),
    };
    match result {
        Ok((joined, room)) => {
            env.guard.succeeded(env.peer);
            *sink = None;
            *in_room = Some(InRoom {
                room,
                role: joined.role,
            });
            Ok(())
        }
        Err(r) if matches!(r.code, ErrorCode::SessionNotFound | ErrorCode::BadToken) => {
            let delay = env.guard.failed(env.peer);
            tracing::info!(peer = %env.peer, code = ?r.code, "wrong code or token");
            tokio::time::sleep(delay).await;
            Err(r)
        }
        Err(r) => {
            // The code was right (a locked session, a name too long): not a guess.
            env.guard.succeeded(env.peer);
            Err(r)
        }
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

//! Passing a phone's connection, or a lookup, on to the node that owns its session.
//!
//! Why forward rather than redirect: a phone reaches the cluster through one public address
//! (the load balancer), and neither the web client nor the balancer would need to know the
//! nodes for a redirect to work; a phone that a redirect sent to a dying node would also have
//! to find its way back. Forwarded, the phone keeps its one socket to whichever node it
//! reached, and a room's every connection still ends in its one actor. The price is one more
//! hop between nodes on the local network (measured in bench/RESULTS.md).
//!
//! The node that got the phone opens a WebSocket to the owner's `/ws`, sends the phone's
//! `join` or `resume` frame, reads its answer, and from then on passes frames both ways as
//! they are (text and binary; pings stay on each hop). The owner applies every limit as for
//! any phone: the wrong-code throttle on the phone's address (carried in a header, trusted
//! only with the nodes' shared secret), the rate bucket and the frame size. A close from the
//! owner reaches the phone with its code; an owner that vanishes closes the phone with 1013,
//! and the phone resumes — at whichever node now owns the room.

use super::Node;
use crate::storage::Owner;
use axum::body::Bytes;
use axum::extract::ws::{Message, Utf8Bytes};
use axum::http::HeaderMap;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use http_body_util::BodyExt;
use std::net::IpAddr;
use std::time::Duration;
use tafel_protocol::{Role, ServerMessage};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{self as ts, client::IntoClientRequest};
use tokio_util::sync::CancellationToken;

/// The header with the nodes' shared secret.
pub const SECRET_HEADER: &str = "x-tafel-node-secret";
/// The header with the phone's own address.
pub const PEER_HEADER: &str = "x-tafel-peer";

/// How long connecting to the owner (TCP and the WebSocket handshake) may take. A node that
/// is stopped (SIGSTOP) still accepts TCP connections in its kernel but never answers.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long the owner may take to answer a `join` or `resume` (it may be loading the room).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(15);
/// How long one write to either side may take (as for any phone's socket).
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// A socket to the owner.
pub type Upstream = WebSocketStream<TcpStream>;

/// The phone's address as a trusted node says it, when the request came from one.
pub fn vouched_peer(node: Option<&Node>, headers: &HeaderMap) -> Option<IpAddr> {
    let node = node?;
    let secret = headers.get(SECRET_HEADER)?.to_str().ok()?;
    if !node.vouches(secret) {
        return None;
    }
    headers.get(PEER_HEADER)?.to_str().ok()?.parse().ok()
}

/// The owner could not be reached (or closed at once): ask again who owns the room.
#[derive(Debug)]
pub struct Unreachable(pub String);

/// What the owner answered the phone's first frame.
pub enum Opened {
    /// It welcomed the phone: pass frames on from now on.
    Welcomed {
        /// The socket to the owner.
        upstream: Box<Upstream>,
        /// The welcome, for the phone.
        welcome: Utf8Bytes,
        /// The role it gave.
        role: Role,
        /// The fence of the lease the owner held when it was asked.
        fence: u64,
    },
    /// It refused (an error frame, for the phone); the socket to it is closed.
    Refused(Utf8Bytes),
}

fn unreachable(what: &str, e: impl std::fmt::Display) -> Unreachable {
    Unreachable(format!("{what}: {e}"))
}

/// Connects to `owner` for a phone at `peer` and sends it `hello`; returns its answer.
pub async fn open(
    node: &Node,
    owner: &Owner,
    hello: &str,
    peer: IpAddr,
) -> Result<Opened, Unreachable> {
    let mut request = format!("ws://{}/ws", owner.addr)
        .into_client_request()
        .map_err(|e| unreachable("the owner's address", e))?;
    let headers = request.headers_mut();
    for (name, value) in [
        (SECRET_HEADER, node.secret.clone()),
        (PEER_HEADER, peer.to_string()),
    ] {
        let value = value.parse().map_err(|e| unreachable(name, e))?;
        headers.insert(name, value);
    }
    let config = ts::protocol::WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .max_message_size(Some(64 << 20));
    let connect = async {
        let tcp = TcpStream::connect(&owner.addr)
            .await
            .map_err(|e| unreachable("connecting", e))?;
        let _ = tcp.set_nodelay(true);
        tokio_tungstenite::client_async_with_config(request, tcp, Some(config))
            .await
            .map_err(|e| unreachable("the WebSocket handshake", e))
    };
    let (mut upstream, _) = tokio::time::timeout(CONNECT_TIMEOUT, connect)
        .await
        .map_err(|e| unreachable("connecting", e))??;
    upstream
        .send(ts::Message::text(hello))
        .await
        .map_err(|e| unreachable("sending the hello", e))?;
    let answer = async {
        loop {
            match upstream.next().await {
                Some(Ok(ts::Message::Text(t))) => return Ok(t),
                Some(Ok(ts::Message::Close(c))) => {
                    return Err(unreachable("the owner closed", format!("{c:?}")));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(unreachable("reading", e)),
                None => return Err(unreachable("reading", "the socket ended")),
            }
        }
    };
    let text = tokio::time::timeout(ANSWER_TIMEOUT, answer)
        .await
        .map_err(|e| unreachable("waiting for the answer", e))??;
    let frame = to_phone(text);
    match serde_json::from_str::<ServerMessage>(frame.as_str()) {
        Ok(ServerMessage::Welcome { role, .. }) => Ok(Opened::Welcomed {
            upstream: Box::new(upstream),
            welcome: frame,
            role,
            fence: owner.fence,
        }),
        _ => {
            let _ = upstream.close(None).await;
            Ok(Opened::Refused(frame))
        }
    }
}

fn to_phone(t: ts::Utf8Bytes) -> Utf8Bytes {
    Utf8Bytes::try_from(Bytes::from(t)).expect("text stays text")
}

fn to_owner(t: Utf8Bytes) -> ts::Utf8Bytes {
    ts::Utf8Bytes::try_from(Bytes::from(t)).expect("text stays text")
}

/// How a forwarded connection ended.
pub enum Ended {
    /// This node is stopping.
    Shutdown,
    /// The room moved to another node, or its owner stopped renewing its lease.
    Moved,
    /// The owner vanished (its socket broke or ended without a close frame).
    OwnerGone,
    /// The owner closed the connection with this code and reason (for the phone).
    Closed(u16, String),
    /// The phone is gone (or stuck); nothing more to send it. Says why, as a metric label.
    Gone(&'static str),
}

/// Passes frames between the phone and the owner until either ends, the room moves
/// (`moved`), or this node stops (`shutdown`).
pub async fn pipe<S>(
    socket: &mut S,
    upstream: &mut Upstream,
    shutdown: &CancellationToken,
    moved: &CancellationToken,
) -> Ended
where
    S: Stream<Item = Result<Message, axum::Error>> + Sink<Message, Error = axum::Error> + Unpin,
{
    let ended = loop {
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => break Ended::Shutdown,
            _ = moved.cancelled() => break Ended::Moved,
            frame = socket.next() => {
                let out = match frame {
                    Some(Ok(Message::Text(t))) => ts::Message::Text(to_owner(t)),
                    Some(Ok(Message::Binary(b))) => ts::Message::Binary(b),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | None => break Ended::Gone("client"),
                    Some(Err(_)) => break Ended::Gone("read_error"),
                };
                if !matches!(tokio::time::timeout(WRITE_TIMEOUT, upstream.send(out)).await, Ok(Ok(()))) {
                    break Ended::OwnerGone;
                }
            }
            frame = upstream.next() => {
                let out = match frame {
                    Some(Ok(ts::Message::Text(t))) => Message::Text(to_phone(t)),
                    Some(Ok(ts::Message::Binary(b))) => Message::Binary(b),
                    Some(Ok(ts::Message::Close(Some(c)))) => {
                        break Ended::Closed(c.code.into(), c.reason.to_string());
                    }
                    Some(Ok(ts::Message::Ping(_) | ts::Message::Pong(_) | ts::Message::Frame(_))) => continue,
                    Some(Ok(ts::Message::Close(None))) | Some(Err(_)) | None => break Ended::OwnerGone,
                };
                if !matches!(tokio::time::timeout(WRITE_TIMEOUT, socket.send(out)).await, Ok(Ok(()))) {
                    break Ended::Gone("write_failed");
                }
            }
        }
    };
    // Tell the owner the phone left (it may take its time with the close handshake).
    let _ = tokio::time::timeout(Duration::from_secs(2), upstream.close(None)).await;
    ended
}

/// After an owner could not be reached: waits until it may be asked again (its lease runs
/// out, then this node can take the session, or its owner gives it up), or returns false once
/// `give_up` has passed.
pub async fn wait_for(owner: &Owner, give_up: tokio::time::Instant) -> bool {
    if tokio::time::Instant::now() >= give_up {
        return false;
    }
    let pause = (owner.expires_in + Duration::from_millis(20)).min(Duration::from_millis(250));
    tokio::time::sleep(pause).await;
    true
}

/// Asks the owner for `path` (a lookup) on behalf of a phone at `peer`: its status and body.
pub async fn lookup(
    node: &Node,
    owner: &Owner,
    path: &str,
    peer: IpAddr,
) -> Result<(u16, Bytes), Unreachable> {
    let request = axum::http::Request::get(path)
        .header(axum::http::header::HOST, &owner.addr)
        .header(SECRET_HEADER, &node.secret)
        .header(PEER_HEADER, peer.to_string())
        .body(http_body_util::Empty::<Bytes>::new())
        .map_err(|e| unreachable("the request", e))?;
    let ask = async {
        let tcp = TcpStream::connect(&owner.addr)
            .await
            .map_err(|e| unreachable("connecting", e))?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
                .await
                .map_err(|e| unreachable("the handshake", e))?;
        tokio::spawn(conn);
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| unreachable("asking", e))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| unreachable("reading", e))?
            .to_bytes();
        Ok((status, body))
    };
    tokio::time::timeout(ANSWER_TIMEOUT, ask)
        .await
        .map_err(|e| unreachable("waiting for the answer", e))?
}

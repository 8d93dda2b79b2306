//! What every scenario shares: the server (started here or already running), seating rooms of
//! phones, and the protocol moves around a connection (join, resume, a command and its answer).

use crate::{Args, Peers};
use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::{Duration, Instant};
use tafel_protocol::*;
use tafel_tests::{Server, Ws, ws_connect};
use tokio::net::TcpSocket;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// How often a quiet client pings (the server closes a connection silent for 60 s).
pub const PING_EVERY: Duration = Duration::from_secs(20);

/// The server under load: one process, or several nodes over one database.
pub struct Target {
    /// The process (node 0), or a handle to one started elsewhere.
    pub server: Server,
    /// Its process id, for /proc samples; changes when it is restarted.
    pub pid: Arc<AtomicU32>,
    /// The other nodes.
    pub others: Vec<Server>,
    /// Their process ids.
    other_pids: Vec<Arc<AtomicU32>>,
    /// The nodes' database, dropped after them.
    pub db: Option<tafel_tests::ScratchDatabase>,
}

impl Target {
    /// Every node, node 0 first.
    pub fn nodes(&self) -> impl Iterator<Item = &Server> {
        std::iter::once(&self.server).chain(&self.others)
    }

    /// Every node's address, node 0 first.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.nodes().map(|n| n.addr).collect()
    }

    /// Every node's process id, for /proc samples.
    pub fn pids(&self) -> Vec<Arc<AtomicU32>> {
        std::iter::once(self.pid.clone())
            .chain(self.other_pids.iter().cloned())
            .collect()
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        // The nodes first: the database is dropped with every connection to it.
        self.others.clear();
        let _ = self.server.kill();
    }
}

/// Starts the server (`--server`) or finds the running one (`--addr`, `--pid`). `limited`
/// keeps the server's default rate limit; otherwise a connection may send 1,000 messages a
/// second, so a facilitator's console or a fast phone is never cut off.
pub fn target(args: &Args, limited: bool) -> Result<Target> {
    let mut flags: Vec<String> = if limited {
        Vec::new()
    } else {
        vec!["--max-messages-per-sec".into(), "1000".into()]
    };
    let db = if args.nodes > 1 || args.postgres {
        let db = tafel_tests::ScratchDatabase::create(&tafel_tests::ScratchDatabase::base_url())
            .map_err(|e| anyhow::anyhow!("a database for the nodes: {e}"))?;
        flags.extend([
            "--database-url".into(),
            db.url.clone(),
            "--lease-secs".into(),
            args.lease_secs.to_string(),
        ]);
        Some(db)
    } else {
        None
    };
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let cpus = args.server_cpus.as_deref();
    let (server, others) = match (&args.server, args.addr, args.pid) {
        (Some(bin), _, _) => {
            let mut nodes = (0..args.nodes.max(1))
                .map(|i| Server::start_at(bin, &format!("127.0.0.{}:0", i + 1), &flags, cpus))
                .collect::<Result<Vec<_>>>()?;
            let server = nodes.remove(0);
            (server, nodes)
        }
        (None, Some(addr), Some(_)) => (Server::running(addr), Vec::new()),
        _ => bail!("give --server PATH, or --addr HOST:PORT with --pid PID"),
    };
    let pid = args.pid.unwrap_or_else(|| server.pid());
    Ok(Target {
        pid: Arc::new(AtomicU32::new(pid)),
        other_pids: others
            .iter()
            .map(|n| Arc::new(AtomicU32::new(n.pid())))
            .collect(),
        server,
        others,
        db,
    })
}

/// What each phone of a room needs to know.
pub struct RoomInfo {
    pub index: usize,
    pub code: String,
    pub round: String,
    pub cards: Vec<String>,
    /// For a fresh look at the room as the server has it.
    pub facilitator_token: String,
}

/// How a client's socket is opened.
#[derive(Debug, Clone, Copy, Default)]
pub struct Dial {
    /// The local address to connect from (any of 127.0.0.0/8 reaches the server).
    pub source: Option<IpAddr>,
    /// A small receive buffer, so a client that stops reading fills up soon.
    pub recv_buffer: Option<u32>,
    /// The largest TCP segment to offer the server (see [`clamp_mss`]).
    pub mss: Option<u32>,
}

impl Dial {
    /// Phone `global` (counted over all rooms) of room `room`, from the addresses `peers` says.
    pub fn phone(peers: Peers, room: usize, global: usize) -> Self {
        let source = match peers {
            Peers::One => None,
            Peers::Room => Some(loopback(1, room)),
            Peers::Phone => Some(loopback(2, global)),
        };
        Self {
            source,
            ..Self::default()
        }
    }
}

/// `127.{block}.x.y` for `n`: a loopback address of its own.
pub fn loopback(block: u8, n: usize) -> IpAddr {
    let n = n + 1;
    IpAddr::V4(Ipv4Addr::new(127, block, (n >> 8) as u8, n as u8))
}

/// Opens a WebSocket to `/ws` as `dial` says, with the 4 KiB read buffer of
/// [`tafel_tests::ws_connect`] (which it is, when `dial` asks for nothing special).
pub async fn connect(addr: SocketAddr, dial: Dial) -> Result<Ws> {
    if dial.source.is_none() && dial.recv_buffer.is_none() && dial.mss.is_none() {
        return ws_connect(addr).await;
    }
    let socket = TcpSocket::new_v4()?;
    if let Some(ip) = dial.source {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    if let Some(bytes) = dial.recv_buffer {
        socket.set_recv_buffer_size(bytes)?;
    }
    if let Some(bytes) = dial.mss {
        clamp_mss(&socket, bytes)?;
    }
    let stream = socket.connect(addr).await?;
    let config = WebSocketConfig::default().read_buffer_size(4 * 1024);
    let (ws, _) = tokio_tungstenite::client_async_with_config(
        format!("ws://{addr}/ws"),
        MaybeTlsStream::Plain(stream),
        Some(config),
    )
    .await?;
    Ok(ws)
}

/// Offers the server at most `bytes` per TCP segment (`TCP_MAXSEG`, set before connecting),
/// as a phone on Wi-Fi does (about 1,400). Over loopback the segments are 64 KiB, and the
/// server's kernel then grows a connection's send buffer to megabytes: a phone that stops
/// reading would fill it only after many minutes, which no phone on a real network allows.
fn clamp_mss(socket: &TcpSocket, bytes: u32) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // From <netinet/in.h> and <netinet/tcp.h> on Linux.
    const IPPROTO_TCP: i32 = 6;
    const TCP_MAXSEG: i32 = 2;
    unsafe extern "C" {
        fn setsockopt(
            fd: i32,
            level: i32,
            name: i32,
            value: *const std::ffi::c_void,
            len: u32,
        ) -> i32;
    }
    let value = i32::try_from(bytes).unwrap_or(i32::MAX);
    // SAFETY: a valid socket descriptor, and a pointer to an int with its size, as
    // setsockopt(2) asks for TCP_MAXSEG.
    let done = unsafe {
        setsockopt(
            socket.as_raw_fd(),
            IPPROTO_TCP,
            TCP_MAXSEG,
            (&raw const value).cast(),
            std::mem::size_of::<i32>() as u32,
        )
    };
    if done == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

pub async fn send(ws: &mut Ws, msg: &ClientMessage) -> Result<()> {
    ws.send(Message::text(serde_json::to_string(msg)?)).await?;
    Ok(())
}

/// Reads until a message `f` accepts; fails on an error frame or a close.
pub async fn expect<T>(ws: &mut Ws, f: impl Fn(ServerMessage) -> Option<T>) -> Result<T> {
    while let Some(frame) = tokio::time::timeout(Duration::from_secs(30), ws.next())
        .await
        .context("no answer in 30 s")?
    {
        if let Message::Text(t) = frame? {
            let msg: ServerMessage = serde_json::from_str(t.as_str())?;
            if let ServerMessage::Error { code, message, .. } = &msg {
                bail!("refused: {code:?} {message}");
            }
            if let Some(found) = f(msg) {
                return Ok(found);
            }
        }
    }
    bail!("closed")
}

pub async fn command(ws: &mut Ws, id: &str, cmd: Command) -> Result<AckResult> {
    send(ws, &ClientMessage::Cmd { id: id.into(), cmd }).await?;
    expect(ws, |m| match m {
        ServerMessage::Ack { id: got, result } if got == id => Some(result),
        _ => None,
    })
    .await
}

/// Creates a session, seats its facilitator, adds five cards and opens a round over them.
pub async fn setup_room(server: &Server, index: usize) -> Result<(RoomInfo, Ws)> {
    let s = server
        .create_session(&format!("Last {index}"), false)
        .await?;
    let mut fac = ws_connect(server.addr).await?;
    send(
        &mut fac,
        &ClientMessage::Resume {
            v: PROTOCOL_VERSION,
            code: s.code.clone(),
            token: s.facilitator_token.clone(),
        },
    )
    .await?;
    expect(&mut fac, |m| {
        matches!(m, ServerMessage::Welcome { .. }).then_some(())
    })
    .await?;
    let mut cards = Vec::new();
    for i in 0..5 {
        let cmd = Command::AddCard {
            text: format!("Startkaart {i}"),
            kind: CardKind::Idea,
            builds_on: None,
            source: None,
            lesson_of: None,
        };
        cards.push(
            command(&mut fac, &format!("f{i}"), cmd)
                .await?
                .card
                .context("card")?,
        );
    }
    let open = Command::OpenRound {
        phase: None,
        budget: 50,
        max_per_card: 10,
        live: true,
    };
    let round = command(&mut fac, "fr", open)
        .await?
        .round
        .context("round")?;
    Ok((
        RoomInfo {
            index,
            code: s.code,
            round,
            cards,
            facilitator_token: s.facilitator_token,
        },
        fac,
    ))
}

/// What a welcome told a client.
pub struct Welcomed {
    /// The last change included in `view`.
    pub seq: u64,
    /// A new participant's token (only after a join).
    pub token: Option<String>,
    /// The participant id.
    pub me: Option<String>,
    /// The room as this client may see it.
    pub view: View,
}

/// Sends `join` or `resume` on a new socket and reads its answer: the welcome, or the error's
/// code and message.
async fn enter(
    ws: &mut Ws,
    hello: &ClientMessage,
) -> Result<Result<Welcomed, (ErrorCode, String)>> {
    send(ws, hello).await?;
    while let Some(frame) = tokio::time::timeout(Duration::from_secs(30), ws.next())
        .await
        .context("no welcome in 30 s")?
    {
        let Message::Text(t) = frame? else { continue };
        match serde_json::from_str(t.as_str())? {
            ServerMessage::Welcome {
                seq,
                token,
                you,
                view,
                ..
            } => {
                return Ok(Ok(Welcomed {
                    seq,
                    token,
                    me: you.id,
                    view,
                }));
            }
            ServerMessage::Error { code, message, .. } => return Ok(Err((code, message))),
            _ => {}
        }
    }
    bail!("closed before the welcome")
}

/// Joins a room as a new participant.
pub async fn join(
    addr: SocketAddr,
    dial: Dial,
    code: &str,
    name: String,
) -> Result<(Ws, Welcomed)> {
    let mut ws = connect(addr, dial).await?;
    let hello = ClientMessage::Join {
        v: PROTOCOL_VERSION,
        code: code.into(),
        name,
        perspective: Perspective::Medewerker,
    };
    match enter(&mut ws, &hello).await? {
        Ok(w) => Ok((ws, w)),
        Err((code, message)) => bail!("join refused: {code:?} {message}"),
    }
}

/// A successful resume, and what it took.
pub struct Resumed {
    pub ws: Ws,
    pub welcome: Welcomed,
    /// Attempts refused with `too_many_attempts` (the server's limit per address) or whose
    /// connection failed, before this one.
    pub retries: u32,
}

/// Comes back with a token on a new socket, through `addrs[home]` first. Retries, after a
/// short random pause and through the next node, when the server refuses with
/// `too_many_attempts` or `internal` (a session's node cannot be reached yet) or the
/// connection fails (no server listening yet, closed before the welcome); fails on any other
/// refusal.
pub async fn resume(
    addrs: &[SocketAddr],
    home: usize,
    dial: Dial,
    code: &str,
    token: &str,
) -> Result<Resumed> {
    let hello = ClientMessage::Resume {
        v: PROTOCOL_VERSION,
        code: code.into(),
        token: token.into(),
    };
    let mut retries = 0;
    let mut ceiling = Duration::from_millis(100);
    loop {
        let addr = addrs[(home + retries as usize) % addrs.len()];
        // A stopped node accepts TCP connections but never answers the handshake.
        let connected = tokio::time::timeout(Duration::from_secs(3), connect(addr, dial))
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the handshake took too long")));
        let refused = match connected {
            Ok(mut ws) => match enter(&mut ws, &hello).await {
                Ok(Ok(welcome)) => {
                    return Ok(Resumed {
                        ws,
                        welcome,
                        retries,
                    });
                }
                Ok(Err((ErrorCode::TooManyAttempts, _))) => "too_many_attempts".to_string(),
                Ok(Err((ErrorCode::Internal, message))) => message,
                Ok(Err((code, message))) => bail!("resume refused: {code:?} {message}"),
                Err(e) => format!("{e:#}"),
            },
            Err(e) => format!("{e:#}"),
        };
        retries += 1;
        if retries > 30 {
            bail!("resume failed 30 times; last: {refused}");
        }
        // Full jitter, doubling up to 2 s: a room of phones must not come back in lockstep.
        tokio::time::sleep(ceiling.mul_f64(fastrand::f64())).await;
        ceiling = (ceiling * 2).min(Duration::from_secs(2));
    }
}

/// A phone seated in a room, welcomed, not acting yet.
pub struct Seat {
    pub room: Arc<RoomInfo>,
    /// Its number in the room.
    pub index: usize,
    pub dial: Dial,
    /// The node it joined through (and comes back through first).
    pub home: usize,
    pub ws: Ws,
    pub welcome: Welcomed,
}

/// Every room with its facilitator and phones.
pub struct Seated {
    pub rooms: Vec<Arc<RoomInfo>>,
    pub seats: Vec<Seat>,
    /// The facilitators' sockets (see [`keep_reading`]).
    pub facilitators: Vec<Ws>,
}

/// Creates `args.rooms()` rooms and seats `args.phones` phones in each, `--join-parallel` at a
/// time, each dialling as `dial(room, phone in room, phone overall)` says. With several nodes,
/// room i is set up on node i mod N (which then owns it) and phone p of room r joins through
/// node (r + p) mod N.
pub async fn seat_everyone(
    target: &Target,
    args: &Args,
    dial: impl Fn(usize, usize, usize) -> Dial,
) -> Result<Seated> {
    let started = Instant::now();
    let nodes: Vec<&Server> = target.nodes().collect();
    let addrs = target.addrs();
    let mut rooms = Vec::new();
    let mut facilitators = Vec::new();
    for i in 0..args.rooms() {
        let (room, fac) = setup_room(nodes[i % nodes.len()], i).await?;
        rooms.push(Arc::new(room));
        facilitators.push(fac);
    }
    let wanted: Vec<(Arc<RoomInfo>, usize, Dial)> = rooms
        .iter()
        .flat_map(|r| (0..args.phones).map(move |p| (r.clone(), p)))
        .enumerate()
        .map(|(global, (r, p))| {
            let d = dial(r.index, p, global);
            (r, p, d)
        })
        .collect();
    let mut seats = Vec::new();
    for chunk in wanted.chunks(args.join_parallel.max(1)) {
        let joins = chunk.iter().map(|(room, p, dial)| {
            let home = (room.index + p) % addrs.len();
            let addr = addrs[home];
            async move {
                let (ws, welcome) = join(addr, *dial, &room.code, format!("Telefoon {p}")).await?;
                anyhow::Ok(Seat {
                    room: room.clone(),
                    index: *p,
                    dial: *dial,
                    home,
                    ws,
                    welcome,
                })
            }
        });
        for seat in futures_util::future::join_all(joins).await {
            seats.push(seat?);
        }
    }
    println!(
        "{} phones joined in {:.1} s",
        seats.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(Seated {
        rooms,
        seats,
        facilitators,
    })
}

/// Keeps clients that only watch (facilitators) reading, so they never fall behind, and
/// pinging, so they stay connected. Each task ends when its socket does.
pub fn keep_reading(sockets: Vec<Ws>) -> Vec<tokio::task::JoinHandle<()>> {
    sockets
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                let mut ping = tokio::time::interval(PING_EVERY);
                ping.tick().await;
                loop {
                    tokio::select! {
                        frame = ws.next() => if !matches!(frame, Some(Ok(_))) { break },
                        _ = ping.tick() => if send(&mut ws, &ClientMessage::Ping).await.is_err() { break },
                    }
                }
            })
        })
        .collect()
}

/// Lifts the soft limit of open files to the hard limit (thousands of sockets); a server
/// started from here inherits it.
pub fn raise_fd_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => println!("open files allowed: {n}"),
        Err(e) => println!("could not raise the open-files limit: {e}"),
    }
}

/// The first line every run prints.
pub fn announce(args: &Args, target: &Target) {
    let rate = args.rate();
    let nodes: Vec<String> = target.addrs().iter().map(ToString::to_string).collect();
    println!(
        "server {} (pid {}); {} rooms x {} phones at {rate:.3} actions/phone/s ({:.0} actions/s in all)",
        nodes.join(", "),
        target.pid.load(std::sync::atomic::Ordering::Relaxed),
        args.rooms(),
        args.phones,
        rate * (args.rooms() * args.phones) as f64
    );
}

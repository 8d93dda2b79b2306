//! The end-to-end harness: the real server as a child process on a free port with a temporary
//! data directory, a tiny HTTP client, and a WebSocket client that keeps its view of the room
//! exactly as a client would (welcome, then deltas) and remembers every frame it received.

pub mod browser;
pub mod disk;

use anyhow::{Context, Result, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::Duration;
use tafel_protocol::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// How long a test waits for any one expected message.
pub const WAIT: Duration = Duration::from_secs(10);

/// The server binary the tests run: `TAFEL_BIN`, or this crate's `tafel-test-server`.
pub fn server_binary() -> PathBuf {
    if let Ok(bin) = std::env::var("TAFEL_BIN") {
        return bin.into();
    }
    // Integration tests run from target/<profile>/deps; the crate's binaries sit one level up.
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    dir.join(format!("tafel-test-server{}", std::env::consts::EXE_SUFFIX))
}

/// One scrape of `GET /metrics`: the samples by series (name and labels, as printed).
pub struct Scrape(Vec<(String, f64)>);

impl Scrape {
    /// Scrapes the server once.
    pub async fn of(server: &Server) -> Result<Self> {
        let res = server.http("GET", "/metrics", None).await?;
        anyhow::ensure!(res.status == 200, "GET /metrics: {}", res.status);
        let samples = res
            .body
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter_map(|l| {
                let (series, value) = l.rsplit_once(' ')?;
                Some((series.to_owned(), value.parse().ok()?))
            })
            .collect();
        Ok(Self(samples))
    }

    /// The value of a series; a labelled series nobody counted yet is absent, which is zero.
    pub fn get(&self, series: &str) -> f64 {
        self.0
            .iter()
            .find(|(s, _)| s == series)
            .map_or(0.0, |(_, v)| *v)
    }
}

/// A running `tafel` process.
pub struct Server {
    bin: PathBuf,
    args: Vec<String>,
    cpus: Option<String>,
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    data: tempfile::TempDir,
    child: Option<Child>,
}

impl Server {
    /// Starts the server under test with a new, empty data directory.
    pub fn start() -> Result<Self> {
        Self::start_bin(&server_binary(), &[])
    }

    /// Starts the server under test with extra flags (e.g. `--max-messages-per-sec 1000`).
    pub fn start_with(args: &[&str]) -> Result<Self> {
        Self::start_bin(&server_binary(), args)
    }

    /// Starts the given server binary with extra flags (e.g. `--idle-secs 1`).
    pub fn start_bin(bin: &Path, args: &[&str]) -> Result<Self> {
        Self::start_on_cpus(bin, args, None)
    }

    /// Starts the given server binary, pinned to the given CPUs (`taskset -c CPUS`) if any.
    pub fn start_on_cpus(bin: &Path, args: &[&str], cpus: Option<&str>) -> Result<Self> {
        Self::start_at(bin, "127.0.0.1:0", args, cpus)
    }

    /// Starts the given server binary listening on `listen` (e.g. `127.0.0.2:0`).
    pub fn start_at(bin: &Path, listen: &str, args: &[&str], cpus: Option<&str>) -> Result<Self> {
        let data = tempfile::tempdir()?;
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let cpus = cpus.map(str::to_owned);
        let (child, addr) = spawn(bin, data.path(), listen, &args, cpus.as_deref())?;
        Ok(Self {
            bin: bin.to_owned(),
            args,
            cpus,
            addr,
            base: format!("http://{addr}"),
            data,
            child: Some(child),
        })
    }

    /// A server someone else started, at `addr`: the HTTP and WebSocket helpers work; killing,
    /// restarting and the data directory do not apply.
    pub fn running(addr: SocketAddr) -> Self {
        Self {
            bin: PathBuf::new(),
            args: Vec::new(),
            cpus: None,
            addr,
            base: format!("http://{addr}"),
            data: tempfile::tempdir().expect("a temporary directory"),
            child: None,
        }
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Kills the process without warning (SIGKILL) and waits for it to be gone.
    pub fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            // It may be dead already (killed by pid): then only reap it.
            let _ = child.kill();
            child.wait()?;
        }
        Ok(())
    }

    /// Sends the process a signal by name (`STOP`, `CONT`, …).
    pub fn signal(&self, name: &str) -> Result<()> {
        let status = Process::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()?;
        anyhow::ensure!(status.success(), "kill -{name} failed");
        Ok(())
    }

    /// Whether the process is running (not killed or stopped by this handle).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Asks the process to stop (SIGTERM) and returns its exit code.
    pub fn terminate(&mut self) -> Result<Option<i32>> {
        let mut child = self.child.take().context("not running")?;
        let status = Process::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()?;
        if !status.success() {
            bail!("kill -TERM failed");
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status.code());
            }
            if std::time::Instant::now() > deadline {
                child.kill()?;
                bail!("the server did not stop within 20 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the server again on the same port and data directory (after kill or terminate).
    pub fn restart(&mut self) -> Result<()> {
        self.kill()?;
        let (child, addr) = spawn(
            &self.bin,
            self.data.path(),
            &self.addr.to_string(),
            &self.args,
            self.cpus.as_deref(),
        )?;
        anyhow::ensure!(addr == self.addr, "restarted on another address");
        self.child = Some(child);
        Ok(())
    }

    /// One series of `GET /metrics` (name and labels as printed), or zero when absent.
    pub async fn metric(&self, series: &str) -> Result<f64> {
        Ok(Scrape::of(self).await?.get(series))
    }

    /// A plain HTTP request; returns status, headers (lower-case names) and body.
    pub async fn http(&self, method: &str, path: &str, body: Option<&str>) -> Result<HttpResponse> {
        http(self.addr, method, path, body).await
    }

    /// Any request with `Authorization: Bearer token` (the organiser key, a facilitator's
    /// token for deleting).
    pub async fn http_with_token(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        token: &str,
    ) -> Result<HttpResponse> {
        let header = format!("Authorization: Bearer {token}\r\n");
        request(self.addr, method, path, body, &header)
            .await
            .map(|(r, _)| r)
    }

    /// A GET with `Authorization: Bearer token`, as the replay and report pages send it.
    pub async fn get_with_token(&self, path: &str, token: &str) -> Result<HttpResponse> {
        let header = format!("Authorization: Bearer {token}\r\n");
        request(self.addr, "GET", path, None, &header)
            .await
            .map(|(r, _)| r)
    }

    /// The same, with the body as bytes (a download).
    pub async fn download_with_token(
        &self,
        path: &str,
        token: &str,
    ) -> Result<(HttpResponse, Vec<u8>)> {
        let header = format!("Authorization: Bearer {token}\r\n");
        request(self.addr, "GET", path, None, &header).await
    }

    /// Creates a session through the API.
    pub async fn create_session(
        &self,
        title: &str,
        anonymous_cards: bool,
    ) -> Result<SessionCreated> {
        let req = CreateSession {
            title: title.into(),
            problem: "Hoe krijgen cliënten meer regie over hun dag?".into(),
            language: Language::Nl,
            anonymous_cards,
            facilitator_name: None,
        };
        let res = self
            .http("POST", "/api/sessions", Some(&serde_json::to_string(&req)?))
            .await?;
        anyhow::ensure!(
            res.status == 201,
            "create failed: {} {}",
            res.status,
            res.body
        );
        Ok(serde_json::from_str(&res.body)?)
    }

    /// Opens a WebSocket to `/ws`.
    pub async fn client(&self) -> Result<Client> {
        Client::connect(self.addr).await
    }

    /// A new session with everyone at the table: the facilitator, the projector, and two
    /// phones, Anna and Bram, with the given perspectives.
    pub async fn table(
        &self,
        title: &str,
        anonymous_cards: bool,
        anna: Perspective,
        bram: Perspective,
    ) -> Result<Table> {
        let session = self.create_session(title, anonymous_cards).await?;
        let mut fac = self.client().await?;
        fac.resume(&session.code, &session.facilitator_token)
            .await?;
        let mut proj = self.client().await?;
        proj.resume(&session.code, &session.projector_token).await?;
        let mut anna_phone = self.client().await?;
        anna_phone.join(&session.code, "Anna", anna).await?;
        let mut bram_phone = self.client().await?;
        bram_phone.join(&session.code, "Bram", bram).await?;
        Ok(Table {
            session,
            fac,
            proj,
            anna: anna_phone,
            bram: bram_phone,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

fn spawn(
    bin: &Path,
    data: &Path,
    listen: &str,
    args: &[String],
    cpus: Option<&str>,
) -> Result<(Child, SocketAddr)> {
    let mut command = match cpus {
        Some(cpus) => {
            let mut c = Process::new("taskset");
            c.args(["-c", cpus]).arg(bin);
            c
        }
        None => Process::new(bin),
    };
    let mut child = command
        .args(["--listen", listen, "--data-dir"])
        .arg(data)
        .args(args)
        .env(
            "TAFEL_LOG",
            std::env::var("TAFEL_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .env_remove("TAFEL_PUBLIC_URL")
        // Tests and tools create many sessions from one address; the tests of these limits
        // give them as flags, which win over these.
        .env("TAFEL_SESSIONS_PER_ADDRESS_PER_HOUR", "1000000")
        .env("TAFEL_SESSIONS_PER_HOUR", "1000000")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let stdout = child.stdout.take().context("stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines
            .next()
            .context("the server exited before listening")??;
        if let Some(addr) = line.strip_prefix("listening on ") {
            break addr.trim().parse::<SocketAddr>()?;
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok((child, addr))
}

pub use tafel_server::storage::postgres::ScratchDatabase;

/// A PostgreSQL database of this test's own (dropped with it), or `None` after a loud warning
/// when no PostgreSQL answers. Under `CI=true` a missing PostgreSQL is an error.
pub fn scratch_database() -> Result<Option<ScratchDatabase>> {
    let base = ScratchDatabase::base_url();
    match ScratchDatabase::create(&base) {
        Ok(db) => Ok(Some(db)),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            bail!("CI=true needs PostgreSQL at {base} (TAFEL_TEST_DATABASE_URL): {e}")
        }
        Err(e) => {
            eprintln!(
                "\n*** SKIPPED: no PostgreSQL at {base} ({e}); set TAFEL_TEST_DATABASE_URL ***\n"
            );
            Ok(None)
        }
    }
}

/// Several nodes over one database of their own, node `i` listening on `127.0.0.{i + 1}`.
pub struct Cluster {
    /// The nodes, in order.
    pub nodes: Vec<Server>,
    /// Their database (dropped after the nodes).
    pub db: ScratchDatabase,
}

impl Cluster {
    /// Starts `n` nodes of the server under test with extra flags (e.g. `--lease-secs 2`), or
    /// `None` without PostgreSQL (see [`scratch_database`]).
    pub fn start(n: usize, args: &[&str]) -> Result<Option<Self>> {
        let Some(db) = scratch_database()? else {
            return Ok(None);
        };
        let mut flags = vec!["--database-url", db.url.as_str()];
        flags.extend_from_slice(args);
        let nodes = (0..n)
            .map(|i| {
                Server::start_at(
                    &server_binary(),
                    &format!("127.0.0.{}:0", i + 1),
                    &flags,
                    None,
                )
            })
            .collect::<Result<_>>()?;
        Ok(Some(Self { nodes, db }))
    }

    /// The nodes' addresses.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.nodes.iter().map(|n| n.addr).collect()
    }

    /// Runs `f` with a client of the database, to look at what the nodes wrote (on a thread
    /// of its own: the blocking client cannot run inside the test's runtime).
    pub fn sql<T: Send>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<T> + Send,
    ) -> Result<T> {
        let url = &self.db.url;
        std::thread::scope(|s| {
            s.spawn(|| f(&mut postgres::Client::connect(url, postgres::NoTls)?))
                .join()
                .map_err(|_| anyhow!("the database query panicked"))?
        })
    }

    /// Waits until `check` holds for one scrape of every node's metrics.
    pub async fn until_metrics(
        &self,
        what: &str,
        mut check: impl FnMut(&[Scrape]) -> bool,
    ) -> Result<()> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let mut scrapes = Vec::new();
            for node in self.nodes.iter().filter(|n| n.is_running()) {
                scrapes.push(Scrape::of(node).await?);
            }
            if check(&scrapes) {
                return Ok(());
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting until {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // The nodes first, so the database can be dropped.
        self.nodes.clear();
    }
}

/// A session and its connected screens (see [`Server::table`]).
pub struct Table {
    /// What creating the session answered.
    pub session: SessionCreated,
    /// The facilitator's console.
    pub fac: Client,
    /// The big screen.
    pub proj: Client,
    /// Anna's phone.
    pub anna: Client,
    /// Bram's phone.
    pub bram: Client,
}

/// An HTTP answer.
#[derive(Debug)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// Body as text.
    pub body: String,
}

impl HttpResponse {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request with `Connection: close`, read to the end.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<HttpResponse> {
    request(addr, method, path, body, "").await.map(|(r, _)| r)
}

/// One HTTP/1.1 request with extra header lines; the answer, and its body as bytes.
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &str,
) -> Result<(HttpResponse, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr).await?;
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut raw)).await??;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no header end")?;
    let bytes = raw[split + 4..].to_vec();
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").context("no header end")?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .context("status line")?
        .parse()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect::<Vec<_>>();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok((
        HttpResponse {
            status,
            headers,
            body,
        },
        bytes,
    ))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// A WebSocket client that speaks the protocol and keeps its own copy of the room.
pub struct Client {
    ws: Ws,
    /// The role, once welcomed.
    pub role: Option<Role>,
    /// The token from a join welcome.
    pub token: Option<String>,
    /// The room as this client sees it: the welcome's view with every delta applied.
    pub view: Option<View>,
    /// Own data.
    pub you: Option<You>,
    /// Every frame received, as raw text, for "never shown" checks.
    pub frames: Vec<String>,
    next_id: u64,
}

/// A client's WebSocket.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a WebSocket to the server's `/ws`, as a phone would.
///
/// The read buffer is 4 KiB, like the server's: tungstenite's default of 128 KiB is zeroed on
/// every read, which made a load generator spend most of its time in `memset`.
pub async fn ws_connect(addr: SocketAddr) -> Result<Ws> {
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(4 * 1024);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(
        format!("ws://{addr}/ws"),
        Some(config),
        false,
    )
    .await?;
    Ok(ws)
}

impl Client {
    /// Connects to `/ws`.
    pub async fn connect(addr: SocketAddr) -> Result<Self> {
        let ws = ws_connect(addr).await?;
        Ok(Self {
            ws,
            role: None,
            token: None,
            view: None,
            you: None,
            frames: Vec::new(),
            next_id: 0,
        })
    }

    /// Sends a protocol message.
    pub async fn send(&mut self, msg: &ClientMessage) -> Result<()> {
        self.send_raw(&serde_json::to_string(msg)?).await
    }

    /// Sends a raw text frame.
    pub async fn send_raw(&mut self, text: &str) -> Result<()> {
        self.ws.send(Message::text(text)).await?;
        Ok(())
    }

    /// The next protocol message (applying it to the local view). Errors on close or timeout.
    pub async fn recv(&mut self) -> Result<ServerMessage> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .context("timed out waiting for a message")?;
            match frame {
                Some(Ok(Message::Text(t))) => {
                    self.frames.push(t.to_string());
                    let msg: ServerMessage = serde_json::from_str(t.as_str())?;
                    self.apply(&msg);
                    return Ok(msg);
                }
                Some(Ok(Message::Close(c))) => bail!("closed: {c:?}"),
                Some(Ok(_)) => continue,
                Some(Err(e)) => bail!("socket error: {e}"),
                None => bail!("socket ended"),
            }
        }
    }

    /// Waits for the server to close the connection; returns the close code.
    pub async fn closed(&mut self) -> Result<u16> {
        self.closed_within(WAIT).await
    }

    /// The close code the server sends, waiting for each frame at most `wait`.
    pub async fn closed_within(&mut self, wait: Duration) -> Result<u16> {
        loop {
            match tokio::time::timeout(wait, self.ws.next())
                .await
                .context("timed out waiting for close")?
            {
                Some(Ok(Message::Close(Some(c)))) => return Ok(c.code.into()),
                Some(Ok(Message::Close(None))) | None => return Ok(1005),
                Some(Ok(Message::Text(t))) => self.frames.push(t.to_string()),
                Some(Ok(_)) => {}
                Some(Err(e)) => bail!("socket error before close: {e}"),
            }
        }
    }

    fn apply(&mut self, msg: &ServerMessage) {
        match msg {
            ServerMessage::Welcome {
                role,
                token,
                you,
                view,
                ..
            } => {
                self.role = Some(*role);
                if token.is_some() {
                    self.token = token.clone();
                }
                self.you = Some(you.clone());
                self.view = Some(view.clone());
            }
            ServerMessage::Delta { patch, .. } => {
                if let Some(view) = &mut self.view {
                    view.apply(patch);
                }
            }
            ServerMessage::YouDelta { you: patch } => {
                if let Some(you) = &mut self.you {
                    you.apply(patch);
                }
            }
            _ => {}
        }
    }

    /// Joins as a new participant; returns the welcome.
    pub async fn join(
        &mut self,
        code: &str,
        name: &str,
        perspective: Perspective,
    ) -> Result<ServerMessage> {
        let msg = ClientMessage::Join {
            v: PROTOCOL_VERSION,
            code: code.into(),
            name: name.into(),
            perspective,
        };
        self.send(&msg).await?;
        self.recv().await
    }

    /// Resumes with a token; returns the welcome (or error).
    pub async fn resume(&mut self, code: &str, token: &str) -> Result<ServerMessage> {
        let msg = ClientMessage::Resume {
            v: PROTOCOL_VERSION,
            code: code.into(),
            token: token.into(),
        };
        self.send(&msg).await?;
        self.recv().await
    }

    /// A fresh command id.
    pub fn next_id(&mut self) -> String {
        self.next_id += 1;
        format!("c{}", self.next_id)
    }

    /// Sends a command with the given id and waits for its answer (ack or error), applying
    /// every delta that arrives meanwhile.
    pub async fn cmd_with_id(&mut self, id: &str, cmd: Command) -> Result<ServerMessage> {
        self.send(&ClientMessage::Cmd { id: id.into(), cmd })
            .await?;
        self.answer(id).await
    }

    /// Waits for the answer to command `id`.
    pub async fn answer(&mut self, id: &str) -> Result<ServerMessage> {
        loop {
            match self.recv().await? {
                m @ (ServerMessage::Ack { .. } | ServerMessage::Error { .. })
                    if answer_id(&m) == Some(id) =>
                {
                    return Ok(m);
                }
                _ => {}
            }
        }
    }

    /// Sends a command with a fresh id and waits for its answer.
    pub async fn cmd(&mut self, cmd: Command) -> Result<ServerMessage> {
        let id = self.next_id();
        self.cmd_with_id(&id, cmd).await
    }

    /// Sends a command that must be acked; returns what it created.
    pub async fn ok(&mut self, cmd: Command) -> Result<AckResult> {
        match self.cmd(cmd.clone()).await? {
            ServerMessage::Ack { result, .. } => Ok(result),
            other => Err(anyhow!("{cmd:?} was refused: {other:?}")),
        }
    }

    /// Sends a command that must be refused; returns the error code.
    pub async fn refused(&mut self, cmd: Command) -> Result<ErrorCode> {
        match self.cmd(cmd.clone()).await? {
            ServerMessage::Error { code, .. } => Ok(code),
            other => Err(anyhow!("{cmd:?} was accepted: {other:?}")),
        }
    }

    /// Reads messages until `check` holds for the local view (deltas are applied as they come).
    pub async fn until(&mut self, mut check: impl FnMut(&View) -> bool) -> Result<()> {
        loop {
            if self.view.as_ref().is_some_and(&mut check) {
                return Ok(());
            }
            self.recv().await?;
        }
    }

    /// A barrier through the room: returns once everything the room sent this client before
    /// has arrived (and was applied to the local view). The way to know that something did
    /// not happen: after the sync, it would have been here.
    pub async fn sync(&mut self) -> Result<u64> {
        self.next_id += 1;
        let id = format!("s{}", self.next_id);
        self.send(&ClientMessage::Sync { id: id.clone() }).await?;
        loop {
            if let ServerMessage::Synced { id: got, seq } = self.recv().await?
                && got == id
            {
                return Ok(seq);
            }
        }
    }

    /// The view; panics before the welcome.
    pub fn view(&self) -> &View {
        self.view.as_ref().expect("welcomed")
    }

    /// A card of the local view by id.
    pub fn card(&self, id: &str) -> Option<&CardView> {
        self.view().cards.iter().find(|c| c.id == id)
    }
}

/// An `add_card` command for an idea.
pub fn idea(text: &str) -> Command {
    Command::AddCard {
        text: text.into(),
        kind: CardKind::Idea,
        builds_on: None,
        source: None,
        lesson_of: None,
    }
}

/// The id an ack or error answers.
pub fn answer_id(msg: &ServerMessage) -> Option<&str> {
    match msg {
        ServerMessage::Ack { id, .. } => Some(id),
        ServerMessage::Error { id, .. } => id.as_deref(),
        _ => None,
    }
}

/// Runs one of the node scripts in tests/ (installed by `npm ci` there) with `input` in a
/// file as its last argument; its output. `None`, after a loud warning, when node or the
/// packages are missing here; under `CI=true` that fails instead.
fn run_node(script: &str, args: &[&Path], input: &[u8]) -> Result<Option<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let have_node = Process::new("node").arg("--version").output().is_ok();
    if !have_node || !dir.join("node_modules/@automerge/automerge").exists() {
        if std::env::var_os("CI").is_some() {
            bail!("node and the test packages are needed: run `npm ci` in tests/");
        }
        eprintln!(
            "!! node or the test packages missing (run `npm ci` in tests/): {script} is SKIPPED"
        );
        return Ok(None);
    }
    let file = tempfile::NamedTempFile::new()?;
    std::fs::write(file.path(), input)?;
    let out = Process::new("node")
        .arg(dir.join(script))
        .args(args)
        .arg(file.path())
        .current_dir(dir)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "{script} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(Some(String::from_utf8(out.stdout)?))
}

/// Reads a raw automerge file with the automerge package from npm and returns the document
/// as JSON (`None` when node is not here; see [`run_node`]).
pub fn node_reads_automerge(bytes: &[u8]) -> Result<Option<String>> {
    run_node("automerge-read.mjs", &[], bytes)
}

/// Checks a report against `docs/report.schema.json` with ajv (`None` when node is not here).
pub fn report_fits_its_schema(report: &str) -> Result<Option<()>> {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/report.schema.json");
    Ok(run_node("validate-report.mjs", &[&schema], report.as_bytes())?.map(|_| ()))
}

//! Several nodes over one PostgreSQL database: real `tafel` processes on 127.0.0.x ports, a
//! database of their own per test, phones over real sockets. Skipped loudly without
//! PostgreSQL, failed under `CI=true`.

use anyhow::{Context, Result, bail};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;
use tafel_protocol::*;
use tafel_tests::*;
use tokio::time::Instant;

/// Leases short enough that a failover fits a test, long enough for a busy machine to renew;
/// and phones that add cards as fast as they are acknowledged are not flooding.
const FLAGS: &[&str] = &["--lease-secs", "2", "--max-messages-per-sec", "1000"];

/// How long a phone keeps trying to come back after its node went away.
const COME_BACK: Duration = Duration::from_secs(30);

/// A phone that keeps its token and, when its connection dies, resumes through the first node
/// that answers (its own first) and resends what had no answer, with the same id, as the web
/// client does.
struct Phone {
    name: String,
    code: String,
    token: String,
    client: Client,
    /// The node it prefers, by index.
    home: usize,
    /// The texts of its cards that were acknowledged.
    acked: Vec<String>,
    /// Connections it had to make again.
    reconnects: usize,
    /// Its commands so far: ids stay unique across its connections.
    sent: usize,
}

async fn connect(addr: SocketAddr) -> Result<Client> {
    // A stopped node still accepts TCP connections; its handshake never ends.
    tokio::time::timeout(Duration::from_secs(2), Client::connect(addr))
        .await
        .context("the WebSocket handshake took too long")?
}

impl Phone {
    async fn join(nodes: &[SocketAddr], home: usize, code: &str, name: &str) -> Result<Self> {
        let mut client = connect(nodes[home]).await?;
        let welcome = client.join(code, name, Perspective::Medewerker).await?;
        anyhow::ensure!(
            matches!(welcome, ServerMessage::Welcome { .. }),
            "{name} was not welcomed: {welcome:?}"
        );
        Ok(Self {
            name: name.into(),
            code: code.into(),
            token: client.token.clone().context("a token")?,
            client,
            home,
            acked: Vec::new(),
            reconnects: 0,
            sent: 0,
        })
    }

    /// Resumes through the nodes, from its own on, until one welcomes it.
    async fn come_back(&mut self, nodes: &[SocketAddr]) -> Result<()> {
        let give_up = Instant::now() + COME_BACK;
        let mut last = String::new();
        for i in 0.. {
            anyhow::ensure!(
                Instant::now() < give_up,
                "{} could not come back in {COME_BACK:?}: {last}",
                self.name
            );
            let addr = nodes[(self.home + i) % nodes.len()];
            let attempt = async {
                let mut client = connect(addr).await?;
                match client.resume(&self.code, &self.token).await? {
                    ServerMessage::Welcome { .. } => Ok(client),
                    other => bail!("{other:?}"),
                }
            };
            match attempt.await {
                Ok(client) => {
                    self.client = client;
                    self.reconnects += 1;
                    return Ok(());
                }
                Err(e) => last = format!("{addr}: {e:#}"),
            }
        }
        unreachable!()
    }

    /// Adds a card, coming back and resending as often as it takes.
    async fn add(&mut self, nodes: &[SocketAddr], text: &str) -> Result<()> {
        self.sent += 1;
        let id = format!("{}-{}", self.name, self.sent);
        loop {
            match self.client.cmd_with_id(&id, idea(text)).await {
                Ok(ServerMessage::Ack { .. }) => {
                    self.acked.push(text.to_owned());
                    return Ok(());
                }
                Ok(other) => bail!("{} could not add {text:?}: {other:?}", self.name),
                Err(_) => self.come_back(nodes).await?,
            }
        }
    }

    /// Syncs (coming back first if its connection is gone) and returns the cards it shows.
    async fn cards(&mut self, nodes: &[SocketAddr]) -> Result<Vec<String>> {
        if self.client.sync().await.is_err() {
            self.come_back(nodes).await?;
            self.client.sync().await?;
        }
        let mut texts: Vec<String> = self
            .client
            .view()
            .cards
            .iter()
            .filter_map(|c| c.text.clone())
            .collect();
        texts.sort();
        Ok(texts)
    }
}

/// Every phone shows every acknowledged card exactly once, and nothing else.
async fn converge(phones: &mut [Phone], nodes: &[SocketAddr]) -> Result<()> {
    let mut acked: Vec<String> = phones.iter().flat_map(|p| p.acked.clone()).collect();
    acked.sort();
    for phone in phones.iter_mut() {
        let shown = phone.cards(nodes).await?;
        assert_eq!(
            shown, acked,
            "{} shows every acknowledged card exactly once",
            phone.name
        );
    }
    Ok(())
}

/// A session with its facilitator on node `at`.
async fn session(cluster: &Cluster, at: usize) -> Result<(SessionCreated, Client)> {
    let session = cluster.nodes[at]
        .create_session("Drie knopen", false)
        .await?;
    let mut fac = cluster.nodes[at].client().await?;
    fac.resume(&session.code, &session.facilitator_token)
        .await?;
    Ok((session, fac))
}

/// The node that holds the one lease of these tests.
fn owner(scrapes: &[Scrape]) -> Option<usize> {
    let holding: Vec<usize> = (0..scrapes.len())
        .filter(|&i| scrapes[i].get("tafel_leases_held") >= 1.0)
        .collect();
    (holding.len() == 1).then(|| holding[0])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phones_of_one_room_on_three_nodes_see_the_same_room() -> Result<()> {
    let Some(cluster) = Cluster::start(3, FLAGS)? else {
        return Ok(());
    };
    let nodes = cluster.addrs();
    // The room starts on node 0 (its facilitator is there); phones come in through all three.
    let (session, mut fac) = session(&cluster, 0).await?;
    let mut phones = Vec::new();
    for (i, name) in ["Anna", "Bram", "Cem"].into_iter().enumerate() {
        phones.push(Phone::join(&nodes, i, &session.code, name).await?);
    }
    for p in phones.iter_mut() {
        let text = format!("Idee van {}", p.name);
        p.add(&nodes, &text).await?;
    }
    converge(&mut phones, &nodes).await?;

    // The same floor everywhere: Cem (through node 2) raises a hand and gets the floor.
    phones[2]
        .client
        .ok(Command::RaiseHand {
            kind: HandKind::Hand,
        })
        .await?;
    let cem = phones[2].client.you.as_ref().and_then(|y| y.id.clone());
    fac.until(|v| {
        v.floor
            .queue
            .iter()
            .any(|q| Some(&q.participant) == cem.as_ref())
    })
    .await?;
    fac.ok(Command::GiveFloor { to: None }).await?;
    for p in phones.iter_mut() {
        p.client
            .until(|v| v.floor.turn.as_ref().map(|t| &t.speaker) == cem.as_ref())
            .await?;
    }

    // One node runs the room; the others pass their phones on and load nothing.
    cluster
        .until_metrics("node 0 alone holds the lease", |s| owner(s) == Some(0))
        .await?;
    for (i, node) in cluster.nodes.iter().enumerate().skip(1) {
        let m = Scrape::of(node).await?;
        assert_eq!(m.get("tafel_rooms_loaded"), 0.0, "node {i} loaded no room");
        assert!(
            m.get("tafel_forwarded_connections") >= 1.0,
            "node {i} forwards its phone"
        );
    }

    // A lookup on another node answers from the owner, without loading the room there.
    let info = cluster.nodes[2]
        .http("GET", &format!("/api/sessions/{}", session.code), None)
        .await?;
    assert_eq!(info.status, 200, "{}", info.body);
    assert!(info.body.contains("Drie knopen"), "{}", info.body);
    let qr = cluster.nodes[1]
        .http(
            "GET",
            &format!("/api/sessions/{}/qr.svg", session.code),
            None,
        )
        .await?;
    assert_eq!(qr.status, 200);
    let m = Scrape::of(&cluster.nodes[2]).await?;
    assert_eq!(m.get("tafel_rooms_loaded"), 0.0, "a lookup loads no room");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_count_across_nodes() -> Result<()> {
    let Some(cluster) = Cluster::start(2, FLAGS)? else {
        return Ok(());
    };
    // Ten wrong codes, taking turns at the two nodes: the address is blocked on both.
    for i in 0..10 {
        let res = cluster.nodes[i % 2]
            .http("GET", "/api/sessions/ZZZZZZ", None)
            .await?;
        assert_eq!(res.status, 404, "guess {i}: {}", res.body);
    }
    // Node 1 made the tenth guess: it knows. Node 0 lets one more through, then knows too.
    let res = cluster.nodes[1]
        .http("GET", "/api/sessions/ZZZZZZ", None)
        .await?;
    assert_eq!(res.status, 429, "{}", res.body);
    let res = cluster.nodes[0]
        .http("GET", "/api/sessions/ZZZZZZ", None)
        .await?;
    assert_eq!(res.status, 404, "{}", res.body);
    for node in &cluster.nodes {
        let res = node.http("GET", "/api/sessions/ZZZZZZ", None).await?;
        assert_eq!(res.status, 429, "{}", res.body);
    }
    Ok(())
}

/// Phones on every node add cards one after another until `stop` holds.
fn stream(
    phones: Vec<Phone>,
    nodes: &[SocketAddr],
    acks: &Arc<AtomicUsize>,
    stop: &Arc<AtomicUsize>,
) -> Vec<tokio::task::JoinHandle<Result<Phone>>> {
    phones
        .into_iter()
        .map(|mut p| {
            let (nodes, acks, stop) = (nodes.to_vec(), acks.clone(), stop.clone());
            tokio::spawn(async move {
                for i in 0.. {
                    if stop.load(Relaxed) > 0 {
                        break;
                    }
                    p.add(&nodes, &format!("{} {i}", p.name)).await?;
                    acks.fetch_add(1, Relaxed);
                }
                Ok(p)
            })
        })
        .collect()
}

/// Waits until at least `n` cards were acknowledged in all.
async fn acked_at_least(acks: &AtomicUsize, n: usize) -> Result<()> {
    let deadline = Instant::now() + COME_BACK;
    while acks.load(Relaxed) < n {
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {} of {n} cards acknowledged",
            acks.load(Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

async fn three_phones(cluster: &Cluster, code: &str) -> Result<Vec<Phone>> {
    let nodes = cluster.addrs();
    let mut phones = Vec::new();
    for (i, name) in ["Anna", "Bram", "Cem"].into_iter().enumerate() {
        phones.push(Phone::join(&nodes, i, code, name).await?);
    }
    Ok(phones)
}

/// A session on node 0 and three phones, one through each node, adding cards one after another.
async fn streaming(
    cluster: &Cluster,
) -> Result<(
    SessionCreated,
    Client,
    Streams,
    Arc<AtomicUsize>,
    Arc<AtomicUsize>,
)> {
    let (session, fac) = session(cluster, 0).await?;
    let phones = three_phones(cluster, &session.code).await?;
    let (acks, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let tasks = stream(phones, &cluster.addrs(), &acks, &stop);
    Ok((session, fac, tasks, acks, stop))
}

type Streams = Vec<tokio::task::JoinHandle<Result<Phone>>>;

async fn finish(tasks: Vec<tokio::task::JoinHandle<Result<Phone>>>) -> Result<Vec<Phone>> {
    let mut phones = Vec::new();
    for t in tasks {
        phones.push(t.await??);
    }
    Ok(phones)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_owner_moves_the_room_and_loses_nothing() -> Result<()> {
    let Some(mut cluster) = Cluster::start(3, FLAGS)? else {
        return Ok(());
    };
    let nodes = cluster.addrs();
    let (_session, _fac, tasks, acks, stop) = streaming(&cluster).await?;

    // In the middle of the stream, the owner dies without a word.
    acked_at_least(&acks, 15).await?;
    cluster.nodes[0].kill()?;
    let killed_at = acks.load(Relaxed);
    // The room comes back on another node, and goes on taking cards.
    acked_at_least(&acks, killed_at + 15).await?;
    stop.store(1, Relaxed);
    let mut phones = finish(tasks).await?;
    converge(&mut phones, &nodes).await?;
    assert!(
        phones.iter().all(|p| p.reconnects >= 1),
        "every phone came back"
    );

    let live = &cluster.nodes[1..];
    let scrapes = [Scrape::of(&live[0]).await?, Scrape::of(&live[1]).await?];
    let took: f64 = scrapes
        .iter()
        .map(|s| s.get("tafel_lease_takeovers_total"))
        .sum();
    assert_eq!(took, 1.0, "one node took the room over from the dead one");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_owner_writes_nothing_after_its_lease_and_its_phones_move() -> Result<()> {
    let Some(cluster) = Cluster::start(3, FLAGS)? else {
        return Ok(());
    };
    let nodes = cluster.addrs();
    let (session, _fac) = session(&cluster, 0).await?;
    let mut phones = three_phones(&cluster, &session.code).await?;
    for p in phones.iter_mut() {
        let text = format!("{} voor de stilstand", p.name);
        p.add(&nodes, &text).await?;
    }
    let code = session.code.as_str();
    let fence_of = || -> Result<i64> {
        cluster.sql(|db| {
            Ok(db
                .query_one("SELECT fence FROM tafel_leases WHERE code = $1", &[&code])?
                .get(0))
        })
    };
    let written_under = |fence: i64| -> Result<i64> {
        cluster.sql(|db| {
            Ok(db
                .query_one(
                    "SELECT count(*) FROM tafel_changes WHERE code = $1 AND fence = $2",
                    &[&code, &fence],
                )?
                .get(0))
        })
    };
    let old_fence = fence_of()?;

    // Node 0 stalls. Bram and Cem (through nodes 1 and 2) carry on at a new owner.
    cluster.nodes[0].signal("STOP")?;
    let (mut anna, mut others) = (phones.remove(0), phones);
    for p in others.iter_mut() {
        let text = format!("{} tijdens de stilstand", p.name);
        p.add(&nodes, &text).await?;
    }
    let new_fence = fence_of()?;
    assert!(new_fence > old_fence, "a new owner took the lease");
    let written_before = written_under(old_fence)?;
    assert!(written_under(new_fence)? > 0, "the new owner writes");

    // Anna's phone, still on the stalled node, sends a card into its socket; then the node
    // wakes up, believing for a moment that it still owns the room.
    let id = "Anna-stalled".to_owned();
    anna.client
        .send(&ClientMessage::Cmd {
            id: id.clone(),
            cmd: idea("Anna na de stilstand"),
        })
        .await?;
    cluster.nodes[0].signal("CONT")?;
    // The old node drops her: no ack can come from it.
    match anna.client.answer(&id).await {
        Err(_) => {}
        Ok(answer) => bail!("the stalled node answered: {answer:?}"),
    }
    // She comes back (through the old node, which now passes her on) and resends.
    anna.come_back(&nodes).await?;
    match anna
        .client
        .cmd_with_id(&id, idea("Anna na de stilstand"))
        .await?
    {
        ServerMessage::Ack { .. } => anna.acked.push("Anna na de stilstand".into()),
        other => bail!("the resent card: {other:?}"),
    }

    // The database holds nothing more from the old owner.
    assert_eq!(
        written_under(old_fence)?,
        written_before,
        "the stalled node wrote nothing more"
    );
    let old = Scrape::of(&cluster.nodes[0]).await?;
    assert!(
        old.get("tafel_leases_lost_total") >= 1.0,
        "the old node knows it lost the lease"
    );
    assert_eq!(
        old.get("tafel_rooms_loaded"),
        0.0,
        "and runs the room no more"
    );
    let mut phones = vec![anna];
    phones.append(&mut others);
    converge(&mut phones, &nodes).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_loses_nothing() -> Result<()> {
    let Some(mut cluster) = Cluster::start(3, FLAGS)? else {
        return Ok(());
    };
    let nodes = cluster.addrs();
    let (_session, _fac, tasks, acks, stop) = streaming(&cluster).await?;
    for i in 0..cluster.nodes.len() {
        acked_at_least(&acks, acks.load(Relaxed) + 10).await?;
        let code = cluster.nodes[i].terminate()?;
        assert_eq!(code, Some(0), "node {i} stopped cleanly");
        cluster.nodes[i].restart()?;
    }
    acked_at_least(&acks, acks.load(Relaxed) + 10).await?;
    stop.store(1, Relaxed);
    let mut phones = finish(tasks).await?;
    converge(&mut phones, &nodes).await?;
    Ok(())
}

//! The room actor on its own: a real session in in-memory storage, its mailbox driven by the
//! test, outboxes read directly. Timers run on tokio's paused clock.

use super::msg::Reply;
use super::*;
use crate::secrets::hash_token;
use crate::storage::Storage;
use axum::extract::ws::Utf8Bytes;
use std::sync::Arc;
use std::time::Duration;
use tafel_protocol::{CardKind, Command, LimitMode, Perspective, ServerMessage, SessionCreated};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A stored session and one run of its room.
struct Harness {
    storage: Storage,
    session: SessionCreated,
    tx: mpsc::Sender<RoomMsg>,
    task: JoinHandle<()>,
    cfg: RoomConfig,
    next_conn: u64,
}

/// Waits for something that must come, within ten seconds of real time (the clock may be
/// paused), yielding so that the room and storage's writer thread get their turns.
async fn within<T>(what: &str, mut poll: impl FnMut() -> Option<T>) -> T {
    let give_up = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(found) = poll() {
            return found;
        }
        assert!(std::time::Instant::now() < give_up, "{what} never came");
        tokio::task::yield_now().await;
    }
}

impl Harness {
    async fn start(cfg: RoomConfig) -> Self {
        Self::start_on(Storage::in_memory(), cfg).await
    }

    async fn start_on(storage: Storage, cfg: RoomConfig) -> Self {
        let session = crate::sessions::for_test(&storage).await;
        let (tx, task) = Self::spawn(&storage, &session.code, &cfg);
        Self {
            storage,
            session,
            tx,
            task,
            cfg,
            next_conn: 1,
        }
    }

    fn spawn(
        storage: &Storage,
        code: &str,
        cfg: &RoomConfig,
    ) -> (mpsc::Sender<RoomMsg>, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(64);
        let room = run(
            code.to_owned(),
            rx,
            storage.clone(),
            Arc::new(cfg.clone()),
            CancellationToken::new(),
            None,
        );
        (tx, tokio::spawn(room))
    }

    /// A new run of the room, loaded from storage (after the last one stopped).
    fn restart(&mut self) {
        (self.tx, self.task) = Self::spawn(&self.storage, &self.session.code, &self.cfg);
    }

    fn sink(&mut self, capacity: usize) -> (ConnSink, mpsc::Receiver<Utf8Bytes>) {
        let (outbox, rx) = mpsc::channel(capacity);
        self.next_conn += 1;
        (
            ConnSink {
                id: self.next_conn,
                outbox,
            },
            rx,
        )
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> RoomMsg) -> Result<T, JoinError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .expect("the room is running");
        answer.await.expect("the room answers")
    }

    async fn resume(&self, token: &str, conn: &ConnSink) -> Joined {
        let (token, conn) = (hash_token(token), conn.clone());
        let joined = self.ask(|reply| RoomMsg::Resume { token, conn, reply });
        joined.await.map_err(|e| format!("{e:?}")).unwrap()
    }

    /// A new connection of the facilitator, in the room: its sink and its outbox.
    async fn facilitator(&mut self, capacity: usize) -> (ConnSink, mpsc::Receiver<Utf8Bytes>) {
        let (conn, rx) = self.sink(capacity);
        self.resume(&self.session.facilitator_token.clone(), &conn)
            .await;
        (conn, rx)
    }

    async fn join(&self, name: &str, conn: &ConnSink) -> Joined {
        let (name, conn) = (name.to_owned(), conn.clone());
        let perspective = Perspective::Client;
        let joined = self.ask(|reply| RoomMsg::Join {
            name,
            perspective,
            conn,
            reply,
        });
        joined.await.map_err(|e| format!("{e:?}")).unwrap()
    }

    async fn send(&self, conn: u64, id: &str, cmd: Command) {
        let id = id.into();
        let msg = RoomMsg::Command { conn, id, cmd };
        self.tx.send(msg).await.expect("the room is running");
    }
}

/// Ten seconds of real time, which a paused clock cannot skip: a plain thread, not a tokio
/// timer (nor `spawn_blocking`, which would stop the paused clock from moving on by itself).
fn real_deadline() -> oneshot::Receiver<()> {
    let (done, wait) = oneshot::channel();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(10));
        let _ = done.send(());
    });
    wait
}

/// The next frame but word of a slow write, awaited: a paused clock moves on to the room's
/// next timer while the test waits, and so makes every commit the test holds up (or that
/// takes real time on the writer thread) a slow write. Bounded by ten seconds of real time.
async fn recv_within(rx: &mut mpsc::Receiver<Utf8Bytes>) -> ServerMessage {
    loop {
        match recv_any_within(rx).await {
            ServerMessage::Storage { .. } => continue,
            other => return other,
        }
    }
}

/// The next frame, awaited (as [`recv_within`], word of a slow write included).
async fn recv_any_within(rx: &mut mpsc::Receiver<Utf8Bytes>) -> ServerMessage {
    let give_up = real_deadline();
    tokio::select! {
        frame = rx.recv() => decode(&frame.expect("the outbox is open")),
        _ = give_up => panic!("no frame within ten seconds"),
    }
}

fn decode(frame: &Utf8Bytes) -> ServerMessage {
    serde_json::from_str(frame.as_str()).unwrap()
}

/// Reads an outbox until `f` finds what it looks for.
async fn until<T>(rx: &mut mpsc::Receiver<Utf8Bytes>, f: impl Fn(ServerMessage) -> Option<T>) -> T {
    within("the message", || {
        loop {
            match rx.try_recv() {
                Ok(frame) => {
                    if let Some(found) = f(decode(&frame)) {
                        return Some(found);
                    }
                }
                Err(mpsc::error::TryRecvError::Empty) => return None,
                Err(e) => panic!("outbox: {e}"),
            }
        }
    })
    .await
}

fn acked(id: &'static str) -> impl Fn(ServerMessage) -> Option<()> {
    move |m| match m {
        ServerMessage::Ack { id: got, .. } if got == id => Some(()),
        _ => None,
    }
}

fn floor_of(m: ServerMessage) -> Option<tafel_protocol::FloorView> {
    match m {
        ServerMessage::Delta { patch, .. } => patch.floor,
        _ => None,
    }
}

fn card(text: &str) -> Command {
    Command::AddCard {
        text: text.into(),
        kind: CardKind::Idea,
        builds_on: None,
        source: None,
        lesson_of: None,
    }
}

#[tokio::test(start_paused = true)]
async fn an_idle_room_is_saved_and_unloaded_and_comes_back_whole() {
    // Each change flushes at once: `until` yields, so the paused clock stands still.
    let mut h = Harness::start(RoomConfig {
        idle: Duration::from_secs(300),
        ..Default::default()
    })
    .await;
    let (conn, mut rx) = h.sink(64);
    let token = h.session.facilitator_token.clone();
    h.resume(&token, &conn).await;
    let conn_id = conn.id;
    drop(conn); // only the room holds the sender now, as with a real connection
    h.send(conn_id, "c1", Command::SetPhase { phase: 3 }).await;
    until(&mut rx, acked("c1")).await;
    let left = tokio::time::Instant::now();
    h.tx.send(RoomMsg::Leave { conn: conn_id }).await.unwrap();
    // The paused clock moves on to the room's own timer: the idle time, and nothing sooner.
    let give_up = real_deadline();
    tokio::select! {
        ended = &mut h.task => ended.expect("the room ends cleanly"),
        _ = give_up => panic!("the idle room never unloaded"),
    }
    assert_eq!(
        left.elapsed(),
        Duration::from_secs(300),
        "unloaded at the idle time"
    );
    assert!(
        rx.try_recv().is_err() && rx.is_closed(),
        "the room let go of the connection"
    );

    h.restart();
    let (conn, mut rx) = h.sink(64);
    h.resume(&token, &conn).await;
    let view = until(&mut rx, |m| match m {
        ServerMessage::Welcome { view, .. } => Some(view),
        _ => None,
    })
    .await;
    assert_eq!(view.session.phase, 3);
    assert_eq!(
        h.storage
            .stats()
            .loads
            .load(std::sync::atomic::Ordering::Relaxed),
        2,
        "loaded again from storage"
    );
}

#[tokio::test]
async fn a_phone_that_stops_reading_is_dropped_and_the_room_goes_on() {
    let mut h = Harness::start(RoomConfig {
        outbox: 4,
        ..Default::default()
    })
    .await;
    let (fac, mut fac_rx) = h.facilitator(4).await;
    let (slow, mut slow_rx) = h.sink(4);
    let joined = h.join("Traag", &slow).await;
    drop(slow); // only the room holds the sender now, as with a real connection
    let me = crate::session::state::id('p', joined.participant.unwrap());
    let mut acks = 0;
    let mut slow_went_offline = false;
    for i in 0..12u8 {
        let id = format!("c{i}");
        h.send(fac.id, &id, Command::SetPhase { phase: i % 2 + 1 })
            .await;
        loop {
            match recv_within(&mut fac_rx).await {
                ServerMessage::Ack { .. } => {
                    acks += 1;
                    break;
                }
                ServerMessage::Delta { patch, .. } => {
                    slow_went_offline |= patch.participants.iter().any(|p| p.id == me && !p.online);
                }
                _ => {}
            }
        }
    }
    assert_eq!(acks, 12, "the facilitator was never held up");
    assert!(
        slow_went_offline,
        "the others see the dropped phone go offline"
    );
    let mut buffered = 0;
    let give_up = real_deadline();
    tokio::pin!(give_up);
    loop {
        tokio::select! {
            frame = slow_rx.recv() => match frame {
                Some(_) => buffered += 1,
                None => break,
            },
            _ = &mut give_up => panic!("the slow phone's outbox was never closed"),
        }
    }
    assert_eq!(
        buffered, 4,
        "the slow phone got what fit in its outbox, then was cut off"
    );
}

/// In-memory storage whose commits wait until the test lets each one through, and say when
/// one has begun: a test double for the room's own tests.
struct Gated {
    inner: crate::storage::memory::MemoryBackend,
    begun: std::sync::Mutex<std::sync::mpsc::Sender<()>>,
    open: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
    /// Once let through, a commit fails as a full disk's would.
    fail: std::sync::atomic::AtomicBool,
}

impl crate::storage::Backend for Gated {
    fn create(&self, s: &crate::storage::NewSession) -> Result<(), crate::error::StorageError> {
        self.inner.create(s)
    }
    fn commit(
        &self,
        requests: &[Vec<crate::storage::Write>],
    ) -> Vec<Result<(), crate::error::StorageError>> {
        let _ = self.begun.lock().unwrap().send(());
        let _ = self.open.lock().unwrap().recv();
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            let full = crate::error::StorageError::Db("No space left on device".into());
            return requests.iter().map(|_| Err(full.clone())).collect();
        }
        self.inner.commit(requests)
    }
    fn load(
        &self,
        code: &str,
    ) -> Result<Option<crate::storage::StoredSession>, crate::error::StorageError> {
        self.inner.load(code)
    }
    fn list(&self) -> Result<Vec<String>, crate::error::StorageError> {
        self.inner.list()
    }
    fn delete(&self, code: &str) -> Result<bool, crate::error::StorageError> {
        self.inner.delete(code)
    }
}

impl Gated {
    /// A gated store: its receiver hears when a commit has begun, and each `()` sent on its
    /// sender lets one commit through.
    fn new() -> (
        Arc<Self>,
        std::sync::mpsc::Receiver<()>,
        std::sync::mpsc::Sender<()>,
    ) {
        let (begun_tx, begun) = std::sync::mpsc::channel();
        let (open, open_rx) = std::sync::mpsc::channel();
        let gated = Self {
            inner: Default::default(),
            begun: begun_tx.into(),
            open: open_rx.into(),
            fail: Default::default(),
        };
        (Arc::new(gated), begun, open)
    }
}

#[tokio::test(start_paused = true)]
async fn a_change_goes_at_once_and_what_comes_during_a_commit_shares_the_next() {
    let (gated, begun, open) = Gated::new();
    // The session is created (not a commit) and the facilitator resumes (nothing to store).
    let storage = Storage::new(gated);
    let mut h = Harness::start_on(storage, RoomConfig::default()).await;
    let (fac, mut rx) = h.facilitator(256).await;
    assert!(matches!(
        recv_within(&mut rx).await,
        ServerMessage::Welcome { .. }
    ));
    let texts = |m: ServerMessage| match m {
        ServerMessage::Delta { patch, .. } => patch
            .cards
            .into_iter()
            .filter_map(|c| c.text)
            .collect::<Vec<_>>(),
        other => panic!("expected a delta, got {other:?}"),
    };
    // Waits, off the runtime, until the storage thread has begun a commit.
    let begun_wait = |begun: std::sync::mpsc::Receiver<()>| async move {
        tokio::task::spawn_blocking(move || {
            begun
                .recv_timeout(Duration::from_secs(10))
                .expect("a commit begins");
            begun
        })
        .await
        .unwrap()
    };

    // A lone change is stored at once: its commit begins with no time passing.
    let sent = tokio::time::Instant::now();
    h.send(fac.id, "a", card("alleen")).await;
    let begun = begun_wait(begun).await;
    assert_eq!(sent.elapsed(), Duration::ZERO, "no timer before the commit");
    // Two more arrive while it is in flight; nothing is shown before it is stored.
    h.send(fac.id, "b", card("twee")).await;
    h.send(fac.id, "c", card("drie")).await;
    assert!(rx.try_recv().is_err(), "nothing sent before the commit");
    open.send(()).unwrap();
    assert_eq!(texts(recv_within(&mut rx).await), ["alleen"]);
    assert!(matches!(
        recv_within(&mut rx).await,
        ServerMessage::YouDelta { .. }
    ));
    assert!(matches!(recv_within(&mut rx).await, ServerMessage::Ack { id, .. } if id == "a"));
    // The two that came meanwhile make the next batch: one commit, one delta.
    begun_wait(begun).await;
    assert!(
        rx.try_recv().is_err(),
        "the second batch waits for its commit"
    );
    open.send(()).unwrap();
    assert_eq!(texts(recv_within(&mut rx).await), ["twee", "drie"]);
    assert!(matches!(
        recv_within(&mut rx).await,
        ServerMessage::YouDelta { .. }
    ));
    assert!(matches!(recv_within(&mut rx).await, ServerMessage::Ack { id, .. } if id == "b"));
    assert!(matches!(recv_within(&mut rx).await, ServerMessage::Ack { id, .. } if id == "c"));
    // No gathering window: the only timer that can move the paused clock here is the word
    // of a slow write (the clock jumps to it while a commit takes real time on its thread).
    let waited = sent.elapsed();
    assert!(
        waited
            .as_nanos()
            .is_multiple_of(super::actor::SLOW_WRITE.as_nanos())
            && waited <= 2 * super::actor::SLOW_WRITE,
        "a timer other than the slow-write word moved the clock: {waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_due_snapshot_waits_for_a_quiet_second() {
    let mut h = Harness::start(RoomConfig {
        snapshot_every: 3,
        ..Default::default()
    })
    .await;
    let (fac, mut rx) = h.facilitator(256).await;
    let stored = |storage: &Storage, code: &str| {
        let (storage, code) = (storage.clone(), code.to_owned());
        async move {
            let s = storage.load(&code).await.unwrap().unwrap();
            (s.snapshot_upto, s.changes.len())
        }
    };
    let (upto_before, _) = stored(&h.storage, &h.session.code).await;
    // Five changes in a row: a snapshot is due, but the room is busy.
    for i in 0..5 {
        let id: &'static str = ["c0", "c1", "c2", "c3", "c4"][i];
        h.send(fac.id, id, card(&format!("kaart {i}"))).await;
        until(&mut rx, acked(id)).await;
    }
    let (upto, pending) = stored(&h.storage, &h.session.code).await;
    assert_eq!(upto, upto_before, "no snapshot while commands keep coming");
    assert_eq!(pending, 5);
    // A quiet second later it is written, covering all five.
    tokio::time::advance(Duration::from_millis(1100)).await;
    let give_up = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (upto, pending) = stored(&h.storage, &h.session.code).await;
        if pending == 0 {
            assert!(upto > upto_before);
            break;
        }
        assert!(std::time::Instant::now() < give_up, "no snapshot came");
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_room_that_never_pauses_puts_its_snapshot_in_a_batch() {
    let mut h = Harness::start(RoomConfig {
        snapshot_every: 3,
        ..Default::default()
    })
    .await;
    let (fac, mut rx) = h.facilitator(256).await;
    // Seven changes in a row, no quiet second: at twice `snapshot_every` the sixth's batch
    // carries a snapshot of the whole document, so only the seventh is stored apart.
    let ids = ["c0", "c1", "c2", "c3", "c4", "c5", "c6"];
    for (i, id) in ids.into_iter().enumerate() {
        h.send(fac.id, id, card(&format!("kaart {i}"))).await;
        until(&mut rx, acked(id)).await;
    }
    let stored = h.storage.load(&h.session.code).await.unwrap().unwrap();
    assert_eq!(
        stored.changes.len(),
        1,
        "only the change after the snapshot"
    );
    assert_eq!(stored.snapshot_upto + 1, stored.changes[0].0);
    // And it loads whole.
    let record = crate::room::load::load(&h.session.code, &h.storage)
        .await
        .unwrap()
        .unwrap()
        .record;
    let texts: Vec<_> = record.state.cards.iter().map(|c| c.text.clone()).collect();
    assert_eq!(texts.len(), 7);
    assert_eq!(texts[6], "kaart 6");
}

/// A facilitator and one participant, whose hand is up and who was just given the floor
/// under the given limit mode. Returns the harness and both connections.
async fn a_turn(
    mode: LimitMode,
) -> (
    Harness,
    mpsc::Receiver<Utf8Bytes>,
    (u64, mpsc::Receiver<Utf8Bytes>),
) {
    // Each change flushes at once: `until` yields instead of letting the paused clock move,
    // so a flush waiting for its interval would never come.
    let mut h = Harness::start(RoomConfig {
        ..Default::default()
    })
    .await;
    let (fac, mut fac_rx) = h.facilitator(256).await;
    let (phone, mut phone_rx) = h.sink(256);
    h.join("Anna", &phone).await;
    let change = tafel_protocol::FloorSettingsChange {
        mode: Some(mode),
        turn_secs: Some(120),
        ..Default::default()
    };
    h.send(fac.id, "s", Command::FloorSettings { change }).await;
    until(&mut fac_rx, acked("s")).await;
    let hand = Command::RaiseHand {
        kind: Default::default(),
    };
    h.send(phone.id, "h", hand).await;
    until(&mut phone_rx, acked("h")).await;
    h.send(fac.id, "g", Command::GiveFloor { to: None }).await;
    until(&mut fac_rx, acked("g")).await;
    // The phone sees its turn start with the full limit ahead.
    let turn = until(&mut phone_rx, |m| floor_of(m).and_then(|f| f.turn)).await;
    assert_eq!((turn.speaker.as_str(), turn.limit_ms), ("p2", 120_000));
    while fac_rx.try_recv().is_ok() {}
    while phone_rx.try_recv().is_ok() {}
    (h, fac_rx, (phone.id, phone_rx))
}

#[tokio::test(start_paused = true)]
async fn a_turn_ends_at_its_hard_limit_on_the_server_clock() {
    let (_h, mut fac_rx, (_, mut phone_rx)) = a_turn(LimitMode::Hard).await;
    tokio::time::advance(Duration::from_secs(120)).await;
    let floor = until(&mut phone_rx, floor_of).await;
    assert_eq!(floor.turn, None, "the server ended the turn");
    let floor = until(&mut fac_rx, floor_of).await;
    let balance = floor.balance.unwrap();
    assert_eq!(
        balance.per_person[0].floor_ms, 120_000,
        "ended exactly at the limit, on the server's clock, not before and not after"
    );
    assert_eq!(balance.figure, Some(1.0));
}

#[tokio::test(start_paused = true)]
async fn a_soft_turn_runs_on_marked_overtime() {
    let (h, mut fac_rx, (phone, mut phone_rx)) = a_turn(LimitMode::Soft).await;
    tokio::time::advance(Duration::from_secs(120)).await;
    // The first floor the phone gets after the start is the turn turning overtime, at the
    // limit on the server's clock.
    let turn = until(&mut phone_rx, floor_of)
        .await
        .turn
        .expect("still speaking");
    assert!(turn.overtime, "marked overtime at the limit");
    assert_eq!(turn.elapsed_ms, 120_000);
    // The speaker goes on and ends the turn at 2:30; all of it counts.
    tokio::time::advance(Duration::from_secs(30)).await;
    while fac_rx.try_recv().is_ok() {}
    h.send(phone, "e", Command::EndTurn).await;
    let floor = until(&mut fac_rx, floor_of).await;
    assert_eq!(floor.turn, None);
    assert_eq!(floor.balance.unwrap().per_person[0].floor_ms, 150_000);
}

/// A sync is answered after everything the room sent before it: a barrier a test (or a
/// client) can rely on.
#[tokio::test]
async fn a_sync_is_answered_after_everything_before_it() {
    let mut h = Harness::start(RoomConfig::default()).await;
    let (fac, mut fac_rx) = h.facilitator(64).await;
    let (phone, mut phone_rx) = h.sink(64);
    h.join("Anna", &phone).await;
    h.send(fac.id, "k", card("eerst")).await;
    let sync = RoomMsg::Sync {
        conn: phone.id,
        id: "s".into(),
    };
    h.tx.send(sync).await.unwrap();
    let mut before = Vec::new();
    let seq = loop {
        match recv_within(&mut phone_rx).await {
            ServerMessage::Synced { id, seq } => {
                assert_eq!(id, "s");
                break seq;
            }
            other => before.push(other),
        }
    };
    let card_came = |m: &ServerMessage| matches!(m, ServerMessage::Delta { patch, .. } if patch.cards.len() == 1);
    assert!(
        before.iter().any(card_came),
        "the card came before the sync's answer: {before:?}"
    );
    until(&mut fac_rx, acked("k")).await;
    assert_eq!(seq, 3, "the session's creation, Anna's join, the card");
}

/// With several nodes: a room whose lease another node took writes nothing more (the storage
/// refuses its fence), acknowledges nothing, and lets its connections go, so they resume at
/// the new owner.
#[tokio::test]
async fn a_room_whose_lease_was_taken_writes_nothing_and_lets_its_connections_go() {
    use crate::cluster::{Keeper, Node};
    let storage = Storage::in_memory();
    let session = crate::sessions::for_test(&storage).await;
    let node = Node {
        id: "a".into(),
        addr: "a:1".into(),
        lease: Duration::from_secs(600),
        secret: "s".into(),
    };
    let (tx, rx) = mpsc::channel(64);
    let room = run(
        session.code.clone(),
        rx,
        storage.clone(),
        Arc::new(RoomConfig::default()),
        CancellationToken::new(),
        Some(Keeper::new(node, storage.clone())),
    );
    let task = tokio::spawn(room);
    let (outbox, mut anna) = mpsc::channel(64);
    let conn = ConnSink { id: 7, outbox };
    let (reply, joined) = oneshot::channel();
    let join = RoomMsg::Join {
        name: "Anna".into(),
        perspective: Perspective::Client,
        conn,
        reply,
    };
    tx.send(join).await.unwrap();
    joined.await.unwrap().expect("Anna joins");
    let stored = storage
        .load(&session.code)
        .await
        .unwrap()
        .unwrap()
        .changes
        .len();

    // Node b takes the lease over (as after it ran out while node a slept).
    let code = session.code.clone();
    storage
        .cluster(move |c| {
            c.claim(&code, "a", "a:1", Duration::ZERO)?;
            c.claim(&code, "b", "b:1", Duration::from_secs(600))
        })
        .await
        .unwrap();

    let card = card("Te laat");
    let id = "c1".to_owned();
    tx.send(RoomMsg::Command {
        conn: 7,
        id,
        cmd: card,
    })
    .await
    .unwrap();
    // Her outbox closes without an ack: the room stopped.
    let give_up = real_deadline();
    tokio::pin!(give_up);
    loop {
        tokio::select! {
            frame = anna.recv() => match frame {
                Some(frame) => assert!(
                    !matches!(decode(&frame), ServerMessage::Ack { .. }),
                    "no ack from a room that could not store"
                ),
                None => break,
            },
            _ = &mut give_up => panic!("the room kept the connection"),
        }
    }
    task.await.unwrap();
    let after = storage
        .load(&session.code)
        .await
        .unwrap()
        .unwrap()
        .changes
        .len();
    assert_eq!(after, stored, "nothing more was written");
}

/// Room for the quiet and a shrunk limit on the server's clock: after a turn of the whole
/// limit, the speaker's hand waits `room_secs` while the quiet one is invited; when the moment
/// is over the floor is sent anew and "next" gives the hand its turn, which ends at half the
/// limit.
#[tokio::test(start_paused = true)]
async fn an_over_share_hand_waits_its_moment_and_then_speaks_for_half_the_limit() {
    let (mut h, mut fac_rx, (anna, mut anna_rx)) = a_turn(LimitMode::Hard).await;
    // The facilitator's connection is the harness's first sink.
    let fac = 2;
    let (bram, mut bram_rx) = h.sink(256);
    h.join("Bram", &bram).await;
    let bram_rx = &mut bram_rx;
    tokio::time::advance(Duration::from_secs(120)).await;
    until(&mut anna_rx, |m| floor_of(m).filter(|f| f.turn.is_none())).await;
    let hand = Command::RaiseHand {
        kind: Default::default(),
    };
    h.send(anna, "h2", hand).await;
    // Bram, who has not spoken, is invited, privately.
    let invitation = until(bram_rx, |m| match m {
        ServerMessage::YouDelta { you, .. } => you.floor.and_then(|f| f.invitation),
        _ => None,
    })
    .await;
    assert_eq!(invitation.by, tafel_protocol::InvitedBy::Room);
    // Anna's phone sees, before the turn, that she waits and how long her turn will be.
    let floor = until(&mut anna_rx, |m| {
        floor_of(m).filter(|f| !f.queue.is_empty())
    })
    .await;
    let place = &floor.queue[0];
    assert_eq!(place.reason, tafel_protocol::QueueReason::MakingRoom);
    assert_eq!(place.limit_ms, 60_000);
    h.send(fac, "g2", Command::GiveFloor { to: None }).await;
    let refused = until(&mut fac_rx, |m| match m {
        ServerMessage::Error { id, code, .. } if id.as_deref() == Some("g2") => Some(code),
        _ => None,
    })
    .await;
    assert_eq!(refused, tafel_protocol::ErrorCode::MakingRoom);
    // Bram ignores it. When the moment is over, everyone gets the floor anew.
    while fac_rx.try_recv().is_ok() {}
    tokio::time::advance(Duration::from_secs(15)).await;
    let floor = until(&mut fac_rx, |m| {
        floor_of(m).filter(|f| f.queue.first().is_some_and(|e| e.ready_at.is_none()))
    })
    .await;
    assert_eq!(floor.queue[0].participant, "p2");
    h.send(fac, "g3", Command::GiveFloor { to: None }).await;
    until(&mut fac_rx, acked("g3")).await;
    let turn = until(&mut anna_rx, |m| floor_of(m).and_then(|f| f.turn)).await;
    assert_eq!(
        turn.limit_ms, 60_000,
        "half the limit, beyond the fair share"
    );
    while fac_rx.try_recv().is_ok() {}
    tokio::time::advance(Duration::from_secs(60)).await;
    let floor = until(&mut fac_rx, |m| floor_of(m).filter(|f| f.turn.is_none())).await;
    let previous = floor.previous.unwrap();
    assert_eq!(previous.elapsed_ms, 60_000);
    assert_eq!(previous.how, Some(tafel_protocol::TurnEnd::Limit));
}

#[tokio::test(start_paused = true)]
async fn a_slow_write_is_told_to_everyone_and_nothing_is_acknowledged_before_it_is_stored() {
    let (gated, begun, open) = Gated::new();
    let storage = Storage::new(gated);
    let mut h = Harness::start_on(storage, RoomConfig::default()).await;
    let (fac, mut rx) = h.facilitator(256).await;
    assert!(matches!(
        recv_within(&mut rx).await,
        ServerMessage::Welcome { .. }
    ));
    let sent = tokio::time::Instant::now();
    h.send(fac.id, "a", card("traag")).await;
    let begun = tokio::task::spawn_blocking(move || {
        begun
            .recv_timeout(Duration::from_secs(10))
            .expect("a commit begins");
    });
    begun.await.unwrap();
    // The write hangs: after a second the room says so, and still acknowledges nothing.
    assert_eq!(
        recv_any_within(&mut rx).await,
        ServerMessage::Storage { slow: true }
    );
    assert_eq!(sent.elapsed(), super::actor::SLOW_WRITE);
    assert!(rx.try_recv().is_err(), "nothing acknowledged early");
    // It comes through: first the word that it is over, then the card and its ack.
    open.send(()).unwrap();
    assert_eq!(
        recv_any_within(&mut rx).await,
        ServerMessage::Storage { slow: false }
    );
    assert!(matches!(
        recv_within(&mut rx).await,
        ServerMessage::Delta { .. }
    ));
    assert!(matches!(
        recv_within(&mut rx).await,
        ServerMessage::YouDelta { .. }
    ));
    assert!(matches!(recv_within(&mut rx).await, ServerMessage::Ack { id, .. } if id == "a"));
    // A fast write says nothing.
    h.send(fac.id, "b", card("vlot")).await;
    open.send(()).unwrap();
    assert!(matches!(
        recv_within(&mut rx).await,
        ServerMessage::Delta { .. }
    ));
}

/// In-memory storage whose commits fail while the test says so, as a full disk's would: a
/// test double for the room's own tests.
#[derive(Default)]
struct Failing {
    inner: crate::storage::memory::MemoryBackend,
    failing: std::sync::atomic::AtomicBool,
}

impl crate::storage::Backend for Failing {
    fn create(&self, s: &crate::storage::NewSession) -> Result<(), crate::error::StorageError> {
        self.inner.create(s)
    }
    fn commit(
        &self,
        requests: &[Vec<crate::storage::Write>],
    ) -> Vec<Result<(), crate::error::StorageError>> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            let full = crate::error::StorageError::Db("No space left on device".into());
            return requests.iter().map(|_| Err(full.clone())).collect();
        }
        self.inner.commit(requests)
    }
    fn load(
        &self,
        code: &str,
    ) -> Result<Option<crate::storage::StoredSession>, crate::error::StorageError> {
        // Storage cannot even be read while it fails: the room goes back in memory.
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(crate::error::StorageError::Db("unreadable".into()));
        }
        self.inner.load(code)
    }
    fn list(&self) -> Result<Vec<String>, crate::error::StorageError> {
        self.inner.list()
    }
    fn delete(&self, code: &str) -> Result<bool, crate::error::StorageError> {
        self.inner.delete(code)
    }
}

#[tokio::test]
async fn a_batch_that_cannot_be_stored_is_undone_in_memory_joins_included() {
    let failing = Arc::new(Failing::default());
    let storage = Storage::new(failing.clone());
    let mut h = Harness::start_on(storage, RoomConfig::default()).await;
    let (fac, mut rx) = h.facilitator(256).await;
    let people = match recv_within(&mut rx).await {
        ServerMessage::Welcome { view, .. } => view.participants.len(),
        other => panic!("expected a welcome, got {other:?}"),
    };
    h.send(fac.id, "voor", card("voor de storing")).await;
    until(&mut rx, acked("voor")).await;
    failing
        .failing
        .store(true, std::sync::atomic::Ordering::SeqCst);

    // A join and a new projector link, while storage fails: both refused, nothing shown.
    let (phone, _phone_rx) = h.sink(256);
    let (name, conn) = ("Bram".to_owned(), phone.clone());
    let joined = h.ask(|reply| RoomMsg::Join {
        name,
        perspective: Perspective::Client,
        conn,
        reply,
    });
    let refused = joined
        .await
        .expect_err("a join that cannot be stored is refused");
    assert!(
        matches!(&refused, JoinError::Refused(r) if r.code == tafel_protocol::ErrorCode::StorageUnavailable),
        "{refused:?}"
    );
    h.send(fac.id, "link", Command::ProjectorLink).await;
    h.send(fac.id, "kaart", card("tijdens de storing")).await;
    let codes = until(&mut rx, |m| match m {
        ServerMessage::Error {
            id: Some(id), code, ..
        } if id == "kaart" => Some(code),
        ServerMessage::Ack { id, .. } if id == "kaart" => panic!("acknowledged while failing"),
        _ => None,
    })
    .await;
    assert_eq!(codes, tafel_protocol::ErrorCode::StorageUnavailable);

    // Storage is back: the same person joins as the first participant, the card goes in once,
    // and the room is as it was before the failure plus what came after.
    failing
        .failing
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let joined = h.join("Bram", &phone).await;
    assert_eq!(
        joined.participant,
        Some(people),
        "the refused join left no trace"
    );
    h.send(fac.id, "kaart", card("tijdens de storing")).await;
    until(&mut rx, acked("kaart")).await;
    let (_late, mut late_rx) = h.facilitator(256).await;
    let view = match recv_within(&mut late_rx).await {
        ServerMessage::Welcome { view, .. } => view,
        other => panic!("expected a welcome, got {other:?}"),
    };
    assert_eq!(view.participants.len(), people + 1);
    assert!(view.participants[people].online, "Bram is online");
    let texts: Vec<_> = view.cards.iter().filter_map(|c| c.text.clone()).collect();
    assert_eq!(texts, ["voor de storing", "tijdens de storing"]);
}

#[tokio::test(start_paused = true)]
async fn who_left_in_a_batch_that_could_not_be_stored_is_shown_gone() {
    let (gated, begun, open) = Gated::new();
    let mut h = Harness::start_on(Storage::new(gated.clone()), RoomConfig::default()).await;
    let (fac, mut rx) = h.facilitator(256).await;
    let (phone, _phone_rx) = h.sink(256);
    open.send(()).unwrap();
    let anna = h.join("Anna", &phone).await;
    let anna = tafel_protocol::ParticipantId::from(crate::session::state::id(
        'p',
        anna.participant.unwrap(),
    ));
    let begun = tokio::task::spawn_blocking(move || {
        begun.recv_timeout(Duration::from_secs(10)).unwrap();
        begun
    })
    .await
    .unwrap();
    // A card goes to a disk that will refuse it, and Anna leaves: both reach the room before
    // it runs again, so they are one batch, whose commit fails.
    gated.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    h.send(fac.id, "x", card("op een volle schijf")).await;
    h.tx.send(RoomMsg::Leave { conn: phone.id }).await.unwrap();
    tokio::task::spawn_blocking(move || begun.recv_timeout(Duration::from_secs(10)).unwrap())
        .await
        .unwrap();
    open.send(()).unwrap();
    // The card is refused, and Anna is still shown leaving: her presence was not in the
    // document the room went back to.
    until(&mut rx, |m| match m {
        ServerMessage::Error { id: Some(id), .. } if id == "x" => Some(()),
        _ => None,
    })
    .await;
    until(&mut rx, |m| match m {
        ServerMessage::Delta { patch, .. } => patch
            .participants
            .iter()
            .any(|p| p.id == anna && !p.online)
            .then_some(()),
        _ => None,
    })
    .await;
}

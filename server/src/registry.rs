//! The registry: which rooms are loaded. It holds only handles; each room's state lives in its
//! own task. It is the one place that knows where a room runs, so a later multi-node Tafel can
//! route here instead.

use crate::error::{Refusal, refuse};
use crate::room::{self, JoinError, RoomConfig, RoomHandle, RoomMsg};
use crate::storage::Storage;
use dashmap::DashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tafel_protocol::ErrorCode;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Capacity of a room's mailbox. Senders wait when it is full, which slows only the senders.
const MAILBOX: usize = 4096;

/// The loaded rooms.
pub struct Registry {
    rooms: DashMap<String, RoomHandle>,
    next_id: AtomicU64,
    storage: Storage,
    cfg: Arc<RoomConfig>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
}

impl Registry {
    /// A registry whose rooms store to `storage` and stop when `shutdown` is cancelled.
    pub fn new(storage: Storage, cfg: RoomConfig, shutdown: CancellationToken) -> Arc<Self> {
        Arc::new(Self {
            rooms: DashMap::new(),
            next_id: AtomicU64::new(1),
            storage,
            cfg: Arc::new(cfg),
            shutdown,
            tracker: TaskTracker::new(),
        })
    }

    /// The shared room settings.
    pub fn config(&self) -> &RoomConfig {
        &self.cfg
    }

    /// The storage rooms write to.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// A new process-wide id for a connection.
    pub fn next_conn_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// How many rooms are loaded.
    pub fn loaded(&self) -> usize {
        self.rooms.len()
    }

    /// The handle of the room for `code`, starting it if needed. Concurrent callers get the
    /// same room: the map's entry lock makes the check-and-start one step, so a session is
    /// loaded once however many phones join at the same moment.
    pub fn room(self: &Arc<Self>, code: &str) -> RoomHandle {
        if let Some(handle) = self.rooms.get(code) {
            return handle.clone();
        }
        self.rooms
            .entry(code.to_owned())
            .or_insert_with(|| {
                let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                let (tx, rx) = mpsc::channel(MAILBOX);
                let task = room::run(
                    code.to_owned(),
                    id,
                    rx,
                    self.storage.clone(),
                    self.cfg.clone(),
                    self.clone(),
                    self.shutdown.clone(),
                );
                self.tracker.spawn(task);
                RoomHandle { id, tx }
            })
            .clone()
    }

    /// Forgets a room run that has stopped (only that run: a newer one stays).
    pub(crate) fn remove(&self, code: &str, id: u64) {
        self.rooms.remove_if(code, |_, h| h.id == id);
    }

    /// Sends a request that expects a reply, retrying when the room was just unloading.
    pub async fn ask<T>(
        self: &Arc<Self>,
        code: &str,
        make: impl FnMut(oneshot::Sender<Result<T, JoinError>>) -> RoomMsg,
    ) -> Result<T, Refusal> {
        self.ask_room(code, make).await.map(|(value, _)| value)
    }

    /// Like [`Registry::ask`], and also returns the handle of the room that answered (a
    /// connection must stay with the room that welcomed it).
    pub async fn ask_room<T>(
        self: &Arc<Self>,
        code: &str,
        mut make: impl FnMut(oneshot::Sender<Result<T, JoinError>>) -> RoomMsg,
    ) -> Result<(T, RoomHandle), Refusal> {
        for _ in 0..5 {
            let handle = self.room(code);
            let (reply, answer) = oneshot::channel();
            if handle.tx.send(make(reply)).await.is_err() {
                self.remove(code, handle.id);
                continue;
            }
            match answer.await {
                Ok(Ok(value)) => return Ok((value, handle)),
                Ok(Err(JoinError::Refused(r))) => return Err(r),
                Ok(Err(JoinError::Retry)) | Err(_) => self.remove(code, handle.id),
            }
        }
        Err(refuse(
            ErrorCode::Internal,
            "the session is busy reloading; try again",
        ))
    }

    /// Waits until every room has saved and stopped (after `shutdown` was cancelled).
    pub async fn wait_stopped(&self) {
        self.tracker.close();
        self.tracker.wait().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::{ConnSink, Joined};
    use crate::secrets::hash_token;
    use axum::extract::ws::Utf8Bytes;
    use std::sync::atomic::Ordering::Relaxed;
    use std::time::Duration;
    use tafel_protocol::{
        CardKind, Command, CreateSession, Perspective, ServerMessage, SessionCreated,
    };

    async fn setup(cfg: RoomConfig) -> (Storage, Arc<Registry>, SessionCreated) {
        setup_on(Storage::in_memory(), cfg).await
    }

    async fn setup_on(
        storage: Storage,
        cfg: RoomConfig,
    ) -> (Storage, Arc<Registry>, SessionCreated) {
        let req = CreateSession {
            title: "Test".into(),
            problem: String::new(),
            language: Default::default(),
            anonymous_cards: false,
            facilitator_name: None,
        };
        let created = crate::sessions::create(&storage, "http://t", req)
            .await
            .unwrap();
        let registry = Registry::new(storage.clone(), cfg, CancellationToken::new());
        (storage, registry, created)
    }

    fn sink(registry: &Registry, capacity: usize) -> (ConnSink, mpsc::Receiver<Utf8Bytes>) {
        let (outbox, rx) = mpsc::channel(capacity);
        (
            ConnSink {
                id: registry.next_conn_id(),
                outbox,
            },
            rx,
        )
    }

    async fn resume(registry: &Arc<Registry>, code: &str, token: &str, conn: &ConnSink) -> Joined {
        let token = hash_token(token);
        registry
            .ask(code, |reply| RoomMsg::Resume {
                token,
                conn: conn.clone(),
                reply,
            })
            .await
            .unwrap()
    }

    async fn next(rx: &mut mpsc::Receiver<Utf8Bytes>) -> ServerMessage {
        let frame = rx.recv().await.expect("outbox open");
        serde_json::from_str(frame.as_str()).unwrap()
    }

    #[tokio::test]
    async fn concurrent_requests_load_a_session_once() {
        let (storage, registry, s) = setup(RoomConfig::default()).await;
        let asks = (0..50).map(|_| {
            let (registry, code) = (registry.clone(), s.code.clone());
            tokio::spawn(async move { registry.ask(&code, |reply| RoomMsg::Info { reply }).await })
        });
        for answer in futures_util::future::join_all(asks).await {
            assert_eq!(answer.unwrap().unwrap().title, "Test");
        }
        assert_eq!(storage.stats().loads.load(Relaxed), 1);
        assert_eq!(registry.loaded(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_room_is_saved_and_unloaded_and_comes_back_whole() {
        let cfg = RoomConfig {
            idle: Duration::from_secs(300),
            ..Default::default()
        };
        let (storage, registry, s) = setup(cfg).await;
        let (conn, mut rx) = sink(&registry, 64);
        resume(&registry, &s.code, &s.facilitator_token, &conn).await;
        let conn_id = conn.id;
        drop(conn); // only the room holds the sender now, as with a real connection
        assert!(matches!(next(&mut rx).await, ServerMessage::Welcome { .. }));
        let room = registry.room(&s.code);
        room.tx
            .send(RoomMsg::Command {
                conn: conn_id,
                id: "c1".into(),
                cmd: Command::SetPhase { phase: 3 },
            })
            .await
            .unwrap();
        loop {
            if let ServerMessage::Ack { .. } = next(&mut rx).await {
                break;
            }
        }
        room.tx
            .send(RoomMsg::Leave { conn: conn_id })
            .await
            .unwrap();

        tokio::time::sleep(Duration::from_secs(299)).await;
        assert_eq!(registry.loaded(), 1, "not before the idle time");
        tokio::time::sleep(Duration::from_secs(2)).await;
        while registry.loaded() > 0 {
            tokio::task::yield_now().await;
        }
        assert!(
            rx.recv().await.is_none(),
            "the room let go of the connection"
        );

        let (conn, mut rx) = sink(&registry, 64);
        resume(&registry, &s.code, &s.facilitator_token, &conn).await;
        let ServerMessage::Welcome { view, .. } = next(&mut rx).await else {
            panic!("no welcome")
        };
        assert_eq!(view.session.phase, 3);
        assert_eq!(
            storage.stats().loads.load(Relaxed),
            2,
            "loaded again from storage"
        );
    }

    /// Storage that holds every snapshot write until the test lets it through.
    struct GatedSnapshots {
        inner: crate::storage::memory::MemoryBackend,
        entered: std::sync::Mutex<std::sync::mpsc::Sender<()>>,
        release: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
    }

    impl crate::storage::Backend for GatedSnapshots {
        fn create(&self, s: &crate::storage::NewSession) -> Result<(), crate::error::StorageError> {
            self.inner.create(s)
        }
        fn commit(
            &self,
            writes: &[crate::storage::Write],
        ) -> Result<(), crate::error::StorageError> {
            if writes
                .iter()
                .any(|w| matches!(w, crate::storage::Write::Snapshot { .. }))
            {
                let _ = self.entered.lock().unwrap().send(());
                let _ = self.release.lock().unwrap().recv();
            }
            self.inner.commit(writes)
        }
        fn load(
            &self,
            code: &str,
        ) -> Result<Option<crate::storage::StoredSession>, crate::error::StorageError> {
            self.inner.load(code)
        }
    }

    #[tokio::test]
    async fn requests_that_meet_an_unloading_room_are_retried_not_refused() {
        let (entered_tx, entered) = std::sync::mpsc::channel();
        let (release, release_rx) = std::sync::mpsc::channel();
        let backend = GatedSnapshots {
            inner: Default::default(),
            entered: std::sync::Mutex::new(entered_tx),
            release: std::sync::Mutex::new(release_rx),
        };
        let cfg = RoomConfig {
            idle: Duration::from_millis(50),
            ..Default::default()
        };
        let (_, registry, s) = setup_on(Storage::new(Arc::new(backend)), cfg).await;

        // A change, so the room writes a snapshot when it unloads; then nobody is connected.
        let (conn, _rx) = sink(&registry, 64);
        let conn_id = conn.id;
        registry
            .ask(&s.code, |reply| RoomMsg::Join {
                name: "Anna".into(),
                perspective: Perspective::Client,
                conn: conn.clone(),
                reply,
            })
            .await
            .unwrap();
        registry
            .room(&s.code)
            .tx
            .send(RoomMsg::Leave { conn: conn_id })
            .await
            .unwrap();

        // The room is now inside its closing snapshot, still in the registry.
        tokio::task::spawn_blocking(move || entered.recv().unwrap())
            .await
            .unwrap();
        let asks: Vec<_> = (0..5)
            .map(|_| {
                let (registry, code) = (registry.clone(), s.code.clone());
                tokio::spawn(
                    async move { registry.ask(&code, |reply| RoomMsg::Info { reply }).await },
                )
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(20)).await; // let them reach the old mailbox
        release.send(()).unwrap();
        for answer in futures_util::future::join_all(asks).await {
            assert_eq!(
                answer
                    .unwrap()
                    .expect("answered by a freshly loaded room")
                    .code,
                s.code
            );
        }
        let _ = release.send(()); // the new room's own snapshot, later
    }

    #[tokio::test]
    async fn a_phone_that_stops_reading_is_dropped_and_the_room_goes_on() {
        let (_, registry, s) = setup(RoomConfig {
            outbox: 4,
            ..Default::default()
        })
        .await;
        let (fac, mut fac_rx) = sink(&registry, 4);
        resume(&registry, &s.code, &s.facilitator_token, &fac).await;
        let (slow, mut slow_rx) = sink(&registry, 4);
        let joined = registry
            .ask(&s.code, |reply| RoomMsg::Join {
                name: "Traag".into(),
                perspective: Perspective::Client,
                conn: slow.clone(),
                reply,
            })
            .await
            .unwrap();
        drop(slow); // only the room holds the sender now, as with a real connection
        let room = registry.room(&s.code);
        let mut acks = 0;
        let mut slow_went_offline = false;
        for i in 0..12u8 {
            let cmd = Command::SetPhase { phase: i % 2 + 1 };
            room.tx
                .send(RoomMsg::Command {
                    conn: fac.id,
                    id: format!("c{i}"),
                    cmd,
                })
                .await
                .unwrap();
            loop {
                match next(&mut fac_rx).await {
                    ServerMessage::Ack { .. } => {
                        acks += 1;
                        break;
                    }
                    ServerMessage::Delta { patch, .. } => {
                        let me = joined.participant.map(|p| crate::room::state::id('p', p));
                        slow_went_offline |= patch
                            .participants
                            .iter()
                            .any(|p| Some(&p.id) == me.as_ref() && !p.online);
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
        while slow_rx.recv().await.is_some() {
            buffered += 1;
        }
        assert_eq!(
            buffered, 4,
            "the slow phone got what fit in its outbox, then was cut off"
        );
    }

    async fn send(registry: &Arc<Registry>, code: &str, conn: u64, id: &str, cmd: Command) {
        registry
            .room(code)
            .tx
            .send(RoomMsg::Command {
                conn,
                id: id.into(),
                cmd,
            })
            .await
            .unwrap();
    }

    /// Reads until `f` finds what it looks for, within ten seconds of real time. It yields
    /// instead of sleeping: with the clock paused, a sleeping test would let tokio jump the
    /// clock forward while storage's writer thread is busy.
    async fn until<T>(
        rx: &mut mpsc::Receiver<Utf8Bytes>,
        f: impl Fn(ServerMessage) -> Option<T>,
    ) -> T {
        let give_up = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            match rx.try_recv() {
                Ok(frame) => {
                    if let Some(found) = f(serde_json::from_str(frame.as_str()).unwrap()) {
                        return found;
                    }
                }
                Err(mpsc::error::TryRecvError::Empty) => {
                    assert!(std::time::Instant::now() < give_up, "it never came");
                    tokio::task::yield_now().await;
                }
                Err(e) => panic!("outbox: {e}"),
            }
        }
    }

    /// A facilitator and one participant, whose hand is up and who was just given the floor
    /// under the given limit mode. Returns both outboxes.
    async fn a_turn(
        mode: tafel_protocol::LimitMode,
    ) -> (
        Arc<Registry>,
        SessionCreated,
        mpsc::Receiver<Utf8Bytes>,
        (u64, mpsc::Receiver<Utf8Bytes>),
    ) {
        // Each change flushes at once: `until` yields instead of letting the paused clock move,
        // so a flush waiting for its interval would never come.
        let (_, registry, s) = setup(RoomConfig {
            flush_interval: Duration::ZERO,
            ..Default::default()
        })
        .await;
        let (fac, mut fac_rx) = sink(&registry, 256);
        resume(&registry, &s.code, &s.facilitator_token, &fac).await;
        let (phone, mut phone_rx) = sink(&registry, 256);
        registry
            .ask(&s.code, |reply| RoomMsg::Join {
                name: "Anna".into(),
                perspective: Perspective::Client,
                conn: phone.clone(),
                reply,
            })
            .await
            .unwrap();
        let acked = |id: &'static str| {
            move |m: ServerMessage| match m {
                ServerMessage::Ack { id: got, .. } if got == id => Some(()),
                _ => None,
            }
        };
        let change = tafel_protocol::FloorSettingsChange {
            mode: Some(mode),
            turn_secs: Some(120),
            ..Default::default()
        };
        send(
            &registry,
            &s.code,
            fac.id,
            "s",
            Command::FloorSettings { change },
        )
        .await;
        until(&mut fac_rx, acked("s")).await;
        let hand = Command::RaiseHand {
            kind: Default::default(),
        };
        send(&registry, &s.code, phone.id, "h", hand).await;
        until(&mut phone_rx, acked("h")).await;
        send(
            &registry,
            &s.code,
            fac.id,
            "g",
            Command::GiveFloor { to: None },
        )
        .await;
        until(&mut fac_rx, acked("g")).await;
        // The phone sees its turn start with the full limit ahead.
        let turn = until(&mut phone_rx, |m| match m {
            ServerMessage::Delta { patch, .. } => patch.floor.and_then(|f| f.turn),
            _ => None,
        })
        .await;
        assert_eq!((turn.speaker.as_str(), turn.limit_ms), ("p2", 120_000));
        (registry, s, fac_rx, (phone.id, phone_rx))
    }

    fn floor_of(m: ServerMessage) -> Option<tafel_protocol::FloorView> {
        match m {
            ServerMessage::Delta { patch, .. } => patch.floor,
            _ => None,
        }
    }

    fn nothing_waiting(rx: &mut mpsc::Receiver<Utf8Bytes>) -> bool {
        rx.try_recv().is_err()
    }

    #[tokio::test(start_paused = true)]
    async fn changes_close_together_share_one_flush_and_a_lone_change_goes_at_once() {
        let (_, registry, s) = setup(RoomConfig::default()).await;
        let interval = RoomConfig::default().flush_interval;
        let (fac, mut rx) = sink(&registry, 256);
        resume(&registry, &s.code, &s.facilitator_token, &fac).await;
        let card = |text: &str| Command::AddCard {
            text: text.into(),
            kind: CardKind::Idea,
            builds_on: None,
        };
        let texts = |m: ServerMessage| match m {
            ServerMessage::Delta { patch, .. } => Some(
                patch
                    .cards
                    .into_iter()
                    .filter_map(|c| c.text)
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        };

        // After a quiet moment a change is stored and sent without waiting for the clock.
        tokio::time::sleep(interval * 2).await;
        send(&registry, &s.code, fac.id, "a", card("alleen")).await;
        assert_eq!(until(&mut rx, texts).await, ["alleen"]);

        // Two more right after it wait (a room of one connection waits 1/50 of the interval),
        // then go out in one delta.
        send(&registry, &s.code, fac.id, "b", card("twee")).await;
        send(&registry, &s.code, fac.id, "c", card("drie")).await;
        for _ in 0..1000 {
            tokio::task::yield_now().await;
        }
        let early: Vec<_> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert!(
            early.iter().all(|f| !f.as_str().contains("twee")),
            "nothing is sent before the interval is over: {early:?}"
        );
        tokio::time::advance(interval).await;
        assert_eq!(until(&mut rx, texts).await, ["twee", "drie"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_due_snapshot_waits_for_a_quiet_second() {
        let (storage, registry, s) = setup(RoomConfig {
            snapshot_every: 3,
            flush_interval: Duration::ZERO,
            ..Default::default()
        })
        .await;
        let (fac, mut rx) = sink(&registry, 256);
        resume(&registry, &s.code, &s.facilitator_token, &fac).await;
        let stored_upto = || async {
            let stored = storage.load(&s.code).await.unwrap().unwrap();
            (stored.snapshot_upto, stored.changes.len())
        };
        let (upto_before, _) = stored_upto().await;
        // Five changes in a row: a snapshot is due, but the room is busy.
        for i in 0..5 {
            let id = format!("c{i}");
            let card = Command::AddCard {
                text: format!("kaart {i}"),
                kind: CardKind::Idea,
                builds_on: None,
            };
            send(&registry, &s.code, fac.id, &id, card).await;
            until(&mut rx, |m| match m {
                ServerMessage::Ack { id: got, .. } if got == id => Some(()),
                _ => None,
            })
            .await;
        }
        let (upto, pending) = stored_upto().await;
        assert_eq!(upto, upto_before, "no snapshot while commands keep coming");
        assert_eq!(pending, 5);
        // A quiet second later it is written, covering all five.
        tokio::time::advance(Duration::from_millis(1100)).await;
        let give_up = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (upto, pending) = stored_upto().await;
            if pending == 0 {
                assert!(upto > upto_before);
                break;
            }
            assert!(std::time::Instant::now() < give_up, "no snapshot came");
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_turn_ends_at_its_hard_limit_on_the_server_clock() {
        let (_registry, _s, mut fac_rx, (_, mut phone_rx)) =
            a_turn(tafel_protocol::LimitMode::Hard).await;
        tokio::task::yield_now().await;
        while fac_rx.try_recv().is_ok() {}
        while phone_rx.try_recv().is_ok() {}
        tokio::time::sleep(Duration::from_secs(119)).await;
        assert!(
            nothing_waiting(&mut phone_rx),
            "nothing happens before the limit"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        let floor = until(&mut phone_rx, floor_of).await;
        assert_eq!(floor.turn, None, "the server ended the turn");
        let floor = until(&mut fac_rx, floor_of).await;
        let balance = floor.balance.unwrap();
        assert_eq!(
            balance.per_person[0].floor_ms, 120_000,
            "ended exactly at the limit, on the server's clock"
        );
        assert_eq!(balance.figure, Some(1.0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_soft_turn_runs_on_marked_overtime() {
        let (registry, s, mut fac_rx, (phone, mut phone_rx)) =
            a_turn(tafel_protocol::LimitMode::Soft).await;
        tokio::time::sleep(Duration::from_secs(119)).await;
        while phone_rx.try_recv().is_ok() {}
        tokio::time::sleep(Duration::from_secs(2)).await;
        let turn = until(&mut phone_rx, floor_of)
            .await
            .turn
            .expect("still speaking");
        assert!(turn.overtime, "marked overtime at the limit");
        assert!(turn.elapsed_ms >= 120_000);
        // The speaker goes on and ends the turn at 2:30; all of it counts.
        tokio::time::sleep(Duration::from_secs(29)).await;
        while fac_rx.try_recv().is_ok() {}
        send(&registry, &s.code, phone, "e", Command::EndTurn).await;
        let floor = until(&mut fac_rx, floor_of).await;
        assert_eq!(floor.turn, None);
        assert_eq!(floor.balance.unwrap().per_person[0].floor_ms, 150_000);
    }
}

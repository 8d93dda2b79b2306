//! How a scenario steers its phones (stages everyone waits for, gates that count arrivals) and
//! how it ends: every phone stops acting and gets the answers it waits for, a freshly resumed
//! facilitator looks at each room, every phone reads until its own view shows the same, and
//! what the phones were acknowledged is counted in what the server shows.

use crate::Args;
use crate::common::{self, Dial, RoomInfo, Seat, Target};
use crate::measure::{Checks, Samples, Trace, WindowFigures, Windows};
use crate::phone::{Ended, Load, Phone};
use anyhow::{Context, Result};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tafel_protocol::*;
use tafel_tests::Ws;
use tokio::sync::watch;

/// What a client shows of a room, as compared between a phone and the server: cards with their
/// texts, rounds with their vote counts, participants with their presence, and the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    cards: Vec<(String, CardStatus, Option<String>)>,
    rounds: Vec<RoundShown>,
    participants: Vec<(String, String, bool)>,
    queue: Vec<String>,
    waiting: u32,
}

/// A voting round as compared: its state, how many voted, and the totals of cards with votes.
#[derive(Debug, Clone, PartialEq)]
struct RoundShown {
    id: String,
    status: RoundStatus,
    voters: u32,
    totals: Vec<(String, u32)>,
}

/// Ids like `k12` in the order they were made.
fn by_number(id: &str) -> (usize, &str) {
    (id.len(), id)
}

impl Shown {
    pub fn of(v: &View) -> Self {
        let mut cards: Vec<_> = v
            .cards
            .iter()
            .map(|c| (c.id.clone(), c.status, c.text.clone()))
            .collect();
        cards.sort_by(|a, b| by_number(&a.0).cmp(&by_number(&b.0)));
        let mut rounds: Vec<_> = v
            .rounds
            .iter()
            .map(|r| {
                let mut totals: Vec<_> = r
                    .results
                    .iter()
                    .flatten()
                    .filter(|t| t.votes > 0)
                    .map(|t| (t.card.clone(), t.votes))
                    .collect();
                totals.sort();
                RoundShown {
                    id: r.id.clone(),
                    status: r.status,
                    voters: r.voters,
                    totals,
                }
            })
            .collect();
        rounds.sort_by(|a, b| by_number(&a.id).cmp(&by_number(&b.id)));
        let mut participants: Vec<_> = v
            .participants
            .iter()
            .map(|p| (p.id.clone(), p.name.clone(), p.online))
            .collect();
        participants.sort_by(|a, b| by_number(&a.0).cmp(&by_number(&b.0)));
        Self {
            cards,
            rounds,
            participants,
            queue: v
                .floor
                .queue
                .iter()
                .filter(|q| q.hand.is_some())
                .map(|q| q.participant.clone())
                .collect(),
            waiting: v.floor.waiting,
        }
    }

    /// How often each card text shows.
    pub fn texts(&self) -> HashMap<&str, usize> {
        let mut n = HashMap::new();
        for (_, _, text) in &self.cards {
            if let Some(t) = text {
                *n.entry(t.as_str()).or_default() += 1;
            }
        }
        n
    }

    /// The first difference from `other`, in words.
    pub fn diff(&self, other: &Shown) -> String {
        if self.cards != other.cards {
            let mine: HashSet<_> = self.cards.iter().collect();
            let theirs: HashSet<_> = other.cards.iter().collect();
            return format!(
                "cards: {} here, {} there; here only {:?}; there only {:?}",
                self.cards.len(),
                other.cards.len(),
                mine.difference(&theirs).take(2).collect::<Vec<_>>(),
                theirs.difference(&mine).take(2).collect::<Vec<_>>()
            );
        }
        if self.rounds != other.rounds {
            return format!("rounds: {:?} here, {:?} there", self.rounds, other.rounds);
        }
        if self.participants != other.participants {
            let theirs: HashMap<&str, &(String, String, bool)> = other
                .participants
                .iter()
                .map(|p| (p.0.as_str(), p))
                .collect();
            let differ: Vec<_> = self
                .participants
                .iter()
                .filter(|p| theirs.get(p.0.as_str()) != Some(p))
                .map(|p| format!("{p:?} (server: {:?})", theirs.get(p.0.as_str())))
                .collect();
            return format!(
                "participants: {} here, {} there; {} differ, e.g. {:?}",
                self.participants.len(),
                other.participants.len(),
                differ.len(),
                &differ[..differ.len().min(6)]
            );
        }
        if (&self.queue, self.waiting) != (&other.queue, other.waiting) {
            return format!(
                "queue: {:?} ({} waiting) here, {:?} ({} waiting) there",
                self.queue, self.waiting, other.queue, other.waiting
            );
        }
        "none".into()
    }
}

/// Gates: counts of phones that reached a point of their script.
pub const GATES: usize = 6;

#[derive(Debug, Clone, Default)]
struct Tally {
    arrived: [usize; GATES],
    /// Phones that gave up (they count as arrived everywhere, so nobody waits for them).
    gone: usize,
}

/// The scenario's side of its phones: a stage number everyone can wait for, gates that count
/// arrivals, and the server's view of each room once the load settled.
pub struct Control {
    stage: watch::Sender<u32>,
    tally: watch::Sender<Tally>,
    reference: watch::Sender<Option<Arc<Vec<Shown>>>>,
}

impl Control {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            stage: watch::Sender::new(0),
            tally: watch::Sender::new(Tally::default()),
            reference: watch::Sender::new(None),
        })
    }

    /// Moves everyone to `stage`.
    pub fn set(&self, stage: u32) {
        self.stage.send_replace(stage);
    }

    /// The stage now.
    pub fn stage(&self) -> u32 {
        *self.stage.borrow()
    }

    /// Resolves once the stage is `stage` or later.
    pub async fn reached(&self, stage: u32) {
        let mut rx = self.stage.subscribe();
        let _ = rx.wait_for(|s| *s >= stage).await;
    }

    /// One phone passed gate `gate`.
    pub fn arrive(&self, gate: usize) {
        self.tally.send_modify(|t| t.arrived[gate] += 1);
    }

    /// One phone gave up.
    pub fn gone(&self) {
        self.tally.send_modify(|t| t.gone += 1);
    }

    /// Waits until `n` phones passed `gate` (or gave up), at most until `deadline`; returns how
    /// many passed.
    pub async fn gathered(&self, gate: usize, n: usize, deadline: Instant) -> usize {
        let mut rx = self.tally.subscribe();
        let _ = tokio::time::timeout_at(
            deadline.into(),
            rx.wait_for(|t| t.arrived[gate] + t.gone >= n),
        )
        .await;
        rx.borrow().arrived[gate]
    }

    /// Hands every phone the server's view of the rooms.
    pub fn publish(&self, views: Vec<Shown>) {
        self.reference.send_replace(Some(Arc::new(views)));
    }

    async fn published(&self) -> Arc<Vec<Shown>> {
        let mut rx = self.reference.subscribe();
        let r = rx.wait_for(Option::is_some).await;
        r.ok()
            .and_then(|r| r.clone())
            .unwrap_or_else(|| Arc::new(Vec::new()))
    }
}

/// What a resilience scenario sets going: its windows, the load its phones share (keeping
/// their views), the server's trace and the control.
pub struct Stage {
    pub start: Instant,
    pub windows: Arc<Windows>,
    pub load: Arc<Load>,
    pub trace: Trace,
    pub ctl: Arc<Control>,
    pub settle: Duration,
}

impl Stage {
    /// Starts the clock, the windows called `names` and the trace of every node.
    pub fn new(args: &Args, target: &Target, names: &[&'static str]) -> Result<Self> {
        let start = Instant::now();
        let windows = Arc::new(Windows::new(start, names));
        let load = Arc::new(Load {
            mix: args.mix()?,
            rate: args.rate(),
            windows: windows.clone(),
            track_views: true,
            nodes: target.addrs(),
        });
        Ok(Self {
            start,
            windows,
            load,
            trace: Trace::start(target.pids()),
            ctl: Control::new(),
            settle: Duration::from_secs(args.settle),
        })
    }

    /// One task per seat: `script` with its phone (measured unless `stalled` says otherwise),
    /// socket, the control and the settling time.
    pub fn spawn<T: Send + 'static, F: std::future::Future<Output = T> + Send + 'static>(
        &self,
        seats: Vec<Seat>,
        stalled: impl Fn(&Seat) -> bool,
        script: impl Fn(Phone, Ws, Arc<Control>, Duration, bool) -> F,
    ) -> Vec<tokio::task::JoinHandle<T>> {
        seats
            .into_iter()
            .map(|seat| {
                let stalled = stalled(&seat);
                let (phone, ws) = Phone::new(seat, self.load.clone(), !stalled);
                tokio::spawn(script(phone, ws, self.ctl.clone(), self.settle, stalled))
            })
            .collect()
    }

    /// Window 0: the steady load after the warm-up, for `--duration`.
    pub async fn measure_first(&self, args: &Args) {
        let measure_from = self.start + Duration::from_secs(args.warmup);
        tokio::time::sleep_until(measure_from.into()).await;
        self.windows.open(0, measure_from);
        self.trace.mark();
        tokio::time::sleep(Duration::from_secs(args.duration)).await;
        self.windows.close(0, Instant::now());
        self.trace.mark();
    }

    /// Window `w` opens now and closes after `--duration`.
    pub async fn measure(&self, args: &Args, w: usize) {
        self.windows.open(w, Instant::now());
        self.trace.mark();
        tokio::time::sleep(Duration::from_secs(args.duration)).await;
        self.windows.close(w, Instant::now());
        self.trace.mark();
    }

    /// Every window's figures, from the phones' samples merged per window.
    pub fn figures(&self, per_window: Vec<Samples>) -> Vec<WindowFigures> {
        per_window
            .into_iter()
            .enumerate()
            .map(|(w, s)| WindowFigures::new(&self.windows, w, s, &self.trace))
            .collect()
    }
}

/// The gate of phones whose answers are all in.
pub const SETTLED: usize = GATES - 1;

/// How a phone's script ended.
pub struct Finish {
    /// Commands that never got an answer.
    pub unanswered: usize,
    /// Whether its view came to equal the server's.
    pub converged: bool,
    /// If not, how they differed.
    pub difference: Option<String>,
    /// The phone's connection, kept open until the run's report: a phone that left early
    /// would change the presence the others are still comparing.
    pub _socket: Option<Ws>,
}

/// The end of a phone's script: stop acting, wait for every answer (resuming if the connection
/// ends), pass [`SETTLED`], then read until its view equals the server's.
/// How a phone came back after its connection was lost.
#[derive(Default)]
pub struct Comeback {
    /// When it was welcomed back.
    pub welcomed: Option<Instant>,
    /// Resume attempts refused (too many at once from its address) or without a server.
    pub retries: u32,
    pub finish: Option<Finish>,
}

/// A phone whose connection was lost comes back: it resumes (passing gate `welcomed`), resends
/// what had no answer, goes on acting until stage `quiet`, then settles and is compared.
pub async fn come_back(
    phone: &mut Phone,
    ctl: &Control,
    welcomed: usize,
    quiet: u32,
    settle: Duration,
) -> Comeback {
    let mut back = Comeback::default();
    let mut ws = match phone.resume().await {
        Ok((ws, retries)) => {
            back.welcomed = Some(Instant::now());
            back.retries = retries;
            ws
        }
        Err(e) => {
            phone.note(format!("could not come back: {e:#}"));
            ctl.gone();
            return back;
        }
    };
    ctl.arrive(welcomed);
    if let Err(e) = phone.resend(&mut ws).await {
        phone.note(format!("resending failed: {e}"));
    }
    phone.reschedule();
    phone
        .run_resuming(&mut ws, true, |_: &Phone| false, ctl.reached(quiet), None)
        .await;
    back.finish = Some(finish(phone, ws, ctl, settle).await);
    back
}

pub async fn finish(phone: &mut Phone, mut socket: Ws, ctl: &Control, settle: Duration) -> Finish {
    let ws = &mut socket;
    let deadline = Instant::now() + settle;
    let answered = phone
        .run_resuming(
            ws,
            false,
            |p: &Phone| p.pending() == 0,
            std::future::pending(),
            Some(deadline),
        )
        .await;
    let unanswered = phone.pending();
    if answered != Ended::Done {
        phone.note(format!("{unanswered} commands unanswered ({answered:?})"));
    }
    ctl.arrive(SETTLED);
    // Keep reading while the reference is taken.
    let reference = tokio::select! {
        r = ctl.published() => r,
        e = phone.run_resuming(ws, false, |_: &Phone| false, std::future::pending(), None) => {
            phone.note(format!("stopped reading before the reference: {e:?}"));
            ctl.published().await
        }
    };
    let Some(want) = reference.get(phone.room.index).cloned() else {
        return Finish {
            unanswered,
            converged: false,
            difference: Some("no reference view".into()),
            _socket: None,
        };
    };
    let same = |p: &Phone| p.view.as_ref().is_some_and(|v| Shown::of(v) == want);
    let ended = phone
        .run_resuming(
            ws,
            false,
            same,
            std::future::pending(),
            Some(Instant::now() + settle),
        )
        .await;
    let converged = ended == Ended::Done;
    Finish {
        unanswered,
        converged,
        difference: (!converged).then(|| {
            let diff = match &phone.view {
                Some(v) => Shown::of(v).diff(&want),
                None => "no view".into(),
            };
            format!("room {} phone {}: {diff}", phone.room.index, phone.index)
        }),
        _socket: Some(socket),
    }
}

/// Each room as a freshly resumed facilitator sees it. The facilitators stay connected (and
/// reading) until the returned tasks are aborted, so presence does not change under the
/// phones' feet while they compare.
pub async fn reference_views(
    addrs: &[SocketAddr],
    rooms: &[Arc<RoomInfo>],
) -> Result<(Vec<Shown>, Vec<tokio::task::JoinHandle<()>>)> {
    let mut views = Vec::new();
    let mut sockets = Vec::new();
    for room in rooms {
        let home = room.index % addrs.len();
        let r = common::resume(
            addrs,
            home,
            Dial::default(),
            &room.code,
            &room.facilitator_token,
        )
        .await
        .with_context(|| format!("the facilitator of room {} resuming", room.index))?;
        views.push(Shown::of(&r.welcome.view));
        sockets.push(r.ws);
    }
    Ok((views, common::keep_reading(sockets)))
}

/// The orchestrator's half of [`finish`]: waits until every phone settled, takes the
/// reference views and publishes them.
pub async fn settle_and_publish(
    ctl: &Control,
    addrs: &[SocketAddr],
    rooms: &[Arc<RoomInfo>],
    phones: usize,
    settle: Duration,
) -> Result<(Vec<Shown>, Vec<tokio::task::JoinHandle<()>>)> {
    let settled = ctl
        .gathered(
            SETTLED,
            phones,
            Instant::now() + settle + Duration::from_secs(5),
        )
        .await;
    if settled < phones {
        println!("  only {settled} of {phones} phones settled in time");
    }
    let (views, readers) = reference_views(addrs, rooms).await?;
    ctl.publish(views.clone());
    Ok((views, readers))
}

/// What the acknowledged commands of all phones add up to, against what the server shows.
#[derive(Debug, Default, serde::Serialize)]
pub struct Accounting {
    /// Cards acknowledged to the phones.
    pub cards_acked: usize,
    /// Acknowledged cards the server does not show.
    pub lost: usize,
    /// Acknowledged cards the server shows more than once.
    pub doubled: usize,
    /// Phone cards (acknowledged or not) the server shows more than once.
    pub duplicate_texts: usize,
    /// Rooms whose vote totals equal the acknowledged votes.
    pub rooms_votes_match: usize,
    /// Rooms whose queue holds exactly the hands acknowledged as up.
    pub rooms_hands_match: usize,
    pub rooms: usize,
    /// A few examples of what did not add up.
    pub samples: Vec<String>,
}

/// Counts every phone's acknowledged cards, votes and hands in the server's views.
pub fn account(phones: &[&Phone], rooms: &[Arc<RoomInfo>], views: &[Shown]) -> Accounting {
    let mut a = Accounting {
        rooms: rooms.len(),
        ..Default::default()
    };
    let note = |a: &mut Accounting, s: String| {
        if a.samples.len() < 5 {
            a.samples.push(s);
        }
    };
    for room in rooms {
        let view = &views[room.index];
        let texts = view.texts();
        let mine: Vec<&&Phone> = phones
            .iter()
            .filter(|p| p.room.index == room.index)
            .collect();
        for p in &mine {
            for (text, _) in &p.acked.cards {
                a.cards_acked += 1;
                match texts.get(text.as_str()).copied().unwrap_or(0) {
                    0 => {
                        a.lost += 1;
                        note(
                            &mut a,
                            format!("room {}: acked {text} is missing", room.index),
                        );
                    }
                    1 => {}
                    n => {
                        a.doubled += 1;
                        note(
                            &mut a,
                            format!("room {}: acked {text} shows {n} times", room.index),
                        );
                    }
                }
            }
        }
        a.duplicate_texts += texts
            .iter()
            .filter(|(t, n)| t.starts_with('L') && **n > 1)
            .count();
        // Votes: the round's totals are the phones' acknowledged votes, card by card.
        let mut want: HashMap<&str, i64> = HashMap::new();
        for p in &mine {
            for (card, n) in &p.acked.votes {
                *want.entry(room.cards[*card].as_str()).or_default() += n;
            }
        }
        want.retain(|_, n| *n != 0);
        let got: HashMap<&str, i64> = view
            .rounds
            .iter()
            .find(|r| r.id == room.round)
            .map(|r| {
                r.totals
                    .iter()
                    .map(|(c, n)| (c.as_str(), i64::from(*n)))
                    .collect()
            })
            .unwrap_or_default();
        if want == got {
            a.rooms_votes_match += 1;
        } else {
            note(
                &mut a,
                format!("room {}: votes acked {want:?}, shown {got:?}", room.index),
            );
        }
        // Hands: the queue is everyone whose last acknowledged hand command raised it.
        let mut up: Vec<&str> = mine
            .iter()
            .filter(|p| p.acked.hand == Some(true))
            .filter_map(|p| p.me.as_deref())
            .collect();
        up.sort_unstable();
        let mut queue: Vec<&str> = view.queue.iter().map(String::as_str).collect();
        queue.sort_unstable();
        let complete = view.waiting as usize == queue.len();
        if view.waiting as usize == up.len() && (!complete || up == queue) {
            a.rooms_hands_match += 1;
        } else {
            note(
                &mut a,
                format!(
                    "room {}: hands acked up {:?}, queue {:?} ({} waiting)",
                    room.index, up, queue, view.waiting
                ),
            );
        }
    }
    a
}

impl Accounting {
    /// The checks every scenario that ends with [`finish`] makes of it.
    pub fn check(&self, checks: &mut Checks) {
        checks.add(
            "no acknowledged card lost",
            self.lost == 0,
            format!("{} cards acked, {} lost", self.cards_acked, self.lost),
        );
        checks.add(
            "no card doubled",
            self.doubled == 0 && self.duplicate_texts == 0,
            format!(
                "{} acked cards shown more than once; {} phone card texts shown more than once",
                self.doubled, self.duplicate_texts
            ),
        );
        checks.add(
            "vote totals = acknowledged votes",
            self.rooms_votes_match == self.rooms,
            format!("{} of {} rooms", self.rooms_votes_match, self.rooms),
        );
        checks.add(
            "queue = hands acknowledged as up",
            self.rooms_hands_match == self.rooms,
            format!("{} of {} rooms", self.rooms_hands_match, self.rooms),
        );
    }
}

/// The checks on how phones finished: every command answered, every view converged.
pub fn check_finishes(finishes: &[&Finish], checks: &mut Checks) -> Vec<String> {
    let unanswered: usize = finishes.iter().map(|f| f.unanswered).sum();
    let converged = finishes.iter().filter(|f| f.converged).count();
    checks.add(
        "every command answered",
        unanswered == 0,
        format!("{unanswered} commands without an answer after settling"),
    );
    checks.add(
        "every phone shows the server's state",
        converged == finishes.len(),
        format!(
            "{converged} of {} phones' views (welcome + deltas) equal a freshly resumed facilitator's",
            finishes.len()
        ),
    );
    finishes
        .iter()
        .filter_map(|f| f.difference.clone())
        .take(3)
        .collect()
}

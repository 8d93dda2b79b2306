//! One phone: it acts at random moments, reads everything its room sends, times acks and card
//! deliveries, and keeps what a real client keeps to survive a lost connection: its token, the
//! commands it sent that have no answer yet (to resend with the same id), and, when asked, its
//! view of the room (the welcome with every delta applied).

use crate::common::{self, Dial, PING_EVERY, RoomInfo, Seat};
use crate::measure::{Samples, Windows};
use anyhow::{Context, Result};
use futures_util::{SinkExt, StreamExt};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tafel_protocol::*;
use tafel_tests::Ws;
use tokio::time::sleep_until;
use tokio_tungstenite::tungstenite::Message;

/// What every phone of a run shares.
pub struct Load {
    /// Weights of cards, votes and hands.
    pub mix: [u32; 3],
    /// Actions per phone per second.
    pub rate: f64,
    /// Where samples go; its origin is the zero of the card stamps.
    pub windows: Arc<Windows>,
    /// Keep each phone's view of its room (parsing every frame). The steady load only times
    /// deliveries, reading card stamps out of the raw frames.
    pub track_views: bool,
    /// The server's nodes (one, unless several share a database).
    pub nodes: Vec<SocketAddr>,
}

/// What a command does, to remember once it is acknowledged (or to undo locally when refused).
#[derive(Debug, Clone)]
enum What {
    Card(String),
    Vote(usize),
    Unvote(usize),
    Hand(bool),
}

/// A command sent and not answered yet.
struct Pending {
    /// The frame as sent, to send again after a reconnect.
    frame: String,
    sent: Instant,
    what: What,
    /// Sent again on a later connection: its ack no longer times anything.
    resent: bool,
}

/// What the server acknowledged to this phone.
#[derive(Default)]
pub struct Acked {
    /// Texts of the cards it added, with when each ack arrived.
    pub cards: Vec<(String, Instant)>,
    /// Its votes per card of the round (by index into the room's cards), net of taking back.
    pub votes: HashMap<usize, i64>,
    /// Whether its hand is up after its last acknowledged hand command.
    pub hand: Option<bool>,
    /// When each ack arrived.
    pub at: Vec<Instant>,
}

/// Why [`Phone::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The future it was given resolved.
    Signal,
    /// The condition it was given holds.
    Done,
    /// The deadline passed.
    Deadline,
    /// The connection ended, with the close code if the server sent one.
    Closed(Option<u16>),
}

pub struct Phone {
    pub room: Arc<RoomInfo>,
    /// Its number in the room.
    pub index: usize,
    pub dial: Dial,
    /// The node it joined through, and comes back through first.
    pub home: usize,
    load: Arc<Load>,
    /// Whether its samples count (a phone made to stall does not).
    pub measured: bool,
    token: Option<String>,
    /// Its participant id.
    pub me: Option<String>,
    rng: fastrand::Rng,
    next_action: Instant,
    last_sent: Instant,
    /// Commands sent so far; the next command's id is one more.
    n: u64,
    /// Unanswered commands by number, so they are resent in order.
    pending: BTreeMap<u64, Pending>,
    votes: HashMap<usize, u32>,
    hand_up: bool,
    /// The last change it has seen.
    pub seq: u64,
    /// Its view of the room, when the load tracks views.
    pub view: Option<View>,
    /// Per window of [`Load::windows`].
    pub samples: Vec<Samples>,
    pub acked: Acked,
    /// Error frames received.
    pub errors: u64,
    /// The first few errors and incidents, for the report.
    pub notes: Vec<String>,
    /// Connections that ended when nobody meant them to.
    pub closed: u64,
    /// Commands sent again after a reconnect, and how many of those were answered.
    pub resent: u64,
    pub resent_answered: u64,
    /// Answers to ids it was not waiting for (an answer twice would show here).
    pub stray_answers: u64,
}

impl Phone {
    /// A seated phone and its socket.
    pub fn new(seat: Seat, load: Arc<Load>, measured: bool) -> (Self, Ws) {
        let windows = load.windows.len();
        let track = load.track_views;
        let now = Instant::now();
        let mut phone = Self {
            rng: fastrand::Rng::with_seed((seat.room.index * 100_000 + seat.index) as u64),
            room: seat.room,
            index: seat.index,
            dial: seat.dial,
            home: seat.home,
            load,
            measured,
            token: seat.welcome.token,
            me: seat.welcome.me,
            next_action: now,
            last_sent: now,
            n: 0,
            pending: BTreeMap::new(),
            votes: HashMap::new(),
            hand_up: false,
            seq: seat.welcome.seq,
            view: track.then_some(seat.welcome.view),
            samples: (0..windows).map(|_| Samples::default()).collect(),
            acked: Acked::default(),
            errors: 0,
            notes: Vec::new(),
            closed: 0,
            resent: 0,
            resent_answered: 0,
            stray_answers: 0,
        };
        phone.reschedule();
        (phone, seat.ws)
    }

    /// Unanswered commands.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The next action after a random gap from now (when acting starts or starts again).
    pub fn reschedule(&mut self) {
        self.next_action = Instant::now() + self.wait();
    }

    /// An exponential gap: a Poisson process of `rate` actions a second.
    fn wait(&mut self) -> Duration {
        if self.load.rate <= 0.0 {
            return Duration::from_secs(86_400);
        }
        Duration::from_secs_f64(-(1.0 - self.rng.f64()).ln() / self.load.rate)
    }

    /// Reads (and acts, if `acting`, and pings when quiet) until `done` holds, `signal`
    /// resolves, the deadline passes or the connection ends.
    pub async fn run(
        &mut self,
        ws: &mut Ws,
        acting: bool,
        done: impl Fn(&Phone) -> bool,
        signal: impl Future<Output = ()>,
        deadline: Option<Instant>,
    ) -> Ended {
        tokio::pin!(signal);
        let never = Instant::now() + Duration::from_secs(86_400);
        loop {
            if done(self) {
                return Ended::Done;
            }
            tokio::select! {
                () = &mut signal => return Ended::Signal,
                () = sleep_until(deadline.unwrap_or(never).into()), if deadline.is_some() => return Ended::Deadline,
                frame = ws.next() => match frame {
                    Some(Ok(Message::Text(t))) => self.on_text(t.as_str()),
                    Some(Ok(Message::Close(c))) => return Ended::Closed(c.map(|c| c.code.into())),
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => return Ended::Closed(None),
                },
                () = sleep_until(self.next_action.into()), if acting => {
                    let gap = self.wait();
                    self.next_action += gap;
                    if self.act(ws).await.is_err() {
                        return Ended::Closed(None);
                    }
                }
                () = sleep_until((self.last_sent + PING_EVERY).into()) => {
                    self.last_sent = Instant::now();
                    if ws.send(Message::text(r#"{"type":"ping"}"#)).await.is_err() {
                        return Ended::Closed(None);
                    }
                }
            }
        }
    }

    /// As [`Phone::run`], but a connection that ends is counted, resumed and its unanswered
    /// commands resent, as a real client does; returns `Closed` only when it cannot resume.
    pub async fn run_resuming(
        &mut self,
        ws: &mut Ws,
        acting: bool,
        done: impl Fn(&Phone) -> bool,
        signal: impl Future<Output = ()>,
        deadline: Option<Instant>,
    ) -> Ended {
        tokio::pin!(signal);
        loop {
            match self.run(ws, acting, &done, signal.as_mut(), deadline).await {
                Ended::Closed(code) => {
                    self.closed += 1;
                    self.note(format!("connection closed ({code:?}); resuming"));
                    match self.resume().await {
                        Ok((new, _)) => {
                            *ws = new;
                            if let Err(e) = self.resend(ws).await {
                                self.note(format!("resending failed: {e}"));
                            }
                        }
                        Err(e) => {
                            self.note(format!("could not resume: {e:#}"));
                            return Ended::Closed(code);
                        }
                    }
                }
                other => return other,
            }
        }
    }

    /// Sends the next action now.
    pub async fn act(&mut self, ws: &mut Ws) -> Result<()> {
        self.n += 1;
        let n = self.n;
        let (cmd, what) = self.pick();
        let frame = serde_json::to_string(&ClientMessage::Cmd {
            id: n.to_string(),
            cmd,
        })?;
        let sent = Instant::now();
        if self.measured {
            for w in self.load.windows.containing(sent) {
                self.samples[w].sent += 1;
            }
        }
        self.last_sent = sent;
        self.pending.insert(
            n,
            Pending {
                frame: frame.clone(),
                sent,
                what,
                resent: false,
            },
        );
        ws.send(Message::text(frame)).await?;
        Ok(())
    }

    /// Comes back on a new connection with its token; the welcome replaces its view. Returns
    /// the socket and how many attempts were refused or found no server first.
    pub async fn resume(&mut self) -> Result<(Ws, u32)> {
        let token = self.token.clone().context("no token to resume with")?;
        let r = common::resume(
            &self.load.nodes,
            self.home,
            self.dial,
            &self.room.code,
            &token,
        )
        .await?;
        self.seq = r.welcome.seq;
        if self.load.track_views {
            self.view = Some(r.welcome.view);
        }
        self.last_sent = Instant::now();
        Ok((r.ws, r.retries))
    }

    /// Sends every unanswered command again, with its id, in order.
    pub async fn resend(&mut self, ws: &mut Ws) -> Result<()> {
        for p in self.pending.values_mut() {
            p.resent = true;
            self.resent += 1;
            ws.feed(Message::text(p.frame.clone())).await?;
        }
        ws.flush().await?;
        self.last_sent = Instant::now();
        Ok(())
    }

    /// Notes an error frame.
    pub fn error(&mut self, what: String) {
        self.errors += 1;
        self.note(what);
    }

    /// Keeps the first few incidents for the report.
    pub fn note(&mut self, what: String) {
        if self.notes.len() < 5 {
            self.notes.push(format!(
                "room {} phone {}: {what}",
                self.room.index, self.index
            ));
        }
    }

    fn on_text(&mut self, t: &str) {
        let now = Instant::now();
        if t.starts_with(r#"{"type":"delta""#) {
            let got = delta_seq(t).unwrap_or(self.seq);
            if self.measured {
                for w in self.load.windows.containing(now) {
                    self.samples[w].frames += 1;
                    self.samples[w].updates += got.saturating_sub(self.seq);
                }
            }
            self.seq = self.seq.max(got);
            if self.load.track_views {
                match serde_json::from_str::<ServerMessage>(t) {
                    Ok(ServerMessage::Delta { patch, .. }) => {
                        for card in &patch.cards {
                            if let Some(text) = &card.text {
                                self.delivered(text, now);
                            }
                        }
                        if let Some(view) = &mut self.view {
                            view.apply(&patch);
                        }
                    }
                    _ => self.error("a delta that does not parse".into()),
                }
            } else {
                for text in stamped_texts(t) {
                    self.delivered(text, now);
                }
            }
        } else if t.starts_with(r#"{"type":"ack""#) || t.starts_with(r#"{"type":"error""#) {
            let Ok(msg) = serde_json::from_str::<ServerMessage>(t) else {
                self.error("an answer that does not parse".into());
                return;
            };
            let (id, refusal) = match msg {
                ServerMessage::Ack { id, .. } => (Some(id), None),
                ServerMessage::Error {
                    id, code, message, ..
                } => (id, Some(format!("{code:?}: {message}"))),
                _ => return,
            };
            let n = id.as_deref().and_then(|i| i.parse::<u64>().ok());
            match n.and_then(|n| self.pending.remove(&n)) {
                Some(p) => {
                    if p.resent {
                        self.resent_answered += 1;
                    } else if self.measured {
                        let us = now.duration_since(p.sent).as_micros() as u32;
                        for w in self.load.windows.containing(p.sent) {
                            self.samples[w].ack_us.push(us);
                        }
                    }
                    match refusal {
                        None => self.on_acked(p.what, now),
                        Some(e) => {
                            self.undo(&p.what);
                            self.error(format!("{}: {e}", id.unwrap_or_default()));
                        }
                    }
                }
                None => match refusal {
                    Some(e) => self.error(e),
                    None => {
                        self.stray_answers += 1;
                        self.note(format!("an answer nobody waited for: {t}"));
                    }
                },
            }
        }
    }

    /// A card's text arrived: times it if another phone of this room stamped it.
    fn delivered(&mut self, text: &str, now: Instant) {
        if !self.measured {
            return;
        }
        if let Some((room, phone, sent_us)) = stamp(text)
            && room == self.room.index
            && phone != self.index
        {
            let sent = self.load.windows.origin + Duration::from_micros(sent_us);
            let us = now.duration_since(sent).as_micros() as u32;
            for w in self.load.windows.containing(sent) {
                self.samples[w].delivery_us.push(us);
            }
        }
    }

    fn on_acked(&mut self, what: What, now: Instant) {
        self.acked.at.push(now);
        match what {
            What::Card(text) => self.acked.cards.push((text, now)),
            What::Vote(card) => *self.acked.votes.entry(card).or_default() += 1,
            What::Unvote(card) => *self.acked.votes.entry(card).or_default() -= 1,
            What::Hand(up) => self.acked.hand = Some(up),
        }
    }

    /// A refused command did not happen: take back what `pick` counted.
    fn undo(&mut self, what: &What) {
        match what {
            What::Card(_) => {}
            What::Vote(card) => {
                let mine = self.votes.entry(*card).or_default();
                *mine = mine.saturating_sub(1);
            }
            What::Unvote(card) => *self.votes.entry(*card).or_default() += 1,
            What::Hand(up) => self.hand_up = !up,
        }
    }

    /// The next action, by the mix: a card, a vote (or taking one back), a hand up or down.
    fn pick(&mut self) -> (Command, What) {
        let [cards, vote, _] = self.load.mix;
        let total: u32 = self.load.mix.iter().sum();
        let roll = self.rng.u32(0..total.max(1));
        let round = self.room.round.clone();
        if roll < cards {
            let us = self.load.windows.origin.elapsed().as_micros();
            let text = format!("L{}:{}:{us}", self.room.index, self.index);
            let cmd = Command::AddCard {
                text: text.clone(),
                kind: CardKind::Idea,
                builds_on: None,
                source: None,
                lesson_of: None,
            };
            (cmd, What::Card(text))
        } else if roll < cards + vote {
            let card = self.rng.usize(0..self.room.cards.len());
            let used: u32 = self.votes.values().sum();
            let mine = self.votes.entry(card).or_default();
            let (card, vote) = if used < 50 && *mine < 10 {
                *mine += 1;
                (card, true)
            } else if *mine > 0 {
                *mine -= 1;
                (card, false)
            } else {
                // This card has none of mine and the budget is spent: take one back elsewhere.
                let (other, n) = self
                    .votes
                    .iter_mut()
                    .find(|(_, n)| **n > 0)
                    .expect("votes were spent");
                *n -= 1;
                (*other, false)
            };
            let id = self.room.cards[card].clone();
            if vote {
                (Command::Vote { round, card: id }, What::Vote(card))
            } else {
                (Command::Unvote { round, card: id }, What::Unvote(card))
            }
        } else {
            self.hand_up = !self.hand_up;
            let cmd = if self.hand_up {
                Command::RaiseHand {
                    kind: HandKind::Hand,
                }
            } else {
                Command::LowerHand { participant: None }
            };
            (cmd, What::Hand(self.hand_up))
        }
    }
}

/// The `seq` of a delta frame, read without parsing the rest.
fn delta_seq(frame: &str) -> Option<u64> {
    let rest = &frame[frame.find("\"seq\":")? + 6..];
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    rest[..end].parse().ok()
}

/// Card texts carry their room, sender and send time, so receivers can time the delivery:
/// `L{room}:{phone}:{micros since the load's origin}`.
fn stamp(text: &str) -> Option<(usize, usize, u64)> {
    let rest = text.strip_prefix('L')?;
    let mut parts = rest.splitn(3, ':');
    Some((
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    ))
}

/// Finds the stamped card texts in a delta without parsing all of it.
fn stamped_texts(frame: &str) -> impl Iterator<Item = &str> {
    frame
        .match_indices("\"text\":\"L")
        .filter_map(move |(i, m)| {
            let start = i + m.len() - 1;
            let end = frame[start..].find('"')? + start;
            Some(&frame[start..end])
        })
}

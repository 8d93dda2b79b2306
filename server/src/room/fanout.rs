//! The room's connections: their outboxes, roles and presence, and putting frames in them.
//!
//! The room only `try_send`s: a connection whose outbox is full is marked dropped, gets
//! nothing more (an ack must never arrive without its delta), and is removed after the
//! fan-out; it resumes and gets a fresh welcome. Presence is counted here, in memory only.

use super::msg::{ConnId, ConnSink, Joined};
use crate::session::Changed;
use axum::extract::ws::Utf8Bytes;
use std::collections::{HashMap, HashSet};
use tafel_protocol::Role;
use tokio::sync::mpsc;

struct Conn {
    outbox: mpsc::Sender<Utf8Bytes>,
    role: Role,
    participant: Option<usize>,
}

/// Every connection of one room.
#[derive(Default)]
pub struct Fanout {
    conns: HashMap<ConnId, Conn>,
    /// Live connections per participant index.
    online: Vec<u32>,
    /// Connections whose outbox overflowed (or closed), to remove after the fan-out.
    dropped: Vec<ConnId>,
}

impl Fanout {
    /// No connections yet, for a session of `participants` people.
    pub fn new(participants: usize) -> Self {
        Self {
            online: vec![0; participants],
            ..Self::default()
        }
    }

    /// Live connections per participant index.
    pub fn online(&self) -> &[u32] {
        &self.online
    }

    /// Someone joined the session: one more participant to count.
    pub fn grow(&mut self) {
        self.online.push(0);
    }

    /// The session has `participants` people again (after joins that could not be stored,
    /// whose connections have left).
    pub fn fit(&mut self, participants: usize) {
        self.online.truncate(participants);
    }

    /// How many connections are in the room.
    pub fn len(&self) -> usize {
        self.conns.len()
    }

    /// Whether nobody is connected.
    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// Who a connection is, if it is in the room.
    pub fn who(&self, conn: ConnId) -> Option<Joined> {
        self.conns.get(&conn).map(|c| Joined {
            role: c.role,
            participant: c.participant,
        })
    }

    /// A connection enters the room. A person's first connection changes who is present.
    pub fn add(&mut self, sink: &ConnSink, joined: Joined, changed: &mut Changed) {
        self.conns.insert(
            sink.id,
            Conn {
                outbox: sink.outbox.clone(),
                role: joined.role,
                participant: joined.participant,
            },
        );
        if let Some(p) = joined.participant {
            self.online[p] += 1;
            if self.online[p] == 1 {
                changed.presence(p);
            }
        }
    }

    /// A connection leaves. A person's last connection changes who is present.
    pub fn remove(&mut self, conn: ConnId, changed: &mut Changed) {
        if let Some(c) = self.conns.remove(&conn)
            && let Some(p) = c.participant
        {
            self.online[p] -= 1;
            if self.online[p] == 0 {
                changed.presence(p);
            }
        }
    }

    /// Which roles have a connection (not counting `skip`), so the room makes frames only
    /// for them.
    pub fn roles(&self, skip: &HashSet<ConnId>) -> Vec<Role> {
        let mut roles = Vec::with_capacity(3);
        for (id, c) in &self.conns {
            if !roles.contains(&c.role) && !skip.contains(id) {
                roles.push(c.role);
            }
        }
        roles
    }

    /// Sends a frame to every connection of a role, except `skip`.
    pub fn send_to_role(&mut self, role: Role, frame: &Utf8Bytes, skip: &HashSet<ConnId>) {
        self.send_where(|c| c.role == role, frame, skip);
    }

    /// Sends a frame to every connection of a person, except `skip`.
    pub fn send_to_person(&mut self, p: usize, frame: &Utf8Bytes, skip: &HashSet<ConnId>) {
        self.send_where(|c| c.participant == Some(p), frame, skip);
    }

    /// Sends a frame to every connection, except `skip`.
    pub fn send_to_all(&mut self, frame: &Utf8Bytes, skip: &HashSet<ConnId>) {
        self.send_where(|_| true, frame, skip);
    }

    /// Marks everyone's presence as changed, to send it anew.
    pub fn mark_presence(&self, changed: &mut Changed) {
        for p in 0..self.online.len() {
            changed.presence(p);
        }
    }

    fn send_where(
        &mut self,
        which: impl Fn(&Conn) -> bool,
        frame: &Utf8Bytes,
        skip: &HashSet<ConnId>,
    ) {
        let targets: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(id, c)| which(c) && !skip.contains(*id))
            .map(|(id, _)| *id)
            .collect();
        for id in targets {
            self.send(id, frame.clone());
        }
    }

    /// Puts a frame in a connection's outbox without waiting; a full outbox marks the
    /// connection to be dropped.
    pub fn send(&mut self, conn: ConnId, frame: Utf8Bytes) {
        // Once a frame could not go out, nothing later may: an ack must not arrive without its
        // delta. The connection closes and resyncs.
        if self.dropped.contains(&conn) {
            return;
        }
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        match c.outbox.try_send(frame) {
            Ok(()) => crate::metrics::delivered(),
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(
                    conn,
                    role = ?c.role,
                    outbox = c.outbox.max_capacity(),
                    "outbox full: dropping a connection that fell behind"
                );
                crate::metrics::outbox_dropped();
                self.dropped.push(conn);
            }
            // Already closed; its Leave is on the way. Stop sending to it now.
            Err(mpsc::error::TrySendError::Closed(_)) => self.dropped.push(conn),
        }
    }

    /// Removes the connections that fell behind (they resume and get a fresh welcome);
    /// returns what that changed, to send at once. Empty when none was dropped.
    pub fn take_dropped(&mut self, changed: &mut Changed) {
        for conn in std::mem::take(&mut self.dropped) {
            self.remove(conn, changed);
        }
    }
}

//! A session's record: its automerge document and the typed state projected from it, kept in
//! step, with the answers of every command id it took. Every accepted command or join is
//! exactly one automerge change, with the server's time and a message naming the command.
//!
//! A record needs no runtime: the room drives it live, and replay, reports and tests open a
//! stored document and ask it for the state and each role's view directly.

use super::changes::Changed;
use super::cmd::{self, Actor, CmdError, Ctx, display_name, text_of};
use super::doc::{self, ChangeMessage, DocError, Objs};
use super::state::{Moment, Participant, Session, SessionFields, id, parse_id};
use crate::error::refuse;
use crate::secrets::{self, TokenGrant, TokenHash};
use automerge::{Automerge, ChangeHash};
use std::collections::HashMap;
use tafel_protocol::{
    AckResult, Command, CreateSession, ErrorCode, Language, Millis, Perspective, Role,
    SessionStatus, limits,
};

/// The most participants one session takes (each is a record every screen shows).
pub const MAX_PARTICIPANTS: usize = 2000;

/// The document, its typed projection, and what each command id was answered.
pub struct Record {
    /// The automerge document: the durable truth and the replay.
    pub doc: Automerge,
    /// The document's top-level maps.
    objs: Objs,
    /// The typed state, equal to `fold::hydrate(doc)` at all times.
    pub state: Session,
    /// The ack of every applied command, per (participant, command id), so a resent command
    /// is answered the same way and applied once. Rebuilt from the change messages on load.
    /// Refusals are not kept: a client never resends an id it saw refused, and one it did not
    /// see is simply checked again.
    answers: HashMap<(usize, String), AckResult>,
    /// The number of changes in the document (the `seq` clients see).
    seq: u64,
}

/// A new participant: their index, and their token (given to them once, stored only hashed).
#[derive(Debug)]
pub struct NewParticipant {
    /// Their participant index.
    pub index: usize,
    /// Their secret token.
    pub token: String,
    /// The token's hash and what it lets in, for storage.
    pub grant: (TokenHash, TokenGrant),
}

/// The answer to a command.
#[derive(Debug)]
pub struct Answer {
    /// What the ack says.
    pub ack: AckResult,
    /// A token the command made, to store before the ack goes out (a projector or replay
    /// link).
    pub new_token: Option<(TokenHash, TokenGrant)>,
    /// A token the command revoked (a replay link): it opens nothing any more.
    pub revoked_token: Option<TokenHash>,
}

impl Record {
    /// A new session, if the request is valid: its fields, its facilitator as participant
    /// `p1` (named by the request, or by the language's word for facilitator), and the default
    /// ground rules, as one change.
    pub fn create(
        req: &CreateSession,
        code: String,
        now: Millis,
        key: [u8; 32],
    ) -> Result<Self, CmdError> {
        let fields = SessionFields {
            code,
            title: text_of(&req.title, limits::TITLE_CHARS, "the title")?,
            problem: text_of(&req.problem, limits::PROBLEM_CHARS, "the problem statement")?,
            language: req.language,
            anonymous_cards: req.anonymous_cards,
            created_at: now,
            phase: 0,
            status: SessionStatus::Open,
        };
        let default_name = match req.language {
            Language::Nl => "Procesbegeleider",
            Language::En => "Facilitator",
        };
        let facilitator = Participant {
            name: display_name(req.facilitator_name.as_deref().unwrap_or(default_name))?,
            perspective: Perspective::Anders,
            role: Role::Facilitator,
            joined_at: now,
        };
        let document = doc::create(&fields, &facilitator)?;
        Ok(Self::from_doc(document, key)?)
    }

    /// Opens a stored session: a snapshot and the changes stored after it, with the
    /// session's pseudonym key.
    pub fn open(snapshot: &[u8], changes: &[u8], key: [u8; 32]) -> Result<Self, DocError> {
        Self::from_doc(doc::load(snapshot, changes)?.0, key)
    }

    /// Wraps a loaded document whose snapshot carried `checkpoint`: the state as of the
    /// snapshot comes from the checkpoint, and only what the later changes touched is read from
    /// the document. Without a usable checkpoint, as [`Self::from_doc`].
    pub fn from_checkpoint(
        doc: Automerge,
        key: [u8; 32],
        checkpoint: Option<&[u8]>,
    ) -> Result<Self, DocError> {
        let Some(cp) = checkpoint else {
            return Self::from_doc(doc, key);
        };
        Self::from_decoded(doc, key, super::checkpoint::decode(cp))
    }

    /// As [`Self::from_checkpoint`], with the checkpoint already decoded (`None`: none usable).
    pub fn from_decoded(
        doc: Automerge,
        key: [u8; 32],
        checkpoint: Option<super::checkpoint::Checkpoint>,
    ) -> Result<Self, DocError> {
        let Some(cp) = checkpoint else {
            return Self::from_doc(doc, key);
        };
        match super::checkpoint::restore_decoded(&doc, cp, key)? {
            Some(r) => Ok(Self {
                objs: doc::objs(&doc)?,
                doc,
                state: r.state,
                answers: r.answers,
                seq: r.seq,
            }),
            None => Self::from_doc(doc, key),
        }
    }

    /// The bytes of a snapshot of this record: the document, with a checkpoint of the state.
    pub fn snapshot_bytes(&self) -> Vec<u8> {
        // Two independent passes over data that holds still: the document saved on this
        // thread, the checkpoint written on another, so a large room is held up for the
        // longer of the two rather than for their sum.
        let heads = self.doc.get_heads();
        let (doc_bytes, checkpoint) = std::thread::scope(|s| {
            let checkpoint = s.spawn(|| self.checkpoint(&heads));
            (self.doc.save(), checkpoint.join())
        });
        match checkpoint {
            Ok(checkpoint) => super::doc::snapshot_with(&checkpoint, &doc_bytes),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// A checkpoint of the state, taken when the document's heads are `heads`.
    pub fn checkpoint(&self, heads: &[ChangeHash]) -> Vec<u8> {
        super::checkpoint::encode(heads, self.seq, &self.state, &self.answers)
    }

    /// Wraps a loaded document, rebuilding the typed state and the answers from it.
    pub fn from_doc(doc: Automerge, key: [u8; 32]) -> Result<Self, DocError> {
        let objs = doc::objs(&doc)?;
        let state = super::fold::hydrate(&doc, key)?;
        let messages = doc::messages(&doc);
        let mut answers = HashMap::new();
        for m in &messages {
            if let (Some(by), Some(id)) = (&m.by, &m.id)
                && let Some(p) = state.by_pseudonym.get(by)
            {
                answers.insert((*p, id.clone()), m.ack.clone());
            }
        }
        Ok(Self {
            seq: messages.len() as u64,
            doc,
            objs,
            state,
            answers,
        })
    }

    /// The answer remembered for every command id (for tests).
    #[cfg(test)]
    pub(crate) fn answers(&self) -> &HashMap<(usize, String), AckResult> {
        &self.answers
    }

    /// The number of changes so far.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The document's heads, to find what a batch added.
    pub fn heads(&self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// Everything `role` may see now.
    pub fn view(&self, role: Role, at: &Moment<'_>) -> tafel_protocol::View {
        self.state.view(role, at)
    }

    /// Answers one command: the first answer again for an id this person already used,
    /// otherwise the command applied as one change. On refusal nothing changes, in the
    /// document or in memory.
    pub fn command(
        &mut self,
        actor: Actor,
        cmd_id: &str,
        cmd: &Command,
        at: &Moment<'_>,
        changed: &mut Changed,
    ) -> Result<Answer, CmdError> {
        let previous = actor
            .participant
            .and_then(|p| self.answers.get(&(p, cmd_id.to_owned())));
        let mut ack = match previous {
            Some(ack) => ack.clone(),
            None => {
                let ack = self.apply(actor, cmd_id, cmd, at, changed)?;
                if let Some(p) = actor.participant {
                    self.answers.insert((p, cmd_id.to_owned()), ack.clone());
                }
                ack
            }
        };
        let (mut new_token, mut revoked_token) = (None, None);
        match (cmd, actor.participant) {
            (Command::ProjectorLink, Some(p)) => {
                let (url, grant) = self.projector_link(p, cmd_id, at.public_url);
                ack.projector_url = Some(url);
                new_token = Some(grant);
            }
            (Command::ReplayLink, _) => {
                let link = ack.replay_link.clone().expect("a replay link has an id");
                let token = self.replay_token(&link);
                let code = &self.state.fields.code;
                ack.replay_url = Some(format!("{}/r/{code}#{token}", at.public_url));
                let grant = TokenGrant {
                    role: Role::Replay,
                    participant: None,
                    link: Some(link),
                };
                new_token = Some((secrets::hash_token(&token), grant));
            }
            (Command::RevokeReplay { link }, _) => {
                revoked_token = Some(secrets::hash_token(&self.replay_token(link)));
            }
            _ => {}
        }
        Ok(Answer {
            ack,
            new_token,
            revoked_token,
        })
    }

    /// The token of a replay link: derived from the session key and the link's id, so the
    /// server can give it again (a resent command) without keeping it.
    fn replay_token(&self, link: &str) -> String {
        secrets::derived_token(&self.state.key, &format!("replay-link\0{link}"))
    }

    /// Whether a replay link is still open: made, and not revoked.
    pub fn replay_link_open(&self, link: &str) -> bool {
        super::ids::parse_id('l', link)
            .and_then(|l| self.state.method.replay_links.get(l))
            .is_some_and(|l| l.revoked_at.is_none())
    }

    /// The link a `projector_link` command made: its token is derived from the session key,
    /// the giver and the command id, so a resent command gives the same link, and only the
    /// token's hash is ever kept. The link is never recorded in the document.
    fn projector_link(
        &self,
        p: usize,
        cmd_id: &str,
        public_url: &str,
    ) -> (String, (TokenHash, TokenGrant)) {
        let context = format!("projector-link\0{}\0{cmd_id}", self.state.pseudonyms[p]);
        let token = secrets::derived_token(&self.state.key, &context);
        let grant = TokenGrant {
            role: Role::Projector,
            participant: None,
            link: None,
        };
        let url = format!("{public_url}/p/{}#{token}", self.state.fields.code);
        (url, (secrets::hash_token(&token), grant))
    }

    /// Applies one command as one change.
    fn apply(
        &mut self,
        actor: Actor,
        cmd_id: &str,
        cmd: &Command,
        at: &Moment<'_>,
        changed: &mut Changed,
    ) -> Result<AckResult, CmdError> {
        let by = actor.participant.map(|p| self.state.pseudonyms[p].clone());
        self.change(at, changed, |cx| {
            let ack = cmd::apply(cx, actor, cmd)?;
            let message = ChangeMessage {
                cmd: cmd.name().into(),
                by,
                id: Some(cmd_id.to_owned()),
                ack: ack.clone(),
            };
            Ok((ack, message))
        })
    }

    /// The server's own change when a turn reaches its hard limit. Records nothing and returns
    /// false when there is nothing to end.
    pub fn limit_reached(
        &mut self,
        at: &Moment<'_>,
        changed: &mut Changed,
    ) -> Result<bool, CmdError> {
        let result = self.change(at, changed, |cx| {
            if cmd::floor::limit_reached(cx)? {
                let message = ChangeMessage {
                    cmd: "turn_limit".into(),
                    by: None,
                    id: None,
                    ack: AckResult::default(),
                };
                Ok((AckResult::default(), message))
            } else {
                Err(refuse(ErrorCode::NoTurn, "no turn at its limit"))
            }
        });
        match result {
            Ok(_) => Ok(true),
            Err(CmdError::Refused(r)) if r.code == ErrorCode::NoTurn => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The next moment the floor changes by itself, after `sent` (when the floor was last
    /// sent): a hard turn reaching its limit (always, even if overdue), a soft one turning
    /// overtime, a hand whose hold ends, or the end of the moment the floor makes room for
    /// the quiet (over-share hands can have the floor again).
    pub fn next_deadline(&self, sent: Millis) -> Option<Millis> {
        let s = &self.state;
        let turn = s.floor.deadline().filter(|d| s.floor.hard() || *d > sent);
        let hold = s
            .holds
            .values()
            .copied()
            .filter(|until| *until > sent)
            .min();
        let room = s.floor.room_until().filter(|until| *until > sent);
        turn.into_iter().chain(hold).chain(room).min()
    }

    /// Runs `f` in one transaction: committed as one change with the message it returns, or
    /// rolled back when it refuses.
    fn change(
        &mut self,
        at: &Moment<'_>,
        changed: &mut Changed,
        f: impl FnOnce(&mut Ctx<'_, '_>) -> Result<(AckResult, ChangeMessage), CmdError>,
    ) -> Result<AckResult, CmdError> {
        let Self {
            doc: document,
            objs,
            state,
            ..
        } = self;
        let mut tx = document.transaction();
        let mut cx = Ctx {
            s: state,
            tx: &mut tx,
            o: objs,
            now: at.now,
            changed,
            online: at.online,
        };
        match f(&mut cx) {
            Ok((ack, message)) => {
                // A command that changed nothing (lock when locked) is still recorded, as an
                // empty change: every acknowledged command is in the history, so its answer
                // survives a restart and replay shows it.
                if tx
                    .commit_with(doc::commit_options(&message, at.now))
                    .0
                    .is_none()
                {
                    document.empty_commit(doc::commit_options(&message, at.now));
                }
                self.seq += 1;
                Ok(ack)
            }
            Err(e) => {
                tx.rollback();
                Err(e)
            }
        }
    }

    /// A new participant, if the session takes one: open, not full, with a valid name.
    /// Returns their index and token.
    pub fn join(
        &mut self,
        name: &str,
        perspective: Perspective,
        at: &Moment<'_>,
        changed: &mut Changed,
    ) -> Result<NewParticipant, CmdError> {
        match self.state.fields.status {
            SessionStatus::Open => {}
            SessionStatus::Locked => {
                return Err(refuse(
                    ErrorCode::SessionLocked,
                    "this session is closed to new participants",
                ));
            }
            SessionStatus::Ended => {
                return Err(refuse(ErrorCode::SessionEnded, "this session has ended"));
            }
        }
        if self.state.participants.len() >= MAX_PARTICIPANTS {
            return Err(refuse(
                ErrorCode::SessionFull,
                "this session has as many participants as it can take",
            ));
        }
        let p = Participant {
            name: display_name(name)?,
            perspective,
            role: Role::Participant,
            joined_at: at.now,
        };
        let index = self.state.participants.len();
        let mut tx = self.doc.transaction();
        if let Err(e) = doc::put_participant(&mut tx, &self.objs, index, &p) {
            tx.rollback();
            return Err(e.into());
        }
        let message = ChangeMessage {
            cmd: "join".into(),
            by: Some(secrets::pseudonym(&self.state.key, &id('p', index))),
            id: None,
            ack: AckResult::default(),
        };
        tx.commit_with(doc::commit_options(&message, p.joined_at));
        self.seq += 1;
        self.state.push_participant(p);
        changed.entity(super::changes::Part::Participants, index);
        let token = secrets::new_token();
        let grant = TokenGrant {
            role: Role::Participant,
            participant: Some(id('p', index)),
            link: None,
        };
        Ok(NewParticipant {
            index,
            grant: (secrets::hash_token(&token), grant),
            token,
        })
    }
}

/// Who a token's grant lets in: its role and participant index.
pub fn grantee(grant: &TokenGrant) -> (Role, Option<usize>) {
    let participant = grant.participant.as_deref().and_then(|p| parse_id('p', p));
    (grant.role, participant)
}

//! Replays and reports, answered from storage: no live room is loaded for them, so a replay
//! never slows a session and any node can answer. The history is read and folded once per
//! stored version of a session and kept for the next requests (a few sessions at most).

use crate::error::{Refusal, StorageError, refuse};
use crate::secrets::{self, TokenGrant};
use crate::session::doc::{self, DocError};
use crate::session::{Replay, export, report};
use crate::storage::Storage;
use automerge::Automerge;
use std::sync::{Arc, Mutex};
use tafel_protocol::{ErrorCode, ReplayMoment, ReplayTimeline, Report, Role, SessionStatus, View};

/// How many sessions' replays are kept in memory.
const KEPT: usize = 4;

/// What a reader asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// The replay: the timeline and the moments (the facilitator, a replay link).
    Replay,
    /// The report (also a participant, once the session ended, if the facilitator shares it).
    Report,
}

/// A session's history, read and folded.
pub struct Opened {
    code: String,
    /// The stored version this was read from: the snapshot's last change and the last change.
    version: (u64, u64),
    tokens: Vec<(secrets::TokenHash, TokenGrant)>,
    doc: Automerge,
    replay: Replay,
}

/// The replays kept, and where to read sessions.
pub struct Replays {
    storage: Storage,
    public_url: Arc<str>,
    kept: Mutex<Vec<Arc<Opened>>>,
}

#[derive(Debug, thiserror::Error)]
enum OpenError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Doc(#[from] DocError),
    #[error("the session's key is malformed")]
    BadKey,
    #[error("the reading task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl From<OpenError> for Refusal {
    fn from(e: OpenError) -> Self {
        tracing::error!(error = %e, "could not read a session's history");
        refuse(
            ErrorCode::Internal,
            "the session's history could not be read",
        )
    }
}

impl Replays {
    /// Replays of sessions in `storage`, with links based on `public_url`.
    pub fn new(storage: Storage, public_url: Arc<str>) -> Self {
        Self {
            storage,
            public_url,
            kept: Mutex::default(),
        }
    }

    /// Checks that `token` is the facilitator's of the session `code`; its code, normalized.
    pub async fn facilitator(&self, code: &str, token: &str) -> Result<String, Refusal> {
        let code = secrets::normalize_code(code).ok_or_else(|| {
            refuse::<Refusal>(
                ErrorCode::SessionNotFound,
                "there is no session with this code",
            )
        })?;
        let stored = self.storage.load(&code).await.map_err(OpenError::from)?;
        let Some(stored) = stored else {
            return Err(refuse(
                ErrorCode::SessionNotFound,
                "there is no session with this code",
            ));
        };
        let hash = secrets::hash_token(token);
        match stored.tokens.iter().find(|(h, _)| *h == hash) {
            Some((_, grant)) if grant.role == Role::Facilitator => Ok(code),
            Some(_) => Err(refuse(
                ErrorCode::Forbidden,
                "only the facilitator may delete the session",
            )),
            None => Err(refuse(
                ErrorCode::BadToken,
                "this link or token is not valid for this session",
            )),
        }
    }

    /// Forgets what was read of a session (it was deleted).
    pub fn forget(&self, code: &str) {
        self.kept
            .lock()
            .expect("not poisoned")
            .retain(|o| o.code != code);
    }

    /// A session's history, for the holder of `token`, with the role they read it as.
    pub async fn open(
        &self,
        code: &str,
        token: &str,
        wanted: Wanted,
    ) -> Result<(Arc<Opened>, Role), Refusal> {
        let unknown = || {
            refuse::<Refusal>(
                ErrorCode::SessionNotFound,
                "there is no session with this code",
            )
        };
        let code = secrets::normalize_code(code).ok_or_else(unknown)?;
        let stored = self
            .storage
            .load(&code)
            .await
            .map_err(OpenError::from)?
            .ok_or_else(unknown)?;
        let version = (
            stored.snapshot_upto,
            stored
                .changes
                .last()
                .map_or(stored.snapshot_upto, |(seq, _)| *seq),
        );
        let kept = self
            .kept
            .lock()
            .expect("not poisoned")
            .iter()
            .find(|o| o.code == code && o.version == version)
            .cloned();
        let opened = match kept {
            Some(opened) => opened,
            None => {
                let key = stored
                    .meta
                    .as_ref()
                    .and_then(|m| secrets::from_hex32(&m.key))
                    .ok_or(OpenError::BadKey)?;
                let tokens = stored.tokens.clone();
                let code = code.clone();
                let opened = tokio::task::spawn_blocking(move || {
                    let changes: Vec<u8> =
                        stored.changes.into_iter().flat_map(|(_, b)| b).collect();
                    let (document, _) = doc::load(&stored.snapshot, &changes)?;
                    let replay = Replay::new(&document, key)?;
                    Ok::<_, OpenError>(Opened {
                        code,
                        version,
                        tokens,
                        doc: document,
                        replay,
                    })
                })
                .await
                .map_err(OpenError::from)??;
                let opened = Arc::new(opened);
                let mut kept = self.kept.lock().expect("not poisoned");
                kept.retain(|o| o.code != opened.code);
                kept.insert(0, opened.clone());
                kept.truncate(KEPT);
                opened
            }
        };
        let role = opened.reader(token, wanted)?;
        Ok((opened, role))
    }

    /// The timeline.
    pub fn timeline(&self, opened: &Opened, role: Role) -> Result<ReplayTimeline, Refusal> {
        opened
            .replay
            .timeline(role)
            .map_err(|e| OpenError::from(e).into())
    }

    /// The room after its first `n` changes, as `role` saw it.
    pub fn moment(&self, opened: &Opened, role: Role, n: usize) -> Result<ReplayMoment, Refusal> {
        let len = opened.replay.len();
        if n == 0 || n > len {
            return Err(refuse(
                ErrorCode::Invalid,
                format!("the session has changes 1 to {len}"),
            ));
        }
        let view = self.view(opened, role, n)?;
        Ok(ReplayMoment {
            seq: n as u64,
            at: opened.replay.steps()[n - 1].at,
            view,
        })
    }

    fn view(&self, opened: &Opened, role: Role, n: usize) -> Result<View, Refusal> {
        opened
            .replay
            .view_after(n, role, &self.public_url)
            .map_err(|e| OpenError::from(e).into())
    }

    /// The report, as `role` may read it.
    pub fn report(&self, opened: &Opened, role: Role) -> Result<Report, Refusal> {
        let len = opened.replay.len();
        let view = self.view(opened, role, len)?;
        let last = opened.replay.steps().last().map_or(0, |s| s.at);
        Ok(report::report(&view, role, last))
    }

    /// The report's cards and results as CSV.
    pub fn csv(&self, opened: &Opened, role: Role) -> Result<String, Refusal> {
        Ok(report::csv(&self.report(opened, role)?))
    }

    /// The raw automerge file, without pseudonyms.
    pub fn raw(&self, opened: &Opened) -> Result<Vec<u8>, Refusal> {
        export::raw(&opened.doc).map_err(|e| OpenError::from(e).into())
    }
}

impl Opened {
    /// The session's code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// Who the holder of `token` reads the session as: the facilitator; a replay link that is
    /// still open; a participant, for the report only, once the session ended and the
    /// facilitator shares it.
    fn reader(&self, token: &str, wanted: Wanted) -> Result<Role, Refusal> {
        let hash = secrets::hash_token(token);
        let bad = || {
            refuse::<Refusal>(
                ErrorCode::BadToken,
                "this link or token is not valid for this session",
            )
        };
        let (_, grant) = self
            .tokens
            .iter()
            .find(|(h, _)| *h == hash)
            .ok_or_else(bad)?;
        let end = self.replay.len();
        let state = self.replay.state_after(end).map_err(OpenError::from)?;
        match grant.role {
            Role::Facilitator => Ok(Role::Facilitator),
            Role::Replay => {
                let open = grant.link.as_deref().is_some_and(|l| {
                    crate::session::ids::parse_id('l', l)
                        .and_then(|l| state.method.replay_links.get(l))
                        .is_some_and(|l| l.revoked_at.is_none())
                });
                if open { Ok(Role::Replay) } else { Err(bad()) }
            }
            Role::Participant if wanted == Wanted::Report => {
                if state.fields.status == SessionStatus::Ended && state.method.share_report {
                    Ok(Role::Participant)
                } else {
                    Err(refuse(
                        ErrorCode::Forbidden,
                        "the report is shared once the session has ended, if the facilitator shares it",
                    ))
                }
            }
            Role::Participant | Role::Projector => Err(refuse(
                ErrorCode::Forbidden,
                "the replay is for the facilitator and replay links",
            )),
        }
    }
}

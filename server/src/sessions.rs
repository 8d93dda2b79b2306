//! Creating a session: its first document (by the session core's rules), its secrets, and its
//! links, stored under a join code nobody has yet.

use crate::error::{Refusal, StorageError, refuse};
use crate::secrets::{self, TokenGrant};
use crate::session::Record;
use crate::storage::{NewSession, SessionMeta, Storage};
use tafel_protocol::{CreateSession, ErrorCode, Millis, Role, SessionCreated};

/// Creates and stores a new session at `now`; `public_url` is the base of its links.
pub async fn create(
    storage: &Storage,
    public_url: &str,
    req: CreateSession,
    now: Millis,
) -> Result<SessionCreated, Refusal> {
    for _ in 0..8 {
        let code = secrets::new_code();
        let key = secrets::new_session_key();
        let record = Record::create(&req, code.clone(), now, key).map_err(|e| e.refusal())?;
        let facilitator_token = secrets::new_token();
        let projector_token = secrets::new_token();
        let new = NewSession {
            code: code.clone(),
            meta: SessionMeta {
                key: secrets::to_hex(&key),
                created_at: now,
            },
            snapshot: record.doc.save(),
            tokens: vec![
                (
                    secrets::hash_token(&facilitator_token),
                    TokenGrant {
                        role: Role::Facilitator,
                        participant: Some("p1".into()),
                        link: None,
                    },
                ),
                (
                    secrets::hash_token(&projector_token),
                    TokenGrant {
                        role: Role::Projector,
                        participant: None,
                        link: None,
                    },
                ),
            ],
        };
        match storage.create(new).await {
            Ok(()) => {
                tracing::info!(room = %code, "session created");
                return Ok(SessionCreated {
                    join_url: format!("{public_url}/j/{code}"),
                    facilitator_url: format!("{public_url}/f/{code}#{facilitator_token}"),
                    projector_url: format!("{public_url}/p/{code}#{projector_token}"),
                    qr_url: format!("{public_url}/api/sessions/{code}/qr.svg"),
                    code,
                    facilitator_token,
                    projector_token,
                });
            }
            Err(StorageError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(refuse(
        ErrorCode::Internal,
        "could not find a free session code; try again",
    ))
}

/// A session called "Test", created at time 1, for the room's and the registry's tests.
#[cfg(test)]
pub(crate) async fn for_test(storage: &Storage) -> SessionCreated {
    let req = CreateSession {
        title: "Test".into(),
        problem: String::new(),
        language: Default::default(),
        anonymous_cards: false,
        facilitator_name: None,
    };
    create(storage, "http://t", req, 1).await.unwrap()
}

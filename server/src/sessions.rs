//! Creating a session: its first document, its secrets, and its links.

use crate::cmd::text_of;
use crate::error::{Refusal, StorageError, refuse};
use crate::room::state::{Participant, SessionFields};
use crate::room::{doc, now_ms};
use crate::secrets;
use crate::storage::{NewSession, SessionMeta, Storage, TokenGrant};
use tafel_protocol::{
    CreateSession, ErrorCode, Language, Perspective, Role, SessionCreated, SessionStatus, limits,
};

/// Creates and stores a new session; `public_url` is the base of its links.
pub async fn create(
    storage: &Storage,
    public_url: &str,
    req: CreateSession,
) -> Result<SessionCreated, Refusal> {
    let title = text_of(&req.title, limits::TITLE_CHARS, "the title")?;
    let problem = text_of(&req.problem, limits::PROBLEM_CHARS, "the problem statement")?;
    let default_name = match req.language {
        Language::Nl => "Procesbegeleider",
        Language::En => "Facilitator",
    };
    let facilitator_name =
        crate::cmd::display_name(req.facilitator_name.as_deref().unwrap_or(default_name))?;
    let now = now_ms();
    for _ in 0..8 {
        let code = secrets::new_code();
        let fields = SessionFields {
            code: code.clone(),
            title: title.clone(),
            problem: problem.clone(),
            language: req.language,
            anonymous_cards: req.anonymous_cards,
            created_at: now,
            phase: 0,
            status: SessionStatus::Open,
        };
        let facilitator = Participant {
            name: facilitator_name.clone(),
            perspective: Perspective::Anders,
            role: Role::Facilitator,
            joined_at: now,
        };
        let document = doc::create(&fields, &facilitator)?;
        let facilitator_token = secrets::new_token();
        let projector_token = secrets::new_token();
        let new = NewSession {
            code: code.clone(),
            meta: SessionMeta {
                key: secrets::to_hex(&secrets::new_session_key()),
                created_at: now,
            },
            snapshot: document.save(),
            tokens: vec![
                (
                    secrets::hash_token(&facilitator_token),
                    TokenGrant {
                        role: Role::Facilitator,
                        participant: Some("p1".into()),
                    },
                ),
                (
                    secrets::hash_token(&projector_token),
                    TokenGrant {
                        role: Role::Projector,
                        participant: None,
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
            Err(StorageError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(refuse(
        ErrorCode::Internal,
        "could not find a free session code; try again",
    ))
}

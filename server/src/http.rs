//! The HTTP side: the API, the QR code, the embedded web client, and the WebSocket upgrade.
//! [`router`] is kept apart from serving so tests can call it directly.

use crate::cluster::forward;
use crate::connection::{self, ConnEnv};
use crate::error::{Refusal, refuse};
use crate::guard::JoinGuard;
use crate::registry::{Answer, Registry};
use crate::replays::{Opened, Replays, Wanted};
use crate::room::RoomMsg;
use crate::{secrets, sessions, web};
use axum::extract::rejection::JsonRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tafel_protocol::{CreateSession, ErrorCode, HttpError, MAX_FRAME_BYTES, SessionInfo};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The rooms.
    pub registry: Arc<Registry>,
    /// Wrong-code throttle.
    pub guard: Arc<JoinGuard>,
    /// Cancelled when the server stops.
    pub shutdown: CancellationToken,
    /// The WebSocket tasks, so shutdown can wait for their close frames.
    pub sockets: TaskTracker,
    /// Messages per second one connection may send.
    pub rate: u32,
    /// Rate buckets kept across a participant's reconnects.
    pub rates: Arc<crate::connection::RateBook>,
    /// Replays and reports, read from storage.
    pub replays: Arc<Replays>,
    /// Who may create sessions, and how fast.
    pub creation: Arc<crate::creation::Creation>,
    /// Connections per address not yet past their first request or their join.
    pub pending: Arc<crate::accept::PendingBook>,
}

/// The HTTP status that goes with a refusal's code: the one place that mapping lives.
fn status(code: ErrorCode) -> StatusCode {
    use ErrorCode::*;
    match code {
        SessionNotFound | UnknownCard | UnknownRound | UnknownParticipant | UnknownRule
        | UnknownReport | UnknownCheck | UnknownParty | UnknownCriterion | UnknownExperiment
        | UnknownReflection | UnknownLink => StatusCode::NOT_FOUND,
        TooManyAttempts | TooManySessions => StatusCode::TOO_MANY_REQUESTS,
        OrganiserKey => StatusCode::UNAUTHORIZED,
        StorageUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        Forbidden | BadToken => StatusCode::FORBIDDEN,
        Internal => StatusCode::INTERNAL_SERVER_ERROR,
        SessionLocked | SessionEnded | SessionFull | RoundOpen | RoundClosed | NoTurn
        | QueueEmpty | MakingRoom | FloorPaused | ReportClosed | Closed | AlreadyOpen => {
            StatusCode::CONFLICT
        }
        _ => StatusCode::BAD_REQUEST,
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (
            status(self.code),
            Json(HttpError {
                code: self.code,
                message: self.message,
            }),
        )
            .into_response()
    }
}

/// The server's routes.
pub fn router(app: AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/j/{code}", get(index))
        .route("/f/{code}", get(index))
        .route("/p/{code}", get(index))
        .route("/r/{code}", get(index))
        .route("/app/{*path}", get(asset))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .route(
            "/api/sessions",
            post(create_session).layer(middleware::from_fn(body_in_time)),
        )
        .route(
            "/api/sessions/{code}",
            get(session_info).delete(delete_session),
        )
        .route("/api/sessions/{code}/qr.svg", get(qr_code))
        .route("/api/sessions/{code}/replay", get(replay_timeline))
        .route("/api/sessions/{code}/replay/{n}", get(replay_moment))
        .route("/api/sessions/{code}/report", get(report_json))
        .route("/api/sessions/{code}/report.csv", get(report_csv))
        .route("/api/sessions/{code}/session.automerge", get(raw_export))
        .route("/ws", get(websocket))
        .fallback(not_found)
        .layer(middleware::map_response(security_headers))
        .with_state(app)
}

/// Reads a request's body within [`crate::accept::BODY_READ`]: a client that sends its
/// headers and then trickles (or withholds) the body is answered 408 and closed.
async fn body_in_time(req: axum::extract::Request, next: middleware::Next) -> Response {
    let (parts, body) = req.into_parts();
    let read = axum::body::to_bytes(body, 64 * 1024);
    match tokio::time::timeout(crate::accept::BODY_READ, read).await {
        Ok(Ok(bytes)) => {
            next.run(axum::extract::Request::from_parts(parts, bytes.into()))
                .await
        }
        Ok(Err(_)) => Refusal::new(ErrorCode::BadMessage, "the request body could not be read")
            .into_response(),
        Err(_) => {
            crate::metrics::http_timeout();
            let body = HttpError {
                code: ErrorCode::BadMessage,
                message: "the request body did not arrive in time".into(),
            };
            (
                StatusCode::REQUEST_TIMEOUT,
                [(header::CONNECTION, "close")],
                Json(body),
            )
                .into_response()
        }
    }
}

async fn not_found() -> Response {
    let body = HttpError {
        code: ErrorCode::BadMessage,
        message: "there is no page at this address".into(),
    };
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

/// No inline script, no other origin, no framing, no sniffing, no referrer (links hold tokens
/// after `#`, which browsers never send, but the path still names the session).
async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// Prometheus scrapes this: counts only, never a room code, a name or an address.
async fn metrics() -> Response {
    (
        [
            (header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        crate::metrics::render(),
    )
        .into_response()
}

async fn index(headers: HeaderMap) -> Response {
    web::serve("index.html", &headers)
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    web::serve(&path, &headers)
}

async fn create_session(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<CreateSession>, JsonRejection>,
) -> Response {
    let (ip, _) = client(&app, peer, &headers);
    let key = bearer(&headers);
    if let Err(r) = organiser_key(&app, ip, key.as_deref()).await {
        return r.into_response();
    }
    let Json(req) = match body {
        Ok(body) => body,
        Err(e) => return Refusal::new(ErrorCode::BadMessage, e.body_text()).into_response(),
    };
    if let Err(r) = app.creation.take(ip) {
        return r.into_response();
    }
    let registry = &app.registry;
    let (storage, public_url) = (registry.storage(), &registry.config().public_url);
    match sessions::create(storage, public_url, req, crate::room::now_ms()).await {
        Ok(created) => (StatusCode::CREATED, Json(created)).into_response(),
        Err(r) => r.into_response(),
    }
}

/// Deletes a session for good, for its facilitator (token in `Authorization: Bearer …`): the
/// room deletes it from storage and closes its connections; its code, links and tokens answer
/// as unknown from then on.
async fn delete_session(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Response {
    let (ip, _) = client(&app, peer, &headers);
    let token = bearer(&headers).unwrap_or_default();
    let attempt = match app.guard.begin_when_free(ip).await {
        Ok(attempt) => attempt,
        Err(r) => return r.into_response(),
    };
    let code = match app.replays.facilitator(&code, &token).await {
        Err(r) if matches!(r.code, ErrorCode::SessionNotFound | ErrorCode::BadToken) => {
            attempt.fail().await;
            return r.into_response();
        }
        Err(r) => return r.into_response(),
        Ok(code) => {
            drop(attempt);
            code
        }
    };
    match app
        .registry
        .ask(&code, |reply| RoomMsg::Delete { reply })
        .await
    {
        Ok(Answer::Here((), _)) => {}
        // Another node runs it: deleting it in the database takes its lease too, so that node
        // stops the room and closes its connections at its next renewal.
        Ok(Answer::Elsewhere(_)) => {
            if let Err(e) = app.registry.storage().delete(&code).await {
                tracing::error!(error = %e, "could not delete a session");
                return Refusal::new(ErrorCode::Internal, "the session could not be deleted")
                    .into_response();
            }
        }
        Err(r) if r.code == ErrorCode::SessionNotFound => {}
        Err(r) => return r.into_response(),
    }
    app.replays.forget(&code);
    tracing::info!(room = %code, "session deleted by its facilitator");
    StatusCode::NO_CONTENT.into_response()
}

/// The token in `Authorization: Bearer …`, if any.
fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_owned())
}

/// Checks the organiser key when the server has one; a wrong key counts as a wrong code.
async fn organiser_key(app: &AppState, ip: IpAddr, given: Option<&str>) -> Result<(), Refusal> {
    use crate::creation::KeyCheck;
    if !app.creation.needs_key() {
        return Ok(());
    }
    let attempt = app.guard.begin_when_free(ip).await?;
    match app.creation.check_key(given) {
        KeyCheck::Fine => Ok(()),
        KeyCheck::Missing => Err(refuse(
            ErrorCode::OrganiserKey,
            "starting a session on this server needs the organiser key",
        )),
        KeyCheck::Wrong => {
            attempt.fail().await;
            Err(refuse(
                ErrorCode::OrganiserKey,
                "this is not the organiser key of this server",
            ))
        }
    }
}

/// The client's address: the phone's own when another node of the cluster passed the
/// request on (and says so with the nodes' secret), and whether it did.
fn client(app: &AppState, peer: SocketAddr, headers: &HeaderMap) -> (IpAddr, bool) {
    let keeper = app.registry.keeper().map(|k| k.node());
    match forward::vouched_peer(keeper, headers) {
        Some(ip) => (ip, true),
        None => (peer.ip(), false),
    }
}

/// Looks a session up by code for someone not yet joined, with the wrong-code throttle. A
/// session another node runs is looked up there (its room is not loaded here).
async fn lookup(
    app: &AppState,
    (peer, forwarded): (IpAddr, bool),
    code: &str,
) -> Result<SessionInfo, Refusal> {
    let attempt = app.guard.begin_when_free(peer).await?;
    let result = match secrets::normalize_code(code) {
        Some(code) => look_up(app, peer, forwarded, &code).await,
        None => Err(refuse(
            ErrorCode::SessionNotFound,
            "there is no session with this code",
        )),
    };
    if matches!(&result, Err(r) if r.code == ErrorCode::SessionNotFound) {
        attempt.fail().await;
    }
    result
}

/// Asks the session's room, here or at the node that owns it.
async fn look_up(
    app: &AppState,
    peer: IpAddr,
    forwarded: bool,
    code: &str,
) -> Result<SessionInfo, Refusal> {
    let moved = || refuse(ErrorCode::Internal, "the session is moving; try again");
    let mut give_up = None;
    loop {
        let owner = match app
            .registry
            .ask(code, |reply| RoomMsg::Info { reply })
            .await?
        {
            Answer::Here(info, _) => return Ok(info),
            Answer::Elsewhere(_) if forwarded => return Err(moved()),
            Answer::Elsewhere(owner) => owner,
        };
        let node = app.registry.keeper().expect("a keeper").node();
        crate::metrics::forwarded_lookup();
        match forward::lookup(node, &owner, &format!("/api/sessions/{code}"), peer).await {
            Ok((200, body)) => {
                return serde_json::from_slice(&body).map_err(|e| {
                    tracing::error!(error = %e, "the owner's answer to a lookup");
                    moved()
                });
            }
            Ok((_, body)) => {
                let e: HttpError = serde_json::from_slice(&body).map_err(|_| moved())?;
                return Err(Refusal::new(e.code, e.message));
            }
            Err(e) => {
                tracing::debug!(owner = %owner.addr, error = %e.0, "the owner cannot be reached");
                let give_up = *give_up.get_or_insert_with(|| {
                    tokio::time::Instant::now() + node.lease + crate::connection::OWNER_GRACE
                });
                if !forward::wait_for(&owner, give_up).await {
                    return Err(moved());
                }
            }
        }
    }
}

async fn session_info(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Response {
    match lookup(&app, client(&app, peer, &headers), &code).await {
        Ok(info) => Json(info).into_response(),
        Err(r) => r.into_response(),
    }
}

async fn qr_code(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Response {
    let client = client(&app, peer, &headers);
    let info = match lookup(&app, client, code.trim_end_matches(".svg")).await {
        Ok(info) => info,
        Err(r) => return r.into_response(),
    };
    let url = format!("{}/j/{}", app.registry.config().public_url, info.code);
    match qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M) {
        Ok(qr) => {
            let svg = qr
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(256, 256)
                .dark_color(qrcode::render::svg::Color("#000000"))
                .light_color(qrcode::render::svg::Color("#ffffff"))
                .build();
            (
                [
                    (header::CONTENT_TYPE, "image/svg+xml"),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                svg,
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "QR code failed");
            Refusal::new(ErrorCode::Internal, "could not make the QR code").into_response()
        }
    }
}

/// Opens a session's history for the holder of the token in `Authorization: Bearer …` (never
/// in the address, which logs and proxies keep), with the wrong-code throttle around it.
async fn history(
    app: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    code: &str,
    wanted: Wanted,
) -> Result<(Arc<Opened>, tafel_protocol::Role), Refusal> {
    let token = bearer(headers).unwrap_or_default();
    let attempt = app.guard.begin_when_free(peer.ip()).await?;
    let result = app.replays.open(code, &token, wanted).await;
    if matches!(&result, Err(r) if matches!(r.code, ErrorCode::SessionNotFound | ErrorCode::BadToken))
    {
        attempt.fail().await;
    }
    result
}

/// A JSON answer that is never cached (it holds what only this reader may see).
fn private<T: serde::Serialize>(body: Result<T, Refusal>) -> Response {
    match body {
        Ok(body) => ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response(),
        Err(r) => r.into_response(),
    }
}

async fn replay_timeline(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    let opened = history(&app, peer, &headers, &code, Wanted::Replay).await;
    private(opened.and_then(|(o, role)| app.replays.timeline(&o, role)))
}

async fn replay_moment(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((code, n)): Path<(String, usize)>,
    headers: HeaderMap,
) -> Response {
    let opened = history(&app, peer, &headers, &code, Wanted::Replay).await;
    private(opened.and_then(|(o, role)| app.replays.moment(&o, role, n)))
}

async fn report_json(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    let opened = history(&app, peer, &headers, &code, Wanted::Report).await;
    private(opened.and_then(|(o, role)| app.replays.report(&o, role)))
}

/// A download: its type, its file name, never cached.
fn download(body: Vec<u8>, content_type: &'static str, file: String) -> Response {
    let disposition = format!("attachment; filename=\"{file}\"");
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
        ],
        body,
    )
        .into_response()
}

async fn report_csv(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    let opened = history(&app, peer, &headers, &code, Wanted::Report).await;
    match opened.and_then(|(o, role)| Ok((app.replays.csv(&o, role)?, o))) {
        Ok((csv, o)) => download(
            csv.into_bytes(),
            "text/csv; charset=utf-8",
            format!("tafel-{}.csv", o.code()),
        ),
        Err(r) => r.into_response(),
    }
}

async fn raw_export(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    let opened = history(&app, peer, &headers, &code, Wanted::Replay).await;
    match opened.and_then(|(o, _)| Ok((app.replays.raw(&o)?, o))) {
        Ok((raw, o)) => download(
            raw,
            "application/octet-stream",
            format!("tafel-{}.automerge", o.code()),
        ),
        Err(r) => r.into_response(),
    }
}

async fn websocket(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    unjoined: Option<axum::Extension<crate::accept::Unjoined>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let (peer, forwarded) = client(&app, peer, &headers);
    let unjoined = unjoined.map(|u| u.0).unwrap_or_default();
    if forwarded {
        // Another node passes many phones on from its one address; each counted at its door.
        unjoined.joined();
    }
    let env = ConnEnv {
        unjoined,
        registry: app.registry.clone(),
        guard: app.guard.clone(),
        peer,
        shutdown: app.shutdown.clone(),
        rate: app.rate,
        rates: app.rates.clone(),
        forwarded,
    };
    let sockets = app.sockets.clone();
    upgrade
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(8 * 1024)
        .max_write_buffer_size(64 * 1024 * 1024)
        .on_upgrade(move |socket| sockets.track_future(connection::serve(socket, env)))
}

//! Bad input gets a structured error, changes nothing, and the connection goes on; oversized
//! frames and floods are cut off with the proper close code; wrong codes are slowed down.

use std::time::{Duration, Instant};
use tafel_protocol::*;
use tafel_tests::*;

async fn still_alive(c: &mut Client) -> anyhow::Result<()> {
    c.send(&ClientMessage::Ping).await?;
    loop {
        if let ServerMessage::Pong = c.recv().await? {
            return Ok(());
        }
    }
}

async fn error_code(c: &mut Client) -> anyhow::Result<(Option<String>, ErrorCode)> {
    loop {
        if let ServerMessage::Error {
            id, code, message, ..
        } = c.recv().await?
        {
            assert!(!message.is_empty(), "every error explains itself");
            return Ok((id, code));
        }
    }
}

#[tokio::test]
async fn each_bad_message_gets_a_structured_error_and_the_connection_stays() -> anyhow::Result<()> {
    let server = Server::start()?;
    let s = server.create_session("Rommel", false).await?;
    let mut c = server.client().await?;

    c.send_raw(r#"{"type":"cmd","id":"early","cmd":{"type":"lock"}}"#)
        .await?;
    assert_eq!(
        error_code(&mut c).await?,
        (Some("early".into()), ErrorCode::NotJoined)
    );
    c.send_raw(&format!(
        r#"{{"type":"join","v":2,"code":"{}","name":"A","perspective":"client"}}"#,
        s.code
    ))
    .await?;
    assert_eq!(error_code(&mut c).await?.1, ErrorCode::UnsupportedVersion);
    c.join(&s.code, "Anna", Perspective::Client).await?;
    let cases: &[(&str, Option<&str>, ErrorCode)] = &[
        ("{this is not json", None, ErrorCode::BadMessage),
        (r#"{"type":"dance"}"#, None, ErrorCode::BadMessage),
        (
            r#"{"type":"cmd","id":"u1","cmd":{"type":"launch_rocket"}}"#,
            Some("u1"),
            ErrorCode::UnknownCommand,
        ),
        (
            r#"{"type":"cmd","id":"u2","cmd":{"type":"add_card","kind":"idea"}}"#,
            Some("u2"),
            ErrorCode::BadMessage,
        ),
        (
            r#"{"type":"cmd","id":"u3","cmd":{"type":"add_card","text":"","kind":"idea"}}"#,
            Some("u3"),
            ErrorCode::Invalid,
        ),
        (
            r#"{"type":"cmd","id":"","cmd":{"type":"add_card","text":"x","kind":"idea"}}"#,
            Some(""),
            ErrorCode::Invalid,
        ),
        (
            r#"{"type":"cmd","id":"u4","cmd":{"type":"set_phase","phase":2}}"#,
            Some("u4"),
            ErrorCode::Forbidden,
        ),
        (
            r#"{"type":"cmd","id":"u5","cmd":{"type":"vote","round":"r7","card":"k1"}}"#,
            Some("u5"),
            ErrorCode::UnknownRound,
        ),
        (
            r#"{"type":"cmd","id":"u6","cmd":{"type":"edit_card","card":"k404","text":"x"}}"#,
            Some("u6"),
            ErrorCode::UnknownCard,
        ),
    ];
    for (frame, id, code) in cases {
        c.send_raw(frame).await?;
        assert_eq!(
            error_code(&mut c).await?,
            (id.map(str::to_owned), *code),
            "{frame}"
        );
        still_alive(&mut c).await?;
    }
    let long = "x".repeat(501);
    c.send_raw(&format!(
        r#"{{"type":"cmd","id":"u7","cmd":{{"type":"add_card","text":"{long}","kind":"idea"}}}}"#
    ))
    .await?;
    assert_eq!(error_code(&mut c).await?.1, ErrorCode::Invalid);
    c.join(&s.code, "Nog eens", Perspective::Client).await?;
    assert_eq!(
        c.view().participants.len(),
        2,
        "a second join on one connection is refused"
    );
    assert!(c.frames.last().unwrap().contains("already_joined"));
    assert!(c.view().cards.is_empty(), "no bad message changed anything");
    still_alive(&mut c).await?;
    Ok(())
}

#[tokio::test]
async fn an_oversized_frame_closes_with_1009() -> anyhow::Result<()> {
    let server = Server::start()?;
    let s = server.create_session("Te groot", false).await?;
    let mut c = server.client().await?;
    c.join(&s.code, "Anna", Perspective::Client).await?;
    let huge = format!(
        r#"{{"type":"cmd","id":"big","cmd":{{"type":"add_card","text":"{}","kind":"idea"}}}}"#,
        "x".repeat(MAX_FRAME_BYTES)
    );
    c.send_raw(&huge).await?;
    assert_eq!(c.closed().await?, 1009);
    // The room goes on.
    let mut other = server.client().await?;
    assert!(matches!(
        other.join(&s.code, "Bram", Perspective::Naaste).await?,
        ServerMessage::Welcome { .. }
    ));
    Ok(())
}

#[tokio::test]
async fn a_flooding_client_is_closed_with_1008_and_the_room_goes_on() -> anyhow::Result<()> {
    let server = Server::start()?;
    let s = server.create_session("Vloed", false).await?;
    let mut fac = server.client().await?;
    fac.resume(&s.code, &s.facilitator_token).await?;
    let mut flood = server.client().await?;
    flood.join(&s.code, "Veel", Perspective::Anders).await?;
    for _ in 0..500 {
        if flood.send(&ClientMessage::Ping).await.is_err() {
            break;
        }
    }
    assert_eq!(flood.closed().await?, 1008);
    fac.ok(Command::SetPhase { phase: 1 }).await?;
    Ok(())
}

#[tokio::test]
async fn a_flooder_that_comes_straight_back_gets_no_fresh_burst() -> anyhow::Result<()> {
    // 5 messages a second, bursts of 15.
    let server = Server::start_with(&["--max-messages-per-sec", "5"])?;
    let s = server.create_session("Vloed", false).await?;
    let mut flood = server.client().await?;
    flood.join(&s.code, "Veel", Perspective::Anders).await?;
    let token = flood.token.clone().expect("a join hands out a token");
    for _ in 0..100 {
        if flood.send(&ClientMessage::Ping).await.is_err() {
            break;
        }
    }
    assert_eq!(flood.closed().await?, 1008);

    // Twelve messages at once fit a fresh burst: someone who did not flood sends them fine.
    let mut calm = server.client().await?;
    calm.join(&s.code, "Kalm", Perspective::Client).await?;
    for _ in 0..12 {
        calm.send(&ClientMessage::Ping).await?;
    }
    still_alive(&mut calm).await?;

    // The flooder resumes at once and tries the same: its bucket is as empty as it left it.
    let mut back = server.client().await?;
    back.resume(&s.code, &token).await?;
    for _ in 0..12 {
        if back.send(&ClientMessage::Ping).await.is_err() {
            break;
        }
    }
    assert_eq!(back.closed().await?, 1008);
    still_alive(&mut calm).await?;
    Ok(())
}

#[tokio::test]
async fn wrong_join_codes_are_slowed_down_then_refused() -> anyhow::Result<()> {
    let server = Server::start()?;
    let mut c = server.client().await?;
    let mut delays = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let welcome = c.join("ZZZZZZ", "Gok", Perspective::Anders).await?;
        assert!(matches!(
            welcome,
            ServerMessage::Error {
                code: ErrorCode::SessionNotFound,
                ..
            }
        ));
        delays.push(started.elapsed());
    }
    assert!(
        delays[0] >= Duration::from_millis(180),
        "first wrong code waits: {delays:?}"
    );
    assert!(
        delays[2] > delays[0] + Duration::from_millis(300),
        "each wrong code waits longer: {delays:?}"
    );
    // Over HTTP too, and the limit is per address, shared by both doors.
    for _ in 3..10 {
        let res = server.http("GET", "/api/sessions/ZZZZZZ", None).await?;
        assert_eq!(res.status, 404);
    }
    let res = server.http("GET", "/api/sessions/ZZZZZZ", None).await?;
    assert_eq!(res.status, 429);
    assert!(res.body.contains("too_many_attempts"));
    assert!(matches!(
        c.join("ZZZZZZ", "Gok", Perspective::Anders).await?,
        ServerMessage::Error {
            code: ErrorCode::TooManyAttempts,
            ..
        }
    ));
    still_alive(&mut c).await?;
    Ok(())
}

#[tokio::test]
async fn http_api_answers_and_refuses_in_json() -> anyhow::Result<()> {
    let server = Server::start()?;
    assert_eq!(server.http("GET", "/healthz", None).await?.body, "ok");
    let bad = server
        .http("POST", "/api/sessions", Some(r#"{"title":""}"#))
        .await?;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains(r#""code":"invalid""#), "{}", bad.body);
    let broken = server.http("POST", "/api/sessions", Some("{nope")).await?;
    assert_eq!(broken.status, 400);
    assert!(broken.body.contains("bad_message"));

    let s = server.create_session("Publiek", false).await?;
    assert!(
        s.facilitator_url
            .ends_with(&format!("/f/{}#{}", s.code, s.facilitator_token))
    );
    let info = server
        .http(
            "GET",
            &format!("/api/sessions/{}", s.code.to_lowercase()),
            None,
        )
        .await?;
    let info: SessionInfo = serde_json::from_str(&info.body)?;
    assert_eq!(
        (info.title.as_str(), info.status),
        ("Publiek", SessionStatus::Open)
    );

    let qr = server
        .http("GET", &format!("/api/sessions/{}/qr.svg", s.code), None)
        .await?;
    assert_eq!(qr.status, 200);
    assert_eq!(qr.header("content-type"), Some("image/svg+xml"));
    assert!(
        qr.body.contains("<svg") && qr.body.contains("<path"),
        "an SVG with modules"
    );

    let page = server.http("GET", &format!("/j/{}", s.code), None).await?;
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'self'")
            && csp.contains("script-src 'self'")
            && !csp.contains("unsafe-inline")
    );
    assert_eq!(server.http("GET", "/nope", None).await?.status, 404);
    Ok(())
}

//! Hardening, end to end against the real binary: guessing codes from many addresses, bursts,
//! sockets held open, protocol errors.

use anyhow::{Context, Result};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tafel_protocol::{ErrorCode, Perspective, ServerMessage};
use tafel_tests::{Scrape, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A TCP connection to `server` from the loopback address `from` (each "client" its own).
async fn connect_from(from: IpAddr, server: SocketAddr) -> Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    Ok(socket.connect(server).await?)
}

/// `GET path` from the address `from`; the answer's status.
async fn get_from(from: IpAddr, server: SocketAddr, path: &str) -> Result<u16> {
    let mut tcp = connect_from(from, server).await?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n\r\n");
    tcp.write_all(req.as_bytes()).await?;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(120), tcp.read_to_end(&mut raw)).await??;
    let text = String::from_utf8_lossy(&raw);
    text.split(' ')
        .nth(1)
        .context("a status line")?
        .parse()
        .context("a status")
}

fn loopback(n: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, n])
}

#[tokio::test]
async fn a_burst_of_wrong_codes_from_one_address_has_exactly_ten_checked() -> Result<()> {
    let server = Server::start()?;
    let from = loopback(21);
    let burst: Vec<_> = (0..29)
        .map(|_| tokio::spawn(get_from(from, server.addr, "/api/sessions/ZZZZZZ")))
        .collect();
    let mut statuses = Vec::new();
    for b in burst {
        statuses.push(b.await??);
    }
    let checked = statuses.iter().filter(|s| **s == 404).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused), (10, 19), "{statuses:?}");
    Ok(())
}

#[tokio::test]
async fn a_wrong_code_storm_from_many_addresses_keeps_the_server_wide_pace() -> Result<()> {
    // 20 wrong answers a second server-wide (after a burst of 20), so the test is quick.
    let per_minute = 1200;
    let server = Server::start_with(&["--wrong-codes-per-minute", "1200"])?;
    let created = server.create_session("Storm", false).await?;
    let started = Instant::now();
    // Fifteen addresses, each ten wrong codes at once: 150 wrong answers to give.
    let storm: Vec<_> = (0..150)
        .map(|i| {
            let (from, addr) = (loopback(30 + (i / 10) as u8), server.addr);
            tokio::spawn(async move {
                let status = get_from(from, addr, "/api/sessions/ZZZZZZ").await?;
                anyhow::ensure!(status == 404, "a wrong code answers 404, not {status}");
                Ok(started.elapsed())
            })
        })
        .collect();
    // A phone from an address of its own, with the right code, while the storm is answered.
    let mut phone = server.client().await?;
    let welcome = phone
        .join(&created.code, "Anna", Perspective::Medewerker)
        .await?;
    assert!(
        matches!(welcome, ServerMessage::Welcome { .. }),
        "{welcome:?}"
    );
    let welcomed = started.elapsed();
    let mut answered = Vec::new();
    for s in storm {
        answered.push(s.await??);
    }
    answered.sort();
    let interval = Duration::from_secs(60) / per_minute;
    for (k, at) in answered.iter().enumerate() {
        let earliest = interval * (k as u32 + 1).saturating_sub(20);
        assert!(
            *at >= earliest,
            "wrong answer {k} came after {at:?}, before the pace allows ({earliest:?})"
        );
    }
    let wrong_before = answered.iter().filter(|at| **at < welcomed).count();
    assert!(
        wrong_before < answered.len(),
        "the right code got in while wrong ones still waited ({wrong_before} of {} answered first)",
        answered.len()
    );
    Ok(())
}

#[tokio::test]
async fn a_half_sent_request_is_closed_within_its_limit() -> Result<()> {
    let server = Server::start()?;
    let mut tcp = TcpStream::connect(server.addr).await?;
    tcp.write_all(b"GET /api/sessions/ABCDEF HTTP/1.1\r\nHost: tafel\r\n")
        .await?;
    let started = Instant::now();
    let mut rest = Vec::new();
    // The limit is 5 s; a generous bound, not a measurement.
    let read = tokio::time::timeout(Duration::from_secs(20), tcp.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "still open after 20 s");
    assert!(started.elapsed() < Duration::from_secs(15));
    let scrape = Scrape::of(&server).await?;
    assert!(scrape.get("tafel_http_timeouts_total") >= 1.0);
    Ok(())
}

#[tokio::test]
async fn an_address_holds_at_most_a_hundred_pending_connections() -> Result<()> {
    let server = Server::start()?;
    let from = loopback(60);
    let mut held = Vec::new();
    for _ in 0..100 {
        held.push(connect_from(from, server.addr).await?);
    }
    // The hundred-and-first is closed at once, without an answer, even with a whole request.
    let mut extra = connect_from(from, server.addr).await?;
    extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: tafel\r\nConnection: close\r\n\r\n")
        .await?;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), extra.read_to_end(&mut answer)).await?;
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    // Another address is served as usual.
    assert_eq!(get_from(loopback(61), server.addr, "/healthz").await?, 200);
    let scrape = Scrape::of(&server).await?;
    assert!(scrape.get(r#"tafel_refused_total{reason="pending_limit"}"#) >= 1.0);
    assert!(scrape.get("tafel_pending_connections") >= 100.0);
    drop(held);
    Ok(())
}

#[tokio::test]
async fn a_websocket_that_never_joins_is_closed() -> Result<()> {
    let server = Server::start()?;
    let mut idle = server.client().await?;
    let started = Instant::now();
    // The limit is 10 s: waited for with room to spare (the test's own `WAIT` is 10 s too).
    assert_eq!(idle.closed_within(Duration::from_secs(20)).await?, 1008);
    assert!(started.elapsed() < Duration::from_secs(20));
    let scrape = Scrape::of(&server).await?;
    assert!(scrape.get(r#"tafel_connections_closed_total{reason="join_timeout"}"#) >= 1.0);
    Ok(())
}

/// Opens a WebSocket by hand and sends `frame` as it is; returns the close code the server
/// answers with (`None` when the socket ends without a close frame).
async fn close_code_for(server: &Server, frame: &[u8]) -> Result<Option<u16>> {
    let mut tcp = TcpStream::connect(server.addr).await?;
    let upgrade = format!(
        "GET /ws HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        server.addr
    );
    tcp.write_all(upgrade.as_bytes()).await?;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8];
        tcp.read_exact(&mut byte).await?;
        head.push(byte[0]);
    }
    anyhow::ensure!(head.starts_with(b"HTTP/1.1 101"), "no upgrade");
    tcp.write_all(frame).await?;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), tcp.read_to_end(&mut answer)).await??;
    // A server frame is unmasked: opcode 8 is a close, its payload starts with the code.
    Ok(match answer.as_slice() {
        [0x88, len, hi, lo, ..] if *len >= 2 => Some(u16::from_be_bytes([*hi, *lo])),
        _ => None,
    })
}

/// A client frame: the first byte as given, masked with a fixed key.
fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let key = [1u8, 2, 3, 4];
    let mut f = vec![first, 0x80 | payload.len() as u8];
    f.extend(key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

#[tokio::test]
async fn protocol_errors_close_with_the_code_rfc_6455_names() -> Result<()> {
    let server = Server::start()?;
    let cases: [(&str, Vec<u8>, u16); 6] = [
        ("reserved bits", frame(0x80 | 0x40 | 0x1, b"{}"), 1002),
        ("unknown opcode", frame(0x83, b"{}"), 1002),
        ("stray continuation", frame(0x80, b"{}"), 1002),
        ("fragmented ping", frame(0x09, b""), 1002),
        ("unmasked frame", vec![0x81, 2, b'{', b'}'], 1002),
        ("invalid UTF-8", frame(0x81, &[0xff, 0xfe, 0x41]), 1007),
    ];
    for (what, bytes, code) in cases {
        assert_eq!(close_code_for(&server, &bytes).await?, Some(code), "{what}");
    }
    // The server goes on as usual.
    let mut c = server.client().await?;
    let welcome = c.join("ZZZZZZ", "Gok", Perspective::Anders).await?;
    assert!(matches!(
        welcome,
        ServerMessage::Error {
            code: ErrorCode::SessionNotFound,
            ..
        }
    ));
    Ok(())
}

const NEW_SESSION: &str =
    r#"{"title":"Zorg thuis","problem":"","language":"nl","anonymous_cards":false}"#;

#[tokio::test]
async fn creating_sessions_beyond_the_limits_is_refused_with_429() -> Result<()> {
    // The defaults, given as flags (the harness raises them for every other test).
    let server = Server::start_with(&[
        "--sessions-per-address-per-hour",
        "60",
        "--sessions-per-hour",
        "600",
    ])?;
    let mut statuses = Vec::new();
    let mut refused = None;
    for _ in 0..300 {
        let res = server
            .http("POST", "/api/sessions", Some(NEW_SESSION))
            .await?;
        if res.status == 429 && refused.is_none() {
            refused = Some(res.body.clone());
        }
        statuses.push(res.status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        10,
        "a burst of ten"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 290);
    let body = refused.context("a refusal")?;
    assert!(body.contains(r#""code":"too_many_sessions""#), "{body}");
    assert!(body.contains("from this address"), "{body}");
    // Another address may still create, until the server's own limit: 100 at once.
    let mut server_wide = 0;
    for n in 0..100u8 {
        let from = loopback(100 + n / 10);
        let mut tcp = connect_from(from, server.addr).await?;
        let req = format!(
            "POST /api/sessions HTTP/1.1\r\nHost: tafel\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{NEW_SESSION}",
            NEW_SESSION.len()
        );
        tcp.write_all(req.as_bytes()).await?;
        let mut raw = Vec::new();
        tcp.read_to_end(&mut raw).await?;
        let text = String::from_utf8_lossy(&raw);
        if text.starts_with("HTTP/1.1 429") {
            assert!(text.contains("on this server"), "{text}");
            server_wide += 1;
        }
    }
    assert_eq!(
        server_wide, 10,
        "the server's burst of 100 is used up after 90 more"
    );
    let scrape = Scrape::of(&server).await?;
    assert_eq!(
        scrape.get(r#"tafel_refused_total{reason="sessions_per_address"}"#),
        290.0
    );
    Ok(())
}

#[tokio::test]
async fn with_an_organiser_key_creating_needs_it() -> Result<()> {
    let server = Server::start_with(&["--organiser-key", "koffie-en-taart"])?;
    let without = server
        .http("POST", "/api/sessions", Some(NEW_SESSION))
        .await?;
    assert_eq!(without.status, 401);
    assert!(
        without.body.contains(r#""code":"organiser_key""#),
        "{}",
        without.body
    );
    let wrong = server
        .http_with_token("POST", "/api/sessions", Some(NEW_SESSION), "thee")
        .await?;
    assert_eq!(wrong.status, 401);
    assert!(
        wrong.body.contains("not the organiser key"),
        "{}",
        wrong.body
    );
    let right = server
        .http_with_token(
            "POST",
            "/api/sessions",
            Some(NEW_SESSION),
            "koffie-en-taart",
        )
        .await?;
    assert_eq!(right.status, 201, "{}", right.body);
    // Joining needs no key.
    let created: tafel_protocol::SessionCreated = serde_json::from_str(&right.body)?;
    let mut phone = server.client().await?;
    let welcome = phone
        .join(&created.code, "Anna", Perspective::Naaste)
        .await?;
    assert!(matches!(welcome, ServerMessage::Welcome { .. }));
    Ok(())
}

#[tokio::test]
async fn a_deleted_session_is_gone_for_everyone() -> Result<()> {
    let server = Server::start()?;
    let created = server.create_session("Weg ermee", false).await?;
    let keep = server.create_session("Blijft", false).await?;
    let mut facilitator = server.client().await?;
    facilitator
        .resume(&created.code, &created.facilitator_token)
        .await?;
    let mut phone = server.client().await?;
    phone
        .join(&created.code, "Anna", Perspective::Medewerker)
        .await?;
    let marker = "Alleen-in-deze-sessie-7f3a";
    phone.ok(tafel_tests::idea(marker)).await?;
    let token = phone.token.clone().context("a token")?;
    let path = format!("/api/sessions/{}", created.code);
    let before = std::fs::read(server.data_dir().join("tafel.redb"))?;
    assert!(
        before.windows(marker.len()).any(|w| w == marker.as_bytes()),
        "the card's text is in the file before"
    );
    // Someone else's token may not delete it; the facilitator's may.
    let by_phone = server
        .http_with_token("DELETE", &path, None, &token)
        .await?;
    assert_eq!(by_phone.status, 403, "{}", by_phone.body);
    let deleted = server
        .http_with_token("DELETE", &path, None, &created.facilitator_token)
        .await?;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    // Open connections are closed; coming back, the code and every token answer as unknown.
    phone.closed().await?;
    facilitator.closed().await?;
    assert_eq!(server.http("GET", &path, None).await?.status, 404);
    let mut again = server.client().await?;
    let answer = again.resume(&created.code, &token).await?;
    assert!(
        matches!(
            answer,
            ServerMessage::Error {
                code: ErrorCode::SessionNotFound,
                ..
            }
        ),
        "{answer:?}"
    );
    let report = server
        .get_with_token(&format!("{path}/replay"), &created.facilitator_token)
        .await?;
    assert_eq!(report.status, 404);
    let twice = server
        .http_with_token("DELETE", &path, None, &created.facilitator_token)
        .await?;
    assert_eq!(twice.status, 404);
    // The other session is untouched, and the file holds none of the deleted one's bytes.
    assert_eq!(
        server
            .http("GET", &format!("/api/sessions/{}", keep.code), None)
            .await?
            .status,
        200
    );
    let file = std::fs::read(server.data_dir().join("tafel.redb"))?;
    let holds = |needle: &[u8]| file.windows(needle.len()).any(|w| w == needle);
    assert!(
        !holds(marker.as_bytes()),
        "the card's text is still in the file"
    );
    assert!(
        !holds(created.code.as_bytes()),
        "the code is still in the file"
    );
    Ok(())
}

#[tokio::test]
async fn retention_deletes_exactly_the_sessions_ended_longer_ago_than_its_age() -> Result<()> {
    // 0.00005 days = 4.32 s, so the test is quick; the server checks every quarter of it.
    let age = Duration::from_secs_f64(0.00005 * 86_400.0);
    let server = Server::start_with(&["--delete-ended-after-days", "0.00005"])?;
    let (old, later, open) = (
        server.create_session("Lang geleden", false).await?,
        server.create_session("Net klaar", false).await?,
        server.create_session("Loopt nog", false).await?,
    );
    let mut facilitator = server.client().await?;
    facilitator
        .resume(&old.code, &old.facilitator_token)
        .await?;
    facilitator.ok(tafel_protocol::Command::End).await?;
    let ended = Instant::now();
    // Looked up until it is gone (a found session is no wrong code).
    let path = format!("/api/sessions/{}", old.code);
    let gone = loop {
        let status = server.http("GET", &path, None).await?.status;
        if status != 200 {
            break status;
        }
        anyhow::ensure!(ended.elapsed() < Duration::from_secs(60), "never deleted");
        // A poll's pace, not a wait for something to have happened.
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(gone, 404);
    assert!(
        ended.elapsed() + Duration::from_millis(500) >= age,
        "deleted after {:?}, before its age",
        ended.elapsed()
    );
    assert_eq!(
        facilitator.closed().await?,
        1013,
        "its connection is closed"
    );
    // One that has just ended, and one still running, stay.
    let mut other = server.client().await?;
    other.resume(&later.code, &later.facilitator_token).await?;
    other.ok(tafel_protocol::Command::End).await?;
    for kept in [&later, &open] {
        let status = server
            .http("GET", &format!("/api/sessions/{}", kept.code), None)
            .await?
            .status;
        assert_eq!(status, 200, "{} was deleted", kept.code);
    }
    Ok(())
}

//! What an operator sees: `GET /metrics` counts exactly what happened, and `--log-format json`
//! writes one JSON object per log line, with the events' fields as keys.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};
use tafel_protocol::*;
use tafel_tests::*;

/// Scrapes until `check` holds (a connection's task ends a moment after its close frame).
async fn eventually(server: &Server, check: impl Fn(&Scrape) -> bool) -> anyhow::Result<Scrape> {
    let deadline = Instant::now() + WAIT;
    loop {
        let scrape = Scrape::of(server).await?;
        if check(&scrape) || Instant::now() > deadline {
            return Ok(scrape);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn metrics_count_exactly_what_happened() -> anyhow::Result<()> {
    let server = Server::start()?;

    let res = server.http("GET", "/metrics", None).await?;
    assert_eq!(res.status, 200);
    let content_type = res.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert!(res.body.ends_with("# EOF\n"));
    let before = Scrape::of(&server).await?;
    assert_eq!(before.get("tafel_rooms_loaded"), 0.0);
    assert_eq!(before.get(r#"tafel_connections{role="participant"}"#), 0.0);
    assert_eq!(before.get(r#"tafel_commands_total{cmd="add_card"}"#), 0.0);

    let s = server.create_session("Meten", false).await?;
    let mut fac = server.client().await?;
    fac.resume(&s.code, &s.facilitator_token).await?;
    let mut anna = server.client().await?;
    anna.join(&s.code, "Anna", Perspective::Client).await?;
    let mut bram = server.client().await?;
    bram.join(&s.code, "Bram", Perspective::Naaste).await?;

    anna.ok(idea("Zelf de dag indelen")).await?;
    anna.ok(idea("Vaste gezichten")).await?;
    bram.ok(idea("Minder papierwerk")).await?;
    // Only the facilitator moves the phase.
    assert_eq!(
        bram.refused(Command::SetPhase { phase: 2 }).await?,
        ErrorCode::Forbidden
    );
    // Not a message at all: refused by the connection, never reaching the room.
    bram.send_raw("{not json").await?;
    loop {
        if let ServerMessage::Error { code, .. } = bram.recv().await? {
            assert_eq!(code, ErrorCode::BadMessage);
            break;
        }
    }

    let m = Scrape::of(&server).await?;
    assert_eq!(m.get("tafel_rooms_loaded"), 1.0);
    assert_eq!(m.get(r#"tafel_connections{role="facilitator"}"#), 1.0);
    assert_eq!(m.get(r#"tafel_connections{role="participant"}"#), 2.0);
    assert_eq!(m.get(r#"tafel_connections{role="projector"}"#), 0.0);
    assert_eq!(m.get(r#"tafel_connections{role="unjoined"}"#), 0.0);
    assert_eq!(m.get(r#"tafel_commands_total{cmd="add_card"}"#), 3.0);
    assert_eq!(m.get(r#"tafel_commands_total{cmd="set_phase"}"#), 1.0);
    assert_eq!(
        m.get(r#"tafel_command_errors_total{code="forbidden"}"#),
        1.0
    );
    assert_eq!(
        m.get(r#"tafel_command_errors_total{code="bad_message"}"#),
        1.0
    );
    assert_eq!(m.get("tafel_command_seconds_count"), 4.0, "one per answer");
    assert_eq!(m.get(r#"tafel_command_seconds_bucket{le="+Inf"}"#), 4.0);
    assert!(m.get("tafel_command_seconds_sum") > 0.0);
    // Three welcomes, four answers, and a delta to each of the other screens per card.
    assert!(m.get("tafel_deliveries_total") >= 3.0 + 4.0 + 3.0 * 2.0);
    assert_eq!(m.get("tafel_outbox_drops_total"), 0.0);
    assert!(m.get("tafel_storage_flush_seconds_count") >= 1.0);
    assert!(m.get("tafel_storage_requests_total") >= 3.0);
    assert_eq!(m.get("tafel_storage_failures_total"), 0.0);
    assert_eq!(m.get("tafel_room_load_seconds_count"), 1.0);

    // A client that floods is cut off, and counted by reason; the room and the others go on.
    let mut flood = server.client().await?;
    for _ in 0..500 {
        if flood.send(&ClientMessage::Ping).await.is_err() {
            break;
        }
    }
    assert_eq!(flood.closed().await?, 1008);
    drop(bram);
    let m = eventually(&server, |m| {
        m.get(r#"tafel_connections{role="participant"}"#) == 1.0
            && m.get(r#"tafel_connections{role="unjoined"}"#) == 0.0
    })
    .await?;
    assert_eq!(
        m.get(r#"tafel_connections_closed_total{reason="rate_limit"}"#),
        1.0
    );
    assert_eq!(m.get(r#"tafel_connections{role="participant"}"#), 1.0);
    assert_eq!(m.get(r#"tafel_connections{role="unjoined"}"#), 0.0);
    // Bram's phone went away without a close frame: a clean end or a reset, by timing.
    assert_eq!(
        m.get(r#"tafel_connections_closed_total{reason="client"}"#)
            + m.get(r#"tafel_connections_closed_total{reason="read_error"}"#),
        1.0
    );
    fac.ok(Command::SetPhase { phase: 1 }).await?;
    let m = Scrape::of(&server).await?;
    assert_eq!(m.get(r#"tafel_commands_total{cmd="set_phase"}"#), 2.0);
    assert_eq!(
        m.get(r#"tafel_command_errors_total{code="forbidden"}"#),
        1.0
    );
    Ok(())
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_with_fields() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let mut child = Process::new(server_binary())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--data-dir",
        ])
        .arg(data.path())
        .env("TAFEL_LOG", "info")
        .env_remove("TAFEL_LOG_FORMAT")
        .env_remove("TAFEL_PUBLIC_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let addr: SocketAddr = loop {
        let line = stdout.next().expect("the server exited before listening")?;
        if let Some(addr) = line.strip_prefix("listening on ") {
            break addr.trim().parse()?;
        }
    };
    std::thread::spawn(move || for _ in stdout {});
    let mut stderr = child.stderr.take().expect("stderr");
    let logs = std::thread::spawn(move || {
        let mut all = String::new();
        let _ = stderr.read_to_string(&mut all);
        all
    });

    let res = http(
        addr,
        "POST",
        "/api/sessions",
        Some(&serde_json::to_string(&CreateSession {
            title: "Logboek".into(),
            problem: String::new(),
            language: Language::Nl,
            anonymous_cards: false,
            facilitator_name: None,
        })?),
    )
    .await?;
    assert_eq!(res.status, 201, "{}", res.body);
    let s: SessionCreated = serde_json::from_str(&res.body)?;
    let mut fac = Client::connect(addr).await?;
    fac.resume(&s.code, &s.facilitator_token).await?;
    fac.ok(Command::SetPhase { phase: 1 }).await?;

    let stopped = Process::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    assert!(stopped.success());
    let status = child.wait()?;
    assert!(status.success(), "{status}");
    let logs = logs.join().expect("reader");

    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| anyhow::anyhow!("not JSON: {l:?}: {e}")))
        .collect::<anyhow::Result<_>>()?;
    let event = |message: &str| {
        lines
            .iter()
            .find(|l| l["message"] == message)
            .unwrap_or_else(|| panic!("no {message:?} in {logs}"))
    };
    for line in &lines {
        assert!(
            line["timestamp"].is_string() && line["level"].is_string(),
            "{line}"
        );
    }
    let loaded = event("session loaded");
    assert_eq!(loaded["level"], "INFO");
    assert!(
        loaded["ms"].is_u64() && loaded["changes"].is_u64(),
        "{loaded}"
    );
    assert_eq!(loaded["span"]["room"], s.code.as_str(), "{loaded}");
    let unloaded = event("room unloaded");
    assert_eq!(unloaded["reason"], "shutdown");
    assert_eq!(unloaded["span"]["room"], s.code.as_str());
    assert!(unloaded["changes"].as_u64().unwrap_or(0) >= 2, "{unloaded}");
    Ok(())
}

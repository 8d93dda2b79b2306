//! The `tafel` command: parse the config, start logging, bind, print where to go, serve until
//! Ctrl-C or SIGTERM.

use crate::config::{Config, LogFormat};
use clap::Parser;
use std::io::IsTerminal;
use tokio_util::sync::CancellationToken;

/// Runs the server as the `tafel` binary does. Returns when it has stopped cleanly.
pub fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    init_logging(config.log_format);
    // Every phone is an open socket: a soft limit of 1,024 files would cap a server near a
    // thousand phones. Take what the system allows.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(files) => tracing::debug!(files, "open files allowed"),
        Err(e) => tracing::warn!(error = %e, "could not raise the open-files limit"),
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let listener = crate::listen(config.listen)?;
            let bound = listener.local_addr()?;
            // Listened for before the start is printed: whoever reads "listening on" may stop
            // the server at once, and it still stops cleanly.
            #[cfg(unix)]
            let term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            #[cfg(not(unix))]
            let term = None::<()>;
            println!("Tafel {}", env!("CARGO_PKG_VERSION"));
            println!("listening on {bound}");
            for line in start_lines(&config, bound) {
                println!("  {line}");
            }
            match &config.organiser_key {
                Some(k) if !k.is_empty() => {
                    println!("  new sessions: only with the organiser key (--organiser-key)")
                }
                _ => println!(
                    "  new sessions: anyone who reaches this server may create one \
                     (set --organiser-key to limit that)"
                ),
            }
            let shutdown = CancellationToken::new();
            tokio::spawn(stop_on_signal(term, shutdown.clone()));
            crate::run(listener, config, shutdown).await
        })
}

/// What the start tells a person, after "listening on": the address the facilitator opens, the
/// one phones use (the base of every link and QR code), and where the data is kept, as a full
/// path (a relative `--data-dir` is resolved against the working directory).
pub fn start_lines(config: &Config, bound: std::net::SocketAddr) -> Vec<String> {
    let public = config.public_url_for(bound);
    let mut lines = Vec::new();
    if bound.ip().is_unspecified() && config.public_url.is_none() {
        lines.push(format!(
            "facilitator, on this computer: http://localhost:{}/",
            bound.port()
        ));
        lines.push(format!(
            "phones (and the projector) on this network: {public}/"
        ));
    } else {
        lines.push(format!("facilitator: {public}/"));
        lines.push(format!("phones (and the projector): {public}/"));
    }
    match &config.database_url {
        Some(_) => lines.push(format!(
            "data: PostgreSQL (--database-url); other nodes reach this one at {}",
            config.node_addr_for(bound)
        )),
        None => {
            let file = config.data_dir.join(crate::DB_FILE);
            let full = std::path::absolute(&file).unwrap_or(file);
            lines.push(format!("data: {}", full.display()));
        }
    }
    lines
}

/// Logs to standard error at the level of `TAFEL_LOG` (default `info`), as text or as JSON
/// lines. A JSON line has the event's fields at the top level (`message`, `ms`, `peer`, …) and
/// the room's span (`{"name":"room","room":"CODE"}`) under `span`.
fn init_logging(format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("TAFEL_LOG").unwrap_or_else(|_| "info".into());
    // Colour codes only for a person at a terminal: a log file or a pipe gets plain text.
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_env_filter(filter);
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

#[cfg(unix)]
type Term = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Term = Option<()>;

async fn stop_on_signal(term: Term, shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async move {
        match term {
            Some(mut s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = {
        let _ = term;
        std::future::pending::<()>()
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("stopping: closing connections and storing every room");
    shutdown.cancel();
}

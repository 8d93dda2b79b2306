//! The `tafel` command: parse the config, start logging, bind, print where to go, serve until
//! Ctrl-C or SIGTERM.

use crate::config::{Config, lan_address};
use clap::Parser;
use tokio_util::sync::CancellationToken;

/// Runs the server as the `tafel` binary does. Returns when it has stopped cleanly.
pub fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TAFEL_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let listener = tokio::net::TcpListener::bind(config.listen).await?;
            let bound = listener.local_addr()?;
            println!("Tafel {}", env!("CARGO_PKG_VERSION"));
            println!("listening on {bound}");
            if bound.ip().is_unspecified() {
                println!("  on this computer: http://localhost:{}", bound.port());
                if let Some(ip) = lan_address() {
                    println!(
                        "  from phones on this network: http://{ip}:{}",
                        bound.port()
                    );
                }
            }
            println!("  links and QR codes use: {}", config.public_url_for(bound));
            println!("  data: {}", config.data_dir.join(crate::DB_FILE).display());
            let shutdown = CancellationToken::new();
            tokio::spawn(stop_on_signal(shutdown.clone()));
            crate::run(listener, config, shutdown).await
        })
}

async fn stop_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("stopping: closing connections and storing every room");
    shutdown.cancel();
}

//! Starting the server: what it prints for the person who started it, and logs fit for a file.

use anyhow::{Context, Result, ensure};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use tafel_tests::server_binary;

/// Started on every interface with a relative data folder and its logs going to a pipe: the
/// start names the facilitator's address, the phones' address and the data file's full path,
/// and the log lines carry no colour codes.
#[test]
fn the_start_says_where_to_go_and_logs_to_a_pipe_without_colour() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut child = Command::new(server_binary())
        .args(["--listen", "0.0.0.0:0", "--data-dir", "my-data"])
        .current_dir(dir.path())
        .env("TAFEL_LOG", "info")
        .env_remove("TAFEL_PUBLIC_URL")
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting the server")?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let mut shown = Vec::new();
    for line in lines.by_ref() {
        let line = line?;
        let last = line.trim_start().starts_with("data:");
        shown.push(line);
        if last {
            break;
        }
    }
    let port = shown
        .iter()
        .find_map(|l| l.strip_prefix("listening on 0.0.0.0:"))
        .context("no listening line")?
        .to_owned();
    let text = shown.join("\n");
    ensure!(
        text.contains(&format!(
            "facilitator, on this computer: http://localhost:{port}/"
        )),
        "no facilitator address in:\n{text}"
    );
    ensure!(
        shown
            .iter()
            .any(|l| l.contains("phones (and the projector)") && l.contains(&format!(":{port}/"))),
        "no phones' address in:\n{text}"
    );
    let data = dir
        .path()
        .canonicalize()?
        .join("my-data")
        .join("tafel.redb");
    ensure!(
        text.contains(&format!("data: {}", data.display())),
        "the data file's full path ({}) is not in:\n{text}",
        data.display()
    );

    // Stop it: its last log lines go to the pipe.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    ensure!(status.success(), "kill -TERM");
    let mut logs = String::new();
    child
        .stderr
        .take()
        .context("stderr")?
        .read_to_string(&mut logs)?;
    child.wait()?;
    ensure!(logs.contains("stopped"), "no log lines: {logs}");
    ensure!(
        !logs.contains('\u{1b}'),
        "colour codes in logs written to a pipe:\n{logs:?}"
    );
    Ok(())
}

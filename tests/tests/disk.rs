//! A full or failing disk loses nothing: the real binary with its data directory on a small
//! tmpfs that fills up, and on a small ext4 file system (a loop device) whose database file
//! turns read-only, or which stalls. Commands that cannot be stored are refused with
//! `storage_unavailable` (none is acknowledged that is not on disk), the room and its
//! connections go on, `/metrics` counts it, and once the disk is back the same commands,
//! resent, are applied exactly once — without a restart; a SIGKILL afterwards loses none of
//! the acknowledged ones. A write that stalls is told to everyone, and nothing is
//! acknowledged before it is stored.
//!
//! Mounting needs root: without it each test says so loudly and passes, except under
//! `CI=true`, where it fails.

use anyhow::{Result, bail};
use tafel_protocol::{ErrorCode, Perspective, ServerMessage};
use tafel_tests::disk::{Ext4, Tmpfs, fill};
use tafel_tests::{Server, idea};

fn texts(view: &tafel_protocol::View, text: &str) -> usize {
    view.cards
        .iter()
        .filter(|c| c.text.as_deref() == Some(text))
        .count()
}

#[tokio::test]
async fn a_full_disk_refuses_commands_loses_nothing_and_recovers_by_itself() -> Result<()> {
    let Some(OnDisk {
        mut server,
        disk: mount,
        mut facilitator,
        mut phone,
        code,
        token,
    }) = on_disk("Volle schijf", "voor de volle schijf", |at| {
        Tmpfs::mount(at, "6m")
    })
    .await?
    else {
        return Ok(());
    };

    let filler = server.data_dir().join("filler");
    fill(&filler)?;
    // Cards until one cannot be stored (the file reuses freed pages for a while).
    let mut acked = vec!["voor de volle schijf".to_owned()];
    let mut refused = Vec::new();
    for n in 0..400 {
        let text = format!("kaart {n} {}", "x".repeat(400));
        let id = phone.next_id();
        match phone.cmd_with_id(&id, idea(&text)).await? {
            ServerMessage::Ack { .. } => acked.push(text),
            ServerMessage::Error { code, .. } => {
                assert_eq!(code, ErrorCode::StorageUnavailable);
                refused.push((id, text));
                if refused.len() == 3 {
                    break;
                }
            }
            other => bail!("unexpected answer {other:?}"),
        }
    }
    eprintln!(
        "full disk: {} cards stored, {} refused",
        acked.len(),
        refused.len()
    );
    assert!(!refused.is_empty(), "the full disk never refused a command");
    // The room and the connections go on; nobody was shown a refused card.
    phone.sync().await?;
    facilitator.sync().await?;
    for (_, text) in &refused {
        assert_eq!(texts(facilitator.view(), text), 0);
    }
    assert!(server.metric("tafel_storage_failures_total").await? >= 1.0);
    assert!(
        server
            .metric(r#"tafel_command_errors_total{code="storage_unavailable"}"#)
            .await?
            >= 1.0
    );

    // Space returns: each refused command, resent with its id, is applied once.
    std::fs::remove_file(&filler)?;
    for (id, text) in &refused {
        let answer = phone.cmd_with_id(id, idea(text)).await?;
        assert!(matches!(answer, ServerMessage::Ack { .. }), "{answer:?}");
        acked.push(text.clone());
    }
    facilitator.sync().await?;
    for text in &acked {
        assert_eq!(texts(facilitator.view(), text), 1, "{text}");
    }

    // Killed without warning, it comes back with every acknowledged card, once.
    server.restart()?;
    let mut after = server.client().await?;
    after.resume(&code, &token).await?;
    for text in &acked {
        assert_eq!(texts(after.view(), text), 1, "{text} after a restart");
    }
    server.kill()?;
    drop(mount);
    Ok(())
}

/// A server whose data directory is on a small file system (`disk`), and a session on it
/// with the facilitator and one phone connected and one card stored.
struct OnDisk<D> {
    server: Server,
    disk: D,
    facilitator: tafel_tests::Client,
    phone: tafel_tests::Client,
    code: String,
    token: String,
}

/// Starts the server on what `mount` makes of its data directory (`None`: it cannot here, and
/// the test says so), then the session, titled `title`, with its first card `first`.
async fn on_disk<D>(
    title: &str,
    first: &str,
    mount: impl FnOnce(&std::path::Path) -> Result<Option<D>>,
) -> Result<Option<OnDisk<D>>> {
    let mut server = Server::start_with(&["--max-messages-per-sec", "1000"])?;
    server.kill()?;
    let Some(disk) = mount(server.data_dir())? else {
        return Ok(None);
    };
    server.restart()?;
    let created = server.create_session(title, false).await?;
    let mut facilitator = server.client().await?;
    facilitator
        .resume(&created.code, &created.facilitator_token)
        .await?;
    let mut phone = server.client().await?;
    phone
        .join(&created.code, "Anna", Perspective::Medewerker)
        .await?;
    phone.ok(idea(first)).await?;
    Ok(Some(OnDisk {
        server,
        disk,
        facilitator,
        phone,
        code: created.code,
        token: created.facilitator_token,
    }))
}

#[tokio::test]
async fn a_read_only_database_file_refuses_commands_and_tafel_carries_on_when_it_is_writable()
-> Result<()> {
    let Some(OnDisk {
        mut server,
        disk,
        mut facilitator,
        mut phone,
        code,
        token,
    }) = on_disk("Alleen lezen", "voor de storing", Ext4::mount).await?
    else {
        return Ok(());
    };
    let db = server.data_dir().join("tafel.redb");
    disk.immutable(&db, true)?;
    let mut refused = Vec::new();
    for n in 0..3 {
        let text = format!("alleen lezen {n}");
        let id = phone.next_id();
        match phone.cmd_with_id(&id, idea(&text)).await? {
            ServerMessage::Error { code, .. } => {
                assert_eq!(code, ErrorCode::StorageUnavailable);
                refused.push((id, text));
            }
            other => bail!("a command was answered on a read-only file: {other:?}"),
        }
    }
    // The room and its connections go on: a barrier through the room, and a phone that comes
    // back in, both answered; nobody was shown a refused card.
    phone.sync().await?;
    facilitator.sync().await?;
    let mut again = server.client().await?;
    assert!(matches!(
        again.resume(&code, &token).await?,
        ServerMessage::Welcome { .. }
    ));
    for (_, text) in &refused {
        assert_eq!(texts(facilitator.view(), text), 0);
        assert_eq!(texts(again.view(), text), 0);
    }
    assert!(server.metric("tafel_storage_failures_total").await? >= 1.0);

    // Writable again: each refused command, resent with its id, is applied once.
    disk.immutable(&db, false)?;
    for (id, text) in &refused {
        let answer = phone.cmd_with_id(id, idea(text)).await?;
        assert!(matches!(answer, ServerMessage::Ack { .. }), "{answer:?}");
    }
    facilitator.sync().await?;
    server.restart()?;
    let mut after = server.client().await?;
    after.resume(&code, &token).await?;
    for text in refused
        .iter()
        .map(|(_, t)| t.as_str())
        .chain(["voor de storing"])
    {
        assert_eq!(texts(facilitator.view(), text), 1, "{text}");
        assert_eq!(texts(after.view(), text), 1, "{text} after a restart");
    }
    server.kill()?;
    drop(disk);
    Ok(())
}

/// Reads `client`'s messages until word that storing is slow (`slow`), failing if the
/// command `id` is answered first.
async fn until_storage(client: &mut tafel_tests::Client, slow: bool, id: &str) -> Result<()> {
    loop {
        match client.recv().await? {
            ServerMessage::Storage { slow: s } if s == slow => return Ok(()),
            ServerMessage::Ack { id: got, .. } if got == id => {
                bail!("{id} was acknowledged while its write stalled")
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_stalled_disk_is_told_to_everyone_and_nothing_is_acknowledged_before_it_is_stored()
-> Result<()> {
    let Some(OnDisk {
        mut server,
        disk,
        mut facilitator,
        mut phone,
        code,
        token,
    }) = on_disk("Vastgelopen schijf", "voor de storing", Ext4::mount).await?
    else {
        return Ok(());
    };
    disk.freeze(true)?;
    let id = phone.next_id();
    phone
        .send(&tafel_protocol::ClientMessage::Cmd {
            id: id.clone(),
            cmd: idea("tijdens de stilstand"),
        })
        .await?;
    // After a second both hear that saving is slow; the card is neither acknowledged nor shown.
    until_storage(&mut phone, true, &id).await?;
    until_storage(&mut facilitator, true, &id).await?;
    assert_eq!(texts(facilitator.view(), "tijdens de stilstand"), 0);
    assert!(server.metric("tafel_slow_writes_total").await? >= 1.0);

    // The disk moves again: the word that it is over, then the ack; the card reaches everyone.
    disk.freeze(false)?;
    until_storage(&mut phone, false, &id).await?;
    let answer = phone.answer(&id).await?;
    assert!(matches!(answer, ServerMessage::Ack { .. }), "{answer:?}");
    facilitator.sync().await?;
    assert_eq!(texts(facilitator.view(), "tijdens de stilstand"), 1);
    server.restart()?;
    let mut after = server.client().await?;
    after.resume(&code, &token).await?;
    assert_eq!(texts(after.view(), "tijdens de stilstand"), 1);
    server.kill()?;
    drop(disk);
    Ok(())
}

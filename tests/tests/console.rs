//! End to end, over real sockets: what the facilitator's console relies on. A refusal names
//! the field it is about; a merge is undone; a hidden round's votes reach the big screen only
//! as the number of people who voted.

use anyhow::{Result, ensure};
use tafel_protocol::*;
use tafel_tests::{Server, idea};

#[tokio::test]
async fn a_refusal_names_its_field_on_the_wire() -> Result<()> {
    let server = Server::start()?;
    let mut t = server
        .table(
            "Velden",
            false,
            Perspective::Medewerker,
            Perspective::Client,
        )
        .await?;
    let id = t.fac.next_id();
    let cmd = Command::OpenRound {
        phase: Some(1),
        budget: 5,
        max_per_card: 3,
        live: false,
    };
    match t.fac.cmd_with_id(&id, cmd).await? {
        ServerMessage::Error { code, field, .. } => {
            ensure!(
                code == ErrorCode::Invalid && field.as_deref() == Some("cards"),
                "{code:?} {field:?}"
            );
        }
        other => anyhow::bail!("expected an error, got {other:?}"),
    }
    let raw = t
        .fac
        .frames
        .iter()
        .rev()
        .find(|f| f.contains(&id))
        .cloned()
        .unwrap_or_default();
    ensure!(raw.contains(r#""field":"cards""#), "{raw}");
    // A refusal about no field leaves it out.
    t.anna.ok(idea("Een")).await?;
    let id = t.anna.next_id();
    t.anna
        .cmd_with_id(&id, Command::SetPhase { phase: 1 })
        .await?;
    let raw = t
        .anna
        .frames
        .iter()
        .rev()
        .find(|f| f.contains(&id))
        .cloned()
        .unwrap_or_default();
    ensure!(raw.contains("forbidden") && !raw.contains("field"), "{raw}");
    Ok(())
}

#[tokio::test]
async fn a_merge_is_undone_for_everyone() -> Result<()> {
    let server = Server::start()?;
    let mut t = server
        .table("Samen", false, Perspective::Medewerker, Perspective::Client)
        .await?;
    let a = t.anna.ok(idea("Roosters")).await?.card.unwrap();
    let b = t.bram.ok(idea("Het rooster")).await?.card.unwrap();
    t.fac
        .ok(Command::MergeCards {
            card: b.clone(),
            into: a.clone(),
        })
        .await?;
    t.bram.sync().await?;
    let seen = t.bram.card(&b).unwrap();
    ensure!(
        seen.status == CardStatus::Merged
            && seen.merged_into.as_deref() == Some(a.as_str())
            && seen.text.is_none()
    );
    t.fac.ok(Command::UnmergeCard { card: b.clone() }).await?;
    for phone in [&mut t.bram, &mut t.proj] {
        phone.sync().await?;
        let back = phone.card(&b).unwrap();
        ensure!(
            back.status == CardStatus::Visible
                && back.merged_into.is_none()
                && back.text.as_deref() == Some("Het rooster"),
            "{back:?}"
        );
    }
    Ok(())
}

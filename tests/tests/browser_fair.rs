//! Browser scenario of a balanced floor: a quiet phone receives a private invitation, takes it
//! with one tap and gets the floor; the dominant phone sees its shorter limit before its turn
//! and then speaks under it; the console suggests, invites and sees whether an invitation was
//! taken. Screenshots go to `tests/artifacts/` (see browser.rs for the harness).

use anyhow::{Context, Result, ensure};
use std::time::Duration;
use tafel_protocol::{CardKind, Command, InvitationStatus};
use tafel_tests::Server;
use tafel_tests::browser::*;

#[tokio::test]
async fn a_quiet_phone_takes_its_invitation_and_the_dominant_one_speaks_shorter() -> Result<()> {
    let Some(_turn) = browser_turn().await else {
        return Ok(());
    };
    let server = Server::start()?;
    let mut driver = Driver::start().await?;
    let outcome = balanced_floor(&server, &mut driver).await;
    driver.stop().await;
    outcome
}

async fn balanced_floor(server: &Server, driver: &mut Driver) -> Result<()> {
    let created = server.create_session("Wie heeft het woord?", false).await?;
    let mut console = server.client().await?;
    console
        .resume(&created.code, &created.facilitator_token)
        .await?;
    let facilitator = driver.open("facilitator-fair", LAPTOP, "nl").await?;
    facilitator.goto(&created.facilitator_url).await?;
    facilitator.wait_for("#give-next").await?;
    ensure!(
        facilitator
            .js("return document.querySelector('#preset-balanced')?.getAttribute('aria-pressed')")
            .await?
            == "true",
        "a new session is balanced"
    );
    let loud = driver.open("phone-loud", PHONE, "nl").await?;
    loud.goto(&created.join_url).await?;
    join_through_form(&loud, "Luid", "bestuurder").await?;
    let quiet = driver.open("phone-quiet", PHONE, "nl").await?;
    quiet.goto(&created.join_url).await?;
    join_through_form(&quiet, "Stil", "client").await?;

    // Getting ready (phase 0): the board fills up, so the floor sits below the cards.
    for i in 1..=8 {
        console
            .ok(Command::AddCard {
                text: format!("Wat we al weten, punt {i}"),
                kind: CardKind::Idea,
                builds_on: None,
                source: None,
                lesson_of: None,
            })
            .await?;
    }
    quiet
        .wait_js("return document.querySelectorAll('#cards [data-card]').length === 8")
        .await?;

    // The loud one raises, gets the floor and talks for a few seconds.
    loud.click("#raise-hand").await?;
    settled(&loud).await?;
    facilitator.click("#give-next").await?;
    loud.wait_for("#my-turn").await?;
    loud.wait_js(
        "const t = document.querySelector('#turn-countdown')?.textContent.trim() || '';
         const [m, s] = t.split(':').map(Number);
         return t.includes(':') && m * 60 + s <= 117;",
    )
    .await?;
    loud.click("#end-turn").await?;
    settled(&loud).await?;
    // And raises again at once: the floor makes room for the quiet one.
    loud.wait_for("#raise-hand").await?;
    loud.click("#raise-hand").await?;
    settled(&loud).await?;
    quiet.wait_for("#invitation").await?;
    let text = quiet.text("#invitation").await?;
    ensure!(text.contains("ruimte voor jou"), "{text:?}");
    // It is not lost below the cards: the floor moves above them while the invitation is open.
    ensure!(
        quiet
            .js("const i = document.querySelector('#invitation'), c = document.querySelector('#cards');
                 return String(Boolean(i.compareDocumentPosition(c) & Node.DOCUMENT_POSITION_FOLLOWING))")
            .await?
            == "true",
        "the invitation comes before the cards"
    );
    quiet.shot("phone-invitation").await?;
    quiet.axe("participant (invitation)").await?;
    // The loud phone waits its moment and knows why; nobody else sees the invitation.
    loud.wait_js("return document.querySelector('#queue-place')?.dataset.reason === 'making_room'")
        .await?;
    ensure!(loud.count("#invitation").await? == 0);
    loud.shot("phone-making-room").await?;
    facilitator.wait_for("#invitations").await?;
    facilitator.shot("facilitator-invitation-open").await?;
    facilitator.axe("facilitator (invitations)").await?;

    // One tap takes it: the hand goes up, first in line, and "next" gives the floor.
    quiet.click("#take-invitation").await?;
    settled(&quiet).await?;
    quiet.wait_for("#lower-hand").await?;
    ensure!(quiet.count("#invitation").await? == 0);
    facilitator
        .wait_js("return document.querySelector('#invitations [data-status=taken]') !== null")
        .await?;
    facilitator.click("#give-next").await?;
    quiet.wait_for("#my-turn").await?;
    quiet.shot("phone-quiet-speaks").await?;
    quiet.click("#end-turn").await?;
    settled(&quiet).await?;

    // Before its turn the loud phone sees its shorter limit, and why.
    loud.wait_js("return document.querySelector('#next-limit')?.dataset.why === 'over_share'")
        .await?;
    let limit = loud.text("#next-limit").await?;
    ensure!(
        limit.contains("1:00") && limit.contains("2:00"),
        "{limit:?}"
    );
    loud.shot("phone-shorter-limit").await?;
    loud.axe("participant (shorter limit)").await?;
    facilitator.shot("facilitator-floor-balanced").await?;
    // The facilitator stays in charge: giving to the waiting hand by name works at once.
    console.sync().await?;
    let id = console.view().participants[1].id.clone();
    facilitator
        .click(&format!("[data-key='give-{id}']"))
        .await?;
    loud.wait_for("#my-turn").await?;
    let hint = loud.text(".my-turn-hint").await?;
    ensure!(
        hint.contains("1:00"),
        "the turn runs under the shorter limit: {hint:?}"
    );
    loud.shot("phone-loud-shorter-turn").await?;
    console
        .until(|v| v.floor.turn.as_ref().is_some_and(|t| t.limit_ms == 60_000))
        .await?;
    facilitator
        .wait_js_for(
            "return document.querySelector('#balance-perspectives [data-perspective=client]') !== null",
            Duration::from_secs(10),
        )
        .await?;
    facilitator.shot("facilitator-balance-perspectives").await?;

    // An invitation still open when the session ends lapses: the phone stops showing it, and
    // the facilitator's view lists it as lapsed, not as open.
    let stil = console
        .view()
        .participants
        .iter()
        .find(|p| p.name == "Stil")
        .context("the quiet one is a participant")?
        .id
        .clone();
    console.ok(Command::Invite { participant: stil }).await?;
    quiet.wait_for("#invitation").await?;
    facilitator
        .wait_js("return document.querySelector('#invitations [data-status=open]') !== null")
        .await?;
    console.ok(Command::End).await?;
    quiet.wait_for("#ended-notice").await?;
    ensure!(
        quiet.count("#invitation").await? == 0,
        "an ended session still invites the phone to speak"
    );
    console
        .until(|v| v.floor.invitations.last().map(|i| i.status) == Some(InvitationStatus::Lapsed))
        .await?;
    ensure!(
        facilitator.count("#invitations [data-status=open]").await? == 0,
        "the console still shows an open invitation after the end"
    );
    Ok(())
}

/// On the join screen: name, perspective, join; waits for the participant screen.
async fn join_through_form(page: &Page, name: &str, perspective: &str) -> Result<()> {
    page.wait_for("#join-form #name").await?;
    page.type_into("#name", name).await?;
    page.click(&format!("label[for='perspective-{perspective}']"))
        .await?;
    page.click("#join-form button[type=submit]").await?;
    page.wait_for("#add-card-form").await?;
    Ok(())
}

/// Waits until the phone is online with nothing left to send.
async fn settled(page: &Page) -> Result<()> {
    page.wait_js_for(
        "const s = window.__tafel.status(); return s.connection === 'online' && s.pending === 0",
        Duration::from_secs(25),
    )
    .await?;
    Ok(())
}

//! Browser scenarios of who may create sessions and of deleting one: the organiser key asked
//! once on the home page and kept on the device, and a session deleted for good from the
//! console after two questions, with the phone that was in it told so.
//!
//! Without chromium and chromedriver they skip loudly (and fail under `CI=true`); see
//! `browser.rs`.

use anyhow::{Result, ensure};
use serde_json::json;
use tafel_tests::Server;
use tafel_tests::browser::*;

#[tokio::test]
async fn the_home_page_asks_for_the_organiser_key_once_and_a_session_is_deleted_for_good()
-> Result<()> {
    let Some(_turn) = browser_turn().await else {
        return Ok(());
    };
    let server = Server::start_with(&["--organiser-key", "koffie-en-taart"])?;
    let mut driver = Driver::start().await?;
    let outcome = scenario(&server, &mut driver).await;
    driver.stop().await;
    outcome
}

async fn start_session(page: &Page, title: &str) -> Result<()> {
    page.wait_for("#create-form").await?;
    page.type_into("#title", title).await?;
    page.click("#create-form button[type=submit]").await
}

async fn scenario(server: &Server, driver: &mut Driver) -> Result<()> {
    let base = &server.base;
    // An organiser on a phone starts a session: the server asks for the key.
    let organiser = driver.open("organiser", PHONE, "nl").await?;
    organiser.goto(&format!("{base}/")).await?;
    start_session(&organiser, "Samen aan tafel").await?;
    organiser.wait_for("#organiser-key").await?;
    let asked = organiser.text("#organiser-key-error").await?;
    ensure!(asked.contains("organisatorsleutel"), "{asked}");
    organiser.axe("home, organiser key asked").await?;
    organiser.shot("home-organiser-key").await?;
    // A wrong key is refused in words, and not kept.
    organiser.type_into("#organiser-key", "thee").await?;
    organiser.click("#create-form button[type=submit]").await?;
    organiser
        .wait_js("return document.querySelector('#organiser-key-error')?.textContent.includes('klopt niet') || null")
        .await?;
    ensure!(
        organiser
            .js("return localStorage.getItem('tafel:organiser-key')")
            .await?
            == json!(null),
        "a wrong key is not kept"
    );
    organiser.shot("home-organiser-key-wrong").await?;
    // The right one starts the session and stays on this device.
    organiser
        .type_into("#organiser-key", "koffie-en-taart")
        .await?;
    organiser.click("#create-form button[type=submit]").await?;
    organiser.wait_for("#join-code").await?;
    ensure!(
        organiser
            .js("return localStorage.getItem('tafel:organiser-key')")
            .await?
            == json!("koffie-en-taart")
    );
    // A second session from the same device: not asked again.
    organiser.goto(&format!("{base}/")).await?;
    start_session(&organiser, "Tweede ronde").await?;
    organiser.wait_for("#join-code").await?;
    ensure!(organiser.count("#organiser-key").await? == 0);
    let code = organiser.text("#join-code").await?;
    let join_link = organiser.value("#join-link").await?;

    // A phone joins; then the facilitator deletes the session, answering two questions.
    let phone = driver.open("phone-deleted", PHONE, "nl").await?;
    phone.goto(&join_link).await?;
    phone.wait_for("#join-form #name").await?;
    phone.type_into("#name", "Anna").await?;
    phone.click("label[for='perspective-naaste']").await?;
    phone.click("#join-form button[type=submit]").await?;
    phone.wait_for("#add-card-form").await?;

    let console = driver.open("console-delete", LAPTOP, "nl").await?;
    let facilitator_token = organiser
        .js(&format!(
            "return localStorage.getItem('tafel:facilitator:{code}')"
        ))
        .await?;
    let token = facilitator_token.as_str().unwrap_or_default().to_owned();
    console.goto(&format!("{base}/f/{code}#{token}")).await?;
    console.wait_for("[data-key='delete']").await?;
    console.click("[data-key='delete']").await?;
    console.wait_for("[data-key='delete-no-1']").await?;
    ensure!(
        console
            .js("return document.activeElement.dataset.key")
            .await?
            == json!("delete-no-1"),
        "the first question starts on its way back"
    );
    // Cancelling keeps everything.
    console.click("[data-key='delete-no-1']").await?;
    console.wait_for("[data-key='delete']").await?;
    console.click("[data-key='delete']").await?;
    console.click("[data-key='delete-yes-1']").await?;
    console.wait_for("[data-key='delete-yes-2']").await?;
    let question = console.text("#delete-confirm").await?;
    ensure!(question.contains("niet terugdraaien"), "{question}");
    console.axe("console, deleting asked twice").await?;
    console.shot("console-delete-confirm").await?;
    console.click("[data-key='delete-yes-2']").await?;
    console.wait_for("#message-title").await?;
    let done = console.text("#message-title").await?;
    ensure!(done.contains("verwijderd"), "{done}");
    console.shot("console-deleted").await?;
    // The phone that was in it is told there is no such session.
    phone.wait_for("#message-title").await?;
    let told = phone.text("#message-title").await?;
    ensure!(told.contains("geen sessie"), "{told}");
    phone.shot("phone-session-deleted").await?;
    ensure!(
        server
            .http("GET", &format!("/api/sessions/{code}"), None)
            .await?
            .status
            == 404
    );
    Ok(())
}

/// A phone on a server whose disk turns read-only, then stalls: what could not be stored
/// waits on the phone, says so in words, and goes through by itself once the disk is back.
#[tokio::test]
async fn a_phone_keeps_what_the_server_could_not_store_and_sends_it_by_itself() -> Result<()> {
    let Some(_turn) = browser_turn().await else {
        return Ok(());
    };
    let mut server = Server::start()?;
    server.kill()?;
    let Some(disk) = tafel_tests::disk::Ext4::mount(server.data_dir())? else {
        return Ok(());
    };
    server.restart()?;
    let mut driver = Driver::start().await?;
    let outcome = failing_disk(&server, &disk, &mut driver).await;
    driver.stop().await;
    server.kill()?;
    drop(disk);
    outcome
}

async fn failing_disk(
    server: &Server,
    disk: &tafel_tests::disk::Ext4,
    driver: &mut Driver,
) -> Result<()> {
    let created = server.create_session("Schijf in de war", false).await?;
    let phone = driver.open("phone-disk", PHONE, "nl").await?;
    phone.goto(&created.join_url).await?;
    phone.wait_for("#join-form #name").await?;
    phone.type_into("#name", "Anna").await?;
    phone.click("label[for='perspective-naaste']").await?;
    phone.click("#join-form button[type=submit]").await?;
    phone.wait_for("#add-card-form").await?;
    // How many stored cards with this text the phone shows (a card still waiting on the
    // phone shows apart, marked as being sent), as a script's expression.
    let shown = |text: &str| {
        format!(
            "[...document.querySelectorAll('#cards .card:not(.card-pending) .card-text')].filter(c => c.textContent === {}).length",
            json!(text)
        )
    };

    // The database file turns read-only: the card is refused by the server, and the phone
    // keeps it and says so instead of losing it.
    let db = server.data_dir().join("tafel.redb");
    disk.immutable(&db, true)?;
    phone
        .type_into("#card-text", "Geschreven op een kapotte schijf")
        .await?;
    phone.click("#add-card-button").await?;
    phone
        .wait_js("return window.__tafel.status().storage === 'failing' || null")
        .await?;
    let status = phone.text("#conn-status").await?;
    ensure!(status.contains("Nog niet opgeslagen"), "{status}");
    let banner = phone.text("#offline-banner").await?;
    ensure!(banner.contains("hoeft niets over te doen"), "{banner}");
    ensure!(
        phone
            .js(&format!(
                "return {}",
                shown("Geschreven op een kapotte schijf")
            ))
            .await?
            == json!(0)
    );
    phone.axe("phone, the server cannot store").await?;
    phone.shot("phone-storage-failing").await?;

    // Writable again: the phone sends it by itself, once.
    disk.immutable(&db, false)?;
    phone
        .wait_js_for(
            "const s = window.__tafel.status(); return s.pending === 0 && s.storage === 'ok' || null",
            std::time::Duration::from_secs(25),
        )
        .await?;
    phone
        .wait_js(&format!(
            "return {} === 1 || null",
            shown("Geschreven op een kapotte schijf")
        ))
        .await?;
    ensure!(phone.count("#offline-banner:not([hidden])").await? == 0);

    // The disk stalls: after a second the phone says saving takes long; then it goes through.
    disk.freeze(true)?;
    let stalled = async {
        phone
            .type_into("#card-text", "Geschreven op een trage schijf")
            .await?;
        phone.click("#add-card-button").await?;
        phone
            .wait_js("return window.__tafel.status().storage === 'slow' || null")
            .await?;
        let status = phone.text("#conn-status").await?;
        ensure!(status.contains("Opslaan duurt lang"), "{status}");
        ensure!(
            phone
                .js(&format!(
                    "return {}",
                    shown("Geschreven op een trage schijf")
                ))
                .await?
                == json!(0)
        );
        phone.shot("phone-storage-slow").await
    }
    .await;
    disk.freeze(false)?;
    stalled?;
    phone
        .wait_js(&format!(
            "return {} === 1 || null",
            shown("Geschreven op een trage schijf")
        ))
        .await?;
    phone
        .wait_js("const s = window.__tafel.status(); return s.pending === 0 && s.storage === 'ok' || null")
        .await?;

    // The server holds each card once.
    let mut facilitator = server.client().await?;
    facilitator
        .resume(&created.code, &created.facilitator_token)
        .await?;
    for text in [
        "Geschreven op een kapotte schijf",
        "Geschreven op een trage schijf",
    ] {
        let n = facilitator
            .view()
            .cards
            .iter()
            .filter(|c| c.text.as_deref() == Some(text))
            .count();
        ensure!(n == 1, "{text}: {n} times");
    }
    Ok(())
}

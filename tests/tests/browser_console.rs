//! Browser scenarios for the facilitator's console as a facilitator runs a real session: a
//! laptop at 1280×800, phones at 390×844 and 360×640, the big screen at 1920×1080. Every screen
//! and state is checked with axe-core and photographed into `tests/artifacts/console-*.png`.
//!
//! - The console's size: its page height and the tab stops from the top to "give the floor",
//!   written to `tests/artifacts/console-measure.txt` (run with `TAFEL_BIN=…` to measure
//!   another build).
//! - Forms follow the live state: a round opened after a phase change, on that phase's cards;
//!   a refusal says its cause.
//! - A hidden round: no running totals on the console until asked for, and the big screen
//!   shows how many people voted.
//! - Merging by picking the cards, the author told, and undone.
//! - The sessions this browser facilitates, on the home page, and opening the console on
//!   another device.

use anyhow::{Context, Result, ensure};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use serde_json::json;
use tafel_protocol::{CardKind, Command, HandKind, Perspective};
use tafel_tests::browser::*;
use tafel_tests::{Client, Server};

/// The projector in the room.
const PROJECTOR: (u32, u32) = (1920, 1080);
/// A small phone.
const SMALL_PHONE: (u32, u32) = (360, 640);

// -------------------------------------------------------------------------------------------
// A session as a facilitator runs it
// -------------------------------------------------------------------------------------------

/// A session made on the home page by the facilitator's browser, with four people on their
/// phones (test clients: the console is what is looked at here), in phase 1 with their cards.
struct Room {
    code: String,
    join_url: String,
    projector_url: String,
    fac: Client,
    phones: Vec<Client>,
    cards: Vec<String>,
}

const PEOPLE: [(&str, Perspective, &str); 4] = [
    (
        "Anna",
        Perspective::Medewerker,
        "Dubbele registratie kost elke dienst een half uur",
    ),
    (
        "Bram",
        Perspective::Client,
        "Ik weet vaak niet wie er vandaag komt",
    ),
    (
        "Carla",
        Perspective::Naaste,
        "Afspraken met familie raken kwijt bij de overdracht",
    ),
    (
        "Daan",
        Perspective::Manager,
        "Het rooster wordt pas op vrijdag bekend",
    ),
];

async fn create_on_home(server: &Server, facilitator: &Page, anonymous: bool) -> Result<String> {
    facilitator.goto(&format!("{}/", server.base)).await?;
    facilitator.wait_for("#create-form").await?;
    facilitator
        .type_into("#title", "Meer regie voor cliënten")
        .await?;
    facilitator
        .type_into(
            "#problem",
            "Cliënten hebben weinig te zeggen over hun eigen dag.",
        )
        .await?;
    if anonymous {
        facilitator.click("label[for='anonymous']").await?;
    }
    facilitator
        .click("#create-form button[type=submit]")
        .await?;
    facilitator.wait_for("#join-code").await?;
    facilitator.text("#join-code").await
}

async fn room(server: &Server, facilitator: &Page, anonymous: bool) -> Result<Room> {
    let code = create_on_home(server, facilitator, anonymous).await?;
    let token = facilitator
        .js(&format!(
            "return localStorage.getItem('tafel:facilitator:{code}')"
        ))
        .await?;
    let token = token.as_str().context("facilitator token")?.to_owned();
    let projector_url = facilitator.value("#projector-link").await?;
    let join_url = facilitator.value("#join-link").await?;
    let mut fac = server.client().await?;
    fac.resume(&code, &token).await?;
    let mut phones = Vec::new();
    for (name, perspective, _) in PEOPLE {
        let mut phone = server.client().await?;
        phone.join(&code, name, perspective).await?;
        phones.push(phone);
    }
    fac.ok(Command::SetPhase { phase: 1 }).await?;
    let mut cards = Vec::new();
    for (phone, (_, _, text)) in phones.iter_mut().zip(PEOPLE) {
        let made = phone
            .ok(Command::AddCard {
                text: text.into(),
                kind: CardKind::Problem,
                builds_on: None,
                source: None,
                lesson_of: None,
            })
            .await?;
        cards.push(made.card.context("card id")?);
    }
    fac.sync().await?;
    Ok(Room {
        code,
        join_url,
        projector_url,
        fac,
        phones,
        cards,
    })
}

/// The console's page height, and how many presses of Tab from the top of the page reach
/// "give the floor".
async fn measure_console(facilitator: &Page) -> Result<(u64, u64)> {
    facilitator.wait_for("#give-next").await?;
    let height = facilitator
        .js("return document.documentElement.scrollHeight")
        .await?
        .as_u64()
        .context("height")?;
    facilitator
        .js("document.activeElement?.blur(); window.scrollTo(0, 0); document.body.focus()")
        .await?;
    let mut presses = 0;
    loop {
        presses += 1;
        facilitator
            .client
            .perform_actions(
                KeyActions::new("keys".into())
                    .then(KeyAction::Down { value: '\u{E004}' })
                    .then(KeyAction::Up { value: '\u{E004}' }),
            )
            .await?;
        let here = facilitator
            .js("return document.activeElement?.id || ''")
            .await?;
        if here == json!("give-next") {
            return Ok((height, presses));
        }
        ensure!(presses < 500, "Tab never reached #give-next");
    }
}

/// The console at 1280×800 with four people, their cards, a raised hand and a new report:
/// its height and the tab stops to "give the floor".
#[tokio::test]
async fn the_console_keeps_the_work_in_view() -> Result<()> {
    let Some(_turn) = browser_turn().await else {
        return Ok(());
    };
    let server = Server::start()?;
    let mut driver = Driver::start().await?;
    let outcome = console_in_view(&server, &mut driver).await;
    driver.stop().await;
    outcome
}

async fn console_in_view(server: &Server, driver: &mut Driver) -> Result<()> {
    let facilitator = driver.open("facilitator", LAPTOP, "nl").await?;
    let mut room = room(server, &facilitator, false).await?;
    room.phones[1]
        .ok(Command::RaiseHand {
            kind: HandKind::Hand,
        })
        .await?;
    room.phones[2]
        .ok(Command::Flag {
            rule: "g1".into(),
            about: None,
            note: Some("Er wordt door elkaar gepraat".into()),
            anonymous: true,
        })
        .await?;
    room.fac.sync().await?;
    facilitator
        .wait_js("return document.querySelectorAll('[data-card]').length >= 4")
        .await?;
    let (height, presses) = measure_console(&facilitator).await?;
    facilitator.shot("console-measured").await?;
    screen_shot(&facilitator, "console-measured-first-screen").await?;
    // What a facilitator used to the old console missed: the work in the first screen, and
    // the signals at the top.
    if std::env::var_os("TAFEL_BIN").is_none() {
        for part in [
            "#give-next",
            "#open-round",
            "#signals",
            &format!("[data-card='{}']", room.cards[3]),
        ] {
            ensure!(
                in_first_screen(&facilitator, part, LAPTOP.1).await?,
                "{part} is not in view at 1280×800 without scrolling"
            );
        }
        ensure!(
            facilitator
                .text("#signals")
                .await?
                .contains("Wachten op het woord: 1")
                && facilitator
                    .text("#signals")
                    .await?
                    .contains("Nieuwe meldingen: 1"),
            "signals: {}",
            facilitator.text("#signals").await?
        );
        ensure!(
            facilitator
                .js("return document.getElementById('setup').open")
                .await?
                == json!(false),
            "setting up is not folded away in phase 1"
        );
        facilitator
            .axe("console, phase 1 with a hand and a report")
            .await?;
        // A phone goes offline: the signal names who.
        room.phones.pop();
        facilitator
            .wait_js("return document.querySelector('#signals [data-signal=offline]')?.textContent.includes('Daan')")
            .await?;
        facilitator.shot("console-offline-signal").await?;
    }
    let line = format!(
        "console at 1280×800 (server {}): page height {height} px, {presses} tab stops from the top to \"give the floor\"\n",
        std::env::var("TAFEL_BIN").unwrap_or_else(|_| "this build".into())
    );
    eprint!("{line}");
    std::fs::write(artifacts()?.join("console-measure.txt"), &line)?;
    let _ = (&room.code, &room.join_url, &room.projector_url, &room.cards);
    Ok(())
}

/// A screenshot of what is in view, scrolled to the top: the first screen.
async fn screen_shot(page: &Page, file: &str) -> Result<()> {
    page.js("window.scrollTo(0, 0)").await?;
    let png = page.client.screenshot().await?;
    std::fs::write(artifacts()?.join(format!("{file}.png")), png)?;
    Ok(())
}

/// Whether the element's box lies wholly within the first `height` pixels of the page, with
/// the page scrolled to its top: in view on opening, without scrolling.
async fn in_first_screen(page: &Page, css: &str, height: u32) -> Result<bool> {
    let bottom = page
        .js(&format!(
            "window.scrollTo(0, 0); const e = document.querySelector({}); return e ? e.getBoundingClientRect().bottom : 1e9",
            json!(css)
        ))
        .await?;
    Ok(bottom.as_f64().unwrap_or(1e9) <= f64::from(height))
}

/// What a phone sees of a session: a real browser that joins through the join link.
async fn phone(
    driver: &mut Driver,
    name: &str,
    size: (u32, u32),
    join_url: &str,
    perspective: &str,
) -> Result<Page> {
    let page = driver.open(&format!("phone-{name}"), size, "nl").await?;
    page.goto(join_url).await?;
    page.wait_for("#join-form #name").await?;
    page.type_into("#name", name).await?;
    page.click(&format!("label[for='perspective-{perspective}']"))
        .await?;
    page.click("#join-form button[type=submit]").await?;
    page.wait_for("#add-card-form").await?;
    Ok(page)
}

/// The toast's text, once one shows.
async fn toast(page: &Page) -> Result<String> {
    let text = page
        .wait_js("const t = document.getElementById('toast'); return t && !t.hidden ? t.querySelector('p').textContent : null")
        .await?;
    Ok(text.as_str().unwrap_or_default().to_owned())
}

async fn close_toast(page: &Page) -> Result<()> {
    page.click("#toast .toast-close").await?;
    page.wait_js("return document.getElementById('toast').hidden")
        .await?;
    Ok(())
}

/// Waits for the server to have sent a client everything before now (a barrier through the
/// room) and counts the deltas it received that carried a round.
fn round_deltas(client: &Client) -> usize {
    client
        .frames
        .iter()
        .filter(|f| f.contains(r#""type":"delta""#) && f.contains(r#""rounds":"#))
        .count()
}

// -------------------------------------------------------------------------------------------
// Forms follow the live state; refusals say why; a hidden round stays hidden
// -------------------------------------------------------------------------------------------

/// The voting form drawn in phase 0 (no cards) opens the round on phase 1's cards after the
/// phase changed, without a reload; refusals name their cause; a hidden round's totals stay
/// off the console until asked for, and the big screen counts voters, not votes.
#[tokio::test]
async fn a_round_opens_on_the_live_phase_and_its_totals_stay_hidden() -> Result<()> {
    let Some(_turn) = browser_turn().await else {
        return Ok(());
    };
    let server = Server::start()?;
    let mut driver = Driver::start().await?;
    let outcome = live_forms_and_hidden_round(&server, &mut driver).await;
    driver.stop().await;
    outcome
}

async fn live_forms_and_hidden_round(server: &Server, driver: &mut Driver) -> Result<()> {
    let facilitator = driver.open("facilitator", LAPTOP, "nl").await?;
    let code = create_on_home(server, &facilitator, false).await?;
    // Phase 0, nobody yet: the form is drawn and says there is nothing to vote on.
    facilitator.wait_for("#open-round-form").await?;
    facilitator.wait_for("#no-round-cards").await?;
    facilitator.axe("console, phase 0").await?;
    facilitator.shot("console-phase0").await?;
    facilitator.click("#open-round").await?;
    let said = toast(&facilitator).await?;
    ensure!(
        said.contains("nog geen kaarten op het bord"),
        "opening a round without cards says: {said}"
    );
    close_toast(&facilitator).await?;
    // A budget below the maximum per card: the sentence names that field.
    facilitator.js("const b = document.getElementById('budget'); b.value = '2'; b.dispatchEvent(new Event('input', { bubbles: true }))").await?;
    facilitator.click("#open-round").await?;
    let said = toast(&facilitator).await?;
    ensure!(
        said.contains("stemmen op één kaart"),
        "a maximum above the budget says: {said}"
    );
    close_toast(&facilitator).await?;
    facilitator.js("const b = document.getElementById('budget'); b.value = '5'; b.dispatchEvent(new Event('input', { bubbles: true }))").await?;

    // The phase moves on from the console; people join and add cards from their phones.
    facilitator.click("[data-key='phase-1']").await?;
    facilitator
        .wait_js("return document.querySelector('.phase-number')?.textContent === 'Fase 1'")
        .await?;
    let token = facilitator
        .js(&format!(
            "return localStorage.getItem('tafel:facilitator:{code}')"
        ))
        .await?;
    let mut fac = server.client().await?;
    fac.resume(&code, token.as_str().context("token")?).await?;
    let projector_url = facilitator.value("#projector-link").await?;
    let projector_token = projector_url.split('#').nth(1).context("projector token")?;
    let mut proj = server.client().await?;
    proj.resume(&code, projector_token).await?;
    let mut phones = Vec::new();
    let mut cards = Vec::new();
    for (name, perspective, text) in PEOPLE {
        let mut phone = server.client().await?;
        phone.join(&code, name, perspective).await?;
        let made = phone
            .ok(Command::AddCard {
                text: text.into(),
                kind: CardKind::Problem,
                builds_on: None,
                source: None,
                lesson_of: None,
            })
            .await?;
        cards.push(made.card.context("card")?);
        phones.push(phone);
    }
    fac.sync().await?;
    facilitator
        .wait_js("return document.querySelectorAll('#cards [data-card]').length === 4 && !document.getElementById('no-round-cards')")
        .await?;
    // The same form, never redrawn, opens the round on phase 1's four cards.
    facilitator.click("#open-round").await?;
    facilitator.wait_for("#round-state").await?;
    fac.sync().await?;
    let round = fac.view().rounds.last().context("no round")?.clone();
    ensure!(
        round.phase == 1 && round.cards == cards,
        "the round is on phase {} with {:?}",
        round.phase,
        round.cards
    );

    // The big screen, and votes: Anna gives three, Bram two.
    let projector = driver.open("projector", PROJECTOR, "nl").await?;
    projector.goto(&projector_url).await?;
    projector.wait_for("#voters").await?;
    proj.sync().await?;
    let before = round_deltas(&proj);
    for (who, card) in [(0, 0), (0, 1), (0, 1), (1, 2), (1, 0)] {
        phones[who]
            .ok(Command::Vote {
                round: round.id.clone(),
                card: cards[card].clone(),
            })
            .await?;
    }
    proj.sync().await?;
    fac.sync().await?;
    ensure!(
        round_deltas(&proj) - before == 2,
        "the projector heard of {} round changes for 2 voters",
        round_deltas(&proj) - before
    );
    projector
        .wait_js("return document.getElementById('voters')?.dataset.voters === '2'")
        .await?;
    ensure!(
        projector.count("#live-ranking, .badge.votes").await? == 0,
        "the big screen shows totals of a hidden round"
    );
    projector.axe("projector, hidden round").await?;
    projector.shot("console-projector-hidden-round").await?;

    // The console: how many voted, but no totals until asked for.
    facilitator
        .wait_js("return document.getElementById('voters')?.dataset.voters === '2'")
        .await?;
    ensure!(
        facilitator
            .count("#live-ranking, #cards .badge.votes")
            .await?
            == 0,
        "the console shows a hidden round's totals without being asked"
    );
    facilitator.axe("console, hidden round").await?;
    facilitator.shot("console-hidden-round").await?;
    facilitator.click("#show-totals").await?;
    facilitator.wait_for("#live-ranking").await?;
    let top = facilitator
        .js("return document.querySelector('#live-ranking li').dataset.votes")
        .await?;
    ensure!(top == json!("2"), "the leading card has {top} votes");
    ensure!(
        facilitator
            .js("return document.getElementById('show-totals').getAttribute('aria-pressed')")
            .await?
            == json!("true")
    );
    facilitator.axe("console, totals shown").await?;
    facilitator.shot("console-totals-shown").await?;
    facilitator.click("#show-totals").await?;
    facilitator
        .wait_js("return !document.getElementById('live-ranking')")
        .await?;

    // A refusal from the server names its cause: merging a card that is in the open round.
    facilitator
        .click(&format!("[data-key='merge-{}']", cards[3]))
        .await?;
    facilitator
        .click(&format!("[data-key='merge-into-{}']", cards[2]))
        .await?;
    let said = toast(&facilitator).await?;
    ensure!(
        said.contains("stemronde die nu loopt"),
        "merging cards in the open round says: {said}"
    );
    facilitator.axe("console, a refusal").await?;
    facilitator.shot("console-refusal").await?;
    // The message sits on the top bar: it covers no card.
    let covers = facilitator
        .js("const t = document.getElementById('toast').getBoundingClientRect(); const bar = document.querySelector('.topbar').getBoundingClientRect();
             return [...document.querySelectorAll('.card')].some(c => { const r = c.getBoundingClientRect(); return r.top >= bar.bottom && r.top < t.bottom && r.bottom > t.top; })")
        .await?;
    ensure!(covers == json!(false), "the error covers a card");
    Ok(())
}

// -------------------------------------------------------------------------------------------
// Merging by picking the cards, the author told, and undone
// -------------------------------------------------------------------------------------------

/// The facilitator merges Bram's card into Anna's by pressing "merge" on one and "merge with
/// this one" on the other; Bram's phone says so; the console undoes it, and Bram's card is
/// back on every screen. A withdrawn card leaves nothing behind in the console.
#[tokio::test]
async fn cards_are_merged_by_picking_them_and_the_merge_is_undone() -> Result<()> {
    let Some(_turn) = browser_turn().await else {
        return Ok(());
    };
    let server = Server::start()?;
    let mut driver = Driver::start().await?;
    let outcome = merge_by_picking(&server, &mut driver).await;
    driver.stop().await;
    outcome
}

async fn merge_by_picking(server: &Server, driver: &mut Driver) -> Result<()> {
    let facilitator = driver.open("facilitator", LAPTOP, "nl").await?;
    let mut room = room(server, &facilitator, false).await?;
    // Two real phones: Eva's small one writes the duplicate, Femke's reads along.
    let eva = phone(driver, "Eva", SMALL_PHONE, &room.join_url, "teamleider").await?;
    let femke = phone(driver, "Femke", PHONE, &room.join_url, "bestuurder").await?;
    eva.type_into("#card-text", "Het rooster komt pas op vrijdag")
        .await?;
    eva.click("#add-card-button").await?;
    let duplicate = eva
        .wait_js("const c = [...document.querySelectorAll('#cards .card.own[data-card]')][0]; return c ? c.dataset.card : null")
        .await?;
    let duplicate = duplicate.as_str().context("eva's card")?.to_owned();
    let into = room.cards[3].clone();
    facilitator
        .wait_for(&format!("#cards [data-card='{duplicate}']"))
        .await?;

    // Pick the duplicate, then the card it goes into.
    facilitator
        .click(&format!("[data-key='merge-{duplicate}']"))
        .await?;
    facilitator.wait_for("#merge-banner").await?;
    ensure!(
        facilitator
            .count(&format!("[data-key='merge-into-{duplicate}']"))
            .await?
            == 0,
        "a card is offered as its own target"
    );
    ensure!(
        facilitator.count("[data-key^='merge-into-']").await? == 4,
        "every other card of the phase is a target"
    );
    facilitator.axe("console, choosing where to merge").await?;
    facilitator.shot("console-merge-pick").await?;
    facilitator
        .click(&format!("[data-key='merge-into-{into}']"))
        .await?;
    facilitator
        .wait_for(&format!("[data-key='unmerge-{duplicate}']"))
        .await?;
    ensure!(
        facilitator
            .js("return document.activeElement?.dataset.key")
            .await?
            == json!(format!("unmerge-{duplicate}")),
        "focus is not on the undo"
    );
    facilitator.axe("console, merged").await?;
    facilitator.shot("console-merged").await?;

    // Eva is told, on her phone; Femke no longer sees the duplicate.
    eva.wait_js(&format!(
        "return document.querySelector('#merged-notice [data-card=\"{duplicate}\"]')?.textContent.includes('Het rooster wordt pas op vrijdag bekend')"
    ))
    .await?;
    eva.axe("phone, own card merged (360×640)").await?;
    eva.shot("console-phone-merged-360").await?;
    femke
        .wait_js(&format!(
            "return !document.querySelector('#cards [data-card=\"{duplicate}\"]')"
        ))
        .await?;
    femke.shot("console-phone-merged-390").await?;

    // Undo: the duplicate is on the board again, the note gone.
    facilitator
        .click(&format!("[data-key='unmerge-{duplicate}']"))
        .await?;
    for page in [&eva, &femke] {
        page.wait_js(&format!(
            "return !!document.querySelector('#cards [data-card=\"{duplicate}\"]') && !document.getElementById('merged-notice')"
        ))
        .await?;
    }
    femke.axe("phone, merge undone (390×844)").await?;
    femke.shot("console-phone-unmerged-390").await?;
    facilitator
        .wait_for(&format!("[data-key='merge-{duplicate}']"))
        .await?;

    // Anna withdraws her card: the console shows no empty shell, just the count.
    room.phones[0]
        .ok(Command::WithdrawCard {
            card: room.cards[0].clone(),
        })
        .await?;
    room.fac.sync().await?;
    facilitator
        .wait_js(&format!(
            "return !document.querySelector('[data-card=\"{}\"]') && document.getElementById('withdrawn-count')?.textContent.endsWith('1')",
            room.cards[0]
        ))
        .await?;
    facilitator.axe("console, a card withdrawn").await?;
    facilitator.shot("console-withdrawn").await?;
    Ok(())
}

// -------------------------------------------------------------------------------------------
// Coming back to the console, here and on another device
// -------------------------------------------------------------------------------------------

/// The home page lists the sessions this browser facilitates and opens their console; "open
/// on another device" gives the one link that opens the console on a second laptop, whose
/// home page then lists the session too. Nothing secret is in the list.
#[tokio::test]
async fn the_home_page_lists_my_sessions_and_the_console_opens_elsewhere() -> Result<()> {
    let Some(_turn) = browser_turn().await else {
        return Ok(());
    };
    let server = Server::start()?;
    let mut driver = Driver::start().await?;
    let outcome = coming_back(&server, &mut driver).await;
    driver.stop().await;
    outcome
}

async fn coming_back(server: &Server, driver: &mut Driver) -> Result<()> {
    let laptop = driver.open("facilitator", LAPTOP, "nl").await?;
    let code = create_on_home(server, &laptop, false).await?;
    laptop.wait_for("#give-next").await?;
    ensure!(
        laptop.js("return location.hash").await? == json!(""),
        "the key stays in the address bar"
    );
    laptop.goto(&format!("{}/", server.base)).await?;
    laptop
        .wait_for(&format!("#mine [data-code='{code}']"))
        .await?;
    ensure!(
        laptop
            .text("#mine")
            .await?
            .contains("Meer regie voor cliënten"),
        "the list does not name the session"
    );
    let listed = laptop
        .js("return localStorage.getItem('tafel:facilitating')")
        .await?;
    let token = laptop
        .js(&format!(
            "return localStorage.getItem('tafel:facilitator:{code}')"
        ))
        .await?;
    ensure!(
        !listed
            .as_str()
            .unwrap_or_default()
            .contains(token.as_str().context("token")?),
        "the list holds the key"
    );
    laptop.axe("home, my sessions").await?;
    laptop.shot("console-home-mine").await?;
    laptop.click(&format!("[data-key='open-{code}']")).await?;
    laptop.wait_for("#give-next").await?;

    // One step: open "open on another device", copy its link.
    laptop.click("#other-device-summary").await?;
    laptop
        .wait_for("#other-device[open] #facilitator-link")
        .await?;
    let link = laptop.value("#facilitator-link").await?;
    laptop.axe("console, open on another device").await?;
    laptop.shot("console-other-device").await?;
    ensure!(link.contains(&format!("/f/{code}#")), "{link}");

    // The bare address (as left in the address bar) does not open it elsewhere; the link does.
    let tablet = driver.open("tablet", LAPTOP, "nl").await?;
    tablet.goto(&format!("{}/f/{code}", server.base)).await?;
    tablet.wait_for("#message-title").await?;
    tablet.goto(&link).await?;
    tablet.wait_for("#give-next").await?;
    tablet.goto(&format!("{}/", server.base)).await?;
    tablet
        .wait_for(&format!("#mine [data-code='{code}']"))
        .await?;

    // A small phone's home page with the list, too.
    let small = driver.open("small", SMALL_PHONE, "nl").await?;
    small.goto(&link).await?;
    small.wait_for("#give-next").await?;
    small.goto(&format!("{}/", server.base)).await?;
    small.wait_for("#mine").await?;
    small.axe("home, my sessions (360×640)").await?;
    small.shot("console-home-mine-360").await?;
    // Forgetting it on this device takes it off the list and the key off the device.
    small.click(&format!("[data-key='forget-{code}']")).await?;
    small
        .wait_js("return !document.getElementById('mine')")
        .await?;
    ensure!(
        small
            .js(&format!(
                "return localStorage.getItem('tafel:facilitator:{code}')"
            ))
            .await?
            .is_null()
    );
    Ok(())
}

// -------------------------------------------------------------------------------------------
// Smaller things: text at 200 %, anonymous reports, errors off the cards
// -------------------------------------------------------------------------------------------

/// On a small phone with text at 200 % the top bar's parts do not overlap; in an anonymous
/// session a report starts anonymous; an error sits on the top bar, over no card.
#[tokio::test]
async fn a_phone_at_double_text_size_in_an_anonymous_session() -> Result<()> {
    let Some(_turn) = browser_turn().await else {
        return Ok(());
    };
    let server = Server::start()?;
    let mut driver = Driver::start().await?;
    let outcome = double_text_anonymous(&server, &mut driver).await;
    driver.stop().await;
    outcome
}

async fn double_text_anonymous(server: &Server, driver: &mut Driver) -> Result<()> {
    let facilitator = driver.open("facilitator", LAPTOP, "nl").await?;
    let mut room = room(server, &facilitator, true).await?;
    let small = phone(driver, "Gijs", SMALL_PHONE, &room.join_url, "client").await?;
    small.cards_shown(4).await?;

    // Text at 200 %: the top bar's parts each keep their own place.
    for size in ["106.25%", "212.5%"] {
        small
            .js(&format!(
                "document.documentElement.style.fontSize = '{size}'"
            ))
            .await?;
        let overlap = small
            .js("const r = ['.brand', '#conn-status', '#lang-switch'].map(s => document.querySelector(s).getBoundingClientRect());
                 const cross = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
                 return cross(r[0], r[1]) || cross(r[1], r[2]) || cross(r[0], r[2]) || r.some(x => x.right > innerWidth + 0.5)")
            .await?;
        ensure!(
            overlap == json!(false),
            "the top bar's parts overlap at {size}"
        );
    }
    small.axe("phone at 200 % text (360×640)").await?;
    screen_shot(&small, "console-phone-200-percent").await?;

    // An anonymous session: the report form starts anonymous.
    small.click("#flag-open").await?;
    small.wait_for("#flag-form").await?;
    ensure!(
        small
            .js("return document.getElementById('flag-anonymous').checked")
            .await?
            == json!(true),
        "in an anonymous session a report does not start anonymous"
    );
    small
        .axe("phone, report form in an anonymous session")
        .await?;
    small.shot("console-phone-report-anonymous").await?;
    small.click("#flag-cancel").await?;
    small
        .js("document.documentElement.style.fontSize = ''")
        .await?;

    // An error, with the cards scrolled into view: it covers the top bar only.
    room.fac
        .ok(Command::OpenRound {
            phase: None,
            budget: 1,
            max_per_card: 1,
            live: false,
        })
        .await?;
    let round = room.fac.view().rounds.last().context("round")?.id.clone();
    small
        .wait_for(&format!("[data-key='vote-{}']", room.cards[0]))
        .await?;
    small
        .click(&format!("[data-key='vote-{}']", room.cards[0]))
        .await?;
    small
        .wait_js("const s = window.__tafel.status(); return s.pending === 0")
        .await?;
    small
        .click(&format!("[data-key='vote-{}']", room.cards[1]))
        .await?;
    let said = toast(&small).await?;
    ensure!(!said.is_empty(), "no message for a vote beyond the budget");
    let covers = small
        .js("const t = document.getElementById('toast').getBoundingClientRect(); const bar = document.querySelector('.topbar').getBoundingClientRect();
             return [...document.querySelectorAll('.card')].some(c => { const r = c.getBoundingClientRect(); return r.top >= bar.bottom && r.top < t.bottom && r.bottom > t.top; })")
        .await?;
    small
        .client
        .screenshot()
        .await
        .map(|png| std::fs::write(artifacts().unwrap().join("console-phone-error.png"), png))??;
    ensure!(covers == json!(false), "the error covers a card: {said}");
    small.axe("phone, an error").await?;
    let _ = round;
    Ok(())
}

//! Browser tests: the real `tafel` server and the real web client in Debian's Chromium, driven
//! through chromedriver with fantoccini (the harness is `tafel_tests::browser`).
//!
//! - Several browser sessions at once, each with its own fresh profile, so each is a different
//!   device (its own localStorage, its own tokens): a facilitator, phones at 390×844, a projector.
//! - axe-core (from npm, `tests/package.json`) is injected into every screen and must find no
//!   WCAG 2.0/2.1 A or AA violation.
//! - A screenshot of every screen goes to `tests/artifacts/` (not committed), with
//!   `measurements.txt`: bytes over the wire for the phone screen and the time from opening the
//!   join link to seeing the session.
//!
//! Without /usr/bin/chromium or /usr/bin/chromedriver the tests say so loudly and pass, except
//! in CI (env CI set), where they fail.

use anyhow::{Context, Result, ensure};
use fantoccini::Locator;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tafel_protocol::Command;
use tafel_tests::Server;
use tafel_tests::browser::*;

// -------------------------------------------------------------------------------------------
// The scenarios
// -------------------------------------------------------------------------------------------

/// A facilitator creates a session through the home page; two phones join through the join
/// link and add cards; one phone reloads and is still the same person; a vote; the projector
/// shows progress but no totals; after closing, every screen shows the same ranking.
#[tokio::test]
async fn a_session_from_start_to_ranking() -> Result<()> {
    let Some(_turn) = browser_turn().await else {
        return Ok(());
    };
    let server = Server::start()?;
    let mut driver = Driver::start().await?;
    let outcome = session_from_start_to_ranking(&server, &mut driver).await;
    driver.stop().await;
    outcome
}

async fn session_from_start_to_ranking(server: &Server, driver: &mut Driver) -> Result<()> {
    let base = &server.base;

    // The facilitator starts a session from the home page.
    let facilitator = driver.open("facilitator", LAPTOP, "nl").await?;
    facilitator.goto(&format!("{base}/")).await?;
    facilitator.wait_for("#create-form").await?;
    facilitator.axe("home (laptop)").await?;
    facilitator
        .type_into("#title", "Meer regie voor cliënten")
        .await?;
    facilitator
        .type_into(
            "#problem",
            "Cliënten hebben weinig te zeggen over hun eigen dag.",
        )
        .await?;
    facilitator
        .click("#create-form button[type=submit]")
        .await?;
    facilitator.wait_for("#join-code").await?;
    let code = facilitator.text("#join-code").await?;
    let join_link = facilitator.value("#join-link").await?;
    let projector_link = facilitator.value("#projector-link").await?;
    ensure!(
        join_link.ends_with(&format!("/j/{code}")),
        "join link {join_link}"
    );
    ensure!(
        facilitator.js("return location.hash").await? == json!(""),
        "the facilitator token stays in the address bar"
    );
    facilitator.axe("facilitator").await?;
    facilitator.shot("facilitator").await?;

    // The projector, on the big screen, shows the code and the QR code while people join.
    let projector = driver.open("projector", BIG_SCREEN, "en").await?;
    projector.goto(&projector_link).await?;
    projector.wait_for(".join-panel.large #join-code").await?;
    ensure!(projector.text(".join-panel #join-code").await? == code);
    projector.wait_js("return document.querySelector('.join-panel img.qr')?.complete && document.querySelector('.join-panel img.qr').naturalWidth > 0").await?;
    projector.axe("projector").await?;
    join_link_whole(&projector).await?;
    projector.shot("projector").await?;

    // Phone A opens the join link (measured: bytes and time until the session shows).
    let anna = driver.open("phone-anna", PHONE, "nl").await?;
    let opened = Instant::now();
    anna.goto(&join_link).await?;
    anna.wait_js("return document.getElementById('session-title')?.textContent === 'Meer regie voor cliënten'").await?;
    let join_ms = opened.elapsed().as_millis();
    let shown_ms = anna
        .js("return performance.getEntriesByName('tafel:session-shown')[0].startTime")
        .await?;
    let join_bytes = anna.transferred_bytes().await?;
    let join_resources = anna.resources().await?;
    anna.axe("join").await?;
    anna.shot("join").await?;
    join_through_form(&anna, "Anna", "medewerker").await?;
    anna.axe("participant").await?;

    // Phone B comes in through the home page and types the code.
    let bram = driver.open("phone-bram", PHONE, "nl").await?;
    bram.goto(&format!("{base}/")).await?;
    bram.wait_for("#join-form").await?;
    bram.axe("home (phone)").await?;
    bram.shot("home").await?;
    bram.type_into("#code", &code.to_lowercase()).await?;
    bram.click("#join-form button[type=submit]").await?;
    bram.wait_js("return location.pathname.startsWith('/j/')")
        .await?;
    join_through_form(&bram, "Bram", "client").await?;

    // The language switch: English and back, with <html lang> following.
    bram.click("#lang-switch").await?;
    bram.wait_js("return document.documentElement.lang === 'en' && document.getElementById('add-card-heading').textContent === 'Add a card'").await?;
    bram.click("#lang-switch").await?;
    bram.wait_js("return document.documentElement.lang === 'nl'")
        .await?;

    // Both add cards.
    let a1 = add_card(&anna, "Meer tijd voor een praatje").await?;
    let b1 = add_card(&bram, "Minder dubbel registreren").await?;
    let a2 = add_card(&anna, "Vaste gezichten op de groep").await?;
    for page in [&anna, &bram, &facilitator, &projector] {
        page.wait_js("return document.querySelectorAll('#cards [data-card]').length === 3")
            .await?;
    }
    anna.shot("participant").await?;

    // Anna reloads in the middle: still Anna, her card still hers to change.
    let people_before = facilitator.count(".person").await?;
    anna.refresh().await?;
    anna.wait_for(&format!("[data-key='edit-{a1}']")).await?;
    let reload_bytes = anna.transferred_bytes().await?;
    anna.click(&format!("[data-key='edit-{a1}']")).await?;
    anna.wait_for("#edit-text").await?;
    anna.axe("participant (changing a card)").await?;
    anna.type_into("#edit-text", " en een kop koffie").await?;
    anna.click("#edit-card-form button[type=submit]").await?;
    facilitator
        .wait_js(&format!(
            "return document.getElementById('fcard-{a1}')?.textContent === 'Meer tijd voor een praatje en een kop koffie'"
        ))
        .await?;
    ensure!(
        facilitator.count(".person").await? == people_before,
        "the reload made a new participant instead of bringing Anna back"
    );
    facilitator
        .wait_js("return [...document.querySelectorAll('.presence.on')].length === 3")
        .await?;

    // The facilitator opens a vote: budget 5, at most 3 per card, results hidden.
    facilitator.click("#open-round").await?;
    facilitator.wait_for("#close-round").await?;
    for phone in [&anna, &bram] {
        phone
            .wait_js("return document.getElementById('budget')?.dataset.remaining === '5'")
            .await?;
    }

    // The phones vote. Anna: 3 on Bram's card (the most per card), 1 on her second card.
    for _ in 0..3 {
        vote(&anna, &b1, "vote").await?;
    }
    vote(&anna, &a2, "vote").await?;
    anna.wait_js("return document.getElementById('budget').dataset.remaining === '1'")
        .await?;
    // A fourth vote on the same card is refused in plain words, before it reaches the server.
    anna.click(&format!("[data-key='vote-{b1}']")).await?;
    anna.wait_js("return !document.getElementById('toast').hidden")
        .await?;
    anna.axe("participant (voting)").await?;
    anna.shot("participant-voting").await?;
    // Bram: 1 on his own card, 2 on Anna's first, and one placed and taken back again.
    vote(&bram, &b1, "vote").await?;
    vote(&bram, &a1, "vote").await?;
    vote(&bram, &a1, "vote").await?;
    vote(&bram, &a2, "vote").await?;
    bram.wait_js(&format!(
        "return document.querySelector('[data-card=\"{a2}\"] .vote-count').dataset.votes === '1'"
    ))
    .await?;
    vote(&bram, &a2, "unvote").await?;
    bram.wait_js("return document.getElementById('budget').dataset.remaining === '2'")
        .await?;

    // The projector shows progress, never totals, while the round is open.
    projector
        .wait_js("const v = document.getElementById('voters'); return v && v.dataset.voters === '2' && v.dataset.of === '2'")
        .await?;
    let leaks = projector
        .js("return document.querySelectorAll('.badge.votes, #live-ranking, #ranking').length")
        .await?;
    ensure!(
        leaks == json!(0),
        "the projector shows vote totals while the round is open"
    );
    for phone in [&anna, &bram] {
        ensure!(
            phone.count(".vote-total, #ranking").await? == 0,
            "a phone shows totals while the round is open"
        );
    }
    projector.axe("projector (voting)").await?;
    join_link_whole(&projector).await?;
    projector.shot("projector-voting").await?;
    facilitator.shot("facilitator-voting").await?;

    // The facilitator closes the round: every screen shows the same ranking.
    facilitator.click("#close-round").await?;
    let expected = vec![format!("{b1}:4"), format!("{a1}:2"), format!("{a2}:1")];
    for page in [&facilitator, &projector, &anna, &bram] {
        page.wait_for("#ranking li").await?;
        let ranking = page.ranking().await?;
        ensure!(
            ranking == expected,
            "{}: ranking {ranking:?}, expected {expected:?}",
            page.name
        );
    }
    anna.axe("participant (result)").await?;
    facilitator.axe("facilitator (result)").await?;
    projector.axe("projector (result)").await?;
    anna.shot("participant-result").await?;
    facilitator.shot("facilitator-result").await?;
    projector.shot("projector-result").await?;

    // Ending asks first, then every phone turns read-only.
    facilitator.click("[data-key='end']").await?;
    facilitator.click("[data-key='end-yes']").await?;
    anna.wait_for("#ended-notice").await?;
    ensure!(
        anna.count("#add-card-form, .vote, .card-actions").await? == 0,
        "an ended session still offers changes"
    );
    anna.shot("participant-ended").await?;

    let report = format!(
        "phone, join link (cold cache): {join_bytes} bytes over the wire until the session shows\n\
         phone, participant screen after a reload (warm cache, revalidated): {reload_bytes} bytes\n\
         phone, join link opened → session title shown: {join_ms} ms wall clock (WebDriver included), \
         {shown} ms after navigation start (performance mark)\n\n\
         what the join link loaded (bytes transferred, body on the wire, body decoded):\n\
         {join_resources}",
        shown = shown_ms
            .as_f64()
            .map(|ms| format!("{ms:.0}"))
            .unwrap_or_default()
    );
    print!("{report}");
    std::fs::write(artifacts()?.join("measurements.txt"), report)?;
    for later in [
        "/app/history",
        "/app/screens/replay",
        "/app/screens/report",
        "/app/panels/timeline",
        "/app/panels/speakers",
        "/app/panels/report.js",
    ] {
        ensure!(
            !join_resources.contains(later),
            "the join link loaded the replay's or the report's code ({later}):\n{join_resources}"
        );
    }
    Ok(())
}

/// A phone loses its connection while adding a card — the socket closes right after the card
/// was sent, the phone is offline while adding one, the server is killed and comes back — and
/// after reconnecting each card exists exactly once.
#[tokio::test]
async fn a_card_added_while_the_connection_drops_exists_once() -> Result<()> {
    let Some(_turn) = browser_turn().await else {
        return Ok(());
    };
    let mut server = Server::start()?;
    let mut driver = Driver::start().await?;
    let outcome = card_added_while_connection_drops(&mut server, &mut driver).await;
    driver.stop().await;
    outcome
}

async fn card_added_while_connection_drops(server: &mut Server, driver: &mut Driver) -> Result<()> {
    let created = server.create_session("Verbinding kwijt", false).await?;
    let facilitator = driver.open("facilitator-presence", LAPTOP, "nl").await?;
    facilitator.goto(&created.facilitator_url).await?;
    facilitator.wait_for("#join-code").await?;
    let phone = driver.open("phone-offline", PHONE, "nl").await?;
    phone.goto(&created.join_url).await?;
    join_through_form(&phone, "Chris", "teamleider").await?;
    let chris = "[data-participant='p2'] .presence";
    facilitator.wait_for(&format!("{chris}.on")).await?;

    // 1. The socket closes right after the command went out: the ack is lost, the phone
    //    resends the same id after reconnecting, and the server answers it without applying
    //    it again.
    phone.js("window.__tafel.dropAfterNextSend()").await?;
    phone.type_into("#card-text", "Kaart een").await?;
    phone.click("#add-card-button").await?;
    settled(&phone).await?;
    ensure!(
        phone.js("return window.__tafel.status().welcomes").await? == json!(2),
        "no reconnect happened"
    );

    // 2. Offline for a moment while adding: the card waits, visibly, and goes out later.
    phone.js("window.__tafel.dropConnection(3000)").await?;
    phone.wait_for("#conn-status[data-state='offline']").await?;
    // The facilitator sees who is connected: Chris goes offline, and comes back below.
    facilitator.wait_for(&format!("{chris}.off")).await?;
    phone.type_into("#card-text", "Kaart twee").await?;
    phone.click("#add-card-button").await?;
    phone.wait_for(".card-pending").await?;
    phone.shot("participant-offline").await?;
    settled(&phone).await?;
    facilitator.wait_for(&format!("{chris}.on")).await?;

    // 3. The server is killed and started again while the card is being added.
    server.kill()?;
    phone.wait_for("#conn-status[data-state='offline']").await?;
    phone.type_into("#card-text", "Kaart drie").await?;
    phone.click("#add-card-button").await?;
    server.restart()?;
    settled(&phone).await?;

    // Each card exists exactly once: on the phone, and in the room as the server keeps it.
    for text in ["Kaart een", "Kaart twee", "Kaart drie"] {
        let on_phone = phone
            .js(&format!(
                "return [...document.querySelectorAll('#cards .card:not(.card-pending) .card-text')].filter(e => e.textContent === '{text}').length"
            ))
            .await?;
        ensure!(
            on_phone == json!(1),
            "{text}: {on_phone} times on the phone"
        );
    }
    let mut check = server.client().await?;
    check
        .resume(&created.code, &created.facilitator_token)
        .await?;
    for text in ["Kaart een", "Kaart twee", "Kaart drie"] {
        let n = check
            .view()
            .cards
            .iter()
            .filter(|c| c.text.as_deref() == Some(text))
            .count();
        ensure!(n == 1, "{text}: {n} times in the room");
    }
    phone.shot("participant-reconnected").await?;
    Ok(())
}

/// Text people type is shown as text on every screen, never run as HTML.
#[tokio::test]
async fn typed_text_is_shown_as_text_everywhere() -> Result<()> {
    let Some(_turn) = browser_turn().await else {
        return Ok(());
    };
    let server = Server::start()?;
    let mut driver = Driver::start().await?;
    let outcome = typed_text_is_text(&server, &mut driver).await;
    driver.stop().await;
    outcome
}

async fn typed_text_is_text(server: &Server, driver: &mut Driver) -> Result<()> {
    const CARD: &str = "<img src=x onerror=alert(1)>";
    const NAME: &str = "<b>Eve</b>";
    let title = "<script>alert('titel')</script> & co";
    let created = server.create_session(title, false).await?;

    // This time the facilitator uses a phone too.
    let facilitator = driver.open("facilitator-phone", PHONE, "nl").await?;
    facilitator.goto(&created.facilitator_url).await?;
    facilitator.wait_for("#join-code").await?;
    let projector = driver.open("projector-escaping", BIG_SCREEN, "nl").await?;
    projector.goto(&created.projector_url).await?;
    projector.wait_for("#join-code").await?;

    let phone = driver.open("phone-eve", PHONE, "nl").await?;
    phone.goto(&created.join_url).await?;
    join_through_form(&phone, NAME, "naaste").await?;
    add_card(&phone, CARD).await?;

    for page in [&phone, &facilitator, &projector] {
        page.wait_js(&format!(
            "return [...document.querySelectorAll('#cards .card-text')].some(e => e.textContent === {})",
            json!(CARD)
        ))
        .await?;
        ensure!(
            page.count(".card img, h1 script, h1 b").await? == 0,
            "{}: typed HTML became elements",
            page.name
        );
        ensure!(
            page.js("return document.querySelector('h1').textContent")
                .await?
                == json!(title),
            "{}: the title is not shown as typed",
            page.name
        );
        ensure!(
            page.client.get_alert_text().await.is_err(),
            "{}: an alert opened",
            page.name
        );
    }
    facilitator
        .wait_js(&format!(
            "return [...document.querySelectorAll('.person-name')].some(e => e.textContent === {})",
            json!(NAME)
        ))
        .await?;
    facilitator.axe("facilitator (phone)").await?;

    // A name that would turn the text after it around is refused on the phone, in words.
    let mallory = driver.open("phone-mallory", PHONE, "nl").await?;
    mallory.goto(&created.join_url).await?;
    mallory.wait_for("#join-form #name").await?;
    mallory.type_into("#name", "Mal\u{202E}lory").await?;
    mallory.click("label[for='perspective-anders']").await?;
    mallory.click("#join-form button[type=submit]").await?;
    mallory
        .wait_js(
            "return document.getElementById('name-error')?.textContent.includes('leesrichting')",
        )
        .await?;
    ensure!(
        mallory.count("#add-card-form").await? == 0,
        "a name with a direction override got in"
    );

    // A card may hold a right-to-left override, but it cannot turn around what follows it: in
    // the ranking, the vote count after the card's text still reads left to right.
    const OVERRIDE: &str = "Zie \u{202E}hier";
    let card = add_card(&phone, OVERRIDE).await?;
    let mut fac = server.client().await?;
    fac.resume(&created.code, &created.facilitator_token)
        .await?;
    let round = fac
        .ok(Command::OpenRound {
            phase: None,
            budget: 1,
            max_per_card: 1,
            live: false,
        })
        .await?
        .round
        .context("round")?;
    vote(&phone, &card, "vote").await?;
    fac.ok(Command::CloseRound { round }).await?;
    let reads_in_order = format!(
        "const row = document.querySelector('#ranking li[data-card={card}]'); \
         if (!row) return null; \
         const node = row.querySelector('.ranking-votes').firstChild; \
         const text = node.nodeType === 3 ? node : node.firstChild; \
         const at = (i) => {{ const r = document.createRange(); r.setStart(text, i); r.setEnd(text, i + 1); return r.getBoundingClientRect().left; }}; \
         const last = text.data.length - 1; \
         const card = row.querySelector('.ranking-text').getBoundingClientRect(); \
         return text.data.trim().length > 1 && at(0) < at(last) && row.querySelector('.ranking-votes').getBoundingClientRect().left >= card.left"
    );
    for page in [&phone, &projector] {
        ensure!(
            page.wait_js(&reads_in_order).await? == json!(true),
            "{}: the card's override turned the vote count around",
            page.name
        );
    }

    // A ground rule with an override, quoted in a sentence on Eve's phone: the closing quote
    // stays after the rule's text.
    let rule = fac
        .ok(Command::SetRule {
            rule: None,
            text: "Laat \u{202E}elkaar uitpraten".into(),
        })
        .await?
        .rule
        .context("rule")?;
    let eve = fac
        .view()
        .participants
        .iter()
        .find(|p| p.name == NAME)
        .context("Eve")?
        .id
        .clone();
    let mut bob = server.client().await?;
    bob.join(
        &created.code,
        "Bob",
        tafel_protocol::Perspective::Medewerker,
    )
    .await?;
    let report = bob
        .ok(Command::Flag {
            rule: rule.clone(),
            about: Some(eve),
            note: None,
            anonymous: false,
        })
        .await?
        .report
        .context("report")?;
    fac.ok(Command::ConfirmFlag {
        report,
        consequence: Some(tafel_protocol::Consequence::Warning),
    })
    .await?;
    let quote_closes_last = format!(
        "const p = document.querySelector('#warnings .warning[data-rule={rule}] p'); \
         if (!p) return null; \
         const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT); const nodes = []; \
         while (walker.nextNode()) nodes.push(walker.currentNode); \
         const text = nodes.find(n => n.data.includes('\\u201D')); \
         const at = (i) => {{ const r = document.createRange(); r.setStart(text, i); r.setEnd(text, i + 1); return r.getBoundingClientRect(); }}; \
         const close = text.data.indexOf('\\u201D'); \
         const others = [...text.data].map((c, i) => i).filter(i => i !== close && text.data[i].trim() && !/[\\u2066-\\u2069\\u202A-\\u202E]/.test(text.data[i])); \
         const end = at(close); \
         return others.every(i => {{ const r = at(i); return r.top < end.top - 2 || r.right <= end.right + 0.5; }}) && others.every(i => at(i).top <= end.top + 2)"
    );
    phone
        .wait_for(&format!("#warnings .warning[data-rule={rule}] p"))
        .await?;
    ensure!(
        phone.wait_js(&quote_closes_last).await? == json!(true),
        "the rule's override moved the closing quote"
    );
    facilitator.shot("escaping-facilitator-phone").await?;
    projector.shot("escaping-projector").await?;
    phone.shot("escaping-participant").await?;
    mallory.shot("escaping-refused-name").await?;
    Ok(())
}

/// The facilitator keeps the board tidy (merge, hide, restore), a participant withdraws a
/// card, the session is locked against newcomers, and the phase moves on.
#[tokio::test]
async fn the_facilitator_moderates_the_board() -> Result<()> {
    let Some(_turn) = browser_turn().await else {
        return Ok(());
    };
    let server = Server::start()?;
    let mut driver = Driver::start().await?;
    let outcome = facilitator_moderates(&server, &mut driver).await;
    driver.stop().await;
    outcome
}

async fn facilitator_moderates(server: &Server, driver: &mut Driver) -> Result<()> {
    let created = server.create_session("Samen eten", false).await?;
    let facilitator = driver.open("facilitator-moderation", LAPTOP, "nl").await?;
    facilitator.goto(&created.facilitator_url).await?;
    facilitator.wait_for("#join-code").await?;
    // Created through the API, so this device holds no projector link: it makes a new one.
    facilitator.click("[data-key='projector-link']").await?;
    facilitator.wait_for("#projector-link").await?;
    let projector_url = facilitator.value("#projector-link").await?;
    ensure!(
        projector_url.contains(&format!("/p/{}#", created.code)),
        "a new projector link: {projector_url}"
    );
    let projector = driver
        .open("projector-moderation", BIG_SCREEN, "nl")
        .await?;
    projector.goto(&projector_url).await?;
    projector.wait_for("#join-code").await?;
    let phone = driver.open("phone-dana", PHONE, "nl").await?;
    phone.goto(&created.join_url).await?;
    join_through_form(&phone, "Dana", "manager").await?;

    let keep = add_card(&phone, "Eerst vragen wat de cliënt wil").await?;
    let twin = add_card(&phone, "Eerst de cliënt vragen").await?;
    let gone = add_card(&phone, "Kaart om in te trekken").await?;

    // The participant withdraws a card, after saying yes.
    phone
        .click(&format!("[data-key='withdraw-{gone}']"))
        .await?;
    phone
        .wait_for(&format!("[data-key='withdraw-yes-{gone}']"))
        .await?;
    phone.axe("participant (withdraw?)").await?;
    phone
        .click(&format!("[data-key='withdraw-yes-{gone}']"))
        .await?;
    phone.cards_shown(2).await?;
    projector.cards_shown(2).await?;
    // A withdrawn card has no text for anyone: the console counts it, and draws no shell.
    facilitator
        .wait_js(&format!(
            "return !document.querySelector(\"[data-card='{gone}']\") && !!document.getElementById('withdrawn-count')"
        ))
        .await?;

    // The facilitator merges the twin into the other card: "merge" on one, then "merge with
    // this one" on the other.
    facilitator
        .click(&format!("[data-key='merge-{twin}']"))
        .await?;
    facilitator.wait_for("#merge-banner").await?;
    facilitator.axe("facilitator (merging)").await?;
    facilitator
        .click(&format!("[data-key='merge-into-{keep}']"))
        .await?;
    facilitator
        .wait_for(&format!("[data-card='{twin}'][data-status='merged']"))
        .await?;
    phone.cards_shown(1).await?;
    projector.cards_shown(1).await?;

    // Hide, then restore.
    facilitator
        .click(&format!("[data-key='hide-{keep}']"))
        .await?;
    phone.cards_shown(0).await?;
    projector.cards_shown(0).await?;
    facilitator.shot("facilitator-moderation").await?;
    facilitator
        .click(&format!("[data-key='restore-{keep}']"))
        .await?;
    phone.cards_shown(1).await?;
    projector.cards_shown(1).await?;

    // Locked: a newcomer is told why they cannot join; Dana can still come back.
    facilitator.click("[data-key='lock']").await?;
    facilitator
        .wait_for("#session-status[data-status='locked']")
        .await?;
    let newcomer = driver.open("phone-newcomer", PHONE, "nl").await?;
    newcomer.goto(&created.join_url).await?;
    newcomer.wait_for("#session-title").await?;
    newcomer.wait_for(".notice").await?;
    ensure!(
        newcomer.count("#join-form").await? == 0,
        "a locked session still offers the join form"
    );
    newcomer.axe("join (locked)").await?;
    newcomer.shot("join-locked").await?;
    phone.refresh().await?;
    phone.wait_for(&format!("[data-card='{keep}']")).await?;
    facilitator.click("[data-key='unlock']").await?;
    facilitator
        .wait_for("#session-status[data-status='open']")
        .await?;

    // A phone whose token the server does not know forgets it and offers the join form again.
    newcomer
        .js(&format!(
            "localStorage.setItem('tafel:token:{}', 'not-a-token')",
            created.code
        ))
        .await?;
    newcomer.refresh().await?;
    newcomer.wait_for("#join-form .notice").await?;
    ensure!(
        newcomer
            .js(&format!(
                "return localStorage.getItem('tafel:token:{}')",
                created.code
            ))
            .await?
            == Value::Null,
        "the unknown token was kept"
    );

    // The next phase: its name and sentence everywhere, and an empty board for its cards.
    facilitator.click("[data-key='phase-2']").await?;
    for page in [&phone, &projector, &facilitator] {
        page.wait_js(
            "return document.getElementById('phase-name').textContent === 'Oplossingen ontwikkelen'",
        )
        .await?;
    }
    phone.cards_shown(0).await?;
    ensure!(
        phone.value("#card-kind").await? == "idea",
        "the card kind follows the phase"
    );
    phone.shot("participant-phase-2").await?;
    Ok(())
}

/// A phone raises a hand; the facilitator gives the floor from the console; the phone shows
/// its turn with a countdown, and so does the projector; the server ends the turn at its limit
/// and every screen follows. Also measures "give the floor" → the phone showing it.
#[tokio::test]
async fn the_floor_goes_to_a_raised_hand_and_ends_at_the_limit() -> Result<()> {
    let Some(_turn) = browser_turn().await else {
        return Ok(());
    };
    let server = Server::start()?;
    let mut driver = Driver::start().await?;
    let outcome = floor_turn(&server, &mut driver).await;
    driver.stop().await;
    outcome
}

async fn floor_turn(server: &Server, driver: &mut Driver) -> Result<()> {
    let created = server.create_session("Wie heeft het woord?", false).await?;
    // A short limit, so the server ends the turn within the test.
    let mut console = server.client().await?;
    console
        .resume(&created.code, &created.facilitator_token)
        .await?;
    console
        .ok(tafel_protocol::Command::FloorSettings {
            change: tafel_protocol::FloorSettingsChange {
                turn_secs: Some(8),
                ..Default::default()
            },
        })
        .await?;
    let facilitator = driver.open("facilitator-floor", LAPTOP, "nl").await?;
    facilitator.goto(&created.facilitator_url).await?;
    facilitator.wait_for("#give-next").await?;
    let projector = driver.open("projector-floor", BIG_SCREEN, "nl").await?;
    projector.goto(&created.projector_url).await?;
    projector.wait_for("#join-code").await?;
    let phone = driver.open("phone-eva", PHONE, "nl").await?;
    phone.goto(&created.join_url).await?;
    join_through_form(&phone, "Eva", "client").await?;

    phone.click("#raise-hand").await?;
    settled(&phone).await?;
    phone.wait_for("#lower-hand").await?;
    let place = phone.text("#queue-place").await?;
    ensure!(place.contains('1'), "Eva is first in line: {place:?}");
    phone.shot("phone-hand-raised").await?;
    phone.axe("participant (hand raised)").await?;

    // The phone notes when its turn appears; the console notes when the button was pressed.
    phone
        .js("window.__turnShownAt = null; const seen = () => { const t = document.querySelector('#my-turn'); if (!window.__turnShownAt && t && t.offsetParent !== null) window.__turnShownAt = Date.now(); }; new MutationObserver(seen).observe(document.body, { childList: true, subtree: true, attributes: true });")
        .await?;
    facilitator
        .wait_js("const b = document.querySelector('#give-next'); return b && !b.disabled")
        .await?;
    let clicked_at = facilitator
        .js("document.querySelector('#give-next').click(); return Date.now()")
        .await?
        .as_i64()
        .context("click time")?;
    let shown_at = phone
        .wait_js("return window.__turnShownAt")
        .await?
        .as_i64()
        .context("shown time")?;
    let latency = shown_at - clicked_at;

    // The countdown runs on the phone and on the big screen.
    let first = phone.text("#turn-countdown").await?;
    ensure!(
        first.starts_with("0:0") || first == "0:08",
        "a countdown from 0:08: {first:?}"
    );
    projector
        .wait_js("const s = document.querySelector('#projector-speaker'); return s && s.textContent.includes('Eva')")
        .await?;
    projector.wait_for("#projector-countdown").await?;
    let secs = |t: &str| -> Result<i64> {
        let (m, s) = t.trim().split_once(':').context("m:ss")?;
        Ok(m.parse::<i64>()? * 60 + s.parse::<i64>()?)
    };
    // The countdown runs: two seconds less shows within the wait.
    let target = secs(&first)? - 2;
    phone
        .wait_js(&format!(
            "const t = document.querySelector('#turn-countdown')?.textContent.trim() || '';
             const [m, s] = t.split(':').map(Number);
             return t.includes(':') && m * 60 + s <= {target};"
        ))
        .await?;
    phone.shot("phone-my-turn").await?;
    projector.shot("projector-floor").await?;
    facilitator.shot("facilitator-floor").await?;
    phone.axe("participant (my turn)").await?;
    facilitator.axe("facilitator (floor)").await?;
    projector.axe("projector (floor)").await?;

    // At the limit the server ends the turn; every screen follows.
    phone
        .wait_js_for(
            "const t = document.querySelector('#my-turn'); return !t || t.offsetParent === null",
            Duration::from_secs(15),
        )
        .await?;
    projector
        .wait_js("const s = document.querySelector('#projector-speaker'); return !s || !s.textContent.includes('Eva')")
        .await?;
    facilitator
        .wait_js("const b = document.querySelector('#balance-figure'); return b && /\\d/.test(b.textContent)")
        .await?;
    console
        .until(|v| v.floor.turn.is_none() && v.floor.turns == 1)
        .await?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(artifacts()?.join("measurements.txt"))
        .and_then(|mut f| {
            use std::io::Write;
            writeln!(
                f,
                "give the floor (console click) -> the speaker's phone shows its turn: {latency} ms"
            )
        })?;
    println!("give the floor -> phone shows it: {latency} ms");
    Ok(())
}

/// One phone agrees to the ground rules; another reports, anonymously, that the first broke
/// one; the facilitator confirms it with a waiting hand. The first phone gets its warning and
/// sees its hand wait; nobody is told who reported.
#[tokio::test]
async fn a_reported_violation_is_confirmed_without_naming_the_reporter() -> Result<()> {
    let Some(_turn) = browser_turn().await else {
        return Ok(());
    };
    let server = Server::start()?;
    let mut driver = Driver::start().await?;
    let outcome = report_violation(&server, &mut driver).await;
    driver.stop().await;
    outcome
}

async fn report_violation(server: &Server, driver: &mut Driver) -> Result<()> {
    let created = server.create_session("Samen afspreken", false).await?;
    let facilitator = driver.open("facilitator-rules", LAPTOP, "nl").await?;
    facilitator.goto(&created.facilitator_url).await?;
    facilitator.wait_for("#rules-tally").await?;
    let fenna = driver.open("phone-fenna", PHONE, "nl").await?;
    fenna.goto(&created.join_url).await?;
    join_through_form(&fenna, "Fenna", "medewerker").await?;
    let gijs = driver.open("phone-gijs", PHONE, "nl").await?;
    gijs.goto(&created.join_url).await?;
    join_through_form(&gijs, "Gijs", "manager").await?;

    fenna.click("#rules-agree").await?;
    settled(&fenna).await?;
    facilitator
        .wait_for("#rules-tally[data-agreed='1'][data-disagreed='0']")
        .await?;

    let fenna_id = fenna
        .wait_js("return window.__tafel.store().you.id")
        .await?
        .as_str()
        .context("Fenna's id")?
        .to_owned();
    gijs.click("#flag-open").await?;
    gijs.wait_for("#flag-form").await?;
    gijs.client
        .find(Locator::Css("#flag-rule"))
        .await?
        .select_by_value("g3")
        .await?;
    gijs.client
        .find(Locator::Css("#flag-about"))
        .await?
        .select_by_value(&fenna_id)
        .await?;
    gijs.type_into("#flag-note", "Lachte om een idee van een cliënt")
        .await?;
    gijs.click("#flag-anonymous").await?;
    gijs.axe("participant (reporting)").await?;
    gijs.shot("phone-reporting").await?;
    gijs.click("#flag-send").await?;
    settled(&gijs).await?;

    facilitator
        .wait_for("[data-report='x1'][data-status='open']")
        .await?;
    let report = facilitator.text("[data-report='x1']").await?;
    ensure!(
        report.contains("Fenna") && !report.contains("Gijs"),
        "about Fenna, reporter hidden: {report:?}"
    );
    facilitator
        .client
        .find(Locator::Css("#csq-x1"))
        .await?
        .select_by_value("hand_wait")
        .await?;
    facilitator.wait_for("#csq-min-x1").await?;
    facilitator
        .js("const m = document.querySelector('#csq-min-x1'); m.value = ''; m.dispatchEvent(new Event('input'))")
        .await?;
    facilitator.type_into("#csq-min-x1", "2").await?;
    facilitator.axe("facilitator (report)").await?;
    facilitator.click("[data-key='confirm-x1']").await?;
    facilitator
        .wait_for("[data-report='x1'][data-status='confirmed']")
        .await?;
    facilitator.shot("facilitator-reports").await?;

    // Fenna's phone: a warning, and her hand waits; nothing says who reported.
    fenna.wait_for("#warnings .warning[data-rule='g3']").await?;
    fenna.wait_for("#hand-wait").await?;
    let warning = fenna.text("#warnings").await?;
    ensure!(
        !warning.contains("Gijs"),
        "the warning names nobody: {warning:?}"
    );
    fenna.axe("participant (warned)").await?;
    fenna.shot("phone-warned").await?;
    // Everyone sees the rule's count, no names.
    gijs.wait_for(".rule-count").await?;
    Ok(())
}

/// What a session produces, through phases 0–5, with a facilitator, three phones and the big
/// screen: the readiness check (phones answer, counts on the console and the big screen, the
/// facilitator concludes "start"), who is at the table (a client party listed while no client
/// is present: the console warns until a client joins), two success criteria agreed by consent
/// and assessed in phase 5, an idea built on (a condition under it) and turned into an
/// experiment that fails, its lesson, and a reflection. Every screen is shot and checked by axe
/// at each step.
#[tokio::test]
async fn a_session_produces_readiness_criteria_experiments_and_lessons() -> Result<()> {
    let Some(_turn) = browser_turn().await else {
        return Ok(());
    };
    let server = Server::start()?;
    let mut driver = Driver::start().await?;
    let outcome = session_produces(&server, &mut driver).await;
    driver.stop().await;
    outcome
}

async fn session_produces(server: &Server, driver: &mut Driver) -> Result<()> {
    let created = server
        .create_session("Samen de avond anders", false)
        .await?;
    let facilitator = driver.open("facilitator-method", LAPTOP, "nl").await?;
    facilitator.goto(&created.facilitator_url).await?;
    facilitator
        .wait_for("#readiness-console #open-check")
        .await?;
    let projector = driver.open("projector-method", BIG_SCREEN, "nl").await?;
    projector.goto(&created.projector_url).await?;
    projector.wait_for("#join-code").await?;
    let anna = phone(
        driver,
        "phone-method-anna",
        &created.join_url,
        "Anna",
        "medewerker",
    )
    .await?;
    let bram = phone(
        driver,
        "phone-method-bram",
        &created.join_url,
        "Bram",
        "naaste",
    )
    .await?;
    let phones = [&anna, &bram];

    // --- Who is at the table: a client party listed, no client present: the console warns.
    facilitator
        .click("#table-console .form-fold summary")
        .await?;
    facilitator
        .type_into("#fparty-name", "Cliënten van de dagbesteding")
        .await?;
    select(&facilitator, "#fparty-perspective", "client").await?;
    select(&facilitator, "#fparty-stake", "both").await?;
    facilitator.click("#fparty-add").await?;
    facilitator.wait_for("#table-warning").await?;
    let warning = facilitator.text("#table-warning").await?;
    ensure!(
        warning.contains("Geen cliënt aan tafel"),
        "the warning: {warning:?}"
    );
    // A phone proposes a party; the facilitator puts it on the list.
    anna.click("#open-table").await?;
    anna.wait_for("#party-form").await?;
    anna.type_into("#party-name", "Wijkverpleging").await?;
    select(&anna, "#party-perspective", "medewerker").await?;
    select(&anna, "#party-stake", "needed").await?;
    anna.axe("participant (proposing a party)").await?;
    anna.shot("method-0-phone-table").await?;
    anna.click("#party-add").await?;
    settled(&anna).await?;
    facilitator.wait_for("[data-key='list-s2']").await?;
    facilitator.click("[data-key='list-s2']").await?;
    facilitator
        .wait_for("#table-console [data-party='s2'][data-status='listed']")
        .await?;
    facilitator.click("#display-table").await?;
    projector
        .wait_for("#table-board #board-coverage li[data-perspective='client'][data-present='0']")
        .await?;
    facilitator.axe("facilitator (table warning)").await?;
    facilitator.shot("method-0-console-table-warning").await?;
    projector.axe("projector (table)").await?;
    projector.shot("method-0-projector-table").await?;

    // A client joins: the warning goes, everywhere the client counts as present.
    let chris = driver.open("phone-method-chris", PHONE, "nl").await?;
    chris.goto(&created.join_url).await?;
    join_through_form(&chris, "Chris", "client").await?;
    facilitator
        .wait_js("return !document.getElementById('table-warning')")
        .await?;
    projector
        .wait_for("#board-coverage li[data-perspective='client'][data-present='1']")
        .await?;
    let phones3 = [&anna, &bram, &chris];

    // --- Readiness: the facilitator opens the check; the phones answer.
    facilitator.click("#open-check").await?;
    for phone in phones3 {
        phone.wait_for("#readiness-form").await?;
    }
    chris.axe("participant (readiness check)").await?;
    chris.shot("method-0-phone-readiness").await?;
    let answers = [
        (&anna, ["yes", "yes", "yes"], ""),
        (
            &bram,
            ["yes", "not_sure", "yes"],
            "Ik twijfel of het echt ingewikkeld is",
        ),
        (&chris, ["yes", "yes", "no"], ""),
    ];
    for (phone, [urgent, complex, willing], comment) in answers {
        phone
            .click(&format!("label[for='ready-urgent-{urgent}']"))
            .await?;
        phone
            .click(&format!("label[for='ready-complex-{complex}']"))
            .await?;
        phone
            .click(&format!("label[for='ready-willing-{willing}']"))
            .await?;
        if !comment.is_empty() {
            phone.type_into("#ready-comment", comment).await?;
        }
        phone.click("#readiness-send").await?;
        settled(phone).await?;
        phone.wait_for("#readiness-done").await?;
    }
    for (page, counts) in [
        (&facilitator, "#fac-counts"),
        (&projector, "#board-counts"),
        (&chris, "#phone-counts"),
    ] {
        page.wait_for(&format!("{counts}[data-answered='3']"))
            .await?;
        let bars = page
            .js(&format!(
                "return [...document.querySelectorAll('{counts} .answer-bars')].map(q => q.dataset.question + ':' + [...q.querySelectorAll('li')].map(li => li.dataset.count).join('/'))"
            ))
            .await?;
        ensure!(
            bars == json!(["urgent:3/0/0", "complex:2/1/0", "willing:2/0/1"]),
            "{}: the counts {bars}",
            page.name
        );
    }
    let console_check = facilitator.text("#readiness-console").await?;
    ensure!(
        console_check.contains("Ik twijfel")
            && !["Anna", "Bram", "Chris"]
                .iter()
                .any(|n| console_check.contains(n)),
        "the comment is shown without a name: {console_check:?}"
    );
    chris.axe("participant (readiness answered)").await?;
    chris.shot("method-0-phone-readiness-answered").await?;
    projector.axe("projector (readiness)").await?;
    projector.shot("method-0-projector-readiness").await?;
    facilitator.axe("facilitator (readiness)").await?;
    facilitator.shot("method-0-console-readiness").await?;
    facilitator.click("label[for='conclusion-start']").await?;
    facilitator
        .type_into(
            "#conclusion-note",
            "Dringend en samen: we gaan aan de slag.",
        )
        .await?;
    facilitator.click("#conclude-check").await?;
    for page in [&facilitator, &projector, &anna] {
        page.wait_for("#conclusion[data-conclusion='start']")
            .await?;
    }
    anna.shot("method-0-phone-concluded").await?;

    // --- Success criteria: one plain from a phone, one measurable from the console.
    bram.click("#open-criteria").await?;
    bram.wait_for("#criterion-form").await?;
    bram.type_into(
        "#criterion-text",
        "We hebben 2 of 3 plannen die we echt kunnen uitvoeren",
    )
    .await?;
    bram.click("#criterion-add").await?;
    settled(&bram).await?;
    facilitator
        .click("#criteria-console .form-fold summary")
        .await?;
    facilitator
        .type_into(
            "#fcriterion-text",
            "Minder avonden waarop cliënten alleen zitten",
        )
        .await?;
    facilitator.type_into("#fcriterion-target", "30").await?;
    facilitator
        .type_into("#fcriterion-unit", "% minder")
        .await?;
    facilitator.click("#fcriterion-add").await?;
    facilitator
        .wait_for("#criteria-console [data-criterion='c2']")
        .await?;
    // Consent rounds: everyone agrees to c1; on c2 Bram objects first, then agrees.
    facilitator.click("[data-key='ask-c1']").await?;
    for phone in phones3 {
        phone.click("[data-key='agree-c1']").await?;
        settled(phone).await?;
    }
    facilitator
        .wait_for("[data-criterion='c1'] .consent-counts[data-agree='3'][data-object='0']")
        .await?;
    facilitator.click("[data-key='agreed-c1']").await?;
    facilitator
        .wait_for("#criteria-console [data-criterion='c1'][data-status='agreed']")
        .await?;
    facilitator.click("[data-key='ask-c2']").await?;
    bram.click("[data-key='object-c2']").await?;
    settled(&bram).await?;
    bram.wait_for("[data-key='object-c2'][aria-pressed='true']")
        .await?;
    bram.axe("participant (consent)").await?;
    bram.shot("method-0-phone-consent").await?;
    facilitator
        .wait_for("[data-criterion='c2'] .consent-counts[data-object='1']")
        .await?;
    for phone in phones3 {
        phone.click("[data-key='agree-c2']").await?;
        settled(phone).await?;
    }
    facilitator
        .wait_for("[data-criterion='c2'] .consent-counts[data-agree='3'][data-object='0']")
        .await?;
    facilitator.axe("facilitator (consent)").await?;
    facilitator.shot("method-0-console-consent").await?;
    facilitator.click("[data-key='agreed-c2']").await?;
    facilitator
        .wait_for("#criteria-console [data-criterion='c2'][data-status='agreed']")
        .await?;
    facilitator.click("#display-criteria").await?;
    projector.wait_js("return document.querySelectorAll('#criteria-board [data-status=\"agreed\"]').length === 2").await?;
    projector.axe("projector (criteria)").await?;
    projector.shot("method-0-projector-criteria").await?;
    bram.wait_js(
        "return document.querySelectorAll('#criteria-agreed [data-criterion]').length === 2",
    )
    .await?;
    bram.shot("method-0-phone-criteria").await?;

    // --- Phase 1: problems and questions, the phase's kind by default.
    set_phase(&facilitator, &[&anna, &bram, &chris, &projector], 1).await?;
    ensure!(
        anna.value("#card-kind").await? == "problem",
        "phase 1 asks for problems"
    );
    add_card(&anna, "Cliënten zitten 's avonds vaak alleen op hun kamer").await?;
    choose_kind(&bram, "question").await?;
    add_card(&bram, "Voor wie is de avond het langst?").await?;
    anna.axe("participant (phase 1)").await?;
    anna.shot("method-1-phone").await?;

    // --- Phase 2: ideas and an example with its source; a vote.
    set_phase(&facilitator, &[&anna, &bram, &chris, &projector], 2).await?;
    ensure!(
        anna.value("#card-kind").await? == "idea",
        "phase 2 asks for ideas"
    );
    let walk = add_card(&anna, "Een vaste avondwandeling met vrijwilligers").await?;
    choose_kind(&bram, "example").await?;
    bram.wait_js("return !document.getElementById('card-source').closest('.field-wrap').hidden")
        .await?;
    bram.type_into("#card-source", "Zorggroep Noord, locatie De Es")
        .await?;
    let example = add_card(&bram, "Een buurtrestaurant waar cliënten mee-eten").await?;
    bram.wait_js(&format!("return document.querySelector('[data-card=\"{example}\"] .card-source')?.textContent.includes('Zorggroep Noord')")).await?;
    let games = add_card(&chris, "Een spelletjesavond in de huiskamer").await?;
    bram.axe("participant (phase 2, an example)").await?;
    bram.shot("method-2-phone-example").await?;
    facilitator.wait_for("#open-round").await?;
    facilitator.click("#open-round").await?;
    facilitator.wait_for("#close-round").await?;
    for (phone, votes) in [
        (&anna, [&walk, &walk, &example]),
        (&bram, [&walk, &example, &games]),
        (&chris, [&walk, &games, &games]),
    ] {
        phone.wait_for("#budget").await?;
        for card in votes {
            vote(phone, card, "vote").await?;
        }
    }
    facilitator.click("#close-round").await?;
    facilitator.wait_for("#ranking li").await?;

    // --- Phase 3: the top cards carried over; building on one, a condition under it; the
    // idea's author makes it an experiment.
    set_phase(&facilitator, &[&anna, &bram, &chris, &projector], 3).await?;
    for page in [&anna, &bram, &projector] {
        page.wait_for(&format!("#carried [data-card='{walk}']"))
            .await?;
    }
    bram.click(&format!("[data-key='build-{walk}']")).await?;
    bram.wait_for(&format!("#building-on[data-card='{walk}']"))
        .await?;
    ensure!(
        bram.value("#card-kind").await? == "condition",
        "phase 3 builds conditions"
    );
    bram.axe("participant (building on a card)").await?;
    bram.shot("method-3-phone-build-on").await?;
    bram.type_into(
        "#card-text",
        "Er moeten genoeg vrijwilligers zijn, ook in de winter",
    )
    .await?;
    bram.click("#add-card-button").await?;
    settled(&bram).await?;
    let condition_under_walk =
        format!("#carried [data-card='{walk}'] .conditions [data-kind='condition']");
    for page in [&anna, &bram, &chris, &projector] {
        page.wait_for(&condition_under_walk).await?;
    }
    let condition = bram
        .js(&format!(
            "return document.querySelector(\"{condition_under_walk}\").dataset.card"
        ))
        .await?
        .as_str()
        .context("the condition's id")?
        .to_owned();
    // The console lists it with this phase's cards, with the idea it builds on.
    facilitator
        .wait_for(&format!(
            "#cards [data-card='{condition}'] .thread[data-builds-on='{walk}']"
        ))
        .await?;
    // Chris builds on the walk with an idea of his own: the phone shows the thread.
    chris.click(&format!("[data-key='build-{walk}']")).await?;
    chris.wait_for("#building-on").await?;
    choose_kind(&chris, "idea").await?;
    let group_walk = add_card(&chris, "Wandelen met de hele groep, ook met rolstoel").await?;
    for phone in phones {
        phone
            .wait_for(&format!(
                "[data-card='{group_walk}'] .thread[data-builds-on='{walk}']"
            ))
            .await?;
    }
    chris.axe("participant (phase 3, a thread)").await?;
    chris.shot("method-3-phone-thread").await?;
    projector.axe("projector (phase 3)").await?;
    projector.shot("method-3-projector").await?;
    anna.click(&format!("[data-key='try-{walk}']")).await?;
    anna.wait_for("#x-form-e1").await?;
    anna.type_into(
        "#x-e1-prediction",
        "Als we elke avond om 19 uur wandelen, dan zit de helft minder vaak alleen",
    )
    .await?;
    anna.type_into(
        "#x-e1-measure",
        "We tellen per week hoeveel cliënten meelopen",
    )
    .await?;
    anna.type_into(
        "#x-e1-stop_criterion",
        "Na twee weken lopen er minder dan drie mensen mee",
    )
    .await?;
    anna.type_into("#x-e1-owner_party", "Team De Linde").await?;
    anna.click("label[for='x-e1-owner-p2']").await?;
    set_value(&anna, "#x-e1-start", "2025-11-03").await?;
    set_value(&anna, "#x-e1-review", "2025-11-17").await?;
    select(&anna, "#x-e1-status", "running").await?;
    anna.axe("participant (planning an experiment)").await?;
    anna.shot("method-3-phone-experiment-plan").await?;
    anna.click("[data-key='x-save-e1']").await?;
    settled(&anna).await?;
    facilitator
        .wait_for("#experiments [data-experiment='e1'][data-status='running']")
        .await?;
    facilitator.axe("facilitator (phase 3)").await?;
    facilitator.shot("method-3-console").await?;

    // --- Phase 4: the experiment runs, fails, and is stopped; shown like any other.
    set_phase(&facilitator, &[&anna, &bram, &chris, &projector], 4).await?;
    projector
        .wait_for("#experiments-board [data-experiment='e1']")
        .await?;
    anna.click("[data-key='x-edit-e1']").await?;
    anna.wait_for("#x-form-e1").await?;
    select(&anna, "#x-e1-status", "stopped").await?;
    select(&anna, "#x-e1-outcome", "did_not_work").await?;
    anna.type_into(
        "#x-e1-observed",
        "Na twee weken liepen er nog twee mensen mee: te koud en te donker",
    )
    .await?;
    select(&anna, "#x-e1-decision", "abandon").await?;
    anna.click("[data-key='x-save-e1']").await?;
    settled(&anna).await?;
    let failed = "[data-experiment='e1'][data-status='stopped'][data-outcome='did_not_work'][data-decision='abandon']";
    for page in [&facilitator, &projector, &anna, &bram] {
        page.wait_for(failed).await?;
        let look = page
            .js(&format!(
                "const e = document.querySelector(\"{failed}\"); const b = e.querySelector('.x-outcome');
                 return [e.offsetParent !== null, getComputedStyle(e).borderLeftColor, getComputedStyle(b).color, getComputedStyle(b).backgroundColor]"
            ))
            .await?;
        ensure!(
            look == json!([
                true,
                "rgb(11, 92, 173)",
                "rgb(8, 74, 140)",
                "rgb(230, 240, 250)"
            ]),
            "{}: a failed experiment looks like any other: {look}",
            page.name
        );
    }
    anna.axe("participant (a failed experiment)").await?;
    anna.shot("method-4-phone-experiment-failed").await?;
    projector.axe("projector (a failed experiment)").await?;
    projector
        .shot("method-4-projector-experiment-failed")
        .await?;

    // --- A reflection on phase 4.
    facilitator.click("#open-reflection").await?;
    for phone in phones3 {
        phone.wait_for("#reflect-form").await?;
    }
    projector.wait_for("#reflection-board").await?;
    anna.type_into(
        "#reflect-worked",
        "We durfden te stoppen toen het niet werkte",
    )
    .await?;
    anna.click("#reflect-send").await?;
    settled(&anna).await?;
    anna.wait_for("#reflection-done").await?;
    bram.type_into(
        "#reflect-not-worked",
        "We hebben het weer te weinig meegenomen",
    )
    .await?;
    bram.axe("participant (reflection)").await?;
    bram.shot("method-4-phone-reflection").await?;
    bram.click("#reflect-send").await?;
    settled(&bram).await?;
    facilitator
        .wait_for("#reflection-count[data-entries='2']")
        .await?;
    let entries = facilitator.text("#reflection-console").await?;
    ensure!(
        entries.contains("We durfden te stoppen") && entries.contains("Anna"),
        "the reflection: {entries:?}"
    );
    projector
        .wait_for("#reflection-board [data-entries='2']")
        .await?;
    projector.shot("method-4-projector-reflection").await?;
    facilitator.axe("facilitator (reflection)").await?;
    facilitator.shot("method-4-console-reflection").await?;
    facilitator.click("#close-reflection").await?;
    anna.wait_js("return !document.getElementById('reflection')")
        .await?;

    // --- Phase 5: the lesson of the failed experiment; the criteria assessed.
    set_phase(&facilitator, &[&anna, &bram, &chris, &projector], 5).await?;
    anna.click("[data-key='x-lesson-e1']").await?;
    anna.wait_js("return document.getElementById('card-kind').value === 'lesson' && document.getElementById('card-lesson-of').value === 'experiment:e1'").await?;
    let lesson = add_card(
        &anna,
        "Buiten in de winter werkt niet: vraag cliënten eerst wat zij willen",
    )
    .await?;
    facilitator
        .wait_for(&format!(
            "#lessons [data-about='experiment:e1'] [data-card='{lesson}']"
        ))
        .await?;
    projector
        .wait_for(&format!(
            "#lessons [data-about='experiment:e1'] [data-card='{lesson}']"
        ))
        .await?;
    anna.wait_for(&format!(
        "[data-experiment='e1'] .x-lessons [data-card='{lesson}']"
    ))
    .await?;
    for (criterion, assessment, note) in [
        ("c1", "met", "Drie plannen, twee al gestart"),
        ("c2", "not_met", "We kwamen op 10% minder"),
    ] {
        facilitator
            .click(&format!("label[for='assess-{criterion}-{assessment}']"))
            .await?;
        facilitator
            .type_into(&format!("#assess-note-{criterion}"), note)
            .await?;
        facilitator
            .click(&format!("[data-key='assess-save-{criterion}']"))
            .await?;
        facilitator
            .wait_for(&format!(
                "#criteria-console [data-criterion='{criterion}'][data-assessment='{assessment}']"
            ))
            .await?;
    }
    for page in [&projector, &bram] {
        page.wait_for("[data-criterion='c2'][data-assessment='not_met']")
            .await?;
    }
    for (page, screen) in [
        (&anna, "participant"),
        (&bram, "participant"),
        (&facilitator, "facilitator"),
        (&projector, "projector"),
    ] {
        page.axe(&format!("{screen} (phase 5)")).await?;
    }
    anna.shot("method-5-phone-lesson").await?;
    bram.shot("method-5-phone-criteria").await?;
    facilitator.shot("method-5-console").await?;
    projector.shot("method-5-projector").await?;

    // Earlier phases stay in reach on the phone.
    anna.click("#earlier [data-phase='1'] summary").await?;
    anna.wait_js("return document.querySelector('#earlier [data-phase=\"1\"]').open")
        .await?;
    anna.axe("participant (earlier phases)").await?;
    anna.shot("method-5-phone-earlier").await?;
    Ok(())
}

/// A short session — cards, a hidden round with a tie, two turns, phase changes, an experiment
/// that fails and its lesson — then its replay and report. A fresh browser opens the replay
/// link: it scrubs to the middle, steps by change and by phase, plays at 16× to the end, and
/// opens `?at=` addresses that show the board as it was (a card added later absent, the
/// hidden round's totals absent while it was open); its lanes are per perspective, the
/// facilitator's per person. The report ranks the tie on one place, downloads, and prints
/// on A4; a phone reads it once the session ended and the facilitator shares it.
#[tokio::test]
async fn a_session_is_replayed_and_its_report_printed() -> Result<()> {
    let Some(_turn) = browser_turn().await else {
        return Ok(());
    };
    let server = Server::start()?;
    let mut driver = Driver::start().await?;
    let outcome = replay_and_report(&server, &mut driver).await;
    driver.stop().await;
    outcome
}

/// The number of changes made at or before `at` (at least 1), as `?at=` opens it.
fn changes_until(times: &[i64], at: i64) -> usize {
    times.iter().filter(|t| **t <= at).count().max(1)
}

async fn replay_and_report(server: &Server, driver: &mut Driver) -> Result<()> {
    let created = server.create_session("Een andere avond", false).await?;
    let code = created.code.clone();
    let base = &server.base;
    let facilitator = driver.open("facilitator-replay", LAPTOP, "nl").await?;
    facilitator.goto(&created.facilitator_url).await?;
    facilitator
        .wait_for("#afterwards #make-replay-link")
        .await?;
    let anna = phone(
        driver,
        "phone-replay-anna",
        &created.join_url,
        "Anna",
        "medewerker",
    )
    .await?;
    let bram = phone(
        driver,
        "phone-replay-bram",
        &created.join_url,
        "Bram",
        "naaste",
    )
    .await?;
    let phones = [&anna, &bram];

    // Phase 2: three ideas, a hidden round with a tie (2, 2, 1).
    set_phase(&facilitator, &phones, 2).await?;
    let walk = add_card(&anna, "Een vaste avondwandeling").await?;
    let cook = add_card(&bram, "Samen koken op dinsdag").await?;
    let games = add_card(&anna, "Een spelletjesavond").await?;
    facilitator.wait_for("#open-round").await?;
    facilitator.click("#open-round").await?;
    facilitator.wait_for("#close-round").await?;
    for (phone, votes) in [
        (&anna, vec![&walk, &cook]),
        (&bram, vec![&walk, &cook, &games]),
    ] {
        phone.wait_for("#budget").await?;
        for card in votes {
            vote(phone, card, "vote").await?;
        }
    }
    facilitator
        .wait_js("return document.getElementById('voters')?.dataset.voters === '2'")
        .await?;
    facilitator.click("#close-round").await?;
    facilitator.wait_for("#ranking li").await?;

    // Two turns: Anna, then Bram.
    for phone in phones {
        phone.click("#raise-hand").await?;
        settled(phone).await?;
        facilitator.click("#give-next").await?;
        phone.wait_for("#end-turn").await?;
        phone.click("#end-turn").await?;
        settled(phone).await?;
        phone
            .wait_js("return !document.getElementById('end-turn')")
            .await?;
    }

    // Phase 3: Anna's idea becomes an experiment; phase 4: it fails, and its lesson.
    set_phase(&facilitator, &phones, 3).await?;
    anna.click(&format!("[data-key='try-{walk}']")).await?;
    anna.wait_for("#x-form-e1").await?;
    anna.type_into(
        "#x-e1-prediction",
        "Als we elke avond wandelen, zit de helft minder vaak alleen",
    )
    .await?;
    select(&anna, "#x-e1-status", "running").await?;
    anna.click("[data-key='x-save-e1']").await?;
    settled(&anna).await?;
    set_phase(&facilitator, &phones, 4).await?;
    anna.click("[data-key='x-edit-e1']").await?;
    anna.wait_for("#x-form-e1").await?;
    select(&anna, "#x-e1-status", "stopped").await?;
    select(&anna, "#x-e1-outcome", "did_not_work").await?;
    anna.type_into("#x-e1-observed", "Na een week liep er niemand meer mee")
        .await?;
    select(&anna, "#x-e1-decision", "abandon").await?;
    anna.click("[data-key='x-save-e1']").await?;
    settled(&anna).await?;
    anna.click("[data-key='x-lesson-e1']").await?;
    anna.wait_js("return document.getElementById('card-lesson-of')?.value === 'experiment:e1'")
        .await?;
    let lesson = add_card(&anna, "Vraag eerst wat cliënten zelf willen").await?;
    let later = add_card(&bram, "Muziek bij het eten").await?;

    // The facilitator makes a replay link and shares the report, then ends the session (the
    // replay and report are folded away at the foot of the console while it runs).
    facilitator.click("#afterwards-fold > summary").await?;
    facilitator.click("#make-replay-link").await?;
    facilitator
        .wait_for("#replay-links [data-link='l1'] #replay-url-l1")
        .await?;
    let replay_link = facilitator.value("#replay-url-l1").await?;
    ensure!(
        replay_link.starts_with(&format!("{base}/r/{code}#")),
        "the replay link: {replay_link}"
    );
    let link_token = replay_link
        .split_once('#')
        .context("a token after #")?
        .1
        .to_owned();
    // A second link, revoked after the end below: it opens nothing any more.
    facilitator.click("#make-replay-link").await?;
    facilitator.wait_for("#replay-url-l2").await?;
    let revoked_link = facilitator.value("#replay-url-l2").await?;
    facilitator.click("label[for='share-report']").await?;
    facilitator
        .wait_js("return document.getElementById('share-report').checked")
        .await?;
    facilitator.axe("facilitator (a replay link)").await?;
    facilitator.shot("replay-console-links").await?;
    facilitator.click("[data-key='end']").await?;
    facilitator.click("[data-key='end-yes']").await?;
    for phone in phones {
        phone.wait_for("#report-link").await?;
    }
    // A link that leaked can still be revoked once the session has ended.
    facilitator.click("[data-key='revoke-l2']").await?;
    facilitator
        .wait_for("#replay-links [data-link='l2'][data-revoked='true']")
        .await?;
    ensure!(
        facilitator.count("#replay-url-l2").await? == 0,
        "a revoked link is still offered to copy"
    );
    anna.axe("participant (ended, report shared)").await?;
    anna.shot("replay-phone-ended").await?;

    // What the link's replay holds, to check the screen against.
    let res = server
        .get_with_token(&format!("/api/sessions/{code}/replay"), &link_token)
        .await?;
    ensure!(
        res.status == 200,
        "the timeline: {} {}",
        res.status,
        res.body
    );
    let timeline: Value = serde_json::from_str(&res.body)?;
    let times: Vec<i64> = serde_json::from_value(timeline["times"].clone())?;
    let marks: Vec<(usize, i64, String)> = timeline["marks"]
        .as_array()
        .context("marks")?
        .iter()
        .map(|m| {
            (
                m["seq"].as_u64().unwrap_or(0) as usize,
                m["at"].as_i64().unwrap_or(0),
                m["cmd"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let mark = |cmd: &str| {
        marks
            .iter()
            .find(|m| m.2 == cmd)
            .cloned()
            .context(cmd.to_owned())
    };
    let phase_seqs: Vec<usize> = marks
        .iter()
        .filter(|m| m.2 == "set_phase")
        .map(|m| m.0)
        .collect();
    let len = times.len();

    // --- A fresh browser opens the replay link: the first change, per-perspective lanes.
    let viewer = driver.open("replay-viewer", LAPTOP, "nl").await?;
    viewer.goto(&replay_link).await?;
    viewer.wait_for("#replay-moment[data-seq='1']").await?;
    ensure!(
        viewer.js("return location.hash").await? == json!(""),
        "the token stays in the address bar"
    );
    let lanes = viewer
        .js("return [...document.querySelectorAll('#lanes .lane')].map(l => l.dataset.lane + ':' + l.dataset.turns)")
        .await?;
    ensure!(
        lanes == json!(["medewerker:1", "naaste:1"]),
        "the link's lanes: {lanes}"
    );
    let speakers = viewer.text("#speakers").await?;
    ensure!(
        !speakers.contains("Anna") && !speakers.contains("Bram"),
        "the link's lanes name nobody: {speakers:?}"
    );
    viewer.axe("replay (link, first change)").await?;
    viewer.shot("replay-link-start").await?;

    // Scrub to the middle.
    let max = viewer
        .js("const r = document.getElementById('moment'); r.value = Math.floor(r.max / 2); r.dispatchEvent(new Event('input', { bubbles: true })); return Number(r.max)")
        .await?
        .as_i64()
        .context("the slider's end")?;
    let middle = changes_until(&times, times[0] + (max / 2) * 1000 + 999);
    viewer
        .wait_for(&format!("#replay-moment[data-seq='{middle}']"))
        .await?;
    viewer
        .wait_js(&format!(
            "return location.search === '?at={}'",
            times[middle - 1]
        ))
        .await?;
    viewer.axe("replay (link, the middle)").await?;
    viewer.shot("replay-link-middle").await?;
    // Step by change, on and back.
    if middle < len {
        viewer.click("#step-on-change").await?;
        viewer
            .wait_for(&format!("#replay-moment[data-seq='{}']", middle + 1))
            .await?;
        viewer.click("#step-back-change").await?;
        viewer
            .wait_for(&format!("#replay-moment[data-seq='{middle}']"))
            .await?;
    }
    // Step by phase: from the start to each phase, its number on the board.
    viewer
        .goto(&format!("{base}/r/{code}?at={}", times[0]))
        .await?;
    viewer.wait_for("#replay-moment[data-seq='1']").await?;
    for (seq, phase) in phase_seqs.iter().zip([2, 3, 4]) {
        viewer.click("#step-on-phase").await?;
        viewer
            .wait_for(&format!("#replay-moment[data-seq='{seq}']"))
            .await?;
        viewer
            .wait_js(&format!("return document.querySelector('#replay-moment .phase-number')?.textContent === 'Fase {phase}'"))
            .await?;
    }
    viewer
        .wait_for("#step-on-phase[aria-disabled='true']")
        .await?;
    // Back: to the start of the phase before (one is at the start of this one).
    viewer.click("#step-back-phase").await?;
    viewer
        .wait_for(&format!("#replay-moment[data-seq='{}']", phase_seqs[1]))
        .await?;
    // Step by turn: the first turn on the big screen, with its speaker named.
    viewer
        .goto(&format!("{base}/r/{code}?at={}", times[0]))
        .await?;
    viewer.wait_for("#replay-moment[data-seq='1']").await?;
    viewer.click("#step-on-turn").await?;
    let give = mark("give_floor")?;
    viewer
        .wait_for(&format!("#replay-moment[data-seq='{}']", give.0))
        .await?;
    viewer
        .wait_js("return document.querySelector('#replay-moment #projector-speaker')?.textContent === 'Anna'")
        .await?;
    viewer.axe("replay (link, a turn)").await?;
    viewer.shot("replay-link-turn").await?;

    // Play at 16× from here to the end; it stops there.
    viewer.click("label[for='speed-16']").await?;
    viewer.click("#play").await?;
    viewer.wait_for("#play[data-playing='true']").await?;
    viewer
        .wait_js_for(
            &format!("return document.querySelector('#replay-moment[data-seq=\"{len}\"]') && document.querySelector('#play[data-playing=\"false\"]')"),
            Duration::from_secs(60),
        )
        .await?;
    ensure!(
        viewer.js("return location.search").await? == json!(format!("?at={}", times[len - 1])),
        "the address follows the moment played"
    );
    viewer.axe("replay (link, the end)").await?;
    viewer.shot("replay-link-end").await?;

    // `?at=` while the hidden round was open, all votes in: no totals, the later card absent.
    let (close_seq, close_at, _) = mark("close_round")?;
    let open_at = times[close_seq - 2];
    viewer
        .goto(&format!("{base}/r/{code}?at={open_at}"))
        .await?;
    viewer
        .wait_for(&format!(
            "#replay-moment[data-seq='{}']",
            changes_until(&times, open_at)
        ))
        .await?;
    viewer
        .wait_for("#replay-moment #voters[data-voters='2']")
        .await?;
    ensure!(
        viewer
            .count(
                "#replay-moment .badge.votes, #replay-moment #live-ranking, #replay-moment #ranking"
            )
            .await?
            == 0,
        "the hidden round's totals show while it was open"
    );
    ensure!(
        viewer
            .count(&format!("#replay-moment [data-card='{walk}']"))
            .await?
            == 1
            && viewer
                .count(&format!("#replay-moment [data-card='{later}']"))
                .await?
                == 0,
        "the board at the round shows its cards, not one added later"
    );
    viewer.axe("replay (link, a hidden round open)").await?;
    viewer.shot("replay-link-round-open").await?;
    // Once closed: the ranking, as every screen showed it.
    viewer
        .goto(&format!("{base}/r/{code}?at={close_at}"))
        .await?;
    viewer.wait_for("#replay-moment #ranking li").await?;
    let mut ranked = viewer.ranking().await?;
    ranked.sort();
    let mut expected = vec![
        format!("{walk}:2"),
        format!("{cook}:2"),
        format!("{games}:1"),
    ];
    expected.sort();
    ensure!(ranked == expected, "the ranking at its close: {ranked:?}");

    // --- The facilitator's own replay: lanes per person, the console as it was.
    facilitator
        .goto(&format!("{base}/r/{code}?at={}", give.1))
        .await?;
    facilitator
        .wait_for(&format!(
            "#replay-moment[data-seq='{}']",
            changes_until(&times, give.1)
        ))
        .await?;
    let names = facilitator
        .js("return [...document.querySelectorAll('#lanes .lane .lane-name')].map(n => n.textContent)")
        .await?;
    ensure!(
        names == json!(["Anna", "Bram"]),
        "the facilitator's lanes: {names}"
    );
    facilitator
        .wait_js("return document.querySelector('#replay-moment #fac-speaker')?.textContent.startsWith('Anna')")
        .await?;
    facilitator.axe("replay (facilitator)").await?;
    facilitator.shot("replay-facilitator").await?;
    facilitator.click("#speakers-tables summary").await?;
    facilitator.wait_for("#lanes-table").await?;
    facilitator.axe("replay (facilitator, as a table)").await?;

    // --- The report, from the link's replay: the tie shares its place, the failure is there.
    viewer.click(".history-tab[href$='?report']").await?;
    viewer.wait_for("#report[data-role='replay']").await?;
    let ranks = viewer
        .js("return Object.fromEntries([...document.querySelectorAll('#ranking-r1 li')].map(li => [li.dataset.card, li.dataset.rank + ':' + li.dataset.votes]))")
        .await?;
    let expected: serde_json::Map<String, Value> =
        [(&walk, "1:2"), (&cook, "1:2"), (&games, "3:1")]
            .into_iter()
            .map(|(c, r)| (c.clone(), json!(r)))
            .collect();
    ensure!(
        ranks == Value::Object(expected),
        "the report's ranking: {ranks}"
    );
    viewer
        .wait_for("#rp-experiments [data-experiment='e1'][data-status='stopped'][data-outcome='did_not_work']")
        .await?;
    viewer
        .wait_for(&format!("#lessons [data-card='{lesson}']"))
        .await?;
    viewer
        .wait_for(&format!("#rp-ideas [data-card='{later}']"))
        .await?;
    let text = viewer.text("#report").await?;
    ensure!(
        !text.contains("Anna") && !text.contains("Bram"),
        "the link's report names nobody"
    );
    viewer.axe("report (link)").await?;
    viewer.shot("report-link").await?;
    // The downloads.
    viewer.click("#download-csv").await?;
    let csv = String::from_utf8(viewer.downloaded(&format!("tafel-{code}.csv")).await?)?;
    ensure!(
        csv.starts_with("what,phase,card,kind,text") && csv.contains("Samen koken op dinsdag"),
        "the CSV: {csv}"
    );
    viewer.click("#download-json").await?;
    let report: Value =
        serde_json::from_slice(&viewer.downloaded(&format!("tafel-{code}.json")).await?)?;
    ensure!(
        report["schema"] == json!("tafel.report/1"),
        "the JSON: {report}"
    );
    viewer.click("#download-automerge").await?;
    ensure!(
        !viewer
            .downloaded(&format!("tafel-{code}.automerge"))
            .await?
            .is_empty(),
        "the raw file is empty"
    );
    // On paper: A4, looked at as images.
    let pdf = viewer.print_pdf("report").await?;
    ensure!(pdf.starts_with(b"%PDF"), "not a PDF");
    let pages = pdf_pages("report")?;
    println!("the report printed on {} A4 pages: {pages:?}", pages.len());

    // --- A phone reads the shared report with its own token.
    anna.click("#report-link").await?;
    anna.wait_for("#report[data-role='participant']").await?;
    ensure!(
        anna.count("#download-automerge, .history-nav").await? == 0,
        "a participant is offered the raw file or the replay"
    );
    anna.wait_for("#rp-rounds #ranking-r1 li").await?;
    anna.axe("report (phone)").await?;
    anna.shot("report-phone").await?;

    // --- On a phone: the revoked link opens nothing; the other opens the replay at 390 px.
    let small = driver.open("replay-phone", (360, 740), "nl").await?;
    small.goto(&revoked_link).await?;
    small.wait_js("return document.getElementById('message-title')?.textContent.includes('werkt niet (meer)')").await?;
    small.axe("replay (a revoked link)").await?;
    small.goto(&replay_link).await?;
    small.wait_for("#replay-moment[data-seq='1']").await?;
    small.click("#step-on-turn").await?;
    small
        .wait_for(&format!("#replay-moment[data-seq='{}']", give.0))
        .await?;
    let fits = "return document.documentElement.scrollWidth <= innerWidth";
    ensure!(
        small.js(fits).await? == json!(true),
        "the replay is wider than 360 px"
    );
    small.axe("replay (phone)").await?;
    small.shot("replay-phone").await?;
    // Every marked moment, as a list to jump from.
    small.click("#moments summary").await?;
    small
        .click(&format!("#moments [data-seq='{close_seq}']"))
        .await?;
    small
        .wait_for(&format!(
            "#replay-moment[data-seq='{close_seq}'] #ranking li"
        ))
        .await?;
    small
        .wait_for(&format!(
            "#moments [data-seq='{close_seq}'][aria-current='step']"
        ))
        .await?;
    small.axe("replay (phone, the list of moments)").await?;
    small.shot("replay-phone-moments").await?;
    small.click(".history-tab[href$='?report']").await?;
    small.wait_for("#report[data-role='replay']").await?;
    ensure!(
        small.js(fits).await? == json!(true),
        "the report is wider than 360 px"
    );
    small.axe("report (phone, a replay link)").await?;
    Ok(())
}

/// The join link on the big screen wraps, if at all, only after a slash or a dot: no part of
/// it (a name, the port, the code) is split over two lines.
async fn join_link_whole(projector: &Page) -> Result<()> {
    let split = projector
        .js("const link = document.querySelector('.join-panel .join-url'); \
             return [...link.querySelectorAll('bdi')] \
               .filter((part) => new Set([...part.getClientRects()].map((r) => Math.round(r.top))).size > 1) \
               .map((part) => part.textContent)")
        .await?;
    ensure!(
        split == json!([]),
        "the join link breaks inside {split} on the big screen"
    );
    Ok(())
}

/// Moves the session to a phase from the console and waits until every page shows it.
async fn set_phase(facilitator: &Page, pages: &[&Page], phase: u8) -> Result<()> {
    facilitator
        .click(&format!("[data-key='phase-{phase}']"))
        .await?;
    for page in pages.iter().copied().chain([facilitator]) {
        page.wait_js(&format!(
            "return document.querySelector('.phase-number')?.textContent === 'Fase {phase}'"
        ))
        .await?;
    }
    Ok(())
}

/// Chooses an option of a drop-down list.
async fn select(page: &Page, css: &str, value: &str) -> Result<()> {
    page.wait_for(css).await?;
    page.client
        .find(Locator::Css(css))
        .await?
        .select_by_value(value)
        .await
        .with_context(|| format!("{}: select {value} in {css}", page.name))
}

/// Chooses the kind of the card being added.
async fn choose_kind(page: &Page, kind: &str) -> Result<()> {
    select(page, "#card-kind", kind).await
}

/// Sets a field's value as typing would (for date fields, whose typing depends on the locale).
async fn set_value(page: &Page, css: &str, value: &str) -> Result<()> {
    page.wait_for(css).await?;
    page.js(&format!(
        "const e = document.querySelector({}); e.value = {}; e.dispatchEvent(new Event('input', {{ bubbles: true }}))",
        json!(css),
        json!(value)
    ))
    .await?;
    Ok(())
}

// -------------------------------------------------------------------------------------------
// Steps shared by the scenarios
// -------------------------------------------------------------------------------------------

/// A new phone that opens the join link and joins as `name` from `perspective`.
async fn phone(
    driver: &mut Driver,
    page: &str,
    join_url: &str,
    name: &str,
    perspective: &str,
) -> Result<Page> {
    let phone = driver.open(page, PHONE, "nl").await?;
    phone.goto(join_url).await?;
    join_through_form(&phone, name, perspective).await?;
    Ok(phone)
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

/// Adds a card through the form and returns its id once the server has it.
async fn add_card(page: &Page, text: &str) -> Result<String> {
    page.type_into("#card-text", text).await?;
    page.click("#add-card-button").await?;
    let id = page
        .wait_js(&format!(
            "const card = [...document.querySelectorAll('#cards .card[data-card]')].find(c => c.querySelector('.card-text').textContent === {}); return card ? card.dataset.card : null",
            json!(text)
        ))
        .await?;
    id.as_str().map(str::to_owned).context("card id")
}

/// Taps + ("vote") or − ("unvote") on a card.
async fn vote(page: &Page, card: &str, action: &str) -> Result<()> {
    page.click(&format!("[data-key='{action}-{card}']")).await?;
    // Wait for the answer before the next tap, as a person would see the count change.
    settled(page).await
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

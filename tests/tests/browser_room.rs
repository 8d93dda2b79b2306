//! Browser scenarios of a session run as in a real room: the big screen at 1920×1080 and
//! 1280×720 from the lobby to the closing screen, phones at 390×844 and 360×640 that lose their
//! connection, find their work in the right order, and read the floor's words. Every screen
//! and state is checked with axe-core and photographed into `tests/artifacts/room-*.png`.
//!
//! The harness is `tafel_tests::browser` (see browser.rs); without Chromium these tests say so
//! loudly and pass, except in CI.

use anyhow::{Context, Result, ensure};
use serde_json::json;
use tafel_protocol::{Command, Perspective, ServerMessage};
use tafel_tests::browser::*;
use tafel_tests::{Client, Server, idea};

/// The big screen's two sizes: a full-HD projector and an older one.
const FULL_HD: (u32, u32) = (1920, 1080);
const SMALL_BEAMER: (u32, u32) = (1280, 720);
/// The phones' two sizes.
const SMALL_PHONE: (u32, u32) = (360, 640);

/// What lies (partly) outside the screen, as a projector cannot scroll: visible elements of
/// the page whose box ends below or right of the viewport. Empty when everything fits.
const OUTSIDE: &str = "const vw = innerWidth, vh = innerHeight;
  const clip = (e) => { const box = e.parentElement?.closest('.projector-main, .lobby, .closing'); return box ? box.getBoundingClientRect() : null; };
  return [...document.querySelectorAll('main *')]
    .filter(e => e.getClientRects().length && !e.closest('[hidden], .sr-only'))
    .map(e => [e, e.getBoundingClientRect(), clip(e)])
    .filter(([e, r, c]) => r.width > 0 && r.height > 0 && (r.bottom > vh + 0.5 || r.right > vw + 0.5
      || (c && (r.bottom > c.bottom + 0.5 || r.right > c.right + 0.5))))
    .slice(0, 6)
    .map(([e, r]) => e.tagName.toLowerCase() + '.' + e.className + ' ' + Math.round(r.right) + '×' + Math.round(r.bottom));";

/// Checks that everything on the big screen is on the screen.
async fn fits(page: &Page, what: &str) -> Result<()> {
    let outside = page.js(OUTSIDE).await?;
    ensure!(
        outside.as_array().is_some_and(|a| a.is_empty()),
        "{what}: cut off at {:?}: {outside}",
        page.js("return [innerWidth, innerHeight]").await?
    );
    Ok(())
}

/// Resizes the big screen and waits until it has drawn itself for the new size.
async fn resize(page: &Page, (w, h): (u32, u32)) -> Result<()> {
    page.set_viewport(w, h).await?;
    page.wait_js(&format!("return innerWidth === {w} && innerHeight === {h}"))
        .await?;
    // The screen draws again on `resize`; a frame later it has measured itself.
    page.client
        .execute_async(
            "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            vec![],
        )
        .await?;
    Ok(())
}

/// A phone over the protocol (no browser), joined as `name`.
async fn protocol_phone(
    server: &Server,
    code: &str,
    name: &str,
    perspective: Perspective,
) -> Result<Client> {
    let mut phone = server.client().await?;
    match phone.join(code, name, perspective).await? {
        ServerMessage::Welcome { .. } => Ok(phone),
        other => anyhow::bail!("{name} could not join: {other:?}"),
    }
}

/// The big screen through a session: the lobby with a large QR code and who joined; a board of
/// fourteen long cards that fits at 1920×1080 and at 1280×720 (scaled, then paging by itself,
/// every card on some page); "locked" once locked; a result with a tie as bars with shared
/// ranks; and the closing screen with the outcome.
#[tokio::test]
async fn the_big_screen_fits_the_room_from_lobby_to_closing() -> Result<()> {
    let Some(_turn) = browser_turn().await else {
        return Ok(());
    };
    let server = Server::start()?;
    let mut driver = Driver::start().await?;
    let outcome = big_screen(&server, &mut driver).await;
    driver.stop().await;
    outcome
}

async fn big_screen(server: &Server, driver: &mut Driver) -> Result<()> {
    let created = server
        .create_session("Meer regie voor cliënten", false)
        .await?;
    let code = created.code.clone();
    let mut fac = server.client().await?;
    fac.resume(&code, &created.facilitator_token).await?;

    // The lobby: a QR code a phone can scan from the back of the room, the code, who joined.
    let projector = driver.open("projector-room", FULL_HD, "nl").await?;
    projector.goto(&created.projector_url).await?;
    projector.wait_for("#lobby #join-code").await?;
    projector
        .wait_js("const q = document.querySelector('#lobby img.qr'); return q?.complete && q.naturalWidth > 0")
        .await?;
    ensure!(projector.text("#lobby #join-code").await? == code);
    ensure!(projector.text("#joined .joined-count").await? == "Nog niemand doet mee");
    let mut qr_sizes = Vec::new();
    for (size, name) in [(FULL_HD, "1920"), (SMALL_BEAMER, "1280")] {
        resize(&projector, size).await?;
        let qr = projector
            .js("return Math.round(document.querySelector('#lobby img.qr').getBoundingClientRect().width)")
            .await?
            .as_u64()
            .context("qr width")?;
        ensure!(
            qr as f64 >= 0.4 * size.1 as f64,
            "the lobby's QR code is {qr} px at {size:?}"
        );
        qr_sizes.push(format!("{name}: {qr} px"));
        fits(&projector, &format!("lobby at {size:?}")).await?;
        projector.axe(&format!("projector lobby {name}")).await?;
        projector
            .shot(&format!("room-projector-lobby-{name}"))
            .await?;
    }

    // Four people join: the lobby counts them per perspective, without names.
    let people = [
        ("Anna", Perspective::Client),
        ("Bram", Perspective::Naaste),
        ("Cem", Perspective::Medewerker),
        ("Dewi", Perspective::Medewerker),
    ];
    let mut phones = Vec::new();
    for (name, perspective) in people {
        phones.push(protocol_phone(server, &code, name, perspective).await?);
    }
    projector
        .wait_js("return document.querySelector('#joined')?.dataset.joined === '4'")
        .await?;
    ensure!(projector.text("#joined .joined-count").await? == "4 mensen doen mee");
    let chips = projector
        .js("return [...document.querySelectorAll('.perspective-chips li')].map(li => li.dataset.perspective + ':' + li.querySelector('strong').textContent)")
        .await?;
    ensure!(
        chips == json!(["medewerker:2", "client:1", "naaste:1"]),
        "perspectives {chips}"
    );
    ensure!(
        !projector.text("#lobby").await?.contains("Anna"),
        "the lobby names people"
    );
    for (size, name) in [(SMALL_BEAMER, "1280"), (FULL_HD, "1920")] {
        resize(&projector, size).await?;
        fits(&projector, &format!("lobby with people at {size:?}")).await?;
        projector
            .shot(&format!("room-projector-lobby-joined-{name}"))
            .await?;
    }
    projector.axe("projector lobby with people").await?;

    // Phase 1: fourteen long cards. The board fits both screens; every card is on some page.
    fac.ok(Command::SetPhase { phase: 1 }).await?;
    let mut cards = Vec::new();
    for i in 0..14 {
        let text = format!(
            "Idee {}: cliënten kiezen zelf wanneer ze opstaan, eten en naar buiten gaan, en de planning van het team volgt hun keuze in plaats van andersom",
            i + 1
        );
        let phone = &mut phones[i % 4];
        let id = phone.ok(idea(&text)).await?.card.context("card id")?;
        cards.push(id);
    }
    projector
        .wait_js("return document.querySelectorAll('#cards > [data-card]').length === 14")
        .await?;
    ensure!(
        projector
            .count("#projector-main #join-code, .projector-side img.qr")
            .await?
            == 1,
        "the way in stays beside the board"
    );
    let mut layout = Vec::new();
    for (size, name) in [(FULL_HD, "1920"), (SMALL_BEAMER, "1280")] {
        resize(&projector, size).await?;
        let pages = projector
            .js("return Number(document.getElementById('projector-main').dataset.pages || 1)")
            .await?
            .as_u64()
            .unwrap_or(1);
        let scale = projector
            .js("return document.getElementById('projector-main').dataset.scale")
            .await?;
        let qr = projector
            .js("return Math.round(document.querySelector('.projector-side img.qr').getBoundingClientRect().width)")
            .await?;
        layout.push(format!(
            "{name}: scale {scale}, {pages} page(s), QR beside the board {qr} px"
        ));
        let mut seen = std::collections::BTreeSet::new();
        for page in 1..=pages {
            fits(&projector, &format!("the board at {size:?}, page {page}")).await?;
            let shown = projector
                .js("return [...document.querySelectorAll('#cards > [data-card]')].filter(c => !c.hidden).map(c => c.dataset.card)")
                .await?;
            for id in shown.as_array().context("ids")? {
                seen.insert(id.as_str().unwrap_or_default().to_owned());
            }
            if pages > 1 {
                ensure!(
                    projector.text("#pager").await? == format!("Pagina {page} van {pages}"),
                    "the pager at page {page}"
                );
            }
            projector
                .shot(&format!("room-projector-cards-{name}-page{page}"))
                .await?;
            if page == 1 {
                projector.axe(&format!("projector board {name}")).await?;
            }
            // The screen turns its pages by itself; the test turns them at once.
            projector.js("window.__tafel.nextPage()").await?;
        }
        ensure!(
            seen.len() == 14,
            "at {size:?} only {} of 14 cards are on some page",
            seen.len()
        );
    }

    // Locked: the way in gives way to "locked", on the board and in the side column.
    fac.ok(Command::Lock).await?;
    projector.wait_for("#status-badge").await?;
    ensure!(
        projector.count("img.qr").await? == 0,
        "a locked session still shows the QR code"
    );
    ensure!(
        projector.text("#locked-notice").await? == "Op slot: er kunnen geen nieuwe mensen bij."
    );
    fits(&projector, "locked, 1280").await?;
    projector.axe("projector locked").await?;
    projector.shot("room-projector-locked-1280").await?;

    // A vote with a tie: 3, 2, 2, 1 and the rest 0. Ties share a rank; the result is bars.
    let round = fac
        .ok(Command::OpenRound {
            phase: None,
            budget: 3,
            max_per_card: 3,
            live: false,
        })
        .await?
        .round
        .context("round")?;
    let votes = [
        (0, 0),
        (0, 0),
        (0, 0),
        (1, 1),
        (1, 1),
        (1, 2),
        (2, 2),
        (2, 3),
    ];
    for (phone, card) in votes {
        phones[phone]
            .ok(Command::Vote {
                round: round.clone(),
                card: cards[card].clone(),
            })
            .await?;
    }
    fac.ok(Command::CloseRound {
        round: round.clone(),
    })
    .await?;
    projector.wait_for("#ranking li").await?;
    let ranks = projector
        .js("return [...document.querySelectorAll('#ranking li')].map(li => li.dataset.rank + ':' + li.dataset.votes)")
        .await?;
    ensure!(
        ranks == json!(["1:3", "2:2", "2:2", "4:1"]),
        "ranks {ranks}"
    );
    ensure!(projector.text("#ranking-more").await? == "En nog 10 kaarten met minder stemmen.");
    let bars = projector
        .js("return [...document.querySelectorAll('#ranking li')].slice(0, 4).map(li => li.querySelector('.bar-fill').style.width)")
        .await?;
    ensure!(bars == json!(["100%", "67%", "67%", "33%"]), "bars {bars}");
    for (size, name) in [(SMALL_BEAMER, "1280"), (FULL_HD, "1920")] {
        resize(&projector, size).await?;
        fits(&projector, &format!("the result at {size:?}")).await?;
        projector
            .shot(&format!("room-projector-result-{name}"))
            .await?;
    }
    projector.axe("projector result").await?;

    // Phase 2 starts with phase 1's winners carried over, and phase 1 in one line below.
    fac.ok(Command::SetPhase { phase: 2 }).await?;
    projector
        .wait_for("#earlier-strip li[data-phase='1']")
        .await?;
    let strip = projector.text("#earlier-strip li[data-phase='1']").await?;
    ensure!(
        strip.contains("14 kaarten") && strip.contains("gekozen: ") && strip.contains("Idee 1:"),
        "phase 1 on the board of phase 2: {strip:?}"
    );
    projector.wait_for("#carried [data-card]").await?;
    for (size, name) in [(SMALL_BEAMER, "1280"), (FULL_HD, "1920")] {
        resize(&projector, size).await?;
        fits(&projector, &format!("phase 2 at {size:?}")).await?;
        projector
            .shot(&format!("room-projector-phase2-{name}"))
            .await?;
    }
    projector.axe("projector phase 2").await?;

    // The end: the closing screen with the outcome.
    fac.ok(Command::End).await?;
    projector.wait_for("#closing").await?;
    ensure!(
        projector.count("#closing .ranking li").await? == 3,
        "the top three, the tie included"
    );
    ensure!(
        projector.text("#closing-facts").await? == "4 deelnemers · 14 kaarten · 0 experimenten"
    );
    for (size, name) in [(FULL_HD, "1920"), (SMALL_BEAMER, "1280")] {
        resize(&projector, size).await?;
        fits(&projector, &format!("the closing screen at {size:?}")).await?;
        projector
            .shot(&format!("room-projector-closing-{name}"))
            .await?;
    }
    projector.axe("projector closing").await?;

    let report = format!(
        "big screen, lobby QR code: {}\nbig screen, 14 long cards: {}\n",
        qr_sizes.join(", "),
        layout.join("; ")
    );
    print!("{report}");
    std::fs::write(artifacts()?.join("room-measurements.txt"), report)?;
    Ok(())
}

// -------------------------------------------------------------------------------------------
// Phones
// -------------------------------------------------------------------------------------------

/// A TCP relay between the phone and the server that can swallow everything, as a care
/// home's Wi-Fi does when it goes: sockets stay open, nothing arrives, nothing is refused.
struct Relay {
    addr: std::net::SocketAddr,
    dead: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Relay {
    async fn start(to: std::net::SocketAddr) -> Result<Self> {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let dead = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = dead.clone();
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let flag = flag.clone();
                tokio::spawn(async move {
                    let (mut ir, mut iw) = inbound.into_split();
                    if flag.load(Ordering::SeqCst) {
                        // A new connection while the network is gone: it hangs.
                        let mut sink = [0u8; 4096];
                        while matches!(ir.read(&mut sink).await, Ok(n) if n > 0) {}
                        return;
                    }
                    let Ok(outbound) = tokio::net::TcpStream::connect(to).await else {
                        return;
                    };
                    let (mut or, mut ow) = outbound.into_split();
                    let up_flag = flag.clone();
                    let up = async move {
                        let mut buf = [0u8; 8192];
                        loop {
                            let n = match ir.read(&mut buf).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            if !up_flag.load(Ordering::SeqCst)
                                && ow.write_all(&buf[..n]).await.is_err()
                            {
                                break;
                            }
                        }
                    };
                    let down = async move {
                        let mut buf = [0u8; 8192];
                        loop {
                            let n = match or.read(&mut buf).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            if !flag.load(Ordering::SeqCst)
                                && iw.write_all(&buf[..n]).await.is_err()
                            {
                                break;
                            }
                        }
                    };
                    tokio::join!(up, down);
                });
            }
        });
        Ok(Self { addr, dead })
    }

    fn set_dead(&self, dead: bool) {
        self.dead.store(dead, std::sync::atomic::Ordering::SeqCst);
    }
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
        std::time::Duration::from_secs(30),
    )
    .await?;
    Ok(())
}

/// Whether the element `a` comes before `b` in the page.
async fn before(page: &Page, a: &str, b: &str) -> Result<bool> {
    let v = page
        .js(&format!(
            "const a = document.querySelector({}), b = document.querySelector({}); return !!(a && b && (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING))",
            json!(a),
            json!(b)
        ))
        .await?;
    Ok(v == json!(true))
}

/// Phones through a session: who I am and the phase's work first (the rules folded, no big
/// hand in phase 0); the kind of card following the phase and changeable when editing; the
/// earlier phases in reach; a card frozen while voted on; the floor's words after a hard stop,
/// and a direct response ending with the turn it answered; the same word for a report on the
/// phone and the console; and a phone whose network goes, shown offline within seconds with
/// its lowered hand pending, and sent once it is back.
#[tokio::test]
async fn phones_find_their_work_keep_their_words_and_say_when_they_are_offline() -> Result<()> {
    let Some(_turn) = browser_turn().await else {
        return Ok(());
    };
    let server = Server::start()?;
    let mut driver = Driver::start().await?;
    let outcome = phones(&server, &mut driver).await;
    driver.stop().await;
    outcome
}

async fn phones(server: &Server, driver: &mut Driver) -> Result<()> {
    let created = server.create_session("Samen aan tafel", false).await?;
    let code = created.code.clone();
    let mut fac = server.client().await?;
    fac.resume(&code, &created.facilitator_token).await?;
    let console = driver.open("console-room", LAPTOP, "nl").await?;
    console.goto(&created.facilitator_url).await?;
    console.wait_for("#join-code").await?;
    // Nobody there yet: the balance does not say that everyone has spoken.
    console.wait_for("#balance-silent").await?;
    ensure!(
        console.text("#balance-silent").await? == "Er is nog niemand aanwezig.",
        "balance with nobody present: {:?}",
        console.text("#balance-silent").await?
    );

    // Anna on a 390×844 phone; Bram on a 360×640 phone, through a relay that can lose the
    // network.
    let anna = driver.open("phone-room-anna", PHONE, "nl").await?;
    anna.goto(&created.join_url).await?;
    join_through_form(&anna, "Anna", "medewerker").await?;
    let relay = Relay::start(server.addr).await?;
    let bram = driver.open("phone-room-bram", SMALL_PHONE, "nl").await?;
    let path = &created.join_url[created.join_url.find("/j/").context("join path")?..];
    let via_relay = format!("http://{}{path}", relay.addr);
    bram.goto(&via_relay).await?;
    join_through_form(&bram, "Bram", "client").await?;

    // Phase 0: who I am; the rules folded with the answer in view; the floor after the work.
    for (phone, name, who) in [
        (&anna, "390", "Je doet mee als Anna (Medewerker)."),
        (&bram, "360", "Je doet mee als Bram (Cliënt)."),
    ] {
        phone.wait_for("#you-are").await?;
        ensure!(phone.text("#you-are").await? == who);
        ensure!(
            phone
                .js("return document.getElementById('rules-fold')?.open === false")
                .await?
                == json!(true),
            "the rules are not folded"
        );
        let agree_bottom = phone
            .js("return document.getElementById('rules-agree').getBoundingClientRect().bottom <= innerHeight")
            .await?;
        ensure!(
            agree_bottom == json!(true),
            "{name}: agreeing to the rules is not on the first screen"
        );
        ensure!(
            before(phone, "#cards-heading", "#floor").await?,
            "{name}: in phase 0 the floor comes before the work"
        );
        ensure!(
            phone.count("#raise-hand.big-button").await? == 0,
            "{name}: a big raise-hand button in phase 0"
        );
        phone.axe(&format!("phone phase 0 ({name})")).await?;
        phone.shot(&format!("room-phone-{name}-phase0")).await?;
    }
    anna.click("#rules-fold summary").await?;
    anna.wait_js("return document.getElementById('rules-fold').open")
        .await?;
    anna.click("#rules-agree").await?;
    settled(&anna).await?;
    ensure!(
        anna.js("return document.getElementById('rules-fold').open")
            .await?
            == json!(true),
        "the rules folded themselves again after an answer"
    );

    // Phase 1: the floor first, the kind a problem. Phase 2: an idea, and phase 1 in reach.
    fac.ok(Command::SetPhase { phase: 1 }).await?;
    anna.wait_js("return document.querySelector('.phase-number')?.textContent === 'Fase 1'")
        .await?;
    ensure!(anna.value("#card-kind").await? == "problem");
    ensure!(
        before(&anna, "#floor", "#cards-heading").await?,
        "phase 1: the floor first"
    );
    let problem = add_card(&anna, "Cliënten kiezen hun dag niet zelf").await?;
    fac.ok(Command::SetPhase { phase: 2 }).await?;
    anna.wait_js("return document.querySelector('.phase-number')?.textContent === 'Fase 2'")
        .await?;
    ensure!(
        anna.value("#card-kind").await? == "idea",
        "the kind did not follow the phase"
    );
    anna.wait_for("#earlier details[data-phase='1']").await?;
    ensure!(
        anna.text("#earlier")
            .await?
            .contains("Cliënten kiezen hun dag niet zelf")
    );
    let _ = problem;

    // A card's kind changes while editing it.
    let card = add_card(&anna, "Een vaste vraag bij het ontbijt").await?;
    anna.click(&format!("[data-key='edit-{card}']")).await?;
    anna.wait_for("#edit-kind").await?;
    anna.client
        .find(fantoccini::Locator::Css("#edit-kind"))
        .await?
        .select_by_value("question")
        .await?;
    anna.axe("phone editing a card").await?;
    anna.shot("room-phone-390-editing").await?;
    anna.click("#edit-card-form button[type=submit]").await?;
    settled(&anna).await?;
    bram.wait_for(&format!("[data-card='{card}'][data-kind='question']"))
        .await?;

    // While people vote on it, its author cannot change it (and is told why).
    let round = fac
        .ok(Command::OpenRound {
            phase: None,
            budget: 3,
            max_per_card: 3,
            live: false,
        })
        .await?
        .round
        .context("round")?;
    anna.wait_for(&format!("#frozen-{card}")).await?;
    ensure!(
        anna.count(&format!("[data-key='edit-{card}']")).await? == 0,
        "a card in the open round can still be changed"
    );
    anna.shot("room-phone-390-frozen").await?;
    fac.ok(Command::CloseRound { round }).await?;
    anna.wait_for(&format!("[data-key='edit-{card}']")).await?;

    // The floor, hard limit of 5 s: Anna speaks, Bram raises a direct response. At the limit
    // Anna reads that her time is up (it stays), and Bram's direct response ends with her turn.
    fac.ok(Command::FloorSettings {
        change: tafel_protocol::FloorSettingsChange {
            turn_secs: Some(5),
            mode: Some(tafel_protocol::LimitMode::Hard),
            ..Default::default()
        },
    })
    .await?;
    anna.click("#raise-hand").await?;
    settled(&anna).await?;
    ensure!(
        anna.count("#raise-hand.big-button, #lower-hand.big-button")
            .await?
            == 1,
        "phase 2: the hand is a big button"
    );
    fac.ok(Command::GiveFloor { to: None }).await?;
    anna.wait_for("#my-turn").await?;
    bram.click("#raise-response").await?;
    settled(&bram).await?;
    bram.wait_for("#lower-hand").await?;
    console.wait_for("#queue li").await?;
    anna.wait_js_for(
        "return !!document.getElementById('time-up')",
        std::time::Duration::from_secs(15),
    )
    .await?;
    let words = anna.text("#floor").await?;
    ensure!(
        words.contains("Je tijd is om. Je sprak 00:05.")
            && words.contains("Je sprak 00:05 in 1 beurt. Verder heeft nog niemand gesproken."),
        "the floor's words after a hard stop: {words:?}"
    );
    ensure!(!words.contains("100"), "a share of 100 %: {words:?}");
    bram.wait_for("#raise-response, #raise-hand").await?;
    ensure!(
        bram.count("#lower-hand").await? == 0,
        "Bram's direct response outlived the turn"
    );
    // A barrier through the room: the queue is empty, and the phone still says it.
    fac.sync().await?;
    ensure!(
        fac.view().floor.queue.is_empty(),
        "the direct response is still queued"
    );
    ensure!(
        anna.count("#time-up").await? == 1,
        "'your time is up' went away"
    );
    anna.axe("phone after a hard stop").await?;
    anna.shot("room-phone-390-time-up").await?;
    bram.shot("room-phone-360-response-ended").await?;
    console.shot("room-console-after-hard-stop").await?;

    // Bram reports a broken rule: his phone and the console use the same word.
    bram.click("#flag-open").await?;
    bram.wait_for("#flag-form").await?;
    bram.client
        .find(fantoccini::Locator::Css("#flag-rule"))
        .await?
        .select_by_value("g3")
        .await?;
    bram.click("#flag-send").await?;
    settled(&bram).await?;
    bram.wait_for("#my-reports [data-report='x1']").await?;
    console
        .wait_for("[data-report='x1'][data-status='open']")
        .await?;
    let phone_word = bram.text("#my-reports [data-report='x1'] .badge").await?;
    let console_word = console.text("[data-report='x1'] .badge").await?;
    ensure!(
        phone_word == console_word && phone_word == "open",
        "report: phone {phone_word:?}, console {console_word:?}"
    );
    fac.ok(Command::ConfirmFlag {
        report: "x1".into(),
        consequence: None,
    })
    .await?;
    bram.wait_for("#my-reports [data-report='x1'][data-status='confirmed']")
        .await?;
    console
        .wait_for("[data-report='x1'][data-status='confirmed']")
        .await?;
    let phone_word = bram.text("#my-reports [data-report='x1'] .badge").await?;
    let console_word = console.text("[data-report='x1'] .badge").await?;
    ensure!(
        phone_word == console_word && phone_word == "bevestigd",
        "report: phone {phone_word:?}, console {console_word:?}"
    );

    // Bram raises his hand; the network goes; he lowers it. Within seconds the phone says it
    // has no connection and that the lowered hand waits; back online, it goes out.
    bram.click("#raise-hand").await?;
    settled(&bram).await?;
    relay.set_dead(true);
    let lost = std::time::Instant::now();
    bram.click("#lower-hand").await?;
    bram.wait_for("#hand-pending").await?;
    bram.wait_js_for(
        "return document.getElementById('conn-status').dataset.state === 'offline' && !document.getElementById('offline-banner').hidden",
        std::time::Duration::from_secs(10),
    )
    .await?;
    let offline_after_tap = lost.elapsed();
    ensure!(
        bram.text("#offline-banner").await?
            == "Geen verbinding — we versturen het zodra je terug bent (nog 1 te versturen).",
        "offline words: {:?}",
        bram.text("#offline-banner").await?
    );
    ensure!(bram.text("#hand-pending").await? == "Je hand gaat omlaag zodra er verbinding is.");
    bram.axe("phone offline with a pending hand").await?;
    bram.shot("room-phone-360-offline").await?;
    relay.set_dead(false);
    let back = std::time::Instant::now();
    settled(&bram).await?;
    let online_again = back.elapsed();
    ensure!(bram.count("#hand-pending").await? == 0);
    fac.sync().await?;
    ensure!(
        fac.view().floor.queue.is_empty(),
        "Bram's hand is still up after the phone came back"
    );
    bram.shot("room-phone-360-back-online").await?;

    // Idle, without a tap: the phone still notices on its own.
    relay.set_dead(true);
    let idle = std::time::Instant::now();
    bram.wait_js_for(
        "return document.getElementById('conn-status').dataset.state === 'offline'",
        std::time::Duration::from_secs(20),
    )
    .await?;
    let offline_idle = idle.elapsed();
    ensure!(
        bram.text("#offline-banner").await? == "Geen verbinding. We proberen het steeds opnieuw."
    );
    relay.set_dead(false);
    settled(&bram).await?;

    console.axe("console in the room").await?;
    console.shot("room-console").await?;
    let report = format!(
        "phone, network gone, then 'lower hand' tapped: offline shown after {:.1} s\n\
         phone, network back: online with the hand sent after {:.1} s\n\
         phone, network gone while idle: offline shown after {:.1} s\n",
        offline_after_tap.as_secs_f64(),
        online_again.as_secs_f64(),
        offline_idle.as_secs_f64()
    );
    print!("{report}");
    std::fs::write(artifacts()?.join("room-offline.txt"), report)?;
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

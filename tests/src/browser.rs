//! The browser harness: Debian's Chromium driven through chromedriver with fantoccini, each
//! browser with a fresh profile (a device of its own) and its own downloads folder, axe-core
//! injected for accessibility checks, screenshots into `tests/artifacts/`, pages printed to
//! PDF (WebDriver's print, A4) and the PDF's pages turned into PNGs with poppler's `pdftoppm`.
//!
//! Without /usr/bin/chromium or /usr/bin/chromedriver, [`browser_turn`] says so loudly and the
//! tests pass, except in CI (env CI set), where they fail.

use anyhow::{Context, Result, anyhow, bail};
use fantoccini::wd::PrintConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Viewport sizes: a phone, the facilitator's laptop, the room's big screen.
pub const PHONE: (u32, u32) = (390, 844);
pub const LAPTOP: (u32, u32) = (1280, 800);
pub const BIG_SCREEN: (u32, u32) = (1280, 720);

/// How long to wait for something to show up on a screen.
pub const WAIT: Duration = Duration::from_secs(10);

/// The browser tests run one at a time: each starts several Chromiums, and two cores are few.
pub static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Waits for this test's turn; None (after a loud warning) when no browser is installed here.
pub async fn browser_turn() -> Option<tokio::sync::MutexGuard<'static, ()>> {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|path| !Path::new(path).exists())
        .collect();
    if !missing.is_empty() {
        if std::env::var_os("CI").is_some() {
            panic!("browser tests need {missing:?}: apt-get install chromium chromium-driver");
        }
        eprintln!(
            "\n{bar}\n!! BROWSER TESTS SKIPPED: {missing:?} not installed.\n!! Install with: apt-get install chromium chromium-driver\n{bar}\n",
            bar = "!".repeat(78)
        );
        return None;
    }
    Some(ONE_AT_A_TIME.lock().await)
}

/// The tests' output folder, tests/artifacts/ (ignored by git).
pub fn artifacts() -> Result<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// axe-core's browser build, installed by npm from tests/package-lock.json (installed here on
/// first use when missing).
pub fn axe_source() -> Result<Option<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = dir.join("node_modules/axe-core/axe.min.js");
    if !file.exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(dir)
            .stdout(Stdio::null())
            .status();
        if !matches!(status, Ok(s) if s.success()) || !file.exists() {
            if std::env::var_os("CI").is_some() {
                bail!("axe-core is missing: run `npm ci` in tests/");
            }
            eprintln!(
                "!! axe-core is missing (run `npm ci` in tests/): accessibility checks SKIPPED"
            );
            return Ok(None);
        }
    }
    Ok(Some(std::fs::read_to_string(file)?))
}

/// One chromedriver, and every browser session opened through it.
pub struct Driver {
    process: Child,
    url: String,
    clients: Vec<Client>,
    profiles: Vec<tempfile::TempDir>,
    axe: Option<String>,
}

impl Driver {
    pub async fn start() -> Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let process = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting chromedriver")?;
        let mut driver = Self {
            process,
            url: format!("http://127.0.0.1:{port}"),
            clients: Vec::new(),
            profiles: Vec::new(),
            axe: axe_source()?,
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + WAIT;
        loop {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return Ok(driver);
            }
            if Instant::now() > deadline {
                driver.stop().await;
                bail!("chromedriver did not start");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A new browser with its own fresh profile: a separate device.
    pub async fn open(
        &mut self,
        name: &str,
        (width, height): (u32, u32),
        lang: &str,
    ) -> Result<Page> {
        let profile = tempfile::tempdir()?;
        let downloads = profile.path().join("downloads");
        std::fs::create_dir_all(&downloads)?;
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ]
        .into_iter()
        .map(String::from)
        .chain([
            format!("--user-data-dir={}", profile.path().display()),
            format!("--window-size={width},{height}"),
            format!("--lang={lang}"),
        ])
        .collect::<Vec<_>>();
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": CHROMIUM, "args": args, "prefs": {
                "intl.accept_languages": lang,
                "download.default_directory": downloads,
                "download.prompt_for_download": false,
            } }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .with_context(|| format!("starting Chromium for {name}"))?;
        self.clients.push(client.clone());
        self.profiles.push(profile);
        let page = Page {
            client,
            name: name.to_owned(),
            size: (width, height),
            axe: self.axe.clone(),
            downloads,
        };
        page.set_viewport(width, height).await?;
        Ok(page)
    }

    /// Ends every browser session, then chromedriver.
    pub async fn stop(&mut self) {
        for client in self.clients.drain(..) {
            let _ = client.close().await;
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// One browser window, named for messages and screenshot files.
pub struct Page {
    /// The WebDriver session, for what the helpers below do not cover.
    pub client: Client,
    /// The page's name in messages and screenshot files.
    pub name: String,
    size: (u32, u32),
    axe: Option<String>,
    /// Where this browser saves what it downloads.
    pub downloads: PathBuf,
}

impl Page {
    /// Sizes the window so the page itself (the viewport) gets exactly width × height.
    pub async fn set_viewport(&self, width: u32, height: u32) -> Result<()> {
        self.client.set_window_size(width, height).await?;
        let inner = self.js("return [innerWidth, innerHeight]").await?;
        let (iw, ih) = (
            inner[0].as_u64().unwrap_or(0) as u32,
            inner[1].as_u64().unwrap_or(0) as u32,
        );
        if (iw, ih) != (width, height) {
            self.client
                .set_window_size(
                    2 * width - iw.min(2 * width),
                    2 * height - ih.min(2 * height),
                )
                .await?;
        }
        Ok(())
    }

    pub async fn goto(&self, url: &str) -> Result<()> {
        self.client
            .goto(url)
            .await
            .with_context(|| format!("{}: open {url}", self.name))
    }

    pub async fn refresh(&self) -> Result<()> {
        Ok(self.client.refresh().await?)
    }

    pub async fn js(&self, script: &str) -> Result<Value> {
        self.client
            .execute(script, vec![])
            .await
            .with_context(|| format!("{}: script {script}", self.name))
    }

    /// Waits until the script returns something truthy, and returns it.
    pub async fn wait_js(&self, script: &str) -> Result<Value> {
        self.wait_js_for(script, WAIT).await
    }

    pub async fn wait_js_for(&self, script: &str, timeout: Duration) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self
                .js(&format!("try {{ {script} }} catch (e) {{ return null; }}"))
                .await?;
            let truthy = match &value {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return Ok(value);
            }
            if Instant::now() > deadline {
                let _ = self.shot(&format!("FAILED-{}", self.name)).await;
                bail!("{}: timed out waiting for: {script}", self.name);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn wait_for(&self, css: &str) -> Result<()> {
        self.wait_js(&format!("return !!document.querySelector({})", json!(css)))
            .await?;
        Ok(())
    }

    /// Waits until exactly n cards are on the board.
    pub async fn cards_shown(&self, n: usize) -> Result<()> {
        self.wait_js(&format!(
            "return document.querySelectorAll('#cards [data-card]').length === {n}"
        ))
        .await?;
        Ok(())
    }

    pub async fn count(&self, css: &str) -> Result<u64> {
        let n = self
            .js(&format!(
                "return document.querySelectorAll({}).length",
                json!(css)
            ))
            .await?;
        n.as_u64().context("count")
    }

    pub async fn text(&self, css: &str) -> Result<String> {
        let text = self
            .js(&format!(
                "return document.querySelector({}).textContent",
                json!(css)
            ))
            .await?;
        text.as_str().map(str::to_owned).context("text")
    }

    pub async fn value(&self, css: &str) -> Result<String> {
        let text = self
            .js(&format!(
                "return document.querySelector({}).value",
                json!(css)
            ))
            .await?;
        text.as_str().map(str::to_owned).context("value")
    }

    /// Clicks like a finger: the element is first scrolled to the middle of the screen, clear
    /// of the sticky vote budget at the bottom.
    pub async fn click(&self, css: &str) -> Result<()> {
        self.wait_for(css).await?;
        self.js(&format!(
            "document.querySelector({}).scrollIntoView({{ block: 'center' }})",
            json!(css)
        ))
        .await?;
        let element = self.client.find(Locator::Css(css)).await?;
        element
            .click()
            .await
            .with_context(|| format!("{}: click {css}", self.name))
    }

    pub async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        self.wait_for(css).await?;
        let element = self.client.find(Locator::Css(css)).await?;
        element
            .send_keys(text)
            .await
            .with_context(|| format!("{}: type into {css}", self.name))
    }

    /// The ranking on screen as "card:votes", in order.
    pub async fn ranking(&self) -> Result<Vec<String>> {
        let rows = self
            .js("return [...document.querySelectorAll('#ranking li')].map(li => li.dataset.card + ':' + li.dataset.votes)")
            .await?;
        serde_json::from_value(rows).map_err(|e| anyhow!("{}: ranking: {e}", self.name))
    }

    /// Bytes over the wire since this page was opened: the document and every resource.
    pub async fn transferred_bytes(&self) -> Result<u64> {
        let total = self
            .js("return [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')].reduce((sum, e) => sum + e.transferSize, 0)")
            .await?;
        total.as_u64().context("transfer size")
    }

    /// One line per document and resource loaded: transfer size, encoded and decoded body.
    pub async fn resources(&self) -> Result<String> {
        let lines = self
            .js("return [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
                 .map(e => [e.transferSize, e.encodedBodySize, e.decodedBodySize].map(n => String(n).padStart(8)).join('')
                   + '  ' + new URL(e.name).pathname).join('\\n')")
            .await?;
        Ok(format!("{}\n", lines.as_str().unwrap_or_default()))
    }

    /// Runs axe-core on the page as it is now; any WCAG 2.0/2.1 A or AA violation fails.
    pub async fn axe(&self, screen: &str) -> Result<()> {
        let Some(axe) = &self.axe else { return Ok(()) };
        self.js(axe).await.context("injecting axe-core")?;
        let violations = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
                   .then(r => done(r.violations.map(v => ({ id: v.id, help: v.help,
                       nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary) }))))
                   .catch(e => done([{ id: 'axe-error', help: String(e), nodes: [] }]));",
                vec![],
            )
            .await?;
        let list = violations.as_array().cloned().unwrap_or_default();
        if !list.is_empty() {
            let _ = self
                .shot(&format!("AXE-{}", screen.replace(' ', "-")))
                .await;
            bail!(
                "axe found {} violation(s) on {screen}:\n{}",
                list.len(),
                serde_json::to_string_pretty(&list)?
            );
        }
        Ok(())
    }

    /// Waits until the browser saved a download called `name`, and returns its bytes.
    pub async fn downloaded(&self, name: &str) -> Result<Vec<u8>> {
        let file = self.downloads.join(name);
        let deadline = Instant::now() + WAIT;
        loop {
            // Chromium writes to `name.crdownload` and renames it once complete.
            if file.exists() {
                return Ok(std::fs::read(&file)?);
            }
            if Instant::now() > deadline {
                bail!(
                    "{}: no download {name} in {}",
                    self.name,
                    self.downloads.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Prints the page as Chromium does (WebDriver print: A4, the page's print stylesheet) to
    /// tests/artifacts/{file}.pdf, and returns the PDF.
    pub async fn print_pdf(&self, file: &str) -> Result<Vec<u8>> {
        let pdf = self
            .client
            .print(PrintConfiguration::default())
            .await
            .with_context(|| format!("{}: print", self.name))?;
        std::fs::write(artifacts()?.join(format!("{file}.pdf")), &pdf)?;
        Ok(pdf)
    }

    /// Saves a screenshot of the whole page to tests/artifacts/{file}.png.
    pub async fn shot(&self, file: &str) -> Result<()> {
        let (width, height) = self.size;
        self.js("window.scrollTo(0, 0)").await?;
        let full = self
            .js("return document.documentElement.scrollHeight")
            .await?
            .as_u64()
            .unwrap_or(0) as u32;
        if full > height {
            self.set_viewport(width, full.min(6000)).await?;
        }
        let png = self.client.screenshot().await;
        if full > height {
            self.set_viewport(width, height).await?;
        }
        std::fs::write(artifacts()?.join(format!("{file}.png")), png?)?;
        Ok(())
    }
}

/// The pages of tests/artifacts/{file}.pdf as PNGs, tests/artifacts/{file}-1.png and on (poppler's
/// pdftoppm, at 100 dpi), to look at. Without pdftoppm this says so loudly and returns none,
/// except in CI, where it fails.
pub fn pdf_pages(file: &str) -> Result<Vec<PathBuf>> {
    let dir = artifacts()?;
    let pdf = dir.join(format!("{file}.pdf"));
    let page_of = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix(&format!("{file}-")))
            .and_then(|n| n.strip_suffix(".png"))
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            .and_then(|n| n.parse::<u32>().ok())
    };
    // Pages of an earlier run go first.
    for old in std::fs::read_dir(&dir)?.filter_map(|e| e.ok().map(|e| e.path())) {
        if page_of(&old).is_some() {
            std::fs::remove_file(old)?;
        }
    }
    let status = Command::new("pdftoppm")
        .args(["-png", "-r", "100"])
        .arg(&pdf)
        .arg(dir.join(file))
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => bail!("pdftoppm {}: {s}", pdf.display()),
        Err(e) => {
            if std::env::var_os("CI").is_some() {
                bail!("pdftoppm is missing ({e}): apt-get install poppler-utils");
            }
            eprintln!(
                "!! pdftoppm is missing (apt-get install poppler-utils): the PDF's pages are not turned into images"
            );
            return Ok(Vec::new());
        }
    }
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| page_of(p).is_some())
        .collect();
    pages.sort_by_key(|p| page_of(p));
    Ok(pages)
}

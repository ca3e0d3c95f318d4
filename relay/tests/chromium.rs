//! A headless Chromium driven over WebDriver (Debian's chromium and
//! chromedriver), for the browser tests and the console benchmark.
//!
//! Tests find controls as a screen reader would: by role and accessible
//! name, as Chromium computes them ([`Browser::by_name`]), and check what
//! is on screen, not only in the page ([`Browser::on_screen`]).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::util::{free_port, unique, wait_for};

/// How long a page gets to show what is awaited.
pub const WAIT: Duration = Duration::from_secs(20);

/// chromedriver and one browser session, both ended when dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    /// chromedriver's port, for the commands fantoccini lacks.
    port: u16,
}

impl Browser {
    pub async fn start() -> Browser {
        Browser::start_with(&[]).await
    }

    /// With extra Chromium arguments (window size, colour scheme).
    pub async fn start_with(extra: &[&str]) -> Browser {
        Browser::start_full(extra, None).await
    }

    /// Saving downloads into `downloads` without asking.
    pub async fn start_downloading(downloads: &std::path::Path) -> Browser {
        Browser::start_full(&[], Some(downloads)).await
    }

    async fn start_full(extra: &[&str], downloads: Option<&std::path::Path>) -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (Debian's chromium-driver)");
        wait_for("chromedriver", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        let profile = tempfile::tempdir().unwrap().keep();
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1200,900",
        ]
        .map(String::from)
        .to_vec();
        args.push(format!("--user-data-dir={}", profile.display()));
        // Later switches win, so these can override the defaults.
        args.extend(extra.iter().map(|a| a.to_string()));
        let mut caps = serde_json::json!({
            "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args }
        });
        if let Some(dir) = downloads {
            caps["goog:chromeOptions"]["prefs"] = serde_json::json!({
                "download.default_directory": dir,
                "download.prompt_for_download": false,
            });
        }
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.as_object().unwrap().clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a chromium session");
        Browser {
            client,
            driver,
            port,
        }
    }

    pub async fn css(&self, selector: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("no {selector} on the page: {e}"))
    }

    /// Clicks what `selector` finds, finding it again if a live update
    /// replaced it in between (rows update as the engine's events arrive,
    /// and other tests share the engine).
    pub async fn click(&self, selector: &str) {
        for _ in 0..10 {
            match self.css(selector).await.click().await {
                Ok(()) => return,
                Err(e) if e.is_stale_element_reference() => {}
                Err(e) => panic!("clicking {selector}: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{selector} kept being replaced");
    }

    /// The control a screen reader announces as `role` (as Chromium
    /// computes it: `button`, `checkbox`, `link`, `log`…) named `name`,
    /// once there is one.
    pub async fn by_name(&self, role: &str, name: &str) -> Element {
        let start = std::time::Instant::now();
        loop {
            if let Some(el) = self.find_by_name(role, name).await {
                return el;
            }
            if start.elapsed() >= WAIT {
                self.keep_evidence().await;
                panic!("no {role} named {name:?} on the page");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The first `role` named `name` now, if any. Candidates are what
    /// could carry the name (an aria-label, a title, its text, a label);
    /// Chromium's own role and name for each decide.
    pub async fn find_by_name(&self, role: &str, name: &str) -> Option<Element> {
        let n = xpath_literal(name);
        let xpath = format!(
            "//*[@aria-label={n} or @title={n} or normalize-space(.)={n} \
               or @id=//label[normalize-space(.)={n}]/@for] | //label[normalize-space(.)={n}]//*"
        );
        let candidates = self.client.find_all(Locator::XPath(&xpath)).await.ok()?;
        for el in candidates {
            let id = el.element_id().to_string();
            let (Some(r), Some(l)) = (
                self.computed(&id, "role").await,
                self.computed(&id, "label").await,
            ) else {
                continue;
            };
            if r == role && l == name {
                return Some(el);
            }
        }
        None
    }

    /// What chromedriver computes for an element: its `role` or `label`.
    async fn computed(&self, element: &str, what: &str) -> Option<String> {
        let session = self.client.session_id().await.ok()??;
        let path = format!("/session/{session}/element/{element}/computed{what}");
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .ok()?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        // chromedriver keeps the connection open after its answer: read as
        // much as it says it sends.
        let mut answer = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&answer);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|n| n.trim().to_owned())
                    })?
                    .parse()
                    .ok()?;
                if body.len() >= length {
                    let v: serde_json::Value = serde_json::from_str(&body[..length]).ok()?;
                    return v["value"].as_str().map(str::to_owned);
                }
            }
            let n = tokio::time::timeout(WAIT, stream.read(&mut chunk))
                .await
                .ok()?
                .ok()?;
            if n == 0 {
                return None;
            }
            answer.extend_from_slice(&chunk[..n]);
        }
    }

    /// Where `el` is on screen, against the window: `(top, left, bottom,
    /// right, window height, window width)`.
    pub async fn rect(&self, el: &Element) -> [f64; 6] {
        let r = self
            .client
            .execute(
                "const r = arguments[0].getBoundingClientRect();
                 return [r.top, r.left, r.bottom, r.right, innerHeight, innerWidth];",
                vec![serde_json::to_value(el).unwrap()],
            )
            .await
            .unwrap();
        let n: Vec<f64> = r
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        [n[0], n[1], n[2], n[3], n[4], n[5]]
    }

    /// Whether all of `el` is inside the window (and it has a size).
    pub async fn on_screen(&self, el: &Element) -> bool {
        let [top, left, bottom, right, height, width] = self.rect(el).await;
        bottom > top
            && right > left
            && top >= 0.0
            && left >= 0.0
            && bottom <= height
            && right <= width
    }

    /// Waits until all of `el` is inside the window.
    pub async fn wait_on_screen(&self, el: &Element, what: &str) {
        let start = std::time::Instant::now();
        while !self.on_screen(el).await {
            if start.elapsed() >= WAIT {
                self.keep_evidence().await;
                panic!("{what} is not all on screen: {:?}", self.rect(el).await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Scrolls `el` into the window as a person would, then waits until all
    /// of it is there (not hidden, not covered by the edge of the window).
    pub async fn reveal(&self, el: &Element, what: &str) {
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center', inline: 'nearest'})",
                vec![serde_json::to_value(el).unwrap()],
            )
            .await
            .unwrap();
        self.wait_on_screen(el, what).await;
    }

    /// Waits until `el` is disabled and says why as its description (and
    /// tooltip); returns the reason.
    pub async fn disabled_because(&self, el: &Element, what: &str) -> String {
        let start = std::time::Instant::now();
        loop {
            let enabled = el.is_enabled().await.unwrap();
            let why = el
                .attr("aria-description")
                .await
                .unwrap()
                .unwrap_or_default();
            let title = el.attr("title").await.unwrap().unwrap_or_default();
            if !enabled && !why.is_empty() && title == why {
                return why;
            }
            if start.elapsed() >= WAIT {
                panic!("{what} is offered (enabled: {enabled}, description: {why:?}, title: {title:?})");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn text_of(&self, selector: &str) -> String {
        self.css(selector).await.text().await.unwrap()
    }

    /// Waits until no element matches `selector`.
    pub async fn gone(&self, selector: &str) {
        let start = std::time::Instant::now();
        while !self
            .client
            .find_all(Locator::Css(selector))
            .await
            .unwrap()
            .is_empty()
        {
            assert!(start.elapsed() < WAIT, "{selector} is still on the page");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The notices on the page, for failure messages.
    pub async fn notices(&self) -> Vec<String> {
        let mut out = Vec::new();
        for n in self.client.find_all(Locator::Css(".notice")).await.unwrap() {
            out.push(n.text().await.unwrap_or_default());
        }
        out
    }

    /// Waits until the text of `selector` satisfies `ok`; returns it.
    pub async fn wait_text(&self, selector: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = std::time::Instant::now();
        loop {
            let mut text = String::new();
            for el in self.client.find_all(Locator::Css(selector)).await.unwrap() {
                text += &el.text().await.unwrap_or_default();
                text.push('\n');
            }
            if ok(&text) {
                return text;
            }
            if start.elapsed() >= WAIT {
                self.keep_evidence().await;
            }
            assert!(
                start.elapsed() < WAIT,
                "{selector} never got there; it says {text:?}; notices {:?}",
                self.notices().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Leaves the page's HTML and a screenshot in the temp folder, named in
    /// the failure message, for a test about to fail.
    pub async fn keep_evidence(&self) {
        let base = std::env::temp_dir().join(unique("berth-browser-failure"));
        if let Ok(html) = self.client.source().await {
            let _ = std::fs::write(base.with_extension("html"), html);
        }
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(base.with_extension("png"), png);
        }
        eprintln!("page kept in {}.{{html,png}}", base.display());
    }

    pub async fn end(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `text` as an XPath string literal.
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// Waits until the browser has finished saving `file` into `dir`, then
/// lists the tar it saved.
pub fn downloaded_tar(dir: &std::path::Path, file: &str) -> String {
    let path = dir.join(file);
    wait_for("the download", WAIT, || {
        path.is_file()
            && !dir.read_dir().unwrap().any(|e| {
                e.unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".crdownload")
            })
    });
    let out = Command::new("tar").arg("tf").arg(&path).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

//! A headless Chromium driven over WebDriver (Debian's chromium and
//! chromedriver), for the browser tests and the console benchmark.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

use crate::util::{free_port, unique, wait_for};

/// How long a page gets to show what is awaited.
pub const WAIT: Duration = Duration::from_secs(20);

/// chromedriver and one browser session, both ended when dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
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
        Browser { client, driver }
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

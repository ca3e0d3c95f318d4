//! The flight recorder's console pages in a real headless Chromium, through
//! a relay started with `--record DIR` in front of the real engine: the
//! History page (a removed container, a recreated compose service), a
//! record in the log workbench, Search (and the palette's way to it),
//! what needs attention on the dashboard, and the recorder off or refused.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::Locator;
use serde_json::Value;

use crate::browser::{console_dir, Browser, WAIT};
use crate::util::*;

/// A relay serving the console, recording into a folder of its own (kept
/// as long as the relay), and waiting until the recorder runs.
struct Recording {
    relay: Relay,
    _dir: tempfile::TempDir,
}

fn recording(args: &[&str]) -> Recording {
    let dir = tempfile::tempdir().unwrap();
    let console = console_dir();
    let mut all = vec![
        "--console-dir",
        &console,
        "--record",
        dir.path().to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let relay = Relay::start_with(&engine(), &all);
    wait_for("the recorder", WAIT, || {
        get_json(&relay, "/_berth/health")["recorder"] == "recording"
    });
    Recording { relay, _dir: dir }
}

fn get_json(relay: &Relay, path: &str) -> Value {
    let out = curl(Some(relay), &[], path);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{path}: {e}: {}", text(&out.stdout)))
}

/// The recorder's entry of the container named `name`, once `ready` says
/// it has what the test needs.
fn recorded_entry(relay: &Relay, name: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let mut found = Value::Null;
    wait_for(&format!("the record of {name}"), WAIT, || {
        let all = get_json(relay, "/_berth/history");
        found = all
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["name"] == name)
            .cloned()
            .unwrap_or(Value::Null);
        !found.is_null() && ready(&found)
    });
    found
}

/// Waits until the recorder's search for `q` finds `n` lines.
fn searchable(relay: &Relay, q: &str, n: usize) {
    wait_for(&format!("{n} lines matching {q}"), WAIT, || {
        let out = curl(Some(relay), &[], &format!("/_berth/search?q={q}"));
        text(&out.stdout).lines().count() == n
    });
}

/// The page's address, without the origin.
async fn path_of(b: &Browser) -> String {
    let url = b.client.current_url().await.unwrap();
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

/// Containers run and removed one after the other, until dropped: the
/// events other tests make on a shared engine, made sure of.
struct Churn(Arc<AtomicBool>, Option<std::thread::JoinHandle<()>>);

impl Churn {
    fn start() -> Churn {
        let on = Arc::new(AtomicBool::new(true));
        let running = on.clone();
        let thread = std::thread::spawn(move || {
            while running.load(Ordering::Relaxed) {
                let _ = docker(&engine(), &["run", "--rm", IMAGE, "true"]);
            }
        });
        Churn(on, Some(thread))
    }
}

impl Drop for Churn {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
        if let Some(t) = self.1.take() {
            let _ = t.join();
        }
    }
}

/// Ends the browser, insisting that the console did not stop on the way
/// (a panic ends it; index.html then says so).
async fn end(b: Browser) {
    let stopped = b
        .client
        .find_all(Locator::Css("#berth-stopped"))
        .await
        .unwrap();
    if let Some(s) = stopped.first() {
        let said = s.text().await.unwrap_or_default();
        b.keep_evidence().await;
        panic!("the console stopped: {said}");
    }
    b.end().await;
}

/// Asserts that the page does not scroll sideways.
async fn fits_width(b: &Browser, page: &str) {
    let widths = b
        .client
        .execute(
            "const wide = [...document.querySelectorAll('body *')]
               .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
               .map(e => e.tagName + '.' + e.className).slice(0, 5);
             return [document.documentElement.scrollWidth, document.documentElement.clientWidth, wide];",
            vec![],
        )
        .await
        .unwrap();
    let [scroll, client, wide] = widths.as_array().unwrap().as_slice() else {
        panic!("{widths}")
    };
    assert!(
        scroll.as_u64() <= client.as_u64(),
        "{page} scrolls sideways: {scroll} > {client}; too wide: {wide}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removed_container_is_listed_and_its_record_shows_its_last_line() {
    let rec = recording(&[]);
    let name = unique("gone");
    let said = format!("last-words-of-{name}");
    let out = docker(
        &engine(),
        &[
            "run",
            "--rm",
            "--name",
            &name,
            IMAGE,
            "sh",
            "-c",
            &format!("echo {said}; exit 3"),
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    recorded_entry(&rec.relay, &name, |e| {
        e["destroyed"] == true && e["exitCode"] == 3 && e["bytes"].as_u64() > Some(0)
    });

    // A laptop's window and a phone's: listed, on screen, and it fits.
    for size in ["--window-size=1280,800", "--window-size=390,844"] {
        let b = Browser::start_with(&[size]).await;
        b.client
            .goto(&rec.relay.url("/console/history"))
            .await
            .unwrap();
        let link = b
            .by_name("link", &format!("Open the record of {name}"))
            .await;
        // Other tests' containers come and go on the same engine: it may
        // be further down, as a person would scroll to it.
        b.reveal(&link, &format!("the record's link at {size}"))
            .await;
        let ended = b
            .text_of(&format!("tr[data-record='{name}'] [data-ended]"))
            .await;
        assert_eq!(ended, "exited with 3, removed");
        fits_width(&b, "/console/history").await;

        // Its record: how it ended, and its line in the workbench. (The
        // list is left while containers come and go: it reads the records
        // again a moment after their events, when it is gone, and that
        // must not stop the console; `end` checks.)
        let churning = Churn::start();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        link.click().await.unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        drop(churning);
        let log = b.by_name("log", &format!("Log of {name}")).await;
        b.wait_text(".log-view", |t| t.contains(&said)).await;
        let outcome = b.text_of("[data-record-outcome]").await;
        assert_eq!(outcome, "exited with 3, removed");
        let line = b.css(".log-row").await;
        b.reveal(&log, "the record's log").await;
        b.wait_on_screen(&line, &format!("its line at {size}"))
            .await;
        // Its inspect, kept at its death, environment values hidden.
        let inspect = b.text_of("[data-record-inspect]").await;
        assert!(inspect.contains("Config"), "{inspect}");
        fits_width(&b, "a record").await;
        end(b).await;
    }
}

/// `docker-compose -p project -f file args…` against the test engine.
fn compose(project: &str, file: &std::path::Path, args: &[&str]) {
    let out = Command::new("docker-compose")
        .env("DOCKER_HOST", engine())
        .env("COMPOSE_INTERACTIVE_NO_CLI", "1")
        .args(["--no-ansi", "-p", project, "-f"])
        .arg(file)
        .args(args)
        .output()
        .expect("docker-compose (scripts/test installs Debian's)");
    assert!(
        out.status.success(),
        "docker-compose {args:?}: {}",
        text(&out.stderr)
    );
}

/// Takes a compose project down when the test ends, pass or fail.
struct Down(String, std::path::PathBuf);

impl Drop for Down {
    fn drop(&mut self) {
        let _ = Command::new("docker-compose")
            .env("DOCKER_HOST", engine())
            .args(["--no-ansi", "-p", &self.0, "-f"])
            .arg(&self.1)
            .args(["down", "-v", "-t", "1"])
            .output();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recreated_compose_service_shows_its_earlier_container_with_the_new_one() {
    let rec = recording(&[]);
    let project = unique("hist").replace('-', "");
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("compose.yml");
    let write = |word: &str| {
        std::fs::write(
            &file,
            format!(
                "services:\n  app:\n    image: {IMAGE}\n    command: sh -c 'echo {word}; trap \"exit 0\" TERM; sleep 600 & wait'\n"
            ),
        )
        .unwrap()
    };
    let _down = Down(project.clone(), file.clone());
    let of_project = || -> Vec<Value> {
        get_json(&rec.relay, "/_berth/history")
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["project"] == project.as_str())
            .cloned()
            .collect()
    };
    write("first-version");
    compose(&project, &file, &["up", "-d"]);
    wait_for("the first container's line", WAIT, || {
        of_project().iter().any(|e| e["bytes"].as_u64() > Some(0))
    });
    write("second-version");
    compose(&project, &file, &["up", "-d"]);
    let mut both = vec![];
    wait_for("both containers, the first removed", WAIT, || {
        both = of_project();
        both.len() == 2 && both.iter().filter(|e| e["destroyed"] == true).count() == 1
    });
    // Compose gives the new container the old one's name: the ids differ.
    let id = |removed: bool| {
        both.iter().find(|e| e["destroyed"] == removed).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (old, new) = (id(true), id(false));
    let name = both[0]["name"].as_str().unwrap().to_owned();

    let b = Browser::start().await;
    b.client
        .goto(&rec.relay.url("/console/history"))
        .await
        .unwrap();
    let group = format!("tbody[data-history-group='{project}/app']");
    let heading = b.text_of(&format!("{group} tr.group")).await;
    assert!(heading.contains(&format!("{project}/app")), "{heading}");
    assert!(heading.contains("2 containers"), "{heading}");
    // The new one first (running), then the one it replaced (removed).
    let rows = b
        .client
        .find_all(Locator::Css(&format!("{group} tr[data-record]")))
        .await
        .unwrap();
    let mut ids = vec![];
    for r in rows {
        ids.push(r.attr("data-id").await.unwrap().unwrap_or_default());
    }
    assert_eq!(ids, [new.clone(), old.clone()]);
    assert!(b
        .text_of(&format!("tr[data-id='{new}'] [data-ended]"))
        .await
        .starts_with("running"));
    assert_eq!(
        b.text_of(&format!("tr[data-id='{old}'] [data-ended]"))
            .await,
        "exited with 0, removed"
    );
    let earlier = b
        .by_name(
            "link",
            &format!("Open the record of {name} ({})", &old[..12]),
        )
        .await;
    b.reveal(&earlier, "the earlier container's link").await;
    earlier.click().await.unwrap();
    b.wait_text(".log-view", |t| t.contains("first-version"))
        .await;
    let compose_fact = b.text_of("[data-fact=Compose]").await;
    assert_eq!(compose_fact, format!("project {project}, service app"));
    end(b).await;
}

/// A container that prints `lines` (with a moment between them, so they
/// are in order) and then waits, removed when the test ends.
fn printing(prefix: &str, lines: &str) -> Container {
    let script = format!("{lines}; trap 'exit 0' TERM; sleep 600 & wait");
    Container::run(prefix, &[IMAGE, "sh", "-c", &script])
}

#[tokio::test(flavor = "multi_thread")]
async fn search_finds_a_line_in_two_containers_filters_and_opens_a_match_in_its_log() {
    let rec = recording(&[]);
    let needle = unique("needle").replace('-', "");
    // Many lines either side, so the match is scrolled to.
    let a = printing(
        "search-a",
        &format!(
            "i=0; while [ $i -lt 300 ]; do echo before $i; i=$((i+1)); done; echo {needle} from a; \
             i=0; while [ $i -lt 300 ]; do echo after $i; i=$((i+1)); done"
        ),
    );
    let c = printing("search-b", &format!("echo {needle} from b >&2"));
    searchable(&rec.relay, &needle, 2);

    let b = Browser::start().await;
    b.client
        .goto(&rec.relay.url("/console/search"))
        .await
        .unwrap();
    let input = b.by_name("searchbox", "Search all logs for").await;
    input.send_keys(&needle).await.unwrap();
    b.by_name("button", "Search all logs")
        .await
        .click()
        .await
        .unwrap();
    b.wait_text("[data-search-count]", |t| t.starts_with("2 matches"))
        .await;
    let hits = b.text_of("table[data-hits] tbody").await;
    assert!(hits.contains(&a.name) && hits.contains(&c.name), "{hits}");
    assert!(hits.contains(&format!("{needle} from b")), "{hits}");
    // The search is in the page's address.
    assert!(path_of(&b).await.contains(&format!("q={needle}")));

    // Only the first container.
    let only = b.by_name("textbox", "Container").await;
    only.send_keys(&a.name).await.unwrap();
    only.send_keys(&Key::Enter.to_string()).await.unwrap();
    b.wait_text("[data-search-count]", |t| t.starts_with("1 match"))
        .await;
    let row = format!("tr[data-hit='{}']", a.name);
    b.css(&row).await;
    assert!(b
        .client
        .find_all(Locator::Css(&format!("tr[data-hit='{}']", c.name)))
        .await
        .unwrap()
        .is_empty());

    // Opened in its log at that moment: the lines around it, the match
    // marked and in view.
    let open = b.css(&format!("{row} a")).await;
    let label = open.attr("aria-label").await.unwrap().unwrap_or_default();
    assert!(
        label.starts_with(&format!("Open the log of {} at ", a.name)),
        "{label}"
    );
    let open = b.by_name("link", &label).await;
    open.click().await.unwrap();
    b.by_name("log", &format!("Log of {}", a.name)).await;
    b.wait_text(".log-row.marked", |t| {
        t.contains(&format!("{needle} from a"))
    })
    .await;
    // Scrolled to (the rows are drawn again once it has).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let marked = b.css(".log-row.marked").await;
    b.wait_on_screen(&marked, "the matching line").await;
    let around = b.text_of(".log-view").await;
    assert!(
        around.contains("before 299") && around.contains("after 0"),
        "{around}"
    );
    let at = path_of(&b).await;
    assert!(at.contains("?at="), "{at}");
    end(b).await;

    // The same at a phone's width.
    let b = Browser::start_with(&["--window-size=390,844"]).await;
    b.client.goto(&rec.relay.url(&at)).await.unwrap();
    b.wait_text(".log-row.marked", |t| {
        t.contains(&format!("{needle} from a"))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let marked = b.css(".log-row.marked").await;
    b.wait_on_screen(&marked, "the matching line on a phone")
        .await;
    fits_width(&b, &at).await;
    let search = format!("/console/search?q={needle}");
    b.client.goto(&rec.relay.url(&search)).await.unwrap();
    b.wait_text("[data-search-count]", |t| t.starts_with("2 matches"))
        .await;
    fits_width(&b, &search).await;
    end(b).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_palette_searches_all_logs_for_what_was_typed() {
    let rec = recording(&[]);
    let needle = unique("palette").replace('-', "");
    let c = printing("palette-search", &format!("echo {needle} was here"));
    searchable(&rec.relay, &needle, 1);

    let b = Browser::start().await;
    b.client.goto(&rec.relay.url("/console/")).await.unwrap();
    b.css("header.top").await;
    b.css("body")
        .await
        .send_keys(&format!("{}k", Key::Control))
        .await
        .unwrap();
    let input = b.css("[data-palette-input]").await;
    input.send_keys(&needle).await.unwrap();
    let entry = format!("Search all logs for “{needle}”");
    b.css(&format!("[data-palette-item='{entry}']"))
        .await
        .click()
        .await
        .unwrap();
    b.wait_text("[data-search-count]", |t| t.starts_with("1 match"))
        .await;
    b.css(&format!("tr[data-hit='{}']", c.name)).await;
    assert!(path_of(&b).await.starts_with("/console/search?q="));
    end(b).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_points_out_a_container_that_exited_with_an_error() {
    let rec = recording(&[]);
    let failed = Container::run("attention", &[IMAGE, "sh", "-c", "echo giving up; exit 7"]);
    recorded_entry(&rec.relay, &failed.name, |e| e["exitCode"] == 7);

    let b = Browser::start().await;
    b.client.goto(&rec.relay.url("/console/")).await.unwrap();
    let item = format!("[data-attention-item='{}']", failed.name);
    let said = b.text_of(&item).await;
    assert!(said.contains("exited with 7"), "{said}");
    let link = b
        .by_name("link", &format!("Open the record of {}", failed.name))
        .await;
    b.reveal(&link, "the link to its record").await;
    link.click().await.unwrap();
    b.wait_text("[data-record-name]", |t| t.trim() == failed.name)
        .await;
    b.wait_text(".log-view", |t| t.contains("giving up")).await;
    end(b).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_recorder_the_pages_say_how_to_turn_it_on() {
    let relay = Relay::start_with(&engine(), &["--console-dir", &console_dir()]);
    let b = Browser::start().await;
    b.client.goto(&relay.url("/console/history")).await.unwrap();
    let off = b.text_of("[data-recorder-off]").await;
    assert!(off.contains("The flight recorder is off"), "{off}");
    assert!(off.contains("--record DIR"), "{off}");
    b.client
        .goto(&relay.url("/console/search?q=anything"))
        .await
        .unwrap();
    b.css("[data-recorder-off]").await;
    b.client.goto(&relay.url("/console/")).await.unwrap();
    let note = b.text_of("[data-attention-recorder=off]").await;
    assert!(note.contains("--record DIR"), "{note}");
    end(b).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_allows_the_recorder_and_a_rule_against_search_disables_it_with_the_reason() {
    // Read-only: the records and the search are reads.
    let rec = recording(&["--policy", "read-only"]);
    let name = unique("ro-gone");
    docker_ok(
        &engine(),
        &[
            "run",
            "--rm",
            "--name",
            &name,
            IMAGE,
            "echo",
            "read-only-line",
        ],
    );
    recorded_entry(&rec.relay, &name, |e| e["destroyed"] == true);
    let b = Browser::start().await;
    b.client
        .goto(&rec.relay.url("/console/history"))
        .await
        .unwrap();
    b.css("[data-policy=read-only]").await;
    b.by_name("link", &format!("Open the record of {name}"))
        .await;
    b.client
        .goto(&rec.relay.url("/console/search?q=read-only-line"))
        .await
        .unwrap();
    b.wait_text("[data-search-count]", |t| t.starts_with("1 match"))
        .await;
    assert!(b
        .by_name("button", "Search all logs")
        .await
        .is_enabled()
        .await
        .unwrap());
    end(b).await;

    // A rules file that denies the search: its control is disabled, saying
    // why; the records stay readable.
    let dir = tempfile::tempdir().unwrap();
    let rules = write_file(
        dir.path(),
        "rules",
        b"deny GET /_berth/search\nallow * /**\n",
    );
    let rec = recording(&["--policy", rules.to_str().unwrap()]);
    let b = Browser::start().await;
    b.client
        .goto(&rec.relay.url("/console/search?q=read-only-line"))
        .await
        .unwrap();
    let button = b.by_name("button", "Search all logs").await;
    let why = b.disabled_because(&button, "the search").await;
    assert!(why.contains("denies GET /_berth/search"), "{why}");
    b.css("[data-search-refused]").await;
    // The History page's way to it says the same.
    b.client
        .goto(&rec.relay.url("/console/history"))
        .await
        .unwrap();
    let link = b.css("a.button.disabled").await;
    assert_eq!(
        link.attr("aria-description").await.unwrap().as_deref(),
        Some(why.as_str())
    );
    end(b).await;
}

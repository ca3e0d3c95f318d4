//! The console in a real headless Chromium (Debian's chromium and
//! chromedriver), served by a real relay in front of the real engine.

use std::process::{Command, Stdio};
use std::time::Duration;

pub(crate) use crate::chromium::Browser;

use crate::util::*;

pub(crate) use crate::chromium::WAIT;

/// The built console: `BERTH_TEST_CONSOLE_DIR`, else the workspace's dist/.
pub(crate) fn console_dir() -> String {
    let dir = std::env::var("BERTH_TEST_CONSOLE_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../dist").to_owned());
    assert!(
        std::path::Path::new(&dir).join("index.html").is_file(),
        "no built console in {dir}: run `trunk build --release --offline` (scripts/test does)"
    );
    dir
}

/// A relay with the console in front of `engine`, and a browser on `page`.
pub(crate) async fn open(engine: &str, page: &str) -> (Relay, Browser) {
    open_with(engine, &[], page).await
}

/// The same, the relay started with `args` too.
pub(crate) async fn open_with(engine: &str, args: &[&str], page: &str) -> (Relay, Browser) {
    open_console(&console_dir(), engine, args, page).await
}

/// The same, the console served from `dir`.
pub(crate) async fn open_console(
    dir: &str,
    engine: &str,
    args: &[&str],
    page: &str,
) -> (Relay, Browser) {
    let mut all = vec!["--console-dir", dir];
    all.extend_from_slice(args);
    let relay = Relay::start_with(engine, &all);
    let b = Browser::start().await;
    b.client.goto(&relay.url(page)).await.unwrap();
    (relay, b)
}

/// A container that stops at once on SIGTERM (busybox sleep as PID 1
/// would make `stop` wait its full timeout), once its trap is set.
pub(crate) fn quick_stopping(prefix: &str) -> Container {
    let script = "trap 'exit 0' TERM; echo ready; sleep 600 & wait";
    let c = Container::run(prefix, &[IMAGE, "sh", "-c", script]);
    wait_for("the TERM trap", WAIT, || {
        docker_ok(&engine(), &["logs", &c.name]).contains("ready")
    });
    c
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_lists_a_container_and_stop_stops_it() {
    let c = quick_stopping("browser-stop");
    // `/` lands on the console's dashboard, which knows the engine.
    let (_relay, b) = open(&engine(), "/").await;
    let engine_fact = b.text_of("[data-fact=Engine] .value").await;
    assert!(engine_fact.starts_with("Docker "), "{engine_fact}");
    assert!(b
        .client
        .current_url()
        .await
        .unwrap()
        .path()
        .starts_with("/console"));

    b.css("nav a[href='/console/containers']")
        .await
        .click()
        .await
        .unwrap();
    let row = format!("tr[data-container='{}']", c.name);
    b.css(&format!("{row}[data-state=running]")).await;

    // Other containers come and go meanwhile: the list reloads on their
    // events, and the click must still land.
    let churn = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let churning = {
        let churn = churn.clone();
        std::thread::spawn(move || {
            while churn.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = docker(&engine(), &["run", "--rm", IMAGE, "true"]);
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(800)).await;
    b.css(&format!("{row} button[data-action=stop]"))
        .await
        .click()
        .await
        .unwrap();
    let stopped = wait_until(WAIT, || c.state() == "exited");
    churn.store(false, std::sync::atomic::Ordering::Relaxed);
    churning.join().unwrap();
    assert!(
        stopped,
        "not stopped; the page says: {:?}",
        b.notices().await
    );
    // The list shows it without a reload.
    b.css(&format!(
        "{row}[data-state=exited] button[data-action=start]"
    ))
    .await;
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn remove_asks_first_and_engine_errors_are_shown_in_words() {
    let doomed = quick_stopping("browser-rm");
    let broken = unique("browser-broken");
    docker_ok(
        &engine(),
        &["create", "--name", &broken, IMAGE, "/no/such/program"],
    );
    let (_relay, b) = open(&engine(), "/console/containers").await;

    // Remove: nothing happens until the dialog is confirmed.
    let row = format!("tr[data-container='{}']", doomed.name);
    b.css(&format!("{row} button[data-action=remove]"))
        .await
        .click()
        .await
        .unwrap();
    b.css("[role=dialog]").await;
    assert_eq!(doomed.state(), "running");
    b.css("button[data-action=confirm-remove]")
        .await
        .click()
        .await
        .unwrap();
    wait_for("the container to be removed", WAIT, || {
        !docker(&engine(), &["inspect", &doomed.name])
            .status
            .success()
    });
    b.gone(&row).await;

    // Starting a container whose program does not exist: the engine's own
    // words reach the person.
    let row = format!("tr[data-container='{broken}']");
    b.css(&format!("{row} button[data-action=start]"))
        .await
        .click()
        .await
        .unwrap();
    let notice = b.text_of(".notice").await;
    assert!(
        notice.contains(&format!("Could not start {broken}")),
        "{notice}"
    );
    assert!(notice.contains("no such file or directory"), "{notice}");
    b.end().await;
    docker_ok(&engine(), &["rm", "-f", &broken]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_filter_narrows_the_list() {
    let a = Container::run("browser-filter-alpha", &[IMAGE, "sleep", "600"]);
    let z = Container::run("browser-filter-zulu", &[IMAGE, "true"]);
    let (_relay, b) = open(&engine(), "/console/containers").await;
    let (row_a, row_z) = (
        format!("tr[data-container='{}']", a.name),
        format!("tr[data-container='{}']", z.name),
    );
    b.css(&row_a).await;
    b.css(&row_z).await;
    b.css("input[type=search]")
        .await
        .send_keys("filter-alpha")
        .await
        .unwrap();
    // Rows that don't match are hidden, not rebuilt.
    b.gone(&format!("{row_z}:not([hidden])")).await;
    b.css(&format!("{row_a}:not([hidden])")).await;

    // The state filter: alpha runs, zulu has exited.
    // Cleared with the keyboard, as a person would (WebDriver's clear()
    // sends no input event).
    let backspaces = "\u{E003}".repeat("filter-alpha".len());
    b.css("input[type=search]")
        .await
        .send_keys(&backspaces)
        .await
        .unwrap();
    let exited = "select[aria-label='Filter by state'] option[value=exited]";
    b.css(exited).await.click().await.unwrap();
    b.gone(&format!("{row_a}:not([hidden])")).await;
    b.css(&format!("{row_z}[data-state=exited]:not([hidden])"))
        .await;
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_engine_is_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let engine = format!("unix://{}/docker.sock", dir.path().display());
    let (_relay, b) = open(&engine, "/console/containers").await;
    let problem = b.text_of("[data-problem=unreachable]").await;
    assert!(
        problem.contains("Cannot reach the Docker engine"),
        "{problem}"
    );
    assert!(
        problem.contains("cannot reach the Docker engine at unix://"),
        "{problem}"
    );
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_asks_for_the_token_and_forgets_it_on_sign_out() {
    let dir = tempfile::tempdir().unwrap();
    let token = "browser-token-0123456789";
    let file = write_file(dir.path(), "token", token.as_bytes());
    let relay = Relay::start_with(
        &engine(),
        &[
            "--console-dir",
            &console_dir(),
            "--token-file",
            file.to_str().unwrap(),
        ],
    );
    let b = Browser::start().await;
    b.client.goto(&relay.url("/console/")).await.unwrap();

    let sign_in = |t: &'static str| {
        let b = &b;
        async move {
            let field = b.css("form.signin input[name=token]").await;
            field.send_keys(t).await.unwrap();
            b.css("form.signin button[type=submit]")
                .await
                .click()
                .await
                .unwrap();
        }
    };
    sign_in("a-wrong-token-of-length").await;
    let error = b.text_of("[data-signin-error]").await;
    assert!(error.contains("token is required"), "{error}");

    sign_in(token).await;
    let engine_fact = b.text_of("[data-fact=Engine] .value").await;
    assert!(engine_fact.starts_with("Docker "), "{engine_fact}");

    b.css("header button.ghost-text")
        .await
        .click()
        .await
        .unwrap();
    b.css("form.signin").await;
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_of_another_origin_cannot_kill_a_container() {
    let victim = Container::run("csrf-victim", &[IMAGE, "sleep", "600"]);
    let relay = Relay::start();
    // The attacker's page, on another origin (another port is enough).
    let site = tempfile::tempdir().unwrap();
    let kill = relay.url(&format!("/containers/{}/kill", victim.name));
    let page = format!(
        r#"<!doctype html><title>waiting</title>
        <iframe name="sink" style="display:none"></iframe>
        <form id="f" method="POST" action="{kill}" target="sink"></form>
        <script>
          fetch("{kill}", {{ method: "POST", mode: "no-cors" }})
            .catch(() => {{}})
            .finally(() => {{ document.getElementById("f").submit(); document.title = "fired"; }});
        </script>"#
    );
    write_file(site.path(), "attack.html", page.as_bytes());
    let port = free_port();
    let mut server = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--directory",
        ])
        .arg(site.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the attacker's server", WAIT, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });

    let b = Browser::start().await;
    b.client
        .goto(&format!("http://127.0.0.1:{port}/attack.html"))
        .await
        .unwrap();
    let start = std::time::Instant::now();
    while b.client.title().await.unwrap() != "fired" {
        assert!(start.elapsed() < WAIT, "the attack page never fired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(victim.state(), "running");
    let log = relay.log();
    assert!(
        log.matches("Origin not allowed").count() >= 2,
        "both the fetch and the form were refused: {log}"
    );
    b.end().await;
    let _ = server.kill();
    let _ = server.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_disables_what_the_policy_denies_and_says_why() {
    let c = Container::run("browser-ro", &[IMAGE, "sleep", "600"]);
    let name = c.name.as_str();
    let relay = Relay::start_with(
        &engine(),
        &["--console-dir", &console_dir(), "--policy", "read-only"],
    );
    let b = Browser::start().await;
    // Every control the policy refuses is disabled, saying why, on each page.
    let refused = |role: &'static str, label: String| {
        let b = &b;
        async move {
            let el = b.by_name(role, &label).await;
            b.reveal(&el, &label).await;
            let why = b.disabled_because(&el, &label).await;
            assert!(why.contains("read-only policy"), "{label}: {why:?}");
        }
    };
    let open = |page: String| {
        let (b, relay) = (&b, &relay);
        async move {
            b.client.goto(&relay.url(&page)).await.unwrap();
            b.css("[data-policy=read-only]").await;
        }
    };

    // The list: each row's actions, new container, and the selection's.
    open("/console/containers".into()).await;
    for action in ["Stop", "Restart", "Kill", "Pause", "Remove"] {
        refused("button", format!("{action} {name}")).await;
    }
    refused("button", "New container".into()).await;
    b.by_name("checkbox", &format!("Select {name}"))
        .await
        .click()
        .await
        .unwrap();
    for action in ["Start", "Stop", "Restart", "Kill", "Remove"] {
        refused("button", format!("{action} the 1 selected")).await;
    }

    // The create form.
    open("/console/create".into()).await;
    refused("button", "Create and start".into()).await;

    // The container's own page, and its terminal.
    open(format!("/console/containers/{name}")).await;
    for label in [
        format!("Stop {name}"),
        format!("Rename {name}"),
        format!("Export {name}"),
        format!("Remove {name}"),
        format!("Duplicate or edit {name}"),
        format!("Send the signal to {name}"),
    ] {
        refused("button", label).await;
    }
    open(format!("/console/containers/{name}/terminal")).await;
    refused("button", "Connect".into()).await;
    b.by_name("combobox", "Terminal kind")
        .await
        .select_by_value("attach")
        .await
        .unwrap();
    refused("button", "Attach".into()).await;
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_engine_restart_ends_streams_and_all_recovers_without_restarting_the_relay() {
    let (mut private, host) = PrivateEngine::unix();
    crate::util::ensure_image(&host);
    let ticker = "trap 'exit 0' TERM; while true; do echo tick; sleep 1; done";
    let id = docker_ok(&host, &["run", "-d", IMAGE, "sh", "-c", ticker])
        .trim()
        .to_owned();
    let relay = Relay::start_with(&host, &["--console-dir", &console_dir()]);
    let follow = |path: String| {
        Command::new("curl")
            .args(["-sS", "-N", &relay.url(&path)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut streams = [
        follow("/events".into()),
        follow(format!("/v1.41/containers/{id}/logs?follow=1&stdout=1")),
    ];
    let b = Browser::start().await;
    b.client
        .goto(&relay.url("/console/containers"))
        .await
        .unwrap();
    b.css("tr[data-state=running]").await;
    // The events page too, in a second browser.
    let ev = Browser::start().await;
    ev.client.goto(&relay.url("/console/events")).await.unwrap();
    ev.css("h1[data-events-link=live]").await;

    private.stop();
    for s in streams.iter_mut() {
        wait_for("the stream to end", WAIT, || {
            s.try_wait().unwrap().is_some()
        });
    }
    let ping = curl(Some(&relay), &["-w", "\n%{http_code}"], "/_ping");
    assert!(
        text(&ping.stdout).ends_with("\n502"),
        "{}",
        text(&ping.stdout)
    );
    b.css("[data-problem=reconnecting]").await;
    ev.css("[data-problem=reconnecting]").await;

    private.start_again();
    let ping = curl(Some(&relay), &[], "/_ping");
    assert_eq!(text(&ping.stdout), "OK");
    // The console reconnects by itself and is live again: something made
    // now shows up without a reload.
    let name = unique("after-restart");
    docker_ok(&host, &["create", "--name", &name, IMAGE, "true"]);
    b.css(&format!("tr[data-container='{name}']")).await;
    b.gone("[data-problem=reconnecting]").await;
    b.end().await;
    // The timeline says it reconnected, and has the container made after.
    ev.wait_text("[data-events-recovered]", |t| t.contains("Reconnected"))
        .await;
    ev.css(&format!("tr[data-event-object='{name}']")).await;
    ev.gone("[data-problem=reconnecting]").await;
    ev.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_phone_width_screen_gets_cards_and_no_sideways_scrolling() {
    let c = Container::run("browser-phone", &[IMAGE, "sleep", "600"]);
    // An image named by its full id: 71 characters with nowhere to break.
    let id = docker_ok(&engine(), &["image", "inspect", "-f", "{{.Id}}", IMAGE]);
    let _long = Container::run("browser-phone-long", &[id.trim(), "sleep", "600"]);
    let relay = Relay::start_with(&engine(), &["--console-dir", &console_dir()]);
    let b = Browser::start_with(&["--window-size=390,844"]).await;
    b.client
        .goto(&relay.url("/console/containers"))
        .await
        .unwrap();
    b.css(&format!(
        "tr[data-container='{}'] button[data-action=stop]",
        c.name
    ))
    .await;
    let layout = b
        .client
        .execute(
            "const head = document.querySelector('table.list thead');
             const row = document.querySelector('table.list tbody tr');
             return [getComputedStyle(head).display, getComputedStyle(row).display,
                     document.documentElement.scrollWidth, document.documentElement.clientWidth];",
            vec![],
        )
        .await
        .unwrap();
    let [head, row, scroll, client] = layout.as_array().unwrap().as_slice() else {
        panic!("{layout}")
    };
    assert_eq!(
        (head.as_str(), row.as_str()),
        (Some("none"), Some("block")),
        "the table is not cards"
    );
    assert!(
        scroll.as_u64() <= client.as_u64(),
        "scrolls sideways: {scroll} > {client}"
    );

    // Every other page fits the phone's width too, once it has loaded.
    let pages = [
        ("/console/images", "table.list tbody tr"),
        ("/console/volumes", "h1"),
        ("/console/networks", "table.list tbody tr"),
        ("/console/events", "h1[data-events-link=live]"),
        ("/console/system", "[data-prune-preview]"),
        ("/console/stacks", "h1"),
        ("/console/swarm", "[data-swarm-outside]"),
        ("/console/create", "[data-run-line]"),
        (
            &format!("/console/containers/{}", c.name),
            "[data-networks]",
        ),
        (&format!("/console/containers/{}/logs", c.name), ".log-view"),
        (&format!("/console/containers/{}/stats", c.name), "h1"),
        (&format!("/console/containers/{}/files", c.name), "h1"),
    ];
    // Six pages left behind with their streams open would hold every
    // connection the browser allows to the relay (the back/forward cache
    // keeps them) and the next page would hang: the console ends its
    // requests when a page is left.
    for (page, ready) in pages {
        tokio::time::timeout(WAIT, b.client.goto(&relay.url(page)))
            .await
            .unwrap_or_else(|_| panic!("{page} did not load: are connections held?"))
            .unwrap();
        b.css(ready).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
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
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_theme_follows_the_system() {
    let relay = Relay::start_with(&engine(), &["--console-dir", &console_dir()]);
    for (args, background) in [
        (
            &["--blink-settings=preferredColorScheme=1"][..],
            "rgb(246, 247, 249)",
        ),
        (
            &[
                "--force-dark-mode",
                "--blink-settings=preferredColorScheme=0",
            ][..],
            "rgb(13, 17, 23)",
        ),
    ] {
        let b = Browser::start_with(args).await;
        b.client.goto(&relay.url("/console/")).await.unwrap();
        b.css("[data-fact=Engine]").await;
        let seen = b
            .client
            .execute(
                "return getComputedStyle(document.body).backgroundColor",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(seen.as_str(), Some(background), "{args:?}");
        b.end().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn slash_focuses_the_filter() {
    let c = Container::run("browser-slash", &[IMAGE, "sleep", "600"]);
    let relay = Relay::start_with(&engine(), &["--console-dir", &console_dir()]);
    let b = Browser::start().await;
    b.client
        .goto(&relay.url("/console/containers"))
        .await
        .unwrap();
    let row = format!("tr[data-container='{}']", c.name);
    b.css(&row).await;
    b.css("body").await.send_keys("/").await.unwrap();
    let focused = b.client.active_element().await.unwrap();
    assert_eq!(
        focused.attr("type").await.unwrap().as_deref(),
        Some("search")
    );
    // What follows is typed into the filter; a `/` there is just a character.
    focused.send_keys("no/such").await.unwrap();
    let value = b
        .css("input[type=search]")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(value.as_deref(), Some("no/such"));
    b.gone(&format!("{row}:not([hidden])")).await;
    b.end().await;
}

//! One container's page in a real headless Chromium: live logs and their
//! filter, stats, terminals (exec and attach), files and export.

use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::Locator;

use crate::browser::{console_dir, open, Browser, WAIT};
use crate::util::*;

/// A container that prints `first` (stdout) and `oops` (stderr), then a
/// line for every token written to /go, so lines can be made to appear
/// after the page has opened.
fn talker(prefix: &str) -> Container {
    let script = "echo first; echo oops >&2; trap 'exit 0' TERM; \
                  while true; do if [ -f /go ]; then echo after-open-$(cat /go); rm /go; fi; sleep 0.2; done";
    let c = Container::run(prefix, &[IMAGE, "sh", "-c", script]);
    wait_for("its first line", WAIT, || {
        docker_ok(&engine(), &["logs", &c.name]).contains("first")
    });
    c
}

/// Makes the talker print `after-open-{token}`, and waits until it has.
fn say(c: &Container, token: &str) {
    docker_ok(
        &engine(),
        &["exec", &c.name, "sh", "-c", &format!("echo {token} > /go")],
    );
    wait_for("the line", WAIT, || {
        docker_ok(&engine(), &["logs", &c.name]).contains(&format!("after-open-{token}"))
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_stream_live_and_the_filter_hides_what_does_not_match() {
    let c = talker("logs");
    let (_relay, b) = open(&engine(), &format!("/console/containers/{}/logs", c.name)).await;
    b.wait_text(".log-view", |t| t.contains("first") && t.contains("oops"))
        .await;
    // stderr is told apart.
    let err = b.text_of(".log-row[data-stream=stderr]").await;
    assert!(err.contains("oops"), "{err}");

    // A line printed after the page opened arrives on the stream.
    say(&c, "42");
    b.wait_text(".log-view", |t| t.contains("after-open-42"))
        .await;

    // The filter hides the rest, and says how many match.
    let filter = b.css("[data-log-filter]").await;
    filter.send_keys("after").await.unwrap();
    let shown = b.wait_text(".log-view", |t| !t.contains("first")).await;
    assert!(shown.contains("after-open-42"), "{shown}");
    b.wait_text("[data-log-count]", |t| t.starts_with("1 of 3 lines match"))
        .await;

    // Regular expressions, and lines arriving while filtered.
    b.css("[data-log-regex]").await.click().await.unwrap();
    filter
        .send_keys(Key::Backspace.to_string().repeat(5).as_str())
        .await
        .unwrap();
    filter.send_keys("^after-open-[0-9]+7$").await.unwrap();
    say(&c, "17");
    say(&c, "18");
    let shown = b
        .wait_text(".log-view", |t| t.contains("after-open-17"))
        .await;
    assert!(
        !shown.contains("after-open-42") && !shown.contains("after-open-18"),
        "{shown}"
    );
    // A bad pattern is said so, not thrown.
    filter.send_keys("(").await.unwrap();
    b.css("[data-filter-error]").await;

    // stdout off leaves stderr alone.
    filter
        .send_keys(Key::Backspace.to_string().repeat(40).as_str())
        .await
        .unwrap();
    b.css("[data-log-stdout]").await.click().await.unwrap();
    let shown = b.wait_text(".log-view", |t| !t.contains("first")).await;
    assert!(shown.contains("oops"), "{shown}");
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stats_tab_charts_live_samples() {
    let c = talker("stats");
    let (_relay, b) = open(&engine(), &format!("/console/containers/{}/stats", c.name)).await;
    let start = std::time::Instant::now();
    loop {
        let n: usize = b
            .css(".stats")
            .await
            .attr("data-samples")
            .await
            .unwrap()
            .unwrap_or_default()
            .parse()
            .unwrap_or(0);
        if n >= 3 {
            break;
        }
        assert!(start.elapsed() < WAIT, "only {n} samples");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let points = b
        .css("[data-chart='CPU %'] polyline")
        .await
        .attr("points")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(points.split(' ').count() >= 3, "{points}");
    let mem = b.text_of("[data-mem]").await;
    assert!(mem.contains("iB"), "{mem}");
    b.end().await;
}

/// Types into xterm.js (its hidden textarea takes the keys).
async fn type_in_terminal(b: &Browser, text: &str) {
    let area = b.css(".xterm-helper-textarea").await;
    area.send_keys(text).await.unwrap();
}

async fn terminal_text(b: &Browser) -> String {
    b.text_of(".xterm-rows").await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_terminal_runs_commands_follows_resizes_and_ends_cat_on_eof() {
    let c = talker("term");
    let (_relay, b) = open(
        &engine(),
        &format!("/console/containers/{}/terminal", c.name),
    )
    .await;
    b.by_name("button", "Connect").await.click().await.unwrap();
    b.wait_text("[data-term-status]", |t| t.contains("Connected"))
        .await;
    // Screen readers get what it shows.
    b.css(".term .xterm-accessibility-tree").await;
    type_in_terminal(&b, "echo sum-$((40+2))\n").await;
    b.wait_text(".xterm-rows", |t| t.contains("sum-42")).await;

    // stty size matches the terminal, before and after the window changes.
    let size = |rows: String, cols: String| format!("{rows} {cols}");
    let term = b.css(".term").await;
    let before = size(
        term.attr("data-rows").await.unwrap().unwrap(),
        term.attr("data-cols").await.unwrap().unwrap(),
    );
    type_in_terminal(&b, "stty size\n").await;
    b.wait_text(".xterm-rows", |t| t.contains(&before)).await;
    b.client.set_window_size(900, 700).await.unwrap();
    let start = std::time::Instant::now();
    let after = loop {
        let now = size(
            term.attr("data-rows").await.unwrap().unwrap(),
            term.attr("data-cols").await.unwrap().unwrap(),
        );
        if now != before {
            break now;
        }
        assert!(
            start.elapsed() < WAIT,
            "the terminal kept its size {before}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    type_in_terminal(&b, "clear; stty size\n").await;
    b.wait_text(".xterm-rows", |t| t.contains(&after)).await;
    b.css("[data-term-close]").await.click().await.unwrap();

    // Without a TTY: cat echoes until the input ends, then exits 0.
    b.css("[data-term-shell]")
        .await
        .select_by_value("custom")
        .await
        .unwrap();
    b.css("[data-term-custom]")
        .await
        .send_keys("cat")
        .await
        .unwrap();
    b.css("[data-term-tty]").await.click().await.unwrap();
    b.css("[data-term-connect]").await.click().await.unwrap();
    b.wait_text("[data-term-status]", |t| t.contains("Connected"))
        .await;
    type_in_terminal(&b, "meow\n").await;
    b.wait_text(".xterm-rows", |t| t.contains("meow")).await;
    b.css("[data-term-eof]").await.click().await.unwrap();
    b.wait_text("[data-term-status]", |t| t.contains("Exited with code 0"))
        .await;

    // A command the image lacks is said so.
    b.css("[data-term-custom]")
        .await
        .send_keys("x")
        .await
        .unwrap();
    b.css("[data-term-connect]").await.click().await.unwrap();
    let status = b
        .wait_text("[data-term-status]", |t| {
            t.contains("Exited") || t.contains("Could not")
        })
        .await;
    assert!(
        status.contains("no such command") || status.contains("not found"),
        "{status}"
    );
    let _ = terminal_text(&b).await;
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_terminal_outlives_its_page_and_is_joined_again() {
    let c = talker("session");
    let (relay, b) = open(
        &engine(),
        &format!("/console/containers/{}/terminal", c.name),
    )
    .await;
    b.by_name("button", "Connect").await.click().await.unwrap();
    b.wait_text("[data-term-status]", |t| t.contains("Connected"))
        .await;
    type_in_terminal(&b, "echo kept-$((6*7))\n").await;
    b.wait_text(".xterm-rows", |t| t.contains("kept-42")).await;

    // Away and back: the relay kept the shell; the page offers it, and
    // joining shows what it printed.
    b.client
        .goto(&relay.url(&format!("/console/containers/{}", c.name)))
        .await
        .unwrap();
    b.css("[data-env]").await;
    b.client
        .goto(&relay.url(&format!("/console/containers/{}/terminal", c.name)))
        .await
        .unwrap();
    let join = b.by_name("button", "Join sh").await;
    b.reveal(&join, "the session's join").await;
    join.click().await.unwrap();
    b.wait_text(".xterm-rows", |t| t.contains("kept-42")).await;
    type_in_terminal(&b, "echo again-$((6*7))\n").await;
    b.wait_text(".xterm-rows", |t| t.contains("again-42")).await;

    // Closing ends it: nothing is left to join.
    b.by_name("button", "Close").await.click().await.unwrap();
    b.wait_text("[data-term-status]", |t| t.contains("ended"))
        .await;
    b.gone("[data-term-session]").await;
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn attach_shows_the_main_process_and_detach_leaves_it_running() {
    let c = Container::run("attach-ui", &["-it", IMAGE, "sh"]);
    let (_relay, b) = open(
        &engine(),
        &format!("/console/containers/{}/terminal", c.name),
    )
    .await;
    b.css("[data-term-mode]")
        .await
        .select_by_value("attach")
        .await
        .unwrap();
    b.css("[data-term-connect]").await.click().await.unwrap();
    b.wait_text("[data-term-status]", |t| t.contains("Connected"))
        .await;
    type_in_terminal(&b, "echo attached-$((6*7))\n").await;
    b.wait_text(".xterm-rows", |t| t.contains("attached-42"))
        .await;
    b.css("[data-term-close]").await.click().await.unwrap();
    b.wait_text("[data-term-status]", |t| t.contains("keeps running"))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(c.state(), "running");
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn files_browse_and_upload_and_export_downloads_a_tarball() {
    let c = talker("files");
    let downloads = tempfile::tempdir().unwrap();
    let relay = Relay::start_with(&engine(), &["--console-dir", &console_dir()]);
    let b = Browser::start_downloading(downloads.path()).await;
    b.client
        .goto(&relay.url(&format!("/console/containers/{}/files", c.name)))
        .await
        .unwrap();
    // The root lists; folders open.
    b.css("tr[data-file=etc]").await;
    b.css("tr[data-file=tmp] button.link")
        .await
        .click()
        .await
        .unwrap();
    b.wait_text("[data-files-dir]", |_| true).await;
    let dir = b
        .css("[data-files-dir]")
        .await
        .attr("data-files-dir")
        .await
        .unwrap();
    assert_eq!(dir.as_deref(), Some("/tmp"));

    let local = tempfile::tempdir().unwrap();
    let file = write_file(local.path(), "hello.txt", b"uploaded through the console\n");
    b.client
        .find(Locator::Css("[data-files-upload]"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    b.css("tr[data-file='hello.txt']").await;
    let inside = docker_ok(&engine(), &["exec", &c.name, "cat", "/tmp/hello.txt"]);
    assert_eq!(inside, "uploaded through the console\n");

    // Export: the browser saves the filesystem tar, streamed by the relay.
    b.css("[data-action=export]").await.click().await.unwrap();
    let listing = crate::chromium::downloaded_tar(downloads.path(), &format!("{}.tar", c.name));
    assert!(listing.lines().any(|l| l == "tmp/hello.txt"), "{listing}");
    assert!(listing.lines().any(|l| l == "bin/busybox"), "{listing}");
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn overview_inspect_processes_and_page_actions() {
    let c = Container::run(
        "page",
        &[
            "-e",
            "SECRET=hunter2",
            "-l",
            "team=ops",
            IMAGE,
            "sh",
            "-c",
            "trap 'exit 0' TERM; sleep 600 & wait",
        ],
    );
    let (_relay, b) = open(&engine(), &format!("/console/containers/{}", c.name)).await;
    // Environment values are masked until revealed.
    let env = b.text_of("[data-env]").await;
    assert!(env.contains("SECRET") && !env.contains("hunter2"), "{env}");
    b.css("[data-reveal]").await.click().await.unwrap();
    b.wait_text("[data-env]", |t| t.contains("hunter2")).await;

    // Inspect: searchable.
    b.css("nav.tabs a[href$='/inspect']")
        .await
        .click()
        .await
        .unwrap();
    b.css("input[aria-label='Search the inspect JSON']")
        .await
        .send_keys("team")
        .await
        .unwrap();
    b.wait_text(".inspect-hits", |t| t.contains("\"team\": \"ops\""))
        .await;

    // Processes: the engine's ps, refreshed.
    b.css("nav.tabs a[href$='/top']")
        .await
        .click()
        .await
        .unwrap();
    b.wait_text("[data-top]", |t| t.contains("sleep 600")).await;

    // Rename through the dialog.
    b.css("[data-action=rename]").await.click().await.unwrap();
    let input = b.css("#new-name").await;
    // The old name starts selected; End keeps it.
    input
        .send_keys(&format!("{}-renamed", Key::End))
        .await
        .unwrap();
    b.css("[data-action=confirm-rename]")
        .await
        .click()
        .await
        .unwrap();
    let renamed = format!("{}-renamed", c.name);
    b.wait_text("[data-container-name]", |t| t.contains(&renamed))
        .await;
    let _cleanup = Container {
        name: renamed.clone(),
    };

    // Kill with a chosen signal.
    b.css("select[aria-label='Signal to send']")
        .await
        .select_by_value("SIGKILL")
        .await
        .unwrap();
    b.css("[data-action=kill]").await.click().await.unwrap();
    b.css("[data-state=exited]").await;
    let code = docker_ok(
        &engine(),
        &["inspect", "-f", "{{.State.ExitCode}}", &renamed],
    );
    assert_eq!(code.trim(), "137");
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_render_colours_and_take_tail_and_timestamps() {
    let script =
        r"printf 'plain\n\033[31mred\033[0m and \033[1;32mbold green\033[0m\nlast\n'; sleep 600";
    let c = Container::run("ansi", &[IMAGE, "sh", "-c", script]);
    wait_for("its lines", WAIT, || {
        docker_ok(&engine(), &["logs", &c.name]).contains("last")
    });
    let (_relay, b) = open(&engine(), &format!("/console/containers/{}/logs", c.name)).await;
    b.wait_text(".log-view", |t| t.contains("last")).await;
    let red = b
        .css(".log-row span[style*='--ansi-1']")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(red, "red");
    let bold = b
        .css(".log-row span[style*='font-weight']")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(bold, "bold green");
    let text = b.text_of(".log-view").await;
    assert!(!text.contains("[31m"), "escape codes shown: {text}");

    // Tail 1: only the last line, from the engine.
    let tail = b.css("input[aria-label='Lines from the end']").await;
    tail.send_keys(&format!(
        "{}1",
        fantoccini::key::Key::Backspace.to_string().repeat(4)
    ))
    .await
    .unwrap();
    b.css("[data-log-filter]").await.click().await.unwrap();
    // (The view empties while the engine is asked again.)
    b.wait_text(".log-view", |t| !t.contains("plain") && t.contains("last"))
        .await;
    // Timestamps on.
    b.by_name("checkbox", "timestamps")
        .await
        .click()
        .await
        .unwrap();
    b.wait_text(".log-row .ts", |t| t.trim().len() >= 19).await;
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn autoscroll_pauses_when_scrolled_up_and_the_shown_lines_download() {
    let script = "seq 1 400 | sed 's/^/filler /'; trap 'exit 0' TERM; \
                  while true; do if [ -f /go ]; then echo after-open-$(cat /go); rm /go; fi; sleep 0.2; done";
    let c = Container::run("scroll", &[IMAGE, "sh", "-c", script]);
    wait_for("the filler", WAIT, || {
        docker_ok(&engine(), &["logs", &c.name]).contains("filler 400")
    });
    let downloads = tempfile::tempdir().unwrap();
    let relay = Relay::start_with(&engine(), &["--console-dir", &console_dir()]);
    let b = Browser::start_downloading(downloads.path()).await;
    b.client
        .goto(&relay.url(&format!("/console/containers/{}/logs", c.name)))
        .await
        .unwrap();
    b.wait_text(".log-view", |t| t.contains("filler 400")).await;
    let scroll = |js: &'static str| {
        let client = b.client.clone();
        async move { client.execute(js, vec![]).await.unwrap() }
    };
    // At the bottom, following.
    let at_bottom = "const v = document.querySelector('.log-view'); return v.scrollTop + v.clientHeight >= v.scrollHeight - 20;";
    assert_eq!(scroll(at_bottom).await, serde_json::json!(true));

    // Scrolled up: paused, and a new line does not move the view.
    scroll("const v = document.querySelector('.log-view'); v.scrollTop = 100; v.dispatchEvent(new Event('scroll')); return 0;").await;
    b.css("[data-log-jump]").await;
    say(&c, "1");
    b.wait_text("[data-log-count]", |t| t.starts_with("401 lines"))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let top = scroll("return document.querySelector('.log-view').scrollTop;").await;
    assert_eq!(top, serde_json::json!(100), "the view jumped");

    // Back to the newest: following again.
    b.css("[data-log-jump]").await.click().await.unwrap();
    b.gone("[data-log-jump]").await;
    say(&c, "2");
    b.wait_text(".log-view", |t| t.contains("after-open-2"))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(scroll(at_bottom).await, serde_json::json!(true));

    // Download of what the filter shows.
    b.css("[data-log-filter]")
        .await
        .send_keys("after-open")
        .await
        .unwrap();
    b.wait_text("[data-log-count]", |t| t.starts_with("2 of"))
        .await;
    b.css("[data-log-download]").await.click().await.unwrap();
    let file = downloads.path().join(format!("{}.log", c.name));
    wait_for("the download", WAIT, || {
        std::fs::read_to_string(&file).is_ok_and(|t| t.ends_with('\n'))
    });
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "after-open-1\nafter-open-2\n"
    );
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_line_printed_before_the_container_stopped_is_on_screen() {
    let c = Container::run("one-line", &[IMAGE, "sh", "-c", "echo the-only-line"]);
    wait_for("it to stop", WAIT, || c.state() == "exited");
    let relay = Relay::start_with(&engine(), &["--console-dir", &console_dir()]);
    // A laptop's window and a phone's.
    for size in ["--window-size=1280,800", "--window-size=390,844"] {
        let b = Browser::start_with(&[size]).await;
        b.client
            .goto(&relay.url(&format!("/console/containers/{}/logs", c.name)))
            .await
            .unwrap();
        let view = b.by_name("log", &format!("Log of {}", c.name)).await;
        // The stream ends (the container stopped), and the page says so
        // above the lines: they must stay in the window all the same.
        b.css("[data-log-ended]").await;
        b.wait_text(".log-view", |t| t.contains("the-only-line"))
            .await;
        let line = b.css(".log-row").await;
        b.wait_on_screen(&view, &format!("the log view at {size}"))
            .await;
        b.wait_on_screen(&line, &format!("the line at {size}"))
            .await;
        // The count is announced as it changes.
        let count = b.css("[data-log-count]").await;
        assert_eq!(
            count.attr("aria-live").await.unwrap().as_deref(),
            Some("polite")
        );
        assert_eq!(count.text().await.unwrap(), "1 lines");
        b.end().await;
    }
}

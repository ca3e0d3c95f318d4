//! Starting, configuring, logging and stopping the relay process.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

#[test]
fn one_log_line_per_request_with_method_path_status_and_duration() {
    let relay = Relay::start();
    let out = curl(
        Some(&relay),
        &["-f"],
        "/containers/json?all=1&ticket=s3cret-ticket",
    );
    assert!(out.status.success());
    wait_for("the request log line", Duration::from_secs(5), || {
        relay.log().lines().any(|l| {
            l.contains("method=GET")
                && l.contains("uri=/containers/json?all=1&ticket=…")
                && l.contains("status=200")
                && l.contains("latency=")
        })
    });
    // Values that may be secrets (tickets, build arguments) never reach it.
    assert!(!relay.log().contains("s3cret-ticket"));
}

#[test]
fn sigterm_stops_within_the_grace_period_even_with_streams_open() {
    let c = Container::run("shutdown", &[IMAGE, "sleep", "600"]);
    let relay = Relay::start_with(&engine(), &["--shutdown-grace", "1"]);
    let mut stream = Command::new("curl")
        .args(["-sS", "-N"])
        .arg(relay.url(&format!("/containers/{}/logs?follow=1&stdout=1", c.name)))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut events = Command::new("curl")
        .args(["-sS", "-N"])
        .arg(relay.url("/events"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let mut relay = relay;
    let start = Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &relay.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    wait_for("the relay to exit", Duration::from_secs(4), || {
        relay.child.try_wait().unwrap().is_some()
    });
    let status = relay.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "exited before the grace period"
    );
    for client in [&mut stream, &mut events] {
        wait_for("the stream to end", Duration::from_secs(4), || {
            client.try_wait().unwrap().is_some()
        });
    }
    assert!(relay.log().contains("shutting down"));
}

#[test]
fn docker_host_and_berth_variables_configure_the_relay() {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_berth"))
        .env("BERTH_LISTEN", format!("127.0.0.1:{port}"))
        .env("DOCKER_HOST", engine())
        .env_remove("BERTH_ENGINE")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let host = format!("tcp://127.0.0.1:{port}");
    wait_for("the relay", Duration::from_secs(10), || {
        docker(&host, &["version"]).status.success()
    });
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn refuses_a_public_address_without_authentication() {
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args([
            "--listen",
            "0.0.0.0:0",
            "--engine",
            "unix:///nonexistent.sock",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("refusing to listen on 0.0.0.0:0 without a token"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn help_documents_every_flag_and_its_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("--help")
        .output()
        .unwrap();
    let help = text(&out.stdout);
    for (flag, var) in [
        ("--listen", "BERTH_LISTEN"),
        ("--engine", "BERTH_ENGINE"),
        ("--allow-origin", "BERTH_ALLOW_ORIGIN"),
        ("--console-dir", "BERTH_CONSOLE_DIR"),
        ("--base-path", "BERTH_BASE_PATH"),
        ("--shutdown-grace", "BERTH_SHUTDOWN_GRACE"),
        ("--terminal-idle", "BERTH_TERMINAL_IDLE"),
        ("--insecure-no-auth", "BERTH_INSECURE_NO_AUTH"),
        ("--log", "BERTH_LOG"),
    ] {
        assert!(
            help.contains(flag) && help.contains(var),
            "{flag} / {var} missing from --help"
        );
    }
    assert!(help.contains("DOCKER_HOST"));
}

#[test]
fn the_console_built_in_is_served_compressed_with_its_routes() {
    // Without --console-dir, the console the binary carries (a debug build
    // reads the same files from dist/ as it runs).
    crate::browser::console_dir();
    let relay = Relay::start();
    let get = |path: &str, args: &[&str]| {
        let mut all = vec!["-D", "-", "-o", "-"];
        all.extend_from_slice(args);
        text(&curl(Some(&relay), &all, path).stdout)
    };
    let page = get("/console/", &[]);
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(
        page.to_lowercase().contains("cache-control: no-cache"),
        "{page}"
    );
    // A console route is the console's page.
    let route = get("/console/containers/web/logs", &[]);
    assert!(
        route.starts_with("HTTP/1.1 200") && route.contains(".wasm"),
        "{route}"
    );
    let wasm = page
        .split('"')
        .find(|s| s.starts_with("/console/") && s.ends_with(".wasm"))
        .unwrap()
        .to_owned();
    let head = get(&wasm, &["-I", "-H", "Accept-Encoding: gzip"]).to_lowercase();
    assert!(head.contains("content-encoding: gzip"), "{head}");
    assert!(head.contains("content-type: application/wasm"), "{head}");
    assert!(head.contains("max-age=3600"), "{head}");
    let etag = head
        .lines()
        .find_map(|l| l.strip_prefix("etag: "))
        .unwrap()
        .trim()
        .to_owned();
    let again = get(
        &wasm,
        &[
            "-I",
            "-H",
            "Accept-Encoding: gzip",
            "-H",
            &format!("If-None-Match: {etag}"),
        ],
    );
    assert!(again.starts_with("HTTP/1.1 304"), "{again}");
    // Not gzip for a client that does not take it.
    let plain = get(&wasm, &["-I"]).to_lowercase();
    assert!(!plain.contains("content-encoding"), "{plain}");
}

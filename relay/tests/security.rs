//! Who gets in (issue 3): Host, Origin, the token, and the lockout, each
//! against the real relay and engine.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

const TOKEN: &str = "test-token-0123456789abcdef";

fn code(out: &std::process::Output) -> String {
    text(&out.stdout)
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// A container whose being alive shows a kill did not get through.
fn victim() -> Container {
    Container::run("victim", &[IMAGE, "sleep", "600"])
}

#[test]
fn a_rebound_host_never_reaches_the_engine() {
    let c = victim();
    let relay = Relay::start();
    let kill = format!("/containers/{}/kill", c.name);
    for host in [
        "evil.example",
        "evil.example:2375",
        "127.0.0.1.evil.example",
    ] {
        let out = curl(
            Some(&relay),
            &[
                "-X",
                "POST",
                "-H",
                &format!("Host: {host}"),
                "-w",
                "\n%{http_code}",
            ],
            &kill,
        );
        assert_eq!(code(&out), "421", "{host}: {}", text(&out.stdout));
        assert!(
            text(&out.stdout).contains("--allow-host"),
            "{}",
            text(&out.stdout)
        );
    }
    assert_eq!(c.state(), "running");
    // Upgrades too: a hijack (attach) with a rebound Host is never bridged.
    let attach = format!("/containers/{}/attach?stream=1&stdout=1", c.name);
    let upgrade = [
        "-X",
        "POST",
        "-H",
        "Host: evil.example",
        "-H",
        "Connection: Upgrade",
        "-H",
        "Upgrade: tcp",
        "-w",
        "\n%{http_code}",
        "--max-time",
        "5",
    ];
    assert_eq!(code(&curl(Some(&relay), &upgrade, &attach)), "421");
    // A configured name is answered.
    let named = Relay::start_with(&engine(), &["--allow-host", "berth.example"]);
    let out = curl(
        Some(&named),
        &["-H", "Host: berth.example", "-w", "\n%{http_code}"],
        "/_ping",
    );
    assert_eq!(code(&out), "200");
}

#[test]
fn a_foreign_origin_never_reaches_the_engine() {
    let c = victim();
    let relay = Relay::start_with(
        &engine(),
        &["--allow-origin", "http://console.example:8080"],
    );
    let kill = format!("/containers/{}/kill", c.name);
    // A body-less POST is a "simple request": a browser sends it from any
    // page without asking first. It must be refused, not just unreadable.
    for origin in ["http://evil.example", "null", "http://127.0.0.1:1"] {
        let out = curl(
            Some(&relay),
            &[
                "-X",
                "POST",
                "-H",
                &format!("Origin: {origin}"),
                "-w",
                "\n%{http_code}",
            ],
            &kill,
        );
        assert_eq!(code(&out), "403", "{origin}: {}", text(&out.stdout));
    }
    assert_eq!(c.state(), "running");
    // The relay's own pages, and configured origins, may.
    let own = format!("Origin: http://127.0.0.1:{}", relay.port);
    let out = curl(
        Some(&relay),
        &["-X", "POST", "-H", &own, "-w", "\n%{http_code}", "-d", ""],
        &format!("/containers/{}/pause", c.name),
    );
    assert_eq!(code(&out), "204", "{}", text(&out.stdout));
    let out = curl(
        Some(&relay),
        &[
            "-X",
            "POST",
            "-H",
            "Origin: http://console.example:8080",
            "-w",
            "\n%{http_code}",
        ],
        &format!("/containers/{}/unpause", c.name),
    );
    assert_eq!(code(&out), "204", "{}", text(&out.stdout));
}

fn docker_with_headers(host: &str, headers: Option<&str>, args: &[&str]) -> std::process::Output {
    let config = tempfile::tempdir().unwrap();
    if let Some(h) = headers {
        std::fs::write(
            config.path().join("config.json"),
            format!(r#"{{"HttpHeaders": {{{h}}}}}"#),
        )
        .unwrap();
    }
    Command::new("docker")
        .arg("-H")
        .arg(host)
        .args(args)
        .env("DOCKER_CONFIG", config.path())
        .env_remove("DOCKER_HOST")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn the_token_is_required_and_the_docker_cli_sends_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "token", format!("{TOKEN}\n").as_bytes());
    let relay = Relay::start_with(&engine(), &["--token-file", file.to_str().unwrap()]);
    let w = ["-w", "\n%{http_code}"];

    let missing = curl(Some(&relay), &w, "/containers/json");
    assert_eq!(code(&missing), "401");
    assert!(
        text(&missing.stdout).contains("a token is required"),
        "{}",
        text(&missing.stdout)
    );
    let wrong = curl(
        Some(&relay),
        &["-H", "Authorization: Bearer nope", w[0], w[1]],
        "/containers/json",
    );
    assert_eq!(code(&wrong), "401");
    let right = curl(
        Some(&relay),
        &["-H", &format!("Authorization: Bearer {TOKEN}"), w[0], w[1]],
        "/containers/json",
    );
    assert_eq!(code(&right), "200");

    // The console must load to ask for the token, and says it needs one.
    let config = curl(Some(&relay), &[], "/_berth/config");
    assert!(
        text(&config.stdout).contains(r#""auth":"token""#),
        "{}",
        text(&config.stdout)
    );
    assert_ne!(code(&curl(Some(&relay), &w, "/console/")), "401");

    // The stock CLI, with the token in its config file's HttpHeaders.
    let header = format!(r#""Authorization": "Bearer {TOKEN}""#);
    let ok = docker_with_headers(&relay.host(), Some(&header), &["ps", "-a"]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let refused = docker_with_headers(&relay.host(), None, &["ps"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("a token is required"),
        "{}",
        text(&refused.stderr)
    );
    // And the log never holds it.
    assert!(!relay.log().contains(TOKEN));
}

#[test]
fn wrong_tokens_are_slowed_and_the_right_one_always_passes() {
    let relay = Relay::spawn_on(
        "127.0.0.1",
        &["--engine", &engine()],
        &[("BERTH_TOKEN", TOKEN)],
    );
    let port = relay.port;
    let status = move |token: &str| {
        let out = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-H",
                &format!("Authorization: Bearer {token}"),
            ])
            .arg(format!("http://127.0.0.1:{port}/_ping"))
            .output()
            .unwrap();
        text(&out.stdout)
    };
    assert_eq!(status(TOKEN), "200");
    for _ in 0..10 {
        assert_eq!(status("guess"), "401");
    }
    let started = Instant::now();
    assert_eq!(status("guess"), "429");
    assert!(started.elapsed() >= Duration::from_secs(1));
    // Behind a reverse proxy every client shares one address: the right
    // token passes at once, whatever the others guessed.
    let started = Instant::now();
    assert_eq!(status(TOKEN), "200");
    assert!(started.elapsed() < Duration::from_millis(900));
    // Wrong guesses wait their turn, a second each: three at once take three.
    let started = Instant::now();
    let guesses: Vec<_> = (0..3)
        .map(|_| std::thread::spawn(move || status("guess")))
        .collect();
    for g in guesses {
        assert_eq!(g.join().unwrap(), "429");
    }
    assert!(started.elapsed() >= Duration::from_secs(3));
}

#[test]
fn a_public_address_needs_a_token() {
    let relay = Relay::spawn_on(
        "0.0.0.0",
        &["--engine", &engine()],
        &[("BERTH_TOKEN", TOKEN)],
    );
    let port = relay.port;
    let out = Command::new("curl")
        .args(["-s", "-H", &format!("Authorization: Bearer {TOKEN}")])
        .arg(format!("http://127.0.0.1:{port}/_ping"))
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "OK");
    // Beyond loopback, the default policy is read-only.
    let config = Command::new("curl")
        .args(["-s", &format!("http://127.0.0.1:{port}/_berth/config")])
        .output()
        .unwrap();
    assert!(
        text(&config.stdout).contains(r#""name":"read-only""#),
        "{}",
        text(&config.stdout)
    );

    let short = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["--listen", "127.0.0.1:0", "--engine", &engine()])
        .env("BERTH_TOKEN", "short")
        .output()
        .unwrap();
    assert!(!short.status.success());
    assert!(
        text(&short.stderr).contains("too short"),
        "{}",
        text(&short.stderr)
    );
}

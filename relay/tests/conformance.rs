//! The stock docker CLI and curl through the relay behave exactly as they do
//! against the engine's socket.

use std::time::Duration;

use crate::util::*;

/// Runs `scenario` against the engine directly and through a relay, and
/// returns both results (direct first).
fn both<T>(scenario: impl Fn(&str) -> T) -> (T, T) {
    let relay = Relay::start();
    (scenario(&engine()), scenario(&relay.host()))
}

fn outcome(out: &std::process::Output) -> (Option<i32>, String, String) {
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn run_with_output_and_exit_code() {
    let (direct, relayed) = both(|host| {
        outcome(&docker(
            host,
            &[
                "run",
                "--rm",
                IMAGE,
                "sh",
                "-c",
                "echo out; echo err >&2; exit 3",
            ],
        ))
    });
    assert_eq!(direct, (Some(3), "out\n".into(), "err\n".into()));
    assert_eq!(relayed, direct);
}

#[test]
fn exec_stdin_eof_reaches_the_process_and_later_output_arrives() {
    let c = Container::run("exec-eof", &[IMAGE, "sleep", "600"]);
    let (direct, relayed) = both(|host| {
        outcome(&docker_in(
            host,
            &["exec", "-i", &c.name, "sh", "-c", "cat; sleep 1; echo done"],
            b"x\n",
        ))
    });
    assert_eq!(direct, (Some(0), "x\ndone\n".into(), String::new()));
    assert_eq!(relayed, direct);
}

#[test]
fn exec_with_a_tty() {
    let c = Container::run("exec-tty", &[IMAGE, "sleep", "600"]);
    let (direct, relayed) =
        both(|host| outcome(&docker(host, &["exec", "-t", &c.name, "echo", "tty"])));
    assert_eq!(direct.1, "tty\r\n");
    assert_eq!(relayed, direct);
}

#[test]
fn run_interactive_tty_under_a_pseudo_terminal() {
    // `docker run -it` insists on a terminal: script(1) gives it one.
    let (direct, relayed) = both(|host| {
        let cmd = format!(
            "docker -H {host} run -it --rm {IMAGE} sh -c 'read line; echo \"got $line\"; stty size'"
        );
        let out = docker_script(&cmd, b"hello\n");
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    });
    assert!(direct.contains("got hello"), "{direct:?}");
    assert!(relayed.contains("got hello"), "{relayed:?}");
}

#[test]
fn exec_interactive_tty_under_a_pseudo_terminal() {
    let c = Container::run("exec-it", &[IMAGE, "sleep", "600"]);
    let (direct, relayed) = both(|host| {
        let cmd = format!(
            "docker -H {host} exec -it {} sh -c 'read line; echo \"exec got $line\"'",
            c.name
        );
        let out = docker_script(&cmd, b"typed\n");
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    });
    assert!(direct.contains("exec got typed"), "{direct:?}");
    assert!(relayed.contains("exec got typed"), "{relayed:?}");
}

fn docker_script(cmd: &str, input: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new("script")
        .args(["-qefc", cmd, "/dev/null"])
        .env("DOCKER_CLI_HINTS", "false")
        .env_remove("DOCKER_HOST")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Give the container a moment to start reading; the pty keeps the bytes.
    std::thread::sleep(Duration::from_millis(300));
    stdin.write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    out
}

#[test]
fn attach_receives_both_streams() {
    let (direct, relayed) = both(|host| {
        let c = Container::run(
            "attach",
            &[IMAGE, "sh", "-c", "sleep 2; echo out; echo err >&2"],
        );
        outcome(&docker(host, &["attach", "--no-stdin", &c.name]))
    });
    assert_eq!(direct, (Some(0), "out\n".into(), "err\n".into()));
    assert_eq!(relayed, direct);
}

#[test]
fn run_interactive_sends_stdin_through_attach() {
    // `run -i` attaches stdin to a StdinOnce container: EOF on the pipe
    // must reach the process, and what it prints after still arrives.
    let (direct, relayed) = both(|host| {
        outcome(&docker_in(
            host,
            &[
                "run",
                "-i",
                "--rm",
                IMAGE,
                "sh",
                "-c",
                "cat; sleep 1; echo done >&2",
            ],
            b"piped\n",
        ))
    });
    assert_eq!(direct, (Some(0), "piped\n".into(), "done\n".into()));
    assert_eq!(relayed, direct);
}

#[test]
fn logs_follow_streams_until_the_container_exits() {
    let script = "for i in 1 2 3 4 5; do echo line $i; sleep 0.2; done; echo last >&2";
    let c = Container::run("logs-f", &[IMAGE, "sh", "-c", script]);
    let relay = Relay::start();
    let (direct_host, relay_host) = (engine(), relay.host());
    let follow = |host: &str| outcome(&docker(host, &["logs", "-f", &c.name]));
    let (direct, relayed) = std::thread::scope(|s| {
        let a = s.spawn(|| follow(&direct_host));
        let b = s.spawn(|| follow(&relay_host));
        (a.join().unwrap(), b.join().unwrap())
    });
    let lines = "line 1\nline 2\nline 3\nline 4\nline 5\n";
    assert_eq!(direct, (Some(0), lines.into(), "last\n".into()));
    assert_eq!(relayed, direct);
}

#[test]
fn events_between_two_instants() {
    let since = docker_ok(&engine(), &["system", "info", "-f", "{{.SystemTime}}"]);
    let c = Container::run("events", &[IMAGE, "true"]);
    docker_ok(&engine(), &["wait", &c.name]);
    docker_ok(&engine(), &["rm", &c.name]);
    std::thread::sleep(Duration::from_millis(1100));
    let until = docker_ok(&engine(), &["system", "info", "-f", "{{.SystemTime}}"]);
    let (direct, relayed) = both(|host| {
        docker_ok(
            host,
            &[
                "events",
                "--since",
                since.trim(),
                "--until",
                until.trim(),
                "--filter",
                &format!("container={}", c.name),
                "--format",
                "{{.Type}} {{.Action}}",
            ],
        )
    });
    assert!(
        direct.contains("container start") && direct.contains("container destroy"),
        "{direct}"
    );
    assert_eq!(relayed, direct);
}

#[test]
fn cp_both_ways() {
    let c = Container::run("cp", &[IMAGE, "sleep", "600"]);
    let relay = Relay::start();
    let dir = tempfile::tempdir().unwrap();
    let payload: Vec<u8> = (0..(1 << 20))
        .map(|i: u32| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let src = write_file(dir.path(), "payload.bin", &payload);
    let dest = |name: &str| format!("{}:/tmp/{name}", c.name);
    let local = |name: &str| dir.path().join(name).to_string_lossy().into_owned();

    // Into the container through the relay, out directly; and the reverse.
    docker_ok(
        &relay.host(),
        &["cp", src.to_str().unwrap(), &dest("in-relay")],
    );
    docker_ok(&engine(), &["cp", &dest("in-relay"), &local("out-direct")]);
    docker_ok(
        &engine(),
        &["cp", src.to_str().unwrap(), &dest("in-direct")],
    );
    docker_ok(
        &relay.host(),
        &["cp", &dest("in-direct"), &local("out-relay")],
    );
    for out in ["out-direct", "out-relay"] {
        assert!(
            std::fs::read(dir.path().join(out)).unwrap() == payload,
            "{out} differs"
        );
    }
}

#[test]
fn build_through_the_relay() {
    let relay = Relay::start();
    let tag = format!("{}:latest", unique("build"));
    let dockerfile = format!("FROM {IMAGE}\nRUN echo built-here > /built\n");
    let out = docker_in(
        &relay.host(),
        &["build", "-q", "-t", &tag, "-"],
        dockerfile.as_bytes(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let seen = docker_ok(&engine(), &["run", "--rm", &tag, "cat", "/built"]);
    docker_ok(&engine(), &["rmi", &tag]);
    assert_eq!(seen, "built-here\n");
}

#[test]
fn export_is_byte_identical() {
    let c = Container::run(
        "export",
        &[IMAGE, "sh", "-c", "echo data > /tmp/marker; sleep 600"],
    );
    wait_for("the marker file", Duration::from_secs(10), || {
        docker(&engine(), &["exec", &c.name, "test", "-f", "/tmp/marker"])
            .status
            .success()
    });
    let (direct, relayed) = both(|host| {
        let out = docker(host, &["export", &c.name]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        (out.stdout.len(), sha256(&out.stdout))
    });
    assert!(
        direct.0 > 100_000,
        "an export of busybox is not {} bytes",
        direct.0
    );
    assert_eq!(relayed, direct);
}

#[test]
fn save_and_load_round_trip() {
    let relay = Relay::start();
    let tag = format!("{}:saved", unique("save"));
    docker_ok(&engine(), &["tag", IMAGE, &tag]);
    let saved = docker(&relay.host(), &["save", &tag]);
    assert!(saved.status.success(), "{}", text(&saved.stderr));
    docker_ok(&engine(), &["rmi", &tag]);
    let loaded = docker_in(&relay.host(), &["load"], &saved.stdout);
    assert!(loaded.status.success(), "{}", text(&loaded.stderr));
    assert!(
        text(&loaded.stdout).contains(&tag),
        "{}",
        text(&loaded.stdout)
    );
    docker_ok(&engine(), &["rmi", &tag]);
}

#[test]
fn stats_without_streaming() {
    let c = Container::run("stats", &[IMAGE, "sleep", "600"]);
    let (direct, relayed) = both(|host| {
        docker_ok(
            host,
            &["stats", "--no-stream", "--format", "{{.Name}}", &c.name],
        )
    });
    assert_eq!(direct.trim(), c.name);
    assert_eq!(relayed, direct);
}

#[test]
fn a_large_multiplexed_log_is_byte_identical() {
    // About 5 MB on stdout and 1 MB on stderr: 400,000 frames.
    let script = "yes 0123456789abcdef | head -n 300000; yes err-line | head -n 100000 >&2";
    let c = Container::run("biglog", &[IMAGE, "sh", "-c", script]);
    docker_ok(&engine(), &["wait", &c.name]);
    let path = format!("/v1.41/containers/{}/logs?stdout=1&stderr=1", c.name);
    let relay = Relay::start();
    let direct = curl(None, &[], &path);
    let relayed = curl(Some(&relay), &[], &path);
    assert!(direct.status.success() && relayed.status.success());
    assert!(direct.stdout.len() > 6_000_000, "{}", direct.stdout.len());
    assert_eq!(
        direct.stdout[0], 1,
        "the log is multiplexed, starting with a stdout frame"
    );
    assert_eq!(sha256(&relayed.stdout), sha256(&direct.stdout));
}

#[test]
fn ping_headers_pass_through() {
    let relay = Relay::start();
    for method in ["GET", "HEAD"] {
        let args = ["-X", method, "-D", "-", "-o", "/dev/null"];
        let head = |out: std::process::Output| {
            let mut lines: Vec<String> = text(&out.stdout)
                .lines()
                .map(|l| l.to_ascii_lowercase())
                .filter(|l| {
                    [
                        "api-version:",
                        "ostype:",
                        "docker-experimental:",
                        "server:",
                        "http/1.1",
                    ]
                    .iter()
                    .any(|h| l.starts_with(h))
                })
                .collect();
            lines.sort();
            lines
        };
        let direct = head(curl(None, &args, "/_ping"));
        assert!(
            direct.iter().any(|l| l.starts_with("api-version: 1.")),
            "{direct:?}"
        );
        assert_eq!(
            head(curl(Some(&relay), &args, "/_ping")),
            direct,
            "{method}"
        );
    }
}

#[test]
fn engine_errors_pass_through_unchanged() {
    let relay = Relay::start();
    let cases: [(&[&str], &str); 3] = [
        (&[], "/containers/no-such-container/json"),
        (&[], "/v1.41/images/no-such-image:1/json"),
        (
            &[
                "-X",
                "POST",
                "-H",
                "Content-Type: application/json",
                "-d",
                "{not json",
            ],
            "/v1.41/containers/create",
        ),
    ];
    for (args, path) in cases {
        let mut args = args.to_vec();
        args.extend(["-w", "\n%{http_code}"]);
        let direct = text(&curl(None, &args, path).stdout);
        let relayed = text(&curl(Some(&relay), &args, path).stdout);
        let code = direct.rsplit('\n').next().unwrap();
        assert!(
            code.starts_with('4') || code.starts_with('5'),
            "{path}: {direct}"
        );
        assert_eq!(relayed, direct, "{path}");
    }
    // And the CLI prints them as it would.
    let (direct, relayed) = both(|host| outcome(&docker(host, &["rm", "no-such-container"])));
    assert!(direct.2.contains("No such container"), "{}", direct.2);
    assert_eq!(relayed, direct);
}

#[test]
fn the_seed_usage_works_unchanged() {
    // The seeds' curl lines, versioned and not.
    let relay = Relay::start();
    for path in [
        "/version",
        "/containers/json",
        "/v1.41/version",
        "/v1.41/containers/json?all=1",
    ] {
        let out = curl(Some(&relay), &["-f"], path);
        assert!(out.status.success(), "{path}: {}", text(&out.stderr));
        let _: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    }
    let version = docker_ok(
        &relay.host(),
        &["version", "--format", "{{.Server.APIVersion}}"],
    );
    assert!(version.starts_with("1."), "{version}");
    docker_ok(&relay.host(), &["image", "ls"]);
}

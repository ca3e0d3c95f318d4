//! The flight recorder against the real engine: a `--rm` container's line,
//! the relay killed and started again, the engine restarted, the cap, a
//! full disk, a compose recreate; and what reads it (history, logs in the
//! engine's format, search, the policy over both).

use std::process::Command;
use std::time::Duration;

use berth_engine::MuxDecoder;
use serde_json::Value;

use crate::util::*;

const WAIT: Duration = Duration::from_secs(30);

fn get_json(relay: &Relay, path: &str) -> Value {
    let out = curl(Some(relay), &[], path);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{path}: {e}: {}", text(&out.stdout)))
}

/// The history entry of the container named `name`.
fn entry(relay: &Relay, name: &str) -> Option<Value> {
    get_json(relay, "/_berth/history")
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .cloned()
}

/// A multiplexed log as text.
fn demux(bytes: &[u8]) -> String {
    let mut mux = MuxDecoder::new();
    mux.push(bytes);
    let mut out = String::new();
    while let Some(f) = mux.next_frame() {
        out.push_str(&text(&f.unwrap().payload));
    }
    out
}

/// What the recorder holds of `name`, as `docker logs -t` prints it.
fn recorded(relay: &Relay, name: &str) -> String {
    let out = curl(
        Some(relay),
        &[],
        &format!("/_berth/history/{name}/logs?stdout=1&stderr=1&timestamps=1"),
    );
    demux(&out.stdout)
}

fn engine_logs(host: &str, name: &str) -> String {
    let out = docker(host, &["logs", "-t", name]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout) + &text(&out.stderr)
}

fn sorted(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

#[test]
fn a_container_run_with_rm_is_recorded_after_the_engine_forgot_it() {
    let host = engine();
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start_with(&host, &["--record", dir.path().to_str().unwrap()]);
    wait_for("the recorder", WAIT, || {
        get_json(&relay, "/_berth/health")["recorder"] == "recording"
    });
    for i in 0..3 {
        let name = unique("rm");
        let said = format!("last words {i} of {name}");
        let out = docker(
            &host,
            &[
                "run",
                "--rm",
                "--name",
                &name,
                IMAGE,
                "sh",
                "-c",
                &format!("echo {said}; echo oops >&2; exit 3"),
            ],
        );
        assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
        // The engine has nothing of it any more.
        let gone = docker(&host, &["logs", &name]);
        assert!(!gone.status.success(), "{}", text(&gone.stdout));
        wait_for("its record", WAIT, || {
            entry(&relay, &name).is_some_and(|e| e["destroyed"] == true && e["exitCode"] == 3)
        });
        let mut log = String::new();
        let whole = wait_until(WAIT, || {
            log = recorded(&relay, &name);
            log.contains(&said) && log.contains("oops")
        });
        assert!(whole, "{name}'s lines are not all in its record: {log:?}");
        let e = entry(&relay, &name).unwrap();
        assert_eq!(e["image"], IMAGE);
        assert!(e["bytes"].as_u64().unwrap() > 0, "{e}");
        // Its inspect, its environment's values taken out.
        let one = get_json(&relay, &format!("/_berth/history/{name}"));
        let env = one["inspect"]["Config"]["Env"].as_array().unwrap();
        assert!(
            env.iter().all(|v| v.as_str().unwrap().ends_with("=…")),
            "{env:?}"
        );
    }
}

#[test]
fn a_killed_relay_resumes_each_record_without_gap_or_repeat() {
    let host = engine();
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().to_str().unwrap().to_owned();
    let c = Container::run(
        "ticker",
        &[IMAGE, "sh", "-c", "i=0; while [ $i -lt 400 ]; do echo line $i; echo err $i >&2; i=$((i+1)); sleep 0.02; done; sleep 600"],
    );
    let mut relay = Relay::start_with(&host, &["--record", &record]);
    wait_for("some lines recorded", WAIT, || {
        recorded(&relay, &c.name).lines().count() > 40
    });
    // Killed mid-stream: what it had not written yet is lost from its store.
    relay.child.kill().unwrap();
    relay.child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let relay = Relay::start_with(&host, &["--record", &record]);
    wait_for("every line", WAIT, || {
        recorded(&relay, &c.name).lines().count() >= 800
    });
    std::thread::sleep(Duration::from_millis(1500));
    let (mine, engines) = (recorded(&relay, &c.name), engine_logs(&host, &c.name));
    assert_eq!(engines.lines().count(), 800);
    // The same lines with the same times: none missing, none twice.
    assert_eq!(sorted(&mine), sorted(&engines));
    // And in order, per stream.
    let stdout: Vec<&str> = mine.lines().filter(|l| l.contains(" line ")).collect();
    let mut times: Vec<&str> = stdout
        .iter()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    let unsorted = times.clone();
    times.sort();
    assert_eq!(times, unsorted);
}

#[test]
fn recording_resumes_after_the_engine_restarts() {
    let (mut private, host) = PrivateEngine::unix();
    ensure_image(&host);
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start_with(&host, &["--record", dir.path().to_str().unwrap()]);
    let name = unique("restart");
    docker_ok(
        &host,
        &[
            "run",
            "-d",
            "--restart",
            "always",
            "--name",
            &name,
            IMAGE,
            "sh",
            "-c",
            "echo run at $(date +%s%N); sleep 600",
        ],
    );
    wait_for("the first run's line", WAIT, || {
        recorded(&relay, &name).lines().count() == 1
    });
    private.stop();
    private.start_again();
    // The engine starts it again; the recorder follows it again.
    wait_for("the second run's line", Duration::from_secs(60), || {
        recorded(&relay, &name).lines().count() == 2
    });
    assert_eq!(
        sorted(&recorded(&relay, &name)),
        sorted(&engine_logs(&host, &name))
    );
    assert_eq!(get_json(&relay, "/_berth/health")["recorder"], "recording");
}

#[test]
fn the_cap_drops_the_oldest_first() {
    let host = engine();
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start_with(
        &host,
        &[
            "--record",
            dir.path().to_str().unwrap(),
            "--record-max",
            "64k",
        ],
    );
    // Some 300 KB, in lines numbered from 0.
    let c = Container::run(
        "chatty",
        &[IMAGE, "sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo line $i of a chatty container padded to about a hundred bytes ..........; i=$((i+1)); done; sleep 600"],
    );
    wait_for("the last line recorded", WAIT, || {
        recorded(&relay, &c.name).contains("line 2999 ")
    });
    std::thread::sleep(Duration::from_millis(1500));
    let on_disk: u64 = walk(dir.path())
        .iter()
        .map(|p| p.metadata().unwrap().len())
        .sum();
    assert!(
        on_disk <= 64 * 1024 + 8 * 1024 + 4096,
        "{on_disk} bytes on disk"
    );
    let log = recorded(&relay, &c.name);
    assert!(!log.contains("line 0 "), "the oldest stayed");
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines.len() > 300, "{} lines kept", lines.len());
    // What is kept runs unbroken to the end.
    let numbers: Vec<u32> = lines
        .iter()
        .map(|l| l.split(' ').nth(2).unwrap().parse().unwrap())
        .collect();
    assert!(
        numbers.windows(2).all(|w| w[1] == w[0] + 1),
        "a gap in what is kept"
    );
    assert_eq!(*numbers.last().unwrap(), 2999);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A tmpfs of its own, unmounted when the test ends.
struct Tmpfs(tempfile::TempDir);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

#[test]
fn a_full_disk_stops_recording_with_an_error_and_keeps_what_is_there_whole() {
    let host = engine();
    let mount = Tmpfs(tempfile::tempdir().unwrap());
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(mount.0.path())
        .status()
        .unwrap();
    assert!(ok.success(), "mounting a tmpfs (the tests run as root)");
    let relay = Relay::start_with(
        &host,
        &[
            "--record",
            mount.0.path().to_str().unwrap(),
            "--record-max",
            "1G",
        ],
    );
    let c = Container::run(
        "filler",
        &[IMAGE, "sh", "-c", "i=0; while [ $i -lt 6000 ]; do echo line $i of a container that fills the disk ..............................; i=$((i+1)); [ $((i % 500)) = 0 ] && sleep 0.5; done; sleep 600"],
    );
    wait_for("the recorder to stop", WAIT, || {
        get_json(&relay, "/_berth/health")["recorder"]
            .as_str()
            .unwrap()
            .starts_with("stopped: cannot write")
    });
    assert!(
        relay.log().contains("the flight recorder stopped"),
        "{}",
        relay.log()
    );
    // What it wrote reads back whole: every line is one the engine has, in order.
    let engines = engine_logs(&host, &c.name);
    let mine = recorded(&relay, &c.name);
    assert!(mine.lines().count() > 100, "{}", mine.len());
    let all: Vec<&str> = engines.lines().collect();
    let kept: Vec<&str> = mine.lines().collect();
    assert_eq!(kept[..], all[..kept.len()]);
    // The relay itself goes on.
    assert!(docker(&relay.host(), &["ps"]).status.success());
}

#[test]
fn a_recreated_compose_service_keeps_its_earlier_containers() {
    let host = engine();
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start_with(&host, &["--record", dir.path().to_str().unwrap()]);
    let project = unique("rec").replace('-', "");
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("compose.yml");
    let write = |word: &str| {
        std::fs::write(
            &file,
            format!("services:\n  app:\n    image: {IMAGE}\n    command: sh -c 'echo {word}; sleep 600'\n"),
        )
        .unwrap()
    };
    let compose = |args: &[&str]| {
        let out = Command::new("docker-compose")
            .env("DOCKER_HOST", &host)
            .args(["-p", &project, "-f"])
            .arg(&file)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    };
    write("first-version");
    compose(&["up", "-d"]);
    let of_project = |relay: &Relay| -> Vec<Value> {
        get_json(relay, "/_berth/history")
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["project"] == project.as_str())
            .cloned()
            .collect()
    };
    wait_for("the first container's line", WAIT, || {
        of_project(&relay)
            .iter()
            .any(|e| e["bytes"].as_u64() > Some(0))
    });
    write("second-version");
    compose(&["up", "-d"]);
    wait_for("both containers, the first removed", WAIT, || {
        let all = of_project(&relay);
        all.len() == 2 && all.iter().filter(|e| e["destroyed"] == true).count() == 1
    });
    compose(&["down", "-t", "1"]);
    let all = of_project(&relay);
    assert!(all.iter().all(|e| e["service"] == "app"), "{all:?}");
    let search = curl(
        Some(&relay),
        &[],
        &format!("/_berth/search?q=-version&project={project}"),
    );
    let hits: Vec<Value> = text(&search.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let lines: Vec<&str> = hits.iter().map(|h| h["line"].as_str().unwrap()).collect();
    assert_eq!(lines, ["first-version", "second-version"]);
}

#[test]
fn history_and_search_read_like_the_engine_and_sit_under_the_policy() {
    let host = engine();
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().to_str().unwrap().to_owned();
    let relay = Relay::start_with(&host, &["--record", &record]);
    let c = Container::run(
        "reader",
        &[
            IMAGE,
            "sh",
            "-c",
            "for i in 1 2 3 4 5; do echo out $i; echo err $i >&2; done; sleep 600",
        ],
    );
    wait_for("ten lines", WAIT, || {
        recorded(&relay, &c.name).lines().count() == 10
    });
    // The engine's parameters, the engine's answer (the docker CLI reads it).
    for query in [
        "stdout=1&stderr=1",
        "stdout=1&tail=2",
        "stderr=1&timestamps=1&tail=3",
    ] {
        let ours = curl(
            Some(&relay),
            &[],
            &format!("/_berth/history/{}/logs?{query}", c.name),
        );
        let theirs = curl(None, &[], &format!("/containers/{}/logs?{query}", c.name));
        assert_eq!(demux(&ours.stdout), demux(&theirs.stdout), "{query}");
    }
    let none = curl(
        Some(&relay),
        &["-w", "%{http_code}"],
        &format!("/_berth/history/{}/logs", c.name),
    );
    assert!(
        text(&none.stdout).ends_with("400"),
        "{}",
        text(&none.stdout)
    );
    // One search, in time order, filtered.
    let hits = curl(
        Some(&relay),
        &[],
        &format!("/_berth/search?q=%5Eerr%20%5B24%5D%24&container={}", c.name),
    );
    let lines: Vec<String> = text(&hits.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["line"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(lines, ["err 2", "err 4"]);
    let bad = curl(
        Some(&relay),
        &["-w", "%{http_code}"],
        "/_berth/search?q=(unclosed",
    );
    assert!(text(&bad.stdout).ends_with("400"), "{}", text(&bad.stdout));

    // Read-only allows them; a policy without them refuses them.
    let ro = Relay::start_with(&host, &["--record", &record, "--policy", "read-only"]);
    assert_eq!(
        get_json(&ro, "/_berth/history")
            .as_array()
            .map(|a| !a.is_empty()),
        Some(true)
    );
    let rules = dir.path().join("rules");
    std::fs::write(&rules, "allow GET /containers/json\n").unwrap();
    let strict = Relay::start_with(
        &host,
        &[
            "--record",
            &format!("{record}-strict"),
            "--policy",
            rules.to_str().unwrap(),
        ],
    );
    for path in [
        "/_berth/history",
        "/_berth/search?q=x",
        &format!("/_berth/history/{}/logs?stdout=1", c.name),
    ] {
        let out = curl(Some(&strict), &["-w", "\n%{http_code}"], path);
        assert!(
            text(&out.stdout).ends_with("403"),
            "{path}: {}",
            text(&out.stdout)
        );
    }
    // Off unless asked for: a clear 404.
    let off = Relay::start_with(&host, &[]);
    let out = curl(Some(&off), &["-w", "\n%{http_code}"], "/_berth/history");
    assert!(
        text(&out.stdout).contains("--record"),
        "{}",
        text(&out.stdout)
    );
}

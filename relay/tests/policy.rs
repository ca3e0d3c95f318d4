//! The built-in socket proxy: presets, rules files, the guard and the audit
//! log, through the stock CLI. (What the engine would read otherwise is in
//! `attacks`.)

use crate::util::*;

fn refused(out: &std::process::Output, words: &str) {
    assert!(!out.status.success(), "succeeded: {}", text(&out.stdout));
    assert!(text(&out.stderr).contains(words), "{}", text(&out.stderr));
}

#[test]
fn read_only_lets_people_look_but_not_touch() {
    let c = Container::run("ro", &[IMAGE, "sh", "-c", "echo hello; sleep 600"]);
    let relay = Relay::start_with(&engine(), &["--policy", "read-only"]);
    let host = relay.host();
    assert!(docker_ok(&host, &["ps", "--format", "{{.Names}}"]).contains(&c.name));
    wait_for("the log line", std::time::Duration::from_secs(10), || {
        docker_ok(&host, &["logs", &c.name]) == "hello\n"
    });
    docker_ok(&host, &["inspect", &c.name]);
    docker_ok(&host, &["stats", "--no-stream", &c.name]);

    let rm = docker(&host, &["rm", "-f", &c.name]);
    refused(
        &rm,
        "berth: the read-only policy allows no rule for DELETE /containers/",
    );
    refused(
        &docker(&host, &["exec", &c.name, "true"]),
        "read-only policy",
    );
    refused(
        &docker(&host, &["export", &c.name]),
        "read-only policy allows no rule for GET /containers/",
    );
    refused(
        &docker(&host, &["cp", &format!("{}:/bin/sh", c.name), "/tmp/x"]),
        "read-only policy",
    );
    refused(
        &docker(&host, &["run", "--rm", IMAGE, "true"]),
        "read-only policy",
    );
    assert_eq!(c.state(), "running");

    // The console learns the policy from the relay.
    let config = text(&curl(Some(&relay), &[], "/_berth/config").stdout);
    assert!(config.contains(r#""name":"read-only""#), "{config}");
}

#[test]
fn the_guard_names_what_it_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_file(
        dir.path(),
        "rules",
        b"# everything, but guarded\nallow * /**\n",
    );
    let allowed = tempfile::tempdir().unwrap();
    let relay = Relay::start_with(
        &engine(),
        &[
            "--policy",
            rules.to_str().unwrap(),
            "--allow-bind",
            allowed.path().to_str().unwrap(),
        ],
    );
    let host = relay.host();
    for (args, field) in [
        (vec!["--privileged"], "HostConfig.Privileged"),
        (vec!["--cap-add", "SYS_ADMIN"], "HostConfig.CapAdd"),
        (vec!["--pid", "host"], "HostConfig.PidMode: host"),
        (
            vec!["--security-opt", "seccomp=unconfined"],
            "HostConfig.SecurityOpt",
        ),
        (
            vec!["-v", "/etc:/host-etc"],
            "HostConfig.Binds: a bind of \"/etc\"",
        ),
    ] {
        let mut run = vec!["run", "--rm"];
        run.extend(args);
        run.extend([IMAGE, "true"]);
        refused(
            &docker(&host, &run),
            &format!("berth: the guard refuses {field}"),
        );
    }
    // Within the rules it all works, bind mounts from allowed folders too.
    let bind = format!("{}:/data", allowed.path().display());
    assert_eq!(
        docker_ok(
            &host,
            &[
                "run",
                "--rm",
                "-v",
                &bind,
                IMAGE,
                "sh",
                "-c",
                "echo ok > /data/f; cat /data/f"
            ]
        ),
        "ok\n"
    );
    // A privileged exec, and a service whose tasks would bind the host's
    // root (the stock CLI's own requests; the engine is no Swarm manager,
    // but the guard answers first).
    let c = Container::run("guard-exec", &[IMAGE, "sleep", "600"]);
    refused(
        &docker(&host, &["exec", "--privileged", &c.name, "true"]),
        "berth: the guard refuses Privileged",
    );
    assert_eq!(
        docker_ok(&host, &["exec", &c.name, "echo", "fine"]),
        "fine\n"
    );
    refused(
        &docker(
            &host,
            &[
                "service",
                "create",
                "--mount",
                "type=bind,source=/,target=/host",
                IMAGE,
            ],
        ),
        "berth: the guard refuses TaskTemplate.ContainerSpec.Mounts[0].Source: a bind of \"/\"",
    );
    // Malformed bodies get a clear 400, not a crash.
    let out = curl(
        Some(&relay),
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            "{not json",
            "-w",
            "\n%{http_code}",
        ],
        "/v1.41/containers/create",
    );
    let body = text(&out.stdout);
    assert!(
        body.ends_with("\n400") && body.contains("not valid JSON"),
        "{body}"
    );
}

#[test]
fn paths_that_could_read_two_ways_are_refused() {
    let c = Container::run("canon", &[IMAGE, "sleep", "600"]);
    let relay = Relay::start_with(&engine(), &["--policy", "read-only"]);
    let w = ["--path-as-is", "-w", "\n%{http_code}"];
    let answer = |args: &[&str], path: &str| {
        let mut all = w.to_vec();
        all.extend_from_slice(args);
        let body = text(&curl(Some(&relay), &all, path).stdout);
        let (body, code) = body.rsplit_once('\n').unwrap();
        (code.to_owned(), body.to_owned())
    };
    assert_eq!(
        answer(&[], &format!("/v1.41/containers/{}/json", c.name)).0,
        "200"
    );
    for (path, words) in [
        (
            format!("/v1.41/images/../containers/{}/json", c.name),
            ". or .. segment",
        ),
        (
            format!("/v1.41/containers/json/../{}/kill", c.name),
            ". or .. segment",
        ),
        (format!("/v1.41/containers/{}%2Fkill", c.name), "encoded /"),
        (
            format!("/v1.41/containers/{}%252Fkill", c.name),
            "encoded /",
        ),
        ("/v1.41/containers//json".to_owned(), "empty segment"),
        ("/v1.41/../../_ping".to_owned(), ". or .. segment"),
        (
            format!("/v1.41/containers/{}%0A/json", c.name),
            "control character",
        ),
    ] {
        let (code, body) = answer(&["-X", "POST"], &path);
        assert_eq!(code, "400", "{path}");
        assert!(body.contains(words), "{path}: {body}");
    }
    assert_eq!(c.state(), "running");
}

#[test]
fn every_change_and_every_copy_out_is_audited() {
    let relay = Relay::start();
    let name = unique("audit");
    docker_ok(&relay.host(), &["create", "--name", &name, IMAGE, "true"]);
    docker_ok(&relay.host(), &["rm", &name]);
    // Reads that copy data out of a container or image, or enter one.
    let c = Container::run("audit-copy", &[IMAGE, "sleep", "600"]);
    let out = tempfile::tempdir().unwrap();
    let at = |f: &str| out.path().join(f).to_str().unwrap().to_owned();
    docker_ok(&relay.host(), &["export", "-o", &at("fs.tar"), &c.name]);
    docker_ok(
        &relay.host(),
        &["cp", &format!("{}:/bin/sh", c.name), &at("sh")],
    );
    docker_ok(&relay.host(), &["exec", &c.name, "true"]);
    docker_ok(&relay.host(), &["save", "-o", &at("image.tar"), IMAGE]);
    // Registry credentials pass through to the engine but never into the log.
    let secret = "eyJ1c2VybmFtZSI6InNlY3JldC11c2VyIn0";
    curl(
        Some(&relay),
        &["-X", "POST", "-H", &format!("X-Registry-Auth: {secret}")],
        "/v1.41/images/create?fromImage=berth-test/none&tag=1",
    );
    wait_for("the audit lines", std::time::Duration::from_secs(5), || {
        let log = relay.log();
        let audit: Vec<&str> = log.lines().filter(|l| l.contains("berth::audit")).collect();
        audit.iter().any(|l| {
            l.contains("method=POST")
                && l.contains("path=/containers/create")
                && l.contains("status=201")
        }) && audit.iter().any(|l| {
            l.contains("method=DELETE")
                && l.contains(&format!("path=/containers/{name}"))
                && l.contains("status=204")
        }) && audit.iter().all(|l| l.contains("client=127.0.0.1"))
            && audit.iter().any(|l| l.contains("path=/images/create"))
            && [
                "/containers/{name:.*}/export",
                "/containers/{name:.*}/archive",
                "/exec/{name:.*}/start",
                "/images/get",
            ]
            .iter()
            .all(|route| audit.iter().any(|l| l.contains(&format!("route={route}"))))
            // Plain reads are not audited.
            && !audit.iter().any(|l| l.contains("route=/containers/json"))
    });
    assert!(!relay.log().contains(secret), "X-Registry-Auth was logged");
}

#[test]
fn a_version_prefix_smuggled_through_dot_dot_does_not_slip_past_a_deny_rule() {
    let c = Container::run("smuggle", &[IMAGE, "sleep", "600"]);
    let dir = tempfile::tempdir().unwrap();
    let rules = write_file(
        dir.path(),
        "rules",
        b"deny * /containers/*/kill\nallow * /**\n",
    );
    let relay = Relay::start_with(&engine(), &["--policy", rules.to_str().unwrap()]);
    let kill = |path: String| {
        let out = curl(
            Some(&relay),
            &["--path-as-is", "-X", "POST", "-w", "\n%{http_code}"],
            &path,
        );
        text(&out.stdout).rsplit('\n').next().unwrap().to_owned()
    };
    assert_eq!(kill(format!("/v1.41/containers/{}/kill", c.name)), "403");
    // Checked as /v1.41/containers/…/kill, the deny rule would not match,
    // and the engine would read v1.41 as the version and kill.
    assert_eq!(
        kill(format!("/containers/../v1.41/containers/{}/kill", c.name)),
        "400"
    );
    assert_eq!(c.state(), "running");
}

#[test]
fn ordinary_work_passes_a_guarded_relay() {
    let allowed = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rules = write_file(dir.path(), "rules", b"allow * /**\n");
    let relay = Relay::start_with(
        &engine(),
        &[
            "--policy",
            rules.to_str().unwrap(),
            "--allow-bind",
            allowed.path().to_str().unwrap(),
        ],
    );
    let host = relay.host();
    // run with a bind from an allowed folder and a named volume, exec, cp
    // both ways.
    let vol = unique("vol");
    let c = Container {
        name: unique("ordinary"),
    };
    docker_ok(
        &host,
        &[
            "run",
            "-d",
            "--name",
            &c.name,
            "-v",
            &format!("{}:/data", allowed.path().display()),
            "-v",
            &format!("{vol}:/vol"),
            "--read-only",
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges",
            "--memory",
            "64m",
            "--restart",
            "on-failure:2",
            "-e",
            "A=b",
            IMAGE,
            "sleep",
            "600",
        ],
    );
    assert_eq!(docker_ok(&host, &["exec", &c.name, "echo", "in"]), "in\n");
    let echoed = docker_in(
        &host,
        &["exec", "-i", &c.name, "sh", "-c", "cat; echo done"],
        b"x\n",
    );
    assert_eq!(text(&echoed.stdout), "x\ndone\n");
    let local = write_file(allowed.path(), "local.txt", b"to the container\n");
    docker_ok(
        &host,
        &[
            "cp",
            local.to_str().unwrap(),
            &format!("{}:/data/copied.txt", c.name),
        ],
    );
    let back = allowed.path().join("back.txt");
    docker_ok(
        &host,
        &[
            "cp",
            &format!("{}:/data/copied.txt", c.name),
            back.to_str().unwrap(),
        ],
    );
    assert_eq!(
        std::fs::read_to_string(&back).unwrap(),
        "to the container\n"
    );
    drop(c);
    docker_ok(&engine(), &["volume", "rm", &vol]);

    // A plain compose project: its network, its volume, its containers.
    let project = unique("guarded");
    let file = write_file(
        dir.path(),
        "docker-compose.yml",
        format!(
            "version: '3'\nservices:\n  web:\n    image: {IMAGE}\n    command: sleep 600\n    volumes: [data:/data]\n    environment: [MODE=x]\n  worker:\n    image: {IMAGE}\n    command: sleep 600\nvolumes:\n  data: {{}}\n"
        )
        .as_bytes(),
    );
    let compose = |args: &[&str]| {
        std::process::Command::new("docker-compose")
            .env("DOCKER_HOST", &host)
            .env("COMPOSE_INTERACTIVE_NO_CLI", "1")
            .args(["--no-ansi", "-p", &project, "-f"])
            .arg(&file)
            .args(args)
            .output()
            .unwrap()
    };
    let up = compose(&["up", "-d"]);
    let down = compose(&["down", "-v", "-t", "1"]);
    assert!(up.status.success(), "compose up: {}", text(&up.stderr));
    assert!(
        down.status.success(),
        "compose down: {}",
        text(&down.stderr)
    );
}

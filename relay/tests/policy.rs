//! The built-in socket proxy (issue 3): presets, rules files, the create
//! guard, canonical paths and the audit log, through the stock CLI.

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
        "read-only policy denies GET /containers/",
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
fn the_create_guard_names_what_it_refuses() {
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
        (vec!["--pid", "host"], "HostConfig.PidMode=host"),
        (
            vec!["--security-opt", "seccomp=unconfined"],
            "HostConfig.SecurityOpt",
        ),
        (vec!["-v", "/etc:/host-etc"], "HostConfig.Binds \"/etc\""),
    ] {
        let mut run = vec!["run", "--rm"];
        run.extend(args);
        run.extend([IMAGE, "true"]);
        refused(
            &docker(&host, &run),
            &format!("berth: the create guard refuses {field}"),
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
        "berth: the create guard refuses Privileged",
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
        "berth: the create guard refuses TaskTemplate.ContainerSpec.Mounts bind of \"/\"",
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
fn the_path_checked_is_the_path_forwarded() {
    let c = Container::run("canon", &[IMAGE, "sleep", "600"]);
    let relay = Relay::start_with(&engine(), &["--policy", "read-only"]);
    let w = ["--path-as-is", "-w", "\n%{http_code}"];
    let status = |args: &[&str], path: &str| {
        let mut all = w.to_vec();
        all.extend_from_slice(args);
        let body = text(&curl(Some(&relay), &all, path).stdout);
        body.rsplit('\n').next().unwrap().to_owned()
    };
    // Dot segments resolve before the check, and the engine gets the result.
    assert_eq!(
        status(&[], &format!("/v1.41/images/../containers/{}/json", c.name)),
        "200"
    );
    assert_eq!(
        status(
            &["-X", "POST"],
            &format!("/v1.41/containers/json/../{}/kill", c.name)
        ),
        "403"
    );
    // Ambiguous spellings are refused outright.
    for path in [
        format!("/v1.41/containers/{}%2Fkill", c.name),
        format!("/v1.41/containers/{}%252Fkill", c.name),
        "/v1.41/containers//json".to_owned(),
        "/v1.41/../../_ping".to_owned(),
    ] {
        assert_eq!(status(&[], &path), "400", "{path}");
    }
    assert_eq!(c.state(), "running");
}

#[test]
fn every_change_is_audited() {
    let relay = Relay::start();
    let name = unique("audit");
    docker_ok(&relay.host(), &["create", "--name", &name, IMAGE, "true"]);
    docker_ok(&relay.host(), &["rm", &name]);
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
            && !audit.iter().any(|l| l.contains("method=GET"))
            && audit.iter().any(|l| l.contains("path=/images/create"))
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

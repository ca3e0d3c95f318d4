//! The policy and the guard read every request as the engine reads it.
//! Each test first shows the engine itself acting on a spelling (straight
//! to its socket), then Berth refusing that spelling with a message the
//! docker CLI prints (`Error response from daemon: berth: …`).

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use serde_json::Value;

use crate::util::*;

/// A call straight to the engine's socket (`via = None`) or through a
/// relay, the path sent as written: `(status, body)`.
fn call(via: Option<&Relay>, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    call_with(via, method, path, body, &[])
}

fn call_with(
    via: Option<&Relay>,
    method: &str,
    path: &str,
    body: Option<&str>,
    extra: &[&str],
) -> (u16, String) {
    let mut args = vec!["--path-as-is", "-X", method, "-w", "\n%{http_code}"];
    if let Some(b) = body {
        args.extend(["-H", "Content-Type: application/json", "--data-binary", b]);
    }
    args.extend_from_slice(extra);
    let out = curl(via, &args, path);
    let text = text(&out.stdout);
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (code.parse().unwrap_or(0), body.to_owned())
}

/// The refusal's words, as the docker CLI would print them.
fn message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.to_owned())
}

fn refused_by_berth(got: (u16, String), status: u16, words: &str) {
    let msg = message(&got.1);
    assert_eq!(got.0, status, "{msg}");
    assert!(msg.starts_with("berth: ") && msg.contains(words), "{msg}");
}

fn cli_refused(out: &Output, words: &str) {
    assert!(!out.status.success(), "succeeded: {}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains("berth: ") && err.contains(words), "{err}");
}

/// A container made straight on the engine from a raw body, removed when
/// dropped.
fn create_direct(prefix: &str, body: &str) -> Container {
    let name = unique(prefix);
    let (status, answer) = call(
        None,
        "POST",
        &format!("/v1.41/containers/create?name={name}"),
        Some(body),
    );
    assert_eq!(status, 201, "the engine refused {body}: {answer}");
    Container { name }
}

fn inspect(name: &str) -> Value {
    let out = docker_ok(&engine(), &["inspect", name]);
    serde_json::from_str::<Value>(&out).unwrap()[0].clone()
}

/// A relay that allows every route with the guard on (any policy but
/// `full` turns it on), binds allowed from `allowed` only.
fn guarded(allowed: &Path) -> (Relay, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_file(dir.path(), "rules", b"allow * /**\n");
    let relay = Relay::start_with(
        &engine(),
        &[
            "--policy",
            rules.to_str().unwrap(),
            "--allow-bind",
            allowed.to_str().unwrap(),
        ],
    );
    (relay, dir)
}

/// A container made on the engine (by someone trusted) with the host
/// folder `folder` bound at `at`, left running.
fn holding(prefix: &str, folder: &Path, at: &str) -> Container {
    let bind = format!("{}:{at}", folder.display());
    Container::run(prefix, &["-v", &bind, IMAGE, "sleep", "600"])
}

fn read_only() -> Relay {
    Relay::start_with(&engine(), &["--policy", "read-only"])
}

#[test]
fn versions_are_read_as_the_engine_reads_them() {
    let c = Container::run("ver", &[IMAGE, "sleep", "600"]);
    let relay = read_only();
    for v in ["v1.41.0", "v1.41.", "v1.41.0.0"] {
        // To the engine these are all API 1.41: it exports the filesystem.
        let export = format!("/{v}/containers/{}/export", c.name);
        let (status, tar) = call(None, "GET", &export, None);
        assert!(status == 200 && tar.len() > 10_000, "{v}: {status}");
        refused_by_berth(
            call(Some(&relay), "GET", &export, None),
            400,
            "is not written as vMAJOR.MINOR",
        );
        let archive = format!("/{v}/containers/{}/archive?path=/bin/sh", c.name);
        assert_eq!(call(None, "GET", &archive, None).0, 200, "{v}");
        refused_by_berth(
            call(Some(&relay), "GET", &archive, None),
            400,
            "vMAJOR.MINOR",
        );
    }

    // The stock CLI, told to speak "1.41.0": docker cp reads a file
    // straight from the engine, and is refused by Berth in words.
    let dest = tempfile::tempdir().unwrap();
    let from = format!("{}:/bin/busybox", c.name);
    let to = dest.path().join("busybox");
    let cp = |host: &str| {
        docker_env(
            host,
            &[("DOCKER_API_VERSION", "1.41.0")],
            &["cp", &from, to.to_str().unwrap()],
        )
    };
    assert!(cp(&engine()).status.success());
    assert!(to.exists());
    std::fs::remove_file(&to).unwrap();
    cli_refused(
        &cp(&relay.host()),
        "\"v1.41.0\" is not written as vMAJOR.MINOR",
    );
    assert!(!to.exists());

    // The engine's own WebSocket attach answers 101 under any spelling.
    let ws = [
        "-H",
        "Connection: Upgrade",
        "-H",
        "Upgrade: websocket",
        "-H",
        "Sec-WebSocket-Version: 13",
        "-H",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "--max-time",
        "2",
    ];
    let attach = format!("/v1.41.0/containers/{}/attach/ws?stream=1&stdin=1", c.name);
    assert_eq!(call_with(None, "GET", &attach, None, &ws).0, 101);
    refused_by_berth(
        call_with(Some(&relay), "GET", &attach, None, &ws),
        400,
        "vMAJOR.MINOR",
    );

    // The relay's own endpoints read engine paths the same way.
    let fanin = format!(
        "/_berth/fanin?s=/v1.41.0/containers/{}/archive%3Fpath%3D/bin/sh",
        c.name
    );
    refused_by_berth(call(Some(&relay), "GET", &fanin, None), 400, "vMAJOR.MINOR");
    let (_, ticket) = call(Some(&relay), "POST", "/_berth/tickets", None);
    let ticket: Value = serde_json::from_str(&ticket).unwrap();
    let download = format!(
        "/_berth/download?ticket={}&path=/v1.41.0/containers/{}/export",
        ticket["ticket"].as_str().unwrap(),
        c.name
    );
    refused_by_berth(
        call(Some(&relay), "GET", &download, None),
        400,
        "vMAJOR.MINOR",
    );
}

#[test]
fn a_deny_rule_holds_under_any_version_spelling() {
    let victim = Container::run("deny-kill", &[IMAGE, "sleep", "600"]);
    let other = Container::run("deny-kill", &[IMAGE, "sleep", "600"]);
    let dir = tempfile::tempdir().unwrap();
    let rules = write_file(
        dir.path(),
        "rules",
        b"deny * /containers/*/kill\nallow * /**\n",
    );
    let relay = Relay::start_with(&engine(), &["--policy", rules.to_str().unwrap()]);
    // The engine kills under the odd spelling.
    let kill = |name: &str| format!("/v1.41.0/containers/{name}/kill");
    assert_eq!(call(None, "POST", &kill(&other.name), None).0, 204);
    refused_by_berth(
        call(Some(&relay), "POST", &kill(&victim.name), None),
        400,
        "vMAJOR.MINOR",
    );
    refused_by_berth(
        call(
            Some(&relay),
            "POST",
            &format!("/v1.41/containers/{}/kill", victim.name),
            None,
        ),
        403,
        "denies POST /containers/",
    );
    assert_eq!(victim.state(), "running");
}

#[test]
fn names_with_slashes_reach_the_route_the_engine_gives_them() {
    // /images/{name:.*}/get: the engine saves an image named with a slash.
    let save = format!("/images/{}/get", IMAGE.split(':').next().unwrap());
    let (status, tar) = call(None, "GET", &save, None);
    assert!(status == 200 && tar.len() > 10_000, "{status}");
    refused_by_berth(
        call(Some(&read_only()), "GET", &save, None),
        403,
        "read-only policy allows no rule for GET /images/berth-test/busybox/get",
    );
    let dir = tempfile::tempdir().unwrap();
    let rules = write_file(
        dir.path(),
        "rules",
        b"deny GET /images/*/get\ndeny GET /images/get\nallow * /**\n",
    );
    let relay = Relay::start_with(&engine(), &["--policy", rules.to_str().unwrap()]);
    refused_by_berth(
        call(Some(&relay), "GET", &save, None),
        403,
        "rule `deny GET /images/*/get`",
    );
    let out = dir.path().join("saved.tar");
    cli_refused(
        &docker(&relay.host(), &["save", IMAGE, "-o", out.to_str().unwrap()]),
        "denies GET /images/get",
    );
}

#[test]
fn methods_match_exactly() {
    let c = Container::run("method", &[IMAGE, "sleep", "600"]);
    let kill = format!("/v1.41/containers/{}/kill", c.name);
    // The engine's router matches methods exactly: a lowercase one is no
    // route to it, and Berth says so rather than let it past the checks.
    let (status, answer) = call(None, "post", &kill, None);
    assert_eq!(status, 404, "{answer}");
    refused_by_berth(
        call(Some(&Relay::start()), "post", &kill, None),
        404,
        "methods are upper case",
    );
    let allowed = tempfile::tempdir().unwrap();
    let (relay, _rules) = guarded(allowed.path());
    let privileged = format!(r#"{{"Image":"{IMAGE}","HostConfig":{{"Privileged":true}}}}"#);
    refused_by_berth(
        call(
            Some(&relay),
            "post",
            "/v1.41/containers/create",
            Some(&privileged),
        ),
        404,
        "methods are upper case",
    );
    assert_eq!(c.state(), "running");
}

#[test]
fn bodies_are_read_as_go_reads_them() {
    let allowed = tempfile::tempdir().unwrap();
    let (relay, _rules) = guarded(allowed.path());
    let host = |h: &str| format!(r#"{{"Image":"{IMAGE}","Cmd":["true"],"HostConfig":{h}}}"#);
    for (body, field, effect) in [
        (
            host(r#"{"privileged":true}"#),
            "HostConfig.Privileged (sent as \"privileged\")",
            "/HostConfig/Privileged",
        ),
        (
            host(r#"{"networkmode":"host"}"#),
            "HostConfig.NetworkMode (sent as \"networkmode\")",
            "/HostConfig/NetworkMode",
        ),
        (
            host("{\"Networ\u{212a}Mode\":\"host\"}"),
            "HostConfig.NetworkMode (sent as \"Networ\u{212a}Mode\")",
            "/HostConfig/NetworkMode",
        ),
        (
            host(r#"{"CapAdd":"SYS_ADMIN"}"#),
            "HostConfig.CapAdd",
            "/HostConfig/CapAdd",
        ),
        (
            host(r#"{"Privileged":false,"Privileged":true}"#),
            "HostConfig: the keys \"Privileged\" and \"Privileged\" name the same field",
            "/HostConfig/Privileged",
        ),
        (
            format!(r#"{{"Image":"{IMAGE}","Cmd":["true"],"Privileged":true}}"#),
            "Privileged",
            "/HostConfig/Privileged",
        ),
    ] {
        // The engine takes each spelling as the field it names.
        let c = create_direct("go-json", &body);
        let taken = inspect(&c.name).pointer(effect).cloned().unwrap();
        assert!(
            taken == Value::Bool(true)
                || taken == "host"
                || taken == serde_json::json!(["SYS_ADMIN"]),
            "{body}: {taken}"
        );
        refused_by_berth(
            call(
                Some(&relay),
                "POST",
                "/v1.41/containers/create",
                Some(&body),
            ),
            403,
            &format!("the guard refuses {field}"),
        );
    }

    // Binds spelled otherwise: a container writes a file on the host.
    let outside = tempfile::tempdir().unwrap();
    let write = r#""Cmd":["sh","-c","echo from-the-container > /host/f"]"#;
    for key in ["binds", "Bind\u{17f}"] {
        let body = format!(
            r#"{{"Image":"{IMAGE}",{write},"HostConfig":{{"{key}":["{}:/host"]}}}}"#,
            outside.path().display()
        );
        let c = create_direct("go-binds", &body);
        docker_ok(&engine(), &["start", "-a", &c.name]);
        let f = outside.path().join("f");
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "from-the-container\n");
        std::fs::remove_file(&f).unwrap();
        refused_by_berth(
            call(
                Some(&relay),
                "POST",
                "/v1.41/containers/create",
                Some(&body),
            ),
            403,
            "outside the allowed bind folders",
        );
    }
    // A bind mount with its keys in lower case.
    let body = format!(
        r#"{{"Image":"{IMAGE}",{write},"HostConfig":{{"Mounts":[{{"type":"bind","source":"{}","target":"/host"}}]}}}}"#,
        outside.path().display()
    );
    let c = create_direct("go-mount", &body);
    docker_ok(&engine(), &["start", "-a", &c.name]);
    assert!(outside.path().join("f").exists());
    refused_by_berth(
        call(
            Some(&relay),
            "POST",
            "/v1.41/containers/create",
            Some(&body),
        ),
        403,
        "HostConfig.Mounts[0].Source",
    );

    // An exec whose Privileged is spelled in lower case.
    let running = Container::run("go-exec", &[IMAGE, "sleep", "600"]);
    let exec = format!("/v1.41/containers/{}/exec", running.name);
    let body = r#"{"Cmd":["true"],"privileged":true}"#;
    let (status, id) = call(None, "POST", &exec, Some(body));
    assert_eq!(status, 201);
    let id: Value = serde_json::from_str(&id).unwrap();
    let (_, made) = call(
        None,
        "GET",
        &format!("/v1.41/exec/{}/json", id["Id"].as_str().unwrap()),
        None,
    );
    assert!(made.contains(r#""privileged":true"#), "{made}");
    refused_by_berth(
        call(Some(&relay), "POST", &exec, Some(body)),
        403,
        "the guard refuses Privileged (sent as \"privileged\")",
    );
}

#[test]
fn every_way_to_a_host_folder_counts_as_a_bind() {
    let allowed = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let (relay, _rules) = guarded(allowed.path());
    let opts = format!(
        r#"{{"type":"none","o":"bind","device":"{}"}}"#,
        outside.path().display()
    );

    // A volume mount whose local driver options bind a host folder.
    let vol = unique("bindvol");
    let body = format!(
        r#"{{"Image":"{IMAGE}","Cmd":["sh","-c","echo via-volume > /host/f"],"HostConfig":{{"Mounts":[{{"Type":"volume","Source":"{vol}","Target":"/host","VolumeOptions":{{"DriverConfig":{{"Name":"local","Options":{opts}}}}}}}]}}}}"#
    );
    let c = create_direct("volmount", &body);
    docker_ok(&engine(), &["start", "-a", &c.name]);
    assert_eq!(
        std::fs::read_to_string(outside.path().join("f")).unwrap(),
        "via-volume\n"
    );
    drop(c);
    refused_by_berth(
        call(
            Some(&relay),
            "POST",
            "/v1.41/containers/create",
            Some(&body),
        ),
        403,
        "outside the allowed bind folders",
    );
    // The volume the engine made that way, used by name through Berth.
    cli_refused(
        &docker(
            &relay.host(),
            &["run", "--rm", "-v", &format!("{vol}:/x"), IMAGE, "true"],
        ),
        &format!("the volume \"{vol}\""),
    );
    docker_ok(&engine(), &["volume", "rm", &vol]);

    // POST /volumes/create with the same options.
    let direct = unique("bindvol");
    let (status, _) = call(
        None,
        "POST",
        "/v1.41/volumes/create",
        Some(&format!(r#"{{"Name":"{direct}","DriverOpts":{opts}}}"#)),
    );
    assert_eq!(status, 201);
    assert!(docker_ok(&engine(), &["volume", "inspect", &direct])
        .contains(&outside.path().display().to_string()));
    docker_ok(&engine(), &["volume", "rm", &direct]);
    cli_refused(
        &docker(
            &relay.host(),
            &[
                "volume",
                "create",
                "--opt",
                "type=none",
                "--opt",
                "o=bind",
                "--opt",
                &format!("device={}", outside.path().display()),
            ],
        ),
        "the guard refuses DriverOpts",
    );

    // VolumesFrom a container that holds the engine's socket.
    let socket = engine_socket();
    let holder = create_direct(
        "holder",
        &format!(
            r#"{{"Image":"{IMAGE}","Cmd":["true"],"HostConfig":{{"Binds":["{}:/var/run/docker.sock"]}}}}"#,
            socket.display()
        ),
    );
    let taker = create_direct(
        "taker",
        &format!(
            r#"{{"Image":"{IMAGE}","Cmd":["test","-S","/var/run/docker.sock"],"HostConfig":{{"VolumesFrom":["{}"]}}}}"#,
            holder.name
        ),
    );
    docker_ok(&engine(), &["start", "-a", &taker.name]);
    assert_eq!(
        inspect(&taker.name)["State"]["ExitCode"],
        0,
        "the taker sees the socket"
    );
    cli_refused(
        &docker(
            &relay.host(),
            &["run", "--rm", "--volumes-from", &holder.name, IMAGE, "true"],
        ),
        &format!(
            "the container \"{}\" binds \"{}\"",
            holder.name,
            socket.display()
        ),
    );

    // Within the allowed folder, all of it works.
    let inside = allowed.path().join("data");
    std::fs::create_dir(&inside).unwrap();
    let bind = format!("{}:/data", inside.display());
    assert_eq!(
        docker_ok(
            &relay.host(),
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
}

#[test]
fn fields_not_known_to_be_safe_are_refused() {
    let allowed = tempfile::tempdir().unwrap();
    let (relay, _rules) = guarded(allowed.path());
    let host = |h: &str| format!(r#"{{"Image":"{IMAGE}","Cmd":["true"],"HostConfig":{h}}}"#);
    let allow_all = r#"{\"defaultAction\":\"SCMP_ACT_ALLOW\"}"#;
    for (h, effect, field) in [
        (
            r#"{"DeviceCgroupRules":["a *:* rwm"]}"#.to_owned(),
            "/HostConfig/DeviceCgroupRules",
            "HostConfig.DeviceCgroupRules",
        ),
        (
            format!(r#"{{"SecurityOpt":["seccomp={allow_all}"]}}"#),
            "/HostConfig/SecurityOpt",
            "HostConfig.SecurityOpt",
        ),
        (
            r#"{"MaskedPaths":[]}"#.to_owned(),
            "/HostConfig/MaskedPaths",
            "HostConfig.MaskedPaths",
        ),
        (
            r#"{"ReadonlyPaths":[]}"#.to_owned(),
            "/HostConfig/ReadonlyPaths",
            "HostConfig.ReadonlyPaths",
        ),
    ] {
        let body = host(&h);
        let c = create_direct("unlisted", &body);
        let taken = inspect(&c.name).pointer(effect).cloned().unwrap();
        assert_eq!(
            taken,
            serde_json::from_str::<Value>(&h).unwrap()[effect.rsplit('/').next().unwrap()],
            "{body}"
        );
        refused_by_berth(
            call(
                Some(&relay),
                "POST",
                "/v1.41/containers/create",
                Some(&body),
            ),
            403,
            &format!("the guard refuses {field}"),
        );
    }
    // The same through the stock CLI.
    let profile = write_file(
        allowed.path(),
        "seccomp.json",
        br#"{"defaultAction":"SCMP_ACT_ALLOW"}"#,
    );
    for (args, field) in [
        (
            vec!["--device-cgroup-rule", "a *:* rwm"],
            "HostConfig.DeviceCgroupRules",
        ),
        (
            vec!["--security-opt", &format!("seccomp={}", profile.display())],
            "HostConfig.SecurityOpt",
        ),
        (
            vec!["--security-opt", "systempaths=unconfined"],
            "HostConfig.MaskedPaths",
        ),
        (vec!["--privileged"], "HostConfig.Privileged"),
        (vec!["--cap-add", "SYS_ADMIN"], "HostConfig.CapAdd"),
        (vec!["--pid", "host"], "HostConfig.PidMode"),
        (vec!["--network", "host"], "HostConfig.NetworkMode"),
        (vec!["--device", "/dev/null"], "HostConfig.Devices"),
        (vec!["--log-driver", "syslog"], "HostConfig.LogConfig.Type"),
    ] {
        let mut run = vec!["run", "--rm"];
        run.extend(args);
        run.extend([IMAGE, "true"]);
        cli_refused(
            &docker(&relay.host(), &run),
            &format!("the guard refuses {field}"),
        );
    }
}

#[test]
fn another_containers_namespaces_pass_only_if_it_does() {
    let allowed = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let (relay, _rules) = guarded(allowed.path());
    // Sharing the pid namespace of a container that binds a host folder
    // reaches that folder through /proc/1/root.
    let holder = holding("nsholder", outside.path(), "/host");
    std::fs::write(outside.path().join("secret"), "host-file\n").unwrap();
    let read = docker_ok(
        &engine(),
        &[
            "run",
            "--rm",
            "--pid",
            &format!("container:{}", holder.name),
            IMAGE,
            "cat",
            "/proc/1/root/host/secret",
        ],
    );
    assert_eq!(read, "host-file\n");
    cli_refused(
        &docker(
            &relay.host(),
            &[
                "run",
                "--rm",
                "--pid",
                &format!("container:{}", holder.name),
                IMAGE,
                "true",
            ],
        ),
        "outside the allowed bind folders",
    );
    // A plain one may be shared.
    let plain = Container::run("nsplain", &[IMAGE, "sleep", "600"]);
    docker_ok(
        &relay.host(),
        &[
            "run",
            "--rm",
            "--pid",
            &format!("container:{}", plain.name),
            IMAGE,
            "true",
        ],
    );
}

#[test]
fn old_api_versions_forms_and_builders_cannot_walk_around_the_guard() {
    let allowed = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let (relay, _rules) = guarded(allowed.path());

    // Below API 1.24, a start takes a HostConfig: the engine binds a host
    // folder into a container created plain.
    let c = create_direct(
        "oldstart",
        &format!(r#"{{"Image":"{IMAGE}","Cmd":["sh","-c","echo old-api > /host/f"]}}"#),
    );
    let binds = format!(r#"{{"Binds":["{}:/host"]}}"#, outside.path().display());
    let start = format!("/v1.23/containers/{}/start", c.name);
    assert_eq!(call(None, "POST", &start, Some(&binds)).0, 204);
    wait_for(
        "the old-API container to write",
        Duration::from_secs(10),
        || outside.path().join("f").exists(),
    );
    let plain = create_direct(
        "oldstart",
        &format!(r#"{{"Image":"{IMAGE}","Cmd":["true"]}}"#),
    );
    refused_by_berth(
        call(
            Some(&relay),
            "POST",
            &format!("/v1.23/containers/{}/start", plain.name),
            Some(&binds),
        ),
        403,
        "the guard refuses API version 1.23",
    );

    // A form body stands in for the query: the engine kills with the
    // body's signal (137: SIGKILL), not the query's.
    let victim = Container::run("form", &[IMAGE, "sleep", "600"]);
    let form = [
        "-H",
        "Content-Type: application/x-www-form-urlencoded",
        "--data",
        "signal=SIGKILL",
    ];
    let kill = format!("/v1.41/containers/{}/kill?signal=SIGUSR1", victim.name);
    assert_eq!(call_with(None, "POST", &kill, None, &form).0, 204);
    wait_for("the kill", Duration::from_secs(10), || {
        victim.state() == "exited"
    });
    assert_eq!(inspect(&victim.name)["State"]["ExitCode"], 137);
    let other = Container::run("form", &[IMAGE, "sleep", "600"]);
    refused_by_berth(
        call_with(
            Some(&relay),
            "POST",
            &format!("/v1.41/containers/{}/kill", other.name),
            None,
            &form,
        ),
        403,
        "the guard refuses Content-Type",
    );

    // A build on the host's network sees the host's interfaces.
    let ctx = tempfile::tempdir().unwrap();
    write_file(
        ctx.path(),
        "Dockerfile",
        format!("FROM {IMAGE}\nRUN cat /proc/net/dev\n").as_bytes(),
    );
    let build = |host: &str| {
        docker(
            host,
            &[
                "build",
                "--no-cache",
                "--network",
                "host",
                "-q",
                ctx.path().to_str().unwrap(),
            ],
        )
    };
    let direct = docker(
        &engine(),
        &[
            "build",
            "--no-cache",
            "--network",
            "host",
            ctx.path().to_str().unwrap(),
        ],
    );
    let host_ifaces = std::fs::read_to_string("/proc/net/dev").unwrap();
    let iface = host_ifaces
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .find(|i| *i != "lo")
        .expect("the host has an interface besides lo");
    assert!(
        text(&direct.stdout).contains(&format!("{iface}:")),
        "{}",
        text(&direct.stdout)
    );
    cli_refused(
        &build(&relay.host()),
        "the build parameter networkmode=host",
    );
    // Plain builds pass.
    docker_ok(
        &relay.host(),
        &["build", "-q", ctx.path().to_str().unwrap()],
    );

    // An image the engine would fetch from a URL of the request's choosing.
    refused_by_berth(
        call(
            Some(&relay),
            "POST",
            "/v1.41/images/create?fromSrc=http://127.0.0.1:1/x.tar&repo=x",
            None,
        ),
        403,
        "the image parameter fromSrc",
    );
    // BuildKit's own API runs builds the /build checks never see.
    for path in ["/v1.41/session", "/v1.41/grpc"] {
        refused_by_berth(call(Some(&relay), "POST", path, None), 403, "BuildKit");
    }
}

#[test]
fn plugins_are_refused_unless_the_policy_is_full() {
    // A plugin that asks for the host's / and CAP_SYS_ADMIN: the engine
    // installs it as asked.
    let dir = tempfile::tempdir().unwrap();
    let rootfs = dir.path().join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).unwrap();
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).unwrap();
    write_file(
        dir.path(),
        "config.json",
        br#"{"description":"x","documentation":"x","entrypoint":["/bin/busybox","sleep","3600"],
            "interface":{"types":["docker.volumedriver/1.0"],"socket":"x.sock"},
            "linux":{"capabilities":["CAP_SYS_ADMIN"]},
            "mounts":[{"source":"/","destination":"/host","type":"bind","options":["rbind"]}],
            "network":{"type":"host"}}"#,
    );
    let name = unique("plugin");
    docker_ok(
        &engine(),
        &["plugin", "create", &name, dir.path().to_str().unwrap()],
    );
    let made = docker_ok(&engine(), &["plugin", "inspect", &name]);
    assert!(
        made.contains("CAP_SYS_ADMIN") && made.contains(r#""Source": "/""#),
        "{made}"
    );
    docker_ok(&engine(), &["plugin", "rm", &name]);

    let allowed = tempfile::tempdir().unwrap();
    let (relay, _rules) = guarded(allowed.path());
    cli_refused(
        &docker(
            &relay.host(),
            &["plugin", "create", &name, dir.path().to_str().unwrap()],
        ),
        "plugins run with whatever privileges they ask for",
    );
}

#[test]
fn a_swarm_is_read_without_its_join_tokens_and_guarded_like_containers() {
    let (_private, host) = PrivateEngine::unix();
    ensure_image(&host);
    let port = free_port().to_string();
    let addr = format!("127.0.0.1:{port}");
    docker_ok(
        &host,
        &[
            "swarm",
            "init",
            "--advertise-addr",
            &addr,
            "--listen-addr",
            &addr,
        ],
    );
    let sock = host.strip_prefix("unix://").unwrap().to_owned();
    let direct = |method: &str, path: &str, body: Option<&str>| {
        let mut args = vec![
            "-sS",
            "--unix-socket",
            &sock,
            "-X",
            method,
            "-w",
            "\n%{http_code}",
        ];
        if let Some(b) = body {
            args.extend(["-H", "Content-Type: application/json", "--data-binary", b]);
        }
        let url = format!("http://engine{path}");
        args.push(&url);
        let out = text(
            &std::process::Command::new("curl")
                .args(&args)
                .output()
                .unwrap()
                .stdout,
        );
        let (body, code) = out.rsplit_once('\n').unwrap();
        (code.parse::<u16>().unwrap(), body.to_owned())
    };
    let (_, swarm) = direct("GET", "/v1.41/swarm", None);
    assert!(
        swarm.contains("SWMTKN-1-"),
        "the engine hands out its join tokens"
    );

    let relay = Relay::start_with(&host, &["--policy", "read-only"]);
    let (status, seen) = call(Some(&relay), "GET", "/v1.41/swarm", None);
    assert_eq!(status, 200);
    let seen: Value = serde_json::from_str(&seen).unwrap();
    assert!(
        seen["ID"].is_string() && seen.get("JoinTokens").is_none(),
        "{seen}"
    );
    assert!(!seen.to_string().contains("SWMTKN"));
    let tokens = docker(&relay.host(), &["swarm", "join-token", "-q", "manager"]);
    assert!(!text(&tokens.stdout).contains("SWMTKN"));
    refused_by_berth(
        call(Some(&relay), "GET", "/v1.41/swarm/unlockkey", None),
        403,
        "allows no rule",
    );

    // A service on the host's network through its (20.10) top-level
    // Networks: the engine takes it.
    let spec = |name: &str| {
        format!(
            r#"{{"Name":"{name}","TaskTemplate":{{"ContainerSpec":{{"Image":"{IMAGE}","Command":["sleep","600"]}}}},"Networks":[{{"Target":"host"}}]}}"#
        )
    };
    let name = unique("hostsvc");
    let (status, answer) = direct("POST", "/v1.41/services/create", Some(&spec(&name)));
    assert_eq!(status, 201, "{answer}");
    let made: Value =
        serde_json::from_str(&docker_ok(&host, &["service", "inspect", &name])).unwrap();
    let made_spec = &made[0]["Spec"];
    let target = [
        &made_spec["TaskTemplate"]["Networks"],
        &made_spec["Networks"],
    ]
    .iter()
    .find_map(|n| n[0]["Target"].as_str())
    .expect("the service joins a network")
    .to_owned();
    let net = docker_ok(
        &host,
        &["network", "inspect", "-f", "{{.Name}} {{.Driver}}", &target],
    );
    assert_eq!(
        net.trim(),
        "host host",
        "the service's tasks join the host's network"
    );
    let dir = tempfile::tempdir().unwrap();
    let rules = write_file(dir.path(), "rules", b"allow * /**\n");
    let guarded = Relay::start_with(&host, &["--policy", rules.to_str().unwrap()]);

    docker_ok(&host, &["service", "rm", &name]);

    // A service that once bound the host's / and was made plain since (by
    // someone trusted, on the engine) still holds its earlier spec: a
    // rollback brings the bind back, whatever spec comes with it.
    let name = unique("rollback");
    let mounting = |mounts: &str| {
        format!(
            r#"{{"Name":"{name}","TaskTemplate":{{"ContainerSpec":{{"Image":"{IMAGE}","Command":["sleep","600"],"Mounts":[{mounts}]}}}}}}"#
        )
    };
    let bound = mounting(r#"{"Type":"bind","Source":"/","Target":"/host"}"#);
    let plain_spec = mounting("");
    let (status, answer) = direct("POST", "/v1.41/services/create", Some(&bound));
    assert_eq!(status, 201, "{answer}");
    let version = |n: &str| {
        docker_ok(
            &host,
            &["service", "inspect", "-f", "{{.Version.Index}}", n],
        )
    };
    let (status, answer) = direct(
        "POST",
        &format!(
            "/v1.41/services/{name}/update?version={}",
            version(&name).trim()
        ),
        Some(&plain_spec),
    );
    assert_eq!(status, 200, "{answer}");
    let target = "\"Source\":\"/\"";
    let rollback = |v: &str| {
        format!(
            "/v1.41/services/{name}/update?version={}&rollback=previous",
            v.trim()
        )
    };
    refused_by_berth(
        call(
            Some(&guarded),
            "POST",
            &rollback(&version(&name)),
            Some(&plain_spec),
        ),
        403,
        "the guard refuses the rollback parameter",
    );
    cli_refused(
        &docker(
            &guarded.host(),
            &["service", "update", "-d", "--rollback", &name],
        ),
        "the rollback parameter",
    );
    let (status, answer) = direct("POST", &rollback(&version(&name)), Some(&plain_spec));
    assert_eq!(status, 200, "{answer}");
    let back = docker_ok(
        &host,
        &["service", "inspect", "-f", "{{json .Spec}}", &name],
    );
    assert!(back.contains(target), "the rollback bound / again: {back}");
    docker_ok(&host, &["service", "rm", &name]);

    refused_by_berth(
        call(
            Some(&guarded),
            "POST",
            "/v1.41/services/create",
            Some(&spec(&unique("hostsvc"))),
        ),
        403,
        "the guard refuses Networks[0].Target: the host's network",
    );
    refused_by_berth(
        call(
            Some(&guarded),
            "POST",
            "/v1.41/swarm/join",
            Some(r#"{"RemoteAddrs":["127.0.0.1:1"],"JoinToken":"x"}"#),
        ),
        403,
        "a Swarm's managers control this engine",
    );
    // A plain service passes.
    docker_ok(
        &guarded.host(),
        &[
            "service",
            "create",
            "-d",
            "--no-resolve-image",
            "--name",
            &unique("plain"),
            IMAGE,
            "sleep",
            "600",
        ],
    );
}

#[test]
fn unknown_relay_paths_never_reach_the_engine() {
    let relay = Relay::start();
    for path in [
        "/_berth/exec/x/y",
        "/_berth/attach/x",
        "/_berth/nothing",
        "/_berth/containers/json",
    ] {
        refused_by_berth(
            call(Some(&relay), "GET", path, None),
            404,
            "the relay has no",
        );
    }
}

/// `Content-Type` with a raw byte `0xFF` in a parameter: Go still reads
/// the media type, and moby ignores the complaint about the parameter.
fn odd_form_type() -> std::ffi::OsString {
    use std::os::unix::ffi::OsStringExt;
    let mut v = b"Content-Type: application/x-www-form-urlencoded; x=".to_vec();
    v.push(0xff);
    std::ffi::OsString::from_vec(v)
}

#[test]
fn form_bodies_cannot_stand_in_for_the_query_however_they_are_labelled() {
    let allowed = tempfile::tempdir().unwrap();
    let (relay, _rules) = guarded(allowed.path());
    // The engine reads the body's signal (SIGKILL: 137) over the query's,
    // even with a parameter it can't read in the Content-Type.
    let send = |via: Option<&Relay>, name: &str| {
        let mut cmd = std::process::Command::new("curl");
        cmd.args([
            "-sS",
            "-X",
            "POST",
            "-w",
            "\n%{http_code}",
            "--data",
            "signal=SIGKILL",
            "-H",
        ])
        .arg(odd_form_type());
        let path = format!("/v1.41/containers/{name}/kill?signal=SIGUSR1");
        match via {
            Some(r) => cmd.arg(r.url(&path)),
            None => cmd
                .arg("--unix-socket")
                .arg(engine_socket())
                .arg(format!("http://engine{path}")),
        };
        let out = text(&cmd.output().unwrap().stdout);
        let (body, code) = out.rsplit_once('\n').unwrap();
        (code.parse::<u16>().unwrap(), body.to_owned())
    };
    let victim = Container::run("oddform", &[IMAGE, "sleep", "600"]);
    assert_eq!(send(None, &victim.name).0, 204);
    wait_for("the kill", Duration::from_secs(10), || {
        victim.state() == "exited"
    });
    assert_eq!(inspect(&victim.name)["State"]["ExitCode"], 137);
    let other = Container::run("oddform", &[IMAGE, "sleep", "600"]);
    refused_by_berth(
        send(Some(&relay), &other.name),
        403,
        "Content-Type: not printable ASCII",
    );

    // A multipart body on /build: the engine takes parameters the query
    // leaves out from it, a remote Dockerfile and host networking included:
    // its RUN reaches a server on the host's loopback.
    let www = tempfile::tempdir().unwrap();
    let port = free_port();
    write_file(
        www.path(),
        "Dockerfile",
        format!("FROM {IMAGE}\nRUN wget -q -O /dev/null http://127.0.0.1:{port}/from-the-host-network\n").as_bytes(),
    );
    write_file(www.path(), "from-the-host-network", b"reached\n");
    let log = www.path().join("requests.log");
    let mut server = std::process::Command::new("python3")
        .args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &port.to_string(),
        ])
        .current_dir(www.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    wait_for("the web server", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    // moby reads the first 4 KiB of a build's body before its parameters.
    let mut body = format!("{}\r\n", "P".repeat(98)).repeat(100);
    for (k, v) in [
        ("remote", format!("http://127.0.0.1:{port}/Dockerfile")),
        ("networkmode", "host".into()),
        ("nocache", "1".into()),
        ("forcerm", "1".into()),
    ] {
        body.push_str(&format!(
            "--XYZ\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str("--XYZ--\r\n");
    let multipart = [
        "-H",
        "Content-Type: multipart/form-data; boundary=XYZ",
        "--data-binary",
        &body,
    ];
    assert_eq!(
        call_with(None, "POST", "/v1.41/build", None, &multipart).0,
        200
    );
    wait_for(
        "the build's request from the host's network",
        Duration::from_secs(30),
        || {
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains("/from-the-host-network")
        },
    );
    let _ = server.kill();
    let _ = server.wait();
    refused_by_berth(
        call_with(Some(&relay), "POST", "/v1.41/build", None, &multipart),
        403,
        "the guard refuses Content-Type: a form body would stand in for the query's parameters",
    );
}

#[test]
fn a_link_planted_in_an_allowed_folder_does_not_lead_out_of_it() {
    let allowed = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let (relay, _rules) = guarded(allowed.path());
    // A container that may bind the allowed folder plants a link to / in it.
    let plant = format!("{}:/a", allowed.path().display());
    docker_ok(
        &relay.host(),
        &[
            "run", "--rm", "-v", &plant, IMAGE, "ln", "-s", "/", "/a/root",
        ],
    );
    // Bound through that link, a container writes outside the folder.
    let through = format!(
        "{}/root{}:/host",
        allowed.path().display(),
        outside.path().display()
    );
    docker_ok(
        &engine(),
        &[
            "run",
            "--rm",
            "-v",
            &through,
            IMAGE,
            "sh",
            "-c",
            "echo escaped > /host/f",
        ],
    );
    assert_eq!(
        std::fs::read_to_string(outside.path().join("f")).unwrap(),
        "escaped\n"
    );
    cli_refused(
        &docker(
            &relay.host(),
            &["run", "--rm", "-v", &through, IMAGE, "true"],
        ),
        "outside the allowed bind folders",
    );
}

#[test]
fn top_runs_the_hosts_ps_with_known_options_only() {
    let c = Container::run("top", &[IMAGE, "sleep", "600"]);
    // A process of the host's, not of any container, with a secret in its
    // command line.
    let mut secret = std::process::Command::new("python3")
        .args([
            "-c",
            "import os; os.execvp('sleep', ['berth-host-secret-42', '120'])",
        ])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let leak = format!(
        "/v1.41/containers/{}/top?ps_args=-oargs%3DPID%20-p{}",
        c.name,
        secret.id()
    );
    // The engine runs the host's ps with those options and quotes the
    // host process's command line back.
    let (_, answer) = call(None, "GET", &leak, None);
    assert!(answer.contains("berth-host-secret-42"), "{answer}");
    let relay = read_only();
    let refused = call(Some(&relay), "GET", &leak, None);
    assert!(!refused.1.contains("berth-host-secret"), "{}", refused.1);
    refused_by_berth(refused, 403, "the guard refuses ps_args");
    // What the docker CLI and the console ask for still works.
    let top = docker_ok(&relay.host(), &["top", &c.name]);
    assert!(top.contains("sleep 600"), "{top}");
    assert!(docker_ok(&relay.host(), &["top", &c.name, "aux"]).contains("sleep 600"));
    secret.kill().unwrap();
    secret.wait().unwrap();
}

#[test]
fn a_namespace_is_shared_only_with_a_container_that_exists() {
    let allowed = tempfile::tempdir().unwrap();
    let (relay, _rules) = guarded(allowed.path());
    let ghost = unique("ghost");
    // The engine takes a container network mode naming no container, and
    // keeps the name: whatever holds it at a start (a host-network
    // container renamed, say) lends its namespace then.
    let body = format!(
        r#"{{"Image":"{IMAGE}","Cmd":["true"],"HostConfig":{{"NetworkMode":"container:{ghost}"}}}}"#
    );
    let made = create_direct("ghostnet", &body);
    assert_eq!(
        inspect(&made.name)["HostConfig"]["NetworkMode"],
        format!("container:{ghost}")
    );
    refused_by_berth(
        call(
            Some(&relay),
            "POST",
            &format!("/v1.41/containers/create?name={}", unique("ghostnet")),
            Some(&body),
        ),
        403,
        &format!("there is no container \"{ghost}\" to check"),
    );
    cli_refused(
        &docker(
            &relay.host(),
            &[
                "run",
                "--rm",
                "--network",
                &format!("container:{ghost}"),
                IMAGE,
                "true",
            ],
        ),
        "there is no container",
    );
}

#[test]
fn a_container_swapped_during_the_check_is_judged_as_the_engine_made_it() {
    let allowed = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), "host-only\n").unwrap();
    let (relay, _rules) = guarded(allowed.path());
    // Two containers trade names while containers that take the volumes of
    // one of them are created through Berth: the name the guard looked up
    // can be the other container's by the time the engine reads it.
    let bait = Container::run("bait", &[IMAGE, "sleep", "600"]);
    let holder = holding("holder", outside.path(), "/hostsecret");
    // The engine copies whatever the name holds at create.
    let direct = create_direct(
        "vfdirect",
        &format!(
            r#"{{"Image":"{IMAGE}","Cmd":["true"],"HostConfig":{{"VolumesFrom":["{}"]}}}}"#,
            holder.name
        ),
    );
    assert_eq!(
        inspect(&direct.name)["Mounts"][0]["Source"],
        outside.path().to_str().unwrap()
    );
    let spare = unique("spare");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let (bait, holder, spare, stop) = (
            bait.name.clone(),
            holder.name.clone(),
            spare.clone(),
            stop.clone(),
        );
        std::thread::spawn(move || {
            let host = engine();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for (from, to) in [(&bait, &spare), (&holder, &bait), (&spare, &holder)] {
                    let _ = docker(&host, &["rename", from, to]);
                }
                for (from, to) in [(&bait, &spare), (&holder, &bait), (&spare, &holder)] {
                    let _ = docker(&host, &["rename", from, to]);
                }
            }
        })
    };
    // Named volumes first, so the guard has lookups to make before it
    // forwards the body.
    let volumes: Vec<String> = (0..20)
        .map(|i| format!("\"{}-v{i}:/v{i}\"", bait.name))
        .collect();
    let mut made = Vec::new();
    for _ in 0..15 {
        let name = unique("vfswap");
        let body = format!(
            r#"{{"Image":"{IMAGE}","Cmd":["true"],"HostConfig":{{"Binds":[{}],"VolumesFrom":["{}"]}}}}"#,
            volumes.join(","),
            bait.name
        );
        let (status, answer) = call(
            Some(&relay),
            "POST",
            &format!("/v1.41/containers/create?name={name}"),
            Some(&body),
        );
        match status {
            201 => made.push(Container { name }),
            // Caught between two renames: the engine found no such name.
            400 | 404 if answer.contains("No such container") => {
                assert!(!docker(&engine(), &["inspect", &name]).status.success());
            }
            403 => {
                // Refused: and nothing of it is left on the engine.
                assert!(
                    message(&answer).starts_with("berth: the guard refuses"),
                    "{answer}"
                );
                assert!(!docker(&engine(), &["inspect", &name]).status.success());
            }
            other => panic!("{other}: {answer}"),
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    swapper.join().unwrap();
    // Whatever was made holds no host folder outside the allowed ones.
    for c in &made {
        for m in inspect(&c.name)["Mounts"].as_array().unwrap() {
            assert_ne!(m["Type"], "bind", "{} got {m}", c.name);
        }
    }
    drop(made);
    for i in 0..20 {
        let _ = docker(
            &engine(),
            &["volume", "rm", "-f", &format!("{}-v{i}", bait.name)],
        );
    }
}

#[test]
fn networks_take_their_addresses_from_the_engines_pools() {
    let allowed = tempfile::tempdir().unwrap();
    let (relay, _rules) = guarded(allowed.path());
    // The engine takes any subnet and gateway, and the host routes the
    // addresses to the new bridge from then on.
    let body = |name: &str| {
        format!(
            r#"{{"Name":"{name}","Driver":"bridge","IPAM":{{"Config":[{{"Subnet":"192.0.2.128/25","Gateway":"192.0.2.254"}}]}}}}"#
        )
    };
    let name = unique("hijack");
    let (status, answer) = call(None, "POST", "/v1.41/networks/create", Some(&body(&name)));
    assert_eq!(status, 201, "{answer}");
    let subnet = docker_ok(
        &engine(),
        &[
            "network",
            "inspect",
            "-f",
            "{{(index .IPAM.Config 0).Subnet}}",
            &name,
        ],
    );
    docker_ok(&engine(), &["network", "rm", &name]);
    assert_eq!(subnet.trim(), "192.0.2.128/25");
    refused_by_berth(
        call(
            Some(&relay),
            "POST",
            "/v1.41/networks/create",
            Some(&body(&unique("hijack"))),
        ),
        403,
        "the guard refuses IPAM.Config",
    );
    cli_refused(
        &docker(
            &relay.host(),
            &[
                "network",
                "create",
                "--subnet",
                "192.0.2.0/25",
                &unique("hijack"),
            ],
        ),
        "IPAM.Config",
    );
    // A network from the engine's pools passes.
    let plain = unique("plain");
    docker_ok(&relay.host(), &["network", "create", &plain]);
    docker_ok(&engine(), &["network", "rm", &plain]);
}

#[test]
fn limits_that_reach_the_host_are_refused() {
    let allowed = tempfile::tempdir().unwrap();
    let (relay, _rules) = guarded(allowed.path());
    // The engine takes them: with these the OOM killer would take the
    // host's processes before the container's, and the container could
    // take real-time priority over the host's. (runc sets them at start
    // where the engine may lower and raise them; this machine's sandbox
    // does not let it, so they are shown as the engine keeps them.)
    let name = unique("limits");
    docker_ok(
        &engine(),
        &[
            "create",
            "--name",
            &name,
            "--oom-score-adj",
            "-1000",
            "--ulimit",
            "rtprio=99",
            IMAGE,
            "true",
        ],
    );
    let _made = Container { name: name.clone() };
    let kept = &inspect(&name)["HostConfig"];
    assert_eq!(kept["OomScoreAdj"], -1000);
    assert_eq!(kept["Ulimits"][0]["Name"], "rtprio");
    cli_refused(
        &docker(
            &relay.host(),
            &["run", "--rm", "--oom-score-adj", "-1000", IMAGE, "true"],
        ),
        "the guard refuses HostConfig.OomScoreAdj",
    );
    cli_refused(
        &docker(
            &relay.host(),
            &["run", "--rm", "--ulimit", "rtprio=99", IMAGE, "true"],
        ),
        "the guard refuses HostConfig.Ulimits[0]: the limit \"rtprio\"",
    );
    cli_refused(
        &docker(
            &relay.host(),
            &["run", "--rm", "--oom-kill-disable", IMAGE, "true"],
        ),
        "the guard refuses HostConfig.OomKillDisable",
    );
    // Ordinary limits pass.
    let out = docker_ok(
        &relay.host(),
        &[
            "run",
            "--rm",
            "--ulimit",
            "nofile=512:1024",
            "--oom-score-adj",
            "100",
            IMAGE,
            "sh",
            "-c",
            "ulimit -n",
        ],
    );
    assert_eq!(out.trim(), "512");
}

#[test]
fn copying_out_and_entering_must_be_named_in_a_rule() {
    let c = Container::run("named", &[IMAGE, "sleep", "600"]);
    let export = format!("/v1.41/containers/{}/export", c.name);
    let (status, tar) = call(None, "GET", &export, None);
    assert!(status == 200 && tar.len() > 10_000, "{status}");
    let dir = tempfile::tempdir().unwrap();
    // "Look at containers": `**` covers their reads, not their files.
    let rules = write_file(
        dir.path(),
        "rules",
        b"allow GET /_ping\nallow HEAD /_ping\nallow GET /containers/**\n",
    );
    let relay = Relay::start_with(&engine(), &["--policy", rules.to_str().unwrap()]);
    assert_eq!(
        call(
            Some(&relay),
            "GET",
            &format!("/v1.41/containers/{}/json", c.name),
            None
        )
        .0,
        200
    );
    refused_by_berth(
        call(Some(&relay), "GET", &export, None),
        403,
        "allows no rule",
    );
    refused_by_berth(
        call(
            Some(&relay),
            "GET",
            &format!("/v1.41/containers/{}/archive?path=/bin", c.name),
            None,
        ),
        403,
        "allows no rule",
    );
    // Named, it is allowed.
    let named = write_file(
        dir.path(),
        "named",
        b"allow GET /containers/*/export\nallow GET /containers/**\n",
    );
    let relay = Relay::start_with(&engine(), &["--policy", named.to_str().unwrap()]);
    let (status, tar) = call(Some(&relay), "GET", &export, None);
    assert!(status == 200 && tar.len() > 10_000, "{status}");
}

#[test]
fn checkpoints_are_refused_where_the_guard_is_on() {
    // An experimental engine writes a checkpoint where the client says,
    // making the folder on its host (even when CRIU is missing).
    let (_private, host) = PrivateEngine::unix_with(&["--experimental"]);
    ensure_image(&host);
    let sock = host.strip_prefix("unix://").unwrap().to_owned();
    docker_ok(
        &host,
        &["run", "-d", "--name", "ckpt", IMAGE, "sleep", "600"],
    );
    let outside = tempfile::tempdir().unwrap();
    let target = |n: &str| outside.path().join(n);
    let body = |n: &str| {
        format!(
            r#"{{"CheckpointID":"c1","CheckpointDir":"{}"}}"#,
            target(n).display()
        )
    };
    let _ = std::process::Command::new("curl")
        .args([
            "-sS",
            "--unix-socket",
            &sock,
            "-H",
            "Content-Type: application/json",
        ])
        .args(["--data-binary", &body("direct")])
        .arg("http://engine/v1.41/containers/ckpt/checkpoints")
        .output()
        .unwrap();
    assert!(target("direct").exists(), "the engine made the folder");
    let dir = tempfile::tempdir().unwrap();
    let rules = write_file(dir.path(), "rules", b"allow * /**\n");
    let relay = Relay::start_with(&host, &["--policy", rules.to_str().unwrap()]);
    refused_by_berth(
        call(
            Some(&relay),
            "POST",
            "/v1.41/containers/ckpt/checkpoints",
            Some(&body("berth")),
        ),
        403,
        "a checkpoint is written where the client says",
    );
    assert!(!target("berth").exists());
    refused_by_berth(
        call(
            Some(&relay),
            "POST",
            &format!(
                "/v1.41/containers/ckpt/start?checkpoint=c1&checkpoint-dir={}",
                target("direct").display()
            ),
            None,
        ),
        403,
        "the guard refuses checkpoint",
    );
}

#[test]
fn a_client_that_closes_after_its_call_gets_the_engines_answer() {
    let relay = Relay::start();
    // `Connection: close` (Python's urllib sends it): the engine closes
    // after answering, and the answer still reaches the client.
    let out = curl(
        Some(&relay),
        &["-sS", "-H", "Connection: close", "-w", "\n%{http_code}"],
        "/_ping",
    );
    assert_eq!(text(&out.stdout), "OK\n200");
    let name = unique("close");
    let out = curl(
        Some(&relay),
        &[
            "-sS",
            "-H",
            "Connection: close",
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &format!(r#"{{"Image":"{IMAGE}","Cmd":["true"]}}"#),
            "-w",
            "\n%{http_code}",
        ],
        &format!("/v1.41/containers/create?name={name}"),
    );
    let _made = Container { name: name.clone() };
    assert!(
        text(&out.stdout).ends_with("\n201"),
        "{}",
        text(&out.stdout)
    );
    docker_ok(&engine(), &["inspect", &name]);
}

#[test]
fn a_tmpfs_cannot_remount_what_is_already_there() {
    let allowed = tempfile::tempdir().unwrap();
    let (relay, _rules) = guarded(allowed.path());
    // "remount" makes runc remount what is mounted at that point: the
    // container's /sys, read-only otherwise, becomes writable (and the
    // host's kernel settings with it). A trailing `/` gets past the
    // engine's check for a second mount on /sys.
    let sys = "grep ' /sys ' /proc/mounts";
    let plain = docker_ok(&engine(), &["run", "--rm", IMAGE, "sh", "-c", sys]);
    assert!(plain.contains(" ro,"), "{plain}");
    let remounted = docker_ok(
        &engine(),
        &[
            "run",
            "--rm",
            "--tmpfs",
            "/sys/:remount",
            IMAGE,
            "sh",
            "-c",
            sys,
        ],
    );
    assert!(remounted.contains(" rw,"), "{remounted}");
    cli_refused(
        &docker(
            &relay.host(),
            &["run", "--rm", "--tmpfs", "/sys/:remount", IMAGE, "true"],
        ),
        "the tmpfs option \"remount\" is not known to be safe",
    );
    let mounts = format!(
        r#"{{"Image":"{IMAGE}","HostConfig":{{"Mounts":[{{"Type":"tmpfs","Target":"/sys/","TmpfsOptions":{{"Options":[["remount"]]}}}}]}}}}"#
    );
    refused_by_berth(
        call(
            Some(&relay),
            "POST",
            "/v1.41/containers/create",
            Some(&mounts),
        ),
        403,
        "remount",
    );
    // A tmpfs of a size and mode passes.
    let out = docker_ok(
        &relay.host(),
        &[
            "run",
            "--rm",
            "--tmpfs",
            "/scratch:size=8m,mode=1777,noexec",
            IMAGE,
            "sh",
            "-c",
            "grep ' /scratch ' /proc/mounts",
        ],
    );
    assert!(out.contains("tmpfs"), "{out}");
}

#[test]
fn containers_the_guard_would_refuse_cannot_be_entered_or_read() {
    let allowed = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), "host-only\n").unwrap();
    let (relay, _rules) = guarded(allowed.path());
    // Made on the engine by someone trusted, with a host folder: whoever
    // enters it or copies its files reaches the host's.
    let holder = holding("holder", outside.path(), "/hostsecret");
    let read = docker_ok(
        &engine(),
        &["exec", &holder.name, "cat", "/hostsecret/secret"],
    );
    assert_eq!(read, "host-only\n");
    let words = "the guard refuses the container";
    cli_refused(
        &docker(
            &relay.host(),
            &["exec", &holder.name, "cat", "/hostsecret/secret"],
        ),
        words,
    );
    let dest = tempfile::tempdir().unwrap();
    cli_refused(
        &docker(
            &relay.host(),
            &[
                "cp",
                &format!("{}:/hostsecret/secret", holder.name),
                dest.path().to_str().unwrap(),
            ],
        ),
        words,
    );
    for (method, path) in [
        (
            "GET",
            format!(
                "/v1.41/containers/{}/archive?path=/hostsecret/secret",
                holder.name
            ),
        ),
        (
            "PUT",
            format!("/v1.41/containers/{}/archive?path=/hostsecret", holder.name),
        ),
        ("GET", format!("/v1.41/containers/{}/export", holder.name)),
        (
            "POST",
            format!("/v1.41/containers/{}/attach?stream=1&stdout=1", holder.name),
        ),
    ] {
        let got = call(Some(&relay), method, &path, None);
        assert!(!got.1.contains("host-only"), "{method} {path}");
        refused_by_berth(got, 403, words);
    }
    // An exec made on the engine cannot be started through berth either.
    let exec: Value = serde_json::from_str(
        &call(
            None,
            "POST",
            &format!("/v1.41/containers/{}/exec", holder.name),
            Some(r#"{"Cmd":["cat","/hostsecret/secret"],"AttachStdout":true}"#),
        )
        .1,
    )
    .unwrap();
    let start = format!("/v1.41/exec/{}/start", exec["Id"].as_str().unwrap());
    refused_by_berth(
        call(Some(&relay), "POST", &start, Some(r#"{"Detach":false}"#)),
        403,
        words,
    );
    // Nor can the console's terminal attach to it.
    let out = curl(
        Some(&relay),
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            &format!(r#"{{"attach":"{}"}}"#, holder.name),
        ],
        "/_berth/sessions",
    );
    assert!(text(&out.stdout).contains(words), "{}", text(&out.stdout));
}

#[test]
fn a_guarded_relay_hands_out_no_environment_values() {
    let c = Container::run(
        "env",
        &[
            "-e",
            "BERTH_TOKEN=0123456789abcdef0123",
            "-e",
            "PLAIN=1",
            IMAGE,
            "sleep",
            "600",
        ],
    );
    let direct = inspect(&c.name);
    assert!(direct["Config"]["Env"]
        .to_string()
        .contains("0123456789abcdef0123"));
    let relay = read_only();
    let seen = docker_ok(&relay.host(), &["inspect", &c.name]);
    assert!(!seen.contains("0123456789abcdef"), "{seen}");
    let seen: Value = serde_json::from_str(&seen).unwrap();
    let env = seen[0]["Config"]["Env"].as_array().unwrap();
    assert!(env.iter().any(|e| e == "BERTH_TOKEN=…"), "{env:?}");
    assert!(env.iter().any(|e| e == "PLAIN=…"), "{env:?}");
}

#[test]
fn writing_into_a_container_must_be_named_in_a_rule() {
    let c = Container::run("putarchive", &[IMAGE, "sleep", "600"]);
    // A file into the container (code it will run, say) is a write the
    // engine makes.
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "planted", b"planted\n");
    let tar = dir.path().join("p.tar");
    assert!(std::process::Command::new("tar")
        .args([
            "-C",
            dir.path().to_str().unwrap(),
            "-cf",
            tar.to_str().unwrap(),
            "planted"
        ])
        .status()
        .unwrap()
        .success());
    let put = |via: Option<&Relay>| {
        call_with(
            via,
            "PUT",
            &format!("/v1.41/containers/{}/archive?path=/tmp", c.name),
            None,
            &[
                "-H",
                "Content-Type: application/x-tar",
                "--data-binary",
                &format!("@{}", tar.display()),
            ],
        )
    };
    assert_eq!(put(None).0, 200);
    assert_eq!(
        docker_ok(&engine(), &["exec", &c.name, "cat", "/tmp/planted"]),
        "planted\n"
    );
    let rules = write_file(
        dir.path(),
        "rules",
        b"allow GET /_ping\nallow * /containers/**\n",
    );
    let relay = Relay::start_with(&engine(), &["--policy", rules.to_str().unwrap()]);
    refused_by_berth(put(Some(&relay)), 403, "allows no rule");
}

#[test]
fn a_build_takes_no_limits_a_create_is_refused() {
    let allowed = tempfile::tempdir().unwrap();
    let (relay, _rules) = guarded(allowed.path());
    let ctx = tempfile::tempdir().unwrap();
    write_file(
        ctx.path(),
        "Dockerfile",
        format!("FROM {IMAGE}\nRUN true\n").as_bytes(),
    );
    let build = |host: &str| {
        docker(
            host,
            &[
                "build",
                "--no-cache",
                "--ulimit",
                "rtprio=99",
                "-q",
                ctx.path().to_str().unwrap(),
            ],
        )
    };
    // The engine sets the limit for the build's RUN step (this machine's
    // sandbox refuses to raise it, which shows that it was asked to).
    let direct = build(&engine());
    let said = text(&direct.stdout) + &text(&direct.stderr);
    assert!(said.contains("rlimit") || direct.status.success(), "{said}");
    cli_refused(&build(&relay.host()), "the guard refuses");
}

#[test]
fn a_create_whose_client_hangs_up_is_still_judged_and_audited() {
    let allowed = tempfile::tempdir().unwrap();
    let (relay, _rules) = guarded(allowed.path());
    let name = unique("hangup");
    // Named volumes: lookups to make after the engine answers, while the
    // connection is gone.
    let volumes: Vec<String> = (0..20).map(|i| format!("\"{name}-v{i}:/v{i}\"")).collect();
    let body = format!(
        r#"{{"Image":"{IMAGE}","Cmd":["true"],"HostConfig":{{"Binds":[{}]}}}}"#,
        volumes.join(",")
    );
    let request = format!(
        "POST /v1.41/containers/create?name={name} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    // Sent, then the connection reset (RST) the moment the engine says it
    // made the container (its events stream), before berth has answered.
    let reset = std::process::Command::new("python3")
        .args([
            "-c",
            "import socket, struct, sys\n\
             port, name, request, sock = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]\n\
             ev = socket.socket(socket.AF_UNIX)\n\
             ev.connect(sock)\n\
             ev.sendall(b'GET /v1.41/events HTTP/1.1\\r\\nHost: e\\r\\n\\r\\n')\n\
             s = socket.create_connection(('127.0.0.1', port))\n\
             s.sendall(request.encode())\n\
             seen = b''\n\
             while b'\"create\"' not in seen or name.encode() not in seen:\n\
             \x20   seen += ev.recv(65536)\n\
             s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n\
             s.close()\n",
            &relay.port.to_string(),
            &name,
            &request,
            engine_socket().to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(reset.success());
    let _made = Container { name: name.clone() };
    wait_for(
        "the abandoned create's audit line",
        Duration::from_secs(20),
        || {
            relay.log().lines().any(|l| {
                l.contains("berth::audit")
                    && l.contains("route=/containers/create")
                    && l.contains("status=201")
            })
        },
    );
    drop(_made);
    for v in volumes
        .iter()
        .filter_map(|v| v.trim_matches('"').split(':').next())
    {
        let _ = docker(&engine(), &["volume", "rm", "-f", v]);
    }
}

//! Shipping (issue 6): the release relay carries the console; the image
//! FROM scratch around the static binary, run by the repository's
//! docker-compose.yml with Debian's docker-compose, replaces the socat
//! container: the console and `docker -H` answer through the published port.

use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};

use crate::util::*;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn static_bin() -> String {
    std::env::var("BERTH_TEST_STATIC_BIN").unwrap_or_else(|_| {
        panic!("BERTH_TEST_STATIC_BIN is not set: scripts/test builds the static relay and sets it")
    })
}

/// docker-compose with the repository's file, `envs` set, against the test
/// engine.
fn compose(project: &str, envs: &[(&str, String)], args: &[&str]) -> std::process::Output {
    Command::new("docker-compose")
        .env("DOCKER_HOST", engine())
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .args(["--no-ansi", "-p", project, "-f"])
        .arg(format!("{ROOT}/docker-compose.yml"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("docker-compose (scripts/test installs Debian's)")
}

struct Down(String, Vec<(&'static str, String)>, String);

impl Drop for Down {
    fn drop(&mut self) {
        let _ = compose(&self.0, &self.1, &["down", "-t", "1"]);
        let _ = docker(&engine(), &["rmi", "-f", &self.2]);
    }
}

#[test]
fn compose_runs_berth_from_a_scratch_image_in_place_of_socat() {
    // The image, as scripts/image builds it.
    let context = tempfile::tempdir().unwrap();
    std::fs::copy(static_bin(), context.path().join("berth")).unwrap();
    std::fs::copy(
        format!("{ROOT}/Dockerfile.static"),
        context.path().join("Dockerfile.static"),
    )
    .unwrap();
    let tag = format!("{}:1", unique("image"));
    let dockerfile = context.path().join("Dockerfile.static");
    docker_ok(
        &engine(),
        &[
            "build",
            "-q",
            "-f",
            dockerfile.to_str().unwrap(),
            "-t",
            &tag,
            context.path().to_str().unwrap(),
        ],
    );
    // Nothing but the binary, run as nobody.
    let layers = docker_ok(&engine(), &["history", "-q", &tag]);
    let user = docker_ok(
        &engine(),
        &["image", "inspect", "-f", "{{.Config.User}}", &tag],
    );
    assert_eq!(user.trim(), "65534:65534");
    assert!(layers.lines().count() <= 8, "{layers}");

    let project = unique("deploy").replace('-', "");
    let port = free_port();
    let token = "compose-test-token-0123456789";
    let socket = engine_socket();
    let gid = std::fs::metadata(&socket).unwrap().gid();
    let envs = vec![
        ("BERTH_IMAGE", tag.clone()),
        ("BERTH_PORT", port.to_string()),
        ("DOCKER_SOCKET", socket.display().to_string()),
        ("DOCKER_GID", gid.to_string()),
        ("BERTH_TOKEN", token.to_owned()),
    ];
    // Without a token compose refuses to start it, and says why.
    let no_token: Vec<_> = envs
        .iter()
        .filter(|(k, _)| *k != "BERTH_TOKEN")
        .cloned()
        .collect();
    let refused = compose(&project, &no_token, &["config"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("set BERTH_TOKEN"),
        "{}",
        text(&refused.stderr)
    );

    let _down = Down(project.clone(), envs.clone(), tag.clone());
    let up = compose(&project, &envs, &["up", "-d", "--no-build"]);
    assert!(up.status.success(), "{}", text(&up.stderr));
    let container = format!("{project}_berth_1");
    wait_for(
        "berth to be healthy",
        std::time::Duration::from_secs(60),
        || {
            docker_ok(
                &engine(),
                &["inspect", "-f", "{{.State.Health.Status}}", &container],
            )
            .trim()
                == "healthy"
        },
    );

    // The console, from the binary: only 127.0.0.1 is published.
    let ports = docker_ok(&engine(), &["port", &container]);
    assert_eq!(ports.trim(), format!("2375/tcp -> 127.0.0.1:{port}"));
    let url = format!("http://127.0.0.1:{port}");
    let page = Command::new("curl")
        .args(["-sS", "--max-time", "10", &format!("{url}/console/")])
        .output()
        .unwrap();
    let html = text(&page.stdout);
    assert!(html.contains("<html") && html.contains(".wasm"), "{html}");
    let wasm = html
        .split('"')
        .find(|s| s.starts_with("/console/") && s.ends_with(".wasm"))
        .unwrap_or_else(|| panic!("no wasm in {html}"))
        .to_owned();
    let head = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-D",
            "-",
            "-H",
            "Accept-Encoding: gzip",
        ])
        .arg(format!("{url}{wasm}"))
        .output()
        .unwrap();
    let head = text(&head.stdout).to_lowercase();
    assert!(
        head.contains("200")
            && head.contains("content-encoding: gzip")
            && head.contains("application/wasm"),
        "{head}"
    );

    // The stock docker CLI through it, with the token from its config.
    let config = tempfile::tempdir().unwrap();
    write_file(
        config.path(),
        "config.json",
        format!(r#"{{"HttpHeaders": {{"Authorization": "Bearer {token}"}}}}"#).as_bytes(),
    );
    let ps = Command::new("docker")
        .args([
            "-H",
            &format!("tcp://127.0.0.1:{port}"),
            "ps",
            "--format",
            "{{.Names}}",
        ])
        .env("DOCKER_CONFIG", config.path())
        .env_remove("DOCKER_HOST")
        .output()
        .unwrap();
    assert!(
        text(&ps.stdout).contains(&container),
        "{}",
        text(&ps.stderr)
    );
    // And without the token, a clear refusal.
    let anonymous = docker(&format!("tcp://127.0.0.1:{port}"), &["ps"]);
    assert!(!anonymous.status.success());
    assert!(
        text(&anonymous.stderr).to_lowercase().contains("token"),
        "{}",
        text(&anonymous.stderr)
    );
}

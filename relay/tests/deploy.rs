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
        let _ = compose(&self.0, &self.1, &["down", "-v", "-t", "1"]);
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
    std::fs::create_dir(context.path().join("record")).unwrap();
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
    // The flight recorder records into its named volume, as nobody.
    let health = Command::new("curl")
        .args(["-sS", "-H", &format!("Authorization: Bearer {token}")])
        .arg(format!("{url}/_berth/health"))
        .output()
        .unwrap();
    assert!(
        text(&health.stdout).contains(r#""recorder":"recording""#),
        "{}",
        text(&health.stdout)
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

#[tokio::test(flavor = "multi_thread")]
async fn one_console_drives_two_relays_in_front_of_two_engines() {
    use crate::browser::console_dir;
    use crate::chromium::Browser;

    let (_second, host2) = PrivateEngine::unix();
    ensure_image(&host2);
    let there = unique("there");
    docker_ok(
        &host2,
        &["run", "-d", "--name", &there, IMAGE, "sleep", "600"],
    );
    let here = Container::run("here", &[IMAGE, "sleep", "600"]);
    let first = Relay::start_with(&engine(), &["--console-dir", &console_dir()]);
    let token = "second-relay-token-0123456789";
    // The second relay admits the first one's console, and wants a token.
    let second = Relay::spawn(
        &["--engine", &host2, "--allow-origin", &first.url("")],
        &[("BERTH_TOKEN", token)],
    );

    let b = Browser::start().await;
    b.client.goto(&first.url("/console/engines")).await.unwrap();
    b.wait_text("tr[data-engine='This relay'] [data-engine-health]", |t| {
        t.contains("ok")
    })
    .await;
    for (field, value) in [
        ("[data-engine-name]", "second"),
        ("[data-engine-url]", &second.url("/")),
        ("[data-engine-token]", token),
    ] {
        b.css(field).await.send_keys(value).await.unwrap();
    }
    b.click("[data-action=add-engine]").await;
    let row = b
        .wait_text("tr[data-engine='second']", |t| t.contains("1 running"))
        .await;
    assert!(row.contains("ok") && row.contains("Docker 20.10"), "{row}");

    // The list survives a reload; the search finds a container anywhere.
    b.client.refresh().await.unwrap();
    b.wait_text("tr[data-engine='second'] [data-engine-counts]", |t| {
        t.contains("1 running")
    })
    .await;
    b.css("[data-engine-search]")
        .await
        .send_keys(&there)
        .await
        .unwrap();
    let found = b
        .wait_text(&format!("[data-found='{there}']"), |t| {
            t.contains("on second")
        })
        .await;
    assert!(found.contains("running"), "{found}");

    // Chosen, it opens the container on the second engine, and the console
    // drives that engine from then on.
    b.click(&format!("[data-found='{there}'] button")).await;
    b.wait_text("[data-container-name]", |t| t.contains(&there))
        .await;
    b.css("[data-current-engine=second]").await;
    b.client
        .goto(&first.url("/console/containers"))
        .await
        .unwrap();
    b.css(&format!("tr[data-container='{there}']")).await;
    assert!(b
        .client
        .find_all(fantoccini::Locator::Css(&format!(
            "tr[data-container='{}']",
            here.name
        )))
        .await
        .unwrap()
        .is_empty());
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn under_a_base_path_the_console_and_the_api_answer_with_or_without_it() {
    use crate::browser::console_dir;
    use crate::chromium::Browser;

    let c = Container::run("based", &[IMAGE, "sleep", "600"]);
    let relay = Relay::start_with(
        &engine(),
        &["--console-dir", &console_dir(), "--base-path", "/berth/"],
    );
    // A proxy that keeps the path, and one that strips it.
    for path in ["/berth/_ping", "/_ping"] {
        assert_eq!(text(&curl(Some(&relay), &[], path).stdout), "OK", "{path}");
    }
    let home = text(&curl(Some(&relay), &["-D", "-", "-o", "/dev/null"], "/berth/").stdout);
    assert!(
        home.to_lowercase().contains("location: /berth/console/"),
        "{home}"
    );
    let page = text(&curl(Some(&relay), &[], "/berth/console/containers").stdout);
    assert!(
        page.contains("'/berth/console/") && !page.contains("'/console/"),
        "{page}"
    );

    // The console under it: its files and its calls carry the base path.
    let b = Browser::start().await;
    b.client
        .goto(&relay.url("/berth/console/containers"))
        .await
        .unwrap();
    b.css(&format!("tr[data-container='{}']", c.name)).await;
    let urls = b
        .client
        .execute(
            "return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname);",
            vec![],
        )
        .await
        .unwrap();
    let urls: Vec<String> = serde_json::from_value(urls).unwrap();
    assert!(urls.iter().any(|u| u.starts_with("/berth/v1.")), "{urls:?}");
    assert!(
        urls.iter()
            .any(|u| u.starts_with("/berth/console/") && u.ends_with(".wasm")),
        "{urls:?}"
    );
    assert!(
        // The browser's own favicon request aside.
        urls.iter()
            .all(|u| u.starts_with("/berth/") || u == "/favicon.ico"),
        "called outside the base path: {urls:?}"
    );
    // Links keep it too.
    b.click(&format!("tr[data-container='{}'] a", c.name)).await;
    b.wait_text("[data-container-name]", |t| t.contains(&c.name))
        .await;
    let at = b.client.current_url().await.unwrap();
    assert!(at.path().starts_with("/berth/console/containers/"), "{at}");
    b.end().await;
}

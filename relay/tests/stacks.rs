//! Compose stacks (issue 5), made by Debian's `docker-compose` against the
//! test engine, and Swarm on a private engine of the test's own.

use std::process::Command;

use crate::browser::{open, WAIT};
use crate::util::*;

/// `docker-compose -p project -f file args…` against the test engine.
fn compose(project: &str, file: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("docker-compose")
        .env("DOCKER_HOST", engine())
        .env("COMPOSE_INTERACTIVE_NO_CLI", "1")
        .args(["--no-ansi", "-p", project, "-f"])
        .arg(file)
        .args(args)
        .output()
        .expect("docker-compose (scripts/test installs Debian's)");
    assert!(
        out.status.success(),
        "docker-compose {args:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Takes a compose project down when the test ends, pass or fail.
struct Down(String, std::path::PathBuf);

impl Drop for Down {
    fn drop(&mut self) {
        let _ = Command::new("docker-compose")
            .env("DOCKER_HOST", engine())
            .args(["--no-ansi", "-p", &self.0, "-f"])
            .arg(&self.1)
            .args(["down", "-v", "-t", "1"])
            .output();
    }
}

fn states(project: &str) -> Vec<String> {
    docker_ok(
        &engine(),
        &[
            "ps",
            "-a",
            "--filter",
            &format!("label=com.docker.compose.project={project}"),
            "--format",
            "{{.State}}",
        ],
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_made_by_docker_compose_is_listed_and_stopped_as_a_stack() {
    let project = unique("stack");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("docker-compose.yml");
    let say = |what: &str| {
        format!("[\"sh\", \"-c\", \"echo {what}-says-hi; trap 'exit 0' TERM; while true; do sleep 1; done\"]")
    };
    std::fs::write(
        &file,
        format!(
            "version: \"3.7\"\nservices:\n  web:\n    image: {IMAGE}\n    command: {}\n  worker:\n    image: {IMAGE}\n    command: {}\n",
            say("web"),
            say("worker")
        ),
    )
    .unwrap();
    let _down = Down(project.clone(), file.clone());
    compose(&project, &file, &["up", "-d"]);

    let (_relay, b) = open(&engine(), "/console/stacks").await;
    let row = format!("tr[data-stack='{project}']");
    let shown = b
        .wait_text(&row, |t| {
            t.contains("2 services") && t.contains("2 running")
        })
        .await;
    assert!(shown.contains("docker-compose.yml"), "{shown}");

    // Its page: services, both containers' logs merged.
    b.click(&format!("{row} a")).await;
    let services = b
        .wait_text("[data-stack-services]", |t| t.contains("worker"))
        .await;
    assert!(services.contains("web"), "{services}");
    b.wait_text(".log-view", |t| {
        t.contains("web-says-hi") && t.contains("worker-says-hi")
    })
    .await;

    // Stopped as a stack: compose agrees.
    b.click("[data-stack-action=stop]").await;
    b.wait_text("[data-bulk-done=true]", |t| t.contains("all 2 done"))
        .await;
    assert!(wait_until(WAIT, || states(&project) == ["exited", "exited"]));
    b.wait_text("[data-stack-summary]", |t| t.contains("2 exited"))
        .await;
    let ps = compose(&project, &file, &["ps"]);
    assert!(ps.matches("Exit").count() == 2, "{ps}");

    // Removed after asking: containers and the network compose made.
    b.click("[data-stack-action=remove]").await;
    b.click("[data-action=confirm-remove]").await;
    b.css("[data-stack-empty]").await;
    assert!(wait_until(WAIT, || states(&project).is_empty()));
    let net = format!("{project}_default");
    assert!(wait_until(WAIT, || !docker(
        &engine(),
        &["network", "inspect", &net]
    )
    .status
    .success()));
    b.end().await;
}

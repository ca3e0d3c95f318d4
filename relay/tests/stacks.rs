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
    let stop = b
        .by_name("button", &format!("Stop the stack {project}"))
        .await;
    b.reveal(&stop, "the stack's stop").await;
    stop.click().await.unwrap();
    b.wait_text("[data-bulk-done=true]", |t| t.contains("all 2 done"))
        .await;
    assert!(wait_until(WAIT, || states(&project) == ["exited", "exited"]));
    b.wait_text("[data-stack-summary]", |t| t.contains("2 exited"))
        .await;
    let ps = compose(&project, &file, &["ps"]);
    assert!(ps.matches("Exit").count() == 2, "{ps}");

    // Removed after asking: containers and the network compose made.
    b.by_name("button", &format!("Remove the stack {project}"))
        .await
        .click()
        .await
        .unwrap();
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

#[tokio::test(flavor = "multi_thread")]
async fn swarm_services_are_created_scaled_to_three_and_removed_and_nodes_drain() {
    // Not a Swarm: the page says so and how to start one.
    let (_relay, b) = open(&engine(), "/console/swarm").await;
    let outside = b
        .wait_text("[data-swarm-outside]", |t| t.contains("docker swarm init"))
        .await;
    assert!(outside.contains("not part of a Swarm"), "{outside}");
    b.end().await;

    // A single-node Swarm on a private engine of this test's own.
    let (_private, host) = PrivateEngine::unix();
    ensure_image(&host);
    let port = free_port().to_string();
    docker_ok(
        &host,
        &[
            "swarm",
            "init",
            "--advertise-addr",
            &format!("127.0.0.1:{port}"),
            "--listen-addr",
            &format!("127.0.0.1:{port}"),
        ],
    );
    let (_relay, b) = open(&host, "/console/swarm").await;
    let node = b
        .wait_text("[data-nodes] tbody tr", |t| t.contains("leader"))
        .await;
    assert!(node.contains("ready") && node.contains("active"), "{node}");

    // Created from the form, with a command whose output shows in its logs.
    let name = unique("svc");
    b.css("[data-new-service]").await.click().await.unwrap();
    for (field, value) in [
        ("#service-name", name.as_str()),
        ("#service-image", IMAGE),
        ("#service-command", "sh -c 'echo task-says-hi; sleep 600'"),
    ] {
        b.css(field).await.send_keys(value).await.unwrap();
    }
    b.click("[data-action=create-service]").await;
    let row = format!("tr[data-service='{name}']");
    b.wait_text(&format!("{row} [data-service-tasks]"), |t| {
        t.starts_with("1/1")
    })
    .await;

    // Scaled from 1 to 3: three running tasks.
    let scale = b.css(&format!("{row} [data-scale]")).await;
    scale.clear().await.unwrap();
    scale.send_keys("3").await.unwrap();
    b.click(&format!("{row} [data-action=scale]")).await;
    b.wait_text(&format!("{row} [data-service-tasks]"), |t| {
        t.starts_with("3/3")
    })
    .await;
    b.click(&format!("{row} [data-action=tasks]")).await;
    wait_for("three running tasks", WAIT, || {
        docker_ok(
            &host,
            &[
                "service",
                "ps",
                "-q",
                "--filter",
                "desired-state=running",
                &name,
            ],
        )
        .lines()
        .count()
            == 3
    });
    let start = std::time::Instant::now();
    loop {
        let running = b
            .client
            .find_all(fantoccini::Locator::Css(
                "[data-tasks] tr[data-task-state=running]",
            ))
            .await
            .unwrap()
            .len();
        if running == 3 {
            break;
        }
        assert!(start.elapsed() < WAIT, "{running} running tasks shown");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    b.wait_text("[data-service-detail] .log-view", |t| {
        t.contains("task-says-hi")
    })
    .await;

    // A new image, rolled out by the engine: the spec and the row say so.
    let v2 = "berth-test/busybox:v2";
    docker_ok(&host, &["tag", IMAGE, v2]);
    let image = b.css(&format!("{row} [data-new-image]")).await;
    image.clear().await.unwrap();
    image.send_keys(v2).await.unwrap();
    b.click(&format!("{row} [data-action=update-image]")).await;
    b.wait_text(&row, |t| t.contains(v2)).await;
    let spec = docker_ok(
        &host,
        &[
            "service",
            "inspect",
            "-f",
            "{{.Spec.TaskTemplate.ContainerSpec.Image}}",
            &name,
        ],
    );
    assert!(spec.starts_with(v2), "{spec}");

    // The node drained: its tasks go; activated again.
    b.click("[data-node-action=drain]").await;
    b.wait_text("[data-availability]", |t| t.trim() == "drain")
        .await;
    assert_eq!(
        docker_ok(
            &host,
            &["node", "inspect", "self", "-f", "{{.Spec.Availability}}"]
        )
        .trim(),
        "drain"
    );
    b.click("[data-node-action=activate]").await;
    b.wait_text("[data-availability]", |t| t.trim() == "active")
        .await;

    // Removed after asking.
    b.click(&format!("{row} [data-action=remove]")).await;
    b.click("[data-action=confirm]").await;
    b.gone(&row).await;
    assert!(docker_ok(&host, &["service", "ls", "-q"]).trim().is_empty());
    b.end().await;
}

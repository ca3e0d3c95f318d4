//! The containers list's bulk actions, grouping, keyboard and live usage,
//! the command palette, merged logs, and the create form, in a real
//! headless Chromium against the real engine.

use std::time::Duration;

use fantoccini::key::Key;

use crate::browser::{open, open_with, quick_stopping, WAIT};
use crate::util::*;

fn row(name: &str) -> String {
    format!("tr[data-container='{name}']")
}

#[tokio::test(flavor = "multi_thread")]
async fn bulk_stop_stops_all_selected_and_reports_each() {
    let cs: Vec<Container> = (0..3).map(|_| quick_stopping("bulk")).collect();
    let bystander = quick_stopping("bulk-not");
    let (_relay, b) = open(&engine(), "/console/containers").await;
    // Found as a screen reader names them.
    for c in &cs {
        let pick = b.by_name("checkbox", &format!("Select {}", c.name)).await;
        b.wait_on_screen(&pick, "the row's checkbox").await;
        pick.click().await.unwrap();
    }
    b.wait_text("[data-bulk-bar]", |t| t.contains("3 selected"))
        .await;
    let stop = b.by_name("button", "Stop the 3 selected").await;
    b.wait_on_screen(&stop, "the bulk stop").await;
    stop.click().await.unwrap();
    let summary = b
        .wait_text("section.bulk[data-bulk-done=true]", |t| {
            t.contains("all 3 done")
        })
        .await;
    for c in &cs {
        assert!(summary.contains(&c.name), "{summary}");
        assert_eq!(c.state(), "exited");
    }
    assert_eq!(bystander.state(), "running");
    // The list shows it without a reload.
    for c in &cs {
        b.css(&format!("{}[data-state=exited]", row(&c.name))).await;
    }
    // Bulk remove asks first, then removes each.
    for c in &cs[..2] {
        b.by_name("checkbox", &format!("Select {}", c.name))
            .await
            .click()
            .await
            .unwrap();
    }
    b.by_name("button", "Remove the 2 selected")
        .await
        .click()
        .await
        .unwrap();
    b.css("[data-action=confirm-remove]")
        .await
        .click()
        .await
        .unwrap();
    b.wait_text("section.bulk[data-bulk-done=true]", |t| {
        t.contains("all 2 done")
    })
    .await;
    for c in &cs[..2] {
        assert!(!docker(&engine(), &["inspect", &c.name]).status.success());
    }
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_compose_project_is_a_group_with_stack_actions() {
    let project = unique("proj");
    let label = format!("com.docker.compose.project={project}");
    let script = "trap 'exit 0' TERM; sleep 600 & wait";
    let a = Container::run("stack-a", &["--label", &label, IMAGE, "sh", "-c", script]);
    let b_c = Container::run("stack-b", &["--label", &label, IMAGE, "sh", "-c", script]);
    let (_relay, b) = open(&engine(), "/console/containers").await;
    b.css("[data-group-projects]").await.click().await.unwrap();
    let head = b
        .wait_text(&format!("tr.group[data-project='{project}']"), |t| {
            t.contains("2 containers, 2 running")
        })
        .await;
    assert!(head.contains(&project), "{head}");
    b.by_name("button", &format!("Stop the project {project}"))
        .await
        .click()
        .await
        .unwrap();
    assert!(wait_until(WAIT, || a.state() == "exited" && b_c.state() == "exited"));
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn j_k_and_enter_walk_the_list_and_the_palette_jumps() {
    let c = quick_stopping("keys");
    let (_relay, b) = open(&engine(), "/console/containers").await;
    b.css(&row(&c.name)).await;
    // Narrow the list to the one container, then walk to it.
    b.css("input[type=search]")
        .await
        .send_keys(&c.name)
        .await
        .unwrap();
    b.css("body").await.click().await.unwrap();
    let body = b.css("body").await;
    body.send_keys("j").await.unwrap();
    b.css(&format!("{}.focused", row(&c.name))).await;
    body.send_keys(&Key::Enter.to_string()).await.unwrap();
    b.wait_text("[data-container-name]", |t| t.contains(&c.name))
        .await;

    // Ctrl-K, a few letters, Enter.
    b.client.goto(&_relay.url("/console/")).await.unwrap();
    b.css("header.top").await;
    let body = b.css("body").await;
    body.send_keys(&format!("{}k", Key::Control)).await.unwrap();
    let input = b.css("[data-palette-input]").await;
    input
        .send_keys(&format!("logs of {}", c.name))
        .await
        .unwrap();
    b.css(&format!("[data-palette-item='Logs of {}']", c.name))
        .await;
    input.send_keys(&Key::Enter.to_string()).await.unwrap();
    b.wait_text(".log-view", |t| t.contains("ready")).await;
    let url = b.client.current_url().await.unwrap();
    assert!(url.path().ends_with("/logs"), "{url}");
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn running_rows_show_live_cpu_and_memory() {
    let c = quick_stopping("usage");
    let (_relay, b) = open(&engine(), "/console/containers").await;
    let usage = b
        .wait_text(&format!("{} [data-usage]", row(&c.name)), |t| {
            t.contains('%')
        })
        .await;
    assert!(usage.contains("iB"), "{usage}");
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn merged_logs_interleave_containers_with_their_names() {
    let a = Container::run(
        "merge-a",
        &[IMAGE, "sh", "-c", "echo alpha-line; sleep 600"],
    );
    let c = Container::run(
        "merge-b",
        &[IMAGE, "sh", "-c", "echo beta-line >&2; sleep 600"],
    );
    wait_for("both logged", WAIT, || {
        docker(&engine(), &["logs", &c.name])
            .stderr
            .ends_with(b"beta-line\n")
    });
    let ids = format!("{},{}", a.name, c.name);
    let (_relay, b) = open(&engine(), &format!("/console/logs?ids={ids}")).await;
    let shown = b
        .wait_text(".log-view", |t| {
            t.contains("alpha-line") && t.contains("beta-line")
        })
        .await;
    assert!(
        shown.contains(&a.name) && shown.contains(&c.name),
        "{shown}"
    );
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_create_form_checks_fields_and_makes_the_container() {
    let name = unique("created");
    // Through a guarded relay: what the form sends passes the guard.
    let rules_dir = tempfile::tempdir().unwrap();
    let rules = write_file(rules_dir.path(), "rules", b"allow * /**\n");
    let (_relay, b) = open_with(
        &engine(),
        &["--policy", rules.to_str().unwrap()],
        "/console/create",
    )
    .await;
    b.css("#image").await.send_keys(IMAGE).await.unwrap();
    b.css("#name").await.send_keys(&name).await.unwrap();
    b.css("#command")
        .await
        .send_keys("sleep 600")
        .await
        .unwrap();
    b.css("#env")
        .await
        .send_keys("GREETING=hello world\nMODE=test")
        .await
        .unwrap();
    // A bad port is caught on the field before anything is sent.
    let ports = b.css("#ports").await;
    ports.send_keys("8080:99999").await.unwrap();
    b.css("#name").await.click().await.unwrap();
    b.wait_text("[data-error-for=ports]", |t| t.contains("65535"))
        .await;
    ports
        .send_keys(&Key::Backspace.to_string().repeat(5))
        .await
        .unwrap();
    ports.send_keys("80\n127.0.0.1:9090:90/udp").await.unwrap();
    b.gone("[data-error-for=ports]").await;
    let line = b.text_of("[data-run-line]").await;
    assert!(
        line.contains("-p 8080:80") && line.contains(&format!("--name {name}")),
        "{line}"
    );
    // This engine has no bridge network, so the ports can't be bound: create
    // only.
    b.css("[data-flag=start-now]").await.click().await.unwrap();
    b.css("[data-action=create]").await.click().await.unwrap();
    b.wait_text("[data-container-name]", |t| t.contains(&name))
        .await;
    let _cleanup = Container { name: name.clone() };
    let env = docker_ok(&engine(), &["inspect", "-f", "{{json .Config.Env}}", &name]);
    assert!(
        env.contains("GREETING=hello world") && env.contains("MODE=test"),
        "{env}"
    );
    let ports = docker_ok(
        &engine(),
        &["inspect", "-f", "{{json .HostConfig.PortBindings}}", &name],
    );
    assert!(
        ports.contains(r#""80/tcp":[{"HostIp":"","HostPort":"8080"}]"#),
        "{ports}"
    );
    assert!(
        ports.contains(r#""90/udp":[{"HostIp":"127.0.0.1","HostPort":"9090"}]"#),
        "{ports}"
    );

    // The same name again: the engine's refusal lands on the name field.
    b.client
        .goto(&_relay.url(&format!("/console/create?from={name}")))
        .await
        .unwrap();
    let image = b.css("#image").await;
    let start = std::time::Instant::now();
    while image.prop("value").await.unwrap().unwrap_or_default() != IMAGE {
        assert!(
            start.elapsed() < WAIT,
            "the form was not filled from {name}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let copy = b
        .css("#name")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(copy, format!("{name}-copy"));
    let name_field = b.css("#name").await;
    name_field
        .send_keys(&Key::Backspace.to_string().repeat(5))
        .await
        .unwrap();
    b.css("[data-flag=start-now]").await.click().await.unwrap();
    b.css("[data-action=create]").await.click().await.unwrap();
    b.wait_text("[data-error-for=name]", |t| t.contains("already in use"))
        .await;
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_image_is_pulled_first_and_a_failed_pull_is_said_on_the_field() {
    // No registry is reachable here: the pull fails, in the engine's words.
    let (_relay, b) = open(&engine(), "/console/create").await;
    b.css("#image")
        .await
        .send_keys("berth-test/not-here:1")
        .await
        .unwrap();
    b.css("[data-action=create]").await.click().await.unwrap();
    let err = b
        .wait_text("[data-error-for=image]", |t| t.contains("Could not pull"))
        .await;
    assert!(err.contains("berth-test/not-here"), "{err}");
    b.end().await;
}

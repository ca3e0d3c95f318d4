//! The events timeline in a real headless Chromium (issue 5's first page).

use std::time::{Duration, Instant};

use crate::browser::{open, WAIT};
use crate::util::*;

#[tokio::test(flavor = "multi_thread")]
async fn an_event_appears_within_a_second_and_die_is_highlighted_with_its_code() {
    let (_relay, b) = open(&engine(), "/console/events").await;
    // The stream is open (other tests' events may already be showing).
    b.css("h1[data-events-link=live]").await;

    // Triggered by the test: it must show within a second of happening.
    let name = unique("evt");
    docker_ok(
        &engine(),
        &["create", "--name", &name, IMAGE, "sh", "-c", "exit 3"],
    );
    let _cleanup = Container { name: name.clone() };
    let made = Instant::now();
    let row = format!("tr[data-event-object='{name}'][data-event-action=create]");
    loop {
        if !b
            .client
            .find_all(fantoccini::Locator::Css(&row))
            .await
            .unwrap()
            .is_empty()
        {
            break;
        }
        assert!(
            made.elapsed() < Duration::from_secs(1),
            "not shown within a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Paused: nothing is lost, it is held and shown on resume.
    b.click("[data-events-pause]").await;
    docker_ok(&engine(), &["start", &name]);
    wait_for("it died", WAIT, || {
        docker_ok(&engine(), &["inspect", "-f", "{{.State.Status}}", &name]).trim() == "exited"
    });
    b.wait_text("[data-events-resume]", |t| !t.contains("(0 held)"))
        .await;
    let die = format!("tr.alarm[data-event-object='{name}'][data-event-action=die]");
    assert!(b
        .client
        .find_all(fantoccini::Locator::Css(&die))
        .await
        .unwrap()
        .is_empty());
    b.click("[data-events-resume]").await;
    let details = b.text_of(&die).await;
    assert!(details.contains("exit code 3"), "{details}");

    // The object filter narrows the timeline.
    b.css("[data-events-object]")
        .await
        .send_keys(&name)
        .await
        .unwrap();
    b.wait_text("table.events", |t| t.contains(&name)).await;
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_system_page_shows_usage_and_the_prune_preview_is_what_goes() {
    // Only what carries this test's label is pruned: other tests share the
    // engine.
    let tag = unique("prune");
    let label = format!("berth-prune={tag}");
    let stopped = unique("prune-ct");
    docker_ok(
        &engine(),
        &[
            "create", "--name", &stopped, "--label", &label, IMAGE, "true",
        ],
    );
    let volume = unique("prune-vol");
    docker_ok(&engine(), &["volume", "create", "--label", &label, &volume]);
    let keeper = Container::run("prune-keep", &["--label", &label, IMAGE, "sleep", "600"]);

    let (_relay, b) = open(&engine(), "/console/system").await;
    let total = b.text_of("[data-df-total]").await;
    assert!(total.contains('B'), "{total}");
    b.click("[data-prune='volumes']").await;
    b.css("[data-prune-label]")
        .await
        .send_keys(&format!("{label}\n"))
        .await
        .unwrap();
    b.click("h1").await;
    let preview = b
        .wait_text("[data-prune-preview]", |t| {
            t.contains(&stopped) && t.contains(&volume)
        })
        .await;
    assert!(
        !preview.contains(&keeper.name),
        "a running container in the preview: {preview}"
    );
    b.wait_text("[data-prune-summary]", |t| t.starts_with("2 items"))
        .await;

    b.click("[data-action=prune]").await;
    b.click("[data-action=confirm-prune]").await;
    let done = b
        .wait_text("[data-prune-done]", |t| t.contains("Removed"))
        .await;
    assert!(
        done.contains("1 containers") && done.contains("1 volumes"),
        "{done}"
    );
    assert!(!docker(&engine(), &["inspect", &stopped]).status.success());
    assert!(!docker(&engine(), &["volume", "inspect", &volume])
        .status
        .success());
    assert_eq!(keeper.state(), "running");
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn images_load_from_a_tar_save_remove_and_a_failed_pull_is_said() {
    let tag = format!("berth-load/{}:1", unique("img"));
    docker_ok(&engine(), &["tag", IMAGE, &tag]);
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("image.tar");
    docker_ok(&engine(), &["save", "-o", tar.to_str().unwrap(), &tag]);
    docker_ok(&engine(), &["rmi", &tag]);

    let downloads = tempfile::tempdir().unwrap();
    let relay = Relay::start_with(
        &engine(),
        &["--console-dir", &crate::browser::console_dir()],
    );
    let b = crate::chromium::Browser::start_downloading(downloads.path()).await;
    b.client.goto(&relay.url("/console/images")).await.unwrap();
    b.css("table[data-images]").await;

    // Load: the tar goes up (with a progress bar), the image shows.
    b.client
        .find(fantoccini::Locator::Css("[data-load-tar]"))
        .await
        .unwrap()
        .send_keys(tar.to_str().unwrap())
        .await
        .unwrap();
    let row = format!("tr[data-image='{tag}']");
    b.css(&row).await;
    let said = b.wait_text(".notice", |t| t.contains("Loaded")).await;
    assert!(said.contains(&tag), "{said}");

    // Save: a tar `docker load` would take.
    b.click(&format!("{row} [data-action=save]")).await;
    let saved = format!("{}.tar", tag.replace(['/', ':'], "_"));
    let listing = crate::chromium::downloaded_tar(downloads.path(), &saved);
    assert!(listing.contains("manifest.json"), "{listing}");

    // Remove, after asking.
    b.click(&format!("{row} [data-action=remove]")).await;
    b.click("[data-action=confirm-remove]").await;
    b.gone(&row).await;
    assert!(!docker(&engine(), &["image", "inspect", &tag])
        .status
        .success());

    // No registry here: the pull fails, in the engine's words.
    b.css("[data-pull-ref]")
        .await
        .send_keys("berth-test/not-here:2")
        .await
        .unwrap();
    b.click("[data-action=pull]").await;
    let err = b
        .wait_text("[data-pull-error]", |t| t.contains("Could not pull"))
        .await;
    assert!(err.contains("not-here"), "{err}");
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_network_made_and_connected_here_shows_in_the_container_overview() {
    let c = Container::run("net", &[IMAGE, "sleep", "600"]);
    let net = unique("net");
    let (relay, b) = open(&engine(), "/console/networks").await;
    b.css("[data-network-name]")
        .await
        .send_keys(&net)
        .await
        .unwrap();
    b.click("[data-action=create-network]").await;
    let row = format!("tr[data-network='{net}']");
    b.click(&format!("{row} [data-action=connect]")).await;
    b.css("[data-connect-container]").await;
    let id = docker_ok(&engine(), &["inspect", "-f", "{{.Id}}", &c.name]);
    b.css("[data-connect-container]")
        .await
        .select_by_value(id.trim())
        .await
        .unwrap();
    b.css("[data-connect-alias]")
        .await
        .send_keys("web-alias")
        .await
        .unwrap();
    b.click("[data-action=confirm-connect]").await;
    b.wait_text(&row, |t| t.contains(&c.name)).await;

    b.client
        .goto(&relay.url(&format!("/console/containers/{}", c.name)))
        .await
        .unwrap();
    let nets = b.wait_text("[data-networks]", |t| t.contains(&net)).await;
    assert!(nets.contains("web-alias"), "{nets}");

    // Disconnect, then remove after asking; both through the console.
    b.client
        .goto(&relay.url("/console/networks"))
        .await
        .unwrap();
    b.click(&format!("{row} [data-disconnect='{}']", c.name))
        .await;
    b.wait_text(&row, |t| !t.contains(&c.name)).await;
    b.click(&format!("{row} [data-action=remove]")).await;
    b.click("[data-action=confirm]").await;
    b.gone(&row).await;
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_volume_made_here_is_listed_with_its_user_and_prune_spares_it() {
    let vol = unique("vol");
    let (_relay, b) = open(&engine(), "/console/volumes").await;
    b.css("[data-volume-name]")
        .await
        .send_keys(&vol)
        .await
        .unwrap();
    b.click("[data-action=create-volume]").await;
    let row = format!("tr[data-volume='{vol}']");
    b.css(&row).await;
    let user = Container::run(
        "vol-user",
        &["-v", &format!("{vol}:/data"), IMAGE, "sleep", "600"],
    );
    let shown = b.wait_text(&row, |t| t.contains(&user.name)).await;
    assert!(shown.contains("local"), "{shown}");
    // In use: not in the prune preview (once it has caught up too).
    b.wait_text("[data-prune-preview]", |t| !t.contains(&vol))
        .await;
    drop(user);
    let _ = docker(&engine(), &["volume", "rm", &vol]);
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_image_prune_preview_is_what_goes() {
    let c = Container::run("prune-src", &[IMAGE, "sleep", "600"]);
    let label = unique("berth.prune");
    let filter = format!("{label}=1");
    let change = format!("LABEL {label}=1");
    let commit = |extra: &[&str]| {
        let mut args = vec!["commit", "--change", &change, &c.name];
        args.extend_from_slice(extra);
        docker_ok(&engine(), &args).trim().to_owned()
    };
    let dangling = commit(&[]);
    let tag = format!("berth-prune/{}:1", unique("img"));
    let tagged = commit(&[&tag]);
    let short = |id: &str| id.trim_start_matches("sha256:")[..12].to_owned();
    let exists = |id: &str| {
        docker(&engine(), &["image", "inspect", id])
            .status
            .success()
    };

    let (_relay, b) = open(&engine(), "/console/images").await;
    b.css("[data-prune-label]")
        .await
        .send_keys(&filter)
        .await
        .unwrap();
    let preview = b
        .wait_text("[data-prune-preview]", |t| t.contains(&short(&dangling)))
        .await;
    assert!(preview.contains("(1,"), "{preview}");
    b.click("[data-prune-all]").await;
    let preview = b
        .wait_text("[data-prune-preview]", |t| t.contains(&tag))
        .await;
    assert!(
        preview.contains("(2,") && preview.contains(&short(&dangling)),
        "{preview}"
    );

    // Every unused image with the label goes, and only those.
    b.click("[data-action=prune]").await;
    b.click("[data-action=confirm-prune]").await;
    b.wait_text("[data-pruned]", |t| t.contains("reclaimed"))
        .await;
    assert!(!exists(&dangling) && !exists(&tagged));
    assert!(exists(IMAGE));
    b.wait_text("[data-prune-preview]", |t| t.contains("Nothing would go"))
        .await;
    b.end().await;
}

/// This page's reads of the disk usage: when each began and ended.
async fn df_reads(b: &crate::chromium::Browser) -> Vec<(f64, f64)> {
    let v = b
        .client
        .execute(
            "return performance.getEntriesByType('resource')
               .filter(e => e.name.includes('/system/df'))
               .map(e => [e.startTime, e.responseEnd]);",
            vec![],
        )
        .await
        .unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_f64().unwrap(), r[1].as_f64().unwrap()))
        .collect()
}

/// What a page shows that it should not: an error panel, or the disk
/// usage gone (blank while read again).
async fn troubles(b: &crate::chromium::Browser, kept: &str) -> Vec<String> {
    let found = b
        .client
        .execute(
            "const out = [...document.querySelectorAll('.problem, [data-df-stale], .loading')].map(e => e.textContent);
             if (!document.querySelector(arguments[0])) out.push('no ' + arguments[0]);
             return out;",
            vec![serde_json::json!(kept)],
        )
        .await
        .unwrap();
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn disk_usage_is_read_once_at_a_time_shared_and_never_blanks() {
    // An engine of its own: what changes it here is only what this test does.
    let (_private, host) = PrivateEngine::unix();
    crate::util::ensure_image(&host);
    let relay = Relay::start_with(&host, &["--console-dir", &crate::browser::console_dir()]);
    // Two people: one on the system page, one on the volumes page.
    let system = crate::chromium::Browser::start().await;
    system
        .client
        .goto(&relay.url("/console/system"))
        .await
        .unwrap();
    system.css("[data-df-total]").await;
    let volumes = crate::chromium::Browser::start().await;
    volumes
        .client
        .goto(&relay.url("/console/volumes"))
        .await
        .unwrap();
    volumes.css("h1").await;
    volumes.gone(".loading").await;

    // Choosing what to prune reads nothing again, and nothing blanks.
    let before = df_reads(&system).await.len();
    for what in ["volumes", "all unused images", "build cache", "containers"] {
        system
            .by_name("checkbox", what)
            .await
            .click()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(
            troubles(&system, "[data-df-total]").await,
            Vec::<String>::new()
        );
    }
    assert_eq!(
        df_reads(&system).await.len(),
        before,
        "a checkbox read /system/df"
    );

    // A burst of changes: both pages keep their figures, never an error,
    // while Docker 20.10 refuses a second disk-usage read during one.
    let tag = unique("df-burst");
    let burst = {
        let (tag, host) = (tag.clone(), host.clone());
        std::thread::spawn(move || {
            for i in 0..6 {
                let v = format!("{tag}-{i}");
                docker_ok(&host, &["volume", "create", &v]);
                let _ = docker(
                    &host,
                    &["run", "--rm", "-v", &format!("{v}:/data"), IMAGE, "true"],
                );
                docker_ok(&host, &["volume", "rm", &v]);
            }
        })
    };
    let watched = Instant::now();
    while !burst.is_finished() || watched.elapsed() < Duration::from_secs(3) {
        assert_eq!(
            troubles(&system, "[data-df-total]").await,
            Vec::<String>::new(),
            "system page"
        );
        assert_eq!(
            troubles(&volumes, "h1").await,
            Vec::<String>::new(),
            "volumes page"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    burst.join().unwrap();
    // Events were many (a volume made, a container made, started, gone, the
    // volume gone, six times); reads of the figures fewer, and one at a time.
    let reads = df_reads(&system).await;
    assert!(
        (before + 1..before + 30).contains(&reads.len()),
        "{} reads",
        reads.len() - before
    );
    for pair in reads.windows(2) {
        assert!(pair[1].0 >= pair[0].1, "two reads at once: {pair:?}");
    }

    // What changed shows, read once the changes settle.
    let last = format!("{tag}-last");
    docker_ok(&host, &["volume", "create", &last]);
    volumes.css(&format!("tr[data-volume='{last}']")).await;
    system.end().await;
    volumes.end().await;
}

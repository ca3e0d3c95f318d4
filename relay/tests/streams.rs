//! The relay's fan-in of several engine streams into one response, and
//! ticketed downloads (the console's merged logs, list stats and exports).

use berth_engine::{FaninDecoder, Fanned, MuxDecoder};

use crate::util::*;

fn ticket(relay: &Relay) -> String {
    let out = curl(Some(relay), &["-X", "POST"], "/_berth/tickets");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["ticket"].as_str().unwrap().to_owned()
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[test]
fn fanin_interleaves_streams_and_reports_each_failure_in_words() {
    let a = Container::run("fan-a", &[IMAGE, "sh", "-c", "echo from-a; sleep 600"]);
    let b = Container::run("fan-b", &[IMAGE, "sh", "-c", "echo from-b >&2; sleep 600"]);
    wait_for("both logged", std::time::Duration::from_secs(10), || {
        let logs = docker(&engine(), &["logs", &b.name]);
        text(&logs.stderr).contains("from-b")
    });
    let relay = Relay::start();
    let q = [
        format!("/v1.41/containers/{}/logs?stdout=1&stderr=1", a.name),
        format!("/v1.41/containers/{}/logs?stdout=1&stderr=1", b.name),
        "/v1.41/containers/no-such-thing/logs?stdout=1".to_owned(),
    ]
    .iter()
    .map(|s| format!("s={}", enc(s)))
    .collect::<Vec<_>>()
    .join("&");
    let out = curl(Some(&relay), &[], &format!("/_berth/fanin?{q}"));
    let mut d = FaninDecoder::new();
    d.push(&out.stdout);
    let mut mux = [MuxDecoder::new(), MuxDecoder::new()];
    let (mut lines, mut ended, mut errors) = (vec![], vec![], vec![]);
    while let Some(f) = d.next_frame() {
        match f {
            Fanned::Data { source, bytes } => {
                let m = &mut mux[source as usize];
                m.push(&bytes);
                while let Some(Ok(frame)) = m.next_frame() {
                    lines.push((source, frame.stream, text(&frame.payload)));
                }
            }
            Fanned::End { source } => ended.push(source),
            Fanned::Error { source, message } => errors.push((source, message)),
        }
    }
    lines.sort_by_key(|l| l.0);
    assert_eq!(
        lines,
        [
            (0, berth_engine::StreamKind::Stdout, "from-a\n".into()),
            (1, berth_engine::StreamKind::Stderr, "from-b\n".into())
        ]
    );
    ended.sort();
    assert_eq!(ended, [0, 1]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, 2);
    assert!(errors[0].1.contains("No such container"), "{errors:?}");

    // Paths are checked as the proxy checks them, policy included.
    let bad = curl(
        Some(&relay),
        &["-o", "/dev/null", "-w", "%{http_code}"],
        &format!(
            "/_berth/fanin?s={}",
            enc("/v1.41/containers/x/../../../_berth/config")
        ),
    );
    assert_eq!(text(&bad.stdout), "400");
    let ro_rules = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        ro_rules.path(),
        "deny GET /containers/*/logs\nallow GET /**\n",
    )
    .unwrap();
    let strict = Relay::start_with(&engine(), &["--policy", ro_rules.path().to_str().unwrap()]);
    let denied = curl(
        Some(&strict),
        &["-w", "%{http_code}"],
        &format!(
            "/_berth/fanin?s={}",
            enc(&format!("/containers/{}/logs?stdout=1", a.name))
        ),
    );
    assert!(
        text(&denied.stdout).ends_with("403"),
        "{}",
        text(&denied.stdout)
    );
}

#[test]
fn a_ticket_downloads_one_export_as_an_attachment() {
    let c = Container::run(
        "export",
        &[IMAGE, "sh", "-c", "echo hi > /marker; sleep 600"],
    );
    wait_for("the marker", std::time::Duration::from_secs(10), || {
        docker(&engine(), &["exec", &c.name, "cat", "/marker"])
            .status
            .success()
    });
    let relay = Relay::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.tar");
    let t = ticket(&relay);
    let path = format!(
        "/_berth/download?ticket={t}&path={}&name={}",
        enc(&format!("/v1.41/containers/{}/export", c.name)),
        enc("my export.tar")
    );
    let out = curl(
        Some(&relay),
        &["-D", "-", "-o", file.to_str().unwrap()],
        &path,
    );
    let headers = text(&out.stdout).to_lowercase();
    assert!(
        headers.contains("content-disposition: attachment; filename=\"my_export.tar\""),
        "{headers}"
    );
    let listing = std::process::Command::new("tar")
        .arg("tf")
        .arg(&file)
        .output()
        .unwrap();
    let listing = text(&listing.stdout);
    assert!(listing.lines().any(|l| l == "marker"), "{listing}");
    assert!(listing.lines().any(|l| l == "bin/busybox"), "{listing}");

    // Single use, and no ticket, no download.
    let again = curl(
        Some(&relay),
        &["-o", "/dev/null", "-w", "%{http_code}"],
        &path,
    );
    assert_eq!(text(&again.stdout), "401");
    let none = curl(
        Some(&relay),
        &["-o", "/dev/null", "-w", "%{http_code}"],
        "/_berth/download?ticket=x&path=/v1.41/info",
    );
    assert_eq!(text(&none.stdout), "401");
}

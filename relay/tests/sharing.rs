//! One engine stream per thing, however many of the console's viewers
//! (fan-ins) watch it; a late viewer of a followed log gets its tail, then
//! the shared stream, without a gap or a repeat; the stream closes a few
//! seconds after its last viewer leaves.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use berth_engine::{FaninDecoder, Fanned, MuxDecoder};
use serde_json::Value;

use crate::util::*;

/// A fan-in read by curl as it arrives; killed when dropped.
struct Viewer {
    child: Child,
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl Viewer {
    fn open(relay: &Relay, sources: &[String]) -> Viewer {
        let query: Vec<String> = sources
            .iter()
            .map(|s| {
                format!(
                    "s={}",
                    form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                )
            })
            .collect();
        let mut child = Command::new("curl")
            .args(["-sSN"])
            .arg(relay.url(&format!("/_berth/fanin?{}", query.join("&"))))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let sink = bytes.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Viewer { child, bytes }
    }

    /// The data of source `i` so far, and any error it reported.
    fn data(&self, i: u8) -> (Vec<u8>, Option<String>) {
        let mut d = FaninDecoder::new();
        d.push(&self.bytes.lock().unwrap());
        let (mut data, mut error) = (Vec::new(), None);
        while let Some(f) = d.next_frame() {
            match f {
                Fanned::Data { source, bytes } if source == i => data.extend(bytes),
                Fanned::Error { source, message } if source == i => error = Some(message),
                _ => {}
            }
        }
        (data, error)
    }

    /// The log lines of source `i` so far (a multiplexed log).
    fn lines(&self, i: u8) -> Vec<String> {
        let (data, error) = self.data(i);
        assert!(error.is_none(), "{error:?}");
        let mut mux = MuxDecoder::new();
        mux.push(&data);
        let mut text = String::new();
        while let Some(f) = mux.next_frame() {
            text.push_str(&String::from_utf8_lossy(&f.unwrap().payload));
        }
        text.lines().map(str::to_owned).collect()
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn health(relay: &Relay) -> Value {
    serde_json::from_slice(&curl(Some(relay), &[], "/_berth/health").stdout).unwrap()
}

/// The numbers of `line N` lines, in order.
fn numbers(lines: &[String]) -> Vec<u64> {
    lines
        .iter()
        .map(|l| {
            let n = l.rsplit(' ').next().unwrap();
            n.parse().unwrap_or_else(|_| panic!("{l:?}"))
        })
        .collect()
}

fn consecutive(ns: &[u64]) -> bool {
    ns.windows(2).all(|w| w[1] == w[0] + 1)
}

#[test]
fn viewers_share_one_engine_stream_and_a_late_one_misses_nothing() {
    let c = Container::run(
        "shared",
        &[
            IMAGE,
            "sh",
            "-c",
            "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.02; done",
        ],
    );
    let relay = Relay::start();
    let logs = |tail: &str, times: bool| {
        format!(
            "/v1.41/containers/{}/logs?follow=1&stdout=1&stderr=1&tail={tail}&timestamps={}",
            c.name,
            u8::from(times)
        )
    };
    let stats = format!("/v1.41/containers/{}/stats?stream=1", c.name);
    let first = Viewer::open(&relay, &[logs("all", false), stats.clone()]);
    wait_for("lines and a stats sample", Duration::from_secs(20), || {
        first.lines(0).len() > 20 && !first.data(1).0.is_empty()
    });
    assert_eq!(health(&relay)["sharedStreams"], 2);

    // More viewers of the same: still one engine stream each.
    std::thread::sleep(Duration::from_millis(500));
    let late = Viewer::open(&relay, &[logs("5", false), stats.clone()]);
    let timed = Viewer::open(&relay, &[logs("3", true)]);
    wait_for("the late viewers' lines", Duration::from_secs(20), || {
        late.lines(0).len() > 40 && timed.lines(0).len() > 40 && !late.data(1).0.is_empty()
    });
    // Two engine streams for three viewers (their catch-ups done).
    let h = health(&relay);
    assert_eq!(
        (&h["sharedStreams"], &h["engineStreams"]),
        (&2.into(), &2.into()),
        "{h}"
    );

    // The late viewer got its tail of 5, then the live lines: no gap, no
    // repeat, and the same lines the first viewer saw.
    let ns = numbers(&late.lines(0));
    assert!(consecutive(&ns), "{ns:?}");
    let all = numbers(&first.lines(0));
    assert!(consecutive(&all), "{all:?}");
    assert_eq!(all[0], 0);
    let at = all.iter().position(|n| *n == ns[0]).unwrap();
    assert!(ns.len() >= 5 && all[at..].starts_with(&ns[..ns.len().min(all.len() - at)]));
    // With timestamps as asked: `TIME line N`.
    let timed_lines = timed.lines(0);
    assert!(
        timed_lines.iter().all(|l| l.contains("Z line ")),
        "{timed_lines:?}"
    );
    assert!(consecutive(&numbers(&timed_lines)));

    // Every viewer gone: the streams close a few seconds later.
    drop((first, late, timed));
    wait_for(
        "the shared streams to close",
        Duration::from_secs(15),
        || {
            let h = health(&relay);
            h["sharedStreams"] == 0 && h["engineStreams"] == 0
        },
    );
}

#[test]
fn the_docker_cli_keeps_a_faithful_stream_of_its_own() {
    let c = Container::run(
        "own",
        &[IMAGE, "sh", "-c", "echo one; echo two >&2; sleep 600"],
    );
    let relay = Relay::start();
    let viewer = Viewer::open(
        &relay,
        &[format!(
            "/containers/{}/logs?follow=1&stdout=1&stderr=1",
            c.name
        )],
    );
    wait_for("the viewer's lines", Duration::from_secs(10), || {
        viewer.lines(0).len() == 2
    });
    let mut follow = Command::new("docker")
        .args(["-H", &relay.host(), "logs", "-f", &c.name])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        health(&relay)["sharedStreams"],
        1,
        "the CLI's stream is its own"
    );
    let _ = follow.kill();
    let out = follow.wait_with_output().unwrap();
    assert_eq!(text(&out.stdout), "one\n");
    assert_eq!(text(&out.stderr), "two\n");
}

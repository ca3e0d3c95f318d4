//! The decoders against bytes captured from a real engine (Docker 20.10,
//! API 1.41) by `fixtures/capture.sh`, fed whole and split at every offset.

use berth_engine::models::{BuildInfo, ContainerStatsResponse, CreateImageInfo, EventMessage};
use berth_engine::{JsonLines, MuxDecoder, StreamKind};
use serde::de::DeserializeOwned;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn mux(parts: &[&[u8]]) -> Vec<(StreamKind, Vec<u8>)> {
    let mut dec = MuxDecoder::new();
    let mut out = Vec::new();
    for part in parts {
        dec.push(part);
        while let Some(frame) = dec.next_frame() {
            let frame = frame.unwrap();
            out.push((frame.stream, frame.payload));
        }
    }
    dec.finish().unwrap();
    out
}

#[test]
fn multiplexed_logs_at_every_split() {
    let bytes = fixture("logs.mux");
    let whole = mux(&[&bytes]);
    let text = |kind| {
        whole
            .iter()
            .filter(|(k, _)| *k == kind)
            .flat_map(|(_, p)| p.clone())
            .collect::<Vec<u8>>()
    };
    let zeros = format!("{:0300}\n", 0);
    assert_eq!(
        String::from_utf8(text(StreamKind::Stdout)).unwrap(),
        format!("out-1\n{zeros}\nno newline")
    );
    assert_eq!(
        String::from_utf8(text(StreamKind::Stderr)).unwrap(),
        "err-1\nerr-2\n"
    );
    for cut in 0..=bytes.len() {
        assert_eq!(mux(&[&bytes[..cut], &bytes[cut..]]), whole, "cut at {cut}");
    }
    // And byte by byte, the worst the network can do.
    let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(mux(&bytewise), whole);
}

fn lines<T: DeserializeOwned>(parts: &[&[u8]]) -> Vec<T> {
    let mut dec = JsonLines::<T>::new();
    let mut out = Vec::new();
    for part in parts {
        dec.push(part);
        while let Some(v) = dec.next_value() {
            out.push(v.unwrap());
        }
    }
    if let Some(v) = dec.finish() {
        out.push(v.unwrap());
    }
    out
}

/// Decodes `name` whole and at every two-way split, checks they agree and
/// returns the values.
fn every_split<T: DeserializeOwned + PartialEq + std::fmt::Debug>(name: &str) -> Vec<T> {
    let bytes = fixture(name);
    let whole: Vec<T> = lines(&[&bytes]);
    for cut in 0..=bytes.len() {
        assert_eq!(
            lines::<T>(&[&bytes[..cut], &bytes[cut..]]),
            whole,
            "{name} cut at {cut}"
        );
    }
    whole
}

#[test]
fn events_at_every_split() {
    let events: Vec<EventMessage> = every_split("events.jsonl");
    let actions: Vec<_> = events.iter().filter_map(|e| e.action.as_deref()).collect();
    assert_eq!(actions, ["create", "attach", "start", "die", "destroy"]);
    let die = events
        .iter()
        .find(|e| e.action.as_deref() == Some("die"))
        .unwrap();
    let attrs = die.actor.as_ref().unwrap().attributes.as_ref().unwrap();
    assert_eq!(attrs["exitCode"], "0");
}

#[test]
fn stats_stream_at_every_split() {
    let samples: Vec<ContainerStatsResponse> = every_split("stats.jsonl");
    assert!(samples.len() >= 2, "{} samples", samples.len());
    let last = samples.last().unwrap();
    assert!(last.cpu_stats.as_ref().unwrap().cpu_usage.is_some());
    assert!(last.memory_stats.as_ref().unwrap().usage.is_some());
    // The single-sample answer is the same model.
    let _: ContainerStatsResponse = serde_json::from_slice(&fixture("stats.json")).unwrap();
}

#[test]
fn progress_streams_at_every_split() {
    let import: Vec<CreateImageInfo> = every_split("import.jsonl");
    assert!(import[0].status.as_deref().unwrap().starts_with("sha256:"));
    let build: Vec<BuildInfo> = every_split("build.jsonl");
    let said: String = build.iter().filter_map(|b| b.stream.clone()).collect();
    assert!(
        said.contains("built\n") && said.contains("Successfully built"),
        "{said}"
    );
    assert!(build.iter().any(|b| b.aux.is_some()));
}

//! The engine missing, coming back, or dying mid-answer; and streams that
//! must arrive as they are written.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

fn status_and_message(out: &std::process::Output) -> (String, String) {
    let body = text(&out.stdout);
    let (json, code) = body.rsplit_once('\n').unwrap_or(("", &body));
    let msg = serde_json::from_str::<serde_json::Value>(json)
        .map(|v| v["message"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_else(|_| json.to_owned());
    (code.to_owned(), msg)
}

#[test]
fn an_unreachable_engine_is_a_502_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("unix://{}/docker.sock", dir.path().display());
    let tcp_closed = format!("tcp://127.0.0.1:{}", free_port());
    for engine in [missing, tcp_closed] {
        let relay = Relay::start_with(&engine, &[]);
        let start = Instant::now();
        let out = curl(
            Some(&relay),
            &["-w", "\n%{http_code}"],
            "/v1.41/containers/json",
        );
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "took {:?}",
            start.elapsed()
        );
        let (code, msg) = status_and_message(&out);
        assert_eq!(code, "502");
        assert!(
            msg.contains(&format!("cannot reach the Docker engine at {engine}")),
            "{msg}"
        );
        // The docker CLI shows the same words.
        let cli = docker(&relay.host(), &["ps"]);
        assert!(!cli.status.success());
        assert!(
            text(&cli.stderr).contains("cannot reach the Docker engine"),
            "{}",
            text(&cli.stderr)
        );
    }
}

#[test]
fn the_relay_recovers_when_the_engine_comes_back() {
    // The engine's socket appears, goes and comes back (socat stands in
    // for the path; the engine behind it is the real one).
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("engine.sock");
    let relay = Relay::start_with(&format!("unix://{}", sock.display()), &[]);
    let code = || status_and_message(&curl(Some(&relay), &["-w", "\n%{http_code}"], "/_ping")).0;
    assert_eq!(code(), "502");
    for _ in 0..2 {
        // Its own process group: killing it must end the forked children
        // that carry the relay's pooled connections too.
        let mut socat = Command::new("socat")
            .process_group(0)
            .arg(format!("UNIX-LISTEN:{},fork", sock.display()))
            .arg(format!("UNIX-CONNECT:{}", engine_socket().display()))
            .stderr(Stdio::null())
            .spawn()
            .expect("socat is installed");
        wait_for("socat to listen", Duration::from_secs(5), || sock.exists());
        assert_eq!(code(), "200");
        assert_eq!(
            docker_ok(&relay.host(), &["version", "-f", "{{.Server.Os}}"]),
            "linux\n"
        );
        Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", socat.id())])
            .status()
            .unwrap();
        socat.wait().unwrap();
        let _ = std::fs::remove_file(&sock);
        assert_eq!(code(), "502");
    }
}

#[test]
fn a_tcp_engine_works_like_a_unix_one() {
    // The private engine listens on a unix socket only; socat puts it on
    // TCP unchanged, the way `dockerd -H tcp://…` would serve it.
    let port = free_port();
    let mut socat = Command::new("socat")
        .process_group(0)
        .arg(format!("TCP-LISTEN:{port},fork,reuseaddr,bind=127.0.0.1"))
        .arg(format!("UNIX-CONNECT:{}", engine_socket().display()))
        .stderr(Stdio::null())
        .spawn()
        .expect("socat is installed");
    wait_for("socat to listen", Duration::from_secs(5), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let relay = Relay::start_with(&format!("tcp://127.0.0.1:{port}"), &[]);
    let out = docker_in(
        &relay.host(),
        &["run", "-i", "--rm", IMAGE, "sh", "-c", "cat; echo done"],
        b"over tcp\n",
    );
    assert_eq!(
        text(&out.stdout),
        "over tcp\ndone\n",
        "{}",
        text(&out.stderr)
    );
    let health = curl(Some(&relay), &[], "/_berth/health");
    assert!(
        text(&health.stdout).contains(r#""engine":"ok""#),
        "{}",
        text(&health.stdout)
    );
    Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", socat.id())])
        .status()
        .unwrap();
    socat.wait().unwrap();
}

/// A stand-in engine for what a real one can't be made to do: die after
/// reading a request, before or in the middle of its answer.
fn crashing_engine(dir: &std::path::Path, answer: &'static [u8]) -> String {
    let sock = dir.join("crash.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let mut conn = conn.unwrap();
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
                line.clear();
            }
            let _ = conn.write_all(answer);
            // Dropping the connection is the crash.
        }
    });
    format!("unix://{}", sock.display())
}

#[test]
fn an_engine_dying_before_answering_is_a_502() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start_with(&crashing_engine(dir.path(), b""), &[]);
    for _ in 0..3 {
        let start = Instant::now();
        let (code, msg) =
            status_and_message(&curl(Some(&relay), &["-w", "\n%{http_code}"], "/info"));
        assert_eq!(code, "502");
        assert!(msg.contains("failed to answer"), "{msg}");
        assert!(start.elapsed() < Duration::from_secs(2));
    }
}

#[test]
fn an_engine_dying_mid_stream_ends_the_stream_and_the_relay_serves_on() {
    let dir = tempfile::tempdir().unwrap();
    let answer =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
                   b\r\n{\"id\":\"a\"}\n\r\n";
    let relay = Relay::start_with(&crashing_engine(dir.path(), answer), &[]);
    for _ in 0..3 {
        let start = Instant::now();
        let out = curl(Some(&relay), &[], "/events");
        assert!(start.elapsed() < Duration::from_secs(5));
        // What arrived before the crash arrives; then the stream breaks
        // (curl reports the incomplete transfer) rather than hanging.
        assert_eq!(text(&out.stdout), "{\"id\":\"a\"}\n");
        assert!(!out.status.success());
    }
}

#[test]
fn a_follow_stream_arrives_while_it_is_written() {
    let c = Container::run("live", &[IMAGE, "sh", "-c", "echo first; sleep 600"]);
    let relay = Relay::start();
    wait_for("the first line", Duration::from_secs(10), || {
        docker_ok(&engine(), &["logs", &c.name]).contains("first")
    });
    // The stream never ends; whatever curl holds after 2 s was relayed
    // live, not buffered until the end.
    let out = curl(
        Some(&relay),
        &["--max-time", "2"],
        &format!("/v1.41/containers/{}/logs?follow=1&stdout=1", c.name),
    );
    assert_eq!(
        out.status.code(),
        Some(28),
        "curl should time out on an endless stream"
    );
    assert!(text(&out.stdout).contains("first"), "{:?}", out.stdout);
}

/// The status line the relay answers `request` with, sent raw.
fn raw_status(relay: &Relay, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", relay.port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // The relay may answer and close before reading it all.
    let _ = tcp.write_all(request);
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        match tcp.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    text(&answer).lines().next().unwrap_or_default().to_owned()
}

#[test]
fn malformed_requests_get_a_clear_4xx_and_the_relay_serves_on() {
    let relay = Relay::start();
    let big_header = [
        b"GET /_ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ".as_slice(),
        &[b'a'; 1 << 20],
        b"\r\n\r\n",
    ]
    .concat();
    let many_headers = [
        b"GET /_ping HTTP/1.1\r\nHost: 127.0.0.1\r\n".to_vec(),
        (0..500)
            .flat_map(|i| format!("X-{i}: y\r\n").into_bytes())
            .collect(),
        b"\r\n".to_vec(),
    ]
    .concat();
    let long_path = [
        b"GET /".as_slice(),
        &[b'a'; 200_000],
        b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    ]
    .concat();
    let cases: [(&[u8], &str); 6] = [
        (b"GARBAGE\r\n\r\n", "400"),
        (&big_header, "431"),
        (&many_headers, "431"),
        (&long_path, "414"),
        (
            b"GET /_ping HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n",
            "400",
        ),
        (
            b"GET /v1.41/containers/%ZZ/json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            "400",
        ),
    ];
    for (request, code) in cases {
        let status = raw_status(&relay, request);
        assert!(
            status.starts_with(&format!("HTTP/1.1 {code}")),
            "{:?}: {status}",
            &text(request)[..40.min(request.len())]
        );
    }
    assert_eq!(
        raw_status(&relay, b"GET /_ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        "HTTP/1.1 200 OK"
    );
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

#[test]
fn slow_and_vanishing_clients_hold_no_memory_or_connections() {
    use std::io::Write;
    let c = Container::run(
        "slow",
        &[IMAGE, "sh", "-c", "yes 0123456789abcdef | head -n 300000"],
    );
    docker_ok(&engine(), &["wait", &c.name]);
    let relay = Relay::start();
    let pid = relay.child.id();
    assert_eq!(text(&curl(Some(&relay), &[], "/_ping").stdout), "OK");
    let (rss_before, fds_before) = (rss_kib(pid), open_fds(pid));

    // 30 clients ask for a 6 MB log and never read it: backpressure must
    // leave it in the engine, not in the relay (buffering would be 180 MB).
    let request = format!(
        "GET /v1.41/containers/{}/logs?stdout=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        c.name
    );
    let clients: Vec<std::net::TcpStream> = (0..30)
        .map(|_| {
            let mut tcp = std::net::TcpStream::connect(("127.0.0.1", relay.port)).unwrap();
            tcp.write_all(request.as_bytes()).unwrap();
            tcp
        })
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    let grown = rss_kib(pid).saturating_sub(rss_before);
    assert!(
        grown < 40 * 1024,
        "RSS grew by {grown} KiB with 30 stalled readers"
    );

    // They vanish: their connections, and the engine's behind them, close.
    drop(clients);
    wait_for(
        "the relay to let go of the connections",
        Duration::from_secs(10),
        || open_fds(pid) <= fds_before + 2,
    );
    assert_eq!(text(&curl(Some(&relay), &[], "/_ping").stdout), "OK");
}

#[test]
fn a_client_vanishing_mid_upload_lets_go_of_everything() {
    use std::io::Write;
    let relay = Relay::start();
    let pid = relay.child.id();
    assert_eq!(text(&curl(Some(&relay), &[], "/_ping").stdout), "OK");
    let fds_before = open_fds(pid);
    // Half of a declared 100 MB image upload, then gone.
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", relay.port)).unwrap();
    let head = "POST /v1.41/images/load HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                Content-Type: application/x-tar\r\nContent-Length: 100000000\r\n\r\n";
    tcp.write_all(head.as_bytes()).unwrap();
    for _ in 0..50 {
        tcp.write_all(&[0u8; 1 << 20]).unwrap();
    }
    drop(tcp);
    wait_for(
        "the relay to let go of the upload",
        Duration::from_secs(10),
        || open_fds(pid) <= fds_before + 2,
    );
    assert_eq!(text(&curl(Some(&relay), &[], "/_ping").stdout), "OK");
}

//! The engine's socket directly, the classic socat relay, HAProxy in http
//! mode (the docker-socket-proxy shape) and berth, side by side in one run:
//! latency of small calls on keep-alive connections, throughput of a long
//! log of short lines, how soon a lone followed line gets through, the
//! engine's streams and CPU as the console's viewers multiply, and berth's
//! memory with many follow streams open.
//!
//! Run by `scripts/bench`, which starts a private engine and sets
//! `BERTH_BENCH_DOCKER_HOST`. Not a test: it prints figures and ratios.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpStream, UnixStream};

// The test harness's image import, so both make the image one way.
#[allow(dead_code)]
#[path = "../tests/util.rs"]
mod util;
use util::IMAGE;
const CONTAINERS: usize = 100;
const FOLLOWERS: usize = 200;
const CLIENTS: usize = 1000;
const STREAMS: usize = 500;
const ROUNDS: usize = 10;

#[derive(Clone, Copy, PartialEq)]
enum Target {
    Direct,
    Socat,
    Haproxy,
    Berth,
}

impl Target {
    const ALL: [Target; 4] = [
        Target::Direct,
        Target::Socat,
        Target::Haproxy,
        Target::Berth,
    ];
}

struct Setup {
    socket: PathBuf,
    socat_port: u16,
    haproxy_port: u16,
    berth_port: u16,
}

impl Setup {
    async fn connect(&self, target: Target) -> SendRequest<Empty<Bytes>> {
        async fn handshake<T>(io: T) -> SendRequest<Empty<Bytes>>
        where
            T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
        {
            let (sender, conn) = http1::handshake(TokioIo::new(io)).await.unwrap();
            tokio::spawn(conn);
            sender
        }
        match target {
            Target::Direct => handshake(UnixStream::connect(&self.socket).await.unwrap()).await,
            Target::Socat | Target::Haproxy | Target::Berth => {
                let port = match target {
                    Target::Socat => self.socat_port,
                    Target::Haproxy => self.haproxy_port,
                    _ => self.berth_port,
                };
                let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                tcp.set_nodelay(true).unwrap();
                handshake(tcp).await
            }
        }
    }
}

async fn get(sender: &mut SendRequest<Empty<Bytes>>, path: &str) -> usize {
    sender.ready().await.unwrap();
    let req = hyper::Request::get(path)
        .header("host", "127.0.0.1")
        .body(Empty::new())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    let mut body = resp.into_body();
    let mut n = 0;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            n += data.len();
        }
    }
    n
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e6
}

/// p50 and p99 in µs per target, rounds interleaved so drift hits all alike.
async fn latency(setup: &Setup, path: &str, per_round: usize) -> Vec<(f64, f64)> {
    let mut conns = Vec::new();
    for t in Target::ALL {
        let mut c = setup.connect(t).await;
        for _ in 0..50 {
            get(&mut c, path).await;
        }
        conns.push(c);
    }
    let mut samples = vec![Vec::new(); Target::ALL.len()];
    for _ in 0..ROUNDS {
        for (i, c) in conns.iter_mut().enumerate() {
            for _ in 0..per_round {
                let start = Instant::now();
                get(c, path).await;
                samples[i].push(start.elapsed());
            }
        }
    }
    samples
        .into_iter()
        .map(|mut s| {
            s.sort();
            (percentile(&s, 0.5), percentile(&s, 0.99))
        })
        .collect()
}

fn docker(host: &str, args: &[&str]) -> String {
    let out = Command::new("docker")
        .arg("-H")
        .arg(host)
        .args(args)
        .env("DOCKER_CLI_HINTS", "false")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_listening(port: u16) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "nothing listens on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// RSS of a process and all its descendants (socat forks one per client).
fn tree_rss_kib(pid: u32) -> (u64, usize) {
    let out = Command::new("ps")
        .args(["-e", "-o", "pid=,ppid="])
        .output()
        .unwrap();
    let pairs: Vec<(u32, u32)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace().map(|x| x.parse::<u32>().ok());
            Some((it.next()??, it.next()??))
        })
        .collect();
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            pairs
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    (tree.iter().map(|p| rss_kib(*p)).sum(), tree.len())
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ratio(a: f64, b: f64) -> String {
    format!("{:.2}x", a / b)
}

/// HAProxy in http mode in front of the engine's socket, as the
/// docker-socket-proxy images run it.
fn haproxy(socket: &std::path::Path, port: u16, dir: &std::path::Path) -> Killed {
    let cfg = dir.join("haproxy.cfg");
    std::fs::write(
        &cfg,
        format!(
            "global\n  maxconn 8192\ndefaults\n  mode http\n  timeout connect 5s\n  \
             timeout client 1h\n  timeout server 1h\nfrontend engine\n  bind 127.0.0.1:{port}\n  \
             default_backend engine\nbackend engine\n  server engine unix@{}\n",
            socket.display()
        ),
    )
    .unwrap();
    Killed(
        Command::new("haproxy")
            .arg("-f")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("haproxy (scripts/bench installs Debian's)"),
    )
}

/// CPU seconds a process has used so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
    });
    ticks / 100.0
}

/// berth's `/_berth/health`, as JSON.
async fn health(setup: &Setup) -> serde_json::Value {
    let mut c = setup.connect(Target::Berth).await;
    c.ready().await.unwrap();
    let req = hyper::Request::get("/_berth/health")
        .header("host", "127.0.0.1")
        .body(Empty::new())
        .unwrap();
    let resp = c.send_request(req).await.unwrap();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&body).unwrap()
}

/// When each of the next `n` pieces of a stream arrives.
async fn arrivals(mut body: hyper::body::Incoming, n: usize) -> Vec<Instant> {
    let mut times = Vec::new();
    while times.len() < n {
        match body.frame().await {
            Some(Ok(f)) if f.is_data() => times.push(Instant::now()),
            Some(Ok(_)) => {}
            _ => break,
        }
    }
    times
}

/// A streaming GET on a connection of its own: the open body.
async fn open_stream(setup: &Setup, target: Target, path: &str) -> hyper::body::Incoming {
    let mut c = setup.connect(target).await;
    c.ready().await.unwrap();
    let req = hyper::Request::get(path)
        .header("host", "127.0.0.1")
        .body(Empty::new())
        .unwrap();
    let resp = c.send_request(req).await.unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    // The connection lives as long as its task; the body keeps it.
    tokio::spawn(async move {
        let _keep = c;
        std::future::pending::<()>().await
    });
    resp.into_body()
}

#[tokio::main]
async fn main() {
    let host = std::env::var("BERTH_BENCH_DOCKER_HOST")
        .expect("BERTH_BENCH_DOCKER_HOST=unix:///path/docker.sock (scripts/bench sets it)");
    let engine_pid: Option<u32> = std::env::var("BERTH_BENCH_ENGINE_PID")
        .ok()
        .and_then(|p| p.trim().parse().ok());
    let socket = PathBuf::from(host.strip_prefix("unix://").expect("a unix:// engine"));
    let version = docker(
        &host,
        &[
            "version",
            "-f",
            "{{.Server.Version}} (API {{.Server.APIVersion}})",
        ],
    );
    util::ensure_image(&host);
    let scratch = tempfile::tempdir().unwrap();

    // About 100 containers for the list to describe.
    let prefix = format!("berth-bench-{}", std::process::id());
    for i in 0..CONTAINERS {
        docker(
            &host,
            &[
                "create",
                "--name",
                &format!("{prefix}-{i}"),
                "-l",
                "bench=1",
                IMAGE,
                "true",
            ],
        );
    }

    let socat_port = free_port();
    let socat = Killed(
        Command::new("socat")
            .arg(format!(
                "TCP-LISTEN:{socat_port},fork,reuseaddr,bind=127.0.0.1"
            ))
            .arg(format!("UNIX-CONNECT:{}", socket.display()))
            .stderr(Stdio::null())
            .spawn()
            .expect("socat"),
    );
    let haproxy_port = free_port();
    let haproxy = haproxy(&socket, haproxy_port, scratch.path());
    let berth_port = free_port();
    let berth = Killed(
        Command::new(env!("CARGO_BIN_EXE_berth"))
            .args([
                "--listen",
                &format!("127.0.0.1:{berth_port}"),
                "--engine",
                &host,
                "--log",
                "warn",
            ])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    for port in [socat_port, haproxy_port, berth_port] {
        wait_listening(port);
    }
    let setup = Setup {
        socket: socket.clone(),
        socat_port,
        haproxy_port,
        berth_port,
    };
    let idle_rss = rss_kib(berth.0.id());

    println!("berth benchmark: engine Docker {}", version.trim());
    println!(
        "{} containers listed, {} rounds interleaved per target, keep-alive connections, {} cores\n",
        CONTAINERS,
        ROUNDS,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>9}",
        "", "direct", "socat", "haproxy", "berth", "/direct", "/socat", "/haproxy"
    );
    let row = |label: &str, v: [f64; 4], digits: usize| {
        println!(
            "{:<34} {:>9.d$} {:>9.d$} {:>9.d$} {:>9.d$} {:>8} {:>8} {:>9}",
            label,
            v[0],
            v[1],
            v[2],
            v[3],
            ratio(v[3], v[0]),
            ratio(v[3], v[1]),
            ratio(v[3], v[2]),
            d = digits
        );
    };
    let mut verdicts = Vec::new();
    for (label, path, per_round) in [
        ("GET /_ping", "/_ping", 200),
        (
            "GET /containers/json?all=1",
            "/v1.41/containers/json?all=1",
            30,
        ),
    ] {
        let l = latency(&setup, path, per_round).await;
        row(
            &format!("{label} p50 (µs)"),
            [l[0].0, l[1].0, l[2].0, l[3].0],
            0,
        );
        row(
            &format!("{label} p99 (µs)"),
            [l[0].1, l[1].1, l[2].1, l[3].1],
            0,
        );
        verdicts.push((
            format!("{label}: berth p50 no slower than HAProxy's"),
            l[3].0 <= l[2].0,
        ));
    }

    // A long log of short lines: 545,000 lines of 77 bytes (42 MB), as one
    // multiplexed frame per line.
    let log = format!("{prefix}-log");
    docker(
        &host,
        &[
            "run",
            "--name",
            &log,
            IMAGE,
            "sh",
            "-c",
            "yes 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456 | head -n 545000",
        ],
    );
    let path = format!("/v1.41/containers/{log}/logs?stdout=1&stderr=1");
    let mut rates = [0.0f64; 4];
    let mut size = 0;
    for _ in 0..3 {
        for (i, t) in Target::ALL.into_iter().enumerate() {
            let mut c = setup.connect(t).await;
            let start = Instant::now();
            size = get(&mut c, &path).await;
            let rate = size as f64 / start.elapsed().as_secs_f64() / 1e6;
            rates[i] = rates[i].max(rate);
        }
    }
    row(
        &format!("log read, {:.0} MB, best of 3 (MB/s)", size as f64 / 1e6),
        rates,
        1,
    );
    verdicts.push((
        "log read: berth at least 1.0x direct".into(),
        rates[3] >= rates[0],
    ));
    verdicts.push((
        "log read: berth above socat and HAProxy".into(),
        rates[3] > rates[1] && rates[3] > rates[2],
    ));

    // A lone line of a followed log: how much later it reaches a client
    // through berth than one reading the engine directly.
    let ticker = format!("{prefix}-ticker");
    docker(
        &host,
        &[
            "run",
            "-d",
            "--name",
            &ticker,
            IMAGE,
            "sh",
            "-c",
            "while true; do echo tick; sleep 0.1; done",
        ],
    );
    let follow = format!("/v1.41/containers/{ticker}/logs?follow=1&stdout=1&tail=0");
    let direct = open_stream(&setup, Target::Direct, &follow).await;
    let through = open_stream(&setup, Target::Berth, &follow).await;
    let (a, b) = tokio::join!(arrivals(direct, 40), arrivals(through, 40));
    let mut delays: Vec<f64> = a
        .iter()
        .zip(&b)
        .map(|(d, t)| t.saturating_duration_since(*d).as_secs_f64() * 1e3)
        .collect();
    delays.sort_by(|x, y| x.partial_cmp(y).unwrap());
    let (p50, worst) = (delays[delays.len() / 2], delays[delays.len() - 1]);
    println!(
        "\nA lone followed line (40 lines, 100 ms apart): through berth {p50:.2} ms after the direct reader (p50), {worst:.2} ms at worst"
    );
    verdicts.push(("a lone line through berth within 5 ms".into(), worst <= 5.0));

    // The console's viewers: each a containers list with live stats for 20
    // running containers and the events stream, through the fan-in.
    let running: Vec<String> = (0..20).map(|i| format!("{prefix}-run-{i}")).collect();
    for name in &running {
        docker(
            &host,
            &[
                "run", "-d", "--name", name, "-l", "bench=1", IMAGE, "sleep", "3600",
            ],
        );
    }
    let mut fanin = String::from("/_berth/fanin?");
    fanin.push_str(
        &running
            .iter()
            .map(|n| format!("s=%2Fv1.41%2Fcontainers%2F{n}%2Fstats%3Fstream%3D1&"))
            .collect::<String>(),
    );
    fanin.push_str("s=%2Fv1.41%2Fevents%3Ffilters%3D%257B%2522type%2522%253A%255B%2522container%2522%255D%257D");
    println!("\nThe console's containers list, N viewers at once (20 running containers: 20 stats streams and the events stream each):");
    println!(
        "{:>8} {:>20} {:>16} {:>22}",
        "viewers", "engine connections", "engine streams", "engine CPU (% of one)"
    );
    let mut per_viewers = Vec::new();
    for n in [1usize, 10, 50] {
        let mut bodies = Vec::new();
        for _ in 0..n {
            bodies.push(open_stream(&setup, Target::Berth, &fanin).await);
        }
        // Every viewer reads its fan-in, as a page would.
        let readers: Vec<_> = bodies
            .into_iter()
            .map(|mut b| tokio::spawn(async move { while let Some(Ok(_)) = b.frame().await {} }))
            .collect();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let h = health(&setup).await;
        let cpu_before = engine_pid.map(cpu_seconds);
        tokio::time::sleep(Duration::from_secs(10)).await;
        let cpu = engine_pid
            .zip(cpu_before)
            .map(|(pid, before)| (cpu_seconds(pid) - before) * 10.0);
        println!(
            "{:>8} {:>20} {:>16} {:>22}",
            n,
            h["engineConnections"].as_u64().unwrap_or(0),
            h["engineStreams"].as_u64().unwrap_or(0),
            cpu.map_or("-".into(), |c| format!("{c:.1}"))
        );
        per_viewers.push((h["engineStreams"].as_u64().unwrap_or(0), cpu));
        for r in readers {
            r.abort();
        }
        tokio::time::sleep(Duration::from_secs(7)).await;
    }
    verdicts.push((
        "engine streams flat from 1 to 50 viewers".into(),
        per_viewers.iter().all(|(s, _)| *s == per_viewers[0].0),
    ));
    if let (Some(first), Some(last)) = (per_viewers[0].1, per_viewers[2].1) {
        verdicts.push((
            "engine CPU flat from 1 to 50 viewers (within 1.5x)".into(),
            last <= first.max(1.0) * 1.5,
        ));
    }

    // Memory with many follow streams open at once.
    let mut rss = Vec::new();
    for t in [Target::Socat, Target::Haproxy, Target::Berth] {
        let mut streams = Vec::new();
        for _ in 0..FOLLOWERS {
            let mut body = open_stream(&setup, t, &follow).await;
            body.frame().await.expect("a first frame").unwrap();
            streams.push(body);
        }
        let pid = match t {
            Target::Berth => berth.0.id(),
            Target::Haproxy => haproxy.0.id(),
            _ => socat.0.id(),
        };
        rss.push(tree_rss_kib(pid));
        drop(streams);
    }
    println!(
        "\nRSS with {FOLLOWERS} open logs?follow=1 streams: berth {:.1} MiB (idle {:.1} MiB, one process); \
         HAProxy {:.1} MiB; socat {:.1} MiB in {} processes",
        rss[2].0 as f64 / 1024.0,
        idle_rss as f64 / 1024.0,
        rss[1].0 as f64 / 1024.0,
        rss[0].0 as f64 / 1024.0,
        rss[0].1
    );
    // Load: many clients at once, then many follow streams, through berth.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampler = {
        let (peak, pid) = (peak.clone(), berth.0.id());
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kib(pid), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let start = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let port = setup.berth_port;
            tokio::spawn(async move {
                let tcp = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
                let (mut sender, conn) = http1::handshake(TokioIo::new(tcp)).await.ok()?;
                tokio::spawn(conn);
                let req = hyper::Request::get("/v1.41/containers/json?all=1")
                    .header("host", "127.0.0.1")
                    .body(Empty::<Bytes>::new())
                    .ok()?;
                let resp = sender.send_request(req).await.ok()?;
                let ok = resp.status().is_success();
                resp.into_body().collect().await.ok()?;
                ok.then_some(())
            })
        })
        .collect();
    let mut failed = 0;
    for c in clients {
        if c.await.ok().flatten().is_none() {
            failed += 1;
        }
    }
    let took = start.elapsed();
    let clients_peak = peak.swap(0, std::sync::atomic::Ordering::Relaxed);
    println!(
        "{CLIENTS} concurrent clients on /containers/json?all=1: {failed} failed, all answered in {:.1} s, berth peak RSS {:.1} MiB",
        took.as_secs_f64(),
        clients_peak as f64 / 1024.0
    );
    verdicts.push((
        format!("{CLIENTS} concurrent clients, no errors"),
        failed == 0,
    ));

    let mut streams = Vec::new();
    let mut stream_errors = 0;
    for _ in 0..STREAMS {
        let mut c = setup.connect(Target::Berth).await;
        c.ready().await.unwrap();
        let req = hyper::Request::get(&follow)
            .header("host", "127.0.0.1")
            .body(Empty::new())
            .unwrap();
        match c.send_request(req).await {
            Ok(resp) if resp.status().is_success() => {
                let mut body = resp.into_body();
                match body.frame().await {
                    Some(Ok(_)) => streams.push((c, body)),
                    _ => stream_errors += 1,
                }
            }
            _ => stream_errors += 1,
        }
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Every stream still flowing: each gets the next tick.
    for (_, body) in streams.iter_mut() {
        match tokio::time::timeout(Duration::from_secs(5), body.frame()).await {
            Ok(Some(Ok(_))) => {}
            _ => stream_errors += 1,
        }
    }
    let streams_peak = peak.load(std::sync::atomic::Ordering::Relaxed);
    sampler.abort();
    println!(
        "{STREAMS} concurrent follow streams: {stream_errors} failed, berth peak RSS {:.1} MiB",
        streams_peak as f64 / 1024.0
    );
    verdicts.push((
        format!("{STREAMS} concurrent follow streams, no errors"),
        stream_errors == 0,
    ));
    drop(streams);

    println!("\nTargets:");
    for (what, ok) in &verdicts {
        println!("  {} {what}", if *ok { "met    " } else { "MISSED " });
    }

    let names = docker(&host, &["ps", "-aq", "--filter", "label=bench=1"]);
    let mut rm = vec!["rm", "-f", &log, &ticker];
    rm.extend(names.lines());
    docker(&host, &rm);
}

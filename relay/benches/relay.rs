//! Direct socket vs the classic socat relay vs berth, in one run:
//! latency of small calls on keep-alive connections, throughput of a large
//! log read, and berth's memory with many follow streams open.
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
    Berth,
}

impl Target {
    const ALL: [Target; 3] = [Target::Direct, Target::Socat, Target::Berth];
}

struct Setup {
    socket: PathBuf,
    socat_port: u16,
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
            Target::Socat | Target::Berth => {
                let port = if target == Target::Socat {
                    self.socat_port
                } else {
                    self.berth_port
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
    let mut samples = vec![Vec::new(); 3];
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

#[tokio::main]
async fn main() {
    let host = std::env::var("BERTH_BENCH_DOCKER_HOST")
        .expect("BERTH_BENCH_DOCKER_HOST=unix:///path/docker.sock (scripts/bench sets it)");
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
    let _socat = Killed(
        Command::new("socat")
            .arg(format!(
                "TCP-LISTEN:{socat_port},fork,reuseaddr,bind=127.0.0.1"
            ))
            .arg(format!("UNIX-CONNECT:{}", socket.display()))
            .stderr(Stdio::null())
            .spawn()
            .expect("socat"),
    );
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
    wait_listening(socat_port);
    wait_listening(berth_port);
    let setup = Setup {
        socket: socket.clone(),
        socat_port,
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
        "{:<34} {:>10} {:>10} {:>10} {:>13} {:>12}",
        "", "direct", "socat", "berth", "berth/direct", "berth/socat"
    );
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
        for (which, pick) in [("p50", 0), ("p99", 1)] {
            let v = |i: usize| if pick == 0 { l[i].0 } else { l[i].1 };
            println!(
                "{:<34} {:>10.0} {:>10.0} {:>10.0} {:>13} {:>12}",
                format!("{label} {which} (µs)"),
                v(0),
                v(1),
                v(2),
                ratio(v(2), v(0)),
                ratio(v(2), v(1))
            );
        }
        verdicts.push((
            format!("{label}: berth p50 within 1.15x of direct"),
            l[2].0 <= 1.15 * l[0].0,
        ));
        verdicts.push((format!("{label}: berth p50 below socat"), l[2].0 < l[1].0));
    }

    // A large multiplexed log: ~10 MB in 500,000 frames.
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
            "yes 0123456789abcdef | head -n 400000; yes err | head -n 100000 >&2",
        ],
    );
    let path = format!("/v1.41/containers/{log}/logs?stdout=1&stderr=1");
    let mut rates = [0.0f64; 3];
    for _ in 0..2 {
        for (i, t) in Target::ALL.into_iter().enumerate() {
            let mut c = setup.connect(t).await;
            let start = Instant::now();
            let n = get(&mut c, &path).await;
            let rate = n as f64 / start.elapsed().as_secs_f64() / 1e6;
            rates[i] = rates[i].max(rate);
        }
    }
    println!(
        "{:<34} {:>10.1} {:>10.1} {:>10.1} {:>13} {:>12}",
        "log read, best of 2 (MB/s)",
        rates[0],
        rates[1],
        rates[2],
        ratio(rates[2], rates[0]),
        ratio(rates[2], rates[1])
    );
    verdicts.push((
        "log read: berth at least 0.9x direct".into(),
        rates[2] >= 0.9 * rates[0],
    ));

    // Memory with many follow streams open at once.
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
            "while true; do echo tick; sleep 1; done",
        ],
    );
    let follow = format!("/v1.41/containers/{ticker}/logs?follow=1&stdout=1&tail=1");
    let mut rss = Vec::new();
    for t in [Target::Socat, Target::Berth] {
        let mut streams = Vec::new();
        for _ in 0..FOLLOWERS {
            let mut c = setup.connect(t).await;
            c.ready().await.unwrap();
            let req = hyper::Request::get(&follow)
                .header("host", "127.0.0.1")
                .body(Empty::new())
                .unwrap();
            let resp = c.send_request(req).await.unwrap();
            let mut body = resp.into_body();
            body.frame().await.expect("a first frame").unwrap();
            streams.push((c, body));
        }
        let pid = if t == Target::Berth {
            berth.0.id()
        } else {
            _socat.0.id()
        };
        rss.push(tree_rss_kib(pid));
        drop(streams);
    }
    println!(
        "\nRSS with {FOLLOWERS} open logs?follow=1 streams: berth {:.1} MiB (idle {:.1} MiB, one process); \
         socat {:.1} MiB in {} processes",
        rss[1].0 as f64 / 1024.0,
        idle_rss as f64 / 1024.0,
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

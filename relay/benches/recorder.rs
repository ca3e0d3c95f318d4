//! The flight recorder's costs: berth's CPU and memory while it records
//! 100 containers that each print 10 lines a second (against the same
//! berth not recording, and what the engine pays for the follow streams),
//! then one search across 1 GiB of records (against the 2 s target and GNU
//! grep over the same files).
//!
//! Run by `scripts/bench`, which starts a private engine and sets
//! `BERTH_BENCH_DOCKER_HOST`. Not a test: it prints figures and ratios.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[allow(dead_code)]
#[path = "../tests/util.rs"]
mod util;
use util::{docker, docker_ok, ensure_image, free_port, IMAGE};

const CONTAINERS: usize = 100;
const MEASURE: Duration = Duration::from_secs(30);
const RECORDS: usize = 64;
const SEARCHED: u64 = 1 << 30;

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn berth(host: &str, args: &[&str]) -> (Killed, u16) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--engine",
            host,
            "--log",
            "warn",
        ])
        .args(args)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "berth did not listen"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (Killed(child), port)
}

fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
    }) / 100.0
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn curl(port: u16, path: &str) -> Vec<u8> {
    Command::new("curl")
        .args(["-sS", "--max-time", "120"])
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .unwrap()
        .stdout
}

/// CPU (% of one core) of berth and of the engine over `MEASURE`, and
/// berth's RSS at the end.
fn measure(berth: u32, engine: Option<u32>) -> (f64, Option<f64>, u64) {
    let (b0, e0) = (cpu_seconds(berth), engine.map(cpu_seconds));
    std::thread::sleep(MEASURE);
    let secs = MEASURE.as_secs_f64();
    let b = (cpu_seconds(berth) - b0) / secs * 100.0;
    let e = engine
        .zip(e0)
        .map(|(pid, e0)| (cpu_seconds(pid) - e0) / secs * 100.0);
    (b, e, rss_kib(berth))
}

fn recording(host: &str, engine: Option<u32>) {
    println!("recording {CONTAINERS} containers, each printing 10 lines a second");
    let names: Vec<String> = (0..CONTAINERS)
        .map(|i| format!("berth-bench-rec-{i}"))
        .collect();
    for name in &names {
        let _ = docker(host, &["rm", "-f", name]);
        docker_ok(
            host,
            &[
                "run", "-d", "--name", name, IMAGE, "sh", "-c",
                "i=0; while true; do i=$((i+1)); echo \"GET /api/items/$i 200 0.004s user=bench\"; sleep 0.1; done",
            ],
        );
    }
    let (plain, _) = berth(host, &[]);
    std::thread::sleep(Duration::from_secs(2));
    let (cpu0, eng0, rss0) = measure(plain.0.id(), engine);
    drop(plain);

    let dir = tempfile::tempdir().unwrap();
    let (rec, port) = berth(host, &["--record", dir.path().to_str().unwrap()]);
    // Until every container is followed.
    let start = Instant::now();
    loop {
        let list: serde_json::Value =
            serde_json::from_slice(&curl(port, "/_berth/history")).unwrap_or_default();
        let live = list
            .as_array()
            .map_or(0, |a| a.iter().filter(|e| e["running"] == true).count());
        if live >= CONTAINERS || start.elapsed() > Duration::from_secs(60) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    let health: serde_json::Value =
        serde_json::from_slice(&curl(port, "/_berth/health")).unwrap_or_default();
    let (cpu1, eng1, rss1) = measure(rec.0.id(), engine);
    let bytes: u64 = walk(dir.path())
        .iter()
        .map(|p| p.metadata().map_or(0, |m| m.len()))
        .sum();
    println!(
        "  berth not recording: CPU {cpu0:.1}% of a core, RSS {:.1} MiB",
        rss0 as f64 / 1024.0
    );
    println!(
        "  berth recording:     CPU {cpu1:.1}% of a core, RSS {:.1} MiB, {} engine streams, {:.1} MiB recorded",
        rss1 as f64 / 1024.0,
        health["engineStreams"],
        bytes as f64 / 1048576.0
    );
    if let (Some(e0), Some(e1)) = (eng0, eng1) {
        println!("  the engine: CPU {e0:.1}% of a core without the recorder, {e1:.1}% with it");
    }
    println!(
        "  recording costs {:.1} points of a core and {:.1} MiB ({:.1} KiB a container)\n",
        cpu1 - cpu0,
        (rss1 as f64 - rss0 as f64) / 1024.0,
        (rss1 as f64 - rss0 as f64) / CONTAINERS as f64
    );
    drop(rec);
    for name in &names {
        let _ = docker(host, &["rm", "-f", name]);
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// 1 GiB of records in the recorder's format: web-server-like lines, a
/// rare one now and then.
fn make_records(dir: &std::path::Path) {
    let per = SEARCHED / RECORDS as u64;
    let mut t: i64 = 1_790_000_000_000_000_000;
    let mut n = 0u64;
    for r in 0..RECORDS {
        let id = format!("{r:064x}");
        let rec = dir.join(&id);
        std::fs::create_dir_all(&rec).unwrap();
        std::fs::write(
            rec.join("meta.json"),
            format!(
                r#"{{"id":"{id}","name":"svc-{r}","image":"app","project":"bench","service":"svc{}","tty":false,"created":1790000000,"started":1790000000,"died":1790000100,"exitCode":0,"oom":false,"unhealthy":false,"destroyed":true,"last":null}}"#,
                r % 8
            ),
        )
        .unwrap();
        let mut written = 0u64;
        while written < per {
            let seg = rec.join(format!("{t}.log"));
            let mut f =
                std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&seg).unwrap());
            let mut size = 0u64;
            while size < 8 << 20 && written + size < per {
                n += 1;
                t += 1_000_000;
                let line = if n.is_multiple_of(100_003) {
                    format!("{t} e ERROR deadlock detected in worker {n}\n")
                } else {
                    format!(
                        "{t} o 10.0.{}.{} - - \"GET /api/items/{n} HTTP/1.1\" {} {} {:.3}s\n",
                        n % 256,
                        n % 199,
                        if n.is_multiple_of(97) { 503 } else { 200 },
                        n % 4096,
                        (n % 1000) as f64 / 1000.0
                    )
                };
                f.write_all(line.as_bytes()).unwrap();
                size += line.len() as u64;
            }
            f.flush().unwrap();
            written += size;
        }
    }
}

fn searching(host: &str) {
    let dir = tempfile::Builder::new()
        .prefix("berth-bench-search")
        .tempdir_in("/tmp")
        .unwrap();
    make_records(dir.path());
    let files: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    let total: u64 = files.iter().map(|p| p.metadata().unwrap().len()).sum();
    // A cap above it, so it all stays.
    let (_b, port) = berth(
        host,
        &[
            "--record",
            dir.path().to_str().unwrap(),
            "--record-max",
            "4G",
        ],
    );
    println!(
        "searching {:.2} GiB of records ({} containers), page cache warm, {} cores",
        total as f64 / (1u64 << 30) as f64,
        RECORDS,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for (what, q, grep) in [
        (
            "a rare literal",
            "deadlock%20detected",
            vec!["-F", "deadlock detected"],
        ),
        (
            "a regular expression",
            "%22%20503%20%5B0-9%5D%2B%20",
            vec!["-E", "\" 503 [0-9]+ "],
        ),
    ] {
        let path = format!("/_berth/search?q={q}&limit=100000");
        let _ = curl(port, &path); // warm
        let mut best = f64::MAX;
        let mut hits = 0;
        for _ in 0..3 {
            let start = Instant::now();
            let out = curl(port, &path);
            best = best.min(start.elapsed().as_secs_f64());
            hits = out.iter().filter(|b| **b == b'\n').count();
        }
        let mut grep_best = f64::MAX;
        for _ in 0..3 {
            let start = Instant::now();
            let out = Command::new("grep")
                .args(["-c", "-h"])
                .args(&grep)
                .args(&files)
                .output()
                .unwrap();
            grep_best = grep_best.min(start.elapsed().as_secs_f64());
            let _ = out;
        }
        println!(
            "  {what}: {hits} matches in {best:.2} s ({:.2} GiB/s); target 2 s: {}; GNU grep -c {grep_best:.2} s: {:.2}x of grep's time",
            total as f64 / (1u64 << 30) as f64 / best,
            if best < 2.0 { "met" } else { "MISSED" },
            best / grep_best
        );
    }
}

fn main() {
    let host = std::env::var("BERTH_BENCH_DOCKER_HOST")
        .expect("BERTH_BENCH_DOCKER_HOST (scripts/bench starts a private engine)");
    ensure_image(&host);
    let engine = std::env::var("BERTH_BENCH_ENGINE_PID")
        .ok()
        .and_then(|p| p.trim().parse().ok());
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    if only.as_deref().is_none_or(|o| o == "recording") {
        recording(&host, engine);
    }
    if only.as_deref().is_none_or(|o| o == "search") {
        searching(&host);
    }
}

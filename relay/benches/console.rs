//! The console in a real headless Chromium, served by berth in front of a
//! private engine: transfer size, first load to an interactive containers
//! page, filtering 1000 containers, and 100,000 log lines appended and
//! filtered. Prints figures against the issue's budgets; not a test.
//!
//! Run by `scripts/bench` (it builds the console and starts the engine).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[allow(dead_code)]
#[path = "../tests/chromium.rs"]
mod chromium;
#[allow(dead_code)]
#[path = "../tests/util.rs"]
mod util;

use chromium::Browser;
use util::IMAGE;

const MANY: usize = 1000;
const LOG_LINES: usize = 100_000;
const LOADS: usize = 5;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn gzip_size(path: &std::path::Path) -> u64 {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .expect("gzip");
    out.stdout.len() as u64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn kib(n: u64) -> String {
    format!("{:.1} KiB", n as f64 / 1024.0)
}

/// `docker <args>` for each of `items`, eight at a time.
fn in_parallel(host: &str, items: Vec<Vec<String>>) {
    let chunks: Vec<Vec<Vec<String>>> = items
        .chunks(items.len().div_ceil(8).max(1))
        .map(|c| c.to_vec())
        .collect();
    let threads: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let host = host.to_owned();
            std::thread::spawn(move || {
                for args in chunk {
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    util::docker(&host, &args);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

async fn eval_f64(b: &Browser, script: &str, args: Vec<serde_json::Value>) -> f64 {
    b.client
        .execute_async(script, args)
        .await
        .unwrap_or_else(|e| panic!("{script}: {e}"))
        .as_f64()
        .unwrap_or(f64::NAN)
}

/// Types `text` into the containers filter and times it until the table
/// holds `rows` rows: to the DOM change, and to the next frame painted.
const FILTER_SCRIPT: &str = r#"
const [text, rows, done] = arguments;
const input = document.querySelector('input[type=search]');
const tbody = document.querySelector('table.list tbody');
const count = () => tbody.querySelectorAll('tr[data-container]:not([hidden])').length;
const t0 = performance.now();
const finish = () => requestAnimationFrame(() => done(performance.now() - t0));
const obs = new MutationObserver(() => { if (count() === rows) { obs.disconnect(); finish(); } });
obs.observe(tbody, { childList: true, subtree: true, attributes: true, attributeFilter: ['hidden'] });
input.value = text;
input.dispatchEvent(new Event('input', { bubbles: true }));
if (count() === rows) { obs.disconnect(); finish(); }
"#;

/// Sets the log view's tail (empty: all lines), then times it until the
/// count says `want`, recording the longest gap between frames meanwhile.
const LOGS_SCRIPT: &str = r#"
const [tail, want, done] = arguments;
const input = document.querySelector('input[aria-label="Lines from the end"]');
const count = document.querySelector('[data-log-count]');
let last = performance.now(), worst = 0, running = true;
const frame = (t) => { worst = Math.max(worst, t - last); last = t; if (running) requestAnimationFrame(frame); };
requestAnimationFrame(frame);
const t0 = performance.now();
const check = () => {
  if (count.textContent.startsWith(want)) {
    running = false;
    requestAnimationFrame(() => done([performance.now() - t0, worst]));
    return true;
  }
  return false;
};
const obs = new MutationObserver(() => { if (check()) obs.disconnect(); });
obs.observe(count, { childList: true, subtree: true, characterData: true });
input.value = tail;
input.dispatchEvent(new Event('change', { bubbles: true }));
"#;

/// Types into the log filter and times it until the count says `want`.
const LOG_FILTER_SCRIPT: &str = r#"
const [text, want, done] = arguments;
const input = document.querySelector('[data-log-filter]');
const count = document.querySelector('[data-log-count]');
const t0 = performance.now();
const obs = new MutationObserver(() => {
  if (count.textContent.startsWith(want)) { obs.disconnect(); requestAnimationFrame(() => done(performance.now() - t0)); }
});
obs.observe(count, { childList: true, subtree: true, characterData: true });
input.value = text;
input.dispatchEvent(new Event('input', { bubbles: true }));
"#;

#[tokio::main]
async fn main() {
    let host = std::env::var("BERTH_BENCH_DOCKER_HOST")
        .expect("BERTH_BENCH_DOCKER_HOST=unix:///path/docker.sock (scripts/bench sets it)");
    let dist = std::env::var("BERTH_TEST_CONSOLE_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../dist").to_owned());
    let dist = std::path::PathBuf::from(dist);
    util::ensure_image(&host);

    // Transfer size: what a first visit downloads, gzip -9 as served.
    println!("## Console transfer (gzip -9, as the relay serves it)");
    let (mut app, mut vendor) = (0u64, 0u64);
    let mut files: Vec<_> = std::fs::read_dir(&dist)
        .unwrap()
        .chain(std::fs::read_dir(dist.join("vendor")).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("wasm" | "js" | "css")
            )
        })
        .collect();
    files.sort();
    for f in &files {
        let (raw, gz) = (f.metadata().unwrap().len(), gzip_size(f));
        if f.parent().unwrap().ends_with("vendor") {
            vendor += gz;
        } else {
            app += gz;
        }
        println!(
            "  {:<48} {:>10} raw {:>10} gzip",
            f.file_name().unwrap().to_string_lossy(),
            kib(raw),
            kib(gz)
        );
    }
    println!(
        "  console (wasm + js + css): {}  [budget 300 KiB: {}]",
        kib(app),
        if app <= 300 * 1024 { "met" } else { "MISSED" }
    );
    println!("  xterm.js (loaded when a terminal opens): {}", kib(vendor));
    binary_figures(&host);

    let port = util::free_port();
    let _berth = Killed(
        Command::new(env!("CARGO_BIN_EXE_berth"))
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--engine",
                &host,
                "--log",
                "warn",
            ])
            .arg("--console-dir")
            .arg(&dist)
            .stdout(Stdio::null())
            .spawn()
            .expect("berth"),
    );
    util::wait_for("berth", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let url = |p: &str| format!("http://127.0.0.1:{port}{p}");
    let prefix = format!("berth-cbench-{}", std::process::id());

    // First load, cold (a new profile each time) and warm (same session).
    println!(
        "\n## First load to an interactive containers page (headless Chromium, {LOADS} cold loads)"
    );
    in_parallel(
        &host,
        (0..20)
            .map(|i| {
                vec![
                    "create".into(),
                    "--name".into(),
                    format!("{prefix}-few-{i}"),
                    IMAGE.into(),
                    "true".into(),
                ]
            })
            .collect(),
    );
    let mut cold = vec![];
    let mut warm = vec![];
    for _ in 0..LOADS {
        let b = Browser::start().await;
        for (i, into) in [&mut cold, &mut warm].into_iter().enumerate() {
            if i == 1 {
                b.client.goto("about:blank").await.unwrap();
            }
            b.client.goto(&url("/console/containers")).await.unwrap();
            b.css("tr[data-container]").await;
            let at = eval_f64(
                &b,
                "const done = arguments[0]; const m = performance.getEntriesByName('berth:containers-listed'); done(m.length ? m[0].startTime : NaN);",
                vec![],
            )
            .await;
            into.push(at);
        }
        b.end().await;
    }
    let cold_ms = median(cold.clone());
    println!(
        "  cold: median {cold_ms:.0} ms (all: {cold:.0?})  [budget 500 ms: {}]",
        if cold_ms <= 500.0 { "met" } else { "MISSED" }
    );
    println!(
        "  warm: median {:.0} ms (all: {warm:.0?})",
        median(warm.clone())
    );

    // 1000 containers: keystroke to updated list.
    println!("\n## {MANY} containers: filter keystroke to updated list");
    let made = Instant::now();
    in_parallel(
        &host,
        (0..MANY)
            .map(|i| {
                vec![
                    "create".into(),
                    "--name".into(),
                    format!("{prefix}-many-{i:04}"),
                    "-l".into(),
                    "bench=1".into(),
                    IMAGE.into(),
                    "true".into(),
                ]
            })
            .collect(),
    );
    println!("  (created in {:.0} s)", made.elapsed().as_secs_f64());
    let total = MANY + 20;
    let b = Browser::start().await;
    b.client.goto(&url("/console/containers")).await.unwrap();
    let start = Instant::now();
    loop {
        let n = b
            .client
            .find_all(fantoccini::Locator::Css("tr[data-container]"))
            .await
            .unwrap()
            .len();
        if n >= total {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "only {n} rows");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (mut narrow, mut widen) = (vec![], vec![]);
    for round in 0..7 {
        let one = format!("{prefix}-many-{:04}", round * 97);
        narrow.push(eval_f64(&b, FILTER_SCRIPT, vec![one.into(), 1.into()]).await);
        widen.push(eval_f64(&b, FILTER_SCRIPT, vec!["".into(), total.into()]).await);
    }
    let n_ms = median(narrow.clone());
    println!(
        "  {total} → 1 rows: median {n_ms:.1} ms, worst {:.1} ms  [budget 50 ms: {}]",
        narrow.iter().cloned().fold(0.0, f64::max),
        if n_ms <= 50.0 { "met" } else { "MISSED" }
    );
    let w_ms = median(widen.clone());
    println!(
        "  1 → {total} rows: median {w_ms:.1} ms, worst {:.1} ms  [budget 50 ms: {}]",
        widen.iter().cloned().fold(0.0, f64::max),
        if w_ms <= 50.0 { "met" } else { "MISSED" }
    );
    b.end().await;

    // 100,000 log lines.
    println!("\n## Log view: {LOG_LINES} lines appended and filtered");
    let logger = format!("{prefix}-logs");
    let script = format!("seq 1 {LOG_LINES} | sed 's/^/log line number /'; sleep 600");
    util::docker(
        &host,
        &["run", "-d", "--name", &logger, IMAGE, "sh", "-c", &script],
    );
    util::wait_for("all lines logged", Duration::from_secs(60), || {
        util::docker_ok(&host, &["logs", "--tail", "1", &logger])
            .contains(&format!("number {LOG_LINES}"))
    });
    let b = Browser::start().await;
    b.client
        .goto(&url(&format!("/console/containers/{logger}/logs")))
        .await
        .unwrap();
    b.css(".log-row").await;
    let got = b
        .client
        .execute_async(
            LOGS_SCRIPT,
            vec!["".into(), format!("{LOG_LINES} lines").into()],
        )
        .await
        .unwrap();
    let (append, worst_frame) = (got[0].as_f64().unwrap(), got[1].as_f64().unwrap());
    println!("  all {LOG_LINES} lines streamed in and shown: {append:.0} ms; longest frame meanwhile {worst_frame:.0} ms");
    let mut filters = vec![];
    for _ in 0..5 {
        filters.push(
            eval_f64(
                &b,
                LOG_FILTER_SCRIPT,
                vec!["number 99999".into(), format!("1 of {LOG_LINES}").into()],
            )
            .await,
        );
        filters.push(
            eval_f64(
                &b,
                LOG_FILTER_SCRIPT,
                vec!["".into(), format!("{LOG_LINES} lines").into()],
            )
            .await,
        );
    }
    println!(
        "  filter over {LOG_LINES} lines (narrow and clear): median {:.1} ms, worst {:.1} ms",
        median(filters.clone()),
        filters.iter().cloned().fold(0.0, f64::max)
    );
    eval_f64(
        &b,
        "document.querySelector('[data-log-regex]').click(); arguments[0](0)",
        vec![],
    )
    .await;
    let re = eval_f64(
        &b,
        LOG_FILTER_SCRIPT,
        vec![
            r"number 9{4}[0-9]$".into(),
            format!("10 of {LOG_LINES}").into(),
        ],
    )
    .await;
    println!("  regex filter over {LOG_LINES} lines: {re:.1} ms");
    b.end().await;

    // Clean up.
    util::docker(&host, &["rm", "-f", &logger]);
    let names: Vec<Vec<String>> = (0..MANY)
        .map(|i| vec!["rm".into(), "-f".into(), format!("{prefix}-many-{i:04}")])
        .chain((0..20).map(|i| vec!["rm".into(), "-f".into(), format!("{prefix}-few-{i}")]))
        .collect();
    in_parallel(&host, names);
}

/// The release binary (console built in): its size, the time from start to
/// the first answered request, and its resident memory once idle.
fn binary_figures(host: &str) {
    let bin = env!("CARGO_BIN_EXE_berth");
    println!("\n## The binary (release, console built in)");
    println!(
        "  size: {}",
        kib(std::fs::metadata(bin).map(|m| m.len()).unwrap_or(0))
    );
    let mut starts = vec![];
    let mut rss = 0;
    for _ in 0..LOADS {
        let port = util::free_port();
        let started = Instant::now();
        let child = Killed(
            Command::new(bin)
                .args(["--listen", &format!("127.0.0.1:{port}"), "--engine", host])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        // First accepted and answered request: the console's page.
        loop {
            let answered = Command::new("curl")
                .args([
                    "-sf",
                    "-o",
                    "/dev/null",
                    &format!("http://127.0.0.1:{port}/console/"),
                ])
                .status()
                .is_ok_and(|s| s.success());
            if answered {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "berth did not start"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        starts.push(started.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_secs(1));
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", child.0.id())).unwrap_or_default();
        rss = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0);
    }
    starts.sort_by(f64::total_cmp);
    let median = starts[starts.len() / 2];
    println!(
        "  start to first answered request (curl of /console/, includes curl's own start): median {median:.1} ms of {LOADS}  [budget 100 ms: {}]",
        if median < 100.0 { "met" } else { "MISSED" }
    );
    println!(
        "  idle resident memory after one request: {} ",
        kib(rss * 1024)
    );
}

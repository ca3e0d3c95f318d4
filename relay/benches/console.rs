//! The console in a real headless Chromium, served by berth in front of a
//! private engine: what a cold load of the containers page transfers and
//! when its first row is on screen, each other page's first visit, filtering
//! 1000 containers, and 100,000 log lines appended and filtered. Prints
//! figures against the budgets; not a test.
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

/// When the containers page had its rows on screen (a mark it sets once
/// they are drawn), in ms since navigation.
const LISTED_SCRIPT: &str = r#"
const done = arguments[0];
const m = performance.getEntriesByName('berth:containers-listed');
done(m.length ? m[0].startTime : NaN);
"#;

/// A cold load's figures: when the rows were on screen, the bytes the page
/// transferred for its HTML, JS, CSS and wasm (headers included), its wasm
/// requests, and each file.
const COLD_SCRIPT: &str = r#"
const done = arguments[0];
const m = performance.getEntriesByName('berth:containers-listed');
const nav = performance.getEntriesByType('navigation')[0];
const files = [[nav.name.split('/').pop() || 'index.html', nav.transferSize]];
for (const e of performance.getEntriesByType('resource')) {
  if (/\.(js|css|wasm|bin)$/.test(e.name)) files.push([e.name.split('/').pop(), e.transferSize]);
}
const bytes = files.reduce((s, f) => s + f[1], 0);
const wasm = files.filter(f => /\.(wasm|bin)$/.test(f[0])).length;
done([m.length ? m[0].startTime : NaN, bytes, wasm, files]);
"#;

/// Clicks what `click` finds and times it to the frame after the page shows
/// its content: a heading of its own (`h1`), or what `wait` finds. Also
/// counts the wasm requests it took.
const VISIT_SCRIPT: &str = r#"
const [click, wait, done] = arguments;
const before = performance.getEntriesByType('resource').length;
const heading = () => document.querySelector('main h1');
const was = heading() ? heading().textContent : '';
const shown = () => {
  if (wait !== 'h1') return document.querySelector(wait);
  const h = heading();
  return h && h.textContent.trim() !== '' && h.textContent !== was;
};
const finish = () => {
  obs.disconnect();
  requestAnimationFrame(() => {
    const wasm = performance.getEntriesByType('resource').slice(before)
      .filter(e => /\.(wasm|bin)$/.test(e.name)).length;
    done([performance.now() - t0, wasm]);
  });
};
const obs = new MutationObserver(() => { if (shown()) finish(); });
obs.observe(document.body, { childList: true, subtree: true, characterData: true });
const t0 = performance.now();
document.querySelector(click).click();
"#;

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

    // xterm.js: not part of any page's first load.
    let vendor: u64 = std::fs::read_dir(dist.join("vendor"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("js" | "css")))
        .map(|p| gzip_size(&p))
        .sum();
    println!(
        "## xterm.js, fetched when a terminal first opens: {} gzip",
        kib(vendor)
    );
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

    // A cold load (a new profile each time): what it transfers, and when
    // the first container row is on screen.
    println!("\n## Cold load of /console/containers (headless Chromium, a new profile each, {LOADS} loads, 20 containers)");
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
    let (mut firsts, mut transfers, mut warm) = (vec![], vec![], vec![]);
    for n in 0..LOADS {
        let b = Browser::start().await;
        b.client.goto(&url("/console/containers")).await.unwrap();
        let row = b.css("tr[data-container]").await;
        assert!(b.on_screen(&row).await, "the first row is on screen");
        let got = b.client.execute_async(COLD_SCRIPT, vec![]).await.unwrap();
        let (at, bytes, wasm) = (
            got[0].as_f64().unwrap(),
            got[1].as_u64().unwrap(),
            got[2].as_u64().unwrap(),
        );
        if n == 0 {
            println!("  files (transfer size, headers included):");
            for f in got[3].as_array().unwrap() {
                println!(
                    "    {:<56} {:>10}",
                    f[0].as_str().unwrap(),
                    kib(f[1].as_u64().unwrap())
                );
            }
            println!("  wasm requests: {wasm}");
        }
        firsts.push(at);
        transfers.push(bytes as f64);
        // The same page again, the files cached.
        b.client.goto("about:blank").await.unwrap();
        b.client.goto(&url("/console/containers")).await.unwrap();
        b.css("tr[data-container]").await;
        warm.push(eval_f64(&b, LISTED_SCRIPT, vec![]).await);
        b.end().await;
    }
    let transfer = median(transfers) as u64;
    println!(
        "  transferred (HTML, JS, CSS, wasm): {}  [budget 250 KiB: {}]",
        kib(transfer),
        if transfer <= 250 * 1024 {
            "met"
        } else {
            "MISSED"
        }
    );
    let first = median(firsts.clone());
    println!(
        "  first container row on screen: median {first:.0} ms after navigation (all: {firsts:.0?})  [budget 300 ms: {}]",
        if first <= 300.0 { "met" } else { "MISSED" }
    );
    println!(
        "  the same, warm (files cached): median {:.0} ms",
        median(warm)
    );

    // Every other page's first visit, from the containers list: click to
    // its content on screen.
    println!(
        "\n## First visit to each other page (click to its content on screen; a new profile each)"
    );
    let c = format!("{prefix}-few-0");
    let pages: Vec<(String, String, String)> = [
        ("Dashboard", "a[href$='/console/']", "h1"),
        ("Engines", "a[href$='/console/engines']", "h1"),
        ("Stacks", "a[href$='/console/stacks']", "h1"),
        ("Images", "a[href$='/console/images']", "h1"),
        ("Volumes", "a[href$='/console/volumes']", "h1"),
        ("Networks", "a[href$='/console/networks']", "h1"),
        ("Swarm", "a[href$='/console/swarm']", "h1"),
        ("Events", "a[href$='/console/events']", "h1"),
        ("System", "a[href$='/console/system']", "h1"),
        ("History", "a[href$='/console/history']", "h1"),
        ("Search", "a[href$='/console/search']", "h1"),
        ("New container", "a[data-action=new-container]", "h1"),
    ]
    .into_iter()
    .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    .chain([(
        "A container's page".to_owned(),
        format!("tr[data-container='{c}'] td.name a"),
        "h1".to_owned(),
    )])
    .collect();
    let mut worst = 0.0f64;
    for (what, click, wait) in &pages {
        let b = Browser::start().await;
        b.client.goto(&url("/console/containers")).await.unwrap();
        b.css("tr[data-container]").await;
        let got = b
            .client
            .execute_async(
                VISIT_SCRIPT,
                vec![click.clone().into(), wait.clone().into()],
            )
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let (ms, wasm) = (got[0].as_f64().unwrap(), got[1].as_u64().unwrap());
        worst = worst.max(ms);
        println!("  {what:<22} {ms:>6.0} ms, {wasm} wasm requests more");
        // The terminal's group comes with its tab.
        if what == "A container's page" {
            let got = b
                .client
                .execute_async(
                    VISIT_SCRIPT,
                    vec!["a[href$='/terminal']".into(), "[data-term-mode]".into()],
                )
                .await
                .unwrap();
            let (ms, wasm) = (got[0].as_f64().unwrap(), got[1].as_u64().unwrap());
            worst = worst.max(ms);
            println!(
                "  {:<22} {ms:>6.0} ms, {wasm} wasm requests more",
                "Its terminal tab"
            );
        }
        b.end().await;
    }
    println!(
        "  slowest: {worst:.0} ms  [budget 150 ms: {}]",
        if worst <= 150.0 { "met" } else { "MISSED" }
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
    // Every container the engine has (others' too, on a shared engine).
    let total = util::docker_ok(&host, &["ps", "-aq"]).lines().count();
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

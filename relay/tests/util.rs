//! The harness: the engine under test, relays started as real processes,
//! the docker CLI and curl pointed at either.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const IMAGE: &str = "berth-test/busybox:latest";

/// The engine the tests drive, as `unix:///path/docker.sock`.
pub fn engine() -> String {
    let host = std::env::var("BERTH_TEST_DOCKER_HOST").unwrap_or_else(|_| {
        panic!(
            "BERTH_TEST_DOCKER_HOST is not set: run the README's test command \
             (scripts/test), which starts a private dockerd, or point it at an engine"
        )
    });
    ensure_image(&host);
    host
}

pub fn engine_socket() -> PathBuf {
    let host = engine();
    PathBuf::from(host.strip_prefix("unix://").expect("a unix:// test engine"))
}

/// A unique name for a container or image made by one test.
pub fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "berth-{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// No registry is reachable: the test image is a busybox root filesystem
/// imported from Debian's busybox-static.
pub fn ensure_image(host: &str) {
    // Per engine: tests use private engines besides the shared one.
    static DONE: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if done.iter().any(|h| h == host) {
        return;
    }
    if !docker(host, &["image", "inspect", IMAGE]).status.success() {
        let root = tempfile::tempdir().unwrap();
        let bin = root.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(root.path().join("tmp")).unwrap();
        std::fs::copy("/bin/busybox", bin.join("busybox")).expect("busybox-static is installed");
        let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
        for applet in String::from_utf8(list.stdout).unwrap().lines() {
            if applet != "busybox" {
                std::os::unix::fs::symlink("busybox", bin.join(applet)).unwrap();
            }
        }
        let tar = Command::new("tar")
            .args(["-C", root.path().to_str().unwrap(), "-c", "."])
            .output()
            .unwrap();
        let out = docker_in(
            host,
            &["import", "-c", "ENV PATH=/bin", "-", IMAGE],
            &tar.stdout,
        );
        assert!(out.status.success(), "import failed: {}", text(&out.stderr));
    }
    done.push(host.to_owned());
}

fn docker_command(host: &str, args: &[&str]) -> Command {
    static CONFIG: OnceLock<tempfile::TempDir> = OnceLock::new();
    let config = CONFIG.get_or_init(|| tempfile::tempdir().unwrap());
    let mut cmd = Command::new("docker");
    cmd.arg("-H")
        .arg(host)
        .args(args)
        .env("DOCKER_CONFIG", config.path())
        .env("DOCKER_BUILDKIT", "0")
        .env("DOCKER_CLI_HINTS", "false")
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT");
    cmd
}

/// `docker -H host args…` with no stdin.
pub fn docker(host: &str, args: &[&str]) -> Output {
    docker_command(host, args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `docker -H host args…` with these environment variables set.
pub fn docker_env(host: &str, envs: &[(&str, &str)], args: &[&str]) -> Output {
    docker_command(host, args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `docker -H host args…` with `input` on stdin, then stdin closed.
pub fn docker_in(host: &str, args: &[&str], input: &[u8]) -> Output {
    let mut child = docker_command(host, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// Runs docker and insists it succeeded; gives its stdout.
pub fn docker_ok(host: &str, args: &[&str]) -> String {
    let out = docker(host, args);
    assert!(
        out.status.success(),
        "docker {args:?} via {host} failed: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A container removed when the test ends, pass or fail.
pub struct Container {
    pub name: String,
}

impl Container {
    /// `docker run -d --name NAME <args…>` on the test engine.
    pub fn run(prefix: &str, args: &[&str]) -> Container {
        let name = unique(prefix);
        let mut full = vec!["run", "-d", "--name", &name];
        full.extend_from_slice(args);
        docker_ok(&engine(), &full);
        Container { name }
    }

    #[allow(dead_code)] // used by the browser tests
    pub fn state(&self) -> String {
        docker_ok(
            &engine(),
            &["inspect", "-f", "{{.State.Status}}", &self.name],
        )
        .trim()
        .to_owned()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker(&engine(), &["rm", "-f", "-v", &self.name]);
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits for `cond`, failing the test with `what` after `timeout`.
pub fn wait_for(what: &str, timeout: Duration, cond: impl FnMut() -> bool) {
    assert!(
        wait_until(timeout, cond),
        "timed out after {timeout:?} waiting for {what}"
    );
}

/// Waits up to `timeout` for `cond`; whether it came true.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !cond() {
        if start.elapsed() >= timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// A `berth` process, killed when dropped.
pub struct Relay {
    pub port: u16,
    pub child: Child,
    log: tempfile::NamedTempFile,
}

impl Relay {
    /// A relay in front of the test engine.
    pub fn start() -> Relay {
        Relay::start_with(&engine(), &[])
    }

    pub fn start_with(engine: &str, args: &[&str]) -> Relay {
        let mut all = vec!["--engine", engine];
        all.extend_from_slice(args);
        Relay::spawn(&all, &[])
    }

    /// A relay on loopback with exactly these arguments (besides --listen)
    /// and environment variables.
    pub fn spawn(args: &[&str], envs: &[(&str, &str)]) -> Relay {
        Relay::spawn_on("127.0.0.1", args, envs)
    }

    /// The same, listening on `ip` (reached through 127.0.0.1 all the same).
    pub fn spawn_on(ip: &str, args: &[&str], envs: &[(&str, &str)]) -> Relay {
        let port = free_port();
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_berth"))
            .args(["--listen", &format!("{ip}:{port}")])
            .args(args)
            .envs(envs.iter().copied())
            .env_remove("BERTH_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap();
        let relay = Relay { port, child, log };
        wait_for("the relay to listen", Duration::from_secs(10), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        relay
    }

    /// For `docker -H`.
    pub fn host(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// What the relay logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// curl against the relay (`via = Some(relay)`) or the engine's socket.
pub fn curl(via: Option<&Relay>, args: &[&str], path: &str) -> Output {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--max-time", "60"]).args(args);
    match via {
        Some(relay) => cmd.arg(relay.url(path)),
        None => cmd
            .arg("--unix-socket")
            .arg(engine_socket())
            .arg(format!("http://engine{path}")),
    };
    cmd.stdin(Stdio::null()).output().unwrap()
}

pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A private dockerd of a test's own, for what must not disturb the shared
/// test engine (restarts, TLS). Stopped when dropped; `stop` and `start`
/// again keep its data.
pub struct PrivateEngine {
    child: Option<Child>,
    args: Vec<String>,
    root: tempfile::TempDir,
    ready: Probe,
}

/// Runs a docker command against a private engine; whether it succeeded.
type Probe = Box<dyn Fn(&[&str]) -> bool>;

impl PrivateEngine {
    /// Starts dockerd with `args` (its -H and TLS flags) besides its own
    /// folders; `ready` runs a docker command against it.
    pub fn start(args: &[String], ready: impl Fn(&[&str]) -> bool + 'static) -> PrivateEngine {
        let root = tempfile::Builder::new()
            .prefix("berth-engine")
            .tempdir_in("/tmp")
            .unwrap();
        let mut engine = PrivateEngine {
            child: None,
            args: args.to_vec(),
            root,
            ready: Box::new(ready),
        };
        engine.start_again();
        engine
    }

    /// One on its own unix socket: `(engine, "unix:///…/docker.sock")`.
    pub fn unix() -> (PrivateEngine, String) {
        PrivateEngine::unix_with(&[])
    }

    /// The same, with more of dockerd's flags (`--experimental`).
    pub fn unix_with(flags: &[&str]) -> (PrivateEngine, String) {
        let root = tempfile::Builder::new()
            .prefix("berth-engine")
            .tempdir_in("/tmp")
            .unwrap();
        let host = format!("unix://{}/docker.sock", root.path().display());
        let probe = host.clone();
        let mut engine = PrivateEngine {
            child: None,
            args: std::iter::once(format!("-H={host}"))
                .chain(flags.iter().map(|f| f.to_string()))
                .collect(),
            root,
            ready: Box::new(move |args| docker(&probe, args).status.success()),
        };
        engine.start_again();
        (engine, host)
    }

    pub fn start_again(&mut self) {
        let at = |p: &str| self.root.path().join(p);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(at("dockerd.log"))
            .unwrap();
        let child = Command::new("dockerd")
            .args(&self.args)
            .arg("--data-root")
            .arg(at("data"))
            .arg("--exec-root")
            .arg(at("exec"))
            .arg("--pidfile")
            .arg(at("dockerd.pid"))
            .args([
                "--storage-driver",
                "vfs",
                "--bridge",
                "none",
                "--iptables=false",
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("dockerd");
        self.child = Some(child);
        assert!(
            wait_until(Duration::from_secs(60), || (self.ready)(&["version"])),
            "the private dockerd did not start: {}",
            std::fs::read_to_string(at("dockerd.log")).unwrap_or_default()
        );
    }

    /// Stops dockerd the way a service manager would (SIGTERM, then wait).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            if !wait_until(Duration::from_secs(20), || {
                child.try_wait().ok().flatten().is_some()
            }) {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateEngine {
    fn drop(&mut self) {
        self.stop();
    }
}

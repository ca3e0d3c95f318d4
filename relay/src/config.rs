//! Command line and environment. Every flag has a `BERTH_*` variable.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::Parser;

/// The headers a browser may read from engine answers: `/_ping`'s, and the
/// one `docker cp` reads from archive requests.
pub const EXPOSED_HEADERS: [&str; 6] = [
    "api-version",
    "ostype",
    "docker-experimental",
    "builder-version",
    "swarm",
    "x-docker-container-path-stat",
];

const DEFAULT_ENGINE: &str = "unix:///var/run/docker.sock";

#[derive(Debug, Clone, Parser)]
#[command(
    name = "berth",
    version,
    about = "Serves the Berth console and relays the Docker Engine API to it and to the docker CLI.",
    after_help = "The Engine API is served at the root, as the engine serves it:\n  \
        docker -H tcp://127.0.0.1:2375 ps\n  curl 127.0.0.1:2375/containers/json\n\
        The console is at http://127.0.0.1:2375/ (it redirects to /console/)."
)]
pub struct Config {
    /// Address to listen on. Anything but loopback needs a token (or
    /// --insecure-no-auth).
    #[arg(long, env = "BERTH_LISTEN", default_value = "127.0.0.1:2375")]
    pub listen: SocketAddr,

    /// The engine: unix:///path/to/docker.sock or tcp://host:port.
    /// Without it, DOCKER_HOST is used, then unix:///var/run/docker.sock.
    #[arg(long, env = "BERTH_ENGINE")]
    pub engine: Option<EngineAddr>,

    /// Browser origin allowed to call the API cross-origin, e.g.
    /// http://localhost:8080 (repeat, or comma-separate in the variable).
    /// Pages the relay serves itself are always allowed.
    #[arg(
        long = "allow-origin",
        env = "BERTH_ALLOW_ORIGIN",
        value_delimiter = ','
    )]
    pub allow_origins: Vec<String>,

    /// Host name the relay answers to besides IP addresses and localhost,
    /// e.g. the name it is reached by on the network (repeatable). Other
    /// names are refused, which defeats DNS rebinding.
    #[arg(long = "allow-host", env = "BERTH_ALLOW_HOST", value_delimiter = ',')]
    pub allow_hosts: Vec<String>,

    /// File holding the token clients must send as `Authorization: Bearer`.
    /// The token can also be given in the BERTH_TOKEN variable.
    #[arg(long, env = "BERTH_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,

    /// The token itself, read from BERTH_TOKEN or --token-file.
    #[arg(skip)]
    pub token: Option<String>,

    /// Which Engine calls pass: `full`, `read-only` (lists, inspect, logs,
    /// stats, events; no changes, exec, attach, archive or export), or a
    /// rules file (`allow|deny METHOD /path/*/pattern/**` lines, first
    /// match wins, no match denies). Default: full on loopback, read-only
    /// on any other address.
    #[arg(long, env = "BERTH_POLICY")]
    pub policy: Option<String>,

    /// Host folder bind mounts may come from when the create guard is on
    /// (any policy but full); repeatable.
    #[arg(long = "allow-bind", env = "BERTH_ALLOW_BIND", value_delimiter = ',')]
    pub allow_binds: Vec<PathBuf>,

    /// Serve HTTPS with this certificate (PEM, chain first); needs --tls-key.
    #[arg(long, env = "BERTH_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "BERTH_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// With HTTPS, require client certificates signed by this CA (PEM). It
    /// counts as authentication, like a token.
    #[arg(long, env = "BERTH_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,

    /// The relay's HTTPS configuration, from --tls-cert/--tls-key.
    #[arg(skip)]
    pub server_tls: Option<std::sync::Arc<rustls::ServerConfig>>,

    /// TLS to a tcp:// engine, from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH.
    #[arg(skip)]
    pub engine_tls: Option<std::sync::Arc<rustls::ClientConfig>>,

    /// The policy, loaded from --policy.
    #[arg(skip)]
    pub rules: Option<berth_engine::Policy>,

    /// The path clients reach berth under behind a reverse proxy, e.g.
    /// /berth (the console is then at /berth/console/). Whether or not the
    /// proxy strips it, berth answers, and the console calls through it.
    #[arg(long, env = "BERTH_BASE_PATH", value_parser = base_path)]
    pub base_path: Option<String>,

    /// Serve the console from this folder (Trunk's dist/) instead of the
    /// one built into the binary.
    #[arg(long, env = "BERTH_CONSOLE_DIR")]
    pub console_dir: Option<PathBuf>,

    /// End a terminal session after this long without input or output, e.g.
    /// 30m, 2h, 90s (sessions outlive the pages that show them).
    #[arg(long, env = "BERTH_TERMINAL_IDLE", default_value = "30m", value_parser = duration)]
    pub terminal_idle: Duration,

    /// Record every container's log in this folder, kept after the container
    /// is gone, with its exit, final inspect and stats (the flight recorder;
    /// off unless given).
    #[arg(long, env = "BERTH_RECORD")]
    pub record: Option<PathBuf>,

    /// The most the recorder keeps on disk, e.g. 1G, 500M; the oldest
    /// goes first.
    #[arg(long, env = "BERTH_RECORD_MAX", default_value = "1G", value_parser = crate::recorder::size)]
    pub record_max: u64,

    /// Seconds to wait for open streams on SIGINT/SIGTERM before closing them.
    #[arg(long, env = "BERTH_SHUTDOWN_GRACE", default_value_t = 5)]
    pub shutdown_grace: u64,

    /// Listen on a non-loopback address without a token. Anyone who can
    /// reach it is root on this host.
    #[arg(long, env = "BERTH_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,

    /// Ask the berth listening at --listen whether it and its engine are
    /// well, and exit 0 if so (for container health checks: the image has
    /// no curl).
    #[arg(long)]
    pub health: bool,

    /// Log filter (tracing's EnvFilter syntax), e.g. info or berth=debug.
    #[arg(long, env = "BERTH_LOG", default_value = "info")]
    pub log: String,
}

impl Config {
    /// Parses the command line and environment, and resolves the engine.
    pub fn load() -> anyhow::Result<Config> {
        let mut config = Config::parse();
        if config.engine.is_none() {
            config.engine = Some(match std::env::var("DOCKER_HOST") {
                Ok(host) if !host.is_empty() => host
                    .parse()
                    .map_err(|e| anyhow::anyhow!("DOCKER_HOST={host}: {e}"))?,
                _ => DEFAULT_ENGINE.parse().expect("default engine parses"),
            });
        }
        let tls_verify = std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty());
        if tls_verify && matches!(config.engine, Some(EngineAddr::Tcp { .. })) {
            let dir = crate::tls::docker_cert_path();
            config.engine_tls = Some(crate::tls::engine_client(&dir).map_err(|e| {
                anyhow::anyhow!(
                    "DOCKER_TLS_VERIFY is set, but the TLS files in {} fail: {e:#}",
                    dir.display()
                )
            })?);
        }
        let policy = config.policy.clone().unwrap_or_else(|| {
            if config.listen.ip().is_loopback() {
                "full"
            } else {
                "read-only"
            }
            .to_owned()
        });
        config.rules = Some(match policy.as_str() {
            "full" => berth_engine::Policy::full(),
            "read-only" => berth_engine::Policy::read_only(),
            path => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!(
                        "--policy {path}: not full, read-only or a readable rules file: {e}"
                    )
                })?;
                berth_engine::Policy::parse(path, &text)
                    .map_err(|e| anyhow::anyhow!("--policy {path}: {e}"))?
            }
        });
        config.token = match (&config.token_file, std::env::var("BERTH_TOKEN")) {
            (Some(path), _) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("--token-file {}: {e}", path.display()))?
                    .trim()
                    .to_owned(),
            ),
            (None, Ok(token)) if !token.trim().is_empty() => Some(token.trim().to_owned()),
            _ => None,
        };
        if let Some(dir) = &config.record {
            crate::recorder::store::writable(dir)
                .map_err(|e| anyhow::anyhow!("--record {}: {e}", dir.display()))?;
        }
        if config.token.as_ref().is_some_and(|t| t.len() < 16) {
            anyhow::bail!(
                "the token is too short: use at least 16 characters (e.g. `openssl rand -hex 32`)"
            );
        }
        if let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) {
            config.server_tls = Some(
                crate::tls::server(cert, key, config.tls_client_ca.as_deref())
                    .map_err(|e| anyhow::anyhow!("serving HTTPS: {e:#}"))?,
            );
        }
        if !config.listen.ip().is_loopback() && !config.authenticates() && !config.insecure_no_auth
        {
            anyhow::bail!(
                "refusing to listen on {} without a token: that would expose the Docker engine \
                 (root on this host) to anyone who reaches it; give --token-file (or BERTH_TOKEN) or --tls-client-ca, \
                 listen on 127.0.0.1, or pass --insecure-no-auth",
                config.listen
            );
        }
        Ok(config)
    }

    /// Configuration for tests: `engine` on loopback, everything else default.
    pub fn for_engine(engine: EngineAddr) -> Config {
        let mut config = Config::parse_from(["berth"]);
        config.engine = Some(engine);
        config
    }

    pub fn engine(&self) -> EngineAddr {
        self.engine
            .clone()
            .unwrap_or_else(|| DEFAULT_ENGINE.parse().expect("default engine parses"))
    }

    /// Whether clients must prove who they are (token or client certificate).
    pub fn authenticates(&self) -> bool {
        self.token.is_some() || (self.server_tls.is_some() && self.tls_client_ca.is_some())
    }

    pub fn rules(&self) -> berth_engine::Policy {
        self.rules
            .clone()
            .unwrap_or_else(berth_engine::Policy::full)
    }

    pub fn terminal_idle(&self) -> Duration {
        self.terminal_idle
    }

    pub fn grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace)
    }
}

/// Where the engine listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineAddr {
    Unix(PathBuf),
    Tcp { host: String, port: u16 },
}

impl FromStr for EngineAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(path) = s.strip_prefix("unix://") {
            if path.is_empty() {
                return Err("unix:// needs a socket path, e.g. unix:///var/run/docker.sock".into());
            }
            return Ok(EngineAddr::Unix(PathBuf::from(path)));
        }
        if let Some(rest) = s
            .strip_prefix("tcp://")
            .or_else(|| s.strip_prefix("http://"))
        {
            let rest = rest.trim_end_matches('/');
            let (host, port) = match rest.rsplit_once(':') {
                Some((h, p)) if !h.ends_with(':') || h.starts_with('[') => {
                    (h, p.parse().map_err(|_| format!("bad port in {s:?}"))?)
                }
                _ => (rest, 2375),
            };
            if host.is_empty() {
                return Err(format!("no host in {s:?}"));
            }
            return Ok(EngineAddr::Tcp {
                host: host.trim_matches(['[', ']']).to_owned(),
                port,
            });
        }
        Err(format!(
            "unsupported engine address {s:?}: use unix:///path/to/docker.sock or tcp://host:port"
        ))
    }
}

impl fmt::Display for EngineAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineAddr::Unix(path) => write!(f, "unix://{}", path.display()),
            EngineAddr::Tcp { host, port } if host.contains(':') => {
                write!(f, "tcp://[{host}]:{port}")
            }
            EngineAddr::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
        }
    }
}

/// `90s`, `30m`, `2h`, or plain seconds.
fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (n, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{text:?}: a duration is like 90s, 30m or 2h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("{text:?}: a duration is like 90s, 30m or 2h")),
    };
    if secs == 0 {
        return Err("a duration must be more than nothing".into());
    }
    Ok(Duration::from_secs(secs))
}

/// `/berth`, `/a/b`: a leading slash, no trailing one, plain segments.
fn base_path(text: &str) -> Result<String, String> {
    let path = text.trim().trim_end_matches('/');
    let plain = |seg: &str| {
        !seg.is_empty()
            && seg != "."
            && seg != ".."
            && seg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
    };
    match path.strip_prefix('/') {
        Some(rest) if rest.split('/').all(plain) => Ok(path.to_owned()),
        _ => Err(format!(
            "{text:?}: a base path is like /berth (letters, digits, - . _ ~ between slashes)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_addresses() {
        assert_eq!(
            "unix:///var/run/docker.sock".parse(),
            Ok(EngineAddr::Unix("/var/run/docker.sock".into()))
        );
        let tcp = |h: &str, p| {
            Ok(EngineAddr::Tcp {
                host: h.into(),
                port: p,
            })
        };
        assert_eq!("tcp://10.0.0.2:2376".parse(), tcp("10.0.0.2", 2376));
        assert_eq!("tcp://docker".parse(), tcp("docker", 2375));
        assert_eq!("tcp://[::1]:2375".parse(), tcp("::1", 2375));
        assert!("ssh://me@host".parse::<EngineAddr>().is_err());
        assert!("unix://".parse::<EngineAddr>().is_err());
        assert!("tcp://:2375".parse::<EngineAddr>().is_err());
        for s in ["unix:///run/d.sock", "tcp://h:1", "tcp://[::1]:2375"] {
            assert_eq!(s.parse::<EngineAddr>().unwrap().to_string(), s);
        }
    }
}

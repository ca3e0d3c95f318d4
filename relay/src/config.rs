//! Command line and environment. Every flag has a `BERTH_*` variable.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use axum::http::{header::HeaderName, HeaderValue};
use clap::Parser;
use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer};

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
    /// Address to listen on. Anything but loopback needs --insecure-no-auth
    /// until authentication is configured.
    #[arg(long, env = "BERTH_LISTEN", default_value = "127.0.0.1:2375")]
    pub listen: SocketAddr,

    /// The engine: unix:///path/to/docker.sock or tcp://host:port.
    /// Without it, DOCKER_HOST is used, then unix:///var/run/docker.sock.
    #[arg(long, env = "BERTH_ENGINE")]
    pub engine: Option<EngineAddr>,

    /// Browser origin allowed to call the API cross-origin, e.g.
    /// http://localhost:8080 (repeat, or comma-separate in the variable).
    /// The relay's own origin is always allowed.
    #[arg(
        long = "allow-origin",
        env = "BERTH_ALLOW_ORIGIN",
        value_delimiter = ','
    )]
    pub allow_origins: Vec<String>,

    /// Folder holding the built console (Trunk's dist/).
    #[arg(long, env = "BERTH_CONSOLE_DIR", default_value = default_console_dir())]
    pub console_dir: PathBuf,

    /// Seconds to wait for open streams on SIGINT/SIGTERM before closing them.
    #[arg(long, env = "BERTH_SHUTDOWN_GRACE", default_value_t = 5)]
    pub shutdown_grace: u64,

    /// Listen on a non-loopback address without authentication. Anyone who
    /// can reach it is root on this host.
    #[arg(long, env = "BERTH_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,

    /// Log filter (tracing's EnvFilter syntax), e.g. info or berth=debug.
    #[arg(long, env = "BERTH_LOG", default_value = "info")]
    pub log: String,
}

fn default_console_dir() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../dist")
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
        if !config.listen.ip().is_loopback() && !config.insecure_no_auth {
            anyhow::bail!(
                "refusing to listen on {}: that exposes the Docker engine (root on this host) \
                 without authentication; listen on 127.0.0.1, or pass --insecure-no-auth",
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

    pub fn grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace)
    }

    /// Origins a browser page served by the relay itself has.
    pub fn own_origins(&self) -> Vec<String> {
        let port = self.listen.port();
        let ip = self.listen.ip();
        if ip.is_loopback() || ip.is_unspecified() {
            vec![
                format!("http://127.0.0.1:{port}"),
                format!("http://localhost:{port}"),
                format!("http://[::1]:{port}"),
            ]
        } else {
            match ip {
                IpAddr::V4(v4) => vec![format!("http://{v4}:{port}")],
                IpAddr::V6(v6) => vec![format!("http://[{v6}]:{port}")],
            }
        }
    }

    /// CORS for the exact allowed origins; `Vary: Origin` is always sent.
    pub fn cors(&self) -> CorsLayer {
        let origins: Vec<HeaderValue> = self
            .own_origins()
            .iter()
            .chain(&self.allow_origins)
            .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
            .collect();
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods(AllowMethods::mirror_request())
            .allow_headers(AllowHeaders::mirror_request())
            .expose_headers(EXPOSED_HEADERS.map(HeaderName::from_static))
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

    #[test]
    fn own_origins_follow_the_listen_address() {
        let mut c = Config::for_engine(EngineAddr::Unix("/s".into()));
        assert!(c
            .own_origins()
            .contains(&"http://localhost:2375".to_owned()));
        c.listen = "192.0.2.7:9000".parse().unwrap();
        assert_eq!(c.own_origins(), ["http://192.0.2.7:9000"]);
    }
}

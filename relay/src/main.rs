use std::io::IsTerminal;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::serve::ListenerExt;
use berth::{app, Config};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tracing::{info, warn};

// One thread: the relay moves bytes, and on two cores a second worker
// thread cost a fifth more CPU per byte of a log read in hand-offs between
// threads (measured with perf; scripts/bench). Heavy work goes to
// tokio's blocking pool.
#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let config = Config::load()?;
    if config.health {
        std::process::exit(health(&config));
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&config.log).context("--log")?)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    // Each client holds a connection and, while its call runs, one to the
    // engine: a thousand clients need more descriptors than the usual soft
    // limit of 1024.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => tracing::debug!("open file limit {n}"),
        Err(e) => warn!("could not raise the open file limit: {e}"),
    }
    if !config.listen.ip().is_loopback() && !config.authenticates() {
        warn!(
            "listening on {} without authentication: anyone who can reach it is root on this host",
            config.listen
        );
    }

    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let scheme = if config.server_tls.is_some() {
        "https"
    } else {
        "http"
    };
    info!(
        listen = %config.listen,
        engine = %config.engine(),
        console = %format!("{scheme}://{}/", config.listen),
        "berth ready"
    );

    let stop = Arc::new(Notify::new());
    let stopped = {
        let stop = stop.clone();
        async move { stop.notified().await }
    };
    let server = async {
        match config.server_tls.clone() {
            Some(tls) => {
                berth::serve::https(listener, app(&config), tls, stopped).await;
                Ok(())
            }
            // Nagle would hold back the small answers the API is made of.
            None => {
                axum::serve(
                    listener.tap_io(|tcp| {
                        let _ = tcp.set_nodelay(true);
                    }),
                    app(&config).into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(stopped)
                .await
            }
        }
    };
    let grace = config.grace();
    let deadline = async {
        shutdown_signal().await;
        info!(
            "shutting down; open streams get {}s to finish",
            grace.as_secs()
        );
        stop.notify_one();
        tokio::time::sleep(grace).await;
        warn!("closing streams still open after {}s", grace.as_secs());
    };
    tokio::select! {
        served = server => served.context("serving")?,
        () = deadline => {}
    }
    info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// `--health`: 0 when the berth at --listen answers that it and its engine
/// are well. Over TLS, that it accepts connections.
fn health(config: &Config) -> i32 {
    use std::io::{Read, Write};
    let mut addr = config.listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let timeout = std::time::Duration::from_secs(5);
    let Ok(mut conn) = std::net::TcpStream::connect_timeout(&addr, timeout) else {
        eprintln!("berth is not listening on {addr}");
        return 1;
    };
    if config.server_tls.is_some() {
        return 0;
    }
    let _ = conn.set_read_timeout(Some(timeout));
    let request = format!("GET /_berth/health HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    let mut answer = String::new();
    if conn.write_all(request.as_bytes()).is_err() || conn.read_to_string(&mut answer).is_err() {
        eprintln!("berth on {addr} did not answer");
        return 1;
    }
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    if answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200") {
        if body.contains("\"engine\":\"ok\"") {
            return 0;
        }
        eprintln!("the engine is not well: {body}");
    } else {
        eprintln!(
            "berth on {addr}: {}",
            answer.lines().next().unwrap_or_default()
        );
    }
    1
}

//! Serving HTTPS. Plain HTTP goes through `axum::serve`; it has no TLS, so
//! this accept loop puts rustls in front of the same router, with the same
//! upgrades, client address and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;
use tracing::debug;

/// A TLS handshake that takes longer is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn https(
    listener: TcpListener,
    app: Router,
    tls: Arc<rustls::ServerConfig>,
    stop: impl Future<Output = ()>,
) {
    let acceptor = TlsAcceptor::from(tls);
    // Each connection holds a receiver: a change asks it to finish, and the
    // channel closes once every connection has.
    let (stopping, stop_rx) = tokio::sync::watch::channel(false);
    tokio::pin!(stop);
    loop {
        let (tcp, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    debug!("accept failed: {e}");
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, app, mut stop_rx) = (acceptor.clone(), app.clone(), stop_rx.clone());
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => return debug!(%client, "TLS handshake failed: {e}"),
                Err(_) => return debug!(%client, "TLS handshake timed out"),
            };
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(client));
                app.clone().oneshot(req.map(axum::body::Body::new))
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            tokio::pin!(conn);
            let ended = tokio::select! {
                ended = conn.as_mut() => ended,
                _ = stop_rx.changed() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = ended {
                debug!(%client, "connection ended: {e}");
            }
        });
    }
    drop(listener);
    drop(stop_rx);
    let _ = stopping.send(true);
    stopping.closed().await;
}

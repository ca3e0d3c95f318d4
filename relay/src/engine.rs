//! The upstream side: connections to the engine over a unix socket or TCP,
//! pooled and kept alive by hyper's client.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio_rustls::TlsConnector;

use crate::config::EngineAddr;

/// A connect that takes longer than this is reported as unreachable rather
/// than left hanging (a blackholed TCP address would otherwise wait minutes).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Engine {
    pub addr: EngineAddr,
    pub client: Client<Connector, Body>,
}

impl Engine {
    /// `tls`: the client configuration for a `tcp://` engine that wants
    /// TLS (from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH).
    pub fn new(addr: EngineAddr, tls: Option<Arc<rustls::ClientConfig>>) -> Engine {
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            // Enough for a busy console and CLI; a burst of clients must not
            // leave the engine holding hundreds of idle connections.
            .pool_max_idle_per_host(32)
            .build(Connector {
                addr: addr.clone(),
                tls: tls.map(TlsConnector::from),
            });
        Engine { addr, client }
    }

    /// The URI the client needs: only the path and query reach the engine;
    /// the authority just names the pool.
    pub fn uri(&self, path_and_query: &str) -> Result<Uri, hyper::http::Error> {
        Uri::builder()
            .scheme("http")
            .authority("engine")
            .path_and_query(path_and_query)
            .build()
    }
}

#[derive(Clone)]
pub struct Connector {
    addr: EngineAddr,
    tls: Option<TlsConnector>,
}

impl tower::Service<Uri> for Connector {
    type Response = TokioIo<EngineStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Uri) -> Self::Future {
        let addr = self.addr.clone();
        let tls = self.tls.clone();
        Box::pin(async move {
            let connect = async {
                Ok::<_, io::Error>(match &addr {
                    EngineAddr::Unix(path) => EngineStream::Unix(UnixStream::connect(path).await?),
                    EngineAddr::Tcp { host, port } => {
                        let tcp = TcpStream::connect((host.as_str(), *port)).await?;
                        // Small request/answer pairs must not wait on Nagle.
                        tcp.set_nodelay(true)?;
                        match &tls {
                            None => EngineStream::Tcp(tcp),
                            Some(tls) => {
                                let name = ServerName::try_from(host.clone())
                                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
                                EngineStream::Tls(Box::new(tls.connect(name, tcp).await?))
                            }
                        }
                    }
                })
            };
            match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
                Ok(stream) => Ok(TokioIo::new(stream?)),
                Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out")),
            }
        })
    }
}

/// One connection to the engine.
pub enum EngineStream {
    Unix(UnixStream),
    Tcp(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl Connection for EngineStream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            EngineStream::Unix($s) => $e,
            EngineStream::Tcp($s) => $e,
            EngineStream::Tls($s) => $e,
        }
    };
}

impl AsyncRead for EngineStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        delegate!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for EngineStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            EngineStream::Unix(s) => s.is_write_vectored(),
            EngineStream::Tcp(s) => s.is_write_vectored(),
            EngineStream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => Pin::new(s).poll_flush(cx))
    }

    /// Shuts down the write side only: this is how stdin EOF reaches a
    /// hijacked exec or attach while its output keeps coming.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}

impl Engine {
    /// `GET /_ping` without the caller's request: for the relay's health.
    pub async fn ping(&self) -> Result<(), crate::error::RelayError> {
        let req = hyper::Request::get(self.uri("/_ping").expect("static uri"))
            .body(Body::empty())
            .expect("static request");
        let resp = self.client.request(req).await.map_err(|e| self.error(&e))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(crate::error::RelayError::Upstream {
                engine: self.addr.to_string(),
                reason: format!("/_ping answered {}", resp.status()),
            })
        }
    }

    /// Words for a client error: unreachable when no connection was made.
    pub fn error(&self, err: &hyper_util::client::legacy::Error) -> crate::error::RelayError {
        let engine = self.addr.to_string();
        let mut reason = err.to_string();
        let mut source = std::error::Error::source(err);
        while let Some(s) = source {
            reason = format!("{reason}: {s}");
            source = s.source();
        }
        if err.is_connect() {
            crate::error::RelayError::Unreachable { engine, reason }
        } else {
            crate::error::RelayError::Upstream { engine, reason }
        }
    }
}

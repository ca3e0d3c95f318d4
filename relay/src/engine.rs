//! The upstream side: connections to the engine over a unix socket or TCP,
//! pooled and kept alive by hyper's client.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use hyper::body::Incoming;
use hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio_rustls::TlsConnector;

use crate::coalesce::Coalesce;
use crate::config::EngineAddr;
use crate::error::RelayError;

/// A connect that takes longer than this is reported as unreachable rather
/// than left hanging (a blackholed TCP address would otherwise wait minutes).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Engine {
    pub addr: EngineAddr,
    pub client: Client<Connector, Body>,
    connector: Connector,
    /// Streamed answers being read now.
    streaming: Arc<AtomicUsize>,
}

impl Engine {
    /// `tls`: the client configuration for a `tcp://` engine that wants
    /// TLS (from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH).
    pub fn new(addr: EngineAddr, tls: Option<Arc<rustls::ClientConfig>>) -> Engine {
        let connector = Connector {
            addr: addr.clone(),
            tls: tls.map(TlsConnector::from),
            open: Arc::new(AtomicUsize::new(0)),
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            // Enough for a busy console and CLI; a burst of clients must not
            // leave the engine holding hundreds of idle connections.
            .pool_max_idle_per_host(32)
            .build(connector.clone());
        Engine {
            addr,
            client,
            connector,
            streaming: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The connections to the engine open now (pooled and streaming).
    pub fn open_connections(&self) -> usize {
        self.connector.open.load(Ordering::Relaxed)
    }

    /// The streamed answers being read now, each on its own connection.
    pub fn open_streams(&self) -> usize {
        self.streaming.load(Ordering::Relaxed)
    }

    /// A call whose answer streams (logs, events, stats, archives, pull
    /// and build progress), on a connection of its own that whoever reads
    /// the answer drives. The engine sends such answers as one small chunk
    /// per line; through the pooled client each chunk is handed from the
    /// connection's task to the reader's, a wake-up each, which halved a
    /// log read. Driven in the reader's task, chunks cost no hand-off, and
    /// what has arrived goes on joined ([`Coalesce`]).
    pub async fn stream(
        &self,
        mut req: hyper::Request<Body>,
    ) -> Result<hyper::Response<Body>, RelayError> {
        // The pooled client adds a Host when the request has none; the
        // engine refuses HTTP/1.1 without one.
        req.headers_mut()
            .entry(hyper::header::HOST)
            .or_insert(hyper::header::HeaderValue::from_static("engine"));
        let unreachable = |e: &dyn std::fmt::Display| RelayError::Unreachable {
            engine: self.addr.to_string(),
            reason: e.to_string(),
        };
        let failed = |e: hyper::Error| RelayError::Upstream {
            engine: self.addr.to_string(),
            reason: e.to_string(),
        };
        let io = self
            .connector
            .connect()
            .await
            .map_err(|e| unreachable(&e))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| unreachable(&e))?;
        let mut conn = Box::pin(conn);
        let answer = sender.send_request(req);
        tokio::pin!(answer);
        let resp = tokio::select! {
            biased;
            resp = &mut answer => resp.map_err(failed)?,
            ended = &mut conn => {
                return Err(match ended {
                    Err(e) => failed(e),
                    Ok(()) => RelayError::Upstream {
                        engine: self.addr.to_string(),
                        reason: "it closed the connection without answering".into(),
                    },
                })
            }
        };
        self.streaming.fetch_add(1, Ordering::Relaxed);
        let streaming = self.streaming.clone();
        Ok(resp.map(|body| {
            Body::new(Coalesce::new(Driven {
                conn: Some(conn),
                body,
                streaming,
            }))
        }))
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
    /// Connections open now.
    open: Arc<AtomicUsize>,
}

impl Connector {
    /// A new connection to the engine.
    async fn connect(&self) -> io::Result<TokioIo<EngineStream>> {
        let connect = async {
            Ok::<_, io::Error>(match &self.addr {
                EngineAddr::Unix(path) => Io::Unix(UnixStream::connect(path).await?),
                EngineAddr::Tcp { host, port } => {
                    let tcp = TcpStream::connect((host.as_str(), *port)).await?;
                    // Small request/answer pairs must not wait on Nagle.
                    tcp.set_nodelay(true)?;
                    match &self.tls {
                        None => Io::Tcp(tcp),
                        Some(tls) => {
                            let name = ServerName::try_from(host.clone())
                                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
                            Io::Tls(Box::new(tls.connect(name, tcp).await?))
                        }
                    }
                }
            })
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Ok(io) => {
                let io = io?;
                self.open.fetch_add(1, Ordering::Relaxed);
                Ok(TokioIo::new(EngineStream {
                    io,
                    open: self.open.clone(),
                }))
            }
            Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out")),
        }
    }
}

type EngineConn = hyper::client::conn::http1::Connection<TokioIo<EngineStream>, Body>;

/// A streamed answer and the connection it arrives on, polled together;
/// counted while it lasts.
struct Driven {
    conn: Option<Pin<Box<EngineConn>>>,
    body: Incoming,
    streaming: Arc<AtomicUsize>,
}

impl Drop for Driven {
    fn drop(&mut self) {
        self.streaming.fetch_sub(1, Ordering::Relaxed);
    }
}

impl hyper::body::Body for Driven {
    type Data = axum::body::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        // The connection reads and decodes what the engine sent, up to what
        // the body can take; it ends (or fails) into the body.
        if let Some(conn) = self.conn.as_mut() {
            if conn.as_mut().poll(cx).is_ready() {
                self.conn = None;
            }
        }
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

impl tower::Service<Uri> for Connector {
    type Response = TokioIo<EngineStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.connect().await })
    }
}

/// One connection to the engine, counted while it is open.
pub struct EngineStream {
    io: Io,
    open: Arc<AtomicUsize>,
}

enum Io {
    Unix(UnixStream),
    Tcp(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl Drop for EngineStream {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Connection for EngineStream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match &mut $self.get_mut().io {
            Io::Unix($s) => $e,
            Io::Tcp($s) => $e,
            Io::Tls($s) => $e,
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
        match &self.io {
            Io::Unix(s) => s.is_write_vectored(),
            Io::Tcp(s) => s.is_write_vectored(),
            Io::Tls(s) => s.is_write_vectored(),
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

//! The upstream side: connections to the engine over a unix socket or TCP,
//! pooled and kept alive by hyper's client.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
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
    /// Answers being read now.
    reading: Arc<AtomicUsize>,
    idle: Pool,
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
            reading: Arc::new(AtomicUsize::new(0)),
            idle: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The connections to the engine open now (pooled and streaming).
    pub fn open_connections(&self) -> usize {
        self.connector.open.load(Ordering::Relaxed)
    }

    /// The answers being read now, each on its connection.
    pub fn open_streams(&self) -> usize {
        self.reading.load(Ordering::Relaxed)
    }

    /// A call to the engine (all but upgrades), on a connection that
    /// whoever reads the answer drives, taken from (and given back to) a
    /// pool of idle ones. Through a client whose connections run as tasks
    /// of their own, every chunk of an answer is handed from the
    /// connection's task to the reader's, a wake-up each: that halved a log
    /// read (the engine sends one chunk per line), and every call paid the
    /// hops. Driven in the reader's task, neither costs a hand-off, and
    /// what has arrived goes on joined ([`Coalesce`]).
    pub async fn send(
        &self,
        mut req: hyper::Request<Body>,
    ) -> Result<hyper::Response<Body>, RelayError> {
        // The engine refuses HTTP/1.1 without a Host.
        req.headers_mut()
            .entry(hyper::header::HOST)
            .or_insert(hyper::header::HeaderValue::from_static("engine"));
        let failed = |e: hyper::Error| RelayError::Upstream {
            engine: self.addr.to_string(),
            reason: e.to_string(),
        };
        let (mut sender, mut conn, mut reused) = self.checkout().await?;
        // The connection can end in the same turn as it hands the answer
        // over (the engine closes after answering a request that asked it
        // to: `Connection: close`); the answer is then read, not lost.
        let mut ended = false;
        let resp = loop {
            let answer = sender.try_send_request(req);
            tokio::pin!(answer);
            let sent = tokio::select! {
                biased;
                sent = &mut answer => sent,
                done = &mut conn => {
                    if let Err(e) = done {
                        return Err(failed(e));
                    }
                    ended = true;
                    answer.await
                }
            };
            match sent {
                Ok(resp) => break resp,
                // A pooled connection the engine closed meanwhile: the
                // request never left; again on a new one.
                Err(mut e) if reused && e.message().is_some() => {
                    req = e.take_message().expect("the unsent request");
                    (sender, conn) = self.connect().await?;
                    (reused, ended) = (false, false);
                }
                Err(_) if ended => {
                    return Err(RelayError::Upstream {
                        engine: self.addr.to_string(),
                        reason: "it closed the connection without answering".into(),
                    })
                }
                Err(e) => return Err(failed(e.into_error())),
            }
        };
        self.reading.fetch_add(1, Ordering::Relaxed);
        let (reading, idle) = (self.reading.clone(), self.idle.clone());
        Ok(resp.map(|body| {
            Body::new(Coalesce::new(Driven {
                conn: (!ended).then_some(conn),
                sender: Some(sender),
                body,
                reading,
                idle,
            }))
        }))
    }

    /// An idle connection from the pool, or a new one; whether it was
    /// pooled.
    async fn checkout(
        &self,
    ) -> Result<(SendRequest<Body>, Pin<Box<EngineConn>>, bool), RelayError> {
        loop {
            let Some(mut idle) = self.idle.lock().expect("pool lock").pop() else {
                let (sender, conn) = self.connect().await?;
                return Ok((sender, conn, false));
            };
            // Nobody polled it while it idled: now, to see whether the
            // engine closed it, and to let it finish the last answer and
            // ask for the next call.
            let ready = std::future::poll_fn(|cx| {
                for _ in 0..2 {
                    if idle.conn.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(false);
                    }
                    match idle.sender.poll_ready(cx) {
                        Poll::Ready(r) => return Poll::Ready(r.is_ok()),
                        Poll::Pending => {}
                    }
                }
                Poll::Ready(false)
            })
            .await;
            if ready {
                return Ok((idle.sender, idle.conn, true));
            }
        }
    }

    async fn connect(&self) -> Result<(SendRequest<Body>, Pin<Box<EngineConn>>), RelayError> {
        let unreachable = |e: &dyn std::fmt::Display| RelayError::Unreachable {
            engine: self.addr.to_string(),
            reason: e.to_string(),
        };
        let io = self
            .connector
            .connect()
            .await
            .map_err(|e| unreachable(&e))?;
        let (sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| unreachable(&e))?;
        Ok((sender, Box::pin(conn)))
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

/// Idle connections kept for the next calls, at most [`MAX_IDLE`].
type Pool = Arc<Mutex<Vec<Idle>>>;

/// Enough for a busy console and CLI; a burst of clients must not leave the
/// engine holding hundreds of idle connections.
const MAX_IDLE: usize = 32;

struct Idle {
    sender: SendRequest<Body>,
    conn: Pin<Box<EngineConn>>,
}

/// An answer and the connection it arrives on, polled together; counted
/// while it is read, and the connection pooled again once it is.
struct Driven {
    conn: Option<Pin<Box<EngineConn>>>,
    sender: Option<SendRequest<Body>>,
    body: Incoming,
    reading: Arc<AtomicUsize>,
    idle: Pool,
}

impl Driven {
    /// The answer is read: its connection goes back to the pool if it can
    /// take another call.
    fn release(&mut self, cx: &mut Context<'_>) {
        let (Some(mut conn), Some(sender)) = (self.conn.take(), self.sender.take()) else {
            return;
        };
        // Once more, so it finishes the message; closed, it is not kept.
        if conn.as_mut().poll(cx).is_ready() || sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().expect("pool lock");
        if idle.len() < MAX_IDLE {
            idle.push(Idle { sender, conn });
        }
    }
}

impl Drop for Driven {
    fn drop(&mut self) {
        self.reading.fetch_sub(1, Ordering::Relaxed);
        if hyper::body::Body::is_end_stream(&self.body) {
            self.release(&mut Context::from_waker(std::task::Waker::noop()));
        }
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
        let next = Pin::new(&mut self.body).poll_frame(cx);
        if let Poll::Ready(None) = next {
            self.release(cx);
        }
        next
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
    /// A small call the relay makes itself, with a JSON answer (`Null` when
    /// it has none); the engine's refusal in its own words.
    pub async fn json(
        &self,
        method: hyper::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, crate::error::Refused> {
        use crate::error::Refused;
        let uri = self
            .uri(path)
            .map_err(|e| Refused::new(hyper::StatusCode::BAD_REQUEST, e))?;
        let mut req = hyper::Request::builder().method(method).uri(uri);
        if body.is_some() {
            req = req.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let req = req
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .expect("a valid request");
        let resp = self
            .send(req)
            .await
            .map_err(|e| Refused::new(hyper::StatusCode::BAD_GATEWAY, e))?;
        let status = resp.status();
        let bytes = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        if !status.is_success() {
            return Err(Refused::new(
                status,
                berth_engine::error_message(status.as_u16(), &bytes),
            ));
        }
        Ok(serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
    }

    /// `GET /_ping` without the caller's request: for the relay's health.
    pub async fn ping(&self) -> Result<(), crate::error::RelayError> {
        let req = hyper::Request::get(self.uri("/_ping").expect("static uri"))
            .body(Body::empty())
            .expect("static request");
        let resp = self.send(req).await?;
        let status = resp.status();
        // Read to the end, so the connection goes back to the pool.
        let _ = http_body_util::BodyExt::collect(resp.into_body()).await;
        if status.is_success() {
            Ok(())
        } else {
            Err(crate::error::RelayError::Upstream {
                engine: self.addr.to_string(),
                reason: format!("/_ping answered {status}"),
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

//! The `/metrics` HTTP server: hyper's HTTP/1 on a single-threaded tokio
//! runtime of its own thread. Its own thread because the tail's task keeps
//! its runtime busy for as long as files have data to read; a scrape must
//! be answered then too, and must never delay the reading.
//!
//! `GET /metrics` (and `HEAD`) answers the exposition, OpenMetrics when
//! the `Accept` header asks for it (Prometheus does), Prometheus text
//! 0.0.4 otherwise; `/` a line of help; anything else 404.
//!
//! Slow or hostile clients cannot stop scrapes, and resources stay bounded:
//! at most [`MAX_CONNECTIONS`] connections are served at once, and each is
//! cut off when it stalls: a request (or the wait for the next one) not
//! read within [`READ_TIMEOUT`], an answer not taken within
//! [`WRITE_TIMEOUT`] (a client that pipelines requests and never reads the
//! answers). Beyond the limit, new connections wait in the kernel's accept
//! queue for a slot rather than being turned away, so a scrape behind
//! stalled clients is answered within those timeouts.

use super::addr::MetricsAddr;
use super::text;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{ACCEPT, ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::registry::Registry;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::Sleep;
use tokio_util::sync::CancellationToken;

/// Connections served at once; more wait to be accepted. Prometheus uses
/// one; a few more leave room for people with curl.
pub const MAX_CONNECTIONS: usize = 16;
/// A connection whose request headers (or, when idle, whose next request)
/// have not all arrived by then, or whose reads have waited that long for
/// a byte, is cut off. Prometheus reconnects for its next scrape.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// A connection whose answer has not been taken by the client (written
/// into the kernel's buffers in full) within this time of its first byte
/// is cut off. An exposition is a few hundred KiB at most: a live client
/// takes it in milliseconds.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// The causes are in the messages, not chained as sources: `main` prints
/// the chain too, and would say them twice.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot serve metrics on {addr}: {error}{}", bind_hint(.error))]
    Bind { addr: SocketAddr, error: io::Error },
    #[error("cannot start the metrics server: {0}")]
    Start(io::Error),
}

/// What the user can do about a failed bind.
fn bind_hint(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::AddrInUse => {
            " (another process, perhaps another faultline, listens there); stop it or choose another port with --metrics-addr"
        }
        io::ErrorKind::PermissionDenied => {
            " (ports below 1024 need privileges); choose a port above 1023 with --metrics-addr, e.g. :9464"
        }
        io::ErrorKind::AddrNotAvailable => {
            " (no interface of this host has that address); give one of its addresses, :PORT for loopback or 0.0.0.0:PORT for all"
        }
        _ => "",
    }
}

pub struct Server {
    addr: SocketAddr,
    cancel: CancellationToken,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds now, so that a bad address is an error at start-up, and
    /// serves from a new thread until dropped.
    pub fn start(addr: &MetricsAddr, registry: Registry) -> Result<Server, ServeError> {
        let bind_err = |error| ServeError::Bind {
            addr: addr.0,
            error,
        };
        let listener = std::net::TcpListener::bind(addr.0).map_err(bind_err)?;
        listener.set_nonblocking(true).map_err(ServeError::Start)?;
        let local = listener.local_addr().map_err(ServeError::Start)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ServeError::Start)?;
        let cancel = CancellationToken::new();
        let token = cancel.clone();
        let registry = Arc::new(registry);
        let thread = std::thread::Builder::new()
            .name("faultline-metrics".into())
            .spawn(move || rt.block_on(serve(listener, registry, token)))
            .map_err(ServeError::Start)?;
        // Asked for port 0, the user learns the port only from this line:
        // then it is said at the default level.
        let level = if addr.0.port() == 0 {
            log::Level::Warn
        } else {
            log::Level::Info
        };
        log::log!(level, "serving metrics at http://{local}/metrics");
        Ok(Server {
            addr: local,
            cancel,
            thread: Some(thread),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Some(t) = self.thread.take() {
            // Returns promptly: the accept loop ends at once, and dropping
            // the runtime drops the connections.
            let _ = t.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    registry: Arc<Registry>,
    cancel: CancellationToken,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            log::error!("metrics server: {e}");
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        // A slot first, then a connection: while all are taken, new
        // connections wait in the accept queue until a stalled one is cut.
        let slot = tokio::select! {
            _ = cancel.cancelled() => return,
            s = slots.clone().acquire_owned() => s.expect("the semaphore is never closed"),
        };
        let accepted = tokio::select! {
            _ = cancel.cancelled() => return,
            r = listener.accept() => r,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors, most likely: let some close.
                log::warn!("metrics server: accepting a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let registry = registry.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let response = respond(&registry, &req);
                async move { Ok::<_, Infallible>(response) }
            });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(READ_TIMEOUT)
                .serve_connection(TokioIo::new(Deadlined::new(stream)), service);
            if let Err(e) = conn.await {
                log::debug!("metrics server: connection: {e}");
            }
            drop(slot);
        });
    }
}

/// A connection with the read and write deadlines of this server: a read
/// that has waited [`READ_TIMEOUT`] for a byte, or a write still not
/// flushed [`WRITE_TIMEOUT`] after its first byte, fails with `TimedOut`,
/// which ends the connection. hyper's header timeout bounds a whole request
/// head; these bound what it does not: a body, and an answer not taken.
struct Deadlined {
    stream: TcpStream,
    /// Armed when a read finds nothing to read; cleared when one does.
    read: Option<Pin<Box<Sleep>>>,
    /// Armed by the first write after a flush; cleared by the next flush.
    write: Option<Pin<Box<Sleep>>>,
}

impl Deadlined {
    fn new(stream: TcpStream) -> Deadlined {
        Deadlined {
            stream,
            read: None,
            write: None,
        }
    }
}

/// `Pending`, or `TimedOut` once `deadline` has passed.
fn pending_until<T>(deadline: &mut Pin<Box<Sleep>>, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
    match deadline.as_mut().poll(cx) {
        Poll::Ready(()) => Poll::Ready(Err(io::ErrorKind::TimedOut.into())),
        Poll::Pending => Poll::Pending,
    }
}

impl AsyncRead for Deadlined {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Pending => {
                let deadline = this
                    .read
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(READ_TIMEOUT)));
                pending_until(deadline, cx)
            }
            ready => {
                this.read = None;
                ready
            }
        }
    }
}

impl Deadlined {
    fn poll_written<T>(
        &mut self,
        cx: &mut Context<'_>,
        r: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        let deadline = self
            .write
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(WRITE_TIMEOUT)));
        match r {
            Poll::Pending => pending_until(deadline, cx),
            ready => ready,
        }
    }
}

impl AsyncWrite for Deadlined {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.poll_written(cx, r)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.poll_written(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.stream).poll_flush(cx);
        if r.is_ready() {
            this.write = None;
        }
        r
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.stream).poll_shutdown(cx);
        this.poll_written(cx, r)
    }
}

fn plain(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn respond<B>(registry: &Registry, req: &Request<B>) -> Response<Full<Bytes>> {
    match req.uri().path() {
        "/metrics" => {}
        "/" => {
            return plain(
                StatusCode::OK,
                "faultline: Prometheus metrics are at /metrics\n",
            );
        }
        _ => {
            return plain(
                StatusCode::NOT_FOUND,
                "not found; metrics are at /metrics\n",
            );
        }
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed; use GET\n",
        );
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let mut exposition = String::with_capacity(64 * 1024);
    if prometheus_client::encoding::text::encode(&mut exposition, registry).is_err() {
        return plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "encoding the metrics failed\n",
        );
    }
    let accept = req.headers().get(ACCEPT).and_then(|v| v.to_str().ok());
    let (body, content_type) = if text::wants_openmetrics(accept) {
        (exposition, text::OPENMETRICS)
    } else {
        (text::to_prometheus(&exposition), text::PROMETHEUS)
    };
    let mut r = Response::new(Full::new(Bytes::from(body)));
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

//! The `/metrics` HTTP server: hyper's HTTP/1, as a task on the agent's
//! runtime. [`bind`] binds at start-up (a bad address is an error then);
//! [`run`] serves until its `shutdown` future completes, then stops
//! accepting and drops the connections it serves (mini-redis's shape).
//!
//! Nothing here can delay the reading: the agent reads on the thread that
//! runs its own future, and this server runs on the runtime's worker
//! thread (the command layer builds a multi-thread runtime with one
//! worker for it), where a scrape is answered even while files have data
//! to read. Every socket is non-blocking and every wait bounded (below).
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
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Sleep;

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

/// Binds `addr` now, so that a bad address is an error at start-up. Needs
/// the runtime's context (any thread of the runtime, blocking ones too).
pub fn bind(addr: &MetricsAddr) -> Result<TcpListener, ServeError> {
    let listener = std::net::TcpListener::bind(addr.0).map_err(|error| ServeError::Bind {
        addr: addr.0,
        error,
    })?;
    listener.set_nonblocking(true).map_err(ServeError::Start)?;
    TcpListener::from_std(listener).map_err(ServeError::Start)
}

/// Serves `registry` on `listener` until `shutdown` completes; then stops
/// accepting and drops the connections in progress (a scrape cut off at
/// shutdown is retried by Prometheus against the next process).
pub async fn run(
    listener: TcpListener,
    registry: Arc<Registry>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::select! {
        () = serve(&listener, &registry) => {}
        () = shutdown => {}
    }
}

/// The accept loop; never returns. Its connections are its own tasks,
/// aborted when it is dropped.
async fn serve(listener: &TcpListener, registry: &Arc<Registry>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut connections = JoinSet::new();
    loop {
        // A slot first, then a connection: while all are taken, new
        // connections wait in the accept queue until a stalled one is cut.
        let slot = slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors, most likely: let some close.
                log::warn!("metrics server: accepting a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // Finished connections are reaped here: at most MAX_CONNECTIONS
        // and the ones that ended since the last accept are kept.
        while connections.try_join_next().is_some() {}
        let registry = registry.clone();
        connections.spawn(async move {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn get(addr: SocketAddr, path: &str) -> String {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        write!(s, "GET {path} HTTP/1.0\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        text
    }

    /// mini-redis's shape: serves until `shutdown`, then stops accepting
    /// and drops the connections it holds at once (not after their
    /// timeouts), on the caller's runtime.
    #[test]
    fn serves_until_shutdown_then_drops_its_connections() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let listener = rt
            .block_on(async { bind(&MetricsAddr(([127, 0, 0, 1], 0).into())) })
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let server = rt.spawn(run(listener, Arc::new(Registry::default()), async {
            let _ = stopped.await;
        }));

        let answer = get(addr, "/");
        assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
        assert!(get(addr, "/nowhere").starts_with("HTTP/1.0 404"));

        // A client in the middle of its request when the shutdown comes.
        let mut held = std::net::TcpStream::connect(addr).unwrap();
        held.write_all(b"GET /metrics HTTP/1.1\r\n").unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let t = std::time::Instant::now();
        stop.send(()).unwrap();
        rt.block_on(server).unwrap();
        held.set_read_timeout(Some(READ_TIMEOUT * 2)).unwrap();
        let mut buf = [0u8; 64];
        let n = held.read(&mut buf).unwrap_or(0);
        assert_eq!(n, 0, "{:?}", String::from_utf8_lossy(&buf[..n]));
        assert!(
            t.elapsed() < READ_TIMEOUT / 2,
            "the held connection lasted {:?} after the shutdown",
            t.elapsed()
        );
        assert!(
            std::net::TcpStream::connect(addr).is_err(),
            "still accepting after the shutdown"
        );
    }
}

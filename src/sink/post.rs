//! Summaries over HTTP (`tail --summaries http(s)://...`): each window
//! summary is POSTed as JSON by a delivery task on the agent's runtime, so
//! that a slow, dead or hanging endpoint can never slow the scanning: the
//! task runs on the runtime's worker thread, not the thread that reads,
//! and every wait of it is bounded.
//!
//! The tail only pushes onto a bounded queue ([`Poster::push`]: a short
//! lock, never a wait). When the queue is full the *oldest* summary is
//! dropped: the newest say most about now, and each carries the cumulative
//! totals anyway. Drops are counted ([`DeliveryStats`]) and logged, at
//! most every [`LOG_EVERY`].
//!
//! The delivery task sends the oldest queued summary, one request at a
//! time, each bounded by a timeout. A failure (no connection, timeout, 5xx,
//! 408, 429) is retried with exponential backoff and jitter up to a cap;
//! another 4xx is final for that summary (sending it again would not
//! change the answer), so it is dropped. Memory is the queue and one
//! request in flight, whatever the endpoint does.
//!
//! At shutdown, [`Poster::finish`] gives what is queued a short, bounded
//! time to go out, then gives up on the rest (counted as dropped). Name
//! lookups run on the runtime's blocking threads, and one may hang past
//! that: the command layer bounds those threads and does not wait for them
//! when the runtime shuts down.
//!
//! TLS is rustls with the ring provider and the system's CA certificates;
//! no OpenSSL.

use super::delivery::DeliveryStats;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderValue, USER_AGENT};
use hyper::{Request, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

/// At most one warning about drops, and one about a failing endpoint, in
/// this time: a dead endpoint must not flood the log.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// How delivery behaves; see [`PostConfig::for_interval`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PostConfig {
    /// Summaries queued at most.
    pub queue: usize,
    /// One request, connecting included.
    pub timeout: Duration,
    pub retry_initial: Duration,
    pub retry_max: Duration,
    /// At shutdown, how long the queue may take to go out.
    pub drain: Duration,
}

impl PostConfig {
    pub const DEFAULT_QUEUE: usize = 64;

    /// Timing that fits windows of `interval`: a request may take about a
    /// window (1 to 10 s), retries back off up to about three windows (1 to
    /// 60 s: no point hammering a dead endpoint much faster than summaries
    /// come, nor waiting much longer once it is back), and shutdown waits
    /// up to two windows (1 to 5 s).
    pub fn for_interval(interval: Duration, queue: usize) -> PostConfig {
        let clamp = |d: Duration, lo: u64, hi: u64| {
            d.clamp(Duration::from_millis(lo), Duration::from_millis(hi))
        };
        PostConfig {
            queue: queue.max(1),
            timeout: clamp(interval, 1_000, 10_000),
            retry_initial: clamp(interval / 4, 50, 1_000),
            retry_max: clamp(interval * 3, 1_000, 60_000),
            drain: clamp(interval * 2, 1_000, 5_000),
        }
    }
}

impl Default for PostConfig {
    fn default() -> Self {
        PostConfig::for_interval(Duration::from_secs(10), PostConfig::DEFAULT_QUEUE)
    }
}

/// The causes are in the messages, not chained as sources: `main` prints
/// the chain too, and would say them twice.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("invalid summaries URL {url:?}: {why}")]
    Url { url: String, why: String },
    #[error(
        "cannot use https for summaries: {0}; install the system's CA certificates (Debian: ca-certificates)"
    )]
    Tls(std::io::Error),
}

/// Whether a `--summaries` target is a URL rather than a file.
pub fn is_url(target: &str) -> bool {
    let t = target.as_bytes();
    let starts = |p: &str| t.len() >= p.len() && t[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    starts("http://") || starts("https://")
}

/// A checked URL, and how to show it in logs.
fn parse_url(url: &str) -> Result<(Uri, bool, String), PostError> {
    let err = |why: &str| PostError::Url {
        url: url.to_string(),
        why: why.to_string(),
    };
    let uri: Uri = url.parse().map_err(|e| err(&format!("{e}")))?;
    let https = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(err("the scheme must be http or https")),
    };
    let Some(authority) = uri.authority() else {
        return Err(err("no host"));
    };
    if authority.as_str().contains('@') {
        return Err(err(
            "credentials in the URL are not supported; let a local proxy add them",
        ));
    }
    if authority.host().is_empty() {
        return Err(err("no host"));
    }
    let shown = format!(
        "{}://{}{}",
        uri.scheme_str().unwrap_or_default(),
        authority,
        uri.path()
    );
    Ok((uri, https, shown))
}

/// A rate limit for one kind of log line, counting what it held back.
#[derive(Default)]
struct LogLimit {
    last: Option<Instant>,
    held: u64,
}

impl LogLimit {
    /// Whether to log now; if so, also how many were held back before.
    fn check(&mut self) -> Option<u64> {
        let now = Instant::now();
        if self.last.is_some_and(|t| now.duration_since(t) < LOG_EVERY) {
            self.held += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.held))
    }
}

struct Item {
    seq: u64,
    body: Bytes,
}

struct Queue {
    items: VecDeque<Item>,
    next_seq: u64,
    drop_log: LogLimit,
}

/// What the tail and the delivery task share: the queue, the delivery
/// task's wake-up, and whether it should end once the queue is empty.
struct Outbox {
    queue: Mutex<Queue>,
    capacity: usize,
    wake: Notify,
    draining: AtomicBool,
    stats: Arc<DeliveryStats>,
    shown: String,
}

impl Outbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn front(&self) -> Option<(u64, Bytes)> {
        self.lock().items.front().map(|i| (i.seq, i.body.clone()))
    }

    /// Takes item `seq` off the queue if it is still there (a full queue
    /// may have dropped it while it was being sent).
    fn remove(&self, seq: u64) -> bool {
        let mut q = self.lock();
        let there = q.items.front().is_some_and(|i| i.seq == seq);
        if there {
            q.items.pop_front();
        }
        self.stats.queued.store(q.items.len() as u64, Relaxed);
        there
    }
}

type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The handle the tail holds: push summaries, finish at shutdown. Dropping
/// it stops the delivery task without waiting.
pub struct Poster {
    outbox: Arc<Outbox>,
    /// Cancels the delivery task when dropped.
    stop: DropGuard,
    delivery: JoinHandle<()>,
    drain: Duration,
}

impl Poster {
    /// Checks the URL, sets up TLS when it is https, and spawns the
    /// delivery task on the current tokio runtime (needs its context: an
    /// async task, or a blocking thread of the runtime).
    pub fn start(
        url: &str,
        config: PostConfig,
        stats: Arc<DeliveryStats>,
    ) -> Result<Poster, PostError> {
        let (uri, https, shown) = parse_url(url)?;
        let client = client(https, config.timeout)?;
        let outbox = Arc::new(Outbox {
            queue: Mutex::new(Queue {
                items: VecDeque::with_capacity(config.queue),
                next_seq: 0,
                drop_log: LogLimit::default(),
            }),
            capacity: config.queue,
            wake: Notify::new(),
            draining: AtomicBool::new(false),
            stats,
            shown,
        });
        let cancel = CancellationToken::new();
        let delivery = tokio::runtime::Handle::current().spawn(deliver(
            outbox.clone(),
            client,
            uri,
            config,
            cancel.clone(),
        ));
        Ok(Poster {
            outbox,
            stop: cancel.drop_guard(),
            delivery,
            drain: config.drain,
        })
    }

    /// Queues a summary (its JSON); drops the oldest when the queue is full.
    pub fn push(&self, body: Bytes) {
        let s = &self.outbox;
        let log_drop = {
            let mut q = s.lock();
            let dropped = q.items.len() >= s.capacity && q.items.pop_front().is_some();
            let seq = q.next_seq;
            q.next_seq += 1;
            q.items.push_back(Item { seq, body });
            s.stats.queued.store(q.items.len() as u64, Relaxed);
            if dropped {
                s.stats.dropped.fetch_add(1, Relaxed);
                q.drop_log.check()
            } else {
                None
            }
        };
        if let Some(held) = log_drop {
            let more = if held > 0 {
                format!(" (and {held} more since the last report)")
            } else {
                String::new()
            };
            log::warn!(
                "summaries: {} is not taking them; {} queued, dropped the oldest{more}; {} dropped in all",
                s.shown,
                s.capacity,
                s.stats.dropped.load(Relaxed)
            );
        }
        s.wake.notify_one();
    }

    /// Gives the queued summaries until the drain deadline to go out, then
    /// stops the delivery task; what is left is counted as dropped.
    pub async fn finish(self) {
        let Poster {
            outbox,
            stop,
            mut delivery,
            drain,
        } = self;
        outbox.draining.store(true, Relaxed);
        outbox.wake.notify_one();
        if tokio::time::timeout(drain, &mut delivery).await.is_ok() {
            return;
        }
        // Every wait of the task also waits for the cancellation: it ends
        // at once.
        drop(stop);
        let _ = delivery.await;
        let left = outbox.lock().items.len() as u64;
        if left > 0 {
            outbox.stats.dropped.fetch_add(left, Relaxed);
            log::warn!(
                "summaries: {left} not delivered to {} within {drain:?} of shutdown; dropped",
                outbox.shown
            );
        }
    }
}

fn client(https: bool, timeout: Duration) -> Result<HttpsClient, PostError> {
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let builder = if https {
        builder.with_native_roots().map_err(PostError::Tls)?
    } else {
        // Plain http never uses it; the system's certificates need not exist.
        builder.with_tls_config(
            rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
        )
    };
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(timeout));
    http.set_nodelay(true);
    let connector = builder.https_or_http().enable_http1().wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_max_idle_per_host(1)
        .pool_idle_timeout(Duration::from_secs(60))
        .build(connector))
}

enum Outcome {
    Delivered,
    /// Final: the endpoint will not take this summary.
    Rejected(StatusCode),
    Failed(String),
}

async fn post(client: &HttpsClient, uri: &Uri, body: Bytes, timeout: Duration) -> Outcome {
    let mut req = Request::new(Full::new(body));
    *req.method_mut() = hyper::Method::POST;
    *req.uri_mut() = uri.clone();
    let h = req.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("faultline/", env!("CARGO_PKG_VERSION"))),
    );
    match tokio::time::timeout(timeout, client.request(req)).await {
        Err(_) => Outcome::Failed(format!("no answer within {timeout:?}")),
        // The causes say what actually went wrong ("connection refused")
        // where the outer error does not.
        Ok(Err(e)) => Outcome::Failed(crate::agent::with_causes(&e)),
        Ok(Ok(resp)) => {
            let status = resp.status();
            if status.is_success() {
                Outcome::Delivered
            } else if status.is_server_error()
                || status == StatusCode::REQUEST_TIMEOUT
                || status == StatusCode::TOO_MANY_REQUESTS
            {
                Outcome::Failed(format!("answered {status}"))
            } else {
                Outcome::Rejected(status)
            }
        }
    }
}

/// Exponential backoff with jitter: each wait is drawn from the upper half
/// of the current step, so that agents restarted together do not retry in
/// step.
struct Backoff {
    initial: Duration,
    max: Duration,
    step: Duration,
    rng: u64,
}

impl Backoff {
    fn new(initial: Duration, max: Duration) -> Backoff {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()) << 32;
        Backoff {
            initial,
            max,
            step: initial,
            rng: seed | 1,
        }
    }

    fn reset(&mut self) {
        self.step = self.initial;
    }

    fn next(&mut self) -> Duration {
        // xorshift64
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let unit = (self.rng >> 11) as f64 / (1u64 << 53) as f64;
        let wait = self.step.mul_f64(0.5 + 0.5 * unit);
        self.step = (self.step * 2).min(self.max);
        wait
    }
}

async fn deliver(
    outbox: Arc<Outbox>,
    client: HttpsClient,
    uri: Uri,
    config: PostConfig,
    cancel: CancellationToken,
) {
    let stats = &outbox.stats;
    let mut backoff = Backoff::new(config.retry_initial, config.retry_max);
    let mut failures_in_a_row = 0u64;
    let mut fail_log = LogLimit::default();
    loop {
        let Some((seq, body)) = outbox.front() else {
            if outbox.draining.load(Relaxed) {
                return;
            }
            tokio::select! {
                _ = outbox.wake.notified() => continue,
                _ = cancel.cancelled() => return,
            }
        };
        let outcome = tokio::select! {
            o = post(&client, &uri, body, config.timeout) => o,
            _ = cancel.cancelled() => return,
        };
        match outcome {
            Outcome::Delivered => {
                outbox.remove(seq);
                stats.sent.fetch_add(1, Relaxed);
                if failures_in_a_row > 0 {
                    // At the level of the failure warnings, so that the
                    // log read at the default level says it is over.
                    log::warn!(
                        "summaries: {} takes them again, after {failures_in_a_row} failed attempts",
                        outbox.shown
                    );
                }
                failures_in_a_row = 0;
                fail_log = LogLimit::default();
                backoff.reset();
            }
            Outcome::Rejected(status) => {
                stats.failed.fetch_add(1, Relaxed);
                if outbox.remove(seq) {
                    stats.dropped.fetch_add(1, Relaxed);
                }
                log::warn!(
                    "summaries: {} rejected a summary with {status}; dropped it (sending it again would not change the answer)",
                    outbox.shown
                );
                backoff.reset();
            }
            Outcome::Failed(why) => {
                stats.failed.fetch_add(1, Relaxed);
                failures_in_a_row += 1;
                let wait = backoff.next();
                if fail_log.check().is_some() {
                    log::warn!(
                        "summaries: delivery to {} failed: {why}; {failures_in_a_row} failed attempts in a row, retrying in {wait:.1?} (backing off up to {:?}); {} queued",
                        outbox.shown,
                        config.retry_max,
                        stats.queued.load(Relaxed)
                    );
                }
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = cancel.cancelled() => return,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_at_start() {
        assert!(is_url("http://127.0.0.1:1/x"));
        assert!(is_url("HTTPS://example.org"));
        assert!(!is_url("summaries.jsonl"));
        assert!(!is_url("-"));
        let (uri, https, shown) = parse_url("https://alerts.example:8443/in?k=v").unwrap();
        assert!(https);
        assert_eq!(uri.path(), "/in");
        assert_eq!(shown, "https://alerts.example:8443/in");
        for bad in ["http://", "http://user:pw@host/x", "ftp://host/x"] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_with_jitter() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(700));
        let waits: Vec<Duration> = (0..6).map(|_| b.next()).collect();
        let steps = [100, 200, 400, 700, 700, 700];
        for (w, s) in waits.iter().zip(steps) {
            let s = Duration::from_millis(s);
            assert!(*w >= s / 2 && *w <= s, "{w:?} for step {s:?}");
        }
        b.reset();
        assert!(b.next() <= Duration::from_millis(100));
    }

    #[test]
    fn timing_follows_the_window_within_bounds() {
        let c = PostConfig::for_interval(Duration::from_millis(100), 0);
        assert_eq!(c.queue, 1);
        assert_eq!(c.timeout, Duration::from_secs(1));
        assert_eq!(c.retry_max, Duration::from_secs(1));
        let d = PostConfig::default();
        assert_eq!(
            (d.queue, d.timeout, d.retry_max, d.drain),
            (
                64,
                Duration::from_secs(10),
                Duration::from_secs(30),
                Duration::from_secs(5)
            )
        );
    }
}

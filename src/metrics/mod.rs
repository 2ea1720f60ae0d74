//! Metrics: what `tail --metrics-addr` tells Prometheus (SPEC section 3).
//!
//! This module owns the live counters of a running `tail`, their
//! exposition, and the small HTTP server ([`server`]) that serves it:
//!
//! - `faultline_hits_total{service,category,code}`: one series per catalog
//!   code, present from the start at 0, so that the first hit of a code is
//!   an increase Prometheus can see (a series that is born at 1 is not);
//! - `faultline_unknown_total{prefix}`: one series per family prefix of
//!   the catalog (the stem without its final separator: `DBS` counts the
//!   unknown codes of `DBS.NNNN` and `DBS.NNNNNN` alike, see
//!   [`crate::matcher::PrefixId`]); the unknown code itself is never a
//!   label, so any number of distinct unknown codes adds no series;
//! - `faultline_lines_total`, `faultline_bytes_total`,
//!   `faultline_files_watched`, `faultline_files_unopened` (matched files
//!   waiting for a descriptor), `faultline_detection_latency_seconds`
//!   (histogram, 100 µs to 10 s);
//! - summary delivery: `faultline_summaries_{sent,failed,dropped}_total`
//!   and `faultline_summaries_queued` (see [`DeliveryStats`]);
//! - the process's health from `/proc/self` ([`process`]).
//!
//! The hot path is the tail's window aggregator, which calls a [`Feed`]
//! for every hit: an index into a table of atomics (one per catalog code,
//! one per prefix) and a histogram bucket, with no lock and no allocation.
//! A scrape reads a snapshot of the atomics through a custom
//! [`Collector`], so nothing is kept per scrape either. When SIGHUP loads
//! another catalog, [`Metrics::catalog_changed`] builds the tables anew,
//! keeping the counts of the codes and prefixes that still exist.
//!
//! The tail hands the window aggregator the [`Feed`] that
//! [`Metrics::feed`] makes, as a [`HitObserver`]: the aggregator knows the
//! trait, not this module. Prefix labels are taken from the matcher the
//! tail runs with, so they number prefixes as the hits do.

pub mod addr;
pub mod process;
pub mod server;
pub mod text;

use crate::catalog::{Catalog, CodeId};
use crate::matcher::{Matcher, PrefixId, UnknownCode};
use crate::window::HitObserver;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::{CancellationToken, DropGuard};

pub use crate::sink::delivery::DeliveryStats;
pub use addr::MetricsAddr;
pub use server::ServeError;

/// Upper bounds of the detection-latency buckets, in seconds: from what a
/// file-system event allows (100 µs) to a poll that came late (10 s).
pub const LATENCY_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// The counters of one catalog: hits by [`CodeId`], unknown codes by
/// [`PrefixId`], with the label values rendered once.
#[derive(Debug)]
struct CodeTable {
    hits: Box<[AtomicU64]>,
    /// (service, category, code) by CodeId.
    labels: Box<[[String; 3]]>,
    unknown: Box<[AtomicU64]>,
    prefixes: Box<[String]>,
}

impl CodeTable {
    /// The tables of `catalog` and its `matcher` (which decides the prefix
    /// ids the aggregator reports), starting from the counts in `old` of
    /// the codes and prefixes that are still there.
    fn new(catalog: &Catalog, matcher: &Matcher, old: Option<&CodeTable>) -> CodeTable {
        let prefixes: Box<[String]> = (0..matcher.prefix_count())
            .map(|i| matcher.prefix(i as PrefixId).to_string())
            .collect();
        let labels: Box<[[String; 3]]> = catalog
            .entries()
            .iter()
            .map(|e| {
                [
                    e.service.clone(),
                    e.category.as_str().to_string(),
                    e.code.clone(),
                ]
            })
            .collect();
        let (old_hits, old_unknown) = match old {
            Some(t) => t.counts_by_name(),
            None => Default::default(),
        };
        let hits = labels
            .iter()
            .map(|l| AtomicU64::new(old_hits.get(l[2].as_str()).copied().unwrap_or(0)))
            .collect();
        let unknown = prefixes
            .iter()
            .map(|p| AtomicU64::new(old_unknown.get(p.as_str()).copied().unwrap_or(0)))
            .collect();
        CodeTable {
            hits,
            labels,
            unknown,
            prefixes,
        }
    }

    fn counts_by_name(&self) -> (HashMap<&str, u64>, HashMap<&str, u64>) {
        let hits = self
            .labels
            .iter()
            .zip(self.hits.iter())
            .map(|(l, n)| (l[2].as_str(), n.load(Relaxed)))
            .collect();
        let unknown = self
            .prefixes
            .iter()
            .zip(self.unknown.iter())
            .map(|(p, n)| (p.as_str(), n.load(Relaxed)))
            .collect();
        (hits, unknown)
    }
}

/// Bucket counts (not cumulative; the last is +Inf) and the sum.
#[derive(Debug)]
struct LatencyHistogram {
    bounds_ns: [u64; LATENCY_BUCKETS.len()],
    counts: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum_ns: AtomicU64,
}

impl LatencyHistogram {
    fn new() -> LatencyHistogram {
        LatencyHistogram {
            bounds_ns: LATENCY_BUCKETS.map(|s| (s * 1e9).round() as u64),
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_ns: AtomicU64::new(0),
        }
    }

    #[inline]
    fn record(&self, latency: Duration) {
        let ns = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        // `le` buckets: the first bound that is not below the value.
        let i = self.bounds_ns.partition_point(|&b| b < ns);
        self.counts[i].fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(ns, Relaxed);
    }
}

/// What the tail and the scrapes share.
#[derive(Debug)]
struct LiveCounters {
    /// The current catalog's table. Locked only to swap it (SIGHUP), to
    /// snapshot it (scrape) and when a feed sees `generation` move.
    table: Mutex<Arc<CodeTable>>,
    generation: AtomicU64,
    lines: AtomicU64,
    bytes: AtomicU64,
    files_watched: AtomicU64,
    files_unopened: AtomicU64,
    latency: LatencyHistogram,
    delivery: Arc<DeliveryStats>,
    /// `tail` from Kafka: messages behind the end, by "TOPIC/PARTITION".
    consumer_lag: Mutex<Vec<(String, u64)>>,
}

impl LiveCounters {
    fn table(&self) -> Arc<CodeTable> {
        self.table.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The window aggregator's handle on the live counters.
#[derive(Debug)]
pub struct Feed {
    shared: Arc<LiveCounters>,
    table: Arc<CodeTable>,
    generation: u64,
}

impl Feed {
    fn new(shared: &Arc<LiveCounters>) -> Feed {
        Feed {
            generation: shared.generation.load(Relaxed),
            table: shared.table(),
            shared: shared.clone(),
        }
    }

    /// Follows a catalog change: one relaxed load per hit when there was
    /// none.
    #[inline]
    fn refresh(&mut self) {
        let g = self.shared.generation.load(Relaxed);
        if g != self.generation {
            self.table = self.shared.table();
            self.generation = g;
        }
    }

    #[inline]
    fn count_known(&mut self, id: CodeId, latency: Duration) {
        self.refresh();
        if let Some(n) = self.table.hits.get(id as usize) {
            n.fetch_add(1, Relaxed);
        }
        self.shared.latency.record(latency);
    }

    #[inline]
    fn count_unknown(&mut self, prefix: PrefixId, latency: Duration) {
        self.refresh();
        if let Some(n) = self.table.unknown.get(prefix as usize) {
            n.fetch_add(1, Relaxed);
        }
        self.shared.latency.record(latency);
    }
}

impl HitObserver for Feed {
    #[inline]
    fn known(&mut self, id: CodeId, latency: Duration) {
        self.count_known(id, latency);
    }

    #[inline]
    fn unknown(&mut self, code: UnknownCode, latency: Duration) {
        self.count_unknown(code.prefix, latency);
    }

    #[inline]
    fn read(&mut self, bytes: u64, lines: u64) {
        self.shared.bytes.fetch_add(bytes, Relaxed);
        self.shared.lines.fetch_add(lines, Relaxed);
    }
}

/// The running metrics of a `tail`: the counters and the server task.
/// [`Metrics::stop`] stops the server and waits for it; dropping does the
/// first only. Feeds keep counting into nothing afterwards.
pub struct Metrics {
    shared: Arc<LiveCounters>,
    addr: std::net::SocketAddr,
    /// Cancels the server's shutdown token when dropped.
    stop: DropGuard,
    server: tokio::task::JoinHandle<()>,
}

impl Metrics {
    /// Binds `addr` and spawns the server ([`server::run`]) on the current
    /// tokio runtime, with series for `catalog`'s codes and `matcher`'s
    /// prefixes. Needs the runtime's context (an async task, or a blocking
    /// thread of the runtime, as Kafka's loop is).
    pub fn start(
        addr: &MetricsAddr,
        catalog: &Catalog,
        matcher: &Matcher,
        delivery: Arc<DeliveryStats>,
    ) -> Result<Metrics, ServeError> {
        let shared = Arc::new(LiveCounters {
            table: Mutex::new(Arc::new(CodeTable::new(catalog, matcher, None))),
            generation: AtomicU64::new(0),
            lines: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            files_watched: AtomicU64::new(0),
            files_unopened: AtomicU64::new(0),
            latency: LatencyHistogram::new(),
            delivery,
            consumer_lag: Mutex::new(Vec::new()),
        });
        let mut registry = Registry::default();
        registry.register_collector(Box::new(TailCollector(shared.clone())));
        registry.register_collector(Box::new(process::ProcessCollector::new()));
        let listener = server::bind(addr)?;
        let local = listener.local_addr().map_err(ServeError::Start)?;
        let stop = CancellationToken::new();
        let server = tokio::runtime::Handle::current().spawn(server::run(
            listener,
            Arc::new(registry),
            stop.clone().cancelled_owned(),
        ));
        let stop = stop.drop_guard();
        // Asked for port 0, the user learns the port only from this line:
        // then it is said at the default level.
        let level = if addr.0.port() == 0 {
            log::Level::Warn
        } else {
            log::Level::Info
        };
        log::log!(level, "serving metrics at http://{local}/metrics");
        Ok(Metrics {
            shared,
            addr: local,
            stop,
            server,
        })
    }

    /// Stops the server: no more connections accepted, those in progress
    /// dropped. The last step of an agent's shutdown, so that its final
    /// counts can be scraped until then.
    pub async fn stop(self) {
        let Metrics { stop, server, .. } = self;
        drop(stop);
        let _ = server.await;
    }

    /// A feed of these metrics, to hand to the window aggregator.
    pub fn feed(&self) -> Feed {
        Feed::new(&self.shared)
    }

    /// The address actually served (the port is chosen when ADDR gave 0).
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// Call after the tail took up `catalog` and `matcher` (SIGHUP): the
    /// tables follow them, keeping the counts of what they still have.
    pub fn catalog_changed(&self, catalog: &Catalog, matcher: &Matcher) {
        let mut table = self.shared.table.lock().unwrap_or_else(|e| e.into_inner());
        *table = Arc::new(CodeTable::new(catalog, matcher, Some(&table)));
        self.shared.generation.fetch_add(1, Relaxed);
    }

    pub fn set_files_watched(&self, n: usize) {
        self.shared.files_watched.store(n as u64, Relaxed);
    }

    /// Matched files waiting for a descriptor.
    pub fn set_files_unopened(&self, n: usize) {
        self.shared.files_unopened.store(n as u64, Relaxed);
    }

    /// `tail` from Kafka: the lag of each partition owned now.
    pub fn set_consumer_lag(&self, lag: Vec<(String, u64)>) {
        *self
            .shared
            .consumer_lag
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = lag;
    }
}

/// Encodes a snapshot of [`LiveCounters`] at each scrape.
#[derive(Debug)]
struct TailCollector(Arc<LiveCounters>);

fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: u64,
) -> Result<(), std::fmt::Error> {
    let c = ConstCounter::new(value);
    c.encode(encoder.encode_descriptor(name, help, None, c.metric_type())?)
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: u64,
) -> Result<(), std::fmt::Error> {
    let g = ConstGauge::new(value);
    g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)
}

impl Collector for TailCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = &self.0;
        let table = s.table();
        {
            let mut family = encoder.encode_descriptor(
                "faultline_hits",
                "Occurrences of catalog error codes, by the code's service and remedy category.",
                None,
                MetricType::Counter,
            )?;
            for (l, n) in table.labels.iter().zip(table.hits.iter()) {
                let labels = [
                    ("service", l[0].as_str()),
                    ("category", l[1].as_str()),
                    ("code", l[2].as_str()),
                ];
                ConstCounter::new(n.load(Relaxed)).encode(family.encode_family(&labels)?)?;
            }
        }
        {
            let mut family = encoder.encode_descriptor(
                "faultline_unknown",
                "Occurrences of codes with a catalog prefix that are not in the catalog, by prefix.",
                None,
                MetricType::Counter,
            )?;
            for (p, n) in table.prefixes.iter().zip(table.unknown.iter()) {
                let labels = [("prefix", p.as_str())];
                ConstCounter::new(n.load(Relaxed)).encode(family.encode_family(&labels)?)?;
            }
        }
        counter(
            &mut encoder,
            "faultline_lines",
            "Lines read from the followed inputs.",
            s.lines.load(Relaxed),
        )?;
        counter(
            &mut encoder,
            "faultline_bytes",
            "Bytes read from the followed inputs.",
            s.bytes.load(Relaxed),
        )?;
        gauge(
            &mut encoder,
            "faultline_files_watched",
            "Files being followed now.",
            s.files_watched.load(Relaxed),
        )?;
        gauge(
            &mut encoder,
            "faultline_files_unopened",
            "Files matched but not opened yet for want of a file descriptor; opened as descriptors free up.",
            s.files_unopened.load(Relaxed),
        )?;
        {
            let lag = s.consumer_lag.lock().unwrap_or_else(|e| e.into_inner());
            if !lag.is_empty() {
                let mut family = encoder.encode_descriptor(
                    "faultline_kafka_consumer_lag",
                    "tail from Kafka: messages between this instance's position and the end of each partition it owns.",
                    None,
                    MetricType::Gauge,
                )?;
                for (partition, n) in lag.iter() {
                    let labels = [("partition", partition.as_str())];
                    ConstGauge::new(*n).encode(family.encode_family(&labels)?)?;
                }
            }
        }
        {
            let counts: Vec<u64> = s.latency.counts.iter().map(|c| c.load(Relaxed)).collect();
            let buckets: Vec<(f64, u64)> = LATENCY_BUCKETS
                .iter()
                .copied()
                .chain([f64::INFINITY])
                .zip(counts.iter().copied())
                .collect();
            let mut m = encoder.encode_descriptor(
                "faultline_detection_latency_seconds",
                "Time from when bytes were seen to be readable (file-system event, poll, stdin) to when their codes were counted.",
                None,
                MetricType::Histogram,
            )?;
            m.encode_histogram::<NoLabelSet>(
                s.latency.sum_ns.load(Relaxed) as f64 / 1e9,
                counts.iter().sum(),
                &buckets,
                None,
            )?;
        }
        let d = &s.delivery;
        counter(
            &mut encoder,
            "faultline_summaries_sent",
            "Window summaries delivered (written, or accepted by the --summaries endpoint).",
            d.sent.load(Relaxed),
        )?;
        counter(
            &mut encoder,
            "faultline_summaries_failed",
            "Attempts to deliver a summary to the --summaries endpoint that failed (each retry counts).",
            d.failed.load(Relaxed),
        )?;
        counter(
            &mut encoder,
            "faultline_summaries_dropped",
            "Summaries given up: pushed out of the full delivery queue, rejected by the endpoint, or undelivered at exit.",
            d.dropped.load(Relaxed),
        )?;
        gauge(
            &mut encoder,
            "faultline_summaries_queued",
            "Summaries waiting for delivery to the --summaries endpoint.",
            d.queued.load(Relaxed),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Category, Entry, Texts};

    fn matcher_of(catalog: &Catalog) -> Matcher {
        crate::pipeline::catalog_matcher(catalog).unwrap()
    }

    fn entry(code: &str, category: Category) -> Entry {
        Entry {
            code: code.into(),
            service: "ECS".into(),
            status: None,
            message: String::new(),
            description: Texts::default(),
            remedy: Texts::default(),
            category,
            sources: vec![],
        }
    }

    #[test]
    fn latency_buckets_are_le_bounds() {
        let h = LatencyHistogram::new();
        h.record(Duration::from_micros(100)); // exactly the first bound
        h.record(Duration::from_micros(101));
        h.record(Duration::from_secs(11));
        let c: Vec<u64> = h.counts.iter().map(|c| c.load(Relaxed)).collect();
        assert_eq!(c[0], 1);
        assert_eq!(c[1], 1);
        assert_eq!(c[LATENCY_BUCKETS.len()], 1);
        assert_eq!(h.sum_ns.load(Relaxed), 100_000 + 101_000 + 11_000_000_000);
    }

    #[test]
    fn a_new_catalog_keeps_the_counts_of_the_codes_it_still_has() {
        let a = Catalog::from_entries(vec![
            entry("Ecs.0001", Category::Quota),
            entry("Ecs.0002", Category::Retry),
            entry("IMG.0001", Category::Quota),
        ])
        .unwrap();
        let t = CodeTable::new(&a, &matcher_of(&a), None);
        t.hits[0].store(5, Relaxed);
        t.hits[1].store(7, Relaxed);
        t.unknown[0].store(3, Relaxed);
        // Ecs.0001 gone, Ecs.0002 now the second code after a new one.
        let b = Catalog::from_entries(vec![
            entry("Abc.0001", Category::Access),
            entry("Ecs.0002", Category::Quota),
        ])
        .unwrap();
        let u = CodeTable::new(&b, &matcher_of(&b), Some(&t));
        let counts: Vec<u64> = u.hits.iter().map(|n| n.load(Relaxed)).collect();
        assert_eq!(counts, [0, 7]);
        assert_eq!(u.labels[1], ["ECS", "quota", "Ecs.0002"]);
        let ecs = u.prefixes.iter().position(|p| p == "Ecs").unwrap();
        assert_eq!(u.unknown[ecs].load(Relaxed), 3);
        assert_eq!(u.prefixes.len(), 2);
    }

    #[test]
    fn a_feed_follows_the_table_after_a_catalog_change() {
        let a = Catalog::from_entries(vec![entry("Ecs.0001", Category::Quota)]).unwrap();
        let shared = Arc::new(LiveCounters {
            table: Mutex::new(Arc::new(CodeTable::new(&a, &matcher_of(&a), None))),
            generation: AtomicU64::new(0),
            lines: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            files_watched: AtomicU64::new(0),
            files_unopened: AtomicU64::new(0),
            latency: LatencyHistogram::new(),
            delivery: Arc::default(),
            consumer_lag: Mutex::new(Vec::new()),
        });
        let mut feed = Feed::new(&shared);
        feed.known(0, Duration::from_millis(1));
        let b = Catalog::from_entries(vec![
            entry("Abc.0001", Category::Quota),
            entry("Ecs.0001", Category::Quota),
        ])
        .unwrap();
        {
            let mut t = shared.table.lock().unwrap();
            *t = Arc::new(CodeTable::new(&b, &matcher_of(&b), Some(&t)));
            shared.generation.fetch_add(1, Relaxed);
        }
        feed.known(1, Duration::from_millis(1));
        feed.known(5, Duration::from_millis(1)); // out of range: ignored
        let t = shared.table();
        assert_eq!(t.hits[1].load(Relaxed), 2);
        assert_eq!(t.hits[0].load(Relaxed), 0);
    }
}

//! Windows: the periodic summaries of `tail` (SPEC section 3).
//!
//! A [`WindowAggregator`] counts what the followed inputs produce — bytes,
//! lines, hits, unknown codes, and the detection latency of each hit — for
//! the current window, and the cumulative totals beside it. [`close`]
//! turns the window into a [`WindowSummary`] and starts the next one.
//!
//! Time is passed in, never read here: the caller says when a window ends
//! and how long each hit took to detect, so windows are testable with
//! made-up clocks.
//!
//! Memory is bounded whatever the input: per-code counters are one per
//! catalog entry; unknown codes are counted in a bounded
//! [`crate::bounded_counts::BoundedCounts`]; the latency histogram has a fixed size. A
//! summary lists the top [`UNKNOWN_CODES_LISTED`] unknown codes and counts
//! the rest in `unknown_codes_other` (how many distinct codes those are in
//! `unknown_codes_other_distinct`).
//!
//! When `tail` serves metrics, every count also goes to a [`HitObserver`]
//! it is given (the live feed of [`crate::metrics`]: atomics, no locks), so
//! that Prometheus sees hits as they are found rather than window by
//! window. The aggregator knows only the trait.
//!
//! [`close`]: WindowAggregator::close

use crate::aggregate::{Counts, unknown_code_text};
use crate::catalog::{Catalog, Category, CodeId};
use crate::matcher::{Matcher, UnknownCode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// How many codes a summary lists in `top_codes`.
pub const TOP_CODES: usize = 10;
/// How many unknown codes a summary lists by name.
pub const UNKNOWN_CODES_LISTED: usize = 20;

/// Cumulative counts since the state was created (a summary's `totals`);
/// saved in the checkpoint by code *name*, so they survive catalog changes
/// and restarts. Not [`crate::search::StreamTotals`], the bytes and lines
/// of one search.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CumulativeTotals {
    pub lines: u64,
    pub bytes: u64,
    pub hits: u64,
    pub unknown: u64,
    pub by_code: BTreeMap<String, u64>,
}

/// One summary line (SPEC section 3, `tail`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WindowSummary {
    pub window_start: String,
    pub window_end: String,
    pub lines: u64,
    pub bytes: u64,
    pub hits: u64,
    pub unknown: u64,
    pub by_service_category: BTreeMap<String, BTreeMap<Category, u64>>,
    pub top_codes: Vec<TopCode>,
    pub unknown_codes: BTreeMap<String, u64>,
    /// Occurrences of unknown codes beyond those listed by name.
    pub unknown_codes_other: u64,
    /// Distinct unknown codes counted in `unknown_codes_other` (exact for
    /// tracked codes, plus an estimate of the folded ones, see
    /// [`crate::bounded_counts`]).
    pub unknown_codes_other_distinct: u64,
    pub latency_ms: Latency,
    pub totals: CumulativeTotals,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopCode {
    pub code: String,
    pub count: u64,
    pub service: String,
    pub category: Category,
    pub message: String,
}

/// Detection latency of the window's hits, in milliseconds (0 when there
/// were none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

/// Live instrumentation of what the aggregator counts, hit by hit (the
/// metrics of `tail`). Called on the per-hit path: implementations must
/// not block or allocate.
pub trait HitObserver: Send {
    fn known(&mut self, id: CodeId, latency: Duration);
    fn unknown(&mut self, code: UnknownCode, latency: Duration);
    fn read(&mut self, bytes: u64, lines: u64);
}

/// Counts of the current window and the totals.
pub struct WindowAggregator {
    start: SystemTime,
    counts: Counts,
    lines: u64,
    bytes: u64,
    /// Microseconds, 1 µs to 1 hour, 3 significant digits (fixed memory).
    latency: hdrhistogram::Histogram<u64>,
    totals: CumulativeTotals,
    /// The live instrumentation, if the tail has any.
    observer: Option<Box<dyn HitObserver>>,
}

const LATENCY_MAX_US: u64 = 3_600_000_000;

impl WindowAggregator {
    /// A first window starting at `start`, on top of `totals` (zero for a
    /// new state, the saved ones after a restart).
    pub fn new(codes: usize, start: SystemTime, totals: CumulativeTotals) -> WindowAggregator {
        WindowAggregator {
            start,
            counts: Counts::new(codes),
            lines: 0,
            bytes: 0,
            latency: hdrhistogram::Histogram::new_with_bounds(1, LATENCY_MAX_US, 3)
                .expect("static histogram bounds are valid"),
            totals,
            observer: None,
        }
    }

    /// Tells `observer` every count from now on.
    pub fn observe(&mut self, observer: Box<dyn HitObserver>) {
        self.observer = Some(observer);
    }

    /// Starts over for a catalog of `codes` entries (SIGHUP) at `start`, on
    /// top of `totals`; the observer stays.
    pub fn restart(&mut self, codes: usize, start: SystemTime, totals: CumulativeTotals) {
        let observer = self.observer.take();
        *self = WindowAggregator::new(codes, start, totals);
        self.observer = observer;
    }

    #[inline]
    pub fn known(&mut self, id: CodeId, latency: Duration) {
        self.counts.add_known(id);
        self.record_latency(latency);
        if let Some(o) = &mut self.observer {
            o.known(id, latency);
        }
    }

    #[inline]
    pub fn unknown(&mut self, code: UnknownCode, latency: Duration) {
        self.counts.add_unknown(code);
        self.record_latency(latency);
        if let Some(o) = &mut self.observer {
            o.unknown(code, latency);
        }
    }

    fn record_latency(&mut self, latency: Duration) {
        let us = (latency.as_micros() as u64).clamp(1, LATENCY_MAX_US);
        // Cannot fail: the value is clamped into the histogram's range.
        let _ = self.latency.record(us);
    }

    /// Bytes and completed lines read.
    pub fn read(&mut self, bytes: u64, lines: u64) {
        self.bytes += bytes;
        self.lines += lines;
        if let Some(o) = &mut self.observer {
            o.read(bytes, lines);
        }
    }

    /// The totals including the open window.
    pub fn totals(&self, catalog: &Catalog) -> CumulativeTotals {
        let mut t = self.totals.clone();
        Self::add_window(&mut t, catalog, &self.counts, self.lines, self.bytes);
        t
    }

    fn add_window(
        t: &mut CumulativeTotals,
        catalog: &Catalog,
        counts: &Counts,
        lines: u64,
        bytes: u64,
    ) {
        t.lines += lines;
        t.bytes += bytes;
        t.hits += counts.hits;
        t.unknown += counts.unknown_total;
        for (id, &n) in counts.by_code.iter().enumerate() {
            if n > 0 {
                *t.by_code
                    .entry(catalog.entry(id as CodeId).code.clone())
                    .or_insert(0) += n;
            }
        }
    }

    /// Ends the window at `end`, returns its summary, and starts the next
    /// window at `end`.
    pub fn close(
        &mut self,
        end: SystemTime,
        catalog: &Catalog,
        matcher: &Matcher,
    ) -> WindowSummary {
        let counts = std::mem::replace(&mut self.counts, Counts::new(catalog.len()));
        let (lines, bytes) = (
            std::mem::take(&mut self.lines),
            std::mem::take(&mut self.bytes),
        );
        Self::add_window(&mut self.totals, catalog, &counts, lines, bytes);
        let views = counts.views(catalog, matcher);
        let top_codes = views
            .top_codes(TOP_CODES)
            .into_iter()
            .map(|(code, count)| {
                let e = catalog.get(code).expect("views name catalog codes");
                TopCode {
                    code: code.to_string(),
                    count,
                    service: e.service.clone(),
                    category: e.category,
                    message: e.message.clone(),
                }
            })
            .collect();
        let mut unknown: Vec<(UnknownCode, u64)> =
            counts.unknown.iter().map(|(c, n)| (*c, *n)).collect();
        unknown.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then((a.0.family, a.0.number).cmp(&(b.0.family, b.0.number)))
        });
        let unknown_codes_other = unknown
            .iter()
            .skip(UNKNOWN_CODES_LISTED)
            .map(|(_, n)| n)
            .sum::<u64>()
            + counts.unknown.other();
        let unknown_codes_other_distinct =
            unknown.len().saturating_sub(UNKNOWN_CODES_LISTED) as u64 + counts.unknown.other_keys();
        let unknown_codes = unknown
            .iter()
            .take(UNKNOWN_CODES_LISTED)
            .map(|(c, n)| (unknown_code_text(matcher, *c), *n))
            .collect();
        let ms = |us: u64| us as f64 / 1000.0;
        let latency_ms = if self.latency.is_empty() {
            Latency::default()
        } else {
            Latency {
                p50: ms(self.latency.value_at_quantile(0.50)),
                p99: ms(self.latency.value_at_quantile(0.99)),
                max: ms(self.latency.max()),
            }
        };
        self.latency.reset();
        let summary = WindowSummary {
            window_start: rfc3339(self.start),
            window_end: rfc3339(end),
            lines,
            bytes,
            hits: counts.hits,
            unknown: counts.unknown_total,
            by_service_category: views.by_service_category,
            top_codes,
            unknown_codes,
            unknown_codes_other,
            unknown_codes_other_distinct,
            latency_ms,
            totals: self.totals.clone(),
        };
        self.start = end;
        summary
    }
}

/// A time as RFC 3339 UTC with seconds (`2026-11-23T10:00:10Z`).
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// A time as RFC 3339 UTC with milliseconds, for events.
pub fn rfc3339_millis(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Entry, Texts};

    fn entry(code: &str, service: &str, category: Category) -> Entry {
        Entry {
            code: code.into(),
            service: service.into(),
            status: Some(400),
            message: format!("message of {code}"),
            description: Texts::default(),
            remedy: Texts::default(),
            category,
            sources: vec![],
        }
    }

    fn setup() -> (Catalog, Matcher) {
        let catalog = Catalog::from_entries(vec![
            entry("Ecs.0001", "ECS", Category::Quota),
            entry("Ecs.0002", "ECS", Category::Retry),
            entry("IMG.0013", "IMS", Category::FixRequest),
        ])
        .unwrap();
        let matcher = crate::pipeline::catalog_matcher(&catalog).unwrap();
        (catalog, matcher)
    }

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_428_000 + secs)
    }

    #[test]
    fn a_window_counts_its_own_hits_and_the_totals_accumulate() {
        let (catalog, matcher) = setup();
        let mut w = WindowAggregator::new(catalog.len(), at(0), CumulativeTotals::default());
        let ms = Duration::from_millis;
        for _ in 0..9 {
            w.known(2, ms(1));
        }
        w.known(0, ms(2));
        w.known(1, ms(40));
        w.unknown(
            UnknownCode {
                prefix: 0,
                family: 0,
                number: 9876,
            },
            ms(1),
        );
        w.read(1800, 12);
        let s = w.close(at(10), &catalog, &matcher);
        assert_eq!(s.window_start, "2026-11-23T10:00:00Z");
        assert_eq!(s.window_end, "2026-11-23T10:00:10Z");
        assert_eq!((s.lines, s.bytes, s.hits, s.unknown), (12, 1800, 11, 1));
        assert_eq!(s.top_codes[0].code, "IMG.0013");
        assert_eq!(s.top_codes[0].count, 9);
        assert_eq!(s.top_codes[0].category, Category::FixRequest);
        assert_eq!(s.by_service_category["ECS"][&Category::Quota], 1);
        assert_eq!(s.by_service_category["ECS"][&Category::Retry], 1);
        assert_eq!(s.unknown_codes.len(), 1);
        assert!((s.latency_ms.p50 - 1.0).abs() < 0.01, "{:?}", s.latency_ms);
        assert!((s.latency_ms.max - 40.0).abs() < 0.1, "{:?}", s.latency_ms);
        assert_eq!(s.totals.hits, 11);

        // The next window starts where the last ended and is empty...
        w.known(0, ms(3));
        let s2 = w.close(at(20), &catalog, &matcher);
        assert_eq!(s2.window_start, "2026-11-23T10:00:10Z");
        assert_eq!((s2.hits, s2.lines, s2.unknown), (1, 0, 0));
        // ... while the totals go on.
        assert_eq!(
            (s2.totals.hits, s2.totals.lines, s2.totals.unknown),
            (12, 12, 1)
        );
        assert_eq!(s2.totals.by_code["Ecs.0001"], 2);
        let empty = w.close(at(30), &catalog, &matcher);
        assert_eq!(empty.latency_ms, Latency::default());
        assert_eq!(empty.totals, s2.totals);
    }

    #[test]
    fn totals_continue_from_saved_ones() {
        let (catalog, matcher) = setup();
        let saved = CumulativeTotals {
            lines: 100,
            bytes: 5000,
            hits: 7,
            unknown: 2,
            by_code: [("Ecs.0001".to_string(), 7)].into_iter().collect(),
        };
        let mut w = WindowAggregator::new(catalog.len(), at(0), saved);
        w.known(0, Duration::from_millis(1));
        w.read(10, 1);
        assert_eq!(w.totals(&catalog).by_code["Ecs.0001"], 8);
        let s = w.close(at(10), &catalog, &matcher);
        assert_eq!(
            (s.totals.lines, s.totals.bytes, s.totals.hits),
            (101, 5010, 8)
        );
    }

    #[test]
    fn only_the_top_unknown_codes_are_named() {
        let (catalog, matcher) = setup();
        let mut w = WindowAggregator::new(catalog.len(), at(0), CumulativeTotals::default());
        for number in 0..1000u64 {
            for _ in 0..=(number % 3) {
                let code = UnknownCode {
                    prefix: 0,
                    family: 0,
                    number,
                };
                w.unknown(code, Duration::from_millis(1));
            }
        }
        let s = w.close(at(10), &catalog, &matcher);
        assert_eq!(s.unknown_codes.len(), UNKNOWN_CODES_LISTED);
        assert!(s.unknown_codes.values().all(|&n| n == 3));
        let listed: u64 = s.unknown_codes.values().sum();
        assert_eq!(listed + s.unknown_codes_other, s.unknown);
    }
}

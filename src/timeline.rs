//! The timeline of a scan: hits of known codes by remedy category per time
//! bucket, so an operator sees when errors began and peaked (SPEC section
//! 3, `scan`, "Timeline").
//!
//! Invariants:
//!
//! - Buckets are aligned to the Unix epoch: bucket `i` covers
//!   `[i * bucket_s, (i + 1) * bucket_s)` seconds.
//! - `bucket_s` is the smallest step of [`LADDER_S`] at which the buckets
//!   from the first to the last timed hit number at most
//!   [`MAX_BUCKETS`] (the last step if none does). Every step divides the
//!   next, so a timeline re-buckets exactly onto any larger step, and the
//!   number of buckets never grows with the step: a timeline kept this way
//!   while hits arrive, or merged from parts (files, workers, the reports
//!   of `faultline merge`), equals the one made at once from all hits.
//! - `untimed` counts the hits whose line had no timestamp;
//!   every known hit is either in a bucket or in `untimed`.
//!
//! Costs: memory is at most [`MAX_BUCKETS`] × 7 counters; a hit costs a
//! division and an increment, and a hit outside the current span a move
//! of at most [`MAX_BUCKETS`] counters.

use crate::catalog::Category;
use crate::timestamp::{self, LocalZone, UnixMs};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Bucket sizes in seconds: 1 s, 5 s, 10 s, 30 s, 1 min, 5 min, 10 min,
/// 30 min, 1 h, 6 h, 1 d, 7 d, 28 d, 336 d. Each divides the next.
pub const LADDER_S: [i64; 14] = [
    1, 5, 10, 30, 60, 300, 600, 1800, 3600, 21_600, 86_400, 604_800, 2_419_200, 29_030_400,
];

/// The most buckets a span is given (fewer when a larger step fits).
pub const MAX_BUCKETS: i64 = 120;

/// The most columns a sparkline of the text view takes: a longer span is
/// drawn with two buckets a column, so that a row with the longest
/// category name fits 80 columns (and never shrinks below 30 columns, as
/// the next step of the ladder could make it).
pub const TEXT_COLUMNS: i64 = 60;

const CATEGORIES: usize = Category::ALL.len();

/// Counts by category per bucket, plus the untimed hits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "TimelineJson", try_from = "TimelineJson")]
pub struct Timeline {
    bucket_s: i64,
    /// Index of the first bucket (its start is `first * bucket_s`);
    /// meaningless while `buckets` is empty.
    first: i64,
    buckets: Vec<[u64; CATEGORIES]>,
    untimed: u64,
}

impl Default for Timeline {
    fn default() -> Timeline {
        Timeline {
            bucket_s: LADDER_S[0],
            first: 0,
            buckets: Vec::new(),
            untimed: 0,
        }
    }
}

impl Timeline {
    /// A hit of `category` at `ms`.
    #[inline]
    pub fn add(&mut self, category: Category, ms: UnixMs) {
        let s = ms.div_euclid(1000);
        let i = s.div_euclid(self.bucket_s);
        if self.buckets.is_empty() {
            self.first = i;
            self.buckets.push([0; CATEGORIES]);
        } else if i < self.first || i >= self.first + self.buckets.len() as i64 {
            self.cover(s, s);
        }
        let i = s.div_euclid(self.bucket_s) - self.first;
        self.buckets[i as usize][category.index()] += 1;
    }

    /// A hit whose line had no timestamp.
    #[inline]
    pub fn add_untimed(&mut self) {
        self.untimed += 1;
    }

    pub fn bucket_s(&self) -> i64 {
        self.bucket_s
    }

    pub fn untimed(&self) -> u64 {
        self.untimed
    }

    /// Unix seconds of the first bucket's start; `None` without timed hits.
    pub fn start_s(&self) -> Option<i64> {
        (!self.buckets.is_empty()).then_some(self.first * self.bucket_s)
    }

    /// The counts of `category`, one per bucket from [`Timeline::start_s`].
    pub fn counts(&self, category: Category) -> impl Iterator<Item = u64> + '_ {
        self.buckets.iter().map(move |b| b[category.index()])
    }

    /// Adds `other` (of any bucket size) to `self`.
    pub fn merge(&mut self, other: &Timeline) {
        self.untimed += other.untimed;
        if other.buckets.is_empty() {
            return;
        }
        let lo = other.first * other.bucket_s;
        let hi = (other.first + other.buckets.len() as i64) * other.bucket_s - 1;
        if self.buckets.is_empty() {
            self.bucket_s = other.bucket_s;
            self.first = other.first;
            self.buckets = other.buckets.clone();
            return;
        }
        if other.bucket_s > self.bucket_s {
            self.rebucket(other.bucket_s);
        }
        self.cover(lo, hi);
        let k = self.bucket_s / other.bucket_s;
        for (j, b) in other.buckets.iter().enumerate() {
            let i = (other.first + j as i64).div_euclid(k) - self.first;
            for (a, n) in self.buckets[i as usize].iter_mut().zip(b) {
                *a += n;
            }
        }
    }

    /// Grows the span to take in the seconds `lo..=hi`, at the smallest step
    /// (not below the current) at which it fits.
    fn cover(&mut self, lo: i64, hi: i64) {
        let lo = lo.min(self.first * self.bucket_s);
        let hi = hi.max((self.first + self.buckets.len() as i64) * self.bucket_s - 1);
        let step = LADDER_S
            .iter()
            .copied()
            .filter(|&b| b >= self.bucket_s)
            .find(|&b| hi.div_euclid(b) - lo.div_euclid(b) < MAX_BUCKETS)
            .unwrap_or(LADDER_S[LADDER_S.len() - 1].max(self.bucket_s));
        if step != self.bucket_s {
            self.rebucket(step);
        }
        let (lo_i, hi_i) = (lo.div_euclid(step), hi.div_euclid(step));
        if lo_i < self.first {
            let add = (self.first - lo_i) as usize;
            self.buckets
                .splice(0..0, std::iter::repeat_n([0; CATEGORIES], add));
            self.first = lo_i;
        }
        let len = (hi_i - self.first + 1) as usize;
        if len > self.buckets.len() {
            self.buckets.resize(len, [0; CATEGORIES]);
        }
    }

    /// Re-buckets onto `step`, a multiple of the current step.
    fn rebucket(&mut self, step: i64) {
        let k = step / self.bucket_s;
        debug_assert_eq!(step % self.bucket_s, 0);
        let first = self.first.div_euclid(k);
        let last = (self.first + self.buckets.len() as i64 - 1).div_euclid(k);
        let mut out = vec![[0; CATEGORIES]; (last - first + 1) as usize];
        for (j, b) in self.buckets.iter().enumerate() {
            let i = (self.first + j as i64).div_euclid(k) - first;
            for (a, n) in out[i as usize].iter_mut().zip(b) {
                *a += n;
            }
        }
        self.bucket_s = step;
        self.first = first;
        self.buckets = out;
    }

    /// The text view: one sparkline row per category with hits, with the
    /// first and the peak bucket named in local time (`zone`) and UTC.
    pub fn write_text(&self, out: &mut impl Write, zone: &mut LocalZone) -> io::Result<()> {
        let Some(start) = self.start_s() else {
            if self.untimed > 0 {
                writeln!(
                    out,
                    "Timeline: no hit had a timestamp ({} untimed)",
                    self.untimed
                )?;
            }
            return Ok(());
        };
        // A column is `k` buckets, so that a row takes at most
        // TEXT_COLUMNS (from the at most MAX_BUCKETS buckets, k is 1 or 2).
        let k = self.buckets.len().div_ceil(TEXT_COLUMNS as usize).max(1);
        let step = self.bucket_s * k as i64;
        let columns: Vec<[u64; CATEGORIES]> = self
            .buckets
            .chunks(k)
            .map(|chunk| {
                let mut sum = [0; CATEGORIES];
                for b in chunk {
                    for (a, n) in sum.iter_mut().zip(b) {
                        *a += n;
                    }
                }
                sum
            })
            .collect();
        let end = start + columns.len() as i64 * step;
        let local = |z: &mut LocalZone, s: i64| timestamp::wall_time(s, z.offset_at(s));
        writeln!(
            out,
            "Timeline, {} a column, {} to {} ({} to {} UTC){}:",
            step_name(step),
            local(zone, start),
            local(zone, end),
            timestamp::wall_time(start, 0).trim_end_matches(" +00:00"),
            timestamp::wall_time(end, 0).trim_end_matches(" +00:00"),
            if self.untimed > 0 {
                format!(", {} untimed", hits(self.untimed))
            } else {
                String::new()
            }
        )?;
        let cats: Vec<Category> = Category::ALL
            .into_iter()
            .filter(|c| columns.iter().any(|b| b[c.index()] > 0))
            .collect();
        let w = cats.iter().map(|c| c.as_str().len()).max().unwrap_or(0);
        for c in cats {
            let counts: Vec<u64> = columns.iter().map(|b| b[c.index()]).collect();
            let (first, _) = counts
                .iter()
                .enumerate()
                .find(|(_, n)| **n > 0)
                .expect("a category listed has hits");
            // The earliest of equal peaks.
            let (peak, peak_n) = counts
                .iter()
                .enumerate()
                .fold((0, 0), |m, (i, &n)| if n > m.1 { (i, n) } else { m });
            let at = |i: usize| start + i as i64 * step;
            writeln!(out, "  {:<w$} |{}|", c.as_str(), sparkline(&counts, peak_n))?;
            writeln!(
                out,
                "  {:<w$}  first {} ({} UTC), peak {} ({} UTC): {}",
                "",
                local(zone, at(first)),
                utc_clock(at(first)),
                local(zone, at(peak)),
                utc_clock(at(peak)),
                hits(peak_n)
            )?;
        }
        Ok(())
    }
}

/// `2026-11-30 02:04:20`: a UTC time, the zone said by the caller.
fn utc_clock(s: i64) -> String {
    timestamp::wall_time(s, 0)
        .trim_end_matches(" +00:00")
        .to_string()
}

/// `1 hit`, `2 hits`.
fn hits(n: u64) -> String {
    format!("{n} hit{}", if n == 1 { "" } else { "s" })
}

fn step_name(s: i64) -> String {
    match s {
        s if s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// One character per bucket: blank for none, else one of eight heights
/// relative to `max` (any hit shows at least the lowest).
fn sparkline(counts: &[u64], max: u64) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    counts
        .iter()
        .map(|&n| {
            if n == 0 {
                ' '
            } else {
                BARS[((n * 8).div_ceil(max.max(1)) as usize).clamp(1, 8) - 1]
            }
        })
        .collect()
}

/// The JSON shape of the SPEC: `{"bucket_s": 60, "start": "...",
/// "by_category": {"quota": [0, 3, 12]}, "untimed": 4}`; `start` is null
/// and `by_category` empty without timed hits. Every category with a timed
/// hit has one count per bucket.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimelineJson {
    bucket_s: i64,
    start: Option<String>,
    by_category: BTreeMap<Category, Vec<u64>>,
    untimed: u64,
}

impl From<Timeline> for TimelineJson {
    fn from(t: Timeline) -> TimelineJson {
        let by_category = Category::ALL
            .into_iter()
            .filter(|c| t.counts(*c).any(|n| n > 0))
            .map(|c| (c, t.counts(c).collect()))
            .collect();
        TimelineJson {
            bucket_s: t.bucket_s,
            start: t.start_s().map(|s| timestamp::rfc3339_utc(s * 1000)),
            by_category,
            untimed: t.untimed,
        }
    }
}

/// Why a timeline read from a report is not one faultline writes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimelineError {
    #[error("timeline.bucket_s {0} is not one of {LADDER_S:?}")]
    Step(i64),
    #[error(
        "timeline.start {0:?} is not an RFC 3339 time on a bucket boundary (like 2026-11-30T02:04:00Z)"
    )]
    Start(String),
    #[error("timeline.by_category: every category needs the same number of buckets")]
    Lengths,
    #[error("timeline.start is null but timeline.by_category has counts")]
    NoStart,
}

impl TryFrom<TimelineJson> for Timeline {
    type Error = TimelineError;
    fn try_from(j: TimelineJson) -> Result<Timeline, TimelineError> {
        if !LADDER_S.contains(&j.bucket_s) {
            return Err(TimelineError::Step(j.bucket_s));
        }
        let mut t = Timeline {
            bucket_s: j.bucket_s,
            untimed: j.untimed,
            ..Timeline::default()
        };
        let Some(start) = j.start else {
            if j.by_category.values().any(|v| v.iter().any(|&n| n > 0)) {
                return Err(TimelineError::NoStart);
            }
            return Ok(t);
        };
        let ms = timestamp::parse_rfc3339(&start)
            .filter(|ms| ms.rem_euclid(1000 * j.bucket_s) == 0)
            .ok_or_else(|| TimelineError::Start(start.clone()))?;
        let len = j.by_category.values().next().map_or(0, Vec::len);
        if j.by_category.values().any(|v| v.len() != len) {
            return Err(TimelineError::Lengths);
        }
        t.first = ms.div_euclid(1000 * j.bucket_s);
        t.buckets = vec![[0; CATEGORIES]; len];
        for (c, counts) in &j.by_category {
            for (b, &n) in t.buckets.iter_mut().zip(counts) {
                b[c.index()] = n;
            }
        }
        // Trim empty buckets at the ends, so that what is read back is what
        // the hits would have made.
        while t.buckets.last().is_some_and(|b| b.iter().all(|&n| n == 0)) {
            t.buckets.pop();
        }
        let lead = t
            .buckets
            .iter()
            .take_while(|b| b.iter().all(|&n| n == 0))
            .count();
        t.buckets.drain(..lead);
        t.first += lead as i64;
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Category::*;

    /// The reference: bucket size and counts computed from all hits at
    /// once, by the rule in the module doc, independently of the
    /// incremental code.
    fn reference(hits: &[(Category, i64)]) -> (i64, i64, Vec<[u64; CATEGORIES]>) {
        let lo = hits.iter().map(|h| h.1).min().unwrap();
        let hi = hits.iter().map(|h| h.1).max().unwrap();
        let step = *LADDER_S
            .iter()
            // Buckets from the first to the last: hi / b - lo / b + 1 <= 120.
            .find(|&&b| hi / b - lo / b < MAX_BUCKETS)
            .unwrap_or(LADDER_S.last().unwrap());
        let mut buckets = vec![[0; CATEGORIES]; (hi / step - lo / step + 1) as usize];
        for &(c, s) in hits {
            buckets[(s / step - lo / step) as usize][c.index()] += 1;
        }
        (step, lo / step * step, buckets)
    }

    fn build(hits: &[(Category, i64)]) -> Timeline {
        let mut t = Timeline::default();
        for &(c, s) in hits {
            t.add(c, s * 1000);
        }
        t
    }

    /// A deterministic spread of hits (xorshift), over `span_s` seconds.
    fn hits(seed: u64, n: usize, base: i64, span_s: i64) -> Vec<(Category, i64)> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let c = Category::ALL[(x % 7) as usize];
                (c, base + ((x >> 8) % span_s as u64) as i64)
            })
            .collect()
    }

    #[test]
    fn incremental_equals_all_at_once() {
        let base = 1_795_996_800;
        for (seed, span) in [
            (1, 1),
            (2, 90),
            (3, 121),
            (4, 7_200),
            (5, 86_400 * 3),
            (6, 86_400 * 400),
            (7, 86_400 * 365 * 300),
        ] {
            let h = hits(seed, 2_000, base, span);
            let t = build(&h);
            let (step, start, buckets) = reference(&h);
            assert_eq!(t.bucket_s, step, "span {span}");
            assert_eq!(t.start_s(), Some(start), "span {span}");
            assert_eq!(t.buckets, buckets, "span {span}");
            assert_eq!(t.buckets.iter().flatten().sum::<u64>(), 2_000);
        }
    }

    #[test]
    fn bucket_sizes_by_span() {
        // 2 hits at the ends of a span starting on an hour boundary.
        let at = |span: i64| build(&[(Quota, 1_795_996_800), (Quota, 1_795_996_800 + span)]);
        assert_eq!(at(0).bucket_s, 1);
        assert_eq!(at(119).bucket_s, 1);
        assert_eq!(at(120).bucket_s, 5);
        assert_eq!(at(3600).bucket_s, 60);
        assert_eq!(at(2 * 3600 - 1).bucket_s, 60);
        // 7200 / 60 + 1 = 121 buckets: one too many.
        assert_eq!(at(2 * 3600).bucket_s, 300);
        assert_eq!(at(86_400).bucket_s, 1800);
        assert_eq!(at(29 * 86_400).bucket_s, 21_600);
        assert_eq!(at(30 * 86_400).bucket_s, 86_400);
        assert_eq!(at(86_400 * 365 * 1000).bucket_s, 29_030_400);
    }

    #[test]
    fn merge_in_any_split_and_order_equals_one_timeline() {
        let base = 1_795_996_800;
        let mut h = hits(11, 600, base, 3 * 3600);
        h.extend(hits(12, 200, base - 40 * 86_400, 600));
        h.extend(hits(13, 50, base + 5, 30));
        let whole = build(&h);
        for parts in [2, 3, 7] {
            let mut merged = Timeline::default();
            for p in 0..parts {
                let part: Vec<_> = h.iter().copied().skip(p).step_by(parts).collect();
                let mut t = build(&part);
                t.untimed = p as u64;
                merged.merge(&t);
            }
            merged.untimed = 0;
            assert_eq!(merged, whole, "{parts} parts");
        }
        // Parts that are each narrow, together wide.
        let a = build(&h[..600]);
        let b = build(&h[600..800]);
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, ba);
        assert_eq!(ab, build(&h[..800]));
    }

    #[test]
    fn json_in_the_spec_shape_round_trips() {
        let mut t = build(&[
            (Quota, 1_795_996_800 + 60),
            (Quota, 1_795_996_800 + 61),
            (Retry, 1_795_996_800 + 7199),
        ]);
        t.add_untimed();
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(v["bucket_s"], 60);
        assert_eq!(v["start"], "2026-11-30T00:01:00Z");
        assert_eq!(v["untimed"], 1);
        let quota = v["by_category"]["quota"].as_array().unwrap();
        assert_eq!(quota.len(), 119);
        assert_eq!(quota[0], 2);
        assert_eq!(v["by_category"]["retry"][118], 1);
        assert!(v["by_category"].get("access").is_none());
        let text = serde_json::to_string(&t).unwrap();
        let at = |k: &str| text.find(&format!("\"{k}\"")).unwrap();
        assert!(at("bucket_s") < at("start"), "{text}");
        assert!(at("start") < at("by_category"), "{text}");
        assert!(at("by_category") < at("untimed"), "{text}");
        let back: Timeline = serde_json::from_value(v).unwrap();
        assert_eq!(back, t);
        let empty = serde_json::to_value(Timeline::default()).unwrap();
        assert_eq!(
            empty,
            serde_json::json!({"bucket_s": 1, "start": null, "by_category": {}, "untimed": 0})
        );
    }

    #[test]
    fn bad_json_is_named() {
        let err = |j: serde_json::Value| {
            serde_json::from_value::<Timeline>(j)
                .unwrap_err()
                .to_string()
        };
        assert!(
            err(serde_json::json!({"bucket_s": 7, "start": null, "by_category": {}, "untimed": 0}))
                .contains("bucket_s 7")
        );
        assert!(err(serde_json::json!({"bucket_s": 60, "start": "2026-11-30T00:01:30Z", "by_category": {"quota": [1]}, "untimed": 0})).contains("bucket boundary"));
        assert!(err(serde_json::json!({"bucket_s": 60, "start": "2026-11-30T00:01:00Z", "by_category": {"quota": [1], "retry": [1, 2]}, "untimed": 0})).contains("same number"));
    }

    #[test]
    fn text_names_the_first_and_the_peak_bucket() {
        let base = 1_795_996_800; // 2026-11-30T00:00:00Z
        let mut h = vec![(Quota, base + 120)];
        for i in 0..5 {
            h.push((Quota, base + 600 + i));
        }
        h.push((Quota, base + 3600));
        let t = build(&h);
        let mut out = Vec::new();
        t.write_text(&mut out, &mut LocalZone::fixed(3600)).unwrap();
        let text = String::from_utf8(out).unwrap();
        // 00:02:00 to 01:00:00 is 3480 s: 117 buckets of 30 s (the JSON's),
        // drawn as 59 columns of two buckets (at most TEXT_COLUMNS).
        assert_eq!(t.bucket_s(), 30);
        assert!(text.contains("1 min a column"), "{text}");
        assert!(
            text.contains("first 2026-11-30 01:02:00 +01:00 (2026-11-30 00:02:00 UTC)"),
            "{text}"
        );
        assert!(
            text.contains("peak 2026-11-30 01:10:00 +01:00 (2026-11-30 00:10:00 UTC): 5 hits"),
            "{text}"
        );
        let line = text.lines().find(|l| l.contains('|')).unwrap();
        let bars: Vec<char> = line.split('|').nth(1).unwrap().chars().collect();
        assert_eq!(bars.len(), 59);
        // 1 of a peak of 5: ceil(8 / 5) = 2 eighths.
        assert_eq!(bars[0], '▂');
        assert_eq!(bars[(600 - 120) / 60], '█');
        assert_eq!(bars[58], '▂');
        assert_eq!(bars[1], ' ');
    }

    #[test]
    fn sparkline_heights() {
        assert_eq!(sparkline(&[0, 1, 4, 8], 8), " ▁▄█");
        assert_eq!(sparkline(&[1, 1000], 1000), "▁█");
    }
}

//! Criterion benchmarks of the scanning engine over a generated log.
//!
//! - `matcher/*`: the two matcher designs over the same 64 MiB in memory:
//!   `prefixes` (the chosen [`Matcher`]: Aho-Corasick over `PREFIX.`, then
//!   digits, boundaries and a table lookup) and `full_codes` (one automaton
//!   over all 589 codes plus the 6 prefixes, leftmost-longest, then
//!   boundaries); both report known and unknown codes and are checked to
//!   agree before measuring.
//! - `build/*`: start-up cost of each design.
//! - `searcher/*`: the streaming [`Searcher`] (reader path, 256 KiB buffer,
//!   exact per-code counts and line numbers) and its in-memory slice path;
//!   `baseline/*`: newline counting alone, for scale.
//!
//! Run: `cargo bench --bench matcher` (about a minute).

#[path = "support/loggen.rs"]
mod loggen;

use aho_corasick::{AhoCorasick, MatchKind};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faultline::catalog::CodeId;
use faultline::matcher::{Found, Matcher, UnknownCode, is_word_byte};
use faultline::search::{Position, Searcher, Sink};
use std::hint::black_box;
use std::time::Duration;

const LOG_BYTES: usize = 64 << 20;

/// Design (a): one automaton over every code and every `PREFIX.`.
struct FullCodes {
    ac: AhoCorasick,
    /// Per pattern: `Ok(code id)` for a code, `Err(prefix len)` for a prefix.
    kinds: Vec<Result<CodeId, usize>>,
}

impl FullCodes {
    fn new(codes: &[String]) -> FullCodes {
        let mut pats: Vec<String> = codes.to_vec();
        let mut kinds: Vec<Result<CodeId, usize>> = (0..codes.len() as CodeId).map(Ok).collect();
        let mut prefixes: Vec<&str> = codes
            .iter()
            .map(|c| c.rsplit_once('.').unwrap().0)
            .collect();
        prefixes.sort();
        prefixes.dedup();
        for p in prefixes {
            pats.push(format!("{p}."));
            kinds.push(Err(p.len() + 1));
        }
        // Leftmost-longest: at one start a full code beats its prefix.
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&pats)
            .unwrap();
        FullCodes { ac, kinds }
    }

    /// (known, unknown) counts over a complete input.
    fn count(&self, h: &[u8]) -> (u64, u64) {
        let (mut known, mut unknown) = (0, 0);
        for m in self.ac.find_iter(h) {
            let (s, e) = (m.start(), m.end());
            if s > 0 && is_word_byte(h[s - 1]) {
                continue;
            }
            match self.kinds[m.pattern().as_usize()] {
                Ok(_) => {
                    if h.get(e).is_none_or(|&b| !is_word_byte(b)) {
                        known += 1;
                    }
                }
                Err(_) => {
                    let digits = h
                        .get(e..e + 4)
                        .is_some_and(|d| d.iter().all(u8::is_ascii_digit));
                    if digits && h.get(e + 4).is_none_or(|&b| !is_word_byte(b)) {
                        unknown += 1;
                    }
                }
            }
        }
        (known, unknown)
    }
}

/// Exact per-code counts, as the scan command keeps them.
struct Counts {
    known: Vec<u64>,
    unknown: u64,
    last_line: u64,
}

impl Sink for Counts {
    fn known(&mut self, id: CodeId, pos: Position) {
        self.known[id as usize] += 1;
        self.last_line = pos.line;
    }
    fn unknown(&mut self, _: UnknownCode, pos: Position) {
        self.unknown += 1;
        self.last_line = pos.line;
    }
}

fn count_prefixes(m: &Matcher, h: &[u8]) -> (u64, u64) {
    let (mut known, mut unknown) = (0, 0);
    m.for_each(h, |_, f| match f {
        Found::Known(_) => known += 1,
        Found::Unknown(_) => unknown += 1,
    });
    (known, unknown)
}

fn benches(c: &mut Criterion) {
    let codes = loggen::fixture_codes();
    let log = loggen::LogGen::generate(7, &codes, 3, LOG_BYTES);
    let m = Matcher::new(codes.iter().map(String::as_str)).unwrap();
    let full = FullCodes::new(&codes);
    let expect = count_prefixes(&m, &log);
    assert_eq!(full.count(&log), expect, "designs disagree");
    assert!(expect.0 > 1000, "{expect:?}");

    let mut g = c.benchmark_group("matcher");
    g.throughput(Throughput::Bytes(log.len() as u64));
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g.bench_function("prefixes", |b| {
        b.iter(|| count_prefixes(&m, black_box(&log)))
    });
    g.bench_function("full_codes", |b| b.iter(|| full.count(black_box(&log))));
    g.finish();

    let mut g = c.benchmark_group("build");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g.bench_function("prefixes", |b| {
        b.iter(|| Matcher::new(codes.iter().map(String::as_str)).unwrap())
    });
    g.bench_function("full_codes", |b| b.iter(|| FullCodes::new(&codes)));
    g.finish();

    let mut g = c.benchmark_group("searcher");
    g.throughput(Throughput::Bytes(log.len() as u64));
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    let mut searcher = Searcher::default();
    g.bench_function("reader_256k", |b| {
        b.iter(|| {
            let mut sink = Counts {
                known: vec![0; m.code_count()],
                unknown: 0,
                last_line: 0,
            };
            let t = searcher
                .search_reader(&m, black_box(&log[..]), &mut sink)
                .unwrap();
            (t, sink.unknown)
        })
    });
    g.bench_function("slice", |b| {
        b.iter(|| {
            let mut sink = Counts {
                known: vec![0; m.code_count()],
                unknown: 0,
                last_line: 0,
            };
            let t = searcher.search_slice(&m, black_box(&log[..]), &mut sink);
            (t, sink.unknown)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("baseline");
    g.throughput(Throughput::Bytes(log.len() as u64));
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("bytecount_lf", |b| {
        b.iter(|| bytecount::count(black_box(&log), b'\n'))
    });
    g.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);

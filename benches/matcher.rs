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
use faultline::search::{Flow, Position, Searcher, Sink};
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

/// Prototype of a design (c) that is not Aho-Corasick: one fused AVX2 pass
/// computes 64-bit masks (dot, digit, word byte, LF) per 64 bytes, finds
/// `.DDDD` followed by a non-word byte with shifts across blocks, counts LFs
/// with popcnt, and verifies the prefix of each candidate by scanning back
/// over word bytes and looking the run up. Only to measure the headroom over
/// Teddy; counts (known + unknown, LFs) are checked against the matcher.
#[cfg(target_arch = "x86_64")]
mod fused {
    use std::arch::x86_64::*;
    use std::collections::HashMap;

    pub struct Fused {
        pub prefixes: HashMap<Vec<u8>, u16>,
        pub max_prefix: usize,
    }

    #[inline(always)]
    fn is_word(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b == b'_'
    }

    #[target_feature(enable = "avx2")]
    unsafe fn masks32(p: *const u8) -> (u64, u64, u64, u64) {
        unsafe {
            let x = _mm256_loadu_si256(p as *const __m256i);
            let dot = _mm256_cmpeq_epi8(x, _mm256_set1_epi8(b'.' as i8));
            let lf = _mm256_cmpeq_epi8(x, _mm256_set1_epi8(b'\n' as i8));
            let d = _mm256_sub_epi8(x, _mm256_set1_epi8(b'0' as i8));
            let dig = _mm256_cmpeq_epi8(_mm256_min_epu8(d, _mm256_set1_epi8(9)), d);
            let a = _mm256_sub_epi8(
                _mm256_or_si256(x, _mm256_set1_epi8(0x20)),
                _mm256_set1_epi8(b'a' as i8),
            );
            let alpha = _mm256_cmpeq_epi8(_mm256_min_epu8(a, _mm256_set1_epi8(25)), a);
            let us = _mm256_cmpeq_epi8(x, _mm256_set1_epi8(b'_' as i8));
            let word = _mm256_or_si256(_mm256_or_si256(dig, alpha), us);
            (
                _mm256_movemask_epi8(dot) as u32 as u64,
                _mm256_movemask_epi8(dig) as u32 as u64,
                _mm256_movemask_epi8(word) as u32 as u64,
                _mm256_movemask_epi8(lf) as u32 as u64,
            )
        }
    }

    #[target_feature(enable = "avx2")]
    unsafe fn masks64(h: &[u8], at: usize) -> [u64; 4] {
        unsafe {
            let p = h.as_ptr().add(at);
            let (a0, a1, a2, a3) = masks32(p);
            let (b0, b1, b2, b3) = masks32(p.add(32));
            [a0 | b0 << 32, a1 | b1 << 32, a2 | b2 << 32, a3 | b3 << 32]
        }
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn masks64_512(h: &[u8], at: usize) -> [u64; 4] {
        unsafe {
            let x = _mm512_loadu_si512(h.as_ptr().add(at) as *const _);
            let b = |c: u8| _mm512_set1_epi8(c as i8);
            let dot = _mm512_cmpeq_epi8_mask(x, b(b'.'));
            let lf = _mm512_cmpeq_epi8_mask(x, b(b'\n'));
            let dig = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(x, b(b'0')), b(10));
            let lower = _mm512_or_si512(x, b(0x20));
            let alpha = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(lower, b(b'a')), b(26));
            let us = _mm512_cmpeq_epi8_mask(x, b(b'_'));
            [dot, dig, dig | alpha | us, lf]
        }
    }

    impl Fused {
        /// (codes of known prefixes with digits and boundaries, LFs).
        pub fn count(&self, h: &[u8]) -> (u64, u64) {
            assert!(is_x86_feature_detected!("avx2"));
            // SAFETY: avx2 is detected.
            unsafe { self.count_avx2(h) }
        }

        /// The same with AVX-512BW mask compares (no movemask).
        pub fn count512(&self, h: &[u8]) -> (u64, u64) {
            assert!(is_x86_feature_detected!("avx512bw"));
            // SAFETY: avx512bw is detected.
            unsafe { self.count_avx512(h) }
        }

        #[target_feature(enable = "avx2")]
        unsafe fn count_avx2(&self, h: &[u8]) -> (u64, u64) {
            // SAFETY: avx2 is enabled here; loads stay inside `h`.
            self.run(h, |h, at| unsafe { masks64(h, at) })
        }

        #[target_feature(enable = "avx512f,avx512bw")]
        unsafe fn count_avx512(&self, h: &[u8]) -> (u64, u64) {
            // SAFETY: avx512bw is enabled here; loads stay inside `h`.
            self.run(h, |h, at| unsafe { masks64_512(h, at) })
        }

        #[inline(always)]
        fn run(&self, h: &[u8], masks64: impl Fn(&[u8], usize) -> [u64; 4]) -> (u64, u64) {
            let (mut found, mut lfs) = (0u64, 0u64);
            let blocks = h.len() / 64;
            if blocks < 2 {
                return (0, 0);
            }
            // SAFETY: avx2 is detected; every load is inside `h`.
            let mut cur = masks64(h, 0);
            for k in 0..blocks - 1 {
                let next = masks64(h, (k + 1) * 64);
                let sh = |m: usize, n: u32| (cur[m] >> n) | (next[m] << (64 - n));
                let mut cand = cur[0] & sh(1, 1) & sh(1, 2) & sh(1, 3) & sh(1, 4) & !sh(2, 5);
                lfs += u64::from(cur[3].count_ones());
                while cand != 0 {
                    let d = k * 64 + cand.trailing_zeros() as usize;
                    cand &= cand - 1;
                    found += u64::from(self.verify(h, d));
                }
                cur = next;
            }
            lfs += u64::from(cur[3].count_ones());
            // The last block and the tail: scalar.
            let from = (blocks - 1) * 64;
            for d in from..h.len() {
                let ok = h[d] == b'.'
                    && h.get(d + 1..d + 5)
                        .is_some_and(|x| x.iter().all(u8::is_ascii_digit))
                    && h.get(d + 5).is_none_or(|&b| !is_word(b));
                found += u64::from(ok && self.verify(h, d));
            }
            lfs += h[blocks * 64..].iter().filter(|&&b| b == b'\n').count() as u64;
            (found, lfs)
        }

        #[inline]
        fn verify(&self, h: &[u8], dot: usize) -> bool {
            let mut r = dot;
            while r > 0 && is_word(h[r - 1]) {
                r -= 1;
                if dot - r > self.max_prefix {
                    return false;
                }
            }
            self.prefixes.contains_key(&h[r..dot])
        }
    }
}

/// Exact per-code counts, as the scan command keeps them.
struct Counts {
    known: Vec<u64>,
    unknown: u64,
    last_line: u64,
}

impl Sink for Counts {
    type Error = std::io::Error;

    fn known(&mut self, id: CodeId, pos: Position) -> std::io::Result<Flow> {
        self.known[id as usize] += 1;
        self.last_line = pos.line;
        Ok(Flow::Continue)
    }
    fn unknown(&mut self, _: UnknownCode, pos: Position) -> std::io::Result<Flow> {
        self.unknown += 1;
        self.last_line = pos.line;
        Ok(Flow::Continue)
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
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        let mut prefixes = std::collections::HashMap::new();
        for p in 0..m.prefix_count() {
            prefixes.insert(m.prefix(p as u16).as_bytes().to_vec(), p as u16);
        }
        let max_prefix = prefixes.keys().map(Vec::len).max().unwrap_or(0);
        let f = fused::Fused {
            prefixes,
            max_prefix,
        };
        let lfs = bytecount::count(&log, b'\n') as u64;
        assert_eq!(
            f.count(&log),
            (expect.0 + expect.1, lfs),
            "fused prototype disagrees"
        );
        g.bench_function("fused_avx2_prototype_with_lf_count", |b| {
            b.iter(|| f.count(black_box(&log)))
        });
        if is_x86_feature_detected!("avx512bw") {
            let got = f.count512(&log);
            assert_eq!(
                got,
                (expect.0 + expect.1, lfs),
                "avx512 prototype disagrees"
            );
            g.bench_function("fused_avx512_prototype_with_lf_count", |b| {
                b.iter(|| f.count512(black_box(&log)))
            });
        }
    }
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
            let t = searcher
                .search_slice(&m, black_box(&log[..]), &mut sink)
                .unwrap();
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

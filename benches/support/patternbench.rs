//! Measures the pattern-set choices behind `src/matcher.rs` (its module docs
//! quote the numbers): for the built-in catalog and a generated user catalog
//! of 10,000 codes over 2,000 stems, the automaton the aho-corasick crate
//! builds for (a) the matcher's patterns (family stems + codes without a
//! family) and (b) every code as a pattern (what `rg -F -f` searches for),
//! each leftmost-first and leftmost-longest: kind, build time and raw
//! search throughput over 64 MiB of generated log; then the whole matcher.
//!
//! ```text
//! cargo run --release --example patternbench
//! ```

#[path = "loggen.rs"]
mod loggen;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use faultline::catalog::code::family;
use faultline::matcher::Matcher;
use std::time::Instant;

const BYTES: usize = 64 << 20;

fn best<F: FnMut() -> u64>(mut f: F) -> (f64, u64) {
    let mut best = f64::MAX;
    let mut n = 0;
    for _ in 0..5 {
        let t = Instant::now();
        n = f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    (best, n)
}

fn probe(label: &str, patterns: &[String], hay: &[u8]) {
    for (kind, ac_kind) in [
        (MatchKind::LeftmostFirst, None),
        (MatchKind::LeftmostLongest, None),
        (MatchKind::LeftmostLongest, Some(AhoCorasickKind::DFA)),
    ] {
        let t = Instant::now();
        let ac = AhoCorasick::builder()
            .match_kind(kind)
            .kind(ac_kind)
            .build(patterns)
            .unwrap();
        let build = t.elapsed();
        let (secs, n) = best(|| ac.find_iter(hay).count() as u64);
        println!(
            "{label:<34} {:>6} patterns {kind:?}: {:?}, {} KiB, build {:.2} ms, {:.2} GiB/s ({n} matches)",
            patterns.len(),
            ac.kind(),
            ac.memory_usage() >> 10,
            build.as_secs_f64() * 1e3,
            hay.len() as f64 / secs / (1u64 << 30) as f64
        );
    }
}

fn matcher_patterns(codes: &[String]) -> Vec<String> {
    let mut p: Vec<String> = codes
        .iter()
        .map(|c| family(c).map_or(c.as_str(), |f| f.stem).to_string())
        .collect();
    p.sort();
    p.dedup();
    p
}

fn main() {
    let builtin = loggen::fixture_codes();
    let mut user = builtin.clone();
    user.extend(loggen::user_catalog(7, 10_000, 2_000));
    for (name, codes, patho) in [
        ("built-in", &builtin, 0u64),
        ("built-in, pathological text", &builtin, 6 << 20),
        ("user 10,000 + built-in", &user, 0),
    ] {
        let hay = {
            let mut g = loggen::LogGen::new(7, codes, 3).with_pathological(patho);
            let mut v = Vec::with_capacity(BYTES + (5 << 20));
            while v.len() < BYTES {
                g.line(&mut v);
            }
            v
        };
        probe(
            &format!("{name}: stems + exact"),
            &matcher_patterns(codes),
            &hay,
        );
        probe(&format!("{name}: every code"), codes, &hay);
        let t = Instant::now();
        let m = Matcher::new(codes.iter().map(String::as_str)).unwrap();
        let build = t.elapsed();
        let (secs, n) = best(|| {
            let mut n = 0u64;
            m.for_each(&hay, |_, _| n += 1);
            n
        });
        println!(
            "{name:<34} Matcher ({} patterns): build {:.2} ms, {:.2} GiB/s ({n} codes found)",
            m.pattern_count(),
            build.as_secs_f64() * 1e3,
            hay.len() as f64 / secs / (1u64 << 30) as f64
        );
    }
}

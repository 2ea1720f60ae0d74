//! A throwaway whole-file timing harness for the engine, to compare with
//! `rg -c -F -f` and `grep -c -F -f` on the same file (see benches/NOTES.md).
//!
//! ```text
//! cargo run --release --example scanbench -- FILE [--buffer BYTES] [--slice]
//! ```
//! Reads FILE with a [`Searcher`] (one thread, `read(2)` into its buffer),
//! keeps exact per-code counts and line numbers, and prints totals and
//! throughput. `--slice` first reads the whole file into memory (not timed)
//! and times `Searcher::search_slice`; `--mmap` memory-maps FILE (as ripgrep
//! does for a single file) and times mapping plus `search_slice`.

#[path = "loggen.rs"]
mod loggen;

use faultline::catalog::CodeId;
use faultline::matcher::{Matcher, UnknownCode};
use faultline::search::{Flow, Position, Searcher, Sink};
use std::time::Instant;

struct Counts {
    known: Vec<u64>,
    unknown: u64,
    max_line: u64,
}

impl Sink for Counts {
    type Error = std::io::Error;

    fn known(&mut self, id: CodeId, pos: Position) -> std::io::Result<Flow> {
        self.known[id as usize] += 1;
        self.max_line = pos.line;
        Ok(Flow::Continue)
    }
    fn unknown(&mut self, _: UnknownCode, pos: Position) -> std::io::Result<Flow> {
        self.unknown += 1;
        self.max_line = pos.line;
        Ok(Flow::Continue)
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut buffer = faultline::search::DEFAULT_BUFFER_BYTES;
    let mut slice = false;
    let mut mmap = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--buffer" => {
                buffer = loggen::parse_size(&args.next().expect("--buffer N")).expect("size")
            }
            "--slice" => slice = true,
            "--mmap" => mmap = true,
            _ => path = Some(a),
        }
    }
    let path = path.expect("usage: scanbench FILE [--buffer N] [--slice]");
    let t0 = Instant::now();
    let codes = loggen::fixture_codes();
    let m = Matcher::new(codes.iter().map(String::as_str)).unwrap();
    let build = t0.elapsed();
    let mut s = Searcher::new(buffer);
    let mut sink = Counts {
        known: vec![0; m.code_count()],
        unknown: 0,
        max_line: 0,
    };
    let (totals, elapsed) = if mmap {
        let t = Instant::now();
        let f = std::fs::File::open(&path).unwrap();
        // SAFETY: the file is not modified while mapped (a benchmark input).
        let map = unsafe {
            let mut o = memmap2::MmapOptions::new();
            if std::env::var_os("POPULATE").is_some() {
                o.populate();
            }
            o.map(&f).unwrap()
        };
        if std::env::var_os("SEQ").is_some() {
            map.advise(memmap2::Advice::Sequential).unwrap();
        }
        let totals = s.search_slice(&m, &map, &mut sink).unwrap();
        (totals, t.elapsed())
    } else if slice {
        let data = std::fs::read(&path).unwrap();
        let t = Instant::now();
        let totals = s.search_slice(&m, &data, &mut sink).unwrap();
        (totals, t.elapsed())
    } else {
        let t = Instant::now();
        let f = std::fs::File::open(&path).unwrap();
        let totals = s.search_reader(&m, f, &mut sink).unwrap();
        (totals, t.elapsed())
    };
    let hits: u64 = sink.known.iter().sum();
    let distinct = sink.known.iter().filter(|&&c| c > 0).count();
    println!(
        "{} bytes, {} lines, {} hits ({} distinct codes), {} unknown, build {:.3} ms, scan {:.3} s, {:.2} GB/s ({})",
        totals.bytes,
        totals.lines,
        hits,
        distinct,
        sink.unknown,
        build.as_secs_f64() * 1e3,
        elapsed.as_secs_f64(),
        totals.bytes as f64 / elapsed.as_secs_f64() / 1e9,
        if mmap {
            "mmap"
        } else if slice {
            "slice"
        } else {
            "reader"
        },
    );
}

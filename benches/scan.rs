//! The whole `scan` (discovery, reading, matching, enrichment, exact
//! aggregation) over a generated ~1 GB log, through the library entry point
//! the command uses, with the built-in catalog.
//!
//! ```text
//! cargo bench --bench scan                          # 1 GiB (the default)
//! FAULTLINE_BENCH_BYTES=256M cargo bench --bench scan
//! ```
//!
//! The file is generated once (seed 7, `benches/support/loggen.rs`, three
//! lines in a thousand with a code) into the system temp directory and kept
//! there between runs (`faultline-scan-bench-<bytes>.log`); the first
//! iteration of each benchmark brings it into the page cache. Cases: one
//! thread memory-mapped (the default for large plain files), one thread
//! with `read(2)` (`--no-mmap`), and the same file twice on two threads
//! (whose time should be about that of one). The whole-process comparison
//! with `rg` and `grep` is `benches/compare.sh`.

#[path = "support/loggen.rs"]
mod loggen;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faultline::catalog::Catalog;
use faultline::scan::{Options, scan};
use std::path::PathBuf;
use std::time::Duration;

fn bench_file(codes: &[String]) -> (PathBuf, u64) {
    let bytes = std::env::var("FAULTLINE_BENCH_BYTES")
        .ok()
        .map(|s| loggen::parse_size(&s).expect("FAULTLINE_BENCH_BYTES: a size like 1G or 256M"))
        .unwrap_or(1 << 30);
    let path = std::env::temp_dir().join(format!("faultline-scan-bench-{bytes}.log"));
    if std::fs::metadata(&path)
        .map(|m| m.len() < bytes as u64)
        .unwrap_or(true)
    {
        // Written in pieces so generating 1 GiB does not take 1 GiB of RAM.
        let mut g = loggen::LogGen::new(7, codes, 3);
        let tmp = path.with_extension("partial");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp).unwrap());
        let mut written = 0usize;
        let mut chunk = Vec::with_capacity(1 << 20);
        while written < bytes {
            chunk.clear();
            while chunk.len() < 1 << 20 {
                g.line(&mut chunk);
            }
            std::io::Write::write_all(&mut out, &chunk).unwrap();
            written += chunk.len();
        }
        drop(out);
        std::fs::rename(&tmp, &path).unwrap();
    }
    let len = std::fs::metadata(&path).unwrap().len();
    (path, len)
}

fn benches(c: &mut Criterion) {
    let catalog = Catalog::builtin().unwrap();
    let codes: Vec<String> = catalog.entries().iter().map(|e| e.code.clone()).collect();
    let (path, len) = bench_file(&codes);
    let options = |threads, mmap: bool| Options {
        threads,
        buffer_bytes: 256 << 10,
        mmap_min_bytes: mmap.then_some(1 << 20),
        follow: false,
        progress: false,
        own_outputs: Vec::new(),
        chunk_bytes: 4 << 20,
        started: std::time::SystemTime::now(),
    };
    // The exact figures are those of a first run, so every iteration is
    // checked against it: a faster scan that counts differently fails.
    let reference = scan(
        &catalog,
        std::slice::from_ref(&path),
        &options(1, true),
        None,
    )
    .unwrap();
    assert!(
        reference.report.hits > 1000,
        "too few hits to mean anything"
    );

    let mut g = c.benchmark_group("scan");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Bytes(len));
    for (name, mmap) in [("1_thread_mmap", true), ("1_thread_read", false)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let out = scan(
                    &catalog,
                    std::slice::from_ref(&path),
                    &options(1, mmap),
                    None,
                )
                .unwrap();
                assert_eq!(out.report.hits, reference.report.hits);
                out
            })
        });
    }
    g.throughput(Throughput::Bytes(2 * len));
    g.bench_function("same_file_twice_2_threads", |b| {
        b.iter(|| {
            let out = scan(
                &catalog,
                &[path.clone(), path.clone()],
                &options(2, true),
                None,
            )
            .unwrap();
            assert_eq!(out.report.hits, 2 * reference.report.hits);
            out
        })
    });
    g.finish();
}

criterion_group!(scan_benches, benches);
criterion_main!(scan_benches);

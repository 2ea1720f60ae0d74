//! Writes a deterministic generated log (see `loggen.rs`).
//!
//! ```text
//! cargo run --release --example genlog -- --bytes 1G --seed 7 -o /tmp/big.log
//! ```
//! Options: `--bytes N[K|M|G]` (default 64M), `--seed S` (default 7),
//! `--codes-per-mille P` (lines per thousand with a code, default 3),
//! `-o FILE` (default stdout).

#[path = "loggen.rs"]
mod loggen;

use std::io::Write;

fn main() {
    let mut bytes = 64usize << 20;
    let mut seed = 7u64;
    let mut per_mille = 3u64;
    let mut out: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--bytes" => bytes = loggen::parse_size(&val()).unwrap_or_else(|| usage("bad --bytes")),
            "--seed" => seed = val().parse().unwrap_or_else(|_| usage("bad --seed")),
            "--codes-per-mille" => {
                per_mille = val()
                    .parse()
                    .unwrap_or_else(|_| usage("bad --codes-per-mille"))
            }
            "-o" | "--output" => out = Some(val()),
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    let codes = loggen::fixture_codes();
    let mut g = loggen::LogGen::new(seed, &codes, per_mille);
    let sink: Box<dyn Write> = match &out {
        Some(p) => {
            Box::new(std::fs::File::create(p).unwrap_or_else(|e| usage(&format!("{p}: {e}"))))
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut w = std::io::BufWriter::with_capacity(1 << 20, sink);
    let mut written = 0usize;
    let mut chunk = Vec::with_capacity(1 << 20);
    while written < bytes {
        chunk.clear();
        while chunk.len() < (1 << 20) - 1024 && written + chunk.len() < bytes {
            g.line(&mut chunk);
        }
        w.write_all(&chunk)
            .unwrap_or_else(|e| usage(&format!("write: {e}")));
        written += chunk.len();
    }
    w.flush().unwrap_or_else(|e| usage(&format!("write: {e}")));
}

fn usage(msg: &str) -> ! {
    if !msg.is_empty() {
        eprintln!("genlog: {msg}");
    }
    eprintln!("usage: genlog [--bytes N[K|M|G]] [--seed S] [--codes-per-mille P] [-o FILE]");
    std::process::exit(2)
}

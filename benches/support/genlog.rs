//! Writes a deterministic generated log (see `loggen.rs`).
//!
//! ```text
//! cargo run --release --example genlog -- --bytes 1G --seed 7 -o /tmp/big.log
//! ```
//! Options: `--bytes N[K|M|G]` (default 64M), `--seed S` (default 7),
//! `--codes-per-mille P` (lines per thousand with a code, default 3),
//! `--pathological EVERY[K|M|G]` (one pathological line, see `loggen.rs`,
//! every so many bytes; default none), `--user-catalog FILE.json` (also
//! write a user catalog of 10,000 codes over 2,000 stems, 4-, 6- and 8-digit
//! families, and draw the log's codes from it and the built-in ones;
//! `FILE.txt` beside it gets all codes, one a line, for `rg -F -f`),
//! `-o FILE` (default stdout).

#[path = "loggen.rs"]
mod loggen;

use std::io::Write;

fn main() {
    let mut bytes = 64usize << 20;
    let mut seed = 7u64;
    let mut per_mille = 3u64;
    let mut out: Option<String> = None;
    let mut patho = 0u64;
    let mut user: Option<String> = None;
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
            "--pathological" => {
                patho =
                    loggen::parse_size(&val()).unwrap_or_else(|| usage("bad --pathological")) as u64
            }
            "--user-catalog" => user = Some(val()),
            "-o" | "--output" => out = Some(val()),
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    let mut codes = loggen::fixture_codes();
    if let Some(path) = &user {
        let extra = loggen::user_catalog(seed, 10_000, 2_000);
        let json: Vec<String> = extra
            .iter()
            .map(|c| {
                format!("{{\"code\":\"{c}\",\"message\":\"generated\",\"category\":\"retry\"}}")
            })
            .collect();
        let json = format!("[\n{}\n]\n", json.join(",\n"));
        std::fs::write(path, json).unwrap_or_else(|e| usage(&format!("{path}: {e}")));
        codes.extend(extra);
        let txt = std::path::Path::new(path).with_extension("txt");
        std::fs::write(&txt, codes.join("\n") + "\n")
            .unwrap_or_else(|e| usage(&format!("{}: {e}", txt.display())));
    }
    let mut g = loggen::LogGen::new(seed, &codes, per_mille).with_pathological(patho);
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
    eprintln!(
        "usage: genlog [--bytes N[K|M|G]] [--seed S] [--codes-per-mille P] [--pathological N[K|M|G]] [--user-catalog FILE.json] [-o FILE]"
    );
    std::process::exit(2)
}

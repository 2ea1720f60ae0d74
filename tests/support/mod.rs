//! Shared by the whole-command tests: running the real binary, reading the
//! checked-in catalog independently of faultline's own loader, and an
//! independent reference for what counts as a hit (GNU grep -P over the
//! same bytes, with the SPEC's boundary rule written as lookarounds);
//! `tail` agents under test ([`agent`]), servers and HTTP ([`services`]),
//! a replayable random source ([`rng`]).
#![allow(dead_code)]

pub mod agent;
pub mod rng;
pub mod services;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn faultline() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("faultline").expect("binary built");
    cmd.current_dir(root());
    cmd
}

/// Appends `text` to `path` (created when missing) in one write.
pub fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

pub fn bin_path() -> PathBuf {
    assert_cmd::cargo::cargo_bin("faultline")
}

/// The checked-in catalog as plain JSON values, keyed by code.
pub fn catalog() -> BTreeMap<String, serde_json::Value> {
    let text = std::fs::read_to_string(root().join("catalog/catalog.json")).unwrap();
    let entries: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    entries
        .into_iter()
        .map(|e| (e["code"].as_str().unwrap().to_string(), e))
        .collect()
}

/// The code prefixes of the checked-in catalog.
pub fn prefixes(catalog: &BTreeMap<String, serde_json::Value>) -> Vec<String> {
    let mut p: Vec<String> = catalog
        .keys()
        .map(|c| c.rsplit_once('.').unwrap().0.to_string())
        .collect();
    p.sort();
    p.dedup();
    p
}

/// A file's bytes as faultline should see them, decompressed by the gzip
/// and zstd command-line tools (not by the crates faultline uses).
pub fn decompressed(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap();
    let tool = if raw.starts_with(&[0x1f, 0x8b]) {
        "gzip"
    } else if raw.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        "zstd"
    } else {
        return raw;
    };
    let out = Command::new(tool)
        .args(["-d", "-c"])
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("{tool} is needed by the tests: {e}"));
    assert!(out.status.success(), "{tool} -dc {}", path.display());
    out.stdout
}

/// Known and unknown codes in `bytes` by the SPEC rule, found by GNU grep:
/// a catalog prefix, a dot, four digits, and neither neighbour an ASCII
/// letter, digit or underscore. Known = in the catalog.
pub fn grep_reference(
    bytes: &[u8],
    catalog: &BTreeMap<String, serde_json::Value>,
) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let pattern = format!(
        "(?<![A-Za-z0-9_])(?:{})\\.[0-9]{{4}}(?![A-Za-z0-9_])",
        prefixes(catalog).join("|")
    );
    let mut child = Command::new("grep")
        .env("LC_ALL", "C")
        .args(["-a", "-o", "-P", &pattern])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("GNU grep with -P is needed by the tests");
    let mut stdin = child.stdin.take().unwrap();
    let data = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    // grep exits 1 when nothing matches.
    assert!(out.status.code().is_some_and(|c| c <= 1), "grep failed");
    let (mut known, mut unknown) = (BTreeMap::new(), BTreeMap::new());
    for code in String::from_utf8(out.stdout).unwrap().lines() {
        let map = if catalog.contains_key(code) {
            &mut known
        } else {
            &mut unknown
        };
        *map.entry(code.to_string()).or_insert(0) += 1;
    }
    (known, unknown)
}

/// LF-terminated lines plus a final unterminated one (SPEC `lines`).
pub fn count_lines(bytes: &[u8]) -> u64 {
    let lf = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    lf + u64::from(bytes.last().is_some_and(|&b| b != b'\n'))
}

/// Per-service, per-category and per-service×category counts derived from
/// per-code counts through the catalog data.
pub fn derived(
    by_code: &BTreeMap<String, u64>,
    catalog: &BTreeMap<String, serde_json::Value>,
) -> serde_json::Value {
    let mut by_service: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_category: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_sc: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (code, n) in by_code {
        let e = &catalog[code];
        let s = e["service"].as_str().unwrap().to_string();
        let c = e["category"].as_str().unwrap().to_string();
        *by_service.entry(s.clone()).or_default() += n;
        *by_category.entry(c.clone()).or_default() += n;
        *by_sc.entry(s).or_default().entry(c).or_default() += n;
    }
    serde_json::json!({"by_service": by_service, "by_category": by_category, "by_service_category": by_sc})
}

/// Runs a command and parses its stdout as one JSON value.
pub fn json_of(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

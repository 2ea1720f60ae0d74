//! `deploy/grafana-dashboard.json` against the real agent: every query of
//! the dashboard names only metrics that `faultline tail` exports (taken
//! from a real scrape of `/metrics`, not from a list kept here), and, when
//! `promtool` is on PATH (`.ci/run` installs it), every query parses as
//! PromQL once Grafana's variables are given values.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn dashboard() -> Value {
    let path = support::root().join("deploy/grafana-dashboard.json");
    let text = std::fs::read_to_string(&path).expect("deploy/grafana-dashboard.json");
    serde_json::from_str(&text).expect("the dashboard is well-formed JSON")
}

/// Every PromQL expression of the dashboard: the panels' targets, and the
/// metric of each `label_values(METRIC, LABEL)` variable as a selector.
fn expressions(dash: &Value) -> Vec<String> {
    let mut exprs = Vec::new();
    for panel in dash["panels"].as_array().expect("panels") {
        let targets = panel["targets"]
            .as_array()
            .expect("every panel has targets");
        assert!(!targets.is_empty(), "panel {} has no query", panel["title"]);
        for t in targets {
            exprs.push(t["expr"].as_str().expect("a target's expr").to_string());
        }
    }
    for var in dash["templating"]["list"].as_array().expect("templating") {
        if var["type"] == "query" {
            let q = var["query"]["query"].as_str().expect("a variable's query");
            let args = q
                .strip_prefix("label_values(")
                .and_then(|r| r.strip_suffix(')'))
                .unwrap_or_else(|| panic!("variable query {q:?} is not label_values(..)"));
            let metric = args.split(',').next().unwrap().trim();
            exprs.push(metric.to_string());
        }
    }
    exprs
}

/// `expr` as Prometheus sees it once Grafana has put in its variables.
fn with_variables(expr: &str) -> String {
    let e = expr
        .replace("$__rate_interval", "5m")
        .replace("$__range", "6h")
        .replace("$__interval", "1m")
        .replace("$instance", ".*");
    assert!(!e.contains('$'), "unknown Grafana variable in {expr:?}");
    e
}

/// Words of PromQL that are not metric names.
const KEYWORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "bool",
    "and",
    "or",
    "unless",
    "inf",
    "nan",
];

/// The metric names an expression selects: identifiers outside strings,
/// label matchers `{..}`, ranges `[..]` and grouping lists `by (..)`,
/// that are not a function or aggregation (followed by `(`) nor a keyword.
fn metric_names(expr: &str) -> Vec<String> {
    let b = expr.as_bytes();
    let mut names = Vec::new();
    let mut i = 0;
    let mut grouping = false;
    while i < b.len() {
        let c = b[i];
        match c {
            b'"' | b'\'' | b'`' => {
                i += 1;
                while i < b.len() && b[i] != c {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'{' | b'[' => {
                let close = if c == b'{' { b'}' } else { b']' };
                while i < b.len() && b[i] != close {
                    if b[i] == b'"' {
                        // A label value may hold the closing brace.
                        i += 1;
                        while i < b.len() && b[i] != b'"' {
                            i += if b[i] == b'\\' { 2 } else { 1 };
                        }
                    }
                    i += 1;
                }
                i += 1;
            }
            b'(' if grouping => {
                while i < b.len() && b[i] != b')' {
                    i += 1;
                }
                i += 1;
                grouping = false;
            }
            b'0'..=b'9' | b'.' => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c == b':' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b':')
                {
                    i += 1;
                }
                let word = &expr[start..i];
                let rest = expr[i..].trim_start();
                // A function, or an aggregation with its grouping first.
                let call = rest.starts_with('(')
                    || ["by", "without"].iter().any(|g| {
                        rest.strip_prefix(g)
                            .is_some_and(|r| r.trim_start().starts_with('('))
                    });
                let lower = word.to_ascii_lowercase();
                if matches!(
                    lower.as_str(),
                    "by" | "without" | "on" | "ignoring" | "group_left" | "group_right"
                ) {
                    grouping = true;
                } else if !call && !KEYWORDS.contains(&lower.as_str()) {
                    names.push(word.to_string());
                }
            }
            _ => i += 1,
        }
    }
    names
}

#[test]
fn metric_names_reads_promql() {
    assert_eq!(
        metric_names(
            r#"sum by (le, code) (rate(a_bucket{x=~"b|c", y="d{e}"}[5m] offset 1h)) / on (z) group_left (w) b_total > 2 * 0.5e3 or c"#
        ),
        ["a_bucket", "b_total", "c"]
    );
    assert_eq!(
        metric_names("topk(10, increase(m[6h]))"),
        ["m"],
        "a number argument is no name"
    );
}

/// The sample names and family names of a real scrape of
/// `faultline tail --metrics-addr 127.0.0.1:0`.
fn exported_names() -> BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "2026-11-30T05:00:00Z boot\n").unwrap();
    let mut child = Command::new(support::bin_path())
        .args([
            "tail",
            "--log-level",
            "info",
            "--metrics-addr",
            "127.0.0.1:0",
        ])
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("faultline runs");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("serving metrics at http://").nth(1) {
                let _ = tx.send(rest.trim_end_matches("/metrics").to_string());
            }
        }
    });
    let scraped = rx
        .recv_timeout(Duration::from_secs(60))
        .map_err(|_| "faultline did not log its metrics address".to_string())
        .and_then(|addr| scrape(&addr));
    let pid = child.id();
    let _ = child.kill();
    let _ = child.wait();
    let body = scraped.unwrap_or_else(|e| panic!("scraping faultline (pid {pid}): {e}"));
    let mut names = BTreeSet::new();
    for line in body.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            names.insert(rest.split(' ').next().unwrap().to_string());
        } else if !line.starts_with('#') && !line.is_empty() {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            names.insert(line[..end].to_string());
        }
    }
    names
}

fn scrape(addr: &str) -> Result<String, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: faultline\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut response = String::new();
    s.read_to_string(&mut response).map_err(|e| e.to_string())?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or("no HTTP header in the response")?;
    if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
        return Err(head.to_string());
    }
    Ok(body.to_string())
}

#[test]
fn dashboard_names_only_exported_metrics() {
    let dash = dashboard();
    let exprs = expressions(&dash);
    assert!(exprs.len() >= 10, "{exprs:?}");
    let exported = exported_names();
    // The scrape is a real one: the families the issue asks for are in it.
    for family in [
        "faultline_hits_total",
        "faultline_unknown_total",
        "faultline_detection_latency_seconds_bucket",
        "faultline_files_watched",
        "faultline_summaries_sent_total",
    ] {
        assert!(exported.contains(family), "{family} not in {exported:?}");
    }
    let mut used = BTreeSet::new();
    for expr in &exprs {
        let names = metric_names(&with_variables(expr));
        assert!(!names.is_empty(), "{expr:?} names no metric");
        for n in names {
            assert!(
                exported.contains(&n),
                "{expr:?} uses {n}, which faultline does not export (it does: {exported:?})"
            );
            used.insert(n);
        }
    }
    // Every part of the issue's list is on the dashboard.
    for family in [
        "faultline_hits_total",
        "faultline_unknown_total",
        "faultline_detection_latency_seconds_bucket",
        "faultline_files_watched",
        "faultline_summaries_sent_total",
        "faultline_summaries_failed_total",
        "faultline_summaries_dropped_total",
    ] {
        assert!(
            used.contains(family),
            "the dashboard does not show {family}"
        );
    }
}

/// Runs `promtool check rules` on `exprs` as recording rules.
fn promtool_accepts(dir: &std::path::Path, exprs: &[String]) -> Result<(), String> {
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, e) in exprs.iter().enumerate() {
        let quoted = serde_json::to_string(e).unwrap(); // a JSON string is a YAML string
        rules.push_str(&format!(
            "      - record: dashboard:expr_{i}\n        expr: {quoted}\n"
        ));
    }
    let path = dir.join("dashboard.rules.yml");
    std::fs::write(&path, rules).unwrap();
    let out = Command::new("promtool")
        .args(["check", "rules"])
        .arg(&path)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[test]
fn dashboard_expressions_parse() {
    if Command::new("promtool").arg("--version").output().is_err() {
        eprintln!("promtool not on PATH (.ci/run installs it): expressions not parsed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // promtool rejects a broken expression, so its yes means something.
    assert!(promtool_accepts(dir.path(), &["sum(rate(x[5m])".to_string()]).is_err());
    let exprs: Vec<String> = expressions(&dashboard())
        .iter()
        .map(|e| with_variables(e))
        .collect();
    if let Err(e) = promtool_accepts(dir.path(), &exprs) {
        panic!("promtool check rules: {e}");
    }
}

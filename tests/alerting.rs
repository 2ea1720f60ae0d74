//! `tail --metrics-addr` against the real alerting stack: faultline, a
//! real Prometheus (scraping every second, with the rules of `deploy/`)
//! and a real Alertmanager, all on loopback with free ports, every process
//! started and stopped here. Also: the exposition passes `promtool check
//! metrics`, the `deploy/` files pass promtool and amtool, and unknown
//! codes add no series.
//!
//! The Prometheus tools are not optional: a missing one fails the test
//! with a pointer to `.ci/run`, which installs them.

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::append;
use support::services::{
    Proc, encode_query, free_port, get, get_ok, request, require_tool, series, start_serving,
    wait_for,
};

fn promtool() -> std::path::PathBuf {
    require_tool(&["promtool"], "prometheus")
}

/// `faultline tail` on `log` serving metrics on a free port; waits until
/// `/metrics` answers.
fn start_faultline(dir: &Path, log: &Path) -> (Proc, SocketAddr) {
    start_faultline_with(dir, log, &[])
}

fn start_faultline_with(dir: &Path, log: &Path, extra: &[&str]) -> (Proc, SocketAddr) {
    let port = free_port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut cmd = Command::new(support::bin_path());
    cmd.current_dir(dir)
        .args(["tail", "--from", "beginning", "--interval", "1s"])
        .args(["--poll-interval", "100ms", "--log-level", "info"])
        .arg("--summaries")
        .arg(dir.join("summaries.jsonl"))
        .args(["--metrics-addr", &format!(":{port}")])
        .args(extra)
        .arg(log);
    (start_serving(cmd, dir, addr), addr)
}

/// A series' labels and value, as the Prometheus API gives them.
type Sample = (BTreeMap<String, String>, f64);

/// A Prometheus instant query: each result's labels and value.
fn query(prom: SocketAddr, q: &str) -> Result<Vec<Sample>, String> {
    let body = get_ok(prom, &format!("/api/v1/query?query={}", encode_query(q)))?;
    let v: Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
    if v["status"] != "success" {
        return Err(body);
    }
    Ok(v["data"]["result"]
        .as_array()
        .ok_or_else(|| body.clone())?
        .iter()
        .map(|r| {
            let labels = r["metric"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            let value = r["value"][1].as_str().unwrap().parse().unwrap();
            (labels, value)
        })
        .collect())
}

fn by_code(results: &[Sample]) -> BTreeMap<String, f64> {
    results
        .iter()
        .map(|(l, v)| (l["code"].clone(), *v))
        .collect()
}

/// The deploy/ Prometheus configuration, pointed at this test's servers
/// and scraping and evaluating every second. Every substitution must
/// apply, so that a change to the file shows here.
fn prometheus_config(faultline: SocketAddr, alertmanager: SocketAddr) -> String {
    let root = support::root();
    let mut text = std::fs::read_to_string(root.join("deploy/prometheus.yml")).unwrap();
    let rules = root.join("deploy/faultline.rules.yml");
    for (from, to) in [
        ("scrape_interval: 15s", "scrape_interval: 1s".to_string()),
        (
            "evaluation_interval: 15s",
            "evaluation_interval: 1s".to_string(),
        ),
        ("\"127.0.0.1:9093\"", format!("\"{alertmanager}\"")),
        ("\"127.0.0.1:9464\"", format!("\"{faultline}\"")),
        (
            "- faultline.rules.yml",
            format!("- {}", rules.to_str().unwrap()),
        ),
    ] {
        assert_eq!(
            text.matches(from).count(),
            1,
            "deploy/prometheus.yml should have {from:?} once"
        );
        text = text.replace(from, &to);
    }
    text
}

#[test]
fn quota_hits_reach_prometheus_exactly_and_page_through_alertmanager() {
    let prometheus = require_tool(&["prometheus"], "prometheus");
    let alertmanager = require_tool(
        &["alertmanager", "/usr/bin/prometheus-alertmanager"],
        "prometheus-alertmanager",
    );
    let catalog = support::catalog();
    let category = |code: &str| {
        catalog
            .get(code)
            .unwrap_or_else(|| panic!("{code} should be in the catalog"))["category"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let log = dir.join("app.log");
    append(&log, "service started\n");

    let (mut fl, fl_addr) = start_faultline(dir, &log);

    let am_addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let am_config = support::root().join("deploy/alertmanager.yml");
    let mut cmd = Command::new(&alertmanager);
    cmd.arg(format!("--config.file={}", am_config.display()))
        .arg(format!("--storage.path={}", dir.join("am").display()))
        .arg(format!("--web.listen-address={am_addr}"))
        // No gossip: nothing beyond this test's loopback port.
        .arg("--cluster.listen-address=");
    let mut am = Proc::start("alertmanager", cmd, dir);

    let prom_addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let prom_config = dir.join("prometheus.yml");
    std::fs::write(&prom_config, prometheus_config(fl_addr, am_addr)).unwrap();
    let mut cmd = Command::new(&prometheus);
    cmd.arg(format!("--config.file={}", prom_config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("prom").display()
        ))
        .arg(format!("--web.listen-address={prom_addr}"));
    let mut prom = Proc::start("prometheus", cmd, dir);

    wait_for(Duration::from_secs(20), "alertmanager ready", || {
        am.assert_running();
        get_ok(am_addr, "/-/ready")
    });
    wait_for(Duration::from_secs(20), "prometheus ready", || {
        prom.assert_running();
        get_ok(prom_addr, "/-/ready")
    });
    // A sample at 0 first: the hits must be an increase Prometheus sees.
    wait_for(
        Duration::from_secs(15),
        "Prometheus to scrape IMG.0015 at 0",
        || {
            let r = query(prom_addr, r#"faultline_hits_total{code="IMG.0015"}"#)?;
            match r.as_slice() {
                [(_, v)] if *v == 0.0 => Ok(()),
                _ => Err(format!("{r:?}")),
            }
        },
    );

    // Codes of several categories, repeated; near-misses that are no hits.
    let written: BTreeMap<&str, u64> = [
        ("IMG.0015", 3),
        ("Ecs.0001", 2),
        ("CSBS.9006", 1),
        ("Ecs.0023", 1),
        ("IMG.0060", 2),
    ]
    .into_iter()
    .collect();
    let mut text = String::new();
    for (code, n) in &written {
        for i in 0..*n {
            text.push_str(&format!(
                "2026-11-23T10:00:0{i}Z ERROR request failed: code={code} (ecs.0001 {code}0 x{code})\n"
            ));
        }
    }
    text.push_str("WARN unexpected Ecs.9876\n");
    append(&log, &text);
    let wrote_at = Instant::now();

    let expect: BTreeMap<String, f64> = written
        .iter()
        .map(|(c, n)| (c.to_string(), *n as f64))
        .collect();
    let codes = written.keys().copied().collect::<Vec<_>>().join("|");
    let got = wait_for(
        Duration::from_secs(10),
        "Prometheus to report the hits",
        || {
            let r = query(
                prom_addr,
                &format!(r#"faultline_hits_total{{code=~"{codes}"}}"#),
            )?;
            if by_code(&r) == expect {
                Ok(r)
            } else {
                Err(format!("{:?}", by_code(&r)))
            }
        },
    );
    for (labels, _) in &got {
        let code = &labels["code"];
        assert_eq!(labels["category"], category(code), "{labels:?}");
        assert_eq!(
            labels["service"],
            catalog[code]["service"].as_str().unwrap(),
            "{labels:?}"
        );
        assert_eq!(labels["job"], "faultline");
    }
    // Exactly these: every other code's series is there, at 0.
    let total: u64 = written.values().sum();
    let sum = query(prom_addr, "sum(faultline_hits_total)").unwrap();
    assert_eq!(sum[0].1, total as f64);
    let count = query(prom_addr, "count(faultline_hits_total)").unwrap();
    assert_eq!(count[0].1, catalog.len() as f64);
    let unknown = query(prom_addr, r#"faultline_unknown_total{prefix="Ecs"}"#).unwrap();
    assert_eq!(unknown[0].1, 1.0);

    // The page: one alert per quota or access code, in Alertmanager.
    let paged: BTreeSet<String> = written
        .keys()
        .filter(|c| matches!(category(c).as_str(), "quota" | "access"))
        .map(|c| c.to_string())
        .collect();
    assert!(paged.contains("IMG.0015"));
    let alerts = wait_for(
        Duration::from_secs(10),
        "the quota alert in Alertmanager",
        || {
            let body = get_ok(am_addr, "/api/v2/alerts")?;
            let alerts: Vec<Value> = serde_json::from_str(&body).map_err(|e| e.to_string())?;
            let codes: BTreeSet<String> = alerts
                .iter()
                .filter(|a| a["labels"]["alertname"] == "FaultlineQuotaOrAccessError")
                .filter_map(|a| a["labels"]["code"].as_str().map(String::from))
                .collect();
            if codes == paged {
                Ok(alerts)
            } else {
                Err(format!("alerted for {codes:?}, expected {paged:?}"))
            }
        },
    );
    let elapsed = wrote_at.elapsed();
    for a in alerts
        .iter()
        .filter(|a| a["labels"]["alertname"] == "FaultlineQuotaOrAccessError")
    {
        assert_eq!(a["labels"]["severity"], "page", "{a}");
        assert_eq!(a["status"]["state"], "active", "{a}");
        assert!(
            a["annotations"]["summary"]
                .as_str()
                .unwrap()
                .contains(a["labels"]["code"].as_str().unwrap()),
            "{a}"
        );
    }
    eprintln!("alert active in Alertmanager {elapsed:?} after the write");

    fl.assert_running();
    for p in [&mut prom, &mut am, &mut fl] {
        let status = p.terminate(Duration::from_secs(10));
        assert!(
            status.is_some_and(|s| s.success()),
            "{} did not stop cleanly ({status:?}):\n{}",
            p.name,
            p.log_text()
        );
    }
}

#[test]
fn the_exposition_passes_promtool_in_both_formats_of_the_server() {
    let promtool = promtool();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let log = dir.join("app.log");
    append(&log, "");
    let (mut fl, addr) = start_faultline(dir, &log);
    append(&log, "IMG.0015 Ecs.0023 IMG.0060\nEcs.9876\n");
    wait_for(Duration::from_secs(10), "the hits counted", || {
        let s = series(&get_ok(addr, "/metrics")?);
        match s.get("faultline_lines_total") {
            Some(2.0) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });

    let classic = get(addr, "/metrics").unwrap();
    assert_eq!(classic.status, 200);
    assert!(
        classic.headers["content-type"].starts_with("text/plain; version=0.0.4"),
        "{:?}",
        classic.headers
    );
    let mut check = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    check
        .stdin
        .take()
        .unwrap()
        .write_all(classic.body.as_bytes())
        .unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {}{}\n--- exposition:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        classic.body
    );
    let s = series(&classic.body);
    for name in [
        "faultline_lines_total",
        "faultline_bytes_total",
        "faultline_files_watched",
        "faultline_detection_latency_seconds_count",
        "faultline_summaries_sent_total",
        "faultline_summaries_failed_total",
        "faultline_summaries_dropped_total",
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "process_start_time_seconds",
    ] {
        assert!(s.contains_key(name), "{name} missing:\n{}", classic.body);
    }
    assert_eq!(s["faultline_files_watched"], 1.0);
    assert_eq!(s["faultline_detection_latency_seconds_count"], 4.0);
    assert!(s["process_resident_memory_bytes"] > 1e6);
    let cat = support::catalog();
    let img = &cat["IMG.0015"];
    let key = format!(
        "faultline_hits_total{{service=\"{}\",category=\"{}\",code=\"IMG.0015\"}}",
        img["service"].as_str().unwrap(),
        img["category"].as_str().unwrap()
    );
    assert_eq!(s.get(&key), Some(&1.0), "{key}");

    // What Prometheus asks for: OpenMetrics, same samples.
    let om = request(
        addr,
        "GET",
        "/metrics",
        &[(
            "Accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        )],
    )
    .unwrap();
    assert!(om.headers["content-type"].starts_with("application/openmetrics-text"));
    assert!(om.body.ends_with("# EOF\n"));
    assert!(om.body.contains("# TYPE faultline_hits counter\n"));
    assert_eq!(series(&om.body).get(&key), Some(&1.0));

    let root = get(addr, "/").unwrap();
    assert_eq!(root.status, 200);
    assert!(root.body.contains("/metrics"));
    assert_eq!(get(addr, "/metrics/x").unwrap().status, 404);
    assert_eq!(get(addr, "/favicon.ico").unwrap().status, 404);
    let post = request(addr, "POST", "/metrics", &[]).unwrap();
    assert_eq!(post.status, 405);
    assert_eq!(post.headers["allow"], "GET, HEAD");
    assert!(
        fl.terminate(Duration::from_secs(10))
            .is_some_and(|s| s.success())
    );
}

#[test]
fn the_deploy_files_pass_promtool_and_amtool() {
    let promtool = promtool();
    let amtool = require_tool(&["amtool"], "prometheus-alertmanager");
    let deploy = support::root().join("deploy");
    let run = |tool: &Path, args: &[&str]| {
        let out = Command::new(tool)
            .current_dir(&deploy)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{} {args:?}: {}{}",
            tool.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&promtool, &["check", "config", "prometheus.yml"]);
    run(&promtool, &["check", "rules", "faultline.rules.yml"]);
    // The alert logic itself, on made-up series (see the file).
    run(&promtool, &["test", "rules", "faultline.rules.test.yml"]);
    run(&amtool, &["check-config", "alertmanager.yml"]);
}

#[test]
fn ten_thousand_distinct_unknown_codes_add_no_series() {
    let catalog = support::catalog();
    let prefixes = support::prefixes(&catalog);
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let log = dir.join("app.log");
    append(&log, "");
    let (_fl, addr) = start_faultline(dir, &log);
    let before = series(&get_ok(addr, "/metrics").unwrap());
    let unknown_series = |s: &BTreeMap<String, f64>| {
        s.keys()
            .filter(|k| k.starts_with("faultline_unknown_total{"))
            .count()
    };
    assert_eq!(unknown_series(&before), prefixes.len());

    // 10,000 distinct codes with catalog prefixes that the catalog lacks.
    let mut text = String::new();
    let mut n = 0;
    'fill: for number in 0..10_000u32 {
        for p in &prefixes {
            let code = format!("{p}.{number:04}");
            if !catalog.contains_key(&code) {
                text.push_str(&format!("WARN {code}\n"));
                n += 1;
                if n == 10_000 {
                    break 'fill;
                }
            }
        }
    }
    append(&log, &text);
    let after = wait_for(Duration::from_secs(15), "all unknown codes counted", || {
        let s = series(&get_ok(addr, "/metrics")?);
        let total: f64 = s
            .iter()
            .filter(|(k, _)| k.starts_with("faultline_unknown_total{"))
            .map(|(_, v)| v)
            .sum();
        if total == 10_000.0 {
            Ok(s)
        } else {
            Err(format!("{total}"))
        }
    });
    let names = |s: &BTreeMap<String, f64>| s.keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(
        names(&after),
        names(&before),
        "the set of series changed with unknown codes"
    );
    assert_eq!(after["faultline_lines_total"], 10_000.0);
    let hits: f64 = after
        .iter()
        .filter(|(k, _)| k.starts_with("faultline_hits_total{"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(hits, 0.0);
}

/// Runs `tail --metrics-addr ADDR LOG`, which must fail as a usage error
/// (exit 2); returns its stderr.
fn usage_error(addr: &str, log: &Path) -> String {
    let out = support::faultline()
        .args(["tail", "--metrics-addr", addr])
        .arg(log)
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    err
}

#[test]
fn metrics_addr_problems_are_usage_errors_that_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, "");
    // Taken: another listener holds the port.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = usage_error(&format!(":{port}"), &log);
    assert!(
        err.contains(&format!("127.0.0.1:{port}"))
            && err.contains("in use")
            && err.contains("--metrics-addr"),
        "{err}"
    );
    // Malformed.
    let err = usage_error("localhost", &log);
    assert!(
        err.contains("[HOST]:PORT") && err.contains(":9464"),
        "{err}"
    );
}

#[test]
fn a_port_without_a_host_is_served_on_loopback_only() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let log = dir.join("app.log");
    append(&log, "");
    let (fl, addr) = start_faultline(dir, &log);
    assert!(
        fl.log_text()
            .contains(&format!("serving metrics at http://{addr}/metrics")),
        "{}",
        fl.log_text()
    );
    // The listening socket, as the kernel lists it: 127.0.0.1, not 0.0.0.0.
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let local = format!("0100007F:{:04X}", addr.port());
    let any = format!("00000000:{:04X}", addr.port());
    let listening: Vec<&str> = tcp
        .lines()
        .skip(1)
        .filter(|l| l.split_whitespace().nth(3) == Some("0A"))
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert!(listening.contains(&local.as_str()), "{listening:?}");
    assert!(!listening.contains(&any.as_str()), "{listening:?}");
}

#[test]
fn a_catalog_reload_keeps_the_counts_of_the_codes_that_remain() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let log = dir.join("app.log");
    append(&log, "");
    let user = dir.join("user.json");
    let entry = |code: &str, category: &str| {
        format!(
            r#"{{"code": "{code}", "service": "ZZZ", "category": "{category}", "message": "m"}}"#
        )
    };
    std::fs::write(&user, format!("[{}]", entry("Zzz.0001", "quota"))).unwrap();
    let (mut fl, addr) = start_faultline_with(dir, &log, &["--catalog", user.to_str().unwrap()]);
    let img = {
        let c = support::catalog();
        format!(
            "faultline_hits_total{{service=\"{}\",category=\"{}\",code=\"IMG.0015\"}}",
            c["IMG.0015"]["service"].as_str().unwrap(),
            c["IMG.0015"]["category"].as_str().unwrap()
        )
    };
    let z1 = r#"faultline_hits_total{service="ZZZ",category="quota",code="Zzz.0001"}"#;
    let z2 = r#"faultline_hits_total{service="ZZZ",category="access",code="Zzz.0002"}"#;
    let zu = r#"faultline_unknown_total{prefix="Zzz"}"#;
    let expect = |want: &[(&str, Option<f64>)]| {
        let want: Vec<(String, Option<f64>)> =
            want.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        wait_for(Duration::from_secs(10), "the metrics", || {
            let s = series(&get_ok(addr, "/metrics")?);
            let got: Vec<(String, Option<f64>)> = want
                .iter()
                .map(|(k, _)| (k.clone(), s.get(k).copied()))
                .collect();
            if got == want {
                Ok(())
            } else {
                Err(format!("{got:?}"))
            }
        })
    };
    append(&log, "IMG.0015 Zzz.0001 Zzz.0002\n");
    expect(&[
        (&img, Some(1.0)),
        (z1, Some(1.0)),
        (z2, None),
        (zu, Some(1.0)),
    ]);

    // Zzz.0001 leaves the catalog, Zzz.0002 comes in.
    std::fs::write(&user, format!("[{}]", entry("Zzz.0002", "access"))).unwrap();
    fl.signal(libc::SIGHUP);
    expect(&[
        (&img, Some(1.0)),
        (z1, None),
        (z2, Some(0.0)),
        (zu, Some(1.0)),
    ]);
    append(&log, "IMG.0015 Zzz.0001 Zzz.0002\n");
    expect(&[
        (&img, Some(2.0)),
        (z1, None),
        (z2, Some(1.0)),
        (zu, Some(2.0)),
    ]);
    fl.assert_running();
}

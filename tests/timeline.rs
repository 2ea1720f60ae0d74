//! The timeline and `faultline merge`, run as whole commands on real files.
//!
//! Logs in the six timestamp formats are generated with times the test
//! chooses, so the expected timeline is computed from those times by the
//! bucket rule of SPEC section 3 (re-implemented here), independently of
//! faultline's parsers. Zone-less formats are written in local time of
//! `TZ=XYZ-3` (POSIX: three hours east of UTC), so the test also shows that
//! `TZ` is honoured.

mod support;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};
use support::*;

/// 2026-11-30T00:00:00Z.
const BASE: i64 = 1_795_996_800;
const LOCAL_OFFSET: i64 = 3 * 3600;
const TZ: &str = "XYZ-3";
const LADDER: [i64; 14] = [
    1, 5, 10, 30, 60, 300, 600, 1800, 3600, 21_600, 86_400, 604_800, 2_419_200, 29_030_400,
];

/// Civil time of Unix seconds (days-from-civil inverted by search: the
/// test does not share faultline's calendar code).
fn civil(s: i64) -> (i64, u32, u32, u32, u32, u32) {
    let mut days = s.div_euclid(86_400);
    let t = s.rem_euclid(86_400);
    let mut y = 1970;
    loop {
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let n = if leap { 366 } else { 365 };
        if days < n {
            let lens = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ];
            let mut m = 0;
            while days >= lens[m] {
                days -= lens[m];
                m += 1;
            }
            return (
                y,
                m as u32 + 1,
                days as u32 + 1,
                (t / 3600) as u32,
                (t % 3600 / 60) as u32,
                (t % 60) as u32,
            );
        }
        days -= n;
        y += 1;
    }
}

const MON: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// One line in format `f` (0..6) at `s` (UTC seconds) holding `code`.
fn line(f: usize, s: i64, code: &str) -> String {
    let (y, mo, d, h, mi, se) = civil(s);
    let (ly, lmo, ld, lh, lmi, lse) = civil(s + LOCAL_OFFSET);
    match f {
        0 => format!("{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}.5Z ERROR api call failed: {code}"),
        1 => format!(
            "{ly}-{lmo:02}-{ld:02} {lh:02}:{lmi:02}:{lse:02},123 ERROR [main] Client - {code} returned"
        ),
        2 => format!(
            "{} {ld:2} {lh:02}:{lmi:02}:{lse:02} web-3 app[22]: upstream said {code}",
            MON[lmo as usize - 1]
        ),
        3 => {
            // +01:00 written in the line.
            let (ay, amo, ad, ah, ami, ase) = civil(s + 3600);
            format!(
                "10.0.0.1 - - [{ad:02}/{}/{ay}:{ah:02}:{ami:02}:{ase:02} +0100] \"POST /v1 HTTP/1.1\" 403 12 \"{code}\"",
                MON[amo as usize - 1]
            )
        }
        4 => format!(
            "{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}.123456789Z stderr F level=error code={code}"
        ),
        _ if s % 2 == 0 => format!(r#"{{"level":"error","ts":{s}.25,"msg":"{code} quota"}}"#),
        _ => format!(
            r#"{{"time":{},"level":"error","msg":"failed: {code}"}}"#,
            s * 1000 + 999
        ),
    }
}

/// Writes six logs (one per format) with timed hits, untimed hits and
/// clean lines; returns the paths and the expected (category, second) of
/// every timed hit and the number of untimed ones.
fn write_logs(dir: &Path) -> (Vec<String>, Vec<(String, i64)>, u64) {
    let catalog = catalog();
    // Three codes of different categories.
    let mut picked: BTreeMap<String, String> = BTreeMap::new();
    for (code, e) in &catalog {
        let cat = e["category"].as_str().unwrap().to_string();
        if code.contains('.') && !picked.values().any(|c| *c == cat) && picked.len() < 3 {
            picked.insert(code.clone(), cat);
        }
    }
    let codes: Vec<(&String, &String)> = picked.iter().collect();
    let mut timed = Vec::new();
    let mut untimed = 0;
    let mut paths = Vec::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for f in 0..6 {
        let mut text = String::new();
        for i in 0..300 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // A rise: most hits in the third hour.
            let s = if i % 3 == 0 {
                BASE + (x % (3 * 3600)) as i64
            } else {
                BASE + 2 * 3600 + (x % 3600) as i64
            };
            let (code, cat) = codes[(x >> 40) as usize % codes.len()];
            text.push_str(&line(f, s, code));
            text.push('\n');
            timed.push((cat.clone(), s));
            if i % 50 == 0 {
                text.push_str(&format!("no time on this line: {code}\n"));
                untimed += 1;
                text.push_str("2026-11-30T01:00:00Z a clean line\n");
            }
        }
        let path = dir.join(format!("f{f}.log"));
        std::fs::write(&path, text).unwrap();
        // The syslog year comes from here: 2026-12-01T00:00:00Z.
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(UNIX_EPOCH + Duration::from_secs((BASE + 86_400) as u64))
            .unwrap();
        paths.push(path.to_str().unwrap().to_string());
    }
    (paths, timed, untimed)
}

/// The timeline by the SPEC's rule from the true times of the hits.
fn expected_timeline(timed: &[(String, i64)], untimed: u64) -> Value {
    let lo = timed.iter().map(|t| t.1).min().unwrap();
    let hi = timed.iter().map(|t| t.1).max().unwrap();
    let step = *LADDER
        .iter()
        // hi / b - lo / b + 1 buckets, at most 120.
        .find(|&&b| hi / b - lo / b < 120)
        .unwrap();
    let n = (hi / step - lo / step + 1) as usize;
    let mut by: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (cat, s) in timed {
        by.entry(cat.clone()).or_insert_with(|| vec![0; n])[(s / step - lo / step) as usize] += 1;
    }
    let (y, mo, d, h, mi, se) = civil(lo / step * step);
    json!({
        "bucket_s": step,
        "start": format!("{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}Z"),
        "by_category": by,
        "untimed": untimed,
    })
}

fn scan(args: &[&str]) -> Value {
    let out = faultline()
        .env("TZ", TZ)
        .args(["scan", "--format", "json", "--threads", "2"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_of(&out)
}

#[test]
fn every_timed_hit_lands_in_its_bucket_in_all_six_formats() {
    let dir = tempfile::tempdir().unwrap();
    let (paths, timed, untimed) = write_logs(dir.path());
    // Each format alone, then all together.
    for (f, p) in paths.iter().enumerate() {
        let mine: Vec<(String, i64)> = timed[f * 300..(f + 1) * 300].to_vec();
        let r = scan(&[p]);
        assert_eq!(r["timeline"], expected_timeline(&mine, 6), "format {f}");
    }
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let r = scan(&refs);
    assert_eq!(r["timeline"], expected_timeline(&timed, untimed));
    assert_eq!(r["hits"], timed.len() as u64 + untimed);
}

#[test]
fn events_carry_the_log_time() {
    let dir = tempfile::tempdir().unwrap();
    let (paths, timed, _) = write_logs(dir.path());
    let out = faultline()
        .env("TZ", TZ)
        .args(["scan", "--format", "json", "--events"])
        .arg(dir.path().join("ev.jsonl"))
        .arg(&paths[1])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let events: Vec<Value> = std::fs::read_to_string(dir.path().join("ev.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let with: Vec<&Value> = events
        .iter()
        .filter(|e| e.get("log_ts").is_some())
        .collect();
    assert_eq!(with.len(), 300);
    let (y, mo, d, h, mi, se) = civil(timed[300].1);
    assert_eq!(
        with[0]["log_ts"],
        format!("{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}.123Z")
    );
}

#[test]
fn merged_shard_reports_equal_one_scan_of_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (paths, _, _) = write_logs(dir.path());
    let gz = dir.path().join("f6.log.gz");
    let status = std::process::Command::new("gzip")
        .args(["-k", "-c", &paths[0]])
        .stdout(std::fs::File::create(&gz).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    let missing = dir.path().join("missing.log");
    let mut all: Vec<String> = paths.clone();
    all.push(gz.to_str().unwrap().into());
    all.push(missing.to_str().unwrap().into());
    // Fixture logs of the repository too, for codes of every kind.
    for e in std::fs::read_dir(root().join("fixtures/scan"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if e.path().is_file() && e.path().extension().is_some_and(|x| x != "md") {
            all.push(e.path().to_str().unwrap().into());
        }
    }
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let mut whole = scan(&refs);
    for shards in [2, 3] {
        let mut reports = Vec::new();
        for k in 0..shards {
            let part: Vec<&str> = refs.iter().copied().skip(k).step_by(shards).collect();
            let r = scan(&part);
            let path = dir.path().join(format!("shard-{shards}-{k}.json"));
            std::fs::write(&path, r.to_string()).unwrap();
            reports.push(path.to_str().unwrap().to_string());
        }
        let out = faultline().arg("merge").args(&reports).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut merged = json_of(&out);
        merged["elapsed_ms"] = json!(0);
        whole["elapsed_ms"] = json!(0);
        assert_eq!(merged, whole, "{shards} shards");
    }
    assert_eq!(whole["errors"].as_array().unwrap().len(), 1);
    assert!(whole["timeline"]["by_category"].as_object().unwrap().len() >= 3);
}

#[test]
fn merge_names_a_file_that_is_not_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"files\": 1}").unwrap();
    let out = faultline().arg("merge").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.json is not a faultline scan report"),
        "{err}"
    );
}

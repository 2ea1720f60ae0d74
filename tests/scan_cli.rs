//! `faultline scan` run as a whole command on real files. Expected values
//! come from hand counts (fixtures/scan/README.md) or from the independent
//! reference in tests/support (GNU grep -P, gzip and zstd tools), never from
//! faultline's own output.

mod support;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use support::*;

fn scan_json(args: &[&str]) -> Value {
    let out = faultline()
        .args(["scan", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_of(&out)
}

fn map(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect()
}

#[test]
fn boundary_fixture_matches_the_hand_count() {
    let r = scan_json(&["fixtures/scan/boundaries.log"]);
    assert_eq!(r["files"], 1);
    assert_eq!(r["bytes"], 454);
    assert_eq!(r["lines"], 9);
    assert_eq!(r["hits"], 16);
    assert_eq!(r["unknown"], 2);
    assert_eq!(
        r["by_code"],
        json!({"BackupService.6133": 1, "CSBS.9006": 2, "Ecs.0013": 8, "IMG.0015": 5})
    );
    assert_eq!(r["unknown_codes"], json!({"Ecs.9876": 1, "IMG.9999": 1}));
    assert_eq!(
        r["by_service"],
        json!({"CBR": 1, "CSBS": 2, "ECS": 8, "IMS": 5})
    );
    let d = derived(&map(&r["by_code"]), &catalog());
    assert_eq!(r["by_category"], d["by_category"]);
    assert_eq!(r["by_service_category"], d["by_service_category"]);
    assert_eq!(r["errors"], json!([]));
    assert!(r["elapsed_ms"].is_u64());
}

#[test]
fn the_grep_reference_agrees_with_the_hand_count() {
    // Guards the reference itself, so the fixture-directory test below
    // compares against something known to be right.
    let bytes = std::fs::read(root().join("fixtures/scan/boundaries.log")).unwrap();
    let (known, unknown) = grep_reference(&bytes, &catalog());
    let expected: BTreeMap<String, u64> = [
        ("BackupService.6133", 1),
        ("CSBS.9006", 2),
        ("Ecs.0013", 8),
        ("IMG.0015", 5),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(known, expected);
    assert_eq!(unknown.len(), 2);
    assert_eq!(count_lines(&bytes), 9);
}

fn without_elapsed(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("elapsed_ms");
    v
}

#[test]
fn tiny_read_buffers_give_the_same_report() {
    // Every code of the fixture then straddles read-buffer boundaries at
    // every possible offset somewhere.
    let whole = without_elapsed(scan_json(&["fixtures/scan/boundaries.log"]));
    // Both ways of getting the bytes: read(2) into the buffer, and a memory
    // map searched in windows of the buffer size.
    for how in ["--no-mmap", "--mmap-min-bytes=0"] {
        for size in [1, 2, 3, 5, 7, 8, 9, 13, 17, 31] {
            let r = without_elapsed(scan_json(&[
                how,
                "--buffer-bytes",
                &size.to_string(),
                "fixtures/scan/boundaries.log",
            ]));
            assert_eq!(r, whole, "{how}, buffer of {size} bytes");
        }
    }
}

#[test]
fn mapped_and_read_files_give_the_same_report_and_events() {
    let run = |how: &str| {
        let out = faultline()
            .args([
                "scan",
                how,
                "--events",
                "-",
                "--format",
                "json",
                "fixtures/logs",
            ])
            .args(["fixtures/scan"])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        // Events are single lines on stdout; the report is on stderr.
        let mut events: Vec<&str> = text.lines().collect();
        events.sort();
        let report: Value = serde_json::from_slice(&out.stderr).unwrap();
        (without_elapsed(report), events.join("\n"))
    };
    let (read_report, read_events) = run("--no-mmap");
    let (map_report, map_events) = run("--mmap-min-bytes=0");
    assert!(read_report["hits"].as_u64().unwrap() > 0);
    assert_eq!(map_report, read_report);
    assert_eq!(map_events, read_events);
}

fn fixture_files() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = walkdir::WalkDir::new(root().join("fixtures/logs"))
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

#[test]
fn fixture_directory_report_matches_the_reference_field_by_field() {
    let catalog = catalog();
    let files = fixture_files();
    assert_eq!(files.len(), 5, "{files:?}");
    let (mut bytes, mut lines) = (0u64, 0u64);
    let (mut known, mut unknown): (BTreeMap<String, u64>, BTreeMap<String, u64>) =
        Default::default();
    for f in &files {
        let data = decompressed(f);
        bytes += data.len() as u64;
        lines += count_lines(&data);
        let (k, u) = grep_reference(&data, &catalog);
        for (c, n) in k {
            *known.entry(c).or_default() += n;
        }
        for (c, n) in u {
            *unknown.entry(c).or_default() += n;
        }
    }
    let r = scan_json(&["fixtures/logs"]);
    assert_eq!(r["files"], 5);
    assert_eq!(r["bytes"], bytes);
    assert_eq!(r["lines"], lines);
    assert_eq!(map(&r["by_code"]), known);
    assert_eq!(map(&r["unknown_codes"]), unknown);
    assert_eq!(r["hits"], known.values().sum::<u64>());
    assert_eq!(r["unknown"], unknown.values().sum::<u64>());
    let d = derived(&known, &catalog);
    assert_eq!(r["by_service"], d["by_service"]);
    assert_eq!(r["by_category"], d["by_category"]);
    assert_eq!(r["by_service_category"], d["by_service_category"]);
    assert_eq!(r["errors"], json!([]));
    // The fixtures are meant to exercise something: all four services,
    // unknown codes, compressed files.
    assert_eq!(d["by_service"].as_object().unwrap().len(), 4);
    assert!(r["hits"].as_u64().unwrap() > 100);
    assert!(r["unknown"].as_u64().unwrap() > 5);
}

#[test]
fn one_thread_and_many_threads_agree() {
    let one = without_elapsed(scan_json(&["--threads", "1", "fixtures"]));
    let four = without_elapsed(scan_json(&["--threads", "4", "fixtures"]));
    assert_eq!(one, four);
}

#[test]
fn events_point_at_the_codes_they_name() {
    let dir = tempfile::tempdir().unwrap();
    let events_path = dir.path().join("events.jsonl");
    let r = scan_json(&[
        "--events",
        events_path.to_str().unwrap(),
        "fixtures/logs",
        "fixtures/scan",
    ]);
    let catalog = catalog();
    let text = std::fs::read_to_string(&events_path).unwrap();
    let mut contents: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let (mut known, mut unknown) = (0u64, 0u64);
    for line in text.lines() {
        let ev: Value = serde_json::from_str(line).unwrap();
        let source = ev["source"].as_str().unwrap().to_string();
        let data = contents
            .entry(source.clone())
            .or_insert_with(|| decompressed(&root().join(&source)));
        let code = ev["code"].as_str().unwrap();
        let offset = ev["offset"].as_u64().unwrap() as usize;
        assert_eq!(
            &data[offset..offset + code.len()],
            code.as_bytes(),
            "{line}"
        );
        let line_no = 1 + data[..offset].iter().filter(|&&b| b == b'\n').count() as u64;
        assert_eq!(ev["line"], line_no, "{line}");
        if ev["known"] == true {
            known += 1;
            let e = &catalog[code];
            for field in ["service", "status", "category", "message"] {
                assert_eq!(ev[field], e[field], "{field} of {line}");
            }
            let remedy = e["remedy"]["en"].as_str().or(e["remedy"]["zh"].as_str());
            assert_eq!(ev["remedy"].as_str(), remedy, "{line}");
        } else {
            assert_eq!(ev["known"], false);
            assert!(!catalog.contains_key(code));
            unknown += 1;
        }
    }
    assert_eq!(known, r["hits"].as_u64().unwrap());
    assert_eq!(unknown, r["unknown"].as_u64().unwrap());
    // First and last hits of the boundary fixture, by hand.
    let b: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["source"] == "fixtures/scan/boundaries.log")
        .collect();
    assert_eq!(
        (b[0]["offset"].clone(), b[0]["line"].clone()),
        (json!(0), json!(1))
    );
    let last = b.last().unwrap();
    assert_eq!(
        (
            last["code"].as_str(),
            last["offset"].as_u64(),
            last["line"].as_u64()
        ),
        (Some("CSBS.9006"), Some(445), Some(9))
    );
}

#[test]
fn stdin_is_read_with_dash_or_when_no_path_is_given_even_compressed() {
    let plain = std::fs::read(root().join("fixtures/scan/boundaries.log")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    for (args, input) in [
        (vec!["scan", "--format", "json", "-"], plain.clone()),
        (vec!["scan", "--format", "json"], plain.clone()),
        (vec!["scan", "--format", "json"], gz),
    ] {
        let out = faultline().args(&args).write_stdin(input).output().unwrap();
        assert!(out.status.success());
        let r = json_of(&out);
        assert_eq!(
            (
                r["files"].as_u64(),
                r["hits"].as_u64(),
                r["unknown"].as_u64()
            ),
            (Some(1), Some(16), Some(2))
        );
        assert_eq!(
            (r["bytes"].as_u64(), r["lines"].as_u64()),
            (Some(454), Some(9))
        );
    }
}

/// Runs a command as user `nobody` when we are root, so that file
/// permissions apply (root reads everything).
fn as_unprivileged(cmd: &mut std::process::Command) {
    // SAFETY of the approach: setpriv only changes the child's ids.
    let uid = unsafe_getuid();
    if uid == 0 {
        let program = cmd.get_program().to_owned();
        let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
        let mut wrapped = std::process::Command::new("setpriv");
        wrapped
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(program)
            .args(args);
        if let Some(dir) = cmd.get_current_dir() {
            wrapped.current_dir(dir);
        }
        *cmd = wrapped;
    }
}

fn unsafe_getuid() -> u32 {
    let out = std::process::Command::new("id").arg("-u").output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn unreadable_inputs_are_reported_and_the_rest_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("good.log"), b"x Ecs.0013 y\n").unwrap();
    // A gzip header followed by garbage.
    let mut corrupt = vec![0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03];
    corrupt.extend_from_slice(b"this is not deflate data at all, not at all........");
    std::fs::write(d.join("corrupt.gz"), &corrupt).unwrap();
    // Two zstd frames of 2000 lines each, the second cut in half: the
    // first frame's 2000 hits are decoded and counted, and no more than
    // the 4000 written.
    let body = |from: u32| -> Vec<u8> {
        (from..from + 2000)
            .flat_map(|i| format!("line {i} IMG.0015 payload {}\n", i * 7919 % 10007).into_bytes())
            .collect()
    };
    let mut z = zstd::encode_all(&body(0)[..], 3).unwrap();
    let second = zstd::encode_all(&body(2000)[..], 3).unwrap();
    z.extend_from_slice(&second[..second.len() / 2]);
    std::fs::write(d.join("truncated.zst"), &z).unwrap();
    std::fs::create_dir(d.join("locked")).unwrap();
    std::fs::write(d.join("locked/inside.log"), b"Ecs.0013\n").unwrap();
    let chmod = |p: &Path, mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    chmod(d, 0o755);
    chmod(&d.join("locked"), 0o000);

    let mut cmd = std::process::Command::new(bin_path());
    cmd.current_dir(d).args([
        "scan",
        "--format",
        "json",
        "good.log",
        "missing.log",
        "corrupt.gz",
        "truncated.zst",
        "locked",
    ]);
    as_unprivileged(&mut cmd);
    let out = cmd.output().unwrap();
    chmod(&d.join("locked"), 0o755);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let r = json_of(&out);
    let errors: BTreeMap<String, String> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["error"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        errors.keys().collect::<Vec<_>>(),
        ["corrupt.gz", "locked", "missing.log", "truncated.zst"],
        "{errors:?}"
    );
    assert_eq!(errors["missing.log"], "no such file or directory");
    assert_eq!(errors["locked"], "permission denied");
    for path in errors.keys() {
        assert!(
            stderr.contains(path.as_str()),
            "stderr names {path}: {stderr}"
        );
    }
    // good.log and truncated.zst were read (corrupt.gz failed before its
    // first byte); good.log's hit and the decoded part of truncated.zst are
    // counted.
    assert_eq!(r["files"], 2);
    assert_eq!(r["by_code"]["Ecs.0013"], 1);
    let img = r["by_code"]["IMG.0015"].as_u64().unwrap_or(0);
    assert!(
        (2000..4000).contains(&img),
        "IMG.0015 from the readable part: {img}"
    );
}

#[test]
fn nothing_readable_exits_2() {
    let out = faultline()
        .args(["scan", "--format", "json", "no/such/file.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("no/such/file.log: no such file or directory")
    );
}

#[test]
fn fail_on_exits_1_only_for_categories_with_hits() {
    let catalog = catalog();
    let hit_category = catalog["Ecs.0013"]["category"]
        .as_str()
        .unwrap()
        .to_string();
    let fixture_categories: Vec<String> =
        ["Ecs.0013", "IMG.0015", "CSBS.9006", "BackupService.6133"]
            .iter()
            .map(|c| catalog[*c]["category"].as_str().unwrap().to_string())
            .collect();
    let quiet_category = [
        "quota",
        "access",
        "retry",
        "resource_state",
        "fix_request",
        "unsupported",
        "contact_support",
    ]
    .into_iter()
    .find(|c| !fixture_categories.iter().any(|f| f == c))
    .expect("the fixture does not cover every category");
    let run = |cats: &str| {
        faultline()
            .args([
                "scan",
                "--format",
                "json",
                "--fail-on",
                cats,
                "fixtures/scan/boundaries.log",
            ])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(run(&hit_category), Some(1));
    assert_eq!(run(&format!("{quiet_category},{hit_category}")), Some(1));
    assert_eq!(run(quiet_category), Some(0));
    assert_eq!(run("nonsense"), Some(2), "usage error");
}

#[test]
fn text_report_has_totals_table_top_codes_and_unknown_codes() {
    let out = faultline()
        .args(["scan", "--format", "text", "fixtures/scan/boundaries.log"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let catalog = catalog();
    assert!(
        text.contains("Scanned 1 file, 454 bytes in 9 lines"),
        "{text}"
    );
    assert!(
        text.contains("16 hits of known codes, 2 unknown codes"),
        "{text}"
    );
    let table_header = text
        .lines()
        .find(|l| l.starts_with("service"))
        .expect("a service table");
    assert!(table_header.trim_end().ends_with("total"), "{table_header}");
    for svc in ["CBR", "CSBS", "ECS", "IMS"] {
        assert!(
            text.lines().any(|l| l.starts_with(svc)),
            "row for {svc}: {text}"
        );
    }
    let ecs = text
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("Ecs.0013"))
        .expect("top code line");
    let fields: Vec<&str> = ecs.split_whitespace().collect();
    assert_eq!(fields[2], "ECS", "{ecs}");
    assert_eq!(
        fields[3],
        catalog["Ecs.0013"]["category"].as_str().unwrap(),
        "{ecs}"
    );
    assert!(ecs.trim_start().starts_with('8'), "{ecs}");
    assert!(
        ecs.contains(catalog["Ecs.0013"]["message"].as_str().unwrap()),
        "{ecs}"
    );
    assert!(text.contains("Unknown codes"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("1  Ecs.9876")),
        "{text}"
    );
}

#[test]
fn a_4_mib_line_and_a_hidden_file_in_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut line = vec![b'a'; 4 << 20];
    line[..9].copy_from_slice(b"Ecs.0013 ");
    line[2 << 20..(2 << 20) + 10].copy_from_slice(b" IMG.0015 ");
    let n = line.len();
    line[n - 10..].copy_from_slice(b" CSBS.9006");
    std::fs::create_dir(dir.path().join(".hidden")).unwrap();
    std::fs::write(dir.path().join(".hidden/long.log"), &line).unwrap();
    for how in ["--no-mmap", "--mmap-min-bytes=0"] {
        let r = scan_json(&[how, dir.path().to_str().unwrap()]);
        assert_eq!(r["files"], 1, "{how}");
        assert_eq!(r["lines"], 1, "{how}");
        assert_eq!(r["bytes"], 4u64 << 20, "{how}");
        assert_eq!(
            r["by_code"],
            json!({"CSBS.9006": 1, "Ecs.0013": 1, "IMG.0015": 1}),
            "{how}"
        );
    }
}

#[test]
fn symlinks_are_followed_only_with_follow() {
    let dir = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    std::fs::write(target.path().join("t.log"), b"Ecs.0013\n").unwrap();
    std::fs::write(dir.path().join("own.log"), b"IMG.0015\n").unwrap();
    std::os::unix::fs::symlink(target.path(), dir.path().join("link")).unwrap();
    let p = dir.path().to_str().unwrap();
    assert_eq!(scan_json(&[p])["hits"], 1);
    assert_eq!(scan_json(&["--follow", p])["hits"], 2);
}

#[test]
fn a_closed_stdout_ends_the_scan_quietly() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(bin_path())
        .current_dir(root())
        .args(["scan", "--events", "-", "--format", "json", "fixtures/logs"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away, like `| head -0`
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        out.status.code().is_some_and(|c| c == 0),
        "status {:?}, stderr {stderr}",
        out.status
    );
}

#[path = "matcher_reference/mod.rs"]
mod matcher_reference;

/// A user catalog with every shape of SPEC section 1 (and codes that are
/// prefixes of others), over text full of them, their near misses and
/// unknown codes: `scan` counts every code and every unknown code exactly
/// as the naive reference does, on top of the built-in catalog.
#[test]
fn a_user_catalog_of_every_shape_is_counted_exactly() {
    let user: &[&str] = &[
        "DBS.200001",
        "DBS.0001",
        "CBC.18000016",
        "ORA-00942",
        "SVCSTG.CCE-ADDONMGR.4000003",
        "APIGW.0301",
        "InvalidParameterValue",
        "AuthFailure",
        "AuthFailure.SignatureFailure",
        "AuthFailure.0001",
        "Throttling",
        "ThrottlingException",
        "HTTP",
        "HTTP2",
        "111404022",
        "10000000",
        "Ecs.200001",
    ];
    let dir = tempfile::tempdir().unwrap();
    let cat = dir.path().join("user.json");
    let entries: Vec<Value> = user.iter().map(|c| json!({"code": c})).collect();
    std::fs::write(&cat, serde_json::to_string(&entries).unwrap()).unwrap();
    // Pieces: each code, near misses (a digit more or less, glued
    // neighbours), unknown numbers, separators; mixed deterministically.
    let mut pieces: Vec<String> = Vec::new();
    for c in user.iter().chain(&["Ecs.0013", "IMG.0015", "CSBS.9006"]) {
        pieces.push(c.to_string());
        pieces.push(format!("{c}0"));
        pieces.push(c[..c.len() - 1].to_string());
        pieces.push(format!("x{c}"));
    }
    pieces.extend(
        [
            "DBS.299999",
            "DBS.9999",
            "ORA-12345",
            "HTTP7",
            "AuthFailure.9999",
            "SVCSTG.CCE-ADDONMGR.1234567",
            "Ecs.9876",
            "Ecs.123456",
            "AuthFailure.",
            ".",
            " ",
            "\n",
            "-",
            ":",
            "_",
            "\r\n",
            "，",
            "\u{ff}",
            "5",
        ]
        .map(str::to_string),
    );
    let mut text = String::new();
    let mut state = 7u64;
    let seps = [" ", " ", "\n", ".", "-", ":", "，", ""];
    for _ in 0..20_000 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        text.push_str(&pieces[(state >> 33) as usize % pieces.len()]);
        text.push_str(seps[(state >> 20) as usize % seps.len()]);
    }
    let log = dir.path().join("app.log");
    std::fs::write(&log, &text).unwrap();

    let builtin = matcher_reference::catalog_codes();
    let mut all: Vec<&str> = builtin.iter().map(String::as_str).collect();
    all.extend_from_slice(user);
    let want = matcher_reference::reference(&all, text.as_bytes());
    let (mut known, mut unknown) = (BTreeMap::new(), BTreeMap::new());
    for h in &want {
        *if h.known { &mut known } else { &mut unknown }
            .entry(h.code.clone())
            .or_insert(0u64) += 1;
    }
    assert!(user.iter().all(|c| known.contains_key(*c)), "{known:?}");
    assert!(unknown.contains_key("DBS.299999") && unknown.contains_key("HTTP7"));

    for threads in ["1", "2"] {
        let r = scan_json(&[
            "--catalog",
            cat.to_str().unwrap(),
            "--threads",
            threads,
            log.to_str().unwrap(),
        ]);
        assert_eq!(map(&r["by_code"]), known);
        assert_eq!(map(&r["unknown_codes"]), unknown);
        assert_eq!(r["hits"], known.values().sum::<u64>());
        assert_eq!(r["unknown"], unknown.values().sum::<u64>());
        assert_eq!(r["unknown_codes_other"], 0);
    }
}

/// A fatal error names its OS cause once (not `cause: cause`), whatever the
/// chain of errors between the OS and the message.
#[test]
fn a_fatal_error_states_its_cause_once() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("plain");
    std::fs::write(&plain, b"x").unwrap();
    let events = plain.join("events.jsonl");
    let out = faultline()
        .args(["scan", "--events"])
        .arg(&events)
        .arg("fixtures/scan/boundaries.log")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // ENOTDIR as the OS says it, counted independently of our rendering.
    let os = std::io::Error::from_raw_os_error(20).to_string();
    assert_eq!(stderr.matches(&os).count(), 1, "{stderr}");
    assert!(stderr.contains("cannot write events to"), "{stderr}");
}

/// Events that cannot be written end the scan with an error naming the
/// cause once, and no report (exit 2), however many inputs remain.
#[test]
fn events_that_cannot_be_written_fail_the_scan() {
    let out = faultline()
        .args(["scan", "--format", "json", "--events", "/dev/full"])
        .args([
            "fixtures/scan/boundaries.log",
            "fixtures/scan/boundaries.log",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no report after a failed scan");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let os = std::io::Error::from_raw_os_error(28).to_string();
    assert_eq!(stderr.matches(&os).count(), 1, "{stderr}");
    assert!(stderr.contains("cannot write events"), "{stderr}");
}

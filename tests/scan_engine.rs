//! `faultline scan` as an engine, run as the real binary: inputs it must
//! decode (zstd with skippable frames), inputs it must refuse or skip (its
//! own events file, undecodable streams), what it does when the system
//! refuses threads, and exit statuses. Expected values come from the zstd
//! and gzip tools and from GNU grep (tests/support), never from faultline.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use support::services::require_tool;
use support::*;

/// Lines with codes known and unknown, and near misses.
fn log_text(lines: u32) -> Vec<u8> {
    (0..lines)
        .flat_map(|i| {
            let code = match i % 5 {
                0 => "Ecs.0013",
                1 => "IMG.0015",
                2 => "Ecs.9876",
                3 => "xEcs.0013",
                _ => "CSBS.9006",
            };
            format!(
                "2026-11-30T02:04:{:02} req {i} failed: {code} retry\n",
                i % 60
            )
            .into_bytes()
        })
        .collect()
}

/// A zstd skippable frame (magic 0x184D2A50 + `nibble`, then a LE size).
fn skippable(nibble: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = (0x184D_2A50u32 + u32::from(nibble)).to_le_bytes().to_vec();
    f.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    f.extend_from_slice(payload);
    f
}

fn zstd_cli(data: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("in");
    std::fs::write(&p, data).unwrap();
    let out = Command::new(require_tool(&["zstd"], "zstd"))
        .args(["-q", "-3", "-c"])
        .arg(&p)
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(bin_path())
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn by_code(r: &Value) -> BTreeMap<String, u64> {
    r["by_code"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect()
}

/// Checks a one-file report against GNU grep over `zstd -dc`'s output.
fn assert_matches_zstd_dc(dir: &Path, name: &str) {
    let out = run(dir, &["scan", "--format", "json", name]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = json_of(&out);
    let reference = Command::new("zstd")
        .args(["-q", "-d", "-c"])
        .arg(dir.join(name))
        .output()
        .unwrap();
    assert!(reference.status.success(), "zstd -dc {name}");
    let plain = reference.stdout;
    let (known, unknown) = grep_reference(&plain, &catalog());
    assert_eq!(r["errors"], serde_json::json!([]), "{name}");
    assert_eq!(r["bytes"], plain.len() as u64, "{name}");
    assert_eq!(r["lines"], count_lines(&plain), "{name}");
    assert_eq!(by_code(&r), known, "{name}");
    assert_eq!(r["unknown"], unknown.values().sum::<u64>(), "{name}");
}

#[test]
fn zstd_with_skippable_frames_anywhere_decodes_like_zstd_dc() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (a, b) = (log_text(3000), log_text(1700));
    // Skippable frames first, between frames and last, with every magic
    // nibble's extremes, like seekable zstd (seek table last) and pzstd
    // (a skippable frame before each frame).
    let mut z = skippable(0, &4u32.to_le_bytes());
    z.extend(zstd_cli(&a));
    z.extend(skippable(0xE, b"seek table Ecs.0013 (not data)"));
    z.extend(zstd_cli(&b));
    z.extend(skippable(0xF, &[]));
    std::fs::write(d.join("handmade.zst"), &z).unwrap();
    assert_matches_zstd_dc(d, "handmade.zst");

    // The real pzstd, when installed (Debian's zstd package ships it).
    if let Ok(pzstd) = which("pzstd") {
        let mut big = Vec::new();
        for _ in 0..4 {
            big.extend(log_text(20_000));
        }
        std::fs::write(d.join("big.log"), &big).unwrap();
        let st = Command::new(pzstd)
            .args(["-q", "-p", "2", "-f", "big.log", "-o", "big.pzst"])
            .current_dir(d)
            .status()
            .unwrap();
        assert!(st.success());
        let head = std::fs::read(d.join("big.pzst")).unwrap();
        assert_eq!(
            &head[1..4],
            &[0x2a, 0x4d, 0x18],
            "pzstd starts with a skippable frame"
        );
        assert_matches_zstd_dc(d, "big.pzst");
    }
}

fn which(tool: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .ok_or(())
}

#[test]
fn an_undecodable_zstd_stream_is_an_error_never_raw_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A skippable frame, then text that is no frame at all.
    let mut bad = skippable(3, b"xxxx");
    bad.extend_from_slice(b"plain text Ecs.0013 that must not be scanned as raw bytes\n");
    std::fs::write(d.join("bad.zst"), &bad).unwrap();
    let out = run(d, &["scan", "--format", "json", "bad.zst"]);
    let r = json_of(&out);
    assert_eq!(r["hits"], 0, "{r}");
    assert_eq!(r["errors"][0]["path"], "bad.zst", "{r}");
    assert_eq!(out.status.code(), Some(2), "nothing could be read: {r}");
}

#[test]
fn a_corrupt_gzip_as_the_only_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut corrupt = vec![0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03];
    corrupt.extend_from_slice(b"this is not deflate data at all, not at all........");
    std::fs::write(d.join("corrupt.gz"), &corrupt).unwrap();
    let out = run(d, &["scan", "--format", "json", "corrupt.gz"]);
    let r = json_of(&out);
    assert_eq!(out.status.code(), Some(2), "{r}");
    assert_eq!(r["files"], 0, "{r}");
    assert_eq!(r["errors"][0]["path"], "corrupt.gz");
    // One good input beside it: something was read, exit 0.
    std::fs::write(d.join("good.log"), b"Ecs.0013\n").unwrap();
    let out = run(d, &["scan", "--format", "json", "corrupt.gz", "good.log"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_of(&out)["files"], 1);
}

#[test]
fn the_events_file_is_never_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("logs")).unwrap();
    let text = log_text(500);
    std::fs::write(d.join("logs/app.log"), &text).unwrap();
    let (known, _) = grep_reference(&text, &catalog());
    let hits: u64 = known.values().sum();
    let args_sets: [&[&str]; 3] = [
        // In the walked directory, twice (the second run finds it full).
        &["--events", "logs/ev.jsonl", "logs"],
        &["--events", "logs/ev.jsonl", "logs"],
        // Given explicitly, and through another name (a hard link).
        &[
            "--events",
            "logs/ev.jsonl",
            "logs/app.log",
            "logs/ev.jsonl",
            "ev-link.jsonl",
        ],
    ];
    for (i, extra) in args_sets.iter().enumerate() {
        if i == 2 {
            std::fs::hard_link(d.join("logs/ev.jsonl"), d.join("ev-link.jsonl")).unwrap();
        }
        let mut args = vec!["scan", "--format", "json"];
        args.extend_from_slice(extra);
        let out = run(d, &args);
        let r = json_of(&out);
        assert_eq!(r["hits"], hits, "run {i}: {r}");
        assert_eq!(r["files"], 1, "run {i}: {r}");
        let events = std::fs::read_to_string(d.join("logs/ev.jsonl")).unwrap();
        assert_eq!(
            events
                .lines()
                .filter(|l| l.contains("\"known\":true"))
                .count() as u64,
            hits,
            "run {i}"
        );
    }
}

#[test]
fn events_to_stdout_make_a_pure_json_lines_stream() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = log_text(300);
    std::fs::write(d.join("app.log"), &text).unwrap();
    let (known, unknown) = grep_reference(&text, &catalog());
    for format in ["json", "text"] {
        let out = run(d, &["scan", "--format", format, "--events", "-", "app.log"]);
        assert_eq!(out.status.code(), Some(0));
        let stdout = String::from_utf8(out.stdout).unwrap();
        let mut n = 0u64;
        for line in stdout.lines() {
            let ev: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("--format {format}: not a JSON line ({e}): {line}"));
            assert!(ev["code"].is_string() && ev["offset"].is_u64(), "{line}");
            n += 1;
        }
        assert_eq!(
            n,
            known.values().sum::<u64>() + unknown.values().sum::<u64>()
        );
        // The report went to stderr.
        let stderr = String::from_utf8_lossy(&out.stderr);
        if format == "json" {
            let report: Value = serde_json::from_str(stderr.trim())
                .unwrap_or_else(|e| panic!("the report on stderr ({e}): {stderr}"));
            assert_eq!(report["hits"], known.values().sum::<u64>());
        } else {
            assert!(stderr.contains("Ecs.0013"), "{stderr}");
        }
    }
    // -q: no report anywhere.
    let out = run(
        d,
        &["-q", "scan", "--format", "json", "--events", "-", "app.log"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("\"hits\""));
}

#[test]
fn a_thread_count_above_the_maximum_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.log"), b"Ecs.0013\n").unwrap();
    for n in ["65535", "1025"] {
        let out = run(dir.path(), &["scan", "--threads", n, "a.log"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{n}: {stderr}");
        assert!(stderr.contains("--threads"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let out = run(
        dir.path(),
        &["scan", "--format", "json", "--threads", "1024", "a.log"],
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn refused_threads_mean_fewer_threads_and_one_warning() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut all = Vec::new();
    for i in 0..6 {
        let text = log_text(400 + i * 37);
        all.extend_from_slice(&text);
        if i % 2 == 0 {
            std::fs::write(d.join(format!("{i}.log")), &text).unwrap();
        } else {
            // Compressed inputs want a decompression thread too.
            let z = zstd_cli(&text);
            std::fs::write(d.join(format!("{i}.log.zst")), z).unwrap();
        }
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (known, _) = grep_reference(&all, &catalog());
    let root = unsafe { libc::geteuid() } == 0;
    // A real limit: at most 2 threads for the user that runs the scan (a
    // fresh uid when we are root; otherwise our own, which already has
    // more than 1, so no thread at all can be made).
    let limit: libc::rlim_t = if root { 2 } else { 1 };
    let mut cmd = Command::new(bin_path());
    cmd.current_dir(d)
        .args(["scan", "--format", "json", "--threads", "6", "."]);
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_NPROC, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if root && (libc::setgid(65534) != 0 || libc::setuid(65534) != 0) {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let r = json_of(&out);
    assert_eq!(r["files"], 6, "{r}");
    assert_eq!(by_code(&r), known);
    assert_eq!(r["errors"], serde_json::json!([]));
    assert_eq!(
        stderr.matches("thread").count(),
        1,
        "one warning about threads: {stderr}"
    );
}

#[test]
fn a_file_truncated_while_it_is_scanned_is_an_error_not_a_signal_death() {
    truncated_under_the_scan(&[]);
}

/// With `read(2)` instead of a map, a file cut under the scan ends early
/// without any fault: the bytes read fall short of its size at open, and
/// that is reported the same way.
#[test]
fn a_file_truncated_while_it_is_read_without_mmap_is_reported_too() {
    truncated_under_the_scan(&["--no-mmap"]);
}

/// Scans a small file and a sparse 256 MiB one, cuts the big one to
/// 16 MiB as soon as the scan has it open, and checks the report: no
/// signal, the big file in `errors` as changed, the other counted in full.
fn truncated_under_the_scan(extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let small = log_text(200);
    std::fs::write(d.join("a-small.log"), &small).unwrap();
    // A sparse 256 MiB file with codes in its first page; tiny windows
    // (--buffer-bytes 16) make its scan last long enough to truncate it
    // under the scan, which we do as soon as it is mapped or open.
    let big = d.join("b-big.log");
    let head = b"Ecs.0013 first page\n";
    std::fs::write(&big, head).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(256 << 20)
        .unwrap();
    let child = Command::new(bin_path())
        .current_dir(d)
        .args([
            "scan",
            "--format",
            "json",
            "--threads",
            "1",
            "--buffer-bytes",
            "16",
        ])
        .args(extra)
        .args(["a-small.log", "b-big.log"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let maps = format!("/proc/{}/maps", child.id());
    let fds = format!("/proc/{}/fd", child.id());
    let has_big_open = || {
        std::fs::read_dir(&fds).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| std::fs::read_link(e.path()).is_ok_and(|t| t.ends_with("b-big.log")))
        })
    };
    let started = std::time::Instant::now();
    loop {
        let text = std::fs::read_to_string(&maps).unwrap_or_default();
        if text.contains("b-big.log") || has_big_open() {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the big file was never opened"
        );
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    std::fs::OpenOptions::new()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(16 << 20)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), None, "killed by a signal: {stderr}");
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let r = json_of(&out);
    assert_eq!(r["errors"][0]["path"], "b-big.log", "{extra:?}: {r}");
    assert!(
        r["errors"][0]["error"]
            .as_str()
            .unwrap()
            .contains("changed during the scan"),
        "{r}"
    );
    assert!(stderr.contains("b-big.log"), "{stderr}");
    // The other file is counted in full, and the big one's first page.
    let (known, _) = grep_reference(&small, &catalog());
    assert_eq!(
        r["by_code"]["Ecs.0013"].as_u64().unwrap(),
        known["Ecs.0013"] + 1,
        "{r}"
    );
}

/// Every code GNU grep finds (SPEC boundary rule as lookarounds), as
/// (offset, line, code).
fn grep_events(path: &Path) -> Vec<(u64, u64, String)> {
    let pattern = format!(
        "(?<![A-Za-z0-9_])(?:{})\\.[0-9]{{4}}(?![A-Za-z0-9_])",
        prefixes(&catalog()).join("|")
    );
    let out = Command::new("grep")
        .env("LC_ALL", "C")
        .args(["-a", "-o", "-b", "-n", "-P", &pattern])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c <= 1));
    let mut v: Vec<(u64, u64, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let mut f = l.splitn(3, ':');
            let line = f.next().unwrap().parse().unwrap();
            let offset = f.next().unwrap().parse().unwrap();
            (offset, line, f.next().unwrap().to_string())
        })
        .collect();
    v.sort();
    v
}

fn scan_events(dir: &Path, extra: &[&str]) -> (Value, Vec<(u64, u64, String)>) {
    let mut args = vec!["scan", "--format", "json", "--events", "ev.jsonl"];
    args.extend_from_slice(extra);
    let out = run(dir, &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut ev: Vec<(u64, u64, String)> = std::fs::read_to_string(dir.join("ev.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let e: Value = serde_json::from_str(l).unwrap();
            (
                e["offset"].as_u64().unwrap(),
                e["line"].as_u64().unwrap(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    ev.sort();
    let mut r = json_of(&out);
    r.as_object_mut().unwrap().remove("elapsed_ms");
    (r, ev)
}

#[test]
fn a_file_split_among_threads_gives_every_code_once_with_its_offset_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    const CHUNK: usize = 1000;
    // Snippets written across every split point at every shift: codes
    // (known, unknown, the longest), near misses whose deciding byte is on
    // the other side, and LFs at the split point.
    let snippets: [&[u8]; 7] = [
        b"Ecs.0013",
        b"BackupService.6133",
        b"Ecs.9876",
        b"xEcs.0013",
        b"Ecs.00131",
        b"\nIMG.0015\n",
        b"CSBS.9006_",
    ];
    let mut cases = Vec::new();
    for s in snippets {
        for shift in 0..=s.len() {
            cases.push((s, shift));
        }
    }
    let mut bytes: Vec<u8> = (0..(cases.len() + 2) * CHUNK)
        .map(|i| if i % 53 == 52 { b'\n' } else { b' ' })
        .collect();
    for (k, (s, shift)) in cases.iter().enumerate() {
        let at = (k + 1) * CHUNK - shift;
        bytes[at..at + s.len()].copy_from_slice(s);
    }
    // No final LF: the last line is unterminated.
    bytes.extend_from_slice(b"tail Ecs.0013");
    std::fs::write(d.join("big.log"), &bytes).unwrap();
    let reference = grep_events(&d.join("big.log"));
    // By hand: every shift of the three codes (9 + 19 + 9) and of the
    // LF-framed one (11), the tail; no near miss.
    assert_eq!(reference.len(), 9 + 19 + 9 + 11 + 1);

    let (one, one_ev) = scan_events(d, &["--threads", "1", "big.log"]);
    assert_eq!(one_ev, reference);
    for threads in ["2", "3"] {
        let (split, split_ev) = scan_events(
            d,
            &[
                "--threads",
                threads,
                "--chunk-bytes",
                "1000",
                "--mmap-min-bytes",
                "0",
                "big.log",
            ],
        );
        assert_eq!(split_ev, reference, "--threads {threads}");
        assert_eq!(split, one, "--threads {threads}");
    }
    assert_eq!(one["lines"], count_lines(&bytes));
    assert_eq!(one["bytes"], bytes.len() as u64);
    // Without events no chunk needs line numbers: each counts its own
    // LFs in its search, and the totals must still be exact.
    for threads in ["2", "3"] {
        let out = run(
            d,
            &[
                "scan",
                "--format",
                "json",
                "--threads",
                threads,
                "--chunk-bytes",
                "1000",
                "--mmap-min-bytes",
                "0",
                "big.log",
            ],
        );
        let r = json_of(&out);
        assert_eq!(r["lines"], count_lines(&bytes), "--threads {threads}");
        assert_eq!(by_code(&r), by_code(&one), "--threads {threads}");
    }
    // Split files beside whole ones (files in parallel, then chunks).
    std::fs::write(d.join("small.log"), log_text(50)).unwrap();
    let (one, one_ev) = scan_events(d, &["--threads", "1", "big.log", "small.log"]);
    let (split, split_ev) = scan_events(
        d,
        &[
            "--threads",
            "2",
            "--chunk-bytes",
            "1000",
            "--mmap-min-bytes",
            "0",
            "big.log",
            "small.log",
        ],
    );
    assert_eq!(split, one);
    assert_eq!(split_ev, one_ev);
}

#[test]
fn progress_counts_decompressed_bytes_without_a_made_up_eta() {
    let script = require_tool(&["script"], "bsdutils");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Exactly 3 MiB of text, compressed to a small fraction of it.
    let mut text = log_text(60_000);
    text.truncate(3 << 20);
    let z = zstd_cli(&text);
    assert!(z.len() < 1 << 20);
    std::fs::write(d.join("a.zst"), &z).unwrap();
    // stderr on a terminal (script's pty); the input arrives in two parts
    // a second apart, so the bar is drawn while the first is done.
    let cmd = format!(
        "(cat a.zst; sleep 1.5; cat a.zst) | {} scan --format json - > out.json",
        bin_path().display()
    );
    let out = Command::new(script)
        .current_dir(d)
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(
        screen.contains("3.00 MiB") || screen.contains("6.00 MiB"),
        "decompressed bytes on the bar: {screen:?}"
    );
    assert!(!screen.contains("ETA"), "{screen:?}");
    let r: Value = serde_json::from_slice(&std::fs::read(d.join("out.json")).unwrap()).unwrap();
    assert_eq!(r["bytes"], 6u64 << 20);
}

/// gzip members as the gzip tool writes them (a file name in the header),
/// an empty member and flate2's, decoded through ISA-L (when the system
/// has libisal.so.2) and through flate2 (`FAULTLINE_NO_ISAL`): both give
/// what GNU grep finds in `gzip -dc`'s output; a corrupt last member is an
/// error naming the file, after the members before it were counted.
#[test]
fn gzip_members_decode_like_gzip_dc_through_either_inflater() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let gzip = require_tool(&["gzip"], "gzip");
    let member = |name: &str, text: &[u8]| {
        std::fs::write(d.join(name), text).unwrap();
        let out = Command::new(&gzip)
            .args(["-c", "-6"])
            .arg(d.join(name))
            .output()
            .unwrap();
        assert!(out.status.success());
        std::fs::remove_file(d.join(name)).unwrap();
        out.stdout
    };
    let mut stream = member("first.log", &log_text(30_000));
    stream.extend(member("empty.log", b""));
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut e, &log_text(7)).unwrap();
    stream.extend(e.finish().unwrap());
    stream.extend(member("third.log", &log_text(1_001)));
    std::fs::write(d.join("all.gz"), &stream).unwrap();
    let reference = Command::new(&gzip)
        .args(["-dc"])
        .arg(d.join("all.gz"))
        .output()
        .unwrap();
    assert!(reference.status.success());
    let plain = reference.stdout;
    let (known, unknown) = grep_reference(&plain, &catalog());
    // The first member, then a member whose deflate data is cut and
    // garbled.
    let first = member("first.log", &log_text(30_000));
    let mut corrupt = first.clone();
    let mut bad = member("bad.log", &log_text(5_000));
    let half = bad.len() / 2;
    bad.truncate(half);
    bad.extend_from_slice(&[0xff; 64]);
    corrupt.extend(bad);
    std::fs::write(d.join("corrupt.gz"), &corrupt).unwrap();
    let (first_known, _) = grep_reference(&log_text(30_000), &catalog());
    for no_isal in [false, true] {
        let mut cmd = Command::new(bin_path());
        cmd.current_dir(d)
            .args(["scan", "--format", "json", "--threads", "1", "all.gz"]);
        if no_isal {
            cmd.env("FAULTLINE_NO_ISAL", "1");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "no_isal {no_isal}");
        let r = json_of(&out);
        assert_eq!(r["errors"], serde_json::json!([]), "no_isal {no_isal}");
        assert_eq!(r["bytes"], plain.len() as u64, "no_isal {no_isal}");
        assert_eq!(r["lines"], count_lines(&plain), "no_isal {no_isal}");
        assert_eq!(by_code(&r), known, "no_isal {no_isal}");
        assert_eq!(r["unknown"], unknown.values().sum::<u64>());

        let mut cmd = Command::new(bin_path());
        cmd.current_dir(d)
            .args(["scan", "--format", "json", "--threads", "1", "corrupt.gz"]);
        if no_isal {
            cmd.env("FAULTLINE_NO_ISAL", "1");
        }
        let out = cmd.output().unwrap();
        let r = json_of(&out);
        assert_eq!(
            r["errors"][0]["path"], "corrupt.gz",
            "no_isal {no_isal}: {r}"
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("corrupt.gz"),
            "no_isal {no_isal}"
        );
        // Everything of the first member was read before the failure.
        for (code, n) in &first_known {
            assert!(
                r["by_code"][code].as_u64().unwrap_or(0) >= *n,
                "no_isal {no_isal}: {code} {r}"
            );
        }
    }
}

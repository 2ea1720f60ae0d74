//! `faultline tail` as a whole program: real files in a temp dir, writers
//! appending in random chunk sizes (codes split across writes), rotation
//! in every style, restarts and `kill -9`. Every test compares the final
//! totals with what the writer wrote: equality, not "at least".
//!
//! Every process a test starts, it stops by pid (SIGTERM, or SIGKILL where
//! that is the point), with bounded waits.

mod support;

use support::agent::{Agent, summaries, wait_bounded};
use support::rng::Rng;

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CODES: [&str; 5] = [
    "Ecs.0013",
    "IMG.0015",
    "CSBS.9006",
    "BackupService.6133",
    "Common.0024",
];

/// What a writer wrote, to compare with faultline's totals.
#[derive(Default, Debug, Clone, PartialEq)]
struct Written {
    lines: u64,
    bytes: u64,
    hits: u64,
    unknown: u64,
}

/// Makes `n` log lines, about a third with a code, some with an unknown
/// code, and counts them.
fn lines(rng: &mut Rng, n: usize, w: &mut Written) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        let line = match rng.below(6) {
            0 | 1 => {
                w.hits += 1;
                format!(
                    "{i} ERROR call failed code={} req={}\n",
                    CODES[rng.below(5) as usize],
                    rng.next()
                )
            }
            2 => {
                w.unknown += 1;
                format!("{i} WARN unexpected Ecs.98{:02}\n", rng.below(100))
            }
            _ => format!("{i} INFO all is well ecs.0013 Ecs.00131 {}\n", rng.next()),
        };
        out.extend_from_slice(line.as_bytes());
    }
    w.lines += n as u64;
    w.bytes += out.len() as u64;
    out
}

/// Appends `data` in random chunk sizes, flushing each, so that codes are
/// split across writes.
fn append_chunked(path: &Path, data: &[u8], rng: &mut Rng, pause: Duration) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    let mut i = 0;
    while i < data.len() {
        let n = (1 + rng.below(40) as usize).min(data.len() - i);
        f.write_all(&data[i..i + n]).unwrap();
        f.flush().unwrap();
        i += n;
        if !pause.is_zero() && rng.below(8) == 0 {
            std::thread::sleep(pause);
        }
    }
}

/// `tail` in `dir` with summaries to `dir/summaries.jsonl`, the `extra`
/// options and the `patterns`; returns once it has written a window.
fn start(dir: &Path, extra: &[&str], patterns: &[&str]) -> Agent {
    let args: Vec<&str> = extra.iter().chain(patterns).copied().collect();
    Agent::start(dir, &dir.join("summaries.jsonl"), &args, Stdio::null())
}

fn totals_of(v: &Value) -> Written {
    let t = &v["totals"];
    Written {
        lines: t["lines"].as_u64().unwrap(),
        bytes: t["bytes"].as_u64().unwrap(),
        hits: t["hits"].as_u64().unwrap(),
        unknown: t["unknown"].as_u64().unwrap(),
    }
}

/// Waits (bounded) until a summary's totals equal `want`.
fn wait_for_totals(path: &Path, want: &Written) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(last) = summaries(path).pop() {
            if totals_of(&last) == *want {
                return last;
            }
            if Instant::now() > deadline {
                panic!("totals {:?}, want {want:?}", totals_of(&last));
            }
        } else if Instant::now() > deadline {
            panic!("no summary written to {}", path.display());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Stops the agent and checks the last summary's totals.
fn stop_and_check(agent: Agent, want: &Written) -> Value {
    let path = agent.summaries.clone();
    wait_for_totals(&path, want);
    agent.stop();
    let last = summaries(&path).pop().unwrap();
    assert_eq!(totals_of(&last), *want, "totals after shutdown");
    last
}

#[test]
fn codes_split_across_writes_count_once_and_wait_for_their_next_byte() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, b"").unwrap();
    let agent = start(dir.path(), &["--events", "events.jsonl"], &["app.log"]);
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(b"first Ecs.00").unwrap();
    f.flush().unwrap();
    std::thread::sleep(Duration::from_millis(150));
    f.write_all(b"13 done\nlast IMG.0015").unwrap();
    f.flush().unwrap();
    // Ecs.0013 is decided; IMG.0015 waits for its next byte.
    let sums = dir.path().join("summaries.jsonl");
    let deadline = Instant::now() + Duration::from_secs(10);
    while summaries(&sums)
        .pop()
        .is_none_or(|s| s["totals"]["hits"] != 1 || s["totals"]["lines"] != 1)
    {
        assert!(
            Instant::now() < deadline,
            "Ecs.0013 not counted: {:?}",
            summaries(&sums).pop()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let interim = summaries(&sums).pop().unwrap();
    assert_eq!(
        interim["totals"]["hits"], 1,
        "IMG.0015 must wait for its next byte"
    );
    f.write_all(b"1 is not a code\n").unwrap();
    f.flush().unwrap();
    let last = stop_and_check(
        agent,
        &Written {
            lines: 2,
            bytes: 49,
            hits: 1,
            unknown: 0,
        },
    );
    assert_eq!(
        last["totals"]["by_code"],
        serde_json::json!({"Ecs.0013": 1})
    );
    let events = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    let ev: Value = serde_json::from_str(events.lines().next().unwrap()).unwrap();
    assert_eq!(
        (
            ev["code"].as_str(),
            ev["offset"].as_u64(),
            ev["line"].as_u64()
        ),
        (Some("Ecs.0013"), Some(6), Some(1))
    );
    assert!(ev["ts"].as_str().unwrap().ends_with('Z'));
    assert_eq!(events.lines().count(), 1);
}

/// A rotation style: what happens to app.log between two batches of lines.
#[derive(Clone, Copy, Debug)]
enum Rotation {
    RenameAndCreate,
    CopyTruncate,
    DeleteAndRecreate,
    TruncateInPlace,
}

fn rotate(dir: &Path, how: Rotation, n: usize) {
    let log = dir.join("app.log");
    let old = dir.join(format!("app.log.{n}"));
    match how {
        Rotation::RenameAndCreate => {
            std::fs::rename(&log, &old).unwrap();
            std::fs::write(&log, b"").unwrap();
        }
        Rotation::CopyTruncate => {
            std::fs::copy(&log, &old).unwrap();
            std::fs::OpenOptions::new()
                .write(true)
                .open(&log)
                .unwrap()
                .set_len(0)
                .unwrap();
        }
        Rotation::DeleteAndRecreate => {
            std::fs::remove_file(&log).unwrap();
            std::fs::write(&log, b"").unwrap();
        }
        Rotation::TruncateInPlace => {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&log)
                .unwrap()
                .set_len(0)
                .unwrap();
        }
    }
}

/// Writes, waits until faultline has it (truncation discards what is not
/// read yet, as with any tail), rotates, writes more; several times.
fn rotation_case(how: Rotation, pattern: &str, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, b"").unwrap();
    let agent = start(dir.path(), &["--from", "beginning"], &[pattern]);
    let mut rng = Rng::new(seed);
    let mut w = Written::default();
    for round in 1..=4 {
        let n = 50 + rng.below(100) as usize;
        let data = lines(&mut rng, n, &mut w);
        append_chunked(&log, &data, &mut rng, Duration::from_millis(1));
        if matches!(how, Rotation::TruncateInPlace | Rotation::DeleteAndRecreate) {
            wait_for_totals(&agent.summaries, &w);
        }
        rotate(dir.path(), how, round);
    }
    let data = lines(&mut rng, 80, &mut w);
    append_chunked(&log, &data, &mut rng, Duration::ZERO);
    stop_and_check(agent, &w);
}

#[test]
fn rename_and_create_with_the_rotated_name_matched_and_not() {
    rotation_case(Rotation::RenameAndCreate, "app.log", 1);
    rotation_case(Rotation::RenameAndCreate, "app.log*", 2);
}

#[test]
fn copytruncate_with_the_copies_matched_by_the_glob() {
    rotation_case(Rotation::CopyTruncate, "app.log*", 3);
}

#[test]
fn delete_and_recreate() {
    rotation_case(Rotation::DeleteAndRecreate, "app.log", 4);
}

#[test]
fn truncation_in_place() {
    rotation_case(Rotation::TruncateInPlace, "app.log", 5);
}

#[test]
fn files_that_appear_later_are_read_from_their_beginning_and_compressed_ones_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(6);
    let mut w = Written::default();
    let mut skipped = Written::default();
    // Present at start: read from its end (the default).
    std::fs::write(
        dir.path().join("old.log"),
        lines(&mut rng, 20, &mut skipped),
    )
    .unwrap();
    let agent = start(dir.path(), &[], &["*.log*"]);
    std::thread::sleep(Duration::from_millis(200));
    let data = lines(&mut rng, 30, &mut w);
    std::fs::write(dir.path().join("new.log"), &data).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&lines(&mut rng, 30, &mut skipped)).unwrap();
    std::fs::write(dir.path().join("rotated.log.1.gz"), gz.finish().unwrap()).unwrap();
    let more = lines(&mut rng, 10, &mut w);
    append_chunked(&dir.path().join("old.log"), &more, &mut rng, Duration::ZERO);
    stop_and_check(agent, &w);
}

/// Without file-system events the poll alone must see appends, new files
/// and renames, also after the directories have been still long enough
/// (over 2 s) for the poll to stop listing them on every tick.
#[test]
fn without_file_events_the_poll_alone_finds_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut rng = Rng::new(8);
    let mut w = Written::default();
    std::fs::write(d.join("app.log"), b"").unwrap();
    let agent = start(d, &["--no-file-events"], &["app.log*"]);
    let still = Duration::from_millis(2500);
    std::thread::sleep(still);
    append_chunked(
        &d.join("app.log"),
        &lines(&mut rng, 40, &mut w),
        &mut rng,
        Duration::ZERO,
    );
    std::thread::sleep(still);
    // Rotation by rename, then a new file with the old name.
    std::fs::rename(d.join("app.log"), d.join("app.log.1")).unwrap();
    append_chunked(
        &d.join("app.log"),
        &lines(&mut rng, 30, &mut w),
        &mut rng,
        Duration::ZERO,
    );
    std::thread::sleep(still);
    // A file that appears after a still period is read from its beginning.
    std::fs::write(d.join("app.log.extra"), lines(&mut rng, 20, &mut w)).unwrap();
    std::thread::sleep(still);
    append_chunked(
        &d.join("app.log.1"),
        &lines(&mut rng, 10, &mut w),
        &mut rng,
        Duration::ZERO,
    );
    stop_and_check(agent, &w);
}

#[test]
fn a_file_deleted_while_being_read_is_read_to_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let mut rng = Rng::new(7);
    let mut w = Written::default();
    std::fs::write(&log, b"").unwrap();
    let agent = start(dir.path(), &[], &["app.log"]);
    std::thread::sleep(Duration::from_millis(150));
    // Keep the file open, write, delete it, write more to the open file.
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(&lines(&mut rng, 100, &mut w)).unwrap();
    std::fs::remove_file(&log).unwrap();
    f.write_all(&lines(&mut rng, 100, &mut w)).unwrap();
    f.flush().unwrap();
    stop_and_check(agent, &w);
}

#[test]
fn stdin_is_followed_to_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(8);
    let mut w = Written::default();
    let data = lines(&mut rng, 500, &mut w);
    let sums = dir.path().join("s.jsonl");
    let mut child = Command::new(support::bin_path())
        .args(["tail", "--interval", "1h", "--summaries"])
        .arg(&sums)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut written = 0;
    while written < data.len() {
        let n = (1 + rng.below(700) as usize).min(data.len() - written);
        stdin.write_all(&data[written..written + n]).unwrap();
        written += n;
    }
    stdin
        .write_all(b"no newline at the end: CSBS.9006")
        .unwrap();
    drop(stdin);
    w.hits += 1;
    w.lines += 1;
    w.bytes += 32;
    let status = wait_bounded(&mut child, Duration::from_secs(10));
    assert!(status.success());
    let last = summaries(&sums).pop().expect("a final summary");
    assert_eq!(totals_of(&last), w);
}

#[test]
fn restarts_resume_exactly_even_after_rotation_while_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = d.join("app.log");
    let state = ["--state-dir", "state", "--from", "beginning"];
    let mut rng = Rng::new(9);
    let mut w = Written::default();
    std::fs::write(&log, lines(&mut rng, 100, &mut w)).unwrap();
    let agent = start(d, &state, &["app.log*"]);
    wait_for_totals(&agent.summaries, &w);
    agent.stop();
    // While stopped: more lines, then rename-and-create, then more.
    append_chunked(&log, &lines(&mut rng, 50, &mut w), &mut rng, Duration::ZERO);
    rotate(d, Rotation::RenameAndCreate, 1);
    append_chunked(&log, &lines(&mut rng, 50, &mut w), &mut rng, Duration::ZERO);
    let agent = start(d, &state, &["app.log*"]);
    wait_for_totals(&agent.summaries, &w);
    agent.stop();
    // While stopped: copytruncate, and the new content grows past the
    // saved position before faultline looks again.
    append_chunked(&log, &lines(&mut rng, 30, &mut w), &mut rng, Duration::ZERO);
    rotate(d, Rotation::CopyTruncate, 2);
    append_chunked(
        &log,
        &lines(&mut rng, 200, &mut w),
        &mut rng,
        Duration::ZERO,
    );
    let agent = start(d, &state, &["app.log*"]);
    wait_for_totals(&agent.summaries, &w);
    agent.stop();
    // While stopped: delete, and a new file at the same path (the inode
    // may be recycled) with the same first line.
    let first_line: Vec<u8> = std::fs::read(&log)
        .unwrap()
        .split(|&b| b == b'\n')
        .next()
        .unwrap()
        .to_vec();
    std::fs::remove_file(&log).unwrap();
    let mut fresh = first_line.clone();
    fresh.push(b'\n');
    let tail = lines(&mut rng, 40, &mut w);
    fresh.extend_from_slice(&tail);
    // The copied first line is counted like any other line.
    w.lines += 1;
    w.bytes += first_line.len() as u64 + 1;
    // lines() puts a code only after "code=" and an unknown one only
    // after "unexpected ".
    let text = String::from_utf8_lossy(&first_line);
    w.hits += u64::from(text.contains("code="));
    w.unknown += u64::from(text.contains("unexpected Ecs.98"));
    std::fs::write(&log, &fresh).unwrap();
    let agent = start(d, &state, &["app.log*"]);
    stop_and_check(agent, &w);
}

#[test]
fn kill_9_at_random_moments_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let log = d.join("app.log");
    std::fs::write(&log, b"").unwrap();
    let state = ["--state-dir", "state", "--from", "beginning"];
    let mut rng = Rng::new(10);
    let mut w = Written::default();
    let rounds = std::env::var("FAULTLINE_KILL_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    for round in 0..rounds {
        let agent = start(&d, &state, &["app.log*"]);
        // A writer runs while the agent is killed at a random moment.
        let n = 100 + rng.below(300) as usize;
        let data = lines(&mut rng, n, &mut w);
        let writer_log = log.clone();
        let seed = rng.next();
        let writer = std::thread::spawn(move || {
            append_chunked(
                &writer_log,
                &data,
                &mut Rng::new(seed),
                Duration::from_micros(300),
            );
        });
        std::thread::sleep(Duration::from_millis(20 + rng.below(250)));
        agent.kill9();
        writer.join().unwrap();
        // Rotation while stopped, in both styles that keep the old content.
        match round % 4 {
            1 => rotate(&d, Rotation::CopyTruncate, round),
            3 => rotate(&d, Rotation::RenameAndCreate, round),
            _ => {}
        }
    }
    let agent = start(&d, &state, &["app.log*"]);
    stop_and_check(agent, &w);
}

#[test]
fn a_corrupt_state_is_an_error_with_a_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("state")).unwrap();
    std::fs::write(
        d.join("state/checkpoint.json"),
        b"{\"version\": 1, \"files\": [",
    )
    .unwrap();
    std::fs::write(d.join("app.log"), b"Ecs.0013\n").unwrap();
    let out = Command::new(support::bin_path())
        .current_dir(d)
        .args(["tail", "--state-dir", "state", "app.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("checkpoint.json is corrupt"), "{stderr}");
    assert!(stderr.contains("--reset-state"), "{stderr}");
    let agent = start(
        d,
        &[
            "--state-dir",
            "state",
            "--reset-state",
            "--from",
            "beginning",
        ],
        &["app.log"],
    );
    stop_and_check(
        agent,
        &Written {
            lines: 1,
            bytes: 9,
            hits: 1,
            unknown: 0,
        },
    );
    assert!(d.join("state/checkpoint.json.corrupt").exists());
}

#[test]
fn summaries_have_the_spec_shape() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, b"").unwrap();
    let agent = start(dir.path(), &[], &["app.log"]);
    std::thread::sleep(Duration::from_millis(150));
    std::fs::write(&log, b"IMG.0013 IMG.0013 Ecs.0013 Ecs.9876\n").unwrap();
    let last = stop_and_check(
        agent,
        &Written {
            lines: 1,
            bytes: 36,
            hits: 3,
            unknown: 1,
        },
    );
    let all = summaries(&dir.path().join("summaries.jsonl"));
    let window = all
        .iter()
        .find(|s| s["hits"].as_u64() == Some(3))
        .expect("the window with the hits");
    for key in [
        "window_start",
        "window_end",
        "lines",
        "bytes",
        "hits",
        "unknown",
        "by_service_category",
        "top_codes",
        "unknown_codes",
        "latency_ms",
        "totals",
    ] {
        assert!(window.get(key).is_some(), "{key} in {window}");
    }
    let catalog = support::catalog();
    let top = &window["top_codes"][0];
    assert_eq!(top["code"], "IMG.0013");
    assert_eq!(top["count"], 2);
    assert_eq!(top["message"], catalog["IMG.0013"]["message"]);
    assert_eq!(top["category"], catalog["IMG.0013"]["category"]);
    assert_eq!(window["unknown_codes"], serde_json::json!({"Ecs.9876": 1}));
    let lat = &window["latency_ms"];
    assert!(lat["p50"].as_f64().unwrap() <= lat["p99"].as_f64().unwrap());
    assert!(lat["max"].as_f64().unwrap() < 1000.0, "{lat}");
    assert_eq!(
        last["totals"]["by_code"],
        serde_json::json!({"Ecs.0013": 1, "IMG.0013": 2})
    );
}

#[test]
fn a_thousand_files_written_at_once_are_all_counted_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let agent = start(dir.path(), &["--from", "beginning"], &["logs/*.log"]);
    let mut w = Written::default();
    let mut rng = Rng::new(11);
    // Four writers, each appending to its own 250 files in turn.
    let mut batches: Vec<Vec<(PathBuf, Vec<u8>)>> = vec![Vec::new(); 4];
    for round in 0..3 {
        for f in 0..1000 {
            let data = lines(&mut rng, 1 + round, &mut w);
            batches[f % 4].push((logs.join(format!("f{f:04}.log")), data));
        }
    }
    let writers: Vec<_> = batches
        .into_iter()
        .enumerate()
        .map(|(i, batch)| {
            std::thread::spawn(move || {
                let mut rng = Rng::new(100 + i as u64);
                for (path, data) in batch {
                    append_chunked(&path, &data, &mut rng, Duration::ZERO);
                }
            })
        })
        .collect();
    for h in writers {
        h.join().unwrap();
    }
    wait_for_totals(&agent.summaries, &w);
    let peak = agent.peak_rss();
    assert!(peak < 64 << 20, "peak RSS {peak} bytes with 1,000 files");
    stop_and_check(agent, &w);
}

#[test]
fn a_fast_writer_of_one_huge_line_is_caught_up_with_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, b"").unwrap();
    let agent = start(dir.path(), &[], &["app.log"]);
    // 256 MiB with no newline, written as fast as possible in 1 MiB
    // blocks, with a code every 64 KiB (some split across blocks), then
    // the line's end.
    let mut block = vec![b'x'; 1 << 20];
    let mut hits = 0;
    let mut at = 1000;
    while at + 20 < block.len() {
        block[at - 1] = b' ';
        block[at..at + 9].copy_from_slice(b"Ecs.0013 ");
        hits += 1;
        at += 64 << 10;
    }
    let tail = b"IMG.00";
    let head = b"15 end of a very long line\n";
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    let blocks = 256;
    for _ in 0..blocks {
        f.write_all(&block).unwrap();
    }
    f.write_all(b" ").unwrap();
    f.write_all(tail).unwrap();
    f.flush().unwrap();
    f.write_all(head).unwrap();
    let w = Written {
        lines: 1,
        bytes: (blocks << 20) as u64 + 1 + (tail.len() + head.len()) as u64,
        hits: hits * blocks as u64 + 1,
        unknown: 0,
    };
    wait_for_totals(&agent.summaries, &w);
    let peak = agent.peak_rss();
    assert!(peak < 64 << 20, "peak RSS {peak} bytes for a 256 MiB line");
    stop_and_check(agent, &w);
}

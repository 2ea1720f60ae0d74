//! `faultline tail --state-dir DIR --events FILE` (SPEC section 3, `tail`):
//! the events file holds each hit exactly once through `kill -9` and
//! restarts, as the totals do. The test knows each hit's byte offset, line
//! and code from what it wrote itself (append-only, one line at a time),
//! and compares the events file with that list: every hit once, nothing
//! else. Real binary, real files; every process started is stopped by pid.

mod support;

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::agent::{Agent, summaries};

/// xorshift64*: deterministic, so a failure replays.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const CODES: [&str; 3] = ["Ecs.0013", "IMG.0015", "CSBS.9006"];

/// One code the test wrote: where, on which line, which code.
type Hit = (u64, u64, String);

/// The log as the test wrote it: its length, its line count and every
/// code in it (known and unknown, as events carry both).
#[derive(Default)]
struct Log {
    bytes: u64,
    lines: u64,
    hits: Vec<Hit>,
}

impl Log {
    /// `n` more lines; about a third carry a known code, some an unknown
    /// one, the rest none (and near misses that are no hits).
    fn more(&mut self, rng: &mut Rng, n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..n {
            let line_no = self.lines + 1;
            let start = self.bytes + out.len() as u64;
            let (prefix, code) = match rng.below(6) {
                0 | 1 => (
                    format!("{line_no} ERROR call failed code="),
                    Some(CODES[rng.below(3) as usize].to_string()),
                ),
                2 => (
                    format!("{line_no} WARN unexpected "),
                    Some(format!("Ecs.98{:02}", rng.below(100))),
                ),
                _ => (format!("{line_no} INFO fine ecs.0013 Ecs.00131"), None),
            };
            let mut line = prefix.clone();
            if let Some(code) = &code {
                self.hits
                    .push((start + prefix.len() as u64, line_no, code.clone()));
                line.push_str(code);
            }
            line.push_str(&format!(" req={}\n", rng.next()));
            out.extend_from_slice(line.as_bytes());
            self.lines += 1;
        }
        self.bytes += out.len() as u64;
        out
    }
}

/// Appends in small random chunks, flushing each, with short pauses, so
/// that a kill lands between, inside and after lines and codes.
fn append_chunked(path: &Path, data: &[u8], rng: &mut Rng) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    let mut i = 0;
    while i < data.len() {
        let n = (1 + rng.below(60) as usize).min(data.len() - i);
        f.write_all(&data[i..i + n]).unwrap();
        i += n;
        if rng.below(6) == 0 {
            std::thread::sleep(Duration::from_micros(400));
        }
    }
}

/// Starts `tail` in `dir` with its summaries in `dir/summaries.jsonl`.
fn start(dir: &Path, args: &[&str]) -> Agent {
    Agent::start(dir, &dir.join("summaries.jsonl"), args, Stdio::null())
}

/// Waits (bounded) until the agent's totals count `hits` known codes and
/// `unknown` unknown ones.
fn wait_for(agent: &Agent, hits: u64, unknown: u64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(last) = summaries(&agent.summaries).pop() {
            let t = &last["totals"];
            let got = (t["hits"].as_u64().unwrap(), t["unknown"].as_u64().unwrap());
            if got == (hits, unknown) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "totals {got:?}, want {:?}",
                (hits, unknown)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The events file as (offset, line, code), in file order; every line must
/// be a whole JSON object.
fn events_of(path: &Path) -> Vec<Hit> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("events line {l:?} is not JSON: {e}"));
            (
                v["offset"].as_u64().unwrap(),
                v["line"].as_u64().unwrap(),
                v["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Each hit written appears exactly once in `events`; says which repeat
/// and which are missing.
fn assert_exactly_once(events: &[Hit], written: &[Hit]) {
    let mut got = events.to_vec();
    got.sort();
    let mut want = written.to_vec();
    want.sort();
    let repeated: Vec<&Hit> = got
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| &w[0])
        .collect();
    let missing: Vec<&Hit> = want
        .iter()
        .filter(|h| got.binary_search(h).is_err())
        .collect();
    assert!(
        repeated.is_empty() && missing.is_empty() && got == want,
        "{} events for {} hits written: {} repeated (e.g. {:?}), {} missing (e.g. {:?})",
        got.len(),
        want.len(),
        repeated.len(),
        repeated.first(),
        missing.len(),
        missing.first()
    );
}

fn known_and_unknown(hits: &[Hit]) -> (u64, u64) {
    let unknown = hits.iter().filter(|h| h.2.starts_with("Ecs.98")).count() as u64;
    (hits.len() as u64 - unknown, unknown)
}

#[test]
fn events_hold_each_hit_exactly_once_through_kill_9_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log_path = d.join("app.log");
    std::fs::write(&log_path, b"").unwrap();
    let args = [
        "--state-dir",
        "state",
        "--events",
        "events.jsonl",
        "--from",
        "beginning",
        "app.log",
    ];
    let mut rng = Rng::new(6);
    let mut log = Log::default();
    let rounds = std::env::var("FAULTLINE_KILL_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    for round in 0..rounds {
        let agent = start(d, &args);
        let n = 150 + rng.below(250) as usize;
        let data = log.more(&mut rng, n);
        let (path, seed) = (log_path.clone(), rng.next());
        let writer = std::thread::spawn(move || append_chunked(&path, &data, &mut Rng::new(seed)));
        // Killed while the writer writes, at a different moment each round
        // (just after a checkpoint, between two, after the writer ended);
        // every fourth round stops cleanly instead.
        std::thread::sleep(Duration::from_millis(10 + rng.below(300)));
        if round % 4 == 3 {
            writer.join().unwrap();
            let (hits, unknown) = known_and_unknown(&log.hits);
            wait_for(&agent, hits, unknown);
            agent.stop();
        } else {
            agent.kill9();
            writer.join().unwrap();
        }
    }
    let agent = start(d, &args);
    let (hits, unknown) = known_and_unknown(&log.hits);
    wait_for(&agent, hits, unknown);
    agent.stop();
    assert_eq!(
        std::fs::metadata(&log_path).unwrap().len(),
        log.bytes,
        "the test's own bookkeeping"
    );
    assert_exactly_once(&events_of(&d.join("events.jsonl")), &log.hits);
}

/// An events file replaced while the agent was stopped (rotated by the
/// user) is another file: it is appended to, never cut back to the length
/// the old one had at the checkpoint.
#[test]
fn an_events_file_replaced_while_stopped_is_not_cut() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log_path = d.join("app.log");
    std::fs::write(&log_path, b"").unwrap();
    let args = [
        "--state-dir",
        "state",
        "--events",
        "events.jsonl",
        "--from",
        "beginning",
        "app.log",
    ];
    let mut rng = Rng::new(7);
    let mut log = Log::default();
    let agent = start(d, &args);
    let data = log.more(&mut rng, 40);
    append_chunked(&log_path, &data, &mut rng);
    let (hits, unknown) = known_and_unknown(&log.hits);
    wait_for(&agent, hits, unknown);
    agent.kill9();
    // Rotated by the user: the old file moved away, a new one with lines
    // of its own (longer than the old one) in its place.
    std::fs::rename(d.join("events.jsonl"), d.join("events.jsonl.1")).unwrap();
    let foreign: String = (0..2000).map(|i| format!("{{\"kept\":{i}}}\n")).collect();
    std::fs::write(d.join("events.jsonl"), &foreign).unwrap();
    let rotated = std::fs::read(d.join("events.jsonl.1")).unwrap();
    assert!(foreign.len() > rotated.len(), "the test's own premise");

    let agent = start(d, &args);
    let first = log.hits.len();
    let data = log.more(&mut rng, 40);
    append_chunked(&log_path, &data, &mut rng);
    let (hits, unknown) = known_and_unknown(&log.hits);
    wait_for(&agent, hits, unknown);
    agent.stop();
    let now = std::fs::read_to_string(d.join("events.jsonl")).unwrap();
    assert!(now.starts_with(&foreign), "the user's lines were cut");
    let appended: Vec<Hit> = now[foreign.len()..]
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["offset"].as_u64().unwrap(),
                v["line"].as_u64().unwrap(),
                v["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // The hits after the restart are all there; those the old file
    // already held may be there again (at-least-once across a rotation).
    for h in &log.hits[first..] {
        assert!(appended.contains(h), "{h:?} missing after the restart");
    }
    assert_eq!(std::fs::read(d.join("events.jsonl.1")).unwrap(), rotated);
}

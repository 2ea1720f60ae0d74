//! The tail engine against a model, in-process, as Vector's file-source
//! tests its watcher: random sequences of file actions (appends, writes
//! split mid-line, rename-rotate, copytruncate, truncation, deletion,
//! re-creation, symlink re-pointing, kill and restart from a checkpoint,
//! clock ticks) are applied to real files in a temp dir and to a model
//! that only adds up what was written. After each action, and a settle of
//! the engine (look, poll, read until idle), the engine's totals must
//! equal the model's: every line, byte, hit and unknown code written is
//! counted exactly once, whatever happened to the file.
//!
//! Time is the engine's `now`, advanced by the test (deterministic: no
//! sleeps). Each sequence has a seed; a failure prints it and the actions
//! so far. `FAULTLINE_MODEL_SEQUENCES=100000` runs more sequences,
//! `FAULTLINE_MODEL_SEED=N` replays one.
//!
//! What the model does not promise (nor does any `tail`): bytes written and
//! then destroyed before the engine looked (truncated or deleted between
//! two looks) are lost. Each action is therefore followed by a settle.

mod support;

use faultline::catalog::Catalog;
use faultline::checkpoint::Checkpoint;
use faultline::tail::follow::Tailer;
use faultline::tail::patterns::Patterns;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};
use support::rng::Rng;

/// What was written: the truth the engine's totals must equal.
#[derive(Clone, Debug, Default, PartialEq)]
struct Counts {
    lines: u64,
    bytes: u64,
    hits: u64,
    unknown: u64,
}

const CODES: [&str; 4] = ["Ecs.0013", "IMG.0015", "CSBS.9006", "Common.0024"];

/// `n` log lines, each unique (a sequence number first, so no two files
/// begin alike by chance), about a third with a known code, some with an
/// unknown one, and codes in forms that do not count.
fn lines(rng: &mut Rng, seq: &mut u64, n: usize, c: &mut Counts) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..n {
        *seq += 1;
        let line = match rng.below(6) {
            0 | 1 => {
                c.hits += 1;
                format!(
                    "{seq} ERROR code={} r={}\n",
                    CODES[rng.below(4) as usize],
                    rng.next()
                )
            }
            2 => {
                c.unknown += 1;
                format!("{seq} WARN odd Ecs.98{:02}\n", rng.below(100))
            }
            _ => format!("{seq} INFO fine ecs.0013 Ecs.00131 {}\n", rng.next()),
        };
        out.extend_from_slice(line.as_bytes());
    }
    c.lines += n as u64;
    c.bytes += out.len() as u64;
    out
}

fn append(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(bytes).unwrap();
}

fn truncate(path: &Path) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(0)
        .unwrap();
}

/// One sequence: its engine, its files, its model.
struct Run {
    dir: tempfile::TempDir,
    rng: Rng,
    engine: Option<Tailer>,
    pattern: PathBuf,
    now: Instant,
    model: Counts,
    seq: u64,
    rotations: u32,
    /// The live log names (a.log, b.log), whether each exists.
    live: Vec<(PathBuf, bool)>,
    log: Vec<String>,
}

impl Run {
    fn new(seed: u64) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = Rng::new(seed);
        // Rotated names matched by the pattern, or not.
        let glob = if rng.below(2) == 0 { "*.log*" } else { "*.log" };
        let pattern = dir.path().join(glob);
        let files = 1 + rng.below(2) as usize;
        let live = (0..files)
            .map(|i| {
                (
                    dir.path().join(format!("{}.log", (b'a' + i as u8) as char)),
                    false,
                )
            })
            .collect();
        let mut run = Run {
            dir,
            rng,
            engine: None,
            pattern,
            now: Instant::now(),
            model: Counts::default(),
            seq: 0,
            rotations: 0,
            live,
            log: vec![format!("pattern {glob}")],
        };
        run.engine = Some(run.start(None));
        run
    }

    fn start(&self, saved: Option<&Checkpoint>) -> Tailer {
        let patterns = Patterns::parse(std::slice::from_ref(&self.pattern)).unwrap();
        let mut t = Tailer::new(
            Catalog::builtin().unwrap(),
            patterns,
            None,
            saved.map(|c| (c.totals.clone(), c.created.clone())),
            SystemTime::UNIX_EPOCH,
        )
        .unwrap();
        t.start(saved, true, self.now);
        t
    }

    fn engine(&mut self) -> &mut Tailer {
        self.engine.as_mut().unwrap()
    }

    /// Lets the engine see everything: full looks, polls, reading until
    /// idle, with time moving on past the copy-settling delay.
    fn settle(&mut self) {
        for _ in 0..3 {
            let now = self.now;
            let t = self.engine();
            t.rescan(now);
            t.poll(now);
            while t.read_ready(now) {}
            self.now += Duration::from_millis(300);
        }
    }

    fn check(&mut self, what: &str, full: bool) -> Result<(), String> {
        let t = self.engine().totals();
        let got = Counts {
            lines: t.lines,
            bytes: t.bytes,
            hits: t.hits,
            unknown: t.unknown,
        };
        let ok = if full {
            got == self.model
        } else {
            got.bytes == self.model.bytes
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "after {what}: engine {got:?}, model {:?}",
                self.model
            ))
        }
    }

    fn step(&mut self) -> Result<(), String> {
        let f = self.rng.below(self.live.len() as u64) as usize;
        let path = self.live[f].0.clone();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let action = self.rng.below(20);
        let what = match action {
            // Appends are the common case.
            0..=6 => {
                let n = 1 + self.rng.below(30) as usize;
                let data = lines(&mut self.rng, &mut self.seq, n, &mut self.model);
                append(&path, &data);
                self.live[f].1 = true;
                format!("append {n} lines to {name}")
            }
            7..=8 => {
                // One write split at random bytes, the engine looking
                // between the parts: codes split across reads.
                let n = 1 + self.rng.below(4) as usize;
                let mut partial = self.model.clone();
                let data = lines(&mut self.rng, &mut self.seq, n, &mut partial);
                let cuts = 1 + self.rng.below(3);
                let mut at = 0;
                for _ in 0..cuts {
                    let end = at + self.rng.below((data.len() - at) as u64) as usize;
                    append(&path, &data[at..end]);
                    self.model.bytes += (end - at) as u64;
                    at = end;
                    self.settle();
                    self.check(&format!("part of a split write to {name}"), false)?;
                }
                append(&path, &data[at..]);
                self.model = partial;
                self.live[f].1 = true;
                format!("split write of {n} lines to {name} in {} parts", cuts + 1)
            }
            9 if self.live[f].1 => {
                self.rotations += 1;
                let to = self.dir.path().join(format!("{name}.{}", self.rotations));
                std::fs::rename(&path, &to).unwrap();
                if self.rng.below(2) == 0 {
                    append(&path, b"");
                } else {
                    self.live[f].1 = false;
                }
                format!("rename-rotate {name}")
            }
            10 if self.live[f].1 => {
                self.rotations += 1;
                let to = self.dir.path().join(format!("{name}.{}", self.rotations));
                std::fs::copy(&path, &to).unwrap();
                truncate(&path);
                format!("copytruncate {name}")
            }
            11 if self.live[f].1 => {
                truncate(&path);
                format!("truncate {name}")
            }
            12 if self.live[f].1 => {
                std::fs::remove_file(&path).unwrap();
                self.live[f].1 = false;
                format!("delete {name}")
            }
            13 if !self.live[f].1 => {
                append(&path, b"");
                self.live[f].1 = true;
                format!("recreate {name}")
            }
            14..=15 => {
                let d = Duration::from_millis(self.rng.below(3000));
                self.now += d;
                format!("tick {d:?}")
            }
            16 => {
                // kill -9 after the last checkpoint: what was read since is
                // read again from the saved positions, and counted once.
                let cp = self.engine().checkpoint(SystemTime::UNIX_EPOCH);
                let n = self.rng.below(3) as usize;
                for _ in 0..n {
                    let more = 1 + self.rng.below(10) as usize;
                    let data = lines(&mut self.rng, &mut self.seq, more, &mut self.model);
                    append(&path, &data);
                    self.live[f].1 = true;
                    self.settle();
                }
                let cp = checkpoint_roundtrip(&cp);
                self.engine = None;
                self.engine = Some(self.start(Some(&cp)));
                format!("kill after {n} appends since the checkpoint, restart")
            }
            _ => "nothing".to_string(),
        };
        self.log.push(what.clone());
        self.settle();
        self.check(&what, true)
    }
}

/// The checkpoint as the store would give it back: through its JSON.
fn checkpoint_roundtrip(cp: &Checkpoint) -> Checkpoint {
    let json = faultline::checkpoint::to_json(cp);
    faultline::checkpoint::parse(Path::new("checkpoint.json"), json.as_bytes()).unwrap()
}

fn run_sequence(seed: u64, steps: usize) -> Result<(), String> {
    let mut run = Run::new(seed);
    for _ in 0..steps {
        if let Err(e) = run.step() {
            return Err(format!(
                "seed {seed}: {e}\nactions:\n  {}",
                run.log.join("\n  ")
            ));
        }
    }
    Ok(())
}

#[test]
fn the_engine_counts_what_was_written_through_any_sequence_of_file_actions() {
    let sequences: u64 = std::env::var("FAULTLINE_MODEL_SEQUENCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let seeds: Vec<u64> = match std::env::var("FAULTLINE_MODEL_SEED") {
        Ok(s) => vec![s.parse().expect("FAULTLINE_MODEL_SEED is a number")],
        Err(_) => (1..=sequences).collect(),
    };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let seeds = &seeds;
                s.spawn(move || {
                    let mut failed = Vec::new();
                    for seed in seeds.iter().skip(k).step_by(threads) {
                        if let Err(e) = run_sequence(*seed, 16) {
                            failed.push(e);
                            if failed.len() >= 3 {
                                break;
                            }
                        }
                    }
                    failed
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} sequence(s) failed; replay one with FAULTLINE_MODEL_SEED=N\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

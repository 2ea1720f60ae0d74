//! Write-to-event latency of `faultline tail`, beside the `tail -F | grep`
//! pipeline people use today, plus the agent's CPU time while its logs are
//! idle.
//!
//! A writer appends single lines, each with a code and a sequence number,
//! at random intervals (1–20 ms), one `write(2)` per line, and notes when
//! each write returned. A reader takes the tool's output line by line and
//! notes when each line arrived. Latency = arrival − write. Both tools run
//! on the same kind of file in the same run.
//!
//! Then the same through a symlink (`link.log -> real.log`, the writer
//! appends to `real.log`), and the agent's CPU time, peak RSS and
//! descriptors while `FILES` (2,000) files stay idle for `IDLE_SECS` (30).
//!
//! Run: `cargo bench --bench tail_latency` (about 80 s; `LINES=N` changes the
//! number of lines per tool, default 1000). Needs `tail` and `grep`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CODES: &str = include_str!("../fixtures/matcher/codes.txt");

/// A small deterministic random source (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

struct Stats {
    p50: f64,
    p99: f64,
    max: f64,
    n: usize,
}

fn stats(mut ms: Vec<f64>) -> Stats {
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let at = |q: f64| ms[((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1];
    Stats {
        p50: at(0.50),
        p99: at(0.99),
        max: *ms.last().unwrap(),
        n: ms.len(),
    }
}

/// Stops `child` and, when it leads one, its process group (the pipeline).
fn stop(child: &mut Child) {
    // SAFETY: kill(2) on our own child's pid and the group it may lead.
    unsafe {
        libc::kill(-(child.id() as i32), libc::SIGTERM);
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let _ = child.wait();
}

/// How a tool's output line names the written line it reports.
#[derive(Clone, Copy)]
enum Output {
    /// The line itself, with its `seq=N` (grep).
    Text,
    /// A JSON event with the byte `offset` of the code (faultline).
    Event,
}

/// The number after `key` in `line`.
fn number_after(line: &str, key: &str) -> Option<u64> {
    let rest = line.split(key).nth(1)?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Runs `child` (whose stdout carries one line per hit) while a writer
/// appends `lines` lines to `log`; returns the latencies in milliseconds.
fn measure(mut child: Child, log: &Path, output: Output, lines: usize, seed: u64) -> Vec<f64> {
    let stdout = child.stdout.take().unwrap();
    let arrivals: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; lines + 1]));
    // The byte offset of each written line's code, and its sequence number:
    // recorded before the write, so the reader always finds it.
    let code_at: Arc<Mutex<HashMap<u64, usize>>> = Arc::default();
    let reader = {
        let arrivals = arrivals.clone();
        let code_at = code_at.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let now = Instant::now();
                let seq = match output {
                    Output::Text => number_after(&line, "seq=").map(|n| n as usize),
                    Output::Event => number_after(&line, "\"offset\":")
                        .and_then(|o| code_at.lock().unwrap().get(&o).copied()),
                };
                if let Some(n) = seq {
                    arrivals.lock().unwrap()[n].get_or_insert(now);
                }
            }
        })
    };
    let mut f = std::fs::OpenOptions::new().append(true).open(log).unwrap();
    let mut size = f.metadata().unwrap().len();
    let mut append = |seq: usize, line: &str| {
        let code = line.find("code=").unwrap() as u64 + "code=".len() as u64;
        code_at.lock().unwrap().insert(size + code, seq);
        f.write_all(line.as_bytes()).unwrap();
        size += line.len() as u64;
    };
    // Line 0 is a warm-up: wait until the tool shows it, so it is ready.
    let deadline = Instant::now() + Duration::from_secs(10);
    while arrivals.lock().unwrap()[0].is_none() {
        append(0, "warm-up seq=0 code=Ecs.0013\n");
        std::thread::sleep(Duration::from_millis(200));
        if Instant::now() >= deadline {
            stop(&mut child);
            panic!("the tool never answered");
        }
    }
    let mut rng = Rng(seed | 1);
    let mut written = vec![None; lines + 1];
    for (i, at) in written.iter_mut().enumerate().skip(1) {
        std::thread::sleep(Duration::from_micros(1000 + rng.below(19_000)));
        let line =
            format!("2026-11-23T10:00:00Z ERROR req failed seq={i} code=Ecs.0013 retrying\n");
        append(i, &line);
        *at = Some(Instant::now());
    }
    // Let the last lines arrive, then stop the tool.
    let deadline = Instant::now() + Duration::from_secs(5);
    while arrivals.lock().unwrap()[1..].iter().any(Option::is_none) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    stop(&mut child);
    let _ = reader.join();
    let arrivals = arrivals.lock().unwrap();
    let mut ms = Vec::new();
    for i in 1..=lines {
        let a = arrivals[i].expect("every line arrives");
        let w = written[i].unwrap();
        // An arrival before the write returned counts as zero.
        ms.push(a.saturating_duration_since(w).as_secs_f64() * 1000.0);
    }
    ms
}

fn faultline() -> &'static str {
    env!("CARGO_BIN_EXE_faultline")
}

fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line.
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let lines: usize = std::env::var("LINES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    let codes = dir.path().join("codes.txt");
    std::fs::write(&codes, CODES).unwrap();

    let log = dir.path().join("faultline.log");
    std::fs::write(&log, b"").unwrap();
    let child = Command::new(faultline())
        .args([
            "tail",
            "--interval",
            "1h",
            "--summaries",
            "/dev/null",
            "--events",
            "-",
        ])
        .arg(&log)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let ours = stats(measure(child, &log, Output::Event, lines, 7));

    // Through a symlink, as in Kubernetes' /var/log/containers: the tool
    // follows link.log, the writer appends to the file it points to.
    let real = dir.path().join("real.log");
    std::fs::write(&real, b"").unwrap();
    let link = dir.path().join("link.log");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let child = Command::new(faultline())
        .args([
            "tail",
            "--interval",
            "1h",
            "--summaries",
            "/dev/null",
            "--events",
            "-",
        ])
        .arg(&link)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let linked = stats(measure(child, &real, Output::Event, lines, 7));

    let log2 = dir.path().join("grep.log");
    std::fs::write(&log2, b"").unwrap();
    let pipeline = format!(
        "exec tail -F -n 0 {} | grep --line-buffered -F -f {}",
        log2.display(),
        codes.display()
    );
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &pipeline]).stdout(Stdio::piped());
    // Its own process group, so both ends of the pipeline are stopped.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let theirs = stats(measure(cmd.spawn().unwrap(), &log2, Output::Text, lines, 7));

    println!("write-to-event latency, {lines} lines at random 1-20 ms intervals (ms):");
    println!(
        "{:<28} {:>8} {:>8} {:>8} {:>6}",
        "", "p50", "p99", "max", "n"
    );
    for (name, s) in [
        ("faultline tail --events -", &ours),
        ("  the same, through a link", &linked),
        ("tail -F | grep -F -f", &theirs),
    ] {
        println!(
            "{name:<28} {:>8.3} {:>8.3} {:>8.3} {:>6}",
            s.p50, s.p99, s.max, s.n
        );
    }

    // Idle CPU and memory: FILES files (default 2,000) that nobody writes,
    // for IDLE_SECS seconds (default 30), after a 2 s start.
    let files: usize = std::env::var("FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let idle_secs: u64 = std::env::var("IDLE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let idle = dir.path().join("idle");
    std::fs::create_dir(&idle).unwrap();
    for i in 0..files {
        std::fs::write(idle.join(format!("f{i:04}.log")), b"start Ecs.0013\n").unwrap();
    }
    let mut child = Command::new(faultline())
        .args(["tail", "--summaries", "/dev/null"])
        .arg(idle.join("*.log"))
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let before = cpu_ticks(child.id());
    std::thread::sleep(Duration::from_secs(idle_secs));
    let used = cpu_ticks(child.id()) - before;
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: ?")
        .to_string();
    let fds = std::fs::read_dir(format!("/proc/{}/fd", child.id()))
        .map(|d| d.count())
        .unwrap_or(0);
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let _ = child.wait();
    // Clock ticks are 1/100 s on Linux.
    println!(
        "idle: {files} files, default 10 s windows and 1 s poll: {} ms CPU in {idle_secs} s ({:.2} % of a core); peak RSS {}; {fds} descriptors",
        used * 10,
        used as f64 / idle_secs as f64,
        hwm.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")
    );
}

//! `faultline tail` and the many names of a file (SPEC section 3, `tail`):
//! symlinks in the Kubernetes layout, through kubelet rotation and
//! re-pointed links; one file reached by several arguments; faultline's
//! own outputs matched by its arguments; a code at the very end of a file
//! that goes away. Real binary, real files, real symlinks; every expected
//! total is counted by the test from what it wrote, one line at a time.

mod support;

use support::agent::{Agent, summaries};

use serde_json::Value;
use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// What a test wrote: the expected totals.
#[derive(Default, Debug, Clone, PartialEq)]
struct Written {
    lines: u64,
    bytes: u64,
    hits: u64,
}

impl Written {
    /// `n` lines, every other one with a known code.
    fn lines(&mut self, tag: &str, n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n {
            let line = if i % 2 == 0 {
                self.hits += 1;
                format!("{tag} {i} ERROR quota exceeded Ecs.0013 for the request\n")
            } else {
                format!("{tag} {i} INFO all fine\n")
            };
            out.extend_from_slice(line.as_bytes());
        }
        self.lines += n as u64;
        self.bytes += out.len() as u64;
        out
    }
}

fn append(path: &Path, bytes: &[u8]) {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
}

/// Starts `tail` in `dir` with summaries to `summaries` (not matched by
/// the patterns unless the test means it); returns once it has written a
/// window.
fn start(dir: &Path, summaries: &Path, args: &[&str]) -> Agent {
    Agent::start(dir, summaries, args, Stdio::null())
}

/// SIGTERM, bounded wait, exit 0; the last summary's totals.
fn stop(agent: Agent) -> Written {
    let path = agent.summaries.clone();
    agent.stop();
    totals(summaries(&path).last().unwrap())
}

fn totals(v: &Value) -> Written {
    let t = &v["totals"];
    Written {
        lines: t["lines"].as_u64().unwrap(),
        bytes: t["bytes"].as_u64().unwrap(),
        hits: t["hits"].as_u64().unwrap(),
    }
}

/// Waits (bounded) until the agent's totals are `want`; they must never
/// go past it.
fn wait_for(agent: &Agent, want: &Written) {
    wait_within(agent, want, Duration::from_secs(10));
}

fn wait_within(agent: &Agent, want: &Written, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(last) = summaries(&agent.summaries).last() {
            let got = totals(last);
            assert!(
                got.bytes <= want.bytes && got.hits <= want.hits,
                "counted more than written: {got:?}, want {want:?}"
            );
            if got == *want {
                return;
            }
            assert!(Instant::now() < deadline, "totals {got:?}, want {want:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Points `link` at `target` atomically, as kubelet does (a new link
/// renamed over the old one).
fn repoint(link: &Path, target: &Path) {
    let tmp = link.with_extension("tmp-link");
    symlink(target, &tmp).unwrap();
    std::fs::rename(&tmp, link).unwrap();
}

#[test]
fn kubernetes_links_are_followed_through_kubelet_rotation_and_container_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let pod = root.join("pods/shop_cart-7d9f_0a1b2c/cart");
    let containers = root.join("containers");
    std::fs::create_dir_all(&pod).unwrap();
    std::fs::create_dir_all(&containers).unwrap();
    let mut w = Written::default();
    // One link present at start, one created later.
    let log0 = pod.join("0.log");
    append(&log0, &w.lines("before", 10));
    let link = containers.join("cart-7d9f_shop_cart-abc.log");
    symlink(&log0, &link).unwrap();
    let agent = start(
        root,
        &root.join("summaries.jsonl"),
        &["--from", "beginning", "containers/*.log"],
    );
    wait_for(&agent, &w);
    append(&log0, &w.lines("live", 20));
    wait_for(&agent, &w);

    let other = root.join("pods/shop_web-1_ffee/web");
    std::fs::create_dir_all(&other).unwrap();
    append(&other.join("0.log"), &w.lines("web", 7));
    symlink(
        other.join("0.log"),
        containers.join("web-1_shop_web-def.log"),
    )
    .unwrap();
    wait_for(&agent, &w);

    // kubelet rotation behind the link: 0.log renamed, a new 0.log.
    std::fs::rename(&log0, pod.join("0.log.20261130-010203")).unwrap();
    append(&log0, &w.lines("rotated", 15));
    wait_for(&agent, &w);
    append(&log0, &w.lines("rotated-more", 5));
    wait_for(&agent, &w);

    // The container restarts: 1.log, and the link is re-pointed.
    let log1 = pod.join("1.log");
    append(&log1, &w.lines("restarted", 12));
    repoint(&link, &log1);
    wait_for(&agent, &w);
    append(&log1, &w.lines("restarted-more", 9));
    wait_for(&agent, &w);
    assert_eq!(stop(agent), w);
}

#[test]
fn a_file_reached_by_several_names_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let log = root.join("app.log");
    let mut w = Written::default();
    append(&log, &w.lines("start", 6));
    symlink(&log, root.join("link.log")).unwrap();
    let abs = log.to_string_lossy().into_owned();
    let agent = start(
        root,
        &root.join("summaries.jsonl"),
        &[
            "--from",
            "beginning",
            "app.log",
            "./app.log",
            &abs,
            "link.log",
            "*.log",
        ],
    );
    wait_for(&agent, &w);
    append(&log, &w.lines("more", 11));
    wait_for(&agent, &w);
    // A second link appears later.
    symlink(&log, root.join("another.log")).unwrap();
    append(&log, &w.lines("late", 3));
    wait_for(&agent, &w);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(stop(agent), w);
}

#[test]
fn its_own_events_summaries_and_state_are_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut w = Written::default();
    // Every output inside what the arguments match.
    let agent = start(
        root,
        &root.join("summaries.log"),
        &[
            "--from",
            "beginning",
            "--events",
            "hits.log",
            "--state-dir",
            "state",
            "*.log",
            "state",
        ],
    );
    append(&root.join("app.log"), &w.lines("app", 4));
    wait_for(&agent, &w);
    // Time for feedback to show (it grows by itself when it happens).
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(stop(agent), w);
    let events = std::fs::read_to_string(root.join("hits.log")).unwrap();
    assert_eq!(events.lines().count() as u64, w.hits, "{events}");
}

#[test]
fn a_code_at_the_very_end_of_a_file_that_goes_away_counts() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut w = Written::default();
    let (deleted, renamed) = (root.join("gone.log"), root.join("moved.log"));
    let agent = start(
        root,
        &root.join("summaries.jsonl"),
        &["--from", "beginning", "gone.log", "moved.log"],
    );
    // Different content: the same content would be a copy of the other.
    for (f, tag) in [(&deleted, "deleted"), (&renamed, "renamed")] {
        append(f, &w.lines(tag, 3));
        // No newline: undecided until the end of the input.
        append(f, b"error IMG.0015");
        w.bytes += 14;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while summaries(&agent.summaries)
        .last()
        .is_none_or(|s| totals(s).bytes < w.bytes)
    {
        assert!(Instant::now() < deadline, "the bytes were not read");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Deleted, and renamed out of every pattern: once they have not grown
    // for the grace period (2 s), their ends are final, as at the end of a
    // scanned file, and counted while the agent runs, not only at its end.
    std::fs::remove_file(&deleted).unwrap();
    std::fs::rename(&renamed, root.join("moved.log.old")).unwrap();
    w.hits += 2;
    w.lines += 2;
    wait_for(&agent, &w);
    assert_eq!(stop(agent), w);
}

#[test]
fn a_code_at_the_end_of_stdin_counts_at_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut agent = Agent::start(root, &root.join("summaries.jsonl"), &["-"], Stdio::piped());
    let mut stdin = agent.child.stdin.take().unwrap();
    stdin.write_all(b"one line\nerror IMG.0015").unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while summaries(&agent.summaries)
        .last()
        .is_none_or(|s| totals(s).bytes < 23)
    {
        assert!(Instant::now() < deadline, "stdin was not read");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SIGTERM with stdin still open: its end is the end of the input.
    let got = stop(agent);
    drop(stdin);
    assert_eq!(
        got,
        Written {
            lines: 2,
            bytes: 23,
            hits: 1
        }
    );
}

/// The followed files a process holds open now, from `/proc/PID/fd`.
fn open_logs(pid: u32, dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|p| p.starts_with(dir) && p.extension().is_some_and(|e| e == "log"))
        .collect()
}

#[test]
fn more_files_than_descriptors_are_all_read_once_as_descriptors_free_up() {
    const FILES: usize = 600;
    const NOFILE: u64 = 256;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let logs = root.join("logs");
    std::fs::create_dir(&logs).unwrap();
    let summaries = root.join("summaries.jsonl");
    let paths: Vec<PathBuf> = (0..FILES)
        .map(|i| logs.join(format!("app-{i:04}.log")))
        .collect();
    let mut w = Written::default();
    for (i, p) in paths.iter().enumerate() {
        append(p, &w.lines(&format!("f{i} first"), 2));
    }
    let args = ["--from", "beginning", "--state-dir", "state", "logs/*.log"];
    // Without pressure first, so a checkpoint holds every file's position.
    let agent = start(root, &summaries, &args);
    wait_within(&agent, &w, Duration::from_secs(60));
    assert_eq!(stop(agent), w);

    // Restarted under a limit of 256 descriptors, with more written to
    // every file: the files without a descriptor keep their saved
    // positions (never read again from their beginning) and wait.
    for (i, p) in paths.iter().enumerate() {
        append(p, &w.lines(&format!("f{i} second"), 2));
    }
    let agent = Agent::start_limited(root, &summaries, &args, Stdio::null(), Some(NOFILE));
    let pid = agent.child.id();
    // Files read to their end are deleted (a deleted followed file is
    // still read to its end): their descriptors free up after the grace
    // period, and the waiting files are opened.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut rounds = 0;
    loop {
        let got = support::agent::summaries(&summaries)
            .last()
            .map(totals)
            .unwrap();
        assert!(
            got.bytes <= w.bytes && got.hits <= w.hits,
            "counted more than written: {got:?}, want {w:?}"
        );
        if got == w {
            break;
        }
        assert!(Instant::now() < deadline, "totals {got:?}, want {w:?}");
        let open = open_logs(pid, &logs);
        assert!(open.len() < NOFILE as usize, "{} files open", open.len());
        let mut deleted = 0;
        for p in open.iter().filter(|p| p.exists()) {
            std::fs::remove_file(p).unwrap();
            deleted += 1;
        }
        if deleted > 0 {
            rounds += 1;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(rounds >= 2, "the limit should have kept files waiting");
    let stderr_path = agent.stderr.clone();
    assert_eq!(stop(agent), w);
    let stderr = std::fs::read_to_string(stderr_path).unwrap();
    let warnings = stderr
        .lines()
        .filter(|l| l.starts_with("faultline: warn:"))
        .count();
    assert!(
        warnings <= 2 * rounds,
        "warned {warnings} times in {rounds} rounds:\n{stderr}"
    );
}

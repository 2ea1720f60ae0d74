//! `faultline tail` as an agent under test: started in a directory with
//! its summaries in a file, waited for until it has written a window (by
//! then it has taken up its files, so what a test writes next is new to
//! it), stopped by pid whatever the test's outcome, with its stderr shown
//! when a test fails; and the summaries it wrote, read back.

use serde_json::Value;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `faultline tail`; killed and reaped when dropped.
pub struct Agent {
    pub child: Child,
    pub summaries: PathBuf,
    pub stderr: PathBuf,
}

impl Agent {
    /// `faultline --log-level L tail --interval 100ms --poll-interval
    /// 100ms --summaries SUMMARIES ARGS...` in `dir` (L: `info`, or
    /// `FAULTLINE_TEST_LOG` to see why an agent did what it did), stdin
    /// from `stdin`; returns once it has written a summary beyond those
    /// already in `summaries`.
    pub fn start(dir: &Path, summaries: &Path, args: &[&str], stdin: Stdio) -> Agent {
        Agent::start_limited(dir, summaries, args, stdin, None)
    }

    /// [`Agent::start`] with, when `nofile` is given, that soft and hard
    /// RLIMIT_NOFILE set in the child before exec (as `prlimit
    /// --nofile=N:N` would).
    pub fn start_limited(
        dir: &Path,
        summaries: &Path,
        args: &[&str],
        stdin: Stdio,
        nofile: Option<u64>,
    ) -> Agent {
        let before = self::summaries(summaries).len();
        // Not `*.log`: an agent must not follow its own diagnostics.
        let stderr = dir.join(format!("agent-stderr.{before}.txt"));
        let level = std::env::var("FAULTLINE_TEST_LOG").unwrap_or_else(|_| "info".into());
        let mut cmd = Command::new(super::bin_path());
        if let Some(n) = nofile {
            // SAFETY: setrlimit is async-signal-safe; it only reads `lim`.
            unsafe {
                cmd.pre_exec(move || {
                    let lim = libc::rlimit {
                        rlim_cur: n,
                        rlim_max: n,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let child = cmd
            .current_dir(dir)
            .args(["--log-level", &level])
            .args(["tail", "--interval", "100ms", "--poll-interval", "100ms"])
            .arg("--summaries")
            .arg(summaries)
            .args(args)
            .stdin(stdin)
            .stdout(Stdio::null())
            // A file, not a pipe: a chatty agent must never block on it.
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let agent = Agent {
            child,
            summaries: summaries.to_path_buf(),
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while self::summaries(&agent.summaries).len() <= before {
            assert!(Instant::now() < deadline, "tail wrote no summary");
            std::thread::sleep(Duration::from_millis(10));
        }
        agent
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, sig);
        }
    }

    /// SIGTERM and wait (bounded); the exit status must be 0. Its stderr.
    pub fn stop(mut self) -> String {
        self.signal(libc::SIGTERM);
        let status = wait_bounded(&mut self.child, Duration::from_secs(10));
        let stderr = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        assert!(status.success(), "tail exited {status:?}: {stderr}");
        stderr
    }

    pub fn kill9(mut self) {
        self.signal(libc::SIGKILL);
        wait_bounded(&mut self.child, Duration::from_secs(10));
    }

    /// Peak resident memory so far (VmHWM), in bytes.
    pub fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/PID/status");
        kb * 1024
    }
}

/// A test that fails half-way still stops its agent.
impl Drop for Agent {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.stderr).unwrap_or_default();
            eprintln!("--- agent's stderr ---\n{log}--- end ---");
        }
    }
}

/// Waits for `child` to exit, at most `limit`; then kills it and fails.
pub fn wait_bounded(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("process {} did not exit within {limit:?}", child.id());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The summaries in `path` so far: its whole JSON lines (a line being
/// written is skipped).
pub fn summaries(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

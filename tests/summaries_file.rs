//! `tail --summaries FILE` holds whole lines only, whatever happened
//! before and whatever the disk does: a file left ending in a torn line is
//! continued on a line of its own, and a full file system (a real one: a
//! 64 KiB tmpfs, which needs root) makes the agent warn and retry, never
//! stop, never leave half a line, never lose a window once there is room
//! again.

mod support;

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::append;
use support::services::{Proc, wait_for};

/// A code of the checked-in catalog (read independently of faultline).
fn known_code() -> String {
    support::catalog().keys().next().unwrap().clone()
}

/// `faultline tail --from beginning` on `log`, summaries every 200 ms.
fn start_tail(dir: &Path, log: &Path, summaries: &Path) -> Proc {
    let mut cmd = Command::new(support::bin_path());
    cmd.current_dir(dir)
        .args(["tail", "--from", "beginning", "--interval", "200ms"])
        .args(["--poll-interval", "100ms", "--log-level", "info"])
        .arg("--summaries")
        .arg(summaries)
        .arg(log);
    Proc::start("faultline", cmd, dir)
}

/// The summaries of `text` after its first `skip` lines; every line must
/// be a whole JSON object ending in a newline.
fn summaries_after(text: &str, skip: usize) -> Vec<Value> {
    assert!(
        text.ends_with('\n'),
        "the file ends in a torn line: {text:?}"
    );
    text.lines()
        .skip(skip)
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .unwrap_or_else(|e| panic!("not a whole summary line ({e}): {l:?}\nfile:\n{text}"))
        })
        .collect()
}

/// Windows follow each other with no gap (none lost) and their hits add
/// up to `hits`.
fn assert_contiguous(windows: &[Value], hits: u64) {
    for pair in windows.windows(2) {
        assert_eq!(
            pair[0]["window_end"], pair[1]["window_start"],
            "a window is missing between {} and {}",
            pair[0], pair[1]
        );
    }
    let sum: u64 = windows.iter().map(|w| w["hits"].as_u64().unwrap()).sum();
    assert_eq!(sum, hits, "hits over all windows");
}

#[test]
fn a_torn_last_line_is_ended_before_the_first_new_summary() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let log = dir.join("app.log");
    let code = known_code();
    append(&log, &format!("boot\nerror {code} quota\n"));
    let summaries = dir.join("summaries.jsonl");
    let earlier = "{\"window_start\":\"2026-11-30T00:00:00Z\",\"lines\":1}\n";
    let torn = "{\"window_start\":\"2026-11-30T00:00:10Z\",\"lin";
    append(&summaries, &format!("{earlier}{torn}"));

    let mut fl = start_tail(dir, &log, &summaries);
    wait_for(Duration::from_secs(10), "two new summaries", || {
        fl.assert_running();
        let text = std::fs::read_to_string(&summaries).unwrap();
        (text.lines().count() >= 4).then_some(()).ok_or(text)
    });
    let status = fl.terminate(Duration::from_secs(10));
    assert!(status.is_some_and(|s| s.success()), "{}", fl.log_text());

    let text = std::fs::read_to_string(&summaries).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(earlier.trim_end()));
    assert_eq!(lines.next(), Some(torn), "the torn line is kept, ended");
    let windows = summaries_after(&text, 2);
    assert!(windows.len() >= 2, "{text}");
    assert_contiguous(&windows, 1);
}

/// A tmpfs of 64 KiB mounted on a directory; unmounted when dropped.
struct SmallFs(PathBuf);

impl SmallFs {
    /// None, with the reason, where it cannot be had.
    fn mount(dir: &Path) -> Result<SmallFs, String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("not root: mounting a small tmpfs needs root".into());
        }
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed (no CAP_SYS_ADMIN in this container?): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(SmallFs(dir.to_path_buf()))
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Fills the file system of `path` up: writes to it until ENOSPC.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    let block = [b'x'; 512];
    loop {
        match f.write(&block) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
            Err(e) => panic!("filling {}: {e}", path.display()),
        }
    }
}

#[test]
fn a_full_disk_is_reported_and_retried_never_fatal_never_torn() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let mnt = dir.join("small");
    std::fs::create_dir(&mnt).unwrap();
    let fs = match SmallFs::mount(&mnt) {
        Ok(fs) => fs,
        Err(why) => {
            eprintln!("SKIPPED a_full_disk_is_reported_and_retried_never_fatal_never_torn: {why}");
            return;
        }
    };
    let log = dir.join("app.log");
    let code = known_code();
    let hits = 3;
    append(
        &log,
        &format!("error {code} a\nerror {code} b\nerror {code} c\n"),
    );

    // Earlier whole lines that fill all but ~100 bytes of a 4 KiB page,
    // then the rest of the file system: the next summary gets the page's
    // last bytes and then ENOSPC, a short write.
    let summaries = mnt.join("summaries.jsonl");
    let filler_line = format!("{{\"earlier\":\"{}\"}}\n", "y".repeat(64));
    let earlier = filler_line.repeat((4096 - 100) / filler_line.len());
    append(&summaries, &earlier);
    let earlier_lines = earlier.lines().count();
    let ballast = mnt.join("ballast");
    fill(&ballast);

    let mut fl = start_tail(dir, &log, &summaries);
    // Ten windows or so on a full disk: the agent keeps going.
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(100));
        fl.assert_running();
    }
    let text = std::fs::read_to_string(&summaries).unwrap();
    assert_eq!(text, earlier, "nothing, not even part of a line, fits");
    assert!(
        fl.log_text().contains("No space left on device"),
        "the full disk is reported:\n{}",
        fl.log_text()
    );

    // Room again: the kept summaries go out, in order, with the next one.
    std::fs::remove_file(&ballast).unwrap();
    wait_for(Duration::from_secs(10), "the kept summaries", || {
        fl.assert_running();
        let text = std::fs::read_to_string(&summaries).unwrap();
        (text.lines().count() >= earlier_lines + 12)
            .then_some(())
            .ok_or(text)
    });
    let status = fl.terminate(Duration::from_secs(10));
    assert!(status.is_some_and(|s| s.success()), "{}", fl.log_text());
    let text = std::fs::read_to_string(&summaries).unwrap();
    assert!(text.starts_with(&earlier));
    let windows = summaries_after(&text, earlier_lines);
    assert_contiguous(&windows, hits);
    drop(fs);
}

#[test]
fn a_file_size_limit_is_reported_and_retried_not_a_signal_death() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let log = dir.join("app.log");
    let code = known_code();
    append(&log, &format!("error {code} a\n"));
    // Whole earlier lines up to 100 bytes short of the limit: the next
    // summary crosses it.
    const LIMIT: u64 = 64 * 1024;
    let summaries = dir.join("summaries.jsonl");
    let line = format!("{{\"earlier\":\"{}\"}}\n", "y".repeat(64));
    let earlier = line.repeat((LIMIT as usize - 100) / line.len());
    append(&summaries, &earlier);

    let mut cmd = Command::new(support::bin_path());
    cmd.current_dir(dir)
        .args(["tail", "--from", "beginning", "--interval", "200ms"])
        .args(["--poll-interval", "100ms", "--log-level", "info"])
        .arg("--summaries")
        .arg(&summaries)
        .arg(&log);
    // SAFETY: only setrlimit, async-signal-safe, between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: LIMIT,
                rlim_max: LIMIT,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut fl = Proc::start("faultline", cmd, dir);
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(100));
        fl.assert_running();
    }
    assert!(
        fl.log_text().contains("File too large"),
        "the limit is reported:\n{}",
        fl.log_text()
    );
    let status = fl.terminate(Duration::from_secs(10));
    assert!(status.is_some_and(|s| s.success()), "{}", fl.log_text());
    let text = std::fs::read_to_string(&summaries).unwrap();
    assert!(text.starts_with(&earlier));
    // Whatever fitted is whole lines.
    summaries_after(&text, earlier.lines().count());
}

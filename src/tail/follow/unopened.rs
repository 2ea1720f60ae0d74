//! Descriptor pressure: a followed file holds a descriptor, and there are
//! only so many (RLIMIT_NOFILE). A file the patterns match that cannot be
//! opened (the follower budget is spent, or `open` fails with EMFILE or
//! ENFILE) is not lost and not read twice: it stays known by its path and
//! identity (`stat` needs no descriptor), with where it is to be read
//! from, and is opened at a later poll once descriptors free up (followed
//! files finished or deleted). Saved positions of such files stay in the
//! checkpoint unchanged. One warning per episode of pressure, not one per
//! file per poll.
//!
//! Cost: while files wait, each poll tries to open the first of them; the
//! first failure ends the attempt, so a thousand waiting files cost one
//! failed `open` and a `stat` each a poll.

use super::super::identity::{Candidate, Key, key_of};
use super::Tailer;
use crate::checkpoint::FileState;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Descriptors kept free of followed files, for the outputs, the
/// checkpoint's writes, the metrics server's connections and the runtime.
pub const DESCRIPTOR_RESERVE: u64 = 64;

/// A matched file not opened yet for want of a descriptor.
pub(in super::super) struct Unopened {
    pub path: PathBuf,
    pub key: Key,
    pub from: Pending,
}

/// Where a file waiting for a descriptor is to be read from once opened.
pub(in super::super) enum Pending {
    /// Met after start, or at start without saved state: its beginning.
    Beginning,
    /// Present at start under `--from end`: this size then (what was
    /// written after start is read).
    End(u64),
    /// Its saved position, given back if its content still matches.
    Saved(FileState),
}

/// What opening a matched file gave.
pub(super) enum Opening {
    Opened(Candidate),
    /// Not to be followed (gone, unreadable, compressed, its own output).
    Skipped,
    /// No descriptor for it: known by this identity.
    NoDescriptor(Key),
}

/// Whether an `open` failed for want of descriptors (of the process, or of
/// the system).
fn out_of_descriptors(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

impl Tailer {
    /// Opens a matched file, unless it is compressed (skipped in tail
    /// mode) or one of faultline's own outputs; tells when there is no
    /// descriptor for it (the budget is spent, or the kernel said so).
    pub(super) fn open(&mut self, path: &Path) -> Opening {
        self.open_besides(path, 0)
    }

    /// [`Tailer::open`] when `opened` files were opened besides the
    /// followers (candidates at start, not followed yet).
    pub(super) fn open_besides(&mut self, path: &Path, opened: usize) -> Opening {
        if self.in_own_dir(path) {
            return Opening::Skipped;
        }
        let spent = self
            .max_followers
            .is_some_and(|max| self.followers.len() + opened >= max);
        let opened = if spent {
            Err(io::Error::from_raw_os_error(libc::EMFILE))
        } else {
            Candidate::open(path)
        };
        match opened {
            Ok(c) if self.skipped.contains(&c.key) => Opening::Skipped,
            Ok(c) if c.compressed() => {
                log::debug!("{}: compressed, skipped in tail mode", path.display());
                self.skipped.insert(c.key);
                Opening::Skipped
            }
            Ok(c) => Opening::Opened(c),
            Err(e) if out_of_descriptors(&e) => match key_of(path) {
                Some(key) if !self.skipped.contains(&key) => {
                    self.warn_pressure(path, spent, &e);
                    Opening::NoDescriptor(key)
                }
                _ => Opening::Skipped,
            },
            // Gone between listing and opening, or unreadable: say so
            // once per look; it is tried again at the next one.
            Err(e) => {
                log::warn!("{}: {}", path.display(), crate::input::describe(&e));
                Opening::Skipped
            }
        }
    }

    /// Once per episode of pressure (until every waiting file is open).
    fn warn_pressure(&mut self, path: &Path, spent: bool, e: &io::Error) {
        if self.pressure_warned {
            return;
        }
        self.pressure_warned = true;
        let why = if spent {
            format!(
                "{} files followed, the most the descriptor limit allows with {DESCRIPTOR_RESERVE} kept free",
                self.max_followers.unwrap_or_default()
            )
        } else {
            format!("no file descriptor left ({e})")
        };
        log::warn!(
            "{}: {why}; it and further files wait, known by path, and are opened as followed files finish \
             (raise the hard limit, `ulimit -Hn` or LimitNOFILE=, to follow more at once)",
            path.display()
        );
    }

    /// Files waiting for a descriptor.
    pub fn files_unopened(&self) -> usize {
        self.unopened.len()
    }

    /// Whether the file `key` waits for a descriptor; it is known by `path`
    /// now (renamed while waiting).
    pub(super) fn waiting_at(&mut self, key: Key, path: &Path) -> bool {
        match self.unopened.iter_mut().find(|u| u.key == key) {
            Some(u) => {
                if u.path != path {
                    u.path = path.to_path_buf();
                }
                true
            }
            None => false,
        }
    }

    /// Adds a file that could not be opened, unless known already.
    pub(super) fn wait_for_descriptor(&mut self, path: PathBuf, key: Key, from: Pending) {
        if !self.waiting_at(key, &path) && !self.followers.iter().any(|f| f.key == key) {
            self.unopened.push(Unopened { path, key, from });
        }
    }

    /// Waiting files whose path no longer leads to them (`present`: the
    /// identities the patterns match now) are dropped: never opened, they
    /// cannot be read.
    pub(super) fn forget_unmatched_waiting(&mut self, present: impl Fn(&Unopened) -> bool) {
        self.unopened.retain(|u| {
            let keep = present(u);
            if !keep {
                log::warn!(
                    "{}: gone before a descriptor was free for it; its content was not read",
                    u.path.display()
                );
            }
            keep
        });
    }

    /// Opens the waiting files, in the order they were met, until there is
    /// no descriptor left.
    pub(super) fn open_waiting(&mut self, now: Instant) {
        while !self.unopened.is_empty() {
            let (path, key) = (self.unopened[0].path.clone(), self.unopened[0].key);
            if key_of(&path) != Some(key) {
                // Renamed or deleted since; a full look finds it again
                // if its new name is matched.
                let u = self.unopened.remove(0);
                log::info!("{}: no longer at its path while waiting", u.path.display());
                continue;
            }
            match self.open(&path) {
                Opening::NoDescriptor(_) => return,
                Opening::Skipped => {
                    self.unopened.remove(0);
                }
                Opening::Opened(c) => {
                    let u = self.unopened.remove(0);
                    self.take_up(c, u.from, now);
                }
            }
        }
        if self.pressure_warned {
            self.pressure_warned = false;
            log::info!("every matched file is open now");
        }
    }
}

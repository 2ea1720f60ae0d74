//! Sightings: what a look at the paths (a full look, the paths of
//! file-system events, the poll) means for the followed files. A path
//! leads to a followed file (back at its path, or renamed to this one), to
//! a new file, or no longer to the file that had it (gone). Links are
//! followed by identity; their targets' directories are watched too.

use super::super::discovery::{self, Sighting};
use super::super::identity::{Key, key_of};
use super::super::k8s;
use super::Tailer;
use super::unopened::{Opening, Pending};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where `path` leads when it is a symlink.
pub(super) fn link_target(path: &Path) -> Option<PathBuf> {
    std::fs::symlink_metadata(path)
        .is_ok_and(|m| m.file_type().is_symlink())
        .then(|| std::fs::canonicalize(path).ok())
        .flatten()
}

impl Tailer {
    /// A path the patterns match leads to the file `key`: a followed file
    /// (back at its path, or renamed to this one) or a new one. `index`
    /// maps keys to followers as of the start of the look.
    fn sighted(&mut self, path: PathBuf, key: Key, now: Instant, index: &mut HashMap<Key, usize>) {
        if self.skipped.contains(&key) {
            return;
        }
        // Followers added during this look are not in the index.
        let i = index
            .get(&key)
            .copied()
            .filter(|&i| self.followers.get(i).is_some_and(|f| f.key == key))
            .or_else(|| self.followers.iter().position(|f| f.key == key));
        let Some(i) = i else {
            if self.waiting_at(key, &path) {
                return;
            }
            match self.open(&path) {
                Opening::Opened(c) => self.add_new(c, now),
                Opening::NoDescriptor(key) => {
                    self.wait_for_descriptor(path, key, Pending::Beginning)
                }
                Opening::Skipped => {}
            }
            return;
        };
        index.insert(key, i);
        let f = &mut self.followers[i];
        f.state.find_path();
        // Another name of the same file (`./a.log`, a link): one file, one
        // follower; it keeps its name while that still leads to it.
        f.state.saw_data(now);
        if f.path != path && key_of(&f.path) != Some(key) {
            log::info!("{}: renamed to {}", f.path.display(), path.display());
            f.target = link_target(&path);
            f.source = k8s::source_json(&path, f.target.as_deref());
            f.path = path;
        }
    }

    /// Follower `i`'s path no longer leads to it.
    fn path_lost(&mut self, i: usize, now: Instant) {
        let f = &mut self.followers[i];
        if f.state.lose_path(now) {
            log::info!(
                "{}: gone from its path; reading it to its end",
                f.path.display()
            );
        }
    }

    fn index(&self) -> HashMap<Key, usize> {
        self.followers
            .iter()
            .enumerate()
            .map(|(i, f)| (f.key, i))
            .collect()
    }

    /// Looks at what the patterns match now: new files, renamed ones, and
    /// followed ones whose path no longer leads to them.
    pub fn rescan(&mut self, now: Instant) {
        // Followers by identity, so a look at a thousand files is not a
        // thousand scans of the followers.
        let mut index = self.index();
        let mut present: HashSet<Key> = HashSet::new();
        let (sightings, complete) = discovery::look_all(&self.patterns);
        for Sighting { path, key } in sightings {
            let key = key.expect("a full look sees files");
            if !self.skipped.contains(&key) {
                present.insert(key);
            }
            self.sighted(path, key, now, &mut index);
        }
        if !complete {
            // A directory could not be listed (no descriptor left, most
            // likely): what is missing is not known to be gone.
            log::debug!("a directory could not be listed; nothing is taken for gone");
            return;
        }
        self.forget_unmatched_waiting(|u| present.contains(&u.key));
        for i in 0..self.followers.len() {
            if present.contains(&self.followers[i].key) {
                self.followers[i].state.find_path();
            } else {
                self.path_lost(i, now);
            }
        }
    }

    /// Looks at just these paths (from file-system events that may have
    /// added, removed or renamed files): what is there now, and whether
    /// followers known by these paths are still there. The cheap form of
    /// [`Tailer::rescan`] for the usual event; the poll still does full
    /// looks, as the safety net.
    pub fn look_at(&mut self, paths: &[PathBuf], now: Instant) {
        // A change in a link target's directory (kubelet renamed 0.log and
        // made a new one) is a change behind the links into it.
        let mut paths = paths.to_vec();
        for f in &self.followers {
            let behind = f.target.as_deref().and_then(Path::parent);
            if behind.is_some_and(|d| paths.iter().any(|p| p.parent() == Some(d)))
                && !paths.contains(&f.path)
            {
                paths.push(f.path.clone());
            }
        }
        let paths = &paths[..];
        let (followers, waiting) = (&self.followers, &self.unopened);
        let known = |p: &Path| {
            followers
                .iter()
                .any(|f| f.path.as_os_str() == p.as_os_str())
                || waiting.iter().any(|u| u.path.as_os_str() == p.as_os_str())
        };
        let sightings: Vec<Sighting> = discovery::look_at(&self.patterns, paths, known).collect();
        let mut index = self.index();
        for Sighting { path, key } in sightings {
            // Followers that had this path and are no longer behind it.
            for i in 0..self.followers.len() {
                let f = &self.followers[i];
                if f.path.as_os_str() == path.as_os_str()
                    && Some(f.key) != key
                    && key_of(&f.path) != Some(f.key)
                {
                    self.path_lost(i, now);
                }
            }
            if let Some(key) = key {
                self.sighted(path, key, now, &mut index);
            }
        }
        self.forget_unmatched_waiting(|u| {
            !paths.contains(&u.path) || key_of(&u.path) == Some(u.key)
        });
    }

    /// Notes that `path` changed at `at`. False when no follower has that
    /// path (a new file: the caller should rescan).
    pub fn changed(&mut self, path: &Path, at: Instant) -> bool {
        let mut known = false;
        // Byte equality, not `Path`'s component-wise one: this runs for
        // every file-system event. Spellings that differ only in form
        // (`./a` and `a`) are "unknown" and cost a rescan, nothing more.
        let path = path.as_os_str();
        for f in self.followers.iter_mut().filter(|f| {
            f.path.as_os_str() == path || f.target.as_ref().is_some_and(|t| t.as_os_str() == path)
        }) {
            known = true;
            f.state.saw_data(at);
        }
        known
    }

    /// The directories of the files followed through symlinks: watched
    /// too, so that rotation behind a link is seen as it happens.
    pub fn link_target_dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = self
            .followers
            .iter()
            .filter_map(|f| Some(f.target.as_deref()?.parent()?.to_path_buf()))
            .collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }

    /// Whether a followed link no longer leads to its file (re-pointed, or
    /// its target rotated): the poll then looks at everything again even
    /// when no watched directory changed.
    pub fn links_moved(&self) -> bool {
        self.followers.iter().any(|f| {
            f.target.is_some()
                && f.state.is_read()
                && !f.state.path_gone()
                && key_of(&f.path) != Some(f.key)
        })
    }

    /// The safety-net poll: marks for reading every follower whose size or
    /// modification time changed since the last poll.
    pub fn poll(&mut self, at: Instant) {
        for f in &mut self.followers {
            if discovery::changed_since(&f.file, &mut f.polled) {
                f.state.saw_data(at);
            }
        }
        self.open_waiting(at);
    }
}

//! Starting and restarting: taking up the files present at start, from
//! the saved positions of a checkpoint or from their end or beginning, and
//! the checkpoint a restart resumes from. Positions are given back by
//! identity and content (see [`super`]), so a file renamed, copied or
//! replaced while faultline was stopped is neither re-read nor lost.

use super::super::identity::{Candidate, Key, read_at_most};
use super::super::state::{Progress, State};
use super::unopened::{Opening, Pending};
use super::{BUFFER_BYTES, Tailer};
use crate::checkpoint::{Checkpoint, FileState, Fingerprint, VERSION};
use crate::search::ResumePoint;
use crate::window::{CumulativeTotals, rfc3339};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

impl Tailer {
    /// Takes up the files the patterns match now: from the saved positions
    /// when there is a checkpoint, else from their end (`from_end`) or
    /// beginning.
    pub fn start(&mut self, saved: Option<&Checkpoint>, from_end: bool, now: Instant) {
        let (mut candidates, mut waiting) = self.candidates();
        let Some(cp) = saved else {
            for c in candidates {
                if from_end {
                    self.add_at_end(c, None, now);
                } else {
                    self.add_new(c, now);
                }
            }
            for (path, key) in waiting {
                // Read from its size now under `--from end`, once opened.
                let from = match std::fs::metadata(&path) {
                    Ok(m) if from_end => Pending::End(m.len()),
                    _ => Pending::Beginning,
                };
                self.wait_for_descriptor(path, key, from);
            }
            return;
        };
        let mut unmatched = Vec::new();
        // Same inode with the same content first; then content alone.
        for s in &cp.files {
            let scratch = &mut self.compare;
            let found = candidates.iter().position(|c| {
                c.key == (s.dev, s.ino) && c.view().holds(s.head, s.offset, s.before, scratch)
            });
            match found {
                Some(i) => self.resume(candidates.swap_remove(i), s, now),
                // Not opened for want of a descriptor: it keeps its saved
                // position (content checked once it is opened).
                None => match waiting.iter().position(|(_, k)| *k == (s.dev, s.ino)) {
                    Some(i) => {
                        let (path, key) = waiting.swap_remove(i);
                        self.wait_for_descriptor(path, key, Pending::Saved(s.clone()));
                    }
                    None => unmatched.push(s),
                },
            }
        }
        for s in unmatched {
            let scratch = &mut self.compare;
            if let Some(i) = candidates
                .iter()
                .position(|c| c.view().holds(s.head, s.offset, s.before, scratch))
            {
                self.resume(candidates.swap_remove(i), s, now);
            }
        }
        for c in candidates {
            self.add_new(c, now);
        }
        for (path, key) in waiting {
            self.wait_for_descriptor(path, key, Pending::Beginning);
        }
    }

    /// The files the patterns match now, each once: those opened, and
    /// those without a descriptor (path and identity).
    fn candidates(&mut self) -> (Vec<Candidate>, Vec<(PathBuf, Key)>) {
        let mut out = Vec::new();
        let mut waiting: Vec<(PathBuf, Key)> = Vec::new();
        for path in self.patterns.expand() {
            // One file reached by several names is followed once.
            match self.open_besides(&path, out.len()) {
                Opening::Opened(c) if !out.iter().any(|o: &Candidate| o.key == c.key) => {
                    out.push(c)
                }
                Opening::NoDescriptor(key)
                    if !waiting.iter().any(|(_, k)| *k == key)
                        && !out.iter().any(|o| o.key == key) =>
                {
                    waiting.push((path, key))
                }
                _ => {}
            }
        }
        (out, waiting)
    }

    /// A file that waited for a descriptor, opened now: read from where
    /// it was to be read from.
    pub(super) fn take_up(&mut self, c: Candidate, from: Pending, now: Instant) {
        match from {
            Pending::Beginning => self.add_new(c, now),
            Pending::End(size) => self.add_at_end(c, Some(size), now),
            Pending::Saved(s)
                if c.view()
                    .holds(s.head, s.offset, s.before, &mut self.compare) =>
            {
                self.resume(c, &s, now)
            }
            Pending::Saved(_) => self.add_new(c, now),
        }
    }

    fn resume(&mut self, c: Candidate, s: &FileState, now: Instant) {
        log::info!("{}: resuming at byte {}", c.path.display(), s.offset);
        let point = ResumePoint {
            offset: s.offset,
            line: s.line,
            before: s.prev_byte,
        };
        self.follow(c, Progress::at(point), State::read_now(now, false));
    }

    /// A file present at start with no saved state, under `--from end`:
    /// from its end, or from `size` (its size at start, for a file opened
    /// later).
    fn add_at_end(&mut self, c: Candidate, size: Option<u64>, now: Instant) {
        let end = size.map_or(c.size, |s| s.min(c.size));
        // Line numbers of events stay true line numbers: count the lines
        // that are skipped.
        let mut lines = 0u64;
        let mut buf = vec![0u8; BUFFER_BYTES];
        let mut offset = 0;
        while offset < end {
            match c.file.read_at(&mut buf, offset) {
                Ok(0) => break,
                Ok(n) => {
                    let n = n.min((end - offset) as usize);
                    lines += bytecount::count(&buf[..n], b'\n') as u64;
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log::warn!("{}: {}", c.path.display(), crate::input::describe(&e));
                    return;
                }
            }
        }
        let mut last = [0u8; 1];
        let prev_byte = (offset > 0
            && read_at_most(&c.file, offset - 1, &mut last).ok() == Some(1))
        .then_some(last[0]);
        let point = ResumePoint {
            offset,
            line: lines + 1,
            before: prev_byte,
        };
        log::info!(
            "{}: following from its end (byte {offset})",
            c.path.display()
        );
        let _ = now;
        let state = State::Reading {
            due: None,
            more: false,
        };
        self.follow(c, Progress::at(point), state);
    }

    /// The state to save: positions of the followed files (parked copies
    /// are found again by content) and the totals, consistent with them.
    pub fn checkpoint(&self, now: SystemTime) -> Checkpoint {
        Checkpoint {
            version: VERSION,
            created: self.created.clone(),
            saved: rfc3339(now),
            totals: self.resumable_totals(),
            files: self
                .followers
                .iter()
                .filter(|f| f.state.is_read())
                .map(|f| FileState {
                    path: f.path.clone(),
                    dev: f.key.0,
                    ino: f.key.1,
                    head: Fingerprint::of(&f.head),
                    offset: f.progress.point.offset,
                    line: f.progress.point.line,
                    prev_byte: f.progress.point.before,
                    before: f.before,
                })
                // Files waiting for a descriptor keep their saved position.
                .chain(self.unopened.iter().filter_map(|u| match &u.from {
                    Pending::Saved(s) => Some(FileState {
                        path: u.path.clone(),
                        ..s.clone()
                    }),
                    _ => None,
                }))
                .collect(),
            // The events file's mark is the caller's (`tail::run`).
            events: None,
        }
    }

    /// The totals as of the followers' resume points: what a restart that
    /// resumes there must start from. (Stdin cannot be resumed; what it
    /// gave is counted in full.)
    fn resumable_totals(&self) -> CumulativeTotals {
        let mut t = self.agg.totals(&self.catalog);
        for f in self.followers.iter().filter(|f| f.state.is_read()) {
            let (bytes, lines) = f.progress.ahead();
            t.bytes -= bytes;
            t.lines -= lines;
        }
        t
    }
}

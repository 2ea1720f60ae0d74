//! Copies and lost content: what a file met after start is, judged by its
//! content against the followed files (a copy of one, parked; possibly a
//! copy still being written, undecided; new), and what happens when a
//! followed file loses its content to truncation (its copy takes over from
//! where it was, or the lost content is remembered for a copy seen later).
//! The rules are in [`super`]'s docs; the states in [`State`].

use super::super::identity::{
    Candidate, Key, Scratch, View, before_at, copy_so_far, ends_within, has_lost_content,
};
use super::super::state::{Class, Follower, Progress, State};
use super::Tailer;
use crate::checkpoint::Fingerprint;
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long the identity of content a file lost (truncation) is kept, so
/// that its copy, if it shows up later, is read from the lost position.
pub const LOST_MEMORY: Duration = Duration::from_secs(60);

/// At most this many lost contents are remembered.
const LOST_MAX: usize = 256;

/// How long a new file whose content so far could be the start of a copy
/// may stop growing before it is taken for a new file.
pub const COPY_SETTLE: Duration = Duration::from_millis(500);

/// Content a follower lost to truncation: who it was and how far it had
/// been read. A copy found later resumes from there.
pub(super) struct Lost {
    head: Vec<u8>,
    progress: Progress,
    before: Fingerprint,
    at: Instant,
}

/// What a file met after start is, judged by its content against the
/// followed files (other than `itself`) and the content lost lately.
fn classify(
    followers: &[Follower],
    lost: &[Lost],
    c: &View,
    itself: Option<Key>,
    scratch: &mut Scratch,
) -> Class {
    if let Some(i) = lost.iter().position(|l| {
        c.holds(
            Fingerprint::of(&l.head),
            l.progress.point.offset,
            l.before,
            scratch,
        )
    }) {
        return Class::CopyOfLost(i);
    }
    let readers = || {
        followers.iter().filter(move |f| {
            f.state.is_read() && Some(f.key) != itself && f.progress.point.offset > 0
        })
    };
    let (offset_of, before_of) = (
        |f: &Follower| f.progress.point.offset,
        |f: &Follower| f.before,
    );
    if let Some(f) = readers().find(|f| {
        c.holds(
            Fingerprint::of(&f.head),
            offset_of(f),
            before_of(f),
            scratch,
        ) && copy_so_far(c.file, c.size, &f.file, offset_of(f), f.before, scratch)
    }) {
        return Class::CopyOf(f.key);
    }
    let lost_maybe = lost
        .iter()
        .any(|l| c.may_become(&l.head, l.progress.point.offset));
    if lost_maybe || readers().any(|f| c.may_become(&f.head, f.progress.point.offset)) {
        return Class::Undecided;
    }
    Class::New
}

impl Tailer {
    /// The state a file met after start takes by its class, and the
    /// progress it reads from (a copy of lost content: where that was lost).
    fn classified(
        &mut self,
        path: &Path,
        class: Class,
        size: u64,
        now: Instant,
        was: Option<State>,
    ) -> (State, Progress) {
        let state = State::classified(&class, size, now, was);
        let mut progress = Progress::START;
        match class {
            Class::CopyOfLost(i) => {
                progress = self.lost.swap_remove(i).progress;
                log::info!(
                    "{}: a copy of content lost to truncation; reading it from byte {}",
                    path.display(),
                    progress.point.offset
                );
            }
            Class::CopyOf(_) => log::info!(
                "{}: a copy of a followed file, read only if that one loses its content",
                path.display()
            ),
            _ if was == Some(state) => {}
            _ if matches!(state, State::Undecided { .. }) => {
                if was.is_none() {
                    log::info!(
                        "{}: may be a copy still being written; waiting",
                        path.display()
                    );
                }
            }
            _ => log::info!("{}: following from its beginning", path.display()),
        }
        (state, progress)
    }

    /// A file met after start: a copy (parked, or read from where lost
    /// content ended), undecided, or new and read from its beginning.
    pub(super) fn add_new(&mut self, c: Candidate, now: Instant) {
        self.lost.retain(|l| now.duration_since(l.at) < LOST_MEMORY);
        let class = classify(
            &self.followers,
            &self.lost,
            &c.view(),
            None,
            &mut self.compare,
        );
        let (state, progress) = self.classified(&c.path, class, c.size, now, None);
        self.follow(c, progress, state);
    }

    /// Looks again at an undecided file: a copy once it holds the content it
    /// may be a copy of, new once it differs or stops growing.
    pub(super) fn check_undecided(&mut self, i: usize, now: Instant) -> io::Result<()> {
        let f = &mut self.followers[i];
        let mut head = std::mem::take(&mut f.head);
        let size = View::of_file(&f.file, &mut head);
        let f = &mut self.followers[i];
        f.head = head;
        let size = size?;
        let f = &self.followers[i];
        let view = View {
            file: &f.file,
            size,
            head: &f.head,
        };
        let class = classify(
            &self.followers,
            &self.lost,
            &view,
            Some(f.key),
            &mut self.compare,
        );
        let (was, path) = (f.state, f.path.clone());
        let (state, progress) = self.classified(&path, class, size, now, Some(was));
        if progress != Progress::START {
            let f = &mut self.followers[i];
            f.before = before_at(&f.file, progress.point.offset, &mut self.compare)?;
            f.progress = progress;
        }
        if state != was {
            log::debug!("{}: {} -> {}", path.display(), was.name(), state.name());
        }
        self.followers[i].state = state;
        Ok(())
    }

    /// A parked copy that changed is looked at again: it stays parked while
    /// its content is still the start of the original's (a copy still
    /// being written grows, and stays so); once it is longer than the
    /// original or its last bytes differ, it was a new file that merely
    /// began like the other one, and is read from its start.
    pub(super) fn check_parked(&mut self, i: usize, now: Instant) -> io::Result<()> {
        let State::Parked {
            original,
            size: parked_size,
            gone,
        } = self.followers[i].state
        else {
            return Ok(());
        };
        let size = self.followers[i].file.metadata()?.len();
        if size == parked_size {
            return Ok(());
        }
        let Some(o) = self.followers.iter().find(|o| o.key == original) else {
            return Ok(());
        };
        let scratch = &mut self.compare;
        let still_copy = ends_within(&self.followers[i].file, size, &o.file, scratch)?;
        // Checked after the comparison, which a truncation may race with.
        if !still_copy && has_lost_content(&o.file, o.progress.point.offset, o.before, scratch) {
            // The original lost its content: its next read releases the
            // copy from where the original was.
            return Ok(());
        }
        let f = &mut self.followers[i];
        if still_copy {
            f.state = State::Parked {
                original,
                size,
                gone,
            };
        } else {
            log::info!(
                "{}: not a copy after all (it went on differently); reading it from its beginning",
                f.path.display()
            );
            f.progress = Progress::START;
            f.before = Fingerprint::default();
            f.state.release(now);
        }
        Ok(())
    }

    /// Follower `i` lost the content before its position (truncated, or
    /// replaced and regrown): a parked copy takes over from the position,
    /// and the file is read again from its start.
    pub(super) fn lost_content(&mut self, i: usize, now: Instant) {
        let f = &self.followers[i];
        let (key, progress) = (f.key, f.progress);
        log::info!(
            "{}: truncated; reading it from its beginning",
            f.path.display()
        );
        let has_copy = self.followers.iter().any(|c| c.state.parked_copy_of(key));
        if !has_copy && progress.point.offset > 0 {
            // Its copy may not have been seen yet (copytruncate copies,
            // then truncates; the events can arrive in either order).
            if self.lost.len() >= LOST_MAX {
                self.lost.remove(0);
            }
            self.lost.push(Lost {
                head: f.head.clone(),
                progress,
                before: f.before,
                at: now,
            });
        }
        self.release_copies(key, progress, now);
        let f = &mut self.followers[i];
        f.progress = Progress::START;
        f.before = Fingerprint::default();
        f.head.clear();
        f.compression_checked = false;
    }

    /// Parked copies of `key` take over at `progress`: they hold the bytes
    /// the original lost, from there on.
    pub(super) fn release_copies(&mut self, key: Key, progress: Progress, now: Instant) {
        for c in self
            .followers
            .iter_mut()
            .filter(|c| c.state.parked_copy_of(key))
        {
            log::info!(
                "{}: reading the copy from byte {}",
                c.path.display(),
                progress.point.offset
            );
            c.progress = progress;
            c.state.release(now);
        }
    }
}

//! One followed file and the state it is in. A file is in exactly one
//! [`State`]; every change of state is a method of `State`, so the rules
//! of what may follow what are all here:
//!
//! ```text
//!            met after start, its content so far the start of another's
//!   (new) ──────────────────────────────────────────────► Undecided
//!     │  a copy of a followed file                            │ holds the other's content
//!     ├──────────────────────────────► Parked ◄───────────────┘
//!     │                                  │ the original lost its content,
//!     │ new, or a copy of lost content   │ or it went on differently
//!     ▼                                  ▼
//!   Reading ◄──── path leads to it again ──── Gone ──► finished (dropped)
//!     └──────────── path no longer leads to it ──►┘   after GONE_GRACE
//! ```
//!
//! Undecided and Parked files are not read; they remember whether their
//! path went away (`gone`), so that once they are read they are read to
//! their end and finished.

use super::discovery::PollStamp;
use super::follow::{COPY_SETTLE, GONE_GRACE};
use super::identity::Key;
use crate::checkpoint::Fingerprint;
use crate::search::ResumePoint;
use std::fs::File;
use std::path::PathBuf;
use std::time::Instant;

/// A followed file.
pub(super) struct Follower {
    pub path: PathBuf,
    /// `path` as a JSON string, for events.
    pub source: String,
    pub file: File,
    pub key: Key,
    /// Where `path` led when it was a symlink: the file's real path, whose
    /// directory is watched too (rotation behind the link happens there).
    pub target: Option<PathBuf>,
    /// The file's first bytes (up to FINGERPRINT_BYTES): its identity.
    pub head: Vec<u8>,
    pub progress: Progress,
    pub before: Fingerprint,
    pub compression_checked: bool,
    /// Size and modification time at the last poll: a poll reads only the
    /// files whose `fstat` changed since, so 1,000 idle files cost 1,000
    /// `fstat`s a poll, not 1,000 rounds of reading.
    pub polled: PollStamp,
    pub state: State,
}

/// Where a followed file stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    /// Read as it grows. `due`: the earliest moment unread data was seen;
    /// `more`: the last round used its whole budget.
    Reading { due: Option<Instant>, more: bool },
    /// Its path no longer leads to it: read to its end, and finished once
    /// it has not grown for [`GONE_GRACE`] (writers that have not reopened
    /// their log yet still write to it).
    Gone {
        due: Option<Instant>,
        more: bool,
        last_growth: Instant,
    },
    /// Not read yet: its content so far is the start of another file's, so
    /// it may be a copy still being written (last growth, size then).
    Undecided {
        last_growth: Instant,
        size: u64,
        gone: bool,
    },
    /// A copy of the follower `original` (size when parked): read only
    /// once the original loses its content.
    Parked {
        original: Key,
        size: u64,
        gone: bool,
    },
}

/// What a file met after start is, by its content.
pub(super) enum Class {
    /// A copy of content lost to truncation (index into the lost ones).
    CopyOfLost(usize),
    /// A copy of a followed file's content so far.
    CopyOf(Key),
    /// Possibly a copy still being written: wait.
    Undecided,
    /// A new file.
    New,
}

impl State {
    /// To be read now; `gone` if its path no longer leads to it.
    pub fn read_now(now: Instant, gone: bool) -> State {
        if gone {
            State::Gone {
                due: Some(now),
                more: false,
                last_growth: now,
            }
        } else {
            State::Reading {
                due: Some(now),
                more: false,
            }
        }
    }

    /// The state a file met after start takes by its class. `was` is the
    /// state it had (an undecided one looked at again), `None` for a file
    /// just met.
    pub fn classified(class: &Class, size: u64, now: Instant, was: Option<State>) -> State {
        let gone = was.is_some_and(|s| s.path_gone());
        match (class, was) {
            (Class::CopyOf(original), _) => State::Parked {
                original: *original,
                size,
                gone,
            },
            (Class::Undecided, None) => State::Undecided {
                last_growth: now,
                size,
                gone: false,
            },
            (
                Class::Undecided,
                Some(
                    s @ State::Undecided {
                        last_growth,
                        size: last_size,
                        gone: false,
                    },
                ),
            ) => {
                if size > last_size {
                    State::Undecided {
                        last_growth: now,
                        size,
                        gone: false,
                    }
                } else if now.duration_since(last_growth) < COPY_SETTLE {
                    s
                } else {
                    State::read_now(now, false)
                }
            }
            // Gone from its path, nothing more will be written to it; a
            // new file; a copy of lost content (read from where it was
            // lost).
            _ => State::read_now(now, gone),
        }
    }

    /// Whether its path no longer leads to it.
    pub fn path_gone(&self) -> bool {
        match *self {
            State::Reading { .. } => false,
            State::Gone { .. } => true,
            State::Undecided { gone, .. } | State::Parked { gone, .. } => gone,
        }
    }

    /// The path no longer leads to it. False if that was known already.
    pub fn lose_path(&mut self, now: Instant) -> bool {
        match self {
            State::Reading { due, more } => {
                *self = State::Gone {
                    due: Some(due.unwrap_or(now)),
                    more: *more,
                    last_growth: now,
                };
                true
            }
            State::Undecided { gone, .. } | State::Parked { gone, .. } if !*gone => {
                *gone = true;
                true
            }
            _ => false,
        }
    }

    /// The path leads to it again (renamed back, or a look raced a rename).
    pub fn find_path(&mut self) {
        match self {
            State::Gone { due, more, .. } => {
                *self = State::Reading {
                    due: *due,
                    more: *more,
                }
            }
            State::Undecided { gone, .. } | State::Parked { gone, .. } => *gone = false,
            State::Reading { .. } => {}
        }
    }

    /// New data was seen at `at` (an event, a poll).
    pub fn saw_data(&mut self, at: Instant) {
        if let State::Reading { due, .. } | State::Gone { due, .. } = self {
            *due = Some(due.map_or(at, |d| d.min(at)));
        }
    }

    /// A parked copy is read from now on (its original lost its content,
    /// or it turned out to be no copy).
    pub fn release(&mut self, now: Instant) {
        if let State::Parked { gone, .. } = *self {
            *self = State::read_now(now, gone);
        }
    }

    /// The parked copy of `key`?
    pub fn parked_copy_of(&self, key: Key) -> bool {
        matches!(*self, State::Parked { original, .. } if original == key)
    }

    /// Whether its position counts: it is read (not parked, not undecided),
    /// so it is saved in the checkpoint and may be the original of a copy.
    pub fn is_read(&self) -> bool {
        matches!(self, State::Reading { .. } | State::Gone { .. })
    }

    /// Whether a round of reading is due.
    pub fn wants_read(&self) -> bool {
        match *self {
            State::Reading { due, more } => due.is_some() || more,
            State::Gone { .. } => true,
            _ => false,
        }
    }

    /// Starts a round: when its bytes were seen readable (`now` if unknown).
    pub fn begin_round(&mut self, now: Instant) -> Instant {
        match self {
            State::Reading { due, .. } | State::Gone { due, .. } => due.take().unwrap_or(now),
            _ => now,
        }
    }

    /// A round found `grew` new bytes (beyond what was counted before;
    /// undecided bytes read again are no growth); `full` when it used its
    /// whole budget. False when a gone file is done: not grown for
    /// [`GONE_GRACE`].
    pub fn end_round(&mut self, grew: u64, full: bool, now: Instant) -> bool {
        match self {
            State::Reading { more, .. } => *more = full,
            State::Gone {
                more, last_growth, ..
            } => {
                *more = full;
                if grew > 0 {
                    *last_growth = now;
                } else if now.duration_since(*last_growth) >= GONE_GRACE && !full {
                    return false;
                }
            }
            _ => {}
        }
        true
    }

    /// Whether the last round left more to read.
    pub fn more(&self) -> bool {
        matches!(
            self,
            State::Reading { more: true, .. } | State::Gone { more: true, .. }
        )
    }

    pub fn name(&self) -> &'static str {
        match self {
            State::Reading { .. } => "reading",
            State::Gone { .. } => "gone",
            State::Undecided { .. } => "undecided",
            State::Parked { .. } => "parked",
        }
    }
}

/// How far a file has been read: where a reader resumes (the searcher's
/// resume point), and how far its bytes and lines are already counted —
/// further, by the few bytes the searcher holds back undecided. Windows and
/// totals count what was read; the checkpoint subtracts what lies beyond
/// the resume point, since a restart reads that again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Progress {
    pub point: ResumePoint,
    pub bytes: u64,
    pub lines: u64,
}

impl Progress {
    pub const START: Progress = Progress {
        point: ResumePoint::START,
        bytes: 0,
        lines: 0,
    };

    /// Counted exactly up to `point` (a saved position, a start).
    pub fn at(point: ResumePoint) -> Progress {
        Progress {
            point,
            bytes: point.offset,
            lines: point.line - 1,
        }
    }

    /// Bytes and lines counted beyond the resume point.
    pub fn ahead(&self) -> (u64, u64) {
        (
            self.bytes - self.point.offset,
            self.lines - (self.point.line - 1),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_gone_file_is_finished_only_after_its_grace_without_growth() {
        let t0 = Instant::now();
        let mut s = State::read_now(t0, false);
        assert!(s.lose_path(t0));
        assert!(!s.lose_path(t0), "known already");
        assert!(s.end_round(10, false, t0 + Duration::from_secs(1)));
        let later = t0 + Duration::from_secs(1) + GONE_GRACE;
        assert!(s.end_round(0, true, later), "more waiting: not done");
        assert!(!s.end_round(0, false, later));
        let mut back = State::read_now(t0, true);
        back.find_path();
        assert!(matches!(back, State::Reading { .. }));
    }

    #[test]
    fn an_undecided_file_waits_while_it_grows_then_is_read() {
        let t0 = Instant::now();
        let u = State::classified(&Class::Undecided, 10, t0, None);
        let grew = State::classified(&Class::Undecided, 20, t0 + COPY_SETTLE, Some(u));
        assert!(matches!(grew, State::Undecided { size: 20, .. }));
        let still = State::classified(&Class::Undecided, 20, t0 + COPY_SETTLE, Some(grew));
        assert_eq!(still, grew, "settling");
        let settled = State::classified(&Class::Undecided, 20, t0 + 2 * COPY_SETTLE, Some(grew));
        assert!(settled.wants_read());
        let mut gone = u;
        gone.lose_path(t0);
        let read = State::classified(&Class::Undecided, 10, t0, Some(gone));
        assert!(matches!(read, State::Gone { .. }), "{read:?}");
        let parked = State::classified(&Class::CopyOf((1, 2)), 10, t0, Some(gone));
        assert!(parked.parked_copy_of((1, 2)) && parked.path_gone());
    }
}

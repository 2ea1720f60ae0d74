//! Following files: the synchronous core of `tail`. It owns the followed
//! files, reads them through the one shared [`Searcher`], feeds the
//! [`WindowAggregator`] and the events, and makes the checkpoint. The
//! async shell (`tail::run`) only tells it when to look.
//!
//! # Identity
//! A followed file is held open, so it is read to its end even after it is
//! renamed or deleted. It is known by device and inode while it runs; its
//! *content* proves who it is wherever inodes cannot: the hash of its first
//! bytes (`head`) and of the bytes just before the read position
//! (`before`), both up to [`FINGERPRINT_BYTES`].
//!
//! - Rename (`app.log` → `app.log.1`, same inode): if the new name is
//!   matched too, the follower just takes the new name; if not, the path
//!   no longer leads to it and it is *gone*: read to its end, kept a grace
//!   period for late writes, then finished (end of file decides a code at
//!   its very end) and closed. The file created under the old name is new
//!   and read from its beginning.
//! - Truncation in place and copytruncate: the size drops below the read
//!   position, or the bytes before the position changed (the file was
//!   truncated and has grown past the position since). The file is read
//!   again from its start. Every `read(2)` of a follower also reads the
//!   bytes before its position and compares them ([`CheckedReader`]), so a
//!   truncation and rewrite that falls between two reads, or between a
//!   read and the next look, is caught too and never read as a continuation.
//! - A new file whose content up to a follower's position is that
//!   follower's (`head` and `before` match) is a *copy* of it (the copy of
//!   copytruncate). It is parked, not read: once the original is truncated
//!   or gone, the copy is read from the original's position, which yields
//!   exactly the bytes the original lost. A parked copy that grows was no
//!   copy: it is read from its start.
//! - A new file whose content so far is only the *start* of a followed
//!   (or just truncated) file's content, shorter than its position, may be
//!   a copy still being written (logrotate copies big files over seconds).
//!   It stays *undecided*, unread, until it holds that content (a copy),
//!   differs from it or stops growing for [`COPY_SETTLE`] (a new file,
//!   read from its start). An empty new file is undecided until its first
//!   bytes arrive.
//! - Restart: each saved position is given back to the file with the same
//!   inode whose content still matches, else to any file whose content
//!   matches (renamed or copied while faultline was stopped). A file with a
//!   recycled inode fails the content check and is read as new.
//!
//! Read positions are resume points of the searcher: the first byte not
//! yet decided (a code at the end of what is written waits for the next
//! byte). Every round reads at most [`READ_BUDGET`] bytes of a file, so a
//! busy file cannot starve the others; memory is the shared read buffer,
//! whatever the line lengths or the number of files.

use super::patterns::Patterns;
use crate::catalog::Catalog;
use crate::checkpoint::{Checkpoint, FINGERPRINT_BYTES, FileState, Fingerprint, VERSION};
use crate::input::Compression;
use crate::matcher::{Matcher, MatcherError};
use crate::pipeline::{Hits, InputEvents, catalog_matcher};
use crate::search::{ResumePoint, Searcher};
use crate::sink::events::{self, EventWriter};
use crate::window::{
    HitObserver, Totals, WindowAggregator, WindowSummary, rfc3339, rfc3339_millis,
};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// Bytes one file may be read in one round before the others get a turn.
pub const READ_BUDGET: u64 = 1 << 20;
/// How long a renamed or deleted file is still read after its last growth,
/// for writers that have not reopened their log yet.
pub const GONE_GRACE: Duration = Duration::from_secs(2);
/// The shared read buffer.
pub const BUFFER_BYTES: usize = 64 * 1024;
/// How long the identity of content a file lost (truncation) is kept, so
/// that its copy, if it shows up later, is read from the lost position.
pub const LOST_MEMORY: Duration = Duration::from_secs(60);
/// At most this many lost contents are remembered.
const LOST_MAX: usize = 256;
/// How long a new file whose content so far could be the start of a copy
/// may stop growing before it is taken for a new file.
pub const COPY_SETTLE: Duration = Duration::from_millis(500);

type Key = (u64, u64);

struct Follower {
    path: PathBuf,
    /// `path` as a JSON string, for events.
    source: String,
    file: File,
    key: Key,
    /// The file's first bytes (up to FINGERPRINT_BYTES): its identity.
    head: Vec<u8>,
    progress: Progress,
    before: Fingerprint,
    /// Not read yet: its content so far is the start of another file's, so
    /// it may be a copy still being written (last growth, size then).
    undecided: Option<(Instant, u64)>,
    /// When the path stopped leading to this file; last growth after that.
    gone: Option<(Instant, Instant)>,
    /// Parked copy of the follower with this key, and its size when parked.
    copy_of: Option<(Key, u64)>,
    /// The earliest moment new data was seen and not yet read.
    seen_at: Option<Instant>,
    /// The last round used its whole budget: more is waiting.
    more: bool,
    compression_checked: bool,
    /// Size and modification time at the last poll: a poll reads only the
    /// files whose `fstat` changed since, so 1,000 idle files cost 1,000
    /// `fstat`s a poll, not 1,000 rounds of reading.
    polled: Option<(u64, Option<std::time::SystemTime>)>,
}

/// How far a file has been read: where a reader resumes (the searcher's
/// resume point), and how far its bytes and lines are already counted —
/// further, by the few bytes the searcher holds back undecided. Windows and
/// totals count what was read; the checkpoint subtracts what lies beyond
/// the resume point, since a restart reads that again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Progress {
    point: ResumePoint,
    bytes: u64,
    lines: u64,
}

impl Progress {
    const START: Progress = Progress {
        point: ResumePoint::START,
        bytes: 0,
        lines: 0,
    };

    /// Counted exactly up to `point` (a saved position, a start).
    fn at(point: ResumePoint) -> Progress {
        Progress {
            point,
            bytes: point.offset,
            lines: point.line - 1,
        }
    }

    /// Bytes and lines counted beyond the resume point.
    fn ahead(&self) -> (u64, u64) {
        (
            self.bytes - self.point.offset,
            self.lines - (self.point.line - 1),
        )
    }
}

/// Content a follower lost to truncation: who it was and how far it had
/// been read. A copy found later resumes from there.
struct Lost {
    head: Vec<u8>,
    progress: Progress,
    before: Fingerprint,
    at: Instant,
}

/// A file that matched a pattern, opened and looked at.
struct Candidate {
    path: PathBuf,
    file: File,
    key: Key,
    size: u64,
    head: Vec<u8>,
}

impl Candidate {
    fn open(path: &Path) -> io::Result<Candidate> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        let mut head = vec![0; FINGERPRINT_BYTES.min(meta.len() as usize)];
        let n = read_at_most(&file, 0, &mut head)?;
        head.truncate(n);
        Ok(Candidate {
            path: path.to_path_buf(),
            file,
            key: (meta.dev(), meta.ino()),
            size: meta.len(),
            head,
        })
    }

    fn compressed(&self) -> bool {
        Compression::detect(&self.head) != Compression::None
    }

    fn view(&self) -> View<'_> {
        View {
            file: &self.file,
            size: self.size,
            head: &self.head,
        }
    }
}

/// A file's size and first bytes, to compare with what is known.
struct View<'a> {
    file: &'a File,
    size: u64,
    head: &'a [u8],
}

impl View<'_> {
    fn of_file(file: &File, head: &mut Vec<u8>) -> io::Result<u64> {
        let size = file.metadata()?.len();
        head.resize(FINGERPRINT_BYTES.min(size as usize), 0);
        let n = read_at_most(file, 0, head)?;
        head.truncate(n);
        Ok(size)
    }

    /// Whether this file's content is, up to `offset`, the one described by
    /// `head` and `before`.
    fn holds(&self, head: Fingerprint, offset: u64, before: Fingerprint) -> bool {
        self.size >= offset
            && self.head.len() >= head.len as usize
            && Fingerprint::of(&self.head[..head.len as usize]) == head
            && before_matches(self.file, offset, before)
    }

    /// Whether this file is shorter than `offset` and its content so far is
    /// the start of a content whose first bytes are `head`: it may be a copy
    /// of that content still being written.
    fn may_become(&self, head: &[u8], offset: u64) -> bool {
        self.size < offset && head.len() >= self.head.len() && head[..self.head.len()] == *self.head
    }
}

/// What a file met after start is.
enum Class {
    /// A copy of content lost to truncation (index into `lost`).
    CopyOfLost(usize),
    /// A copy of a followed file's content so far.
    CopyOf(Key),
    /// Possibly a copy still being written: wait.
    Undecided,
    /// A new file.
    New,
}

/// Reads up to `buf.len()` bytes at `offset`; fewer only at end of file.
fn read_at_most(file: &File, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], offset + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The fingerprint of the bytes just before `offset`.
fn before_at(file: &File, offset: u64) -> io::Result<Fingerprint> {
    let len = offset.min(FINGERPRINT_BYTES as u64);
    let mut buf = vec![0; len as usize];
    let n = read_at_most(file, offset - len, &mut buf)?;
    Ok(Fingerprint::of(&buf[..n]))
}

/// Reads a followed file onward from a position, proving with every
/// `read(2)` that the bytes just before the position are still the ones
/// that were read there: each call asks for those bytes too and compares
/// them. A file truncated and written again between two looks (copytruncate
/// followed by new writes) is then caught whenever it happens — before the
/// first read of a round, between two reads, or after the last — instead of
/// being read on from the old position. On such a change the reader stops
/// (returns 0) and sets `replaced`; what it returned before was verified.
struct CheckedReader<'a> {
    file: &'a File,
    pos: u64,
    budget: u64,
    /// Check of the bytes before `pos` for the next read: the fingerprint
    /// known at the start of the round, then the raw bytes last read.
    first: Option<Fingerprint>,
    /// Up to [`BEHIND_BYTES`] bytes just before `pos`, as read.
    behind: &'a mut Vec<u8>,
    scratch: &'a mut Vec<u8>,
    /// The file's first bytes, when a read started at offset 0.
    head: Option<Vec<u8>>,
    replaced: bool,
}

/// Bytes kept of what was read before the read position: enough for the
/// fingerprint before the searcher's resume point, which lies at most a
/// code's length before the read position.
const BEHIND_BYTES: usize = 2 * FINGERPRINT_BYTES;

impl<'a> CheckedReader<'a> {
    fn new(
        file: &'a File,
        pos: u64,
        before: Fingerprint,
        behind: &'a mut Vec<u8>,
        scratch: &'a mut Vec<u8>,
    ) -> Self {
        behind.clear();
        CheckedReader {
            file,
            pos,
            budget: READ_BUDGET,
            first: Some(before),
            behind,
            scratch,
            head: None,
            replaced: false,
        }
    }

    /// The fingerprint of the bytes before `offset` (at most `pos`), from
    /// what was read, if the reader still holds them.
    fn before(&self, offset: u64) -> Option<Fingerprint> {
        let want = offset.min(FINGERPRINT_BYTES as u64);
        let held_from = self.pos - self.behind.len() as u64;
        if self.first.is_some() || offset > self.pos || offset - want < held_from {
            return None;
        }
        let end = (offset - held_from) as usize;
        Some(Fingerprint::of(&self.behind[end - want as usize..end]))
    }
}

impl Read for CheckedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = (buf.len() as u64).min(self.budget) as usize;
        if want == 0 || self.replaced {
            return Ok(0);
        }
        let check = match self.first {
            Some(fp) => fp.len as usize,
            None => self.behind.len().min(FINGERPRINT_BYTES),
        };
        if check as u64 > self.pos {
            self.replaced = true;
            return Ok(0);
        }
        self.scratch.resize(check + want, 0);
        // One call: the checked bytes and the new ones come from the file
        // as it was at one moment.
        let n = loop {
            match self.file.read_at(self.scratch, self.pos - check as u64) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => break r?,
            }
        };
        let same = n >= check
            && match self.first {
                Some(fp) => Fingerprint::of(&self.scratch[..check]) == fp,
                None => self.scratch[..check] == self.behind[self.behind.len() - check..],
            };
        if !same {
            self.replaced = true;
            return Ok(0);
        }
        let fresh = &self.scratch[check..n];
        buf[..fresh.len()].copy_from_slice(fresh);
        if self.pos == check as u64 {
            self.head = Some(self.scratch[..n.min(FINGERPRINT_BYTES)].to_vec());
        }
        if self.first.take().is_some() {
            self.behind.clear();
            self.behind.extend_from_slice(&self.scratch[..check]);
        }
        self.behind.extend_from_slice(fresh);
        let extra = self.behind.len().saturating_sub(BEHIND_BYTES);
        self.behind.drain(..extra);
        self.pos += fresh.len() as u64;
        self.budget -= fresh.len() as u64;
        Ok(fresh.len())
    }
}

/// Whether a file that holds `original`'s content up to its position is
/// a copy of it and not a new file that only begins the same way: its end
/// must lie within the original too. When the original has just lost its
/// content (copytruncate: copied, then truncated, before either was looked
/// at), that cannot be checked; the copy is taken as one, and the
/// original's truncation hands it over from the original's position.
fn copy_so_far(copy: &File, size: u64, original: &Follower) -> bool {
    // Compared first, and the original's loss checked after: copytruncate
    // truncates right after copying, often while this very comparison
    // runs, and a loss checked before it would miss that.
    ends_within(copy, size, &original.file).unwrap_or(false) || has_lost_content(original)
}

/// Whether a follower's file no longer holds what was read of it
/// (truncated, or replaced and regrown).
fn has_lost_content(f: &Follower) -> bool {
    let offset = f.progress.point.offset;
    f.file.metadata().is_ok_and(|m| m.len() < offset) || !before_matches(&f.file, offset, f.before)
}

/// Whether `path` (a follower's last known path) still leads to the file
/// `key`. A file renamed within the patterns is found by the next full look.
fn still_there(path: &Path, key: Key) -> bool {
    std::fs::metadata(path).is_ok_and(|m| (m.dev(), m.ino()) == key)
}

/// Whether the first `size` bytes of `copy` can be the start of
/// `original`: the original is at least that long and their last
/// [`FINGERPRINT_BYTES`] bytes before `size` are the same. With the head
/// and the bytes before a reader's position this tells a copy from a new
/// file that only begins the same way (a common banner line), which the
/// first bytes alone cannot.
fn ends_within(copy: &File, size: u64, original: &File) -> io::Result<bool> {
    if original.metadata()?.len() < size {
        return Ok(false);
    }
    let len = size.min(FINGERPRINT_BYTES as u64) as usize;
    let (mut a, mut b) = (vec![0; len], vec![0; len]);
    let na = read_at_most(copy, size - len as u64, &mut a)?;
    let nb = read_at_most(original, size - len as u64, &mut b)?;
    Ok(na == len && nb == len && a == b)
}

fn before_matches(file: &File, offset: u64, before: Fingerprint) -> bool {
    if u64::from(before.len) > offset {
        return false;
    }
    let mut buf = vec![0; before.len as usize];
    matches!(read_at_most(file, offset - u64::from(before.len), &mut buf), Ok(n) if n == buf.len())
        && Fingerprint::of(&buf) == before
}

/// The followed files and everything their bytes feed.
pub struct Tailer {
    catalog: Catalog,
    matcher: Matcher,
    searcher: Searcher,
    agg: WindowAggregator,
    events: Option<EventWriter>,
    /// Events rendered since the last [`Tailer::flush_events`].
    events_buf: Vec<u8>,
    patterns: Patterns,
    followers: Vec<Follower>,
    /// Compressed files: skipped in tail mode.
    skipped: HashSet<Key>,
    created: String,
    lost: Vec<Lost>,
    /// Stdin (`-`): its own searcher, which keeps the undecided bytes
    /// between chunks, since a pipe cannot be read again.
    stdin: Option<Searcher>,
    /// The [`CheckedReader`]'s buffers, shared by all followers.
    behind: Vec<u8>,
    scratch: Vec<u8>,
}

const STDIN_SOURCE: &str = "\"-\"";

impl Tailer {
    pub fn new(
        catalog: Catalog,
        patterns: Patterns,
        events: Option<Box<dyn Write + Send>>,
        saved_totals: Option<(Totals, String)>,
        now: SystemTime,
    ) -> Result<Tailer, MatcherError> {
        let matcher = catalog_matcher(&catalog)?;
        let (totals, created) = saved_totals.unwrap_or_else(|| (Totals::default(), rfc3339(now)));
        Ok(Tailer {
            behind: Vec::with_capacity(2 * BEHIND_BYTES),
            scratch: Vec::new(),
            agg: WindowAggregator::new(catalog.len(), now, totals),
            events: events.map(|out| EventWriter::new(&catalog, out)),
            events_buf: Vec::new(),
            searcher: Searcher::new(BUFFER_BYTES),
            catalog,
            matcher,
            patterns,
            followers: Vec::new(),
            skipped: HashSet::new(),
            created,
            lost: Vec::new(),
            stdin: None,
        })
    }

    pub fn patterns(&self) -> &Patterns {
        &self.patterns
    }

    /// Files being followed (parked copies included).
    pub fn files_watched(&self) -> usize {
        self.followers.len()
    }

    /// Takes up the files the patterns match now: from the saved positions
    /// when there is a checkpoint, else from their end (`from_end`) or
    /// beginning.
    pub fn start(&mut self, saved: Option<&Checkpoint>, from_end: bool, now: Instant) {
        let mut candidates = self.candidates();
        if let Some(cp) = saved {
            let mut unmatched = Vec::new();
            // Same inode with the same content first; then content alone.
            for s in &cp.files {
                let found = candidates.iter().position(|c| {
                    c.key == (s.dev, s.ino) && c.view().holds(s.head, s.offset, s.before)
                });
                match found {
                    Some(i) => self.resume(candidates.swap_remove(i), s, now),
                    None => unmatched.push(s),
                }
            }
            for s in unmatched {
                if let Some(i) = candidates
                    .iter()
                    .position(|c| c.view().holds(s.head, s.offset, s.before))
                {
                    self.resume(candidates.swap_remove(i), s, now);
                }
            }
            for c in candidates {
                self.add_new(c, now);
            }
        } else {
            for c in candidates {
                if from_end {
                    self.add_at_end(c, now);
                } else {
                    self.add_new(c, now);
                }
            }
        }
    }

    fn candidates(&mut self) -> Vec<Candidate> {
        let mut out = Vec::new();
        for path in self.patterns.expand() {
            match Candidate::open(&path) {
                Ok(c) if self.skipped.contains(&c.key) => {}
                Ok(c) if c.compressed() => {
                    log::debug!("{}: compressed, skipped in tail mode", path.display());
                    self.skipped.insert(c.key);
                }
                Ok(c) => out.push(c),
                // Gone between listing and opening, or unreadable: say so
                // once per look; it is tried again at the next one.
                Err(e) => log::warn!("{}: {}", path.display(), crate::input::describe(&e)),
            }
        }
        out
    }

    fn follower(&mut self, c: Candidate, progress: Progress, now: Instant) -> &mut Follower {
        let before = before_at(&c.file, progress.point.offset).unwrap_or_default();
        self.followers.push(Follower {
            source: events::json(&c.path.display().to_string()),
            path: c.path,
            file: c.file,
            key: c.key,
            compression_checked: c.head.len() >= 4,
            polled: None,
            head: c.head,
            progress,
            before,
            undecided: None,
            gone: None,
            copy_of: None,
            seen_at: Some(now),
            more: false,
        });
        self.followers.last_mut().expect("just pushed")
    }

    fn resume(&mut self, c: Candidate, s: &FileState, now: Instant) {
        log::info!("{}: resuming at byte {}", c.path.display(), s.offset);
        let point = ResumePoint {
            offset: s.offset,
            line: s.line,
            before: s.prev_byte,
        };
        self.follower(c, Progress::at(point), now);
    }

    /// What a file met after start is, judged by its content against the
    /// followed files (other than `itself`) and the content lost lately.
    fn classify(&self, c: &View, itself: Option<Key>) -> Class {
        if let Some(i) = self
            .lost
            .iter()
            .position(|l| c.holds(Fingerprint::of(&l.head), l.progress.point.offset, l.before))
        {
            return Class::CopyOfLost(i);
        }
        let readers = || {
            self.followers.iter().filter(move |f| {
                f.copy_of.is_none()
                    && f.undecided.is_none()
                    && Some(f.key) != itself
                    && f.progress.point.offset > 0
            })
        };
        if let Some(f) = readers().find(|f| {
            c.holds(Fingerprint::of(&f.head), f.progress.point.offset, f.before)
                && copy_so_far(c.file, c.size, f)
        }) {
            return Class::CopyOf(f.key);
        }
        let lost_maybe = self
            .lost
            .iter()
            .any(|l| c.may_become(&l.head, l.progress.point.offset));
        if lost_maybe || readers().any(|f| c.may_become(&f.head, f.progress.point.offset)) {
            return Class::Undecided;
        }
        Class::New
    }

    /// A file met after start: a copy (parked, or read from where lost
    /// content ended), undecided, or new and read from its beginning.
    fn add_new(&mut self, c: Candidate, now: Instant) {
        self.lost.retain(|l| now.duration_since(l.at) < LOST_MEMORY);
        let size = c.size;
        match self.classify(&c.view(), None) {
            Class::CopyOfLost(i) => {
                let lost = self.lost.swap_remove(i);
                log::info!(
                    "{}: a copy of content lost to truncation; reading it from byte {}",
                    c.path.display(),
                    lost.progress.point.offset
                );
                self.follower(c, lost.progress, now);
            }
            Class::CopyOf(key) => {
                log::info!(
                    "{}: a copy of a followed file, read only if that one loses its content",
                    c.path.display()
                );
                let f = self.follower(c, Progress::START, now);
                f.copy_of = Some((key, size));
                f.seen_at = None;
            }
            Class::Undecided => {
                log::info!(
                    "{}: may be a copy still being written; waiting",
                    c.path.display()
                );
                let f = self.follower(c, Progress::START, now);
                f.undecided = Some((now, size));
                f.seen_at = None;
            }
            Class::New => {
                log::info!("{}: following from its beginning", c.path.display());
                self.follower(c, Progress::START, now);
            }
        }
    }

    /// Looks again at an undecided file: a copy once it holds the content it
    /// may be a copy of, new once it differs or stops growing.
    fn check_undecided(&mut self, i: usize, now: Instant) -> io::Result<()> {
        let Some((last_growth, last_size)) = self.followers[i].undecided else {
            return Ok(());
        };
        let mut head = Vec::new();
        let size = View::of_file(&self.followers[i].file, &mut head)?;
        let key = self.followers[i].key;
        let class = self.classify(
            &View {
                file: &self.followers[i].file,
                size,
                head: &head,
            },
            Some(key),
        );
        log::debug!(
            "{}: undecided, size {size} (was {last_size}), class {}",
            self.followers[i].path.display(),
            match class {
                Class::CopyOfLost(_) => "copy of lost",
                Class::CopyOf(_) => "copy",
                Class::Undecided => "undecided",
                Class::New => "new",
            }
        );
        let f = &mut self.followers[i];
        f.head = head;
        match class {
            Class::CopyOfLost(l) => {
                let lost = self.lost.swap_remove(l);
                log::info!(
                    "{}: a copy of content lost to truncation; reading it from byte {}",
                    f.path.display(),
                    lost.progress.point.offset
                );
                f.undecided = None;
                f.progress = lost.progress;
                f.before = before_at(&f.file, lost.progress.point.offset)?;
                f.seen_at = Some(now);
            }
            Class::CopyOf(original) => {
                log::info!("{}: a copy of a followed file", f.path.display());
                f.undecided = None;
                f.copy_of = Some((original, size));
            }
            // Gone from its path: nothing more will be written to it.
            Class::Undecided if f.gone.is_some() => {
                f.undecided = None;
                f.seen_at = Some(now);
            }
            Class::Undecided if size > last_size => f.undecided = Some((now, size)),
            Class::Undecided if now.duration_since(last_growth) < COPY_SETTLE => {}
            Class::Undecided | Class::New => {
                log::info!("{}: following from its beginning", f.path.display());
                f.undecided = None;
                f.seen_at = Some(now);
            }
        }
        Ok(())
    }

    /// A file present at start with no saved state, under `--from end`.
    fn add_at_end(&mut self, c: Candidate, now: Instant) {
        // Line numbers of events stay true line numbers: count the lines
        // that are skipped.
        let mut lines = 0u64;
        let mut buf = vec![0u8; BUFFER_BYTES];
        let mut offset = 0;
        while offset < c.size {
            match c.file.read_at(&mut buf, offset) {
                Ok(0) => break,
                Ok(n) => {
                    let n = n.min((c.size - offset) as usize);
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
        let f = self.follower(c, Progress::at(point), now);
        f.seen_at = None;
    }

    /// Looks at what the patterns match now: new files, renamed ones, and
    /// followed ones whose path no longer leads to them.
    pub fn rescan(&mut self, now: Instant) {
        let mut present: HashSet<Key> = HashSet::new();
        // Followers by identity, so a look at a thousand files is not a
        // thousand scans of the followers. New followers added below are
        // not in it; a file met twice in one look is looked up again.
        let mut by_key: HashMap<Key, usize> = self
            .followers
            .iter()
            .enumerate()
            .map(|(i, f)| (f.key, i))
            .collect();
        for path in self.patterns.expand() {
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            let key = (meta.dev(), meta.ino());
            if self.skipped.contains(&key) {
                continue;
            }
            present.insert(key);
            let i = by_key
                .get(&key)
                .copied()
                .or_else(|| self.followers.iter().position(|f| f.key == key));
            if let Some(i) = i {
                by_key.insert(key, i);
                let f = &mut self.followers[i];
                if f.path != path {
                    log::info!("{}: renamed to {}", f.path.display(), path.display());
                    f.source = events::json(&path.display().to_string());
                    f.path = path;
                }
                continue;
            }
            match Candidate::open(&path) {
                Ok(c) if c.compressed() => {
                    self.skipped.insert(c.key);
                }
                Ok(c) => self.add_new(c, now),
                Err(e) => log::warn!("{}: {}", path.display(), crate::input::describe(&e)),
            }
        }
        for f in &mut self.followers {
            let here = present.contains(&f.key);
            match (&f.gone, here) {
                (None, false) => {
                    log::info!(
                        "{}: gone from its path; reading it to its end",
                        f.path.display()
                    );
                    f.gone = Some((now, now));
                    f.seen_at.get_or_insert(now);
                }
                (Some(_), true) => f.gone = None,
                _ => {}
            }
        }
    }

    /// Looks at just these paths (from file-system events that may have
    /// added, removed or renamed files): what is there now, and whether
    /// followers known by these paths are still there. The cheap form of
    /// [`Tailer::rescan`] for the usual event; the poll still does full
    /// looks, as the safety net.
    pub fn look_at(&mut self, paths: &[PathBuf], now: Instant) {
        for path in paths {
            let known = |f: &Follower| f.path.as_os_str() == path.as_os_str();
            if !self.patterns.matches(path) && !self.followers.iter().any(known) {
                continue;
            }
            let meta = std::fs::metadata(path)
                .ok()
                .filter(|m| m.is_file() && self.patterns.matches(path));
            let key = meta.as_ref().map(|m| (m.dev(), m.ino()));
            // Followers that had this path and are no longer behind it.
            for f in self
                .followers
                .iter_mut()
                .filter(|f| f.path.as_os_str() == path.as_os_str() && Some(f.key) != key)
            {
                if f.gone.is_none() && !still_there(&f.path, f.key) {
                    log::info!(
                        "{}: gone from its path; reading it to its end",
                        f.path.display()
                    );
                    f.gone = Some((now, now));
                    f.seen_at.get_or_insert(now);
                }
            }
            let Some(key) = key else { continue };
            if self.skipped.contains(&key) {
                continue;
            }
            if let Some(f) = self.followers.iter_mut().find(|f| f.key == key) {
                f.gone = None;
                if f.path != *path {
                    log::info!("{}: renamed to {}", f.path.display(), path.display());
                    f.source = events::json(&path.display().to_string());
                    f.path = path.clone();
                }
                continue;
            }
            match Candidate::open(path) {
                Ok(c) if c.compressed() => {
                    self.skipped.insert(c.key);
                }
                Ok(c) => self.add_new(c, now),
                Err(e) => log::warn!("{}: {}", path.display(), crate::input::describe(&e)),
            }
        }
    }

    /// Notes that `path` changed at `at`. False when no follower has that
    /// path (a new file: the caller should rescan).
    pub fn changed(&mut self, path: &Path, at: Instant) -> bool {
        let mut known = false;
        // Byte equality, not `Path`'s component-wise one: this runs for
        // every file-system event. Spellings that differ only in form
        // (`./a` and `a`) are "unknown" and cost a rescan, nothing more.
        let path = path.as_os_str();
        for f in self
            .followers
            .iter_mut()
            .filter(|f| f.path.as_os_str() == path)
        {
            known = true;
            if f.copy_of.is_none() {
                f.seen_at = Some(f.seen_at.map_or(at, |s| s.min(at)));
            }
        }
        known
    }

    /// The safety-net poll: marks for reading every follower whose size or
    /// modification time changed since the last poll.
    pub fn poll(&mut self, at: Instant) {
        for f in &mut self.followers {
            let stat = f.file.metadata().ok().map(|m| (m.len(), m.modified().ok()));
            if stat.is_none() || stat != f.polled {
                f.polled = stat;
                f.seen_at.get_or_insert(at);
            }
        }
    }

    /// Reads every follower that has something to read, one budget each.
    /// Returns whether any has more waiting.
    pub fn read_ready(&mut self, now: Instant) -> bool {
        let ts = rfc3339_millis(SystemTime::now());
        let mut i = 0;
        while i < self.followers.len() {
            if self.followers[i].undecided.is_some() {
                if let Err(e) = self.check_undecided(i, now) {
                    log::warn!("{}: {e}", self.followers[i].path.display());
                }
                // Read at once if it was found to be new or a lost copy.
                if self.followers[i].undecided.is_some() {
                    i += 1;
                    continue;
                }
            }
            let f = &self.followers[i];
            if f.copy_of.is_some() {
                if let Err(e) = self.check_parked(i, now) {
                    log::warn!("{}: {e}", self.followers[i].path.display());
                }
                i += 1;
                continue;
            }
            if f.seen_at.is_none() && !f.more && f.gone.is_none() {
                i += 1;
                continue;
            }
            match self.read_round(i, now, &ts) {
                Ok(true) => i += 1,
                Ok(false) => {
                    self.followers.swap_remove(i);
                }
                Err(e) => {
                    log::warn!(
                        "{}: {}; reading it again at the next look",
                        self.followers[i].path.display(),
                        crate::input::describe(&e)
                    );
                    i += 1;
                }
            }
        }
        self.flush_events();
        self.followers.iter().any(|f| f.more)
    }

    /// A parked copy that changed is looked at again: it stays parked while
    /// its content is still the start of the original's (a copy still
    /// being written grows, and stays so); once it is longer than the
    /// original or its last bytes differ, it was a new file that merely
    /// began like the other one, and is read from its start.
    fn check_parked(&mut self, i: usize, now: Instant) -> io::Result<()> {
        let Some((original, parked_size)) = self.followers[i].copy_of else {
            return Ok(());
        };
        let size = self.followers[i].file.metadata()?.len();
        if size == parked_size {
            return Ok(());
        }
        let Some(o) = self.followers.iter().find(|o| o.key == original) else {
            return Ok(());
        };
        let still_copy = ends_within(&self.followers[i].file, size, &o.file)?;
        // Checked after the comparison, which a truncation may race with.
        if !still_copy && has_lost_content(o) {
            // The original lost its content: its next read releases the
            // copy from where the original was.
            return Ok(());
        }
        let f = &mut self.followers[i];
        if still_copy {
            f.copy_of = Some((original, size));
        } else {
            log::info!(
                "{}: not a copy after all (it went on differently); reading it from its beginning",
                f.path.display()
            );
            f.progress = Progress::START;
            f.before = Fingerprint::default();
            f.copy_of = None;
            f.seen_at = Some(now);
        }
        Ok(())
    }

    /// One round of reading follower `i`. Ok(false): it is finished and
    /// should be dropped.
    fn read_round(&mut self, i: usize, now: Instant, ts: &str) -> io::Result<bool> {
        // Content replaced under the position is found by the reader's
        // first read, which checks the bytes before it (CheckedReader).
        let size = self.followers[i].file.metadata()?.len();
        if size < self.followers[i].progress.point.offset {
            self.lost_content(i, now);
        }
        let f = &mut self.followers[i];
        if !f.compression_checked && size >= 4 {
            let mut magic = [0u8; 4];
            read_at_most(&f.file, 0, &mut magic)?;
            f.compression_checked = true;
            if Compression::detect(&magic) != Compression::None {
                log::debug!("{}: compressed, skipped in tail mode", f.path.display());
                self.skipped.insert(f.key);
                return Ok(false);
            }
        }
        let seen_at = f.seen_at.take().unwrap_or(now);
        let start = f.progress;
        self.searcher.resume(start.point);
        let mut sink =
            Hits::new(&mut self.agg, &self.matcher)
                .timed(seen_at)
                .with_events(self.events.as_ref().map(|w| {
                    InputEvents::buffered(w, f.source.as_str(), ts, &mut self.events_buf)
                }));
        let mut rdr = CheckedReader::new(
            &f.file,
            start.point.offset,
            f.before,
            &mut self.behind,
            &mut self.scratch,
        );
        let read = self
            .searcher
            .read_available(&self.matcher, &mut rdr, &mut sink)?;
        f.more = read >= READ_BUDGET;
        // The searcher read again what it held back last time; count only
        // what lies past what was counted.
        let t = self.searcher.totals();
        self.agg.read(t.bytes - start.bytes, t.lines - start.lines);
        f.progress = Progress {
            point: self.searcher.resume_point(),
            bytes: t.bytes,
            lines: t.lines,
        };
        let offset = f.progress.point.offset;
        let (held, replaced, head) = (rdr.before(offset), rdr.replaced, rdr.head.take());
        if let Some(h) = head.filter(|h| h.len() > f.head.len()) {
            f.head = h;
        }
        f.before = match held {
            Some(b) => b,
            None if offset == start.point.offset => f.before,
            // Not held (cannot happen while a resume point trails the read
            // position by less than BEHIND_BYTES - FINGERPRINT_BYTES).
            None => before_at(&f.file, offset)?,
        };
        if replaced {
            // Truncated and written again since it was last read: what was
            // read was real; the file is read again from its start, now.
            self.lost_content(i, now);
            self.followers[i].seen_at = Some(seen_at);
            return self.read_round(i, now, ts);
        }
        let f = &mut self.followers[i];
        if let Some((_, last_growth)) = &mut f.gone {
            if read > 0 {
                *last_growth = now;
            } else if now.duration_since(*last_growth) >= GONE_GRACE && !f.more {
                self.finish(i);
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Follower `i` lost the content before its position (truncated, or
    /// replaced and regrown): a parked copy takes over from the position,
    /// and the file is read again from its start.
    fn lost_content(&mut self, i: usize, now: Instant) {
        let f = &self.followers[i];
        let (key, progress) = (f.key, f.progress);
        log::info!(
            "{}: truncated; reading it from its beginning",
            f.path.display()
        );
        let has_copy = self
            .followers
            .iter()
            .any(|c| c.copy_of.is_some_and(|(k, _)| k == key));
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
    fn release_copies(&mut self, key: Key, progress: Progress, now: Instant) {
        for c in self
            .followers
            .iter_mut()
            .filter(|c| c.copy_of.is_some_and(|(k, _)| k == key))
        {
            log::info!(
                "{}: reading the copy from byte {}",
                c.path.display(),
                progress.point.offset
            );
            c.copy_of = None;
            c.progress = progress;
            c.seen_at = Some(now);
        }
    }

    /// The end of a gone file is final: decide a code at its very end,
    /// count a last unterminated line, and let a parked copy take over.
    fn finish(&mut self, i: usize) {
        let (key, start) = (self.followers[i].key, self.followers[i].progress);
        let f = &self.followers[i];
        log::info!("{}: finished at byte {}", f.path.display(), start.bytes);
        self.searcher.resume(start.point);
        let ts = rfc3339_millis(SystemTime::now());
        let mut sink =
            Hits::new(&mut self.agg, &self.matcher)
                .timed(Instant::now())
                .with_events(self.events.as_ref().map(|w| {
                    InputEvents::buffered(w, f.source.as_str(), &ts, &mut self.events_buf)
                }));
        // Re-read the undecided bytes, then end the stream.
        let reread = (&f.file)
            .seek(SeekFrom::Start(start.point.offset))
            .and_then(|_| {
                self.searcher
                    .read_available(&self.matcher, &f.file, &mut sink)
                    .map_err(io::Error::from)
            });
        if let Err(e) = reread {
            log::warn!("{}: {}", f.path.display(), crate::input::describe(&e));
        }
        // The stream's totals count from its start, a last unterminated
        // line included.
        // The tail's pipeline renders into memory: it cannot fail.
        let end = match self.searcher.finish(&self.matcher, &mut sink) {
            Ok(end) => end,
            Err(e) => {
                log::warn!(
                    "{}: {}",
                    f.path.display(),
                    crate::input::describe(&e.into())
                );
                return;
            }
        };
        self.agg
            .read(end.bytes - start.bytes, end.lines - start.lines);
        // A copy holds at most what the original held, all of it read now.
        let done = Progress {
            point: ResumePoint {
                offset: end.bytes,
                line: end.lines + 1,
                before: None,
            },
            bytes: end.bytes,
            lines: end.lines,
        };
        self.release_copies(key, done, Instant::now());
    }

    /// Counts a chunk read from stdin, seen readable at `seen_at`.
    pub fn stdin_chunk(&mut self, chunk: &[u8], seen_at: Instant) {
        let searcher = self
            .stdin
            .get_or_insert_with(|| Searcher::new(BUFFER_BYTES));
        let start = searcher.totals();
        let ts = rfc3339_millis(SystemTime::now());
        let mut sink = Hits::new(&mut self.agg, &self.matcher)
            .timed(seen_at)
            .with_events(
                self.events
                    .as_ref()
                    .map(|w| InputEvents::buffered(w, STDIN_SOURCE, &ts, &mut self.events_buf)),
            );
        // Reading a byte slice cannot fail.
        let _ = searcher.read_available(&self.matcher, chunk, &mut sink);
        let end = searcher.totals();
        self.agg
            .read(end.bytes - start.bytes, end.lines - start.lines);
        self.flush_events();
    }

    /// Stdin ended: its end decides a code at its very end.
    pub fn stdin_end(&mut self) {
        let Some(searcher) = &mut self.stdin else {
            return;
        };
        let start = searcher.totals();
        let ts = rfc3339_millis(SystemTime::now());
        let mut sink = Hits::new(&mut self.agg, &self.matcher)
            .timed(Instant::now())
            .with_events(
                self.events
                    .as_ref()
                    .map(|w| InputEvents::buffered(w, STDIN_SOURCE, &ts, &mut self.events_buf)),
            );
        // The tail's pipeline renders into memory: it cannot fail.
        let end = match searcher.finish(&self.matcher, &mut sink) {
            Ok(end) => end,
            Err(e) => {
                log::warn!("-: {}", crate::input::describe(&e.into()));
                return;
            }
        };
        self.agg
            .read(end.bytes - start.bytes, end.lines - start.lines);
        self.stdin = None;
        self.flush_events();
    }

    /// Writes the events rendered so far.
    pub fn flush_events(&mut self) {
        if let Some(e) = &mut self.events {
            if self.events_buf.is_empty() {
                return;
            }
            let result = e.write_block(&self.events_buf);
            self.events_buf.clear();
            if let Err(err) = result {
                log::error!(
                    "writing events: {}; events are no longer written",
                    crate::input::describe(&err)
                );
                self.events = None;
            }
        }
    }

    /// Ends the window at `end`.
    pub fn close_window(&mut self, end: SystemTime) -> WindowSummary {
        self.agg.close(end, &self.catalog, &self.matcher)
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
                .filter(|f| f.copy_of.is_none() && f.undecided.is_none())
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
                .collect(),
        }
    }

    /// The totals as of the followers' resume points: what a restart that
    /// resumes there must start from. (Stdin cannot be resumed; what it
    /// gave is counted in full.)
    fn resumable_totals(&self) -> Totals {
        let mut t = self.agg.totals(&self.catalog);
        for f in self
            .followers
            .iter()
            .filter(|f| f.copy_of.is_none() && f.undecided.is_none())
        {
            let (bytes, lines) = f.progress.ahead();
            t.bytes -= bytes;
            t.lines -= lines;
        }
        t
    }

    /// Swaps in a new catalog (SIGHUP). The current window is closed first,
    /// since its counters are indexed by the old catalog; its summary is
    /// returned.
    pub fn reload(
        &mut self,
        catalog: Catalog,
        end: SystemTime,
    ) -> Result<WindowSummary, MatcherError> {
        let matcher = catalog_matcher(&catalog)?;
        let summary = self.close_window(end);
        let totals = self.agg.totals(&self.catalog);
        self.agg.restart(catalog.len(), end, totals);
        if let Some(e) = &mut self.events {
            e.set_catalog(&catalog);
        }
        self.catalog = catalog;
        self.matcher = matcher;
        Ok(summary)
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The matcher of [`Tailer::catalog`]: its prefix numbering is the
    /// one hits are reported with.
    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }

    /// Tells `observer` (the metrics) every count from now on.
    pub fn observe(&mut self, observer: Box<dyn HitObserver>) {
        self.agg.observe(observer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(bytes: &[u8]) -> (tempfile::NamedTempFile, File) {
        let mut t = tempfile::NamedTempFile::new().unwrap();
        t.write_all(bytes).unwrap();
        let f = File::open(t.path()).unwrap();
        (t, f)
    }

    fn text(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| b'a' + ((i as u8).wrapping_mul(7) ^ seed) % 26)
            .collect()
    }

    #[test]
    fn a_checked_reader_reads_on_while_the_bytes_behind_stay() {
        let old = text(3000, 1);
        let (_t, file) = file_with(&old);
        let (mut behind, mut scratch) = (Vec::new(), Vec::new());
        let at = 1000u64;
        let before = Fingerprint::of(&old[1000 - FINGERPRINT_BYTES..1000]);
        let mut r = CheckedReader::new(&file, at, before, &mut behind, &mut scratch);
        assert_eq!(r.before(at), None, "nothing read yet");
        let mut got = Vec::new();
        let mut buf = [0u8; 100]; // many small reads, each checked
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert!(!r.replaced);
        assert_eq!(got, &old[1000..]);
        assert_eq!(
            r.before(2990),
            Some(Fingerprint::of(&old[2990 - FINGERPRINT_BYTES..2990]))
        );
        assert_eq!(r.before(3000 - BEHIND_BYTES as u64), None, "no longer held");
        assert_eq!(r.head, None, "did not start at 0");

        // From the start: the head is what was read, and short befores.
        let mut r = CheckedReader::new(&file, 0, Fingerprint::default(), &mut behind, &mut scratch);
        let mut buf = [0u8; 50];
        assert_eq!(r.read(&mut buf).unwrap(), 50);
        assert_eq!(r.head.as_deref(), Some(&old[..50]));
        assert_eq!(r.before(40), Some(Fingerprint::of(&old[..40])));
    }

    #[test]
    fn a_checked_reader_stops_where_the_file_was_replaced() {
        let old = text(3000, 1);
        let (t, file) = file_with(&old);
        let (mut behind, mut scratch) = (Vec::new(), Vec::new());
        let before = Fingerprint::of(&old[1000 - FINGERPRINT_BYTES..1000]);
        let mut r = CheckedReader::new(&file, 1000, before, &mut behind, &mut scratch);
        let mut buf = [0u8; 500];
        assert_eq!(r.read(&mut buf).unwrap(), 500);
        assert_eq!(&buf[..], &old[1000..1500]);
        // copytruncate, then new writes past the position, between reads.
        std::fs::write(t.path(), text(4000, 2)).unwrap();
        assert_eq!(r.read(&mut buf).unwrap(), 0);
        assert!(r.replaced);
        // What was read is still described right, for the copy to match.
        assert_eq!(
            r.before(1500),
            Some(Fingerprint::of(&old[1500 - FINGERPRINT_BYTES..1500]))
        );

        // Replaced before the first read: caught by the saved fingerprint.
        let mut r = CheckedReader::new(&file, 1000, before, &mut behind, &mut scratch);
        assert_eq!(r.read(&mut buf).unwrap(), 0);
        assert!(r.replaced);

        // Truncated below the position.
        std::fs::write(t.path(), &old[..600]).unwrap();
        let mut r = CheckedReader::new(&file, 1000, before, &mut behind, &mut scratch);
        assert_eq!(r.read(&mut buf).unwrap(), 0);
        assert!(r.replaced);
    }
}

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

//! This module reads (rounds, budgets, the end of a file); its parts:
//! `sighting` turns looks at paths into renamed, back, new and gone
//! files; `copies` classifies new files as copies or not and handles lost
//! content; `start` takes up the files at start and makes the checkpoint.
//! The modules beside it: [`identity`](super::identity) compares bytes,
//! [`discovery`](super::discovery) finds paths, [`state`](super::state)
//! holds each file's state and its transitions; hits go to the one
//! pipeline ([`Hits`], built in `Tailer::sink_for`).

use super::cri::{self, CriReader, CriRoom};
use super::identity::{
    BEHIND_BYTES, Candidate, CheckedReader, Key, Scratch, before_at, key_of, read_at_most,
};
use super::k8s;
use super::patterns::Patterns;
use super::state::{Follower, Progress, State};
use crate::catalog::Catalog;
use crate::input::Compression;
use crate::matcher::{Matcher, MatcherError};
use crate::pipeline::{Hits, InputEvents, catalog_matcher};
use crate::search::{ResumePoint, Searcher};
use crate::sink::events::EventWriter;
use crate::window::{
    CumulativeTotals, HitObserver, WindowAggregator, WindowSummary, rfc3339, rfc3339_millis,
};
use std::collections::HashSet;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

/// Bytes one file may be read in one round before the others get a turn.
pub const READ_BUDGET: u64 = 1 << 20;
/// How long a renamed or deleted file is still read after its last growth,
/// for writers that have not reopened their log yet.
pub const GONE_GRACE: Duration = Duration::from_secs(2);
/// The shared read buffer.
pub const BUFFER_BYTES: usize = 64 * 1024;

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
    /// Room for identity checks.
    compare: Scratch,
    /// Directories whose files are never followed: the state directory.
    own_dirs: Vec<Key>,
    /// Room for reading files of CRI records, shared by all followers.
    cri: CriRoom,
    /// Matched files waiting for a descriptor, in the order met.
    unopened: Vec<Unopened>,
    /// Whether the pressure was warned about (once, until it ends).
    pressure_warned: bool,
    /// At most this many followed files (the descriptor limit less
    /// [`DESCRIPTOR_RESERVE`]).
    max_followers: Option<usize>,
}

mod copies;
mod sighting;
mod start;
mod unopened;

use copies::Lost;
pub use copies::{COPY_SETTLE, LOST_MEMORY};
use sighting::link_target;
pub use unopened::DESCRIPTOR_RESERVE;
use unopened::Unopened;

const STDIN_SOURCE: &str = "\"-\"";

impl Tailer {
    /// The one place the tailer builds its hit sink, the pipeline's
    /// [`Hits`]: hits of `source` (a JSON string) found at `ts`, whose
    /// bytes were seen readable at `seen_at`, go to the window (counts,
    /// latency, metrics) and into `events_buf` for [`Tailer::flush_events`].
    fn sink_for<'a>(
        agg: &'a mut WindowAggregator,
        matcher: &'a Matcher,
        events: &'a Option<EventWriter>,
        events_buf: &'a mut Vec<u8>,
        source: &'a str,
        ts: &'a str,
        seen_at: Instant,
    ) -> Hits<'a, WindowAggregator> {
        Hits::new(agg, matcher).timed(seen_at).with_events(
            events
                .as_ref()
                .map(|w| InputEvents::buffered(w, source, ts, events_buf)),
        )
    }

    pub fn new(
        catalog: Catalog,
        patterns: Patterns,
        events: Option<Box<dyn Write + Send>>,
        saved_totals: Option<(CumulativeTotals, String)>,
        now: SystemTime,
    ) -> Result<Tailer, MatcherError> {
        let matcher = catalog_matcher(&catalog)?;
        let (totals, created) =
            saved_totals.unwrap_or_else(|| (CumulativeTotals::default(), rfc3339(now)));
        Ok(Tailer {
            behind: Vec::with_capacity(2 * BEHIND_BYTES),
            scratch: Vec::new(),
            compare: Scratch::new(),
            own_dirs: Vec::new(),
            cri: CriRoom::default(),
            unopened: Vec::new(),
            pressure_warned: false,
            max_followers: None,
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

    /// Follows at most as many files as `open_files` descriptors allow
    /// (RLIMIT_NOFILE's soft limit), [`DESCRIPTOR_RESERVE`] kept free;
    /// further files wait (see `unopened`).
    pub fn limit_descriptors(&mut self, open_files: u64) {
        let max = open_files.saturating_sub(DESCRIPTOR_RESERVE).max(1);
        self.max_followers = Some(usize::try_from(max).unwrap_or(usize::MAX));
    }

    /// Files being followed (parked copies included).
    pub fn files_watched(&self) -> usize {
        self.followers.len()
    }

    /// The cumulative totals so far (what the next summary's `totals` say).
    pub fn totals(&self) -> CumulativeTotals {
        self.agg.totals(&self.catalog)
    }

    /// faultline's own outputs (the events and summaries files, the state
    /// directory): never followed, whatever the patterns match, since
    /// reading them would feed its own hits back to it. Known by identity,
    /// so every spelling and link of them is excluded.
    pub fn never_follow(&mut self, files: &[&Path], dirs: &[&Path]) {
        self.skipped.extend(files.iter().filter_map(|f| key_of(f)));
        self.own_dirs.extend(dirs.iter().filter_map(|d| key_of(d)));
    }

    /// Whether `path` lies in one of faultline's own directories.
    fn in_own_dir(&self, path: &Path) -> bool {
        if self.own_dirs.is_empty() {
            return false;
        }
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        real.parent()
            .and_then(key_of)
            .is_some_and(|k| self.own_dirs.contains(&k))
    }

    fn follow(&mut self, c: Candidate, progress: Progress, state: State) {
        let before =
            before_at(&c.file, progress.point.offset, &mut self.compare).unwrap_or_default();
        let target = link_target(&c.path);
        self.followers.push(Follower {
            source: k8s::source_json(&c.path, target.as_deref()),
            target,
            path: c.path,
            file: c.file,
            key: c.key,
            compression_checked: c.head.len() >= 4,
            polled: None,
            head: c.head,
            progress,
            before,
            state,
        });
    }

    /// The end of the input (shutdown): a file gone for good (deleted, or
    /// renamed out of every pattern) will not be read again, so its last
    /// undecided bytes are decided now, as `scan` decides them at the end
    /// of a file; stdin ends here too.
    pub fn end_of_input(&mut self, now: Instant) {
        let ts = rfc3339_millis(SystemTime::now());
        let mut i = 0;
        while i < self.followers.len() {
            if matches!(self.followers[i].state, State::Gone { .. }) {
                // What is left to read first, then the end.
                while matches!(self.read_round(i, now, &ts), Ok(true))
                    && self.followers[i].state.more()
                {}
                if i < self.followers.len() && matches!(self.followers[i].state, State::Gone { .. })
                {
                    self.finish(i, now);
                    self.followers.swap_remove(i);
                    continue;
                }
            }
            i += 1;
        }
        self.stdin_end();
        self.flush_events();
    }

    /// Reads every follower that has something to read, one budget each.
    /// Returns whether any has more waiting.
    pub fn read_ready(&mut self, now: Instant) -> bool {
        let ts = rfc3339_millis(SystemTime::now());
        let mut i = 0;
        while i < self.followers.len() {
            let checked = match self.followers[i].state {
                State::Undecided { .. } => self.check_undecided(i, now),
                State::Parked { .. } => self.check_parked(i, now),
                _ => Ok(()),
            };
            if let Err(e) = checked {
                log::warn!("{}: {e}", self.followers[i].path.display());
            }
            // Read at once if it was found to be new or a lost copy.
            if !self.followers[i].state.wants_read() {
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
        self.followers.iter().any(|f| f.state.more())
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
        let seen_at = f.state.begin_round(now);
        let start = f.progress;
        self.searcher.resume(start.point);
        let mut sink = Self::sink_for(
            &mut self.agg,
            &self.matcher,
            &self.events,
            &mut self.events_buf,
            f.source.as_str(),
            ts,
            seen_at,
        );
        let mut rdr = CheckedReader::new(
            &f.file,
            start.point.offset,
            f.before,
            &mut self.behind,
            &mut self.scratch,
        );
        // Files of Kubernetes CRI records are searched as their texts
        // (see `cri`), always up to a whole record unit.
        let read = if k8s::is_pod_log(&f.path, f.target.as_deref())
            && cri::applies(start.point.offset, &f.head)
        {
            let records = CriReader::new(&mut rdr, &mut self.cri, start.point.before, false);
            self.searcher
                .read_available(&self.matcher, records, &mut sink)?
        } else {
            self.searcher
                .read_available(&self.matcher, &mut rdr, &mut sink)?
        };
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
            // Not held: the resume point trails the read position by more
            // than BEHIND_BYTES - FINGERPRINT_BYTES (a CRI unit not whole
            // yet).
            None => before_at(&f.file, offset, &mut self.compare)?,
        };
        if replaced {
            // Truncated and written again since it was last read: what was
            // read was real; the file is read again from its start, now.
            self.lost_content(i, now);
            self.followers[i].state.saw_data(seen_at);
            return self.read_round(i, now, ts);
        }
        // Growth is what was counted anew, not what was read: each round
        // reads again the undecided bytes the searcher held back (a code
        // at the very end), which would keep a gone file "growing" forever
        // and its end undecided until shutdown. A round is full when its
        // budget is spent, also when a CRI reader held back an incomplete
        // unit of what it read.
        let grew = t.bytes - start.bytes;
        let full = read >= READ_BUDGET || rdr.spent();
        if !f.state.end_round(grew, full, now) {
            self.finish(i, now);
            return Ok(false);
        }
        Ok(true)
    }

    /// The end of a gone file is final: decide a code at its very end,
    /// count a last unterminated line, and let a parked copy take over.
    fn finish(&mut self, i: usize, now: Instant) {
        let (key, start) = (self.followers[i].key, self.followers[i].progress);
        let f = &self.followers[i];
        log::info!("{}: finished at byte {}", f.path.display(), start.bytes);
        self.searcher.resume(start.point);
        let ts = rfc3339_millis(SystemTime::now());
        let mut sink = Self::sink_for(
            &mut self.agg,
            &self.matcher,
            &self.events,
            &mut self.events_buf,
            f.source.as_str(),
            ts.as_str(),
            now,
        );
        // Re-read the undecided bytes, then end the stream.
        let reread = (&f.file)
            .seek(SeekFrom::Start(start.point.offset))
            .and_then(|_| {
                let read = if k8s::is_pod_log(&f.path, f.target.as_deref())
                    && cri::applies(start.point.offset, &f.head)
                {
                    let records = CriReader::new(&f.file, &mut self.cri, start.point.before, true);
                    self.searcher
                        .read_available(&self.matcher, records, &mut sink)
                } else {
                    self.searcher
                        .read_available(&self.matcher, &f.file, &mut sink)
                };
                read.map_err(io::Error::from)
            });
        if let Err(e) = reread {
            log::warn!("{}: {}", f.path.display(), crate::input::describe(&e));
        }
        // The stream's totals count from its start, a last unterminated
        // line included.
        // The tail's pipeline renders events into memory: it cannot fail.
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
        log::debug!(
            "{}: end of input: resumed at byte {} (counted to {}), stream ends at {} with {} lines",
            f.path.display(),
            start.point.offset,
            start.bytes,
            end.bytes,
            end.lines
        );
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
        self.release_copies(key, done, now);
    }

    /// Counts a chunk read from stdin, seen readable at `seen_at`.
    pub fn stdin_chunk(&mut self, chunk: &[u8], seen_at: Instant) {
        let searcher = self
            .stdin
            .get_or_insert_with(|| Searcher::new(BUFFER_BYTES));
        let start = searcher.totals();
        let ts = rfc3339_millis(SystemTime::now());
        let mut sink = Self::sink_for(
            &mut self.agg,
            &self.matcher,
            &self.events,
            &mut self.events_buf,
            STDIN_SOURCE,
            ts.as_str(),
            seen_at,
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
        let mut sink = Self::sink_for(
            &mut self.agg,
            &self.matcher,
            &self.events,
            &mut self.events_buf,
            STDIN_SOURCE,
            ts.as_str(),
            Instant::now(),
        );
        // The tail's pipeline renders events into memory: it cannot fail.
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
        crate::sink::events::flush_agent_events(&mut self.events, &mut self.events_buf);
    }

    /// Ends the window at `end`.
    pub fn close_window(&mut self, end: SystemTime) -> WindowSummary {
        self.agg.close(end, &self.catalog, &self.matcher)
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

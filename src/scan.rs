//! `faultline scan`: batch analysis of files, directories, archives and
//! stdin, with a report at the end.
//!
//! Work is split by input: `--threads N` workers take the next input from a
//! shared index, then the chunks of large plain files (mapped and split in
//! `chunk_bytes` pieces, [`SplitFile`]: a code across a split point belongs
//! to the chunk it starts in), so one big file fills every core too. Each
//! worker has its own [`Searcher`] (read buffer) and its own [`Counts`], so
//! workers share nothing on the per-hit path; their counts are added up at
//! the end. Each hit goes through the [`crate::pipeline`] like `tail`'s:
//! events (`--events`) are rendered into a per-worker buffer and handed to
//! the shared writer in blocks of whole lines, so lines of different files
//! never interleave mid-line. A failed events write ends the scan with an
//! error.
//!
//! Each hit's line is read for the time written on it (SPEC section 3,
//! "Timeline"): known hits go on the worker's [`Timeline`] by category,
//! and events carry it as `log_ts`. Syslog stamps have no year: a file's
//! modification time gives it (stdin: the scan's start).
//!
//! An input that cannot be opened or read is recorded in the report's
//! `errors` and logged; the others are still scanned. Of an input that
//! fails part-way (a corrupt archive), what was read before the failure is
//! counted. The files the run itself writes ([`Options::own_outputs`]) are
//! never scanned.

use crate::aggregate::Counts;
use crate::catalog::CodeId;
use crate::catalog::{Catalog, Category};
use crate::input::{self, Input, InputError};
use crate::matcher::UnknownCode;
use crate::matcher::{Matcher, MatcherError};
use crate::pipeline::{self, HitError, Hits, InputEvents, Tally};
use crate::search::Searcher;
use crate::sink::events::{self, EventWriter};
use crate::sink::report::Report;
use crate::timeline::Timeline;
use crate::timestamp::{Finder, LocalZone, UnixMs};
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why a scan could not run at all (per-input problems are not errors).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(
        "no input: give a PATH (a file, a directory or - for stdin), or pipe logs into `faultline scan`"
    )]
    NoInput,
    #[error(transparent)]
    Matcher(#[from] MatcherError),
    #[error("cannot write events to {path}")]
    Events { path: PathBuf, source: io::Error },
    #[error("writing the report")]
    Output(#[source] io::Error),
}

/// The result of a scan and the exit status it calls for.
#[derive(Debug)]
pub struct ScanOutcome {
    pub report: Report,
    /// Some input was given but none could be read.
    pub nothing_read: bool,
    /// `--fail-on` categories that had hits.
    pub failed_categories: Vec<Category>,
}

impl ScanOutcome {
    /// 2 when nothing could be read, 1 when `--fail-on` matched, else 0.
    pub fn exit_status(&self) -> u8 {
        if self.nothing_read {
            2
        } else if !self.failed_categories.is_empty() {
            1
        } else {
            0
        }
    }
}

/// A file's identity (device and inode): the same file under any name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    pub fn of(meta: &std::fs::Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt;
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }

    /// The regular file behind a descriptor (stdout redirected to a file);
    /// `None` for pipes, terminals and the like.
    pub fn of_fd(fd: i32) -> Option<FileId> {
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: fstat writes a `stat` into the buffer on success only.
        if unsafe { libc::fstat(fd, st.as_mut_ptr()) } != 0 {
            return None;
        }
        // SAFETY: fstat succeeded.
        let st = unsafe { st.assume_init() };
        (st.st_mode & libc::S_IFMT == libc::S_IFREG).then_some(FileId {
            dev: st.st_dev,
            ino: st.st_ino,
        })
    }
}

/// How to scan, independent of the command line.
#[derive(Clone, Debug)]
pub struct Options {
    /// Inputs (and chunks of large files) searched at the same time (at
    /// least 1). If the system refuses threads, the scan goes on with those
    /// it got.
    pub threads: usize,
    /// Fresh bytes per read of a streamed input.
    pub buffer_bytes: usize,
    /// Plain files at least this large are memory-mapped; `None`: never.
    pub mmap_min_bytes: Option<u64>,
    /// Follow symbolic links while walking directories.
    pub follow: bool,
    /// Show a progress bar on stderr (the caller knows whether it is a
    /// terminal).
    pub progress: bool,
    /// Files this run writes (the events file, a redirected stdout): never
    /// scanned, in directory walks or given by name.
    pub own_outputs: Vec<FileId>,
    /// With more than one thread, mapped plain files larger than this are
    /// split among the threads in chunks of this size.
    pub chunk_bytes: usize,
    /// When the scan started: the year of syslog stamps in stdin and in
    /// files without a modification time. Given by the caller; the scan
    /// reads no clock.
    pub started: SystemTime,
}

/// Scans `paths` and returns the report (without `--fail-on` applied, and
/// without `elapsed_ms`, which the caller measures).
pub fn scan(
    catalog: &Catalog,
    paths: &[PathBuf],
    options: &Options,
    events: Option<Box<dyn Write + Send>>,
) -> Result<ScanOutcome, ScanError> {
    let matcher = pipeline::catalog_matcher(catalog)?;
    let discovered = input::discover(paths, options.follow);
    let mut inputs = discovered.inputs;
    if !options.own_outputs.is_empty() {
        inputs.retain(|input| match input {
            Input::File(p) => std::fs::metadata(p)
                .map_or(true, |m| !options.own_outputs.contains(&FileId::of(&m))),
            Input::Stdin => true,
        });
    }
    let progress = ProgressBar::new(options.progress, &inputs);
    let started_s = unix_s(options.started);
    let split = if options.threads > 1 {
        split_large(&mut inputs, options, started_s)
    } else {
        Vec::new()
    };
    let chunks: usize = split.iter().map(|f| f.chunks).sum();
    let pool = Workers {
        matcher: &matcher,
        inputs: &inputs,
        split: &split,
        next: AtomicUsize::new(0),
        events: events.map(|w| EventWriter::new(catalog, w)),
        progress: &progress,
        buffer_bytes: options.buffer_bytes,
        mmap_min_bytes: options.mmap_min_bytes,
        codes: catalog.len(),
        categories: catalog.entries().iter().map(|e| e.category).collect(),
        zone: LocalZone::system(),
        started_s,
    };
    let workers = options.threads.clamp(1, (inputs.len() + chunks).max(1));
    let mut results: Vec<WorkerResult> = std::thread::scope(|s| {
        // The calling thread is one of the workers; if the system refuses
        // threads, the scan goes on with those it got.
        let mut handles = Vec::with_capacity(workers - 1);
        for _ in 1..workers {
            match std::thread::Builder::new()
                .name("scan".into())
                .spawn_scoped(s, || pool.work())
            {
                Ok(h) => handles.push(h),
                Err(e) => {
                    input::threads_refused(&e);
                    break;
                }
            }
        }
        let mut results = vec![pool.work()];
        results.extend(
            handles
                .into_iter()
                .map(|h| h.join().expect("scan worker panicked")),
        );
        results
    });
    progress.finish();
    if let Some(e) = results.iter_mut().find_map(|r| r.events_error.take()) {
        return Err(ScanError::Events {
            path: PathBuf::from("--events"),
            source: e,
        });
    }

    let mut total = WorkerResult::new(catalog.len());
    let mut errors = discovered.errors;
    for r in results {
        total.counts.merge(&r.counts);
        total.files += r.files;
        total.bytes += r.bytes;
        total.lines += r.lines;
        total.timeline.merge(&r.timeline);
        errors.extend(r.errors);
    }
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    let views = total.counts.views(catalog, &matcher);
    let mut report = Report::new(
        total.files,
        total.bytes,
        total.lines,
        total.counts.hits,
        total.counts.unknown_total,
        views,
    );
    let nothing_read = total.files == 0 && !errors.is_empty();
    report.errors = errors;
    report.timeline = total.timeline;
    Ok(ScanOutcome {
        report,
        nothing_read,
        failed_categories: Vec::new(),
    })
}

/// What the workers share; everything mutable in it is behind an atomic or
/// a mutex that is taken once per input, chunk or block of events.
struct Workers<'a> {
    matcher: &'a Matcher,
    inputs: &'a [Input],
    /// Large files whose chunks the workers take once `inputs` are taken.
    split: &'a [SplitFile],
    next: AtomicUsize,
    events: Option<EventWriter>,
    progress: &'a ProgressBar,
    buffer_bytes: usize,
    mmap_min_bytes: Option<u64>,
    codes: usize,
    /// Category by [`CodeId`], for the timeline.
    categories: Vec<Category>,
    zone: LocalZone,
    /// The year of syslog stamps in stdin comes from the scan's start.
    started_s: i64,
}

struct WorkerResult {
    counts: Counts,
    files: u64,
    bytes: u64,
    lines: u64,
    timeline: Timeline,
    errors: Vec<InputError>,
    /// Why events could not be written; the worker stopped there.
    events_error: Option<io::Error>,
}

impl WorkerResult {
    fn new(codes: usize) -> WorkerResult {
        WorkerResult {
            counts: Counts::new(codes),
            files: 0,
            bytes: 0,
            lines: 0,
            timeline: Timeline::default(),
            errors: Vec::new(),
            events_error: None,
        }
    }
}

/// Events are handed to the shared writer in blocks of about this size.
const EVENT_BLOCK_BYTES: usize = 64 * 1024;

impl Workers<'_> {
    fn work(&self) -> WorkerResult {
        let mut result = WorkerResult::new(self.codes);
        let mut searcher = Searcher::new(self.buffer_bytes);
        let mut events_buf = Vec::new();
        let mut name_json = String::new();
        loop {
            if self.events_failed() {
                return result;
            }
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(input) = self.inputs.get(i) else {
                break;
            };
            let name = input.name();
            if self.events.is_some() {
                name_json = events::json(&name);
            }
            let finder = Finder::new(self.reference_s(input), self.zone.clone());
            let mut progress = self.progress.counter();
            let mapped = match (input, self.mmap_min_bytes) {
                (Input::File(path), Some(min)) => input::map_plain(path, min),
                _ => Ok(None),
            };
            let map = match mapped {
                Ok(map) => map,
                Err(e) => {
                    result.errors.push(InputError::new(name, &e));
                    continue;
                }
            };
            let mut tally = ScanTally {
                counts: &mut result.counts,
                timeline: &mut result.timeline,
                categories: &self.categories,
            };
            let mut sink = Hits::new(&mut tally, self.matcher)
                .with_line_times(finder)
                .with_events(self.events.as_ref().map(|w| {
                    InputEvents::in_blocks(w, &name_json, &mut events_buf, EVENT_BLOCK_BYTES)
                }));
            // A streamed plain file read in fewer bytes than its size at
            // open was cut under the scan, as a map's fault says.
            let mut cut_short = None;
            let searched = if let Some(map) = &map {
                map.search(&searcher, self.matcher, &mut sink, &mut progress)
            } else {
                match input::open(input, progress) {
                    Ok(opened) => {
                        searcher.reset();
                        cut_short = Some((opened.compression, opened.size_at_open));
                        searcher.search_reader(self.matcher, opened.reader, &mut sink)
                    }
                    Err(e) => {
                        result.errors.push(InputError::new(name, &e));
                        continue;
                    }
                }
            };
            let searched = searched.and_then(|t| sink.finish().map(|_| t));
            match searched {
                Ok(totals) => {
                    result.files += 1;
                    result.bytes += totals.bytes;
                    result.lines += totals.lines;
                    let shrank = cut_short.is_some_and(|(c, size)| {
                        c == input::Compression::None && size.is_some_and(|n| totals.bytes < n)
                    });
                    if shrank || map.as_ref().is_some_and(|m| m.changed()) {
                        result.errors.push(changed(&name));
                    }
                }
                Err(HitError::Input(e)) => {
                    // What was decoded before the failure is counted; an
                    // input that failed before its first byte was not read
                    // (and alone makes the exit status 2).
                    let totals = searcher.totals();
                    searcher.reset();
                    result.files += u64::from(totals.bytes > 0);
                    result.bytes += totals.bytes;
                    result.lines += totals.lines;
                    result.errors.push(InputError::new(name, &e));
                    // Its events so far are written like any others.
                    if let Some(w) = &self.events
                        && let Err(e) = w.write_block(&events_buf)
                    {
                        result.events_error = Some(e);
                    }
                    events_buf.clear();
                }
                Err(HitError::Events(e)) => {
                    result.events_error = Some(e);
                }
            }
            if result.events_error.is_some() {
                return result;
            }
        }
        // Then chunks of the large files, filling every worker to the end.
        for file in self.split {
            loop {
                if self.events_failed() {
                    return result;
                }
                let k = file.next.fetch_add(1, Ordering::Relaxed);
                if k >= file.chunks {
                    break;
                }
                self.search_chunk(file, k, &searcher, &mut result, &mut events_buf);
                if result.events_error.is_some() {
                    return result;
                }
            }
        }
        result
    }

    /// Another worker could not write events: the scan has failed.
    fn events_failed(&self) -> bool {
        self.events.as_ref().is_some_and(|w| w.is_closed())
    }

    /// Searches chunk `k` of `file`: the codes that start in it, with line
    /// numbers from the LF counts of the chunks before it.
    fn search_chunk(
        &self,
        file: &SplitFile,
        k: usize,
        searcher: &Searcher,
        result: &mut WorkerResult,
        events_buf: &mut Vec<u8>,
    ) {
        let range = file.range(k);
        // Line numbers matter only for events: without them no chunk
        // counts another's LFs, and each chunk's count comes from its own
        // search (one pass over the bytes, none serial).
        let before: u64 = if self.events.is_some() {
            (0..k).map(|j| file.lf(j)).sum()
        } else {
            0
        };
        let mut tally = ScanTally {
            counts: &mut result.counts,
            timeline: &mut result.timeline,
            categories: &self.categories,
        };
        let mut sink = Hits::new(&mut tally, self.matcher)
            .with_line_times(Finder::new(file.reference_s, self.zone.clone()))
            .with_events(self.events.as_ref().map(|w| {
                InputEvents::in_blocks(w, &file.name_json, events_buf, EVENT_BLOCK_BYTES)
            }));
        let bytes = file.map.bytes();
        let searched = searcher
            .search_range(self.matcher, bytes, range.clone(), before, &mut sink)
            .and_then(|(_, lf)| sink.finish().map(|_| lf));
        let lf = match searched {
            Ok(lf) => lf,
            Err(e) => {
                // A chunk in memory has no read to fail: only events can.
                result.events_error = Some(e.into());
                return;
            }
        };
        file.lf[k].store(lf, Ordering::Release);
        file.map.release(range.clone());
        (self.progress.counter())(range.len() as u64);
        result.bytes += range.len() as u64;
        result.lines += lf;
        if k + 1 == file.chunks && bytes.last().is_some_and(|&b| b != b'\n') {
            result.lines += 1;
        }
        if file.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            result.files += 1;
            if file.map.changed() {
                result.errors.push(changed(&file.name));
            }
        }
    }
}

impl Workers<'_> {
    /// The time that gives syslog stamps of `input` their year: its
    /// modification time, else the scan's start.
    fn reference_s(&self, input: &Input) -> i64 {
        match input {
            Input::File(p) => std::fs::metadata(p)
                .and_then(|m| m.modified())
                .map_or(self.started_s, unix_s),
            Input::Stdin => self.started_s,
        }
    }
}

fn unix_s(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// A scan worker's tally: the counts, and known hits on the timeline by
/// the time on their line (untimed when it has none).
struct ScanTally<'a> {
    counts: &'a mut Counts,
    timeline: &'a mut Timeline,
    /// Category by [`CodeId`].
    categories: &'a [Category],
}

impl Tally for ScanTally<'_> {
    #[inline]
    fn known(&mut self, id: CodeId, _latency: Option<Duration>, logged: Option<UnixMs>) {
        self.counts.add_known(id);
        match logged {
            Some(ms) => self.timeline.add(self.categories[id as usize], ms),
            None => self.timeline.add_untimed(),
        }
    }
    #[inline]
    fn unknown(&mut self, code: UnknownCode, _latency: Option<Duration>) {
        self.counts.add_unknown(code);
    }
}

/// A large plain file split among the workers in chunks of `chunk_bytes`.
struct SplitFile {
    name: String,
    /// `name` as a JSON string, for events.
    name_json: String,
    map: input::PlainMap,
    /// What gives syslog stamps their year: the file's modification time.
    reference_s: i64,
    chunk_bytes: usize,
    chunks: usize,
    /// The next chunk to take.
    next: AtomicUsize,
    /// LF bytes of each chunk, `u64::MAX` until counted (by the chunk's
    /// own search, or, with events, by a later chunk's worker that needs
    /// it for its line numbers first).
    lf: Vec<AtomicU64>,
    /// Chunks not yet searched; the worker that searches the last one
    /// counts the file and checks whether it changed.
    remaining: AtomicUsize,
}

impl SplitFile {
    fn range(&self, k: usize) -> std::ops::Range<usize> {
        let len = self.map.bytes().len();
        k * self.chunk_bytes..((k + 1) * self.chunk_bytes).min(len)
    }

    /// LF bytes in chunk `k` (counted once, at ~20 GB/s).
    fn lf(&self, k: usize) -> u64 {
        let known = self.lf[k].load(Ordering::Acquire);
        if known != u64::MAX {
            return known;
        }
        let n = bytecount::count(&self.map.bytes()[self.range(k)], b'\n') as u64;
        self.lf[k].store(n, Ordering::Release);
        n
    }
}

/// Takes the plain regular files larger than `options.chunk_bytes` that
/// can be mapped out of `inputs`, to be split among the workers. The rest
/// (small, compressed, unmappable) stay inputs, scanned whole.
fn split_large(inputs: &mut Vec<Input>, options: &Options, started_s: i64) -> Vec<SplitFile> {
    let Some(min) = options.mmap_min_bytes else {
        return Vec::new();
    };
    let chunk_bytes = options.chunk_bytes.max(1);
    let mut split = Vec::new();
    inputs.retain(|input| {
        let Input::File(path) = input else {
            return true;
        };
        let Ok(meta) = std::fs::metadata(path) else {
            return true;
        };
        if meta.len() <= chunk_bytes as u64 {
            return true;
        }
        let reference_s = meta.modified().map_or(started_s, unix_s);
        let Ok(Some(map)) = input::map_plain(path, min) else {
            return true;
        };
        let chunks = map.bytes().len().div_ceil(chunk_bytes);
        let name = input.name();
        split.push(SplitFile {
            name_json: events::json(&name),
            name,
            map,
            reference_s,
            chunk_bytes,
            chunks,
            next: AtomicUsize::new(0),
            lf: (0..chunks).map(|_| AtomicU64::new(u64::MAX)).collect(),
            remaining: AtomicUsize::new(chunks),
        });
        false
    });
    split
}

fn changed(name: &str) -> InputError {
    InputError {
        path: name.to_string(),
        error: "changed during the scan (it shrank while it was read): \
                counted up to where it was cut; scan it again when it is still"
            .to_string(),
    }
}

/// The size of a plain (uncompressed) file; `None` for a compressed one.
fn plain_size(path: &Path) -> Option<u64> {
    use std::io::Read;
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut head = [0u8; 4];
    let n = file.read(&mut head).ok()?;
    (input::Compression::detect(&head[..n]) == input::Compression::None).then_some(len)
}

/// The progress bar on stderr, in decompressed bytes (what the report
/// counts): done of the inputs' total size with rate and ETA when the
/// total is known (plain files), else done and rate. It stays hidden for
/// the first moment, so quick scans print nothing.
struct ProgressBar {
    bar: Option<indicatif::ProgressBar>,
}

impl ProgressBar {
    const DELAY: Duration = Duration::from_millis(300);

    fn new(enabled: bool, inputs: &[Input]) -> ProgressBar {
        if !enabled {
            return ProgressBar { bar: None };
        }
        // The total is known when every input is a plain file: its size.
        // A compressed input's decompressed size is not (gzip's trailer
        // holds it modulo 4 GiB, zstd's frames may omit it), nor stdin's:
        // then the bar shows bytes done and the rate, and no made-up ETA.
        let total: Option<u64> = inputs
            .iter()
            .map(|i| match i {
                Input::File(p) => plain_size(p),
                Input::Stdin => None,
            })
            .sum();
        let bar = indicatif::ProgressBar::with_draw_target(
            total,
            indicatif::ProgressDrawTarget::hidden(),
        );
        let template = if total.is_some() {
            "{spinner} [{elapsed_precise}] {wide_bar} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}"
        } else {
            "{spinner} [{elapsed_precise}] {binary_bytes} {binary_bytes_per_sec}"
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(template)
                .expect("the progress template is valid"),
        );
        let shown = bar.clone();
        // Without a thread to spare, the bar stays hidden.
        let _ = std::thread::Builder::new().spawn(move || {
            std::thread::sleep(Self::DELAY);
            if !shown.is_finished() {
                shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
        });
        ProgressBar { bar: Some(bar) }
    }

    /// A callback that advances the bar by the decompressed bytes searched.
    fn counter(&self) -> impl FnMut(u64) + Send + 'static {
        let bar = self.bar.clone();
        move |n| {
            if let Some(b) = &bar {
                b.inc(n);
            }
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

//! `faultline scan`: batch analysis of files, directories, archives and
//! stdin, with a report at the end.
//!
//! Work is split by input: `--threads N` workers take the next input from a
//! shared index, then the chunks of large plain files (mapped and split in
//! `chunk_bytes` pieces, [`SplitFile`]: a code across a split point belongs
//! to the chunk it starts in), so one big file fills every core too. Each
//! worker has its own [`Searcher`] (read buffer) and its own [`Counts`],
//! so workers share nothing on the per-hit path; their counts are added up
//! at the end. Events (`--events`) are rendered into a
//! per-worker buffer and handed to the shared writer in blocks of whole
//! lines, so lines of different files never interleave mid-line.
//!
//! An input that cannot be opened or read is recorded in the report's
//! `errors` and logged; the others are still scanned. Of an input that
//! fails part-way (a corrupt archive), what was read before the failure is
//! counted.

use crate::aggregate::Counts;
use crate::catalog::{Catalog, Category, CodeId};
use crate::cli::{ReportFormat, ScanArgs};
use crate::matcher::{Matcher, MatcherError, UnknownCode};
use crate::search::{Position, Searcher, Sink};
use crate::sink::events::{self, EventFormat};
use crate::sink::report::Report;
use crate::source::{self, Input, InputError};
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Why a scan could not run at all (per-input problems are not errors).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(
        "no input: give a PATH (a file, a directory or - for stdin), or pipe logs into `faultline scan`"
    )]
    NoInput,
    #[error(transparent)]
    Matcher(#[from] MatcherError),
    #[error("cannot write events to {path}: {source}")]
    Events { path: PathBuf, source: io::Error },
    #[error("writing the report: {0}")]
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

/// Runs `scan` as the command line asks and prints the report on stdout.
pub fn run(catalog: &Catalog, args: &ScanArgs, quiet: bool) -> Result<ScanOutcome, ScanError> {
    let mut paths = args.paths.clone();
    if paths.is_empty() {
        if io::stdin().is_terminal() {
            return Err(ScanError::NoInput);
        }
        paths.push(PathBuf::from("-"));
    }
    let events_to_stdout = args.events.as_ref().is_some_and(|p| p.as_os_str() == "-");
    // With `--events -` stdout is the events stream: the report goes to
    // stderr (or nowhere with -q), so its format follows stderr.
    let report_is_terminal = if events_to_stdout {
        io::stderr().is_terminal()
    } else {
        io::stdout().is_terminal()
    };
    let format = args.format.unwrap_or(if report_is_terminal {
        ReportFormat::Text
    } else {
        ReportFormat::Json
    });
    // Our own output files, by identity: never scanned, whatever name or
    // link they are reached by.
    let mut own_outputs = Vec::new();
    let events: Option<Box<dyn Write + Send>> = match &args.events {
        None => None,
        Some(_) if events_to_stdout => {
            own_outputs.extend(FileId::of_fd(1));
            Some(Box::new(io::stdout()))
        }
        Some(p) => {
            let file = File::create(p).map_err(|source| ScanError::Events {
                path: p.clone(),
                source,
            })?;
            own_outputs.extend(file.metadata().ok().map(|m| FileId::of(&m)));
            Some(Box::new(file))
        }
    };
    if !events_to_stdout {
        own_outputs.extend(FileId::of_fd(1));
    }
    let threads = args.threads.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(usize::from(crate::cli::MAX_THREADS))
    });
    let options = Options {
        threads,
        buffer_bytes: args.buffer_bytes,
        mmap_min_bytes: (!args.no_mmap).then_some(args.mmap_min_bytes),
        follow: args.follow,
        progress: !quiet && io::stderr().is_terminal(),
        own_outputs,
        chunk_bytes: usize::try_from(args.chunk_bytes).unwrap_or(usize::MAX),
    };
    let mut outcome = scan(catalog, &paths, &options, events)?;
    for e in &outcome.report.errors {
        log::error!("{}: {}", e.path, e.error);
    }
    outcome.failed_categories = args
        .fail_on
        .iter()
        .copied()
        .filter(|c| outcome.report.by_category.get(c).is_some_and(|&n| n > 0))
        .collect();
    if events_to_stdout {
        if !quiet {
            let stderr = io::stderr();
            write_report(&outcome.report, format, catalog, args.top, stderr.lock())?;
        }
    } else {
        let stdout = io::stdout();
        write_report(&outcome.report, format, catalog, args.top, stdout.lock())?;
    }
    if !outcome.failed_categories.is_empty() {
        let names: Vec<&str> = outcome
            .failed_categories
            .iter()
            .map(|c| c.as_str())
            .collect();
        log::warn!("hits in --fail-on categories: {}", names.join(", "));
    }
    Ok(outcome)
}

fn write_report(
    report: &Report,
    format: ReportFormat,
    catalog: &Catalog,
    top: usize,
    out: impl Write,
) -> Result<(), ScanError> {
    let mut out = BufWriter::new(out);
    match format {
        ReportFormat::Json => report.write_json(&mut out),
        ReportFormat::Text => report.write_text(&mut out, catalog, top),
    }
    .and_then(|()| out.flush())
    .map_err(ScanError::Output)
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
    fn of_fd(fd: i32) -> Option<FileId> {
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
    pub threads: usize,
    pub buffer_bytes: usize,
    /// Plain files at least this large are memory-mapped; `None`: never.
    pub mmap_min_bytes: Option<u64>,
    pub follow: bool,
    pub progress: bool,
    /// Files this run writes (the events file, a redirected stdout): never
    /// scanned, in directory walks or given by name.
    pub own_outputs: Vec<FileId>,
    /// With more than one thread, mapped plain files larger than this are
    /// split among the threads in chunks of this size.
    pub chunk_bytes: usize,
}

/// Scans `paths` and returns the report (without `--fail-on` applied).
pub fn scan(
    catalog: &Catalog,
    paths: &[PathBuf],
    options: &Options,
    events: Option<Box<dyn Write + Send>>,
) -> Result<ScanOutcome, ScanError> {
    let started = Instant::now();
    let matcher = Matcher::new(catalog.entries().iter().map(|e| e.code.as_str()))?;
    let discovered = source::discover(paths, options.follow);
    let mut inputs = discovered.inputs;
    if !options.own_outputs.is_empty() {
        inputs.retain(|input| match input {
            Input::File(p) => std::fs::metadata(p)
                .map_or(true, |m| !options.own_outputs.contains(&FileId::of(&m))),
            Input::Stdin => true,
        });
    }
    let progress = Progress::new(options.progress, &inputs);
    let split = if options.threads > 1 {
        split_large(&mut inputs, options)
    } else {
        Vec::new()
    };
    let chunks: usize = split.iter().map(|f| f.chunks).sum();
    let shared = Shared {
        matcher: &matcher,
        inputs: &inputs,
        split: &split,
        next: AtomicUsize::new(0),
        events: events.map(|w| EventsOut {
            writer: Mutex::new(w),
            failed: AtomicBool::new(false),
            error: Mutex::new(None),
            format: EventFormat::new(catalog),
        }),
        progress: &progress,
        buffer_bytes: options.buffer_bytes,
        mmap_min_bytes: options.mmap_min_bytes,
        codes: catalog.len(),
    };
    let workers = options.threads.clamp(1, (inputs.len() + chunks).max(1));
    let results: Vec<WorkerResult> = std::thread::scope(|s| {
        // The calling thread is one of the workers; if the system refuses
        // threads, the scan goes on with those it got.
        let mut handles = Vec::with_capacity(workers - 1);
        for _ in 1..workers {
            match std::thread::Builder::new()
                .name("scan".into())
                .spawn_scoped(s, || shared.work())
            {
                Ok(h) => handles.push(h),
                Err(e) => {
                    source::threads_refused(&e);
                    break;
                }
            }
        }
        let mut results = vec![shared.work()];
        results.extend(
            handles
                .into_iter()
                .map(|h| h.join().expect("scan worker panicked")),
        );
        results
    });
    progress.finish();
    if let Some(ev) = &shared.events {
        let mut w = ev.writer.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = w.flush() {
            ev.fail(e);
        }
        if let Some(e) = ev.error.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Err(ScanError::Events {
                path: PathBuf::from("--events"),
                source: e,
            });
        }
    }

    let mut total = WorkerResult::new(catalog.len());
    let mut errors = discovered.errors;
    for r in results {
        total.counts.merge(&r.counts);
        total.files += r.files;
        total.bytes += r.bytes;
        total.lines += r.lines;
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
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(ScanOutcome {
        report,
        nothing_read,
        failed_categories: Vec::new(),
    })
}

/// What the workers share; everything mutable in it is behind an atomic or
/// a mutex that is taken once per input or per block of events.
struct Shared<'a> {
    matcher: &'a Matcher,
    inputs: &'a [Input],
    /// Large files whose chunks the workers take once `inputs` are taken.
    split: &'a [SplitFile],
    next: AtomicUsize,
    events: Option<EventsOut>,
    progress: &'a Progress,
    buffer_bytes: usize,
    mmap_min_bytes: Option<u64>,
    codes: usize,
}

struct EventsOut {
    writer: Mutex<Box<dyn Write + Send>>,
    /// Set when writing failed; workers stop rendering events then.
    failed: AtomicBool,
    error: Mutex<Option<io::Error>>,
    format: EventFormat,
}

impl EventsOut {
    fn write(&self, block: &[u8]) {
        if block.is_empty() || self.failed.load(Ordering::Relaxed) {
            return;
        }
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = w.write_all(block) {
            drop(w);
            self.fail(e);
        }
    }

    fn fail(&self, e: io::Error) {
        self.failed.store(true, Ordering::Relaxed);
        self.error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert(e);
    }
}

struct WorkerResult {
    counts: Counts,
    files: u64,
    bytes: u64,
    lines: u64,
    errors: Vec<InputError>,
}

impl WorkerResult {
    fn new(codes: usize) -> WorkerResult {
        WorkerResult {
            counts: Counts::new(codes),
            files: 0,
            bytes: 0,
            lines: 0,
            errors: Vec::new(),
        }
    }
}

/// Events are handed to the shared writer in blocks of about this size.
const EVENT_BLOCK_BYTES: usize = 64 * 1024;

impl Shared<'_> {
    fn work(&self) -> WorkerResult {
        let mut result = WorkerResult::new(self.codes);
        let mut searcher = Searcher::new(self.buffer_bytes);
        let mut events_buf = Vec::new();
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(input) = self.inputs.get(i) else {
                break;
            };
            let name = input.name();
            let mut progress = self.progress.counter();
            let mapped = match (input, self.mmap_min_bytes) {
                (Input::File(path), Some(min)) => source::map_plain(path, min),
                _ => Ok(None),
            };
            let map = match mapped {
                Ok(map) => map,
                Err(e) => {
                    result.errors.push(InputError::new(name, &e));
                    continue;
                }
            };
            if let Some(map) = map {
                let events = self
                    .events
                    .as_ref()
                    .filter(|e| !e.failed.load(Ordering::Relaxed));
                let mut sink = FileSink {
                    counts: &mut result.counts,
                    events: events.map(|out| FileEvents {
                        out,
                        source: events::json(&name),
                        buf: &mut events_buf,
                        matcher: self.matcher,
                    }),
                };
                let totals = map.search(&searcher, self.matcher, &mut sink, &mut progress);
                if let Some(ev) = &mut sink.events {
                    ev.out.write(ev.buf);
                    ev.buf.clear();
                }
                if map.changed() {
                    result.errors.push(changed(&name));
                }
                result.files += 1;
                result.bytes += totals.bytes;
                result.lines += totals.lines;
                continue;
            }
            let reader = match source::open(input, progress) {
                Ok((_, r)) => r,
                Err(e) => {
                    result.errors.push(InputError::new(name, &e));
                    continue;
                }
            };
            let events = self
                .events
                .as_ref()
                .filter(|e| !e.failed.load(Ordering::Relaxed));
            let mut sink = FileSink {
                counts: &mut result.counts,
                events: events.map(|out| FileEvents {
                    out,
                    source: events::json(&name),
                    buf: &mut events_buf,
                    matcher: self.matcher,
                }),
            };
            searcher.reset();
            let outcome = searcher.search_reader(self.matcher, reader, &mut sink);
            if let Some(ev) = &mut sink.events {
                ev.out.write(ev.buf);
                ev.buf.clear();
            }
            match outcome {
                Ok(totals) => {
                    result.files += 1;
                    result.bytes += totals.bytes;
                    result.lines += totals.lines;
                }
                Err(e) => {
                    // What was decoded before the failure is counted; an
                    // input that failed before its first byte was not read
                    // (and alone makes the exit status 2).
                    let totals = searcher.totals();
                    searcher.reset();
                    result.files += u64::from(totals.bytes > 0);
                    result.bytes += totals.bytes;
                    result.lines += totals.lines;
                    result.errors.push(InputError::new(name, &e));
                }
            }
        }
        // Then chunks of the large files, filling every worker to the end.
        for file in self.split {
            loop {
                let k = file.next.fetch_add(1, Ordering::Relaxed);
                if k >= file.chunks {
                    break;
                }
                self.search_chunk(file, k, &searcher, &mut result, &mut events_buf);
            }
        }
        result
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
        let lf = file.lf(k);
        let before: u64 = (0..k).map(|j| file.lf(j)).sum();
        let events = self
            .events
            .as_ref()
            .filter(|e| !e.failed.load(Ordering::Relaxed));
        let mut sink = FileSink {
            counts: &mut result.counts,
            events: events.map(|out| FileEvents {
                out,
                source: events::json(&file.name),
                buf: events_buf,
                matcher: self.matcher,
            }),
        };
        let bytes = file.map.bytes();
        searcher.search_range(self.matcher, bytes, range.clone(), before, &mut sink);
        if let Some(ev) = &mut sink.events {
            ev.out.write(ev.buf);
            ev.buf.clear();
        }
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

/// A large plain file split among the workers in chunks of `chunk_bytes`.
struct SplitFile {
    name: String,
    map: source::PlainMap,
    chunk_bytes: usize,
    chunks: usize,
    /// The next chunk to take.
    next: AtomicUsize,
    /// LF bytes of each chunk, `u64::MAX` until counted (by whichever
    /// worker needs it first: a chunk's own worker, or a later chunk's for
    /// its line numbers).
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
fn split_large(inputs: &mut Vec<Input>, options: &Options) -> Vec<SplitFile> {
    let Some(min) = options.mmap_min_bytes else {
        return Vec::new();
    };
    let chunk_bytes = options.chunk_bytes.max(1);
    let mut split = Vec::new();
    inputs.retain(|input| {
        let Input::File(path) = input else {
            return true;
        };
        let large = std::fs::metadata(path).is_ok_and(|m| m.len() > chunk_bytes as u64);
        if !large {
            return true;
        }
        let Ok(Some(map)) = source::map_plain(path, min) else {
            return true;
        };
        let chunks = map.bytes().len().div_ceil(chunk_bytes);
        split.push(SplitFile {
            name: input.name(),
            map,
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

/// The sink of one input: counts every hit, and renders events if asked.
struct FileSink<'a> {
    counts: &'a mut Counts,
    events: Option<FileEvents<'a>>,
}

struct FileEvents<'a> {
    out: &'a EventsOut,
    /// The input's name as a JSON string.
    source: String,
    buf: &'a mut Vec<u8>,
    matcher: &'a Matcher,
}

impl FileEvents<'_> {
    fn maybe_flush(&mut self) {
        if self.buf.len() >= EVENT_BLOCK_BYTES {
            self.out.write(self.buf);
            self.buf.clear();
        }
    }
}

impl Sink for FileSink<'_> {
    #[inline]
    fn known(&mut self, id: CodeId, pos: Position) {
        self.counts.add_known(id);
        if let Some(ev) = &mut self.events {
            ev.out
                .format
                .known(ev.buf, &ev.source, pos.offset, pos.line, id, None);
            ev.maybe_flush();
        }
    }

    #[inline]
    fn unknown(&mut self, code: UnknownCode, pos: Position) {
        self.counts.add_unknown(code);
        if let Some(ev) = &mut self.events {
            let prefix = ev.matcher.prefix(code.prefix);
            ev.out.format.unknown(
                ev.buf,
                &ev.source,
                pos.offset,
                pos.line,
                prefix,
                code.number,
                None,
            );
            ev.maybe_flush();
        }
    }
}

/// The size of a plain (uncompressed) file; `None` for a compressed one.
fn plain_size(path: &Path) -> Option<u64> {
    use std::io::Read;
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut head = [0u8; 4];
    let n = file.read(&mut head).ok()?;
    (source::Compression::detect(&head[..n]) == source::Compression::None).then_some(len)
}

/// The progress bar on stderr, in decompressed bytes (what the report
/// counts): done of the inputs' total size with rate and ETA when the
/// total is known (plain files), else done and rate. It stays hidden for the first moment, so quick scans print
/// nothing.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    const DELAY: Duration = Duration::from_millis(300);

    fn new(enabled: bool, inputs: &[Input]) -> Progress {
        if !enabled {
            return Progress { bar: None };
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
        Progress { bar: Some(bar) }
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

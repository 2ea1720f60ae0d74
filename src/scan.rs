//! `faultline scan`: batch analysis of files, directories, archives and
//! stdin, with a report at the end.
//!
//! Work is split by input: `--threads N` workers take the next input from a
//! shared index, each with its own [`Searcher`] (read buffer) and its own
//! [`Counts`], so workers share nothing on the per-hit path; their counts
//! are added up at the end. Each hit goes through the
//! [`crate::pipeline`] like `tail`'s: events (`--events`) are rendered into
//! a per-worker buffer and handed to the shared writer in blocks of whole
//! lines, so lines of different files never interleave mid-line. A failed
//! events write ends the scan with an error.
//!
//! An input that cannot be opened or read is recorded in the report's
//! `errors` and logged; the others are still scanned. Of an input that
//! fails part-way (a corrupt archive), what was read before the failure is
//! counted.

use crate::aggregate::Counts;
use crate::catalog::{Catalog, Category};
use crate::input::{self, Input, InputError};
use crate::matcher::{Matcher, MatcherError};
use crate::pipeline::{self, HitError, Hits, InputEvents};
use crate::search::Searcher;
use crate::sink::events::{self, EventWriter};
use crate::sink::report::Report;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// How to scan, independent of the command line.
#[derive(Clone, Debug)]
pub struct Options {
    /// Inputs searched at the same time (at least 1).
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
}

/// Scans `paths` and returns the report (without `--fail-on` applied).
pub fn scan(
    catalog: &Catalog,
    paths: &[PathBuf],
    options: &Options,
    events: Option<Box<dyn Write + Send>>,
) -> Result<ScanOutcome, ScanError> {
    let started = Instant::now();
    let matcher = pipeline::catalog_matcher(catalog)?;
    let discovered = input::discover(paths, options.follow);
    let inputs = discovered.inputs;
    let progress = ProgressBar::new(options.progress, &inputs);
    let pool = Workers {
        matcher: &matcher,
        inputs: &inputs,
        next: AtomicUsize::new(0),
        events: events.map(|w| EventWriter::new(catalog, w)),
        progress: &progress,
        buffer_bytes: options.buffer_bytes,
        mmap_min_bytes: options.mmap_min_bytes,
        codes: catalog.len(),
    };
    let workers = options.threads.clamp(1, inputs.len().max(1));
    let mut results: Vec<WorkerResult> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers).map(|_| s.spawn(|| pool.work())).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("scan worker panicked"))
            .collect()
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
struct Workers<'a> {
    matcher: &'a Matcher,
    inputs: &'a [Input],
    next: AtomicUsize,
    events: Option<EventWriter>,
    progress: &'a ProgressBar,
    buffer_bytes: usize,
    mmap_min_bytes: Option<u64>,
    codes: usize,
}

struct WorkerResult {
    counts: Counts,
    files: u64,
    bytes: u64,
    lines: u64,
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
            // Another worker could not write events: the scan has failed.
            if self.events.as_ref().is_some_and(|w| w.is_closed()) {
                break;
            }
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(input) = self.inputs.get(i) else {
                break;
            };
            let name = input.name();
            if self.events.is_some() {
                name_json = events::json(&name);
            }
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
            let mut sink =
                Hits::new(&mut result.counts, self.matcher).with_events(self.events.as_ref().map(
                    |w| InputEvents::in_blocks(w, &name_json, &mut events_buf, EVENT_BLOCK_BYTES),
                ));
            let searched = if let Some(map) = &map {
                map.search(&searcher, self.matcher, &mut sink, &mut progress)
            } else {
                match input::open(input, progress) {
                    Ok((_, reader)) => {
                        searcher.reset();
                        searcher.search_reader(self.matcher, reader, &mut sink)
                    }
                    Err(e) => {
                        result.errors.push(InputError::new(name, &e));
                        continue;
                    }
                }
            };
            let searched = searched.and_then(|t| sink.finish().map(|_| t));
            result.files += 1;
            match searched {
                Ok(totals) => {
                    result.bytes += totals.bytes;
                    result.lines += totals.lines;
                }
                Err(HitError::Input(e)) => {
                    // What was decoded before the failure is counted.
                    let totals = searcher.totals();
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
                break;
            }
        }
        result
    }
}

/// The progress bar on stderr: bytes read of the inputs' total size, rate
/// and ETA. It stays hidden for the first moment, so quick scans print
/// nothing.
struct ProgressBar {
    bar: Option<indicatif::ProgressBar>,
}

impl ProgressBar {
    const DELAY: Duration = Duration::from_millis(300);

    fn new(enabled: bool, inputs: &[Input]) -> ProgressBar {
        if !enabled {
            return ProgressBar { bar: None };
        }
        let total: u64 = inputs
            .iter()
            .filter_map(|i| match i {
                Input::File(p) => std::fs::metadata(Path::new(p)).ok().map(|m| m.len()),
                Input::Stdin => None,
            })
            .sum();
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(total),
            indicatif::ProgressDrawTarget::hidden(),
        );
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}",
            )
            .expect("the progress template is valid"),
        );
        let shown = bar.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Self::DELAY);
            if !shown.is_finished() {
                shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
        });
        ProgressBar { bar: Some(bar) }
    }

    /// A callback that advances the bar by the raw bytes read.
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

//! `faultline scan` as the command line asks: flags and terminals to
//! [`scan::Options`], the events output opened, the report printed on
//! stdout (on stderr with `--events -`, stdout being the events stream),
//! `--fail-on` applied to the exit status.

use super::{ReportFormat, ScanArgs};
use faultline::catalog::Catalog;
use faultline::scan::{self, FileId, Options, ScanError, ScanOutcome};
use faultline::sink::report::Report;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

/// Runs `scan` and prints the report; the outcome says the exit status.
pub fn run(catalog: &Catalog, args: &ScanArgs, quiet: bool) -> Result<ScanOutcome, ScanError> {
    let (started, clock) = (SystemTime::now(), Instant::now());
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
        Some(_) if events_to_stdout => Some(Box::new(io::stdout())),
        Some(p) => {
            let file = File::create(p).map_err(|source| ScanError::Events {
                path: p.clone(),
                source,
            })?;
            own_outputs.extend(file.metadata().ok().map(|m| FileId::of(&m)));
            Some(Box::new(file))
        }
    };
    own_outputs.extend(FileId::of_fd(1));
    let threads = args.threads.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(usize::from(super::MAX_THREADS))
    });
    let options = Options {
        threads,
        buffer_bytes: args.buffer_bytes,
        mmap_min_bytes: (!args.no_mmap).then_some(args.mmap_min_bytes),
        follow: args.follow,
        progress: !quiet && io::stderr().is_terminal(),
        own_outputs,
        chunk_bytes: usize::try_from(args.chunk_bytes).unwrap_or(usize::MAX),
        started,
    };
    // The library writes events to a writer it cannot name: a failed
    // write is reported here with the file the user gave.
    let mut outcome =
        scan::scan(catalog, &paths, &options, events).map_err(|e| match (e, &args.events) {
            (ScanError::Events { source, .. }, Some(path)) => ScanError::Events {
                path: path.clone(),
                source,
            },
            (e, _) => e,
        })?;
    outcome.report.elapsed_ms = clock.elapsed().as_millis() as u64;
    for e in &outcome.report.errors {
        log::error!(
            "{}: {}",
            faultline::sink::report::escape_controls(&e.path),
            e.error
        );
    }
    outcome.failed_categories = args
        .fail_on
        .iter()
        .copied()
        .filter(|c| outcome.report.by_category.get(c).is_some_and(|&n| n > 0))
        .collect();
    let color = args.color.enabled(report_is_terminal);
    if !events_to_stdout {
        write_report(
            &outcome.report,
            format,
            (catalog, args.top, color),
            io::stdout().lock(),
        )?;
    } else if !quiet {
        write_report(
            &outcome.report,
            format,
            (catalog, args.top, color),
            io::stderr().lock(),
        )?;
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

/// `text` is what the text format needs: the catalog, `--top` and
/// whether to colour.
fn write_report(
    report: &Report,
    format: ReportFormat,
    text: (&Catalog, usize, bool),
    out: impl Write,
) -> Result<(), ScanError> {
    let mut out = BufWriter::new(out);
    let (catalog, top, color) = text;
    match format {
        ReportFormat::Json => report.write_json(&mut out),
        ReportFormat::Text => report.write_text(&mut out, catalog, top, color),
    }
    .and_then(|()| out.flush())
    .map_err(ScanError::Output)
}

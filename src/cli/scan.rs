//! `faultline scan` as the command line asks: flags and terminals to
//! [`scan::Options`], the events output opened, the report printed on
//! stdout, `--fail-on` applied to the exit status.

use super::{ReportFormat, ScanArgs};
use faultline::catalog::Catalog;
use faultline::scan::{self, Options, ScanError, ScanOutcome};
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;

/// Runs `scan` and prints the report; the outcome says the exit status.
pub fn run(catalog: &Catalog, args: &ScanArgs, quiet: bool) -> Result<ScanOutcome, ScanError> {
    let mut paths = args.paths.clone();
    if paths.is_empty() {
        if io::stdin().is_terminal() {
            return Err(ScanError::NoInput);
        }
        paths.push(PathBuf::from("-"));
    }
    let format = args.format.unwrap_or(if io::stdout().is_terminal() {
        ReportFormat::Text
    } else {
        ReportFormat::Json
    });
    let events: Option<Box<dyn Write + Send>> = match &args.events {
        None => None,
        Some(p) if p.as_os_str() == "-" => Some(Box::new(io::stdout())),
        Some(p) => Some(Box::new(File::create(p).map_err(|source| {
            ScanError::Events {
                path: p.clone(),
                source,
            }
        })?)),
    };
    let threads = args
        .threads
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let options = Options {
        threads,
        buffer_bytes: args.buffer_bytes,
        mmap_min_bytes: (!args.no_mmap).then_some(args.mmap_min_bytes),
        follow: args.follow,
        progress: !quiet && io::stderr().is_terminal(),
    };
    let mut outcome = scan::scan(catalog, &paths, &options, events)?;
    for e in &outcome.report.errors {
        log::error!("{}: {}", e.path, e.error);
    }
    outcome.failed_categories = args
        .fail_on
        .iter()
        .copied()
        .filter(|c| outcome.report.by_category.get(c).is_some_and(|&n| n > 0))
        .collect();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match format {
        ReportFormat::Json => outcome.report.write_json(&mut out),
        ReportFormat::Text => outcome.report.write_text(&mut out, catalog, args.top),
    }
    .and_then(|()| out.flush())
    .map_err(ScanError::Output)?;
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

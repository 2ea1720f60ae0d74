//! `faultline merge` as the command line asks: the shards' reports read
//! and added up by [`faultline::merge`], the report of one run printed.

use super::{MergeArgs, ReportFormat};
use anyhow::{Context, Result};
use faultline::catalog::Catalog;
use std::io::{IsTerminal, Write};

/// Reads every report of `args`, adds them up and writes the result to
/// `out`. `catalog` is loaded only for the text format (its top-codes
/// table names the codes' services and messages).
pub fn run(
    out: &mut impl Write,
    args: &MergeArgs,
    catalog: impl FnOnce() -> Result<Catalog>,
) -> Result<()> {
    let reports = args
        .reports
        .iter()
        .map(|p| faultline::merge::read(p))
        .collect::<Result<Vec<_>, _>>()?;
    let report = faultline::merge::merge(reports);
    match args.format {
        ReportFormat::Json => report.write_json(out),
        ReportFormat::Text => {
            let color = args.color.enabled(std::io::stdout().is_terminal());
            report.write_text(out, &catalog()?, args.top, color)
        }
    }
    .context("writing the merged report")
}

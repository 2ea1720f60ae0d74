//! Summaries: each window's [`WindowSummary`] as one JSON line, to a file
//! (appended to, so restarts continue it) or stdout, flushed at once so
//! that whoever reads it sees a window as soon as it closes.

use crate::metrics::DeliveryStats;
use crate::window::WindowSummary;
use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

pub struct SummaryOut {
    out: Box<dyn Write + Send>,
    stats: Arc<DeliveryStats>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot open the summaries file {path}: {source}")]
pub struct SummaryOpenError {
    pub path: PathBuf,
    pub source: io::Error,
}

impl SummaryOut {
    /// `-` is stdout; anything else a file opened for appending.
    pub fn open(target: &str) -> Result<SummaryOut, SummaryOpenError> {
        let out: Box<dyn Write + Send> = if target == "-" {
            Box::new(io::stdout())
        } else {
            let path = PathBuf::from(target);
            Box::new(
                File::options()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|source| SummaryOpenError { path, source })?,
            )
        };
        Ok(SummaryOut {
            out,
            stats: Arc::default(),
        })
    }

    pub fn write(&mut self, summary: &WindowSummary) -> io::Result<()> {
        let mut line = serde_json::to_vec(summary)?;
        line.push(b'\n');
        self.out.write_all(&line)?;
        self.out.flush()?;
        self.stats.sent.fetch_add(1, Relaxed);
        Ok(())
    }

    /// How delivery is going, for the metrics.
    pub fn delivery(&self) -> Arc<DeliveryStats> {
        self.stats.clone()
    }
}

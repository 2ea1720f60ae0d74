//! Summaries: each window's [`WindowSummary`] as one JSON line, to a file
//! (appended to, so restarts continue it) or stdout, flushed at once so
//! that whoever reads it sees a window as soon as it closes; or, for an
//! `http://` or `https://` target, POSTed by [`post`](super::post) without
//! ever making the tail wait.

use super::delivery::DeliveryStats;
use super::post::{PostConfig, PostError, Poster, is_url};
use crate::window::WindowSummary;
use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

pub struct SummaryOut {
    target: Target,
    stats: Arc<DeliveryStats>,
}

enum Target {
    Write(Box<dyn Write + Send>),
    Post(Poster),
}

/// The cause is in the message, not chained as a source: `main` prints
/// the chain too, and would say it twice.
#[derive(Debug, thiserror::Error)]
pub enum SummaryOpenError {
    #[error("cannot open the summaries file {path}: {error}")]
    File { path: PathBuf, error: io::Error },
    #[error(transparent)]
    Post(#[from] PostError),
}

impl SummaryOut {
    /// `-` is stdout; an http(s) URL is POSTed to with the default
    /// [`PostConfig`]; anything else a file opened for appending.
    pub fn open(target: &str) -> Result<SummaryOut, SummaryOpenError> {
        SummaryOut::open_with(target, PostConfig::default())
    }

    /// As [`open`](Self::open), delivering to a URL as `post` says.
    pub fn open_with(target: &str, post: PostConfig) -> Result<SummaryOut, SummaryOpenError> {
        let stats = Arc::new(DeliveryStats::default());
        let target = if is_url(target) {
            Target::Post(Poster::start(target, post, stats.clone())?)
        } else if target == "-" {
            Target::Write(Box::new(io::stdout()))
        } else {
            let path = PathBuf::from(target);
            Target::Write(Box::new(
                File::options()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|error| SummaryOpenError::File { path, error })?,
            ))
        };
        Ok(SummaryOut { target, stats })
    }

    /// Writes a summary, or queues it for delivery (which cannot fail here:
    /// delivery failures are counted and logged by the delivery task).
    pub fn write(&mut self, summary: &WindowSummary) -> io::Result<()> {
        let mut line = serde_json::to_vec(summary)?;
        match &mut self.target {
            Target::Write(out) => {
                line.push(b'\n');
                out.write_all(&line)?;
                out.flush()?;
                self.stats.sent.fetch_add(1, Relaxed);
            }
            Target::Post(poster) => poster.push(line.into()),
        }
        Ok(())
    }

    /// How delivery is going, for the metrics.
    pub fn delivery(&self) -> Arc<DeliveryStats> {
        self.stats.clone()
    }

    /// At shutdown: lets queued summaries go out for a short, bounded time.
    pub fn finish(self) {
        if let Target::Post(poster) = self.target {
            poster.finish();
        }
    }
}

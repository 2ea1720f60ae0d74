//! Summaries: each window's [`WindowSummary`] as one JSON line, to a file
//! (appended to, so restarts continue it) or stdout, flushed at once so
//! that whoever reads it sees a window as soon as it closes; or, for an
//! `http://` or `https://` target, POSTed by [`post`](super::post) without
//! ever making the tail wait.
//!
//! A summaries file holds whole lines only: each line goes out in one
//! `write` on an `O_APPEND` file, a short write (the disk filled up in the
//! middle of it) is cut back off, and a file found ending in a torn line
//! at start (a crash or full disk of an older version) has that line ended
//! before the first new one. A write that fails (a full disk, a file size
//! limit) is logged and counted, and the line is kept, with the ones after
//! it, to be written again with the next summary; beyond the queue size the
//! oldest are dropped and counted. The agent never stops for it.

use super::delivery::DeliveryStats;
use super::post::{PostConfig, PostError, Poster, is_url};
use crate::window::WindowSummary;
use std::collections::VecDeque;
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
    File(FileOut),
    Post(Poster),
}

/// A summaries file and the lines not yet written to it.
struct FileOut {
    file: File,
    path: PathBuf,
    /// Whole lines, newline included, oldest first; at most `capacity`.
    pending: VecDeque<Vec<u8>>,
    capacity: usize,
    /// The file ended in a torn line when opened: the next line written
    /// starts with a newline that ends it.
    torn: bool,
    /// Writes failed since the last one that went through.
    failures_in_a_row: u64,
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
            match FileOut::open(path.clone(), post.queue) {
                Ok(f) => Target::File(f),
                Err(error) => return Err(SummaryOpenError::File { path, error }),
            }
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
            Target::File(file) => {
                line.push(b'\n');
                file.push(line, &self.stats);
            }
            Target::Post(poster) => poster.push(line.into()),
        }
        Ok(())
    }

    /// How delivery is going, for the metrics.
    pub fn delivery(&self) -> Arc<DeliveryStats> {
        self.stats.clone()
    }

    /// At shutdown: lets queued summaries go out for a short, bounded time
    /// (a URL's; a file's are written once more, at once).
    pub async fn finish(self) {
        match self.target {
            Target::Post(poster) => poster.finish().await,
            Target::File(mut file) => {
                file.flush(&self.stats);
                let left = file.pending.len() as u64;
                if left > 0 {
                    self.stats.dropped.fetch_add(left, Relaxed);
                    self.stats.queued.store(0, Relaxed);
                    log::error!(
                        "summaries: {left} could not be written to {} before shutdown; dropped",
                        file.path.display()
                    );
                }
            }
            Target::Write(_) => {}
        }
    }
}

impl FileOut {
    fn open(path: PathBuf, capacity: usize) -> io::Result<FileOut> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = File::options()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)?;
        let len = file.metadata()?.len();
        let torn = len > 0 && {
            let mut last = [0u8];
            file.seek(SeekFrom::Start(len - 1))?;
            file.read_exact(&mut last)?;
            last[0] != b'\n'
        };
        if torn {
            log::warn!(
                "summaries: {} ends in a torn line (an earlier run was stopped while writing it); ending it before the next summary",
                path.display()
            );
        }
        Ok(FileOut {
            file,
            path,
            pending: VecDeque::new(),
            capacity: capacity.max(1),
            torn,
            failures_in_a_row: 0,
        })
    }

    /// Queues `line` (newline included) and writes what is queued.
    fn push(&mut self, line: Vec<u8>, stats: &DeliveryStats) {
        if self.pending.len() >= self.capacity {
            self.pending.pop_front();
            stats.dropped.fetch_add(1, Relaxed);
            log::warn!(
                "summaries: {} still cannot be written; {} queued, dropped the oldest; {} dropped in all",
                self.path.display(),
                self.capacity,
                stats.dropped.load(Relaxed)
            );
        }
        self.pending.push_back(line);
        self.flush(stats);
    }

    /// Writes the queued lines in order, each in one `write`, until one
    /// fails; that one and the rest stay queued.
    fn flush(&mut self, stats: &DeliveryStats) {
        while let Some(line) = self.pending.front_mut() {
            if self.torn {
                line.insert(0, b'\n');
                self.torn = false;
            }
            match whole_line(&mut self.file, line) {
                Ok(()) => {
                    self.pending.pop_front();
                    stats.sent.fetch_add(1, Relaxed);
                    if self.failures_in_a_row > 0 {
                        log::info!(
                            "summaries: {} takes them again, after {} failed attempts",
                            self.path.display(),
                            self.failures_in_a_row
                        );
                        self.failures_in_a_row = 0;
                    }
                }
                Err(e) => {
                    stats.failed.fetch_add(1, Relaxed);
                    self.failures_in_a_row += 1;
                    if self.failures_in_a_row == 1 {
                        log::warn!(
                            "summaries: cannot write to {}: {e}; keeping the summaries to write again with the next one (free some space on its file system)",
                            self.path.display()
                        );
                    }
                    break;
                }
            }
        }
        stats.queued.store(self.pending.len() as u64, Relaxed);
    }
}

/// Appends `line` whole, or not at all: in one `write`, which on an
/// `O_APPEND` file lands whole unless the file system fills up in the
/// middle. Then the rest is tried, to learn why (or to finish the line if
/// space came back), and on failure the part written is cut back off the
/// end of the file: only this process appends to its summaries file.
fn whole_line(file: &mut File, line: &[u8]) -> io::Result<()> {
    let mut written = 0;
    while written < line.len() {
        match file.write(&line[written..]) {
            Ok(0) => {
                return cut_back(file, written, io::ErrorKind::WriteZero.into());
            }
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return cut_back(file, written, e),
        }
    }
    Ok(())
}

/// Removes the last `written` bytes of `file` (the start of a line that
/// could not be finished); returns `error`, why it could not.
fn cut_back(file: &mut File, written: usize, error: io::Error) -> io::Result<()> {
    if written > 0 {
        let len = file.metadata()?.len();
        file.set_len(len.saturating_sub(written as u64))?;
    }
    Err(error)
}

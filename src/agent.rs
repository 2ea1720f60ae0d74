//! What the two agents of `tail` share: following files ([`crate::tail`])
//! and reading a Kafka consumer group ([`crate::kafka`]) start the same
//! outputs (the events file, the summaries, the metrics) and fail at
//! start-up for the same reasons. This module owns those outputs' opening
//! and the one error type of it, [`AgentError`], so that each cause is
//! written, and worded, once; each agent's own error wraps it beside its
//! own causes (patterns and checkpoint; the consumer and its state).
//!
//! It also owns how an agent logs an error it survives (a failed save, a
//! failed delivery): the error and its causes on one line, as the command
//! layer prints a fatal one.

use crate::matcher::MatcherError;
use crate::metrics::ServeError;
use crate::sink::post::PostConfig;
use crate::sink::summaries::{SummaryOpenError, SummaryOut};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why an agent could not start, or stopped: common to both agents.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(transparent)]
    Summaries(#[from] SummaryOpenError),
    #[error(transparent)]
    Matcher(#[from] MatcherError),
    #[error(transparent)]
    Metrics(#[from] ServeError),
    #[error("cannot open the events file {path}")]
    Events { path: PathBuf, source: io::Error },
    #[error("writing summaries")]
    WriteSummary(#[source] io::Error),
}

/// The events output: none, stdout for `-`, else the file, appended to
/// (a restarted agent continues it).
pub fn open_events(path: Option<&Path>) -> Result<Option<Box<dyn Write + Send>>, AgentError> {
    let Some(path) = path else { return Ok(None) };
    if path.as_os_str() == "-" {
        return Ok(Some(Box::new(io::stdout())));
    }
    let file = std::fs::File::options()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| AgentError::Events {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(Some(Box::new(file)))
}

/// The summaries output `target` (a file, `-` or a URL), delivering to a
/// URL at the pace of windows of `interval` with at most `queue` waiting.
/// A URL's delivery task is spawned on the current tokio runtime.
pub fn open_summaries(
    target: &str,
    interval: Duration,
    queue: usize,
) -> Result<SummaryOut, AgentError> {
    Ok(SummaryOut::open_with(
        target,
        PostConfig::for_interval(interval, queue),
    )?)
}

/// An error and its causes, `: `-separated, as the command layer prints a
/// fatal one: for the errors an agent logs and survives.
pub fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_is_said_once() {
        let e = AgentError::Events {
            path: PathBuf::from("/x/events.jsonl"),
            source: io::Error::from_raw_os_error(libc::ENOSPC),
        };
        let text = with_causes(&e);
        assert_eq!(text.matches("No space left on device").count(), 1, "{text}");
        assert!(text.starts_with("cannot open the events file /x/events.jsonl: "));
    }
}

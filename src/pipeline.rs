//! The hit pipeline: what happens to each code the searcher finds, the same
//! for every command. [`Hits`] is the one [`Sink`] of `scan` and `tail`: it
//! fans a hit out to what the command asked for, and `scan` and `tail`
//! differ only in what they hand it:
//!
//! - the count ([`Tally`]): a scan worker's [`Counts`], or the tail's
//!   window ([`WindowAggregator`], which also feeds the live metrics);
//! - the latency: when the bytes were seen readable (`tail`), so each hit
//!   is timed; `scan` times nothing and reads no clock per hit;
//! - the events ([`InputEvents`]): rendered into a caller-owned buffer and
//!   handed to the one [`EventWriter`] in blocks of whole lines, or kept
//!   for the caller to hand over (`tail` flushes after each read);
//! - the time written on the hit's line ([`Hits::with_line_times`]):
//!   `scan` reads it for its timeline and the events' `log_ts`; `tail`
//!   does not ask for the hit's line and pays nothing.
//!
//! The only way a hit can fail is writing events; the failure comes back
//! to the searcher as the sink's error and ends the search of the input.
//! Nothing is smuggled past the [`Sink`] interface.
//!
//! Costs per hit: one counter increment (an array slot for a known code, a
//! bounded map for an unknown one, see [`crate::bounded_counts`]), a clock
//! read when timed, with line times a search of the hit's line for its
//! timestamp, and, with events, a few slices appended to the buffer. No
//! allocation.

use crate::aggregate::Counts;
use crate::catalog::{Catalog, CodeId};
use crate::matcher::{Matcher, MatcherError, UnknownCode};
use crate::search::{Flow, Position, Sink};
use crate::sink::events::EventWriter;
use crate::timestamp::{Finder, UnixMs};
use crate::window::WindowAggregator;
use std::io;
use std::time::{Duration, Instant};

/// The matcher of a catalog's codes; the one place a catalog becomes a
/// matcher, so every command numbers codes and prefixes alike.
pub fn catalog_matcher(catalog: &Catalog) -> Result<Matcher, MatcherError> {
    Matcher::new(catalog.entries().iter().map(|e| e.code.as_str()))
}

/// Where hits are counted. `latency` is given when the command times hits;
/// `logged`, the time written on the hit's line, when the command reads
/// line times ([`Hits::with_line_times`]) and the line has one.
pub trait Tally {
    fn known(&mut self, id: CodeId, latency: Option<Duration>, logged: Option<UnixMs>);
    fn unknown(&mut self, code: UnknownCode, latency: Option<Duration>);
}

impl Tally for Counts {
    #[inline]
    fn known(&mut self, id: CodeId, _latency: Option<Duration>, _logged: Option<UnixMs>) {
        self.add_known(id);
    }
    #[inline]
    fn unknown(&mut self, code: UnknownCode, _latency: Option<Duration>) {
        self.add_unknown(code);
    }
}

impl Tally for WindowAggregator {
    #[inline]
    fn known(&mut self, id: CodeId, latency: Option<Duration>, _logged: Option<UnixMs>) {
        WindowAggregator::known(self, id, latency.unwrap_or_default());
    }
    #[inline]
    fn unknown(&mut self, code: UnknownCode, latency: Option<Duration>) {
        WindowAggregator::unknown(self, code, latency.unwrap_or_default());
    }
}

/// The events of one input: its name, the time stamp to add (`tail`), and
/// the caller's buffer the lines are rendered into.
pub struct InputEvents<'a> {
    writer: &'a EventWriter,
    /// The input's name as a JSON string (see [`crate::sink::events::json`]).
    name_json: &'a str,
    ts: Option<&'a str>,
    buf: &'a mut Vec<u8>,
    /// Hand the buffer to the writer once it holds this many bytes; `None`:
    /// the caller hands it over.
    block_bytes: Option<usize>,
}

impl<'a> InputEvents<'a> {
    /// Events rendered into `buf`, handed to `writer` in blocks of about
    /// `block_bytes` and by [`Hits::finish`].
    pub fn in_blocks(
        writer: &'a EventWriter,
        name_json: &'a str,
        buf: &'a mut Vec<u8>,
        block_bytes: usize,
    ) -> InputEvents<'a> {
        InputEvents {
            writer,
            name_json,
            ts: None,
            buf,
            block_bytes: Some(block_bytes),
        }
    }

    /// Events stamped `ts`, rendered into `buf` for the caller to hand to
    /// the writer.
    pub fn buffered(
        writer: &'a EventWriter,
        name_json: &'a str,
        ts: &'a str,
        buf: &'a mut Vec<u8>,
    ) -> InputEvents<'a> {
        InputEvents {
            writer,
            name_json,
            ts: Some(ts),
            buf,
            block_bytes: None,
        }
    }

    #[inline]
    fn after_line(&mut self) -> io::Result<Flow> {
        match self.block_bytes {
            Some(n) if self.buf.len() >= n => self.hand_over(),
            _ => Ok(Flow::Continue),
        }
    }

    fn hand_over(&mut self) -> io::Result<Flow> {
        let flow = self.writer.write_block(self.buf);
        self.buf.clear();
        flow
    }
}

/// Why the search of an input ended early: its own read failed, or the
/// events could not be written (which ends the command).
#[derive(Debug, thiserror::Error)]
pub enum HitError {
    #[error("reading the input")]
    Input(#[source] io::Error),
    #[error("writing events")]
    Events(#[source] io::Error),
}

impl From<io::Error> for HitError {
    /// The searcher's own errors are read errors.
    fn from(e: io::Error) -> HitError {
        HitError::Input(e)
    }
}

impl From<HitError> for io::Error {
    fn from(e: HitError) -> io::Error {
        match e {
            HitError::Input(e) | HitError::Events(e) => e,
        }
    }
}

/// The sink of one input: counts each hit, times it, reads the time on its
/// line, renders its event.
pub struct Hits<'a, T: Tally> {
    tally: &'a mut T,
    /// Names unknown codes (stem and digits of their family) in events.
    matcher: &'a Matcher,
    /// When the bytes being searched were seen readable.
    seen_at: Option<Instant>,
    events: Option<InputEvents<'a>>,
    /// Reads the time on each hit's line, when asked.
    line_times: Option<Finder>,
    /// The time on the line of the hit being reported.
    line_ms: Option<UnixMs>,
}

impl<'a, T: Tally> Hits<'a, T> {
    pub fn new(tally: &'a mut T, matcher: &'a Matcher) -> Hits<'a, T> {
        Hits {
            tally,
            matcher,
            seen_at: None,
            events: None,
            line_times: None,
            line_ms: None,
        }
    }

    /// Reads the time written on each hit's line with `finder`, for the
    /// tally and the events' `log_ts`.
    pub fn with_line_times(mut self, finder: Finder) -> Self {
        self.line_times = Some(finder);
        self
    }

    /// Times each hit from `seen_at`.
    pub fn timed(mut self, seen_at: Instant) -> Self {
        self.seen_at = Some(seen_at);
        self
    }

    /// Renders events too, when given.
    pub fn with_events(mut self, events: Option<InputEvents<'a>>) -> Self {
        self.events = events;
        self
    }

    /// The input is done: hands the events still buffered to the writer
    /// (those of [`InputEvents::in_blocks`]; buffered ones stay the
    /// caller's).
    pub fn finish(&mut self) -> Result<Flow, HitError> {
        match &mut self.events {
            Some(ev) if ev.block_bytes.is_some() => ev.hand_over().map_err(HitError::Events),
            _ => Ok(Flow::Continue),
        }
    }
}

impl<T: Tally> Sink for Hits<'_, T> {
    type Error = HitError;

    #[inline]
    fn wants_hit_line(&self) -> bool {
        self.line_times.is_some()
    }

    fn hit_line(&mut self, line: &[u8]) {
        if let Some(finder) = &mut self.line_times {
            self.line_ms = finder.find(line);
        }
    }

    #[inline]
    fn known(&mut self, id: CodeId, pos: Position) -> Result<Flow, HitError> {
        self.tally
            .known(id, self.seen_at.map(|t| t.elapsed()), self.line_ms);
        let Some(ev) = &mut self.events else {
            return Ok(Flow::Continue);
        };
        ev.writer.format().known(
            ev.buf,
            ev.name_json,
            pos.offset,
            pos.line,
            id,
            ev.ts,
            self.line_ms,
        );
        ev.after_line().map_err(HitError::Events)
    }

    #[inline]
    fn unknown(&mut self, code: UnknownCode, pos: Position) -> Result<Flow, HitError> {
        self.tally.unknown(code, self.seen_at.map(|t| t.elapsed()));
        let Some(ev) = &mut self.events else {
            return Ok(Flow::Continue);
        };
        ev.writer.format().unknown(
            ev.buf,
            ev.name_json,
            pos.offset,
            pos.line,
            self.matcher.unknown_text(code),
            ev.ts,
            self.line_ms,
        );
        ev.after_line().map_err(HitError::Events)
    }
}

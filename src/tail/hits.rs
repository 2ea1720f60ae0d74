//! Where the tail engine's hits go: the window aggregator (counts,
//! latency, metrics) and the events. [`TailSink`] is the one sink every
//! read of a followed file or of stdin goes through (built by
//! `Tailer::sink_for`).

use crate::catalog::CodeId;
use crate::matcher::{Matcher, UnknownCode};
use crate::search::{Position, Sink};
use crate::sink::events::EventFormat;
use crate::window::WindowAggregator;
use std::io::Write;
use std::time::Instant;

/// Where events go, with the bytes rendered since the last flush.
pub struct EventsOut {
    pub format: EventFormat,
    pub out: Box<dyn Write + Send>,
    pub buf: Vec<u8>,
}

/// Counts hits into the window and renders events, timing each hit from
/// the moment its bytes were seen to be readable.
pub(super) struct TailSink<'a> {
    pub agg: &'a mut WindowAggregator,
    pub seen_at: Instant,
    pub matcher: &'a Matcher,
    pub events: Option<(&'a EventFormat, &'a mut Vec<u8>, &'a str, &'a str)>,
}

impl Sink for TailSink<'_> {
    fn known(&mut self, id: CodeId, pos: Position) {
        self.agg.known(id, self.seen_at.elapsed());
        if let Some((format, buf, source, ts)) = &mut self.events {
            format.known(buf, source, pos.offset, pos.line, id, Some(ts));
        }
    }

    fn unknown(&mut self, code: UnknownCode, pos: Position) {
        self.agg.unknown(code, self.seen_at.elapsed());
        if let Some((format, buf, source, ts)) = &mut self.events {
            let prefix = self.matcher.prefix(code.prefix);
            format.unknown(
                buf,
                source,
                pos.offset,
                pos.line,
                prefix,
                code.number,
                Some(ts),
            );
        }
    }
}

//! A partition this instance owns, and how a message's hits reach it:
//! [`PartitionTally`] counts into the window and the partition's counts
//! since its last landed commit; [`AtMessage`] names the message in events.

use super::ledger::Ledger;
use crate::aggregate::Counts;
use crate::catalog::{Catalog, CodeId};
use crate::matcher::UnknownCode;
use crate::pipeline::Tally;
use crate::search::{Flow, Position, Sink};
use crate::sink::events;
use crate::timestamp::UnixMs;
use crate::window::{CumulativeTotals, WindowAggregator};
use std::time::Duration;

/// A partition this instance owns now.
pub(super) struct Owned {
    pub(super) topic: String,
    pub(super) partition: i32,
    /// `"kafka:TOPIC/PARTITION"` as a JSON string, for events.
    pub(super) source: String,
    /// Which ownership this is: a partition lost and got back is a new one.
    pub(super) epoch: u64,
    /// The offset after the last message read.
    pub(super) next: Option<i64>,
    /// The offset last committed (by anyone) as far as known.
    pub(super) committed: Option<i64>,
    /// The ledger of the last commit; `None` until read from Kafka.
    pub(super) ledger: Option<Ledger>,
    /// Counts of the messages read since the last landed commit.
    pub(super) counts: Counts,
    pub(super) lines: u64,
    pub(super) bytes: u64,
    /// Counts from before a catalog reload, by code name.
    pub(super) carried: CumulativeTotals,
}

impl Owned {
    pub(super) fn new(topic: &str, partition: i32, codes: usize, epoch: u64) -> Owned {
        Owned {
            topic: topic.to_string(),
            partition,
            source: events::json(&format!("kafka:{topic}/{partition}")),
            epoch,
            next: None,
            committed: None,
            ledger: None,
            counts: Counts::new(codes),
            lines: 0,
            bytes: 0,
            carried: CumulativeTotals::default(),
        }
    }

    /// The uncommitted counts by code name, and zero in their place.
    pub(super) fn take_counts(&mut self, catalog: &Catalog) -> CumulativeTotals {
        let mut t = std::mem::take(&mut self.carried);
        let counts = std::mem::replace(&mut self.counts, Counts::new(catalog.len()));
        t.lines += std::mem::take(&mut self.lines);
        t.bytes += std::mem::take(&mut self.bytes);
        t.hits += counts.hits;
        t.unknown += counts.unknown_total;
        for (id, &n) in counts.by_code.iter().enumerate() {
            if n > 0 {
                *t.by_code
                    .entry(catalog.entry(id as CodeId).code.clone())
                    .or_insert(0) += n;
            }
        }
        t
    }

    pub(super) fn has_new(&self) -> bool {
        self.next.is_some() && self.next != self.committed
    }
}

/// Where a message's hits are counted: the window, and the partition's
/// counts since its last landed commit.
pub(super) struct PartitionTally<'a> {
    pub(super) window: &'a mut WindowAggregator,
    pub(super) counts: &'a mut Counts,
}

impl Tally for PartitionTally<'_> {
    #[inline]
    fn known(&mut self, id: CodeId, latency: Option<Duration>, logged: Option<UnixMs>) {
        Tally::known(self.window, id, latency, logged);
        self.counts.add_known(id);
    }
    #[inline]
    fn unknown(&mut self, code: UnknownCode, latency: Option<Duration>) {
        Tally::unknown(self.window, code, latency);
        self.counts.add_unknown(code);
    }
}

/// Gives each hit the message's offset in place of the byte offset within
/// the message: an event names the message (SPEC, "tail from Kafka").
pub(super) struct AtMessage<S> {
    pub(super) hits: S,
    pub(super) offset: u64,
}

impl<S: Sink> Sink for AtMessage<S> {
    type Error = S::Error;

    #[inline]
    fn known(&mut self, id: CodeId, pos: Position) -> Result<Flow, S::Error> {
        let pos = Position {
            offset: self.offset,
            ..pos
        };
        self.hits.known(id, pos)
    }
    #[inline]
    fn unknown(&mut self, code: UnknownCode, pos: Position) -> Result<Flow, S::Error> {
        let pos = Position {
            offset: self.offset,
            ..pos
        };
        self.hits.unknown(code, pos)
    }
}

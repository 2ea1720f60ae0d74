//! `faultline tail --kafka-brokers ...`: `tail` as a member of a Kafka
//! consumer group (SPEC section 3, "tail from Kafka"). This module owns the
//! consumer, the exactly-once commit protocol and its own small run loop;
//! each message's value goes through the same [`Searcher`] and hit pipeline
//! ([`Hits`] into the [`WindowAggregator`], events by the [`EventWriter`],
//! metrics through the aggregator's observer) as a file.
//!
//! [`run`] takes plain options ([`Config`]), a channel of catalogs and a
//! `shutdown` future, like [`crate::tail::run`]. librdkafka's consumer is
//! blocking, so the loop runs on a blocking thread of the caller's runtime;
//! the async side only turns `shutdown` into a flag the loop reads after
//! each poll (at most [`POLL`] later).
//!
//! Each message is searched as a complete input (its end is a boundary);
//! an event names the source `kafka:TOPIC/PARTITION` and, as its offset,
//! the message's offset (its line is the line within the message).
//!
//! # The protocol: exactly-once totals across the group
//!
//! Kafka holds the group's positions; the state directory of each instance
//! holds that instance's *contribution*: the counts of the messages whose
//! offsets it committed. The sum over all instances is then the count of
//! every message exactly once, provided that (1) a message's counts are
//! added to an instance's saved totals if and only if a commit of that
//! instance moved the group's position for its partition past it, and (2)
//! the group reads every message after the last committed position (its
//! `auto.offset.reset` start, pinned below, for a partition never
//! committed).
//!
//! In memory, per owned partition: the counts of the messages read since
//! its last landed commit. Saved (`kafka.json`, [`ledger::KafkaState`]):
//! the totals of landed commits, the instance's id and commit number
//! `seq`, and at most one *pending* commit. Every commit's metadata holds
//! the partition's [`Ledger`]: for each instance that ever committed it,
//! the number of its last landed commit; a commit carries forward the
//! ledger it read when it got the partition, with its own entry raised.
//!
//! A commit (every window, and at shutdown):
//!
//! 1. `seq += 1`; the counts of every partition with new messages are
//!    moved into the pending commit (`seq`, per partition: topic,
//!    partition, offset, counts). The state is saved atomically (temporary
//!    file, fsync, rename): the pending counts are *not* in the totals.
//! 2. The offsets are committed to Kafka, each with its ledger recording
//!    (id, `seq`).
//! 3. The outcome is read back from Kafka (OffsetFetch), partition by
//!    partition: the commit landed iff the committed ledger records `seq`
//!    or later for this instance. Landed: its counts join the totals. Not
//!    landed: its counts go back to the partition's in-memory counts if
//!    this instance still owns it since before the commit (they are
//!    committed next time), else they are dropped (the next owner resumes
//!    at the old position and counts those messages itself).
//! 4. The state is saved again: totals updated, nothing pending.
//!
//! After a crash, a pending commit found at start is decided by step 3
//! once this process has joined the group (the rebalance that admits it
//! ends the dead process's generation, so its commit can no longer land
//! late), whether or not the instance owns those partitions now.
//!
//! Why nothing is lost or doubled, crash by crash:
//!
//! - Before step 1 is on disk: the saved totals are those of landed
//!   commits; the messages since were never committed, so whoever owns
//!   the partition next reads them again from the committed position.
//! - Between 1 and 2, or commit lost ("checkpoint updated, commit lost"):
//!   the ledger in Kafka does not record `seq`, so the pending counts are
//!   dropped; the position in Kafka is still the old one, and the next
//!   owner (this instance again, or another) counts those messages.
//! - Commit landed, state not updated ("commit landed, checkpoint not
//!   updated", a crash between 2 and 4): the ledger records `seq`, so the
//!   pending counts stand; every later owner started at the new position
//!   and never counts those messages. A later owner's commits carry the
//!   ledger forward, so the answer is the same after any number of moves
//!   of the partition while this instance is down.
//! - A crash during step 4: the state still holds the pending commit,
//!   which step 3 decides again, with the same answer (ledgers only grow).
//! - A rebalance that takes a partition away: its uncommitted counts are
//!   dropped, since the next owner starts at the committed position.
//!
//! The decision needs a commit to be visible in one read of the ledger:
//! commits of one partition form a single line in time (only its owner
//! commits it, and a commit of an older generation is refused), and an
//! instance's entry only grows. Events are at-least-once (messages read
//! again after a crash or a move are reported again); totals are exact.
//!
//! With `--from end`, a partition that has no committed offset yet is
//! pinned at the first message read: its offset is committed at once, so
//! that a next owner does not start at a later "end" and skip messages
//! this instance read but never committed.
//!
//! # Stopping when the brokers are gone
//!
//! Every wait on a broker is bounded: a commit waits for its answer at
//! most [`REQUEST_TIMEOUT`] (librdkafka's own synchronous commit would
//! wait forever) and the loop's commit stops waiting when a stop is
//! requested; a read-back is bounded the same way, and leaving the group
//! by [`LEAVE_TIMEOUT`]. So SIGTERM exits within a few seconds whether
//! or not a broker answers. A commit left without an answer stays pending
//! in the saved state and is decided by the next read-back, at the next
//! start at the latest (step 3): its counts stand if it landed and are
//! rolled back if it did not, as after a crash.

mod consumer;
pub mod ledger;
mod partition;

use crate::agent::{self, AgentError};
use crate::aggregate::Counts;
use crate::catalog::Catalog;
use crate::matcher::{Matcher, MatcherError};
use crate::metrics::{Metrics, MetricsAddr};
use crate::pipeline::{Hits, InputEvents, catalog_matcher};
use crate::search::Searcher;
use crate::sink::events::EventWriter;
use crate::window::{CumulativeTotals, WindowAggregator, rfc3339, rfc3339_millis};
use consumer::{
    CommitWaitError, GroupConsumer, Note, cached_high_watermark, commit_within, make_consumer,
};
use ledger::{KafkaState, Ledger, PendingCommit, PendingPartition, StateError, StateStore};
use partition::{AtMessage, Owned, PartitionTally};
use rdkafka::consumer::Consumer;
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// How long one poll waits for a message before the loop looks at the
/// clock, the shutdown flag and the catalog reloads.
const POLL: Duration = Duration::from_millis(100);
/// Messages counted at most between two looks at the clock, the shutdown
/// flag and the catalog reloads (a few milliseconds of work).
const BATCH: usize = 1024;
/// Timeout of one request to the group coordinator (commit, read-back).
/// A request that runs out only defers a decision to the next window (an
/// unanswered commit stays pending, module docs), so this is short: it
/// bounds how long a SIGTERM waits when the brokers are gone.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// How long leaving the group may take at shutdown: past that the group
/// notices the session timing out instead.
const LEAVE_TIMEOUT: Duration = Duration::from_secs(2);

/// Why the group member could not start or stopped: its own causes (its
/// state, the consumer), or those it shares with the file agent's.
#[derive(Debug, thiserror::Error)]
pub enum KafkaTailError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error("cannot start the Kafka consumer (check the brokers, topics and group)")]
    Consumer(#[source] KafkaError),
}

/// How to tail from Kafka, independent of the command line.
#[derive(Clone, Debug)]
pub struct Config {
    /// `HOST:PORT[,...]`: the brokers to start from.
    pub brokers: String,
    pub topics: Vec<String>,
    /// The consumer group whose partitions this instance shares.
    pub group: String,
    /// How long a silent instance keeps its partitions.
    pub session_timeout: Duration,
    /// A new group starts at the latest offsets (else the earliest).
    pub from_end: bool,
    /// Length of a summary window; a commit ends each.
    pub interval: Duration,
    /// Where summaries go: a file, `-` (stdout) or an http(s) URL.
    pub summaries: String,
    /// Summaries queued at most for a URL.
    pub summaries_queue: usize,
    /// Serve Prometheus metrics here.
    pub metrics_addr: Option<MetricsAddr>,
    /// Also write every hit as a JSON line here (`-`: stdout).
    pub events: Option<PathBuf>,
    /// This instance's share of the totals and its pending commit.
    pub state_dir: PathBuf,
    /// Set aside the saved state and start from zero.
    pub reset_state: bool,
    /// Tests only: end the process in the middle of the first commit.
    pub crash_at: Option<CrashAt>,
}

/// Where a test asks the process to die (like `kill -9`) during its first
/// commit: after step 1 (`Save`) or after step 2 (`Commit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashAt {
    Save,
    Commit,
}

/// The time of a step of the run loop, read by the loop (the edge) and
/// passed in: nothing below reads the clock.
#[derive(Clone, Copy)]
struct Now {
    at: Instant,
    wall: SystemTime,
}

impl Now {
    fn read() -> Now {
        Now {
            at: Instant::now(),
            wall: SystemTime::now(),
        }
    }
}

/// The consumer, the state and everything a message feeds.
struct GroupTail<'a> {
    consumer: GroupConsumer,
    store: StateStore,
    state: KafkaState,
    catalog: Catalog,
    matcher: Matcher,
    searcher: Searcher,
    agg: WindowAggregator,
    events: Option<EventWriter>,
    /// Events rendered since the last [`GroupTail::flush_events`].
    events_buf: Vec<u8>,
    owned: Vec<Owned>,
    epochs: u64,
    /// Counts of a pending commit go back to their partition only if it is
    /// owned in the same epoch.
    pending_epochs: Vec<u64>,
    /// The first rebalance has happened: a pending commit of an earlier
    /// process can be decided.
    joined: bool,
    /// After this, the group has surely moved past a dead predecessor's
    /// generation even if no rebalance reached this instance.
    joined_by: Instant,
    pin_new_partitions: bool,
    crash_at: Option<CrashAt>,
    /// Set when the process is asked to stop: a commit of the run loop
    /// stops waiting for its answer (it stays pending, decided by the
    /// final commit's read-back or at the next start). `None` for the
    /// final commit, which waits its [`REQUEST_TIMEOUT`].
    interrupt: Option<&'a AtomicBool>,
}

/// Runs the group member until `shutdown` completes: reads its share of
/// the topics, commits and writes a summary per window, commits once more
/// and leaves the group. Each catalog received on `reloads` replaces the
/// current one. Needs a tokio runtime (the loop runs on a blocking thread).
pub async fn run(
    catalog: Catalog,
    config: Config,
    reloads: mpsc::Receiver<Catalog>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), KafkaTailError> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut group = tokio::task::spawn_blocking({
        let stop = stop.clone();
        move || run_blocking(catalog, &config, reloads, &stop)
    });
    let joined = tokio::select! {
        joined = &mut group => joined,
        () = shutdown => {
            stop.store(true, Ordering::Relaxed);
            group.await
        }
    };
    match joined {
        Ok(result) => result,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

fn run_blocking(
    catalog: Catalog,
    config: &Config,
    mut reloads: mpsc::Receiver<Catalog>,
    stop: &AtomicBool,
) -> Result<(), KafkaTailError> {
    let store = StateStore::open(&config.state_dir)?;
    if config.reset_state {
        store.reset()?;
    }
    let start = Now::read();
    let now = start.wall;
    let state = match store.load()? {
        Some(s) => s,
        None => {
            let s = KafkaState::new(instance_id(now), &rfc3339(now));
            store.save(&s)?;
            s
        }
    };
    let events =
        agent::open_events(config.events.as_deref())?.map(|out| EventWriter::new(&catalog, out));
    let mut summaries =
        agent::open_summaries(&config.summaries, config.interval, config.summaries_queue)?;
    let matcher = catalog_matcher(&catalog).map_err(AgentError::from)?;
    let mut agg = WindowAggregator::new(catalog.len(), now, CumulativeTotals::default());
    let metrics = match &config.metrics_addr {
        Some(addr) => {
            let m = Metrics::start(addr, &catalog, &matcher, summaries.delivery())
                .map_err(AgentError::from)?;
            agg.observe(Box::new(m.feed()));
            Some(m)
        }
        None => None,
    };
    let consumer = make_consumer(config)?;
    let mut tail = GroupTail {
        matcher,
        agg,
        catalog,
        searcher: Searcher::default(),
        consumer,
        store,
        state,
        events,
        events_buf: Vec::new(),
        owned: Vec::new(),
        epochs: 0,
        pending_epochs: Vec::new(),
        joined: false,
        joined_by: start.at + 3 * config.session_timeout,
        pin_new_partitions: config.from_end,
        crash_at: config.crash_at,
        interrupt: Some(stop),
    };

    let mut window_end = start.at + config.interval;
    while !stop.load(Ordering::Relaxed) {
        if let Ok(catalog) = reloads.try_recv() {
            match tail.reload(catalog, Now::read().wall) {
                Ok(summary) => {
                    log::info!("catalog reloaded");
                    if let Some(m) = &metrics {
                        m.catalog_changed(&tail.catalog, &tail.matcher);
                    }
                    summaries
                        .write(&summary)
                        .map_err(AgentError::WriteSummary)?;
                }
                Err(e) => log::error!("catalog reload failed, keeping the old one: {e}"),
            }
        }
        let now = Now::read();
        if now.at >= window_end {
            tail.commit(now);
            let summary = tail.close_window(now.wall);
            summaries
                .write(&summary)
                .map_err(AgentError::WriteSummary)?;
            if let Some(m) = &metrics {
                m.set_consumer_lag(tail.lag());
            }
            window_end += config.interval;
            if window_end < now.at {
                window_end = now.at + config.interval;
            }
        }
        tail.poll_batch(POLL, Now::read);
    }
    let now = Now::read();
    tail.interrupt = None;
    tail.commit(now);
    let summary = tail.close_window(now.wall);
    summaries
        .write(&summary)
        .map_err(AgentError::WriteSummary)?;
    tail.leave(config.session_timeout.min(LEAVE_TIMEOUT));
    // A blocking thread of the runtime: it may wait on the runtime's tasks.
    tokio::runtime::Handle::current().block_on(summaries.finish());
    Ok(())
}

/// An id for a new state: unique enough among the instances a group ever
/// has (time in nanoseconds, process id and host name, hashed).
fn instance_id(now: SystemTime) -> String {
    let nanos = now
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let seed = format!("{nanos}/{}/{}", std::process::id(), host.trim());
    format!(
        "{:016x}",
        crate::checkpoint::Fingerprint::of(seed.as_bytes()).hash
    )
}

impl GroupTail<'_> {
    /// Waits up to `timeout` for a message, then counts it and the
    /// messages already waiting behind it (at most [`BATCH`]), and acts on
    /// the rebalances the polls ran. `read_clock` gives the time the batch
    /// was seen (after the wait): one clock read per batch, not per
    /// message (a clock read costs as much as a short message's search on
    /// some virtual machines). A message that arrived during the batch is
    /// timed from the batch's start, so latencies err on the long side.
    fn poll_batch(&mut self, timeout: Duration, read_clock: impl FnOnce() -> Now) {
        let mut polled = self.consumer.poll(timeout);
        if polled.is_none() && !self.consumer.context().noted.load(Ordering::Relaxed) {
            return;
        }
        let seen = read_clock();
        let ts = match &self.events {
            Some(_) => rfc3339_millis(seen.wall),
            None => String::new(),
        };
        let mut taken = 0;
        while let Some(result) = polled.take() {
            match result {
                Err(e) => log::warn!("kafka: {e}"),
                Ok(msg) => {
                    let (topic, partition, offset) = (msg.topic(), msg.partition(), msg.offset());
                    let i = match self
                        .owned
                        .iter()
                        .position(|o| o.partition == partition && o.topic == topic)
                    {
                        Some(i) => i,
                        None => {
                            self.epochs += 1;
                            self.owned.push(Owned::new(
                                topic,
                                partition,
                                self.catalog.len(),
                                self.epochs,
                            ));
                            self.owned.len() - 1
                        }
                    };
                    let o = &mut self.owned[i];
                    let first = o.next.is_none();
                    if let Some(value) = msg.payload() {
                        let tally = &mut PartitionTally {
                            window: &mut self.agg,
                            counts: &mut o.counts,
                        };
                        let hits = Hits::new(tally, &self.matcher).timed(seen.at).with_events(
                            self.events.as_ref().map(|w| {
                                InputEvents::buffered(w, &o.source, &ts, &mut self.events_buf)
                            }),
                        );
                        let mut sink = AtMessage {
                            hits,
                            offset: offset as u64,
                        };
                        // Events are buffered (handed over below) and a
                        // slice has no reads: nothing here can fail.
                        match self.searcher.search_slice(&self.matcher, value, &mut sink) {
                            Ok(t) => {
                                self.agg.read(t.bytes, t.lines);
                                o.bytes += t.bytes;
                                o.lines += t.lines;
                            }
                            Err(e) => log::error!("kafka: {topic}/{partition}@{offset}: {e}"),
                        }
                    }
                    o.next = Some(offset + 1);
                    drop(msg);
                    if first && self.pin_new_partitions {
                        self.pin(i, offset);
                    }
                }
            }
            taken += 1;
            // A rebalance ran in that poll: act on it before the next
            // message, as the partitions it names may be read again.
            if taken == BATCH || self.consumer.context().noted.load(Ordering::Relaxed) {
                break;
            }
            polled = self.consumer.poll(Duration::ZERO);
        }
        self.flush_events();
        if !self.consumer.context().noted.swap(false, Ordering::Relaxed) {
            return;
        }
        let notes = std::mem::take(
            &mut *self
                .consumer
                .context()
                .notes
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for note in notes {
            match note {
                Note::Assigned(parts) => {
                    self.joined = true;
                    for (topic, partition) in parts {
                        if !self
                            .owned
                            .iter()
                            .any(|o| o.partition == partition && o.topic == topic)
                        {
                            self.epochs += 1;
                            self.owned.push(Owned::new(
                                &topic,
                                partition,
                                self.catalog.len(),
                                self.epochs,
                            ));
                        }
                    }
                }
                Note::Revoked(parts) => {
                    // The next owner starts at the committed position:
                    // what was read since is dropped here.
                    self.owned.retain(|o| {
                        !parts
                            .iter()
                            .any(|(t, p)| *p == o.partition && *t == o.topic)
                    });
                }
            }
        }
    }

    /// The committed offset and ledger of each of these partitions.
    fn read_committed(&self, parts: &[(String, i32)]) -> Option<Vec<(Option<i64>, Ledger)>> {
        let mut tpl = TopicPartitionList::new();
        for (t, p) in parts {
            tpl.add_partition(t, *p);
        }
        let got = match self.consumer.committed_offsets(tpl, REQUEST_TIMEOUT) {
            Ok(got) => got,
            Err(e) => {
                log::warn!("kafka: reading committed offsets: {e}");
                return None;
            }
        };
        let mut out = Vec::with_capacity(parts.len());
        for (t, p) in parts {
            let e = got.find_partition(t, *p)?;
            if let Err(err) = e.error() {
                log::warn!("kafka: reading the committed offset of {t}/{p}: {err}");
                return None;
            }
            let offset = match e.offset() {
                Offset::Offset(o) => Some(o),
                _ => None,
            };
            out.push((offset, Ledger::parse(e.metadata())));
        }
        Some(out)
    }

    /// Learns the ledgers of owned partitions that do not know theirs.
    fn learn_ledgers(&mut self) -> bool {
        let parts: Vec<(String, i32)> = self
            .owned
            .iter()
            .filter(|o| o.ledger.is_none())
            .map(|o| (o.topic.clone(), o.partition))
            .collect();
        if parts.is_empty() {
            return true;
        }
        let Some(got) = self.read_committed(&parts) else {
            return false;
        };
        for ((t, p), (offset, ledger)) in parts.iter().zip(got) {
            if let Some(o) = self
                .owned
                .iter_mut()
                .find(|o| o.partition == *p && o.topic == *t)
            {
                o.ledger = Some(ledger);
                o.committed = offset;
            }
        }
        true
    }

    /// Pins a partition with no committed offset at its first message
    /// read (`--from end`), so that a next owner starts there too.
    fn pin(&mut self, i: usize, offset: i64) {
        if !self.learn_ledgers() || self.owned[i].committed.is_some() {
            return;
        }
        let o = &self.owned[i];
        let mut tpl = TopicPartitionList::new();
        let mut e = tpl.add_partition(&o.topic, o.partition);
        let _ = e.set_offset(Offset::Offset(offset));
        e.set_metadata(o.ledger.clone().unwrap_or_default().render());
        match commit_within(&self.consumer, &tpl, REQUEST_TIMEOUT, self.interrupt) {
            Ok(()) => self.owned[i].committed = Some(offset),
            Err(e) => log::warn!(
                "kafka: pinning the start of {}/{}: {e}",
                o.topic,
                o.partition
            ),
        }
    }

    /// One commit of the protocol (module docs, steps 1 to 4).
    fn commit(&mut self, now: Now) {
        if !self.decide_pending(now) || !self.learn_ledgers() {
            return;
        }
        let parts: Vec<usize> = (0..self.owned.len())
            .filter(|&i| self.owned[i].has_new() && self.owned[i].ledger.is_some())
            .collect();
        if parts.is_empty() {
            return;
        }
        // 1. Move the counts into a pending commit and save it.
        let seq = self.state.seq + 1;
        let now_secs = now
            .wall
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let mut pending = PendingCommit {
            seq,
            partitions: Vec::new(),
        };
        let mut tpl = TopicPartitionList::new();
        self.pending_epochs.clear();
        for &i in &parts {
            let o = &mut self.owned[i];
            let offset = o.next.expect("has_new");
            pending.partitions.push(PendingPartition {
                topic: o.topic.clone(),
                partition: o.partition,
                offset,
                counts: o.take_counts(&self.catalog),
            });
            self.pending_epochs.push(o.epoch);
            let ledger =
                o.ledger
                    .as_ref()
                    .expect("learned")
                    .with(&self.state.instance, seq, now_secs);
            let mut e = tpl.add_partition(&o.topic, o.partition);
            let _ = e.set_offset(Offset::Offset(offset));
            e.set_metadata(ledger.render());
        }
        self.state.seq = seq;
        self.state.pending = Some(pending);
        if !self.save(now.wall) {
            // Not on disk: the commit must not happen. The counts go back.
            self.settle(None);
            return;
        }
        if self.crash_at == Some(CrashAt::Save) {
            // SAFETY: ends the process at once, like kill -9 would.
            unsafe { libc::_exit(86) };
        }
        // 2. Commit. An error says little (it may have landed anyway):
        // the read-back decides. No answer in time (brokers gone, or a stop
        // requested): the commit stays pending, saved, until a later
        // read-back decides it.
        let answer = commit_within(&self.consumer, &tpl, REQUEST_TIMEOUT, self.interrupt);
        if self.crash_at == Some(CrashAt::Commit) {
            // SAFETY: ends the process at once, like kill -9 would.
            unsafe { libc::_exit(86) };
        }
        match answer {
            Ok(()) => {}
            Err(e @ CommitWaitError::Failed(_)) => log::warn!("kafka: commit {seq}: {e}"),
            Err(e) => {
                // The coordinator is not answering: a read-back now would
                // wait as long again. The next window's (or the next
                // start's) read-back decides.
                log::warn!("kafka: commit {seq}: {e}");
                return;
            }
        }
        // 3 and 4.
        self.decide_pending(now);
    }

    /// Decides the pending commit, if any, by reading the ledgers back.
    /// Returns whether nothing is pending any more.
    fn decide_pending(&mut self, now: Now) -> bool {
        let Some(pending) = &self.state.pending else {
            return true;
        };
        if !self.joined && now.at >= self.joined_by {
            self.joined = true;
        }
        if !self.joined && self.pending_epochs.is_empty() {
            // A pending commit of an earlier process: wait for the
            // rebalance that ends its generation.
            return false;
        }
        let parts: Vec<(String, i32)> = pending
            .partitions
            .iter()
            .map(|p| (p.topic.clone(), p.partition))
            .collect();
        let Some(got) = self.read_committed(&parts) else {
            return false;
        };
        let landed: Vec<(bool, Option<i64>, Ledger)> = got
            .into_iter()
            .map(|(offset, ledger)| {
                (
                    ledger.landed(&self.state.instance, pending.seq),
                    offset,
                    ledger,
                )
            })
            .collect();
        self.settle(Some(landed));
        self.save(now.wall);
        true
    }

    /// Applies the outcome of the pending commit: `None` when it was never
    /// sent (nothing landed, the partitions' ledgers are unchanged).
    fn settle(&mut self, outcome: Option<Vec<(bool, Option<i64>, Ledger)>>) {
        let Some(pending) = self.state.pending.take() else {
            return;
        };
        let epochs = std::mem::take(&mut self.pending_epochs);
        for (k, part) in pending.partitions.into_iter().enumerate() {
            let (landed, read) = match &outcome {
                Some(v) => (v[k].0, Some((v[k].1, v[k].2.clone()))),
                None => (false, None),
            };
            let owner = self.owned.iter_mut().find(|o| {
                o.partition == part.partition
                    && o.topic == part.topic
                    && epochs.get(k) == Some(&o.epoch)
            });
            if landed {
                ledger::add_totals(&mut self.state.totals, &part.counts);
            }
            if let Some(o) = owner {
                if let Some((offset, ledger)) = read {
                    o.committed = offset;
                    o.ledger = Some(ledger);
                }
                if !landed {
                    ledger::add_totals(&mut o.carried, &part.counts);
                }
            }
        }
    }

    fn save(&mut self, now: SystemTime) -> bool {
        self.state.saved = rfc3339(now);
        match self.store.save(&self.state) {
            Ok(()) => true,
            Err(e) => {
                log::error!("{}", agent::with_causes(&e));
                false
            }
        }
    }

    /// Ends the window: its summary's totals are the instance's exact
    /// contribution (landed commits), not what it has read.
    fn close_window(&mut self, now: SystemTime) -> crate::window::WindowSummary {
        let mut summary = self.agg.close(now, &self.catalog, &self.matcher);
        summary.totals = self.state.totals.clone();
        summary
    }

    /// Consumer lag of each owned partition: messages between the read
    /// position and the partition's end, as of the last fetch response
    /// (librdkafka's cached high watermark: no request, so this never
    /// waits for a broker). A partition not fetched yet has no lag.
    fn lag(&self) -> Vec<(String, u64)> {
        self.owned
            .iter()
            .filter_map(|o| {
                let high = cached_high_watermark(&self.consumer, &o.topic, o.partition)?;
                let at = o.next.or(o.committed).unwrap_or(high);
                Some((
                    format!("{}/{}", o.topic, o.partition),
                    (high - at).max(0) as u64,
                ))
            })
            .collect()
    }

    fn flush_events(&mut self) {
        crate::sink::events::flush_agent_events(&mut self.events, &mut self.events_buf);
    }

    /// Leaves the group, waiting at most `within` (a rebalance in
    /// progress can hold the leave for much longer): past that the group
    /// notices the session timing out instead. Nothing is lost either
    /// way: everything counted is committed or dropped by now.
    fn leave(self, within: Duration) {
        let consumer = self.consumer;
        if consumer.close_queue().is_ok() {
            // Each poll waits at most POLL: this bounds the wait without
            // reading the clock.
            for _ in 0..within.div_duration_f64(POLL).ceil() as u32 {
                if consumer.closed() {
                    break;
                }
                let _ = consumer.poll(POLL);
            }
        }
        if !consumer.closed() {
            log::warn!(
                "kafka: leaving the group took longer than {within:?}; the group will notice when the session times out"
            );
        }
        // Dropping would wait for the leave without a limit.
        std::mem::forget(consumer);
    }

    /// Swaps in a new catalog (SIGHUP): uncommitted counts are kept by
    /// code name. The window is closed first, since its counters are
    /// indexed by the old catalog; its summary is returned.
    fn reload(
        &mut self,
        catalog: Catalog,
        now: SystemTime,
    ) -> Result<crate::window::WindowSummary, MatcherError> {
        let matcher = catalog_matcher(&catalog)?;
        for o in &mut self.owned {
            let t = o.take_counts(&self.catalog);
            o.carried = t;
            o.counts = Counts::new(catalog.len());
        }
        let summary = self.close_window(now);
        self.agg
            .restart(catalog.len(), now, CumulativeTotals::default());
        if let Some(w) = &mut self.events {
            w.set_catalog(&catalog);
        }
        self.catalog = catalog;
        self.matcher = matcher;
        Ok(summary)
    }
}

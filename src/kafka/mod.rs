//! `faultline tail --kafka-brokers ...`: `tail` as a member of a Kafka
//! consumer group (SPEC section 3, "tail from Kafka"). This module owns the
//! consumer, the exactly-once commit protocol and its own small run loop;
//! each message's value goes through the same [`Searcher`], [`Matcher`],
//! [`WindowAggregator`], events format, summaries and metrics as a file.
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

pub mod ledger;

use crate::aggregate::Counts;
use crate::catalog::{Catalog, CodeId};
use crate::cli::{CrashAt, StartFrom, TailArgs};
use crate::matcher::{Matcher, MatcherError, UnknownCode};
use crate::metrics::{Metrics, ServeError};
use crate::search::{Position, Searcher, Sink};
use crate::sink::events::{self, EventFormat};
use crate::sink::post::PostConfig;
use crate::sink::summaries::{SummaryOpenError, SummaryOut};
use crate::tail::CatalogLoader;
use crate::window::{Totals, WindowAggregator, rfc3339, rfc3339_millis};
use ledger::{KafkaState, Ledger, PendingCommit, PendingPartition, StateError, StateStore};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long one poll waits for a message before the loop looks at the
/// clock and the signals.
const POLL: Duration = Duration::from_millis(100);
/// Timeout of one request to the group coordinator (commit, read-back).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum KafkaTailError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Summaries(#[from] SummaryOpenError),
    #[error(transparent)]
    Matcher(#[from] MatcherError),
    #[error(transparent)]
    Metrics(#[from] ServeError),
    #[error("cannot open the events file {path}: {source}")]
    Events { path: PathBuf, source: io::Error },
    #[error("cannot start the Kafka consumer (check --kafka-brokers and --kafka-group): {0}")]
    Consumer(#[source] KafkaError),
    #[error("writing summaries: {0}")]
    WriteSummary(#[source] io::Error),
    #[error("tail from Kafka needs --state-dir: exact totals are kept there")]
    NoStateDir,
}

/// What the rebalance callback saw, for the run loop to act on.
enum Note {
    Assigned(Vec<(String, i32)>),
    Revoked(Vec<(String, i32)>),
}

/// The consumer's context: records rebalances. librdkafka runs it inside
/// `poll`, on the loop's own thread.
#[derive(Default)]
struct GroupContext {
    notes: Mutex<Vec<Note>>,
}

impl ClientContext for GroupContext {}

impl ConsumerContext for GroupContext {
    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let parts = |tpl: &TopicPartitionList| {
            tpl.elements()
                .iter()
                .map(|e| (e.topic().to_string(), e.partition()))
                .collect()
        };
        let note = match rebalance {
            Rebalance::Assign(tpl) => Note::Assigned(parts(tpl)),
            Rebalance::Revoke(tpl) => Note::Revoked(parts(tpl)),
            Rebalance::Error(e) => {
                log::warn!("rebalance: {e}");
                return;
            }
        };
        self.notes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(note);
    }
}

type GroupConsumer = BaseConsumer<GroupContext>;

/// A partition this instance owns now.
struct Owned {
    topic: String,
    partition: i32,
    /// `"kafka:TOPIC/PARTITION"` as a JSON string, for events.
    source: String,
    /// Which ownership this is: a partition lost and got back is a new one.
    epoch: u64,
    /// The offset after the last message read.
    next: Option<i64>,
    /// The offset last committed (by anyone) as far as known.
    committed: Option<i64>,
    /// The ledger of the last commit; `None` until read from Kafka.
    ledger: Option<Ledger>,
    /// Counts of the messages read since the last landed commit.
    counts: Counts,
    lines: u64,
    bytes: u64,
    /// Counts from before a catalog reload, by code name.
    carried: Totals,
}

impl Owned {
    fn new(topic: &str, partition: i32, codes: usize, epoch: u64) -> Owned {
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
            carried: Totals::default(),
        }
    }

    /// The uncommitted counts by code name, and zero in their place.
    fn take_counts(&mut self, catalog: &Catalog) -> Totals {
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

    fn has_new(&self) -> bool {
        self.next.is_some() && self.next != self.committed
    }
}

/// Counts one message's hits into the window and its partition, and
/// renders its events.
struct MessageSink<'a> {
    agg: &'a mut WindowAggregator,
    counts: &'a mut Counts,
    seen_at: Instant,
    matcher: &'a Matcher,
    offset: u64,
    events: Option<(&'a EventFormat, &'a mut Vec<u8>, &'a str, &'a str)>,
}

impl Sink for MessageSink<'_> {
    fn known(&mut self, id: CodeId, pos: Position) {
        self.agg.known(id, self.seen_at.elapsed());
        self.counts.add_known(id);
        if let Some((format, buf, source, ts)) = &mut self.events {
            format.known(buf, source, self.offset, pos.line, id, Some(ts));
        }
    }

    fn unknown(&mut self, code: UnknownCode, pos: Position) {
        self.agg.unknown(code, self.seen_at.elapsed());
        self.counts.add_unknown(code);
        if let Some((format, buf, source, ts)) = &mut self.events {
            let prefix = self.matcher.prefix(code.prefix);
            format.unknown(
                buf,
                source,
                self.offset,
                pos.line,
                prefix,
                code.number,
                Some(ts),
            );
        }
    }
}

/// The last signal received (0: none); set by the handler.
static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    SIGNAL.store(sig, Ordering::SeqCst);
}

fn install_signal_handlers() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores into an atomic, which is
        // async-signal-safe.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// The consumer, the state and everything a message feeds.
struct GroupTail {
    consumer: GroupConsumer,
    store: StateStore,
    state: KafkaState,
    catalog: Catalog,
    matcher: Matcher,
    searcher: Searcher,
    agg: WindowAggregator,
    events: Option<(EventFormat, Box<dyn Write + Send>, Vec<u8>)>,
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
}

pub fn run(catalog: Catalog, args: &TailArgs, reload: CatalogLoader) -> Result<(), KafkaTailError> {
    let dir = args.state_dir.as_ref().ok_or(KafkaTailError::NoStateDir)?;
    let store = StateStore::open(dir)?;
    if args.reset_state {
        store.reset()?;
    }
    let now = SystemTime::now();
    let state = match store.load()? {
        Some(s) => s,
        None => {
            let s = KafkaState::new(instance_id(now), &rfc3339(now));
            store.save(&s)?;
            s
        }
    };
    let events = match &args.events {
        None => None,
        Some(p) => {
            let out: Box<dyn Write + Send> = if p.as_os_str() == "-" {
                Box::new(io::stdout())
            } else {
                Box::new(
                    std::fs::File::options()
                        .create(true)
                        .append(true)
                        .open(p)
                        .map_err(|source| KafkaTailError::Events {
                            path: p.clone(),
                            source,
                        })?,
                )
            };
            Some((EventFormat::new(&catalog), out, Vec::new()))
        }
    };
    let mut summaries = SummaryOut::open_with(
        &args.summaries,
        PostConfig::for_interval(args.interval, args.summaries_queue),
    )?;
    // Before the aggregator: it takes up the metrics feed of this thread.
    let metrics = match &args.metrics_addr {
        Some(addr) => Some(Metrics::start(addr, &catalog, summaries.delivery())?),
        None => None,
    };
    let consumer = make_consumer(args)?;
    install_signal_handlers();
    let mut tail = GroupTail {
        matcher: Matcher::new(catalog.entries().iter().map(|e| e.code.as_str()))?,
        agg: WindowAggregator::new(catalog.len(), now, Totals::default()),
        catalog,
        searcher: Searcher::default(),
        consumer,
        store,
        state,
        events,
        owned: Vec::new(),
        epochs: 0,
        pending_epochs: Vec::new(),
        joined: false,
        joined_by: Instant::now() + 3 * args.kafka_session_timeout,
        pin_new_partitions: args.from == StartFrom::End,
        crash_at: args.kafka_crash_at,
    };

    let mut window_end = Instant::now() + args.interval;
    loop {
        match SIGNAL.swap(0, Ordering::SeqCst) {
            libc::SIGINT | libc::SIGTERM => break,
            libc::SIGHUP => match reload() {
                Ok(catalog) => match tail.reload(catalog) {
                    Ok(summary) => {
                        log::info!("catalog reloaded");
                        if let Some(m) = &metrics {
                            m.catalog_changed(&tail.catalog);
                        }
                        summaries
                            .write(&summary)
                            .map_err(KafkaTailError::WriteSummary)?;
                    }
                    Err(e) => log::error!("catalog reload failed, keeping the old one: {e}"),
                },
                Err(e) => log::error!("catalog reload failed, keeping the old one: {e}"),
            },
            _ => {}
        }
        if Instant::now() >= window_end {
            tail.commit();
            let summary = tail.close_window();
            summaries
                .write(&summary)
                .map_err(KafkaTailError::WriteSummary)?;
            if let Some(m) = &metrics {
                m.set_consumer_lag(tail.lag());
            }
            window_end += args.interval;
            if window_end < Instant::now() {
                window_end = Instant::now() + args.interval;
            }
        }
        tail.poll_once(POLL);
    }
    tail.commit();
    let summary = tail.close_window();
    summaries
        .write(&summary)
        .map_err(KafkaTailError::WriteSummary)?;
    tail.leave(args.kafka_session_timeout);
    summaries.finish();
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

fn make_consumer(args: &TailArgs) -> Result<GroupConsumer, KafkaTailError> {
    let session_ms = args.kafka_session_timeout.as_millis().max(1);
    let brokers = args.kafka_brokers.as_deref().unwrap_or_default();
    let group = args.kafka_group.as_deref().unwrap_or_default();
    let consumer: GroupConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("client.id", "faultline")
        // Offsets are committed only by the protocol above.
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set(
            "auto.offset.reset",
            match args.from {
                StartFrom::End => "latest",
                StartFrom::Beginning => "earliest",
            },
        )
        .set("partition.assignment.strategy", "cooperative-sticky")
        .set("session.timeout.ms", session_ms.to_string())
        .set("heartbeat.interval.ms", (session_ms / 3).max(1).to_string())
        .create_with_context(GroupContext::default())
        .map_err(KafkaTailError::Consumer)?;
    let topics: Vec<&str> = args.kafka_topic.iter().map(String::as_str).collect();
    consumer
        .subscribe(&topics)
        .map_err(KafkaTailError::Consumer)?;
    Ok(consumer)
}

impl GroupTail {
    /// Waits up to `timeout` for a message, counts it, and acts on the
    /// rebalances the poll ran.
    fn poll_once(&mut self, timeout: Duration) {
        let polled = self.consumer.poll(timeout);
        let seen_at = Instant::now();
        match polled {
            None => {}
            Some(Err(e)) => log::warn!("kafka: {e}"),
            Some(Ok(msg)) => {
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
                    let ts = match &self.events {
                        Some(_) => rfc3339_millis(SystemTime::now()),
                        None => String::new(),
                    };
                    let mut sink = MessageSink {
                        agg: &mut self.agg,
                        counts: &mut o.counts,
                        seen_at,
                        matcher: &self.matcher,
                        offset: offset as u64,
                        events: self
                            .events
                            .as_mut()
                            .map(|(f, _, buf)| (&*f, buf, o.source.as_str(), ts.as_str())),
                    };
                    let t = self.searcher.search_slice(&self.matcher, value, &mut sink);
                    self.agg.read(t.bytes, t.lines);
                    o.bytes += t.bytes;
                    o.lines += t.lines;
                }
                o.next = Some(offset + 1);
                drop(msg);
                if first && self.pin_new_partitions {
                    self.pin(i, offset);
                }
                self.flush_events();
            }
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
        match self.consumer.commit(&tpl, CommitMode::Sync) {
            Ok(()) => self.owned[i].committed = Some(offset),
            Err(e) => log::warn!(
                "kafka: pinning the start of {}/{}: {e}",
                o.topic,
                o.partition
            ),
        }
    }

    /// One commit of the protocol (module docs, steps 1 to 4).
    fn commit(&mut self) {
        if !self.decide_pending() || !self.learn_ledgers() {
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
        let now_secs = SystemTime::now()
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
        if !self.save() {
            // Not on disk: the commit must not happen. The counts go back.
            self.settle(None);
            return;
        }
        if self.crash_at == Some(CrashAt::Save) {
            // SAFETY: ends the process at once, like kill -9 would.
            unsafe { libc::_exit(86) };
        }
        // 2. Commit. An error says little (it may have landed anyway):
        // the read-back decides.
        if let Err(e) = self.consumer.commit(&tpl, CommitMode::Sync) {
            log::warn!("kafka: commit {seq}: {e}");
        }
        if self.crash_at == Some(CrashAt::Commit) {
            // SAFETY: ends the process at once, like kill -9 would.
            unsafe { libc::_exit(86) };
        }
        // 3 and 4.
        self.decide_pending();
    }

    /// Decides the pending commit, if any, by reading the ledgers back.
    /// Returns whether nothing is pending any more.
    fn decide_pending(&mut self) -> bool {
        let Some(pending) = &self.state.pending else {
            return true;
        };
        if !self.joined && Instant::now() >= self.joined_by {
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
        self.save();
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

    fn save(&mut self) -> bool {
        self.state.saved = rfc3339(SystemTime::now());
        match self.store.save(&self.state) {
            Ok(()) => true,
            Err(e) => {
                log::error!("{e}");
                false
            }
        }
    }

    /// Ends the window: its summary's totals are the instance's exact
    /// contribution (landed commits), not what it has read.
    fn close_window(&mut self) -> crate::window::WindowSummary {
        let mut summary = self
            .agg
            .close(SystemTime::now(), &self.catalog, &self.matcher);
        summary.totals = self.state.totals.clone();
        summary
    }

    /// Consumer lag of each owned partition: messages between the read
    /// position and the partition's end.
    fn lag(&self) -> Vec<(String, u64)> {
        self.owned
            .iter()
            .filter_map(|o| {
                let (_, high) = self
                    .consumer
                    .fetch_watermarks(&o.topic, o.partition, Duration::from_millis(500))
                    .ok()?;
                let at = o.next.or(o.committed).unwrap_or(high);
                Some((
                    format!("{}/{}", o.topic, o.partition),
                    (high - at).max(0) as u64,
                ))
            })
            .collect()
    }

    fn flush_events(&mut self) {
        if let Some((_, out, buf)) = &mut self.events {
            if buf.is_empty() {
                return;
            }
            let result = out.write_all(buf).and_then(|()| out.flush());
            buf.clear();
            if let Err(err) = result {
                log::error!("writing events: {err}; events are no longer written");
                self.events = None;
            }
        }
    }

    /// Leaves the group, waiting at most `within` (a rebalance in
    /// progress can hold the leave for much longer): past that the group
    /// notices the session timing out instead. Nothing is lost either
    /// way: everything counted is committed or dropped by now.
    fn leave(self, within: Duration) {
        let consumer = self.consumer;
        if consumer.close_queue().is_ok() {
            let deadline = Instant::now() + within;
            while !consumer.closed() && Instant::now() < deadline {
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
    fn reload(&mut self, catalog: Catalog) -> Result<crate::window::WindowSummary, MatcherError> {
        let matcher = Matcher::new(catalog.entries().iter().map(|e| e.code.as_str()))?;
        for o in &mut self.owned {
            let t = o.take_counts(&self.catalog);
            o.carried = t;
            o.counts = Counts::new(catalog.len());
        }
        let summary = self.close_window();
        let now = SystemTime::now();
        self.agg = WindowAggregator::new(catalog.len(), now, Totals::default());
        if let Some((f, _, _)) = &mut self.events {
            *f = EventFormat::new(&catalog);
        }
        self.catalog = catalog;
        self.matcher = matcher;
        Ok(summary)
    }
}

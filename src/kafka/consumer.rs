//! The Kafka consumer of a group member: its librdkafka settings, the
//! rebalance notes its callback leaves for the run loop, and the two
//! requests the loop makes below the `rdkafka` crate's API (a commit
//! whose wait is bounded, a watermark read from librdkafka's cache).
//! Owned apart from the run loop so that the protocol in `kafka` reads
//! without librdkafka's plumbing; nothing here decides what a count is.

use super::{Config, KafkaTailError, POLL};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::{ClientContext, TopicPartitionList};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How soon librdkafka looks again at a full prefetch queue (see
/// [`make_consumer`]); milliseconds.
const FETCH_QUEUE_BACKOFF_MS: &str = "10";
/// What the rebalance callback saw, for the run loop to act on.
pub(super) enum Note {
    Assigned(Vec<(String, i32)>),
    Revoked(Vec<(String, i32)>),
}

/// The consumer's context: records rebalances. librdkafka runs it inside
/// `poll`, on the loop's own thread.
#[derive(Default)]
pub(super) struct GroupContext {
    pub(super) notes: Mutex<Vec<Note>>,
    /// `notes` has something: read after every message, so a plain flag
    /// rather than the lock.
    pub(super) noted: AtomicBool,
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
        self.noted.store(true, Ordering::Relaxed);
    }
}

pub(super) type GroupConsumer = BaseConsumer<GroupContext>;

/// Commits `tpl` and waits for the coordinator's answer at most `timeout`
/// (and no longer once `interrupt` is set). librdkafka's synchronous commit
/// waits without a limit, forever when the brokers are gone; this is the
/// same request with a reply queue of our own, polled in slices of
/// [`POLL`]. An unanswered commit may still land later: the protocol's
/// read-back decides it either way.
pub(super) fn commit_within(
    consumer: &GroupConsumer,
    tpl: &TopicPartitionList,
    timeout: Duration,
    interrupt: Option<&AtomicBool>,
) -> Result<(), CommitWaitError> {
    use rdkafka::bindings as rd;
    let rk = consumer.client().native_ptr();
    // SAFETY: `rk` and `tpl` are live for the whole call (librdkafka
    // copies the list); the queue is ours and destroyed once below, after
    // which a late reply is discarded by librdkafka.
    unsafe {
        let queue = rd::rd_kafka_queue_new(rk);
        let err = rd::rd_kafka_commit_queue(rk, tpl.ptr(), queue, None, std::ptr::null_mut());
        let result = if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            Err(CommitWaitError::Failed(err.into()))
        } else {
            let slices = timeout.div_duration_f64(POLL).ceil() as u32;
            let mut answer = Err(CommitWaitError::NoAnswer(timeout));
            for _ in 0..slices.max(1) {
                let event = rd::rd_kafka_queue_poll(queue, POLL.as_millis() as i32);
                if !event.is_null() {
                    let err = rd::rd_kafka_event_error(event);
                    rd::rd_kafka_event_destroy(event);
                    answer = if err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                        Ok(())
                    } else {
                        Err(CommitWaitError::Failed(err.into()))
                    };
                    break;
                }
                if interrupt.is_some_and(|stop| stop.load(Ordering::Relaxed)) {
                    answer = Err(CommitWaitError::Stopped);
                    break;
                }
            }
            answer
        };
        rd::rd_kafka_queue_destroy(queue);
        result
    }
}

#[derive(Debug, thiserror::Error)]
pub(super) enum CommitWaitError {
    #[error("the commit failed: {0}")]
    Failed(rdkafka::types::RDKafkaErrorCode),
    #[error("no answer within {0:?}; it stays pending until a read-back decides it")]
    NoAnswer(Duration),
    #[error("stopping before the answer came; it stays pending until the next start")]
    Stopped,
}

/// librdkafka's last known high watermark of a partition (from fetch
/// responses), without a request; `None` before the first fetch.
pub(super) fn cached_high_watermark(
    consumer: &GroupConsumer,
    topic: &str,
    partition: i32,
) -> Option<i64> {
    let topic = std::ffi::CString::new(topic).ok()?;
    let (mut low, mut high) = (-1i64, -1i64);
    // SAFETY: a read of librdkafka's cache into two local integers.
    let err = unsafe {
        rdkafka::bindings::rd_kafka_get_watermark_offsets(
            consumer.client().native_ptr(),
            topic.as_ptr(),
            partition,
            &mut low,
            &mut high,
        )
    };
    (err == rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0)
        .then_some(high)
}

pub(super) fn make_consumer(config: &Config) -> Result<GroupConsumer, KafkaTailError> {
    let session_ms = config.session_timeout.as_millis().max(1);
    let consumer: GroupConsumer = ClientConfig::new()
        .set("bootstrap.servers", &config.brokers)
        .set("group.id", &config.group)
        .set("client.id", "faultline")
        // Offsets are committed only by the protocol above.
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set(
            "auto.offset.reset",
            if config.from_end {
                "latest"
            } else {
                "earliest"
            },
        )
        .set("partition.assignment.strategy", "cooperative-sticky")
        // The group's prefetch queue is one for all partitions and full at
        // `queued.min.messages` (100,000): past that, librdkafka waits
        // this long before it fetches again. Its default (1 s) made one
        // instance read in bursts, idle most of each second, at a third
        // of `kcat -C`'s rate (which has a queue per partition); the
        // queue's bounds, and so memory, stay the same.
        .set("fetch.queue.backoff.ms", FETCH_QUEUE_BACKOFF_MS)
        // A message count bounds nothing the byte bound does not
        // (`queued.max.messages.kbytes`, 64 MB, as for kcat's queues), and
        // at 100,000 it stopped the fetches while the loop drained them.
        .set("queued.min.messages", "1000000")
        .set("session.timeout.ms", session_ms.to_string())
        .set("heartbeat.interval.ms", (session_ms / 3).max(1).to_string())
        .create_with_context(GroupContext::default())
        .map_err(KafkaTailError::Consumer)?;
    let topics: Vec<&str> = config.topics.iter().map(String::as_str).collect();
    consumer
        .subscribe(&topics)
        .map_err(KafkaTailError::Consumer)?;
    Ok(consumer)
}

//! How summaries are getting on: counted by the summaries sink whether or
//! not metrics are served, and exported by [`crate::metrics`] when they
//! are. It lives with the sinks that count it, so that the sinks depend on
//! nothing downstream of them.

use std::sync::atomic::AtomicU64;

/// Delivery counters of the summaries, shared with the metrics.
#[derive(Debug, Default)]
pub struct DeliveryStats {
    /// Summaries written or accepted by the endpoint.
    pub sent: AtomicU64,
    /// Delivery attempts that failed (each retry counts).
    pub failed: AtomicU64,
    /// Summaries given up: pushed out of a full queue, rejected for good
    /// by the endpoint, or still queued when the shutdown deadline passed.
    pub dropped: AtomicU64,
    /// Summaries waiting to be delivered now.
    pub queued: AtomicU64,
}

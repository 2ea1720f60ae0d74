//! faultline: finds the cloud API error codes buried in logs, enriches every
//! hit with what the vendor documents say about the code, and aggregates the
//! hits by service and remedy category.
//!
//! Both commands run one data flow, a module a step; they differ only in
//! where the bytes come from and where the results go:
//!
//! ```text
//! scan: input (files, dirs, stdin, gzip/zstd, memory maps), a thread per input
//! tail: tail (files followed through rotation and truncation, stdin),
//!       or kafka (a consumer group's share of topics, exactly-once totals)
//!          |
//!          v
//!   search (reads, decides codes across reads, positions)
//!     -> matcher (finds codes)
//!     -> pipeline (one sink: counts, events, latency, metrics, the
//!        time on the hit's line by timestamp)
//!          |
//!          v
//! scan: aggregate (counts per thread, merged), timeline -> sink::report
//!       (text or JSON); merge (the reports of shards into one)
//! tail: window (per-window summaries and totals) -> sink::summaries (file,
//!       stdout or HTTP), metrics (Prometheus); checkpoint (resume exactly)
//! ```
//!
//! plus [`catalog`], what is known about each code, and [`explain`], how an
//! entry is shown. Matching, enrichment and aggregation are plain
//! synchronous code. `scan` is synchronous throughout: its threads each
//! take inputs and count them; it needs no runtime. `tail` adds an async
//! shell that takes its options, shutdown and catalog reloads from the
//! caller; its two agents (files, Kafka) open the same outputs and fail
//! alike ([`agent`]). Its metrics server and summaries' delivery are tasks
//! on the caller's one runtime, beside the reading, never in its way.
//!
//! The library knows nothing of the command line, terminals or signals,
//! and its synchronous core reads no clock: the time is passed in, by the
//! command layer (`scan`'s start) or by `tail`'s async shell. The
//! `faultline` binary's `cli` module turns flags into [`scan::Options`],
//! [`tail::Config`] and [`kafka::Config`], chooses the signals and the
//! runtime, and prints.

pub mod agent;
pub mod aggregate;
pub mod bounded_counts;
pub mod catalog;
pub mod checkpoint;
pub mod explain;
pub mod gzip_isal;
pub mod input;
pub mod kafka;
pub mod map_guard;
pub mod matcher;
pub mod merge;
pub mod metrics;
pub mod pipeline;
pub mod scan;
pub mod search;
pub mod sink;
pub mod tail;
pub mod timeline;
pub mod timestamp;
pub mod window;

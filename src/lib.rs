//! faultline: finds the cloud API error codes buried in logs, enriches every
//! hit with what the vendor documents say about the code, and aggregates the
//! hits by service and remedy category.
//!
//! The data flow, one module a step:
//!
//! ```text
//! sources (files, dirs, stdin, gzip/zstd) -> search (reads) -> matcher (finds)
//!   -> aggregate (counts, enrichment) -> sinks (report, events)
//! ```
//!
//! plus [`catalog`], what is known about each code. Matching, enrichment and
//! aggregation are plain synchronous code; `tail` adds an async shell, and
//! [`metrics`] and the HTTP summaries sink talk to alerting systems.

pub mod aggregate;
pub mod catalog;
pub mod checkpoint;
pub mod cli;
pub mod explain;
pub mod map_guard;
pub mod matcher;
pub mod metrics;
pub mod scan;
pub mod search;
pub mod sink;
pub mod source;
pub mod tail;
pub mod window;

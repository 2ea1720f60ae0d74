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
//! aggregation are plain synchronous code.

pub mod catalog;
pub mod matcher;
pub mod search;

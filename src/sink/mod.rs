//! Sinks: where the results go. [`events`] writes every hit as a JSON line
//! while the input is read; [`report`] renders the totals of a scan at the
//! end (text for people, JSON for programs).

pub mod events;
pub mod report;
pub mod summaries;

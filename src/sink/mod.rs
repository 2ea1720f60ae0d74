//! Sinks: where the results go. [`events`] writes every hit as a JSON line
//! while the input is read; [`report`] renders the totals of a scan at the
//! end (text for people, JSON for programs); [`summaries`] writes the
//! windows of `tail`, or has [`post`] deliver them over HTTP, counting how
//! that goes in [`delivery`].

pub mod delivery;
pub mod events;
pub mod post;
pub mod report;
pub mod summaries;

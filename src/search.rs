//! The searcher: streams bytes from a reader through the matcher into a sink
//! (owned by the engine work). Not implemented yet.

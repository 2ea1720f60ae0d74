//! Parsing vendor documents into rows (owned by the catalog-parser work).
//!
//! Contract: `parse_document(name, bytes) -> Result<Vec<SourceRow>, SourceError>`.
//! Not implemented yet.

use std::path::PathBuf;

/// One table row of a vendor document, with its cells cleaned to plain text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRow {
    /// File name of the document (no directory).
    pub file: String,
    /// 1-based line of the row's first line in the document.
    pub line: usize,
    pub code: String,
    pub status: Option<u16>,
    pub message: Option<String>,
    pub description: Option<String>,
    pub remedy: Option<String>,
}

/// A document that cannot be parsed: names the file, the line and the problem.
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}: {problem}")]
pub struct SourceError {
    pub path: PathBuf,
    pub line: usize,
    pub problem: String,
}

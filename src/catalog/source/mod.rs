//! Parsing one vendor document into rows: [`parse_document`].
//!
//! A document is UTF-8 text holding one or more tables in any of three
//! formats, recognised by their content wherever they appear (the file name
//! and extension say nothing): Markdown pipe tables ([`markdown`]),
//! reStructuredText grid tables ([`rst`]) and HTML `<table>`s ([`html`]),
//! including HTML inside a Markdown document. Fenced code blocks (```` ``` ````)
//! are not searched, since vendor documents put response examples there.
//!
//! Which column holds what is read from each table's header, in English or
//! Chinese ([`table`]); tables with no error-code column (a parameter table,
//! a glossary, the fields of a response body) are skipped, and so is a list
//! of HTTP statuses headed "Code". A document with several error-code tables
//! (common errors, then the service's own) gives the rows of all of them; a
//! document without any is an error naming it. Cell text is cleaned to plain text ([`text`]). A row is
//! Chinese ([`Lang::Zh`]) when its description or remedy contains CJK
//! characters, so a Markdown document with English messages and Chinese
//! descriptions is read as the Chinese document it is.
//!
//! Everything a document can get wrong is a [`SourceError`] naming the file,
//! the 1-based line and what to fix; parsing never panics on input.

mod html;
mod markdown;
mod rst;
mod table;
mod text;

pub(crate) use text::has_cjk;

use std::path::PathBuf;
use table::{HeaderProblem, Problem};

/// The language of a row's texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }
}

/// One table row of a vendor document, with its cells cleaned to plain text.
/// A text the document leaves empty or gives as a placeholder (`-`, `无`) is
/// `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRow {
    /// File name of the document (no directory).
    pub file: String,
    /// 1-based line of the row's first line in the document.
    pub line: usize,
    pub code: String,
    pub status: Option<u16>,
    /// The language of the row: Chinese when its description or remedy (or,
    /// lacking both, its message) contains CJK characters.
    pub lang: Lang,
    pub message: Option<String>,
    pub description: Option<String>,
    pub remedy: Option<String>,
}

/// A document that cannot be parsed: names the file, the line and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {problem}", path.display())]
pub struct SourceError {
    pub path: PathBuf,
    pub line: usize,
    pub problem: String,
}

impl Problem {
    fn in_file(self, name: &str) -> SourceError {
        SourceError {
            path: PathBuf::from(name),
            line: self.line,
            problem: self.what,
        }
    }
}

/// Parses the document `name` (used in rows and errors) from its bytes: every
/// row of every error-code table in it, in document order.
pub fn parse_document(name: &str, bytes: &[u8]) -> Result<Vec<SourceRow>, SourceError> {
    let text = decode(bytes).map_err(|p| p.in_file(name))?;
    parse_text(name, &text).map_err(|p| p.in_file(name))
}

/// The document as text: UTF-8, with a byte-order mark dropped.
fn decode(bytes: &[u8]) -> Result<String, Problem> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(Problem::new(
            1,
            "the document is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8",
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) if text.trim().is_empty() => Err(Problem::new(
            1,
            "the document is empty; expected a table of error codes",
        )),
        Ok(text) => Ok(text.to_string()),
        Err(e) => {
            let at = e.valid_up_to();
            let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            let column = at
                - bytes[..at]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1)
                + 1;
            Err(Problem::new(
                line,
                format!(
                    "the document is not valid UTF-8 (byte 0x{:02X} at column {column}); convert it to UTF-8",
                    bytes[at]
                ),
            ))
        }
    }
}

fn parse_text(name: &str, text: &str) -> Result<Vec<SourceRow>, Problem> {
    let masked = mask_code_fences(text);
    let lines: Vec<&str> = masked.lines().collect();
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(masked.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |pos: usize| line_starts.partition_point(|&s| s <= pos);

    let mut tables = markdown::tables(&lines)?;
    tables.extend(rst::tables(&lines)?);
    tables.extend(html::tables(&masked, &line_of)?);
    tables.sort_by_key(|t| t.line);
    if tables.is_empty() {
        return Err(Problem::new(
            1,
            "no table found; expected a Markdown pipe table, a reStructuredText grid table or an HTML <table> whose header names an error-code column",
        ));
    }

    let mut rows = Vec::new();
    let mut without_code = None;
    for t in &tables {
        match table::columns(t) {
            Ok(cols) => rows.extend(table::source_rows(name, t, &cols)?),
            Err(HeaderProblem::Invalid(p)) => return Err(p),
            Err(HeaderProblem::NoCode(names)) => {
                without_code.get_or_insert((t.line, names));
            }
        }
    }
    if rows.is_empty() {
        let Some((line, names)) = without_code else {
            return Err(Problem::new(
                tables[0].line,
                "no error-code table found: the tables with a code column list HTTP statuses (200, 404, ...), not error codes",
            ));
        };
        return Err(Problem::new(
            line,
            format!(
                "no column of this table's header reads as the error code (columns: {}); name it \"Error Code\" or \"错误码\"",
                names
                    .iter()
                    .map(|n| format!("{n:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }

    let mut first_line: std::collections::HashMap<&str, usize> = Default::default();
    for row in &rows {
        if let Some(first) = first_line.insert(&row.code, row.line) {
            return Err(Problem::new(
                row.line,
                format!(
                    "{} is listed again (first at line {first}); a document lists each code once",
                    row.code
                ),
            ));
        }
    }
    Ok(rows)
}

/// The text with the content of fenced code blocks blanked out, lines kept,
/// so that tables are only looked for in prose. A fence is a line starting
/// (after up to three spaces) with ```` ``` ```` or `~~~`.
fn mask_code_fences(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut fence: Option<char> = None;
    for line in text.split_inclusive('\n') {
        let body = line.trim_start_matches(' ');
        let fence_char = (line.len() - body.len() <= 3)
            .then(|| {
                [("```", '`'), ("~~~", '~')]
                    .into_iter()
                    .find(|(fence, _)| body.starts_with(fence))
                    .map(|(_, c)| c)
            })
            .flatten();
        let masked = match (fence, fence_char) {
            // An opening fence; a backtick fence's info string has no backtick.
            (None, Some(c)) if c == '~' || !body[3..].contains('`') => {
                fence = Some(c);
                true
            }
            (Some(open), Some(c)) if c == open && body.trim_end().chars().all(|x| x == c) => {
                fence = None;
                true
            }
            (open, _) => open.is_some(),
        };
        if !masked {
            out.push_str(line);
        } else if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_are_masked_with_lines_kept() {
        let text = "a\n```\n|x|y|\n|--|--|\n```\nb\n";
        assert_eq!(mask_code_fences(text), "a\n\n\n\n\nb\n");
        // An inline literal at the start of a reST line is not a fence.
        assert_eq!(mask_code_fences("``x`` y\nz\n"), "``x`` y\nz\n");
    }

    #[test]
    fn bad_bytes() {
        let e = parse_document("d.txt", b"ok\nok\nab\xFFc\n").unwrap_err();
        assert_eq!((e.line, e.path.to_str().unwrap()), (3, "d.txt"));
        assert!(
            e.problem
                .contains("not valid UTF-8 (byte 0xFF at column 3)"),
            "{e}"
        );
        assert!(
            parse_document("d", b"")
                .unwrap_err()
                .problem
                .contains("empty")
        );
        assert!(
            parse_document("d", b" \n\n")
                .unwrap_err()
                .problem
                .contains("empty")
        );
        assert!(
            parse_document("d", b"\xFF\xFEa\0")
                .unwrap_err()
                .problem
                .contains("UTF-16")
        );
        assert_eq!(
            parse_document("d", b"just prose\n")
                .unwrap_err()
                .to_string(),
            "d:1: no table found; expected a Markdown pipe table, a reStructuredText grid table or an HTML <table> whose header names an error-code column"
        );
    }
}

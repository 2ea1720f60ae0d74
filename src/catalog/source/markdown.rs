//! Markdown pipe tables (GitHub-flavoured): a header row, a delimiter row
//! (`|--|:--:|`), then body rows up to the first blank line or line without
//! a `|`. Leading and trailing pipes are optional, as in GFM, but a table
//! keeps to one style; `\|` is a pipe inside a cell.
//!
//! Unlike GFM, which pads or cuts rows to the header's width, a row with a
//! different number of cells is an error: in a vendor document it means a
//! cell is missing or a `|` was left unescaped, and guessing would shift
//! text into the wrong column. A row may leave out the closing `|` even when
//! the header has one (GFM allows it, and hand-edited vendor pages do it);
//! if such a row also has too few cells, it is reported as cut off.
//!
//! Cell text goes through Markdown inline markup (see
//! [`text::strip_inline`](super::text::strip_inline)) and then the HTML stage,
//! because Markdown cells carry `<br>`, `<a name>` anchors and entities; after
//! a `<br>`, a line starting with `- ` or `1. ` is a list item.

use super::html;
use super::table::{Problem, RawRow, RawTable};
use super::text::{Block, Dialect, list_marker, strip_inline};

/// One row of a pipe table: its cells (raw text) and whether it ended with a
/// pipe.
struct Row<'a> {
    cells: Vec<&'a str>,
    trailing_pipe: bool,
}

/// Splits a table line into cells at every `|` that is not escaped. `None`
/// when the line has no unescaped `|` at all.
fn split_row(line: &str) -> Option<Row<'_>> {
    let mut bounds = Vec::new();
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '|' => bounds.push(i),
            _ => {}
        }
    }
    if bounds.is_empty() {
        return None;
    }
    let trimmed_start = line.len() - line.trim_start().len();
    let trimmed_end = line.trim_end().len();
    let leading = bounds[0] == trimmed_start;
    let trailing =
        *bounds.last().expect("not empty") + 1 == trimmed_end && (bounds.len() > 1 || !leading);
    let mut cells = Vec::new();
    let mut start = if leading {
        bounds[0] + 1
    } else {
        trimmed_start
    };
    for (k, &b) in bounds.iter().enumerate() {
        if k == 0 && leading {
            continue;
        }
        cells.push(&line[start..b]);
        start = b + 1;
    }
    if !trailing {
        cells.push(&line[start..trimmed_end]);
    }
    Some(Row {
        cells,
        trailing_pipe: trailing,
    })
}

/// Whether `row` is a delimiter row: every cell `---`, `:--`, `--:` or `:-:`.
fn is_delimiter(row: &Row<'_>) -> bool {
    row.cells.iter().all(|c| {
        let c = c.trim();
        let inner = c.strip_prefix(':').unwrap_or(c);
        let inner = inner.strip_suffix(':').unwrap_or(inner);
        !inner.is_empty() && inner.bytes().all(|b| b == b'-')
    })
}

/// The text of a Markdown cell as blocks.
pub(crate) fn cell_blocks(raw: &str) -> Vec<Block> {
    let html = strip_inline(raw.trim(), Dialect::Markdown);
    html::blocks(&html::tokenize(&html))
        .into_iter()
        .map(|block| match block {
            Block::Para(text) => match list_marker(&text) {
                Some((marker, len)) => Block::Item {
                    marker,
                    text: text[len..].to_string(),
                },
                None => Block::Para(text),
            },
            item => item,
        })
        .collect()
}

/// Every pipe table in `lines` (the document's lines, fenced code already
/// blanked out).
pub(crate) fn tables(lines: &[&str]) -> Result<Vec<RawTable>, Problem> {
    let mut tables = Vec::new();
    let mut i = 0;
    while i + 1 < lines.len() {
        let (Some(header), Some(delim)) = (split_row(lines[i]), split_row(lines[i + 1])) else {
            i += 1;
            continue;
        };
        if !is_delimiter(&delim) || lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        let width = header.cells.len();
        if delim.cells.len() != width {
            return Err(Problem::new(
                i + 2,
                format!(
                    "the delimiter row under this table's header has {} cells but the header has {width}; give each header cell one ---",
                    delim.cells.len()
                ),
            ));
        }
        let mut rows = Vec::new();
        let mut j = i + 2;
        while j < lines.len() && !lines[j].trim().is_empty() {
            let Some(row) = split_row(lines[j]) else {
                break;
            };
            let line = j + 1;
            if row.cells.len() != width {
                let what = if header.trailing_pipe && !row.trailing_pipe {
                    " and does not end with '|' as the header does: the row looks cut off (truncated document?)"
                } else if row.cells.len() < width {
                    ": a cell is missing (an empty cell is written as '| |')"
                } else {
                    ": is there a '|' inside a cell? write it as '\\|'"
                };
                return Err(Problem::new(
                    line,
                    format!(
                        "this row has {} cells but the header has {width}{what}",
                        row.cells.len()
                    ),
                ));
            }
            rows.push(RawRow {
                line,
                cells: row.cells.iter().map(|c| cell_blocks(c)).collect(),
            });
            j += 1;
        }
        tables.push(RawTable {
            format: "Markdown",
            line: i + 1,
            header: header.cells.iter().map(|c| cell_blocks(c)).collect(),
            rows,
        });
        i = j;
    }
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::source::text::render;

    #[test]
    fn rows_split_on_unescaped_pipes() {
        let r = split_row(r"|400|IMG.0001|a \| b|").unwrap();
        assert_eq!(r.cells, ["400", "IMG.0001", r"a \| b"]);
        assert!(r.trailing_pipe);
        let r = split_row("a | b").unwrap();
        assert_eq!(r.cells, ["a ", " b"]);
        assert!(!r.trailing_pipe);
        let r = split_row("|400|IMG.0002|The image name con").unwrap();
        assert_eq!(r.cells, ["400", "IMG.0002", "The image name con"]);
        assert!(!r.trailing_pipe);
        assert!(split_row("no pipes").is_none());
        assert!(is_delimiter(&split_row("|--|:--:|---:|").unwrap()));
        assert!(!is_delimiter(&split_row("|--|x|").unwrap()));
    }

    #[test]
    fn cells() {
        let t = |s: &str| render(&cell_blocks(s));
        assert_eq!(t(r"a\|b"), Some("a|b".into()));
        assert_eq!(
            t("Check:<br>- one<br>- two"),
            Some("Check: - one; - two".into())
        );
        assert_eq!(
            t("<a name=\"x_y\"></a>**配额**&nbsp;不足"),
            Some("配额 不足".into())
        );
        assert_eq!(t(r"\<none\>"), Some("<none>".into()));
        assert_eq!(t(" - "), None);
    }
}

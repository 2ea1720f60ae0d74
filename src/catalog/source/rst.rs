//! reStructuredText grid tables:
//!
//! ```text
//! +--------+----------+
//! | Status | Code     |
//! +========+==========+
//! | 400    | Ecs.0001 |
//! |        | wraps    |
//! +--------+----------+
//! ```
//!
//! The top border's `+` signs fix the column edges; every line of the table
//! must have its `|` or `+` exactly there, measured in display columns (a CJK
//! character is two wide, as docutils counts, and tabs stop every 8). The
//! rows above the `+===+` line are the header (without one, the first row
//! is). A separator line may leave a column open (`|        +----------+`)
//! for a cell that spans rows; a content line without a `|` at an inner edge
//! has a cell spanning columns, whose text goes to its first column. A table
//! ends at a full border followed by a line that is not part of it; anything
//! else — the document ends, or a row is cut off — is a truncated table.
//!
//! Cell text is reStructuredText: the lines are dedented, blank lines separate
//! paragraphs, `-`/`*`/`+`/`1.` start list items (continued by lines indented
//! under the item's text), `| ` starts a line of a line block, wrapped lines
//! join (see [`text`](super::text)), and inline markup is removed.

use super::table::{Problem, RawRow, RawTable};
use super::text::{Block, Dialect, collapse_whitespace, list_marker, strip_inline};
use unicode_width::UnicodeWidthChar;

/// A line laid out on display columns: each character with the column it
/// starts at and its width.
struct Laid {
    chars: Vec<(usize, usize, char)>,
    width: usize,
}

impl Laid {
    fn new(line: &str) -> Laid {
        let mut chars = Vec::with_capacity(line.len());
        let mut col = 0;
        for c in line.trim_end().chars() {
            if c == '\t' {
                let next = (col / 8 + 1) * 8;
                for k in col..next {
                    chars.push((k, 1, ' '));
                }
                col = next;
                continue;
            }
            let w = c.width().unwrap_or(0);
            chars.push((col, w, c));
            col += w;
        }
        Laid { chars, width: col }
    }

    /// The character that starts at display column `col`, if one does.
    fn at(&self, col: usize) -> Option<char> {
        let i = self.chars.partition_point(|&(c, _, _)| c < col);
        self.chars[i..]
            .iter()
            .take_while(|&&(c, _, _)| c == col)
            .find(|&&(_, w, _)| w > 0)
            .map(|&(_, _, ch)| ch)
    }

    /// The text between display columns `from` (inclusive) and `to`
    /// (exclusive).
    fn slice(&self, from: usize, to: usize) -> String {
        let i = self.chars.partition_point(|&(c, _, _)| c < from);
        self.chars[i..]
            .iter()
            .take_while(|&&(c, _, _)| c < to)
            .map(|&(_, _, ch)| ch)
            .collect()
    }

    /// Whether everything before column `col` is blank.
    fn blank_before(&self, col: usize) -> bool {
        self.chars
            .iter()
            .take_while(|&&(c, _, _)| c < col)
            .all(|&(_, _, ch)| ch.is_whitespace())
    }
}

/// The column edges of a border line `+---+----+`, or `None` if `line` is not
/// one.
fn border(line: &str) -> Option<Vec<usize>> {
    let laid = Laid::new(line);
    let first = laid
        .chars
        .iter()
        .position(|&(_, _, c)| !c.is_whitespace())?;
    let body = &laid.chars[first..];
    if body.len() < 3 || body[0].2 != '+' || body.last()?.2 != '+' {
        return None;
    }
    if !body.iter().all(|&(_, _, c)| c == '+' || c == '-') || body[1].2 != '-' {
        return None;
    }
    // No two `+` side by side: every column is at least one wide.
    if body.windows(2).any(|w| w[0].2 == '+' && w[1].2 == '+') {
        return None;
    }
    Some(
        body.iter()
            .filter(|&&(_, _, c)| c == '+')
            .map(|&(col, _, _)| col)
            .collect(),
    )
}

/// How a separator line treats one column.
#[derive(PartialEq)]
enum Edge {
    /// `---`: the cell above ends.
    Close,
    /// `===`: the cell above ends and so does the header.
    Header,
    /// Anything else: the cell above spans on; this is a line of its text.
    Open(String),
}

/// A cell being read: its lines of text.
#[derive(Default)]
struct CellText {
    lines: Vec<String>,
}

/// Every grid table in `lines` (the document's lines).
pub(crate) fn tables(lines: &[&str]) -> Result<Vec<RawTable>, Problem> {
    let mut tables = Vec::new();
    let mut i = 0;
    while i + 1 < lines.len() {
        if let Some(edges) = border(lines[i]) {
            let next = Laid::new(lines[i + 1]);
            if next.at(edges[0]) == Some('|') && next.blank_before(edges[0]) {
                let (table, end) = read_table(lines, i, &edges)?;
                tables.push(table);
                i = end;
                continue;
            }
        }
        i += 1;
    }
    Ok(tables)
}

/// Reads the table whose top border is `lines[top]`; returns it and the index
/// of the first line after it.
fn read_table(lines: &[&str], top: usize, edges: &[usize]) -> Result<(RawTable, usize), Problem> {
    let ncols = edges.len() - 1;
    let left = edges[0];
    let right = edges[ncols];
    let mut cells: Vec<CellText> = (0..ncols).map(|_| CellText::default()).collect();
    let mut open: Vec<usize> = (0..ncols).collect(); // cell index per column
    // Bands: the lines between two separator lines; each one a row, holding
    // the cell of each column.
    let mut bands: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut band_line: Option<usize> = None;
    let mut header_bands: Option<usize> = None;
    let mut closed_at: Option<usize> = Some(top); // last full border
    let mut j = top + 1;
    loop {
        let laid = lines.get(j).map(|l| Laid::new(l));
        let lead = laid.as_ref().and_then(|l| l.at(left));
        let in_table =
            laid.as_ref().is_some_and(|l| l.blank_before(left)) && matches!(lead, Some('|' | '+'));
        if !in_table {
            if closed_at == Some(j - 1) && j - 1 > top {
                break;
            }
            return Err(Problem::new(
                j.min(lines.len()),
                format!(
                    "the grid table that starts at line {} stops at line {} without a closing border (+---+); the table looks truncated",
                    top + 1,
                    j.min(lines.len())
                ),
            ));
        }
        let laid = laid.expect("in table");
        let line_no = j + 1;
        if laid.at(right).is_none_or(|c| c != '|' && c != '+') {
            let problem = if laid.width <= right {
                let reached = edges[1..]
                    .iter()
                    .filter(|&&e| matches!(laid.at(e), Some('|' | '+')))
                    .count();
                format!(
                    "this line stops at column {} but the table's right edge is at column {}: it has {reached} of the table's {ncols} cells, so a cell is missing or the line is cut off",
                    laid.width,
                    right + 1
                )
            } else {
                format!(
                    "there is no '|' at column {}, where the table's right edge is (set by its top border at line {}): a cell is missing or the line is misaligned",
                    right + 1,
                    top + 1
                )
            };
            return Err(Problem::new(line_no, problem));
        }
        if laid.width > right + 1 {
            return Err(Problem::new(
                line_no,
                format!(
                    "text after the table's right edge at column {}; the line is misaligned",
                    right + 1
                ),
            ));
        }
        // A separator line closes at least one cell: `+---+` or `+===+`
        // between two corners. Columns it leaves open (`|     +---+`) hold
        // a cell that spans into the next row.
        let kinds: Vec<Edge> = (0..ncols)
            .map(|k| {
                let seg = laid.slice(edges[k] + 1, edges[k + 1]);
                let cornered = laid.at(edges[k]) == Some('+') && laid.at(edges[k + 1]) == Some('+');
                let all = |c: char| !seg.is_empty() && seg.chars().all(|x| x == c);
                if cornered && all('-') {
                    Edge::Close
                } else if cornered && all('=') {
                    Edge::Header
                } else {
                    Edge::Open(seg)
                }
            })
            .collect();
        if kinds.iter().any(|k| !matches!(k, Edge::Open(_))) {
            let Some(first) = band_line.take() else {
                return Err(Problem::new(
                    line_no,
                    "two separator lines with no row between them; delete one",
                ));
            };
            bands.push((first, open.clone()));
            if kinds.contains(&Edge::Header) {
                if header_bands.is_some() {
                    return Err(Problem::new(
                        line_no,
                        "a second header separator (+===+); a grid table has one header",
                    ));
                }
                header_bands = Some(bands.len());
            }
            for (k, kind) in kinds.into_iter().enumerate() {
                match kind {
                    Edge::Close | Edge::Header => {
                        open[k] = cells.len();
                        cells.push(CellText::default());
                    }
                    Edge::Open(text) => cells[open[k]].lines.push(text),
                }
            }
            closed_at = open.iter().all(|&c| cells[c].lines.is_empty()).then_some(j);
        } else {
            band_line.get_or_insert(line_no);
            // Columns that this line divides with `|`; text between two
            // dividers belongs to the first column of the span.
            let mut from = 0;
            for k in 1..=ncols {
                if k == ncols || laid.at(edges[k]) == Some('|') {
                    let text = laid.slice(edges[from] + 1, edges[k]);
                    cells[open[from]].lines.push(text);
                    from = k;
                }
            }
            closed_at = None;
        }
        j += 1;
    }
    let end = j;
    let mut blocks_of: Vec<Option<Vec<Block>>> = (0..cells.len()).map(|_| None).collect();
    let mut blocks = |c: usize| {
        blocks_of[c]
            .get_or_insert_with(|| cell_blocks(&cells[c].lines))
            .clone()
    };
    let head = header_bands.unwrap_or(1).min(bands.len());
    let mut header: Vec<Vec<Block>> = vec![Vec::new(); ncols];
    for (k, h) in header.iter_mut().enumerate() {
        let mut seen = Vec::new();
        for (_, band) in &bands[..head] {
            if !seen.contains(&band[k]) {
                seen.push(band[k]);
                h.extend(blocks(band[k]));
            }
        }
    }
    let rows = bands[head..]
        .iter()
        .map(|(line, band)| RawRow {
            line: *line,
            cells: band.iter().map(|&c| blocks(c)).collect(),
        })
        .collect();
    let header_line = bands.first().map_or(top + 1, |b| b.0);
    Ok((
        RawTable {
            format: "reStructuredText grid",
            line: header_line,
            header,
            rows,
        },
        end,
    ))
}

/// A block being gathered from a cell's lines.
enum Open {
    Para(Vec<String>),
    /// An item: its marker, the column its text starts at, its lines.
    Item(String, usize, Vec<String>),
}

/// The text of a grid-table cell, given its lines (padding included), as
/// blocks of clean text.
pub(crate) fn cell_blocks(lines: &[String]) -> Vec<Block> {
    let indent_of = |l: &str| l.len() - l.trim_start().len();
    let dedent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent_of(l))
        .min()
        .unwrap_or(0);
    let mut blocks = Vec::new();
    let mut current: Option<Open> = None;
    let finish = |open: Option<Open>, blocks: &mut Vec<Block>| {
        let clean =
            |lines: &[String]| collapse_whitespace(&strip_inline(&lines.join("\n"), Dialect::Rst));
        match open {
            Some(Open::Para(lines)) => blocks.push(Block::Para(clean(&lines))),
            Some(Open::Item(marker, _, lines)) => blocks.push(Block::Item {
                marker,
                text: clean(&lines),
            }),
            None => {}
        }
    };
    let mut after_blank = false;
    for line in lines {
        if line.trim().is_empty() {
            after_blank = true;
            if let Some(Open::Para(_)) = current {
                finish(current.take(), &mut blocks);
            }
            continue;
        }
        let line = line.get(dedent..).unwrap_or(line.trim_start());
        let indent = indent_of(line);
        let body = line.trim();
        match &mut current {
            Some(Open::Item(_, text_col, item)) if indent >= *text_col => {
                item.push(body.to_string());
            }
            _ => {
                if let Some((marker, len)) = list_marker(body) {
                    finish(current.take(), &mut blocks);
                    current = Some(Open::Item(
                        marker,
                        indent + len,
                        vec![body[len..].to_string()],
                    ));
                } else if let Some(rest) = body.strip_prefix("| ").or((body == "|").then_some("")) {
                    finish(current.take(), &mut blocks);
                    blocks.push(Block::Para(collapse_whitespace(&strip_inline(
                        rest,
                        Dialect::Rst,
                    ))));
                } else if let (Some(Open::Para(para)), false) = (&mut current, after_blank) {
                    para.push(body.to_string());
                } else {
                    finish(current.take(), &mut blocks);
                    current = Some(Open::Para(vec![body.to_string()]));
                }
            }
        }
        after_blank = false;
    }
    finish(current.take(), &mut blocks);
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::source::text::render;

    fn cell(lines: &[&str]) -> Option<String> {
        render(&cell_blocks(
            &lines.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
        ))
    }

    #[test]
    fn borders() {
        assert_eq!(border("+--+---+"), Some(vec![0, 3, 7]));
        assert_eq!(border("   +-+"), Some(vec![3, 5]));
        assert_eq!(border("+==+"), None);
        assert_eq!(border("++"), None);
        assert_eq!(border("+--++--+"), None);
        assert_eq!(border("| a |"), None);
    }

    #[test]
    fn wide_characters_take_two_columns() {
        let laid = Laid::new("| 错误码 | x |");
        assert_eq!(laid.width, 14);
        assert_eq!(laid.at(9), Some('|'));
        assert_eq!(laid.at(3), None); // inside 错
        assert_eq!(laid.slice(1, 9), " 错误码 ");
    }

    #[test]
    fn cell_paragraphs_and_lists() {
        assert_eq!(
            cell(&[
                " Ensure that the name meets the following requirements: ",
                "                                                        ",
                " -  The name cannot start or end with space.            ",
                " -  The name contains 1 to 128                          ",
                "    characters.                                         ",
                " -  Digits                                              ",
                " -  Special characters, including hyphens (-)           ",
            ]),
            Some(
                "Ensure that the name meets the following requirements: - The name cannot start or end with space. - The name contains 1 to 128 characters. - Digits; - Special characters, including hyphens (-)"
                    .into()
            )
        );
        assert_eq!(
            cell(&[" An internal error occurred. ", "", " Contact support. "]),
            Some("An internal error occurred. Contact support.".into())
        );
        assert_eq!(
            cell(&[
                " 当前用户已经超过 ",
                " 镜像配额。",
                " Use **ECS** ",
                " now. "
            ]),
            Some("当前用户已经超过镜像配额。 Use ECS now.".into())
        );
        assert_eq!(cell(&[" ``-`` "]), None);
        assert_eq!(cell(&["  ", "  "]), None);
    }
}

//! HTML: a small tokenizer, the `<table>`s of a document, and the text of an
//! HTML fragment as paragraphs and list items.
//!
//! The tokenizer knows just enough HTML for vendor documents: start and end
//! tags with attributes (quoted or not), comments, doctype and processing
//! instructions (skipped), `<script>`/`<style>` content (skipped), and text;
//! a `<` that does not start a well-formed tag is text (`不支持回车、<、>`).
//!
//! A table's first row — or every row inside `<thead>` — is its header. Cells
//! may omit their end tags, as HTML allows, and may span rows and columns
//! (`rowspan`, `colspan`): a cell spanning rows is repeated in each of them;
//! one spanning columns fills the first and leaves the others empty. Nested
//! tables inside a cell are flattened into the cell's text.
//!
//! Cell text: block elements (`p`, `div`, `br`, `li`, headings, ...) separate
//! paragraphs, `<li>` makes a list item (`-`, or `1.` inside `<ol>`), every
//! other tag is dropped, and character references are decoded.

use super::table::{Problem, RawRow, RawTable};
use super::text::{Block, collapse_whitespace, decode_entities};

/// One tag, its name in lower case.
#[derive(Debug, Clone)]
pub(crate) struct Tag {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub closing: bool,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn is(&self, name: &str, closing: bool) -> bool {
        self.name == name && self.closing == closing
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Token<'a> {
    Tag(Tag),
    Text(&'a str),
}

/// A token and the byte offset where it starts.
#[derive(Debug, Clone)]
pub(crate) struct Spanned<'a> {
    pub pos: usize,
    pub token: Token<'a>,
}

/// Splits `s` into tags and text.
pub(crate) fn tokenize(s: &str) -> Vec<Spanned<'_>> {
    let mut tokens = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    let bytes = s.as_bytes();
    while let Some(off) = s[i..].find('<') {
        let lt = i + off;
        let skip = if s[lt..].starts_with("<!--") {
            Some(s[lt..].find("-->").map_or(s.len(), |e| lt + e + 3))
        } else if matches!(bytes.get(lt + 1), Some(b'!' | b'?')) {
            Some(s[lt..].find('>').map_or(s.len(), |e| lt + e + 1))
        } else {
            None
        };
        let (tag, end) = match skip {
            Some(end) => (None, end),
            None => match tag_at(s, lt) {
                Some((tag, end)) => (Some(tag), end),
                None => {
                    i = lt + 1;
                    continue;
                }
            },
        };
        if text_start < lt {
            tokens.push(Spanned {
                pos: text_start,
                token: Token::Text(&s[text_start..lt]),
            });
        }
        let mut next = end;
        if let Some(tag) = tag {
            // The content of script and style is not text anyone reads.
            if !tag.closing && (tag.name == "script" || tag.name == "style") {
                let close = format!("</{}", tag.name);
                next = s[end..]
                    .to_ascii_lowercase()
                    .find(&close)
                    .map_or(s.len(), |e| end + e);
            }
            tokens.push(Spanned {
                pos: lt,
                token: Token::Tag(tag),
            });
        }
        text_start = next;
        i = next;
    }
    if text_start < s.len() {
        tokens.push(Spanned {
            pos: text_start,
            token: Token::Text(&s[text_start..]),
        });
    }
    tokens
}

/// The tag starting at `s[lt] == '<'` and the offset just past it, or `None`
/// when what follows is not a well-formed tag.
fn tag_at(s: &str, lt: usize) -> Option<(Tag, usize)> {
    let b = s.as_bytes();
    let mut j = lt + 1;
    let closing = b.get(j) == Some(&b'/');
    if closing {
        j += 1;
    }
    if !b.get(j)?.is_ascii_alphabetic() {
        return None;
    }
    let name_start = j;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'-' || b[j] == b':') {
        j += 1;
    }
    let name = s[name_start..j].to_ascii_lowercase();
    if !matches!(b.get(j)?, b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'>') {
        return None;
    }
    let mut attrs = Vec::new();
    loop {
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        match b.get(j)? {
            b'>' => {
                return Some((
                    Tag {
                        name,
                        attrs,
                        closing,
                    },
                    j + 1,
                ));
            }
            b'/' if b.get(j + 1) == Some(&b'>') => {
                return Some((
                    Tag {
                        name,
                        attrs,
                        closing,
                    },
                    j + 2,
                ));
            }
            b'/' => {
                j += 1;
                continue;
            }
            _ => {}
        }
        let attr_start = j;
        while j < b.len() && !matches!(b[j], b' ' | b'\t' | b'\n' | b'\r' | b'=' | b'>' | b'/') {
            j += 1;
        }
        let attr = s[attr_start..j].to_ascii_lowercase();
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        let mut value = String::new();
        if b.get(j) == Some(&b'=') {
            j += 1;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            match b.get(j)? {
                q @ (b'"' | b'\'') => {
                    let end = j + 1 + s[j + 1..].find(*q as char)?;
                    value = decode_entities(&s[j + 1..end]);
                    j = end + 1;
                }
                _ => {
                    let start = j;
                    while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                        j += 1;
                    }
                    value = s[start..j].to_string();
                }
            }
        }
        if attr.is_empty() {
            j += 1; // a stray character such as a lone quote
        } else {
            attrs.push((attr, value));
        }
    }
}

/// Elements whose start or end separates paragraphs of text.
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "br"
            | "hr"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "table"
            | "thead"
            | "tbody"
            | "tfoot"
            | "tr"
            | "td"
            | "th"
            | "caption"
            | "pre"
            | "blockquote"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
    )
}

/// The text of a run of tokens as paragraphs and list items.
pub(crate) fn blocks(tokens: &[Spanned<'_>]) -> Vec<Block> {
    struct State {
        blocks: Vec<Block>,
        text: String,
        /// The marker of the list item being read, and whether a block of it
        /// has been written already (a second paragraph inside one `<li>`
        /// continues the item rather than starting a new one).
        item: Option<(String, bool)>,
        /// Open lists: ordered, and the number of the last item.
        lists: Vec<(bool, usize)>,
    }
    impl State {
        fn flush(&mut self) {
            let text = collapse_whitespace(&self.text);
            self.text.clear();
            if text.is_empty() {
                return;
            }
            match &mut self.item {
                Some((_, true)) => {
                    let last = self.blocks.last_mut().expect("item written");
                    last.text_mut().push(' ');
                    last.text_mut().push_str(&text);
                }
                Some((marker, written)) => {
                    *written = true;
                    self.blocks.push(Block::Item {
                        marker: marker.clone(),
                        text,
                    });
                }
                None => self.blocks.push(Block::Para(text)),
            }
        }
    }
    let mut st = State {
        blocks: Vec::new(),
        text: String::new(),
        item: None,
        lists: Vec::new(),
    };
    for t in tokens {
        match &t.token {
            Token::Text(text) => st.text.push_str(&decode_entities(text)),
            Token::Tag(tag) if is_block(&tag.name) => {
                st.flush();
                match (tag.name.as_str(), tag.closing) {
                    ("ul", false) => st.lists.push((false, 0)),
                    ("ol", false) => {
                        let start = tag.attr("start").and_then(|s| s.parse::<usize>().ok());
                        st.lists
                            .push((true, start.map_or(0, |s| s.saturating_sub(1))));
                    }
                    ("ul" | "ol", true) => {
                        st.lists.pop();
                        st.item = None;
                    }
                    ("li", false) => {
                        let marker = match st.lists.last_mut() {
                            Some((true, n)) => {
                                *n += 1;
                                format!("{n}.")
                            }
                            _ => "-".to_string(),
                        };
                        st.item = Some((marker, false));
                    }
                    ("li", true) => st.item = None,
                    _ => {}
                }
            }
            Token::Tag(_) => {}
        }
    }
    st.flush();
    st.blocks
}

/// A cell of an HTML table: its tokens, where it starts and what it spans.
struct Cell {
    tokens: std::ops::Range<usize>,
    rowspan: usize,
    colspan: usize,
}

struct Row {
    line: usize,
    in_head: bool,
    cells: Vec<Cell>,
}

/// Every top-level `<table>` of the document (`line_of` maps a byte offset to
/// its 1-based line).
pub(crate) fn tables(
    text: &str,
    line_of: &dyn Fn(usize) -> usize,
) -> Result<Vec<RawTable>, Problem> {
    let tokens = tokenize(text);
    let mut tables = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i].token {
            Token::Tag(tag) if tag.is("table", false) => {
                let (rows, next) = read_table(&tokens, i, line_of)?;
                let table_line = line_of(tokens[i].pos);
                if let Some(table) = grid(&tokens, rows, table_line)? {
                    tables.push(table);
                }
                i = next;
            }
            _ => i += 1,
        }
    }
    Ok(tables)
}

/// Reads the rows of the table whose `<table>` is `tokens[start]`; returns them
/// and the index just past its `</table>`.
fn read_table(
    tokens: &[Spanned<'_>],
    start: usize,
    line_of: &dyn Fn(usize) -> usize,
) -> Result<(Vec<Row>, usize), Problem> {
    let mut rows: Vec<Row> = Vec::new();
    let mut cell: Option<(usize, &Tag)> = None; // first content token, its tag
    let mut depth = 0usize; // tables nested inside a cell
    let mut in_head = false;
    let close_cell = |cell: &mut Option<(usize, &Tag)>, rows: &mut Vec<Row>, end: usize| {
        if let Some((first, tag)) = cell.take() {
            let span = |name: &str| {
                tag.attr(name)
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .filter(|&n| n >= 1)
                    .unwrap_or(1)
            };
            let row = rows.last_mut().expect("a cell is always inside a row");
            row.cells.push(Cell {
                tokens: first..end,
                rowspan: span("rowspan"),
                colspan: span("colspan"),
            });
        }
    };
    for (k, t) in tokens.iter().enumerate().skip(start + 1) {
        let Token::Tag(tag) = &t.token else { continue };
        if depth > 0 {
            if tag.name == "table" {
                depth = if tag.closing { depth - 1 } else { depth + 1 };
            }
            continue;
        }
        match (tag.name.as_str(), tag.closing) {
            // A table inside this one: its rows are text of the cell that
            // holds it (or nothing, outside a cell), not rows of this table.
            ("table", false) => depth = 1,
            ("table", true) => {
                close_cell(&mut cell, &mut rows, k);
                return Ok((rows, k + 1));
            }
            ("thead", closing) => {
                close_cell(&mut cell, &mut rows, k);
                in_head = !closing;
            }
            ("tbody" | "tfoot", _) => {
                close_cell(&mut cell, &mut rows, k);
                in_head = false;
            }
            ("tr", false) => {
                close_cell(&mut cell, &mut rows, k);
                rows.push(Row {
                    line: line_of(t.pos),
                    in_head,
                    cells: Vec::new(),
                });
            }
            ("tr", true) => close_cell(&mut cell, &mut rows, k),
            ("td" | "th", false) => {
                close_cell(&mut cell, &mut rows, k);
                if rows.is_empty() {
                    rows.push(Row {
                        line: line_of(t.pos),
                        in_head,
                        cells: Vec::new(),
                    });
                }
                cell = Some((k + 1, tag));
            }
            ("td" | "th", true) => close_cell(&mut cell, &mut rows, k),
            _ => {}
        }
    }
    let last_line = tokens.last().map_or(1, |t| {
        let end = match &t.token {
            Token::Text(text) => t.pos + text.trim_end().len().saturating_sub(1),
            Token::Tag(_) => t.pos,
        };
        line_of(end)
    });
    Err(Problem::new(
        last_line,
        format!(
            "the document ends inside the HTML table that starts at line {}: </table> is missing, so the document looks truncated",
            line_of(tokens[start].pos)
        ),
    ))
}

/// Lays the rows out on the header's columns, resolving row and column
/// spans; a table with no rows at all is not a table.
fn grid(
    tokens: &[Spanned<'_>],
    rows: Vec<Row>,
    table_line: usize,
) -> Result<Option<RawTable>, Problem> {
    let rows: Vec<Row> = rows.into_iter().filter(|r| !r.cells.is_empty()).collect();
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let head_rows = rows.iter().take_while(|r| r.in_head).count().max(1);
    let width: usize = first.cells.iter().map(|c| c.colspan).sum();
    let mut header: Vec<Vec<Block>> = vec![Vec::new(); width];
    let mut body = Vec::new();
    // Per column: rows still to fill from a cell above, and its blocks.
    let mut pending: Vec<(usize, Vec<Block>)> = vec![(0, Vec::new()); width];
    for (r, row) in rows.iter().enumerate() {
        let mut cells: Vec<Option<Vec<Block>>> = vec![None; width];
        let mut col = 0;
        let mut given = 0;
        for cell in &row.cells {
            while col < width && pending[col].0 > 0 {
                col += 1;
            }
            if col >= width {
                return Err(Problem::new(
                    row.line,
                    format!(
                        "this row has more cells than the header's {width} columns (the table starts at line {table_line}); remove the extra <td> or add a header cell"
                    ),
                ));
            }
            let content = blocks(&tokens[cell.tokens.clone()]);
            for k in 0..cell.colspan.min(width - col) {
                let text = if k == 0 { content.clone() } else { Vec::new() };
                if cell.rowspan > 1 {
                    pending[col + k] = (cell.rowspan, text.clone());
                }
                cells[col + k] = Some(text);
            }
            col += cell.colspan;
            given += 1;
        }
        for (c, p) in pending.iter_mut().enumerate() {
            if p.0 > 0 {
                if cells[c].is_none() {
                    cells[c] = Some(p.1.clone());
                }
                p.0 -= 1;
            }
        }
        let filled = cells.iter().filter(|c| c.is_some()).count();
        if filled < width {
            return Err(Problem::new(
                row.line,
                format!(
                    "this row has {given} cell(s) but the header has {width} columns: a cell is missing (write an empty <td></td> for an empty cell)"
                ),
            ));
        }
        let cells: Vec<Vec<Block>> = cells.into_iter().map(Option::unwrap_or_default).collect();
        if r < head_rows {
            for (h, c) in header.iter_mut().zip(cells) {
                h.extend(c);
            }
        } else {
            body.push(RawRow {
                line: row.line,
                cells,
            });
        }
    }
    Ok(Some(RawTable {
        format: "HTML",
        line: first.line,
        header,
        rows: body,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(html: &str) -> Vec<Block> {
        blocks(&tokenize(html))
    }

    #[test]
    fn tags_and_text() {
        let t = tokenize(r#"a<p class="x" id=y>b</p><br/>不支持回车、<、>c<!-- <table> -->"#);
        let kinds: Vec<String> = t
            .iter()
            .map(|s| match &s.token {
                Token::Tag(tag) => format!("{}{}", if tag.closing { "/" } else { "" }, tag.name),
                Token::Text(x) => format!("'{x}'"),
            })
            .collect();
        assert_eq!(
            kinds,
            ["'a'", "p", "'b'", "/p", "br", "'不支持回车、<、>c'"]
        );
    }

    #[test]
    fn cell_text() {
        assert_eq!(
            text_of("<p>描述：A&nbsp;B</p>\n<p>建议：<strong>C</strong>&lt;D&gt;</p>"),
            [
                Block::Para("描述：A B".into()),
                Block::Para("建议：C<D>".into())
            ]
        );
        assert_eq!(
            text_of("Do:<ul><li><p>one</p><p>more</p></li><li>two</ol>"),
            [
                Block::Para("Do:".into()),
                Block::Item {
                    marker: "-".into(),
                    text: "one more".into()
                },
                Block::Item {
                    marker: "-".into(),
                    text: "two".into()
                },
            ]
        );
        assert_eq!(
            text_of("<ol><li>a<li>b</ol>"),
            [
                Block::Item {
                    marker: "1.".into(),
                    text: "a".into()
                },
                Block::Item {
                    marker: "2.".into(),
                    text: "b".into()
                },
            ]
        );
    }
}

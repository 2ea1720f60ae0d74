//! What a table's columns mean, and how one of its rows becomes a
//! [`SourceRow`], whatever format the table came in.
//!
//! Each format parser produces a [`RawTable`]: a header and rows of cells,
//! each cell already split into [`Block`]s of markup-free text. This module
//! reads the header words (English and Chinese, see [`role_of`]) to find the
//! error-code, status, message, description and remedy columns, then turns
//! every row into a [`SourceRow`]: the code is checked for its shape, the
//! status parsed, the texts rendered, and a cell that labels its parts
//! (`描述：…` / `建议：…`, `Solution: …`) is split between description and
//! remedy by its labels.
//!
//! Rows that continue another (tables flattened from HTML whose cells spanned
//! rows, as published Markdown and grid tables often are):
//! - a row whose code cell is empty but which has text elsewhere continues
//!   the row above: its cells are appended to that row's cells;
//! - in a Markdown table, which cannot span rows, a status cell that is
//!   empty (not `-`, which says "no status") takes the status of the row
//!   above, the way the cell spanning those rows did in the HTML the table
//!   was converted from. Grid and HTML tables say when a cell spans rows (an
//!   open separator, `rowspan`), so there an empty status cell is no status.
//!
//! A table whose code column holds only HTTP statuses (100 to 599, "Code |
//! Description" lists of HTTP responses) is not an error-code table and is
//! skipped, as tables without a code column are.

use super::text::{Block, has_cjk, render};
use super::{Lang, SourceRow};
use crate::catalog::code::check_code;

/// A problem found while parsing, before the file name is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub line: usize,
    pub what: String,
}

impl Problem {
    pub(crate) fn new(line: usize, what: impl Into<String>) -> Problem {
        Problem {
            line,
            what: what.into(),
        }
    }
}

/// A table as its format parser found it.
#[derive(Debug, Clone)]
pub(crate) struct RawTable {
    /// The format's name, for messages.
    pub format: &'static str,
    /// 1-based line of the header row.
    pub line: usize,
    /// The header text of each column.
    pub header: Vec<Vec<Block>>,
    pub rows: Vec<RawRow>,
}

#[derive(Debug, Clone)]
pub(crate) struct RawRow {
    /// 1-based line where the row starts.
    pub line: usize,
    /// One cell per header column.
    pub cells: Vec<Vec<Block>>,
}

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Code,
    Status,
    Message,
    Description,
    Remedy,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Code => "error-code",
            Role::Status => "status",
            Role::Message => "message",
            Role::Description => "description",
            Role::Remedy => "remedy",
        }
    }
}

/// Header words, normalised as [`normalise`] does, for each role. Both the
/// English and the Chinese wording vendor documents use, and their usual
/// synonyms.
const HEADER_WORDS: &[(Role, &[&str])] = &[
    (
        Role::Code,
        &[
            "errorcode",
            "errorcodes",
            "errcode",
            "code",
            "codes",
            "errorcodename",
            "errorname",
            "错误码",
            "错误代码",
            "错误编码",
            "错误码编号",
        ],
    ),
    (
        Role::Status,
        &[
            "statuscode",
            "statuscodes",
            "httpstatuscode",
            "httpstatus",
            "httpcode",
            "status",
            "returncode",
            "状态码",
            "http状态码",
            "返回状态码",
            "http返回码",
            "返回码",
        ],
    ),
    (
        Role::Message,
        &[
            "errormessage",
            "errormessages",
            "message",
            "errormsg",
            "errorinfo",
            "errorinformation",
            "msg",
            "错误信息",
            "错误消息",
            "错误提示",
            "错误提示信息",
            "提示信息",
            "返回信息",
        ],
    ),
    (
        Role::Description,
        &[
            "description",
            "errordescription",
            "desc",
            "details",
            "detail",
            "meaning",
            "explanation",
            "cause",
            "causes",
            "reason",
            "possiblecause",
            "possiblecauses",
            "errorcause",
            "描述",
            "错误描述",
            "问题描述",
            "描述信息",
            "说明",
            "错误说明",
            "详细说明",
            "含义",
            "错误含义",
            "原因",
            "错误原因",
            "可能原因",
        ],
    ),
    (
        Role::Remedy,
        &[
            "handlingmeasure",
            "handlingmeasures",
            "handling",
            "measure",
            "measures",
            "solution",
            "solutions",
            "remedy",
            "remedies",
            "suggestion",
            "suggestions",
            "recommendation",
            "recommendations",
            "action",
            "actions",
            "resolution",
            "howtohandle",
            "howtofix",
            "troubleshooting",
            "troubleshoot",
            "handlingsuggestion",
            "handlingsuggestions",
            "handlingmethod",
            "fix",
            "排查方法",
            "排查建议",
            "故障排除",
            "处理办法",
            "应对措施",
            "处理措施",
            "处理方法",
            "处理建议",
            "处理方式",
            "解决方案",
            "解决方法",
            "解决办法",
            "解决措施",
            "修复建议",
            "操作建议",
            "建议",
        ],
    ),
];

/// A header text in the form [`HEADER_WORDS`] are written in: lower case,
/// without whitespace, `_`, `-`, `.` and a trailing colon.
fn normalise(header: &str) -> String {
    header
        .trim()
        .trim_end_matches([':', '：'])
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The role of a column from its header text. A bilingual header
/// (`错误码 (Error Code)`, `Status Code/状态码`) is recognised by either half.
pub(crate) fn role_of(header: &str) -> Option<Role> {
    let lookup = |h: &str| {
        let n = normalise(h);
        HEADER_WORDS
            .iter()
            .find(|(_, words)| words.contains(&n.as_str()))
            .map(|(role, _)| *role)
    };
    lookup(header).or_else(|| {
        header
            .split(['/', '(', ')', '（', '）', '|', '、'])
            .filter(|part| !part.trim().is_empty())
            .find_map(lookup)
    })
}

/// Which column holds what.
#[derive(Debug, Clone, Default)]
pub(crate) struct Columns {
    pub code: usize,
    pub status: Option<usize>,
    pub message: Option<usize>,
    pub description: Option<usize>,
    pub remedy: Option<usize>,
    /// Header texts, for messages.
    names: Vec<String>,
}

/// Why a header could not be used.
#[derive(Debug)]
pub(crate) enum HeaderProblem {
    /// No column reads as the error code: the table is not an error-code
    /// table (or its header words are new). Carries the header texts.
    NoCode(Vec<String>),
    Invalid(Problem),
}

/// Reads the header of `table`.
pub(crate) fn columns(table: &RawTable) -> Result<Columns, HeaderProblem> {
    let names: Vec<String> = table
        .header
        .iter()
        .map(|h| render(h).unwrap_or_default())
        .collect();
    let found: Vec<(Role, usize)> = names
        .iter()
        .enumerate()
        .filter_map(|(i, name)| Some((role_of(name)?, i)))
        .collect();
    let col = |role| found.iter().find(|(r, _)| *r == role).map(|(_, i)| *i);
    // Only an error-code table has to make sense; others are skipped.
    let Some(code) = col(Role::Code) else {
        return Err(HeaderProblem::NoCode(names));
    };
    for (k, &(role, i)) in found.iter().enumerate() {
        if let Some(&(_, first)) = found[..k].iter().find(|(r, _)| *r == role) {
            return Err(HeaderProblem::Invalid(Problem::new(
                table.line,
                format!(
                    "columns {} ({:?}) and {} ({:?}) both read as the {} column; rename one of them",
                    first + 1,
                    names[first],
                    i + 1,
                    names[i],
                    role.name()
                ),
            )));
        }
    }
    Ok(Columns {
        code,
        status: col(Role::Status),
        message: col(Role::Message),
        description: col(Role::Description),
        remedy: col(Role::Remedy),
        names,
    })
}

/// Labels that a cell may put before a part of its text (`描述：…`), and the
/// field that part belongs to. Chinese labels are recognised anywhere after
/// a sentence end; English ones only at the start of a paragraph, where
/// they cannot be an ordinary word of a sentence.
const LABELS: &[(Role, &[&str])] = &[
    (
        Role::Description,
        &[
            "错误描述",
            "问题描述",
            "描述",
            "可能原因",
            "错误原因",
            "原因",
            "Description",
            "Cause",
            "Reason",
        ],
    ),
    (
        Role::Remedy,
        &[
            "处理建议",
            "处理措施",
            "处理方法",
            "解决方案",
            "解决方法",
            "解决办法",
            "建议",
            "Handling Measure",
            "Solution",
            "Suggestion",
            "Remedy",
        ],
    ),
    (Role::Message, &["错误信息", "Error Message", "Message"]),
];

/// If `text` starts with a label and a colon (`：` or `:`), the label's role
/// and the text after it.
fn leading_label(text: &str) -> Option<(Role, &str)> {
    for (role, labels) in LABELS {
        for label in *labels {
            let Some(rest) = text.strip_prefix(label) else {
                continue;
            };
            if let Some(rest) = rest
                .trim_start()
                .strip_prefix('：')
                .or_else(|| rest.trim_start().strip_prefix(':'))
            {
                return Some((*role, rest.trim_start()));
            }
        }
    }
    None
}

/// Splits a paragraph at Chinese labels that follow a sentence end
/// (`描述：A。建议：B。`), so each part can be routed by its label.
fn split_at_labels(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if i == start || !matches!(c, '。' | '；' | ';' | ' ') {
            continue;
        }
        let next = i + c.len_utf8();
        let rest = text[next..].trim_start();
        if leading_label(rest).is_some() && has_cjk(&rest[..rest.find(['：', ':']).unwrap_or(0)]) {
            parts.push(&text[start..next]);
            start = text.len() - rest.len();
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The blocks of a description or remedy cell, routed by their labels:
/// unlabelled blocks belong to `role` (or to the last label seen).
fn route(blocks: &[Block], role: Role, out: &mut [Vec<Block>; 3]) {
    let slot = |r: Role| match r {
        Role::Message => 0,
        Role::Description => 1,
        _ => 2,
    };
    let mut current = slot(role);
    for block in blocks {
        for part in split_at_labels(block.text()) {
            let text = match leading_label(part) {
                Some((r, rest)) => {
                    current = slot(r);
                    rest
                }
                None => part,
            };
            let mut b = block.clone();
            *b.text_mut() = text.to_string();
            out[current].push(b);
        }
    }
}

/// The rows of `table` as [`SourceRow`]s of document `file`. Rows whose
/// cells are all empty are skipped.
pub(crate) fn source_rows(
    file: &str,
    table: &RawTable,
    cols: &Columns,
) -> Result<Vec<SourceRow>, Problem> {
    let mut out = Vec::with_capacity(table.rows.len());
    if table.rows.is_empty() {
        return Err(Problem::new(
            table.line,
            format!(
                "this {} table has a header but no rows; the document looks truncated",
                table.format
            ),
        ));
    }
    let rows = join_continuations(table, cols)?;
    if is_http_status_list(&rows, cols) {
        return Ok(Vec::new());
    }
    let mut status_above: Option<u16> = None;
    let spans_are_blank = table.format == "Markdown";
    for row in &rows {
        let code_header = &cols.names[cols.code];
        let code = render(&row.cells[cols.code]).ok_or_else(|| {
            Problem::new(
                row.line,
                format!("this row has no error code in its {code_header:?} column"),
            )
        })?;
        if let Err(why) = check_code(&code) {
            return Err(Problem::new(
                row.line,
                format!(
                    "{} in the {code_header:?} column is not an error code: it {why}",
                    quote(&code)
                ),
            ));
        }
        let status_cell = cols.status.map(|c| &row.cells[c]);
        let status = match status_cell.and_then(|c| render(c)) {
            None if spans_are_blank && status_cell.is_some_and(|c| is_blank(c)) => status_above,
            None => None,
            Some(text) => Some(parse_status(&text).ok_or_else(|| {
                Problem::new(
                    row.line,
                    format!(
                        "{code}: {} in the {:?} column is not an HTTP status; write a number such as 400, or '-' for none",
                        quote(&text),
                        cols.names[cols.status.expect("has a status")]
                    ),
                )
            })?),
        };
        status_above = status;
        let mut fields: [Vec<Block>; 3] = Default::default();
        if let Some(c) = cols.message {
            fields[0].extend(row.cells[c].iter().cloned());
        }
        for (col, role) in [
            (cols.description, Role::Description),
            (cols.remedy, Role::Remedy),
        ] {
            if let Some(c) = col {
                route(&row.cells[c], role, &mut fields);
            }
        }
        let [message, description, remedy] = fields.map(|f| render(&f));
        let lang = match (&description, &remedy) {
            (None, None) => message.as_deref().is_some_and(has_cjk),
            (d, r) => d.as_deref().is_some_and(has_cjk) || r.as_deref().is_some_and(has_cjk),
        };
        out.push(SourceRow {
            file: file.to_string(),
            line: row.line,
            code,
            status,
            lang: if lang { Lang::Zh } else { Lang::En },
            message,
            description,
            remedy,
        });
    }
    Ok(out)
}

/// Whether a cell holds no text at all (a placeholder such as `-` is text).
fn is_blank(cell: &[Block]) -> bool {
    cell.iter().all(|b| b.text().trim().is_empty())
}

/// The rows of `table` with each continuation row (empty code cell, text
/// elsewhere) appended to the row above, and rows with no text dropped. A
/// continuation row with no row above is an error: its code is missing.
fn join_continuations(table: &RawTable, cols: &Columns) -> Result<Vec<RawRow>, Problem> {
    let mut rows: Vec<RawRow> = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        if row.cells.iter().all(|c| is_blank(c)) {
            continue;
        }
        match rows.last_mut() {
            Some(above) if is_blank(&row.cells[cols.code]) => {
                for (into, from) in above.cells.iter_mut().zip(&row.cells) {
                    into.extend(from.iter().cloned());
                }
            }
            _ if is_blank(&row.cells[cols.code]) => {
                return Err(Problem::new(
                    row.line,
                    format!(
                        "this row has no error code in its {:?} column, and no row above it to continue",
                        cols.names[cols.code]
                    ),
                ));
            }
            _ => rows.push(row.clone()),
        }
    }
    Ok(rows)
}

/// Whether the code column of a table holds only HTTP statuses (a list of
/// HTTP responses headed "Code"), with no status column beside it.
fn is_http_status_list(rows: &[RawRow], cols: &Columns) -> bool {
    cols.status.is_none()
        && !rows.is_empty()
        && rows.iter().all(|r| {
            render(&r.cells[cols.code]).is_some_and(|c| {
                c.len() == 3 && c.parse::<u16>().is_ok_and(|s| (100..600).contains(&s))
            })
        })
}

/// A cell's text quoted for a message, shortened when long: a broken
/// document can put a whole paragraph where a code should be.
fn quote(text: &str) -> String {
    const MAX: usize = 60;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}", format!("{}…", &text[..cut])),
        None => format!("{text:?}"),
    }
}

/// An HTTP status from a cell: a number from 100 to 599, alone or followed
/// by its reason (`400 Bad Request`).
fn parse_status(text: &str) -> Option<u16> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &text[digits..];
    if digits != 3 || rest.starts_with(|c: char| c.is_alphanumeric()) {
        return None;
    }
    text[..digits]
        .parse::<u16>()
        .ok()
        .filter(|s| (100..600).contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_words() {
        for (h, role) in [
            ("Status Code", Role::Status),
            ("HTTP Status Code", Role::Status),
            ("状态码", Role::Status),
            ("Error Code", Role::Code),
            ("错误码", Role::Code),
            ("Error_Code", Role::Code),
            ("Message", Role::Message),
            ("错误信息", Role::Message),
            ("Description", Role::Description),
            ("说明", Role::Description),
            ("描述", Role::Description),
            ("Handling Measure", Role::Remedy),
            ("Solution", Role::Remedy),
            ("处理措施", Role::Remedy),
            ("解决方案", Role::Remedy),
            ("错误码 (Error Code)", Role::Code),
            ("Solution/解决方案", Role::Remedy),
        ] {
            assert_eq!(role_of(h), Some(role), "{h}");
        }
        assert_eq!(role_of("Parameter"), None);
        assert_eq!(role_of("Type"), None);
    }

    #[test]
    fn labels_split_a_cell() {
        let mut out: [Vec<Block>; 3] = Default::default();
        route(
            &[
                Block::Para("描述：备份不存在。".into()),
                Block::Para("建议：无。".into()),
            ],
            Role::Description,
            &mut out,
        );
        assert_eq!(render(&out[1]).as_deref(), Some("备份不存在。"));
        assert_eq!(render(&out[2]), None);

        let mut out: [Vec<Block>; 3] = Default::default();
        route(
            &[Block::Para("描述：配额不足。建议：请删除备份。".into())],
            Role::Description,
            &mut out,
        );
        assert_eq!(render(&out[1]).as_deref(), Some("配额不足。"));
        assert_eq!(render(&out[2]).as_deref(), Some("请删除备份。"));

        // An English word that merely looks like a label inside a sentence
        // is left alone.
        let mut out: [Vec<Block>; 3] = Default::default();
        route(
            &[Block::Para("Check the Solution: field.".into())],
            Role::Remedy,
            &mut out,
        );
        assert_eq!(
            render(&out[2]).as_deref(),
            Some("Check the Solution: field.")
        );
    }

    #[test]
    fn statuses() {
        assert_eq!(parse_status("400"), Some(400));
        assert_eq!(parse_status("404 Not Found"), Some(404));
        assert_eq!(parse_status("4000"), None);
        assert_eq!(parse_status("40"), None);
        assert_eq!(parse_status("abc"), None);
        assert_eq!(parse_status("600"), None);
    }
}

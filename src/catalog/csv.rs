//! User catalogs in CSV (SPEC section 1): reading them into the same
//! [`UserEntry`]s and [`Problem`]s as a JSON catalog.
//!
//! The format is RFC 4180: fields separated by `,`, records by CRLF or LF, a
//! field quoted with `"` may hold commas, line breaks and quotes (written
//! `""`). A UTF-8 byte-order mark before the header is dropped by the
//! caller. The header row names the columns, in any order:
//!
//! | column | meaning |
//! |---|---|
//! | `code` | required; any shape of SPEC section 1 |
//! | `service`, `message` | text |
//! | `status` | an HTTP status, 100 to 599; empty: none (JSON `null`) |
//! | `category` | one of the seven categories |
//! | `description_en`, `description_zh`, `remedy_en`, `remedy_zh` | text in that language |
//! | `description`, `remedy` | text; Chinese when it has CJK characters, else English |
//! | `sources` | file names separated by `;` |
//!
//! An empty cell means "not given", as a missing key does in JSON, except in
//! the `status` column, where it means "no status" (as `null` does in JSON:
//! CSV cannot tell the two apart, and an export writes a missing status as
//! an empty cell). So `catalog export --format csv` (which writes these
//! columns) reads back as the same entries. Blank lines are skipped. Every problem is reported with
//! the line where its record starts, the record's number (the entry) and the
//! column (the field), as for JSON.
//!
//! Cost: one pass over the text, record by record; a cell is allocated
//! only when it is kept (a quoted cell with a doubled quote once more), and
//! the entries are sorted by code once ([`sort_distinct`]).

use super::source::has_cjk;
use super::user::{EntryCheck, Problem, UserEntry, sort_distinct};
use super::{Category, Texts};
use std::borrow::Cow;

/// A syntax problem: the line and what is wrong.
type SyntaxError = (usize, String);

/// Reads the records of a text one at a time (RFC 4180). Blank lines are
/// not records. A field borrows the text unless it holds a doubled quote.
struct Records<'a> {
    text: &'a str,
    at: usize,
    line: usize,
}

impl<'a> Records<'a> {
    fn new(text: &'a str) -> Records<'a> {
        Records {
            text,
            at: 0,
            line: 1,
        }
    }

    /// Reads the next record's fields into `fields` (cleared first) and
    /// returns the line it starts on; `None` after the last record.
    fn next_into(&mut self, fields: &mut Vec<Cow<'a, str>>) -> Result<Option<usize>, SyntaxError> {
        fields.clear();
        let (text, bytes) = (self.text, self.text.as_bytes());
        let (mut i, mut line) = (self.at, self.line);
        // A blank line (LF or CRLF) is not a record.
        while i < bytes.len()
            && (bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n')))
        {
            i += if bytes[i] == b'\r' { 2 } else { 1 };
            line += 1;
        }
        if i >= bytes.len() {
            (self.at, self.line) = (i, line);
            return Ok(None);
        }
        let start_line = line;
        loop {
            let field: Cow<'a, str> = if bytes.get(i) == Some(&b'"') {
                let quote_line = line;
                i += 1;
                let mut from = i;
                let mut unquoted: Option<String> = None;
                loop {
                    match bytes.get(i) {
                        None => {
                            return Err((
                                quote_line,
                                "a quoted field is never closed; end it with '\"' (a quote inside a field is written '\"\"')".into(),
                            ));
                        }
                        Some(b'"') if bytes.get(i + 1) == Some(&b'"') => {
                            unquoted.get_or_insert_default().push_str(&text[from..=i]);
                            i += 2;
                            from = i;
                        }
                        Some(b'"') => break,
                        Some(b'\n') => {
                            line += 1;
                            i += 1;
                        }
                        Some(_) => i += 1,
                    }
                }
                let last = &text[from..i];
                i += 1;
                match bytes.get(i) {
                    None | Some(b',' | b'\n') => {}
                    Some(b'\r') if matches!(bytes.get(i + 1), None | Some(b'\n')) => {}
                    Some(_) => {
                        return Err((
                            line,
                            "text after the closing quote of a field; quote the whole field, and write a quote inside it as '\"\"'".into(),
                        ));
                    }
                }
                match unquoted {
                    Some(mut s) => {
                        s.push_str(last);
                        Cow::Owned(s)
                    }
                    None => Cow::Borrowed(last),
                }
            } else {
                let from = i;
                while let Some(&b) = bytes.get(i) {
                    match b {
                        b',' | b'\n' => break,
                        b'\r' if matches!(bytes.get(i + 1), None | Some(b'\n')) => break,
                        b'"' => {
                            return Err((
                                line,
                                "a '\"' inside an unquoted field; quote the whole field and write the quote as '\"\"'".into(),
                            ));
                        }
                        _ => i += 1,
                    }
                }
                Cow::Borrowed(&text[from..i])
            };
            fields.push(field);
            match bytes.get(i) {
                Some(b',') => i += 1,
                Some(b'\r') => {
                    i += if bytes.get(i + 1) == Some(&b'\n') {
                        2
                    } else {
                        1
                    };
                    line += 1;
                    break;
                }
                Some(b'\n') => {
                    i += 1;
                    line += 1;
                    break;
                }
                _ => break,
            }
        }
        (self.at, self.line) = (i, line);
        Ok(Some(start_line))
    }
}

/// What a column holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Column {
    Code,
    Service,
    Status,
    Message,
    Category,
    Sources,
    /// Description or remedy (`remedy: true`), in a language or in the one
    /// its text is written in (`None`).
    Text {
        remedy: bool,
        lang: Option<Lang>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Lang {
    En,
    Zh,
}

/// The column names, for the header and for messages.
const COLUMNS: &[(&str, Column)] = &[
    ("code", Column::Code),
    ("service", Column::Service),
    ("status", Column::Status),
    ("message", Column::Message),
    ("category", Column::Category),
    ("sources", Column::Sources),
    (
        "description",
        Column::Text {
            remedy: false,
            lang: None,
        },
    ),
    (
        "description_en",
        Column::Text {
            remedy: false,
            lang: Some(Lang::En),
        },
    ),
    (
        "description_zh",
        Column::Text {
            remedy: false,
            lang: Some(Lang::Zh),
        },
    ),
    (
        "remedy",
        Column::Text {
            remedy: true,
            lang: None,
        },
    ),
    (
        "remedy_en",
        Column::Text {
            remedy: true,
            lang: Some(Lang::En),
        },
    ),
    (
        "remedy_zh",
        Column::Text {
            remedy: true,
            lang: Some(Lang::Zh),
        },
    ),
];

/// Validates a CSV user catalog (UTF-8 and BOM already handled). With
/// `complete`, the columns of every field are required.
pub(crate) fn validate(text: &str, complete: bool) -> (Vec<UserEntry>, Vec<Problem>) {
    let syntax = |(line, message): SyntaxError| {
        let problem = Problem::whole(line, None, format!("invalid CSV: {message}"));
        (Vec::new(), vec![problem])
    };
    let mut records = Records::new(text);
    let mut fields = Vec::new();
    let header_line = match records.next_into(&mut fields) {
        Ok(Some(line)) => line,
        Ok(None) => {
            return (
                Vec::new(),
                vec![Problem::whole(1, None, "the file is empty".into())],
            );
        }
        Err(e) => return syntax(e),
    };
    let mut problems = Vec::new();
    let names = || {
        COLUMNS
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut columns = Vec::with_capacity(fields.len());
    for name in &fields {
        let name = name.trim();
        match COLUMNS.iter().find(|(n, _)| *n == name) {
            Some(&(_, col)) if columns.contains(&col) => problems.push(Problem::whole(
                header_line,
                Some(name),
                "the header names this column twice; keep one".into(),
            )),
            Some(&(_, col)) => columns.push(col),
            None => problems.push(Problem::whole(
                header_line,
                Some(name),
                format!(
                    "unknown column in the header row; the columns are {}",
                    names()
                ),
            )),
        }
    }
    if !columns.contains(&Column::Code) {
        problems.push(Problem::whole(
            header_line,
            Some("code"),
            format!(
                "the header row has no code column; a CSV catalog starts with a header row such as code,service,status,message,remedy,category (all columns: {})",
                names()
            ),
        ));
    }
    if complete {
        for (name, col) in COLUMNS {
            let needed = !matches!(col, Column::Text { lang: None, .. });
            if needed && !columns.contains(col) {
                problems.push(Problem::whole(
                    header_line,
                    Some(name),
                    "missing column; a complete catalog needs it".into(),
                ));
            }
        }
    }
    if !problems.is_empty() {
        return (Vec::new(), problems);
    }

    let mut read = Vec::new();
    // The line of each record, by its number: for the problems of
    // duplicates, found after all are read.
    let mut lines: Vec<usize> = Vec::new();
    loop {
        let line = match records.next_into(&mut fields) {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => return syntax(e),
        };
        lines.push(line);
        let mut ctx = EntryCheck {
            line,
            index: lines.len(),
            code: None,
            problems: &mut problems,
        };
        if fields.len() != columns.len() {
            ctx.problem(
                None,
                format!(
                    "{} field(s) but the header has {} columns; quote a field that holds a comma",
                    fields.len(),
                    columns.len()
                ),
            );
            continue;
        }
        if let Some(entry) = entry(ctx, &columns, &mut fields) {
            read.push((lines.len(), entry));
        }
    }
    let entries = sort_distinct(read, &mut problems);
    for p in &mut problems {
        if let (0, Some(n)) = (p.line, p.entry) {
            p.line = lines[n - 1];
        }
    }
    problems.sort_by_key(|p| p.entry);
    (entries, problems)
}

/// The position of column `col` when the record's cell there is not blank.
fn cell(columns: &[Column], fields: &[Cow<'_, str>], col: Column) -> Option<usize> {
    columns
        .iter()
        .position(|&c| c == col)
        .filter(|&i| !fields[i].trim().is_empty())
}

/// The cell at `i`, moved out of the record (allocated when it borrows).
fn take(fields: &mut [Cow<'_, str>], i: usize) -> String {
    std::mem::take(&mut fields[i]).into_owned()
}

/// The entry of one record, or `None` with its problems in `ctx`. Moves
/// the cells it keeps out of `fields`.
fn entry(
    ctx: EntryCheck<'_>,
    columns: &[Column],
    fields: &mut [Cow<'_, str>],
) -> Option<UserEntry> {
    let mut ctx = ctx;
    let before = ctx.problems.len();
    let code = match cell(columns, fields, Column::Code) {
        Some(i) => {
            let c = fields[i].trim();
            ctx.is_code(c).then(|| c.to_string())
        }
        None => {
            ctx.problem(Some("code"), "empty; every entry needs a code".into());
            None
        }
    };
    // Every other problem names the code.
    let ctx = &mut EntryCheck {
        code: code.as_deref(),
        ..ctx
    };
    let has_status = columns.contains(&Column::Status);
    let status = match cell(columns, fields, Column::Status) {
        None if has_status => Some(None),
        None => None,
        Some(i) => match fields[i].trim().parse::<u16>() {
            Ok(n @ 100..=599) => Some(Some(n)),
            _ => {
                ctx.problem(
                    Some("status"),
                    format!("{:?} is not an HTTP status; write an integer from 100 to 599, or leave the cell empty for none", fields[i]),
                );
                None
            }
        },
    };
    let category = cell(columns, fields, Column::Category).and_then(|i| {
        match fields[i].trim().parse::<Category>() {
            Ok(c) => Some(c),
            Err(e) => {
                ctx.problem(Some("category"), e.to_string());
                None
            }
        }
    });
    let sources = cell(columns, fields, Column::Sources).map(|i| {
        fields[i]
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    });
    let service = cell(columns, fields, Column::Service).map(|i| take(fields, i));
    let message = cell(columns, fields, Column::Message).map(|i| take(fields, i));
    let mut description: Option<Texts> = None;
    let mut remedy: Option<Texts> = None;
    for (i, col) in columns.iter().enumerate() {
        let Column::Text {
            remedy: is_remedy,
            lang,
        } = *col
        else {
            continue;
        };
        if fields[i].trim().is_empty() {
            continue;
        }
        let text = take(fields, i);
        let lang = lang.unwrap_or(if has_cjk(&text) { Lang::Zh } else { Lang::En });
        let texts = if is_remedy {
            &mut remedy
        } else {
            &mut description
        };
        let texts = texts.get_or_insert_with(Texts::default);
        let slot = match lang {
            Lang::En => &mut texts.en,
            Lang::Zh => &mut texts.zh,
        };
        if slot.is_some() {
            let field = if is_remedy { "remedy" } else { "description" };
            ctx.problem(
                Some(field),
                "two columns give this text in the same language; keep one".into(),
            );
        }
        *slot = Some(text);
    }
    let ok = ctx.problems.len() == before;
    let code = code.filter(|_| ok)?;
    Some(UserEntry {
        code,
        service,
        status,
        message,
        description,
        remedy,
        category,
        sources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record of `text`: its line and fields, or the first syntax error.
    fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, SyntaxError> {
        let (mut records, mut out, mut fields) = (Records::new(text), Vec::new(), Vec::new());
        while let Some(line) = records.next_into(&mut fields)? {
            out.push((line, fields.iter().map(|f| f.to_string()).collect()));
        }
        Ok(out)
    }

    fn fields(text: &str) -> Vec<(usize, Vec<String>)> {
        records(text).unwrap()
    }

    #[test]
    fn rfc4180_records() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            fields("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",\r\nlast,"),
            vec![
                (1, v(&["a", "b"])),
                (2, v(&["x, y", "say \"hi\""])),
                (3, v(&["two\nlines", ""])),
                (5, v(&["last", ""])),
            ]
        );
        assert_eq!(fields("a\n\n\nb"), vec![(1, v(&["a"])), (4, v(&["b"]))]);
        assert_eq!(fields(""), vec![]);
        assert_eq!(records("a\n\"open\n").err().map(|e| e.0), Some(2));
        assert_eq!(records("a\nx\"y\n").err().map(|e| e.0), Some(2));
        assert_eq!(records("\"a\"b\n").err().map(|e| e.0), Some(1));
    }

    #[test]
    fn columns_and_problems() {
        let text = "code,status,remedy,remedy_en,description\nDBS.200001,400,请重试。,Retry.,Busy\nA b,99,,,\nX,,,,,\n";
        let (entries, problems) = validate(text, false);
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(e.code, "DBS.200001");
        assert_eq!(e.status, Some(Some(400)));
        let r = e.remedy.as_ref().unwrap();
        assert_eq!(
            (r.en.as_deref(), r.zh.as_deref()),
            (Some("Retry."), Some("请重试。"))
        );
        assert_eq!(e.description.as_ref().unwrap().en.as_deref(), Some("Busy"));
        let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(shown.len(), 3, "{shown:#?}");
        assert!(
            shown[0].starts_with("line 3, entry 2, field \"code\": \"A b\" is not an error code"),
            "{shown:?}"
        );
        assert!(
            shown[1].starts_with("line 3, entry 2, field \"status\": \"99\""),
            "{shown:?}"
        );
        assert!(
            shown[2].starts_with("line 4, entry 3: 6 field(s) but the header has 5"),
            "{shown:?}"
        );
        let (_, problems) = validate("code,colour\n", false);
        assert_eq!(problems[0].field.as_deref(), Some("colour"));
        let (_, problems) = validate("service\nX\n", false);
        assert!(problems[0].message.contains("no code column"));
    }
}

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
//! Cost: one pass over the text, one `String` per non-empty cell.

use super::source::has_cjk;
use super::user::{EntryCheck, Problem, Seen, UserEntry};
use super::{Category, Texts};

/// One record: the line it starts on and its fields.
struct Record {
    line: usize,
    fields: Vec<String>,
}

/// A syntax problem: the line and what is wrong.
type SyntaxError = (usize, String);

/// Splits `text` into records (RFC 4180). Blank lines are not records.
fn records(text: &str) -> Result<Vec<Record>, SyntaxError> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let (mut i, mut line) = (0usize, 1usize);
    while i < bytes.len() {
        // A blank line (LF or CRLF) is not a record.
        if bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n')) {
            i += if bytes[i] == b'\r' { 2 } else { 1 };
            line += 1;
            continue;
        }
        let start_line = line;
        let mut fields = Vec::new();
        loop {
            let mut field = String::new();
            if bytes.get(i) == Some(&b'"') {
                let quote_line = line;
                i += 1;
                let mut from = i;
                loop {
                    match bytes.get(i) {
                        None => {
                            return Err((
                                quote_line,
                                "a quoted field is never closed; end it with '\"' (a quote inside a field is written '\"\"')".into(),
                            ));
                        }
                        Some(b'"') if bytes.get(i + 1) == Some(&b'"') => {
                            field.push_str(&text[from..=i]);
                            i += 2;
                            from = i;
                        }
                        Some(b'"') => {
                            field.push_str(&text[from..i]);
                            i += 1;
                            break;
                        }
                        Some(b'\n') => {
                            line += 1;
                            i += 1;
                        }
                        Some(_) => i += 1,
                    }
                }
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
                field.push_str(&text[from..i]);
            }
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
        out.push(Record {
            line: start_line,
            fields,
        });
    }
    Ok(out)
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

/// Validates a CSV user catalog (UTF-8 checked here, BOM already dropped).
/// With `complete`, the columns of every field are required.
pub(crate) fn validate(bytes: &[u8], complete: bool) -> (Vec<UserEntry>, Vec<Problem>) {
    let mut problems = Vec::new();
    let whole = |line: usize, field: Option<&str>, message: String| Problem {
        line,
        entry: None,
        code: None,
        field: field.map(str::to_string),
        message,
    };
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            problems.push(whole(
                line,
                None,
                format!(
                    "not UTF-8 (invalid byte at offset {}); save the file as UTF-8",
                    e.valid_up_to()
                ),
            ));
            return (Vec::new(), problems);
        }
    };
    let records = match records(text) {
        Ok(r) => r,
        Err((line, message)) => {
            problems.push(whole(line, None, format!("invalid CSV: {message}")));
            return (Vec::new(), problems);
        }
    };
    let Some((header, rows)) = records.split_first() else {
        problems.push(whole(1, None, "the file is empty".into()));
        return (Vec::new(), problems);
    };
    let names = || {
        COLUMNS
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut columns = Vec::with_capacity(header.fields.len());
    for name in &header.fields {
        let name = name.trim();
        match COLUMNS.iter().find(|(n, _)| *n == name) {
            Some(&(_, col)) if columns.contains(&col) => problems.push(whole(
                header.line,
                Some(name),
                "the header names this column twice; keep one".into(),
            )),
            Some(&(_, col)) => columns.push(col),
            None => problems.push(whole(
                header.line,
                Some(name),
                format!(
                    "unknown column in the header row; the columns are {}",
                    names()
                ),
            )),
        }
    }
    if !columns.contains(&Column::Code) {
        problems.push(whole(
            header.line,
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
                problems.push(whole(
                    header.line,
                    Some(name),
                    "missing column; a complete catalog needs it".into(),
                ));
            }
        }
    }
    if !problems.is_empty() {
        return (Vec::new(), problems);
    }

    let mut entries = Vec::with_capacity(rows.len());
    let mut seen = Seen::with_capacity(rows.len());
    for (k, record) in rows.iter().enumerate() {
        let mut ctx = EntryCheck {
            line: record.line,
            index: k + 1,
            code: None,
            problems: &mut problems,
        };
        if record.fields.len() != columns.len() {
            ctx.problem(
                None,
                format!(
                    "{} field(s) but the header has {} columns; quote a field that holds a comma",
                    record.fields.len(),
                    columns.len()
                ),
            );
            continue;
        }
        if let Some(entry) = entry(&mut ctx, &columns, &record.fields) {
            seen.add(entry, k + 1, &mut ctx, &mut entries);
        }
    }
    (entries, problems)
}

/// The entry of one record, or `None` with its problems in `ctx`.
fn entry(ctx: &mut EntryCheck<'_>, columns: &[Column], fields: &[String]) -> Option<UserEntry> {
    let before = ctx.problems.len();
    let cell = |col: Column| {
        columns
            .iter()
            .position(|&c| c == col)
            .map(|i| fields[i].as_str())
            .filter(|s| !s.trim().is_empty())
    };
    let code = match cell(Column::Code) {
        Some(c) => ctx.code(c.trim()),
        None => {
            ctx.problem(Some("code"), "empty; every entry needs a code".into());
            None
        }
    };
    let has_status = columns.contains(&Column::Status);
    let status = match cell(Column::Status) {
        None if has_status => Some(None),
        None => None,
        Some(s) => match s.trim().parse::<u16>() {
            Ok(n @ 100..=599) => Some(Some(n)),
            _ => {
                ctx.problem(
                    Some("status"),
                    format!("{s:?} is not an HTTP status; write an integer from 100 to 599, or leave the cell empty for none"),
                );
                None
            }
        },
    };
    let category = cell(Column::Category).and_then(|s| match s.trim().parse::<Category>() {
        Ok(c) => Some(c),
        Err(e) => {
            ctx.problem(Some("category"), e.to_string());
            None
        }
    });
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
        let text = &fields[i];
        if text.trim().is_empty() {
            continue;
        }
        let lang = lang.unwrap_or(if has_cjk(text) { Lang::Zh } else { Lang::En });
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
        *slot = Some(text.clone());
    }
    let sources = cell(Column::Sources).map(|s| {
        s.split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    });
    let entry = UserEntry {
        code: code.clone().unwrap_or_default(),
        service: cell(Column::Service).map(str::to_string),
        status,
        message: cell(Column::Message).map(str::to_string),
        description,
        remedy,
        category,
        sources,
    };
    (ctx.problems.len() == before && code.is_some()).then_some(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<(usize, Vec<String>)> {
        records(text)
            .unwrap()
            .into_iter()
            .map(|r| (r.line, r.fields))
            .collect()
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
        let (entries, problems) = validate(text.as_bytes(), false);
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
        let (_, problems) = validate(b"code,colour\n", false);
        assert_eq!(problems[0].field.as_deref(), Some("colour"));
        let (_, problems) = validate(b"service\nX\n", false);
        assert!(problems[0].message.contains("no code column"));
    }
}

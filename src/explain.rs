//! Catalog entries rendered for people and spreadsheets: the text of
//! `explain` and `catalog show`, the table of `catalog list`, and the CSV of
//! `catalog export --format csv`. JSON output needs nothing here: it is the
//! [`Entry`] shape serialised as is.

use crate::catalog::{Category, Entry, Texts};
use std::io::{self, Write};

/// `explain`/`catalog show` text for one entry. `why` is the reason for the
/// category (rule or override), shown by `catalog show`.
pub fn write_entry(out: &mut impl Write, e: &Entry, why: Option<&str>) -> io::Result<()> {
    let status = e
        .status
        .map_or_else(|| "no HTTP status".to_string(), |s| format!("HTTP {s}"));
    writeln!(
        out,
        "{}  {} · {} · {}",
        e.code, e.service, status, e.category
    )?;
    writeln!(out, "  {:<12} {}", "message", e.message)?;
    write_texts(out, "description", &e.description)?;
    write_texts(out, "remedy", &e.remedy)?;
    if let Some(why) = why {
        writeln!(out, "  {:<12} {}", "category", why)?;
    }
    writeln!(out, "  {:<12} {}", "sources", e.sources.join(", "))
}

fn write_texts(out: &mut impl Write, label: &str, t: &Texts) -> io::Result<()> {
    if t.is_empty() {
        return writeln!(out, "  {label:<12} (none given)");
    }
    let mut label = label;
    for (lang, text) in [("en", &t.en), ("zh", &t.zh)] {
        if let Some(text) = text {
            // Multi-line texts (list items) stay aligned under the first line.
            let mut lines = text.lines();
            let first = lines.next().unwrap_or_default();
            writeln!(out, "  {label:<12} {lang}: {first}")?;
            for line in lines {
                writeln!(out, "  {:<12}     {line}", "")?;
            }
            label = "";
        }
    }
    Ok(())
}

/// `catalog list`: one aligned line per entry.
pub fn write_list<'a>(
    out: &mut impl Write,
    entries: impl IntoIterator<Item = &'a Entry>,
) -> io::Result<()> {
    let entries: Vec<&Entry> = entries.into_iter().collect();
    let code_w = entries.iter().map(|e| e.code.len()).max().unwrap_or(4);
    let svc_w = entries.iter().map(|e| e.service.len()).max().unwrap_or(7);
    for e in entries {
        let status = e.status.map_or_else(|| "-".to_string(), |s| s.to_string());
        writeln!(
            out,
            "{:<code_w$}  {:<svc_w$}  {:>3}  {:<15}  {}",
            e.code, e.service, status, e.category, e.message
        )?;
    }
    Ok(())
}

const CSV_HEADER: [&str; 10] = [
    "code",
    "service",
    "status",
    "category",
    "message",
    "description_en",
    "description_zh",
    "remedy_en",
    "remedy_zh",
    "sources",
];

/// `catalog export --format csv`: RFC 4180, one row per entry, sources
/// joined with `;`.
pub fn write_csv<'a>(
    out: &mut impl Write,
    entries: impl IntoIterator<Item = &'a Entry>,
) -> io::Result<()> {
    write_csv_row(out, CSV_HEADER.iter().copied())?;
    for e in entries {
        let status = e.status.map(|s| s.to_string()).unwrap_or_default();
        let sources = e.sources.join(";");
        let opt = |t: &'a Option<String>| t.as_deref().unwrap_or("");
        write_csv_row(
            out,
            [
                e.code.as_str(),
                &e.service,
                &status,
                e.category.as_str(),
                &e.message,
                opt(&e.description.en),
                opt(&e.description.zh),
                opt(&e.remedy.en),
                opt(&e.remedy.zh),
                &sources,
            ],
        )?;
    }
    Ok(())
}

fn write_csv_row<'a>(
    out: &mut impl Write,
    fields: impl IntoIterator<Item = &'a str>,
) -> io::Result<()> {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        if f.contains([',', '"', '\n', '\r']) {
            write!(out, "\"{}\"", f.replace('"', "\"\""))?;
        } else {
            out.write_all(f.as_bytes())?;
        }
    }
    out.write_all(b"\r\n")
}

/// Entries per category, in [`Category::ALL`] order, for `catalog check`.
pub fn category_counts<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> [usize; 7] {
    let mut counts = [0; 7];
    for e in entries {
        counts[e.category.index()] += 1;
    }
    counts
}

/// `catalog check`'s spread table: entries per category and per service.
pub fn write_spread(out: &mut impl Write, entries: &[Entry]) -> io::Result<()> {
    let counts = category_counts(entries);
    writeln!(out, "  by category:")?;
    for c in Category::ALL {
        writeln!(out, "    {:<16} {:>4}", c.as_str(), counts[c.index()])?;
    }
    let mut services: Vec<(&str, usize)> = Vec::new();
    for e in entries {
        match services.iter_mut().find(|(s, _)| *s == e.service) {
            Some((_, n)) => *n += 1,
            None => services.push((&e.service, 1)),
        }
    }
    services.sort();
    writeln!(out, "  by service:")?;
    for (s, n) in services {
        writeln!(out, "    {s:<16} {n:>4}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            code: "Foo.0001".into(),
            service: "FOO".into(),
            status: None,
            message: "Say \"hi\", twice".into(),
            description: Texts {
                en: Some("first\nsecond".into()),
                zh: Some("描述".into()),
            },
            remedy: Texts::default(),
            category: Category::Retry,
            sources: vec!["a.txt".into(), "b.txt".into()],
        }
    }

    #[test]
    fn csv_quotes_fields_that_need_it() {
        let mut out = Vec::new();
        write_csv(&mut out, [&entry()]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let rows: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(rows[0], CSV_HEADER.join(","));
        assert_eq!(
            rows[1],
            "Foo.0001,FOO,,retry,\"Say \"\"hi\"\", twice\",\"first\nsecond\",描述,,,a.txt;b.txt"
        );
        assert_eq!(rows[2], "", "every row ends with CRLF");
    }

    #[test]
    fn entry_text_aligns_multi_line_texts_and_says_what_is_missing() {
        let mut out = Vec::new();
        write_entry(&mut out, &entry(), Some("rule retry")).unwrap();
        let text = String::from_utf8(out).unwrap();
        let expected = "\
Foo.0001  FOO · no HTTP status · retry
  message      Say \"hi\", twice
  description  en: first
                   second
               zh: 描述
  remedy       (none given)
  category     rule retry
  sources      a.txt, b.txt
";
        assert_eq!(text, expected);
    }
}

//! The report of a scan: one JSON object for programs (SPEC section 3,
//! `scan --format json`, field order as specified) or a text summary an
//! operator can paste into an incident channel: totals, a service ×
//! category table, the top codes with their message and remedy, unknown
//! codes, and the inputs that could not be read.

use crate::aggregate::Views;
use crate::catalog::{Catalog, Category};
use crate::input::InputError;
use crate::timeline::Timeline;
use crate::timestamp::LocalZone;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, Write};
use unicode_width::UnicodeWidthStr;

/// Everything a scan found, in the JSON shape of the SPEC.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub files: u64,
    pub bytes: u64,
    pub lines: u64,
    pub hits: u64,
    pub unknown: u64,
    pub by_code: BTreeMap<String, u64>,
    pub by_service: BTreeMap<String, u64>,
    pub by_category: BTreeMap<Category, u64>,
    pub by_service_category: BTreeMap<String, BTreeMap<Category, u64>>,
    pub unknown_codes: BTreeMap<String, u64>,
    /// Occurrences of unknown codes beyond those named in `unknown_codes`:
    /// past [`crate::bounded_counts::DEFAULT_CAPACITY`] distinct unknown codes, new
    /// ones are folded into this count so memory stays bounded.
    pub unknown_codes_other: u64,
    /// How many distinct unknown codes were folded into
    /// `unknown_codes_other` (estimated within a few percent).
    pub unknown_codes_other_distinct: u64,
    /// Known hits by category over time (SPEC section 3, "Timeline").
    pub timeline: Timeline,
    pub errors: Vec<InputError>,
    pub elapsed_ms: u64,
}

impl Report {
    pub fn new(
        files: u64,
        bytes: u64,
        lines: u64,
        hits: u64,
        unknown: u64,
        views: Views,
    ) -> Report {
        Report {
            files,
            bytes,
            lines,
            hits,
            unknown,
            by_code: views.by_code,
            by_service: views.by_service,
            by_category: views.by_category,
            by_service_category: views.by_service_category,
            unknown_codes: views.unknown_codes,
            unknown_codes_other: views.unknown_codes_other,
            unknown_codes_other_distinct: views.unknown_codes_other_distinct,
            timeline: Timeline::default(),
            errors: Vec::new(),
            elapsed_ms: 0,
        }
    }

    pub fn write_json(&self, out: &mut impl Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        writeln!(out)
    }

    /// The text report; `top` is how many codes the top-codes table and the
    /// unknown-codes list each list (the rest are only counted). With
    /// `color`, headings are bold and categories coloured (ANSI SGR); the
    /// text and its columns are the same either way.
    pub fn write_text(
        &self,
        out: &mut impl Write,
        catalog: &Catalog,
        top: usize,
        color: bool,
    ) -> io::Result<()> {
        let paint = Paint(color);
        let secs = self.elapsed_ms as f64 / 1000.0;
        writeln!(
            out,
            "Scanned {} file{}, {} in {} line{}, in {secs:.2} s",
            group(self.files),
            if self.files == 1 { "" } else { "s" },
            human_bytes(self.bytes),
            group(self.lines),
            if self.lines == 1 { "" } else { "s" },
        )?;
        writeln!(
            out,
            "{} hit{} of known codes, {} unknown code{}",
            group(self.hits),
            if self.hits == 1 { "" } else { "s" },
            group(self.unknown),
            if self.unknown == 1 { "" } else { "s" },
        )?;
        if self.hits > 0 {
            writeln!(out)?;
            self.write_table(out, paint)?;
            writeln!(out)?;
            self.write_top(out, catalog, top, paint)?;
            writeln!(out)?;
            self.timeline.write_text(out, &mut LocalZone::system())?;
        }
        if !self.unknown_codes.is_empty() {
            writeln!(out)?;
            writeln!(
                out,
                "{}",
                paint.heading(
                    "Unknown codes (a known prefix, but not in the catalog; add them with --catalog FILE):"
                )
            )?;
            let mut unknown: Vec<(&String, &u64)> = self.unknown_codes.iter().collect();
            unknown.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (code, n) in unknown.iter().take(top) {
                writeln!(out, "  {:>8}  {}", group(**n), paint.unknown(code))?;
            }
            if unknown.len() > top {
                writeln!(
                    out,
                    "  ... and {} more (see --format json)",
                    unknown.len() - top
                )?;
            }
        }
        if !self.errors.is_empty() {
            writeln!(out)?;
            let heading = format!(
                "Could not read {} input{}:",
                self.errors.len(),
                if self.errors.len() == 1 { "" } else { "s" }
            );
            writeln!(out, "{}", paint.error(&heading))?;
            for e in &self.errors {
                writeln!(out, "  {}: {}", escape_controls(&e.path), e.error)?;
            }
        }
        Ok(())
    }

    /// Services down, categories across (only those with hits), totals.
    fn write_table(&self, out: &mut impl Write, paint: Paint) -> io::Result<()> {
        let cats: Vec<Category> = Category::ALL
            .into_iter()
            .filter(|c| self.by_category.contains_key(c))
            .collect();
        let svc_w = self
            .by_service
            .keys()
            .map(|s| s.width())
            .max()
            .unwrap_or(0)
            .max("service".len());
        let width = |c: &Category| c.as_str().len().max(6);
        write!(out, "{}", paint.heading(&pad("service", svc_w)))?;
        for c in &cats {
            let cell = format!("{:>w$}", c.as_str(), w = width(c));
            write!(out, "  {}", paint.category(*c, &cell))?;
        }
        writeln!(out, "  {}", paint.heading(&format!("{:>8}", "total")))?;
        let row = |out: &mut dyn Write,
                   name: &str,
                   counts: &dyn Fn(Category) -> u64,
                   total: u64|
         -> io::Result<()> {
            write!(out, "{}", pad(name, svc_w))?;
            for c in &cats {
                let n = counts(*c);
                let cell = if n == 0 { "-".to_string() } else { group(n) };
                write!(out, "  {:>w$}", cell, w = width(c))?;
            }
            writeln!(out, "  {:>8}", group(total))
        };
        for (svc, total) in &self.by_service {
            let per = &self.by_service_category[svc];
            row(out, svc, &|c| per.get(&c).copied().unwrap_or(0), *total)?;
        }
        row(
            out,
            "total",
            &|c| self.by_category.get(&c).copied().unwrap_or(0),
            self.hits,
        )
    }

    fn write_top(
        &self,
        out: &mut impl Write,
        catalog: &Catalog,
        top: usize,
        paint: Paint,
    ) -> io::Result<()> {
        let mut codes: Vec<(&String, &u64)> = self.by_code.iter().collect();
        codes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        writeln!(out, "{}", paint.heading("Top codes:"))?;
        let shown: Vec<(u64, &crate::catalog::Entry)> = codes
            .iter()
            .take(top)
            .filter_map(|(code, n)| catalog.get(code).map(|e| (**n, e)))
            .collect();
        // Columns aligned over what is shown, so the table pastes cleanly.
        let w_code = shown.iter().map(|(_, e)| e.code.width()).max().unwrap_or(0);
        let w_service = shown
            .iter()
            .map(|(_, e)| e.service.width())
            .max()
            .unwrap_or(0);
        let w_category = shown
            .iter()
            .map(|(_, e)| e.category.as_str().len())
            .max()
            .unwrap_or(0);
        for (n, e) in shown {
            let category = format!("{:<w_category$}", e.category.as_str());
            writeln!(
                out,
                "  {:>8}  {}  {}  {}  {}",
                group(n),
                pad(&e.code, w_code),
                pad(&e.service, w_service),
                paint.category(e.category, &category),
                e.message
            )?;
            if let Some(remedy) = e.remedy.preferred() {
                writeln!(out, "  {:>8}  remedy: {}", "", remedy.replace('\n', " "))?;
            }
        }
        if codes.len() > top {
            writeln!(
                out,
                "  ... and {} more codes (see --format json)",
                codes.len() - top
            )?;
        }
        Ok(())
    }
}

/// Colour for the text report, or none: each method wraps an already
/// padded cell in an SGR sequence and a reset, so columns stay aligned.
#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn sgr<'a>(self, code: &str, s: &'a str) -> Cow<'a, str> {
        if self.0 {
            Cow::Owned(format!("\x1b[{code}m{s}\x1b[0m"))
        } else {
            Cow::Borrowed(s)
        }
    }

    fn heading(self, s: &str) -> Cow<'_, str> {
        self.sgr("1", s)
    }

    fn unknown(self, s: &str) -> Cow<'_, str> {
        self.sgr("33", s)
    }

    fn error(self, s: &str) -> Cow<'_, str> {
        self.sgr("1;31", s)
    }

    /// Red for what a person must act on (quota, access), yellow for
    /// what passes (retry), and so on.
    fn category(self, c: Category, s: &str) -> Cow<'_, str> {
        let code = match c {
            Category::Quota => "31",
            Category::Access => "35",
            Category::Retry => "33",
            Category::ResourceState => "36",
            Category::FixRequest => "34",
            Category::Unsupported => "32",
            Category::ContactSupport => "1;31",
        };
        self.sgr(code, s)
    }
}

/// `s` followed by spaces to `width` terminal columns: a CJK character
/// takes two columns, so `{:<w$}` (which counts chars) would misalign.
fn pad(s: &str, width: usize) -> String {
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(s.width())));
    out
}

/// `s` safe to write to a terminal: control characters (an escape
/// sequence in a file name could recolour or rewrite the screen) are
/// written as Rust escapes, e.g. `\u{1b}`; everything else is unchanged.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// 1234567 as `1,234,567`.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} bytes")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1234567), "1,234,567");
        assert_eq!(human_bytes(1023), "1023 bytes");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }

    #[test]
    fn json_fields_come_in_spec_order() {
        let r = Report::new(1, 2, 3, 0, 0, Views::default());
        let text = serde_json::to_string(&r).unwrap();
        let keys = [
            "files",
            "bytes",
            "lines",
            "hits",
            "unknown",
            "by_code",
            "by_service",
            "by_category",
            "by_service_category",
            "unknown_codes",
            "unknown_codes_other",
            "unknown_codes_other_distinct",
            "timeline",
            "errors",
            "elapsed_ms",
        ];
        let positions: Vec<usize> = keys
            .iter()
            .map(|k| text.find(&format!("\"{k}\"")).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    }
}

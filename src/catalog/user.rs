//! User catalogs (`--catalog FILE`): reading, validating and merging them
//! over the built-in catalog.
//!
//! A user catalog is a JSON array of objects of the [`Entry`] shape in which
//! every field but `code` is optional, so users can override a field of a
//! built-in code or add other services' codes; or the same in CSV, with a
//! header row naming the fields ([`super::csv`]). Which one a file is, is
//! read from its content: JSON starts with `[` (after an optional UTF-8
//! byte-order mark, accepted in both), anything else is CSV. Codes may have
//! any shape of SPEC section 1 ([`super::code::check_code`]). Validation is
//! exhaustive:
//! [`parse`] reports *every* problem, each with the file, the line where its
//! entry starts, the entry's code and the field, rather than stopping at the
//! first one, so `catalog check` can be used as a linter.
//!
//! Merge rules ([`merge`]): a field the user gives replaces the built-in one;
//! `description` and `remedy` are merged per language; the user file's name
//! is added to `sources` unless the entry lists its own. A new code takes
//! [`super::default_service`] as `service` when none is given (its family
//! prefix, `DBS` for `DBS.200001`; the code itself for a word or purely
//! numeric code), its category from the category rules when none is given,
//! and `status` null; an existing code keeps its category unless the user
//! gives one.
//!
//! Cost: validation is linear in the file; the merge looks each code up once
//! (binary search) and adds the new ones with one sort and one merge
//! ([`super::Catalog::insert_new`]), so a million entries in any order load
//! in about a second.

use super::code::check_code;
use super::{Category, Entry, Texts, default_service};
use serde_json::{Map, Value};
use std::fmt;
use std::path::{Path, PathBuf};

/// One entry of a user catalog, after validation. `None` means "not given".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserEntry {
    pub code: String,
    pub service: Option<String>,
    /// `Some(None)` is an explicit `"status": null`.
    pub status: Option<Option<u16>>,
    pub message: Option<String>,
    pub description: Option<Texts>,
    pub remedy: Option<Texts>,
    pub category: Option<Category>,
    pub sources: Option<Vec<String>>,
}

/// A validated user catalog.
#[derive(Clone, Debug)]
pub struct UserCatalog {
    pub path: PathBuf,
    pub entries: Vec<UserEntry>,
}

/// One problem in a catalog file: where it is and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line where the entry (or the syntax error) is.
    pub line: usize,
    /// 1-based position of the entry in the array, if the problem is in one.
    pub entry: Option<usize>,
    /// The entry's code when it has a readable one.
    pub code: Option<String>,
    /// The field at fault, if one is.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(n) = self.entry {
            write!(f, ", entry {n}")?;
        }
        if let Some(c) = &self.code {
            write!(f, " ({c})")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field {field:?}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Why a user catalog could not be used.
#[derive(Debug, thiserror::Error)]
pub enum UserCatalogError {
    #[error("cannot read catalog {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} has {} problem(s):\n{}", path.display(), problems.len(), render(path, problems))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

fn render(path: &Path, problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {}:{}", path.display(), p))
        .collect::<Vec<_>>()
        .join("\n")
}

const FIELDS: [&str; 8] = [
    "code",
    "service",
    "status",
    "message",
    "description",
    "remedy",
    "category",
    "sources",
];

/// Reads and validates a user catalog file.
pub fn load(path: &Path) -> Result<UserCatalog, UserCatalogError> {
    let bytes = std::fs::read(path).map_err(|source| UserCatalogError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &bytes)
}

/// Validates the bytes of a user catalog; `path` names it in errors.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<UserCatalog, UserCatalogError> {
    let (entries, problems) = validate(bytes, false);
    if problems.is_empty() {
        Ok(UserCatalog {
            path: path.to_path_buf(),
            entries,
        })
    } else {
        Err(UserCatalogError::Invalid {
            path: path.to_path_buf(),
            problems,
        })
    }
}

/// Checks a catalog file. With `complete`, every field of the [`Entry`]
/// shape is required (the built-in catalog, a full export); without, only
/// `code` is (a user catalog). Returns the valid entries and all problems.
pub fn validate(bytes: &[u8], complete: bool) -> (Vec<UserEntry>, Vec<Problem>) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|&b| b != b'[' && b != b'{') {
        return super::csv::validate(bytes, complete);
    }
    let mut problems = Vec::new();
    let whole = |line: usize, message: String| Problem {
        line,
        entry: None,
        code: None,
        field: None,
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
                format!(
                    "not UTF-8 (invalid byte at offset {}); save the file as UTF-8",
                    e.valid_up_to()
                ),
            ));
            return (Vec::new(), problems);
        }
    };
    if text.trim().is_empty() {
        problems.push(whole(
            1,
            "the file is empty; a catalog is a JSON array of entries, e.g. [{\"code\": \"Foo.0001\", \"message\": \"...\"}]".into(),
        ));
        return (Vec::new(), problems);
    }
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            problems.push(whole(
                e.line().max(1),
                format!("invalid JSON at column {}: {e}", e.column()),
            ));
            return (Vec::new(), problems);
        }
    };
    let Value::Array(items) = value else {
        problems.push(whole(
            1,
            "expected a JSON array of entries at the top level".into(),
        ));
        return (Vec::new(), problems);
    };
    let lines = element_lines(text);
    let mut entries = Vec::with_capacity(items.len());
    let mut seen = Seen::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(1);
        let mut ctx = EntryCheck {
            line,
            index: i + 1,
            code: None,
            problems: &mut problems,
        };
        if let Some(entry) = ctx.check(item, complete) {
            seen.add(entry, i + 1, &mut ctx, &mut entries);
        }
    }
    (entries, problems)
}

/// The codes of a file seen so far, to report a code given twice.
pub(crate) struct Seen(std::collections::HashMap<String, usize>);

impl Seen {
    pub(crate) fn with_capacity(n: usize) -> Seen {
        Seen(std::collections::HashMap::with_capacity(n))
    }

    /// Keeps `entry` (number `index` in the file) unless its code was seen.
    pub(crate) fn add(
        &mut self,
        entry: UserEntry,
        index: usize,
        ctx: &mut EntryCheck<'_>,
        entries: &mut Vec<UserEntry>,
    ) {
        match self.0.entry(entry.code.clone()) {
            std::collections::hash_map::Entry::Occupied(first) => ctx.problem(
                Some("code"),
                format!("duplicate code: entry {} has it too; keep one", first.get()),
            ),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(index);
                entries.push(entry);
            }
        }
    }
}

/// The 1-based line on which each element of the top-level array starts.
/// `text` is known to be a valid JSON array, so a small scanner that only
/// tracks strings and nesting depth is exact.
fn element_lines(text: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    let (mut line, mut depth, mut in_string, mut escaped) = (1usize, 0usize, false, false);
    let mut expect_element = false;
    for b in text.bytes() {
        if b == b'\n' {
            line += 1;
        }
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if b.is_ascii_whitespace() {
            continue;
        }
        if depth == 1 && expect_element && b != b']' {
            lines.push(line);
            expect_element = false;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth == 1 {
                    expect_element = true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expect_element = true,
            _ => {}
        }
    }
    lines
}

/// The problems of one entry: where it is, and its code once known.
pub(crate) struct EntryCheck<'p> {
    pub(crate) line: usize,
    pub(crate) index: usize,
    pub(crate) code: Option<String>,
    pub(crate) problems: &'p mut Vec<Problem>,
}

impl EntryCheck<'_> {
    pub(crate) fn problem(&mut self, field: Option<&str>, message: String) {
        self.problems.push(Problem {
            line: self.line,
            entry: Some(self.index),
            code: self.code.clone(),
            field: field.map(str::to_string),
            message,
        });
    }

    fn check(&mut self, item: &Value, complete: bool) -> Option<UserEntry> {
        let Value::Object(obj) = item else {
            self.problem(None, format!("expected an object, found {}", kind(item)));
            return None;
        };
        let before = self.problems.len();
        let code = match obj.get("code") {
            Some(Value::String(c)) => self.code(c),
            Some(other) => {
                self.problem(
                    Some("code"),
                    format!("expected a string, found {}", kind(other)),
                );
                None
            }
            None => {
                self.problem(Some("code"), "missing; every entry needs a code".into());
                None
            }
        };
        for key in obj.keys() {
            if !FIELDS.contains(&key.as_str()) {
                self.problem(
                    Some(key),
                    format!("unknown field; the fields are {}", FIELDS.join(", ")),
                );
            }
        }
        if complete {
            for field in FIELDS {
                if !obj.contains_key(field) {
                    self.problem(
                        Some(field),
                        "missing; a complete catalog entry needs it".into(),
                    );
                }
            }
        }
        let entry = UserEntry {
            code: code.clone().unwrap_or_default(),
            service: self.string(obj, "service"),
            status: self.status(obj),
            message: self.string(obj, "message"),
            description: self.texts(obj, "description"),
            remedy: self.texts(obj, "remedy"),
            category: self.category(obj),
            sources: self.sources(obj),
        };
        (self.problems.len() == before && code.is_some()).then_some(entry)
    }

    /// `c` if it has the shape of a code; else a problem saying why not.
    pub(crate) fn code(&mut self, c: &str) -> Option<String> {
        match check_code(c) {
            Ok(()) => {
                self.code = Some(c.to_string());
                Some(c.to_string())
            }
            Err(why) => {
                self.problem(
                    Some("code"),
                    format!("{c:?} is not an error code: it {why}"),
                );
                None
            }
        }
    }

    fn string(&mut self, obj: &Map<String, Value>, field: &str) -> Option<String> {
        match obj.get(field)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::String(_) => {
                self.problem(
                    Some(field),
                    "empty; give a text or leave the field out".into(),
                );
                None
            }
            other => {
                self.problem(
                    Some(field),
                    format!("expected a string, found {}", kind(other)),
                );
                None
            }
        }
    }

    fn status(&mut self, obj: &Map<String, Value>) -> Option<Option<u16>> {
        match obj.get("status")? {
            Value::Null => Some(None),
            Value::Number(n) => match n.as_u64() {
                Some(s @ 100..=599) => Some(Some(s as u16)),
                _ => {
                    self.problem(
                        Some("status"),
                        format!("{n} is not an HTTP status; expected an integer from 100 to 599, or null"),
                    );
                    None
                }
            },
            other => {
                self.problem(
                    Some("status"),
                    format!(
                        "expected an integer from 100 to 599 or null, found {}",
                        kind(other)
                    ),
                );
                None
            }
        }
    }

    fn texts(&mut self, obj: &Map<String, Value>, field: &str) -> Option<Texts> {
        let value = obj.get(field)?;
        let Value::Object(langs) = value else {
            self.problem(
                Some(field),
                format!(
                    "expected an object with \"en\" and/or \"zh\" texts, found {}",
                    kind(value)
                ),
            );
            return None;
        };
        let mut texts = Texts::default();
        for (lang, text) in langs {
            let slot = match lang.as_str() {
                "en" => &mut texts.en,
                "zh" => &mut texts.zh,
                _ => {
                    self.problem(
                        Some(&format!("{field}.{lang}")),
                        "unknown language; use \"en\" or \"zh\"".into(),
                    );
                    continue;
                }
            };
            match text {
                Value::String(s) if !s.trim().is_empty() => *slot = Some(s.clone()),
                other => self.problem(
                    Some(&format!("{field}.{lang}")),
                    format!("expected a non-empty string, found {}", kind(other)),
                ),
            }
        }
        Some(texts)
    }

    fn category(&mut self, obj: &Map<String, Value>) -> Option<Category> {
        match obj.get("category")? {
            Value::String(s) => match s.parse() {
                Ok(c) => Some(c),
                Err(e) => {
                    self.problem(Some("category"), e.to_string());
                    None
                }
            },
            other => {
                self.problem(
                    Some("category"),
                    format!("expected a string, found {}", kind(other)),
                );
                None
            }
        }
    }

    fn sources(&mut self, obj: &Map<String, Value>) -> Option<Vec<String>> {
        let value = obj.get("sources")?;
        match value {
            Value::Array(items) if items.iter().all(Value::is_string) => Some(
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
            ),
            _ => {
                self.problem(
                    Some("sources"),
                    format!("expected an array of file names, found {}", kind(value)),
                );
                None
            }
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Merges a user catalog into `catalog` (see the module doc for the rules).
/// `categorize` decides the category of a new entry that gives none; an
/// existing entry keeps its category unless the user gives one, so editing a
/// remedy's wording never silently moves a code to another category.
///
/// Takes the user catalog by value: its texts move into the entries (a
/// million-entry file would otherwise be a few million extra allocations).
pub fn merge(
    catalog: &mut super::Catalog,
    user: UserCatalog,
    categorize: &dyn Fn(&str, &str, &Texts, &Texts) -> Category,
) {
    let file_name = user
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| user.path.display().to_string());
    let mut new_codes: Vec<UserEntry> = Vec::new();
    for u in user.entries {
        match catalog.id(&u.code) {
            Some(id) => apply(catalog.entry_mut(id), u, false, &file_name, categorize),
            None => new_codes.push(u),
        }
    }
    // Sorting the user entries (code first, so comparisons stay in cache)
    // before they become ~200-byte entries keeps a million new codes to one
    // sort and one move of each entry.
    new_codes.sort_unstable_by(|a, b| a.code.cmp(&b.code));
    let added = new_codes
        .into_iter()
        .map(|mut u| {
            let code = std::mem::take(&mut u.code);
            let mut entry = Entry {
                service: default_service(&code).to_string(),
                code,
                status: None,
                message: String::new(),
                description: Texts::default(),
                remedy: Texts::default(),
                category: Category::ContactSupport,
                sources: Vec::new(),
            };
            apply(&mut entry, u, true, &file_name, categorize);
            entry
        })
        .collect();
    // A file's codes are distinct (a duplicate is a validation problem), and
    // `added` holds only codes the catalog lacks, in order.
    catalog.insert_new(added);
}

/// Applies the fields a user entry gives to `entry`.
fn apply(
    entry: &mut Entry,
    u: UserEntry,
    is_new: bool,
    file_name: &str,
    categorize: &dyn Fn(&str, &str, &Texts, &Texts) -> Category,
) {
    if let Some(s) = u.service {
        entry.service = s;
    }
    if let Some(s) = u.status {
        entry.status = s;
    }
    if let Some(d) = &u.description {
        merge_texts(&mut entry.description, d);
    }
    if let Some(r) = &u.remedy {
        merge_texts(&mut entry.remedy, r);
    }
    match u.message {
        Some(m) => entry.message = m,
        None if entry.message.is_empty() => {
            entry.message = entry
                .description
                .preferred()
                .unwrap_or_default()
                .to_string()
        }
        None => {}
    }
    entry.category = match u.category {
        Some(c) => c,
        None if is_new => categorize(
            &entry.code,
            &entry.message,
            &entry.description,
            &entry.remedy,
        ),
        None => entry.category,
    };
    match u.sources {
        Some(s) => entry.sources = s,
        None if !entry.sources.iter().any(|s| s == file_name) => {
            entry.sources.push(file_name.to_string())
        }
        None => {}
    }
}

fn merge_texts(into: &mut Texts, from: &Texts) {
    if from.en.is_some() {
        into.en.clone_from(&from.en);
    }
    if from.zh.is_some() {
        into.zh.clone_from(&from.zh);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_lines_tracks_strings_and_nesting() {
        let text = "[\n {\"a\": \"[{,\\\"\"},\n\n {\"b\": [1, {\"c\": 2}]}\n, {}]";
        assert_eq!(element_lines(text), vec![2, 4, 5]);
        assert_eq!(element_lines("[]"), Vec::<usize>::new());
    }

    #[test]
    fn every_problem_is_reported_with_line_entry_and_field() {
        let text = br#"[
  {"code": "Foo.0001", "status": 99},
  {"code": "Foo 01", "category": "panic"},
  {"service": "X", "remedy": {"fr": "non"}},
  {"code": "Foo.0001", "colour": "red"}
]"#;
        let (entries, problems) = validate(text, false);
        assert!(entries.is_empty(), "{entries:?}");
        let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        let expect = [
            "line 2, entry 1 (Foo.0001), field \"status\": 99 is not an HTTP status",
            "line 3, entry 2, field \"code\": \"Foo 01\" is not an error code: it has ' ' at byte 3",
            "line 3, entry 2, field \"category\": unknown category \"panic\"",
            "line 4, entry 3, field \"code\": missing",
            "line 4, entry 3, field \"remedy.fr\": unknown language",
            "line 5, entry 4 (Foo.0001), field \"colour\": unknown field",
        ];
        assert_eq!(shown.len(), expect.len(), "{shown:#?}");
        for (s, e) in shown.iter().zip(expect) {
            assert!(s.starts_with(e), "{s:?} should start with {e:?}");
        }
    }

    #[test]
    fn duplicate_codes_in_one_file_are_a_problem() {
        let (entries, problems) =
            validate(br#"[{"code": "Foo.0001"}, {"code": "Foo.0001"}]"#, false);
        assert_eq!(entries.len(), 1);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("duplicate code: entry 1"));
    }

    #[test]
    fn complete_mode_requires_every_field() {
        let (_, problems) = validate(br#"[{"code": "Foo.0001", "message": "m"}]"#, true);
        let fields: Vec<_> = problems.iter().filter_map(|p| p.field.clone()).collect();
        assert_eq!(
            fields,
            [
                "service",
                "status",
                "description",
                "remedy",
                "category",
                "sources"
            ]
        );
    }

    #[test]
    fn syntax_errors_and_non_utf8_name_the_line() {
        let (_, p) = validate(b"[\n{\"code\": \"Foo.0001\",}\n]", false);
        assert_eq!(p[0].line, 2, "{p:?}");
        assert!(p[0].message.starts_with("invalid JSON"), "{p:?}");
        let (_, p) = validate(b"[\n\n\"\xff\"]", false);
        assert_eq!(p[0].line, 3);
        assert!(p[0].message.contains("not UTF-8"));
        let (_, p) = validate(b"  \n", false);
        assert!(p[0].message.contains("empty"));
        let (_, p) = validate(b"{}", false);
        assert!(p[0].message.contains("JSON array"));
    }

    #[test]
    fn merge_overrides_fields_and_adds_codes() {
        let base = Entry {
            code: "Ecs.0013".into(),
            service: "ECS".into(),
            status: Some(400),
            message: "m".into(),
            description: Texts {
                en: Some("d-en".into()),
                zh: Some("d-zh".into()),
            },
            remedy: Texts::default(),
            category: Category::Quota,
            sources: vec!["002.txt".into()],
        };
        let mut cat = super::super::Catalog::from_entries(vec![base]).unwrap();
        let user = parse(
            Path::new("/etc/faultline/mine.json"),
            br#"[{"code": "Ecs.0013", "status": null, "description": {"en": "new"}},
                 {"code": "Foo.0001", "remedy": {"en": "Wait."}}]"#,
        )
        .unwrap();
        merge(&mut cat, user, &|_, _, _, r| {
            if r.en.as_deref() == Some("Wait.") {
                Category::Retry
            } else {
                Category::FixRequest
            }
        });
        let e = cat.get("Ecs.0013").unwrap();
        assert_eq!(e.status, None);
        assert_eq!(e.description.en.as_deref(), Some("new"));
        assert_eq!(e.description.zh.as_deref(), Some("d-zh"));
        assert_eq!(e.sources, ["002.txt", "mine.json"]);
        // No category given for an existing code: it keeps its own.
        assert_eq!(e.category, Category::Quota);
        let n = cat.get("Foo.0001").unwrap();
        assert_eq!(n.service, "Foo");
        assert_eq!(n.category, Category::Retry);
        assert_eq!(n.status, None);
        assert_eq!(n.sources, ["mine.json"]);
        assert_eq!(cat.entries()[0].code, "Ecs.0013", "still sorted");
    }
}

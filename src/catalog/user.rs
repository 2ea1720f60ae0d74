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
//! Cost: validation is one pass over the file ([`super::json`],
//! [`super::csv`]) and one sort by code ([`sort_distinct`]), which also
//! finds the codes given twice; the merge is one walk of the sorted entries
//! against the sorted catalog ([`super::Catalog::merge_sorted`]). So a
//! million entries in any order load in about a second.

use super::code::family;
use super::{Category, Entry, Texts};
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

impl Problem {
    /// A problem of the file as a whole, or of its header row: in no entry.
    pub(crate) fn whole(line: usize, field: Option<&str>, message: String) -> Problem {
        Problem {
            line,
            entry: None,
            code: None,
            field: field.map(str::to_string),
            message,
        }
    }
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

/// The fields of an entry, in the order of the JSON contract.
pub(crate) const FIELDS: [&str; 8] = [
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
/// `code` is (a user catalog). Returns the valid entries, sorted by code,
/// and all problems, in the order of the file.
pub fn validate(bytes: &[u8], complete: bool) -> (Vec<UserEntry>, Vec<Problem>) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            let message = format!(
                "not UTF-8 (invalid byte at offset {}); save the file as UTF-8",
                e.valid_up_to()
            );
            return (Vec::new(), vec![Problem::whole(line, None, message)]);
        }
    };
    match text.trim_start().as_bytes().first() {
        None => {
            let message = "the file is empty; a catalog is a JSON array of entries, e.g. [{\"code\": \"Foo.0001\", \"message\": \"...\"}], or CSV with a header row such as code,message".into();
            (Vec::new(), vec![Problem::whole(1, None, message)])
        }
        Some(b'[' | b'{') => super::json::validate(text, complete),
        Some(_) => super::csv::validate(text, complete),
    }
}

/// Sorts a file's valid entries (each with its 1-based number in the file)
/// by code, and keeps the first of a code given more than once: each later
/// one becomes a problem naming the first, its line left 0 for the caller
/// to fill in.
///
/// Cost: one sort of small keys (the code's first 16 bytes and the
/// entry's position), so that most comparisons never leave the key array;
/// the entries themselves move once, into code order. This is also the
/// order [`merge`] wants.
pub(crate) fn sort_distinct(
    mut read: Vec<(usize, UserEntry)>,
    problems: &mut Vec<Problem>,
) -> Vec<UserEntry> {
    let head = |code: &str| {
        let mut b = [0u8; 16];
        let n = code.len().min(16);
        b[..n].copy_from_slice(&code.as_bytes()[..n]);
        u128::from_be_bytes(b)
    };
    let mut keys: Vec<(u128, u32)> = read
        .iter()
        .enumerate()
        .map(|(i, (_, e))| (head(&e.code), i as u32))
        .collect();
    // Codes hold no NUL byte, so the zero padding of a short code sorts it
    // before the longer codes it begins, as the string order does; equal
    // codes stay in file order (positions increase with it).
    keys.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| read[a.1 as usize].1.code.cmp(&read[b.1 as usize].1.code))
            .then(a.1.cmp(&b.1))
    });
    let mut out: Vec<UserEntry> = Vec::with_capacity(read.len());
    let (mut first_index, mut last_head) = (0, None);
    for (head, i) in keys {
        let (index, entry) = std::mem::take(&mut read[i as usize]);
        match out.last() {
            Some(kept) if last_head == Some(head) && kept.code == entry.code => {
                problems.push(Problem {
                    line: 0,
                    entry: Some(index),
                    code: Some(entry.code),
                    field: Some("code".into()),
                    message: format!("duplicate code: entry {first_index} has it too; keep one"),
                })
            }
            _ => {
                (first_index, last_head) = (index, Some(head));
                out.push(entry);
            }
        }
    }
    out
}

/// The problems of one entry: where it is, and its code once known.
pub(crate) struct EntryCheck<'a> {
    pub(crate) line: usize,
    pub(crate) index: usize,
    /// The entry's code once it is known to be one; every problem names it.
    pub(crate) code: Option<&'a str>,
    pub(crate) problems: &'a mut Vec<Problem>,
}

impl EntryCheck<'_> {
    pub(crate) fn problem(&mut self, field: Option<&str>, message: String) {
        self.problems.push(Problem {
            line: self.line,
            entry: Some(self.index),
            code: self.code.map(str::to_string),
            field: field.map(str::to_string),
            message,
        });
    }

    /// Whether `c` has the shape of a code; a problem saying why not when
    /// it does not.
    pub(crate) fn is_code(&mut self, c: &str) -> bool {
        match super::code::check_code(c) {
            Ok(()) => true,
            Err(why) => {
                self.problem(
                    Some("code"),
                    format!("{c:?} is not an error code: it {why}"),
                );
                false
            }
        }
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
    let mut entries = user.entries;
    // `validate` hands them over sorted and distinct.
    if !entries.is_sorted_by(|a, b| a.code <= b.code) {
        entries.sort_by(|a, b| a.code.cmp(&b.code));
    }
    catalog.merge_sorted(
        entries,
        |u| &u.code,
        |entry, u| apply(entry, u, false, &file_name, categorize),
        |mut u| {
            let code = std::mem::take(&mut u.code);
            // The code is checked: its family needs no second check.
            let service = u.service.take().unwrap_or_else(|| {
                family(&code)
                    .map_or(code.as_str(), |f| f.prefix())
                    .to_string()
            });
            let mut entry = Entry {
                service,
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
        },
    );
}

/// Applies the fields a user entry gives to `entry`, moving its texts.
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
    if let Some(d) = u.description {
        merge_texts(&mut entry.description, d);
    }
    if let Some(r) = u.remedy {
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

fn merge_texts(into: &mut Texts, from: Texts) {
    if from.en.is_some() {
        into.en = from.en;
    }
    if from.zh.is_some() {
        into.zh = from.zh;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn entries_come_sorted_and_a_duplicate_names_its_line_in_both_formats() {
        let json = b"[\n{\"code\": \"B.2\"},\n{\"code\": \"A.1\"},\n{\"code\": \"B.2\"}\n]";
        let csv = b"code\nB.2\nA.1\n\nB.2\n";
        for (bytes, dup_line) in [(&json[..], 4), (&csv[..], 5)] {
            let (entries, problems) = validate(bytes, false);
            let codes: Vec<&str> = entries.iter().map(|e| e.code.as_str()).collect();
            assert_eq!(codes, ["A.1", "B.2"]);
            assert_eq!(problems.len(), 1, "{problems:?}");
            let p = &problems[0];
            assert_eq!((p.line, p.entry), (dup_line, Some(3)), "{p:?}");
            assert_eq!(p.code.as_deref(), Some("B.2"));
            assert!(p.message.contains("entry 1 has it too"), "{p:?}");
        }
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

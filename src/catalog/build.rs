//! Building the catalog from a directory of vendor documents: which
//! documents there are and what service each belongs to, and how their rows
//! merge into one [`Entry`] per code.
//!
//! The directory holds the documents and a manifest, `documents.json`:
//!
//! ```json
//! [{"file": "000_99463f059da4eb6a.txt", "service": "IMS"}, ...]
//! ```
//!
//! Every other file in the directory (hidden files and subdirectories aside)
//! must be listed, and every listed file must be there: a document the build
//! silently skipped would be a hole in the catalog.
//!
//! A directory without a manifest (a folder of pages saved from a vendor's
//! site) is read whole: every file in it (hidden files and subdirectories
//! aside) is a document, and each code's service is
//! [`default_service`](super::default_service): its family prefix (`DBS`
//! for `DBS.200001`), or the code itself for word and purely numeric codes.
//!
//! Merge rules (SPEC section 1), for the rows of all documents that give a
//! code:
//! - one entry per code; a code given for two different services is an error;
//! - `message`: from an English row; else a message without CJK characters
//!   (a Chinese document's English message column); else any message; else,
//!   as for CSBS whose documents have no message, the Chinese description
//!   (then the English one); else the remedy; else, for a row that gives
//!   nothing but its code (word codes such as `InternalFailure` say what
//!   they mean), the code itself;
//! - `description` and `remedy`: one text per language, from the rows of that
//!   language;
//! - `status`: from an English row when there is one, else from any row;
//! - `sources`: the file names of those documents, sorted.
//!
//! Where two documents of the same language disagree, the one whose file
//! name sorts first wins. The category is left to the caller's `categorize`.

use super::source::{Lang, SourceError, SourceRow, has_cjk, parse_document};
use super::{Category, Entry, Texts, default_service};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The manifest's file name inside the sources directory.
pub const MANIFEST: &str = "documents.json";

/// Why the catalog could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A document that does not parse.
    #[error(transparent)]
    Document(#[from] SourceError),
    /// A problem with the manifest or between documents, at a file and line.
    #[error("{}:{line}: {problem}", path.display())]
    At {
        path: PathBuf,
        line: usize,
        problem: String,
    },
    #[error("cannot read {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One line of the manifest.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    file: String,
    /// `None` when the directory has no manifest.
    service: Option<String>,
}

/// Builds the entries, sorted by code, from the documents in `dir`.
pub fn build_from_dir(
    dir: &Path,
    categorize: &dyn Fn(&str, &str, &Texts, &Texts) -> Category,
) -> Result<Vec<Entry>, BuildError> {
    let documents = read_manifest(dir)?;
    let mut rows: Vec<(SourceRow, String)> = Vec::new();
    for doc in &documents {
        let path = dir.join(&doc.file);
        let bytes = std::fs::read(&path).map_err(|source| BuildError::Io {
            path: path.clone(),
            source,
        })?;
        let parsed = parse_document(&doc.file, &bytes).map_err(|mut e| {
            e.path = path.clone();
            e
        })?;
        rows.extend(parsed.into_iter().map(|r| {
            let service = doc
                .service
                .clone()
                .unwrap_or_else(|| default_service(&r.code).to_string());
            (r, service)
        }));
    }
    let mut by_code: BTreeMap<String, Vec<(SourceRow, String)>> = BTreeMap::new();
    for (row, service) in rows {
        by_code
            .entry(row.code.clone())
            .or_default()
            .push((row, service));
    }
    by_code
        .into_values()
        .map(|rows| merge(dir, &rows, categorize))
        .collect()
}

/// The manifest of `dir`, checked against the files there, sorted by file
/// name.
fn read_manifest(dir: &Path) -> Result<Vec<Document>, BuildError> {
    let path = dir.join(MANIFEST);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && dir.is_dir() => {
            return every_document(dir);
        }
        Err(source) => {
            return Err(BuildError::Io {
                path: path.clone(),
                source,
            });
        }
    };
    let at = |line: usize, problem: String| BuildError::At {
        path: path.clone(),
        line,
        problem,
    };
    let mut documents: Vec<Document> = serde_json::from_str(&text).map_err(|e| {
        at(
            e.line().max(1),
            format!(
                "not a valid manifest ({e}); expected a JSON array of {{\"file\": \"NAME\", \"service\": \"SERVICE\"}}"
            ),
        )
    })?;
    // The line of an entry, found by its file name, for messages.
    let line_of = |file: &str| {
        text.find(&format!("\"{file}\""))
            .map_or(1, |at| text[..at].matches('\n').count() + 1)
    };
    documents.sort_by(|a, b| a.file.cmp(&b.file));
    for pair in documents.windows(2) {
        if pair[0].file == pair[1].file {
            return Err(at(
                line_of(&pair[0].file),
                format!("{} is listed twice", pair[0].file),
            ));
        }
    }
    for doc in &documents {
        if doc.file.is_empty()
            || doc.file.contains(['/', '\\'])
            || doc.file.starts_with('.')
            || doc.file == MANIFEST
        {
            return Err(at(
                line_of(&doc.file),
                format!(
                    "{:?} is not the name of a document in this directory",
                    doc.file
                ),
            ));
        }
        if doc.service.as_deref().is_none_or(|s| s.trim().is_empty()) {
            return Err(at(
                line_of(&doc.file),
                format!("{} has no service; give one such as \"ECS\"", doc.file),
            ));
        }
        if !dir.join(&doc.file).is_file() {
            return Err(at(
                line_of(&doc.file),
                format!("lists {}, which is not in {}", doc.file, dir.display()),
            ));
        }
    }
    let entries = std::fs::read_dir(dir).map_err(|source| BuildError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut unlisted = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| BuildError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == MANIFEST || name.starts_with('.') || !entry.path().is_file() {
            continue;
        }
        if documents.binary_search_by(|d| d.file.cmp(&name)).is_err() {
            unlisted.push(name);
        }
    }
    unlisted.sort();
    if let Some(name) = unlisted.first() {
        return Err(BuildError::At {
            path: dir.join(name),
            line: 1,
            problem: format!(
                "this document is not listed in {}, so its service is unknown; add {{\"file\": \"{name}\", \"service\": \"...\"}} there",
                path.display()
            ),
        });
    }
    Ok(documents)
}

/// Every file of a directory without a manifest, as documents whose
/// services are derived from their codes, sorted by file name.
fn every_document(dir: &Path) -> Result<Vec<Document>, BuildError> {
    let io = |source| BuildError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut documents = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && entry.path().is_file() {
            documents.push(Document {
                file: name,
                service: None,
            });
        }
    }
    documents.sort_by(|a, b| a.file.cmp(&b.file));
    if documents.is_empty() {
        return Err(BuildError::At {
            path: dir.to_path_buf(),
            line: 1,
            problem: format!(
                "no documents here; put the vendor's error-code pages (Markdown, reStructuredText or HTML) in this directory, and optionally a {MANIFEST} naming each one's service"
            ),
        });
    }
    Ok(documents)
}

/// One entry from the rows of every document that gives its code, in file
/// name order.
fn merge(
    dir: &Path,
    rows: &[(SourceRow, String)],
    categorize: &dyn Fn(&str, &str, &Texts, &Texts) -> Category,
) -> Result<Entry, BuildError> {
    let (first, service) = &rows[0];
    let code = first.code.clone();
    if let Some((other, other_service)) = rows.iter().find(|(_, s)| s != service) {
        return Err(BuildError::At {
            path: dir.join(&other.file),
            line: other.line,
            problem: format!(
                "{code} is given here for service {other_service} (by {MANIFEST}) but {}:{} gives it for {service}; a code belongs to one service",
                first.file, first.line
            ),
        });
    }
    let english = || rows.iter().map(|(r, _)| r).filter(|r| r.lang == Lang::En);
    let all = || rows.iter().map(|(r, _)| r);
    let text_in = |lang: Lang, field: fn(&SourceRow) -> &Option<String>| {
        all()
            .filter(|r| r.lang == lang)
            .find_map(|r| field(r).clone())
    };
    let texts = |field: fn(&SourceRow) -> &Option<String>| Texts {
        en: text_in(Lang::En, field),
        zh: text_in(Lang::Zh, field),
    };
    let description = texts(|r| &r.description);
    let remedy = texts(|r| &r.remedy);
    // The English document's status wins over a Chinese one that disagrees,
    // as its message does: it is the reference the translations follow.
    let status = english()
        .find_map(|r| r.status)
        .or_else(|| all().find_map(|r| r.status));
    let message = english()
        .find_map(|r| r.message.clone())
        .or_else(|| {
            all()
                .filter_map(|r| r.message.as_ref())
                .find(|m| !has_cjk(m))
                .cloned()
        })
        .or_else(|| all().find_map(|r| r.message.clone()))
        .or_else(|| description.zh.clone())
        .or_else(|| description.en.clone())
        .or_else(|| remedy.preferred().map(str::to_string))
        .unwrap_or_else(|| code.clone());
    let mut sources: Vec<String> = all().map(|r| r.file.clone()).collect();
    sources.sort();
    sources.dedup();
    let category = categorize(&code, &message, &description, &remedy);
    Ok(Entry {
        code,
        service: service.to_string(),
        status,
        message,
        description,
        remedy,
        category,
        sources,
    })
}

//! `faultline merge`: adds the JSON reports of separate `scan` runs (the
//! shards of an archive scanned on many machines) into the report one run
//! over all their inputs would have given (SPEC section 3, `scan`, "Batch
//! beyond one machine").
//!
//! Every count is a sum, the maps are added key by key (so an unknown code,
//! or any roll-up key such as `other`, adds up too), the timelines are
//! merged onto one axis ([`Timeline::merge`] re-buckets exactly), and the
//! errors are concatenated and sorted by path as a scan sorts them. Only
//! `elapsed_ms` cannot be what one run would take: the merged report has
//! the longest shard's, the wall time of shards run in parallel.
//!
//! Exact as long as each shard names all its unknown codes (fewer than
//! [`crate::bounded_counts::DEFAULT_CAPACITY`] distinct ones): beyond that
//! a shard folds codes into `unknown_codes_other`, whose sum stays exact,
//! while `unknown_codes_other_distinct` (an estimate per shard) is summed
//! and may count a code folded in two shards twice.
//!
//! A report is read strictly: a field this version does not know is an
//! error, not silently dropped, so that a merge never loses data.

use crate::catalog::Category;
use crate::input::InputError;
use crate::sink::report::Report;
use crate::timeline::Timeline;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Why a report could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("cannot read report {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{} is not a faultline scan report (make it with `faultline scan --format json`)",
        path.display()
    )]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// A report as `scan --format json` writes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportJson {
    files: u64,
    bytes: u64,
    lines: u64,
    hits: u64,
    unknown: u64,
    by_code: BTreeMap<String, u64>,
    by_service: BTreeMap<String, u64>,
    by_category: BTreeMap<Category, u64>,
    by_service_category: BTreeMap<String, BTreeMap<Category, u64>>,
    unknown_codes: BTreeMap<String, u64>,
    unknown_codes_other: u64,
    unknown_codes_other_distinct: u64,
    timeline: Timeline,
    errors: Vec<InputErrorJson>,
    elapsed_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputErrorJson {
    path: String,
    error: String,
}

impl From<ReportJson> for Report {
    fn from(j: ReportJson) -> Report {
        Report {
            files: j.files,
            bytes: j.bytes,
            lines: j.lines,
            hits: j.hits,
            unknown: j.unknown,
            by_code: j.by_code,
            by_service: j.by_service,
            by_category: j.by_category,
            by_service_category: j.by_service_category,
            unknown_codes: j.unknown_codes,
            unknown_codes_other: j.unknown_codes_other,
            unknown_codes_other_distinct: j.unknown_codes_other_distinct,
            timeline: j.timeline,
            errors: j
                .errors
                .into_iter()
                .map(|e| InputError {
                    path: e.path,
                    error: e.error,
                })
                .collect(),
            elapsed_ms: j.elapsed_ms,
        }
    }
}

/// Reads a report from `path` (`-`: stdin).
pub fn read(path: &Path) -> Result<Report, MergeError> {
    let mut text = Vec::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut text)
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut text))
    };
    read.map_err(|source| MergeError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text).map_err(|source| MergeError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// Parses a report's JSON.
pub fn parse(json: &[u8]) -> Result<Report, serde_json::Error> {
    serde_json::from_slice::<ReportJson>(json).map(Report::from)
}

/// The sum of `reports`: the report of one run over all their inputs.
pub fn merge(reports: impl IntoIterator<Item = Report>) -> Report {
    let mut total = Report::new(0, 0, 0, 0, 0, Default::default());
    for r in reports {
        total.files += r.files;
        total.bytes += r.bytes;
        total.lines += r.lines;
        total.hits += r.hits;
        total.unknown += r.unknown;
        add(&mut total.by_code, r.by_code);
        add(&mut total.by_service, r.by_service);
        add(&mut total.by_category, r.by_category);
        for (service, cats) in r.by_service_category {
            add(total.by_service_category.entry(service).or_default(), cats);
        }
        add(&mut total.unknown_codes, r.unknown_codes);
        total.unknown_codes_other += r.unknown_codes_other;
        // An estimate per shard; a code folded in two shards counts twice.
        total.unknown_codes_other_distinct += r.unknown_codes_other_distinct;
        total.timeline.merge(&r.timeline);
        total.errors.extend(r.errors);
        total.elapsed_ms = total.elapsed_ms.max(r.elapsed_ms);
    }
    // As a scan sorts them; stable, so equal paths keep their order.
    total.errors.sort_by(|a, b| a.path.cmp(&b.path));
    total
}

fn add<K: Ord>(into: &mut BTreeMap<K, u64>, from: BTreeMap<K, u64>) {
    for (k, n) in from {
        *into.entry(k).or_insert(0) += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(json: serde_json::Value) -> Report {
        parse(json.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn sums_every_field() {
        let a = report(serde_json::json!({
            "files": 2, "bytes": 100, "lines": 10, "hits": 3, "unknown": 1,
            "by_code": {"Ecs.0013": 2, "DBS.200001": 1},
            "by_service": {"ECS": 2, "DBS": 1},
            "by_category": {"quota": 2, "retry": 1},
            "by_service_category": {"ECS": {"quota": 2}, "DBS": {"retry": 1}},
            "unknown_codes": {"Ecs.9876": 1},
            "unknown_codes_other": 4, "unknown_codes_other_distinct": 3,
            "timeline": {"bucket_s": 1, "start": "2026-11-30T02:04:20Z",
                         "by_category": {"quota": [1, 0, 1]}, "untimed": 1},
            "errors": [{"path": "z.log", "error": "permission denied"}],
            "elapsed_ms": 50
        }));
        let b = report(serde_json::json!({
            "files": 1, "bytes": 5, "lines": 1, "hits": 1, "unknown": 2,
            "by_code": {"Ecs.0013": 1},
            "by_service": {"ECS": 1},
            "by_category": {"quota": 1},
            "by_service_category": {"ECS": {"quota": 1}},
            "unknown_codes": {"Ecs.9876": 1, "other": 1},
            "unknown_codes_other": 0, "unknown_codes_other_distinct": 0,
            "timeline": {"bucket_s": 1, "start": null, "by_category": {}, "untimed": 1},
            "errors": [{"path": "a.log", "error": "no such file or directory"}],
            "elapsed_ms": 70
        }));
        let m = serde_json::to_value(merge([a, b])).unwrap();
        assert_eq!(
            m,
            serde_json::json!({
                "files": 3, "bytes": 105, "lines": 11, "hits": 4, "unknown": 3,
                "by_code": {"DBS.200001": 1, "Ecs.0013": 3},
                "by_service": {"DBS": 1, "ECS": 3},
                "by_category": {"quota": 3, "retry": 1},
                "by_service_category": {"DBS": {"retry": 1}, "ECS": {"quota": 3}},
                "unknown_codes": {"Ecs.9876": 2, "other": 1},
                "unknown_codes_other": 4, "unknown_codes_other_distinct": 3,
                "timeline": {"bucket_s": 1, "start": "2026-11-30T02:04:20Z",
                             "by_category": {"quota": [1, 0, 1]}, "untimed": 2},
                "errors": [{"path": "a.log", "error": "no such file or directory"},
                           {"path": "z.log", "error": "permission denied"}],
                "elapsed_ms": 70
            })
        );
    }

    #[test]
    fn merge_of_nothing_is_an_empty_report() {
        let m = merge([]);
        assert_eq!(m.files, 0);
        assert!(m.by_code.is_empty());
        assert_eq!(m.timeline, Timeline::default());
    }

    #[test]
    fn unknown_fields_and_bad_reports_are_refused() {
        let err = parse(br#"{"files": 1}"#).unwrap_err().to_string();
        assert!(err.contains("missing field"), "{err}");
        let mut v = serde_json::to_value(merge([])).unwrap();
        v["sampled"] = serde_json::json!(true);
        let err = parse(v.to_string().as_bytes()).unwrap_err().to_string();
        assert!(err.contains("unknown field `sampled`"), "{err}");
    }
}

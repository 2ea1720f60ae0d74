//! Aggregation: counting hits and unknown codes, and deriving the views of
//! the report (by code, service, category, service × category).
//!
//! Counting is the per-hit path, so it costs one array increment for a known
//! code (`by_code[id] += 1`, the [`CodeId`] being the catalog index) and one
//! hash-map increment for an unknown code, whose key is two `u16`s: no string
//! is built or allocated per hit. The per-service and per-category views are
//! derived from `by_code` only when a report is made, so they can never
//! disagree with it.
//!
//! Memory is bounded by the catalog, not the input: at most one counter per
//! catalog code, and at most `prefixes × 10,000` unknown codes, since an
//! unknown code is a known prefix and four digits.
//!
//! [`Counts`] of different files or threads merge by addition
//! ([`Counts::merge`]), which is how a parallel scan combines its workers.

use crate::bounded_counts::BoundedCounts;
use crate::catalog::{Catalog, Category, CodeId};
use crate::matcher::{Matcher, UnknownCode};
use std::collections::BTreeMap;

/// Hit counts of some input, indexed by catalog position.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// `by_code[id]`: hits of the code with [`CodeId`] `id`.
    pub by_code: Vec<u64>,
    /// Bounded: exact for the first [`crate::bounded_counts::DEFAULT_CAPACITY`]
    /// distinct codes, the rest folded into an "other" count.
    pub unknown: BoundedCounts<UnknownCode>,
    pub hits: u64,
    pub unknown_total: u64,
}

impl Counts {
    /// Zero counts for a catalog of `codes` entries.
    pub fn new(codes: usize) -> Counts {
        Counts {
            by_code: vec![0; codes],
            ..Counts::default()
        }
    }

    #[inline]
    pub fn add_known(&mut self, id: CodeId) {
        self.by_code[id as usize] += 1;
        self.hits += 1;
    }

    #[inline]
    pub fn add_unknown(&mut self, code: UnknownCode) {
        self.unknown.add(code);
        self.unknown_total += 1;
    }

    pub fn merge(&mut self, other: &Counts) {
        if self.by_code.len() < other.by_code.len() {
            self.by_code.resize(other.by_code.len(), 0);
        }
        for (a, b) in self.by_code.iter_mut().zip(&other.by_code) {
            *a += b;
        }
        self.unknown.merge(&other.unknown);
        self.hits += other.hits;
        self.unknown_total += other.unknown_total;
    }

    /// The derived views, with names, for reports.
    pub fn views(&self, catalog: &Catalog, matcher: &Matcher) -> Views {
        let mut v = Views::default();
        for (id, &n) in self.by_code.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let e = catalog.entry(id as CodeId);
            v.by_code.insert(e.code.clone(), n);
            *v.by_service.entry(e.service.clone()).or_insert(0) += n;
            *v.by_category.entry(e.category).or_insert(0) += n;
            *v.by_service_category
                .entry(e.service.clone())
                .or_default()
                .entry(e.category)
                .or_insert(0) += n;
        }
        for (code, &n) in self.unknown.iter() {
            v.unknown_codes.insert(unknown_code_text(matcher, *code), n);
        }
        v.unknown_codes_other = self.unknown.other();
        v.unknown_codes_other_distinct = self.unknown.other_keys();
        v
    }
}

/// An unknown code as text: `Ecs.9876`.
pub fn unknown_code_text(matcher: &Matcher, code: UnknownCode) -> String {
    matcher.unknown_text(code).to_string()
}

/// The named views of [`Counts`]; maps are sorted by key so that reports are
/// stable and diffable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Views {
    pub by_code: BTreeMap<String, u64>,
    pub by_service: BTreeMap<String, u64>,
    pub by_category: BTreeMap<Category, u64>,
    pub by_service_category: BTreeMap<String, BTreeMap<Category, u64>>,
    pub unknown_codes: BTreeMap<String, u64>,
    /// Occurrences of unknown codes not in `unknown_codes` (folded).
    pub unknown_codes_other: u64,
    /// Distinct codes among them (an estimate, see [`crate::bounded_counts`]).
    pub unknown_codes_other_distinct: u64,
}

impl Views {
    /// Codes by count, highest first, ties by code; at most `n`.
    pub fn top_codes(&self, n: usize) -> Vec<(&str, u64)> {
        let mut top: Vec<(&str, u64)> =
            self.by_code.iter().map(|(c, &n)| (c.as_str(), n)).collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        top.truncate(n);
        top
    }
}

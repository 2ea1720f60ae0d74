//! The matcher: finds catalog codes and unknown codes in bytes.
//!
//! This module owns the definition of a *hit* (SPEC section 2) and the fast
//! search for it. It knows nothing about files, buffers or line numbers; the
//! streaming [`crate::search`] module feeds it windows of a stream.
//!
//! # Semantics
//!
//! A code has the shape `PREFIX.DDDD` ([`crate::catalog::is_code`]). In a
//! haystack of arbitrary bytes, an occurrence of `PREFIX.DDDD` is reported
//! when
//! - `PREFIX` is the prefix of at least one code given to [`Matcher::new`]
//!   (case-sensitive, byte for byte),
//! - the four bytes after the dot are ASCII digits,
//! - the byte before the occurrence (if any) and the byte after it (if any)
//!   are not *word bytes*: ASCII letters, digits and `_`. Every other byte,
//!   including `.`, CR, NUL and every non-ASCII byte, is a boundary.
//!
//! It is reported as [`Found::Known`] when `PREFIX.DDDD` is one of the codes,
//! and as [`Found::Unknown`] otherwise. So `Ecs.0013.`, `(Ecs.0013)`,
//! `错误码Ecs.0013，` and the second code of `Ecs.Ecs.0013` are reported;
//! `Ecs.00131`, `XEcs.0013`, `_Ecs.0013`, `Ecs.0013a`, `Ecs.0013_x`,
//! `ecs.0013` and both halves of `Ecs.0013Ecs.0013` are not. Every
//! occurrence is reported, in increasing order of start offset.
//!
//! # Design
//!
//! One Aho-Corasick automaton ([`aho_corasick`]) over the distinct prefixes
//! followed by a dot (`IMG.`, `Ecs.`, ... — six patterns for the built-in
//! catalog), searched leftmost-first. For each candidate the matcher checks
//! the four digits and both boundaries and looks the number up in a
//! per-prefix table. With few patterns (up to 64, and in practice the
//! handful of services of a catalog) the crate uses its packed SIMD searcher
//! (Teddy) as a prefilter that reports the candidates directly, so the
//! automaton itself is almost never walked.
//!
//! Why a leftmost, non-overlapping search over `PREFIX.` finds every hit: a
//! hit needs a non-word byte (or the start of input) before it. Prefixes are
//! word bytes only and contain no dot, so inside a candidate `[s, e)` every
//! position `s < p < e` is preceded by a word byte and cannot start a hit;
//! resuming the search at `e` loses nothing. For the same reason at most one
//! pattern can match at a given start (the dot position decides which), so
//! overlapping prefixes in user catalogs (`S` and `CSBS`, `Ecs` and `EcsX`)
//! cannot hide each other. The tests check this against a naive reference.
//!
//! The alternative, one automaton over all full codes (plus the prefixes, to
//! find unknown codes), was measured and rejected: with 595 patterns the
//! crate cannot use Teddy (at most 64 patterns) and builds a contiguous NFA
//! whose prefilter does not help (five distinct start bytes), see below.
//!
//! # Measurements
//!
//! `cargo bench --bench matcher` over a 64 MiB generated log (seed 7, 0.3 %
//! of lines holding codes, plus near misses), one core of a shared AMD EPYC
//! (AVX2/AVX-512) VM; ranges over repeated runs. Method and whole-file
//! numbers against ripgrep and grep: `benches/NOTES.md`.
//!
//! | design | automaton (as the crate chose it) | search | build |
//! |---|---|---|---|
//! | prefixes + `.` (6 patterns), chosen | DFA, Teddy prefilter | 10.2–10.9 GiB/s | 70–104 µs |
//! | all codes + prefixes (595 patterns) | contiguous NFA | 0.38–0.46 GiB/s | 245–292 µs |
//!
//! A hand-written fused AVX2 kernel (dot, digit, word-byte and newline masks)
//! measured 7.2–7.6 GiB/s including line counting, not better than Teddy
//! plus a separate newline count, so the engine stays on the crate.
//!
//! # Costs
//!
//! - Build: `O(total length of the codes)`; about 0.1 ms for the 589 codes
//!   (0.3–0.45 ms cold, in a fresh process).
//! - Memory: the automaton (a few KiB for a handful of prefixes) plus one
//!   lookup table per prefix: a dense table of 10,000 `u32` (40 KiB) for a
//!   prefix with at least [`DENSE_MIN`] codes, else a sorted list of its
//!   codes (8 bytes a code). So memory stays small even for a user catalog
//!   with thousands of single-code services.
//! - Search: linear in the haystack; no allocation. Per candidate a handful
//!   of byte compares and one table lookup (a binary search for sparse
//!   prefixes).

use crate::catalog::{CodeId, code_prefix};
use aho_corasick::{AhoCorasick, Input, MatchKind};
use std::collections::HashMap;

/// Index of a distinct prefix (`Ecs`, `IMG`, ...) in a [`Matcher`], in order
/// of first appearance in the codes given to [`Matcher::new`].
pub type PrefixId = u16;

/// A prefix with at least this many codes gets a dense lookup table.
pub const DENSE_MIN: usize = 64;

/// A code of a known prefix whose number is not in the catalog (`Ecs.9876`).
/// Rendered as `format!("{}.{:04}", matcher.prefix(code.prefix), code.number)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnknownCode {
    pub prefix: PrefixId,
    /// The four digits as a number, `0..=9999`.
    pub number: u16,
}

/// What was found at a position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Found {
    /// A catalog code: the i-th code given to [`Matcher::new`] has id i.
    Known(CodeId),
    /// Same shape and boundaries, known prefix, number not in the catalog.
    Unknown(UnknownCode),
}

/// Problems with the codes a matcher is built from.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MatcherError {
    #[error("{code:?} is not an error code: expected PREFIX.DDDD, e.g. Ecs.0013")]
    BadCode { code: String },
    #[error("code {code:?} is given more than once")]
    Duplicate { code: String },
    #[error("too many distinct code prefixes (more than {max})", max = u16::MAX)]
    TooManyPrefixes,
    #[error("cannot build the search automaton: {0}")]
    Automaton(String),
}

/// How the numbers of one prefix map to code ids.
#[derive(Clone, Debug)]
enum Table {
    /// Indexed by number; `NONE` where the number is not a code.
    Dense(Box<[CodeId]>),
    /// `(number, id)` sorted by number.
    Sparse(Box<[(u16, CodeId)]>),
}

const NONE: CodeId = CodeId::MAX;

impl Table {
    #[inline]
    fn get(&self, number: u16) -> Option<CodeId> {
        match self {
            Table::Dense(t) => {
                let id = t[number as usize];
                (id != NONE).then_some(id)
            }
            Table::Sparse(t) => t
                .binary_search_by_key(&number, |&(n, _)| n)
                .ok()
                .map(|i| t[i].1),
        }
    }
}

/// The outcome of [`Matcher::scan`]: how far the haystack is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scanned {
    /// Every code starting before this index has been reported or rejected;
    /// a code starting at or after it may need bytes beyond the haystack.
    /// Equal to the haystack length when the scan was told it is at the end
    /// of input; otherwise at least `len - max_code_len()` (and at least the
    /// scan's `start`), so a caller keeps at most [`Matcher::max_code_len`]
    /// bytes (plus one byte of left context) for the next scan.
    pub decided: usize,
}

/// Finds codes of a fixed set in bytes. Cheap to share (`&Matcher` is all a
/// search needs); `Clone` copies the tables.
#[derive(Clone, Debug)]
pub struct Matcher {
    /// Patterns `PREFIX.`; pattern id == prefix id.
    ac: AhoCorasick,
    prefixes: Vec<Box<str>>,
    tables: Vec<Table>,
    codes: Vec<Box<str>>,
    /// Length of the longest `PREFIX.` pattern (0 when there are no codes).
    max_pattern_len: usize,
}

/// Whether `b` continues a word: ASCII letter, digit or `_`.
#[inline(always)]
pub fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl Matcher {
    /// Builds a matcher; the i-th code gets [`CodeId`] i. Every code must have
    /// the shape of [`crate::catalog::is_code`] and appear once.
    pub fn new<'a>(codes: impl IntoIterator<Item = &'a str>) -> Result<Matcher, MatcherError> {
        let mut prefixes: Vec<Box<str>> = Vec::new();
        let mut prefix_ids: HashMap<&'a str, PrefixId> = HashMap::new();
        // Per prefix: (number, id) in input order.
        let mut numbers: Vec<Vec<(u16, CodeId)>> = Vec::new();
        let mut all: Vec<Box<str>> = Vec::new();
        for code in codes {
            let prefix = code_prefix(code).ok_or_else(|| MatcherError::BadCode {
                code: code.to_string(),
            })?;
            let number: u16 =
                code[prefix.len() + 1..]
                    .parse()
                    .map_err(|_| MatcherError::BadCode {
                        code: code.to_string(),
                    })?;
            let pid = match prefix_ids.get(prefix) {
                Some(&p) => p,
                None => {
                    let p = PrefixId::try_from(prefixes.len())
                        .map_err(|_| MatcherError::TooManyPrefixes)?;
                    prefix_ids.insert(prefix, p);
                    prefixes.push(prefix.into());
                    numbers.push(Vec::new());
                    p
                }
            };
            let id = CodeId::try_from(all.len()).map_err(|_| MatcherError::TooManyPrefixes)?;
            numbers[pid as usize].push((number, id));
            all.push(code.into());
        }
        let mut tables = Vec::with_capacity(numbers.len());
        for mut nums in numbers {
            nums.sort_unstable();
            if let Some(w) = nums.windows(2).find(|w| w[0].0 == w[1].0) {
                return Err(MatcherError::Duplicate {
                    code: all[w[1].1 as usize].to_string(),
                });
            }
            tables.push(if nums.len() >= DENSE_MIN {
                let mut t = vec![NONE; 10_000].into_boxed_slice();
                for (n, id) in nums {
                    t[n as usize] = id;
                }
                Table::Dense(t)
            } else {
                Table::Sparse(nums.into_boxed_slice())
            });
        }
        let patterns: Vec<String> = prefixes.iter().map(|p| format!("{p}.")).collect();
        let max_pattern_len = patterns.iter().map(String::len).max().unwrap_or(0);
        // Leftmost-first: needed for the packed (Teddy) prefilter, and
        // leftmost non-overlapping is complete here (see the module docs).
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&patterns)
            .map_err(|e| MatcherError::Automaton(e.to_string()))?;
        Ok(Matcher {
            ac,
            prefixes,
            tables,
            codes: all,
            max_pattern_len,
        })
    }

    /// The prefix with this id (`Ecs`). Panics if `id >= prefix_count()`.
    pub fn prefix(&self, id: PrefixId) -> &str {
        &self.prefixes[id as usize]
    }

    /// Number of distinct prefixes; ids are `0..prefix_count()`.
    pub fn prefix_count(&self) -> usize {
        self.prefixes.len()
    }

    /// The code with this id, as given to [`Matcher::new`]. Panics if out of range.
    pub fn code(&self, id: CodeId) -> &str {
        &self.codes[id as usize]
    }

    /// Number of codes; ids are `0..code_count()`.
    pub fn code_count(&self) -> usize {
        self.codes.len()
    }

    /// Length in bytes of the longest code (`PREFIX.DDDD`), 0 without codes.
    pub fn max_code_len(&self) -> usize {
        if self.max_pattern_len == 0 {
            0
        } else {
            self.max_pattern_len + 4
        }
    }

    /// The text of what was found: the code, or the rendered unknown code.
    pub fn render(&self, found: Found) -> String {
        match found {
            Found::Known(id) => self.code(id).to_string(),
            Found::Unknown(u) => format!("{}.{:04}", self.prefix(u.prefix), u.number),
        }
    }

    /// Calls `f(start, found)` for every code in `haystack`, a complete input
    /// (its start and end are the start and end of input).
    pub fn for_each<F: FnMut(usize, Found)>(&self, haystack: &[u8], f: F) {
        self.scan(haystack, 0, true, f);
    }

    /// Every code in a complete input, with its start offset. Allocates;
    /// meant for tests and small inputs.
    pub fn find_all(&self, haystack: &[u8]) -> Vec<(usize, Found)> {
        let mut v = Vec::new();
        self.for_each(haystack, |at, f| v.push((at, f)));
        v
    }

    /// The streaming primitive. Reports, in order, every code that starts at
    /// or after `start` in `haystack` and can be decided from these bytes,
    /// calling `f(start_of_code, found)`.
    ///
    /// Context: `haystack[..start]` is already searched and only serves as
    /// left context: `haystack[start - 1]` is the byte before a code at
    /// `start`; when `start == 0` a code at 0 is at the start of input.
    /// `at_eof` says the haystack ends where the input ends; otherwise a code
    /// near the end whose digits or right neighbour are missing is left
    /// undecided, and [`Scanned::decided`] says where the next scan (over a
    /// haystack extended with more bytes) must start.
    pub fn scan<F: FnMut(usize, Found)>(
        &self,
        haystack: &[u8],
        start: usize,
        at_eof: bool,
        mut f: F,
    ) -> Scanned {
        let n = haystack.len();
        let start = start.min(n);
        if self.max_pattern_len == 0 {
            return Scanned { decided: n };
        }
        let input = Input::new(haystack).span(start..n);
        // End of the last candidate; no hit can start inside a candidate.
        let mut searched_to = start;
        for m in self.ac.find_iter(input) {
            let (s, e) = (m.start(), m.end());
            // Left boundary: decided by bytes we have.
            if s > 0 && is_word_byte(haystack[s - 1]) {
                searched_to = e;
                continue;
            }
            match self.check_tail(haystack, e, at_eof) {
                Tail::Number(number) => {
                    let pid = m.pattern().as_usize();
                    let found = match self.tables[pid].get(number) {
                        Some(id) => Found::Known(id),
                        None => Found::Unknown(UnknownCode {
                            prefix: pid as PrefixId,
                            number,
                        }),
                    };
                    f(s, found);
                }
                Tail::Miss => {}
                Tail::NeedMore => return Scanned { decided: s },
            }
            searched_to = e;
        }
        if at_eof {
            return Scanned { decided: n };
        }
        // No further candidate lies wholly in the haystack; one may start
        // near the end and continue beyond it. Such a partial `PREFIX.` has
        // no dot yet (a whole one was found above), so it is a run of word
        // bytes at the very end, starting after a non-word byte, and shorter
        // than the longest pattern. Only that run is undecided: after a line
        // end or a space nothing is held back, so a file that ends with a
        // complete line is decided to its end (which matters when it is
        // deleted while tail is stopped). Never go back before the end of
        // the last candidate: that one is decided, and nothing can start
        // inside it.
        let run = haystack[start..]
            .iter()
            .rev()
            .take_while(|&&b| is_word_byte(b))
            .count();
        // A run longer than any pattern cannot be a partial prefix.
        let pending = if run >= self.max_pattern_len {
            n
        } else {
            n - run
        };
        Scanned {
            decided: pending.max(searched_to).max(start),
        }
    }

    /// Decides the part after a `PREFIX.` that ends at `e`.
    #[inline(always)]
    fn check_tail(&self, h: &[u8], e: usize, at_eof: bool) -> Tail {
        let mut number: u16 = 0;
        for i in 0..4 {
            match h.get(e + i) {
                Some(&b) if b.is_ascii_digit() => number = number * 10 + u16::from(b - b'0'),
                Some(_) => return Tail::Miss,
                None if at_eof => return Tail::Miss,
                None => return Tail::NeedMore,
            }
        }
        match h.get(e + 4) {
            Some(&b) if is_word_byte(b) => Tail::Miss,
            Some(_) => Tail::Number(number),
            None if at_eof => Tail::Number(number),
            None => Tail::NeedMore,
        }
    }
}

enum Tail {
    Number(u16),
    Miss,
    NeedMore,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_and_duplicate_codes_are_named() {
        assert_eq!(
            Matcher::new(["Ecs.0013", "ecs_0013"]).unwrap_err(),
            MatcherError::BadCode {
                code: "ecs_0013".into()
            }
        );
        assert_eq!(
            Matcher::new(["Ecs.0013", "IMG.0001", "Ecs.0013"]).unwrap_err(),
            MatcherError::Duplicate {
                code: "Ecs.0013".into()
            }
        );
    }

    #[test]
    fn ids_prefixes_and_lengths() {
        let m = Matcher::new(["IMG.0015", "Ecs.0013", "BackupService.6133", "Ecs.0001"]).unwrap();
        assert_eq!(m.prefix_count(), 3);
        assert_eq!(m.prefix(1), "Ecs");
        assert_eq!(m.max_code_len(), "BackupService.6133".len());
        assert_eq!(m.code(3), "Ecs.0001");
        assert_eq!(
            m.find_all(b"x Ecs.0001 Ecs.9876"),
            vec![
                (2, Found::Known(3)),
                (
                    11,
                    Found::Unknown(UnknownCode {
                        prefix: 1,
                        number: 9876
                    })
                )
            ]
        );
        assert_eq!(
            m.render(Found::Unknown(UnknownCode {
                prefix: 1,
                number: 7
            })),
            "Ecs.0007"
        );
    }

    #[test]
    fn empty_matcher_finds_nothing() {
        let m = Matcher::new([]).unwrap();
        assert_eq!(m.max_code_len(), 0);
        assert!(m.find_all(b"Ecs.0013").is_empty());
        assert_eq!(m.scan(b"Ecs.0013", 0, false, |_, _| {}).decided, 8);
    }

    #[test]
    fn undecided_tail_waits() {
        let m = Matcher::new(["Ecs.0013"]).unwrap();
        // Complete code, but the byte after it is not known yet.
        assert_eq!(m.scan(b"a Ecs.0013", 0, false, |_, _| panic!()).decided, 2);
        // A partial prefix at the end: only the run of word bytes waits
        // (the searcher keeps the byte before it as left context).
        assert_eq!(m.scan(b"abcdef Ec", 0, false, |_, _| panic!()).decided, 7);
        // After a line end nothing waits.
        assert_eq!(
            m.scan(b"abcdef Ec\n", 0, false, |_, _| panic!()).decided,
            10
        );
        // Left boundary already decides.
        assert_eq!(m.scan(b"aEcs.001", 0, false, |_, _| panic!()).decided, 5);
    }
}

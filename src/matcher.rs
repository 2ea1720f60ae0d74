//! The matcher: finds catalog codes and unknown codes in bytes.
//!
//! This module owns the definition of a *hit* (SPEC section 2) and the fast
//! search for it. It knows nothing about files, buffers or line numbers; the
//! streaming [`crate::search`] module feeds it windows of a stream. What a
//! code is and which family it belongs to is [`crate::catalog::code`]'s.
//!
//! # Semantics
//!
//! Codes have every shape of SPEC section 1: `Ecs.0013`, `DBS.200001`,
//! `SVCSTG.CCE-ADDONMGR.4000003`, `InvalidParameterValue`,
//! `AuthFailure.SignatureFailure`, `111404022`. A code that ends in digits
//! after a non-digit belongs to the family (stem, digit count) that
//! [`crate::catalog::code::family`] gives it; the families are derived from
//! the codes given to [`Matcher::new`]. In a haystack of arbitrary bytes, a
//! *candidate* at position `s` is
//! - a code, byte for byte (case-sensitive), or
//! - a family's stem followed by exactly that family's number of ASCII
//!   digits (an *unknown code* when that text is not a code),
//!
//! whose byte before (if any) and byte after (if any) are not *word bytes*:
//! ASCII letters, digits and `_`. Every other byte, including `.`, `-`, CR,
//! NUL and every non-ASCII byte, is a boundary. At a position the longest
//! candidate is reported ([`Found::Known`] or [`Found::Unknown`]), and the
//! search goes on after it: reports never overlap. So with `AuthFailure`
//! and `AuthFailure.SignatureFailure` in the catalog,
//! `AuthFailure.SignatureFailure:` is one hit of the longer code and
//! `AuthFailure.SignatureFailureX` a hit of `AuthFailure` (the `.` after it
//! is a boundary); `DBS.29999` is nothing when no `DBS.` code has five
//! digits; `Ecs.Ecs.0013` reports the second code. An unknown code competes
//! on length like a code: with `AuthFailure` and `AuthFailure.0001`,
//! `AuthFailure.9999` is the unknown code `AuthFailure.9999`, not a hit of
//! `AuthFailure` followed by `.9999`. Every report comes in increasing order
//! of start offset.
//!
//! # Design
//!
//! One Aho-Corasick automaton ([`aho_corasick`]) over one pattern per
//! distinct family stem (`IMG.`, `DBS.`, `SVCSTG.CCE-ADDONMGR.`) and one per
//! code without a family (word codes, purely numeric codes), searched
//! leftmost-longest. Family codes are not patterns: after a stem the matcher
//! reads the digit run, checks its length against the stem's families (a
//! bit set) and the boundary after it, and looks the number up in the
//! family's sorted table. So the built-in catalog is six stems, and a
//! catalog of 10,000 codes over 2,000 stems is 2,000 patterns. When the
//! stems are few (ten times their number, plus the other patterns, within
//! the 64 patterns of the crate's packed searcher), the automaton gets each
//! stem with each first digit (`Ecs.0` ... `Ecs.9`: 60 patterns for the
//! built-in catalog) so that a stem without digits (`Ecs.Ecs.Ecs.`) is
//! never a candidate; the chain below is the same.
//!
//! Why leftmost-longest finds the longest candidate: every pattern that
//! matches at the leftmost start `s` is a prefix of the longest one there,
//! which the automaton reports. Each pattern knows the longest other pattern
//! that is its proper prefix ([`Pattern::shorter`]); walking that chain
//! visits exactly the patterns that match at `s`, longest first, and a
//! longer pattern always gives a longer candidate (a stem's digits end
//! before a longer pattern's next non-digit, or they fail). The first that
//! passes its checks is the report. When none passes, the search resumes
//! after the first non-word byte of the matched text (no hit can start right
//! after a word byte), never at its end: `Ecs.Ecs.0013` holds a hit at 4.
//!
//! Streaming: a candidate is undecided when a byte it needs (a digit, the
//! byte after it) lies beyond the haystack, or when a longer pattern that
//! starts with the bytes up to the end could still match (checked exactly,
//! by a binary search in the sorted patterns); then [`Scanned::decided`] is
//! its start. After the last candidate only a tail of code bytes that is a
//! proper prefix of some pattern waits, found by looking back at most
//! `max_pattern_len - 1` bytes: a 4 MiB run of letters costs nothing extra
//! at a window's end.
//!
//! The tests check all of this against a naive reference written from the
//! SPEC's words (`tests/matcher_reference`), table-driven and by property.
//!
//! # Measurements
//!
//! `cargo run --release --example patternbench`
//! (`benches/support/patternbench.rs`): 64 MiB of generated log (seed 7;
//! for the user catalog, codes drawn from 10,000 generated codes over 2,000
//! stems and the 589 built-in ones), the automaton alone (`find_iter`
//! count) as the crate builds it, best of 5. Machine: the shared 2-core VM
//! under a load of 17-19 (other engineers' builds), so every figure is
//! several times below the unloaded ones in `benches/NOTES.md`; compare
//! within the table, which comes from one run.
//!
//! | catalog | patterns | crate's choice | leftmost-first | leftmost-longest | leftmost-longest, forced DFA |
//! |---|---|---|---|---|---|
//! | built-in, stems (chosen) | 6 | DFA + Teddy, 12 KiB, 0.1 ms | 1.34 GiB/s | 1.12 GiB/s | 0.99 GiB/s (same automaton) |
//! | built-in, every code | 589 | contiguous NFA, 17 KiB | 0.10 | 0.12 | 0.11 (221 KiB) |
//! | user, stems + exact (chosen) | 2,006 | contiguous NFA, 394 KiB, 20 ms | 0.08 | 0.10 | **0.16** (5.4 MiB, 91 ms) |
//! | user, every code (what `rg -F -f` gets) | 10,589 | contiguous NFA, 1.2 MiB | 0.08 | 0.09 | 0.10 (20 MiB, 237 ms) |
//!
//! The whole matcher: built-in 1.20 GiB/s, user catalog 0.10 GiB/s (build
//! 99 ms, loaded), the same run.
//!
//! What decided:
//! - Stems, not codes: with up to 64 patterns the crate searches with its
//!   packed SIMD searcher (Teddy), which reports candidates directly; every
//!   code as a pattern (589) forfeits it and is 10× slower. Family codes
//!   are therefore never patterns.
//! - Many stems: past 100 patterns the crate picks a contiguous NFA; a DFA
//!   over the same 2,006 stems is 1.6× faster at 5.4 MiB, so the matcher
//!   asks for a DFA up to [`DFA_MAX_BYTES`] and falls back to the NFA
//!   beyond. No prefilter helps there (hundreds of start bytes). The stems
//!   are a fifth of the codes, which is where the matcher gains on a
//!   search over every code (`rg -F -f`).
//! - Leftmost-longest against leftmost-first plus an own extension step:
//!   within the noise of each other on every catalog (Teddy supports both;
//!   built-in 1.34 against 1.12 GiB/s here, 0.47 against 0.51 in an
//!   earlier run of the same bench);
//!   leftmost-longest hands the chain walk the longest pattern at a start
//!   directly, so there is no extension code to get wrong.
//! - Pathological text (runs of letters, base64, all-digit lines,
//!   `Ecs.Ecs.Ecs.`): a stem without a digit is one rejected candidate
//!   every 4 bytes, each a return from the automaton. With few stems the
//!   matcher keeps a second, dense automaton (each stem with each first
//!   digit, `Ecs.0`..`Ecs.9`, still Teddy) that rejects those inside the
//!   crate's loop, but searches with the stems alone (slim Teddy: 32
//!   bytes a step, where 60 patterns need fat Teddy's 16): a scan that
//!   meets [`DENSE_AFTER_REJECTS`] rejects within [`DENSE_WINDOW`] bytes
//!   switches to the dense automaton for [`DENSE_SPAN`] bytes, then back.
//!   Built-in catalog, 1 GiB ordinary log: 0.30 s with the dense automaton
//!   alone, 0.24 s switching (rg 0.24 s); 256 MiB pathological: 0.13 s,
//!   0.12 s (rg 0.09 s). The window end never walks back over a run of
//!   word bytes (at most `max_pattern_len - 1` bytes are looked at). The
//!   history of these figures, start-up costs and ratios against rg:
//!   `benches/NOTES.md`, "Matcher: the two automata"; `benches/ratios.sh`.
//!
//! # Costs
//!
//! - Build: `O(total length of the patterns)` plus a sort of each family's
//!   numbers; 0.1-0.3 ms for the built-in catalog; for 2,000 stems the DFA
//!   dominates (tens of ms on a loaded machine).
//! - Memory: the automaton (12 KiB built-in; 5.4 MiB as a DFA for 2,000
//!   stems, at most [`DFA_MAX_BYTES`]) plus 12 bytes per family code (its
//!   number and id) and the sorted pattern texts.
//! - Search: linear in the haystack; no allocation. Per candidate: the
//!   chain of shorter patterns (as deep as the patterns nest), at most 19
//!   digit bytes, a scan of the stem's few families and a binary search of
//!   the family's numbers. Near the end of a window, at most
//!   `max_pattern_len` binary searches in the sorted patterns.

mod automaton;

use crate::catalog::CodeId;
use crate::catalog::code::{check_code, family};
use aho_corasick::Input;
use automaton::Automaton;
use std::collections::HashMap;
use std::fmt;

/// Index of a distinct family prefix (`Ecs`, `DBS`, ...: the stem without
/// its final separator) in a [`Matcher`], in order of first appearance. The
/// metrics keep one series per prefix.
pub type PrefixId = u16;

/// Index of a family (stem, digit count) in a [`Matcher`], in order of first
/// appearance in the codes given to [`Matcher::new`].
pub type FamilyId = u32;

/// A code of a family whose number is not in the catalog (`Ecs.9876`,
/// `DBS.299999`). Rendered by [`Matcher::unknown_text`]: the family's stem
/// and the number zero-padded to the family's digit count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnknownCode {
    /// The family's prefix (decided by `family`; kept here for the metrics).
    pub prefix: PrefixId,
    pub family: FamilyId,
    /// The digits as a number (at most [`crate::catalog::code::MAX_FAMILY_DIGITS`] digits).
    pub number: u64,
}

/// What was found at a position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Found {
    /// A catalog code: the i-th code given to [`Matcher::new`] has id i.
    Known(CodeId),
    /// A family's stem and digit count, boundaries met, number not in the
    /// catalog.
    Unknown(UnknownCode),
}

/// Problems with the codes a matcher is built from.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MatcherError {
    #[error(
        "{code:?} is not an error code: a code is ASCII letters, digits and . - _ :, beginning and ending with a letter or digit (e.g. Ecs.0013, DBS.200001, InvalidParameterValue)"
    )]
    BadCode { code: String },
    #[error("code {code:?} is given more than once")]
    Duplicate { code: String },
    #[error("too many codes or families (more than {max})", max = u32::MAX - 1)]
    TooManyPrefixes,
    #[error("cannot build the search automaton: {0}")]
    Automaton(String),
}

/// The largest DFA the matcher builds; beyond, the crate's contiguous NFA.
pub const DFA_MAX_BYTES: usize = 24 << 20;

/// The most patterns for which the crate uses its packed searcher (Teddy).
const TEDDY_MAX_PATTERNS: usize = 64;

/// Rejected candidates within [`DENSE_WINDOW`] bytes that make a scan
/// switch to the dense automaton (stem + first digit) for
/// [`DENSE_SPAN`] bytes: a run of `Ecs.Ecs.` rejects 16,384 per 64 KiB,
/// ordinary logs (near misses such as `Ecs.00131`) a handful.
const DENSE_AFTER_REJECTS: u32 = 64;
const DENSE_WINDOW: usize = 64 << 10;
const DENSE_SPAN: usize = 1 << 20;

/// No pattern / no code.
const NONE: u32 = u32::MAX;

/// One pattern of the automaton: a family stem, an exact code, or both
/// (`HTTP` as a word code and the stem of `HTTP2`).
#[derive(Clone, Debug)]
struct Pattern {
    len: u32,
    /// The code whose text is this pattern, or [`NONE`].
    exact: CodeId,
    /// Bit `d` set: a family (this stem, `d` digits) exists.
    digit_counts: u32,
    /// Largest `d` of `digit_counts` (0 when not a stem).
    max_digits: u32,
    /// The longest other pattern that is a proper prefix of this one, or
    /// [`NONE`]. Every pattern that matches where this one matches is on
    /// this chain.
    shorter: u32,
    /// This stem's families: `stem_families[fam_start..][..fam_len]`.
    fam_start: u32,
    fam_len: u32,
}

/// One family: its numbers (sorted) and their codes.
#[derive(Clone, Debug)]
struct FamilyTable {
    pattern: u32,
    digits: u32,
    prefix: PrefixId,
    numbers: Box<[u64]>,
    ids: Box<[CodeId]>,
}

/// The outcome of [`Matcher::scan`]: how far the haystack is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scanned {
    /// Every code starting before this index has been reported or rejected;
    /// a code starting at or after it may need bytes beyond the haystack.
    /// Equal to the haystack length when the scan was told it is at the end
    /// of input; otherwise more than `len - max_code_len()` (and at least the
    /// scan's `start`), so a caller keeps at most [`Matcher::max_code_len`]
    /// bytes (plus one byte of left context) for the next scan.
    pub decided: usize,
}

/// Finds codes of a fixed set in bytes. Cheap to share (`&Matcher` is all a
/// search needs); `Clone` copies the tables.
#[derive(Clone, Debug)]
pub struct Matcher {
    /// One pattern per distinct stem and per code without a family;
    /// pattern id == index in `patterns`.
    search: Automaton,
    /// With few stems, the same with each stem given with each first
    /// digit (`Ecs.0`..`Ecs.9`), for stretches of text where `search`
    /// meets many stems without a digit (module docs).
    dense: Option<Automaton>,
    patterns: Vec<Pattern>,
    /// The texts of the largest automaton, sorted: is a tail of the
    /// haystack the start of one? (Every text of `search` is one of
    /// `dense` or a prefix of one, so its proper prefixes are covered.)
    sorted: Vec<Box<[u8]>>,
    families: Vec<FamilyTable>,
    /// Family ids grouped by stem pattern (see [`Pattern::fam_start`]).
    stem_families: Box<[FamilyId]>,
    stems: Vec<Box<str>>,
    prefixes: Vec<Box<str>>,
    codes: Vec<Box<str>>,
    max_pattern_len: usize,
    max_code_len: usize,
}

/// Whether `b` continues a word: ASCII letter, digit or `_`.
#[inline(always)]
pub fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// What a candidate's tail says.
enum Verdict {
    Hit(usize, Found),
    Miss,
    NeedMore,
}

/// An unknown code as text, without allocating: `{stem}{number:0digits}`.
#[derive(Clone, Copy, Debug)]
pub struct UnknownText<'a> {
    stem: &'a str,
    digits: usize,
    number: u64,
}

impl fmt::Display for UnknownText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:0w$}", self.stem, self.number, w = self.digits)
    }
}

impl Matcher {
    /// Builds a matcher; the i-th code gets [`CodeId`] i. Every code must have
    /// the shape of [`crate::catalog::code::check_code`] and appear once.
    pub fn new<'a>(codes: impl IntoIterator<Item = &'a str>) -> Result<Matcher, MatcherError> {
        let mut texts: Vec<&'a str> = Vec::new();
        let mut pattern_ids: HashMap<&'a str, u32> = HashMap::new();
        let mut patterns: Vec<Pattern> = Vec::new();
        let mut family_ids: HashMap<(&'a str, usize), FamilyId> = HashMap::new();
        let mut prefix_ids: HashMap<&'a str, PrefixId> = HashMap::new();
        let mut prefixes: Vec<Box<str>> = Vec::new();
        let mut families: Vec<FamilyTable> = Vec::new();
        let mut numbers: Vec<Vec<(u64, CodeId)>> = Vec::new();
        let mut all: Vec<Box<str>> = Vec::new();
        let too_many = |_| MatcherError::TooManyPrefixes;
        for code in codes {
            let bad = || MatcherError::BadCode {
                code: code.to_string(),
            };
            check_code(code).map_err(|_| bad())?;
            let id = CodeId::try_from(all.len()).map_err(too_many)?;
            if id == NONE {
                return Err(MatcherError::TooManyPrefixes);
            }
            all.push(code.into());
            let text = match family(code) {
                Some(f) => f.stem,
                None => code,
            };
            let pid = match pattern_ids.get(text) {
                Some(&p) => p,
                None => {
                    let p = u32::try_from(patterns.len()).map_err(too_many)?;
                    pattern_ids.insert(text, p);
                    texts.push(text);
                    patterns.push(Pattern {
                        len: text.len() as u32,
                        exact: NONE,
                        digit_counts: 0,
                        max_digits: 0,
                        shorter: NONE,
                        fam_start: 0,
                        fam_len: 0,
                    });
                    p
                }
            };
            let pat = &mut patterns[pid as usize];
            match family(code) {
                None => {
                    if pat.exact != NONE {
                        return Err(MatcherError::Duplicate {
                            code: code.to_string(),
                        });
                    }
                    pat.exact = id;
                }
                Some(f) => {
                    pat.digit_counts |= 1 << f.digits;
                    pat.max_digits = pat.max_digits.max(f.digits as u32);
                    let fid = match family_ids.get(&(f.stem, f.digits)) {
                        Some(&x) => x,
                        None => {
                            let x = FamilyId::try_from(families.len()).map_err(too_many)?;
                            let prefix = match prefix_ids.get(f.prefix()) {
                                Some(&p) => p,
                                None => {
                                    let p = PrefixId::try_from(prefixes.len())
                                        .map_err(|_| MatcherError::TooManyPrefixes)?;
                                    prefix_ids.insert(f.prefix(), p);
                                    prefixes.push(f.prefix().into());
                                    p
                                }
                            };
                            family_ids.insert((f.stem, f.digits), x);
                            families.push(FamilyTable {
                                pattern: pid,
                                digits: f.digits as u32,
                                prefix,
                                numbers: Box::default(),
                                ids: Box::default(),
                            });
                            numbers.push(Vec::new());
                            x
                        }
                    };
                    // Checked shape: the digits parse, and at most 18 fit u64.
                    let number: u64 = code[f.stem.len()..].parse().map_err(|_| bad())?;
                    numbers[fid as usize].push((number, id));
                }
            }
        }
        for (fam, mut nums) in families.iter_mut().zip(numbers) {
            nums.sort_unstable();
            if let Some(w) = nums.windows(2).find(|w| w[0].0 == w[1].0) {
                return Err(MatcherError::Duplicate {
                    code: all[w[1].1 as usize].to_string(),
                });
            }
            fam.numbers = nums.iter().map(|&(n, _)| n).collect();
            fam.ids = nums.iter().map(|&(_, i)| i).collect();
        }
        let mut stem_families: Vec<FamilyId> = (0..families.len() as FamilyId).collect();
        stem_families.sort_by_key(|&f| (families[f as usize].pattern, f));
        for (i, &f) in stem_families.iter().enumerate() {
            let pat = &mut patterns[families[f as usize].pattern as usize];
            if pat.fam_len == 0 {
                pat.fam_start = i as u32;
            }
            pat.fam_len += 1;
        }
        // Chains.
        for (p, text) in texts.iter().enumerate() {
            patterns[p].shorter = (1..text.len())
                .rev()
                .find_map(|l| pattern_ids.get(&text[..l]).copied())
                .unwrap_or(NONE);
        }
        // The automaton's texts: every stem and exact code. With few
        // stems, also a dense set where a stem is given with each first
        // digit (`Ecs.0`..`Ecs.9`): still within Teddy's 64 patterns, and
        // a stem without a digit (`Ecs.Ecs.Ecs.`) is never a candidate.
        let stems = patterns.iter().filter(|p| p.digit_counts != 0).count();
        let expand = stems * 10 + (patterns.len() - stems) <= TEDDY_MAX_PATTERNS;
        let search_texts: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
        let search_pattern: Vec<u32> = (0..texts.len() as u32).collect();
        let mut dense_texts: Vec<String> = Vec::new();
        let mut dense_pattern: Vec<u32> = Vec::new();
        if expand {
            for (p, text) in texts.iter().enumerate() {
                let pat = &patterns[p];
                if pat.digit_counts != 0 {
                    for d in b'0'..=b'9' {
                        dense_texts.push(format!("{text}{}", d as char));
                        dense_pattern.push(p as u32);
                    }
                    if pat.exact == NONE {
                        continue;
                    }
                }
                dense_texts.push(text.to_string());
                dense_pattern.push(p as u32);
            }
        }
        let largest = if expand { &dense_texts } else { &search_texts };
        let max_pattern_len = largest.iter().map(|t| t.len()).max().unwrap_or(0);
        let max_code_len = patterns
            .iter()
            .map(|p| (p.len + p.max_digits) as usize)
            .max()
            .unwrap_or(0);
        let mut sorted: Vec<Box<[u8]>> = largest.iter().map(|t| t.as_bytes().into()).collect();
        sorted.sort_unstable();
        let search = Automaton::build(&search_texts, search_pattern)?;
        let dense = if expand {
            Some(Automaton::build(&dense_texts, dense_pattern)?)
        } else {
            None
        };
        let stems = families
            .iter()
            .map(|f| texts[f.pattern as usize].into())
            .collect();
        Ok(Matcher {
            search,
            dense,
            patterns,
            sorted,
            families,
            stem_families: stem_families.into_boxed_slice(),
            stems,
            prefixes,
            codes: all,
            max_pattern_len,
            max_code_len,
        })
    }

    /// The prefix with this id (`Ecs`). Panics if `id >= prefix_count()`.
    pub fn prefix(&self, id: PrefixId) -> &str {
        &self.prefixes[id as usize]
    }

    /// Number of distinct family prefixes; ids are `0..prefix_count()`.
    pub fn prefix_count(&self) -> usize {
        self.prefixes.len()
    }

    /// Number of families; ids are `0..family_count()`.
    pub fn family_count(&self) -> usize {
        self.families.len()
    }

    /// The stem (`DBS.`) and digit count (6) of a family. Panics if out of range.
    pub fn family(&self, id: FamilyId) -> (&str, usize) {
        (
            &self.stems[id as usize],
            self.families[id as usize].digits as usize,
        )
    }

    /// Number of automaton patterns (distinct stems and codes without a family).
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// The code with this id, as given to [`Matcher::new`]. Panics if out of range.
    pub fn code(&self, id: CodeId) -> &str {
        &self.codes[id as usize]
    }

    /// Number of codes; ids are `0..code_count()`.
    pub fn code_count(&self) -> usize {
        self.codes.len()
    }

    /// Length in bytes of the longest possible hit (a code, or a stem and
    /// its family's digits), 0 without codes.
    pub fn max_code_len(&self) -> usize {
        self.max_code_len
    }

    /// An unknown code as text (`Display`, no allocation): `DBS.000042`.
    pub fn unknown_text(&self, u: UnknownCode) -> UnknownText<'_> {
        UnknownText {
            stem: &self.stems[u.family as usize],
            digits: self.families[u.family as usize].digits as usize,
            number: u.number,
        }
    }

    /// The text of what was found: the code, or the rendered unknown code.
    pub fn render(&self, found: Found) -> String {
        match found {
            Found::Known(id) => self.code(id).to_string(),
            Found::Unknown(u) => self.unknown_text(u).to_string(),
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
    /// near the end that more bytes could change is left undecided, and
    /// [`Scanned::decided`] says where the next scan (over a haystack
    /// extended with more bytes) must start.
    pub fn scan<F: FnMut(usize, Found)>(
        &self,
        haystack: &[u8],
        start: usize,
        at_eof: bool,
        mut f: F,
    ) -> Scanned {
        let h = haystack;
        let n = h.len();
        let mut pos = start.min(n);
        if self.patterns.is_empty() {
            return Scanned { decided: n };
        }
        // One iterator while the search resumes where the automaton's last
        // match ended (a rejected `Ecs.` in `Ecs.Ecs.Ecs.`: the common
        // case); a new one only after a hit, a skip inside a match or a
        // change of automaton. Where `search` meets many stems without a
        // digit, the dense automaton takes over for a stretch, so that
        // those are rejected inside the crate's loop (module docs).
        let mut auto = &self.search;
        let mut window_start = pos;
        let mut rejected = 0u32;
        let mut dense_until = 0usize;
        let mut matches = auto.ac.find_iter(Input::new(h).span(pos..n));
        while pos < n {
            let Some(m) = matches.next() else {
                break;
            };
            let s = m.start();
            let aid = m.pattern().as_usize();
            let head = &self.patterns[auto.pattern[aid] as usize];
            let skip = auto.skip[aid] as usize;
            if !at_eof && s + self.max_pattern_len > n {
                // Near the end: an attempt at a longer pattern that began
                // before `s` and ran out of bytes hides behind this match
                // (`A.1` of `A.1B` before the code `1`), or a longer
                // pattern may still match at `s` once more bytes come.
                if let Some(t) = self.undecided_tail(h, pos, s + 1) {
                    return Scanned { decided: t };
                }
            }
            let hit = if s > 0 && is_word_byte(h[s - 1]) {
                pos = s + skip;
                false
            } else {
                match self.verify(h, s, head, at_eof) {
                    Verdict::Hit(len, found) => {
                        f(s, found);
                        pos = s + len;
                        true
                    }
                    Verdict::Miss => {
                        pos = s + skip;
                        false
                    }
                    Verdict::NeedMore => return Scanned { decided: s },
                }
            };
            let mut switched = false;
            if let Some(dense) = &self.dense {
                if std::ptr::eq(auto, dense) {
                    if pos >= dense_until {
                        auto = &self.search;
                        (window_start, rejected, switched) = (pos, 0, true);
                    }
                } else if !hit {
                    if pos - window_start > DENSE_WINDOW {
                        (window_start, rejected) = (pos, 0);
                    }
                    rejected += 1;
                    if rejected >= DENSE_AFTER_REJECTS {
                        auto = dense;
                        dense_until = pos + DENSE_SPAN;
                        switched = true;
                    }
                }
            }
            if (switched || pos != m.end()) && pos < n {
                matches = auto.ac.find_iter(Input::new(h).span(pos..n));
            }
        }
        if at_eof {
            return Scanned { decided: n };
        }
        // No pattern lies wholly in `h[pos..]`; one may start near the end
        // and continue beyond it: a tail of code bytes, after a boundary,
        // that is a proper prefix of a pattern. Only that waits: after a
        // line end or a space nothing is held back, so a file that ends with
        // a complete line is decided to its end (which matters when it is
        // deleted while tail is stopped). At most `max_pattern_len - 1`
        // bytes are looked at, whatever the length of a run of word bytes.
        Scanned {
            decided: self.undecided_tail(h, pos, n).unwrap_or(n),
        }
    }

    /// The first `t` in `from..to` where a pattern may begin that needs
    /// bytes beyond the haystack: a boundary before `t`, and `h[t..]` a
    /// proper prefix of a pattern (so a run of code bytes to the end,
    /// shorter than the longest pattern). Looks back at most
    /// `max_pattern_len - 1` bytes.
    fn undecided_tail(&self, h: &[u8], from: usize, to: usize) -> Option<usize> {
        let n = h.len();
        let lo = from.max(n.saturating_sub(self.max_pattern_len.saturating_sub(1)));
        let run = h[lo.min(n)..]
            .iter()
            .rev()
            .take_while(|&&b| crate::catalog::code::is_code_byte(b))
            .count();
        (n - run..to.min(n))
            .find(|&t| (t == 0 || !is_word_byte(h[t - 1])) && self.starts_a_pattern(&h[t..]))
    }

    /// Whether `tail` (the rest of the haystack) is a proper prefix of a
    /// pattern. A binary search; called only near the end of a haystack.
    fn starts_a_pattern(&self, tail: &[u8]) -> bool {
        let i = self.sorted.partition_point(|p| &p[..] < tail);
        self.sorted[i..]
            .iter()
            .take(2)
            .any(|p| p.len() > tail.len() && p.starts_with(tail))
    }

    /// Decides the candidates at `s`, longest first: `head` (the longest
    /// pattern matching at `s`) and its chain of shorter patterns.
    #[inline]
    fn verify(&self, h: &[u8], s: usize, head: &Pattern, at_eof: bool) -> Verdict {
        let mut pat = head;
        loop {
            let e = s + pat.len as usize;
            if pat.digit_counts != 0 {
                match self.digits(h, e, pat, at_eof) {
                    Verdict::Miss => {}
                    v => return v,
                }
            }
            if pat.exact != NONE {
                match h.get(e) {
                    Some(&b) if is_word_byte(b) => {}
                    None if !at_eof => return Verdict::NeedMore,
                    _ => return Verdict::Hit(pat.len as usize, Found::Known(pat.exact)),
                }
            }
            if pat.shorter == NONE {
                return Verdict::Miss;
            }
            pat = &self.patterns[pat.shorter as usize];
        }
    }

    /// Decides the digits after a stem that ends at `e`.
    #[inline]
    fn digits(&self, h: &[u8], e: usize, pat: &Pattern, at_eof: bool) -> Verdict {
        let mut number: u64 = 0;
        let mut k = 0usize;
        loop {
            match h.get(e + k) {
                Some(&b) if b.is_ascii_digit() => {
                    if k == pat.max_digits as usize {
                        return Verdict::Miss;
                    }
                    number = number * 10 + u64::from(b - b'0');
                    k += 1;
                }
                Some(&b) if is_word_byte(b) => return Verdict::Miss,
                None if !at_eof => return Verdict::NeedMore,
                _ => break,
            }
        }
        if pat.digit_counts & (1 << k) == 0 {
            return Verdict::Miss;
        }
        // Families of one stem: few (one per digit count); find by scan.
        let own = &self.stem_families[pat.fam_start as usize..][..pat.fam_len as usize];
        let Some(&fid) = own
            .iter()
            .find(|&&f| self.families[f as usize].digits as usize == k)
        else {
            return Verdict::Miss;
        };
        let fam = &self.families[fid as usize];
        let found = match fam.numbers.binary_search(&number) {
            Ok(i) => Found::Known(fam.ids[i]),
            Err(_) => Found::Unknown(UnknownCode {
                prefix: fam.prefix,
                family: fid,
                number,
            }),
        };
        Verdict::Hit(pat.len as usize + k, found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_and_duplicate_codes_are_named() {
        assert_eq!(
            Matcher::new(["Ecs.0013", "ecs 0013"]).unwrap_err(),
            MatcherError::BadCode {
                code: "ecs 0013".into()
            }
        );
        for dup in ["Ecs.0013", "Throttling", "111404022"] {
            assert_eq!(
                Matcher::new([dup, "IMG.0001", dup]).unwrap_err(),
                MatcherError::Duplicate { code: dup.into() }
            );
        }
    }

    #[test]
    fn ids_families_and_lengths() {
        let m = Matcher::new([
            "IMG.0015",
            "Ecs.0013",
            "BackupService.6133",
            "Ecs.0001",
            "DBS.200001",
            "Ecs-0001",
            "Throttling",
        ])
        .unwrap();
        // Prefixes: IMG, Ecs (of `Ecs.` and `Ecs-`), BackupService, DBS.
        assert_eq!(m.prefix_count(), 4);
        assert_eq!(m.prefix(1), "Ecs");
        assert_eq!(m.family_count(), 5);
        assert_eq!(m.family(4), ("Ecs-", 4));
        assert_eq!(m.pattern_count(), 6);
        assert_eq!(m.max_code_len(), "BackupService.6133".len());
        assert_eq!(m.code(3), "Ecs.0001");
        let u = |family, prefix, number| {
            Found::Unknown(UnknownCode {
                prefix,
                family,
                number,
            })
        };
        assert_eq!(
            m.find_all(b"x Ecs.0001 Ecs.9876 DBS.000042 Ecs-0002 Throttling"),
            vec![
                (2, Found::Known(3)),
                (11, u(1, 1, 9876)),
                (20, u(3, 3, 42)),
                (31, u(4, 1, 2)),
                (40, Found::Known(6)),
            ]
        );
        assert_eq!(m.render(u(3, 3, 42)), "DBS.000042");
        assert_eq!(m.render(u(1, 1, 7)), "Ecs.0007");
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
        let m = Matcher::new(["Ecs.0013", "AuthFailure", "AuthFailure.SignatureFailure"]).unwrap();
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
        assert_eq!(m.scan(b"aEcs.001", 0, false, |_, _| panic!()).decided, 8);
        // A shorter code waits while a longer one may still come...
        assert_eq!(
            m.scan(b"x AuthFailure.Sig", 0, false, |_, _| panic!())
                .decided,
            2
        );
        // ...but not when the bytes already rule it out.
        let mut got = vec![];
        let s = m.scan(b"x AuthFailure.Six", 0, false, |at, f| got.push((at, f)));
        assert_eq!(got, vec![(2, Found::Known(1))]);
        assert_eq!(s.decided, 17);
        // A long run of word bytes at the end holds back nothing.
        let run = vec![b'a'; 1 << 20];
        assert_eq!(m.scan(&run, 0, false, |_, _| panic!()).decided, run.len());
    }
}

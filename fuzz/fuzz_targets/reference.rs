//! The naive reference of SPEC section 2, ported from
//! tests/matcher_reference: every position against every code and every
//! prefix, straight from the words of the spec. Obviously correct, slow:
//! the targets keep inputs small.
#![allow(dead_code)]

use faultline::catalog::CodeId;
use faultline::matcher::{Matcher, UnknownCode};
use faultline::search::{Position, Sink};

/// One reported code: offset, 1-based line, text, known or not.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    pub offset: u64,
    pub line: u64,
    pub code: String,
    pub known: bool,
}

/// The catalog codes of the vendor documents (fixtures/matcher/codes.txt).
pub fn catalog_codes() -> Vec<&'static str> {
    include_str!("../../fixtures/matcher/codes.txt")
        .lines()
        .collect()
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Every code (known or unknown) in `input`, in order of offset.
pub fn reference(codes: &[&str], input: &[u8]) -> Vec<Hit> {
    let mut prefixes: Vec<&str> = codes.iter().map(|c| &c[..c.rfind('.').unwrap()]).collect();
    prefixes.sort();
    prefixes.dedup();
    let boundary_before = |i: usize| i == 0 || !is_word(input[i - 1]);
    let boundary_after = |j: usize| j == input.len() || !is_word(input[j]);
    let mut hits = Vec::new();
    let mut line = 1;
    for i in 0..input.len() {
        if i > 0 && input[i - 1] == b'\n' {
            line += 1;
        }
        if !boundary_before(i) {
            continue;
        }
        let mut found = None;
        for code in codes {
            if input[i..].starts_with(code.as_bytes()) && boundary_after(i + code.len()) {
                found = Some(Hit {
                    offset: i as u64,
                    line,
                    code: code.to_string(),
                    known: true,
                });
            }
        }
        if found.is_none() {
            for p in &prefixes {
                let len = p.len() + 5;
                if i + len > input.len() {
                    continue;
                }
                let cand = &input[i..i + len];
                if cand.starts_with(p.as_bytes())
                    && cand[p.len()] == b'.'
                    && cand[p.len() + 1..].iter().all(u8::is_ascii_digit)
                    && boundary_after(i + len)
                {
                    found = Some(Hit {
                        offset: i as u64,
                        line,
                        code: String::from_utf8(cand.to_vec()).unwrap(),
                        known: false,
                    });
                }
            }
        }
        hits.extend(found);
    }
    hits
}

/// A search sink that records hits in the reference's terms.
pub struct Collect<'m> {
    pub m: &'m Matcher,
    pub hits: Vec<Hit>,
}

impl<'m> Collect<'m> {
    pub fn new(m: &'m Matcher) -> Self {
        Collect { m, hits: Vec::new() }
    }
}

impl Sink for Collect<'_> {
    fn known(&mut self, id: CodeId, pos: Position) {
        self.hits.push(Hit {
            offset: pos.offset,
            line: pos.line,
            code: self.m.code(id).to_string(),
            known: true,
        });
    }
    fn unknown(&mut self, u: UnknownCode, pos: Position) {
        self.hits.push(Hit {
            offset: pos.offset,
            line: pos.line,
            code: format!("{}.{:04}", self.m.prefix(u.prefix), u.number),
            known: false,
        });
    }
}

//! A naive reference for SPEC section 2, shared by the matcher and search
//! tests. It tries every position of the input against every code and every
//! prefix, straight from the words of the spec: obviously correct, slow.
#![allow(dead_code)]

use std::path::Path;

/// One reported code: offset of its first byte, 1-based line, the code text
/// and whether it is a catalog code (else an unknown code).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    pub offset: u64,
    pub line: u64,
    pub code: String,
    pub known: bool,
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
    for i in 0..input.len() {
        if !boundary_before(i) {
            continue;
        }
        let line = 1 + input[..i].iter().filter(|&&b| b == b'\n').count() as u64;
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

/// The 589 codes of the vendor documents, extracted with grep (see
/// fixtures/matcher/codes.txt).
pub fn catalog_codes() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/matcher/codes.txt");
    std::fs::read_to_string(path)
        .expect("fixtures/matcher/codes.txt")
        .lines()
        .map(str::to_string)
        .collect()
}

use faultline::catalog::CodeId;
use faultline::matcher::{Found, Matcher, UnknownCode};
use faultline::search::{Flow, Position, ResumePoint, Searcher, Sink, StreamTotals};

/// A sink that records hits in the reference's terms.
pub struct Collect<'m> {
    pub m: &'m Matcher,
    pub hits: Vec<Hit>,
}

impl<'m> Collect<'m> {
    pub fn new(m: &'m Matcher) -> Self {
        Collect {
            m,
            hits: Vec::new(),
        }
    }
}

impl Sink for Collect<'_> {
    type Error = std::io::Error;

    fn known(&mut self, id: CodeId, pos: Position) -> std::io::Result<Flow> {
        let code = self.m.code(id).to_string();
        self.hits.push(Hit {
            offset: pos.offset,
            line: pos.line,
            code,
            known: true,
        });
        Ok(Flow::Continue)
    }
    fn unknown(&mut self, u: UnknownCode, pos: Position) -> std::io::Result<Flow> {
        let code = format!("{}.{:04}", self.m.prefix(u.prefix), u.number);
        self.hits.push(Hit {
            offset: pos.offset,
            line: pos.line,
            code,
            known: false,
        });
        Ok(Flow::Continue)
    }
}

/// The matcher on a complete input, lines computed naively.
pub fn via_matcher(m: &Matcher, input: &[u8]) -> Vec<Hit> {
    m.find_all(input)
        .into_iter()
        .map(|(at, f)| Hit {
            offset: at as u64,
            line: 1 + input[..at].iter().filter(|&&b| b == b'\n').count() as u64,
            code: m.render(f),
            known: matches!(f, Found::Known(_)),
        })
        .collect()
}

/// The searcher over a reader that hands out the input in reads of at most
/// `chunk` bytes, with a buffer of `buffer` fresh bytes.
pub fn via_searcher(
    m: &Matcher,
    input: &[u8],
    buffer: usize,
    chunk: usize,
) -> (Vec<Hit>, StreamTotals) {
    let mut s = Searcher::new(buffer);
    let mut sink = Collect::new(m);
    let t = s
        .search_reader(m, Chunked { data: input, chunk }, &mut sink)
        .unwrap();
    (sink.hits, t)
}

/// A reader returning at most `chunk` bytes per read.
pub struct Chunked<'a> {
    pub data: &'a [u8],
    pub chunk: usize,
}

impl std::io::Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.data.len().min(self.chunk).min(buf.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Independent counts: bytes, and LF-terminated lines plus a final
/// unterminated one.
pub fn naive_totals(input: &[u8]) -> StreamTotals {
    let lf = input.iter().filter(|&&b| b == b'\n').count() as u64;
    let last = u64::from(input.last().is_some_and(|&b| b != b'\n'));
    StreamTotals {
        bytes: input.len() as u64,
        lines: lf + last,
    }
}

/// Tail mode: the input arrives in the given pieces; after each piece
/// `read_available` runs, and `finish` at the end. When `restart_after` is
/// set, after that piece the searcher is replaced by a new one resumed from
/// the resume point (the remaining input is re-offered from its offset).
pub fn via_tail(
    m: &Matcher,
    input: &[u8],
    cuts: &[usize],
    buffer: usize,
    restart_after: Option<usize>,
) -> (Vec<Hit>, StreamTotals) {
    let mut s = Searcher::new(buffer);
    let mut sink = Collect::new(m);
    // `written` is how much of the input the "file" holds; `pos` is where
    // our reader stands in it (always `written` after a read).
    let mut pos = 0usize;
    let mut ends: Vec<usize> = cuts.iter().map(|&c| c.min(input.len())).collect();
    ends.sort();
    ends.push(input.len());
    for (i, &written) in ends.iter().enumerate() {
        let got = s
            .read_available(m, &input[pos..written], &mut sink)
            .unwrap();
        pos += got as usize;
        assert_eq!(pos, written);
        if restart_after == Some(i) {
            let p: ResumePoint = s.resume_point();
            let before = s.totals();
            assert!(p.offset <= before.bytes);
            s = Searcher::new(buffer);
            s.resume(p);
            pos = p.offset as usize;
            pos += s
                .read_available(m, &input[pos..written], &mut sink)
                .unwrap() as usize;
            assert_eq!(pos, written);
        }
    }
    let t = s.finish(m, &mut sink).unwrap();
    (sink.hits, t)
}

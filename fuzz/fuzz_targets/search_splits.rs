//! The searcher over a reader that hands the input out in pieces of
//! fuzzer-chosen sizes, with a fuzzer-chosen buffer size: the same hits
//! (offsets, line numbers) and totals as one slice, and as the reference.
#![no_main]

mod reference;

use faultline::matcher::Matcher;
use faultline::search::Searcher;
use libfuzzer_sys::fuzz_target;
use std::io::Read;
use std::sync::LazyLock;

static CODES: LazyLock<Vec<&'static str>> = LazyLock::new(reference::catalog_codes);
static MATCHER: LazyLock<Matcher> =
    LazyLock::new(|| Matcher::new(CODES.iter().copied()).expect("the catalog codes build"));

/// Hands out `data` in pieces whose sizes cycle through `sizes` (1..=256).
struct Pieces<'a> {
    data: &'a [u8],
    sizes: &'a [u8],
    turn: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let size = self.sizes[self.turn % self.sizes.len()] as usize + 1;
        self.turn += 1;
        let n = size.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fuzz_target!(|input: &[u8]| {
    // [buffer size][piece count][piece sizes...][text...]
    let [buffer, count, rest @ ..] = input else {
        return;
    };
    let count = (*count as usize % 16 + 1).min(rest.len());
    let (sizes, text) = rest.split_at(count);
    if sizes.is_empty() {
        return;
    }
    let m = &*MATCHER;
    let searcher = Searcher::new(*buffer as usize % 64 + 1);

    let mut whole = reference::Collect::new(m);
    let whole_totals = searcher.search_slice(m, text, &mut whole);

    let mut streamed = reference::Collect::new(m);
    let mut s = Searcher::new(*buffer as usize % 64 + 1);
    let pieces = Pieces { data: text, sizes, turn: 0 };
    let streamed_totals = s
        .search_reader(m, pieces, &mut streamed)
        .expect("reading from memory cannot fail");

    assert_eq!(streamed.hits, whole.hits, "split hits differ from one slice");
    assert_eq!(streamed_totals, whole_totals, "split totals differ");
    assert_eq!(whole.hits, reference::reference(&CODES, text), "hits differ from the reference");
    let lines = text.iter().filter(|&&b| b == b'\n').count() as u64
        + u64::from(text.last().is_some_and(|&b| b != b'\n'));
    assert_eq!(whole_totals.lines, lines);
    assert_eq!(whole_totals.bytes, text.len() as u64);
});

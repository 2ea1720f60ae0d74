//! The matcher against the naive reference: the same codes at the same
//! offsets, known or unknown, on any bytes.
#![no_main]

mod reference;

use faultline::matcher::{Found, Matcher};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static CODES: LazyLock<Vec<&'static str>> = LazyLock::new(reference::catalog_codes);
static MATCHER: LazyLock<Matcher> =
    LazyLock::new(|| Matcher::new(CODES.iter().copied()).expect("the catalog codes build"));

fuzz_target!(|input: &[u8]| {
    let m = &*MATCHER;
    let got: Vec<(u64, String, bool)> = m
        .find_all(input)
        .into_iter()
        .map(|(at, f)| (at as u64, m.render(f), matches!(f, Found::Known(_))))
        .collect();
    let want: Vec<(u64, String, bool)> = reference::reference(&CODES, input)
        .into_iter()
        .map(|h| (h.offset, h.code, h.known))
        .collect();
    assert_eq!(got, want, "input: {:?}", String::from_utf8_lossy(input));
});

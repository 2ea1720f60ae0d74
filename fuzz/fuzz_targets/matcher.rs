//! The matcher against the naive reference of tests/matcher_reference (the
//! one reference the tests use too): the same codes at the same offsets,
//! known or unknown, on any bytes.
#![no_main]

mod codes;
#[path = "../../tests/matcher_reference/mod.rs"]
mod matcher_reference;

use faultline::matcher::Matcher;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static CODES: LazyLock<Vec<&'static str>> = LazyLock::new(codes::codes);
static MATCHER: LazyLock<Matcher> =
    LazyLock::new(|| Matcher::new(CODES.iter().copied()).expect("the codes build"));

fuzz_target!(|input: &[u8]| {
    let want = matcher_reference::reference(&CODES, input);
    let got = matcher_reference::via_matcher(&MATCHER, input);
    assert_eq!(got, want, "input: {:?}", String::from_utf8_lossy(input));
});

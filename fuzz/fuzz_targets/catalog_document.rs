//! The catalog document parsers (Markdown, reStructuredText, HTML tables)
//! on arbitrary bytes: rows or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let _ = faultline::catalog::source::parse_document("fuzz.md", input);
});

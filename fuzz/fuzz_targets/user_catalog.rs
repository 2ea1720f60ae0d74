//! User catalogs (`--catalog FILE`, JSON) on arbitrary bytes: entries or
//! problems, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|input: &[u8]| {
    let _ = faultline::catalog::user::parse(Path::new("fuzz.json"), input);
});

//! The checkpoint loader on arbitrary bytes: a checkpoint or an error,
//! never a panic; and a checkpoint it accepts saves to text it accepts.
#![no_main]

use faultline::checkpoint::{parse, to_json};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|input: &[u8]| {
    let path = Path::new("state/checkpoint.json");
    if let Ok(c) = parse(path, input) {
        let saved = to_json(&c);
        let again = parse(path, saved.as_bytes()).expect("a saved checkpoint loads");
        assert_eq!(to_json(&again), saved, "load(save(c)) changed it");
    }
});

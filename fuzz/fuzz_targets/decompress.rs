//! The decompression sources on arbitrary bytes: bytes or an error, never
//! a panic or a hang. The first byte picks the stream: as is, or behind a
//! gzip or zstd magic, so that most inputs reach the decoders.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Read;

/// Decompressed bytes looked at, at most: a small bomb must not make a
/// run slow.
const LIMIT: u64 = 16 << 20;

fuzz_target!(|input: &[u8]| {
    let [pick, rest @ ..] = input else {
        return;
    };
    let magic: &[u8] = match pick % 3 {
        0 => &[],
        1 => &[0x1f, 0x8b],
        _ => &[0x28, 0xb5, 0x2f, 0xfd],
    };
    let mut raw = magic.to_vec();
    raw.extend_from_slice(rest);
    let Ok((_, reader)) = faultline::source::decompressed(std::io::Cursor::new(raw), |_| {}) else {
        return;
    };
    let mut sink = std::io::sink();
    let _ = std::io::copy(&mut reader.take(LIMIT), &mut sink);
});

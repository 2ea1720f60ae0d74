//! Inputs on which a fuzz target (fuzz/) once found a panic, replayed
//! through the library on every `cargo test`: each must now give a result
//! or an error. The reproducers live in the fuzz corpus
//! (`fuzz/corpus/<target>/crash-*`), so fuzzing replays them too.

use std::path::PathBuf;

fn reproducers(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut found: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("crash-"))
        })
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    found.sort();
    found
}

/// An RST cell ending in a backquoted span made `rst_role` index past the
/// end of the text (found by the catalog_document target).
#[test]
fn catalog_documents_that_once_panicked_parse_or_fail() {
    let cases = reproducers("catalog_document");
    assert!(!cases.is_empty(), "the reproducers are checked in");
    for (path, bytes) in cases {
        // A panic fails the test; rows or an error are both fine.
        let _ = faultline::catalog::source::parse_document(&path.display().to_string(), &bytes);
    }
}

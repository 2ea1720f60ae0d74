//! Building the catalog from the vendor documents (owned by the catalog-parser work).
//!
//! Contract: `build_from_dir(dir, &CategoryRules) -> Result<Vec<Entry>, BuildError>`.
//! Not implemented yet.

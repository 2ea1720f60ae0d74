//! User catalogs (`--catalog FILE`): parsing, validation and merging.
//! Not implemented yet.

//! Remedy categories decided by rules kept as data (owned by the category work).
//!
//! Contract: `CategoryRules::builtin()` and
//! `CategoryRules::categorize(&self, code, message, &description, &remedy) -> Category`.
//! Not implemented yet.

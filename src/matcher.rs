//! The matcher: finds catalog codes and unknown codes in bytes (owned by the engine work).
//! Not implemented yet.

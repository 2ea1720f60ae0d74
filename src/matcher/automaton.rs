//! One Aho-Corasick automaton of the matcher over some of its texts (the
//! stems and codes, or the dense stem + first digit set), with what the
//! scan needs per automaton pattern: which matcher pattern it stands for
//! and where to resume after a rejected match. Owned apart so that the
//! matcher can hold two and pick one per stretch of text (module docs of
//! [`super`]).

use super::{DFA_MAX_BYTES, MatcherError, is_word_byte};
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// An automaton over some of the matcher's texts and how its pattern ids
/// map back.
#[derive(Clone, Debug)]
pub(super) struct Automaton {
    pub(super) ac: AhoCorasick,
    /// Automaton pattern id -> index in `patterns`, and where to resume
    /// after a rejected match of it.
    pub(super) pattern: Box<[u32]>,
    pub(super) skip: Box<[u32]>,
}

impl Automaton {
    /// Leftmost-longest over `texts`: the longest pattern at the leftmost
    /// start heads the chain of every pattern that matches there (module
    /// docs). The crate picks a DFA (and Teddy) for few patterns by
    /// itself; for many it picks an NFA, many times slower: a DFA is
    /// insisted on unless it is too large.
    pub(super) fn build(texts: &[String], pattern: Vec<u32>) -> Result<Automaton, MatcherError> {
        let build = |kind| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .kind(kind)
                .build(texts)
                .map_err(|e| MatcherError::Automaton(e.to_string()))
        };
        let mut ac = build(Some(AhoCorasickKind::DFA))?;
        if ac.memory_usage() > DFA_MAX_BYTES {
            ac = build(None)?;
        }
        // Where a hit can start next when no candidate at a match is a
        // hit: after the first non-word byte of the matched text, else
        // after it (no hit starts after a word byte).
        let skip = texts
            .iter()
            .map(|t| {
                t.bytes()
                    .position(|c| !is_word_byte(c))
                    .map_or(t.len(), |i| i + 1) as u32
            })
            .collect();
        Ok(Automaton {
            ac,
            pattern: pattern.into_boxed_slice(),
            skip,
        })
    }
}

//! Bounded counts: occurrence counts per key in bounded memory.
//!
//! Unknown codes (SPEC section 2) can be any number of any family's digits:
//! a log can hold millions of distinct ones, and a map of them all would
//! grow without bound (4,000,000 distinct unknown codes once took 484 MB in
//! `scan`). A [`BoundedCounts`] keeps what a report needs in fixed memory:
//!
//! - `total`: every occurrence, exact.
//! - exact counts for up to `capacity` keys: each key that arrives while
//!   there is room is tracked from its first occurrence, so its count is
//!   exact. Frequent keys show up early and are tracked; once the table is
//!   full, a key seen for the first time is *folded*.
//! - `other`: occurrences of folded keys (exact), and `other_keys`, how many
//!   distinct keys were folded: a HyperLogLog estimate (4,096 one-byte
//!   registers, standard error about 1.6 %), since counting them exactly
//!   would need the memory this type exists to save.
//!
//! A key is either tracked or folded within one [`BoundedCounts`]. [`BoundedCounts::merge`]
//! (workers of a parallel scan) adds tracked counts and folds what does not
//! fit; a key tracked by one side and folded by the other keeps its tracked
//! count and its other occurrences stay in `other`.
//!
//! Costs: one hash-map probe per occurrence (no allocation once the table
//! has grown to `capacity`); memory about `capacity × (size of K + 8 +
//! overhead)` plus 4 KiB: 2.5 MiB for 65,536 unknown codes.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

/// Keys tracked exactly by [`BoundedCounts::default`].
pub const DEFAULT_CAPACITY: usize = 65_536;

const HLL_BITS: u32 = 12;
const HLL_REGISTERS: usize = 1 << HLL_BITS;

/// Counts per key, bounded (module docs).
#[derive(Clone, Debug)]
pub struct BoundedCounts<K> {
    counts: HashMap<K, u64>,
    capacity: usize,
    total: u64,
    other: u64,
    /// HyperLogLog registers of the folded keys; empty until one is folded.
    folded: Vec<u8>,
}

impl<K: Hash + Eq + Copy> Default for BoundedCounts<K> {
    fn default() -> Self {
        BoundedCounts::with_capacity(DEFAULT_CAPACITY)
    }
}

impl<K: Hash + Eq + Copy> PartialEq for BoundedCounts<K> {
    fn eq(&self, o: &Self) -> bool {
        self.counts == o.counts
            && self.total == o.total
            && self.other == o.other
            && self.other_keys() == o.other_keys()
    }
}

impl<K: Hash + Eq + Copy> Eq for BoundedCounts<K> {}

/// A fixed hash for the estimate: the same keys give the same estimate in
/// every run (std's `RandomState` would not).
fn hash64<K: Hash>(k: &K) -> u64 {
    std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default().hash_one(k)
}

impl<K: Hash + Eq + Copy> BoundedCounts<K> {
    /// Counts that track up to `capacity` keys exactly.
    pub fn with_capacity(capacity: usize) -> BoundedCounts<K> {
        BoundedCounts {
            counts: HashMap::new(),
            capacity,
            total: 0,
            other: 0,
            folded: Vec::new(),
        }
    }

    /// One occurrence of `key`.
    #[inline]
    pub fn add(&mut self, key: K) {
        self.add_n(key, 1);
    }

    /// `n` occurrences of `key`.
    pub fn add_n(&mut self, key: K, n: u64) {
        self.total += n;
        if let Some(c) = self.counts.get_mut(&key) {
            *c += n;
        } else if self.counts.len() < self.capacity {
            self.counts.insert(key, n);
        } else {
            self.other += n;
            self.fold(hash64(&key));
        }
    }

    fn fold(&mut self, h: u64) {
        if self.folded.is_empty() {
            self.folded = vec![0; HLL_REGISTERS];
        }
        let i = (h >> (64 - HLL_BITS)) as usize;
        let rank = ((h << HLL_BITS) | (1 << (HLL_BITS - 1))).leading_zeros() as u8 + 1;
        self.folded[i] = self.folded[i].max(rank);
    }

    /// Adds `o` into `self`.
    pub fn merge(&mut self, o: &BoundedCounts<K>) {
        for (&k, &n) in &o.counts {
            self.add_n(k, n);
        }
        self.total += o.other;
        self.other += o.other;
        if !o.folded.is_empty() {
            if self.folded.is_empty() {
                self.folded = vec![0; HLL_REGISTERS];
            }
            for (a, b) in self.folded.iter_mut().zip(&o.folded) {
                *a = (*a).max(*b);
            }
        }
    }

    /// Every occurrence.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Occurrences of folded keys.
    pub fn other(&self) -> u64 {
        self.other
    }

    /// Estimated number of distinct folded keys (0 when none was folded).
    pub fn other_keys(&self) -> u64 {
        if self.folded.is_empty() {
            return 0;
        }
        let m = HLL_REGISTERS as f64;
        let zeros = self.folded.iter().filter(|&&r| r == 0).count();
        let sum: f64 = self.folded.iter().map(|&r| 2f64.powi(-(r as i32))).sum();
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let raw = alpha * m * m / sum;
        let est = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln() // linear counting for small sets
        } else {
            raw
        };
        (est.round() as u64).max(1)
    }

    /// The tracked keys and their exact counts, in no order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &u64)> {
        self.counts.iter()
    }

    /// Number of tracked keys.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_tallies_are_exact() {
        let mut t = BoundedCounts::with_capacity(10);
        for k in [1u32, 2, 1, 3, 1] {
            t.add(k);
        }
        let mut v: Vec<(u32, u64)> = t.iter().map(|(&k, &n)| (k, n)).collect();
        v.sort();
        assert_eq!(v, [(1, 3), (2, 1), (3, 1)]);
        assert_eq!((t.total(), t.other(), t.other_keys()), (5, 0, 0));
    }

    #[test]
    fn beyond_capacity_keys_fold_and_totals_stay_exact() {
        let mut t = BoundedCounts::with_capacity(100);
        // Key 0 is frequent and early; then 100,000 distinct keys twice.
        for _ in 0..1000 {
            t.add(0u64);
        }
        for round in 0..2 {
            for k in 1..=100_000u64 {
                t.add(k);
            }
            let _ = round;
        }
        assert_eq!(t.total(), 1000 + 200_000);
        assert_eq!(t.len(), 100);
        assert_eq!(
            t.iter().find(|(k, _)| **k == 0).map(|(_, n)| *n),
            Some(1000)
        );
        // Keys 1..=99 tracked with both occurrences, the rest folded.
        assert!(t.iter().filter(|(k, _)| **k != 0).all(|(_, &n)| n == 2));
        assert_eq!(t.other(), 2 * (100_000 - 99));
        let est = t.other_keys() as f64;
        let truth = (100_000 - 99) as f64;
        assert!((est - truth).abs() / truth < 0.05, "{est} vs {truth}");
    }

    #[test]
    fn small_folded_sets_are_estimated_closely() {
        let mut t = BoundedCounts::with_capacity(0);
        for k in 0..50u32 {
            t.add(k);
            t.add(k);
        }
        assert_eq!(t.other(), 100);
        assert_eq!(t.other_keys(), 50);
    }

    #[test]
    fn merge_adds_and_folds_what_does_not_fit() {
        let (mut a, mut b) = (
            BoundedCounts::with_capacity(3),
            BoundedCounts::with_capacity(3),
        );
        for k in [1u8, 2, 3, 4, 1] {
            a.add(k); // 4 folded
        }
        for k in [1u8, 5, 6, 5] {
            b.add(k);
        }
        a.merge(&b);
        assert_eq!(a.total(), 9);
        let mut v: Vec<(u8, u64)> = a.iter().map(|(&k, &n)| (k, n)).collect();
        v.sort();
        assert_eq!(v, [(1, 3), (2, 1), (3, 1)]);
        // 4 (folded in a), 5 twice and 6 (folded by the merge).
        assert_eq!(a.other(), 4);
        assert_eq!(a.other_keys(), 3);
    }

    #[test]
    fn memory_stays_bounded() {
        let mut t = BoundedCounts::with_capacity(1000);
        for k in 0..1_000_000u64 {
            t.add(k);
        }
        assert_eq!(t.len(), 1000);
        assert!(t.counts.capacity() < 4096, "{}", t.counts.capacity());
        assert_eq!(t.folded.len(), HLL_REGISTERS);
    }
}

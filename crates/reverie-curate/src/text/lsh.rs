//! Locality-sensitive hashing over MinHash signatures: candidate pairs without comparing every
//! pair.
//!
//! A signature is cut into `bands` bands of `rows` minima each; two entries are candidates when
//! they agree on every minimum of at least one band. A pair of similarity `s` agrees on a given
//! band with probability `s^rows`, so it is a candidate with probability
//! `1 − (1 − s^rows)^bands`: an S-curve rising around `(1/bands)^(1/rows)`. [`Lsh::new`] picks
//! the steepest such curve (the most rows, so the fewest chance candidates) under which a pair
//! exactly at the threshold is still a candidate with probability at least [`AT_THRESHOLD`]; pairs
//! above it are found more surely still. For [`SAME_SUBJECT`](super::SAME_SUBJECT) (0.4) that
//! is 42 bands of 3 rows: a pair at 0.4 is a candidate with probability 0.94, at 0.5 with
//! 0.996, at 0.2 with 0.29 and at 0.1 with 0.04.

use super::minhash::{SIGNATURE_SIZE, Signature, splitmix64};

/// The least probability that a pair exactly at the threshold becomes a candidate.
pub const AT_THRESHOLD: f64 = 0.9;

/// Locality-sensitive hashing over signatures: finds candidate pairs whose similarity is likely
/// at least about `threshold` without comparing every pair (a store has ~2,000 memories and
/// tens of thousands of entries). Bands and rows are derived from the threshold.
///
/// Candidates still need verifying (with [`jaccard`](super::jaccard)): some are below the
/// threshold, and a few above it may be missed. Entries with identical signatures all share
/// their buckets, so n copies of one text give n(n−1)/2 pairs.
#[derive(Debug, Clone)]
pub struct Lsh {
    bands: usize,
    rows: usize,
    /// One `(bucket, id)` for each band of each inserted signature; a bucket is a hash of the
    /// band's index and minima.
    keys: Vec<(u64, usize)>,
}

impl Lsh {
    /// An empty index for finding pairs of similarity about `threshold` (clamped to 0..=1).
    pub fn new(threshold: f64) -> Lsh {
        let t = threshold.clamp(0.0, 1.0);
        let rows = (1..=SIGNATURE_SIZE)
            .rev()
            .find(|&rows| candidate_probability(t, SIGNATURE_SIZE / rows, rows) >= AT_THRESHOLD)
            .unwrap_or(1);
        Lsh {
            bands: SIGNATURE_SIZE / rows,
            rows,
            keys: Vec::new(),
        }
    }

    /// The number of bands and rows per band chosen for the threshold.
    pub fn shape(&self) -> (usize, usize) {
        (self.bands, self.rows)
    }

    /// Adds the entry `id` with its signature. Ids are the caller's (indices, usually); an id
    /// inserted twice is never paired with itself.
    pub fn insert(&mut self, id: usize, signature: &Signature) {
        let minima = signature.minima();
        for band in 0..self.bands {
            let mut key = splitmix64(band as u64).1;
            for &m in &minima[band * self.rows..(band + 1) * self.rows] {
                key = splitmix64(key ^ m).1;
            }
            self.keys.push((key, id));
        }
    }

    /// Candidate pairs (a < b), sorted and without repeats.
    /// [`Self::candidates`], with each bucket of more than `cap` members (many near-identical
    /// texts) pairing each member only with the `cap` members after it in id order, so that the
    /// number of pairs stays linear in the number of texts.
    pub fn candidates_capped(&self, cap: usize) -> Vec<(usize, usize)> {
        self.candidates_compacting(cap, COMPACT_FROM)
    }

    fn candidates_compacting(&self, cap: usize, compact_from: usize) -> Vec<(usize, usize)> {
        let mut keys = self.keys.clone();
        keys.sort_unstable();
        let mut pairs = Vec::new();
        // Similar texts share many bands, so most pairs come again and again: the list is
        // compacted whenever it doubles, which keeps it near the distinct pairs' size (a
        // store of 80,000 near-identical generated entries made a dream's peak ~1 GB).
        let mut compacted = compact_from;
        for bucket in keys.chunk_by(|x, y| x.0 == y.0) {
            for (i, &(_, a)) in bucket.iter().enumerate() {
                let end = if bucket.len() > cap {
                    (i + 1 + cap).min(bucket.len())
                } else {
                    bucket.len()
                };
                for &(_, b) in &bucket[i + 1..end] {
                    if a != b {
                        pairs.push((a.min(b), a.max(b)));
                    }
                }
            }
            if pairs.len() >= 2 * compacted {
                pairs.sort_unstable();
                pairs.dedup();
                compacted = pairs.len().max(compact_from);
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        pairs
    }

    pub fn candidates(&self) -> Vec<(usize, usize)> {
        let mut keys = self.keys.clone();
        keys.sort_unstable();
        let mut pairs = Vec::new();
        for bucket in keys.chunk_by(|x, y| x.0 == y.0) {
            for (i, &(_, a)) in bucket.iter().enumerate() {
                for &(_, b) in &bucket[i + 1..] {
                    if a != b {
                        pairs.push((a.min(b), a.max(b)));
                    }
                }
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        pairs
    }
}

/// Candidate pairs listed before the first compaction.
const COMPACT_FROM: usize = 1 << 20;

/// The probability that a pair of similarity `s` agrees on at least one of `bands` bands of
/// `rows` rows, computed with multiplications only so that it is the same on every platform.
fn candidate_probability(s: f64, bands: usize, rows: usize) -> f64 {
    let band = (0..rows).fold(1.0, |p, _| p * s);
    let miss = (0..bands).fold(1.0, |p, _| p * (1.0 - band));
    1.0 - miss
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{SAME_SUBJECT, signature};

    #[test]
    fn shape_follows_the_threshold() {
        fn check(threshold: f64, expected: (usize, usize)) {
            assert_eq!(Lsh::new(threshold).shape(), expected, "{threshold}");
        }
        check(SAME_SUBJECT, (42, 3));
        check(0.5, (42, 3));
        check(0.6, (32, 4));
        check(0.8, (16, 8));
        check(0.0, (128, 1));
        check(-1.0, (128, 1));
        check(1.0, (1, 128));
        check(2.0, (1, 128));
    }

    #[test]
    fn probability_at_the_threshold_is_at_least_the_target() {
        for t in [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] {
            let (bands, rows) = Lsh::new(t).shape();
            let p = candidate_probability(t, bands, rows);
            assert!(p >= AT_THRESHOLD, "{t}: {p}");
            if rows < SIGNATURE_SIZE {
                let steeper = candidate_probability(t, SIGNATURE_SIZE / (rows + 1), rows + 1);
                assert!(
                    steeper < AT_THRESHOLD,
                    "{t}: {rows} rows is not the steepest"
                );
            }
        }
    }

    #[test]
    fn finds_near_duplicates_and_not_strangers() {
        let texts = [
            "The staging database listens on port 5432.",
            "Format Python code with black.",
            "The staging database listens on port 6543.",
            "Deploys go out every Tuesday at 10:00 UTC.",
            "Format Python code with black",
            "",
            "   ",
        ];
        let mut lsh = Lsh::new(SAME_SUBJECT);
        for (id, text) in texts.iter().enumerate() {
            lsh.insert(id, &signature(text));
        }
        assert_eq!(lsh.candidates(), [(0, 2), (1, 4), (5, 6)]);
    }

    /// Compacting the list as it grows gives the same pairs as compacting it once: many
    /// near-identical texts, in capped buckets, compacted after every bucket or never.
    #[test]
    fn compacting_on_the_way_changes_no_pair() {
        let mut lsh = Lsh::new(SAME_SUBJECT);
        for id in 0..300 {
            let text = format!(
                "Run `make check-{}` before pushing to branch {}.",
                id % 40,
                id % 7
            );
            lsh.insert(id, &signature(&text));
        }
        let once = lsh.candidates_compacting(8, usize::MAX / 2);
        assert!(once.len() > 300, "{}", once.len());
        for from in [1, 64, 1000] {
            assert_eq!(lsh.candidates_compacting(8, from), once, "from {from}");
        }
        assert_eq!(lsh.candidates_capped(8), once);
    }

    #[test]
    fn pairs_are_ordered_unique_and_never_self() {
        let mut lsh = Lsh::new(0.5);
        let s = signature("Run cargo fmt before committing");
        for id in [7, 3, 7, 5] {
            lsh.insert(id, &s);
        }
        assert_eq!(lsh.candidates(), [(3, 5), (3, 7), (5, 7)]);
        assert!(Lsh::new(0.5).candidates().is_empty());
    }
}

//! Similarity of entries: shingles, exact Jaccard, MinHash signatures, and [`SAME_SUBJECT`].
//!
//! Two entries are about the same subject when the Jaccard similarity of their shingle sets
//! reaches [`SAME_SUBJECT`]. Computing it for every pair of a store's tens of thousands of
//! entries would be quadratic, so each entry gets a [`Signature`] (MinHash: for each of
//! [`SIGNATURE_SIZE`] fixed permutations of the hash space, the least permuted hash of its
//! shingles), whose equal positions estimate the Jaccard similarity, and
//! [`Lsh`](super::Lsh) finds the pairs whose signatures agree enough to be worth verifying
//! with [`jaccard`].
//!
//! The shingles are the entry's subject words (`subject.rs`), not word n-grams: on the labeled
//! corpus in `tests/data/same_subject.tsv`, word 3-grams (with words and 2-grams for texts of
//! fewer than six words) separate same-subject from different-subject pairs at F1 0.73 at
//! best, plain words at 0.87, subject words at 0.96 (see `minhash/corpus.rs`). Word order
//! is lost, which costs nothing here: two entries with the same words in another order are
//! about the same subject.

#[cfg(test)]
mod corpus;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use super::subject::subject_words;

/// Number of hash functions in a MinHash signature.
pub const SIGNATURE_SIZE: usize = 128;

/// The similarity (exact Jaccard of shingles) at or above which two entries are about the same
/// subject.
///
/// Chosen on the labeled corpus by `minhash::corpus::same_subject_maximizes_f1`: every
/// threshold from 0.38 to 0.42 maximizes F1 there (no pair scores in between), and this is
/// the middle of that plateau, the farthest from both sides' nearest pairs. At it, on 64
/// same-subject and 58 different-subject pairs, precision is 0.97 and recall 0.95 (F1 0.96).
/// (The last 24 pairs were written after a first choice, 0.44, and scored unseen at it:
/// precision 1.00, recall 0.92. With them the plateau narrowed from 0.38–0.50.)
/// What it misses are pairs with few words in common: a changed value that is the whole
/// entry ("editor is VS Code" / "switched their editor to Neovim"), a short entry and its much
/// longer extension; what it confuses are near-twins about different things ("tabs in Go
/// files" / "spaces in Python files").
pub const SAME_SUBJECT: f64 = 0.4;

/// A MinHash signature of a text's shingles, for estimating Jaccard similarity quickly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature([u64; SIGNATURE_SIZE]);

/// The Mersenne prime 2^61 − 1, the modulus of the permutations.
const PRIME: u64 = (1 << 61) - 1;

/// The permutations `h ↦ (a·h + b) mod PRIME`, as `(a, b)` pairs drawn from a splitmix64
/// sequence with a fixed seed, so that signatures are the same on every run and platform.
const PERMUTATIONS: [(u64, u64); SIGNATURE_SIZE] = permutations();

/// Builds [`PERMUTATIONS`] at compile time.
const fn permutations() -> [(u64, u64); SIGNATURE_SIZE] {
    let mut state: u64 = 0x7265_7665_7269_6521; // "reverie!"
    let mut out = [(0, 0); SIGNATURE_SIZE];
    let mut i = 0;
    while i < SIGNATURE_SIZE {
        let a;
        (state, a) = splitmix64(state);
        let b;
        (state, b) = splitmix64(state);
        out[i] = (1 + a % (PRIME - 1), b % PRIME);
        i += 1;
    }
    out
}

/// One step of splitmix64: the next state and its output.
pub(crate) const fn splitmix64(state: u64) -> (u64, u64) {
    let state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (state, z ^ (z >> 31))
}

/// `x mod PRIME` for `x < 2^122`, by the Mersenne identity `2^61 ≡ 1`.
fn mod_prime(x: u128) -> u64 {
    let p = u128::from(PRIME);
    let folded = (x & p) + (x >> 61);
    let folded = (folded & p) + (folded >> 61);
    // Lossless: `folded` is below 2^62 here.
    let r = folded as u64;
    if r >= PRIME { r - PRIME } else { r }
}

/// The shingles of a text: the hashes of its subject words (see the module header), a word
/// being hashed with blake3 of its UTF-8, first 8 bytes little-endian — a fixed,
/// platform-independent hash.
pub fn shingles(text: &str) -> BTreeSet<u64> {
    subject_words(text).iter().map(|w| hash(w)).collect()
}

/// The fixed hash of a shingle.
fn hash(shingle: &str) -> u64 {
    let digest = blake3::hash(shingle.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_bytes()[..8]);
    u64::from_le_bytes(first)
}

/// The signature of `text`. Permutations are fixed (`(a_i * h + b_i) mod (2^61 - 1)` with
/// `a_i`, `b_i` from a splitmix64 sequence with a fixed seed), never random.
///
/// A text without shingles has the signature of all `u64::MAX`, equal only to another such.
pub fn signature(text: &str) -> Signature {
    signature_of(&shingles(text))
}

/// The signature of a text whose [`shingles`] are already at hand.
pub fn signature_of(shingles: &BTreeSet<u64>) -> Signature {
    let mut mins = [u64::MAX; SIGNATURE_SIZE];
    for &h in shingles {
        let h = u128::from(mod_prime(u128::from(h)));
        for (min, &(a, b)) in mins.iter_mut().zip(&PERMUTATIONS) {
            let v = mod_prime(u128::from(a) * h + u128::from(b));
            *min = (*min).min(v);
        }
    }
    Signature(mins)
}

impl Signature {
    /// Estimated Jaccard similarity of the two shingle sets (fraction of equal minima).
    pub fn similarity(&self, other: &Signature) -> f64 {
        let equal = self.0.iter().zip(&other.0).filter(|(a, b)| a == b).count();
        equal as f64 / SIGNATURE_SIZE as f64
    }

    /// The signature's minima, for banding.
    pub(crate) fn minima(&self) -> &[u64; SIGNATURE_SIZE] {
        &self.0
    }
}

/// Exact Jaccard similarity of the two texts' shingle sets (for verifying candidates).
///
/// Two texts without shingles (empty, or only punctuation) are identical: 1.0.
pub fn jaccard(a: &str, b: &str) -> f64 {
    let (a, b) = (shingles(a), shingles(b));
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let common = a.intersection(&b).count();
    common as f64 / (a.len() + b.len() - common) as f64
}

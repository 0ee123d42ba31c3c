//! Okapi BM25 ranking of entries against a query, for memory tests and recall.
//!
//! Scores use `k1 = 1.2`, `b = 0.75` and the non-negative inverse document frequency
//! `idf = ln(1 + (N − n + 0.5) / (n + 0.5))` that Lucene and SQLite FTS5 use, so that a word
//! found in more than half of the documents still counts for, never against, a document.
//! The logarithm is computed here with additions, multiplications and divisions only, so that
//! scores are bit-identical on every platform, whatever its `libm`.

use std::collections::BTreeMap;

use super::tokens::words;

/// Term-frequency saturation.
const K1: f64 = 1.2;
/// Length normalization.
const B: f64 = 0.75;

/// Okapi BM25 (k1 = 1.2, b = 0.75) over documents' `words`, for ranking entries against a
/// query (memory tests and recall use it, so it must be deterministic: ties broken by document
/// index, ascending).
#[derive(Debug, Clone)]
pub struct Bm25 {
    /// For each word, the documents containing it (ascending) and how often.
    postings: BTreeMap<String, Vec<(usize, u32)>>,
    /// Each document's length in words.
    lengths: Vec<u32>,
    /// The mean document length.
    average: f64,
}

impl Bm25 {
    /// An index of `docs`, which are then known by their index in `docs`.
    pub fn new<S: AsRef<str>>(docs: &[S]) -> Bm25 {
        let mut postings: BTreeMap<String, Vec<(usize, u32)>> = BTreeMap::new();
        let mut lengths = Vec::with_capacity(docs.len());
        for (i, doc) in docs.iter().enumerate() {
            let words = words(doc.as_ref());
            lengths.push(u32::try_from(words.len()).unwrap_or(u32::MAX));
            let mut counts: BTreeMap<String, u32> = BTreeMap::new();
            for w in words {
                *counts.entry(w).or_default() += 1;
            }
            for (w, tf) in counts {
                postings.entry(w).or_default().push((i, tf));
            }
        }
        let total: f64 = lengths.iter().map(|&l| f64::from(l)).sum();
        let average = if lengths.is_empty() {
            0.0
        } else {
            total / lengths.len() as f64
        };
        Bm25 {
            postings,
            lengths,
            average,
        }
    }

    /// The best `k` documents for `query` with their scores, best first; only scores > 0.
    ///
    /// A word repeated in the query counts once. Equal scores are ordered by document index.
    pub fn search(&self, query: &str, k: usize) -> Vec<(usize, f64)> {
        let n_docs = self.lengths.len() as f64;
        let mut scores = vec![0.0; self.lengths.len()];
        let query: std::collections::BTreeSet<String> = words(query).into_iter().collect();
        for word in &query {
            let Some(postings) = self.postings.get(word) else {
                continue;
            };
            let n = postings.len() as f64;
            let idf = ln(1.0 + (n_docs - n + 0.5) / (n + 0.5));
            for &(doc, tf) in postings {
                let tf = f64::from(tf);
                let norm = 1.0 - B + B * f64::from(self.lengths[doc]) / self.average;
                scores[doc] += idf * tf * (K1 + 1.0) / (tf + K1 * norm);
            }
        }
        let mut ranked: Vec<(usize, f64)> = scores
            .into_iter()
            .enumerate()
            .filter(|&(_, s)| s > 0.0)
            .collect();
        ranked.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        ranked.truncate(k);
        ranked
    }
}

/// The natural logarithm of a positive, finite `x`, from IEEE-754 basic operations only:
/// `x = m · 2^e` with `m` in [√½, √2), and `ln m = 2 atanh((m − 1)/(m + 1))` by its series.
fn ln(x: f64) -> f64 {
    debug_assert!(x > 0.0 && x.is_finite(), "ln of {x}");
    let bits = x.to_bits();
    // Normal numbers only: every argument here is at least 1.
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & ((1 << 52) - 1)) | (1023 << 52));
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    let z = (m - 1.0) / (m + 1.0);
    let z2 = z * z;
    // |z| < 0.172, so z2^k / (2k+1) is below 2^-53 of the sum after 11 terms.
    let mut term = z;
    let mut sum = 0.0;
    for k in 0..12 {
        sum += term / f64::from(2 * k + 1);
        term *= z2;
    }
    e as f64 * std::f64::consts::LN_2 + 2.0 * sum
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCS: [&str; 6] = [
        "Run cargo fmt before committing.",
        "The staging database listens on port 5432.",
        "Always run `cargo fmt` and `cargo clippy` before you push; cargo fmt is cheap.",
        "Format Python code with black.",
        "",
        "Run cargo fmt before committing.",
    ];

    #[test]
    fn ranks_matching_documents_only_best_first() {
        // Document 2 says "cargo" three times and "fmt" twice: that outweighs its length.
        fn check(query: &str, k: usize, expected: &[usize]) {
            let got: Vec<usize> = Bm25::new(&DOCS)
                .search(query, k)
                .iter()
                .map(|&(d, _)| d)
                .collect();
            assert_eq!(got, expected, "{query:?} k={k}");
        }
        check("cargo fmt", 10, &[2, 0, 5]);
        check("cargo fmt", 2, &[2, 0]);
        check("cargo fmt", 0, &[]);
        check("CARGO clippy", 10, &[2, 0, 5]);
        check("database port", 10, &[1]);
        check("nothing matches", 10, &[]);
        check("", 10, &[]);
        check("fmt", 10, &[0, 5, 2]);
    }

    #[test]
    fn repeated_query_words_count_once() {
        let index = Bm25::new(&DOCS);
        assert_eq!(index.search("fmt fmt FMT", 10), index.search("fmt", 10));
    }

    #[test]
    fn all_query_words_beat_none_and_ties_go_by_index() {
        let docs = ["black python", "rust clippy", "black python", "rust"];
        let ranked = Bm25::new(&docs).search("python black", 10);
        assert_eq!(ranked.iter().map(|&(d, _)| d).collect::<Vec<_>>(), [0, 2]);
        assert_eq!(ranked[0].1, ranked[1].1);
        assert!(ranked[0].1 > 0.0);
    }

    #[test]
    fn scores_follow_the_formula() {
        let docs = ["a b", "a c c", "d"];
        let ranked = Bm25::new(&docs).search("a c", 10);
        // N = 3, average length 2; "a" in 2 documents, "c" in 1.
        let idf_a = (1.0f64 + (3.0 - 2.0 + 0.5) / 2.5).ln();
        let idf_c = (1.0f64 + (3.0 - 1.0 + 0.5) / 1.5).ln();
        let part =
            |idf: f64, tf: f64, len: f64| idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len / 2.0));
        let doc1 = part(idf_a, 1.0, 3.0) + part(idf_c, 2.0, 3.0);
        let doc0 = part(idf_a, 1.0, 2.0);
        assert_eq!(ranked.len(), 2);
        assert_eq!(ranked[0].0, 1);
        assert!(
            (ranked[0].1 - doc1).abs() < 1e-12,
            "{} vs {doc1}",
            ranked[0].1
        );
        assert_eq!(ranked[1].0, 0);
        assert!(
            (ranked[1].1 - doc0).abs() < 1e-12,
            "{} vs {doc0}",
            ranked[1].1
        );
    }

    #[test]
    fn common_words_still_count_and_short_documents_win() {
        // "rust" is in every document: its idf is ln(1 + 0.5/2.5) > 0, never negative.
        let docs = ["rust is a language with a borrow checker", "rust"];
        let ranked = Bm25::new(&docs).search("rust", 10);
        assert_eq!(ranked.iter().map(|&(d, _)| d).collect::<Vec<_>>(), [1, 0]);
        assert!(ranked[1].1 > 0.0);
        assert!(Bm25::new::<&str>(&[]).search("rust", 10).is_empty());
    }

    #[test]
    fn ln_matches_std() {
        for x in [
            1.0,
            1.2,
            1.5,
            std::f64::consts::SQRT_2,
            2.0,
            std::f64::consts::E,
            10.0,
            1234.5,
            1e6,
            7.5e300,
        ] {
            let (ours, std) = (ln(x), x.ln());
            assert!(
                (ours - std).abs() <= 4.0 * f64::EPSILON * std.abs().max(1.0),
                "ln {x}: {ours} vs {std}"
            );
        }
        assert_eq!(ln(1.0), 0.0);
    }
}

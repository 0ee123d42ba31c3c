//! Search: the terms an entry is found by, and how entries rank against a query.
//!
//! One analysis and one ranking serve every place that searches memory — recall on both
//! storage backends, the memory tests a dream runs, `reverie context` and the LoCoMo baselines —
//! so that a query ranks the same entries the same way wherever it runs.
//!
//! - [`words`]: maximal runs of alphanumerics and `_`, lowercased (so `serde_json` and
//!   `DATABASE_URL` stay one word).
//! - [`terms`]: the words without English stopwords, purely alphabetic ASCII words reduced to
//!   their Snowball (Porter 2) stem, so that "painted", "painting" and "paints" meet. Numbers
//!   and identifiers are kept as they are.
//! - [`fts_token`]: a term as the full-text engines store it. SQLite FTS5 and PostgreSQL's
//!   text search each have their own idea of a word; a token made only of `[a-z0-9]` is a
//!   word to both, so every term is stored as one (others are replaced by a digest). The
//!   engines only find candidates: the score is computed here, from the terms themselves.
//! - [`Bm25`]: Okapi BM25 over documents' terms, and [`score`] for one document given the
//!   corpus statistics, with a logarithm computed from basic operations so that scores are
//!   bit-identical on every platform.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::curation::EntryMeta;
use crate::error::{Error, Result};
use crate::id::{IdKind, check_id};
use crate::timestamp::Timestamp;

/// Term-frequency saturation.
pub const K1: f64 = 1.2;
/// Length normalization.
pub const B: f64 = 0.75;

/// Lowercased words: maximal runs of Unicode alphanumerics and `_`.
///
/// `_` counts as a word character because code identifiers are the most load-bearing words of
/// a coding agent's notes, and splitting `DATABASE_URL` would make it match any "database" or
/// "url".
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (is_word_char(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(text[s..i].to_lowercase());
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(text[s..].to_lowercase());
    }
    out
}

/// Whether `c` belongs to a word (see [`words`]).
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// English function words: they say nothing about what an entry is about, and would make
/// nearly every entry a candidate for every question. The list is the common one of NLTK and
/// Lucene, with the pieces our word splitting leaves of contractions (`don` + `t`, `i` + `m`).
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "ain",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "aren",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "couldn",
    "d",
    "did",
    "didn",
    "do",
    "does",
    "doesn",
    "doing",
    "don",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "hadn",
    "has",
    "hasn",
    "have",
    "haven",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "isn",
    "it",
    "its",
    "itself",
    "just",
    "ll",
    "m",
    "ma",
    "me",
    "mightn",
    "more",
    "most",
    "mustn",
    "my",
    "myself",
    "needn",
    "no",
    "nor",
    "not",
    "now",
    "o",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "re",
    "s",
    "same",
    "shan",
    "she",
    "should",
    "shouldn",
    "so",
    "some",
    "such",
    "t",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "ve",
    "very",
    "was",
    "wasn",
    "we",
    "were",
    "weren",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "won",
    "wouldn",
    "y",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

/// Whether `word` (lowercased) is an English stopword.
pub fn is_stopword(word: &str) -> bool {
    STOPWORDS.binary_search(&word).is_ok()
}

fn stemmer() -> &'static rust_stemmers::Stemmer {
    static STEMMER: OnceLock<rust_stemmers::Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English))
}

/// The term a word is searched by: its stem for a purely alphabetic ASCII word, the word
/// itself otherwise (numbers, identifiers, other scripts).
fn term_of(word: &str) -> String {
    if word.bytes().all(|b| b.is_ascii_lowercase()) {
        stemmer().stem(word).into_owned()
    } else {
        word.to_string()
    }
}

/// The terms of `text`, in order, repeats kept: its [`words`] without stopwords, stemmed.
pub fn terms(text: &str) -> Vec<String> {
    words(text)
        .into_iter()
        .filter(|w| !is_stopword(w))
        .map(|w| term_of(&w))
        .collect()
}

/// The distinct terms of a query, sorted.
pub fn query_terms(text: &str) -> Vec<String> {
    let set: BTreeSet<String> = terms(text).into_iter().collect();
    set.into_iter().collect()
}

/// The text an entry is found by: the headings above it, then its body. Headings count
/// because an entry often means something only under them (`- port 5432` under
/// `## Staging database`).
pub fn document(section: &[String], body: &str) -> String {
    let mut doc = String::with_capacity(body.len() + 32 * section.len());
    for h in section {
        doc.push_str(h);
        doc.push('\n');
    }
    doc.push_str(body);
    doc
}

/// Longest term stored as itself in the full-text index.
const MAX_PLAIN_TOKEN: usize = 64;

/// A term as the full-text engines store it: itself when it is made only of `[a-z0-9]` (and
/// not too long), otherwise `x` and 16 hex digits of its SHA-256. Both engines see such a token
/// as exactly one word, so they find the same candidates; a collision can only add a candidate,
/// never change a score, since scores are computed from the terms.
pub fn fts_token(term: &str) -> String {
    if !term.is_empty()
        && term.len() <= MAX_PLAIN_TOKEN
        && term
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        term.to_string()
    } else {
        let digest = Sha256::digest(term.as_bytes());
        format!("x{}", hex::encode(&digest[..8]))
    }
}

/// The full-text tokens of a document's terms, space-separated, as stored in the index.
pub fn fts_tokens(terms: &[String]) -> String {
    let mut out = String::new();
    for t in terms {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&fts_token(t));
    }
    out
}

/// What BM25 needs to know of the whole corpus.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CorpusStats {
    /// Documents in the corpus.
    pub docs: u64,
    /// Their mean length in terms.
    pub average_len: f64,
}

/// The inverse document frequency of a term found in `df` of `stats.docs` documents: the
/// non-negative form Lucene and SQLite FTS5 use, `ln(1 + (N − n + 0.5) / (n + 0.5))`, so that a
/// term in more than half of the documents still counts for, never against, a document.
pub fn idf(df: u64, stats: &CorpusStats) -> f64 {
    let (n_docs, n) = (stats.docs as f64, df as f64);
    ln(1.0 + (n_docs - n + 0.5).max(0.0) / (n + 0.5))
}

/// The BM25 (k1 = 1.2, b = 0.75) score of one document: `tf` holds how often each query term
/// occurs in it (terms it lacks may be absent), `len` its length in terms, `df` in how many
/// documents of the corpus each query term occurs. Query terms are summed in sorted order, so
/// that the floating-point sum is the same everywhere.
pub fn score(
    query: &[String],
    tf: &BTreeMap<&str, u32>,
    len: u32,
    df: &BTreeMap<&str, u64>,
    stats: &CorpusStats,
) -> f64 {
    let mut sorted: Vec<&str> = query.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let tfs: Vec<u32> = sorted
        .iter()
        .map(|q| tf.get(q).copied().unwrap_or(0))
        .collect();
    let idfs: Vec<f64> = sorted
        .iter()
        .map(|q| idf(df.get(q).copied().unwrap_or(1).max(1), stats))
        .collect();
    score_aligned(&tfs, &idfs, len, stats)
}

/// [`score`] with the query's terms already sorted and deduplicated: `tfs[i]` is the frequency
/// in the document of the `i`-th term and `idfs[i]` its [`idf`] (of a document frequency of at
/// least 1). An index that keeps its own postings scores through this, computing each term's
/// idf once per query, so that its sums are [`score`]'s, bit for bit.
pub fn score_aligned(tfs: &[u32], idfs: &[f64], len: u32, stats: &CorpusStats) -> f64 {
    let norm = if stats.average_len > 0.0 {
        1.0 - B + B * f64::from(len) / stats.average_len
    } else {
        1.0
    };
    let mut total = 0.0;
    for (&f, &w) in tfs.iter().zip(idfs) {
        if f == 0 {
            continue;
        }
        let f = f64::from(f);
        total += w * f * (K1 + 1.0) / (f + K1 * norm);
    }
    total
}

/// How often each term occurs in `terms`.
pub fn term_frequencies(terms: &[String]) -> BTreeMap<&str, u32> {
    let mut tf = BTreeMap::new();
    for t in terms {
        *tf.entry(t.as_str()).or_insert(0) += 1;
    }
    tf
}

/// An in-memory BM25 index over documents, by their [`terms`]: the ranking recall uses, for
/// memory tests and benchmarks that search text that is not in a store. Terms are keyed by
/// their [`fts_token`], as the stores key them, so that both sum the same terms in the same
/// order and give the same bits.
#[derive(Debug, Clone)]
pub struct Bm25 {
    /// For each term, the documents containing it (ascending) and how often.
    postings: BTreeMap<String, Vec<(usize, u32)>>,
    /// Each document's length in terms.
    lengths: Vec<u32>,
    stats: CorpusStats,
}

impl Bm25 {
    /// An index of `docs`, which are then known by their index in `docs`.
    pub fn new<S: AsRef<str>>(docs: &[S]) -> Bm25 {
        Bm25::from_terms(docs.iter().map(|d| terms(d.as_ref())))
    }

    /// An index of documents given by their terms.
    pub fn from_terms<I: IntoIterator<Item = Vec<String>>>(docs: I) -> Bm25 {
        let mut postings: BTreeMap<String, Vec<(usize, u32)>> = BTreeMap::new();
        let mut lengths = Vec::new();
        for (i, doc) in docs.into_iter().enumerate() {
            lengths.push(u32::try_from(doc.len()).unwrap_or(u32::MAX));
            let mut counts: BTreeMap<String, u32> = BTreeMap::new();
            for t in doc {
                *counts.entry(fts_token(&t)).or_default() += 1;
            }
            for (t, tf) in counts {
                postings.entry(t).or_default().push((i, tf));
            }
        }
        let total: f64 = lengths.iter().map(|&l| f64::from(l)).sum();
        let average_len = if lengths.is_empty() {
            0.0
        } else {
            total / lengths.len() as f64
        };
        let stats = CorpusStats {
            docs: lengths.len() as u64,
            average_len,
        };
        Bm25 {
            postings,
            lengths,
            stats,
        }
    }

    /// The number of documents.
    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    /// Whether the index holds no document.
    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    /// The best `k` documents for `query` with their scores, best first; only scores > 0.
    /// A term repeated in the query counts once; equal scores are ordered by document index.
    pub fn search(&self, query: &str, k: usize) -> Vec<(usize, f64)> {
        let query: BTreeSet<String> = query_terms(query).iter().map(|t| fts_token(t)).collect();
        let mut scores: BTreeMap<usize, f64> = BTreeMap::new();
        // Summed term by term in sorted order, as `score` does, so both give equal bits.
        for q in &query {
            let Some(postings) = self.postings.get(q) else {
                continue;
            };
            let w = idf(postings.len() as u64, &self.stats);
            for &(doc, tf) in postings {
                let norm = 1.0 - B + B * f64::from(self.lengths[doc]) / self.stats.average_len;
                let f = f64::from(tf);
                *scores.entry(doc).or_insert(0.0) += w * f * (K1 + 1.0) / (f + K1 * norm);
            }
        }
        let mut ranked: Vec<(usize, f64)> = scores.into_iter().filter(|&(_, s)| s > 0.0).collect();
        ranked.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        ranked.truncate(k);
        ranked
    }
}

/// A recall's `since`: a date (`YYYY-MM-DD`, midnight UTC) or an RFC 3339 time.
pub fn parse_since(value: Option<&str>) -> Result<Option<crate::Timestamp>> {
    value
        .map(|s| {
            crate::Timestamp::parse(s).ok_or_else(|| {
                Error::invalid(
                    "since",
                    format!("{s:?} is not a date (YYYY-MM-DD) or an RFC 3339 time"),
                )
            })
        })
        .transpose()
}

/// Results a recall returns unless asked otherwise.
pub const DEFAULT_RECALL_LIMIT: usize = 10;
/// Most results one recall returns.
pub const MAX_RECALL_LIMIT: usize = 100;
/// Longest query, in bytes.
pub const MAX_QUERY_BYTES: usize = 16 * 1024;

/// How an entry reached an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Recall,
    Context,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Recall => "recall",
            Via::Context => "context",
        }
    }
}

/// A search of a store's entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecallQuery {
    pub query: String,
    /// At most this many results, 1 to [`MAX_RECALL_LIMIT`].
    pub limit: usize,
    /// Only entries of memories under this path prefix (`/projects/`).
    pub path_prefix: Option<String>,
    /// Only entries whose text changed at or after this time.
    pub since: Option<Timestamp>,
    /// Serve the results: bump their `served` counters and record the serving, in
    /// `session_id` when given. Without it, recall only looks.
    pub serve: Option<Via>,
    pub session_id: Option<String>,
}

impl RecallQuery {
    /// A query that only looks, with the default limit.
    pub fn new(query: impl Into<String>) -> RecallQuery {
        RecallQuery {
            query: query.into(),
            limit: DEFAULT_RECALL_LIMIT,
            path_prefix: None,
            since: None,
            serve: None,
            session_id: None,
        }
    }

    /// Checks every field; the error names the first wrong one.
    pub fn validate(&self) -> Result<()> {
        if self.query.trim().is_empty() {
            return Err(Error::invalid("query", "must not be empty"));
        }
        if self.query.len() > MAX_QUERY_BYTES {
            return Err(Error::invalid(
                "query",
                format!(
                    "is {} bytes, over the {MAX_QUERY_BYTES} allowed",
                    self.query.len()
                ),
            ));
        }
        if self.limit == 0 || self.limit > MAX_RECALL_LIMIT {
            return Err(Error::invalid(
                "limit",
                format!(
                    "must be between 1 and {MAX_RECALL_LIMIT}, got {}",
                    self.limit
                ),
            ));
        }
        if let Some(p) = &self.path_prefix {
            crate::path::validate_prefix(p)?;
        }
        if let Some(s) = &self.session_id {
            check_id(IdKind::Session, s)?;
            if self.serve.is_none() {
                return Err(Error::invalid(
                    "session_id",
                    "names the session the results are served in, so it needs serving",
                ));
            }
        }
        Ok(())
    }
}

/// One entry a recall found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recalled {
    /// Its BM25 score against the query.
    pub score: f64,
    pub memory_id: String,
    pub path: String,
    /// The headings above it, outermost first.
    pub section: Vec<String>,
    /// Its text, without its list marker.
    pub text: String,
    /// When its text last changed.
    pub updated_at: Timestamp,
    /// What curation knows of it (provenance, counters, kind), when a dream has seen it or it
    /// was served before.
    pub entry: Option<EntryMeta>,
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

    #[test]
    fn stopwords_are_sorted_for_binary_search() {
        let mut sorted = STOPWORDS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, STOPWORDS);
    }

    #[test]
    fn terms_drop_stopwords_and_stem_words_only() {
        assert_eq!(
            terms("I painted the lake sunrise; she's painting again"),
            ["paint", "lake", "sunris", "paint"]
        );
        // Identifiers, numbers and other scripts are kept whole.
        assert_eq!(
            terms("Set DATABASE_URL to port 5432 in café.rs, not 東京"),
            ["set", "database_url", "port", "5432", "café", "rs", "東京"]
        );
        assert_eq!(terms("don't"), Vec::<String>::new());
        assert_eq!(query_terms("paint painting PAINTS"), ["paint"]);
    }

    #[test]
    fn fts_tokens_are_plain_words_to_every_engine() {
        assert_eq!(fts_token("paint"), "paint");
        assert_eq!(fts_token("5432"), "5432");
        for odd in ["database_url", "café", "東京", &"a".repeat(65)] {
            let t = fts_token(odd);
            assert_eq!(t.len(), 17, "{odd}");
            assert!(t.starts_with('x'));
            assert!(
                t.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            );
        }
        assert_ne!(fts_token("café"), fts_token("cafe"));
        assert_eq!(
            fts_tokens(&terms("the DATABASE_URL port")),
            format!("{} port", fts_token("database_url"))
        );
    }

    const DOCS: [&str; 6] = [
        "Run cargo fmt before committing.",
        "The staging database listens on port 5432.",
        "Always run `cargo fmt` and `cargo clippy` before you push; cargo fmt is cheap.",
        "Format Python code with black.",
        "",
        "Run cargo fmt before committing.",
    ];

    fn ranked(query: &str, k: usize) -> Vec<usize> {
        Bm25::new(&DOCS)
            .search(query, k)
            .iter()
            .map(|&(d, _)| d)
            .collect()
    }

    #[test]
    fn ranks_matching_documents_only_best_first() {
        // Document 2 says "cargo" three times and "fmt" twice: that outweighs its length.
        assert_eq!(ranked("cargo fmt", 10), [2, 0, 5]);
        assert_eq!(ranked("cargo fmt", 2), [2, 0]);
        assert_eq!(ranked("cargo fmt", 0), Vec::<usize>::new());
        assert_eq!(ranked("CARGO clippy", 10), [2, 0, 5]);
        assert_eq!(ranked("database ports", 10), [1]);
        assert_eq!(ranked("nothing matches", 10), Vec::<usize>::new());
        assert_eq!(ranked("the and of", 10), Vec::<usize>::new());
        assert_eq!(ranked("", 10), Vec::<usize>::new());
        assert_eq!(ranked("fmt", 10), [0, 5, 2]);
    }

    #[test]
    fn scores_follow_the_formula_and_agree_with_the_index() {
        let docs = ["alpha beta", "alpha gamma gamma", "delta"];
        let index = Bm25::new(&docs);
        let got = index.search("alpha gamma", 10);
        // N = 3, average length 2; "alpha" in 2 documents, "gamma" in 1.
        let idf_a = (1.0f64 + (3.0 - 2.0 + 0.5) / 2.5).ln();
        let idf_c = (1.0f64 + (3.0 - 1.0 + 0.5) / 1.5).ln();
        let part =
            |idf: f64, tf: f64, len: f64| idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len / 2.0));
        let doc1 = part(idf_a, 1.0, 3.0) + part(idf_c, 2.0, 3.0);
        let doc0 = part(idf_a, 1.0, 2.0);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, 1);
        assert!((got[0].1 - doc1).abs() < 1e-12, "{} vs {doc1}", got[0].1);
        assert_eq!(got[1].0, 0);
        assert!((got[1].1 - doc0).abs() < 1e-12, "{} vs {doc0}", got[1].1);

        // `score`, as the stores use it, gives the very same bits.
        let stats = CorpusStats {
            docs: 3,
            average_len: 2.0,
        };
        let query = query_terms("alpha gamma");
        let doc_terms = terms(docs[1]);
        let df = BTreeMap::from([("alpha", 2u64), ("gamma", 1u64)]);
        let s = score(&query, &term_frequencies(&doc_terms), 3, &df, &stats);
        assert_eq!(s.to_bits(), got[0].1.to_bits());
    }

    #[test]
    fn common_terms_still_count_and_short_documents_win() {
        let docs = ["rust language borrow checker", "rust"];
        let got = Bm25::new(&docs).search("rust", 10);
        assert_eq!(got.iter().map(|&(d, _)| d).collect::<Vec<_>>(), [1, 0]);
        assert!(got[1].1 > 0.0);
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

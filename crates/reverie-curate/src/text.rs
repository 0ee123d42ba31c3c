//! Text utilities for curation: the pure functions that decide what is a word, when two
//! entries are duplicates or about the same subject, what a rewrite must keep, and how entries
//! rank against a query.
//!
//! Every function here is a pure function of its arguments — no I/O, no clock, no randomness,
//! no process-seeded hashing — so a dream gives byte-identical output on every run and platform.
//!
//! - [`tokens`]: [`words`] (for similarity and search) and [`normalize`] (for exact duplicates).
//! - [`details`](mod@details): the load-bearing details of a text (numbers, identifiers,
//!   paths, URLs, code, quotations, glossary terms) that the guard checks every rewrite and
//!   merge against.
//! - [`minhash`]: shingles (subject words, `subject.rs`), MinHash signatures, exact Jaccard,
//!   and the [`SAME_SUBJECT`] threshold chosen on a labeled corpus; [`lsh`]: candidate pairs
//!   of similar signatures without comparing every pair.
//!
//! Ranking against a query is `reverie_core::search`, shared with recall.

pub mod details;
pub mod lsh;
pub mod minhash;
mod subject;
pub mod tokens;

pub use details::{Detail, DetailKind, details};
pub use lsh::Lsh;
pub use minhash::{
    SAME_SUBJECT, SIGNATURE_SIZE, Signature, jaccard, shingles, signature, signature_of,
};
pub use tokens::{normalize, words};

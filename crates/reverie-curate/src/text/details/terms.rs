//! Glossary terms in a text, matched as whole words, case-insensitively.
//!
//! A text and each term are cut into units — words (as [`words`](crate::text::words) sees
//! them, lowercased) and single other characters — and a term occurs where its units occur in
//! a row with the same spacing between them. So "Memory  Store" matches the term "memory
//! store", "C++" matches "c++", and "dream" does not match "dreams" or "daydream".

use std::collections::BTreeSet;

use super::{Detail, DetailKind, add};
use crate::text::tokens::is_word_char;

/// A word or a single non-space character, and whether whitespace precedes it.
#[derive(Debug, PartialEq, Eq)]
struct Unit {
    text: String,
    spaced: bool,
}

/// Adds a `Term` detail, spelled as in `terms`, for each term occurring in `text`.
pub(super) fn find(text: &str, terms: &[&str], out: &mut BTreeSet<Detail>) {
    if terms.is_empty() {
        return;
    }
    let found_units = units(text);
    for term in terms {
        let wanted = units(term);
        let Some(first) = wanted.first() else {
            continue;
        };
        let found = found_units.windows(wanted.len()).any(|w| {
            w[0].text == first.text
                && w[1..]
                    .iter()
                    .zip(&wanted[1..])
                    .all(|(u, t)| u.text == t.text && u.spaced == t.spaced)
        });
        if found {
            add(out, DetailKind::Term, term.trim());
        }
    }
}

/// The units of `text` (see the module header).
fn units(text: &str) -> Vec<Unit> {
    fn push(out: &mut Vec<Unit>, s: &str, spaced: &mut bool) {
        out.push(Unit {
            text: s.to_lowercase(),
            spaced: std::mem::take(spaced),
        });
    }
    let mut out = Vec::new();
    let mut spaced = false;
    let mut word: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if is_word_char(c) {
            word.get_or_insert(i);
            continue;
        }
        if let Some(s) = word.take() {
            push(&mut out, &text[s..i], &mut spaced);
        }
        if c.is_whitespace() {
            spaced = true;
        } else {
            push(&mut out, &text[i..i + c.len_utf8()], &mut spaced);
        }
    }
    if let Some(s) = word {
        push(&mut out, &text[s..], &mut spaced);
    }
    out
}

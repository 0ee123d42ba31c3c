//! Glossary definitions said in the conversation (by the user or the assistant): "by 'X' we
//! mean Y", "X is short for Y", "X stands for Y", "'X' means Y", "a 'X' is Y", "we call Y
//! 'X'", "X (short for Y)". The entry is `**X**: Y.` in `/glossary.md`.
//!
//! A term is a short phrase in quotes, or a single code-like or upper-case word (`TLH`) where
//! the pattern has no quotes; pronouns and the like are never terms.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;
use reverie_core::curation::EntryKind;

use super::junk::is_persona;
use super::util::{Ctx, GLOSSARY, collapse};
use crate::candidate::Candidate;
use crate::text;

/// How a definition pattern names its parts.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// Term in group 1, definition in group 2.
    TermFirst,
    /// Definition in group 1, term in group 2 ("we call Y 'X'").
    DefinitionFirst,
    /// Term in group 1, definition in group 2, said as an abbreviation ("short for").
    Abbreviation,
}

const OPEN: &str = r#"["'“‘]"#;
const CLOSE: &str = r#"["'”’]"#;
const QUOTED: &str = r#"([^"'“”‘’`\n]{1,40})"#;
/// A single code-like or capitalized word.
const WORD: &str = r"([A-Za-z][\w.+-]{0,30})";

static PATTERNS: LazyLock<Vec<(Regex, Shape)>> = LazyLock::new(|| {
    let p = |re: String, shape| (Regex::new(&re).expect("a valid regex"), shape);
    vec![
        // by "golden files" we mean …
        p(
            format!(r"(?i)\bby\s+{OPEN}{QUOTED}{CLOSE}\s*,?\s+(?:we|i)\s+mean\s+(.+)"),
            Shape::TermFirst,
        ),
        // by golden files we mean …
        p(
            r"(?i)\bby\s+([A-Za-z][\w-]*(?:\s+[A-Za-z][\w-]*){0,2})\s*,?\s+(?:we|i)\s+mean\s+(.+)"
                .to_string(),
            Shape::TermFirst,
        ),
        // TLH is short for … / "TLH" stands for …
        p(
            format!(
                r#"(?:^|[\s(—–:;,])["'“‘`]?{WORD}["'”’`]?\s+(?:is\s+)?(?:short\s+for|stands\s+for|is\s+an?\s+abbreviation\s+(?:of|for))\s+(.+)"#
            ),
            Shape::Abbreviation,
        ),
        // "X" means …
        p(
            format!(r"(?:^|[\s(—–:;,]){OPEN}{QUOTED}{CLOSE}\s+means\s+(.+)"),
            Shape::TermFirst,
        ),
        // TLH means …
        p(
            r"(?:^|[\s(—–:;,])([A-Z][A-Z0-9]{1,9})\s+means\s+(.+)".to_string(),
            Shape::TermFirst,
        ),
        // a "tally" is …
        p(
            format!(r#"(?i)^(?:an?|the\s+term|the\s+word)\s+{OPEN}{QUOTED}{CLOSE}\s+is\s+(.+)"#),
            Shape::TermFirst,
        ),
        // we call the snapshot fixtures "golden files"
        p(
            format!(r"(?i)\bwe\s+call\s+(.{{3,80}}?)\s+{OPEN}{QUOTED}{CLOSE}"),
            Shape::DefinitionFirst,
        ),
        // TLH (short for tallyho)
        p(
            format!(
                r"(?:^|\s)[`]?{WORD}[`]?\s+\((?:short\s+for|aka|a\.k\.a\.|stands\s+for)\s+([^)]{{2,80}})\)"
            ),
            Shape::Abbreviation,
        ),
    ]
});

/// Words that are never a term.
const NOT_TERMS: &[&str] = &[
    "anything",
    "default",
    "everything",
    "he",
    "here",
    "i",
    "it",
    "nothing",
    "one",
    "she",
    "something",
    "that",
    "there",
    "these",
    "they",
    "this",
    "those",
    "we",
    "what",
    "which",
    "who",
    "you",
];

/// The `**term**: definition.` of a sentence that defines a term.
pub(crate) fn definition(sentence: &str) -> Option<String> {
    if is_persona(sentence) || sentence.trim_end().ends_with('?') || sentence.contains("[REDACTED")
    {
        return None;
    }
    for (re, shape) in PATTERNS.iter() {
        let Some(c) = re.captures(sentence) else {
            continue;
        };
        let (a, b) = (c.get(1)?.as_str(), c.get(2)?.as_str());
        let (term, def) = match shape {
            Shape::TermFirst | Shape::Abbreviation => (a, b),
            Shape::DefinitionFirst => (b, a),
        };
        let term = term.trim();
        if !is_term(term, matches!(shape, Shape::Abbreviation)) {
            continue;
        }
        let def = clean_definition(def);
        let n = text::words(&def).len();
        if n == 0 || n > 40 || NOT_TERMS.contains(&def.to_lowercase().as_str()) {
            continue;
        }
        let def = match shape {
            Shape::Abbreviation => format!("short for {def}"),
            _ => def,
        };
        return Some(format!("**{term}**: {def}."));
    }
    None
}

/// Whether `term` can be a glossary term; an abbreviation must look like one (two capitals,
/// or a code-like word).
fn is_term(term: &str, abbreviation: bool) -> bool {
    let words = text::words(term);
    if words.is_empty() || words.len() > 4 || term.len() > 40 {
        return false;
    }
    if NOT_TERMS.contains(&term.to_lowercase().as_str()) {
        return false;
    }
    if abbreviation {
        let capitals = term.chars().filter(char::is_ascii_uppercase).count();
        return capitals >= 2 || term.contains(['_', '.', '-']);
    }
    true
}

/// A definition cut to a phrase: whitespace collapsed, trailing punctuation off.
fn clean_definition(def: &str) -> String {
    collapse(def)
        .trim_end_matches(|c: char| {
            c.is_whitespace() || matches!(c, '.' | ',' | ';' | ':' | '!' | '—' | '–')
        })
        .to_string()
}

/// Definitions in the session's turns; their sentences are added to `claimed`.
pub(crate) fn extract(ctx: &Ctx, claimed: &mut BTreeSet<(usize, usize)>) -> Vec<Candidate> {
    let mut out = Vec::new();
    for (t, turn) in ctx.turns.iter().enumerate() {
        for (k, s) in turn.sentences.iter().enumerate() {
            let Some(text) = definition(s) else {
                continue;
            };
            claimed.insert((t, k));
            out.push(ctx.candidate(
                EntryKind::Glossary,
                text,
                GLOSSARY,
                Vec::new(),
                &[(turn.event, turn.text.clone())],
                "a definition",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "Test it against golden files — by \"golden files\" we mean the snapshot fixtures in `tests/golden/`; `common::assert_golden` compares against them.",
                Some(
                    "**golden files**: the snapshot fixtures in `tests/golden/`; `common::assert_golden` compares against them.",
                ),
            ),
            (
                "the API base url has to come from VITE_TLH_API_BASE — TLH is short for tallyho, all our env vars use the TLH prefix.",
                Some("**TLH**: short for tallyho, all our env vars use the TLH prefix."),
            ),
            (
                "A \"tally\" is one counted event row in the `tallies` table: which counter, an amount (default 1) and when it was recorded.",
                Some(
                    "**tally**: one counted event row in the `tallies` table: which counter, an amount (default 1) and when it was recorded.",
                ),
            ),
            (
                "SLO stands for service level objective.",
                Some("**SLO**: short for service level objective."),
            ),
            (
                "\"hot path\" means the request handlers",
                Some("**hot path**: the request handlers."),
            ),
            (
                "we call the nightly batch \"the sweep\"",
                Some("**the sweep**: the nightly batch."),
            ),
            (
                "Deploys go through the DPL (short for deploy pipeline lane).",
                Some("**DPL**: short for deploy pipeline lane."),
            ),
            ("This means that the test will fail.", None),
            ("It stands for something else.", None),
            ("which means the cache is cold", None),
            ("what does \"tally\" mean?", None),
            ("`-n` means line numbers", None),
        ];
        for (s, want) in cases {
            assert_eq!(definition(s).as_deref(), *want, "{s:?}");
        }
    }

    #[test]
    fn definitions_in_a_session() {
        use super::super::util::build::*;
        use reverie_core::session::EventKind;
        let s = session(
            "s",
            vec![
                user("TLH is short for tallyho. Add the page."),
                assistant("Sure — \"hot path\" means the request handlers, so I kept it lean."),
                sidechain(user("TMP is short for temporary.")),
                of(EventKind::Summary, "GF is short for golden files."),
            ],
        );
        let mut claimed = BTreeSet::new();
        let got: Vec<String> = extract(&Ctx::new(&s), &mut claimed)
            .into_iter()
            .map(|c| {
                assert_eq!(
                    (c.kind, c.path.as_str(), c.section.len()),
                    (EntryKind::Glossary, GLOSSARY, 0)
                );
                c.text
            })
            .collect();
        assert_eq!(
            got,
            [
                "**TLH**: short for tallyho.",
                "**hot path**: the request handlers, so I kept it lean."
            ]
        );
        assert_eq!(claimed.len(), 2);
    }
}

//! Load-bearing details: what a rewrite or merge of an entry must keep.
//!
//! The guard rejects a rewrite that drops a number, an identifier, a path, a URL, a command, a
//! quotation or a glossary term of its sources (product.md, guarantee 4). This module says
//! what those are, by these rules:
//!
//! | Kind | Is | Is not |
//! |------|----|--------|
//! | `Url` | `scheme://…` (`https`, `postgres`, `redis`, `ssh`, `file`, `git+ssh`…) up to whitespace, `<>"'`, `` ` ``, `]`, `}`, a curly quote, or a `)` that closes nothing in it; then trailing `.,;:!?` stripped | `scheme://` with nothing after it |
//! | `Path` | a run of path characters with a `/` that starts with `/`, `./`, `../` or `~/`, ends with `/`, has a file extension in its last part (`src/lib.rs`, `tests/golden/*.json`), a `*` glob, a dot-directory (`.github/workflows`) or three or more parts | URLs; `and/or`, `TCP/IP`, `owner/repo` (two plain parts); anything without a letter (`//`) |
//! | `Number` | `5433`, `3.14`, `1.2.3`, `v1.2.3`, `1.0.0-beta.2`, `0x1F`, `2,000`, numbers with a unit (`10ms`, `512MB`, `99%`), times (`10:00`), dates (`2024-01-15`, `12/03/2024`) and fractions (`1/2`) | digits glued after letters (`utf8`, `E0433`: identifiers); list markers (`1.` at a line start) |
//! | `Identifier` | a `_` inside a word (`serde_json`, `DATABASE_URL`), `::` (`std::fs`), a `.` between word characters (`os.environ`, `Cargo.toml`), an inner capital (`getUser`, `HashMap`, `iPhone`), ALL-CAPS of two or more letters (`CI`, `UTF-8`), CLI flags (`--locked`, `-p`), words with digits (`utf8`, `E0433`, `x86_64`), dotfiles (`.env`) | plain English words, capitalized or not (`Run`, `Postgres`), `I`, `A`, abbreviations (`e.g.`), `_emphasis_`, `Pre-Commit` |
//! | `Code` | the trimmed content of an inline code span or a fenced code block | empty spans; a fence's info string (`bash`) |
//! | `Quoted` | the text inside `"…"`, `'…'`, `“…”`, `‘…’`: 1–200 characters on one line | an apostrophe inside a word (`don't`, `the user's`), which never opens or closes a quote |
//! | `Term` | each glossary term occurring in the text as whole words, case-insensitively, reported in the glossary's spelling | a term inside a longer word (`dream` in `dreams`) |
//!
//! Code is also scanned for every other kind: `` `cat ./src/main.rs` `` is a `Code` detail and a
//! `Path` detail. A URL is not also scanned for paths and numbers, and a path not for
//! identifiers and numbers, so a URL's port or a path's file name is not a second detail.
//!
//! The rules lean towards reporting: a spurious detail only makes the guard stricter about a
//! rewrite, while a missed one lets a rewrite lose it silently.

mod scan;
mod terms;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::tokens::{code_span_ranges, strip_list_marker};

/// What kind of load-bearing detail a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetailKind {
    /// Integers, decimals, versions, hex, numbers with units, times, dates.
    Number,
    /// Code-like tokens: `serde_json`, `std::fs`, `getUser`, `CI`, `--locked`, `E0433`.
    Identifier,
    /// File paths: `/etc/hosts`, `src/lib.rs`, `crates/foo/`.
    Path,
    /// `scheme://…` addresses.
    Url,
    /// Inline code spans and fenced code blocks.
    Code,
    /// Quoted text.
    Quoted,
    /// The store's glossary terms.
    Term,
}

/// A load-bearing detail of a text: what a rewrite or merge of the text must keep.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Detail {
    /// What kind of detail this is.
    pub kind: DetailKind,
    /// The detail as it appears in the text (a term: as the glossary spells it).
    pub text: String,
}

/// The details of `text`. `terms` are the store's glossary terms (matched case-insensitively
/// as whole words or phrases; reported as `Term` with the glossary's spelling).
///
/// A set, so that a detail said twice is one detail and the order is the same on every run.
pub fn details(text: &str, terms: &[&str]) -> BTreeSet<Detail> {
    let mut out = BTreeSet::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(fence) = Fence::open(line) {
            let mut body = Vec::new();
            for inner in lines.by_ref() {
                if fence.closes(inner) {
                    break;
                }
                body.push(inner);
            }
            code(&body.join("\n"), &mut out);
        } else {
            prose_line(strip_list_marker(line), &mut out);
        }
    }
    terms::find(text, terms, &mut out);
    out
}

/// Adds `kind` `text` to `out`.
fn add(out: &mut BTreeSet<Detail>, kind: DetailKind, text: &str) {
    out.insert(Detail {
        kind,
        text: text.to_owned(),
    });
}

/// A `Code` detail for `content` (trimmed), and its other details.
fn code(content: &str, out: &mut BTreeSet<Detail>) {
    let content = content.trim();
    if !content.is_empty() {
        add(out, DetailKind::Code, content);
        scan::scan(content, out);
    }
}

/// The details of one line outside fenced blocks: its code spans, then the rest with the code
/// spans blanked out, so that code is not read as prose.
fn prose_line(line: &str, out: &mut BTreeSet<Detail>) {
    let spans = code_span_ranges(line);
    if spans.is_empty() {
        scan::scan(line, out);
        return;
    }
    let mut rest = String::with_capacity(line.len());
    let mut at = 0;
    for (start, end) in spans {
        let ticks = line[start..end].bytes().take_while(|&b| b == b'`').count();
        code(&line[start + ticks..end - ticks], out);
        rest.push_str(&line[at..start]);
        rest.extend(std::iter::repeat_n(' ', end - start));
        at = end;
    }
    rest.push_str(&line[at..]);
    scan::scan(&rest, out);
}

/// An opening code fence: three or more backticks or tildes, indented at most three spaces.
#[derive(Debug)]
struct Fence {
    marker: u8,
    len: usize,
}

impl Fence {
    /// The fence `line` opens, if it opens one. A backtick fence's info string cannot contain
    /// a backtick, so that "```cargo test```" on one line stays an inline code span.
    fn open(line: &str) -> Option<Fence> {
        let (marker, len, rest) = Self::run(line)?;
        (marker == b'~' || !rest.contains('`')).then_some(Fence { marker, len })
    }

    /// Whether `line` closes this fence: a run of the same marker at least as long, and
    /// nothing else but whitespace.
    fn closes(&self, line: &str) -> bool {
        Self::run(line).is_some_and(|(marker, len, rest)| {
            marker == self.marker && len >= self.len && rest.trim().is_empty()
        })
    }

    /// The marker, length and remainder of a fence-like run at the start of `line`.
    fn run(line: &str) -> Option<(u8, usize, &str)> {
        let indent = line.bytes().take_while(|&b| b == b' ').count();
        let rest = &line[indent..];
        let marker = *rest.as_bytes().first()?;
        let len = rest.bytes().take_while(|&b| b == marker).count();
        (indent <= 3 && matches!(marker, b'`' | b'~') && len >= 3)
            .then(|| (marker, len, &rest[len..]))
    }
}

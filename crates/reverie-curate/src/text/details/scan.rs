//! The scanner behind [`details`](super::details): URLs, quotations, paths, numbers and
//! identifiers in a piece of text that is not (or no longer) markdown.
//!
//! Quotations are found on the text as it is. URLs are found next and blanked out, then paths
//! (and the slash-separated numbers: dates and fractions) are found and blanked out, and the
//! remaining tokens are classified as numbers or identifiers. Blanking keeps a URL's port or a
//! path's file name from being reported a second time.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use super::{Detail, DetailKind, add};
use crate::text::tokens::is_word_char;

/// `scheme://` and everything up to a space, bracket, angle bracket, quote or backtick.
static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b[a-z][a-z0-9+.\-]*://[^\s<>"'`\]}“”‘’]+"#).expect("URL pattern")
});

/// A run of path characters containing a `/`.
static SLASHED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\w.\-*~@+%]*/[\w.\-*~@+%/]*").expect("path pattern"));

/// A whole token that is a number (see the table in `details`).
static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)^(?:
            0[xX][0-9a-fA-F]+
          | \d{4}-\d{2}-\d{2}
          | \d{1,2}:\d{2}(?::\d{2})?
          | [vV]?\d+\.\d+\.\d+(?:\.\d+)*-[0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*
          | (?:-|[vV])?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)*(?:[a-zA-Z]+|%)?
        )$",
    )
    .expect("number pattern")
});

/// A whole token that is a CLI flag.
static FLAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^--?[A-Za-z][A-Za-z0-9_\-]*$").expect("flag pattern"));

/// Adds the details of `text` to `out`.
pub(super) fn scan(text: &str, out: &mut BTreeSet<Detail>) {
    if text.contains(QUOTE_MARKS) {
        for line in text.lines() {
            quotes(line, out);
        }
    }
    // Most texts hold no URL and no path: the patterns (and the copy they blank) are skipped
    // when the one character every match needs is missing.
    if !text.contains('/') {
        for token in tokens(text) {
            token_details(token, 0, out);
        }
        return;
    }
    let mut masked = text.to_owned();
    if text.contains("://") {
        for m in URL.find_iter(text) {
            let url = url_end(m.as_str());
            if url.len() > url.find("://").map_or(0, |i| i + 3) {
                add(out, DetailKind::Url, url);
                blank(&mut masked, m.start(), m.start() + url.len());
            }
        }
    }
    let found: Vec<(usize, &str)> = SLASHED
        .find_iter(&masked)
        .map(|m| (m.start(), m.as_str().trim_end_matches('.')))
        .collect();
    let mut blanks = Vec::new();
    for (start, run) in found {
        if let Some(kind) = slashed_kind(run) {
            add(out, kind, run);
            blanks.push((start, start + run.len()));
        }
    }
    for (start, end) in blanks {
        blank(&mut masked, start, end);
    }
    for token in tokens(&masked) {
        token_details(token, 0, out);
    }
}

/// The characters [`quotes`] looks for.
const QUOTE_MARKS: [char; 6] = ['"', '\'', '“', '”', '‘', '’'];

/// Replaces `s[start..end]` with spaces (byte for byte, so later offsets stay valid).
fn blank(s: &mut String, start: usize, end: usize) {
    s.replace_range(start..end, &" ".repeat(end - start));
}

/// A URL match without what follows the URL: from the first `)` that closes nothing in it,
/// then trailing sentence punctuation.
fn url_end(m: &str) -> &str {
    let mut depth = 0usize;
    let mut end = m.len();
    for (i, c) in m.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => {
                end = i;
                break;
            }
            ')' => depth -= 1,
            _ => {}
        }
    }
    m[..end].trim_end_matches(['.', ',', ';', ':', '!', '?'])
}

/// What a run with a `/` is: a date or fraction (`Number`), a `Path`, or neither (`and/or`).
fn slashed_kind(run: &str) -> Option<DetailKind> {
    let parts: Vec<&str> = run.split('/').collect();
    if (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some(DetailKind::Number);
    }
    if !run.chars().any(char::is_alphabetic) {
        return None;
    }
    let rooted = ["/", "./", "../", "~/"].iter().any(|r| run.starts_with(r));
    let directory = run.ends_with('/') && parts.len() >= 2;
    let extension = parts.last().is_some_and(|last| has_extension(last));
    let glob = run.contains('*');
    let dot_dir = parts.iter().any(|p| {
        p.strip_prefix('.')
            .and_then(|rest| rest.chars().next())
            .is_some_and(char::is_alphanumeric)
    });
    let deep = parts.iter().filter(|p| !p.is_empty()).count() >= 3;
    (rooted || directory || extension || glob || dot_dir || deep).then_some(DetailKind::Path)
}

/// Whether a file name ends in an extension: `lib.rs`, `*.json`, `archive.tar.gz`.
fn has_extension(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty()
            && (1..=10).contains(&ext.len())
            && ext.chars().all(|c| c.is_ascii_alphanumeric())
            && ext.chars().any(|c| c.is_ascii_alphabetic())
    })
}

/// The quotations of one line, for each kind of quote mark on its own (so a `'…'` inside a
/// `"…"` is found too).
fn quotes(line: &str, out: &mut BTreeSet<Detail>) {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    for (opening, closing) in [('"', '"'), ('\'', '\''), ('“', '”'), ('‘', '’')] {
        let mut open: Option<usize> = None;
        for (k, &(at, c)) in chars.iter().enumerate() {
            if c != opening && c != closing {
                continue;
            }
            let prev = k.checked_sub(1).map(|p| chars[p].1);
            let next = chars.get(k + 1).map(|&(_, n)| n);
            // A quote mark beside a letter on the inside only, never on the outside; so an
            // apostrophe inside a word neither opens nor closes.
            let can_open = c == opening
                && next.is_some_and(|n| !n.is_whitespace())
                && (opening == '“' || opening == '‘' || !prev.is_some_and(char::is_alphanumeric));
            let can_close = c == closing
                && prev.is_some_and(|p| !p.is_whitespace())
                && (closing == '”' || !next.is_some_and(char::is_alphanumeric));
            match open {
                Some(start) if can_close => {
                    let inner = &line[start..at];
                    let len = inner.chars().count();
                    if (1..=200).contains(&len) && !inner.trim().is_empty() {
                        add(out, DetailKind::Quoted, inner);
                    }
                    open = None;
                }
                _ if can_open => open = Some(at + c.len_utf8()),
                _ => {}
            }
        }
    }
}

/// The tokens of `text`: maximal runs of word characters and `.`, `:`, `-`, `%`, and `,`
/// between two digits (`2,000`).
fn tokens(text: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let in_token = |k: usize| {
        let c = chars[k].1;
        let digit = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|&(_, d)| d.is_ascii_digit())
        };
        is_word_char(c)
            || matches!(c, '.' | ':' | '-' | '%')
            || (c == ',' && digit(k.checked_sub(1)) && digit(Some(k + 1)))
    };
    let mut out = Vec::new();
    let mut start = None;
    for k in 0..chars.len() {
        match (in_token(k), start) {
            (true, None) => start = Some(chars[k].0),
            (false, Some(s)) => {
                out.push(&text[s..chars[k].0]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

/// Separators a token is split at when it is not a detail as a whole, outermost first:
/// `localhost:5432` is `localhost` and `5432`; `10-20` is `10` and `20`.
const SEPARATORS: [char; 5] = [':', ',', '-', '.', '%'];

/// Adds the details of one token, splitting it at [`SEPARATORS`] from `level` on when it is
/// not one as a whole.
fn token_details(token: &str, level: usize, out: &mut BTreeSet<Detail>) {
    if !is_plain_word(token) {
        token_rules(token, level, out);
    }
}

/// [`token_details`] without the shortcut for plain words.
pub(super) fn token_rules(token: &str, level: usize, out: &mut BTreeSet<Detail>) {
    let token = trim_token(token);
    if token.is_empty() {
        return;
    }
    // Every number has a digit.
    if token.bytes().any(|b| b.is_ascii_digit()) && NUMBER.is_match(token) {
        add(out, DetailKind::Number, token);
    } else if is_identifier(token) {
        add(out, DetailKind::Identifier, token);
    } else if let Some((l, &sep)) = SEPARATORS
        .iter()
        .enumerate()
        .skip(level)
        .find(|(_, s)| token.contains(**s))
    {
        for part in token.split(sep) {
            token_details(part, l + 1, out);
        }
    }
}

/// Whether `token` is an ordinary word — ASCII letters, lowercase but maybe the first — which
/// is never a detail: no number, no identifier rule matches it, and it has no separator to
/// split at. Most of prose is such words, so they skip the rules.
pub(super) fn is_plain_word(token: &str) -> bool {
    let b = token.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphabetic) && b[1..].iter().all(u8::is_ascii_lowercase)
}

/// `token` without sentence punctuation around it; a leading `-`/`--` before a letter (a
/// flag), a single `-` before a digit (a sign) and a single leading `.` before a letter (a
/// dotfile) stay.
fn trim_token(token: &str) -> &str {
    let mut t = token.trim_end_matches(['.', ':', ',', '-']);
    loop {
        let lead = |c: char| t.chars().take_while(|&x| x == c).count();
        let after = |n: usize| {
            t[n..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
        };
        let (dots, dashes) = (lead('.'), lead('-'));
        let sign = dashes == 1 && t[1..].starts_with(|c: char| c.is_ascii_digit());
        if (dots == 1 && after(1)) || ((1..=2).contains(&dashes) && after(dashes)) || sign {
            return t;
        }
        let strip = dots
            .max(dashes)
            .max(usize::from(t.starts_with([':', ',', '%'])));
        if strip == 0 {
            return t;
        }
        t = &t[strip..];
    }
}

/// Whether a trimmed, non-numeric token is code-like (see the table in `details`).
fn is_identifier(t: &str) -> bool {
    let chars: Vec<char> = t.chars().collect();
    if !chars.iter().any(|c| c.is_alphanumeric()) || has_single_colon(&chars) {
        return false;
    }
    if t.starts_with('-') {
        return FLAG.is_match(t);
    }
    let alnum_before = |i: usize| chars[..i].iter().any(|c| c.is_alphanumeric());
    let alnum_after = |i: usize| chars[i + 1..].iter().any(|c| c.is_alphanumeric());
    let word_around = |i: usize| {
        i > 0 && i + 1 < chars.len() && is_word_char(chars[i - 1]) && is_word_char(chars[i + 1])
    };
    let abbreviation = t
        .split('.')
        .all(|p| p.chars().count() == 1 && p.chars().all(char::is_alphabetic));
    let has_lower = chars.iter().any(|c| c.is_lowercase());
    let uppers = chars.iter().filter(|c| c.is_uppercase()).count();
    let has_digit = chars.iter().any(char::is_ascii_digit);
    let has_letter = chars.iter().any(|c| c.is_alphabetic());
    t.starts_with('.')
        || t.contains("::")
        || (0..chars.len()).any(|i| chars[i] == '_' && alnum_before(i) && alnum_after(i))
        || (!abbreviation && (0..chars.len()).any(|i| chars[i] == '.' && word_around(i)))
        || (has_lower
            && !t.contains('-')
            && (1..chars.len()).any(|i| chars[i].is_uppercase() && chars[i - 1].is_alphanumeric()))
        || (!has_lower && uppers >= 2 && chars.iter().all(|&c| c.is_alphanumeric() || c == '-'))
        || (has_letter && has_digit && chars.iter().all(|&c| c.is_alphanumeric() || c == '-'))
}

/// Whether `chars` has a `:` that is not part of `::`.
fn has_single_colon(chars: &[char]) -> bool {
    (0..chars.len()).any(|i| {
        chars[i] == ':' && chars.get(i + 1) != Some(&':') && (i == 0 || chars[i - 1] != ':')
    })
}

//! The hand-written gates: where the rules that have no literal of their own could match.
//!
//! The `NAME = value`, `name: X / value: …` and `<name>…</` rules all need a secret name, so
//! they start from the keywords of secret names (one per 800 bytes of a transcript, where `:`
//! and `=` come once per 40); URL passwords start from `://`. Each function here
//! over-approximates its rule's regex: every match that can be a finding holds a hit (the
//! property tests in `detect.rs` check it).

use aho_corasick::{AhoCorasick, MatchKind};

use super::value;

/// Fewest bytes a value can have and be redacted by an assignment rule (`looks_secret`).
const MIN_ASSIGNED: usize = 8;

pub(super) fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')
}

/// Does `name` hold a secret keyword (see [`value::has_keyword`])?
fn has_keyword(name: &[u8]) -> bool {
    value::has_keyword(name)
}

/// A searcher for the leftmost of `literals` (the first listed, when several start at once).
pub(super) fn leftmost<S: AsRef<[u8]>>(literals: &[S]) -> AhoCorasick {
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostFirst)
        .build(literals)
        .expect("literals compile")
}

/// Every spelling of every keyword of [`value::KEYWORDS`], as one searcher: the hand gates start
/// from these (about one per 800 bytes of a transcript) rather than from every `:` and `=`
/// (one per 40).
///
/// `pw` is left out: a two-byte literal among them made the search several times slower, so
/// its three spellings are found with [`FINDERS`] instead.
static KEYWORD_SPELLINGS: std::sync::LazyLock<AhoCorasick> = std::sync::LazyLock::new(|| {
    let spellings: Vec<Vec<u8>> = value::KEYWORDS
        .iter()
        .filter(|k| k.len() > 2)
        .flat_map(|k| value::spellings(k))
        .collect();
    leftmost(&spellings)
});

/// Type annotations the `NAME = value` rule allows between `:` and `=` (`const KEY: &str = …`).
const ANNOTATIONS: [&[u8]; 6] = [
    b"&'static",
    b"&str",
    b"Option<String>",
    b"String",
    b"string",
    b"str",
];

/// Where the `NAME = value` rule could find something to redact: for every `:` or `=`, a name
/// right before it (spaces and a quote, escaped any number of times, allowed in between) that
/// holds a keyword, and a value right after it (`=>` and `:=` operators, a type annotation, a
/// quote and spaces allowed before it) of at least [`MIN_ASSIGNED`] bytes with no whitespace,
/// escapes counted as value bytes. The ranges cover the name through the value's start.
///
/// It over-approximates the rule's regex followed by `looks_secret` (which wants at least 8
/// bytes and no whitespace): every assignment that could be redacted is a hit.
fn assignment_at(b: &[u8], p: usize) -> Option<(usize, usize)> {
    // The value first, forwards: most `:` and `=` of a transcript (JSON members, code) are
    // followed by a short value or a space, and this rules them out without looking back.
    let mut j = p + 1;
    if (b[p] == b':' && b.get(j) == Some(&b'=')) || (b[p] == b'=' && b.get(j) == Some(&b'>')) {
        j += 1;
    }
    let skip_blank = |mut j: usize| {
        while j < b.len() && matches!(b[j], b' ' | b'\t') {
            j += 1;
        }
        j
    };
    j = skip_blank(j);
    if b[p] == b':'
        && let Some(t) = ANNOTATIONS.iter().find(|t| b[j..].starts_with(t))
    {
        let mut k = skip_blank(j + t.len());
        if *t == b"&'static" {
            if !b[k..].starts_with(b"str") {
                return None;
            }
            k = skip_blank(k + 3);
        }
        if b.get(k) == Some(&b'=') {
            j = skip_blank(k + 1);
        }
    }
    let mut k = j;
    while k < b.len() && b[k] == b'\\' {
        k += 1;
    }
    let quote = (k < b.len() && matches!(b[k], b'"' | b'\'' | b'`')).then(|| b[k]);
    let mut v = if quote.is_some() {
        skip_blank(k + 1)
    } else {
        j
    };
    let start = v;
    while v < b.len() && v - start < MIN_ASSIGNED {
        let c = b[v];
        if c == b'\\' {
            v += 2;
            continue;
        }
        let stop = c.is_ascii_whitespace()
            || match quote {
                Some(q) => c == q,
                None => b"\"'`,;&)}]".contains(&c),
            };
        if stop {
            break;
        }
        v += 1;
    }
    if v - start < MIN_ASSIGNED {
        return None;
    }
    // Then the name, backwards.
    let mut i = p;
    while i > 0 && matches!(b[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    if i > 0 && matches!(b[i - 1], b'"' | b'\'' | b'`') {
        i -= 1;
        while i > 0 && b[i - 1] == b'\\' {
            i -= 1;
        }
    }
    let name_end = i;
    while i > 0 && is_name_byte(b[i - 1]) {
        i -= 1;
    }
    (i < name_end && has_keyword(&b[i..name_end])).then_some((i, v.min(b.len())))
}

/// Which hand-gated rule a hit is for (in [`HAND_GATES`] order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HandRule {
    Assignment = 0,
    List = 1,
    Url = 2,
    Tag = 3,
}

impl HandRule {
    pub(super) const ALL: [HandRule; 4] = [
        HandRule::Assignment,
        HandRule::List,
        HandRule::Url,
        HandRule::Tag,
    ];
}

/// A hit of a hand-written gate: a byte range and its rule.
#[derive(Debug, Clone, Copy)]
pub(super) struct HandHit {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) rule: HandRule,
}

/// Where the `name: X / value: …` rule could match: a `:` or `=` after a word ending in `name`
/// or `key` (quotes and spaces allowed between) and before a name that holds a keyword.
fn list_at(b: &[u8], p: usize) -> Option<(usize, usize)> {
    let mut i = p;
    while i > 0 && matches!(b[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    while i > 0 && matches!(b[i - 1], b'"' | b'\'' | b'\\') {
        i -= 1;
    }
    let word_end = i;
    // The word's ending first: most words before a `:` end in neither.
    let ends =
        |k: &[u8]| word_end >= k.len() && b[word_end - k.len()..word_end].eq_ignore_ascii_case(k);
    if !ends(b"name") && !ends(b"key") {
        return None;
    }
    while i > 0 && is_name_byte(b[i - 1]) {
        i -= 1;
    }
    let mut j = p + 1;
    while j < b.len() && matches!(b[j], b' ' | b'\t' | b'"' | b'\'' | b'\\') {
        j += 1;
    }
    let start = j;
    while j < b.len() && is_name_byte(b[j]) {
        j += 1;
    }
    has_keyword(&b[start..j]).then_some((i, j))
}

/// Where the URL-password rule could match: `://` (slashes escaped any number of times) at
/// `p`, then userinfo with a `:` and an `@`, as the rule's regex reads them.
fn url_at(b: &[u8], p: usize) -> Option<(usize, usize)> {
    let mut j = p + 1;
    for _ in 0..2 {
        while j < b.len() && b[j] == b'\\' {
            j += 1;
        }
        if b.get(j) != Some(&b'/') {
            return None;
        }
        j += 1;
    }
    let stop = |c: u8| c.is_ascii_whitespace() || b"/?#@\"'\\<>{}|".contains(&c);
    while j < b.len() && !stop(b[j]) && !b"[]:".contains(&b[j]) {
        j += 1;
    }
    if b.get(j) != Some(&b':') {
        return None;
    }
    j += 1;
    let password = j;
    while j < b.len() && !stop(b[j]) {
        j += 1;
    }
    (j > password && b.get(j) == Some(&b'@')).then_some((p, j + 1))
}

/// Where the `<name>value</` rule could match: `<` at `p`, a name holding a keyword, `>`.
fn tag_at(b: &[u8], p: usize) -> Option<(usize, usize)> {
    let mut j = p + 1;
    while j < b.len() && is_name_byte(b[j]) {
        j += 1;
    }
    (b.get(j) == Some(&b'>') && has_keyword(&b[p + 1..j])).then_some((p, j + 1))
}

/// Substring searchers, built once: `pw`, `PW` and `Pw` (keywords), `:/` and `:\\` (URLs),
/// `\\u` and `\\/` (escapes).
pub(super) static FINDERS: std::sync::LazyLock<[memchr::memmem::Finder<'static>; 7]> =
    std::sync::LazyLock::new(|| {
        [&b"pw"[..], b"PW", b"Pw", b":/", b":\\", b"\\u", b"\\/"]
            .map(|k| memchr::memmem::Finder::new(k).into_owned())
    });
const PW_SPELLINGS: std::ops::Range<usize> = 0..3;
const URL_STARTS: std::ops::Range<usize> = 3..5;
pub(super) const ESCAPE_U: usize = 5;
pub(super) const ESCAPE_SLASH: usize = 6;

/// Where keywords start and end in `text`, in no particular order, at least one per name that
/// holds one.
fn keywords(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let b = text.as_bytes();
    KEYWORD_SPELLINGS
        .find_iter(text)
        .map(|m| (m.start(), m.end()))
        .chain(
            FINDERS[PW_SPELLINGS]
                .iter()
                .flat_map(move |f| f.find_iter(b).map(|i| (i, i + 2))),
        )
}

/// The hits of the hand-written gates.
///
/// The name rules start from each keyword: the run of name bytes around it is the name, and
/// the rule is checked at the operator right after it (`NAME = value`), right before it
/// (`name: NAME / value: …`) or at the `<` before it (`<NAME>`) — where checking at every `:`,
/// `=` and `<` would find it. URL passwords start from every `:` followed by `/` or `\`.
pub(super) fn hand_hits(text: &str) -> impl Iterator<Item = HandHit> + '_ {
    let b = text.as_bytes();
    let hit = |rule: HandRule| move |(start, end): (usize, usize)| HandHit { start, end, rule };
    let mut last_run = (0, 0);
    let names = keywords(text).flat_map(move |(start, end)| {
        if last_run.0 <= start && end <= last_run.1 {
            // another keyword of the name just checked
            return [None, None, None];
        }
        let mut s = start;
        while s > 0 && is_name_byte(b[s - 1]) {
            s -= 1;
        }
        let mut e = end;
        while e < b.len() && is_name_byte(b[e]) {
            e += 1;
        }
        last_run = (s, e);
        [
            operator_after(b, e)
                .and_then(|p| assignment_at(b, p))
                .filter(|_| may_name_secret(text, s, e))
                .map(hit(HandRule::Assignment)),
            operator_before(b, s)
                .and_then(|p| list_at(b, p))
                .map(hit(HandRule::List)),
            (s > 0 && b[s - 1] == b'<')
                .then(|| tag_at(b, s - 1))
                .flatten()
                .map(hit(HandRule::Tag)),
        ]
    });
    let urls = FINDERS[URL_STARTS]
        .iter()
        .flat_map(move |f| f.find_iter(b))
        .filter_map(move |p| url_at(b, p).map(hit(HandRule::Url)));
    names.flatten().chain(urls)
}

/// Could the run of name bytes `text[s..e]` be the name of a secret in an assignment? The
/// rule's name is the run, or a part of it after a `.` or `-`, and [`value::name_class`] of a
/// part is never a secret name when that of the whole run is not. Let through unjudged: a
/// run right after a backslash (in raw JSON, `\napi_key` holds the escape's letter), a run
/// that may end a quoted name with spaces (`"API Key": …`, whose JSON member check reads the
/// whole key) and a run too long for `name_class`.
///
/// Most keyword names before a long value are no secret's (`thread_key: thread_id`,
/// `group_key = …`); without this they made the detectors decode and scan whole tool outputs.
fn may_name_secret(text: &str, s: usize, e: usize) -> bool {
    let b = text.as_bytes();
    let after_escape = s > 0 && b[s - 1] == b'\\';
    let spaced_key =
        s > 0 && matches!(b[s - 1], b' ' | b'\t') && matches!(b.get(e), Some(b'"' | b'\'' | b'\\'));
    after_escape || spaced_key || e - s > 120 || value::name_class(&text[s..e]).is_some()
}

/// Where `assignment_at` would look for a name ending at `e`: the `:` or `=` after it, with a
/// quote (escaped any number of times) and blanks allowed in between.
fn operator_after(b: &[u8], mut e: usize) -> Option<usize> {
    if e < b.len() && matches!(b[e], b'\\' | b'"' | b'\'' | b'`') {
        while e < b.len() && b[e] == b'\\' {
            e += 1;
        }
        if !(e < b.len() && matches!(b[e], b'"' | b'\'' | b'`')) {
            return None;
        }
        e += 1;
    }
    while e < b.len() && matches!(b[e], b' ' | b'\t') {
        e += 1;
    }
    (e < b.len() && matches!(b[e], b':' | b'=')).then_some(e)
}

/// Where `list_at` would look for a name starting at `s`: the `:` or `=` before it, with
/// blanks, quotes and backslashes allowed in between.
fn operator_before(b: &[u8], mut s: usize) -> Option<usize> {
    while s > 0 && matches!(b[s - 1], b' ' | b'\t' | b'"' | b'\'' | b'\\') {
        s -= 1;
    }
    (s > 0 && matches!(b[s - 1], b':' | b'=')).then(|| s - 1)
}

/// The `NAME = value` hits alone.
#[cfg(test)]
pub(super) fn assignment_hits(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    hand_hits(text)
        .filter(|h| h.rule == HandRule::Assignment)
        .map(|h| (h.start, h.end))
}

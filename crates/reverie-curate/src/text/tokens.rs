//! Words and normalized text: the two ways curation looks at an entry's wording.
//!
//! [`words`] is the bag-of-words view that similarity and search share, so that "`serde_json`"
//! in a code span and "serde_json" in prose are the same word. [`normalize`] is the view for
//! exact duplicates: it forgets only what markdown adds around the words (list markers,
//! emphasis, backticks, spacing, case, a final full stop), never the words or their order.

/// Lowercased words: maximal runs of Unicode alphanumerics and `_` (so `serde_json` is one
/// word, `cargo-fmt` two). Used for similarity; the same words search is built on
/// ([`reverie_core::search::words`]).
pub use reverie_core::search::words;

/// Whether `c` belongs to a word (see [`words`]).
pub(crate) use reverie_core::search::is_word_char;

/// A text reduced for exact-duplicate detection: markdown list markers (`- `, `* `, `1. `),
/// emphasis (`**`, `_`, `*` around words) and backticks removed, whitespace collapsed to
/// single spaces, lowercased, trailing `.`/`!`/`;` removed. Two entries are exact duplicates
/// when their normalized texts are equal.
///
/// Emphasis is removed only where markdown would render it: a `*` or `_` run that opens
/// before a word and a run of the same length that closes after one, on the same line and
/// outside code spans. So `snake_case`, `*.json` globs, `2 * 3` and `` `__init__` `` keep
/// their characters, while `**always**` and `_never_` lose theirs.
pub fn normalize(text: &str) -> String {
    let mut collapsed = String::with_capacity(text.len());
    for line in text.lines() {
        let line = strip_emphasis(strip_list_marker(line));
        for piece in line.split_whitespace() {
            let piece: String = piece.chars().filter(|&c| c != '`').collect();
            if piece.is_empty() {
                continue;
            }
            if !collapsed.is_empty() {
                collapsed.push(' ');
            }
            collapsed.push_str(&piece);
        }
    }
    let lower = collapsed.to_lowercase();
    lower
        .trim_end_matches(|c: char| matches!(c, '.' | '!' | ';') || c.is_whitespace())
        .to_owned()
}

/// `line` without a leading markdown list marker (`-`, `*`, `+`, `1.` or `1)` followed by
/// whitespace) and the indentation before it.
pub(crate) fn strip_list_marker(line: &str) -> &str {
    let trimmed = line.trim_start();
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    let marker = match trimmed.as_bytes().first() {
        Some(b'-' | b'*' | b'+') => 1,
        Some(b'0'..=b'9')
            if digits <= 9 && matches!(trimmed.as_bytes().get(digits), Some(b'.' | b')')) =>
        {
            digits + 1
        }
        _ => return line,
    };
    match trimmed[marker..].chars().next() {
        Some(c) if c.is_whitespace() => &trimmed[marker..],
        _ => line,
    }
}

/// A run of `*` or `_` on a line that may open or close emphasis.
#[derive(Debug)]
struct Delimiter {
    start: usize,
    end: usize,
    can_open: bool,
    can_close: bool,
}

/// `line` without its matched emphasis delimiters (see [`normalize`]).
fn strip_emphasis(line: &str) -> String {
    let code = code_span_ranges(line);
    let in_code = |i: usize| code.iter().any(|&(s, e)| s <= i && i < e);
    let mut remove = Vec::new();
    let mut open: Vec<Delimiter> = Vec::new();
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut k = 0;
    while k < chars.len() {
        let (start, c) = chars[k];
        if !matches!(c, '*' | '_') || in_code(start) {
            k += 1;
            continue;
        }
        let mut j = k;
        while j < chars.len() && chars[j].1 == c {
            j += 1;
        }
        let prev = k.checked_sub(1).map(|p| chars[p].1);
        let next = chars.get(j).map(|&(_, n)| n);
        let end = chars.get(j).map_or(line.len(), |&(i, _)| i);
        let run = Delimiter {
            start,
            end,
            can_open: next.is_some_and(|n| !n.is_whitespace())
                && !prev.is_some_and(char::is_alphanumeric),
            can_close: prev.is_some_and(|p| !p.is_whitespace())
                && !next.is_some_and(char::is_alphanumeric),
        };
        let same = |d: &Delimiter| line[d.start..d.end] == line[run.start..run.end];
        match open.iter().rposition(same).filter(|_| run.can_close) {
            Some(p) => {
                remove.push((open[p].start, open[p].end));
                open.truncate(p);
                remove.push((run.start, run.end));
            }
            None if run.can_open => open.push(run),
            None => {}
        }
        k = j;
    }
    remove.sort_unstable();
    let mut out = String::with_capacity(line.len());
    let mut at = 0;
    for (s, e) in remove {
        out.push_str(&line[at..s]);
        at = e;
    }
    out.push_str(&line[at..]);
    out
}

/// The byte ranges of a line's code spans, backticks included: a run of backticks up to the
/// next run of the same length (CommonMark's rule).
pub(crate) fn code_span_ranges(line: &str) -> Vec<(usize, usize)> {
    let bytes = line.as_bytes();
    let run_end = |mut i: usize| {
        while i < bytes.len() && bytes[i] == b'`' {
            i += 1;
        }
        i
    };
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let open_end = run_end(i);
        let len = open_end - i;
        let mut j = open_end;
        let mut closed = None;
        while j < bytes.len() {
            if bytes[j] == b'`' {
                let e = run_end(j);
                if e - j == len {
                    closed = Some(e);
                    break;
                }
                j = e;
            } else {
                j += 1;
            }
        }
        match closed {
            Some(e) => {
                spans.push((i, e));
                i = e;
            }
            None => i = open_end,
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_runs_of_alphanumerics_and_underscores() {
        fn check(text: &str, expected: &[&str]) {
            assert_eq!(words(text), expected, "{text:?}");
        }
        check("", &[]);
        check("  ...  ", &[]);
        check("Run `cargo fmt` first!", &["run", "cargo", "fmt", "first"]);
        check(
            "serde_json and cargo-fmt",
            &["serde_json", "and", "cargo", "fmt"],
        );
        check(
            "DATABASE_URL=postgres://x:5432",
            &["database_url", "postgres", "x", "5432"],
        );
        check("don't", &["don", "t"]);
        check("v1.2.3", &["v1", "2", "3"]);
        check("Straße ÉTÉ 日本語", &["straße", "été", "日本語"]);
        check("std::fs::read", &["std", "fs", "read"]);
    }

    #[test]
    fn normalize_forgets_markdown_and_spacing() {
        fn check(text: &str, expected: &str) {
            assert_eq!(normalize(text), expected, "{text:?}");
        }
        check(
            "Run cargo fmt before committing.",
            "run cargo fmt before committing",
        );
        check(
            "- Run `cargo fmt` before committing.",
            "run cargo fmt before committing",
        );
        check("  * **Always** run _cargo fmt_!", "always run cargo fmt");
        check("+ ***very*** __bold__", "very bold");
        check(
            "12. Use   serde_json\n    for JSON;",
            "use serde_json for json",
        );
        check("3) done..!", "done");
        check("Keep snake_case names", "keep snake_case names");
        check(
            "Goldens are tests/golden/*.json",
            "goldens are tests/golden/*.json",
        );
        check(
            "Goldens: `src/**/*.rs` and *.toml",
            "goldens: src/**/*.rs and *.toml",
        );
        check("`__init__.py` is required", "__init__.py is required");
        check("2 * 3 = 6.", "2 * 3 = 6");
        check("Version 1.2.3.", "version 1.2.3");
        check("-5 is negative", "-5 is negative");
        check("-- not a marker", "-- not a marker");
        check("1.5 is a number", "1.5 is a number");
        check("Use *args and **kwargs", "use *args and **kwargs");
        check("Why?", "why?");
        check("", "");
    }

    #[test]
    fn normalized_duplicates_and_non_duplicates() {
        let same = [
            ("Run cargo fmt.", "- run  **cargo fmt**"),
            ("Port is `5432`", "* Port is 5432!"),
            ("Use\tthe  `--locked` flag", "use the --locked flag;"),
        ];
        for (a, b) in same {
            assert_eq!(normalize(a), normalize(b), "{a:?} vs {b:?}");
        }
        let different = [
            ("Run cargo fmt", "Run cargo test"),
            ("Port is 5432", "Port is 5433"),
            ("Use snake_case", "Use snakecase"),
            ("Never force-push", "Never force push"),
        ];
        for (a, b) in different {
            assert_ne!(normalize(a), normalize(b), "{a:?} vs {b:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn normalized_text_is_collapsed_lowercase(text in r"([a-zA-Z0-9 `*_.!;-]|\n|\t|É){0,80}") {
            let n = normalize(&text);
            proptest::prop_assert!(!n.contains("  ") && !n.contains('`') && n.trim() == n, "{n:?}");
            proptest::prop_assert!(!n.ends_with(['.', '!', ';']), "{n:?}");
            proptest::prop_assert_eq!(n.to_lowercase(), n.clone());
            proptest::prop_assert_eq!(words(&text).concat(), words(&text.to_lowercase()).concat());
        }
    }

    #[test]
    fn code_spans_pair_runs_of_equal_length() {
        fn check(line: &str, expected: &[&str]) {
            let got: Vec<&str> = code_span_ranges(line)
                .iter()
                .map(|&(s, e)| &line[s..e])
                .collect();
            assert_eq!(got, expected, "{line:?}");
        }
        check("run `cargo test` now", &["`cargo test`"]);
        check("``a ` b`` and `c`", &["``a ` b``", "`c`"]);
        check("a stray ` backtick", &[]);
        check("`a` `b`", &["`a`", "`b`"]);
    }
}

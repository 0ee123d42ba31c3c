//! Subject words: the words of an entry that say what it is about.
//!
//! Memory entries are short — most are one sentence of five to twenty words — and two entries
//! about one subject rarely share three words in a row: "Run cargo fmt before committing" and
//! "Always run `cargo fmt` before you commit" share no word 3-gram at all. What they share is
//! their content words. So similarity compares the sets of subject words: [`words`] without
//! the words that say nothing about a subject, lightly stemmed so that "commit",
//! "committing" and "commits" are one word.
//!
//! The words left out ([`STOPWORDS`]) are English function words (articles, pronouns,
//! prepositions, conjunctions, auxiliaries), words of polarity, modality and time ("not",
//! "never", "always", "must", "now", "instead": a contradiction or a change of rule keeps its
//! subject), and a few words nearly every note of a coding agent contains ("user", "use",
//! "run", "prefer", "want"), which match everything and so tell nothing.

use super::tokens::words;

/// Words that carry no subject (see the module header), sorted for binary search.
#[rustfmt::skip]
const STOPWORDS: &[&str] = &[
    "a", "about", "above", "after", "again", "against", "all", "also", "always", "am", "an", "and",
    "any", "anymore", "are", "aren", "as", "at", "be", "because", "been", "before", "being",
    "below", "between", "both", "but", "by", "can", "cannot", "could", "d", "did", "didn", "do",
    "does", "doesn", "doing", "don", "done", "down", "during", "each", "either", "else", "etc",
    "even", "ever", "every", "few", "for", "from", "further", "had", "has", "have", "having", "he",
    "her", "here", "hers", "him", "his", "how", "i", "if", "in", "instead", "into", "is", "isn",
    "it", "its", "itself", "just", "let", "lets", "ll", "longer", "m", "may", "me", "might",
    "more", "most", "much", "must", "my", "never", "no", "nor", "not", "now", "of", "off", "on",
    "once", "one", "only", "onto", "or", "other", "our", "ours", "out", "over", "own", "per",
    "please", "prefer", "preferred", "prefers", "ran", "rather", "re", "run", "running", "runs",
    "s", "same", "shall", "she", "should", "so", "some", "still", "such", "t", "than", "that",
    "the", "their", "theirs", "them", "then", "there", "these", "they", "this", "those", "through",
    "thus", "to", "too", "under", "until", "up", "upon", "us", "use", "used", "user", "users",
    "uses", "using", "ve", "very", "via", "want", "wanted", "wants", "was", "wasn", "we", "were",
    "what", "when", "where", "whether", "which", "while", "who", "whom", "why", "will", "with",
    "won", "would", "you", "your", "yours",
];

/// The subject words of `text`, stemmed, in order and with repeats. A text with no subject
/// word ("Do it now.") falls back to all its words, stemmed, so that two such texts are not
/// alike merely for saying nothing.
pub(crate) fn subject_words(text: &str) -> Vec<String> {
    let all = words(text);
    let subject: Vec<String> = all
        .iter()
        .filter(|w| STOPWORDS.binary_search(&w.as_str()).is_err())
        .map(|w| stem(w))
        .collect();
    if subject.is_empty() {
        all.iter().map(|w| stem(w)).collect()
    } else {
        subject
    }
}

/// A light, deterministic English stemmer for lowercase ASCII words: Harman's S-stemmer for
/// plurals (`libraries` → `library`, `caches` → `cache`, `tests` → `test`), then `-ing` and
/// `-ed` off a stem of three or more letters with a vowel (`committing` → `commit`), then a
/// final `e` (so `merge`, `merges`, `merged`, `merging` all become `merg`). Words with digits,
/// `_` or non-ASCII letters are left as they are: they are names, not English.
pub(crate) fn stem(word: &str) -> String {
    if word.len() <= 3 || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return word.to_owned();
    }
    let mut w = word.to_owned();
    if w.ends_with("ies") && !w.ends_with("eies") && !w.ends_with("aies") {
        w.truncate(w.len() - 3);
        w.push('y');
    } else if w.ends_with('s') && !w.ends_with("us") && !w.ends_with("ss") {
        w.truncate(w.len() - 1);
    }
    for suffix in ["ing", "ed"] {
        let Some(base) = w.strip_suffix(suffix) else {
            continue;
        };
        if base.len() >= 3 && base.bytes().any(|b| b"aeiouy".contains(&b)) {
            let base = base.as_bytes();
            let n = base.len();
            let doubled = base[n - 1] == base[n - 2] && !b"aeioulsz".contains(&base[n - 1]);
            w.truncate(if doubled { n - 1 } else { n });
        }
        break;
    }
    if w.len() > 3 && w.ends_with('e') {
        w.pop();
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopwords_are_sorted_and_unique() {
        assert!(
            STOPWORDS.windows(2).all(|w| w[0] < w[1]),
            "STOPWORDS must be sorted"
        );
    }

    #[test]
    fn stems() {
        fn check(word: &str, expected: &str) {
            assert_eq!(stem(word), expected, "{word:?}");
        }
        for (word, expected) in [
            ("commit", "commit"),
            ("commits", "commit"),
            ("committing", "commit"),
            ("committed", "commit"),
            ("merge", "merg"),
            ("merges", "merg"),
            ("merged", "merg"),
            ("merging", "merg"),
            ("libraries", "library"),
            ("caches", "cach"),
            ("tests", "test"),
            ("testing", "test"),
            ("status", "status"),
            ("process", "process"),
            ("processes", "process"),
            ("string", "string"),
            ("need", "need"),
            ("running", "run"),
            ("falls", "fall"),
            ("10s", "10s"),
            ("serde_json", "serde_json"),
            ("données", "données"),
            ("go", "go"),
        ] {
            check(word, expected);
        }
    }

    #[test]
    fn subject_words_drop_what_says_nothing() {
        fn check(text: &str, expected: &[&str]) {
            assert_eq!(subject_words(text), expected, "{text:?}");
        }
        check(
            "Run cargo fmt before committing.",
            &["cargo", "fmt", "commit"],
        );
        check(
            "Always run `cargo fmt` before you commit.",
            &["cargo", "fmt", "commit"],
        );
        check("The user prefers tabs over spaces", &["tab", "spac"]);
        check(
            "Never set DATABASE_URL in unit tests",
            &["set", "database_url", "unit", "test"],
        );
        check("Do it now.", &["do", "it", "now"]);
        check("", &[]);
    }
}

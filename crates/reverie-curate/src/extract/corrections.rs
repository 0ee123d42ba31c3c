//! User corrections of the assistant: in a user turn that follows assistant activity, the
//! first statement that says what is right.
//!
//! - A turn opening with "no", "nope", "that's wrong", "that's not right", "wrong", "not
//!   quite"… (after any interjection): the rest of that sentence, or the next sentence when
//!   nothing follows the lead-in ("ugh, no. always use `pnpm` …").
//! - "actually, …" or "instead, …" anywhere: the rest of the sentence.
//! - A sentence that sets the right thing against the wrong one ("…, not `.env`", "not X,
//!   Y", "instead of"), tells the assistant to stop ("don't use", "stop using", "you should
//!   have"), or reports a change the assistant did not know of ("moved to port 6543", "is
//!   now", "no longer") — the latter only with a detail.
//! - Right after the user rejected a tool call or interrupted the assistant: the first
//!   substantive sentence.
//!
//! The statement must be a rule or hold a detail, and is kept verbatim but for its lead-in.

use std::sync::LazyLock;

use regex::Regex;

use super::junk::{is_junk_sentence, strip_interjections, strip_lead_clause};
use super::util::{finish_sentence, has_details};
use crate::text;

/// A lead-in that says the assistant was wrong.
static WRONG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^(?:
            no | nope | nah | wrong | incorrect | not\s+quite | not\s+like\s+that
          | that'?s\s+(?:wrong|not\s+right|not\s+correct|incorrect|not\s+it|not\s+what\s+i\s+(?:asked|meant|wanted))
          | that\s+is\s+(?:wrong|not\s+right|not\s+correct|incorrect)
          | this\s+is\s+wrong | you'?re\s+wrong
        )(?:\s*[,.!:;—–]+\s*|\s+-\s+|\s*$)",
    )
    .expect("a valid regex")
});

/// "actually, …" and "instead, …".
static ACTUALLY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:actually|instead)(?:\s*[,:;—–]\s*|\s+)").expect("a valid regex")
});

/// A sentence that is a correction as a whole.
static CORRECTIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
            [^\s,],\s+not\s+\S
          | ^not\s+[^,]{1,60},\s*(?:but\s+)?\S
          | \binstead\s+of\b
          | ^(?:don'?t|do\s+not)\s+use\b
          | ^stop\s+\w+ing\b
          | ^you\s+should(?:\s+have|'ve)\b
        ",
    )
    .expect("a valid regex")
});

/// A change the user reports (needs a detail to count).
static CHANGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:moved\s+to|changed\s+to|switched\s+to|renamed\s+to|migrated\s+to|is\s+now|are\s+now|now\s+lives|now\s+runs|no\s+longer)\b",
    )
    .expect("a valid regex")
});

/// Words that make a statement a rule.
static NORMATIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:use|always|never|not|don'?t|should|must|instead|only|need|needs)\b")
        .expect("a valid regex")
});

/// A correction found in a turn: the sentences it used and its note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub used: Vec<usize>,
    pub text: String,
}

/// The statement's note, if it says what is right.
fn statement(s: &str, terms: &[&str]) -> Option<String> {
    let s = strip_lead_clause(strip_interjections(s, false));
    let note = finish_sentence(s);
    let ok = text::words(&note).len() >= 4
        && !note.ends_with('?')
        && !is_junk_sentence(&note, terms)
        && (has_details(&note, terms) || NORMATIVE.is_match(&note));
    ok.then_some(note)
}

/// Whether a sentence is a correction on its own.
pub(crate) fn is_corrective(s: &str, terms: &[&str]) -> bool {
    let s = strip_lead_clause(strip_interjections(s, false));
    CORRECTIVE.is_match(s) || CHANGE.is_match(s) && has_details(s, terms)
}

/// The first correction among a user turn's `sentences` (those `used` skipped).
pub(crate) fn find(
    sentences: &[String],
    after_rejection: bool,
    used: &[bool],
    terms: &[&str],
) -> Option<Found> {
    let mut at_start = true;
    for (k, raw) in sentences.iter().enumerate() {
        if used[k] {
            continue;
        }
        let s = strip_interjections(raw, true);
        let lead = WRONG.find(s).filter(|_| at_start).or_else(|| {
            ACTUALLY
                .find(s)
                .filter(|m| !s[m.end()..].starts_with("of "))
        });
        if let Some(m) = lead {
            let rest = s[m.end()..].trim();
            if rest.is_empty() {
                let j = k + 1;
                if let Some(next) = sentences.get(j).filter(|_| !used[j])
                    && let Some(text) = statement(next, terms)
                {
                    return Some(Found {
                        used: vec![k, j],
                        text,
                    });
                }
            } else if let Some(text) = statement(rest, terms) {
                return Some(Found {
                    used: vec![k],
                    text,
                });
            }
            at_start = false;
            continue;
        }
        if is_junk_sentence(raw, terms) {
            continue;
        }
        if (is_corrective(raw, terms) || after_rejection && at_start)
            && let Some(text) = statement(raw, terms)
        {
            return Some(Found {
                used: vec![k],
                text,
            });
        }
        at_start = false;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<String> {
        super::super::util::sentences(text)
    }

    #[test]
    fn corrections_say_what_is_right() {
        // (message, after a rejection, the correction)
        let cases: &[(&str, bool, Option<&str>)] = &[
            (
                "No — we use `sqlx migrate run`, not diesel. There's no diesel anywhere in this repo, look at Cargo.toml.",
                true,
                Some("We use `sqlx migrate run`, not diesel."),
            ),
            (
                "ugh, no. always use `pnpm`, never `npm`, in ui/ — there's a pnpm-lock.yaml right there. npm just wrote a package-lock.json",
                false,
                Some(
                    "Always use `pnpm`, never `npm`, in ui/ — there's a pnpm-lock.yaml right there.",
                ),
            ),
            (
                "that's wrong, the config lives in `config/tallyho.toml`, not `.env`. .env is only there so sqlx-cli finds DATABASE_URL",
                false,
                Some("The config lives in `config/tallyho.toml`, not `.env`."),
            ),
            (
                "yeah, the test db is always 5433. also I see `export: 3 rows` spammed. actually, use `tracing`, not `println!` — tracing-subscriber is set up in main.rs",
                false,
                Some("Use `tracing`, not `println!` — tracing-subscriber is set up in main.rs."),
            ),
            (
                "never push directly to main — open a PR. main is protected anyway",
                true,
                Some("Never push directly to main — open a PR."),
            ),
            (
                "ah sorry, forgot to tell you: the staging DB moved to port 6543 after the migration — same host name. run the migration",
                false,
                Some("The staging DB moved to port 6543 after the migration — same host name."),
            ),
            (
                "don't use `unwrap()` in handlers, return an error",
                false,
                Some("Don't use `unwrap()` in handlers, return an error."),
            ),
            (
                "instead of `npm ci`, run `pnpm install --frozen-lockfile`",
                false,
                Some("Instead of `npm ci`, run `pnpm install --frozen-lockfile`."),
            ),
            ("no, that's fine", false, None),
            (
                "hm, ok. I'm not sure 409 is even wrong. we're out of time — let's stop here. don't commit any of this",
                false,
                None,
            ),
            (
                "wow. yeah definitely don't run that. go with our own table",
                false,
                None,
            ),
            (
                "merged, thanks. can you check the admin still loads on staging?",
                false,
                None,
            ),
            (
                "ok. streaming can wait, let's leave it there for today. don't commit yet",
                false,
                None,
            ),
            ("the build is now green", false, None),
            ("No problem, keep going with the plan", false, None),
        ];
        for (text, rejected, want) in cases {
            let s = split(text);
            let used = vec![false; s.len()];
            let got = find(&s, *rejected, &used, &[]).map(|f| f.text);
            assert_eq!(got.as_deref(), *want, "{text:?}");
        }
    }
}

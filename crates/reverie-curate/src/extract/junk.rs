//! What never becomes a candidate: greetings, thanks and filler, short texts with no detail,
//! restated system prompts and personas, harness messages (interruptions, hook feedback,
//! local-command caveats, continuation summaries), dumps of more than a screenful of lines,
//! and anything holding a redacted secret.

use std::sync::LazyLock;

use regex::Regex;

use super::util::has_details;
use crate::text;

/// Most non-empty lines in a message that is still a message, not a dump.
pub(crate) const MAX_LINES: usize = 15;

/// Words that alone say nothing: greetings, thanks, acknowledgments, filler.
#[rustfmt::skip]
const FILLER: &[&str] = &[
    "a", "again", "agreed", "ah", "ahead", "all", "alright", "amazing", "awesome", "brilliant",
    "bye", "call", "cheers", "continue", "cool", "correct", "do", "done", "exactly", "excellent",
    "fantastic", "fine", "for", "go", "good", "got", "great", "hello", "help", "hey", "hi", "hm",
    "hmm", "it", "k", "kk", "let", "lgtm", "looks", "lot", "me", "morning", "much", "nice", "no",
    "nope", "now", "oh", "ok", "okay", "perfect", "please", "proceed", "right", "s", "ship", "so",
    "sounds", "sure", "thank", "thanks", "that", "thats", "the", "this", "thx", "ty", "ugh",
    "very", "was", "well", "what", "works", "wow", "yay", "yeah", "yep", "yes", "you", "yup",
];

/// Openings of whole messages that the harness, not the user, wrote.
const HARNESS: &[&str] = &[
    "caveat: the messages below were generated",
    "stop hook feedback",
    "this session is being continued from a previous conversation",
    "your task is to create a detailed summary",
    "api error",
    "[request interrupted",
    "[image]",
    "[document]",
    "warmup",
];

/// A persona or system prompt restated in a message.
static PERSONA: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(?:you\s+are\s+(?:an?\s+|the\s+)?(?:expert|senior|seasoned|experienced|world[- ]class|helpful|professional|skilled|highly|claude|chatgpt|ai\b|assistant|large\s+language|coding\s+assistant|software\s+engineer)|you're\s+an?\s+(?:expert|senior|experienced)|act\s+as\s+an?\b|as\s+an\s+ai\b|your\s+role\s+is\b|i\s+want\s+you\s+to\s+act\s+as\b|system\s+prompt\s*:)",
    )
    .expect("a valid regex")
});

/// Whether a whole message is junk: empty, harness text, or a dump.
pub(crate) fn is_junk_message(text: &str) -> bool {
    let t = text.trim();
    let lower = t.to_lowercase();
    t.is_empty()
        || HARNESS.iter().any(|h| lower.starts_with(h))
        || t.lines().filter(|l| !l.trim().is_empty()).count() > MAX_LINES
}

/// The marker a user's interruption leaves (`[Request interrupted by user…]`).
pub(crate) fn is_interruption(text: &str) -> bool {
    text.trim_start().starts_with("[Request interrupted")
}

/// A tool result saying the user rejected the call.
pub(crate) fn is_rejection(text: &str) -> bool {
    text.contains("The user doesn't want to proceed with this tool use")
        || text.contains("The user doesn't want to take this action")
        || text.contains("tool use was rejected")
}

/// What the user said when rejecting a tool call, when the harness kept it.
pub(crate) fn rejection_feedback(text: &str) -> Option<&str> {
    let at = text.find("the user said:")?;
    let said = text[at + "the user said:".len()..].trim();
    (!said.is_empty()).then_some(said)
}

/// `text` without the paragraphs that restate a persona or system prompt.
pub(crate) fn drop_personas(text: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for para in text.split("\n\n") {
        if !PERSONA.is_match(para) {
            kept.push(para);
        }
    }
    kept.join("\n\n")
}

/// Whether a sentence is a persona or system-prompt opening.
pub(crate) fn is_persona(s: &str) -> bool {
    PERSONA.is_match(s)
}

/// Greetings, thanks, acknowledgments and filler: every word filler, or no word at all
/// (emoji, punctuation).
pub(crate) fn is_filler(s: &str) -> bool {
    let words = text::words(&s.replace(['\'', '’'], ""));
    words
        .iter()
        .all(|w| FILLER.binary_search(&w.as_str()).is_ok())
}

/// Whether a sentence can never be a note: filler, fewer than four words with no detail, a
/// persona, a redacted secret.
pub(crate) fn is_junk_sentence(s: &str, terms: &[&str]) -> bool {
    is_filler(s)
        || text::words(s).len() < 4 && !has_details(s, terms)
        || is_persona(s)
        || s.contains("[REDACTED")
}

/// Leading interjections and acknowledgments (`ugh,`, `ok.`, `ah sorry,`, `yeah`, `looks
/// good.`) removed; `no` is kept when `keep_no` (it opens a correction).
pub(crate) fn strip_interjections(s: &str, keep_no: bool) -> &str {
    static LEAD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)^(?:(?:ugh|ah|aha|oh|hm+|ok|okay|yeah|yes|yep|well|wow|sorry|great|good|nice|cool|right|alright|perfect|hey|thanks|thank\s+you|looks\s+good|good\s+call|got\s+it|fair\s+enough|one\s+(?:more\s+)?thing)(?:\s*[,.!:;—–]+\s*|\s+-\s+)|(?:also|and|so|oh|ah|btw|fyi|plus|hmm|ok|yeah|but)\s+)",
        )
        .expect("a valid regex")
    });
    static NO: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^(?:no|nope|nah)(?:\s*[,.!:;—–]+\s*|\s+-\s+)").expect("a valid regex")
    });
    let mut t = s.trim_start();
    loop {
        if let Some(m) = LEAD.find(t) {
            t = t[m.end()..].trim_start();
            continue;
        }
        if !keep_no && let Some(m) = NO.find(t) {
            t = t[m.end()..].trim_start();
            continue;
        }
        return t;
    }
}

/// A lead-in clause before a colon that only announces what follows (`forgot to tell you:`,
/// `fyi for later:`, `one thing:`) removed.
pub(crate) fn strip_lead_clause(s: &str) -> &str {
    static CLAUSE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)^(?:(?:ah|oh|so|sorry|btw|fyi|also|and|by\s+the\s+way|quick|heads\s+up|important|note|reminder|one\s+thing|one\s+more\s+thing|forgot\s+to\s+(?:tell|mention|say)(?:\s+(?:you|this))?|for\s+(?:later|the\s+record|context|reference|future\s+reference)|pro\s+tip|ps|p\.s\.|update)[\s,]*)+:\s*",
        )
        .expect("a valid regex")
    });
    match CLAUSE.find(s) {
        Some(m) => s[m.end()..].trim_start(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filler_is_sorted() {
        assert!(
            FILLER.windows(2).all(|w| w[0] < w[1]),
            "FILLER must be sorted"
        );
    }

    #[test]
    fn junk_sentences() {
        let junk = [
            "hi!",
            "thanks, that's great",
            "perfect, thanks!",
            "thx",
            "👍",
            "ok",
            "sounds good, thanks.",
            "go ahead",
            "lgtm",
            "yes",
            "looks good.",
            "not today though",
            "You are an expert Rust engineer working on a production web service.",
            "here: export STRIPE_KEY=[REDACTED:stripe]",
        ];
        for s in junk {
            assert!(is_junk_sentence(s, &[]), "{s:?} should be junk");
        }
        let kept = [
            "always use `pnpm`, never `npm`, in ui/",
            "never push directly to main — open a PR.",
            "the test db is always 5433",
            "use `tracing`",
        ];
        for s in kept {
            assert!(!is_junk_sentence(s, &[]), "{s:?} should be kept");
        }
    }

    #[test]
    fn junk_messages() {
        let cases = [
            ("Stop hook feedback:\n[x]: # Running checks", true),
            (
                "Caveat: The messages below were generated by the user while running local commands.",
                true,
            ),
            ("[Request interrupted by user for tool use]", true),
            (&"line\n".repeat(16), true),
            ("add a Pause/Resume feature", false),
        ];
        for (text, want) in cases {
            assert_eq!(is_junk_message(text), want, "{text:?}");
        }
    }

    #[test]
    fn personas_are_dropped_by_paragraph() {
        let text = "You are an expert Rust engineer. Think step by step.\n\nClients retry POST /api/tallies.";
        assert_eq!(drop_personas(text), "Clients retry POST /api/tallies.");
        assert_eq!(
            drop_personas("You are right, that works."),
            "You are right, that works."
        );
    }

    #[test]
    fn lead_ins_come_off() {
        let cases = [
            ("ugh, no. always", false, "always"),
            ("ugh, no. always", true, "no. always"),
            (
                "ah sorry, forgot to tell you: the DB moved",
                false,
                "forgot to tell you: the DB moved",
            ),
            ("yeah, the test db", false, "the test db"),
            ("also never do that", false, "never do that"),
            ("No — we use sqlx", false, "we use sqlx"),
            ("nothing here", false, "nothing here"),
            ("Now run it", false, "Now run it"),
        ];
        for (s, keep_no, want) in cases {
            assert_eq!(strip_interjections(s, keep_no), want, "{s:?}");
        }
        let clauses = [
            ("forgot to tell you: the DB moved", "the DB moved"),
            ("fyi for later: staging runs", "staging runs"),
            ("one thing: the API", "the API"),
            ("Staging database: `x`", "Staging database: `x`"),
        ];
        for (s, want) in clauses {
            assert_eq!(strip_lead_clause(s), want, "{s:?}");
        }
    }
}

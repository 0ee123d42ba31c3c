//! Facts stated again: a declarative sentence of the user or the assistant (never tool
//! output, a question, a request or the assistant's narration of its own work) that holds a
//! detail, and is stated in two or more different sessions of the same project — about the
//! same subject (`text::jaccard` at least `text::SAME_SUBJECT`) with compatible details (one's
//! a subset of the other's) — or in one session and already among the store's entries. The
//! entry is the most specific phrasing (most details, then longest), with evidence from every
//! session that stated it.
//!
//! Conservative on purpose: a fact must be a statement about something (it has a verb of being
//! or holding: "is", "lives", "runs", "uses"…), its subject is not the speaker, and it does not
//! open with an acknowledgment or an imperative.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;
use reverie_core::curation::{EntryKind, Evidence};
use reverie_core::timestamp::Timestamp;

use super::corrections::is_corrective;
use super::junk::{is_junk_sentence, strip_interjections, strip_lead_clause};
use super::requests::{has_request, is_bare_remember};
use super::util::{Ctx, FACTS, Role, finish_sentence, straighten_apostrophes};
use crate::candidate::Candidate;
use crate::curator::Known;
use crate::text::{self, Detail};

/// Fewest and most words in a fact.
const MIN_WORDS: usize = 5;
const MAX_WORDS: usize = 60;

/// A statement of one session.
#[derive(Debug, Clone)]
pub(crate) struct Statement {
    pub session_id: String,
    pub section: Vec<String>,
    pub text: String,
    pub details: BTreeSet<Detail>,
    pub evidence: Evidence,
    pub at: Option<Timestamp>,
}

/// A verb that makes a sentence a statement about something.
static STATE_VERB: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(?:is|are|was|were|lives?|runs?|uses?|has|have|holds?|needs?|requires?|maps?|points?|listens?|sits?|defaults?|serves?|served|stores?|belongs?|contains?|expects?|reads?|writes?|comes?\s+from|depends\s+on)\b",
    )
    .expect("a valid regex")
});

/// Openings of sentences that are not facts: the speaker narrating or acknowledging,
/// imperatives, questions, hedges.
static NOT_A_FACT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^(?:
            i\b | i'\w+ | we'll | we're\s+going | let\b | let's | you\b | you'\w+ | your\b
          | now\b | next\b | first\b | then\b | done\b | sure\b | ok\b | okay\b | great\b | perfect\b
          | got\s+it | understood | noted | will\s+do | sorry | here\b | here's | thanks | glad
          | anytime | sounds\s+good | anything\b | nothing\s+to | clear\s+picture | looks\b | good\b | nice\b
          | per\s+my | according\s+to\s+my | as\s+(?:you|i)\s+said | summary
          | \w+(?:ing|ed)(?:\s*[.:,]|\s+(?:`|the\b|a\b|an\b|it\b|its\b|my\b|to\b|and\b|on\b|in\b|with\b|from\b|for\b|up\b|now\b|locally\b|at\b|into\b|through\b|over\b))
          | run\b | add\b | use\b | create\b | delete\b | remove\b | update\b | open\b | make\b
          | check\b | fix\b | try\b | put\b | write\b | go\b | install\b | move\b | change\b
          | set\b | read\b | look\b | see\b | show\b | tell\b | keep\b | do\b | don't\b | stop\b
          | ensure\b | avoid\b | prefer\b | replace\b | rename\b | wrap\b | implement\b
          | refactor\b | handle\b | include\b | define\b | declare\b | configure\b | enable\b
          | disable\b | skip\b | mark\b | call\b | return\b | pass\b | start\b | commit\b
          | push\b | merge\b | deploy\b | apply\b | revert\b | note\b | remember\b
          | please\b | can\b | could\b | would\b | should\b | maybe\b | perhaps\b | probably\b
          | if\b | when\b | why\b | how\b | what\b | which\b | where\b | who\b | both\b | all\s+\d
          | this\b | that\b | that's | it\b | it's | since\b | because\b | although\b | though\b
          | while\b | as\b | \*\* | the\s+(?:only\s+)?(?:issue|problem|fix|reason|error|bug|cause)\b
        )",
    )
    .expect("a valid regex")
});

/// Past events and the state of work in progress: not lasting facts.
static TRANSIENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:was|were|had)\b|\bha(?:s|ve)\s+been\b|\b(?:is|are)\s+(?:(?:still\s+)?to\s+do|ready|done|clear|fixed|complete|finished|green|passing|working|broken|deployed|committed|uncommitted|pushed|merged|applied|installed)\b|\btests?\s+pass",
    )
    .expect("a valid regex")
});

/// What the assistant says of the work at hand rather than of the project.
static WORK_IN_PROGRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:already|anymore|currently|now|missing|lost|bug|issue|problem|fixed|superseded|notification|session|task)\b",
    )
    .expect("a valid regex")
});

/// The speaker's future plans and own actions anywhere in the sentence.
static NARRATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:i'll|i\s+will|i'm\s+going|let\s+me|i've|i\s+have|we'll|i'd|i\s+used|i\s+added|i\s+ran)\b")
        .expect("a valid regex")
});

/// What the assistant says of itself or of what just happened: its notes, its errors.
static ASSISTANT_REPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:i|i'\w+|me|my|mine|myself|you|your|error|errors|failed|fails|failing|refused|broke|broken)\b")
        .expect("a valid regex")
});

/// The statement a sentence makes, if it is one (see the module header).
pub(crate) fn statement(sentence: &str, terms: &[&str]) -> Option<String> {
    let sentence = &straighten_apostrophes(sentence);
    let s = strip_lead_clause(strip_interjections(sentence, false)).trim();
    if NOT_A_FACT.is_match(sentence.trim())
        || s.contains('?')
        || s.ends_with(':')
        || s.contains("[REDACTED")
        || is_junk_sentence(s, terms)
        || NOT_A_FACT.is_match(s)
        || NARRATION.is_match(s)
        || TRANSIENT.is_match(s)
        || !STATE_VERB.is_match(s)
        || has_request(s)
        || is_bare_remember(s)
        || is_corrective(s, terms)
    {
        return None;
    }
    let n = text::words(s).len();
    if !(MIN_WORDS..=MAX_WORDS).contains(&n) || text::details(s, terms).is_empty() {
        return None;
    }
    Some(finish_sentence(s))
}

/// The statements of a session's turns, skipping the sentences other extractors used.
pub(crate) fn statements(
    ctx: &Ctx,
    claimed: &BTreeSet<(usize, usize)>,
    terms: &[&str],
) -> Vec<Statement> {
    let mut out = Vec::new();
    for (t, turn) in ctx.turns.iter().enumerate() {
        // Long assistant messages are reports of work, not statements of fact.
        if turn.role == Role::Assistant && turn.text.lines().count() > super::junk::MAX_LINES {
            continue;
        }
        for (k, s) in turn.sentences.iter().enumerate() {
            if claimed.contains(&(t, k)) {
                continue;
            }
            if turn.role == Role::Assistant
                && (ASSISTANT_REPORT.is_match(s) || WORK_IN_PROGRESS.is_match(s))
            {
                continue;
            }
            let Some(text) = statement(s, terms) else {
                continue;
            };
            out.push(Statement {
                session_id: ctx.session_id().to_string(),
                section: ctx.section.clone(),
                details: text::details(&text, terms),
                evidence: ctx.evidence(turn.event, &turn.text),
                at: ctx.at(&[turn.event]),
                text,
            });
        }
    }
    out
}

/// Whether two detail sets agree: one is a subset of the other.
fn compatible(a: &BTreeSet<Detail>, b: &BTreeSet<Detail>) -> bool {
    a.is_subset(b) || b.is_subset(a)
}

/// Facts stated again, across the sessions' `statements` and the store's `known` entries.
pub(crate) fn extract(statements: &[Statement], known: &Known, terms: &[&str]) -> Vec<Candidate> {
    let n = statements.len();
    if n == 0 {
        return Vec::new();
    }
    // The known entries' details, computed only for those paired with a statement.
    let mut known_details: BTreeMap<usize, BTreeSet<Detail>> = BTreeMap::new();
    let mut lsh = text::Lsh::new(text::SAME_SUBJECT);
    for (i, s) in statements.iter().enumerate() {
        lsh.insert(i, &text::signature(&s.text));
    }
    // A known entry can only agree with a statement if it holds one of its details: only
    // those are compared.
    let mut wanted: Vec<String> = statements
        .iter()
        .flat_map(|s| s.details.iter().map(|d| regex::escape(&d.text)))
        .collect();
    wanted.sort();
    wanted.dedup();
    if let Ok(holds) = Regex::new(&format!("(?i){}", wanted.join("|"))) {
        for (j, (t, _)) in known.entries.iter().enumerate() {
            if holds.is_match(t) {
                lsh.insert(n + j, &text::signature(t));
            }
        }
    }
    // Verified pairs: statements of different sessions of one project, or a statement and a
    // known entry; about the same subject, with compatible details.
    let mut partners: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for (a, b) in lsh.candidates() {
        let (a, b) = (a.min(b), a.max(b));
        if a >= n {
            continue;
        }
        let sa = &statements[a];
        let ok = if b < n {
            let sb = &statements[b];
            sa.session_id != sb.session_id
                && sa.section == sb.section
                && compatible(&sa.details, &sb.details)
                && text::jaccard(&sa.text, &sb.text) >= text::SAME_SUBJECT
        } else {
            let (t, _) = &known.entries[b - n];
            text::jaccard(&sa.text, t) >= text::SAME_SUBJECT && {
                let d = known_details
                    .entry(b - n)
                    .or_insert_with(|| text::details(t, terms));
                !d.is_empty() && compatible(&sa.details, d)
            }
        };
        if ok {
            partners.entry(a).or_default().insert(b);
            if b < n {
                partners.entry(b).or_default().insert(a);
            }
        }
    }
    // The most specific first: each takes its partners not yet taken.
    let mut order: Vec<usize> = partners.keys().copied().collect();
    order.sort_by(|&a, &b| {
        let (sa, sb) = (&statements[a], &statements[b]);
        sb.details
            .len()
            .cmp(&sa.details.len())
            .then(sb.text.len().cmp(&sa.text.len()))
            .then(sa.session_id.cmp(&sb.session_id))
            .then(sa.evidence.seq.cmp(&sb.evidence.seq))
            .then(a.cmp(&b))
    });
    let mut taken = vec![false; n];
    let mut out = Vec::new();
    for a in order {
        if taken[a] {
            continue;
        }
        let group: Vec<usize> = std::iter::once(a)
            .chain(
                partners[&a]
                    .iter()
                    .copied()
                    .filter(|&b| b >= n || !taken[b]),
            )
            .collect();
        let members: Vec<usize> = group.iter().copied().filter(|&b| b < n).collect();
        let sessions: BTreeSet<&str> = members
            .iter()
            .map(|&b| statements[b].session_id.as_str())
            .collect();
        let restated: Vec<usize> = group.iter().copied().filter(|&b| b >= n).collect();
        if sessions.len() < 2 && restated.is_empty() {
            continue;
        }
        for &b in &members {
            taken[b] = true;
        }
        let head = &statements[a];
        // The most specific phrasing, a known entry's when it says more.
        let mut text = head.text.clone();
        let mut best = (head.details.len(), head.text.len());
        for &b in &restated {
            let (t, _) = &known.entries[b - n];
            let score = (
                known_details.get(&(b - n)).map_or(0, BTreeSet::len),
                t.len(),
            );
            if score > best {
                best = score;
                text = t.clone();
            }
        }
        let mut evidence: Vec<Evidence> = members
            .iter()
            .map(|&b| statements[b].evidence.clone())
            .collect();
        evidence.sort();
        evidence.dedup();
        let reason = if sessions.len() >= 2 {
            format!("stated in {} sessions", sessions.len())
        } else {
            let (_, path) = &known.entries[restated[0] - n];
            format!("stated again (already in {path})")
        };
        out.push(Candidate {
            kind: EntryKind::Fact,
            text,
            path: FACTS.to_string(),
            section: head.section.clone(),
            evidence,
            at: members.iter().filter_map(|&b| statements[b].at).max(),
            from_tool_output: false,
            flags: Vec::new(),
            reason,
            replaces: Vec::new(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_declarative_with_a_detail() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "yeah, the test db is always 5433 — docker compose maps it there; 5432 on this laptop is my system postgres.",
                Some(
                    "The test db is always 5433 — docker compose maps it there; 5432 on this laptop is my system postgres.",
                ),
            ),
            (
                "the local test db is unaffected, still 5433 in docker compose.",
                Some("The local test db is unaffected, still 5433 in docker compose."),
            ),
            (
                "The admin UI lives in `ui/` and is served from `/admin` by the axum server.",
                Some("The admin UI lives in `ui/` and is served from `/admin` by the axum server."),
            ),
            (
                "I'll look at the project layout and how routes are set up first.",
                None,
            ),
            ("Let me check what axum-idem offers.", None),
            (
                "Got it — tests run against `tallyho_test` on port 5433, never `tallyho_dev`.",
                None,
            ),
            ("Running `cargo test` now, it uses port 5433.", None),
            ("Which database should the integration tests use?", None),
            ("The staging database is on port 5432:", None),
            ("The weather is nice today.", None),
            (
                "Both tests pass and `serde_json` is a dev-dependency.",
                None,
            ),
            ("Config lives in `config/tallyho.toml`, not `.env`.", None),
            ("from now on the port is 5433", None),
            (
                "Looking at the template, when `@not_found` is true, nothing renders.",
                None,
            ),
            (
                "Mark numbered read output (`⎿ 1→`) in tool results as code.",
                None,
            ),
            (
                "Language inference from associated Read tool_use file extension.",
                None,
            ),
            (
                "Don’t use any external frameworks — keep it pure `HTML`.",
                None,
            ),
        ];
        for (s, want) in cases {
            assert_eq!(statement(s, &[]).as_deref(), *want, "{s:?}");
        }
    }

    fn st(session: &str, text: &str) -> Statement {
        Statement {
            session_id: session.into(),
            section: vec!["app".into()],
            details: text::details(text, &[]),
            evidence: Evidence {
                session_id: session.into(),
                seq: 1,
                quote: text.into(),
            },
            at: None,
            text: text.into(),
        }
    }

    #[test]
    fn facts_need_two_sessions_or_the_store() {
        let test_db = "The test db is always 5433 — docker compose maps it there; 5432 on this laptop is my system postgres.";
        let local = "The local test db is unaffected, still 5433 in docker compose.";
        // (statements, known entries, facts expected)
        let cases: Vec<(Vec<Statement>, Vec<&str>, Vec<&str>)> = vec![
            (
                vec![st("s1", test_db), st("s2", local)],
                vec![],
                vec![test_db],
            ),
            // the same session twice is not "again"
            (vec![st("s1", test_db), st("s1", local)], vec![], vec![]),
            // incompatible details: not the same fact
            (
                vec![
                    st(
                        "s1",
                        "The staging database listens on port 5432 at staging-db.internal.",
                    ),
                    st(
                        "s2",
                        "The staging database listens on port 6543 at staging-db.internal.",
                    ),
                ],
                vec![],
                vec![],
            ),
            // restated from the store: the more specific text wins
            (vec![st("s1", local)], vec![test_db], vec![test_db]),
            (vec![st("s1", local)], vec![], vec![]),
        ];
        for (stmts, known, want) in cases {
            let known = Known {
                entries: known
                    .iter()
                    .map(|t| (t.to_string(), "/facts.md".to_string()))
                    .collect(),
                terms: vec![],
                ..Known::default()
            };
            let got: Vec<String> = extract(&stmts, &known, &[])
                .into_iter()
                .map(|c| c.text)
                .collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn facts_from_sessions() {
        use super::super::util::build::*;
        let one = session(
            "s1",
            vec![
                user("The admin UI lives in `ui/` and is served from `/admin`."),
                assistant("I'll check how `ui/` is served from `/admin` first."),
            ],
        );
        let two = session(
            "s2",
            vec![
                assistant("The admin UI in `ui/` is served from `/admin` by the axum server."),
                result(
                    "1",
                    "The admin UI lives in `ui/` and is served from `/admin`.",
                    false,
                ),
            ],
        );
        let three = session(
            "s3",
            vec![user(
                "The admin UI is served from `/admin`, it lives in `ui/`?",
            )],
        );
        let mut stmts = Vec::new();
        for s in [&one, &two, &three] {
            stmts.extend(statements(&Ctx::new(s), &BTreeSet::new(), &[]));
        }
        assert_eq!(stmts.len(), 2, "{stmts:#?}");
        let got = extract(&stmts, &Known::default(), &[]);
        assert_eq!(got.len(), 1);
        let c = &got[0];
        assert_eq!(
            (
                c.kind,
                c.path.as_str(),
                c.section.as_slice(),
                c.text.as_str()
            ),
            (
                EntryKind::Fact,
                FACTS,
                &[][..],
                "The admin UI in `ui/` is served from `/admin` by the axum server."
            )
        );
        let sessions: Vec<&str> = c.evidence.iter().map(|e| e.session_id.as_str()).collect();
        assert_eq!(sessions, ["s1", "s2"]);
        assert_eq!(c.reason, "stated in 2 sessions");
    }
}

//! Episodes: what the people in a conversation said, by whom and when, kept in the room the
//! budget leaves.
//!
//! A session in which no tool was used is a conversation; its participants are the user and
//! anyone the transcript names (a chat among people, OpenAI's `name`). An unnamed assistant's
//! turns are not kept: what an assistant says in a chat is not news about the world.
//!
//! Every sentence of a participant's turn is a possible statement, except questions, filler
//! ("haha, totally!") and sentences too generic to find again. A statement is compressed to
//! its content words — function words and evaluative filler ("so", "really", "awesome") go,
//! negations stay — and valued by how specific it is per byte: the sum of its words' inverse
//! document frequencies over the dream's conversation turns, over its length to the ¾ power,
//! half as much again when it is anchored in time ("yesterday", "last week", "in June").
//! Selection keeps something of as many turns as it can before it keeps more of any one:
//! first the most valuable statement of each turn, best first, then the others, best first,
//! until the room is used. Kept statements of a session are grouped in order into entries of
//! a few statements each (about [`ENTRY_BYTES`]), with the speaker named where it changes,
//! under the session's date in a memory per month (`/conversations/2023-05.md`).
//!
//! The room is the store's byte budget less what its other memories already hold. Older
//! episodes that no longer fit are archived by the budget stage (they score lowest of all
//! entries, oldest first), so that recent conversations are kept in detail and older ones fade
//! into the archive, where they stay restorable.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;

use reverie_core::curation::EntryKind;
use reverie_core::search;
use reverie_core::session::EventKind;
use reverie_core::timestamp::Timestamp;

use super::junk;
use super::util::{self, Ctx};
use crate::candidate::Candidate;
use crate::input::DreamInput;

/// The folder of the episode memories, one per month.
pub const FOLDER: &str = "/conversations/";
/// About how long an episode entry grows before the next statement starts a new one.
pub const ENTRY_BYTES: usize = 250;
/// Room kept for the index line an episode memory adds: `- [rel](rel) — description`, the
/// description being its first day (`2023-05-08`).
fn index_line_bytes(path: &str) -> u64 {
    2 * path.trim_start_matches('/').len() as u64 + 23
}

/// Evaluative words and interjections that say how someone felt about a thing, not what it
/// was: left out of a compressed statement.
#[rustfmt::skip]
const EVALUATIVE: &[&str] = &[
    "absolutely", "actually", "amazing", "awesome", "basically", "cool", "definitely", "excited",
    "fantastic", "glad", "gonna", "great", "haha", "happy", "hello", "hey", "hi", "incredible",
    "kinda", "literally", "lol", "lovely", "nice", "oh", "omg", "pretty", "really", "sorta",
    "super", "thank", "thanks", "totally", "truly", "wanna", "whoa", "woah", "wonderful", "wow",
    "yeah", "yep", "yes",
];

/// A time expression: a statement anchored in time tells of an event, and what happened when
/// is what a memory of conversations is asked about most.
static WHEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)\b(?:
            yesterday | today | tonight | tomorrow | ago | recently | lately
          | (?:last|next|this|past|coming) \s+ (?:night|morning|evening|week|weekend|month|year|
                summer|winter|spring|fall|autumn|monday|tuesday|wednesday|thursday|friday|
                saturday|sunday|time)
          | (?:on|last|next|this) \s+ (?:mon|tues|wednes|thurs|fri|satur|sun)day
          | (?:january|february|april|june|july|august|september|october|november|december)
          | (?:19|20)\d\d
        )\b",
    )
    .expect("a valid regex")
});
/// How much more a statement anchored in time is worth.
const WHEN_BONUS: f64 = 1.5;

/// Words that turn a statement around: never left out.
const NEGATIONS: &[&str] = &["never", "no", "nobody", "none", "nor", "not", "nothing"];

/// Function words that change what a sentence says when dropped ("run it before the
/// migration" is not "run it the migration"): order, exception, exclusion.
const MEANING: &[&str] = &[
    "after", "against", "before", "except", "instead", "only", "unless", "until", "without",
];

/// A token that is code, not prose: a flag (`--all`, `-n`), a code span, a path, an
/// assignment. Kept as written.
fn is_code_token(token: &str) -> bool {
    let t =
        token.trim_matches(|c: char| matches!(c, ',' | ';' | '.' | ':' | '!' | '?' | '(' | ')'));
    (t.starts_with('-')
        && t.trim_start_matches('-')
            .starts_with(|c: char| c.is_alphanumeric()))
        || t.contains(['`', '/', '=', '_'])
}

/// One sentence a participant said, compressed.
#[derive(Debug, Clone)]
struct Statement {
    /// Its session's index in the input, its event's index in the session.
    session: usize,
    event: usize,
    /// Its position among the turn's sentences.
    order: usize,
    speaker: String,
    text: String,
    value: f64,
}

/// A participant's turn: its event's index, the speaker, the text.
type TurnOf<'a> = (usize, String, &'a str);

/// Whether a session is a conversation: no tool was used, and participants said something.
fn is_conversation(ctx: &Ctx<'_>) -> bool {
    !ctx.events()
        .iter()
        .any(|e| matches!(e.kind, EventKind::ToolUse | EventKind::ToolResult))
        && ctx.turns.len() >= 2
}

/// The turns of a conversation worth reading: (event index, speaker, text).
fn participant_turns<'a>(ctx: &Ctx<'a>) -> Vec<TurnOf<'a>> {
    ctx.turns
        .iter()
        .filter_map(|t| {
            let e = &ctx.events()[t.event];
            let speaker = match (e.kind, e.speaker.as_deref()) {
                (_, Some(name)) if !name.trim().is_empty() => name.trim().to_string(),
                (EventKind::User, None) => "User".to_string(),
                _ => return None,
            };
            let text = e.text.as_deref()?;
            (!junk::is_junk_message(text)).then_some((t.event, speaker, text))
        })
        .collect()
}

/// `sentence` reduced to its content words (see the module docs), or `None` when nothing of
/// substance is left.
fn compress(sentence: &str) -> Option<String> {
    let kept: Vec<&str> = sentence
        .split_whitespace()
        .filter(|token| {
            let lower = token.to_lowercase();
            let core: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
            if core.is_empty() {
                // Punctuation of its own ("-", "–") carries nothing; emoji neither.
                return false;
            }
            if is_code_token(token) {
                return true;
            }
            // Contractions: "don't" and "can't" negate; "I'm", "it's", "we'll" do not.
            if let Some((head, tail)) = lower.split_once(['\'', '’']) {
                if tail.starts_with('t') && !tail.starts_with("th") {
                    return true;
                }
                let head: String = head.chars().filter(|c| c.is_alphanumeric()).collect();
                return !search::is_stopword(&head);
            }
            if NEGATIONS.contains(&core.as_str()) || MEANING.contains(&core.as_str()) {
                return true;
            }
            !search::is_stopword(&core) && EVALUATIVE.binary_search(&core.as_str()).is_err()
        })
        .collect();
    let text = kept.join(" ");
    (search::words(&text).len() >= 2).then_some(text)
}

/// The episode candidates of the input's conversations, within `room` bytes of memory.
pub(super) fn extract(input: &DreamInput, ctxs: &[Ctx<'_>], room: u64) -> Vec<Candidate> {
    // Each conversation's turns, and the document frequency of every term over all of them.
    let conversations: Vec<(usize, Vec<TurnOf<'_>>)> = ctxs
        .iter()
        .enumerate()
        .filter(|(_, c)| is_conversation(c))
        .map(|(i, c)| (i, participant_turns(c)))
        .filter(|(_, turns)| !turns.is_empty())
        .collect();
    let n_turns: usize = conversations.iter().map(|(_, t)| t.len()).sum();
    if n_turns < 2 {
        return Vec::new();
    }
    let mut df: BTreeMap<String, u32> = BTreeMap::new();
    for (_, turns) in &conversations {
        for (_, speaker, text) in turns {
            let terms: BTreeSet<String> = search::terms(&format!("{speaker}: {text}"))
                .into_iter()
                .collect();
            for t in terms {
                *df.entry(t).or_default() += 1;
            }
        }
    }
    let n = n_turns as f64;
    let idf = |t: &str| (n / f64::from(df.get(t).copied().unwrap_or(1).max(1))).ln();
    // A statement must say more than a few common words: at least as much as two or three of
    // the rarest words could (the bar scales with the corpus, as the rarest idf does).
    let min_info = 2.2 * n.ln();

    let mut statements: Vec<Statement> = Vec::new();
    for (s, turns) in &conversations {
        for (event, speaker, text) in turns {
            for (order, sentence) in util::sentences(text).into_iter().enumerate() {
                let sentence = sentence.trim();
                if sentence.ends_with('?') || junk::is_filler(sentence) {
                    continue;
                }
                let Some(short) = compress(sentence) else {
                    continue;
                };
                let terms: BTreeSet<String> = search::terms(&short).into_iter().collect();
                let info: f64 = terms.iter().map(|t| idf(t)).sum();
                if info < min_info {
                    continue;
                }
                let mut value = info / (short.len() as f64 + 1.0).powf(0.75);
                if WHEN.is_match(&short) {
                    value *= WHEN_BONUS;
                }
                statements.push(Statement {
                    session: *s,
                    event: *event,
                    order,
                    speaker: speaker.clone(),
                    text: short,
                    value,
                });
            }
        }
    }
    if statements.is_empty() {
        return Vec::new();
    }

    // Priority: each turn's best statement, best first; then every other statement, best first.
    let by_value = |a: &usize, b: &usize| {
        statements[*b]
            .value
            .total_cmp(&statements[*a].value)
            .then_with(|| key(&statements[*a]).cmp(&key(&statements[*b])))
    };
    let mut best_of_turn: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for (i, st) in statements.iter().enumerate() {
        let slot = best_of_turn.entry((st.session, st.event)).or_insert(i);
        if by_value(&i, slot).is_lt() {
            *slot = i;
        }
    }
    let mut priority: Vec<usize> = best_of_turn.values().copied().collect();
    priority.sort_by(by_value);
    let firsts: BTreeSet<usize> = priority.iter().copied().collect();
    let mut rest: Vec<usize> = (0..statements.len())
        .filter(|i| !firsts.contains(i))
        .collect();
    rest.sort_by(by_value);
    priority.extend(rest);

    // As many as fit: the longest prefix of the priority whose rendering fits the room.
    let index_lines = |chosen: &[usize]| -> u64 {
        chosen
            .iter()
            .map(|&i| path_of(&month(session_day(input, statements[i].session))))
            .collect::<BTreeSet<_>>()
            .iter()
            .filter(|p| !input.store.memories.iter().any(|m| &m.path == *p))
            .map(|p| index_line_bytes(p))
            .sum()
    };
    let fits = |m: usize| -> bool {
        let chosen = &priority[..m];
        rendered_bytes(input, &statements, chosen) + index_lines(chosen) <= room
    };
    let (mut lo, mut hi) = (0usize, priority.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let chosen = &priority[..lo];
    entries(input, ctxs, &statements, chosen)
}

/// A statement's place in the conversation: session, event, sentence.
fn key(s: &Statement) -> (usize, usize, usize) {
    (s.session, s.event, s.order)
}

/// The day a session happened, as `YYYY-MM-DD` (UTC); `undated` without a time.
fn session_day(input: &DreamInput, session: usize) -> String {
    let s = &input.sessions[session];
    let at = s
        .session
        .started_at
        .or_else(|| s.events.iter().find_map(|e| e.timestamp));
    match at {
        Some(t) => day_of(t),
        None => "undated".to_string(),
    }
}

fn day_of(t: Timestamp) -> String {
    let rfc = t.to_rfc3339();
    rfc.get(..10).unwrap_or("undated").to_string()
}

/// The memory of a month's episodes.
fn path_of(month: &str) -> String {
    format!("{FOLDER}{month}.md")
}

fn month(day: String) -> String {
    day.get(..7).map_or(day.clone(), str::to_string)
}

/// One episode entry being built: its session, text, and the turns it holds.
struct Draft {
    session: usize,
    text: String,
    speaker: String,
    events: Vec<usize>,
}

/// The chosen statements grouped into entries, in conversation order.
fn group(statements: &[Statement], chosen: &[usize]) -> Vec<Draft> {
    let mut order: Vec<usize> = chosen.to_vec();
    order.sort_by_key(|&i| key(&statements[i]));
    let mut out: Vec<Draft> = Vec::new();
    for i in order {
        let st = &statements[i];
        let piece = |d: &Draft| {
            if d.speaker == st.speaker {
                st.text.clone()
            } else {
                format!("{}: {}", st.speaker, st.text)
            }
        };
        if let Some(d) = out.last_mut()
            && d.session == st.session
        {
            let same_turn = d.events.last() == Some(&st.event);
            let next = piece(d);
            if same_turn || d.text.len() + 1 + next.len() <= ENTRY_BYTES {
                d.text.push(' ');
                d.text.push_str(&next);
                d.speaker = st.speaker.clone();
                if !same_turn {
                    d.events.push(st.event);
                }
                continue;
            }
        }
        out.push(Draft {
            session: st.session,
            text: format!("{}: {}", st.speaker, st.text),
            speaker: st.speaker.clone(),
            events: vec![st.event],
        });
    }
    out
}

/// The bytes the chosen statements take once rendered: per memory a section heading per day,
/// and a list item per entry.
fn rendered_bytes(input: &DreamInput, statements: &[Statement], chosen: &[usize]) -> u64 {
    let drafts = group(statements, chosen);
    let mut days: BTreeSet<String> = BTreeSet::new();
    let mut bytes = 0u64;
    for d in &drafts {
        let day = session_day(input, d.session);
        if days.insert(day.clone()) {
            // "\n## YYYY-MM-DD\n\n"
            bytes += day.len() as u64 + 6;
        }
        // "- text\n"
        bytes += d.text.len() as u64 + 3;
    }
    bytes
}

/// The candidates of the chosen statements.
fn entries(
    input: &DreamInput,
    ctxs: &[Ctx<'_>],
    statements: &[Statement],
    chosen: &[usize],
) -> Vec<Candidate> {
    group(statements, chosen)
        .into_iter()
        .map(|d| {
            let ctx = &ctxs[d.session];
            let day = session_day(input, d.session);
            let path = path_of(&month(day.clone()));
            let events: Vec<(usize, String)> = d
                .events
                .iter()
                .map(|&e| (e, ctx.events()[e].text.clone().unwrap_or_default()))
                .collect();
            ctx.candidate(
                EntryKind::Episode,
                d.text,
                &path,
                vec![day],
                &events,
                "what was said in a conversation",
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::util::build::*;
    use reverie_core::session::Event;

    #[test]
    fn compression_keeps_content_words_and_negations() {
        assert_eq!(
            compress("I went to a LGBTQ support group yesterday and it was so powerful.")
                .as_deref(),
            Some("went LGBTQ support group yesterday powerful.")
        );
        assert_eq!(
            compress("I don't eat meat, and I'm never going back!").as_deref(),
            Some("don't eat meat, never going back!")
        );
        // Flags and the words that order or exclude are kept: dropping `--all` or "before"
        // changes what was said.
        assert_eq!(
            compress("You should run the tests with --all before you push to the main branch.")
                .as_deref(),
            Some("run tests --all before push main branch.")
        );
        assert_eq!(
            compress("We deploy on Fridays only, never without the `deploy.sh` script.").as_deref(),
            Some("deploy Fridays only, never without `deploy.sh` script.")
        );
        assert_eq!(compress("Wow, that's so awesome!"), None);
        assert_eq!(compress("Haha yes - totally 😂"), None);
    }

    fn said(speaker: &str, text: &str) -> Event {
        let mut e = user(text);
        e.speaker = Some(speaker.to_string());
        e
    }

    fn chat() -> Vec<Event> {
        vec![
            said("Caroline", "Hey Mel! Good to see you! How have you been?"),
            said(
                "Melanie",
                "Hey Caroline! I'm swamped with the kids & work. What's up with you?",
            ),
            said(
                "Caroline",
                "I went to a LGBTQ support group yesterday and it was so powerful.",
            ),
            said(
                "Melanie",
                "Wow, that's cool, Caroline! Did you hear any inspiring stories?",
            ),
            said(
                "Caroline",
                "The transgender stories were so inspiring! I was so happy and thankful for all the support.",
            ),
            said(
                "Melanie",
                "I painted that lake sunrise last year! It's special to me.",
            ),
            said("Caroline", "Thanks, Melanie! That's really sweet."),
            said(
                "Melanie",
                "I ran a charity race for mental health last Saturday.",
            ),
        ]
    }

    fn input_of(sessions: Vec<crate::input::SessionInput>) -> DreamInput {
        DreamInput {
            dream_id: "drm_test".into(),
            store: crate::input::StoreSnapshot {
                store_id: "memstore_test".into(),
                revision: 0,
                memories: Vec::new(),
                entries: Vec::new(),
                policy: Default::default(),
            },
            sessions,
            servings: Vec::new(),
            instructions: None,
        }
    }

    #[test]
    fn a_conversation_becomes_dated_episodes_with_speakers() {
        let mut s = session("sesn_chat", chat());
        s.session.started_at = Timestamp::parse("2023-05-08T13:56:00Z");
        let input = input_of(vec![s]);
        let ctxs: Vec<Ctx<'_>> = input.sessions.iter().map(Ctx::new).collect();
        let out = extract(&input, &ctxs, 10_000);
        assert!(!out.is_empty());
        let all: Vec<&str> = out.iter().map(|c| c.text.as_str()).collect();
        let text = all.join("\n");
        assert!(
            text.contains("Caroline: went LGBTQ support group yesterday powerful."),
            "{text}"
        );
        assert!(text.contains("Melanie:"), "{text}");
        assert!(text.contains("charity race mental health"), "{text}");
        // No greetings, questions or thanks.
        assert!(!text.contains("Good to see"), "{text}");
        assert!(!text.contains('?'), "{text}");
        assert!(!text.contains("sweet"), "{text}");
        for c in &out {
            assert_eq!(c.kind, EntryKind::Episode);
            assert_eq!(c.path, "/conversations/2023-05.md");
            assert_eq!(c.section, ["2023-05-08"]);
            assert!(!c.evidence.is_empty());
            assert!(c.text.len() <= ENTRY_BYTES + 120, "{}", c.text);
        }
        // Every turn a statement came from is evidence of its entry, and only those.
        let support = out
            .iter()
            .find(|c| c.text.contains("support group"))
            .unwrap();
        assert!(support.evidence.iter().any(|e| e.seq == 2));
        assert!(support.evidence.iter().all(|e| e.seq != 0 && e.seq != 6));
    }

    #[test]
    fn the_room_keeps_one_statement_per_turn_before_a_second() {
        let mut s = session("sesn_chat", chat());
        s.session.started_at = Timestamp::parse("2023-05-08T13:56:00Z");
        let input = input_of(vec![s]);
        let ctxs: Vec<Ctx<'_>> = input.sessions.iter().map(Ctx::new).collect();
        let full: usize = extract(&input, &ctxs, 10_000)
            .iter()
            .map(|c| c.evidence.len())
            .sum();
        // A tight room still covers turns, just with less of each.
        let tight = extract(&input, &ctxs, 260);
        let bytes: usize = tight.iter().map(|c| c.text.len() + 3).sum::<usize>() + 16 + 71;
        assert!(bytes <= 260, "{bytes}");
        let turns: usize = tight.iter().map(|c| c.evidence.len()).sum();
        assert!(turns >= 3 && turns <= full, "{turns} of {full}");
        assert!(
            !tight
                .iter()
                .any(|c| c.text.contains("transgender stories inspiring. thankful"))
        );
        assert!(extract(&input, &ctxs, 50).is_empty());
    }

    #[test]
    fn sessions_with_tools_are_not_conversations() {
        let mut events = chat();
        events.extend(ran("t1", "ls", "a b c", false));
        let input = input_of(vec![session("sesn_tools", events)]);
        let ctxs: Vec<Ctx<'_>> = input.sessions.iter().map(Ctx::new).collect();
        assert!(extract(&input, &ctxs, 10_000).is_empty());
        // An unnamed assistant's turns are not statements; the user's are.
        let input = input_of(vec![session(
            "sesn_chat",
            vec![
                user("I moved to Lisbon in March and work remotely for a Berlin startup."),
                assistant("Lisbon is a lovely city with a mild climate and many startups."),
                user("My daughter starts school there in September."),
            ],
        )]);
        let ctxs: Vec<Ctx<'_>> = input.sessions.iter().map(Ctx::new).collect();
        let out = extract(&input, &ctxs, 10_000);
        let text: Vec<&str> = out.iter().map(|c| c.text.as_str()).collect();
        assert!(text.iter().all(|t| t.starts_with("User: ")), "{text:?}");
        assert!(text.iter().all(|t| !t.contains("climate")), "{text:?}");
    }
}

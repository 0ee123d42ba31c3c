//! What the extractors share: a session's conversation read once (user and assistant turns,
//! cleaned of injected tags, junk and personas), sentences, the cleaning of a statement into a
//! note, evidence, and the mapping of memory files onto store paths.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use reverie_core::curation::{EntryKind, Evidence};
use reverie_core::session::{Event, EventKind};
use reverie_core::timestamp::Timestamp;

use super::junk;
use crate::candidate::Candidate;
use crate::input::SessionInput;
use crate::text;
use crate::text::tokens::{code_span_ranges, strip_list_marker};

/// Most characters of an evidence quote.
pub(crate) const QUOTE_CHARS: usize = 200;

/// Where instructions, corrections and possible injections go.
pub(crate) const INSTRUCTIONS: &str = "/instructions.md";
/// Where error → fix lessons go.
pub(crate) const LESSONS: &str = "/lessons.md";
/// Where facts stated again go.
pub(crate) const FACTS: &str = "/facts.md";
/// Where definitions go.
pub(crate) const GLOSSARY: &str = reverie_core::curation::GLOSSARY_PATH;

/// Who said a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    User,
    Assistant,
}

/// One message of the main conversation, cleaned.
#[derive(Debug, Clone)]
pub(crate) struct Turn {
    /// The event's index in the session's events.
    pub event: usize,
    pub role: Role,
    /// The text without injected tags and persona paragraphs.
    pub text: String,
    /// Its sentences ([`sentences`]).
    pub sentences: Vec<String>,
    /// A user turn that follows assistant activity (text or a tool call) since the user's
    /// previous turn.
    pub after_assistant: bool,
    /// A user turn right after the user rejected a tool call or interrupted the assistant.
    pub after_rejection: bool,
}

/// A session as the extractors read it.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub input: &'a SessionInput,
    /// `[project name]`, or empty when the session has no project.
    pub section: Vec<String>,
    /// The user's and the assistant's turns of the main conversation (no subagents), junk
    /// messages left out.
    pub turns: Vec<Turn>,
    /// Tool results by tool-use id.
    pub results: BTreeMap<&'a str, usize>,
    /// Tool calls by tool-use id.
    pub uses: BTreeMap<&'a str, usize>,
    /// The session's branch and folder, generalized away in what it teaches.
    pub volatile: crate::signature::Volatile,
}

impl<'a> Ctx<'a> {
    pub fn new(input: &'a SessionInput) -> Ctx<'a> {
        let project = input
            .session
            .project
            .as_deref()
            .map(|p| p.trim_end_matches(['/', '\\']))
            .filter(|p| !p.is_empty());
        // A store is one project's memory, and the folder's name is often a worktree's or a
        // branch's (`spotter-dov`, Conductor's `munich`): notes are not filed under it.
        let section = Vec::new();
        let mut results = BTreeMap::new();
        let mut uses = BTreeMap::new();
        for (i, e) in input.events.iter().enumerate() {
            let Some(id) = e.tool_use_id.as_deref() else {
                continue;
            };
            match e.kind {
                EventKind::ToolResult => {
                    results.entry(id).or_insert(i);
                }
                EventKind::ToolUse => {
                    uses.entry(id).or_insert(i);
                }
                _ => {}
            }
        }
        let volatile =
            crate::signature::Volatile::new(input.session.git_branch.as_deref(), project);
        Ctx {
            input,
            volatile,
            section,
            turns: turns(&input.events),
            results,
            uses,
        }
    }

    pub fn events(&self) -> &'a [Event] {
        &self.input.events
    }

    pub fn session_id(&self) -> &'a str {
        &self.input.session.id
    }

    /// The result event of the tool call at `i`.
    pub fn result_of(&self, i: usize) -> Option<usize> {
        let id = self.events()[i].tool_use_id.as_deref()?;
        self.results.get(id).copied().filter(|&r| r > i)
    }

    /// The name of the tool whose result is the event at `i`.
    pub fn tool_of_result(&self, i: usize) -> Option<&'a str> {
        let id = self.events()[i].tool_use_id.as_deref()?;
        let u = self.uses.get(id).copied().filter(|&u| u < i)?;
        self.events()[u].tool_name.as_deref()
    }

    /// Evidence for the event at `i`, quoting `said` (what the event said).
    pub fn evidence(&self, i: usize, said: &str) -> Evidence {
        Evidence {
            session_id: self.session_id().to_string(),
            seq: self.events()[i].seq,
            quote: quote(said),
        }
    }

    /// The newest time of the events at `idx`; the session's end or start without one.
    pub fn at(&self, idx: &[usize]) -> Option<Timestamp> {
        idx.iter()
            .filter_map(|&i| self.events()[i].timestamp)
            .max()
            .or(self.input.session.ended_at)
            .or(self.input.session.started_at)
    }

    /// A candidate of this session.
    pub fn candidate(
        &self,
        kind: EntryKind,
        text: String,
        path: &str,
        section: Vec<String>,
        events: &[(usize, String)],
        reason: impl Into<String>,
    ) -> Candidate {
        let mut evidence: Vec<Evidence> =
            events.iter().map(|(i, q)| self.evidence(*i, q)).collect();
        evidence.sort();
        evidence.dedup();
        let idx: Vec<usize> = events.iter().map(|(i, _)| *i).collect();
        // Relative dates are read against when the words were said: the first evidence.
        // Episodes carry their date already; memory files are kept as the agent wrote them.
        let said = idx.first().and_then(|&i| self.events()[i].timestamp);
        let text = match said {
            Some(t) if !matches!(kind, EntryKind::MemoryWrite | EntryKind::Episode) => {
                anchor_dates(&text, t)
            }
            _ => text,
        };
        Candidate {
            kind,
            text,
            path: path.to_string(),
            section,
            evidence,
            at: self.at(&idx),
            from_tool_output: false,
            flags: Vec::new(),
            reason: reason.into(),
            replaces: Vec::new(),
        }
    }
}

/// Relative dates ("yesterday", "last night", "this morning", "tomorrow", "last week") with
/// the date they meant when said at `said` (UTC) in parentheses after them, so that a note
/// read months later still says when: "moved to port 6543 last night (2026-03-12)".
pub(crate) fn anchor_dates(text: &str, said: Timestamp) -> String {
    static RELATIVE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)\b(?:yesterday|last\s+night|this\s+(?:morning|afternoon|evening)|today|tonight|tomorrow|last\s+week|next\s+week)\b(?:'s)?(\s*\(\d{4}-\d{2}-\d{2}\))?",
        )
        .expect("a valid regex")
    });
    const DAY: i64 = 86_400 * 1_000_000;
    let date = |days: i64| Timestamp(said.0 + days * DAY).to_rfc3339()[..10].to_string();
    RELATIVE
        .replace_all(text, |c: &regex::Captures| {
            let m = &c[0];
            if c.get(1).is_some() {
                return m.to_string();
            }
            let word = m.to_lowercase();
            let when = if word.starts_with("yesterday") || word.starts_with("last night") {
                date(-1)
            } else if word.starts_with("tomorrow") {
                date(1)
            } else if word.starts_with("last week") {
                format!("the week before {}", date(0))
            } else if word.starts_with("next week") {
                format!("the week after {}", date(0))
            } else {
                date(0)
            };
            format!("{m} ({when})")
        })
        .into_owned()
}

/// Reads the main conversation's turns.
fn turns(events: &[Event]) -> Vec<Turn> {
    let mut out = Vec::new();
    let mut assistant_since_user = false;
    let mut rejected = false;
    let mut after_command = false;
    for (i, e) in events.iter().enumerate() {
        if e.sidechain {
            continue;
        }
        let raw = e.text.as_deref().unwrap_or("");
        match e.kind {
            EventKind::User => {
                if raw.contains("<command-name>") || raw.contains("<command-message>") {
                    // A slash command: the message after it is the command's expanded prompt.
                    after_command = true;
                    continue;
                }
                if junk::is_interruption(raw) {
                    rejected = true;
                    continue;
                }
                let expansion = std::mem::take(&mut after_command);
                let text = junk::drop_personas(&strip_tags(raw));
                if text.trim().is_empty()
                    || junk::is_junk_message(&text)
                    || expansion && (text.lines().count() > 2 || text.len() > 300)
                {
                    continue;
                }
                out.push(Turn {
                    event: i,
                    role: Role::User,
                    sentences: sentences(&text),
                    text,
                    after_assistant: assistant_since_user,
                    after_rejection: std::mem::take(&mut rejected),
                });
                assistant_since_user = false;
            }
            EventKind::Assistant if !e.is_error => {
                let text = strip_tags(raw);
                if !text.trim().is_empty() {
                    out.push(Turn {
                        event: i,
                        role: Role::Assistant,
                        sentences: sentences(&text),
                        text,
                        after_assistant: false,
                        after_rejection: false,
                    });
                }
                assistant_since_user = true;
                rejected = false;
            }
            EventKind::ToolUse => {
                assistant_since_user = true;
                rejected = false;
            }
            EventKind::ToolResult if junk::is_rejection(raw) => {
                rejected = true;
                // Newer agents keep the reason the user gave with the rejection.
                if let Some(said) = junk::rejection_feedback(raw) {
                    let text = strip_tags(said);
                    if !text.trim().is_empty() && !junk::is_junk_message(&text) {
                        out.push(Turn {
                            event: i,
                            role: Role::User,
                            sentences: sentences(&text),
                            text,
                            after_assistant: true,
                            after_rejection: true,
                        });
                        assistant_since_user = false;
                        rejected = false;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Whitespace collapsed to single spaces.
pub(crate) fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters of `s`, cut at a word boundary with `…` when cut.
pub(crate) fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut end = s
        .char_indices()
        .nth(max.saturating_sub(1))
        .map_or(s.len(), |(i, _)| i);
    if let Some(space) = s[..end].rfind(' ')
        && space > end / 2
    {
        end = space;
    }
    format!("{}…", s[..end].trim_end())
}

/// An evidence quote: whitespace collapsed, at most [`QUOTE_CHARS`] characters.
pub(crate) fn quote(s: &str) -> String {
    cut(&collapse(s), QUOTE_CHARS)
}

/// `s` as an inline code span, with a fence longer than any run of backticks inside it.
pub(crate) fn code(s: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    if longest > 0 || s.starts_with(' ') || s.ends_with(' ') {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// Injected tags — `<system-reminder>`, `<command-name>`, `<local-command-stdout>`, hook
/// output — removed with their content.
pub(crate) fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((start, name, end)) = open_tag(rest) {
        out.push_str(&rest[..start]);
        let close = format!("</{name}>");
        match rest[end..].find(&close) {
            Some(c) => rest = &rest[end + c + close.len()..],
            // An unclosed reminder runs to the end; another unclosed tag loses only itself.
            None if name == "system-reminder" => rest = "",
            None => rest = &rest[end..],
        }
    }
    out.push_str(rest);
    out
}

/// The first injected-tag opening in `s`: its start, name and end.
fn open_tag(s: &str) -> Option<(usize, &str, usize)> {
    let bytes = s.as_bytes();
    let mut from = 0;
    while let Some(off) = s[from..].find('<') {
        let start = from + off;
        let name_len = bytes[start + 1..]
            .iter()
            .take_while(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_')
            })
            .count();
        let name = &s[start + 1..start + 1 + name_len];
        let injected = name_len > 2
            && name.as_bytes()[0].is_ascii_lowercase()
            && (name.contains(['-', '_'])
                || matches!(name, "reminder" | "feedback" | "thinking" | "instructions"));
        if injected {
            let after = start + 1 + name_len;
            if let Some(gt) = s[after..].find('>')
                && (gt == 0 || s.as_bytes()[after] == b' ')
                && !s[after..after + gt].contains('\n')
            {
                return Some((start, name, after + gt + 1));
            }
        }
        from = start + 1;
    }
    None
}

/// Words that end a sentence with a period but are abbreviations.
const ABBREVIATIONS: &[&str] = &[
    "approx", "cf", "dr", "e.g", "eg", "etc", "i.e", "ie", "incl", "mr", "mrs", "ms", "st", "vs",
];

/// The sentences of a text: each line outside fenced code (list markers, heading marks and
/// quote marks removed; table rows skipped) cut after `.`, `!` or `?` followed by a space,
/// outside code spans and not after an abbreviation. A sentence wholly in parentheses loses
/// them.
pub(crate) fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fence: Option<char> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(f) = fence {
            if t.starts_with(&f.to_string().repeat(3)) {
                fence = None;
            }
            continue;
        }
        if t.starts_with("```") || t.starts_with("~~~") {
            fence = t.chars().next();
            continue;
        }
        if t.is_empty() || t.starts_with('|') {
            continue;
        }
        let t = strip_list_marker(t)
            .trim_start_matches('>')
            .trim_start()
            .trim_start_matches('#')
            .trim();
        split_line(t, &mut out);
    }
    out.into_iter()
        .map(|s| straighten_apostrophes(unwrap_parens(&s)))
        .filter(|s| !s.is_empty())
        .collect()
}

/// `don’t` → `don't`: a typographic apostrophe inside a word (never a quotation mark there)
/// made plain, so that rules read both spellings alike.
pub(crate) fn straighten_apostrophes(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let inside = i > 0
                && chars[i - 1].is_alphanumeric()
                && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
            if c == '’' && inside { '\'' } else { c }
        })
        .collect()
}

fn split_line(line: &str, out: &mut Vec<String>) {
    let spans = code_span_ranges(line);
    let in_code = |i: usize| spans.iter().any(|&(s, e)| s <= i && i < e);
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut start = 0;
    let mut k = 0;
    while k < chars.len() {
        let (i, c) = chars[k];
        if !matches!(c, '.' | '!' | '?') || in_code(i) {
            k += 1;
            continue;
        }
        let mut j = k + 1;
        while j < chars.len()
            && matches!(chars[j].1, '.' | '!' | '?' | ')' | '"' | '\'' | '’' | '”')
        {
            j += 1;
        }
        let at_end = j == chars.len();
        if !at_end && !chars[j].1.is_whitespace() {
            k = j;
            continue;
        }
        if c == '.' && k == j - 1 {
            // After the character found, whatever its width (`、` is three bytes).
            let word_start = line[..i]
                .char_indices()
                .rev()
                .find(|&(_, ch)| !(ch.is_alphanumeric() || ch == '.'))
                .map_or(0, |(p, ch)| p + ch.len_utf8());
            let word = line[word_start..i].to_lowercase();
            if ABBREVIATIONS.contains(&word.as_str()) {
                k = j;
                continue;
            }
        }
        let end = if at_end { line.len() } else { chars[j].0 };
        let s = line[start..end].trim();
        if !s.is_empty() {
            out.push(s.to_string());
        }
        start = end;
        k = j;
    }
    let s = line[start..].trim();
    if !s.is_empty() {
        out.push(s.to_string());
    }
}

/// `(text.)` → `text.`; `(text).` → `text`.
fn unwrap_parens(s: &str) -> &str {
    let inner = s
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(").").or(r.strip_suffix(')')));
    match inner {
        Some(inner) if !inner.contains(['(', ')']) => inner.trim(),
        _ => s,
    }
}

/// A statement finished as a note: trimmed, its first letter capitalized (unless it starts
/// with a code-like word), ending with a period.
pub(crate) fn finish_sentence(s: &str) -> String {
    let mut t = s
        .trim()
        .trim_end_matches(|c: char| {
            c.is_whitespace() || matches!(c, ',' | ';' | ':' | '—' | '–' | '-' | '!')
        })
        .to_string();
    if t.is_empty() {
        return t;
    }
    if !t.ends_with(['.', '?', '…']) {
        t.push('.');
    }
    capitalize(&t)
}

/// The first letter upper-cased when the first word is a plain lowercase word.
pub(crate) fn capitalize(s: &str) -> String {
    let first_word: &str = s.split_whitespace().next().unwrap_or("");
    let plain = first_word
        .trim_end_matches([',', '.', ':', ';'])
        .chars()
        .all(|c| c.is_ascii_lowercase() || c == '\'' || c == '’');
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if plain && c.is_ascii_lowercase() => {
            let mut out = c.to_ascii_uppercase().to_string();
            out.push_str(chars.as_str());
            out
        }
        _ => s.to_string(),
    }
}

/// The details of `s` (see [`text::details`]).
pub(crate) fn has_details(s: &str, terms: &[&str]) -> bool {
    !text::details(s, terms).is_empty()
}

/// Whether `path` is a memory file: under a `memories` or `memory` directory, or an agent's
/// `MEMORY.md`. A `CLAUDE.md` (or `AGENTS.md`) is not: it already reaches the agent at every
/// session start, and agents write unchecked claims into it.
pub(crate) fn is_memory_file(path: &str) -> bool {
    path.contains("/memories/")
        || path.contains("/memory/")
        || path.starts_with("memories/")
        || path.starts_with("memory/")
        || path.ends_with("MEMORY.md")
}

/// The store path of a memory file: everything up to and including `/memories` or `/memory`
/// stripped (`/memories/deploy.md` → `/deploy.md`, `…/memory/MEMORY.md` → `/MEMORY.md`);
/// a `MEMORY.md` elsewhere by its name. `/` for the directory itself.
pub(crate) fn memory_path(path: &str) -> Option<String> {
    let path = path.trim();
    let with_slash = format!("/{}", path.trim_start_matches('/'));
    for dir in ["/memories", "/memory"] {
        if let Some(at) = with_slash.rfind(dir) {
            let rest = &with_slash[at + dir.len()..];
            if rest.is_empty() || rest.starts_with('/') {
                let rest = rest.trim_end_matches('/');
                return Some(if rest.is_empty() {
                    "/".to_string()
                } else {
                    rest.to_string()
                });
            }
        }
    }
    if path.ends_with("MEMORY.md") {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        return Some(format!("/{name}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_dates_get_the_date_they_meant() {
        // Said on 2026-03-13 at 09:12 UTC (examples/sessions/2026-03-13-staging-db-port.jsonl).
        let said = Timestamp::parse("2026-03-13T09:12:00Z").unwrap();
        let cases = [
            (
                "The staging DB moved to port 6543 after the migration last night.",
                "The staging DB moved to port 6543 after the migration last night (2026-03-12).",
            ),
            (
                "Yesterday's deploy broke the export; the fix ships tomorrow.",
                "Yesterday's (2026-03-12) deploy broke the export; the fix ships tomorrow (2026-03-14).",
            ),
            (
                "We froze the schema last week.",
                "We froze the schema last week (the week before 2026-03-13).",
            ),
            // Already anchored, or no relative date: unchanged.
            (
                "It moved yesterday (2026-03-12).",
                "It moved yesterday (2026-03-12).",
            ),
            ("Todays are not days.", "Todays are not days."),
        ];
        for (text, want) in cases {
            assert_eq!(anchor_dates(text, said), want);
        }
    }

    #[test]
    fn sentences_split_where_a_reader_would() {
        let cases: &[(&str, &[&str])] = &[
            ("hi!", &["hi!"]),
            (
                "ugh, no. always use `pnpm`, never `npm`, in ui/ — there's a pnpm-lock.yaml right there. npm just wrote a package-lock.json",
                &[
                    "ugh, no.",
                    "always use `pnpm`, never `npm`, in ui/ — there's a pnpm-lock.yaml right there.",
                    "npm just wrote a package-lock.json",
                ],
            ),
            (
                "the config lives in `config/tallyho.toml`, not `.env`. .env is only there",
                &[
                    "the config lives in `config/tallyho.toml`, not `.env`.",
                    ".env is only there",
                ],
            ),
            (
                "5432 on that host is gone for good. (the local test db is unaffected, still 5433 in docker compose.) run the migration",
                &[
                    "5432 on that host is gone for good.",
                    "the local test db is unaffected, still 5433 in docker compose.",
                    "run the migration",
                ],
            ),
            (
                "use `a. b` e.g. this one. Next",
                &["use `a. b` e.g. this one.", "Next"],
            ),
            (
                "- first item\n- second. third",
                &["first item", "second.", "third"],
            ),
            ("```\nnever do this. ok\n```\nafter", &["after"]),
            ("| a | b |\n## Heading", &["Heading"]),
            ("Don’t use ‘npm’ here.", &["Don't use ‘npm’ here."]),
        ];
        for (text, want) in cases {
            assert_eq!(sentences(text), *want, "{text:?}");
        }
    }

    #[test]
    fn tags_are_stripped_with_their_content() {
        let cases = [
            ("a<system-reminder>\nx\n</system-reminder>b", "ab"),
            ("a <system-reminder>never closed", "a "),
            (
                "<command-message>init</command-message>\n<command-name>/init</command-name>",
                "\n",
            ),
            ("keep <b>bold</b> and a < b", "keep <b>bold</b> and a < b"),
            ("<local-command-stdout>x</local-command-stdout>done", "done"),
        ];
        for (text, want) in cases {
            assert_eq!(strip_tags(text), want, "{text:?}");
        }
    }

    #[test]
    fn finishing_and_code_spans() {
        let cases = [
            ("the config lives here", "The config lives here."),
            ("run it!", "Run it."),
            ("`main` is PR-only", "`main` is PR-only."),
            ("npm-lock is odd,", "npm-lock is odd."),
            ("ends (with a paren)", "Ends (with a paren)."),
        ];
        for (s, want) in cases {
            assert_eq!(finish_sentence(s), want, "{s:?}");
        }
        assert_eq!(code("cargo test"), "`cargo test`");
        assert_eq!(code("use `x`"), "`` use `x` ``");
    }

    #[test]
    fn memory_paths_map_onto_the_store() {
        let cases = [
            ("/memories/deploy.md", Some("/deploy.md")),
            ("/memories", Some("/")),
            ("/memories/", Some("/")),
            ("/memories/a/b.md", Some("/a/b.md")),
            (
                "/home/u/.claude/projects/-home-u-app/memory/MEMORY.md",
                Some("/MEMORY.md"),
            ),
            ("/repo/CLAUDE.md", None),
            ("/repo/src/lib.rs", None),
            ("/repo/memoryless/x.md", None),
        ];
        for (path, want) in cases {
            assert_eq!(memory_path(path).as_deref(), want, "{path}");
        }
        assert!(!is_memory_file("/repo/CLAUDE.md"));
        assert!(!is_memory_file("/repo/README.md"));
    }

    #[test]
    fn cuts_keep_whole_words() {
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("one two three four", 10), "one two…");
        assert_eq!(quote("a\n  b\tc"), "a b c");
    }
}

/// Small hand-made sessions for the extractors' tests.
#[cfg(test)]
pub(crate) mod build {
    use reverie_core::session::{Event, EventKind, Session, SourceFormat};
    use reverie_core::timestamp::Timestamp;
    use serde_json::{Value, json};

    use crate::input::SessionInput;

    /// A session of `events` in project `/home/dev/app`, numbered, a second apart.
    pub fn session(id: &str, events: Vec<Event>) -> SessionInput {
        let base = 1_772_000_000_000_000_i64;
        let events: Vec<Event> = events
            .into_iter()
            .enumerate()
            .map(|(i, mut e)| {
                e.seq = i as i64;
                e.timestamp = Some(Timestamp(base + i as i64 * 1_000_000));
                e
            })
            .collect();
        let n = events.len() as i64;
        SessionInput {
            session: Session {
                id: id.to_string(),
                memory_store_id: "memstore_t".into(),
                source_format: SourceFormat::ClaudeCode,
                source_path: None,
                source_session_id: None,
                project: Some("/home/dev/app".into()),
                git_branch: None,
                model: None,
                agent_version: None,
                started_at: Some(Timestamp(base)),
                ended_at: Some(Timestamp(base + n * 1_000_000)),
                event_count: n,
                error_count: 0,
                line_count: n,
                outcome: None,
                created_at: Timestamp(base),
                updated_at: Timestamp(base),
            },
            events,
        }
    }

    pub fn user(text: &str) -> Event {
        Event::new(EventKind::User).with_text(text)
    }

    pub fn assistant(text: &str) -> Event {
        Event::new(EventKind::Assistant).with_text(text)
    }

    pub fn of(kind: EventKind, text: &str) -> Event {
        Event::new(kind).with_text(text)
    }

    pub fn sidechain(mut e: Event) -> Event {
        e.sidechain = true;
        e.agent_id = Some("agent1".into());
        e
    }

    /// A call of `tool` with `input`, id `id`.
    pub fn call(id: &str, tool: &str, input: Value) -> Event {
        let mut e = Event::new(EventKind::ToolUse);
        e.tool_use_id = Some(id.into());
        e.tool_name = Some(tool.into());
        e.tool_input = Some(input);
        e
    }

    pub fn bash(id: &str, command: &str) -> Event {
        call(id, "Bash", json!({ "command": command }))
    }

    /// The result of call `id`.
    pub fn result(id: &str, text: &str, is_error: bool) -> Event {
        let mut e = Event::new(EventKind::ToolResult).with_text(text);
        e.tool_use_id = Some(id.into());
        e.is_error = is_error;
        e
    }

    /// A shell call and its result.
    pub fn ran(id: &str, command: &str, output: &str, is_error: bool) -> [Event; 2] {
        [bash(id, command), result(id, output, is_error)]
    }
}

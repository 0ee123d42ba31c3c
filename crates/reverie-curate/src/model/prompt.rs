//! The model curator's requests: the sessions condensed into numbered lines (user turns whole,
//! errors and what followed, long tool output cut), cut into chunks that fit one request, each
//! with the store's entries on the same subjects (chosen by BM25, as recall would) and the
//! deterministic curator's candidates from that chunk as hints. What a request shows is kept
//! ([`Shown`]) so that the answer's ids can be checked against it.

use std::collections::{BTreeMap, BTreeSet};

use reverie_core::search::Bm25;
use reverie_core::session::{Event, EventKind};

use super::ModelRequest;
use crate::candidate::Candidate;
use crate::curator::Known;
use crate::input::DreamInput;

/// The instructions, the same for every request.
pub const SYSTEM: &str = include_str!("system.md");

/// The answer's schema name (the forced tool, the `json_schema` name).
pub const SCHEMA_NAME: &str = "curate_memory";

/// Bytes of session lines one request holds at most by default (~30,000 tokens).
pub const CHUNK_BYTES: usize = 120_000;

/// Most store entries one request shows.
pub const MAX_ENTRIES: usize = 40;

/// Most tokens one answer may take.
pub const MAX_ANSWER_TOKENS: u32 = 8_000;

/// How much of an event each kind shows, in characters: the user whole (nearly), the agent's
/// words in part, tool output by a head and a tail, more of it when it is an error.
const USER_CHARS: usize = 6_000;
const ASSISTANT_CHARS: usize = 2_000;
const SUMMARY_CHARS: usize = 6_000;
const TOOL_INPUT_CHARS: usize = 600;
const ERROR_CHARS: usize = 1_500;
const RESULT_CHARS: usize = 300;
/// What the harness adds to a user turn (a notification, a skill's text, its instructions).
const NOTICE_CHARS: usize = 1_000;
/// A text this long or longer that a chunk already showed is shown as a reference to it.
const SAME_TEXT_MIN: usize = 200;

/// An event a request shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownEvent {
    pub session: usize,
    pub seq: i64,
    pub kind: EventKind,
    pub is_error: bool,
    pub text: String,
}

/// A store entry a request shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownEntry {
    pub path: String,
    pub section: Vec<String>,
    pub text: String,
    /// Pinned, or in a protected memory: not to be touched.
    pub fixed: bool,
}

/// What one request shows, by the ids the model sees.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    /// `S1:42` → the event.
    pub events: BTreeMap<String, ShownEvent>,
    /// `E3` → the entry.
    pub entries: BTreeMap<String, ShownEntry>,
    /// `H2` → the candidate (an index into the hints).
    pub hints: BTreeMap<String, usize>,
    /// `P2` → a note an earlier request of the same dream proposed (an index into them).
    pub proposed: BTreeMap<String, usize>,
}

/// One request and what it shows.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub request: ModelRequest,
    pub shown: Shown,
}

/// The JSON Schema of an answer. Every field is required and nullable rather than optional, so
/// that OpenAI's strict structured outputs accept it as is.
pub fn schema() -> serde_json::Value {
    let strings = serde_json::json!({"type": "array", "items": {"type": "string"}});
    serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["ops"],
        "properties": {
            "ops": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["op", "kind", "path", "section", "text", "targets", "hint", "evidence", "reason"],
                    "properties": {
                        "op": {"type": "string", "enum": ["add", "rewrite", "merge", "supersede", "archive"]},
                        "kind": {"type": ["string", "null"], "enum": ["instruction", "correction", "lesson", "fact", "glossary", null]},
                        "path": {"type": ["string", "null"]},
                        "section": {"type": ["string", "null"]},
                        "text": {"type": ["string", "null"]},
                        "targets": strings,
                        "hint": {"type": ["string", "null"]},
                        "evidence": strings,
                        "reason": {"type": "string"}
                    }
                }
            }
        }
    })
}

/// A session's event as the model reads it: the head of its line (what it is, who said it) and
/// its text, most cut; `None` for events it does not need (thinking, bookkeeping, empty).
fn line(e: &Event) -> Option<(String, String)> {
    let text = e.text.as_deref().unwrap_or("");
    let text = strip_injected(text);
    let (label, body) = match e.kind {
        EventKind::User => {
            if text.trim().is_empty() {
                return None;
            }
            match user_turn(&text)? {
                // Text the harness marked as its own (Claude Code's `isMeta`: a command's or
                // skill's expansion), not the user typing.
                (label, _) if label == "user" && e.subtype.as_deref() == Some("meta") => {
                    ("command text".to_string(), cut(&text, NOTICE_CHARS))
                }
                turn => turn,
            }
        }
        EventKind::Assistant => {
            if text.trim().is_empty() {
                return None;
            }
            ("assistant".to_string(), cut(&text, ASSISTANT_CHARS))
        }
        EventKind::Summary | EventKind::Compaction => {
            if text.trim().is_empty() {
                return None;
            }
            ("summary".to_string(), cut(&text, SUMMARY_CHARS))
        }
        EventKind::ToolUse => {
            let name = e.tool_name.as_deref().unwrap_or("tool");
            (format!("tool_use {name}"), tool_input(e))
        }
        EventKind::ToolResult => {
            let max = if e.is_error {
                ERROR_CHARS
            } else {
                RESULT_CHARS
            };
            let label = if e.is_error {
                "tool_result ERROR"
            } else {
                "tool_result"
            };
            (label.to_string(), cut(&text, max))
        }
        EventKind::Thinking | EventKind::Other => return None,
    };
    let speaker = e
        .speaker
        .as_deref()
        .filter(|_| e.kind == EventKind::User)
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    let side = if e.sidechain { " subagent" } else { "" };
    Some((format!("{label}{side}{speaker}"), body))
}

/// A user turn as the model reads it. Harnesses put more than the user's words in the user's
/// turn — a slash command and its expansion, a local command's output, a hook's feedback, a
/// notification, their own instructions — and the model must not take those for the user's
/// wishes, so each is labelled for what it is (and the boilerplate left out).
fn user_turn(text: &str) -> Option<(String, String)> {
    let t = text.trim();
    let inner = |tag: &str| -> Option<String> {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        let a = t.find(&open)? + open.len();
        let b = t[a..].find(&close).map_or(t.len(), |b| a + b);
        Some(t[a..b].trim().to_string())
    };
    if t.starts_with("<local-command-caveat>")
        || t.starts_with(
            "Caveat: The messages below were generated by the user while running local commands",
        )
    {
        return None;
    }
    if t.starts_with("<command-name>") || t.starts_with("<command-message>") {
        let name = inner("command-name").or_else(|| inner("command-message"))?;
        let args = inner("command-args").unwrap_or_default();
        let body = if args.is_empty() {
            name
        } else {
            format!("{name} {args}")
        };
        return Some(("user command".into(), cut(&body, USER_CHARS)));
    }
    if let Some(out) = inner("local-command-stdout").filter(|_| t.starts_with("<local-command")) {
        return Some(("command output".into(), cut(&out, RESULT_CHARS)));
    }
    if t.starts_with("<task-notification>") {
        return Some(("notification".into(), cut(t, NOTICE_CHARS)));
    }
    if t.starts_with("<system_instruction>") || t.starts_with("<system-instruction>") {
        return Some(("harness instruction".into(), cut(t, NOTICE_CHARS)));
    }
    let opening: String = t.chars().take(80).collect::<String>().to_lowercase();
    if opening.contains("hook feedback") || opening.contains("hook error") {
        return Some(("hook feedback".into(), cut(t, ERROR_CHARS)));
    }
    if t.starts_with("Base directory for this skill") {
        return Some(("skill text".into(), cut(t, NOTICE_CHARS)));
    }
    Some(("user".into(), cut(t, USER_CHARS)))
}

/// A tool call's input in a few hundred characters: a shell command whole, a file path with the
/// start of what is written, other inputs as compact JSON.
fn tool_input(e: &Event) -> String {
    let Some(input) = &e.tool_input else {
        return cut(e.text.as_deref().unwrap_or(""), TOOL_INPUT_CHARS);
    };
    let s = |k: &str| input.get(k).and_then(|v| v.as_str());
    if let Some(c) = s("command") {
        return cut(c, TOOL_INPUT_CHARS * 2);
    }
    if let Some(p) = s("file_path").or_else(|| s("path")) {
        let rest = s("new_string")
            .or_else(|| s("content"))
            .or_else(|| s("file_text"))
            .map(|t| format!(": {}", cut(t, TOOL_INPUT_CHARS / 2)))
            .unwrap_or_default();
        return format!("{p}{rest}");
    }
    cut(&input.to_string(), TOOL_INPUT_CHARS)
}

/// Text with the harness's injected blocks (`<system-reminder>…</system-reminder>`) taken out:
/// they restate the harness's own instructions, not the user's.
fn strip_injected(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<system-reminder>") {
        out.push_str(&rest[..start]);
        match rest[start..].find("</system-reminder>") {
            Some(end) => rest = &rest[start + end + "</system-reminder>".len()..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// `text` cut to `max` characters: its head and its tail, the middle marked.
pub fn cut(text: &str, max: usize) -> String {
    let text = text.trim();
    let n = text.chars().count();
    if n <= max {
        return text.to_string();
    }
    let head = max * 2 / 3;
    let tail = max - head;
    let h: String = text.chars().take(head).collect();
    let t: String = text.chars().skip(n - tail).collect();
    format!("{h} … {t}")
}

/// The requests of a dream: its sessions' lines in chunks of at most `chunk_bytes`, each with
/// the entries and hints that concern it.
pub fn chunks(
    input: &DreamInput,
    known: &Known,
    fixed: &[bool],
    sections: &[Vec<String>],
    hints: &[Candidate],
    chunk_bytes: usize,
) -> Vec<Chunk> {
    // Every session's lines, grouped into chunks; a session longer than a chunk spans several,
    // each saying which session it continues.
    struct Part {
        header: String,
        lines: Vec<(String, ShownEvent, String)>,
    }
    let mut chunks: Vec<Vec<Part>> = vec![Vec::new()];
    let mut size = 0;
    // Long texts the current chunk already holds (a dump printed again and again): the first
    // event that showed each.
    let mut shown_texts: std::collections::HashMap<String, String> = Default::default();
    for (i, s) in input.sessions.iter().enumerate() {
        let n = i + 1;
        let header = session_header(n, s);
        let mut part = Part {
            header: header.clone(),
            lines: Vec::new(),
        };
        for e in &s.events {
            let Some((head, body)) = line(e) else {
                continue;
            };
            let id = format!("S{n}:{}", e.seq);
            let full = format!("[{id} {head}] {}", body.replace('\n', "\n  "));
            let mut l = match shown_texts.get(&body) {
                Some(first) => format!("[{id} {head}] (the same text as {first})"),
                None => full.clone(),
            };
            if size + l.len() > chunk_bytes && (size > 0 || !part.lines.is_empty()) {
                // A new chunk refers to nothing of the one before.
                shown_texts.clear();
                l = full;
                if !part.lines.is_empty() {
                    chunks.last_mut().expect("one").push(part);
                }
                chunks.push(Vec::new());
                size = 0;
                part = Part {
                    header: format!("{header} (continued)"),
                    lines: Vec::new(),
                };
            }
            size += l.len() + 1;
            if body.len() >= SAME_TEXT_MIN {
                shown_texts.entry(body).or_insert_with(|| id.clone());
            }
            let shown = ShownEvent {
                session: i,
                seq: e.seq,
                kind: e.kind,
                is_error: e.is_error,
                text: e.text.clone().unwrap_or_default(),
            };
            part.lines.push((id, shown, l));
        }
        if !part.lines.is_empty() {
            chunks.last_mut().expect("one").push(part);
        }
    }
    chunks.retain(|c| !c.is_empty());

    let live: Vec<(usize, &(String, String))> = known.entries.iter().enumerate().collect();
    let index = Bm25::new(
        &live
            .iter()
            .map(|(_, (t, _))| t.as_str())
            .collect::<Vec<_>>(),
    );

    let mut out = Vec::new();
    for parts in chunks {
        let mut shown = Shown::default();
        let mut sessions_text = String::new();
        let mut query = String::new();
        let mut spans: BTreeMap<usize, (i64, i64)> = BTreeMap::new();
        for p in &parts {
            sessions_text.push_str(&format!("<session {}>\n", p.header));
            for (id, ev, l) in &p.lines {
                sessions_text.push_str(l);
                sessions_text.push('\n');
                if matches!(ev.kind, EventKind::User) || ev.is_error {
                    query.push_str(&ev.text);
                    query.push('\n');
                }
                let span = spans.entry(ev.session).or_insert((ev.seq, ev.seq));
                span.0 = span.0.min(ev.seq);
                span.1 = span.1.max(ev.seq);
                shown.events.insert(id.clone(), ev.clone());
            }
            sessions_text.push_str("</session>\n");
        }

        // The entries on the same subjects, and the fixed ones (so none is re-added).
        let query: String = query.chars().take(20_000).collect();
        let mut picked: BTreeSet<usize> = index
            .search(&query, MAX_ENTRIES)
            .into_iter()
            .map(|(k, _)| live[k].0)
            .collect();
        for (k, f) in fixed.iter().enumerate() {
            if *f && picked.len() < MAX_ENTRIES * 2 {
                picked.insert(k);
            }
        }
        let mut memory = String::new();
        for (n, k) in picked.into_iter().enumerate() {
            let (text, path) = &known.entries[k];
            let id = format!("E{}", n + 1);
            let section = sections.get(k).cloned().unwrap_or_default();
            let is_fixed = fixed.get(k).copied().unwrap_or(false);
            let place = place(path, &section);
            let mark = if is_fixed { " (pinned)" } else { "" };
            memory.push_str(&format!("[{id} {place}{mark}] {text}\n"));
            shown.entries.insert(
                id,
                ShownEntry {
                    path: path.clone(),
                    section,
                    text: text.clone(),
                    fixed: is_fixed,
                },
            );
        }

        // The hints whose evidence lies in this chunk.
        let mut hint_text = String::new();
        for (k, c) in hints.iter().enumerate() {
            let inside = c.evidence.iter().any(|ev| {
                input
                    .sessions
                    .iter()
                    .position(|s| s.session.id == ev.session_id)
                    .and_then(|i| spans.get(&i))
                    .is_some_and(|(lo, hi)| (*lo..=*hi).contains(&ev.seq))
            });
            if !inside {
                continue;
            }
            let id = format!("H{}", shown.hints.len() + 1);
            let place = place(&c.path, &c.section);
            hint_text.push_str(&format!(
                "[{id} {place} {}] {}\n",
                c.kind.as_str(),
                cut(&c.text, 600)
            ));
            shown.hints.insert(id, k);
        }

        let mut user = String::new();
        if let Some(i) = input
            .instructions
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            user.push_str(&format!(
                "<instructions from the dream's creator>\n{i}\n</instructions>\n\n"
            ));
        }
        user.push_str(&format!("<memory>\n{memory}</memory>\n\n"));
        user.push_str(&format!("<hints>\n{hint_text}</hints>\n\n"));
        user.push_str(&sessions_text);
        out.push(Chunk {
            request: ModelRequest {
                system: SYSTEM.to_string(),
                user,
                schema_name: SCHEMA_NAME.to_string(),
                schema: schema(),
                max_tokens: MAX_ANSWER_TOKENS,
            },
            shown,
        });
    }
    out
}

/// `request` with the notes earlier requests of the same dream proposed, each with an id
/// (`P2`) a later answer can rewrite, supersede or withdraw, so that a session read in several
/// parts is not noted again in each; and those ids.
pub fn with_proposed(
    request: &ModelRequest,
    proposed: &[Candidate],
) -> (ModelRequest, BTreeMap<String, usize>) {
    let mut ids = BTreeMap::new();
    if proposed.is_empty() {
        return (request.clone(), ids);
    }
    let mut block = String::from("<proposed>\n");
    for (k, c) in proposed.iter().enumerate() {
        let id = format!("P{}", k + 1);
        let place = place(&c.path, &c.section);
        block.push_str(&format!(
            "[{id} {place} {}] {}\n",
            c.kind.as_str(),
            c.text.replace('\n', "\n  ")
        ));
        ids.insert(id, k);
    }
    block.push_str("</proposed>\n\n");
    let at = request.user.find("<hints>").unwrap_or(request.user.len());
    let mut user = request.user.clone();
    user.insert_str(at, &block);
    (
        ModelRequest {
            user,
            ..request.clone()
        },
        ids,
    )
}

/// Where a note is: its memory's path, and its section when it has one (`/a.md > Testing`).
fn place(path: &str, section: &[String]) -> String {
    if section.is_empty() {
        path.to_string()
    } else {
        format!("{path} > {}", section.join(" > "))
    }
}

/// A session's header: its number, project, branch and dates.
fn session_header(n: usize, s: &crate::input::SessionInput) -> String {
    let mut h = format!("S{n}");
    if let Some(p) = &s.session.project {
        h.push_str(&format!(" project=\"{}\"", p.replace('"', "'")));
    }
    if let Some(b) = &s.session.git_branch {
        h.push_str(&format!(" branch=\"{}\"", b.replace('"', "'")));
    }
    if let Some(t) = s.session.started_at {
        h.push_str(&format!(" started=\"{}\"", t.to_rfc3339()));
    }
    h
}

/// A rough count of a request's input tokens (four bytes a token, rounded up), for the budget
/// before anything is sent; providers report the real count.
pub fn estimate_tokens(r: &ModelRequest) -> u64 {
    let bytes = r.system.len() + r.user.len() + r.schema.to_string().len();
    (bytes as u64).div_ceil(4) + 16
}

//! Claude Code transcripts: one JSON object per line (`type`: `user`, `assistant`, `system`,
//! `summary`, `progress`, `attachment`, `file-history-snapshot`, …).
//!
//! The format has no schema and drifts between versions, so the parser only relies on what it
//! needs — `message.content` as a string or a list of blocks, `is_error` on tool results,
//! `isSidechain`, `agentId`, `isCompactSummary`, `isMeta`, the `compact_boundary` system
//! subtype, the `content` of a `queue-operation` enqueue — and turns everything else into
//! `other` events. Unknown fields are ignored here and kept in the raw line; nothing in a line
//! is fatal.

use reverie_core::session::{Event, EventKind};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::normalize::{Meta, clean_text, flatten, other, string, text_event, timestamp};

/// Declares [`Fields`]: the top-level fields [`parse_line`] reads, by their JSON names.
macro_rules! fields {
    ($($field:ident = $name:literal),* $(,)?) => {
        /// The fields of a line that [`parse_line`] reads, borrowed and not yet parsed.
        ///
        /// Picking them validates the whole line as JSON, but skips building values for the
        /// rest of it — `toolUseResult` (a copy of each tool's output), `progress` payloads,
        /// file-history snapshots — which are most of a transcript's bytes. A `null` field is
        /// left out, which the parser reads the same as `null`.
        #[derive(Debug, Deserialize)]
        pub struct Fields<'a> {
            $(#[serde(borrow, rename = $name)] $field: Option<&'a RawValue>,)*
        }

        impl Fields<'_> {
            /// The picked fields as a JSON object, for [`parse_line`]. Picking skips nested
            /// values without serde_json's recursion limit, which building them then applies:
            /// a field nested too deep is an error here, and the full parse judges the line.
            pub fn to_value(&self) -> serde_json::Result<Value> {
                let mut m = Map::new();
                $(if let Some(raw) = self.$field {
                    m.insert($name.to_string(), serde_json::from_str(raw.get())?);
                })*
                Ok(Value::Object(m))
            }
        }
    };
}

fields! {
    kind = "type", uuid = "uuid", parent_uuid = "parentUuid", session_id = "sessionId",
    cwd = "cwd", git_branch = "gitBranch", version = "version", timestamp = "timestamp",
    sidechain = "isSidechain", agent_id = "agentId", message = "message",
    compact_summary = "isCompactSummary", api_error = "isApiErrorMessage",
    subtype = "subtype", compact_metadata = "compactMetadata", trigger = "trigger",
    content = "content", summary = "summary", operation = "operation", meta = "isMeta",
}

/// A line, validated: its picked fields as a value, or the whole value when it is not an
/// object of distinct fields (a bare string, a field given twice) or a picked field could not
/// be built.
#[derive(Debug)]
pub enum Line {
    Fields(Value),
    Value(Value),
}

impl Line {
    /// Validates `text` as one JSON value and keeps what the parser reads.
    pub fn read(text: &str) -> serde_json::Result<Line> {
        match serde_json::from_str::<Fields>(text).map(|f| f.to_value()) {
            Ok(Ok(v)) => Ok(Line::Fields(v)),
            // nested too deep to build (found by fuzzing: it panicked when built), valid JSON
            // of another shape, or invalid JSON: the full parse tells which
            Ok(Err(_)) | Err(_) => serde_json::from_str(text).map(Line::Value),
        }
    }

    /// The line's events.
    pub fn events(&self, line: i64, meta: &mut Meta) -> Vec<Event> {
        match self {
            Line::Fields(v) | Line::Value(v) => parse_line(v, line, meta),
        }
    }
}

/// The events of one line, with what it says about the session.
pub fn parse_line(v: &Value, line: i64, meta: &mut Meta) -> Vec<Event> {
    let Some(obj) = v.as_object() else {
        return finish(vec![other("non_object")], v, line);
    };
    Meta::set_if_empty(&mut meta.source_session_id, obj.get("sessionId"));
    Meta::set_if_empty(&mut meta.project, obj.get("cwd"));
    Meta::set_if_empty(&mut meta.git_branch, obj.get("gitBranch"));
    Meta::set_if_empty(&mut meta.agent_version, obj.get("version"));
    meta.see(timestamp(obj.get("timestamp")));

    let kind = obj.get("type").and_then(Value::as_str).unwrap_or("");
    let message = obj.get("message");
    let events = match kind {
        "user" => {
            let flag = |name: &str| obj.get(name).and_then(Value::as_bool).unwrap_or(false);
            user(message, flag("isCompactSummary"), flag("isMeta"))
        }
        "assistant" => {
            if let Some(m) = message {
                Meta::set_if_empty(&mut meta.model, m.get("model"));
            }
            let is_error = obj
                .get("isApiErrorMessage")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            assistant(message, is_error)
        }
        "system" => {
            let subtype = obj.get("subtype").and_then(Value::as_str).unwrap_or("");
            if subtype == "compact_boundary" {
                let trigger = obj
                    .get("compactMetadata")
                    .and_then(|m| m.get("trigger"))
                    .or(obj.get("trigger"))
                    .and_then(Value::as_str)
                    .unwrap_or("unknown");
                let mut e = Event::new(EventKind::Compaction);
                e.subtype = Some(trigger.to_string());
                e.text = obj
                    .get("content")
                    .and_then(Value::as_str)
                    .map(|s| clean_text(s.to_string()));
                vec![e]
            } else {
                let mut e = other(format!("system/{subtype}"));
                e.text = obj
                    .get("content")
                    .and_then(Value::as_str)
                    .map(|s| clean_text(s.to_string()));
                vec![e]
            }
        }
        "summary" => vec![text_event(
            EventKind::Summary,
            string(obj.get("summary")).unwrap_or_default(),
        )],
        // What the user typed while the agent was busy (or a harness notice, such as
        // `<task-notification>`), queued for the next turn. Often delivered again later as a
        // `user` line, but not always (a `remove` drops it from the queue): this line may be
        // the only record of it.
        "queue-operation" => match (
            obj.get("operation").and_then(Value::as_str),
            obj.get("content"),
        ) {
            (Some("enqueue"), Some(Value::String(s))) => {
                let mut e = text_event(EventKind::User, s.clone());
                e.subtype = Some("queued".into());
                vec![e]
            }
            _ => vec![other(kind)],
        },
        "" => vec![other("untyped")],
        t => vec![other(t)],
    };
    finish(events, v, line)
}

/// Stamps every event of a line with the line's common fields.
fn finish(mut events: Vec<Event>, v: &Value, line: i64) -> Vec<Event> {
    let ts = timestamp(v.get("timestamp"));
    let uuid = string(v.get("uuid"));
    let parent = string(v.get("parentUuid"));
    let sidechain = v
        .get("isSidechain")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let agent = string(v.get("agentId"));
    for e in &mut events {
        e.line = Some(line);
        e.timestamp = ts;
        e.uuid = uuid.clone();
        e.parent_uuid = parent.clone();
        e.sidechain = sidechain;
        e.agent_id = agent.clone();
    }
    events
}

fn user(message: Option<&Value>, summary: bool, meta: bool) -> Vec<Event> {
    let mut events = user_blocks(message, summary);
    if summary {
        // The message a compaction leaves: a summary, told apart from `summary` lines.
        for e in events.iter_mut().filter(|e| e.kind == EventKind::Summary) {
            e.subtype = Some("compact_summary".into());
        }
    }
    if meta {
        // Injected by the harness (skill expansions, local-command caveats, hook feedback), not
        // typed by a person; its tool results are still results.
        for e in events.iter_mut().filter(|e| e.kind == EventKind::User) {
            e.subtype = Some("meta".into());
        }
    }
    events
}

fn user_blocks(message: Option<&Value>, summary: bool) -> Vec<Event> {
    let text_kind = if summary {
        EventKind::Summary
    } else {
        EventKind::User
    };
    let content = match message {
        Some(Value::String(s)) => return vec![text_event(text_kind, s.clone())],
        Some(m) => m.get("content"),
        None => None,
    };
    match content {
        Some(Value::String(s)) => vec![text_event(text_kind, s.clone())],
        Some(Value::Array(blocks)) => blocks
            .iter()
            .map(|b| match b.get("type").and_then(Value::as_str) {
                Some("text") => text_event(text_kind, string(b.get("text")).unwrap_or_default()),
                Some("tool_result") => tool_result(b),
                Some(t @ ("image" | "document")) => text_event(text_kind, format!("[{t}]")),
                Some(t) => other(format!("user/{t}")),
                None => match b {
                    Value::String(s) => text_event(text_kind, s.clone()),
                    _ => other("user/untyped_block"),
                },
            })
            .collect(),
        _ => vec![other("user/no_content")],
    }
}

/// A `tool_result` block (also used by the Messages API parser).
pub fn tool_result(b: &Value) -> Event {
    let mut e = Event::new(EventKind::ToolResult);
    e.tool_use_id = string(b.get("tool_use_id"));
    e.text = Some(clean_text(
        b.get("content").map(flatten).unwrap_or_default(),
    ));
    e.is_error = b.get("is_error").and_then(Value::as_bool).unwrap_or(false);
    e
}

/// A `tool_use` (or `server_tool_use`) block.
pub fn tool_use(b: &Value) -> Event {
    let mut e = Event::new(EventKind::ToolUse);
    e.tool_use_id = string(b.get("id"));
    e.tool_name = string(b.get("name"));
    e.tool_input = b.get("input").cloned();
    e
}

fn assistant(message: Option<&Value>, is_error: bool) -> Vec<Event> {
    let content = match message {
        Some(Value::String(s)) => return vec![text_event(EventKind::Assistant, s.clone())],
        Some(m) => m.get("content"),
        None => None,
    };
    let mut events: Vec<Event> = match content {
        Some(Value::String(s)) => vec![text_event(EventKind::Assistant, s.clone())],
        Some(Value::Array(blocks)) => blocks.iter().map(assistant_block).collect(),
        _ => vec![other("assistant/no_content")],
    };
    if is_error {
        for e in &mut events {
            e.is_error = true;
        }
    }
    events
}

/// One block of an assistant message (shared with the Messages API parser).
pub fn assistant_block(b: &Value) -> Event {
    match b.get("type").and_then(Value::as_str) {
        Some("text") => text_event(
            EventKind::Assistant,
            string(b.get("text")).unwrap_or_default(),
        ),
        Some("thinking") => text_event(
            EventKind::Thinking,
            string(b.get("thinking")).unwrap_or_default(),
        ),
        Some("tool_use" | "server_tool_use") => tool_use(b),
        Some(t) if t.ends_with("_tool_result") => {
            let mut e = tool_result(b);
            e.subtype = Some(t.to_string());
            e
        }
        Some(t) => other(format!("assistant/{t}")),
        None => other("assistant/untyped_block"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> (Vec<Event>, Meta) {
        let mut meta = Meta::default();
        let events = parse_line(&v, 7, &mut meta);
        (events, meta)
    }

    /// Found by `tests/fuzz.rs`: a field nested past serde_json's recursion limit passed
    /// picking (which skips it without the limit) and then panicked when built into a value.
    #[test]
    fn deeply_nested_fields_do_not_panic() {
        for depth in [99, 100, 126, 127, 128, 300] {
            let line = format!(
                r#"{{"type":"user","message":{{"role":"user","content":{}"x"{}}}}}"#,
                "[".repeat(depth),
                "]".repeat(depth)
            );
            if let Ok(l) = Line::read(&line) {
                l.events(1, &mut Meta::default());
            }
        }
    }

    #[test]
    fn user_and_assistant_lines() {
        let (ev, meta) = parse(json!({
            "type": "user", "uuid": "u1", "parentUuid": null, "sessionId": "s1", "cwd": "/repo",
            "gitBranch": "main", "version": "2.1.39", "timestamp": "2026-01-21T06:19:38.056Z",
            "message": {"role": "user", "content": "Add a test"}
        }));
        assert_eq!(ev.len(), 1);
        assert_eq!(
            (ev[0].kind, ev[0].text.as_deref()),
            (EventKind::User, Some("Add a test"))
        );
        assert_eq!((ev[0].line, ev[0].uuid.as_deref()), (Some(7), Some("u1")));
        assert_eq!(meta.project.as_deref(), Some("/repo"));
        assert_eq!(meta.source_session_id.as_deref(), Some("s1"));
        let (ev, meta) = parse(json!({
            "type": "assistant", "isSidechain": true, "agentId": "a1",
            "message": {"model": "claude-opus-4-5", "content": [
                {"type": "thinking", "thinking": "hmm"},
                {"type": "text", "text": "Running tests"},
                {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "cargo test"}},
                {"type": "mystery", "x": 1}
            ]}
        }));
        let kinds: Vec<EventKind> = ev.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                EventKind::Thinking,
                EventKind::Assistant,
                EventKind::ToolUse,
                EventKind::Other
            ]
        );
        assert_eq!(ev[2].tool_input, Some(json!({"command": "cargo test"})));
        assert_eq!(ev[3].subtype.as_deref(), Some("assistant/mystery"));
        assert!(
            ev.iter()
                .all(|e| e.sidechain && e.agent_id.as_deref() == Some("a1"))
        );
        assert_eq!(meta.model.as_deref(), Some("claude-opus-4-5"));
    }

    #[test]
    fn tool_results_keep_their_error_flag() {
        let (ev, _) = parse(json!({"type": "user", "message": {"content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "is_error": true, "content": "Exit code 1"},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": "ok"}]}
        ]}}));
        assert_eq!(
            (ev[0].kind, ev[0].is_error, ev[0].text.as_deref()),
            (EventKind::ToolResult, true, Some("Exit code 1"))
        );
        assert_eq!((ev[1].is_error, ev[1].text.as_deref()), (false, Some("ok")));
    }

    #[test]
    fn picked_fields_parse_as_the_whole_line_does() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/transcripts");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        files.sort();
        let mut lines = 0;
        let mut fields = 0;
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, l) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let whole: Value = serde_json::from_str(l).unwrap();
                let (mut m1, mut m2) = (Meta::default(), Meta::default());
                let want = parse_line(&whole, i as i64 + 1, &mut m1);
                let line = Line::read(l).unwrap();
                fields += matches!(line, Line::Fields(_)) as usize;
                let got = line.events(i as i64 + 1, &mut m2);
                assert_eq!(
                    format!("{got:?}"),
                    format!("{want:?}"),
                    "{}:{}",
                    path.display(),
                    i + 1
                );
                assert_eq!(format!("{m2:?}"), format!("{m1:?}"));
                lines += 1;
            }
        }
        assert!(lines > 4000 && fields + 5 > lines, "{fields} of {lines}");
        // invalid JSON is refused, other shapes take the whole value
        assert!(Line::read(r#"{"type": "user", "message": {"#).is_err());
        assert!(matches!(
            Line::read(r#""massive error""#),
            Ok(Line::Value(_))
        ));
        assert!(matches!(
            Line::read(r#"{"type": "a", "type": "b"}"#),
            Ok(Line::Value(_))
        ));
    }

    #[test]
    fn queued_messages_are_user_events() {
        let (ev, _) = parse(json!({
            "type": "queue-operation", "operation": "enqueue", "sessionId": "s1",
            "timestamp": "2026-02-16T09:22:22.287Z",
            "content": "its the chx project and the CI config"
        }));
        assert_eq!(ev.len(), 1);
        assert_eq!(
            (ev[0].kind, ev[0].subtype.as_deref(), ev[0].text.as_deref()),
            (
                EventKind::User,
                Some("queued"),
                Some("its the chx project and the CI config")
            )
        );
        assert_eq!(ev[0].line, Some(7));
        assert!(ev[0].timestamp.is_some());
        // the rest of the queue's bookkeeping stays `other`, named by the line type
        for line in [
            json!({"type": "queue-operation", "operation": "dequeue"}),
            json!({"type": "queue-operation", "operation": "remove"}),
            json!({"type": "queue-operation", "operation": "popAll", "content": "??"}),
            json!({"type": "queue-operation", "operation": "enqueue"}),
            json!({"type": "queue-operation", "operation": "enqueue", "content": null}),
            json!({"type": "queue-operation", "operation": "enqueue", "content": [{"type": "text", "text": "hi"}]}),
        ] {
            let (ev, _) = parse(line.clone());
            assert_eq!(
                (
                    ev.len(),
                    ev[0].kind,
                    ev[0].subtype.as_deref(),
                    ev[0].text.as_deref()
                ),
                (1, EventKind::Other, Some("queue-operation"), None),
                "{line}"
            );
        }
    }

    #[test]
    fn meta_user_lines_are_marked() {
        let caveat = "<local-command-caveat>Caveat: The messages below were generated by the user while running local commands.</local-command-caveat>";
        let (ev, _) = parse(
            json!({"type": "user", "isMeta": true, "message": {"role": "user", "content": caveat}}),
        );
        assert_eq!(
            (ev[0].kind, ev[0].subtype.as_deref(), ev[0].text.as_deref()),
            (EventKind::User, Some("meta"), Some(caveat))
        );
        let (ev, _) = parse(
            json!({"type": "user", "isMeta": true, "message": {"content": [
                {"type": "text", "text": "Base directory for this skill: /skills/x"},
                {"type": "image", "source": {}},
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}
            ]}}),
        );
        let got: Vec<_> = ev.iter().map(|e| (e.kind, e.subtype.as_deref())).collect();
        assert_eq!(
            got,
            [
                (EventKind::User, Some("meta")),
                (EventKind::User, Some("meta")),
                (EventKind::ToolResult, None)
            ]
        );
        // typed by a person: no subtype, whether the flag is false or absent
        for flag in [json!(false), Value::Null] {
            let (ev, _) = parse(
                json!({"type": "user", "isMeta": flag, "message": {"content": "Add a test"}}),
            );
            assert_eq!(
                (ev[0].kind, ev[0].subtype.as_deref()),
                (EventKind::User, None)
            );
        }
        // a compaction's summary stays a summary
        let (ev, _) = parse(
            json!({"type": "user", "isMeta": true, "isCompactSummary": true, "message": {"content": "Summary."}}),
        );
        assert_eq!(
            (ev[0].kind, ev[0].subtype.as_deref()),
            (EventKind::Summary, Some("compact_summary"))
        );
    }

    #[test]
    fn markers_and_odd_lines() {
        let (ev, _) = parse(
            json!({"type": "system", "subtype": "compact_boundary", "compactMetadata": {"trigger": "auto", "preTokens": 1}}),
        );
        assert_eq!(
            (ev[0].kind, ev[0].subtype.as_deref()),
            (EventKind::Compaction, Some("auto"))
        );
        let (ev, _) =
            parse(json!({"type": "summary", "summary": "Set up the repo", "leafUuid": "x"}));
        assert_eq!(
            (ev[0].kind, ev[0].text.as_deref()),
            (EventKind::Summary, Some("Set up the repo"))
        );
        let (ev, _) = parse(
            json!({"type": "user", "isCompactSummary": true, "message": {"content": "Summary of prior context."}}),
        );
        assert_eq!(ev[0].kind, EventKind::Summary);
        let (ev, _) = parse(json!({"type": "progress", "data": {"type": "bash_progress"}}));
        assert_eq!(
            (ev[0].kind, ev[0].subtype.as_deref()),
            (EventKind::Other, Some("progress"))
        );
        let (ev, _) = parse(json!(42));
        assert_eq!(ev[0].subtype.as_deref(), Some("non_object"));
        let (ev, _) = parse(json!({"type": "user", "message": "error"}));
        assert_eq!(ev[0].text.as_deref(), Some("error"));
        let (ev, _) = parse(json!({"silly": "this"}));
        assert_eq!(ev[0].subtype.as_deref(), Some("untyped"));
    }
}

//! API request documents: the Anthropic Messages API (`messages` of content blocks, `system`,
//! optionally the `response`) and OpenAI Chat Completions (`messages` with `tool_calls` and
//! `tool` messages, optionally the response's `choices`). One JSON document per file.

use reverie_core::session::{Event, EventKind};
use serde_json::Value;

use crate::claude::{assistant_block, tool_result};
use crate::normalize::{Meta, clean_text, flatten, other, string, text_event};

/// Where the messages of a document are, whichever shape it has: `{messages}`, `{request:
/// {messages}, response}`, or a bare array of messages.
fn messages_and_response(doc: &Value) -> (Option<&Vec<Value>>, Option<&Value>) {
    if let Some(arr) = doc.as_array() {
        return (Some(arr), None);
    }
    let request = doc.get("request").unwrap_or(doc);
    (
        request.get("messages").and_then(Value::as_array),
        doc.get("response"),
    )
}

/// Anthropic Messages API.
pub fn parse_anthropic(doc: &Value, meta: &mut Meta) -> Vec<Event> {
    let (messages, response) = messages_and_response(doc);
    let request = doc.get("request").unwrap_or(doc);
    Meta::set_if_empty(&mut meta.model, request.get("model"));
    let mut events = Vec::new();
    if let Some(system) = request.get("system") {
        let mut e = other("system_prompt");
        e.text = Some(clean_text(flatten(system)));
        events.push((0, e));
    }
    for (i, m) in messages.into_iter().flatten().enumerate() {
        let line = i as i64 + 1;
        for e in anthropic_message(m) {
            events.push((line, e));
        }
    }
    // The response: a `message` object, directly or under `response`.
    let resp = response
        .or_else(|| (doc.get("type").and_then(Value::as_str) == Some("message")).then_some(doc));
    if let Some(r) = resp {
        Meta::set_if_empty(&mut meta.model, r.get("model"));
        let line = messages.map_or(0, Vec::len) as i64 + 1;
        for e in anthropic_message(r) {
            events.push((line, e));
        }
    }
    number(events)
}

fn anthropic_message(m: &Value) -> Vec<Event> {
    let role = m.get("role").and_then(Value::as_str).unwrap_or("");
    let content = m.get("content").unwrap_or(&Value::Null);
    match (role, content) {
        ("user", Value::String(s)) => vec![text_event(EventKind::User, s.clone())],
        ("assistant", Value::String(s)) => vec![text_event(EventKind::Assistant, s.clone())],
        ("user", Value::Array(blocks)) => blocks
            .iter()
            .map(|b| match b.get("type").and_then(Value::as_str) {
                Some("text") => {
                    text_event(EventKind::User, string(b.get("text")).unwrap_or_default())
                }
                Some("tool_result") => tool_result(b),
                Some(t @ ("image" | "document")) => text_event(EventKind::User, format!("[{t}]")),
                Some(t) => other(format!("user/{t}")),
                None => other("user/untyped_block"),
            })
            .collect(),
        ("assistant", Value::Array(blocks)) => blocks.iter().map(assistant_block).collect(),
        (role, _) => vec![other(format!("message/{role}"))],
    }
}

/// OpenAI Chat Completions.
pub fn parse_openai(doc: &Value, meta: &mut Meta) -> Vec<Event> {
    let (messages, response) = messages_and_response(doc);
    let request = doc.get("request").unwrap_or(doc);
    Meta::set_if_empty(&mut meta.model, request.get("model"));
    let mut events = Vec::new();
    let mut line = 0;
    for m in messages.into_iter().flatten() {
        line += 1;
        for e in openai_message(m) {
            events.push((line, e));
        }
    }
    let choices = response
        .unwrap_or(doc)
        .get("choices")
        .and_then(Value::as_array);
    if let Some(r) = response {
        Meta::set_if_empty(&mut meta.model, r.get("model"));
    }
    for choice in choices.into_iter().flatten() {
        line += 1;
        if let Some(m) = choice.get("message") {
            for e in openai_message(m) {
                events.push((line, e));
            }
        }
    }
    number(events)
}

fn openai_message(m: &Value) -> Vec<Event> {
    let role = m.get("role").and_then(Value::as_str).unwrap_or("");
    let content = m.get("content").unwrap_or(&Value::Null);
    let mut events = Vec::new();
    // A participant's name (multi-party chats send every person as `user` with a `name`).
    let speaker = string(m.get("name")).filter(|n| !n.trim().is_empty());
    match role {
        "user" => {
            let mut e = text_event(EventKind::User, flatten(content));
            e.speaker = speaker;
            events.push(e);
        }
        "assistant" => {
            if !content.is_null() && !flatten(content).is_empty() {
                let mut e = text_event(EventKind::Assistant, flatten(content));
                e.speaker = speaker;
                events.push(e);
            }
            if let Some(refusal) = m.get("refusal").and_then(Value::as_str) {
                let mut e = text_event(EventKind::Assistant, refusal.to_string());
                e.is_error = true;
                events.push(e);
            }
            for call in m
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let f = call.get("function").unwrap_or(call);
                let mut e = Event::new(EventKind::ToolUse);
                e.tool_use_id = string(call.get("id"));
                e.tool_name = string(f.get("name"));
                e.tool_input = f.get("arguments").map(|a| match a.as_str() {
                    Some(s) => {
                        serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_string()))
                    }
                    None => a.clone(),
                });
                events.push(e);
            }
            if let Some(f) = m.get("function_call") {
                let mut e = Event::new(EventKind::ToolUse);
                e.tool_name = string(f.get("name"));
                e.tool_input = f.get("arguments").cloned();
                events.push(e);
            }
        }
        "tool" | "function" => {
            let mut e = Event::new(EventKind::ToolResult);
            e.tool_use_id = string(m.get("tool_call_id")).or_else(|| string(m.get("name")));
            e.text = Some(clean_text(flatten(content)));
            events.push(e);
        }
        role => {
            let mut e = other(format!("message/{role}"));
            e.text = Some(clean_text(flatten(content)));
            events.push(e);
        }
    }
    events
}

fn number(events: Vec<(i64, Event)>) -> Vec<Event> {
    events
        .into_iter()
        .map(|(line, mut e)| {
            e.line = Some(line);
            e
        })
        .collect()
}

/// True when a document looks like OpenAI Chat rather than the Anthropic Messages API.
pub fn looks_openai(doc: &Value) -> bool {
    if doc.get("choices").is_some() || doc.get("response").and_then(|r| r.get("choices")).is_some()
    {
        return true;
    }
    let (messages, _) = messages_and_response(doc);
    messages.into_iter().flatten().any(|m| {
        matches!(
            m.get("role").and_then(Value::as_str),
            Some("tool" | "developer" | "function")
        ) || m.get("tool_calls").is_some()
            // A participant's name is OpenAI's; the Messages API has none.
            || m.get("name").is_some()
            || m.get("content")
                .and_then(Value::as_array)
                .is_some_and(|parts| {
                    parts
                        .iter()
                        .any(|p| p.get("type").and_then(Value::as_str) == Some("image_url"))
                })
    })
}

/// True when a JSON document holds a conversation either parser can read.
pub fn is_conversation(doc: &Value) -> bool {
    let (messages, response) = messages_and_response(doc);
    let has_messages = messages.is_some_and(|m| {
        !m.is_empty()
            && m.iter()
                .all(|x| x.get("role").and_then(Value::as_str).is_some())
    });
    has_messages
        || response.is_some_and(|r| r.get("content").is_some() || r.get("choices").is_some())
        || doc.get("type").and_then(Value::as_str) == Some("message")
            && doc.get("content").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn anthropic_request_with_response() {
        let doc = json!({
            "model": "claude-sonnet-4-5",
            "system": "You are terse.",
            "messages": [
                {"role": "user", "content": "What is in /tmp?"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "ls", "input": {"path": "/tmp"}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "is_error": true, "content": "permission denied"}]}
            ],
            "response": {"type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [{"type": "text", "text": "I cannot read it."}]}
        });
        assert!(is_conversation(&doc) && !looks_openai(&doc));
        let mut meta = Meta::default();
        let ev = parse_anthropic(&doc, &mut meta);
        let kinds: Vec<EventKind> = ev.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                EventKind::Other,
                EventKind::User,
                EventKind::ToolUse,
                EventKind::ToolResult,
                EventKind::Assistant
            ]
        );
        assert!(ev[3].is_error);
        assert_eq!(ev[4].line, Some(4));
        assert_eq!(meta.model.as_deref(), Some("claude-sonnet-4-5"));
    }

    #[test]
    fn openai_names_are_speakers() {
        let doc = json!({
            "messages": [
                {"role": "user", "name": "Caroline", "content": "I went to a support group yesterday."},
                {"role": "user", "name": "Melanie", "content": "I painted a lake sunrise."},
                {"role": "user", "name": " ", "content": "Nobody named."},
                {"role": "assistant", "name": "helper", "content": "Noted."}
            ]
        });
        assert!(is_conversation(&doc) && looks_openai(&doc));
        let ev = parse_openai(&doc, &mut Meta::default());
        let speakers: Vec<Option<&str>> = ev.iter().map(|e| e.speaker.as_deref()).collect();
        assert_eq!(
            speakers,
            [Some("Caroline"), Some("Melanie"), None, Some("helper")]
        );
    }

    #[test]
    fn openai_chat_with_tools() {
        let doc = json!({
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "Be helpful."},
                {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "18°C"}
            ],
            "choices": [{"message": {"role": "assistant", "content": "It is 18°C."}}]
        });
        assert!(is_conversation(&doc) && looks_openai(&doc));
        let ev = parse_openai(&doc, &mut Meta::default());
        let kinds: Vec<EventKind> = ev.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                EventKind::Other,
                EventKind::User,
                EventKind::ToolUse,
                EventKind::ToolResult,
                EventKind::Assistant
            ]
        );
        assert_eq!(ev[2].tool_input, Some(json!({"city": "Paris"})));
        assert_eq!(ev[3].tool_use_id.as_deref(), Some("call_1"));
    }

    #[test]
    fn not_a_conversation() {
        assert!(!is_conversation(
            &json!({"name": "package", "version": "1.0.0"})
        ));
        assert!(!is_conversation(&json!([1, 2, 3])));
        assert!(!is_conversation(&json!({"messages": []})));
    }
}

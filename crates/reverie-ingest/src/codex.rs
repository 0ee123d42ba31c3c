//! Codex CLI rollouts: one `{timestamp, type, payload}` object per line. `response_item`s carry
//! the conversation (messages, reasoning, function and custom tool calls and their outputs);
//! `event_msg`s are the UI's echo of it and stay `other`, so nothing is counted twice.

use reverie_core::session::{Event, EventKind};
use serde_json::Value;

use crate::normalize::{Meta, clean_text, flatten, other, string, text_event, timestamp};

/// The events of one line.
pub fn parse_line(v: &Value, line: i64, meta: &mut Meta) -> Vec<Event> {
    let ts = timestamp(v.get("timestamp"));
    meta.see(ts);
    let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
    let payload = v.get("payload").unwrap_or(&Value::Null);
    let mut events = match kind {
        "session_meta" => {
            Meta::set_if_empty(&mut meta.source_session_id, payload.get("id"));
            Meta::set_if_empty(&mut meta.project, payload.get("cwd"));
            Meta::set_if_empty(&mut meta.agent_version, payload.get("cli_version"));
            vec![other("session_meta")]
        }
        "turn_context" => {
            Meta::set_if_empty(&mut meta.model, payload.get("model"));
            Meta::set_if_empty(&mut meta.project, payload.get("cwd"));
            vec![other("turn_context")]
        }
        "response_item" => response_item(payload),
        "compacted" => {
            let mut e = Event::new(EventKind::Compaction);
            e.subtype = Some("compacted".into());
            e.text = string(payload.get("message"))
                .filter(|m| !m.is_empty())
                .map(clean_text);
            vec![e]
        }
        "event_msg" => {
            let t = payload.get("type").and_then(Value::as_str).unwrap_or("");
            if t == "context_compacted" {
                let mut e = Event::new(EventKind::Compaction);
                e.subtype = Some("context_compacted".into());
                vec![e]
            } else {
                vec![other(format!("event_msg/{t}"))]
            }
        }
        "" => vec![other("untyped")],
        t => vec![other(t)],
    };
    for e in &mut events {
        e.line = Some(line);
        e.timestamp = ts;
    }
    events
}

fn response_item(p: &Value) -> Vec<Event> {
    match p.get("type").and_then(Value::as_str).unwrap_or("") {
        "message" => {
            let kind = match p.get("role").and_then(Value::as_str) {
                Some("assistant") => EventKind::Assistant,
                Some("user") => EventKind::User,
                Some(role) => {
                    return vec![with_text(
                        other(format!("message/{role}")),
                        p.get("content"),
                    )];
                }
                None => return vec![other("message/no_role")],
            };
            vec![text_event(
                kind,
                p.get("content").map(flatten).unwrap_or_default(),
            )]
        }
        "reasoning" => {
            let text = p.get("summary").map(flatten).unwrap_or_default();
            vec![text_event(EventKind::Thinking, text)]
        }
        "function_call" | "custom_tool_call" | "local_shell_call" => {
            let mut e = Event::new(EventKind::ToolUse);
            e.tool_use_id = string(p.get("call_id"));
            e.tool_name = string(p.get("name")).or_else(|| Some("local_shell".into()));
            let raw = p.get("arguments").or(p.get("input")).or(p.get("action"));
            // Arguments arrive as a JSON string; keep them structured when they parse.
            e.tool_input = raw.map(|a| match a.as_str() {
                Some(s) => serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_string())),
                None => a.clone(),
            });
            vec![e]
        }
        "function_call_output" | "custom_tool_call_output" => {
            let mut e = Event::new(EventKind::ToolResult);
            e.tool_use_id = string(p.get("call_id"));
            let output = p.get("output").unwrap_or(&Value::Null);
            let (text, failed) = tool_output(output);
            e.text = Some(clean_text(text));
            e.is_error = failed;
            vec![e]
        }
        t => vec![other(format!("response_item/{t}"))],
    }
}

fn with_text(mut e: Event, content: Option<&Value>) -> Event {
    e.text = content.map(flatten).map(clean_text);
    e
}

/// A tool's output and whether it failed. Shell outputs come as a JSON string
/// `{"output": …, "metadata": {"exit_code": N}}`; a non-zero exit code is a failure.
fn tool_output(output: &Value) -> (String, bool) {
    if let Some(s) = output.as_str()
        && let Ok(parsed) = serde_json::from_str::<Value>(s)
        && let Some(inner) = parsed.get("output")
    {
        let code = parsed
            .get("metadata")
            .and_then(|m| m.get("exit_code"))
            .and_then(Value::as_i64);
        return (flatten(inner), code.is_some_and(|c| c != 0));
    }
    let failed = output
        .get("success")
        .and_then(Value::as_bool)
        .is_some_and(|ok| !ok);
    (flatten(output), failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rollout_lines() {
        let mut meta = Meta::default();
        parse_line(
            &json!({"timestamp": "2025-10-21T20:02:50.705Z", "type": "session_meta", "payload": {"id": "019a", "cwd": "/w", "cli_version": "0.47.0"}}),
            1,
            &mut meta,
        );
        assert_eq!(
            (
                meta.source_session_id.as_deref(),
                meta.agent_version.as_deref()
            ),
            (Some("019a"), Some("0.47.0"))
        );
        let call = parse_line(
            &json!({"type": "response_item", "payload": {"type": "function_call", "name": "shell", "arguments": "{\"command\":[\"ls\"]}", "call_id": "c1"}}),
            2,
            &mut meta,
        );
        assert_eq!(call[0].kind, EventKind::ToolUse);
        assert_eq!(call[0].tool_input, Some(json!({"command": ["ls"]})));
        let out = parse_line(
            &json!({"type": "response_item", "payload": {"type": "function_call_output", "call_id": "c1", "output": "{\"output\":\"boom\",\"metadata\":{\"exit_code\":2}}"}}),
            3,
            &mut meta,
        );
        assert_eq!(
            (out[0].is_error, out[0].text.as_deref()),
            (true, Some("boom"))
        );
        let msg = parse_line(
            &json!({"type": "response_item", "payload": {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Done"}]}}),
            4,
            &mut meta,
        );
        assert_eq!(
            (msg[0].kind, msg[0].text.as_deref()),
            (EventKind::Assistant, Some("Done"))
        );
        let echo = parse_line(
            &json!({"type": "event_msg", "payload": {"type": "agent_message", "message": "Done"}}),
            5,
            &mut meta,
        );
        assert_eq!(
            echo[0].kind,
            EventKind::Other,
            "UI echoes are not counted twice"
        );
    }
}

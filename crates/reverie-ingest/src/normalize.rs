//! What every parser shares: session metadata gathered along the way, and the flattening of
//! content (strings, lists of blocks, nested results) into event text.

use reverie_core::Timestamp;
use reverie_core::session::{Event, EventKind};
use serde_json::Value;

/// Most bytes of text kept in one event; the rest is cut with a marker saying how much. Tool
/// output dumps are the usual culprit; the raw line keeps everything.
pub const MAX_EVENT_TEXT: usize = 256 * 1024;

pub use reverie_core::session::SessionMeta as Meta;

/// An RFC 3339 timestamp, or `None` for anything else (fixtures hold placeholders).
pub fn timestamp(v: Option<&Value>) -> Option<Timestamp> {
    v.and_then(Value::as_str).and_then(Timestamp::parse)
}

/// A JSON string field as an owned string.
pub fn string(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

/// Cuts text to [`MAX_EVENT_TEXT`] on a character boundary, noting what was cut; NUL
/// characters (which PostgreSQL text cannot hold) become U+FFFD.
pub fn clean_text(mut s: String) -> String {
    if s.contains('\0') {
        s = s.replace('\0', "\u{FFFD}");
    }
    if s.len() > MAX_EVENT_TEXT {
        let total = s.len();
        let mut end = MAX_EVENT_TEXT;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str(&format!(
            "\n[… {} more bytes in the raw transcript]",
            total - end
        ));
    }
    s
}

/// Flattens message or tool-result content into text: a string as is; a list of blocks as
/// their texts joined by newlines, with placeholders for images and documents; anything else as
/// compact JSON.
pub fn flatten(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(items) => {
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                parts.push(match item {
                    Value::String(s) => s.clone(),
                    Value::Object(o) => match o.get("type").and_then(Value::as_str) {
                        Some(
                            "text" | "input_text" | "output_text" | "summary_text" | "inputText",
                        ) => o
                            .get("text")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        Some(t @ ("image" | "input_image" | "image_url" | "document")) => {
                            format!("[{t}]")
                        }
                        _ => match o.get("text").and_then(Value::as_str) {
                            Some(t) => t.to_string(),
                            None => item.to_string(),
                        },
                    },
                    other => other.to_string(),
                });
            }
            parts.join("\n")
        }
        other => other.to_string(),
    }
}

/// An `other` event keeping the source's own type name.
pub fn other(subtype: impl Into<String>) -> Event {
    let mut e = Event::new(EventKind::Other);
    e.subtype = Some(subtype.into());
    e
}

/// A text event of `kind`.
pub fn text_event(kind: EventKind, text: String) -> Event {
    Event::new(kind).with_text(clean_text(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_flattens() {
        assert_eq!(flatten(&json!("hi")), "hi");
        assert_eq!(
            flatten(
                &json!([{"type": "text", "text": "a"}, {"type": "image", "source": {}}, {"type": "text", "text": "b"}])
            ),
            "a\n[image]\nb"
        );
        assert_eq!(flatten(&json!({"k": 1})), "{\"k\":1}");
        assert_eq!(flatten(&Value::Null), "");
    }

    #[test]
    fn long_text_is_cut_with_a_note() {
        let s = clean_text("é".repeat(MAX_EVENT_TEXT));
        assert!(s.len() < MAX_EVENT_TEXT + 100);
        assert!(s.ends_with(&format!(
            "[… {} more bytes in the raw transcript]",
            MAX_EVENT_TEXT
        )));
        assert_eq!(clean_text("a\0b".into()), "a\u{FFFD}b");
    }

    #[test]
    fn meta_keeps_first_values_and_widens_time() {
        let mut m = Meta::default();
        m.see(Timestamp::parse("2026-01-02T00:00:00Z"));
        m.absorb(Meta {
            project: Some("/a".into()),
            started_at: Timestamp::parse("2026-01-01T00:00:00Z"),
            ..Default::default()
        });
        m.absorb(Meta {
            project: Some("/b".into()),
            ..Default::default()
        });
        assert_eq!(m.project.as_deref(), Some("/a"));
        assert_eq!(m.started_at, Timestamp::parse("2026-01-01T00:00:00Z"));
        assert_eq!(m.ended_at, Timestamp::parse("2026-01-02T00:00:00Z"));
    }
}

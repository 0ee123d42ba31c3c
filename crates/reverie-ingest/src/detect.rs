//! Which format a file holds, decided from its content (never its name): the first bytes say
//! whether it is binary, JSON lines, one JSON document or text, and the first lines or the
//! document's shape say which transcript format.

use reverie_core::session::SourceFormat;
use serde_json::Value;

/// How much of a file detection looks at before deciding on a line format.
pub const HEAD_BYTES: usize = 256 * 1024;

/// What a file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detected {
    /// One JSON object per line in this format.
    Lines(SourceFormat),
    /// One document (JSON, or text) to read whole.
    Document,
    /// Nothing but whitespace.
    Empty,
    /// Not text.
    Binary(String),
}

const CLAUDE_TYPES: &[&str] = &[
    "user",
    "assistant",
    "system",
    "summary",
    "progress",
    "attachment",
    "file-history-snapshot",
    "queue-operation",
];
const CODEX_TYPES: &[&str] = &[
    "session_meta",
    "response_item",
    "event_msg",
    "turn_context",
    "compacted",
];

/// The line format a parsed line belongs to, if it is recognisably one.
pub fn line_format(v: &Value) -> Option<SourceFormat> {
    let obj = v.as_object()?;
    let t = obj.get("type").and_then(Value::as_str)?;
    if CODEX_TYPES.contains(&t) && obj.contains_key("payload") {
        return Some(SourceFormat::CodexCli);
    }
    let claude_marker = [
        "sessionId",
        "uuid",
        "parentUuid",
        "message",
        "leafUuid",
        "snapshot",
        "operation",
    ]
    .iter()
    .any(|k| obj.contains_key(*k));
    (CLAUDE_TYPES.contains(&t) && claude_marker).then_some(SourceFormat::ClaudeCode)
}

/// Looks at the head of a file. `complete` says whether `head` is the whole file.
pub fn detect(head: &[u8], complete: bool) -> Detected {
    let trimmed = head.trim_ascii_start();
    if trimmed.is_empty() && complete {
        return Detected::Empty;
    }
    if let Some(pos) = head.iter().position(|&b| b == 0) {
        return Detected::Binary(format!("a NUL byte at offset {pos}"));
    }
    // Invalid UTF-8 in a few lines is a damaged transcript; in much of the head, not text.
    let text = String::from_utf8_lossy(head);
    let bad =
        text.matches('\u{FFFD}').count() - head.windows(3).filter(|w| w == b"\xef\xbf\xbd").count();
    if bad > 8 && bad * 20 > head.len().min(4096) / 16 {
        return Detected::Binary(format!(
            "{bad} invalid UTF-8 sequences in the first {} bytes",
            head.len()
        ));
    }
    if trimmed.first() == Some(&b'{') {
        // The first line that parses decides, among the first complete lines.
        let lines_end = if complete {
            head.len()
        } else {
            head.iter().rposition(|&b| b == b'\n').unwrap_or(0)
        };
        for line in head[..lines_end]
            .split(|&b| b == b'\n')
            .filter(|l| !l.trim_ascii().is_empty())
            .take(50)
        {
            if let Ok(v) = serde_json::from_slice::<Value>(line) {
                if let Some(f) = line_format(&v) {
                    return Detected::Lines(f);
                }
                if v.is_object() {
                    break;
                }
            }
        }
    }
    Detected::Document
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_content() {
        let claude = br#"{"type":"user","sessionId":"s","message":{"content":"hi"}}
{"type":"assistant","message":{"content":[]}}
"#;
        assert_eq!(
            detect(claude, true),
            Detected::Lines(SourceFormat::ClaudeCode)
        );
        // Garbage first, then a recognisable line.
        let damaged = b"{not json\n{\"type\":\"summary\",\"summary\":\"x\",\"leafUuid\":\"u\"}\n";
        assert_eq!(
            detect(damaged, true),
            Detected::Lines(SourceFormat::ClaudeCode)
        );
        let codex = br#"{"timestamp":"2025-10-21T20:02:50.705Z","type":"session_meta","payload":{"id":"x"}}"#;
        assert_eq!(detect(codex, true), Detected::Lines(SourceFormat::CodexCli));
        assert_eq!(
            detect(b"{\n  \"messages\": []\n}", true),
            Detected::Document
        );
        assert_eq!(
            detect(b"User: hi\nAssistant: hello", true),
            Detected::Document
        );
        assert_eq!(detect(b"  \n\n", true), Detected::Empty);
        assert!(matches!(
            detect(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", true),
            Detected::Binary(_)
        ));
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8 | 0x80)
            .collect();
        assert!(matches!(detect(&noise, true), Detected::Binary(_)));
    }
}

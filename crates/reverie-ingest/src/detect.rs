//! Which format a file holds, decided from its content (never its name): the first bytes say
//! whether it is binary, JSON lines, one JSON document or text, and the first lines or the
//! document's shape say which transcript format.
//!
//! Detection is lenient with damage a real transcript can carry and strict with what is not
//! text: a byte order mark, `\r`-only line endings, a few invalid UTF-8 bytes, a NUL-filled tail
//! (a crash while writing a preallocated file), a first line longer than the head, and line
//! types added by a newer agent version are all read; a file that is mostly bytes no text holds,
//! or that starts with an image's or archive's signature, is refused by name.

use std::fmt;
use std::io::{self, BufRead};

use reverie_core::session::SourceFormat;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use crate::lines::{Item, LineReader};

/// How much of a file detection looks at before deciding on a line format (and how much of it
/// the binary check reads). A first line longer than this is still read whole.
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

/// Keys that mark a Claude Code line (with a known `type`).
const CLAUDE_MARKERS: [&str; 7] = [
    "sessionId",
    "uuid",
    "parentUuid",
    "message",
    "leafUuid",
    "snapshot",
    "operation",
];

/// The line format a parsed line belongs to, if it is recognisably one.
pub fn line_format(v: &Value) -> Option<SourceFormat> {
    // The same rule as detection's, read off a built value.
    let obj = v.as_object()?;
    let probe = Probe {
        kind: Some(obj.get("type").and_then(Value::as_str)?.to_string()),
        keys: PROBE_KEYS
            .iter()
            .enumerate()
            .filter(|(_, k)| obj.contains_key(**k))
            .fold(0, |bits, (i, _)| bits | 1 << i),
    };
    probe.format()
}

/// What detection reads of a line: its `type` and which marker keys it has. Everything else is
/// skipped unbuilt, so that probing a line of many megabytes costs no more memory than its text.
#[derive(Debug, Default)]
struct Probe {
    kind: Option<String>,
    /// Bit `i` set: the line has key `PROBE_KEYS[i]`.
    keys: u16,
}

/// The keys a [`Probe`] notes: [`CLAUDE_MARKERS`], then Codex's (`payload`, `timestamp`).
const PROBE_KEYS: [&str; 9] = [
    "sessionId",
    "uuid",
    "parentUuid",
    "message",
    "leafUuid",
    "snapshot",
    "operation",
    "payload",
    "timestamp",
];

impl Probe {
    fn has(&self, key: &str) -> bool {
        PROBE_KEYS
            .iter()
            .position(|k| *k == key)
            .is_some_and(|i| self.keys & (1 << i) != 0)
    }

    /// The format of a line whose type is known ([`line_format`]'s rule).
    fn format(&self) -> Option<SourceFormat> {
        let t = self.kind.as_deref()?;
        if CODEX_TYPES.contains(&t) && self.has("payload") {
            return Some(SourceFormat::CodexCli);
        }
        (CLAUDE_TYPES.contains(&t) && CLAUDE_MARKERS.iter().any(|k| self.has(k)))
            .then_some(SourceFormat::ClaudeCode)
    }

    /// The format a line of an unknown type has the shape of: a `type` with a `sessionId` or
    /// `uuid` is Claude Code's (a newer version's `custom-title`, say); a `type` with a
    /// `payload` and a `timestamp` is Codex's.
    fn shape(&self) -> Option<SourceFormat> {
        self.kind.as_ref()?;
        if self.has("payload") && self.has("timestamp") {
            Some(SourceFormat::CodexCli)
        } else if self.has("sessionId") || self.has("uuid") {
            Some(SourceFormat::ClaudeCode)
        } else {
            None
        }
    }
}

impl<'de> Deserialize<'de> for Probe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Probe;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Probe, A::Error> {
                let mut p = Probe::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "type" {
                        p.kind = map.next_value::<Value>()?.as_str().map(str::to_owned);
                        continue;
                    }
                    if let Some(i) = PROBE_KEYS.iter().position(|k| *k == key) {
                        p.keys |= 1 << i;
                    }
                    map.next_value::<IgnoredAny>()?;
                }
                Ok(p)
            }
        }
        d.deserialize_map(V)
    }
}

const BOM: &[u8] = b"\xef\xbb\xbf";

/// `bytes` without a leading UTF-8 byte order mark.
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(BOM).unwrap_or(bytes)
}

/// The byte that ends lines in a file whose head is `head`: `\r` when the head has carriage
/// returns and no newline at all (classic Mac endings), else `\n`. A raw `\r` cannot occur
/// inside a JSON string, so a JSONL file with `\n` endings whose first line is longer than the
/// head is not mistaken for one.
pub fn line_terminator(head: &[u8]) -> u8 {
    if memchr::memchr(b'\n', head).is_none() && memchr::memchr(b'\r', head).is_some() {
        b'\r'
    } else {
        b'\n'
    }
}

/// File signatures that no transcript starts with, and what they are.
const SIGNATURES: &[(&[u8], &str)] = &[
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x28\xb5\x2f\xfd", "a zstd archive"),
    (b"\x7fELF", "an ELF executable"),
    (b"SQLite format 3\0", "an SQLite database"),
];

/// A control byte that text does not hold (tab, newlines, form feed and escape it does).
fn is_control(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b)) || b == 0x7f
}

/// Why `head` (BOM and NUL tail removed) is not text, if it is not: a known binary signature,
/// or more than a tenth of its bytes invalid UTF-8 or control bytes. A few bad bytes in a text
/// are damage, read lossily (the lines holding them are reported), not a reason to refuse it.
fn binary_reason(head: &[u8]) -> Option<String> {
    if let Some((_, what)) = SIGNATURES.iter().find(|(sig, _)| head.starts_with(sig)) {
        return Some(format!("{what}, by its first bytes"));
    }
    let mut bad = 0usize;
    for chunk in head.utf8_chunks() {
        bad += chunk.invalid().len();
        bad += chunk.valid().bytes().filter(|&b| is_control(b)).count();
    }
    (bad > 8 && bad * 10 > head.len()).then(|| {
        format!(
            "{bad} of its first {} bytes are not text (invalid UTF-8 or control bytes)",
            head.len()
        )
    })
}

/// Is `line` blank: only whitespace, or NULs (a preallocated tail)?
pub fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|&b| b.is_ascii_whitespace() || b == 0)
}

/// Looks at the head of a file. `complete` says whether `head` is the whole file.
///
/// Only the head's complete lines are probed; [`detect_with`] reads lines past the head.
pub fn detect(head: &[u8], complete: bool) -> Detected {
    let lines_end = if complete {
        head.len()
    } else {
        let term = line_terminator(head);
        head.iter().rposition(|&b| b == term).map_or(0, |i| i + 1)
    };
    detect_with(head, complete, &head[..lines_end]).expect("reading memory cannot fail")
}

/// Looks at the head of a file, then probes its first lines as read from `source` (the file
/// from its first byte), each however long it is: a line is held once, up to the line reader's
/// limit, and probed without being built into a value. Probing stops after 50 non-blank lines
/// or the line that reaches past [`HEAD_BYTES`].
pub fn detect_with<R: BufRead>(head: &[u8], complete: bool, source: R) -> io::Result<Detected> {
    let text = strip_bom(head);
    let nul_tail = text.iter().rev().take_while(|&&b| b == 0).count();
    let body = &text[..text.len() - nul_tail];
    if body.trim_ascii().is_empty() {
        if complete {
            return Ok(Detected::Empty);
        }
        if nul_tail > 0 {
            // a whole head of NULs (and blanks): no text in sight
            return Ok(Detected::Binary(format!(
                "its first {} bytes are NUL bytes",
                head.len()
            )));
        }
    }
    if let Some(why) = binary_reason(body) {
        return Ok(Detected::Binary(why));
    }
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Ok(Detected::Document);
    }
    let mut reader = LineReader::new(source, 0, 1).with_terminator(line_terminator(head));
    let (mut shape, mut lines) = (None, 0);
    while let Some(item) = reader.next_item()? {
        let (number, bytes, end) = match item {
            Item::Line {
                number, bytes, end, ..
            } => (number, bytes, end),
            Item::TooLong { end, .. } if end >= HEAD_BYTES as u64 => break,
            Item::TooLong { .. } => continue,
        };
        let bytes = if number == 1 { strip_bom(bytes) } else { bytes };
        if is_blank(bytes) {
            continue;
        }
        lines += 1;
        // lossily: a few invalid bytes in a line do not hide its format
        if let Ok(p) = serde_json::from_str::<Probe>(&String::from_utf8_lossy(bytes)) {
            if let Some(f) = p.format() {
                return Ok(Detected::Lines(f));
            }
            shape = shape.or(p.shape());
        }
        if lines >= 50 || end >= HEAD_BYTES as u64 {
            break;
        }
    }
    Ok(shape.map_or(Detected::Document, Detected::Lines))
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
        // BOM, unknown first type, `\r` endings, NUL tail, a few bad bytes
        let bom = b"\xef\xbb\xbf{\"type\":\"user\",\"sessionId\":\"s\",\"message\":{}}\n";
        assert_eq!(detect(bom, true), Detected::Lines(SourceFormat::ClaudeCode));
        let future = b"{\"type\":\"custom-title\",\"customTitle\":\"x\",\"sessionId\":\"s\"}\n";
        assert_eq!(
            detect(future, true),
            Detected::Lines(SourceFormat::ClaudeCode)
        );
        let cr = b"{\"type\":\"custom-title\",\"sessionId\":\"s\"}\r{\"type\":\"user\",\"uuid\":\"u\"}\r";
        assert_eq!(detect(cr, true), Detected::Lines(SourceFormat::ClaudeCode));
        let mut nul = claude.to_vec();
        nul.extend([0u8; 3000]);
        assert_eq!(
            detect(&nul, true),
            Detected::Lines(SourceFormat::ClaudeCode)
        );
        assert!(matches!(detect(&[0u8; 100], false), Detected::Binary(_)));
        let mut damaged = claude.repeat(40);
        for i in 0..13 {
            damaged[i * 90 + 30] = 0xff;
        }
        assert_eq!(
            detect(&damaged, true),
            Detected::Lines(SourceFormat::ClaudeCode)
        );
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8 | 0x80)
            .collect();
        assert!(matches!(detect(&noise, true), Detected::Binary(_)));
    }
}

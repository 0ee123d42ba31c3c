//! Just enough JSON for redaction: find the string literals of a (validated) JSON text with
//! their roles (object key, the value of a key, an array element), and decode a literal's
//! content while keeping, for every decoded byte, the offset of the raw bytes it came from.
//!
//! A finding in decoded text maps back to a raw range that starts and ends on whole escape
//! sequences inside one literal, so replacing it with plain ASCII keeps the JSON valid.

use std::borrow::Cow;

/// Does `text` start like a JSON text that holds strings (an object, an array or a string)?
pub(super) fn starts_like_json(text: &str) -> bool {
    matches!(
        text.trim_start().as_bytes().first(),
        Some(b'{' | b'[' | b'"')
    )
}

/// Is `text` one valid JSON value?
pub(super) fn is_valid(text: &str) -> bool {
    serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
}

/// The lines of `text` with their offsets when `text` is JSON Lines: several lines, each
/// blank or one valid JSON value, at least one of them an object or array.
pub(super) fn jsonl_lines(text: &str) -> Option<Vec<(usize, &str)>> {
    if !text.contains('\n') || !starts_like_json(text) {
        return None;
    }
    let mut lines = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        if body.trim().is_empty() {
            continue;
        }
        if !is_valid(body) {
            return None;
        }
        lines.push((start, body));
    }
    (lines.len() >= 2).then_some(lines)
}

/// What a string literal is in its document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// An object member's name.
    Key,
    /// An object member's value; the index of its key's literal.
    Value(Option<usize>),
    /// An array element (or the whole document); the index of the string element right before
    /// it, if the element before it was a string.
    Element(Option<usize>),
}

/// One string literal: the byte range of its content (between the quotes) and its role.
#[derive(Debug, Clone, Copy)]
pub(super) struct JsonStr {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) role: Role,
}

/// The string literals of a document, and the `{"name": N, "value": V}` pairs found in its
/// objects (as indexes of the N and V literals).
#[derive(Debug, Default)]
pub(super) struct Doc {
    pub(super) strings: Vec<JsonStr>,
    pub(super) pairs: Vec<(usize, usize)>,
}

#[derive(Debug)]
struct Frame {
    object: bool,
    expect_key: bool,
    key: Option<usize>,
    prev: Option<usize>,
    name: Option<usize>,
    value: Option<usize>,
}

fn is_name_key(raw: &str) -> bool {
    matches!(
        raw,
        "name" | "Name" | "NAME" | "key" | "Key" | "KEY" | "variable"
    )
}

fn is_value_key(raw: &str) -> bool {
    matches!(raw, "value" | "Value" | "VALUE")
}

/// Finds the string literals of `text`, which must be valid JSON.
pub(super) fn tokenize(text: &str) -> Doc {
    let b = text.as_bytes();
    let mut doc = Doc::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let end = j.min(b.len());
                let idx = doc.strings.len();
                let role = match stack.last() {
                    Some(f) if f.object && f.expect_key => Role::Key,
                    Some(f) if f.object => Role::Value(f.key),
                    Some(f) => Role::Element(f.prev),
                    None => Role::Element(None),
                };
                doc.strings.push(JsonStr { start, end, role });
                if let Some(f) = stack.last_mut() {
                    if !f.object {
                        f.prev = Some(idx);
                    } else if f.expect_key {
                        f.key = Some(idx);
                    } else if let Some(k) = f.key {
                        let key = &text[doc.strings[k].start..doc.strings[k].end];
                        if is_name_key(key) {
                            f.name = Some(idx);
                        } else if is_value_key(key) {
                            f.value = Some(idx);
                        }
                    }
                }
                i = end + 1;
            }
            c @ (b'{' | b'[') => {
                if let Some(f) = stack.last_mut()
                    && !f.object
                {
                    f.prev = None;
                }
                stack.push(Frame {
                    object: c == b'{',
                    expect_key: c == b'{',
                    key: None,
                    prev: None,
                    name: None,
                    value: None,
                });
                i += 1;
            }
            b'}' | b']' => {
                if let Some(f) = stack.pop()
                    && let (Some(n), Some(v)) = (f.name, f.value)
                {
                    doc.pairs.push((n, v));
                }
                i += 1;
            }
            b':' => {
                if let Some(f) = stack.last_mut() {
                    f.expect_key = false;
                }
                i += 1;
            }
            b',' => {
                if let Some(f) = stack.last_mut()
                    && f.object
                {
                    f.expect_key = true;
                    f.key = None;
                }
                i += 1;
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                // a number, true, false or null
                if let Some(f) = stack.last_mut()
                    && !f.object
                {
                    f.prev = None;
                }
                i += 1;
            }
        }
    }
    doc
}

/// Decoded content of a string literal, with a map from decoded byte offsets to raw ones.
#[derive(Debug)]
pub(super) struct Decoded<'a> {
    pub(super) text: Cow<'a, str>,
    /// `map[d]` is the raw offset of the escape or character that produced decoded byte `d`;
    /// `map[len]` is the raw length. `None` when the content had no escapes (identity).
    map: Option<Vec<u32>>,
}

impl Decoded<'_> {
    /// The raw offset of decoded offset `d` (a char boundary, or the end).
    pub(super) fn raw(&self, d: usize) -> usize {
        match &self.map {
            None => d,
            Some(m) => m[d] as usize,
        }
    }
}

fn hex4(b: &[u8]) -> Option<u32> {
    if b.len() < 4 {
        return None;
    }
    let s = std::str::from_utf8(&b[..4]).ok()?;
    if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

/// Decodes the content of a JSON string literal (the bytes between its quotes).
pub(super) fn decode(raw: &str) -> Decoded<'_> {
    if !raw.contains('\\') || raw.len() >= u32::MAX as usize {
        return Decoded {
            text: Cow::Borrowed(raw),
            map: None,
        };
    }
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut map: Vec<u32> = Vec::with_capacity(raw.len() + 1);
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            let run_end = b[i..]
                .iter()
                .position(|&c| c == b'\\')
                .map_or(b.len(), |p| i + p);
            out.push_str(&raw[i..run_end]);
            map.extend((i..run_end).map(|k| k as u32));
            i = run_end;
            continue;
        }
        let (ch, len) = match b.get(i + 1) {
            Some(b'"') => ('"', 2),
            Some(b'\\') => ('\\', 2),
            Some(b'/') => ('/', 2),
            Some(b'b') => ('\u{8}', 2),
            Some(b'f') => ('\u{c}', 2),
            Some(b'n') => ('\n', 2),
            Some(b'r') => ('\r', 2),
            Some(b't') => ('\t', 2),
            Some(b'u') => match hex4(&b[i + 2..]) {
                Some(hi @ 0xD800..=0xDBFF) => {
                    let lo = (b.get(i + 6) == Some(&b'\\') && b.get(i + 7) == Some(&b'u'))
                        .then(|| hex4(&b[i + 8..]))
                        .flatten()
                        .filter(|lo| (0xDC00..=0xDFFF).contains(lo));
                    match lo {
                        Some(lo) => {
                            let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                            (char::from_u32(c).unwrap_or('\u{FFFD}'), 12)
                        }
                        None => ('\u{FFFD}', 6),
                    }
                }
                Some(c) => (char::from_u32(c).unwrap_or('\u{FFFD}'), 6),
                None => ('\\', 1),
            },
            _ => ('\\', 1),
        };
        let mut buf = [0u8; 4];
        let s = ch.encode_utf8(&mut buf);
        out.push_str(s);
        map.extend(std::iter::repeat_n(i as u32, s.len()));
        i += len;
    }
    map.push(raw.len() as u32);
    Decoded {
        text: Cow::Owned(out),
        map: Some(map),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_maps_escapes() {
        let raw = r#"a\nb\"c\u00e9\ud83d\ude00d"#;
        let d = decode(raw);
        assert_eq!(d.text, "a\nb\"cé😀d");
        let t = &d.text;
        let at = |s: &str| t.find(s).unwrap();
        assert_eq!(d.raw(at("b")), 3);
        assert_eq!(d.raw(at("é")), 7);
        assert_eq!(d.raw(at("😀")), 13);
        assert_eq!(d.raw(at("d")), 25);
        assert_eq!(d.raw(t.len()), raw.len());
    }

    #[test]
    fn roles() {
        let text = r#"{"a": "x", "b": [1, "y", "z"], "c": {"name": "N", "value": "V"}}"#;
        let doc = tokenize(text);
        let s: Vec<(&str, Role)> = doc
            .strings
            .iter()
            .map(|s| (&text[s.start..s.end], s.role))
            .collect();
        assert_eq!(s[0], ("a", Role::Key));
        assert_eq!(s[1], ("x", Role::Value(Some(0))));
        assert_eq!(s[3], ("y", Role::Element(None)));
        assert_eq!(s[4], ("z", Role::Element(Some(3))));
        assert_eq!(doc.pairs.len(), 1);
    }
}

//! The mapping between memory-tool file names and memory-path segments.
//!
//! The memory tool is a filesystem: a name may hold characters a memory path may not (control
//! and format characters, U+2028/U+2029) and need not be NFC, and the reference implementation
//! accepts such names. To give the same answers without breaking the store's path rules, such a
//! name is stored percent-encoded: forbidden characters become `%XX` bytes, a `%` that would
//! read as an escape becomes `%25`, and a segment that is still not NFC has every non-ASCII
//! character encoded. Ordinary names (the overwhelming majority) map to themselves.
//!
//! A stored segment is shown to the tool decoded only when it is the canonical encoding of the
//! decoded name; any other segment (say `%41`, written through the API) is shown as it is.

use unicode_normalization::is_nfc;

use crate::path::is_forbidden_char;

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

fn push_escaped(out: &mut String, c: char) {
    let mut buf = [0u8; 4];
    for b in c.encode_utf8(&mut buf).bytes() {
        out.push_str(&format!("%{b:02X}"));
    }
}

/// Encodes one tool name as a memory-path segment.
pub fn encode_segment(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.char_indices() {
        let escape_percent =
            c == '%' && bytes.len() > i + 2 && is_hex(bytes[i + 1]) && is_hex(bytes[i + 2]);
        if escape_percent || is_forbidden_char(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    if is_nfc(&out) {
        return out;
    }
    let mut ascii = String::with_capacity(out.len() * 3);
    for c in out.chars() {
        if c.is_ascii() {
            ascii.push(c);
        } else {
            push_escaped(&mut ascii, c);
        }
    }
    ascii
}

/// Decodes every `%XX` escape of a segment; `None` when the bytes are not UTF-8.
fn percent_decode(segment: &str) -> Option<String> {
    let b = segment.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() && is_hex(b[i + 1]) && is_hex(b[i + 2]) {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The tool name a stored segment shows as.
pub fn decode_segment(segment: &str) -> String {
    if !segment.contains('%') {
        return segment.to_string();
    }
    match percent_decode(segment) {
        Some(name) if encode_segment(&name) == segment => name,
        _ => segment.to_string(),
    }
}

/// True when `segment` is the canonical encoding of the name it shows as.
pub fn is_canonical(segment: &str) -> bool {
    encode_segment(&decode_segment(segment)) == segment
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ordinary_names_map_to_themselves() {
        for n in [
            "notes.md",
            "100%.md",
            "a%b",
            "%4",
            "日本語",
            "é",
            ".hidden",
            "a b",
        ] {
            assert_eq!(encode_segment(n), n);
            assert_eq!(decode_segment(n), n);
        }
    }

    #[test]
    fn hostile_names_are_escaped() {
        assert_eq!(encode_segment("a\nb"), "a%0Ab");
        assert_eq!(encode_segment("%41"), "%2541");
        assert_eq!(encode_segment("x\u{200b}"), "x%E2%80%8B");
        assert_eq!(encode_segment("e\u{301}"), "e%CC%81");
        assert_eq!(decode_segment("a%0Ab"), "a\nb");
        assert_eq!(decode_segment("%2541"), "%41");
        // Not canonical (written through the API): shown as stored.
        assert_eq!(decode_segment("%41"), "%41");
        assert!(!is_canonical("%41"));
    }

    proptest! {
        #[test]
        fn encoding_round_trips_and_yields_valid_segments(name in "\\PC{0,6}[\\x00-\\x1f%\u{200b}\u{301}\u{2028}a-fA-F0-9é]{0,8}") {
            prop_assume!(!name.is_empty() && !name.contains('/') && name != "." && name != "..");
            let seg = encode_segment(&name);
            prop_assert_eq!(decode_segment(&seg), name.clone());
            let path = format!("/{seg}");
            prop_assert!(crate::path::validate_path(&path).is_ok(), "{:?} -> {:?}", name, seg);
        }
    }
}

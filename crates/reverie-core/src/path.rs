//! Memory paths and path prefixes, with the rules of the wire contract.
//!
//! A path starts with `/`, has 1 to 20 non-empty segments, no `.` or `..` segment, no control
//! or format characters, no U+2028/U+2029, is in Unicode Normalization Form C and is at most
//! 1,024 bytes. Paths are compared byte for byte (case-sensitive, no normalization), which is
//! also the order in which memories are listed.

use unicode_general_category::{GeneralCategory, get_general_category};
use unicode_normalization::is_nfc;

use crate::error::{Error, Result};

/// Most bytes in a memory path.
pub const MAX_PATH_BYTES: usize = 1024;
/// Most segments in a memory path.
pub const MAX_SEGMENTS: usize = 20;

/// True for the characters a path may not contain: control (Cc) and format (Cf) characters and
/// the line and paragraph separators.
pub fn is_forbidden_char(c: char) -> bool {
    matches!(
        get_general_category(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// Validates a memory path, naming the broken rule on refusal.
pub fn validate_path(path: &str) -> Result<()> {
    validate(path, "path")
        .map_err(|reason| Error::invalid("path", format!("{:?} {reason}", shorten(path))))
}

/// Validates a `path_prefix` for listing: `/`, or a valid path followed by `/`.
pub fn validate_prefix(prefix: &str) -> Result<()> {
    let refuse =
        |reason: String| Error::invalid("path_prefix", format!("{:?} {reason}", shorten(prefix)));
    if prefix == "/" {
        return Ok(());
    }
    let Some(inner) = prefix.strip_suffix('/') else {
        return Err(refuse("must end with \"/\"".into()));
    };
    validate(inner, "prefix").map_err(refuse)
}

fn validate(path: &str, what: &str) -> std::result::Result<(), String> {
    if path.len() > MAX_PATH_BYTES {
        return Err(format!(
            "is {} bytes long; a {what} holds at most {MAX_PATH_BYTES} bytes",
            path.len()
        ));
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err("must start with \"/\"".into());
    };
    if let Some(c) = path.chars().find(|&c| is_forbidden_char(c)) {
        return Err(format!(
            "contains the forbidden character U+{:04X}",
            c as u32
        ));
    }
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.len() > MAX_SEGMENTS {
        return Err(format!(
            "has {} segments; at most {MAX_SEGMENTS} are allowed",
            segments.len()
        ));
    }
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "" => return Err(format!("has an empty segment (segment {})", i + 1)),
            "." | ".." => return Err(format!("has a {seg:?} segment (segment {})", i + 1)),
            _ => {}
        }
    }
    if !is_nfc(path) {
        return Err("is not in Unicode Normalization Form C".into());
    }
    Ok(())
}

/// The parent prefixes of a path, shortest first: `/a/b/c` gives `/a/`, `/a/b/`.
pub fn parent_prefixes(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/')
        .skip(1)
        .map(move |(i, _)| &path[..=i])
}

/// The smallest string greater than every string that starts with `prefix`, for range scans:
/// `/a/` gives `/a0` (`0` follows `/` in byte order).
pub fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut bytes = prefix.as_bytes().to_vec();
    while let Some(last) = bytes.pop() {
        if last < 0x7f {
            bytes.push(last + 1);
            return String::from_utf8(bytes).ok();
        }
    }
    None
}

/// A value cut to a readable length for an error message.
pub fn shorten(s: &str) -> String {
    const MAX: usize = 120;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_paths() {
        for p in [
            "/a",
            "/projects/foo/notes.md",
            "/.hidden",
            "/a/..b/c.",
            "/é/日本",
            "/a b/c%20d",
        ] {
            validate_path(p).unwrap_or_else(|e| panic!("{p}: {e}"));
        }
        let twenty = "/s".repeat(20);
        validate_path(&twenty).unwrap();
        let max = format!("/{}", "a".repeat(MAX_PATH_BYTES - 1));
        validate_path(&max).unwrap();
    }

    #[test]
    fn invalid_paths_name_the_rule() {
        let cases: &[(&str, &str)] = &[
            ("", "must start with \"/\""),
            ("a/b", "must start with \"/\""),
            ("/", "empty segment"),
            ("/a//b", "empty segment (segment 2)"),
            ("/a/", "empty segment (segment 2)"),
            ("/a/./b", "\".\" segment"),
            ("/a/../b", "\"..\" segment"),
            ("/a\u{0}b", "U+0000"),
            ("/a\nb", "U+000A"),
            ("/a\u{7f}", "U+007F"),
            ("/a\u{200b}", "U+200B"),
            ("/a\u{feff}", "U+FEFF"),
            ("/a\u{2028}", "U+2028"),
            ("/a\u{2029}", "U+2029"),
            ("/e\u{301}", "Normalization Form C"),
        ];
        for (path, want) in cases {
            let msg = validate_path(path).unwrap_err().to_string();
            assert!(msg.contains(want), "{path:?}: {msg}");
            assert!(msg.starts_with("invalid path: "), "{msg}");
        }
        let deep = "/s".repeat(21);
        assert!(
            validate_path(&deep)
                .unwrap_err()
                .to_string()
                .contains("21 segments")
        );
        let long = format!("/{}", "a".repeat(MAX_PATH_BYTES));
        assert!(
            validate_path(&long)
                .unwrap_err()
                .to_string()
                .contains("1025 bytes")
        );
    }

    #[test]
    fn prefixes() {
        validate_prefix("/").unwrap();
        validate_prefix("/notes/").unwrap();
        assert!(
            validate_prefix("/notes")
                .unwrap_err()
                .to_string()
                .contains("must end with")
        );
        assert!(validate_prefix("notes/").is_err());
        assert!(validate_prefix("/a//").is_err());
        assert!(validate_prefix("/../").is_err());
    }

    #[test]
    fn parents_and_bounds() {
        assert_eq!(
            parent_prefixes("/a/b/c").collect::<Vec<_>>(),
            vec!["/a/", "/a/b/"]
        );
        assert_eq!(parent_prefixes("/a").count(), 0);
        assert_eq!(prefix_upper_bound("/a/").as_deref(), Some("/a0"));
        assert_eq!(prefix_upper_bound("/").as_deref(), Some("0"));
    }
}

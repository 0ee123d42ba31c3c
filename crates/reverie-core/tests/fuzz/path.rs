//! Memory paths and listing prefixes (`reverie_core::path`), and how the memory tool maps its
//! paths onto them: paths built from segments near the rules (`.`, `..`, empty, `%2e`, control
//! and format characters, U+2028, non-NFC sequences, names of up to 1,100 bytes, up to 24
//! segments, with or without the leading `/`, doubled or trailing `/`), arbitrary strings and
//! lossily read bytes. Checked: `validate_path` never panics and accepts exactly what an
//! independent reading of the rules accepts (NFC checked by normalizing, not by the quick
//! check); a refusal starts `invalid path:`, quotes the path and names a rule the path really
//! breaks (with its length, segment count, segment number or character); `validate_prefix`
//! agrees with `validate_path`; parent prefixes and range bounds of a valid path are right for
//! any string (`starts_with(p)` ⇔ `p <= s < upper(p)`); `shorten` cuts at a character
//! boundary; and the tool's path → stored path → shown path → stored path is a fixpoint, the
//! identity on ordinary valid paths, and its segments decode back to the names they encode.

use proptest::prelude::*;
use reverie_core::memtool::{Command, decode_segment, encode_segment, single_file_path};
use reverie_core::path::{
    MAX_PATH_BYTES, MAX_SEGMENTS, is_forbidden_char, parent_prefixes, prefix_upper_bound, shorten,
    validate_path, validate_prefix,
};
use unicode_normalization::UnicodeNormalization;

/// One segment near the rules.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-zA-Z0-9_.-]{1,12}".prop_map(|s| s.to_string()),
        3 => prop::sample::select(vec![
            "", ".", "..", "...", ".hidden", "a b", "%2e", "%2E%2E", "%41", "100%", "%",
            "é", "e\u{301}", "\u{301}", "日本語", "한국어", "\u{1100}\u{1161}", "Å", "A\u{30a}",
            "\u{212b}", "ﬁ", "🦀", "a\u{0}b", "\u{0}", "a\nb", "\t", "\r", "\u{7f}", "\u{85}",
            "\u{200b}", "\u{200d}", "\u{feff}", "\u{2028}", "\u{2029}", "\u{e0001}", "\u{ad}",
            "\u{202e}evil", "~", "MEMORY.md", "a:b", "a\\b", "*", "?",
        ])
        .prop_map(str::to_string),
        1 => (1usize..1100).prop_map(|n| "x".repeat(n)),
        1 => (1usize..400).prop_map(|n| "é".repeat(n)),
        2 => "\\PC{1,8}".prop_map(|s| s.to_string()),
        1 => any::<String>(),
    ]
}

/// A path built from segments, or not quite.
fn path_like() -> impl Strategy<Value = String> {
    let built = (
        prop::collection::vec(segment(), 0..24),
        prop_oneof![8 => Just("/"), 1 => Just(""), 1 => Just("//"), 1 => Just("\\")],
        prop_oneof![8 => Just(""), 1 => Just("/")],
    )
        .prop_map(|(segs, lead, trail)| format!("{lead}{}{trail}", segs.join("/")));
    prop_oneof![
        8 => built,
        1 => any::<String>(),
        1 => prop::collection::vec(any::<u8>(), 0..64)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

/// A valid path, mostly: 1–20 segments of ordinary characters (and some long ones).
fn valid_path() -> impl Strategy<Value = String> {
    let seg = prop_oneof![
        16 => "[a-zA-Z0-9_. ~%é日🦀-]{1,12}",
        1 => "[a-z]{100,300}",
    ];
    prop::collection::vec(seg, 1..=MAX_SEGMENTS).prop_map(|segs| format!("/{}", segs.join("/")))
}

/// The rules of a memory path, read independently of the implementation: which ones `path`
/// breaks.
#[derive(Debug, Default)]
struct Broken {
    too_long: bool,
    no_slash: bool,
    forbidden: Vec<char>,
    too_many: Option<usize>,
    empty: Vec<usize>,
    dots: Vec<(usize, String)>,
    not_nfc: bool,
}

impl Broken {
    fn of(path: &str) -> Broken {
        let mut b = Broken {
            too_long: path.len() > MAX_PATH_BYTES,
            no_slash: !path.starts_with('/'),
            forbidden: path.chars().filter(|&c| forbidden(c)).collect(),
            not_nfc: path.nfc().collect::<String>() != path,
            ..Broken::default()
        };
        if let Some(rest) = path.strip_prefix('/') {
            let segs: Vec<&str> = rest.split('/').collect();
            if segs.len() > MAX_SEGMENTS {
                b.too_many = Some(segs.len());
            }
            for (i, s) in segs.iter().enumerate() {
                if s.is_empty() {
                    b.empty.push(i + 1);
                }
                if *s == "." || *s == ".." {
                    b.dots.push((i + 1, s.to_string()));
                }
            }
        }
        b
    }

    fn any(&self) -> bool {
        self.too_long
            || self.no_slash
            || !self.forbidden.is_empty()
            || self.too_many.is_some()
            || !self.empty.is_empty()
            || !self.dots.is_empty()
            || self.not_nfc
    }

    /// Whether `reason` (the message after the quoted path) names a rule broken here.
    fn names(&self, path: &str, reason: &str) -> bool {
        if reason.contains("bytes long") {
            return self.too_long && reason.contains(&format!("is {} bytes long", path.len()));
        }
        if reason.contains("must start with \"/\"") {
            return self.no_slash;
        }
        if let Some(code) = reason.strip_prefix("contains the forbidden character U+") {
            return self
                .forbidden
                .iter()
                .any(|&c| format!("{:04X}", c as u32) == code);
        }
        if reason.contains("segments; at most 20 are allowed") {
            return self
                .too_many
                .is_some_and(|n| reason.starts_with(&format!("has {n} segments")));
        }
        if let Some(rest) = reason.strip_prefix("has an empty segment (segment ") {
            return self.empty.iter().any(|i| rest == format!("{i})"));
        }
        if reason.starts_with("has a \"") {
            return self
                .dots
                .iter()
                .any(|(i, s)| reason == format!("has a {s:?} segment (segment {i})"));
        }
        if reason == "is not in Unicode Normalization Form C" {
            return self.not_nfc;
        }
        false
    }
}

/// Control (Cc) and format (Cf) characters and U+2028/U+2029, by their properties.
fn forbidden(c: char) -> bool {
    let is = is_forbidden_char(c);
    // Spot checks of the implementation's table against what the standard library knows.
    assert!(!c.is_control() || is, "{c:?} is a control character");
    assert!(
        !matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200b}' | '\u{feff}' | '\u{ad}'
        ) || is,
        "{c:?}"
    );
    assert!(!(c.is_alphanumeric() && is), "{c:?} is alphanumeric");
    is
}

/// Maps a tool path to the memory path it edits (via `view`, whose file is the path itself).
fn stored(tool_path: &str) -> Option<String> {
    single_file_path(&Command::View {
        path: tool_path.to_string(),
        view_range: None,
    })
}

/// The tool path a stored path shows as.
fn shown(stored: &str) -> String {
    let names: Vec<String> = stored[1..].split('/').map(decode_segment).collect();
    format!("/memories/{}", names.join("/"))
}

proptest! {
    #![proptest_config(crate::config(1500))]

    /// `validate_path` accepts exactly what the rules allow; a refusal quotes the path and
    /// names a rule it breaks.
    #[test]
    fn paths_are_judged_by_the_rules(path in path_like()) {
        let broken = Broken::of(&path);
        match validate_path(&path) {
            Ok(()) => prop_assert!(!broken.any(), "{:?} accepted, but breaks {:?}", path, broken),
            Err(e) => {
                prop_assert!(broken.any(), "{:?} refused: {}", path, e);
                let msg = e.to_string();
                let head = format!("invalid path: {:?} ", shorten(&path));
                let reason = msg.strip_prefix(&head);
                prop_assert!(reason.is_some(), "{:?} does not start with {:?}", msg, head);
                let reason = reason.unwrap_or_default();
                prop_assert!(broken.names(&path, reason), "{:?}: {:?} names no rule it breaks ({:?})", path, reason, broken);
            }
        }
    }

    /// A prefix is `/` or a valid path then `/`; a refusal names `path_prefix`.
    #[test]
    fn prefixes_agree_with_paths(path in path_like()) {
        let want = path == "/"
            || path.strip_suffix('/').is_some_and(|inner| validate_path(inner).is_ok());
        match validate_prefix(&path) {
            Ok(()) => prop_assert!(want, "{:?}", path),
            Err(e) => {
                prop_assert!(!want, "{:?}: {}", path, e);
                prop_assert!(e.to_string().starts_with("invalid path_prefix: "), "{}", e);
            }
        }
    }

    /// The parents of a valid path are valid prefixes of it, one per segment but the last,
    /// and a prefix's range bound holds exactly the strings that start with it.
    #[test]
    fn parents_and_bounds_of_valid_paths(path in valid_path(), other in path_like(), tail in "\\PC{0,6}") {
        prop_assume!(validate_path(&path).is_ok());
        let parents: Vec<&str> = parent_prefixes(&path).collect();
        prop_assert_eq!(parents.len(), path.matches('/').count() - 1);
        let mut prefixes = vec!["/"];
        prefixes.extend(&parents);
        for (i, p) in prefixes.iter().enumerate() {
            prop_assert!(validate_prefix(p).is_ok(), "{:?}", p);
            prop_assert!(path.starts_with(p) && path.len() > p.len());
            prop_assert!(i == 0 || p.len() > prefixes[i - 1].len());
            let upper = prefix_upper_bound(p);
            prop_assert!(upper.is_some(), "{:?} has no bound", p);
            let upper = upper.unwrap_or_default();
            for s in [path.as_str(), other.as_str(), &format!("{p}{tail}"), &format!("{}{tail}", &p[..p.len() - 1])] {
                let inside = p.as_bytes() <= s.as_bytes() && s.as_bytes() < upper.as_bytes();
                prop_assert_eq!(s.starts_with(p), inside, "{:?} in [{:?}, {:?})", s, p, upper);
            }
        }
    }

    /// `shorten` keeps short values and cuts long ones at a character boundary, saying how
    /// long they were.
    #[test]
    fn shorten_cuts_at_characters(s in prop_oneof![any::<String>(), "[é日🦀a]{100,200}"]) {
        let short = shorten(&s);
        if s.len() <= 120 {
            prop_assert_eq!(short, s);
        } else {
            let suffix = format!("… ({} bytes)", s.len());
            prop_assert!(short.ends_with(&suffix));
            let kept = &short[..short.len() - suffix.len()];
            prop_assert!(s.starts_with(kept) && kept.len() <= 120 && kept.len() > 116);
        }
    }

    /// The memory tool's mapping of its paths onto memory paths: stored → shown → stored is
    /// a fixpoint, every stored path is valid, ordinary valid paths map to themselves, and
    /// each stored segment decodes to the name it encodes.
    #[test]
    fn tool_paths_normalize_idempotently(path in path_like(), noise in prop::sample::select(vec!["", "/", "/.", "/./", "//", "/x/.."])) {
        let tool = format!("/memories{path}{noise}");
        if let Some(s) = stored(&tool) {
            prop_assert!(validate_path(&s).is_ok(), "{:?} -> {:?}", tool, s);
            let again = stored(&shown(&s));
            prop_assert_eq!(again.as_ref(), Some(&s), "{:?} -> {:?} -> {:?}", tool, s, shown(&s));
            for seg in s[1..].split('/') {
                prop_assert_eq!(encode_segment(&decode_segment(seg)), seg);
            }
        }
        // A valid path with no `%` escapes is stored as itself, whatever `.`, `..` and `//`
        // noise the tool path carries.
        if validate_path(&path).is_ok() && !path.contains('%') {
            prop_assert_eq!(stored(&tool), Some(path.clone()), "{:?}", tool);
        }
    }
}

//! The memory markdown parser (`Document::parse`) and editor (`Document::apply`), and
//! `heading_name`: documents built line by line near the grammar (items with any marker and
//! indentation, headings of 0–8 `#`, fences of backticks and tildes, front matter, blank lines
//! of spaces and tabs, text in many scripts, `\n`/`\r\n`/`\r` endings), arbitrary strings and
//! arbitrary bytes read as UTF-8 lossily. Checked: parsing never panics and renders back byte
//! for byte, with the block and entry invariants the module docs state; `heading_name` gives
//! `None` exactly for names of only `#` and whitespace, and otherwise a name that is a
//! heading, is its own `heading_name`, and takes an appended entry into that very section;
//! batches of edits with random (also out-of-range, repeated or non-entry) indices fail
//! exactly when an edit is wrong, with the error the first wrong edit calls for; appends to
//! arbitrary section names fail only for the reasons documented, naming the section; and
//! 100 KB adversarial documents parse and edit in linear time.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use reverie_core::entry::{BlockKind, Document, Edit, heading_name, is_heading_name};

const TEXTS: &[&str] = &[
    "word",
    "foo bar",
    "日本語のテキスト、です。",
    "e\u{301}",
    "🦀 crab",
    "مرحبا",
    "zero\u{200b}width",
    "`code`",
    "<div>",
    "**bold**",
    "a #",
    "#",
    "\\#",
    "2024. year",
    "[x] task",
    "|a|b|",
    "\u{85}nel",
    "\u{2028}",
    "\u{b}\u{c}",
    "",
];

/// One line near the grammar, without its line ending; `plain`: with no whitespace but
/// spaces and tabs.
fn line(plain: bool) -> impl Strategy<Value = String> {
    let indent = prop_oneof![
        4 => Just(String::new()),
        1 => "[ \t]{1,9}".prop_map(|s| s.to_string()),
    ];
    let marker = prop_oneof![
        Just("-".to_string()),
        Just("*".to_string()),
        Just("+".to_string()),
        "[0-9]{1,12}[.)]".prop_map(|s| s.to_string()),
    ];
    let texts: Vec<&str> = TEXTS
        .iter()
        .copied()
        .filter(|t| !plain || !t.chars().any(char::is_whitespace) || t.contains(' '))
        .filter(|t| !plain || !t.contains(['\u{85}', '\u{2028}', '\u{b}']))
        .collect();
    let text = prop::sample::select(texts).prop_map(str::to_string);
    let any = if plain {
        "[a-z #*`~-]{0,16}"
    } else {
        "\\PC{0,16}"
    };
    let gap = prop_oneof![
        Just(String::new()),
        Just(" ".to_string()),
        Just("\t".to_string()),
        Just("     ".to_string()),
    ];
    prop_oneof![
        3 => (indent.clone(), marker, gap.clone(), text.clone())
            .prop_map(|(i, m, g, t)| format!("{i}{m}{g}{t}")),
        2 => (indent.clone(), 0usize..9, gap.clone(), text.clone(), prop::option::of("[ \t]*#{1,3}"))
            .prop_map(|(i, n, g, t, close)| format!("{i}{}{g}{t}{}", "#".repeat(n), close.unwrap_or_default())),
        2 => (indent.clone(), prop::sample::select(vec!['`', '~']), 2usize..6, prop::sample::select(vec!["", "rust", "a`b", " ~~~"]))
            .prop_map(|(i, c, n, info)| format!("{i}{}{info}", c.to_string().repeat(n))),
        1 => prop::sample::select(vec!["---", "...", "--- ", "***", "- - -", "===", "___"]).prop_map(str::to_string),
        2 => "[ \t]{0,6}".prop_map(|s| s.to_string()),
        3 => (indent, text).prop_map(|(i, t)| format!("{i}{t}")),
        1 => any.prop_map(|s| s.to_string()),
    ]
}

/// A document of lines near the grammar, each with its own line ending.
fn document() -> impl Strategy<Value = String> {
    lines(false)
}

/// A document with no whitespace but spaces, tabs and line endings (no lone `\r`).
fn plain_document() -> impl Strategy<Value = String> {
    lines(true)
}

fn lines(plain: bool) -> impl Strategy<Value = String> {
    let cr = if plain { 0 } else { 1 };
    let eol = prop_oneof![6 => Just("\n"), 3 => Just("\r\n"), cr => Just("\r"), 1 => Just("")];
    prop::collection::vec((line(plain), eol), 0..40).prop_map(|lines| {
        let mut text = String::new();
        for (l, e) in lines {
            text.push_str(&l);
            text.push_str(if e.is_empty() { "\n" } else { e });
        }
        text
    })
}

/// A document, an arbitrary string, or arbitrary bytes read lossily.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => document(),
        2 => any::<String>(),
        1 => prop::collection::vec(any::<u8>(), 0..400)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        1 => (document(), any::<bool>()).prop_map(|(d, crlf)| {
            // A document with a final line that has no line ending.
            let t = d.trim_end_matches(['\n', '\r']).to_string();
            if crlf { t.replace('\n', "\r\n") } else { t }
        }),
    ]
}

/// Whether an unclosed fence would swallow whatever is appended to `text`.
fn swallows_appends(text: &str) -> bool {
    let probe = Document::parse(&format!("{text}\n\n# Probe\n"));
    probe
        .blocks()
        .last()
        .is_none_or(|b| b.kind != BlockKind::Heading(1))
}

/// The invariants of a parse that the module docs state.
fn check_parse(text: &str) -> Result<(), TestCaseError> {
    let doc = Document::parse(text);
    prop_assert_eq!(doc.render(), text);
    let blocks = doc.blocks();
    for (i, b) in blocks.iter().enumerate() {
        prop_assert!(!b.raw.is_empty(), "empty block {} in {:?}", i, text);
        if i + 1 < blocks.len() {
            prop_assert!(
                b.raw.ends_with('\n'),
                "block {} of {:?} ends mid-line",
                i,
                text
            );
        }
        match b.kind {
            BlockKind::FrontMatter => prop_assert_eq!(i, 0),
            BlockKind::Heading(level) => {
                prop_assert!((1..=6).contains(&level));
                prop_assert!(!b.raw.trim_end_matches('\n').contains('\n'), "{:?}", b);
            }
            BlockKind::Blank => {
                prop_assert!(
                    b.raw.split('\n').all(|l| l
                        .trim_end_matches('\r')
                        .bytes()
                        .all(|c| c == b' ' || c == b'\t')),
                    "{:?}",
                    b
                );
                prop_assert!(i == 0 || blocks[i - 1].kind != BlockKind::Blank);
            }
            _ => {}
        }
    }
    let mut last = None;
    for e in doc.entries() {
        prop_assert!(last.is_none_or(|l| l < e.index), "entries out of order");
        last = Some(e.index);
        prop_assert_eq!(blocks[e.index].kind, e.kind);
        prop_assert!(matches!(
            e.kind,
            BlockKind::Item | BlockKind::Paragraph | BlockKind::Code
        ));
        prop_assert_eq!(e.body.trim(), &e.body);
        // Line endings in a body are `\n`; a `\r` before one is text only after another
        // `\r` (`a\r\r\n`: the line `a\r`).
        prop_assert!(
            !e.body.contains("\r\n") || text.contains("\r\r\n"),
            "{:?}",
            e.body
        );
        prop_assert!(e.section.len() <= 6);
    }
    // Parsing is a function of the text only.
    prop_assert_eq!(Document::parse(text), doc);
    Ok(())
}

/// What `heading_name` must give, by its doc: one line, trimmed of spaces and `#`s.
fn expected_heading_name(name: &str) -> Option<String> {
    let words = name.split_whitespace().collect::<Vec<_>>().join(" ");
    let h = words.trim_matches(|c: char| c == '#' || c.is_whitespace());
    (!h.is_empty()).then(|| h.to_string())
}

/// Section names: ordinary, hostile and arbitrary.
fn section_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "H1", "H2", "Testing", "日本語", "a #", "#", "## x ##", " lead", "trail ", "x\ny",
            "x\r\ny", "", "\t", "```", "- item", "1. one", "a\u{85}b", "a\u{2028}b",
        ])
        .prop_map(str::to_string),
        2 => "\\PC{0,12}".prop_map(|s| s.to_string()),
        1 => any::<String>(),
    ]
}

/// What applying `edits` to `doc` must fail with (a fragment of the error), or `None`.
fn expected_failure(doc: &Document, edits: &[Edit]) -> Option<String> {
    let n = doc.blocks().len();
    let mut named = vec![false; n];
    let blank = |b: &str| b.trim().is_empty();
    for e in edits {
        match e {
            Edit::Replace { index, body } => {
                if *index >= n {
                    return Some(format!("block {index} is out of range"));
                }
                if std::mem::replace(&mut named[*index], true) {
                    return Some(format!("block {index} is named by more than one edit"));
                }
                let kind = doc.blocks()[*index].kind;
                if !matches!(
                    kind,
                    BlockKind::Item | BlockKind::Paragraph | BlockKind::Code
                ) {
                    let what = match kind {
                        BlockKind::FrontMatter => "the front matter",
                        BlockKind::Heading(_) => "a heading",
                        _ => "blank",
                    };
                    return Some(format!("block {index} is {what}, not an entry"));
                }
                if blank(body) {
                    return Some(format!("the new body of block {index} is empty"));
                }
            }
            Edit::Remove { index } => {
                if *index >= n {
                    return Some(format!("block {index} is out of range"));
                }
                if std::mem::replace(&mut named[*index], true) {
                    return Some(format!("block {index} is named by more than one edit"));
                }
            }
            Edit::Append { body, .. } => {
                if blank(body) {
                    return Some("is empty".to_string());
                }
            }
        }
    }
    None
}

proptest! {
    #![proptest_config(crate::config(1500))]

    /// Any text parses, renders back byte for byte, and keeps the block and entry invariants.
    #[test]
    fn parse_round_trips_with_its_invariants(text in any_text()) {
        check_parse(&text)?;
    }

    /// `heading_name` is `None` exactly for names of `#` and whitespace; otherwise it is a
    /// heading name, its own `heading_name`, the name on one line trimmed of spaces and `#`s,
    /// and a section an entry can be appended to and read back in.
    #[test]
    fn heading_names_are_writable_and_idempotent(name in section_name(), text in document()) {
        let got = heading_name(&name);
        prop_assert_eq!(&got, &expected_heading_name(&name), "{:?}", name);
        prop_assert_eq!(
            got.is_none(),
            name.chars().all(|c| c == '#' || c.is_whitespace()),
            "{:?}", name
        );
        if let Some(h) = got {
            prop_assert!(is_heading_name(&h), "{:?} -> {:?}", name, h);
            prop_assert_eq!(heading_name(&h), Some(h.clone()));
            prop_assert!(!h.contains(['\n', '\r']));
            let doc = Document::parse(&text);
            let out = doc
                .apply(&[Edit::Append { section: vec![h.clone()], body: "appended entry".into(), item: false }])
                .map_err(|e| TestCaseError::fail(format!("append to {h:?}: {e}")))?;
            check_parse(&out.render())?;
            if !swallows_appends(&text) {
                let found = out.entries().into_iter().find(|e| e.body == "appended entry");
                let found = found.ok_or_else(|| TestCaseError::fail(format!("lost in {:?}", out.render())))?;
                prop_assert_eq!(&found.section, &vec![h], "{:?}", out.render());
            }
        }
    }

    /// Appending to arbitrary section paths either works, the entry reading back in that
    /// section (but for the known limit of indented blocks after a new item), or fails for a
    /// documented reason that names the section.
    #[test]
    fn appends_to_arbitrary_sections(
        text in document(),
        section in prop::collection::vec(section_name(), 0..8),
        item in any::<bool>(),
    ) {
        let doc = Document::parse(&text);
        let edit = Edit::Append { section: section.clone(), body: "fresh entry".into(), item };
        match doc.apply(&[edit]) {
            Ok(out) => {
                let rendered = out.render();
                check_parse(&rendered)?;
                // Every block of the document is still there, in order.
                let mut from = 0;
                for b in doc.blocks().iter().filter(|b| b.kind != BlockKind::Blank) {
                    let at = rendered[from..].find(&b.raw);
                    prop_assert!(at.is_some(), "{:?} lost from {:?}", b.raw, rendered);
                    from += at.unwrap_or(0) + b.raw.len();
                }
                // The module's known limit: a block that starts indented to a list item's
                // width joins an item placed before it, blank lines or not (`- fresh entry`
                // then `  # word`).
                let indented = doc.blocks().iter().any(|b| b.kind != BlockKind::Blank && b.raw.starts_with([' ', '\t']));
                let checkable = !(swallows_appends(&text) || item && indented);
                if checkable {
                    let found = out.entries().into_iter().find(|e| e.body == "fresh entry");
                    let found = found.ok_or_else(|| TestCaseError::fail(format!("lost in {rendered:?}")))?;
                    prop_assert_eq!(&found.section, &section, "{:?}", rendered);
                }
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.starts_with("invalid edit: "), "{}", msg);
                if let Some(rest) = msg.strip_prefix("invalid edit: section name ") {
                    // The name it quotes is one of the section's, and indeed not a heading.
                    let bad = section.iter().find(|s| rest.starts_with(&format!("{s:?}")));
                    prop_assert!(bad.is_some_and(|s| !is_heading_name(s)), "{}", msg);
                    prop_assert!(msg.ends_with("cannot be written as a heading"), "{}", msg);
                } else {
                    prop_assert!(msg.contains(&format!("section {section:?}")), "{}", msg);
                    prop_assert!(msg.contains("deeper than 6"), "{}", msg);
                    prop_assert!(!section.is_empty());
                }
            }
        }
    }

    /// Replacing every entry with its own body keeps every entry's section and body (the
    /// module docs' promise), on documents near the grammar.
    #[test]
    fn replacing_entries_with_their_bodies_keeps_them(text in plain_document()) {
        // Bodies are trimmed of any whitespace, markdown only knows spaces and tabs: `#` then
        // U+2028 is a paragraph whose body `#` is a heading (bodies are not escaped).
        // A `\r` that ends no line is text to markdown but whitespace to the trimming, and
        // before a `\r\n` it cannot be told from a line ending in a body.
        prop_assume!(!text.chars().any(|c| c.is_whitespace() && !matches!(c, ' ' | '\t' | '\n' | '\r')));
        prop_assume!(!text.replace("\r\n", "\n").contains('\r'));
        let doc = Document::parse(&text);
        // A body of only `*`, `-` and `_` after a marker can make a thematic break (`*` with
        // the body `***` is `* ***`), which is no item.
        prop_assume!(!doc.entries().iter().any(|e| e
            .body
            .lines()
            .next()
            .is_some_and(|l| l.chars().all(|c| matches!(c, '*' | '-' | '_' | ' ' | '\t')))));
        let edits: Vec<Edit> = doc
            .entries()
            .into_iter()
            .filter(|e| !e.body.is_empty())
            .map(|e| Edit::Replace { index: e.index, body: e.body })
            .collect();
        let out = doc.apply(&edits).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let view = |d: &Document| -> Vec<_> {
            d.entries().into_iter().map(|e| (e.section, e.body)).collect()
        };
        prop_assert_eq!(view(&doc), view(&out), "{:?} gave {:?}", text, out.render());
    }

    /// A batch of edits with random indices fails exactly when one of its edits is wrong, with
    /// the error the first wrong edit calls for; otherwise the result reads back as itself.
    #[test]
    fn edit_batches_fail_exactly_when_wrong(
        text in any_text(),
        edits in prop::collection::vec(
            (0u8..3, 0usize..48, prop::sample::select(vec!["new", "  ", "", "two\nlines", "a\r\n\r\nb", "# heading", "```"])),
            0..6,
        ),
    ) {
        let doc = Document::parse(&text);
        let edits: Vec<Edit> = edits
            .into_iter()
            .map(|(what, index, body)| match what {
                0 => Edit::Replace { index, body: body.into() },
                1 => Edit::Remove { index },
                _ => Edit::Append { section: vec!["Appended".into()], body: body.into(), item: index % 2 == 0 },
            })
            .collect();
        let want = expected_failure(&doc, &edits);
        match (doc.apply(&edits), want) {
            (Ok(out), None) => check_parse(&out.render())?,
            (Err(e), Some(fragment)) => {
                let msg = e.to_string();
                prop_assert!(msg.starts_with("invalid edit: "), "{}", msg);
                prop_assert!(msg.contains(&fragment), "{:?} lacks {:?}", msg, fragment);
            }
            (Ok(out), Some(fragment)) => {
                return Err(TestCaseError::fail(format!(
                    "{edits:?} on {text:?} should fail with {fragment:?}, gave {:?}", out.render()
                )));
            }
            (Err(e), None) => {
                return Err(TestCaseError::fail(format!("{edits:?} on {text:?} failed: {e}")));
            }
        }
    }
}

/// Parses, lists the entries of, and appends to `text`, within `limit`.
fn parse_in_time(what: &str, text: &str, limit: Duration) {
    let start = Instant::now();
    let doc = Document::parse(text);
    assert_eq!(doc.render().len(), text.len(), "{what}");
    let entries = doc.entries();
    let edit = Edit::Append {
        section: vec!["New".into(), "Deeper".into()],
        body: "x".into(),
        item: true,
    };
    let mut edits = vec![edit];
    edits.extend(
        entries
            .iter()
            .step_by(7)
            .map(|e| Edit::Remove { index: e.index }),
    );
    let out = doc.apply(&edits).expect("valid edits");
    assert!(!out.render().is_empty());
    let took = start.elapsed();
    assert!(
        took < limit,
        "{what}: {} bytes took {took:?} (over {limit:?})",
        text.len()
    );
}

/// Adversarial documents of about 100 KB (the content limit) parse, list and edit in linear
/// time: every shape that makes a line-based parser look ahead or back is repeated.
#[test]
fn adversarial_documents_are_linear() {
    const SIZE: usize = 100 * 1024;
    let fill = |unit: &str| unit.repeat(SIZE / unit.len().max(1));
    let cases: Vec<(&str, String)> = vec![
        ("items with blank runs", fill("- a\n\n\n  b\n")),
        ("nested items", fill("- a\n  - b\n    - c\n      - d\n")),
        ("items then blank then dedent", fill("- a\n\n\nx\n")),
        ("blank lines", fill(" \t\n")),
        ("fence toggles", fill("```\n")),
        ("fences in items", fill("- ```\n  x\n")),
        ("unclosed fence", format!("```\n{}", fill("a\n"))),
        ("headings", fill("# h\n")),
        ("deep headings", fill("###### h\n")),
        ("lazy paragraph", fill("para\n")),
        (
            "front matter never closed",
            format!("---\n{}", fill("a: b\n")),
        ),
        ("one long line of #", "#".repeat(SIZE)),
        ("one long line of -", "- ".repeat(SIZE / 2)),
        ("one long line of backticks", "`".repeat(SIZE)),
        ("long digits", fill("123456789. x\n")),
        ("tabs", fill("\t-\t\t x\n")),
        ("crlf items", fill("- a\r\n\r\n  b\r\n")),
        ("lone cr", fill("- a\r  b\r")),
    ];
    for (what, text) in cases {
        parse_in_time(what, &text, Duration::from_secs(10));
    }
}

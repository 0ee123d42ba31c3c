use proptest::prelude::*;

use super::BlockKind::{Blank, Code, FrontMatter, Heading, Item, Paragraph};
use super::*;

fn blocks_of(text: &str) -> Vec<(BlockKind, String)> {
    Document::parse(text)
        .blocks()
        .iter()
        .map(|b| (b.kind, b.raw.clone()))
        .collect()
}

/// How each kind of text splits into blocks.
#[test]
fn block_cases() {
    let cases: &[(&str, &[(BlockKind, &str)])] = &[
        ("", &[]),
        ("a", &[(Paragraph, "a")]),
        ("- a\n- b\n", &[(Item, "- a\n"), (Item, "- b\n")]),
        // Continuation: indented, lazy, after a blank line when indented to the width.
        ("- a\n  b\n", &[(Item, "- a\n  b\n")]),
        ("- a\nlazy\n", &[(Item, "- a\nlazy\n")]),
        ("- a\n\n  more\n", &[(Item, "- a\n\n  more\n")]),
        ("- a\n\n\n  more\n", &[(Item, "- a\n\n\n  more\n")]),
        ("- a\n\n\tmore\n", &[(Item, "- a\n\n\tmore\n")]),
        (
            "- a\n\n after\n",
            &[(Item, "- a\n"), (Blank, "\n"), (Paragraph, " after\n")],
        ),
        (
            "- a\n\nafter\n",
            &[(Item, "- a\n"), (Blank, "\n"), (Paragraph, "after\n")],
        ),
        // Nested items belong to their top-level item; less than the width is a new item.
        ("- a\n  - b\n    - c\n", &[(Item, "- a\n  - b\n    - c\n")]),
        ("- a\n - b\n", &[(Item, "- a\n"), (Item, " - b\n")]),
        ("1. a\n  - b\n", &[(Item, "1. a\n"), (Item, "  - b\n")]),
        ("1. a\n   - b\n", &[(Item, "1. a\n   - b\n")]),
        ("10) a\n    b\n", &[(Item, "10) a\n    b\n")]),
        ("+ a\n* b\n", &[(Item, "+ a\n"), (Item, "* b\n")]),
        ("-\n  a\n", &[(Item, "-\n  a\n")]),
        // Headings end items unless indented into them.
        ("- a\n# h\n", &[(Item, "- a\n"), (Heading(1), "# h\n")]),
        ("- a\n  # h\n", &[(Item, "- a\n  # h\n")]),
        // Fences: right after a line they belong to it, after a blank line they stand alone.
        (
            "- a\n```\ncode\n\n# not\n```\nafter\n",
            &[(Item, "- a\n```\ncode\n\n# not\n```\nafter\n")],
        ),
        (
            "- a\n\n```\ncode\n```\n",
            &[(Item, "- a\n"), (Blank, "\n"), (Code, "```\ncode\n```\n")],
        ),
        (
            "- ```\n  x\n\n# no\n  ```\n- b\n",
            &[(Item, "- ```\n  x\n\n# no\n  ```\n"), (Item, "- b\n")],
        ),
        (
            "para\n```\n- x\n```\n",
            &[(Paragraph, "para\n```\n- x\n```\n")],
        ),
        (
            "```\nunclosed\n# h\n- x\n",
            &[(Code, "```\nunclosed\n# h\n- x\n")],
        ),
        (
            "~~~\n```\n~~~\nx\n",
            &[(Code, "~~~\n```\n~~~\n"), (Paragraph, "x\n")],
        ),
        (
            "````\nx\n```\nstill\n````\n",
            &[(Code, "````\nx\n```\nstill\n````\n")],
        ),
        ("``` a`b\n", &[(Paragraph, "``` a`b\n")]),
        (
            "# A\n```\nc\n```\ntext\n",
            &[
                (Heading(1), "# A\n"),
                (Code, "```\nc\n```\n"),
                (Paragraph, "text\n"),
            ],
        ),
        ("    ```\nx\n", &[(Paragraph, "    ```\nx\n")]),
        // Front matter only at the very start, and only when closed.
        (
            "---\ntitle: x\n---\n# H\n",
            &[(FrontMatter, "---\ntitle: x\n---\n"), (Heading(1), "# H\n")],
        ),
        ("---\n...\n", &[(FrontMatter, "---\n...\n")]),
        ("---\nno close\n", &[(Paragraph, "---\nno close\n")]),
        (
            "a\n\n---\nb\n---\n",
            &[
                (Paragraph, "a\n"),
                (Blank, "\n"),
                (Paragraph, "---\nb\n---\n"),
            ],
        ),
        // Setext headings and thematic breaks are paragraphs.
        ("x\n---\n", &[(Paragraph, "x\n---\n")]),
        ("Title\n===\n", &[(Paragraph, "Title\n===\n")]),
        ("* * *\n", &[(Paragraph, "* * *\n")]),
        ("- a\n***\n", &[(Item, "- a\n***\n")]),
        // What interrupts a paragraph.
        ("a\n2024. was good\n", &[(Paragraph, "a\n2024. was good\n")]),
        ("a\n1. one\n", &[(Paragraph, "a\n"), (Item, "1. one\n")]),
        ("a\n- b\n", &[(Paragraph, "a\n"), (Item, "- b\n")]),
        ("a\n-\n", &[(Paragraph, "a\n-\n")]),
        ("a\n    - b\n", &[(Paragraph, "a\n    - b\n")]),
        (
            "a\n## b\nc",
            &[(Paragraph, "a\n"), (Heading(2), "## b\n"), (Paragraph, "c")],
        ),
        // Headings.
        ("#nospace\n", &[(Paragraph, "#nospace\n")]),
        ("####### seven\n", &[(Paragraph, "####### seven\n")]),
        ("    # indented\n", &[(Paragraph, "    # indented\n")]),
        (
            "   ###### six\n#\n",
            &[(Heading(6), "   ###### six\n"), (Heading(1), "#\n")],
        ),
        ("\t- tab\n", &[(Paragraph, "\t- tab\n")]),
        // Blank lines and line endings.
        ("text\n\n\n", &[(Paragraph, "text\n"), (Blank, "\n\n")]),
        ("- a\n\n \n", &[(Item, "- a\n"), (Blank, "\n \n")]),
        (
            "a\r\n\r\n- b\r\n",
            &[(Paragraph, "a\r\n"), (Blank, "\r\n"), (Item, "- b\r\n")],
        ),
        ("\n\n# h", &[(Blank, "\n\n"), (Heading(1), "# h")]),
        (
            "<div>\nhtml\n</div>\n",
            &[(Paragraph, "<div>\nhtml\n</div>\n")],
        ),
    ];
    for (input, expected) in cases {
        let expected: Vec<(BlockKind, String)> =
            expected.iter().map(|(k, r)| (*k, r.to_string())).collect();
        assert_eq!(blocks_of(input), expected, "parsing {input:?}");
        assert_eq!(Document::parse(input).render(), *input);
    }
}

/// The entries, their sections and their bodies.
#[test]
fn entry_cases() {
    type Expected<'a> = &'a [(BlockKind, &'a [&'a str], &'a str)];
    let cases: &[(&str, Expected<'_>)] = &[
        (
            "# Testing\n## Postgres\n- use  `pg_tmp`\n  second line\n\n# Other\nplain para\n",
            &[
                (Item, &["Testing", "Postgres"], "use  `pg_tmp`\nsecond line"),
                (Paragraph, &["Other"], "plain para"),
            ],
        ),
        (
            "top\n### Deep\nd\n# Top\n## Sub\nx\n### Subsub ###\ny\n## Sub2\nz\n",
            &[
                (Paragraph, &[], "top"),
                (Paragraph, &["Deep"], "d"),
                (Paragraph, &["Top", "Sub"], "x"),
                (Paragraph, &["Top", "Sub", "Subsub"], "y"),
                (Paragraph, &["Top", "Sub2"], "z"),
            ],
        ),
        ("## A\n# B\nz", &[(Paragraph, &["B"], "z")]),
        (
            "1. first\n   cont\n10) ten\n    more\n",
            &[(Item, &[], "first\ncont"), (Item, &[], "ten\nmore")],
        ),
        (
            "- a\n  - nested\n    deeper\n",
            &[(Item, &[], "a\n- nested\n  deeper")],
        ),
        ("- a\n\n  second\n", &[(Item, &[], "a\n\nsecond")]),
        ("-\n  text\n", &[(Item, &[], "text")]),
        ("- a\nlazy\n", &[(Item, &[], "a\nlazy")]),
        ("-   wide\n", &[(Item, &[], "wide")]),
        ("-      code\n", &[(Item, &[], "code")]),
        ("-\tx\n\ty\n", &[(Item, &[], "x\ny")]),
        ("- trailing   \n", &[(Item, &[], "trailing")]),
        (
            "```rust\nfn main() {}\n```\n",
            &[(Code, &[], "```rust\nfn main() {}\n```")],
        ),
        ("- a\r\n  b\r\n", &[(Item, &[], "a\nb")]),
        ("para\r\nline\r\n", &[(Paragraph, &[], "para\nline")]),
        (
            "# Title #\n\n  para  \n",
            &[(Paragraph, &["Title"], "para")],
        ),
        ("# C#\nx\n", &[(Paragraph, &["C#"], "x")]),
        ("---\na: 1\n---\n- x\n", &[(Item, &[], "x")]),
        ("# A\n\n\n", &[]),
    ];
    for (input, expected) in cases {
        let got: Vec<(BlockKind, Vec<String>, String)> = Document::parse(input)
            .entries()
            .into_iter()
            .map(|e| (e.kind, e.section, e.body))
            .collect();
        let expected: Vec<(BlockKind, Vec<String>, String)> = expected
            .iter()
            .map(|(k, s, b)| (*k, s.iter().map(|s| s.to_string()).collect(), b.to_string()))
            .collect();
        assert_eq!(got, expected, "entries of {input:?}");
    }
}

#[test]
fn entries_name_their_blocks() {
    let doc = Document::parse("# A\n\n- x\n\npara\n");
    let entries = doc.entries();
    assert_eq!(
        entries.iter().map(|e| e.index).collect::<Vec<_>>(),
        vec![2, 4]
    );
    for e in entries {
        assert_eq!(doc.blocks()[e.index].kind, e.kind);
    }
}

#[test]
fn item_raw_formats_a_new_item() {
    assert_eq!(item_raw("a"), "- a\n");
    assert_eq!(item_raw("a\r\nb\n"), "- a\n  b\n");
    assert_eq!(item_raw("a\n\nb"), "- a\n\n  b\n");
    assert_eq!(item_raw("\n\na  \n\n"), "- a\n");
    assert_eq!(item_raw(""), "-\n");
    // It reads back as one item with the same body.
    let doc = Document::parse(&item_raw("a\n- nested\n\n  indented"));
    assert_eq!(doc.entries().len(), 1);
    assert_eq!(doc.entries()[0].body, "a\n- nested\n\n  indented");
}

// ---------------------------------------------------------------------------------------------
// Edits.

fn apply(text: &str, edits: &[Edit]) -> String {
    Document::parse(text)
        .apply(edits)
        .unwrap_or_else(|e| panic!("applying {edits:?} to {text:?}: {e}"))
        .render()
}

fn replace(index: usize, body: &str) -> Edit {
    Edit::Replace {
        index,
        body: body.to_string(),
    }
}

fn remove(index: usize) -> Edit {
    Edit::Remove { index }
}

fn append(section: &[&str], body: &str, item: bool) -> Edit {
    Edit::Append {
        section: section.iter().map(|s| s.to_string()).collect(),
        body: body.to_string(),
        item,
    }
}

#[test]
fn no_edit_changes_nothing() {
    for text in ["", "a", "# A\r\n- x\r\n\r\n", "---\nx\n---\n\n\n- a\n  b"] {
        assert_eq!(
            Document::parse(text).apply(&[]).unwrap(),
            Document::parse(text)
        );
    }
}

#[test]
fn replace_keeps_marker_indentation_and_line_endings() {
    let cases: &[(&str, usize, &str, &str)] = &[
        ("- old\n- other\n", 0, "new", "- new\n- other\n"),
        (
            "  * old\r\n  * other\r\n",
            0,
            "new\nsecond",
            "  * new\r\n    second\r\n  * other\r\n",
        ),
        ("3. x\n4. y\n", 1, "z\r\nw", "3. x\n4. z\n   w\n"),
        ("10)  x\n", 0, "y\n\nz", "10)  y\n\n     z\n"),
        ("-\tx\n", 0, "y\nz", "-\ty\n    z\n"),
        (
            "a\n\n  para\n  two\n",
            2,
            "new\n  two",
            "a\n\n  new\n  two\n",
        ),
        (
            "x\r\n\r\n```\r\nc\r\n```\r\n",
            2,
            "```\nd\n```",
            "x\r\n\r\n```\r\nd\r\n```\r\n",
        ),
        // The last block keeps its missing final line ending.
        ("- a\n- b", 1, "c\nd", "- a\n- c\n  d"),
        // A body with surrounding blank lines and trailing whitespace.
        ("- a\n", 0, "\n\n  b  \n\n", "-   b\n"),
    ];
    for (text, index, body, expected) in cases {
        assert_eq!(apply(text, &[replace(*index, body)]), *expected, "{text:?}");
    }
    // Replacing an entry with its own body keeps it.
    for text in [
        "- a\n  b\n",
        "1. a\n\n   - b\n",
        "* x\r\n  y\r\n",
        "para\ngraph\n",
    ] {
        let doc = Document::parse(text);
        let edits: Vec<Edit> = doc
            .entries()
            .into_iter()
            .map(|e| replace(e.index, &e.body))
            .collect();
        assert_eq!(doc.apply(&edits).unwrap().render(), text);
    }
}

#[test]
fn remove_leaves_no_gap() {
    let text = "a\n\nb\n\nc\n";
    assert_eq!(apply(text, &[remove(0)]), "b\n\nc\n");
    assert_eq!(apply(text, &[remove(2)]), "a\n\nc\n");
    assert_eq!(apply(text, &[remove(4)]), "a\n\nb\n");
    assert_eq!(apply(text, &[remove(0), remove(2)]), "c\n");
    assert_eq!(apply(text, &[remove(0), remove(2), remove(4)]), "");
    assert_eq!(apply(text, &[remove(2), remove(4)]), "a\n");
    let list = "- a\n- b\n- c\n";
    assert_eq!(apply(list, &[remove(0)]), "- b\n- c\n");
    assert_eq!(apply(list, &[remove(1)]), "- a\n- c\n");
    assert_eq!(apply(list, &[remove(2)]), "- a\n- b\n");
    // Blank runs of different lengths: the one before the removed entry stays.
    assert_eq!(apply("a\n\n\nb\n\nc\n", &[remove(2)]), "a\n\n\nc\n");
    // Under headings and front matter.
    assert_eq!(apply("# T\n\na\n\n# U\n", &[remove(2)]), "# T\n\n# U\n");
    assert_eq!(
        apply("---\nx: 1\n---\n\na\n\nb\n", &[remove(2)]),
        "---\nx: 1\n---\n\nb\n"
    );
    // The last block without a final line ending.
    assert_eq!(apply("a\n\nb", &[remove(2)]), "a\n");
    assert_eq!(apply("a\r\n\r\nb\r\n\r\nc", &[remove(2)]), "a\r\n\r\nc");
    // Removing never fuses the neighbours.
    assert_eq!(apply("a\n# h\nb\n", &[remove(1)]), "a\n\nb\n");
    assert_eq!(apply("- a\n# h\nb\n", &[remove(1)]), "- a\n\nb\n");
    assert_eq!(apply("- a\n# h\n- b\n", &[remove(1)]), "- a\n- b\n");
    assert_eq!(apply("a\n# h\n2. b\n", &[remove(1)]), "a\n\n2. b\n");
    // A blank block may be removed too (tightening a list).
    assert_eq!(apply("- a\n\n- b\n", &[remove(1)]), "- a\n- b\n");
}

#[test]
fn edits_never_fuse_or_reinterpret_blocks() {
    // A code block replaced by text, right before a paragraph.
    assert_eq!(
        apply("```\nc\n```\npara\n", &[replace(0, "text")]),
        "text\n\npara\n"
    );
    // A `---` paragraph that becomes the first block stays a paragraph.
    let out = apply("intro\n\n---\nx\n---\n", &[remove(0)]);
    assert_eq!(out, "\n---\nx\n---\n");
    assert_eq!(Document::parse(&out).entries().len(), 1);
    let out = apply("", &[append(&[], "---\nx\n---", false)]);
    assert_eq!(Document::parse(&out).entries().len(), 1);
    // Front matter stays front matter, and nothing fuses with it.
    assert_eq!(
        apply("---\na: 1\n---\n# h\ntext\n", &[remove(1)]),
        "---\na: 1\n---\ntext\n"
    );
    // The known limit: a block indented to an item's width joins that item once what separated
    // them is removed (a blank line does not separate them).
    let out = apply("- a\n\npara\n\n  indented\n", &[remove(2)]);
    assert_eq!(out, "- a\n\n  indented\n");
    assert_eq!(Document::parse(&out).entries()[0].body, "a\n\nindented");
}

#[test]
fn no_leading_or_doubled_blanks_after_removals() {
    let text = "\
# A

- one
- two

para

```
code
```

# B

last
";
    let doc = Document::parse(text);
    let indices: Vec<usize> = doc.entries().iter().map(|e| e.index).collect();
    // Every subset of the entries.
    for mask in 0..(1u32 << indices.len()) {
        let edits: Vec<Edit> = indices
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, &index)| remove(index))
            .collect();
        let out = doc.apply(&edits).unwrap();
        let kinds: Vec<BlockKind> = out.blocks().iter().map(|b| b.kind).collect();
        assert!(
            !kinds.windows(2).any(|w| w[0] == Blank && w[1] == Blank),
            "{edits:?}"
        );
        assert_ne!(kinds.first(), Some(&Blank), "{edits:?}");
        assert_ne!(kinds.last(), Some(&Blank), "{edits:?}");
        assert!(
            !out.render().contains("\n\n\n"),
            "{edits:?}: {:?}",
            out.render()
        );
        assert_eq!(out.entries().len(), indices.len() - edits.len());
    }
}

#[test]
fn append_to_an_existing_section() {
    let text = "# A\n- x\n\n# B\n- y\n";
    assert_eq!(
        apply(text, &[append(&["A"], "z", true)]),
        "# A\n- x\n- z\n\n# B\n- y\n"
    );
    assert_eq!(
        apply(text, &[append(&["A"], "z", false)]),
        "# A\n- x\n\nz\n\n# B\n- y\n"
    );
    assert_eq!(
        apply(text, &[append(&["B"], "z\nw", true)]),
        "# A\n- x\n\n# B\n- y\n- z\n  w\n"
    );
    // A list directly followed by a heading stays so.
    assert_eq!(
        apply("# A\n- x\n# B\n", &[append(&["A"], "z", true)]),
        "# A\n- x\n- z\n# B\n"
    );
    // An empty section.
    assert_eq!(
        apply("# A\n# B\n", &[append(&["A"], "z", true)]),
        "# A\n\n- z\n\n# B\n"
    );
    // A section's own content ends at its first subsection.
    let nested = "# A\nintro\n## S\n- s\n# B\n";
    let out = apply(nested, &[append(&["A"], "z", true)]);
    assert_eq!(out, "# A\nintro\n\n- z\n\n## S\n- s\n# B\n");
    let doc = Document::parse(&out);
    let z = doc.entries().into_iter().find(|e| e.body == "z").unwrap();
    assert_eq!(z.section, vec!["A"]);
    // The top of the document, before the first heading.
    assert_eq!(
        apply("intro\n\n# A\n", &[append(&[], "p", false)]),
        "intro\n\np\n\n# A\n"
    );
    assert_eq!(apply("# A\n", &[append(&[], "p", false)]), "p\n\n# A\n");
    assert_eq!(
        apply(
            "---\nx: 1\n---\n# A\n",
            &[append(&[], "- not an item", false)]
        ),
        "---\nx: 1\n---\n\n- not an item\n\n# A\n"
    );
    // The first of two sections with the same path.
    assert_eq!(
        apply("# A\n- 1\n# A\n- 2\n", &[append(&["A"], "3", true)]),
        "# A\n- 1\n- 3\n# A\n- 2\n"
    );
    // A closed heading is found by its text.
    assert_eq!(
        apply("## A ##\n", &[append(&["A"], "x", true)]),
        "## A ##\n\n- x\n"
    );
}

/// Regression (found by `tests/fuzz`): a document ending in a lone `\r` (its last line's
/// ending) got the document's `\r\n` after it when something was appended, so that the `\r`
/// became text: in a CRLF memory, `# H\r` turned into a heading named `H\r`, and the entry
/// appended to `H` read back in another section.
#[test]
fn a_final_lone_cr_stays_a_line_ending() {
    let text = "a\r\n\r\n# H\r";
    let out = apply(text, &[append(&["H"], "x", false)]);
    assert_eq!(out, "a\r\n\r\n# H\r\n\r\nx\r\n");
    let doc = Document::parse(&out);
    let x = doc.entries().into_iter().find(|e| e.body == "x").unwrap();
    assert_eq!(x.section, vec!["H"]);
    // An item after a final `\r`, joined to the list it ends.
    assert_eq!(
        apply("- a\r\n- b\r", &[append(&[], "c", true)]),
        "- a\r\n- b\r\n- c\r\n"
    );
    // In an LF memory too.
    assert_eq!(
        apply("# H\r", &[append(&["H"], "x", true)]),
        "# H\r\n\n- x\n"
    );
}

#[test]
fn append_creates_missing_sections() {
    // Nested under an existing section, after its subsections.
    let text = "# A\n- x\n## S\n- s\n# B\n- b\n";
    let out = apply(text, &[append(&["A", "T"], "t", true)]);
    assert_eq!(out, "# A\n- x\n## S\n- s\n\n## T\n\n- t\n\n# B\n- b\n");
    let t = Document::parse(&out)
        .entries()
        .into_iter()
        .find(|e| e.body == "t")
        .unwrap();
    assert_eq!(t.section, vec!["A", "T"]);
    // Under a level-2 section the new heading is level 3.
    assert_eq!(
        apply("## A\nx\n", &[append(&["A", "B", "C"], "c", false)]),
        "## A\nx\n\n### B\n\n#### C\n\nc\n"
    );
    // Nothing of the path exists: at the end of the document.
    assert_eq!(
        apply("# A\n- x\n", &[append(&["New", "Sub"], "n", true)]),
        "# A\n- x\n\n# New\n\n## Sub\n\n- n\n"
    );
    assert_eq!(
        apply("# A\n- x\n\n\n", &[append(&["New"], "n", true)]),
        "# A\n- x\n\n# New\n\n- n\n\n\n"
    );
    // An empty document.
    assert_eq!(apply("", &[append(&[], "x", true)]), "- x\n");
    assert_eq!(apply("", &[append(&[], "x", false)]), "x\n");
    assert_eq!(apply("", &[append(&["A"], "p", false)]), "# A\n\np\n");
    // No final line ending; CRLF.
    assert_eq!(
        apply("# A\n- x", &[append(&["A"], "y", true)]),
        "# A\n- x\n- y\n"
    );
    assert_eq!(
        apply("# A\r\n- x", &[append(&["A"], "y\nz", true)]),
        "# A\r\n- x\r\n- y\r\n  z\r\n"
    );
    assert_eq!(
        apply("a\r\n", &[append(&["S"], "p", false)]),
        "a\r\n\r\n# S\r\n\r\np\r\n"
    );
}

#[test]
fn appends_keep_their_order() {
    let out = apply(
        "# A\n- x\n",
        &[
            append(&["A"], "1", true),
            append(&["A"], "2", true),
            append(&["A"], "p", false),
            append(&["A"], "3", true),
        ],
    );
    assert_eq!(out, "# A\n- x\n- 1\n- 2\n\np\n\n- 3\n");
    // New sections: each created once, entries before subsections.
    let out = apply(
        "",
        &[
            append(&["T", "P"], "e1", true),
            append(&["T"], "e2", true),
            append(&["T", "P"], "e3", true),
            append(&["T", "Q"], "e4", true),
            append(&[], "top", true),
        ],
    );
    assert_eq!(
        out,
        "- top\n\n# T\n\n- e2\n\n## P\n\n- e1\n- e3\n\n## Q\n\n- e4\n"
    );
    let got: Vec<(Vec<String>, String)> = Document::parse(&out)
        .entries()
        .into_iter()
        .map(|e| (e.section, e.body))
        .collect();
    let expected: Vec<(Vec<String>, String)> = [
        (vec![], "top"),
        (vec!["T"], "e2"),
        (vec!["T", "P"], "e1"),
        (vec!["T", "P"], "e3"),
        (vec!["T", "Q"], "e4"),
    ]
    .into_iter()
    .map(|(s, b)| (s.into_iter().map(String::from).collect(), b.to_string()))
    .collect();
    assert_eq!(got, expected);
    // A subsection of a section with a subsection of a new section, at one place.
    let out = apply(
        "# A\n## X\nx\n",
        &[
            append(&["A", "Y"], "y", true),
            append(&["A", "X", "Z"], "z", true),
        ],
    );
    assert_eq!(out, "# A\n## X\nx\n\n### Z\n\n- z\n\n## Y\n\n- y\n");
}

#[test]
fn a_batch_of_edits() {
    let text = "\
# Notes
- keep me
- old value
- drop me

## Testing
Use the test cluster.
";
    let out = apply(
        text,
        &[
            append(&["Notes"], "new lesson", true),
            replace(2, "new value"),
            remove(3),
            append(&["Notes", "Testing"], "Run with `--release`.", false),
            append(&["Other"], "sub", true),
        ],
    );
    assert_eq!(
        out,
        "\
# Notes
- keep me
- new value
- new lesson

## Testing
Use the test cluster.

Run with `--release`.

# Other

- sub
"
    );
    // Removing the last item and appending in its place.
    assert_eq!(
        apply(
            "# A\n- a\n\n- b\n\n# B\n",
            &[remove(3), append(&["A"], "y", true)]
        ),
        "# A\n- a\n\n- y\n\n# B\n"
    );
}

#[test]
fn edit_errors_name_the_block() {
    let doc = Document::parse("# A\n\n- x\n- y\n");
    let err = |edits: &[Edit]| doc.apply(edits).unwrap_err().to_string();
    let e = err(&[replace(2, "a"), remove(2)]);
    assert!(
        e.contains("block 2") && e.contains("more than one edit"),
        "{e}"
    );
    let e = err(&[remove(3), remove(3)]);
    assert!(e.contains("block 3"), "{e}");
    let e = err(&[replace(0, "a")]);
    assert!(e.contains("block 0") && e.contains("heading"), "{e}");
    let e = err(&[replace(1, "a")]);
    assert!(e.contains("block 1") && e.contains("not an entry"), "{e}");
    let e = err(&[remove(4)]);
    assert!(e.contains("block 4") && e.contains("out of range"), "{e}");
    let e = err(&[replace(2, " \n\t\n")]);
    assert!(e.contains("block 2") && e.contains("empty"), "{e}");
    let e = err(&[append(&["A"], "", true)]);
    assert!(e.contains("empty"), "{e}");
    let e = err(&[append(&["A", "x\ny"], "b", true)]);
    assert!(e.contains("cannot be written as a heading"), "{e}");
    let e = err(&[append(&["B ##"], "b", true)]);
    assert!(e.contains("cannot be written as a heading"), "{e}");
    let e = err(&[append(&[" B"], "b", true)]);
    assert!(e.contains("cannot be written as a heading"), "{e}");
    let e = err(&[append(&["A", "2", "3", "4", "5", "6", "7"], "b", true)]);
    assert!(e.contains("level 7"), "{e}");
    assert!(matches!(
        doc.apply(&[remove(9)]),
        Err(crate::Error::Invalid { field: "edit", .. })
    ));
    // An existing section whose name could not be written is still found.
    assert_eq!(apply("#\nx\n", &[append(&[""], "y", false)]), "#\nx\n\ny\n");
}

// ---------------------------------------------------------------------------------------------
// Properties.

/// Markdown-ish text: fragments that exercise every rule, in any order.
fn markdownish() -> impl Strategy<Value = String> {
    let fragments = prop::sample::select(vec![
        "- ", "* ", "+ ", "1. ", "2) ", "10. ", "-", "*", "# ", "## ", "###### ", "####### ", "#",
        "```", "~~~", "````", "```rust", "---", "...", "***", "===", "\n", "\n", "\n", "\r\n",
        "\r\n", "\r", "\t", " ", "  ", "   ", "    ", "word", "foo bar", "é", "日本", "🦀", "`",
        "~", "> ", "<div>", "</div>", "_", "[x]", "|a|b|", "0.",
    ]);
    prop::collection::vec(fragments, 0..60).prop_map(|v| v.concat())
}

/// A document of whole lines: items, paragraphs, headings, fences, blank lines.
fn linewise() -> impl Strategy<Value = String> {
    let lines = prop::sample::select(vec![
        "- item",
        "  - nested",
        "* star",
        "1. one",
        "   cont",
        "lazy text",
        "# H1",
        "## H2",
        "### H3",
        "```",
        "~~~",
        "code",
        "",
        "",
        "  ",
        "para",
        "---",
        "\tindented",
        "2024. x",
    ]);
    (
        prop::collection::vec(lines, 0..30),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(lines, crlf, final_eol)| {
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut text = lines.join(eol);
            if final_eol && !text.is_empty() {
                text.push_str(eol);
            }
            text
        })
}

/// Structural invariants of a parse.
fn check_blocks(text: &str) {
    let doc = Document::parse(text);
    assert_eq!(doc.render(), text);
    for (i, b) in doc.blocks().iter().enumerate() {
        assert!(!b.raw.is_empty(), "empty block in {text:?}");
        match b.kind {
            Blank => assert!(
                b.raw
                    .split('\n')
                    .all(|l| syntax::is_blank(l.trim_end_matches('\r'))),
                "{b:?}"
            ),
            Heading(level) => {
                assert!((1..=6).contains(&level));
                assert!(b.raw.trim_end_matches('\n').find('\n').is_none(), "{b:?}");
            }
            FrontMatter => assert_eq!(i, 0),
            _ => {}
        }
        if i > 0 {
            assert!(
                doc.blocks()[i - 1].raw.ends_with('\n'),
                "block before {i} has no line ending in {text:?}"
            );
            assert!(
                !(b.kind == Blank && doc.blocks()[i - 1].kind == Blank),
                "adjacent blank blocks in {text:?}"
            );
        }
    }
    for e in doc.entries() {
        assert!(!e.body.contains('\r') || text.contains('\r'));
        assert_eq!(e.body.trim_end(), e.body);
        assert!(doc.blocks()[e.index].kind.is_entry());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn round_trips_markdownish(text in markdownish()) {
        check_blocks(&text);
    }

    #[test]
    fn round_trips_lines(text in linewise()) {
        check_blocks(&text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        max_global_rejects: 100_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn round_trips_anything(text in any::<String>()) {
        prop_assert_eq!(Document::parse(&text).render(), text);
    }

    #[test]
    fn round_trips_control_characters(text in "[\r\n\t #*`~>-]{0,40}") {
        check_blocks(&text);
    }

    /// A batch of replacements and removals keeps every block it does not name, in order.
    #[test]
    fn untouched_blocks_keep_their_bytes(
        text in prop_oneof![linewise(), markdownish()],
        picks in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4), 0..8),
    ) {
        let doc = Document::parse(&text);
        let entries = doc.entries();
        let mut edits = Vec::new();
        let mut named = std::collections::BTreeSet::new();
        if !entries.is_empty() {
            for (pick, what) in picks {
                let index = entries[pick.index(entries.len())].index;
                if !named.insert(index) {
                    continue;
                }
                edits.push(match what {
                    0 => remove(index),
                    1 => replace(index, "new text"),
                    2 => replace(index, "two\nlines"),
                    _ => replace(index, "a\n\nloose"),
                });
            }
        }
        let out = doc.apply(&edits).unwrap().render();
        let mut from = 0;
        for (i, block) in doc.blocks().iter().enumerate() {
            if named.contains(&i) || block.kind == Blank {
                continue;
            }
            match out[from..].find(&block.raw) {
                Some(at) => from += at + block.raw.len(),
                None => panic!("block {i} {:?} lost: {edits:?} on {text:?} gave {out:?}", block.raw),
            }
        }
        // The result reads back as itself.
        prop_assert_eq!(Document::parse(&out).render(), out);
    }

    /// Replacing entries with their own bodies gives the same entries back.
    #[test]
    fn replacing_entries_with_their_bodies_keeps_them(text in linewise()) {
        let doc = Document::parse(&text);
        let edits: Vec<Edit> = doc
            .entries()
            .into_iter()
            .map(|e| replace(e.index, &e.body))
            .collect();
        let out = doc.apply(&edits).unwrap();
        let before: Vec<_> = doc.entries().into_iter().map(|e| (e.section, e.body)).collect();
        let after: Vec<_> = out.entries().into_iter().map(|e| (e.section, e.body)).collect();
        prop_assert_eq!(before, after, "{:?} gave {:?}", text, out.render());
    }

    /// Removing entries leaves the others as they were (when no block starts indented: such a
    /// block may join a list item before it once what separated them is gone).
    #[test]
    fn removing_entries_keeps_the_others(text in linewise(), mask in any::<u32>()) {
        let doc = Document::parse(&text);
        prop_assume!(!doc.blocks().iter().any(|b| b.raw.starts_with([' ', '\t'])));
        let entries = doc.entries();
        let removed = |i: usize| mask & (1 << (i % 32)) != 0;
        let edits: Vec<Edit> = entries
            .iter()
            .enumerate()
            .filter(|(i, _)| removed(*i))
            .map(|(_, e)| remove(e.index))
            .collect();
        let out = doc.apply(&edits).unwrap();
        let kept: Vec<_> = entries
            .iter()
            .enumerate()
            .filter(|(i, _)| !removed(*i))
            .map(|(_, e)| (e.section.clone(), e.body.clone()))
            .collect();
        let after: Vec<_> = out.entries().into_iter().map(|e| (e.section, e.body)).collect();
        prop_assert_eq!(kept, after, "{:?} gave {:?}", text, out.render());
        // No blank line at the start, unless the text had one, or one keeps a `---` paragraph
        // from turning into front matter.
        let rendered = out.render();
        prop_assert!(
            out.blocks().first().is_none_or(|b| b.kind != Blank)
                || text.starts_with(['\n', '\r', ' ', '\t'])
                || rendered.trim_start().starts_with("---"),
            "{:?} gave {:?}", text, rendered
        );
    }

    /// Appends never fail on a valid section and land in the section they name.
    #[test]
    fn appends_land_in_their_section(
        text in linewise(),
        appends in prop::collection::vec(
            (prop::collection::vec(prop::sample::select(vec!["H1", "H2", "H3", "New"]), 0..3), any::<bool>()),
            1..5,
        ),
    ) {
        let doc = Document::parse(&text);
        let edits: Vec<Edit> = appends
            .iter()
            .enumerate()
            .map(|(i, (section, item))| Edit::Append {
                section: section.iter().map(|s| s.to_string()).collect(),
                body: format!("appended {i}"),
                item: *item,
            })
            .collect();
        let out = doc.apply(&edits).unwrap();
        // Unless an unclosed fence swallows them, each new entry reads back in its section.
        let probe = Document::parse(&format!("{text}\n\n# Probe\n"));
        let closed = probe.blocks().last().is_some_and(|b| b.kind == Heading(1));
        if closed {
            for (i, (section, _)) in appends.iter().enumerate() {
                let body = format!("appended {i}");
                let found = out.entries().into_iter().find(|e| e.body == body);
                let found = found.unwrap_or_else(|| panic!("{body} lost in {:?}", out.render()));
                prop_assert_eq!(&found.section, section, "{:?}", out.render());
            }
        }
    }
}

#[test]
fn section_names_made_writable_as_headings() {
    use super::{heading_name, is_heading_name};
    assert!(is_heading_name("git") && is_heading_name("Agent tools"));
    for bad in ["#", "B ##", " B", "x\ny"] {
        assert!(!is_heading_name(bad), "{bad:?}");
    }
    assert_eq!(heading_name("#"), None);
    assert_eq!(heading_name("  "), None);
    assert_eq!(heading_name("B ##").as_deref(), Some("B"));
    assert_eq!(heading_name("x\ny").as_deref(), Some("x y"));
    assert_eq!(heading_name("、テスト").as_deref(), Some("、テスト"));
}

//! Entries: the curation unit inside a memory.
//!
//! A memory is markdown. [`Document::parse`] splits it into [`Block`]s — front matter, headings,
//! list items, paragraphs, code blocks and blank lines — so that every byte is in exactly one
//! block and [`Document::render`] gives back the exact text, for any string whatsoever (CRLF,
//! tabs, no final newline, odd markdown, HTML). The entries are the item, paragraph and code
//! blocks; headings are structure (the section an entry lives in), never entries.
//! [`Document::apply`] edits a document block by block: every block no edit names keeps its
//! bytes, so a dream leaves untouched and protected content byte-identical.
//!
//! # Parsing rules
//!
//! The rules are CommonMark-ish but deliberately simple and line-based, so that what an entry is
//! can be predicted by looking at the text:
//!
//! - **Lines** end at `\n`; a `\r` before it is part of the line ending. Indentation is counted
//!   in columns, a tab advancing to the next multiple of 4. A *blank* line holds only spaces and
//!   tabs.
//! - **Front matter**: only when the very first line is `---`, up to and including the next
//!   line that is `---` or `...` (trailing spaces allowed). Without that closing line the
//!   first line is ordinary text.
//! - **Headings** are ATX only: at most 3 columns of indentation, 1–6 `#`, then a space, a tab
//!   or the end of the line; one line each. A heading's text drops a closing run of `#`
//!   (`## Foo ##` is `Foo`). Setext headings (`Title` over `===` or `---`) are read as
//!   paragraphs, and so are thematic breaks (`***`, `---`) and HTML.
//! - **List items**: a marker (`-`, `*`, `+`, or 1–9 digits then `.` or `)`) after at most 3
//!   columns of indentation, followed by a space, a tab or the end of the line (`- - -` is a
//!   thematic break, not an item). The item's *width* is the column its text starts at (2 for
//!   `- x`, 3 for `1. x`; after 5 or more spaces, or with no text, one column after the
//!   marker). The item then takes every following line that is
//!   - indented to at least its width (nested items, continuation paragraphs, indented code), or
//!   - less indented but neither a heading nor a list marker (lazy continuation), or
//!   - blank, when the next non-blank line is indented to at least its width (a loose item
//!     with a second paragraph or a nested list);
//!   - and every line of a fence opened in the item, whatever its indentation.
//!
//!   So `- a` then ` - b` (1 space, less than the width 2) are two items, while `- a` then
//!   `  - b` is one item with a nested one; `1. a` then `  - b` are two items (width 3). A blank
//!   line followed by a line indented less than the width ends the item.
//! - **Paragraphs**: consecutive non-blank lines. A heading, or a list item that may interrupt a
//!   paragraph (a bullet with text, or an ordered item numbered 1: `2024. was good` continues
//!   the text), ends one; indented lines do not.
//! - **Fences**: 3 or more backticks or tildes (a backtick fence's info string has no
//!   backtick), closed by a line of at least as many of the same character and nothing else,
//!   with any indentation. Lines inside a fence are never headings, items or blank-line
//!   boundaries. A fence that starts a block (after a blank line, a heading, another block, or
//!   at the start) with at most 3 columns of indentation is a [`BlockKind::Code`] block ending at
//!   its closing line; a fence opened on a line right after a paragraph's or an item's line
//!   belongs to that paragraph or item, which goes on after the fence closes. An unclosed fence
//!   runs to the end of the document.
//! - **Blank** lines form one [`BlockKind::Blank`] block per run, except those inside an item or
//!   a fence; trailing blank lines are a block of their own.
//! - A line indented 4 or more columns that starts a block is a paragraph (there are no indented
//!   code blocks).
//!
//! # Entries
//!
//! [`Document::entries`] gives each entry with its section (the heading texts above it, by
//! level: a `##` after a `#` nests under it, a new `#` replaces every heading of its level or
//! deeper; a skipped level just nests) and its body. An item's body is its text after the
//! marker with continuation lines dedented by the item's width; a paragraph's or code block's
//! is its raw text. Either is then trimmed at both ends (blank lines included), and uses `\n`
//! line endings whatever the document uses, so that the same text reads the same in an LF and a
//! CRLF memory. Replacing an entry with its own body gives an entry with the same body.
//!
//! # Editing
//!
//! [`Document::apply`] takes a batch of [`Edit`]s addressed by block index in the document as
//! parsed, so indices never shift under the caller. Its result is the new text parsed again.
//! Beyond what each edit says:
//!
//! - Bodies are normalized: `\r\n` and `\n` become the block's (or the document's) line
//!   ending; leading blank lines and trailing whitespace are dropped; an empty body is an error
//!   (remove the entry instead). Inner blank lines are kept: in an item they make a loose item
//!   (the next line is indented), in a paragraph they start another paragraph. A body is text,
//!   not escaped: a paragraph body starting with `# ` becomes a heading.
//! - `Remove` may name any block (a heading, a blank run); `Replace` only an entry. Removals
//!   leave no two blank runs adjacent (the first stays), none at the very start, and none at
//!   the very end (the run before a removed last block goes too).
//! - Neither a removal nor a replacement fuses two blocks: when two non-blank blocks end up
//!   adjacent and would read as one (a paragraph after a removed heading, say), a blank line
//!   goes between them. Nor does a `---` paragraph that ends up first turn into front matter: a
//!   blank line goes before it.
//! - A new section is placed after the deepest existing section of its path (after that
//!   section's subsections), or at the end of the document when none exists; its headings are
//!   one level below that section's heading (`#` for the first when none exists), each
//!   followed by a blank line. A section name must read back as itself as a heading's text (no
//!   line breaks, no surrounding whitespace, no closing `#` run), and a heading level cannot
//!   exceed 6.
//! - An appended entry goes after the last non-blank block of its section's own content
//!   (before its first subsection), so that it reads back in that very section. When a section
//!   path appears more than once, the first one is used. Entries appended to one place come
//!   before the sections created there, and a deeper new section before a shallower one.
//! - An appended item right after an item (of any marker) joins it with no blank line; a list
//!   directly followed by a heading stays so. Anything else appended is set apart by blank lines.
//! - When the last line has no line ending and something is added after it, it gets one.
//!
//! Known limits: a block that starts indented to a list item's width (`  text` after `- a`)
//! belongs to that item as soon as only blank lines separate them, so removing the paragraph
//! between them makes it part of the item; no blank line can prevent that. And whatever is
//! appended after an unclosed fence is inside it.

mod edit;
mod syntax;
#[cfg(test)]
mod tests;

use syntax::{dedent, heading_text, item_marker, split_lines};

/// Whether `name` can be written as a heading that reads back as `name` (one line, no
/// leading or trailing space, no closing `#`s): what a section of an edit must be.
pub fn is_heading_name(name: &str) -> bool {
    !name.contains(['\n', '\r']) && heading_text(&format!("# {name}")) == name
}

/// `name` made writable as a heading: on one line, trimmed of spaces and `#`s at its ends;
/// `None` when nothing is left.
pub fn heading_name(name: &str) -> Option<String> {
    let one_line = name.split_whitespace().collect::<Vec<_>>().join(" ");
    let cleaned = one_line.trim_matches(|c: char| c == '#' || c.is_whitespace());
    let cleaned = cleaned.to_string();
    (!cleaned.is_empty() && is_heading_name(&cleaned)).then_some(cleaned)
}

/// What a block of a memory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum BlockKind {
    /// A `---` … `---` YAML front matter block at the very start. Never an entry.
    FrontMatter,
    /// An ATX heading (`#` to `######`); the level is 1–6. Structure, never an entry.
    Heading(u8),
    /// A top-level list item (`-`, `*`, `+`, `1.`, `1)` after at most 3 spaces) with its
    /// continuation lines and nested items.
    Item,
    /// Consecutive non-blank lines that are not a heading, item or fence.
    Paragraph,
    /// A fenced code block (``` or ~~~) standing on its own (after a blank line).
    Code,
    /// One or more blank lines.
    Blank,
}

impl BlockKind {
    /// An item, a paragraph or a code block.
    fn is_entry(self) -> bool {
        matches!(
            self,
            BlockKind::Item | BlockKind::Paragraph | BlockKind::Code
        )
    }
}

/// One block: its kind and its exact source text (line endings included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub kind: BlockKind,
    pub raw: String,
}

/// A parsed memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    blocks: Vec<Block>,
}

/// An entry of a document, as the curation engine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRef {
    /// The block's index in `Document::blocks`.
    pub index: usize,
    /// `Item`, `Paragraph` or `Code`.
    pub kind: BlockKind,
    /// The heading texts above it, outermost first (`["Testing", "Postgres"]`); empty at top.
    pub section: Vec<String>,
    /// The entry's text without its list marker: for an item, its first line after the marker
    /// and its continuation lines dedented by the marker's width, trailing whitespace and
    /// line endings trimmed; for a paragraph or code block, the raw text trimmed. Leading
    /// whitespace is trimmed too, and line endings inside are `\n`.
    pub body: String,
}

/// One change to a document, addressed by block index in the document as parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Replace the entry at `index` with `body`, keeping its marker (`- `, `* `, `3. `), its
    /// indentation and its line-ending style (LF or CRLF).
    Replace { index: usize, body: String },
    /// Remove the block at `index`; if that leaves two blank blocks adjacent, or a blank block at
    /// the very start, merge/drop the extra blank so removing an entry never leaves a gap.
    Remove { index: usize },
    /// Add `body` as a new entry at the end of `section`'s own content (after its last
    /// non-blank block before the next heading, so before its subsections); `[]` is the top of
    /// the document, before the first heading. When the section does not exist, its missing
    /// headings are added after the deepest existing section of the path (subsections
    /// included), one level below it, or at the end of the document (`#` for the first, `##`
    /// below…). `item` makes it a `- ` list item (continuation lines indented by two spaces),
    /// otherwise a paragraph separated by blank lines. Several appends to one section keep
    /// their order. New items placed right after other items join that list (no blank line
    /// between); the document's line-ending style is used.
    Append {
        section: Vec<String>,
        body: String,
        item: bool,
    },
}

impl Document {
    /// Parses `text` into blocks; never fails.
    pub fn parse(text: &str) -> Document {
        Document {
            blocks: syntax::parse_blocks(text),
        }
    }

    /// The text, byte-identical to what was parsed when no edit was made.
    pub fn render(&self) -> String {
        self.blocks.iter().map(|b| b.raw.as_str()).collect()
    }

    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// The entries (Item, Paragraph and Code blocks), in order.
    pub fn entries(&self) -> Vec<EntryRef> {
        let mut path: Vec<(u8, String)> = Vec::new();
        let mut entries = Vec::new();
        for (index, block) in self.blocks.iter().enumerate() {
            match block.kind {
                BlockKind::Heading(level) => {
                    while path.last().is_some_and(|(l, _)| *l >= level) {
                        path.pop();
                    }
                    path.push((level, heading_text(first_line(&block.raw))));
                }
                kind if kind.is_entry() => entries.push(EntryRef {
                    index,
                    kind,
                    section: path.iter().map(|(_, t)| t.clone()).collect(),
                    body: body(block),
                }),
                _ => {}
            }
        }
        entries
    }

    /// A new document with the edits applied; blocks not named by an edit keep their bytes.
    /// Edits naming the same index twice, an index out of range, a non-entry block for
    /// `Replace`, an empty body, or a section that cannot be written as headings are errors.
    pub fn apply(&self, edits: &[Edit]) -> crate::Result<Document> {
        edit::apply(self, edits)
    }

    /// The line ending the document uses: that of its first line, LF when it has none.
    fn eol(&self) -> &'static str {
        let text = self.blocks.iter().find(|b| b.raw.contains('\n'));
        text.map_or("\n", |b| line_ending(&b.raw).unwrap_or("\n"))
    }
}

/// The raw text of a new list item for `body` (`- ` + body, continuation lines indented two
/// spaces, LF line endings, trailing newline).
pub fn item_raw(body: &str) -> String {
    edit::new_item(&edit::body_lines(body), "\n")
}

/// The line ending of the first line of `raw`, if it has one.
fn line_ending(raw: &str) -> Option<&'static str> {
    let at = raw.find('\n')?;
    Some(if raw[..at].ends_with('\r') {
        "\r\n"
    } else {
        "\n"
    })
}

/// The first line of `raw`, without its line ending.
fn first_line(raw: &str) -> &str {
    split_lines(raw).first().map_or("", |l| l.content)
}

/// The body of an entry block (see [`EntryRef::body`]).
fn body(block: &Block) -> String {
    let text = match block.kind {
        BlockKind::Item => {
            let lines = split_lines(&block.raw);
            let first = lines.first().map_or("", |l| l.content);
            match item_marker(first) {
                Some(marker) => {
                    let mut parts = vec![&first[marker.prefix..]];
                    parts.extend(lines[1..].iter().map(|l| dedent(l.content, marker.width)));
                    parts.join("\n")
                }
                None => lines
                    .iter()
                    .map(|l| l.content)
                    .collect::<Vec<_>>()
                    .join("\n"),
            }
        }
        _ => block.raw.replace("\r\n", "\n"),
    };
    // Leading whitespace (and blank lines, for an item whose text starts on its second line)
    // is not text.
    text.trim().to_string()
}

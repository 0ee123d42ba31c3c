//! Line-level markdown syntax: how one line is read (blank, heading, list marker, fence) and how
//! lines group into blocks. Everything here works on a line's content, without its line ending.

use super::{Block, BlockKind};

/// A tab advances to the next multiple of this many columns.
const TAB: usize = 4;

/// One line of the source.
#[derive(Debug, Clone, Copy)]
pub(super) struct Line<'a> {
    /// Byte offset of its first byte.
    pub start: usize,
    /// Byte offset just past its line ending (or the end of the text).
    pub end: usize,
    /// The line without its `\n` or `\r\n` (a final `\r` at the end of the text is dropped too).
    pub content: &'a str,
}

/// The lines of `text`, line endings included in their span. An empty text has no lines.
pub(super) fn split_lines(text: &str) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    let mut start = 0;
    for full in text.split_inclusive('\n') {
        let end = start + full.len();
        let content = full.strip_suffix('\n').unwrap_or(full);
        let content = content.strip_suffix('\r').unwrap_or(content);
        lines.push(Line {
            start,
            end,
            content,
        });
        start = end;
    }
    lines
}

/// Only spaces and tabs (or nothing).
pub(super) fn is_blank(content: &str) -> bool {
    content.bytes().all(|b| b == b' ' || b == b'\t')
}

/// The column after advancing from `col` over `c` (a space or a tab).
fn advance(col: usize, c: u8) -> usize {
    if c == b'\t' {
        col + TAB - col % TAB
    } else {
        col + 1
    }
}

/// The leading indentation: its width in columns (tabs to the next multiple of 4) and in bytes.
pub(super) fn indent(content: &str) -> (usize, usize) {
    let mut col = 0;
    let mut bytes = 0;
    for b in content.bytes() {
        if b != b' ' && b != b'\t' {
            break;
        }
        col = advance(col, b);
        bytes += 1;
    }
    (col, bytes)
}

/// `content` without up to `width` columns of leading indentation (a tab that crosses the
/// width is removed whole).
pub(super) fn dedent(content: &str, width: usize) -> &str {
    let mut col = 0;
    let mut bytes = 0;
    for b in content.bytes() {
        if col >= width || (b != b' ' && b != b'\t') {
            break;
        }
        col = advance(col, b);
        bytes += 1;
    }
    &content[bytes..]
}

/// The level of an ATX heading: at most 3 columns of indentation, 1–6 `#`, then a space, a tab
/// or the end of the line.
pub(super) fn heading_level(content: &str) -> Option<u8> {
    let (cols, bytes) = indent(content);
    if cols > 3 {
        return None;
    }
    let rest = &content[bytes..];
    let hashes = rest.bytes().take_while(|&b| b == b'#').count();
    if !(1..=6).contains(&hashes) {
        return None;
    }
    match rest.as_bytes().get(hashes) {
        None | Some(b' ' | b'\t') => u8::try_from(hashes).ok(),
        Some(_) => None,
    }
}

/// The text of a heading line: after the `#`s, trimmed, without a closing run of `#` (one that
/// is the whole text or follows a space or a tab).
pub(super) fn heading_text(content: &str) -> String {
    let (_, bytes) = indent(content);
    let rest = content[bytes..].trim_start_matches('#');
    let text = rest.trim_matches([' ', '\t']);
    let open = text.trim_end_matches('#');
    let text = if open.len() < text.len() && (open.is_empty() || open.ends_with([' ', '\t'])) {
        open.trim_end_matches([' ', '\t'])
    } else {
        text
    };
    text.to_string()
}

/// A thematic break: at most 3 columns of indentation, then 3 or more of one of `-`, `*`, `_`,
/// with nothing but spaces and tabs between them.
pub(super) fn is_thematic_break(content: &str) -> bool {
    let (cols, bytes) = indent(content);
    if cols > 3 {
        return false;
    }
    let rest = &content.as_bytes()[bytes..];
    let Some(&first) = rest.first() else {
        return false;
    };
    if !matches!(first, b'-' | b'*' | b'_') {
        return false;
    }
    let mut count = 0;
    for &b in rest {
        if b == first {
            count += 1;
        } else if b != b' ' && b != b'\t' {
            return false;
        }
    }
    count >= 3
}

/// A list marker at the start of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Marker {
    /// Bytes of the line before the item's text: indentation, marker, the spaces after it.
    pub prefix: usize,
    /// The column the item's text starts at; continuation lines indented this far belong to it.
    pub width: usize,
    /// Nothing after the marker.
    pub empty: bool,
    /// An ordered marker whose number is not 1 (it cannot interrupt a paragraph).
    pub ordered_not_one: bool,
}

/// A list marker: at most 3 columns of indentation, then `-`, `*`, `+`, or 1–9 digits and `.`
/// or `)`, then a space, a tab or the end of the line; a thematic break (`- - -`) is not one.
pub(super) fn item_marker(content: &str) -> Option<Marker> {
    let (cols, bytes) = indent(content);
    if cols > 3 {
        return None;
    }
    let rest = &content.as_bytes()[bytes..];
    let (len, ordered_not_one) = match rest.first()? {
        b'-' | b'*' | b'+' => (1, false),
        b'0'..=b'9' => {
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits > 9 || !matches!(rest.get(digits), Some(b'.' | b')')) {
                return None;
            }
            let number = &content[bytes..bytes + digits];
            (digits + 1, number.trim_start_matches('0') != "1")
        }
        _ => return None,
    };
    if !matches!(rest.get(len), None | Some(b' ' | b'\t')) || is_thematic_break(content) {
        return None;
    }
    let marker_end = bytes + len;
    let marker_col = cols + len;
    let after = &content[marker_end..];
    let (ws_cols, ws_bytes) = {
        // Columns are counted from the marker's end, tabs to the line's tab stops.
        let mut col = marker_col;
        let mut n = 0;
        for b in after.bytes() {
            if b != b' ' && b != b'\t' {
                break;
            }
            col = advance(col, b);
            n += 1;
        }
        (col - marker_col, n)
    };
    let empty = ws_bytes == after.len();
    let (prefix, width) = if empty || ws_cols > 4 {
        // Nothing after the marker, or an indented text: the item's text starts one column
        // after the marker.
        let one = usize::from(ws_bytes > 0);
        let width = if one == 1 {
            advance(marker_col, after.as_bytes()[0])
        } else {
            marker_col + 1
        };
        (marker_end + one, width)
    } else {
        (marker_end + ws_bytes, marker_col + ws_cols)
    };
    Some(Marker {
        prefix,
        width,
        empty,
        ordered_not_one,
    })
}

/// An opening code fence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fence {
    pub ch: u8,
    pub len: usize,
}

/// An opening fence with at most `max_indent` columns of indentation: 3 or more backticks or
/// tildes (a backtick fence's info string has no backtick).
pub(super) fn fence_open(content: &str, max_indent: usize) -> Option<Fence> {
    let (cols, bytes) = indent(content);
    if cols > max_indent {
        return None;
    }
    let rest = &content[bytes..];
    let ch = *rest.as_bytes().first()?;
    if ch != b'`' && ch != b'~' {
        return None;
    }
    let len = rest.bytes().take_while(|&b| b == ch).count();
    if len < 3 || (ch == b'`' && rest[len..].contains('`')) {
        return None;
    }
    Some(Fence { ch, len })
}

/// A closing fence for `fence`: any indentation, at least as many of the same character, then
/// only spaces and tabs.
pub(super) fn fence_closes(content: &str, fence: Fence) -> bool {
    let rest = content.trim_start_matches([' ', '\t']);
    let len = rest.bytes().take_while(|&b| b == fence.ch).count();
    len >= fence.len && is_blank(&rest[len..])
}

/// Splits `text` into blocks. Every byte of `text` is in exactly one block, in order.
pub(super) fn parse_blocks(text: &str) -> Vec<Block> {
    let lines = split_lines(text);
    let n = lines.len();
    let mut blocks = Vec::new();
    let mut push = |kind: BlockKind, from: usize, to: usize| {
        blocks.push(Block {
            kind,
            raw: text[lines[from].start..lines[to - 1].end].to_string(),
        });
    };
    let mut i = 0;
    if let Some(end) = front_matter_end(&lines) {
        push(BlockKind::FrontMatter, 0, end);
        i = end;
    }
    while i < n {
        let content = lines[i].content;
        let (kind, next) = if is_blank(content) {
            (BlockKind::Blank, blank_end(&lines, i))
        } else if let Some(level) = heading_level(content) {
            (BlockKind::Heading(level), i + 1)
        } else if let Some(marker) = item_marker(content) {
            (BlockKind::Item, item_end(&lines, i, marker))
        } else if let Some(fence) = fence_open(content, 3) {
            (BlockKind::Code, fence_end(&lines, i + 1, fence))
        } else {
            (BlockKind::Paragraph, paragraph_end(&lines, i))
        };
        push(kind, i, next);
        i = next;
    }
    blocks
}

/// The end (exclusive line index) of a front matter block: the first line is `---`, a later
/// line is `---` or `...` (trailing spaces and tabs allowed on both).
pub(super) fn front_matter_end(lines: &[Line<'_>]) -> Option<usize> {
    let trimmed = |l: &Line<'_>| l.content.trim_end_matches([' ', '\t']).to_string();
    if trimmed(lines.first()?) != "---" {
        return None;
    }
    lines[1..]
        .iter()
        .position(|l| matches!(trimmed(l).as_str(), "---" | "..."))
        .map(|p| p + 2)
}

/// The end of the run of blank lines starting at `i`.
fn blank_end(lines: &[Line<'_>], i: usize) -> usize {
    let mut j = i;
    while j < lines.len() && is_blank(lines[j].content) {
        j += 1;
    }
    j
}

/// The end of a fence whose body starts at line `from`: after its closing line, or the end of
/// the text.
fn fence_end(lines: &[Line<'_>], from: usize, fence: Fence) -> usize {
    lines[from..]
        .iter()
        .position(|l| fence_closes(l.content, fence))
        .map_or(lines.len(), |p| from + p + 1)
}

/// The end of the list item starting at line `i`.
fn item_end(lines: &[Line<'_>], i: usize, marker: Marker) -> usize {
    let n = lines.len();
    let width = marker.width;
    let mut fence = fence_open(&lines[i].content[marker.prefix..], usize::MAX);
    let mut j = i + 1;
    while j < n {
        let content = lines[j].content;
        if let Some(f) = fence {
            if fence_closes(content, f) {
                fence = None;
            }
            j += 1;
            continue;
        }
        if is_blank(content) {
            let k = blank_end(lines, j);
            if k < n && indent(lines[k].content).0 >= width {
                j = k;
                continue;
            }
            return j;
        }
        if indent(content).0 < width
            && (heading_level(content).is_some() || item_marker(content).is_some())
        {
            return j;
        }
        fence = fence_open(content, usize::MAX);
        j += 1;
    }
    n
}

/// The end of the paragraph starting at line `i`.
fn paragraph_end(lines: &[Line<'_>], i: usize) -> usize {
    let n = lines.len();
    let mut fence = None;
    let mut j = i + 1;
    while j < n {
        let content = lines[j].content;
        if let Some(f) = fence {
            if fence_closes(content, f) {
                fence = None;
            }
            j += 1;
            continue;
        }
        if is_blank(content) || heading_level(content).is_some() || interrupts(content) {
            return j;
        }
        fence = fence_open(content, 3);
        j += 1;
    }
    n
}

/// A list item that may interrupt a paragraph: a bullet with text, or an ordered item numbered 1.
fn interrupts(content: &str) -> bool {
    item_marker(content).is_some_and(|m| !m.empty && !m.ordered_not_one)
}

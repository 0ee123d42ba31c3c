//! Applying a batch of edits to a document (see the module docs of `entry`).

use std::collections::BTreeMap;

use super::syntax::{self, heading_text, item_marker};
use super::{Block, BlockKind, Document, Edit, first_line, line_ending};
use crate::{Error, Result};

/// The deepest heading level markdown has.
const MAX_LEVEL: usize = 6;

/// Where a unit of the new text comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// A block of the document, unchanged.
    Kept,
    /// A block of the document, replaced.
    Replaced,
    /// Added by an append (an entry or a heading).
    New,
}

/// One block of the new text.
#[derive(Debug, Clone)]
struct Unit {
    kind: BlockKind,
    raw: String,
    origin: Origin,
    /// Removed blocks were right before it.
    after_gap: bool,
}

impl Unit {
    fn new(kind: BlockKind, raw: String) -> Unit {
        Unit {
            kind,
            raw,
            origin: Origin::New,
            after_gap: false,
        }
    }
}

/// A section the edits create, with the entries appended to it and its new subsections.
#[derive(Debug)]
struct NewSection {
    name: String,
    level: usize,
    entries: Vec<Unit>,
    children: Vec<NewSection>,
}

impl NewSection {
    fn empty(name: &str, level: usize) -> NewSection {
        NewSection {
            name: name.to_string(),
            level,
            entries: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Its heading, its entries, then its subsections.
    fn flatten(self, eol: &str, out: &mut Vec<Unit>) {
        let level = u8::try_from(self.level).unwrap_or(u8::MAX);
        let raw = format!("{} {}{eol}", "#".repeat(self.level), self.name);
        out.push(Unit::new(BlockKind::Heading(level), raw));
        out.extend(self.entries);
        for child in self.children {
            child.flatten(eol, out);
        }
    }
}

/// What is added before one block of the document (or at its end).
#[derive(Debug, Default)]
struct Insert {
    /// Entries appended to the section whose own content ends here.
    entries: Vec<Unit>,
    /// New sections, each with the path of the existing section it is created under.
    sections: Vec<(Vec<String>, NewSection)>,
}

/// What an edit does to a block of the document.
#[derive(Debug, Clone)]
enum Action {
    Keep,
    Replace(String),
    Remove,
}

/// A heading of the document, with the section path it opens.
#[derive(Debug)]
struct Heading {
    index: usize,
    level: usize,
    path: Vec<String>,
}

pub(super) fn apply(doc: &Document, edits: &[Edit]) -> Result<Document> {
    let blocks = &doc.blocks;
    let n = blocks.len();
    let eol = doc.eol();
    let headings = headings(blocks);
    let mut actions = vec![Action::Keep; n];
    let mut named = vec![false; n];
    let mut inserts: BTreeMap<usize, Insert> = BTreeMap::new();

    for edit in edits {
        match edit {
            Edit::Replace { index, body } => {
                let block = target(blocks, &mut named, *index)?;
                if !block.kind.is_entry() {
                    return Err(Error::invalid(
                        "edit",
                        format!(
                            "block {index} is {}, not an entry: it cannot be replaced",
                            describe(block.kind)
                        ),
                    ));
                }
                let lines = body_lines(body);
                if lines.is_empty() {
                    return Err(Error::invalid(
                        "edit",
                        format!(
                            "the new body of block {index} is empty (remove the entry instead)"
                        ),
                    ));
                }
                actions[*index] = Action::Replace(replacement(block, &lines, eol));
            }
            Edit::Remove { index } => {
                target(blocks, &mut named, *index)?;
                actions[*index] = Action::Remove;
            }
            Edit::Append {
                section,
                body,
                item,
            } => {
                let lines = body_lines(body);
                if lines.is_empty() {
                    return Err(Error::invalid(
                        "edit",
                        format!("the body appended to section {section:?} is empty"),
                    ));
                }
                let unit = if *item {
                    Unit::new(BlockKind::Item, new_item(&lines, eol))
                } else {
                    Unit::new(BlockKind::Paragraph, new_paragraph(&lines, eol))
                };
                place(blocks, &headings, &mut inserts, section, unit)?;
            }
        }
    }

    // The new sequence of blocks, with `None` where blocks were removed.
    let mut slots: Vec<Option<Unit>> = Vec::with_capacity(n + inserts.len());
    for p in actions.into_iter().enumerate().map(Some).chain([None]) {
        let at = p.as_ref().map_or(n, |(i, _)| *i);
        if let Some(insert) = inserts.remove(&at) {
            slots.extend(insert.entries.into_iter().map(Some));
            let mut sections = insert.sections;
            // Deeper sections first: a subsection's heading must come before its parent's
            // following sibling.
            sections.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
            for (_, section) in sections {
                let mut units = Vec::new();
                section.flatten(eol, &mut units);
                slots.extend(units.into_iter().map(Some));
            }
        }
        let Some((i, action)) = p else { break };
        let block = &blocks[i];
        slots.push(match action {
            Action::Keep => Some(Unit {
                kind: block.kind,
                raw: block.raw.clone(),
                origin: Origin::Kept,
                after_gap: false,
            }),
            Action::Replace(raw) => Some(Unit {
                kind: block.kind,
                raw,
                origin: Origin::Replaced,
                after_gap: false,
            }),
            Action::Remove => None,
        });
    }

    let units = close_gaps(slots);
    Ok(Document::parse(&join(&units, eol)))
}

/// The block an edit names, marked as named; an error if out of range or already named.
fn target<'a>(blocks: &'a [Block], named: &mut [bool], index: usize) -> Result<&'a Block> {
    let Some(block) = blocks.get(index) else {
        return Err(Error::invalid(
            "edit",
            format!(
                "block {index} is out of range: the document has {} blocks",
                blocks.len()
            ),
        ));
    };
    if std::mem::replace(&mut named[index], true) {
        return Err(Error::invalid(
            "edit",
            format!("block {index} is named by more than one edit"),
        ));
    }
    Ok(block)
}

fn describe(kind: BlockKind) -> &'static str {
    match kind {
        BlockKind::FrontMatter => "the front matter",
        BlockKind::Heading(_) => "a heading",
        BlockKind::Item => "a list item",
        BlockKind::Paragraph => "a paragraph",
        BlockKind::Code => "a code block",
        BlockKind::Blank => "blank",
    }
}

/// The lines of a body: `\r\n` read as `\n`, leading and trailing blank lines and trailing
/// whitespace dropped. Empty when the body is only whitespace.
pub(super) fn body_lines(body: &str) -> Vec<&str> {
    let body = body.trim_end();
    let mut lines: Vec<&str> = body
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let blank = lines.iter().take_while(|l| l.trim().is_empty()).count();
    lines.drain(..blank);
    lines
}

/// A new `- ` item: continuation lines indented by two spaces, blank lines left empty.
pub(super) fn new_item(lines: &[&str], eol: &str) -> String {
    prefixed(lines, "- ", "  ", eol, true)
}

/// A new paragraph.
fn new_paragraph(lines: &[&str], eol: &str) -> String {
    prefixed(lines, "", "", eol, true)
}

/// `first` before the first line, `rest` before the other non-empty ones, `eol` after each
/// line (but the last unless `final_eol`). An empty first line leaves `first` without its
/// trailing whitespace.
fn prefixed(lines: &[&str], first: &str, rest: &str, eol: &str, final_eol: bool) -> String {
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push_str(eol);
        }
        if line.is_empty() {
            if i == 0 {
                out.push_str(first.trim_end_matches([' ', '\t']));
            }
        } else {
            out.push_str(if i == 0 { first } else { rest });
            out.push_str(line);
        }
    }
    if lines.is_empty() {
        out.push_str(first.trim_end_matches([' ', '\t']));
    }
    if final_eol {
        out.push_str(eol);
    }
    out
}

/// The new raw text of an entry block for `lines`, keeping the block's marker (for an item),
/// its first line's indentation, its line ending and whether it ends with one.
fn replacement(block: &Block, lines: &[&str], doc_eol: &str) -> String {
    let eol = line_ending(&block.raw).unwrap_or(doc_eol);
    let final_eol = block.raw.ends_with('\n');
    let first = first_line(&block.raw);
    match (block.kind, item_marker(first)) {
        (BlockKind::Item, Some(marker)) => {
            let rest = " ".repeat(marker.width);
            let mut prefix = first[..marker.prefix].to_string();
            if !prefix.ends_with([' ', '\t']) {
                // An empty item (`-`): its text goes one column after the marker.
                prefix.push(' ');
            }
            prefixed(lines, &prefix, &rest, eol, final_eol)
        }
        _ => {
            // What the body's trimming took off the first line.
            let lead = &first[..first.len() - first.trim_start().len()];
            prefixed(lines, lead, "", eol, final_eol)
        }
    }
}

/// Every heading with the section path it opens.
fn headings(blocks: &[Block]) -> Vec<Heading> {
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut out = Vec::new();
    for (index, block) in blocks.iter().enumerate() {
        if let BlockKind::Heading(level) = block.kind {
            let level = usize::from(level);
            while path.last().is_some_and(|(l, _)| *l >= level) {
                path.pop();
            }
            path.push((level, heading_text(first_line(&block.raw))));
            out.push(Heading {
                index,
                level,
                path: path.iter().map(|(_, t)| t.clone()).collect(),
            });
        }
    }
    out
}

/// Just after the last non-blank block of `blocks[from..to]`, or `from` when there is none.
fn after_content(blocks: &[Block], from: usize, to: usize) -> usize {
    (from..to)
        .rev()
        .find(|&i| blocks[i].kind != BlockKind::Blank)
        .map_or(from, |i| i + 1)
}

/// Records `unit` as appended to `section`.
fn place(
    blocks: &[Block],
    headings: &[Heading],
    inserts: &mut BTreeMap<usize, Insert>,
    section: &[String],
    unit: Unit,
) -> Result<()> {
    let n = blocks.len();
    let find = |path: &[String]| headings.iter().find(|h| h.path == path);
    // The section's own content ends at the next heading of any level.
    let own_end = |from: usize| {
        headings
            .iter()
            .find(|h| h.index >= from)
            .map_or(n, |h| h.index)
    };
    if section.is_empty() {
        let at = after_content(blocks, 0, own_end(0));
        inserts.entry(at).or_default().entries.push(unit);
        return Ok(());
    }
    if let Some(h) = find(section) {
        let at = after_content(blocks, h.index, own_end(h.index + 1));
        inserts.entry(at).or_default().entries.push(unit);
        return Ok(());
    }
    // The deepest existing section of the path; the new headings go after all of its content,
    // subsections included (before the next heading of its level or higher).
    let (depth, level, at) = (1..section.len())
        .rev()
        .find_map(|k| {
            let h = find(&section[..k])?;
            let end = headings
                .iter()
                .find(|o| o.index > h.index && o.level <= h.level)
                .map_or(n, |o| o.index);
            Some((k, h.level, after_content(blocks, h.index, end)))
        })
        .unwrap_or((0, 0, after_content(blocks, 0, n)));
    let missing = &section[depth..];
    if level + missing.len() > MAX_LEVEL {
        return Err(Error::invalid(
            "edit",
            format!(
                "section {section:?} would need a heading of level {}, deeper than {MAX_LEVEL}",
                level + missing.len()
            ),
        ));
    }
    for name in missing {
        if !super::is_heading_name(name) {
            return Err(Error::invalid(
                "edit",
                format!("section name {name:?} cannot be written as a heading"),
            ));
        }
    }
    let prefix = section[..depth].to_vec();
    let sections = &mut inserts.entry(at).or_default().sections;
    let pos = match sections
        .iter()
        .position(|(p, s)| *p == prefix && s.name == missing[0])
    {
        Some(pos) => pos,
        None => {
            sections.push((prefix, NewSection::empty(&missing[0], level + 1)));
            sections.len() - 1
        }
    };
    let mut node = &mut sections[pos].1;
    for name in &missing[1..] {
        let pos = match node.children.iter().position(|c| c.name == *name) {
            Some(pos) => pos,
            None => {
                let child = NewSection::empty(name, node.level + 1);
                node.children.push(child);
                node.children.len() - 1
            }
        };
        node = &mut node.children[pos];
    }
    node.entries.push(unit);
    Ok(())
}

/// Drops the blank blocks that removals would leave doubled, at the very start or at the very
/// end, and marks the blocks that follow a removal.
fn close_gaps(slots: Vec<Option<Unit>>) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::with_capacity(slots.len());
    let mut gap = false;
    for slot in slots {
        let Some(mut unit) = slot else {
            gap = true;
            continue;
        };
        if gap
            && unit.kind == BlockKind::Blank
            && out.last().is_none_or(|l| l.kind == BlockKind::Blank)
        {
            continue;
        }
        unit.after_gap = gap;
        gap = false;
        out.push(unit);
    }
    if gap && out.last().is_some_and(|l| l.kind == BlockKind::Blank) {
        out.pop();
    }
    out
}

/// The text of the units, with the blank lines and line endings their joints need.
fn join(units: &[Unit], eol: &str) -> String {
    let mut text = String::new();
    let mut prev: Option<(&Unit, bool)> = None;
    for unit in units {
        if !text.is_empty() {
            end_line(&mut text, eol);
        }
        let mut joined = false;
        if let Some((before, before_joined)) = prev {
            joined = unit.origin == Origin::New
                && unit.kind == BlockKind::Item
                && before.kind == BlockKind::Item;
            if before.kind != BlockKind::Blank
                && unit.kind != BlockKind::Blank
                && needs_blank(before, before_joined, unit, eol)
            {
                text.push_str(eol);
            }
        }
        text.push_str(&unit.raw);
        prev = Some((unit, joined));
    }
    if units
        .first()
        .is_some_and(|u| u.kind != BlockKind::FrontMatter)
        && syntax::front_matter_end(&syntax::split_lines(&text)).is_some()
    {
        // What comes first only now must not turn into front matter.
        text.insert_str(0, eol);
    }
    text
}

/// Gives the last line of `text` a line ending if it has none. A final `\r` already reads as
/// one (see `split_lines`): it only needs its `\n`, or the `\r` would become part of the line
/// (`# H\r` then `\r\n` is a heading named `H\r`).
fn end_line(text: &mut String, eol: &str) {
    if text.ends_with('\r') {
        text.push('\n');
    } else if !text.ends_with('\n') {
        text.push_str(eol);
    }
}

/// Whether a blank line must go between two adjacent non-blank units.
fn needs_blank(before: &Unit, before_joined: bool, unit: &Unit, eol: &str) -> bool {
    if unit.origin == Origin::New {
        // A new entry or heading stands apart, unless it is an item joining a list.
        let joins = unit.kind == BlockKind::Item && before.kind == BlockKind::Item;
        return !joins || fuses(before, unit, eol);
    }
    if before.origin == Origin::New {
        // After new blocks, the next block stands apart, unless the new items joined a list
        // (which then ends as it did).
        return !before_joined || fuses(before, unit, eol);
    }
    if unit.after_gap || before.origin == Origin::Replaced || unit.origin == Origin::Replaced {
        return fuses(before, unit, eol);
    }
    false
}

/// Whether `unit` would not start a block of its own right after `before`.
fn fuses(before: &Unit, unit: &Unit, eol: &str) -> bool {
    if before.kind == BlockKind::FrontMatter {
        return false;
    }
    // After a blank line, so that `before` is not read as front matter.
    let mut text = format!("{eol}{}", before.raw);
    end_line(&mut text, eol);
    let at = text.len();
    text.push_str(&unit.raw);
    let mut offset = 0;
    for block in syntax::parse_blocks(&text) {
        if offset >= at {
            return offset != at;
        }
        offset += block.raw.len();
    }
    offset != at
}

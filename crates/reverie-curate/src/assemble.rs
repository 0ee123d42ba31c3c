//! Assemble: the entries written back into their memories, and the index kept current.
//!
//! Each memory is edited block by block (`reverie_core::entry::Edit`), so everything a dream
//! does not change stays byte-identical: an entry that left is removed, one whose text changed
//! is replaced in place (its list marker kept), a new one is appended to its section.
//!
//! The index (`/MEMORY.md` by default, loaded at the start of every session) gets a
//! "Memory files" section listing the store's other memories, so that an agent knows what to
//! read on demand. Its lines are derived: the dream rewrites the section as the set of memories
//! changes, folding folders into one line when the list would not fit the index's limits.

use std::collections::{BTreeMap, BTreeSet};

use reverie_core::curation::{EntryKind, EntryMeta, EntryState, Op, OpKind};
use reverie_core::entry::{BlockKind, Document, Edit};
use reverie_core::id::{IdKind, derived_id};
use reverie_core::policy::Budget;

use crate::orient::{Doc, Work};

/// The heading of the index's section of memory files.
pub const INDEX_SECTION: &str = "Memory files";

/// What the dream's own topic memories hold, for their index lines.
pub fn describe(path: &str) -> Option<&'static str> {
    Some(match path {
        "/instructions.md" => "how the user wants things done: instructions and corrections",
        "/lessons.md" => "errors met before and the fixes that worked",
        "/facts.md" => "facts about the projects, stated more than once",
        "/glossary.md" => "what the projects' terms mean",
        "/notes.md" => "notes agents asked to remember (`remember`, over MCP or the API)",
        _ => return None,
    })
}

/// The entries of each memory (indices into `entries`), live or not, in entry order.
pub fn by_doc(docs: &[Doc], entries: &[Work]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); docs.len()];
    for (i, e) in entries.iter().enumerate() {
        if let Some(d) = e.doc
            && d < docs.len()
        {
            out[d].push(i);
        }
    }
    out
}

/// Renders every memory with its entries' changes; `None` for a memory left with no entries
/// that the dream created or emptied (it is not created, or it is deleted).
pub fn render(docs: &[Doc], entries: &[Work]) -> Vec<Option<String>> {
    let groups = by_doc(docs, entries);
    docs.iter()
        .enumerate()
        .map(|(d, doc)| render_doc(doc, entries, &groups[d]))
        .collect()
}

/// Renders one memory from the entries that are (or were) in it.
pub fn render_doc(doc: &Doc, entries: &[Work], members: &[usize]) -> Option<String> {
    if doc.protected {
        return Some(doc.original.clone());
    }
    let mut holders: BTreeMap<usize, usize> = BTreeMap::new();
    let mut appends: Vec<usize> = Vec::new();
    for &i in members {
        let e = &entries[i];
        if !e.is_live() {
            continue;
        }
        match e.block {
            Some(b) => {
                holders.insert(b, i);
            }
            None => appends.push(i),
        }
    }
    let parsed = doc.doc.entries();
    let mut edits = Vec::new();
    let mut kept = 0usize;
    for e in &parsed {
        match holders.get(&e.index) {
            None => edits.push(Edit::Remove { index: e.index }),
            Some(&i) => {
                kept += 1;
                if entries[i].meta.text != e.body {
                    edits.push(Edit::Replace {
                        index: e.index,
                        body: entries[i].meta.text.clone(),
                    });
                }
            }
        }
    }
    // New entries in order of section, then of when they were said, so that a memory reads
    // in the order things happened.
    appends.sort_by(|&a, &b| {
        let (x, y) = (&entries[a].meta, &entries[b].meta);
        (&x.section, x.first_seen, &x.text).cmp(&(&y.section, y.first_seen, &y.text))
    });
    for &i in &appends {
        kept += 1;
        edits.push(Edit::Append {
            section: entries[i].meta.section.clone(),
            body: entries[i].meta.text.clone(),
            item: entries[i].meta.kind != EntryKind::Manual,
        });
    }
    if kept == 0 && (doc.memory_id.is_none() || (!parsed.is_empty() && only_headings(&doc.doc))) {
        return None;
    }
    if edits.is_empty() {
        return Some(doc.original.clone());
    }
    let edited = doc
        .doc
        .apply(&edits)
        .expect("edits are built from the document's own entries");
    Some(edited.render())
}

/// Whether a document holds nothing but headings, blank lines and entries (so that with its
/// entries gone, nothing but empty headings would be left).
fn only_headings(doc: &Document) -> bool {
    doc.blocks().iter().all(|b| {
        matches!(
            b.kind,
            BlockKind::Heading(_)
                | BlockKind::Blank
                | BlockKind::Item
                | BlockKind::Paragraph
                | BlockKind::Code
        )
    })
}

/// The index lines the store's memories call for, at most `room` of them; `contents` are the
/// memories as they will be (a memory's first heading describes it).
pub fn index_lines(paths: &[&str], contents: &BTreeMap<&str, &str>, room: usize) -> Vec<String> {
    let line = |path: &str, what: Option<String>| {
        let rel = path.trim_start_matches('/');
        match what {
            Some(w) => format!("[{rel}]({rel}) — {w}"),
            None => format!("[{rel}]({rel})"),
        }
    };
    let describe_doc = |path: &str| -> Option<String> {
        describe(path).map(str::to_string).or_else(|| {
            let doc = Document::parse(contents.get(path)?);
            doc.blocks().iter().find_map(|b| match b.kind {
                BlockKind::Heading(_) => {
                    let t = b.raw.trim().trim_start_matches('#').trim();
                    (!t.is_empty()).then(|| t.to_string())
                }
                _ => None,
            })
        })
    };
    if paths.len() <= room {
        return paths.iter().map(|p| line(p, describe_doc(p))).collect();
    }
    // Too many to list: memories in folders are folded into one line per top-level folder.
    let mut folders: BTreeMap<String, usize> = BTreeMap::new();
    let mut files = Vec::new();
    for p in paths {
        match p.trim_start_matches('/').split_once('/') {
            Some((top, _)) => *folders.entry(format!("/{top}/")).or_default() += 1,
            None => files.push(*p),
        }
    }
    let mut lines: Vec<String> = files.iter().map(|p| line(p, describe_doc(p))).collect();
    for (folder, n) in &folders {
        lines.push(line(folder, Some(format!("{n} memories"))));
    }
    if lines.len() > room {
        let more = lines.len() - room.saturating_sub(1);
        lines.truncate(room.saturating_sub(1));
        lines.push(format!("… and {more} more (list the store to see them)"));
    }
    lines
}

/// Brings the index's section of memory files up to date with `rendered` (the memories as they
/// will be); records each line it adds or drops. Does nothing when the index is protected.
pub fn refresh_index(
    store_id: &str,
    dream_id: &str,
    budget: &Budget,
    docs: &mut Vec<Doc>,
    entries: &mut Vec<Work>,
    rendered: &[Option<String>],
    ops: &mut Vec<Op>,
) {
    let index_path = budget.index_path.as_str();
    let d = match docs.iter().position(|d| d.path == index_path) {
        Some(d) => d,
        None => {
            if rendered.iter().all(Option::is_none) {
                return;
            }
            docs.push(Doc {
                memory_id: None,
                path: index_path.to_string(),
                original: String::new(),
                doc: Document::parse(""),
                protected: false,
            });
            docs.len() - 1
        }
    };
    if docs[d].protected {
        return;
    }
    let mut paths: Vec<&str> = docs
        .iter()
        .zip(rendered.iter().chain(std::iter::repeat(&None)))
        .filter(|(doc, r)| doc.path != index_path && r.is_some())
        .map(|(doc, _)| doc.path.as_str())
        .collect();
    paths.sort();
    paths.dedup();
    // Room: the index's line budget, less what the rest of the index takes and the heading.
    let other_lines = docs[d]
        .doc
        .entries()
        .iter()
        .filter(|e| e.section.first().map(String::as_str) != Some(INDEX_SECTION))
        .map(|e| e.body.lines().count() + 1)
        .sum::<usize>();
    let room = (budget.index_max_lines as usize)
        .saturating_sub(other_lines + 4)
        .max(1);
    let contents: BTreeMap<&str, &str> = docs
        .iter()
        .zip(rendered.iter())
        .filter_map(|(doc, r)| r.as_deref().map(|c| (doc.path.as_str(), c)))
        .collect();
    let want: Vec<String> = index_lines(&paths, &contents, room);
    let want_set: BTreeSet<&str> = want.iter().map(String::as_str).collect();
    let section = vec![INDEX_SECTION.to_string()];

    let mut have: BTreeSet<String> = BTreeSet::new();
    for e in entries.iter_mut() {
        if !e.is_live() || e.doc != Some(d) || e.meta.section != section {
            continue;
        }
        if want_set.contains(e.meta.text.as_str()) {
            have.insert(e.meta.text.clone());
            e.meta.kind = EntryKind::Index;
            continue;
        }
        e.meta.state = EntryState::Archived;
        e.meta.dream_id = Some(dream_id.to_string());
        ops.push(Op {
            op: OpKind::Archive,
            entry_id: e.meta.id.clone(),
            path: e.meta.path.clone(),
            section: section.clone(),
            before: Some(e.meta.text.clone()),
            after: None,
            sources: Vec::new(),
            reason: "index line of a memory that is gone or listed another way".to_string(),
            evidence: Vec::new(),
            flags: Vec::new(),
        });
        e.doc = None;
    }
    for line in want.into_iter().filter(|l| !have.contains(l)) {
        let seed = format!("{store_id}\0index\0{line}");
        let id = derived_id(IdKind::Entry, seed.as_bytes());
        ops.push(Op {
            op: OpKind::Add,
            entry_id: id.clone(),
            path: index_path.to_string(),
            section: section.clone(),
            before: None,
            after: Some(line.clone()),
            sources: Vec::new(),
            reason: "index: a memory to read on demand".to_string(),
            evidence: Vec::new(),
            flags: Vec::new(),
        });
        entries.push(Work {
            meta: EntryMeta {
                dream_id: Some(dream_id.to_string()),
                ..EntryMeta::new(id, EntryKind::Index, index_path, section.clone(), &line)
            },
            doc: Some(d),
            block: None,
            original: None,
            fixed: false,
            dropped: false,
        });
    }
}

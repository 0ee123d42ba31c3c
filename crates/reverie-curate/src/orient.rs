//! Orient: the store's memories parsed into entries, each associated with the metadata the
//! store keeps for it.
//!
//! Memories are edited outside dreams — through the API, the memory tool, by hand — so the
//! text and the metadata drift apart. An entry is matched to its metadata by exact text in its
//! memory first, then by exact text anywhere (it moved), then by similarity (it was edited).
//! An entry nothing matches is new, written by hand; metadata that matches no text any more
//! belongs to an entry deleted outside a dream and is kept, archived, so nothing is lost.

use std::collections::{BTreeMap, BTreeSet};

use reverie_core::curation::{EntryKind, EntryMeta, EntryState};
use reverie_core::entry::{BlockKind, Document};

use crate::input::StoreSnapshot;
use crate::text;

/// Similarity at or above which an edited entry keeps the metadata of the text it replaced.
pub const REASSOCIATE: f64 = 0.5;

/// A memory being worked on.
#[derive(Debug, Clone)]
pub struct Doc {
    /// `None` for a memory the dream creates.
    pub memory_id: Option<String>,
    pub path: String,
    /// The content as read (empty for a new memory).
    pub original: String,
    pub doc: Document,
    /// The policy protects it: it stays byte-identical.
    pub protected: bool,
}

/// An entry being worked on.
#[derive(Debug, Clone)]
pub struct Work {
    pub meta: EntryMeta,
    /// The memory it is in (index into the docs), for a live entry.
    pub doc: Option<usize>,
    /// Its block in the document as read; `None` for an entry the dream adds.
    pub block: Option<usize>,
    /// The text as read, for an entry that was in a memory.
    pub original: Option<String>,
    /// In a protected memory, or pinned: the dream does not change it.
    pub fixed: bool,
    /// A candidate folded into another entry before it was ever stored: it leaves no trace but
    /// the evidence it gave.
    pub dropped: bool,
}

impl Work {
    /// Moves the entry out of the served memory for `dream_id`: its state, and the changeset's
    /// `archive` operation with `reason` and `evidence`.
    pub fn archive(
        &mut self,
        dream_id: &str,
        reason: String,
        evidence: Vec<reverie_core::curation::Evidence>,
    ) -> reverie_core::curation::Op {
        self.meta.state = EntryState::Archived;
        self.meta.dream_id = Some(dream_id.to_string());
        reverie_core::curation::Op {
            op: reverie_core::curation::OpKind::Archive,
            entry_id: self.meta.id.clone(),
            path: self.meta.path.clone(),
            section: self.meta.section.clone(),
            before: Some(self.meta.text.clone()),
            after: None,
            sources: Vec::new(),
            reason,
            evidence,
            flags: Vec::new(),
        }
    }

    /// In a memory (or about to be added to one).
    pub fn is_live(&self) -> bool {
        self.meta.state == EntryState::Live && !self.dropped
    }

    /// Added by this dream.
    pub fn is_new(&self) -> bool {
        self.original.is_none() && self.meta.state == EntryState::Live
    }
}

/// The store as the dream starts from.
#[derive(Debug, Clone)]
pub struct Oriented {
    pub docs: Vec<Doc>,
    /// Every entry: those in memories first (in path, then document order), then the store's
    /// archived and superseded ones, sorted by id.
    pub entries: Vec<Work>,
}

/// Parses the memories and associates their entries with the store's metadata.
pub fn orient(store: &StoreSnapshot) -> Oriented {
    let mut docs = Vec::with_capacity(store.memories.len());
    for m in &store.memories {
        docs.push(Doc {
            memory_id: Some(m.id.clone()),
            path: m.path.clone(),
            original: m.content.clone(),
            doc: Document::parse(&m.content),
            protected: store.policy.is_protected(&m.path),
        });
    }

    // Metadata of live entries, by path and by text, not yet claimed.
    let mut unclaimed: BTreeMap<&str, &EntryMeta> = BTreeMap::new();
    let mut by_path_text: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    let mut by_text: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in store.entries.iter().filter(|e| e.state == EntryState::Live) {
        unclaimed.insert(&e.id, e);
        by_path_text
            .entry((&e.path, &e.text))
            .or_default()
            .push(&e.id);
        by_text.entry(&e.text).or_default().push(&e.id);
    }

    struct Found {
        doc: usize,
        block: usize,
        section: Vec<String>,
        body: String,
    }
    let mut found = Vec::new();
    for (d, doc) in docs.iter().enumerate() {
        for e in doc.doc.entries() {
            found.push(Found {
                doc: d,
                block: e.index,
                section: e.section,
                body: e.body,
            });
        }
    }

    // Pass 1: exact text in the same memory; pass 2: exact text anywhere.
    let mut claim: Vec<Option<String>> = vec![None; found.len()];
    for (i, f) in found.iter().enumerate() {
        let path = docs[f.doc].path.as_str();
        if let Some(ids) = by_path_text.get(&(path, f.body.as_str()))
            && let Some(id) = ids.iter().find(|id| unclaimed.contains_key(*id))
        {
            claim[i] = Some(id.to_string());
            unclaimed.remove(*id);
        }
    }
    for (i, f) in found.iter().enumerate() {
        if claim[i].is_some() {
            continue;
        }
        if let Some(ids) = by_text.get(f.body.as_str())
            && let Some(id) = ids.iter().find(|id| unclaimed.contains_key(*id))
        {
            claim[i] = Some(id.to_string());
            unclaimed.remove(*id);
        }
    }
    // Pass 3: the most similar unclaimed metadata, same memory preferred, best pairs first.
    if !unclaimed.is_empty() {
        let mut pairs: Vec<(bool, u64, usize, String)> = Vec::new();
        for (i, f) in found.iter().enumerate() {
            if claim[i].is_some() {
                continue;
            }
            let path = docs[f.doc].path.as_str();
            for (id, meta) in &unclaimed {
                let sim = text::jaccard(&f.body, &meta.text);
                if sim >= REASSOCIATE {
                    // Sort key: same memory first, then higher similarity (as integer millionths
                    // so the order is total), then document order, then id.
                    let millionths = (sim * 1e6) as u64;
                    pairs.push((meta.path != path, u64::MAX - millionths, i, id.to_string()));
                }
            }
        }
        pairs.sort();
        let mut taken: BTreeSet<usize> = BTreeSet::new();
        for (_, _, i, id) in pairs {
            if taken.contains(&i) || !unclaimed.contains_key(id.as_str()) {
                continue;
            }
            claim[i] = Some(id.clone());
            taken.insert(i);
            unclaimed.remove(id.as_str());
        }
    }

    let metas: BTreeMap<&str, &EntryMeta> =
        store.entries.iter().map(|e| (e.id.as_str(), e)).collect();
    let mut entries = Vec::with_capacity(found.len() + store.entries.len());
    let mut used: BTreeSet<String> = BTreeSet::new();
    for (f, claimed) in found.into_iter().zip(claim) {
        let doc = &docs[f.doc];
        let mut meta = match claimed.as_deref().and_then(|id| metas.get(id)) {
            Some(m) => (*m).clone(),
            None => manual(&store.store_id, &doc.path, &f.body, &used),
        };
        used.insert(meta.id.clone());
        meta.state = EntryState::Live;
        meta.path = doc.path.clone();
        meta.section = f.section;
        meta.text = f.body.clone();
        let kind = doc.doc.blocks()[f.block].kind;
        debug_assert!(matches!(
            kind,
            BlockKind::Item | BlockKind::Paragraph | BlockKind::Code
        ));
        let fixed = doc.protected || meta.pinned;
        entries.push(Work {
            meta,
            doc: Some(f.doc),
            block: Some(f.block),
            original: Some(f.body),
            fixed,
            dropped: false,
        });
    }
    // Entries already out of the served memory, and those deleted outside a dream.
    for e in &store.entries {
        if used.contains(&e.id) {
            continue;
        }
        let mut meta = e.clone();
        if meta.state == EntryState::Live {
            meta.state = EntryState::Archived;
        }
        entries.push(Work {
            meta,
            doc: None,
            block: None,
            original: None,
            fixed: false,
            dropped: false,
        });
    }
    Oriented { docs, entries }
}

/// Metadata for an entry written outside a dream, its id derived from where and what it is.
fn manual(store_id: &str, path: &str, body: &str, used: &BTreeSet<String>) -> EntryMeta {
    let mut n = 0u32;
    let id = loop {
        let id = reverie_core::curation::manual_entry_id(store_id, path, body, n);
        if !used.contains(&id) {
            break id;
        }
        n += 1;
    };
    EntryMeta::new(id, EntryKind::Manual, path, Vec::new(), body)
}

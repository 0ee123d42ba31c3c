//! A proposal decided operation by operation: the store as the dream read it, with only the
//! operations a reviewer accepted, through the dream's own last stages again — the index
//! kept current, the budget, and the guard — so that what is applied is checked as a whole
//! dream's output is. Pure, like the pipeline: the caller loads the store and commits.
//!
//! Each accepted operation is replayed on the entries the store holds: an `add` puts the
//! proposed entry (its metadata as the proposal has it) at the end of its memory and section,
//! a `rewrite` changes the entry's text in place, a `merge`, `supersede` or `archive` takes it
//! out of the served memory. Index lines are not decided: the index is rebuilt from the
//! memories that result. A rejected operation stays in the changeset as a `keep` flagged
//! `rejected_in_review`, so the record says what was proposed and turned down.

use std::collections::BTreeSet;

use reverie_core::Timestamp;
use reverie_core::curation::{EntryKind, EntryMeta, EntryState, Op, OpKind, Stats};
use reverie_core::dream::error_kind;
use reverie_core::entry::Document;

use crate::assemble::INDEX_SECTION;
use crate::input::StoreSnapshot;
use crate::orient::{Doc, Work, orient};
use crate::pipeline::{DreamOutput, Failure, Worked, conclude, glossary_terms};

/// The flag a rejected operation carries in the changeset.
pub const REJECTED: &str = "rejected_in_review";

/// What a reviewer decides on: the proposal's operations and entries.
#[derive(Debug, Clone, Copy)]
pub struct Proposal<'a> {
    pub dream_id: &'a str,
    /// Every entry's metadata as the whole proposal would leave it.
    pub entries: &'a [EntryMeta],
    pub ops: &'a [Op],
    /// What the dream read (sessions, events, candidates), carried over.
    pub stats: &'a Stats,
}

/// Whether an operation acts on an index line (derived from the memories, never decided).
pub fn is_index(op: &Op, proposal: &Proposal<'_>, index_path: &str) -> bool {
    proposal
        .entries
        .iter()
        .find(|e| e.id == op.entry_id)
        .is_some_and(|e| e.kind == EntryKind::Index)
        || op.path == index_path && op.section.first().map(String::as_str) == Some(INDEX_SECTION)
}

/// The operations a reviewer can decide on: every one but index lines and `keep`s (held or
/// refused operations, which changed nothing).
pub fn decidable(proposal: &Proposal<'_>, index_path: &str) -> Vec<usize> {
    proposal
        .ops
        .iter()
        .enumerate()
        .filter(|(_, op)| op.op != OpKind::Keep && !is_index(op, proposal, index_path))
        .map(|(i, _)| i)
        .collect()
}

fn conflict(message: String) -> Failure {
    Failure::new(error_kind::INVALID_INPUT, message)
}

/// The output of `proposal` with only the operations at `accepted` (indices into its ops),
/// on `store` as the dream read it, at `now`.
pub fn accept(
    store: &StoreSnapshot,
    proposal: &Proposal<'_>,
    accepted: &BTreeSet<usize>,
    now: Timestamp,
) -> Result<DreamOutput, Failure> {
    let index_path = store.policy.budget.index_path.clone();
    let choosable = decidable(proposal, &index_path);
    if let Some(bad) = accepted.iter().find(|i| !choosable.contains(i)) {
        return Err(conflict(format!(
            "operation {bad} is not one to decide on: the proposal's operations to decide are {choosable:?}"
        )));
    }
    let oriented = orient(store);
    let terms = glossary_terms(&oriented.entries);
    let (mut docs, mut entries) = (oriented.docs, oriented.entries);
    let mut ops: Vec<Op> = Vec::new();
    let live =
        |entries: &[Work], id: &str| entries.iter().position(|e| e.meta.id == id && e.is_live());
    for (i, op) in proposal.ops.iter().enumerate() {
        if op.op == OpKind::Keep || is_index(op, proposal, &index_path) {
            if op.op == OpKind::Keep {
                ops.push(op.clone());
            }
            continue;
        }
        if !accepted.contains(&i) {
            let mut kept = op.clone();
            kept.op = OpKind::Keep;
            kept.reason = format!("rejected in review: {} ({})", op.reason, op.op.as_str());
            kept.flags.push(REJECTED.to_string());
            ops.push(kept);
            continue;
        }
        match op.op {
            OpKind::Add => {
                let text = op.after.clone().unwrap_or_default();
                let mut meta = proposal
                    .entries
                    .iter()
                    .find(|e| e.id == op.entry_id)
                    .cloned()
                    .unwrap_or_else(|| {
                        EntryMeta::new(
                            op.entry_id.clone(),
                            EntryKind::Fact,
                            &op.path,
                            op.section.clone(),
                            &text,
                        )
                    });
                meta.state = EntryState::Live;
                meta.path = op.path.clone();
                meta.section = op.section.clone();
                meta.text = text;
                meta.superseded_by = None;
                let d = match docs.iter().position(|d| d.path == op.path) {
                    Some(d) => d,
                    None => {
                        docs.push(Doc {
                            memory_id: None,
                            path: op.path.clone(),
                            original: String::new(),
                            doc: Document::parse(""),
                            protected: store.policy.is_protected(&op.path),
                        });
                        docs.len() - 1
                    }
                };
                entries.push(Work {
                    meta,
                    doc: Some(d),
                    block: None,
                    original: None,
                    fixed: false,
                    dropped: false,
                });
            }
            OpKind::Rewrite => {
                let Some(e) = live(&entries, &op.entry_id) else {
                    return Err(conflict(format!(
                        "operation {i} rewrites entry {}, which is not in the memory as the dream read it (was the add that made it rejected?)",
                        op.entry_id
                    )));
                };
                let w = &mut entries[e];
                w.meta.text = op.after.clone().unwrap_or_default();
                w.meta.dream_id = Some(proposal.dream_id.to_string());
            }
            OpKind::Merge | OpKind::Supersede | OpKind::Archive => {
                let Some(e) = live(&entries, &op.entry_id) else {
                    return Err(conflict(format!(
                        "operation {i} takes entry {} out of the memory, which does not hold it",
                        op.entry_id
                    )));
                };
                // A new entry that supersedes this one takes its place, as in the dream.
                if op.op == OpKind::Supersede
                    && let Some(k) = op.sources.first().and_then(|k| live(&entries, k))
                    && entries[k].block.is_none()
                {
                    let (doc, block) = (entries[e].doc, entries[e].block);
                    let (path, section) = (
                        entries[e].meta.path.clone(),
                        entries[e].meta.section.clone(),
                    );
                    let new = &mut entries[k];
                    (new.doc, new.block) = (doc, block);
                    (new.meta.path, new.meta.section) = (path, section);
                }
                let w = &mut entries[e];
                w.meta.state = match op.op {
                    OpKind::Supersede => EntryState::Superseded,
                    _ => EntryState::Archived,
                };
                if op.op != OpKind::Archive {
                    w.meta.superseded_by = op.sources.first().cloned();
                    w.doc = None;
                }
                w.meta.dream_id = Some(proposal.dream_id.to_string());
            }
            OpKind::Keep => {}
        }
        ops.push(op.clone());
    }
    let read = Stats {
        entries_before: proposal.stats.entries_before,
        sessions: proposal.stats.sessions,
        events: proposal.stats.events,
        candidates: proposal.stats.candidates,
        skipped: proposal.stats.skipped,
        ..Stats::default()
    };
    conclude(
        Worked {
            store,
            dream_id: proposal.dream_id,
            now,
            terms: &terms,
            docs,
            entries,
            ops,
        },
        read,
        None,
    )
}

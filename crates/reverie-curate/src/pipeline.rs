//! The dream's stages in order — orient, gather, consolidate, budget, guard — as one function
//! of its input. Committing the output is the caller's.

use std::collections::{BTreeMap, BTreeSet};

use reverie_core::content::sha256_hex;
use reverie_core::curation::{Changeset, EntryKind, EntryMeta, MemoryChange, Stats};
use reverie_core::dream::error_kind;

use crate::assemble;
use crate::budget;
use crate::consolidate::consolidate;
use crate::curator::{Curator, Known};
use crate::guard;
use crate::input::DreamInput;
use crate::orient::{Work, orient};

/// Why a dream fails: a code of [`reverie_core::dream::error_kind`] and a message naming the
/// problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct Failure {
    pub kind: &'static str,
    pub message: String,
}

impl Failure {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
        }
    }
}

/// One memory the dream writes: new content at a path, or a deletion (`content: None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryWrite {
    /// `None` for a memory the dream creates.
    pub memory_id: Option<String>,
    pub path: String,
    pub content: Option<String>,
}

/// What a dream produces.
#[derive(Debug, Clone, PartialEq)]
pub struct DreamOutput {
    /// The memories that change, sorted by path.
    pub writes: Vec<MemoryWrite>,
    /// Every entry's metadata as it will be, sorted by id.
    pub entries: Vec<EntryMeta>,
    pub changeset: Changeset,
}

/// Runs the dream's stages on `input`.
pub async fn dream(input: &DreamInput, curator: &dyn Curator) -> Result<DreamOutput, Failure> {
    let store = &input.store;
    store.policy.validate().map_err(|e| {
        Failure::new(
            error_kind::INVALID_INPUT,
            format!("the store's policy: {e}"),
        )
    })?;

    // Orient.
    let oriented = orient(store);
    let terms = glossary_terms(&oriented.entries);
    let live: Vec<&Work> = oriented.entries.iter().filter(|e| e.is_live()).collect();
    let known = Known {
        entries: live
            .iter()
            .map(|e| (e.meta.text.clone(), e.meta.path.clone()))
            .collect(),
        terms: terms.clone(),
        fixed: live.iter().map(|e| e.fixed || e.meta.pinned).collect(),
        sections: live.iter().map(|e| e.meta.section.clone()).collect(),
    };
    let entries_before = known.entries.len() as i64;

    // Gather.
    let extraction = curator
        .extract(input, &known)
        .await
        .map_err(|e| Failure::new(e.kind, format!("the curator: {e}")))?;
    let (mut candidates, archive_requests, run) =
        (extraction.candidates, extraction.archive, extraction.run);
    // Whatever the curator, a section is a heading to write: made writable, or left out (a
    // section named `#`, or two lines, would otherwise fail the edit at assembly).
    for c in &mut candidates {
        c.section = c
            .section
            .iter()
            .filter_map(|s| reverie_core::entry::heading_name(s))
            .collect();
    }
    let n_candidates = candidates.len() as i64;

    // Consolidate.
    let c = consolidate(input, oriented, candidates, &terms, curator)
        .await
        .map_err(|e| Failure::new(error_kind::INTERNAL, format!("the curator: {e}")))?;
    let (docs, mut entries, mut ops) = (c.docs, c.entries, c.ops);
    archive_requested(&input.dream_id, &archive_requests, &mut entries, &mut ops);

    // The sessions' events, also those the dream did not hold (`input::Condenser`).
    let events: usize = input
        .sessions
        .iter()
        .map(|s| (s.session.event_count.max(0) as usize).max(s.events.len()))
        .sum();
    let read = Stats {
        sessions: input.sessions.len() as i64,
        events: events as i64,
        candidates: n_candidates,
        skipped: crate::extract::unreadable(input) as i64,
        entries_before,
        ..Stats::default()
    };
    conclude(
        Worked {
            store,
            dream_id: &input.dream_id,
            now: input.now(),
            terms: &terms,
            docs,
            entries,
            ops,
        },
        read,
        run,
    )
}

/// What the stages before the budget left: the memories and entries as worked on, and the
/// operations so far.
pub(crate) struct Worked<'a> {
    pub store: &'a crate::input::StoreSnapshot,
    pub dream_id: &'a str,
    pub now: reverie_core::Timestamp,
    pub terms: &'a [String],
    pub docs: Vec<crate::orient::Doc>,
    pub entries: Vec<Work>,
    pub ops: Vec<reverie_core::curation::Op>,
}

/// The last stages, shared by a dream and a proposal decided operation by operation
/// ([`crate::review`]): the budget (with the index kept current), the memories written, the
/// changeset (`read`: what was read, the rest of its counts filled in here) and the guard.
pub(crate) fn conclude(
    w: Worked<'_>,
    read: Stats,
    run: Option<reverie_core::curation::CuratorRun>,
) -> Result<DreamOutput, Failure> {
    let Worked {
        store,
        dream_id,
        now,
        terms,
        mut docs,
        mut entries,
        mut ops,
    } = w;

    // Budget, with the index kept current: archiving can empty a memory, which changes the
    // index, which changes the budget; a few rounds settle it.
    let budget_policy = &store.policy.budget;
    // Texts the memory tests need some entry to hold: the budget archives them last.
    let required: Vec<&str> = store
        .policy
        .tests
        .iter()
        .filter_map(|t| match t {
            reverie_core::policy::MemoryTest::MustContain { text, .. } => Some(text.as_str()),
            reverie_core::policy::MemoryTest::Recall { expect, .. } => Some(expect.as_str()),
            reverie_core::policy::MemoryTest::MustNotContain { .. } => None,
        })
        .collect();
    let mut rendered = assemble::render(&docs, &entries);
    for _ in 0..4 {
        assemble::refresh_index(
            &store.store_id,
            dream_id,
            budget_policy,
            &mut docs,
            &mut entries,
            &rendered,
            &mut ops,
        );
        let before: Vec<bool> = assemble::render(&docs, &entries)
            .iter()
            .map(Option::is_some)
            .collect();
        rendered = budget::enforce(
            budget_policy,
            &required,
            dream_id,
            now,
            &docs,
            &mut entries,
            &mut ops,
        )?;
        let after: Vec<bool> = rendered.iter().map(Option::is_some).collect();
        if before == after {
            break;
        }
    }

    // The output, and what changed.
    let mut writes = Vec::new();
    let mut changes = Vec::new();
    let mut output: BTreeMap<&str, &str> = BTreeMap::new();
    for (doc, r) in docs.iter().zip(&rendered) {
        if let Some(content) = r {
            output.insert(&doc.path, content);
        }
        let existed = doc.memory_id.is_some();
        if existed && r.as_deref() == Some(doc.original.as_str()) || !existed && r.is_none() {
            continue;
        }
        writes.push(MemoryWrite {
            memory_id: doc.memory_id.clone(),
            path: doc.path.clone(),
            content: r.clone(),
        });
        changes.push(MemoryChange {
            memory_id: doc.memory_id.clone(),
            path_before: existed.then(|| doc.path.clone()),
            path_after: r.as_ref().map(|_| doc.path.clone()),
            sha256_before: existed.then(|| sha256_hex(&doc.original)),
            sha256_after: r.as_deref().map(sha256_hex),
            bytes_before: if existed {
                doc.original.len() as i64
            } else {
                0
            },
            bytes_after: r.as_ref().map_or(0, |s| s.len() as i64),
        });
    }
    writes.sort_by(|a, b| a.path.cmp(&b.path));
    changes.sort_by(|a, b| {
        a.path_after
            .as_ref()
            .or(a.path_before.as_ref())
            .cmp(&b.path_after.as_ref().or(b.path_before.as_ref()))
    });

    let metas = final_entries(&docs, entries.clone());
    let changeset = Changeset {
        base_revision: store.revision,
        ops,
        memories: changes,
        stats: Stats {
            entries_after: entries.iter().filter(|e| e.is_live()).count() as i64,
            bytes_before: store.memories.iter().map(|m| m.content.len() as i64).sum(),
            bytes_after: output.values().map(|c| c.len() as i64).sum(),
            budget_bytes: budget_policy.max_total_bytes as i64,
            ..read
        },
        curator: run,
    };

    // Guard.
    guard::check(store, &output, &entries, &changeset, terms)?;
    Ok(DreamOutput {
        writes,
        entries: metas,
        changeset,
    })
}

/// Archives the live entries a curator found obsolete. Fixed entries (pinned, or in protected
/// memories) stay whatever it asked; the curator's own guard has said so already.
fn archive_requested(
    dream_id: &str,
    requests: &[crate::curator::ArchiveRequest],
    entries: &mut [Work],
    ops: &mut Vec<reverie_core::curation::Op>,
) {
    for r in requests {
        let Some(e) = entries
            .iter_mut()
            .find(|e| e.is_live() && !e.fixed && e.meta.path == r.path && e.meta.text == r.text)
        else {
            continue;
        };
        ops.push(e.archive(dream_id, r.reason.clone(), r.evidence.clone()));
    }
}

/// The metadata to store: every entry but the candidates folded before being stored, with live
/// entries' places as they will be, sorted by id.
fn final_entries(docs: &[crate::orient::Doc], entries: Vec<Work>) -> Vec<EntryMeta> {
    let mut out: Vec<EntryMeta> = entries
        .into_iter()
        .filter(|e| !e.dropped)
        .map(|mut e| {
            if let (true, Some(d)) = (e.is_live(), e.doc) {
                e.meta.path = docs[d].path.clone();
            }
            e.meta
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    let mut seen = BTreeSet::new();
    out.retain(|e| seen.insert(e.id.clone()));
    out
}

/// The terms the store's glossary defines: live glossary entries (and entries of
/// `/glossary.md`) of the form `**term**: definition` or `**term** — definition`.
pub(crate) fn glossary_terms(entries: &[Work]) -> Vec<String> {
    let mut terms: Vec<String> = entries
        .iter()
        .filter(|e| {
            e.is_live()
                && (e.meta.kind == EntryKind::Glossary
                    || e.meta.path == reverie_core::curation::GLOSSARY_PATH)
        })
        .filter_map(|e| reverie_core::curation::glossary_term(&e.meta.text).map(str::to_string))
        .collect();
    terms.sort();
    terms.dedup();
    terms
}

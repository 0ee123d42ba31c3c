//! Guard: the output checked against the guarantees before anything is committed, by code
//! that does not trust the stages before it.
//!
//! - Protected memories are byte-identical, not deleted, not moved; pinned entries are still in
//!   their memory, byte for byte.
//! - The detail check: every load-bearing detail (number, identifier, path, URL, code span,
//!   quoted string, glossary term) of what a rewrite or merge started from is in what it ended
//!   with — unless the change is a recorded supersession by newer evidence.
//! - The budget holds.
//! - The policy's memory tests pass.
//!
//! Any violation fails the dream, naming it, and nothing changes.

use std::collections::{BTreeMap, BTreeSet};

use reverie_core::curation::{Changeset, EntryState, OpKind};
use reverie_core::dream::error_kind;
use reverie_core::entry::Document;
use reverie_core::policy::{MemoryTest, Policy};
use reverie_core::search;

use crate::input::StoreSnapshot;
use crate::orient::Work;
use crate::pipeline::Failure;
use crate::text;

/// The memories as the dream would leave them: path → content.
pub type Output<'a> = BTreeMap<&'a str, &'a str>;

/// Checks everything; the first violation is the error.
pub fn check(
    store: &StoreSnapshot,
    output: &Output<'_>,
    entries: &[Work],
    changeset: &Changeset,
    terms: &[String],
) -> Result<(), Failure> {
    protected(store, output)?;
    pinned(entries, output)?;
    details(changeset, entries, terms)?;
    budget(&store.policy, output)?;
    tests(&store.policy, output)?;
    Ok(())
}

fn protected(store: &StoreSnapshot, output: &Output<'_>) -> Result<(), Failure> {
    for m in store
        .memories
        .iter()
        .filter(|m| store.policy.is_protected(&m.path))
    {
        if output.get(m.path.as_str()) != Some(&m.content.as_str()) {
            return Err(Failure::new(
                error_kind::PROTECTED_CHANGED,
                format!("the protected memory {} would change", m.path),
            ));
        }
    }
    Ok(())
}

fn pinned(entries: &[Work], output: &Output<'_>) -> Result<(), Failure> {
    for e in entries.iter().filter(|e| e.meta.pinned) {
        let Some(original) = &e.original else {
            continue;
        };
        let still = e.meta.state == EntryState::Live
            && &e.meta.text == original
            && output.get(e.meta.path.as_str()).is_some_and(|content| {
                Document::parse(content)
                    .entries()
                    .iter()
                    .any(|x| &x.body == original)
            });
        if !still {
            return Err(Failure::new(
                error_kind::PROTECTED_CHANGED,
                format!(
                    "the pinned entry {} in {} would change or leave",
                    e.meta.id, e.meta.path
                ),
            ));
        }
    }
    Ok(())
}

fn details(changeset: &Changeset, entries: &[Work], terms: &[String]) -> Result<(), Failure> {
    let term_refs: Vec<&str> = terms.iter().map(String::as_str).collect();
    let by_id: BTreeMap<&str, &Work> = entries
        .iter()
        .filter(|e| !e.dropped)
        .map(|e| (e.meta.id.as_str(), e))
        .collect();
    // Where a merged entry's details ended up: follow what it was folded into until a live
    // entry, or an archived one (whose text the archive keeps); `Err(())` when the chain passes
    // a supersession (the details were contradicted).
    fn landed<'a>(
        by_id: &BTreeMap<&str, &'a Work>,
        mut id: &'a str,
    ) -> Result<Option<&'a str>, ()> {
        for _ in 0..=by_id.len() {
            let Some(e) = by_id.get(id).copied() else {
                return Ok(None);
            };
            if e.is_live() {
                return Ok(Some(e.meta.text.as_str()));
            }
            if e.meta.state == EntryState::Superseded {
                return Err(());
            }
            match e.meta.superseded_by.as_deref() {
                Some(next) => id = next,
                // Archived (by the budget, say): its text, kept in the archive, holds them.
                None => return Ok(Some(e.meta.text.as_str())),
            }
        }
        Ok(None)
    }
    for op in &changeset.ops {
        let (before, result) = match op.op {
            // A rewrite keeps the details of the text it replaces.
            OpKind::Rewrite => (op.before.as_deref(), op.after.as_deref()),
            // A merge folds an entry into one that must hold all its details.
            OpKind::Merge => match op.sources.first().map(|s| landed(&by_id, s)) {
                Some(Err(())) => continue,
                Some(Ok(text)) => (op.before.as_deref(), text),
                None => (op.before.as_deref(), None),
            },
            _ => continue,
        };
        let Some(before) = before else { continue };
        let Some(result) = result else {
            return Err(Failure::new(
                error_kind::DETAIL_LOST,
                format!(
                    "the {} of {} in {} leaves no entry holding its details",
                    op.op.as_str(),
                    op.entry_id,
                    op.path
                ),
            ));
        };
        let lost: BTreeSet<_> = text::details(before, &term_refs)
            .difference(&text::details(result, &term_refs))
            .cloned()
            .collect();
        if !lost.is_empty() {
            let names: Vec<String> = lost.iter().map(|d| format!("{:?}", d.text)).collect();
            return Err(Failure::new(
                error_kind::DETAIL_LOST,
                format!(
                    "the {} of {} in {} would drop {}",
                    op.op.as_str(),
                    op.entry_id,
                    op.path,
                    names.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn budget(policy: &Policy, output: &Output<'_>) -> Result<(), Failure> {
    let b = &policy.budget;
    let total: u64 = output.values().map(|c| c.len() as u64).sum();
    // A store over budget before the dream only because of protected memories is the budget
    // stage's error to report; here every limit must hold.
    if total > b.max_total_bytes {
        return Err(Failure::new(
            error_kind::BUDGET_UNSATISFIABLE,
            format!(
                "the output holds {total} bytes, over the budget of {}",
                b.max_total_bytes
            ),
        ));
    }
    for (path, content) in output {
        if content.len() as u64 > b.max_memory_bytes && !policy.is_protected(path) {
            return Err(Failure::new(
                error_kind::BUDGET_UNSATISFIABLE,
                format!(
                    "{path} would be {} bytes, over the {} allowed per memory",
                    content.len(),
                    b.max_memory_bytes
                ),
            ));
        }
    }
    Ok(())
}

/// Runs the policy's memory tests on `output`; the error names the first that fails.
pub fn tests(policy: &Policy, output: &Output<'_>) -> Result<(), Failure> {
    let mut corpus: Option<(Vec<String>, search::Bm25)> = None;
    for t in &policy.tests {
        let ok = match t {
            MemoryTest::MustContain { text, path, .. } => match path {
                Some(p) => output
                    .get(p.as_str())
                    .is_some_and(|c| c.contains(text.as_str())),
                None => output.values().any(|c| c.contains(text.as_str())),
            },
            MemoryTest::MustNotContain { text, path, .. } => match path {
                Some(p) => !output
                    .get(p.as_str())
                    .is_some_and(|c| c.contains(text.as_str())),
                None => !output.values().any(|c| c.contains(text.as_str())),
            },
            MemoryTest::Recall {
                query, expect, k, ..
            } => {
                let (docs, index) = corpus.get_or_insert_with(|| {
                    // Ranked as recall ranks them: an entry with the headings above it.
                    let entries: Vec<(Vec<String>, String)> = output
                        .values()
                        .flat_map(|c| {
                            Document::parse(c)
                                .entries()
                                .into_iter()
                                .map(|e| (e.section, e.body))
                        })
                        .collect();
                    let index = search::Bm25::new(
                        &entries
                            .iter()
                            .map(|(s, b)| search::document(s, b))
                            .collect::<Vec<_>>(),
                    );
                    let docs = entries.into_iter().map(|(_, b)| b).collect();
                    (docs, index)
                });
                index
                    .search(query, *k as usize)
                    .iter()
                    .any(|(i, _)| docs[*i].contains(expect.as_str()))
            }
        };
        if !ok {
            return Err(Failure::new(
                error_kind::MEMORY_TEST_FAILED,
                format!("memory test failed: {}", t.label()),
            ));
        }
    }
    Ok(())
}

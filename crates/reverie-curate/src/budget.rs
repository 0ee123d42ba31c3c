//! Budget: entries scored by usefulness; the least useful move to the archive until the store
//! fits its policy's budget — total bytes, bytes per memory, and the index's lines and bytes.
//!
//! Archived entries leave the served memory but not the store: their metadata keeps their
//! text, and the changeset records each one, so any can be restored. Pinned entries, entries of
//! protected memories and index lines are never archived; when they alone exceed the budget,
//! the dream fails with `budget_unsatisfiable` instead of breaking the budget.

use reverie_core::curation::{EntryKind, EntryState, Op};
use reverie_core::dream::error_kind;
use reverie_core::policy::Budget;
use reverie_core::timestamp::Timestamp;

use crate::assemble::{by_doc, render_doc};
use crate::orient::{Doc, Work};
use crate::pipeline::Failure;

/// How useful an entry is: higher stays longer.
///
/// Its kind sets a base (instructions and corrections, the user's own words, highest;
/// episodes of conversations lowest); each
/// success it was served in adds, each failure subtracts more; being served and being said in
/// more sessions add a little, logarithmically; evidence from the last week adds a point (what
/// the sessions just said should not be the first to go); age since it was last seen
/// subtracts, up to two points after half a year.
pub fn score(e: &Work, now: Timestamp) -> f64 {
    let m = &e.meta;
    let base = match m.kind {
        EntryKind::Instruction | EntryKind::Correction => 3.0,
        EntryKind::Lesson => 2.5,
        EntryKind::Manual | EntryKind::MemoryWrite | EntryKind::Glossary => 2.0,
        EntryKind::Fact => 1.5,
        // A record of what was said: the first to fade, oldest first.
        EntryKind::Episode => 1.0,
        EntryKind::Index => f64::INFINITY,
    };
    let sessions = {
        let mut ids: Vec<&str> = m.provenance.iter().map(|p| p.session_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    };
    let age_days = m.last_seen.map_or(0.0, |t| {
        ((now.micros() - t.micros()).max(0) as f64) / 86_400e6
    });
    let fresh = if m.last_seen.is_some() && age_days <= 7.0 {
        1.0
    } else {
        0.0
    };
    base + 2.0 * m.helpful as f64 - 3.0 * m.harmful as f64
        + (1.0 + m.served as f64).ln()
        + 0.5 * (1.0 + sessions as f64).ln()
        + fresh
        - (age_days / 90.0).min(2.0)
}

/// Archives the least useful entries until every limit holds; returns the memories as they
/// will be (`None`: not created, or deleted).
pub fn enforce(
    budget: &Budget,
    required: &[&str],
    dream_id: &str,
    now: Timestamp,
    docs: &[Doc],
    entries: &mut [Work],
    ops: &mut Vec<Op>,
) -> Result<Vec<Option<String>>, Failure> {
    let groups = by_doc(docs, entries);
    let mut rendered: Vec<Option<String>> = docs
        .iter()
        .enumerate()
        .map(|(d, doc)| render_doc(doc, entries, &groups[d]))
        .collect();
    let size = |r: &Option<String>| r.as_ref().map_or(0, |s| s.len() as u64);
    let index = docs.iter().position(|d| d.path == budget.index_path);

    // Candidates for the archive, least useful first (ties: older, then the one that says
    // less, then by text: ids are derived from the store's id, and a tie broken by them would
    // keep a different entry in another store fed the same sessions); entries holding a text
    // the store's memory tests require go last, so that a tight budget archives anything else
    // before what the tests need.
    let needed = |e: &Work| required.iter().any(|t| e.meta.text.contains(t));
    let order: Vec<usize> = {
        let mut keys: Vec<(bool, f64, Option<Timestamp>, &str, usize)> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| archivable(e))
            .map(|(i, e)| {
                (
                    needed(e),
                    score(e, now),
                    e.meta.last_seen,
                    e.meta.text.as_str(),
                    i,
                )
            })
            .collect();
        keys.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.1.total_cmp(&b.1))
                .then_with(|| a.2.cmp(&b.2))
                .then_with(|| a.3.len().cmp(&b.3.len()))
                .then_with(|| a.3.cmp(b.3))
                .then_with(|| entries[a.4].meta.id.cmp(&entries[b.4].meta.id))
        });
        keys.into_iter().map(|k| k.4).collect()
    };

    let archive = |i: usize, why: String, entries: &mut [Work], ops: &mut Vec<Op>| {
        ops.push(entries[i].archive(dream_id, why, Vec::new()));
    };

    // The candidates of each memory, least useful first.
    let mut by_doc: Vec<Vec<usize>> = vec![Vec::new(); docs.len()];
    for &i in &order {
        if let Some(d) = entries[i].doc {
            by_doc[d].push(i);
        }
    }
    // Per memory, then the index's own limits: the least useful entries of that memory go.
    for d in 0..docs.len() {
        let over = |r: &Option<String>| -> Option<String> {
            let bytes = size(r);
            if bytes > budget.max_memory_bytes {
                return Some(format!(
                    "{} is {bytes} bytes, over the {} allowed per memory",
                    docs[d].path, budget.max_memory_bytes
                ));
            }
            if Some(d) == index {
                let lines = r.as_ref().map_or(0, |s| s.lines().count()) as u64;
                if lines > budget.index_max_lines as u64 {
                    return Some(format!(
                        "the index {} has {lines} lines, over its {}",
                        docs[d].path, budget.index_max_lines
                    ));
                }
                if bytes > budget.index_max_bytes {
                    return Some(format!(
                        "the index {} is {bytes} bytes, over its {}",
                        docs[d].path, budget.index_max_bytes
                    ));
                }
            }
            None
        };
        let mut pending = std::mem::take(&mut by_doc[d]).into_iter();
        while let Some(why) = over(&rendered[d]) {
            let Some(i) = pending.next() else {
                return Err(Failure::new(
                    error_kind::BUDGET_UNSATISFIABLE,
                    format!(
                        "{why}, and what is left there is pinned, protected or index lines the dream may not archive"
                    ),
                ));
            };
            archive(
                i,
                format!("budget: {why}; the least useful entry there"),
                entries,
                ops,
            );
            rendered[d] = render_doc(&docs[d], entries, &groups[d]);
        }
    }

    // The whole store: the least useful entries anywhere go.
    let mut total: u64 = rendered.iter().map(size).sum();
    let mut pending = order.iter().copied();
    while total > budget.max_total_bytes {
        let Some(i) = pending.next() else {
            return Err(Failure::new(
                error_kind::BUDGET_UNSATISFIABLE,
                format!(
                    "the memories hold {total} bytes, over the budget of {}, and what is left is pinned, protected or index lines the dream may not archive",
                    budget.max_total_bytes
                ),
            ));
        };
        if entries[i].meta.state != EntryState::Live {
            continue;
        }
        let Some(d) = entries[i].doc else { continue };
        archive(
            i,
            format!(
                "budget: the memories held {total} bytes, over the {} allowed; the least useful entry",
                budget.max_total_bytes
            ),
            entries,
            ops,
        );
        let before = size(&rendered[d]);
        rendered[d] = render_doc(&docs[d], entries, &groups[d]);
        total = total - before + size(&rendered[d]);
    }
    Ok(rendered)
}

fn archivable(e: &Work) -> bool {
    e.is_live() && !e.fixed && e.meta.kind != EntryKind::Index
}

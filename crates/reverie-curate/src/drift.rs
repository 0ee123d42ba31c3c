//! Drift: what curation did to a store over time — which entries dreams removed, merged,
//! rewrote, superseded or archived, which load-bearing details went with them, and whether
//! anything load-bearing is no longer served.
//!
//! [`analyze`] is a pure function of a store's dreams (with their changesets), its entry
//! metadata and its policy; loading them is the caller's (`reverie drift`). The same inputs
//! give the same report, in the same order, whatever the backend.
//!
//! # What counts
//!
//! - **Dreams.** A completed dream *applied* to the store (an `update_existing` dream of it,
//!   or the `create_new` dream that made it) counts when it was applied after the `since`
//!   revision. A reverted one is listed with its operations but none of them counts. A
//!   proposal awaiting review is listed apart, as *pending*; rejected, failed and canceled
//!   dreams, and `create_new` dreams that wrote elsewhere, changed nothing here.
//! - **Lineages.** An entry followed through its rewrites, joined with what a merge folded it
//!   into and with what superseded it (from the changesets, and from `superseded_by` in the
//!   metadata for links made before the window). Index lines are derived from the memories
//!   and are only counted, never followed.
//! - **Details lost.** The load-bearing details ([`details`](crate::text::details())) of any
//!   text a lineage had in the window that none of its live texts holds now. Details only
//!   superseded entries ever held are reported apart, as *superseded*: a supersession by newer,
//!   contradicting evidence is the recorded exception of guarantee 4 (the old entry stays
//!   restorable), and alerting on every corrected port number would bury real losses.
//! - **Lost.** A lineage with no live entry (archived, or removed), or with details lost.
//! - **Load-bearing.** A lineage with a pinned entry, a text covered by a memory test
//!   (`must_contain` text, `recall` expectation), or an entry helpful in at least
//!   `min_helpful` successful sessions and more often helpful than harmful (an entry served
//!   mostly in failures being archived is curation working, not a loss).
//! - **Removed outside a dream.** An entry archived with no dream's operation removing it:
//!   its text was deleted by a person or an agent, and the next dream kept its metadata. Such
//!   entries cannot be dated from the metadata, so without ops in the window they are only
//!   reported over the whole history.
//!
//! # The report (`--json`)
//!
//! `DriftReport` serializes as: `store_id`, `since_revision` (null: whole history),
//! `min_helpful`, `summary` (counts), `dreams` (applied and reverted, by applied revision,
//! each with its operation counts and changes), `pending` (proposals awaiting review),
//! `lineages` (load-bearing losses first, then other losses, then the rest, each group in the
//! order of their first change) and `churn`; the types are in [`report`]. Field names only
//! ever gain siblings.
//!
//! `lineage.rs` follows the lineages and judges their losses; this module picks the dreams
//! and their window, and counts.

use std::collections::{BTreeMap, BTreeSet};

use reverie_core::curation::{Changeset, EntryKind, EntryMeta, EntryState, Op, OpKind};
use reverie_core::dream::{Dream, DreamStatus, OutputBehavior, ReviewState};
use reverie_core::policy::Policy;
use reverie_core::timestamp::Timestamp;

use crate::assemble::INDEX_SECTION;
use crate::curve::{FailureLog, Lessons};

pub mod chart;
mod lineage;
pub mod report;

pub use lineage::TextDetails;

pub use report::{
    Change, Churn, ChurnEntry, DreamDrift, DreamState, DriftReport, Lineage, LineageState,
    LoadBearing, Member, OpCounts, Step, Summary,
};

/// Helpful in one successful session is enough to make an entry load-bearing by default: the
/// counter only moves when the entry was actually served in a session that went well.
pub const DEFAULT_MIN_HELPFUL: i64 = 1;

/// A dream as drift reads it: the dream, and its changeset once it completed.
#[derive(Debug, Clone)]
pub struct DreamRecord {
    pub dream: Dream,
    /// Shared with the store's cache of parsed changesets.
    pub changeset: Option<std::sync::Arc<Changeset>>,
}

/// What [`analyze`] reads.
#[derive(Debug, Clone, Copy)]
pub struct DriftInput<'a> {
    pub store_id: &'a str,
    /// Every dream of the store's history, in any order (the window is applied here, since
    /// whether an archived entry was removed by a dream needs the whole history).
    pub dreams: &'a [DreamRecord],
    /// The store's entry metadata, now.
    pub entries: &'a [EntryMeta],
    pub policy: &'a Policy,
    /// Only dreams applied (or reverted) after this store revision count; `None`: all.
    pub since: Option<i64>,
    /// Helpful in at least this many successful sessions makes an entry load-bearing (at
    /// least 1).
    pub min_helpful: i64,
    /// The failures of the store's sessions ([`FailureLog::of`]), to tell which entries were
    /// lessons and whether their failure came back; `None` when the sessions were not read.
    pub failures: Option<&'a FailureLog>,
}

/// A dream applied to the store, with the revision it was applied as.
struct Applied<'a> {
    dream: &'a Dream,
    changeset: Option<&'a Changeset>,
    revision: i64,
}

impl Applied<'_> {
    fn ops(&self) -> impl Iterator<Item = &Op> {
        self.changeset.into_iter().flat_map(|c| &c.ops)
    }
}

/// The revision `d` wrote its result into `store_id` as: an `update_existing` dream of the
/// store, or the `create_new` dream that made it.
fn applied_revision(d: &Dream, store_id: &str) -> Option<i64> {
    if d.status != DreamStatus::Completed {
        return None;
    }
    let into_store = match &d.output_behavior {
        OutputBehavior::UpdateExisting { memory_store_id } => memory_store_id == store_id,
        OutputBehavior::CreateNew => d.outputs.iter().any(|o| o.memory_store_id == store_id),
    };
    d.applied_revision.filter(|_| into_store)
}

/// A proposal to change `store_id` that awaits review.
fn is_pending(d: &Dream, store_id: &str) -> bool {
    let updates_store = matches!(&d.output_behavior,
        OutputBehavior::UpdateExisting { memory_store_id } if memory_store_id == store_id);
    d.status == DreamStatus::Completed
        && d.applied_revision.is_none()
        && updates_store
        && d.review
            .as_ref()
            .is_some_and(|r| r.state == ReviewState::Pending)
}

/// When a dream's result was written: a proposal when it was approved, else when it ended.
fn applied_at(d: &Dream) -> Option<Timestamp> {
    match &d.review {
        Some(r) if r.state == ReviewState::Approved => r.decided_at.or(d.ended_at),
        _ => d.ended_at,
    }
}

/// Whether an operation acts on an index line: derived from the memories, never followed.
fn is_index(op: &Op, store: &lineage::Store<'_>) -> bool {
    match store.metas.get(op.entry_id.as_str()) {
        Some(m) => m.kind == EntryKind::Index,
        None => {
            op.path == store.policy.budget.index_path
                && op.section.first().map(String::as_str) == Some(INDEX_SECTION)
        }
    }
}

/// The glossary's terms as the dream's pipeline reads them (`**term**: definition` in live
/// glossary entries or `/glossary.md`), so that details are the ones the guard checked.
fn glossary_terms(entries: &[EntryMeta]) -> Vec<&str> {
    let mut terms: Vec<&str> = entries
        .iter()
        .filter(|e| {
            e.state == EntryState::Live
                && (e.kind == EntryKind::Glossary
                    || e.path == reverie_core::curation::GLOSSARY_PATH)
        })
        .filter_map(|e| {
            let (term, _) = e.text.strip_prefix("**")?.split_once("**")?;
            let term = term.trim();
            (!term.is_empty() && term.len() <= 80).then_some(term)
        })
        .collect();
    terms.sort_unstable();
    terms.dedup();
    terms
}

/// Analyzes a store's drift.
pub fn analyze(input: &DriftInput<'_>) -> DriftReport {
    analyze_with(input, &mut TextDetails::default())
}

/// [`analyze`], with the details of texts an earlier report of the same store computed
/// (`memo`, updated for the next): the same report, sooner.
pub fn analyze_with(input: &DriftInput<'_>, memo: &mut TextDetails) -> DriftReport {
    let mut applied: Vec<Applied<'_>> = input
        .dreams
        .iter()
        .filter_map(|r| {
            Some(Applied {
                revision: applied_revision(&r.dream, input.store_id)?,
                dream: &r.dream,
                changeset: r.changeset.as_deref(),
            })
        })
        .collect();
    applied.sort_by(|a, b| (a.revision, &a.dream.id).cmp(&(b.revision, &b.dream.id)));
    let after_since = |rev: Option<i64>| match (input.since, rev) {
        (None, _) => true,
        (Some(s), Some(r)) => r > s,
        (Some(_), None) => false,
    };
    // A dream is in the window when it was applied, or reverted, after `since`; it counts
    // when it is in the window and was not reverted.
    let in_window =
        |a: &Applied<'_>| after_since(Some(a.revision)) || after_since(a.dream.reverted_revision);
    let reverted = |a: &Applied<'_>| a.dream.reverted_revision.is_some();

    let no_failures = FailureLog::default();
    let failures = input.failures.unwrap_or(&no_failures);
    let unreverted = || applied.iter().filter(|a| !reverted(a));
    let lessons = Lessons::build(
        unreverted().filter_map(|a| {
            let at = applied_at(a.dream).unwrap_or(a.dream.created_at);
            Some((a.dream.id.as_str(), at, a.changeset?))
        }),
        failures,
    );
    let mut left_at: BTreeMap<&str, Timestamp> = BTreeMap::new();
    for a in unreverted() {
        let at = applied_at(a.dream).unwrap_or(a.dream.created_at);
        for op in a
            .ops()
            .filter(|op| matches!(op.op, OpKind::Archive | OpKind::Merge | OpKind::Supersede))
        {
            let t = left_at.entry(op.entry_id.as_str()).or_insert(at);
            *t = (*t).max(at);
        }
    }
    let store = lineage::Store {
        metas: input.entries.iter().map(|e| (e.id.as_str(), e)).collect(),
        policy: input.policy,
        min_helpful: input.min_helpful,
        terms: glossary_terms(input.entries),
        left_by_dream: left_at.keys().copied().collect(),
        left_at,
        lessons: lessons.by_entry(),
        failures,
    };

    let counted: Vec<lineage::Counted<'_>> = applied
        .iter()
        .filter(|a| in_window(a) && !reverted(a))
        .flat_map(|a| {
            a.ops().map(|op| lineage::Counted {
                dream_id: &a.dream.id,
                revision: a.revision,
                op,
            })
        })
        .filter(|c| c.op.op != OpKind::Keep && !is_index(c.op, &store))
        .collect();
    // Entries removed outside a dream carry no date: over the whole history only. An entry
    // last touched by a dream of another store (copied by `create_new`) is not ours to judge.
    let mut outside: Vec<&str> = Vec::new();
    if input.since.is_none() {
        let known: BTreeSet<&str> = applied.iter().map(|a| a.dream.id.as_str()).collect();
        outside = input
            .entries
            .iter()
            .filter(|e| {
                e.state == EntryState::Archived
                    && e.kind != EntryKind::Index
                    && !store.left_by_dream.contains(e.id.as_str())
                    && e.dream_id.as_deref().is_none_or(|d| known.contains(d))
            })
            .map(|e| e.id.as_str())
            .collect();
    }
    let lineages = lineage::follow(&store, &counted, &outside, memo);
    let lineage_of: lineage::Map<&str, &str> = lineages
        .iter()
        .flat_map(|l| {
            l.entries
                .iter()
                .map(move |m| (m.id.as_str(), l.id.as_str()))
        })
        .collect();

    let describe = |d: &Dream, rev: Option<i64>, state: DreamState, ops: Vec<&Op>| {
        let mut counts = OpCounts::default();
        let mut changes = Vec::with_capacity(ops.len());
        for op in ops {
            counts.count(op, is_index(op, &store));
            changes.push(Change {
                op: op.op,
                entry_id: op.entry_id.clone(),
                path: op.path.clone(),
                text: op.after.clone().or(op.before.clone()),
                lineage: lineage_of.get(op.entry_id.as_str()).map(|l| l.to_string()),
                flags: op.flags.clone(),
            });
        }
        DreamDrift {
            dream_id: d.id.clone(),
            state,
            base_revision: d.base_revision,
            applied_revision: rev,
            reverted_revision: d.reverted_revision,
            applied_at: rev.and_then(|_| applied_at(d)),
            ops: counts,
            changes,
        }
    };
    let dreams: Vec<DreamDrift> = applied
        .iter()
        .filter(|a| in_window(a))
        .map(|a| {
            let state = if reverted(a) {
                DreamState::Reverted
            } else {
                DreamState::Applied
            };
            describe(a.dream, Some(a.revision), state, a.ops().collect())
        })
        .collect();
    let mut pending: Vec<&DreamRecord> = input
        .dreams
        .iter()
        .filter(|r| is_pending(&r.dream, input.store_id))
        .collect();
    pending
        .sort_by(|a, b| (a.dream.created_at, &a.dream.id).cmp(&(b.dream.created_at, &b.dream.id)));
    let pending: Vec<DreamDrift> = pending
        .into_iter()
        .map(|r| {
            let ops = r.changeset.iter().flat_map(|c| &c.ops).collect();
            describe(&r.dream, None, DreamState::Pending, ops)
        })
        .collect();

    let churn = churn(&store, &lineages, &dreams);
    let mut summary = Summary {
        dreams_pending: pending.len(),
        lineages: lineages.len(),
        ..Summary::default()
    };
    for d in &dreams {
        if d.state == DreamState::Applied {
            summary.dreams_applied += 1;
            summary.ops.add_all(&d.ops);
        } else {
            summary.dreams_reverted += 1;
        }
    }
    for l in &lineages {
        summary.lost += usize::from(l.lost);
        summary.load_bearing_lost += usize::from(l.load_bearing_lost);
        summary.details_lost += l.details_lost.len();
        summary.removed_outside_dreams += usize::from(l.removed_outside_dreams);
        summary.regressions +=
            usize::from(l.lost && l.lessons.iter().any(|x| !x.recurred_after_loss.is_empty()));
    }
    DriftReport {
        store_id: input.store_id.to_string(),
        since_revision: input.since,
        min_helpful: input.min_helpful,
        summary,
        dreams,
        pending,
        lineages,
        churn,
    }
}

/// Work that did not last: entries added in the window and not live now, entries rewritten
/// twice or more, and how many operations the applied dreams made.
fn churn(store: &lineage::Store<'_>, lineages: &[Lineage], dreams: &[DreamDrift]) -> Churn {
    let mut churn = Churn::default();
    // In order of first rewrite; the map finds an entry's place without a scan.
    let mut rewritten: Vec<(&str, &Lineage, usize)> = Vec::new();
    let mut place: lineage::Map<&str, usize> = lineage::Map::default();
    for l in lineages {
        for s in &l.steps {
            match s.op {
                OpKind::Add
                    if store
                        .metas
                        .get(s.entry_id.as_str())
                        .is_none_or(|m| m.state != EntryState::Live) =>
                {
                    churn.added_then_removed.push(ChurnEntry {
                        entry_id: s.entry_id.clone(),
                        lineage: l.id.clone(),
                        count: 1,
                        text: s.after.clone().unwrap_or_default(),
                    });
                }
                OpKind::Rewrite => match place.get(s.entry_id.as_str()) {
                    Some(&i) => rewritten[i].2 += 1,
                    None => {
                        place.insert(&s.entry_id, rewritten.len());
                        rewritten.push((&s.entry_id, l, 1));
                    }
                },
                _ => {}
            }
        }
    }
    for (id, l, n) in rewritten.into_iter().filter(|r| r.2 > 1) {
        churn.rewritten_more_than_once.push(ChurnEntry {
            entry_id: id.to_string(),
            lineage: l.id.clone(),
            count: n,
            text: store
                .metas
                .get(id)
                .map(|m| m.text.clone())
                .unwrap_or_default(),
        });
    }
    let ops: Vec<usize> = dreams
        .iter()
        .filter(|d| d.state == DreamState::Applied)
        .map(|d| d.ops.total())
        .collect();
    churn.ops_per_dream_max = ops.iter().copied().max().unwrap_or(0);
    if !ops.is_empty() {
        // Rounded to hundredths, so that the figure prints the same everywhere.
        let mean = ops.iter().sum::<usize>() as f64 / ops.len() as f64;
        churn.ops_per_dream_mean = (mean * 100.0).round() / 100.0;
    }
    churn
}

#[cfg(test)]
mod tests {
    use reverie_core::dream::{DreamInput as Inputs, ModelConfig, Review, Usage};
    use reverie_core::policy::MemoryTest;

    use super::*;
    use crate::text::Detail;

    const S: &str = "memstore_01s";

    fn meta(id: &str, state: EntryState, text: &str) -> EntryMeta {
        EntryMeta {
            state,
            ..EntryMeta::new(
                id.into(),
                EntryKind::Instruction,
                "/notes.md",
                Vec::new(),
                text,
            )
        }
    }

    fn op(kind: OpKind, id: &str, before: Option<&str>, after: Option<&str>) -> Op {
        Op {
            op: kind,
            entry_id: id.into(),
            path: "/notes.md".into(),
            section: Vec::new(),
            before: before.map(Into::into),
            after: after.map(Into::into),
            sources: Vec::new(),
            reason: format!("{} for a test", kind.as_str()),
            evidence: Vec::new(),
            flags: Vec::new(),
        }
    }

    fn with_source(mut o: Op, source: &str) -> Op {
        o.sources = vec![source.into()];
        o
    }

    /// A completed `update_existing` dream of `S`, applied as `rev`.
    fn dream(id: &str, rev: i64, ops: Vec<Op>) -> DreamRecord {
        DreamRecord {
            dream: Dream {
                id: id.into(),
                archived_at: None,
                created_at: Timestamp(rev),
                ended_at: Some(Timestamp(rev * 1000)),
                error: None,
                inputs: vec![Inputs::MemoryStore {
                    memory_store_id: S.into(),
                }],
                instructions: None,
                model: ModelConfig {
                    id: "reverie-deterministic".into(),
                    speed: None,
                },
                output_behavior: OutputBehavior::UpdateExisting {
                    memory_store_id: S.into(),
                },
                outputs: Vec::new(),
                session_id: None,
                status: DreamStatus::Completed,
                usage: Usage::default(),
                review: None,
                base_revision: Some(rev - 1),
                applied_revision: Some(rev),
                reverted_revision: None,
            },
            changeset: Some(std::sync::Arc::new(Changeset {
                base_revision: rev - 1,
                ops,
                ..Changeset::default()
            })),
        }
    }

    fn run(dreams: &[DreamRecord], entries: &[EntryMeta], policy: &Policy) -> DriftReport {
        run_since(dreams, entries, policy, None)
    }

    fn run_since(
        dreams: &[DreamRecord],
        entries: &[EntryMeta],
        policy: &Policy,
        since: Option<i64>,
    ) -> DriftReport {
        analyze(&DriftInput {
            store_id: S,
            dreams,
            entries,
            policy,
            since,
            min_helpful: DEFAULT_MIN_HELPFUL,
            failures: None,
        })
    }

    /// A session brought in at `t` whose `cargo test` fails with a missing database URL.
    fn failing(id: &str, t: i64) -> crate::input::SessionInput {
        use crate::extract::util::build::{ran, session, user};
        let mut events = vec![user("run the tests")];
        events.extend(ran(
            "t1",
            "cargo test",
            "error: DATABASE_URL must be set for the integration tests",
            true,
        ));
        let mut s = session(id, events);
        s.session.created_at = Timestamp(t);
        s
    }

    /// A lesson about a failure, archived by a later dream, and the failure back in the next
    /// session: load-bearing, lost, and a regression; a failure while the lesson was in
    /// memory is not one.
    #[test]
    fn a_lost_lesson_whose_failure_came_back_is_a_regression() {
        let sessions = [failing("s1", 500), failing("s2", 1500), failing("s3", 2500)];
        let log = FailureLog::of(&sessions);
        let failed = crate::extract::failures(&sessions[0]);
        let sig = failed[0].signature.key();
        let mut add = op(OpKind::Add, "ent_a", None, Some("Set DATABASE_URL first."));
        add.evidence = vec![reverie_core::curation::Evidence {
            session_id: "s1".into(),
            seq: failed[0].result_seq.unwrap(),
            quote: String::new(),
        }];
        let add_other = op(OpKind::Add, "ent_b", None, Some("Use two spaces."));
        // Applied at 1,000 and 2,000 (a test dream ends at its revision × 1,000).
        let dreams = [
            dream("drm_01a", 1, vec![add, add_other]),
            dream(
                "drm_01b",
                2,
                vec![
                    op(
                        OpKind::Archive,
                        "ent_a",
                        Some("Set DATABASE_URL first."),
                        None,
                    ),
                    op(OpKind::Archive, "ent_b", Some("Use two spaces."), None),
                ],
            ),
        ];
        let entries = [
            meta("ent_a", EntryState::Archived, "Set DATABASE_URL first."),
            meta("ent_b", EntryState::Archived, "Use two spaces."),
        ];
        let policy = Policy::default();
        let input = DriftInput {
            store_id: S,
            dreams: &dreams,
            entries: &entries,
            policy: &policy,
            since: None,
            min_helpful: DEFAULT_MIN_HELPFUL,
            failures: Some(&log),
        };
        let r = analyze(&input);
        let a = r.lineages.iter().find(|l| l.id == "ent_a").unwrap();
        assert_eq!(
            a.lessons,
            vec![report::LessonOf {
                signature: sig.clone(),
                sessions: 3,
                recurred_after_loss: vec!["s3".into()],
            }]
        );
        assert!(a.load_bearing_lost);
        assert_eq!(
            a.load_bearing,
            vec![LoadBearing::Lesson {
                signature: sig,
                sessions: 3
            }]
        );
        let b = r.lineages.iter().find(|l| l.id == "ent_b").unwrap();
        assert!(b.lessons.is_empty() && b.lost && !b.load_bearing_lost);
        assert_eq!((r.summary.regressions, r.summary.load_bearing_lost), (1, 1));
        // Without the sessions, nothing is known of lessons: the same store as before.
        let blind = analyze(&DriftInput {
            failures: None,
            ..input
        });
        assert_eq!(
            (blind.summary.regressions, blind.summary.load_bearing_lost),
            (0, 0)
        );
        // The failure only while the lesson was in memory: a lesson, not a regression.
        let log = FailureLog::of(&sessions[..2]);
        let r = analyze(&DriftInput {
            failures: Some(&log),
            ..input
        });
        let a = r.lineages.iter().find(|l| l.id == "ent_a").unwrap();
        assert!(a.lessons[0].recurred_after_loss.is_empty());
        assert!(
            a.load_bearing_lost,
            "a repeated failure's lesson is load-bearing"
        );
        assert_eq!(r.summary.regressions, 0);
    }

    fn dream_ids(r: &DriftReport) -> Vec<&str> {
        r.dreams.iter().map(|d| d.dream_id.as_str()).collect()
    }

    fn texts(ds: &[Detail]) -> Vec<&str> {
        ds.iter().map(|d| d.text.as_str()).collect()
    }

    #[test]
    fn a_lineage_follows_rewrites_and_merges() {
        let dreams = [
            dream(
                "drm_01a",
                1,
                vec![
                    op(
                        OpKind::Add,
                        "ent_a",
                        None,
                        Some("Run tests with `cargo test`."),
                    ),
                    op(OpKind::Add, "ent_b", None, Some("Tests: `cargo test`.")),
                ],
            ),
            dream(
                "drm_01b",
                2,
                vec![op(
                    OpKind::Rewrite,
                    "ent_a",
                    Some("Run tests with `cargo test`."),
                    Some("Run tests with `cargo test`, then `cargo fmt`."),
                )],
            ),
            dream(
                "drm_01c",
                3,
                vec![with_source(
                    op(OpKind::Merge, "ent_b", Some("Tests: `cargo test`."), None),
                    "ent_a",
                )],
            ),
        ];
        let mut b = meta("ent_b", EntryState::Archived, "Tests: `cargo test`.");
        b.superseded_by = Some("ent_a".into());
        let entries = [
            meta(
                "ent_a",
                EntryState::Live,
                "Run tests with `cargo test`, then `cargo fmt`.",
            ),
            b,
        ];
        let r = run(&dreams, &entries, &Policy::default());
        assert_eq!(r.lineages.len(), 1, "{:#?}", r.lineages);
        let l = &r.lineages[0];
        assert_eq!(l.id, "ent_a");
        assert_eq!(l.state, LineageState::Live);
        assert_eq!(l.dreams, ["drm_01a", "drm_01b", "drm_01c"]);
        assert_eq!(l.first_text, "Run tests with `cargo test`.");
        assert_eq!(
            l.current_text.as_deref(),
            Some("Run tests with `cargo test`, then `cargo fmt`.")
        );
        let ids: Vec<&str> = l.entries.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["ent_a", "ent_b"]);
        // Every detail of every earlier text is in the live one.
        assert!(
            l.details_lost.is_empty() && !l.lost && !l.removed_outside_dreams,
            "{l:#?}"
        );
        assert_eq!(r.summary.ops.merge, 1);
        assert_eq!(r.summary.dreams_applied, 3);
        assert!(!r.has_load_bearing_loss());
        // Every change of every dream names its lineage.
        assert!(
            r.dreams
                .iter()
                .flat_map(|d| &d.changes)
                .all(|c| c.lineage.as_deref() == Some("ent_a"))
        );
    }

    #[test]
    fn details_no_live_text_holds_are_lost() {
        // A dream rewrote it keeping everything; then someone edited the text by hand and the
        // next dream re-associated the metadata with the shorter text.
        let dreams = [dream(
            "drm_01a",
            1,
            vec![op(
                OpKind::Rewrite,
                "ent_a",
                Some("Staging is on port 6543."),
                Some("Staging is on port 6543, behind `pgbouncer`."),
            )],
        )];
        let mut a = meta("ent_a", EntryState::Live, "Staging is behind `pgbouncer`.");
        a.helpful = 2;
        let r = run(&dreams, &[a.clone()], &Policy::default());
        let l = &r.lineages[0];
        assert_eq!(texts(&l.details_lost), ["6543"]);
        assert!(l.lost && l.load_bearing_lost, "{l:#?}");
        assert_eq!(r.summary.details_lost, 1);
        assert!(r.has_load_bearing_loss());
        // Not helpful enough for a stricter threshold: lost, but not load-bearing.
        let strict = analyze(&DriftInput {
            store_id: S,
            dreams: &dreams,
            entries: &[a.clone()],
            policy: &Policy::default(),
            since: None,
            min_helpful: 3,
            failures: None,
        });
        assert!(strict.lineages[0].lost && !strict.has_load_bearing_loss());
        // Served more often in failures than in successes: not load-bearing either.
        a.harmful = 2;
        assert!(!run(&dreams, &[a], &Policy::default()).has_load_bearing_loss());
    }

    #[test]
    fn a_supersession_is_recorded_but_not_a_loss_until_its_successor_goes() {
        let dreams = [dream(
            "drm_01a",
            1,
            vec![
                op(OpKind::Add, "ent_new", None, Some("Staging DB: port 6543.")),
                with_source(
                    op(
                        OpKind::Supersede,
                        "ent_old",
                        Some("Staging DB: port 5432."),
                        None,
                    ),
                    "ent_new",
                ),
            ],
        )];
        let mut old = meta("ent_old", EntryState::Superseded, "Staging DB: port 5432.");
        old.superseded_by = Some("ent_new".into());
        old.helpful = 4;
        let mut new = meta("ent_new", EntryState::Live, "Staging DB: port 6543.");
        let policy = Policy::default();
        let r = run(&dreams, &[new.clone(), old.clone()], &policy);
        assert_eq!(r.lineages.len(), 1);
        let l = &r.lineages[0];
        assert_eq!((l.id.as_str(), l.state), ("ent_new", LineageState::Live));
        assert_eq!(texts(&l.details_superseded), ["5432"]);
        assert!(l.details_lost.is_empty() && !l.lost, "{l:#?}");
        // The old entry was helpful, so the lineage is load-bearing — but nothing is lost.
        assert!(!l.load_bearing.is_empty() && !r.has_load_bearing_loss());

        // The successor archived by a later dream: now the content is gone.
        let mut dreams = dreams.to_vec();
        dreams.push(dream(
            "drm_01b",
            2,
            vec![op(
                OpKind::Archive,
                "ent_new",
                Some("Staging DB: port 6543."),
                None,
            )],
        ));
        new.state = EntryState::Archived;
        let r = run(&dreams, &[new, old], &policy);
        let l = &r.lineages[0];
        assert_eq!(
            (l.id.as_str(), l.state),
            ("ent_new", LineageState::Archived)
        );
        // `DB` was in both texts: the successor's going loses it too.
        assert_eq!(texts(&l.details_lost), ["6543", "DB"]);
        assert_eq!(texts(&l.details_superseded), ["5432"]);
        assert!(l.load_bearing_lost && r.has_load_bearing_loss());
        assert_eq!(l.dreams, ["drm_01a", "drm_01b"]);
    }

    #[test]
    fn pins_and_memory_tests_make_an_archived_entry_load_bearing() {
        let dreams = [dream(
            "drm_01a",
            1,
            vec![
                op(
                    OpKind::Archive,
                    "ent_a",
                    Some("Deploy with `./deploy.sh`."),
                    None,
                ),
                op(OpKind::Archive, "ent_b", Some("The cache is Redis."), None),
                op(OpKind::Archive, "ent_c", Some("Use 2 spaces."), None),
            ],
        )];
        let mut a = meta("ent_a", EntryState::Archived, "Deploy with `./deploy.sh`.");
        a.pinned = true;
        let entries = [
            a,
            meta("ent_b", EntryState::Archived, "The cache is Redis."),
            meta("ent_c", EntryState::Archived, "Use 2 spaces."),
        ];
        let policy = Policy {
            tests: vec![
                MemoryTest::Recall {
                    name: None,
                    query: "cache".into(),
                    expect: "Redis".into(),
                    k: 5,
                },
                // Scoped to another memory: it does not cover ent_c.
                MemoryTest::MustContain {
                    name: Some("indent".into()),
                    text: "2 spaces".into(),
                    path: Some("/style.md".into()),
                },
            ],
            ..Policy::default()
        };
        let r = run(&dreams, &entries, &policy);
        assert_eq!(r.summary.lost, 3);
        assert_eq!(r.summary.load_bearing_lost, 2);
        // Load-bearing losses first, each in order of appearance.
        let order: Vec<(&str, bool)> = r
            .lineages
            .iter()
            .map(|l| (l.id.as_str(), l.load_bearing_lost))
            .collect();
        assert_eq!(order, [("ent_a", true), ("ent_b", true), ("ent_c", false)]);
        assert_eq!(
            r.lineages[0].load_bearing,
            [LoadBearing::Pinned {
                entry_id: "ent_a".into()
            }]
        );
        assert_eq!(
            r.lineages[1].load_bearing,
            [LoadBearing::MemoryTest {
                test: "recall \"cache\" finds \"Redis\" in the top 5".into()
            }]
        );
        assert_eq!(r.lineages[0].state, LineageState::Archived);
        assert!(r.lineages[0].current_text.is_none());
    }

    #[test]
    fn reverted_pending_and_rejected_dreams_and_the_window() {
        let archive = |id: &str| op(OpKind::Archive, id, Some("Port 8080."), None);
        let mut reverted = dream("drm_01r", 2, vec![archive("ent_a")]);
        reverted.dream.reverted_revision = Some(3);
        let mut pending = dream("drm_01p", 0, vec![archive("ent_a")]);
        pending.dream.applied_revision = None;
        pending.dream.review = Some(Review {
            state: ReviewState::Pending,
            decided_at: None,
            decided_by: None,
        });
        let mut rejected = pending.clone();
        rejected.dream.id = "drm_01x".into();
        rejected.dream.review.as_mut().unwrap().state = ReviewState::Rejected;
        let mut elsewhere = dream("drm_01e", 4, vec![archive("ent_a")]);
        elsewhere.dream.output_behavior = OutputBehavior::CreateNew;
        let mut a = meta("ent_a", EntryState::Live, "Port 8080.");
        a.pinned = true;
        let entries = [a];
        let all = [
            dream(
                "drm_01a",
                1,
                vec![op(OpKind::Add, "ent_a", None, Some("Port 8080."))],
            ),
            reverted,
            pending,
            rejected,
            elsewhere,
        ];
        let r = run(&all, &entries, &Policy::default());
        let states: Vec<(&str, DreamState)> = r
            .dreams
            .iter()
            .map(|d| (d.dream_id.as_str(), d.state))
            .collect();
        assert_eq!(
            states,
            [
                ("drm_01a", DreamState::Applied),
                ("drm_01r", DreamState::Reverted)
            ]
        );
        assert_eq!(r.pending.len(), 1);
        assert_eq!(r.pending[0].dream_id, "drm_01p");
        assert_eq!(r.pending[0].ops.archive, 1);
        assert_eq!(
            (r.summary.dreams_reverted, r.summary.dreams_pending),
            (1, 1)
        );
        // The reverted archive is shown, but the lineage only holds the add, and nothing is lost.
        assert_eq!(r.dreams[1].changes[0].lineage.as_deref(), Some("ent_a"));
        assert_eq!(r.lineages.len(), 1);
        assert_eq!(r.lineages[0].steps.len(), 1);
        assert!(!r.has_load_bearing_loss());
        assert_eq!(r.summary.ops.archive, 0);

        // Since revision 1: the add is before the window; the revert (3) is inside it.
        let r = run_since(&all, &entries, &Policy::default(), Some(1));
        assert_eq!(r.dreams.len(), 1);
        assert_eq!(r.dreams[0].state, DreamState::Reverted);
        assert!(r.lineages.is_empty());
        // The `create_new` dream that made a store is part of that store's history.
        let mut origin = dream("drm_01o", 1, vec![archive("ent_a")]);
        origin.dream.output_behavior = OutputBehavior::CreateNew;
        origin.dream.outputs = vec![reverie_core::dream::DreamOutput {
            memory_store_id: S.into(),
        }];
        let r = run(&[origin], &entries, &Policy::default());
        assert_eq!(dream_ids(&r), ["drm_01o"]);
        assert_eq!(r.summary.ops.archive, 1);
        // Since revision 3: nothing happened.
        let r = run_since(&all, &entries, &Policy::default(), Some(3));
        assert!(r.dreams.is_empty() && r.lineages.is_empty());
        assert_eq!(
            r.pending.len(),
            1,
            "pending proposals are listed whatever the window"
        );
    }

    #[test]
    fn churn_and_index_lines() {
        let index_add = {
            let mut o = op(
                OpKind::Add,
                "ent_i",
                None,
                Some("[notes.md](notes.md) — Notes"),
            );
            o.path = "/MEMORY.md".into();
            o.section = vec![INDEX_SECTION.into()];
            o
        };
        let dreams = [
            dream(
                "drm_01a",
                1,
                vec![
                    op(OpKind::Add, "ent_a", None, Some("Use `pnpm`.")),
                    op(OpKind::Add, "ent_b", None, Some("Port 1.")),
                    index_add,
                ],
            ),
            dream(
                "drm_01b",
                2,
                vec![
                    op(
                        OpKind::Rewrite,
                        "ent_b",
                        Some("Port 1."),
                        Some("Port 1, always."),
                    ),
                    op(OpKind::Archive, "ent_a", Some("Use `pnpm`."), None),
                ],
            ),
            dream(
                "drm_01c",
                3,
                vec![op(
                    OpKind::Rewrite,
                    "ent_b",
                    Some("Port 1, always."),
                    Some("Port 1, always, in CI."),
                )],
            ),
        ];
        let entries = [
            meta("ent_a", EntryState::Archived, "Use `pnpm`."),
            meta("ent_b", EntryState::Live, "Port 1, always, in CI."),
        ];
        let r = run(&dreams, &entries, &Policy::default());
        assert_eq!(r.summary.ops.index, 1);
        assert_eq!(r.summary.ops.add, 2);
        assert!(
            r.lineages.iter().all(|l| l.id != "ent_i"),
            "index lines are not followed"
        );
        let added: Vec<&str> = r
            .churn
            .added_then_removed
            .iter()
            .map(|c| c.entry_id.as_str())
            .collect();
        assert_eq!(added, ["ent_a"]);
        assert_eq!(r.churn.rewritten_more_than_once.len(), 1);
        assert_eq!(r.churn.rewritten_more_than_once[0].entry_id, "ent_b");
        assert_eq!(r.churn.rewritten_more_than_once[0].count, 2);
        assert_eq!(r.churn.ops_per_dream_max, 3);
        assert_eq!(r.churn.ops_per_dream_mean, 2.0);
    }

    #[test]
    fn entries_removed_outside_a_dream_are_reported_over_the_whole_history() {
        let dreams = [dream(
            "drm_01a",
            1,
            vec![op(OpKind::Add, "ent_a", None, Some("Keep `v2` APIs."))],
        )];
        let mut a = meta("ent_a", EntryState::Archived, "Keep `v2` APIs.");
        a.dream_id = Some("drm_01a".into());
        let mut m = meta("ent_m", EntryState::Archived, "Written by hand: port 7.");
        m.pinned = true;
        // Archived by a dream of another store (copied by create_new): not ours to explain.
        let mut o = meta("ent_o", EntryState::Archived, "Elsewhere.");
        o.dream_id = Some("drm_01other".into());
        let entries = [a, m, o];
        let r = run(&dreams, &entries, &Policy::default());
        let found: Vec<(&str, bool, bool)> = r
            .lineages
            .iter()
            .map(|l| (l.id.as_str(), l.removed_outside_dreams, l.load_bearing_lost))
            .collect();
        assert_eq!(found, [("ent_m", true, true), ("ent_a", true, false)]);
        assert_eq!(r.lineages[0].first_text, "Written by hand: port 7.");
        assert_eq!(texts(&r.lineages[0].details_lost), ["7"]);
        assert_eq!(r.summary.removed_outside_dreams, 2);
        // With a window, only the lineages its dreams touched: none here.
        let r = run_since(&dreams, &entries, &Policy::default(), Some(1));
        assert!(r.lineages.is_empty() && !r.has_load_bearing_loss());
    }

    #[test]
    fn the_report_is_the_same_whatever_order_the_dreams_come_in() {
        let dreams = vec![
            dream(
                "drm_01a",
                1,
                vec![op(OpKind::Add, "ent_a", None, Some("A `x`."))],
            ),
            dream(
                "drm_01b",
                2,
                vec![op(OpKind::Archive, "ent_a", Some("A `x`."), None)],
            ),
        ];
        let entries = [meta("ent_a", EntryState::Archived, "A `x`.")];
        let one = run(&dreams, &entries, &Policy::default());
        let reversed: Vec<DreamRecord> = dreams.into_iter().rev().collect();
        let two = run(&reversed, &entries, &Policy::default());
        assert_eq!(
            serde_json::to_string(&one).unwrap(),
            serde_json::to_string(&two).unwrap()
        );
        let v = serde_json::to_value(&one).unwrap();
        for field in [
            "summary",
            "dreams",
            "pending",
            "lineages",
            "churn",
            "since_revision",
        ] {
            assert!(v.get(field).is_some(), "{field} is missing");
        }
        assert_eq!(v["lineages"][0]["state"], "archived");
        assert_eq!(v["lineages"][0]["details_lost"][0]["kind"], "code");
        assert_eq!(v["dreams"][1]["changes"][0]["op"], "archive");
    }

    /// Details kept from one report for the next give the same report as computed afresh,
    /// and are computed again when the glossary's terms change (a term is a detail only
    /// while the glossary defines it).
    #[test]
    fn kept_details_give_the_same_report() {
        let dreams = [
            dream(
                "drm_01a",
                1,
                vec![op(
                    OpKind::Add,
                    "ent_a",
                    None,
                    Some("Ask zephyr to deploy."),
                )],
            ),
            dream(
                "drm_01b",
                2,
                vec![op(
                    OpKind::Rewrite,
                    "ent_a",
                    Some("Ask zephyr to deploy."),
                    Some("Ask the bot to deploy."),
                )],
            ),
        ];
        let plain = [meta("ent_a", EntryState::Live, "Ask the bot to deploy.")];
        let mut glossary = meta("ent_g", EntryState::Live, "**zephyr**: the deploy bot");
        glossary.kind = EntryKind::Glossary;
        glossary.path = "/glossary.md".into();
        let defined = [plain[0].clone(), glossary];
        let policy = Policy::default();
        let input = |entries| DriftInput {
            store_id: S,
            dreams: &dreams,
            entries,
            policy: &policy,
            since: None,
            min_helpful: DEFAULT_MIN_HELPFUL,
            failures: None,
        };
        let lost = |r: &DriftReport| {
            r.lineages
                .iter()
                .find(|l| l.id == "ent_a")
                .map(|l| l.details_lost.clone())
                .unwrap()
        };
        // The scenario: the rewrite loses the term only while the glossary defines it.
        assert!(lost(&analyze(&input(&plain))).is_empty());
        assert!(!lost(&analyze(&input(&defined))).is_empty());

        let mut memo = TextDetails::default();
        for entries in [
            &plain[..],
            &plain[..],
            &defined[..],
            &defined[..],
            &plain[..],
        ] {
            assert_eq!(
                analyze_with(&input(entries), &mut memo),
                analyze(&input(entries))
            );
        }
    }
}

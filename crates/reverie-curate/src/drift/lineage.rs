//! Lineages: entries followed through what dreams did to them, and what each one lost.
//!
//! Entry ids are joined with a union-find: a merge joins the folded entry with the one it was
//! folded into, a supersession the old entry with the new, and `superseded_by` in the metadata
//! does the same for links made before the window. Nodes are numbered in order of first
//! appearance and a join keeps the earlier root, so the lineages and their order depend only
//! on the order of the operations, never on ids or on the order of joins.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use reverie_core::curation::{EntryMeta, EntryState, Op, OpKind};
use reverie_core::policy::{MemoryTest, Policy};

use reverie_core::timestamp::Timestamp;

use super::report::{LessonOf, Lineage, LineageState, LoadBearing, Member, Step};
use crate::curve::FailureLog;
use crate::text::{self, Detail};

/// Hash maps and sets keyed by ids and texts: looked up tens of thousands of times a report,
/// so with foldhash rather than SipHash (still seeded per process).
pub(super) type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub(super) type Set<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// What following lineages needs to know about the store now.
pub(super) struct Store<'a> {
    /// Looked up for every operation and member: hashed, the ids sharing their prefix.
    pub metas: Map<&'a str, &'a EntryMeta>,
    pub policy: &'a Policy,
    pub min_helpful: i64,
    pub terms: Vec<&'a str>,
    /// Entries some unreverted dream took out of the served memory, over the whole history.
    pub left_by_dream: Set<&'a str>,
    /// When the last unreverted dream that took each entry out of the memory was applied.
    pub left_at: BTreeMap<&'a str, Timestamp>,
    /// The signatures each entry was a lesson about, and the store's failures (empty when the
    /// sessions were not read).
    pub lessons: BTreeMap<&'a str, BTreeSet<&'a str>>,
    pub failures: &'a FailureLog,
}

impl<'a> Store<'a> {
    fn meta(&self, id: &str) -> Option<&'a EntryMeta> {
        self.metas.get(id).copied()
    }
}

/// An operation of a counted dream, with where it happened.
pub(super) struct Counted<'a> {
    pub dream_id: &'a str,
    pub revision: i64,
    pub op: &'a Op,
}

/// Entry ids joined into lineages, numbered in order of first appearance. The ids are
/// borrowed from the operations and the metadata: nothing is copied until a lineage is
/// written out.
#[derive(Default)]
struct Joins<'a> {
    ids: Vec<&'a str>,
    index: Map<&'a str, usize>,
    parent: Vec<usize>,
}

impl<'a> Joins<'a> {
    fn node(&mut self, id: &'a str) -> usize {
        if let Some(&i) = self.index.get(id) {
            return i;
        }
        let i = self.ids.len();
        self.ids.push(id);
        self.index.insert(id, i);
        self.parent.push(i);
        i
    }

    fn root(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    /// Joins two lineages; the earlier node stays the root.
    fn join(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.root(a), self.root(b));
        if ra != rb {
            self.parent[ra.max(rb)] = ra.min(rb);
        }
    }
}

/// A lineage's entry ids and operations, before it is judged.
type Group<'c, 'a> = (Vec<&'a str>, Vec<&'c Counted<'a>>);

/// The lineages of `ops` (in order; index lines and held operations already left out) and of
/// `outside` (entries removed outside a dream, with no operation), load-bearing losses first,
/// then other losses, then the rest, each group by first appearance.
pub(super) fn follow<'a>(
    store: &Store<'a>,
    ops: &[Counted<'a>],
    outside: &[&'a str],
    memo: &mut TextDetails,
) -> Vec<Lineage> {
    let mut joins = Joins::default();
    let mut nodes: Vec<usize> = Vec::with_capacity(ops.len());
    for c in ops {
        let op = c.op;
        let n = joins.node(&op.entry_id);
        if matches!(op.op, OpKind::Merge | OpKind::Supersede) {
            for s in &op.sources {
                let m = joins.node(s);
                joins.join(n, m);
            }
        }
        nodes.push(n);
    }
    // Links made before the window (or never in a changeset) still say where content went.
    let mut i = 0;
    while i < joins.ids.len() {
        if let Some(next) = store
            .meta(joins.ids[i])
            .and_then(|m| m.superseded_by.as_deref())
        {
            let m = joins.node(next);
            joins.join(i, m);
        }
        i += 1;
    }
    for id in outside {
        joins.node(id);
    }

    let mut groups: BTreeMap<usize, Group<'_, 'a>> = BTreeMap::new();
    for n in 0..joins.ids.len() {
        let r = joins.root(n);
        groups.entry(r).or_default().0.push(joins.ids[n]);
    }
    for (c, n) in ops.iter().zip(nodes) {
        let r = joins.root(n);
        groups.entry(r).or_default().1.push(c);
    }
    if memo.terms != store.terms {
        memo.terms = store.terms.iter().map(|t| t.to_string()).collect();
        memo.sets = Map::default();
    }
    let mut details = Details {
        terms: &store.terms,
        index: Map::default(),
        sets: Vec::new(),
        before: std::mem::take(&mut memo.sets),
        now: Map::default(),
    };
    let mut out: Vec<(usize, Lineage)> = groups
        .into_iter()
        .map(|(root, (ids, steps))| (root, describe(store, &mut details, &ids, &steps)))
        .collect();
    // What this report read is kept for the next; texts it no longer holds are dropped.
    memo.sets = details.now;
    out.sort_by_key(|(root, l)| (!l.load_bearing_lost, !l.lost, *root));
    out.into_iter().map(|(_, l)| l).collect()
}

/// The details of the texts a report read, kept for the next report of the same store by a
/// caller that makes many (a server): they are a pure function of the text and the glossary's
/// terms, and most texts of a history are the same from one report to the next.
#[derive(Debug, Default)]
pub struct TextDetails {
    terms: Vec<String>,
    sets: Map<String, Arc<BTreeSet<Detail>>>,
}

/// Details of texts, each computed once: a text is often in several steps.
struct Details<'t, 'a> {
    terms: &'t [&'t str],
    /// Where each text's details are in `sets`.
    index: Map<&'a str, usize>,
    sets: Vec<Arc<BTreeSet<Detail>>>,
    /// What the last report computed, and what this one read (kept for the next).
    before: Map<String, Arc<BTreeSet<Detail>>>,
    now: Map<String, Arc<BTreeSet<Detail>>>,
}

impl<'a> Details<'_, 'a> {
    /// Where the details of `t` are in `sets`, computed the first time any report saw `t`.
    fn learn(&mut self, t: &'a str) -> usize {
        let next = self.sets.len();
        let i = *self.index.entry(t).or_insert(next);
        if i == next {
            let (key, set) = self
                .before
                .remove_entry(t)
                .unwrap_or_else(|| (t.to_string(), Arc::new(text::details(t, self.terms))));
            self.sets.push(set.clone());
            self.now.insert(key, set);
        }
        i
    }
}

fn member(store: &Store<'_>, id: &str) -> Member {
    let m = store.meta(id);
    Member {
        id: id.to_string(),
        state: m.map(|m| m.state),
        kind: m.map(|m| m.kind),
        path: m.map(|m| m.path.clone()).unwrap_or_default(),
        pinned: m.is_some_and(|m| m.pinned),
        served: m.map_or(0, |m| m.served),
        helpful: m.map_or(0, |m| m.helpful),
        harmful: m.map_or(0, |m| m.harmful),
    }
}

/// One lineage: its state, texts, details lost, and why it is load-bearing.
fn describe<'a>(
    store: &Store<'a>,
    details: &mut Details<'_, 'a>,
    ids: &[&'a str],
    steps: &[&Counted<'a>],
) -> Lineage {
    let members: Vec<Member> = ids.iter().map(|id| member(store, id)).collect();
    let live: Vec<&Member> = members
        .iter()
        .filter(|m| m.state == Some(EntryState::Live))
        .collect();
    // The head: the last live entry; else where the content went last (an entry nothing
    // supersedes), so that a superseded entry does not stand for an archived successor.
    let head = live.last().copied().unwrap_or_else(|| {
        members
            .iter()
            .rev()
            .find(|m| store.meta(&m.id).is_some_and(|e| e.superseded_by.is_none()))
            .unwrap_or_else(|| members.last().expect("a lineage has an entry"))
    });
    let head_meta = store.meta(&head.id);
    let state = match (live.is_empty(), head.state) {
        (false, _) => LineageState::Live,
        (true, Some(EntryState::Superseded)) => LineageState::Superseded,
        (true, Some(_)) => LineageState::Archived,
        (true, None) => LineageState::Removed,
    };

    // Every text the lineage had in the window, with the entry and memory that had it; an
    // entry removed outside a dream has only its last text.
    let mut texts: Vec<(&'a str, &'a str, &'a str)> = Vec::new();
    for s in steps {
        for t in [&s.op.before, &s.op.after].into_iter().flatten() {
            texts.push((&s.op.entry_id, &s.op.path, t));
        }
    }
    let current: Vec<(&'a str, &'a str, &'a str)> = ids
        .iter()
        .filter_map(|id| store.meta(id))
        .map(|e| (e.id.as_str(), e.path.as_str(), e.text.as_str()))
        .collect();
    if steps.is_empty() {
        texts.extend(current.iter().copied());
    }
    let (details_lost, details_superseded) = lost_details(store, details, &texts, &live);

    let removed_outside_dreams = members.iter().any(|m| {
        m.state == Some(EntryState::Archived) && !store.left_by_dream.contains(m.id.as_str())
    });
    let lost = state != LineageState::Live || !details_lost.is_empty();
    let all_texts: Vec<(&str, &str)> = texts
        .iter()
        .chain(current.iter())
        .map(|(_, p, t)| (*p, *t))
        .collect();
    let lessons = lessons(store, &members, state);
    let mut load_bearing = load_bearing(store, &members, &all_texts);
    load_bearing.extend(
        lessons
            .iter()
            .filter(|l| l.sessions >= 2)
            .map(|l| LoadBearing::Lesson {
                signature: l.signature.clone(),
                sessions: l.sessions,
            }),
    );

    let mut seen: Set<&str> = Set::default();
    let dreams: Vec<String> = steps
        .iter()
        .filter(|s| seen.insert(s.dream_id))
        .map(|s| s.dream_id.to_string())
        .collect();
    let first_text = steps
        .first()
        .and_then(|s| s.op.before.clone().or(s.op.after.clone()))
        .or_else(|| head_meta.map(|m| m.text.clone()))
        .unwrap_or_default();
    let path = head_meta
        .map(|m| m.path.clone())
        .or_else(|| steps.last().map(|s| s.op.path.clone()))
        .unwrap_or_default();
    let steps = steps
        .iter()
        .map(|c| Step {
            dream_id: c.dream_id.to_string(),
            revision: c.revision,
            op: c.op.op,
            entry_id: c.op.entry_id.clone(),
            path: c.op.path.clone(),
            before: c.op.before.clone(),
            after: c.op.after.clone(),
            sources: c.op.sources.clone(),
            reason: c.op.reason.clone(),
        })
        .collect();
    Lineage {
        id: head.id.clone(),
        state,
        path,
        kind: head.kind,
        first_text,
        current_text: head_meta
            .filter(|m| m.state == EntryState::Live)
            .map(|m| m.text.clone()),
        dreams,
        steps,
        details_lost,
        details_superseded,
        removed_outside_dreams,
        lost,
        load_bearing_lost: lost && !load_bearing.is_empty(),
        load_bearing,
        entries: members,
        lessons,
    }
}

/// The failures a lineage's entries were lessons about; when it left the memory, the
/// sessions each failed in after it did.
fn lessons(store: &Store<'_>, members: &[Member], state: LineageState) -> Vec<LessonOf> {
    let signatures: BTreeSet<&str> = members
        .iter()
        .filter_map(|m| store.lessons.get(m.id.as_str()))
        .flatten()
        .copied()
        .collect();
    // Out of the memory since its last entry left (a lineage removed outside dreams is undated).
    let gone = (state != LineageState::Live)
        .then(|| {
            members
                .iter()
                .filter_map(|m| store.left_at.get(m.id.as_str()))
                .max()
        })
        .flatten();
    signatures
        .into_iter()
        .map(|sig| {
            let sessions = store.failures.sessions(sig);
            LessonOf {
                signature: sig.to_string(),
                sessions: sessions.len(),
                recurred_after_loss: sessions
                    .iter()
                    .filter(|(at, _)| gone.is_some_and(|g| *at > *g))
                    .map(|(_, id)| id.clone())
                    .collect(),
            }
        })
        .collect()
}

/// The details of `texts` that no live text holds: (lost, superseded). A detail only
/// superseded entries ever held went with a recorded supersession by newer evidence; any
/// other is lost. A detail found as two kinds (a code span that is also an identifier) is
/// reported once, as its first kind.
fn lost_details<'a>(
    store: &Store<'a>,
    details: &mut Details<'_, 'a>,
    texts: &[(&'a str, &'a str, &'a str)],
    live: &[&Member],
) -> (Vec<Detail>, Vec<Detail>) {
    let live: Vec<&'a str> = live
        .iter()
        .filter_map(|m| store.meta(&m.id))
        .map(|e| e.text.as_str())
        .collect();
    let had: Vec<(&str, usize)> = texts
        .iter()
        .map(|(owner, _, t)| (*owner, details.learn(t)))
        .collect();
    let live: Vec<usize> = live.iter().map(|t| details.learn(t)).collect();
    let sets = &details.sets;
    let mut owners: BTreeMap<&Detail, BTreeSet<&str>> = BTreeMap::new();
    for (owner, i) in had {
        for d in sets[i].iter() {
            owners.entry(d).or_default().insert(owner);
        }
    }
    let now: BTreeSet<&Detail> = live.iter().flat_map(|&i| sets[i].iter()).collect();
    let superseded = |id: &str| {
        store
            .meta(id)
            .is_some_and(|e| e.state == EntryState::Superseded)
    };
    let (mut lost, mut replaced) = (Vec::new(), Vec::new());
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (d, who) in owners {
        if now.contains(d) || !seen.insert(&d.text) {
            continue;
        }
        if who.iter().all(|o| superseded(o)) {
            replaced.push(d.clone());
        } else {
            lost.push(d.clone());
        }
    }
    (lost, replaced)
}

/// Why a lineage is load-bearing: a pinned entry, a memory test covering one of its texts,
/// an entry helpful often enough (and more often helpful than harmful).
fn load_bearing(store: &Store<'_>, members: &[Member], texts: &[(&str, &str)]) -> Vec<LoadBearing> {
    let mut why: Vec<LoadBearing> = members
        .iter()
        .filter(|m| m.pinned)
        .map(|m| LoadBearing::Pinned {
            entry_id: m.id.clone(),
        })
        .collect();
    for t in &store.policy.tests {
        let covered = match t {
            MemoryTest::MustContain { text, path, .. } => texts.iter().any(|(p, x)| {
                path.as_deref().is_none_or(|want| want == *p) && x.contains(text.as_str())
            }),
            MemoryTest::Recall { expect, .. } => {
                texts.iter().any(|(_, x)| x.contains(expect.as_str()))
            }
            MemoryTest::MustNotContain { .. } => false,
        };
        if covered {
            why.push(LoadBearing::MemoryTest { test: t.label() });
        }
    }
    if let Some(m) = members
        .iter()
        .filter(|m| m.helpful >= store.min_helpful.max(1) && m.helpful > m.harmful)
        .max_by_key(|m| m.helpful)
    {
        why.push(LoadBearing::Helpful {
            entry_id: m.id.clone(),
            helpful: m.helpful,
            harmful: m.harmful,
        });
    }
    why
}

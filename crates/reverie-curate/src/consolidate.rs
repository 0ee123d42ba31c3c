//! Consolidate: candidates and the store's entries folded into one consistent set.
//!
//! Entries about the same subject (similarity at least [`text::SAME_SUBJECT`], found with
//! LSH, verified exactly) are grouped. Within a group, from the newest statement to the
//! oldest, each entry is compared with those already kept:
//!
//! - its details are a subset of a kept entry's: it says nothing new, and is folded into the
//!   more specific one (evidence and counters carried over);
//! - a kept entry's details are a subset of its own: it is the more specific, and the kept one
//!   is folded into it — the store's entry keeps its id and place, and takes the more specific
//!   text;
//! - they disagree on a detail of the same kind (`port 5432` / `port 6543`, two different
//!   commands): the newer evidence wins and the older is superseded — recorded, restorable;
//! - otherwise both stay.
//!
//! Pinned entries and entries of protected memories are never folded away or superseded.

use std::collections::{BTreeMap, BTreeSet};

use reverie_core::curation::{
    EntryKind, EntryMeta, EntryState, Evidence, FLAG_HELD_FOR_REVIEW, Op, OpKind,
};
use reverie_core::id::{IdKind, derived_id};
use reverie_core::session::OutcomeStatus;
use reverie_core::timestamp::Timestamp;

use crate::candidate::Candidate;
use crate::curator::{Curator, CuratorError};
use crate::input::DreamInput;
use crate::orient::{Doc, Oriented, Work};
use crate::text::{self, Detail};

/// The consolidated entries and the operations that got them there.
#[derive(Debug)]
pub struct Consolidated {
    pub docs: Vec<Doc>,
    pub entries: Vec<Work>,
    pub ops: Vec<Op>,
}

/// The operations being recorded, with the adds indexed by entry id: candidates are added,
/// then folded, placed or reworded as consolidation goes, and a linear search of every
/// operation each time made a dream quadratic in its size.
#[derive(Debug, Default)]
pub struct Ops {
    list: Vec<Op>,
    adds: BTreeMap<String, usize>,
}

impl Ops {
    fn push(&mut self, op: Op) {
        if op.op == OpKind::Add {
            self.adds.insert(op.entry_id.clone(), self.list.len());
        }
        self.list.push(op);
    }

    /// The add of entry `id`, while it is still to be added.
    fn add_mut(&mut self, id: &str) -> Option<&mut Op> {
        let i = *self.adds.get(id)?;
        Some(&mut self.list[i])
    }

    /// Forgets the add of entry `id` (a candidate that will not be added).
    fn drop_add(&mut self, id: &str) {
        if let Some(i) = self.adds.remove(id) {
            // A tombstone, swept by `finish`.
            self.list[i].entry_id.clear();
        }
    }

    fn finish(self) -> Vec<Op> {
        self.list
            .into_iter()
            .filter(|o| !o.entry_id.is_empty())
            .collect()
    }
}

/// Details and time of an entry, computed once.
struct Facts {
    details: BTreeSet<Detail>,
    normalized: String,
    /// The newest evidence's time; `None` sorts as the oldest.
    at: Option<Timestamp>,
}

/// Folds `candidates` into the oriented store.
pub async fn consolidate(
    input: &DreamInput,
    oriented: Oriented,
    candidates: Vec<Candidate>,
    terms: &[String],
    curator: &dyn Curator,
) -> Result<Consolidated, CuratorError> {
    let Oriented {
        mut docs,
        mut entries,
    } = oriented;
    let mut ops = Ops::default();
    let dream_id = input.dream_id.clone();

    // Suspect candidates are held: recorded for a person to judge, never applied.
    let (suspects, candidates): (Vec<_>, Vec<_>) =
        candidates.into_iter().partition(Candidate::is_suspect);
    for c in suspects {
        let mut flags = c.flags.clone();
        flags.push(FLAG_HELD_FOR_REVIEW.to_string());
        ops.push(Op {
            op: OpKind::Keep,
            entry_id: candidate_id(&input.store.store_id, &c, 0),
            path: c.path.clone(),
            section: c.section.clone(),
            before: None,
            after: Some(c.text.clone()),
            sources: Vec::new(),
            reason: format!(
                "held, not applied: {} — its text came from tool output and reads as an instruction to the agent; add it by hand if a person judges it safe",
                c.reason
            ),
            evidence: c.evidence.clone(),
            flags,
        });
    }

    // Candidates saying exactly the same thing become one, with all their evidence.
    let mut by_text: BTreeMap<String, Candidate> = BTreeMap::new();
    for c in candidates {
        let key = text::normalize(&c.text);
        match by_text.get_mut(&key) {
            Some(kept) => {
                kept.evidence.extend(c.evidence);
                kept.evidence.sort();
                kept.evidence.dedup();
                kept.at = kept.at.max(c.at);
            }
            None => {
                by_text.insert(key, c);
            }
        }
    }
    let mut ids: BTreeSet<String> = entries.iter().map(|e| e.meta.id.clone()).collect();
    // New entries, placed in their memories (created as needed).
    let mut held_protected = Vec::new();
    let mut replacing: Vec<(usize, Vec<String>)> = Vec::new();
    let mut doc_of: BTreeMap<String, usize> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.path.clone(), i))
        .collect();
    for c in by_text.into_values() {
        let d = match doc_of.get(&c.path) {
            Some(&d) => d,
            None => {
                doc_of.insert(c.path.clone(), docs.len());
                docs.push(Doc {
                    memory_id: None,
                    path: c.path.clone(),
                    original: String::new(),
                    doc: reverie_core::entry::Document::parse(""),
                    protected: input.store.policy.is_protected(&c.path),
                });
                docs.len() - 1
            }
        };
        if docs[d].protected {
            held_protected.push(c);
            continue;
        }
        let mut n = 0;
        let id = loop {
            let id = candidate_id(&input.store.store_id, &c, n);
            if ids.insert(id.clone()) {
                break id;
            }
            n += 1;
        };
        let first = c.evidence.first().cloned();
        entries.push(Work {
            meta: EntryMeta {
                id,
                state: EntryState::Live,
                kind: c.kind,
                path: c.path.clone(),
                section: c.section.clone(),
                text: c.text.clone(),
                provenance: c.evidence.clone(),
                served: 0,
                helpful: 0,
                harmful: 0,
                first_seen: time_of(input, first.as_ref()).or(c.at),
                last_seen: c.at,
                superseded_by: None,
                pinned: false,
                dream_id: Some(dream_id.clone()),
            },
            doc: Some(d),
            block: None,
            original: None,
            fixed: false,
            dropped: false,
        });
        if !c.replaces.is_empty() {
            replacing.push((entries.len() - 1, c.replaces.clone()));
        }
        ops.push(Op {
            op: OpKind::Add,
            entry_id: entries.last().expect("just pushed").meta.id.clone(),
            path: c.path,
            section: c.section,
            before: None,
            after: Some(c.text),
            sources: Vec::new(),
            reason: c.reason,
            evidence: c.evidence,
            flags: c.flags,
        });
    }
    for c in held_protected {
        ops.push(Op {
            op: OpKind::Keep,
            entry_id: candidate_id(&input.store.store_id, &c, 0),
            path: c.path.clone(),
            section: c.section.clone(),
            before: None,
            after: Some(c.text.clone()),
            sources: Vec::new(),
            reason: format!("not added: {}, but {} is protected", c.reason, c.path),
            evidence: c.evidence,
            flags: vec![FLAG_HELD_FOR_REVIEW.to_string()],
        });
    }

    // Explicit replacements (a memory-tool `str_replace`): the replaced entries of the same
    // memory are superseded, whatever their details say.
    for (k, texts) in replacing {
        if !entries[k].is_live() {
            continue;
        }
        for t in texts {
            let key = text::normalize(&t);
            let target = (0..entries.len()).find(|&m| {
                m != k
                    && entries[m].is_live()
                    && entries[m].meta.path == entries[k].meta.path
                    && text::normalize(&entries[m].meta.text) == key
            });
            match target {
                Some(m) if entries[m].fixed => hold_against_fixed(&mut entries, k, m, &mut ops),
                Some(m) => supersede(
                    input,
                    &mut entries,
                    m,
                    k,
                    &mut ops,
                    "replaced by a later write to the same memory",
                ),
                None => {}
            }
        }
    }

    // Facts of every live entry, by entry index.
    let live: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].is_live())
        .collect();
    let mut facts: Vec<Option<Facts>> = (0..entries.len()).map(|_| None).collect();
    for &i in &live {
        facts[i] = Some(facts_of(&entries[i].meta, terms));
    }

    // Pairs of entries about the same subject: LSH candidates, verified by exact Jaccard over
    // shingles computed once, plus exact duplicates. Index lines are derived and episodes are
    // records of what was said when, not claims that a later one contradicts: neither is
    // paired.
    let pairable: Vec<usize> = live
        .iter()
        .copied()
        .filter(|&i| !matches!(entries[i].meta.kind, EntryKind::Index | EntryKind::Episode))
        .collect();
    let mut shingles: Vec<Vec<u64>> = vec![Vec::new(); entries.len()];
    let mut lsh = text::Lsh::new(text::SAME_SUBJECT);
    for &i in &pairable {
        let set = text::shingles(&entries[i].meta.text);
        lsh.insert(i, &text::signature_of(&set));
        shingles[i] = set.into_iter().collect();
    }
    let fact = |i: usize| facts[i].as_ref().expect("facts of a live entry");
    let mut pairs: Vec<(u64, usize, usize)> = Vec::new();
    for (a, b) in lsh.candidates_capped(MAX_BUCKET) {
        let sim = if fact(a).normalized == fact(b).normalized {
            1.0
        } else {
            jaccard(&shingles[a], &shingles[b])
        };
        if sim >= text::SAME_SUBJECT {
            pairs.push((u64::MAX - (sim * 1e6) as u64, a, b));
        }
    }
    let mut by_norm: BTreeMap<&str, usize> = BTreeMap::new();
    for &i in &pairable {
        match by_norm.get(fact(i).normalized.as_str()) {
            Some(&j) => pairs.push((u64::MAX - 1_000_000, j.min(i), j.max(i))),
            None => {
                by_norm.insert(&fact(i).normalized, i);
            }
        }
    }
    drop(by_norm);
    // The most similar first, so that exact duplicates fold before looser matches.
    pairs.sort_unstable();
    pairs.dedup();

    for (_, a, b) in pairs {
        if !entries[a].is_live() || !entries[b].is_live() {
            continue;
        }
        resolve_pair(
            input,
            &mut entries,
            &mut facts,
            a,
            b,
            &mut ops,
            terms,
            curator,
        )
        .await?;
    }

    count_servings(input, &docs, &mut entries);
    Ok(Consolidated {
        docs,
        entries,
        ops: ops.finish(),
    })
}

fn facts_of(e: &EntryMeta, terms: &[String]) -> Facts {
    let term_refs: Vec<&str> = terms.iter().map(String::as_str).collect();
    Facts {
        details: text::details(&e.text, &term_refs),
        normalized: text::normalize(&e.text),
        at: e.last_seen,
    }
}

/// In a bucket of more than this many near-identical entries (template-like notes), each is
/// paired with its next neighbours only, so that consolidation stays near-linear.
const MAX_BUCKET: usize = 8;

/// Exact Jaccard similarity of two sorted shingle lists (two empty ones are identical).
fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common as f64 / (a.len() + b.len() - common) as f64
}

/// Resolves one pair of entries about the same subject.
#[allow(clippy::too_many_arguments)]
async fn resolve_pair(
    input: &DreamInput,
    entries: &mut [Work],
    facts: &mut [Option<Facts>],
    a: usize,
    b: usize,
    ops: &mut Ops,
    terms: &[String],
    curator: &dyn Curator,
) -> Result<(), CuratorError> {
    // k is the newer; entries with no time (written by hand) count as oldest, and among
    // equals the one earlier in its memory counts as k (it survives an exact duplicate).
    // Candidates of one event tie on all of that: their texts decide, not their ids, which
    // are derived from the store's id (another store fed the same sessions would keep the
    // other).
    let fact = |i: usize| facts[i].as_ref().expect("facts of a live entry");
    let order = |x: usize| {
        (
            std::cmp::Reverse(fact(x).at),
            entries[x].doc,
            entries[x].block,
            entries[x].meta.text.as_str(),
        )
    };
    let a_first = order(a)
        .cmp(&order(b))
        .then_with(|| entries[a].meta.id.cmp(&entries[b].meta.id))
        .is_le();
    let (k, m) = if a_first { (a, b) } else { (b, a) };
    let (dm, dk) = (&fact(m).details, &fact(k).details);
    // The more specific of two agreeing entries survives; the other is folded into it. Texts
    // equal but for case or markup agree only if their details do (`EMBER_URL` is not
    // `ember_url`): a fold never drops a detail.
    let agreeing = if dm.is_subset(dk) {
        Some((k, m))
    } else if dk.is_subset(dm) {
        Some((m, k))
    } else {
        None
    };
    if let Some((survivor, absorbed)) = agreeing {
        if let Some(stays) = fold(input, entries, survivor, absorbed, ops, curator).await? {
            // The entry that stays may have taken another's text: its facts follow.
            facts[stays] = Some(facts_of(&entries[stays].meta, terms));
        }
        return Ok(());
    }
    // Only evidence with times can say which is newer; without, both stay.
    let newer = match (fact(k).at, fact(m).at) {
        (Some(tk), Some(tm)) => tk > tm,
        (Some(_), None) => true,
        _ => false,
    };
    if newer && contradicts(dm, dk) {
        if entries[m].fixed {
            hold_against_fixed(entries, k, m, ops);
        } else {
            supersede(input, entries, m, k, ops, "contradicted by newer evidence");
        }
    }
    Ok(())
}

/// Folds `absorbed` into `survivor`, the more specific; returns the entry that stays, or `None`
/// when the two must both stay (the one to fold away is pinned or protected).
async fn fold(
    input: &DreamInput,
    entries: &mut [Work],
    survivor: usize,
    absorbed: usize,
    ops: &mut Ops,
    curator: &dyn Curator,
) -> Result<Option<usize>, CuratorError> {
    if entries[absorbed].fixed {
        return Ok(None);
    }
    let (sid, aid) = (
        entries[survivor].meta.id.clone(),
        entries[absorbed].meta.id.clone(),
    );
    let merged = if entries[survivor].fixed {
        None
    } else {
        curator
            .merge(&[&entries[survivor].meta.text, &entries[absorbed].meta.text])
            .await?
    };
    match (entries[survivor].is_new(), entries[absorbed].is_new()) {
        (_, true) => {
            // A candidate the store (or another candidate) already says: it is not added.
            absorb(entries, absorbed, survivor);
            drop_add(ops, &aid);
            entries[absorbed].dropped = true;
            if let Some(text) = merged {
                set_text(
                    input,
                    entries,
                    survivor,
                    text,
                    ops,
                    "merged with what the sessions say about it",
                );
            }
            Ok(Some(survivor))
        }
        (true, false) => {
            // The store's entry takes the new, more specific text, and keeps its id and place.
            let text = merged.unwrap_or_else(|| entries[survivor].meta.text.clone());
            let evidence = entries[survivor].meta.provenance.clone();
            absorb(entries, survivor, absorbed);
            drop_add(ops, &sid);
            entries[survivor].dropped = true;
            let e = &mut entries[absorbed];
            let before = std::mem::replace(&mut e.meta.text, text.clone());
            e.meta.dream_id = Some(input.dream_id.clone());
            ops.push(Op {
                op: OpKind::Rewrite,
                entry_id: aid,
                path: e.meta.path.clone(),
                section: e.meta.section.clone(),
                before: Some(before),
                after: Some(text),
                sources: Vec::new(),
                reason: "the sessions say the same, more specifically".to_string(),
                evidence,
                flags: Vec::new(),
            });
            Ok(Some(absorbed))
        }
        (false, false) => {
            // Two entries of the store: the less specific leaves, recorded and restorable.
            absorb(entries, absorbed, survivor);
            let e = &mut entries[absorbed];
            e.meta.state = EntryState::Archived;
            e.meta.superseded_by = Some(sid.clone());
            e.meta.dream_id = Some(input.dream_id.clone());
            e.doc = None;
            ops.push(Op {
                op: OpKind::Merge,
                entry_id: aid,
                path: e.meta.path.clone(),
                section: e.meta.section.clone(),
                before: Some(e.meta.text.clone()),
                after: None,
                sources: vec![sid.clone()],
                reason: format!("folded into {sid}, which says the same and more"),
                evidence: Vec::new(),
                flags: Vec::new(),
            });
            if let Some(text) = merged {
                set_text(
                    input,
                    entries,
                    survivor,
                    text,
                    ops,
                    "merged with an entry about the same subject",
                );
            }
            Ok(Some(survivor))
        }
    }
}

/// Two entries about the same subject disagree when they differ in exactly one detail each,
/// of the same kind: the value (`port 5432` / `port 6543`, `cargo test` / `cargo nextest
/// run`), everything else the same. Entries that differ in more details are about different
/// things (`service 5 on port 7005` / `service 6 on port 7012`) and both stay: a wrong
/// supersession deletes what was true.
///
/// Details are compared as values: a detail inside another (the path in a code span, the
/// number in a URL) is part of that one, not a second difference.
fn contradicts(a: &BTreeSet<Detail>, b: &BTreeSet<Detail>) -> bool {
    let (a, b) = (values(a), values(b));
    let only_a: Vec<&&Detail> = a.difference(&b).collect();
    let only_b: Vec<&&Detail> = b.difference(&a).collect();
    only_a.len() == 1 && only_b.len() == 1 && only_a[0].kind == only_b[0].kind
}

/// The details that are not part of another detail of the same text.
fn values(set: &BTreeSet<Detail>) -> BTreeSet<&Detail> {
    set.iter()
        .filter(|d| {
            !set.iter().any(|e| {
                e != *d
                    && (e.text.len() > d.text.len() && e.text.contains(&d.text)
                        || e.text == d.text && e.kind > d.kind)
            })
        })
        .collect()
}

/// Moves `from`'s evidence and counters to `into`.
fn absorb(entries: &mut [Work], from: usize, into: usize) {
    let f = entries[from].meta.clone();
    let i = &mut entries[into].meta;
    i.provenance.extend(f.provenance);
    i.provenance.sort();
    i.provenance.dedup();
    i.served += f.served;
    i.helpful += f.helpful;
    i.harmful += f.harmful;
    i.first_seen = min_time(i.first_seen, f.first_seen);
    i.last_seen = i.last_seen.max(f.last_seen);
}

fn min_time(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Removes the add of a candidate that will not be added.
fn drop_add(ops: &mut Ops, id: &str) {
    ops.drop_add(id);
}

fn set_text(
    input: &DreamInput,
    entries: &mut [Work],
    i: usize,
    text: String,
    ops: &mut Ops,
    why: &str,
) {
    let e = &mut entries[i];
    if e.meta.text == text {
        return;
    }
    let before = std::mem::replace(&mut e.meta.text, text.clone());
    e.meta.dream_id = Some(input.dream_id.clone());
    if e.is_new() {
        // Not stored yet: its add carries the final text.
        if let Some(add) = ops.add_mut(&e.meta.id) {
            add.after = Some(text);
        }
        return;
    }
    ops.push(Op {
        op: OpKind::Rewrite,
        entry_id: e.meta.id.clone(),
        path: e.meta.path.clone(),
        section: e.meta.section.clone(),
        before: Some(before),
        after: Some(text),
        sources: Vec::new(),
        reason: why.to_string(),
        evidence: Vec::new(),
        flags: Vec::new(),
    });
}

/// The older `m` is superseded by the newer `k`; a new `k` takes `m`'s place in its memory.
fn supersede(
    input: &DreamInput,
    entries: &mut [Work],
    m: usize,
    k: usize,
    ops: &mut Ops,
    why: &str,
) {
    let (mid, kid) = (entries[m].meta.id.clone(), entries[k].meta.id.clone());
    let ktext = entries[k].meta.text.clone();
    let kev: Vec<Evidence> = entries[k].meta.provenance.clone();
    if entries[m].is_new() {
        // Two statements of the same sessions: only the newer is added.
        absorb(entries, m, k);
        drop_add(ops, &mid);
        entries[m].dropped = true;
        return;
    }
    if entries[k].is_new() {
        // The new statement takes the old one's place.
        entries[k].doc = entries[m].doc;
        entries[k].block = entries[m].block;
        entries[k].meta.path = entries[m].meta.path.clone();
        entries[k].meta.section = entries[m].meta.section.clone();
        if let Some(add) = ops.add_mut(&kid) {
            add.path = entries[m].meta.path.clone();
            add.section = entries[m].meta.section.clone();
            add.reason = format!("{} (supersedes {mid})", add.reason);
        }
    }
    let when = kev
        .last()
        .map(|e| format!(" ({} event {})", e.session_id, e.seq))
        .unwrap_or_default();
    let e = &mut entries[m];
    e.meta.state = EntryState::Superseded;
    e.meta.superseded_by = Some(kid.clone());
    e.meta.dream_id = Some(input.dream_id.clone());
    e.doc = None;
    ops.push(Op {
        op: OpKind::Supersede,
        entry_id: mid,
        path: e.meta.path.clone(),
        section: e.meta.section.clone(),
        before: Some(e.meta.text.clone()),
        after: None,
        sources: vec![kid],
        reason: format!("{why}{when}: {ktext}"),
        evidence: kev,
        flags: Vec::new(),
    });
}

/// The newer `k` contradicts `m`, which is pinned or protected: `m` stays as it is; a new `k`
/// is held for a person to decide rather than added beside what it contradicts.
fn hold_against_fixed(entries: &mut [Work], k: usize, m: usize, ops: &mut Ops) {
    let why = if entries[m].meta.pinned {
        "pinned"
    } else {
        "in a protected memory"
    };
    let kid = entries[k].meta.id.clone();
    if entries[k].is_new() {
        drop_add(ops, &kid);
        entries[k].dropped = true;
        ops.push(Op {
            op: OpKind::Keep,
            entry_id: kid,
            path: entries[m].meta.path.clone(),
            section: entries[m].meta.section.clone(),
            before: None,
            after: Some(entries[k].meta.text.clone()),
            sources: vec![entries[m].meta.id.clone()],
            reason: format!(
                "held, not added: it contradicts {}, which is {why}",
                entries[m].meta.id
            ),
            evidence: entries[k].meta.provenance.clone(),
            flags: vec![FLAG_HELD_FOR_REVIEW.to_string()],
        });
    }
}

/// An id for a new entry: derived from the store, its kind, text and first evidence.
fn candidate_id(store_id: &str, c: &Candidate, n: u32) -> String {
    let first = c.evidence.first();
    let seed = format!(
        "{store_id}\0{}\0{}\0{}\0{}\0{n}",
        c.kind.as_str(),
        text::normalize(&c.text),
        first.map_or("", |e| e.session_id.as_str()),
        first.map_or(0, |e| e.seq),
    );
    derived_id(IdKind::Entry, seed.as_bytes())
}

fn time_of(input: &DreamInput, e: Option<&Evidence>) -> Option<Timestamp> {
    let e = e?;
    let s = input
        .sessions
        .iter()
        .find(|s| s.session.id == e.session_id)?;
    s.events
        .iter()
        .find(|ev| ev.seq == e.seq)
        .and_then(|ev| ev.timestamp)
        .or(s.session.started_at)
}

/// Counters from the sessions' outcomes: every live entry served in a session counts, in a
/// session that succeeded as helpful, in one that failed as harmful. An entry was served in a
/// session when recall or context served it there (recorded), when the session viewed its
/// memory through the memory tool, or when it is in the index (loaded at the start of every
/// session). Recall and context bump `served` as they serve; the other two are counted here.
fn count_servings(input: &DreamInput, docs: &[Doc], entries: &mut [Work]) {
    let index = &input.store.policy.budget.index_path;
    let recorded: BTreeSet<(&str, &str)> = input
        .servings
        .iter()
        .map(|s| (s.session_id.as_str(), s.entry_id.as_str()))
        .collect();
    for s in &input.sessions {
        let viewed = crate::extract::viewed_paths(&s.events);
        let outcome = s.session.outcome.as_ref().map(|o| o.status);
        for e in entries
            .iter_mut()
            .filter(|e| e.is_live() && e.block.is_some())
        {
            let Some(d) = e.doc else { continue };
            let path = &docs[d].path;
            let served_here = recorded.contains(&(s.session.id.as_str(), e.meta.id.as_str()));
            let loaded = viewed.contains(path) || path == index;
            if !served_here && !loaded {
                continue;
            }
            if !served_here {
                e.meta.served += 1;
            }
            match outcome {
                Some(OutcomeStatus::Success) => e.meta.helpful += 1,
                Some(OutcomeStatus::Failure) => e.meta.harmful += 1,
                _ => {}
            }
        }
    }
}

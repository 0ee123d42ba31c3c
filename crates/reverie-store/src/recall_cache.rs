//! What a process keeps of the recall index between recalls: each store's decoded postings and
//! resolved members, for one generation of its index (`recall_base.generation`, drawn anew by
//! every merge and build). A recall reads the generation in its own snapshot and uses only what
//! was kept under that generation, so what is kept is never stale: it saves decoding and reads,
//! never a check. Long-lived processes (the server, MCP, a worker) keep the index warm this way.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use crate::dao_search::{CandidateRow, DirtyRow};
use crate::postings::Posting;

/// Postings kept over all stores; past this, a store's are dropped before more are kept.
const MAX_POSTINGS: usize = 4 << 20;
/// Members kept over all stores; past this, every store's are dropped before more are kept.
const MAX_MEMBERS: usize = 1 << 18;
/// Stores kept; past this, the least recently used goes.
const MAX_STORES: usize = 64;

/// A merged member, resolved: its memory, that memory's path, and when each block last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub memory_id: String,
    pub path: String,
    pub blocks: BTreeMap<u32, i64>,
}

/// A store's dirty memories as one revision of it reads them, with their indexed entries.
#[derive(Debug, Default)]
pub(crate) struct Dirty {
    pub rows: Vec<DirtyRow>,
    pub candidates: Vec<CandidateRow>,
}

#[derive(Default)]
struct Kept {
    generation: i64,
    used: u64,
    /// The dirty memories at a revision: a write that marks one bumps the store's revision,
    /// and anything else that changes them (a merge, a build) draws a new generation.
    dirty: Option<(i64, Arc<Dirty>)>,
    postings: HashMap<String, Arc<Vec<Posting>>>,
    postings_len: usize,
    members: HashMap<u32, Arc<Resolved>>,
}

/// The kept postings and members of every store this process recalled from.
#[derive(Default)]
pub(crate) struct RecallCache {
    stores: Mutex<(u64, HashMap<String, Kept>)>,
}

/// What is kept of the store at `generation`, anything kept under another forgotten.
fn kept<'a>(
    all: &'a mut (u64, HashMap<String, Kept>),
    store_id: &str,
    generation: i64,
) -> &'a mut Kept {
    let (clock, stores) = all;
    *clock += 1;
    if !stores.contains_key(store_id) && stores.len() >= MAX_STORES {
        let oldest = stores
            .iter()
            .min_by_key(|(_, k)| k.used)
            .map(|(id, _)| id.clone());
        if let Some(id) = oldest {
            stores.remove(&id);
        }
    }
    let kept = stores.entry(store_id.to_string()).or_default();
    if kept.generation != generation {
        *kept = Kept {
            generation,
            ..Kept::default()
        };
    }
    kept.used = *clock;
    kept
}

impl std::fmt::Debug for RecallCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecallCache").finish_non_exhaustive()
    }
}

impl RecallCache {
    fn with<T>(&self, store_id: &str, generation: i64, f: impl FnOnce(&mut Kept) -> T) -> T {
        let mut guard = self.stores.lock().unwrap_or_else(|e| e.into_inner());
        f(kept(&mut guard, store_id, generation))
    }

    /// The dirty memories kept for the store's `revision`.
    pub fn dirty(&self, store_id: &str, generation: i64, revision: i64) -> Option<Arc<Dirty>> {
        self.with(store_id, generation, |k| match &k.dirty {
            Some((r, d)) if *r == revision => Some(d.clone()),
            _ => None,
        })
    }

    pub fn keep_dirty(&self, store_id: &str, generation: i64, revision: i64, dirty: Arc<Dirty>) {
        self.with(store_id, generation, |k| k.dirty = Some((revision, dirty)));
    }

    /// The kept postings of `term`.
    pub fn postings(
        &self,
        store_id: &str,
        generation: i64,
        term: &str,
    ) -> Option<Arc<Vec<Posting>>> {
        self.with(store_id, generation, |k| k.postings.get(term).cloned())
    }

    /// Keeps `list` as the postings of `term`; when that would pass the bound over all stores,
    /// every store's kept postings are dropped first.
    pub fn keep_postings(
        &self,
        store_id: &str,
        generation: i64,
        term: &str,
        list: Arc<Vec<Posting>>,
    ) {
        if list.len() > MAX_POSTINGS {
            return;
        }
        let mut guard = self.stores.lock().unwrap_or_else(|e| e.into_inner());
        let total: usize = guard.1.values().map(|k| k.postings_len).sum();
        if total + list.len() > MAX_POSTINGS {
            for k in guard.1.values_mut() {
                k.postings.clear();
                k.postings_len = 0;
            }
        }
        let k = kept(&mut guard, store_id, generation);
        k.postings_len += list.len();
        if let Some(old) = k.postings.insert(term.to_string(), list) {
            k.postings_len -= old.len();
        }
    }

    /// The kept members of `ordinals`, and the ordinals not kept.
    pub fn members(
        &self,
        store_id: &str,
        generation: i64,
        ordinals: &[u32],
    ) -> (HashMap<u32, Arc<Resolved>>, Vec<u32>) {
        self.with(store_id, generation, |k| {
            let mut found = HashMap::new();
            let mut missing = Vec::new();
            for o in ordinals {
                match k.members.get(o) {
                    Some(m) => {
                        found.insert(*o, m.clone());
                    }
                    None => missing.push(*o),
                }
            }
            (found, missing)
        })
    }

    /// Keeps `members`; when that would pass the bound over all stores, every store's kept
    /// members are dropped first.
    pub fn keep_members(
        &self,
        store_id: &str,
        generation: i64,
        members: &HashMap<u32, Arc<Resolved>>,
    ) {
        let mut guard = self.stores.lock().unwrap_or_else(|e| e.into_inner());
        let total: usize = guard.1.values().map(|k| k.members.len()).sum();
        if total + members.len() > MAX_MEMBERS {
            for k in guard.1.values_mut() {
                k.members.clear();
            }
        }
        let k = kept(&mut guard, store_id, generation);
        for (o, m) in members {
            k.members.insert(*o, m.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(n: usize) -> Arc<Vec<Posting>> {
        Arc::new(vec![
            Posting {
                ordinal: 1,
                block: 0,
                tf: 1,
                len: 1
            };
            n
        ])
    }

    #[test]
    fn nothing_kept_under_one_generation_is_seen_under_another() {
        let c = RecallCache::default();
        c.keep_postings("s", 1, "cargo", list(2));
        assert_eq!(c.postings("s", 1, "cargo").unwrap().len(), 2);
        assert!(c.postings("s", 2, "cargo").is_none());
        // Asking under the new generation forgot the old one's.
        assert!(c.postings("s", 1, "cargo").is_none());
        assert!(c.postings("t", 1, "cargo").is_none());
        let m = Arc::new(Resolved {
            memory_id: "m".into(),
            path: "/a.md".into(),
            blocks: BTreeMap::from([(0, 5)]),
        });
        c.keep_members("s", 3, &HashMap::from([(7, m.clone())]));
        let (found, missing) = c.members("s", 3, &[7, 8]);
        assert_eq!((found[&7].clone(), missing), (m, vec![8]));
        assert!(c.members("s", 4, &[7]).0.is_empty());
    }

    #[test]
    fn what_is_kept_stays_within_its_bounds() {
        let c = RecallCache::default();
        for i in 0..MAX_STORES + 5 {
            c.keep_postings(&format!("s{i}"), 1, "t", list(1));
        }
        assert_eq!(c.stores.lock().unwrap().1.len(), MAX_STORES);
        // The first stores, used least recently, went.
        assert!(c.postings("s0", 1, "t").is_none());
        c.keep_postings("big", 1, "a", list(MAX_POSTINGS - 10));
        c.keep_postings("big", 1, "b", list(20));
        let total: usize = c
            .stores
            .lock()
            .unwrap()
            .1
            .values()
            .map(|k| k.postings_len)
            .sum();
        assert!(total <= MAX_POSTINGS, "{total}");
    }
}

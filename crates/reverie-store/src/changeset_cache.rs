//! Parsed changesets, kept for the next reader.
//!
//! Drift and the failure curve read every changeset of a store's history for each report, and
//! a page of the review UI is one report: on a store with 500 dreams that is 5 MB of JSON read
//! and parsed per request, most of a drift page's time. A changeset only changes with its
//! dream's row, and every write of a dream's row sets its `updated_at`; so a parsed changeset
//! is kept under its dream's id and `updated_at`, and a reader that finds the same
//! `updated_at` in the database uses it. The database stays the truth: each read asks it for
//! the versions first, and a changed dream is read again — in every process, so that several
//! workers on one PostgreSQL database agree.
//!
//! The cache is bounded by the changesets' size as stored, and forgets the least recently
//! used first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use reverie_core::curation::Changeset;

/// What the cache holds at most, in bytes of stored JSON (the parsed form is of the same
/// order): about 3,000 dreams of 26 operations.
pub(crate) const BUDGET_BYTES: usize = 32 << 20;

/// Changesets by dream id, each with the `updated_at` of the row it was read from.
pub(crate) struct ChangesetCache {
    budget: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    slots: HashMap<String, Slot>,
    bytes: usize,
    /// Ticks on every use, to find the least recently used slot.
    clock: u64,
}

struct Slot {
    version: i64,
    changeset: Arc<Changeset>,
    bytes: usize,
    used: u64,
}

impl ChangesetCache {
    pub(crate) fn new(budget: usize) -> ChangesetCache {
        ChangesetCache {
            budget,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The changeset of dream `id` as of `version` (its row's `updated_at`), if kept.
    pub(crate) fn get(&self, id: &str, version: i64) -> Option<Arc<Changeset>> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        let slot = inner.slots.get_mut(id).filter(|s| s.version == version)?;
        slot.used = now;
        Some(slot.changeset.clone())
    }

    /// Keeps dream `id`'s changeset as of `version`, `bytes` long as stored, in place of any
    /// other version of it; the least recently used go when the budget is exceeded.
    pub(crate) fn put(&self, id: &str, version: i64, changeset: Arc<Changeset>, bytes: usize) {
        let mut inner = self.lock();
        if let Some(old) = inner.slots.remove(id) {
            inner.bytes -= old.bytes;
        }
        if bytes > self.budget {
            return;
        }
        while inner.bytes + bytes > self.budget {
            let Some(oldest) = inner
                .slots
                .iter()
                .min_by_key(|(_, s)| s.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(s) = inner.slots.remove(&oldest) {
                inner.bytes -= s.bytes;
            }
        }
        inner.clock += 1;
        let used = inner.clock;
        inner.bytes += bytes;
        inner.slots.insert(
            id.to_string(),
            Slot {
                version,
                changeset,
                bytes,
                used,
            },
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The cache holds no invariant a panic could break halfway that matters: a poisoned
        // lock is taken as it is.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for ChangesetCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("ChangesetCache")
            .field("budget", &self.budget)
            .field("changesets", &inner.slots.len())
            .field("bytes", &inner.bytes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cs(base_revision: i64) -> Arc<Changeset> {
        Arc::new(Changeset {
            base_revision,
            ..Changeset::default()
        })
    }

    #[test]
    fn a_changeset_is_found_only_at_its_version() {
        let c = ChangesetCache::new(1000);
        c.put("drm_a", 5, cs(1), 10);
        assert_eq!(c.get("drm_a", 5).expect("kept").base_revision, 1);
        assert!(
            c.get("drm_a", 6).is_none(),
            "another version is not this one"
        );
        assert!(c.get("drm_b", 5).is_none());
        c.put("drm_a", 6, cs(2), 10);
        assert!(c.get("drm_a", 5).is_none(), "the newer version replaced it");
        assert_eq!(c.get("drm_a", 6).expect("kept").base_revision, 2);
        assert_eq!(c.lock().bytes, 10);
    }

    #[test]
    fn the_least_recently_used_go_first_and_the_budget_holds() {
        let c = ChangesetCache::new(30);
        c.put("drm_a", 1, cs(1), 10);
        c.put("drm_b", 1, cs(2), 10);
        c.put("drm_c", 1, cs(3), 10);
        assert!(c.get("drm_a", 1).is_some());
        c.put("drm_d", 1, cs(4), 10);
        assert!(c.get("drm_b", 1).is_none(), "b was the least recently used");
        for id in ["drm_a", "drm_c", "drm_d"] {
            assert!(c.get(id, 1).is_some(), "{id} stays");
        }
        c.put("drm_e", 1, cs(5), 25);
        assert!(c.lock().bytes <= 30);
        assert!(c.get("drm_e", 1).is_some());
        c.put("drm_f", 1, cs(6), 31);
        assert!(
            c.get("drm_f", 1).is_none(),
            "larger than the budget: not kept"
        );
        assert!(c.lock().bytes <= 30);
    }
}

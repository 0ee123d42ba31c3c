//! Writing a set of memory changes as versions of one revision.
//!
//! Every write path — the API's create/update/delete, restores, the memory tool — ends here, so
//! that the rules hold everywhere: one version per changed memory, the memory row and its
//! current version always agree, the search index holds every live memory as it now is, paths stay unique (moves go through a private placeholder path
//! first, so swaps and renames into a just-vacated path work), and the memory limit holds.

use reverie_core::content::sha256_hex;
use reverie_core::id::{IdKind, new_id};
use reverie_core::{Actor, Error, Operation, Result};

use super::Write;
use crate::backend::Backend;
use crate::dao::Dao;
use crate::rows::{MemoryRow, VersionRow};

/// A change to an existing memory: its row (with content) and what it becomes.
#[derive(Debug)]
pub(crate) struct Update {
    pub row: MemoryRow,
    pub path: String,
    pub content: String,
}

/// A memory that comes (back) into existence, with a fresh id or, for a restore, its old one.
#[derive(Debug)]
pub(crate) struct Create {
    pub memory_id: String,
    pub path: String,
    pub content: String,
}

/// The changes of one write.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub deletes: Vec<MemoryRow>,
    pub updates: Vec<Update>,
    pub creates: Vec<Create>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.deletes.is_empty() && self.updates.is_empty() && self.creates.is_empty()
    }
}

/// What [`apply`] wrote: the memory rows as they now are, in plan order (updates, creates).
#[derive(Debug, Default)]
pub(crate) struct Applied {
    pub rows: Vec<MemoryRow>,
}

/// What every version of one write shares.
struct Stamp<'a> {
    store_id: &'a str,
    revision: i64,
    now: i64,
    actor: &'a Actor,
}

impl Stamp<'_> {
    fn version(
        &self,
        memory_id: &str,
        op: Operation,
        path: &str,
        content: Option<&str>,
    ) -> VersionRow {
        VersionRow {
            seq: 0,
            id: new_id(IdKind::Version),
            store_id: self.store_id.to_string(),
            memory_id: memory_id.to_string(),
            revision: self.revision,
            operation: op.as_str().to_string(),
            path: Some(path.to_string()),
            content: content.map(|c| c.as_bytes().to_vec()),
            content_sha256: content.map(sha256_hex),
            content_size_bytes: content.map(|c| c.len() as i64),
            actor_type: Some(self.actor.kind().to_string()),
            actor_id: Some(self.actor.id().to_string()),
            created_at: self.now,
            redacted_at: None,
            redacted_by_type: None,
            redacted_by_id: None,
        }
    }
}

/// Writes `plan` inside the write `w`: keeps the store's memory count exact, checks its memory
/// limit when the plan adds memories, and refuses a memory that comes into existence at a taken
/// path.
pub(crate) async fn apply<B: Backend>(
    w: &mut Write<B>,
    plan: Plan,
    actor: &Actor,
) -> Result<Applied> {
    let store_id = w.store.id.clone();
    let now = w.now;
    let stamp = Stamp {
        store_id: &store_id,
        revision: w.store.revision,
        now,
        actor,
    };
    // The bump already counted what the caller expected; correct it to what the plan does.
    let delta = plan.creates.len() as i64 - plan.deletes.len() as i64;
    let correction = delta - w.counted;
    let conn: &mut B::Conn = &mut w.tx;
    if correction != 0 {
        conn.add_memory_count(&store_id, correction).await?;
        w.store.memory_count += correction;
        w.counted = delta;
    }
    if delta > 0 && w.store.memory_count > w.store.max_memories {
        return Err(Error::StoreFull {
            store_id,
            limit: w.store.max_memories,
        });
    }

    for row in &plan.deletes {
        let v = stamp.version(&row.id, Operation::Deleted, &row.path, None);
        conn.insert_version(&v).await?;
        conn.delete_memory(&store_id, &row.id).await?;
        super::search::reindex(conn, &store_id, &row.id, None, now).await?;
    }
    for u in plan.updates.iter().filter(|u| u.path != u.row.path) {
        // A placeholder no valid path can equal, so that moves never collide mid-way.
        conn.set_memory_path(&store_id, &u.row.id, &format!("\u{1}{}", u.row.id))
            .await?;
    }
    let mut applied = Applied::default();
    for u in plan.updates {
        let v = stamp.version(&u.row.id, Operation::Modified, &u.path, Some(&u.content));
        super::search::reindex(conn, &store_id, &u.row.id, Some(&u.content), now).await?;
        let row = MemoryRow {
            path: u.path,
            content_sha256: v.content_sha256.clone().expect("live versions have a sha"),
            content_size_bytes: u.content.len() as i64,
            content: Some(u.content.into_bytes()),
            version_id: v.id.clone(),
            updated_at: now,
            ..u.row
        };
        conn.update_memory_and_version(&row, &v).await?;
        applied.rows.push(row);
    }
    for c in plan.creates {
        let v = stamp.version(&c.memory_id, Operation::Created, &c.path, Some(&c.content));
        // In the write's transaction: if the memory cannot go in, this goes too.
        super::search::reindex(conn, &store_id, &c.memory_id, Some(&c.content), now).await?;
        let row = MemoryRow {
            id: c.memory_id,
            store_id: store_id.clone(),
            path: c.path,
            content_sha256: v.content_sha256.clone().expect("live versions have a sha"),
            content_size_bytes: c.content.len() as i64,
            content: Some(c.content.into_bytes()),
            version_id: v.id.clone(),
            created_at: now,
            updated_at: now,
        };
        if !conn.insert_memory_and_version(&row, &v).await? {
            let existing = conn.memory_by_path(&store_id, &row.path, false).await?;
            return Err(Error::PathConflict {
                path: row.path,
                existing_id: existing.map_or_else(|| "(unknown)".into(), |m| m.id),
            });
        }
        applied.rows.push(row);
    }
    super::recall_index::merge_if_due(conn, &store_id).await?;
    Ok(applied)
}

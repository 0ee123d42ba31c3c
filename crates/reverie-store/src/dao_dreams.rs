//! The queries of curation — policies, entry metadata, dreams — written once and instantiated
//! for both backends like `dao.rs`.

use async_trait::async_trait;
use reverie_core::Result;

use crate::rows::MemoryRow;
use crate::rows_dreams::{DreamRow, EntryRow};

/// Filters of a dream listing.
#[derive(Debug, Clone, Default)]
pub struct DreamFilter {
    pub store_id: Option<String>,
    /// Only dreams of these input stores.
    pub only: Option<Vec<String>>,
    pub statuses: Vec<String>,
    pub include_archived: bool,
    pub created_gt: Option<i64>,
    pub created_lt: Option<i64>,
    /// Strictly before this (created_at, id), newest first.
    pub before: Option<(i64, String)>,
    pub limit: i64,
}

/// Curation queries on one connection.
#[async_trait]
pub trait DreamDao: Send {
    async fn policy(&mut self, store_id: &str) -> Result<Option<String>>;
    async fn upsert_policy(&mut self, store_id: &str, policy: &str, now: i64) -> Result<()>;

    async fn entries(&mut self, store_id: &str, state: Option<&str>) -> Result<Vec<EntryRow>>;
    async fn entry(&mut self, store_id: &str, id: &str) -> Result<Option<EntryRow>>;
    async fn delete_entries(&mut self, store_id: &str) -> Result<()>;
    async fn insert_entries(&mut self, rows: &[EntryRow]) -> Result<()>;
    async fn update_entry(&mut self, row: &EntryRow) -> Result<()>;
    /// The live entries at `path` with exactly `text`.
    async fn live_entries_at(
        &mut self,
        store_id: &str,
        path: &str,
        text: &str,
    ) -> Result<Vec<EntryRow>>;
    /// The store's live entries a context shows whatever its query: pinned, glossary, and with
    /// `useful`, those served or found helpful; by id.
    async fn context_entries(&mut self, store_id: &str, useful: bool) -> Result<Vec<EntryRow>>;
    /// The store's live entries at any of `paths`, by id.
    async fn live_entries_at_paths(
        &mut self,
        store_id: &str,
        paths: &[&str],
    ) -> Result<Vec<EntryRow>>;
    /// The ids of the store's live pinned entries, sorted.
    async fn pinned_entry_ids(&mut self, store_id: &str) -> Result<Vec<String>>;
    async fn bump_served(&mut self, store_id: &str, entry_id: &str) -> Result<()>;

    async fn insert_dream(&mut self, d: &DreamRow) -> Result<()>;
    async fn dream(&mut self, id: &str) -> Result<Option<DreamRow>>;
    /// A dream's changeset alone: `None` when there is no such dream.
    async fn dream_changeset_json(&mut self, id: &str) -> Result<Option<Option<String>>>;
    /// The changesets of the dreams of `ids` that exist, with their ids and versions (their
    /// rows' `updated_at`).
    async fn dream_changesets_json(
        &mut self,
        ids: &[String],
    ) -> Result<Vec<(String, i64, Option<String>)>>;
    /// The versions (`updated_at`) of the dreams of `ids` that exist.
    async fn dream_versions(&mut self, ids: &[String]) -> Result<Vec<(String, i64)>>;
    /// Takes the dream's row lock.
    async fn lock_dream(&mut self, id: &str) -> Result<Option<DreamRow>>;
    async fn update_dream(&mut self, d: &DreamRow) -> Result<()>;
    async fn dreams_page(&mut self, f: &DreamFilter) -> Result<Vec<DreamRow>>;
    /// A pending or running `update_existing` dream of the store, other than `except`.
    async fn active_update_dream(
        &mut self,
        store_id: &str,
        except: &str,
    ) -> Result<Option<DreamRow>>;
    /// Every running dream.
    async fn running_dreams(&mut self) -> Result<Vec<DreamRow>>;
    /// Every memory of a store with its content, by path.
    async fn memories_with_content(&mut self, store_id: &str) -> Result<Vec<MemoryRow>>;
}

/// The columns of a listing: the changeset, the proposal and the entries' undo are large
/// (the last holds every entry's metadata) and no listing reads them.
macro_rules! dream_list_cols {
    () => {
        "id, store_id, status, session_ids, model, instructions, output_behavior, output_store_id, \
         review, decided_at, decided_by_type, decided_by_id, base_revision, applied_revision, \
         reverted_revision, CAST(NULL AS TEXT) AS changeset, CAST(NULL AS TEXT) AS proposal, \
         CAST(NULL AS TEXT) AS entries_undo, error_type, error_message, usage, \
         runner, heartbeat_at, created_at, started_at, ended_at, archived_at, updated_at"
    };
}

macro_rules! dream_cols {
    () => {
        "id, store_id, status, session_ids, model, instructions, output_behavior, output_store_id, \
         review, decided_at, decided_by_type, decided_by_id, base_revision, applied_revision, \
         reverted_revision, changeset, proposal, entries_undo, error_type, error_message, usage, \
         runner, heartbeat_at, created_at, started_at, ended_at, archived_at, updated_at"
    };
}
macro_rules! entry_cols {
    () => {
        "store_id, id, state, kind, path, section, text, provenance, served, helpful, harmful, \
         first_seen, last_seen, superseded_by, pinned, dream_id"
    };
}

/// Implements [`DreamDao`] for a backend's connection type.
macro_rules! impl_dream_dao {
    ($conn:ty, $db:ty) => {
        const _: () = {
            use sqlx::Row;
            use $crate::dao::db_err;
            use $crate::dao_dreams::{DreamDao, DreamFilter};
            use $crate::dao_sessions::INSERT_CHUNK;
            use $crate::rows::MemoryRow;
            use $crate::rows_dreams::{DreamRow, EntryRow};
            use reverie_core::Result;

            type DbRow = <$db as sqlx::Database>::Row;

            /// The rows `select` (which ends in `WHERE id IN (`) gives for `ids`, a chunk of
            /// ids per statement.
            async fn by_ids<T>(conn: &mut $conn, select: &str, ids: &[String]) -> Result<Vec<T>>
            where
                T: for<'r> sqlx::FromRow<'r, DbRow> + Send + Unpin,
            {
                let mut out = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(INSERT_CHUNK) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(select);
                    let mut list = q.separated(", ");
                    for id in chunk {
                        list.push_bind(id);
                    }
                    q.push(")");
                    let rows: Vec<T> =
                        q.build_query_as().fetch_all(&mut *conn).await.map_err(db_err)?;
                    out.extend(rows);
                }
                Ok(out)
            }

            fn dream_row(r: &DbRow) -> std::result::Result<DreamRow, sqlx::Error> {
                Ok(DreamRow {
                    id: r.try_get("id")?,
                    store_id: r.try_get("store_id")?,
                    status: r.try_get("status")?,
                    session_ids: r.try_get("session_ids")?,
                    model: r.try_get("model")?,
                    instructions: r.try_get("instructions")?,
                    output_behavior: r.try_get("output_behavior")?,
                    output_store_id: r.try_get("output_store_id")?,
                    review: r.try_get("review")?,
                    decided_at: r.try_get("decided_at")?,
                    decided_by_type: r.try_get("decided_by_type")?,
                    decided_by_id: r.try_get("decided_by_id")?,
                    base_revision: r.try_get("base_revision")?,
                    applied_revision: r.try_get("applied_revision")?,
                    reverted_revision: r.try_get("reverted_revision")?,
                    changeset: r.try_get("changeset")?,
                    proposal: r.try_get("proposal")?,
                    entries_undo: r.try_get("entries_undo")?,
                    error_type: r.try_get("error_type")?,
                    error_message: r.try_get("error_message")?,
                    usage: r.try_get("usage")?,
                    runner: r.try_get("runner")?,
                    heartbeat_at: r.try_get("heartbeat_at")?,
                    created_at: r.try_get("created_at")?,
                    started_at: r.try_get("started_at")?,
                    ended_at: r.try_get("ended_at")?,
                    archived_at: r.try_get("archived_at")?,
                    updated_at: r.try_get("updated_at")?,
                })
            }

            fn entry_row(r: &DbRow) -> std::result::Result<EntryRow, sqlx::Error> {
                Ok(EntryRow {
                    store_id: r.try_get("store_id")?,
                    id: r.try_get("id")?,
                    state: r.try_get("state")?,
                    kind: r.try_get("kind")?,
                    path: r.try_get("path")?,
                    section: r.try_get("section")?,
                    text: r.try_get("text")?,
                    provenance: r.try_get("provenance")?,
                    served: r.try_get("served")?,
                    helpful: r.try_get("helpful")?,
                    harmful: r.try_get("harmful")?,
                    first_seen: r.try_get("first_seen")?,
                    last_seen: r.try_get("last_seen")?,
                    superseded_by: r.try_get("superseded_by")?,
                    pinned: r.try_get("pinned")?,
                    dream_id: r.try_get("dream_id")?,
                })
            }

            fn dreams(rows: Vec<DbRow>) -> Result<Vec<DreamRow>> {
                rows.iter().map(|r| dream_row(r).map_err(db_err)).collect()
            }

            #[async_trait::async_trait]
            impl DreamDao for $conn {
                async fn policy(&mut self, store_id: &str) -> Result<Option<String>> {
                    let row = sqlx::query("SELECT policy FROM policies WHERE store_id = $1")
                        .bind(store_id)
                        .fetch_optional(&mut *self)
                        .await
                        .map_err(db_err)?;
                    row.map(|r| r.try_get("policy")).transpose().map_err(db_err)
                }

                async fn upsert_policy(&mut self, store_id: &str, policy: &str, now: i64) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO policies (store_id, policy, updated_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (store_id) DO UPDATE SET policy = excluded.policy, \
                         updated_at = excluded.updated_at",
                    )
                    .bind(store_id)
                    .bind(policy)
                    .bind(now)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn entries(&mut self, store_id: &str, state: Option<&str>) -> Result<Vec<EntryRow>> {
                    let rows = sqlx::query(concat!(
                        "SELECT ", entry_cols!(), " FROM entries WHERE store_id = $1 \
                         AND ($2 = '' OR state = $2) ORDER BY id"
                    ))
                    .bind(store_id)
                    .bind(state.unwrap_or(""))
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    rows.iter().map(|r| entry_row(r).map_err(db_err)).collect()
                }

                async fn entry(&mut self, store_id: &str, id: &str) -> Result<Option<EntryRow>> {
                    let row = sqlx::query(concat!(
                        "SELECT ", entry_cols!(), " FROM entries WHERE store_id = $1 AND id = $2"
                    ))
                    .bind(store_id)
                    .bind(id)
                    .fetch_optional(&mut *self)
                    .await
                    .map_err(db_err)?;
                    row.as_ref().map(entry_row).transpose().map_err(db_err)
                }

                async fn delete_entries(&mut self, store_id: &str) -> Result<()> {
                    sqlx::query("DELETE FROM entries WHERE store_id = $1")
                        .bind(store_id)
                        .execute(&mut *self)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn insert_entries(&mut self, rows: &[EntryRow]) -> Result<()> {
                    for chunk in rows.chunks(INSERT_CHUNK / 2) {
                        let mut q = sqlx::QueryBuilder::<$db>::new(concat!(
                            "INSERT INTO entries (", entry_cols!(), ") "
                        ));
                        q.push_values(chunk, |mut b, e| {
                            b.push_bind(&e.store_id)
                                .push_bind(&e.id)
                                .push_bind(&e.state)
                                .push_bind(&e.kind)
                                .push_bind(&e.path)
                                .push_bind(&e.section)
                                .push_bind(&e.text)
                                .push_bind(&e.provenance)
                                .push_bind(e.served)
                                .push_bind(e.helpful)
                                .push_bind(e.harmful)
                                .push_bind(e.first_seen)
                                .push_bind(e.last_seen)
                                .push_bind(&e.superseded_by)
                                .push_bind(e.pinned)
                                .push_bind(&e.dream_id);
                        });
                        q.build().execute(&mut *self).await.map_err(db_err)?;
                    }
                    Ok(())
                }

                async fn live_entries_at(
                    &mut self,
                    store_id: &str,
                    path: &str,
                    text: &str,
                ) -> Result<Vec<EntryRow>> {
                    let rows = sqlx::query(concat!(
                        "SELECT ", entry_cols!(), " FROM entries WHERE store_id = $1 \
                         AND state = 'live' AND path = $2 AND text = $3 ORDER BY id"
                    ))
                    .bind(store_id)
                    .bind(path)
                    .bind(text)
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    rows.iter().map(|r| entry_row(r).map_err(db_err)).collect()
                }

                async fn context_entries(&mut self, store_id: &str, useful: bool) -> Result<Vec<EntryRow>> {
                    let rows = sqlx::query(concat!(
                        "SELECT ", entry_cols!(), " FROM entries WHERE store_id = $1 \
                         AND state = 'live' AND (pinned <> 0 OR kind = 'glossary' \
                         OR ($2 <> 0 AND (served > 0 OR helpful > 0))) ORDER BY id"
                    ))
                    .bind(store_id)
                    .bind(i64::from(useful))
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    rows.iter().map(|r| entry_row(r).map_err(db_err)).collect()
                }

                async fn live_entries_at_paths(
                    &mut self,
                    store_id: &str,
                    paths: &[&str],
                ) -> Result<Vec<EntryRow>> {
                    let mut out = Vec::new();
                    for chunk in paths.chunks(INSERT_CHUNK) {
                        let mut q = sqlx::QueryBuilder::<$db>::new(concat!(
                            "SELECT ", entry_cols!(), " FROM entries WHERE state = 'live' AND store_id = "
                        ));
                        q.push_bind(store_id).push(" AND path IN (");
                        let mut sep = q.separated(", ");
                        for p in chunk {
                            sep.push_bind(*p);
                        }
                        q.push(")");
                        for r in q.build().fetch_all(&mut *self).await.map_err(db_err)? {
                            out.push(entry_row(&r).map_err(db_err)?);
                        }
                    }
                    out.sort_unstable_by(|a, b| a.id.cmp(&b.id));
                    Ok(out)
                }

                async fn pinned_entry_ids(&mut self, store_id: &str) -> Result<Vec<String>> {
                    let rows = sqlx::query(
                        "SELECT id FROM entries WHERE store_id = $1 AND state = 'live' \
                         AND pinned <> 0 ORDER BY id",
                    )
                    .bind(store_id)
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    rows.iter()
                        .map(|r| r.try_get::<String, _>("id").map_err(db_err))
                        .collect()
                }

                async fn bump_served(&mut self, store_id: &str, entry_id: &str) -> Result<()> {
                    sqlx::query(
                        "UPDATE entries SET served = served + 1 WHERE store_id = $1 AND id = $2",
                    )
                    .bind(store_id)
                    .bind(entry_id)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn update_entry(&mut self, e: &EntryRow) -> Result<()> {
                    sqlx::query(
                        "UPDATE entries SET state = $1, kind = $2, path = $3, section = $4, text = $5, \
                         provenance = $6, served = $7, helpful = $8, harmful = $9, first_seen = $10, \
                         last_seen = $11, superseded_by = $12, pinned = $13, dream_id = $14 \
                         WHERE store_id = $15 AND id = $16",
                    )
                    .bind(&e.state)
                    .bind(&e.kind)
                    .bind(&e.path)
                    .bind(&e.section)
                    .bind(&e.text)
                    .bind(&e.provenance)
                    .bind(e.served)
                    .bind(e.helpful)
                    .bind(e.harmful)
                    .bind(e.first_seen)
                    .bind(e.last_seen)
                    .bind(&e.superseded_by)
                    .bind(e.pinned)
                    .bind(&e.dream_id)
                    .bind(&e.store_id)
                    .bind(&e.id)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn insert_dream(&mut self, d: &DreamRow) -> Result<()> {
                    sqlx::query(concat!(
                        "INSERT INTO dreams (", dream_cols!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
                         $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, \
                         $26, $27, $28)"
                    ))
                    .bind(&d.id)
                    .bind(&d.store_id)
                    .bind(&d.status)
                    .bind(&d.session_ids)
                    .bind(&d.model)
                    .bind(&d.instructions)
                    .bind(&d.output_behavior)
                    .bind(&d.output_store_id)
                    .bind(&d.review)
                    .bind(d.decided_at)
                    .bind(&d.decided_by_type)
                    .bind(&d.decided_by_id)
                    .bind(d.base_revision)
                    .bind(d.applied_revision)
                    .bind(d.reverted_revision)
                    .bind(&d.changeset)
                    .bind(&d.proposal)
                    .bind(&d.entries_undo)
                    .bind(&d.error_type)
                    .bind(&d.error_message)
                    .bind(&d.usage)
                    .bind(&d.runner)
                    .bind(d.heartbeat_at)
                    .bind(d.created_at)
                    .bind(d.started_at)
                    .bind(d.ended_at)
                    .bind(d.archived_at)
                    .bind(d.updated_at)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn dream(&mut self, id: &str) -> Result<Option<DreamRow>> {
                    let row = sqlx::query(concat!("SELECT ", dream_cols!(), " FROM dreams WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&mut *self)
                        .await
                        .map_err(db_err)?;
                    row.as_ref().map(dream_row).transpose().map_err(db_err)
                }

                async fn dream_changeset_json(&mut self, id: &str) -> Result<Option<Option<String>>> {
                    let row: Option<(Option<String>,)> =
                        sqlx::query_as("SELECT changeset FROM dreams WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&mut *self)
                            .await
                            .map_err(db_err)?;
                    Ok(row.map(|(c,)| c))
                }

                async fn dream_changesets_json(
                    &mut self,
                    ids: &[String],
                ) -> Result<Vec<(String, i64, Option<String>)>> {
                    by_ids(self, "SELECT id, updated_at, changeset FROM dreams WHERE id IN (", ids)
                        .await
                }

                async fn dream_versions(&mut self, ids: &[String]) -> Result<Vec<(String, i64)>> {
                    by_ids(self, "SELECT id, updated_at FROM dreams WHERE id IN (", ids).await
                }

                async fn lock_dream(&mut self, id: &str) -> Result<Option<DreamRow>> {
                    let row = sqlx::query(concat!(
                        "UPDATE dreams SET updated_at = updated_at WHERE id = $1 RETURNING ", dream_cols!()
                    ))
                    .bind(id)
                    .fetch_optional(&mut *self)
                    .await
                    .map_err(db_err)?;
                    row.as_ref().map(dream_row).transpose().map_err(db_err)
                }

                async fn update_dream(&mut self, d: &DreamRow) -> Result<()> {
                    sqlx::query(
                        "UPDATE dreams SET status = $1, output_store_id = $2, review = $3, decided_at = $4, \
                         decided_by_type = $5, decided_by_id = $6, base_revision = $7, applied_revision = $8, \
                         reverted_revision = $9, changeset = $10, proposal = $11, entries_undo = $12, \
                         error_type = $13, error_message = $14, usage = $15, runner = $16, heartbeat_at = $17, \
                         started_at = $18, ended_at = $19, archived_at = $20, updated_at = $21 WHERE id = $22",
                    )
                    .bind(&d.status)
                    .bind(&d.output_store_id)
                    .bind(&d.review)
                    .bind(d.decided_at)
                    .bind(&d.decided_by_type)
                    .bind(&d.decided_by_id)
                    .bind(d.base_revision)
                    .bind(d.applied_revision)
                    .bind(d.reverted_revision)
                    .bind(&d.changeset)
                    .bind(&d.proposal)
                    .bind(&d.entries_undo)
                    .bind(&d.error_type)
                    .bind(&d.error_message)
                    .bind(&d.usage)
                    .bind(&d.runner)
                    .bind(d.heartbeat_at)
                    .bind(d.started_at)
                    .bind(d.ended_at)
                    .bind(d.archived_at)
                    .bind(d.updated_at)
                    .bind(&d.id)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn dreams_page(&mut self, f: &DreamFilter) -> Result<Vec<DreamRow>> {
                    let mut q = sqlx::QueryBuilder::<$db>::new(concat!(
                        "SELECT ", dream_list_cols!(), " FROM dreams WHERE 1 = 1"
                    ));
                    if let Some(s) = &f.store_id {
                        q.push(" AND store_id = ").push_bind(s.clone());
                    }
                    match f.only.as_deref() {
                        None => {}
                        Some([]) => {
                            q.push(" AND 1 = 0");
                        }
                        Some(only) => {
                            q.push(" AND store_id IN (");
                            let mut sep = q.separated(", ");
                            for s in only {
                                sep.push_bind(s.clone());
                            }
                            sep.push_unseparated(")");
                        }
                    }
                    if !f.statuses.is_empty() {
                        q.push(" AND status IN (");
                        let mut sep = q.separated(", ");
                        for s in &f.statuses {
                            sep.push_bind(s.clone());
                        }
                        sep.push_unseparated(")");
                    }
                    if !f.include_archived {
                        q.push(" AND archived_at IS NULL");
                    }
                    if let Some(t) = f.created_gt {
                        q.push(" AND created_at > ").push_bind(t);
                    }
                    if let Some(t) = f.created_lt {
                        q.push(" AND created_at < ").push_bind(t);
                    }
                    if let Some((t, id)) = &f.before {
                        q.push(" AND (created_at < ").push_bind(*t);
                        q.push(" OR (created_at = ").push_bind(*t);
                        q.push(" AND id < ").push_bind(id.clone());
                        q.push("))");
                    }
                    q.push(" ORDER BY created_at DESC, id DESC LIMIT ").push_bind(f.limit);
                    let rows = q.build().fetch_all(&mut *self).await.map_err(db_err)?;
                    dreams(rows)
                }

                async fn active_update_dream(&mut self, store_id: &str, except: &str) -> Result<Option<DreamRow>> {
                    let row = sqlx::query(concat!(
                        "SELECT ", dream_cols!(), " FROM dreams WHERE store_id = $1 AND id <> $2 \
                         AND output_behavior = 'update_existing' AND status IN ('pending', 'running') \
                         ORDER BY created_at LIMIT 1"
                    ))
                    .bind(store_id)
                    .bind(except)
                    .fetch_optional(&mut *self)
                    .await
                    .map_err(db_err)?;
                    row.as_ref().map(dream_row).transpose().map_err(db_err)
                }

                async fn memories_with_content(&mut self, store_id: &str) -> Result<Vec<MemoryRow>> {
                    let rows = sqlx::query(
                        "SELECT id, store_id, path, content, content_sha256, content_size_bytes, version_id, \
                         created_at, updated_at FROM memories WHERE store_id = $1 ORDER BY path",
                    )
                    .bind(store_id)
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    rows.iter()
                        .map(|r| {
                            Ok(MemoryRow {
                                id: r.try_get("id")?,
                                store_id: r.try_get("store_id")?,
                                path: r.try_get("path")?,
                                content: r.try_get("content")?,
                                content_sha256: r.try_get("content_sha256")?,
                                content_size_bytes: r.try_get("content_size_bytes")?,
                                version_id: r.try_get("version_id")?,
                                created_at: r.try_get("created_at")?,
                                updated_at: r.try_get("updated_at")?,
                            })
                        })
                        .collect::<std::result::Result<Vec<_>, sqlx::Error>>()
                        .map_err(db_err)
                }

                async fn running_dreams(&mut self) -> Result<Vec<DreamRow>> {
                    let rows = sqlx::query(concat!(
                        "SELECT ", dream_cols!(), " FROM dreams WHERE status = 'running' ORDER BY created_at"
                    ))
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    dreams(rows)
                }
            }
        };
    };
}

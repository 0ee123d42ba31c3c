//! Data access: every query reverie runs, written once and instantiated for both backends.
//!
//! The SQL is portable between SQLite and PostgreSQL (`$n` placeholders in ascending order,
//! `RETURNING`, window functions); the only dialect difference, a typed NULL for skipped
//! content, is a macro parameter. The [`impl_dao!`] macro implements [`Dao`] on each backend's
//! connection type, so the business logic in `logic` is written once, generic over it.

use std::collections::BTreeSet;

use async_trait::async_trait;
use reverie_core::{Actor, Error, Result};

use crate::rows::{MemoryRow, RevisionRow, StoreRow, VersionRow};

/// Filters of a version listing, already validated.
#[derive(Debug, Clone, Default)]
pub struct VersionFilter {
    pub memory_id: Option<String>,
    pub operation: Option<&'static str>,
    pub created_at_gte: Option<i64>,
    pub created_at_lte: Option<i64>,
    pub actor: Option<(&'static str, String)>,
}

/// Where a path scan starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seek {
    /// Paths strictly after this one.
    After(String),
    /// Paths from this one on.
    From(String),
}

/// The queries of the store, on one connection (pooled or inside a transaction).
#[async_trait]
pub trait Dao: Send {
    async fn insert_store(&mut self, s: &StoreRow) -> Result<()>;
    async fn store(&mut self, id: &str) -> Result<Option<StoreRow>>;
    async fn stores_named(&mut self, name: &str) -> Result<Vec<StoreRow>>;
    async fn stores_page(
        &mut self,
        include_archived: bool,
        created_gte: Option<i64>,
        created_lte: Option<i64>,
        before: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<StoreRow>>;
    async fn update_store(&mut self, s: &StoreRow) -> Result<()>;
    async fn delete_store(&mut self, id: &str) -> Result<bool>;
    /// Bumps the store's revision, adds `count_delta` to its memory count, and returns the
    /// store: the write lock of a store.
    async fn bump_revision(&mut self, id: &str, count_delta: i64) -> Result<Option<StoreRow>>;
    /// Adds to the store's memory count.
    async fn add_memory_count(&mut self, id: &str, delta: i64) -> Result<()>;
    /// Takes the store's row lock without changing it, for changes to the store's own fields.
    async fn lock_store(&mut self, id: &str) -> Result<Option<StoreRow>>;
    async fn insert_revision(&mut self, r: &RevisionRow) -> Result<()>;
    /// [`bump_revision`](Dao::bump_revision) and the new revision's row, in as few round trips as
    /// the backend allows (`r.revision` is ignored: the new revision is used).
    async fn bump_and_record(
        &mut self,
        id: &str,
        count_delta: i64,
        r: &RevisionRow,
    ) -> Result<Option<StoreRow>> {
        let store = self.bump_revision(id, count_delta).await?;
        if let Some(s) = &store {
            self.insert_revision(&RevisionRow {
                revision: s.revision,
                ..r.clone()
            })
            .await?;
        }
        Ok(store)
    }
    async fn revisions_page(
        &mut self,
        store_id: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<RevisionRow>>;

    async fn memory(
        &mut self,
        store_id: &str,
        id: &str,
        with_content: bool,
    ) -> Result<Option<MemoryRow>>;
    async fn memory_by_path(
        &mut self,
        store_id: &str,
        path: &str,
        with_content: bool,
    ) -> Result<Option<MemoryRow>>;
    /// The memories at any of `paths` (with content), in path order: one round trip for a
    /// path and its prefixes.
    async fn memories_at_paths(&mut self, store_id: &str, paths: &[&str])
    -> Result<Vec<MemoryRow>>;
    async fn memories_page(
        &mut self,
        store_id: &str,
        upper: &str,
        seek: &Seek,
        limit: i64,
        with_content: bool,
    ) -> Result<Vec<MemoryRow>>;
    async fn all_memories(&mut self, store_id: &str) -> Result<Vec<MemoryRow>>;
    /// Inserts a memory; `false` when its path is taken (nothing is inserted then).
    async fn insert_memory(&mut self, m: &MemoryRow) -> Result<bool>;
    /// Inserts a new memory and its `created` version, in as few round trips as the backend
    /// allows; `false` when the path is taken (nothing is inserted then).
    async fn insert_memory_and_version(&mut self, m: &MemoryRow, v: &VersionRow) -> Result<bool> {
        if !self.insert_memory(m).await? {
            return Ok(false);
        }
        self.insert_version(v).await?;
        Ok(true)
    }
    async fn update_memory(&mut self, m: &MemoryRow) -> Result<()>;
    /// Inserts a `modified` version and updates the memory row to it, in as few round trips as
    /// the backend allows.
    async fn update_memory_and_version(&mut self, m: &MemoryRow, v: &VersionRow) -> Result<()> {
        self.insert_version(v).await?;
        self.update_memory(m).await
    }
    async fn set_memory_path(&mut self, store_id: &str, id: &str, path: &str) -> Result<()>;
    async fn delete_memory(&mut self, store_id: &str, id: &str) -> Result<()>;

    async fn insert_version(&mut self, v: &VersionRow) -> Result<()>;
    async fn version(
        &mut self,
        store_id: &str,
        id: &str,
        with_content: bool,
    ) -> Result<Option<VersionRow>>;
    async fn versions_page(
        &mut self,
        store_id: &str,
        filter: &VersionFilter,
        before_seq: Option<i64>,
        limit: i64,
        with_content: bool,
    ) -> Result<Vec<VersionRow>>;
    async fn redact_version(&mut self, store_id: &str, id: &str, at: i64, by: &Actor)
    -> Result<()>;
    /// The latest version of every memory at `revision`, with content.
    async fn state_at(&mut self, store_id: &str, revision: i64) -> Result<Vec<VersionRow>>;
    /// Every version of a store, oldest first, without content.
    async fn all_versions(&mut self, store_id: &str) -> Result<Vec<VersionRow>>;
    /// Every revision number recorded for a store, ascending.
    async fn all_revisions(&mut self, store_id: &str) -> Result<Vec<i64>>;

    async fn tool_dirs(&mut self, store_id: &str) -> Result<Vec<String>>;
    async fn set_tool_dirs(&mut self, store_id: &str, dirs: &BTreeSet<String>) -> Result<()>;
}

/// Maps a driver error into the domain's, keeping uniqueness violations recognisable.
pub(crate) fn db_err(e: sqlx::Error) -> Error {
    if let Some(d) = e.as_database_error()
        && d.is_unique_violation()
    {
        return Error::Conflict(format!("a concurrent write took the same key: {d}"));
    }
    Error::storage(e)
}

macro_rules! store_cols {
    () => {
        "id, name, description, metadata, created_at, updated_at, archived_at, revision, max_memories, memory_count"
    };
}
macro_rules! memory_cols {
    () => {
        "id, store_id, path, content_sha256, content_size_bytes, version_id, created_at, updated_at"
    };
}
macro_rules! version_cols {
    () => {
        "seq, id, store_id, memory_id, revision, operation, path, content_sha256, content_size_bytes, \
         actor_type, actor_id, created_at, redacted_at, redacted_by_type, redacted_by_id"
    };
}
macro_rules! revision_cols {
    () => {
        "store_id, revision, created_at, actor_type, actor_id, summary"
    };
}

/// Implements [`Dao`] for a backend's connection type. `null_blob` is the dialect's typed
/// NULL for a content column left out of a query.
macro_rules! impl_dao {
    ($conn:ty, $db:ty, null_blob = $nb:literal $(, extra = { $($extra:item)* })?) => {
        const _: () = {
            use sqlx::Row;
            use $crate::dao::{Dao, Seek, VersionFilter, db_err};
            use $crate::rows::{MemoryRow, RevisionRow, StoreRow, VersionRow};
            use reverie_core::{Actor, Result};
            use std::collections::BTreeSet;

            type DbRow = <$db as sqlx::Database>::Row;

            fn store_row(r: &DbRow) -> std::result::Result<StoreRow, sqlx::Error> {
                Ok(StoreRow {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    description: r.try_get("description")?,
                    metadata: r.try_get("metadata")?,
                    created_at: r.try_get("created_at")?,
                    updated_at: r.try_get("updated_at")?,
                    archived_at: r.try_get("archived_at")?,
                    revision: r.try_get("revision")?,
                    max_memories: r.try_get("max_memories")?,
                    memory_count: r.try_get("memory_count")?,
                })
            }

            fn memory_row(r: &DbRow) -> std::result::Result<MemoryRow, sqlx::Error> {
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
            }

            fn version_row(r: &DbRow) -> std::result::Result<VersionRow, sqlx::Error> {
                Ok(VersionRow {
                    seq: r.try_get("seq")?,
                    id: r.try_get("id")?,
                    store_id: r.try_get("store_id")?,
                    memory_id: r.try_get("memory_id")?,
                    revision: r.try_get("revision")?,
                    operation: r.try_get("operation")?,
                    path: r.try_get("path")?,
                    content: r.try_get("content")?,
                    content_sha256: r.try_get("content_sha256")?,
                    content_size_bytes: r.try_get("content_size_bytes")?,
                    actor_type: r.try_get("actor_type")?,
                    actor_id: r.try_get("actor_id")?,
                    created_at: r.try_get("created_at")?,
                    redacted_at: r.try_get("redacted_at")?,
                    redacted_by_type: r.try_get("redacted_by_type")?,
                    redacted_by_id: r.try_get("redacted_by_id")?,
                })
            }

            fn revision_row(r: &DbRow) -> std::result::Result<RevisionRow, sqlx::Error> {
                Ok(RevisionRow {
                    store_id: r.try_get("store_id")?,
                    revision: r.try_get("revision")?,
                    created_at: r.try_get("created_at")?,
                    actor_type: r.try_get("actor_type")?,
                    actor_id: r.try_get("actor_id")?,
                    summary: r.try_get("summary")?,
                })
            }

            fn all<T>(rows: Vec<DbRow>, f: fn(&DbRow) -> std::result::Result<T, sqlx::Error>) -> Result<Vec<T>> {
                rows.iter().map(|r| f(r).map_err(db_err)).collect()
            }

            #[async_trait::async_trait]
            impl Dao for $conn {
                async fn insert_store(&mut self, s: &StoreRow) -> Result<()> {
                    sqlx::query(concat!(
                        "INSERT INTO memory_stores (", store_cols!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                    ))
                    .bind(&s.id)
                    .bind(&s.name)
                    .bind(&s.description)
                    .bind(&s.metadata)
                    .bind(s.created_at)
                    .bind(s.updated_at)
                    .bind(s.archived_at)
                    .bind(s.revision)
                    .bind(s.max_memories)
                    .bind(s.memory_count)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn store(&mut self, id: &str) -> Result<Option<StoreRow>> {
                    let row = sqlx::query(concat!("SELECT ", store_cols!(), " FROM memory_stores WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&mut *self)
                        .await
                        .map_err(db_err)?;
                    row.as_ref().map(store_row).transpose().map_err(db_err)
                }

                async fn stores_named(&mut self, name: &str) -> Result<Vec<StoreRow>> {
                    let rows = sqlx::query(concat!(
                        "SELECT ", store_cols!(), " FROM memory_stores WHERE name = $1 ORDER BY created_at DESC, id DESC"
                    ))
                    .bind(name)
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    all(rows, store_row)
                }

                async fn stores_page(
                    &mut self,
                    include_archived: bool,
                    created_gte: Option<i64>,
                    created_lte: Option<i64>,
                    before: Option<(i64, String)>,
                    limit: i64,
                ) -> Result<Vec<StoreRow>> {
                    let mut q = sqlx::QueryBuilder::<$db>::new(concat!("SELECT ", store_cols!(), " FROM memory_stores WHERE 1 = 1"));
                    if !include_archived {
                        q.push(" AND archived_at IS NULL");
                    }
                    if let Some(t) = created_gte {
                        q.push(" AND created_at >= ").push_bind(t);
                    }
                    if let Some(t) = created_lte {
                        q.push(" AND created_at <= ").push_bind(t);
                    }
                    if let Some((t, id)) = before {
                        q.push(" AND (created_at < ").push_bind(t);
                        q.push(" OR (created_at = ").push_bind(t);
                        q.push(" AND id < ").push_bind(id);
                        q.push("))");
                    }
                    q.push(" ORDER BY created_at DESC, id DESC LIMIT ").push_bind(limit);
                    let rows = q.build().fetch_all(&mut *self).await.map_err(db_err)?;
                    all(rows, store_row)
                }

                async fn update_store(&mut self, s: &StoreRow) -> Result<()> {
                    sqlx::query(
                        "UPDATE memory_stores SET name = $1, description = $2, metadata = $3, updated_at = $4, \
                         archived_at = $5, max_memories = $6 WHERE id = $7",
                    )
                    .bind(&s.name)
                    .bind(&s.description)
                    .bind(&s.metadata)
                    .bind(s.updated_at)
                    .bind(s.archived_at)
                    .bind(s.max_memories)
                    .bind(&s.id)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn delete_store(&mut self, id: &str) -> Result<bool> {
                    let done = sqlx::query("DELETE FROM memory_stores WHERE id = $1")
                        .bind(id)
                        .execute(&mut *self)
                        .await
                        .map_err(db_err)?;
                    Ok(done.rows_affected() > 0)
                }

                async fn bump_revision(&mut self, id: &str, count_delta: i64) -> Result<Option<StoreRow>> {
                    let row = sqlx::query(concat!(
                        "UPDATE memory_stores SET revision = revision + 1, memory_count = memory_count + $2 \
                         WHERE id = $1 RETURNING ", store_cols!()
                    ))
                    .bind(id)
                    .bind(count_delta)
                    .fetch_optional(&mut *self)
                    .await
                    .map_err(db_err)?;
                    row.as_ref().map(store_row).transpose().map_err(db_err)
                }

                async fn add_memory_count(&mut self, id: &str, delta: i64) -> Result<()> {
                    sqlx::query("UPDATE memory_stores SET memory_count = memory_count + $1 WHERE id = $2")
                        .bind(delta)
                        .bind(id)
                        .execute(&mut *self)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn lock_store(&mut self, id: &str) -> Result<Option<StoreRow>> {
                    let row = sqlx::query(concat!(
                        "UPDATE memory_stores SET revision = revision WHERE id = $1 RETURNING ", store_cols!()
                    ))
                    .bind(id)
                    .fetch_optional(&mut *self)
                    .await
                    .map_err(db_err)?;
                    row.as_ref().map(store_row).transpose().map_err(db_err)
                }

                async fn insert_revision(&mut self, r: &RevisionRow) -> Result<()> {
                    sqlx::query(concat!("INSERT INTO store_revisions (", revision_cols!(), ") VALUES ($1, $2, $3, $4, $5, $6)"))
                        .bind(&r.store_id)
                        .bind(r.revision)
                        .bind(r.created_at)
                        .bind(&r.actor_type)
                        .bind(&r.actor_id)
                        .bind(&r.summary)
                        .execute(&mut *self)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn revisions_page(&mut self, store_id: &str, before: Option<i64>, limit: i64) -> Result<Vec<RevisionRow>> {
                    let rows = sqlx::query(concat!(
                        "SELECT ", revision_cols!(), " FROM store_revisions WHERE store_id = $1 AND revision < $2 \
                         ORDER BY revision DESC LIMIT $3"
                    ))
                    .bind(store_id)
                    .bind(before.unwrap_or(i64::MAX))
                    .bind(limit)
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    all(rows, revision_row)
                }

                async fn memory(&mut self, store_id: &str, id: &str, with_content: bool) -> Result<Option<MemoryRow>> {
                    let q = if with_content {
                        sqlx::query(concat!("SELECT ", memory_cols!(), ", content FROM memories WHERE store_id = $1 AND id = $2"))
                    } else {
                        sqlx::query(concat!("SELECT ", memory_cols!(), ", ", $nb, " AS content FROM memories WHERE store_id = $1 AND id = $2"))
                    };
                    let row = q.bind(store_id).bind(id).fetch_optional(&mut *self).await.map_err(db_err)?;
                    row.as_ref().map(memory_row).transpose().map_err(db_err)
                }

                async fn memory_by_path(&mut self, store_id: &str, path: &str, with_content: bool) -> Result<Option<MemoryRow>> {
                    let q = if with_content {
                        sqlx::query(concat!("SELECT ", memory_cols!(), ", content FROM memories WHERE store_id = $1 AND path = $2"))
                    } else {
                        sqlx::query(concat!("SELECT ", memory_cols!(), ", ", $nb, " AS content FROM memories WHERE store_id = $1 AND path = $2"))
                    };
                    let row = q.bind(store_id).bind(path).fetch_optional(&mut *self).await.map_err(db_err)?;
                    row.as_ref().map(memory_row).transpose().map_err(db_err)
                }

                async fn memories_at_paths(&mut self, store_id: &str, paths: &[&str]) -> Result<Vec<MemoryRow>> {
                    if paths.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut q = sqlx::QueryBuilder::<$db>::new("SELECT ");
                    q.push(memory_cols!());
                    q.push(", content FROM memories WHERE store_id = ").push_bind(store_id);
                    q.push(" AND path IN (");
                    let mut list = q.separated(", ");
                    for p in paths {
                        list.push_bind(*p);
                    }
                    q.push(") ORDER BY path");
                    let rows = q.build().fetch_all(&mut *self).await.map_err(db_err)?;
                    all(rows, memory_row)
                }

                async fn memories_page(
                    &mut self,
                    store_id: &str,
                    upper: &str,
                    seek: &Seek,
                    limit: i64,
                    with_content: bool,
                ) -> Result<Vec<MemoryRow>> {
                    let (op, key) = match seek {
                        Seek::After(k) => (" > ", k),
                        Seek::From(k) => (" >= ", k),
                    };
                    let mut q = sqlx::QueryBuilder::<$db>::new("SELECT ");
                    q.push(memory_cols!());
                    q.push(if with_content { ", content" } else { concat!(", ", $nb, " AS content") });
                    q.push(" FROM memories WHERE store_id = ").push_bind(store_id);
                    q.push(" AND path").push(op).push_bind(key);
                    q.push(" AND path < ").push_bind(upper);
                    q.push(" ORDER BY path LIMIT ").push_bind(limit);
                    let rows = q.build().fetch_all(&mut *self).await.map_err(db_err)?;
                    all(rows, memory_row)
                }

                async fn all_memories(&mut self, store_id: &str) -> Result<Vec<MemoryRow>> {
                    let rows = sqlx::query(concat!(
                        "SELECT ", memory_cols!(), ", ", $nb, " AS content FROM memories WHERE store_id = $1 ORDER BY path"
                    ))
                    .bind(store_id)
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    all(rows, memory_row)
                }

                async fn insert_memory(&mut self, m: &MemoryRow) -> Result<bool> {
                    // ON CONFLICT rather than a lookup first: one statement on the hot path, and
                    // PostgreSQL's transaction stays usable to report who holds the path.
                    let done = sqlx::query(concat!(
                        "INSERT INTO memories (", memory_cols!(), ", content) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                         ON CONFLICT (store_id, path) DO NOTHING"
                    ))
                    .bind(&m.id)
                    .bind(&m.store_id)
                    .bind(&m.path)
                    .bind(&m.content_sha256)
                    .bind(m.content_size_bytes)
                    .bind(&m.version_id)
                    .bind(m.created_at)
                    .bind(m.updated_at)
                    .bind(m.content.as_deref().unwrap_or_default())
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn update_memory(&mut self, m: &MemoryRow) -> Result<()> {
                    sqlx::query(
                        "UPDATE memories SET path = $1, content = $2, content_sha256 = $3, content_size_bytes = $4, \
                         version_id = $5, updated_at = $6 WHERE store_id = $7 AND id = $8",
                    )
                    .bind(&m.path)
                    .bind(m.content.as_deref().unwrap_or_default())
                    .bind(&m.content_sha256)
                    .bind(m.content_size_bytes)
                    .bind(&m.version_id)
                    .bind(m.updated_at)
                    .bind(&m.store_id)
                    .bind(&m.id)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn set_memory_path(&mut self, store_id: &str, id: &str, path: &str) -> Result<()> {
                    sqlx::query("UPDATE memories SET path = $1 WHERE store_id = $2 AND id = $3")
                        .bind(path)
                        .bind(store_id)
                        .bind(id)
                        .execute(&mut *self)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn delete_memory(&mut self, store_id: &str, id: &str) -> Result<()> {
                    sqlx::query("DELETE FROM memories WHERE store_id = $1 AND id = $2")
                        .bind(store_id)
                        .bind(id)
                        .execute(&mut *self)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn insert_version(&mut self, v: &VersionRow) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO memory_versions (id, store_id, memory_id, revision, operation, path, content, \
                         content_sha256, content_size_bytes, actor_type, actor_id, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    )
                    .bind(&v.id)
                    .bind(&v.store_id)
                    .bind(&v.memory_id)
                    .bind(v.revision)
                    .bind(&v.operation)
                    .bind(&v.path)
                    .bind(&v.content)
                    .bind(&v.content_sha256)
                    .bind(v.content_size_bytes)
                    .bind(&v.actor_type)
                    .bind(&v.actor_id)
                    .bind(v.created_at)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn version(&mut self, store_id: &str, id: &str, with_content: bool) -> Result<Option<VersionRow>> {
                    let q = if with_content {
                        sqlx::query(concat!("SELECT ", version_cols!(), ", content FROM memory_versions WHERE store_id = $1 AND id = $2"))
                    } else {
                        sqlx::query(concat!("SELECT ", version_cols!(), ", ", $nb, " AS content FROM memory_versions WHERE store_id = $1 AND id = $2"))
                    };
                    let row = q.bind(store_id).bind(id).fetch_optional(&mut *self).await.map_err(db_err)?;
                    row.as_ref().map(version_row).transpose().map_err(db_err)
                }

                async fn versions_page(
                    &mut self,
                    store_id: &str,
                    filter: &VersionFilter,
                    before_seq: Option<i64>,
                    limit: i64,
                    with_content: bool,
                ) -> Result<Vec<VersionRow>> {
                    let mut q = sqlx::QueryBuilder::<$db>::new("SELECT ");
                    q.push(version_cols!());
                    q.push(if with_content { ", content" } else { concat!(", ", $nb, " AS content") });
                    q.push(" FROM memory_versions WHERE store_id = ").push_bind(store_id);
                    if let Some(m) = &filter.memory_id {
                        q.push(" AND memory_id = ").push_bind(m);
                    }
                    if let Some(op) = filter.operation {
                        q.push(" AND operation = ").push_bind(op);
                    }
                    if let Some(t) = filter.created_at_gte {
                        q.push(" AND created_at >= ").push_bind(t);
                    }
                    if let Some(t) = filter.created_at_lte {
                        q.push(" AND created_at <= ").push_bind(t);
                    }
                    if let Some((kind, id)) = &filter.actor {
                        q.push(" AND actor_type = ").push_bind(*kind);
                        q.push(" AND actor_id = ").push_bind(id);
                    }
                    if let Some(seq) = before_seq {
                        q.push(" AND seq < ").push_bind(seq);
                    }
                    q.push(" ORDER BY seq DESC LIMIT ").push_bind(limit);
                    let rows = q.build().fetch_all(&mut *self).await.map_err(db_err)?;
                    all(rows, version_row)
                }

                async fn redact_version(&mut self, store_id: &str, id: &str, at: i64, by: &Actor) -> Result<()> {
                    sqlx::query(
                        "UPDATE memory_versions SET content = NULL, path = NULL, content_sha256 = NULL, \
                         content_size_bytes = NULL, redacted_at = $1, redacted_by_type = $2, redacted_by_id = $3 \
                         WHERE store_id = $4 AND id = $5",
                    )
                    .bind(at)
                    .bind(by.kind())
                    .bind(by.id())
                    .bind(store_id)
                    .bind(id)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn state_at(&mut self, store_id: &str, revision: i64) -> Result<Vec<VersionRow>> {
                    let rows = sqlx::query(concat!(
                        "SELECT ", version_cols!(), ", content FROM (SELECT v.*, ROW_NUMBER() OVER \
                         (PARTITION BY memory_id ORDER BY revision DESC) AS rn FROM memory_versions v \
                         WHERE store_id = $1 AND revision <= $2) latest WHERE rn = 1 ORDER BY memory_id"
                    ))
                    .bind(store_id)
                    .bind(revision)
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    all(rows, version_row)
                }

                async fn all_versions(&mut self, store_id: &str) -> Result<Vec<VersionRow>> {
                    let rows = sqlx::query(concat!(
                        "SELECT ", version_cols!(), ", ", $nb, " AS content FROM memory_versions WHERE store_id = $1 ORDER BY seq"
                    ))
                    .bind(store_id)
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    all(rows, version_row)
                }

                async fn all_revisions(&mut self, store_id: &str) -> Result<Vec<i64>> {
                    let rows = sqlx::query("SELECT revision FROM store_revisions WHERE store_id = $1 ORDER BY revision")
                        .bind(store_id)
                        .fetch_all(&mut *self)
                        .await
                        .map_err(db_err)?;
                    rows.iter().map(|r| r.try_get::<i64, _>("revision").map_err(db_err)).collect()
                }

                async fn tool_dirs(&mut self, store_id: &str) -> Result<Vec<String>> {
                    let rows = sqlx::query("SELECT path FROM memory_tool_dirs WHERE store_id = $1 ORDER BY path")
                        .bind(store_id)
                        .fetch_all(&mut *self)
                        .await
                        .map_err(db_err)?;
                    rows.iter().map(|r| r.try_get::<String, _>("path").map_err(db_err)).collect()
                }

                async fn set_tool_dirs(&mut self, store_id: &str, dirs: &BTreeSet<String>) -> Result<()> {
                    sqlx::query("DELETE FROM memory_tool_dirs WHERE store_id = $1")
                        .bind(store_id)
                        .execute(&mut *self)
                        .await
                        .map_err(db_err)?;
                    for d in dirs {
                        sqlx::query("INSERT INTO memory_tool_dirs (store_id, path) VALUES ($1, $2)")
                            .bind(store_id)
                            .bind(d)
                            .execute(&mut *self)
                            .await
                            .map_err(db_err)?;
                    }
                    Ok(())
                }

                $($($extra)*)?
            }
        };
    };
}

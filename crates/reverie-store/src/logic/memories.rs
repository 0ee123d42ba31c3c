//! Memories: create, retrieve, list (with prefixes, depth and cursors), update, delete.

use reverie_core::content::{validate_content, validate_sha256};
use reverie_core::id::{IdKind, check_id, new_id};
use reverie_core::page::{Page, decode_cursor, effective_limit, encode_cursor};
use reverie_core::path::{prefix_upper_bound, shorten, validate_path, validate_prefix};
use reverie_core::{Actor, Error, ListItem, Memory, MemoryPrefix, Result, View};
use serde::{Deserialize, Serialize};

use super::apply::{Create, Plan, Update, apply};
use super::{Record, SqlStore};
use crate::backend::Backend;
use crate::dao::{Dao, Seek};
use crate::params::{MemoryPatch, MemoryQuery};
use crate::rows::{MemoryRow, text};

/// The cursor of a memory listing: where the next page starts, and the listing it belongs to.
#[derive(Debug, Serialize, Deserialize)]
struct ListCursor {
    /// `a` = after this path, `f` = from this path.
    k: char,
    s: String,
    p: String,
    d: i64,
}

impl<B: Backend> SqlStore<B> {
    pub(crate) async fn create_memory_impl(
        &self,
        store_id: &str,
        path: &str,
        content: &str,
        actor: &Actor,
    ) -> Result<Memory> {
        validate_path(path)?;
        validate_content(content)?;
        // A taken path is found by the insert itself (see `apply`): no lookup first.
        let record = Record {
            actor,
            summary: format!("create {path}"),
        };
        let mut w = self.begin_write(store_id, false, 1, Some(record)).await?;
        let plan = Plan {
            creates: vec![Create {
                memory_id: new_id(IdKind::Memory),
                path: path.into(),
                content: content.into(),
            }],
            ..Plan::default()
        };
        let row = apply(&mut w, plan, actor).await?.rows.remove(0);
        self.finish(w, actor, None).await?;
        row.into_model()
    }

    pub(crate) async fn get_memory_impl(&self, store_id: &str, memory_id: &str) -> Result<Memory> {
        check_id(IdKind::Store, store_id)?;
        check_id(IdKind::Memory, memory_id)?;
        // Found directly when the backend can; a miss or a failure takes the pooled path,
        // which tells a missing store from a missing memory and reports errors.
        if let Some(d) = self.backend.direct()
            && let Ok(Some(row)) = d.memory(store_id, memory_id)
        {
            return row.into_model();
        }
        let mut conn = self.read().await?;
        match conn.memory(store_id, memory_id, true).await? {
            Some(row) => row.into_model(),
            None => {
                self.require_store(&mut conn, store_id).await?;
                Err(Error::not_found(IdKind::Memory.noun(), memory_id))
            }
        }
    }

    pub(crate) async fn get_memory_by_path_impl(
        &self,
        store_id: &str,
        path: &str,
    ) -> Result<Memory> {
        check_id(IdKind::Store, store_id)?;
        validate_path(path)?;
        if let Some(d) = self.backend.direct()
            && let Ok(Some(row)) = d.memory_by_path(store_id, path)
        {
            return row.into_model();
        }
        let mut conn = self.read().await?;
        match conn.memory_by_path(store_id, path, true).await? {
            Some(row) => row.into_model(),
            None => {
                self.require_store(&mut conn, store_id).await?;
                Err(Error::NotFound {
                    kind: "memory at path",
                    id: shorten(path),
                })
            }
        }
    }

    pub(crate) async fn list_memories_impl(
        &self,
        store_id: &str,
        q: &MemoryQuery,
    ) -> Result<Page<ListItem>> {
        let prefix = q.path_prefix.clone().unwrap_or_else(|| "/".to_string());
        validate_prefix(&prefix)?;
        let depth = q.depth.unwrap_or(0);
        if depth < 0 {
            return Err(Error::invalid(
                "depth",
                format!("must be 0 or more, got {depth}"),
            ));
        }
        let limit = effective_limit(q.limit, q.view)?;
        let with_content = q.view == View::Full;
        let seek = match &q.page {
            None => Seek::From(prefix.clone()),
            Some(page) => {
                let c: ListCursor = decode_cursor(page)?;
                if c.p != prefix || c.d != depth {
                    return Err(Error::invalid(
                        "page",
                        "the cursor belongs to a listing with another path_prefix or depth",
                    ));
                }
                // A cursor is only a position, but one outside the prefix would list (and
                // slice) paths the listing does not cover: refuse it like any foreign cursor.
                if !c.s.starts_with(&prefix) {
                    return Err(Error::invalid(
                        "page",
                        "the cursor points outside the listing's path_prefix",
                    ));
                }
                match c.k {
                    'a' => Seek::After(c.s),
                    'f' => Seek::From(c.s),
                    _ => return Err(Error::invalid("page", "is not a cursor from this listing")),
                }
            }
        };
        let upper = prefix_upper_bound(&prefix).expect("prefixes end with '/'");
        let listing = Listing {
            store_id,
            prefix: &prefix,
            upper: &upper,
            depth,
            limit,
            with_content,
        };
        // Read directly when the backend can and the store exists; otherwise, or on any
        // failure, through the pool, which tells a missing store and reports errors.
        if let Some(d) = self.backend.direct()
            && let Ok(true) = d.store_exists(store_id)
            && let Ok(p) = listing.read::<B>(&mut Pages::Direct(d), seek.clone()).await
        {
            return Ok(p);
        }
        let mut conn = self.read().await?;
        self.require_store(&mut conn, store_id).await?;
        listing.read::<B>(&mut Pages::Pool(&mut conn), seek).await
    }

    pub(crate) async fn update_memory_impl(
        &self,
        store_id: &str,
        memory_id: &str,
        patch: MemoryPatch,
        actor: &Actor,
    ) -> Result<Memory> {
        check_id(IdKind::Memory, memory_id)?;
        if let Some(p) = &patch.path {
            validate_path(p)?;
        }
        if let Some(c) = &patch.content {
            validate_content(c)?;
        }
        if let Some(sha) = &patch.precondition_content_sha256 {
            validate_sha256("precondition.content_sha256", sha)?;
        }
        let mut w = self.begin_write(store_id, false, 0, None).await?;
        let row =
            w.tx.memory(store_id, memory_id, true)
                .await?
                .ok_or_else(|| Error::not_found(IdKind::Memory.noun(), memory_id))?;
        if let Some(expected) = &patch.precondition_content_sha256
            && *expected != row.content_sha256
        {
            return Err(Error::PreconditionFailed {
                memory_id: memory_id.to_string(),
                expected: expected.clone(),
                actual: row.content_sha256,
            });
        }
        let path = patch.path.unwrap_or_else(|| row.path.clone());
        let current = text(row.content.clone().unwrap_or_default())?;
        let content = patch.content.unwrap_or_else(|| current.clone());
        if path == row.path && content == current {
            // Nothing changes: no version, no revision.
            return row.into_model();
        }
        if path != row.path
            && let Some(existing) = w.tx.memory_by_path(store_id, &path, false).await?
        {
            return Err(Error::PathConflict {
                path,
                existing_id: existing.id,
            });
        }
        let summary = if path != row.path {
            format!("update {} -> {path}", row.path)
        } else {
            format!("update {path}")
        };
        let plan = Plan {
            updates: vec![Update { row, path, content }],
            ..Plan::default()
        };
        let updated = apply(&mut w, plan, actor).await?.rows.remove(0);
        self.finish(w, actor, Some(summary)).await?;
        updated.into_model()
    }

    pub(crate) async fn delete_memory_impl(
        &self,
        store_id: &str,
        memory_id: &str,
        expected_sha: Option<&str>,
        actor: &Actor,
    ) -> Result<()> {
        check_id(IdKind::Memory, memory_id)?;
        if let Some(sha) = expected_sha {
            validate_sha256("expected_content_sha256", sha)?;
        }
        // Deleting from an archived store is allowed, as in the contract.
        let mut w = self.begin_write(store_id, true, -1, None).await?;
        let row: MemoryRow =
            w.tx.memory(store_id, memory_id, false)
                .await?
                .ok_or_else(|| Error::not_found(IdKind::Memory.noun(), memory_id))?;
        if let Some(expected) = expected_sha
            && expected != row.content_sha256
        {
            return Err(Error::PreconditionFailed {
                memory_id: memory_id.to_string(),
                expected: expected.to_string(),
                actual: row.content_sha256,
            });
        }
        let summary = format!("delete {}", row.path);
        apply(
            &mut w,
            Plan {
                deletes: vec![row],
                ..Plan::default()
            },
            actor,
        )
        .await?;
        self.finish(w, actor, Some(summary)).await?;
        Ok(())
    }
}

/// A memory listing: what `list_memories` pages through.
struct Listing<'a> {
    store_id: &'a str,
    prefix: &'a str,
    /// The first path after the prefix's.
    upper: &'a str,
    depth: i64,
    limit: i64,
    with_content: bool,
}

/// Where a listing reads its memories: the backend's direct reads or a pooled connection.
enum Pages<'c, B: Backend> {
    Direct(&'c crate::sqlite_direct::DirectReads),
    Pool(&'c mut sqlx::pool::PoolConnection<B::Db>),
}

impl Listing<'_> {
    /// At most `n` memories in path order from `seek`.
    async fn page<B: Backend>(
        &self,
        pages: &mut Pages<'_, B>,
        seek: &Seek,
        n: i64,
    ) -> Result<Vec<MemoryRow>> {
        match pages {
            Pages::Direct(d) => {
                d.memories_page(self.store_id, self.upper, seek, n, self.with_content)
            }
            Pages::Pool(conn) => {
                conn.memories_page(self.store_id, self.upper, seek, n, self.with_content)
                    .await
            }
        }
    }

    /// The page from `seek`: memories in path order, and folders rolled up past `depth`.
    async fn read<B: Backend>(
        &self,
        pages: &mut Pages<'_, B>,
        mut seek: Seek,
    ) -> Result<Page<ListItem>> {
        let (prefix, depth, limit) = (self.prefix, self.depth, self.limit);
        let mut items: Vec<ListItem> = Vec::new();
        let mut exhausted = false;
        'scan: while (items.len() as i64) < limit {
            let batch = self.page(pages, &seek, limit + 1).await?;
            let short = (batch.len() as i64) < limit + 1;
            for row in batch {
                if (items.len() as i64) == limit {
                    break 'scan;
                }
                let segments: Vec<&str> = row.path[prefix.len()..].split('/').collect();
                if depth > 0 && segments.len() as i64 > depth {
                    let rolled = format!("{prefix}{}/", segments[..depth as usize].join("/"));
                    seek = Seek::From(prefix_upper_bound(&rolled).expect("prefixes end with '/'"));
                    items.push(ListItem::Prefix(MemoryPrefix { path: rolled }));
                    // The rest of this batch may lie under the prefix just emitted: query again.
                    continue 'scan;
                }
                seek = Seek::After(row.path.clone());
                items.push(ListItem::Memory(row.into_model()?));
            }
            if short {
                exhausted = true;
                break;
            }
        }
        let more = !exhausted && !self.page(pages, &seek, 1).await?.is_empty();
        let next_page = more.then(|| {
            let (k, s) = match &seek {
                Seek::After(s) => ('a', s.clone()),
                Seek::From(s) => ('f', s.clone()),
            };
            encode_cursor(&ListCursor {
                k,
                s,
                p: prefix.to_string(),
                d: depth,
            })
        });
        Ok(Page {
            data: items,
            next_page,
        })
    }
}

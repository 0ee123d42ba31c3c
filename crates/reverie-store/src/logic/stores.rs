//! Memory stores: create, read, list, update, archive, delete.

use reverie_core::id::{IdKind, check_id, new_id};
use reverie_core::page::{Page, decode_cursor, effective_limit, split_page};
use reverie_core::store_meta::{
    DEFAULT_MAX_MEMORIES, patch_metadata, validate_description, validate_max_memories,
    validate_metadata, validate_name,
};
use reverie_core::{Error, MemoryStore, Result, Timestamp, View};

use super::SqlStore;
use crate::backend::Backend;
use crate::dao::{Dao, db_err};
use crate::params::{NewStore, StorePatch, StoreQuery};
use crate::rows::StoreRow;

impl<B: Backend> SqlStore<B> {
    pub(crate) async fn create_store_impl(&self, new: NewStore) -> Result<MemoryStore> {
        validate_name(&new.name)?;
        validate_description(&new.description)?;
        validate_metadata(&new.metadata)?;
        let max_memories = new.max_memories.unwrap_or(DEFAULT_MAX_MEMORIES);
        validate_max_memories(max_memories)?;
        let now = Timestamp::now().micros();
        let row = StoreRow {
            id: new_id(IdKind::Store),
            name: new.name,
            description: new.description,
            metadata: serde_json::to_string(&new.metadata).expect("string maps serialize"),
            created_at: now,
            updated_at: now,
            archived_at: None,
            revision: 0,
            memory_count: 0,
            max_memories,
        };
        let mut conn = self.read().await?;
        conn.insert_store(&row).await?;
        // An empty recall index, merged as memories come (one missing is built at the next
        // open or merge).
        super::recall_index::start(&mut *conn, &row.id).await?;
        row.into_model()
    }

    pub(crate) async fn get_store_impl(&self, store_id: &str) -> Result<MemoryStore> {
        let mut conn = self.read().await?;
        self.require_store(&mut conn, store_id).await?.into_model()
    }

    pub(crate) async fn stores_named_impl(&self, name: &str) -> Result<Vec<MemoryStore>> {
        let mut conn = self.read().await?;
        conn.stores_named(name)
            .await?
            .into_iter()
            .map(StoreRow::into_model)
            .collect()
    }

    pub(crate) async fn list_stores_impl(&self, q: &StoreQuery) -> Result<Page<MemoryStore>> {
        let limit = effective_limit(q.limit, View::Basic)?;
        let before: Option<(i64, String)> = q.page.as_deref().map(decode_cursor).transpose()?;
        let mut conn = self.read().await?;
        let rows = match &q.only {
            None => {
                conn.stores_page(
                    q.include_archived,
                    q.created_at_gte.map(Timestamp::micros),
                    q.created_at_lte.map(Timestamp::micros),
                    before,
                    limit + 1,
                )
                .await?
            }
            // Only some stores: walk the listing in its order, keeping theirs, so that cursors
            // mean the same as in the full listing.
            Some(only) => {
                const BATCH: i64 = 100;
                let mut kept = Vec::new();
                let mut cursor = before;
                loop {
                    let batch = conn
                        .stores_page(
                            q.include_archived,
                            q.created_at_gte.map(Timestamp::micros),
                            q.created_at_lte.map(Timestamp::micros),
                            cursor.clone(),
                            BATCH,
                        )
                        .await?;
                    let n = batch.len() as i64;
                    for r in batch {
                        cursor = Some((r.created_at, r.id.clone()));
                        if only.contains(&r.id) && (kept.len() as i64) < limit + 1 {
                            kept.push(r);
                        }
                    }
                    if kept.len() as i64 > limit || n < BATCH {
                        break kept;
                    }
                }
            }
        };
        let (rows, next_page) = split_page(rows, limit, |r| (r.created_at, r.id.clone()));
        let data = rows
            .into_iter()
            .map(StoreRow::into_model)
            .collect::<Result<_>>()?;
        Ok(Page { data, next_page })
    }

    pub(crate) async fn update_store_impl(
        &self,
        store_id: &str,
        patch: StorePatch,
    ) -> Result<MemoryStore> {
        if let Some(name) = &patch.name {
            validate_name(name)?;
        }
        if let Some(d) = &patch.description {
            validate_description(d)?;
        }
        if let Some(n) = patch.max_memories {
            validate_max_memories(n)?;
        }
        let (mut tx, mut row) = self.lock_store_fields(store_id).await?;
        if row.archived_at.is_some() {
            return Err(Error::StoreArchived {
                store_id: store_id.to_string(),
            });
        }
        if let Some(name) = patch.name {
            row.name = name;
        }
        if let Some(d) = patch.description {
            row.description = d;
        }
        if let Some(n) = patch.max_memories {
            row.max_memories = n;
        }
        if let Some(m) = &patch.metadata {
            let current = serde_json::from_str(&row.metadata).map_err(Error::storage)?;
            row.metadata = serde_json::to_string(&patch_metadata(&current, m)?)
                .expect("string maps serialize");
        }
        row.updated_at = Timestamp::now().micros();
        tx.update_store(&row).await?;
        tx.commit().await.map_err(db_err)?;
        row.into_model()
    }

    pub(crate) async fn archive_store_impl(&self, store_id: &str) -> Result<MemoryStore> {
        let (mut tx, mut row) = self.lock_store_fields(store_id).await?;
        if row.archived_at.is_some() {
            return Err(Error::invalid(
                "memory_store_id",
                format!("memory store {store_id} is already archived"),
            ));
        }
        let now = Timestamp::now().micros();
        row.archived_at = Some(now);
        row.updated_at = now;
        tx.update_store(&row).await?;
        tx.commit().await.map_err(db_err)?;
        row.into_model()
    }

    pub(crate) async fn delete_store_impl(&self, store_id: &str) -> Result<()> {
        check_id(IdKind::Store, store_id)?;
        let mut conn = self.read().await?;
        if !conn.delete_store(store_id).await? {
            return Err(Error::not_found(IdKind::Store.noun(), store_id));
        }
        Ok(())
    }
}

//! Memory versions (list, retrieve, redact), store revisions, and a store's state at a revision.

use reverie_core::id::{IdKind, check_id};
use reverie_core::page::{Page, decode_cursor, effective_limit, split_page};
use reverie_core::{Actor, Error, MemoryVersion, Result, Timestamp, View};

use super::SqlStore;
use crate::backend::Backend;
use crate::dao::{Dao, VersionFilter, db_err};
use crate::params::{Revision, VersionQuery};
use crate::rows::{RevisionRow, VersionRow};

impl<B: Backend> SqlStore<B> {
    pub(crate) async fn list_versions_impl(
        &self,
        store_id: &str,
        q: &VersionQuery,
    ) -> Result<Page<MemoryVersion>> {
        let limit = effective_limit(q.limit, q.view)?;
        if let Some(m) = &q.memory_id {
            check_id(IdKind::Memory, m)?;
        }
        let actor_filters = [
            ("api_actor", &q.api_key_id),
            ("session_actor", &q.session_id),
            ("service_account_actor", &q.service_account_id),
        ];
        let mut actor = None;
        for (kind, id) in actor_filters {
            if let Some(id) = id {
                if actor.is_some() {
                    return Err(Error::invalid(
                        "created_by",
                        "filter by at most one of api_key_id, session_id and service_account_id",
                    ));
                }
                actor = Some((kind, id.clone()));
            }
        }
        let filter = VersionFilter {
            memory_id: q.memory_id.clone(),
            operation: q.operation.map(|o| o.as_str()),
            created_at_gte: q.created_at_gte.map(Timestamp::micros),
            created_at_lte: q.created_at_lte.map(Timestamp::micros),
            actor,
        };
        let before: Option<i64> = q.page.as_deref().map(decode_cursor).transpose()?;
        let mut conn = self.read().await?;
        self.require_store(&mut conn, store_id).await?;
        let rows = conn
            .versions_page(store_id, &filter, before, limit + 1, q.view == View::Full)
            .await?;
        let (rows, next_page) = split_page(rows, limit, |r| r.seq);
        let data = rows
            .into_iter()
            .map(VersionRow::into_model)
            .collect::<Result<_>>()?;
        Ok(Page { data, next_page })
    }

    pub(crate) async fn get_version_impl(
        &self,
        store_id: &str,
        version_id: &str,
    ) -> Result<MemoryVersion> {
        check_id(IdKind::Store, store_id)?;
        check_id(IdKind::Version, version_id)?;
        let mut conn = self.read().await?;
        match conn.version(store_id, version_id, true).await? {
            Some(row) => row.into_model(),
            None => {
                self.require_store(&mut conn, store_id).await?;
                Err(Error::not_found(IdKind::Version.noun(), version_id))
            }
        }
    }

    pub(crate) async fn redact_version_impl(
        &self,
        store_id: &str,
        version_id: &str,
        actor: &Actor,
    ) -> Result<MemoryVersion> {
        check_id(IdKind::Version, version_id)?;
        let (mut tx, _) = self.lock_store_fields(store_id).await?;
        let v = tx
            .version(store_id, version_id, false)
            .await?
            .ok_or_else(|| Error::not_found(IdKind::Version.noun(), version_id))?;
        if v.redacted_at.is_some() {
            return Err(Error::invalid(
                "memory_version_id",
                format!("memory version {version_id} is already redacted"),
            ));
        }
        if let Some(live) = tx.memory(store_id, &v.memory_id, false).await?
            && live.version_id == v.id
        {
            return Err(Error::invalid(
                "memory_version_id",
                format!(
                    "memory version {version_id} holds the current content of memory {}; update or delete the memory before redacting it",
                    v.memory_id
                ),
            ));
        }
        tx.redact_version(store_id, version_id, Timestamp::now().micros(), actor)
            .await?;
        let row = tx
            .version(store_id, version_id, false)
            .await?
            .expect("the version was just read");
        tx.commit().await.map_err(db_err)?;
        row.into_model()
    }

    pub(crate) async fn list_revisions_impl(
        &self,
        store_id: &str,
        limit: Option<i64>,
        page: Option<&str>,
    ) -> Result<Page<Revision>> {
        let limit = effective_limit(limit, View::Basic)?;
        let before: Option<i64> = page.map(decode_cursor).transpose()?;
        let mut conn = self.read().await?;
        self.require_store(&mut conn, store_id).await?;
        let rows = conn.revisions_page(store_id, before, limit + 1).await?;
        let (rows, next_page) = split_page(rows, limit, |r| r.revision);
        Ok(Page {
            data: rows.into_iter().map(RevisionRow::into_model).collect(),
            next_page,
        })
    }

    pub(crate) async fn state_at_impl(
        &self,
        store_id: &str,
        revision: i64,
    ) -> Result<Vec<MemoryVersion>> {
        let mut conn = self.read().await?;
        let store = self.require_store(&mut conn, store_id).await?;
        check_revision(revision, store.revision)?;
        conn.state_at(store_id, revision)
            .await?
            .into_iter()
            .map(VersionRow::into_model)
            .collect()
    }
}

/// Refuses a revision the store has not reached.
pub(crate) fn check_revision(revision: i64, current: i64) -> Result<()> {
    if !(0..=current).contains(&revision) {
        return Err(Error::invalid(
            "revision",
            format!("must be 0 to {current}, the store's current revision; got {revision}"),
        ));
    }
    Ok(())
}

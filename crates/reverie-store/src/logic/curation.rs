//! Policies and entry metadata: reading them, pinning an entry, and bringing an archived or
//! superseded entry back into its memory.

use reverie_core::curation::{EntryMeta, EntryState};
use reverie_core::entry::{Document, Edit};
use reverie_core::id::{IdKind, check_id, new_id};
use reverie_core::policy::Policy;
use reverie_core::{Actor, Error, Result, Timestamp};

use super::apply::{Create, Plan, Update, apply};
use super::{Record, SqlStore};
use crate::backend::Backend;
use crate::dao::{Dao, db_err};
use crate::dao_dreams::DreamDao;
use crate::params::StoreState;
use crate::rows::MemoryRow;
use crate::rows_dreams::{EntryRow, from_json, to_json};

impl<B: Backend> SqlStore<B> {
    pub(crate) async fn get_policy_impl(&self, store_id: &str) -> Result<Policy> {
        let mut conn = self.read().await?;
        self.require_store(&mut conn, store_id).await?;
        read_policy(&mut *conn, store_id).await
    }

    pub(crate) async fn set_policy_impl(&self, store_id: &str, policy: &Policy) -> Result<Policy> {
        policy.validate()?;
        let (mut tx, store) = self.lock_store_fields(store_id).await?;
        // An archived store is read-only, its policy included (as for every other write).
        if store.archived_at.is_some() {
            return Err(Error::StoreArchived { store_id: store.id });
        }
        tx.upsert_policy(store_id, &to_json(policy), Timestamp::now().micros())
            .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(policy.clone())
    }

    pub(crate) async fn pinned_entry_ids_impl(&self, store_id: &str) -> Result<Vec<String>> {
        let mut conn = self.read().await?;
        self.require_store(&mut conn, store_id).await?;
        conn.pinned_entry_ids(store_id).await
    }

    pub(crate) async fn list_entries_impl(
        &self,
        store_id: &str,
        state: Option<EntryState>,
    ) -> Result<Vec<EntryMeta>> {
        check_id(IdKind::Store, store_id)?;
        let state = state.map(EntryState::as_str);
        // Read directly when the backend can; a failure takes the pooled path, which reports it.
        match self.backend.direct().map(|d| d.entries(store_id, state)) {
            Some(Ok(Some(entries))) => Ok(entries),
            Some(Ok(None)) => Err(Error::not_found(IdKind::Store.noun(), store_id)),
            None | Some(Err(_)) => {
                let mut conn = self.read().await?;
                self.require_store(&mut conn, store_id).await?;
                let rows = conn.entries(store_id, state).await?;
                rows.into_iter().map(EntryRow::into_model).collect()
            }
        }
    }

    pub(crate) async fn context_entries_impl(
        &self,
        store_id: &str,
        useful: bool,
    ) -> Result<Vec<EntryMeta>> {
        check_id(IdKind::Store, store_id)?;
        let mut conn = self.read().await?;
        self.require_store(&mut conn, store_id).await?;
        let rows = conn.context_entries(store_id, useful).await?;
        rows.into_iter().map(EntryRow::into_model).collect()
    }

    pub(crate) async fn get_entry_impl(&self, store_id: &str, entry_id: &str) -> Result<EntryMeta> {
        check_id(IdKind::Entry, entry_id)?;
        let mut conn = self.read().await?;
        self.require_store(&mut conn, store_id).await?;
        conn.entry(store_id, entry_id)
            .await?
            .ok_or_else(|| Error::not_found(IdKind::Entry.noun(), entry_id))?
            .into_model()
    }

    pub(crate) async fn pin_entry_impl(
        &self,
        store_id: &str,
        entry_id: &str,
        pinned: bool,
    ) -> Result<EntryMeta> {
        check_id(IdKind::Entry, entry_id)?;
        let (mut tx, _) = self.lock_store_fields(store_id).await?;
        let mut row = tx
            .entry(store_id, entry_id)
            .await?
            .ok_or_else(|| Error::not_found(IdKind::Entry.noun(), entry_id))?;
        if pinned && row.state != EntryState::Live.as_str() {
            return Err(Error::Conflict(format!(
                "entry {entry_id} is {}: restore it before pinning it",
                row.state
            )));
        }
        row.pinned = pinned as i64;
        tx.update_entry(&row).await?;
        tx.commit().await.map_err(db_err)?;
        row.into_model()
    }

    /// Puts an archived or superseded entry back at the end of its section in its memory (the
    /// memory is created if it is gone), as a new revision.
    pub(crate) async fn restore_entry_impl(
        &self,
        store_id: &str,
        entry_id: &str,
        actor: &Actor,
    ) -> Result<(EntryMeta, i64)> {
        check_id(IdKind::Entry, entry_id)?;
        let record = Record {
            actor,
            summary: format!("restore entry {entry_id}"),
        };
        let mut w = self.begin_write(store_id, false, 0, Some(record)).await?;
        let mut row =
            w.tx.entry(store_id, entry_id)
                .await?
                .ok_or_else(|| Error::not_found(IdKind::Entry.noun(), entry_id))?;
        if row.state == EntryState::Live.as_str() {
            return Err(Error::Conflict(format!(
                "entry {entry_id} is live in {}: there is nothing to restore",
                row.path
            )));
        }
        let meta = row.clone().into_model()?;
        let edit = Edit::Append {
            section: meta.section.clone(),
            body: meta.text.clone(),
            item: true,
        };
        let current = w.tx.memory_by_path(store_id, &meta.path, true).await?;
        let mut plan = Plan::default();
        match current {
            Some(m) => {
                let content = crate::rows::text(m.content.clone().unwrap_or_default())?;
                let doc = Document::parse(&content).apply(&[edit])?;
                plan.updates.push(Update {
                    path: m.path.clone(),
                    content: doc.render(),
                    row: m,
                });
            }
            None => {
                let doc = Document::parse("").apply(&[edit])?;
                plan.creates.push(Create {
                    memory_id: new_id(IdKind::Memory),
                    path: meta.path.clone(),
                    content: doc.render(),
                });
            }
        }
        reverie_core::content::validate_content(
            match (&plan.updates.first(), &plan.creates.first()) {
                (Some(u), _) => &u.content,
                (_, Some(c)) => &c.content,
                _ => unreachable!("one change"),
            },
        )?;
        apply(&mut w, plan, actor).await?;
        row.state = EntryState::Live.as_str().to_string();
        row.superseded_by = None;
        w.tx.update_entry(&row).await?;
        let revision = self.finish(w, actor, None).await?;
        Ok((row.into_model()?, revision))
    }

    /// Every memory of the store with its content, sorted by path.
    pub(crate) async fn memories_with_content_impl(
        &self,
        store_id: &str,
    ) -> Result<Vec<reverie_core::Memory>> {
        check_id(IdKind::Store, store_id)?;
        let mut conn = self.read().await?;
        if conn.store(store_id).await?.is_none() {
            return Err(Error::not_found(IdKind::Store.noun(), store_id));
        }
        conn.memories_with_content(store_id)
            .await?
            .into_iter()
            .map(MemoryRow::into_model)
            .collect()
    }

    /// The store as a dream reads it: memories, entries and policy at one revision.
    pub(crate) async fn store_state_impl(&self, store_id: &str) -> Result<StoreState> {
        check_id(IdKind::Store, store_id)?;
        // One transaction, so that everything is of the same revision.
        let mut tx = self
            .backend
            .pool()
            .begin_with(B::BEGIN_SNAPSHOT)
            .await
            .map_err(db_err)?;
        let store = tx
            .store(store_id)
            .await?
            .ok_or_else(|| Error::not_found(IdKind::Store.noun(), store_id))?;
        let memories = tx
            .memories_with_content(store_id)
            .await?
            .into_iter()
            .map(MemoryRow::into_model)
            .collect::<Result<Vec<_>>>()?;
        let entries = tx
            .entries(store_id, None)
            .await?
            .into_iter()
            .map(EntryRow::into_model)
            .collect::<Result<Vec<_>>>()?;
        let policy = read_policy(&mut *tx, store_id).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(StoreState {
            store: store.into_model()?,
            memories,
            entries,
            policy,
        })
    }
}

/// A store's policy, or the default one.
pub(crate) async fn read_policy<C: DreamDao + ?Sized>(
    conn: &mut C,
    store_id: &str,
) -> Result<Policy> {
    match conn.policy(store_id).await? {
        Some(json) => from_json("policy", store_id, &json),
        None => Ok(Policy::default()),
    }
}

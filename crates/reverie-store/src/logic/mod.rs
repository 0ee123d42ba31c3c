//! The store's logic, written once for both backends: validation through `reverie-core`, then
//! queries through [`Dao`], inside the transactions described in the crate docs.

mod apply;
mod check;
mod curation;
mod dreams;
mod keys;
mod memories;
mod recall_index;
mod restore;
mod search;
mod sessions;
mod stores;
mod tool;
mod versions;

pub use dreams::dream_actor;

use async_trait::async_trait;
use reverie_core::curation::{Changeset, EntryMeta, EntryState};
use reverie_core::dream::{Dream, DreamError, DreamStatus, ValidDream};
use reverie_core::id::{IdKind, check_id};
use reverie_core::memtool::Command;
use reverie_core::page::Page;
use reverie_core::policy::Policy;
use reverie_core::search::{RecallQuery, Recalled, Via};
use reverie_core::session::{Event, EventKind, Outcome, Session};
use reverie_core::{Actor, Error, ListItem, Memory, MemoryStore, MemoryVersion, Result, Timestamp};
use sqlx::pool::PoolConnection;
use sqlx::{Pool, Transaction};

use crate::Store;
use crate::backend::Backend;
use crate::dao::{Dao, db_err};
use crate::params::*;
use crate::rows::{RevisionRow, StoreRow};

/// The [`Store`] implementation over a sqlx backend.
#[derive(Debug, Clone)]
pub struct SqlStore<B: Backend> {
    pub(crate) backend: B,
    /// Changesets parsed before, by dream and version (see `changeset_cache`); clones of the
    /// store share it.
    pub(crate) changesets: std::sync::Arc<crate::changeset_cache::ChangesetCache>,
    /// The recall index's postings and members decoded before (see `recall_cache`); clones of
    /// the store share it.
    pub(crate) recall_cache: std::sync::Arc<crate::recall_cache::RecallCache>,
}

/// A write in progress: the transaction, the store as of the bumped revision, the time every
/// version of the write carries, and how much the bump already added to the memory count.
pub(crate) struct Write<B: Backend> {
    pub tx: Transaction<'static, B::Db>,
    pub store: StoreRow,
    pub now: i64,
    pub counted: i64,
    /// Whether the revision's row was written with the bump (its summary was known then).
    pub recorded: bool,
    /// This process's turn to write, where the backend queues writers (see
    /// `Backend::write_gate`); released when the write is dropped, after its commit.
    pub _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

/// What a write's revision records, when it is known as the write begins.
pub(crate) struct Record<'a> {
    pub actor: &'a Actor,
    pub summary: String,
}

impl<B: Backend> SqlStore<B> {
    pub(crate) fn new(backend: B) -> Self {
        SqlStore {
            backend,
            changesets: std::sync::Arc::new(crate::changeset_cache::ChangesetCache::new(
                crate::changeset_cache::BUDGET_BYTES,
            )),
            recall_cache: Default::default(),
        }
    }

    /// The connection pool, for callers that need raw access (tests, benchmarks).
    pub fn pool(&self) -> &Pool<B::Db> {
        self.backend.pool()
    }

    /// This process's turn to write, where the backend queues writers (see
    /// `Backend::write_gate`): held until dropped.
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.backend.write_gate() {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        }
    }

    pub(crate) async fn read(&self) -> Result<PoolConnection<B::Db>> {
        self.backend.pool().acquire().await.map_err(db_err)
    }

    /// Opens a write on a store: takes the store's write lock by bumping its revision, and
    /// adds `count_delta` — the change in live memories the caller expects — to the store's
    /// memory count in the same statement (`apply` corrects it if the write turns out
    /// otherwise). With `record`, the revision's row is written with the bump, saving a round
    /// trip. The transaction rolls back — revision, count and record with it — unless
    /// [`Self::finish`] commits it.
    pub(crate) async fn begin_write(
        &self,
        store_id: &str,
        allow_archived: bool,
        count_delta: i64,
        record: Option<Record<'_>>,
    ) -> Result<Write<B>> {
        check_id(IdKind::Store, store_id)?;
        let turn = self.write_turn().await;
        let now = Timestamp::now().micros();
        let mut tx = self
            .backend
            .pool()
            .begin_with(B::BEGIN_WRITE)
            .await
            .map_err(db_err)?;
        let recorded = record.is_some();
        let bumped = match record {
            Some(r) => {
                let row = RevisionRow {
                    store_id: store_id.to_string(),
                    revision: 0,
                    created_at: now,
                    actor_type: Some(r.actor.kind().to_string()),
                    actor_id: Some(r.actor.id().to_string()),
                    summary: r.summary,
                };
                tx.bump_and_record(store_id, count_delta, &row).await?
            }
            None => tx.bump_revision(store_id, count_delta).await?,
        };
        let store = bumped.ok_or_else(|| Error::not_found(IdKind::Store.noun(), store_id))?;
        if !allow_archived && store.archived_at.is_some() {
            return Err(Error::StoreArchived {
                store_id: store_id.to_string(),
            });
        }
        Ok(Write {
            tx,
            store,
            now,
            counted: count_delta,
            recorded,
            _turn: turn,
        })
    }

    /// Records the revision and commits. `summary` is `None` exactly when the write was begun
    /// with a [`Record`], which wrote the revision's row already.
    pub(crate) async fn finish(
        &self,
        mut w: Write<B>,
        actor: &Actor,
        summary: Option<String>,
    ) -> Result<i64> {
        let revision = w.store.revision;
        debug_assert_eq!(
            w.recorded,
            summary.is_none(),
            "a revision is recorded exactly once"
        );
        if let Some(summary) = summary {
            w.tx.insert_revision(&RevisionRow {
                store_id: w.store.id.clone(),
                revision,
                created_at: w.now,
                actor_type: Some(actor.kind().to_string()),
                actor_id: Some(actor.id().to_string()),
                summary,
            })
            .await?;
        }
        w.tx.commit().await.map_err(db_err)?;
        Ok(revision)
    }

    /// Locks a store's row for a change that does not touch its memories (its own fields,
    /// archiving, redaction): no revision is bumped.
    pub(crate) async fn lock_store_fields(
        &self,
        store_id: &str,
    ) -> Result<(Transaction<'static, B::Db>, StoreRow)> {
        check_id(IdKind::Store, store_id)?;
        let mut tx = self
            .backend
            .pool()
            .begin_with(B::BEGIN_WRITE)
            .await
            .map_err(db_err)?;
        let row = tx
            .lock_store(store_id)
            .await?
            .ok_or_else(|| Error::not_found(IdKind::Store.noun(), store_id))?;
        Ok((tx, row))
    }

    /// The store, or `not_found`: used on the miss path of reads to tell a missing store from a
    /// missing memory.
    pub(crate) async fn require_store(
        &self,
        conn: &mut B::Conn,
        store_id: &str,
    ) -> Result<StoreRow> {
        check_id(IdKind::Store, store_id)?;
        conn.store(store_id)
            .await?
            .ok_or_else(|| Error::not_found(IdKind::Store.noun(), store_id))
    }
}

#[async_trait]
impl<B: Backend> Store for SqlStore<B> {
    fn backend(&self) -> &'static str {
        B::NAME
    }

    async fn create_store(&self, new: NewStore) -> Result<MemoryStore> {
        self.create_store_impl(new).await
    }
    async fn get_store(&self, store_id: &str) -> Result<MemoryStore> {
        self.get_store_impl(store_id).await
    }
    async fn stores_named(&self, name: &str) -> Result<Vec<MemoryStore>> {
        self.stores_named_impl(name).await
    }
    async fn list_stores(&self, query: &StoreQuery) -> Result<Page<MemoryStore>> {
        self.list_stores_impl(query).await
    }
    async fn update_store(&self, store_id: &str, patch: StorePatch) -> Result<MemoryStore> {
        self.update_store_impl(store_id, patch).await
    }
    async fn archive_store(&self, store_id: &str) -> Result<MemoryStore> {
        self.archive_store_impl(store_id).await
    }
    async fn delete_store(&self, store_id: &str) -> Result<()> {
        self.delete_store_impl(store_id).await
    }

    async fn create_memory(
        &self,
        store_id: &str,
        path: &str,
        content: &str,
        actor: &Actor,
    ) -> Result<Memory> {
        self.create_memory_impl(store_id, path, content, actor)
            .await
    }
    async fn get_memory(&self, store_id: &str, memory_id: &str) -> Result<Memory> {
        self.get_memory_impl(store_id, memory_id).await
    }
    async fn get_memory_by_path(&self, store_id: &str, path: &str) -> Result<Memory> {
        self.get_memory_by_path_impl(store_id, path).await
    }
    async fn list_memories(&self, store_id: &str, query: &MemoryQuery) -> Result<Page<ListItem>> {
        self.list_memories_impl(store_id, query).await
    }
    async fn update_memory(
        &self,
        store_id: &str,
        memory_id: &str,
        patch: MemoryPatch,
        actor: &Actor,
    ) -> Result<Memory> {
        self.update_memory_impl(store_id, memory_id, patch, actor)
            .await
    }
    async fn delete_memory(
        &self,
        store_id: &str,
        memory_id: &str,
        expected_content_sha256: Option<&str>,
        actor: &Actor,
    ) -> Result<()> {
        self.delete_memory_impl(store_id, memory_id, expected_content_sha256, actor)
            .await
    }

    async fn list_versions(
        &self,
        store_id: &str,
        query: &VersionQuery,
    ) -> Result<Page<MemoryVersion>> {
        self.list_versions_impl(store_id, query).await
    }
    async fn get_version(&self, store_id: &str, version_id: &str) -> Result<MemoryVersion> {
        self.get_version_impl(store_id, version_id).await
    }
    async fn redact_version(
        &self,
        store_id: &str,
        version_id: &str,
        actor: &Actor,
    ) -> Result<MemoryVersion> {
        self.redact_version_impl(store_id, version_id, actor).await
    }
    async fn list_revisions(
        &self,
        store_id: &str,
        limit: Option<i64>,
        page: Option<&str>,
    ) -> Result<Page<Revision>> {
        self.list_revisions_impl(store_id, limit, page).await
    }
    async fn state_at(&self, store_id: &str, revision: i64) -> Result<Vec<MemoryVersion>> {
        self.state_at_impl(store_id, revision).await
    }

    async fn restore_memory(
        &self,
        store_id: &str,
        memory_id: &str,
        version_id: &str,
        actor: &Actor,
    ) -> Result<RestoreReport> {
        self.restore_memory_impl(store_id, memory_id, version_id, actor)
            .await
    }
    async fn restore_store(
        &self,
        store_id: &str,
        revision: i64,
        actor: &Actor,
    ) -> Result<RestoreReport> {
        self.restore_store_impl(store_id, revision, actor).await
    }

    async fn memory_tool(
        &self,
        store_id: &str,
        command: &Command,
        actor: &Actor,
    ) -> Result<ToolOutcome> {
        self.memory_tool_impl(store_id, command, actor).await
    }

    async fn check_integrity(&self, store_id: &str) -> Result<Vec<String>> {
        self.check_integrity_impl(store_id).await
    }

    async fn session_source(
        &self,
        store_id: &str,
        source_path: &str,
    ) -> Result<Option<SourceState>> {
        self.session_source_impl(store_id, source_path).await
    }
    async fn create_session(&self, new: NewSession) -> Result<Session> {
        self.create_session_impl(new).await
    }
    async fn append_to_session(&self, session_id: &str, batch: &SessionBatch) -> Result<Session> {
        self.append_to_session_impl(session_id, batch).await
    }
    async fn start_session(&self, new: NewSession, batch: &SessionBatch) -> Result<Session> {
        self.start_session_impl(new, batch).await
    }
    async fn reset_session(&self, session_id: &str) -> Result<Session> {
        self.reset_session_impl(session_id).await
    }
    async fn get_session(&self, session_id: &str) -> Result<Session> {
        self.get_session_impl(session_id).await
    }
    async fn list_sessions(
        &self,
        store_id: &str,
        limit: Option<i64>,
        page: Option<&str>,
    ) -> Result<Page<Session>> {
        self.list_sessions_impl(store_id, limit, page).await
    }
    async fn session_events(
        &self,
        session_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<Event>> {
        self.session_events_impl(session_id, after_seq, limit).await
    }
    async fn store_events(
        &self,
        store_id: &str,
        kinds: &[EventKind],
    ) -> Result<Vec<(String, Event)>> {
        self.store_events_impl(store_id, kinds).await
    }
    async fn session_lines(
        &self,
        session_id: &str,
        from_line: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String)>> {
        self.session_lines_impl(session_id, from_line, limit).await
    }
    async fn set_session_outcome(
        &self,
        session_id: &str,
        outcome: Option<Outcome>,
    ) -> Result<Session> {
        self.set_session_outcome_impl(session_id, outcome).await
    }

    async fn get_policy(&self, store_id: &str) -> Result<Policy> {
        self.get_policy_impl(store_id).await
    }
    async fn set_policy(&self, store_id: &str, policy: &Policy) -> Result<Policy> {
        self.set_policy_impl(store_id, policy).await
    }
    async fn list_entries(
        &self,
        store_id: &str,
        state: Option<EntryState>,
    ) -> Result<Vec<EntryMeta>> {
        self.list_entries_impl(store_id, state).await
    }
    async fn context_entries(&self, store_id: &str, useful: bool) -> Result<Vec<EntryMeta>> {
        self.context_entries_impl(store_id, useful).await
    }
    async fn pinned_entry_ids(&self, store_id: &str) -> Result<Vec<String>> {
        self.pinned_entry_ids_impl(store_id).await
    }
    async fn get_entry(&self, store_id: &str, entry_id: &str) -> Result<EntryMeta> {
        self.get_entry_impl(store_id, entry_id).await
    }
    async fn pin_entry(&self, store_id: &str, entry_id: &str, pinned: bool) -> Result<EntryMeta> {
        self.pin_entry_impl(store_id, entry_id, pinned).await
    }
    async fn restore_entry(
        &self,
        store_id: &str,
        entry_id: &str,
        actor: &Actor,
    ) -> Result<(EntryMeta, i64)> {
        self.restore_entry_impl(store_id, entry_id, actor).await
    }
    async fn store_state(&self, store_id: &str) -> Result<StoreState> {
        self.store_state_impl(store_id).await
    }
    async fn memories_with_content(&self, store_id: &str) -> Result<Vec<Memory>> {
        self.memories_with_content_impl(store_id).await
    }
    async fn create_dream(&self, dream: ValidDream) -> Result<Dream> {
        self.create_dream_impl(dream).await
    }
    async fn get_dream(&self, dream_id: &str) -> Result<Dream> {
        self.get_dream_impl(dream_id).await
    }
    async fn dream_changeset(&self, dream_id: &str) -> Result<Option<Changeset>> {
        self.dream_changeset_impl(dream_id).await
    }
    async fn dream_changesets(
        &self,
        dream_ids: &[String],
    ) -> Result<Vec<Option<std::sync::Arc<Changeset>>>> {
        self.dream_changesets_impl(dream_ids).await
    }
    async fn dream_proposal(&self, dream_id: &str) -> Result<Option<DreamResult>> {
        self.dream_proposal_impl(dream_id).await
    }
    async fn list_dreams(&self, query: &DreamQuery) -> Result<Page<Dream>> {
        self.list_dreams_impl(query).await
    }
    async fn claim_dream(&self, dream_id: &str, runner: &str) -> Result<Dream> {
        self.claim_dream_impl(dream_id, runner).await
    }
    async fn heartbeat_dream(&self, dream_id: &str, runner: &str) -> Result<DreamStatus> {
        self.heartbeat_dream_impl(dream_id, runner).await
    }
    async fn set_dream_base(&self, dream_id: &str, runner: &str, base_revision: i64) -> Result<()> {
        self.set_dream_base_impl(dream_id, runner, base_revision)
            .await
    }
    async fn recall(&self, store_id: &str, query: &RecallQuery) -> Result<Vec<Recalled>> {
        self.recall_impl(store_id, query).await
    }
    async fn serve_entries(
        &self,
        store_id: &str,
        served: &mut [Recalled],
        via: Via,
        session_id: Option<&str>,
    ) -> Result<()> {
        self.serve_entries_impl(store_id, served, via, session_id)
            .await
    }
    async fn servings_in(&self, session_ids: &[String]) -> Result<Vec<(String, String)>> {
        self.servings_in_impl(session_ids).await
    }
    async fn create_api_key(
        &self,
        name: &str,
        stores: Option<Vec<String>>,
    ) -> Result<(reverie_core::api_key::ApiKey, String)> {
        self.create_api_key_impl(name, stores).await
    }
    async fn list_api_keys(&self) -> Result<Vec<reverie_core::api_key::ApiKey>> {
        self.list_api_keys_impl().await
    }
    async fn api_key_for_secret(
        &self,
        secret: &str,
    ) -> Result<Option<reverie_core::api_key::ApiKey>> {
        self.api_key_for_secret_impl(secret).await
    }
    async fn revoke_api_key(&self, id: &str) -> Result<reverie_core::api_key::ApiKey> {
        self.revoke_api_key_impl(id).await
    }
    async fn finish_dream(
        &self,
        dream_id: &str,
        runner: &str,
        result: DreamResult,
    ) -> Result<Dream> {
        self.finish_dream_impl(dream_id, runner, result).await
    }
    async fn fail_dream(
        &self,
        dream_id: &str,
        runner: Option<&str>,
        error: DreamError,
    ) -> Result<Dream> {
        self.fail_dream_impl(dream_id, runner, error).await
    }
    async fn cancel_dream(&self, dream_id: &str) -> Result<Dream> {
        self.cancel_dream_impl(dream_id).await
    }
    async fn archive_dream(&self, dream_id: &str) -> Result<Dream> {
        self.archive_dream_impl(dream_id).await
    }
    async fn decide_dream(&self, dream_id: &str, approve: bool, actor: &Actor) -> Result<Dream> {
        self.decide_dream_impl(dream_id, approve, actor).await
    }
    async fn approve_dream_as(
        &self,
        dream_id: &str,
        result: DreamResult,
        actor: &Actor,
    ) -> Result<Dream> {
        self.approve_dream_as_impl(dream_id, result, actor).await
    }
    async fn revert_dream(&self, dream_id: &str, actor: &Actor) -> Result<Dream> {
        self.revert_dream_impl(dream_id, actor).await
    }
    async fn running_dreams(&self) -> Result<Vec<RunningDream>> {
        self.running_dreams_impl().await
    }
}

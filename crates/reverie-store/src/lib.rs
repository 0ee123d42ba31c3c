//! reverie's storage: the [`Store`] trait — memory stores, memories, versions, revisions,
//! restore and the memory tool — with a SQLite and a PostgreSQL implementation over sqlx.
//!
//! Both backends share one implementation of the logic ([`SqlStore`], generic over a
//! `Backend`) and one set of portable queries (`dao`); what differs is
//! connection setup, migrations and how a write transaction takes its lock. Every change to a
//! store's memories runs in one transaction that first bumps the store's revision — which is
//! also the lock that serializes writers of a store on both backends — so a change is written
//! whole or not at all, and concurrent writers with preconditions see each other's effects.
//!
//! [`open`] picks the backend from a URL: `postgres://…` for PostgreSQL, anything else
//! (`sqlite://…` or a file path) for SQLite. Migrations are embedded and run on open.

#[macro_use]
mod dao;
#[macro_use]
mod dao_sessions;
#[macro_use]
mod dao_dreams;
#[macro_use]
mod dao_search;
#[macro_use]
mod dao_keys;
mod backend;
mod changeset_cache;
mod line_blocks;
pub use line_blocks::{BatchLines, Compressed};
mod logic;
mod params;
mod postgres;
mod postings;
mod recall_cache;
mod rows;
mod rows_dreams;
pub mod serving;
mod sqlite;
mod sqlite_direct;

use std::sync::Arc;

use async_trait::async_trait;
use reverie_core::api_key::ApiKey;
use reverie_core::curation::{Changeset, EntryMeta, EntryState};
use reverie_core::dream::{Dream, DreamError, DreamStatus, ValidDream};
use reverie_core::id::IdKind;
use reverie_core::memtool::Command;
use reverie_core::page::Page;
use reverie_core::policy::Policy;
use reverie_core::search::{RecallQuery, Recalled, Via};
use reverie_core::session::{Event, EventKind, Outcome, Session};
use reverie_core::{Actor, Error, ListItem, Memory, MemoryStore, MemoryVersion, Result};

pub use logic::SqlStore;
pub use logic::dream_actor;
pub use params::{
    DreamQuery, DreamResult, DreamWrite, MemoryPatch, MemoryQuery, NewSession, NewStore,
    RestoreReport, Revision, RunningDream, SessionBatch, SourceState, StorePatch, StoreQuery,
    StoreState, ToolOutcome, VersionQuery,
};
pub use postgres::{PgStore, connect_postgres};
pub use sqlite::{SqliteStore, Synchronous, connect_sqlite};

/// Everything reverie stores, behind one interface that both backends implement.
///
/// Ids are checked for shape before any lookup; a write names its [`Actor`], recorded on every
/// version it creates. All methods are safe to call concurrently.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Which backend this is: `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    // Memory stores.
    async fn create_store(&self, new: NewStore) -> Result<MemoryStore>;
    async fn get_store(&self, store_id: &str) -> Result<MemoryStore>;
    /// Stores with exactly this name, newest first.
    async fn stores_named(&self, name: &str) -> Result<Vec<MemoryStore>>;
    async fn list_stores(&self, query: &StoreQuery) -> Result<Page<MemoryStore>>;
    async fn update_store(&self, store_id: &str, patch: StorePatch) -> Result<MemoryStore>;
    /// Makes a store read-only. Archiving an archived store is refused.
    async fn archive_store(&self, store_id: &str) -> Result<MemoryStore>;
    /// Deletes a store with all its memories and versions.
    async fn delete_store(&self, store_id: &str) -> Result<()>;

    // Memories.
    async fn create_memory(
        &self,
        store_id: &str,
        path: &str,
        content: &str,
        actor: &Actor,
    ) -> Result<Memory>;
    /// A memory with its content.
    async fn get_memory(&self, store_id: &str, memory_id: &str) -> Result<Memory>;
    async fn get_memory_by_path(&self, store_id: &str, path: &str) -> Result<Memory>;
    async fn list_memories(&self, store_id: &str, query: &MemoryQuery) -> Result<Page<ListItem>>;
    async fn update_memory(
        &self,
        store_id: &str,
        memory_id: &str,
        patch: MemoryPatch,
        actor: &Actor,
    ) -> Result<Memory>;
    async fn delete_memory(
        &self,
        store_id: &str,
        memory_id: &str,
        expected_content_sha256: Option<&str>,
        actor: &Actor,
    ) -> Result<()>;

    // Versions and revisions.
    async fn list_versions(
        &self,
        store_id: &str,
        query: &VersionQuery,
    ) -> Result<Page<MemoryVersion>>;
    /// A version with its content (unless deleted or redacted).
    async fn get_version(&self, store_id: &str, version_id: &str) -> Result<MemoryVersion>;
    /// Nulls a version's content and path for good. The version a live memory currently holds
    /// cannot be redacted: update or delete the memory first.
    async fn redact_version(
        &self,
        store_id: &str,
        version_id: &str,
        actor: &Actor,
    ) -> Result<MemoryVersion>;
    /// Store revisions, newest first.
    async fn list_revisions(
        &self,
        store_id: &str,
        limit: Option<i64>,
        page: Option<&str>,
    ) -> Result<Page<Revision>>;
    /// The latest version of every memory at a revision (deleted ones included), with content.
    async fn state_at(&self, store_id: &str, revision: i64) -> Result<Vec<MemoryVersion>>;

    // Restore.
    /// Brings one memory back to a version of it, as a new version.
    async fn restore_memory(
        &self,
        store_id: &str,
        memory_id: &str,
        version_id: &str,
        actor: &Actor,
    ) -> Result<RestoreReport>;
    /// Brings every memory of a store back to its state at `revision`, as new versions in one
    /// new revision.
    async fn restore_store(
        &self,
        store_id: &str,
        revision: i64,
        actor: &Actor,
    ) -> Result<RestoreReport>;

    // The memory tool.
    /// Runs one `memory_20250818` command against the store, atomically.
    async fn memory_tool(
        &self,
        store_id: &str,
        command: &Command,
        actor: &Actor,
    ) -> Result<ToolOutcome>;

    /// Checks every invariant tying the store's memories, versions and revisions together;
    /// returns the problems found (none for a sound store).
    async fn check_integrity(&self, store_id: &str) -> Result<Vec<String>>;

    // Sessions.
    /// Where ingest of a source file into a store stopped, if it was ingested before.
    async fn session_source(
        &self,
        store_id: &str,
        source_path: &str,
    ) -> Result<Option<SourceState>>;
    /// A new, empty session attached to a store (refused for an archived store).
    async fn create_session(&self, new: NewSession) -> Result<Session>;
    /// Appends events and raw lines and moves the cursor, in one transaction; refused when the
    /// session is no longer at the batch's starting cursor.
    async fn append_to_session(&self, session_id: &str, batch: &SessionBatch) -> Result<Session>;
    /// A new session with its first batch, in one transaction: what [`Store::create_session`]
    /// then [`Store::append_to_session`] do, for one commit instead of two.
    async fn start_session(&self, new: NewSession, batch: &SessionBatch) -> Result<Session>;
    /// Empties a session (events, lines, metadata, cursor) to ingest its source again.
    async fn reset_session(&self, session_id: &str) -> Result<Session>;
    async fn get_session(&self, session_id: &str) -> Result<Session>;
    /// A store's sessions, newest first.
    async fn list_sessions(
        &self,
        store_id: &str,
        limit: Option<i64>,
        page: Option<&str>,
    ) -> Result<Page<Session>>;
    /// Events after `after_seq` (use -1 for the first), in order.
    async fn session_events(
        &self,
        session_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<Event>>;
    /// The events of `kinds` in all of a store's sessions, each with its session's id, by
    /// session and then in order: one read where a page of events per session would take a
    /// query each (drift and the failure curve read only tool calls).
    async fn store_events(
        &self,
        store_id: &str,
        kinds: &[EventKind],
    ) -> Result<Vec<(String, Event)>>;
    /// Raw (redacted) source lines from `from_line`, in order.
    async fn session_lines(
        &self,
        session_id: &str,
        from_line: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String)>>;
    /// Sets or clears a session's outcome.
    async fn set_session_outcome(
        &self,
        session_id: &str,
        outcome: Option<Outcome>,
    ) -> Result<Session>;

    // Curation: policy and entries.
    /// A store's policy (the default one until one is set).
    async fn get_policy(&self, store_id: &str) -> Result<Policy>;
    /// Replaces a store's policy, after validating it.
    async fn set_policy(&self, store_id: &str, policy: &Policy) -> Result<Policy>;
    /// A store's entry metadata, in any state or in one, sorted by id.
    async fn list_entries(
        &self,
        store_id: &str,
        state: Option<EntryState>,
    ) -> Result<Vec<EntryMeta>>;
    /// The live entries a context shows whatever its query, sorted by id: the pinned, the
    /// glossary's, and with `useful` those served or found helpful (what a context without a
    /// query ranks). A context reads these instead of every live entry.
    async fn context_entries(&self, store_id: &str, useful: bool) -> Result<Vec<EntryMeta>>;
    /// The ids of a store's live pinned entries, sorted: what a cached context depends on
    /// besides the store's revision.
    async fn pinned_entry_ids(&self, store_id: &str) -> Result<Vec<String>>;
    async fn get_entry(&self, store_id: &str, entry_id: &str) -> Result<EntryMeta>;
    /// Pins (or unpins) a live entry: dreams leave a pinned entry byte-identical.
    async fn pin_entry(&self, store_id: &str, entry_id: &str, pinned: bool) -> Result<EntryMeta>;
    /// Puts an archived or superseded entry back into its memory, as a new revision.
    async fn restore_entry(
        &self,
        store_id: &str,
        entry_id: &str,
        actor: &Actor,
    ) -> Result<(EntryMeta, i64)>;
    /// The store as a dream reads it: memories with content, entries and policy, at one
    /// revision.
    async fn store_state(&self, store_id: &str) -> Result<StoreState>;
    /// Every live memory of the store with its content, sorted by path: `store_state`'s
    /// memories without reading the entries and the policy.
    async fn memories_with_content(&self, store_id: &str) -> Result<Vec<Memory>>;

    // Dreams.
    /// A new pending dream; refused while another `update_existing` dream of the store is
    /// pending or running.
    async fn create_dream(&self, dream: ValidDream) -> Result<Dream>;
    async fn get_dream(&self, dream_id: &str) -> Result<Dream>;
    /// The changeset of a completed dream.
    async fn dream_changeset(&self, dream_id: &str) -> Result<Option<Changeset>>;
    /// The changesets of several dreams in one read, in the order of `dream_ids` (`None`
    /// for a dream that has none); an unknown id is not found.
    async fn dream_changesets(
        &self,
        dream_ids: &[String],
    ) -> Result<Vec<Option<std::sync::Arc<Changeset>>>>;
    /// The result a dream created with review on proposes (kept after it is decided).
    async fn dream_proposal(&self, dream_id: &str) -> Result<Option<DreamResult>>;
    /// Dreams, newest first.
    async fn list_dreams(&self, query: &DreamQuery) -> Result<Page<Dream>>;
    /// Starts a pending dream for `runner` (`host:pid`).
    async fn claim_dream(&self, dream_id: &str, runner: &str) -> Result<Dream>;
    /// Records that `runner` is still at work; returns the dream's status.
    async fn heartbeat_dream(&self, dream_id: &str, runner: &str) -> Result<DreamStatus>;
    /// Records the store revision a running dream read.
    async fn set_dream_base(&self, dream_id: &str, runner: &str, base_revision: i64) -> Result<()>;
    /// Completes a running dream with its result, in one transaction: applied (`update_existing`
    /// or `create_new`), or kept as a proposal. A conflict when the store moved where the
    /// result writes; nothing changes then.
    async fn finish_dream(
        &self,
        dream_id: &str,
        runner: &str,
        result: DreamResult,
    ) -> Result<Dream>;
    /// Fails a pending or running dream (of `runner`, when given).
    async fn fail_dream(
        &self,
        dream_id: &str,
        runner: Option<&str>,
        error: DreamError,
    ) -> Result<Dream>;
    async fn cancel_dream(&self, dream_id: &str) -> Result<Dream>;
    async fn archive_dream(&self, dream_id: &str) -> Result<Dream>;
    /// Applies (approve) or discards (reject) a proposal.
    async fn decide_dream(&self, dream_id: &str, approve: bool, actor: &Actor) -> Result<Dream>;
    /// Approves a proposal with `result` in its place: the proposal decided operation by
    /// operation (`reverie_dream::review`), computed from the same store revision and guard
    /// digest. The proposal itself is kept.
    async fn approve_dream_as(
        &self,
        dream_id: &str,
        result: DreamResult,
        actor: &Actor,
    ) -> Result<Dream>;
    /// Undoes an applied `update_existing` dream, as a new revision.
    async fn revert_dream(&self, dream_id: &str, actor: &Actor) -> Result<Dream>;
    /// Every running dream, with who runs it and when it last said it was alive.
    async fn running_dreams(&self) -> Result<Vec<RunningDream>>;

    // Search.
    /// The store's entries best matching a query, best first; with `query.serve`, they are
    /// served (counters bumped, the serving recorded).
    async fn recall(&self, store_id: &str, query: &RecallQuery) -> Result<Vec<Recalled>>;
    /// Serves entries an agent was given some other way (`reverie context`): counters bumped,
    /// the serving recorded, metadata created for entries no dream has seen.
    /// A new API key for every store (`None`) or for these stores (each must exist), and its
    /// secret — shown this once; only its digest is kept.
    async fn create_api_key(
        &self,
        name: &str,
        stores: Option<Vec<String>>,
    ) -> Result<(ApiKey, String)>;
    /// Every API key, revoked ones included, oldest first.
    async fn list_api_keys(&self) -> Result<Vec<ApiKey>>;
    /// The key a secret belongs to, revoked or not; `None` for an unknown secret.
    async fn api_key_for_secret(&self, secret: &str) -> Result<Option<ApiKey>>;
    /// Revokes a key (revoking a revoked key changes nothing).
    async fn revoke_api_key(&self, id: &str) -> Result<ApiKey>;
    async fn serve_entries(
        &self,
        store_id: &str,
        served: &mut [Recalled],
        via: Via,
        session_id: Option<&str>,
    ) -> Result<()>;
    /// The entries served in these sessions: (session, entry), sorted.
    async fn servings_in(&self, session_ids: &[String]) -> Result<Vec<(String, String)>>;
}

/// A store by id (`memstore_…`) or by name, among those `visible` admits; one it does not admit
/// is not found, so a caller confined to some stores learns nothing of the others.
pub async fn store_by_ref(
    store: &dyn Store,
    reference: &str,
    visible: impl Fn(&MemoryStore) -> bool,
) -> Result<MemoryStore> {
    if reference.starts_with(IdKind::Store.prefix()) {
        let s = store.get_store(reference).await?;
        return if visible(&s) {
            Ok(s)
        } else {
            Err(Error::not_found(IdKind::Store.noun(), reference))
        };
    }
    let mut named: Vec<MemoryStore> = store
        .stores_named(reference)
        .await?
        .into_iter()
        .filter(|s| visible(s))
        .collect();
    match named.len() {
        0 => Err(Error::not_found("memory store named", reference)),
        1 => Ok(named.remove(0)),
        n => Err(Error::invalid(
            "store",
            format!(
                "{n} stores are named {reference:?}; use an id: {}",
                named
                    .iter()
                    .map(|s| s.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// Every dream `query` matches, following its pages (`query.page` is where it starts).
pub async fn all_dreams(store: &dyn Store, mut query: DreamQuery) -> Result<Vec<Dream>> {
    let mut out = Vec::new();
    loop {
        let page = store.list_dreams(&query).await?;
        out.extend(page.data);
        match page.next_page {
            Some(next) => query.page = Some(next),
            None => return Ok(out),
        }
    }
}

/// Opens the store a URL names, running migrations: `postgres://` or `postgresql://` selects
/// PostgreSQL; `sqlite://PATH` or a bare path selects SQLite (the file is created if missing).
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(connect_postgres(url).await?))
    } else {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        Ok(Arc::new(
            connect_sqlite(std::path::Path::new(path), Synchronous::Full).await?,
        ))
    }
}

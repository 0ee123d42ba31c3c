//! Dreams in storage: their lifecycle, and the one transaction that commits a result.
//!
//! A dream's result is committed whole or not at all: the memories it writes, the entry
//! metadata, and the dream's own record change in one transaction that holds the store's write
//! lock. Before writing, every memory the result changes is checked against what the dream
//! read (its digest and path), and the policy and pinned entries against theirs: a write made
//! to the store meanwhile is never overwritten — the commit is refused with a conflict, and the
//! runner dreams again on the new state. Memories the result does not touch may have changed
//! freely; the commit lands on top of them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use reverie_core::content::validate_content;
use reverie_core::curation::{EntryMeta, guard_digest};
use reverie_core::dream::{
    Dream, DreamError, DreamStatus, OutputBehavior, ReviewState, Usage, ValidDream,
};
use reverie_core::id::{IdKind, check_id, new_id};
use reverie_core::page::{Page, decode_cursor, effective_limit, split_page};
use reverie_core::{Actor, Error, Result, Timestamp, View};
use serde::{Deserialize, Serialize};

use super::apply::{Create, Plan, Update, apply};
use super::curation::read_policy;
use super::{Record, SqlStore, Write};
use crate::backend::Backend;
use crate::dao::{Dao, db_err};
use crate::dao_dreams::{DreamDao, DreamFilter};
use crate::dao_sessions::SessionDao;
use crate::params::{DreamQuery, DreamResult, RunningDream};
use crate::rows::{RevisionRow, StoreRow};
use crate::rows_dreams::{DreamRow, EntryRow, from_json, to_json};

/// The actor of a dream's writes: the dream itself.
pub fn dream_actor(dream_id: &str) -> Actor {
    Actor::ServiceAccount {
        service_account_id: dream_id.to_string(),
    }
}

/// What reverting an applied dream needs of the entry metadata it changed.
#[derive(Debug, Default, Serialize, Deserialize)]
struct EntriesUndo {
    /// Entries the dream changed or removed, as they were before.
    before: Vec<EntryMeta>,
    /// Entries the dream added.
    added: Vec<String>,
}

impl<B: Backend> SqlStore<B> {
    pub(crate) async fn create_dream_impl(&self, d: ValidDream) -> Result<Dream> {
        let now = Timestamp::now().micros();
        let (mut tx, store) = self.lock_store_fields(&d.store_id).await?;
        if store.archived_at.is_some() {
            return Err(Error::StoreArchived { store_id: store.id });
        }
        // A dream's sessions are the workspace's, not only the store's (as on the hosted API):
        // a store may be dreamed over another's sessions. Who may see which store is the
        // caller's check (a scoped API key gets "not found" for the others' sessions).
        for s in &d.session_ids {
            if tx.session(s).await?.is_none() {
                return Err(Error::not_found(IdKind::Session.noun(), s.clone()));
            }
        }
        let update = matches!(d.output_behavior, OutputBehavior::UpdateExisting { .. });
        if update && let Some(other) = tx.active_update_dream(&d.store_id, "").await? {
            return Err(Error::Conflict(format!(
                "dream {} ({}) is already updating memory store {}; wait for it to stop or cancel it",
                other.id, other.status, d.store_id
            )));
        }
        let policy = read_policy(&mut *tx, &d.store_id).await?;
        let review = d.review.unwrap_or(policy.review);
        let row = DreamRow {
            id: new_id(IdKind::Dream),
            store_id: d.store_id,
            status: DreamStatus::Pending.as_str().to_string(),
            session_ids: to_json(&d.session_ids),
            model: to_json(&d.model),
            instructions: d.instructions,
            output_behavior: if update {
                "update_existing"
            } else {
                "create_new"
            }
            .to_string(),
            output_store_id: None,
            review: review.then(|| ReviewState::Pending.as_str().to_string()),
            decided_at: None,
            decided_by_type: None,
            decided_by_id: None,
            base_revision: None,
            applied_revision: None,
            reverted_revision: None,
            changeset: None,
            proposal: None,
            entries_undo: None,
            error_type: None,
            error_message: None,
            usage: to_json(&Usage::default()),
            runner: None,
            heartbeat_at: None,
            created_at: now,
            started_at: None,
            ended_at: None,
            archived_at: None,
            updated_at: now,
        };
        tx.insert_dream(&row).await?;
        tx.commit().await.map_err(db_err)?;
        row.into_model()
    }

    pub(crate) async fn get_dream_impl(&self, id: &str) -> Result<Dream> {
        self.dream_row(id).await?.into_model()
    }

    async fn dream_row(&self, id: &str) -> Result<DreamRow> {
        check_id(IdKind::Dream, id)?;
        let mut conn = self.read().await?;
        conn.dream(id)
            .await?
            .ok_or_else(|| Error::not_found(IdKind::Dream.noun(), id))
    }

    /// The changeset of a completed dream (`None` before it completes).
    pub(crate) async fn dream_changeset_impl(
        &self,
        id: &str,
    ) -> Result<Option<reverie_core::curation::Changeset>> {
        check_id(IdKind::Dream, id)?;
        // The changeset alone: the row's proposal and entries' undo can be megabytes.
        let json = self
            .read()
            .await?
            .dream_changeset_json(id)
            .await?
            .ok_or_else(|| Error::not_found(IdKind::Dream.noun(), id))?;
        json.as_deref()
            .map(|c| from_json("changeset", id, c))
            .transpose()
    }

    /// The changesets of `ids`, in order. Each dream's version (its row's `updated_at`) is
    /// read first; a changeset parsed before at that version is shared, and only the others
    /// are read and parsed (then kept, see `changeset_cache`).
    pub(crate) async fn dream_changesets_impl(
        &self,
        ids: &[String],
    ) -> Result<Vec<Option<Arc<reverie_core::curation::Changeset>>>> {
        for id in ids {
            check_id(IdKind::Dream, id)?;
        }
        let mut conn = self.read().await?;
        let versions: HashMap<String, i64> = conn.dream_versions(ids).await?.into_iter().collect();
        let mut found: HashMap<String, Option<Arc<reverie_core::curation::Changeset>>> =
            HashMap::with_capacity(ids.len());
        let mut missing: Vec<String> = Vec::new();
        for (id, &version) in &versions {
            match self.changesets.get(id, version) {
                Some(c) => {
                    found.insert(id.clone(), Some(c));
                }
                None => missing.push(id.clone()),
            }
        }
        if !missing.is_empty() {
            for (id, version, json) in conn.dream_changesets_json(&missing).await? {
                let changeset = match json {
                    Some(j) => {
                        let c: Arc<reverie_core::curation::Changeset> =
                            Arc::new(from_json("changeset", &id, &j)?);
                        self.changesets.put(&id, version, c.clone(), j.len());
                        Some(c)
                    }
                    None => None,
                };
                found.insert(id, changeset);
            }
        }
        ids.iter()
            .map(|id| {
                found
                    .get(id)
                    .cloned()
                    .ok_or_else(|| Error::not_found(IdKind::Dream.noun(), id))
            })
            .collect()
    }

    pub(crate) async fn dream_proposal_impl(&self, id: &str) -> Result<Option<DreamResult>> {
        let row = self.dream_row(id).await?;
        row.proposal
            .as_deref()
            .map(|p| from_json("proposal", id, p))
            .transpose()
    }

    pub(crate) async fn list_dreams_impl(&self, q: &DreamQuery) -> Result<Page<Dream>> {
        let limit = effective_limit(q.limit, View::Basic)?;
        let before: Option<(i64, String)> = q.page.as_deref().map(decode_cursor).transpose()?;
        if let Some(s) = &q.store_id {
            check_id(IdKind::Store, s)?;
        }
        let filter = DreamFilter {
            store_id: q.store_id.clone(),
            only: q.only.clone(),
            statuses: q.statuses.iter().map(|s| s.as_str().to_string()).collect(),
            include_archived: q.include_archived,
            created_gt: q.created_at_gt.map(Timestamp::micros),
            created_lt: q.created_at_lt.map(Timestamp::micros),
            before,
            limit: limit + 1,
        };
        let mut conn = self.read().await?;
        let rows = conn.dreams_page(&filter).await?;
        let (rows, next_page) = split_page(rows, limit, |r| (r.created_at, r.id.clone()));
        let data = rows
            .into_iter()
            .map(DreamRow::into_model)
            .collect::<Result<_>>()?;
        Ok(Page { data, next_page })
    }

    /// Moves a pending dream to running, for `runner`.
    pub(crate) async fn claim_dream_impl(&self, id: &str, runner: &str) -> Result<Dream> {
        let (mut tx, mut row) = self.lock_dream(id).await?;
        if row.status()? != DreamStatus::Pending {
            return Err(Error::Conflict(format!(
                "dream {id} is {}, not pending: it cannot be started",
                row.status
            )));
        }
        let now = Timestamp::now().micros();
        row.status = DreamStatus::Running.as_str().to_string();
        row.runner = Some(runner.to_string());
        row.started_at = Some(now);
        row.heartbeat_at = Some(now);
        row.updated_at = now;
        tx.update_dream(&row).await?;
        tx.commit().await.map_err(db_err)?;
        row.into_model()
    }

    /// Records that `runner` is still working on the dream; returns the dream's status (a
    /// canceled dream tells its runner to stop).
    pub(crate) async fn heartbeat_dream_impl(&self, id: &str, runner: &str) -> Result<DreamStatus> {
        let (mut tx, mut row) = self.lock_dream(id).await?;
        let status = row.status()?;
        if status == DreamStatus::Running && row.runner.as_deref() == Some(runner) {
            let now = Timestamp::now().micros();
            row.heartbeat_at = Some(now);
            row.updated_at = now;
            tx.update_dream(&row).await?;
            tx.commit().await.map_err(db_err)?;
        }
        Ok(status)
    }

    /// Records the base revision a running dream read.
    pub(crate) async fn set_dream_base_impl(
        &self,
        id: &str,
        runner: &str,
        base: i64,
    ) -> Result<()> {
        let (mut tx, mut row) = self.lock_dream(id).await?;
        self.check_runner(&row, runner)?;
        row.base_revision = Some(base);
        row.updated_at = Timestamp::now().micros();
        tx.update_dream(&row).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    fn check_runner(&self, row: &DreamRow, runner: &str) -> Result<()> {
        let status = row.status()?;
        if status != DreamStatus::Running {
            return Err(Error::Conflict(
                format!("dream {} is {status:?} now", row.id).to_lowercase(),
            ));
        }
        if row.runner.as_deref() != Some(runner) {
            return Err(Error::Conflict(format!(
                "dream {} is run by {}, not {runner}",
                row.id,
                row.runner.as_deref().unwrap_or("nobody")
            )));
        }
        Ok(())
    }

    async fn lock_dream(&self, id: &str) -> Result<(sqlx::Transaction<'static, B::Db>, DreamRow)> {
        check_id(IdKind::Dream, id)?;
        let mut tx = self
            .backend
            .pool()
            .begin_with(B::BEGIN_WRITE)
            .await
            .map_err(db_err)?;
        let row = tx
            .lock_dream(id)
            .await?
            .ok_or_else(|| Error::not_found(IdKind::Dream.noun(), id))?;
        Ok((tx, row))
    }

    /// Completes a running dream with its result: applies it, or keeps it as a proposal when
    /// the dream was created with review on. Refused with a conflict when the store moved
    /// where the result writes (nothing changes then).
    pub(crate) async fn finish_dream_impl(
        &self,
        id: &str,
        runner: &str,
        result: DreamResult,
    ) -> Result<Dream> {
        let row = self.dream_row(id).await?;
        if row.review_state() == Some(ReviewState::Pending) {
            let (mut tx, mut row) = self.lock_dream(id).await?;
            self.check_runner(&row, runner)?;
            let now = Timestamp::now().micros();
            row.status = DreamStatus::Completed.as_str().to_string();
            row.base_revision = Some(result.base_revision);
            row.changeset = Some(to_json(&result.changeset));
            row.usage = to_json(&usage_of(&result.changeset));
            row.proposal = Some(to_json(&result));
            row.ended_at = Some(now);
            row.updated_at = now;
            tx.update_dream(&row).await?;
            tx.commit().await.map_err(db_err)?;
            return row.into_model();
        }
        self.commit_result(id, Some(runner), None, result).await
    }

    /// A dream whose proposal awaits a decision; a conflict naming why not otherwise.
    async fn pending_row(&self, id: &str) -> Result<DreamRow> {
        let row = self.dream_row(id).await?;
        if row.status()? != DreamStatus::Completed
            || row.review_state() != Some(ReviewState::Pending)
        {
            return Err(Error::Conflict(match row.review_state() {
                None => {
                    format!("dream {id} was not created for review: there is nothing to decide")
                }
                Some(ReviewState::Pending) => format!(
                    "dream {id} is {}: its proposal is not ready yet",
                    row.status
                ),
                Some(s) => format!("dream {id} was already {}", s.as_str()),
            }));
        }
        Ok(row)
    }

    /// Approves a pending proposal with a result decided operation by operation in its place.
    pub(crate) async fn approve_dream_as_impl(
        &self,
        id: &str,
        result: DreamResult,
        actor: &Actor,
    ) -> Result<Dream> {
        self.pending_row(id).await?;
        self.commit_result(id, None, Some(actor), result).await
    }

    /// Applies a pending proposal (approve) or discards it (reject).
    pub(crate) async fn decide_dream_impl(
        &self,
        id: &str,
        approve: bool,
        actor: &Actor,
    ) -> Result<Dream> {
        let row = self.pending_row(id).await?;
        if !approve {
            let (mut tx, mut row) = self.lock_dream(id).await?;
            if row.review_state() != Some(ReviewState::Pending) {
                return Err(Error::Conflict(format!("dream {id} was decided meanwhile")));
            }
            let now = Timestamp::now().micros();
            row.review = Some(ReviewState::Rejected.as_str().to_string());
            row.decided_at = Some(now);
            row.decided_by_type = Some(actor.kind().to_string());
            row.decided_by_id = Some(actor.id().to_string());
            row.updated_at = now;
            tx.update_dream(&row).await?;
            tx.commit().await.map_err(db_err)?;
            return row.into_model();
        }
        let proposal = row
            .proposal
            .as_deref()
            .ok_or_else(|| Error::storage(format!("dream {id} has no stored proposal")))?;
        let result: DreamResult = from_json("proposal", id, proposal)?;
        self.commit_result(id, None, Some(actor), result).await
    }

    /// The commit: for a running dream (`runner`) or an approved proposal (`approver`).
    async fn commit_result(
        &self,
        id: &str,
        runner: Option<&str>,
        approver: Option<&Actor>,
        mut result: DreamResult,
    ) -> Result<Dream> {
        let row = self.dream_row(id).await?;
        let actor = dream_actor(id);
        let summary = match (row.is_update_existing(), approver) {
            (true, None) => format!("dream {id}"),
            (true, Some(a)) => format!("dream {id}, approved by {a}"),
            (false, _) => format!("dream {id} (create_new from {})", row.store_id),
        };
        // The store that receives the result, locked: the input itself, or a new one.
        let mut w = if row.is_update_existing() {
            let record = Record {
                actor: &actor,
                summary,
            };
            self.begin_write(&row.store_id, false, 0, Some(record))
                .await?
        } else {
            self.begin_new_store(&row, &actor, summary).await?
        };
        let target = w.store.id.clone();
        let mut dream =
            w.tx.lock_dream(id)
                .await?
                .ok_or_else(|| Error::not_found(IdKind::Dream.noun(), id))?;
        match (runner, approver) {
            (Some(r), _) => self.check_runner(&dream, r)?,
            (None, _) => {
                if dream.review_state() != Some(ReviewState::Pending) {
                    return Err(Error::Conflict(format!("dream {id} was decided meanwhile")));
                }
            }
        }

        // The policy and pinned entries must be those the result was computed under.
        let policy = read_policy(&mut *w.tx, &row.store_id).await?;
        let current: Vec<EntryMeta> =
            w.tx.entries(&row.store_id, None)
                .await?
                .into_iter()
                .map(EntryRow::into_model)
                .collect::<Result<_>>()?;
        if guard_digest(&policy, &current) != result.guard_digest {
            return Err(Error::Conflict(format!(
                "the policy or the pinned entries of memory store {} changed since dream {id} read them",
                row.store_id
            )));
        }

        let plan = if row.is_update_existing() {
            self.plan_update(&mut w, &result).await?
        } else {
            self.plan_copy(&mut w, &row.store_id, &result).await?
        };
        let applied = apply(&mut w, plan, &actor).await.map_err(|e| match e {
            Error::PathConflict { path, existing_id } => Error::Conflict(format!(
                "path {path} was taken by memory {existing_id} since the dream read the store"
            )),
            e => e,
        })?;
        // Record the ids of the memories the dream created, so that a revert finds them.
        for change in result.changeset.memories.iter_mut() {
            if change.memory_id.is_none()
                && let Some(path) = &change.path_after
                && let Some(r) = applied.rows.iter().find(|r| &r.path == path)
            {
                change.memory_id = Some(r.id.clone());
            }
        }

        // Entry metadata: replaced whole; what it was is kept for a revert.
        let undo = entries_undo(&current, &result.entries);
        if row.is_update_existing() {
            w.tx.delete_entries(&target).await?;
        } else {
            w.tx.upsert_policy(&target, &to_json(&policy), w.now)
                .await?;
        }
        // Entries served while the dream ran (serving holds the store's lock, so `current`
        // has every serving committed before this commit) keep those servings: the dream
        // never lowers a counter, so the larger count is the right one.
        let served_now: BTreeMap<&str, i64> = if row.is_update_existing() {
            current.iter().map(|e| (e.id.as_str(), e.served)).collect()
        } else {
            BTreeMap::new()
        };
        let rows: Vec<EntryRow> = result
            .entries
            .iter()
            .map(|e| {
                let mut r = EntryRow::from_model(&target, e);
                if let Some(&n) = served_now.get(e.id.as_str()) {
                    r.served = r.served.max(n);
                }
                r
            })
            .collect();
        w.tx.insert_entries(&rows).await?;

        let now = w.now;
        dream.status = DreamStatus::Completed.as_str().to_string();
        dream.output_store_id = Some(target.clone());
        dream.base_revision = Some(result.base_revision);
        dream.applied_revision = Some(w.store.revision);
        dream.changeset = Some(to_json(&result.changeset));
        dream.usage = to_json(&usage_of(&result.changeset));
        if row.is_update_existing() {
            dream.entries_undo = Some(to_json(&undo));
        }
        if let Some(a) = approver {
            dream.review = Some(ReviewState::Approved.as_str().to_string());
            dream.decided_at = Some(now);
            dream.decided_by_type = Some(a.kind().to_string());
            dream.decided_by_id = Some(a.id().to_string());
        } else {
            dream.ended_at = Some(now);
        }
        dream.updated_at = now;
        w.tx.update_dream(&dream).await?;
        self.finish(w, &actor, None).await?;
        dream.into_model()
    }

    /// Plans an `update_existing` result: each memory it writes must be as the dream read it.
    async fn plan_update(&self, w: &mut Write<B>, result: &DreamResult) -> Result<Plan> {
        let store_id = w.store.id.clone();
        let mut plan = Plan::default();
        for write in &result.writes {
            let change = result
                .changeset
                .memories
                .iter()
                .find(|c| {
                    c.memory_id == write.memory_id
                        && (c.path_before.as_ref() == Some(&write.path)
                            || c.path_after.as_ref() == Some(&write.path))
                })
                .ok_or_else(|| {
                    Error::storage(format!(
                        "the result writes {} but its changeset does not say so",
                        write.path
                    ))
                })?;
            match &write.memory_id {
                Some(mid) => {
                    let cur = w.tx.memory(&store_id, mid, true).await?.ok_or_else(|| {
                        Error::Conflict(format!(
                            "memory {} ({mid}) was deleted since the dream read the store",
                            write.path
                        ))
                    })?;
                    if Some(&cur.content_sha256) != change.sha256_before.as_ref()
                        || Some(&cur.path) != change.path_before.as_ref()
                    {
                        return Err(Error::Conflict(format!(
                            "memory {} ({mid}) changed since the dream read the store at revision {}",
                            cur.path, result.base_revision
                        )));
                    }
                    match &write.content {
                        Some(c) => {
                            validate_content(c)?;
                            plan.updates.push(Update {
                                path: write.path.clone(),
                                content: c.clone(),
                                row: cur,
                            });
                        }
                        None => plan.deletes.push(cur),
                    }
                }
                None => {
                    let c = write.content.as_ref().ok_or_else(|| {
                        Error::storage(format!(
                            "the result deletes {}, a memory it never had",
                            write.path
                        ))
                    })?;
                    validate_content(c)?;
                    plan.creates.push(Create {
                        memory_id: new_id(IdKind::Memory),
                        path: write.path.clone(),
                        content: c.clone(),
                    });
                }
            }
        }
        w.counted = 0;
        Ok(plan)
    }

    /// Plans a `create_new` result: the input store as of the dream's base revision, with the
    /// result's writes, as the new store's first memories.
    async fn plan_copy(&self, w: &mut Write<B>, input: &str, result: &DreamResult) -> Result<Plan> {
        let state = w.tx.state_at(input, result.base_revision).await?;
        let mut memories: BTreeMap<String, (String, String)> = BTreeMap::new(); // id -> (path, content)
        for v in state.into_iter().filter(|v| v.operation != "deleted") {
            let content = crate::rows::text(v.content.unwrap_or_default())?;
            memories.insert(v.memory_id, (v.path.unwrap_or_default(), content));
        }
        let mut created = Vec::new();
        for write in &result.writes {
            match (&write.memory_id, &write.content) {
                (Some(mid), Some(c)) => {
                    memories.insert(mid.clone(), (write.path.clone(), c.clone()));
                }
                (Some(mid), None) => {
                    memories.remove(mid);
                }
                (None, Some(c)) => created.push((write.path.clone(), c.clone())),
                (None, None) => {}
            }
        }
        let mut plan = Plan::default();
        for (path, content) in memories.into_values().chain(created) {
            validate_content(&content)?;
            plan.creates.push(Create {
                memory_id: new_id(IdKind::Memory),
                path,
                content,
            });
        }
        plan.creates.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(plan)
    }

    /// Opens a write on a new store, a copy of the dream's input store's fields.
    async fn begin_new_store(
        &self,
        dream: &DreamRow,
        actor: &Actor,
        summary: String,
    ) -> Result<Write<B>> {
        let turn = self.write_turn().await;
        let now = Timestamp::now().micros();
        let mut tx = self
            .backend
            .pool()
            .begin_with(B::BEGIN_WRITE)
            .await
            .map_err(db_err)?;
        let input = tx
            .store(&dream.store_id)
            .await?
            .ok_or_else(|| Error::not_found(IdKind::Store.noun(), &dream.store_id))?;
        let mut metadata: BTreeMap<String, String> =
            serde_json::from_str(&input.metadata).unwrap_or_default();
        if metadata.len() + 2 <= reverie_core::store_meta::MAX_METADATA_PAIRS {
            metadata.insert("reverie.dreamed_from".into(), input.id.clone());
            metadata.insert("reverie.dream".into(), dream.id.clone());
        }
        let mut name = format!("{} · {}", input.name, dream.id);
        while name.chars().count() > 255 {
            name.pop();
        }
        let row = StoreRow {
            id: new_id(IdKind::Store),
            name,
            description: input.description.clone(),
            metadata: serde_json::to_string(&metadata).expect("string maps serialize"),
            created_at: now,
            updated_at: now,
            archived_at: None,
            revision: 0,
            max_memories: input.max_memories,
            memory_count: 0,
        };
        tx.insert_store(&row).await?;
        let record = RevisionRow {
            store_id: row.id.clone(),
            revision: 0,
            created_at: now,
            actor_type: Some(actor.kind().to_string()),
            actor_id: Some(actor.id().to_string()),
            summary,
        };
        let store = tx
            .bump_and_record(&row.id, 0, &record)
            .await?
            .ok_or_else(|| Error::storage("the new store vanished"))?;
        Ok(Write {
            tx,
            store,
            now,
            counted: 0,
            recorded: true,
            _turn: turn,
        })
    }

    pub(crate) async fn fail_dream_impl(
        &self,
        id: &str,
        runner: Option<&str>,
        error: DreamError,
    ) -> Result<Dream> {
        let (mut tx, mut row) = self.lock_dream(id).await?;
        let status = row.status()?;
        let mine = runner.is_none_or(|r| row.runner.as_deref() == Some(r));
        if !status.is_final() && mine {
            let now = Timestamp::now().micros();
            row.status = DreamStatus::Failed.as_str().to_string();
            row.error_type = Some(error.kind);
            row.error_message = Some(error.message);
            row.ended_at = Some(now);
            row.updated_at = now;
            tx.update_dream(&row).await?;
            tx.commit().await.map_err(db_err)?;
        }
        row.into_model()
    }

    pub(crate) async fn cancel_dream_impl(&self, id: &str) -> Result<Dream> {
        let (mut tx, mut row) = self.lock_dream(id).await?;
        match row.status()? {
            DreamStatus::Pending | DreamStatus::Running => {
                let now = Timestamp::now().micros();
                row.status = DreamStatus::Canceled.as_str().to_string();
                row.ended_at = Some(now);
                row.updated_at = now;
                tx.update_dream(&row).await?;
                tx.commit().await.map_err(db_err)?;
            }
            DreamStatus::Canceled => {}
            s => {
                return Err(Error::invalid(
                    "dream_id",
                    format!(
                        "dream {id} is {}: only a pending or running dream can be canceled",
                        s.as_str()
                    ),
                ));
            }
        }
        row.into_model()
    }

    pub(crate) async fn archive_dream_impl(&self, id: &str) -> Result<Dream> {
        let (mut tx, mut row) = self.lock_dream(id).await?;
        let status = row.status()?;
        if !status.is_final() {
            return Err(Error::invalid(
                "dream_id",
                format!(
                    "dream {id} is {}: cancel it before archiving it",
                    status.as_str()
                ),
            ));
        }
        if row.archived_at.is_none() {
            let now = Timestamp::now().micros();
            row.archived_at = Some(now);
            row.updated_at = now;
            tx.update_dream(&row).await?;
            tx.commit().await.map_err(db_err)?;
        }
        row.into_model()
    }

    pub(crate) async fn running_dreams_impl(&self) -> Result<Vec<RunningDream>> {
        let mut conn = self.read().await?;
        conn.running_dreams()
            .await?
            .into_iter()
            .map(|r| {
                let (runner, heartbeat_at) = (r.runner.clone(), r.heartbeat_at.map(Timestamp));
                Ok(RunningDream {
                    dream: r.into_model()?,
                    runner,
                    heartbeat_at,
                })
            })
            .collect()
    }

    /// Undoes an applied `update_existing` dream: every memory it changed goes back to what it
    /// was, as a new revision — refused, naming the memory, when one was changed since (the
    /// revert would lose that write). Later writes to other memories stay.
    pub(crate) async fn revert_dream_impl(&self, id: &str, actor: &Actor) -> Result<Dream> {
        let row = self.dream_row(id).await?;
        let applied = match (
            row.status()?,
            row.is_update_existing(),
            row.applied_revision,
            row.reverted_revision,
        ) {
            (_, _, _, Some(r)) => {
                return Err(Error::Conflict(format!(
                    "dream {id} was already reverted, by revision {r}"
                )));
            }
            (DreamStatus::Completed, true, Some(a), None) => a,
            (DreamStatus::Completed, false, _, _) => {
                return Err(Error::Conflict(format!(
                    "dream {id} wrote to a new store and left its input unchanged: there is nothing to revert (archive or delete its output store instead)"
                )));
            }
            _ => {
                return Err(Error::Conflict(format!(
                    "dream {id} changed nothing: it is {}{}",
                    row.status,
                    if row.review_state() == Some(ReviewState::Pending) {
                        " and awaits review"
                    } else {
                        ""
                    }
                )));
            }
        };
        let changeset = row
            .changeset()?
            .ok_or_else(|| Error::storage(format!("dream {id} has no changeset")))?;
        let record = Record {
            actor,
            summary: format!("revert dream {id}"),
        };
        let mut w = self
            .begin_write(&row.store_id, false, 0, Some(record))
            .await?;
        let store_id = w.store.id.clone();
        let before: BTreeMap<String, crate::rows::VersionRow> =
            w.tx.state_at(&store_id, applied - 1)
                .await?
                .into_iter()
                .map(|v| (v.memory_id.clone(), v))
                .collect();
        let mut plan = Plan::default();
        for change in &changeset.memories {
            let Some(mid) = &change.memory_id else {
                return Err(Error::storage(format!(
                    "dream {id}'s changeset lacks a memory id"
                )));
            };
            let cur = w.tx.memory(&store_id, mid, true).await?;
            let unchanged = match (&cur, &change.sha256_after) {
                (Some(c), Some(sha)) => {
                    &c.content_sha256 == sha && Some(&c.path) == change.path_after.as_ref()
                }
                (None, None) => true,
                _ => false,
            };
            if !unchanged {
                let path = change
                    .path_after
                    .as_ref()
                    .or(change.path_before.as_ref())
                    .cloned()
                    .unwrap_or_default();
                return Err(Error::Conflict(format!(
                    "memory {path} ({mid}) changed since dream {id}: reverting would lose that write (restore it by hand with `reverie restore`)"
                )));
            }
            match (cur, change.sha256_before.is_some()) {
                (Some(row), false) => plan.deletes.push(row),
                (cur, true) => {
                    let v = before.get(mid).ok_or_else(|| {
                        Error::storage(format!(
                            "no version of memory {mid} before revision {applied}"
                        ))
                    })?;
                    let content = v.content.clone().ok_or_else(|| {
                        Error::Conflict(format!(
                            "the version of memory {mid} before dream {id} was redacted: it cannot be restored"
                        ))
                    })?;
                    let content = crate::rows::text(content)?;
                    let path = v.path.clone().unwrap_or_default();
                    match cur {
                        Some(row) => plan.updates.push(Update { row, path, content }),
                        None => plan.creates.push(Create {
                            memory_id: mid.clone(),
                            path,
                            content,
                        }),
                    }
                }
                (None, false) => {}
            }
        }
        apply(&mut w, plan, actor).await.map_err(|e| match e {
            Error::PathConflict { path, existing_id } => Error::Conflict(format!(
                "path {path} was taken by memory {existing_id} since dream {id}: reverting would lose that write (restore it by hand with `reverie restore`)"
            )),
            e => e,
        })?;

        // Entry metadata back as it was, for the entries the dream changed.
        if let Some(undo) = &row.entries_undo {
            let undo: EntriesUndo = from_json("entries undo", id, undo)?;
            let mut current: BTreeMap<String, EntryMeta> =
                w.tx.entries(&store_id, None)
                    .await?
                    .into_iter()
                    .map(|r| r.into_model().map(|e| (e.id.clone(), e)))
                    .collect::<Result<_>>()?;
            for a in &undo.added {
                current.remove(a);
            }
            for b in undo.before {
                current.insert(b.id.clone(), b);
            }
            let rows: Vec<EntryRow> = current
                .values()
                .map(|e| EntryRow::from_model(&store_id, e))
                .collect();
            w.tx.delete_entries(&store_id).await?;
            w.tx.insert_entries(&rows).await?;
        }
        let mut dream =
            w.tx.lock_dream(id)
                .await?
                .ok_or_else(|| Error::not_found(IdKind::Dream.noun(), id))?;
        dream.reverted_revision = Some(w.store.revision);
        dream.updated_at = w.now;
        w.tx.update_dream(&dream).await?;
        self.finish(w, actor, None).await?;
        dream.into_model()
    }
}

/// The metadata a revert needs: entries changed or removed, as they were; entries added.
fn entries_undo(before: &[EntryMeta], after: &[EntryMeta]) -> EntriesUndo {
    let after_by_id: BTreeMap<&str, &EntryMeta> =
        after.iter().map(|e| (e.id.as_str(), e)).collect();
    let before_ids: BTreeSet<&str> = before.iter().map(|e| e.id.as_str()).collect();
    EntriesUndo {
        before: before
            .iter()
            .filter(|b| after_by_id.get(b.id.as_str()).copied() != Some(b))
            .cloned()
            .collect(),
        added: after
            .iter()
            .filter(|a| !before_ids.contains(a.id.as_str()))
            .map(|a| a.id.clone())
            .collect(),
    }
}

/// The tokens a dream's curator spent (none for the deterministic curator).
fn usage_of(changeset: &reverie_core::curation::Changeset) -> Usage {
    changeset
        .curator
        .as_ref()
        .map(|c| c.usage)
        .unwrap_or_default()
}

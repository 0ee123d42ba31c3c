//! Restore: one memory to a version, or a whole store to a revision — planned by
//! `reverie_core::restore` and written as new versions of one new revision, so that history is
//! never rewritten and a restore can itself be undone by restoring the revision before it.

use reverie_core::id::{IdKind, check_id};
use reverie_core::restore::{Change, Current, Target, plan};
use reverie_core::{Actor, Error, Operation, Result};

use super::apply::{Create, Plan, Update, apply};
use super::versions::check_revision;
use super::{Record, SqlStore, Write};
use crate::backend::Backend;
use crate::dao::Dao;
use crate::params::RestoreReport;
use crate::rows::{MemoryRow, VersionRow, text};

fn target(v: VersionRow) -> Result<Target> {
    Ok(Target {
        memory_id: v.memory_id,
        version_id: v.id,
        operation: Operation::parse(&v.operation)?,
        path: v.path,
        content_sha256: v.content_sha256,
        content: v.content.map(text).transpose()?,
        redacted: v.redacted_at.is_some(),
    })
}

fn current(rows: &[MemoryRow]) -> Vec<Current> {
    rows.iter()
        .map(|r| Current {
            memory_id: r.id.clone(),
            path: r.path.clone(),
            content_sha256: r.content_sha256.clone(),
        })
        .collect()
}

impl<B: Backend> SqlStore<B> {
    /// Turns planned changes into a write plan, loading the rows they touch.
    async fn to_plan(
        w: &mut Write<B>,
        changes: Vec<Change>,
        live: &[MemoryRow],
    ) -> Result<(Plan, RestoreReport)> {
        let mut plan = Plan::default();
        let mut report = RestoreReport {
            memory_store_id: w.store.id.clone(),
            revision: None,
            restored_to: String::new(),
            recreated: Vec::new(),
            modified: Vec::new(),
            deleted: Vec::new(),
        };
        let find = |id: &str| {
            live.iter()
                .find(|r| r.id == id)
                .cloned()
                .expect("planned against these rows")
        };
        for change in changes {
            match change {
                Change::Delete { memory_id } => {
                    report.deleted.push(memory_id.clone());
                    plan.deletes.push(find(&memory_id));
                }
                Change::Recreate {
                    memory_id,
                    path,
                    content,
                } => {
                    report.recreated.push(memory_id.clone());
                    plan.creates.push(Create {
                        memory_id,
                        path,
                        content,
                    });
                }
                Change::Modify {
                    memory_id,
                    path,
                    content,
                } => {
                    report.modified.push(memory_id.clone());
                    let row =
                        w.tx.memory(&w.store.id, &memory_id, true)
                            .await?
                            .ok_or_else(|| Error::not_found(IdKind::Memory.noun(), &memory_id))?;
                    let content = match content {
                        Some(c) => c,
                        None => text(row.content.clone().unwrap_or_default())?,
                    };
                    let path = path.unwrap_or_else(|| row.path.clone());
                    plan.updates.push(Update { row, path, content });
                }
            }
        }
        Ok((plan, report))
    }

    pub(crate) async fn restore_memory_impl(
        &self,
        store_id: &str,
        memory_id: &str,
        version_id: &str,
        actor: &Actor,
    ) -> Result<RestoreReport> {
        check_id(IdKind::Memory, memory_id)?;
        check_id(IdKind::Version, version_id)?;
        let record = Record {
            actor,
            summary: format!("restore memory {memory_id} to {version_id}"),
        };
        let mut w = self.begin_write(store_id, false, 0, Some(record)).await?;
        let version =
            w.tx.version(store_id, version_id, true)
                .await?
                .ok_or_else(|| Error::not_found(IdKind::Version.noun(), version_id))?;
        if version.memory_id != memory_id {
            return Err(Error::invalid(
                "memory_version_id",
                format!(
                    "memory version {version_id} belongs to memory {}, not {memory_id}",
                    version.memory_id
                ),
            ));
        }
        let live: Vec<MemoryRow> =
            w.tx.memory(store_id, memory_id, false)
                .await?
                .into_iter()
                .collect();
        let t = target(version)?;
        if t.operation != Operation::Deleted
            && let Some(path) = &t.path
            && let Some(other) = w.tx.memory_by_path(store_id, path, false).await?
            && other.id != memory_id
        {
            return Err(Error::PathConflict {
                path: path.clone(),
                existing_id: other.id,
            });
        }
        let changes = plan(&current(&live), &[t])?;
        let (plan, mut report) = Self::to_plan(&mut w, changes, &live).await?;
        report.restored_to = version_id.to_string();
        if plan.is_empty() {
            return Ok(report);
        }
        apply(&mut w, plan, actor).await?;
        report.revision = Some(self.finish(w, actor, None).await?);
        Ok(report)
    }

    pub(crate) async fn restore_store_impl(
        &self,
        store_id: &str,
        revision: i64,
        actor: &Actor,
    ) -> Result<RestoreReport> {
        let record = Record {
            actor,
            summary: format!("restore store to revision {revision}"),
        };
        let mut w = self.begin_write(store_id, false, 0, Some(record)).await?;
        // The bump already counted this restore; the store had reached one revision less.
        check_revision(revision, w.store.revision - 1)?;
        let targets =
            w.tx.state_at(store_id, revision)
                .await?
                .into_iter()
                .map(target)
                .collect::<Result<Vec<_>>>()?;
        let live = w.tx.all_memories(store_id).await?;
        let changes = plan(&current(&live), &targets)?;
        let (plan, mut report) = Self::to_plan(&mut w, changes, &live).await?;
        report.restored_to = format!("revision {revision}");
        if plan.is_empty() {
            return Ok(report);
        }
        apply(&mut w, plan, actor).await?;
        report.revision = Some(self.finish(w, actor, None).await?);
        Ok(report)
    }
}

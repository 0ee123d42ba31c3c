//! `reverie log/diff/restore/redact`: history, and going back in it.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use reverie_core::{Error, MemoryVersion, Operation, View};
use reverie_store::VersionQuery;
use serde::Serialize;
use similar::TextDiff;

use crate::cli::{DiffArgs, LogArgs, RedactArgs, RestoreArgs};
use crate::context::Ctx;
use crate::output::{emit, json, safe, size, table};

/// All versions of a memory, newest first, with their content when `view` is full.
async fn versions_of(
    ctx: &Ctx,
    store_id: &str,
    memory_id: &str,
    limit: i64,
    view: View,
) -> Result<Vec<MemoryVersion>> {
    let mut out = Vec::new();
    let mut page = None;
    loop {
        let q = VersionQuery {
            memory_id: Some(memory_id.into()),
            limit: Some(100),
            page,
            view,
            ..Default::default()
        };
        let p = ctx.store.list_versions(store_id, &q).await?;
        out.extend(p.data);
        match p.next_page {
            Some(n) if (out.len() as i64) < limit => page = Some(n),
            _ => break,
        }
    }
    out.truncate(limit.max(0) as usize);
    Ok(out)
}

pub async fn log(ctx: &Ctx, a: LogArgs) -> Result<i32> {
    let st = ctx.store_ref(&a.store.store).await?;
    match a.memory {
        Some(memory) => {
            let id = ctx.memory_id(&st.id, &memory).await?;
            let versions = versions_of(ctx, &st.id, &id, a.limit, View::Basic).await?;
            if ctx.json {
                json(&versions);
                return Ok(0);
            }
            let mut rows = vec![
                ["VERSION", "REV", "OP", "WHEN", "BY", "SIZE", "PATH"]
                    .map(String::from)
                    .to_vec(),
            ];
            for v in &versions {
                rows.push(vec![
                    v.id.clone(),
                    v.revision.to_string(),
                    v.operation.as_str().into(),
                    v.created_at.to_string(),
                    v.created_by
                        .as_ref()
                        .map_or("-".into(), ToString::to_string),
                    v.content_size_bytes.map_or("-".into(), size),
                    match (&v.path, v.redacted_at) {
                        (_, Some(_)) => "(redacted)".into(),
                        (Some(p), None) => safe(p),
                        (None, None) => "-".into(),
                    },
                ]);
            }
            table(&rows);
        }
        None => {
            let mut revisions = Vec::new();
            let mut page: Option<String> = None;
            loop {
                let p = ctx
                    .store
                    .list_revisions(&st.id, Some(100), page.as_deref())
                    .await?;
                revisions.extend(p.data);
                match p.next_page {
                    Some(n) if (revisions.len() as i64) < a.limit => page = Some(n),
                    _ => break,
                }
            }
            revisions.truncate(a.limit.max(0) as usize);
            if ctx.json {
                json(&revisions);
                return Ok(0);
            }
            let mut rows = vec![["REV", "WHEN", "BY", "CHANGE"].map(String::from).to_vec()];
            for r in &revisions {
                rows.push(vec![
                    r.revision.to_string(),
                    r.created_at.to_string(),
                    r.created_by
                        .as_ref()
                        .map_or("-".into(), ToString::to_string),
                    safe(&r.summary),
                ]);
            }
            table(&rows);
        }
    }
    Ok(0)
}

fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string()
}

#[derive(Debug, Serialize)]
struct Change {
    memory_id: String,
    change: &'static str,
    from_path: Option<String>,
    to_path: Option<String>,
    diff: String,
}

pub async fn diff(ctx: &Ctx, a: DiffArgs) -> Result<i32> {
    let st = ctx.store_ref(&a.store.store).await?;
    if let Some(spec) = &a.revision {
        return diff_revisions(ctx, &st.id, st.revision, spec).await;
    }
    let Some(memory) = &a.memory else {
        return Err(Error::invalid(
            "memory",
            "pass a memory (path or id), or --revision A[..B] for the whole store",
        )
        .into());
    };
    let id = ctx.memory_id(&st.id, memory).await?;
    let versions = versions_of(ctx, &st.id, &id, i64::MAX, View::Full).await?;
    let find = |vid: &str| {
        versions
            .iter()
            .position(|v| v.id == vid)
            .ok_or_else(|| Error::invalid("version", format!("{vid} is not a version of {id}")))
    };
    let to = match &a.to {
        Some(v) => find(v)?,
        None => 0,
    };
    let from = match &a.from {
        Some(v) => Some(find(v)?),
        None => (to + 1 < versions.len()).then_some(to + 1),
    };
    let text = |i: Option<usize>| {
        i.and_then(|i| versions[i].content.clone())
            .unwrap_or_default()
    };
    let label = |i: Option<usize>| match i {
        None => "/dev/null".to_string(),
        Some(i) => {
            let v = &versions[i];
            let what = match (v.operation, v.redacted_at) {
                (_, Some(_)) => " (redacted)",
                (Operation::Deleted, _) => " (deleted)",
                _ => "",
            };
            format!("{}@{}{what}", safe(v.path.as_deref().unwrap_or("?")), v.id)
        }
    };
    let d = unified(&text(from), &text(Some(to)), &label(from), &label(Some(to)));
    if ctx.json {
        json(&serde_json::json!({
            "from": from.map(|i| &versions[i]),
            "to": &versions[to],
            "diff": d,
        }));
    } else {
        let old_path = from.and_then(|i| versions[i].path.clone());
        let new_path = versions[to].path.clone();
        if let (Some(o), Some(n)) = (&old_path, &new_path)
            && o != n
        {
            emit(&format!("renamed {} -> {}", safe(o), safe(n)));
        }
        if d.is_empty() {
            emit(&format!(
                "no change in content between {} and {}",
                label(from),
                label(Some(to))
            ));
        } else {
            emit(d.trim_end());
        }
    }
    Ok(0)
}

async fn diff_revisions(ctx: &Ctx, store_id: &str, current: i64, spec: &str) -> Result<i32> {
    let parse = |s: &str| {
        s.trim()
            .parse::<i64>()
            .map_err(|_| Error::invalid("revision", format!("{s:?} is not a revision number")))
    };
    let (a, b) = match spec.split_once("..") {
        Some((a, "")) => (parse(a)?, current),
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => (parse(spec)?, current),
    };
    let live = |vs: Vec<MemoryVersion>| -> BTreeMap<String, (String, String)> {
        vs.into_iter()
            .filter(|v| v.operation != Operation::Deleted && v.redacted_at.is_none())
            .map(|v| {
                (
                    v.memory_id,
                    (v.path.unwrap_or_default(), v.content.unwrap_or_default()),
                )
            })
            .collect()
    };
    let before = live(ctx.store.state_at(store_id, a).await?);
    let after = live(ctx.store.state_at(store_id, b).await?);
    let ids: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut changes = Vec::new();
    for id in ids {
        let (old, new) = (before.get(id), after.get(id));
        let change = match (old, new) {
            (None, Some(_)) => "added",
            (Some(_), None) => "removed",
            (Some(o), Some(n)) if o == n => continue,
            (Some(o), Some(n)) if o.1 == n.1 => "renamed",
            (Some(_), Some(_)) => "modified",
            (None, None) => continue,
        };
        let empty = (String::new(), String::new());
        let (o, n) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
        let name = |p: &str, r: i64| {
            if p.is_empty() {
                "/dev/null".to_string()
            } else {
                format!("{}@r{r}", safe(p))
            }
        };
        changes.push(Change {
            memory_id: id.clone(),
            change,
            from_path: old.map(|o| o.0.clone()),
            to_path: new.map(|n| n.0.clone()),
            diff: unified(&o.1, &n.1, &name(&o.0, a), &name(&n.0, b)),
        });
    }
    if ctx.json {
        json(&changes);
        return Ok(0);
    }
    if changes.is_empty() {
        emit(&format!("no change between revisions {a} and {b}"));
    }
    for c in &changes {
        let path = c
            .to_path
            .as_deref()
            .or(c.from_path.as_deref())
            .unwrap_or_default();
        match c.change {
            "renamed" => emit(&format!(
                "renamed  {} -> {}",
                safe(c.from_path.as_deref().unwrap_or_default()),
                safe(path)
            )),
            other => emit(&format!("{other:<8} {}", safe(path))),
        }
        if c.change != "renamed" && !c.diff.is_empty() {
            emit(c.diff.trim_end());
        }
    }
    Ok(0)
}

pub async fn restore(ctx: &Ctx, a: RestoreArgs) -> Result<i32> {
    let st = ctx.store_ref(&a.store.store).await?;
    let report = match (a.revision, &a.memory, &a.version) {
        (Some(rev), _, _) => ctx.store.restore_store(&st.id, rev, &ctx.actor).await?,
        (None, Some(memory), Some(version)) => {
            let id = ctx.memory_id(&st.id, memory).await?;
            ctx.store
                .restore_memory(&st.id, &id, version, &ctx.actor)
                .await?
        }
        _ => {
            return Err(Error::invalid(
                "restore",
                "pass --revision N for the whole store, or a memory and --version MEMVER_ID",
            )
            .into());
        }
    };
    if ctx.json {
        json(&report);
        return Ok(0);
    }
    match report.revision {
        None => emit(&format!(
            "{} is already as it was at {}: nothing to do",
            st.name, report.restored_to
        )),
        Some(rev) => {
            emit(&format!(
                "restored {} to {} as revision {rev}: {} recreated, {} modified, {} deleted",
                st.name,
                report.restored_to,
                report.recreated.len(),
                report.modified.len(),
                report.deleted.len()
            ));
            emit(&format!(
                "undo with: reverie restore -s {} --revision {}",
                st.id,
                rev - 1
            ));
        }
    }
    Ok(0)
}

pub async fn redact(ctx: &Ctx, a: RedactArgs) -> Result<i32> {
    let st = ctx.store_ref(&a.store.store).await?;
    let v = ctx
        .store
        .redact_version(&st.id, &a.version, &ctx.actor)
        .await?;
    if ctx.json {
        json(&v)
    } else {
        emit(&format!(
            "redacted {}: its content and path are erased for good",
            v.id
        ))
    }
    Ok(0)
}

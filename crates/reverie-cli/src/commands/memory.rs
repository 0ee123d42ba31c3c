//! `reverie put/get/ls/mv/rm`: memories.

use std::io::{IsTerminal, Read};

use anyhow::{Context as _, Result};
use reverie_core::{Error, ListItem, Memory, View};
use reverie_store::{MemoryPatch, MemoryQuery};

use crate::cli::{GetArgs, LsArgs, MvArgs, PutArgs, RmArgs};
use crate::context::Ctx;
use crate::output::{emit, emit_raw, json, safe, size, table};

fn content_of(a: &PutArgs) -> Result<String> {
    if let Some(c) = &a.content {
        return Ok(c.clone());
    }
    let bytes = match &a.file {
        Some(path) => {
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
        }
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err(Error::invalid(
                    "content",
                    "no content: pass --content, --file, or pipe it in",
                )
                .into());
            }
            let mut buf = Vec::new();
            stdin
                .lock()
                .read_to_end(&mut buf)
                .context("cannot read standard input")?;
            buf
        }
    };
    let from = a
        .file
        .as_ref()
        .map_or("standard input".to_string(), |p| p.display().to_string());
    String::from_utf8(bytes).map_err(|e| {
        Error::invalid(
            "content",
            format!(
                "{from} is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
        .into()
    })
}

fn summary(verb: &str, m: &Memory) -> String {
    format!(
        "{verb} {} ({}, {}, {})",
        safe(&m.path),
        m.id,
        m.memory_version_id,
        size(m.content_size_bytes)
    )
}

pub async fn put(ctx: &Ctx, a: PutArgs) -> Result<i32> {
    let st = ctx.store_ref(&a.store.store).await?;
    let content = content_of(&a)?;
    reverie_ingest::redact::refuse_secret_in_memory(
        ctx.store.as_ref(),
        &st.id,
        "content",
        &content,
    )
    .await?;
    let existing = match ctx.store.get_memory_by_path(&st.id, &a.path).await {
        Ok(m) => Some(m),
        Err(Error::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let (verb, mut m) = match existing {
        Some(m) if a.create_only => {
            return Err(Error::PathConflict {
                path: a.path,
                existing_id: m.id,
            }
            .into());
        }
        Some(m) => {
            let patch = MemoryPatch {
                content: Some(content),
                precondition_content_sha256: a.if_sha,
                ..Default::default()
            };
            let updated = ctx
                .store
                .update_memory(&st.id, &m.id, patch, &ctx.actor)
                .await?;
            let verb = if updated.memory_version_id == m.memory_version_id {
                "unchanged"
            } else {
                "updated"
            };
            (verb, updated)
        }
        None => {
            if let Some(sha) = a.if_sha {
                return Err(Error::PreconditionFailed {
                    memory_id: a.path,
                    expected: sha,
                    actual: "(no memory)".into(),
                }
                .into());
            }
            (
                "created",
                ctx.store
                    .create_memory(&st.id, &a.path, &content, &ctx.actor)
                    .await?,
            )
        }
    };
    m.content = None;
    if ctx.json {
        json(&m)
    } else {
        emit(&summary(verb, &m))
    }
    Ok(0)
}

pub async fn get(ctx: &Ctx, a: GetArgs) -> Result<i32> {
    let st = ctx.store_ref(&a.store.store).await?;
    match a.version {
        Some(v) => {
            let memory_id = ctx.memory_id(&st.id, &a.memory).await?;
            let version = ctx.store.get_version(&st.id, &v).await?;
            if version.memory_id != memory_id {
                return Err(Error::invalid(
                    "version",
                    format!("{v} is a version of {}, not {memory_id}", version.memory_id),
                )
                .into());
            }
            if ctx.json {
                json(&version);
            } else if let Some(c) = &version.content {
                emit_raw(c);
            } else {
                return Err(Error::invalid(
                    "version",
                    format!(
                        "{v} has no content ({})",
                        if version.redacted_at.is_some() {
                            "redacted"
                        } else {
                            "a deletion"
                        }
                    ),
                )
                .into());
            }
        }
        None => {
            let m = ctx.memory_ref(&st.id, &a.memory).await?;
            if ctx.json {
                json(&m)
            } else {
                emit_raw(m.content.as_deref().unwrap_or_default())
            }
        }
    }
    Ok(0)
}

pub async fn ls(ctx: &Ctx, a: LsArgs) -> Result<i32> {
    let st = ctx.store_ref(&a.store.store).await?;
    let mut items = Vec::new();
    let mut page = None;
    loop {
        let q = MemoryQuery {
            path_prefix: a.prefix.clone(),
            depth: Some(a.depth),
            limit: Some(100),
            page,
            view: View::Basic,
        };
        let p = ctx.store.list_memories(&st.id, &q).await?;
        items.extend(p.data);
        match p.next_page {
            Some(n) => page = Some(n),
            None => break,
        }
    }
    if ctx.json {
        json(&items);
        return Ok(0);
    }
    if items.is_empty() {
        emit(&format!(
            "no memories in {} below {}",
            st.name,
            a.prefix.as_deref().unwrap_or("/")
        ));
        return Ok(0);
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| match i {
            ListItem::Memory(m) => vec![
                size(m.content_size_bytes),
                m.updated_at.to_string(),
                safe(&m.path),
            ],
            ListItem::Prefix(p) => vec!["-".into(), "-".into(), safe(&p.path)],
        })
        .collect();
    table(&rows);
    Ok(0)
}

pub async fn mv(ctx: &Ctx, a: MvArgs) -> Result<i32> {
    let st = ctx.store_ref(&a.store.store).await?;
    let m = ctx.memory_ref(&st.id, &a.from).await?;
    let patch = MemoryPatch {
        path: Some(a.to),
        precondition_content_sha256: a.if_sha,
        ..Default::default()
    };
    let mut moved = ctx
        .store
        .update_memory(&st.id, &m.id, patch, &ctx.actor)
        .await?;
    moved.content = None;
    if ctx.json {
        json(&moved)
    } else {
        emit(&format!(
            "{} -> {}",
            safe(&m.path),
            summary("moved to", &moved)
        ))
    }
    Ok(0)
}

pub async fn rm(ctx: &Ctx, a: RmArgs) -> Result<i32> {
    let st = ctx.store_ref(&a.store.store).await?;
    let m = ctx.memory_ref(&st.id, &a.memory).await?;
    ctx.store
        .delete_memory(&st.id, &m.id, a.if_sha.as_deref(), &ctx.actor)
        .await?;
    if ctx.json {
        json(&serde_json::json!({"type": "memory_deleted", "id": m.id}));
    } else {
        emit(&format!(
            "deleted {} ({}); `reverie restore -s {} {} --version {}` brings it back",
            safe(&m.path),
            m.id,
            st.id,
            m.id,
            m.memory_version_id
        ));
    }
    Ok(0)
}

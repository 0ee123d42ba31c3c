//! `reverie store …`: memory stores.

use anyhow::Result;
use reverie_core::{Error, MemoryStore};
use reverie_store::{NewStore, StorePatch, StoreQuery};

use super::parse_pairs;
use crate::cli::StoreCmd;
use crate::context::Ctx;
use crate::exit;
use crate::output::{emit, json, table};

fn show(ctx: &Ctx, s: &MemoryStore) {
    if ctx.json {
        return json(s);
    }
    let mut rows = vec![
        vec!["id".into(), s.id.clone()],
        vec!["name".into(), s.name.clone()],
        vec!["description".into(), s.description.clone()],
        vec!["revision".into(), s.revision.to_string()],
        vec![
            "memories".into(),
            format!("{} of at most {}", s.memory_count, s.max_memories),
        ],
        vec!["created".into(), s.created_at.to_string()],
        vec!["updated".into(), s.updated_at.to_string()],
        vec![
            "archived".into(),
            s.archived_at.map_or("no".into(), |t| t.to_string()),
        ],
    ];
    for (k, v) in &s.metadata {
        rows.push(vec![format!("metadata.{k}"), v.clone()]);
    }
    table(&rows);
}

pub async fn run(ctx: &Ctx, cmd: StoreCmd) -> Result<i32> {
    match cmd {
        StoreCmd::Create {
            name,
            description,
            metadata,
            max_memories,
        } => {
            let metadata: std::collections::BTreeMap<String, String> =
                parse_pairs(&metadata, false)?
                    .into_iter()
                    .map(|(k, v)| (k, v.unwrap_or_default()))
                    .collect();
            reverie_ingest::redact::refuse_secret_in_store(
                Some(&name),
                Some(&description),
                metadata.values().map(String::as_str),
            )?;
            let s = ctx
                .store
                .create_store(NewStore {
                    name,
                    description,
                    metadata,
                    max_memories,
                })
                .await?;
            if ctx.json {
                json(&s)
            } else {
                emit(&format!("created memory store {} ({})", s.id, s.name))
            }
        }
        StoreCmd::Ls { all, limit } => {
            let mut stores = Vec::new();
            let mut page = None;
            loop {
                let q = StoreQuery {
                    include_archived: all,
                    limit: Some(limit.clamp(1, 100)),
                    page,
                    ..Default::default()
                };
                let p = ctx.store.list_stores(&q).await?;
                stores.extend(p.data);
                match p.next_page {
                    Some(n) if (stores.len() as i64) < limit => page = Some(n),
                    _ => break,
                }
            }
            if ctx.json {
                json(&stores);
            } else if stores.is_empty() {
                emit("no memory stores (create one with `reverie store create NAME`)");
            } else {
                let mut rows = vec![vec![
                    "ID".into(),
                    "REVISION".into(),
                    "CREATED".into(),
                    "NAME".into(),
                ]];
                for s in &stores {
                    let name = if s.archived_at.is_some() {
                        format!("{} (archived)", s.name)
                    } else {
                        s.name.clone()
                    };
                    rows.push(vec![
                        s.id.clone(),
                        s.revision.to_string(),
                        s.created_at.to_string(),
                        name,
                    ]);
                }
                table(&rows);
            }
        }
        StoreCmd::Show { store } => show(ctx, &ctx.store_ref(&store).await?),
        StoreCmd::Update {
            store,
            name,
            description,
            metadata,
            max_memories,
        } => {
            let s = ctx.store_ref(&store).await?;
            let metadata = if metadata.is_empty() {
                None
            } else {
                Some(parse_pairs(&metadata, true)?)
            };
            reverie_ingest::redact::refuse_secret_in_store(
                name.as_deref(),
                description.as_deref(),
                metadata.iter().flatten().filter_map(|(_, v)| v.as_deref()),
            )?;
            let patch = StorePatch {
                name,
                description,
                metadata,
                max_memories,
            };
            show(ctx, &ctx.store.update_store(&s.id, patch).await?);
        }
        StoreCmd::Archive { store } => {
            let s = ctx.store_ref(&store).await?;
            let s = ctx.store.archive_store(&s.id).await?;
            if ctx.json {
                json(&s)
            } else {
                emit(&format!(
                    "archived {} ({}): it is now read-only",
                    s.id, s.name
                ))
            }
        }
        StoreCmd::Delete { store, yes } => {
            let s = ctx.store_ref(&store).await?;
            if !yes {
                return Err(Error::invalid(
                    "yes",
                    format!(
                        "deleting {} ({}) removes its memories and history for good; pass --yes",
                        s.id, s.name
                    ),
                )
                .into());
            }
            ctx.store.delete_store(&s.id).await?;
            if ctx.json {
                json(&serde_json::json!({"type": "memory_store_deleted", "id": s.id}));
            } else {
                emit(&format!("deleted {} ({})", s.id, s.name));
            }
        }
        StoreCmd::Check { store } => {
            let s = ctx.store_ref(&store).await?;
            let problems = ctx.store.check_integrity(&s.id).await?;
            if ctx.json {
                json(
                    &serde_json::json!({"memory_store_id": s.id, "revision": s.revision, "problems": problems}),
                );
            } else if problems.is_empty() {
                emit(&format!(
                    "{} ({}) is consistent at revision {}",
                    s.id, s.name, s.revision
                ));
            } else {
                for p in &problems {
                    emit(&format!("problem: {p}"));
                }
            }
            if !problems.is_empty() {
                return Ok(exit::REPORTED);
            }
        }
    }
    Ok(0)
}

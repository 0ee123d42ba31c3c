//! `reverie tour`: the main job until dreams exist. On a sample store it walks the daily loop
//! of versioned agent memory — an agent session writes notes through the memory tool, a person
//! corrects one, a later session breaks them, the store is rolled back to before that session,
//! and the rollback itself stays undoable — printing what changed at each step and the memory
//! it ends with.

use std::collections::BTreeMap;

use anyhow::Result;
use reverie_core::memtool::Command;
use reverie_core::{Actor, Error, ListItem, View};
use reverie_store::{MemoryPatch, MemoryQuery, NewStore};
use serde_json::json;

use crate::cli::TourArgs;
use crate::context::Ctx;
use crate::output::{emit, json};

const SAMPLE_KEY: &str = "reverie_sample";

fn heading(ctx: &Ctx, text: &str) {
    if !ctx.json {
        emit("");
        emit(&format!("== {text}"));
    }
}

fn say(ctx: &Ctx, text: &str) {
    if !ctx.json {
        emit(text);
    }
}

async fn tool(
    ctx: &Ctx,
    store_id: &str,
    session: &Actor,
    command: serde_json::Value,
) -> Result<()> {
    let cmd = Command::from_value(command.clone())?;
    let out = ctx.store.memory_tool(store_id, &cmd, session).await?;
    let target = command
        .get("path")
        .or(command.get("old_path"))
        .and_then(|p| p.as_str())
        .unwrap_or_default();
    say(
        ctx,
        &format!(
            "  {session} > {} {target}",
            command["command"].as_str().unwrap_or_default()
        ),
    );
    for line in out.content.lines() {
        say(ctx, &format!("      {line}"));
    }
    if out.is_error {
        return Err(
            Error::storage(format!("the tour's tool command failed: {}", out.content)).into(),
        );
    }
    Ok(())
}

async fn memory_text(ctx: &Ctx, store_id: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut page = None;
    loop {
        let q = MemoryQuery {
            view: View::Full,
            limit: Some(20),
            page,
            ..Default::default()
        };
        let p = ctx.store.list_memories(store_id, &q).await?;
        for item in p.data {
            if let ListItem::Memory(m) = item {
                out.insert(m.path, m.content.unwrap_or_default());
            }
        }
        match p.next_page {
            Some(n) => page = Some(n),
            None => return Ok(out),
        }
    }
}

pub async fn run(ctx: &Ctx, a: TourArgs) -> Result<i32> {
    // Replace an earlier tour's store, never a store of the user's that has the same name.
    for s in ctx.store.stores_named(&a.name).await? {
        if s.metadata.get(SAMPLE_KEY).map(String::as_str) != Some("tour") {
            return Err(Error::invalid(
                "name",
                format!(
                    "a store named {:?} ({}) exists and is not a tour sample; pass --name",
                    a.name, s.id
                ),
            )
            .into());
        }
        ctx.store.delete_store(&s.id).await?;
    }
    let store = ctx
        .store
        .create_store(NewStore {
            name: a.name.clone(),
            description: "Sample store of `reverie tour`: a coding agent's project notes.".into(),
            metadata: BTreeMap::from([(SAMPLE_KEY.to_string(), "tour".to_string())]),
            max_memories: None,
        })
        .await?;
    let st = store.id.clone();
    say(
        ctx,
        &format!(
            "reverie tour — database {} ({})",
            ctx.database,
            ctx.store.backend()
        ),
    );
    say(ctx, &format!("sample store {} ({})", store.name, store.id));

    heading(
        ctx,
        "1. An agent session writes its notes through the memory tool",
    );
    let first = Actor::Session {
        session_id: "sesn_tour_first".into(),
    };
    tool(ctx, &st, &first, json!({"command": "create", "path": "/memories/MEMORY.md", "file_text":
        "# Project memory\n\n- [Build](build.md): how to build and what breaks\n- [Testing](testing.md): how tests run\n"})).await?;
    tool(ctx, &st, &first, json!({"command": "create", "path": "/memories/build.md", "file_text":
        "# Build\n\n- Build with `cargo build --release`.\n- The linker needs `libssl-dev`; without it the build fails with `cannot find -lssl`.\n"})).await?;
    tool(
        ctx,
        &st,
        &first,
        json!({"command": "create", "path": "/memories/testing.md", "file_text":
        "# Testing\n\n- Run `cargo test` before every commit.\n"}),
    )
    .await?;
    tool(ctx, &st, &first, json!({"command": "str_replace", "path": "/memories/testing.md",
        "old_str": "- Run `cargo test` before every commit.", "new_str":
        "- Run `scripts/test` before every commit: it starts PostgreSQL on port 5433 for the store suite."})).await?;

    heading(ctx, "2. You correct a note through the API");
    let build = ctx.store.get_memory_by_path(&st, "/build.md").await?;
    let corrected = build.content.clone().unwrap_or_default().replace(
        "`cargo build --release`",
        "`cargo build --release --locked`",
    );
    let patch = MemoryPatch {
        content: Some(corrected),
        precondition_content_sha256: Some(build.content_sha256.clone()),
        ..Default::default()
    };
    let build = ctx
        .store
        .update_memory(&st, &build.id, patch, &ctx.actor)
        .await?;
    say(
        ctx,
        &format!(
            "  {} > put /build.md (precondition: the sha256 you read; a concurrent edit would get a 409)",
            ctx.actor
        ),
    );
    let good_revision = ctx.store.get_store(&st).await?.revision;
    say(ctx, &format!("  the store is at revision {good_revision}"));

    heading(ctx, "3. A later session goes wrong");
    let second = Actor::Session {
        session_id: "sesn_tour_second".into(),
    };
    tool(
        ctx,
        &st,
        &second,
        json!({"command": "str_replace", "path": "/memories/build.md",
        "old_str": "`cargo build --release --locked`", "new_str": "`make all`"}),
    )
    .await?;
    tool(
        ctx,
        &st,
        &second,
        json!({"command": "delete", "path": "/memories/testing.md"}),
    )
    .await?;
    let versions = ctx
        .store
        .list_versions(
            &st,
            &reverie_store::VersionQuery {
                memory_id: Some(build.id.clone()),
                view: View::Full,
                ..Default::default()
            },
        )
        .await?
        .data;
    let (new, old) = (&versions[0], &versions[1]);
    say(ctx, "  what it did to build.md:");
    let diff = similar::TextDiff::from_lines(
        old.content.as_deref().unwrap_or_default(),
        new.content.as_deref().unwrap_or_default(),
    )
    .unified_diff()
    .header(
        &format!("/build.md@{}", old.id),
        &format!("/build.md@{}", new.id),
    )
    .to_string();
    for line in diff.lines() {
        say(ctx, &format!("      {line}"));
    }

    heading(ctx, "4. Roll the store back to before that session");
    let report = ctx
        .store
        .restore_store(&st, good_revision, &ctx.actor)
        .await?;
    let rollback = report.revision.unwrap_or_default();
    say(
        ctx,
        &format!(
            "  restored to revision {good_revision} as revision {rollback}: {} recreated, {} modified, {} deleted",
            report.recreated.len(),
            report.modified.len(),
            report.deleted.len()
        ),
    );
    say(
        ctx,
        "  nothing was rewritten: the rollback is new versions, and can be undone with",
    );
    say(
        ctx,
        &format!("      reverie restore -s {st} --revision {}", rollback - 1),
    );

    heading(ctx, "5. The store's history");
    let revisions = ctx.store.list_revisions(&st, Some(20), None).await?.data;
    for r in revisions.iter().rev() {
        let by = r
            .created_by
            .as_ref()
            .map_or("-".to_string(), ToString::to_string);
        say(
            ctx,
            &format!("  r{:<3} {:<28} {}", r.revision, by, r.summary),
        );
    }
    let problems = ctx.store.check_integrity(&st).await?;
    say(
        ctx,
        &format!(
            "  integrity check: {}",
            if problems.is_empty() {
                "consistent".to_string()
            } else {
                problems.join("; ")
            }
        ),
    );

    heading(ctx, "6. The resulting memory");
    let listing = ctx
        .store
        .memory_tool(
            &st,
            &Command::View {
                path: "/memories".into(),
                view_range: None,
            },
            &ctx.actor,
        )
        .await?;
    for line in listing.content.lines().skip(1) {
        say(ctx, &format!("  {line}"));
    }
    let memory = memory_text(ctx, &st).await?;
    for (path, content) in &memory {
        say(ctx, "");
        say(ctx, &format!("--- {path}"));
        for line in content.lines() {
            say(ctx, line);
        }
    }
    if ctx.json {
        json(&json!({
            "memory_store_id": st,
            "revision": ctx.store.get_store(&st).await?.revision,
            "restored_to": good_revision,
            "rollback_revision": rollback,
            "consistent": problems.is_empty(),
            "memory": memory,
        }));
    } else {
        emit("");
        emit(&format!(
            "Explore it: reverie ls -s {}   reverie log -s {} /build.md   reverie diff -s {} --revision {good_revision}..{}",
            a.name,
            a.name,
            a.name,
            rollback - 1
        ));
    }
    Ok(0)
}

//! `reverie recall`, `reverie context`, `reverie remember` and `reverie mcp`: memory served to
//! agents — a ranked search of a store's entries, what to read at the start of a session within
//! a token budget, a note kept for later sessions, and all of these as MCP tools over stdio.

use anyhow::Result;
use reverie_core::curation::EntryMeta;
use reverie_core::search::{RecallQuery, Via, parse_since};
use reverie_store::serving::{self, ContextRequest};

use crate::cli::{ContextArgs, McpArgs, RecallArgs, RememberArgs};
use crate::context::Ctx;
use crate::output::{emit, emit_raw, json};

pub async fn recall(ctx: &Ctx, a: RecallArgs) -> Result<i32> {
    let st = ctx.store_ref(&a.store.store).await?;
    let query = RecallQuery {
        query: a.query.join(" "),
        limit: a.limit,
        path_prefix: a.prefix,
        since: parse_since(a.since.as_deref())?,
        serve: (!a.no_serve).then_some(Via::Recall),
        session_id: a.session,
    };
    let found = ctx.store.recall(&st.id, &query).await?;
    if ctx.json {
        json(&found);
        return Ok(0);
    }
    if found.is_empty() {
        emit(&format!("nothing in {} matches {:?}", st.name, query.query));
        return Ok(0);
    }
    for (i, r) in found.iter().enumerate() {
        let mut place = r.path.clone();
        if !r.section.is_empty() {
            place.push_str(&format!(" § {}", r.section.join(" › ")));
        }
        emit(&format!("{:>2}. {:>6.2}  {place}", i + 1, r.score));
        for line in r.text.lines() {
            emit(&format!("            {line}"));
        }
        if let Some(e) = &r.entry {
            emit(&format!("            {}", about(e)));
        }
    }
    Ok(0)
}

/// An entry's metadata in one line: kind, where it came from, counters.
fn about(e: &EntryMeta) -> String {
    let mut sessions: Vec<&str> = e.provenance.iter().map(|p| p.session_id.as_str()).collect();
    sessions.sort_unstable();
    sessions.dedup();
    let from = match sessions.as_slice() {
        [] => "no recorded source".to_string(),
        [one] => format!("from {one}"),
        many => format!("from {} sessions", many.len()),
    };
    format!(
        "{} {} · {from} · served {} · helpful {} · harmful {}",
        e.kind.as_str(),
        e.id,
        e.served,
        e.helpful,
        e.harmful
    )
}

pub async fn context(ctx: &Ctx, a: ContextArgs) -> Result<i32> {
    let st = ctx.store_ref(&a.store.store).await?;
    let req = ContextRequest {
        query: a.query.clone(),
        budget: a.budget,
        safety: a.safety,
        serve: !a.no_serve,
        session_id: a.session.clone(),
    };
    let rendered = serving::context(ctx.store.as_ref(), &st.id, &req).await?;

    if ctx.json {
        json(&rendered);
    } else {
        emit_raw(&rendered.text);
        let mut note = format!(
            "reverie: {} of {} tokens (o200k × {})",
            rendered.tokens, rendered.budget, rendered.safety
        );
        if rendered.relevant_left_out > 0 {
            note.push_str(&format!(
                "; {} relevant entries did not fit",
                rendered.relevant_left_out
            ));
        }
        if rendered.index_lines_left_out > 0 {
            note.push_str(&format!(
                "; {} index lines did not fit",
                rendered.index_lines_left_out
            ));
        }
        if rendered.over_budget {
            note.push_str("; the glossary and pinned entries alone exceed the budget");
        }
        eprintln!("{note}");
    }
    Ok(0)
}

pub async fn remember(ctx: &Ctx, a: RememberArgs) -> Result<i32> {
    let st = ctx.store_ref(&a.store.store).await?;
    let r = reverie_server::remember::remember(
        ctx.store.as_ref(),
        &st.id,
        &a.text.join(" "),
        Some(&a.path),
        &ctx.actor,
    )
    .await?;
    if ctx.json {
        json(&r);
    } else if r.written {
        emit(&format!("remembered in {}: {}", r.path, r.note));
    } else {
        emit(&format!("already in {}: {}", r.path, r.note));
    }
    Ok(0)
}

/// Serves until the client closes stdin. Nothing but MCP messages goes to stdout.
pub async fn mcp(ctx: &Ctx, a: McpArgs) -> Result<i32> {
    let id = match (a.claude_code, &a.store) {
        (true, _) => {
            let cwd = std::env::current_dir()?;
            let project = super::claude_code::project::identify(&cwd);
            super::claude_code::hook::find_or_create(ctx.store.as_ref(), &project).await?
        }
        (false, Some(store)) => ctx.store_ref(store).await?.id,
        (false, None) => anyhow::bail!("name a store (--store) or --claude-code"),
    };
    let server = reverie_server::mcp::McpServer::local(ctx.store.clone(), id, ctx.actor.clone());
    reverie_server::mcp::serve_stdio(server).await?;
    Ok(0)
}

//! `reverie recall` and `reverie context`: memory served to agents — a ranked search of a
//! store's entries, and what to read at the start of a session within a token budget.

use anyhow::Result;
use reverie_core::context::{self, ContextInput, O200k};
use reverie_core::curation::{EntryKind, EntryMeta, EntryState, glossary_term};
use reverie_core::entry::Document;
use reverie_core::search::{MAX_RECALL_LIMIT, RecallQuery, Recalled, Via};
use reverie_core::{Error, ErrorType, Timestamp};

use crate::cli::{ContextArgs, RecallArgs};
use crate::context::Ctx;
use crate::output::{emit, emit_raw, json};

/// The path of the glossary memory the dream writes.
const GLOSSARY_PATH: &str = "/glossary.md";

fn since(value: Option<&str>) -> Result<Option<Timestamp>> {
    value
        .map(|s| {
            Timestamp::parse(s).ok_or_else(|| {
                Error::invalid(
                    "since",
                    format!("{s:?} is not a date (YYYY-MM-DD) or an RFC 3339 time"),
                )
                .into()
            })
        })
        .transpose()
}

pub async fn recall(ctx: &Ctx, a: RecallArgs) -> Result<i32> {
    let st = ctx.store_ref(&a.store.store).await?;
    let query = RecallQuery {
        query: a.query.join(" "),
        limit: a.limit,
        path_prefix: a.prefix,
        since: since(a.since.as_deref())?,
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

fn recalled_of(e: &EntryMeta) -> Recalled {
    Recalled {
        score: 0.0,
        memory_id: String::new(),
        path: e.path.clone(),
        section: e.section.clone(),
        text: e.text.clone(),
        updated_at: e.last_seen.unwrap_or(Timestamp(0)),
        entry: Some(e.clone()),
    }
}

pub async fn context(ctx: &Ctx, a: ContextArgs) -> Result<i32> {
    let st = ctx.store_ref(&a.store.store).await?;
    let policy = ctx.store.get_policy(&st.id).await?;
    let index_path = policy.budget.index_path.clone();
    let index = match ctx.store.get_memory_by_path(&st.id, &index_path).await {
        Ok(m) => Some((m.path, m.content.unwrap_or_default())),
        Err(e) if e.error_type() == ErrorType::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    let live = ctx
        .store
        .list_entries(&st.id, Some(EntryState::Live))
        .await?;
    let pinned: Vec<Recalled> = live.iter().filter(|e| e.pinned).map(recalled_of).collect();

    // Glossary entries: what the last dream recorded, and the glossary as it is now.
    let mut glossary: Vec<Recalled> = live
        .iter()
        .filter(|e| e.kind == EntryKind::Glossary && glossary_term(&e.text).is_some())
        .map(recalled_of)
        .collect();
    match ctx.store.get_memory_by_path(&st.id, GLOSSARY_PATH).await {
        Ok(m) => {
            let content = m.content.unwrap_or_default();
            for e in Document::parse(&content).entries() {
                if glossary_term(&e.body).is_none()
                    || glossary
                        .iter()
                        .any(|g| g.path == m.path && g.text == e.body)
                {
                    continue;
                }
                glossary.push(Recalled {
                    score: 0.0,
                    memory_id: m.id.clone(),
                    path: m.path.clone(),
                    section: e.section,
                    text: e.body,
                    updated_at: m.updated_at,
                    entry: None,
                });
            }
        }
        Err(e) if e.error_type() == ErrorType::NotFound => {}
        Err(e) => return Err(e.into()),
    }

    // The relevant entries: recall's best for the query; without one, the most useful.
    let relevant = match &a.query {
        Some(q) if !q.trim().is_empty() => {
            let mut query = RecallQuery::new(q.clone());
            query.limit = MAX_RECALL_LIMIT;
            ctx.store.recall(&st.id, &query).await?
        }
        _ => {
            let mut useful: Vec<&EntryMeta> = live
                .iter()
                .filter(|e| e.kind != EntryKind::Index && e.path != index_path)
                .filter(|e| e.served > 0 || e.helpful > 0)
                .collect();
            useful.sort_by(|x, y| {
                (y.helpful - y.harmful)
                    .cmp(&(x.helpful - x.harmful))
                    .then(y.served.cmp(&x.served))
                    .then(y.last_seen.cmp(&x.last_seen))
                    .then(x.id.cmp(&y.id))
            });
            useful.into_iter().map(recalled_of).collect()
        }
    };

    let input = ContextInput {
        query: a.query.clone(),
        index,
        pinned,
        glossary,
        relevant,
        budget: a.budget,
        safety: a.safety,
    };
    let rendered = context::render(&input, &O200k)?;

    if !a.no_serve {
        // Every entry the agent is given counts as served (the index is not an entry).
        let mut served: Vec<Recalled> = rendered
            .items
            .iter()
            .filter(|i| i.part != context::Part::Index)
            .filter_map(|i| {
                [&input.glossary, &input.pinned, &input.relevant]
                    .into_iter()
                    .flatten()
                    .find(|r| r.path == i.path && r.text == i.text)
                    .cloned()
            })
            .collect();
        ctx.store
            .serve_entries(&st.id, &mut served, Via::Context, a.session.as_deref())
            .await?;
    }

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

//! Context for the start of a session, gathered from any [`Store`]: the index memory, pinned
//! entries, the glossary, and the entries relevant to a query, rendered within a token budget
//! by `reverie_core::context`, and the entries given to the agent recorded as served.
//!
//! It lives here, over the trait, so that the CLI, the HTTP API and MCP serve the same context.

use reverie_core::context::{self, Context, ContextInput, O200k, Part};
use reverie_core::curation::{EntryKind, EntryMeta, GLOSSARY_PATH, glossary_term};
use reverie_core::entry::Document;
use reverie_core::search::{MAX_RECALL_LIMIT, RecallQuery, Recalled, Via};
use reverie_core::{ErrorType, Result, Timestamp};

use crate::Store;

/// What to render a context for.
#[derive(Debug, Clone)]
pub struct ContextRequest {
    /// What the session is about; without one, the most useful entries fill the room.
    pub query: Option<String>,
    /// The budget, in safety-scaled tokens.
    pub budget: usize,
    /// The factor o200k counts are multiplied by.
    pub safety: f64,
    /// Record the entries given as served (counters bumped, a serving row per entry).
    pub serve: bool,
    /// The session the serving belongs to, so its outcome can later count for the entries.
    pub session_id: Option<String>,
}

impl Default for ContextRequest {
    fn default() -> Self {
        Self {
            query: None,
            budget: context::DEFAULT_BUDGET,
            safety: context::DEFAULT_SAFETY,
            serve: true,
            session_id: None,
        }
    }
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

/// Gathers what a context may show from `store_id`, without rendering it.
pub async fn gather(
    store: &dyn Store,
    store_id: &str,
    req: &ContextRequest,
) -> Result<ContextInput> {
    let policy = store.get_policy(store_id).await?;
    let index_path = policy.budget.index_path.clone();
    let index = match store.get_memory_by_path(store_id, &index_path).await {
        Ok(m) => Some((m.path, m.content.unwrap_or_default())),
        Err(e) if e.error_type() == ErrorType::NotFound => None,
        Err(e) => return Err(e),
    };
    let with_query = req.query.as_ref().is_some_and(|q| !q.trim().is_empty());
    let live = store.context_entries(store_id, !with_query).await?;
    let pinned: Vec<Recalled> = live.iter().filter(|e| e.pinned).map(recalled_of).collect();

    // Glossary entries: what the last dream recorded, and the glossary as it is now (a
    // definition written by hand since has no metadata yet).
    let mut glossary: Vec<Recalled> = live
        .iter()
        .filter(|e| e.kind == EntryKind::Glossary && glossary_term(&e.text).is_some())
        .map(recalled_of)
        .collect();
    match store.get_memory_by_path(store_id, GLOSSARY_PATH).await {
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
        Err(e) => return Err(e),
    }

    // The relevant entries: recall's best for the query; without one, the most useful.
    let relevant = match &req.query {
        Some(q) if with_query => {
            let mut query = RecallQuery::new(q.clone());
            query.limit = MAX_RECALL_LIMIT;
            store.recall(store_id, &query).await?
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

    Ok(ContextInput {
        query: req.query.clone(),
        index,
        pinned,
        glossary,
        relevant,
        budget: req.budget,
        safety: req.safety,
    })
}

/// Renders the context of `store_id` for `req`, and records what it gives as served.
pub async fn context(store: &dyn Store, store_id: &str, req: &ContextRequest) -> Result<Context> {
    Ok(context_served(store, store_id, req).await?.0)
}

/// A context's entry as served: what `serve_again` needs to record it again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServedEntry {
    pub id: String,
    pub path: String,
    pub text: String,
}

/// Records the entries of a context rendered earlier as served again (a cached context).
pub async fn serve_again(
    store: &dyn Store,
    store_id: &str,
    entries: &[ServedEntry],
    session_id: Option<&str>,
) -> Result<()> {
    let mut served: Vec<Recalled> = entries
        .iter()
        .map(|e| Recalled {
            score: 0.0,
            memory_id: String::new(),
            path: e.path.clone(),
            section: Vec::new(),
            text: e.text.clone(),
            updated_at: Timestamp(0),
            // Only the id is used: the counters are bumped in the database.
            entry: Some(EntryMeta::new(
                e.id.clone(),
                EntryKind::Manual,
                &e.path,
                Vec::new(),
                &e.text,
            )),
        })
        .collect();
    store
        .serve_entries(store_id, &mut served, Via::Context, session_id)
        .await
}

/// `context`, with the entries it gave (with their ids once served; without for an entry
/// that has no metadata yet and was not served).
pub async fn context_served(
    store: &dyn Store,
    store_id: &str,
    req: &ContextRequest,
) -> Result<(Context, Vec<Recalled>)> {
    // Bad input fails before any read, whatever the store holds.
    ContextInput {
        query: req.query.clone(),
        budget: req.budget,
        safety: req.safety,
        ..ContextInput::default()
    }
    .validate()?;
    let input = gather(store, store_id, req).await?;
    let rendered = context::render(&input, &O200k)?;
    // Every entry the agent is given counts as served (the index is not an entry).
    let mut served: Vec<Recalled> = rendered
        .items
        .iter()
        .filter(|i| i.part != Part::Index)
        .filter_map(|i| {
            [&input.glossary, &input.pinned, &input.relevant]
                .into_iter()
                .flatten()
                .find(|r| r.path == i.path && r.text == i.text)
                .cloned()
        })
        .collect();
    if req.serve {
        store
            .serve_entries(
                store_id,
                &mut served,
                Via::Context,
                req.session_id.as_deref(),
            )
            .await?;
    }
    Ok((rendered, served))
}

//! The failure curve of a store, read through any `Store`: its sessions with their events, its
//! applied dreams with their changesets, and what was served in each session, handed to
//! `reverie_curate::curve::analyze`. Shared by `reverie curve`, `reverie ceiling` and the HTTP
//! API; drift reads the sessions' failures through [`load_calls`] too.

use reverie_core::session::{Event, EventKind};
use reverie_core::{MemoryStore, Result, Timestamp};
use reverie_curate::curve::{AppliedDream, Ceiling, Curve, CurveInput, analyze};
use reverie_curate::input::{Serving, SessionInput};
use reverie_store::Store;

/// Events read per request.
const PAGE: i64 = 2_000;

/// `since` as the curve reads it: a date (RFC 3339, or `YYYY-MM-DD` for midnight UTC).
pub fn since(value: Option<&str>) -> Result<Option<Timestamp>> {
    value
        .map(|s| {
            Timestamp::parse(s).ok_or_else(|| {
                reverie_core::Error::invalid(
                    "since",
                    format!("{s:?} is not a date (RFC 3339 or YYYY-MM-DD)"),
                )
            })
        })
        .transpose()
}

/// What a curve is drawn from: a store's sessions with their events, its applied dreams, and
/// what was served in each session.
#[derive(Debug)]
pub struct Loaded {
    pub sessions: Vec<SessionInput>,
    pub dreams: Vec<AppliedDream>,
    pub servings: Vec<Serving>,
}

impl Loaded {
    pub fn curve(&self, since: Option<Timestamp>) -> Curve {
        analyze(&CurveInput {
            sessions: &self.sessions,
            dreams: &self.dreams,
            servings: &self.servings,
            since,
        })
    }
}

/// The failure curve of `st`, its points from `since` on.
pub async fn report(
    store: &dyn Store,
    st: &MemoryStore,
    since: Option<Timestamp>,
) -> Result<Curve> {
    Ok(load(store, st).await?.curve(since))
}

/// The failures of `st` that recurred in at least `min` sessions that were served their
/// lesson, with examples for a fine-tune.
pub async fn ceilings(store: &dyn Store, st: &MemoryStore, min: usize) -> Result<Vec<Ceiling>> {
    let loaded = load(store, st).await?;
    let curve = loaded.curve(None);
    // An example needs what was said around the failure: those sessions are read whole.
    let mut whole = Vec::new();
    for input in loaded.sessions {
        let cited = curve.signatures.iter().any(|h| {
            h.failed_when_served >= min.max(1)
                && h.failed_when_served_in.contains(&input.session.id)
        });
        if cited {
            let events = all_events(store, &input.session.id).await?;
            whole.push(SessionInput {
                session: input.session,
                events,
            });
        }
    }
    Ok(reverie_curate::curve::ceilings(&curve, &whole, min))
}

/// Everything the curve of `st` is drawn from.
pub async fn load(store: &dyn Store, st: &MemoryStore) -> Result<Loaded> {
    let sessions = load_calls(store, st).await?;
    let applied = crate::schedule::applied_dreams(store, &st.id).await?;
    let ids: Vec<String> = applied.iter().map(|d| d.id.clone()).collect();
    let changesets = store.dream_changesets(&ids).await?;
    let mut dreams = Vec::new();
    for (d, changeset) in applied.into_iter().zip(changesets) {
        let Some(changeset) = changeset else {
            continue;
        };
        dreams.push(AppliedDream {
            // A reviewed dream reaches the memory when it is approved.
            at: d
                .review
                .as_ref()
                .and_then(|r| r.decided_at)
                .or(d.ended_at)
                .unwrap_or(d.created_at),
            id: d.id,
            changeset,
        });
    }
    let ids: Vec<String> = sessions.iter().map(|s| s.session.id.clone()).collect();
    let servings: Vec<Serving> = store
        .servings_in(&ids)
        .await?
        .into_iter()
        .map(|(session_id, entry_id)| Serving {
            session_id,
            entry_id,
        })
        .collect();
    Ok(Loaded {
        sessions,
        dreams,
        servings,
    })
}

/// Every session of `st`, with its tool calls and their results alone: what its failures
/// are read from, in one read of the store's events rather than a query per session.
pub async fn load_calls(store: &dyn Store, st: &MemoryStore) -> Result<Vec<SessionInput>> {
    let mut sessions = Vec::new();
    let mut page: Option<String> = None;
    loop {
        let p = store
            .list_sessions(&st.id, Some(100), page.as_deref())
            .await?;
        sessions.extend(p.data);
        match p.next_page {
            Some(n) => page = Some(n),
            None => break,
        }
    }
    let mut events: std::collections::HashMap<String, Vec<Event>> =
        std::collections::HashMap::new();
    for (session, event) in store
        .store_events(&st.id, &[EventKind::ToolUse, EventKind::ToolResult])
        .await?
    {
        events.entry(session).or_default().push(event);
    }
    Ok(sessions
        .into_iter()
        .map(|session| SessionInput {
            events: events.remove(&session.id).unwrap_or_default(),
            session,
        })
        .collect())
}

/// Every event of one session, in order.
pub async fn all_events(store: &dyn Store, session_id: &str) -> Result<Vec<Event>> {
    let mut events = Vec::new();
    let mut after = -1;
    loop {
        let batch = store.session_events(session_id, after, PAGE).await?;
        let n = batch.len() as i64;
        if let Some(last) = batch.last() {
            after = last.seq;
        }
        events.extend(batch);
        if n < PAGE {
            return Ok(events);
        }
    }
}

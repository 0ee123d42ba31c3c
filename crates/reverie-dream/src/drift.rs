//! Drift over a store's history, read through any `Store`: its dreams with their changesets,
//! its entry metadata and policy, handed to `reverie_curate::drift::analyze`. Shared by
//! `reverie drift` and the HTTP API. The sessions' failures go in too, so that drift knows
//! which entries were lessons and can tell when a lost one's failure came back.

use reverie_core::dream::{DreamStatus, OutputBehavior};
use reverie_core::{Error, MemoryStore, Result, Timestamp};
use reverie_curate::curve::FailureLog;
use reverie_curate::drift::{DreamRecord, DriftInput, DriftReport, analyze};
use reverie_store::{DreamQuery, Store};

pub use reverie_curate::drift::DEFAULT_MIN_HELPFUL;

/// The drift report of `st`, since a store revision or date (see [`since_revision`]).
pub async fn report(
    store: &dyn Store,
    st: &MemoryStore,
    since: Option<&str>,
    min_helpful: i64,
) -> Result<DriftReport> {
    if min_helpful < 1 {
        return Err(Error::invalid(
            "min_helpful",
            format!("must be at least 1, got {min_helpful}"),
        ));
    }
    let since = match since {
        Some(s) => Some(since_revision(store, &st.id, s).await?),
        None => None,
    };
    let dreams = load_dreams(store, st).await?;
    let entries = store.list_entries(&st.id, None).await?;
    let policy = store.get_policy(&st.id).await?;
    let failures = load_failures(store, st).await?;
    Ok(analyze(&DriftInput {
        store_id: &st.id,
        dreams: &dreams,
        entries: &entries,
        policy: &policy,
        since,
        min_helpful,
        failures: Some(&failures),
    }))
}

/// The failures of `st`'s sessions: which entries were lessons, and whether their failure
/// came back after a dream took them out.
pub async fn load_failures(store: &dyn Store, st: &MemoryStore) -> Result<FailureLog> {
    Ok(FailureLog::of(&crate::curve::load_calls(store, st).await?))
}

/// `since` as a store revision: an integer is one; a date (RFC 3339, or `YYYY-MM-DD` for
/// midnight UTC) is the last revision made before it, so that changes at or after the date
/// count. Dates go through the revisions' own times because a dream's result is applied when
/// it is approved, not when it ended.
pub async fn since_revision(store: &dyn Store, store_id: &str, since: &str) -> Result<i64> {
    if let Ok(rev) = since.parse::<i64>() {
        if rev < 0 {
            return Err(Error::invalid(
                "since",
                format!("revision {rev} is negative"),
            ));
        }
        return Ok(rev);
    }
    let Some(at) = Timestamp::parse(since) else {
        return Err(Error::invalid(
            "since",
            format!("{since:?} is neither a revision nor a date (RFC 3339 or YYYY-MM-DD)"),
        ));
    };
    let mut page: Option<String> = None;
    loop {
        // Newest first: the first revision before the date is the one.
        let p = store
            .list_revisions(store_id, Some(100), page.as_deref())
            .await?;
        if let Some(r) = p.data.iter().find(|r| r.created_at < at) {
            return Ok(r.revision);
        }
        match p.next_page {
            Some(n) => page = Some(n),
            None => return Ok(0),
        }
    }
}

/// Every completed dream of the store, with its changeset, and the `create_new` dream the
/// store came from, if any.
pub async fn load_dreams(store: &dyn Store, st: &MemoryStore) -> Result<Vec<DreamRecord>> {
    let mut dreams = reverie_store::all_dreams(
        store,
        DreamQuery {
            store_id: Some(st.id.clone()),
            statuses: vec![DreamStatus::Completed],
            include_archived: true,
            limit: Some(100),
            ..DreamQuery::default()
        },
    )
    .await?;
    if let Some(origin) = st.metadata.get("reverie.dream") {
        let d = store.get_dream(origin).await?;
        if d.output_behavior == OutputBehavior::CreateNew && !dreams.iter().any(|x| x.id == d.id) {
            dreams.push(d);
        }
    }
    let ids: Vec<String> = dreams.iter().map(|d| d.id.clone()).collect();
    let changesets = store.dream_changesets(&ids).await?;
    Ok(dreams
        .into_iter()
        .zip(changesets)
        .map(|(dream, changeset)| DreamRecord { dream, changeset })
        .collect())
}

//! Drift over a store's history, read through any `Store`: its dreams with their changesets,
//! its entry metadata and policy, handed to `reverie_curate::drift::analyze`. Shared by
//! `reverie drift` and the HTTP API. The sessions' failures go in too, so that drift knows
//! which entries were lessons and can tell when a lost one's failure came back.
//!
//! A long-lived process (the review page's server) keeps its last reports in a [`Memo`] with
//! the inputs they were computed from: a report is reused only when every input reads back
//! equal, so a memo never serves a stale report; it saves the analysis, not the reads.

use std::sync::{Arc, Mutex};

use reverie_core::curation::EntryMeta;
use reverie_core::dream::{DreamStatus, OutputBehavior};
use reverie_core::policy::Policy;
use reverie_core::{Error, MemoryStore, Result, Timestamp};
use reverie_curate::curve::FailureLog;
use reverie_curate::drift::{DreamRecord, DriftInput, DriftReport, TextDetails, analyze_with};
use reverie_store::{DreamQuery, Store};

pub use reverie_curate::drift::DEFAULT_MIN_HELPFUL;

/// The drift report of `st`, since a store revision or date (see [`since_revision`]).
pub async fn report(
    store: &dyn Store,
    st: &MemoryStore,
    since: Option<&str>,
    min_helpful: i64,
) -> Result<DriftReport> {
    Ok(Inputs::read(store, st, since, min_helpful).await?.analyze())
}

/// [`report`] through `memo`: the kept report when the store's inputs read back equal to
/// those it was computed from, else a new one, kept for the next caller.
pub async fn report_memo(
    store: &dyn Store,
    st: &MemoryStore,
    since: Option<&str>,
    min_helpful: i64,
    memo: &Memo,
) -> Result<Arc<DriftReport>> {
    let inputs = Inputs::read(store, st, since, min_helpful).await?;
    if let Some(report) = memo.find(&inputs) {
        return Ok(report);
    }
    // Tens of milliseconds of CPU on a large store: off the async workers, so that the
    // page's other reads go on meanwhile.
    let mut details = memo.details(&inputs.store_id);
    let (inputs, report, details) = tokio::task::spawn_blocking(move || {
        let report = Arc::new(inputs.analyze_with(&mut details));
        (inputs, report, details)
    })
    .await
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    let evicted = memo.keep(inputs, report.clone(), details);
    // Freeing a large store's inputs and report takes milliseconds: not on the request's time.
    if !evicted.is_empty() {
        tokio::task::spawn_blocking(move || drop(evicted));
    }
    Ok(report)
}

/// Everything [`analyze`] reads of a store, owned.
#[derive(Debug)]
struct Inputs {
    store_id: String,
    since: Option<i64>,
    min_helpful: i64,
    dreams: Vec<DreamRecord>,
    entries: Vec<EntryMeta>,
    policy: Policy,
    failures: FailureLog,
}

impl Inputs {
    async fn read(
        store: &dyn Store,
        st: &MemoryStore,
        since: Option<&str>,
        min_helpful: i64,
    ) -> Result<Inputs> {
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
        // At once: the pool's reads go on while SQLite's direct read of the entries (last,
        // on this thread) runs.
        let (dreams, policy, failures, entries) = tokio::try_join!(
            load_dreams(store, st),
            store.get_policy(&st.id),
            load_failures(store, st),
            store.list_entries(&st.id, None),
        )?;
        Ok(Inputs {
            store_id: st.id.clone(),
            since,
            min_helpful,
            dreams,
            entries,
            policy,
            failures,
        })
    }

    fn analyze(&self) -> DriftReport {
        self.analyze_with(&mut TextDetails::default())
    }

    fn analyze_with(&self, details: &mut TextDetails) -> DriftReport {
        analyze_with(
            &DriftInput {
                store_id: &self.store_id,
                dreams: &self.dreams,
                entries: &self.entries,
                policy: &self.policy,
                since: self.since,
                min_helpful: self.min_helpful,
                failures: Some(&self.failures),
            },
            details,
        )
    }

    /// Equal in all `analyze` reads. Changesets the store's cache shared are the same
    /// allocation; others are compared whole.
    fn same(&self, o: &Inputs) -> bool {
        let same_dream = |a: &DreamRecord, b: &DreamRecord| {
            a.dream == b.dream
                && match (&a.changeset, &b.changeset) {
                    (Some(x), Some(y)) => Arc::ptr_eq(x, y) || x == y,
                    (None, None) => true,
                    _ => false,
                }
        };
        self.store_id == o.store_id
            && self.since == o.since
            && self.min_helpful == o.min_helpful
            && self.dreams.len() == o.dreams.len()
            && self
                .dreams
                .iter()
                .zip(&o.dreams)
                .all(|(a, b)| same_dream(a, b))
            && self.entries == o.entries
            && self.policy == o.policy
            && self.failures == o.failures
    }
}

/// Most entries a [`Memo`] keeps, over all its stores (a 10,000-memory store has about
/// 16,000); the least recently used store's report goes first.
const MEMO_ENTRIES: usize = 100_000;

/// The last drift reports of a long-lived process, each with the inputs it was computed from.
#[derive(Debug, Default)]
pub struct Memo {
    /// Most recently used last.
    kept: Mutex<Vec<(Inputs, Arc<DriftReport>)>>,
    /// The details of each store's texts its last report computed: a changed store's next
    /// report computes only its new texts' details.
    details: Mutex<Vec<(String, TextDetails)>>,
}

impl Memo {
    fn find(&self, inputs: &Inputs) -> Option<Arc<DriftReport>> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let i = kept.iter().position(|(k, _)| k.same(inputs))?;
        let hit = kept.remove(i);
        let report = hit.1.clone();
        kept.push(hit);
        Some(report)
    }

    /// The details kept for `store_id` (taken: a report computed meanwhile starts afresh).
    fn details(&self, store_id: &str) -> TextDetails {
        let mut all = self.details.lock().unwrap_or_else(|e| e.into_inner());
        match all.iter().position(|(s, _)| s == store_id) {
            Some(i) => all.swap_remove(i).1,
            None => TextDetails::default(),
        }
    }

    /// Keeps `report` and the details it computed; returns the reports it replaces or pushes
    /// out, for the caller to drop.
    fn keep(
        &self,
        inputs: Inputs,
        report: Arc<DriftReport>,
        details: TextDetails,
    ) -> Vec<(Inputs, Arc<DriftReport>)> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        // One report per store and question: the new one replaces what was kept for it.
        let same_question = |k: &Inputs| {
            (&k.store_id, k.since, k.min_helpful)
                == (&inputs.store_id, inputs.since, inputs.min_helpful)
        };
        let (mut evicted, mut keep): (Vec<_>, Vec<_>) =
            kept.drain(..).partition(|(k, _)| same_question(k));
        let inputs_store = inputs.store_id.clone();
        keep.push((inputs, report));
        let mut total: usize = keep.iter().map(|(k, _)| k.entries.len()).sum();
        while total > MEMO_ENTRIES && keep.len() > 1 {
            let (k, r) = keep.remove(0);
            total -= k.entries.len();
            evicted.push((k, r));
        }
        // Details for the stores whose reports are kept, no others.
        let mut all = self.details.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|(s, _)| *s != inputs_store && keep.iter().any(|(k, _)| k.store_id == *s));
        all.push((inputs_store, details));
        *kept = keep;
        evicted
    }
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

//! A proposal decided operation by operation, read and committed through any `Store`: the
//! proposal and the store as its dream read them go to `reverie_curate::review::accept`, and
//! what it gives is approved in the proposal's place. Shared by `reverie dreams approve
//! --only/--except`, the HTTP API and the review page.

use std::collections::BTreeSet;

use reverie_core::dream::Dream;
use reverie_core::{Actor, Error, Result, Timestamp};
use reverie_curate::review::{Proposal, accept, decidable};
use reverie_store::{DreamResult, Store};

/// A pending proposal: its result, and which of its operations can be decided one by one.
#[derive(Debug, Clone)]
pub struct Pending {
    pub dream: Dream,
    pub result: DreamResult,
    /// Indices into `result.changeset.ops`.
    pub decidable: Vec<usize>,
}

/// The proposal of a dream awaiting review.
pub async fn pending(store: &dyn Store, dream_id: &str) -> Result<Pending> {
    let dream = store.get_dream(dream_id).await?;
    let result = store
        .dream_proposal(dream_id)
        .await?
        .ok_or_else(|| Error::Conflict(format!("dream {dream_id} has no proposal to decide on")))?;
    let policy = store.get_policy(dream.store_id()).await?;
    let decidable = decidable(&view(dream_id, &result), &policy.budget.index_path);
    Ok(Pending {
        dream,
        result,
        decidable,
    })
}

fn view<'a>(dream_id: &'a str, r: &'a DreamResult) -> Proposal<'a> {
    Proposal {
        dream_id,
        entries: &r.entries,
        ops: &r.changeset.ops,
        stats: &r.changeset.stats,
    }
}

/// Approves the operations of `dream_id`'s proposal at `accepted` (indices into its
/// changeset's operations; see [`pending`]) and rejects the others: the store as the dream
/// read it with only those, through the budget and the guard again, applied as one revision.
/// A conflict when the store changed since the dream read it (decide the whole proposal, or
/// dream again); invalid when an index is not one to decide on or what remains fails the
/// guard (nothing is applied then).
pub async fn approve_operations(
    store: &dyn Store,
    dream_id: &str,
    accepted: &BTreeSet<usize>,
    actor: &Actor,
) -> Result<Dream> {
    let p = pending(store, dream_id).await?;
    let state = store.store_state(p.dream.store_id()).await?;
    if state.store.revision != p.result.base_revision {
        return Err(Error::Conflict(format!(
            "memory store {} is at revision {}, but dream {dream_id} read revision {}: \
             approve or reject the whole proposal, or dream again",
            state.store.id, state.store.revision, p.result.base_revision
        )));
    }
    let snapshot = crate::snapshot(state);
    let mut output = accept(
        &snapshot,
        &view(dream_id, &p.result),
        accepted,
        Timestamp::now(),
    )
    .map_err(|f| Error::invalid("operations", f.message))?;
    // The proposal's curator made what is accepted of it.
    output.changeset.curator = p.result.changeset.curator.clone();
    let result = crate::result_of(
        p.result.base_revision,
        p.result.guard_digest.clone(),
        output,
    );
    store.approve_dream_as(dream_id, result, actor).await
}

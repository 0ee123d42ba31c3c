//! Automatic dreams: which sessions of a store no dream has read yet, whether the store's
//! schedule (a session count or a cron pattern) calls for a dream now, and one pass of `reverie worker` over every store.
//!
//! Several workers (on several machines, over one PostgreSQL) may run passes at once: a store
//! holds at most one running `update_existing` dream, so the second worker to create one for a
//! store gets a conflict and moves on, and each dream is run by the one runner that claims it.

use std::collections::BTreeSet;

use reverie_core::dream::{
    Dream, DreamInput, DreamStatus, ModelParam, NewDream, OutputBehavior, ReviewState,
};
use reverie_core::policy::MAX_DREAM_SESSIONS;
use reverie_core::{ErrorType, Result, Timestamp};
use reverie_store::{DreamQuery, Store, StoreQuery, all_dreams};

use crate::Runner;

/// Every completed `update_existing` dream of the store that still counts (not rejected, not
/// reverted), newest first.
pub async fn applied_dreams(store: &dyn Store, store_id: &str) -> Result<Vec<Dream>> {
    let completed = all_dreams(
        store,
        DreamQuery {
            store_id: Some(store_id.to_string()),
            statuses: vec![DreamStatus::Completed],
            include_archived: true,
            limit: Some(100),
            ..DreamQuery::default()
        },
    )
    .await?;
    Ok(completed
        .into_iter()
        .filter(|d| {
            let rejected = d
                .review
                .as_ref()
                .is_some_and(|r| r.state == ReviewState::Rejected);
            let updates = matches!(d.output_behavior, OutputBehavior::UpdateExisting { .. });
            updates && !rejected && d.reverted_revision.is_none()
        })
        .collect())
}

/// The sessions of a store that no dream has read into it yet, oldest first: not read by an
/// `update_existing` dream that completed and was not rejected or reverted.
pub async fn undreamed(store: &dyn Store, store_id: &str) -> Result<Vec<String>> {
    let applied = applied_dreams(store, store_id).await?;
    unread_by(store, store_id, &applied).await
}

/// The sessions of a store none of `applied` read, oldest first.
async fn unread_by(store: &dyn Store, store_id: &str, applied: &[Dream]) -> Result<Vec<String>> {
    let read: BTreeSet<&str> = applied
        .iter()
        .flat_map(|d| d.session_ids().iter().map(String::as_str))
        .collect();
    let mut sessions = Vec::new();
    let mut page: Option<String> = None;
    loop {
        let p = store
            .list_sessions(store_id, Some(100), page.as_deref())
            .await?;
        sessions.extend(p.data.into_iter().filter(|s| !read.contains(s.id.as_str())));
        match p.next_page {
            Some(n) => page = Some(n),
            None => break,
        }
    }
    sessions.sort_by_key(|s| (s.started_at.unwrap_or(s.created_at), s.id.clone()));
    Ok(sessions.into_iter().map(|s| s.id).collect())
}

/// The sessions a scheduled dream of the store should read now (the oldest 100), or `None`
/// when its schedule does not call for one: enough unread sessions (`after_sessions`), or a
/// `cron` time passed since the last dream (or since the store was made) with at least one
/// unread session — and in both cases `min_interval_secs` since the last dream.
pub async fn due(store: &dyn Store, store_id: &str, now: Timestamp) -> Result<Option<Vec<String>>> {
    let policy = store.get_policy(store_id).await?;
    let schedule = &policy.schedule;
    if schedule.after_sessions.is_none() && schedule.cron.is_none() {
        return Ok(None);
    }
    let applied = applied_dreams(store, store_id).await?;
    let mut sessions = unread_by(store, store_id, &applied).await?;
    if sessions.is_empty() {
        return Ok(None);
    }
    let last = applied.iter().filter_map(|d| d.ended_at).max();
    let interval = i64::try_from(schedule.min_interval_secs)
        .unwrap_or(i64::MAX)
        .saturating_mul(1_000_000);
    if let Some(last) = last
        && now.micros() - last.micros() < interval
    {
        return Ok(None);
    }
    let by_count = schedule
        .after_sessions
        .is_some_and(|n| sessions.len() >= n as usize);
    let since = match last {
        Some(t) => t,
        None => store.get_store(store_id).await?.created_at,
    };
    let by_time = schedule.next_cron_time(since)?.is_some_and(|t| t <= now);
    if !by_count && !by_time {
        return Ok(None);
    }
    sessions.truncate(MAX_DREAM_SESSIONS as usize);
    Ok(Some(sessions))
}

/// What one pass did to one store.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Dreamt {
    pub memory_store_id: String,
    pub dream_id: String,
    pub status: DreamStatus,
}

/// One pass: dreams failed by dead runners are recorded as such, queued (pending) dreams are
/// run, then each store that is not archived and whose schedule calls for a dream gets one, run
/// to its end.
/// Stores another worker is dreaming (a conflict) are left to it.
pub async fn tick(runner: &Runner) -> Result<Vec<Dreamt>> {
    let store = runner.store();
    runner.recover().await?;
    let mut ids = Vec::new();
    let mut page = None;
    loop {
        let p = store
            .list_stores(&StoreQuery {
                limit: Some(100),
                page,
                ..StoreQuery::default()
            })
            .await?;
        ids.extend(p.data.into_iter().map(|s| s.id));
        match p.next_page {
            Some(n) => page = Some(n),
            None => break,
        }
    }
    let mut out = Vec::new();
    // Queued dreams first (created through the API by a server that leaves them to workers):
    // each is run by the one runner whose claim succeeds.
    let mut queued = all_dreams(
        store.as_ref(),
        DreamQuery {
            statuses: vec![DreamStatus::Pending],
            limit: Some(100),
            ..DreamQuery::default()
        },
    )
    .await?;
    queued.reverse(); // oldest first
    for d in queued {
        match runner.run(&d.id).await {
            Ok(done) => out.push(Dreamt {
                memory_store_id: done.store_id().to_string(),
                dream_id: done.id,
                status: done.status,
            }),
            // Another worker claimed it, or it was canceled meanwhile.
            Err(e) if e.error_type() == ErrorType::Conflict => {}
            Err(e) => return Err(e),
        }
    }
    for id in ids {
        out.extend(dream_if_due(runner, &id).await?);
    }
    Ok(out)
}

/// The store's scheduled dream, run to its end, when its schedule calls for one now and no
/// other worker is dreaming it.
pub async fn dream_if_due(runner: &Runner, id: &str) -> Result<Option<Dreamt>> {
    let store = runner.store();
    let Some(sessions) = due(store.as_ref(), id, Timestamp::now()).await? else {
        return Ok(None);
    };
    // The store's policy names its curator; else the process's default.
    let model = store
        .get_policy(id)
        .await?
        .model
        .curator
        .unwrap_or_else(|| runner.default_model());
    let created = runner
        .create(NewDream {
            inputs: vec![
                DreamInput::MemoryStore {
                    memory_store_id: id.to_string(),
                },
                DreamInput::Sessions {
                    session_ids: sessions,
                },
            ],
            model: ModelParam::Id(model),
            instructions: None,
            output_behavior: Some(OutputBehavior::UpdateExisting {
                memory_store_id: id.to_string(),
            }),
            review: None,
        })
        .await;
    let d = match created {
        Ok(d) => d,
        // Another worker's dream of this store is running.
        Err(e) if e.error_type() == ErrorType::Conflict => return Ok(None),
        Err(e) => return Err(e),
    };
    // Another worker's dream may have read these sessions and finished between `due` and
    // `create`. Now that this dream holds the store's one slot, no other can finish, so one
    // more look is decisive: a session read meanwhile cancels this dream.
    let still: BTreeSet<String> = undreamed(store.as_ref(), id).await?.into_iter().collect();
    if d.session_ids().iter().any(|s| !still.contains(s)) {
        store.cancel_dream(&d.id).await?;
        return Ok(None);
    }
    let d = match runner.run(&d.id).await {
        Ok(d) => d,
        // Another worker claimed it first.
        Err(e) if e.error_type() == ErrorType::Conflict => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(Dreamt {
        memory_store_id: id.to_string(),
        dream_id: d.id,
        status: d.status,
    }))
}

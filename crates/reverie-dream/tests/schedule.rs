//! When a store's schedule calls for a dream, on both backends: after N unread sessions, at
//! the times of a cron pattern while an unread session waits, never within the minimum
//! interval, never without a schedule or without unread sessions.

mod common;

use std::sync::Arc;

use common::*;
use reverie_core::Timestamp;
use reverie_core::policy::{Policy, Schedule};
use reverie_dream::schedule::due;
use reverie_store::Store;

on_both_backends!(sessions_and_cron_trigger_dreams);

const HOUR: i64 = 3_600_000_000;

async fn sessions_and_cron_trigger_dreams(s: Arc<dyn Store>) {
    let store = new_store(s.as_ref(), "sched").await;
    let made = s.get_store(&store).await.unwrap().created_at;
    let later = |h: i64| Timestamp(made.micros() + h * HOUR);
    let set = |schedule: Schedule| {
        let s = s.clone();
        let store = store.clone();
        async move {
            let p = Policy {
                schedule,
                ..Policy::default()
            };
            s.set_policy(&store, &p).await.unwrap();
        }
    };

    // No schedule, no dream.
    let sid = session(
        s.as_ref(),
        &store,
        "a",
        1,
        &[Turn::User("the port is 5432")],
        None,
    )
    .await;
    assert_eq!(due(s.as_ref(), &store, later(48)).await.unwrap(), None);

    // A cron pattern: due once a time of it passed since the store was made.
    set(Schedule {
        cron: Some("0 3 * * *".into()),
        ..Schedule::default()
    })
    .await;
    assert_eq!(
        due(s.as_ref(), &store, made).await.unwrap(),
        None,
        "no 03:00 yet"
    );
    assert_eq!(
        due(s.as_ref(), &store, later(25)).await.unwrap(),
        Some(vec![sid.clone()]),
        "a 03:00 passed within 25 hours"
    );

    // A session count: two needed, one waits.
    set(Schedule {
        after_sessions: Some(2),
        ..Schedule::default()
    })
    .await;
    assert_eq!(due(s.as_ref(), &store, later(1)).await.unwrap(), None);
    let sid2 = session(
        s.as_ref(),
        &store,
        "b",
        2,
        &[Turn::User("deploys need two approvals")],
        None,
    )
    .await;
    let mut both = vec![sid.clone(), sid2.clone()];
    both.sort();
    let mut got = due(s.as_ref(), &store, later(1)).await.unwrap().unwrap();
    got.sort();
    assert_eq!(got, both);

    // Dreamed: nothing unread, nothing due; then the minimum interval holds the next back.
    let r = runner(&s);
    let d = r.create(request(&store, &both, true, false)).await.unwrap();
    r.run(&d.id).await.unwrap();
    assert_eq!(due(s.as_ref(), &store, later(100)).await.unwrap(), None);
    set(Schedule {
        after_sessions: Some(1),
        min_interval_secs: 7200,
        ..Schedule::default()
    })
    .await;
    let sid3 = session(
        s.as_ref(),
        &store,
        "c",
        3,
        &[Turn::User("staging moved to 6543")],
        None,
    )
    .await;
    let now = Timestamp::now();
    assert_eq!(
        due(s.as_ref(), &store, now).await.unwrap(),
        None,
        "too soon"
    );
    assert_eq!(
        due(s.as_ref(), &store, Timestamp(now.micros() + 3 * HOUR))
            .await
            .unwrap(),
        Some(vec![sid3])
    );
}

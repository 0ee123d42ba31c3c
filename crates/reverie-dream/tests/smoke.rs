//! A first end-to-end dream: a store with a duplicate, dreamed in place.

mod common;

use std::sync::Arc;

use common::*;
use reverie_core::curation::OpKind;
use reverie_core::dream::DreamStatus;
use reverie_store::Store;

on_both_backends!(duplicates_fold_and_the_index_appears);

async fn duplicates_fold_and_the_index_appears(s: Arc<dyn Store>) {
    let store = new_store(s.as_ref(), "smoke").await;
    put(
        s.as_ref(),
        &store,
        "/notes.md",
        "# Notes\n\n- Run `cargo test` before committing.\n- run `cargo test` before committing\n- The staging database is on port 5432.\n",
    )
    .await;
    let sid = session(s.as_ref(), &store, "a", 0, &[Turn::User("hi")], None).await;
    let r = runner(&s);
    let d = r
        .create(request(&store, &[sid], true, false))
        .await
        .unwrap();
    let d = r.run(&d.id).await.unwrap();
    assert_eq!(d.status, DreamStatus::Completed, "{d:?}");
    let cs = s.dream_changeset(&d.id).await.unwrap().unwrap();
    println!("{}", serde_json::to_string_pretty(&cs).unwrap());
    let after = contents(s.as_ref(), &store).await;
    println!("{after:#?}");
    assert_eq!(cs.ops_of(OpKind::Merge).count(), 1);
    assert!(after["/MEMORY.md"].contains("[notes.md](notes.md)"));
}

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

on_both_backends!(a_long_tool_output_is_held_by_its_head_and_tail);

/// A dream holds what the curator reads of each event ([`reverie_curate::input::Condenser`]):
/// a megabyte of tool output is cut to its head and tail as it loads, the lesson at its head
/// is still learned, and the dream still counts every event of the session.
async fn a_long_tool_output_is_held_by_its_head_and_tail(s: Arc<dyn Store>) {
    let store = new_store(s.as_ref(), "long-output").await;
    let output = format!(
        "Error: Cannot find module 'left-pad'\n{}\nnpm ERR! A complete log of this run can be found in /tmp/x.log",
        "    at Module._resolveFilename (node:internal/modules/cjs/loader:1039:15)\n"
            .repeat(14_000)
    );
    assert!(output.len() > 1_000_000);
    let turns = [
        Turn::User("run the tests"),
        Turn::Other("file-history-snapshot"),
        Turn::Tool("Bash", "npm test", &output, true),
        Turn::Assistant("The module is missing; installing the dependencies first."),
        Turn::Tool("Bash", "npm ci", "added 212 packages", false),
        Turn::Tool("Bash", "npm test", "Tests: 12 passed, 12 total", false),
    ];
    let sid = session(s.as_ref(), &store, "a", 0, &turns, None).await;
    let r = runner(&s);
    let d = r
        .create(request(&store, &[sid], true, false))
        .await
        .unwrap();
    let d = r.run(&d.id).await.unwrap();
    assert_eq!(d.status, DreamStatus::Completed, "{d:?}");
    let cs = s.dream_changeset(&d.id).await.unwrap().unwrap();
    assert_eq!(cs.stats.events, 9, "every event counted");
    let after = contents(s.as_ref(), &store).await;
    let lessons = after.get("/lessons.md").cloned().unwrap_or_default();
    assert!(
        lessons.contains("Cannot find module") && lessons.contains("npm ci"),
        "{after:#?}"
    );
    assert!(
        !after.values().any(|m| m.contains("_resolveFilename")),
        "{after:#?}"
    );
}

//! A model dream over a session too long for one request: the later request carries the notes
//! the earlier one proposed (as `P` ids), an answer may rewrite such a note and cite an event
//! an earlier request showed, and a hint accepted with a text of the model's own keeps that
//! text (in the hint's place, on the hint's evidence too).

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use reverie_core::dream::DreamStatus;
use reverie_curate::model::{
    ModelClient, ModelCurator, ModelError, ModelReply, ModelRequest, Price, StopReason, Usage,
};
use serde_json::{Value, json};

mod common;

use common::*;

/// Answers each request with the ops `answer` makes of it, keeping every request.
struct Scripted {
    seen: Mutex<Vec<ModelRequest>>,
    answer: fn(usize, &str) -> Value,
}

impl std::fmt::Debug for Scripted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scripted")
    }
}

#[async_trait]
impl ModelClient for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }

    fn price(&self) -> Option<Price> {
        None
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelReply, ModelError> {
        let n = {
            let mut seen = self.seen.lock().unwrap();
            seen.push(request.clone());
            seen.len()
        };
        Ok(ModelReply {
            output: (self.answer)(n, &request.user),
            usage: Usage::default(),
            stop: StopReason::Complete,
            model: "scripted".into(),
        })
    }
}

fn op(fields: Value) -> Value {
    let mut base = json!({
        "op": "add", "kind": null, "path": null, "section": null, "text": null,
        "targets": [], "hint": null, "evidence": [], "reason": "test"
    });
    for (k, v) in fields.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

/// The id of the first line of `user` that starts with `[` and holds `needle`.
fn id_of(user: &str, needle: &str) -> String {
    let line = user
        .lines()
        .find(|l| l.starts_with('[') && l.contains(needle))
        .unwrap_or_else(|| panic!("no line holds {needle:?}"));
    line[1..].split([' ', ']']).next().unwrap().to_string()
}

fn answer(n: usize, user: &str) -> Value {
    match n {
        // The first part: the hint, with a text of the model's own.
        1 => {
            let hint = id_of(&user[user.find("<hints>").unwrap()..], "6543");
            let said = id_of(user, "remember that the staging database");
            json!({"ops": [op(json!({
                "hint": hint,
                "text": "The staging database listens on port 6543 (not 5432).",
                "evidence": [said],
            }))]})
        }
        // The second part: the note proposed by the first, made more specific, citing the
        // first part's event and one of its own.
        _ => {
            let block = &user[user.find("<proposed>").expect("the proposed notes")..];
            let p = id_of(block, "port 6543 (not 5432)");
            assert!(p.starts_with('P'), "{p}");
            let first_part = "S1:0";
            let here = id_of(
                &user[user.find("<session").unwrap()..],
                "staging-db.internal",
            );
            json!({"ops": [op(json!({
                "op": "rewrite",
                "targets": [p],
                "text": "The staging database listens on port 6543 (not 5432), host `staging-db.internal`.",
                "evidence": [first_part, here],
            }))]})
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_session_is_read_in_parts_that_build_on_each_other() {
    let fresh = sqlite().await;
    let s = fresh.store.clone();
    let id = new_store(s.as_ref(), "parts").await;
    // About 13 KB of talk, each turn its own (a text said again is shown once): two requests
    // of at most 8 KB.
    let fillers: Vec<String> = (0..6)
        .map(|i| {
            format!("{i}: we are still profiling the ingestion path, nothing decided. ").repeat(30)
        })
        .collect();
    let mut turns = vec![Turn::User(
        "remember that the staging database listens on port 6543",
    )];
    for f in &fillers {
        turns.push(Turn::User(f));
        turns.push(Turn::Assistant("Looking."));
    }
    turns.push(Turn::User(
        "the staging database host is staging-db.internal",
    ));
    let session = session(s.as_ref(), &id, "long", 1, &turns, None).await;

    let client = Arc::new(Scripted {
        seen: Mutex::new(Vec::new()),
        answer,
    });
    let runner = reverie_dream::Runner::new(
        s.clone(),
        Arc::new(ModelCurator::new(client.clone()).with_chunk_bytes(8_000)),
    );
    let d = runner
        .create(request(&id, &[session], true, false))
        .await
        .unwrap();
    let d = runner.run(&d.id).await.unwrap();
    assert_eq!(d.status, DreamStatus::Completed, "{d:?}");

    let seen = client.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "one session in two requests");
    assert!(!seen[0].user.contains("<proposed>"));
    // The second request repeats none of the first's talk.
    assert!(seen[1].user.contains("(continued)"));

    let cs = s.dream_changeset(&d.id).await.unwrap().unwrap();
    let run = cs.curator.clone().unwrap();
    assert!(run.rejected.is_empty(), "{:?}", run.rejected);
    let memory: String = contents(s.as_ref(), &id).await.into_values().collect();
    assert!(
        memory.contains(
            "The staging database listens on port 6543 (not 5432), host `staging-db.internal`."
        ),
        "{memory}"
    );
    // The rewritten note replaced the first part's, and the hint's own wording is not kept.
    assert_eq!(memory.matches("port 6543").count(), 1, "{memory}");
    // The note rests on both parts' events.
    let added = cs
        .ops
        .iter()
        .find(|o| {
            o.after
                .as_deref()
                .is_some_and(|a| a.contains("staging-db.internal"))
        })
        .unwrap();
    let seqs: Vec<i64> = added.evidence.iter().map(|e| e.seq).collect();
    assert!(seqs.contains(&0) && seqs.iter().any(|&q| q > 0), "{seqs:?}");
}

/// Answers with one note and, on its first call, writes to the store as a concurrent client
/// would: the dream's commit then conflicts and the dream runs again.
struct Meddling {
    store: Arc<dyn reverie_store::Store>,
    store_id: String,
    calls: Mutex<usize>,
}

impl std::fmt::Debug for Meddling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Meddling")
    }
}

#[async_trait]
impl ModelClient for Meddling {
    fn name(&self) -> &str {
        "meddling"
    }

    fn price(&self) -> Option<Price> {
        None
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelReply, ModelError> {
        let first = {
            let mut calls = self.calls.lock().unwrap();
            *calls += 1;
            *calls == 1
        };
        if first {
            put(
                self.store.as_ref(),
                &self.store_id,
                "/instructions.md",
                "- Lunch is at noon on Fridays.\n",
            )
            .await;
        }
        let said = id_of(&request.user, "from now on");
        Ok(ModelReply {
            output: json!({"ops": [op(json!({
                "kind": "instruction",
                "path": "/instructions.md",
                "text": "Run `cargo fmt --all` before every commit.",
                "evidence": [said],
            }))]}),
            usage: Usage {
                input_tokens: 1000,
                output_tokens: 100,
                ..Usage::default()
            },
            stop: StopReason::Complete,
            model: "meddling".into(),
        })
    }
}

/// A dream run again after a conflict asks the model nothing it asked before: the answer to
/// the same request comes from the first attempt, and is paid once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dream_run_again_after_a_conflict_pays_once() {
    let fresh = sqlite().await;
    let s = fresh.store.clone();
    let id = new_store(s.as_ref(), "again").await;
    let session = session(
        s.as_ref(),
        &id,
        "a",
        1,
        &[
            Turn::User("from now on, run `cargo fmt --all` before every commit"),
            Turn::Assistant("Will do."),
        ],
        None,
    )
    .await;
    let client = Arc::new(Meddling {
        store: s.clone(),
        store_id: id.clone(),
        calls: Mutex::new(0),
    });
    let runner = reverie_dream::Runner::new(s.clone(), Arc::new(ModelCurator::new(client.clone())));
    let d = runner
        .create(request(&id, &[session], true, false))
        .await
        .unwrap();
    let (d, t) = runner.run_timed(&d.id).await.unwrap();
    assert_eq!(d.status, DreamStatus::Completed, "{d:?}");
    assert_eq!(t.attempts, 2, "the write did not make the dream run again");
    assert_eq!(
        *client.calls.lock().unwrap(),
        1,
        "the model was asked twice"
    );
    let run = s
        .dream_changeset(&d.id)
        .await
        .unwrap()
        .unwrap()
        .curator
        .unwrap();
    assert_eq!(run.cached, 1, "{run:?}");
    // What the dream paid, once.
    assert_eq!(run.usage.input_tokens, 1000, "{run:?}");
    assert_eq!(run.usage.output_tokens, 100, "{run:?}");
    let memory: String = contents(s.as_ref(), &id).await.into_values().collect();
    assert!(
        memory.contains("cargo fmt --all") && memory.contains("Lunch is at noon"),
        "{memory}"
    );
}

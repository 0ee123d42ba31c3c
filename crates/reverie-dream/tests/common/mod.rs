//! Shared by the dream tests: a fresh store on either backend, sessions made of events, and a
//! runner with the deterministic curator.

#![allow(dead_code)]

use std::sync::Arc;

use reverie_core::dream::{DreamInput, ModelParam, NewDream, OutputBehavior};
use reverie_core::session::{Event, EventKind, Outcome, OutcomeStatus, SessionMeta, SourceFormat};
use reverie_core::{Actor, Memory, Timestamp};
use reverie_dream::Runner;
use reverie_store::{NewSession, NewStore, SessionBatch, Store, Synchronous};

pub mod scripted;

pub struct Fresh {
    pub store: Arc<dyn Store>,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> Fresh {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reverie.db");
    let store = reverie_store::connect_sqlite(&path, Synchronous::Normal)
        .await
        .unwrap();
    Fresh {
        store: Arc::new(store),
        url: path.display().to_string(),
        _dir: Some(dir),
    }
}

pub async fn postgres() -> Fresh {
    let url = reverie_testkit::pg::fresh_database();
    let store = reverie_store::connect_postgres(&url).await.unwrap();
    Fresh {
        store: Arc::new(store),
        url,
        _dir: None,
    }
}

/// Runs `async fn $name(store: Arc<dyn Store>)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let fresh = $crate::common::sqlite().await;
                    super::$name(fresh.store.clone()).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let fresh = $crate::common::postgres().await;
                    super::$name(fresh.store.clone()).await;
                }
            }
        )+
    };
}

pub fn user() -> Actor {
    Actor::User {
        user_id: "user_test".into(),
    }
}

pub async fn new_store(s: &dyn Store, name: &str) -> String {
    s.create_store(NewStore {
        name: name.into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .id
}

pub async fn put(s: &dyn Store, store: &str, path: &str, content: &str) -> Memory {
    match s.get_memory_by_path(store, path).await {
        Ok(m) => s
            .update_memory(
                store,
                &m.id,
                reverie_store::MemoryPatch {
                    content: Some(content.into()),
                    ..Default::default()
                },
                &user(),
            )
            .await
            .unwrap(),
        Err(_) => s
            .create_memory(store, path, content, &user())
            .await
            .unwrap(),
    }
}

/// A turn of a made-up session: who says what.
pub enum Turn<'a> {
    User(&'a str),
    Assistant(&'a str),
    /// A tool call and its result: (tool, input command, output, is_error).
    Tool(&'a str, &'a str, &'a str, bool),
    /// A line of the source's own bookkeeping (an `other` event).
    Other(&'a str),
}

/// Records a session of `turns`, starting at `day` (days after 2026-11-01), with an outcome.
pub async fn session(
    s: &dyn Store,
    store: &str,
    name: &str,
    day: i64,
    turns: &[Turn<'_>],
    outcome: Option<OutcomeStatus>,
) -> String {
    let session = s
        .create_session(NewSession {
            store_id: store.into(),
            source_format: SourceFormat::ClaudeCode,
            source_path: Some(format!("/sessions/{name}.jsonl")),
            outcome: outcome.map(|status| Outcome {
                status,
                score: None,
                note: None,
            }),
        })
        .await
        .unwrap();
    let start = Timestamp::parse("2026-11-01T09:00:00Z").unwrap().micros() + day * 86_400_000_000;
    let mut events = Vec::new();
    let mut at = start;
    let mut push = |mut e: Event| {
        e.seq = events.len() as i64;
        e.line = Some(events.len() as i64 + 1);
        at += 30_000_000;
        e.timestamp = Some(Timestamp(at));
        events.push(e);
    };
    for (i, t) in turns.iter().enumerate() {
        match t {
            Turn::User(text) => push(Event::new(EventKind::User).with_text(*text)),
            Turn::Assistant(text) => push(Event::new(EventKind::Assistant).with_text(*text)),
            Turn::Other(text) => push(Event::new(EventKind::Other).with_text(*text)),
            Turn::Tool(tool, command, output, is_error) => {
                let mut call = Event::new(EventKind::ToolUse);
                call.tool_name = Some(tool.to_string());
                call.tool_use_id = Some(format!("toolu_{i}"));
                call.tool_input = Some(serde_json::json!({"command": command}));
                push(call);
                let mut result = Event::new(EventKind::ToolResult).with_text(*output);
                result.tool_use_id = Some(format!("toolu_{i}"));
                result.is_error = *is_error;
                push(result);
            }
        }
    }
    let n = events.len() as i64;
    let lines: Vec<(i64, String)> = (1..=n).map(|l| (l, format!("{{\"line\":{l}}}"))).collect();
    s.append_to_session(
        &session.id,
        &SessionBatch {
            expect_consumed: 0,
            expect_seq: 0,
            lines: lines.into(),
            events,
            consumed_bytes: n,
            consumed_hash: Some("test".into()),
            next_line: n + 1,
            meta: SessionMeta {
                project: Some("/home/dev/tallyho".into()),
                started_at: Some(Timestamp(start)),
                ended_at: Some(Timestamp(at)),
                ..SessionMeta::default()
            },
        },
    )
    .await
    .unwrap();
    session.id
}

pub fn runner(store: &Arc<dyn Store>) -> Runner {
    Runner::new(store.clone(), Arc::new(reverie_curate::Deterministic))
}

/// A runner with a scripted curator.
pub fn scripted(store: &Arc<dyn Store>, curator: scripted::Scripted) -> Runner {
    Runner::new(store.clone(), Arc::new(curator))
}

/// An `update_existing` dream of `store` over `sid`, without review, run to its end by a
/// scripted curator.
pub async fn dream_scripted(
    s: &Arc<dyn Store>,
    store: &str,
    sid: &str,
    curator: scripted::Scripted,
) -> reverie_core::dream::Dream {
    let r = scripted(s, curator);
    let d = r
        .create(request(store, &[sid.to_string()], true, false))
        .await
        .unwrap();
    r.run(&d.id).await.unwrap()
}

/// Everything a dream may change in a store: its revision, memories, entries and policy.
pub async fn snapshot(s: &dyn Store, store: &str) -> String {
    let state = s.store_state(store).await.unwrap();
    format!(
        "revision {}\n{:?}\n{:?}\n{:?}",
        state.store.revision,
        state
            .memories
            .iter()
            .map(|m| (m.id.clone(), m.path.clone(), m.content.clone()))
            .collect::<Vec<_>>(),
        state.entries,
        state.policy
    )
}

/// A dream request over `sessions`.
pub fn request(store: &str, sessions: &[String], update: bool, review: bool) -> NewDream {
    NewDream {
        inputs: vec![
            DreamInput::MemoryStore {
                memory_store_id: store.into(),
            },
            DreamInput::Sessions {
                session_ids: sessions.to_vec(),
            },
        ],
        model: ModelParam::Id(reverie_core::dream::DETERMINISTIC_MODEL.into()),
        instructions: None,
        output_behavior: Some(if update {
            OutputBehavior::UpdateExisting {
                memory_store_id: store.into(),
            }
        } else {
            OutputBehavior::CreateNew
        }),
        review: Some(review),
    }
}

/// The store's memories: path → content.
pub async fn contents(s: &dyn Store, store: &str) -> std::collections::BTreeMap<String, String> {
    let state = s.store_state(store).await.unwrap();
    state
        .memories
        .into_iter()
        .map(|m| (m.path, m.content.unwrap_or_default()))
        .collect()
}

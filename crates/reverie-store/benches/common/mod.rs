//! Shared by the store's benchmarks: the benchmark store's content — 2,000 distinct
//! markdown-ish memories of about 1 KB under eight folders (`REVERIE_BENCH_MEMORIES` for
//! another size: 10000 is the hosted limit, a full store) — and how it is filled.

#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use reverie_core::Actor;
use reverie_store::{MemoryPatch, NewStore, Store};

/// Memories in the benchmark store: 2,000, or `REVERIE_BENCH_MEMORIES`.
pub fn memories() -> usize {
    static N: std::sync::LazyLock<usize> = std::sync::LazyLock::new(|| {
        std::env::var("REVERIE_BENCH_MEMORIES")
            .ok()
            .map(|v| v.parse().expect("REVERIE_BENCH_MEMORIES is a number"))
            .unwrap_or(2_000)
    });
    *N
}
/// Folders the memories are spread over: `/projects/p0/` to `/projects/p7/`.
pub const FOLDERS: usize = 8;

pub fn actor() -> Actor {
    Actor::User {
        user_id: "user_bench".into(),
    }
}

#[rustfmt::skip]
const WORDS: &[&str] = &[
    "the", "store", "memory", "agent", "session", "user", "prefers", "tabs", "over", "spaces",
    "deploy", "staging", "production", "migration", "schema", "index", "query", "latency",
    "budget", "review", "decision", "because", "we", "should", "never", "always", "retry",
    "timeout", "cache", "invalidate", "customer", "invoice", "report", "weekly", "sync",
    "meeting", "notes", "follow", "up", "with", "team", "backend", "frontend", "rollout",
    "feature", "flag", "metrics", "dashboard", "alert", "incident", "postmortem", "owner",
    "deadline", "friday", "release", "branch", "merge", "conflict", "test", "flaky", "fixed",
    "api", "key", "rotate", "secret", "vault", "config", "yaml", "json", "parser", "edge",
    "case", "unicode", "path", "folder", "revision", "restore", "snapshot", "backup", "daily",
];

const SECTIONS: &[&str] = &[
    "Context",
    "Decisions",
    "Open questions",
    "Next steps",
    "Links",
];

fn sentence(rng: &mut StdRng) -> String {
    let n = rng.random_range(6..14);
    let mut s = String::new();
    for k in 0..n {
        let w = WORDS[rng.random_range(0..WORDS.len())];
        if k == 0 {
            let mut c = w.chars();
            s.extend(c.next().map(|c| c.to_ascii_uppercase()));
            s.push_str(c.as_str());
        } else {
            s.push(' ');
            s.push_str(w);
        }
    }
    s.push('.');
    s
}

/// About 1 KB of markdown (1,000 to 1,150 bytes), distinct for each `(i, generation)`.
pub fn content(i: usize, generation: u64) -> String {
    let mut rng = StdRng::seed_from_u64(((i as u64) << 32) ^ generation);
    let mut s = format!(
        "# Notes {i:04} — project p{} (draft {generation})\n",
        i % FOLDERS
    );
    let mut section = 0;
    while s.len() < 1_000 {
        s.push_str(&format!("\n## {}\n\n", SECTIONS[section % SECTIONS.len()]));
        section += 1;
        if rng.random_range(0..2) == 0 {
            for _ in 0..rng.random_range(2..4) {
                s.push_str(&format!("- {}\n", sentence(&mut rng)));
            }
        } else {
            let mut p = sentence(&mut rng);
            p.push(' ');
            p.push_str(&sentence(&mut rng));
            s.push_str(&p);
            s.push('\n');
        }
    }
    s
}

/// The path of the `i`th memory: `/projects/p3/notes-0042.md`.
pub fn path(i: usize) -> String {
    format!("/projects/p{}/notes-{i:04}.md", i % FOLDERS)
}

/// A new path for a memory created during a benchmark, distinct for each `n`.
pub fn new_path(n: u64) -> String {
    format!("/projects/p{}/new-{n:07}.md", n as usize % FOLDERS)
}

/// A filled benchmark store.
#[derive(Debug)]
pub struct Filled {
    pub store_id: String,
    /// The memories, in fill order.
    pub ids: Vec<String>,
    /// The store's revision after the fill.
    pub rev_filled: i64,
    /// The store's revision after every memory was updated once (`rev_filled` without
    /// `update_all`).
    pub rev_updated: i64,
}

/// Creates a store (with room for far more than `memories()` memories), fills it with `memories()`
/// memories through the store's API and, with `update_all`, then updates each once.
pub async fn fill<S: Store>(store: &S, update_all: bool) -> Filled {
    let actor = actor();
    let st = store
        .create_store(NewStore {
            name: "bench".into(),
            max_memories: Some(1_000_000),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut ids = Vec::with_capacity(memories());
    for i in 0..memories() {
        let m = store
            .create_memory(&st.id, &path(i), &content(i, 0), &actor)
            .await
            .unwrap();
        ids.push(m.id);
    }
    let rev_filled = store.get_store(&st.id).await.unwrap().revision;
    if update_all {
        for (i, id) in ids.iter().enumerate() {
            store
                .update_memory(
                    &st.id,
                    id,
                    MemoryPatch {
                        content: Some(content(i, 1)),
                        ..Default::default()
                    },
                    &actor,
                )
                .await
                .unwrap();
        }
    }
    let rev_updated = store.get_store(&st.id).await.unwrap().revision;
    Filled {
        store_id: st.id,
        ids,
        rev_filled,
        rev_updated,
    }
}

//! Properties of the dream over random stores and sessions, on the pure pipeline: the budget
//! holds; protected memories stay byte-identical; every entry that leaves a memory is in the
//! changeset and kept (restorable); the same input gives byte-identical output.
//!
//! Stores are drawn from a small vocabulary of notes a coding agent keeps, so that random
//! stores hold what curation acts on: exact and near duplicates, the same fact with different
//! values, notes in protected memories; sessions are drawn as the candidates they yield.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::scripted::{Scripted, cand};
use proptest::prelude::*;
use reverie_core::curation::{EntryKind, EntryState, OpKind};
use reverie_core::dream::error_kind;
use reverie_core::entry::Document;
use reverie_core::policy::Policy;
use reverie_core::session::{Session, SourceFormat};
use reverie_core::timestamp::Timestamp;
use reverie_curate::{DreamInput, MemoryText, SessionInput, StoreSnapshot};

const SUBJECTS: [&str; 5] = [
    "staging database",
    "test database",
    "cache",
    "job queue",
    "admin UI",
];
const VALUES: [&str; 6] = [
    "port 5432",
    "port 5433",
    "port 6543",
    "`./scripts/deploy.sh`",
    "`pnpm build`",
    "`/admin`",
];
const PATHS: [&str; 5] = [
    "/notes.md",
    "/projects/tallyho.md",
    "/team/rules.md",
    "/MEMORY.md",
    "/lessons.md",
];

fn note() -> impl Strategy<Value = String> {
    (0..SUBJECTS.len(), 0..VALUES.len(), 0..4usize).prop_map(|(s, v, form)| {
        let (s, v) = (SUBJECTS[s], VALUES[v]);
        match form {
            0 => format!("The {s} uses {v}."),
            1 => format!("the {s} uses {v}"),
            2 => format!("Remember: the {s} is reached through {v}, always."),
            _ => format!("Notes on the {s}: nothing special, ask before changing it."),
        }
    })
}

fn memory() -> impl Strategy<Value = (usize, Vec<String>)> {
    (0..PATHS.len(), prop::collection::vec(note(), 0..7))
}

fn render(entries: &[String]) -> String {
    let mut out = String::from("# Notes\n\n");
    for e in entries {
        out.push_str("- ");
        out.push_str(e);
        out.push('\n');
    }
    out
}

#[derive(Debug, Clone)]
struct Case {
    memories: BTreeMap<String, String>,
    candidates: Vec<(String, usize, i64)>,
    max_total: u64,
    max_memory: u64,
    protect_team: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(memory(), 0..5),
        prop::collection::vec((note(), 0..PATHS.len(), 0..20i64), 0..8),
        200u64..4000,
        120u64..2000,
        any::<bool>(),
    )
        .prop_map(|(mems, candidates, max_total, max_memory, protect_team)| {
            let mut memories = BTreeMap::new();
            for (p, entries) in mems {
                memories.insert(PATHS[p].to_string(), render(&entries));
            }
            Case {
                memories,
                candidates,
                max_total,
                max_memory,
                protect_team,
            }
        })
}

fn input(c: &Case) -> DreamInput {
    let policy = Policy {
        protected: if c.protect_team {
            vec!["/team/**".into()]
        } else {
            Vec::new()
        },
        budget: reverie_core::policy::Budget {
            max_total_bytes: c.max_total,
            max_memory_bytes: c.max_memory,
            ..Default::default()
        },
        ..Policy::default()
    };
    let t = Timestamp::parse("2026-11-01T00:00:00Z").unwrap();
    DreamInput {
        dream_id: "drm_01prop".into(),
        store: StoreSnapshot {
            store_id: "memstore_01prop".into(),
            revision: 7,
            memories: c
                .memories
                .iter()
                .enumerate()
                .map(|(i, (path, content))| MemoryText {
                    id: format!("mem_01prop{i}"),
                    path: path.clone(),
                    content: content.clone(),
                })
                .collect(),
            entries: Vec::new(),
            policy,
        },
        sessions: vec![SessionInput {
            session: Session {
                id: "sesn_01prop".into(),
                memory_store_id: "memstore_01prop".into(),
                source_format: SourceFormat::ClaudeCode,
                source_path: None,
                source_session_id: None,
                project: None,
                git_branch: None,
                model: None,
                agent_version: None,
                started_at: Some(t),
                ended_at: Some(t),
                event_count: 0,
                error_count: 0,
                line_count: 0,
                outcome: None,
                created_at: t,
                updated_at: t,
            },
            events: Vec::new(),
        }],
        servings: Vec::new(),
        instructions: None,
    }
}

fn curator(c: &Case) -> Scripted {
    Scripted::new(
        c.candidates
            .iter()
            .enumerate()
            .map(|(i, (text, p, day))| {
                cand(
                    EntryKind::Fact,
                    text,
                    PATHS[*p],
                    "sesn_01prop",
                    i as i64,
                    *day,
                )
            })
            .collect(),
    )
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn dreams_keep_their_promises(c in case()) {
        let inp = input(&c);
        let out = block_on(reverie_curate::dream(&inp, &curator(&c)));
        let out = match out {
            Ok(o) => o,
            Err(f) => {
                // The only refusal a store can earn here: what may not be archived is over
                // the budget.
                prop_assert_eq!(f.kind, error_kind::BUDGET_UNSATISFIABLE, "{}", f.message);
                return Ok(());
            }
        };
        // The memories as the dream leaves them.
        let mut result: BTreeMap<String, String> = c.memories.clone();
        for w in &out.writes {
            match &w.content {
                Some(content) => { result.insert(w.path.clone(), content.clone()); }
                None => { result.remove(&w.path); }
            }
        }
        let b = &inp.store.policy.budget;
        // The budget holds.
        let total: usize = result.values().map(String::len).sum();
        prop_assert!(total as u64 <= b.max_total_bytes, "{} > {}", total, b.max_total_bytes);
        for (path, content) in &result {
            let protected = inp.store.policy.is_protected(path);
            prop_assert!(protected || content.len() as u64 <= b.max_memory_bytes, "{} is {}", path, content.len());
            if path == &b.index_path && !protected {
                prop_assert!(content.lines().count() as u64 <= b.index_max_lines as u64);
                prop_assert!(content.len() as u64 <= b.index_max_bytes);
            }
        }
        // Protected memories are byte-identical.
        for (path, content) in &c.memories {
            if inp.store.policy.is_protected(path) {
                prop_assert_eq!(result.get(path), Some(content), "{}", path);
            }
        }
        // Every entry that left a memory is in the changeset with its text, and kept.
        let bodies = |m: &BTreeMap<String, String>| -> BTreeSet<(String, String)> {
            m.iter().flat_map(|(p, c)| Document::parse(c).entries().into_iter().map(move |e| (p.clone(), e.body))).collect()
        };
        let after = bodies(&result);
        for (path, body) in bodies(&c.memories).difference(&after) {
            let op = out.changeset.ops.iter().find(|o| o.before.as_deref() == Some(body.as_str()) && &o.path == path);
            prop_assert!(op.is_some(), "{:?} left {} silently", body, path);
            let op = op.unwrap();
            if op.op != OpKind::Rewrite {
                let kept = out.entries.iter().find(|e| e.id == op.entry_id);
                prop_assert!(kept.is_some_and(|e| e.state != EntryState::Live && &e.text == body), "{:?} is not kept", body);
            }
        }
        // The same input gives byte-identical output.
        let again = block_on(reverie_curate::dream(&inp, &curator(&c))).unwrap();
        prop_assert_eq!(&again, &out);
    }
}

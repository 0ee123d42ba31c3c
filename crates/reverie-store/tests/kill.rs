//! A process killed in the middle of writes leaves the store consistent.
//!
//! This test re-runs its own binary as a child that writes to a store without pause — creates,
//! edits, renames, deletes, whole-store restores (large multi-version transactions) and memory
//! tool commands — and kills it with SIGKILL at a random moment, many times over, on SQLite
//! and on PostgreSQL. After every kill the store is reopened and every invariant is checked:
//! memories agree with their latest versions, content matches its digest, revisions are
//! gapless, the state at the current revision is the live state, and no placeholder path of
//! an unfinished move is left behind.
//!
//! It runs without the libtest harness (`harness = false`) so that the child mode is a plain
//! branch of `main`, not a test of its own.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use rand::{Rng, RngExt, SeedableRng};
use reverie_core::memtool::Command as ToolCommand;
use reverie_core::{Actor, ListItem, Operation, View};
use reverie_store::{MemoryPatch, MemoryQuery, NewStore, Store};

const CHILD_URL: &str = "REVERIE_KILL_CHILD_URL";
const CHILD_STORE: &str = "REVERIE_KILL_CHILD_STORE";
const CHILD_SEED: &str = "REVERIE_KILL_CHILD_SEED";

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Ok(url) = std::env::var(CHILD_URL) {
        let store_id = std::env::var(CHILD_STORE).unwrap();
        let seed: u64 = std::env::var(CHILD_SEED).unwrap().parse().unwrap();
        rt.block_on(child(url, store_id, seed));
        return;
    }
    // `cargo test -- --list` and filters are answered like libtest would, roughly.
    if std::env::args().any(|a| a == "--list") {
        println!("kill::sqlite: test\nkill::postgres: test");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = dir.path().join("kill.db").display().to_string();
    let pg_url = reverie_testkit::pg::fresh_database();
    for (name, url) in [("sqlite", sqlite_url), ("postgres", pg_url)] {
        rt.block_on(parent(name, &url));
    }
}

async fn parent(backend: &str, url: &str) {
    let store = reverie_store::open(url).await.unwrap();
    let st = store
        .create_store(NewStore {
            name: "kill".into(),
            max_memories: Some(400),
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let rounds = 15;
    for round in 0..rounds {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(CHILD_URL, url)
            .env(CHILD_STORE, &st)
            .env(CHILD_SEED, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        // Wait until the child writes, then let it run a random while and kill it.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "writing");
        tokio::time::sleep(Duration::from_millis(rng.random_range(20..400))).await;
        child.kill().unwrap();
        child.wait().unwrap();

        let reopened = reverie_store::open(url).await.unwrap();
        let problems = reopened.check_integrity(&st).await.unwrap();
        assert!(
            problems.is_empty(),
            "{backend}, round {round}: {problems:#?}"
        );
        check_state_matches_history(&*reopened, &st).await;
    }
    let revision = store.get_store(&st).await.unwrap().revision;
    assert!(
        revision > rounds as i64 * 5,
        "{backend}: the children wrote too little ({revision} revisions)"
    );
    println!(
        "kill::{backend}: {rounds} kills, {revision} revisions written, store consistent after each"
    );
}

/// The live memories equal the state recorded at the current revision, and no move left a
/// placeholder path.
async fn check_state_matches_history(s: &dyn Store, st: &str) {
    let revision = s.get_store(st).await.unwrap().revision;
    let recorded: BTreeMap<String, (String, String)> = s
        .state_at(st, revision)
        .await
        .unwrap()
        .into_iter()
        .filter(|v| v.operation != Operation::Deleted)
        .map(|v| (v.memory_id, (v.path.unwrap(), v.content.unwrap())))
        .collect();
    let mut live = BTreeMap::new();
    let mut page = None;
    loop {
        let q = MemoryQuery {
            view: View::Full,
            limit: Some(20),
            page,
            ..Default::default()
        };
        let p = s.list_memories(st, &q).await.unwrap();
        for item in p.data {
            let ListItem::Memory(m) = item else {
                unreachable!("depth 0")
            };
            assert!(
                !m.path.starts_with('\u{1}'),
                "a placeholder path survived: {:?}",
                m.path
            );
            live.insert(m.id, (m.path, m.content.unwrap()));
        }
        match p.next_page {
            Some(n) => page = Some(n),
            None => break,
        }
    }
    assert_eq!(
        live, recorded,
        "live state differs from the history at revision {revision}"
    );
}

/// The child: writes forever, until killed.
async fn child(url: String, st: String, seed: u64) {
    let s = reverie_store::open(&url).await.unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let actor = Actor::Session {
        session_id: format!("sesn_child{seed}"),
    };
    println!("writing");
    loop {
        let _ = step(&*s, &st, &mut rng, &actor).await;
    }
}

async fn step(
    s: &dyn Store,
    st: &str,
    rng: &mut impl Rng,
    actor: &Actor,
) -> reverie_core::Result<()> {
    let memories: Vec<reverie_core::Memory> = s
        .list_memories(
            st,
            &MemoryQuery {
                limit: Some(100),
                ..Default::default()
            },
        )
        .await?
        .data
        .into_iter()
        .filter_map(|i| match i {
            ListItem::Memory(m) => Some(m),
            ListItem::Prefix(_) => None,
        })
        .collect();
    let pick = |rng: &mut dyn rand::Rng| {
        memories
            .get(rng.random_range(0..memories.len().max(1)))
            .cloned()
    };
    let body =
        |rng: &mut dyn rand::Rng| "lorem ipsum dolor sit amet\n".repeat(rng.random_range(1..200));
    match rng.random_range(0..100) {
        0..=39 => {
            for _ in 0..rng.random_range(1..20) {
                let path = format!(
                    "/d{}/n{}.md",
                    rng.random_range(0..8),
                    rng.random_range(0..100_000)
                );
                s.create_memory(st, &path, &body(rng), actor).await?;
            }
        }
        40..=59 => {
            if let Some(m) = pick(rng) {
                let patch = MemoryPatch {
                    content: Some(body(rng)),
                    precondition_content_sha256: Some(m.content_sha256),
                    ..Default::default()
                };
                s.update_memory(st, &m.id, patch, actor).await?;
            }
        }
        60..=69 => {
            if let Some(m) = pick(rng) {
                let path = format!("/moved/{}.md", rng.random_range(0..100_000));
                s.update_memory(
                    st,
                    &m.id,
                    MemoryPatch {
                        path: Some(path),
                        ..Default::default()
                    },
                    actor,
                )
                .await?;
            }
        }
        70..=79 => {
            if let Some(m) = pick(rng) {
                s.delete_memory(st, &m.id, None, actor).await?;
            }
        }
        80..=89 => {
            let current = s.get_store(st).await?.revision;
            if current > 0 {
                s.restore_store(st, rng.random_range(0..current), actor)
                    .await?;
            }
        }
        _ => {
            let dir = rng.random_range(0..8);
            let cmd = if rng.random_bool(0.5) {
                ToolCommand::Rename {
                    old_path: format!("/memories/d{dir}"),
                    new_path: format!("/memories/d{dir}x"),
                }
            } else {
                ToolCommand::Rename {
                    old_path: format!("/memories/d{dir}x"),
                    new_path: format!("/memories/d{dir}"),
                }
            };
            s.memory_tool(st, &cmd, actor).await?;
        }
    }
    Ok(())
}

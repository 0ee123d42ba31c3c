//! A dream killed at a random point leaves the store exactly as it was.
//!
//! The real `reverie dream` runs over a store big enough that a dream takes a while (hundreds
//! of memories with duplicates, contradictions and a budget to enforce), and is killed with
//! SIGKILL after a random delay, many times, on SQLite and on PostgreSQL. After each kill: if
//! the dream had not committed, the store — revision, memories, entry metadata — is byte for
//! byte what it was; if it had, it is exactly one revision further and every invariant holds.
//! The next dream notices the dead one (`runner_lost`) and completes.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use reverie_core::Actor;
use reverie_core::dream::{DreamStatus, error_kind};
use reverie_core::policy::Policy;
use reverie_core::session::{Event, EventKind, SessionMeta, SourceFormat};
use reverie_core::timestamp::Timestamp;
use reverie_store::{DreamQuery, NewSession, NewStore, SessionBatch, Store};

fn reverie() -> Command {
    Command::new(env!("CARGO_BIN_EXE_reverie"))
}

async fn snapshot(s: &dyn Store, store: &str) -> String {
    let st = s.store_state(store).await.unwrap();
    let memories: BTreeMap<String, String> = st
        .memories
        .into_iter()
        .map(|m| (m.path, m.content.unwrap_or_default()))
        .collect();
    format!("{}\n{memories:?}\n{:?}", st.store.revision, st.entries)
}

async fn session(s: &dyn Store, store: &str, n: usize) -> String {
    let sess = s
        .create_session(NewSession {
            store_id: store.into(),
            source_format: SourceFormat::ClaudeCode,
            source_path: Some(format!("/kill/{n}.jsonl")),
            outcome: None,
        })
        .await
        .unwrap();
    let t = Timestamp::parse("2026-11-01T00:00:00Z").unwrap().micros() + n as i64 * 3_600_000_000;
    let mut e = Event::new(EventKind::User).with_text(format!(
        "remember that the service {n} listens on port {}",
        7000 + n
    ));
    e.line = Some(1);
    e.timestamp = Some(Timestamp(t));
    s.append_to_session(
        &sess.id,
        &SessionBatch {
            expect_consumed: 0,
            expect_seq: 0,
            lines: vec![(1, "{}".into())].into(),
            events: vec![e],
            consumed_bytes: 1,
            consumed_hash: Some("k".into()),
            next_line: 2,
            meta: SessionMeta {
                started_at: Some(Timestamp(t)),
                ended_at: Some(Timestamp(t)),
                ..SessionMeta::default()
            },
        },
    )
    .await
    .unwrap();
    sess.id
}

async fn fill(s: &Arc<dyn Store>) -> String {
    let store = s
        .create_store(NewStore {
            name: "kill".into(),
            max_memories: Some(5000),
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    let user = Actor::User {
        user_id: "user_kill".into(),
    };
    let mut total = 0;
    for i in 0..400 {
        let mut content = format!("# Service {i}\n\n");
        for j in 0..8 {
            // Duplicates across memories and conflicting values give consolidation work.
            content.push_str(&format!(
                "- The service {} listens on port {} and logs to `/var/log/svc{}.log`.\n",
                (i + j) % 150,
                7000 + (i * j) % 97,
                j
            ));
        }
        total += content.len();
        s.create_memory(&store, &format!("/services/s{i:03}.md"), &content, &user)
            .await
            .unwrap();
    }
    // A budget that forces the dream to archive.
    let mut p = Policy::default();
    p.budget.max_total_bytes = (total as u64) * 6 / 10;
    s.set_policy(&store, &p).await.unwrap();
    store
}

async fn killed_dreams(url: String) {
    let s = reverie_store::open(&url).await.unwrap();
    let store = fill(&s).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);

    // How long a whole dream takes here, to spread the kills over it.
    let (mut before_commit, mut after_commit) = (0, 0);
    // Round 0 runs to the end, to learn how long a dream takes here; the kills are spread from
    // just after the start to just after the end.
    let mut typical = Duration::from_secs(3600);
    for round in 0..16 {
        let sid = session(s.as_ref(), &store, round).await;
        let before = snapshot(s.as_ref(), &store).await;
        let rev = s.get_store(&store).await.unwrap().revision;
        let start = Instant::now();
        let mut child = reverie()
            .args(["--database", &url, "dream", "-s", &store, &sid])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let delay = if round == 0 {
            typical
        } else {
            typical.mul_f64(rng.random_range(0.02..1.2))
        };
        let finished = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if start.elapsed() >= delay {
                break None;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        if finished.is_some() {
            // Later dreams have less to do: aim at the quickest seen.
            typical = if round == 0 {
                start.elapsed()
            } else {
                typical.min(start.elapsed())
            };
        } else {
            child.kill().unwrap();
            child.wait().unwrap();
        }
        let dream = s
            .list_dreams(&DreamQuery {
                store_id: Some(store.clone()),
                limit: Some(1),
                ..DreamQuery::default()
            })
            .await
            .unwrap()
            .data
            .into_iter()
            .next();
        match dream {
            Some(d) if d.status == DreamStatus::Completed && d.session_ids().contains(&sid) => {
                after_commit += 1;
                assert_eq!(s.get_store(&store).await.unwrap().revision, rev + 1);
                let problems = s.check_integrity(&store).await.unwrap();
                assert!(problems.is_empty(), "{problems:?}");
            }
            _ => {
                before_commit += 1;
                assert_eq!(
                    snapshot(s.as_ref(), &store).await,
                    before,
                    "round {round}: a dream killed after {delay:?} changed the store"
                );
            }
        }
    }
    assert!(
        before_commit >= 3,
        "too few kills landed inside a dream ({before_commit}; typical {typical:?})"
    );

    // The next dream notices the dead ones and completes.
    let sid = session(s.as_ref(), &store, 99).await;
    let out = reverie()
        .args(["--database", &url, "--json", "dream", "-s", &store, &sid])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lost = s
        .list_dreams(&DreamQuery {
            store_id: Some(store.clone()),
            statuses: vec![DreamStatus::Failed],
            limit: Some(100),
            ..DreamQuery::default()
        })
        .await
        .unwrap()
        .data;
    assert!(
        lost.iter()
            .all(|d| d.error.as_ref().unwrap().kind == error_kind::RUNNER_LOST)
    );
    let running = s.running_dreams().await.unwrap();
    assert!(running.is_empty(), "{running:?}");
    eprintln!(
        "{before_commit} kills before the commit, {after_commit} after; a dream takes about {typical:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let dir = tempfile::tempdir().unwrap();
    killed_dreams(dir.path().join("kill.db").display().to_string()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    killed_dreams(reverie_testkit::pg::fresh_database()).await;
}

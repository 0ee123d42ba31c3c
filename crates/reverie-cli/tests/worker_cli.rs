//! `reverie worker` and the policy's schedule, through the real binary on SQLite and
//! PostgreSQL: a store is dreamed once enough new sessions arrived and enough time passed, not
//! before, not twice; several workers racing over one database dream each batch exactly once;
//! a worker SIGKILLed mid-dream leaves the store as it was, and the next one recovers.

use std::process::Stdio;

mod common;

use common::Env;

impl Env {
    fn ingest(&self, name: &str) {
        let f = reverie_testkit::repo_root()
            .join("examples/sessions")
            .join(name);
        self.ok(&["ingest", "-s", "sched", f.to_str().unwrap()]);
    }

    /// The dreams `worker --once --json` reported.
    fn work(&self) -> Vec<serde_json::Value> {
        self.ok(&["--json", "worker", "--once"])
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn completed_dreams(&self) -> usize {
        let v: serde_json::Value =
            serde_json::from_str(&self.ok(&["--json", "dreams", "ls", "-s", "sched"])).unwrap();
        let list = v
            .as_array()
            .or_else(|| v["data"].as_array())
            .unwrap()
            .clone();
        list.iter().filter(|d| d["status"] == "completed").count()
    }
}

const SESSIONS: [&str; 7] = [
    "2026-03-02-tally-endpoint.jsonl",
    "2026-03-04-admin-tallies-page.jsonl",
    "2026-03-06-export-csv.jsonl",
    "2026-03-09-pr-and-staging-deploy.jsonl",
    "2026-03-11-idempotency-keys.jsonl",
    "2026-03-13-staging-db-port.jsonl",
    "2026-03-16-export-streaming.jsonl",
];

fn the_schedule_decides(postgres: bool) {
    let env = Env::new(postgres);
    env.ok(&["store", "create", "sched"]);
    env.ingest(SESSIONS[0]);
    assert!(env.work().is_empty(), "no schedule: never by itself");
    // For people, a pass that dreamed nothing says so.
    env.fails(&["worker", "--once"], 0, "no store is due for a dream");
    env.ok(&["policy", "set", "-s", "sched", "--after-sessions", "2"]);
    assert!(env.work().is_empty(), "one new session of two");
    env.ingest(SESSIONS[1]);
    let done = env.work();
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0]["status"], "completed");
    assert!(env.work().is_empty(), "those sessions were read");

    env.ok(&["policy", "set", "-s", "sched", "--min-interval", "3600"]);
    env.ingest(SESSIONS[2]);
    env.ingest(SESSIONS[3]);
    assert!(env.work().is_empty(), "too soon after the last dream");
    env.ok(&["policy", "set", "-s", "sched", "--min-interval", "0"]);
    assert_eq!(env.work().len(), 1);
    assert_eq!(env.completed_dreams(), 2);
    let shown = env.ok(&["policy", "show", "-s", "sched"]);
    assert!(shown.contains("after 2 new sessions"), "{shown}");

    env.ok(&["policy", "set", "-s", "sched", "--cron", "0 3 * * *"]);
    let shown = env.ok(&["policy", "show", "-s", "sched"]);
    assert!(shown.contains("at `0 3 * * *` (UTC)"), "{shown}");
    let out = env
        .cmd(&["policy", "set", "-s", "sched", "--cron", "0 3 * *"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("schedule.cron"));
    let out = env
        .cmd(&["policy", "set", "-s", "sched", "--after-sessions", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("schedule.after_sessions"));
}

fn racing_workers_dream_once(postgres: bool) {
    let env = Env::new(postgres);
    env.ok(&["store", "create", "sched"]);
    env.ok(&["policy", "set", "-s", "sched", "--after-sessions", "3"]);
    for round in 0..2 {
        for s in &SESSIONS[round * 3..round * 3 + 3] {
            env.ingest(s);
        }
        let workers: Vec<_> = (0..3)
            .map(|_| {
                env.cmd(&["--json", "worker", "--once"])
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut reported = 0;
        for w in workers {
            let out = w.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            reported += String::from_utf8_lossy(&out.stdout).lines().count();
        }
        assert_eq!(reported, 1, "round {round}: one worker dreamed the batch");
        assert_eq!(env.completed_dreams(), round + 1);
    }
}

both!(the_schedule_decides, racing_workers_dream_once);

/// A worker SIGKILLed in the middle of a scheduled dream: the store is as it was, and the next
/// worker records the dead one's dream as `runner_lost` and dreams the same sessions to the
/// end — once.
async fn a_killed_worker_is_recovered(postgres: bool) {
    use reverie_core::dream::{DreamStatus, error_kind};
    use reverie_store::{DreamQuery, NewStore};

    let env = Env::new(postgres);
    let s = reverie_store::open(&env.database).await.unwrap();
    let store = s
        .create_store(NewStore {
            name: "sched".into(),
            max_memories: Some(5000),
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    let user = reverie_core::Actor::User {
        user_id: "user_kill".into(),
    };
    // Enough memories, with duplicates and conflicting values, that a dream takes a while.
    for i in 0..400 {
        let mut content = format!("# Service {i}\n\n");
        for j in 0..8 {
            content.push_str(&format!(
                "- The service {} listens on port {} and logs to `/var/log/svc{}.log`.\n",
                (i + j) % 150,
                7000 + (i * j) % 97,
                j
            ));
        }
        s.create_memory(&store, &format!("/services/s{i:03}.md"), &content, &user)
            .await
            .unwrap();
    }
    env.ok(&["policy", "set", "-s", "sched", "--after-sessions", "1"]);
    env.ingest(SESSIONS[5]);
    let dreams = || async {
        s.list_dreams(&DreamQuery {
            store_id: Some(store.clone()),
            include_archived: true,
            ..DreamQuery::default()
        })
        .await
        .unwrap()
        .data
    };
    let before = s.get_store(&store).await.unwrap().revision;

    // Kill the worker once its dream is running.
    let mut worker = env
        .cmd(&["worker", "--once"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let killed = loop {
        if worker.try_wait().unwrap().is_some() {
            break false;
        }
        if dreams()
            .await
            .iter()
            .any(|d| d.status == DreamStatus::Running)
        {
            worker.kill().unwrap();
            worker.wait().unwrap();
            break true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    };
    assert!(
        killed,
        "the dream finished before it could be killed: make the store bigger"
    );
    assert_eq!(
        s.get_store(&store).await.unwrap().revision,
        before,
        "nothing of the killed dream was committed"
    );
    assert!(s.check_integrity(&store).await.unwrap().is_empty());

    // The next worker notices the dead one and dreams the sessions itself.
    let done = env.work();
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0]["status"], "completed");
    let all = dreams().await;
    let lost: Vec<_> = all
        .iter()
        .filter(|d| d.status == DreamStatus::Failed)
        .collect();
    assert_eq!(lost.len(), 1, "{all:?}");
    assert_eq!(
        lost[0].error.as_ref().unwrap().kind,
        error_kind::RUNNER_LOST
    );
    assert_eq!(
        all.iter()
            .filter(|d| d.status == DreamStatus::Completed)
            .count(),
        1
    );
    assert!(env.work().is_empty(), "dreamed once");
    assert!(s.check_integrity(&store).await.unwrap().is_empty());
}

mod a_killed_worker_is_recovered {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::a_killed_worker_is_recovered(false).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::a_killed_worker_is_recovered(true).await;
    }
}

/// Ctrl-C while the worker's first pass is dreaming: the dream in progress is finished, then
/// the worker stops with exit 0. (Its signal handlers were installed only once the first pass
/// was over, so the signal killed it mid-dream.)
async fn an_interrupt_during_the_first_pass_finishes_the_dream(postgres: bool) {
    use reverie_core::dream::DreamStatus;
    use reverie_store::{DreamQuery, NewStore};

    let env = Env::new(postgres);
    let s = reverie_store::open(&env.database).await.unwrap();
    let store = s
        .create_store(NewStore {
            name: "sched".into(),
            max_memories: Some(5000),
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    let user = reverie_core::Actor::User {
        user_id: "user_int".into(),
    };
    // Enough memories that the dream takes a while.
    for i in 0..400 {
        let mut content = format!("# Service {i}\n\n");
        for j in 0..8 {
            content.push_str(&format!(
                "- The service {} listens on port {} and logs to `/var/log/svc{}.log`.\n",
                (i + j) % 150,
                7000 + (i * j) % 97,
                j
            ));
        }
        s.create_memory(&store, &format!("/services/s{i:03}.md"), &content, &user)
            .await
            .unwrap();
    }
    env.ok(&["policy", "set", "-s", "sched", "--after-sessions", "1"]);
    env.ingest(SESSIONS[5]);
    let dreams = || async {
        s.list_dreams(&DreamQuery {
            store_id: Some(store.clone()),
            ..DreamQuery::default()
        })
        .await
        .unwrap()
        .data
    };
    let mut worker = env
        .cmd(&["worker"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let running = loop {
        if worker.try_wait().unwrap().is_some() {
            break false;
        }
        if dreams()
            .await
            .iter()
            .any(|d| d.status == DreamStatus::Running)
        {
            break true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    };
    assert!(running, "the worker ended before its dream ran");
    let sent = std::process::Command::new("kill")
        .args(["-INT", &worker.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = worker.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    let all = dreams().await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].status, DreamStatus::Completed, "{all:?}");
}

mod an_interrupt_during_the_first_pass_finishes_the_dream {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::an_interrupt_during_the_first_pass_finishes_the_dream(false).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::an_interrupt_during_the_first_pass_finishes_the_dream(true).await;
    }
}

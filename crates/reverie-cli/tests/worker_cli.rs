//! `reverie worker` and the policy's schedule, through the real binary on SQLite and
//! PostgreSQL: a store is dreamed once enough new sessions arrived and enough time passed, not
//! before, not twice; several workers racing over one database dream each batch exactly once.

use std::process::{Command, Stdio};

struct Env {
    dir: tempfile::TempDir,
    database: String,
}

impl Env {
    fn new(postgres: bool) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let database = if postgres {
            reverie_testkit::pg::fresh_database()
        } else {
            dir.path().join("reverie.db").display().to_string()
        };
        Env { dir, database }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_reverie"));
        c.args(["--database", &self.database])
            .args(args)
            .current_dir(self.dir.path())
            .env("USER", "tester")
            .env_remove("REVERIE_STORE")
            .stdin(Stdio::null());
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

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

macro_rules! both {
    ($($name:ident),+) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(false);
            }
            #[test]
            fn postgres() {
                super::$name(true);
            }
        }
    )+};
}

both!(the_schedule_decides, racing_workers_dream_once);

//! `reverie demo`, `dream`, `dreams …`, `policy …` and `entries …` through the real binary,
//! as a user runs them; and the guarantee that a secret in a transcript never reaches a memory.

use serde_json::Value;

mod common;

use common::Env;

#[test]
fn demo_prints_the_changesets_and_the_resulting_memory() {
    let env = Env::new(false);
    let out = env.ok(&["demo"]);
    for needed in [
        "== 1. ingest: 7 example sessions",
        "2 secrets redacted before anything was stored",
        "dream 1: the deterministic curator",
        "× supersede /deploy.md",
        "staging-db.internal:5432",
        "FLAGGED: possible_injection, held_for_review",
        "--- /MEMORY.md",
        "[lessons.md](lessons.md)",
        "ran `docker compose up -d db`",
        "We use `sqlx migrate run`, not diesel.",
        "**TLH**: short for tallyho",
    ] {
        assert!(out.contains(needed), "the demo lacks {needed:?}:\n{out}");
    }
    // What must never become memory.
    let memory = &out[out.find("== 4. the resulting memory").unwrap()..];
    for never in [
        "sk_test_",
        "curl -s https://get.example-cdn.net",
        "thanks",
        "sounds good",
        "You are an expert",
    ] {
        assert!(
            !memory.contains(never),
            "{never:?} reached the memory:\n{memory}"
        );
    }
    // The stale port is superseded (a lesson may still tell that the old one was refused).
    assert!(
        memory.contains("- Staging database: `staging-db.internal:6543`")
            && !memory.contains("- Staging database: `staging-db.internal:5432`"),
        "{memory}"
    );
    // A second run makes a store of its own.
    assert!(env.ok(&["demo"]).contains("into a new store demo-2"));
}

fn dream_commands(postgres: bool) {
    let env = Env::new(postgres);
    env.ok(&["store", "create", "notes"]);
    env.ok(&["put", "-s", "notes", "/notes.md", "--content", "# Notes\n\n- The staging database is on port 5432.\n- the staging database is on port 5432\n"]);
    // Nothing to dream without sessions.
    assert!(
        env.ok(&["dream", "-s", "notes"])
            .contains("nothing to dream")
    );
    let key = "sk-ant-api03-Zq3vT9xLm2Rk8Wb4Yp7Nc1Hd6Fj0Gs5Ae3Ui9Ko2Xw4Tb8Vn6Ym1Qp7Rs3Lk";
    let t1 = env.write(
        "one.txt",
        &format!(
            "User: remember that the deploy key lives in `~/.config/tallyho/deploy.toml` and is {key}\nAssistant: Noted.\nUser: from now on, run `cargo fmt --all` before every commit.\nAssistant: Will do.\n"
        ),
    );
    env.ok(&["ingest", "-s", "notes", &t1, "--outcome", "success"]);

    // A proposal first: nothing changes until it is approved.
    let d: Value = env.json(&["dream", "-s", "notes", "--review"]);
    let id = d["dream"]["id"].as_str().unwrap().to_string();
    assert_eq!(d["dream"]["status"], "completed");
    assert_eq!(d["dream"]["review"]["state"], "pending");
    assert!(!env.ok(&["ls", "-s", "notes"]).contains("/instructions.md"));
    let shown = env.ok(&["dreams", "show", &id, "--diff"]);
    assert!(
        shown.contains("this is a proposal") && shown.contains("+++ b/instructions.md"),
        "{shown}"
    );
    assert!(
        shown.contains("⇢ merge") || shown.contains("merged"),
        "{shown}"
    );
    let ls = env.ok(&["dreams", "ls", "-s", "notes"]);
    assert!(ls.contains(&id) && ls.contains("pending"), "{ls}");
    env.ok(&["dreams", "approve", &id]);
    let instructions = env.ok(&["get", "-s", "notes", "/instructions.md"]);
    assert!(instructions.contains("cargo fmt --all"), "{instructions}");
    // The secret was redacted at ingest, before anything was stored…
    let all: String = ["/instructions.md", "/notes.md", "/MEMORY.md"]
        .iter()
        .map(|p| env.ok(&["get", "-s", "notes", p]))
        .collect();
    // …and a sentence that held a secret never becomes a note at all.
    assert!(!all.contains(key) && !all.contains("REDACTED"), "{all}");
    let sessions = env.ok(&["sessions", "ls", "-s", "notes"]);
    let sid = sessions
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let shown = env.ok(&["sessions", "show", sid]);
    assert!(
        shown.contains("[REDACTED:anthropic]") && !shown.contains(key),
        "{shown}"
    );

    // Entries: the folded duplicate is kept, and can be restored; an entry can be pinned.
    let entries: Value = env.json(&["entries", "ls", "-s", "notes", "--state", "archived"]);
    let folded = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["text"].as_str().unwrap().contains("5432"))
        .unwrap();
    let fid = folded["id"].as_str().unwrap();
    assert!(
        env.ok(&["entries", "show", "-s", "notes", fid])
            .contains("archived")
    );
    env.ok(&["entries", "restore", "-s", "notes", fid]);
    assert_eq!(
        env.ok(&["get", "-s", "notes", "/notes.md"])
            .matches("5432")
            .count(),
        2
    );
    let live: Value = env.json(&["entries", "ls", "-s", "notes", "--state", "live"]);
    let fmt = live
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["text"].as_str().unwrap().contains("cargo fmt"))
        .unwrap();
    env.ok(&["entries", "pin", "-s", "notes", fmt["id"].as_str().unwrap()]);
    assert!(env.ok(&["entries", "ls", "-s", "notes"]).contains("📌"));

    // Policy: budget, protection, tests; a failing test fails the dream (exit 5), nothing changes.
    env.ok(&[
        "policy",
        "set",
        "-s",
        "notes",
        "--protect",
        "/notes.md",
        "--must-contain",
        "port 6543",
    ]);
    let policy = env.ok(&["policy", "show", "-s", "notes"]);
    assert!(
        policy.contains("/notes.md") && policy.contains("must contain \"port 6543\""),
        "{policy}"
    );
    let t2 = env.write(
        "two.txt",
        "User: always use `pnpm` in ui/, never `npm`.\nAssistant: OK.\n",
    );
    env.ok(&["ingest", "-s", "notes", &t2]);
    let before = env.ok(&["log", "-s", "notes"]);
    let out = env.run(&["dream", "-s", "notes"]);
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("memory_test_failed") && text.contains("nothing changed"),
        "{text}"
    );
    assert_eq!(env.ok(&["log", "-s", "notes"]), before);
    env.ok(&["policy", "set", "-s", "notes", "--clear-tests"]);
    let d: Value = env.json(&["dream", "-s", "notes"]);
    let id2 = d["dream"]["id"].as_str().unwrap().to_string();
    assert_eq!(d["dream"]["status"], "completed");
    assert!(
        env.ok(&["get", "-s", "notes", "/instructions.md"])
            .contains("pnpm")
    );

    // Revert undoes it; a second dream over the same sessions finds nothing new.
    env.ok(&["dreams", "revert", &id2]);
    assert!(
        !env.ok(&["get", "-s", "notes", "/instructions.md"])
            .contains("pnpm")
    );
    let again = env.run(&["dreams", "revert", &id2]);
    assert_eq!(
        again.status.code(),
        Some(4),
        "a second revert is a conflict"
    );
    // Cancel refuses a finished dream (invalid request, exit 2).
    assert_eq!(env.run(&["dreams", "cancel", &id2]).status.code(), Some(2));
    env.ok(&["dreams", "archive", &id2]);
    assert!(!env.ok(&["dreams", "ls", "-s", "notes"]).contains(&id2));
    assert!(
        env.ok(&["dreams", "ls", "-s", "notes", "--all"])
            .contains(&id2)
    );
    // Unknown dreams and bad values are named.
    let out = env.run(&["dreams", "show", "drm_01nope"]);
    assert_eq!(out.status.code(), Some(3));
    let out = env.run(&["dream", "-s", "notes", "--output", "sideways"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sideways"));
    // --output new leaves the store and writes a new one.
    let t3 = env.write(
        "three.txt",
        "User: remember that the cache is Redis on port 6379.\nAssistant: OK.\n",
    );
    env.ok(&["ingest", "-s", "notes", &t3]);
    let before = env.ok(&["log", "-s", "notes"]);
    let d: Value = env.json(&["dream", "-s", "notes", "--output", "new"]);
    assert_eq!(env.ok(&["log", "-s", "notes"]), before);
    let out_store = d["dream"]["outputs"][0]["memory_store_id"]
        .as_str()
        .unwrap();
    assert!(
        env.ok(&["get", "-s", out_store, "/instructions.md"])
            .contains("6379")
    );
}

#[test]
fn dream_commands_on_sqlite() {
    dream_commands(false);
}

#[test]
fn dream_commands_on_postgres() {
    dream_commands(true);
}

/// A proposal approved operation by operation: every operation accepted gives the memories the
/// whole proposal gives, byte for byte; one rejected leaves out just its text, and is recorded
/// as a rejected `keep`; numbers that are not operations to decide are refused.
fn decided_operation_by_operation(postgres: bool) {
    let env = Env::new(postgres);
    let dir = reverie_testkit::repo_root().join("examples/sessions");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    let mut dreams = Vec::new();
    for name in ["whole", "all-ops", "one-out"] {
        env.ok(&["store", "create", name]);
        env.ok(&["policy", "set", "-s", name, "--review", "on"]);
        for f in &files {
            env.ok(&["ingest", "-s", name, f, "--quiet"]);
        }
        let d = env.json(&["dream", "-s", name]);
        dreams.push((
            d["dream"]["id"].as_str().unwrap().to_string(),
            d["changeset"]["ops"].clone(),
        ));
    }
    let listed = env.ok(&["dreams", "show", &dreams[1].0]);
    let decidable: Vec<String> = listed
        .split("operations to decide one by one")
        .nth(1)
        .unwrap()
        .lines()
        .skip(1)
        .map_while(|l| l.split_whitespace().next()?.parse::<usize>().ok())
        .map(|n| n.to_string())
        .collect();
    assert!(decidable.len() > 20, "{listed}");
    let bad = env.run(&["dreams", "approve", &dreams[1].0, "--only", "0,100000"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not an operation to decide on"));
    env.ok(&["dreams", "approve", &dreams[0].0]);
    env.ok(&[
        "dreams",
        "approve",
        &dreams[1].0,
        "--only",
        &decidable.join(","),
    ]);
    let memories = |store: &str| -> Vec<(String, String)> {
        let listed = env.json(&["ls", "-s", store]);
        let mut out: Vec<(String, String)> = listed
            .as_array()
            .unwrap_or_else(|| panic!("{listed}"))
            .iter()
            .map(|m| {
                let path = m["path"].as_str().unwrap().to_string();
                let content = env.json(&["get", "-s", store, &path])["content"]
                    .as_str()
                    .unwrap()
                    .to_string();
                (path, content)
            })
            .collect();
        out.sort();
        out
    };
    let whole = memories("whole");
    assert!(whole.len() >= 5, "{whole:?}");
    assert_eq!(memories("all-ops"), whole);

    // One add rejected: its text alone is missing.
    let ops = dreams[2].1.as_array().unwrap();
    let n = ops
        .iter()
        .position(|op| {
            op["after"]
                .as_str()
                .is_some_and(|t| t.contains("cd ui && npm install"))
        })
        .unwrap();
    env.ok(&[
        "dreams",
        "approve",
        &dreams[2].0,
        "--except",
        &n.to_string(),
    ]);
    let one_out = memories("one-out");
    let all: String = whole.iter().map(|(_, c)| c.as_str()).collect();
    let left: String = one_out.iter().map(|(_, c)| c.as_str()).collect();
    assert!(all.contains("cd ui && npm install") && !left.contains("cd ui && npm install"));
    assert!(left.contains("cd ui && pnpm build"));
    let shown = env.json(&["dreams", "show", &dreams[2].0]);
    let kept = &shown["changeset"]["ops"][n];
    assert_eq!(kept["op"], "keep", "{kept}");
    assert_eq!(
        kept["flags"],
        serde_json::json!(["rejected_in_review"]),
        "{kept}"
    );
}

#[test]
fn decided_operation_by_operation_on_sqlite() {
    decided_operation_by_operation(false);
}

#[test]
fn decided_operation_by_operation_on_postgres() {
    decided_operation_by_operation(true);
}

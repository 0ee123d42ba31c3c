//! `reverie drift` through the real binary, on SQLite and PostgreSQL: a store's history built
//! by dreams over the example sessions, budget pressure that archives what successful sessions
//! used, a memory test, a revert, a proposal awaiting review, and a pinned entry deleted by
//! hand — with the exit code (1 when something load-bearing was lost), `--since` by revision
//! and by date, and the JSON report's fields.

use std::path::PathBuf;

use serde_json::Value;

mod common;

use common::Env;

impl Env {
    fn drift(&self, args: &[&str]) -> (i32, Value) {
        let mut all = vec!["--json", "drift", "-s", "notes"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        let code = out.status.code().unwrap();
        let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{all:?} ({code}) printed no report ({e}): {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (code, report)
    }

    fn drift_text(&self, args: &[&str]) -> (i32, String) {
        let mut all = vec!["drift", "-s", "notes"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
        )
    }

    fn revision(&self) -> i64 {
        self.json(&["store", "show", "notes"])["revision"]
            .as_i64()
            .unwrap()
    }

    fn dream_over(&self, name: &str, extra: &[&str]) -> Value {
        let t = self.write(
            name,
            &format!("User: {name}, that is all.\nAssistant: Bye.\n"),
        );
        self.ok(&["ingest", "-s", "notes", &t, "--quiet"]);
        let mut args = vec!["dream", "-s", "notes"];
        args.extend_from_slice(extra);
        let d = self.json(&args);
        assert_eq!(d["dream"]["status"], "completed", "{d}");
        d["dream"].clone()
    }
}

fn arr(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}"))
}

fn detail_texts(l: &Value, field: &str) -> Vec<String> {
    arr(&l[field])
        .iter()
        .map(|d| d["text"].as_str().unwrap().to_string())
        .collect()
}

fn dream_ids(r: &Value) -> Vec<String> {
    arr(&r["dreams"])
        .iter()
        .map(|d| d["dream_id"].as_str().unwrap().to_string())
        .collect()
}

/// What must not depend on the backend, ids and times left out: the summary, each dream's
/// state and counts, and each lineage's state, texts and details.
fn projection(r: &Value) -> Value {
    let mut lineages: Vec<String> = arr(&r["lineages"])
        .iter()
        .map(|l| {
            serde_json::json!({
                "state": l["state"], "lost": l["lost"], "first_text": l["first_text"],
                "current_text": l["current_text"], "details_lost": l["details_lost"],
                "details_superseded": l["details_superseded"],
                "ops": arr(&l["steps"]).iter().map(|s| s["op"].clone()).collect::<Vec<_>>(),
            })
            .to_string()
        })
        .collect();
    lineages.sort();
    let dreams: Vec<(Value, Value)> = arr(&r["dreams"])
        .iter()
        .map(|d| (d["state"].clone(), d["ops"].clone()))
        .collect();
    serde_json::json!({"summary": r["summary"], "dreams": dreams, "lineages": lineages})
}

/// The whole story on one backend; returns the projection of the report after the example
/// sessions were dreamed, for the comparison of the backends.
fn scenario(postgres: bool) -> Value {
    let env = Env::new(postgres);
    env.ok(&["store", "create", "notes"]);

    // 1. Seven dreams, one per example session, in order: notes added, the staging database's
    // port corrected (5432 superseded by 6543). Nothing load-bearing is lost.
    let dir: PathBuf = reverie_testkit::repo_root().join("examples/sessions");
    let outcomes: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("outcomes.json")).unwrap()).unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 7);
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        let outcome = outcomes[name]["outcome"].as_str().unwrap();
        let path = f.display().to_string();
        env.ok(&[
            "ingest",
            "-s",
            "notes",
            &path,
            "--outcome",
            outcome,
            "--quiet",
        ]);
        env.ok(&["dream", "-s", "notes"]);
    }
    let (code, r) = env.drift(&[]);
    assert_eq!(code, 0, "{r:#}");
    let s = &r["summary"];
    assert_eq!(
        (
            s["dreams_applied"].as_u64(),
            s["load_bearing_lost"].as_u64()
        ),
        (Some(7), Some(0))
    );
    assert_eq!(s["ops"]["supersede"], 1, "{s}");
    assert!(s["ops"]["add"].as_u64().unwrap() >= 20, "{s}");
    assert!(r["since_revision"].is_null() && r["min_helpful"] == 1);
    let superseded = arr(&r["lineages"])
        .iter()
        .find(|l| {
            detail_texts(l, "details_superseded").contains(&"staging-db.internal:5432".into())
        })
        .unwrap_or_else(|| panic!("no lineage lost the old port to a supersession: {r:#}"));
    assert_eq!(superseded["state"], "live");
    assert_eq!(superseded["lost"], false);
    assert!(
        superseded["current_text"]
            .as_str()
            .unwrap()
            .contains("6543")
    );
    assert!(superseded["first_text"].as_str().unwrap().contains("5432"));
    let ops: Vec<&str> = arr(&superseded["steps"])
        .iter()
        .map(|s| s["op"].as_str().unwrap())
        .collect();
    assert!(
        ops.contains(&"supersede") && ops.contains(&"add"),
        "{ops:?}"
    );
    assert_eq!(
        arr(&superseded["entries"]).len(),
        2,
        "the old entry and the new"
    );
    let (code, text) = env.drift_text(&[]);
    assert_eq!(code, 0);
    assert!(
        text.contains("nothing load-bearing was lost")
            && text.contains("superseded by newer evidence")
            && text.contains("staging-db.internal:5432"),
        "{text}"
    );
    let compared = projection(&r);
    let before_budget = env.revision();

    // 2. Budget pressure: 900 bytes cannot hold the deploy notes the 03-13 session read and
    // succeeded with, so load-bearing notes are archived. Exit 1.
    env.ok(&["policy", "set", "-s", "notes", "--max-total-bytes", "900"]);
    let budget = env.dream_over("budget", &[]);
    let budget_id = budget["id"].as_str().unwrap();
    let budget_rev = budget["applied_revision"].as_i64().unwrap();
    assert_eq!(budget_rev, before_budget + 1);
    let (code, r) = env.drift(&[]);
    assert_eq!(code, 1, "{:#}", r["summary"]);
    assert_eq!(r["summary"]["dreams_applied"], 8);
    let lb: Vec<&Value> = arr(&r["lineages"])
        .iter()
        .filter(|l| l["load_bearing_lost"] == true)
        .collect();
    assert!(!lb.is_empty());
    assert_eq!(r["summary"]["load_bearing_lost"], lb.len());
    // The deploy notes the 03-13 session succeeded with, and the lesson about `sqlx migrate`
    // failing with the database down, which failed in two of the example sessions.
    let mut why: Vec<(String, String)> = Vec::new();
    for l in &lb {
        assert_eq!(l["state"], "archived", "{l:#}");
        assert!(l["current_text"].is_null());
        assert!(!arr(&l["details_lost"]).is_empty(), "{l:#}");
        let last = arr(&l["steps"]).last().unwrap();
        assert_eq!(
            (last["op"].as_str(), last["dream_id"].as_str()),
            (Some("archive"), Some(budget_id))
        );
        assert_eq!(last["revision"], budget_rev);
        let reason = &l["load_bearing"][0];
        why.push((
            l["path"].as_str().unwrap().to_string(),
            reason["type"].as_str().unwrap().to_string(),
        ));
        if reason["type"] == "lesson" {
            assert!(
                reason["signature"]
                    .as_str()
                    .unwrap()
                    .starts_with("sqlx migrate: error: error communicating with database"),
                "{reason}"
            );
            assert_eq!(reason["sessions"], 2);
            assert_eq!(l["lessons"][0]["recurred_after_loss"], Value::Null, "{l:#}");
        }
    }
    why.sort();
    why.dedup();
    assert_eq!(
        why,
        [
            ("/deploy.md".to_string(), "helpful".to_string()),
            ("/lessons.md".to_string(), "lesson".to_string())
        ]
    );
    assert_eq!(r["summary"]["regressions"], 0);
    // Load-bearing losses come first.
    assert_eq!(r["lineages"][0]["load_bearing_lost"], true);
    let (code, text) = env.drift_text(&[]);
    assert_eq!(code, 1);
    assert!(
        text.contains("LOAD-BEARING LOSSES") && text.contains("helpful in 1 successful session"),
        "{text}"
    );

    // --since a revision: only what was applied after it.
    let (code, r) = env.drift(&["--since", &before_budget.to_string()]);
    assert_eq!(code, 1);
    assert_eq!(dream_ids(&r), [budget_id]);
    assert_eq!(r["since_revision"], before_budget);
    assert!(
        arr(&r["lineages"])
            .iter()
            .all(|l| arr(&l["steps"]).len() == 1)
    );
    let (code, r) = env.drift(&["--since", &budget_rev.to_string()]);
    assert_eq!(code, 0);
    assert!(
        dream_ids(&r).is_empty() && arr(&r["lineages"]).is_empty(),
        "{r:#}"
    );
    // --since a date: the dream applied at that instant counts; a later date leaves nothing,
    // an earlier one everything.
    let applied_at = budget_applied_at(&env, budget_id);
    let (code, r) = env.drift(&["--since", &applied_at]);
    assert_eq!((code, dream_ids(&r)), (1, vec![budget_id.to_string()]));
    let (code, r) = env.drift(&["--since", "2999-01-01"]);
    assert_eq!((code, dream_ids(&r).len()), (0, 0));
    assert_eq!(r["since_revision"], budget_rev);
    let (code, r) = env.drift(&["--since", "2000-01-01"]);
    assert_eq!(
        (code, r["summary"]["dreams_applied"].as_u64()),
        (1, Some(8))
    );
    assert_eq!(r["since_revision"], 0);
    let bad = env.run(&["drift", "-s", "notes", "--since", "last week"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("last week"));

    // A stricter helpfulness threshold: the same losses, none load-bearing for helping (the
    // lesson about a repeated failure still is).
    let (code, r) = env.drift(&["--min-helpful", "50"]);
    assert_eq!(code, 1);
    assert!(r["summary"]["lost"].as_u64().unwrap() > 0);
    assert!(
        arr(&r["lineages"])
            .iter()
            .filter(|l| l["load_bearing_lost"] == true)
            .all(|l| l["load_bearing"][0]["type"] == "lesson"),
        "{r:#}"
    );
    // …until a memory test covers an archived text.
    let covered = arr(&r["lineages"])
        .iter()
        .find(|l| l["state"] == "archived" && l["load_bearing"].as_array().unwrap().is_empty())
        .unwrap();
    let covered_text = covered["first_text"].as_str().unwrap().to_string();
    env.ok(&[
        "policy",
        "set",
        "-s",
        "notes",
        "--must-contain",
        &covered_text,
    ]);
    let (code, r) = env.drift(&["--min-helpful", "50"]);
    assert_eq!(code, 1);
    let l = arr(&r["lineages"])
        .iter()
        .find(|l| l["first_text"] == covered_text.as_str())
        .unwrap();
    assert_eq!(l["load_bearing_lost"], true);
    assert_eq!(l["load_bearing"][0]["type"], "memory_test");
    env.ok(&["policy", "set", "-s", "notes", "--clear-tests"]);

    // 3. Reverting the budget dream: its archives are shown as reverted, and not counted.
    env.ok(&["dreams", "revert", budget_id]);
    let (code, r) = env.drift(&[]);
    assert_eq!(code, 0, "{:#}", r["summary"]);
    let reverted = arr(&r["dreams"]).last().unwrap();
    assert_eq!(reverted["dream_id"], budget_id);
    assert_eq!(reverted["state"], "reverted");
    assert_eq!(reverted["reverted_revision"], budget_rev + 1);
    assert!(reverted["ops"]["archive"].as_u64().unwrap() > 0);
    assert_eq!(
        (
            r["summary"]["dreams_reverted"].as_u64(),
            r["summary"]["ops"]["archive"].as_u64()
        ),
        (Some(1), Some(0))
    );
    let (_, text) = env.drift_text(&[]);
    assert!(
        text.contains(&format!("reverted by revision {}", budget_rev + 1)),
        "{text}"
    );

    // 4. A proposal awaiting review is listed apart, and not counted; a rejected one is gone.
    let proposal = env.dream_over("proposal", &["--review"]);
    let pid = proposal["id"].as_str().unwrap();
    let (code, r) = env.drift(&[]);
    assert_eq!(code, 0);
    assert_eq!(arr(&r["pending"]).len(), 1);
    assert_eq!(r["pending"][0]["dream_id"], pid);
    assert_eq!(r["pending"][0]["state"], "pending");
    assert!(r["pending"][0]["ops"]["archive"].as_u64().unwrap() > 0);
    assert!(!dream_ids(&r).contains(&pid.to_string()));
    env.ok(&["dreams", "reject", pid]);
    let (code, r) = env.drift(&[]);
    assert_eq!((code, arr(&r["pending"]).len()), (0, 0));

    // 5. A pinned entry deleted by hand: the next dream keeps its metadata, archived, with no
    // operation. Over the whole history that is a load-bearing loss; it cannot be dated, so a
    // window leaves it out.
    env.ok(&[
        "policy",
        "set",
        "-s",
        "notes",
        "--max-total-bytes",
        "262144",
    ]);
    let live = env.json(&["entries", "ls", "-s", "notes", "--state", "live"]);
    let pinned = arr(&live)
        .iter()
        .find(|e| e["path"] == "/instructions.md" && e["kind"] != "index")
        .unwrap();
    let (pid, ptext) = (
        pinned["id"].as_str().unwrap(),
        pinned["text"].as_str().unwrap(),
    );
    env.ok(&["entries", "pin", "-s", "notes", pid]);
    let content = env.ok(&["get", "-s", "notes", "/instructions.md"]);
    let edited: String = content
        .lines()
        .filter(|l| !l.contains(ptext))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(edited, content);
    let file = env.write("instructions.md", &edited);
    env.ok(&["put", "-s", "notes", "/instructions.md", "--file", &file]);
    let before_deletion = env.revision() - 1;
    env.dream_over("after-edit", &[]);
    let (code, r) = env.drift(&[]);
    assert_eq!(code, 1, "{:#}", r["summary"]);
    let l = arr(&r["lineages"])
        .iter()
        .find(|l| l["id"] == pid)
        .unwrap_or_else(|| panic!("{pid} is not reported: {r:#}"));
    assert_eq!(
        (l["state"].as_str(), l["removed_outside_dreams"].as_bool()),
        (Some("archived"), Some(true))
    );
    assert_eq!(
        l["load_bearing"][0],
        serde_json::json!({"type": "pinned", "entry_id": pid})
    );
    assert_eq!(r["summary"]["removed_outside_dreams"], 1);
    let (code, text) = env.drift_text(&[]);
    assert_eq!(code, 1);
    assert!(
        text.contains("removed outside a dream") && text.contains(&format!("pinned ({pid})")),
        "{text}"
    );
    let (code, r) = env.drift(&["--since", &before_deletion.to_string()]);
    assert_eq!(code, 0, "{r:#}");
    compared
}

/// When the budget dream was applied, as `dreams ls` shows it.
fn budget_applied_at(env: &Env, id: &str) -> String {
    let (_, r) = env.drift(&[]);
    arr(&r["dreams"])
        .iter()
        .find(|d| d["dream_id"] == id)
        .unwrap()["applied_at"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn drift_reports_alike_on_sqlite_and_postgres() {
    let sqlite = std::thread::spawn(|| scenario(false));
    let postgres = std::thread::spawn(|| scenario(true));
    let (a, b) = (sqlite.join().unwrap(), postgres.join().unwrap());
    assert_eq!(a, b, "the backends disagree");
}

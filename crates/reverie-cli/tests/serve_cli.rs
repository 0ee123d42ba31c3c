//! `reverie recall`, `reverie context` and `reverie remember` through the real binary, on
//! SQLite and PostgreSQL: ranked results with provenance, serving counters, the token budget,
//! the glossary always served, notes kept for the next dream, and bad input.

use std::process::Command;

use serde_json::Value;

mod common;

use common::Env;

/// A scratch database holding the demo's store.
fn demo(postgres: bool) -> Env {
    let env = Env::new(postgres);
    env.ok(&["demo"]);
    env
}

impl Env {
    fn served(&self, entry: &str) -> i64 {
        self.json(&["entries", "show", "-s", "demo", entry])["served"]
            .as_i64()
            .unwrap()
    }
}

fn recall_ranks_with_provenance_and_serves(postgres: bool) {
    let env = demo(postgres);
    let looked = env.json(&[
        "recall",
        "-s",
        "demo",
        "--no-serve",
        "cargo",
        "test",
        "-n",
        "3",
    ]);
    let looked = looked.as_array().unwrap();
    assert_eq!(looked.len(), 3);
    let scores: Vec<f64> = looked
        .iter()
        .map(|r| r["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    let top = &looked[0];
    assert!(
        top["text"].as_str().unwrap().contains("cargo test"),
        "{top}"
    );
    // Dreamed entries carry where they came from.
    let entry = &top["entry"];
    assert!(entry["id"].as_str().unwrap().starts_with("ent_"));
    let provenance = entry["provenance"].as_array().unwrap();
    assert!(!provenance.is_empty(), "{entry}");
    assert!(
        provenance[0]["session_id"]
            .as_str()
            .unwrap()
            .starts_with("sesn_")
    );
    let id = entry["id"].as_str().unwrap().to_string();
    let before = env.served(&id);
    // Looking again serves nothing; recalling serves each result once.
    env.json(&["recall", "-s", "demo", "--no-serve", "cargo", "test"]);
    assert_eq!(env.served(&id), before);
    let served = env.json(&["recall", "-s", "demo", "cargo", "test", "-n", "3"]);
    assert_eq!(served[0]["entry"]["id"], id.as_str());
    assert_eq!(env.served(&id), before + 1);
    assert_eq!(served[0]["entry"]["served"].as_i64().unwrap(), before + 1);

    // Filters: a path prefix, and a date after everything.
    let elsewhere = env.json(&[
        "recall",
        "-s",
        "demo",
        "--no-serve",
        "--prefix",
        "/elsewhere/",
        "cargo",
    ]);
    assert!(elsewhere.as_array().unwrap().is_empty());
    let root = env.json(&[
        "recall",
        "-s",
        "demo",
        "--no-serve",
        "--prefix",
        "/",
        "cargo",
        "test",
    ]);
    assert_eq!(root[0]["entry"]["id"], id.as_str());
    let later = env.json(&[
        "recall",
        "-s",
        "demo",
        "--no-serve",
        "--since",
        "2999-01-01",
        "cargo",
        "test",
    ]);
    assert!(later.as_array().unwrap().is_empty());
    let text = env.ok(&["recall", "-s", "demo", "--no-serve", "staging", "deploy"]);
    assert!(text.contains("/deploy.md"), "{text}");
}

fn context_fits_the_budget_and_always_serves_the_glossary(postgres: bool) {
    let env = demo(postgres);
    let c = env.json(&[
        "context",
        "-s",
        "demo",
        "-q",
        "how do I run the tests",
        "--budget",
        "400",
    ]);
    let tokens = c["tokens"].as_u64().unwrap();
    assert!(tokens <= 400 && tokens > 50, "{tokens}");
    let text = c["text"].as_str().unwrap();
    assert!(text.contains("## Index (/MEMORY.md)"), "{text}");
    assert!(text.contains("## Relevant to"), "{text}");
    let parts: Vec<&str> = c["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["part"].as_str().unwrap())
        .collect();
    assert_eq!(parts[0], "index", "{parts:?}");
    assert!(parts.contains(&"relevant"));
    // A larger budget shows more, never less.
    let big = env.json(&[
        "context",
        "-s",
        "demo",
        "-q",
        "how do I run the tests",
        "--budget",
        "4000",
    ]);
    assert!(big["items"].as_array().unwrap().len() > c["items"].as_array().unwrap().len());
    assert!(big["tokens"].as_u64().unwrap() <= 4000);

    // A glossary term in the query is served whatever the budget.
    let tiny = env.json(&[
        "context",
        "-s",
        "demo",
        "-q",
        "what is TLH in the tests",
        "--budget",
        "5",
    ]);
    let glossary: Vec<&Value> = tiny["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["part"] == "glossary")
        .collect();
    assert_eq!(glossary.len(), 1, "{tiny}");
    assert!(glossary[0]["text"].as_str().unwrap().starts_with("**TLH**"));
    assert_eq!(tiny["over_budget"], true);
    assert!(tiny["relevant_left_out"].as_u64().unwrap() > 0);
    // Entries shown count as served; --no-serve only looks.
    let id = glossary[0]["entry_id"].as_str().unwrap().to_string();
    let before = env.served(&id);
    env.json(&[
        "context",
        "-s",
        "demo",
        "-q",
        "what is TLH in the tests",
        "--budget",
        "5",
        "--no-serve",
    ]);
    assert_eq!(env.served(&id), before);
    env.json(&[
        "context",
        "-s",
        "demo",
        "-q",
        "what is TLH in the tests",
        "--budget",
        "5",
    ]);
    assert_eq!(env.served(&id), before + 1);
    // Text mode prints the context on stdout and the accounting on stderr.
    let out = env.run(&["context", "-s", "demo", "-q", "TLH", "--budget", "300"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("**TLH**"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("of 300 tokens (o200k × 1.2)"));
}

fn bad_input_is_refused_by_name(postgres: bool) {
    let env = demo(postgres);
    env.fails(&["recall", "-s", "demo", "-n", "0", "x"], 2, "limit");
    env.fails(&["recall", "-s", "demo", "-n", "101", "x"], 2, "limit");
    env.fails(
        &["recall", "-s", "demo", "--prefix", "nope", "x"],
        2,
        "nope",
    );
    env.fails(
        &["recall", "-s", "demo", "--since", "tuesday", "x"],
        2,
        "tuesday",
    );
    env.fails(&["recall", "-s", "nosuchstore", "x"], 3, "nosuchstore");
    env.fails(
        &["recall", "-s", "demo", "--session", "sesn_0nope", "x"],
        3,
        "sesn_0nope",
    );
    env.fails(
        &["recall", "-s", "demo", "--session", "bad id", "x"],
        2,
        "bad id",
    );
    env.fails(
        &[
            "recall",
            "-s",
            "demo",
            "--session",
            "sesn_1",
            "--no-serve",
            "x",
        ],
        2,
        "--no-serve",
    );
    env.fails(&["context", "-s", "demo", "--budget", "0"], 2, "budget");
    env.fails(&["context", "-s", "demo", "--safety", "0.5"], 2, "safety");
    env.fails(
        &["context", "-s", "demo", "--session", "sesn_0nope"],
        3,
        "sesn_0nope",
    );
}

/// `reverie remember`: a note is live at once (recall finds it), written once, refused when it
/// holds a secret, and taken in by the next dream as an entry of its own, indexed.
fn remember_keeps_a_note_the_next_dream_takes_in(postgres: bool) {
    let env = demo(postgres);
    let note = "CI runs on the self-hosted runner named atlas.";
    let r = env.json(&["remember", "-s", "demo", note]);
    assert_eq!(
        (r["path"].as_str(), r["written"].as_bool()),
        (Some("/notes.md"), Some(true))
    );
    let again = env.json(&["remember", "-s", "demo", &note.to_uppercase()]);
    assert_eq!(again["written"], false, "{again}");
    env.fails(
        &["remember", "-s", "demo", "the key is AKIAIOSFODNN7EXAMPLE"],
        2,
        "secret",
    );
    env.fails(&["remember", "-s", "demo", " "], 2, "empty");
    env.fails(
        &["remember", "-s", "demo", "--path", "notes", "x"],
        2,
        "path",
    );
    assert_eq!(
        env.ok(&["get", "-s", "demo", "/notes.md"]),
        format!("# Notes\n\n- {note}\n")
    );
    let found = env.json(&["recall", "-s", "demo", "--no-serve", "self-hosted runner"]);
    assert_eq!(found[0]["path"], "/notes.md", "{found}");
    assert_eq!(found[0]["text"], note, "{found}");

    // The next dream (a new session to read) keeps the note and lists its memory in the index.
    std::fs::write(
        env.dir.path().join("s.txt"),
        "User: from now on, run the linter before pushing.\nAssistant: Will do.\n",
    )
    .unwrap();
    env.ok(&["ingest", "-s", "demo", "s.txt"]);
    env.ok(&["dream", "-s", "demo"]);
    let entries = env.json(&["entries", "ls", "-s", "demo"]);
    let kept = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["text"] == note)
        .unwrap_or_else(|| panic!("the note is not an entry: {entries}"));
    assert_eq!(
        (kept["state"].as_str(), kept["path"].as_str()),
        (Some("live"), Some("/notes.md"))
    );
    let index = env.ok(&["get", "-s", "demo", "/MEMORY.md"]);
    assert!(index.contains("[notes.md](notes.md)"), "{index}");
}

/// `reverie bench recall` on a small store: it runs, and recall ranks every query exactly as
/// the in-memory BM25 does (it exits 1 otherwise).
fn bench_recall_matches_the_in_memory_ranking(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_reverie"));
    if postgres {
        cmd.args(["--database", &reverie_testkit::pg::fresh_database()]);
    } else {
        cmd.env_remove("REVERIE_DATABASE_URL");
    }
    let out = cmd
        .args([
            "--json",
            "bench",
            "recall",
            "--memories",
            "40",
            "--queries",
            "25",
        ])
        .args(["--warmup", "2"])
        .env("TMPDIR", dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["backend"], if postgres { "postgres" } else { "sqlite" });
    assert_eq!(v["recall_matches_in_memory_bm25"], 25);
    assert_eq!(
        v["memories"], 42,
        "40 generated, the glossary and the index"
    );
    assert!(v["mean_results"].as_f64().unwrap() > 5.0, "{v}");
    assert!(v["mean_context_tokens"].as_f64().unwrap() <= 4000.0, "{v}");
    let ops: Vec<&str> = v["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["op"].as_str().unwrap())
        .collect();
    // The bare-SQLite baselines are for a SQLite file only.
    let bare: &[&str] = if postgres {
        &[]
    } else {
        &["bare_sqlite_get", "bare_sqlite_get_again"]
    };
    let expected: Vec<&str> = ["get_memory"]
        .iter()
        .chain(bare)
        .chain(&[
            "bm25_in_memory",
            "recall",
            "recall_served",
            "context",
            "context_render",
        ])
        .copied()
        .collect();
    assert_eq!(ops, expected);
    assert!(
        v["ops"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["p50_ms"].as_f64().unwrap() > 0.0),
        "{v}"
    );
}

both!(
    recall_ranks_with_provenance_and_serves,
    context_fits_the_budget_and_always_serves_the_glossary,
    bad_input_is_refused_by_name,
    remember_keeps_a_note_the_next_dream_takes_in,
    bench_recall_matches_the_in_memory_ranking
);

/// `reverie bench ui` on a small store: every page answers 200 (it fails otherwise), and
/// `--keep DIR` builds the store once and reuses it on the next run.
#[test]
fn bench_ui_measures_every_page_and_reuses_a_kept_store() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("kept");
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_reverie"))
            .env_remove("REVERIE_DATABASE_URL")
            .args(["--json", "bench", "ui", "--memories", "20", "--dreams", "4"])
            .args(["--runs", "1", "--keep", &keep.display().to_string()])
            .env("TMPDIR", dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let first = run();
    assert_eq!(first["reused"], false, "{first}");
    let pages: Vec<&str> = first["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["page"].as_str().unwrap())
        .collect();
    assert_eq!(
        pages,
        [
            "stores",
            "stores, after a pin",
            "store",
            "store, after a pin",
            "dream",
            "memory",
            "history",
            "restore (confirm)",
            "drift chart",
            "drift chart, after a pin",
            "curve chart",
            "login form"
        ]
    );
    let second = run();
    assert_eq!(second["reused"], true, "{second}");
    assert_eq!(second["revision"], first["revision"], "the same store");
}

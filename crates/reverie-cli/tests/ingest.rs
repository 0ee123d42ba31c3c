//! `reverie ingest` and `reverie sessions`, as a user runs them — including an ingest killed
//! midway and run again.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

fn reverie(db: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_reverie"));
    c.args(args)
        .env("REVERIE_DATABASE_URL", db)
        .env("USER", "tester")
        .env_remove("REVERIE_STORE");
    c
}

fn ok(db: &str, args: &[&str]) -> String {
    let out = reverie(db, args).stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn transcript(lines: usize, pad: usize) -> String {
    (0..lines)
        .map(|i| {
            let mut v = json!({"type": "user", "uuid": format!("u{i}"), "sessionId": "s",
                "message": {"role": "user", "content": format!("message {i} {}", "x".repeat(pad))}});
            if i % 10 == 5 {
                v = json!({"type": "user", "uuid": format!("u{i}"), "message": {"content": [
                    {"type": "tool_result", "tool_use_id": format!("t{i}"), "is_error": true, "content": "boom"}]}});
            }
            v.to_string() + "\n"
        })
        .collect()
}

#[test]
fn ingest_report_and_sessions_commands() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db").display().to_string();
    ok(&db, &["store", "create", "agent"]);
    let file = dir.path().join("session.jsonl");
    // Format-correct and random-looking, as real keys are (a periodic fake is not redacted).
    let key = "sk-ant-api03-Qm7vT2xLp9RkW4nZc8HbJ1sYe6FdG3uA0oVi5NtXqE2wPl7KjM9rB4hC6yU1zS8aD3fT5gL0kN2pQ7xV9cR4mW6bY8eH1jZ3uI5oP7AA";
    let mut body = transcript(12, 10);
    body.push_str(&(json!({"type": "user", "uuid": "secret", "message": {"content": format!("my key is {key}")}}).to_string() + "\n"));
    body.push_str("{not json\n");
    std::fs::write(&file, &body).unwrap();

    let report: Value = serde_json::from_str(&ok(
        &db,
        &[
            "--json",
            "ingest",
            "-s",
            "agent",
            file.to_str().unwrap(),
            "--outcome",
            "failure",
            "--score",
            "0.2",
            "--note",
            "tests red",
        ],
    ))
    .unwrap();
    assert_eq!(report["sessions_created"], 1);
    let f = &report["files"][0];
    assert_eq!(f["status"], "created");
    assert_eq!(f["events_added"], 13);
    assert_eq!(f["skipped_count"], 1);
    assert_eq!(f["skipped_lines"][0]["line"], 14);
    assert_eq!(f["redactions"]["anthropic"], 1, "{f}");
    let id = f["session_id"].as_str().unwrap().to_string();

    let listed: Value =
        serde_json::from_str(&ok(&db, &["--json", "sessions", "ls", "-s", "agent"])).unwrap();
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["error_count"], 1);
    assert_eq!(listed[0]["outcome"]["status"], "failure");

    let shown = ok(&db, &["sessions", "show", &id]);
    assert!(
        shown.contains("13 events, 1 tool error · outcome: failure (0.2) — tests red"),
        "{shown}"
    );
    assert!(
        shown.contains("✗ error    boom"),
        "errors stand out: {shown}"
    );
    assert!(
        shown.contains("[REDACTED:anthropic]") && !shown.contains(key),
        "the key never reaches the store"
    );
    let raw = ok(&db, &["sessions", "show", &id, "--raw"]);
    assert!(!raw.contains(key));
    assert_eq!(raw.lines().count(), 13);
    // Nor is it anywhere in the database's files: the raw lines are compressed after
    // redaction (what `--raw` printed is every stored line, decompressed).
    for suffix in ["", "-wal"] {
        if let Ok(bytes) = std::fs::read(format!("{db}{suffix}")) {
            assert!(
                !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
                "the key is in {db}{suffix}"
            );
        }
    }

    let cleared: Value = serde_json::from_str(&ok(
        &db,
        &[
            "--json", "sessions", "outcome", &id, "success", "--score", "1",
        ],
    ))
    .unwrap();
    assert_eq!(cleared["outcome"]["status"], "success");
    ok(&db, &["sessions", "outcome", &id, "clear"]);
    let out = reverie(&db, &["sessions", "outcome", &id, "won"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("\"won\" is not success, failure or partial")
    );

    // A failed file makes the command exit 5, naming it.
    let bin = dir.path().join("x.jsonl");
    std::fs::write(&bin, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\x01\x02").unwrap();
    let out = reverie(&db, &["ingest", "-s", "agent", bin.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("failed") && stdout.contains("x.jsonl") && stdout.contains("a PNG image"),
        "{stdout}"
    );
    // Nothing at the path: not found (3), as the README's exit codes say; beside a file that
    // exists it is one failure among others (5).
    let missing = dir.path().join("nowhere.jsonl");
    let out = reverie(&db, &["ingest", "-s", "agent", missing.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no such file or folder"));
    let out = reverie(
        &db,
        &[
            "ingest",
            "-s",
            "agent",
            missing.to_str().unwrap(),
            bin.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(5));
}

#[test]
fn an_ingest_killed_midway_resumes_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db").display().to_string();
    ok(&db, &["store", "create", "agent"]);
    let file = dir.path().join("big.jsonl");
    let total = 40_000;
    std::fs::write(&file, transcript(total, 700)).unwrap();
    let path = file.to_str().unwrap();
    let mut killed_mid_file = 0;
    for delay in [150, 400, 800, 1300] {
        let mut child = reverie(&db, &["ingest", "-s", "agent", path, "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok();
        child.wait().unwrap();
        let sessions: Value =
            serde_json::from_str(&ok(&db, &["--json", "sessions", "ls", "-s", "agent"])).unwrap();
        if let Some(s) = sessions.as_array().unwrap().first() {
            let n = s["event_count"].as_i64().unwrap();
            assert_eq!(
                s["line_count"].as_i64().unwrap(),
                n,
                "lines and events move together"
            );
            if !finished && n < total as i64 {
                killed_mid_file += 1;
            }
        }
    }
    let report: Value =
        serde_json::from_str(&ok(&db, &["--json", "ingest", "-s", "agent", path])).unwrap();
    assert_eq!(report["failed"], 0, "{report}");
    let sessions: Value =
        serde_json::from_str(&ok(&db, &["--json", "sessions", "ls", "-s", "agent"])).unwrap();
    assert_eq!(
        sessions.as_array().unwrap().len(),
        1,
        "one file, one session"
    );
    let s = &sessions[0];
    assert_eq!(
        (
            s["event_count"].as_i64(),
            s["line_count"].as_i64(),
            s["error_count"].as_i64()
        ),
        (
            Some(total as i64),
            Some(total as i64),
            Some(total as i64 / 10)
        )
    );
    let shown: Value = serde_json::from_str(&ok(
        &db,
        &["--json", "sessions", "show", s["id"].as_str().unwrap()],
    ))
    .unwrap();
    let events = shown["events"].as_array().unwrap();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["seq"], i as i64);
        assert_eq!(e["line"], i as i64 + 1, "every line exactly once, in order");
    }
    assert!(
        killed_mid_file > 0,
        "no kill landed mid-file; the test proved nothing"
    );
    let again: Value =
        serde_json::from_str(&ok(&db, &["--json", "ingest", "-s", "agent", path])).unwrap();
    assert_eq!(again["unchanged"], 1);
}

/// `reverie bench ingest` reads the folder's transcripts, ingests them into a scratch store, and
/// reports the same events for both and a database smaller than the transcripts.
#[test]
fn bench_ingest_reports_the_read_and_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    std::fs::write(data.join("a.jsonl"), transcript(300, 400)).unwrap();
    std::fs::write(data.join("sub/b.jsonl"), transcript(100, 2000)).unwrap();
    std::fs::write(data.join("notes.txt"), "not a transcript").unwrap();
    let copy = std::fs::metadata(data.join("a.jsonl")).unwrap().len()
        + std::fs::metadata(data.join("sub/b.jsonl")).unwrap().len();
    let copies = 1_000_000u64.div_ceil(copy);
    // With no database named, the benchmark makes its own scratch files.
    let out = Command::new(env!("CARGO_BIN_EXE_reverie"))
        .args([
            "--json", "bench", "ingest", "--mb", "1", "--runs", "2", "--data",
        ])
        .arg(&data)
        .env_remove("REVERIE_DATABASE_URL")
        .env("XDG_DATA_HOME", dir.path().join("xdg"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out: Value = serde_json::from_slice(&out.stdout).unwrap();
    // Copies of the two transcripts until the folder holds 1 MB.
    assert_eq!(out["bytes"], copies * copy, "{out}");
    assert_eq!(out["files"], 2 * copies, "{out}");
    assert_eq!(out["sessions"], 2 * copies, "{out}");
    assert_eq!(out["events"], copies * 400, "{out}");
    assert_eq!(out["read_s"].as_array().unwrap().len(), 2);
    assert!(out["ingest_mb_per_s"].as_f64().unwrap() > 0.0);
    // On disk with its write-ahead log: at this size the log (up to 4 MB) is most of it.
    assert!(out["database_bytes"].as_u64().unwrap() > 0, "{out}");

    // A database named keeps nothing of the benchmark.
    let db = dir.path().join("given.db").display().to_string();
    let given: Value = serde_json::from_str(&ok(
        &db,
        &[
            "--json",
            "bench",
            "ingest",
            "--mb",
            "1",
            "--runs",
            "1",
            "--data",
            data.to_str().unwrap(),
        ],
    ))
    .unwrap();
    assert_eq!(given["sessions"], 2 * copies, "{given}");
    assert!(given["database_bytes"].is_null());
    let stores: Value = serde_json::from_str(&ok(&db, &["--json", "store", "ls"])).unwrap();
    assert_eq!(stores.as_array().map(Vec::len), Some(0), "{stores}");

    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let err = reverie(&db, &["bench", "ingest", "--data", empty.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!err.status.success());
    assert!(
        String::from_utf8_lossy(&err.stderr).contains("no .jsonl transcripts under"),
        "{}",
        String::from_utf8_lossy(&err.stderr)
    );
}

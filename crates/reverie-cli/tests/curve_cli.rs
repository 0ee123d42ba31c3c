//! `reverie curve` through the real binary, on SQLite and PostgreSQL: a store whose sessions
//! come one a day with a dream after each — an error, its lesson dreamed, the same error
//! again with the lesson in memory and served, a new error — with the counts a reader can
//! check by hand; then the lesson lost to a budget and the error back, as drift reports it.

use serde_json::{Value, json};

mod common;

use common::Env;

/// A Claude Code transcript, a day into March: `cargo test` fails with `error`, then the
/// agent's fix runs and the tests pass.
fn transcript(day: u32, error: &str, fix: &str) -> String {
    let ts = |s: u32| format!("2026-03-{day:02}T10:00:{s:02}Z");
    let session = format!("s{day}");
    let lines = [
        json!({"type": "user", "sessionId": session, "cwd": "/home/dev/app", "uuid": "u1", "timestamp": ts(0),
               "message": {"role": "user", "content": "run the tests"}}),
        json!({"type": "assistant", "sessionId": session, "cwd": "/home/dev/app", "uuid": "a1", "timestamp": ts(1),
               "message": {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "cargo test"}}]}}),
        json!({"type": "user", "sessionId": session, "cwd": "/home/dev/app", "uuid": "r1", "timestamp": ts(2),
               "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "is_error": true, "content": error}]}}),
        json!({"type": "assistant", "sessionId": session, "cwd": "/home/dev/app", "uuid": "a2", "timestamp": ts(3),
               "message": {"role": "assistant", "content": [{"type": "tool_use", "id": "t2", "name": "Bash", "input": {"command": fix}}]}}),
        json!({"type": "user", "sessionId": session, "cwd": "/home/dev/app", "uuid": "r2", "timestamp": ts(4),
               "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t2", "is_error": false, "content": "test result: ok. 12 passed; 0 failed"}]}}),
    ];
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn scenario(postgres: bool) -> Value {
    let env = Env::new(postgres);
    env.ok(&["store", "create", "notes"]);
    let db = "error: DATABASE_URL must be set for the integration tests";
    let days = [
        (
            1,
            db,
            "DATABASE_URL=postgres://localhost:5433/test cargo test",
        ),
        (
            2,
            db,
            "DATABASE_URL=postgres://localhost:5433/test cargo test",
        ),
        (
            3,
            "error: linker `cc` not found",
            "sudo apt-get install -y build-essential && cargo test",
        ),
    ];
    for (day, error, fix) in days {
        let t = env.write(&format!("day{day}.jsonl"), &transcript(day, error, fix));
        let ingested = env.json(&["ingest", "-s", "notes", &t]);
        let session = ingested["files"][0]["session_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{ingested}"))
            .to_string();
        if day == 2 {
            // The agent recalls what it knows about the failing command in this session.
            let found = env.json(&[
                "recall",
                "-s",
                "notes",
                "cargo test DATABASE_URL",
                "--session",
                &session,
            ]);
            assert!(found.to_string().contains("DATABASE_URL"), "{found}");
        }
        let d = env.json(&["dream", "-s", "notes"]);
        assert_eq!(d["dream"]["status"], "completed", "{d}");
    }
    let picture = env.dir.path().join("curve.svg");
    let curve = env.json(&[
        "curve",
        "-s",
        "notes",
        "--svg",
        &picture.display().to_string(),
    ]);
    // A well-formed SVG document: a dot per session, a dashed line per dream.
    let check = std::process::Command::new(reverie_testkit::python())
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as E\n\
             r = E.parse(sys.argv[1]).getroot()\n\
             ns = '{http://www.w3.org/2000/svg}'\n\
             assert r.tag == ns + 'svg', r.tag\n\
             print(len([c for c in r.iter(ns + 'circle')]), len([l for l in r.iter(ns + 'line') if l.get('class') == 'dream']))",
            &picture.display().to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&check.stdout).trim(), "3 2");
    // The day-2 failure recurred although its lesson was served: with --min 1 it is a
    // ceiling, exported as one example in each format; the default (2) finds none.
    let none = env.json(&["ceiling", "-s", "notes"]);
    assert_eq!(none, json!([]), "{none}");
    for format in ["openai", "anthropic"] {
        let file = env.dir.path().join(format!("{format}.jsonl"));
        let c = env.json(&[
            "ceiling",
            "-s",
            "notes",
            "--min",
            "1",
            "--export",
            &file.display().to_string(),
            "--format",
            format,
        ]);
        assert_eq!(c.as_array().unwrap().len(), 1, "{c}");
        assert_eq!(
            c[0]["examples"][0]["fixed"],
            "Bash: DATABASE_URL=postgres://localhost:5433/test cargo test"
        );
        let lines: Vec<Value> = std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1);
        // Against the provider's documented format (schemas in tests/data/fine-tuning).
        let valid = std::process::Command::new(reverie_testkit::python())
            .arg(
                reverie_testkit::repo_root()
                    .join("crates/reverie-cli/tests/data/fine-tuning/validate.py"),
            )
            .args([format, &file.display().to_string()])
            .output()
            .unwrap();
        assert!(
            valid.status.success() && String::from_utf8_lossy(&valid.stdout).trim() == "1",
            "{format}: {}",
            String::from_utf8_lossy(&valid.stderr)
        );
        let messages = lines[0]["messages"].as_array().unwrap();
        let last = messages.last().unwrap();
        assert_eq!(last["role"], "assistant");
        assert!(
            last["content"].as_str().unwrap().contains("DATABASE_URL="),
            "{last}"
        );
        match format {
            "openai" => assert_eq!(messages[0]["role"], "system"),
            _ => assert!(lines[0]["system"].is_string() && messages[0]["role"] == "user"),
        }
    }
    let text = env.ok(&["curve", "-s", "notes"]);
    assert!(text.contains("repeat rate  ▁█▁"), "{text}");
    assert!(text.contains("dreams        ^^"), "{text}");
    drift_of_a_lost_lesson(&env);
    curve
}

/// Drift reads the same lessons: a budget too small for them archives the DATABASE_URL
/// lesson, the failure comes back the next day, and drift reports a load-bearing loss and a
/// regression (exit 1), naming the signature and the session.
fn drift_of_a_lost_lesson(env: &Env) {
    let before = env.run(&["--json", "drift", "-s", "notes"]);
    let r: Value = serde_json::from_slice(&before.stdout).unwrap();
    assert_eq!(r["summary"]["regressions"], 0, "{:#}", r["summary"]);
    env.ok(&["policy", "set", "-s", "notes", "--max-total-bytes", "200"]);
    let quiet = env.write("quiet.txt", "User: nothing to do today.\nAssistant: Bye.\n");
    env.ok(&["ingest", "-s", "notes", &quiet, "--quiet"]);
    let d = env.json(&["dream", "-s", "notes"]);
    assert_eq!(d["dream"]["status"], "completed", "{d}");
    let t = env.write(
        "day4.jsonl",
        &transcript(
            4,
            "error: DATABASE_URL must be set for the integration tests",
            "cargo test --lib",
        ),
    );
    let day4 = env.json(&["ingest", "-s", "notes", &t]);
    let day4 = day4["files"][0]["session_id"].as_str().unwrap().to_string();
    let out = env.run(&["--json", "drift", "-s", "notes"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["summary"]["regressions"], 1, "{:#}", r["summary"]);
    let lost = r["lineages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| !l["lessons"].as_array().is_none_or(Vec::is_empty))
        .unwrap_or_else(|| panic!("no lineage is a lesson: {r:#}"));
    assert_eq!(lost["state"], "archived", "{lost:#}");
    assert_eq!(lost["load_bearing_lost"], true, "{lost:#}");
    let lesson = &lost["lessons"][0];
    assert!(
        lesson["signature"]
            .as_str()
            .unwrap()
            .contains("database_url must be set"),
        "{lesson}"
    );
    assert_eq!(lesson["sessions"], 3, "{lesson}");
    assert_eq!(lesson["recurred_after_loss"], json!([day4]), "{lesson}");
    let text = String::from_utf8(env.run(&["drift", "-s", "notes"]).stdout).unwrap();
    assert!(
        text.contains("regressions: 1 lost lesson whose failure came back")
            && text.contains("failed again after it was lost: `cargo test: "),
        "{text}"
    );
    assert!(text.contains(&day4), "{text}");
}

#[test]
fn the_curve_counts_repeats_lessons_and_servings_alike_on_sqlite_and_postgres() {
    let sqlite = scenario(false);
    let points: Vec<(u64, u64, u64, u64)> = sqlite["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let n = |k: &str| p[k].as_u64().unwrap();
            (n("errors"), n("repeats"), n("with_lesson"), n("served"))
        })
        .collect();
    // Day 1: the error; day 2: again, its lesson (dreamed after day 1) in memory and served;
    // day 3: another error.
    assert_eq!(
        points,
        vec![(1, 0, 0, 0), (1, 1, 1, 1), (1, 0, 0, 0)],
        "{sqlite:#}"
    );
    let first = &sqlite["signatures"][0];
    assert!(
        first["signature"]
            .as_str()
            .unwrap()
            .starts_with("cargo test: "),
        "{first}"
    );
    assert_eq!(first["occurrences"], 2);
    assert_eq!(first["repeats_after_lesson"], 1);
    assert_eq!(first["failed_when_served"], 1);
    assert!(first["lesson_dream"].as_str().unwrap().starts_with("drm_"));
    // One repeat over the two later sessions that had the lesson (days 2 and 3).
    assert_eq!(sqlite["repeat_rate_after_lesson"], 0.5, "{sqlite:#}");

    let postgres = scenario(true);
    let strip = |v: &Value| {
        let mut v = v.clone();
        for p in v["points"].as_array_mut().unwrap() {
            p["session_id"] = Value::Null;
            p["dreams_before"] = json!(p["dreams_before"].as_array().unwrap().len());
        }
        for s in v["signatures"].as_array_mut().unwrap() {
            s["first_session"] = Value::Null;
            s["failed_when_served_in"] =
                json!(s["failed_when_served_in"].as_array().unwrap().len());
            s["lesson_dream"] = json!(s["lesson_dream"].is_string());
            s["lesson_at"] = Value::Null;
        }
        v
    };
    assert_eq!(strip(&sqlite), strip(&postgres));
}

/// `reverie bench curve` replays a real project's sessions with a dream after each and counts
/// the repeated failures whose lesson the memory would have served.
#[test]
fn the_replay_benchmark_counts_covered_repeats_on_real_transcripts() {
    let data = reverie_testkit::repo_root().join("../shared/data/transcripts");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_reverie"))
        .args([
            "--json",
            "bench",
            "curve",
            "--data",
            &data.display().to_string(),
            "--project",
            "obsessiondb__chkit",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = &v["projects"][0];
    assert_eq!(p["project"], "obsessiondb__chkit");
    let n = |k: &str| p[k].as_u64().unwrap();
    assert!(n("sessions") >= 2 && n("failures") > 0, "{p}");
    // The project's sessions repeat some of their errors.
    assert!(n("repeats") > 0, "{p}");
    assert!(
        n("covered") <= n("with_lesson") && n("with_lesson") <= n("repeats"),
        "{p}"
    );
    assert!(
        n("covered") >= n("covered_by_recall").max(n("covered_by_context")),
        "{p}"
    );
    assert_eq!(v["total"]["repeats"], p["repeats"]);
}

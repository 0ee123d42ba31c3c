//! `reverie bench locomo` through the real binary: the quality target on the LoCoMo
//! conversations in ../shared/data/locomo (memory at a quarter of the raw size keeps the
//! evidence at least as retrievable as BM25 over every raw turn), the budget held, any folder
//! of LoCoMo files read (both layouts), and bad data refused by name.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn reverie(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reverie"))
        .args(args)
        .env_remove("REVERIE_DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn bench(data: &str, budget: &str) -> Value {
    let out = reverie(&[
        "--json", "bench", "locomo", "--data", data, "--budget", budget,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn r10(v: &Value, method: &str) -> f64 {
    v["recall"][method]["10"].as_f64().unwrap()
}

#[test]
fn curated_memory_at_a_quarter_keeps_the_evidence_retrievable() {
    let data = reverie_testkit::repo_root().join("../shared/data/locomo");
    let r = bench(data.to_str().unwrap(), "0.25");
    let o = &r["overall"];
    assert_eq!(o["conversations"], 5);
    assert_eq!(o["questions"], 759);
    for c in r["conversations"].as_array().unwrap() {
        let (memory, budget) = (
            c["memory_bytes"].as_u64().unwrap(),
            c["budget_bytes"].as_u64().unwrap(),
        );
        assert!(memory <= budget, "{c}");
        assert!(c["memory_fraction"].as_f64().unwrap() <= 0.25, "{c}");
        // The budget is used, not left empty.
        assert!(c["memory_fraction"].as_f64().unwrap() > 0.2, "{c}");
    }
    // The target: recall@10 of the curated memory at least that of every raw turn.
    let (curated, raw, recent) = (r10(o, "curated"), r10(o, "raw"), r10(o, "recent"));
    assert!(curated >= raw, "curated {curated:.3} < raw {raw:.3}");
    // And the budget alone does not do it: the most recent turns that fit keep far less.
    assert!(recent < raw / 2.0, "recent {recent:.3}, raw {raw:.3}");
    for k in ["5", "20"] {
        assert!(
            o["recall"]["curated"][k].as_f64().unwrap()
                >= o["recall"]["raw"][k].as_f64().unwrap() - 0.02,
            "{o}"
        );
    }
    for c in ["1", "2", "3", "4"] {
        assert!(o["by_category"][c]["questions"].as_u64().unwrap() > 0);
    }
    // Bytes served are reported beside, since an entry holds more than a turn.
    assert!(o["served_bytes_at_10"]["curated"].as_f64().unwrap() > 0.0);
}

fn write(dir: &std::path::Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, v.to_string()).unwrap();
    p
}

/// A small conversation in LoCoMo's original layout (a list of samples, the conversation
/// nested), whose facts a curated memory should keep.
fn tiny() -> Value {
    let mut session_1 = Vec::new();
    let lines = [
        ("Ann", "Hi Bo! How are you?"),
        ("Bo", "Hey Ann! Good, you?"),
        (
            "Ann",
            "I adopted a grey cat named Pixel from the shelter yesterday.",
        ),
        ("Bo", "Wow, that's so great!"),
        (
            "Ann",
            "She sleeps on my keyboard all day. I started a pottery class last week too.",
        ),
        ("Bo", "I ran the Lisbon half marathon last Sunday in 1:52."),
        ("Ann", "Haha, awesome!"),
    ];
    for (i, (speaker, text)) in lines.iter().enumerate() {
        session_1
            .push(json!({"speaker": speaker, "dia_id": format!("D1:{}", i + 1), "text": text}));
    }
    json!([{
        "sample_id": "tiny",
        "conversation": {
            "speaker_a": "Ann", "speaker_b": "Bo",
            "session_1_date_time": "10:00 am on 3 March, 2024",
            "session_1": session_1,
        },
        "qa": [
            {"question": "What is the name of Ann's cat?", "answer": "Pixel", "evidence": ["D1:3"], "category": 4},
            {"question": "When did Bo run the half marathon?", "answer": "last Sunday", "evidence": ["D1:6"], "category": 2},
            {"question": "What class did Ann start?", "answer": "pottery", "evidence": ["D1:5"], "category": 4},
            {"question": "What did Bo adopt?", "answer": "nothing", "evidence": [], "category": 5}
        ]
    }])
}

#[test]
fn any_folder_of_locomo_files_and_bad_data_by_name() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.json", &tiny());
    std::fs::write(dir.path().join("notes.txt"), "not a LoCoMo file").unwrap();
    let r = bench(dir.path().to_str().unwrap(), "0.9");
    let o = &r["overall"];
    assert_eq!(o["conversations"], 1);
    assert_eq!(o["questions"], 3);
    assert_eq!(o["adversarial_skipped"], 1);
    assert_eq!(r["conversations"][0]["name"], "tiny");
    assert!(r["conversations"][0]["memory_fraction"].as_f64().unwrap() <= 0.9);
    assert_eq!(r10(o, "curated"), 1.0, "{r}");

    // Text output: the table.
    let out = reverie(&[
        "bench",
        "locomo",
        "--data",
        dir.path().to_str().unwrap(),
        "--budget",
        "0.9",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("curated memory (recall)"), "{text}");
    assert!(text.contains("4 single-hop"), "{text}");

    // Bad data and bad flags are refused, naming the problem.
    write(
        dir.path(),
        "broken.json",
        &json!({"speaker_a": "x", "qa": []}),
    );
    let out = reverie(&["bench", "locomo", "--data", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.json") && err.contains("no session_N"),
        "{err}"
    );
    let out = reverie(&["bench", "locomo", "--data", "/nonexistent/locomo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/locomo"));
    let empty = tempfile::tempdir().unwrap();
    let out = reverie(&["bench", "locomo", "--data", empty.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no .json files"));
    let out = reverie(&[
        "bench",
        "locomo",
        "--data",
        dir.path().to_str().unwrap(),
        "--budget",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("budget"));
}

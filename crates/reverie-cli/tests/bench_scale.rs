//! `reverie bench scale` through the real binary, on SQLite and PostgreSQL, at tiny sizes: the
//! store reaches every size, and every operation is timed at every size with its growth.

use std::process::Command;

use serde_json::Value;

mod common;

const OPS: [&str; 14] = [
    "tool_create",
    "tool_str_replace",
    "tool_view",
    "tool_delete",
    "http_tool_create",
    "http_tool_str_replace",
    "http_tool_view",
    "http_tool_delete",
    "get_memory",
    "list_folder",
    "recall",
    "context",
    "ingest",
    "dream",
];

fn bench_scale_times_every_operation_at_every_size(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_reverie"));
    if postgres {
        cmd.args(["--database", &reverie_testkit::pg::fresh_database()]);
    } else {
        cmd.env_remove("REVERIE_DATABASE_URL");
    }
    let out = cmd
        .args(["--json", "bench", "scale", "--sizes", "20,40", "--ops", "5"])
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
    assert_eq!(v["database"], if postgres { "postgres" } else { "sqlite" });
    assert_eq!(v["scratch"], !postgres);
    assert_eq!(v["sizes"], serde_json::json!([20, 40]));
    // Each size was measured (the command fails when the store does not hold exactly it).
    let levels = v["levels"].as_array().unwrap();
    let held: Vec<i64> = levels.iter().map(|l| l["size"].as_i64().unwrap()).collect();
    assert_eq!(held, [20, 40], "{v}");
    for l in levels {
        assert!(l["memories_after"].as_i64().unwrap() > 0, "{l}");
    }
    let ops = v["operations"].as_array().unwrap();
    let names: Vec<&str> = ops.iter().map(|o| o["op"].as_str().unwrap()).collect();
    assert_eq!(names, OPS);
    for o in ops {
        assert_eq!(o["runs"], 5, "{o}");
        let sizes = o["sizes"].as_array().unwrap();
        let at: Vec<i64> = sizes.iter().map(|s| s["size"].as_i64().unwrap()).collect();
        assert_eq!(at, [20, 40], "{o}");
        for s in sizes {
            let (p50, p99) = (s["p50_ms"].as_f64().unwrap(), s["p99_ms"].as_f64().unwrap());
            assert!(p50 > 0.0 && p50 <= p99, "{o}");
        }
        let growth = o["growth"].as_array().unwrap();
        assert_eq!(growth.len(), 1, "{o}");
        let g = growth[0].as_f64().unwrap();
        let expected = sizes[1]["p50_ms"].as_f64().unwrap() / sizes[0]["p50_ms"].as_f64().unwrap();
        assert!(g > 0.0 && (g - expected).abs() < 1e-9, "{o}");
    }
}

/// Sizes that do not grow one store are refused by name, before any work.
#[test]
fn bench_scale_refuses_sizes_that_do_not_grow() {
    let dir = tempfile::tempdir().unwrap();
    for sizes in ["40,20", "20,20", "1", "ten"] {
        let out = Command::new(env!("CARGO_BIN_EXE_reverie"))
            .env_remove("REVERIE_DATABASE_URL")
            .args(["bench", "scale", "--sizes", sizes])
            .env("TMPDIR", dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{sizes}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--sizes"), "{sizes}: {err}");
    }
}

both!(bench_scale_times_every_operation_at_every_size);

//! The memory tool, byte for byte against the SDK's own `BetaLocalFilesystemMemoryTool`.
//!
//! `tests/memtool/reference.py` generates a few hundred command sequences — hostile paths
//! included: `..` traversal, encoded traversal, very long names, non-NFC names, control
//! characters, NUL, a missing `/memories` prefix — runs them through the SDK (anthropic 2.12.0,
//! installed by `scripts/test`) and records every answer as the SDK's tool runner renders it.
//! This test replays each sequence against a fresh store on SQLite and on PostgreSQL and
//! compares every answer, error or not. After each sequence the store's integrity is checked.

mod common;

use std::sync::Arc;

use reverie_core::memtool::Command;
use reverie_store::Store;
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    sdk_version: String,
    sequences: Vec<Sequence>,
}

#[derive(Deserialize)]
struct Sequence {
    name: String,
    commands: Vec<serde_json::Value>,
    results: Vec<Expected>,
}

#[derive(Deserialize, Debug, PartialEq)]
struct Expected {
    is_error: bool,
    content: String,
}

/// Runs the reference once per test process; both backends replay the same file.
fn reference() -> &'static Reference {
    static REFERENCE: std::sync::OnceLock<Reference> = std::sync::OnceLock::new();
    REFERENCE.get_or_init(|| {
        reverie_testkit::require_python_package("anthropic", "anthropic==2.12.0");
        let root = reverie_testkit::repo_root();
        let out = tempfile::NamedTempFile::new().unwrap();
        let status = std::process::Command::new(reverie_testkit::python())
            .arg(root.join("crates/reverie-store/tests/memtool/reference.py"))
            .args(["--seed", "1", "--count", "300", "--out"])
            .arg(out.path())
            .status()
            .expect("cannot run the reference generator");
        assert!(
            status.success(),
            "the reference generator failed ({status})"
        );
        let r: Reference = serde_json::from_slice(&std::fs::read(out.path()).unwrap()).unwrap();
        assert_eq!(r.sdk_version, "2.12.0");
        assert!(
            r.sequences.len() >= 300,
            "too few sequences: {}",
            r.sequences.len()
        );
        r
    })
}

async fn replay(s: Arc<dyn Store>) {
    let reference = reference();
    let actor = common::session("sesn_differential");
    let mut mismatches = Vec::new();
    let mut commands = 0;
    for seq in &reference.sequences {
        let st = common::new_store(&*s, &seq.name).await;
        for (i, (raw, want)) in seq.commands.iter().zip(&seq.results).enumerate() {
            commands += 1;
            let cmd = Command::from_value(raw.clone())
                .unwrap_or_else(|e| panic!("{}[{i}]: {e}", seq.name));
            let got = s
                .memory_tool(&st, &cmd, &actor)
                .await
                .unwrap_or_else(|e| panic!("{}[{i}] {raw}: {e}", seq.name));
            let got = Expected {
                is_error: got.is_error,
                content: got.content,
            };
            if &got != want {
                mismatches.push(format!(
                    "{}[{i}] {raw}\n  reference: {want:?}\n  reverie:   {got:?}",
                    seq.name
                ));
                break; // the rest of a diverged sequence says nothing new
            }
        }
        let problems = s.check_integrity(&st).await.unwrap();
        assert!(problems.is_empty(), "{}: {problems:?}", seq.name);
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} sequences diverged from the reference; first ones:\n{}",
        mismatches.len(),
        reference.sequences.len(),
        mismatches
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(commands > 3000, "too few commands compared: {commands}");
    eprintln!(
        "{} sequences, {commands} commands, identical to the SDK",
        reference.sequences.len()
    );
}

on_both_backends!(replay);

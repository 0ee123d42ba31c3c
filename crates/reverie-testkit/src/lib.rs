//! Test support shared by reverie's test suites and benchmarks.
//!
//! The main piece is [`pg`]: a real, throwaway PostgreSQL cluster started from the machine's
//! PostgreSQL binaries on a private Unix socket, once per test process, so that the same store
//! suite runs against SQLite and PostgreSQL with no external setup. Nothing here is mocked.

pub mod pg;

use std::path::PathBuf;
use std::process::Command;

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// The Python interpreter tests use: `REVERIE_PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("REVERIE_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Fails loudly, with the install command, when the Python package the conformance tests use
/// is missing — these tests are never skipped.
pub fn require_python_package(module: &str, pip_spec: &str) {
    let ok = Command::new(python())
        .args(["-c", &format!("import {module}")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "the Python module {module:?} is missing for {}: run `{} -m pip install {pip_spec}` (scripts/test does this)",
        python(),
        python()
    );
}

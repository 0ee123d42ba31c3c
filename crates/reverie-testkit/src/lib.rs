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

/// The real Claude Code CLI for the tests that drive it offline: `REVERIE_CLAUDE` (which
/// `scripts/test` sets after installing the pinned version), else where the offline kit's
/// `example.sh` installs it. `None` when neither is there.
pub fn claude_binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("REVERIE_CLAUDE") {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "REVERIE_CLAUDE={} is not a file", p.display());
        return Some(p);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    let p = cache.join("claude-offline/node_modules/@anthropic-ai/claude-code-linux-x64/claude");
    p.is_file().then_some(p)
}

/// Runs `script` with `sh` in `dir`, git's author and committer set (a test machine may have
/// no git identity); panics when it fails.
pub fn git(dir: &std::path::Path, script: &str) {
    let ok = Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .status()
        .unwrap_or_else(|e| panic!("sh: {e}"))
        .success();
    assert!(ok, "{script}");
}

/// Waits until the background work reverie's Claude Code hooks started has finished: their
/// markers under `state/reverie/pending` (`state` being the hooks' `XDG_STATE_HOME`) are gone.
/// Panics after two minutes, naming what is still pending.
pub fn claude_code_settled(state: &std::path::Path) {
    let dir = state.join("reverie/pending");
    let start = std::time::Instant::now();
    loop {
        let left: Vec<String> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        if left.is_empty() {
            return;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(120),
            "the hooks' background work did not finish: {left:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Claude Code's name for the folder of a project at `path` under `~/.claude/projects`: every
/// character but ASCII letters and digits as `-`.
pub fn claude_project_folder(path: &std::path::Path) -> String {
    path.display()
        .to_string()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// A real transcript's lines with the folder they ran in (`cwd`) made `cwd`, as the user's own
/// machine would have recorded them.
pub fn relocated_transcript(file: &std::path::Path, cwd: &std::path::Path) -> String {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let mut out = String::new();
    for line in text.lines() {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(mut v) if v.get("cwd").is_some() => {
                v["cwd"] = serde_json::json!(cwd);
                out.push_str(&v.to_string());
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

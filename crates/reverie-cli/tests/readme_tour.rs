//! The README's tour, run as printed: every command of its `sh` block, in order, through a
//! shell with the real `reverie` on the PATH, each required to succeed. The only change made
//! to a line is the one a reader makes: an elided id (`mem_…`, `memver_…`, `sesn_…`,
//! `drm_…`, `ent_…`) becomes the id of what the commands before it made. The files the tour
//! reads (`run.jsonl`, `commands.jsonl`, a Claude Code project folder under `~/.claude`) are
//! put where it expects them, from the bundled example sessions.

mod common;

use std::process::Command;

use common::Env;
use serde_json::Value;

/// The tour's commands: the first `sh` block after the tour's heading, continuation lines
/// joined, blank lines and whole-line comments left out.
fn tour() -> Vec<String> {
    let readme = std::fs::read_to_string(reverie_testkit::repo_root().join("README.md")).unwrap();
    let from = readme
        .find("## A short tour of the CLI")
        .expect("the tour's heading");
    let block = &readme[from..];
    let start = block.find("```sh\n").expect("its sh block") + 6;
    let end = start + block[start..].find("```").unwrap();
    let mut out = Vec::new();
    let mut pending = String::new();
    for line in block[start..end].lines() {
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(line);
        let cmd = std::mem::take(&mut pending);
        if !cmd.trim().is_empty() && !cmd.trim_start().starts_with('#') {
            out.push(cmd);
        }
    }
    out
}

fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Object(o) => o
            .get("data")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// The line with its elided ids filled in from the store's state.
fn fill(env: &Env, line: &str) -> String {
    let mut line = line.to_string();
    let memories = || -> Vec<Value> {
        list(&env.json(&["ls", "-s", "notes"]))
            .into_iter()
            .filter(|m| m["type"] == "memory")
            .collect()
    };
    // Versions of a memory, newest first.
    let versions =
        |m: &Value| list(&env.json(&["log", "-s", "notes", m["path"].as_str().unwrap()]));
    if line.contains("mem_… --version memver_…") {
        let m = &memories()[0];
        let oldest = versions(m).last().cloned().unwrap();
        line = line
            .replace("mem_…", &id(m))
            .replace("memver_…", &id(&oldest));
    }
    if line.contains("memver_…") {
        // An old version (not the current one) of a memory with history.
        let old = memories()
            .iter()
            .map(versions)
            .find(|v| v.len() >= 2)
            .and_then(|v| v.last().cloned())
            .expect("a memory with an old version");
        line = line.replace("memver_…", &id(&old));
    }
    if line.contains("sesn_…") {
        let s = list(&env.json(&["sessions", "ls", "-s", "notes"]));
        line = line.replace("sesn_…", &id(&s[0]));
    }
    if line.contains("drm_…") {
        let d = list(&env.json(&["dreams", "ls", "-s", "notes"]));
        line = line.replace("drm_…", &id(&d[0]));
    }
    if line.contains("ent_…") {
        // The tour's budget made the dream before it archive some.
        let archived = list(&env.json(&["entries", "ls", "-s", "notes", "--state", "archived"]));
        let first = archived.first().expect("an entry the dream archived");
        line = line.replace("ent_…", &id(first));
    }
    assert!(!line.contains('…'), "an id left to fill in: {line}");
    line
}

#[test]
fn the_readme_tour_runs_as_printed() {
    let env = Env::new(false);
    let home = env.dir.path().join("home");
    let project = home.join(".claude/projects/my-project");
    std::fs::create_dir_all(&project).unwrap();
    let examples = reverie_testkit::repo_root().join("examples/sessions");
    // The agent's first week as the project's folder; a later session as `run.jsonl`.
    for e in std::fs::read_dir(&examples).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".jsonl") && name.as_str() < "2026-03-13" {
            std::fs::copy(&p, project.join(&name)).unwrap();
        }
    }
    std::fs::copy(
        examples.join("2026-03-13-staging-db-port.jsonl"),
        env.dir.path().join("run.jsonl"),
    )
    .unwrap();
    env.write(
        "commands.jsonl",
        "{\"command\":\"view\",\"path\":\"/memories\"}\n{\"command\":\"create\",\"path\":\"/memories/x.md\",\"file_text\":\"- x\\n\"}\n",
    );
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_reverie"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let lines = tour();
    assert!(lines.len() >= 30, "{} commands in the tour", lines.len());
    for line in &lines {
        let line = fill(&env, line);
        let out = Command::new("sh")
            .args(["-c", &line])
            .current_dir(env.dir.path())
            .env("PATH", &path)
            .env("HOME", &home)
            .env("REVERIE_DATABASE_URL", &env.database)
            .env("USER", "tester")
            .env_remove("REVERIE_STORE")
            .env_remove("REVERIE_ACTOR")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the tour's `{line}` failed ({:?}):\n{}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The tour's end: the store is archived, and its memory holds what the tour wrote.
    let shown = env.json(&["store", "show", "notes"]);
    assert!(!shown["archived_at"].is_null(), "{shown}");
}

//! `reverie bench hooks`: Claude Code's hooks timed as Claude Code runs them — one process per
//! event, its start included, the event's JSON on standard input — on a generated project
//! store of 2,000 memories (`bench dream`'s notes, a glossary and an index), in a scratch git
//! repository, database, `HOME` and state folder:
//!
//! - `process start` — `reverie --version`: the floor any hook pays (baseline);
//! - `SessionStart` — the store's context for the session, recorded as served: as a session
//!   starts after another ended (the context rendered then, cached), and with no cache (the
//!   store changed by something that rendered none: the tokenizer loaded, every entry read);
//! - `UserPromptSubmit` naming a glossary term, and naming nothing;
//! - `SessionEnd` — until the hook returns, with a large transcript (its work goes on in the
//!   background; how long that takes is reported beside it, untimed by Claude Code).
//!
//! Each run times every hook in turn, so that noise on this shared machine falls on all alike.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use rand::SeedableRng;
use reverie_core::curation::GLOSSARY_PATH;
use reverie_store::StorePatch;
use serde_json::json;

use super::bench::{WORDS, generate_store};
use super::claude_code::project::{IDENTITY_KEY, identify};
use crate::cli::BenchHooksArgs;
use crate::output::{emit, json, table};

/// One hook process: its wall-clock time from spawn to exit.
fn run_hook(exe: &Path, env: &Env, args: &[&str], input: &[u8]) -> Result<Duration> {
    let start = Instant::now();
    let mut child = Command::new(exe)
        .args(args)
        .current_dir(&env.project)
        .env("HOME", &env.home)
        .env("XDG_STATE_HOME", &env.state)
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("REVERIE_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start reverie")?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input)?;
    }
    let status = child.wait()?;
    let took = start.elapsed();
    if !status.success() {
        bail!("{args:?} exited with {status}");
    }
    Ok(took)
}

/// The scratch world the hooks run in.
struct Env {
    project: PathBuf,
    home: PathBuf,
    state: PathBuf,
}

/// Waits until the hooks' background work is done; how long that took.
fn settle(state: &Path) -> Result<Duration> {
    let dir = state.join("reverie/pending");
    let start = Instant::now();
    loop {
        let busy = std::fs::read_dir(&dir).map_or(0, |rd| rd.count());
        if busy == 0 {
            return Ok(start.elapsed());
        }
        if start.elapsed() > Duration::from_secs(600) {
            bail!("the hooks' background work did not finish in ten minutes");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A Claude Code transcript of about `bytes`: turns of a user asking, the agent running a
/// command, and the command's long output — most of a real transcript's bytes.
fn transcript(cwd: &Path, bytes: usize) -> String {
    let mut out = String::new();
    let output: String = (0..100)
        .map(|i| format!("test result line {i}: ok. {} passed; 0 failed\n", i * 7))
        .collect();
    let mut i = 0;
    while out.len() < bytes {
        let common = json!({"cwd": cwd, "sessionId": "bench-session", "version": "2.1.0"});
        let mut user = common.clone();
        user["type"] = json!("user");
        user["uuid"] = json!(format!("u{i}"));
        user["message"] = json!({"role": "user", "content": format!("run the {} tests again", WORDS[i % WORDS.len()])});
        let mut call = common.clone();
        call["type"] = json!("assistant");
        call["uuid"] = json!(format!("a{i}"));
        call["message"] = json!({"role": "assistant", "content": [
            {"type": "tool_use", "id": format!("toolu_{i}"), "name": "Bash",
             "input": {"command": format!("cargo test -p {}", WORDS[i % WORDS.len()])}}]});
        let mut result = common;
        result["type"] = json!("user");
        result["uuid"] = json!(format!("r{i}"));
        result["message"] = json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": format!("toolu_{i}"), "content": output}]});
        for line in [user, call, result] {
            out.push_str(&line.to_string());
            out.push('\n');
        }
        i += 1;
    }
    out
}

pub(super) struct Samples(pub(super) Vec<f64>);

impl Samples {
    pub(super) fn pct(&self, p: usize) -> f64 {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        v[(v.len() * p / 100).min(v.len() - 1)]
    }
}

pub async fn run(a: BenchHooksArgs, json_out: bool) -> Result<i32> {
    if a.runs == 0 || a.memories == 0 {
        bail!("--runs and --memories must be at least 1");
    }
    let exe = std::env::current_exe().context("cannot find reverie's own executable")?;
    let root = std::env::temp_dir().join(format!("reverie-bench-hooks-{}", std::process::id()));
    let r = measure(&a, &exe, &root, json_out).await;
    let _ = std::fs::remove_dir_all(&root);
    r
}

async fn measure(a: &BenchHooksArgs, exe: &Path, root: &Path, json_out: bool) -> Result<i32> {
    let env = Env {
        project: root.join("project"),
        home: root.join("home"),
        state: root.join("state"),
    };
    for d in [&env.project, &env.home, &env.state] {
        std::fs::create_dir_all(d)?;
    }
    let git = Command::new("git")
        .args(["init", "-q"])
        .current_dir(&env.project)
        .status()
        .context("cannot run git")?;
    let commit = Command::new("git")
        .args([
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.com",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "init",
        ])
        .current_dir(&env.project)
        .status()?;
    if !git.success() || !commit.success() {
        bail!("cannot make the scratch git repository");
    }
    let database = root.join("reverie.db").display().to_string();

    // The project's store: generated notes, a glossary, an index, keyed as the hooks key it.
    let built = Instant::now();
    let s = reverie_store::open(&database).await?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let (store, _) = generate_store(&s, a.memories, &mut rng).await?;
    let project = identify(&env.project);
    s.update_store(
        &store,
        StorePatch {
            name: Some(project.store_name.clone()),
            metadata: Some([(IDENTITY_KEY.to_string(), Some(project.identity.clone()))].into()),
            ..StorePatch::default()
        },
    )
    .await?;
    let actor = reverie_core::Actor::User {
        user_id: "user_bench".into(),
    };
    s.create_memory(&store, GLOSSARY_PATH, &super::bench::glossary(), &actor)
        .await?;
    drop(s);
    let t = root.join("session.jsonl");
    std::fs::write(&t, transcript(&env.project, a.transcript_mb << 20))?;
    let build_s = built.elapsed().as_secs_f64();

    let event = |name: &str, extra: serde_json::Value| {
        let mut e = json!({
            "session_id": "bench-session",
            "transcript_path": t,
            "cwd": env.project,
            "hook_event_name": name,
        });
        for (k, v) in extra.as_object().into_iter().flatten() {
            e[k] = v.clone();
        }
        e.to_string().into_bytes()
    };
    let start = event("SessionStart", json!({"source": "startup"}));
    let named = event(
        "UserPromptSubmit",
        json!({"prompt": format!("why does {} time out under load?", WORDS[3])}),
    );
    let plain = event(
        "UserPromptSubmit",
        json!({"prompt": "please tidy up the README's wording"}),
    );
    let end = event("SessionEnd", json!({"reason": "prompt_input_exit"}));
    let hook = ["--database", database.as_str(), "claude-code", "hook"];

    let names = [
        "process start (baseline)",
        "SessionStart",
        "SessionStart, context not cached",
        "UserPromptSubmit, a term named",
        "UserPromptSubmit, nothing named",
        "SessionEnd, until it returns",
    ];
    let mut samples: Vec<Samples> = names.iter().map(|_| Samples(Vec::new())).collect();
    let mut background = Samples(Vec::new());
    // Untimed: the first SessionEnd's ingest and dream, and warm caches.
    run_hook(exe, &env, &hook, &end)?;
    let first_background = settle(&env.state)?.as_secs_f64();
    for _ in 0..3 {
        run_hook(exe, &env, &hook, &start)?;
    }
    for i in 0..a.runs {
        samples[0]
            .0
            .push(run_hook(exe, &env, &["--version"], b"")?.as_secs_f64());
        samples[1]
            .0
            .push(run_hook(exe, &env, &hook, &start)?.as_secs_f64());
        // The cached context gone, as after a change no background work rendered for.
        let _ = std::fs::remove_dir_all(env.home.join(".cache/reverie/claude-code"));
        samples[2]
            .0
            .push(run_hook(exe, &env, &hook, &start)?.as_secs_f64());
        samples[3]
            .0
            .push(run_hook(exe, &env, &hook, &named)?.as_secs_f64());
        samples[4]
            .0
            .push(run_hook(exe, &env, &hook, &plain)?.as_secs_f64());
        // SessionEnd every fifth run (its background work is waited for, untimed).
        if i % 5 == 0 {
            samples[5]
                .0
                .push(run_hook(exe, &env, &hook, &end)?.as_secs_f64());
            background.0.push(settle(&env.state)?.as_secs_f64());
        }
    }

    let base = samples[0].pct(50);
    let rows: Vec<serde_json::Value> = names
        .iter()
        .zip(&samples)
        .map(|(n, s)| {
            json!({
                "hook": n,
                "runs": s.0.len(),
                "p50_ms": s.pct(50) * 1e3,
                "p99_ms": s.pct(99) * 1e3,
                "p50_over_process_start": s.pct(50) / base,
            })
        })
        .collect();
    let report = json!({
        "memories": a.memories,
        "transcript_mb": a.transcript_mb,
        "build_s": build_s,
        "first_session_end_background_s": first_background,
        "session_end_background_p50_s": background.pct(50),
        "hooks": rows,
    });
    if json_out {
        json(&report);
        return Ok(0);
    }
    emit(&format!(
        "a project store of {} memories (built in {build_s:.1} s); a {} MB transcript",
        a.memories, a.transcript_mb
    ));
    let mut t = vec![vec![
        "hook".to_string(),
        "runs".into(),
        "p50 ms".into(),
        "p99 ms".into(),
        "p50 / process start".into(),
    ]];
    for r in &rows {
        t.push(vec![
            r["hook"].as_str().unwrap_or_default().to_string(),
            r["runs"].to_string(),
            format!("{:.1}", r["p50_ms"].as_f64().unwrap_or(0.0)),
            format!("{:.1}", r["p99_ms"].as_f64().unwrap_or(0.0)),
            format!("{:.2}", r["p50_over_process_start"].as_f64().unwrap_or(0.0)),
        ]);
    }
    table(&t);
    emit(&format!(
        "SessionEnd's background work (ingest, dream if due, export): {first_background:.2} s for \
         the first, {:.2} s p50 for a transcript already in",
        background.pct(50)
    ));
    Ok(0)
}

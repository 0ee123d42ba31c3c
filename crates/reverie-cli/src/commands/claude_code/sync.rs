//! `reverie claude-code sync`: Claude Code's transcripts that no hook brought in — a session
//! ended with Ctrl+C, a machine without the hooks, sessions from before the install — swept
//! from `~/.claude/projects/*/*.jsonl` into their projects' stores (ingest is idempotent: what
//! a hook already brought in is unchanged, a transcript that grew appends), then every store
//! whose schedule calls for a dream dreamed, as `reverie worker --once` would.
//!
//! A transcript's project is the `cwd` its lines record (Claude Code writes it on every
//! message line); a transcript without one is skipped and said so.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use serde_json::json;

use super::project::{Project, identify};
use crate::cli::ClaudeCodeSyncArgs;
use crate::output::emit;

/// Lines of a transcript read to find its `cwd`.
const CWD_LINES: usize = 200;

/// Claude Code's projects folder.
fn projects_dir(args: &ClaudeCodeSyncArgs) -> Result<PathBuf> {
    if let Some(p) = &args.projects {
        return Ok(p.clone());
    }
    if let Some(dir) = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("projects"));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .context("cannot find Claude Code's projects: HOME is not set (use --projects DIR)")?;
    Ok(PathBuf::from(home).join(".claude/projects"))
}

/// The `cwd` a transcript's lines record, if any of its first lines does.
fn cwd_of(path: &Path) -> Option<String> {
    let f = std::fs::File::open(path).ok()?;
    std::io::BufReader::new(f)
        .lines()
        .take(CWD_LINES)
        .map_while(std::result::Result::ok)
        .find_map(|l| {
            let v: serde_json::Value = serde_json::from_str(&l).ok()?;
            v.get("cwd")?
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        })
}

pub async fn run(database: Option<&str>, args: &ClaudeCodeSyncArgs, json_out: bool) -> Result<i32> {
    let dir = projects_dir(args)?;
    let mut transcripts: Vec<PathBuf> = Vec::new();
    if dir.is_dir() {
        for project in std::fs::read_dir(&dir).with_context(|| format!("{}", dir.display()))? {
            let project = project?.path();
            if !project.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(&project)? {
                let f = f?.path();
                if f.is_file() && f.extension().is_some_and(|x| x == "jsonl") {
                    transcripts.push(f);
                }
            }
        }
    }
    transcripts.sort();

    // Transcripts by project, each folder identified once.
    let mut known: HashMap<String, Project> = HashMap::new();
    let mut by_project: BTreeMap<String, (Project, Vec<String>)> = BTreeMap::new();
    let mut skipped: Vec<String> = Vec::new();
    for t in &transcripts {
        let Some(cwd) = cwd_of(t) else {
            skipped.push(t.display().to_string());
            continue;
        };
        let p = known
            .entry(cwd.clone())
            .or_insert_with(|| identify(Path::new(&cwd)))
            .clone();
        by_project
            .entry(p.store_name.clone())
            .or_insert_with(|| (p, Vec::new()))
            .1
            .push(t.display().to_string());
    }

    let s = super::hook::open(database).await?;
    let mut projects = Vec::new();
    for (project, paths) in by_project.values() {
        let store = super::hook::find_or_create(s.as_ref(), project).await?;
        let report = reverie_ingest::Ingest::new(
            s.clone(),
            store.clone(),
            reverie_ingest::Options::default(),
        )
        .run(paths, &reverie_ingest::Quiet)
        .await?;
        projects.push(json!({
            "store": project.store_name,
            "store_id": store,
            "project": project.root,
            "transcripts": paths.len(),
            "sessions_created": report.sessions_created,
            "sessions_appended": report.sessions_appended,
            "unchanged": report.unchanged,
            "failed": report.failed,
        }));
    }

    let mut dreams = Vec::new();
    if !args.no_dream {
        let curators = super::super::model::Curators::load(true)?;
        let runner = reverie_dream::Runner::with_curators(s.clone(), Arc::new(curators));
        for d in reverie_dream::schedule::tick(&runner).await? {
            dreams.push(json!({
                "store_id": d.memory_store_id,
                "dream_id": d.dream_id,
                "status": d.status,
            }));
        }
    }

    let failed: u64 = projects
        .iter()
        .map(|p| p["failed"].as_u64().unwrap_or(0))
        .sum();
    if json_out {
        crate::output::json(&json!({
            "projects_dir": dir,
            "projects": projects,
            "skipped": skipped,
            "dreams": dreams,
        }));
    } else {
        emit(&format!(
            "{} transcripts in {}",
            transcripts.len(),
            dir.display()
        ));
        for p in &projects {
            emit(&format!(
                "  {}  {}: {} new sessions, {} grown, {} unchanged{}",
                p["store"].as_str().unwrap_or("?"),
                p["project"].as_str().unwrap_or("?"),
                p["sessions_created"],
                p["sessions_appended"],
                p["unchanged"],
                if p["failed"].as_u64().unwrap_or(0) > 0 {
                    format!(", {} failed", p["failed"])
                } else {
                    String::new()
                }
            ));
        }
        for s in &skipped {
            emit(&format!(
                "  skipped {s}: no line says which folder it ran in (`cwd`)"
            ));
        }
        for d in &dreams {
            emit(&format!(
                "  dreamed {}: {} ({})",
                d["store_id"].as_str().unwrap_or("?"),
                d["dream_id"].as_str().unwrap_or("?"),
                d["status"].as_str().unwrap_or("?")
            ));
        }
    }
    Ok(if failed > 0 { 5 } else { 0 })
}

//! `reverie claude-code status`: whether reverie's hooks are installed (for this binary and
//! database) in the user's settings and in this folder's project settings, the stores of the
//! Claude Code projects with their sessions, last ingest and last dream, and the hook log's
//! recent errors.

use anyhow::Result;
use reverie_store::{DreamQuery, StoreQuery};
use serde_json::{Value, json};

use super::project::IDENTITY_KEY;
use super::settings;
use crate::cli::ClaudeCodeSettingsArgs;
use crate::output::emit;

/// Hook log lines shown.
const LOG_LINES: usize = 5;

/// A hook's background work older than this has died (a dream and an export take seconds).
const STALE_SECS: u64 = 600;

pub async fn run(database: Option<&str>, hook_command: &str, json_out: bool) -> Result<i32> {
    let mut problems: Vec<String> = Vec::new();
    let mut places = Vec::new();
    for project in [None, Some(std::path::PathBuf::from("."))] {
        let args = ClaudeCodeSettingsArgs {
            project,
            dry_run: true,
        };
        let Ok(path) = settings::settings_path(&args) else {
            continue;
        };
        let events = match settings::installed(&path, hook_command) {
            Ok(e) => e,
            Err(e) => {
                problems.push(format!("{e:#}"));
                Vec::new()
            }
        };
        places.push(json!({"settings": path, "events": events}));
    }
    if places
        .iter()
        .all(|p| p["events"].as_array().is_none_or(Vec::is_empty))
    {
        problems.push(
            "reverie's hooks are not installed for this binary and database: run `reverie \
             claude-code install`"
                .into(),
        );
    }

    let mut projects = Vec::new();
    match super::hook::open(database).await {
        Err(e) => problems.push(format!("the database: {e:#}")),
        Ok(s) => {
            let mut page = None;
            loop {
                let stores = s
                    .list_stores(&StoreQuery {
                        limit: Some(100),
                        page: page.clone(),
                        ..StoreQuery::default()
                    })
                    .await?;
                for st in &stores.data {
                    let Some(identity) = st.metadata.get(IDENTITY_KEY) else {
                        continue;
                    };
                    let (mut count, mut last_ingest, mut spage) = (0usize, None, None);
                    loop {
                        let sessions = s.list_sessions(&st.id, Some(100), spage.as_deref()).await?;
                        count += sessions.data.len();
                        last_ingest =
                            last_ingest.max(sessions.data.iter().map(|x| x.updated_at).max());
                        match sessions.next_page {
                            Some(p) => spage = Some(p),
                            None => break,
                        }
                    }
                    let dreams = s
                        .list_dreams(&DreamQuery {
                            store_id: Some(st.id.clone()),
                            limit: Some(20),
                            ..DreamQuery::default()
                        })
                        .await?;
                    let last_dream = dreams.data.iter().max_by_key(|d| d.created_at);
                    projects.push(json!({
                        "store": st.name,
                        "store_id": st.id,
                        "description": st.description,
                        "identity": identity,
                        "sessions": count,
                        "last_ingest": last_ingest,
                        "last_dream": last_dream.map(|d| json!({
                            "id": d.id, "status": d.status, "created_at": d.created_at,
                        })),
                    }));
                }
                match stores.next_page {
                    Some(p) => page = Some(p),
                    None => break,
                }
            }
        }
    }

    let log: Vec<String> = super::hook::log_path()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|t| {
            let lines: Vec<&str> = t.lines().collect();
            lines[lines.len().saturating_sub(LOG_LINES)..]
                .iter()
                .map(|l| l.to_string())
                .collect()
        })
        .unwrap_or_default();

    // Background work of the hooks: in progress, or left behind by a process that died.
    let mut pending = Vec::new();
    if let Some(dir) = super::hook::pending_dir()
        && let Ok(rd) = std::fs::read_dir(&dir)
    {
        for e in rd.filter_map(std::result::Result::ok) {
            let age = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| m.elapsed().ok())
                .map_or(0, |d| d.as_secs());
            let about: Value = std::fs::read_to_string(e.path())
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or(Value::Null);
            if age > STALE_SECS {
                problems.push(format!(
                    "a hook's background work on {} did not finish ({} minutes ago): `reverie \
                     claude-code sync` brings the transcript in; remove {} after",
                    about["transcript_path"].as_str().unwrap_or("a transcript"),
                    age / 60,
                    e.path().display()
                ));
            }
            pending.push(json!({"marker": e.path(), "age_secs": age, "about": about}));
        }
    }

    if json_out {
        crate::output::json(&json!({
            "hook_command": hook_command,
            "installed": places,
            "projects": projects,
            "pending": pending,
            "log": log,
            "problems": problems,
        }));
        return Ok(if problems.is_empty() { 0 } else { 5 });
    }
    emit(&format!("hook command: {hook_command}"));
    for p in &places {
        let events: Vec<&str> = p["events"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        emit(&format!(
            "{}: {}",
            p["settings"].as_str().unwrap_or("?"),
            if events.is_empty() {
                "not installed".to_string()
            } else {
                format!("installed for {}", events.join(", "))
            }
        ));
    }
    if projects.is_empty() {
        emit("projects: none yet (a project's store is made when its first session ends)");
    } else {
        emit("projects:");
        for p in &projects {
            let last_dream = match &p["last_dream"] {
                Value::Null => "never dreamed".to_string(),
                d => format!(
                    "last dream {} ({})",
                    d["created_at"].as_str().unwrap_or("?"),
                    d["status"].as_str().unwrap_or("?")
                ),
            };
            emit(&format!(
                "  {}  {}  {} sessions, last ingest {}; {last_dream}",
                p["store"].as_str().unwrap_or("?"),
                p["description"].as_str().unwrap_or(""),
                p["sessions"],
                p["last_ingest"].as_str().unwrap_or("never"),
            ));
        }
    }
    if !pending.is_empty() {
        emit(&format!(
            "background work of the hooks: {} pending",
            pending.len()
        ));
    }
    if !log.is_empty() {
        emit(&format!("hook log (the last {}):", log.len()));
        for l in &log {
            emit(&format!("  {l}"));
        }
    }
    for p in &problems {
        emit(&format!("problem: {p}"));
    }
    Ok(if problems.is_empty() { 0 } else { 5 })
}

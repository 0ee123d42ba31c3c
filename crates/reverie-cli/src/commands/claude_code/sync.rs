//! `reverie claude-code sync`: Claude Code's transcripts that no hook brought in — a session
//! ended with Ctrl+C, a machine without the hooks, sessions from before the install — swept
//! from `~/.claude/projects/*/*.jsonl` into their projects' stores (ingest is idempotent: what
//! a hook already brought in is unchanged, a transcript that grew appends), then every store
//! whose schedule calls for a dream dreamed, as `reverie worker --once` would; around the
//! dreams, each project's Claude Code memory folder is read back and exported (`export.rs`).
//!
//! A transcript's project is the `cwd` its lines record (Claude Code writes it on every
//! message line); a transcript without one is skipped and said so.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use reverie_store::Store;
use serde_json::json;

use super::project::{IDENTITY_KEY, Project, identify};
use crate::cli::ClaudeCodeSyncArgs;
use crate::output::emit;

/// Lines of a transcript read to find its `cwd`.
const CWD_LINES: usize = 200;

/// Claude Code's folder: `$CLAUDE_CONFIG_DIR`, else `~/.claude`.
pub fn claude_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .context("cannot find Claude Code's folder: HOME is not set (use --projects DIR)")?;
    Ok(PathBuf::from(home).join(".claude"))
}

/// Claude Code's projects folder.
fn projects_dir(args: &ClaudeCodeSyncArgs) -> Result<PathBuf> {
    match &args.projects {
        Some(p) => Ok(p.clone()),
        None => Ok(claude_dir()?.join("projects")),
    }
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

/// What a sweep does besides bringing transcripts in.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// Dream the swept projects' stores whose schedule calls for it.
    pub dream: bool,
    /// Dream every store that is due (as `reverie worker` does), not only the swept projects'.
    pub all_stores: bool,
    /// Read Claude Code's memory folders back and export into them.
    pub export: bool,
}

/// The transcripts under `dir` (`<project folder>/<session>.jsonl`).
pub fn transcripts_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut transcripts: Vec<PathBuf> = Vec::new();
    if dir.is_dir() {
        for project in std::fs::read_dir(dir).with_context(|| format!("{}", dir.display()))? {
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
    Ok(transcripts)
}

/// The project of a transcript whose folder is gone (moved or deleted): the one whose store
/// holds a session from the same Claude Code project folder (this transcript's own, brought
/// in before the move, or another's), if any does. `stores` is filled
/// with the Claude Code projects' stores on first use.
async fn moved(
    s: &dyn Store,
    transcript: &Path,
    stores: &mut Option<Vec<reverie_core::MemoryStore>>,
) -> Result<Option<Project>> {
    if stores.is_none() {
        let mut all = Vec::new();
        let mut page = None;
        loop {
            let p = s
                .list_stores(&reverie_store::StoreQuery {
                    limit: Some(100),
                    page,
                    ..reverie_store::StoreQuery::default()
                })
                .await?;
            all.extend(
                p.data
                    .into_iter()
                    .filter(|st| st.metadata.contains_key(IDENTITY_KEY)),
            );
            match p.next_page {
                Some(n) => page = Some(n),
                None => break,
            }
        }
        *stores = Some(all);
    }
    let Some(folder) = transcript.parent() else {
        return Ok(None);
    };
    let mut siblings: Vec<PathBuf> = std::fs::read_dir(folder)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    siblings.sort();
    for st in stores.iter().flatten() {
        for sibling in &siblings {
            if s.session_source(&st.id, &sibling.display().to_string())
                .await?
                .is_some()
            {
                let identity = st.metadata.get(IDENTITY_KEY).cloned().unwrap_or_default();
                return Ok(Some(Project {
                    identity,
                    root: PathBuf::new(),
                    store_name: st.name.clone(),
                    label: st.name.clone(),
                }));
            }
        }
    }
    Ok(None)
}

/// One project's part of a sweep.
struct Swept {
    project: Project,
    transcripts: Vec<PathBuf>,
    /// Every folder its sessions ran in (a moved project has had several).
    roots: BTreeSet<PathBuf>,
}

/// Brings `transcripts` into their projects' stores, reads back what Claude Code wrote in the
/// projects' memory folders, dreams as `sweep` says, and exports each store into its folders.
/// `claude_dir` is Claude Code's folder (`~/.claude`).
pub async fn sweep(
    s: Arc<dyn Store>,
    claude_dir: &Path,
    transcripts: &[PathBuf],
    how: &Sweep,
) -> Result<serde_json::Value> {
    // Transcripts by project, each folder identified once.
    let mut known: HashMap<String, Project> = HashMap::new();
    let mut stores: Option<Vec<reverie_core::MemoryStore>> = None;
    let mut by_project: BTreeMap<String, Swept> = BTreeMap::new();
    let mut skipped: Vec<String> = Vec::new();
    for t in transcripts {
        let Some(cwd) = cwd_of(t) else {
            skipped.push(t.display().to_string());
            continue;
        };
        let p = match known.get(&cwd) {
            Some(p) => p.clone(),
            None => {
                let p = if Path::new(&cwd).exists() {
                    identify(Path::new(&cwd))
                } else {
                    // A project moved (or deleted) since: its folder cannot say what it is, but
                    // the store its other sessions went to can.
                    match moved(s.as_ref(), t, &mut stores).await? {
                        Some(p) => Project {
                            root: PathBuf::from(&cwd),
                            ..p
                        },
                        None => identify(Path::new(&cwd)),
                    }
                };
                known.insert(cwd.clone(), p.clone());
                p
            }
        };
        let e = by_project
            .entry(p.store_name.clone())
            .or_insert_with(|| Swept {
                project: p.clone(),
                transcripts: Vec::new(),
                roots: BTreeSet::new(),
            });
        e.transcripts.push(t.clone());
        e.roots.insert(p.root.clone());
    }

    let actor = super::folder_actor();
    let mut projects = Vec::new();
    let mut exports: Vec<(String, PathBuf, Vec<PathBuf>)> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    for swept in by_project.values() {
        let project = &swept.project;
        let store = super::hook::find_or_create(s.as_ref(), project).await?;
        let paths: Vec<String> = swept
            .transcripts
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let report = reverie_ingest::Ingest::new(
            s.clone(),
            store.clone(),
            reverie_ingest::Options::default(),
        )
        .run(&paths, &reverie_ingest::Quiet)
        .await?;
        let mut folders = Vec::new();
        if how.export {
            let mut seen = BTreeSet::new();
            // Folders of the places the project still is; a moved project's old place is gone.
            for root in swept.roots.iter().filter(|r| r.is_dir()) {
                match super::export::memory_folder(claude_dir, root) {
                    Ok(dir) if seen.insert(dir.clone()) => {
                        // What Claude Code wrote there is read before a dream can change the
                        // memories it edited.
                        let read = super::export::read_back(
                            s.as_ref(),
                            &store,
                            &dir,
                            &swept.transcripts,
                            &actor,
                        )
                        .await;
                        match read {
                            Ok(read) => {
                                folders.push(json!({"folder": dir, "read": read}));
                                exports.push((store.clone(), dir, swept.transcripts.clone()));
                            }
                            Err(e) => problems.push(format!("{}: {e:#}", dir.display())),
                        }
                    }
                    Ok(_) => {}
                    Err(why) => problems.push(format!("{}: {why}", root.display())),
                }
            }
        }
        projects.push(json!({
            "store": project.store_name,
            "store_id": store,
            "project": project.root,
            "transcripts": paths.len(),
            "sessions_created": report.sessions_created,
            "sessions_appended": report.sessions_appended,
            "unchanged": report.unchanged,
            "failed": report.failed,
            "read_back": folders,
        }));
    }

    let mut dreams = Vec::new();
    if how.dream {
        let curators = super::super::model::Curators::load(true)?;
        let runner = reverie_dream::Runner::with_curators(s.clone(), Arc::new(curators));
        let done = if how.all_stores {
            reverie_dream::schedule::tick(&runner).await?
        } else {
            let mut done = Vec::new();
            for p in &projects {
                let id = p["store_id"].as_str().unwrap_or_default();
                done.extend(reverie_dream::schedule::dream_if_due(&runner, id).await?);
            }
            done
        };
        for d in done {
            dreams.push(json!({
                "store_id": d.memory_store_id,
                "dream_id": d.dream_id,
                "status": d.status,
            }));
        }
    }

    let mut exported = Vec::new();
    for (store, dir, transcripts) in &exports {
        match super::export::sync_folder(s.as_ref(), store, dir, transcripts, &actor).await {
            Ok(r) => exported.push(json!({"store_id": store, "export": r})),
            Err(e) => problems.push(format!("{}: {e:#}", dir.display())),
        }
    }
    Ok(json!({
        "projects": projects,
        "skipped": skipped,
        "dreams": dreams,
        "exports": exported,
        "problems": problems,
    }))
}

/// What a long-lived sweeper (the worker) saw of each transcript at its last pass: its size
/// and modification time, so that an unchanged transcript is not read again.
#[derive(Debug, Default)]
pub struct Seen(HashMap<PathBuf, (u64, std::time::SystemTime)>);

impl Seen {
    fn stamp(path: &Path) -> Option<(u64, std::time::SystemTime)> {
        let m = std::fs::metadata(path).ok()?;
        Some((m.len(), m.modified().ok()?))
    }

    /// The transcripts that changed since the last pass (all of them at the first).
    fn changed(&self, transcripts: Vec<PathBuf>) -> Vec<PathBuf> {
        transcripts
            .into_iter()
            .filter(|t| Seen::stamp(t).is_none_or(|s| self.0.get(t) != Some(&s)))
            .collect()
    }

    fn record(&mut self, transcripts: &[PathBuf]) {
        for t in transcripts {
            if let Some(s) = Seen::stamp(t) {
                self.0.insert(t.clone(), s);
            }
        }
    }
}

/// One pass of `reverie worker --claude-code`: the changed transcripts swept in, every store
/// that is due dreamed, the swept projects' memory folders read back and exported.
pub async fn worker_pass(s: Arc<dyn Store>, seen: &mut Seen) -> Result<serde_json::Value> {
    let dir = claude_dir()?.join("projects");
    let transcripts = seen.changed(transcripts_in(&dir)?);
    let how = Sweep {
        dream: true,
        all_stores: true,
        export: true,
    };
    let claude_dir = claude_dir()?;
    let report = sweep(s, &claude_dir, &transcripts, &how).await?;
    // Failed transcripts are tried again at the next pass.
    let failed: Vec<&str> = report["projects"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["failed"].as_u64().unwrap_or(0) > 0)
        .filter_map(|p| p["project"].as_str())
        .collect();
    if failed.is_empty() {
        seen.record(&transcripts);
    }
    Ok(report)
}

/// A worker pass's report, as `sync` prints it (nothing when nothing happened).
pub fn print_pass(report: &serde_json::Value) {
    let busy = ["projects", "dreams", "problems"]
        .iter()
        .any(|k| report[*k].as_array().is_some_and(|a| !a.is_empty()));
    if busy {
        let n = report["projects"].as_array().map_or(0, |a| {
            a.iter()
                .map(|p| p["transcripts"].as_u64().unwrap_or(0))
                .sum()
        });
        print_report(
            report,
            n as usize,
            &claude_dir().unwrap_or_default().join("projects"),
        );
    }
}

pub async fn run(database: Option<&str>, args: &ClaudeCodeSyncArgs, json_out: bool) -> Result<i32> {
    let dir = projects_dir(args)?;
    let transcripts = transcripts_in(&dir)?;
    let claude_dir = dir.parent().map_or_else(|| dir.clone(), Path::to_path_buf);
    let s = super::hook::open(database).await?;
    let how = Sweep {
        dream: !args.no_dream,
        all_stores: true,
        export: !args.no_export,
    };
    let mut report = sweep(s, &claude_dir, &transcripts, &how).await?;
    report["projects_dir"] = json!(dir);
    let failed: u64 = report["projects"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| p["failed"].as_u64().unwrap_or(0))
        .sum();
    let problems = report["problems"].as_array().map_or(0, Vec::len);
    if json_out {
        crate::output::json(&report);
    } else {
        print_report(&report, transcripts.len(), &dir);
    }
    Ok(if failed > 0 || problems > 0 { 5 } else { 0 })
}

fn print_report(report: &serde_json::Value, transcripts: usize, dir: &Path) {
    let empty = Vec::new();
    let list = |k: &str| report[k].as_array().unwrap_or(&empty).clone();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("?").to_string();
    emit(&format!(
        "{transcripts} transcripts swept in {}",
        dir.display()
    ));
    for p in list("projects") {
        emit(&format!(
            "  {}  {}: {} new sessions, {} grown, {} unchanged{}",
            text(&p["store"]),
            text(&p["project"]),
            p["sessions_created"],
            p["sessions_appended"],
            p["unchanged"],
            if p["failed"].as_u64().unwrap_or(0) > 0 {
                format!(", {} failed", p["failed"])
            } else {
                String::new()
            }
        ));
        for f in p["read_back"].as_array().unwrap_or(&empty) {
            print_reads(f, &empty);
        }
    }
    for s in list("skipped") {
        emit(&format!(
            "  skipped {}: no line says which folder it ran in (`cwd`)",
            text(&s)
        ));
    }
    for d in list("dreams") {
        emit(&format!(
            "  dreamed {}: {} ({})",
            text(&d["store_id"]),
            text(&d["dream_id"]),
            text(&d["status"])
        ));
    }
    for e in list("exports") {
        let x = &e["export"];
        print_reads(x, &empty);
        let n = |k: &str| x[k].as_array().map_or(0, Vec::len);
        emit(&format!(
            "  exported revision {} of {} to {}: {} files written, {} removed{}{}",
            x["revision"],
            text(&e["store_id"]),
            text(&x["folder"]),
            n("written"),
            n("removed"),
            if n("left") > 0 {
                format!(
                    ", {} left as they are (changed during the sync, read next time): {}",
                    n("left"),
                    x["left"]
                )
            } else {
                String::new()
            },
            match x["unlisted"].as_u64() {
                Some(u) if u > 0 => format!("; {u} topic files not in MEMORY.md (its limits)"),
                _ => String::new(),
            }
        ));
    }
    for p in list("problems") {
        emit(&format!("  problem: {}", text(&p)));
    }
}

/// The changes read back from a folder, one line each.
fn print_reads(folder: &serde_json::Value, empty: &Vec<serde_json::Value>) {
    for r in folder["read"].as_array().unwrap_or(empty) {
        let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
        emit(&format!(
            "  read back {} from {}: {}{}{}",
            text(&r["change"]).unwrap_or_default(),
            text(&r["file"]).unwrap_or_default(),
            text(&r["memory"]).unwrap_or_default(),
            text(&r["actor"])
                .map(|a| format!(" (by {a})"))
                .unwrap_or_default(),
            text(&r["detail"])
                .map(|d| format!(" — {d}"))
                .unwrap_or_default(),
        ));
    }
}

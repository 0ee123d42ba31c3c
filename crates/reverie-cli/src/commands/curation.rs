//! `reverie bench curation`: does a dream over real agent sessions keep what a careful curator
//! would keep, and nothing else?
//!
//! The answer key is a gold file (`reverie-curation-gold/1`, `../shared/data/transcripts/
//! gold.json` and its GOLD.md): for each project, the transcripts in the order the sessions
//! happened, the notes an expert kept as machine-checkable tests (`expect` strings and a recall
//! `query`), and junk strings a good memory never holds. For each project a fresh store gets
//! its transcripts ingested in order and dreamed, then every test is scored:
//!
//! - *present*: some live entry contains every `expect` string (case-insensitive);
//! - *retrieved*: `recall(query)` puts such an entry among its first [`TOP_K`];
//!
//! and *junk hits* are the live entries that contain a junk string. The memory's size is
//! reported against the transcripts' (a memory that copies the transcripts is not a memory).
//! A second store is dreamed after every session (growth), to show how the memory builds up
//! over time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use reverie_core::dream::{
    DETERMINISTIC_MODEL, DreamInput, DreamStatus, ModelParam, NewDream, OutputBehavior,
};
use reverie_core::entry::Document;
use reverie_core::search::RecallQuery;
use reverie_core::{Error, Timestamp};
use reverie_ingest::pipeline::{Ingest, Options, Quiet};
use reverie_ingest::report::FileStatus;
use reverie_store::{NewStore, Store};
use serde::{Deserialize, Serialize};

use crate::cli::BenchCurationArgs;
use crate::output::{emit, json};

/// The gold file's format tag.
pub const GOLD_FORMAT: &str = "reverie-curation-gold/1";
/// A test is retrieved when recall ranks a matching entry among this many.
pub const TOP_K: usize = 5;
/// Most sessions one dream takes (the contract's limit).
const SESSIONS_PER_DREAM: usize = reverie_core::dream::MAX_SESSIONS;

/// The answer key.
#[derive(Debug, Clone, Deserialize)]
pub struct Gold {
    pub format: String,
    pub projects: Vec<GoldProject>,
}

/// One project of the answer key.
#[derive(Debug, Clone, Deserialize)]
pub struct GoldProject {
    pub project: String,
    /// Transcript files, relative to the data folder, in the order the sessions happened.
    pub files: Vec<String>,
    #[serde(default)]
    pub tests: Vec<GoldTest>,
    #[serde(default)]
    pub junk: Vec<String>,
}

/// One note an expert would keep, as a test.
#[derive(Debug, Clone, Deserialize)]
pub struct GoldTest {
    pub id: String,
    #[serde(default)]
    pub kind: String,
    pub query: String,
    pub expect: Vec<String>,
}

/// Reads and checks a gold file.
pub fn load_gold(path: &Path) -> Result<Gold> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let gold: Gold = serde_json::from_slice(&bytes).map_err(|e| {
        Error::invalid(
            "gold",
            format!("{}: not a {GOLD_FORMAT} file: {e}", path.display()),
        )
    })?;
    if gold.format != GOLD_FORMAT {
        return Err(Error::invalid(
            "gold",
            format!(
                "{}: format is {:?}, expected {GOLD_FORMAT:?}",
                path.display(),
                gold.format
            ),
        )
        .into());
    }
    for p in &gold.projects {
        if p.files.is_empty() {
            return Err(Error::invalid(
                "gold",
                format!("{}: project {:?} names no files", path.display(), p.project),
            )
            .into());
        }
        for t in &p.tests {
            if t.expect.is_empty() || t.expect.iter().any(|e| e.trim().is_empty()) {
                return Err(Error::invalid(
                    "gold",
                    format!(
                        "{}: test {:?} has an empty expect list or string",
                        path.display(),
                        t.id
                    ),
                )
                .into());
            }
        }
    }
    Ok(gold)
}

/// Whether `text` holds every one of `expect`, ignoring case.
pub fn holds_all(text: &str, expect: &[String]) -> bool {
    let text = text.to_lowercase();
    expect.iter().all(|e| text.contains(&e.to_lowercase()))
}

/// The live entries of a store's memories, the index memory left out (it only names files).
pub fn live_entries(memories: &[reverie_core::Memory], index_path: &str) -> Vec<String> {
    memories
        .iter()
        .filter(|m| m.path != index_path)
        .filter_map(|m| m.content.as_deref())
        .flat_map(|c| {
            Document::parse(c)
                .entries()
                .into_iter()
                .map(|e| e.body)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// One test's result.
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    pub id: String,
    pub kind: String,
    pub present: bool,
    pub retrieved: bool,
}

/// The score of a memory against one project's tests and junk.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Score {
    pub tests: usize,
    pub present: usize,
    pub retrieved: usize,
    pub junk_hits: usize,
    pub entries: usize,
    pub memory_bytes: u64,
}

/// One project's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectOutcome {
    pub project: String,
    pub sessions: usize,
    pub transcript_bytes: u64,
    pub candidates: i64,
    pub dream_ms: u128,
    pub score: Score,
    pub results: Vec<TestResult>,
    /// The junk entries found, each with the junk string it holds.
    pub junk: Vec<(String, String)>,
    /// After each session of the growth run: (sessions so far, retrieved, present, bytes).
    pub growth: Vec<(usize, usize, usize, u64)>,
}

/// A fresh store in its own database under `dir`.
pub(super) async fn fresh(dir: &Path, name: &str) -> Result<(Arc<dyn Store>, String)> {
    let url = dir.join(format!("{}.db", sanitize(name)));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", url.display()));
    }
    let s = reverie_store::open(&url.display().to_string()).await?;
    let id = s
        .create_store(NewStore {
            name: name.to_string(),
            description: "reverie bench curation".into(),
            ..Default::default()
        })
        .await?
        .id;
    Ok((s, id))
}

/// Ingests one file; the session it made or grew.
pub(super) async fn ingest(s: &Arc<dyn Store>, store: &str, file: &Path) -> Result<Option<String>> {
    let arg = file.display().to_string();
    let report = Ingest::new(s.clone(), store, Options::default())
        .run(&[arg], &Quiet)
        .await?;
    let Some(f) = report.files.first() else {
        bail!("{}: nothing ingested", file.display());
    };
    if f.status == FileStatus::Failed {
        bail!(
            "{}: ingest failed: {}",
            file.display(),
            f.error.as_deref().unwrap_or("")
        );
    }
    Ok(f.session_id.clone())
}

/// Dreams `sessions` into the store in place; the candidates the dreams found, and the dreams.
pub(super) async fn dream(
    s: &Arc<dyn Store>,
    store: &str,
    sessions: &[String],
    curator: &Arc<dyn reverie_curate::Curator>,
) -> Result<(i64, Vec<String>)> {
    let runner = reverie_dream::Runner::new(s.clone(), curator.clone());
    let mut candidates = 0;
    let mut dreams = Vec::new();
    for chunk in sessions.chunks(SESSIONS_PER_DREAM) {
        let d = runner
            .create(NewDream {
                inputs: vec![
                    DreamInput::MemoryStore {
                        memory_store_id: store.to_string(),
                    },
                    DreamInput::Sessions {
                        session_ids: chunk.to_vec(),
                    },
                ],
                model: ModelParam::Id(DETERMINISTIC_MODEL.into()),
                instructions: None,
                output_behavior: Some(OutputBehavior::UpdateExisting {
                    memory_store_id: store.to_string(),
                }),
                review: Some(false),
            })
            .await?;
        let d = runner.run(&d.id).await?;
        if d.status != DreamStatus::Completed {
            bail!(
                "the dream did not complete: {}",
                d.error.map(|e| e.message).unwrap_or_default()
            );
        }
        if let Some(c) = s.dream_changeset(&d.id).await? {
            candidates += c.stats.candidates;
            if let Some(run) = &c.curator {
                eprint!("  {}", reverie_curate::report::curator_line(run));
            }
        }
        dreams.push(d.id);
    }
    Ok((candidates, dreams))
}

/// Scores a store's memory against a project's tests and junk.
async fn score(
    s: &Arc<dyn Store>,
    store: &str,
    project: &GoldProject,
) -> Result<(Score, Vec<TestResult>, Vec<(String, String)>)> {
    let state = s.store_state(store).await?;
    let entries = live_entries(&state.memories, &state.policy.budget.index_path);
    let mut out = Score {
        tests: project.tests.len(),
        entries: entries.len(),
        memory_bytes: state
            .memories
            .iter()
            .map(|m| m.content.as_deref().map_or(0, str::len) as u64)
            .sum(),
        ..Score::default()
    };
    let mut results = Vec::new();
    for t in &project.tests {
        let present = entries.iter().any(|e| holds_all(e, &t.expect));
        let mut q = RecallQuery::new(t.query.clone());
        q.limit = TOP_K;
        let retrieved = s
            .recall(store, &q)
            .await?
            .iter()
            .any(|r| holds_all(&r.text, &t.expect));
        out.present += usize::from(present);
        out.retrieved += usize::from(retrieved);
        results.push(TestResult {
            id: t.id.clone(),
            kind: t.kind.clone(),
            present,
            retrieved,
        });
    }
    let mut junk = Vec::new();
    for e in &entries {
        let lower = e.to_lowercase();
        if let Some(j) = project
            .junk
            .iter()
            .find(|j| lower.contains(&j.to_lowercase()))
        {
            junk.push((j.clone(), e.clone()));
        }
    }
    out.junk_hits = junk.len();
    Ok((out, results, junk))
}

/// Runs one project: one dream over every session, then a dream after each session.
pub async fn run_project(
    project: &GoldProject,
    data: &Path,
    dir: &Path,
    growth: bool,
    curator: &Arc<dyn reverie_curate::Curator>,
) -> Result<ProjectOutcome> {
    let files: Vec<PathBuf> = project.files.iter().map(|f| data.join(f)).collect();
    let mut transcript_bytes = 0;
    for f in &files {
        transcript_bytes += std::fs::metadata(f)
            .with_context(|| format!("{}: cannot read {}", project.project, f.display()))?
            .len();
    }
    let (s, store) = fresh(dir, &project.project).await?;
    let mut sessions = Vec::new();
    for f in &files {
        if let Some(id) = ingest(&s, &store, f).await?
            && !sessions.contains(&id)
        {
            sessions.push(id);
        }
    }
    let started = Instant::now();
    let (candidates, _) = dream(&s, &store, &sessions, curator)
        .await
        .with_context(|| project.project.clone())?;
    let dream_ms = started.elapsed().as_millis();
    let (scored, results, junk) = score(&s, &store, project).await?;

    let mut series = Vec::new();
    if growth {
        let (g, gstore) = fresh(dir, &format!("{}-growth", project.project)).await?;
        for (i, f) in files.iter().enumerate() {
            if let Some(id) = ingest(&g, &gstore, f).await? {
                dream(&g, &gstore, &[id], curator)
                    .await
                    .with_context(|| format!("{} (growth, {})", project.project, f.display()))?;
            }
            let (sc, _, _) = score(&g, &gstore, project).await?;
            series.push((i + 1, sc.retrieved, sc.present, sc.memory_bytes));
        }
    }
    Ok(ProjectOutcome {
        project: project.project.clone(),
        sessions: sessions.len(),
        transcript_bytes,
        candidates,
        dream_ms,
        score: scored,
        results,
        junk,
        growth: series,
    })
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * n as f64 / d as f64)
    }
}

/// The totals over every project.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub projects: usize,
    pub sessions: usize,
    pub tests: usize,
    pub present: usize,
    pub retrieved: usize,
    pub junk_hits: usize,
    pub entries: usize,
    pub memory_bytes: u64,
    pub transcript_bytes: u64,
    pub candidates: i64,
    pub dream_ms: u128,
}

pub fn totals(outcomes: &[ProjectOutcome]) -> Totals {
    let mut t = Totals::default();
    for o in outcomes {
        t.projects += 1;
        t.sessions += o.sessions;
        t.tests += o.score.tests;
        t.present += o.score.present;
        t.retrieved += o.score.retrieved;
        t.junk_hits += o.score.junk_hits;
        t.entries += o.score.entries;
        t.memory_bytes += o.score.memory_bytes;
        t.transcript_bytes += o.transcript_bytes;
        t.candidates += o.candidates;
        t.dream_ms += o.dream_ms;
    }
    t
}

fn print_report(outcomes: &[ProjectOutcome], verbose: bool) {
    let mut rows = vec![vec![
        "project".to_string(),
        "sessions".into(),
        "tests".into(),
        "present".into(),
        "retrieved".into(),
        "junk".into(),
        "entries".into(),
        "memory".into(),
        "of transcripts".into(),
        "dream".into(),
    ]];
    let t = totals(outcomes);
    let row = |name: &str,
               sessions: usize,
               tests: usize,
               present: usize,
               retrieved: usize,
               junk: usize,
               entries: usize,
               mem: u64,
               tr: u64,
               ms: u128| {
        vec![
            name.to_string(),
            sessions.to_string(),
            tests.to_string(),
            format!("{present} ({})", pct(present, tests)),
            format!("{retrieved} ({})", pct(retrieved, tests)),
            junk.to_string(),
            entries.to_string(),
            format!("{mem} B"),
            if tr == 0 {
                "-".into()
            } else {
                format!("{:.2}%", 100.0 * mem as f64 / tr as f64)
            },
            format!("{ms} ms"),
        ]
    };
    for o in outcomes {
        rows.push(row(
            &o.project,
            o.sessions,
            o.score.tests,
            o.score.present,
            o.score.retrieved,
            o.score.junk_hits,
            o.score.entries,
            o.score.memory_bytes,
            o.transcript_bytes,
            o.dream_ms,
        ));
    }
    rows.push(row(
        "total",
        t.sessions,
        t.tests,
        t.present,
        t.retrieved,
        t.junk_hits,
        t.entries,
        t.memory_bytes,
        t.transcript_bytes,
        t.dream_ms,
    ));
    crate::output::table(&rows);
    let grown: Vec<&ProjectOutcome> = outcomes.iter().filter(|o| o.growth.len() > 1).collect();
    if !grown.is_empty() {
        emit("");
        emit("growth (a dream after each session): retrieved after session 1, 2, …");
        for o in grown {
            let steps: Vec<String> = o.growth.iter().map(|g| g.1.to_string()).collect();
            emit(&format!(
                "  {}: {} of {} ({} B at the end)",
                o.project,
                steps.join(" "),
                o.score.tests,
                o.growth.last().map_or(0, |g| g.3)
            ));
        }
    }
    if verbose {
        for o in outcomes {
            if o.results.is_empty() && o.junk.is_empty() {
                continue;
            }
            emit("");
            emit(&format!("{}:", o.project));
            for r in &o.results {
                let mark = match (r.retrieved, r.present) {
                    (true, _) => "retrieved",
                    (false, true) => "present  ",
                    _ => "missing  ",
                };
                emit(&format!("  {mark}  {} ({})", r.id, r.kind));
            }
            for (j, e) in &o.junk {
                emit(&format!("  junk {j:?}: {e}"));
            }
        }
    }
}

pub async fn run(a: BenchCurationArgs, json_out: bool) -> Result<i32> {
    let gold_path = a.gold.clone().unwrap_or_else(|| a.data.join("gold.json"));
    let gold = load_gold(&gold_path)?;
    if !a.data.is_dir() {
        return Err(Error::invalid("data", format!("{} is not a folder", a.data.display())).into());
    }
    let projects: Vec<&GoldProject> = gold
        .projects
        .iter()
        .filter(|p| a.project.is_empty() || a.project.iter().any(|n| n == &p.project))
        .collect();
    if projects.is_empty() {
        return Err(Error::invalid(
            "project",
            format!(
                "no project of {} is named {:?}",
                gold_path.display(),
                a.project
            ),
        )
        .into());
    }
    let (dir, scratch) = match &a.keep {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!(
                "reverie-bench-curation-{}-{}",
                std::process::id(),
                Timestamp::now().0
            )),
            true,
        ),
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot make the folder {}", dir.display()))?;
    let curator: Arc<dyn reverie_curate::Curator> = match &a.model {
        None => Arc::new(reverie_curate::Deterministic),
        Some(m) => {
            let curators = super::model::Curators::load(false)?;
            reverie_dream::CuratorSource::curator(&curators, m)
                .map_err(|why| Error::invalid("model", why))?
        }
    };
    let mut outcomes = Vec::new();
    let mut result = Ok(());
    for p in projects {
        if !json_out {
            eprintln!("reverie: {} ({} files)…", p.project, p.files.len());
        }
        match run_project(p, &a.data, &dir, !a.no_growth, &curator).await {
            Ok(o) => outcomes.push(o),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    if scratch {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result?;
    if json_out {
        let by_project: BTreeMap<&str, &ProjectOutcome> =
            outcomes.iter().map(|o| (o.project.as_str(), o)).collect();
        json(&serde_json::json!({
            "gold": gold_path.display().to_string(),
            "top_k": TOP_K,
            "total": totals(&outcomes),
            "projects": by_project,
        }));
    } else {
        print_report(&outcomes, a.verbose);
    }
    Ok(gate(&totals(&outcomes), a.fail_under, a.max_junk))
}

/// The exit status the gates give: 1, with the reason on standard error, when the share of
/// tests retrieved is under `fail_under` percent or more junk tests than `max_junk` are hit.
fn gate(t: &Totals, fail_under: Option<u8>, max_junk: Option<usize>) -> i32 {
    let mut status = 0;
    if let Some(pct) = fail_under
        && t.retrieved * 100 < t.tests * usize::from(pct)
    {
        eprintln!(
            "reverie: {} of {} tests retrieved, under the {pct}% required",
            t.retrieved, t.tests
        );
        status = 1;
    }
    if let Some(max) = max_junk
        && t.junk_hits > max
    {
        eprintln!(
            "reverie: {} junk tests hit, more than the {max} allowed",
            t.junk_hits
        );
        status = 1;
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_fail_under_the_share_or_over_the_junk() {
        let t = Totals {
            tests: 63,
            retrieved: 39,
            junk_hits: 1,
            ..Totals::default()
        };
        assert_eq!(gate(&t, None, None), 0);
        assert_eq!(gate(&t, Some(61), Some(1)), 0);
        assert_eq!(gate(&t, Some(62), None), 1, "39/63 is 61.9%");
        assert_eq!(gate(&t, None, Some(0)), 1);
    }

    #[test]
    fn expect_strings_match_ignoring_case() {
        let e = vec!["git add -f".to_string(), "Spotter.CSS".to_string()];
        assert!(holds_all("Use `GIT ADD -f` for spotter.css", &e));
        assert!(!holds_all("use git add for spotter.css", &e));
    }

    #[test]
    fn entries_leave_the_index_out() {
        let mem = |path: &str, content: &str| reverie_core::Memory {
            id: "mem_1".into(),
            memory_store_id: "memstore_1".into(),
            path: path.into(),
            content: Some(content.into()),
            content_sha256: String::new(),
            content_size_bytes: content.len() as i64,
            memory_version_id: "memver_1".into(),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        };
        let entries = live_entries(
            &[
                mem("/MEMORY.md", "# Memory\n\n- [lessons](lessons.md)\n"),
                mem("/lessons.md", "# x\n\n- one\n- two\n"),
            ],
            "/MEMORY.md",
        );
        assert_eq!(entries, vec!["one".to_string(), "two".to_string()]);
    }
}

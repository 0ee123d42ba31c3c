//! `reverie bench curve`: would the memory have stopped repeated failures? For each project of
//! a folder of real transcripts (the curation benchmark's answer key names them, in the order
//! they happened), the sessions are ingested one by one into a scratch store, with a dream
//! after each. Every failed tool call of a session whose signature failed in an earlier
//! session is a *repeat*; it is *covered* when a lesson about that signature (an entry an
//! earlier dream added citing one of its failures) was in memory and would have reached the
//! agent — in the top 5 of `recall` for the failing step and its error line, or in the
//! context the session would have started with.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use reverie_core::search::RecallQuery;
use reverie_curate::curve::{FailureLog, Lessons};
use reverie_curate::extract::failures;
use reverie_curate::input::SessionInput;
use reverie_store::Store;
use reverie_store::serving::{self, ContextRequest};
use serde::Serialize;

use super::curation::{dream, fresh, ingest, load_gold};
use crate::cli::BenchCurveArgs;
use crate::output::{json, table};

/// Recall's results that count as served.
const TOP: usize = 5;

/// One project's replay.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Replay {
    pub project: String,
    pub sessions: usize,
    /// Failed tool calls, and those whose signature failed in an earlier session.
    pub failures: usize,
    pub repeats: usize,
    /// Repeats with a lesson about them in memory, and those it would have reached.
    pub with_lesson: usize,
    pub covered_by_recall: usize,
    pub covered_by_context: usize,
    pub covered: usize,
}

/// Every event of a session.
async fn load(s: &dyn Store, id: &str) -> Result<SessionInput> {
    let session = s.get_session(id).await?;
    let events = reverie_dream::curve::all_events(s, id).await?;
    Ok(SessionInput { session, events })
}

/// What recall is asked for a failure: the failing step (its command, or its tool and
/// input) and the error line.
fn query_of(input: &SessionInput, seq: i64, result_seq: Option<i64>) -> String {
    let event = |q: i64| input.events.iter().find(|e| e.seq == q);
    let step = event(seq)
        .map(|e| {
            let tool = e.tool_name.clone().unwrap_or_default();
            match e
                .tool_input
                .as_ref()
                .and_then(reverie_curate::signature::command_of)
            {
                Some(cmd) => cmd,
                None => format!(
                    "{tool} {}",
                    e.tool_input
                        .as_ref()
                        .map(|v| v.to_string())
                        .unwrap_or_default()
                ),
            }
        })
        .unwrap_or_default();
    let error = result_seq
        .and_then(event)
        .and_then(|e| e.text.as_deref())
        .and_then(reverie_curate::signature::error_line)
        .unwrap_or_default();
    let q: String = format!("{step} {error}").chars().take(500).collect();
    q
}

async fn replay(
    name: &str,
    files: &[std::path::PathBuf],
    dir: &Path,
    curator: &Arc<dyn reverie_curate::Curator>,
) -> Result<Replay> {
    let (s, store) = fresh(dir, &format!("{name}-curve")).await?;
    let mut r = Replay {
        project: name.to_string(),
        ..Replay::default()
    };
    // The failures of the sessions so far, and the lessons about them the dreams left.
    let mut log = FailureLog::default();
    let mut lessons = Lessons::default();
    for f in files {
        let Some(id) = ingest(&s, &store, f).await? else {
            continue;
        };
        r.sessions += 1;
        let input = load(s.as_ref(), &id).await?;
        let fs = failures(&input);
        // What the session would have started with.
        let req = ContextRequest {
            serve: false,
            ..ContextRequest::default()
        };
        let (_, given) = serving::context_served(s.as_ref(), &store, &req).await?;
        let in_context: BTreeSet<String> = given
            .iter()
            .filter_map(|g| g.entry.as_ref().map(|e| e.id.clone()))
            .collect();
        for fl in &fs {
            r.failures += 1;
            let sig = fl.signature.key();
            if log.sessions(&sig).is_empty() {
                continue;
            }
            r.repeats += 1;
            let about = lessons.live(&sig);
            if about.is_empty() {
                continue;
            }
            r.with_lesson += 1;
            let mut q = RecallQuery::new(query_of(&input, fl.seq, fl.result_seq));
            q.limit = TOP;
            let found = s.recall(&store, &q).await?;
            let by_recall = found.iter().any(|f| {
                f.entry
                    .as_ref()
                    .is_some_and(|e| about.contains(&e.id.as_str()))
            });
            let by_context = about.iter().any(|e| in_context.contains(*e));
            r.covered_by_recall += usize::from(by_recall);
            r.covered_by_context += usize::from(by_context);
            r.covered += usize::from(by_recall || by_context);
        }
        log.add(&id, reverie_core::Timestamp::now(), &fs);
        let (_, dreams) = dream(&s, &store, std::slice::from_ref(&id), curator)
            .await
            .with_context(|| format!("{name}: {}", f.display()))?;
        for d in dreams {
            let Some(c) = s.dream_changeset(&d).await? else {
                continue;
            };
            lessons.apply(&d, reverie_core::Timestamp::now(), &c, &log);
        }
    }
    Ok(r)
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "-".into()
    } else {
        format!("{:.0}%", 100.0 * n as f64 / d as f64)
    }
}

pub async fn run(a: BenchCurveArgs, json_out: bool) -> Result<i32> {
    let gold = load_gold(&a.data.join("gold.json"))?;
    let dir = std::env::temp_dir().join(format!("reverie-bench-curve-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let curator: Arc<dyn reverie_curate::Curator> = match &a.model {
        None => Arc::new(reverie_curate::Deterministic),
        Some(m) => {
            let curators = super::model::Curators::load(false)?;
            reverie_dream::CuratorSource::curator(&curators, m)
                .map_err(|why| reverie_core::Error::invalid("model", why))?
        }
    };
    let mut replays = Vec::new();
    let mut result = Ok(());
    for p in gold
        .projects
        .iter()
        .filter(|p| p.files.len() >= 2)
        .filter(|p| a.project.is_empty() || a.project.contains(&p.project))
    {
        if !json_out {
            eprintln!("reverie: {} ({} sessions)…", p.project, p.files.len());
        }
        let files: Vec<_> = p.files.iter().map(|f| a.data.join(f)).collect();
        match replay(&p.project, &files, &dir, &curator).await {
            Ok(r) => replays.push(r),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    let sum = |f: fn(&Replay) -> usize| replays.iter().map(f).sum::<usize>();
    let total = Replay {
        project: "total".into(),
        sessions: sum(|r| r.sessions),
        failures: sum(|r| r.failures),
        repeats: sum(|r| r.repeats),
        with_lesson: sum(|r| r.with_lesson),
        covered_by_recall: sum(|r| r.covered_by_recall),
        covered_by_context: sum(|r| r.covered_by_context),
        covered: sum(|r| r.covered),
    };
    if json_out {
        json(&serde_json::json!({"top": TOP, "projects": replays, "total": total}));
        return Ok(0);
    }
    let mut rows = vec![vec![
        "project".to_string(),
        "sessions".into(),
        "failures".into(),
        "repeats".into(),
        "lesson in memory".into(),
        "recall top 5".into(),
        "context".into(),
        "covered".into(),
    ]];
    for r in replays.iter().chain(std::iter::once(&total)) {
        rows.push(vec![
            r.project.clone(),
            r.sessions.to_string(),
            r.failures.to_string(),
            r.repeats.to_string(),
            r.with_lesson.to_string(),
            r.covered_by_recall.to_string(),
            r.covered_by_context.to_string(),
            format!("{} ({})", r.covered, pct(r.covered, r.repeats)),
        ]);
    }
    table(&rows);
    Ok(0)
}

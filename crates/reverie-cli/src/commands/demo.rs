//! `reverie demo`, the README's main job: the bundled example sessions (a coding agent's two
//! weeks on a small web service, mistakes and fixes included; `examples/sessions/`) ingested
//! into a fresh store with their outcomes, one dream over them, then the changeset and the
//! resulting memory printed.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use reverie_core::dream::{
    DETERMINISTIC_MODEL, DreamInput, DreamStatus, ModelParam, NewDream, OutputBehavior,
};
use reverie_core::session::{Outcome, OutcomeStatus};
use reverie_curate::report;
use reverie_ingest::{Ingest, Options, Quiet};
use reverie_store::NewStore;

use crate::cli::DemoArgs;
use crate::context::Ctx;
use crate::exit;
use crate::output::{emit, emit_raw, json};

/// The example sessions, compiled in so that the demo runs from anywhere.
const SESSIONS: [(&str, &str); 7] = [
    (
        "2026-03-02-tally-endpoint.jsonl",
        include_str!("../../../../examples/sessions/2026-03-02-tally-endpoint.jsonl"),
    ),
    (
        "2026-03-04-admin-tallies-page.jsonl",
        include_str!("../../../../examples/sessions/2026-03-04-admin-tallies-page.jsonl"),
    ),
    (
        "2026-03-06-export-csv.jsonl",
        include_str!("../../../../examples/sessions/2026-03-06-export-csv.jsonl"),
    ),
    (
        "2026-03-09-pr-and-staging-deploy.jsonl",
        include_str!("../../../../examples/sessions/2026-03-09-pr-and-staging-deploy.jsonl"),
    ),
    (
        "2026-03-11-idempotency-keys.jsonl",
        include_str!("../../../../examples/sessions/2026-03-11-idempotency-keys.jsonl"),
    ),
    (
        "2026-03-13-staging-db-port.jsonl",
        include_str!("../../../../examples/sessions/2026-03-13-staging-db-port.jsonl"),
    ),
    (
        "2026-03-16-export-streaming.jsonl",
        include_str!("../../../../examples/sessions/2026-03-16-export-streaming.jsonl"),
    ),
];
const OUTCOMES: &str = include_str!("../../../../examples/sessions/outcomes.json");

/// A store name not taken yet: `name`, else `name-2`, `name-3`…
async fn fresh_name(ctx: &Ctx, name: &str) -> Result<String> {
    for n in 1.. {
        let candidate = if n == 1 {
            name.to_string()
        } else {
            format!("{name}-{n}")
        };
        if ctx.store.stores_named(&candidate).await?.is_empty() {
            return Ok(candidate);
        }
    }
    unreachable!("some name is free")
}

pub async fn run(ctx: &Ctx, a: DemoArgs) -> Result<i32> {
    let outcomes: serde_json::Value = serde_json::from_str(OUTCOMES).context("outcomes.json")?;
    let name = fresh_name(ctx, &a.name).await?;
    let st = ctx
        .store
        .create_store(NewStore {
            name: name.clone(),
            description: "reverie demo: a coding agent's sessions on tallyho, dreamed".into(),
            ..NewStore::default()
        })
        .await?;
    if !ctx.json {
        emit(&format!(
            "== 1. ingest: {} example sessions into a new store {name} ({})",
            SESSIONS.len(),
            st.id
        ));
    }

    // The sessions go through the real ingest (redaction included), from a scratch folder.
    let dir = std::env::temp_dir().join(format!("reverie-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut session_ids = Vec::new();
    let (mut events, mut redacted) = (0u64, 0u64);
    for (file, text) in SESSIONS {
        let path = dir.join(file);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        let o = &outcomes[file];
        let outcome = Outcome {
            status: OutcomeStatus::parse(o["outcome"].as_str().unwrap_or("partial"))?,
            score: o["score"].as_f64(),
            note: o["note"].as_str().map(str::to_string),
        };
        let options = Options {
            outcome: Some(outcome.clone()),
            ..Options::default()
        };
        let report = Ingest::new(ctx.store.clone(), st.id.clone(), options)
            .run(&[path.display().to_string()], &Quiet)
            .await?;
        let f = report.files.first().context("one file ingested")?;
        let id = f.session_id.clone().with_context(|| {
            format!(
                "{file} was not ingested: {}",
                f.error.clone().unwrap_or_default()
            )
        })?;
        events += report.events_added;
        redacted += report.redactions.total();
        if !ctx.json {
            emit(&format!(
                "   {file}: {id}, {} events, {}{}",
                report.events_added,
                outcome.status.as_str(),
                if report.redactions.total() > 0 {
                    format!(", {} secrets redacted", report.redactions.total())
                } else {
                    String::new()
                }
            ));
        }
        session_ids.push(id);
    }
    let _ = std::fs::remove_dir_all(&dir);
    if !ctx.json {
        emit(&format!(
            "   {events} events; {redacted} secrets redacted before anything was stored"
        ));
    }

    // Two dreams, as a scheduler would run them: the first week, then the next.
    let runner =
        reverie_dream::Runner::new(ctx.store.clone(), Arc::new(reverie_curate::Deterministic));
    let (first, second) = session_ids.split_at(4);
    let mut dreams = Vec::new();
    for (n, sessions, review) in [(1, first, false), (2, second, a.review)] {
        if !ctx.json {
            emit("");
            emit(&format!(
                "== {}. dream {n}: the deterministic curator over the {} sessions, in place{}",
                n + 1,
                if n == 1 { "first four" } else { "next three" },
                if review { ", as a proposal" } else { "" }
            ));
        }
        let new = NewDream {
            inputs: vec![
                DreamInput::MemoryStore {
                    memory_store_id: st.id.clone(),
                },
                DreamInput::Sessions {
                    session_ids: sessions.to_vec(),
                },
            ],
            model: ModelParam::Id(DETERMINISTIC_MODEL.to_string()),
            instructions: None,
            output_behavior: Some(OutputBehavior::UpdateExisting {
                memory_store_id: st.id.clone(),
            }),
            review: Some(review),
        };
        let d = runner.create(new).await?;
        let d = runner.run(&d.id).await?;
        let changeset = ctx.store.dream_changeset(&d.id).await?;
        if !ctx.json {
            emit(&format!("   dream {}: {}", d.id, d.status.as_str()));
            if let Some(e) = &d.error {
                emit(&format!("   {}: {}", e.kind, e.message));
                return Ok(exit::REPORTED);
            }
            if let Some(cs) = &changeset {
                let text = report::summary(cs);
                // The first dream's long list of additions is a command away; the second shows
                // what curation does to a memory that already exists.
                let lines: Vec<&str> = if n == 1 {
                    text.lines().take(2).collect()
                } else {
                    text.lines().collect()
                };
                for line in lines {
                    emit(&format!("   {line}"));
                }
                if n == 1 {
                    emit(&format!(
                        "   (every operation: reverie dreams show {})",
                        d.id
                    ));
                }
            }
        }
        dreams.push((d, changeset));
    }
    let d = dreams.last().expect("two dreams").0.clone();
    let state = ctx.store.store_state(&st.id).await?;
    if ctx.json {
        json(&serde_json::json!({
            "store": st.id,
            "dreams": dreams.iter().map(|(d, c)| serde_json::json!({"dream": d, "changeset": c})).collect::<Vec<_>>(),
            "memories": state.memories.iter().map(|m| serde_json::json!({"path": m.path, "content": m.content})).collect::<Vec<_>>(),
        }));
        return Ok(if d.status == DreamStatus::Completed {
            0
        } else {
            exit::REPORTED
        });
    }
    emit("");
    if a.review {
        emit(&format!(
            "== 4. a proposal: nothing of dream 2 is applied until `reverie dreams approve {}`",
            d.id
        ));
        return Ok(0);
    }
    emit("== 4. the resulting memory");
    let index = state.policy.budget.index_path.clone();
    let mut memories = state.memories;
    // The index first: it is what an agent reads at the start of every session.
    memories.sort_by_key(|m| (m.path != index, m.path.clone()));
    for m in memories {
        emit("");
        emit(&format!("--- {} ({} bytes)", m.path, m.content_size_bytes));
        emit_raw(m.content.as_deref().unwrap_or(""));
    }
    emit("");
    emit(&format!(
        "Explore: reverie dreams show {} --diff · reverie entries ls -s {name} · reverie dreams revert {}",
        d.id, d.id
    ));
    Ok(0)
}

//! `reverie bench model-input`: what a model dream sends, without a model. A counting model
//! answers every request with no operations and keeps the request's size; each dream runs over
//! a generated store (the `bench dream` generator, fixed seed) in a scratch SQLite database.
//! Two series: the store at several sizes with the same new sessions (the input should stay
//! flat: it grows with the new evidence, not with the store), and more new sessions with the
//! same store (it should grow linearly). Beside each, what sending the whole store and the
//! sessions would take, and the cost at Claude Sonnet 4.6's list price.

use std::sync::{Arc, Mutex};

use anyhow::{Result, bail};
use async_trait::async_trait;
use rand::SeedableRng;
use reverie_core::dream::{DreamInput, DreamStatus, ModelParam, NewDream, OutputBehavior};
use reverie_curate::model::prompt::estimate_tokens;
use reverie_curate::model::{
    ModelClient, ModelCurator, ModelError, ModelReply, ModelRequest, Price, StopReason, Usage,
};

use super::bench::{generate_session, generate_store};
use crate::cli::BenchModelInputArgs;
use crate::output::{emit, json, table};

/// The model whose list price the costs are given at.
const PRICED_AS: &str = "claude-sonnet-4-6";

/// A model that answers nothing and counts what it was sent.
#[derive(Debug, Default)]
struct Counting {
    /// (estimated input tokens, bytes of the user message) per request.
    seen: Mutex<Vec<(u64, usize)>>,
}

#[async_trait]
impl ModelClient for Counting {
    fn name(&self) -> &str {
        "counting"
    }

    fn price(&self) -> Option<Price> {
        None
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelReply, ModelError> {
        let tokens = estimate_tokens(request);
        self.seen
            .lock()
            .expect("the counter's lock")
            .push((tokens, request.user.len()));
        Ok(ModelReply {
            output: serde_json::json!({"ops": []}),
            usage: Usage {
                input_tokens: tokens as i64,
                ..Usage::default()
            },
            stop: StopReason::Complete,
            model: "counting".into(),
        })
    }
}

fn scales(s: &str, what: &str) -> Result<Vec<usize>> {
    s.split(',')
        .map(|x| {
            x.trim()
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| anyhow::anyhow!("{what}: {x:?} is not a positive whole number"))
        })
        .collect()
}

/// One dream: a store of `memories` memories, `sessions` new sessions of `turns` turns.
async fn one(memories: usize, sessions: usize, turns: usize) -> Result<serde_json::Value> {
    let dir = std::env::temp_dir().join(format!(
        "reverie-bench-model-input-{}-{memories}-{sessions}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir)?;
    let url = dir.join("bench.db").display().to_string();
    let s = reverie_store::open(&url).await?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let (store, store_bytes) = generate_store(&s, memories, &mut rng).await?;
    // The sessions come from a generator of their own, so that every store size reads the
    // same sessions.
    let mut srng = rand::rngs::StdRng::seed_from_u64(7);
    let mut ids = Vec::new();
    for k in 0..sessions {
        ids.push(generate_session(&s, &store, k, turns, &mut srng).await?.0);
    }
    let mut session_bytes = 0u64;
    for id in &ids {
        for e in s.session_events(id, -1, 10_000).await? {
            session_bytes += e.text.as_deref().map_or(0, str::len) as u64;
        }
    }
    let counting = Arc::new(Counting::default());
    let curator = ModelCurator::new(counting.clone());
    let runner = reverie_dream::Runner::new(s.clone(), Arc::new(curator));
    let d = runner
        .create(NewDream {
            inputs: vec![
                DreamInput::MemoryStore {
                    memory_store_id: store.clone(),
                },
                DreamInput::Sessions { session_ids: ids },
            ],
            model: ModelParam::Id("counting".into()),
            instructions: None,
            output_behavior: Some(OutputBehavior::UpdateExisting {
                memory_store_id: store.clone(),
            }),
            review: Some(true),
        })
        .await?;
    let (d, _) = runner.run_timed(&d.id).await?;
    if d.status != DreamStatus::Completed {
        bail!("the dream did not complete: {:?}", d.error);
    }
    drop(runner);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
    let seen = counting.seen.lock().expect("the counter's lock").clone();
    let tokens: u64 = seen.iter().map(|(t, _)| t).sum();
    // Sending everything: the store's bytes and the sessions' text, at the same four bytes a
    // token, with the same instructions once per request of at most a chunk.
    let whole_bytes = store_bytes + session_bytes;
    let whole_requests = whole_bytes.div_ceil(reverie_curate::model::prompt::CHUNK_BYTES as u64);
    let per_request_fixed = seen
        .iter()
        .map(|(t, b)| t.saturating_sub((*b as u64).div_ceil(4)))
        .max()
        .unwrap_or(0);
    let whole_tokens = whole_bytes.div_ceil(4) + whole_requests * per_request_fixed;
    let price = reverie_model::price::list_price(PRICED_AS);
    let cost = |t: u64| {
        price.map(|p| {
            p.cost(&Usage {
                input_tokens: t as i64,
                ..Usage::default()
            })
        })
    };
    Ok(serde_json::json!({
        "memories": memories,
        "store_bytes": store_bytes,
        "sessions": sessions,
        "session_bytes": session_bytes,
        "requests": seen.len(),
        "input_tokens": tokens,
        "cost_usd": cost(tokens),
        "whole_store_tokens": whole_tokens,
        "whole_store_cost_usd": cost(whole_tokens),
    }))
}

pub async fn model_input(a: BenchModelInputArgs, json_out: bool) -> Result<i32> {
    let mut rows = Vec::new();
    for k in scales(&a.store_scales, "--store-scales")? {
        if !json_out {
            emit(&format!(
                "reverie: store {k}× ({} memories), {} new sessions…",
                a.memories * k,
                a.sessions_at
            ));
        }
        let mut r = one(a.memories * k, a.sessions_at, a.turns).await?;
        r["series"] = "store".into();
        r["scale"] = k.into();
        rows.push(r);
    }
    for n in scales(&a.sessions, "--sessions")? {
        if !json_out {
            emit(&format!(
                "reverie: store 1× ({} memories), {n} new sessions…",
                a.memories
            ));
        }
        let mut r = one(a.memories, n, a.turns).await?;
        r["series"] = "sessions".into();
        r["scale"] = n.into();
        rows.push(r);
    }
    if json_out {
        json(&serde_json::json!({"priced_as": PRICED_AS, "runs": rows}));
        return Ok(0);
    }
    let base = |series: &str| {
        rows.iter()
            .find(|r| r["series"] == series)
            .and_then(|r| r["input_tokens"].as_u64())
            .unwrap_or(1)
            .max(1)
    };
    let usd = |v: &serde_json::Value| {
        v.as_f64()
            .map(|c| format!("${c:.3}"))
            .unwrap_or_else(|| "-".into())
    };
    let mut body: Vec<Vec<String>> = vec![
        [
            "run",
            "memories",
            "sessions",
            "requests",
            "input tokens",
            "growth",
            "cost",
            "whole store tokens",
            "whole store cost",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    ];
    body.extend(rows.iter().map(|r| {
        let series = r["series"].as_str().unwrap_or("");
        let tokens = r["input_tokens"].as_u64().unwrap_or(0);
        vec![
            match series {
                "store" => format!("store {}×", r["scale"]),
                _ => format!("{} sessions", r["scale"]),
            },
            r["memories"].to_string(),
            r["sessions"].to_string(),
            r["requests"].to_string(),
            tokens.to_string(),
            format!("{:.2}×", tokens as f64 / base(series) as f64),
            usd(&r["cost_usd"]),
            r["whole_store_tokens"].to_string(),
            usd(&r["whole_store_cost_usd"]),
        ]
    }));
    table(&body);
    emit(&format!(
        "(input tokens as the budget estimates them, four bytes a token; costs at {PRICED_AS}'s list price)"
    ));
    Ok(0)
}

//! `reverie dream` and `reverie dreams …`: curating a store from its sessions, and reviewing,
//! deciding, canceling and reverting dreams.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Result;
use reverie_core::dream::{
    DETERMINISTIC_MODEL, Dream, DreamInput, DreamStatus, ModelParam, NewDream, OutputBehavior,
    ReviewState,
};
use reverie_core::{Error, Timestamp};
use reverie_curate::report;
use reverie_dream::Runner;
use reverie_store::{DreamQuery, Store};

use crate::cli::{DreamArgs, DreamsCmd};
use crate::context::Ctx;
use crate::exit;
use crate::output::{emit, json, table};

/// The runner and model of a new dream: `--replay`'s recorded answers, `--model`, the store's
/// policy, or the config file's default — and an error, never a fallback, when no provider
/// serves it.
async fn dream_runner(
    ctx: &Ctx,
    a: &DreamArgs,
    policy_model: Option<&str>,
) -> Result<(Runner, String)> {
    if let Some(id) = &a.replay {
        let d = ctx.store.get_dream(id).await?;
        let run = ctx
            .store
            .dream_changeset(&d.id)
            .await?
            .and_then(|cs| cs.curator)
            .filter(|r| !r.exchanges.is_empty())
            .ok_or_else(|| {
                Error::invalid(
                    "replay",
                    format!("dream {} recorded no model exchanges to replay", d.id),
                )
            })?;
        let replay = reverie_curate::model::Replay::new(&run.curator, &run.exchanges)
            .map_err(|e| Error::invalid("replay", e))?;
        let curator = reverie_curate::model::ModelCurator::new(Arc::new(replay));
        return Ok((
            Runner::new(ctx.store.clone(), Arc::new(curator)),
            run.curator.clone(),
        ));
    }
    let curators = super::model::Curators::load(false)?;
    let model = a
        .model
        .clone()
        .or_else(|| policy_model.map(str::to_string))
        .unwrap_or_else(|| curators.config.dream_model.clone());
    if let Err(why) = reverie_dream::CuratorSource::curator(&curators, &model) {
        return Err(Error::invalid("model", why).into());
    }
    Ok((
        Runner::with_curators(ctx.store.clone(), Arc::new(curators)),
        model,
    ))
}

pub async fn dream(ctx: &Ctx, a: DreamArgs) -> Result<i32> {
    let st = ctx.store_ref(&a.store.store).await?;
    let mut sessions = a.sessions.clone();
    if sessions.is_empty() {
        sessions = reverie_dream::schedule::undreamed(ctx.store.as_ref(), &st.id).await?;
        if sessions.is_empty() {
            if ctx.json {
                json(&serde_json::json!({"dream": null, "reason": "no sessions to read"}));
            } else {
                emit(&format!(
                    "nothing to dream: every session of {} was read by an earlier dream (ingest more, or name sessions)",
                    st.name
                ));
            }
            return Ok(0);
        }
        if sessions.len() > reverie_core::dream::MAX_SESSIONS {
            if !ctx.json {
                emit(&format!(
                    "{} sessions are new; this dream reads the oldest {} (run it again for the rest)",
                    sessions.len(),
                    reverie_core::dream::MAX_SESSIONS
                ));
            }
            sessions.truncate(reverie_core::dream::MAX_SESSIONS);
        }
    }
    let policy = ctx.store.get_policy(&st.id).await?;
    let (r, model) = dream_runner(ctx, &a, policy.model.curator.as_deref()).await?;
    let output_behavior = match a.output.as_str() {
        "update" => OutputBehavior::UpdateExisting {
            memory_store_id: st.id.clone(),
        },
        "new" => OutputBehavior::CreateNew,
        other => {
            return Err(Error::invalid("output", format!("{other:?} is not update or new")).into());
        }
    };
    let new = NewDream {
        inputs: vec![
            DreamInput::MemoryStore {
                memory_store_id: st.id.clone(),
            },
            DreamInput::Sessions {
                session_ids: sessions,
            },
        ],
        model: ModelParam::Id(if model == "deterministic" {
            DETERMINISTIC_MODEL.to_string()
        } else {
            model
        }),
        instructions: a.instructions.clone(),
        output_behavior: Some(output_behavior),
        review: if a.review {
            Some(true)
        } else if a.no_review {
            Some(false)
        } else {
            None
        },
    };
    let d = r.create(new).await?;
    let d = r.run(&d.id).await?;
    report_dream(ctx, &d, a.diff).await
}

/// Prints a dream: its status, then its changeset (and diffs); the exit code says whether it
/// completed.
async fn report_dream(ctx: &Ctx, d: &Dream, diff: bool) -> Result<i32> {
    report_dream_with(ctx, d, diff, false).await
}

/// [`report_dream`]; a model dream's exchanges (large: every request) only when asked.
async fn report_dream_with(ctx: &Ctx, d: &Dream, diff: bool, exchanges: bool) -> Result<i32> {
    let mut changeset = ctx.store.dream_changeset(&d.id).await?;
    if !exchanges && let Some(run) = changeset.as_mut().and_then(|c| c.curator.as_mut()) {
        run.exchanges.clear();
    }
    if ctx.json {
        json(&serde_json::json!({"dream": d, "changeset": changeset}));
        return Ok(if d.status == DreamStatus::Failed {
            exit::REPORTED
        } else {
            0
        });
    }
    emit(&headline(d));
    if let Some(e) = &d.error {
        emit(&format!("  {}: {}", e.kind, e.message));
        emit("  nothing changed");
    }
    if let Some(cs) = &changeset {
        emit("");
        for line in report::summary(cs).lines() {
            emit(line);
        }
        if diff {
            for (path, before, after) in memory_diffs(ctx.store.as_ref(), d).await? {
                emit("");
                crate::output::emit_raw(&report::diff(&path, before.as_deref(), after.as_deref()));
            }
        }
    }
    if d.review
        .as_ref()
        .is_some_and(|r| r.state == ReviewState::Pending)
        && d.status == DreamStatus::Completed
    {
        let p = reverie_dream::review::pending(ctx.store.as_ref(), &d.id).await?;
        emit("");
        emit(&format!(
            "operations to decide one by one (`reverie dreams approve {} --only N,…` or `--except N,…`):",
            d.id
        ));
        for &n in &p.decidable {
            let op = &p.result.changeset.ops[n];
            let text = op.after.as_deref().or(op.before.as_deref()).unwrap_or("");
            let short: String = text.chars().take(70).collect();
            emit(&format!(
                "  {n:>3}  {:<9} {}: {}{}",
                op.op.as_str(),
                op.path,
                short.replace('\n', " "),
                if short.len() < text.len() { "…" } else { "" }
            ));
        }
        emit("");
        emit(&format!(
            "this is a proposal; nothing is applied yet: `reverie dreams approve {0}` or `reverie dreams reject {0}`",
            d.id
        ));
    }
    Ok(if d.status == DreamStatus::Failed {
        exit::REPORTED
    } else {
        0
    })
}

fn headline(d: &Dream) -> String {
    let target = match &d.output_behavior {
        OutputBehavior::UpdateExisting { .. } => "in place".to_string(),
        OutputBehavior::CreateNew => match d.outputs.first() {
            Some(o) => format!("into new store {}", o.memory_store_id),
            None => "into a new store".to_string(),
        },
    };
    let review = match &d.review {
        Some(r) => format!(", review {}", r.state.as_str()),
        None => String::new(),
    };
    let revs = match (d.applied_revision, d.reverted_revision) {
        (Some(a), Some(r)) => format!(", applied as revision {a}, reverted by revision {r}"),
        (Some(a), None) => format!(", applied as revision {a}"),
        _ => String::new(),
    };
    format!(
        "dream {} of {}: {} ({} sessions, {target}{review}{revs})",
        d.id,
        d.store_id(),
        d.status.as_str(),
        d.session_ids().len()
    )
}

/// Each memory a dream changes: (path, before, after).
async fn memory_diffs(
    store: &dyn Store,
    d: &Dream,
) -> Result<Vec<(String, Option<String>, Option<String>)>> {
    let Some(cs) = store.dream_changeset(&d.id).await? else {
        return Ok(Vec::new());
    };
    let by_id = |versions: Vec<reverie_core::MemoryVersion>| -> BTreeMap<String, String> {
        versions
            .into_iter()
            .filter(|v| v.operation != reverie_core::Operation::Deleted)
            .filter_map(|v| Some((v.memory_id, v.content?)))
            .collect()
    };
    let base = by_id(store.state_at(d.store_id(), cs.base_revision).await?);
    let applied_in_place = matches!(d.output_behavior, OutputBehavior::UpdateExisting { .. })
        && d.applied_revision.is_some();
    let after: BTreeMap<String, String> = match (applied_in_place, d.applied_revision) {
        (true, Some(rev)) => by_id(store.state_at(d.store_id(), rev).await?),
        _ => BTreeMap::new(),
    };
    let proposal = store.dream_proposal(&d.id).await?;
    let mut out = Vec::new();
    for m in &cs.memories {
        let path = m
            .path_after
            .clone()
            .or(m.path_before.clone())
            .unwrap_or_default();
        let before = m
            .memory_id
            .as_ref()
            .filter(|_| m.path_before.is_some())
            .and_then(|id| base.get(id).cloned());
        let new_content = if applied_in_place {
            m.memory_id.as_ref().and_then(|id| after.get(id).cloned())
        } else {
            proposal
                .as_ref()
                .and_then(|p| {
                    p.writes.iter().find(|w| {
                        w.memory_id == m.memory_id
                            && Some(&w.path) == m.path_after.as_ref().or(m.path_before.as_ref())
                    })
                })
                .and_then(|w| w.content.clone())
        };
        let after = if m.path_after.is_some() {
            new_content
        } else {
            None
        };
        out.push((path, before, after));
    }
    Ok(out)
}

pub async fn run(ctx: &Ctx, cmd: DreamsCmd) -> Result<i32> {
    match cmd {
        DreamsCmd::Ls {
            store,
            status,
            all,
            limit,
        } => {
            let store_id = match store {
                Some(s) => Some(ctx.store_ref(&s).await?.id),
                None => None,
            };
            let statuses = status
                .iter()
                .map(|s| DreamStatus::parse(s))
                .collect::<reverie_core::Result<Vec<_>>>()?;
            let page = ctx
                .store
                .list_dreams(&DreamQuery {
                    store_id,
                    statuses,
                    include_archived: all,
                    limit: Some(limit.clamp(1, 100)),
                    ..DreamQuery::default()
                })
                .await?;
            if ctx.json {
                json(&page);
                return Ok(0);
            }
            let mut rows = vec![vec![
                "ID".into(),
                "STATUS".into(),
                "CREATED".into(),
                "SESSIONS".into(),
                "OUTPUT".into(),
                "REVIEW".into(),
                "STORE".into(),
            ]];
            for d in &page.data {
                rows.push(vec![
                    d.id.clone(),
                    d.status.as_str().into(),
                    short_time(d.created_at),
                    d.session_ids().len().to_string(),
                    match d.output_behavior {
                        OutputBehavior::UpdateExisting { .. } => "update".into(),
                        OutputBehavior::CreateNew => "new".into(),
                    },
                    d.review
                        .as_ref()
                        .map_or("-".into(), |r| r.state.as_str().to_string()),
                    d.store_id().to_string(),
                ]);
            }
            table(&rows);
            Ok(0)
        }
        DreamsCmd::Show {
            dream,
            diff,
            exchanges,
        } => {
            let d = ctx.store.get_dream(&dream).await?;
            let code = report_dream_with(ctx, &d, diff, exchanges).await?;
            if exchanges && !ctx.json {
                print_exchanges(ctx, &d).await?;
            }
            Ok(code)
        }
        DreamsCmd::Approve {
            dream,
            only,
            except,
        } => {
            if only.is_empty() && except.is_empty() {
                let d = ctx.store.decide_dream(&dream, true, &ctx.actor).await?;
                return done(ctx, &d, "approved and applied");
            }
            let p = reverie_dream::review::pending(ctx.store.as_ref(), &dream).await?;
            for n in only.iter().chain(&except) {
                if !p.decidable.contains(n) {
                    return Err(reverie_core::Error::invalid(
                        "operations",
                        format!(
                            "{n} is not an operation to decide on; those of dream {dream} are {:?} (`reverie dreams show {dream}` lists them)",
                            p.decidable
                        ),
                    )
                    .into());
                }
            }
            let accepted: std::collections::BTreeSet<usize> = if only.is_empty() {
                p.decidable
                    .iter()
                    .copied()
                    .filter(|n| !except.contains(n))
                    .collect()
            } else {
                only.iter().copied().collect()
            };
            let d = reverie_dream::review::approve_operations(
                ctx.store.as_ref(),
                &dream,
                &accepted,
                &ctx.actor,
            )
            .await?;
            let what = format!(
                "approved {} of its {} operations and applied them; the others rejected",
                accepted.len(),
                p.decidable.len()
            );
            done(ctx, &d, &what)
        }
        DreamsCmd::Reject { dream } => {
            let d = ctx.store.decide_dream(&dream, false, &ctx.actor).await?;
            done(ctx, &d, "rejected; nothing changed")
        }
        DreamsCmd::Cancel { dream } => {
            let d = ctx.store.cancel_dream(&dream).await?;
            done(ctx, &d, "canceled")
        }
        DreamsCmd::Revert { dream } => {
            let d = ctx.store.revert_dream(&dream, &ctx.actor).await?;
            done(ctx, &d, "reverted")
        }
        DreamsCmd::Archive { dream } => {
            let d = ctx.store.archive_dream(&dream).await?;
            done(ctx, &d, "archived")
        }
    }
}

fn done(ctx: &Ctx, d: &Dream, what: &str) -> Result<i32> {
    if ctx.json {
        json(d);
    } else {
        emit(&format!("dream {} {what}", d.id));
        emit(&headline(d));
    }
    Ok(0)
}

fn short_time(t: Timestamp) -> String {
    let s = t.to_rfc3339();
    format!("{} {}", &s[..10], &s[11..19])
}

/// A model dream's exchanges as text: what the model was asked and what it answered.
async fn print_exchanges(ctx: &Ctx, d: &Dream) -> Result<()> {
    let run = ctx
        .store
        .dream_changeset(&d.id)
        .await?
        .and_then(|c| c.curator);
    let Some(run) = run.filter(|r| !r.exchanges.is_empty()) else {
        emit("");
        emit("no model exchanges: the deterministic curator ran");
        return Ok(());
    };
    let n = run.exchanges.len();
    for (i, x) in run.exchanges.iter().enumerate() {
        let req: reverie_curate::model::ModelRequest = serde_json::from_value(x.request.clone())
            .map_err(|e| Error::invalid("exchange", format!("{} cannot be read: {e}", i + 1)))?;
        let reply: reverie_curate::model::ModelReply = serde_json::from_value(x.reply.clone())
            .map_err(|e| Error::invalid("exchange", format!("{} cannot be read: {e}", i + 1)))?;
        emit("");
        emit(&format!(
            "── exchange {} of {n} ({}{}) ──",
            i + 1,
            &x.digest[..12.min(x.digest.len())],
            if x.cached {
                ", answered from an earlier attempt"
            } else {
                ""
            }
        ));
        emit(&format!(
            "request: the system prompt ({} bytes, the same for every dream), schema {}, max {} tokens; the user message:",
            req.system.len(),
            req.schema_name,
            req.max_tokens
        ));
        crate::output::emit_raw(&req.user);
        emit(&format!(
            "reply from {} (stop: {:?}; {} input, {} output tokens):",
            reply.model, reply.stop, reply.usage.input_tokens, reply.usage.output_tokens
        ));
        emit(&serde_json::to_string_pretty(&reply.output).expect("json values serialize"));
    }
    Ok(())
}

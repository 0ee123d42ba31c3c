//! `reverie policy …` and `reverie entries …`: a store's budget, protected paths, memory tests
//! and review; its entries' metadata, pins and restores.

use anyhow::{Context as _, Result};
use reverie_core::Error;
use reverie_core::curation::EntryState;
use reverie_core::policy::{MemoryTest, Policy, Secrets};

use crate::cli::{EntriesCmd, PolicyCmd, PolicySetArgs};
use crate::context::Ctx;
use crate::output::{emit, json, table};

pub async fn run(ctx: &Ctx, cmd: PolicyCmd) -> Result<i32> {
    match cmd {
        PolicyCmd::Show { store } => {
            let st = ctx.store_ref(&store.store).await?;
            let p = ctx.store.get_policy(&st.id).await?;
            print_policy(ctx, &st.name, &p);
            Ok(0)
        }
        PolicyCmd::Set(a) => set(ctx, *a).await,
    }
}

async fn set(ctx: &Ctx, a: PolicySetArgs) -> Result<i32> {
    let st = ctx.store_ref(&a.store.store).await?;
    let mut p = match &a.file {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            serde_json::from_str::<Policy>(&text)
                .map_err(|e| Error::invalid("policy", format!("{}: {e}", file.display())))?
        }
        None => ctx.store.get_policy(&st.id).await?,
    };
    if let Some(n) = a.max_total_bytes {
        p.budget.max_total_bytes = n;
    }
    if let Some(n) = a.max_memory_bytes {
        p.budget.max_memory_bytes = n;
    }
    if let Some(n) = a.index_max_lines {
        p.budget.index_max_lines = n;
    }
    if let Some(n) = a.index_max_bytes {
        p.budget.index_max_bytes = n;
    }
    for g in a.protect {
        if !p.protected.contains(&g) {
            p.protected.push(g);
        }
    }
    p.protected.retain(|g| !a.unprotect.contains(g));
    if let Some(r) = a.review.as_deref() {
        p.review = match r {
            "on" => true,
            "off" => false,
            other => {
                return Err(Error::invalid("review", format!("{other:?} is not on or off")).into());
            }
        };
    }
    if let Some(r) = a.secrets.as_deref() {
        p.secrets = match r {
            "refuse" => Secrets::Refuse,
            "allow" => Secrets::Allow,
            other => {
                return Err(
                    Error::invalid("secrets", format!("{other:?} is not refuse or allow")).into(),
                );
            }
        };
    }
    if let Some(n) = a.after_sessions.as_deref() {
        p.schedule.after_sessions = match n {
            "off" => None,
            n => Some(n.parse().map_err(|_| {
                Error::invalid("after_sessions", format!("{n:?} is not a number or off"))
            })?),
        };
    }
    if let Some(c) = a.cron {
        p.schedule.cron = (c != "off").then_some(c);
    }
    if let Some(secs) = a.min_interval {
        p.schedule.min_interval_secs = secs;
    }
    if let Some(m) = a.model {
        p.model.curator = (m != "default").then_some(m);
    }
    let tokens = |field: &'static str, v: &str| -> Result<Option<u64>> {
        if v == "default" {
            return Ok(None);
        }
        Ok(Some(v.parse().map_err(|_| {
            Error::invalid(field, format!("{v:?} is not a number of tokens or default"))
        })?))
    };
    if let Some(v) = a.max_input_tokens.as_deref() {
        p.model.max_input_tokens = tokens("max_input_tokens", v)?;
    }
    if let Some(v) = a.max_output_tokens.as_deref() {
        p.model.max_output_tokens = tokens("max_output_tokens", v)?;
    }
    if let Some(v) = a.max_cost_usd.as_deref() {
        p.model.max_cost_usd = match v {
            "off" => None,
            v => Some(reverie_core::policy::Dollars(v.parse().map_err(|_| {
                Error::invalid(
                    "max_cost_usd",
                    format!("{v:?} is not an amount of dollars or off"),
                )
            })?)),
        };
    }
    if a.clear_tests {
        p.tests.clear();
    }
    for text in a.must_contain {
        p.tests.push(MemoryTest::MustContain {
            name: None,
            text,
            path: None,
        });
    }
    for text in a.must_not_contain {
        p.tests.push(MemoryTest::MustNotContain {
            name: None,
            text,
            path: None,
        });
    }
    for spec in a.recall {
        let (query, expect) = spec
            .split_once("=>")
            .ok_or_else(|| Error::invalid("recall", format!("{spec:?} is not QUERY=>EXPECT")))?;
        p.tests.push(MemoryTest::Recall {
            name: None,
            query: query.trim().to_string(),
            expect: expect.trim().to_string(),
            k: 5,
        });
    }
    let p = ctx.store.set_policy(&st.id, &p).await?;
    print_policy(ctx, &st.name, &p);
    Ok(0)
}

fn print_policy(ctx: &Ctx, name: &str, p: &Policy) {
    if ctx.json {
        json(p);
        return;
    }
    let b = &p.budget;
    emit(&format!("policy of {name}"));
    emit(&format!(
        "  budget: {} bytes in all, {} per memory; index {} at most {} lines and {} bytes",
        b.max_total_bytes, b.max_memory_bytes, b.index_path, b.index_max_lines, b.index_max_bytes
    ));
    emit(&format!(
        "  protected: {}",
        if p.protected.is_empty() {
            "nothing".to_string()
        } else {
            p.protected.join(", ")
        }
    ));
    emit(&format!(
        "  review: {}",
        if p.review {
            "on (dreams end as proposals)"
        } else {
            "off"
        }
    ));
    emit(&format!(
        "  secrets: {}",
        match p.secrets {
            Secrets::Refuse => "refused in memory content written directly",
            Secrets::Allow =>
                "allowed in memory content written directly (transcripts are still redacted)",
        }
    ));
    emit(&format!(
        "  schedule: {}",
        match (p.schedule.after_sessions, &p.schedule.cron) {
            (None, None) => "none (dreams run only when asked)".to_string(),
            (n, cron) => {
                let mut when = Vec::new();
                if let Some(n) = n {
                    when.push(format!("after {n} new sessions"));
                }
                if let Some(c) = cron {
                    when.push(format!("at `{c}` (UTC) when a new session waits"));
                }
                format!(
                    "{}, at least {} s after the last dream (reverie worker)",
                    when.join(" or "),
                    p.schedule.min_interval_secs
                )
            }
        }
    ));
    let m = &p.model;
    emit(&format!(
        "  curator: {}; a model dream may send {} input and receive {} output tokens{}",
        m.curator
            .as_deref()
            .unwrap_or("the config file's default (deterministic unless set)"),
        m.input_limit(),
        m.output_limit(),
        m.max_cost_usd
            .map(|c| format!(", and cost ${}", c.0))
            .unwrap_or_default()
    ));
    if p.tests.is_empty() {
        emit("  memory tests: none");
    } else {
        emit("  memory tests:");
        for t in &p.tests {
            emit(&format!("    - {}", t.label()));
        }
    }
}

pub async fn entries(ctx: &Ctx, cmd: EntriesCmd) -> Result<i32> {
    match cmd {
        EntriesCmd::Ls { store, state, path } => {
            let st = ctx.store_ref(&store.store).await?;
            let state = state.as_deref().map(EntryState::parse).transpose()?;
            let mut list = ctx.store.list_entries(&st.id, state).await?;
            if let Some(p) = &path {
                list.retain(|e| {
                    e.path == *p || e.path.starts_with(&format!("{}/", p.trim_end_matches('/')))
                });
            }
            list.sort_by(|a, b| (&a.path, &a.section, &a.id).cmp(&(&b.path, &b.section, &b.id)));
            if ctx.json {
                json(&list);
                return Ok(0);
            }
            let mut rows = vec![vec![
                "ID".into(),
                "STATE".into(),
                "KIND".into(),
                "PATH".into(),
                "SERVED".into(),
                "+/-".into(),
                "TEXT".into(),
            ]];
            for e in &list {
                let mut text: String = e.text.split_whitespace().collect::<Vec<_>>().join(" ");
                if text.chars().count() > 70 {
                    text = format!("{}…", text.chars().take(69).collect::<String>());
                }
                rows.push(vec![
                    format!("{}{}", e.id, if e.pinned { " 📌" } else { "" }),
                    e.state.as_str().into(),
                    e.kind.as_str().into(),
                    e.path.clone(),
                    e.served.to_string(),
                    format!("{}/{}", e.helpful, e.harmful),
                    text,
                ]);
            }
            table(&rows);
            Ok(0)
        }
        EntriesCmd::Show { store, entry } => {
            let st = ctx.store_ref(&store.store).await?;
            let e = ctx.store.get_entry(&st.id, &entry).await?;
            if ctx.json {
                json(&e);
                return Ok(0);
            }
            emit(&format!(
                "{} · {} · {}{}",
                e.id,
                e.kind.as_str(),
                e.state.as_str(),
                if e.pinned { " · pinned" } else { "" }
            ));
            let place = if e.section.is_empty() {
                e.path.clone()
            } else {
                format!("{} › {}", e.path, e.section.join(" › "))
            };
            emit(&format!("in {place}"));
            emit("");
            emit(&e.text);
            emit("");
            emit(&format!(
                "served {} times; helpful {}, harmful {}; first seen {}, last seen {}",
                e.served,
                e.helpful,
                e.harmful,
                e.first_seen.map_or("-".into(), |t| t.to_rfc3339()),
                e.last_seen.map_or("-".into(), |t| t.to_rfc3339())
            ));
            if let Some(s) = &e.superseded_by {
                emit(&format!("superseded by {s}"));
            }
            for p in &e.provenance {
                emit(&format!("  from {} #{}: {}", p.session_id, p.seq, p.quote));
            }
            Ok(0)
        }
        EntriesCmd::Pin { store, entry } => pin(ctx, &store.store, &entry, true).await,
        EntriesCmd::Unpin { store, entry } => pin(ctx, &store.store, &entry, false).await,
        EntriesCmd::Restore { store, entry } => {
            let st = ctx.store_ref(&store.store).await?;
            let (e, revision) = ctx.store.restore_entry(&st.id, &entry, &ctx.actor).await?;
            if ctx.json {
                json(&serde_json::json!({"entry": e, "revision": revision}));
            } else {
                emit(&format!(
                    "restored {} into {} (revision {revision})",
                    e.id, e.path
                ));
            }
            Ok(0)
        }
    }
}

async fn pin(ctx: &Ctx, store: &str, entry: &str, pinned: bool) -> Result<i32> {
    let st = ctx.store_ref(store).await?;
    let e = ctx.store.pin_entry(&st.id, entry, pinned).await?;
    if ctx.json {
        json(&e);
    } else {
        emit(&format!(
            "{} {}",
            if pinned { "pinned" } else { "unpinned" },
            e.id
        ));
    }
    Ok(0)
}

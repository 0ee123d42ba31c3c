//! `reverie serve`: the HTTP API until Ctrl-C or SIGTERM (requests in flight finish first);
//! `reverie keys`: the API keys it accepts.

use anyhow::{Context as _, Result};
use reverie_server::AppState;

use crate::cli::{KeysCmd, ServeArgs, WorkerArgs};
use crate::context::Ctx;
use crate::output::{emit, json, table};

pub async fn serve(ctx: &Ctx, a: ServeArgs) -> Result<i32> {
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .with_context(|| format!("cannot listen on {}", a.listen))?;
    let addr = listener.local_addr()?;
    let live = ctx
        .store
        .list_api_keys()
        .await?
        .iter()
        .filter(|k| k.revoked_at.is_none())
        .count();
    if live == 0 {
        eprintln!(
            "reverie: no API key exists yet, so every request will be refused: \
             `reverie keys create NAME --all` makes one"
        );
    }
    // Caught from the moment the server says it serves.
    let stop = shutdown_signal();
    eprintln!("reverie: serving {} on http://{addr}", ctx.database);
    // Dreams left running by a server that died are failed (runner_lost) before new ones run.
    // A dream naming a model no provider serves runs with the deterministic curator, or is
    // refused, as the configuration says (the SDK always sends a model name).
    let runner = std::sync::Arc::new(reverie_dream::Runner::with_curators(
        ctx.store.clone(),
        std::sync::Arc::new(super::model::Curators::load(true)?),
    ));
    let lost = runner.recover().await?;
    if !lost.is_empty() {
        eprintln!(
            "reverie: {} dreams of a dead runner marked failed",
            lost.len()
        );
    }
    let state = AppState {
        store: ctx.store.clone(),
        runner,
        queue_dreams: a.queue_dreams,
        ui: Default::default(),
        drift: Default::default(),
    };
    reverie_server::serve(listener, state, stop).await?;
    eprintln!("reverie: stopped");
    Ok(0)
}

/// `reverie worker`: passes over the stores until Ctrl-C or SIGTERM (a dream in progress is
/// finished first), or one pass with `--once`. Prints what it dreamed.
pub async fn worker(ctx: &Ctx, a: WorkerArgs) -> Result<i32> {
    let runner = reverie_dream::Runner::with_curators(
        ctx.store.clone(),
        std::sync::Arc::new(super::model::Curators::load(true)?),
    );
    let stop = shutdown_signal();
    tokio::pin!(stop);
    let mut seen = super::claude_code::sync::Seen::default();
    loop {
        let done = if a.claude_code {
            // The sweep dreams every store that is due (queued dreams first), as a pass does.
            let report =
                super::claude_code::sync::worker_pass(ctx.store.clone(), &mut seen).await?;
            if ctx.json {
                emit(&serde_json::to_string(
                    &serde_json::json!({"claude_code": report}),
                )?);
            } else {
                super::claude_code::sync::print_pass(&report);
            }
            Vec::new()
        } else {
            reverie_dream::schedule::tick(&runner).await?
        };
        for d in &done {
            if ctx.json {
                emit(&serde_json::to_string(d)?);
            } else {
                emit(&format!(
                    "dreamed {}: {} {}",
                    d.memory_store_id,
                    d.dream_id,
                    d.status.as_str()
                ));
            }
        }
        if a.once {
            if done.is_empty() && !ctx.json && !a.claude_code {
                eprintln!("reverie: no store is due for a dream");
            }
            return Ok(0);
        }
        tokio::select! {
            () = &mut stop => return Ok(0),
            () = tokio::time::sleep(std::time::Duration::from_secs(a.interval)) => {}
        }
    }
}

pub async fn keys(ctx: &Ctx, cmd: KeysCmd) -> Result<i32> {
    match cmd {
        KeysCmd::Create(a) => {
            let stores = if a.all {
                None
            } else {
                let mut ids = Vec::new();
                for s in &a.stores {
                    ids.push(ctx.store_ref(s).await?.id);
                }
                Some(ids)
            };
            reverie_ingest::redact::refuse_secret("name", &a.name)?;
            let (key, secret) = ctx.store.create_api_key(&a.name, stores).await?;
            if ctx.json {
                json(&serde_json::json!({ "key": key, "secret": secret }));
            } else {
                emit(&secret);
                eprintln!(
                    "reverie: API key {} ({}) for {}; the secret above is shown only now",
                    key.id,
                    key.name,
                    scope(&key)
                );
            }
        }
        KeysCmd::Ls => {
            let keys = ctx.store.list_api_keys().await?;
            if ctx.json {
                json(&keys);
            } else {
                let mut rows = vec![vec![
                    "id".to_string(),
                    "name".into(),
                    "stores".into(),
                    "created".into(),
                    "revoked".into(),
                ]];
                for k in &keys {
                    rows.push(vec![
                        k.id.clone(),
                        k.name.clone(),
                        scope(k),
                        k.created_at.to_string(),
                        k.revoked_at.map(|t| t.to_string()).unwrap_or_default(),
                    ]);
                }
                table(&rows);
            }
        }
        KeysCmd::Revoke { id } => {
            let key = ctx.store.revoke_api_key(&id).await?;
            if ctx.json {
                json(&key);
            } else {
                emit(&format!("revoked {} ({})", key.id, key.name));
            }
        }
    }
    Ok(0)
}

fn scope(k: &reverie_core::api_key::ApiKey) -> String {
    match &k.stores {
        None => "every store".into(),
        Some(s) => s.join(", "),
    }
}

fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    // Registered now, not when first awaited: a signal that arrives while the first pass of
    // work runs is then caught (and that work finished) rather than killing the process.
    let term = signal(SignalKind::terminate()).ok();
    let int = signal(SignalKind::interrupt()).ok();
    let wait = |s: Option<tokio::signal::unix::Signal>| async move {
        match s {
            Some(mut s) => {
                s.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    async move {
        tokio::select! {
            () = wait(term) => {},
            () = wait(int) => {},
        }
    }
}

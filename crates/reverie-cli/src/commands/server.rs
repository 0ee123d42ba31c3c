//! `reverie serve`: the HTTP API on a local address, until Ctrl-C or SIGTERM (requests in
//! flight finish first).

use anyhow::{Context as _, Result};
use reverie_server::AppState;

use crate::cli::ServeArgs;
use crate::context::Ctx;

pub async fn serve(ctx: &Ctx, a: ServeArgs) -> Result<i32> {
    if !a.listen.ip().is_loopback() {
        return Err(reverie_core::Error::invalid(
            "listen",
            format!(
                "{} is not a loopback address: only loopback addresses are served until API \
                 keys exist (anyone who can reach the port could read and change every store)",
                a.listen
            ),
        )
        .into());
    }
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .with_context(|| format!("cannot listen on {}", a.listen))?;
    let addr = listener.local_addr()?;
    eprintln!("reverie: serving {} on http://{addr}", ctx.database);
    let state = AppState {
        store: ctx.store.clone(),
        actor: ctx.actor.clone(),
    };
    reverie_server::serve(listener, state, shutdown_signal()).await?;
    eprintln!("reverie: stopped");
    Ok(0)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

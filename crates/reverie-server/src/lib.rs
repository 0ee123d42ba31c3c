//! reverie's HTTP API: the memory-store routes of api-contract.md §1 — memory stores, memories
//! and memory versions — with the shapes, statuses, error bodies and cursors the official SDK
//! expects, over any [`Store`].
//!
//! Handlers only translate: query strings and JSON bodies into the store's requests, results and
//! errors into the contract's JSON. Every rule (paths, sizes, preconditions, archive) is the
//! store's, so the API, the CLI and the memory tool cannot disagree. Unknown routes, malformed
//! JSON and oversized bodies get the contract's error body too.

mod auth;
mod error;
mod limits;
pub mod mcp;
mod own;
mod params;
pub mod remember;
mod routes;
pub mod ui;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use reverie_store::Store;
use tokio::net::TcpListener;

pub use error::ApiError;

/// The largest request body accepted: a memory's 102,400 bytes of content, JSON-escaped (a
/// control character takes six bytes), with room for the rest of the request.
pub const MAX_BODY_BYTES: usize = 102_400 * 6 + 64 * 1024;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Runs the dreams the API creates, each in a task of its own.
    pub runner: Arc<reverie_dream::Runner>,
    /// Leave created dreams pending, for `reverie worker` to run.
    pub queue_dreams: bool,
    /// Who is logged in to the review page (`/ui`).
    pub ui: Arc<ui::session::Sessions>,
    /// The last drift reports, reused while their stores read back the same.
    pub drift: Arc<reverie_dream::drift::Memo>,
}

/// The API's routes over `state`. Every request needs an API key (`reverie keys create`);
/// changes are recorded as made by it (an `api_actor`).
pub fn router(state: AppState) -> Router {
    let mcp = Router::new()
        .nest_service(
            "/mcp",
            mcp::http_service(state.store.clone(), MAX_BODY_BYTES),
        )
        .layer(from_fn(limits::mcp_json))
        .layer(from_fn_with_state(MAX_BODY_BYTES, limits::body_limit));
    let state = Arc::new(state);
    routes::routes()
        .route_layer(from_fn_with_state(MAX_BODY_BYTES, limits::body_limit))
        .merge(own::routes())
        .merge(mcp)
        .fallback(error::unknown_route)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_key,
        ))
        // The review page logs in with a key of its own form and keeps a session.
        .merge(ui::routes())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(from_fn(limits::json_errors))
        .with_state(state)
}

/// How `serve` guards its connections.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// A client must send a request's whole head within this time, or its connection is
    /// closed: a client that trickles headers cannot hold a connection open for long.
    pub header_read_timeout: Duration,
    /// The most connections served at once; further clients wait in the listen backlog
    /// rather than exhaust the process's file descriptors.
    pub max_connections: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 512,
        }
    }
}

/// Serves the API on `listener` until `shutdown` completes; requests in flight are finished
/// first.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, ServeOptions::default(), shutdown).await
}

/// [`serve`] with explicit connection limits.
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state);
    let slots = Arc::new(tokio::sync::Semaphore::new(options.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        // Above the limits `limits::json_errors` enforces, so that what it refuses gets the
        // contract's JSON body; only heads beyond these get hyper's bare answer.
        .max_headers(limits::HYPER_MAX_HEADERS)
        .max_buf_size(limits::HYPER_MAX_BUF);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like pass: wait rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let conn =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

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
pub mod mcp;
mod own;
mod params;
pub mod remember;
mod routes;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
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
}

/// The API's routes over `state`. Every request needs an API key (`reverie keys create`);
/// changes are recorded as made by it (an `api_actor`).
pub fn router(state: AppState) -> Router {
    let mcp = mcp::http_service(state.store.clone(), MAX_BODY_BYTES);
    let state = Arc::new(state);
    routes::routes()
        .merge(own::routes())
        .nest_service("/mcp", mcp)
        .fallback(error::unknown_route)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_key,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes; requests in flight are finished
/// first.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

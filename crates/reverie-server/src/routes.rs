//! The handlers of api-contract.md §1: memory stores, memories, memory versions.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use reverie_core::api_key::ApiKey;
use reverie_core::dream::{Dream, DreamInput, DreamStatus, NewDream, OutputBehavior};
use reverie_core::id::IdKind;
use reverie_core::{Actor, Error, View};
use reverie_store::{
    DreamQuery, MemoryPatch, MemoryQuery, NewStore, StorePatch, StoreQuery, VersionQuery,
};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::error::ApiError;
use crate::params::{Params, json};

type S = State<Arc<AppState>>;
type K = Extension<Arc<ApiKey>>;

/// A store the key may not see does not exist, as far as the caller can tell.
pub(crate) fn allowed(key: &ApiKey, store: &str) -> Result<(), ApiError> {
    if key.allows(store) {
        Ok(())
    } else {
        Err(Error::not_found(IdKind::Store.noun(), store).into())
    }
}

pub(crate) fn actor(key: &ApiKey) -> Actor {
    Actor::Api {
        api_key_id: key.id.clone(),
    }
}
pub(crate) type Reply = Result<Response, ApiError>;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/memory_stores", post(create_store).get(list_stores))
        .route(
            "/v1/memory_stores/{store}",
            get(get_store).post(update_store).delete(delete_store),
        )
        .route("/v1/memory_stores/{store}/archive", post(archive_store))
        .route(
            "/v1/memory_stores/{store}/memories",
            post(create_memory).get(list_memories),
        )
        .route(
            "/v1/memory_stores/{store}/memories/{memory}",
            get(get_memory).post(update_memory).delete(delete_memory),
        )
        .route(
            "/v1/memory_stores/{store}/memory_versions",
            get(list_versions),
        )
        .route(
            "/v1/memory_stores/{store}/memory_versions/{version}",
            get(get_version),
        )
        .route(
            "/v1/memory_stores/{store}/memory_versions/{version}/redact",
            post(redact_version),
        )
        .route("/v1/dreams", post(create_dream).get(list_dreams))
        .route("/v1/dreams/{dream}", get(get_dream))
        .route("/v1/dreams/{dream}/cancel", post(cancel_dream))
        .route("/v1/dreams/{dream}/archive", post(archive_dream))
}

pub(crate) fn ok<T: serde::Serialize>(value: T) -> Reply {
    Ok(Json(value).into_response())
}

fn params(uri: &Uri) -> Result<Params, ApiError> {
    Ok(Params::parse(uri.query())?)
}

// Memory stores.

#[derive(Deserialize)]
// The hosted API refuses fields it does not know; ignoring one would turn a misspelled
// `precondition` into an unconditional write.
#[serde(deny_unknown_fields)]
struct CreateStore {
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    metadata: Option<BTreeMap<String, String>>,
}

async fn create_store(
    State(st): S,
    Extension(key): K,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Reply {
    if key.stores.is_some() {
        return Err(Error::Permission(format!(
            "API key {} may only see its own stores; creating a store needs a key for every store",
            key.id
        ))
        .into());
    }
    let b: CreateStore = json(&body?)?;
    let name = b
        .name
        .ok_or_else(|| Error::invalid("name", "is required"))?;
    reverie_ingest::redact::refuse_secret_in_store(
        Some(&name),
        b.description.as_deref(),
        b.metadata.iter().flatten().map(|(_, v)| v.as_str()),
    )?;
    ok(st
        .store
        .create_store(NewStore {
            name,
            description: b.description.unwrap_or_default(),
            metadata: b.metadata.unwrap_or_default(),
            max_memories: None,
        })
        .await?)
}

async fn list_stores(State(st): S, Extension(key): K, uri: Uri) -> Reply {
    let p = params(&uri)?;
    let q = StoreQuery {
        include_archived: p.boolean("include_archived")?,
        created_at_gte: p.time("created_at_gte")?,
        created_at_lte: p.time("created_at_lte")?,
        limit: p.int("limit")?,
        page: p.string("page"),
        only: key.stores.clone(),
    };
    ok(st.store.list_stores(&q).await?)
}

async fn get_store(State(st): S, Extension(key): K, Path(store): Path<String>) -> Reply {
    allowed(&key, &store)?;
    ok(st.store.get_store(&store).await?)
}

#[derive(Deserialize)]
// The hosted API refuses fields it does not know; ignoring one would turn a misspelled
// `precondition` into an unconditional write.
#[serde(deny_unknown_fields)]
struct UpdateStore {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    metadata: Option<BTreeMap<String, Option<String>>>,
}

async fn update_store(
    State(st): S,
    Extension(key): K,
    Path(store): Path<String>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Reply {
    allowed(&key, &store)?;
    let b: UpdateStore = json(&body?)?;
    reverie_ingest::redact::refuse_secret_in_store(
        b.name.as_deref(),
        b.description.as_deref(),
        b.metadata
            .iter()
            .flatten()
            .filter_map(|(_, v)| v.as_deref()),
    )?;
    let patch = StorePatch {
        name: b.name,
        description: b.description,
        metadata: b.metadata,
        max_memories: None,
    };
    ok(st.store.update_store(&store, patch).await?)
}

async fn delete_store(State(st): S, Extension(key): K, Path(store): Path<String>) -> Reply {
    allowed(&key, &store)?;
    st.store.delete_store(&store).await?;
    ok(json!({ "id": store, "type": "memory_store_deleted" }))
}

async fn archive_store(State(st): S, Extension(key): K, Path(store): Path<String>) -> Reply {
    allowed(&key, &store)?;
    ok(st.store.archive_store(&store).await?)
}

// Memories.

#[derive(Deserialize)]
// The hosted API refuses fields it does not know; ignoring one would turn a misspelled
// `precondition` into an unconditional write.
#[serde(deny_unknown_fields)]
struct CreateMemory {
    path: Option<String>,
    #[serde(default)]
    content: Option<String>,
}

fn with_view(mut m: reverie_core::Memory, view: View) -> reverie_core::Memory {
    if view == View::Basic {
        m.content = None;
    }
    m
}

async fn create_memory(
    State(st): S,
    Extension(key): K,
    Path(store): Path<String>,
    uri: Uri,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Reply {
    allowed(&key, &store)?;
    let view = params(&uri)?.view(View::Basic)?;
    let b: CreateMemory = json(&body?)?;
    let path = b
        .path
        .ok_or_else(|| Error::invalid("path", "is required"))?;
    if let Some(c) = &b.content {
        reverie_ingest::redact::refuse_secret_in_memory(st.store.as_ref(), &store, "content", c)
            .await?;
    }
    let m = st
        .store
        .create_memory(
            &store,
            &path,
            b.content.as_deref().unwrap_or(""),
            &actor(&key),
        )
        .await?;
    ok(with_view(m, view))
}

async fn list_memories(
    State(st): S,
    Extension(key): K,
    Path(store): Path<String>,
    uri: Uri,
) -> Reply {
    allowed(&key, &store)?;
    let p = params(&uri)?;
    let q = MemoryQuery {
        path_prefix: p.string("path_prefix"),
        depth: p.int("depth")?,
        limit: p.int("limit")?,
        page: p.string("page"),
        view: p.view(View::Basic)?,
    };
    ok(st.store.list_memories(&store, &q).await?)
}

async fn get_memory(
    State(st): S,
    Extension(key): K,
    Path((store, memory)): Path<(String, String)>,
    uri: Uri,
) -> Reply {
    allowed(&key, &store)?;
    let view = params(&uri)?.view(View::Full)?;
    let m = st.store.get_memory(&store, &memory).await?;
    ok(with_view(m, view))
}

#[derive(Deserialize)]
// The hosted API refuses fields it does not know; ignoring one would turn a misspelled
// `precondition` into an unconditional write.
#[serde(deny_unknown_fields)]
struct Precondition {
    #[serde(rename = "type")]
    kind: String,
    content_sha256: Option<String>,
}

#[derive(Deserialize)]
// The hosted API refuses fields it does not know; ignoring one would turn a misspelled
// `precondition` into an unconditional write.
#[serde(deny_unknown_fields)]
struct UpdateMemory {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    precondition: Option<Precondition>,
}

async fn update_memory(
    State(st): S,
    Extension(key): K,
    Path((store, memory)): Path<(String, String)>,
    uri: Uri,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Reply {
    allowed(&key, &store)?;
    let view = params(&uri)?.view(View::Basic)?;
    let b: UpdateMemory = json(&body?)?;
    let precondition = match b.precondition {
        None => None,
        Some(p) if p.kind == "content_sha256" => Some(
            p.content_sha256
                .ok_or_else(|| Error::invalid("precondition.content_sha256", "is required"))?,
        ),
        Some(p) => {
            return Err(Error::invalid(
                "precondition.type",
                format!("{:?} is not content_sha256", p.kind),
            )
            .into());
        }
    };
    if let Some(c) = &b.content {
        reverie_ingest::redact::refuse_secret_in_memory(st.store.as_ref(), &store, "content", c)
            .await?;
    }
    let patch = MemoryPatch {
        content: b.content,
        path: b.path,
        precondition_content_sha256: precondition,
    };
    let m = st
        .store
        .update_memory(&store, &memory, patch, &actor(&key))
        .await?;
    ok(with_view(m, view))
}

async fn delete_memory(
    State(st): S,
    Extension(key): K,
    Path((store, memory)): Path<(String, String)>,
    uri: Uri,
) -> Reply {
    allowed(&key, &store)?;
    let p = params(&uri)?;
    st.store
        .delete_memory(
            &store,
            &memory,
            p.get("expected_content_sha256"),
            &actor(&key),
        )
        .await?;
    ok(json!({ "id": memory, "type": "memory_deleted" }))
}

// Memory versions.

async fn list_versions(
    State(st): S,
    Extension(key): K,
    Path(store): Path<String>,
    uri: Uri,
) -> Reply {
    allowed(&key, &store)?;
    let p = params(&uri)?;
    let operation = p
        .get("operation")
        .map(reverie_core::Operation::parse)
        .transpose()?;
    let q = VersionQuery {
        memory_id: p.string("memory_id"),
        operation,
        created_at_gte: p.time("created_at_gte")?,
        created_at_lte: p.time("created_at_lte")?,
        api_key_id: p.string("api_key_id"),
        session_id: p.string("session_id"),
        service_account_id: p.string("service_account_id"),
        limit: p.int("limit")?,
        page: p.string("page"),
        view: p.view(View::Basic)?,
    };
    ok(st.store.list_versions(&store, &q).await?)
}

fn version_view(mut v: reverie_core::MemoryVersion, view: View) -> reverie_core::MemoryVersion {
    if view == View::Basic {
        v.content = None;
    }
    v
}

async fn get_version(
    State(st): S,
    Extension(key): K,
    Path((store, version)): Path<(String, String)>,
    uri: Uri,
) -> Reply {
    allowed(&key, &store)?;
    let view = params(&uri)?.view(View::Full)?;
    let v = st.store.get_version(&store, &version).await?;
    ok(version_view(v, view))
}

async fn redact_version(
    State(st): S,
    Extension(key): K,
    Path((store, version)): Path<(String, String)>,
) -> Reply {
    allowed(&key, &store)?;
    let v = st
        .store
        .redact_version(&store, &version, &actor(&key))
        .await?;
    ok(v)
}

// Dreams.

async fn create_dream(
    State(st): S,
    Extension(key): K,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Reply {
    let new: NewDream = json(&body?)?;
    // The key must see the input store, and a new output store would be one it cannot see.
    for input in &new.inputs {
        if let DreamInput::MemoryStore { memory_store_id } = input {
            allowed(&key, memory_store_id)?;
        }
    }
    match &new.output_behavior {
        Some(OutputBehavior::UpdateExisting { memory_store_id }) => {
            allowed(&key, memory_store_id)?;
        }
        _ if key.stores.is_some() => {
            return Err(Error::Permission(format!(
                "API key {} may only see its own stores; a create_new dream makes a new store, \
                 which needs a key for every store (or use update_existing)",
                key.id
            ))
            .into());
        }
        _ => {}
    }
    // After the permission checks, so a key learns of a session only once it may dream at all.
    for input in &new.inputs {
        if let DreamInput::Sessions { session_ids } = input {
            for s in session_ids {
                visible_session(&st, &key, s).await?;
            }
        }
    }
    let dream = st.runner.create(new).await?;
    if st.queue_dreams {
        return ok(dream);
    }
    let runner = st.runner.clone();
    let id = dream.id.clone();
    tokio::spawn(async move {
        if let Err(e) = runner.run(&id).await {
            tracing::error!(dream = %id, error = %e, "the dream could not run");
        }
    });
    ok(dream)
}

/// A session of a store the key may not see does not exist, for it: the store's own answer
/// (which names the session's store) is for keys that may see it.
pub(crate) async fn visible_session(st: &AppState, key: &ApiKey, id: &str) -> Result<(), ApiError> {
    if key.stores.is_none() {
        return Ok(());
    }
    match st.store.get_session(id).await {
        Ok(s) if key.allows(&s.memory_store_id) => Ok(()),
        Ok(_) => Err(Error::not_found(IdKind::Session.noun(), id).into()),
        Err(e) => Err(e.into()),
    }
}

/// A dream whose input store the key may not see does not exist, for it.
pub(crate) async fn visible_dream(
    st: &AppState,
    key: &ApiKey,
    id: &str,
) -> Result<Dream, ApiError> {
    let d = st.store.get_dream(id).await?;
    if key.allows(d.store_id()) {
        Ok(d)
    } else {
        Err(Error::not_found(IdKind::Dream.noun(), id).into())
    }
}

async fn list_dreams(State(st): S, Extension(key): K, uri: Uri) -> Reply {
    let p = params(&uri)?;
    let statuses = p
        .all("statuses")
        .into_iter()
        .map(DreamStatus::parse)
        .collect::<reverie_core::Result<Vec<_>>>()?;
    let q = DreamQuery {
        store_id: None,
        only: key.stores.clone(),
        statuses,
        include_archived: p.boolean("include_archived")?,
        created_at_gt: p.time("created_at_gt")?,
        created_at_lt: p.time("created_at_lt")?,
        limit: p.int("limit")?,
        page: p.string("page"),
    };
    // The query holds only the key's stores, so its pages and cursors hold only their dreams.
    ok(st.store.list_dreams(&q).await?)
}

async fn get_dream(State(st): S, Extension(key): K, Path(dream): Path<String>) -> Reply {
    ok(visible_dream(&st, &key, &dream).await?)
}

async fn cancel_dream(State(st): S, Extension(key): K, Path(dream): Path<String>) -> Reply {
    visible_dream(&st, &key, &dream).await?;
    ok(st.store.cancel_dream(&dream).await?)
}

async fn archive_dream(State(st): S, Extension(key): K, Path(dream): Path<String>) -> Reply {
    visible_dream(&st, &key, &dream).await?;
    ok(st.store.archive_dream(&dream).await?)
}

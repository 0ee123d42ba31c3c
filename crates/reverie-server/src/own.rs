//! reverie's own routes, under `/reverie/v1/` so that they never change the contract's: recall,
//! context and remember (memory served to agents), the policy, restore of a memory or a whole store,
//! drift, the failure curve, session upload (ingest), and review of dreams (changeset, approve, reject, revert). The same API keys and scopes apply.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, Path, State};
use axum::http::Uri;
use axum::routing::{get, post};
use reverie_core::Error;
use reverie_core::api_key::ApiKey;
use reverie_core::policy::Policy;
use reverie_core::search::{DEFAULT_RECALL_LIMIT, RecallQuery, Via, parse_since};
use reverie_core::session::{Outcome, OutcomeStatus};
use reverie_store::serving::{self, ContextRequest};
use serde::Deserialize;

use crate::AppState;
use crate::params::{Params, json};
use crate::routes::{Reply, actor, allowed, ok, visible_dream, visible_session};

type S = State<Arc<AppState>>;
type K = Extension<Arc<ApiKey>>;
type Body = Result<Bytes, axum::extract::rejection::BytesRejection>;

pub fn routes() -> Router<Arc<AppState>> {
    let limit = |max| axum::middleware::from_fn_with_state(max, crate::limits::body_limit);
    Router::new()
        .route("/reverie/v1/memory_stores/{store}/recall", post(recall))
        .route("/reverie/v1/memory_stores/{store}/context", post(context))
        .route("/reverie/v1/memory_stores/{store}/remember", post(remember))
        .route(
            "/reverie/v1/memory_stores/{store}/policy",
            get(get_policy).put(set_policy),
        )
        .route(
            "/reverie/v1/memory_stores/{store}/restore",
            post(restore_store),
        )
        .route(
            "/reverie/v1/memory_stores/{store}/memories/{memory}/restore",
            post(restore_memory),
        )
        .route("/reverie/v1/memory_stores/{store}/drift", get(drift))
        .route("/reverie/v1/memory_stores/{store}/curve", get(curve))
        .route("/reverie/v1/dreams/{dream}/changeset", get(changeset))
        .route("/reverie/v1/dreams/{dream}/approve", post(approve))
        .route("/reverie/v1/dreams/{dream}/reject", post(reject))
        .route("/reverie/v1/dreams/{dream}/revert", post(revert))
        .route_layer(limit(crate::MAX_BODY_BYTES))
        // Added after `route_layer`, so that transcripts get their own, larger limit.
        .route(
            "/reverie/v1/memory_stores/{store}/sessions",
            post(ingest)
                .layer(DefaultBodyLimit::max(MAX_TRANSCRIPT_BYTES))
                .layer(limit(MAX_TRANSCRIPT_BYTES)),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecallBody {
    query: String,
    limit: Option<usize>,
    path_prefix: Option<String>,
    since: Option<String>,
    /// Count the results as served (default true).
    serve: Option<bool>,
    session_id: Option<String>,
}

async fn recall(State(st): S, Extension(key): K, Path(store): Path<String>, body: Body) -> Reply {
    allowed(&key, &store)?;
    let b: RecallBody = json(&body?)?;
    if let Some(s) = &b.session_id {
        visible_session(&st, &key, s).await?;
    }
    let q = RecallQuery {
        query: b.query,
        limit: b.limit.unwrap_or(DEFAULT_RECALL_LIMIT),
        path_prefix: b.path_prefix,
        since: parse_since(b.since.as_deref())?,
        serve: b.serve.unwrap_or(true).then_some(Via::Recall),
        session_id: b.session_id,
    };
    ok(serde_json::json!({ "data": st.store.recall(&store, &q).await? }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContextBody {
    query: Option<String>,
    budget: Option<usize>,
    safety: Option<f64>,
    serve: Option<bool>,
    session_id: Option<String>,
}

async fn context(State(st): S, Extension(key): K, Path(store): Path<String>, body: Body) -> Reply {
    allowed(&key, &store)?;
    let b: ContextBody = json(&body?)?;
    if let Some(s) = &b.session_id {
        visible_session(&st, &key, s).await?;
    }
    let d = ContextRequest::default();
    let req = ContextRequest {
        query: b.query,
        budget: b.budget.unwrap_or(d.budget),
        safety: b.safety.unwrap_or(d.safety),
        serve: b.serve.unwrap_or(true),
        session_id: b.session_id,
    };
    ok(serving::context(st.store.as_ref(), &store, &req).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RememberBody {
    text: String,
    path: Option<String>,
}

async fn remember(State(st): S, Extension(key): K, Path(store): Path<String>, body: Body) -> Reply {
    allowed(&key, &store)?;
    let b: RememberBody = json(&body?)?;
    let r = crate::remember::remember(
        st.store.as_ref(),
        &store,
        &b.text,
        b.path.as_deref(),
        &actor(&key),
    )
    .await?;
    ok(r)
}

async fn get_policy(State(st): S, Extension(key): K, Path(store): Path<String>) -> Reply {
    allowed(&key, &store)?;
    ok(st.store.get_policy(&store).await?)
}

async fn set_policy(
    State(st): S,
    Extension(key): K,
    Path(store): Path<String>,
    body: Body,
) -> Reply {
    allowed(&key, &store)?;
    let p: Policy = json(&body?)?;
    ok(st.store.set_policy(&store, &p).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RestoreStore {
    revision: i64,
}

async fn restore_store(
    State(st): S,
    Extension(key): K,
    Path(store): Path<String>,
    body: Body,
) -> Reply {
    allowed(&key, &store)?;
    let b: RestoreStore = json(&body?)?;
    ok(st
        .store
        .restore_store(&store, b.revision, &actor(&key))
        .await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RestoreMemory {
    memory_version_id: String,
}

async fn restore_memory(
    State(st): S,
    Extension(key): K,
    Path((store, memory)): Path<(String, String)>,
    body: Body,
) -> Reply {
    allowed(&key, &store)?;
    let b: RestoreMemory = json(&body?)?;
    ok(st
        .store
        .restore_memory(&store, &memory, &b.memory_version_id, &actor(&key))
        .await?)
}

/// `?since=REVISION|DATE&min_helpful=N`: the drift report (`reverie drift --json`'s), whose
/// `summary.load_bearing_lost` is what an alert watches.
async fn drift(State(st): S, Extension(key): K, Path(store): Path<String>, uri: Uri) -> Reply {
    allowed(&key, &store)?;
    let p = Params::parse(uri.query())?;
    let min_helpful = p
        .int("min_helpful")?
        .unwrap_or(reverie_dream::drift::DEFAULT_MIN_HELPFUL);
    let s = st.store.get_store(&store).await?;
    let report = reverie_dream::drift::report_memo(
        st.store.as_ref(),
        &s,
        p.get("since"),
        min_helpful,
        &st.drift,
    )
    .await?;
    ok(&*report)
}

/// `?since=DATE`: the failure curve (`reverie curve --json`'s).
async fn curve(State(st): S, Extension(key): K, Path(store): Path<String>, uri: Uri) -> Reply {
    allowed(&key, &store)?;
    let p = Params::parse(uri.query())?;
    let since = reverie_dream::curve::since(p.get("since"))?;
    let s = st.store.get_store(&store).await?;
    ok(reverie_dream::curve::report(st.store.as_ref(), &s, since).await?)
}

/// The largest transcript one upload may carry (the rest of the API keeps its smaller limit).
pub const MAX_TRANSCRIPT_BYTES: usize = 64 * 1024 * 1024;

/// An upload staged for the reader, which reads files: redacted first, in memory, the way the
/// reader redacts (line by line for JSON lines, whole for a document), so that no secret of the
/// transcript ever reaches the disk, then written to a file only its owner may read (0600),
/// removed when the request ends however it ends. The reader redacts again, finding nothing.
struct Staged {
    file: tempfile::NamedTempFile,
    /// What redaction replaced, by the offset in the staged file of the line it was in.
    redactions: Vec<(u64, reverie_ingest::redact::RedactionCounts)>,
}

fn stage_upload(body: &[u8], dir: &std::path::Path) -> reverie_core::Result<Staged> {
    use reverie_ingest::detect::{Detected, HEAD_BYTES, detect};
    use reverie_ingest::redact::{RedactionCounts, redactor};
    use std::io::Write as _;

    let head = &body[..body.len().min(HEAD_BYTES)];
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut redactions = Vec::new();
    let mut redact = |piece: &[u8], out: &mut Vec<u8>| {
        let text = String::from_utf8_lossy(piece);
        let mut counts = RedactionCounts::default();
        let clean = redactor().redact(&text, &mut counts);
        if counts.total() > 0 {
            redactions.push((out.len() as u64, counts));
        }
        out.extend_from_slice(clean.as_bytes());
    };
    match detect(head, head.len() == body.len()) {
        Detected::Lines(_) => {
            for line in body.split_inclusive(|&b| b == b'\n') {
                redact(line, &mut out);
            }
        }
        Detected::Document => redact(body, &mut out),
        Detected::Empty => out.extend_from_slice(body),
        // Refused as the reader would, before a byte of it is written anywhere.
        Detected::Binary(why) => {
            return Err(Error::invalid(
                "body",
                format!("not a transcript: a binary file ({why})"),
            ));
        }
    }
    let stage = |e: std::io::Error| Error::storage(format!("cannot stage the upload: {e}"));
    // `tempfile` creates the file 0600 with a name no one can guess, and removes it on drop.
    let mut file = tempfile::Builder::new()
        .prefix("reverie-upload-")
        .tempfile_in(dir)
        .map_err(stage)?;
    file.write_all(&out).map_err(stage)?;
    file.flush().map_err(stage)?;
    Ok(Staged { file, redactions })
}

/// `?source=NAME[&outcome=success|failure|partial]`, the transcript as the body (any format
/// `reverie ingest` reads, detected from the content). The source name is the session's
/// identity in the store: uploading the same source again adds only what is new, as
/// re-ingesting a grown file does. Redaction runs before anything is stored.
async fn ingest(
    State(st): S,
    Extension(key): K,
    Path(store): Path<String>,
    uri: Uri,
    body: Body,
) -> Reply {
    allowed(&key, &store)?;
    let p = Params::parse(uri.query())?;
    let source = p
        .get("source")
        .ok_or_else(|| Error::invalid("source", "is required: the transcript's name"))?
        .to_string();
    reverie_ingest::redact::refuse_secret("source", &source)?;
    if source.is_empty() || source.len() > 1024 || source.chars().any(char::is_control) {
        return Err(Error::invalid(
            "source",
            "must be 1 to 1,024 bytes without control characters",
        )
        .into());
    }
    let outcome = p
        .get("outcome")
        .map(|o| {
            OutcomeStatus::parse(o).map(|status| Outcome {
                status,
                score: None,
                note: None,
            })
        })
        .transpose()?;
    let body = body?;
    let s = st.store.get_store(&store).await?;
    if s.archived_at.is_some() {
        return Err(Error::StoreArchived { store_id: s.id }.into());
    }
    let key = format!("api:{source}");
    // Redaction is CPU work over up to 64 MB: off the async threads.
    let staged = tokio::task::spawn_blocking(move || stage_upload(&body, &std::env::temp_dir()))
        .await
        .map_err(|e| Error::storage(format!("cannot stage the upload: {e}")))??;
    // Only what this upload adds is read (a source uploaded before resumes where it stopped),
    // so only the secrets of that part count as this upload's redactions.
    let consumed = st
        .store
        .session_source(&store, &key)
        .await?
        .map_or(0, |s| s.consumed_bytes.max(0) as u64);
    let ingest = reverie_ingest::Ingest::new(
        st.store.clone(),
        store,
        reverie_ingest::Options {
            outcome,
            ..Default::default()
        },
    );
    let mut report = ingest
        .ingest_source(
            staged.file.path().to_path_buf(),
            key,
            source,
            &reverie_ingest::Quiet,
        )
        .await;
    drop(staged.file);
    for (at, counts) in &staged.redactions {
        if *at >= consumed {
            report.redactions.merge(counts);
        }
    }
    if report.status == reverie_ingest::FileStatus::Failed {
        return Err(Error::invalid(
            "body",
            report
                .error
                .unwrap_or_else(|| "the transcript could not be read".into()),
        )
        .into());
    }
    ok(report)
}

/// A dream's changeset; a model dream's exchanges (every request and reply, up to megabytes)
/// only with `?exchanges=true`.
async fn changeset(State(st): S, Extension(key): K, Path(dream): Path<String>, uri: Uri) -> Reply {
    let p = Params::parse(uri.query())?;
    let exchanges = p.boolean("exchanges")?;
    visible_dream(&st, &key, &dream).await?;
    match st.store.dream_changeset(&dream).await? {
        Some(mut c) => {
            if !exchanges && let Some(run) = c.curator.as_mut() {
                run.exchanges.clear();
            }
            ok(c)
        }
        None => Err(Error::not_found("changeset of dream", dream).into()),
    }
}

/// `{"operations": [N, …]}` (optional): approve only these operations of the proposal
/// (indices into its changeset's `ops`), rejecting the others.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproveBody {
    operations: Option<Vec<usize>>,
}

async fn approve(State(st): S, Extension(key): K, Path(dream): Path<String>, body: Body) -> Reply {
    visible_dream(&st, &key, &dream).await?;
    let b: ApproveBody = json(&body?)?;
    match b.operations {
        None => ok(st.store.decide_dream(&dream, true, &actor(&key)).await?),
        Some(ops) => {
            let accepted = ops.into_iter().collect();
            ok(reverie_dream::review::approve_operations(
                st.store.as_ref(),
                &dream,
                &accepted,
                &actor(&key),
            )
            .await?)
        }
    }
}

async fn reject(State(st): S, Extension(key): K, Path(dream): Path<String>) -> Reply {
    visible_dream(&st, &key, &dream).await?;
    ok(st.store.decide_dream(&dream, false, &actor(&key)).await?)
}

async fn revert(State(st): S, Extension(key): K, Path(dream): Path<String>) -> Reply {
    visible_dream(&st, &key, &dream).await?;
    ok(st.store.revert_dream(&dream, &actor(&key)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finding 4: an upload was written as sent (secrets included) to a world-readable file in
    /// `$TMPDIR` that stayed when the server died. Now the staged file holds the redacted text,
    /// is its owner's alone, and is gone once the request ends.
    #[test]
    fn uploads_are_staged_redacted_private_and_removed() {
        let secret = "ghp_R8vX2kPq9LmZ4tWc7YbN1sDf6HjA3uEo5GiK";
        let line = serde_json::json!({"type": "user", "uuid": "u1", "sessionId": "s",
            "timestamp": "2026-11-29T10:00:00Z",
            "message": {"role": "user", "content": format!("my token is {secret}")}});
        let dir = tempfile::tempdir().unwrap();
        for body in [
            format!("{line}\n{line}\n"),
            format!("# notes\n\nexport GITHUB_TOKEN={secret}\n"),
        ] {
            let staged = stage_upload(body.as_bytes(), dir.path()).unwrap();
            let path = staged.file.path().to_path_buf();
            let on_disk = std::fs::read_to_string(&path).unwrap();
            assert!(!on_disk.contains(secret), "{on_disk}");
            assert!(!staged.redactions.is_empty());
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = std::fs::metadata(&path).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600);
            }
            drop(staged);
            assert!(!path.exists());
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}

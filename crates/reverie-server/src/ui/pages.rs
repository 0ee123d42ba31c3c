//! The review page's handlers: each reads through the `Store` as the API does (the same
//! scoping by key, the same errors), and renders one template.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use reverie_core::curation::{Changeset, EntryMeta, EntryState, Op};
use reverie_core::dream::{Dream, DreamStatus, ReviewState};
use reverie_core::{Error, MemoryStore};
use reverie_curate::drift::DriftReport;
use reverie_store::{DreamQuery, MemoryPatch, MemoryQuery, StoreQuery};
use serde::Deserialize;

use super::session::same_token;
use super::{User, html, same_origin};
use crate::AppState;
use crate::routes::actor;

type S = State<Arc<AppState>>;

/// What the page's frame needs: the CSRF token of the logout form, when logged in.
type Nav = Option<String>;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    nav: Nav,
    status: u16,
    message: &'a str,
}

pub(super) fn error_page(status: StatusCode, message: &str) -> Response {
    render(
        status,
        &ErrorPage {
            nav: None,
            status: status.as_u16(),
            message,
        },
    )
}

fn render(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => html(status, body),
        Err(e) => {
            tracing::error!(error = %e, "a page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page failed to render",
            )
                .into_response()
        }
    }
}

/// Why a page cannot be shown: rendered as the error page.
#[derive(Debug)]
pub(super) struct PageError {
    status: StatusCode,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        error_page(self.status, &self.message)
    }
}

/// A store error as a page: the API's status and message.
fn failed(e: Error) -> PageError {
    let e = crate::ApiError::from(e);
    PageError {
        status: e.status(),
        message: e.to_string(),
    }
}

/// The store, if the key may see it (a store it may not see does not exist, for it).
async fn visible_store(st: &AppState, user: &User, id: &str) -> Result<MemoryStore, PageError> {
    if !user.key.allows(id) {
        return Err(failed(Error::not_found("memory store", id)));
    }
    st.store.get_store(id).await.map_err(failed)
}

/// Checks a form's CSRF token and origin.
fn check_form(user: &User, headers: &HeaderMap, csrf: &str) -> Result<(), PageError> {
    if same_token(csrf, &user.csrf) && same_origin(headers) {
        Ok(())
    } else {
        Err(PageError {
            status: StatusCode::FORBIDDEN,
            message: "this form is stale or came from another site: reload the page and try again"
                .into(),
        })
    }
}

fn when(t: Option<reverie_core::Timestamp>) -> String {
    t.map(|t| {
        t.to_rfc3339()
            .chars()
            .take(19)
            .collect::<String>()
            .replace('T', " ")
    })
    .unwrap_or_default()
}

/// A form about a store: its token and origin checked, the store visible to the key.
async fn store_form(
    st: &AppState,
    user: &User,
    headers: &HeaderMap,
    csrf: &str,
    store_id: &str,
) -> Result<MemoryStore, PageError> {
    check_form(user, headers, csrf)?;
    visible_store(st, user, store_id).await
}

/// A form about a dream: its token and origin checked, the dream's store visible to the key.
async fn dream_form(
    st: &AppState,
    user: &User,
    headers: &HeaderMap,
    csrf: &str,
    dream_id: &str,
) -> Result<Dream, PageError> {
    check_form(user, headers, csrf)?;
    crate::routes::visible_dream(st, &user.key, dream_id)
        .await
        .map_err(|e| PageError {
            status: e.status(),
            message: e.to_string(),
        })
}

// Logging in and out.

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    error: Option<String>,
}

pub(super) async fn login_form() -> Response {
    render(
        StatusCode::OK,
        &LoginPage {
            nav: None,
            error: None,
        },
    )
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    key: String,
}

pub(super) async fn login(State(st): S, headers: HeaderMap, Form(f): Form<LoginForm>) -> Response {
    if !same_origin(&headers) {
        return error_page(
            StatusCode::FORBIDDEN,
            "a login from another site is refused",
        );
    }
    let again = |why: &str| {
        render(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                nav: None,
                error: Some(why.to_string()),
            },
        )
    };
    let secret = f.key.trim();
    if secret.is_empty() {
        return again("enter an API key (`reverie keys create NAME` makes one)");
    }
    match st.store.api_key_for_secret(secret).await {
        Ok(Some(key)) if key.revoked_at.is_none() => {
            let id = st.ui.start(secret);
            let mut res = Redirect::to("/ui/").into_response();
            let cookie = super::session_cookie(&id, 43_200, super::over_https(&headers));
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Ok(Some(_)) => again("this API key was revoked"),
        Ok(None) => again("this is not an API key of this server"),
        Err(e) => failed(e).into_response(),
    }
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

pub(super) async fn logout(
    State(st): S,
    user: User,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Err(r) = check_form(&user, &headers, &f.csrf) {
        return r.into_response();
    }
    st.ui.end(&user.session);
    let mut res = Redirect::to("/ui/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&super::session_cookie("", 0, super::over_https(&headers)))
    {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

// Stores.

struct StoreRow {
    id: String,
    name: String,
    memories: i64,
    max_memories: i64,
    bytes: i64,
    budget: u64,
    last_dream: String,
    waiting: usize,
    alerts: usize,
}

#[derive(Template)]
#[template(path = "stores.html")]
struct StoresPage {
    nav: Nav,
    stores: Vec<StoreRow>,
}

/// The total size of a store's memories.
async fn bytes_of(st: &AppState, store_id: &str) -> reverie_core::Result<i64> {
    let mut total = 0;
    let mut page = None;
    loop {
        let p = st
            .store
            .list_memories(
                store_id,
                &MemoryQuery {
                    limit: Some(100),
                    page,
                    ..MemoryQuery::default()
                },
            )
            .await?;
        total += p
            .data
            .iter()
            .map(|i| match i {
                reverie_core::model::ListItem::Memory(m) => m.content_size_bytes,
                reverie_core::model::ListItem::Prefix(_) => 0,
            })
            .sum::<i64>();
        match p.next_page {
            Some(n) => page = Some(n),
            None => return Ok(total),
        }
    }
}

async fn recent_dreams(st: &AppState, store_id: &str, n: i64) -> reverie_core::Result<Vec<Dream>> {
    Ok(st
        .store
        .list_dreams(&DreamQuery {
            store_id: Some(store_id.to_string()),
            limit: Some(n),
            ..DreamQuery::default()
        })
        .await?
        .data)
}

fn awaiting(d: &Dream) -> bool {
    d.status == DreamStatus::Completed
        && d.review
            .as_ref()
            .is_some_and(|r| r.state == ReviewState::Pending)
}

async fn drift_of(st: &AppState, s: &MemoryStore) -> reverie_core::Result<Arc<DriftReport>> {
    reverie_dream::drift::report_memo(
        st.store.as_ref(),
        s,
        None,
        reverie_dream::drift::DEFAULT_MIN_HELPFUL,
        &st.drift,
    )
    .await
}

/// How many recent dreams a store's row looks at for its last dream and waiting proposals.
const ROW_DREAMS: i64 = 100;

/// A store's row; its `ROW_DREAMS` recent dreams, `drift` and the memories' `bytes` when the
/// caller has them already.
async fn store_row(
    st: &AppState,
    s: MemoryStore,
    dreams: Option<&[Dream]>,
    drift: Option<&DriftReport>,
    bytes: Option<i64>,
) -> reverie_core::Result<StoreRow> {
    // What the caller has not read yet, at once (drift's analysis on a blocking thread).
    let (alerts, read, policy, bytes) = tokio::try_join!(
        async {
            Ok(match drift {
                Some(d) => d.summary.load_bearing_lost,
                None => drift_of(st, &s).await?.summary.load_bearing_lost,
            })
        },
        async {
            match dreams {
                Some(_) => Ok(None),
                None => recent_dreams(st, &s.id, ROW_DREAMS).await.map(Some),
            }
        },
        st.store.get_policy(&s.id),
        async {
            match bytes {
                Some(b) => Ok(b),
                None => bytes_of(st, &s.id).await,
            }
        },
    )?;
    let dreams = dreams.or(read.as_deref()).unwrap_or_default();
    Ok(StoreRow {
        bytes,
        budget: policy.budget.max_total_bytes,
        last_dream: dreams
            .first()
            .map(|d| format!("{} ({})", when(Some(d.created_at)), d.status.as_str()))
            .unwrap_or_else(|| "never".into()),
        waiting: dreams.iter().filter(|d| awaiting(d)).count(),
        alerts,
        memories: s.memory_count,
        max_memories: s.max_memories,
        id: s.id,
        name: s.name,
    })
}

pub(super) async fn stores(State(st): S, user: User) -> Response {
    let listed = st
        .store
        .list_stores(&StoreQuery {
            only: user.key.stores.clone(),
            limit: Some(100),
            ..StoreQuery::default()
        })
        .await;
    let listed = match listed {
        Ok(p) => p.data,
        Err(e) => return failed(e).into_response(),
    };
    let mut rows = Vec::with_capacity(listed.len());
    for s in listed {
        match store_row(&st, s, None, None, None).await {
            Ok(r) => rows.push(r),
            Err(e) => return failed(e).into_response(),
        }
    }
    render(
        StatusCode::OK,
        &StoresPage {
            nav: Some(user.csrf),
            stores: rows,
        },
    )
}

struct MemoryRow {
    id: String,
    path: String,
    bytes: i64,
    updated: String,
}

struct DreamRow {
    id: String,
    created: String,
    status: String,
    review: String,
    applied: String,
}

struct LossRow {
    id: String,
    path: String,
    state: String,
    text: String,
    why: String,
}

#[derive(Template)]
#[template(path = "store.html")]
struct StorePage {
    nav: Nav,
    store: StoreRow,
    revision: i64,
    memories: Vec<MemoryRow>,
    dreams: Vec<DreamRow>,
    losses: Vec<LossRow>,
    regressions: usize,
}

pub(super) async fn store(State(st): S, user: User, Path(id): Path<String>) -> Response {
    let s = match visible_store(&st, &user, &id).await {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    match store_page(&st, s).await {
        Ok(mut p) => {
            p.nav = Some(user.csrf);
            render(StatusCode::OK, &p)
        }
        Err(e) => failed(e).into_response(),
    }
}

/// The rows of every memory of a store, by path.
async fn memory_rows(st: &AppState, store_id: &str) -> reverie_core::Result<Vec<MemoryRow>> {
    let mut memories = Vec::new();
    let mut page = None;
    loop {
        let p = st
            .store
            .list_memories(
                store_id,
                &MemoryQuery {
                    limit: Some(100),
                    page,
                    ..MemoryQuery::default()
                },
            )
            .await?;
        for i in p.data {
            if let reverie_core::model::ListItem::Memory(m) = i {
                memories.push(MemoryRow {
                    id: m.id,
                    path: m.path,
                    bytes: m.content_size_bytes,
                    updated: when(Some(m.updated_at)),
                });
            }
        }
        match p.next_page {
            Some(n) => page = Some(n),
            None => return Ok(memories),
        }
    }
}

async fn store_page(st: &AppState, s: MemoryStore) -> reverie_core::Result<StorePage> {
    let revision = s.revision;
    // The report (its analysis on a blocking thread) and the page's own reads at once.
    let (drift, (memories, recent)) = tokio::try_join!(drift_of(st, &s), async {
        Ok((
            memory_rows(st, &s.id).await?,
            recent_dreams(st, &s.id, ROW_DREAMS).await?,
        ))
    })?;
    let dreams = recent
        .iter()
        .take(50)
        .map(|d| DreamRow {
            created: when(Some(d.created_at)),
            status: d.status.as_str().to_string(),
            review: d
                .review
                .as_ref()
                .map(|r| r.state.as_str().to_string())
                .unwrap_or_default(),
            applied: match (d.applied_revision, d.reverted_revision) {
                (Some(a), Some(r)) => format!("revision {a}, reverted by {r}"),
                (Some(a), None) => format!("revision {a}"),
                _ => String::new(),
            },
            id: d.id.clone(),
        })
        .collect();
    let losses = drift
        .lineages
        .iter()
        .filter(|l| l.load_bearing_lost)
        .map(|l| LossRow {
            id: l.id.clone(),
            path: l.path.clone(),
            state: l.state.as_str().to_string(),
            text: l.first_text.clone(),
            why: l
                .load_bearing
                .iter()
                .map(|b| b.describe())
                .collect::<Vec<_>>()
                .join("; "),
        })
        .collect();
    let bytes = memories.iter().map(|m| m.bytes).sum();
    let row = store_row(st, s, Some(&recent), Some(&drift), Some(bytes)).await?;
    Ok(StorePage {
        nav: None,
        store: row,
        revision,
        memories,
        dreams,
        losses,
        regressions: drift.summary.regressions,
    })
}

// A dream.

struct DiffLine {
    class: &'static str,
    text: String,
}

struct EvidenceRow {
    at: String,
    text: String,
}

struct OpRow {
    /// Its number in the changeset.
    index: usize,
    /// A proposal's operation a reviewer can accept or reject on its own (checked: proposed
    /// for acceptance; flagged ones are not).
    decidable: bool,
    checked: bool,
    op: String,
    entry_id: String,
    flags: Vec<String>,
    reason: String,
    evidence: Vec<EvidenceRow>,
    diff: Vec<DiffLine>,
}

struct OpGroup {
    path: String,
    ops: Vec<OpRow>,
}

#[derive(Template)]
#[template(path = "dream.html")]
struct DreamPage {
    nav: Nav,
    csrf: String,
    id: String,
    store_id: String,
    status: String,
    review: String,
    created: String,
    applied: String,
    error: Option<String>,
    pending: bool,
    revertible: bool,
    flagged: Vec<OpGroup>,
    groups: Vec<OpGroup>,
}

fn diff_lines(op: &Op) -> Vec<DiffLine> {
    text_diff(&op.path, op.before.as_deref(), op.after.as_deref())
}

/// The event a piece of evidence names, as stored (redacted at ingest).
async fn evidence_text(st: &AppState, session_id: &str, seq: i64) -> String {
    match st.store.session_events(session_id, seq - 1, 1).await {
        Ok(events) => events
            .into_iter()
            .find(|e| e.seq == seq)
            .map(|e| {
                let t = e
                    .text
                    .or_else(|| e.tool_input.map(|v| v.to_string()))
                    .unwrap_or_default();
                let cut: String = t.chars().take(600).collect();
                if cut.len() < t.len() {
                    format!("{cut}…")
                } else {
                    cut
                }
            })
            .unwrap_or_else(|| "(no such event)".into()),
        Err(e) => format!("(cannot be read: {e})"),
    }
}

async fn op_groups(st: &AppState, ops: &[Op], decidable: &[usize]) -> (Vec<OpGroup>, Vec<OpGroup>) {
    let mut flagged: BTreeMap<String, Vec<OpRow>> = BTreeMap::new();
    let mut rest: BTreeMap<String, Vec<OpRow>> = BTreeMap::new();
    for (index, op) in ops.iter().enumerate() {
        let mut evidence = Vec::new();
        for e in op.evidence.iter().take(8) {
            evidence.push(EvidenceRow {
                at: format!("{}:{}", e.session_id, e.seq),
                text: evidence_text(st, &e.session_id, e.seq).await,
            });
        }
        let row = OpRow {
            index,
            decidable: decidable.contains(&index),
            checked: op.flags.is_empty(),
            op: op.op.as_str().to_string(),
            entry_id: op.entry_id.clone(),
            flags: op.flags.clone(),
            reason: op.reason.clone(),
            evidence,
            diff: diff_lines(op),
        };
        let to = if op.flags.is_empty() {
            &mut rest
        } else {
            &mut flagged
        };
        to.entry(op.path.clone()).or_default().push(row);
    }
    let groups = |m: BTreeMap<String, Vec<OpRow>>| {
        m.into_iter()
            .map(|(path, ops)| OpGroup { path, ops })
            .collect()
    };
    (groups(flagged), groups(rest))
}

pub(super) async fn dream(State(st): S, user: User, Path(id): Path<String>) -> Response {
    let d = match crate::routes::visible_dream(&st, &user.key, &id).await {
        Ok(d) => d,
        Err(e) => return error_page(e.status(), &e.to_string()),
    };
    let changeset: Option<Changeset> = match st.store.dream_changeset(&id).await {
        Ok(Some(c)) => Some(c),
        Ok(None) => match st.store.dream_proposal(&id).await {
            Ok(p) => p.map(|r| r.changeset),
            Err(e) => return failed(e).into_response(),
        },
        Err(e) => return failed(e).into_response(),
    };
    let ops = changeset.map(|c| c.ops).unwrap_or_default();
    let decidable = if awaiting(&d) {
        match reverie_dream::review::pending(st.store.as_ref(), &id).await {
            Ok(p) => p.decidable,
            Err(e) => return failed(e).into_response(),
        }
    } else {
        Vec::new()
    };
    let (flagged, groups) = op_groups(&st, &ops, &decidable).await;
    render(
        StatusCode::OK,
        &DreamPage {
            nav: Some(user.csrf.clone()),
            csrf: user.csrf,
            store_id: d.store_id().to_string(),
            status: d.status.as_str().to_string(),
            review: d
                .review
                .as_ref()
                .map(|r| r.state.as_str().to_string())
                .unwrap_or_default(),
            created: when(Some(d.created_at)),
            applied: match (d.applied_revision, d.reverted_revision) {
                (Some(a), Some(r)) => format!("applied as revision {a}, reverted by revision {r}"),
                (Some(a), None) => format!("applied as revision {a}"),
                _ => "not applied".into(),
            },
            error: d
                .error
                .as_ref()
                .map(|e| format!("{}: {}", e.kind, e.message)),
            pending: awaiting(&d),
            revertible: d.applied_revision.is_some()
                && d.reverted_revision.is_none()
                && matches!(
                    d.output_behavior,
                    reverie_core::dream::OutputBehavior::UpdateExisting { .. }
                ),
            flagged,
            groups,
            id: d.id,
        },
    )
}

#[derive(Deserialize)]
pub(super) struct DecideForm {
    csrf: String,
    decision: String,
}

pub(super) async fn decide(
    State(st): S,
    user: User,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<DecideForm>,
) -> Response {
    if let Err(r) = dream_form(&st, &user, &headers, &f.csrf, &id).await {
        return r.into_response();
    }
    let approve = match f.decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => {
            return error_page(
                StatusCode::BAD_REQUEST,
                &format!("decision must be approve or reject, got {other:?}"),
            );
        }
    };
    match st.store.decide_dream(&id, approve, &actor(&user.key)).await {
        Ok(_) => Redirect::to(&format!("/ui/dreams/{id}")).into_response(),
        Err(e) => failed(e).into_response(),
    }
}

/// Accepts the checked operations of a proposal (`op_N` fields) and rejects the others.
pub(super) async fn decide_operations(
    State(st): S,
    user: User,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<std::collections::HashMap<String, String>>,
) -> Response {
    let csrf = f.get("csrf").map(String::as_str).unwrap_or_default();
    if let Err(r) = dream_form(&st, &user, &headers, csrf, &id).await {
        return r.into_response();
    }
    let accepted: std::collections::BTreeSet<usize> = f
        .keys()
        .filter_map(|k| k.strip_prefix("op_")?.parse().ok())
        .collect();
    match reverie_dream::review::approve_operations(
        st.store.as_ref(),
        &id,
        &accepted,
        &actor(&user.key),
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/ui/dreams/{id}")).into_response(),
        Err(e) => failed(e).into_response(),
    }
}

pub(super) async fn revert(
    State(st): S,
    user: User,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Err(r) = dream_form(&st, &user, &headers, &f.csrf, &id).await {
        return r.into_response();
    }
    match st.store.revert_dream(&id, &actor(&user.key)).await {
        Ok(_) => Redirect::to(&format!("/ui/dreams/{id}")).into_response(),
        Err(e) => failed(e).into_response(),
    }
}

// A memory.

struct EntryRow {
    id: String,
    kind: String,
    text: String,
    pinned: bool,
    served: i64,
    helpful: i64,
    harmful: i64,
    provenance: Vec<String>,
}

#[derive(Template)]
#[template(path = "memory.html")]
struct MemoryPage {
    nav: Nav,
    csrf: String,
    store_id: String,
    store_name: String,
    id: String,
    path: String,
    sha256: String,
    version: String,
    bytes: i64,
    updated: String,
    content: String,
    /// What the form shows: the current content, or the text a rejected edit sent.
    draft: String,
    conflict: Option<String>,
    saved: bool,
    entries: Vec<EntryRow>,
    versions: Vec<VersionRow>,
}

struct VersionRow {
    id: String,
    operation: String,
    revision: i64,
    when: String,
    by: String,
    /// From the version before it.
    diff: Vec<DiffLine>,
    current: bool,
    /// Restorable: not deleted, not redacted.
    restorable: bool,
}

/// A memory's last versions, newest first, each with its diff from the one before.
async fn versions(
    st: &AppState,
    store_id: &str,
    memory_id: &str,
    current: &str,
) -> reverie_core::Result<Vec<VersionRow>> {
    let listed = st
        .store
        .list_versions(
            store_id,
            &reverie_store::VersionQuery {
                memory_id: Some(memory_id.to_string()),
                limit: Some(21),
                view: reverie_core::model::View::Full,
                ..reverie_store::VersionQuery::default()
            },
        )
        .await?
        .data;
    let mut rows = Vec::new();
    for (i, v) in listed.iter().enumerate().take(20) {
        let older = listed.get(i + 1);
        let path = v.path.clone().unwrap_or_default();
        rows.push(VersionRow {
            id: v.id.clone(),
            operation: v.operation.as_str().to_string(),
            revision: v.revision,
            when: when(Some(v.created_at)),
            by: v
                .created_by
                .as_ref()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            diff: text_diff(
                &path,
                older.and_then(|o| o.content.as_deref()),
                v.content.as_deref(),
            ),
            current: v.id == current,
            restorable: v.content.is_some() && v.id != current,
        });
    }
    Ok(rows)
}

fn entry_row(e: &EntryMeta) -> EntryRow {
    EntryRow {
        id: e.id.clone(),
        kind: format!("{:?}", e.kind).to_lowercase(),
        text: e.text.clone(),
        pinned: e.pinned,
        served: e.served,
        helpful: e.helpful,
        harmful: e.harmful,
        provenance: e
            .provenance
            .iter()
            .take(5)
            .map(|p| format!("{}:{}", p.session_id, p.seq))
            .collect(),
    }
}

async fn memory_page(
    st: &AppState,
    user: &User,
    store_id: &str,
    memory_id: &str,
) -> Result<MemoryPage, PageError> {
    let s = visible_store(st, user, store_id).await?;
    let m = st
        .store
        .get_memory(store_id, memory_id)
        .await
        .map_err(failed)?;
    let entries = st
        .store
        .list_entries(store_id, Some(EntryState::Live))
        .await
        .map_err(failed)?;
    let content = m.content.unwrap_or_default();
    let versions = versions(st, store_id, memory_id, &m.memory_version_id)
        .await
        .map_err(failed)?;
    Ok(MemoryPage {
        versions,
        nav: Some(user.csrf.clone()),
        csrf: user.csrf.clone(),
        store_id: s.id,
        store_name: s.name,
        id: m.id,
        sha256: m.content_sha256,
        version: m.memory_version_id,
        bytes: m.content_size_bytes,
        updated: when(Some(m.updated_at)),
        draft: content.clone(),
        content,
        conflict: None,
        saved: false,
        entries: entries
            .iter()
            .filter(|e| e.path == m.path)
            .map(entry_row)
            .collect(),
        path: m.path,
    })
}

pub(super) async fn memory(
    State(st): S,
    user: User,
    Path((store_id, memory_id)): Path<(String, String)>,
) -> Response {
    match memory_page(&st, &user, &store_id, &memory_id).await {
        Ok(p) => render(StatusCode::OK, &p),
        Err(r) => r.into_response(),
    }
}

#[derive(Deserialize)]
pub(super) struct EditForm {
    csrf: String,
    content: String,
    /// The content's digest when the page was rendered: the edit applies only to that.
    expected_sha256: String,
}

pub(super) async fn edit_memory(
    State(st): S,
    user: User,
    headers: HeaderMap,
    Path((store_id, memory_id)): Path<(String, String)>,
    Form(f): Form<EditForm>,
) -> Response {
    if let Err(r) = store_form(&st, &user, &headers, &f.csrf, &store_id).await {
        return r.into_response();
    }
    // A browser sends a textarea's line breaks as CR LF.
    let content = f.content.replace("\r\n", "\n");
    let patch = MemoryPatch {
        content: Some(content.clone()),
        precondition_content_sha256: Some(f.expected_sha256),
        ..MemoryPatch::default()
    };
    let outcome = st
        .store
        .update_memory(&store_id, &memory_id, patch, &actor(&user.key))
        .await;
    let (status, conflict) = match outcome {
        Ok(_) => {
            let mut p = match memory_page(&st, &user, &store_id, &memory_id).await {
                Ok(p) => p,
                Err(r) => return r.into_response(),
            };
            p.saved = true;
            return render(StatusCode::OK, &p);
        }
        Err(e @ Error::PreconditionFailed { .. }) => (StatusCode::CONFLICT, e.to_string()),
        Err(e) => {
            let e = crate::ApiError::from(e);
            let status = e.status();
            if status.is_server_error() || status == StatusCode::NOT_FOUND {
                return error_page(status, &e.to_string());
            }
            (status, e.to_string())
        }
    };
    // Nothing was written: the page shows the memory as it is now, and the text that was
    // sent, still in the form, with the new digest (saving again overwrites knowingly).
    let mut p = match memory_page(&st, &user, &store_id, &memory_id).await {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    p.draft = content;
    p.conflict = Some(conflict);
    render(status, &p)
}

#[derive(Deserialize)]
pub(super) struct PinForm {
    csrf: String,
    pinned: String,
    memory: String,
}

pub(super) async fn pin_entry(
    State(st): S,
    user: User,
    headers: HeaderMap,
    Path((store_id, entry_id)): Path<(String, String)>,
    Form(f): Form<PinForm>,
) -> Response {
    if let Err(r) = store_form(&st, &user, &headers, &f.csrf, &store_id).await {
        return r.into_response();
    }
    match st
        .store
        .pin_entry(&store_id, &entry_id, f.pinned == "true")
        .await
    {
        Ok(_) => {
            Redirect::to(&format!("/ui/stores/{store_id}/memories/{}", f.memory)).into_response()
        }
        Err(e) => failed(e).into_response(),
    }
}

// History and restore.

struct RevisionRow {
    revision: i64,
    when: String,
    by: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    nav: Nav,
    store_id: String,
    store_name: String,
    current: i64,
    revisions: Vec<RevisionRow>,
    next: Option<String>,
    restored: Option<String>,
}

pub(super) async fn history(
    State(st): S,
    user: User,
    Path(store_id): Path<String>,
    uri: axum::http::Uri,
) -> Response {
    let q = match crate::params::Params::parse(uri.query()) {
        Ok(q) => q,
        Err(e) => return failed(e).into_response(),
    };
    let (page, restored) = (q.string("page"), q.string("restored"));
    let s = match visible_store(&st, &user, &store_id).await {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let listed = match st
        .store
        .list_revisions(&s.id, Some(50), page.as_deref())
        .await
    {
        Ok(p) => p,
        Err(e) => return failed(e).into_response(),
    };
    render(
        StatusCode::OK,
        &HistoryPage {
            nav: Some(user.csrf),
            current: s.revision,
            store_id: s.id,
            store_name: s.name,
            revisions: listed
                .data
                .into_iter()
                .map(|r| RevisionRow {
                    revision: r.revision,
                    when: when(Some(r.created_at)),
                    by: r.created_by.map(|a| a.to_string()).unwrap_or_default(),
                    summary: r.summary,
                })
                .collect(),
            next: listed.next_page,
            restored,
        },
    )
}

struct Change {
    path: String,
    what: &'static str,
    diff: Vec<DiffLine>,
}

#[derive(Template)]
#[template(path = "restore.html")]
struct RestorePage {
    nav: Nav,
    csrf: String,
    store_id: String,
    store_name: String,
    current: i64,
    revision: i64,
    changes: Vec<Change>,
}

fn text_diff(path: &str, before: Option<&str>, after: Option<&str>) -> Vec<DiffLine> {
    let text = reverie_curate::report::diff(path, before, after);
    text.lines()
        .skip(2)
        .filter(|l| !l.starts_with('\\'))
        .map(|l| DiffLine {
            class: match l.as_bytes().first() {
                Some(b'+') => "add",
                Some(b'-') => "del",
                Some(b'@') => "hunk",
                _ => "ctx",
            },
            text: l.to_string(),
        })
        .collect()
}

/// What restoring the store to `revision` would change: each memory recreated, modified or
/// deleted, with its diff from now to then.
async fn restore_changes(
    st: &AppState,
    store_id: &str,
    revision: i64,
) -> reverie_core::Result<Vec<Change>> {
    let then = st.store.state_at(store_id, revision).await?;
    // The memories alone: the store's state would read every entry too.
    let now = st.store.memories_with_content(store_id).await?;
    let mut changes = Vec::new();
    let current: BTreeMap<&str, &reverie_core::Memory> =
        now.iter().map(|m| (m.id.as_str(), m)).collect();
    let mut seen = std::collections::BTreeSet::new();
    for v in &then {
        seen.insert(v.memory_id.as_str());
        let was = v
            .content
            .as_deref()
            .filter(|_| v.operation != reverie_core::model::Operation::Deleted);
        let is = current.get(v.memory_id.as_str());
        let path = v
            .path
            .clone()
            .or_else(|| is.map(|m| m.path.clone()))
            .unwrap_or_default();
        let now_text = is.and_then(|m| m.content.as_deref());
        let what = match (now_text, was) {
            (None, Some(_)) => "recreated",
            (Some(a), Some(b)) if a != b || is.is_some_and(|m| m.path != path) => "modified",
            (Some(_), None) => "deleted",
            _ => continue,
        };
        changes.push(Change {
            diff: text_diff(&path, now_text, was),
            path,
            what,
        });
    }
    // Memories made after the revision go.
    for m in &now {
        if !seen.contains(m.id.as_str()) {
            changes.push(Change {
                path: m.path.clone(),
                what: "deleted",
                diff: text_diff(&m.path, m.content.as_deref(), None),
            });
        }
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(changes)
}

pub(super) async fn restore_form(
    State(st): S,
    user: User,
    Path((store_id, revision)): Path<(String, i64)>,
) -> Response {
    let s = match visible_store(&st, &user, &store_id).await {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    if revision < 0 || revision > s.revision {
        return error_page(
            StatusCode::NOT_FOUND,
            &format!("memory store {} has no revision {revision}", s.id),
        );
    }
    let changes = match restore_changes(&st, &s.id, revision).await {
        Ok(c) => c,
        Err(e) => return failed(e).into_response(),
    };
    render(
        StatusCode::OK,
        &RestorePage {
            nav: Some(user.csrf.clone()),
            csrf: user.csrf,
            current: s.revision,
            store_id: s.id,
            store_name: s.name,
            revision,
            changes,
        },
    )
}

pub(super) async fn restore(
    State(st): S,
    user: User,
    headers: HeaderMap,
    Path((store_id, revision)): Path<(String, i64)>,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Err(r) = store_form(&st, &user, &headers, &f.csrf, &store_id).await {
        return r.into_response();
    }
    match st
        .store
        .restore_store(&store_id, revision, &actor(&user.key))
        .await
    {
        Ok(r) => {
            let done = match r.revision {
                Some(new) => format!("revision {new} restores revision {revision}"),
                None => format!("already as at revision {revision}: nothing changed"),
            };
            let q: String = done
                .bytes()
                .map(|b| match b {
                    b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
                    _ => format!("%{b:02X}"),
                })
                .collect();
            Redirect::to(&format!("/ui/stores/{store_id}/history?restored={q}")).into_response()
        }
        Err(e) => failed(e).into_response(),
    }
}

#[derive(Deserialize)]
pub(super) struct VersionForm {
    csrf: String,
    version: String,
}

pub(super) async fn restore_version(
    State(st): S,
    user: User,
    headers: HeaderMap,
    Path((store_id, memory_id)): Path<(String, String)>,
    Form(f): Form<VersionForm>,
) -> Response {
    if let Err(r) = store_form(&st, &user, &headers, &f.csrf, &store_id).await {
        return r.into_response();
    }
    match st
        .store
        .restore_memory(&store_id, &memory_id, &f.version, &actor(&user.key))
        .await
    {
        Ok(_) => {
            Redirect::to(&format!("/ui/stores/{store_id}/memories/{memory_id}")).into_response()
        }
        Err(e) => failed(e).into_response(),
    }
}

// Charts.

fn svg(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        body,
    )
        .into_response()
}

pub(super) async fn drift_chart(
    State(st): S,
    user: User,
    Path(store_id): Path<String>,
) -> Response {
    let s = match visible_store(&st, &user, &store_id).await {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    match drift_of(&st, &s).await {
        Ok(r) => svg(reverie_curate::drift::chart::svg(&r, &s.name)),
        Err(e) => failed(e).into_response(),
    }
}

pub(super) async fn curve_chart(
    State(st): S,
    user: User,
    Path(store_id): Path<String>,
) -> Response {
    let s = match visible_store(&st, &user, &store_id).await {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    match reverie_dream::curve::report(st.store.as_ref(), &s, None).await {
        Ok(c) => svg(reverie_curate::curve::svg(&c, &s.name)),
        Err(e) => failed(e).into_response(),
    }
}

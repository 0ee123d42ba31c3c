//! The MCP server: memory for agents during a session, over stdio (`reverie mcp --store S`) or
//! streamable HTTP (`/mcp` on `reverie serve`).
//!
//! Four tools, each one call into the same store the API and the CLI use:
//! - `memory`: the `memory_20250818` commands, answering the SDK's exact strings;
//! - `recall`: ranked entries for a query, served (counted for the next dream);
//! - `remember`: a note appended as an entry, live at once, curated by the next dream;
//! - `context`: what to read at the start of a session, within a token budget.
//!
//! Every tool takes an optional `store` (id or name). Without it, the store is the one the
//! connection names: `--store` on stdio; `?store=` or `x-reverie-store` over HTTP; or the only
//! store an HTTP key may see. Over HTTP the caller's API key travels in the request, so a tool
//! sees exactly the stores the key may see, and a store it may not see reads as not found.
//!
//! HTTP is served stateless: no MCP session lives in a server's memory, so any of several
//! servers sharing a database answers any request.

use std::sync::Arc;

use axum::http::request::Parts;
use reverie_core::api_key::ApiKey;
use reverie_core::memtool::Command;
use reverie_core::model::{Actor, MemoryStore};
use reverie_core::search::{DEFAULT_RECALL_LIMIT, RecallQuery, Via, parse_since};
use reverie_core::{Error, Result};
use reverie_store::Store;
use reverie_store::serving::{self, ContextRequest};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{
    ErrorData, RoleServer, ServerHandler, ServiceExt, schemars, tool, tool_handler, tool_router,
};
use serde::Deserialize;

use crate::params::Params;
use crate::remember;

/// Who is calling: the local user on stdio, or an API key over HTTP.
#[derive(Debug, Clone)]
enum Caller {
    /// stdio: whoever can start the process can open the database; the store is `--store`.
    Local { store_id: String, actor: Actor },
    /// HTTP: the key and the default store come with each request.
    Http,
}

/// The tools, over one store backend.
#[derive(Debug, Clone)]
pub struct McpServer {
    store: Arc<dyn Store>,
    caller: Caller,
    tool_router: ToolRouter<Self>,
}

/// The commands of the memory tool, as the model names them.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
enum MemoryCommand {
    View,
    Create,
    StrReplace,
    Insert,
    Delete,
    Rename,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct MemoryArgs {
    /// The command: view, create, str_replace, insert, delete or rename.
    command: MemoryCommand,
    /// The file or directory, under /memories (view, create, str_replace, insert, delete).
    path: Option<String>,
    /// view: the first and last line to show, 1-based; -1 as the last means the end.
    view_range: Option<Vec<i64>>,
    /// create: the whole content of the new file.
    file_text: Option<String>,
    /// str_replace: the text to replace; it must occur exactly once.
    old_str: Option<String>,
    /// str_replace: the replacement.
    new_str: Option<String>,
    /// insert: the line after which to insert (0 inserts at the top).
    insert_line: Option<i64>,
    /// insert: the text to insert.
    insert_text: Option<String>,
    /// rename: the file or directory to move.
    old_path: Option<String>,
    /// rename: where it goes.
    new_path: Option<String>,
    /// The memory store (id or name); defaults to the connection's.
    store: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RecallArgs {
    /// What to look for, in words.
    query: String,
    /// At most this many entries (1 to 100, default 10).
    limit: Option<usize>,
    /// Only entries of memories under this path, such as /projects/.
    path_prefix: Option<String>,
    /// Only entries changed since this time (RFC 3339, or a date such as 2026-11-01).
    since: Option<String>,
    /// The agent session these entries are served to, so its outcome counts for them.
    session_id: Option<String>,
    /// The memory store (id or name); defaults to the connection's.
    store: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RememberArgs {
    /// The note: a sentence or two, stated so it makes sense out of context (at most 2,000
    /// characters; a note holding a secret, or reading as an instruction to AI agents, is
    /// refused).
    text: String,
    /// The memory to append it to (default /notes.md).
    path: Option<String>,
    /// The memory store (id or name); defaults to the connection's.
    store: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ContextArgs {
    /// What the session is about; without it, the most useful entries fill the room.
    query: Option<String>,
    /// The budget in tokens (default 4,000).
    budget: Option<usize>,
    /// The agent session the context is served to, so its outcome counts for the entries.
    session_id: Option<String>,
    /// The memory store (id or name); defaults to the connection's.
    store: Option<String>,
}

/// A reverie error as the tool's answer: the caller's model reads what went wrong.
fn failed(e: Error) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(e.to_string())])
}

fn text(s: impl Into<String>) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(s)])
}

#[tool_router]
impl McpServer {
    /// Tools over `store` for the local user (stdio), defaulting to `store_id`.
    pub fn local(store: Arc<dyn Store>, store_id: String, actor: Actor) -> McpServer {
        McpServer {
            store,
            caller: Caller::Local { store_id, actor },
            tool_router: Self::tool_router(),
        }
    }

    /// Tools over `store` for HTTP callers, each confined to its API key's stores.
    pub fn http(store: Arc<dyn Store>) -> McpServer {
        McpServer {
            store,
            caller: Caller::Http,
            tool_router: Self::tool_router(),
        }
    }

    /// The store a call works on, and who it acts as.
    async fn target(
        &self,
        named: Option<&str>,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<(MemoryStore, Actor)> {
        let (key, default, actor) = match &self.caller {
            Caller::Local { store_id, actor } => (None, Some(store_id.clone()), actor.clone()),
            Caller::Http => {
                let parts = ctx.extensions.get::<Parts>();
                let key = parts
                    .and_then(|p| p.extensions.get::<Arc<ApiKey>>())
                    .cloned()
                    .ok_or_else(|| {
                        Error::Unauthenticated("no API key came with the call".into())
                    })?;
                let default = parts.map(connection_store).transpose()?.flatten();
                let actor = Actor::Api {
                    api_key_id: key.id.clone(),
                };
                (Some(key), default, actor)
            }
        };
        let reference = match (named, default) {
            (Some(s), _) => s.to_string(),
            (None, Some(s)) => s,
            (None, None) => match key.as_ref().and_then(|k| k.stores.as_deref()) {
                Some([only]) => only.clone(),
                _ => {
                    return Err(Error::invalid(
                        "store",
                        "no store named: pass `store` (an id or a name), or connect to /mcp?store=…",
                    ));
                }
            },
        };
        let store = reverie_store::store_by_ref(self.store.as_ref(), &reference, |s| {
            key.as_ref().is_none_or(|k| k.allows(&s.id))
        })
        .await?;
        Ok((store, actor))
    }

    /// A session of a store the caller's key may not see does not exist, for it (the store's
    /// own refusal names the session's store).
    async fn visible_session(
        &self,
        session_id: Option<&str>,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<()> {
        let key = ctx
            .extensions
            .get::<Parts>()
            .and_then(|p| p.extensions.get::<Arc<ApiKey>>());
        let (Some(id), Some(key)) = (session_id, key) else {
            return Ok(());
        };
        if key.stores.is_none() {
            return Ok(());
        }
        let session = self.store.get_session(id).await?;
        if key.allows(&session.memory_store_id) {
            Ok(())
        } else {
            Err(Error::not_found(
                reverie_core::id::IdKind::Session.noun(),
                id,
            ))
        }
    }

    #[tool(
        description = "The memory tool (memory_20250818) over this memory store: view a file or \
                       directory under /memories, create a file, str_replace, insert, delete, or \
                       rename. Answers with the same strings as Anthropic's memory tool. Every \
                       write is versioned and can be restored."
    )]
    async fn memory(
        &self,
        Parameters(args): Parameters<MemoryArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> std::result::Result<CallToolResult, ErrorData> {
        let run = async {
            let (store, actor) = self.target(args.store.as_deref(), &ctx).await?;
            let command = command_of(args)?;
            reverie_ingest::redact::run_memory_tool(
                self.store.as_ref(),
                &store.id,
                &command,
                &actor,
            )
            .await
        };
        Ok(match run.await {
            Ok(out) if out.is_error => CallToolResult::error(vec![ContentBlock::text(out.content)]),
            Ok(out) => text(out.content),
            Err(e) => failed(e),
        })
    }

    #[tool(
        description = "Search this memory store: the entries most relevant to a query, best \
                       first, each with the file and section it is in. Use it before answering \
                       from what past sessions learned."
    )]
    async fn recall(
        &self,
        Parameters(args): Parameters<RecallArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> std::result::Result<CallToolResult, ErrorData> {
        let run = async {
            let (store, _) = self.target(args.store.as_deref(), &ctx).await?;
            self.visible_session(args.session_id.as_deref(), &ctx)
                .await?;
            let query = RecallQuery {
                query: args.query,
                limit: args.limit.unwrap_or(DEFAULT_RECALL_LIMIT),
                path_prefix: args.path_prefix,
                since: parse_since(args.since.as_deref())?,
                serve: Some(Via::Recall),
                session_id: args.session_id,
            };
            let found = self.store.recall(&store.id, &query).await?;
            Ok::<_, Error>(render_recall(&store, &query.query, &found))
        };
        Ok(run.await.map_or_else(failed, text))
    }

    #[tool(
        description = "Remember a note for future sessions: it is appended to the memory store \
                       at once (recall finds it) and the next dream curates it with everything \
                       else. State it so it makes sense without this conversation. Never include \
                       secrets: a note holding one is refused, as is one that reads as an \
                       instruction to AI agents."
    )]
    async fn remember(
        &self,
        Parameters(args): Parameters<RememberArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> std::result::Result<CallToolResult, ErrorData> {
        let run = async {
            let (store, actor) = self.target(args.store.as_deref(), &ctx).await?;
            remember::remember(
                self.store.as_ref(),
                &store.id,
                &args.text,
                args.path.as_deref(),
                &actor,
            )
            .await
        };
        Ok(match run.await {
            Ok(r) if r.written => text(format!("Remembered in {}: {}", r.path, r.note)),
            Ok(r) => text(format!("Already remembered in {}: {}", r.path, r.note)),
            Err(e) => failed(e),
        })
    }

    #[tool(
        description = "What to read at the start of a session: pinned entries, the memory's \
                       index and the entries most relevant to the query, within a token budget."
    )]
    async fn context(
        &self,
        Parameters(args): Parameters<ContextArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> std::result::Result<CallToolResult, ErrorData> {
        let run = async {
            let (store, _) = self.target(args.store.as_deref(), &ctx).await?;
            self.visible_session(args.session_id.as_deref(), &ctx)
                .await?;
            let d = ContextRequest::default();
            let req = ContextRequest {
                query: args.query,
                budget: args.budget.unwrap_or(d.budget),
                session_id: args.session_id,
                ..d
            };
            serving::context(self.store.as_ref(), &store.id, &req).await
        };
        Ok(run.await.map_or_else(failed, |c| text(c.text)))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("reverie", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "reverie keeps this agent's memory across sessions. Call `context` at the start \
                 of a session, `recall` before answering from past work, and `remember` for what \
                 future sessions should know. `memory` reads and edits the memory files directly.",
            )
    }
}

/// The store an HTTP connection names: `?store=` on the URL (percent-decoded), or the
/// `x-reverie-store` header.
fn connection_store(parts: &Parts) -> Result<Option<String>> {
    let params = Params::parse(parts.uri.query())?;
    if let Some(s) = params.get("store").filter(|s| !s.is_empty()) {
        return Ok(Some(s.to_string()));
    }
    Ok(parts
        .headers
        .get("x-reverie-store")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string))
}

/// The memory tool's command from the tool's arguments (`store` is the connection's business).
fn command_of(args: MemoryArgs) -> Result<Command> {
    let mut v = serde_json::Map::new();
    let mut put = |k: &str, x: Option<serde_json::Value>| {
        if let Some(x) = x {
            v.insert(k.to_string(), x);
        }
    };
    let name = match args.command {
        MemoryCommand::View => "view",
        MemoryCommand::Create => "create",
        MemoryCommand::StrReplace => "str_replace",
        MemoryCommand::Insert => "insert",
        MemoryCommand::Delete => "delete",
        MemoryCommand::Rename => "rename",
    };
    put("command", Some(name.into()));
    put("path", args.path.map(Into::into));
    put("view_range", args.view_range.map(Into::into));
    put("file_text", args.file_text.map(Into::into));
    put("old_str", args.old_str.map(Into::into));
    put("new_str", args.new_str.map(Into::into));
    put("insert_line", args.insert_line.map(Into::into));
    put("insert_text", args.insert_text.map(Into::into));
    put("old_path", args.old_path.map(Into::into));
    put("new_path", args.new_path.map(Into::into));
    Command::from_value(serde_json::Value::Object(v))
}

/// Recall's results as the agent reads them.
fn render_recall(
    store: &MemoryStore,
    query: &str,
    found: &[reverie_core::search::Recalled],
) -> String {
    if found.is_empty() {
        return format!("Nothing in {} matches {query:?}.", store.name);
    }
    let mut out = String::new();
    for (i, r) in found.iter().enumerate() {
        let mut place = r.path.clone();
        if !r.section.is_empty() {
            place.push_str(" § ");
            place.push_str(&r.section.join(" › "));
        }
        out.push_str(&format!(
            "{}. [{place}] {} (score {:.2}, updated {})\n",
            i + 1,
            r.text.replace('\n', " "),
            r.score,
            r.updated_at
        ));
    }
    out
}

/// Serves the tools over stdin and stdout until the client closes them.
pub async fn serve_stdio(server: McpServer) -> std::io::Result<()> {
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(std::io::Error::other)?;
    running.waiting().await.map_err(std::io::Error::other)?;
    Ok(())
}

/// The `/mcp` endpoint: streamable HTTP, stateless, JSON answers, behind the API's key check.
pub fn http_service(
    store: Arc<dyn Store>,
    max_body_bytes: usize,
) -> StreamableHttpService<McpServer, NeverSessionManager> {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        // Host checks guard unauthenticated local servers against DNS rebinding; every request
        // here carries an API key a rebound page cannot know, and the server may be behind any
        // name.
        .disable_allowed_hosts()
        .with_max_request_body_bytes(max_body_bytes);
    StreamableHttpService::new(
        // Stateless: a server per request. The tools' schemas are built once and shared.
        {
            let prototype = McpServer::http(store);
            move || Ok(prototype.clone())
        },
        Arc::new(NeverSessionManager::default()),
        config,
    )
}

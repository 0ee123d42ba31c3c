//! Requests and reports of the [`Store`](crate::Store) trait, in the terms of the wire
//! contract (field names match the API's parameters).

use std::collections::BTreeMap;

use reverie_core::{Actor, Operation, Timestamp, View};
use serde::{Deserialize, Serialize};

/// A new memory store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewStore {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// reverie: the most memories the store may hold (default 2,000).
    #[serde(default)]
    pub max_memories: Option<i64>,
}

/// Changes to a store's own fields; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    /// Keys to set (`Some`) or remove (`None`); keys left out keep their values.
    pub metadata: Option<BTreeMap<String, Option<String>>>,
    pub max_memories: Option<i64>,
}

/// Listing stores, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreQuery {
    pub include_archived: bool,
    pub created_at_gte: Option<Timestamp>,
    pub created_at_lte: Option<Timestamp>,
    pub limit: Option<i64>,
    pub page: Option<String>,
    /// Only these stores (an API key's); `None`: every store.
    pub only: Option<Vec<String>>,
}

/// Listing memories, in path order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryQuery {
    pub path_prefix: Option<String>,
    /// 0 (the default) lists everything below the prefix; `n` groups deeper memories into
    /// `memory_prefix` items.
    pub depth: Option<i64>,
    pub limit: Option<i64>,
    pub page: Option<String>,
    pub view: View,
}

/// Changes to a memory: new content, a new path (a rename keeps the id), and an optional
/// `content_sha256` precondition on the current content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryPatch {
    pub content: Option<String>,
    pub path: Option<String>,
    pub precondition_content_sha256: Option<String>,
}

/// Listing memory versions, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionQuery {
    pub memory_id: Option<String>,
    pub operation: Option<Operation>,
    pub created_at_gte: Option<Timestamp>,
    pub created_at_lte: Option<Timestamp>,
    pub api_key_id: Option<String>,
    pub session_id: Option<String>,
    pub service_account_id: Option<String>,
    pub limit: Option<i64>,
    pub page: Option<String>,
    pub view: View,
}

/// One store revision: what changed, who changed it, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub memory_store_id: String,
    pub revision: i64,
    pub created_at: Timestamp,
    pub created_by: Option<Actor>,
    pub summary: String,
}

/// What a restore did. `revision` is the new revision it wrote, or `None` when the store was
/// already in the requested state and nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreReport {
    pub memory_store_id: String,
    pub revision: Option<i64>,
    /// The revision (store restore) or version (memory restore) brought back.
    pub restored_to: String,
    pub recreated: Vec<String>,
    pub modified: Vec<String>,
    pub deleted: Vec<String>,
}

impl RestoreReport {
    /// Memories the restore touched.
    pub fn changed(&self) -> usize {
        self.recreated.len() + self.modified.len() + self.deleted.len()
    }
}

/// The memory tool's answer and the revision its changes were written in, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolOutcome {
    pub is_error: bool,
    pub content: String,
    pub revision: Option<i64>,
}

/// A new session, before any event.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSession {
    pub store_id: String,
    pub source_format: reverie_core::session::SourceFormat,
    /// The source file; unique per store, so that a file is one session.
    pub source_path: Option<String>,
    pub outcome: Option<reverie_core::session::Outcome>,
}

/// Where ingest of a session's source stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceState {
    pub session_id: String,
    pub source_format: reverie_core::session::SourceFormat,
    /// Bytes of the source read into the session.
    pub consumed_bytes: i64,
    /// blake3 of those bytes, to tell an append from a rewrite.
    pub consumed_hash: Option<String>,
    pub next_line: i64,
    /// The seq the next event gets.
    pub next_seq: i64,
}

/// Events and raw lines appended to a session in one transaction, with the new cursor.
#[derive(Debug, Clone, Default)]
pub struct SessionBatch {
    /// The cursor this batch was read from; a session moved meanwhile refuses the batch.
    pub expect_consumed: i64,
    pub expect_seq: i64,
    /// The raw lines read (`Vec<(line, text)>` converts into it), or their compressed blocks.
    pub lines: crate::line_blocks::BatchLines,
    pub events: Vec<reverie_core::session::Event>,
    pub consumed_bytes: i64,
    pub consumed_hash: Option<String>,
    pub next_line: i64,
    pub meta: reverie_core::session::SessionMeta,
}

/// Listing dreams, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DreamQuery {
    /// Only the dreams of this input store.
    pub store_id: Option<String>,
    /// Only the dreams of these input stores (an API key's scope), filtered in the query so
    /// that pages and their cursors never name another store's dreams.
    pub only: Option<Vec<String>>,
    pub statuses: Vec<reverie_core::dream::DreamStatus>,
    pub include_archived: bool,
    pub created_at_gt: Option<Timestamp>,
    pub created_at_lt: Option<Timestamp>,
    pub limit: Option<i64>,
    pub page: Option<String>,
}

/// A store as a dream reads it, at one revision, read in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreState {
    pub store: reverie_core::MemoryStore,
    /// Every live memory, with content, sorted by path.
    pub memories: Vec<reverie_core::Memory>,
    /// Every entry's metadata, sorted by id.
    pub entries: Vec<reverie_core::curation::EntryMeta>,
    pub policy: reverie_core::policy::Policy,
}

/// One memory a dream writes: new content at a path, or a deletion (`content: None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DreamWrite {
    /// `None` for a memory the dream creates.
    pub memory_id: Option<String>,
    pub path: String,
    pub content: Option<String>,
}

/// A finished dream's result, to commit (or to keep as a proposal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DreamResult {
    /// The input store's revision the result was computed from.
    pub base_revision: i64,
    /// The policy and pinned entries it was computed under (a digest), so that a change to
    /// either since is noticed.
    pub guard_digest: String,
    /// The memories that change.
    pub writes: Vec<DreamWrite>,
    /// Every entry's metadata afterwards.
    pub entries: Vec<reverie_core::curation::EntryMeta>,
    pub changeset: reverie_core::curation::Changeset,
}

/// A running dream and its runner.
#[derive(Debug, Clone, PartialEq)]
pub struct RunningDream {
    pub dream: reverie_core::dream::Dream,
    /// `host:pid` of the process running it.
    pub runner: Option<String>,
    /// When the runner last said it was alive.
    pub heartbeat_at: Option<Timestamp>,
}

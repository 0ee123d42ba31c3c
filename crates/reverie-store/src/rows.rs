//! Rows as both backends store them, and their conversion into the contract's objects.

use reverie_core::{
    Actor, Error, Memory, MemoryStore, MemoryVersion, Operation, Result, Timestamp,
};

#[derive(Debug, Clone)]
pub struct StoreRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub metadata: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub archived_at: Option<i64>,
    pub revision: i64,
    pub max_memories: i64,
    pub memory_count: i64,
}

#[derive(Debug, Clone)]
pub struct MemoryRow {
    pub id: String,
    pub store_id: String,
    pub path: String,
    /// `None` when the query left content out.
    pub content: Option<Vec<u8>>,
    pub content_sha256: String,
    pub content_size_bytes: i64,
    pub version_id: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct VersionRow {
    pub seq: i64,
    pub id: String,
    pub store_id: String,
    pub memory_id: String,
    pub revision: i64,
    pub operation: String,
    pub path: Option<String>,
    pub content: Option<Vec<u8>>,
    pub content_sha256: Option<String>,
    pub content_size_bytes: Option<i64>,
    pub actor_type: Option<String>,
    pub actor_id: Option<String>,
    pub created_at: i64,
    pub redacted_at: Option<i64>,
    pub redacted_by_type: Option<String>,
    pub redacted_by_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RevisionRow {
    pub store_id: String,
    pub revision: i64,
    pub created_at: i64,
    pub actor_type: Option<String>,
    pub actor_id: Option<String>,
    pub summary: String,
}

pub(crate) fn text(bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|_| Error::storage("stored content is not UTF-8"))
}

fn actor(kind: Option<String>, id: Option<String>) -> Option<Actor> {
    Actor::from_parts(&kind?, id?)
}

impl StoreRow {
    pub fn into_model(self) -> Result<MemoryStore> {
        let metadata = serde_json::from_str(&self.metadata).map_err(|e| {
            Error::storage(format!(
                "stored metadata of {} is not a JSON object: {e}",
                self.id
            ))
        })?;
        Ok(MemoryStore {
            id: self.id,
            name: self.name,
            description: self.description,
            metadata,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
            archived_at: self.archived_at.map(Timestamp),
            revision: self.revision,
            max_memories: self.max_memories,
            memory_count: self.memory_count,
        })
    }
}

impl MemoryRow {
    pub fn into_model(self) -> Result<Memory> {
        Ok(Memory {
            id: self.id,
            memory_store_id: self.store_id,
            path: self.path,
            content: self.content.map(text).transpose()?,
            content_sha256: self.content_sha256,
            content_size_bytes: self.content_size_bytes,
            memory_version_id: self.version_id,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        })
    }
}

impl VersionRow {
    pub fn into_model(self) -> Result<MemoryVersion> {
        Ok(MemoryVersion {
            id: self.id,
            memory_id: self.memory_id,
            memory_store_id: self.store_id,
            operation: Operation::parse(&self.operation)?,
            path: self.path,
            content: self.content.map(text).transpose()?,
            content_sha256: self.content_sha256,
            content_size_bytes: self.content_size_bytes,
            created_at: Timestamp(self.created_at),
            created_by: actor(self.actor_type, self.actor_id),
            redacted_at: self.redacted_at.map(Timestamp),
            redacted_by: actor(self.redacted_by_type, self.redacted_by_id),
            revision: self.revision,
        })
    }
}

impl RevisionRow {
    pub fn into_model(self) -> crate::params::Revision {
        crate::params::Revision {
            memory_store_id: self.store_id,
            revision: self.revision,
            created_at: Timestamp(self.created_at),
            created_by: actor(self.actor_type, self.actor_id),
            summary: self.summary,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: String,
    pub store_id: String,
    pub source_format: String,
    pub source_path: Option<String>,
    pub source_session_id: Option<String>,
    pub project: Option<String>,
    pub git_branch: Option<String>,
    pub model: Option<String>,
    pub agent_version: Option<String>,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub event_count: i64,
    pub error_count: i64,
    pub line_count: i64,
    pub outcome_status: Option<String>,
    pub outcome_score: Option<f64>,
    pub outcome_note: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub consumed_bytes: i64,
    pub consumed_hash: Option<String>,
    pub next_line: i64,
}

impl SessionRow {
    pub fn into_model(self) -> Result<reverie_core::session::Session> {
        use reverie_core::session::{Outcome, OutcomeStatus, Session, SourceFormat};
        let outcome = match self.outcome_status {
            Some(s) => Some(Outcome {
                status: OutcomeStatus::parse(&s)?,
                score: self.outcome_score,
                note: self.outcome_note,
            }),
            None => None,
        };
        Ok(Session {
            id: self.id,
            memory_store_id: self.store_id,
            source_format: SourceFormat::parse(&self.source_format)?,
            source_path: self.source_path,
            source_session_id: self.source_session_id,
            project: self.project,
            git_branch: self.git_branch,
            model: self.model,
            agent_version: self.agent_version,
            started_at: self.started_at.map(Timestamp),
            ended_at: self.ended_at.map(Timestamp),
            event_count: self.event_count,
            error_count: self.error_count,
            line_count: self.line_count,
            outcome,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        })
    }
}

#[derive(Debug, Clone)]
pub struct EventRow {
    pub seq: i64,
    pub kind: String,
    pub line: Option<i64>,
    pub ts: Option<i64>,
    pub uuid: Option<String>,
    pub parent_uuid: Option<String>,
    pub sidechain: i64,
    pub agent_id: Option<String>,
    pub speaker: Option<String>,
    pub text: Option<String>,
    pub tool_name: Option<String>,
    pub tool_use_id: Option<String>,
    pub tool_input: Option<String>,
    pub is_error: i64,
    pub subtype: Option<String>,
}

/// Text as both backends can store it: PostgreSQL's text cannot hold NUL, so NUL becomes
/// U+FFFD on both (JSON text escapes it and is unaffected).
pub fn storable(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\0') {
        std::borrow::Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

impl EventRow {
    pub fn from_model(e: &reverie_core::session::Event) -> EventRow {
        EventRow {
            seq: e.seq,
            kind: e.kind.as_str().to_string(),
            line: e.line,
            ts: e.timestamp.map(Timestamp::micros),
            uuid: e.uuid.clone(),
            parent_uuid: e.parent_uuid.clone(),
            sidechain: e.sidechain as i64,
            agent_id: e.agent_id.clone(),
            speaker: e.speaker.clone(),
            text: e.text.as_deref().map(|t| storable(t).into_owned()),
            tool_name: e.tool_name.clone(),
            tool_use_id: e.tool_use_id.clone(),
            tool_input: e.tool_input.as_ref().map(|v| v.to_string()),
            is_error: e.is_error as i64,
            subtype: e.subtype.clone(),
        }
    }

    pub fn into_model(self) -> Result<reverie_core::session::Event> {
        use reverie_core::session::{Event, EventKind};
        Ok(Event {
            seq: self.seq,
            kind: EventKind::parse(&self.kind)?,
            line: self.line,
            timestamp: self.ts.map(Timestamp),
            uuid: self.uuid,
            parent_uuid: self.parent_uuid,
            sidechain: self.sidechain != 0,
            agent_id: self.agent_id,
            speaker: self.speaker,
            text: self.text,
            tool_name: self.tool_name,
            tool_use_id: self.tool_use_id,
            tool_input: self
                .tool_input
                .map(|t| {
                    serde_json::from_str(&t)
                        .map_err(|e| Error::storage(format!("stored tool input is not JSON: {e}")))
                })
                .transpose()?,
            is_error: self.is_error != 0,
            subtype: self.subtype,
        })
    }
}

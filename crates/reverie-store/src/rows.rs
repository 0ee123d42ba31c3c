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

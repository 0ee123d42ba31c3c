//! The objects of the wire contract: memory stores, memories, memory prefixes, memory versions
//! and actors, serialized exactly as the SDK's types expect them.
//!
//! reverie adds fields the contract lacks: `revision` on stores and versions (the store
//! revision a change created), and `max_memories` and `memory_count` on stores. Clients ignore fields they do not
//! know, so the additions do not change the contract's behaviour.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::timestamp::Timestamp;

/// Who made a change: the contract's `BetaManagedAgentsActor` union.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Actor {
    #[serde(rename = "api_actor")]
    Api { api_key_id: String },
    #[serde(rename = "user_actor")]
    User { user_id: String },
    #[serde(rename = "session_actor")]
    Session { session_id: String },
    #[serde(rename = "service_account_actor")]
    ServiceAccount { service_account_id: String },
}

impl Actor {
    /// The `type` tag, also the column value in storage.
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::Api { .. } => "api_actor",
            Actor::User { .. } => "user_actor",
            Actor::Session { .. } => "session_actor",
            Actor::ServiceAccount { .. } => "service_account_actor",
        }
    }

    /// The actor's id, whatever its kind.
    pub fn id(&self) -> &str {
        match self {
            Actor::Api { api_key_id: id }
            | Actor::User { user_id: id }
            | Actor::Session { session_id: id }
            | Actor::ServiceAccount {
                service_account_id: id,
            } => id,
        }
    }

    /// Rebuilds an actor from its storage columns.
    pub fn from_parts(kind: &str, id: String) -> Option<Self> {
        Some(match kind {
            "api_actor" => Actor::Api { api_key_id: id },
            "user_actor" => Actor::User { user_id: id },
            "session_actor" => Actor::Session { session_id: id },
            "service_account_actor" => Actor::ServiceAccount {
                service_account_id: id,
            },
            _ => return None,
        })
    }

    /// Parses the CLI's `KIND:ID` spelling (`user:user_ana`, `session:sesn_…`, `api:…`,
    /// `service:svac_…`).
    pub fn parse(spec: &str) -> Result<Self> {
        let (kind, id) = spec.split_once(':').ok_or_else(|| {
            Error::invalid(
                "actor",
                format!("{spec:?} is not KIND:ID (kinds: user, session, api, service)"),
            )
        })?;
        if id.is_empty() || id.chars().any(char::is_control) {
            return Err(Error::invalid(
                "actor",
                format!("{spec:?} has an empty or unprintable id"),
            ));
        }
        let id = id.to_string();
        Ok(match kind {
            "user" => Actor::User { user_id: id },
            "session" => Actor::Session { session_id: id },
            "api" => Actor::Api { api_key_id: id },
            "service" => Actor::ServiceAccount {
                service_account_id: id,
            },
            _ => {
                return Err(Error::invalid(
                    "actor",
                    format!("unknown kind {kind:?} (kinds: user, session, api, service)"),
                ));
            }
        })
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Actor::Api { .. } => "api",
            Actor::User { .. } => "user",
            Actor::Session { .. } => "session",
            Actor::ServiceAccount { .. } => "service",
        };
        write!(f, "{kind}:{}", self.id())
    }
}

/// A named container of memories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "memory_store")]
pub struct MemoryStore {
    pub id: String,
    pub name: String,
    pub description: String,
    pub metadata: BTreeMap<String, String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub archived_at: Option<Timestamp>,
    /// reverie: the store's revision, bumped by every change to its memories.
    pub revision: i64,
    /// reverie: the most memories the store may hold.
    pub max_memories: i64,
    /// reverie: how many memories the store holds.
    pub memory_count: i64,
}

/// A text document at a path in a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "memory")]
pub struct Memory {
    pub id: String,
    pub memory_store_id: String,
    pub path: String,
    /// `None` (serialized as `null`) with `view=basic`.
    pub content: Option<String>,
    pub content_sha256: String,
    pub content_size_bytes: i64,
    pub memory_version_id: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A directory marker in a depth-limited listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "memory_prefix")]
pub struct MemoryPrefix {
    /// The rolled-up prefix, ending with `/`.
    pub path: String,
}

/// One item of a memory listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ListItem {
    Memory(Memory),
    Prefix(MemoryPrefix),
}

impl ListItem {
    /// The item's path (a prefix ends with `/`).
    pub fn path(&self) -> &str {
        match self {
            ListItem::Memory(m) => &m.path,
            ListItem::Prefix(p) => &p.path,
        }
    }
}

/// The kind of change a version records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Created,
    Modified,
    Deleted,
}

impl Operation {
    /// The wire and storage spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Created => "created",
            Operation::Modified => "modified",
            Operation::Deleted => "deleted",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "created" => Ok(Operation::Created),
            "modified" => Ok(Operation::Modified),
            "deleted" => Ok(Operation::Deleted),
            _ => Err(Error::invalid(
                "operation",
                format!("{s:?} is not created, modified or deleted"),
            )),
        }
    }
}

/// One change to one memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "memory_version")]
pub struct MemoryVersion {
    pub id: String,
    pub memory_id: String,
    pub memory_store_id: String,
    pub operation: Operation,
    /// `None` only when redacted.
    pub path: Option<String>,
    /// `None` with `view=basic`, for `deleted` versions and when redacted.
    pub content: Option<String>,
    pub content_sha256: Option<String>,
    pub content_size_bytes: Option<i64>,
    pub created_at: Timestamp,
    pub created_by: Option<Actor>,
    pub redacted_at: Option<Timestamp>,
    pub redacted_by: Option<Actor>,
    /// reverie: the store revision this version belongs to.
    pub revision: i64,
}

/// Whether responses carry content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum View {
    #[default]
    Basic,
    Full,
}

impl View {
    /// Parses `basic` or `full`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "basic" => Ok(View::Basic),
            "full" => Ok(View::Full),
            _ => Err(Error::invalid(
                "view",
                format!("{s:?} is not basic or full"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_carry_their_type_tag() {
        let p = MemoryPrefix { path: "/a/".into() };
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"type": "memory_prefix", "path": "/a/"})
        );
        let a = Actor::Session {
            session_id: "sesn_1".into(),
        };
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            json!({"type": "session_actor", "session_id": "sesn_1"})
        );
        let m = Memory {
            id: "mem_1".into(),
            memory_store_id: "memstore_1".into(),
            path: "/a".into(),
            content: None,
            content_sha256: "x".into(),
            content_size_bytes: 0,
            memory_version_id: "memver_1".into(),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        };
        let v = serde_json::to_value(ListItem::Memory(m)).unwrap();
        assert_eq!(v["type"], "memory");
        assert!(
            v["content"].is_null(),
            "basic view serializes content as null, not absent"
        );
        assert_eq!(v["created_at"], "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn actor_spellings() {
        for spec in [
            "user:user_ana",
            "session:sesn_1",
            "api:apikey_1",
            "service:svac_1",
        ] {
            let a = Actor::parse(spec).unwrap();
            assert_eq!(a.to_string(), spec);
            assert_eq!(Actor::from_parts(a.kind(), a.id().to_string()), Some(a));
        }
        assert!(Actor::parse("robot:x").is_err());
        assert!(Actor::parse("user:").is_err());
        assert!(Actor::parse("nocolon").is_err());
    }
}

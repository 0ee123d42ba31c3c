//! Rows of the curation tables (dreams, entries, policies) and their conversion to and from
//! the domain types. Structured fields are JSON text in storage.

use reverie_core::curation::{EntryKind, EntryMeta, EntryState, Evidence};
use reverie_core::dream::{
    Dream, DreamError, DreamInput, DreamOutput, DreamStatus, ModelConfig, OutputBehavior, Review,
    ReviewState, Usage,
};
use reverie_core::{Actor, Error, Result, Timestamp};

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("domain types serialize")
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, id: &str, s: &str) -> Result<T> {
    serde_json::from_str(s)
        .map_err(|e| Error::storage(format!("stored {what} of {id} is unreadable: {e}")))
}

/// A JSON list; the empty one, which most entries' provenance and many sections are, without
/// the parser.
fn parse_list<T: serde::de::DeserializeOwned>(what: &str, id: &str, s: &str) -> Result<Vec<T>> {
    if s == "[]" {
        return Ok(Vec::new());
    }
    parse(what, id, s)
}

/// A row of `entries`.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRow {
    pub store_id: String,
    pub id: String,
    pub state: String,
    pub kind: String,
    pub path: String,
    pub section: String,
    pub text: String,
    pub provenance: String,
    pub served: i64,
    pub helpful: i64,
    pub harmful: i64,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    pub superseded_by: Option<String>,
    pub pinned: i64,
    pub dream_id: Option<String>,
}

impl EntryRow {
    pub fn from_model(store_id: &str, e: &EntryMeta) -> EntryRow {
        EntryRow {
            store_id: store_id.to_string(),
            id: e.id.clone(),
            state: e.state.as_str().to_string(),
            kind: e.kind.as_str().to_string(),
            path: e.path.clone(),
            section: json(&e.section),
            text: e.text.replace('\0', "\u{FFFD}"),
            provenance: json(&e.provenance),
            served: e.served,
            helpful: e.helpful,
            harmful: e.harmful,
            first_seen: e.first_seen.map(Timestamp::micros),
            last_seen: e.last_seen.map(Timestamp::micros),
            superseded_by: e.superseded_by.clone(),
            pinned: e.pinned as i64,
            dream_id: e.dream_id.clone(),
        }
    }

    pub fn into_model(self) -> Result<EntryMeta> {
        EntryCols {
            id: self.id,
            state: &self.state,
            kind: &self.kind,
            path: self.path,
            section: &self.section,
            text: self.text,
            provenance: &self.provenance,
            served: self.served,
            helpful: self.helpful,
            harmful: self.harmful,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            superseded_by: self.superseded_by,
            pinned: self.pinned,
            dream_id: self.dream_id,
        }
        .into_model()
    }
}

/// An entry's columns as read: what becomes a string of the metadata is owned, what is parsed
/// (state, kind, the JSON lists) is borrowed, so that a direct read copies nothing twice.
pub(crate) struct EntryCols<'r> {
    pub id: String,
    pub state: &'r str,
    pub kind: &'r str,
    pub path: String,
    pub section: &'r str,
    pub text: String,
    pub provenance: &'r str,
    pub served: i64,
    pub helpful: i64,
    pub harmful: i64,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    pub superseded_by: Option<String>,
    pub pinned: i64,
    pub dream_id: Option<String>,
}

impl EntryCols<'_> {
    pub(crate) fn into_model(self) -> Result<EntryMeta> {
        let section: Vec<String> = parse_list("section", &self.id, self.section)?;
        let provenance: Vec<Evidence> = parse_list("provenance", &self.id, self.provenance)?;
        Ok(EntryMeta {
            state: EntryState::parse(self.state)?,
            kind: EntryKind::parse(self.kind)?,
            path: self.path,
            section,
            text: self.text,
            provenance,
            served: self.served,
            helpful: self.helpful,
            harmful: self.harmful,
            first_seen: self.first_seen.map(Timestamp),
            last_seen: self.last_seen.map(Timestamp),
            superseded_by: self.superseded_by,
            pinned: self.pinned != 0,
            dream_id: self.dream_id,
            id: self.id,
        })
    }
}

/// A row of `dreams`.
#[derive(Debug, Clone, PartialEq)]
pub struct DreamRow {
    pub id: String,
    pub store_id: String,
    pub status: String,
    pub session_ids: String,
    pub model: String,
    pub instructions: Option<String>,
    pub output_behavior: String,
    pub output_store_id: Option<String>,
    pub review: Option<String>,
    pub decided_at: Option<i64>,
    pub decided_by_type: Option<String>,
    pub decided_by_id: Option<String>,
    pub base_revision: Option<i64>,
    pub applied_revision: Option<i64>,
    pub reverted_revision: Option<i64>,
    pub changeset: Option<String>,
    pub proposal: Option<String>,
    pub entries_undo: Option<String>,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    pub usage: String,
    pub runner: Option<String>,
    pub heartbeat_at: Option<i64>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub archived_at: Option<i64>,
    pub updated_at: i64,
}

impl DreamRow {
    pub fn status(&self) -> Result<DreamStatus> {
        DreamStatus::parse(&self.status)
    }

    pub fn is_update_existing(&self) -> bool {
        self.output_behavior == "update_existing"
    }

    pub fn review_state(&self) -> Option<ReviewState> {
        self.review.as_deref().and_then(ReviewState::parse)
    }

    /// The changeset, once the dream completed.
    pub fn changeset(&self) -> Result<Option<reverie_core::curation::Changeset>> {
        self.changeset
            .as_deref()
            .map(|c| parse("changeset", &self.id, c))
            .transpose()
    }

    pub fn into_model(self) -> Result<Dream> {
        let session_ids: Vec<String> = parse("session ids", &self.id, &self.session_ids)?;
        let model: ModelConfig = parse("model", &self.id, &self.model)?;
        let usage: Usage = parse("usage", &self.id, &self.usage)?;
        let status = DreamStatus::parse(&self.status)?;
        let output_behavior = if self.is_update_existing() {
            OutputBehavior::UpdateExisting {
                memory_store_id: self.store_id.clone(),
            }
        } else {
            OutputBehavior::CreateNew
        };
        let review = self.review_state().map(|state| Review {
            state,
            decided_at: self.decided_at.map(Timestamp),
            decided_by: match (self.decided_by_type, self.decided_by_id) {
                (Some(k), Some(id)) => Actor::from_parts(&k, id),
                _ => None,
            },
        });
        let error = match (self.error_type, self.error_message) {
            (Some(kind), Some(message)) => Some(DreamError { kind, message }),
            _ => None,
        };
        Ok(Dream {
            id: self.id,
            archived_at: self.archived_at.map(Timestamp),
            created_at: Timestamp(self.created_at),
            ended_at: self.ended_at.map(Timestamp),
            error,
            inputs: vec![
                DreamInput::MemoryStore {
                    memory_store_id: self.store_id,
                },
                DreamInput::Sessions { session_ids },
            ],
            instructions: self.instructions,
            model,
            output_behavior,
            outputs: self
                .output_store_id
                .map(|memory_store_id| vec![DreamOutput { memory_store_id }])
                .unwrap_or_default(),
            session_id: None,
            status,
            usage,
            review,
            base_revision: self.base_revision,
            applied_revision: self.applied_revision,
            reverted_revision: self.reverted_revision,
        })
    }
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> String {
    json(v)
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    what: &str,
    id: &str,
    s: &str,
) -> Result<T> {
    parse(what, id, s)
}

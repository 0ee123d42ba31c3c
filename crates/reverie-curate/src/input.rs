//! What a dream reads, loaded by the caller before any stage runs: the store (memories, entry
//! metadata, policy) at one revision, the sessions with their events, and the dream's settings.

use reverie_core::curation::EntryMeta;
use reverie_core::policy::Policy;
use reverie_core::session::{Event, Session};
use reverie_core::timestamp::Timestamp;

/// One memory of the store, with its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryText {
    pub id: String,
    pub path: String,
    pub content: String,
}

/// The store as the dream reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreSnapshot {
    pub store_id: String,
    pub revision: i64,
    /// Every live memory, sorted by path.
    pub memories: Vec<MemoryText>,
    /// Every entry's metadata the store keeps, in any state, sorted by id.
    pub entries: Vec<EntryMeta>,
    pub policy: Policy,
}

/// One session with its events, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInput {
    pub session: Session,
    pub events: Vec<Event>,
}

/// An entry served to an agent during a session (recorded by recall and context).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Serving {
    pub session_id: String,
    pub entry_id: String,
}

/// Everything a dream reads.
#[derive(Debug, Clone, PartialEq)]
pub struct DreamInput {
    pub dream_id: String,
    pub store: StoreSnapshot,
    /// Sorted by start time, then id.
    pub sessions: Vec<SessionInput>,
    pub servings: Vec<Serving>,
    /// Steering from the dream's creator; the deterministic curator reads none of it.
    pub instructions: Option<String>,
}

impl DreamInput {
    /// The dream's notion of "now": the newest time any input carries. Never the wall clock, so
    /// that the same inputs give the same output.
    pub fn now(&self) -> Timestamp {
        let sessions = self
            .sessions
            .iter()
            .filter_map(|s| s.session.ended_at.or(s.session.started_at));
        let entries = self.store.entries.iter().filter_map(|e| e.last_seen);
        sessions.chain(entries).max().unwrap_or(Timestamp(0))
    }
}

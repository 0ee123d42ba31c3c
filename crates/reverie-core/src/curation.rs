//! What curation keeps beside a store's text: entry metadata (provenance, counters, first and
//! last seen, supersession), and the changeset a dream records.
//!
//! Memories stay clean markdown that agents and people edit freely; everything a dream knows
//! about an entry lives here, keyed by an entry id, and is re-associated with the text by
//! similarity when the text was edited outside a dream.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::timestamp::Timestamp;

/// Where an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// In a memory, served to agents.
    Live,
    /// Moved out of the served memory to stay under the budget; restorable.
    Archived,
    /// Replaced by newer, contradicting evidence (`superseded_by`); restorable.
    Superseded,
}

impl EntryState {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryState::Live => "live",
            EntryState::Archived => "archived",
            EntryState::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "live" => Ok(EntryState::Live),
            "archived" => Ok(EntryState::Archived),
            "superseded" => Ok(EntryState::Superseded),
            _ => Err(Error::invalid(
                "state",
                format!("{s:?} is not live, archived or superseded"),
            )),
        }
    }
}

/// Where an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Written by a person or an agent outside a dream.
    Manual,
    /// Written through the memory tool during a session.
    MemoryWrite,
    /// An explicit request to remember ("remember that…", "from now on…", "always…").
    Instruction,
    /// A user's correction of the assistant.
    Correction,
    /// A tool error and the retry that worked.
    Lesson,
    /// A fact stated again across sessions.
    Fact,
    /// A definition of a term.
    Glossary,
    /// A line of the index the dream maintains.
    Index,
    /// What was said in a conversation among people, by whom and when, compressed.
    Episode,
}

impl EntryKind {
    pub const ALL: [EntryKind; 9] = [
        EntryKind::Manual,
        EntryKind::MemoryWrite,
        EntryKind::Instruction,
        EntryKind::Correction,
        EntryKind::Lesson,
        EntryKind::Fact,
        EntryKind::Glossary,
        EntryKind::Index,
        EntryKind::Episode,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Manual => "manual",
            EntryKind::MemoryWrite => "memory_write",
            EntryKind::Instruction => "instruction",
            EntryKind::Correction => "correction",
            EntryKind::Lesson => "lesson",
            EntryKind::Fact => "fact",
            EntryKind::Glossary => "glossary",
            EntryKind::Index => "index",
            EntryKind::Episode => "episode",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        EntryKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Error::invalid("kind", format!("{s:?} is not an entry kind")))
    }
}

/// Where in which session something was said or done.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Evidence {
    pub session_id: String,
    /// The event's position in the session.
    pub seq: i64,
    /// What the event said, cut to a few hundred characters.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub quote: String,
}

/// Everything a store knows about one entry besides its text's place in a memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryMeta {
    /// `ent_…`, stable for the entry's life.
    pub id: String,
    pub state: EntryState,
    pub kind: EntryKind,
    /// The memory holding a live entry (its path at the last dream); where an archived or
    /// superseded one was.
    pub path: String,
    /// The headings above it, outermost first.
    pub section: Vec<String>,
    /// The entry's text (without its list marker), as of the last dream.
    pub text: String,
    /// The sessions and events it came from, oldest first.
    pub provenance: Vec<Evidence>,
    /// How often it was served to an agent (read, recalled, put in context).
    pub served: i64,
    /// Served in sessions that succeeded.
    pub helpful: i64,
    /// Served in sessions that failed.
    pub harmful: i64,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    /// The entry that replaced it, for a superseded entry.
    pub superseded_by: Option<String>,
    /// Never changed, merged or archived by a dream.
    pub pinned: bool,
    /// The dream that last changed its state or text.
    pub dream_id: Option<String>,
}

impl EntryMeta {
    /// A live entry nothing has served, changed or pinned yet.
    pub fn new(id: String, kind: EntryKind, path: &str, section: Vec<String>, text: &str) -> Self {
        EntryMeta {
            id,
            state: EntryState::Live,
            kind,
            path: path.to_string(),
            section,
            text: text.to_string(),
            provenance: Vec::new(),
            served: 0,
            helpful: 0,
            harmful: 0,
            first_seen: None,
            last_seen: None,
            superseded_by: None,
            pinned: false,
            dream_id: None,
        }
    }
}

/// The memory the dream keeps definitions in; context re-serves its entries by term.
pub const GLOSSARY_PATH: &str = "/glossary.md";

/// The term a glossary entry defines: `**term**: definition` or `**term** — definition` gives
/// `term` (trimmed, at most 80 bytes).
pub fn glossary_term(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("**")?;
    let (term, _) = rest.split_once("**")?;
    let term = term.trim();
    (!term.is_empty() && term.len() <= 80).then_some(term)
}

/// The id of an entry no dream wrote (written through the API or the memory tool), derived
/// from where and what it is, so that whoever first records it — a dream orienting itself, or
/// recall serving it — gives it the same id. `n` counts up past ids already taken.
pub fn manual_entry_id(store_id: &str, path: &str, body: &str, n: u32) -> String {
    let seed = format!("{store_id}\0manual\0{path}\0{body}\0{n}");
    crate::id::derived_id(crate::id::IdKind::Entry, seed.as_bytes())
}

/// What a dream does to an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// A new entry from the sessions.
    Add,
    /// Entries about the same thing folded into one (`sources` are folded into `entry_id`).
    Merge,
    /// An entry's text changed (more specific, corrected, re-worded).
    Rewrite,
    /// An entry replaced by newer, contradicting evidence; it leaves the served memory.
    Supersede,
    /// An entry moved out of the served memory to meet the budget; restorable.
    Archive,
    /// An entry or candidate deliberately left as it is (held for review, refused as junk or
    /// possible injection, or kept by the budget despite pressure because it is pinned).
    Keep,
}

impl OpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Merge => "merge",
            OpKind::Rewrite => "rewrite",
            OpKind::Supersede => "supersede",
            OpKind::Archive => "archive",
            OpKind::Keep => "keep",
        }
    }
}

/// One operation of a changeset, with its reason and evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Op {
    pub op: OpKind,
    /// The entry the operation produces or acts on.
    pub entry_id: String,
    /// The memory the entry is (or was) in.
    pub path: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub section: Vec<String>,
    /// The text before (`None` for an add).
    pub before: Option<String>,
    /// The text after (`None` when the entry leaves the served memory).
    pub after: Option<String>,
    /// The entries folded in by a merge, or the one that supersedes, by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// Why, in words.
    pub reason: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    /// Warnings a reviewer must see: `possible_injection`, `held_for_review`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
}

/// A flag on an operation: its text came from tool output and reads as an instruction to the
/// agent.
pub const FLAG_POSSIBLE_INJECTION: &str = "possible_injection";
/// A flag on an operation: it is only applied when a person approves it.
pub const FLAG_HELD_FOR_REVIEW: &str = "held_for_review";

/// One memory's change, with the digests that commit and revert check against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryChange {
    /// `None` for a memory the dream creates.
    pub memory_id: Option<String>,
    /// The path before (`None` when created).
    pub path_before: Option<String>,
    /// The path after (`None` when deleted).
    pub path_after: Option<String>,
    pub sha256_before: Option<String>,
    pub sha256_after: Option<String>,
    pub bytes_before: i64,
    pub bytes_after: i64,
}

/// Figures about a dream's input and output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Stats {
    pub sessions: i64,
    pub events: i64,
    pub candidates: i64,
    /// Parts of the sessions the readers could not read (a compaction summary or a hook line
    /// in an unknown shape): skipped, never a candidate, never a failed dream.
    #[serde(default)]
    pub skipped: i64,
    pub entries_before: i64,
    pub entries_after: i64,
    pub bytes_before: i64,
    pub bytes_after: i64,
    pub budget_bytes: i64,
}

/// Everything a dream changes and why.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Changeset {
    /// The store revision the dream read.
    pub base_revision: i64,
    pub ops: Vec<Op>,
    pub memories: Vec<MemoryChange>,
    pub stats: Stats,
    /// What a model curator did (absent when the deterministic curator ran as asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curator: Option<CuratorRun>,
}

/// A dream's curator run: which curator ran, what it cost, what the guard refused of what it
/// proposed, and the exchanges with the model, recorded so the dream can be replayed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CuratorRun {
    /// The curator that ran (`anthropic:claude-sonnet-4-6`, `reverie-deterministic`).
    pub curator: String,
    /// The model the dream asked for, when another curator ran instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested: Option<String>,
    /// Why another curator ran, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub usage: crate::dream::Usage,
    /// What the tokens cost in US dollars, where the model's prices are known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Requests the dream needed, and how many of them were answered from earlier answers to
    /// the same request (an attempt after a conflict) instead of the model.
    pub requests: i64,
    pub cached: i64,
    /// Operations the model proposed that the guard refused, each with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<RejectedOp>,
    /// Every request and its reply, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchanges: Vec<Exchange>,
}

/// An operation a model proposed and the guard refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedOp {
    /// `add`, `rewrite`, `merge`, `supersede`, `archive`, or what the model wrote.
    pub op: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The entries it named, by their texts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// The events it cited, as it cited them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cites: Vec<String>,
    pub reason: String,
}

/// One request to a model and its reply, as sent and received (the sessions in it are
/// redacted at ingest; the reply is redacted before it is stored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// The request's digest: the cache and replay key.
    pub digest: String,
    pub request: serde_json::Value,
    pub reply: serde_json::Value,
    /// Answered from an earlier attempt's reply, not by the model.
    #[serde(default)]
    pub cached: bool,
}

impl Changeset {
    /// The operations of one kind.
    pub fn ops_of(&self, kind: OpKind) -> impl Iterator<Item = &Op> {
        self.ops.iter().filter(move |o| o.op == kind)
    }

    /// Whether the dream changes nothing.
    pub fn is_empty(&self) -> bool {
        self.memories.is_empty()
    }
}

/// A digest of what a dream's guard depends on besides the memories: the policy, and the
/// pinned entries with their texts. A dream's result is only committed under the same digest it
/// was computed under; a change to either in between is a conflict.
pub fn guard_digest(policy: &crate::policy::Policy, entries: &[EntryMeta]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(policy).expect("policies serialize"));
    let mut pinned: Vec<&EntryMeta> = entries.iter().filter(|e| e.pinned).collect();
    pinned.sort_by(|a, b| a.id.cmp(&b.id));
    for e in pinned {
        h.update([0]);
        h.update(e.id.as_bytes());
        h.update([0]);
        h.update(e.text.as_bytes());
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in EntryKind::ALL {
            assert_eq!(EntryKind::parse(k.as_str()).unwrap(), k);
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for s in [
            EntryState::Live,
            EntryState::Archived,
            EntryState::Superseded,
        ] {
            assert_eq!(EntryState::parse(s.as_str()).unwrap(), s);
        }
        assert!(EntryState::parse("gone").is_err());
        assert_eq!(
            serde_json::to_value(OpKind::Supersede).unwrap(),
            "supersede"
        );
    }
}

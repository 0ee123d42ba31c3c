//! Candidates: entries an extractor proposes from the sessions, each with its evidence.

use reverie_core::curation::{EntryKind, Evidence};
use reverie_core::timestamp::Timestamp;

/// An entry proposed from the sessions, not yet consolidated with the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub kind: EntryKind,
    /// The entry's markdown, without a list marker (`When \`cargo test\` fails with …, run …`).
    pub text: String,
    /// The memory it belongs in (`/lessons.md`) and the section in it (`["tallyho"]`).
    pub path: String,
    pub section: Vec<String>,
    /// Where it was said or done, oldest first; never empty.
    pub evidence: Vec<Evidence>,
    /// When it was said (the newest evidence's time), for resolving contradictions.
    pub at: Option<Timestamp>,
    /// The text came from tool output, not from the user or the agent.
    pub from_tool_output: bool,
    /// Warnings a reviewer must see (`reverie_core::curation::FLAG_POSSIBLE_INJECTION`).
    pub flags: Vec<String>,
    /// Why the extractor proposes it, in words ("an explicit request to remember").
    pub reason: String,
    /// Entry texts of the same memory this one explicitly replaced (a memory-tool
    /// `str_replace`, an edit of a memory file): they are superseded by it, whatever their
    /// details say.
    pub replaces: Vec<String>,
}

impl Candidate {
    /// Whether the candidate must not be applied without a person's review.
    pub fn is_suspect(&self) -> bool {
        self.flags
            .iter()
            .any(|f| f == reverie_core::curation::FLAG_POSSIBLE_INJECTION)
    }
}

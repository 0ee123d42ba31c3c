//! The domain of reverie: memory stores, memories, memory versions and store revisions, the
//! validation rules of the wire contract, and the semantics of the `memory_20250818` tool.
//!
//! This crate does no I/O. Storage lives in `reverie-store`, which calls into the pure
//! functions here (validation, restore planning, memory-tool planning) and persists the result.
//! Everything a client can send is validated here, so that every backend refuses the same input
//! with the same error.

pub mod api_key;
pub mod content;
pub mod context;
pub mod curation;
pub mod dream;
pub mod entry;
pub mod error;
pub mod id;
pub mod memtool;
pub mod model;
pub mod page;
pub mod path;
pub mod policy;
pub mod restore;
pub mod search;
pub mod session;
pub mod store_meta;
pub mod timestamp;

pub use error::{Error, ErrorType, Result};
pub use model::{
    Actor, ListItem, Memory, MemoryPrefix, MemoryStore, MemoryVersion, Operation, View,
};
pub use timestamp::Timestamp;

/// A count with its noun, for messages: `1 session`, `2 sessions`, `0 candidates`.
pub fn counted(n: impl Into<i64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_agree_with_their_nouns() {
        assert_eq!(super::counted(1, "session"), "1 session");
        assert_eq!(super::counted(0, "candidate"), "0 candidates");
        assert_eq!(super::counted(2_u32, "file"), "2 files");
    }
}

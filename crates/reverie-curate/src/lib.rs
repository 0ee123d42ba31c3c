//! reverie's curation engine: the pure stages of a dream.
//!
//! A dream reads a store's memories (split into entries, `reverie_core::entry`) and the
//! sessions since the last dream, and writes back a reorganized memory:
//!
//! 1. [`orient`]: memories parsed into entries, each associated with its metadata;
//! 2. gather ([`extract`], behind the [`curator::Curator`] trait): candidate entries from the
//!    sessions, each with its evidence;
//! 3. [`consolidate`]: duplicates merged into the most specific entry, contradictions resolved
//!    for the newer evidence (the older recorded as superseded), counters updated from the
//!    sessions' outcomes;
//! 4. [`budget`]: the least useful entries archived until the budget holds, and the index
//!    kept current ([`assemble`]);
//! 5. [`guard`]: protected content, pinned entries, details of rewrites, the budget and the
//!    memory tests checked on the result.
//!
//! Every stage is a function of its inputs — no I/O, no clock, no randomness — so the same
//! inputs give byte-identical output. Loading the inputs and committing the result (6, commit)
//! are `reverie-dream`'s.

pub mod assemble;
pub mod budget;
pub mod candidate;
pub mod consolidate;
pub mod curator;
pub mod curve;
pub mod drift;
pub mod extract;
pub mod guard;
pub mod input;
pub mod model;
pub mod orient;
pub mod pipeline;
pub mod report;
pub mod review;
pub mod signature;
pub mod text;

pub use curator::{Curator, Deterministic};
pub use input::{DreamInput, MemoryText, Serving, SessionInput, StoreSnapshot};
pub use pipeline::{DreamOutput, Failure, MemoryWrite, dream};

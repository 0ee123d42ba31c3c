//! Gather: the deterministic extractors, each turning sessions into candidate entries with
//! their evidence (being written).

use std::collections::BTreeSet;

use reverie_core::session::Event;

use crate::candidate::Candidate;
use crate::curator::Known;
use crate::input::DreamInput;

/// Every extractor's candidates for the input's sessions.
pub fn extract(_input: &DreamInput, _known: &Known) -> Vec<Candidate> {
    Vec::new()
}

/// The store paths a session viewed through the memory tool (`/memories/x.md` → `/x.md`).
pub fn viewed_paths(_events: &[Event]) -> BTreeSet<String> {
    BTreeSet::new()
}

//! The drift report: what `reverie drift --json` prints, field for field. Fields are only ever
//! added, never renamed or removed, so that scripts reading the report keep working.

use reverie_core::curation::{EntryKind, EntryState, Op, OpKind};
use reverie_core::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

use crate::text::Detail;

/// Everything drift found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub store_id: String,
    pub since_revision: Option<i64>,
    pub min_helpful: i64,
    pub summary: Summary,
    pub dreams: Vec<DreamDrift>,
    pub pending: Vec<DreamDrift>,
    pub lineages: Vec<Lineage>,
    pub churn: Churn,
}

impl DriftReport {
    /// Whether something load-bearing was lost: what `reverie drift` alerts on.
    pub fn has_load_bearing_loss(&self) -> bool {
        self.summary.load_bearing_lost > 0
    }
}

/// The counts, first thing a reader sees.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Dreams applied in the window and not reverted.
    pub dreams_applied: usize,
    pub dreams_reverted: usize,
    pub dreams_pending: usize,
    /// The operations of the applied, unreverted dreams.
    pub ops: OpCounts,
    /// Lineages changed in the window (and entries removed outside a dream).
    pub lineages: usize,
    pub lost: usize,
    pub load_bearing_lost: usize,
    /// Detail tokens lost, over every lineage.
    pub details_lost: usize,
    pub removed_outside_dreams: usize,
    /// Lost lessons whose failure came back after they left the memory.
    #[serde(default)]
    pub regressions: usize,
}

/// Operations by kind; index lines apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OpCounts {
    pub add: usize,
    pub merge: usize,
    pub rewrite: usize,
    pub supersede: usize,
    pub archive: usize,
    /// Held or refused: nothing changed.
    pub keep: usize,
    /// Index lines added or archived (derived from the memories, not content).
    pub index: usize,
}

impl OpCounts {
    pub(super) fn count(&mut self, op: &Op, index: bool) {
        let slot = match (index, op.op) {
            (true, _) => &mut self.index,
            (_, OpKind::Add) => &mut self.add,
            (_, OpKind::Merge) => &mut self.merge,
            (_, OpKind::Rewrite) => &mut self.rewrite,
            (_, OpKind::Supersede) => &mut self.supersede,
            (_, OpKind::Archive) => &mut self.archive,
            (_, OpKind::Keep) => &mut self.keep,
        };
        *slot += 1;
    }

    pub(super) fn add_all(&mut self, o: &OpCounts) {
        self.add += o.add;
        self.merge += o.merge;
        self.rewrite += o.rewrite;
        self.supersede += o.supersede;
        self.archive += o.archive;
        self.keep += o.keep;
        self.index += o.index;
    }

    pub fn total(&self) -> usize {
        self.add
            + self.merge
            + self.rewrite
            + self.supersede
            + self.archive
            + self.keep
            + self.index
    }
}

/// Where a dream stands for this store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DreamState {
    Applied,
    /// Applied, then undone: its operations are shown, none counts.
    Reverted,
    /// A proposal awaiting review: nothing is applied yet.
    Pending,
}

/// One dream, with what it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DreamDrift {
    pub dream_id: String,
    pub state: DreamState,
    pub base_revision: Option<i64>,
    pub applied_revision: Option<i64>,
    pub reverted_revision: Option<i64>,
    /// When its result was written: the approval of a proposal, else its end.
    pub applied_at: Option<Timestamp>,
    pub ops: OpCounts,
    pub changes: Vec<Change>,
}

/// One operation of a dream, briefly (the lineage has the texts before and after).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub op: OpKind,
    pub entry_id: String,
    pub path: String,
    /// The text after, or before when the entry left.
    pub text: Option<String>,
    /// The lineage it belongs to, if drift follows it.
    pub lineage: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
}

/// Where a lineage is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineageState {
    /// Some entry of it is served.
    Live,
    Archived,
    Superseded,
    /// No metadata is left for it.
    Removed,
}

impl LineageState {
    pub fn as_str(self) -> &'static str {
        match self {
            LineageState::Live => "live",
            LineageState::Archived => "archived",
            LineageState::Superseded => "superseded",
            LineageState::Removed => "removed",
        }
    }
}

/// Why a lineage is load-bearing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LoadBearing {
    Pinned {
        entry_id: String,
    },
    MemoryTest {
        test: String,
    },
    Helpful {
        entry_id: String,
        helpful: i64,
        harmful: i64,
    },
    /// A lesson about a failure that recurred: it failed in at least two sessions.
    Lesson {
        signature: String,
        sessions: usize,
    },
}

impl LoadBearing {
    pub fn describe(&self) -> String {
        match self {
            LoadBearing::Pinned { entry_id } => format!("pinned ({entry_id})"),
            LoadBearing::MemoryTest { test } => format!("memory test: {test}"),
            LoadBearing::Helpful {
                helpful, harmful, ..
            } => {
                let plural = |n: i64| if n == 1 { "" } else { "s" };
                format!(
                    "helpful in {helpful} successful session{} (harmful in {harmful})",
                    plural(*helpful)
                )
            }
            LoadBearing::Lesson {
                signature,
                sessions,
            } => format!("the lesson about `{signature}`, which failed in {sessions} sessions"),
        }
    }
}

/// An entry of a lineage, as it is now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub id: String,
    /// `None`: no metadata is left for it.
    pub state: Option<EntryState>,
    pub kind: Option<EntryKind>,
    pub path: String,
    pub pinned: bool,
    pub served: i64,
    pub helpful: i64,
    pub harmful: i64,
}

/// One operation on a lineage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub dream_id: String,
    pub revision: i64,
    pub op: OpKind,
    pub entry_id: String,
    pub path: String,
    pub before: Option<String>,
    pub after: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    pub reason: String,
}

/// An entry followed through what dreams did to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lineage {
    /// Its head: the entry that carries it now (the last live one, else the last one).
    pub id: String,
    pub state: LineageState,
    pub path: String,
    pub kind: Option<EntryKind>,
    /// The earliest text in the window.
    pub first_text: String,
    /// The head's text, when it is live.
    pub current_text: Option<String>,
    /// In order of their first appearance.
    pub entries: Vec<Member>,
    /// The dreams that changed it, in order.
    pub dreams: Vec<String>,
    pub steps: Vec<Step>,
    /// Details of earlier texts that no live text holds now.
    pub details_lost: Vec<Detail>,
    /// Details only superseded entries held: replaced by newer evidence, not counted as lost.
    pub details_superseded: Vec<Detail>,
    /// An entry of it left its memory without any dream removing it.
    pub removed_outside_dreams: bool,
    pub lost: bool,
    pub load_bearing: Vec<LoadBearing>,
    pub load_bearing_lost: bool,
    /// The failures its entries were lessons about (when the sessions were read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lessons: Vec<LessonOf>,
}

/// A failure a lineage was a lesson about, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonOf {
    /// The failure's signature ([`crate::signature`]).
    pub signature: String,
    /// The sessions it failed in.
    pub sessions: usize,
    /// The sessions it failed in after the lineage left the memory: the failure came back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recurred_after_loss: Vec<String>,
}

/// Churn: work that did not last.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Churn {
    /// Entries added in the window that are not live now.
    pub added_then_removed: Vec<ChurnEntry>,
    /// Entries rewritten twice or more in the window.
    pub rewritten_more_than_once: Vec<ChurnEntry>,
    /// Operations of the busiest applied dream, and the mean over applied dreams.
    pub ops_per_dream_max: usize,
    pub ops_per_dream_mean: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChurnEntry {
    pub entry_id: String,
    pub lineage: String,
    /// Rewrites (or 1 for an add).
    pub count: usize,
    pub text: String,
}

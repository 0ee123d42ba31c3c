//! Dreams: the curation jobs of the wire contract (`/v1/dreams`), with reverie's review state.
//!
//! A dream reads one memory store and 1–100 sessions and writes a reorganized memory, either to
//! a new store (`create_new`, the default: the input is never modified) or into the input store
//! (`update_existing`, all or nothing). Its lifecycle is the contract's: `pending` → `running` →
//! `completed` | `failed` | `canceled`, the last three final. reverie adds review: a dream
//! created with review on completes as a *proposal*, which is applied only when approved.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::id::{IdKind, check_id};
use crate::timestamp::Timestamp;

/// Most sessions one dream reads.
pub const MAX_SESSIONS: usize = 100;
/// Most characters of a dream's instructions.
pub const MAX_INSTRUCTIONS_CHARS: usize = 4096;

/// Where a dream is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DreamStatus {
    Pending,
    Running,
    Completed,
    Failed,
    Canceled,
}

impl DreamStatus {
    pub const ALL: [DreamStatus; 5] = [
        DreamStatus::Pending,
        DreamStatus::Running,
        DreamStatus::Completed,
        DreamStatus::Failed,
        DreamStatus::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DreamStatus::Pending => "pending",
            DreamStatus::Running => "running",
            DreamStatus::Completed => "completed",
            DreamStatus::Failed => "failed",
            DreamStatus::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        DreamStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "status",
                    format!("{s:?} is not pending, running, completed, failed or canceled"),
                )
            })
    }

    /// `completed`, `failed` and `canceled` never change again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DreamStatus::Completed | DreamStatus::Failed | DreamStatus::Canceled
        )
    }
}

/// One of a dream's inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum DreamInput {
    MemoryStore { memory_store_id: String },
    Sessions { session_ids: Vec<String> },
}

/// The model that runs a dream. reverie's deterministic curator needs none; the id is recorded
/// as given and names the curator when it is `reverie-deterministic`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    pub id: String,
    #[serde(default)]
    pub speed: Option<Speed>,
}

/// How fast the model generates output; only `standard` is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speed {
    Standard,
    Fast,
}

/// A model as a create request may give it: an id, or the object form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ModelParam {
    Id(String),
    Config(ModelConfig),
}

/// The model id of reverie's deterministic curator, the default.
pub const DETERMINISTIC_MODEL: &str = "reverie-deterministic";

/// Where a dream writes its result.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum OutputBehavior {
    /// A new store that starts as a copy of the input; the input is never modified.
    #[default]
    CreateNew,
    /// The input store itself, in one atomic change.
    UpdateExisting { memory_store_id: String },
}

/// The store holding a dream's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "memory_store")]
pub struct DreamOutput {
    pub memory_store_id: String,
}

/// A dream's token counts (all zero for the deterministic curator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    pub cache_creation_input_tokens: i64,
    pub cache_read_input_tokens: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
}

/// Why a dream failed: a code and a message naming the problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DreamError {
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
}

/// The codes of [`DreamError`].
pub mod error_kind {
    /// Protected content and pinned entries alone exceed the budget.
    pub const BUDGET_UNSATISFIABLE: &str = "budget_unsatisfiable";
    /// A memory test does not hold on the output.
    pub const MEMORY_TEST_FAILED: &str = "memory_test_failed";
    /// A rewrite or merge would drop a load-bearing detail.
    pub const DETAIL_LOST: &str = "detail_lost";
    /// The output would change protected content or a pinned entry.
    pub const PROTECTED_CHANGED: &str = "protected_content_changed";
    /// The store kept changing under the dream, or changed where a proposal writes.
    pub const CONFLICT: &str = "conflict";
    /// A session, the store or the policy cannot be read as the dream needs.
    pub const INVALID_INPUT: &str = "invalid_input";
    /// The output would hold more memories than the store's limit.
    pub const STORE_FULL: &str = "store_full";
    /// The process running the dream stopped without finishing it.
    pub const RUNNER_LOST: &str = "runner_lost";
    /// Anything else.
    pub const INTERNAL: &str = "internal_error";
    /// The model curator's provider failed (unreachable, refused, a malformed or cut answer);
    /// nothing was written.
    pub const MODEL_FAILED: &str = "model_failed";
    /// The model dream would have gone over the policy's token or cost limits; nothing was
    /// written.
    pub const MODEL_BUDGET: &str = "model_budget_exceeded";
    /// The dream names a model no provider is configured for, and the server refuses those.
    pub const MODEL_UNAVAILABLE: &str = "model_unavailable";
}

/// Where a proposal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    /// Waiting for a decision; nothing is applied yet.
    Pending,
    Approved,
    Rejected,
}

impl ReviewState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Pending => "pending",
            ReviewState::Approved => "approved",
            ReviewState::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(ReviewState::Pending),
            "approved" => Some(ReviewState::Approved),
            "rejected" => Some(ReviewState::Rejected),
            _ => None,
        }
    }
}

/// reverie's review of a dream created with review on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub state: ReviewState,
    pub decided_at: Option<Timestamp>,
    pub decided_by: Option<crate::Actor>,
}

/// A dream, as the contract serializes it, with reverie's additions (extra fields only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "dream")]
pub struct Dream {
    pub id: String,
    pub archived_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub error: Option<DreamError>,
    pub inputs: Vec<DreamInput>,
    pub instructions: Option<String>,
    pub model: ModelConfig,
    pub output_behavior: OutputBehavior,
    pub outputs: Vec<DreamOutput>,
    /// The session that runs the dream; the deterministic curator runs in none.
    pub session_id: Option<String>,
    pub status: DreamStatus,
    pub usage: Usage,
    /// reverie: the review of a dream created with review on, else `null`.
    pub review: Option<Review>,
    /// reverie: the input store's revision the dream read.
    pub base_revision: Option<i64>,
    /// reverie: the revision of the store that the dream's result was written as.
    pub applied_revision: Option<i64>,
    /// reverie: the revision that reverted the dream, if it was reverted.
    pub reverted_revision: Option<i64>,
}

impl Dream {
    /// The input store's id.
    pub fn store_id(&self) -> &str {
        self.inputs
            .iter()
            .find_map(|i| match i {
                DreamInput::MemoryStore { memory_store_id } => Some(memory_store_id.as_str()),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// The input sessions' ids, sorted.
    pub fn session_ids(&self) -> &[String] {
        self.inputs
            .iter()
            .find_map(|i| match i {
                DreamInput::Sessions { session_ids } => Some(session_ids.as_slice()),
                _ => None,
            })
            .unwrap_or_default()
    }
}

/// A request to create a dream (the contract's body, plus reverie's `review`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDream {
    pub inputs: Vec<DreamInput>,
    pub model: ModelParam,
    #[serde(default)]
    pub instructions: Option<String>,
    #[serde(default)]
    pub output_behavior: Option<OutputBehavior>,
    /// reverie: end as a proposal to approve or reject (also when the store's policy says so).
    #[serde(default)]
    pub review: Option<bool>,
}

/// A create request, checked: one store, 1–100 distinct sessions (sorted), the model as an
/// object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidDream {
    pub store_id: String,
    pub session_ids: Vec<String>,
    pub model: ModelConfig,
    pub instructions: Option<String>,
    pub output_behavior: OutputBehavior,
    pub review: Option<bool>,
}

impl NewDream {
    /// Checks the request against the contract's rules; the error names the field.
    pub fn validate(self) -> Result<ValidDream> {
        let mut store = None;
        let mut sessions = None;
        for input in self.inputs {
            match input {
                DreamInput::MemoryStore { memory_store_id } => {
                    if store.replace(memory_store_id).is_some() {
                        return Err(Error::invalid(
                            "inputs",
                            "must hold exactly one memory_store entry, got two",
                        ));
                    }
                }
                DreamInput::Sessions { session_ids } => {
                    if sessions.replace(session_ids).is_some() {
                        return Err(Error::invalid(
                            "inputs",
                            "must hold exactly one sessions entry, got two",
                        ));
                    }
                }
            }
        }
        let store_id = store.ok_or_else(|| {
            Error::invalid(
                "inputs",
                "must hold exactly one memory_store entry, got none",
            )
        })?;
        check_id(IdKind::Store, &store_id)?;
        let mut session_ids = sessions.ok_or_else(|| {
            Error::invalid("inputs", "must hold exactly one sessions entry, got none")
        })?;
        if session_ids.is_empty() || session_ids.len() > MAX_SESSIONS {
            return Err(Error::invalid(
                "session_ids",
                format!(
                    "must hold 1 to {MAX_SESSIONS} session ids, got {}",
                    session_ids.len()
                ),
            ));
        }
        for id in &session_ids {
            check_id(IdKind::Session, id)?;
        }
        session_ids.sort();
        if let Some(w) = session_ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::invalid(
                "session_ids",
                format!("holds {} twice", w[0]),
            ));
        }
        let model = match self.model {
            ModelParam::Id(id) => ModelConfig { id, speed: None },
            ModelParam::Config(c) => c,
        };
        if model.id.trim().is_empty() || model.id.len() > 256 {
            return Err(Error::invalid(
                "model",
                "must be a model id of 1 to 256 bytes",
            ));
        }
        if model.speed == Some(Speed::Fast) {
            return Err(Error::invalid("model.speed", "can only be standard"));
        }
        if let Some(i) = &self.instructions {
            let n = i.chars().count();
            if n == 0 || n > MAX_INSTRUCTIONS_CHARS {
                return Err(Error::invalid(
                    "instructions",
                    format!("must be 1 to {MAX_INSTRUCTIONS_CHARS} characters, got {n}"),
                ));
            }
        }
        let output_behavior = self.output_behavior.unwrap_or_default();
        if let OutputBehavior::UpdateExisting { memory_store_id } = &output_behavior
            && *memory_store_id != store_id
        {
            return Err(Error::invalid(
                "output_behavior.memory_store_id",
                format!(
                    "must be the input memory store {store_id}, got {}",
                    crate::path::shorten(memory_store_id)
                ),
            ));
        }
        Ok(ValidDream {
            store_id,
            session_ids,
            model,
            instructions: self.instructions,
            output_behavior,
            review: self.review,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const S: &str = "memstore_01abc";

    fn new(body: serde_json::Value) -> Result<ValidDream> {
        serde_json::from_value::<NewDream>(body)
            .map_err(|e| Error::invalid("body", e.to_string()))?
            .validate()
    }

    #[test]
    fn create_requests_are_checked() {
        let ok = new(json!({
            "inputs": [{"type": "memory_store", "memory_store_id": S},
                       {"type": "sessions", "session_ids": ["sesn_01b", "sesn_01a"]}],
            "model": "reverie-deterministic",
        }))
        .unwrap();
        assert_eq!(ok.session_ids, ["sesn_01a", "sesn_01b"]);
        assert_eq!(ok.output_behavior, OutputBehavior::CreateNew);
        assert_eq!(ok.model.id, "reverie-deterministic");

        let sessions = |ids: serde_json::Value| json!([{"type": "memory_store", "memory_store_id": S}, {"type": "sessions", "session_ids": ids}]);
        let many: Vec<String> = (0..101).map(|i| format!("sesn_01x{i}")).collect();
        for (body, needle) in [
            (
                json!({"inputs": sessions(json!([])), "model": "m"}),
                "1 to 100",
            ),
            (
                json!({"inputs": sessions(json!(many)), "model": "m"}),
                "got 101",
            ),
            (
                json!({"inputs": sessions(json!(["sesn_01a", "sesn_01a"])), "model": "m"}),
                "twice",
            ),
            (
                json!({"inputs": sessions(json!(["mem_01a"])), "model": "m"}),
                "not a session id",
            ),
            (
                json!({"inputs": [{"type": "sessions", "session_ids": ["sesn_01a"]}], "model": "m"}),
                "got none",
            ),
            (
                json!({"inputs": sessions(json!(["sesn_01a"])), "model": {"id": "m", "speed": "fast"}}),
                "standard",
            ),
            (
                json!({"inputs": sessions(json!(["sesn_01a"])), "model": "m", "instructions": ""}),
                "1 to 4096",
            ),
            (
                json!({"inputs": sessions(json!(["sesn_01a"])), "model": "m",
                    "output_behavior": {"type": "update_existing", "memory_store_id": "memstore_01other"}}),
                "input memory store",
            ),
        ] {
            let err = new(body.clone()).unwrap_err().to_string();
            assert!(err.contains(needle), "{body}: {err}");
        }
    }

    #[test]
    fn dreams_serialize_as_the_contract_says() {
        let d = Dream {
            id: "drm_01a".into(),
            archived_at: None,
            created_at: Timestamp(0),
            ended_at: None,
            error: None,
            inputs: vec![
                DreamInput::MemoryStore {
                    memory_store_id: S.into(),
                },
                DreamInput::Sessions {
                    session_ids: vec!["sesn_01a".into()],
                },
            ],
            instructions: None,
            model: ModelConfig {
                id: "m".into(),
                speed: None,
            },
            output_behavior: OutputBehavior::UpdateExisting {
                memory_store_id: S.into(),
            },
            outputs: vec![DreamOutput {
                memory_store_id: S.into(),
            }],
            session_id: None,
            status: DreamStatus::Pending,
            usage: Usage::default(),
            review: None,
            base_revision: None,
            applied_revision: None,
            reverted_revision: None,
        };
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["type"], "dream");
        assert_eq!(v["status"], "pending");
        assert_eq!(
            v["output_behavior"],
            json!({"type": "update_existing", "memory_store_id": S})
        );
        assert_eq!(
            v["outputs"],
            json!([{"type": "memory_store", "memory_store_id": S}])
        );
        assert_eq!(v["model"], json!({"id": "m", "speed": null}));
        assert_eq!(v["usage"]["output_tokens"], 0);
        let back: Dream = serde_json::from_value(v).unwrap();
        assert_eq!(back, d);
        assert_eq!(
            (back.store_id(), back.session_ids()),
            (S, &["sesn_01a".to_string()][..])
        );
    }
}

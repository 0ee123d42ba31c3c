//! A language model as the curator sees it: one provider-neutral request (a stable system
//! prompt, a user message, a JSON schema the answer must follow) and one reply (the structured
//! answer, the token counts, why it stopped). The providers (`reverie-model`: the Anthropic
//! Messages API, OpenAI-compatible chat completions, a local command) translate these to their
//! wire formats; this crate only builds requests and judges replies, so it stays pure.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use reverie_core::dream::Usage;

/// One request to a model. Serialized as is into a dream's recorded exchanges and onto an
/// `exec:` command's standard input, so its field names are a contract (the README's "Dreaming with a model").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRequest {
    /// The instructions: the same for every request of every dream of a given reverie version,
    /// so providers that cache prompts cache it (Anthropic's `cache_control` is set on it).
    pub system: String,
    /// The request's own content: the store's entries it touches, the hints, the sessions.
    pub user: String,
    /// The name of the answer's schema (the forced tool's name, the `json_schema` name).
    pub schema_name: String,
    /// The JSON Schema the answer must follow.
    pub schema: serde_json::Value,
    /// Most tokens the answer may take.
    pub max_tokens: u32,
}

impl ModelRequest {
    /// A digest of everything the answer depends on: the cache and replay key.
    pub fn digest(&self) -> String {
        let bytes = serde_json::to_vec(self).expect("requests serialize");
        blake3::hash(&bytes).to_hex().to_string()
    }
}

/// Why a model stopped answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// It finished (`end_turn`, `tool_use`, `stop`).
    Complete,
    /// It ran out of `max_tokens`: the answer is cut.
    MaxTokens,
    /// It declined to answer.
    Refusal,
    /// Anything else the provider reported.
    Other,
}

/// A model's reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelReply {
    /// The structured answer: the forced tool call's input, or the JSON-schema content parsed.
    /// `Null` when the reply held none (cut, refused).
    pub output: serde_json::Value,
    pub usage: Usage,
    pub stop: StopReason,
    /// The model that answered, as the provider names it.
    pub model: String,
}

/// What went wrong talking to a model. Never holds a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct ModelError {
    pub kind: ModelErrorKind,
    pub message: String,
}

impl ModelError {
    pub fn new(kind: ModelErrorKind, message: impl Into<String>) -> Self {
        ModelError {
            kind,
            message: message.into(),
        }
    }
}

/// The classes of model failure a dream reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelErrorKind {
    /// No provider is configured for the model (no key, unknown name).
    NotConfigured,
    /// The provider could not be reached, or the connection broke.
    Transport,
    /// No answer within the timeout.
    Timeout,
    /// The provider kept answering 429/5xx/overloaded after every retry.
    Unavailable,
    /// The provider refused the request (4xx other than 429): a bad key, a bad request.
    Rejected,
    /// The reply was not in the documented shape, or its answer not JSON.
    Malformed,
    /// The request was canceled.
    Canceled,
}

impl std::fmt::Display for ModelErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            ModelErrorKind::NotConfigured => "not_configured",
            ModelErrorKind::Transport => "transport",
            ModelErrorKind::Timeout => "timeout",
            ModelErrorKind::Unavailable => "unavailable",
            ModelErrorKind::Rejected => "rejected",
            ModelErrorKind::Malformed => "malformed",
            ModelErrorKind::Canceled => "canceled",
        };
        f.write_str(s)
    }
}

/// Prices in US dollars per million tokens, for the dream's cost.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    pub cache_write: f64,
    pub cache_read: f64,
}

impl Price {
    /// What `usage` costs, in US dollars.
    pub fn cost(&self, usage: &Usage) -> f64 {
        (usage.input_tokens as f64 * self.input
            + usage.output_tokens as f64 * self.output
            + usage.cache_creation_input_tokens as f64 * self.cache_write
            + usage.cache_read_input_tokens as f64 * self.cache_read)
            / 1_000_000.0
    }
}

/// A model provider, ready to answer.
#[async_trait]
pub trait ModelClient: Send + Sync + std::fmt::Debug {
    /// The model as a dream records it (`anthropic:claude-sonnet-4-6`, `openai:URL#MODEL`,
    /// `exec:CMD`).
    fn name(&self) -> &str;

    /// What its tokens cost, when known.
    fn price(&self) -> Option<Price>;

    /// Sends one request (retrying what the provider says is worth retrying) and returns its
    /// reply. Dropping the future cancels the request in flight.
    async fn complete(&self, request: &ModelRequest) -> Result<ModelReply, ModelError>;
}

pub mod answer;
pub mod curator;
pub mod prompt;

pub use curator::{ModelCurator, Replay};

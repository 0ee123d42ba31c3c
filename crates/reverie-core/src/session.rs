//! Sessions: recorded agent sessions as ordered, normalized events.
//!
//! Every transcript format reverie reads — Claude Code JSONL, the Anthropic Messages API, OpenAI
//! Chat Completions, Codex CLI rollouts, plain text — becomes the same thing: a [`Session`] with
//! metadata and a sequence of [`Event`]s, one per content block (a user message, a piece of
//! assistant text or thinking, a tool call, a tool result with its error flag, a compaction or
//! summary marker), with `other` events for whatever a format holds that has no place here.
//! Nothing of the source is dropped: the raw (redacted) lines are stored beside the events.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::timestamp::Timestamp;

/// The transcript format a session was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    /// Claude Code's `~/.claude/projects/<slug>/<session>.jsonl`.
    ClaudeCode,
    /// A Messages API request (`messages`, with or without the response).
    AnthropicMessages,
    /// An OpenAI Chat Completions request (`messages` with `tool_calls` and `tool` messages).
    OpenaiChat,
    /// A Codex CLI rollout (`~/.codex/sessions/…/rollout-….jsonl`).
    CodexCli,
    /// Plain text with speaker lines (`User:` / `Assistant:`).
    PlainText,
}

impl SourceFormat {
    /// All formats, in detection order.
    pub const ALL: [SourceFormat; 5] = [
        SourceFormat::ClaudeCode,
        SourceFormat::CodexCli,
        SourceFormat::AnthropicMessages,
        SourceFormat::OpenaiChat,
        SourceFormat::PlainText,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::ClaudeCode => "claude_code",
            SourceFormat::AnthropicMessages => "anthropic_messages",
            SourceFormat::OpenaiChat => "openai_chat",
            SourceFormat::CodexCli => "codex_cli",
            SourceFormat::PlainText => "plain_text",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        SourceFormat::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| Error::invalid("format", format!("{s:?} is not one of claude_code, anthropic_messages, openai_chat, codex_cli, plain_text")))
    }
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a session ended, as a person or a grader judged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    Success,
    Failure,
    Partial,
}

impl OutcomeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeStatus::Success => "success",
            OutcomeStatus::Failure => "failure",
            OutcomeStatus::Partial => "partial",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "success" => Ok(OutcomeStatus::Success),
            "failure" => Ok(OutcomeStatus::Failure),
            "partial" => Ok(OutcomeStatus::Partial),
            _ => Err(Error::invalid(
                "outcome",
                format!("{s:?} is not success, failure or partial"),
            )),
        }
    }
}

/// A session's outcome: a status, an optional score in [0, 1] and an optional note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub status: OutcomeStatus,
    pub score: Option<f64>,
    pub note: Option<String>,
}

/// Most characters in an outcome note.
pub const MAX_NOTE_CHARS: usize = 4096;

impl Outcome {
    /// Checks the score range and the note length.
    pub fn validate(&self) -> Result<()> {
        if let Some(s) = self.score
            && !(0.0..=1.0).contains(&s)
        {
            return Err(Error::invalid(
                "score",
                format!("must be between 0 and 1, got {s}"),
            ));
        }
        if let Some(n) = &self.note
            && n.chars().count() > MAX_NOTE_CHARS
        {
            return Err(Error::invalid(
                "note",
                format!("is over {MAX_NOTE_CHARS} characters"),
            ));
        }
        Ok(())
    }
}

/// Session metadata a parser learns while reading.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionMeta {
    pub source_session_id: Option<String>,
    pub project: Option<String>,
    pub git_branch: Option<String>,
    pub model: Option<String>,
    pub agent_version: Option<String>,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
}

impl SessionMeta {
    /// Keeps the first value seen for each field, widens the time span.
    pub fn absorb(&mut self, other: SessionMeta) {
        fn first(slot: &mut Option<String>, v: Option<String>) {
            if slot.is_none() {
                *slot = v;
            }
        }
        first(&mut self.source_session_id, other.source_session_id);
        first(&mut self.project, other.project);
        first(&mut self.git_branch, other.git_branch);
        first(&mut self.model, other.model);
        first(&mut self.agent_version, other.agent_version);
        self.see(other.started_at);
        self.see(other.ended_at);
    }

    /// Widens the time span to include `t`.
    pub fn see(&mut self, t: Option<Timestamp>) {
        if let Some(t) = t {
            self.started_at = Some(self.started_at.map_or(t, |s| s.min(t)));
            self.ended_at = Some(self.ended_at.map_or(t, |e| e.max(t)));
        }
    }

    /// Sets a field from a JSON string value if it is not set yet.
    pub fn set_if_empty(slot: &mut Option<String>, v: Option<&serde_json::Value>) {
        if slot.is_none()
            && let Some(s) = v
                .and_then(serde_json::Value::as_str)
                .filter(|s| !s.is_empty())
        {
            *slot = Some(s.to_string());
        }
    }
}

/// One recorded agent session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "session")]
pub struct Session {
    pub id: String,
    pub memory_store_id: String,
    pub source_format: SourceFormat,
    /// The file it was read from, as given to `ingest` (canonicalized).
    pub source_path: Option<String>,
    /// The session id the source itself uses (Claude Code's `sessionId`, Codex's `id`).
    pub source_session_id: Option<String>,
    /// The working directory or project the agent ran in.
    pub project: Option<String>,
    pub git_branch: Option<String>,
    pub model: Option<String>,
    /// The agent's version (Claude Code's `version`, Codex's `cli_version`).
    pub agent_version: Option<String>,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub event_count: i64,
    /// Tool results flagged as errors.
    pub error_count: i64,
    /// Source lines read (for line-oriented formats), blank lines excluded.
    pub line_count: i64,
    pub outcome: Option<Outcome>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Text from the user (or an image, as a placeholder).
    User,
    /// Text from the assistant.
    Assistant,
    /// The assistant's visible reasoning.
    Thinking,
    /// A tool call: `tool_name`, `tool_use_id`, `tool_input`.
    ToolUse,
    /// A tool's answer: `tool_use_id`, `text`, `is_error`.
    ToolResult,
    /// The context was compacted here (`subtype` holds the trigger).
    Compaction,
    /// A summary of earlier context (a summary line, or the message a compaction left).
    Summary,
    /// Anything else the source holds, kept verbatim in the session's raw lines; `subtype`
    /// names the source's own type.
    Other,
}

impl EventKind {
    pub const ALL: [EventKind; 8] = [
        EventKind::User,
        EventKind::Assistant,
        EventKind::Thinking,
        EventKind::ToolUse,
        EventKind::ToolResult,
        EventKind::Compaction,
        EventKind::Summary,
        EventKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::User => "user",
            EventKind::Assistant => "assistant",
            EventKind::Thinking => "thinking",
            EventKind::ToolUse => "tool_use",
            EventKind::ToolResult => "tool_result",
            EventKind::Compaction => "compaction",
            EventKind::Summary => "summary",
            EventKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Error::invalid("kind", format!("{s:?} is not an event kind")))
    }
}

/// One event of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the session, from 0.
    pub seq: i64,
    pub kind: EventKind,
    /// The source line (1-based) for line formats, the message index (1-based) for documents.
    pub line: Option<i64>,
    pub timestamp: Option<Timestamp>,
    pub uuid: Option<String>,
    pub parent_uuid: Option<String>,
    /// Part of a side conversation (a subagent's), not the main thread.
    pub sidechain: bool,
    /// The subagent that produced it, when the source says.
    pub agent_id: Option<String>,
    /// Who said it, when the source names the participant (OpenAI's `name`, a chat's speaker):
    /// in a conversation among people, what a statement is about depends on who made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    pub text: Option<String>,
    pub tool_name: Option<String>,
    pub tool_use_id: Option<String>,
    pub tool_input: Option<serde_json::Value>,
    pub is_error: bool,
    /// The source's own type for `other` events, the trigger for compactions. On `user`
    /// events, `queued` marks a message typed while the agent was working (a Claude Code
    /// `queue-operation` enqueue; it may arrive again later as a plain user message) and
    /// `meta` text the harness injected rather than a person typed (`isMeta`: skill
    /// expansions, local-command caveats, hook feedback); on summaries, `compact_summary`.
    pub subtype: Option<String>,
}

impl Event {
    /// An event of `kind` with every optional field empty.
    pub fn new(kind: EventKind) -> Self {
        Event {
            seq: 0,
            kind,
            line: None,
            timestamp: None,
            uuid: None,
            parent_uuid: None,
            sidechain: false,
            agent_id: None,
            speaker: None,
            text: None,
            tool_name: None,
            tool_use_id: None,
            tool_input: None,
            is_error: false,
            subtype: None,
        }
    }

    /// Sets the text.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in SourceFormat::ALL {
            assert_eq!(SourceFormat::parse(f.as_str()).unwrap(), f);
            assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
        }
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()).unwrap(), k);
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert!(SourceFormat::parse("docx").is_err());
    }

    #[test]
    fn outcomes_are_checked() {
        let ok = Outcome {
            status: OutcomeStatus::Partial,
            score: Some(0.5),
            note: Some("half".into()),
        };
        ok.validate().unwrap();
        let bad = Outcome {
            status: OutcomeStatus::Success,
            score: Some(1.5),
            note: None,
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("between 0 and 1")
        );
        assert!(OutcomeStatus::parse("won").is_err());
    }
}

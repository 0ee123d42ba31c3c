//! `exec:COMMAND`: a local command as the model. It runs as `sh -c COMMAND`, reads the
//! request (the [`ModelRequest`] as JSON) on its standard input and prints its reply on its
//! standard output, as one of:
//!
//! 1. a [`ModelReply`] object (`output`, `stop`, and optionally `usage` and `model`);
//! 2. Claude Code's headless output (`claude -p --output-format json`,
//!    <https://docs.claude.com/en/docs/claude-code/sdk/sdk-headless>): `{"type":"result",
//!    "result":"…","usage":{…}}`, the answer being the JSON object in `result` (fenced in
//!    ```` ```json ```` or surrounded by prose, as a chat model writes it) or in
//!    `structured_output`;
//! 3. the bare answer itself.
//!
//! A command is not retried: it may have side effects, and its failures are rarely transient.

use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use reverie_curate::model::{
    ModelClient, ModelError, ModelErrorKind, ModelReply, ModelRequest, Price, StopReason, Usage,
};
use serde::Deserialize;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use crate::http::snippet;

/// How much of a failed command's standard error its error carries (the end, where the
/// reason usually is).
const STDERR_TAIL: usize = 2048;

/// A command answering model requests.
#[derive(Debug)]
pub struct ExecClient {
    name: String,
    command: String,
    timeout: Duration,
    price: Option<Price>,
}

impl ExecClient {
    /// A client running `command` with `sh -c`, killed after `timeout`.
    pub fn new(command: &str, timeout: Duration) -> Self {
        ExecClient {
            name: format!("exec:{command}"),
            command: command.to_string(),
            timeout,
            price: None,
        }
    }

    /// What the command's tokens cost, when it is a metered model behind a script.
    pub fn with_price(mut self, price: Option<Price>) -> Self {
        self.price = price;
        self
    }
}

#[async_trait]
impl ModelClient for ExecClient {
    fn name(&self) -> &str {
        &self.name
    }

    fn price(&self) -> Option<Price> {
        self.price
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelReply, ModelError> {
        let input = serde_json::to_vec(request).map_err(|e| {
            ModelError::new(
                ModelErrorKind::Malformed,
                format!("{}: the request does not serialize: {e}", self.name),
            )
        })?;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            // Piped, never inherited: the command reads the request, not the terminal.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Dropping the future (a canceled dream) or timing out kills the command — and,
            // through its own process group, whatever `sh` started.
            .kill_on_drop(true)
            .process_group(0)
            .spawn()
            .map_err(|e| {
                ModelError::new(
                    ModelErrorKind::Transport,
                    format!("{}: could not start `sh`: {e}", self.name),
                )
            })?;
        let mut group = Group(child.id());
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let mut stderr = child.stderr.take().expect("stderr is piped");

        let run = async {
            let write = async move {
                if let Some(mut stdin) = stdin {
                    // A command that does not read its input closes the pipe early; its reply
                    // (or exit status) says whether that was a problem.
                    let _ = stdin.write_all(&input).await;
                    let _ = stdin.shutdown().await;
                }
            };
            let mut out = Vec::new();
            let mut err = Vec::new();
            // All three at once: a command may fill one pipe before reading the other.
            let (_, read_out, _) = tokio::join!(
                write,
                stdout.read_to_end(&mut out),
                stderr.read_to_end(&mut err)
            );
            let status = child.wait().await;
            (status, read_out, out, err)
        };

        let (status, read_out, out, err) = match tokio::time::timeout(self.timeout, run).await {
            Ok(done) => {
                // Ended by itself: what it left running is its own business.
                group.0 = None;
                done
            }
            Err(_) => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                return Err(ModelError::new(
                    ModelErrorKind::Timeout,
                    format!("{}: no answer within {:?}", self.name, self.timeout),
                ));
            }
        };
        let status = status.map_err(|e| {
            ModelError::new(
                ModelErrorKind::Transport,
                format!("{}: lost the command: {e}", self.name),
            )
        })?;
        if !status.success() {
            return Err(ModelError::new(
                ModelErrorKind::Rejected,
                format!(
                    "{}: the command failed ({status}); stderr: {}",
                    self.name,
                    stderr_tail(&err)
                ),
            ));
        }
        read_out.map_err(|e| {
            ModelError::new(
                ModelErrorKind::Transport,
                format!("{}: could not read the command's output: {e}", self.name),
            )
        })?;
        parse_output(&self.name, &String::from_utf8_lossy(&out))
    }
}

fn stderr_tail(err: &[u8]) -> String {
    let start = err.len().saturating_sub(STDERR_TAIL);
    let tail = String::from_utf8_lossy(&err[start..]);
    let tail = tail.trim();
    match (tail.is_empty(), start > 0) {
        (true, _) => "(empty)".to_string(),
        (false, true) => format!("…{tail}"),
        (false, false) => tail.to_string(),
    }
}

/// A [`ModelReply`] as a command may print it: only `output` and `stop` are required.
#[derive(Deserialize)]
struct PrintedReply {
    output: Value,
    stop: StopReason,
    #[serde(default)]
    usage: Option<PrintedUsage>,
    #[serde(default)]
    model: Option<String>,
}

/// Token counts as a command prints them (Claude Code's `usage` has these and more).
#[derive(Deserialize, Default)]
struct PrintedUsage {
    #[serde(default)]
    cache_creation_input_tokens: Option<i64>,
    #[serde(default)]
    cache_read_input_tokens: Option<i64>,
    #[serde(default)]
    input_tokens: Option<i64>,
    #[serde(default)]
    output_tokens: Option<i64>,
}

impl PrintedUsage {
    fn from_value(value: Option<&Value>) -> Self {
        value
            .and_then(|v| PrintedUsage::deserialize(v).ok())
            .unwrap_or_default()
    }

    fn usage(self) -> Usage {
        Usage {
            cache_creation_input_tokens: self.cache_creation_input_tokens.unwrap_or(0),
            cache_read_input_tokens: self.cache_read_input_tokens.unwrap_or(0),
            input_tokens: self.input_tokens.unwrap_or(0),
            output_tokens: self.output_tokens.unwrap_or(0),
        }
    }
}

/// Reads what a command printed (see the module's documentation for the accepted shapes).
pub fn parse_output(name: &str, stdout: &str) -> Result<ModelReply, ModelError> {
    let malformed =
        |what: String| ModelError::new(ModelErrorKind::Malformed, format!("{name}: {what}"));
    let text = stdout.trim();
    if text.is_empty() {
        return Err(malformed("the command printed nothing".to_string()));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        malformed(format!(
            "the command's output is not JSON ({e}): {}",
            snippet(text, 200)
        ))
    })?;
    let zero = || PrintedUsage::default().usage();

    if value.get("output").is_some() && value.get("stop").is_some() {
        let printed = PrintedReply::deserialize(&value)
            .map_err(|e| malformed(format!("a reply object, but {e}")))?;
        return Ok(ModelReply {
            output: printed.output,
            usage: printed.usage.map(PrintedUsage::usage).unwrap_or_else(zero),
            stop: printed.stop,
            model: printed.model.unwrap_or_else(|| name.to_string()),
        });
    }

    if value.get("type").and_then(Value::as_str) == Some("result") && value.get("result").is_some()
    {
        return claude_result(name, &value);
    }

    Ok(ModelReply {
        output: value,
        usage: zero(),
        stop: StopReason::Complete,
        model: name.to_string(),
    })
}

/// Claude Code's `--output-format json` envelope.
fn claude_result(name: &str, value: &Value) -> Result<ModelReply, ModelError> {
    let result = &value["result"];
    if value.get("is_error").and_then(Value::as_bool) == Some(true) {
        let text = result
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| result.to_string());
        let subtype = value
            .get("subtype")
            .and_then(Value::as_str)
            .unwrap_or("error");
        return Err(ModelError::new(
            ModelErrorKind::Rejected,
            format!(
                "{name}: the command reported an error ({subtype}): {}",
                snippet(&text, 300)
            ),
        ));
    }
    let stop = match value.get("stop_reason").and_then(Value::as_str) {
        Some("max_tokens") => StopReason::MaxTokens,
        Some("refusal") => StopReason::Refusal,
        _ => StopReason::Complete,
    };
    // `--json-schema` puts the validated answer here; otherwise it is in the text.
    let structured = value.get("structured_output").filter(|v| !v.is_null());
    let output = match (structured, result) {
        (Some(structured), _) => structured.clone(),
        (None, Value::String(text)) => match first_json_object(text) {
            Some(found) => found,
            None if stop != StopReason::Complete => Value::Null,
            None => {
                return Err(ModelError::new(
                    ModelErrorKind::Malformed,
                    format!(
                        "{name}: the result holds no JSON object: {}",
                        snippet(text, 200)
                    ),
                ));
            }
        },
        (None, other) => other.clone(),
    };
    // `modelUsage` is keyed by the models that answered; the first names the one that did.
    let model = value
        .get("modelUsage")
        .and_then(Value::as_object)
        .and_then(|m| m.keys().next().cloned())
        .unwrap_or_else(|| name.to_string());
    Ok(ModelReply {
        output,
        usage: PrintedUsage::from_value(value.get("usage")).usage(),
        stop,
        model,
    })
}

/// The answer in a chat model's text: the whole text if it is a JSON object, else the first
/// balanced top-level `{…}` that parses (skipping fences and prose around it).
pub fn first_json_object(text: &str) -> Option<Value> {
    if let Ok(value @ Value::Object(_)) = serde_json::from_str::<Value>(text.trim()) {
        return Some(value);
    }
    let bytes = text.as_bytes();
    let mut start = 0;
    while let Some(offset) = text[start..].find('{') {
        let open = start + offset;
        if let Some(close) = balanced_end(&bytes[open..])
            && let Ok(value) = serde_json::from_str::<Value>(&text[open..open + close])
        {
            return Some(value);
        }
        start = open + 1;
    }
    None
}

/// The length of the balanced `{…}` at the start of `bytes`, braces inside strings ignored.
fn balanced_end(bytes: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The command's process group, killed whole when dropped while armed: a dream canceled or
/// timed out while the command runs stops what `sh` started too, not only `sh`.
#[derive(Debug)]
struct Group(Option<u32>);

impl Drop for Group {
    fn drop(&mut self) {
        let pid = self
            .0
            .and_then(|p| i32::try_from(p).ok())
            .and_then(rustix::process::Pid::from_raw);
        if let Some(pid) = pid {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_the_answer_in_prose_and_fences() {
        assert_eq!(first_json_object(r#"{"a":1}"#), Some(json!({"a": 1})));
        assert_eq!(
            first_json_object("Here you go:\n```json\n{\"a\": {\"b\": \"}{\"}}\n```\nDone."),
            Some(json!({"a": {"b": "}{"}}))
        );
        // A brace in prose before the answer is skipped.
        assert_eq!(
            first_json_object("Use {braces} like this: {\"ok\": true} and {\"second\": 1}"),
            Some(json!({"ok": true}))
        );
        assert_eq!(
            first_json_object(r#"{"a": "\"}"}"#),
            Some(json!({"a": "\"}"}))
        );
        assert_eq!(first_json_object("no answer here"), None);
        assert_eq!(first_json_object("{\"cut\": [1, 2"), None);
    }
}

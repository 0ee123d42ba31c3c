//! The `exec:` provider against small scripts written to a temporary directory.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::request;
use reverie_model::{ExecClient, ModelClient, ModelErrorKind, ModelRequest, StopReason, Usage};
use serde_json::{Value, json};

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn exec(command: &str) -> ExecClient {
    ExecClient::new(command, Duration::from_secs(10))
}

#[tokio::test]
async fn a_reply_object_and_the_request_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let stdin_copy = dir.path().join("stdin.json");
    let script = write(
        dir.path(),
        "reply.sh",
        &format!(
            "cat > '{}'\n\
             printf '%s' '{{\"output\":{{\"keep\":[\"e1\"],\"merge\":[]}},\"stop\":\"complete\",\
             \"usage\":{{\"cache_creation_input_tokens\":1,\"cache_read_input_tokens\":2,\
             \"input_tokens\":3,\"output_tokens\":4}},\"model\":\"local-7b\"}}'\n",
            stdin_copy.display()
        ),
    );
    let command = format!("sh {script}");
    let client = exec(&command);
    assert_eq!(client.name(), format!("exec:{command}"));
    assert_eq!(client.price(), None);

    let reply = client.complete(&request()).await.unwrap();
    assert_eq!(reply.output, json!({"keep": ["e1"], "merge": []}));
    assert_eq!(reply.stop, StopReason::Complete);
    assert_eq!(reply.model, "local-7b");
    assert_eq!(
        reply.usage,
        Usage {
            cache_creation_input_tokens: 1,
            cache_read_input_tokens: 2,
            input_tokens: 3,
            output_tokens: 4
        }
    );
    // The command read exactly the request, serialized as the struct (the `exec:` contract).
    let sent: ModelRequest =
        serde_json::from_str(&std::fs::read_to_string(&stdin_copy).unwrap()).unwrap();
    assert_eq!(sent, request());
    let sent: Value = serde_json::from_str(&std::fs::read_to_string(&stdin_copy).unwrap()).unwrap();
    assert_eq!(sent, serde_json::to_value(request()).unwrap());
}

#[tokio::test]
async fn a_python_model_reading_the_request() {
    if std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("python3 not found; skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = write(
        dir.path(),
        "model.py",
        r#"import json, sys
request = json.load(sys.stdin)
answer = {"schema": request["schema_name"], "max_tokens": request["max_tokens"],
          "first_line": request["user"].splitlines()[0]}
print(json.dumps({"output": answer, "stop": "max_tokens"}))
"#,
    );
    let reply = exec(&format!("python3 {script}"))
        .complete(&request())
        .await
        .unwrap();
    assert_eq!(
        reply.output,
        json!({"schema": "curation", "max_tokens": 1024, "first_line": "Entries:"})
    );
    assert_eq!(reply.stop, StopReason::MaxTokens);
    // No usage printed: zero; no model printed: the command's name.
    assert_eq!(reply.usage, Usage::default());
    assert_eq!(reply.model, format!("exec:python3 {script}"));
}

#[tokio::test]
async fn a_bare_answer() {
    let reply = exec(r#"cat > /dev/null; echo '{"keep": ["e2"], "merge": ["e1"]}'"#)
        .complete(&request())
        .await
        .unwrap();
    assert_eq!(reply.output, json!({"keep": ["e2"], "merge": ["e1"]}));
    assert_eq!(reply.stop, StopReason::Complete);
    assert_eq!(reply.usage, Usage::default());
}

#[tokio::test]
async fn claude_code_headless_output() {
    // `claude -p --output-format json`'s envelope
    // (https://docs.claude.com/en/docs/claude-code/sdk/sdk-headless): the answer is the text in
    // `result`, here fenced and surrounded by prose as a chat model writes it.
    let dir = tempfile::tempdir().unwrap();
    let envelope = json!({
        "type": "result",
        "subtype": "success",
        "is_error": false,
        "duration_ms": 5120,
        "duration_api_ms": 4980,
        "num_turns": 1,
        "result": "Here is the curation:\n```json\n{\"keep\": [\"e1\"], \"merge\": [\"e2 {dup}\"]}\n```\nLet me know if you need more.",
        "session_id": "0e639165-79b1-4bd4-bb0f-4cb4c15115d4",
        "total_cost_usd": 0.0123,
        "usage": {
            "input_tokens": 12,
            "cache_creation_input_tokens": 3000,
            "cache_read_input_tokens": 15635,
            "output_tokens": 40,
            "server_tool_use": {"web_search_requests": 0},
            "service_tier": "standard"
        },
        "modelUsage": {"claude-sonnet-4-6": {"inputTokens": 12, "outputTokens": 40}}
    });
    let fixture = write(dir.path(), "claude.json", &envelope.to_string());
    let reply = exec(&format!("cat > /dev/null; cat {fixture}"))
        .complete(&request())
        .await
        .unwrap();
    assert_eq!(reply.output, json!({"keep": ["e1"], "merge": ["e2 {dup}"]}));
    assert_eq!(reply.stop, StopReason::Complete);
    assert_eq!(reply.model, "claude-sonnet-4-6");
    assert_eq!(
        reply.usage,
        Usage {
            cache_creation_input_tokens: 3000,
            cache_read_input_tokens: 15635,
            input_tokens: 12,
            output_tokens: 40
        }
    );
}

#[tokio::test]
async fn claude_code_error_envelope_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let envelope = json!({
        "type": "result", "subtype": "error_max_turns", "is_error": true,
        "result": "Reached max turns (1)", "session_id": "s", "total_cost_usd": 0.001
    });
    let fixture = write(dir.path(), "claude.json", &envelope.to_string());
    let error = exec(&format!("cat > /dev/null; cat {fixture}"))
        .complete(&request())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ModelErrorKind::Rejected);
    assert!(error.message.contains("error_max_turns"), "{error}");
    assert!(error.message.contains("Reached max turns"), "{error}");
}

#[tokio::test]
async fn claude_code_result_without_json_is_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let envelope = json!({
        "type": "result", "subtype": "success", "is_error": false,
        "result": "I could not decide what to keep.", "usage": {"input_tokens": 1, "output_tokens": 1}
    });
    let fixture = write(dir.path(), "claude.json", &envelope.to_string());
    let error = exec(&format!("cat > /dev/null; cat {fixture}"))
        .complete(&request())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ModelErrorKind::Malformed);
    assert!(error.message.contains("I could not decide"), "{error}");
}

#[tokio::test]
async fn a_failing_command_is_rejected_with_the_end_of_its_stderr() {
    let command = r#"cat > /dev/null
i=0
while [ $i -lt 300 ]; do echo "noise line $i" >&2; i=$((i+1)); done
echo "fatal: model llama9 not found" >&2
echo '{"keep": []}'
exit 3"#;
    let error = exec(command).complete(&request()).await.unwrap_err();
    assert_eq!(error.kind, ModelErrorKind::Rejected);
    assert!(error.message.contains("exit status: 3"), "{error}");
    assert!(
        error.message.contains("fatal: model llama9 not found"),
        "{error}"
    );
    // Only the last ~2 KB of stderr: the first lines are gone.
    assert!(!error.message.contains("noise line 1\n"), "{error}");
    assert!(error.message.contains("noise line 299"), "{error}");
    let stderr_part = error.message.split("stderr: ").nth(1).unwrap();
    assert!(stderr_part.len() <= 2048 + 4, "{} bytes", stderr_part.len());
}

#[tokio::test]
async fn output_that_is_not_json_is_malformed() {
    let error = exec("cat > /dev/null; echo 'I would keep e1 and merge e2.'")
        .complete(&request())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ModelErrorKind::Malformed);
    assert!(error.message.contains("not JSON"), "{error}");
    assert!(error.message.contains("I would keep e1"), "{error}");

    let error = exec("cat > /dev/null")
        .complete(&request())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ModelErrorKind::Malformed);
    assert!(error.message.contains("printed nothing"), "{error}");
}

#[tokio::test]
async fn a_slow_command_times_out() {
    let client = ExecClient::new("cat > /dev/null; sleep 5", Duration::from_millis(300));
    let started = Instant::now();
    let error = client.complete(&request()).await.unwrap_err();
    assert_eq!(error.kind, ModelErrorKind::Timeout, "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_command_ignoring_a_large_request_does_not_deadlock() {
    let mut big = request();
    big.user = "x".repeat(4 << 20);
    let client = ExecClient::new(
        r#"echo '{"keep": [], "merge": []}'"#,
        Duration::from_secs(5),
    );
    let reply = client.complete(&big).await.unwrap();
    assert_eq!(reply.output, json!({"keep": [], "merge": []}));
}

#[tokio::test]
async fn stdin_is_the_request_not_the_terminal() {
    // A command that reads all of stdin ends when the request ends: it never waits on the
    // parent's input.
    let client = ExecClient::new(
        r#"n=$(wc -c); echo "{\"bytes\": $n}""#,
        Duration::from_secs(5),
    );
    let reply = client.complete(&request()).await.unwrap();
    let expected = serde_json::to_vec(&request()).unwrap().len();
    assert_eq!(reply.output, json!({"bytes": expected}));
}

#[tokio::test]
async fn dropping_the_future_kills_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let command = format!(
        "echo $$ > '{}'; cat > /dev/null; sleep 30",
        pid_file.display()
    );
    let client = ExecClient::new(&command, Duration::from_secs(60));
    let outcome =
        tokio::time::timeout(Duration::from_millis(500), client.complete(&request())).await;
    assert!(outcome.is_err(), "the command should still be running");
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_string();
    // Gone, or a zombie waiting to be reaped: no longer running either way.
    let running = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|stat| {
                let state = stat.rsplit(") ").next().unwrap_or("").chars().next();
                state != Some('Z')
            })
            .unwrap_or(false)
    };
    assert!(
        common::eventually(Duration::from_secs(3), || !running()).await,
        "the command {pid} still runs"
    );
}

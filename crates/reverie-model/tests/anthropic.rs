//! The Anthropic provider against a local server that checks each request against the
//! documented Messages API wire format and answers as the API documents.

mod common;

use std::time::{Duration, Instant};

use axum::http::Method;
use common::{MockServer, Recorded, Reply, eventually, fast, request};
use reverie_model::{
    AnthropicClient, HttpOptions, ModelClient, ModelErrorKind, Secret, StopReason, Usage,
};
use serde_json::{Value, json};

const KEY: &str = "sk-ant-api03-test-0123456789abcdefghij";

fn client(server: &MockServer, options: HttpOptions) -> AnthropicClient {
    AnthropicClient::new("claude-sonnet-4-6", Secret::new(KEY), &server.base, options).unwrap()
}

/// A successful forced tool call. Shape: the Messages API response
/// (https://docs.anthropic.com/en/api/messages), a `tool_use` content block as in "Forcing tool
/// use" (https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use), the
/// usage with the prompt-caching counters
/// (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching).
fn tool_use_reply(cache_creation: i64, cache_read: i64) -> Value {
    json!({
        "id": "msg_01Aq9w938a90dw8q",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": [{
            "type": "tool_use",
            "id": "toolu_01A09q90qw90lq917835lq9",
            "name": "curation",
            "input": {"keep": ["e1"], "merge": ["e2"]}
        }],
        "stop_reason": "tool_use",
        "stop_sequence": null,
        "usage": {
            "input_tokens": 312,
            "cache_creation_input_tokens": cache_creation,
            "cache_read_input_tokens": cache_read,
            "output_tokens": 87
        }
    })
}

/// An error body as documented at https://docs.anthropic.com/en/api/errors.
fn error_body(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

/// Every field of the request, as the Messages API documents it.
fn check_request(seen: &Recorded) {
    assert_eq!(seen.method, Method::POST);
    assert_eq!(seen.path, "/v1/messages");
    assert_eq!(seen.header("x-api-key"), Some(KEY));
    assert_eq!(seen.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(
        seen.header("authorization"),
        None,
        "the key goes in x-api-key only"
    );

    let req = request();
    let body = &seen.body;
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "max_tokens",
            "messages",
            "model",
            "system",
            "tool_choice",
            "tools"
        ],
        "no field beyond the documented ones"
    );
    assert_eq!(body["model"], "claude-sonnet-4-6");
    assert_eq!(body["max_tokens"], 1024);
    // The stable prefix, cached: https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching
    assert_eq!(
        body["system"],
        json!([{
            "type": "text",
            "text": req.system,
            "cache_control": {"type": "ephemeral"}
        }])
    );
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": [{"type": "text", "text": req.user}]}])
    );
    let tools = body["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 1);
    assert_eq!(tools[0]["name"], "curation");
    assert_eq!(tools[0]["input_schema"], req.schema);
    assert!(
        tools[0]["description"]
            .as_str()
            .is_some_and(|d| d.len() > 20)
    );
    // Forced tool use: https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use
    assert_eq!(
        body["tool_choice"],
        json!({"type": "tool", "name": "curation"})
    );
}

#[tokio::test]
async fn forced_tool_call_answers_with_usage() {
    let server = MockServer::start(|n, _| {
        // The first request writes the cache, the second reads it.
        let reply = if n == 0 {
            tool_use_reply(2048, 0)
        } else {
            tool_use_reply(0, 2048)
        };
        Reply::json(200, reply).header("request-id", "req_018EeWyXxfu5pfWkrYcMdjWG")
    })
    .await;
    let client = client(&server, fast(Duration::from_secs(5), 4));
    assert_eq!(client.name(), "anthropic:claude-sonnet-4-6");
    let price = client.price().unwrap();
    assert_eq!((price.input, price.output), (3.0, 15.0));

    let first = client.complete(&request()).await.unwrap();
    assert_eq!(first.output, json!({"keep": ["e1"], "merge": ["e2"]}));
    assert_eq!(first.stop, StopReason::Complete);
    assert_eq!(first.model, "claude-sonnet-4-6");
    assert_eq!(
        first.usage,
        Usage {
            cache_creation_input_tokens: 2048,
            cache_read_input_tokens: 0,
            input_tokens: 312,
            output_tokens: 87
        }
    );
    let second = client.complete(&request()).await.unwrap();
    assert_eq!(second.usage.cache_read_input_tokens, 2048);
    assert_eq!(second.usage.cache_creation_input_tokens, 0);

    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        check_request(request);
    }
    // The system block is byte-identical across requests, so the cache can hit.
    assert_eq!(seen[0].body["system"], seen[1].body["system"]);
}

#[tokio::test]
async fn usage_fields_missing_count_zero_and_text_blocks_are_skipped() {
    let server = MockServer::start(|_, _| {
        Reply::json(
            200,
            json!({
                "id": "msg_01", "type": "message", "role": "assistant",
                "model": "claude-sonnet-4-6-20260101",
                "content": [
                    {"type": "text", "text": "Here is the curation."},
                    {"type": "tool_use", "id": "toolu_1", "name": "other", "input": {"x": 1}},
                    {"type": "tool_use", "id": "toolu_2", "name": "curation",
                     "input": {"keep": [], "merge": []}}
                ],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 10, "output_tokens": 3, "cache_creation_input_tokens": null}
            }),
        )
    })
    .await;
    let reply = client(&server, fast(Duration::from_secs(5), 0))
        .complete(&request())
        .await
        .unwrap();
    // The block named after the schema, not the first tool call.
    assert_eq!(reply.output, json!({"keep": [], "merge": []}));
    assert_eq!(reply.stop, StopReason::Complete);
    assert_eq!(reply.model, "claude-sonnet-4-6-20260101");
    assert_eq!(
        reply.usage,
        Usage {
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
            input_tokens: 10,
            output_tokens: 3
        }
    );
}

#[tokio::test]
async fn rate_limited_then_answers_after_retry_after() {
    // A 429 with `retry-after` as documented at https://docs.anthropic.com/en/api/rate-limits.
    let server = MockServer::start(|n, _| match n {
        0 => Reply::json(
            429,
            error_body(
                "rate_limit_error",
                "Number of request tokens has exceeded your per-minute rate limit",
            ),
        )
        .header("retry-after", "0"),
        _ => Reply::json(200, tool_use_reply(0, 0)),
    })
    .await;
    let reply = client(&server, fast(Duration::from_secs(5), 4))
        .complete(&request())
        .await
        .unwrap();
    assert_eq!(reply.output["keep"], json!(["e1"]));
    assert_eq!(server.attempts(), 2);
    // The retry is the same request.
    let seen = server.requests();
    assert_eq!(seen[0].body, seen[1].body);
    check_request(&seen[1]);
}

#[tokio::test]
async fn retry_after_ms_is_honoured_over_the_backoff() {
    let server = MockServer::start(|n, _| match n {
        0 => Reply::json(429, error_body("rate_limit_error", "slow down"))
            .header("retry-after-ms", "300"),
        _ => Reply::json(200, tool_use_reply(0, 0)),
    })
    .await;
    // A 2 ms backoff: only the header can make the client wait 300 ms.
    client(&server, fast(Duration::from_secs(5), 4))
        .complete(&request())
        .await
        .unwrap();
    let arrivals = server.arrivals();
    assert_eq!(arrivals.len(), 2);
    let waited = arrivals[1] - arrivals[0];
    assert!(waited >= Duration::from_millis(280), "waited {waited:?}");
    assert!(waited < Duration::from_secs(2), "waited {waited:?}");
}

#[tokio::test]
async fn overloaded_529_then_answers() {
    // 529 overloaded_error: https://docs.anthropic.com/en/api/errors
    let server = MockServer::start(|n, _| match n {
        0 => Reply::json(529, error_body("overloaded_error", "Overloaded")),
        _ => Reply::json(200, tool_use_reply(0, 0)),
    })
    .await;
    let reply = client(&server, fast(Duration::from_secs(5), 4))
        .complete(&request())
        .await
        .unwrap();
    assert_eq!(reply.stop, StopReason::Complete);
    assert_eq!(server.attempts(), 2);
}

#[tokio::test]
async fn server_errors_give_up_after_max_retries() {
    let server = MockServer::start(|_, _| {
        Reply::json(500, error_body("api_error", "Internal server error"))
    })
    .await;
    let started = Instant::now();
    let error = client(&server, fast(Duration::from_secs(5), 3))
        .complete(&request())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ModelErrorKind::Unavailable);
    assert_eq!(server.attempts(), 4, "max_retries + 1 attempts");
    assert!(error.message.contains("HTTP 500"), "{error}");
    assert!(
        error.message.contains("api_error: Internal server error"),
        "{error}"
    );
    assert!(error.message.contains("4 attempts"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_slow_server_times_out_without_retrying() {
    let server = MockServer::start(|_, _| {
        Reply::json(200, tool_use_reply(0, 0)).after(Duration::from_secs(3))
    })
    .await;
    let started = Instant::now();
    let error = client(&server, fast(Duration::from_millis(200), 4))
        .complete(&request())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ModelErrorKind::Timeout, "{error}");
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(server.attempts(), 1);
}

#[tokio::test]
async fn a_truncated_body_is_malformed() {
    let server = MockServer::start(|_, _| {
        Reply::raw(
            200,
            r#"{"id":"msg_01","type":"message","content":[{"type":"tool_use","name":"curation","input":{"keep":["e1"#,
        )
    })
    .await;
    let error = client(&server, fast(Duration::from_secs(5), 4))
        .complete(&request())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ModelErrorKind::Malformed, "{error}");
    assert!(error.message.contains("not JSON"), "{error}");
    assert_eq!(server.attempts(), 1, "a malformed reply is not retried");
}

#[tokio::test]
async fn a_finished_reply_without_the_tool_call_is_malformed() {
    let server = MockServer::start(|_, _| {
        Reply::json(
            200,
            json!({
                "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6",
                "content": [{"type": "text", "text": "I would keep e1."}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 10, "output_tokens": 5}
            }),
        )
    })
    .await;
    let error = client(&server, fast(Duration::from_secs(5), 0))
        .complete(&request())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ModelErrorKind::Malformed);
    assert!(error.message.contains("curation"), "{error}");
}

#[tokio::test]
async fn max_tokens_stop_is_reported_not_an_error() {
    // stop_reason values: https://platform.claude.com/docs/en/build-with-claude/handling-stop-reasons
    let server = MockServer::start(|_, _| {
        Reply::json(
            200,
            json!({
                "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6",
                "content": [],
                "stop_reason": "max_tokens",
                "stop_sequence": null,
                "usage": {"input_tokens": 500, "output_tokens": 1024,
                          "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
            }),
        )
    })
    .await;
    let reply = client(&server, fast(Duration::from_secs(5), 0))
        .complete(&request())
        .await
        .unwrap();
    assert_eq!(reply.stop, StopReason::MaxTokens);
    assert_eq!(reply.output, Value::Null);
    assert_eq!(reply.usage.output_tokens, 1024);
}

#[tokio::test]
async fn refusal_stop_is_reported_not_an_error() {
    // `refusal`: https://platform.claude.com/docs/en/build-with-claude/handling-stop-reasons
    let server = MockServer::start(|_, _| {
        Reply::json(
            200,
            json!({
                "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6",
                "content": [],
                "stop_reason": "refusal",
                "stop_sequence": null,
                "usage": {"input_tokens": 500, "output_tokens": 0}
            }),
        )
    })
    .await;
    let reply = client(&server, fast(Duration::from_secs(5), 0))
        .complete(&request())
        .await
        .unwrap();
    assert_eq!(reply.stop, StopReason::Refusal);
    assert_eq!(reply.output, Value::Null);
}

#[tokio::test]
async fn a_bad_key_is_rejected_without_retrying_or_leaking_it() {
    let server = MockServer::start(|_, _| {
        // authentication_error: https://docs.anthropic.com/en/api/errors (the key echoed back
        // here, which the API does not do, to prove it would be scrubbed).
        Reply::json(
            401,
            error_body("authentication_error", &format!("invalid x-api-key {KEY}")),
        )
    })
    .await;
    let client = client(&server, fast(Duration::from_secs(5), 4));
    let error = client.complete(&request()).await.unwrap_err();
    assert_eq!(error.kind, ModelErrorKind::Rejected);
    assert_eq!(server.attempts(), 1);
    assert!(error.message.contains("HTTP 401"), "{error}");
    assert!(error.message.contains("authentication_error"), "{error}");
    for text in [
        error.to_string(),
        format!("{error:?}"),
        format!("{client:?}"),
    ] {
        assert!(!text.contains(KEY), "the key leaked: {text}");
        assert!(
            !text.contains("0123456789abcdefghij"),
            "the key leaked: {text}"
        );
    }
}

#[tokio::test]
async fn other_client_errors_are_rejected_with_the_providers_message() {
    let server = MockServer::start(|_, _| {
        Reply::json(
            400,
            error_body(
                "invalid_request_error",
                "max_tokens: 999999 > 64000, which is the maximum",
            ),
        )
    })
    .await;
    let error = client(&server, fast(Duration::from_secs(5), 4))
        .complete(&request())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ModelErrorKind::Rejected);
    assert_eq!(
        error.message,
        "anthropic:claude-sonnet-4-6: HTTP 400 (invalid_request_error: max_tokens: 999999 > 64000, which is the maximum)"
    );
    assert_eq!(server.attempts(), 1);
}

#[tokio::test]
async fn dropping_the_future_cancels_the_request() {
    let server = MockServer::start(|_, _| {
        Reply::json(200, tool_use_reply(0, 0)).after(Duration::from_secs(30))
    })
    .await;
    let client = client(&server, fast(Duration::from_secs(60), 4));
    let started = Instant::now();
    let outcome =
        tokio::time::timeout(Duration::from_millis(300), client.complete(&request())).await;
    assert!(outcome.is_err(), "the call should still be waiting");
    assert!(started.elapsed() < Duration::from_secs(1));
    // The server sees the connection closed: its handler is dropped before answering.
    assert!(
        eventually(Duration::from_secs(3), || server.dropped() == 1).await,
        "the server never saw the request go away"
    );
    assert_eq!(server.attempts(), 1);
}

#[tokio::test]
async fn an_unreachable_server_is_a_transport_error_after_retries() {
    // Bind then drop a listener: the port is closed.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = AnthropicClient::new(
        "claude-sonnet-4-6",
        Secret::new(KEY),
        &format!("http://127.0.0.1:{port}"),
        fast(Duration::from_secs(5), 2),
    )
    .unwrap();
    let error = client.complete(&request()).await.unwrap_err();
    assert_eq!(error.kind, ModelErrorKind::Transport, "{error}");
    assert!(error.message.contains("3 attempts"), "{error}");
    assert!(!error.to_string().contains(KEY));
}

//! The OpenAI-compatible provider against a local server that checks each request against the
//! documented chat completions wire format and answers as OpenAI (or Ollama) documents.

mod common;

use std::time::{Duration, Instant};

use axum::http::Method;
use common::{MockServer, Recorded, Reply, eventually, fast, request};
use reverie_model::{
    HttpOptions, ModelClient, ModelErrorKind, OpenAiClient, Secret, StopReason, Usage,
};
use serde_json::{Value, json};

const KEY: &str = "sk-proj-test-abcdefghijklmnopqrstuvwxyz012345";

fn client(server: &MockServer, key: Option<&str>, options: HttpOptions) -> OpenAiClient {
    OpenAiClient::new(
        "gpt-4o-2024-08-06",
        key.map(Secret::new),
        &format!("{}/v1", server.base),
        options,
    )
    .unwrap()
}

/// A chat completion with a Structured Outputs answer. Shape: the chat completion object
/// (https://platform.openai.com/docs/api-reference/chat/object), the content a JSON string
/// (https://platform.openai.com/docs/guides/structured-outputs), cached prompt tokens under
/// `prompt_tokens_details` (https://platform.openai.com/docs/guides/prompt-caching).
fn completion(content: Value, finish_reason: &str, refusal: Value) -> Value {
    json!({
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion",
        "created": 1741570283,
        "model": "gpt-4o-2024-08-06",
        "choices": [{
            "index": 0,
            "message": {
                "role": "assistant",
                "content": content,
                "refusal": refusal,
                "annotations": []
            },
            "logprobs": null,
            "finish_reason": finish_reason
        }],
        "usage": {
            "prompt_tokens": 1117,
            "completion_tokens": 46,
            "total_tokens": 1163,
            "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0
            }
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fc9f1d7035"
    })
}

fn answer() -> Value {
    json!(r#"{"keep":["e1"],"merge":["e2"]}"#)
}

/// An error body as documented at https://platform.openai.com/docs/guides/error-codes.
fn error_body(kind: &str, code: &str, message: &str) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

/// Every field of the request, as https://platform.openai.com/docs/api-reference/chat/create
/// documents it; `limit_field` is the token limit's name.
fn check_request(seen: &Recorded, limit_field: &str) {
    assert_eq!(seen.method, Method::POST);
    assert_eq!(seen.path, "/v1/chat/completions");
    assert_eq!(seen.header("content-type"), Some("application/json"));
    check_body(&seen.body, "gpt-4o-2024-08-06", limit_field);
}

fn check_body(body: &Value, model: &str, limit_field: &str) {
    let req = request();
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    let mut expected = vec![limit_field, "messages", "model", "response_format"];
    expected.sort();
    assert_eq!(keys, expected, "no field beyond the documented ones");
    assert_eq!(body["model"], model);
    assert_eq!(body[limit_field], 1024);
    assert_eq!(
        body["messages"],
        json!([
            {"role": "system", "content": req.system},
            {"role": "user", "content": req.user}
        ])
    );
    assert_eq!(
        body["response_format"],
        json!({
            "type": "json_schema",
            "json_schema": {"name": "curation", "schema": req.schema, "strict": true}
        })
    );
}

#[tokio::test]
async fn structured_output_answers_with_usage() {
    let server =
        MockServer::start(|_, _| Reply::json(200, completion(answer(), "stop", Value::Null))).await;
    let client = client(&server, Some(KEY), fast(Duration::from_secs(5), 4));
    assert_eq!(
        client.name(),
        format!("openai:{}/v1#gpt-4o-2024-08-06", server.base)
    );
    // Not OpenAI's own API: no list price.
    assert_eq!(client.price(), None);

    let reply = client.complete(&request()).await.unwrap();
    assert_eq!(reply.output, json!({"keep": ["e1"], "merge": ["e2"]}));
    assert_eq!(reply.stop, StopReason::Complete);
    assert_eq!(reply.model, "gpt-4o-2024-08-06");
    assert_eq!(
        reply.usage,
        Usage {
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 1024,
            input_tokens: 1117 - 1024,
            output_tokens: 46
        }
    );

    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    // Any base URL but OpenAI's: `max_tokens`, the field local servers know.
    check_request(&seen[0], "max_tokens");
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[test]
fn openai_itself_gets_max_completion_tokens_and_list_prices() {
    let client = OpenAiClient::new(
        "gpt-4o-2024-08-06",
        Some(Secret::new(KEY)),
        "https://api.openai.com/v1",
        HttpOptions::default(),
    )
    .unwrap();
    assert_eq!(client.name(), "openai:gpt-4o-2024-08-06");
    let price = client.price().unwrap();
    assert_eq!(
        (price.input, price.output, price.cache_read),
        (2.5, 10.0, 1.25)
    );
    // `max_tokens` is deprecated at OpenAI in favour of `max_completion_tokens`:
    // https://platform.openai.com/docs/api-reference/chat/create#chat-create-max_tokens
    check_body(
        &client.request_body(&request()),
        "gpt-4o-2024-08-06",
        "max_completion_tokens",
    );
}

#[tokio::test]
async fn a_local_server_without_a_key_gets_no_authorization() {
    // Ollama's OpenAI-compatible reply (https://github.com/ollama/ollama/blob/main/docs/openai.md):
    // no `refusal`, no `prompt_tokens_details`.
    let server = MockServer::start(|_, _| {
        Reply::json(
            200,
            json!({
                "id": "chatcmpl-626",
                "object": "chat.completion",
                "created": 1733000000,
                "model": "llama3.1",
                "system_fingerprint": "fp_ollama",
                "choices": [{
                    "index": 0,
                    "message": {"role": "assistant", "content": "{\"keep\": [], \"merge\": []}\n"},
                    "finish_reason": "stop"
                }],
                "usage": {"prompt_tokens": 200, "completion_tokens": 12, "total_tokens": 212}
            }),
        )
    })
    .await;
    let client = OpenAiClient::new(
        "llama3.1",
        None,
        &format!("{}/v1/", server.base),
        fast(Duration::from_secs(5), 0),
    )
    .unwrap();
    assert_eq!(client.name(), format!("openai:{}/v1#llama3.1", server.base));
    let reply = client.complete(&request()).await.unwrap();
    assert_eq!(reply.output, json!({"keep": [], "merge": []}));
    assert_eq!(reply.model, "llama3.1");
    assert_eq!(
        reply.usage,
        Usage {
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
            input_tokens: 200,
            output_tokens: 12
        }
    );
    let seen = &server.requests()[0];
    assert_eq!(seen.path, "/v1/chat/completions");
    assert_eq!(seen.header("authorization"), None);
    check_body(&seen.body, "llama3.1", "max_tokens");
}

#[tokio::test]
async fn a_refusal_is_reported_not_an_error() {
    // Structured Outputs refusals: https://platform.openai.com/docs/guides/structured-outputs#refusals
    let server = MockServer::start(|_, _| {
        Reply::json(
            200,
            completion(
                Value::Null,
                "stop",
                json!("I'm sorry, I cannot assist with that request."),
            ),
        )
    })
    .await;
    let reply = client(&server, Some(KEY), fast(Duration::from_secs(5), 0))
        .complete(&request())
        .await
        .unwrap();
    assert_eq!(reply.stop, StopReason::Refusal);
    assert_eq!(reply.output, Value::Null);
}

#[tokio::test]
async fn a_content_filter_stop_is_a_refusal() {
    let server = MockServer::start(|_, _| {
        Reply::json(200, completion(Value::Null, "content_filter", Value::Null))
    })
    .await;
    let reply = client(&server, Some(KEY), fast(Duration::from_secs(5), 0))
        .complete(&request())
        .await
        .unwrap();
    assert_eq!(reply.stop, StopReason::Refusal);
    assert_eq!(reply.output, Value::Null);
}

#[tokio::test]
async fn a_cut_answer_is_max_tokens_with_no_output() {
    // finish_reason `length`: https://platform.openai.com/docs/api-reference/chat/object
    let server = MockServer::start(|_, _| {
        Reply::json(
            200,
            completion(json!(r#"{"keep":["e1","#), "length", Value::Null),
        )
    })
    .await;
    let reply = client(&server, Some(KEY), fast(Duration::from_secs(5), 0))
        .complete(&request())
        .await
        .unwrap();
    assert_eq!(reply.stop, StopReason::MaxTokens);
    assert_eq!(reply.output, Value::Null);
    assert_eq!(reply.usage.output_tokens, 46);
}

#[tokio::test]
async fn content_that_is_not_json_is_malformed() {
    let server = MockServer::start(|_, _| {
        Reply::json(
            200,
            completion(
                json!("Sure! I would keep e1 and merge e2 into it."),
                "stop",
                Value::Null,
            ),
        )
    })
    .await;
    let error = client(&server, Some(KEY), fast(Duration::from_secs(5), 0))
        .complete(&request())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ModelErrorKind::Malformed);
    assert!(error.message.contains("not JSON"), "{error}");
    assert!(error.message.contains("Sure! I would keep e1"), "{error}");
}

#[tokio::test]
async fn a_long_non_json_answer_is_quoted_in_part() {
    let long = "x".repeat(5000);
    let server = MockServer::start(move |_, _| {
        Reply::json(200, completion(json!(long.clone()), "stop", Value::Null))
    })
    .await;
    let error = client(&server, Some(KEY), fast(Duration::from_secs(5), 0))
        .complete(&request())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ModelErrorKind::Malformed);
    assert!(error.message.len() < 600, "{} chars", error.message.len());
}

#[tokio::test]
async fn a_truncated_body_is_malformed() {
    let server = MockServer::start(|_, _| {
        Reply::raw(
            200,
            r#"{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"{\"keep\""#,
        )
    })
    .await;
    let error = client(&server, Some(KEY), fast(Duration::from_secs(5), 4))
        .complete(&request())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ModelErrorKind::Malformed, "{error}");
    assert_eq!(server.attempts(), 1);
}

#[tokio::test]
async fn rate_limited_then_answers() {
    // 429 with retry-after: https://platform.openai.com/docs/guides/error-codes
    let server = MockServer::start(|n, _| match n {
        0 => Reply::json(
            429,
            error_body(
                "requests",
                "rate_limit_exceeded",
                "Rate limit reached for requests",
            ),
        )
        .header("retry-after", "0"),
        _ => Reply::json(200, completion(answer(), "stop", Value::Null)),
    })
    .await;
    let reply = client(&server, Some(KEY), fast(Duration::from_secs(5), 4))
        .complete(&request())
        .await
        .unwrap();
    assert_eq!(reply.stop, StopReason::Complete);
    assert_eq!(server.attempts(), 2);
    for seen in server.requests() {
        check_request(&seen, "max_tokens");
    }
}

#[tokio::test]
async fn unavailable_after_every_retry() {
    let server = MockServer::start(|_, _| {
        Reply::json(
            503,
            error_body(
                "server_error",
                "service_unavailable",
                "The engine is currently overloaded",
            ),
        )
    })
    .await;
    let error = client(&server, Some(KEY), fast(Duration::from_secs(5), 2))
        .complete(&request())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ModelErrorKind::Unavailable);
    assert_eq!(server.attempts(), 3);
    assert!(error.message.contains("HTTP 503"), "{error}");
    assert!(error.message.contains("currently overloaded"), "{error}");
}

#[tokio::test]
async fn a_bad_key_is_rejected_and_never_shown() {
    let server = MockServer::start(|_, _| {
        // invalid_api_key: https://platform.openai.com/docs/guides/error-codes. OpenAI masks
        // the key it echoes; this server echoes it whole to prove it is scrubbed.
        Reply::json(
            401,
            error_body(
                "invalid_request_error",
                "invalid_api_key",
                &format!("Incorrect API key provided: {KEY}. You can find your API key at https://platform.openai.com/account/api-keys."),
            ),
        )
    })
    .await;
    let client = client(&server, Some(KEY), fast(Duration::from_secs(5), 4));
    let error = client.complete(&request()).await.unwrap_err();
    assert_eq!(error.kind, ModelErrorKind::Rejected);
    assert_eq!(server.attempts(), 1);
    assert!(error.message.contains("HTTP 401"), "{error}");
    assert!(
        error.message.contains("Incorrect API key provided: ***"),
        "{error}"
    );
    for text in [
        error.to_string(),
        format!("{error:?}"),
        format!("{client:?}"),
    ] {
        assert!(!text.contains(KEY), "the key leaked: {text}");
        assert!(
            !text.contains("abcdefghijklmnopqrstuvwxyz"),
            "the key leaked: {text}"
        );
    }
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let server = MockServer::start(|_, _| {
        Reply::json(200, completion(answer(), "stop", Value::Null)).after(Duration::from_secs(3))
    })
    .await;
    let started = Instant::now();
    let error = client(&server, Some(KEY), fast(Duration::from_millis(200), 4))
        .complete(&request())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ModelErrorKind::Timeout, "{error}");
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(server.attempts(), 1);
}

#[tokio::test]
async fn dropping_the_future_cancels_the_request() {
    let server = MockServer::start(|_, _| {
        Reply::json(200, completion(answer(), "stop", Value::Null)).after(Duration::from_secs(30))
    })
    .await;
    let client = client(&server, Some(KEY), fast(Duration::from_secs(60), 4));
    let outcome =
        tokio::time::timeout(Duration::from_millis(300), client.complete(&request())).await;
    assert!(outcome.is_err());
    assert!(
        eventually(Duration::from_secs(3), || server.dropped() == 1).await,
        "the server never saw the request go away"
    );
}

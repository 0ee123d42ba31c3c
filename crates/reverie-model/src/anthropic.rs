//! The Anthropic Messages API (`POST /v1/messages`, <https://docs.anthropic.com/en/api/messages>).
//!
//! The structured answer comes through a forced tool call: the request's schema is the only
//! tool's `input_schema` and `tool_choice` names it, so the reply's `tool_use` block carries the
//! answer as JSON the API has already parsed. The system prompt — the same for every request of
//! a reverie version — is marked `cache_control: ephemeral`, so repeated dreams read it from the
//! prompt cache at a tenth of the input price.

use async_trait::async_trait;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use reverie_curate::model::{
    ModelClient, ModelError, ModelErrorKind, ModelReply, ModelRequest, Price, StopReason, Usage,
};
use serde_json::{Value, json};

use crate::http::{self, HttpOptions, Post};
use crate::price;
use crate::secret::Secret;

/// Where the API lives unless configured otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The API version every request declares (the only one the Messages API has).
pub const API_VERSION: &str = "2023-06-01";

/// A Claude model behind the Messages API.
#[derive(Debug)]
pub struct AnthropicClient {
    name: String,
    model: String,
    url: String,
    api_key: Secret,
    price: Option<Price>,
    options: HttpOptions,
    http: reqwest::Client,
}

impl AnthropicClient {
    /// A client for `model` at `base_url` (`https://api.anthropic.com`, or a proxy speaking the
    /// same API), priced from the list prices until [`with_price`](Self::with_price).
    pub fn new(
        model: &str,
        api_key: Secret,
        base_url: &str,
        options: HttpOptions,
    ) -> Result<Self, ModelError> {
        Ok(AnthropicClient {
            name: format!("anthropic:{model}"),
            model: model.to_string(),
            url: format!("{}/v1/messages", base_url.trim_end_matches('/')),
            api_key,
            price: price::list_price(model),
            http: http::build_client(&options)?,
            options,
        })
    }

    /// Replaces the list price (a configured alias's price); `None` keeps it.
    pub fn with_price(mut self, price: Option<Price>) -> Self {
        if price.is_some() {
            self.price = price;
        }
        self
    }

    /// The body sent for `request`, exactly as it goes on the wire.
    pub fn request_body(&self, request: &ModelRequest) -> Value {
        json!({
            "model": self.model,
            "max_tokens": request.max_tokens,
            "system": [{
                "type": "text",
                "text": request.system,
                "cache_control": {"type": "ephemeral"},
            }],
            "messages": [{
                "role": "user",
                "content": [{"type": "text", "text": request.user}],
            }],
            "tools": [{
                "name": request.schema_name,
                "description": format!(
                    "Record the answer. Call this tool exactly once; its input is the whole \
                     answer and must follow the schema `{}`.",
                    request.schema_name
                ),
                "input_schema": request.schema,
            }],
            "tool_choice": {"type": "tool", "name": request.schema_name},
        })
    }

    fn headers(&self) -> Result<HeaderMap, ModelError> {
        let mut headers = HeaderMap::new();
        let mut key = HeaderValue::from_str(self.api_key.expose()).map_err(|_| {
            // Never echo the key: say only what is wrong with it.
            ModelError::new(
                ModelErrorKind::NotConfigured,
                format!(
                    "{}: the API key holds characters a header cannot carry",
                    self.name
                ),
            )
        })?;
        key.set_sensitive(true);
        headers.insert("x-api-key", key);
        headers.insert("anthropic-version", HeaderValue::from_static(API_VERSION));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Ok(headers)
    }
}

#[async_trait]
impl ModelClient for AnthropicClient {
    fn name(&self) -> &str {
        &self.name
    }

    fn price(&self) -> Option<Price> {
        self.price
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelReply, ModelError> {
        let body = self.request_body(request);
        let text = http::post_json(
            &self.http,
            &self.options,
            Post {
                provider: &self.name,
                url: &self.url,
                headers: self.headers()?,
                body: &body,
                secret: Some(&self.api_key),
            },
        )
        .await?;
        parse_reply(&self.name, &self.model, &request.schema_name, &text)
    }
}

/// Reads a Messages API reply: the forced tool call's input, the usage, the stop reason.
pub fn parse_reply(
    name: &str,
    model: &str,
    schema_name: &str,
    text: &str,
) -> Result<ModelReply, ModelError> {
    let malformed =
        |what: String| ModelError::new(ModelErrorKind::Malformed, format!("{name}: {what}"));
    let reply: Value = serde_json::from_str(text).map_err(|e| {
        malformed(format!(
            "the reply is not JSON ({e}): {}",
            http::snippet(text, 200)
        ))
    })?;
    let content = reply
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            malformed(format!(
                "the reply has no `content` array: {}",
                http::snippet(text, 200)
            ))
        })?;
    let stop = match reply.get("stop_reason").and_then(Value::as_str) {
        Some("end_turn" | "tool_use" | "stop_sequence") => StopReason::Complete,
        Some("max_tokens") => StopReason::MaxTokens,
        Some("refusal") => StopReason::Refusal,
        _ => StopReason::Other,
    };
    let tool_input = content
        .iter()
        .find(|block| {
            block.get("type").and_then(Value::as_str) == Some("tool_use")
                && block.get("name").and_then(Value::as_str) == Some(schema_name)
        })
        .and_then(|block| block.get("input"))
        .cloned();
    let output = match (tool_input, stop) {
        (Some(input), _) => input,
        // A finished reply must hold the forced call; a cut or refused one may not, and the
        // caller decides what that means.
        (None, StopReason::Complete) => {
            return Err(malformed(format!(
                "the reply holds no `tool_use` block named `{schema_name}`"
            )));
        }
        (None, _) => Value::Null,
    };
    let usage = reply.get("usage");
    let count = |field: &str| {
        usage
            .and_then(|u| u.get(field))
            .and_then(Value::as_i64)
            .unwrap_or(0)
    };
    Ok(ModelReply {
        output,
        usage: Usage {
            cache_creation_input_tokens: count("cache_creation_input_tokens"),
            cache_read_input_tokens: count("cache_read_input_tokens"),
            input_tokens: count("input_tokens"),
            output_tokens: count("output_tokens"),
        },
        stop,
        model: reply
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or(model)
            .to_string(),
    })
}

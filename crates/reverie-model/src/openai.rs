//! OpenAI-compatible chat completions (`POST {base}/chat/completions`,
//! <https://platform.openai.com/docs/api-reference/chat/create>): OpenAI itself, and the local
//! servers that speak the same API — Ollama (`http://localhost:11434/v1`), vLLM, the llama.cpp
//! server, LM Studio.
//!
//! The structured answer comes through `response_format: json_schema` with `strict: true`
//! (Structured Outputs, <https://platform.openai.com/docs/guides/structured-outputs>): the
//! message's `content` is the answer as a JSON string. OpenAI takes the token limit as
//! `max_completion_tokens` (`max_tokens` is deprecated there and refused by reasoning models);
//! the local servers know only `max_tokens`, so the field follows the base URL's host.

use async_trait::async_trait;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reverie_curate::model::{
    ModelClient, ModelError, ModelErrorKind, ModelReply, ModelRequest, Price, StopReason, Usage,
};
use serde_json::{Value, json};

use crate::http::{self, HttpOptions, Post};
use crate::price;
use crate::secret::Secret;

/// OpenAI's API unless configured otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// The host whose API takes `max_completion_tokens` and whose list prices apply.
const OPENAI_HOST: &str = "api.openai.com";

/// A model behind an OpenAI-compatible chat completions endpoint.
#[derive(Debug)]
pub struct OpenAiClient {
    name: String,
    model: String,
    url: String,
    api_key: Option<Secret>,
    official: bool,
    price: Option<Price>,
    options: HttpOptions,
    http: reqwest::Client,
}

impl OpenAiClient {
    /// A client for `model` at `base_url`. Named `openai:MODEL` at OpenAI's own API and
    /// `openai:BASE_URL#MODEL` anywhere else, so a dream records which server answered.
    /// Priced from the list prices at OpenAI only (a local model costs nothing, a proxy's price
    /// is unknown) until [`with_price`](Self::with_price).
    pub fn new(
        model: &str,
        api_key: Option<Secret>,
        base_url: &str,
        options: HttpOptions,
    ) -> Result<Self, ModelError> {
        let base = base_url.trim_end_matches('/');
        let parsed = reqwest::Url::parse(base).map_err(|e| {
            ModelError::new(
                ModelErrorKind::NotConfigured,
                format!("`{base_url}` is not a URL ({e})"),
            )
        })?;
        let official = parsed.host_str() == Some(OPENAI_HOST);
        let name = if official && base == DEFAULT_BASE_URL {
            format!("openai:{model}")
        } else {
            format!("openai:{base}#{model}")
        };
        Ok(OpenAiClient {
            name,
            model: model.to_string(),
            url: format!("{base}/chat/completions"),
            api_key,
            official,
            price: if official {
                price::list_price(model)
            } else {
                None
            },
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
        let mut body = json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": request.system},
                {"role": "user", "content": request.user},
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema_name,
                    "schema": request.schema,
                    "strict": true,
                },
            },
        });
        let limit_field = if self.official {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body[limit_field] = json!(request.max_tokens);
        body
    }

    fn headers(&self) -> Result<HeaderMap, ModelError> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(key) = &self.api_key {
            let mut value =
                HeaderValue::from_str(&format!("Bearer {}", key.expose())).map_err(|_| {
                    ModelError::new(
                        ModelErrorKind::NotConfigured,
                        format!(
                            "{}: the API key holds characters a header cannot carry",
                            self.name
                        ),
                    )
                })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        Ok(headers)
    }
}

#[async_trait]
impl ModelClient for OpenAiClient {
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
                secret: self.api_key.as_ref(),
            },
        )
        .await?;
        parse_reply(&self.name, &self.model, &text)
    }
}

/// Reads a chat completion: the first choice's content parsed as JSON, its finish reason, the
/// usage (cached prompt tokens counted as cache reads, not as input).
pub fn parse_reply(name: &str, model: &str, text: &str) -> Result<ModelReply, ModelError> {
    let malformed =
        |what: String| ModelError::new(ModelErrorKind::Malformed, format!("{name}: {what}"));
    let reply: Value = serde_json::from_str(text).map_err(|e| {
        malformed(format!(
            "the reply is not JSON ({e}): {}",
            http::snippet(text, 200)
        ))
    })?;
    let choice = reply.get("choices").and_then(|c| c.get(0)).ok_or_else(|| {
        malformed(format!(
            "the reply has no `choices[0]`: {}",
            http::snippet(text, 200)
        ))
    })?;
    let message = choice.get("message").unwrap_or(&Value::Null);
    let refused = message.get("refusal").is_some_and(|r| !r.is_null());
    let stop = if refused {
        StopReason::Refusal
    } else {
        match choice.get("finish_reason").and_then(Value::as_str) {
            Some("stop") => StopReason::Complete,
            Some("length") => StopReason::MaxTokens,
            Some("content_filter") => StopReason::Refusal,
            _ => StopReason::Other,
        }
    };
    let content = message.get("content").and_then(Value::as_str);
    let output = match (content, stop) {
        (Some(content), StopReason::Complete) => {
            serde_json::from_str(content.trim()).map_err(|e| {
                malformed(format!(
                    "the answer is not JSON ({e}): {}",
                    http::snippet(content, 200)
                ))
            })?
        }
        (None, StopReason::Complete) => {
            return Err(malformed("the reply finished without content".to_string()));
        }
        // Cut, refused or stopped for another reason: keep the answer if it is whole JSON,
        // else report none and let the stop reason speak.
        (Some(content), _) => serde_json::from_str(content.trim()).unwrap_or(Value::Null),
        (None, _) => Value::Null,
    };
    let usage = reply.get("usage");
    let count = |path: &[&str]| {
        let mut value = usage;
        for key in path {
            value = value.and_then(|v| v.get(key));
        }
        value.and_then(Value::as_i64).unwrap_or(0)
    };
    let prompt = count(&["prompt_tokens"]);
    let cached = count(&["prompt_tokens_details", "cached_tokens"]);
    Ok(ModelReply {
        output,
        usage: Usage {
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: cached,
            input_tokens: (prompt - cached).max(0),
            output_tokens: count(&["completion_tokens"]),
        },
        stop,
        model: reply
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or(model)
            .to_string(),
    })
}

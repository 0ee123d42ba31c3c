//! Model providers for reverie's model curator; the only crate that talks to model APIs.
//!
//! The curator (`reverie_curate::model`) speaks one provider-neutral [`ModelRequest`] and
//! [`ModelReply`] through the [`ModelClient`] trait; this crate implements it for
//!
//! - the Anthropic Messages API ([`AnthropicClient`]: structured answers through a forced tool
//!   call, the system prompt prompt-cached),
//! - OpenAI-compatible chat completions ([`OpenAiClient`]: OpenAI, Ollama, vLLM, llama.cpp,
//!   LM Studio; structured answers through `response_format: json_schema`),
//! - a local command ([`ExecClient`]: the request on stdin, the reply on stdout),
//!
//! and turns a model spec (`anthropic:claude-sonnet-4-6`, `openai:URL#MODEL`, `exec:CMD`, an
//! alias) into one with [`resolve`], given the [`Config`] read from the file and environment.

pub mod anthropic;
pub mod config;
pub mod exec;
pub mod http;
pub mod openai;
pub mod price;
pub mod secret;

use std::sync::Arc;

pub use anthropic::AnthropicClient;
pub use config::{Config, ConfigError, ModelAlias, ProviderConfig, Source, Unconfigured};
pub use exec::ExecClient;
pub use http::HttpOptions;
pub use openai::OpenAiClient;
pub use reverie_curate::model::{
    ModelClient, ModelError, ModelErrorKind, ModelReply, ModelRequest, Price, StopReason, Usage,
};
pub use secret::Secret;

/// The specs of the built-in deterministic curator, which needs no model.
pub const DETERMINISTIC: [&str; 2] = ["deterministic", "reverie-deterministic"];

/// The client `spec` names, or `None` for the deterministic curator:
///
/// - `deterministic`, `reverie-deterministic`: no model;
/// - `exec:COMMAND`: the command, run with `sh -c`;
/// - `openai:URL#MODEL`: an OpenAI-compatible server at `URL` (the OpenAI key sent if set);
/// - `anthropic:MODEL`, or a `claude-…` name: the Anthropic API (needs a key);
/// - `openai:MODEL`, or a `gpt-…`, `o1`, `o3`, `o4` name: the OpenAI API (needs a key);
/// - a `[models.NAME]` alias: its spec, priced as the alias says.
///
/// A spec naming nothing usable is `NotConfigured`, with a message saying what to write or set.
pub fn resolve(spec: &str, config: &Config) -> Result<Option<Arc<dyn ModelClient>>, ModelError> {
    let spec = spec.trim();
    if DETERMINISTIC.contains(&spec) {
        return Ok(None);
    }
    if let Some(alias) = config.models.get(spec) {
        // An alias's spec is not looked up as an alias again, so aliases cannot loop.
        if DETERMINISTIC.contains(&alias.spec.as_str()) {
            return Ok(None);
        }
        return resolve_builtin(&alias.spec, config, alias.price).map(Some);
    }
    resolve_builtin(spec, config, None).map(Some)
}

fn not_configured(message: impl Into<String>) -> ModelError {
    ModelError::new(ModelErrorKind::NotConfigured, message)
}

fn resolve_builtin(
    spec: &str,
    config: &Config,
    price: Option<Price>,
) -> Result<Arc<dyn ModelClient>, ModelError> {
    if let Some(command) = spec.strip_prefix("exec:") {
        let command = command.trim();
        if command.is_empty() {
            return Err(not_configured(
                "`exec:` needs a command, e.g. `exec:claude -p --output-format json`",
            ));
        }
        return Ok(Arc::new(
            ExecClient::new(command, config.http.timeout).with_price(price),
        ));
    }
    if let Some(model) = spec.strip_prefix("anthropic:") {
        return anthropic_client(model.trim(), config, price);
    }
    if let Some(rest) = spec.strip_prefix("openai:") {
        let rest = rest.trim();
        if let Some((url, model)) = rest.rsplit_once('#') {
            return openai_at(url.trim(), model.trim(), config, price);
        }
        if rest.contains("://") {
            return Err(not_configured(format!(
                "`openai:{rest}` names a server but no model: write `openai:{rest}#MODEL`"
            )));
        }
        return openai_official(rest, config, price);
    }
    if spec.starts_with("claude-") {
        return anthropic_client(spec, config, price);
    }
    let openai_family = ["o1", "o3", "o4"]
        .iter()
        .any(|family| spec == *family || spec.starts_with(&format!("{family}-")));
    if spec.starts_with("gpt-") || openai_family {
        return openai_official(spec, config, price);
    }
    Err(not_configured(format!(
        "unknown model `{spec}`: use `deterministic`, `anthropic:MODEL` (or a `claude-…` name), \
         `openai:MODEL` (or a `gpt-…`, `o1`, `o3`, `o4` name), `openai:URL#MODEL` for an \
         OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio), `exec:COMMAND`, or a \
         `[models.NAME]` alias in {}",
        config.file_display()
    )))
}

fn check_model_name(model: &str, example: &str) -> Result<(), ModelError> {
    if model.is_empty() {
        return Err(not_configured(format!("no model named: write `{example}`")));
    }
    if model.chars().any(char::is_whitespace) {
        return Err(not_configured(format!(
            "`{model}` is not a model name (it holds whitespace): write `{example}`"
        )));
    }
    Ok(())
}

fn anthropic_client(
    model: &str,
    config: &Config,
    price: Option<Price>,
) -> Result<Arc<dyn ModelClient>, ModelError> {
    check_model_name(model, "anthropic:claude-sonnet-4-6")?;
    let Some(key) = config.anthropic.api_key.clone() else {
        return Err(not_configured(format!(
            "`anthropic:{model}` needs an API key: set ANTHROPIC_API_KEY, or `api_key` under \
             `[anthropic]` in {}",
            config.file_display()
        )));
    };
    check_url(&config.anthropic.base_url, "the Anthropic base URL")?;
    let client = AnthropicClient::new(model, key, &config.anthropic.base_url, config.http)?;
    Ok(Arc::new(client.with_price(price)))
}

fn openai_official(
    model: &str,
    config: &Config,
    price: Option<Price>,
) -> Result<Arc<dyn ModelClient>, ModelError> {
    check_model_name(model, "openai:gpt-4.1")?;
    let base = &config.openai.base_url;
    let url = check_url(base, "the OpenAI base URL")?;
    // OpenAI's API needs a key; a server configured in its place (OPENAI_BASE_URL) may not.
    let needs_key = url.host_str() == Some("api.openai.com");
    if needs_key && config.openai.api_key.is_none() {
        return Err(not_configured(format!(
            "`openai:{model}` needs an API key: set OPENAI_API_KEY, or `api_key` under \
             `[openai]` in {}",
            config.file_display()
        )));
    }
    let client = OpenAiClient::new(model, config.openai.api_key.clone(), base, config.http)?;
    Ok(Arc::new(client.with_price(price)))
}

fn openai_at(
    url: &str,
    model: &str,
    config: &Config,
    price: Option<Price>,
) -> Result<Arc<dyn ModelClient>, ModelError> {
    if model.is_empty() {
        return Err(not_configured(format!(
            "`openai:{url}#` names no model after `#`: write e.g. \
             `openai:http://localhost:11434/v1#llama3.1`"
        )));
    }
    check_model_name(model, "openai:http://localhost:11434/v1#llama3.1")?;
    check_url(url, "the server in `openai:URL#MODEL`")?;
    let client = OpenAiClient::new(model, config.openai.api_key.clone(), url, config.http)?;
    Ok(Arc::new(client.with_price(price)))
}

fn check_url(url: &str, what: &str) -> Result<reqwest::Url, ModelError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        not_configured(format!(
            "{what} `{url}` is not a URL ({e}); write e.g. `http://localhost:11434/v1`"
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(not_configured(format!(
            "{what} `{url}` is not an http(s) URL; write e.g. `http://localhost:11434/v1`"
        )));
    }
    Ok(parsed)
}

//! `resolve`: every spec form, and the errors that say what to write or set.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use common::{MockServer, Reply, request};
use reverie_model::{Config, ModelErrorKind, Price, StopReason, resolve};
use serde_json::json;

fn config(pairs: &[(&str, &str)], file: Option<&Path>) -> Config {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::load_from(file, &move |name: &str| map.get(name).cloned()).unwrap()
}

fn name(spec: &str, config: &Config) -> String {
    resolve(spec, config)
        .unwrap_or_else(|e| panic!("{spec}: {e}"))
        .unwrap_or_else(|| panic!("{spec}: no client"))
        .name()
        .to_string()
}

fn error(spec: &str, config: &Config) -> String {
    let error = resolve(spec, config)
        .err()
        .unwrap_or_else(|| panic!("{spec} resolved"));
    assert_eq!(error.kind, ModelErrorKind::NotConfigured, "{spec}: {error}");
    error.message
}

#[test]
fn deterministic_needs_no_model() {
    let config = config(&[], None);
    assert!(resolve("deterministic", &config).unwrap().is_none());
    assert!(resolve("reverie-deterministic", &config).unwrap().is_none());
    assert!(resolve("  deterministic ", &config).unwrap().is_none());
}

#[test]
fn exec_commands() {
    let config = config(&[], None);
    let client = resolve("exec:claude -p --output-format json", &config)
        .unwrap()
        .unwrap();
    assert_eq!(client.name(), "exec:claude -p --output-format json");
    assert_eq!(client.price(), None);
    assert!(error("exec:", &config).contains("needs a command"));
    assert!(error("exec:   ", &config).contains("needs a command"));
}

#[test]
fn anthropic_models_need_a_key() {
    let without = config(&[], Some(Path::new("/home/u/.config/reverie/config.toml")));
    for spec in ["anthropic:claude-sonnet-4-6", "claude-sonnet-4-6"] {
        let message = error(spec, &without);
        assert!(message.contains("ANTHROPIC_API_KEY"), "{message}");
        assert!(message.contains("[anthropic]"), "{message}");
        assert!(
            message.contains("/home/u/.config/reverie/config.toml"),
            "{message}"
        );
    }

    let with = config(&[("ANTHROPIC_API_KEY", "sk-ant-test-7777777777")], None);
    assert_eq!(
        name("anthropic:claude-sonnet-4-6", &with),
        "anthropic:claude-sonnet-4-6"
    );
    assert_eq!(
        name("claude-haiku-4-5", &with),
        "anthropic:claude-haiku-4-5"
    );
    let client = resolve("claude-sonnet-4-6", &with).unwrap().unwrap();
    let price = client.price().unwrap();
    assert_eq!(
        (
            price.input,
            price.output,
            price.cache_write,
            price.cache_read
        ),
        (3.0, 15.0, 3.75, 0.30)
    );
    // The key is not in the client's Debug.
    assert!(!format!("{client:?}").contains("7777777777"));

    assert!(error("anthropic:", &with).contains("anthropic:claude-sonnet-4-6"));
    // The generic key serves too.
    let generic = config(&[("REVERIE_MODEL_API_KEY", "sk-generic-8888888888")], None);
    assert_eq!(
        name("claude-opus-4-5", &generic),
        "anthropic:claude-opus-4-5"
    );
}

#[test]
fn openai_models_need_a_key() {
    let without = config(&[], None);
    for spec in ["openai:gpt-4.1", "gpt-4.1", "o3", "o4-mini", "o1-mini"] {
        let message = error(spec, &without);
        assert!(message.contains("OPENAI_API_KEY"), "{message}");
        assert!(message.contains("[openai]"), "{message}");
    }
    let with = config(&[("OPENAI_API_KEY", "sk-openai-test-9999999999")], None);
    assert_eq!(name("openai:gpt-4.1", &with), "openai:gpt-4.1");
    assert_eq!(name("gpt-4o-mini", &with), "openai:gpt-4o-mini");
    assert_eq!(name("o3-mini", &with), "openai:o3-mini");
    assert_eq!(name("o1", &with), "openai:o1");
    let client = resolve("gpt-4o", &with).unwrap().unwrap();
    assert_eq!(client.price().map(|p| p.input), Some(2.5));
    // A server configured in OpenAI's place needs no key.
    let local = config(&[("OPENAI_BASE_URL", "http://localhost:11434/v1")], None);
    assert_eq!(
        name("openai:llama3.1", &local),
        "openai:http://localhost:11434/v1#llama3.1"
    );
}

#[test]
fn openai_compatible_servers() {
    let config = config(&[], None);
    let client = resolve("openai:http://localhost:11434/v1#llama3.1", &config)
        .unwrap()
        .unwrap();
    assert_eq!(client.name(), "openai:http://localhost:11434/v1#llama3.1");
    // A local model has no list price.
    assert_eq!(client.price(), None);
    assert_eq!(
        name(
            "openai:http://10.0.0.5:8000/v1#meta-llama/Llama-3.1-8B-Instruct",
            &config
        ),
        "openai:http://10.0.0.5:8000/v1#meta-llama/Llama-3.1-8B-Instruct"
    );

    let message = error("openai:http://localhost:11434/v1#", &config);
    assert!(message.contains("no model after `#`"), "{message}");
    let message = error("openai:http://localhost:11434/v1", &config);
    assert!(message.contains("#MODEL"), "{message}");
    let message = error("openai:localhost:11434#llama3.1", &config);
    assert!(message.contains("not an http(s) URL"), "{message}");
    let message = error("openai:not a url#llama3.1", &config);
    assert!(message.contains("not a URL"), "{message}");
    let message = error("openai:ftp://example.com/v1#llama3.1", &config);
    assert!(message.contains("http(s)"), "{message}");
}

#[test]
fn aliases_resolve_to_their_spec_and_price() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        r#"
[models.local]
spec = "openai:http://localhost:11434/v1#llama3.1"
price = { input = 0.1, output = 0.2, cache_write = 0.3, cache_read = 0.4 }

[models.cheap]
spec = "deterministic"

[models.script]
spec = "exec:./curate.sh"
price = { input = 1.0, output = 2.0 }

[models.claude-sonnet-4-6]
price = { input = 2.0, output = 10.0, cache_write = 2.5, cache_read = 0.2 }

[models.loop]
spec = "loop"
"#,
    )
    .unwrap();
    let config = config(
        &[("ANTHROPIC_API_KEY", "sk-ant-test-7777777777")],
        Some(&path),
    );

    let local = resolve("local", &config).unwrap().unwrap();
    assert_eq!(local.name(), "openai:http://localhost:11434/v1#llama3.1");
    assert_eq!(
        local.price(),
        Some(Price {
            input: 0.1,
            output: 0.2,
            cache_write: 0.3,
            cache_read: 0.4
        })
    );
    assert!(resolve("cheap", &config).unwrap().is_none());
    let script = resolve("script", &config).unwrap().unwrap();
    assert_eq!(script.name(), "exec:./curate.sh");
    assert_eq!(
        script.price().map(|p| (p.input, p.cache_read)),
        Some((1.0, 1.0))
    );
    // A price-only alias overrides the list price of the model it names.
    let sonnet = resolve("claude-sonnet-4-6", &config).unwrap().unwrap();
    assert_eq!(sonnet.name(), "anthropic:claude-sonnet-4-6");
    assert_eq!(sonnet.price().map(|p| p.input), Some(2.0));
    // An alias naming itself is not followed again: an unknown model, not a hang.
    assert!(error("loop", &config).contains("unknown model `loop`"));
}

#[test]
fn unknown_specs_name_the_accepted_forms() {
    let config = config(&[], Some(Path::new("/etc/reverie/config.toml")));
    for spec in ["llama3.1", "", "gemini-2.5-pro", "anthropic"] {
        let message = error(spec, &config);
        for form in [
            "deterministic",
            "anthropic:MODEL",
            "openai:MODEL",
            "openai:URL#MODEL",
            "exec:COMMAND",
            "[models.NAME]",
            "/etc/reverie/config.toml",
        ] {
            assert!(message.contains(form), "{spec}: {message}");
        }
    }
}

#[tokio::test]
async fn a_resolved_alias_answers() {
    // End to end: an alias in a config file naming a local OpenAI-compatible server.
    let server = MockServer::start(|_, _| {
        Reply::json(
            200,
            json!({
                "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "llama3.1",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "{\"keep\": [\"e1\"], \"merge\": []}"}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
            }),
        )
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[model]\ntimeout_secs = 5\nretry_base_ms = 1\n\n[models.local]\nspec = \"openai:{}/v1#llama3.1\"\n",
            server.base
        ),
    )
    .unwrap();
    let config = config(&[], Some(&path));
    assert_eq!(config.http.timeout, Duration::from_secs(5));
    let client = resolve("local", &config).unwrap().unwrap();
    let reply = client.complete(&request()).await.unwrap();
    assert_eq!(reply.output, json!({"keep": ["e1"], "merge": []}));
    assert_eq!(reply.stop, StopReason::Complete);
    assert_eq!(server.requests()[0].path, "/v1/chat/completions");
}

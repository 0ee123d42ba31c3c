//! The configuration: defaults < file < environment, masking, errors that name the file and line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reverie_model::config::config_path;
use reverie_model::{Config, ConfigError, ModelAlias, Price, Secret, Source, Unconfigured};

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path
}

const FULL: &str = r#"
[dream]
model = "claude-sonnet-4-6"
unconfigured = "refuse"

[model]
timeout_secs = 120
max_retries = 2
retry_base_ms = 250

[anthropic]
api_key = "sk-ant-from-the-file-0000000000"
base_url = "https://anthropic.proxy.example"

[openai]
api_key = "sk-openai-from-the-file-1111111111"

[models.local]
spec = "openai:http://localhost:11434/v1#llama3.1"
price = { input = 0.0, output = 0.0, cache_write = 0.0, cache_read = 0.0 }

[models."gpt-4.1"]
price = { input = 2.0, output = 8.0 }
"#;

#[test]
fn defaults_without_file_or_environment() {
    let config = Config::load_from(None, &env(&[])).unwrap();
    assert_eq!(config.dream_model, "deterministic");
    assert_eq!(config.unconfigured, Unconfigured::Fallback);
    assert_eq!(config.http.timeout, Duration::from_secs(300));
    assert_eq!(config.http.max_retries, 4);
    assert_eq!(config.http.retry_base, Duration::from_millis(1000));
    assert_eq!(config.anthropic.api_key, None);
    assert_eq!(config.anthropic.base_url, "https://api.anthropic.com");
    assert_eq!(config.openai.api_key, None);
    assert_eq!(config.openai.base_url, "https://api.openai.com/v1");
    assert!(config.models.is_empty());
    assert!(config.warnings.is_empty());
    assert_eq!(config.source("anthropic.api_key"), Source::Default);
}

#[test]
fn a_missing_file_is_fine() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.toml");
    let config = Config::load_from(Some(&path), &env(&[])).unwrap();
    assert!(!config.file_loaded);
    assert_eq!(config.file.as_deref(), Some(path.as_path()));
    assert_eq!(config.dream_model, "deterministic");
}

#[test]
fn the_file_overrides_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), FULL);
    let config = Config::load_from(Some(&path), &env(&[])).unwrap();
    assert!(config.file_loaded);
    assert_eq!(config.dream_model, "claude-sonnet-4-6");
    assert_eq!(config.unconfigured, Unconfigured::Refuse);
    assert_eq!(config.http.timeout, Duration::from_secs(120));
    assert_eq!(config.http.max_retries, 2);
    assert_eq!(config.http.retry_base, Duration::from_millis(250));
    assert_eq!(
        config.anthropic.api_key,
        Some(Secret::new("sk-ant-from-the-file-0000000000"))
    );
    assert_eq!(config.anthropic.base_url, "https://anthropic.proxy.example");
    assert_eq!(config.openai.base_url, "https://api.openai.com/v1");
    assert_eq!(
        config.models["local"],
        ModelAlias {
            spec: "openai:http://localhost:11434/v1#llama3.1".to_string(),
            price: Some(Price {
                input: 0.0,
                output: 0.0,
                cache_write: 0.0,
                cache_read: 0.0
            }),
        }
    );
    // A price-only alias stands for its own name; missing cache prices are the input price.
    assert_eq!(
        config.models["gpt-4.1"],
        ModelAlias {
            spec: "gpt-4.1".to_string(),
            price: Some(Price {
                input: 2.0,
                output: 8.0,
                cache_write: 2.0,
                cache_read: 2.0
            }),
        }
    );
    assert_eq!(
        config.source("anthropic.api_key"),
        Source::File(path.clone())
    );
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn the_environment_overrides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), FULL);
    let config = Config::load_from(
        Some(&path),
        &env(&[
            ("REVERIE_MODEL", "exec:./model.sh"),
            ("REVERIE_MODEL_UNCONFIGURED", "fallback"),
            ("REVERIE_MODEL_TIMEOUT", "30"),
            ("REVERIE_MODEL_MAX_RETRIES", "7"),
            ("REVERIE_MODEL_RETRY_BASE_MS", "5"),
            ("ANTHROPIC_API_KEY", "sk-ant-from-the-env-2222222222"),
            ("ANTHROPIC_BASE_URL", "http://127.0.0.1:9999"),
            ("OPENAI_API_KEY", "sk-openai-from-the-env-3333333333"),
            ("OPENAI_BASE_URL", "http://localhost:11434/v1"),
        ]),
    )
    .unwrap();
    assert_eq!(config.dream_model, "exec:./model.sh");
    assert_eq!(config.unconfigured, Unconfigured::Fallback);
    assert_eq!(config.http.timeout, Duration::from_secs(30));
    assert_eq!(config.http.max_retries, 7);
    assert_eq!(config.http.retry_base, Duration::from_millis(5));
    assert_eq!(
        config.anthropic.api_key,
        Some(Secret::new("sk-ant-from-the-env-2222222222"))
    );
    assert_eq!(config.anthropic.base_url, "http://127.0.0.1:9999");
    assert_eq!(
        config.openai.api_key,
        Some(Secret::new("sk-openai-from-the-env-3333333333"))
    );
    assert_eq!(config.openai.base_url, "http://localhost:11434/v1");
    assert_eq!(
        config.source("anthropic.api_key"),
        Source::Env("ANTHROPIC_API_KEY")
    );
    assert_eq!(
        config.source("model.timeout_secs"),
        Source::Env("REVERIE_MODEL_TIMEOUT")
    );
    // Untouched by the environment: still the file's.
    assert_eq!(config.source("models.local"), Source::File(path));
}

#[test]
fn the_generic_key_serves_anthropic_and_yields_to_its_own_variable() {
    let generic = Config::load_from(
        None,
        &env(&[("REVERIE_MODEL_API_KEY", "sk-generic-4444444444")]),
    )
    .unwrap();
    assert_eq!(
        generic.anthropic.api_key,
        Some(Secret::new("sk-generic-4444444444"))
    );
    assert_eq!(generic.openai.api_key, None);
    let both = Config::load_from(
        None,
        &env(&[
            ("REVERIE_MODEL_API_KEY", "sk-generic-4444444444"),
            ("ANTHROPIC_API_KEY", "sk-ant-5555555555"),
        ]),
    )
    .unwrap();
    assert_eq!(
        both.anthropic.api_key,
        Some(Secret::new("sk-ant-5555555555"))
    );
    // An empty variable is unset.
    let empty = Config::load_from(None, &env(&[("ANTHROPIC_API_KEY", "")])).unwrap();
    assert_eq!(empty.anthropic.api_key, None);
}

#[test]
fn show_masks_keys_and_says_where_values_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), FULL);
    let config = Config::load_from(
        Some(&path),
        &env(&[("ANTHROPIC_API_KEY", "sk-ant-from-the-env-2222222222")]),
    )
    .unwrap();
    let shown = config.show();
    assert!(!shown.contains("sk-ant"), "{shown}");
    assert!(!shown.contains("sk-openai"), "{shown}");
    assert!(
        !shown.contains("2222222222") && !shown.contains("1111111111"),
        "{shown}"
    );
    let lines: Vec<&str> = shown.lines().collect();
    let anthropic_key = lines
        .iter()
        .skip_while(|l| **l != "[anthropic]")
        .find(|l| l.starts_with("api_key"))
        .unwrap();
    assert_eq!(
        *anthropic_key,
        r#"api_key = "***"  # from ANTHROPIC_API_KEY"#
    );
    let openai_key = lines
        .iter()
        .skip_while(|l| **l != "[openai]")
        .find(|l| l.starts_with("api_key"))
        .unwrap();
    assert_eq!(
        *openai_key,
        format!(r#"api_key = "***"  # from {}"#, path.display())
    );
    assert!(
        lines.contains(
            &format!(r#"model = "claude-sonnet-4-6"  # from {}"#, path.display()).as_str()
        ),
        "{shown}"
    );
    assert!(lines.contains(&"[models.local]"), "{shown}");
    // A name that is not a bare TOML key is quoted.
    assert!(lines.contains(&r#"[models."gpt-4.1"]"#), "{shown}");

    // What is shown is TOML again, and (keys masked) the same settings.
    let reread_path = dir.path().join("reread.toml");
    std::fs::write(&reread_path, &shown).unwrap();
    let reread = Config::load_from(Some(&reread_path), &env(&[])).unwrap();
    assert_eq!(reread.dream_model, config.dream_model);
    assert_eq!(reread.http, config.http);
    assert_eq!(reread.models, config.models);
    assert_eq!(reread.anthropic.api_key, Some(Secret::new("***")));

    // Unset keys are said to be unset, with the variables to set.
    let defaults = Config::load_from(None, &env(&[])).unwrap().show();
    assert!(
        defaults.contains("# api_key not set (ANTHROPIC_API_KEY or REVERIE_MODEL_API_KEY)"),
        "{defaults}"
    );
    assert!(
        defaults.contains(r#"model = "deterministic"  # default"#),
        "{defaults}"
    );
}

#[test]
fn a_malformed_file_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        dir.path(),
        "[dream]\nmodel = \"deterministic\"\n\n[model]\ntimeout_secs = = 3\n",
    );
    let error = Config::load_from(Some(&path), &env(&[])).unwrap_err();
    match &error {
        ConfigError::Parse { path: p, line, .. } => {
            assert_eq!(p, &path);
            assert_eq!(*line, 5);
        }
        other => panic!("not a parse error: {other:?}"),
    }
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("{}:5:", path.display())),
        "{text}"
    );
}

#[test]
fn an_unknown_key_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), "[model]\ntimeout_secs = 10\ntimeout_sec = 20\n");
    let error = Config::load_from(Some(&path), &env(&[])).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("timeout_sec"), "{text}");
    assert!(text.contains("unknown field"), "{text}");
    assert!(
        text.starts_with(&format!("{}:3:", path.display())),
        "{text}"
    );

    let path = write_config(
        dir.path(),
        "[antropic]\napi_key = \"sk-ant-secret-6666666666\"\n",
    );
    let text = Config::load_from(Some(&path), &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(text.contains("antropic"), "{text}");
    assert!(
        !text.contains("sk-ant-secret"),
        "the error quotes the key: {text}"
    );
}

#[test]
fn wrong_types_and_bad_values_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), "[model]\nmax_retries = \"four\"\n");
    let text = Config::load_from(Some(&path), &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        text.starts_with(&format!("{}:2:", path.display())),
        "{text}"
    );

    let path = write_config(dir.path(), "[dream]\nunconfigured = \"ignore\"\n");
    let text = Config::load_from(Some(&path), &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(text.contains("ignore"), "{text}");

    let path = write_config(dir.path(), "[model]\ntimeout_secs = 0\n");
    let text = Config::load_from(Some(&path), &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(text.contains("model.timeout_secs"), "{text}");

    let path = write_config(dir.path(), "[models.empty]\n");
    let text = Config::load_from(Some(&path), &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(text.contains("models.empty"), "{text}");

    let text = Config::load_from(None, &env(&[("REVERIE_MODEL_TIMEOUT", "5m")]))
        .unwrap_err()
        .to_string();
    assert!(text.contains("REVERIE_MODEL_TIMEOUT"), "{text}");
    assert!(text.contains("5m"), "{text}");

    let text = Config::load_from(None, &env(&[("REVERIE_MODEL_UNCONFIGURED", "maybe")]))
        .unwrap_err()
        .to_string();
    assert!(text.contains("REVERIE_MODEL_UNCONFIGURED"), "{text}");
}

#[cfg(unix)]
#[test]
fn a_key_in_a_readable_file_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), FULL);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = Config::load_from(Some(&path), &env(&[])).unwrap();
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    assert!(config.warnings[0].contains("644"), "{:?}", config.warnings);
    assert!(
        config.warnings[0].contains("chmod 600"),
        "{:?}",
        config.warnings
    );
    // Loaded anyway.
    assert!(config.anthropic.api_key.is_some());

    // Without a key, a readable file is fine.
    let path = write_config(dir.path(), "[dream]\nmodel = \"deterministic\"\n");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = Config::load_from(Some(&path), &env(&[])).unwrap();
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn the_file_is_found_where_the_environment_says() {
    assert_eq!(
        config_path(&env(&[
            ("REVERIE_CONFIG", "/etc/reverie.toml"),
            ("XDG_CONFIG_HOME", "/xdg"),
            ("HOME", "/home/u")
        ])),
        Some(PathBuf::from("/etc/reverie.toml"))
    );
    assert_eq!(
        config_path(&env(&[("XDG_CONFIG_HOME", "/xdg"), ("HOME", "/home/u")])),
        Some(PathBuf::from("/xdg/reverie/config.toml"))
    );
    // A relative XDG_CONFIG_HOME is ignored, as the XDG spec says.
    assert_eq!(
        config_path(&env(&[("XDG_CONFIG_HOME", "xdg"), ("HOME", "/home/u")])),
        Some(PathBuf::from("/home/u/.config/reverie/config.toml"))
    );
    assert_eq!(
        config_path(&env(&[("HOME", "/home/u")])),
        Some(PathBuf::from("/home/u/.config/reverie/config.toml"))
    );
    assert_eq!(config_path(&env(&[])), None);
}

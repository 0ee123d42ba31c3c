//! reverie's model configuration: which curator `reverie dream` uses, how model requests are
//! sent, the providers' keys and addresses, and named model aliases.
//!
//! Read in three layers, each overriding the one before: the defaults, the TOML file
//! (`$REVERIE_CONFIG`, else `$XDG_CONFIG_HOME/reverie/config.toml`, else
//! `~/.config/reverie/config.toml`; a missing file is fine), then the environment:
//!
//! ```toml
//! [dream]
//! model = "deterministic"      # REVERIE_MODEL
//! unconfigured = "fallback"    # or "refuse"; REVERIE_MODEL_UNCONFIGURED
//! [model]
//! timeout_secs = 300           # REVERIE_MODEL_TIMEOUT
//! max_retries = 4              # REVERIE_MODEL_MAX_RETRIES
//! retry_base_ms = 1000         # REVERIE_MODEL_RETRY_BASE_MS
//! [anthropic]
//! api_key = "…"                # ANTHROPIC_API_KEY, else REVERIE_MODEL_API_KEY
//! base_url = "https://api.anthropic.com"   # ANTHROPIC_BASE_URL
//! [openai]
//! api_key = "…"                # OPENAI_API_KEY
//! base_url = "https://api.openai.com/v1"   # OPENAI_BASE_URL
//! [models.local]               # an alias: `reverie dream --model local`
//! spec = "openai:http://localhost:11434/v1#llama3.1"
//! price = { input = 0.0, output = 0.0, cache_write = 0.0, cache_read = 0.0 }
//! ```
//!
//! Unknown keys are errors (a misspelt key silently ignored is a setting silently lost), and a
//! malformed file's error names the file and the line. Keys stay [`Secret`]s throughout:
//! [`Config::show`] prints them as `"***"` with where they came from.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use reverie_curate::model::Price;
use serde::{Deserialize, Serialize};

use crate::http::HttpOptions;
use crate::secret::Secret;
use crate::{anthropic, openai};

/// Names the configuration file, overriding the default location.
pub const CONFIG_ENV: &str = "REVERIE_CONFIG";

/// What a server does with a dream asking for a model it cannot serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unconfigured {
    /// Run it with the deterministic curator, and say so in the dream.
    #[default]
    Fallback,
    /// Fail it as `not_configured`.
    Refuse,
}

impl Unconfigured {
    fn as_str(self) -> &'static str {
        match self {
            Unconfigured::Fallback => "fallback",
            Unconfigured::Refuse => "refuse",
        }
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File(PathBuf),
    Env(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(path) => write!(f, "from {}", path.display()),
            Source::Env(var) => write!(f, "from {var}"),
        }
    }
}

/// One provider's key and address.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderConfig {
    pub api_key: Option<Secret>,
    pub base_url: String,
}

/// A named model: `[models.NAME]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelAlias {
    /// What the name stands for (`openai:URL#MODEL`, `anthropic:…`, `exec:…`); the name itself
    /// when the file gives only a price, which then overrides the list price.
    pub spec: String,
    /// Overrides the list price.
    pub price: Option<Price>,
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The curator `reverie dream` uses when none is named.
    pub dream_model: String,
    pub unconfigured: Unconfigured,
    /// Timeout and retries of every model request.
    pub http: HttpOptions,
    pub anthropic: ProviderConfig,
    pub openai: ProviderConfig,
    pub models: BTreeMap<String, ModelAlias>,
    /// How Claude Code projects are keyed to stores (`[claude_code]`).
    pub claude_code: ClaudeCodeConfig,
    /// The file consulted, whether or not it exists.
    pub file: Option<PathBuf>,
    /// Whether that file existed and was read.
    pub file_loaded: bool,
    /// Problems worth telling the user that do not stop the load (a key in a file others can
    /// read, a `$REVERIE_CONFIG` naming no file); the caller prints them.
    pub warnings: Vec<String>,
    sources: BTreeMap<String, Source>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            dream_model: "deterministic".to_string(),
            unconfigured: Unconfigured::Fallback,
            http: HttpOptions::default(),
            anthropic: ProviderConfig {
                api_key: None,
                base_url: anthropic::DEFAULT_BASE_URL.to_string(),
            },
            openai: ProviderConfig {
                api_key: None,
                base_url: openai::DEFAULT_BASE_URL.to_string(),
            },
            models: BTreeMap::new(),
            claude_code: ClaudeCodeConfig::default(),
            file: None,
            file_loaded: false,
            warnings: Vec::new(),
            sources: BTreeMap::new(),
        }
    }
}

/// How reverie's Claude Code hooks key a project to its store (the file's `[claude_code]`;
/// it lives here because this is reverie's one configuration file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaudeCodeConfig {
    /// What a project is, unless `projects` names it.
    pub key: ProjectKey,
    /// Folders (absolute; each with everything under it) given a project name of their own,
    /// whatever `key` says: the longest that contains a project's folder wins.
    pub projects: BTreeMap<PathBuf, String>,
}

/// What makes two folders the same Claude Code project.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectKey {
    /// The git repository (its root commit, else its remote): worktrees and moved folders
    /// share a store; a folder outside git is keyed by its path.
    #[default]
    Repository,
    /// The folder's path.
    Path,
}

impl ProjectKey {
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectKey::Repository => "repository",
            ProjectKey::Path => "path",
        }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not valid TOML, or holds an unknown key or a value of the wrong type.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A value (from the file or the environment) that parses but makes no sense.
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    dream: Option<DreamFile>,
    model: Option<ModelFile>,
    anthropic: Option<ProviderFile>,
    openai: Option<ProviderFile>,
    #[serde(default)]
    models: BTreeMap<String, AliasFile>,
    claude_code: Option<ClaudeCodeFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaudeCodeFile {
    key: Option<ProjectKey>,
    #[serde(default)]
    projects: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DreamFile {
    model: Option<String>,
    unconfigured: Option<Unconfigured>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    timeout_secs: Option<u64>,
    max_retries: Option<u32>,
    retry_base_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderFile {
    api_key: Option<String>,
    base_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AliasFile {
    spec: Option<String>,
    price: Option<PriceFile>,
}

/// A price in the file: the cache prices default to the input price (no discount assumed).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceFile {
    input: f64,
    output: f64,
    cache_write: Option<f64>,
    cache_read: Option<f64>,
}

/// The configuration file's location as the environment `env` says: `$REVERIE_CONFIG`, else
/// `$XDG_CONFIG_HOME/reverie/config.toml`, else `$HOME/.config/reverie/config.toml`.
pub fn config_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let var = |name: &str| env(name).filter(|v| !v.is_empty());
    if let Some(path) = var(CONFIG_ENV) {
        return Some(PathBuf::from(path));
    }
    // The XDG spec ignores a relative XDG_CONFIG_HOME.
    if let Some(xdg) = var("XDG_CONFIG_HOME").filter(|v| Path::new(v).is_absolute()) {
        return Some(Path::new(&xdg).join("reverie").join("config.toml"));
    }
    var("HOME").map(|home| Path::new(&home).join(".config/reverie/config.toml"))
}

impl Config {
    /// The configuration from the real file and environment.
    pub fn load() -> Result<Config, ConfigError> {
        let env = |name: &str| std::env::var(name).ok();
        let path = config_path(&env);
        let mut config = Config::load_from(path.as_deref(), &env)?;
        if env(CONFIG_ENV).is_some_and(|v| !v.is_empty())
            && !config.file_loaded
            && let Some(path) = &config.file
        {
            config.warnings.push(format!(
                "{CONFIG_ENV} names {}, which does not exist; using defaults and the environment",
                path.display()
            ));
        }
        Ok(config)
    }

    /// The configuration from `file` (if given and present) and the environment `env`.
    pub fn load_from(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut config = Config {
            file: file.map(Path::to_path_buf),
            ..Config::default()
        };
        if let Some(path) = file {
            match std::fs::read_to_string(path) {
                Ok(text) => {
                    let parsed = parse_file(path, &text)?;
                    config.apply_file(path, parsed)?;
                    config.file_loaded = true;
                    config.check_permissions(path);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(ConfigError::Read {
                        path: path.to_path_buf(),
                        source,
                    });
                }
            }
        }
        config.apply_env(env)?;
        Ok(config)
    }

    /// Where `key` (`anthropic.api_key`, `model.timeout_secs`, `models.NAME`) came from.
    pub fn source(&self, key: &str) -> Source {
        self.sources.get(key).cloned().unwrap_or(Source::Default)
    }

    /// The file a user should edit, for messages: the one consulted, or the default location.
    pub fn file_display(&self) -> String {
        match &self.file {
            Some(path) => path.display().to_string(),
            None => "~/.config/reverie/config.toml".to_string(),
        }
    }

    fn apply_file(&mut self, path: &Path, file: FileConfig) -> Result<(), ConfigError> {
        let from = || Source::File(path.to_path_buf());
        let origin = |key: &str| format!("{}: {key}", path.display());
        if let Some(dream) = file.dream {
            if let Some(model) = dream.model {
                self.dream_model = nonempty(model, || origin("dream.model"))?;
                self.sources.insert("dream.model".into(), from());
            }
            if let Some(unconfigured) = dream.unconfigured {
                self.unconfigured = unconfigured;
                self.sources.insert("dream.unconfigured".into(), from());
            }
        }
        if let Some(model) = file.model {
            if let Some(secs) = model.timeout_secs {
                self.http.timeout = timeout(secs, || origin("model.timeout_secs"))?;
                self.sources.insert("model.timeout_secs".into(), from());
            }
            if let Some(retries) = model.max_retries {
                self.http.max_retries = retries;
                self.sources.insert("model.max_retries".into(), from());
            }
            if let Some(ms) = model.retry_base_ms {
                self.http.retry_base = Duration::from_millis(ms);
                self.sources.insert("model.retry_base_ms".into(), from());
            }
        }
        for (section, provider, file_provider) in [
            ("anthropic", &mut self.anthropic, file.anthropic),
            ("openai", &mut self.openai, file.openai),
        ] {
            let Some(file_provider) = file_provider else {
                continue;
            };
            if let Some(key) = file_provider.api_key.filter(|k| !k.is_empty()) {
                provider.api_key = Some(Secret::new(key));
                self.sources.insert(format!("{section}.api_key"), from());
            }
            if let Some(url) = file_provider.base_url {
                provider.base_url = nonempty(url, || origin(&format!("{section}.base_url")))?;
                self.sources.insert(format!("{section}.base_url"), from());
            }
        }
        if let Some(cc) = file.claude_code {
            if let Some(key) = cc.key {
                self.claude_code.key = key;
                self.sources.insert("claude_code.key".into(), from());
            }
            for (folder, name) in cc.projects {
                let at = || origin(&format!("claude_code.projects.{folder:?}"));
                let path = PathBuf::from(&folder);
                if !path.is_absolute() {
                    return Err(ConfigError::Invalid {
                        origin: at(),
                        message: "the folder must be an absolute path".to_string(),
                    });
                }
                let name = nonempty(name, at)?;
                if name.chars().count() > 200 {
                    return Err(ConfigError::Invalid {
                        origin: at(),
                        message: "a project name is at most 200 characters".to_string(),
                    });
                }
                self.sources
                    .insert(format!("claude_code.projects.{folder}"), from());
                self.claude_code.projects.insert(path, name);
            }
        }
        for (name, alias) in file.models {
            let price = alias.price.map(|p| Price {
                input: p.input,
                output: p.output,
                cache_write: p.cache_write.unwrap_or(p.input),
                cache_read: p.cache_read.unwrap_or(p.input),
            });
            if alias.spec.is_none() && price.is_none() {
                return Err(ConfigError::Invalid {
                    origin: origin(&format!("models.{name}")),
                    message: "an alias needs a `spec`, a `price`, or both".to_string(),
                });
            }
            let spec = match alias.spec {
                Some(spec) => nonempty(spec, || origin(&format!("models.{name}.spec")))?,
                None => name.clone(),
            };
            self.sources.insert(format!("models.{name}"), from());
            self.models.insert(name, ModelAlias { spec, price });
        }
        Ok(())
    }

    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        // An empty variable is an unset one (`ANTHROPIC_API_KEY= reverie …`).
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let invalid = |name: &str, message: &str| ConfigError::Invalid {
            origin: name.to_string(),
            message: message.to_string(),
        };
        let number = |name: &'static str| -> Result<Option<u64>, ConfigError> {
            var(name)
                .map(|v| {
                    v.trim()
                        .parse::<u64>()
                        .map_err(|_| invalid(name, &format!("`{v}` is not a whole number")))
                })
                .transpose()
        };
        if let Some(model) = var("REVERIE_MODEL") {
            self.dream_model = model.trim().to_string();
            self.set_source("dream.model", "REVERIE_MODEL");
        }
        if let Some(value) = var("REVERIE_MODEL_UNCONFIGURED") {
            self.unconfigured = match value.trim() {
                "fallback" => Unconfigured::Fallback,
                "refuse" => Unconfigured::Refuse,
                other => {
                    return Err(invalid(
                        "REVERIE_MODEL_UNCONFIGURED",
                        &format!("`{other}` is neither `fallback` nor `refuse`"),
                    ));
                }
            };
            self.set_source("dream.unconfigured", "REVERIE_MODEL_UNCONFIGURED");
        }
        if let Some(secs) = number("REVERIE_MODEL_TIMEOUT")? {
            self.http.timeout = timeout(secs, || "REVERIE_MODEL_TIMEOUT".to_string())?;
            self.set_source("model.timeout_secs", "REVERIE_MODEL_TIMEOUT");
        }
        if let Some(retries) = number("REVERIE_MODEL_MAX_RETRIES")? {
            self.http.max_retries = u32::try_from(retries)
                .map_err(|_| invalid("REVERIE_MODEL_MAX_RETRIES", "too large"))?;
            self.set_source("model.max_retries", "REVERIE_MODEL_MAX_RETRIES");
        }
        if let Some(ms) = number("REVERIE_MODEL_RETRY_BASE_MS")? {
            self.http.retry_base = Duration::from_millis(ms);
            self.set_source("model.retry_base_ms", "REVERIE_MODEL_RETRY_BASE_MS");
        }
        // ANTHROPIC_API_KEY is the provider's own variable and wins over reverie's generic one.
        for name in ["REVERIE_MODEL_API_KEY", "ANTHROPIC_API_KEY"] {
            if let Some(key) = var(name) {
                self.anthropic.api_key = Some(Secret::new(key.trim()));
                self.set_source("anthropic.api_key", name);
            }
        }
        if let Some(url) = var("ANTHROPIC_BASE_URL") {
            self.anthropic.base_url = url.trim().to_string();
            self.set_source("anthropic.base_url", "ANTHROPIC_BASE_URL");
        }
        if let Some(key) = var("OPENAI_API_KEY") {
            self.openai.api_key = Some(Secret::new(key.trim()));
            self.set_source("openai.api_key", "OPENAI_API_KEY");
        }
        if let Some(url) = var("OPENAI_BASE_URL") {
            self.openai.base_url = url.trim().to_string();
            self.set_source("openai.base_url", "OPENAI_BASE_URL");
        }
        Ok(())
    }

    fn set_source(&mut self, key: &str, var: &'static str) {
        self.sources.insert(key.to_string(), Source::Env(var));
    }

    /// A key in a file others can read is a key others can use.
    #[cfg(unix)]
    fn check_permissions(&mut self, path: &Path) {
        use std::os::unix::fs::PermissionsExt;
        let holds_key = ["anthropic.api_key", "openai.api_key"]
            .iter()
            .any(|key| self.source(key) == Source::File(path.to_path_buf()));
        if !holds_key {
            return;
        }
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                self.warnings.push(format!(
                    "{} holds an API key and is readable by others (mode {mode:03o}); \
                     run `chmod 600 {}`",
                    path.display(),
                    path.display()
                ));
            }
        }
    }

    #[cfg(not(unix))]
    fn check_permissions(&mut self, _path: &Path) {}

    /// The effective configuration as TOML, each value followed by where it came from; keys
    /// are printed as `"***"`.
    pub fn show(&self) -> String {
        let mut out = String::new();
        let file_state = match (&self.file, self.file_loaded) {
            (Some(path), true) => format!("{} (read)", path.display()),
            (Some(path), false) => format!("{} (not found)", path.display()),
            (None, _) => "none".to_string(),
        };
        let _ = writeln!(out, "# reverie model configuration; file: {file_state}");
        let line = |out: &mut String, key: &str, value: String, source_key: &str| {
            let _ = writeln!(out, "{key} = {value}  # {}", self.source(source_key));
        };

        out.push_str("\n[dream]\n");
        line(&mut out, "model", quote(&self.dream_model), "dream.model");
        line(
            &mut out,
            "unconfigured",
            quote(self.unconfigured.as_str()),
            "dream.unconfigured",
        );

        out.push_str("\n[model]\n");
        line(
            &mut out,
            "timeout_secs",
            self.http.timeout.as_secs().to_string(),
            "model.timeout_secs",
        );
        line(
            &mut out,
            "max_retries",
            self.http.max_retries.to_string(),
            "model.max_retries",
        );
        line(
            &mut out,
            "retry_base_ms",
            self.http.retry_base.as_millis().to_string(),
            "model.retry_base_ms",
        );

        for (section, provider, vars) in [
            (
                "anthropic",
                &self.anthropic,
                "ANTHROPIC_API_KEY or REVERIE_MODEL_API_KEY",
            ),
            ("openai", &self.openai, "OPENAI_API_KEY"),
        ] {
            let _ = writeln!(out, "\n[{section}]");
            match provider.api_key {
                Some(_) => line(
                    &mut out,
                    "api_key",
                    quote("***"),
                    &format!("{section}.api_key"),
                ),
                None => {
                    let _ = writeln!(out, "# api_key not set ({vars})");
                }
            }
            line(
                &mut out,
                "base_url",
                quote(&provider.base_url),
                &format!("{section}.base_url"),
            );
        }

        out.push_str("\n[claude_code]\n");
        line(
            &mut out,
            "key",
            quote(self.claude_code.key.as_str()),
            "claude_code.key",
        );
        if !self.claude_code.projects.is_empty() {
            out.push_str("\n[claude_code.projects]\n");
            for (folder, name) in &self.claude_code.projects {
                let folder = folder.display().to_string();
                line(
                    &mut out,
                    &quote(&folder),
                    quote(name),
                    &format!("claude_code.projects.{folder}"),
                );
            }
        }

        for (name, alias) in &self.models {
            let _ = writeln!(out, "\n[models.{}]", key(name));
            let source = format!("models.{name}");
            line(&mut out, "spec", quote(&alias.spec), &source);
            if let Some(p) = alias.price {
                let price = format!(
                    "{{ input = {:?}, output = {:?}, cache_write = {:?}, cache_read = {:?} }}",
                    p.input, p.output, p.cache_write, p.cache_read
                );
                line(&mut out, "price", price, &source);
            }
        }
        out
    }
}

fn parse_file(path: &Path, text: &str) -> Result<FileConfig, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let at = e.span().map(|span| span.start).unwrap_or(0).min(text.len());
        let before = &text[..at];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
        ConfigError::Parse {
            path: path.to_path_buf(),
            line,
            column,
            // The message only: toml's full report quotes the offending line, which may hold
            // a key.
            message: e.message().trim().to_string(),
        }
    })
}

fn nonempty(value: String, origin: impl Fn() -> String) -> Result<String, ConfigError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ConfigError::Invalid {
            origin: origin(),
            message: "must not be empty".to_string(),
        });
    }
    Ok(trimmed.to_string())
}

fn timeout(secs: u64, origin: impl Fn() -> String) -> Result<Duration, ConfigError> {
    if secs == 0 {
        return Err(ConfigError::Invalid {
            origin: origin(),
            message: "a timeout of 0 seconds would fail every request".to_string(),
        });
    }
    Ok(Duration::from_secs(secs))
}

/// A TOML basic string.
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML key: bare when it can be, quoted otherwise.
fn key(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare { name.to_string() } else { quote(name) }
}

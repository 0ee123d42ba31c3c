//! `reverie claude-code install` and `uninstall`: reverie's hook command registered in, or
//! taken out of, Claude Code's `settings.json`, merged into whatever the file already holds.
//!
//! The format is Claude Code's (<https://code.claude.com/docs/en/hooks#configuration>):
//! `{"hooks": {"Event": [{"matcher": "…", "hooks": [{"type": "command", "command": "…",
//! "timeout": N}]}]}}`. Reverie's handlers are recognised by a command containing
//! ` claude-code hook`, so that a reinstall from another binary path (or with another
//! `--database`) replaces the old handler instead of adding a second one.
//!
//! The file is edited as an ordered tree ([`Json`]): serde_json's own `Map` sorts keys unless
//! its `preserve_order` feature is on, which the workspace does not enable. Untouched keys and
//! values keep their order and value; the file is printed again with its own indentation,
//! line endings and final newline, the way Claude Code itself writes it (`JSON.stringify`
//! with an indent), so an untouched file that Claude Code wrote comes back byte for byte.

use std::fmt;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use reverie_core::Error;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::cli::ClaudeCodeSettingsArgs;
use crate::output;

/// The events reverie's hook answers, each with its handler's timeout in seconds.
///
/// All six are Claude Code hook events (<https://code.claude.com/docs/en/hooks#hook-events>).
/// None is given a matcher: an omitted matcher matches every occurrence, `UserPromptSubmit`
/// has no matcher support at all, and on the others (how the session started, why it ended,
/// what triggered compaction, the tool's name, the API error's type) reverie wants every case
/// (<https://code.claude.com/docs/en/hooks#matcher-patterns>).
pub const EVENTS: [(&str, u64); 6] = [
    // Context for the session; the session waits for it.
    ("SessionStart", 30),
    // Claude Code's own default for this event: the prompt waits for the hook.
    ("UserPromptSubmit", 30),
    // Ingests the transcript before it is compacted.
    ("PreCompact", 60),
    // Ingests the transcript. SessionEnd hooks get 1.5 s in all unless a settings-file hook
    // sets a longer timeout, which raises that budget, up to 60 s
    // (https://code.claude.com/docs/en/hooks#sessionend).
    ("SessionEnd", 60),
    ("PostToolUseFailure", 30),
    // Ingests the transcript with the failure as the session's outcome.
    ("StopFailure", 60),
];

/// What marks a handler as reverie's, whatever the binary's path or the flags before it.
const MARKER: &str = " claude-code hook";

/// Where the settings are: `DIR/.claude/settings.json` with `--project DIR`, else
/// `$CLAUDE_CONFIG_DIR/settings.json` when that is set, else `~/.claude/settings.json`.
pub fn settings_path(args: &ClaudeCodeSettingsArgs) -> Result<PathBuf> {
    if let Some(dir) = &args.project {
        // A mistyped project folder should fail, not grow a stray `.claude` folder.
        if !dir.is_dir() {
            return Err(
                Error::invalid("project", format!("{} is not a folder", dir.display())).into(),
            );
        }
        return Ok(std::path::absolute(dir)?
            .join(".claude")
            .join("settings.json"));
    }
    if let Some(dir) = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(std::path::absolute(PathBuf::from(dir))?.join("settings.json"));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).context(
        "cannot find Claude Code's settings: HOME is not set (use --project DIR or CLAUDE_CONFIG_DIR)",
    )?;
    Ok(PathBuf::from(home).join(".claude").join("settings.json"))
}

/// The hook events under which exactly `hook_command` is registered, in the file's order;
/// none when the file does not exist. A reverie handler with another command (an older binary
/// path, another database) does not count: it would not run this binary.
pub fn installed(path: &Path, hook_command: &str) -> Result<Vec<String>> {
    let Some(text) = read(path)? else {
        return Ok(Vec::new());
    };
    let doc = Doc::parse(path, &text)?;
    let Some(Json::Object(hooks)) = get(&doc.root, "hooks") else {
        return Ok(Vec::new());
    };
    let ours = |h: &Json| command_of(h) == Some(hook_command);
    Ok(hooks
        .iter()
        .filter(|(_, groups)| match groups {
            Json::Array(groups) => groups
                .iter()
                .any(|g| handlers(g).is_some_and(|hs| hs.iter().any(ours))),
            _ => false,
        })
        .map(|(event, _)| event.clone())
        .collect())
}

/// Registers `hook_command` under every event of [`EVENTS`].
pub fn install(
    args: &ClaudeCodeSettingsArgs,
    hook_command: &str,
    mcp: &[String],
    json: bool,
) -> Result<i32> {
    let path = settings_path(args)?;
    let (old, mut doc) = load(&path)?;
    let before = doc.root.clone();
    register(&mut doc.root, hook_command, &path)?;
    let hooks = Change {
        changed: doc.root != before,
        events: EVENTS.iter().map(|(e, _)| e.to_string()).collect(),
        path,
        old,
        doc,
    };
    let path = mcp_path(args)?;
    let (old, mut doc) = load(&path)?;
    let before = doc.root.clone();
    register_mcp(&mut doc.root, mcp, &path)?;
    let server = Change {
        changed: doc.root != before,
        events: vec![format!("MCP server `{MCP_NAME}`")],
        path,
        old,
        doc,
    };
    report(
        hooks.finish(args.dry_run, json, true)?,
        server.finish(args.dry_run, json, true)?,
        json,
    )
}

/// Takes every reverie handler out, whatever its command, and reverie's MCP server.
pub fn uninstall(args: &ClaudeCodeSettingsArgs, _hook_command: &str, json: bool) -> Result<i32> {
    let path = settings_path(args)?;
    let (old, mut doc) = load(&path)?;
    let events = unregister(&mut doc.root);
    let hooks = Change {
        changed: !events.is_empty(),
        events,
        path,
        old,
        doc,
    };
    let path = mcp_path(args)?;
    let (old, mut doc) = load(&path)?;
    let removed = unregister_mcp(&mut doc.root);
    let server = Change {
        changed: removed,
        events: if removed {
            vec![format!("MCP server `{MCP_NAME}`")]
        } else {
            Vec::new()
        },
        path,
        old,
        doc,
    };
    report(
        hooks.finish(args.dry_run, json, false)?,
        server.finish(args.dry_run, json, false)?,
        json,
    )
}

/// Where Claude Code reads MCP servers: the project's `.mcp.json` with `--project DIR`, else
/// the user's `~/.claude.json` (`$CLAUDE_CONFIG_DIR/.claude.json` when that is set), where
/// `claude mcp add --scope user` writes
/// (<https://code.claude.com/docs/en/mcp#mcp-installation-scopes>).
pub fn mcp_path(args: &ClaudeCodeSettingsArgs) -> Result<PathBuf> {
    let settings = settings_path(args)?;
    let claude = settings.parent().context("settings without a folder")?;
    if args.project.is_some() {
        let project = claude
            .parent()
            .context("a project's .claude without a folder")?;
        return Ok(project.join(".mcp.json"));
    }
    if std::env::var_os("CLAUDE_CONFIG_DIR").is_some_and(|d| !d.is_empty()) {
        return Ok(claude.join(".claude.json"));
    }
    let home = claude.parent().context("~/.claude without a home")?;
    Ok(home.join(".claude.json"))
}

/// The name reverie's MCP server is registered under.
pub const MCP_NAME: &str = "reverie";

/// A file's document, and its text before (`None`: not there).
fn load(path: &Path) -> Result<(Option<String>, Doc)> {
    let old = read(path)?;
    let doc = match &old {
        Some(text) => Doc::parse(path, text)?,
        None => Doc::default(),
    };
    Ok((old, doc))
}

/// The JSON report of an install or uninstall: the hooks' change, the MCP server's beside it.
fn report(hooks: serde_json::Value, mcp: serde_json::Value, json: bool) -> Result<i32> {
    if json {
        let mut v = hooks;
        v["mcp"] = mcp;
        output::json(&v);
    }
    Ok(0)
}

/// reverie's MCP server under `mcpServers`: `command` and its `args` (a stdio server).
fn register_mcp(root: &mut Vec<(String, Json)>, command: &[String], path: &Path) -> Result<()> {
    let Json::Object(servers) = entry(root, "mcpServers", || Json::Object(Vec::new())) else {
        return Err(invalid(path, "has an `mcpServers` that is not an object"));
    };
    let (exe, args) = command.split_first().context("an empty MCP command")?;
    let server = entry(servers, MCP_NAME, || Json::Object(Vec::new()));
    if !matches!(server, Json::Object(_)) {
        *server = Json::Object(Vec::new());
    }
    if let Json::Object(server) = server {
        *entry(server, "type", || Json::Null) = Json::String("stdio".into());
        *entry(server, "command", || Json::Null) = Json::String(exe.clone());
        *entry(server, "args", || Json::Null) =
            Json::Array(args.iter().map(|a| Json::String(a.clone())).collect());
    }
    Ok(())
}

/// Takes reverie's MCP server out; whether it was there. `mcpServers` goes when emptied.
fn unregister_mcp(root: &mut Vec<(String, Json)>) -> bool {
    let Some(Json::Object(servers)) = get_mut(root, "mcpServers") else {
        return false;
    };
    let before = servers.len();
    servers.retain(|(name, _)| name != MCP_NAME);
    let removed = servers.len() != before;
    if removed && servers.is_empty() {
        root.retain(|(k, _)| k != "mcpServers");
    }
    removed
}

/// An install or uninstall worked out in memory.
#[derive(Debug)]
struct Change {
    path: PathBuf,
    /// The file's text before; `None` when it did not exist.
    old: Option<String>,
    doc: Doc,
    changed: bool,
    /// Install: the events registered; uninstall: the events reverie's handlers left.
    events: Vec<String>,
}

impl Change {
    /// Writes the change (unless a dry run, or nothing changed), reports it as text (unless
    /// `json`), and returns it as JSON.
    fn finish(self, dry_run: bool, json: bool, installing: bool) -> Result<serde_json::Value> {
        let Change {
            path,
            old,
            doc,
            changed,
            events,
        } = self;
        let old = old.as_deref();
        let path = path.as_path();
        let mut diff = String::new();
        let mut backup = None;
        if changed {
            let new = doc.render()?;
            diff = unified_diff(path, old, &new);
            if !dry_run {
                backup = write(path, old.is_some(), &new)?;
            }
        }
        let value = serde_json::json!({
            "settings": path.display().to_string(),
            "changed": changed,
            "events": events,
            "backup": backup.as_ref().map(|b| b.display().to_string()),
        });
        if json {
            return Ok(value);
        }
        let shown = path.display();
        if !changed {
            output::emit(&if installing {
                format!("already installed, nothing changed: {shown}")
            } else {
                format!("not installed, nothing changed: {shown}")
            });
            return Ok(value);
        }
        output::emit(diff.trim_end_matches('\n'));
        let summary = if dry_run {
            format!("dry run: {shown} not written")
        } else {
            let done = if installing {
                format!("installed reverie's {} in {shown}", what(&events))
            } else {
                format!("removed reverie's {} from {shown}", what(&events))
            };
            match &backup {
                Some(b) => format!("{done}; the previous file is kept as {}", b.display()),
                None => done,
            }
        };
        output::emit(&summary);
        Ok(value)
    }
}

/// What a change installed or removed, in words.
fn what(events: &[String]) -> String {
    match events {
        [one] if one.starts_with("MCP server") => one.clone(),
        _ => format!("hooks ({})", events.join(", ")),
    }
}

/// The file's text, or `None` when it does not exist.
fn read(path: &Path) -> Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// The settings file's problem, naming the file; exits as invalid input.
fn invalid(path: &Path, problem: impl fmt::Display) -> anyhow::Error {
    Error::invalid("settings", format!("{} {problem}", path.display())).into()
}

/// Our handler under each of [`EVENTS`] (the first one found brought up to date in place,
/// any other removed), and none under any other event (left by an older version).
fn register(root: &mut Vec<(String, Json)>, hook_command: &str, path: &Path) -> Result<()> {
    let hooks = match entry(root, "hooks", || Json::Object(Vec::new())) {
        Json::Object(hooks) => hooks,
        // Doc::parse already refused this; kept as an error rather than a panic.
        _ => return Err(invalid(path, "has a `hooks` that is not an object")),
    };
    hooks.retain_mut(|(event, groups)| {
        if EVENTS.iter().any(|(e, _)| e == event) {
            return true;
        }
        let Json::Array(groups) = groups else {
            return true;
        };
        !(remove_ours(groups) && groups.is_empty())
    });
    for (event, timeout) in EVENTS {
        let Json::Array(groups) = entry(hooks, event, || Json::Array(Vec::new())) else {
            return Err(invalid(
                path,
                format!("has a `hooks.{event}` that is not an array"),
            ));
        };
        let mut found = false;
        groups.retain_mut(|group| {
            let Some(handlers) = handlers_mut(group) else {
                return true;
            };
            let mut removed = false;
            handlers.retain_mut(|h| {
                if !is_ours(h) {
                    return true;
                }
                if found {
                    removed = true;
                    return false;
                }
                found = true;
                if let Json::Object(h) = h {
                    *entry(h, "type", || Json::Null) = Json::String("command".into());
                    *entry(h, "command", || Json::Null) = Json::String(hook_command.into());
                    *entry(h, "timeout", || Json::Null) = Json::Number(timeout.into());
                }
                true
            });
            !(removed && handlers.is_empty())
        });
        if !found {
            let handler = Json::Object(vec![
                ("type".into(), Json::String("command".into())),
                ("command".into(), Json::String(hook_command.into())),
                ("timeout".into(), Json::Number(timeout.into())),
            ]);
            groups.push(Json::Object(vec![(
                "hooks".into(),
                Json::Array(vec![handler]),
            )]));
        }
    }
    Ok(())
}

/// Takes our handlers out of every event; the events they were under, in the file's order.
/// A matcher group, an event and `hooks` itself go only when that emptied them.
fn unregister(root: &mut Vec<(String, Json)>) -> Vec<String> {
    let mut events = Vec::new();
    let Some(Json::Object(hooks)) = get_mut(root, "hooks") else {
        return events;
    };
    hooks.retain_mut(|(event, groups)| {
        let Json::Array(groups) = groups else {
            return true;
        };
        if !remove_ours(groups) {
            return true;
        }
        events.push(event.clone());
        !groups.is_empty()
    });
    if !events.is_empty() && hooks.is_empty() {
        root.retain(|(k, _)| k != "hooks");
    }
    events
}

/// Removes our handlers from an event's matcher groups, and a group only if that emptied it;
/// whether any was removed.
fn remove_ours(groups: &mut Vec<Json>) -> bool {
    let mut any = false;
    groups.retain_mut(|group| {
        let Some(handlers) = handlers_mut(group) else {
            return true;
        };
        let before = handlers.len();
        handlers.retain(|h| !is_ours(h));
        if handlers.len() == before {
            return true;
        }
        any = true;
        !handlers.is_empty()
    });
    any
}

/// A handler reverie put there: its command runs `… claude-code hook`.
fn is_ours(handler: &Json) -> bool {
    command_of(handler).is_some_and(|c| c.contains(MARKER))
}

/// A handler's command, when it has one.
fn command_of(handler: &Json) -> Option<&str> {
    match handler {
        Json::Object(h) => match get(h, "command") {
            Some(Json::String(c)) => Some(c),
            _ => None,
        },
        _ => None,
    }
}

/// A matcher group's handlers, when it is shaped as one.
#[allow(dead_code)] // Only `installed` reads without changing.
fn handlers(group: &Json) -> Option<&Vec<Json>> {
    match group {
        Json::Object(g) => match get(g, "hooks") {
            Some(Json::Array(handlers)) => Some(handlers),
            _ => None,
        },
        _ => None,
    }
}

fn handlers_mut(group: &mut Json) -> Option<&mut Vec<Json>> {
    match group {
        Json::Object(g) => match get_mut(g, "hooks") {
            Some(Json::Array(handlers)) => Some(handlers),
            _ => None,
        },
        _ => None,
    }
}

fn get<'a>(object: &'a [(String, Json)], key: &str) -> Option<&'a Json> {
    object.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn get_mut<'a>(object: &'a mut [(String, Json)], key: &str) -> Option<&'a mut Json> {
    object.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// The value under `key`, added at the end of the object when missing.
fn entry<'a>(
    object: &'a mut Vec<(String, Json)>,
    key: &str,
    new: impl FnOnce() -> Json,
) -> &'a mut Json {
    let i = match object.iter().position(|(k, _)| k == key) {
        Some(i) => i,
        None => {
            object.push((key.to_string(), new()));
            object.len() - 1
        }
    };
    &mut object[i].1
}

/// `--- old` / `+++ new` lines of the change (`/dev/null` for a file not there before).
fn unified_diff(path: &Path, old: Option<&str>, new: &str) -> String {
    let shown = path.display().to_string();
    let from = if old.is_some() {
        shown.clone()
    } else {
        "/dev/null".to_string()
    };
    similar::TextDiff::from_lines(old.unwrap_or(""), new)
        .unified_diff()
        .context_radius(3)
        .header(&from, &shown)
        .to_string()
}

/// Writes `content` to `path` atomically: the previous file copied to
/// `settings.json.reverie-backup` first, a temporary file in the same folder with the old
/// file's permissions, then a rename over the old one. The backup's path, if one was made.
fn write(path: &Path, existed: bool, content: &str) -> Result<Option<PathBuf>> {
    // A settings file that is a symbolic link (a dotfiles repository) stays one: the file it
    // points to is replaced, not the link.
    let target = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    };
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "settings.json".into());
    let backup = if existed {
        let b = path.with_file_name(format!(
            "{}.reverie-backup",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| name.clone())
        ));
        fs::copy(&target, &b)
            .with_context(|| format!("cannot back {} up to {}", target.display(), b.display()))?;
        Some(b)
    } else {
        None
    };
    let permissions = fs::metadata(&target).ok().map(|m| m.permissions());
    let tmp = dir.join(format!(".{name}.reverie-{}.tmp", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(content.as_bytes())?;
        if let Some(p) = permissions {
            f.set_permissions(p)?;
        }
        f.sync_all()?;
        fs::rename(&tmp, &target)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", target.display()));
    }
    // The rename lasts once the folder is synced; a folder that cannot be is no failure.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(backup)
}

/// A settings file: its top-level object and how it was written.
#[derive(Debug)]
struct Doc {
    root: Vec<(String, Json)>,
    indent: String,
    crlf: bool,
    bom: bool,
    final_newline: bool,
}

impl Default for Doc {
    /// A new file, written as Claude Code writes its own.
    fn default() -> Doc {
        Doc {
            root: Vec::new(),
            indent: "  ".into(),
            crlf: false,
            bom: false,
            final_newline: true,
        }
    }
}

impl Doc {
    /// Parses the file; it must be a JSON object whose `hooks`, if any, is an object.
    fn parse(path: &Path, text: &str) -> Result<Doc> {
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        let value: Json = serde_json::from_str(body)
            .map_err(|e| invalid(path, format_args!("is not valid JSON ({e})")))?;
        let Json::Object(root) = value else {
            return Err(invalid(path, "is not a JSON object"));
        };
        if let Some(hooks) = get(&root, "hooks")
            && !matches!(hooks, Json::Object(_))
        {
            return Err(invalid(path, "has a `hooks` that is not an object"));
        }
        Ok(Doc {
            root,
            indent: indent_of(body),
            crlf: body.contains("\r\n"),
            bom: body.len() != text.len(),
            final_newline: body.ends_with('\n'),
        })
    }

    /// The file's new text, in the file's own style.
    fn render(&self) -> Result<String> {
        let mut buf = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(self.indent.as_bytes());
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
        Entries(&self.root).serialize(&mut ser)?;
        let mut text = String::from_utf8(buf)?;
        if self.final_newline {
            text.push('\n');
        }
        if self.crlf {
            text = text.replace('\n', "\r\n");
        }
        if self.bom {
            text.insert(0, '\u{feff}');
        }
        Ok(text)
    }
}

/// The indentation of the file's first indented line (spaces or tabs), else two spaces.
fn indent_of(text: &str) -> String {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| &l[..l.len() - l.trim_start().len()])
        .find(|ws| !ws.is_empty())
        .filter(|ws| ws.chars().all(|c| c == ' ') || ws.chars().all(|c| c == '\t'))
        .unwrap_or("  ")
        .to_string()
}

/// A JSON value whose objects keep their keys in the file's order.
#[derive(Clone, Debug, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// An object's entries, serialized in order.
struct Entries<'a>(&'a [(String, Json)]);

impl Serialize for Entries<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Number(n) => n.serialize(s),
            Json::String(v) => s.serialize_str(v),
            Json::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(entries) => Entries(entries).serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
        Ok(Json::Bool(b))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Json, E> {
        Ok(Json::Number(n.into()))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Json, E> {
        Ok(Json::Number(n.into()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Json, E> {
        serde_json::Number::from_f64(n)
            .map(Json::Number)
            .ok_or_else(|| E::custom("a number out of range"))
    }

    fn visit_str<E>(self, s: &str) -> Result<Json, E> {
        Ok(Json::String(s.to_string()))
    }

    fn visit_string<E>(self, s: String) -> Result<Json, E> {
        Ok(Json::String(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut entries: Vec<(String, Json)> = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Json>()? {
            // As `JSON.parse` (Claude Code's reader) does: a repeated key keeps its first
            // place and its last value.
            match entries.iter_mut().find(|(key, _)| *key == k) {
                Some(e) => e.1 = v,
                None => entries.push((k, v)),
            }
        }
        Ok(Json::Object(entries))
    }
}

//! `reverie claude-code install` and `uninstall` through the real binary, under a scratch HOME:
//! reverie's hooks merged into Claude Code settings that already hold other hooks and keys
//! (which keep their values and order), installing twice changes nothing, uninstalling gives
//! the original file back byte for byte; `--project`, `CLAUDE_CONFIG_DIR`, `--dry-run`,
//! `--json`, and settings that are not valid JSON refused with nothing written.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

/// The events reverie registers, in the order it adds them.
const EVENTS: [&str; 6] = [
    "SessionStart",
    "UserPromptSubmit",
    "PreCompact",
    "SessionEnd",
    "PostToolUseFailure",
    "StopFailure",
];

/// User settings with other keys (not in sorted order), another command under SessionStart,
/// a PreToolUse matcher group and fields reverie does not know, written the way Claude Code
/// writes its settings (`JSON.stringify` with two spaces).
const ORIGINAL: &str = r#"{
  "permissions": {
    "allow": [
      "Bash(npm run test:*)"
    ],
    "deny": []
  },
  "env": {
    "FOO": "bar"
  },
  "hooks": {
    "SessionStart": [
      {
        "matcher": "startup",
        "hooks": [
          {
            "type": "command",
            "command": "echo hello",
            "timeout": 5
          }
        ]
      }
    ],
    "PreToolUse": [
      {
        "matcher": "Bash",
        "hooks": [
          {
            "type": "command",
            "command": "/usr/local/bin/guard.sh",
            "statusMessage": "checking"
          }
        ]
      }
    ]
  },
  "model": "opus",
  "cleanupPeriodDays": 30,
  "zFutureKey": {
    "z": 1,
    "a": [
      1.5,
      null,
      true,
      "é \"q\" \\ \n"
    ]
  }
}
"#;

struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("home")).unwrap();
        Scratch { dir }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// The user's settings under the scratch HOME.
    fn settings(&self) -> PathBuf {
        self.path("home/.claude/settings.json")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_reverie"));
        c.args(args)
            .current_dir(self.dir.path())
            .env("HOME", self.path("home"))
            .env_remove("CLAUDE_CONFIG_DIR")
            .env_remove("REVERIE_DATABASE_URL");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs a command that must succeed; its standard output.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }
}

/// The command the hooks run: this build's binary, by its real path.
fn hook_command() -> String {
    let exe = fs::canonicalize(env!("CARGO_BIN_EXE_reverie")).unwrap();
    format!("{} claude-code hook", exe.display())
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// Every handler whose command runs `claude-code hook`, under one event.
fn ours(settings: &Value, event: &str) -> Vec<Value> {
    settings["hooks"][event]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["hooks"].as_array().cloned().unwrap_or_default())
        .filter(|h| {
            h["command"]
                .as_str()
                .is_some_and(|c| c.contains(" claude-code hook"))
        })
        .collect()
}

/// Where each needle first appears in `text`; they must appear, in this order.
fn assert_in_order(text: &str, needles: &[&str]) {
    let at: Vec<usize> = needles
        .iter()
        .map(|n| {
            text.find(n)
                .unwrap_or_else(|| panic!("{n} missing from\n{text}"))
        })
        .collect();
    assert!(at.is_sorted(), "{needles:?} out of order in\n{text}");
}

/// The expected state of one event reverie registered: one handler, no matcher.
fn assert_registered(settings: &Value, cmd: &str) {
    for event in EVENTS {
        let handlers = ours(settings, event);
        assert_eq!(handlers.len(), 1, "{event}: {handlers:?}");
        assert_eq!(handlers[0]["type"], "command", "{event}");
        assert_eq!(handlers[0]["command"], cmd, "{event}");
        assert!(handlers[0]["timeout"].as_u64().unwrap() >= 30, "{event}");
    }
    // SessionEnd hooks share a 1.5 s budget unless a settings hook asks for more.
    assert_eq!(ours(settings, "SessionEnd")[0]["timeout"], 60);
}

#[test]
fn install_merges_and_uninstall_restores_the_original() {
    let s = Scratch::new();
    let settings = s.settings();
    fs::create_dir_all(settings.parent().unwrap()).unwrap();
    fs::write(&settings, ORIGINAL).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&settings, fs::Permissions::from_mode(0o600)).unwrap();
    }
    let original: Value = serde_json::from_str(ORIGINAL).unwrap();
    let cmd = hook_command();

    let out = s.ok(&["claude-code", "install"]);
    assert!(
        out.contains(&format!("--- {}", settings.display())),
        "{out}"
    );
    assert!(
        out.contains(&format!("+{}", "        \"hooks\": [")),
        "{out}"
    );
    assert!(out.contains("claude-code hook"), "{out}");
    assert!(out.contains("installed reverie's hooks"), "{out}");
    let installed_text = fs::read_to_string(&settings).unwrap();
    let installed: Value = serde_json::from_str(&installed_text).unwrap();

    // Everything else keeps its value…
    for (key, value) in original.as_object().unwrap() {
        if key != "hooks" {
            assert_eq!(&installed[key], value, "{key}");
        }
    }
    assert_eq!(
        installed["hooks"]["PreToolUse"],
        original["hooks"]["PreToolUse"]
    );
    let start = installed["hooks"]["SessionStart"].as_array().unwrap();
    assert_eq!(start.len(), 2, "{start:?}");
    assert_eq!(start[0], original["hooks"]["SessionStart"][0]);
    // …reverie's group is added after it, without a matcher (every session source)…
    assert_eq!(
        start[1],
        json!({"hooks": [{"type": "command", "command": cmd, "timeout": 30}]})
    );
    assert_registered(&installed, &cmd);
    for event in EVENTS {
        for group in installed["hooks"][event].as_array().unwrap() {
            if !ours(&json!({"hooks": {event: [group]}}), event).is_empty() {
                assert!(group.get("matcher").is_none(), "{event}: {group}");
            }
        }
    }
    // …and the keys keep the file's order, new ones at the end.
    assert_in_order(
        &installed_text,
        &[
            "\"permissions\"",
            "\"env\"",
            "\"hooks\"",
            "\"SessionStart\"",
            "\"PreToolUse\"",
            "\"UserPromptSubmit\"",
            "\"PreCompact\"",
            "\"SessionEnd\"",
            "\"PostToolUseFailure\"",
            "\"StopFailure\"",
            "\"model\"",
            "\"cleanupPeriodDays\"",
            "\"zFutureKey\"",
            "\"z\"",
            "\"a\"",
        ],
    );
    assert!(installed_text.ends_with("}\n"));
    let backup = s.path("home/.claude/settings.json.reverie-backup");
    assert_eq!(fs::read_to_string(&backup).unwrap(), ORIGINAL);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&settings).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Twice: nothing changes, the backup is not made again.
    fs::remove_file(&backup).unwrap();
    let out = s.ok(&["claude-code", "install"]);
    assert!(out.contains("already installed, nothing changed"), "{out}");
    assert_eq!(fs::read_to_string(&settings).unwrap(), installed_text);
    assert!(!backup.exists());

    // Uninstall: the original, byte for byte; the installed file is the backup.
    let out = s.ok(&["claude-code", "uninstall"]);
    assert!(out.contains("removed reverie's hooks"), "{out}");
    assert_eq!(fs::read_to_string(&settings).unwrap(), ORIGINAL);
    assert_eq!(fs::read_to_string(&backup).unwrap(), installed_text);
    let out = s.ok(&["claude-code", "uninstall"]);
    assert!(out.contains("not installed, nothing changed"), "{out}");
    assert_eq!(fs::read_to_string(&settings).unwrap(), ORIGINAL);
    let files: Vec<_> = fs::read_dir(settings.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files.len(), 2, "no temporary file is left: {files:?}");
}

#[test]
fn project_settings_and_a_missing_file() {
    let s = Scratch::new();
    let project = s.path("project");
    fs::create_dir(&project).unwrap();
    let cmd = hook_command();

    let out = s.ok(&["claude-code", "install", "--project", "project"]);
    assert!(out.contains("--- /dev/null"), "{out}");
    let settings = project.join(".claude/settings.json");
    let text = fs::read_to_string(&settings).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value.as_object().unwrap().len(), 1, "{text}");
    assert_eq!(value["hooks"].as_object().unwrap().len(), EVENTS.len());
    assert_registered(&value, &cmd);
    let quoted: Vec<String> = EVENTS.iter().map(|e| format!("\"{e}\"")).collect();
    assert_in_order(
        &text,
        &quoted.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(
        text.starts_with("{\n  \"hooks\": {\n    \"SessionStart\": [\n"),
        "{text}"
    );
    // No old file, no backup; the user's settings are not touched.
    assert!(
        !project
            .join(".claude/settings.json.reverie-backup")
            .exists()
    );
    assert!(!s.path("home/.claude").exists());

    // Uninstalled: reverie emptied `hooks`, so it goes.
    s.ok(&["claude-code", "uninstall", "--project", "project"]);
    assert_eq!(fs::read_to_string(&settings).unwrap(), "{}\n");

    // A project folder that is not there is a mistake, not a folder to make.
    let out = s.run(&["claude-code", "install", "--project", "nowhere"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere"));
    assert!(!s.path("nowhere").exists());

    // Uninstalling from settings that do not exist creates nothing.
    let out = s.ok(&["claude-code", "uninstall"]);
    assert!(out.contains("not installed, nothing changed"), "{out}");
    assert!(!s.path("home/.claude").exists());
}

#[test]
fn claude_config_dir_is_the_user_settings_folder() {
    let s = Scratch::new();
    let out = s
        .command(&["claude-code", "install"])
        .env("CLAUDE_CONFIG_DIR", s.path("config"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_registered(&read_json(&s.path("config/settings.json")), &hook_command());
    assert!(!s.path("home/.claude").exists());
}

#[test]
fn dry_run_writes_nothing() {
    let s = Scratch::new();
    let settings = s.settings();

    // No file: the diff of a new file, and no folder made.
    let out = s.ok(&["claude-code", "install", "--dry-run"]);
    assert!(out.contains("--- /dev/null"), "{out}");
    assert!(out.contains("claude-code hook"), "{out}");
    assert!(out.contains("dry run"), "{out}");
    assert!(!s.path("home/.claude").exists());

    fs::create_dir_all(settings.parent().unwrap()).unwrap();
    fs::write(&settings, ORIGINAL).unwrap();
    let out = s.ok(&["claude-code", "install", "--dry-run"]);
    assert!(out.contains("+            \"command\": "), "{out}");
    let value = s.json(&["claude-code", "install", "--dry-run", "--json"]);
    assert_eq!(value["changed"], true);
    assert_eq!(value["backup"], Value::Null);
    assert_eq!(fs::read_to_string(&settings).unwrap(), ORIGINAL);

    s.ok(&["claude-code", "install"]);
    let installed = fs::read_to_string(&settings).unwrap();
    let backup = fs::read_to_string(s.path("home/.claude/settings.json.reverie-backup")).unwrap();
    let out = s.ok(&["claude-code", "uninstall", "--dry-run"]);
    assert!(out.contains("-            \"command\": "), "{out}");
    assert_eq!(fs::read_to_string(&settings).unwrap(), installed);
    assert_eq!(
        fs::read_to_string(s.path("home/.claude/settings.json.reverie-backup")).unwrap(),
        backup
    );
}

#[test]
fn settings_that_are_not_valid_are_refused_and_left_alone() {
    let cases: [(&str, &str, bool); 6] = [
        ("trailing comma", "{\n  \"model\": \"opus\",\n}\n", true),
        ("empty", "", true),
        ("array", "[]\n", true),
        ("hooks array", "{\"hooks\": []}\n", true),
        ("hooks null", "{\"hooks\": null}\n", true),
        // Only install has to change that event; uninstall leaves it as it is.
        ("event object", "{\"hooks\": {\"SessionEnd\": {}}}\n", false),
    ];
    for (name, text, uninstall_too) in cases {
        let s = Scratch::new();
        let settings = s.settings();
        fs::create_dir_all(settings.parent().unwrap()).unwrap();
        fs::write(&settings, text).unwrap();
        let mut commands = vec!["install"];
        if uninstall_too {
            commands.push("uninstall");
        }
        for command in commands {
            let out = s.run(&["claude-code", command]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name} {command}: {stderr}");
            assert!(
                stderr.contains(&settings.display().to_string()),
                "{name} {command}: {stderr}"
            );
            assert_eq!(fs::read_to_string(&settings).unwrap(), text, "{name}");
            let files = fs::read_dir(settings.parent().unwrap()).unwrap().count();
            assert_eq!(files, 1, "{name} {command}: nothing else is written");
        }
        let out = s.run(&["--json", "claude-code", "install"]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let body: Value = serde_json::from_slice(&out.stdout).unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("settings.json"), "{name}: {message}");
    }
    let s = Scratch::new();
    fs::create_dir_all(s.path("home/.claude")).unwrap();
    fs::write(s.settings(), "{ not json").unwrap();
    let stderr = String::from_utf8(s.run(&["claude-code", "install"]).stderr).unwrap();
    assert!(stderr.contains("is not valid JSON"), "{stderr}");
    assert!(stderr.contains("line 1 column 3"), "{stderr}");
}

#[test]
fn json_output() {
    let s = Scratch::new();
    let settings = s.settings().display().to_string();
    let backup = format!("{settings}.reverie-backup");
    let claude_json = s.path("home/.claude.json").display().to_string();
    let mcp = |changed: bool, backup: Value| {
        json!({"settings": claude_json, "changed": changed,
               "events": if changed { json!(["MCP server `reverie`"]) } else { json!([]) },
               "backup": backup})
    };

    let first = s.json(&["claude-code", "install", "--json"]);
    let mut installed = mcp(true, Value::Null);
    assert_eq!(
        first,
        json!({"settings": settings, "changed": true, "events": EVENTS, "backup": null,
               "mcp": installed})
    );
    let again = s.json(&["--json", "claude-code", "install"]);
    installed["changed"] = json!(false);
    assert_eq!(
        again,
        json!({"settings": settings, "changed": false, "events": EVENTS, "backup": null,
               "mcp": installed})
    );
    let removed = s.json(&["claude-code", "uninstall", "--json"]);
    assert_eq!(
        removed,
        json!({"settings": settings, "changed": true, "events": EVENTS, "backup": backup,
               "mcp": mcp(true, json!(format!("{claude_json}.reverie-backup")))})
    );
    let none = s.json(&["claude-code", "uninstall", "--json"]);
    assert_eq!(
        none,
        json!({"settings": settings, "changed": false, "events": [], "backup": null,
               "mcp": mcp(false, Value::Null)})
    );
}

/// The MCP server is registered where Claude Code reads it — the user's `~/.claude.json`
/// (beside everything else Claude Code keeps there), or a project's `.mcp.json` — as
/// `reverie mcp --claude-code` (the tools on the project's store), and taken out again alone.
#[test]
fn the_mcp_server_is_registered_beside_the_users_own() {
    let s = Scratch::new();
    let claude_json = s.path("home/.claude.json");
    let original = "{\n  \"numStartups\": 12,\n  \"mcpServers\": {\n    \"github\": {\n      \"type\": \"http\",\n      \"url\": \"https://api.githubcopilot.com/mcp/\"\n    }\n  },\n  \"projects\": {}\n}\n";
    fs::create_dir_all(s.path("home")).unwrap();
    fs::write(&claude_json, original).unwrap();
    s.ok(&["--database", "db.sqlite", "claude-code", "install"]);
    let v = read_json(&claude_json);
    assert_eq!(v["numStartups"], 12);
    assert_eq!(
        v["mcpServers"]["github"]["url"],
        "https://api.githubcopilot.com/mcp/"
    );
    let ours = &v["mcpServers"]["reverie"];
    assert_eq!(ours["type"], "stdio");
    let exe = fs::canonicalize(env!("CARGO_BIN_EXE_reverie")).unwrap();
    assert_eq!(ours["command"], exe.display().to_string());
    let db = s.path("db.sqlite").display().to_string();
    assert_eq!(
        ours["args"],
        json!(["--database", db, "mcp", "--claude-code"])
    );
    s.ok(&["claude-code", "uninstall"]);
    assert_eq!(
        fs::read_to_string(&claude_json).unwrap(),
        original,
        "taken out alone"
    );

    // A project's servers are in its .mcp.json.
    let project = s.path("proj");
    fs::create_dir_all(&project).unwrap();
    let p = project.display().to_string();
    s.ok(&["claude-code", "install", "--project", &p]);
    let v = read_json(&project.join(".mcp.json"));
    assert_eq!(
        v["mcpServers"]["reverie"]["args"],
        json!(["mcp", "--claude-code"])
    );
    s.ok(&["claude-code", "uninstall", "--project", &p]);
    assert_eq!(read_json(&project.join(".mcp.json")), json!({}));
}

#[test]
fn a_reinstall_replaces_an_older_binarys_hooks() {
    let s = Scratch::new();
    let settings = s.settings();
    fs::create_dir_all(settings.parent().unwrap()).unwrap();
    // Four spaces, an old binary's handler (with a field someone added) among other handlers,
    // and one under an event reverie no longer uses.
    let old = r#"{
    "hooks": {
        "SessionStart": [
            {
                "hooks": [
                    {
                        "type": "command",
                        "command": "echo first"
                    },
                    {
                        "type": "command",
                        "command": "/old/place/reverie --database '/x y.db' claude-code hook",
                        "timeout": 5,
                        "statusMessage": "remembering"
                    }
                ]
            }
        ],
        "Stop": [
            {
                "hooks": [
                    {
                        "type": "command",
                        "command": "/old/place/reverie claude-code hook"
                    },
                    {
                        "type": "command",
                        "command": "notify-send done"
                    }
                ]
            }
        ],
        "Notification": [
            {
                "hooks": [
                    {
                        "type": "command",
                        "command": "/old/place/reverie claude-code hook"
                    }
                ]
            }
        ]
    },
    "theme": "\u0064ark"
}"#;
    fs::write(&settings, old).unwrap();
    let cmd = hook_command();

    s.ok(&["claude-code", "install"]);
    let text = fs::read_to_string(&settings).unwrap();
    assert!(
        text.contains("\n    \"hooks\": {\n        \"SessionStart\""),
        "{text}"
    );
    assert!(!text.ends_with('\n'), "the file had no final newline");
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_registered(&value, &cmd);
    // Replaced in place, with what it had beyond reverie's fields.
    assert_eq!(
        value["hooks"]["SessionStart"],
        json!([{"hooks": [
            {"type": "command", "command": "echo first"},
            {"type": "command", "command": cmd, "timeout": 30, "statusMessage": "remembering"}
        ]}])
    );
    // Gone from events reverie no longer uses; others' handlers stay.
    assert_eq!(
        value["hooks"]["Stop"],
        json!([{"hooks": [{"type": "command", "command": "notify-send done"}]}])
    );
    assert!(value["hooks"].get("Notification").is_none(), "{text}");
    assert_eq!(value["theme"], "dark");

    s.ok(&["claude-code", "uninstall"]);
    let value = read_json(&settings);
    assert_eq!(
        value,
        json!({
            "hooks": {
                "SessionStart": [{"hooks": [{"type": "command", "command": "echo first"}]}],
                "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]
            },
            "theme": "dark"
        })
    );
}

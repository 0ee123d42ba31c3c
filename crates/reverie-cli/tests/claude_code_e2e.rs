//! The real Claude Code CLI, offline against a scripted model (`../shared/tools/claude-offline`),
//! with reverie's hooks installed by `reverie claude-code install` into a scratch HOME: the
//! session's transcript reaches the project's store when it ends, the next session starts
//! with the store's context (it reaches the model's first request), and what was served is
//! never learned back as new evidence.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

struct Mock(Child);

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The scripted Messages API on `port`, dumping request bodies into `dump`.
fn mock(port: u16, script: &Path, dump: &Path) -> Mock {
    let kit = reverie_testkit::repo_root().join("../shared/tools/claude-offline/mock_messages.py");
    let child = Command::new("python3")
        .arg(&kit)
        .args(["--port", &port.to_string()])
        .arg("--script")
        .arg(script)
        .arg("--dump")
        .arg(dump)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", kit.display()));
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the mock never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    Mock(child)
}

struct World {
    dir: tempfile::TempDir,
    claude: PathBuf,
}

impl World {
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn reverie(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json", "--database"];
        let db = self.path("reverie.db").display().to_string();
        all.push(&db);
        all.extend_from_slice(args);
        let out = Command::new(env!("CARGO_BIN_EXE_reverie"))
            .args(&all)
            .env("HOME", self.path("home"))
            .env_remove("CLAUDE_CONFIG_DIR")
            .env_remove("REVERIE_DATABASE_URL")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    /// One `claude -p` session in the project, against a fresh mock; the request bodies.
    fn session(&self, name: &str, prompt: &str) -> Vec<String> {
        let dump = self.path(&format!("dump-{name}"));
        std::fs::create_dir_all(&dump).unwrap();
        let script = self.path("script.json");
        std::fs::write(
            &script,
            r#"[{"tool": "Bash", "input": {"command": "test -f .configured || { echo 'error: run ./configure first' >&2; exit 2; }", "description": "run the tests"}},
                {"tool": "Bash", "input": {"command": "touch .configured && echo ok", "description": "configure, then retry"}},
                {"text": "Fixed: the project must be configured before its tests run."}]"#,
        )
        .unwrap();
        let port = free_port();
        let _mock = mock(port, &script, &dump);
        let out = Command::new(&self.claude)
            .args([
                "-p",
                prompt,
                "--allowedTools",
                "Bash",
                "--output-format",
                "json",
            ])
            .current_dir(self.path("proj"))
            .env("HOME", self.path("home"))
            .env("ANTHROPIC_BASE_URL", format!("http://127.0.0.1:{port}"))
            .env("ANTHROPIC_API_KEY", "sk-ant-offline")
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .env("DISABLE_AUTOUPDATER", "1")
            .env("XDG_STATE_HOME", self.path("state"))
            .env("TMPDIR", self.path("tmp"))
            .env_remove("CLAUDE_CONFIG_DIR")
            .env_remove("REVERIE_DATABASE_URL")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "claude: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dump)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect()
    }

    /// The hooks' background work done.
    fn settled(&self) {
        reverie_testkit::claude_code_settled(&self.path("state"));
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.path("state/reverie/claude-code.log")).unwrap_or_default()
    }
}

fn list(v: &Value) -> Vec<Value> {
    v.as_array()
        .or_else(|| v["data"].as_array())
        .cloned()
        .unwrap_or_default()
}

#[test]
fn claude_code_sessions_come_in_and_the_memory_goes_out() {
    let Some(claude) = reverie_testkit::claude_binary() else {
        // Skipped ONLY when the Claude Code CLI is not installed on this machine (scripts/test
        // installs it and sets REVERIE_CLAUDE).
        eprintln!("claude_code_e2e: NOT RUN: the Claude Code CLI is not installed");
        return;
    };
    let w = World {
        dir: tempfile::tempdir().unwrap(),
        claude,
    };
    for d in ["home", "proj", "state", "tmp"] {
        std::fs::create_dir_all(w.path(d)).unwrap();
    }
    reverie_testkit::git(
        &w.path("proj"),
        "git init -q && git commit -q --allow-empty -m init",
    );
    let installed = w.reverie(&["claude-code", "install"]);
    assert_eq!(installed["changed"], true, "{installed}");
    // Claude Code starts the registered MCP server in the project and connects to it.
    let out = Command::new(&w.claude)
        .args(["mcp", "list"])
        .current_dir(w.path("proj"))
        .env("HOME", w.path("home"))
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("REVERIE_DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.lines().any(|l| l.starts_with("reverie:")
            && l.contains("mcp --claude-code")
            && l.contains("Connected")),
        "{listed}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The first session: its transcript is in the project's store when it ends (and the
    // hook's background work is done).
    w.session("one", "run the tests");
    w.settled();
    assert_eq!(w.log(), "", "a hook went wrong");
    let stores: Vec<Value> = list(&w.reverie(&["store", "ls"]))
        .into_iter()
        .filter(|s| s["name"].as_str().is_some_and(|n| n.starts_with("cc-")))
        .collect();
    assert_eq!(stores.len(), 1, "{stores:?}");
    let store = stores[0]["id"].as_str().unwrap().to_string();
    let sessions = list(&w.reverie(&["sessions", "ls", "-s", &store]));
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let first = sessions[0]["id"].as_str().unwrap().to_string();
    // The session's end dreamed the new store (its schedule: a dream when a session waits)
    // and exported it into the project's Claude Code memory folder.
    let dreams = list(&w.reverie(&["dreams", "ls", "-s", &store]));
    assert_eq!(dreams.len(), 1, "{dreams:?}");
    let folder_name =
        reverie_testkit::claude_project_folder(&std::fs::canonicalize(w.path("proj")).unwrap());
    let index_path = w
        .path("home/.claude/projects")
        .join(&folder_name)
        .join("memory/MEMORY.md");
    let index = std::fs::read_to_string(&index_path)
        .unwrap_or_else(|e| panic!("{}: {e}", index_path.display()));
    assert!(
        index.starts_with("<!-- reverie keeps this index"),
        "{index}"
    );

    // A rule the user keeps, pinned after a dream.
    w.reverie(&[
        "put",
        "-s",
        &store,
        "/rules.md",
        "--content",
        "# Rules\n\n- Always run `./configure` before the tests (PINNED-RULE-MARKER).\n",
    ]);
    w.reverie(&["dream", "-s", &store, &first]);
    let entries = list(&w.reverie(&["entries", "ls", "-s", &store]));
    let rule = entries
        .iter()
        .find(|e| e["text"].as_str().unwrap().contains("PINNED-RULE-MARKER"))
        .unwrap_or_else(|| panic!("{entries:?}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    w.reverie(&["entries", "pin", "-s", &store, &rule]);
    // The user syncs: the curated memory goes into Claude Code's memory folder.
    w.reverie(&["claude-code", "sync", "--no-dream"]);

    // The next session starts with the store's context: it is in the model's first request.
    let bodies = w.session("two", "run the tests again");
    w.settled();
    assert!(!bodies.is_empty());
    let first_with_tools = bodies
        .iter()
        .find(|b| b.contains("\"tools\""))
        .expect("the agent loop's first request");
    assert!(
        first_with_tools.contains("what this project's memory holds")
            && first_with_tools.contains("PINNED-RULE-MARKER"),
        "the store's context did not reach the model"
    );
    // Claude Code loaded the exported index as its own auto memory: every line of it.
    let index = std::fs::read_to_string(&index_path).unwrap();
    let lines: Vec<&str> = index.lines().filter(|l| l.starts_with("- [")).collect();
    assert!(
        lines.iter().any(|l| l.contains("](rules.md) — ")),
        "{index}"
    );
    for line in lines {
        let quoted = serde_json::to_string(line).unwrap();
        assert!(
            first_with_tools.contains(quoted.trim_matches('"')),
            "the exported MEMORY.md did not reach the model: {line}"
        );
    }
    assert_eq!(w.log(), "", "a hook went wrong");
    assert_eq!(list(&w.reverie(&["sessions", "ls", "-s", &store])).len(), 2);

    // The second transcript records what was served; dreaming it learns nothing of it back.
    w.reverie(&["dream", "-s", &store]);
    let entries = list(&w.reverie(&["entries", "ls", "-s", &store]));
    for e in &entries {
        let text = e["text"].as_str().unwrap();
        assert!(
            !text.contains("what this project's memory holds"),
            "the served context was learned back: {text}"
        );
        if text.contains("PINNED-RULE-MARKER") {
            assert_eq!(e["path"], "/rules.md", "the rule was copied: {e}");
        }
    }
}

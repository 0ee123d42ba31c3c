//! The README's command blocks other than the tour (which `readme_tour.rs` runs), each run as
//! printed, read from README.md at test time so that editing a block changes what runs:
//!
//! - "Two commands": the demo (the built binary standing in for `cargo run --release -p
//!   reverie-cli --`, as the README allows); `scripts/test` is only checked to exist, since it
//!   runs this very test.
//! - "Serving memory: recall and context": every `recall` line and the `context … > context.md`
//!   line on a store `notes` made from the bundled example sessions and a dream.
//! - "The HTTP API": the two `keys create` lines, `serve` in the background (it must answer
//!   with the keys just made and honour their scope), `keys ls`, `keys revoke` (the revoked key
//!   is refused at once), then SIGTERM, which must end the server with exit 0.
//! - The Python block: the official Anthropic SDK (`REVERIE_PYTHON`, and `REVERIE_PYTHON_NEXT`)
//!   runs it against `reverie serve`, with `rvk_…` replaced by a real key.
//! - "Scheduled dreams": both `policy set` lines, `worker` in the background until it has done
//!   a pass (a dream) and then SIGINT (exit 0), `worker --once --json`, and `serve
//!   --queue-dreams` (a dream created through the API stays pending for the workers).
//! - "MCP": `reverie mcp -s notes` over stdio (initialize, then end of input: exit 0), the real
//!   Claude Code CLI's `claude mcp add …` under a scratch HOME (then `claude mcp get` must
//!   report the server connected), `serve` (its `/mcp` answers), and `remember`, whose note
//!   recall then finds.
//!
//! Each line runs through `sh` with the real `reverie` first on the PATH, and must succeed. The
//! only changes made to a line are a reader's: an elided id (`sesn_…`, `apikey_…`, `rvk_…`)
//! becomes one of what came before, and a command that runs until stopped (`serve`, `worker`,
//! `mcp`) is started in the background, as `exec LINE` so that the signal the test sends
//! reaches `reverie` itself rather than `sh`. The blocks' servers listen where the README says,
//! 127.0.0.1:8787 (`serve --queue-dreams` too, by its default): the tests that start one hold a
//! lock, so they never race for the port.
//!
//! Everything runs on a scratch SQLite database in a temporary folder, and every background
//! process is waited for with a deadline and killed if the test fails.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::Env;
use serde_json::Value;

/// Where the README's servers listen.
const README_ADDR: &str = "127.0.0.1:8787";

/// How long a foreground command, or a background one's expected step, may take.
const DEADLINE: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------------------------
// The README's blocks

fn readme() -> String {
    std::fs::read_to_string(reverie_testkit::repo_root().join("README.md")).unwrap()
}

/// The text of the first ```` ```lang ```` block under `heading` (a whole heading line), which
/// must come before the next heading.
fn block(heading: &str, lang: &str) -> String {
    let readme = readme();
    let at = readme
        .lines()
        .scan(0, |offset, line| {
            let here = *offset;
            *offset += line.len() + 1;
            Some((here, line))
        })
        .find(|(_, line)| line.trim_end() == heading)
        .unwrap_or_else(|| panic!("README.md has no heading {heading:?}"))
        .0;
    let rest = &readme[at + heading.len()..];
    let fence = format!("```{lang}\n");
    let start = rest
        .find(&fence)
        .unwrap_or_else(|| panic!("no {lang} block after {heading:?}"))
        + fence.len();
    assert!(
        !rest[..start].lines().any(|l| l.starts_with('#')),
        "the {lang} block after {heading:?} is under another heading"
    );
    let end = start
        + rest[start..]
            .find("```")
            .expect("the block's closing fence");
    rest[start..end].to_string()
}

/// A block's commands: continuation lines joined, blank lines and whole-line comments left
/// out. A comment after a command stays: `sh` ignores it, as it would for a reader.
fn commands(block: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for line in block.lines() {
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(line);
        let cmd = std::mem::take(&mut pending);
        if !cmd.trim().is_empty() && !cmd.trim_start().starts_with('#') {
            out.push(cmd);
        }
    }
    out
}

/// The words of a command before its comment.
fn words(line: &str) -> Vec<&str> {
    line.split('#').next().unwrap().split_whitespace().collect()
}

/// `reverie serve …`, `reverie worker` without `--once`, `reverie mcp …`: what runs until
/// stopped.
fn long_running(line: &str) -> bool {
    let w = words(line);
    w.first() == Some(&"reverie")
        && match w.get(1) {
            Some(&"serve") | Some(&"mcp") => true,
            Some(&"worker") => !w.contains(&"--once"),
            _ => false,
        }
}

// ---------------------------------------------------------------------------------------------
// A reader's shell

/// A scratch database and folder, a scratch HOME, and `sh` with the real `reverie` (and, for
/// the MCP block, `claude`) on the PATH.
struct Shell {
    env: Env,
    home: PathBuf,
    bin: PathBuf,
    path: String,
}

impl Shell {
    fn new() -> Shell {
        let env = Env::new(false);
        let home = env.dir.path().join("home");
        let bin = env.dir.path().join("bin");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(env.dir.path().join("tmp")).unwrap();
        let reverie = Path::new(env!("CARGO_BIN_EXE_reverie")).parent().unwrap();
        let path = format!(
            "{}:{}:{}",
            reverie.display(),
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Shell {
            env,
            home,
            bin,
            path,
        }
    }

    fn dir(&self) -> &Path {
        self.env.dir.path()
    }

    /// `sh -c SCRIPT` in the scratch folder, on the scratch database and HOME.
    fn sh(&self, script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script])
            .current_dir(self.dir())
            .env("PATH", &self.path)
            .env("HOME", &self.home)
            .env("REVERIE_DATABASE_URL", &self.env.database)
            .env("USER", "tester")
            .env_remove("REVERIE_STORE")
            .env_remove("REVERIE_ACTOR")
            .env_remove("XDG_DATA_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("CLAUDE_CONFIG_DIR")
            // Claude Code (the MCP block) kept from the network, and its scratch files (it
            // keeps some under `$TMPDIR/claude-UID/`) in the scratch folder.
            .env("TMPDIR", self.dir().join("tmp"))
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .env("DISABLE_AUTOUPDATER", "1");
        c
    }

    /// Runs a block's line to its end; it must succeed. Its output.
    fn run(&self, line: &str) -> Output {
        let out = finish(self.sh(line).stdin(Stdio::null()), DEADLINE, line);
        assert!(
            out.status.success(),
            "the README's `{line}` failed ({:?}):\n{}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Starts a block's long-running line in the background, as `exec LINE` (so the process
    /// is `reverie` itself and a signal sent to it is not taken by `sh`).
    fn start(&self, line: &str) -> Bg {
        let mut child = self
            .sh(&format!("exec {line}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = lines_of(child.stdout.take().unwrap());
        let stderr = lines_of(child.stderr.take().unwrap());
        Bg {
            line: line.to_string(),
            child,
            stdout,
            stderr,
        }
    }

    /// A line with its elided ids filled in from the database's state, as a reader would.
    fn fill(&self, line: &str) -> String {
        let mut line = line.to_string();
        if line.contains("sesn_…") {
            let s = list(&self.env.json(&["sessions", "ls", "-s", "notes"]));
            line = line.replace("sesn_…", &id(s.first().expect("a session in notes")));
        }
        if line.contains("apikey_…") {
            // The key the block made for one store: the one to revoke.
            let keys = list(&self.env.json(&["keys", "ls"]));
            let key = keys
                .iter()
                .find(|k| k["name"] == "agent-a")
                .expect("the key agent-a");
            line = line.replace("apikey_…", &id(key));
        }
        if line.contains("drm_…") {
            // The newest dream: the one the block's lines before made.
            let dreams = list(&self.env.json(&["dreams", "ls", "-s", "notes"]));
            line = line.replace("drm_…", &id(dreams.first().expect("a dream of notes")));
        }
        assert!(!line.contains('…'), "an id left to fill in: {line}");
        line
    }

    /// The store `notes` made from the bundled example sessions, each with its outcome, and
    /// dreamed in place once.
    fn notes_from_examples(&self) {
        self.env.ok(&["store", "create", "notes"]);
        self.ingest_examples();
        self.env.ok(&["dream", "-s", "notes"]);
    }

    /// The bundled example sessions ingested into `notes`, with their outcomes.
    fn ingest_examples(&self) {
        let examples = reverie_testkit::repo_root().join("examples/sessions");
        let outcomes: Value =
            serde_json::from_str(&std::fs::read_to_string(examples.join("outcomes.json")).unwrap())
                .unwrap();
        for (name, o) in outcomes.as_object().unwrap() {
            let score = o["score"].as_f64().unwrap().to_string();
            self.env.ok(&[
                "ingest",
                "-s",
                "notes",
                examples.join(name).to_str().unwrap(),
                "--outcome",
                o["outcome"].as_str().unwrap(),
                "--score",
                &score,
                "--note",
                o["note"].as_str().unwrap(),
            ]);
        }
    }

    /// A key's secret, made outside the block for the test's own requests.
    fn key(&self, name: &str) -> String {
        self.env.json(&["keys", "create", name, "--all"])["secret"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Object(o) => o
            .get("data")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// A stream's lines, read by a thread of their own (so the process never blocks on a full
/// pipe) and sent as they come.
fn lines_of(r: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    rx
}

/// Waits for `child` until `deadline`; kills it then.
fn wait_within(child: &mut Child, deadline: Duration, what: &str) -> ExitStatus {
    let until = Instant::now() + deadline;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{what}` did not end within {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `cmd` to its end within `deadline`, collecting its output.
fn finish(cmd: &mut Command, deadline: Duration, what: &str) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let collect = |r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut r = r;
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = collect(Box::new(child.stdout.take().unwrap()));
    let err = collect(Box::new(child.stderr.take().unwrap()));
    let status = wait_within(&mut child, deadline, what);
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// A block's line running in the background; killed when dropped.
struct Bg {
    line: String,
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

impl Bg {
    /// Waits for a line holding `needle` on the standard error (`stderr`) or output; that line.
    fn expect(&self, stderr: bool, needle: &str) -> String {
        let rx = if stderr { &self.stderr } else { &self.stdout };
        let until = Instant::now() + DEADLINE;
        let mut seen = Vec::new();
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(line) => seen.push(line),
                Err(e) => panic!(
                    "`{}` printed no line with {needle:?} ({e}); it printed:\n{}",
                    self.line,
                    seen.join("\n")
                ),
            }
        }
    }

    /// Where `reverie serve` says it listens.
    fn listening(&self) -> String {
        let line = self.expect(true, " on http://");
        line.split(" on http://").nth(1).unwrap().trim().to_string()
    }

    /// Sends `signal` (`INT` or `TERM`) once the process handles it (it installs its handlers
    /// once started up: sent earlier, the signal would kill the process instead), then waits
    /// for it to end; its exit status.
    fn stop(&mut self, signal: &str) -> ExitStatus {
        let number: u32 = match signal {
            "INT" => 2,
            "TERM" => 15,
            _ => unreachable!(),
        };
        let pid = self.child.id();
        let until = Instant::now() + DEADLINE;
        loop {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
            let caught = status
                .lines()
                .find_map(|l| l.strip_prefix("SigCgt:"))
                .map(|hex| u64::from_str_radix(hex.trim(), 16).unwrap())
                .unwrap();
            if caught & (1 << (number - 1)) != 0 {
                break;
            }
            assert!(
                Instant::now() < until,
                "`{}` never handled SIG{signal}",
                self.line
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        wait_within(&mut self.child, DEADLINE, &self.line)
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// The README's address

static README_PORT: Mutex<()> = Mutex::new(());

/// The README's address for this test alone: the tests that start a server on it hold this
/// lock, and the address must be free of anything else.
fn readme_port() -> MutexGuard<'static, ()> {
    let guard = README_PORT.lock().unwrap_or_else(|e| e.into_inner());
    if let Err(e) = std::net::TcpListener::bind(README_ADDR) {
        panic!(
            "the README's blocks listen on {README_ADDR}, which another process holds ({e}): stop it and run again"
        );
    }
    guard
}

/// One HTTP/1.1 request with `key` (`x-api-key`) and `headers`; the status and the body.
fn http(
    addr: &str,
    key: Option<&str>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    if let Some(k) = key {
        head.push_str(&format!("x-api-key: {k}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn parse(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// The names of the stores `key` lists over HTTP.
fn store_names(addr: &str, key: &str) -> Vec<String> {
    let (status, body) = http(addr, Some(key), "GET", "/v1/memory_stores", &[], "");
    assert_eq!(status, 200, "{body}");
    list(&parse(&body))
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The blocks

/// Every fenced block of the README is one of these tests' or the tour's: a new block fails
/// here until a test runs it.
#[test]
fn every_readme_block_is_run_by_a_test() {
    let covered = [
        ("## Two commands", "sh"),
        ("## A short tour of the CLI", "sh"),
        ("### Serving memory: recall and context", "sh"),
        ("### The HTTP API", "sh"),
        ("### The HTTP API", "python"),
        ("### Scheduled dreams: `reverie worker`", "sh"),
        ("### MCP: memory during a session", "sh"),
        ("### Claude Code", "sh"),
        ("### Dreaming with a model", "sh"),
    ];
    let mut found = Vec::new();
    let mut heading = String::new();
    let mut inside = false;
    for line in readme().lines() {
        if let Some(fence) = line.strip_prefix("```") {
            if !inside {
                found.push((heading.clone(), fence.to_string()));
            }
            inside = !inside;
        } else if !inside && line.starts_with('#') {
            heading = line.trim_end().to_string();
        }
    }
    let covered: Vec<(String, String)> = covered
        .iter()
        .map(|(h, l)| (h.to_string(), l.to_string()))
        .collect();
    assert_eq!(found, covered, "README.md's fenced blocks");
}

/// "Two commands": the demo, with the built binary for `cargo run --release -p reverie-cli
/// --` (the README's own equivalence; a release build here would take the machine for a long
/// while, and CI runs the line itself). `scripts/test` runs the whole suite, this test
/// included, so it is only checked to be there and executable.
#[test]
fn two_commands_block() {
    let sh = Shell::new();
    let lines = commands(&block("## Two commands", "sh"));
    assert_eq!(lines.len(), 2, "{lines:?}");
    let demo = lines[0]
        .strip_prefix("cargo run --release -p reverie-cli -- ")
        .unwrap_or_else(|| panic!("the first command is no longer the demo: {}", lines[0]));
    let out = sh.run(&format!("reverie {demo}"));
    assert!(!out.stdout.is_empty());
    let memory = sh.env.ok(&["get", "-s", "demo", "/MEMORY.md"]);
    assert!(!memory.trim().is_empty(), "the demo's memory has an index");

    assert_eq!(lines[1].trim(), "scripts/test");
    let script = reverie_testkit::repo_root().join("scripts/test");
    let mode = std::fs::metadata(&script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert!(
        mode.permissions().mode() & 0o111 != 0,
        "scripts/test is executable"
    );
}

/// "Serving memory: recall and context", on a store `notes` made from the example sessions
/// and dreamed, plus one memory under `/projects/` for the line that looks there.
#[test]
fn recall_and_context_block() {
    let sh = Shell::new();
    sh.notes_from_examples();
    sh.env.ok(&[
        "put",
        "-s",
        "notes",
        "/projects/tallyho/staging.md",
        "--content",
        "- the staging database port is 6543 since the move to the new cluster",
    ]);
    let lines = commands(&block("### Serving memory: recall and context", "sh"));
    assert!(lines.len() >= 4, "{lines:?}");
    let mut ran_context = false;
    for line in &lines {
        let line = sh.fill(line);
        let out = sh.run(&line);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        match words(&line)[1] {
            "recall" => {
                if line.contains("--since 2026-11-01") {
                    // Only what changed since then: the memory put above, when the clock is
                    // past that date.
                    let past = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_secs()
                        >= 1_793_491_200;
                    if past {
                        assert!(stdout.contains("/projects/tallyho/staging.md"), "{stdout}");
                    }
                } else {
                    assert!(stdout.contains(" 1. "), "`{line}` found nothing:\n{stdout}");
                }
            }
            "context" => {
                let written = std::fs::read_to_string(sh.dir().join("context.md")).unwrap();
                assert!(written.contains("## Index (/MEMORY.md)"), "{written}");
                assert!(
                    String::from_utf8_lossy(&out.stderr).contains("of 4000 tokens"),
                    "the accounting goes to stderr"
                );
                ran_context = true;
            }
            other => panic!("an unexpected command in the block: {other}"),
        }
    }
    assert!(ran_context);
    // `--session` recorded the serving in that session.
    let served = sh
        .env
        .json(&["recall", "-s", "notes", "--no-serve", "deploy"]);
    assert!(!list(&served).is_empty());
}

/// "The HTTP API": keys, the server with them, and a revocation that takes effect at once.
#[test]
fn http_api_block() {
    let _port = readme_port();
    let sh = Shell::new();
    sh.env.ok(&["store", "create", "notes"]);
    sh.env.ok(&["store", "create", "elsewhere"]);
    let lines = commands(&block("### The HTTP API", "sh"));
    assert_eq!(lines.len(), 5, "{lines:?}");
    let mut secrets: std::collections::BTreeMap<String, String> = Default::default();
    let mut server: Option<(Bg, String)> = None;
    for line in &lines {
        let line = sh.fill(line);
        if long_running(&line) {
            let bg = sh.start(&line);
            let addr = bg.listening();
            assert_eq!(addr, README_ADDR);
            // Both keys work; the one made with `-s notes` sees only that store.
            let mut all = store_names(&addr, &secrets["ci"]);
            all.sort();
            assert_eq!(all, ["elsewhere", "notes"]);
            assert_eq!(store_names(&addr, &secrets["agent-a"]), ["notes"]);
            let (status, _) = http(&addr, None, "GET", "/v1/memory_stores", &[], "");
            assert_eq!(status, 401, "a request without a key is refused");
            server = Some((bg, addr));
            continue;
        }
        let out = sh.run(&line);
        let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let w = words(&line);
        match (w[1], w[2]) {
            ("keys", "create") => {
                assert!(stdout.starts_with("rvk_"), "the secret: {stdout}");
                secrets.insert(w[3].to_string(), stdout);
            }
            ("keys", "ls") => {
                assert!(
                    stdout.contains("ci") && stdout.contains("agent-a"),
                    "{stdout}"
                );
            }
            ("keys", "revoke") => {
                assert!(
                    stdout.contains("revoked") && stdout.contains("agent-a"),
                    "{stdout}"
                );
                let (_, addr) = server.as_ref().expect("the server runs");
                let (status, body) = http(
                    addr,
                    Some(&secrets["agent-a"]),
                    "GET",
                    "/v1/memory_stores",
                    &[],
                    "",
                );
                assert_eq!(status, 401, "the revoked key is refused at once: {body}");
                assert_eq!(store_names(addr, &secrets["ci"]).len(), 2);
            }
            other => panic!("an unexpected command in the block: {other:?}"),
        }
    }
    let (mut bg, _) = server.expect("the block starts a server");
    let status = bg.stop("TERM");
    assert_eq!(status.code(), Some(0), "SIGTERM stops the server cleanly");
    bg.expect(true, "reverie: stopped");
}

/// The Python block, under the pinned SDK (`REVERIE_PYTHON`, anthropic 2.12.0) and the current
/// one (`REVERIE_PYTHON_NEXT`, 2.17.0), against `reverie serve` on the README's address, with a
/// key made with `--all` for `rvk_…`. Each run makes a store `notes` holding `/build.md`.
#[test]
fn python_block() {
    reverie_testkit::require_python_package("anthropic", "anthropic==2.12.0");
    let next = std::env::var("REVERIE_PYTHON_NEXT").unwrap_or_else(|_| {
        panic!("REVERIE_PYTHON_NEXT is unset: run the tests with scripts/test, which installs anthropic==2.17.0 into target/py-next")
    });
    let _port = readme_port();
    let sh = Shell::new();
    let key = sh.key("python");
    let code = block("### The HTTP API", "python");
    assert!(code.contains("rvk_…"), "{code}");
    assert!(code.contains(&format!("http://{README_ADDR}")), "{code}");
    let script = sh.dir().join("readme_client.py");
    std::fs::write(&script, code.replace("rvk_…", &key)).unwrap();

    let mut bg = sh.start(&format!("reverie serve --listen {README_ADDR}"));
    assert_eq!(bg.listening(), README_ADDR);
    let pythons = [reverie_testkit::python(), next];
    for python in &pythons {
        let out = finish(
            Command::new(python).arg(&script).current_dir(sh.dir()),
            DEADLINE,
            "the README's Python block",
        );
        assert!(
            out.status.success(),
            "the README's Python block failed under {python}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(bg.stop("TERM").code(), Some(0));

    // Each run made its store and its memory, recorded as made by the key.
    let stores: Vec<Value> = list(&sh.env.json(&["store", "ls"]))
        .into_iter()
        .filter(|s| s["name"] == "notes")
        .collect();
    assert_eq!(stores.len(), pythons.len(), "{stores:?}");
    for s in &stores {
        let store = id(s);
        let got = sh.env.ok(&["get", "-s", &store, "/build.md"]);
        assert!(got.contains("- cargo build --locked"), "{got}");
        let versions = list(&sh.env.json(&["log", "-s", &store, "/build.md"]));
        assert_eq!(
            versions[0]["created_by"]["type"], "api_actor",
            "{versions:?}"
        );
    }
}

/// "Scheduled dreams": the schedule, a worker that dreams `notes` on its first pass and stops
/// on SIGINT, one pass more, and a server that leaves API dreams to the workers.
#[test]
fn worker_block() {
    let _port = readme_port();
    let sh = Shell::new();
    // Seven sessions no dream has read: more than `--after-sessions 5`.
    sh.env.ok(&["store", "create", "notes"]);
    sh.ingest_examples();
    let key = sh.key("admin");
    let lines = commands(&block("### Scheduled dreams: `reverie worker`", "sh"));
    assert_eq!(lines.len(), 5, "{lines:?}");
    let mut queued = None;
    for line in &lines {
        let line = sh.fill(line);
        let w = words(&line);
        if !long_running(&line) {
            let out = sh.run(&line);
            let stdout = String::from_utf8_lossy(&out.stdout).to_string();
            if w[1] == "worker" {
                // `--json`: every line is one dream's JSON; the scheduled dream already ran.
                for l in stdout.lines() {
                    parse(l);
                }
            }
            continue;
        }
        let mut bg = sh.start(&line);
        match w[1] {
            "worker" => {
                let done = bg.expect(false, "dreamed ");
                assert!(done.ends_with(" completed"), "{done}");
                assert_eq!(bg.stop("INT").code(), Some(0), "Ctrl-C stops the worker");
                let dreams = list(&sh.env.json(&["dreams", "ls", "-s", "notes"]));
                assert_eq!(dreams.len(), 1, "{dreams:?}");
                assert_eq!(dreams[0]["status"], "completed");
            }
            "serve" => {
                let addr = bg.listening();
                assert_eq!(addr, README_ADDR);
                // A dream created through the API is left pending, for the workers.
                let store = sh.env.json(&["store", "show", "notes"])["id"]
                    .as_str()
                    .unwrap()
                    .to_string();
                let sessions = list(&sh.env.json(&["sessions", "ls", "-s", "notes"]));
                let body = serde_json::json!({
                    "inputs": [
                        {"type": "memory_store", "memory_store_id": store},
                        {"type": "sessions", "session_ids": [id(&sessions[0])]},
                    ],
                    "model": "m",
                    "output_behavior": {"type": "update_existing", "memory_store_id": store},
                });
                let (status, d) = http(
                    &addr,
                    Some(&key),
                    "POST",
                    "/v1/dreams",
                    &[],
                    &body.to_string(),
                );
                assert_eq!(status, 200, "{d}");
                let d = parse(&d);
                let dream = id(&d);
                let (_, d) = http(
                    &addr,
                    Some(&key),
                    "GET",
                    &format!("/v1/dreams/{dream}"),
                    &[],
                    "",
                );
                assert_eq!(parse(&d)["status"], "pending", "{d}");
                assert_eq!(bg.stop("TERM").code(), Some(0));
                queued = Some(dream);
            }
            other => panic!("an unexpected long-running command: {other}"),
        }
    }
    // The block's one-pass worker, run again, takes the queued dream.
    let dream = queued.expect("the block starts `serve --queue-dreams`");
    let once = lines
        .iter()
        .find(|l| l.contains("--once"))
        .expect("the block's `worker --once`");
    let out = sh.run(once);
    let ran: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(parse)
        .collect();
    assert_eq!(ran.len(), 1, "{ran:?}");
    assert_eq!(ran[0]["dream_id"], dream.as_str());
}

/// "MCP": stdio, Claude Code's registration, the HTTP transport and `remember`.
#[test]
fn mcp_block() {
    let _port = readme_port();
    let sh = Shell::new();
    sh.notes_from_examples();
    let key = sh.key("admin");
    let lines = commands(&block("### MCP: memory during a session", "sh"));
    assert_eq!(lines.len(), 4, "{lines:?}");
    let mut server: Option<(Bg, String)> = None;
    let note = "The staging database listens on port 6543.";
    let mut remembered = false;
    for line in &lines {
        let line = sh.fill(line);
        let w = words(&line);
        match (w[0], w[1]) {
            ("reverie", "mcp") => {
                // stdio: an initialize request, its answer, then the end of input ends it.
                let mut bg = sh.start(&line);
                let mut stdin = bg.child.stdin.take().unwrap();
                writeln!(
                    stdin,
                    r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-06-18","capabilities":{{}},"clientInfo":{{"name":"readme-test","version":"0"}}}}}}"#
                )
                .unwrap();
                stdin.flush().unwrap();
                let answer = parse(&bg.expect(false, "\"id\":1"));
                assert_eq!(
                    answer["result"]["serverInfo"]["name"], "reverie",
                    "{answer}"
                );
                drop(stdin);
                let status = wait_within(&mut bg.child, DEADLINE, &line);
                assert_eq!(
                    status.code(),
                    Some(0),
                    "the end of input ends `reverie mcp`"
                );
            }
            ("claude", _) => {
                let Some(claude) = reverie_testkit::claude_binary() else {
                    // Skipped ONLY when the Claude Code CLI is not installed on this machine
                    // (no network at test time to fetch it): install it with
                    // `npm install --prefix ~/.cache/claude-offline --ignore-scripts
                    // @anthropic-ai/claude-code@2.1.328` or point REVERIE_CLAUDE at it.
                    eprintln!(
                        "mcp_block: `{line}` NOT RUN: the Claude Code CLI is not installed (see claude_binary)"
                    );
                    continue;
                };
                // `claude` on the reader's PATH; its config goes to the scratch HOME.
                std::os::unix::fs::symlink(&claude, sh.bin.join("claude")).unwrap();
                let out = sh.run(&line);
                let said = String::from_utf8_lossy(&out.stdout);
                assert!(said.contains("reverie mcp -s notes"), "{said}");
                // Claude Code starts `reverie mcp -s notes` from the PATH and connects to it.
                let out = sh.run("claude mcp get reverie");
                let got = String::from_utf8_lossy(&out.stdout);
                assert!(got.contains("Connected"), "{got}");
                let config = std::fs::read_to_string(sh.home.join(".claude.json")).unwrap();
                assert!(config.contains("\"reverie\""), "{config}");
            }
            ("reverie", "serve") => {
                let bg = sh.start(&line);
                let addr = bg.listening();
                assert_eq!(addr, README_ADDR);
                server = Some((bg, addr));
            }
            ("reverie", "remember") => {
                let out = sh.run(&line);
                assert!(!out.stdout.is_empty());
                remembered = true;
            }
            other => panic!("an unexpected command in the block: {other:?}"),
        }
    }
    assert!(remembered, "the block remembers a note");
    // Recall finds the note at once: from the CLI, and from the MCP tool over HTTP.
    let found = sh
        .env
        .ok(&["recall", "-s", "notes", "staging", "database", "port"]);
    assert!(found.contains(note), "{found}");
    let (mut bg, addr) = server.expect("the block starts a server");
    let store = id(&sh.env.json(&["store", "show", "notes"]));
    let call = serde_json::json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "recall", "arguments": {"query": "staging database port"}},
    });
    let (status, body) = http(
        &addr,
        Some(&key),
        "POST",
        &format!("/mcp?store={store}"),
        &[
            ("accept", "application/json, text/event-stream"),
            ("mcp-protocol-version", "2025-06-18"),
        ],
        &call.to_string(),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("6543"), "{body}");
    assert_eq!(bg.stop("TERM").code(), Some(0));
}

/// "Dreaming with a model": `model.py` in the scratch folder is a model that answers with one
/// note citing the newest user turn, and one citing an event it was not shown (which the
/// guard must refuse); every line runs as printed.
#[test]
fn model_block() {
    let sh = Shell::new();
    sh.notes_from_examples();
    let t = sh.dir().join("new.txt");
    std::fs::write(
        &t,
        "User: from now on, run `make lint` before pushing.\nAssistant: Will do.\n",
    )
    .unwrap();
    sh.env
        .ok(&["ingest", "-s", "notes", &t.display().to_string()]);
    std::fs::write(
        sh.dir().join("model.py"),
        r#"import json, re, sys
req = json.load(sys.stdin)
said = re.findall(r"^\[(S\d+:\d+) user\][^\n]*make lint", req["user"], re.M)[-1]
op = {"op": "add", "kind": "instruction", "path": "/instructions.md", "section": None,
      "text": "Run `make lint` before pushing.", "targets": [], "hint": None,
      "evidence": [said], "reason": "the user asked"}
ghost = dict(op, text="Deploy on Fridays.", evidence=["S99:1"])
print(json.dumps({"ops": [op, ghost]}))
"#,
    )
    .unwrap();
    let lines = commands(&block("### Dreaming with a model", "sh"));
    assert_eq!(lines.len(), 6, "{lines:?}");
    let mut proposals = Vec::new();
    for line in &lines {
        let line = sh.fill(line);
        let out = sh.run(&line);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let w = words(&line);
        match (w[1], w.get(2).copied()) {
            ("config", _) => assert!(stdout.contains("deterministic"), "{stdout}"),
            ("dream", _) => {
                assert!(
                    stdout.contains("make lint") && stdout.contains("refused by the guard"),
                    "`{line}`:\n{stdout}"
                );
                let d = list(&sh.env.json(&["dreams", "ls", "-s", "notes"]));
                proposals.push(sh.env.json(&["dreams", "show", &id(&d[0])]));
            }
            ("dreams", Some("show")) => assert!(
                stdout.contains("exchange 1 of 1") && stdout.contains("S99:1"),
                "{stdout}"
            ),
            _ => {}
        }
    }
    assert_eq!(proposals.len(), 2);
    let ops = |d: &Value| d["changeset"]["ops"].clone();
    assert_eq!(
        ops(&proposals[0])[0]["after"],
        ops(&proposals[1])[0]["after"]
    );
    assert_eq!(
        proposals[0]["changeset"]["memories"], proposals[1]["changeset"]["memories"],
        "the replay differs"
    );
}

/// "Claude Code": each line as printed in a scratch HOME that holds a Claude Code session of
/// the scratch folder (a git repository) no hook saw: install puts reverie's hooks and MCP
/// server into the user's files and the project's, sync brings the session in, dreams and
/// exports it, the dream is shown and reverted, uninstall takes reverie out of the user's
/// files again.
#[test]
fn claude_code_block() {
    let sh = Shell::new();
    let lines = commands(&block("### Claude Code", "sh"));
    assert_eq!(lines.len(), 8, "{lines:?}");
    let out = sh.sh("git init -q && git -c user.name=t -c user.email=t@example.com commit -q --allow-empty -m init").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A real transcript of a session in this folder.
    let data = reverie_testkit::repo_root().join("../shared/data/transcripts");
    let mut real: Vec<PathBuf> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("moredip"))
                && p.extension().is_some_and(|x| x == "jsonl")
        })
        .collect();
    real.sort();
    let cwd = std::fs::canonicalize(sh.dir()).unwrap();
    let folder = sh
        .home
        .join(".claude/projects")
        .join(reverie_testkit::claude_project_folder(&cwd));
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("session.jsonl"),
        reverie_testkit::relocated_transcript(&real[0], &cwd),
    )
    .unwrap();

    let user = sh.home.join(".claude/settings.json");
    let user_mcp = sh.home.join(".claude.json");
    let project = sh.dir().join(".claude/settings.json");
    let has = |p: &Path, what: &str| std::fs::read_to_string(p).is_ok_and(|t| t.contains(what));
    sh.run(&lines[0]);
    assert!(has(&user, "claude-code hook"), "install wrote no hooks");
    assert!(
        has(&user_mcp, "--claude-code"),
        "install registered no MCP server"
    );
    sh.run(&lines[1]);
    assert!(
        has(&project, "claude-code hook"),
        "install --project wrote no hooks"
    );
    assert!(has(&sh.dir().join(".mcp.json"), "--claude-code"));
    let status = String::from_utf8(sh.run(&lines[2]).stdout).unwrap();
    assert!(status.contains("installed for SessionStart"), "{status}");
    let sync = String::from_utf8(sh.run(&lines[3]).stdout).unwrap();
    assert!(
        sync.contains("dreamed") && sync.contains("exported revision"),
        "{sync}"
    );
    assert!(folder.join("memory/MEMORY.md").is_file(), "{sync}");
    let store = list(&parse(&sh.env.ok(&["--json", "store", "ls"])))
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .find(|n| n.starts_with("cc-"))
        .expect("the project's store");
    let dreams = String::from_utf8(sh.run(&lines[4].replace("cc-…", &store)).stdout).unwrap();
    let dream = dreams
        .split_whitespace()
        .find(|w| w.starts_with("drm_"))
        .unwrap_or_else(|| panic!("{dreams}"))
        .to_string();
    let shown = String::from_utf8(sh.run(&lines[5].replace("drm_…", &dream)).stdout).unwrap();
    assert!(shown.contains(&dream), "{shown}");
    sh.run(&lines[6].replace("drm_…", &dream));
    let reverted = sh.env.ok(&["--json", "dreams", "show", &dream]);
    assert!(reverted.contains("reverted"), "{reverted}");
    sh.run(&lines[7]);
    assert!(!has(&user, "claude-code hook"), "uninstall left the hooks");
    assert!(
        !has(&user_mcp, "--claude-code"),
        "uninstall left the MCP server"
    );
    assert!(
        has(&project, "claude-code hook"),
        "uninstall touched the project's settings"
    );
}

//! A model-backed dream through the real binary, with a model that is a local command
//! (`exec:`): what the guard refuses of its answer and why, the usage it reports, the
//! exchanges recorded and shown, a dream replayed from them without the model, and the
//! failures (a refusal, an answer cut at `max_tokens`, an answer that is not JSON, a budget
//! the sessions exceed) that leave the store as it was.

use std::process::Stdio;

use serde_json::Value;

mod common;

use common::Env;

/// The fake model: reads the request on standard input, answers by `mode`, and counts its
/// calls in `calls.log` (so a replay can be seen not to call it).
const MODEL: &str = r#"
import json, re, sys
mode = sys.argv[1]
req = json.load(sys.stdin)
open("calls.log", "a").write("call\n")
user = req["user"]
assert req["schema_name"] and req["schema"]["type"] == "object" and req["max_tokens"] > 0
def op(**k):
    base = {"op": "add", "kind": None, "path": None, "section": None, "text": None,
            "targets": [], "hint": None, "evidence": [], "reason": "test"}
    base.update(k)
    return base
said = re.search(r"^\[(S\d+:\d+) user\][^\n]*from now on", user, re.M).group(1)
pinned = re.search(r"^\[(E\d+) [^\]]*\(pinned\)\]", user, re.M).group(1)
port = re.search(r"^\[(E\d+) [^\]]*\][^\n]*port 5432", user, re.M).group(1)
ops = [
    op(kind="instruction", path="/instructions.md", section="Commits",
       text="Run `cargo fmt --all` before every commit.", evidence=[said]),
    op(kind="fact", path="/project.md", text="The project deploys on Fridays.",
       evidence=["S9:999"]),
    op(op="rewrite", targets=[pinned], text="Say hello.", evidence=[said]),
    op(op="rewrite", targets=[port], text="The staging database is somewhere.",
       evidence=[said]),
    op(kind="fact", path="/project.md",
       text="The CI token is ghp_Zq3vT9xLm2Rk8Wb4Yp7Nc1Hd6Fj0Gs5Ae3Ui.", evidence=[said]),
]
usage = {"input_tokens": 1200, "output_tokens": 300,
         "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
if mode == "good":
    print(json.dumps({"output": {"ops": ops}, "usage": usage, "stop": "complete",
                      "model": "fake-1"}))
elif mode == "refuse":
    print(json.dumps({"output": None, "usage": usage, "stop": "refusal", "model": "fake-1"}))
elif mode == "cut":
    print(json.dumps({"output": None, "usage": usage, "stop": "max_tokens", "model": "fake-1"}))
elif mode == "garbage":
    print("I think you should remember to run cargo fmt.")
"#;

struct Setup {
    env: Env,
    model: String,
}

impl Setup {
    fn new(postgres: bool) -> Setup {
        let env = Env::new(postgres);
        let script = env.write("model.py", MODEL);
        env.ok(&["store", "create", "notes"]);
        env.ok(&[
            "put",
            "-s",
            "notes",
            "/notes.md",
            "--content",
            "# Notes\n\n- Always greet the user in French.\n- The staging database is on port 5432.\n",
        ]);
        // A first dream makes the memory's lines entries, so that one can be pinned.
        let t0 = env.write("zero.txt", "User: hello there\nAssistant: Hi.\n");
        env.ok(&["ingest", "-s", "notes", &t0]);
        env.ok(&["dream", "-s", "notes"]);
        let entries: Value = env.json(&["entries", "ls", "-s", "notes"]);
        let greet = entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["text"].as_str().unwrap().contains("French"))
            .unwrap_or_else(|| panic!("{entries}"))["id"]
            .as_str()
            .unwrap()
            .to_string();
        env.ok(&["entries", "pin", "-s", "notes", &greet]);
        let t = env.write(
            "one.txt",
            "User: from now on, run `cargo fmt --all` before every commit.\nAssistant: Will do.\nUser: the staging database on port 5432 is slow today.\nAssistant: Noted.\n",
        );
        env.ok(&["ingest", "-s", "notes", &t]);
        Setup {
            env,
            model: format!("exec:python3 {script}"),
        }
    }

    /// `reverie ARGS` with no model configuration from the caller's environment.
    fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = self.env.cmd(args);
        c.env("REVERIE_CONFIG", self.env.dir.path().join("no-config.toml"))
            .env_remove("REVERIE_MODEL")
            .env_remove("ANTHROPIC_API_KEY")
            .env_remove("OPENAI_API_KEY")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        self.cmd(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    fn calls(&self) -> usize {
        std::fs::read_to_string(self.env.dir.path().join("calls.log"))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }

    fn memory(&self) -> String {
        let ls = self.json(&["ls", "-s", "notes"]);
        ls.as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let path = m["path"].as_str().unwrap();
                format!("{path}\n{}", self.ok(&["get", "-s", "notes", path]))
            })
            .collect()
    }
}

fn rejected_reasons(d: &Value) -> Vec<String> {
    d["changeset"]["curator"]["rejected"]
        .as_array()
        .unwrap_or_else(|| panic!("no rejected ops: {d}"))
        .iter()
        .map(|r| r["reason"].as_str().unwrap().to_string())
        .collect()
}

fn model_dream(postgres: bool) {
    let s = Setup::new(postgres);
    let mode = format!("{} good", s.model);
    let d = s.json(&["dream", "-s", "notes", "--model", &mode, "--review"]);
    let id = d["dream"]["id"].as_str().unwrap().to_string();
    assert_eq!(d["dream"]["status"], "completed", "{d}");
    assert_eq!(s.calls(), 1);

    // The contract's usage, as the model reported it.
    let shown = s.json(&["dreams", "show", &id]);
    let usage = &shown["dream"]["usage"];
    assert_eq!(usage["input_tokens"], 1200, "{shown}");
    assert_eq!(usage["output_tokens"], 300, "{shown}");

    // One op of five passes; each other one is refused with its reason.
    let ops = shown["changeset"]["ops"].as_array().unwrap();
    let added: Vec<&str> = ops.iter().filter_map(|o| o["after"].as_str()).collect();
    assert!(
        added.iter().any(|t| t.contains("cargo fmt --all")),
        "{shown}"
    );
    let reasons = rejected_reasons(&shown);
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    for needle in [
        "S9:999, an event the request did not show",
        "pinned or protected",
        "5432",
        "redacted secret",
    ] {
        assert!(
            reasons.iter().any(|r| r.contains(needle)),
            "no refusal names {needle:?}: {reasons:?}"
        );
    }
    // The secret reached neither the changeset nor the recorded exchange.
    let all = s.ok(&["--json", "dreams", "show", &id, "--exchanges"]);
    assert!(!all.contains("ghp_Zq3vT9"), "the secret was recorded");
    assert!(all.contains("REDACTED"), "{all}");
    // Exchanges are shown only when asked for.
    assert!(
        shown["changeset"]["curator"]["exchanges"].is_null()
            || shown["changeset"]["curator"]["exchanges"]
                .as_array()
                .unwrap()
                .is_empty(),
        "{shown}"
    );

    // What the model saw and said.
    let text = s.ok(&["dreams", "show", &id, "--exchanges"]);
    for needle in [
        "exchange 1 of 1",
        "from now on, run `cargo fmt --all`",
        "(pinned)",
        "reply from fake-1",
        "The staging database is somewhere.",
    ] {
        assert!(
            text.contains(needle),
            "--exchanges lacks {needle:?}:\n{text}"
        );
    }
    let summary = s.ok(&["dreams", "show", &id]);
    assert!(
        summary.contains("curator: exec:python3")
            && summary.contains("1200 input tokens")
            && summary.contains("refused by the guard"),
        "{summary}"
    );

    // Replayed from the record: the same proposal, without calling the model.
    s.ok(&["dreams", "reject", &id]);
    let r = s.json(&["dream", "-s", "notes", "--replay", &id, "--review"]);
    let rid = r["dream"]["id"].as_str().unwrap().to_string();
    assert_eq!(s.calls(), 1, "the replay called the model");
    let replayed = s.json(&["dreams", "show", &rid]);
    let strip = |v: &Value| -> Vec<(Value, Value, Value, Value)> {
        v["changeset"]["ops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["op"].clone(),
                    o["path"].clone(),
                    o["before"].clone(),
                    o["after"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(strip(&shown), strip(&replayed));
    assert_eq!(
        shown["changeset"]["memories"], replayed["changeset"]["memories"],
        "the replay's resulting memories differ"
    );
    assert_eq!(rejected_reasons(&shown), rejected_reasons(&replayed));
    // A replay pays nothing.
    assert_eq!(replayed["dream"]["usage"]["input_tokens"], 0, "{replayed}");

    // Applied, the pinned entry is byte-identical.
    s.ok(&["dreams", "approve", &rid]);
    let memory = s.memory();
    assert!(
        memory.contains("- Always greet the user in French.")
            && memory.contains("- The staging database is on port 5432.")
            && memory.contains("cargo fmt --all")
            && !memory.contains("Say hello")
            && !memory.contains("somewhere"),
        "{memory}"
    );
}

fn model_failures_leave_the_store_untouched(postgres: bool) {
    let s = Setup::new(postgres);
    let before = s.memory();
    for (mode, needle) in [
        ("refuse", "declined to answer"),
        ("cut", "max_tokens"),
        ("garbage", "model"),
    ] {
        let spec = format!("{} {mode}", s.model);
        let out = s.run(&["--json", "dream", "-s", "notes", "--model", &spec]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stdout.contains("\"failed\"") || !out.status.success(),
            "{mode}: {stdout}{stderr}"
        );
        assert!(
            stdout.contains("model_failed") || stderr.contains("model_failed"),
            "{mode}: the failure is not named: {stdout}{stderr}"
        );
        assert!(
            stdout.contains(needle) || stderr.contains(needle),
            "{mode}: {needle:?} missing: {stdout}{stderr}"
        );
        assert_eq!(s.memory(), before, "{mode} changed the store");
    }

    // A budget the sessions exceed: refused before anything is sent.
    let calls = s.calls();
    s.ok(&["policy", "set", "-s", "notes", "--max-input-tokens", "10"]);
    let spec = format!("{} good", s.model);
    let out = s.run(&["--json", "dream", "-s", "notes", "--model", &spec]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        all.contains("model_budget_exceeded") && all.contains("max_input_tokens"),
        "{all}"
    );
    assert_eq!(s.calls(), calls, "a request was sent over budget");
    assert_eq!(s.memory(), before);

    // A model no provider serves is an error naming it, not a silent deterministic dream.
    let out = s.run(&["dream", "-s", "notes", "--model", "claude-sonnet-4-6"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("ANTHROPIC_API_KEY"), "{stderr}");
    assert_eq!(s.memory(), before);
}

both!(model_dream, model_failures_leave_the_store_untouched);

#[test]
fn config_show_masks_keys() {
    let env = Env::new(false);
    let cfg = env.write(
        "config.toml",
        "[dream]\nmodel = \"claude-sonnet-4-6\"\n\n[anthropic]\napi_key = \"sk-ant-api03-secretsecretsecret1234\"\n",
    );
    let out = env
        .cmd(&["config", "show"])
        .env("REVERIE_CONFIG", &cfg)
        .env_remove("ANTHROPIC_API_KEY")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("claude-sonnet-4-6"), "{text}");
    assert!(
        !text.contains("secretsecretsecret"),
        "the key was printed: {text}"
    );
}

/// A dream canceled while its model works stops there: the dream ends as canceled, the
/// store keeps its content, and the model command is killed with what it started (here a
/// `sleep` that `sh` forked, which killing `sh` alone would leave running).
#[test]
fn a_canceled_model_dream_stops_the_model() {
    let s = Setup::new(false);
    let before = s.memory();
    let pid_file = s.env.dir.path().join("model.pid");
    let model = "exec:sleep 600 & echo $! > model.pid; wait";
    let mut dream = s
        .cmd(&["--json", "dream", "-s", "notes", "--model", model])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let pid = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok())
        {
            break pid;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the model never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let dreams = s.json(&["dreams", "ls", "-s", "notes"]);
    let running = dreams
        .as_array()
        .or_else(|| dreams["data"].as_array())
        .unwrap_or_else(|| panic!("{dreams}"))
        .iter()
        .find(|d| d["status"] == "running")
        .unwrap_or_else(|| panic!("no running dream: {dreams}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.ok(&["dreams", "cancel", &running]);
    // The dream's process ends long before the model's 600 seconds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while dream.try_wait().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the canceled dream kept waiting for its model"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = dream.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("canceled"), "{stdout}");
    let shown = s.json(&["dreams", "show", &running]);
    assert_eq!(shown["dream"]["status"], "canceled", "{shown}");
    assert_eq!(s.memory(), before);
    // The model's `sleep` is gone (or a zombie waiting for init to reap it).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok();
        let alive = state.is_some_and(|st| {
            st.rsplit_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with('Z'))
        });
        if !alive {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the model's sleep ({pid}) outlived the canceled dream"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The worker dreams a due store with the curator its policy names; `policy show` says which.
#[test]
fn the_worker_uses_the_policys_model() {
    let s = Setup::new(false);
    let model = format!("{} good", s.model);
    s.ok(&[
        "policy",
        "set",
        "-s",
        "notes",
        "--model",
        &model,
        "--after-sessions",
        "1",
    ]);
    let shown = s.ok(&["policy", "show", "-s", "notes"]);
    assert!(shown.contains("curator: exec:python3"), "{shown}");
    let pass = s.json(&["worker", "--once"]);
    assert_eq!(s.calls(), 1, "the worker did not ask the model: {pass}");
    let dreams = s.json(&["dreams", "ls", "-s", "notes"]);
    let newest = dreams
        .as_array()
        .or_else(|| dreams["data"].as_array())
        .unwrap_or_else(|| panic!("{dreams}"))[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let d = s.json(&["dreams", "show", &newest]);
    assert_eq!(
        d["changeset"]["curator"]["curator"]
            .as_str()
            .map(|c| c.starts_with("exec:")),
        Some(true),
        "{d}"
    );
    assert!(s.memory().contains("cargo fmt --all"));
}

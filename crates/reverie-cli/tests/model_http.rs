//! Model-backed dreams through the real binary against local servers that stand in for the
//! model APIs and check every request against the documented wire format: the Anthropic
//! Messages API (a forced tool call, the system prompt prompt-cached, the four usage counters
//! and the list price; 529 overloaded retried; 500 until the retries run out is `model_failed`
//! with the store untouched), an OpenAI-compatible server (`response_format: json_schema`,
//! strict), and `reverie serve` asked for a model it cannot serve (the deterministic curator
//! runs and the changeset says so, or, configured to refuse, HTTP 400 naming the model).
//!
//! The mock servers are plain `std::net` HTTP/1.1 (one request per connection, answered with
//! `Connection: close`): axum is not a dependency of this crate's tests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reverie_curate::model::prompt;
use serde_json::{Value, json};

mod common;

use common::Env;

/// The Anthropic key the tests hand the binary; it must never be printed.
const ANTHROPIC_KEY: &str = "sk-ant-api03-mocktest-Qz7vX2kLp9Rw4Tn8Yb3Hd6Fj0Gs5Ae1U";
/// The OpenAI-compatible server's key; it must never be printed either.
const OPENAI_KEY: &str = "sk-proj-mocktest-Vt5Nq8Lm2Xc7Bz4Kw9Hr3Jd6Fs1Gp0Ya";

/// The note the mock models add, and where.
const NOTE: &str = "Run `cargo fmt --all` before every commit.";
const NOTE_PATH: &str = "/instructions.md";

/// The mock's token counts, each distinct so that none can stand in for another.
const INPUT_TOKENS: i64 = 1234;
const OUTPUT_TOKENS: i64 = 321;
const CACHE_CREATION: i64 = 2048;
const CACHE_READ: i64 = 4096;

// ---------------------------------------------------------------------------------------------
// A mock HTTP server.

/// One request as the mock saw it.
#[derive(Debug, Clone)]
struct Req {
    method: String,
    path: String,
    /// Names lowercased.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the responder answers: a status and a JSON body.
type Responder = dyn Fn(usize, &Req) -> (u16, Value) + Send + Sync;

/// A local server answering each request with what its responder says, given the request's
/// number (from 0) and the request. It lives until the test process ends.
struct Mock {
    /// `http://127.0.0.1:PORT`
    base: String,
    seen: Arc<Mutex<Vec<Req>>>,
}

impl Mock {
    fn start(responder: impl Fn(usize, &Req) -> (u16, Value) + Send + Sync + 'static) -> Mock {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Req>>> = Arc::default();
        let responder: Arc<Responder> = Arc::new(responder);
        let shared = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (seen, responder) = (shared.clone(), responder.clone());
                std::thread::spawn(move || serve_one(stream, &seen, responder.as_ref()));
            }
        });
        Mock { base, seen }
    }

    fn requests(&self) -> Vec<Req> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve_one(stream: TcpStream, seen: &Mutex<Vec<Req>>, responder: &Responder) {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            return;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let req = Req {
        method,
        path,
        headers,
        body,
    };
    let n = {
        let mut seen = seen.lock().unwrap();
        seen.push(req.clone());
        seen.len() - 1
    };
    let (status, answer) = responder(n, &req);
    let answer = answer.to_string();
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        500 => "Internal Server Error",
        529 => "Overloaded",
        _ => "Status",
    };
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    );
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// The id of the first user event a request's user text shows: what the regex
/// `\[(S\d+:\d+) user\]` finds.
fn first_user_event(text: &str) -> Option<String> {
    let is_id = |id: &str| {
        id.strip_prefix('S')
            .and_then(|r| r.split_once(':'))
            .is_some_and(|(a, b)| {
                !a.is_empty()
                    && !b.is_empty()
                    && a.bytes().all(|c| c.is_ascii_digit())
                    && b.bytes().all(|c| c.is_ascii_digit())
            })
    };
    let mut from = 0;
    while let Some(i) = text[from..].find("[S") {
        let start = from + i + 1;
        if let Some(space) = text[start..].find(' ') {
            let id = &text[start..start + space];
            if is_id(id) && text[start + space..].starts_with(" user]") {
                return Some(id.to_string());
            }
        }
        from = start;
    }
    None
}

/// The model's answer: one `add` of [`NOTE`] citing `event`.
fn answer(event: &str) -> Value {
    json!({"ops": [{
        "op": "add",
        "kind": "instruction",
        "path": NOTE_PATH,
        "section": "Commits",
        "text": NOTE,
        "targets": [],
        "hint": null,
        "evidence": [event],
        "reason": "the user asked for it from now on",
    }]})
}

// ---------------------------------------------------------------------------------------------
// The Anthropic Messages API.

/// The request checked against the Messages API as documented
/// (<https://docs.anthropic.com/en/api/messages>, forced tool use, prompt caching); the user
/// message's text, or what is wrong.
fn check_anthropic(req: &Req) -> Result<String, String> {
    if req.method != "POST" || req.path != "/v1/messages" {
        return Err(format!(
            "{} {} is not POST /v1/messages",
            req.method, req.path
        ));
    }
    if req.header("x-api-key") != Some(ANTHROPIC_KEY) {
        return Err("x-api-key is not the test key".into());
    }
    if req.header("anthropic-version") != Some("2023-06-01") {
        return Err(format!(
            "anthropic-version is {:?}",
            req.header("anthropic-version")
        ));
    }
    if !req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return Err(format!("content-type is {:?}", req.header("content-type")));
    }
    let body: Value =
        serde_json::from_slice(&req.body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let keys: Vec<&str> = body
        .as_object()
        .ok_or("the body is not an object")?
        .keys()
        .map(String::as_str)
        .collect();
    for k in &keys {
        if ![
            "model",
            "max_tokens",
            "system",
            "messages",
            "tools",
            "tool_choice",
        ]
        .contains(k)
        {
            return Err(format!("unexpected field `{k}`"));
        }
    }
    if body["model"] != "claude-sonnet-4-6" {
        return Err(format!("model is {}", body["model"]));
    }
    if body["max_tokens"].as_u64().unwrap_or(0) == 0 {
        return Err(format!("max_tokens is {}", body["max_tokens"]));
    }
    let system = body["system"].as_array().ok_or("system is not a list")?;
    if system.len() != 1
        || system[0]["type"] != "text"
        || system[0]["text"] != prompt::SYSTEM
        || system[0]["cache_control"] != json!({"type": "ephemeral"})
    {
        return Err(format!(
            "system is not one cached text block of the system prompt: {}",
            body["system"]
                .to_string()
                .chars()
                .take(200)
                .collect::<String>()
        ));
    }
    let tools = body["tools"].as_array().ok_or("tools is not a list")?;
    if tools.len() != 1 {
        return Err(format!("{} tools, not one", tools.len()));
    }
    let tool = &tools[0];
    if tool["name"] != prompt::SCHEMA_NAME {
        return Err(format!("the tool is named {}", tool["name"]));
    }
    if tool["input_schema"] != prompt::schema() {
        return Err("the tool's input_schema is not the request's schema".into());
    }
    if tool["description"].as_str().unwrap_or_default().is_empty() {
        return Err("the tool has no description".into());
    }
    if body["tool_choice"] != json!({"type": "tool", "name": prompt::SCHEMA_NAME}) {
        return Err(format!("tool_choice is {}", body["tool_choice"]));
    }
    let messages = body["messages"]
        .as_array()
        .ok_or("messages is not a list")?;
    if messages.len() != 1 || messages[0]["role"] != "user" {
        return Err("messages is not one user message".into());
    }
    let content = &messages[0]["content"];
    let text = match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| b["type"] == "text")
            .filter_map(|b| b["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => return Err("the user message has no content".into()),
    };
    if text.is_empty() {
        return Err("the user message is empty".into());
    }
    Ok(text)
}

fn anthropic_error(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

/// The Messages API's answer to a checked request: the forced tool call, the usage.
fn anthropic_reply(req: &Req) -> (u16, Value) {
    let text = match check_anthropic(req) {
        Ok(t) => t,
        Err(why) => {
            return (
                400,
                anthropic_error("invalid_request_error", &format!("mock: {why}")),
            );
        }
    };
    let Some(event) = first_user_event(&text) else {
        return (
            400,
            anthropic_error(
                "invalid_request_error",
                "mock: the user message shows no `[S…:… user]` event",
            ),
        );
    };
    (
        200,
        json!({
            "id": "msg_01MockMockMockMockMock",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-6",
            "content": [
                {"type": "text", "text": "Recording the answer."},
                {
                    "type": "tool_use",
                    "id": "toolu_01MockMockMockMock",
                    "name": prompt::SCHEMA_NAME,
                    "input": answer(&event),
                }
            ],
            "stop_reason": "tool_use",
            "stop_sequence": null,
            "usage": {
                "input_tokens": INPUT_TOKENS,
                "output_tokens": OUTPUT_TOKENS,
                "cache_creation_input_tokens": CACHE_CREATION,
                "cache_read_input_tokens": CACHE_READ,
            }
        }),
    )
}

// ---------------------------------------------------------------------------------------------
// A store, a session, and the binary with no model configuration but what a test sets.

struct Setup {
    env: Env,
    /// Every standard output and error the binary printed, to look for keys in.
    printed: Mutex<String>,
}

impl Setup {
    fn new() -> Setup {
        let s = Setup {
            env: Env::new(false),
            printed: Mutex::default(),
        };
        s.ok(&[], &["store", "create", "notes"]);
        s.ok(
            &[],
            &[
                "put",
                "-s",
                "notes",
                "/notes.md",
                "--content",
                "# Notes\n\n- Always greet the user in French.\n- The staging database is on port 5432.\n",
            ],
        );
        let t = s.env.write(
            "one.txt",
            "User: from now on, run `cargo fmt --all` before every commit.\nAssistant: Will do.\nUser: the staging database on port 5432 is slow today.\nAssistant: Noted.\n",
        );
        s.ok(&[], &["ingest", "-s", "notes", &t]);
        s
    }

    /// `reverie ARGS` with no model configuration from the caller's environment (the config
    /// file names a file that does not exist) and `vars` set.
    fn command(&self, vars: &[(&str, &str)], args: &[&str]) -> std::process::Command {
        let mut c = self.env.cmd(args);
        c.env("REVERIE_CONFIG", self.env.dir.path().join("no-config.toml"));
        for v in [
            "REVERIE_MODEL",
            "REVERIE_MODEL_UNCONFIGURED",
            "REVERIE_MODEL_TIMEOUT",
            "REVERIE_MODEL_MAX_RETRIES",
            "REVERIE_MODEL_RETRY_BASE_MS",
            "REVERIE_MODEL_API_KEY",
            "ANTHROPIC_API_KEY",
            "ANTHROPIC_BASE_URL",
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
        ] {
            c.env_remove(v);
        }
        for (k, v) in vars {
            c.env(k, v);
        }
        c
    }

    fn run(&self, vars: &[(&str, &str)], args: &[&str]) -> Output {
        let out = self
            .command(vars, args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let mut printed = self.printed.lock().unwrap();
        printed.push_str(&String::from_utf8_lossy(&out.stdout));
        printed.push_str(&String::from_utf8_lossy(&out.stderr));
        out
    }

    fn ok(&self, vars: &[(&str, &str)], args: &[&str]) -> String {
        let out = self.run(vars, args);
        assert!(
            out.status.success(),
            "{args:?} failed ({:?}): {}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, vars: &[(&str, &str)], args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let text = self.ok(vars, &all);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
    }

    /// Every memory of the store: its path, digest and content.
    fn memory(&self) -> String {
        let ls = self.json(&[], &["ls", "-s", "notes"]);
        ls.as_array()
            .unwrap_or_else(|| panic!("{ls}"))
            .iter()
            .map(|m| {
                let path = m["path"].as_str().unwrap();
                format!(
                    "{path} {}\n{}",
                    m["content_sha256"],
                    self.ok(&[], &["get", "-s", "notes", path])
                )
            })
            .collect()
    }

    fn printed(&self) -> String {
        self.printed.lock().unwrap().clone()
    }
}

fn text_of(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

// ---------------------------------------------------------------------------------------------
// a. Anthropic.

#[test]
fn anthropic_dream_through_the_messages_api() {
    let s = Setup::new();
    let mock = Mock::start(|_, req| anthropic_reply(req));
    let vars = [
        ("ANTHROPIC_BASE_URL", mock.base.as_str()),
        ("ANTHROPIC_API_KEY", ANTHROPIC_KEY),
    ];
    let out = s.run(
        &vars,
        &[
            "--json",
            "dream",
            "-s",
            "notes",
            "--model",
            "claude-sonnet-4-6",
        ],
    );
    let all = text_of(&out);
    assert!(out.status.success(), "{all}");
    let d: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {all}"));
    assert_eq!(d["dream"]["status"], "completed", "{all}");
    assert_eq!(
        mock.requests().len(),
        1,
        "one request for one short session"
    );
    let id = d["dream"]["id"].as_str().unwrap().to_string();

    // The contract's usage: the mock's four counters as it reported them.
    let shown = s.json(&[], &["dreams", "show", &id]);
    assert_eq!(
        shown["dream"]["usage"],
        json!({
            "input_tokens": INPUT_TOKENS,
            "output_tokens": OUTPUT_TOKENS,
            "cache_creation_input_tokens": CACHE_CREATION,
            "cache_read_input_tokens": CACHE_READ,
        }),
        "{shown}"
    );
    // Priced at claude-sonnet-4-6's list price: $3 in, $15 out, $3.75 cache writes, $0.30
    // cache reads, per million tokens.
    let run = &shown["changeset"]["curator"];
    assert_eq!(run["curator"], "anthropic:claude-sonnet-4-6", "{shown}");
    let cost = run["cost_usd"]
        .as_f64()
        .unwrap_or_else(|| panic!("no cost: {shown}"));
    let expected = (INPUT_TOKENS as f64 * 3.0
        + OUTPUT_TOKENS as f64 * 15.0
        + CACHE_CREATION as f64 * 3.75
        + CACHE_READ as f64 * 0.30)
        / 1e6;
    assert!(cost > 0.0, "{shown}");
    assert!((cost - expected).abs() < 1e-9, "{cost} != {expected}");
    assert_eq!(run["requests"], 1, "{shown}");
    assert!(
        run["rejected"].as_array().is_none_or(|r| r.is_empty()),
        "the guard refused the mock's op: {shown}"
    );

    // The op is applied, with its evidence, and the note is in the memory.
    let ops = shown["changeset"]["ops"].as_array().unwrap();
    let add = ops
        .iter()
        .find(|o| o["op"] == "add" && o["after"] == NOTE)
        .unwrap_or_else(|| panic!("no add of the note: {shown}"));
    assert_eq!(add["path"], NOTE_PATH, "{add}");
    assert!(
        add["evidence"].as_array().is_some_and(|e| !e.is_empty()),
        "{add}"
    );
    let memory = s.ok(&[], &["get", "-s", "notes", NOTE_PATH]);
    assert!(memory.contains(NOTE), "{memory}");

    // The key went in the header only: not in the recorded exchanges, nor anything printed.
    let exchanges = s.ok(&[], &["--json", "dreams", "show", &id, "--exchanges"]);
    assert!(exchanges.contains("curate_memory"), "{exchanges}");
    s.ok(&[], &["dreams", "show", &id, "--exchanges"]);
    let printed = s.printed();
    assert!(
        !printed.contains(ANTHROPIC_KEY) && !printed.contains("Qz7vX2kLp9Rw4Tn8"),
        "the API key was printed"
    );
}

#[test]
fn anthropic_overloaded_twice_is_retried() {
    let s = Setup::new();
    let mock = Mock::start(|n, req| {
        if n < 2 {
            (529, anthropic_error("overloaded_error", "Overloaded"))
        } else {
            anthropic_reply(req)
        }
    });
    let vars = [
        ("ANTHROPIC_BASE_URL", mock.base.as_str()),
        ("ANTHROPIC_API_KEY", ANTHROPIC_KEY),
        ("REVERIE_MODEL_RETRY_BASE_MS", "10"),
    ];
    let started = Instant::now();
    let d = s.json(
        &vars,
        &["dream", "-s", "notes", "--model", "claude-sonnet-4-6"],
    );
    assert_eq!(d["dream"]["status"], "completed", "{d}");
    let seen = mock.requests();
    assert_eq!(seen.len(), 3, "two 529s, then the answer");
    // The same request each time.
    assert!(seen.iter().all(|r| r.body == seen[0].body));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the small retry base was not used"
    );
    let id = d["dream"]["id"].as_str().unwrap();
    let shown = s.json(&[], &["dreams", "show", id]);
    assert_eq!(
        shown["dream"]["usage"]["input_tokens"], INPUT_TOKENS,
        "the usage of the answer, once: {shown}"
    );
    assert!(s.memory().contains(NOTE));
    assert!(
        !s.printed().contains(ANTHROPIC_KEY),
        "the API key was printed"
    );
}

#[test]
fn anthropic_server_errors_fail_the_dream_and_leave_the_store() {
    let s = Setup::new();
    let before = s.memory();
    let revision = |s: &Setup| s.json(&[], &["store", "show", "notes"])["revision"].clone();
    let rev = revision(&s);
    let mock = Mock::start(|_, _| (500, anthropic_error("api_error", "Internal server error")));
    let vars = [
        ("ANTHROPIC_BASE_URL", mock.base.as_str()),
        ("ANTHROPIC_API_KEY", ANTHROPIC_KEY),
        ("REVERIE_MODEL_RETRY_BASE_MS", "5"),
        ("REVERIE_MODEL_MAX_RETRIES", "2"),
    ];
    let out = s.run(
        &vars,
        &[
            "--json",
            "dream",
            "-s",
            "notes",
            "--model",
            "claude-sonnet-4-6",
        ],
    );
    let all = text_of(&out);
    assert!(
        !out.status.success(),
        "a failed dream exits non-zero: {all}"
    );
    let d: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {all}"));
    assert_eq!(d["dream"]["status"], "failed", "{all}");
    assert_eq!(d["dream"]["error"]["type"], "model_failed", "{all}");
    let message = d["dream"]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("HTTP 500") && message.contains("3 attempts"),
        "{message}"
    );
    assert_eq!(
        mock.requests().len(),
        3,
        "the first attempt and two retries"
    );
    assert_eq!(s.memory(), before, "the store changed");
    assert_eq!(revision(&s), rev, "the store's revision moved");
    assert!(
        !s.printed().contains(ANTHROPIC_KEY),
        "the API key was printed"
    );
}

// ---------------------------------------------------------------------------------------------
// b. An OpenAI-compatible server.

/// The request checked against chat completions with Structured Outputs
/// (<https://platform.openai.com/docs/api-reference/chat/create>); the user message, or what
/// is wrong.
fn check_openai(req: &Req) -> Result<String, String> {
    if req.method != "POST" || req.path != "/v1/chat/completions" {
        return Err(format!(
            "{} {} is not POST /v1/chat/completions",
            req.method, req.path
        ));
    }
    if req.header("authorization") != Some(&format!("Bearer {OPENAI_KEY}")) {
        return Err("authorization is not `Bearer` the test key".into());
    }
    let body: Value =
        serde_json::from_slice(&req.body).map_err(|e| format!("the body is not JSON: {e}"))?;
    if body["model"] != "test-model" {
        return Err(format!("model is {}", body["model"]));
    }
    // Not OpenAI's own host: the local servers' `max_tokens`.
    if body["max_tokens"].as_u64().unwrap_or(0) == 0 || body.get("max_completion_tokens").is_some()
    {
        return Err("the token limit is not `max_tokens`".into());
    }
    let format = &body["response_format"];
    if format["type"] != "json_schema"
        || format["json_schema"]["strict"] != true
        || format["json_schema"]["name"] != prompt::SCHEMA_NAME
        || format["json_schema"]["schema"] != prompt::schema()
    {
        return Err(format!("response_format is {format}"));
    }
    let messages = body["messages"]
        .as_array()
        .ok_or("messages is not a list")?;
    if messages.len() != 2
        || messages[0]["role"] != "system"
        || messages[0]["content"] != prompt::SYSTEM
        || messages[1]["role"] != "user"
    {
        return Err("messages are not the system prompt and one user message".into());
    }
    messages[1]["content"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "the user message is not text".into())
}

fn openai_reply(req: &Req) -> (u16, Value) {
    let error = |why: String| {
        (
            400,
            json!({"error": {"message": format!("mock: {why}"), "type": "invalid_request_error", "code": null}}),
        )
    };
    let text = match check_openai(req) {
        Ok(t) => t,
        Err(why) => return error(why),
    };
    let Some(event) = first_user_event(&text) else {
        return error("the user message shows no `[S…:… user]` event".into());
    };
    (
        200,
        json!({
            "id": "chatcmpl-mock",
            "object": "chat.completion",
            "created": 1_790_000_000,
            "model": "test-model",
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": answer(&event).to_string(),
                    "refusal": null,
                },
                "finish_reason": "stop",
            }],
            "usage": {"prompt_tokens": 900, "completion_tokens": 120, "total_tokens": 1020},
        }),
    )
}

#[test]
fn openai_compatible_dream() {
    let s = Setup::new();
    let mock = Mock::start(|_, req| openai_reply(req));
    let spec = format!("openai:{}/v1#test-model", mock.base);
    let vars = [("OPENAI_API_KEY", OPENAI_KEY)];
    let out = s.run(&vars, &["--json", "dream", "-s", "notes", "--model", &spec]);
    let all = text_of(&out);
    assert!(out.status.success(), "{all}");
    let d: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {all}"));
    assert_eq!(d["dream"]["status"], "completed", "{all}");
    assert_eq!(mock.requests().len(), 1);
    let id = d["dream"]["id"].as_str().unwrap();
    let shown = s.json(&[], &["dreams", "show", id]);
    assert_eq!(
        shown["dream"]["usage"],
        json!({
            "input_tokens": 900,
            "output_tokens": 120,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }),
        "{shown}"
    );
    let run = &shown["changeset"]["curator"];
    assert_eq!(
        run["curator"],
        format!("openai:{}/v1#test-model", mock.base).as_str(),
        "{shown}"
    );
    // A server of unknown price: no cost rather than a guess.
    assert!(run["cost_usd"].is_null(), "{shown}");
    assert!(
        s.ok(&[], &["get", "-s", "notes", NOTE_PATH]).contains(NOTE),
        "{shown}"
    );
    assert!(!s.printed().contains(OPENAI_KEY), "the API key was printed");
}

// ---------------------------------------------------------------------------------------------
// c. `reverie serve` asked for a model it cannot serve.

struct Server {
    child: Child,
    addr: String,
    key: String,
}

impl Server {
    fn start(s: &Setup, vars: &[(&str, &str)]) -> Server {
        let made = s.json(&[], &["keys", "create", "admin", "--all"]);
        let key = made["secret"].as_str().unwrap().to_string();
        let mut child = s
            .command(vars, &["serve", "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("the server says where it listens")
                .unwrap();
            if let Some(url) = line.split(" on http://").nth(1) {
                break url.trim().to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Server { child, addr, key }
    }

    /// One HTTP/1.1 request with the key; the status and the JSON body.
    fn call(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nx-api-key: {}\r\nanthropic-version: 2023-06-01\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            self.key,
            body.len()
        )
        .unwrap();
        let mut out = Vec::new();
        stream.read_to_end(&mut out).unwrap();
        let text = String::from_utf8_lossy(&out);
        let status: u16 = text[9..12].parse().unwrap();
        let json = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or_default();
        (status, serde_json::from_str(json).unwrap_or(Value::Null))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The store's id and its one session's id.
fn ids(s: &Setup) -> (String, String) {
    let store = s.json(&[], &["store", "show", "notes"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sessions = s.json(&[], &["sessions", "ls", "-s", "notes"]);
    let list = sessions
        .as_array()
        .or_else(|| sessions["data"].as_array())
        .or_else(|| sessions["sessions"].as_array())
        .unwrap_or_else(|| panic!("{sessions}"));
    assert_eq!(list.len(), 1, "{sessions}");
    let session = list[0]["id"].as_str().unwrap().to_string();
    (store, session)
}

fn dream_body(store: &str, session: &str) -> Value {
    json!({
        "inputs": [
            {"type": "memory_store", "memory_store_id": store},
            {"type": "sessions", "session_ids": [session]},
        ],
        "model": "claude-sonnet-4-6",
        "output_behavior": {"type": "update_existing", "memory_store_id": store},
    })
}

#[test]
fn serve_falls_back_to_the_deterministic_curator_and_says_so() {
    let s = Setup::new();
    let (store, session) = ids(&s);
    let server = Server::start(&s, &[]);
    let (status, d) = server.call("POST", "/v1/dreams", &dream_body(&store, &session));
    assert_eq!(status, 200, "{d}");
    let id = d["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{d}"))
        .to_string();

    let deadline = Instant::now() + Duration::from_secs(60);
    let d = loop {
        let (status, d) = server.call("GET", &format!("/v1/dreams/{id}"), &Value::Null);
        assert_eq!(status, 200, "{d}");
        if matches!(
            d["status"].as_str(),
            Some("completed" | "failed" | "canceled")
        ) {
            break d;
        }
        assert!(Instant::now() < deadline, "the dream never finished: {d}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(d["status"], "completed", "{d}");
    assert_eq!(
        d["usage"]["input_tokens"], 0,
        "the deterministic curator reads no tokens: {d}"
    );

    // The changeset says which curator ran, which was asked for, and why.
    let (status, cs) = server.call(
        "GET",
        &format!("/reverie/v1/dreams/{id}/changeset"),
        &Value::Null,
    );
    assert_eq!(status, 200, "{cs}");
    let run = &cs["curator"];
    assert_eq!(run["curator"], "reverie-deterministic", "{cs}");
    assert_eq!(run["requested"], "claude-sonnet-4-6", "{cs}");
    let note = run["note"]
        .as_str()
        .unwrap_or_else(|| panic!("no note: {cs}"));
    assert!(
        note.contains("ANTHROPIC_API_KEY") && note.contains("deterministic curator ran instead"),
        "{note}"
    );
    // And the CLI shows the same record.
    let shown = s.json(&[], &["dreams", "show", &id]);
    assert_eq!(
        shown["changeset"]["curator"]["requested"], "claude-sonnet-4-6",
        "{shown}"
    );
}

#[test]
fn serve_configured_to_refuse_answers_400_naming_the_model() {
    let s = Setup::new();
    let (store, session) = ids(&s);
    let server = Server::start(&s, &[("REVERIE_MODEL_UNCONFIGURED", "refuse")]);
    let (status, e) = server.call("POST", "/v1/dreams", &dream_body(&store, &session));
    assert_eq!(status, 400, "{e}");
    assert_eq!(e["type"], "error", "{e}");
    assert_eq!(e["error"]["type"], "invalid_request_error", "{e}");
    let message = e["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("claude-sonnet-4-6"), "{e}");
    // No dream was recorded.
    let (status, list) = server.call("GET", "/v1/dreams", &Value::Null);
    assert_eq!(status, 200, "{list}");
    assert!(
        list["data"].as_array().is_some_and(|d| d.is_empty()),
        "{list}"
    );
}

/// Through the API, with a provider configured: `POST /v1/dreams` naming the model dreams with
/// it (the contract's `usage` filled from the provider's counts), and the changeset's model
/// exchanges come only when asked for (`?exchanges=true`).
#[test]
fn serve_dreams_with_the_model_the_api_names() {
    let s = Setup::new();
    let (store, session) = ids(&s);
    let mock = Mock::start(|_, req| anthropic_reply(req));
    let server = Server::start(
        &s,
        &[
            ("ANTHROPIC_BASE_URL", mock.base.as_str()),
            ("ANTHROPIC_API_KEY", ANTHROPIC_KEY),
        ],
    );
    let (status, d) = server.call("POST", "/v1/dreams", &dream_body(&store, &session));
    assert_eq!(status, 200, "{d}");
    let id = d["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{d}"))
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    let d = loop {
        let (status, d) = server.call("GET", &format!("/v1/dreams/{id}"), &Value::Null);
        assert_eq!(status, 200, "{d}");
        if matches!(
            d["status"].as_str(),
            Some("completed" | "failed" | "canceled")
        ) {
            break d;
        }
        assert!(Instant::now() < deadline, "the dream never finished: {d}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(d["status"], "completed", "{d}");
    assert_eq!(mock.requests().len(), 1);
    assert!(d["usage"]["input_tokens"].as_i64().unwrap() > 0, "{d}");

    let path = format!("/reverie/v1/dreams/{id}/changeset");
    let (status, cs) = server.call("GET", &path, &Value::Null);
    assert_eq!(status, 200, "{cs}");
    assert_eq!(
        cs["curator"]["curator"], "anthropic:claude-sonnet-4-6",
        "{cs}"
    );
    let none = cs["curator"]["exchanges"]
        .as_array()
        .is_none_or(|x| x.is_empty());
    assert!(none, "exchanges sent unasked: {cs}");
    let (status, full) = server.call("GET", &format!("{path}?exchanges=true"), &Value::Null);
    assert_eq!(status, 200, "{full}");
    let xs = full["curator"]["exchanges"]
        .as_array()
        .unwrap_or_else(|| panic!("{full}"));
    assert_eq!(xs.len(), 1, "{full}");
    assert!(
        xs[0]["request"]["system"]
            .as_str()
            .is_some_and(|t| t.starts_with("You are the curator")),
        "{full}"
    );
    let (status, bad) = server.call("GET", &format!("{path}?exchanges=maybe"), &Value::Null);
    assert_eq!(status, 400, "{bad}");
}

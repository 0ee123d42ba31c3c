//! `reverie serve` with the official Anthropic SDK (2.12.0) as the client, on SQLite and
//! PostgreSQL: every memory-store, memory, memory-version and dream call and the documented
//! errors (`tests/sdk/memory_stores.py`, `dreams.py`), the SDK's memory-folder sync client
//! (`memory_sync.py`), plus what only raw HTTP can send — malformed JSON, an
//! oversized body, an unknown route — API keys (none, unknown, revoked, and a key of another
//! store on every route), and a graceful stop. The official MCP client (`tests/sdk/mcp_tools.py`)
//! drives `reverie mcp` over stdio and `/mcp` over streamable HTTP; raw requests cover what a
//! client would not send to `/mcp`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

struct Server {
    child: Child,
    addr: String,
    database: String,
    /// The secret of a key for every store.
    admin: String,
    _dir: tempfile::TempDir,
}

fn reverie(database: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_reverie"))
        .args(["--database", database])
        .args(args)
        .env("USER", "tester")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

impl Server {
    fn start(postgres: bool) -> Server {
        Server::start_with(postgres, &[])
    }

    fn start_with(postgres: bool, extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let database = if postgres {
            reverie_testkit::pg::fresh_database()
        } else {
            dir.path().join("reverie.db").display().to_string()
        };
        let made: serde_json::Value = serde_json::from_str(&reverie(
            &database,
            &["--json", "keys", "create", "admin", "--all"],
        ))
        .unwrap();
        let admin = made["secret"].as_str().unwrap().to_string();
        let mut child = Command::new(env!("CARGO_BIN_EXE_reverie"))
            .args(["--database", &database, "serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("USER", "tester")
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
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            addr,
            database,
            admin,
            _dir: dir,
        }
    }

    /// One raw HTTP/1.1 request with the admin key; the status and body.
    fn raw(&self, method: &str, path: &str, body: &[u8]) -> (u16, serde_json::Value) {
        self.with_key(Some(&self.admin), method, path, body)
    }

    /// One raw HTTP/1.1 request with `key` (or none); the status and body.
    fn with_key(
        &self,
        key: Option<&str>,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> (u16, serde_json::Value) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        let auth = key
            .map(|k| format!("x-api-key: {k}\r\n"))
            .unwrap_or_default();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr,
            body.len()
        )
        .unwrap();
        // The server may answer (413) before reading the whole body: a failed write is fine.
        let _ = s.write_all(body);
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        let text = String::from_utf8_lossy(&out);
        let status: u16 = text[9..12].parse().unwrap();
        let json = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or_default();
        (
            status,
            serde_json::from_str(json).unwrap_or(serde_json::Value::Null),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `tests/sdk/SCRIPT` against the server with the admin key and `extra` arguments; it
/// must print `ok`.
/// Runs an SDK script under the pinned SDK (`REVERIE_PYTHON`, anthropic 2.12.0) and the
/// current one (`REVERIE_PYTHON_NEXT`, anthropic 2.17.0); scripts/test sets both up.
fn run_sdk_script(server: &Server, script: &str, extra: &[&str]) {
    reverie_testkit::require_python_package("anthropic", "anthropic==2.12.0");
    let next = std::env::var("REVERIE_PYTHON_NEXT").unwrap_or_else(|_| {
        panic!("REVERIE_PYTHON_NEXT is unset: run the tests with scripts/test, which installs anthropic==2.17.0 into target/py-next")
    });
    let path = reverie_testkit::repo_root()
        .join("crates/reverie-cli/tests/sdk")
        .join(script);
    for python in [reverie_testkit::python(), next] {
        let out = Command::new(&python)
            .arg(&path)
            .arg(format!("http://{}", server.addr))
            .arg(&server.admin)
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the SDK script {script} failed under {python}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
    }
}

fn sdk_conformance(postgres: bool) {
    run_sdk_script(&Server::start(postgres), "memory_stores.py", &[]);
}

/// The SDK's memory-folder sync client (`SessionMemoryStores`): local creates, edits and
/// deletes reach the store, the store's edits reach the folder.
fn sdk_memory_folder_sync(postgres: bool) {
    run_sdk_script(&Server::start(postgres), "memory_sync.py", &[]);
}

fn sdk_dreams(postgres: bool) {
    let server = Server::start(postgres);
    reverie(&server.database, &["store", "create", "dreamy"]);
    let session =
        reverie_testkit::repo_root().join("examples/sessions/2026-03-13-staging-db-port.jsonl");
    let ingested: serde_json::Value = serde_json::from_str(&reverie(
        &server.database,
        &[
            "--json",
            "ingest",
            "-s",
            "dreamy",
            session.to_str().unwrap(),
        ],
    ))
    .unwrap();
    let session_id = ingested["files"][0]["session_id"].as_str().unwrap();
    let stores: serde_json::Value =
        serde_json::from_str(&reverie(&server.database, &["--json", "store", "ls"])).unwrap();
    let store_id = stores
        .as_array()
        .or_else(|| stores["data"].as_array())
        .unwrap()
        .iter()
        .find(|s| s["name"] == "dreamy")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    run_sdk_script(&server, "dreams.py", &[&store_id, session_id]);
}

/// reverie's own routes over HTTP, on the demo's store: recall, context, policy, restore and
/// dream review, and the same key scopes.
fn own_routes(postgres: bool) {
    let server = Server::start(postgres);
    reverie(&server.database, &["demo"]);
    let stores: serde_json::Value =
        serde_json::from_str(&reverie(&server.database, &["--json", "store", "ls"])).unwrap();
    let list = stores
        .as_array()
        .or_else(|| stores["data"].as_array())
        .unwrap();
    let demo = list.iter().find(|s| s["name"] == "demo").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let base = format!("/reverie/v1/memory_stores/{demo}");

    let (status, r) = server.raw(
        "POST",
        &format!("{base}/recall"),
        br#"{"query": "staging database port", "limit": 3}"#,
    );
    assert_eq!(status, 200, "{r}");
    let hits = r["data"].as_array().unwrap();
    assert!(!hits.is_empty() && hits.len() <= 3, "{r}");
    assert!(
        hits.iter()
            .any(|h| h["text"].as_str().unwrap().contains("6543")),
        "{r}"
    );
    let (status, r) = server.raw(
        "POST",
        &format!("{base}/recall"),
        br#"{"query": "x", "limit": 0}"#,
    );
    assert_eq!(
        (status, r["error"]["type"].as_str()),
        (400, Some("invalid_request_error"))
    );
    let (status, _) = server.raw("POST", &format!("{base}/recall"), br#"{"quarry": "x"}"#);
    assert_eq!(status, 400, "unknown fields are refused");

    let note = br#"{"text": "The zeppelin hangar code word is bluebird."}"#;
    let (status, r) = server.raw("POST", &format!("{base}/remember"), note);
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (r["path"].as_str(), r["written"].as_bool()),
        (Some("/notes.md"), Some(true)),
        "{r}"
    );
    let (_, r) = server.raw("POST", &format!("{base}/remember"), note);
    assert_eq!(
        r["written"], false,
        "the same note is not written twice: {r}"
    );
    let (_, r) = server.raw(
        "POST",
        &format!("{base}/recall"),
        br#"{"query": "zeppelin hangar", "limit": 1}"#,
    );
    assert_eq!(r["data"][0]["path"], "/notes.md", "{r}");
    let (status, r) = server.raw(
        "POST",
        &format!("{base}/remember"),
        br#"{"text": "token ghp_abcdefghijklmnopqrstuvwxyz0123456789"}"#,
    );
    assert_eq!(
        (status, r["error"]["type"].as_str()),
        (400, Some("invalid_request_error")),
        "{r}"
    );

    let (status, c) = server.raw(
        "POST",
        &format!("{base}/context"),
        br#"{"query": "deploy to staging", "budget": 400, "serve": false}"#,
    );
    assert_eq!(status, 200, "{c}");
    assert!(
        c["tokens"].as_u64().unwrap() <= 400 || c["over_budget"] == true,
        "{c}"
    );
    assert!(!c["text"].as_str().unwrap().is_empty());

    let (status, p) = server.raw("GET", &format!("{base}/policy"), b"");
    assert_eq!(status, 200, "{p}");
    let mut p2 = p.clone();
    p2["budget"]["max_total_bytes"] = serde_json::json!(123_456);
    let (status, p3) = server.raw("PUT", &format!("{base}/policy"), p2.to_string().as_bytes());
    assert_eq!(status, 200, "{p3}");
    assert_eq!(p3["budget"]["max_total_bytes"], 123_456);
    let (status, _) = server.raw("PUT", &format!("{base}/policy"), br#"{"budget": 5}"#);
    assert_eq!(status, 400);

    // Session upload: created, unchanged when sent again, appended when it grew; a large
    // transcript passes the upload's own limit; what is not a transcript is refused.
    let session = std::fs::read(
        reverie_testkit::repo_root().join("examples/sessions/2026-03-13-staging-db-port.jsonl"),
    )
    .unwrap();
    let up = format!("{base}/sessions?source=run-1.jsonl&outcome=success");
    let half = session.len() / 2;
    let cut = half + session[half..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let (status, r) = server.raw("POST", &up, &session[..cut]);
    assert_eq!(
        (status, r["status"].as_str()),
        (200, Some("created")),
        "{r}"
    );
    let sid = r["session_id"].as_str().unwrap().to_string();
    let (status, r) = server.raw("POST", &up, &session[..cut]);
    assert_eq!(
        (status, r["status"].as_str()),
        (200, Some("unchanged")),
        "{r}"
    );
    let (status, r) = server.raw("POST", &up, &session);
    assert_eq!(
        (status, r["status"].as_str()),
        (200, Some("appended")),
        "{r}"
    );
    assert_eq!(r["session_id"], sid.as_str());
    let shown = reverie(&server.database, &["--json", "sessions", "show", &sid]);
    assert!(shown.contains("success"), "the outcome was set");
    let big = session.repeat(reverie_server::MAX_BODY_BYTES / session.len() + 2);
    assert!(big.len() > reverie_server::MAX_BODY_BYTES);
    let (status, r) = server.raw("POST", &format!("{base}/sessions?source=big.jsonl"), &big);
    assert_eq!(status, 200, "{r}");
    let (status, r) = server.raw(
        "POST",
        &format!("{base}/sessions?source=bin"),
        &[0u8, 159, 146, 150, 0, 1, 2],
    );
    assert_eq!(
        (status, r["error"]["type"].as_str()),
        (400, Some("invalid_request_error")),
        "{r}"
    );
    let (status, _) = server.raw("POST", &format!("{base}/sessions"), &session);
    assert_eq!(status, 400, "a source name is required");

    // Drift: the same report as `reverie drift --json`.
    let (status, d) = server.raw("GET", &format!("{base}/drift"), b"");
    assert_eq!(status, 200, "{d}");
    let cli: serde_json::Value = serde_json::from_str(&reverie(
        &server.database,
        &["--json", "drift", "-s", "demo"],
    ))
    .unwrap();
    assert_eq!(d, cli);
    assert!(d["summary"]["ops"]["add"].as_u64().unwrap() > 0, "{d}");
    let (status, d) = server.raw("GET", &format!("{base}/drift?since=999999"), b"");
    assert_eq!(status, 200);
    assert_eq!(
        d["summary"]["lineages"], 0,
        "nothing after that revision: {d}"
    );
    let (status, _) = server.raw("GET", &format!("{base}/drift?since=tuesday"), b"");
    assert_eq!(status, 400);
    let (status, _) = server.raw("GET", &format!("{base}/drift?min_helpful=0"), b"");
    assert_eq!(status, 400);

    // The failure curve: the same as `reverie curve --json`.
    let (status, c) = server.raw("GET", &format!("{base}/curve"), b"");
    assert_eq!(status, 200, "{c}");
    let cli: serde_json::Value = serde_json::from_str(&reverie(
        &server.database,
        &["--json", "curve", "-s", "demo"],
    ))
    .unwrap();
    assert_eq!(c, cli);
    assert!(c["errors"].as_u64().unwrap() > 0, "{c}");
    let (status, c) = server.raw("GET", &format!("{base}/curve?since=2999-01-01"), b"");
    assert_eq!(
        (status, c["points"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{c}"
    );
    let (status, _) = server.raw("GET", &format!("{base}/curve?since=tuesday"), b"");
    assert_eq!(status, 400);

    // Review: the demo's last dream has a changeset; reverting it once works, twice does not.
    let (_, dreams) = server.raw("GET", "/v1/dreams?limit=100", b"");
    let last = dreams["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["status"] == "completed")
        .expect("a completed dream")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, cs) = server.raw("GET", &format!("/reverie/v1/dreams/{last}/changeset"), b"");
    assert_eq!(status, 200, "{cs}");
    assert!(!cs["ops"].as_array().unwrap().is_empty(), "{cs}");
    let (status, d) = server.raw("POST", &format!("/reverie/v1/dreams/{last}/revert"), b"");
    assert_eq!(status, 200, "{d}");
    assert!(d["reverted_revision"].as_i64().is_some(), "{d}");
    let (status, _) = server.raw("POST", &format!("/reverie/v1/dreams/{last}/revert"), b"");
    assert!(status == 400 || status == 409, "{status}");
    let (status, _) = server.raw("POST", &format!("/reverie/v1/dreams/{last}/approve"), b"");
    assert!(status == 400 || status == 409, "not a proposal: {status}");

    // Restore the whole store to revision 1, then one memory to its first version.
    let (status, rep) = server.raw("POST", &format!("{base}/restore"), br#"{"revision": 1}"#);
    assert_eq!(status, 200, "{rep}");
    assert_eq!(rep["memory_store_id"], demo.as_str());
    let (_, versions) = server.raw(
        "GET",
        &format!("/v1/memory_stores/{demo}/memory_versions?limit=100"),
        b"",
    );
    let first = versions["data"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|v| v["operation"] == "created")
        .unwrap();
    let (status, rep) = server.raw(
        "POST",
        &format!(
            "{base}/memories/{}/restore",
            first["memory_id"].as_str().unwrap()
        ),
        format!(
            r#"{{"memory_version_id": "{}"}}"#,
            first["id"].as_str().unwrap()
        )
        .as_bytes(),
    );
    assert_eq!(status, 200, "{rep}");

    // A key of another store sees none of it.
    reverie(&server.database, &["store", "create", "other"]);
    let made: serde_json::Value = serde_json::from_str(&reverie(
        &server.database,
        &["--json", "keys", "create", "o", "-s", "other"],
    ))
    .unwrap();
    let key = made["secret"].as_str().unwrap();
    for (method, path, body) in [
        ("POST", format!("{base}/recall"), r#"{"query": "staging"}"#),
        ("POST", format!("{base}/context"), "{}"),
        (
            "POST",
            format!("{base}/remember"),
            r#"{"text": "mine now"}"#,
        ),
        ("GET", format!("{base}/policy"), ""),
        ("GET", format!("{base}/drift"), ""),
        ("POST", format!("{base}/sessions?source=x"), "User: hello"),
        ("POST", format!("{base}/restore"), r#"{"revision": 1}"#),
        ("GET", format!("/reverie/v1/dreams/{last}/changeset"), ""),
        ("POST", format!("/reverie/v1/dreams/{last}/revert"), ""),
    ] {
        let (status, b) = server.with_key(Some(key), method, &path, body.as_bytes());
        assert_eq!(status, 404, "{method} {path}: {b}");
    }
}

/// `reverie serve --queue-dreams` leaves API dreams pending; racing workers run each once.
fn queued_dreams_are_run_by_workers(postgres: bool) {
    let server = Server::start_with(postgres, &["--queue-dreams"]);
    reverie(&server.database, &["store", "create", "q"]);
    let session =
        reverie_testkit::repo_root().join("examples/sessions/2026-03-13-staging-db-port.jsonl");
    let ingested: serde_json::Value = serde_json::from_str(&reverie(
        &server.database,
        &["--json", "ingest", "-s", "q", session.to_str().unwrap()],
    ))
    .unwrap();
    let sid = ingested["files"][0]["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, stores) = server.raw("GET", "/v1/memory_stores", b"");
    let store = stores["data"][0]["id"].as_str().unwrap().to_string();
    let body = format!(
        r#"{{"inputs": [{{"type": "memory_store", "memory_store_id": "{store}"}},
            {{"type": "sessions", "session_ids": ["{sid}"]}}], "model": "m",
            "output_behavior": {{"type": "update_existing", "memory_store_id": "{store}"}}}}"#
    );
    let (status, d) = server.raw("POST", "/v1/dreams", body.as_bytes());
    assert_eq!(status, 200, "{d}");
    let id = d["id"].as_str().unwrap().to_string();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (_, d) = server.raw("GET", &format!("/v1/dreams/{id}"), b"");
    assert_eq!(
        d["status"], "pending",
        "the server leaves it to workers: {d}"
    );

    let workers: Vec<_> = (0..2)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_reverie"))
                .args(["--database", &server.database, "--json", "worker", "--once"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ran = Vec::new();
    for w in workers {
        let out = w.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        ran.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()),
        );
    }
    assert_eq!(ran.len(), 1, "one worker ran it: {ran:?}");
    assert_eq!(ran[0]["dream_id"], id.as_str());
    let (_, d) = server.raw("GET", &format!("/v1/dreams/{id}"), b"");
    assert_eq!(d["status"], "completed", "{d}");
}

fn raw_http_errors_have_the_contract_body(postgres: bool) {
    let server = Server::start(postgres);
    let (status, body) = server.raw("POST", "/v1/memory_stores", b"{\"name\": ");
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    let (status, body) = server.raw("POST", "/v1/memory_stores", b"{\"name\": \"a\"}");
    assert_eq!(status, 200, "{body}");
    let store = body["id"].as_str().unwrap().to_string();
    let huge = format!(
        "{{\"path\": \"/a.md\", \"content\": \"{}\"}}",
        "x".repeat(reverie_server::MAX_BODY_BYTES)
    );
    let (status, body) = server.raw(
        "POST",
        &format!("/v1/memory_stores/{store}/memories"),
        huge.as_bytes(),
    );
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["type"], "request_too_large");
    let (status, body) = server.raw("GET", "/v1/nope", b"");
    assert_eq!(status, 404);
    assert_eq!(body["error"]["type"], "not_found_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/v1/nope")
    );
    let (status, body) = server.raw(
        "GET",
        &format!("/v1/memory_stores/{store}/memories?limit=ten"),
        b"",
    );
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("limit"));
    // Nothing of the refused requests was written.
    let (_, body) = server.raw("GET", &format!("/v1/memory_stores/{store}/memories"), b"");
    assert_eq!(body["data"], serde_json::json!([]), "{body}");
}

fn sigterm_stops_the_server_cleanly(postgres: bool) {
    let mut server = Server::start(postgres);
    let (status, _) = server.raw("GET", "/v1/memory_stores", b"");
    assert_eq!(status, 200);
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "a graceful stop exits 0");
}

fn keys_confine_callers_to_their_stores(postgres: bool) {
    let server = Server::start(postgres);
    let mk = |name: &str| {
        let (status, body) = server.raw(
            "POST",
            "/v1/memory_stores",
            format!("{{\"name\": \"{name}\"}}").as_bytes(),
        );
        assert_eq!(status, 200, "{body}");
        body["id"].as_str().unwrap().to_string()
    };
    let (mine, theirs) = (mk("mine"), mk("theirs"));
    let mut ids = Vec::new();
    for store in [&mine, &theirs] {
        let (status, m) = server.raw(
            "POST",
            &format!("/v1/memory_stores/{store}/memories"),
            b"{\"path\": \"/a.md\", \"content\": \"x\"}",
        );
        assert_eq!(status, 200, "{m}");
        let (_, v) = server.raw(
            "GET",
            &format!("/v1/memory_stores/{store}/memory_versions"),
            b"",
        );
        ids.push((
            m["id"].as_str().unwrap().to_string(),
            v["data"][0]["id"].as_str().unwrap().to_string(),
        ));
    }
    let made: serde_json::Value = serde_json::from_str(&reverie(
        &server.database,
        &["--json", "keys", "create", "scoped", "-s", "mine"],
    ))
    .unwrap();
    let key = made["secret"].as_str().unwrap().to_string();
    let key_id = made["key"]["id"].as_str().unwrap().to_string();

    // Every route that names a store, with the other store: 404, as if it did not exist.
    let routes = |store: &str, (mem, ver): &(String, String)| {
        vec![
            ("GET", format!("/v1/memory_stores/{store}"), String::new()),
            (
                "POST",
                format!("/v1/memory_stores/{store}"),
                r#"{"name": "x"}"#.to_string(),
            ),
            (
                "POST",
                format!("/v1/memory_stores/{store}/archive"),
                String::new(),
            ),
            (
                "GET",
                format!("/v1/memory_stores/{store}/memories"),
                String::new(),
            ),
            (
                "POST",
                format!("/v1/memory_stores/{store}/memories"),
                r#"{"path": "/b.md", "content": "y"}"#.to_string(),
            ),
            (
                "GET",
                format!("/v1/memory_stores/{store}/memories/{mem}"),
                String::new(),
            ),
            (
                "POST",
                format!("/v1/memory_stores/{store}/memories/{mem}"),
                r#"{"content": "z"}"#.to_string(),
            ),
            (
                "GET",
                format!("/v1/memory_stores/{store}/memory_versions"),
                String::new(),
            ),
            (
                "GET",
                format!("/v1/memory_stores/{store}/memory_versions/{ver}"),
                String::new(),
            ),
            (
                "POST",
                format!("/v1/memory_stores/{store}/memory_versions/{ver}/redact"),
                String::new(),
            ),
            (
                "DELETE",
                format!("/v1/memory_stores/{store}/memories/{mem}"),
                String::new(),
            ),
            (
                "DELETE",
                format!("/v1/memory_stores/{store}"),
                String::new(),
            ),
        ]
    };
    for (method, path, body) in routes(&theirs, &ids[1]) {
        let (status, b) = server.with_key(Some(&key), method, &path, body.as_bytes());
        assert_eq!(status, 404, "{method} {path}: {b}");
        assert_eq!(b["error"]["type"], "not_found_error", "{method} {path}");
    }
    // Dreams: one over the other store does not exist for the key; a create_new dream over
    // its own would make a store it cannot see (403).
    let dream = |store: &str| {
        format!(
            r#"{{"inputs": [{{"type": "memory_store", "memory_store_id": "{store}"}},
                {{"type": "sessions", "session_ids": ["sesn_0000000000000000000000"]}}],
                "model": "m"}}"#
        )
    };
    let (status, b) = server.with_key(Some(&key), "POST", "/v1/dreams", dream(&theirs).as_bytes());
    assert_eq!(status, 404, "{b}");
    let (status, b) = server.with_key(Some(&key), "POST", "/v1/dreams", dream(&mine).as_bytes());
    assert_eq!(
        (status, b["error"]["type"].as_str()),
        (403, Some("permission_error")),
        "{b}"
    );
    // The other store is untouched: its memory and its store are there, unchanged.
    let (status, m) = server.raw(
        "GET",
        &format!("/v1/memory_stores/{theirs}/memories/{}", ids[1].0),
        b"",
    );
    assert_eq!((status, m["content"].as_str()), (200, Some("x")), "{m}");
    // Its own store: the same routes work (redacting the current version is refused by rule,
    // archive and delete come last).
    for (method, path, body) in routes(&mine, &ids[0]) {
        let (status, b) = server.with_key(Some(&key), method, &path, body.as_bytes());
        assert_ne!(status, 404, "{method} {path}: {b}");
        assert_ne!(status, 401, "{method} {path}: {b}");
    }
    // Listing shows only its stores; creating a store needs a key for every store.
    let (_, listed) = server.raw("GET", "/v1/memory_stores?include_archived=true", b"");
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "{listed}");
    let (_, listed) = server.with_key(
        Some(&key),
        "GET",
        "/v1/memory_stores?include_archived=true",
        b"",
    );
    assert_eq!(
        listed["data"],
        serde_json::json!([]),
        "its store was deleted: {listed}"
    );
    let (status, b) = server.with_key(Some(&key), "POST", "/v1/memory_stores", br#"{"name": "n"}"#);
    assert_eq!(
        (status, b["error"]["type"].as_str()),
        (403, Some("permission_error")),
        "{b}"
    );

    // No key, an unknown key, a revoked key: 401 with the contract's body.
    let (status, b) = server.with_key(None, "GET", "/v1/memory_stores", b"");
    assert_eq!(
        (status, b["error"]["type"].as_str()),
        (401, Some("authentication_error")),
        "{b}"
    );
    let (status, _) = server.with_key(Some("rvk_nope"), "GET", "/v1/memory_stores", b"");
    assert_eq!(status, 401);
    reverie(&server.database, &["keys", "revoke", &key_id]);
    let (status, b) = server.with_key(Some(&key), "GET", "/v1/memory_stores", b"");
    assert_eq!(status, 401);
    assert!(
        b["error"]["message"].as_str().unwrap().contains("revoked"),
        "{b}"
    );
    // Changes made with a key are recorded as made by it.
    let (_, v) = server.raw(
        "GET",
        &format!("/v1/memory_stores/{theirs}/memory_versions"),
        b"",
    );
    assert_eq!(v["data"][0]["created_by"]["type"], "api_actor", "{v}");
}

/// A new store's id, made through the CLI.
fn new_store(database: &str, name: &str) -> String {
    let made: serde_json::Value =
        serde_json::from_str(&reverie(database, &["--json", "store", "create", name])).unwrap();
    made["id"].as_str().unwrap().to_string()
}

/// Runs `tests/sdk/mcp_tools.py` with the official MCP client; it must print `ok`.
fn run_mcp_script(args: &[&str]) {
    reverie_testkit::require_python_package("anthropic", "anthropic==2.12.0");
    reverie_testkit::require_python_package("mcp", "mcp==2.3.0");
    let script = reverie_testkit::repo_root().join("crates/reverie-cli/tests/sdk/mcp_tools.py");
    let out = Command::new(reverie_testkit::python())
        .arg(&script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mcp_tools.py {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
}

/// Who made each version of a store's memories: `created_by` types and ids.
fn version_actors(server: &Server, store: &str) -> Vec<serde_json::Value> {
    let (status, v) = server.raw(
        "GET",
        &format!("/v1/memory_stores/{store}/memory_versions?limit=100"),
        b"",
    );
    assert_eq!(status, 200, "{v}");
    let data = v["data"].as_array().unwrap();
    assert!(!data.is_empty(), "no versions in {store}");
    data.iter().map(|x| x["created_by"].clone()).collect()
}

/// `reverie mcp --store S` under the official MCP client, in both protocol negotiations; its
/// writes are recorded as the local user's.
fn mcp_over_stdio(postgres: bool) {
    let server = Server::start(postgres);
    for mode in ["auto", "legacy"] {
        let name = format!("mcp {mode}");
        let store = new_store(&server.database, &name);
        let bin = env!("CARGO_BIN_EXE_reverie");
        run_mcp_script(&["stdio", mode, bin, &server.database, &name]);
        for by in version_actors(&server, &store) {
            assert_eq!(by["type"], "user_actor", "{by}");
        }
    }
}

/// `/mcp` on `reverie serve` under the official MCP client, in both protocol negotiations:
/// the tools, the key check, and a key confined to another store.
fn mcp_over_http(postgres: bool) {
    let server = Server::start(postgres);
    for mode in ["auto", "legacy"] {
        let name = format!("mcp {mode}");
        let store = new_store(&server.database, &name);
        let other = new_store(&server.database, &format!("other-{mode}"));
        let made: serde_json::Value = serde_json::from_str(&reverie(
            &server.database,
            &["--json", "keys", "create", "scoped", "-s", &other],
        ))
        .unwrap();
        let scoped = made["secret"].as_str().unwrap();
        let base = format!("http://{}", server.addr);
        run_mcp_script(&[
            "http",
            mode,
            &base,
            &server.admin,
            &store,
            &name,
            scoped,
            &other,
        ]);
        for by in version_actors(&server, &store) {
            assert_eq!(by["type"], "api_actor", "{by}");
            assert_ne!(by["api_key_id"], made["key"]["id"], "{by}");
        }
        // The scoped key's note went to its own store, recorded as made by it.
        let theirs = version_actors(&server, &other);
        assert_eq!(theirs.len(), 1, "{theirs:?}");
        assert_eq!(theirs[0]["api_key_id"], made["key"]["id"]);
    }
}

/// One raw MCP POST to `/mcp?store=…` with `key` and the headers a client sends (`accept`
/// only when `accepts`); the status and the body as text.
fn mcp_raw(server: &Server, key: Option<&str>, accepts: bool, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(&server.addr).unwrap();
    let mut headers = String::new();
    if let Some(k) = key {
        headers.push_str(&format!("x-api-key: {k}\r\n"));
    }
    if accepts {
        headers.push_str("accept: application/json, text/event-stream\r\n");
    }
    write!(
        s,
        "POST /mcp?store=x HTTP/1.1\r\nHost: {}\r\n{headers}content-type: application/json\r\nmcp-protocol-version: 2025-06-18\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        server.addr,
        body.len()
    )
    .unwrap();
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).to_string();
    let status: u16 = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// What only a raw client can send to `/mcp`: no key, a wrong key, no `accept`, malformed
/// JSON, an oversized body, an unknown method. Each is refused with a status and a message.
fn mcp_bad_requests(postgres: bool) {
    let server = Server::start(postgres);
    let list = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    let (status, _) = mcp_raw(&server, Some(&server.admin), true, list);
    assert_eq!(status, 200);
    let (status, body) = mcp_raw(&server, None, true, list);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("authentication_error"), "{body}");
    let (status, body) = mcp_raw(&server, Some("rvk_wrong"), true, list);
    assert_eq!(status, 401, "{body}");
    let (status, body) = mcp_raw(&server, Some(&server.admin), false, list);
    assert_eq!(status, 406, "{body}");
    assert!(body.contains("accept"), "{body}");
    let (status, body) = mcp_raw(&server, Some(&server.admin), true, br#"{"jsonrpc":"#);
    assert!((400..500).contains(&status), "{status} {body}");
    // A JSON-RPC parse error, as JSON-RPC has it (rmcp alone answered a bare 415).
    assert!(body.contains("-32700"), "{body}");
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"remember","arguments":{{"text":"{}"}}}}}}"#,
        "a".repeat(reverie_server::MAX_BODY_BYTES)
    );
    let (status, body) = mcp_raw(&server, Some(&server.admin), true, big.as_bytes());
    assert_eq!(status, 413, "{body}");
    let (status, body) = mcp_raw(
        &server,
        Some(&server.admin),
        true,
        br#"{"jsonrpc":"2.0","id":1,"method":"no/such"}"#,
    );
    assert_eq!(status, 200);
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["error"]["code"], -32601, "{body}");
}

both!(
    sdk_conformance,
    sdk_dreams,
    sdk_memory_folder_sync,
    own_routes,
    queued_dreams_are_run_by_workers,
    raw_http_errors_have_the_contract_body,
    keys_confine_callers_to_their_stores,
    sigterm_stops_the_server_cleanly,
    mcp_over_stdio,
    mcp_over_http,
    mcp_bad_requests
);

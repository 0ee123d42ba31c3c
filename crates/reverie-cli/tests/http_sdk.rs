//! `reverie serve` with the official Anthropic SDK (2.12.0) as the client, on SQLite and
//! PostgreSQL: every memory-store, memory and memory-version call and the documented errors
//! (`tests/sdk/memory_stores.py`), plus what only raw HTTP can send — malformed JSON, an
//! oversized body, an unknown route — and a graceful stop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

struct Server {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(postgres: bool) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let database = if postgres {
            reverie_testkit::pg::fresh_database()
        } else {
            dir.path().join("reverie.db").display().to_string()
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_reverie"))
            .args(["--database", &database, "serve", "--listen", "127.0.0.1:0"])
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
            _dir: dir,
        }
    }

    /// One raw HTTP/1.1 request; the status and body.
    fn raw(&self, method: &str, path: &str, body: &[u8]) -> (u16, serde_json::Value) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
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

fn sdk_conformance(postgres: bool) {
    reverie_testkit::require_python_package("anthropic", "anthropic==2.12.0");
    let server = Server::start(postgres);
    let script = reverie_testkit::repo_root().join("crates/reverie-cli/tests/sdk/memory_stores.py");
    let out = Command::new(reverie_testkit::python())
        .arg(&script)
        .arg(format!("http://{}", server.addr))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the SDK conformance script failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
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

#[test]
fn a_non_loopback_address_is_refused_without_keys() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db").display().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_reverie"))
        .args(["--database", &db, "serve", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}

macro_rules! both {
    ($($name:ident),+) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(false);
            }
            #[test]
            fn postgres() {
                super::$name(true);
            }
        }
    )+};
}

both!(
    sdk_conformance,
    raw_http_errors_have_the_contract_body,
    sigterm_stops_the_server_cleanly
);

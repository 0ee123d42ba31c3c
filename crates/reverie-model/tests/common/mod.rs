//! A local HTTP server standing in for a model API: it records every request (method, path,
//! headers, body) for the test to check field by field, and answers what the test's responder
//! says, optionally after a delay. It also counts the requests whose handler was dropped before
//! answering — the server seeing the client go away.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use reverie_model::{HttpOptions, ModelRequest};
use serde_json::{Value, json};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What the server answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply::raw(status, body.to_string())
    }

    pub fn raw(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", "application/json".to_string())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_string()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

type Responder = dyn Fn(usize, &Recorded) -> Reply + Send + Sync;

struct Shared {
    requests: Mutex<Vec<(Instant, Recorded)>>,
    responder: Box<Responder>,
    dropped: AtomicUsize,
}

/// The running server; it lives as long as the test's runtime.
pub struct MockServer {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    shared: Arc<Shared>,
}

/// Counts a handler dropped before it answered.
struct DropGuard {
    shared: Arc<Shared>,
    armed: bool,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if self.armed {
            self.shared.dropped.fetch_add(1, Ordering::SeqCst);
        }
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let recorded = Recorded {
        method,
        path: uri.path().to_string(),
        headers,
        body: serde_json::from_slice(&body)
            .unwrap_or_else(|_| json!({"<not json>": String::from_utf8_lossy(&body)})),
    };
    let attempt = {
        let mut requests = shared.requests.lock().unwrap();
        requests.push((Instant::now(), recorded.clone()));
        requests.len() - 1
    };
    let reply = (shared.responder)(attempt, &recorded);
    let mut guard = DropGuard {
        shared: shared.clone(),
        armed: true,
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    guard.armed = false;
    let mut response = (
        StatusCode::from_u16(reply.status).unwrap(),
        reply.body.clone(),
    )
        .into_response();
    for (name, value) in &reply.headers {
        response.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    response
}

impl MockServer {
    /// Starts a server on 127.0.0.1 answering request number `n` (from 0) with `responder(n,
    /// request)`.
    pub async fn start(
        responder: impl Fn(usize, &Recorded) -> Reply + Send + Sync + 'static,
    ) -> MockServer {
        let shared = Arc::new(Shared {
            requests: Mutex::new(Vec::new()),
            responder: Box::new(responder),
            dropped: AtomicUsize::new(0),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        MockServer { base, shared }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        let requests = self.shared.requests.lock().unwrap();
        requests.iter().map(|(_, r)| r.clone()).collect()
    }

    /// When each request arrived.
    pub fn arrivals(&self) -> Vec<Instant> {
        let requests = self.shared.requests.lock().unwrap();
        requests.iter().map(|(at, _)| *at).collect()
    }

    pub fn attempts(&self) -> usize {
        self.shared.requests.lock().unwrap().len()
    }

    /// Requests whose handler was dropped before answering (the client went away).
    pub fn dropped(&self) -> usize {
        self.shared.dropped.load(Ordering::SeqCst)
    }
}

/// A request like the curator's: a stable system prompt, a user message, a strict schema.
pub fn request() -> ModelRequest {
    ModelRequest {
        system: "You curate an agent's memory. Answer with the curation tool only.".to_string(),
        user: "Entries:\n- [e1] Use `cargo nextest`.\n- [e2] Use cargo nextest for tests.\n"
            .to_string(),
        schema_name: "curation".to_string(),
        schema: json!({
            "type": "object",
            "properties": {
                "keep": {"type": "array", "items": {"type": "string"}},
                "merge": {"type": "array", "items": {"type": "string"}}
            },
            "required": ["keep", "merge"],
            "additionalProperties": false
        }),
        max_tokens: 1024,
    }
}

/// Options for tests: a short backoff so retries take milliseconds.
pub fn fast(timeout: Duration, max_retries: u32) -> HttpOptions {
    HttpOptions {
        timeout,
        max_retries,
        retry_base: Duration::from_millis(2),
    }
}

/// Waits (up to `limit`) for `condition`.
pub async fn eventually(limit: Duration, condition: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    condition()
}

//! Regression tests of the hardening issue, against `serve_with` on a real socket, on SQLite
//! and on a throwaway PostgreSQL cluster: forged list cursors, unknown body fields, a scoped
//! key and other stores' dreams and sessions, slow and oversized requests, and the error bodies
//! of what axum, hyper and rmcp used to answer on their own.

use std::sync::Arc;
use std::time::Duration;

use reverie_server::{AppState, ServeOptions};
use reverie_store::{NewSession, NewStore, Store};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Server {
    addr: String,
    store: Arc<dyn Store>,
    admin: String,
    _dir: tempfile::TempDir,
}

async fn start(postgres: bool) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = if postgres {
        tokio::task::spawn_blocking(reverie_testkit::pg::fresh_database)
            .await
            .unwrap()
    } else {
        dir.path().join("reverie.db").display().to_string()
    };
    let store = reverie_store::open(&url).await.unwrap();
    let (_, admin) = store.create_api_key("admin", None).await.unwrap();
    let runner = Arc::new(reverie_dream::Runner::new(
        store.clone(),
        Arc::new(reverie_curate::Deterministic),
    ));
    let state = AppState {
        store: store.clone(),
        runner,
        queue_dreams: true,
        ui: Default::default(),
        drift: Default::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let options = ServeOptions {
        header_read_timeout: Duration::from_secs(1),
        ..ServeOptions::default()
    };
    tokio::spawn(reverie_server::serve_with(
        listener,
        state,
        options,
        std::future::pending(),
    ));
    Server {
        addr,
        store,
        admin,
        _dir: dir,
    }
}

/// Reads until the server closes the connection; a generous bound only keeps a broken server
/// from hanging the suite.
async fn read_all(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut out))
        .await
        .expect("the server closes the connection")
        .ok();
    String::from_utf8_lossy(&out).into_owned()
}

fn parse(text: &str) -> (u16, Value) {
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

impl Server {
    /// One request; `head` holds extra header lines, each ending in CRLF.
    async fn send(&self, method: &str, target: &str, head: &str, body: &[u8]) -> (u16, Value) {
        let mut s = TcpStream::connect(&self.addr).await.unwrap();
        let req = format!(
            "{method} {target} HTTP/1.1\r\nHost: x\r\n{head}Content-Type: application/json\r\n\
             Accept: application/json, text/event-stream\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let _ = s.write_all(body).await;
        parse(&read_all(&mut s).await)
    }

    async fn call(&self, key: &str, method: &str, target: &str, body: Value) -> (u16, Value) {
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        self.send(method, target, &format!("x-api-key: {key}\r\n"), &body)
            .await
    }

    async fn admin(&self, method: &str, target: &str, body: Value) -> (u16, Value) {
        self.call(&self.admin.clone(), method, target, body).await
    }

    async fn new_store(&self, name: &str) -> String {
        self.store
            .create_store(NewStore {
                name: name.into(),
                description: String::new(),
                metadata: Default::default(),
                max_memories: None,
            })
            .await
            .unwrap()
            .id
    }

    async fn new_session(&self, store: &str, source: &str) -> String {
        self.store
            .create_session(NewSession {
                store_id: store.into(),
                source_format: reverie_core::session::SourceFormat::ClaudeCode,
                source_path: Some(source.into()),
                outcome: None,
            })
            .await
            .unwrap()
            .id
    }
}

fn invalid(status: u16, body: &Value, names: &str) {
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(names), "{message} should name {names}");
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(false).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(true).await })*
        }
    };
}

both_backends!(
    forged_list_cursors_are_refused,
    unknown_body_fields_are_refused,
    scoped_keys_never_see_other_stores_dreams_or_sessions,
    slow_and_oversized_requests_are_cut_off,
    errors_all_have_json_bodies,
    keys_are_read_leniently_and_archived_policies_refused,
    written_secrets_are_refused,
    concurrent_remembers_all_get_in,
);

/// Finding 2: a cursor pointing outside the listing's prefix made the handler panic (slicing a
/// path shorter than the prefix), or, with a depth, list made-up prefixes.
async fn forged_list_cursors_are_refused(postgres: bool) {
    let srv = start(postgres).await;
    let store = srv.new_store("s").await;
    for path in ["/a.md", "/secret/x.md", "/secret/y/z.md"] {
        let (st, b) = srv
            .admin(
                "POST",
                &format!("/v1/memory_stores/{store}/memories"),
                json!({"path": path, "content": "x"}),
            )
            .await;
        assert_eq!(st, 200, "{b}");
    }
    for depth in [0, 1] {
        // A position outside the prefix, and a kind no listing makes.
        for cursor in [
            json!({"k": "f", "s": "/", "p": "/secret/", "d": depth}),
            json!({"k": "z", "s": "/secret/", "p": "/secret/", "d": depth}),
        ] {
            let forged = reverie_core::page::encode_cursor(&cursor);
            let (st, b) = srv
                .admin(
                    "GET",
                    &format!(
                        "/v1/memory_stores/{store}/memories?path_prefix=/secret/&depth={depth}&page={forged}"
                    ),
                    Value::Null,
                )
                .await;
            invalid(st, &b, "page");
        }
    }
    // Real cursors still page through.
    let (st, b) = srv
        .admin(
            "GET",
            &format!("/v1/memory_stores/{store}/memories?path_prefix=/secret/&limit=1"),
            Value::Null,
        )
        .await;
    assert_eq!(st, 200, "{b}");
    let next = b["next_page"].as_str().unwrap().to_string();
    let (st, b) = srv
        .admin(
            "GET",
            &format!("/v1/memory_stores/{store}/memories?path_prefix=/secret/&limit=1&page={next}"),
            Value::Null,
        )
        .await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["data"][0]["path"], "/secret/y/z.md");
}

/// Finding 9: a misspelled field was ignored, so `precondtion` made a guarded update an
/// unconditional one and `contnet` created an empty memory.
async fn unknown_body_fields_are_refused(postgres: bool) {
    let srv = start(postgres).await;
    let store = srv.new_store("s").await;
    let memories = format!("/v1/memory_stores/{store}/memories");
    let (st, b) = srv
        .admin("POST", &memories, json!({"path": "/a.md", "contnet": "x"}))
        .await;
    invalid(st, &b, "contnet");
    let (_, list) = srv.admin("GET", &memories, Value::Null).await;
    assert_eq!(list["data"], json!([]), "nothing was created");

    let (st, m) = srv
        .admin(
            "POST",
            &memories,
            json!({"path": "/a.md", "content": "one"}),
        )
        .await;
    assert_eq!(st, 200, "{m}");
    let id = m["id"].as_str().unwrap();
    let wrong = "0".repeat(64);
    let (st, b) = srv
        .admin(
            "POST",
            &format!("{memories}/{id}"),
            json!({"content": "two", "precondtion": {"type": "content_sha256", "content_sha256": wrong}}),
        )
        .await;
    invalid(st, &b, "precondtion");
    let (st, b) = srv
        .admin(
            "POST",
            &format!("{memories}/{id}"),
            json!({"content": "two", "precondition": {"type": "content_sha256", "content_sha256": wrong, "x": 1}}),
        )
        .await;
    invalid(st, &b, "`x`");
    let (_, got) = srv
        .admin("GET", &format!("{memories}/{id}"), Value::Null)
        .await;
    assert_eq!(got["content"], "one", "the memory was not overwritten");
    let (st, b) = srv
        .admin(
            "POST",
            "/v1/memory_stores",
            json!({"name": "n", "metadta": {}}),
        )
        .await;
    invalid(st, &b, "metadta");
    let (st, b) = srv
        .admin(
            "POST",
            &format!("/v1/memory_stores/{store}"),
            json!({"nmae": "n"}),
        )
        .await;
    invalid(st, &b, "nmae");
}

/// Finding 7: a scoped key's dream pages carried cursors naming other stores' dreams, and
/// another store's session id was answered with that store's id.
async fn scoped_keys_never_see_other_stores_dreams_or_sessions(postgres: bool) {
    let srv = start(postgres).await;
    let mine = srv.new_store("mine").await;
    let theirs = srv.new_store("theirs").await;
    let my_session = srv.new_session(&mine, "a.jsonl").await;
    let their_session = srv.new_session(&theirs, "b.jsonl").await;
    let (_, scoped) = srv
        .store
        .create_api_key("scoped", Some(vec![mine.clone()]))
        .await
        .unwrap();
    let mut my_dreams = Vec::new();
    // Theirs, mine, theirs, theirs: newest first, the scoped key's one dream sits between.
    for (store, session) in [
        (&theirs, &their_session),
        (&mine, &my_session),
        (&theirs, &their_session),
        (&theirs, &their_session),
    ] {
        let (st, d) = srv
            .admin(
                "POST",
                "/v1/dreams",
                json!({"model": "reverie-deterministic", "inputs": [
                    {"type": "memory_store", "memory_store_id": store},
                    {"type": "sessions", "session_ids": [session]}]}),
            )
            .await;
        assert_eq!(st, 200, "{d}");
        if store == &mine {
            my_dreams.push(d["id"].as_str().unwrap().to_string());
        }
    }
    let mut seen = Vec::new();
    let mut page: Option<String> = None;
    loop {
        let target = match &page {
            None => "/v1/dreams?limit=1".to_string(),
            Some(p) => format!("/v1/dreams?limit=1&page={p}"),
        };
        let (st, b) = srv.call(&scoped, "GET", &target, Value::Null).await;
        assert_eq!(st, 200, "{b}");
        for d in b["data"].as_array().unwrap() {
            seen.push(d["id"].as_str().unwrap().to_string());
        }
        match b["next_page"].as_str() {
            Some(next) => {
                let (_, id): (i64, String) = reverie_core::page::decode_cursor(next).unwrap();
                assert!(
                    my_dreams.contains(&id),
                    "the cursor names {id}, not the key's"
                );
                page = Some(next.to_string());
            }
            None => break,
        }
    }
    assert_eq!(seen, my_dreams);

    let hidden = |st: u16, b: &Value| {
        assert_eq!(st, 404, "{b}");
        assert_eq!(b["error"]["type"], "not_found_error", "{b}");
        assert!(
            !b.to_string().contains(&theirs),
            "{b} names the other store"
        );
    };
    for route in ["recall", "context"] {
        let mut body = json!({"session_id": their_session});
        if route == "recall" {
            body["query"] = json!("anything");
        }
        let (st, b) = srv
            .call(
                &scoped,
                "POST",
                &format!("/reverie/v1/memory_stores/{mine}/{route}"),
                body,
            )
            .await;
        hidden(st, &b);
    }
    let (st, b) = srv
        .call(
            &scoped,
            "POST",
            "/v1/dreams",
            json!({"model": "reverie-deterministic",
                "output_behavior": {"type": "update_existing", "memory_store_id": mine},
                "inputs": [{"type": "memory_store", "memory_store_id": mine},
                {"type": "sessions", "session_ids": [their_session]}]}),
        )
        .await;
    hidden(st, &b);
}

/// Finding 3: a client that sends half its headers is disconnected once the header-read timeout
/// passes, and a declared body over the limit is refused from its header alone.
async fn slow_and_oversized_requests_are_cut_off(postgres: bool) {
    let srv = start(postgres).await;
    let mut s = TcpStream::connect(&srv.addr).await.unwrap();
    s.write_all(b"GET /v1/memory_stores HTTP/1.1\r\nHost: x\r\nx-api-")
        .await
        .unwrap();
    // The connection ends (hyper may say 408 first); on the old server it stayed open.
    let got = read_all(&mut s).await;
    assert!(got.is_empty() || got.starts_with("HTTP/1.1 408"), "{got}");

    // Only the head is sent: the answer cannot wait for the body.
    let store = srv.new_store("s").await;
    for (route, limit) in [
        (
            format!("/v1/memory_stores/{store}/memories"),
            reverie_server::MAX_BODY_BYTES,
        ),
        (
            format!("/reverie/v1/memory_stores/{store}/sessions?source=a"),
            64 * 1024 * 1024,
        ),
    ] {
        let mut s = TcpStream::connect(&srv.addr).await.unwrap();
        let head = format!(
            "POST {route} HTTP/1.1\r\nHost: x\r\nx-api-key: {}\r\nContent-Length: {}\r\n\r\n",
            srv.admin,
            limit + 1
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let (st, b) = parse(&read_all(&mut s).await);
        assert_eq!(st, 413, "{b}");
        assert_eq!(b["error"]["type"], "request_too_large");
        // The route's own limit, not another's (nor advice about a CLI flag).
        let message = b["error"]["message"].as_str().unwrap();
        assert!(message.contains(&limit.to_string()), "{message}");
    }
}

/// Finding 10: 405, 414, 431 and a path that does not decode had no JSON body, and `/mcp`
/// answered malformed JSON with a bare 415.
async fn errors_all_have_json_bodies(postgres: bool) {
    let srv = start(postgres).await;
    let store = srv.new_store("s").await;
    let json_error = |st: u16, b: &Value, want: u16| {
        assert_eq!(st, want, "{b}");
        assert_eq!(b["type"], "error", "{st}: {b}");
        assert!(b["error"]["message"].as_str().is_some(), "{b}");
    };
    let (st, b) = srv.admin("PUT", "/v1/memory_stores", Value::Null).await;
    json_error(st, &b, 405);
    let (st, b) = srv
        .admin("GET", "/v1/memory_stores/memstore_%FF%FE", Value::Null)
        .await;
    json_error(st, &b, 400);
    let long = format!("/v1/memory_stores/{store}?x={}", "a".repeat(20_000));
    let (st, b) = srv.admin("GET", &long, Value::Null).await;
    json_error(st, &b, 414);
    let big = format!(
        "x-api-key: {}\r\nx-big: {}\r\n",
        srv.admin,
        "b".repeat(70_000)
    );
    let (st, b) = srv.send("GET", "/v1/memory_stores", &big, b"").await;
    json_error(st, &b, 431);

    let auth = format!("x-api-key: {}\r\n", srv.admin);
    let (st, b) = srv.send("POST", "/mcp", &auth, b"{not json").await;
    assert_eq!(st, 400, "{b}");
    assert_eq!(b["jsonrpc"], "2.0");
    assert_eq!(b["error"]["code"], -32700, "{b}");
    let (st, b) = srv.send("POST", "/mcp", &auth, b"[1, 2]").await;
    assert_eq!(st, 400, "{b}");
    assert_eq!(b["error"]["code"], -32600, "{b}");
}

/// Finding 10: a lower-case `bearer` and an empty `x-api-key` beside a good bearer were "no
/// API key"; a policy could be set on an archived store.
async fn keys_are_read_leniently_and_archived_policies_refused(postgres: bool) {
    let srv = start(postgres).await;
    for head in [
        format!("Authorization: bearer {}\r\n", srv.admin),
        format!("Authorization: BEARER {}\r\n", srv.admin),
        format!("x-api-key: \r\nAuthorization: Bearer {}\r\n", srv.admin),
    ] {
        let (st, b) = srv.send("GET", "/v1/memory_stores", &head, b"").await;
        assert_eq!(st, 200, "{head}: {b}");
    }
    let (st, _) = srv
        .send(
            "GET",
            "/v1/memory_stores",
            "Authorization: Basic abc\r\n",
            b"",
        )
        .await;
    assert_eq!(st, 401);

    let store = srv.new_store("s").await;
    let policy = format!("/reverie/v1/memory_stores/{store}/policy");
    let (st, b) = srv.admin("PUT", &policy, json!({"review": true})).await;
    assert_eq!(st, 200, "{b}");
    let (st, b) = srv
        .admin(
            "POST",
            &format!("/v1/memory_stores/{store}/archive"),
            Value::Null,
        )
        .await;
    assert_eq!(st, 200, "{b}");
    let (st, b) = srv.admin("PUT", &policy, json!({"review": false})).await;
    assert!((400..500).contains(&st), "{st}: {b}");
    assert_eq!(b["type"], "error");
    let (_, got) = srv.admin("GET", &policy, Value::Null).await;
    assert_eq!(got["review"], true, "the policy did not change");
}

/// Finding 6: the memory routes stored secrets verbatim. A create or an update holding one
/// (hidden by zero-width characters, too) is refused with 400 naming `content`, and nothing is
/// written.
async fn written_secrets_are_refused(postgres: bool) {
    let srv = start(postgres).await;
    let store = srv.new_store("s").await;
    let memories = format!("/v1/memory_stores/{store}/memories");
    let key = "sk-ant-api03-Zq3vT9xLm2Rk8Wb4Yp7Nc1Hd6Fj0Gs5Ae3Ui9Ko2Xw4Tb8Vn6Ym1Qp7Rs3Lk";
    let hidden: String = key.chars().flat_map(|c| [c, '\u{200b}']).collect();
    for text in [key.to_string(), hidden] {
        let (st, b) = srv
            .admin(
                "POST",
                &memories,
                json!({"path": "/a.md", "content": format!("- key {text}\n")}),
            )
            .await;
        invalid(st, &b, "content");
        assert!(
            b["error"]["message"].as_str().unwrap().contains("secret"),
            "{b}"
        );
    }
    let (_, list) = srv.admin("GET", &memories, Value::Null).await;
    assert_eq!(list["data"], json!([]), "nothing was created");
    let (st, m) = srv
        .admin(
            "POST",
            &memories,
            json!({"path": "/a.md", "content": "- fine\n"}),
        )
        .await;
    assert_eq!(st, 200, "{m}");
    let id = m["id"].as_str().unwrap();
    let (st, b) = srv
        .admin(
            "POST",
            &format!("{memories}/{id}"),
            json!({"content": format!("- key {key}\n")}),
        )
        .await;
    invalid(st, &b, "content");
    let (_, m) = srv
        .admin("GET", &format!("{memories}/{id}"), Value::Null)
        .await;
    assert_eq!(m["content"], "- fine\n", "unchanged");
    // A store's own fields, through the same policy.
    let (st, b) = srv
        .admin(
            "POST",
            "/v1/memory_stores",
            json!({"name": "t", "description": format!("uses {key}")}),
        )
        .await;
    invalid(st, &b, "description");
    let (st, b) = srv
        .admin(
            "POST",
            &format!("/v1/memory_stores/{store}"),
            json!({"metadata": {"token": key}}),
        )
        .await;
    invalid(st, &b, "metadata");
    // `remember` refuses one too, naming the policy that would allow it.
    let actor = reverie_core::Actor::User {
        user_id: "user_t".into(),
    };
    let note = "the deploy key is AKIAIOSFODNN7EXAMPLE for prod";
    let e = reverie_server::remember::remember(srv.store.as_ref(), &store, note, None, &actor)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("secret") && e.contains("nothing was written") && e.contains("--secrets allow"),
        "{e}"
    );
    // A store meant to hold secrets says so in its policy; its memory content then keeps
    // them as written, and its own fields still refuse them.
    let (st, b) = srv
        .admin(
            "PUT",
            &format!("/reverie/v1/memory_stores/{store}/policy"),
            json!({"secrets": "allow"}),
        )
        .await;
    assert_eq!(st, 200, "{b}");
    let (st, b) = srv
        .admin(
            "POST",
            &format!("{memories}/{id}"),
            json!({"content": format!("- key {key}\n")}),
        )
        .await;
    assert_eq!(st, 200, "{b}");
    let (_, m) = srv
        .admin("GET", &format!("{memories}/{id}"), Value::Null)
        .await;
    assert_eq!(m["content"], format!("- key {key}\n"));
    reverie_server::remember::remember(srv.store.as_ref(), &store, note, None, &actor)
        .await
        .unwrap();
    let (st, b) = srv
        .admin(
            "POST",
            &format!("/v1/memory_stores/{store}"),
            json!({"description": format!("uses {key}")}),
        )
        .await;
    invalid(st, &b, "description");
}

/// Finding 10: a hundred concurrent `remember` calls on one memory gave 66 conflicts (retries
/// without backoff). Every note gets in, once.
async fn concurrent_remembers_all_get_in(postgres: bool) {
    let srv = start(postgres).await;
    let store = srv.new_store("s").await;
    let actor = reverie_core::Actor::User {
        user_id: "user_t".into(),
    };
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let (st, store, actor) = (srv.store.clone(), store.clone(), actor.clone());
            tokio::spawn(async move {
                reverie_server::remember::remember(
                    st.as_ref(),
                    &store,
                    &format!("Concurrent note number {i} about port {}.", 5000 + i),
                    None,
                    &actor,
                )
                .await
            })
        })
        .collect();
    for t in tasks {
        let r = t.await.unwrap();
        assert!(r.as_ref().is_ok_and(|r| r.written), "{r:?}");
    }
    let m = srv
        .store
        .get_memory_by_path(&store, "/notes.md")
        .await
        .unwrap();
    let content = m.content.unwrap();
    for i in 0..100 {
        assert_eq!(
            content.matches(&format!("number {i} about")).count(),
            1,
            "note {i}"
        );
    }
}

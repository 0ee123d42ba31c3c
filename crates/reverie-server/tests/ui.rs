//! The review page's bad input and safety, against `serve` on a real socket, on SQLite and on
//! a throwaway PostgreSQL cluster: requests without a session, wrong keys, logins and forms
//! from another site, wrong ids, stale edits, a revoked key, a scoped key, markup in names and
//! contents, and the headers every page sends. (The browser drives the pages themselves in
//! `reverie-cli/tests/ui_browser.rs`.)

use std::sync::Arc;
use std::time::Duration;

use reverie_core::Actor;
use reverie_server::AppState;
use reverie_store::{NewStore, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Page {
    status: u16,
    head: String,
    body: String,
}

impl Page {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(": ")?;
            k.eq_ignore_ascii_case(name).then_some(v)
        })
    }
}

struct Server {
    addr: String,
    store: Arc<dyn Store>,
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
    tokio::spawn(reverie_server::serve(
        listener,
        state,
        std::future::pending(),
    ));
    Server {
        addr,
        store,
        _dir: dir,
    }
}

impl Server {
    /// One request; `cookie` and `origin` when given, a form body for a `POST`.
    async fn send(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        origin: Option<&str>,
        body: &str,
    ) -> Page {
        let mut s = TcpStream::connect(&self.addr).await.unwrap();
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        if let Some(c) = cookie {
            req.push_str(&format!("Cookie: {c}\r\n"));
        }
        if let Some(o) = origin {
            req.push_str(&format!("Origin: {o}\r\n"));
        }
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        ));
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut out))
            .await
            .expect("the server answers")
            .unwrap();
        let text = String::from_utf8_lossy(&out).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        Page {
            status: head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0),
            head: head.to_string(),
            body: body.to_string(),
        }
    }

    async fn get(&self, path: &str, cookie: &str) -> Page {
        self.send("GET", path, Some(cookie), None, "").await
    }

    /// Logs in with `key`; the session cookie (`reverie_ui=…`).
    async fn login(&self, key: &str) -> String {
        let p = self
            .send(
                "POST",
                "/ui/login",
                None,
                Some(&self.origin()),
                &format!("key={key}"),
            )
            .await;
        assert_eq!(p.status, 303, "{}{}", p.head, p.body);
        let set = p.header("set-cookie").unwrap().to_string();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/ui"),
            "{set}"
        );
        // Reached over plain HTTP, a `Secure` cookie would never come back.
        assert!(!set.contains("Secure"), "{set}");
        set.split(';').next().unwrap().to_string()
    }

    fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The CSRF token a page's forms carry.
    async fn token(&self, cookie: &str) -> String {
        let p = self.get("/ui/", cookie).await;
        let at = p.body.find("name=\"csrf\" value=\"").unwrap() + 19;
        p.body[at..at + 64].to_string()
    }
}

async fn bad_input(postgres: bool) {
    let srv = start(postgres).await;
    let s = &srv.store;
    let evil = "<script>alert(1)</script>";
    let notes = s
        .create_store(NewStore {
            name: format!("notes {evil}"),
            ..NewStore::default()
        })
        .await
        .unwrap();
    let other = s
        .create_store(NewStore {
            name: "other".into(),
            ..NewStore::default()
        })
        .await
        .unwrap();
    let user = Actor::User {
        user_id: "tester".into(),
    };
    let m = s
        .create_memory(&notes.id, "/x.md", &format!("hello {evil}"), &user)
        .await
        .unwrap();
    let (admin_key, admin) = s.create_api_key("admin", None).await.unwrap();
    // A browser on HTTPS (behind a proxy that ends TLS) gets a `Secure` session cookie.
    for (origin, forwarded) in [
        (format!("https://{}", srv.addr), None),
        (srv.origin(), Some("https")),
    ] {
        let mut req = format!(
            "POST /ui/login HTTP/1.1\r\nHost: {}\r\nOrigin: {origin}\r\n",
            srv.addr
        );
        if let Some(p) = forwarded {
            req.push_str(&format!("X-Forwarded-Proto: {p}\r\n"));
        }
        let body = format!("key={admin}");
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        ));
        let mut c = TcpStream::connect(&srv.addr).await.unwrap();
        c.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        c.read_to_end(&mut out).await.unwrap();
        let head = String::from_utf8_lossy(&out).into_owned();
        let set = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
            .unwrap_or_else(|| panic!("no cookie: {head}"));
        assert!(set.ends_with("; Secure"), "{set}");
    }
    let (_, scoped) = s
        .create_api_key("scoped", Some(vec![other.id.clone()]))
        .await
        .unwrap();

    // Without a session every page leads to the login form, and no form does anything.
    for path in [
        "/ui/",
        &format!("/ui/stores/{}", notes.id),
        "/ui/dreams/drm_x",
    ] {
        let p = srv.send("GET", path, None, None, "").await;
        assert_eq!(
            (p.status, p.header("location")),
            (303, Some("/ui/login")),
            "{path}"
        );
    }
    let p = srv
        .send("GET", "/ui/", Some("reverie_ui=forged"), None, "")
        .await;
    assert_eq!(p.status, 303);
    let edit = format!("/ui/stores/{}/memories/{}", notes.id, m.id);
    let p = srv
        .send(
            "POST",
            &edit,
            None,
            Some(&srv.origin()),
            "csrf=x&content=y&expected_sha256=z",
        )
        .await;
    assert_eq!(p.status, 303);

    // Logins: an empty key, an unknown one, one from another site.
    for (key, status, says) in [
        ("", 401, "enter an API key"),
        ("rvk_nope", 401, "not an API key of this server"),
    ] {
        let p = srv
            .send(
                "POST",
                "/ui/login",
                None,
                Some(&srv.origin()),
                &format!("key={key}"),
            )
            .await;
        assert_eq!(p.status, status, "{}", p.body);
        assert!(p.body.contains(says), "{}", p.body);
    }
    let p = srv
        .send(
            "POST",
            "/ui/login",
            None,
            Some("http://evil.example"),
            &format!("key={admin}"),
        )
        .await;
    assert_eq!(p.status, 403);
    assert!(p.header("set-cookie").is_none());

    // Logged in: every page sends the policy headers, and markup is text.
    let cookie = srv.login(&admin).await;
    let p = srv.get("/ui/", &cookie).await;
    assert_eq!(p.status, 200);
    assert_eq!(
        p.header("content-security-policy"),
        Some(reverie_server::ui::CSP)
    );
    assert_eq!(p.header("x-frame-options"), Some("DENY"));
    assert_eq!(p.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(p.header("cache-control"), Some("no-store"));
    assert!(!p.body.contains(evil), "{}", p.body);
    assert!(
        p.body.contains("notes &#60;script&#62;alert(1)"),
        "{}",
        p.body
    );
    let page = srv.get(&edit, &cookie).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains(evil), "{}", page.body);
    assert!(!page.body.contains("<script"), "no script of any kind");

    // Wrong ids and revisions: an HTML page naming the problem.
    for (path, status, says) in [
        (
            "/ui/stores/memstore_01nope0000000000000000",
            404,
            "memstore_01nope",
        ),
        (
            "/ui/dreams/drm_01nope0000000000000000000",
            404,
            "drm_01nope",
        ),
        (
            &format!(
                "/ui/stores/{}/memories/mem_01nope0000000000000000",
                notes.id
            ),
            404,
            "mem_01nope",
        ),
        (
            &format!("/ui/stores/{}/restore/99", notes.id),
            404,
            "no revision 99",
        ),
        ("/ui/stores/not-an-id", 400, "not-an-id"),
        ("/ui/no/such/page", 404, "no such page"),
    ] {
        let p = srv.get(path, &cookie).await;
        assert_eq!(p.status, status, "{path}: {}", p.body);
        assert!(p.body.contains(says), "{path}: {}", p.body);
        assert!(
            p.header("content-type").unwrap().starts_with("text/html"),
            "{path}"
        );
    }

    // Forms: a forged token, another site, a stale edit (nothing written, the draft kept).
    let csrf = srv.token(&cookie).await;
    let body = format!(
        "csrf=forged&content=mine&expected_sha256={}",
        m.content_sha256
    );
    let p = srv
        .send("POST", &edit, Some(&cookie), Some(&srv.origin()), &body)
        .await;
    assert_eq!(p.status, 403);
    let body = format!(
        "csrf={csrf}&content=mine&expected_sha256={}",
        m.content_sha256
    );
    let p = srv
        .send(
            "POST",
            &edit,
            Some(&cookie),
            Some("http://evil.example"),
            &body,
        )
        .await;
    assert_eq!(p.status, 403);
    s.update_memory(
        &notes.id,
        &m.id,
        reverie_store::MemoryPatch {
            content: Some("theirs".into()),
            ..Default::default()
        },
        &user,
    )
    .await
    .unwrap();
    let p = srv
        .send("POST", &edit, Some(&cookie), Some(&srv.origin()), &body)
        .await;
    assert_eq!(p.status, 409, "{}", p.body);
    assert!(p.body.contains("id=\"conflict\"") && p.body.contains(">mine</textarea>"));
    assert_eq!(
        s.get_memory(&notes.id, &m.id)
            .await
            .unwrap()
            .content
            .as_deref(),
        Some("theirs")
    );
    // A form missing its fields is refused, and changes nothing.
    let p = srv
        .send(
            "POST",
            &edit,
            Some(&cookie),
            Some(&srv.origin()),
            &format!("csrf={csrf}"),
        )
        .await;
    assert!(p.status == 400 || p.status == 422, "{}", p.status);

    // A scoped key sees only its store; another store does not exist for it.
    let scoped_cookie = srv.login(&scoped).await;
    let p = srv.get("/ui/", &scoped_cookie).await;
    assert!(p.body.contains("other") && !p.body.contains(&notes.id));
    let p = srv
        .get(&format!("/ui/stores/{}", notes.id), &scoped_cookie)
        .await;
    assert_eq!(p.status, 404);

    // Revoking the key ends its sessions at once.
    s.revoke_api_key(&admin_key.id).await.unwrap();
    let p = srv.get("/ui/", &cookie).await;
    assert_eq!((p.status, p.header("location")), (303, Some("/ui/login")));
}

#[tokio::test]
async fn bad_input_on_sqlite() {
    bad_input(false).await;
}

#[tokio::test]
async fn bad_input_on_postgres() {
    bad_input(true).await;
}

//! The review page in a real browser: Debian's headless Chromium, driven through ChromeDriver
//! (WebDriver) by fantoccini, against `reverie serve` on a free port, on a store whose dream
//! over the example sessions awaits review with a flagged operation (an instruction found in
//! fetched web content). Screenshots of each page go to `target/ui-screenshots/` (not
//! committed).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// Kills a child process when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
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
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json_of(database: &str, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&reverie(database, &all)).unwrap()
}

/// `reverie serve` on a free port: the process and its address.
fn serve(database: &str) -> (Killed, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_reverie"))
        .args(["--database", database, "serve", "--listen", "127.0.0.1:0"])
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
    std::thread::spawn(move || for _ in lines {});
    (Killed(child), addr)
}

/// ChromeDriver on a free port, once it answers.
fn chromedriver() -> (Killed, u16) {
    let bin =
        std::env::var("REVERIE_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    assert!(
        std::path::Path::new(&bin).exists(),
        "ChromeDriver is missing at {bin}: install Debian's chromium and chromium-driver \
         (`apt-get install -y chromium chromium-driver`; .ci/run does)"
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "ChromeDriver did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (Killed(child), port)
}

async fn browser(port: u16, profile: &std::path::Path) -> Client {
    let chromium = std::env::var("REVERIE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            // Without the background-networking flags Chromium keeps trying the closed network.
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
                     format!("--user-data-dir={}", profile.display())],
        }
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session in headless Chromium")
}

fn screenshots() -> PathBuf {
    let dir = reverie_testkit::repo_root().join("target/ui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

/// The text of the element `css` selects, waiting for it (a click's navigation may still be
/// loading).
async fn text_of(c: &Client, css: &str) -> String {
    let found = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await;
    match found {
        Ok(e) => e.text().await.unwrap(),
        Err(e) => {
            shot(c, "failed").await;
            panic!(
                "{css}: {e}; the page: {}",
                c.source().await.unwrap_or_default()
            )
        }
    }
}

/// Clicks `css` and waits until the page it leads to has loaded.
async fn click(c: &Client, css: &str) {
    let old = c.find(Locator::Css("html")).await.unwrap();
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let started = Instant::now();
    // The old document's root goes stale when the new page replaces it.
    while old.tag_name().await.is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{css} led nowhere"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("main"))
        .await
        .unwrap();
}

async fn login(c: &Client, base: &str, key: &str) {
    c.goto(&format!("{base}/ui/")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/ui/login"));
    let field = c.find(Locator::Id("key")).await.unwrap();
    field.send_keys(key).await.unwrap();
    click(c, "main form button").await;
}

async fn logout(c: &Client) {
    click(c, "form.logout button").await;
}

/// One raw `POST` with `headers` (each ending in CRLF); the status and body.
fn post(addr: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split(' ').nth(1).unwrap().parse().unwrap();
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// A form, as another site or a script without the page's token would send it.
fn raw_post(addr: &str, path: &str, cookie: &str, origin: &str, body: &str) -> u16 {
    let headers = format!(
        "Cookie: {cookie}\r\nOrigin: {origin}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    );
    post(addr, path, &headers, body).0
}

/// A store named `name` whose dream over the example sessions awaits review: the dream's id
/// and the number of the operation that adds `cd ui && npm install` (which the sessions'
/// user overruled: they use pnpm).
fn pending_proposal(db: &str, name: &str, files: &[PathBuf]) -> (String, usize) {
    reverie(db, &["store", "create", name]);
    reverie(db, &["policy", "set", "-s", name, "--review", "on"]);
    for f in files {
        reverie(
            db,
            &["ingest", "-s", name, &f.display().to_string(), "--quiet"],
        );
    }
    let p = json_of(db, &["dream", "-s", name]);
    assert_eq!(p["dream"]["review"]["state"], "pending", "{p}");
    let npm = p["changeset"]["ops"]
        .as_array()
        .unwrap()
        .iter()
        .position(|op| {
            op["after"]
                .as_str()
                .is_some_and(|t| t.contains("cd ui && npm install"))
        })
        .unwrap_or_else(|| panic!("no op adds npm install: {p}"));
    (p["dream"]["id"].as_str().unwrap().to_string(), npm)
}

/// The store's commands memory: pnpm's commands, and npm's only when `npm` is true.
fn check_commands(db: &str, store: &str, npm: bool) {
    let commands = reverie(db, &["get", "-s", store, "/commands.md"]);
    assert!(commands.contains("cd ui && pnpm build"), "{commands}");
    assert_eq!(commands.contains("cd ui && npm install"), npm, "{commands}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewing_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("reverie.db").display().to_string();
    let db = db.as_str();
    // A store whose dream awaits review, a memory holding markup, and another store.
    reverie(db, &["store", "create", "notes"]);
    reverie(db, &["policy", "set", "-s", "notes", "--review", "on"]);
    let examples = reverie_testkit::repo_root().join("examples/sessions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    for f in &files {
        reverie(
            db,
            &["ingest", "-s", "notes", &f.display().to_string(), "--quiet"],
        );
    }
    let proposal = json_of(db, &["dream", "-s", "notes"]);
    let dream_id = proposal["dream"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        proposal["dream"]["review"]["state"], "pending",
        "{proposal}"
    );
    let script = "<script>window.__pwned = 1</script> <img src=x onerror=\"window.__pwned = 2\">";
    reverie(
        db,
        &["put", "-s", "notes", "/markup.md", "--content", script],
    );
    reverie(db, &["store", "create", "other"]);
    let other = json_of(db, &["store", "show", "other"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let admin = json_of(db, &["keys", "create", "admin", "--all"])["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let scoped = json_of(db, &["keys", "create", "scoped", "--store", &other])["secret"]
        .as_str()
        .unwrap()
        .to_string();
    // Two more proposals, decided operation by operation: one on the page, one through the API.
    let (by_page, npm_op) = pending_proposal(db, "by-page", &files);
    let (by_api, npm_op_api) = pending_proposal(db, "by-api", &files);
    let (_server, addr) = serve(db);
    let base = format!("http://{addr}");
    let (_driver, port) = chromedriver();
    let profile = tempfile::tempdir().unwrap();
    let c = browser(port, profile.path()).await;

    // A wrong key is refused with a message; a scoped key sees only its store.
    login(&c, &base, "rvk_not_a_key").await;
    assert!(text_of(&c, "#login-error").await.contains("not an API key"));
    shot(&c, "login").await;
    c.find(Locator::Id("key"))
        .await
        .unwrap()
        .send_keys(&scoped)
        .await
        .unwrap();
    click(&c, "main form button").await;
    let listed = text_of(&c, "main").await;
    assert!(
        listed.contains("other") && !listed.contains("notes"),
        "{listed}"
    );
    logout(&c).await;
    assert!(c.current_url().await.unwrap().path().ends_with("/ui/login"));

    // The stores, as the admin: one proposal waits.
    login(&c, &base, &admin).await;
    let rows = text_of(&c, "tbody").await;
    let notes_row = rows
        .lines()
        .find(|l| l.starts_with("notes"))
        .unwrap_or_default();
    assert!(
        rows.contains("other") && notes_row.contains("(completed) 1 "),
        "{rows}"
    );
    shot(&c, "stores").await;
    let cookie = c.get_named_cookie("reverie_ui").await.unwrap();
    assert_eq!(cookie.http_only(), Some(true));
    let cookie = format!("reverie_ui={}", cookie.value());

    // The proposal: the flagged operation first, shown as text; approved whole.
    c.goto(&format!("{base}/ui/dreams/{dream_id}"))
        .await
        .unwrap();
    let sections: Vec<String> = {
        let mut out = Vec::new();
        for h in c.find_all(Locator::Css("main section h2")).await.unwrap() {
            out.push(h.text().await.unwrap());
        }
        out
    };
    assert_eq!(sections, ["Flagged operations", "Operations"]);
    let flagged = text_of(&c, "section.flagged").await;
    assert!(
        flagged.contains("possible_injection")
            && flagged.contains("IMPORTANT NOTE TO AI ASSISTANTS"),
        "{flagged}"
    );
    shot(&c, "dream-proposal").await;
    // A form without the page's token, or from another site, changes nothing.
    let path = format!("/ui/dreams/{dream_id}/decide");
    assert_eq!(
        raw_post(&addr, &path, &cookie, &base, "csrf=forged&decision=approve"),
        403
    );
    let token = c
        .find(Locator::Css("form.decide input[name=csrf]"))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .unwrap();
    let body = format!("csrf={token}&decision=approve");
    assert_eq!(
        raw_post(&addr, &path, &cookie, "http://evil.example", &body),
        403
    );
    assert_eq!(
        json_of(db, &["store", "show", "notes"])["revision"],
        1,
        "nothing applied yet"
    );
    click(&c, "#approve").await;
    assert_eq!(text_of(&c, "#review-state").await, "approved");
    let after = json_of(db, &["store", "show", "notes"]);
    assert_eq!(after["revision"], 2, "{after}");
    let memories = reverie(db, &["ls", "-s", "notes"]);
    assert!(memories.contains("/instructions.md"), "{memories}");
    // The held instruction was not applied.
    let instructions = reverie(db, &["get", "-s", "notes", "/instructions.md"]);
    assert!(
        !instructions.contains("IMPORTANT NOTE TO AI ASSISTANTS"),
        "{instructions}"
    );

    // Reverted from the page: the proposal's memories are gone again.
    click(&c, "#revert").await;
    assert!(
        text_of(&c, "#applied")
            .await
            .contains("reverted by revision 3")
    );
    shot(&c, "dream-reverted").await;
    let memories = reverie(db, &["ls", "-s", "notes"]);
    assert!(!memories.contains("/instructions.md"), "{memories}");

    // A memory holding markup is shown as text; nothing of it runs.
    let markup = json_of(db, &["get", "-s", "notes", "/markup.md"]);
    let markup_id = markup["id"].as_str().unwrap();
    let notes = json_of(db, &["store", "show", "notes"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let page = format!("{base}/ui/stores/{notes}/memories/{markup_id}");
    c.goto(&page).await.unwrap();
    assert_eq!(text_of(&c, "#content").await, script);
    let ran = c
        .execute(
            "return [window.__pwned === undefined, document.querySelectorAll('main script, main img').length]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(ran, json!([true, 0]));
    shot(&c, "memory-markup").await;

    // An edit while another client changes the memory: refused, the draft kept, nothing lost;
    // saved when sent again.
    let area = c.find(Locator::Id("edit-content")).await.unwrap();
    area.clear().await.unwrap();
    area.send_keys("my edit from the page").await.unwrap();
    reverie(
        db,
        &[
            "put",
            "-s",
            "notes",
            "/markup.md",
            "--content",
            "another client's text",
        ],
    );
    click(&c, "#save").await;
    assert!(
        text_of(&c, "#conflict")
            .await
            .contains("changed since you opened it")
    );
    let draft = c
        .find(Locator::Id("edit-content"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(draft.as_deref(), Some("my edit from the page"));
    assert_eq!(text_of(&c, "#content").await, "another client's text");
    let now = json_of(db, &["get", "-s", "notes", "/markup.md"]);
    assert_eq!(now["content"], "another client's text");
    shot(&c, "memory-conflict").await;
    click(&c, "#save").await;
    assert_eq!(text_of(&c, "#saved").await, "Saved.");
    let now = json_of(db, &["get", "-s", "notes", "/markup.md"]);
    assert_eq!(now["content"], "my edit from the page");

    // The store's page draws drift and the failure curve; its history restores the store to
    // revision 2 (the approved proposal, the markup as first written), saying first what
    // will change.
    c.goto(&format!("{base}/ui/stores/{notes}")).await.unwrap();
    let drawn = c
        .execute(
            "return Promise.all([...document.querySelectorAll('figure img')].map(i => \
             i.decode().then(() => i.naturalWidth)))",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(drawn, json!([800, 800]));
    shot(&c, "store").await;
    click(&c, "#history").await;
    shot(&c, "history").await;
    click(&c, "#restore-2").await;
    let changes = text_of(&c, "#changes").await;
    assert!(
        changes.contains("recreated /instructions.md") && changes.contains("modified /markup.md"),
        "{changes}"
    );
    shot(&c, "restore-confirm").await;
    assert_eq!(
        json_of(db, &["store", "show", "notes"])["revision"],
        5,
        "nothing restored yet"
    );
    click(&c, "#confirm-restore").await;
    assert!(
        text_of(&c, "#restored")
            .await
            .contains("revision 6 restores revision 2")
    );
    assert_eq!(
        json_of(db, &["get", "-s", "notes", "/markup.md"])["content"],
        script
    );
    let instructions = reverie(db, &["get", "-s", "notes", "/instructions.md"]);
    assert!(instructions.contains("pnpm"), "{instructions}");

    // One operation unchecked on the page: the rest applied, that one recorded as rejected.
    c.goto(&format!("{base}/ui/dreams/{by_page}"))
        .await
        .unwrap();
    let boxes = c
        .find_all(Locator::Css("input[type=checkbox][form=decide-ops]"))
        .await
        .unwrap();
    assert!(boxes.len() > 20, "{} boxes", boxes.len());
    let npm_box = c.find(Locator::Id(&format!("op_{npm_op}"))).await.unwrap();
    assert_eq!(
        npm_box.prop("checked").await.unwrap().as_deref(),
        Some("true")
    );
    npm_box.click().await.unwrap();
    shot(&c, "dream-operations").await;
    click(&c, "#apply-checked").await;
    assert_eq!(text_of(&c, "#review-state").await, "approved");
    check_commands(db, "by-page", false);
    let shown = json_of(db, &["dreams", "show", &by_page]);
    let rejected: Vec<&Value> = shown["changeset"]["ops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|op| {
            op["flags"]
                .as_array()
                .is_some_and(|f| f.contains(&json!("rejected_in_review")))
        })
        .collect();
    assert_eq!(rejected.len(), 1, "{shown}");
    assert!(
        rejected[0]["after"]
            .as_str()
            .unwrap()
            .contains("npm install")
    );

    // An entry pinned and unpinned from its memory's page; a memory brought back to an
    // earlier version of it.
    let by_page_id = json_of(db, &["store", "show", "by-page"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let instructions = json_of(db, &["get", "-s", "by-page", "/instructions.md"]);
    let page = format!(
        "{base}/ui/stores/{by_page_id}/memories/{}",
        instructions["id"].as_str().unwrap()
    );
    c.goto(&page).await.unwrap();
    let pinned = |db: &str| -> Vec<String> {
        json_of(
            db,
            &[
                "entries",
                "ls",
                "-s",
                "by-page",
                "--path",
                "/instructions.md",
            ],
        )
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["pinned"] == true)
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
    };
    assert!(pinned(db).is_empty());
    click(&c, "main table form button").await;
    let now = pinned(db);
    assert_eq!(now.len(), 1, "one entry pinned");
    assert_eq!(text_of(&c, "main table form button").await, "Unpin");
    click(&c, "main table form button").await;
    assert!(pinned(db).is_empty());
    let first = instructions["content"].as_str().unwrap().to_string();
    reverie(
        db,
        &[
            "put",
            "-s",
            "by-page",
            "/instructions.md",
            "--content",
            "- nothing",
        ],
    );
    c.goto(&page).await.unwrap();
    click(&c, "ol.versions form button").await;
    assert_eq!(text_of(&c, "#content").await, first.trim_end());
    let back = json_of(db, &["get", "-s", "by-page", "/instructions.md"]);
    assert_eq!(back["content"].as_str(), Some(first.as_str()));
    shot(&c, "memory-history").await;

    // The same through the API: every operation but one, by number; a bad number is refused
    // and changes nothing.
    let key = format!("x-api-key: {admin}\r\nContent-Type: application/json\r\n");
    let route = format!("/reverie/v1/dreams/{by_api}/approve");
    let (status, body) = post(&addr, &route, &key, r#"{"operations": [100000]}"#);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not one to decide on"), "{body}");
    let p = reverie_dream_pending(db, &by_api);
    let ops: Vec<usize> = p.into_iter().filter(|&n| n != npm_op_api).collect();
    let (status, body) = post(&addr, &route, &key, &json!({"operations": ops}).to_string());
    assert_eq!(status, 200, "{body}");
    check_commands(db, "by-api", false);
    c.close().await.unwrap();
}

/// The numbers of a pending proposal's operations a reviewer decides on, as `dreams show`
/// lists them.
fn reverie_dream_pending(db: &str, dream: &str) -> Vec<usize> {
    let text = reverie(db, &["dreams", "show", dream]);
    let list = text
        .split("operations to decide one by one")
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"));
    list.lines()
        .skip(1)
        .map_while(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

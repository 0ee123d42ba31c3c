//! List cursors (`page`) fuzzed against a SQLite store: arbitrary strings, base64 of arbitrary
//! bytes and JSON, genuine cursors replayed on other listings, and forged but well-formed
//! cursors (memory listings: `{k, s, p, d}` with any kind, any position inside, at the edge of
//! or outside the prefix, another prefix or depth, extra or missing fields; versions and
//! revisions: any `i64`; stores and sessions: any `(i64, id)`), together with random
//! `path_prefix`, `depth`, `limit` and `view`. Checked: no panic; a refusal is an
//! `invalid_request_error` naming the first bad parameter in the order the store checks them
//! (`path_prefix`, `depth`, `limit`, `page`), exactly as a reference reading of the parameters
//! predicts; an accepted listing is exactly the page a reference model of the listing gives
//! from that position — only this store's items, all within the prefix, in path order, rolled
//! up to `depth`, at most `limit` of them, with `next_page` exactly when more follow — and
//! walking the genuine cursors from the first page lists every item once. For the other
//! listings, a forged cursor gives exactly the items before it in the listing's order.
//!
//! `REVERIE_FUZZ_CASES=N` runs N cases per property instead of the CI default (FUZZING.md).

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{new_store, user};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reverie_core::page::{Page, effective_limit, encode_cursor};
use reverie_core::path::{prefix_upper_bound, validate_prefix};
use reverie_core::session::SourceFormat;
use reverie_core::{ErrorType, ListItem, Result, View};
use reverie_store::{MemoryQuery, NewSession, Store, StoreQuery, VersionQuery};
use serde_json::{Value, json};

/// `REVERIE_FUZZ_CASES`, or `default`.
fn cases(default: u32) -> u32 {
    std::env::var("REVERIE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn config(default: u32) -> Config {
    Config {
        cases: cases(default),
        failure_persistence: None,
        ..Config::default()
    }
}

/// The memories of the listed store: prefixes of every depth, neighbours in byte order
/// (`/a/b` beside `/a/b/…`, `/a/b0`, `/a/b!`, `/a~`), non-ASCII and odd characters.
const PATHS: &[&str] = &[
    "/a",
    "/a/b",
    "/a/b/c",
    "/a/b/c/d/e/f",
    "/a/b/d",
    "/a/b/d/e",
    "/a/b!",
    "/a/b0",
    "/a/b.md",
    "/a/c",
    "/a/é/x",
    "/a/é/y/z",
    "/a/%41",
    "/a/%2F",
    "/a/ b",
    "/a~",
    "/a0",
    "/b/1",
    "/b/2",
    "/b/3/4",
    "/MEMORY.md",
    "/notes/2024/01.md",
    "/notes/2024/02.md",
    "/notes/2025/01.md",
    "/notes/readme.md",
    "/日本/語/テスト.md",
    "/z",
    "/z/z/z/z/z/z/z/z/z/z/z/z/z/z/z/z/z/z/z/z",
    "/~",
    "/🦀/crab",
];

/// The memories of a second store, which no listing of the first may show.
const OTHER_PATHS: &[&str] = &["/a/b/zz", "/a/other", "/b/9", "/q"];

/// An item as the reference lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Memory(String),
    Prefix(String),
}

impl Item {
    fn of(i: &ListItem) -> Item {
        match i {
            ListItem::Memory(m) => Item::Memory(m.path.clone()),
            ListItem::Prefix(p) => Item::Prefix(p.path.clone()),
        }
    }
}

/// Where a listing starts: after or from a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seek {
    After(String),
    From(String),
}

/// The reference: the page of the listing of `paths` under `prefix`, rolled up to `depth`,
/// from `seek`, of at most `limit` items, and whether more follow.
fn reference_page(
    paths: &BTreeMap<String, String>,
    prefix: &str,
    depth: i64,
    seek: &Seek,
    limit: usize,
) -> (Vec<Item>, bool) {
    let mut rows = paths
        .keys()
        .filter(|p| p.starts_with(prefix))
        .filter(|p| match seek {
            Seek::After(s) => p.as_str() > s.as_str(),
            Seek::From(s) => p.as_str() >= s.as_str(),
        });
    let mut items = Vec::new();
    let mut rolled: Option<String> = None;
    for row in rows.by_ref() {
        if rolled.as_ref().is_some_and(|r| row.starts_with(r.as_str())) {
            continue;
        }
        if items.len() == limit {
            return (items, true);
        }
        let segs: Vec<&str> = row[prefix.len()..].split('/').collect();
        if depth > 0 && segs.len() as i64 > depth {
            let r = format!("{prefix}{}/", segs[..depth as usize].join("/"));
            items.push(Item::Prefix(r.clone()));
            rolled = Some(r);
        } else {
            rolled = None;
            items.push(Item::Memory(row.clone()));
        }
    }
    (items, false)
}

/// The cursor of a memory listing, as the reference reads one.
#[derive(Debug, serde::Deserialize)]
struct ListCursor {
    k: char,
    s: String,
    p: String,
    d: i64,
}

/// A `page` for a memory listing.
#[derive(Debug, Clone)]
enum MemPage {
    None,
    /// Any string (decoding as a cursor only by chance).
    Garbage(String),
    /// A cursor holding this JSON.
    Json(Value),
    /// A cursor forged for the request's own listing (or not quite), built when it is sent.
    Forged(Forged),
    /// A genuine cursor of an earlier listing (by index into the ones collected), sent with
    /// that listing's prefix and depth or with the request's own.
    Replay(prop::sample::Index, bool),
}

/// A forged memory-listing cursor, relative to the listing it is sent to.
#[derive(Debug, Clone)]
struct Forged {
    k: Value,
    s: Position,
    same_prefix: bool,
    same_depth: bool,
    extra: Option<(String, i64)>,
    drop_s: bool,
}

/// Where a forged cursor points, relative to the listing's prefix.
#[derive(Debug, Clone)]
enum Position {
    /// The prefix then this.
    Inside(String),
    /// The prefix itself, without its `/`, or its upper bound.
    Edge(u8),
    /// Any string.
    Anywhere(String),
}

impl Forged {
    fn json(&self, prefix: &str, depth: i64) -> Value {
        let s = match &self.s {
            Position::Inside(t) => format!("{prefix}{t}"),
            Position::Edge(0) => prefix.to_string(),
            Position::Edge(1) => prefix.strip_suffix('/').unwrap_or(prefix).to_string(),
            Position::Edge(_) => prefix_upper_bound(prefix).unwrap_or_default(),
            Position::Anywhere(s) => s.clone(),
        };
        let p = if self.same_prefix {
            prefix.to_string()
        } else {
            format!("{prefix}x/")
        };
        let d = if self.same_depth {
            depth
        } else {
            depth.wrapping_add(1)
        };
        let mut c = json!({"k": self.k, "p": p, "d": d});
        if !self.drop_s {
            c["s"] = json!(s);
        }
        if let Some((key, v)) = &self.extra {
            c[key.as_str()] = json!(v);
        }
        c
    }
}

/// URL-safe base64 without padding, as cursors are written.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn prefix() -> impl Strategy<Value = String> {
    let known: Vec<String> = {
        let mut v: Vec<String> = vec!["/".into()];
        for p in PATHS {
            v.extend(reverie_core::path::parent_prefixes(p).map(str::to_string));
            v.push(format!("{p}/"));
        }
        v.extend(["/q/".into(), "/a/b/c/d/".into(), "/nothing/".into()]);
        v.sort();
        v.dedup();
        v
    };
    prop_oneof![
        10 => prop::sample::select(known),
        1 => prop::sample::select(vec!["", "a/", "/a", "//", "/a//", "/../", "/a/\u{0}/", "/e\u{301}/"]).prop_map(str::to_string),
        1 => "\\PC{0,8}",
    ]
}

/// A position inside, at the edge of, or outside a prefix.
fn position() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(PATHS).prop_map(str::to_string),
        2 => (prefix(), "[a-z/é~0!.]{0,6}").prop_map(|(p, t)| format!("{p}{t}")),
        1 => prop::sample::select(vec!["", "/", "0", "\u{10ffff}", "/a/b/", "/a/b/c/", "/a0", "/a/\u{0}"]).prop_map(str::to_string),
        1 => "\\PC{0,10}",
    ]
}

fn mem_page() -> impl Strategy<Value = MemPage> {
    let kind = prop_oneof![
        8 => prop::sample::select(vec!["a", "f"]).prop_map(Value::from),
        1 => prop::sample::select(vec!["x", "é", "ab", "", "A"]).prop_map(Value::from),
        1 => Just(json!(1)),
    ];
    let position = prop_oneof![
        6 => prop_oneof![
            "[a-z/é~0!.]{0,6}",
            prop::sample::select(vec!["b", "b/", "b/c", "b/d/e", "é/", "notes", "2024/", "z/z/z"]).prop_map(str::to_string),
        ].prop_map(Position::Inside),
        2 => (0u8..3).prop_map(Position::Edge),
        2 => position().prop_map(Position::Anywhere),
    ];
    let forged = (
        kind,
        position,
        prop::bool::weighted(0.9),
        prop::bool::weighted(0.9),
        prop::option::weighted(0.1, ("[a-z]{1,3}", 0i64..9)),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(k, s, same_prefix, same_depth, extra, drop_s)| Forged {
            k,
            s,
            same_prefix,
            same_depth,
            extra,
            drop_s,
        });
    prop_oneof![
        3 => Just(MemPage::None),
        2 => prop_oneof![
            any::<String>(),
            "[A-Za-z0-9_-]{0,40}",
            "[A-Za-z0-9+/=_-]{0,40}",
            prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| base64(&b)),
        ]
        .prop_map(MemPage::Garbage),
        1 => prop_oneof![
            Just(json!(null)), Just(json!(5)), Just(json!("/a/")), Just(json!([1, "x"])),
            Just(json!({})), Just(json!({"k": "a"})),
        ].prop_map(MemPage::Json),
        8 => forged.prop_map(MemPage::Forged),
        4 => (any::<prop::sample::Index>(), prop::bool::weighted(0.7)).prop_map(|(i, same)| MemPage::Replay(i, same)),
    ]
}

/// One listing request.
#[derive(Debug, Clone)]
struct Request {
    prefix: Option<String>,
    depth: Option<i64>,
    limit: Option<i64>,
    full: bool,
    page: MemPage,
}

fn request() -> impl Strategy<Value = Request> {
    (
        prop::option::weighted(0.9, prefix()),
        prop::option::weighted(0.8, prop_oneof![8 => 0i64..5, 1 => Just(-1i64), 1 => any::<i64>()]),
        prop::option::weighted(0.9, prop_oneof![16 => 1i64..6, 1 => Just(0i64), 1 => Just(101i64), 1 => any::<i64>(), 2 => Just(100i64)]),
        any::<bool>(),
        mem_page(),
    )
        .prop_map(|(prefix, depth, limit, full, page)| Request {
            prefix,
            depth,
            limit,
            full,
            page,
        })
}

/// The refusal's contract: an invalid request naming `field`.
fn refused_naming(
    err: &reverie_core::Error,
    field: &str,
) -> std::result::Result<(), TestCaseError> {
    prop_assert_eq!(err.error_type(), ErrorType::InvalidRequest, "{}", err);
    prop_assert!(
        err.to_string().starts_with(&format!("invalid {field}: ")),
        "{:?} does not name {}",
        err.to_string(),
        field
    );
    Ok(())
}

struct Fixture {
    rt: tokio::runtime::Runtime,
    _fresh: common::Fresh,
    store: Arc<dyn Store>,
    st: String,
    paths: BTreeMap<String, String>,
}

fn fixture() -> Fixture {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (fresh, st, paths) = rt.block_on(async {
        let fresh = common::sqlite().await;
        let s = fresh.store.clone();
        let st = new_store(&*s, "listed").await;
        let other = new_store(&*s, "other").await;
        let mut paths = BTreeMap::new();
        for (i, p) in PATHS.iter().enumerate() {
            let content = format!("memory {i} at {p}\n");
            s.create_memory(&st, p, &content, &user()).await.unwrap();
            paths.insert(p.to_string(), content);
        }
        for p in OTHER_PATHS {
            s.create_memory(&other, p, "elsewhere", &user())
                .await
                .unwrap();
        }
        // Versions and revisions to list: a few updates and a delete.
        let first = s
            .list_memories(
                &st,
                &MemoryQuery {
                    limit: Some(3),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        for item in first.data {
            if let ListItem::Memory(m) = item {
                let patch = reverie_store::MemoryPatch {
                    content: Some(format!("{}updated\n", paths[&m.path])),
                    ..Default::default()
                };
                let m = s.update_memory(&st, &m.id, patch, &user()).await.unwrap();
                paths.insert(m.path.clone(), m.content.clone().unwrap());
            }
        }
        let gone = s.create_memory(&st, "/gone", "x", &user()).await.unwrap();
        s.delete_memory(&st, &gone.id, None, &user()).await.unwrap();
        for i in 0..7 {
            s.create_session(NewSession {
                store_id: st.clone(),
                source_format: SourceFormat::PlainText,
                source_path: Some(format!("/tmp/session-{i}.txt")),
                outcome: None,
            })
            .await
            .unwrap();
        }
        (fresh, st, paths)
    });
    let store = fresh.store.clone();
    Fixture {
        rt,
        _fresh: fresh,
        store,
        st,
        paths,
    }
}

/// What the store must answer to `req` with `page` (the cursor string sent, and the JSON it
/// holds when known): `Err(field)` or the page from its position.
fn expected(
    fx: &Fixture,
    req: &Request,
    json: Option<&Value>,
) -> std::result::Result<Option<(Vec<Item>, bool)>, &'static str> {
    let prefix = req.prefix.clone().unwrap_or_else(|| "/".into());
    if validate_prefix(&prefix).is_err() {
        return Err("path_prefix");
    }
    let depth = req.depth.unwrap_or(0);
    if depth < 0 {
        return Err("depth");
    }
    let view = if req.full { View::Full } else { View::Basic };
    let Ok(limit) = effective_limit(req.limit, view) else {
        return Err("limit");
    };
    let seek = match (&req.page, json) {
        (MemPage::None, _) => Seek::From(prefix.clone()),
        (_, Some(v)) => {
            let Ok(c) = serde_json::from_value::<ListCursor>(v.clone()) else {
                return Err("page");
            };
            if c.p != prefix || c.d != depth || !c.s.starts_with(&prefix) {
                return Err("page");
            }
            match c.k {
                'a' => Seek::After(c.s),
                'f' => Seek::From(c.s),
                _ => return Err("page"),
            }
        }
        // Unknown contents: only checked for consistency.
        (_, None) => return Ok(None),
    };
    Ok(Some(reference_page(
        &fx.paths,
        &prefix,
        depth,
        &seek,
        limit as usize,
    )))
}

/// Checks an accepted page against the listing's rules (whatever the cursor was).
fn check_page(
    fx: &Fixture,
    req: &Request,
    page: &Page<ListItem>,
) -> std::result::Result<(), TestCaseError> {
    let prefix = req.prefix.clone().unwrap_or_else(|| "/".into());
    let depth = req.depth.unwrap_or(0);
    let view = if req.full { View::Full } else { View::Basic };
    let limit = effective_limit(req.limit, view).unwrap_or(0) as usize;
    prop_assert!(page.data.len() <= limit);
    if page.next_page.is_some() {
        prop_assert_eq!(page.data.len(), limit, "a short page with a next page");
    }
    // Each item is past the one before: after a memory's path, from a prefix's upper bound.
    let mut last: Option<(String, bool)> = None;
    for item in &page.data {
        let path = item.path().to_string();
        prop_assert!(path.starts_with(&prefix), "{:?} outside {:?}", path, prefix);
        prop_assert!(
            last.as_ref()
                .is_none_or(|(l, from)| if *from { *l <= path } else { *l < path }),
            "{:?} after {:?}",
            path,
            last
        );
        let below = path[prefix.len()..]
            .trim_end_matches('/')
            .split('/')
            .count() as i64;
        match item {
            ListItem::Memory(m) => {
                prop_assert!(
                    fx.paths.contains_key(&m.path),
                    "{:?} is no memory of the store",
                    m.path
                );
                prop_assert_eq!(m.memory_store_id.as_str(), fx.st.as_str());
                prop_assert!(depth == 0 || below <= depth);
                if req.full {
                    prop_assert_eq!(m.content.as_ref(), Some(&fx.paths[&m.path]));
                } else {
                    prop_assert!(m.content.is_none());
                }
            }
            ListItem::Prefix(p) => {
                prop_assert!(
                    p.path.ends_with('/') && depth > 0 && below == depth,
                    "{:?}",
                    p.path
                );
                prop_assert!(
                    fx.paths.keys().any(|k| k.starts_with(&p.path)),
                    "{:?} holds nothing",
                    p.path
                );
            }
        }
        last = Some(match item {
            ListItem::Prefix(p) => (prefix_upper_bound(&p.path).unwrap_or_default(), true),
            ListItem::Memory(m) => (m.path.clone(), false),
        });
    }
    Ok(())
}

/// Memory listings with random parameters and cursors.
#[test]
fn memory_listing_cursors() {
    let fx = fixture();
    let genuine: std::cell::RefCell<Vec<(String, Request)>> = std::cell::RefCell::new(Vec::new());
    let mut runner = TestRunner::new(config(1000));
    let result = runner.run(&request(), |mut req| {
        let prefix = req.prefix.clone().unwrap_or_else(|| "/".into());
        let depth = req.depth.unwrap_or(0);
        let (cursor, json): (Option<String>, Option<Value>) = match &req.page {
            MemPage::None => (None, None),
            MemPage::Garbage(s) => (Some(s.clone()), None),
            MemPage::Json(v) => (Some(encode_cursor(v)), Some(v.clone())),
            MemPage::Forged(f) => {
                let v = f.json(&prefix, depth);
                (Some(encode_cursor(&v)), Some(v))
            }
            MemPage::Replay(i, same) => {
                let all = genuine.borrow();
                match all.get(i.index(all.len().max(1))) {
                    // The genuine cursor of an earlier listing, perhaps of another prefix or
                    // depth.
                    Some((c, from)) => {
                        if *same {
                            req.prefix = from.prefix.clone();
                            req.depth = from.depth;
                        }
                        (Some(c.clone()), Some(cursor_json(c)))
                    }
                    None => (Some("e30".into()), Some(json!({}))),
                }
            }
        };
        let q = MemoryQuery {
            path_prefix: req.prefix.clone(),
            depth: req.depth,
            limit: req.limit,
            page: cursor.clone(),
            view: if req.full { View::Full } else { View::Basic },
        };
        let got: Result<Page<ListItem>> = fx.rt.block_on(fx.store.list_memories(&fx.st, &q));
        let want = expected(&fx, &req, json.as_ref());
        match (got, want) {
            (Err(e), Err(field)) => refused_naming(&e, field)?,
            (Err(e), Ok(None)) => {
                // A string that is no cursor of this listing.
                refused_naming(&e, "page")?;
            }
            (Ok(page), Ok(want)) => {
                check_page(&fx, &req, &page)?;
                if let Some((items, more)) = want {
                    let got: Vec<Item> = page.data.iter().map(Item::of).collect();
                    prop_assert_eq!(&got, &items, "{:?} with cursor {:?}", req, json);
                    prop_assert_eq!(page.next_page.is_some(), more, "{:?}", req);
                }
                if let Some(next) = &page.next_page {
                    genuine.borrow_mut().push((next.clone(), req.clone()));
                }
                // From the first page, the genuine cursors list everything once.
                if matches!(req.page, MemPage::None) {
                    walk(&fx, &q, page)?;
                }
            }
            (got, want) => {
                return Err(TestCaseError::fail(format!(
                    "{req:?} (cursor {json:?}): got {got:?}, want {want:?}"
                )));
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(!genuine.borrow().is_empty(), "no listing had a second page");
}

/// What a genuine cursor holds: URL-safe base64 (no padding) of JSON.
fn cursor_json(cursor: &str) -> Value {
    let mut bits = 0u32;
    let mut n = 0;
    let mut bytes = Vec::new();
    for c in cursor.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => panic!("{cursor:?} is not URL-safe base64"),
        };
        bits = bits << 6 | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            bytes.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{cursor:?}: {e}"))
}

/// Follows the genuine cursors from `first` to the end: every item of the reference once.
fn walk(
    fx: &Fixture,
    q: &MemoryQuery,
    first: Page<ListItem>,
) -> std::result::Result<(), TestCaseError> {
    let prefix = q.path_prefix.clone().unwrap_or_else(|| "/".into());
    let depth = q.depth.unwrap_or(0);
    let (all, _) = reference_page(
        &fx.paths,
        &prefix,
        depth,
        &Seek::From(prefix.clone()),
        usize::MAX,
    );
    let mut got: Vec<Item> = first.data.iter().map(Item::of).collect();
    let mut next = first.next_page;
    let mut pages = 1;
    while let Some(cursor) = next {
        pages += 1;
        prop_assert!(pages <= all.len() + 1, "the walk does not end");
        let q = MemoryQuery {
            page: Some(cursor),
            ..q.clone()
        };
        let page = fx
            .rt
            .block_on(fx.store.list_memories(&fx.st, &q))
            .map_err(|e| TestCaseError::fail(format!("a genuine cursor refused: {e}")))?;
        prop_assert!(!page.data.is_empty(), "an empty page behind a cursor");
        got.extend(page.data.iter().map(Item::of));
        next = page.next_page;
    }
    prop_assert_eq!(got, all, "walking {:?}", q);
    Ok(())
}

/// Versions, revisions, stores and sessions: any cursor; a forged one gives exactly the items
/// before it in the listing's order.
#[test]
fn other_listing_cursors() {
    let fx = fixture();
    let s = fx.store.clone();
    let (versions, revisions, stores, sessions) = fx.rt.block_on(async {
        let versions = s
            .list_versions(
                &fx.st,
                &VersionQuery {
                    limit: Some(100),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(versions.next_page.is_none());
        let revisions = s.list_revisions(&fx.st, Some(100), None).await.unwrap();
        assert!(revisions.next_page.is_none());
        let stores = s
            .list_stores(&StoreQuery {
                limit: Some(100),
                ..Default::default()
            })
            .await
            .unwrap();
        let sessions = s.list_sessions(&fx.st, Some(100), None).await.unwrap();
        (versions.data, revisions.data, stores.data, sessions.data)
    });
    assert!(
        versions.len() > 30 && revisions.len() > 30 && stores.len() == 2 && sessions.len() == 7
    );
    let rev_keys: Vec<i64> = revisions.iter().map(|r| r.revision).collect();
    let store_keys: Vec<(i64, String)> = stores
        .iter()
        .map(|s| (s.created_at.micros(), s.id.clone()))
        .collect();
    let session_keys: Vec<(i64, String)> = sessions
        .iter()
        .map(|s| (s.created_at.micros(), s.id.clone()))
        .collect();
    let version_ids: Vec<String> = versions.iter().map(|v| v.id.clone()).collect();

    #[derive(Debug, Clone)]
    enum Cursor {
        Garbage(String),
        Seq(i64),
        Keyed(i64, String),
        Json(Value),
    }
    let keyed_id = prop_oneof![
        prop::sample::select(
            store_keys
                .iter()
                .chain(&session_keys)
                .map(|k| k.1.clone())
                .collect::<Vec<_>>()
        ),
        Just(String::new()),
        Just("\u{10ffff}".to_string()),
        "\\PC{0,12}",
    ];
    let keyed_time = prop_oneof![
        prop::sample::select(
            store_keys
                .iter()
                .chain(&session_keys)
                .map(|k| k.0)
                .collect::<Vec<_>>()
        ),
        prop::sample::select(
            store_keys
                .iter()
                .chain(&session_keys)
                .map(|k| k.0 + 1)
                .collect::<Vec<_>>()
        ),
        any::<i64>(),
    ];
    let cursor = prop_oneof![
        2 => prop_oneof![any::<String>(), "[A-Za-z0-9_-]{0,24}"].prop_map(Cursor::Garbage),
        3 => prop_oneof![-2i64..200, any::<i64>()].prop_map(Cursor::Seq),
        3 => (keyed_time, keyed_id).prop_map(|(t, id)| Cursor::Keyed(t, id)),
        1 => prop_oneof![Just(json!(null)), Just(json!(1.5)), Just(json!([1])), Just(json!([1, 2, 3])), Just(json!(["1", "x"])), Just(json!({"a": 1})), Just(json!(u64::MAX))].prop_map(Cursor::Json),
    ];
    let mut runner = TestRunner::new(config(1000));
    let result = runner.run(&(cursor, 1i64..8, 0u8..4), |(cursor, limit, which)| {
        let (text, seq, keyed): (String, Option<i64>, Option<(i64, String)>) = match &cursor {
            Cursor::Garbage(s) => (s.clone(), None, None),
            Cursor::Seq(n) => (encode_cursor(n), Some(*n), None),
            Cursor::Keyed(t, id) => (encode_cursor(&(t, id)), None, Some((*t, id.clone()))),
            Cursor::Json(v) => (encode_cursor(v), None, None),
        };
        let known_bad = matches!(cursor, Cursor::Json(_));
        let limit_u = limit as usize;
        fx.rt.block_on(async {
            match which {
                0 => {
                    // Versions, newest first: a run of the full listing, empty before the first.
                    let q = VersionQuery {
                        limit: Some(limit),
                        page: Some(text.clone()),
                        ..Default::default()
                    };
                    match s.list_versions(&fx.st, &q).await {
                        Err(e) => {
                            prop_assert!(seq.is_none(), "{:?} refused: {}", cursor, e);
                            refused_naming(&e, "page")?;
                        }
                        Ok(p) => {
                            prop_assert!(!known_bad && keyed.is_none(), "{:?} accepted", cursor);
                            let ids: Vec<String> = p.data.iter().map(|v| v.id.clone()).collect();
                            prop_assert!(ids.len() <= limit_u);
                            if let Some(n) = seq {
                                if n <= 1 {
                                    prop_assert!(ids.is_empty(), "{:?} before seq {}", ids, n);
                                }
                                if n > 1_000_000 {
                                    prop_assert_eq!(&ids[..], &version_ids[..ids.len()]);
                                }
                            }
                            if let Some(first) = ids.first() {
                                let at = version_ids.iter().position(|v| v == first);
                                prop_assert!(at.is_some());
                                let at = at.unwrap_or_default();
                                prop_assert_eq!(&ids[..], &version_ids[at..at + ids.len()]);
                                prop_assert_eq!(
                                    p.next_page.is_some(),
                                    at + ids.len() < version_ids.len()
                                );
                            }
                        }
                    }
                }
                1 => {
                    // Revisions, newest first: exactly those before the cursor.
                    match s.list_revisions(&fx.st, Some(limit), Some(&text)).await {
                        Err(e) => {
                            prop_assert!(seq.is_none(), "{:?} refused: {}", cursor, e);
                            refused_naming(&e, "page")?;
                        }
                        Ok(p) => {
                            prop_assert!(!known_bad && keyed.is_none(), "{:?} accepted", cursor);
                            let got: Vec<i64> = p.data.iter().map(|r| r.revision).collect();
                            if let Some(n) = seq {
                                let before: Vec<i64> =
                                    rev_keys.iter().copied().filter(|r| *r < n).collect();
                                prop_assert_eq!(&got[..], &before[..before.len().min(limit_u)]);
                                prop_assert_eq!(p.next_page.is_some(), before.len() > limit_u);
                            }
                        }
                    }
                }
                _ => {
                    // Stores and sessions, newest first by (created_at, id).
                    let (got, all) = if which == 2 {
                        let q = StoreQuery {
                            limit: Some(limit),
                            page: Some(text.clone()),
                            ..Default::default()
                        };
                        let r = s.list_stores(&q).await.map(|p| {
                            (
                                p.data
                                    .iter()
                                    .map(|s| (s.created_at.micros(), s.id.clone()))
                                    .collect::<Vec<_>>(),
                                p.next_page,
                            )
                        });
                        (r, &store_keys)
                    } else {
                        let r = s
                            .list_sessions(&fx.st, Some(limit), Some(&text))
                            .await
                            .map(|p| {
                                (
                                    p.data
                                        .iter()
                                        .map(|s| (s.created_at.micros(), s.id.clone()))
                                        .collect::<Vec<_>>(),
                                    p.next_page,
                                )
                            });
                        (r, &session_keys)
                    };
                    match got {
                        Err(e) => {
                            prop_assert!(keyed.is_none(), "{:?} refused: {}", cursor, e);
                            refused_naming(&e, "page")?;
                        }
                        Ok((got, next)) => {
                            prop_assert!(!known_bad && seq.is_none(), "{:?} accepted", cursor);
                            if let Some(k) = &keyed {
                                let before: Vec<(i64, String)> =
                                    all.iter().filter(|x| *x < k).cloned().collect();
                                prop_assert_eq!(&got[..], &before[..before.len().min(limit_u)]);
                                prop_assert_eq!(next.is_some(), before.len() > limit_u);
                            }
                        }
                    }
                }
            }
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Regression (found by `other_listing_cursors`): the sessions query read an empty id as "no
/// cursor", so a forged cursor `(t, "")` listed every session, those after `t` included.
#[test]
fn a_session_cursor_with_an_empty_id_is_a_position() {
    let fx = fixture();
    let s = fx.store.clone();
    fx.rt.block_on(async {
        let all = s.list_sessions(&fx.st, Some(100), None).await.unwrap().data;
        assert_eq!(all.len(), 7);
        let newest = all[0].created_at.micros();
        for (t, want) in [
            (
                newest,
                all.iter()
                    .filter(|x| x.created_at.micros() < newest)
                    .count(),
            ),
            (newest + 1, 7),
            (0, 0),
        ] {
            let page = s
                .list_sessions(&fx.st, Some(100), Some(&encode_cursor(&(t, ""))))
                .await
                .unwrap();
            assert_eq!(page.data.len(), want, "before ({t}, \"\")");
            assert!(page.data.iter().all(|x| x.created_at.micros() < t));
        }
    });
}

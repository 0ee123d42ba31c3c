//! `reverie bench ui`: the review page's server time. A scratch SQLite store of 2,000
//! generated memories (`bench dream`'s notes) gets 500 dreams, each over one small session
//! that adds a note or corrects one; `reverie serve`'s router then answers each page, logged
//! in, over loopback from this process (HTTP/1.1, a connection per request, as a browser's
//! first load). Prints each page's p50 and p99. The drift pages are measured twice: as served
//! again (the report kept) and after a pin (the report computed anew).

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use rand::SeedableRng;
use reverie_store::Store;

use super::bench_hooks::Samples;
use super::curation::{dream, ingest};
use crate::cli::BenchUiArgs;
use crate::output::{json, table};

/// One request over a fresh connection; the status, the `Set-Cookie` value and the body.
fn request(
    addr: &str,
    method: &str,
    path: &str,
    cookie: &str,
    body: &str,
) -> Result<(u16, String, String)> {
    let mut s = std::net::TcpStream::connect(addr)?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .context("no status line")?;
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .unwrap_or_default()
        .to_string();
    Ok((status, cookie, body.to_string()))
}

pub async fn run(a: BenchUiArgs, json_out: bool) -> Result<i32> {
    if a.runs == 0 || a.memories == 0 {
        bail!("--runs and --memories must be at least 1");
    }
    if let Some(dir) = &a.keep {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create --keep folder {}", dir.display()))?;
        return measure(&a, dir, json_out).await;
    }
    let dir = std::env::temp_dir().join(format!("reverie-bench-ui-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = measure(&a, &dir, json_out).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// What a kept folder holds: the store it built, and from what.
#[derive(serde::Serialize, serde::Deserialize, PartialEq)]
struct Kept {
    memories: usize,
    dreams: usize,
    store: String,
    last_dream: String,
}

const KEPT: &str = "bench-ui.json";

/// `reverie serve`'s router served in this process (dreams queued, as `--queue-dreams`), for
/// the benchmarks that time requests to it; stopped with [`InProcess::stop`].
pub(super) struct InProcess {
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl InProcess {
    pub(super) fn serve(
        listener: tokio::net::TcpListener,
        store: Arc<dyn Store>,
        curator: Arc<dyn reverie_curate::Curator>,
    ) -> InProcess {
        let state = reverie_server::AppState {
            runner: Arc::new(reverie_dream::Runner::new(store.clone(), curator)),
            store,
            queue_dreams: true,
            ui: Default::default(),
            drift: Default::default(),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(reverie_server::serve(listener, state, async {
            let _ = stopped.await;
        }));
        InProcess { stop, server }
    }

    pub(super) async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
    }
}

async fn measure(a: &BenchUiArgs, dir: &std::path::Path, json_out: bool) -> Result<i32> {
    let database = dir.join("reverie.db").display().to_string();
    let kept: Option<Kept> = std::fs::read(dir.join(KEPT))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|k: &Kept| k.memories == a.memories && k.dreams == a.dreams);
    if kept.is_none() {
        // Whatever is there was built from other parameters, or half built.
        for f in ["reverie.db", "reverie.db-wal", "reverie.db-shm", KEPT] {
            let _ = std::fs::remove_file(dir.join(f));
        }
    }
    let s: Arc<dyn Store> = reverie_store::open(&database).await?;
    let built = Instant::now();
    let reused = kept.is_some();
    let (store, last_dream) = match kept {
        Some(k) => (k.store, k.last_dream),
        None => {
            let (store, last_dream) = build(a, dir, &s).await?;
            let k = Kept {
                memories: a.memories,
                dreams: a.dreams,
                store,
                last_dream,
            };
            std::fs::write(dir.join(KEPT), serde_json::to_vec(&k)?)?;
            (k.store, k.last_dream)
        }
    };
    let curator: Arc<dyn reverie_curate::Curator> = Arc::new(reverie_curate::Deterministic);
    let (_, secret) = s.create_api_key("bench-ui", None).await?;
    let memory = match s
        .list_memories(
            &store,
            &reverie_store::MemoryQuery {
                limit: Some(1),
                ..Default::default()
            },
        )
        .await?
        .data
        .into_iter()
        .next()
    {
        Some(reverie_core::ListItem::Memory(m)) => m.id,
        _ => bail!("the generated store has no memory"),
    };
    let revision = s.get_store(&store).await?.revision;
    let build_s = built.elapsed().as_secs_f64();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    let server = InProcess::serve(listener, s.clone(), curator.clone());
    let addr2 = addr.clone();
    // The drift pages reuse a report while the store reads back the same; their rows "after
    // a pin" pin or unpin an entry before each request (untimed), so that every request
    // computes the report anew: what the first look after any change costs.
    let pinned = s
        .list_entries(&store, Some(reverie_core::curation::EntryState::Live))
        .await?
        .into_iter()
        .next()
        .map(|e| e.id)
        .context("the generated store has no live entry")?;
    let pages = vec![
        ("stores", "/ui/".to_string(), false),
        ("stores, after a pin", "/ui/".to_string(), true),
        ("store", format!("/ui/stores/{store}"), false),
        ("store, after a pin", format!("/ui/stores/{store}"), true),
        ("dream", format!("/ui/dreams/{last_dream}"), false),
        (
            "memory",
            format!("/ui/stores/{store}/memories/{memory}"),
            false,
        ),
        ("history", format!("/ui/stores/{store}/history"), false),
        (
            "restore (confirm)",
            format!("/ui/stores/{store}/restore/{}", revision / 2),
            false,
        ),
        (
            "drift chart",
            format!("/ui/stores/{store}/drift.svg"),
            false,
        ),
        (
            "drift chart, after a pin",
            format!("/ui/stores/{store}/drift.svg"),
            true,
        ),
        (
            "curve chart",
            format!("/ui/stores/{store}/curve.svg"),
            false,
        ),
        ("login form", "/ui/login".to_string(), false),
    ];
    let runs = a.runs;
    let (s2, store2, rt) = (s.clone(), store.clone(), tokio::runtime::Handle::current());
    let measured = tokio::task::spawn_blocking(move || -> Result<Vec<(&str, Samples, usize)>> {
        let (status, cookie, _) =
            request(&addr2, "POST", "/ui/login", "", &format!("key={secret}"))?;
        if status != 303 || cookie.is_empty() {
            bail!("the login failed ({status})");
        }
        let mut out = Vec::new();
        let mut pin = false;
        for (name, path, change) in pages {
            let mut t = Vec::with_capacity(runs);
            let mut bytes = 0;
            for _ in 0..runs + 2 {
                if change {
                    pin = !pin;
                    rt.block_on(s2.pin_entry(&store2, &pinned, pin))?;
                }
                let started = Instant::now();
                let (status, _, body) = request(&addr2, "GET", &path, &cookie, "")?;
                let took = started.elapsed().as_secs_f64();
                if status != 200 {
                    bail!(
                        "{path}: {status}: {}",
                        body.chars().take(300).collect::<String>()
                    );
                }
                bytes = body.len();
                t.push(took);
            }
            // The first two warm the caches.
            out.push((name, Samples(t.split_off(2)), bytes));
        }
        // A kept store is left as it was found.
        if pin {
            rt.block_on(s2.pin_entry(&store2, &pinned, false))?;
        }
        Ok(out)
    })
    .await??;
    server.stop().await;

    let rows: Vec<serde_json::Value> = measured
        .iter()
        .map(|(name, s, bytes)| {
            serde_json::json!({
                "page": name,
                "p50_ms": s.pct(50) * 1e3,
                "p99_ms": s.pct(99) * 1e3,
                "bytes": bytes,
            })
        })
        .collect();
    if json_out {
        json(&serde_json::json!({
            "memories": a.memories,
            "dreams": a.dreams,
            "revision": revision,
            "build_s": build_s,
            "reused": reused,
            "pages": rows,
        }));
        return Ok(0);
    }
    let built = if reused {
        format!("reused from {}", dir.display())
    } else {
        format!("built in {build_s:.1} s")
    };
    println!(
        "the review page on a store of {} memories with {} dreams (revision {revision}, {built}), {} requests per page",
        a.memories, a.dreams, a.runs
    );
    let mut t = vec![vec![
        "page".to_string(),
        "p50 ms".into(),
        "p99 ms".into(),
        "bytes".into(),
    ]];
    for r in &rows {
        t.push(vec![
            r["page"].as_str().unwrap_or_default().to_string(),
            format!("{:.1}", r["p50_ms"].as_f64().unwrap_or(0.0)),
            format!("{:.1}", r["p99_ms"].as_f64().unwrap_or(0.0)),
            r["bytes"].to_string(),
        ]);
    }
    table(&t);
    Ok(0)
}

/// Builds the store: generated memories, then `--dreams` dreams over one small session each.
/// Returns the store and the dream that did the most (the others' pages being alike).
async fn build(
    a: &BenchUiArgs,
    dir: &std::path::Path,
    s: &Arc<dyn Store>,
) -> Result<(String, String)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let (store, _) = super::bench::generate_store(s, a.memories, &mut rng).await?;
    let curator: Arc<dyn reverie_curate::Curator> = Arc::new(reverie_curate::Deterministic);
    // The page of the dream that did the most, the others' being alike.
    let (mut last_dream, mut most) = (String::new(), 0);
    for i in 0..a.dreams {
        let t = dir.join(format!("session-{i}.txt"));
        // Half add a note, half correct the previous one: rewrites and supersessions too.
        let said = if i % 2 == 0 {
            format!(
                "User: Always run `make check-{i}` before pushing to the release branch.\nAssistant: Noted.\n"
            )
        } else {
            format!(
                "User: Correction: the staging port is now {}, not {}.\nAssistant: Noted.\n",
                7000 + i,
                7000 + i - 1
            )
        };
        std::fs::write(&t, said)?;
        let Some(id) = ingest(s, &store, &t).await? else {
            continue;
        };
        let (_, dreams) = dream(s, &store, &[id], &curator).await?;
        for d in dreams {
            let ops = s.dream_changeset(&d).await?.map_or(0, |c| c.ops.len());
            if ops >= most {
                (last_dream, most) = (d, ops);
            }
        }
    }
    Ok((store, last_dream))
}

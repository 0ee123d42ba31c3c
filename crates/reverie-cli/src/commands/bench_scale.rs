//! `reverie bench scale`: is every operation's cost flat in the store's size? One store grows
//! through `--sizes` (100, 1,000 and 10,000 memories by default) and at each size the same
//! operations are timed, so that a cost that grows with the store shows as a growth factor
//! (p50 at a size ÷ p50 at the size before) well above 1:
//!
//! - the memory tool's `create`, `str_replace`, `view` (one file) and `delete`, in process as
//!   `reverie memory-tool --batch` runs them (parse, secret check, `Store::memory_tool`), and
//!   over HTTP as the `memory` tool of `/mcp` on `reverie serve`'s router (loopback, one
//!   kept-alive connection, as an agent's client holds one);
//! - get a memory by id, list a folder (always 50 memories, so that the answer's size is the
//!   same at every store size), recall (k = 10, not served) and context (4,000 tokens, not
//!   served);
//! - ingest of one small session and a dream over it (fewer runs: they take longer).
//!
//! The store holds `bench dream`-like notes (memories of eight notes about a coding agent's
//! projects) and a glossary. Each round of the fast operations runs them all in turn, so that
//! noise on a shared machine falls on every one alike; files the memory tool creates are
//! deleted in the same round, so the store stays at the size being measured; their folder
//! keeps a file of its own throughout, so that it is never left empty (a folder the memory
//! tool emptied stays a directory of its own, and a create under it reads the whole tree:
//! every round's first create would pay for that, the in-process one only). A few untimed
//! rounds first warm caches, and let the first dream at a size take in the memories added
//! since the last one. The budget is set far above the store's size, so that a dream curates
//! its session rather than archiving the store down to the default budget.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use rand::{Rng, RngExt, SeedableRng};
use reverie_core::Actor;
use reverie_core::curation::GLOSSARY_PATH;
use reverie_core::memtool::Command;
use reverie_core::search::RecallQuery;
use reverie_store::serving::{self, ContextRequest};
use reverie_store::{MemoryQuery, NewStore, Store};

use super::bench::{SUBJECTS, WORDS};
use super::bench_hooks::Samples;
use super::bench_serve::question;
use super::bench_ui::InProcess;
use crate::cli::BenchScaleArgs;
use crate::output::{emit, json, table};

/// Untimed rounds before the timed ones, at every size.
const WARMUP: usize = 3;
/// Untimed ingest-and-dream rounds: the first dream at a size reads memories no dream has seen.
const WARMUP_SLOW: usize = 2;
/// Timed ingests and dreams at most, at every size.
const MAX_SLOW: usize = 20;
/// Memories per generated folder: listing one answers the same number at every size.
const FOLDER: usize = 50;
/// Results per recall.
const K: usize = 10;
/// Room above the largest size for what dreams and the memory tool add while measuring.
const HEADROOM: usize = 1000;

/// The operations, in the order of the report: key, label, and whether it is a slow one.
const OPS: [(&str, &str, bool); 14] = [
    ("tool_create", "memory tool create", false),
    ("tool_str_replace", "memory tool str_replace", false),
    ("tool_view", "memory tool view (file)", false),
    ("tool_delete", "memory tool delete", false),
    ("http_tool_create", "HTTP memory tool create", false),
    (
        "http_tool_str_replace",
        "HTTP memory tool str_replace",
        false,
    ),
    ("http_tool_view", "HTTP memory tool view (file)", false),
    ("http_tool_delete", "HTTP memory tool delete", false),
    ("get_memory", "get memory by id", false),
    ("list_folder", "list a folder (50 memories)", false),
    ("recall", "recall (k = 10)", false),
    ("context", "context (4,000 tokens)", false),
    ("ingest", "ingest one small session", true),
    ("dream", "dream one session", true),
];

fn op(key: &str) -> usize {
    OPS.iter()
        .position(|(k, _, _)| *k == key)
        .expect("a known operation")
}

/// A note as `bench dream`'s store holds them: a subject and a fact, sometimes a lesson. Each
/// carries a number, so that notes rarely repeat: a curated store holds few duplicates, and
/// merging thousands would be the generator's cost, not a dream's.
fn note(rng: &mut impl Rng) -> String {
    let subject = SUBJECTS[rng.random_range(0..SUBJECTS.len())];
    let w = WORDS[rng.random_range(0..WORDS.len())];
    let n = rng.random_range(1000..9999);
    let mut s = match rng.random_range(0..9) {
        0 => format!("{subject} listens on port {n}."),
        1 => format!("{subject} is configured in `config/{w}-{n}.toml`."),
        2 => format!("{subject} is built with `cargo build -p {w}-{n} --locked`."),
        3 => format!(
            "{subject} needs `{}_URL` set before `cargo test --test {w}_{n}`.",
            w.to_uppercase()
        ),
        4 => format!("{subject} is deployed by `./scripts/deploy-{w}.sh {n}` from `main`."),
        5 => format!("{subject} logs to `/var/log/{w}/{w}-{n}.log` with `RUST_LOG=info`."),
        6 => format!("{subject} times out after {n}ms under load."),
        7 => format!("Always run `make lint-{n}` before committing changes to {subject}."),
        _ => format!(
            "When `cargo test` fails with `error[E0433]` at line {n} of {subject}, run `cargo add {w}` first."
        ),
    };
    s[..1].make_ascii_uppercase();
    s
}

/// The generated part of the store: the memories' ids, in the order they were made.
struct Grown {
    ids: Vec<String>,
}

impl Grown {
    /// The `i`th generated memory's path: folders of [`FOLDER`] memories.
    fn path(i: usize) -> String {
        format!("/projects/p{:04}/notes-{i:06}.md", i / FOLDER)
    }

    /// Adds generated memories until the store holds `size`; returns how long it took.
    async fn grow(
        &mut self,
        s: &dyn Store,
        store: &str,
        size: usize,
        actor: &Actor,
        rng: &mut impl Rng,
    ) -> Result<Duration> {
        let started = Instant::now();
        let held = s.get_store(store).await?.memory_count as usize;
        if held > size {
            bail!("the store already holds {held} memories, more than the next size ({size})");
        }
        for _ in held..size {
            let i = self.ids.len();
            let mut content = format!("# {} notes {i}\n\n", WORDS[i % WORDS.len()]);
            for _ in 0..8 {
                content.push_str("- ");
                content.push_str(&note(rng));
                content.push('\n');
            }
            let m = s
                .create_memory(store, &Self::path(i), &content, actor)
                .await?;
            self.ids.push(m.id);
        }
        Ok(started.elapsed())
    }
}

/// The HTTP server this process runs for the HTTP operations, and a client of it that keeps
/// its connection open, as an agent's client would.
struct Http {
    client: reqwest::Client,
    url: String,
    key: String,
}

impl Http {
    /// One `memory` tool call through `/mcp`, timed from the request sent to the answer read.
    async fn tool(&self, args: serde_json::Value) -> Result<Duration> {
        let body = serde_json::json!({
            "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "memory", "arguments": args},
        });
        let started = Instant::now();
        let response = self
            .client
            .post(&self.url)
            .header("x-api-key", &self.key)
            .header("Accept", "application/json, text/event-stream")
            .header("Mcp-Protocol-Version", "2025-06-18")
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let answer = response.text().await?;
        let took = started.elapsed();
        let v: serde_json::Value = serde_json::from_str(&answer)
            .with_context(|| format!("/mcp answered {status}: {answer}"))?;
        if !status.is_success() || v.get("error").is_some() || v["result"]["isError"] == true {
            bail!("/mcp answered {status}: {answer}");
        }
        Ok(took)
    }
}

/// One memory-tool command in process, as `reverie memory-tool --batch` runs a line: parsed,
/// then run through the command's own path (refused if it would write a secret).
async fn tool(s: &dyn Store, store: &str, line: &str, actor: &Actor) -> Result<Duration> {
    let started = Instant::now();
    let command = Command::parse(line)?;
    let out = super::tool::run_command(s, actor, store, &command).await?;
    let took = started.elapsed();
    if out.is_error {
        bail!(
            "the memory tool answered {line} with an error: {}",
            out.content
        );
    }
    Ok(took)
}

/// The create, str_replace, view and delete of one fresh file, in process and over HTTP,
/// interleaved; the durations in [`OPS`]' order.
async fn tool_round(
    s: &dyn Store,
    store: &str,
    http: &Http,
    actor: &Actor,
    name: &str,
    rng: &mut impl Rng,
) -> Result<[Duration; 8]> {
    let mut commands = |path: String| {
        let text = format!(
            "# Scratch {path}\n\n- {}\n- marker {path}: before\n",
            note(rng)
        );
        [
            serde_json::json!({"command": "create", "path": path, "file_text": text}),
            serde_json::json!({
                "command": "str_replace", "path": path,
                "old_str": format!("marker {path}: before"), "new_str": format!("marker {path}: after"),
            }),
            serde_json::json!({"command": "view", "path": path}),
            serde_json::json!({"command": "delete", "path": path}),
        ]
    };
    let local = commands(format!("/memories/bench-scale/{name}-local.md"));
    let remote = commands(format!("/memories/bench-scale/{name}-http.md"));
    let mut d = [Duration::ZERO; 8];
    for (i, (l, r)) in local.into_iter().zip(remote).enumerate() {
        d[i] = tool(s, store, &l.to_string(), actor).await?;
        d[4 + i] = http.tool(r).await?;
    }
    Ok(d)
}

/// What one size measured.
struct Level {
    /// The store held exactly this many memories while it was measured (checked).
    size: usize,
    /// Memories after it (dreams may add a few).
    memories_after: i64,
    grow_s: f64,
    dream_ops: usize,
    samples: Vec<Samples>,
}

fn parse_sizes(sizes: &str) -> Result<Vec<usize>> {
    let sizes: Vec<usize> = sizes
        .split(',')
        .map(|x| x.trim().parse::<usize>())
        .collect::<std::result::Result<_, _>>()
        .context("--sizes is a comma-separated list of numbers")?;
    if sizes.is_empty() || sizes[0] < 3 {
        bail!(
            "--sizes must start at 3 memories or more (the store holds a glossary and a file \
             for the memory tool's folder)"
        );
    }
    if sizes.windows(2).any(|w| w[0] >= w[1]) {
        bail!("--sizes must increase: the one store grows through them");
    }
    let largest = sizes[sizes.len() - 1];
    if largest + HEADROOM > 1_000_000 {
        bail!(
            "--sizes: a store holds at most 1,000,000 memories; {largest} leaves no room to measure"
        );
    }
    Ok(sizes)
}

pub async fn run(a: BenchScaleArgs, database: Option<String>, json_out: bool) -> Result<i32> {
    let sizes = parse_sizes(&a.sizes)?;
    let dir = std::env::temp_dir().join(format!("reverie-bench-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = measure(&a, &sizes, database.as_deref(), &dir, json_out).await;
    let _ = std::fs::remove_dir_all(&dir);
    let (backend, levels) = result?;
    let ops = a.ops as usize;
    let slow = ops.min(MAX_SLOW);
    let growth = |i: usize| -> Vec<f64> {
        levels
            .windows(2)
            .map(|w| w[1].samples[i].pct(50) / w[0].samples[i].pct(50))
            .collect()
    };
    let out = serde_json::json!({
        "database": backend,
        "scratch": database.is_none(),
        "sizes": sizes,
        "ops": ops,
        "slow_ops": slow,
        "warmup": WARMUP,
        "levels": levels.iter().map(|l| serde_json::json!({
            "size": l.size,
            "memories_after": l.memories_after,
            "grow_s": l.grow_s,
            "dream_ops_mean": l.dream_ops as f64 / slow as f64,
        })).collect::<Vec<_>>(),
        "operations": OPS.iter().enumerate().map(|(i, (key, label, is_slow))| serde_json::json!({
            "op": key,
            "label": label,
            "runs": if *is_slow { slow } else { ops },
            "sizes": levels.iter().map(|l| serde_json::json!({
                "size": l.size,
                "p50_ms": l.samples[i].pct(50) * 1e3,
                "p99_ms": l.samples[i].pct(99) * 1e3,
            })).collect::<Vec<_>>(),
            "growth": growth(i),
        })).collect::<Vec<_>>(),
    });
    if json_out {
        json(&out);
        return Ok(0);
    }
    let ms = |x: f64| {
        let x = x * 1e3;
        if x < 10.0 {
            format!("{x:.3}")
        } else {
            format!("{x:.1}")
        }
    };
    let mut head = vec!["operation".to_string(), "runs".into()];
    for (j, l) in levels.iter().enumerate() {
        head.push(format!("p50 @{}", l.size));
        head.push(format!("p99 @{}", l.size));
        if j > 0 {
            head.push(format!("× {}→{}", levels[j - 1].size, l.size));
        }
    }
    let mut t = vec![head];
    for (i, (_, label, is_slow)) in OPS.iter().enumerate() {
        let mut row = vec![
            label.to_string(),
            (if *is_slow { slow } else { ops }).to_string(),
        ];
        let g = growth(i);
        for (j, l) in levels.iter().enumerate() {
            row.push(ms(l.samples[i].pct(50)));
            row.push(ms(l.samples[i].pct(99)));
            if j > 0 {
                row.push(format!("{:.2}", g[j - 1]));
            }
        }
        t.push(row);
    }
    table(&t);
    emit("");
    emit(&format!(
        "({backend} on {}; milliseconds; × is p50 at a size ÷ p50 at the size before; {WARMUP} \
         untimed rounds first ({WARMUP_SLOW} for ingest and dream); HTTP is /mcp over loopback, \
         one kept-alive connection; store grown in {})",
        if database.is_some() {
            "the given database"
        } else {
            "a scratch file"
        },
        levels
            .iter()
            .map(|l| format!("{:.1} s to {}", l.grow_s, l.size))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(0)
}

/// Grows the store through the sizes and measures each; the backend's name and the levels.
async fn measure(
    a: &BenchScaleArgs,
    sizes: &[usize],
    database: Option<&str>,
    dir: &Path,
    json_out: bool,
) -> Result<(&'static str, Vec<Level>)> {
    let url = match database {
        Some(url) => url.to_string(),
        None => dir.join("bench.db").display().to_string(),
    };
    let s = reverie_store::open(&url).await?;
    let actor = Actor::User {
        user_id: "user_bench".into(),
    };
    let largest = sizes[sizes.len() - 1];
    let store = s
        .create_store(NewStore {
            name: "bench-scale".into(),
            max_memories: Some((largest + HEADROOM) as i64),
            ..NewStore::default()
        })
        .await?
        .id;
    let mut policy = s.get_policy(&store).await?;
    policy.budget.max_total_bytes = 1 << 40;
    s.set_policy(&store, &policy).await?;
    s.create_memory(&store, GLOSSARY_PATH, &super::bench::glossary(), &actor)
        .await?;
    s.create_memory(
        &store,
        "/bench-scale/README.md",
        "# Scratch\n\nFiles the benchmark's memory tool creates and deletes.\n",
        &actor,
    )
    .await?;

    let curator: Arc<dyn reverie_curate::Curator> = Arc::new(reverie_curate::Deterministic);
    let (_, key) = s
        .create_api_key("bench-scale", Some(vec![store.clone()]))
        .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let http = Http {
        client: reqwest::Client::new(),
        url: format!("http://{}/mcp?store={store}", listener.local_addr()?),
        key,
    };
    let server = InProcess::serve(listener, s.clone(), curator.clone());
    let mut levels = Vec::new();
    let mut result = Ok(());
    let mut grown = Grown { ids: Vec::new() };
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    for &size in sizes {
        if !json_out {
            eprintln!("{size} memories: growing the store and measuring…");
        }
        let level = one_size(
            a, &s, &store, &http, &actor, &curator, &mut grown, size, dir, &mut rng,
        )
        .await;
        match level {
            Ok(l) => levels.push(l),
            Err(e) => {
                result = Err(e.context(format!("at {size} memories")));
                break;
            }
        }
    }
    server.stop().await;
    result.map(|()| (s.backend(), levels))
}

/// Grows the store to `size` and times every operation there.
#[allow(clippy::too_many_arguments)]
async fn one_size(
    a: &BenchScaleArgs,
    s: &Arc<dyn Store>,
    store: &str,
    http: &Http,
    actor: &Actor,
    curator: &Arc<dyn reverie_curate::Curator>,
    grown: &mut Grown,
    size: usize,
    dir: &Path,
    rng: &mut impl Rng,
) -> Result<Level> {
    let grow = grown.grow(s.as_ref(), store, size, actor, rng).await?;
    let memories = s.get_store(store).await?.memory_count;
    if memories != size as i64 {
        bail!("the store holds {memories} memories, not {size}");
    }
    let ops = a.ops as usize;
    let mut samples: Vec<Samples> = OPS.iter().map(|_| Samples(Vec::new())).collect();
    let folders = grown.ids.len().div_ceil(FOLDER);
    for round in 0..WARMUP + ops {
        let tools = tool_round(
            s.as_ref(),
            store,
            http,
            actor,
            &format!("s{size}-{round}"),
            rng,
        )
        .await?;

        let id = &grown.ids[rng.random_range(0..grown.ids.len())];
        let started = Instant::now();
        std::hint::black_box(s.get_memory(store, id).await?);
        let get = started.elapsed();

        let q = MemoryQuery {
            path_prefix: Some(format!("/projects/p{:04}/", rng.random_range(0..folders))),
            limit: Some(100),
            ..MemoryQuery::default()
        };
        let started = Instant::now();
        let listed = s.list_memories(store, &q).await?;
        let list = started.elapsed();
        if listed.data.is_empty() {
            bail!("listing {:?} found nothing", q.path_prefix);
        }

        let mut rq = RecallQuery::new(question(rng));
        rq.limit = K;
        let started = Instant::now();
        std::hint::black_box(s.recall(store, &rq).await?);
        let recall = started.elapsed();

        let req = ContextRequest {
            query: Some(question(rng)),
            serve: false,
            ..ContextRequest::default()
        };
        let started = Instant::now();
        std::hint::black_box(serving::context(s.as_ref(), store, &req).await?);
        let context = started.elapsed();

        if round >= WARMUP {
            for (i, d) in tools.iter().enumerate() {
                samples[i].0.push(d.as_secs_f64());
            }
            for (key, d) in [
                ("get_memory", get),
                ("list_folder", list),
                ("recall", recall),
                ("context", context),
            ] {
                samples[op(key)].0.push(d.as_secs_f64());
            }
        }
    }

    // Ingest and dream last: a dream may add a memory, and the other operations measure the
    // store at exactly `size`.
    let mut dream_ops = 0;
    for round in 0..WARMUP_SLOW + ops.min(MAX_SLOW) {
        // Half add a note, half correct the one before: rewrites and supersessions too.
        let said = if round % 2 == 0 {
            format!(
                "User: Always run `make check-{size}-{round}` before pushing to the release branch.\n\
                 Assistant: Noted.\n"
            )
        } else {
            format!(
                "User: Correction: the staging port is now {}, not {}.\nAssistant: Noted.\n",
                7000 + round,
                7000 + round - 1
            )
        };
        let file = dir.join(format!("session-{size}-{round}.txt"));
        std::fs::write(&file, said)?;
        let started = Instant::now();
        let session = super::curation::ingest(s, store, &file).await?;
        let ingest = started.elapsed();
        let session = session.with_context(|| format!("{}: no session", file.display()))?;
        let started = Instant::now();
        let (_, dreams) = super::curation::dream(s, store, &[session], curator).await?;
        let dream = started.elapsed();
        if round >= WARMUP_SLOW {
            samples[op("ingest")].0.push(ingest.as_secs_f64());
            samples[op("dream")].0.push(dream.as_secs_f64());
            for d in &dreams {
                dream_ops += s.dream_changeset(d).await?.map_or(0, |c| c.ops.len());
            }
        }
    }
    Ok(Level {
        size,
        memories_after: s.get_store(store).await?.memory_count,
        grow_s: grow.as_secs_f64(),
        dream_ops,
        samples,
    })
}

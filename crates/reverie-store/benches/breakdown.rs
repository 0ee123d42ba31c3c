//! Where the time of one `create_memory` and one `update_memory` goes, statement by statement,
//! on SQLite (`Synchronous::Full`) and on a durable PostgreSQL cluster — the measurement behind
//! the "what dominates" notes of `BENCHMARKS.md`. Not a criterion benchmark: it prints a table.
//!
//! On a store of 2,000 memories of about 1 KB (the same content as the `store` benchmark), it
//! times creates and updates end to end, then times them again with sqlx's own per-statement
//! timing collected through a small `tracing` subscriber (sqlx reports every statement it runs,
//! with its duration, on the `sqlx::query` target). On SQLite that duration is SQLite's own
//! work on the connection's worker thread; on PostgreSQL it is the client's view, network round
//! trip included. What the statements do not account for — `BEGIN`, `COMMIT` (with its fsync),
//! taking a connection from the pool, handing each statement to the connection and its answer
//! back, and the store's own Rust code — is the rest. For scale, the same raw pieces are timed
//! alone: a round trip of `SELECT 1` on a held connection, a pool acquire, an empty `BEGIN`, and
//! the `COMMIT` of a one-row 1 KB insert.
//!
//! Run it with `cargo bench -p reverie-store --bench breakdown` (about 20 s). Without `--bench`
//! (as under `cargo test --benches`) it only says how to run it.

mod common;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{actor, content, memories, new_path};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use reverie_store::{MemoryPatch, Store, Synchronous};
use sqlx::{Database, Executor, Pool};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

/// Creates and updates timed end to end, and timed again statement by statement.
const RUNS: usize = 1_000;
const TRACED_RUNS: usize = 300;

// ---------------------------------------------------------------------------------------------
// Collecting sqlx's statement timings.

static RECORDING: AtomicBool = AtomicBool::new(false);
static STATEMENTS: Mutex<Vec<(String, f64)>> = Mutex::new(Vec::new());

/// Keeps the `sqlx::query` events (statement, duration) while `RECORDING` is on.
struct Collector;

#[derive(Default)]
struct Statement {
    summary: String,
    sql: String,
    secs: f64,
}

impl Visit for Statement {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => self.summary = value.to_string(),
            "db.statement" => self.sql = value.to_string(),
            _ => {}
        }
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.secs = value;
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl Subscriber for Collector {
    fn register_callsite(&self, m: &'static Metadata<'static>) -> Interest {
        if m.target() == "sqlx::query" {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.target() == "sqlx::query" && RECORDING.load(Ordering::Relaxed)
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut s = Statement::default();
        event.record(&mut s);
        let sql = if s.sql.trim().is_empty() {
            s.summary
        } else {
            s.sql
        };
        STATEMENTS.lock().unwrap().push((label(&sql), s.secs));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// A statement shortened for the table: column lists and value lists become `…`.
fn label(sql: &str) -> String {
    let sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::new();
    let mut rest = sql.as_str();
    // SELECT <columns> FROM → SELECT … FROM, unless short (COUNT(*), content).
    if let Some(after) = rest.strip_prefix("SELECT ")
        && let Some(from) = after.find(" FROM ")
        && from > 24
    {
        out.push_str("SELECT …");
        rest = &after[from..];
    }
    // Parenthesised lists longer than a few words become (…).
    let mut depth = 0;
    let mut start = 0;
    for (k, ch) in rest.char_indices() {
        match ch {
            '(' => {
                if depth == 0 {
                    start = k;
                }
                depth += 1;
            }
            ')' => {
                depth -= 1;
                if depth == 0 {
                    let inner = &rest[start + 1..k];
                    if inner.len() > 16 {
                        out.push_str("(…)");
                    } else {
                        out.push_str(&rest[start..=k]);
                    }
                }
            }
            _ if depth == 0 => out.push(ch),
            _ => {}
        }
    }
    // RETURNING <columns> → RETURNING …
    if let Some(k) = out.find(" RETURNING ") {
        out.truncate(k);
        out.push_str(" RETURNING …");
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Timing.

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// The statements one call ran, in order, with the median duration of each position.
fn statement_table(calls: &[Vec<(String, f64)>]) -> Vec<(String, Duration)> {
    let n = calls.iter().map(Vec::len).min().unwrap_or(0);
    (0..n)
        .map(|k| {
            let label = calls[0][k].0.clone();
            let times = calls
                .iter()
                .filter(|c| c[k].0 == label)
                .map(|c| Duration::from_secs_f64(c[k].1))
                .collect();
            (label, median(times))
        })
        .collect()
}

fn print_op(backend: &str, op: &str, end_to_end: Duration, calls: &[Vec<(String, f64)>]) {
    let table = statement_table(calls);
    let counts: BTreeMap<usize, usize> = calls.iter().fold(BTreeMap::new(), |mut m, c| {
        *m.entry(c.len()).or_default() += 1;
        m
    });
    println!(
        "\n{backend} {op}: median {} end to end ({RUNS} runs); statements per call: {counts:?}",
        us(end_to_end)
    );
    let mut sum = Duration::ZERO;
    for (label, d) in &table {
        println!("  {:>10}  {label}", us(*d));
        sum += *d;
    }
    println!(
        "  {:>10}  sum of the {} statements (sqlx's timing, medians)",
        us(sum),
        table.len()
    );
    println!(
        "  {:>10}  the rest: pool, BEGIN, COMMIT, round trips to the connection, store code",
        us(end_to_end.saturating_sub(sum))
    );
}

/// Raw pieces, for scale: a statement round trip on a held connection, a pool acquire, an empty
/// BEGIN, and the COMMIT of a one-row 1 KB insert.
async fn raw_pieces<DB: Database>(pool: &Pool<DB>, begin: &'static str, ddl: &'static str)
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
{
    pool.execute(ddl).await.unwrap();
    let mut rt = Vec::new();
    let mut conn = pool.acquire().await.unwrap();
    for _ in 0..RUNS {
        let t = Instant::now();
        (&mut *conn).execute("SELECT 1").await.unwrap();
        rt.push(t.elapsed());
    }
    drop(conn);
    let mut acquire = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let c = pool.acquire().await.unwrap();
        acquire.push(t.elapsed());
        drop(c);
    }
    let body = content(0, 99);
    let insert = format!(
        "INSERT INTO bench_breakdown (body) VALUES ('{}')",
        body.replace('\'', "''")
    );
    let insert: &'static str = Box::leak(insert.into_boxed_str());
    let (mut begins, mut inserts, mut commits) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS / 2 {
        let t = Instant::now();
        let mut tx = pool.begin_with(begin).await.unwrap();
        begins.push(t.elapsed());
        let t = Instant::now();
        (&mut *tx).execute(insert).await.unwrap();
        inserts.push(t.elapsed());
        let t = Instant::now();
        tx.commit().await.unwrap();
        commits.push(t.elapsed());
    }
    println!(
        "  raw, for scale (medians): SELECT 1 on a held connection {}; pool acquire {}; \
         {begin} {}; INSERT of 1 KB {}; COMMIT {}",
        us(median(rt)),
        us(median(acquire)),
        us(median(begins)),
        us(median(inserts)),
        us(median(commits)),
    );
}

async fn breakdown<S: Store>(store: &S) {
    let started = Instant::now();
    let filled = common::fill(store, false).await;
    eprintln!(
        "{}: filled {} memories in {:.1} s",
        store.backend(),
        memories(),
        started.elapsed().as_secs_f64()
    );
    let actor = actor();
    let id = filled.store_id.as_str();
    let mut rng = StdRng::seed_from_u64(3);
    let mut n = 1_000_000u64;

    let mut create = |traced: bool| {
        n += 1;
        let (path, body) = (new_path(n), content(memories() + n as usize, 0));
        let actor = &actor;
        async move {
            STATEMENTS.lock().unwrap().clear();
            RECORDING.store(traced, Ordering::Relaxed);
            let t = Instant::now();
            let m = store.create_memory(id, &path, &body, actor).await.unwrap();
            let elapsed = t.elapsed();
            RECORDING.store(false, Ordering::Relaxed);
            let statements = std::mem::take(&mut *STATEMENTS.lock().unwrap());
            store.delete_memory(id, &m.id, None, actor).await.unwrap();
            (elapsed, statements)
        }
    };
    for _ in 0..200 {
        create(false).await;
    }
    let mut times = Vec::new();
    for _ in 0..RUNS {
        times.push(create(false).await.0);
    }
    let mut calls = Vec::new();
    for _ in 0..TRACED_RUNS {
        calls.push(create(true).await.1);
    }
    print_op(store.backend(), "create", median(times), &calls);

    let mut update = |traced: bool| {
        n += 1;
        let i = rng.random_range(0..filled.ids.len());
        let (memory_id, body) = (&filled.ids[i], content(i, n));
        let actor = &actor;
        async move {
            let patch = MemoryPatch {
                content: Some(body),
                ..Default::default()
            };
            STATEMENTS.lock().unwrap().clear();
            RECORDING.store(traced, Ordering::Relaxed);
            let t = Instant::now();
            store
                .update_memory(id, memory_id, patch, actor)
                .await
                .unwrap();
            let elapsed = t.elapsed();
            RECORDING.store(false, Ordering::Relaxed);
            (elapsed, std::mem::take(&mut *STATEMENTS.lock().unwrap()))
        }
    };
    let mut times = Vec::new();
    for _ in 0..RUNS {
        times.push(update(false).await.0);
    }
    let mut calls = Vec::new();
    for _ in 0..TRACED_RUNS {
        calls.push(update(true).await.1);
    }
    print_op(store.backend(), "update", median(times), &calls);
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("breakdown: run it with `cargo bench -p reverie-store --bench breakdown`");
        return;
    }
    tracing::subscriber::set_global_default(Collector).expect("no other subscriber");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let store = reverie_store::connect_sqlite(&dir.path().join("b.db"), Synchronous::Full)
            .await
            .unwrap();
        println!("SQLite, journal_mode=WAL, synchronous=FULL:");
        breakdown(&store).await;
        let ddl = "CREATE TABLE IF NOT EXISTS bench_breakdown \
                   (id INTEGER PRIMARY KEY, body TEXT NOT NULL)";
        raw_pieces(store.pool(), "BEGIN IMMEDIATE", ddl).await;
        // The same file with synchronous=NORMAL: COMMIT without the fsync.
        let normal = reverie_store::connect_sqlite(&dir.path().join("b.db"), Synchronous::Normal)
            .await
            .unwrap();
        println!("  the same with synchronous=NORMAL (no fsync at commit):");
        raw_pieces(normal.pool(), "BEGIN IMMEDIATE", ddl).await;

        let store = reverie_store::connect_postgres(&reverie_testkit::pg::fresh_durable_database())
            .await
            .unwrap();
        println!("\nPostgreSQL, fsync=on, synchronous_commit=on:");
        breakdown(&store).await;
        raw_pieces(
            store.pool(),
            "BEGIN",
            "CREATE TABLE bench_breakdown (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)",
        )
        .await;
    });
}

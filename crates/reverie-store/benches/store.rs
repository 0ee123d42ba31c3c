//! Criterion benchmarks of the store on SQLite and PostgreSQL: create, update, retrieve, list
//! and whole-store restore on a store of 2,000 memories of about 1 KB each.
//!
//! Setup, per backend: one store filled with 2,000 distinct markdown-ish memories of about
//! 1 KB under eight folders (`/projects/p3/notes-0042.md`), then every memory updated once, so
//! that the revision after the fill and the revision after the update differ in every memory.
//! SQLite runs with `Synchronous::Full` (WAL, fsync of the WAL at every commit) for every
//! figure but `sqlite/create_normal`, which opens the same file with `Synchronous::Normal` as a
//! second, labelled data point. PostgreSQL runs on the testkit's *durable* cluster
//! ([`reverie_testkit::pg::fresh_durable_database`]: `fsync`, `synchronous_commit` and
//! `full_page_writes` on), checked with `SHOW` before anything is measured.
//!
//! Benchmarks, in groups `sqlite/…` and `postgres/…`:
//! - `retrieve`: `get_memory` of a random one of the 2,000;
//! - `create`: `create_memory` of a new ~1 KB memory. The memory is deleted again, untimed, so
//!   the store stays at 2,000 memories;
//! - `update`: `update_memory` of a random memory with new ~1 KB content;
//! - `list`: first page of `list_memories`, limit 20, basic view; `list_prefix_depth1`: the
//!   same under `/projects/p3/` with depth 1; `list_folders`: `/projects/` with depth 1 (the
//!   eight folders rolled up into prefixes);
//! - `restore`: `restore_store` of the whole store, alternately to the revision after the fill
//!   and to the revision after the update, so that each iteration rewrites all 2,000 memories.
//!   One full restore is timed per iteration, ten samples.
//!
//! Why baselines: the machine these run on is small (2 cores) and shared, so absolute times
//! drift from run to run. Each operation is therefore paired with a `…_baseline`: the minimal
//! raw sqlx equivalent on the same database and the same pool (same synchronous mode, same
//! durability), measured in the same run. The ratio store/baseline is what the store adds on
//! top of the database's own cost, and it moves less between runs than the absolute figure.
//! The baselines:
//! - `retrieve_baseline`: `SELECT content FROM memories WHERE id = $1`;
//! - `create_baseline`: one transaction (`BEGIN IMMEDIATE` on SQLite) inserting one ~1 KB row
//!   into a scratch table, then commit (the row is deleted again, untimed, like the memory);
//! - `update_baseline`: one transaction updating one ~1 KB row of a 2,000-row scratch table;
//! - `list_baseline`: the page query alone, `SELECT <basic columns> FROM memories WHERE
//!   store_id = $1 AND path >= $2 AND path < $3 ORDER BY path LIMIT 21`;
//! - `restore_baseline`: one transaction reading the 2,000 target versions with their content
//!   from `memory_versions` and writing 2,000 ~1 KB rows of the scratch table.
//!
//! Everything runs on one tokio multi-thread runtime through criterion's `to_async`, with the
//! stores' own pools. Criterion reports time per operation; `BENCHMARKS.md` quotes its median.
//! Run with `scripts/bench` (or `cargo bench -p reverie-store --bench store`); the `breakdown`
//! bench next to this one shows where a create's and an update's time goes.
//! Figures and how to read them are in `BENCHMARKS.md`.

use std::cell::OnceCell;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};
use criterion::{criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use reverie_core::View;
use reverie_store::{MemoryPatch, MemoryQuery, PgStore, SqliteStore, Store, Synchronous};
use sqlx::{PgPool, Row, SqlitePool};
use tokio::runtime::Runtime;

mod common;

use common::{FOLDERS, actor, content, memories, new_path};

// ---------------------------------------------------------------------------------------------
// Raw sqlx baselines.

/// The minimal raw-sqlx equivalent of each measured operation, on the store's own pool.
trait Raw {
    /// Creates the scratch tables and fills `bench_scratch` with `memories()` rows.
    async fn prepare(&self);
    async fn get(&self, memory_id: &str) -> usize;
    /// Inserts one row in its own transaction; returns its id.
    async fn insert(&self, path: &str, body: &str) -> i64;
    async fn delete_inserted(&self, id: i64);
    async fn update(&self, id: i64, body: &str);
    async fn list(&self, store_id: &str, from: &str, upper: &str) -> usize;
    /// Reads the versions of `store_id` with `after < revision <= upto`, content included,
    /// and writes each one's content into a row of `bench_scratch`, in one transaction.
    async fn restore(&self, store_id: &str, after: i64, upto: i64) -> usize;
}

macro_rules! impl_raw {
    ($pool:ty, begin = $begin:literal, ddl = [$($ddl:literal),+ $(,)?]) => {
        impl Raw for $pool {
            async fn prepare(&self) {
                $(sqlx::query($ddl).execute(self).await.unwrap();)+
                let mut tx = self.begin_with($begin).await.unwrap();
                sqlx::query("DELETE FROM bench_scratch").execute(&mut *tx).await.unwrap();
                for i in 0..memories() {
                    sqlx::query("INSERT INTO bench_scratch (id, body) VALUES ($1, $2)")
                        .bind(i as i64 + 1)
                        .bind(content(i, 0).into_bytes())
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                }
                tx.commit().await.unwrap();
            }

            async fn get(&self, memory_id: &str) -> usize {
                let row = sqlx::query("SELECT content FROM memories WHERE id = $1")
                    .bind(memory_id)
                    .fetch_one(self)
                    .await
                    .unwrap();
                row.get::<Vec<u8>, _>(0).len()
            }

            async fn insert(&self, path: &str, body: &str) -> i64 {
                let mut tx = self.begin_with($begin).await.unwrap();
                let id = sqlx::query(
                    "INSERT INTO bench_inserts (path, body) VALUES ($1, $2) RETURNING id",
                )
                .bind(path)
                .bind(body.as_bytes())
                .fetch_one(&mut *tx)
                .await
                .unwrap()
                .get::<i64, _>(0);
                tx.commit().await.unwrap();
                id
            }

            async fn delete_inserted(&self, id: i64) {
                sqlx::query("DELETE FROM bench_inserts WHERE id = $1")
                    .bind(id)
                    .execute(self)
                    .await
                    .unwrap();
            }

            async fn update(&self, id: i64, body: &str) {
                let mut tx = self.begin_with($begin).await.unwrap();
                sqlx::query("UPDATE bench_scratch SET body = $1 WHERE id = $2")
                    .bind(body.as_bytes())
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }

            async fn list(&self, store_id: &str, from: &str, upper: &str) -> usize {
                sqlx::query(
                    "SELECT id, store_id, path, content_sha256, content_size_bytes, version_id, \
                     created_at, updated_at FROM memories \
                     WHERE store_id = $1 AND path >= $2 AND path < $3 ORDER BY path LIMIT 21",
                )
                .bind(store_id)
                .bind(from)
                .bind(upper)
                .fetch_all(self)
                .await
                .unwrap()
                .len()
            }

            async fn restore(&self, store_id: &str, after: i64, upto: i64) -> usize {
                let mut tx = self.begin_with($begin).await.unwrap();
                let rows = sqlx::query(
                    "SELECT memory_id, content FROM memory_versions \
                     WHERE store_id = $1 AND revision > $2 AND revision <= $3 ORDER BY memory_id",
                )
                .bind(store_id)
                .bind(after)
                .bind(upto)
                .fetch_all(&mut *tx)
                .await
                .unwrap();
                for (k, row) in rows.iter().enumerate() {
                    sqlx::query("UPDATE bench_scratch SET body = $1 WHERE id = $2")
                        .bind(row.get::<Vec<u8>, _>(1))
                        .bind(k as i64 + 1)
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                }
                tx.commit().await.unwrap();
                rows.len()
            }
        }
    };
}

impl_raw!(
    SqlitePool,
    begin = "BEGIN IMMEDIATE",
    ddl = [
        "CREATE TABLE IF NOT EXISTS bench_scratch (id INTEGER PRIMARY KEY, body BLOB NOT NULL)",
        "CREATE TABLE IF NOT EXISTS bench_inserts \
         (id INTEGER PRIMARY KEY, path TEXT NOT NULL, body BLOB NOT NULL)",
    ]
);

impl_raw!(
    PgPool,
    begin = "BEGIN",
    ddl = [
        "CREATE TABLE IF NOT EXISTS bench_scratch (id BIGINT PRIMARY KEY, body BYTEA NOT NULL)",
        "CREATE TABLE IF NOT EXISTS bench_inserts \
         (id BIGSERIAL PRIMARY KEY, path TEXT NOT NULL, body BYTEA NOT NULL)",
    ]
);

// ---------------------------------------------------------------------------------------------
// Setup.

/// A filled benchmark store on one backend, with its raw pool.
struct Env<S, P> {
    store: S,
    raw: P,
    store_id: String,
    /// The 2,000 memories, in fill order.
    ids: Vec<String>,
    /// The revision after the fill, and after every memory was updated once.
    rev_filled: i64,
    rev_updated: i64,
    /// Hands out fresh content generations and paths.
    counter: AtomicU64,
    /// SQLite only: the same file opened with `Synchronous::Normal`.
    normal: Option<(SqliteStore, SqlitePool)>,
    _dir: Option<tempfile::TempDir>,
}

/// What one benchmark runs against: a store handle and its raw pool, on the filled store.
struct Ctx<'a, S, P> {
    store: &'a S,
    raw: &'a P,
    store_id: &'a str,
    ids: &'a [String],
    rev_filled: i64,
    rev_updated: i64,
    counter: &'a AtomicU64,
}

impl<S, P> Clone for Ctx<'_, S, P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S, P> Copy for Ctx<'_, S, P> {}

impl<S, P> Ctx<'_, S, P> {
    fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }
}

impl<S, P> Env<S, P> {
    fn ctx(&self) -> Ctx<'_, S, P> {
        Ctx {
            store: &self.store,
            raw: &self.raw,
            store_id: &self.store_id,
            ids: &self.ids,
            rev_filled: self.rev_filled,
            rev_updated: self.rev_updated,
            counter: &self.counter,
        }
    }

    /// The same store through the `Synchronous::Normal` handle (SQLite only).
    fn ctx_normal(&self) -> Ctx<'_, SqliteStore, SqlitePool> {
        let (store, raw) = self.normal.as_ref().expect("a SQLite environment");
        Ctx {
            store,
            raw,
            store_id: &self.store_id,
            ids: &self.ids,
            rev_filled: self.rev_filled,
            rev_updated: self.rev_updated,
            counter: &self.counter,
        }
    }
}

/// Fills a new store with `memories()` memories, then updates each once, and prepares the
/// baselines' scratch tables.
async fn fill<S: Store, P: Raw>(
    store: S,
    raw: P,
    normal: Option<(SqliteStore, SqlitePool)>,
    dir: Option<tempfile::TempDir>,
) -> Env<S, P> {
    let started = Instant::now();
    let filled = common::fill(&store, true).await;
    raw.prepare().await;
    eprintln!(
        "{}: filled {} memories and updated each once in {:.1} s (revisions {} and {})",
        store.backend(),
        memories(),
        started.elapsed().as_secs_f64(),
        filled.rev_filled,
        filled.rev_updated,
    );
    Env {
        store,
        raw,
        store_id: filled.store_id,
        ids: filled.ids,
        rev_filled: filled.rev_filled,
        rev_updated: filled.rev_updated,
        counter: AtomicU64::new(2),
        normal,
        _dir: dir,
    }
}

fn setup_sqlite(rt: &Runtime) -> Env<SqliteStore, SqlitePool> {
    rt.block_on(async {
        // Under target/ rather than /tmp, which is a RAM disk on some machines: fsync must
        // reach a real disk for the figures to mean anything.
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let file = dir.path().join("bench.db");
        let store = reverie_store::connect_sqlite(&file, Synchronous::Full)
            .await
            .unwrap();
        let normal = reverie_store::connect_sqlite(&file, Synchronous::Normal)
            .await
            .unwrap();
        let check = |pool: &SqlitePool| {
            let pool = pool.clone();
            async move {
                let mode: i64 = sqlx::query("PRAGMA synchronous")
                    .fetch_one(&pool)
                    .await
                    .unwrap()
                    .get(0);
                let journal: String = sqlx::query("PRAGMA journal_mode")
                    .fetch_one(&pool)
                    .await
                    .unwrap()
                    .get(0);
                (mode, journal)
            }
        };
        let (full_mode, journal) = check(store.pool()).await;
        let (normal_mode, _) = check(normal.pool()).await;
        assert_eq!((full_mode, journal.as_str()), (2, "wal"), "FULL, WAL");
        assert_eq!(normal_mode, 1, "NORMAL");
        eprintln!(
            "sqlite: {} (journal_mode=wal, synchronous=FULL)",
            file.display()
        );
        let raw = store.pool().clone();
        let normal_raw = normal.pool().clone();
        fill(store, raw, Some((normal, normal_raw)), Some(dir)).await
    })
}

fn setup_postgres(rt: &Runtime) -> Env<PgStore, PgPool> {
    rt.block_on(async {
        let url = reverie_testkit::pg::fresh_durable_database();
        let store = reverie_store::connect_postgres(&url).await.unwrap();
        let mut settings = Vec::new();
        for (name, sql) in [
            ("fsync", "SHOW fsync"),
            ("synchronous_commit", "SHOW synchronous_commit"),
            ("full_page_writes", "SHOW full_page_writes"),
        ] {
            let value: String = sqlx::query(sql)
                .fetch_one(store.pool())
                .await
                .unwrap()
                .get(0);
            assert_eq!(value, "on", "the benchmark cluster must be durable: {name}");
            settings.push(format!("{name}={value}"));
        }
        eprintln!("postgres: durable cluster ({})", settings.join(", "));
        let raw = store.pool().clone();
        fill(store, raw, None, None).await
    })
}

// ---------------------------------------------------------------------------------------------
// Benchmarks, the same for both backends.

type Group<'a> = BenchmarkGroup<'a, WallTime>;

fn bench_retrieve<'a, S: Store, P: Raw>(
    g: &mut Group<'_>,
    rt: &Runtime,
    ctx: &dyn Fn() -> Ctx<'a, S, P>,
) {
    g.throughput(Throughput::Elements(1));
    g.bench_function("retrieve", |b| {
        let c = ctx();
        let mut rng = StdRng::seed_from_u64(1);
        b.to_async(rt).iter(|| {
            let id = &c.ids[rng.random_range(0..c.ids.len())];
            async move { c.store.get_memory(c.store_id, id).await.unwrap() }
        });
    });
    g.bench_function("retrieve_baseline", |b| {
        let c = ctx();
        let mut rng = StdRng::seed_from_u64(1);
        b.to_async(rt).iter(|| {
            let id = &c.ids[rng.random_range(0..c.ids.len())];
            async move { c.raw.get(id).await }
        });
    });
}

fn bench_list<'a, S: Store, P: Raw>(
    g: &mut Group<'_>,
    rt: &Runtime,
    ctx: &dyn Fn() -> Ctx<'a, S, P>,
) {
    g.throughput(Throughput::Elements(1));
    let listings = [
        ("list", None, None, 20),
        ("list_prefix_depth1", Some("/projects/p3/"), Some(1), 20),
        ("list_folders", Some("/projects/"), Some(1), FOLDERS),
    ];
    for (name, prefix, depth, expect) in listings {
        // The folder listing runs one query per folder: fewer samples fit the time.
        g.sample_size(if expect == FOLDERS { 50 } else { 100 });
        g.bench_function(name, |b| {
            let c = ctx();
            let q = MemoryQuery {
                path_prefix: prefix.map(str::to_string),
                depth,
                limit: Some(20),
                view: View::Basic,
                ..Default::default()
            };
            b.to_async(rt).iter(|| async {
                let page = c.store.list_memories(c.store_id, &q).await.unwrap();
                assert_eq!(page.data.len(), expect);
                page
            });
        });
    }
    g.sample_size(100);
    g.bench_function("list_baseline", |b| {
        let c = ctx();
        b.to_async(rt).iter(|| async {
            let n = c.raw.list(c.store_id, "/", "0").await;
            assert_eq!(n, 21);
        });
    });
}

/// `create` (or `create_normal`) and its baseline on the store `ctx` gives.
fn bench_create<'a, S: Store, P: Raw>(
    g: &mut Group<'_>,
    rt: &Runtime,
    name: &str,
    ctx: &dyn Fn() -> Ctx<'a, S, P>,
) {
    g.throughput(Throughput::Elements(1));
    g.bench_function(name, |b| {
        let c = ctx();
        let actor = actor();
        let actor = &actor;
        b.to_async(rt).iter_custom(|iters| async move {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let n = c.next();
                let path = new_path(n);
                let body = content(memories() + n as usize, 0);
                let t = Instant::now();
                let m = c
                    .store
                    .create_memory(c.store_id, &path, &body, actor)
                    .await
                    .unwrap();
                timed += t.elapsed();
                // Untimed: keep the store at 2,000 memories.
                c.store
                    .delete_memory(c.store_id, &m.id, None, actor)
                    .await
                    .unwrap();
            }
            timed
        });
    });
    g.bench_function(format!("{name}_baseline"), |b| {
        let c = ctx();
        b.to_async(rt).iter_custom(|iters| async move {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let n = c.next();
                let path = new_path(n);
                let body = content(memories() + n as usize, 0);
                let t = Instant::now();
                let id = c.raw.insert(&path, &body).await;
                timed += t.elapsed();
                c.raw.delete_inserted(id).await;
            }
            timed
        });
    });
}

fn bench_update<'a, S: Store, P: Raw>(
    g: &mut Group<'_>,
    rt: &Runtime,
    ctx: &dyn Fn() -> Ctx<'a, S, P>,
) {
    g.throughput(Throughput::Elements(1));
    g.bench_function("update", |b| {
        let c = ctx();
        let actor = actor();
        let actor = &actor;
        let mut rng = StdRng::seed_from_u64(2);
        b.to_async(rt).iter_custom(|iters| {
            // Contents made before the clock starts.
            let work: Vec<(usize, String)> = (0..iters)
                .map(|_| {
                    let i = rng.random_range(0..c.ids.len());
                    (i, content(i, c.next()))
                })
                .collect();
            async move {
                let t = Instant::now();
                for (i, body) in work {
                    let patch = MemoryPatch {
                        content: Some(body),
                        ..Default::default()
                    };
                    black_box(
                        c.store
                            .update_memory(c.store_id, &c.ids[i], patch, actor)
                            .await
                            .unwrap(),
                    );
                }
                t.elapsed()
            }
        });
    });
    g.bench_function("update_baseline", |b| {
        let c = ctx();
        let mut rng = StdRng::seed_from_u64(2);
        b.to_async(rt).iter_custom(|iters| {
            let work: Vec<(usize, String)> = (0..iters)
                .map(|_| {
                    let i = rng.random_range(0..c.ids.len());
                    (i, content(i, c.next()))
                })
                .collect();
            async move {
                let t = Instant::now();
                for (i, body) in work {
                    c.raw.update(i as i64 + 1, &body).await;
                }
                t.elapsed()
            }
        });
    });
}

fn bench_restore<'a, S: Store, P: Raw>(
    g: &mut Group<'_>,
    rt: &Runtime,
    ctx: &dyn Fn() -> Ctx<'a, S, P>,
) {
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g.warm_up_time(Duration::from_millis(1));
    g.measurement_time(Duration::from_secs(5));
    // Which revision the next restore goes to; flips every iteration so that every restore
    // rewrites all 2,000 memories.
    let to_filled = AtomicBool::new(true);
    g.bench_function("restore", |b| {
        let c = ctx();
        let actor = actor();
        let actor = &actor;
        let to_filled = &to_filled;
        b.to_async(rt).iter_custom(|iters| async move {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let target = if to_filled.fetch_xor(true, Ordering::Relaxed) {
                    c.rev_filled
                } else {
                    c.rev_updated
                };
                let t = Instant::now();
                let report = c
                    .store
                    .restore_store(c.store_id, target, actor)
                    .await
                    .unwrap();
                timed += t.elapsed();
                assert_eq!(report.modified.len(), memories(), "a full restore");
                assert_eq!(report.changed(), memories(), "a full restore");
            }
            timed
        });
    });
    let to_filled = AtomicBool::new(true);
    g.bench_function("restore_baseline", |b| {
        let c = ctx();
        let to_filled = &to_filled;
        b.to_async(rt).iter_custom(|iters| async move {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let (after, upto) = if to_filled.fetch_xor(true, Ordering::Relaxed) {
                    (0, c.rev_filled)
                } else {
                    (c.rev_filled, c.rev_updated)
                };
                let t = Instant::now();
                let n = c.raw.restore(c.store_id, after, upto).await;
                timed += t.elapsed();
                assert_eq!(n, memories());
            }
            timed
        });
    });
}

/// Every benchmark of one backend, in group `name`. The backend is set up on first use, so a
/// filter that selects none of its benchmarks skips its setup too.
fn bench_backend<'a, S: Store, P: Raw>(
    c: &mut Criterion,
    rt: &Runtime,
    name: &str,
    ctx: &dyn Fn() -> Ctx<'a, S, P>,
    normal: Option<&dyn Fn() -> Ctx<'a, SqliteStore, SqlitePool>>,
) {
    let mut g = c.benchmark_group(name);
    bench_retrieve(&mut g, rt, ctx);
    bench_list(&mut g, rt, ctx);
    g.measurement_time(Duration::from_secs(4));
    g.sample_size(40);
    bench_create(&mut g, rt, "create", ctx);
    if let Some(normal) = normal {
        bench_create(&mut g, rt, "create_normal", normal);
    }
    bench_update(&mut g, rt, ctx);
    bench_restore(&mut g, rt, ctx);
    g.finish();
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();

    let sqlite = OnceCell::new();
    let sqlite_ctx = || sqlite.get_or_init(|| setup_sqlite(&rt)).ctx();
    let sqlite_normal = || sqlite.get_or_init(|| setup_sqlite(&rt)).ctx_normal();
    bench_backend(c, &rt, "sqlite", &sqlite_ctx, Some(&sqlite_normal));

    let postgres = OnceCell::new();
    let postgres_ctx = || postgres.get_or_init(|| setup_postgres(&rt)).ctx();
    bench_backend(c, &rt, "postgres", &postgres_ctx, None);
}

criterion_group! {
    name = store;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(store);

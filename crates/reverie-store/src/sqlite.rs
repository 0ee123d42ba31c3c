//! The SQLite backend: one file, WAL journal, and a configurable `synchronous` level
//! (`FULL` by default: a committed change survives a power cut, not only a crash).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use reverie_core::{Error, Result};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool};

use crate::backend::Backend;
use crate::logic::SqlStore;
use crate::sqlite_direct::DirectReads;

// SQLite runs each statement on the connection's worker thread, and a round trip to it costs
// more than most statements on a small VM; sqlx-sqlite runs several statements in one query
// (with absolute `$n` parameters), so the two hottest pairs of the write path go as one.
impl_dao!(
    SqliteConnection,
    Sqlite,
    null_blob = "NULL",
    extra = {
        async fn bump_and_record(
            &mut self,
            id: &str,
            count_delta: i64,
            r: &RevisionRow,
        ) -> Result<Option<StoreRow>> {
            // The revision row first, so that the store row RETURNed by the last statement is the
            // one row this query yields.
            let row = sqlx::query(concat!(
            "INSERT INTO store_revisions (store_id, revision, created_at, actor_type, actor_id, summary) \
             SELECT id, revision + 1, $3, $4, $5, $6 FROM memory_stores WHERE id = $1; \
             UPDATE memory_stores SET revision = revision + 1, memory_count = memory_count + $2 \
             WHERE id = $1 RETURNING ", store_cols!()
        ))
        .bind(id)
        .bind(count_delta)
        .bind(r.created_at)
        .bind(&r.actor_type)
        .bind(&r.actor_id)
        .bind(&r.summary)
        .fetch_optional(&mut *self)
        .await
        .map_err(db_err)?;
            row.as_ref().map(store_row).transpose().map_err(db_err)
        }

        async fn insert_memory_and_version(
            &mut self,
            m: &MemoryRow,
            v: &VersionRow,
        ) -> Result<bool> {
            // The version only if the memory went in (`changes()` counts the previous statement).
            let done = sqlx::query(concat!(
            "INSERT INTO memories (", memory_cols!(), ", content) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (store_id, path) DO NOTHING; \
             INSERT INTO memory_versions (id, store_id, memory_id, revision, operation, path, content, \
             content_sha256, content_size_bytes, actor_type, actor_id, created_at) \
             SELECT $10, $2, $1, $11, 'created', $3, $9, $4, $5, $12, $13, $7 WHERE changes() = 1"
        ))
        .bind(&m.id)
        .bind(&m.store_id)
        .bind(&m.path)
        .bind(&m.content_sha256)
        .bind(m.content_size_bytes)
        .bind(&m.version_id)
        .bind(m.created_at)
        .bind(m.updated_at)
        .bind(m.content.as_deref().unwrap_or_default())
        .bind(&v.id)
        .bind(v.revision)
        .bind(&v.actor_type)
        .bind(&v.actor_id)
        .execute(&mut *self)
        .await
        .map_err(db_err)?;
            match done.rows_affected() {
                0 => Ok(false),
                2 => Ok(true),
                n => Err(reverie_core::Error::storage(format!(
                    "inserting a memory and its version changed {n} rows"
                ))),
            }
        }

        async fn update_memory_and_version(&mut self, m: &MemoryRow, v: &VersionRow) -> Result<()> {
            let done = sqlx::query(
                "INSERT INTO memory_versions (id, store_id, memory_id, revision, operation, path, content, \
                 content_sha256, content_size_bytes, actor_type, actor_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12); \
                 UPDATE memories SET path = $6, content = $7, content_sha256 = $8, content_size_bytes = $9, \
                 version_id = $1, updated_at = $12 WHERE store_id = $2 AND id = $3",
            )
            .bind(&v.id)
            .bind(&v.store_id)
            .bind(&v.memory_id)
            .bind(v.revision)
            .bind(&v.operation)
            .bind(&m.path)
            .bind(m.content.as_deref().unwrap_or_default())
            .bind(&m.content_sha256)
            .bind(m.content_size_bytes)
            .bind(&v.actor_type)
            .bind(&v.actor_id)
            .bind(m.updated_at)
            .execute(&mut *self)
            .await
            .map_err(db_err)?;
            match done.rows_affected() {
                2 => Ok(()),
                n => Err(reverie_core::Error::storage(format!(
                    "updating a memory and its version changed {n} rows"
                ))),
            }
        }
    }
);

impl_session_dao!(SqliteConnection, Sqlite);
impl_dream_dao!(SqliteConnection, Sqlite);
impl_key_dao!(SqliteConnection, Sqlite);
// FTS5 finds the entries holding any of the terms; each token is quoted, so no term is read as
// an operator.
impl_search_dao!(
    SqliteConnection,
    Sqlite,
    // CROSS JOIN fixes the join order: the full-text match runs once, as the outer loop. With
    // a plain JOIN the planner may scan the store's entries and run the MATCH for each one
    // (100× slower on a 16,000-entry store; BENCHMARKS.md).
    candidates = "SELECT i.memory_id, m.path, i.block, i.terms, i.term_count, i.updated_at \
                  FROM entry_fts CROSS JOIN entry_index i ON i.seq = entry_fts.rowid \
                  JOIN memories m ON m.id = i.memory_id \
                  WHERE entry_fts MATCH $1 AND i.store_id = $2",
    expression = |tokens: &[String]| tokens
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(" OR ")
);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite backend.
#[derive(Debug, Clone)]
pub struct SqliteBackend {
    pool: SqlitePool,
    gate: std::sync::Arc<tokio::sync::Mutex<()>>,
    direct: std::sync::Arc<DirectReads>,
}

impl Backend for SqliteBackend {
    type Db = Sqlite;
    type Conn = SqliteConnection;
    const NAME: &'static str = "sqlite";
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const BEGIN_SNAPSHOT: &'static str = "BEGIN";

    fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    fn write_gate(&self) -> Option<&std::sync::Arc<tokio::sync::Mutex<()>>> {
        Some(&self.gate)
    }

    fn direct(&self) -> Option<&std::sync::Arc<DirectReads>> {
        Some(&self.direct)
    }
}

/// A store in one SQLite file.
pub type SqliteStore = SqlStore<SqliteBackend>;

/// How hard SQLite works to make a commit durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// fsync the WAL at every commit: durable across power loss. The default.
    Full,
    /// fsync only at checkpoints: durable across crashes of the process, not of the machine.
    Normal,
}

impl FromStr for Synchronous {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "full" => Ok(Synchronous::Full),
            "normal" => Ok(Synchronous::Normal),
            _ => Err(Error::invalid(
                "synchronous",
                format!("{s:?} is not full or normal"),
            )),
        }
    }
}

/// Opens (creating if needed) the SQLite store at `path` and runs its migrations.
pub async fn connect_sqlite(path: &Path, synchronous: Synchronous) -> Result<SqliteStore> {
    if path.is_dir() {
        return Err(Error::storage(format!(
            "cannot open SQLite database {}: it is a directory",
            path.display()
        )));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            Error::storage(format!(
                "cannot create the folder {} for the database: {e}",
                parent.display()
            ))
        })?;
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(match synchronous {
            Synchronous::Full => SqliteSynchronous::Full,
            Synchronous::Normal => SqliteSynchronous::Normal,
        })
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(30))
        // Reads come from memory-mapped pages instead of a read(2) per page missing from the
        // connection's own small cache (2 MB by default): recall reads many index pages.
        .pragma("mmap_size", "268435456");
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        // The pool's default pings a connection before lending it: a round trip to the
        // connection's worker thread on every read, to detect a dropped server connection,
        // which an in-process SQLite file cannot have.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|e| {
            Error::storage(format!(
                "cannot open SQLite database {}: {e}",
                path.display()
            ))
        })?;
    migrate(&pool, path).await?;
    let store = SqlStore::new(SqliteBackend {
        pool,
        gate: Default::default(),
        direct: std::sync::Arc::new(DirectReads::new(path, synchronous)),
    });
    store.sync_search_index().await?;
    Ok(store)
}

/// Runs the migrations. Two processes opening a new file at once can race to apply the first
/// migration; the loser retries and finds it applied.
async fn migrate(pool: &SqlitePool, path: &Path) -> Result<()> {
    let mut attempt = 0;
    loop {
        match MIGRATOR.run(pool).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 5 => {
                attempt += 1;
                tracing::debug!(error = %e, attempt, "migration raced; retrying");
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
            }
            Err(e) => {
                return Err(Error::storage(format!(
                    "cannot migrate SQLite database {}: {e}",
                    path.display()
                )));
            }
        }
    }
}

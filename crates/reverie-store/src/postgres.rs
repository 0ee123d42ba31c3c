//! The PostgreSQL backend, for several reverie processes on several machines sharing one
//! database. Writers of a store serialize on the store's row, which every write updates first.

use std::time::Duration;

use reverie_core::{Error, Result};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres};

use crate::backend::Backend;
use crate::logic::SqlStore;

impl_dao!(PgConnection, Postgres, null_blob = "NULL::bytea");

impl_session_dao!(PgConnection, Postgres);
impl_dream_dao!(PgConnection, Postgres);
impl_key_dao!(PgConnection, Postgres);
// The GIN index finds the entries holding any of the terms. The expression is cast, not parsed
// by `to_tsquery`, so each token is taken as one lexeme, exactly as the index stores it.
impl_search_dao!(
    PgConnection,
    Postgres,
    candidates = "SELECT i.memory_id, m.path, i.block, i.terms, i.term_count, i.updated_at \
                  FROM entry_index i JOIN memories m ON m.id = i.memory_id \
                  WHERE i.tsv @@ CAST($1 AS tsquery) AND i.store_id = $2",
    expression = |tokens: &[String]| tokens
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(" | ")
);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The PostgreSQL backend.
#[derive(Debug, Clone)]
pub struct PgBackend {
    pool: PgPool,
}

impl Backend for PgBackend {
    type Db = Postgres;
    type Conn = PgConnection;
    const NAME: &'static str = "postgres";
    const BEGIN_WRITE: &'static str = "BEGIN";
    const BEGIN_SNAPSHOT: &'static str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

    fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// A store in a PostgreSQL database.
pub type PgStore = SqlStore<PgBackend>;

/// Connects to the PostgreSQL database at `url` and runs its migrations (under the migrator's
/// advisory lock, so that processes starting together migrate once).
pub async fn connect_postgres(url: &str) -> Result<PgStore> {
    let options: PgConnectOptions = url
        .parse()
        .map_err(|e| Error::invalid("database_url", format!("not a PostgreSQL URL: {e}")))?;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options)
        .await
        .map_err(|e| Error::storage(format!("cannot connect to PostgreSQL: {e}")))?;
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|e| Error::storage(format!("cannot migrate the PostgreSQL database: {e}")))?;
    let store = SqlStore::new(PgBackend { pool });
    store.sync_search_index().await?;
    Ok(store)
}

//! What the shared logic needs of a backend: its sqlx database type, its pool, and the
//! statement that opens a write transaction.

use crate::dao::Dao;
use crate::dao_dreams::DreamDao;
use crate::dao_keys::KeyDao;
use crate::dao_search::SearchDao;
use crate::dao_sessions::SessionDao;

/// A sqlx backend the shared logic runs on.
pub trait Backend: Send + Sync + std::fmt::Debug + 'static {
    /// The sqlx database.
    type Db: sqlx::Database<Connection = Self::Conn>;
    /// Its connection type, which implements every query.
    type Conn: Dao
        + SessionDao
        + DreamDao
        + SearchDao
        + KeyDao
        + sqlx::Connection<Database = Self::Db>;

    /// `"sqlite"` or `"postgres"`.
    const NAME: &'static str;
    /// Opens a write transaction. SQLite takes the write lock up front (`BEGIN IMMEDIATE`) so
    /// that two writers never deadlock upgrading read locks; PostgreSQL's writers serialize on
    /// the store row that every write updates first.
    const BEGIN_WRITE: &'static str;
    /// Opens a read transaction whose statements all see one snapshot (PostgreSQL's default
    /// isolation gives each statement its own).
    const BEGIN_SNAPSHOT: &'static str;

    /// The connection pool.
    fn pool(&self) -> &sqlx::Pool<Self::Db>;

    /// A queue the memory writes of this process wait in before they begin, where the database
    /// itself would make them poll for its one write lock (SQLite: a busy handler that sleeps up
    /// to 100 ms between tries, which gave create a p99 of 771 ms under 32 concurrent writers).
    /// `None` where the database queues writers itself (PostgreSQL's row locks).
    fn write_gate(&self) -> Option<&std::sync::Arc<tokio::sync::Mutex<()>>> {
        None
    }

    /// Reads that skip the driver and run on the calling thread, and ingest's batch writes,
    /// where the backend has them (SQLite: see `sqlite_direct`).
    fn direct(&self) -> Option<&std::sync::Arc<crate::sqlite_direct::DirectReads>> {
        None
    }
}

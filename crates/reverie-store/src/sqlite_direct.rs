//! Reads that run SQLite on the calling thread, through rusqlite, for the SQLite backend's
//! hottest single-statement reads: a memory by id or path, and a store's entries.
//!
//! sqlx runs each SQLite connection on a thread of its own, so every query is a message to
//! that thread and rows sent back over a channel, two wake-ups and a copy of every value:
//! about 0.2 ms for a point read SQLite answers in 4 µs, and most of a drift report's reading
//! of 16,000 entries (BENCHMARKS.md, "Where a point read's time goes"). These reads skip all
//! of that. They see what sqlx's connections see: each statement reads the last committed
//! state of the WAL, so a write that returned is visible here. Writes, transactions and
//! everything else stay on sqlx. A direct read that fails (the database busy past a short
//! wait, or anything else) is retried by the caller on the pool, whose answer, or error, is
//! the one given. rusqlite links the same bundled SQLite as sqlx-sqlite.
//!
//! One write runs here too: a batch of ingest (`append_batch`), a few hundred statements in one
//! transaction, which through sqlx were as many round trips to the connection's thread; here
//! they are one call on a blocking thread, on a connection of its own opened with the pool's
//! settings (WAL, `synchronous`, foreign keys, a 30 s busy wait), its statements kept
//! prepared. The caller holds the process's write gate around it, as around every write.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use reverie_core::curation::EntryMeta;
use reverie_core::{Error, Result};
use rusqlite::types::{Type, ValueRef};
use rusqlite::{Connection, OpenFlags, Row};

use crate::dao::Seek;
use crate::line_blocks::{Block, CODEC};
use crate::rows::{EventRow, MemoryRow, SessionRow};
use crate::rows_dreams::EntryCols;
use crate::sqlite::Synchronous;

/// Idle connections kept for reuse; more may be open at once under load.
const MAX_IDLE: usize = 8;

/// Read-only connections to one SQLite file, opened on demand and reused.
#[derive(Debug)]
pub struct DirectReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// The connection of `append_batch`, opened at its first use.
    writer: Mutex<Option<Connection>>,
    synchronous: Synchronous,
}

impl DirectReads {
    pub(crate) fn new(path: &Path, synchronous: Synchronous) -> DirectReads {
        DirectReads {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            writer: Mutex::new(None),
            synchronous,
        }
    }

    fn open_writer(&self) -> rusqlite::Result<Connection> {
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        c.busy_timeout(Duration::from_secs(30))?;
        c.execute_batch(match self.synchronous {
            Synchronous::Full => "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
            Synchronous::Normal => "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        })?;
        Ok(c)
    }

    /// Writes a batch of a session in one transaction: locks the session's row (or creates
    /// the session, checking its store and source as `create_session` does), lets `fold`
    /// check the batch against the row and move it on, writes the blocks of raw lines and the
    /// events, and stores the row. Nothing is written if any step fails.
    pub(crate) fn write_batch(
        &self,
        target: Target,
        blocks: &[Block],
        events: &[EventRow],
        fold: impl FnOnce(&mut SessionRow) -> Result<()>,
    ) -> Result<SessionRow> {
        let mut slot = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(self.open_writer().map_err(|e| self.write_error(e))?);
        }
        let conn = slot.as_mut().expect("opened above");
        let result = write_on(conn, target, blocks, events, fold);
        if let Err(Failed::Sql(_)) = &result {
            // A connection whose statement failed is not trusted again.
            *slot = None;
        }
        result.map_err(|f| match f {
            Failed::Sql(e) => self.write_error(e),
            Failed::Refused(e) => e,
        })
    }

    fn write_error(&self, e: rusqlite::Error) -> Error {
        Error::storage(format!(
            "cannot write to SQLite database {}: {e}",
            self.path.display()
        ))
    }

    /// Runs `f` on an idle connection (or a new one). A connection whose statement failed is
    /// dropped rather than reused.
    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(c) => c,
            None => self.open().map_err(|e| self.error(e))?,
        };
        let out = f(&conn).map_err(|e| self.error(e))?;
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
        Ok(out)
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // A reader in WAL mode waits only while the WAL is recovered or reset, and this one
        // waits on the calling (async) thread: briefly. The callers take the pooled path,
        // which waits without holding the thread, when a direct read fails.
        c.busy_timeout(Duration::from_millis(100))?;
        Ok(c)
    }

    fn error(&self, e: rusqlite::Error) -> Error {
        Error::storage(format!(
            "cannot read SQLite database {}: {e}",
            self.path.display()
        ))
    }

    /// The memory `id` of the store, with its content.
    pub(crate) fn memory(&self, store_id: &str, id: &str) -> Result<Option<MemoryRow>> {
        self.memory_where(
            concat!(
                "SELECT ",
                memory_cols!(),
                ", content FROM memories WHERE store_id = ?1 AND id = ?2"
            ),
            store_id,
            id,
        )
    }

    /// The memory at `path` in the store, with its content.
    pub(crate) fn memory_by_path(&self, store_id: &str, path: &str) -> Result<Option<MemoryRow>> {
        self.memory_where(
            concat!(
                "SELECT ",
                memory_cols!(),
                ", content FROM memories WHERE store_id = ?1 AND path = ?2"
            ),
            store_id,
            path,
        )
    }

    /// Whether the store exists.
    pub(crate) fn store_exists(&self, store_id: &str) -> Result<bool> {
        self.with(|c| store_exists_on(c, store_id))
    }

    /// At most `limit` memories of the store in path order, from `seek` and before `upper`
    /// (a listing's page; as `Dao::memories_page`).
    pub(crate) fn memories_page(
        &self,
        store_id: &str,
        upper: &str,
        seek: &Seek,
        limit: i64,
        with_content: bool,
    ) -> Result<Vec<MemoryRow>> {
        // One statement per bound and content choice, each prepared once per connection.
        let (op, key) = match seek {
            Seek::After(k) => (">", k),
            Seek::From(k) => (">=", k),
        };
        let content = if with_content { "content" } else { "NULL" };
        let sql = format!(
            concat!(
                "SELECT ",
                memory_cols!(),
                ", {} FROM memories WHERE store_id = ?1 AND path {} ?2 AND path < ?3 ",
                "ORDER BY path LIMIT ?4"
            ),
            content, op
        );
        self.with(|c| {
            c.prepare_cached(&sql)?
                .query_map(rusqlite::params![store_id, key, upper, limit], listed_row)?
                .collect()
        })
    }

    /// The one memory `sql` selects by the store and `key`.
    fn memory_where(&self, sql: &str, store_id: &str, key: &str) -> Result<Option<MemoryRow>> {
        self.with(|c| {
            let mut st = c.prepare_cached(sql)?;
            let mut rows = st.query([store_id, key])?;
            rows.next()?.map(memory_row).transpose()
        })
    }

    /// Whether the store exists, and its entries (all, or those in `state`), by id; in one
    /// read transaction, so that the answer is one state of the database.
    pub(crate) fn entries(
        &self,
        store_id: &str,
        state: Option<&str>,
    ) -> Result<Option<Vec<EntryMeta>>> {
        self.with(|c| {
            // A deferred transaction on a read-only connection: both statements see one
            // snapshot.
            c.execute_batch("BEGIN")?;
            let out = (|| {
                if !store_exists_on(c, store_id)? {
                    return Ok(None);
                }
                let mut st = c.prepare_cached(
                    "SELECT id, state, kind, path, section, text, provenance, served, helpful, \
                     harmful, first_seen, last_seen, superseded_by, pinned, dream_id \
                     FROM entries WHERE store_id = ?1 AND (?2 = '' OR state = ?2) ORDER BY id",
                )?;
                let rows = st
                    .query_map([store_id, state.unwrap_or("")], entry_meta)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(Some(rows))
            })();
            c.execute_batch("COMMIT")?;
            out
        })
    }
}

/// Why a batch was not written: the database failed, or the batch was refused.
enum Failed {
    Sql(rusqlite::Error),
    Refused(Error),
}

impl From<rusqlite::Error> for Failed {
    fn from(e: rusqlite::Error) -> Self {
        Failed::Sql(e)
    }
}

/// The session a batch goes to.
pub(crate) enum Target {
    Existing(String),
    /// A session to create with the batch.
    New(Box<SessionRow>),
}

impl Target {
    pub(crate) fn id(&self) -> &str {
        match self {
            Target::Existing(id) => id,
            Target::New(row) => &row.id,
        }
    }
}

fn write_on(
    conn: &mut Connection,
    target: Target,
    blocks: &[Block],
    events: &[EventRow],
    fold: impl FnOnce(&mut SessionRow) -> Result<()>,
) -> std::result::Result<SessionRow, Failed> {
    use reverie_core::id::IdKind;
    use rusqlite::OptionalExtension;
    let refused = |e: Error| Failed::Refused(e);
    // Dropped without a commit, the transaction rolls back.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // The row is moved past the batch before it is stored: one write of it, an insert for a
    // new session and an update for an existing one.
    let row = match target {
        Target::Existing(id) => {
            let mut row = tx
                .prepare_cached(concat!(
                    "SELECT ",
                    session_cols!(),
                    " FROM sessions WHERE id = ?1"
                ))?
                .query_row([&id], session_row)
                .optional()?
                .ok_or_else(|| refused(Error::not_found(IdKind::Session.noun(), &id)))?;
            fold(&mut row).map_err(refused)?;
            tx.prepare_cached(concat!(
                "UPDATE sessions SET (",
                session_cols!(),
                ") = (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
                 ?17, ?18, ?19, ?20, ?21, ?22) WHERE id = ?1"
            ))?
            .execute(session_values(&row).as_slice())?;
            row
        }
        Target::New(row) => {
            let mut row = *row;
            fold(&mut row).map_err(refused)?;
            let archived = tx
                .prepare_cached("SELECT archived_at IS NOT NULL FROM memory_stores WHERE id = ?1")?
                .query_row([&row.store_id], |r| r.get::<_, bool>(0))
                .optional()?;
            match archived {
                None => {
                    return Err(refused(Error::not_found(
                        IdKind::Store.noun(),
                        &row.store_id,
                    )));
                }
                Some(true) => {
                    return Err(refused(Error::StoreArchived {
                        store_id: row.store_id,
                    }));
                }
                Some(false) => {}
            }
            if let Some(path) = &row.source_path
                && let Some(existing) = tx
                    .prepare_cached(
                        "SELECT id FROM sessions WHERE store_id = ?1 AND source_path = ?2",
                    )?
                    .query_row([&row.store_id, path], |r| r.get::<_, String>(0))
                    .optional()?
            {
                return Err(refused(Error::Conflict(format!(
                    "{path} is already ingested as session {existing}"
                ))));
            }
            tx.prepare_cached(concat!(
                "INSERT INTO sessions (",
                session_cols!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
                 ?17, ?18, ?19, ?20, ?21, ?22)"
            ))?
            .execute(session_values(&row).as_slice())?;
            row
        }
    };
    let session_id = row.id.as_str();
    {
        let mut st = tx.prepare_cached(
            "INSERT INTO session_line_blocks (session_id, first_line, last_line, lines, raw_bytes, codec, data) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for b in blocks {
            st.execute(rusqlite::params![
                session_id,
                b.first_line,
                b.last_line,
                b.lines,
                b.raw_bytes,
                CODEC,
                b.data
            ])?;
        }
    }
    {
        let mut st = tx.prepare_cached(concat!(
            "INSERT INTO session_events (session_id, ",
            event_cols!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
        ))?;
        for e in events {
            st.execute(rusqlite::params![
                session_id,
                e.seq,
                e.kind,
                e.line,
                e.ts,
                e.uuid,
                e.parent_uuid,
                e.sidechain,
                e.agent_id,
                e.text,
                e.tool_name,
                e.tool_use_id,
                e.tool_input,
                e.is_error,
                e.subtype,
                e.speaker
            ])?;
        }
    }
    tx.commit()?;
    Ok(row)
}

/// A session's row as the parameters of `session_cols!()`, in order.
fn session_values(row: &SessionRow) -> [&dyn rusqlite::ToSql; 22] {
    [
        &row.id,
        &row.store_id,
        &row.source_format,
        &row.source_path,
        &row.source_session_id,
        &row.project,
        &row.git_branch,
        &row.model,
        &row.agent_version,
        &row.started_at,
        &row.ended_at,
        &row.event_count,
        &row.error_count,
        &row.line_count,
        &row.outcome_status,
        &row.outcome_score,
        &row.outcome_note,
        &row.created_at,
        &row.updated_at,
        &row.consumed_bytes,
        &row.consumed_hash,
        &row.next_line,
    ]
}

/// A session's row, from `session_cols!()` in order.
fn session_row(r: &Row<'_>) -> rusqlite::Result<SessionRow> {
    Ok(SessionRow {
        id: r.get(0)?,
        store_id: r.get(1)?,
        source_format: r.get(2)?,
        source_path: r.get(3)?,
        source_session_id: r.get(4)?,
        project: r.get(5)?,
        git_branch: r.get(6)?,
        model: r.get(7)?,
        agent_version: r.get(8)?,
        started_at: r.get(9)?,
        ended_at: r.get(10)?,
        event_count: r.get(11)?,
        error_count: r.get(12)?,
        line_count: r.get(13)?,
        outcome_status: r.get(14)?,
        outcome_score: r.get(15)?,
        outcome_note: r.get(16)?,
        created_at: r.get(17)?,
        updated_at: r.get(18)?,
        consumed_bytes: r.get(19)?,
        consumed_hash: r.get(20)?,
        next_line: r.get(21)?,
    })
}

/// Whether the store exists, on a connection the caller holds.
fn store_exists_on(c: &Connection, store_id: &str) -> rusqlite::Result<bool> {
    c.prepare_cached("SELECT 1 FROM memory_stores WHERE id = ?1")?
        .exists([store_id])
}

/// A column's text, borrowed from the row.
fn text_at<'r>(r: &'r Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
    r.get_ref(i)?
        .as_str()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e)))
}

/// An entry's metadata from a row of `entries`' selected columns. A stored value that does
/// not parse is an error here; the caller then reads through the pool, which names it.
fn entry_meta(r: &Row<'_>) -> rusqlite::Result<EntryMeta> {
    EntryCols {
        id: r.get(0)?,
        state: text_at(r, 1)?,
        kind: text_at(r, 2)?,
        path: r.get(3)?,
        section: text_at(r, 4)?,
        text: r.get(5)?,
        provenance: text_at(r, 6)?,
        served: r.get(7)?,
        helpful: r.get(8)?,
        harmful: r.get(9)?,
        first_seen: r.get(10)?,
        last_seen: r.get(11)?,
        superseded_by: r.get(12)?,
        pinned: r.get(13)?,
        dream_id: r.get(14)?,
    }
    .into_model()
    .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, Type::Text, Box::new(e)))
}

/// Text or blob bytes as stored: content is written as a blob, but a file edited by hand may
/// hold text.
fn bytes(r: &Row<'_>, i: usize) -> rusqlite::Result<Vec<u8>> {
    match r.get_ref(i)? {
        ValueRef::Blob(b) | ValueRef::Text(b) => Ok(b.to_vec()),
        other => Err(rusqlite::Error::InvalidColumnType(
            i,
            "content".into(),
            other.data_type(),
        )),
    }
}

fn memory_row(r: &Row<'_>) -> rusqlite::Result<MemoryRow> {
    Ok(MemoryRow {
        content: Some(bytes(r, 8)?),
        ..memory_cols_row(r)?
    })
}

/// A memory's `memory_cols!()` columns, without content.
fn memory_cols_row(r: &Row<'_>) -> rusqlite::Result<MemoryRow> {
    Ok(MemoryRow {
        id: r.get(0)?,
        store_id: r.get(1)?,
        path: r.get(2)?,
        content_sha256: r.get(3)?,
        content_size_bytes: r.get(4)?,
        version_id: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
        content: None,
    })
}

/// A listed memory: its content when the listing asked for it (`NULL` selected otherwise).
fn listed_row(r: &Row<'_>) -> rusqlite::Result<MemoryRow> {
    let content = match r.get_ref(8)? {
        ValueRef::Null => None,
        _ => Some(bytes(r, 8)?),
    };
    Ok(MemoryRow {
        content,
        ..memory_cols_row(r)?
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewStore, Store, Synchronous, connect_sqlite};

    /// The direct reads answer themselves, with what the pool answers: the callers fall back
    /// to the pool on any failure, so a direct path that always failed would pass every other
    /// test and only be slower.
    #[tokio::test]
    async fn direct_reads_answer_as_the_pool_does() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reverie.db");
        let s = connect_sqlite(&path, Synchronous::Full).await.unwrap();
        let st = s
            .create_store(NewStore {
                name: "direct".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .id;
        let actor = reverie_core::Actor::User {
            user_id: "user_test".into(),
        };
        let m = s
            .create_memory(&st, "/a/b.md", "- one\n- two\n", &actor)
            .await
            .unwrap();
        let d = DirectReads::new(&path, Synchronous::Full);

        let by_id = d.memory(&st, &m.id).unwrap().expect("found directly");
        let by_path = d.memory_by_path(&st, "/a/b.md").unwrap().expect("found");
        let model = by_id.into_model().unwrap();
        assert_eq!(model, by_path.into_model().unwrap());
        assert_eq!(model, s.get_memory(&st, &m.id).await.unwrap());
        assert_eq!(model.content.as_deref(), Some("- one\n- two\n"));
        assert!(d.memory(&st, "mem_01nothere").unwrap().is_none());
        assert!(d.memory_by_path(&st, "/a/c.md").unwrap().is_none());

        // A listing's pages: from or after a path, with content or without.
        assert!(d.store_exists(&st).unwrap());
        assert!(!d.store_exists("memstore_01nothere").unwrap());
        s.create_memory(&st, "/a/c.md", "- three\n", &actor)
            .await
            .unwrap();
        let from = Seek::From("/".into());
        let listed = d.memories_page(&st, "0", &from, 10, false).unwrap();
        let paths: Vec<&str> = listed.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["/a/b.md", "/a/c.md"]);
        assert!(listed.iter().all(|r| r.content.is_none()));
        let after = Seek::After("/a/b.md".into());
        let with = d.memories_page(&st, "0", &after, 10, true).unwrap();
        assert_eq!(with.len(), 1);
        assert_eq!(with[0].content.as_deref(), Some(&b"- three\n"[..]));
        assert_eq!(
            d.memories_page(&st, "/a/c.md", &from, 10, false)
                .unwrap()
                .len(),
            1
        );
        assert_eq!(d.memories_page(&st, "0", &from, 1, false).unwrap().len(), 1);
        // The store's listing, which reads these pages on SQLite, gives both.
        let listing = s
            .list_memories(&st, &crate::MemoryQuery::default())
            .await
            .unwrap();
        assert_eq!(listing.data.len(), 2);

        // Entries: the store's, as the pool lists them; none for an unknown store.
        assert_eq!(d.entries(&st, None).unwrap(), Some(Vec::new()));
        assert_eq!(d.entries("memstore_01nothere", None).unwrap(), None);
        // The connection is kept for the next read.
        assert_eq!(d.idle.lock().unwrap().len(), 1);

        // Entries with every field set, and with the empty lists most entries have: decoded
        // as the pool decodes them, field for field, in state filters too.
        let mut full = EntryMeta::new(
            "ent_01full".into(),
            reverie_core::curation::EntryKind::Lesson,
            "/a/b.md",
            vec!["Notes".into(), "Deploys".into()],
            "Deploys go through `./deploy.sh`.",
        );
        full.state = reverie_core::curation::EntryState::Superseded;
        full.provenance = vec![reverie_core::curation::Evidence {
            session_id: "sesn_01x".into(),
            seq: 4,
            quote: "\"ship it\" — ✓".into(),
        }];
        (full.served, full.helpful, full.harmful) = (5, 3, 1);
        full.first_seen = Some(reverie_core::Timestamp(1_700_000_000_000_000));
        full.last_seen = Some(reverie_core::Timestamp(1_700_000_100_000_000));
        full.superseded_by = Some("ent_01bare".into());
        full.pinned = true;
        full.dream_id = Some("drm_01x".into());
        let bare = EntryMeta::new(
            "ent_01bare".into(),
            reverie_core::curation::EntryKind::Fact,
            "/a/b.md",
            Vec::new(),
            "one",
        );
        let w = Connection::open(&path).unwrap();
        for e in [&full, &bare] {
            let r = crate::rows_dreams::EntryRow::from_model(&st, e);
            w.execute(
                "INSERT INTO entries (store_id, id, state, kind, path, section, text, \
                 provenance, served, helpful, harmful, first_seen, last_seen, superseded_by, \
                 pinned, dream_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                rusqlite::params![
                    r.store_id,
                    r.id,
                    r.state,
                    r.kind,
                    r.path,
                    r.section,
                    r.text,
                    r.provenance,
                    r.served,
                    r.helpful,
                    r.harmful,
                    r.first_seen,
                    r.last_seen,
                    r.superseded_by,
                    r.pinned,
                    r.dream_id
                ],
            )
            .unwrap();
        }
        let pooled = |state: Option<&'static str>| {
            let (s, st) = (&s, st.clone());
            async move {
                let mut conn = s.read().await.unwrap();
                crate::dao_dreams::DreamDao::entries(&mut *conn, &st, state)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|r| r.into_model().unwrap())
                    .collect::<Vec<_>>()
            }
        };
        let direct = d.entries(&st, None).unwrap().expect("the store exists");
        assert_eq!(direct, vec![bare.clone(), full.clone()], "by id");
        assert_eq!(direct, pooled(None).await);
        let live = d.entries(&st, Some("live")).unwrap().unwrap();
        assert_eq!(live, vec![bare.clone()]);
        assert_eq!(live, pooled(Some("live")).await);
        // A stored list that does not parse fails the direct read (the pool names it).
        w.execute(
            "UPDATE entries SET provenance = '[{' WHERE id = 'ent_01bare'",
            [],
        )
        .unwrap();
        assert!(d.entries(&st, None).is_err());
        let e = s.list_entries(&st, None).await.unwrap_err().to_string();
        assert!(e.contains("provenance of ent_01bare"), "{e}");
    }

    #[test]
    fn a_database_that_cannot_be_read_is_an_error_naming_it_and_nothing_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.db");
        let d = DirectReads::new(&path, Synchronous::Full);
        let e = d.memory("memstore_01x", "mem_01x").unwrap_err().to_string();
        assert!(e.contains("missing.db"), "{e}");
        // Read-only: a missing file is not created.
        assert!(!path.exists());
        // A file that is not a database.
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, vec![0x5a; 8192]).unwrap();
        let e = DirectReads::new(&junk, Synchronous::Full)
            .entries("memstore_01x", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("junk.db"), "{e}");
        // The failed connection is not kept.
        assert!(d.idle.lock().unwrap().is_empty());
    }
}

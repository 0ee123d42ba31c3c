//! The queries of sessions, events and raw lines — written once, instantiated for both
//! backends like `dao.rs`. Events and lines are inserted in multi-row batches (a few hundred
//! rows per statement), the difference between hours and seconds for a large ingest.

use async_trait::async_trait;
use reverie_core::Result;

use crate::line_blocks::Block;
use crate::rows::{EventRow, SessionRow};

/// Rows per multi-row insert: under SQLite's 32,766 and PostgreSQL's 65,535 bind parameters.
pub const INSERT_CHUNK: usize = 500;

/// `rows` cut into multi-row inserts of [`INSERT_CHUNK`] rows, then the rest in powers of two:
/// a statement's text depends on its row count, and this way a connection prepares at most
/// ten of them and keeps them, where cutting at [`INSERT_CHUNK`] alone made the last insert of
/// every batch a statement of its own, prepared again each time.
pub fn fixed_chunks<T>(rows: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = rows;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let n = if rest.len() >= INSERT_CHUNK {
            INSERT_CHUNK
        } else {
            1 << rest.len().ilog2()
        };
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        Some(chunk)
    })
}

/// A stored block of raw lines, as read.
#[derive(Debug)]
pub struct BlockRow {
    pub first_line: i64,
    pub last_line: i64,
    pub lines: i64,
    pub raw_bytes: i64,
    pub codec: String,
    pub data: Vec<u8>,
}

/// Session queries on one connection.
#[async_trait]
pub trait SessionDao: Send {
    async fn insert_session(&mut self, s: &SessionRow) -> Result<()>;
    async fn session(&mut self, id: &str) -> Result<Option<SessionRow>>;
    async fn session_by_source(&mut self, store_id: &str, path: &str)
    -> Result<Option<SessionRow>>;
    async fn sessions_page(
        &mut self,
        store_id: &str,
        before: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<SessionRow>>;
    /// Takes the session's row lock.
    async fn lock_session(&mut self, id: &str) -> Result<Option<SessionRow>>;
    async fn update_session(&mut self, s: &SessionRow) -> Result<()>;
    async fn insert_events(&mut self, session_id: &str, events: &[EventRow]) -> Result<()>;
    async fn insert_line_blocks(&mut self, session_id: &str, blocks: &[Block]) -> Result<()>;
    async fn delete_session_contents(&mut self, session_id: &str) -> Result<()>;
    async fn events_page(
        &mut self,
        session_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<EventRow>>;
    /// Raw lines stored one per row, as versions before compressed blocks wrote them.
    async fn lines_page(
        &mut self,
        session_id: &str,
        from_line: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String)>>;
    /// Up to `limit` blocks of raw lines, in order, from the one holding `from_line` or the
    /// first after it.
    async fn line_blocks_from(
        &mut self,
        session_id: &str,
        from_line: i64,
        limit: i64,
    ) -> Result<Vec<BlockRow>>;
    /// The events of `kinds` in every session of a store, by session and sequence, each
    /// with its session's id; `after` is the last (session, seq) already read.
    async fn store_events_page(
        &mut self,
        store_id: &str,
        kinds: &[&str],
        after: Option<(&str, i64)>,
        limit: i64,
    ) -> Result<Vec<(String, EventRow)>>;
}

macro_rules! session_cols {
    () => {
        "id, store_id, source_format, source_path, source_session_id, project, git_branch, model, \
         agent_version, started_at, ended_at, event_count, error_count, line_count, outcome_status, \
         outcome_score, outcome_note, created_at, updated_at, consumed_bytes, consumed_hash, next_line"
    };
}
macro_rules! event_cols {
    () => {
        "seq, kind, line, ts, uuid, parent_uuid, sidechain, agent_id, text, tool_name, tool_use_id, \
         tool_input, is_error, subtype, speaker"
    };
}

/// Implements [`SessionDao`] for a backend's connection type.
macro_rules! impl_session_dao {
    ($conn:ty, $db:ty) => {
        const _: () = {
            use sqlx::Row;
            use $crate::dao::db_err;
            use $crate::dao_sessions::SessionDao;
            use $crate::rows::{EventRow, SessionRow};
            use reverie_core::Result;

            type DbRow = <$db as sqlx::Database>::Row;

            fn session_row(r: &DbRow) -> std::result::Result<SessionRow, sqlx::Error> {
                Ok(SessionRow {
                    id: r.try_get("id")?,
                    store_id: r.try_get("store_id")?,
                    source_format: r.try_get("source_format")?,
                    source_path: r.try_get("source_path")?,
                    source_session_id: r.try_get("source_session_id")?,
                    project: r.try_get("project")?,
                    git_branch: r.try_get("git_branch")?,
                    model: r.try_get("model")?,
                    agent_version: r.try_get("agent_version")?,
                    started_at: r.try_get("started_at")?,
                    ended_at: r.try_get("ended_at")?,
                    event_count: r.try_get("event_count")?,
                    error_count: r.try_get("error_count")?,
                    line_count: r.try_get("line_count")?,
                    outcome_status: r.try_get("outcome_status")?,
                    outcome_score: r.try_get("outcome_score")?,
                    outcome_note: r.try_get("outcome_note")?,
                    created_at: r.try_get("created_at")?,
                    updated_at: r.try_get("updated_at")?,
                    consumed_bytes: r.try_get("consumed_bytes")?,
                    consumed_hash: r.try_get("consumed_hash")?,
                    next_line: r.try_get("next_line")?,
                })
            }

            fn event_row(r: &DbRow) -> std::result::Result<EventRow, sqlx::Error> {
                Ok(EventRow {
                    seq: r.try_get("seq")?,
                    kind: r.try_get("kind")?,
                    line: r.try_get("line")?,
                    ts: r.try_get("ts")?,
                    uuid: r.try_get("uuid")?,
                    parent_uuid: r.try_get("parent_uuid")?,
                    sidechain: r.try_get("sidechain")?,
                    agent_id: r.try_get("agent_id")?,
                    text: r.try_get("text")?,
                    tool_name: r.try_get("tool_name")?,
                    tool_use_id: r.try_get("tool_use_id")?,
                    tool_input: r.try_get("tool_input")?,
                    is_error: r.try_get("is_error")?,
                    subtype: r.try_get("subtype")?,
                    speaker: r.try_get("speaker")?,
                })
            }

            fn sessions(rows: Vec<DbRow>) -> Result<Vec<SessionRow>> {
                rows.iter().map(|r| session_row(r).map_err(db_err)).collect()
            }

            #[async_trait::async_trait]
            impl SessionDao for $conn {
                async fn insert_session(&mut self, s: &SessionRow) -> Result<()> {
                    sqlx::query(concat!(
                        "INSERT INTO sessions (", session_cols!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                         $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
                    ))
                    .bind(&s.id)
                    .bind(&s.store_id)
                    .bind(&s.source_format)
                    .bind(&s.source_path)
                    .bind(&s.source_session_id)
                    .bind(&s.project)
                    .bind(&s.git_branch)
                    .bind(&s.model)
                    .bind(&s.agent_version)
                    .bind(s.started_at)
                    .bind(s.ended_at)
                    .bind(s.event_count)
                    .bind(s.error_count)
                    .bind(s.line_count)
                    .bind(&s.outcome_status)
                    .bind(s.outcome_score)
                    .bind(&s.outcome_note)
                    .bind(s.created_at)
                    .bind(s.updated_at)
                    .bind(s.consumed_bytes)
                    .bind(&s.consumed_hash)
                    .bind(s.next_line)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn session(&mut self, id: &str) -> Result<Option<SessionRow>> {
                    let row = sqlx::query(concat!("SELECT ", session_cols!(), " FROM sessions WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&mut *self)
                        .await
                        .map_err(db_err)?;
                    row.as_ref().map(session_row).transpose().map_err(db_err)
                }

                async fn session_by_source(&mut self, store_id: &str, path: &str) -> Result<Option<SessionRow>> {
                    let row = sqlx::query(concat!(
                        "SELECT ", session_cols!(), " FROM sessions WHERE store_id = $1 AND source_path = $2"
                    ))
                    .bind(store_id)
                    .bind(path)
                    .fetch_optional(&mut *self)
                    .await
                    .map_err(db_err)?;
                    row.as_ref().map(session_row).transpose().map_err(db_err)
                }

                async fn sessions_page(
                    &mut self,
                    store_id: &str,
                    before: Option<(i64, String)>,
                    limit: i64,
                ) -> Result<Vec<SessionRow>> {
                    // No cursor: before every real time. (An empty id must not mean "no
                    // cursor": a forged `(t, "")` listed from the top instead of before `t`.)
                    let (t, id) = before.unwrap_or((i64::MAX, String::new()));
                    let rows = sqlx::query(concat!(
                        "SELECT ", session_cols!(), " FROM sessions WHERE store_id = $1 \
                         AND (created_at < $2 OR (created_at = $2 AND id < $3)) \
                         ORDER BY created_at DESC, id DESC LIMIT $4"
                    ))
                    .bind(store_id)
                    .bind(t)
                    .bind(id)
                    .bind(limit)
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    sessions(rows)
                }

                async fn lock_session(&mut self, id: &str) -> Result<Option<SessionRow>> {
                    let row = sqlx::query(concat!(
                        "UPDATE sessions SET updated_at = updated_at WHERE id = $1 RETURNING ", session_cols!()
                    ))
                    .bind(id)
                    .fetch_optional(&mut *self)
                    .await
                    .map_err(db_err)?;
                    row.as_ref().map(session_row).transpose().map_err(db_err)
                }

                async fn update_session(&mut self, s: &SessionRow) -> Result<()> {
                    sqlx::query(
                        "UPDATE sessions SET source_session_id = $1, project = $2, git_branch = $3, model = $4, \
                         agent_version = $5, started_at = $6, ended_at = $7, event_count = $8, error_count = $9, \
                         line_count = $10, outcome_status = $11, outcome_score = $12, outcome_note = $13, \
                         updated_at = $14, consumed_bytes = $15, consumed_hash = $16, next_line = $17 WHERE id = $18",
                    )
                    .bind(&s.source_session_id)
                    .bind(&s.project)
                    .bind(&s.git_branch)
                    .bind(&s.model)
                    .bind(&s.agent_version)
                    .bind(s.started_at)
                    .bind(s.ended_at)
                    .bind(s.event_count)
                    .bind(s.error_count)
                    .bind(s.line_count)
                    .bind(&s.outcome_status)
                    .bind(s.outcome_score)
                    .bind(&s.outcome_note)
                    .bind(s.updated_at)
                    .bind(s.consumed_bytes)
                    .bind(&s.consumed_hash)
                    .bind(s.next_line)
                    .bind(&s.id)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn insert_events(&mut self, session_id: &str, events: &[EventRow]) -> Result<()> {
                    for chunk in $crate::dao_sessions::fixed_chunks(events) {
                        let mut q = sqlx::QueryBuilder::<$db>::new(concat!(
                            "INSERT INTO session_events (session_id, ", event_cols!(), ") "
                        ));
                        q.push_values(chunk, |mut b, e| {
                            b.push_bind(session_id)
                                .push_bind(e.seq)
                                .push_bind(&e.kind)
                                .push_bind(e.line)
                                .push_bind(e.ts)
                                .push_bind(&e.uuid)
                                .push_bind(&e.parent_uuid)
                                .push_bind(e.sidechain)
                                .push_bind(&e.agent_id)
                                .push_bind(&e.text)
                                .push_bind(&e.tool_name)
                                .push_bind(&e.tool_use_id)
                                .push_bind(&e.tool_input)
                                .push_bind(e.is_error)
                                .push_bind(&e.subtype)
                                .push_bind(&e.speaker);
                        });
                        q.build().execute(&mut *self).await.map_err(db_err)?;
                    }
                    Ok(())
                }

                async fn insert_line_blocks(&mut self, session_id: &str, blocks: &[$crate::line_blocks::Block]) -> Result<()> {
                    // One row per statement: a batch holds a few dozen blocks at most, and the
                    // one statement stays prepared.
                    for b in blocks {
                        sqlx::query(
                            "INSERT INTO session_line_blocks (session_id, first_line, last_line, lines, raw_bytes, codec, data) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        )
                        .bind(session_id)
                        .bind(b.first_line)
                        .bind(b.last_line)
                        .bind(b.lines)
                        .bind(b.raw_bytes)
                        .bind($crate::line_blocks::CODEC)
                        .bind(&b.data)
                        .execute(&mut *self)
                        .await
                        .map_err(db_err)?;
                    }
                    Ok(())
                }

                async fn delete_session_contents(&mut self, session_id: &str) -> Result<()> {
                    sqlx::query("DELETE FROM session_events WHERE session_id = $1")
                        .bind(session_id)
                        .execute(&mut *self)
                        .await
                        .map_err(db_err)?;
                    sqlx::query("DELETE FROM session_lines WHERE session_id = $1")
                        .bind(session_id)
                        .execute(&mut *self)
                        .await
                        .map_err(db_err)?;
                    sqlx::query("DELETE FROM session_line_blocks WHERE session_id = $1")
                        .bind(session_id)
                        .execute(&mut *self)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn events_page(&mut self, session_id: &str, after_seq: i64, limit: i64) -> Result<Vec<EventRow>> {
                    let rows = sqlx::query(concat!(
                        "SELECT ", event_cols!(), " FROM session_events WHERE session_id = $1 AND seq > $2 \
                         ORDER BY seq LIMIT $3"
                    ))
                    .bind(session_id)
                    .bind(after_seq)
                    .bind(limit)
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    rows.iter().map(|r| event_row(r).map_err(db_err)).collect()
                }

                async fn store_events_page(
                    &mut self,
                    store_id: &str,
                    kinds: &[&str],
                    after: Option<(&str, i64)>,
                    limit: i64,
                ) -> Result<Vec<(String, EventRow)>> {
                    let mut q = sqlx::QueryBuilder::<$db>::new(concat!(
                        "SELECT e.session_id, ", event_cols!(),
                        " FROM session_events e JOIN sessions s ON s.id = e.session_id WHERE s.store_id = "
                    ));
                    q.push_bind(store_id);
                    q.push(" AND e.kind IN (");
                    let mut list = q.separated(", ");
                    for k in kinds {
                        list.push_bind(*k);
                    }
                    q.push(")");
                    if let Some((session, seq)) = after {
                        q.push(" AND (e.session_id > ")
                            .push_bind(session)
                            .push(" OR (e.session_id = ")
                            .push_bind(session)
                            .push(" AND e.seq > ")
                            .push_bind(seq)
                            .push("))");
                    }
                    q.push(" ORDER BY e.session_id, e.seq LIMIT ").push_bind(limit);
                    let rows = q.build().fetch_all(&mut *self).await.map_err(db_err)?;
                    rows.iter()
                        .map(|r| Ok((r.try_get::<String, _>("session_id")?, event_row(r)?)))
                        .collect::<std::result::Result<_, sqlx::Error>>()
                        .map_err(db_err)
                }

                async fn lines_page(&mut self, session_id: &str, from_line: i64, limit: i64) -> Result<Vec<(i64, String)>> {
                    let rows = sqlx::query(
                        "SELECT line, raw FROM session_lines WHERE session_id = $1 AND line >= $2 ORDER BY line LIMIT $3",
                    )
                    .bind(session_id)
                    .bind(from_line)
                    .bind(limit)
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    rows.iter()
                        .map(|r| Ok((r.try_get("line").map_err(db_err)?, r.try_get("raw").map_err(db_err)?)))
                        .collect()
                }

                async fn line_blocks_from(
                    &mut self,
                    session_id: &str,
                    from_line: i64,
                    limit: i64,
                ) -> Result<Vec<$crate::dao_sessions::BlockRow>> {
                    let rows = sqlx::query(
                        "SELECT first_line, last_line, lines, raw_bytes, codec, data FROM session_line_blocks \
                         WHERE session_id = $1 AND last_line >= $2 ORDER BY first_line LIMIT $3",
                    )
                    .bind(session_id)
                    .bind(from_line)
                    .bind(limit)
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    rows.iter()
                        .map(|r| {
                            Ok($crate::dao_sessions::BlockRow {
                                first_line: r.try_get("first_line")?,
                                last_line: r.try_get("last_line")?,
                                lines: r.try_get("lines")?,
                                raw_bytes: r.try_get("raw_bytes")?,
                                codec: r.try_get("codec")?,
                                data: r.try_get("data")?,
                            })
                        })
                        .collect::<std::result::Result<_, sqlx::Error>>()
                        .map_err(db_err)
                }
            }
        };
    };
}

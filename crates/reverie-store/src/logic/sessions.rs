//! Sessions: created by ingest, extended in batches that carry their own cursor (so that a
//! killed ingest resumes where its last batch committed and a file is never read twice), read
//! back event by event, and given an outcome.

use reverie_core::id::{IdKind, check_id, new_id};
use reverie_core::page::{Page, decode_cursor, effective_limit, split_page};
use reverie_core::session::{Event, EventKind, Outcome, Session, SourceFormat};
use reverie_core::{Error, Result, Timestamp, View};

use super::SqlStore;
use crate::backend::Backend;
use crate::dao::{Dao, db_err};
use crate::dao_sessions::SessionDao;
use crate::line_blocks;
use crate::params::{NewSession, SessionBatch, SourceState};
use crate::rows::{EventRow, SessionRow};
use crate::sqlite_direct::Target;

fn state(row: &SessionRow) -> Result<SourceState> {
    Ok(SourceState {
        session_id: row.id.clone(),
        source_format: SourceFormat::parse(&row.source_format)?,
        consumed_bytes: row.consumed_bytes,
        consumed_hash: row.consumed_hash.clone(),
        next_line: row.next_line,
        next_seq: row.event_count,
    })
}

/// The row of a new, empty session.
fn new_row(new: NewSession) -> SessionRow {
    let now = Timestamp::now().micros();
    SessionRow {
        id: new_id(IdKind::Session),
        store_id: new.store_id,
        source_format: new.source_format.as_str().to_string(),
        source_path: new.source_path,
        source_session_id: None,
        project: None,
        git_branch: None,
        model: None,
        agent_version: None,
        started_at: None,
        ended_at: None,
        event_count: 0,
        error_count: 0,
        line_count: 0,
        outcome_status: new.outcome.as_ref().map(|o| o.status.as_str().to_string()),
        outcome_score: new.outcome.as_ref().and_then(|o| o.score),
        outcome_note: new.outcome.and_then(|o| o.note),
        created_at: now,
        updated_at: now,
        consumed_bytes: 0,
        consumed_hash: None,
        next_line: 1,
    }
}

/// What a batch does to its session's row, worked out before the write: [`Fold::apply`]
/// checks it against the row as locked and moves the row on, the same for both write paths.
pub(crate) struct Fold {
    expect_consumed: i64,
    expect_seq: i64,
    /// Each event's seq, in order (checked against the session's count once it is locked).
    seqs: Vec<i64>,
    errors: i64,
    lines: i64,
    first_line: Option<i64>,
    /// The span of the parser's times and every event's own.
    span: Option<(i64, i64)>,
    meta: reverie_core::session::SessionMeta,
    consumed_bytes: i64,
    consumed_hash: Option<String>,
    next_line: i64,
}

impl Fold {
    fn of(batch: &SessionBatch, lines: &line_blocks::Compressed) -> Fold {
        let m = &batch.meta;
        let span = [m.started_at, m.ended_at]
            .into_iter()
            .chain(batch.events.iter().map(|e| e.timestamp))
            .flatten()
            .map(Timestamp::micros)
            .fold(None, |span: Option<(i64, i64)>, t| {
                Some(span.map_or((t, t), |(s, e)| (s.min(t), e.max(t))))
            });
        Fold {
            expect_consumed: batch.expect_consumed,
            expect_seq: batch.expect_seq,
            seqs: batch.events.iter().map(|e| e.seq).collect(),
            errors: batch
                .events
                .iter()
                .filter(|e| e.kind == EventKind::ToolResult && e.is_error)
                .count() as i64,
            lines: lines.lines,
            first_line: lines.first_line,
            span,
            meta: batch.meta.clone(),
            consumed_bytes: batch.consumed_bytes,
            consumed_hash: batch.consumed_hash.clone(),
            next_line: batch.next_line,
        }
    }

    /// Refuses a batch read from another cursor than the session's, with events out of
    /// sequence, or with lines the session holds already; otherwise moves `row` past it.
    pub(crate) fn apply(&self, session_id: &str, row: &mut SessionRow) -> Result<()> {
        if row.consumed_bytes != self.expect_consumed || row.event_count != self.expect_seq {
            return Err(Error::Conflict(format!(
                "session {session_id} was extended by another ingest meanwhile (now at byte {}, event {}); run ingest again",
                row.consumed_bytes, row.event_count
            )));
        }
        if let Some((i, seq)) = self
            .seqs
            .iter()
            .enumerate()
            .find(|(i, seq)| **seq != row.event_count + *i as i64)
        {
            return Err(Error::storage(format!(
                "event {i} of the batch has seq {seq}, expected {}",
                row.event_count + i as i64
            )));
        }
        if let Some(first) = self.first_line
            && first < row.next_line
        {
            return Err(Error::invalid(
                "lines",
                format!(
                    "the batch starts at line {first}, before line {} where the session's stored lines end",
                    row.next_line
                ),
            ));
        }
        let m = &self.meta;
        let keep = |slot: &mut Option<String>, v: &Option<String>| {
            if slot.is_none() {
                slot.clone_from(v);
            }
        };
        keep(&mut row.source_session_id, &m.source_session_id);
        keep(&mut row.project, &m.project);
        keep(&mut row.git_branch, &m.git_branch);
        keep(&mut row.model, &m.model);
        keep(&mut row.agent_version, &m.agent_version);
        if let Some((start, end)) = self.span {
            row.started_at = Some(row.started_at.map_or(start, |s| s.min(start)));
            row.ended_at = Some(row.ended_at.map_or(end, |e| e.max(end)));
        }
        row.event_count += self.seqs.len() as i64;
        row.error_count += self.errors;
        row.line_count += self.lines;
        row.consumed_bytes = self.consumed_bytes;
        row.consumed_hash.clone_from(&self.consumed_hash);
        row.next_line = self.next_line;
        row.updated_at = Timestamp::now().micros();
        Ok(())
    }
}

/// Blocks read per query when paging raw lines (about 1 MB of lines before decompression).
const BLOCKS_PER_READ: i64 = 8;

/// Two runs of lines, each in order, as one in order, cut at `limit`.
fn merge_lines(a: Vec<(i64, String)>, b: Vec<(i64, String)>, limit: usize) -> Vec<(i64, String)> {
    if a.is_empty() || b.is_empty() {
        let mut only = if a.is_empty() { b } else { a };
        only.truncate(limit);
        return only;
    }
    let mut out = Vec::with_capacity(limit.min(a.len() + b.len()));
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    while out.len() < limit {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x.0 <= y.0 => a.next(),
            (Some(_), Some(_)) => b.next(),
            (Some(_), None) => a.next(),
            (None, _) => b.next(),
        };
        match next {
            Some(line) => out.push(line),
            None => break,
        }
    }
    out
}

fn not_found(id: &str) -> Error {
    Error::not_found(IdKind::Session.noun(), id)
}

impl<B: Backend> SqlStore<B> {
    pub(crate) async fn session_source_impl(
        &self,
        store_id: &str,
        path: &str,
    ) -> Result<Option<SourceState>> {
        let mut conn = self.read().await?;
        self.require_store(&mut conn, store_id).await?;
        conn.session_by_source(store_id, path)
            .await?
            .as_ref()
            .map(state)
            .transpose()
    }

    pub(crate) async fn create_session_impl(&self, new: NewSession) -> Result<Session> {
        if let Some(o) = &new.outcome {
            o.validate()?;
        }
        let row = new_row(new);
        let tx = self.insert_new_session(&row).await?;
        tx.commit().await.map_err(db_err)?;
        row.into_model()
    }

    /// Opens a write transaction holding `row` as a new session: refused if its store is
    /// missing or archived, or its source is a session already.
    async fn insert_new_session(
        &self,
        row: &SessionRow,
    ) -> Result<sqlx::Transaction<'static, B::Db>> {
        let (mut tx, store) = self.lock_store_fields(&row.store_id).await?;
        if store.archived_at.is_some() {
            return Err(Error::StoreArchived {
                store_id: row.store_id.clone(),
            });
        }
        if let Some(path) = &row.source_path
            && let Some(existing) = tx.session_by_source(&row.store_id, path).await?
        {
            return Err(Error::Conflict(format!(
                "{path} is already ingested as session {}",
                existing.id
            )));
        }
        tx.insert_session(row).await?;
        Ok(tx)
    }

    pub(crate) async fn append_to_session_impl(
        &self,
        session_id: &str,
        batch: &SessionBatch,
    ) -> Result<Session> {
        check_id(IdKind::Session, session_id)?;
        // Compressed before the transaction (if ingest has not done it on its reading thread),
        // so the write lock is held for the writes alone.
        let lines = batch.lines.compressed()?;
        let fold = Fold::of(batch, &lines);
        let events: Vec<EventRow> = batch.events.iter().map(EventRow::from_model).collect();
        if let Some(direct) = self.backend.direct() {
            let target = Target::Existing(session_id.to_string());
            return self
                .write_directly(direct, target, lines, events, fold)
                .await;
        }
        let mut tx = self
            .backend
            .pool()
            .begin_with(B::BEGIN_WRITE)
            .await
            .map_err(db_err)?;
        let mut row = tx
            .lock_session(session_id)
            .await?
            .ok_or_else(|| not_found(session_id))?;
        fold.apply(session_id, &mut row)?;
        tx.insert_line_blocks(session_id, &lines.blocks).await?;
        tx.insert_events(session_id, &events).await?;
        tx.update_session(&row).await?;
        tx.commit().await.map_err(db_err)?;
        row.into_model()
    }

    pub(crate) async fn start_session_impl(
        &self,
        new: NewSession,
        batch: &SessionBatch,
    ) -> Result<Session> {
        check_id(IdKind::Store, &new.store_id)?;
        if let Some(o) = &new.outcome {
            o.validate()?;
        }
        let mut row = new_row(new);
        let lines = batch.lines.compressed()?;
        let fold = Fold::of(batch, &lines);
        let events: Vec<EventRow> = batch.events.iter().map(EventRow::from_model).collect();
        if let Some(direct) = self.backend.direct() {
            let target = Target::New(Box::new(row));
            return self
                .write_directly(direct, target, lines, events, fold)
                .await;
        }
        // The new row is moved past the batch before it is stored, so it is written once.
        fold.apply(&row.id.clone(), &mut row)?;
        let mut tx = self.insert_new_session(&row).await?;
        tx.insert_line_blocks(&row.id, &lines.blocks).await?;
        tx.insert_events(&row.id, &events).await?;
        tx.commit().await.map_err(db_err)?;
        row.into_model()
    }

    /// SQLite: a batch written in one call on a blocking thread (`sqlite_direct`), where sqlx
    /// would send each statement to its connection's thread and wait for the answer.
    async fn write_directly(
        &self,
        direct: &std::sync::Arc<crate::sqlite_direct::DirectReads>,
        target: Target,
        lines: std::borrow::Cow<'_, line_blocks::Compressed>,
        events: Vec<EventRow>,
        fold: Fold,
    ) -> Result<Session> {
        let _turn = self.write_turn().await;
        let (direct, blocks) = (direct.clone(), lines.into_owned().blocks);
        let row = tokio::task::spawn_blocking(move || {
            let id = target.id().to_string();
            direct.write_batch(target, &blocks, &events, |row| fold.apply(&id, row))
        })
        .await
        .map_err(|e| Error::storage(format!("the batch's write stopped: {e}")))??;
        row.into_model()
    }

    pub(crate) async fn reset_session_impl(&self, session_id: &str) -> Result<Session> {
        check_id(IdKind::Session, session_id)?;
        let mut tx = self
            .backend
            .pool()
            .begin_with(B::BEGIN_WRITE)
            .await
            .map_err(db_err)?;
        let mut row = tx
            .lock_session(session_id)
            .await?
            .ok_or_else(|| not_found(session_id))?;
        tx.delete_session_contents(session_id).await?;
        row.source_session_id = None;
        row.project = None;
        row.git_branch = None;
        row.model = None;
        row.agent_version = None;
        row.started_at = None;
        row.ended_at = None;
        row.event_count = 0;
        row.error_count = 0;
        row.line_count = 0;
        row.consumed_bytes = 0;
        row.consumed_hash = None;
        row.next_line = 1;
        row.updated_at = Timestamp::now().micros();
        tx.update_session(&row).await?;
        tx.commit().await.map_err(db_err)?;
        row.into_model()
    }

    pub(crate) async fn get_session_impl(&self, session_id: &str) -> Result<Session> {
        check_id(IdKind::Session, session_id)?;
        let mut conn = self.read().await?;
        conn.session(session_id)
            .await?
            .ok_or_else(|| not_found(session_id))?
            .into_model()
    }

    pub(crate) async fn list_sessions_impl(
        &self,
        store_id: &str,
        limit: Option<i64>,
        page: Option<&str>,
    ) -> Result<Page<Session>> {
        let limit = effective_limit(limit, View::Basic)?;
        let before: Option<(i64, String)> = page.map(decode_cursor).transpose()?;
        let mut conn = self.read().await?;
        self.require_store(&mut conn, store_id).await?;
        let rows = conn.sessions_page(store_id, before, limit + 1).await?;
        let (rows, next_page) = split_page(rows, limit, |r| (r.created_at, r.id.clone()));
        let data = rows
            .into_iter()
            .map(SessionRow::into_model)
            .collect::<Result<_>>()?;
        Ok(Page { data, next_page })
    }

    pub(crate) async fn session_events_impl(
        &self,
        session_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<Event>> {
        check_id(IdKind::Session, session_id)?;
        if !(1..=10_000).contains(&limit) {
            return Err(Error::invalid(
                "limit",
                format!("must be 1 to 10000, got {limit}"),
            ));
        }
        let mut conn = self.read().await?;
        let rows = conn.events_page(session_id, after_seq, limit).await?;
        if rows.is_empty() && conn.session(session_id).await?.is_none() {
            return Err(not_found(session_id));
        }
        rows.into_iter().map(EventRow::into_model).collect()
    }

    pub(crate) async fn store_events_impl(
        &self,
        store_id: &str,
        kinds: &[EventKind],
    ) -> Result<Vec<(String, Event)>> {
        check_id(IdKind::Store, store_id)?;
        let mut conn = self.read().await?;
        if conn.store(store_id).await?.is_none() {
            return Err(Error::not_found(IdKind::Store.noun(), store_id));
        }
        let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        let mut out = Vec::new();
        if kinds.is_empty() {
            return Ok(out);
        }
        // Pages keep each statement's result small; the connection is held throughout.
        const PAGE: i64 = 5_000;
        loop {
            let after = out
                .last()
                .map(|(s, e): &(String, Event)| (s.as_str(), e.seq));
            let rows = conn
                .store_events_page(store_id, &kinds, after, PAGE)
                .await?;
            let n = rows.len() as i64;
            for (session, row) in rows {
                out.push((session, row.into_model()?));
            }
            if n < PAGE {
                return Ok(out);
            }
        }
    }

    pub(crate) async fn session_lines_impl(
        &self,
        session_id: &str,
        from_line: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String)>> {
        check_id(IdKind::Session, session_id)?;
        if !(1..=10_000).contains(&limit) {
            return Err(Error::invalid(
                "limit",
                format!("must be 1 to 10000, got {limit}"),
            ));
        }
        let mut conn = self.read().await?;
        // Lines written before compression are rows of their own; a session can hold both.
        let legacy = conn.lines_page(session_id, from_line, limit).await?;
        let mut blocked = Vec::new();
        let mut from = from_line;
        while (blocked.len() as i64) < limit {
            let rows = conn
                .line_blocks_from(session_id, from, BLOCKS_PER_READ)
                .await?;
            for b in &rows {
                let lines = line_blocks::decode(
                    &b.codec,
                    b.first_line,
                    b.last_line,
                    b.lines,
                    b.raw_bytes,
                    &b.data,
                )
                .map_err(|e| {
                    Error::storage(format!(
                        "session {session_id}'s raw lines {} to {} cannot be read: {e}",
                        b.first_line, b.last_line
                    ))
                })?;
                blocked.extend(lines.into_iter().filter(|(n, _)| *n >= from_line));
            }
            match rows.last() {
                Some(last) if (rows.len() as i64) == BLOCKS_PER_READ => from = last.last_line + 1,
                _ => break,
            }
        }
        let rows = merge_lines(legacy, blocked, limit as usize);
        if rows.is_empty() && conn.session(session_id).await?.is_none() {
            return Err(not_found(session_id));
        }
        Ok(rows)
    }

    pub(crate) async fn set_session_outcome_impl(
        &self,
        session_id: &str,
        outcome: Option<Outcome>,
    ) -> Result<Session> {
        check_id(IdKind::Session, session_id)?;
        if let Some(o) = &outcome {
            o.validate()?;
        }
        let mut tx = self
            .backend
            .pool()
            .begin_with(B::BEGIN_WRITE)
            .await
            .map_err(db_err)?;
        let mut row = tx
            .lock_session(session_id)
            .await?
            .ok_or_else(|| not_found(session_id))?;
        row.outcome_status = outcome.as_ref().map(|o| o.status.as_str().to_string());
        row.outcome_score = outcome.as_ref().and_then(|o| o.score);
        row.outcome_note = outcome.and_then(|o| o.note);
        row.updated_at = Timestamp::now().micros();
        tx.update_session(&row).await?;
        tx.commit().await.map_err(db_err)?;
        row.into_model()
    }
}

//! Search: the entry index, kept in step with every memory write, and recall over it.
//!
//! Each live memory's entries are indexed with their terms (`reverie_core::search`) when the
//! memory is written, in the write's transaction ([`reindex`], called by `apply.rs`), so recall
//! always searches what the memories say now, not what the last dream saw. The full-text engine
//! (FTS5, or PostgreSQL's GIN index) only finds the entries holding a query term; the BM25
//! score is computed here from the stored terms, with statistics read in the same snapshot, so
//! the ranking is identical on both backends.

use std::collections::{BTreeMap, BTreeSet};

use reverie_core::content::sha256_hex;
use reverie_core::curation::{EntryKind, EntryMeta, manual_entry_id};
use reverie_core::entry::Document;
use reverie_core::id::{IdKind, check_id};
use reverie_core::search::{self, CorpusStats, RecallQuery, Recalled, Via, fts_token};
use reverie_core::{Error, Result, Timestamp};

use super::SqlStore;
use super::recall_index::{self, Hit};
use crate::backend::Backend;
use crate::dao::{Dao, db_err};
use crate::dao_dreams::DreamDao;
use crate::dao_search::{IndexRow, SearchDao, ServingRow};
use crate::dao_sessions::SessionDao;
use crate::postings;
use crate::recall_cache::RecallCache;
use crate::rows_dreams::EntryRow;

/// Memories re-indexed per transaction when the database is opened.
const SYNC_BATCH: i64 = 64;

/// The catch-up at open, as `search_meta`'s `synced` records it: a database it has brought up
/// to date is not scanned again.
const SYNCED: &str = "1";

/// What the index holds of `content`: each entry's block, its digest and its terms.
pub(crate) fn index_entries(content: &str) -> Vec<(i64, String, Vec<String>)> {
    Document::parse(content)
        .entries()
        .into_iter()
        .map(|e| {
            let doc = search::document(&e.section, &e.body);
            let terms = search::terms(&doc);
            (e.index as i64, sha256_hex(&doc)[..32].to_string(), terms)
        })
        .collect()
}

/// Brings a memory's index in step with `content` (`None`: the memory is gone). Entries whose
/// text did not change keep their `updated_at`.
pub(crate) async fn reindex<C: SearchDao + ?Sized>(
    conn: &mut C,
    store_id: &str,
    memory_id: &str,
    content: Option<&str>,
    now: i64,
) -> Result<()> {
    let Some(content) = content else {
        conn.delete_index(store_id, memory_id).await?;
        conn.delete_search_state(memory_id).await?;
        return super::recall_index::mark(conn, store_id, memory_id, (0, 0)).await;
    };
    let mut kept: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (_, digest, at) in conn.index_of(store_id, memory_id).await? {
        kept.entry(digest).or_default().push(at);
    }
    conn.delete_index(store_id, memory_id).await?;
    let rows: Vec<IndexRow> = index_entries(content)
        .into_iter()
        .map(|(block, digest, terms)| {
            let updated_at = kept.get_mut(&digest).and_then(Vec::pop).unwrap_or(now);
            IndexRow {
                store_id: store_id.to_string(),
                memory_id: memory_id.to_string(),
                block,
                digest,
                term_count: terms.len() as i64,
                terms: search::fts_tokens(&terms),
                updated_at,
            }
        })
        .collect();
    conn.insert_index(&rows).await?;
    let counts = (
        rows.len() as i64,
        rows.iter().map(|r| r.term_count).sum::<i64>(),
    );
    super::recall_index::mark(conn, store_id, memory_id, counts).await?;
    conn.set_search_state(store_id, memory_id, &sha256_hex(content))
        .await
}

impl<B: Backend> SqlStore<B> {
    /// Indexes the memories the index does not hold as they are now — those written before
    /// search existed, or by an older reverie — and forgets the index of memories that are
    /// gone. Each memory is re-indexed under its store's write lock, so that a writer racing
    /// this never sees its own index overwritten with older content.
    pub(crate) async fn sync_search_index(&self) -> Result<()> {
        let synced = {
            let mut conn = self.read().await?;
            conn.search_meta("synced").await?
        };
        if synced.as_deref() != Some(SYNCED) {
            self.index_every_memory().await?;
        }
        // Every store's recall index in this format, built where it is missing, and merged
        // where the memories indexed above left it due.
        let stale = {
            let mut conn = self.read().await?;
            conn.recall_index_behind(postings::FORMAT, recall_index::MERGE_AT)
                .await?
        };
        for store_id in stale {
            let (mut tx, _) = self.lock_store_fields(&store_id).await?;
            tracing::info!(store_id, "bringing the store's recall index up to date");
            recall_index::merge(&mut *tx, &store_id).await?;
            tx.commit().await.map_err(db_err)?;
        }
        Ok(())
    }

    /// Indexes every memory the index does not hold as it is, and records that it did: the
    /// scan of every memory that a later open skips.
    async fn index_every_memory(&self) -> Result<()> {
        loop {
            let stale = {
                let mut conn = self.read().await?;
                conn.stale_memories(SYNC_BATCH).await?
            };
            if stale.is_empty() {
                break;
            }
            let mut progressed = false;
            for m in stale {
                let (mut tx, _) = self.lock_store_fields(&m.store_id).await?;
                // Read again under the lock: the memory may have changed or gone meanwhile.
                if let Some(now) = tx.memory(&m.store_id, &m.id, true).await? {
                    let content = crate::rows::text(now.content.unwrap_or_default())?;
                    reindex(&mut *tx, &m.store_id, &m.id, Some(&content), now.updated_at).await?;
                    recall_index::touch(&mut *tx, &m.store_id).await?;
                    progressed = true;
                }
                tx.commit().await.map_err(db_err)?;
            }
            if !progressed {
                break;
            }
        }
        let orphans = {
            let mut conn = self.read().await?;
            conn.orphan_search_states().await?
        };
        for (store_id, memory_id) in orphans {
            let (mut tx, _) = self.lock_store_fields(&store_id).await?;
            reindex(&mut *tx, &store_id, &memory_id, None, 0).await?;
            recall_index::touch(&mut *tx, &store_id).await?;
            tx.commit().await.map_err(db_err)?;
        }
        let mut conn = self.read().await?;
        conn.set_search_meta("synced", SYNCED).await
    }

    pub(crate) async fn recall_impl(
        &self,
        store_id: &str,
        query: &RecallQuery,
    ) -> Result<Vec<Recalled>> {
        query.validate()?;
        check_id(IdKind::Store, store_id)?;
        let Some(via) = query.serve else {
            let mut tx = self
                .backend
                .pool()
                .begin_with(B::BEGIN_SNAPSHOT)
                .await
                .map_err(db_err)?;
            let store = self.require_store(&mut tx, store_id).await?;
            let found = recall_in(
                &mut *tx,
                &self.recall_cache,
                (store_id, store.revision),
                query,
            )
            .await?;
            tx.rollback().await.map_err(db_err)?;
            return Ok(found);
        };
        let (mut tx, store) = self.lock_store_fields(store_id).await?;
        if let Some(session_id) = &query.session_id {
            check_session(&mut *tx, store_id, session_id).await?;
        }
        let mut found = recall_in(
            &mut *tx,
            &self.recall_cache,
            (store_id, store.revision),
            query,
        )
        .await?;
        serve(
            &mut *tx,
            store_id,
            &mut found,
            via,
            query.session_id.as_deref(),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(found)
    }

    pub(crate) async fn serve_entries_impl(
        &self,
        store_id: &str,
        served: &mut [Recalled],
        via: Via,
        session_id: Option<&str>,
    ) -> Result<()> {
        if let Some(s) = session_id {
            check_id(IdKind::Session, s)?;
        }
        let (mut tx, _) = self.lock_store_fields(store_id).await?;
        if let Some(s) = session_id {
            check_session(&mut *tx, store_id, s).await?;
        }
        serve(&mut *tx, store_id, served, via, session_id).await?;
        tx.commit().await.map_err(db_err)
    }

    pub(crate) async fn servings_in_impl(
        &self,
        session_ids: &[String],
    ) -> Result<Vec<(String, String)>> {
        let mut conn = self.read().await?;
        conn.servings_in(session_ids).await
    }
}

/// Refuses a session that does not exist or belongs to another store.
async fn check_session<C: SessionDao + ?Sized>(
    conn: &mut C,
    store_id: &str,
    session_id: &str,
) -> Result<()> {
    let session = conn
        .session(session_id)
        .await?
        .ok_or_else(|| Error::not_found(IdKind::Session.noun(), session_id))?;
    if session.store_id != store_id {
        return Err(Error::invalid(
            "session_id",
            format!(
                "session {session_id} belongs to memory store {}, not to {store_id}",
                session.store_id
            ),
        ));
    }
    Ok(())
}

/// The entries of the store best matching `query`, best first.
async fn recall_in<C: Dao + DreamDao + SearchDao + ?Sized>(
    conn: &mut C,
    cache: &RecallCache,
    (store_id, revision): (&str, i64),
    query: &RecallQuery,
) -> Result<Vec<Recalled>> {
    let tokens: Vec<String> = {
        let set: BTreeSet<String> = search::query_terms(&query.query)
            .iter()
            .map(|t| fts_token(t))
            .collect();
        set.into_iter().collect()
    };
    if tokens.is_empty() {
        return Ok(Vec::new());
    }
    let index_path = super::curation::read_policy(&mut *conn, store_id)
        .await?
        .budget
        .index_path;
    let hits = match recall_index::rank(
        &mut *conn,
        cache,
        (store_id, revision),
        &tokens,
        query,
        &index_path,
    )
    .await?
    {
        Some(hits) => hits,
        None => rank_exact(&mut *conn, store_id, &tokens, query, &index_path).await?,
    };
    texts_of(conn, store_id, hits).await
}

/// Ranks from the entry index alone: every entry holding a query term is read. The reference
/// the recall index is held to, and what recall falls back on without one.
pub(crate) async fn rank_exact<C: SearchDao + ?Sized>(
    conn: &mut C,
    store_id: &str,
    tokens: &[String],
    query: &RecallQuery,
    index_path: &str,
) -> Result<Vec<Hit>> {
    let (docs, total_terms) = conn.index_stats(store_id).await?;
    if docs == 0 {
        return Ok(Vec::new());
    }
    let stats = CorpusStats {
        docs: docs as u64,
        average_len: total_terms as f64 / docs as f64,
    };
    let candidates = conn.index_candidates(store_id, tokens).await?;
    // Every entry holding a query term is a candidate, so these are the exact document
    // frequencies; filters narrow the results, not the statistics.
    let wanted: BTreeSet<&str> = tokens.iter().map(String::as_str).collect();
    // Each candidate's frequencies of the query's terms: the only ones its score reads.
    let tfs: Vec<BTreeMap<&str, u32>> = candidates
        .iter()
        .map(|c| {
            let mut tf: BTreeMap<&str, u32> = BTreeMap::new();
            for t in c.terms.split(' ').filter(|t| wanted.contains(t)) {
                *tf.entry(t).or_insert(0) += 1;
            }
            tf
        })
        .collect();
    let mut df: BTreeMap<&str, u64> = BTreeMap::new();
    for tf in &tfs {
        for t in tf.keys() {
            *df.entry(t).or_insert(0) += 1;
        }
    }
    let mut hits: Vec<Hit> = candidates
        .iter()
        .zip(&tfs)
        .filter(|(c, _)| recall_index::keeps(query, index_path, &c.path, c.updated_at))
        .map(|(c, tf)| {
            let len = u32::try_from(c.term_count).unwrap_or(u32::MAX);
            Hit {
                score: search::score(tokens, tf, len, &df, &stats),
                memory_id: c.memory_id.clone(),
                path: c.path.clone(),
                block: c.block,
                updated_at: c.updated_at,
            }
        })
        .filter(|h| h.score > 0.0)
        .collect();
    recall_index::order(&mut hits);
    hits.truncate(query.limit);
    Ok(hits)
}

/// The answers of `hits`: their texts from the memories as they are in this snapshot, and
/// their entries' metadata.
async fn texts_of<C: Dao + DreamDao + ?Sized>(
    conn: &mut C,
    store_id: &str,
    hits: Vec<Hit>,
) -> Result<Vec<Recalled>> {
    // One read of the memories and one of their entries, whatever the number of hits.
    let paths: Vec<&str> = hits
        .iter()
        .map(|h| h.path.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut docs_by_memory = BTreeMap::new();
    for m in conn.memories_at_paths(store_id, &paths).await? {
        let content = crate::rows::text(m.content.unwrap_or_default())?;
        docs_by_memory.insert(m.id, Document::parse(&content).entries());
    }
    let mut entries: BTreeMap<(String, String), EntryRow> = BTreeMap::new();
    for e in conn.live_entries_at_paths(store_id, &paths).await? {
        // By id: the first of equal entries at a path, as a lookup by path and text gives.
        entries.entry((e.path.clone(), e.text.clone())).or_insert(e);
    }
    let mut out = Vec::with_capacity(hits.len());
    for h in hits {
        let Some(doc) = docs_by_memory.get(&h.memory_id) else {
            return Err(Error::storage(format!(
                "indexed memory {} is not at {}",
                h.memory_id, h.path
            )));
        };
        let Some(e) = doc.iter().find(|e| e.index as i64 == h.block) else {
            return Err(Error::storage(format!(
                "the index of memory {} names block {}, which it does not have",
                h.memory_id, h.block
            )));
        };
        let entry = entries
            .get(&(h.path.clone(), e.body.clone()))
            .cloned()
            .map(EntryRow::into_model)
            .transpose()?;
        out.push(Recalled {
            score: h.score,
            memory_id: h.memory_id,
            path: h.path,
            section: e.section.clone(),
            text: e.body.clone(),
            updated_at: Timestamp(h.updated_at),
            entry,
        });
    }
    Ok(out)
}

/// Serves `found`: each entry's `served` counter goes up by one and the serving is recorded
/// (in the session, when known, for the next dream to count by the session's outcome). An
/// entry no dream has seen yet gets its metadata now, under the id a dream would give it.
async fn serve<C: DreamDao + SearchDao + ?Sized>(
    conn: &mut C,
    store_id: &str,
    found: &mut [Recalled],
    via: Via,
    session_id: Option<&str>,
) -> Result<()> {
    let now = Timestamp::now();
    for r in found.iter_mut() {
        if r.entry.is_none() {
            let mut n = 0;
            let id = loop {
                let id = manual_entry_id(store_id, &r.path, &r.text, n);
                match conn.entry(store_id, &id).await? {
                    None => break id,
                    Some(_) => n += 1,
                }
            };
            let meta = EntryMeta::new(id, EntryKind::Manual, &r.path, r.section.clone(), &r.text);
            conn.insert_entries(&[EntryRow::from_model(store_id, &meta)])
                .await?;
            r.entry = Some(meta);
        }
        let entry = r.entry.as_mut().expect("set above");
        conn.bump_served(store_id, &entry.id).await?;
        entry.served += 1;
        conn.insert_serving(&ServingRow {
            store_id: store_id.to_string(),
            entry_id: entry.id.clone(),
            session_id: session_id.map(str::to_string),
            via: via.as_str().to_string(),
            served_at: now.micros(),
        })
        .await?;
    }
    Ok(())
}

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
use crate::backend::Backend;
use crate::dao::{Dao, db_err};
use crate::dao_dreams::DreamDao;
use crate::dao_search::{CandidateRow, IndexRow, SearchDao, ServingRow};
use crate::dao_sessions::SessionDao;
use crate::rows_dreams::EntryRow;

/// Memories re-indexed per transaction when the database is opened.
const SYNC_BATCH: i64 = 64;

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
        return Ok(());
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
    conn.set_search_state(store_id, memory_id, &sha256_hex(content))
        .await
}

impl<B: Backend> SqlStore<B> {
    /// Indexes the memories the index does not hold as they are now — those written before
    /// search existed, or by an older reverie — and forgets the index of memories that are
    /// gone. Each memory is re-indexed under its store's write lock, so that a writer racing
    /// this never sees its own index overwritten with older content.
    pub(crate) async fn sync_search_index(&self) -> Result<()> {
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
            let mut tx = self
                .backend
                .pool()
                .begin_with(B::BEGIN_WRITE)
                .await
                .map_err(db_err)?;
            reindex(&mut *tx, &store_id, &memory_id, None, 0).await?;
            tx.commit().await.map_err(db_err)?;
        }
        Ok(())
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
            self.require_store(&mut tx, store_id).await?;
            let found = recall_in(&mut *tx, store_id, query).await?;
            tx.rollback().await.map_err(db_err)?;
            return Ok(found);
        };
        let (mut tx, _) = self.lock_store_fields(store_id).await?;
        if let Some(session_id) = &query.session_id {
            check_session(&mut *tx, store_id, session_id).await?;
        }
        let mut found = recall_in(&mut *tx, store_id, query).await?;
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
    store_id: &str,
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
    let (docs, total_terms) = conn.index_stats(store_id).await?;
    if docs == 0 {
        return Ok(Vec::new());
    }
    let stats = CorpusStats {
        docs: docs as u64,
        average_len: total_terms as f64 / docs as f64,
    };
    let candidates = conn.index_candidates(store_id, &tokens).await?;
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
    let index_path = super::curation::read_policy(&mut *conn, store_id)
        .await?
        .budget
        .index_path;
    let mut scored: Vec<(f64, &CandidateRow)> = candidates
        .iter()
        .zip(&tfs)
        .filter(|(c, _)| c.path != index_path)
        .filter(|(c, _)| {
            query
                .path_prefix
                .as_deref()
                .is_none_or(|p| c.path.starts_with(p))
        })
        .filter(|(c, _)| query.since.is_none_or(|t| c.updated_at >= t.micros()))
        .map(|(c, tf)| {
            let len = u32::try_from(c.term_count).unwrap_or(u32::MAX);
            (search::score(&tokens, tf, len, &df, &stats), c)
        })
        .filter(|(s, _)| *s > 0.0)
        .collect();
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| a.1.path.cmp(&b.1.path))
            .then_with(|| a.1.block.cmp(&b.1.block))
    });
    scored.truncate(query.limit);

    // The texts, from the memories as they are in this snapshot.
    let mut docs_by_memory: BTreeMap<&str, Document> = BTreeMap::new();
    for (_, c) in &scored {
        if docs_by_memory.contains_key(c.memory_id.as_str()) {
            continue;
        }
        let m = conn
            .memory(store_id, &c.memory_id, true)
            .await?
            .ok_or_else(|| Error::storage(format!("indexed memory {} is gone", c.memory_id)))?;
        let content = crate::rows::text(m.content.unwrap_or_default())?;
        docs_by_memory.insert(c.memory_id.as_str(), Document::parse(&content));
    }
    let mut out = Vec::with_capacity(scored.len());
    for (score, c) in scored {
        let doc = &docs_by_memory[c.memory_id.as_str()];
        let Some(e) = doc
            .entries()
            .into_iter()
            .find(|e| e.index as i64 == c.block)
        else {
            return Err(Error::storage(format!(
                "the index of memory {} names block {}, which it does not have",
                c.memory_id, c.block
            )));
        };
        let entry = conn
            .live_entries_at(store_id, &c.path, &e.body)
            .await?
            .into_iter()
            .next()
            .map(EntryRow::into_model)
            .transpose()?;
        out.push(Recalled {
            score,
            memory_id: c.memory_id.clone(),
            path: c.path.clone(),
            section: e.section,
            text: e.body,
            updated_at: Timestamp(c.updated_at),
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

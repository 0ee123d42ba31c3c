//! The queries of search — the entry index, its freshness, servings — written once for both
//! backends like `dao.rs`. The one query that differs is how the full-text engine finds the
//! candidates of a query (FTS5's `MATCH`, PostgreSQL's `@@`): it is a macro parameter.

use async_trait::async_trait;
use reverie_core::Result;

use crate::rows::MemoryRow;

/// One indexed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRow {
    pub store_id: String,
    pub memory_id: String,
    pub block: i64,
    pub digest: String,
    /// Full-text tokens, space-separated.
    pub terms: String,
    pub term_count: i64,
    pub updated_at: i64,
}

/// An entry that holds at least one term of a query, with where it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateRow {
    pub memory_id: String,
    pub path: String,
    pub block: i64,
    pub terms: String,
    pub term_count: i64,
    pub updated_at: i64,
}

/// One entry served to an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServingRow {
    pub store_id: String,
    pub entry_id: String,
    pub session_id: Option<String>,
    pub via: String,
    pub served_at: i64,
}

/// A store's row of the recall index (`recall_base`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecallBaseRow {
    pub format: i64,
    pub generation: i64,
    pub docs: i64,
    pub terms: i64,
    pub next_ordinal: i64,
}

/// A memory the recall index's postings hold (`recall_members`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub memory_id: String,
    pub ordinal: i64,
    pub docs: i64,
    pub terms: i64,
    pub blocks: String,
    pub term_set: String,
}

/// A memory written since the recall index merged it, with its counts now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirtyRow {
    pub memory_id: String,
    pub docs: i64,
    pub terms: i64,
    /// The merged member it replaces, if any: ordinal, entries, terms (read, never written).
    pub was: Option<(i64, i64, i64)>,
}

/// A merged member as recall resolves it: where its memory is now, and its blocks' times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberAt {
    pub ordinal: i64,
    pub memory_id: String,
    pub path: String,
    pub blocks: String,
}

/// An entry of the entry index with its terms, for the recall index to build postings from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedRow {
    pub memory_id: String,
    pub block: i64,
    pub terms: String,
    pub term_count: i64,
    pub updated_at: i64,
}

/// Search queries on one connection.
#[async_trait]
pub trait SearchDao: Send {
    /// The indexed entries of a memory: block, digest, updated_at.
    async fn index_of(
        &mut self,
        store_id: &str,
        memory_id: &str,
    ) -> Result<Vec<(i64, String, i64)>>;
    async fn delete_index(&mut self, store_id: &str, memory_id: &str) -> Result<()>;
    async fn insert_index(&mut self, rows: &[IndexRow]) -> Result<()>;
    /// Records that the index holds `content_sha256` of the memory.
    async fn set_search_state(
        &mut self,
        store_id: &str,
        memory_id: &str,
        content_sha256: &str,
    ) -> Result<()>;
    async fn delete_search_state(&mut self, memory_id: &str) -> Result<()>;
    /// The content digest the index holds for each memory of a store.
    async fn search_states(&mut self, store_id: &str) -> Result<Vec<(String, String)>>;
    /// Memories (with content) whose index is missing or older than their content, and index
    /// states of memories that are gone.
    async fn stale_memories(&mut self, limit: i64) -> Result<Vec<MemoryRow>>;
    async fn orphan_search_states(&mut self) -> Result<Vec<(String, String)>>;
    /// How many entries the store's index holds, and how many terms in all.
    async fn index_stats(&mut self, store_id: &str) -> Result<(i64, i64)>;
    /// Every indexed entry of the store holding at least one of `tokens`.
    async fn index_candidates(
        &mut self,
        store_id: &str,
        tokens: &[String],
    ) -> Result<Vec<CandidateRow>>;
    async fn insert_serving(&mut self, s: &ServingRow) -> Result<()>;

    /// The store's row of the recall index, if it has one.
    async fn recall_base(&mut self, store_id: &str) -> Result<Option<RecallBaseRow>>;
    async fn put_recall_base(&mut self, store_id: &str, b: &RecallBaseRow) -> Result<()>;
    /// Forgets everything the recall index holds of the store.
    async fn clear_recall_index(&mut self, store_id: &str) -> Result<()>;
    /// Records that the memory changed since its postings were merged: `docs` entries and
    /// `terms` terms now.
    async fn mark_recall_dirty(&mut self, store_id: &str, d: &DirtyRow) -> Result<()>;
    async fn recall_dirty(&mut self, store_id: &str) -> Result<Vec<DirtyRow>>;
    async fn recall_dirty_count(&mut self, store_id: &str) -> Result<i64>;
    async fn clear_recall_dirty(&mut self, store_id: &str) -> Result<()>;
    /// The members of these memories that the index holds.
    async fn recall_members(
        &mut self,
        store_id: &str,
        memory_ids: &[String],
    ) -> Result<Vec<MemberRow>>;
    /// The members numbered `ordinals`, each with its memory's path now.
    async fn recall_members_at(
        &mut self,
        store_id: &str,
        ordinals: &[i64],
    ) -> Result<Vec<MemberAt>>;
    async fn delete_recall_members(&mut self, store_id: &str, memory_ids: &[String]) -> Result<()>;
    async fn insert_recall_members(&mut self, store_id: &str, rows: &[MemberRow]) -> Result<()>;
    /// Every chunk of the postings of those of `terms` the index holds: (term, chunk, bytes),
    /// by term and chunk.
    async fn recall_postings(
        &mut self,
        store_id: &str,
        terms: &[String],
    ) -> Result<Vec<(String, i64, Vec<u8>)>>;
    /// These chunks of postings, those the index holds: (term, chunk, bytes).
    async fn recall_postings_chunks(
        &mut self,
        store_id: &str,
        chunks: &[(String, i64)],
    ) -> Result<Vec<(String, i64, Vec<u8>)>>;
    /// Writes these chunks of postings, replacing what was there.
    async fn put_recall_postings(
        &mut self,
        store_id: &str,
        rows: &[(String, i64, Vec<u8>)],
    ) -> Result<()>;
    async fn delete_recall_postings(
        &mut self,
        store_id: &str,
        chunks: &[(String, i64)],
    ) -> Result<()>;
    /// The indexed entries of these memories (all of the store's with `None`), by memory and
    /// block.
    async fn indexed_rows(
        &mut self,
        store_id: &str,
        memory_ids: Option<&[String]>,
    ) -> Result<Vec<IndexedRow>>;
    /// The indexed entries of the memories written since the recall index merged them, with
    /// where they live.
    async fn dirty_candidates(&mut self, store_id: &str) -> Result<Vec<CandidateRow>>;
    /// The stores whose recall index is missing, of another format than `format`, or holds at
    /// least `dirty` dirty memories.
    async fn recall_index_behind(&mut self, format: i64, dirty: i64) -> Result<Vec<String>>;
    /// A fact about the search indexes (`search_meta`).
    async fn search_meta(&mut self, key: &str) -> Result<Option<String>>;
    async fn set_search_meta(&mut self, key: &str, value: &str) -> Result<()>;
    /// Draws the store's recall index a new generation.
    async fn set_recall_generation(&mut self, store_id: &str, generation: i64) -> Result<()>;

    /// The servings recorded in these sessions: (session, entry), sorted, without repeats.
    async fn servings_in(&mut self, session_ids: &[String]) -> Result<Vec<(String, String)>>;
}

/// Implements [`SearchDao`] for a backend's connection type. `candidates` is the query of
/// [`SearchDao::index_candidates`], with the engine's match expression as `$1` and the store
/// as `$2`; `expression` builds that expression from the tokens.
macro_rules! impl_search_dao {
    ($conn:ty, $db:ty, candidates = $candidates:expr, expression = $expression:expr) => {
        const _: () = {
            use sqlx::Row;
            use $crate::dao::db_err;
            use $crate::dao_search::{
                CandidateRow, DirtyRow, IndexRow, IndexedRow, MemberAt, MemberRow, RecallBaseRow,
                SearchDao,
                ServingRow,
            };

            /// `(term, chunk)` pairs grouped by chunk.
            fn by_chunk(pairs: &[(String, i64)]) -> std::collections::BTreeMap<i64, Vec<&str>> {
                let mut out: std::collections::BTreeMap<i64, Vec<&str>> = Default::default();
                for (t, c) in pairs {
                    out.entry(*c).or_default().push(t);
                }
                out
            }

            fn candidate_row(r: &<$db as sqlx::Database>::Row) -> std::result::Result<CandidateRow, sqlx::Error> {
                Ok(CandidateRow {
                    memory_id: r.try_get("memory_id")?,
                    path: r.try_get("path")?,
                    block: r.try_get("block")?,
                    terms: r.try_get("terms")?,
                    term_count: r.try_get("term_count")?,
                    updated_at: r.try_get("updated_at")?,
                })
            }

            /// A chunk of postings: term, chunk, bytes.
            fn postings_row(r: &<$db as sqlx::Database>::Row) -> std::result::Result<(String, i64, Vec<u8>), sqlx::Error> {
                Ok((r.try_get("term")?, r.try_get("chunk")?, r.try_get("data")?))
            }

            fn member_row(r: &<$db as sqlx::Database>::Row) -> std::result::Result<MemberRow, sqlx::Error> {
                Ok(MemberRow {
                    memory_id: r.try_get("memory_id")?,
                    ordinal: r.try_get("ordinal")?,
                    docs: r.try_get("docs")?,
                    terms: r.try_get("terms")?,
                    blocks: r.try_get("blocks")?,
                    term_set: r.try_get("term_set")?,
                })
            }
            use $crate::dao_sessions::INSERT_CHUNK;
            use $crate::rows::MemoryRow;
            use reverie_core::Result;

            #[async_trait::async_trait]
            impl SearchDao for $conn {
                async fn index_of(
                    &mut self,
                    store_id: &str,
                    memory_id: &str,
                ) -> Result<Vec<(i64, String, i64)>> {
                    let rows = sqlx::query(
                        "SELECT block, digest, updated_at FROM entry_index \
                         WHERE store_id = $1 AND memory_id = $2 ORDER BY block",
                    )
                    .bind(store_id)
                    .bind(memory_id)
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    rows.iter()
                        .map(|r| {
                            Ok((
                                r.try_get("block")?,
                                r.try_get("digest")?,
                                r.try_get("updated_at")?,
                            ))
                        })
                        .collect::<std::result::Result<_, sqlx::Error>>()
                        .map_err(db_err)
                }

                async fn delete_index(&mut self, store_id: &str, memory_id: &str) -> Result<()> {
                    sqlx::query("DELETE FROM entry_index WHERE store_id = $1 AND memory_id = $2")
                        .bind(store_id)
                        .bind(memory_id)
                        .execute(&mut *self)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn insert_index(&mut self, rows: &[IndexRow]) -> Result<()> {
                    for chunk in rows.chunks(INSERT_CHUNK / 2) {
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "INSERT INTO entry_index \
                             (store_id, memory_id, block, digest, terms, term_count, updated_at) ",
                        );
                        q.push_values(chunk, |mut b, r| {
                            b.push_bind(&r.store_id)
                                .push_bind(&r.memory_id)
                                .push_bind(r.block)
                                .push_bind(&r.digest)
                                .push_bind(&r.terms)
                                .push_bind(r.term_count)
                                .push_bind(r.updated_at);
                        });
                        q.build().execute(&mut *self).await.map_err(db_err)?;
                    }
                    Ok(())
                }

                async fn set_search_state(
                    &mut self,
                    store_id: &str,
                    memory_id: &str,
                    content_sha256: &str,
                ) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO search_state (memory_id, store_id, content_sha256) \
                         VALUES ($1, $2, $3) ON CONFLICT (memory_id) DO UPDATE \
                         SET store_id = excluded.store_id, content_sha256 = excluded.content_sha256",
                    )
                    .bind(memory_id)
                    .bind(store_id)
                    .bind(content_sha256)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn search_states(&mut self, store_id: &str) -> Result<Vec<(String, String)>> {
                    let rows = sqlx::query(
                        "SELECT memory_id, content_sha256 FROM search_state WHERE store_id = $1 \
                         ORDER BY memory_id",
                    )
                    .bind(store_id)
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    rows.iter()
                        .map(|r| Ok((r.try_get("memory_id")?, r.try_get("content_sha256")?)))
                        .collect::<std::result::Result<_, sqlx::Error>>()
                        .map_err(db_err)
                }

                async fn delete_search_state(&mut self, memory_id: &str) -> Result<()> {
                    sqlx::query("DELETE FROM search_state WHERE memory_id = $1")
                        .bind(memory_id)
                        .execute(&mut *self)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn stale_memories(&mut self, limit: i64) -> Result<Vec<MemoryRow>> {
                    let rows = sqlx::query(
                        "SELECT m.id, m.store_id, m.path, m.content, m.content_sha256, \
                         m.content_size_bytes, m.version_id, m.created_at, m.updated_at \
                         FROM memories m LEFT JOIN search_state s ON s.memory_id = m.id \
                         WHERE s.memory_id IS NULL OR s.content_sha256 <> m.content_sha256 \
                         ORDER BY m.id LIMIT $1",
                    )
                    .bind(limit)
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    rows.iter()
                        .map(|r| {
                            Ok(MemoryRow {
                                id: r.try_get("id")?,
                                store_id: r.try_get("store_id")?,
                                path: r.try_get("path")?,
                                content: r.try_get("content")?,
                                content_sha256: r.try_get("content_sha256")?,
                                content_size_bytes: r.try_get("content_size_bytes")?,
                                version_id: r.try_get("version_id")?,
                                created_at: r.try_get("created_at")?,
                                updated_at: r.try_get("updated_at")?,
                            })
                        })
                        .collect::<std::result::Result<_, sqlx::Error>>()
                        .map_err(db_err)
                }

                async fn orphan_search_states(&mut self) -> Result<Vec<(String, String)>> {
                    let rows = sqlx::query(
                        "SELECT s.store_id, s.memory_id FROM search_state s \
                         LEFT JOIN memories m ON m.id = s.memory_id WHERE m.id IS NULL \
                         ORDER BY s.memory_id",
                    )
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    rows.iter()
                        .map(|r| Ok((r.try_get("store_id")?, r.try_get("memory_id")?)))
                        .collect::<std::result::Result<_, sqlx::Error>>()
                        .map_err(db_err)
                }

                async fn index_stats(&mut self, store_id: &str) -> Result<(i64, i64)> {
                    let row = sqlx::query(
                        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(term_count), 0) AS BIGINT) AS terms \
                         FROM entry_index WHERE store_id = $1",
                    )
                    .bind(store_id)
                    .fetch_one(&mut *self)
                    .await
                    .map_err(db_err)?;
                    let n: i64 = row.try_get("n").map_err(db_err)?;
                    // SUM of BIGINT is NUMERIC on PostgreSQL: the query casts it back.
                    let terms: i64 = row.try_get("terms").map_err(db_err)?;
                    Ok((n, terms))
                }

                async fn index_candidates(
                    &mut self,
                    store_id: &str,
                    tokens: &[String],
                ) -> Result<Vec<CandidateRow>> {
                    if tokens.is_empty() {
                        return Ok(Vec::new());
                    }
                    let expression: String = ($expression)(tokens);
                    let rows = sqlx::query($candidates)
                        .bind(expression)
                        .bind(store_id)
                        .fetch_all(&mut *self)
                        .await
                        .map_err(db_err)?;
                    rows.iter()
                        .map(candidate_row)
                        .collect::<std::result::Result<_, sqlx::Error>>()
                        .map_err(db_err)
                }

                async fn recall_base(&mut self, store_id: &str) -> Result<Option<RecallBaseRow>> {
                    let row = sqlx::query(
                        "SELECT format, generation, docs, terms, next_ordinal FROM recall_base \
                         WHERE store_id = $1",
                    )
                    .bind(store_id)
                    .fetch_optional(&mut *self)
                    .await
                    .map_err(db_err)?;
                    row.map(|r| {
                        Ok(RecallBaseRow {
                            format: r.try_get("format")?,
                            generation: r.try_get("generation")?,
                            docs: r.try_get("docs")?,
                            terms: r.try_get("terms")?,
                            next_ordinal: r.try_get("next_ordinal")?,
                        })
                    })
                    .transpose()
                    .map_err(|e: sqlx::Error| db_err(e))
                }

                async fn put_recall_base(&mut self, store_id: &str, b: &RecallBaseRow) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO recall_base \
                         (store_id, format, generation, docs, terms, next_ordinal) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (store_id) DO UPDATE \
                         SET format = excluded.format, generation = excluded.generation, \
                         docs = excluded.docs, \
                         terms = excluded.terms, next_ordinal = excluded.next_ordinal",
                    )
                    .bind(store_id)
                    .bind(b.format)
                    .bind(b.generation)
                    .bind(b.docs)
                    .bind(b.terms)
                    .bind(b.next_ordinal)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn clear_recall_index(&mut self, store_id: &str) -> Result<()> {
                    for q in [
                        "DELETE FROM recall_base WHERE store_id = $1",
                        "DELETE FROM recall_members WHERE store_id = $1",
                        "DELETE FROM recall_postings WHERE store_id = $1",
                        "DELETE FROM recall_dirty WHERE store_id = $1",
                    ] {
                        sqlx::query(q)
                            .bind(store_id)
                            .execute(&mut *self)
                            .await
                            .map_err(db_err)?;
                    }
                    Ok(())
                }

                async fn mark_recall_dirty(&mut self, store_id: &str, d: &DirtyRow) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO recall_dirty (store_id, memory_id, docs, terms) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (store_id, memory_id) DO UPDATE \
                         SET docs = excluded.docs, terms = excluded.terms",
                    )
                    .bind(store_id)
                    .bind(&d.memory_id)
                    .bind(d.docs)
                    .bind(d.terms)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn recall_dirty(&mut self, store_id: &str) -> Result<Vec<DirtyRow>> {
                    let rows = sqlx::query(
                        "SELECT d.memory_id, d.docs, d.terms, r.ordinal, r.docs AS was_docs, \
                         r.terms AS was_terms FROM recall_dirty d LEFT JOIN recall_members r \
                         ON r.store_id = d.store_id AND r.memory_id = d.memory_id \
                         WHERE d.store_id = $1 ORDER BY d.memory_id",
                    )
                    .bind(store_id)
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    rows.iter()
                        .map(|r| {
                            let ordinal: Option<i64> = r.try_get("ordinal")?;
                            let was = match ordinal {
                                Some(o) => Some((o, r.try_get("was_docs")?, r.try_get("was_terms")?)),
                                None => None,
                            };
                            Ok(DirtyRow {
                                memory_id: r.try_get("memory_id")?,
                                docs: r.try_get("docs")?,
                                terms: r.try_get("terms")?,
                                was,
                            })
                        })
                        .collect::<std::result::Result<_, sqlx::Error>>()
                        .map_err(db_err)
                }

                async fn recall_dirty_count(&mut self, store_id: &str) -> Result<i64> {
                    let row = sqlx::query("SELECT COUNT(*) AS n FROM recall_dirty WHERE store_id = $1")
                        .bind(store_id)
                        .fetch_one(&mut *self)
                        .await
                        .map_err(db_err)?;
                    row.try_get("n").map_err(db_err)
                }

                async fn clear_recall_dirty(&mut self, store_id: &str) -> Result<()> {
                    sqlx::query("DELETE FROM recall_dirty WHERE store_id = $1")
                        .bind(store_id)
                        .execute(&mut *self)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn recall_members(
                    &mut self,
                    store_id: &str,
                    memory_ids: &[String],
                ) -> Result<Vec<MemberRow>> {
                    let mut out = Vec::new();
                    for chunk in memory_ids.chunks(INSERT_CHUNK) {
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "SELECT memory_id, ordinal, docs, terms, blocks, term_set \
                             FROM recall_members WHERE store_id = ",
                        );
                        q.push_bind(store_id).push(" AND memory_id IN (");
                        let mut sep = q.separated(", ");
                        for id in chunk {
                            sep.push_bind(id);
                        }
                        q.push(")");
                        for r in q.build().fetch_all(&mut *self).await.map_err(db_err)? {
                            out.push(member_row(&r).map_err(db_err)?);
                        }
                    }
                    Ok(out)
                }

                async fn recall_members_at(
                    &mut self,
                    store_id: &str,
                    ordinals: &[i64],
                ) -> Result<Vec<MemberAt>> {
                    let mut out = Vec::new();
                    for chunk in ordinals.chunks(INSERT_CHUNK) {
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "SELECT r.ordinal, r.memory_id, m.path, r.blocks \
                             FROM recall_members r JOIN memories m ON m.id = r.memory_id \
                             WHERE r.store_id = ",
                        );
                        q.push_bind(store_id).push(" AND r.ordinal IN (");
                        let mut sep = q.separated(", ");
                        for o in chunk {
                            sep.push_bind(*o);
                        }
                        q.push(")");
                        for r in q.build().fetch_all(&mut *self).await.map_err(db_err)? {
                            out.push(
                                (|| {
                                    Ok::<_, sqlx::Error>(MemberAt {
                                        ordinal: r.try_get("ordinal")?,
                                        memory_id: r.try_get("memory_id")?,
                                        path: r.try_get("path")?,
                                        blocks: r.try_get("blocks")?,
                                    })
                                })()
                                .map_err(db_err)?,
                            );
                        }
                    }
                    Ok(out)
                }

                async fn delete_recall_members(
                    &mut self,
                    store_id: &str,
                    memory_ids: &[String],
                ) -> Result<()> {
                    for chunk in memory_ids.chunks(INSERT_CHUNK) {
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "DELETE FROM recall_members WHERE store_id = ",
                        );
                        q.push_bind(store_id).push(" AND memory_id IN (");
                        let mut sep = q.separated(", ");
                        for id in chunk {
                            sep.push_bind(id);
                        }
                        q.push(")");
                        q.build().execute(&mut *self).await.map_err(db_err)?;
                    }
                    Ok(())
                }

                async fn insert_recall_members(
                    &mut self,
                    store_id: &str,
                    rows: &[MemberRow],
                ) -> Result<()> {
                    for chunk in rows.chunks(INSERT_CHUNK / 2) {
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "INSERT INTO recall_members \
                             (store_id, memory_id, ordinal, docs, terms, blocks, term_set) ",
                        );
                        q.push_values(chunk, |mut b, r| {
                            b.push_bind(store_id)
                                .push_bind(&r.memory_id)
                                .push_bind(r.ordinal)
                                .push_bind(r.docs)
                                .push_bind(r.terms)
                                .push_bind(&r.blocks)
                                .push_bind(&r.term_set);
                        });
                        q.build().execute(&mut *self).await.map_err(db_err)?;
                    }
                    Ok(())
                }

                async fn recall_postings(
                    &mut self,
                    store_id: &str,
                    terms: &[String],
                ) -> Result<Vec<(String, i64, Vec<u8>)>> {
                    let mut out = Vec::new();
                    for chunk in terms.chunks(INSERT_CHUNK) {
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "SELECT term, chunk, data FROM recall_postings WHERE store_id = ",
                        );
                        q.push_bind(store_id).push(" AND term IN (");
                        let mut sep = q.separated(", ");
                        for t in chunk {
                            sep.push_bind(t);
                        }
                        q.push(") ORDER BY term, chunk");
                        for r in q.build().fetch_all(&mut *self).await.map_err(db_err)? {
                            out.push(postings_row(&r).map_err(db_err)?);
                        }
                    }
                    Ok(out)
                }

                async fn recall_postings_chunks(
                    &mut self,
                    store_id: &str,
                    chunks: &[(String, i64)],
                ) -> Result<Vec<(String, i64, Vec<u8>)>> {
                    // A query per chunk, with its terms: each is a seek on the key's prefix.
                    let mut out = Vec::new();
                    for (c, terms) in by_chunk(chunks) {
                        for part in terms.chunks(INSERT_CHUNK) {
                            let mut q = sqlx::QueryBuilder::<$db>::new(
                                "SELECT term, chunk, data FROM recall_postings WHERE store_id = ",
                            );
                            q.push_bind(store_id).push(" AND chunk = ").push_bind(c);
                            q.push(" AND term IN (");
                            let mut sep = q.separated(", ");
                            for t in part {
                                sep.push_bind(*t);
                            }
                            q.push(")");
                            for r in q.build().fetch_all(&mut *self).await.map_err(db_err)? {
                                out.push(postings_row(&r).map_err(db_err)?);
                            }
                        }
                    }
                    Ok(out)
                }

                async fn put_recall_postings(
                    &mut self,
                    store_id: &str,
                    rows: &[(String, i64, Vec<u8>)],
                ) -> Result<()> {
                    for part in rows.chunks(INSERT_CHUNK / 2) {
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "INSERT INTO recall_postings (store_id, term, chunk, data) ",
                        );
                        q.push_values(part, |mut b, (term, c, data)| {
                            b.push_bind(store_id).push_bind(term).push_bind(*c).push_bind(data);
                        });
                        q.push(
                            " ON CONFLICT (store_id, term, chunk) DO UPDATE SET data = excluded.data",
                        );
                        q.build().execute(&mut *self).await.map_err(db_err)?;
                    }
                    Ok(())
                }

                async fn delete_recall_postings(
                    &mut self,
                    store_id: &str,
                    chunks: &[(String, i64)],
                ) -> Result<()> {
                    for (c, terms) in by_chunk(chunks) {
                        for part in terms.chunks(INSERT_CHUNK) {
                            let mut q = sqlx::QueryBuilder::<$db>::new(
                                "DELETE FROM recall_postings WHERE store_id = ",
                            );
                            q.push_bind(store_id).push(" AND chunk = ").push_bind(c);
                            q.push(" AND term IN (");
                            let mut sep = q.separated(", ");
                            for t in part {
                                sep.push_bind(*t);
                            }
                            q.push(")");
                            q.build().execute(&mut *self).await.map_err(db_err)?;
                        }
                    }
                    Ok(())
                }

                async fn indexed_rows(
                    &mut self,
                    store_id: &str,
                    memory_ids: Option<&[String]>,
                ) -> Result<Vec<IndexedRow>> {
                    const COLS: &str = "SELECT memory_id, block, terms, term_count, updated_at \
                                        FROM entry_index WHERE store_id = ";
                    let mut rows = Vec::new();
                    match memory_ids {
                        None => {
                            let mut q = sqlx::QueryBuilder::<$db>::new(COLS);
                            q.push_bind(store_id);
                            rows.extend(q.build().fetch_all(&mut *self).await.map_err(db_err)?);
                        }
                        Some(ids) => {
                            for chunk in ids.chunks(INSERT_CHUNK) {
                                let mut q = sqlx::QueryBuilder::<$db>::new(COLS);
                                q.push_bind(store_id).push(" AND memory_id IN (");
                                let mut sep = q.separated(", ");
                                for id in chunk {
                                    sep.push_bind(id);
                                }
                                q.push(")");
                                rows.extend(q.build().fetch_all(&mut *self).await.map_err(db_err)?);
                            }
                        }
                    }
                    let mut out = rows
                        .iter()
                        .map(|r| {
                            Ok(IndexedRow {
                                memory_id: r.try_get("memory_id")?,
                                block: r.try_get("block")?,
                                terms: r.try_get("terms")?,
                                term_count: r.try_get("term_count")?,
                                updated_at: r.try_get("updated_at")?,
                            })
                        })
                        .collect::<std::result::Result<Vec<IndexedRow>, sqlx::Error>>()
                        .map_err(db_err)?;
                    // Sorted here: the same order on both backends without asking either to sort.
                    out.sort_unstable_by(|a, b| {
                        a.memory_id.cmp(&b.memory_id).then(a.block.cmp(&b.block))
                    });
                    Ok(out)
                }

                async fn dirty_candidates(&mut self, store_id: &str) -> Result<Vec<CandidateRow>> {
                    let rows = sqlx::query(
                        "SELECT i.memory_id, m.path, i.block, i.terms, i.term_count, i.updated_at \
                         FROM entry_index i JOIN memories m ON m.id = i.memory_id \
                         WHERE i.store_id = $1 AND i.memory_id IN \
                         (SELECT memory_id FROM recall_dirty WHERE store_id = $1)",
                    )
                    .bind(store_id)
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    rows.iter()
                        .map(candidate_row)
                        .collect::<std::result::Result<_, sqlx::Error>>()
                        .map_err(db_err)
                }

                async fn search_meta(&mut self, key: &str) -> Result<Option<String>> {
                    let row = sqlx::query("SELECT value FROM search_meta WHERE key = $1")
                        .bind(key)
                        .fetch_optional(&mut *self)
                        .await
                        .map_err(db_err)?;
                    row.map(|r| r.try_get("value")).transpose().map_err(db_err)
                }

                async fn set_search_meta(&mut self, key: &str, value: &str) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO search_meta (key, value) VALUES ($1, $2) \
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    )
                    .bind(key)
                    .bind(value)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn set_recall_generation(&mut self, store_id: &str, generation: i64) -> Result<()> {
                    sqlx::query("UPDATE recall_base SET generation = $2 WHERE store_id = $1")
                        .bind(store_id)
                        .bind(generation)
                        .execute(&mut *self)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn recall_index_behind(&mut self, format: i64, dirty: i64) -> Result<Vec<String>> {
                    let rows = sqlx::query(
                        "SELECT s.id FROM memory_stores s \
                         LEFT JOIN recall_base b ON b.store_id = s.id \
                         WHERE b.store_id IS NULL OR b.format <> $1 \
                         OR s.id IN (SELECT store_id FROM recall_dirty GROUP BY store_id \
                         HAVING COUNT(*) >= $2) ORDER BY s.id",
                    )
                    .bind(format)
                    .bind(dirty)
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    rows.iter()
                        .map(|r| r.try_get("id"))
                        .collect::<std::result::Result<_, sqlx::Error>>()
                        .map_err(db_err)
                }

                async fn insert_serving(&mut self, s: &ServingRow) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO servings (store_id, entry_id, session_id, via, served_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&s.store_id)
                    .bind(&s.entry_id)
                    .bind(&s.session_id)
                    .bind(&s.via)
                    .bind(s.served_at)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn servings_in(
                    &mut self,
                    session_ids: &[String],
                ) -> Result<Vec<(String, String)>> {
                    let mut out = Vec::new();
                    for chunk in session_ids.chunks(INSERT_CHUNK) {
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "SELECT DISTINCT session_id, entry_id FROM servings WHERE session_id IN (",
                        );
                        let mut sep = q.separated(", ");
                        for id in chunk {
                            sep.push_bind(id);
                        }
                        q.push(")");
                        let rows = q.build().fetch_all(&mut *self).await.map_err(db_err)?;
                        for r in &rows {
                            out.push((
                                r.try_get("session_id").map_err(db_err)?,
                                r.try_get("entry_id").map_err(db_err)?,
                            ));
                        }
                    }
                    out.sort();
                    out.dedup();
                    Ok(out)
                }
            }
        };
    };
}

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
            use $crate::dao_search::{CandidateRow, IndexRow, SearchDao, ServingRow};
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
                        .map(|r| {
                            Ok(CandidateRow {
                                memory_id: r.try_get("memory_id")?,
                                path: r.try_get("path")?,
                                block: r.try_get("block")?,
                                terms: r.try_get("terms")?,
                                term_count: r.try_get("term_count")?,
                                updated_at: r.try_get("updated_at")?,
                            })
                        })
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

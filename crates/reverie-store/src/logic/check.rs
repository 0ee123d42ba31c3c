//! The integrity check: every invariant that ties memories, versions, revisions and the search
//! index together, verified against what is stored. A crash, a killed process or a bug that broke one shows up
//! here by name.

use std::collections::BTreeMap;

use reverie_core::content::sha256_hex;
use reverie_core::path::validate_path;
use reverie_core::{Result, Timestamp};

use super::SqlStore;
use super::search::index_entries;
use crate::backend::Backend;
use crate::dao::Dao;
use crate::dao_search::SearchDao;
use crate::rows::VersionRow;

impl<B: Backend> SqlStore<B> {
    pub(crate) async fn check_integrity_impl(&self, store_id: &str) -> Result<Vec<String>> {
        // A read transaction, so that the check sees one consistent state.
        let mut tx = self
            .backend
            .pool()
            .begin()
            .await
            .map_err(crate::dao::db_err)?;
        let store = self.require_store(&mut tx, store_id).await?;
        let memories = tx.all_memories(store_id).await?;
        let versions = tx.all_versions(store_id).await?;
        let revisions = tx.all_revisions(store_id).await?;
        let mut problems = Vec::new();

        let mut latest: BTreeMap<&str, &VersionRow> = BTreeMap::new();
        for v in &versions {
            if v.revision < 1 || v.revision > store.revision {
                problems.push(format!(
                    "version {} has revision {} outside 1..={}",
                    v.id, v.revision, store.revision
                ));
            }
            latest.insert(&v.memory_id, v);
        }
        let expected: Vec<i64> = (1..=store.revision).collect();
        if revisions != expected {
            problems.push(format!(
                "recorded revisions are not exactly 1..={} ({} recorded)",
                store.revision,
                revisions.len()
            ));
        }
        for m in &memories {
            if let Err(e) = validate_path(&m.path) {
                problems.push(format!("memory {} has an invalid path: {e}", m.id));
            }
            match latest.get(m.id.as_str()) {
                None => problems.push(format!("memory {} has no version", m.id)),
                Some(v) => {
                    if v.id != m.version_id {
                        problems.push(format!(
                            "memory {} points at {}, but its latest version is {}",
                            m.id, m.version_id, v.id
                        ));
                    }
                    if v.operation == "deleted" {
                        problems.push(format!(
                            "memory {} is live but its latest version is a deletion",
                            m.id
                        ));
                    }
                    if v.redacted_at.is_none()
                        && (v.path.as_deref() != Some(&m.path)
                            || v.content_sha256.as_deref() != Some(&m.content_sha256))
                    {
                        problems.push(format!(
                            "memory {} differs from its current version {}",
                            m.id, v.id
                        ));
                    }
                }
            }
        }
        let live: std::collections::BTreeSet<&str> =
            memories.iter().map(|m| m.id.as_str()).collect();
        for (id, v) in &latest {
            if v.operation != "deleted" && !live.contains(id) {
                problems.push(format!(
                    "memory {id} was not deleted (latest version {}) but is missing",
                    v.id
                ));
            }
        }
        for m in &memories {
            let full = tx
                .memory(store_id, &m.id, true)
                .await?
                .expect("listed in this transaction");
            let content = full.content.unwrap_or_default();
            if content.len() as i64 != m.content_size_bytes {
                problems.push(format!(
                    "memory {} holds {} bytes but records {}",
                    m.id,
                    content.len(),
                    m.content_size_bytes
                ));
            }
            match String::from_utf8(content) {
                Ok(text) if sha256_hex(&text) == m.content_sha256 => {
                    // Recall finds the entries the content has, and only those.
                    let want: Vec<(i64, String)> = index_entries(&text)
                        .into_iter()
                        .map(|(block, digest, _)| (block, digest))
                        .collect();
                    let got: Vec<(i64, String)> = tx
                        .index_of(store_id, &m.id)
                        .await?
                        .into_iter()
                        .map(|(block, digest, _)| (block, digest))
                        .collect();
                    if got != want {
                        problems.push(format!(
                            "the search index of memory {} does not match its content \
                             ({} entries indexed, {} in the content)",
                            m.id,
                            got.len(),
                            want.len()
                        ));
                    }
                }
                Ok(_) => problems.push(format!(
                    "memory {} content does not match its content_sha256",
                    m.id
                )),
                Err(_) => problems.push(format!("memory {} content is not UTF-8", m.id)),
            }
        }
        let indexed: BTreeMap<String, String> =
            tx.search_states(store_id).await?.into_iter().collect();
        for m in &memories {
            match indexed.get(&m.id) {
                None => problems.push(format!("memory {} is not in the search index", m.id)),
                Some(sha) if *sha != m.content_sha256 => problems.push(format!(
                    "the search index holds other content of memory {} ({sha}, not {})",
                    m.id, m.content_sha256
                )),
                Some(_) => {}
            }
        }
        for id in indexed.keys() {
            if !live.contains(id.as_str()) {
                problems.push(format!("the search index holds memory {id}, which is gone"));
            }
        }
        if memories.len() as i64 != store.memory_count {
            problems.push(format!(
                "store records {} memories but holds {}",
                store.memory_count,
                memories.len()
            ));
        }
        if memories.len() as i64 > store.max_memories {
            problems.push(format!(
                "store holds {} memories, over its limit of {}",
                memories.len(),
                store.max_memories
            ));
        }
        tracing::debug!(store_id, at = %Timestamp::now(), problems = problems.len(), "integrity check");
        Ok(problems)
    }
}

//! A curator for tests: it proposes the candidates it is given (instead of extracting them),
//! can merge texts as told, and can act on the store while a dream runs (a concurrent write,
//! a cancel), so that each guarantee can be tested on its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use reverie_core::curation::{EntryKind, Evidence};
use reverie_core::timestamp::Timestamp;
use reverie_curate::candidate::Candidate;
use reverie_curate::curator::{Curator, CuratorError, Extraction, Known};
use reverie_curate::input::DreamInput;
use reverie_store::Store;

/// Something to do to the store during the dream's first extraction.
pub enum Meddle {
    /// Write `content` at `path` (creating or replacing the memory).
    Write {
        store: Arc<dyn Store>,
        store_id: String,
        path: String,
        content: String,
    },
    /// Cancel the dream being run.
    Cancel { store: Arc<dyn Store> },
    /// Recall `query` with serving, as an agent would while the dream runs.
    Serve {
        store: Arc<dyn Store>,
        store_id: String,
        query: String,
    },
}

pub struct Scripted {
    pub candidates: Vec<Candidate>,
    /// What `merge` returns.
    pub merged: Option<String>,
    pub meddle: Option<Meddle>,
    pub extractions: AtomicUsize,
}

impl std::fmt::Debug for Scripted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scripted")
            .field("candidates", &self.candidates.len())
            .finish()
    }
}

impl Scripted {
    pub fn new(candidates: Vec<Candidate>) -> Scripted {
        Scripted {
            candidates,
            merged: None,
            meddle: None,
            extractions: AtomicUsize::new(0),
        }
    }
}

#[async_trait]
impl Curator for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }

    async fn extract(
        &self,
        input: &DreamInput,
        _known: &Known,
    ) -> Result<Extraction, CuratorError> {
        if self.extractions.fetch_add(1, Ordering::SeqCst) == 0 {
            match &self.meddle {
                Some(Meddle::Write {
                    store,
                    store_id,
                    path,
                    content,
                }) => {
                    super::put(store.as_ref(), store_id, path, content).await;
                }
                Some(Meddle::Cancel { store }) => {
                    store.cancel_dream(&input.dream_id).await.unwrap();
                }
                Some(Meddle::Serve {
                    store,
                    store_id,
                    query,
                }) => {
                    let mut q = reverie_core::search::RecallQuery::new(query.clone());
                    q.limit = 1;
                    q.serve = Some(reverie_core::search::Via::Recall);
                    let found = store.recall(store_id, &q).await.unwrap();
                    assert_eq!(found.len(), 1, "{query:?} finds an entry");
                }
                None => {}
            }
        }
        Ok(Extraction {
            candidates: self.candidates.clone(),
            ..Extraction::default()
        })
    }

    async fn merge(&self, _texts: &[&str]) -> Result<Option<String>, CuratorError> {
        Ok(self.merged.clone())
    }
}

/// A candidate said in `session` at event `seq` on day `day` (days after 2026-11-01).
pub fn cand(
    kind: EntryKind,
    text: &str,
    path: &str,
    session: &str,
    seq: i64,
    day: i64,
) -> Candidate {
    let at = Timestamp::parse("2026-11-01T12:00:00Z").unwrap().micros() + day * 86_400_000_000;
    Candidate {
        kind,
        text: text.to_string(),
        path: path.to_string(),
        section: Vec::new(),
        evidence: vec![Evidence {
            session_id: session.to_string(),
            seq,
            quote: text.to_string(),
        }],
        at: Some(Timestamp(at)),
        from_tool_output: false,
        flags: Vec::new(),
        reason: "scripted".to_string(),
        replaces: Vec::new(),
    }
}

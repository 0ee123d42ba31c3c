//! The curator: what reads sessions and writes entries. The deterministic curator is the
//! default and needs no model; a model-backed one plugs in behind the same trait.

use async_trait::async_trait;

use crate::candidate::Candidate;
use crate::input::DreamInput;

/// Why a curator could not do its part.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CuratorError {
    /// A code of [`reverie_core::dream::error_kind`] (`model_failed`, `model_budget_exceeded`).
    pub kind: &'static str,
    pub message: String,
}

impl CuratorError {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        CuratorError {
            kind,
            message: message.into(),
        }
    }
}

/// What a curator found in the sessions.
#[derive(Debug, Clone, Default)]
pub struct Extraction {
    pub candidates: Vec<Candidate>,
    /// Live entries to move out of the served memory (obsolete, by the curator's reading of the
    /// sessions), each with its reason and evidence. Pinned and protected entries never are.
    pub archive: Vec<ArchiveRequest>,
    /// What a model curator did, for the changeset.
    pub run: Option<reverie_core::curation::CuratorRun>,
}

/// An entry a curator asks to archive.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchiveRequest {
    pub path: String,
    pub text: String,
    pub reason: String,
    pub evidence: Vec<reverie_core::curation::Evidence>,
}

/// What the curator knows of the store when it extracts: its live entries and glossary terms.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// The text of every live entry, with the memory it is in.
    pub entries: Vec<(String, String)>,
    /// Terms the store's glossary defines.
    pub terms: Vec<String>,
    /// For each entry: pinned or in a protected memory (no dream changes it).
    pub fixed: Vec<bool>,
    /// For each entry: the section it is in.
    pub sections: Vec<Vec<String>>,
}

/// Extracts candidate entries from sessions, and writes one text for entries about the same
/// thing.
#[async_trait]
pub trait Curator: Send + Sync + std::fmt::Debug {
    /// The curator's name, recorded on the dream.
    fn name(&self) -> &str;

    /// Candidate entries from the input's sessions, each with its evidence.
    async fn extract(&self, input: &DreamInput, known: &Known) -> Result<Extraction, CuratorError>;

    /// One text for `texts`, entries about the same subject that agree; `None` keeps the most
    /// specific of them as it is. Whatever is returned must keep every detail of every text
    /// (the guard checks, and fails the dream otherwise).
    async fn merge(&self, texts: &[&str]) -> Result<Option<String>, CuratorError>;
}

/// The default curator: rules over the sessions' events, no model.
#[derive(Debug, Clone, Copy, Default)]
pub struct Deterministic;

#[async_trait]
impl Curator for Deterministic {
    fn name(&self) -> &str {
        reverie_core::dream::DETERMINISTIC_MODEL
    }

    async fn extract(&self, input: &DreamInput, known: &Known) -> Result<Extraction, CuratorError> {
        Ok(Extraction {
            candidates: crate::extract::extract(input, known),
            ..Extraction::default()
        })
    }

    async fn merge(&self, _texts: &[&str]) -> Result<Option<String>, CuratorError> {
        Ok(None)
    }
}

//! The curator: what reads sessions and writes entries. The deterministic curator is the
//! default and needs no model; a model-backed one plugs in behind the same trait.

use async_trait::async_trait;

use crate::candidate::Candidate;
use crate::input::DreamInput;

/// Why a curator could not do its part.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CuratorError {
    pub message: String,
}

/// What the curator knows of the store when it extracts: its live entries and glossary terms.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// The text of every live entry, with the memory it is in.
    pub entries: Vec<(String, String)>,
    /// Terms the store's glossary defines.
    pub terms: Vec<String>,
}

/// Extracts candidate entries from sessions, and writes one text for entries about the same
/// thing.
#[async_trait]
pub trait Curator: Send + Sync + std::fmt::Debug {
    /// The curator's name, recorded on the dream.
    fn name(&self) -> &str;

    /// Candidate entries from the input's sessions, each with its evidence.
    async fn extract(
        &self,
        input: &DreamInput,
        known: &Known,
    ) -> Result<Vec<Candidate>, CuratorError>;

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

    async fn extract(
        &self,
        input: &DreamInput,
        known: &Known,
    ) -> Result<Vec<Candidate>, CuratorError> {
        Ok(crate::extract::extract(input, known))
    }

    async fn merge(&self, _texts: &[&str]) -> Result<Option<String>, CuratorError> {
        Ok(None)
    }
}

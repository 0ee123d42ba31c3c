//! Choosing a dream's curator from the model it names (`reverie_model` resolves names to
//! providers with the configuration), and `reverie config`. Every provider is wrapped so that
//! what it is sent and what it answers pass the session redactor: a secret never reaches a
//! model, and one a model writes never reaches a note (the guard refuses redacted text).

use std::borrow::Cow;
use std::sync::Arc;

use anyhow::Result;
use async_trait::async_trait;
use reverie_curate::Curator;
use reverie_curate::model::{
    ModelClient, ModelCurator, ModelError, ModelErrorKind, ModelReply, ModelRequest, Price,
};
use reverie_dream::CuratorSource;
use reverie_ingest::redact::{RedactionCounts, redactor};

use crate::cli::ConfigCmd;
use crate::output::emit;

/// The curators a process offers: the deterministic one, and whatever model the configuration
/// can reach.
#[derive(Debug)]
pub struct Curators {
    pub config: reverie_model::Config,
    /// A dream naming a model no provider serves runs with the deterministic curator (the
    /// server's default, for clients that always send a model name); never for an explicit
    /// `reverie dream --model`.
    pub fallback: bool,
}

impl Curators {
    /// The configuration as loaded (file, environment); its warnings are printed.
    pub fn load(fallback_as_configured: bool) -> Result<Curators> {
        let config = load_config()?;
        let fallback =
            fallback_as_configured && config.unconfigured == reverie_model::Unconfigured::Fallback;
        Ok(Curators { config, fallback })
    }
}

/// The configuration, with its warnings on standard error.
pub fn load_config() -> Result<reverie_model::Config> {
    let config = reverie_model::Config::load()?;
    for w in &config.warnings {
        eprintln!("warning: {w}");
    }
    Ok(config)
}

impl CuratorSource for Curators {
    fn curator(&self, model: &str) -> std::result::Result<Arc<dyn Curator>, String> {
        match reverie_model::resolve(model, &self.config) {
            Ok(None) => Ok(Arc::new(reverie_curate::Deterministic)),
            Ok(Some(client)) => Ok(Arc::new(ModelCurator::new(Arc::new(Redacted(client))))),
            Err(e) => Err(e.message),
        }
    }

    fn falls_back(&self) -> bool {
        self.fallback
    }

    fn default_model(&self) -> String {
        self.config.dream_model.clone()
    }
}

/// A provider behind the session redactor, both ways. Sessions are redacted when ingested,
/// but memory content may hold a secret where a store's policy allows one, and a model may
/// write one it was never shown.
#[derive(Debug)]
pub struct Redacted(pub Arc<dyn ModelClient>);

#[async_trait]
impl ModelClient for Redacted {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn price(&self) -> Option<Price> {
        self.0.price()
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelReply, ModelError> {
        let mut counts = RedactionCounts::default();
        let reply = match redactor().redact(&request.user, &mut counts) {
            Cow::Borrowed(_) => self.0.complete(request).await?,
            Cow::Owned(user) => {
                let sent = ModelRequest {
                    user,
                    ..request.clone()
                };
                self.0.complete(&sent).await?
            }
        };
        let text = serde_json::to_string(&reply.output).expect("JSON values serialize");
        let output = match redactor().redact_json(&text, &mut counts) {
            Cow::Borrowed(_) => return Ok(reply),
            Cow::Owned(red) => serde_json::from_str(&red).map_err(|e| {
                ModelError::new(
                    ModelErrorKind::Malformed,
                    format!("the answer with its secrets redacted is not JSON: {e}"),
                )
            })?,
        };
        Ok(ModelReply { output, ..reply })
    }
}

pub fn config(cmd: ConfigCmd, json: bool) -> Result<i32> {
    let config = load_config()?;
    match cmd {
        ConfigCmd::Show => {
            if json {
                crate::output::json(&serde_json::json!({"config": config.show()}));
            } else {
                crate::output::emit_raw(&config.show());
            }
        }
        ConfigCmd::Path => emit(&config.file_display()),
    }
    Ok(0)
}

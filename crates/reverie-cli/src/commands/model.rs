//! Choosing a dream's curator from the model it names (`reverie_model` resolves names to
//! providers with the configuration), and `reverie config`.

use std::sync::Arc;

use anyhow::Result;
use reverie_curate::Curator;
use reverie_curate::model::ModelCurator;
use reverie_dream::CuratorSource;

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
            Ok(Some(client)) => Ok(Arc::new(ModelCurator::new(client))),
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

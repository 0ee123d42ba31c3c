//! One module per family of commands.

pub mod bench;
pub mod bench_curve;
pub mod bench_hooks;
pub mod bench_ingest;
pub mod bench_scale;
pub mod bench_serve;
pub mod bench_sessions;
pub mod bench_tokens;
pub mod bench_ui;
pub mod claude_code;
pub mod curation;
pub mod curve;
pub mod demo;
pub mod dream;
pub mod drift;
pub mod history;
pub mod locomo;
pub mod memory;
pub mod model;
pub mod policy;
pub mod serve;
pub mod server;
pub mod sessions;
pub mod store;
pub mod tool;
pub mod tour;

use std::collections::BTreeMap;

use anyhow::Result;
use reverie_core::Error;

/// Parses repeated `KEY=VALUE` flags; `KEY=` gives `None` (remove) when `allow_remove`.
pub fn parse_pairs(
    pairs: &[String],
    allow_remove: bool,
) -> Result<BTreeMap<String, Option<String>>> {
    let mut out = BTreeMap::new();
    for pair in pairs {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(Error::invalid("metadata", format!("{pair:?} is not KEY=VALUE")).into());
        };
        let v = if v.is_empty() && allow_remove {
            None
        } else {
            Some(v.to_string())
        };
        out.insert(k.to_string(), v);
    }
    Ok(out)
}

//! What every command needs: the opened store, the output mode, the actor, and the lookups of
//! stores by id or name and of memories by path or id.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use reverie_core::{Actor, Error, Memory, MemoryStore};
use reverie_store::Store;

use crate::cli::Cli;

#[derive(Debug)]
pub struct Ctx {
    pub store: Arc<dyn Store>,
    pub json: bool,
    pub actor: Actor,
    pub database: String,
}

/// Where the embedded database lives when nothing says otherwise:
/// `$XDG_DATA_HOME/reverie/reverie.db`, else `~/.local/share/reverie/reverie.db`.
pub fn default_database() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("reverie/reverie.db"));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).context(
        "cannot find a place for the database: set --database, REVERIE_DATABASE_URL, XDG_DATA_HOME or HOME",
    )?;
    Ok(PathBuf::from(home).join(".local/share/reverie/reverie.db"))
}

impl Ctx {
    pub async fn open(cli: &Cli) -> Result<Ctx> {
        let database = match &cli.database {
            Some(url) if !url.is_empty() => url.clone(),
            _ => default_database()?.display().to_string(),
        };
        let actor = match &cli.actor {
            Some(spec) => Actor::parse(spec)?,
            None => {
                let user = std::env::var("USER")
                    .ok()
                    .filter(|u| !u.is_empty())
                    .unwrap_or_else(|| "local".into());
                Actor::User {
                    user_id: format!("user_{user}"),
                }
            }
        };
        let store = reverie_store::open(&database).await?;
        Ok(Ctx {
            store,
            json: cli.json,
            actor,
            database,
        })
    }

    /// A store by id (`memstore_…`) or by its unique name.
    pub async fn store_ref(&self, reference: &str) -> Result<MemoryStore> {
        Ok(reverie_store::store_by_ref(self.store.as_ref(), reference, |_| true).await?)
    }

    /// A live memory by path (`/…`) or id (`mem_…`).
    pub async fn memory_ref(&self, store_id: &str, reference: &str) -> Result<Memory> {
        if reference.starts_with('/') {
            Ok(self.store.get_memory_by_path(store_id, reference).await?)
        } else if reference.starts_with("mem_") {
            Ok(self.store.get_memory(store_id, reference).await?)
        } else {
            bail!(Error::invalid(
                "memory",
                format!("{reference:?} is neither a path (/…) nor a memory id (mem_…)")
            ))
        }
    }

    /// A memory id from a path or id; for an id, the memory may be deleted.
    pub async fn memory_id(&self, store_id: &str, reference: &str) -> Result<String> {
        if reference.starts_with("mem_") {
            reverie_core::id::check_id(reverie_core::id::IdKind::Memory, reference)?;
            return Ok(reference.to_string());
        }
        Ok(self.memory_ref(store_id, reference).await?.id)
    }
}

//! API keys: made with their secret shown once, looked up by the secret's digest, revoked.

use reverie_core::api_key::{self, ApiKey};
use reverie_core::id::{IdKind, check_id, new_id};
use reverie_core::{Error, Result, Timestamp};

use super::SqlStore;
use crate::backend::Backend;
use crate::dao_keys::{KeyDao, KeyRow};

fn model(r: KeyRow) -> Result<ApiKey> {
    let stores = r
        .stores
        .map(|s| {
            serde_json::from_str::<Vec<String>>(&s)
                .map_err(|e| Error::storage(format!("API key {}: bad store list: {e}", r.id)))
        })
        .transpose()?;
    Ok(ApiKey {
        id: r.id,
        name: r.name,
        stores,
        created_at: Timestamp(r.created_at),
        revoked_at: r.revoked_at.map(Timestamp),
    })
}

impl<B: Backend> SqlStore<B> {
    pub(crate) async fn create_api_key_impl(
        &self,
        name: &str,
        stores: Option<Vec<String>>,
    ) -> Result<(ApiKey, String)> {
        api_key::validate(name, stores.as_deref())?;
        let mut stores = stores;
        if let Some(s) = stores.as_mut() {
            s.sort();
            s.dedup();
            for id in s.iter() {
                // Every store named must exist (archived ones too: they stay readable).
                self.get_store_impl(id).await?;
            }
        }
        let secret = api_key::new_secret();
        let row = KeyRow {
            id: new_id(IdKind::ApiKey),
            name: name.to_string(),
            secret_sha256: api_key::secret_digest(&secret),
            stores: stores
                .as_ref()
                .map(|s| serde_json::to_string(s).expect("strings serialize")),
            created_at: Timestamp::now().micros(),
            revoked_at: None,
        };
        let mut conn = self.read().await?;
        (*conn).insert_key(&row).await?;
        Ok((model(row)?, secret))
    }

    pub(crate) async fn list_api_keys_impl(&self) -> Result<Vec<ApiKey>> {
        let mut conn = self.read().await?;
        (*conn).keys().await?.into_iter().map(model).collect()
    }

    pub(crate) async fn api_key_for_secret_impl(&self, secret: &str) -> Result<Option<ApiKey>> {
        let mut conn = self.read().await?;
        (*conn)
            .key_by_digest(&api_key::secret_digest(secret))
            .await?
            .map(model)
            .transpose()
    }

    pub(crate) async fn revoke_api_key_impl(&self, id: &str) -> Result<ApiKey> {
        check_id(IdKind::ApiKey, id)?;
        let mut conn = self.read().await?;
        (*conn).revoke_key(id, Timestamp::now().micros()).await?;
        let row = conn
            .key(id)
            .await?
            .ok_or_else(|| Error::not_found(IdKind::ApiKey.noun(), id))?;
        model(row)
    }
}

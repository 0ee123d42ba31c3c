//! The queries of API keys, written once for both backends like `dao.rs`.

use async_trait::async_trait;
use reverie_core::Result;

/// An `api_keys` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub secret_sha256: String,
    /// A JSON array of store ids, or `None` for every store.
    pub stores: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// API-key queries on one connection.
#[async_trait]
pub trait KeyDao: Send {
    async fn insert_key(&mut self, k: &KeyRow) -> Result<()>;
    async fn keys(&mut self) -> Result<Vec<KeyRow>>;
    async fn key(&mut self, id: &str) -> Result<Option<KeyRow>>;
    async fn key_by_digest(&mut self, secret_sha256: &str) -> Result<Option<KeyRow>>;
    async fn revoke_key(&mut self, id: &str, at: i64) -> Result<()>;
}

/// Implements [`KeyDao`] for a backend's connection type.
macro_rules! impl_key_dao {
    ($conn:ty, $db:ty) => {
        const _: () = {
            use sqlx::Row;
            use $crate::dao::db_err;
            use $crate::dao_keys::{KeyDao, KeyRow};
            use reverie_core::Result;


            fn key_row(
                r: &<$db as sqlx::Database>::Row,
            ) -> std::result::Result<KeyRow, sqlx::Error> {
                Ok(KeyRow {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    secret_sha256: r.try_get("secret_sha256")?,
                    stores: r.try_get("stores")?,
                    created_at: r.try_get("created_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                })
            }

            #[async_trait::async_trait]
            impl KeyDao for $conn {
                async fn insert_key(&mut self, k: &KeyRow) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO api_keys (id, name, secret_sha256, stores, created_at, revoked_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&k.id)
                    .bind(&k.name)
                    .bind(&k.secret_sha256)
                    .bind(&k.stores)
                    .bind(k.created_at)
                    .bind(k.revoked_at)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn keys(&mut self) -> Result<Vec<KeyRow>> {
                    let rows = sqlx::query(
                        "SELECT id, name, secret_sha256, stores, created_at, revoked_at \
                         FROM api_keys ORDER BY created_at, id",
                    )
                    .fetch_all(&mut *self)
                    .await
                    .map_err(db_err)?;
                    rows.iter().map(key_row).collect::<std::result::Result<_, _>>().map_err(db_err)
                }

                async fn key(&mut self, id: &str) -> Result<Option<KeyRow>> {
                    let row = sqlx::query(
                        "SELECT id, name, secret_sha256, stores, created_at, revoked_at \
                         FROM api_keys WHERE id = $1",
                    )
                        .bind(id)
                        .fetch_optional(&mut *self)
                        .await
                        .map_err(db_err)?;
                    row.as_ref().map(key_row).transpose().map_err(db_err)
                }

                async fn key_by_digest(&mut self, secret_sha256: &str) -> Result<Option<KeyRow>> {
                    let row = sqlx::query(
                        "SELECT id, name, secret_sha256, stores, created_at, revoked_at \
                         FROM api_keys WHERE secret_sha256 = $1",
                    )
                    .bind(secret_sha256)
                    .fetch_optional(&mut *self)
                    .await
                    .map_err(db_err)?;
                    row.as_ref().map(key_row).transpose().map_err(db_err)
                }

                async fn revoke_key(&mut self, id: &str, at: i64) -> Result<()> {
                    sqlx::query(
                        "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                    )
                    .bind(id)
                    .bind(at)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }
            }
        };
    };
}

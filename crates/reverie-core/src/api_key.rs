//! API keys: who may call the HTTP API, and which stores each one sees.
//!
//! A key's secret is shown once, when it is made; only its SHA-256 is stored. Secrets are 256
//! random bits, so a plain digest is as strong as a password hash would be (there is nothing to
//! guess), and a lookup is one indexed equality.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::id::{IdKind, check_id};
use crate::timestamp::Timestamp;

/// The prefix of every secret, so that scanners and people recognise one.
pub const SECRET_PREFIX: &str = "rvk_";

/// An API key, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    /// The stores it may see and change; `None`: every store, and creating new ones.
    pub stores: Option<Vec<String>>,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl ApiKey {
    /// Whether the key may see `store_id`.
    pub fn allows(&self, store_id: &str) -> bool {
        self.stores
            .as_ref()
            .is_none_or(|s| s.iter().any(|x| x == store_id))
    }
}

/// A new secret: the prefix and 256 random bits in base 62.
pub fn new_secret() -> String {
    let a = crate::id::new_id(IdKind::ApiKey);
    let b = crate::id::new_id(IdKind::ApiKey);
    let tail = |id: &str| id[IdKind::ApiKey.prefix().len() + 2..].to_string();
    format!("{SECRET_PREFIX}{}{}", tail(&a), tail(&b))
}

/// The stored digest of a secret: lowercase hex SHA-256.
pub fn secret_digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Checks a new key's name and store list.
pub fn validate(name: &str, stores: Option<&[String]>) -> Result<()> {
    if name.is_empty() || name.len() > 255 {
        return Err(Error::invalid("name", "must be 1 to 255 bytes"));
    }
    if let Some(stores) = stores {
        if stores.is_empty() {
            return Err(Error::invalid(
                "stores",
                "a key needs at least one store, or access to every store",
            ));
        }
        for s in stores {
            check_id(IdKind::Store, s)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_distinct_and_digested() {
        let a = new_secret();
        let b = new_secret();
        assert!(
            a.starts_with(SECRET_PREFIX) && a.len() == SECRET_PREFIX.len() + 44,
            "{a}"
        );
        assert_ne!(a, b);
        assert_eq!(secret_digest(&a).len(), 64);
        assert_ne!(secret_digest(&a), secret_digest(&b));
    }

    #[test]
    fn scope() {
        let mut k = ApiKey {
            id: "apikey_1".into(),
            name: "k".into(),
            stores: None,
            created_at: Timestamp(0),
            revoked_at: None,
        };
        assert!(k.allows("memstore_x"));
        k.stores = Some(vec!["memstore_a".into()]);
        assert!(k.allows("memstore_a") && !k.allows("memstore_b"));
        assert!(validate("", None).is_err());
        assert!(validate("k", Some(&[])).is_err());
        assert!(validate("k", Some(&["nope".into()])).is_err());
    }
}

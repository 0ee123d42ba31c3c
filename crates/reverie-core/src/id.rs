//! Resource ids: a type prefix (`memstore_`, `mem_`, `memver_`, `drm_`, `sesn_`, `ent_`) followed by
//! `01` and 22 base62 characters drawn from 128 random bits.
//!
//! Ids are opaque to clients. They are checked for shape before any lookup, so that a
//! malformed id is refused as such instead of reported as missing.

use crate::error::{Error, Result};

/// The kinds of resources that carry ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Store,
    Memory,
    Version,
    Dream,
    Session,
    Entry,
    ApiKey,
}

impl IdKind {
    /// The id prefix, including the underscore.
    pub fn prefix(self) -> &'static str {
        match self {
            IdKind::Store => "memstore_",
            IdKind::Memory => "mem_",
            IdKind::Version => "memver_",
            IdKind::Dream => "drm_",
            IdKind::Session => "sesn_",
            IdKind::Entry => "ent_",
            IdKind::ApiKey => "apikey_",
        }
    }

    /// The noun used in messages ("memory store memstore_… not found").
    pub fn noun(self) -> &'static str {
        match self {
            IdKind::Store => "memory store",
            IdKind::Memory => "memory",
            IdKind::Version => "memory version",
            IdKind::Dream => "dream",
            IdKind::Session => "session",
            IdKind::Entry => "entry",
            IdKind::ApiKey => "API key",
        }
    }

    fn field(self) -> &'static str {
        match self {
            IdKind::Store => "memory_store_id",
            IdKind::Memory => "memory_id",
            IdKind::Version => "memory_version_id",
            IdKind::Dream => "dream_id",
            IdKind::Session => "session_id",
            IdKind::Entry => "entry_id",
            IdKind::ApiKey => "api_key_id",
        }
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A fresh random id of the given kind.
pub fn new_id(kind: IdKind) -> String {
    let mut n: u128 = rand::random();
    let mut digits = [0u8; 22];
    for d in digits.iter_mut().rev() {
        *d = BASE62[(n % 62) as usize];
        n /= 62;
    }
    let mut id = String::with_capacity(kind.prefix().len() + 24);
    id.push_str(kind.prefix());
    id.push_str("01");
    id.push_str(std::str::from_utf8(&digits).expect("base62 digits are ascii"));
    id
}

/// An id of `kind` derived from `seed`: the same seed always gives the same id, so that a
/// dream over the same inputs names its new entries the same way every time.
pub fn derived_id(kind: IdKind, seed: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(seed);
    let mut n = u128::from_le_bytes(digest[..16].try_into().expect("16 bytes"));
    let mut digits = [0u8; 22];
    for d in digits.iter_mut().rev() {
        *d = BASE62[(n % 62) as usize];
        n /= 62;
    }
    let mut id = String::with_capacity(kind.prefix().len() + 24);
    id.push_str(kind.prefix());
    id.push_str("01");
    id.push_str(std::str::from_utf8(&digits).expect("base62 digits are ascii"));
    id
}

/// Checks that `id` has the shape of an id of `kind`: the prefix, then 1 to 64 ASCII letters,
/// digits or underscores.
pub fn check_id(kind: IdKind, id: &str) -> Result<()> {
    let ok = id.strip_prefix(kind.prefix()).is_some_and(|rest| {
        !rest.is_empty()
            && rest.len() <= 64
            && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            kind.field(),
            format!(
                "{:?} is not a {} id (expected {} followed by letters and digits)",
                crate::path::shorten(id),
                kind.noun(),
                kind.prefix()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_have_their_prefix_and_pass_the_check() {
        for kind in [
            IdKind::Store,
            IdKind::Memory,
            IdKind::Version,
            IdKind::Dream,
            IdKind::Session,
        ] {
            let id = new_id(kind);
            assert!(id.starts_with(kind.prefix()));
            assert_eq!(id.len(), kind.prefix().len() + 24);
            check_id(kind, &id).unwrap();
        }
        assert_ne!(new_id(IdKind::Memory), new_id(IdKind::Memory));
        let d = derived_id(IdKind::Entry, b"seed");
        assert_eq!(d, derived_id(IdKind::Entry, b"seed"));
        assert_ne!(d, derived_id(IdKind::Entry, b"seed2"));
        check_id(IdKind::Entry, &d).unwrap();
        assert_eq!(d.len(), "ent_".len() + 24);
    }

    #[test]
    fn malformed_ids_are_refused_with_the_kind_named() {
        for bad in ["", "mem_", "memver_01abc", "mem_../x", "mem_a b", "MEM_abc"] {
            let err = check_id(IdKind::Memory, bad).unwrap_err();
            assert!(err.to_string().contains("is not a memory id"), "{err}");
        }
        let long = format!("mem_{}", "a".repeat(65));
        assert!(check_id(IdKind::Memory, &long).is_err());
    }
}

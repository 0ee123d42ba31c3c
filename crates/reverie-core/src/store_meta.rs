//! A memory store's own fields — name, description, metadata — and their limits.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// Characters in a store name, inclusive range.
pub const NAME_CHARS: std::ops::RangeInclusive<usize> = 1..=255;
/// Most characters in a description.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
/// Most metadata pairs.
pub const MAX_METADATA_PAIRS: usize = 16;
/// Characters in a metadata key, inclusive range.
pub const METADATA_KEY_CHARS: std::ops::RangeInclusive<usize> = 1..=64;
/// Most characters in a metadata value.
pub const MAX_METADATA_VALUE_CHARS: usize = 512;
/// Default for the most memories a store holds, the hosted API's limit since September 2026
/// (the Bedrock variant keeps 2,000); configurable per store.
pub const DEFAULT_MAX_MEMORIES: i64 = 10_000;

/// Validates a store name: 1 to 255 characters, no control characters.
pub fn validate_name(name: &str) -> Result<()> {
    let n = name.chars().count();
    if !NAME_CHARS.contains(&n) {
        return Err(Error::invalid(
            "name",
            format!("must be 1 to 255 characters, got {n}"),
        ));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(Error::invalid(
            "name",
            format!("contains the control character U+{:04X}", c as u32),
        ));
    }
    Ok(())
}

/// Validates a description: at most 1,024 characters.
pub fn validate_description(description: &str) -> Result<()> {
    let n = description.chars().count();
    if n > MAX_DESCRIPTION_CHARS {
        return Err(Error::invalid(
            "description",
            format!("is {n} characters; at most {MAX_DESCRIPTION_CHARS} are allowed"),
        ));
    }
    Ok(())
}

/// Validates complete metadata: at most 16 pairs, keys 1–64 characters, values ≤ 512.
pub fn validate_metadata(metadata: &BTreeMap<String, String>) -> Result<()> {
    if metadata.len() > MAX_METADATA_PAIRS {
        return Err(Error::invalid(
            "metadata",
            format!(
                "has {} pairs; at most {MAX_METADATA_PAIRS} are allowed",
                metadata.len()
            ),
        ));
    }
    for (k, v) in metadata {
        let kn = k.chars().count();
        if !METADATA_KEY_CHARS.contains(&kn) {
            return Err(Error::invalid(
                "metadata",
                format!(
                    "key {:?} is {kn} characters; keys are 1 to 64 characters",
                    crate::path::shorten(k)
                ),
            ));
        }
        let vn = v.chars().count();
        if vn > MAX_METADATA_VALUE_CHARS {
            return Err(Error::invalid(
                "metadata",
                format!(
                    "value of {k:?} is {vn} characters; at most {MAX_METADATA_VALUE_CHARS} are allowed"
                ),
            ));
        }
    }
    Ok(())
}

/// Applies a metadata patch (a `None` value removes the key) and validates the result.
pub fn patch_metadata(
    current: &BTreeMap<String, String>,
    patch: &BTreeMap<String, Option<String>>,
) -> Result<BTreeMap<String, String>> {
    let mut next = current.clone();
    for (k, v) in patch {
        match v {
            Some(v) => {
                next.insert(k.clone(), v.clone());
            }
            None => {
                next.remove(k);
            }
        }
    }
    validate_metadata(&next)?;
    Ok(next)
}

/// Validates a per-store memory limit.
pub fn validate_max_memories(n: i64) -> Result<()> {
    if !(1..=1_000_000).contains(&n) {
        return Err(Error::invalid(
            "max_memories",
            format!("must be 1 to 1000000, got {n}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        validate_name("a").unwrap();
        validate_name(&"é".repeat(255)).unwrap();
        assert!(validate_name("").unwrap_err().to_string().contains("got 0"));
        assert!(
            validate_name(&"a".repeat(256))
                .unwrap_err()
                .to_string()
                .contains("got 256")
        );
        assert!(
            validate_name("a\tb")
                .unwrap_err()
                .to_string()
                .contains("U+0009")
        );
    }

    #[test]
    fn descriptions() {
        validate_description("").unwrap();
        validate_description(&"x".repeat(1024)).unwrap();
        assert!(validate_description(&"x".repeat(1025)).is_err());
    }

    #[test]
    fn metadata_limits() {
        let mut m = BTreeMap::new();
        for i in 0..16 {
            m.insert(format!("k{i}"), "v".repeat(512));
        }
        validate_metadata(&m).unwrap();
        m.insert("k16".into(), "v".into());
        assert!(
            validate_metadata(&m)
                .unwrap_err()
                .to_string()
                .contains("17 pairs")
        );
        let bad_key = BTreeMap::from([(String::new(), "v".to_string())]);
        assert!(
            validate_metadata(&bad_key)
                .unwrap_err()
                .to_string()
                .contains("keys are 1 to 64")
        );
        let long_key = BTreeMap::from([("k".repeat(65), "v".to_string())]);
        assert!(validate_metadata(&long_key).is_err());
        let long_val = BTreeMap::from([("k".to_string(), "v".repeat(513))]);
        assert!(
            validate_metadata(&long_val)
                .unwrap_err()
                .to_string()
                .contains("513 characters")
        );
    }

    #[test]
    fn metadata_patch_adds_replaces_removes() {
        let cur = BTreeMap::from([
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "2".to_string()),
        ]);
        let patch = BTreeMap::from([
            ("a".to_string(), None),
            ("b".to_string(), Some("3".to_string())),
            ("c".to_string(), Some("4".to_string())),
        ]);
        let next = patch_metadata(&cur, &patch).unwrap();
        assert_eq!(
            next,
            BTreeMap::from([
                ("b".to_string(), "3".to_string()),
                ("c".to_string(), "4".to_string())
            ])
        );
    }
}

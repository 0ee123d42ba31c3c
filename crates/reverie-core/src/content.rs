//! Memory content: the size limit and the `content_sha256` digest.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Most bytes of content in one memory (100 kB).
pub const MAX_CONTENT_BYTES: usize = 102_400;

/// Refuses content over [`MAX_CONTENT_BYTES`].
pub fn validate_content(content: &str) -> Result<()> {
    if content.len() > MAX_CONTENT_BYTES {
        return Err(Error::ContentTooLarge {
            size: content.len(),
            limit: MAX_CONTENT_BYTES,
        });
    }
    Ok(())
}

/// Lowercase hex SHA-256 of the exact UTF-8 bytes, with no normalization.
pub fn sha256_hex(content: &str) -> String {
    hex::encode(Sha256::digest(content.as_bytes()))
}

/// Checks that `value` is a well-formed `content_sha256`: 64 lowercase hex digits.
pub fn validate_sha256(field: &'static str, value: &str) -> Result<()> {
    if value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!(
                "{:?} is not 64 lowercase hexadecimal characters",
                crate::path::shorten(value)
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha_of_known_values() {
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // No normalization: NFC and NFD spellings hash differently.
        assert_ne!(sha256_hex("\u{e9}"), sha256_hex("e\u{301}"));
    }

    #[test]
    fn content_limit_is_inclusive() {
        validate_content(&"a".repeat(MAX_CONTENT_BYTES)).unwrap();
        let err = validate_content(&"a".repeat(MAX_CONTENT_BYTES + 1)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "content is 102401 bytes, over the limit of 102400 bytes"
        );
    }

    #[test]
    fn sha_shape() {
        validate_sha256("precondition.content_sha256", &sha256_hex("x")).unwrap();
        for bad in ["", "abc", &"A".repeat(64), &"g".repeat(64), &"a".repeat(65)] {
            assert!(validate_sha256("x", bad).is_err(), "{bad}");
        }
    }
}

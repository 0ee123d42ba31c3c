//! Cursor pagination: page sizes and opaque `next_page` cursors.
//!
//! A cursor is the URL-safe base64 of a small JSON value (the sort key of the last item
//! returned). It is opaque to clients; a cursor that does not decode is refused by name.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::View;

/// Default page size.
pub const DEFAULT_LIMIT: i64 = 20;
/// Largest page size.
pub const MAX_LIMIT: i64 = 100;
/// Largest page size when items carry content.
pub const MAX_FULL_LIMIT: i64 = 20;

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_page: Option<String>,
}

/// The effective page size: `limit` must be 1 to 100 (default 20); with `view=full` at most 20
/// items are returned whatever the limit.
pub fn effective_limit(limit: Option<i64>, view: View) -> Result<i64> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::invalid(
            "limit",
            format!("must be 1 to {MAX_LIMIT}, got {limit}"),
        ));
    }
    Ok(match view {
        View::Full => limit.min(MAX_FULL_LIMIT),
        View::Basic => limit,
    })
}

/// Turns the `limit + 1` rows a listing fetched into one page: the first `limit` rows, and a
/// cursor made from the last of them when a further row showed that more follow.
pub fn split_page<T, K: Serialize>(
    mut rows: Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> K,
) -> (Vec<T>, Option<String>) {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit.max(0) as usize);
    let next = if more {
        rows.last().map(|r| encode_cursor(&key(r)))
    } else {
        None
    };
    (rows, next)
}

/// Encodes a cursor.
pub fn encode_cursor<T: Serialize>(key: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).expect("cursor keys serialize"))
}

/// Decodes a cursor produced by [`encode_cursor`] for the same listing.
pub fn decode_cursor<T: DeserializeOwned>(cursor: &str) -> Result<T> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| {
            Error::invalid(
                "page",
                format!(
                    "{:?} is not a cursor from this listing",
                    crate::path::shorten(cursor)
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(effective_limit(None, View::Basic).unwrap(), 20);
        assert_eq!(effective_limit(Some(100), View::Basic).unwrap(), 100);
        assert_eq!(effective_limit(Some(100), View::Full).unwrap(), 20);
        assert_eq!(effective_limit(Some(5), View::Full).unwrap(), 5);
        assert!(effective_limit(Some(0), View::Basic).is_err());
        assert!(
            effective_limit(Some(101), View::Basic)
                .unwrap_err()
                .to_string()
                .contains("got 101")
        );
    }

    #[test]
    fn pages_split_at_the_limit() {
        let (rows, next) = split_page(vec![1, 2, 3], 2, |r| *r);
        assert_eq!(rows, vec![1, 2]);
        assert_eq!(decode_cursor::<i32>(&next.unwrap()).unwrap(), 2);
        let (rows, next) = split_page(vec![1, 2], 2, |r| *r);
        assert_eq!((rows, next), (vec![1, 2], None));
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = encode_cursor(&("/a/b", 7));
        assert_eq!(
            decode_cursor::<(String, i64)>(&c).unwrap(),
            ("/a/b".to_string(), 7)
        );
        assert!(decode_cursor::<(String, i64)>("!!!").is_err());
        assert!(decode_cursor::<(String, i64)>(&encode_cursor(&"other")).is_err());
    }
}

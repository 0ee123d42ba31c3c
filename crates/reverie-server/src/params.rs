//! Query strings and JSON bodies, read by hand so that every refusal names the parameter and
//! the rule, as the store's own errors do.

use axum::body::Bytes;
use reverie_core::{Error, Result, Timestamp, View};
use serde::de::DeserializeOwned;

/// A request's query parameters, in order.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>) -> Result<Params> {
        let Some(q) = query.filter(|q| !q.is_empty()) else {
            return Ok(Params::default());
        };
        let mut out = Vec::new();
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            out.push((decode(k)?, decode(v)?));
        }
        Ok(Params(out))
    }

    /// The last value of `name` (a repeated parameter counts once, as most servers do).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a list parameter, sent as `name[]=…` (the SDK's form) or `name=…`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        let bracketed = format!("{name}[]");
        self.0
            .iter()
            .filter(|(k, _)| *k == name || *k == bracketed)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn string(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_string)
    }

    pub fn int(&self, name: &'static str) -> Result<Option<i64>> {
        self.get(name)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| Error::invalid(name, format!("{v:?} is not an integer")))
            })
            .transpose()
    }

    pub fn boolean(&self, name: &'static str) -> Result<bool> {
        match self.get(name) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(v) => Err(Error::invalid(name, format!("{v:?} is not true or false"))),
        }
    }

    pub fn time(&self, name: &'static str) -> Result<Option<Timestamp>> {
        self.get(name)
            .map(|v| {
                Timestamp::parse(v)
                    .ok_or_else(|| Error::invalid(name, format!("{v:?} is not an RFC 3339 time")))
            })
            .transpose()
    }

    pub fn view(&self, default: View) -> Result<View> {
        self.get("view").map_or(Ok(default), View::parse)
    }
}

/// Percent-decoding of a query component (`+` is a space, as form encoding has it).
fn decode(s: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        Error::invalid("query", format!("{s:?} has a bad percent escape"))
                    })?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| Error::invalid("query", format!("{s:?} is not UTF-8 once decoded")))
}

/// A JSON body as `T`; an empty body is `{}`.
pub fn json<T: DeserializeOwned>(body: &Bytes) -> Result<T> {
    let text: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(text).map_err(|e| Error::invalid("body", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_names_what_is_wrong() {
        let p = Params::parse(Some("path_prefix=%2Fa%20b%2F&limit=5&view=full&x")).unwrap();
        assert_eq!(p.get("path_prefix"), Some("/a b/"));
        assert_eq!(p.int("limit").unwrap(), Some(5));
        assert_eq!(p.view(View::Basic).unwrap(), View::Full);
        assert_eq!(p.get("x"), Some(""));
        let p = Params::parse(Some("limit=ten&include_archived=yes")).unwrap();
        assert!(p.int("limit").unwrap_err().to_string().contains("limit"));
        assert!(
            p.boolean("include_archived")
                .unwrap_err()
                .to_string()
                .contains("include_archived")
        );
        assert!(Params::parse(Some("a=%zz")).is_err());
        assert!(Params::parse(Some("a=%ff")).is_err());
    }

    #[test]
    fn an_empty_body_is_an_empty_object() {
        let v: serde_json::Value = json(&Bytes::from_static(b"  ")).unwrap();
        assert_eq!(v, serde_json::json!({}));
        let e = json::<serde_json::Value>(&Bytes::from_static(b"{nope")).unwrap_err();
        assert!(e.to_string().contains("body"), "{e}");
    }
}

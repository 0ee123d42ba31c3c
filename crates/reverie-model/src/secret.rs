//! API keys, kept out of sight: a [`Secret`] prints as `***` in `Debug` and `Display`, so a
//! key cannot reach a log line, an error message or a `{:?}` dump by accident. The only way
//! to the key is [`Secret::expose`], called where a request header is built.

use std::fmt;

/// A credential. Compares by value (for tests and config precedence) but never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The key itself, for the one place that needs it: the request's header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces every occurrence of the key in `text` by `***`: providers sometimes echo the
    /// key they were sent in an error message, which then would reach ours.
    pub fn scrub(&self, text: &str) -> String {
        // A very short "key" would mask innocent text; real keys are long.
        if self.0.len() < 8 {
            return text.to_string();
        }
        text.replace(&self.0, "***")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_key() {
        let key = Secret::new("sk-ant-0123456789abcdef");
        assert_eq!(format!("{key}"), "***");
        assert_eq!(format!("{key:?}"), "***");
        assert_eq!(format!("{:?}", Some(key.clone())), "Some(***)");
        assert_eq!(key.expose(), "sk-ant-0123456789abcdef");
    }

    #[test]
    fn scrubs_echoed_keys() {
        let key = Secret::new("sk-ant-0123456789abcdef");
        assert_eq!(
            key.scrub("Incorrect API key provided: sk-ant-0123456789abcdef."),
            "Incorrect API key provided: ***."
        );
    }
}

//! Redaction of secrets in raw transcript text, before anything is parsed or stored.
//!
//! [`Redactor::redact`] takes a raw JSONL line, a whole JSON document or plain text and replaces
//! every secret it finds with `[REDACTED:<kind>]`, counting them per [`SecretKind`].
//!
//! # JSON safety
//!
//! Input that is valid JSON is never matched as flat text. Its string literals are decoded
//! (`\n`, `\"`, `\uXXXX` and the rest), each decoded string is redacted on its own — and
//! recursively: a string that is itself JSON (a tool result holding an API response) is
//! decoded again — and every finding is mapped back to the raw range of whole escape sequences
//! it came from, inside one literal. The replacement is plain ASCII, so valid JSON stays valid
//! JSON, a match never crosses a string boundary, and a PEM block whose lines are separated by
//! `\n` escapes is found as the block it is. Object members are checked as assignments too
//! (`"password": "…"` is a key literal and a value literal). Several lines of JSON (JSONL) are
//! handled line by line.
//!
//! Text that is not JSON goes to the plain-text detectors, which tolerate one or more levels of
//! JSON escaping inside it (see `detect`'s shadow text) and never let a match start inside or
//! end halfway through a backslash escape.
//!
//! # Precedence
//!
//! Overlapping findings are merged into one, counted once, under the most specific kind:
//! a private key block first, then the vendor formats (Anthropic … Google), then JWTs, URL
//! passwords, bearer tokens, and the generic assignment rule last. A `ghp_…` assigned to
//! `GITHUB_TOKEN` is one `github` secret; a JWT sent as a bearer token is one `jwt`.

mod detect;
mod hand;
mod json;
mod value;
mod written;

pub use written::{
    memory_tool_secret, refuse_secret, refuse_secret_in_memory, refuse_secret_in_store,
    run_memory_tool, secret_in,
};

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The kinds of secrets, each replaced with `[REDACTED:<kind>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecretKind {
    /// Anthropic API keys: `sk-ant-api03-…`, `sk-ant-admin01-…`, `sk-ant-oat01-…`.
    Anthropic,
    /// OpenAI API keys: `sk-proj-…`, `sk-svcacct-…`, `sk-admin-…`, legacy `sk-…T3BlbkFJ…`.
    OpenAi,
    /// AWS access key ids (`AKIA…`, `ASIA…`), secret access keys and session tokens.
    Aws,
    /// GitHub tokens: `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`.
    GitHub,
    /// GitLab tokens: `glpat-`, `gldt-`, `glrt-`, `glcbt-` and the other `gl…-` prefixes.
    GitLab,
    /// Slack tokens (`xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`, `xoxs-`, `xapp-`) and webhook URLs.
    Slack,
    /// Stripe secret and restricted keys (`sk_live_`, `rk_test_`…) and webhook secrets.
    Stripe,
    /// Google API keys: `AIza` and 35 more characters.
    GoogleApiKey,
    /// PEM, OpenSSH and PGP private key blocks, whole.
    PrivateKey,
    /// JSON Web Tokens.
    Jwt,
    /// Tokens after `Bearer`.
    BearerToken,
    /// Passwords in URLs and connection strings (`postgres://user:PASSWORD@host`).
    UrlPassword,
    /// Random-looking values assigned to secret names, and a few other known token formats.
    GenericSecret,
}

impl SecretKind {
    /// Every kind, in declaration order.
    pub const ALL: [SecretKind; 13] = [
        SecretKind::Anthropic,
        SecretKind::OpenAi,
        SecretKind::Aws,
        SecretKind::GitHub,
        SecretKind::GitLab,
        SecretKind::Slack,
        SecretKind::Stripe,
        SecretKind::GoogleApiKey,
        SecretKind::PrivateKey,
        SecretKind::Jwt,
        SecretKind::BearerToken,
        SecretKind::UrlPassword,
        SecretKind::GenericSecret,
    ];

    /// The kind's name, as written in `[REDACTED:<kind>]` and in serialized counts.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::Anthropic => "anthropic",
            SecretKind::OpenAi => "openai",
            SecretKind::Aws => "aws",
            SecretKind::GitHub => "github",
            SecretKind::GitLab => "gitlab",
            SecretKind::Slack => "slack",
            SecretKind::Stripe => "stripe",
            SecretKind::GoogleApiKey => "google_api_key",
            SecretKind::PrivateKey => "private_key",
            SecretKind::Jwt => "jwt",
            SecretKind::BearerToken => "bearer_token",
            SecretKind::UrlPassword => "url_password",
            SecretKind::GenericSecret => "generic_secret",
        }
    }

    /// The kind named `name` (as returned by [`SecretKind::as_str`]).
    pub fn from_name(name: &str) -> Option<SecretKind> {
        SecretKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Lower wins when findings overlap.
    fn rank(self) -> u8 {
        match self {
            SecretKind::PrivateKey => 0,
            SecretKind::Anthropic
            | SecretKind::OpenAi
            | SecretKind::Aws
            | SecretKind::GitHub
            | SecretKind::GitLab
            | SecretKind::Slack
            | SecretKind::Stripe
            | SecretKind::GoogleApiKey => 1,
            SecretKind::Jwt => 2,
            SecretKind::UrlPassword => 3,
            SecretKind::BearerToken => 4,
            SecretKind::GenericSecret => 5,
        }
    }
}

impl fmt::Display for SecretKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SecretKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SecretKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        SecretKind::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown secret kind {name:?}")))
    }
}

/// Counts of redacted secrets per kind.
///
/// Serializes as a JSON object `{kind: count}` holding only the non-zero kinds, sorted by kind
/// name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedactionCounts {
    counts: [u64; 13],
}

impl RedactionCounts {
    /// Adds `n` secrets of `kind`.
    pub fn add(&mut self, kind: SecretKind, n: u64) {
        self.counts[kind as usize] += n;
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &RedactionCounts) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine += theirs;
        }
    }

    /// All secrets, of every kind.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The count for `kind`.
    pub fn get(&self, kind: SecretKind) -> u64 {
        self.counts[kind as usize]
    }

    /// The non-zero counts, in [`SecretKind::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (SecretKind, u64)> + '_ {
        SecretKind::ALL
            .into_iter()
            .map(|k| (k, self.get(k)))
            .filter(|&(_, n)| n > 0)
    }
}

impl Serialize for RedactionCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let sorted: BTreeMap<&str, u64> = self.iter().map(|(k, n)| (k.as_str(), n)).collect();
        sorted.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RedactionCounts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<SecretKind, u64>::deserialize(deserializer)?;
        let mut counts = RedactionCounts::default();
        for (k, n) in map {
            counts.add(k, n);
        }
        Ok(counts)
    }
}

/// One secret found in a text: its byte range and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The bytes that `redact` replaces.
    pub range: Range<usize>,
    /// What was found.
    pub kind: SecretKind,
}

/// A finding in some text's coordinates, before merging.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    kind: SecretKind,
}

/// How many levels of JSON-inside-a-string are decoded.
const MAX_DEPTH: u32 = 8;

/// Compiled patterns; build once and share (it is `Send + Sync`).
#[derive(Debug)]
pub struct Redactor {
    detectors: detect::Detectors,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new()
    }
}

impl Redactor {
    /// Compiles the patterns.
    pub fn new() -> Redactor {
        Redactor {
            detectors: detect::Detectors::new(),
        }
    }

    /// Redacts `input`, which is either plain text or JSON text (a raw JSONL line or document),
    /// adding what it replaced to `counts`. Returns the input unchanged (borrowed) when nothing
    /// matched.
    pub fn redact<'a>(&self, input: &'a str, counts: &mut RedactionCounts) -> Cow<'a, str> {
        self.replace(input, self.scan(input, 0), counts)
    }

    /// Replaces each finding with its marker.
    fn replace<'a>(
        &self,
        input: &'a str,
        findings: Vec<Span>,
        counts: &mut RedactionCounts,
    ) -> Cow<'a, str> {
        if findings.is_empty() {
            return Cow::Borrowed(input);
        }
        let mut out = String::with_capacity(input.len());
        let mut last = 0;
        for f in &findings {
            out.push_str(&input[last..f.start]);
            out.push_str("[REDACTED:");
            out.push_str(f.kind.as_str());
            out.push(']');
            last = f.end;
            counts.add(f.kind, 1);
        }
        out.push_str(&input[last..]);
        Cow::Owned(out)
    }

    /// The secrets `redact` would replace in `input`, in order, without replacing them.
    /// [`Redactor::redact`] for text the caller has already parsed as one JSON value (a raw
    /// JSONL line): the same findings, without checking the text's validity again.
    pub fn redact_json<'a>(&self, input: &'a str, counts: &mut RedactionCounts) -> Cow<'a, str> {
        // No separate `may_match` pass: `scan_json` locates the gates' hits itself and stops
        // when there are none.
        let mut spans = Vec::new();
        self.scan_json(input, 0, 0, &mut spans);
        self.replace(input, merge(spans), counts)
    }

    pub fn find(&self, input: &str) -> Vec<Finding> {
        self.scan(input, 0)
            .into_iter()
            .map(|s| Finding {
                range: s.start..s.end,
                kind: s.kind,
            })
            .collect()
    }

    /// Sorted, merged findings in `text`.
    fn scan(&self, text: &str, depth: u32) -> Vec<Span> {
        if !self.detectors.may_match(text) {
            return Vec::new();
        }
        self.scan_flagged(text, depth)
    }

    /// [`Self::scan`] for text a gate is already known to hit (or that an escape may hide one
    /// in): the gates are not checked again up front.
    fn scan_flagged(&self, text: &str, depth: u32) -> Vec<Span> {
        let mut out = Vec::new();
        if depth < MAX_DEPTH {
            if json::starts_like_json(text) && json::is_valid(text) {
                self.scan_json(text, 0, depth, &mut out);
                return merge(out);
            }
            if let Some(lines) = json::jsonl_lines(text) {
                for (offset, line) in lines {
                    if self.detectors.may_match(line) {
                        self.scan_json(line, offset, depth, &mut out);
                    }
                }
                return merge(out);
            }
        }
        self.detectors.plain(text, &mut out);
        merge(out)
    }

    /// Findings in `text`, a valid JSON text that starts at `base` in the scanned text.
    ///
    /// Gates are located once over the raw text; a string is decoded and scanned only when a
    /// gate hit overlaps it, or when it holds an escape (`\u…`, `\/`) that could hide a gate's
    /// literal from the raw text. A member is checked as an assignment only when its name is.
    fn scan_json(&self, text: &str, base: usize, depth: u32, out: &mut Vec<Span>) {
        let hits = self.detectors.gate_hits(text);
        if hits.is_empty() && !self.detectors.may_hide_literal(text) {
            return;
        }
        let doc = json::tokenize(text);
        let raw = |i: usize| &text[doc.strings[i].start..doc.strings[i].end];
        // Per string: does a gate hit overlap it, and may an escape in it hide one?
        let (hit, hidden): (Vec<bool>, Vec<bool>) = {
            let mut h = 0;
            doc.strings
                .iter()
                .map(|s| {
                    while h < hits.len() && hits[h].1 <= s.start {
                        h += 1;
                    }
                    let overlaps = h < hits.len() && hits[h].0 < s.end;
                    let body = &text[s.start..s.end];
                    (overlaps, !overlaps && self.detectors.may_hide_literal(body))
                })
                .unzip()
        };
        let flagged: Vec<bool> = hit.iter().zip(&hidden).map(|(a, b)| *a || *b).collect();
        for (i, s) in doc.strings.iter().enumerate() {
            let name_flagged = match s.role {
                json::Role::Value(Some(k)) | json::Role::Element(Some(k)) => flagged[k],
                _ => false,
            };
            if !flagged[i] && !name_flagged {
                continue;
            }
            let decoded = json::decode(&text[s.start..s.end]);
            let at = |d: usize| base + s.start + decoded.raw(d);
            if flagged[i] {
                // A string flagged only for its escapes is checked against the gates once
                // decoded; one a gate hit is scanned at once.
                let found = if hit[i] {
                    self.scan_flagged(&decoded.text, depth + 1)
                } else {
                    self.scan(&decoded.text, depth + 1)
                };
                for f in found {
                    out.push(Span {
                        start: at(f.start),
                        end: at(f.end),
                        kind: f.kind,
                    });
                }
            }
            if !name_flagged {
                continue;
            }
            // `"name": "value"` members, and `["--password", "value"]` argument lists
            let name = match s.role {
                json::Role::Value(Some(k)) => Some(json::decode(raw(k)).text),
                json::Role::Element(Some(p)) => {
                    let flag = json::decode(raw(p)).text;
                    flag.strip_prefix("--").map(|n| Cow::Owned(n.to_string()))
                }
                _ => None,
            };
            if let Some(name) = name
                && value::maybe_secret_name(&name)
            {
                push_assignment(&name, &decoded, &at, out);
            }
        }
        for &(n, v) in &doc.pairs {
            if !flagged[n] {
                continue;
            }
            let name = json::decode(raw(n)).text;
            if value::maybe_secret_name(&name) {
                let s = doc.strings[v];
                let decoded = json::decode(&text[s.start..s.end]);
                let at = |d: usize| base + s.start + decoded.raw(d);
                push_assignment(&name, &decoded, &at, out);
            }
        }
    }
}

/// Pushes the whole (trimmed) `value` as a finding if `name = value` is a secret assignment.
fn push_assignment(
    name: &str,
    value: &json::Decoded<'_>,
    at: &dyn Fn(usize) -> usize,
    out: &mut Vec<Span>,
) {
    let text: &str = &value.text;
    let trimmed = text.trim();
    if let Some(kind) = value::classify_assignment(name, trimmed, true) {
        let start = text.len() - text.trim_start().len();
        out.push(Span {
            start: at(start),
            end: at(start + trimmed.len()),
            kind,
        });
    }
}

/// Sorts findings and merges overlapping ones into one, of the most specific kind.
fn merge(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if s.start < last.end => {
                last.end = last.end.max(s.end);
                if s.kind.rank() < last.kind.rank() {
                    last.kind = s.kind;
                }
            }
            _ => out.push(s),
        }
    }
    out
}

/// The process-wide redactor.
pub fn redactor() -> &'static Redactor {
    static REDACTOR: OnceLock<Redactor> = OnceLock::new();
    REDACTOR.get_or_init(Redactor::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(s: &str) -> (String, RedactionCounts) {
        let mut c = RedactionCounts::default();
        let out = redactor().redact(s, &mut c).into_owned();
        (out, c)
    }

    #[test]
    fn redactor_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Redactor>();
    }

    #[test]
    fn counts_serialize_sorted_non_zero() {
        let mut c = RedactionCounts::default();
        c.add(SecretKind::PrivateKey, 1);
        c.add(SecretKind::Aws, 2);
        c.add(SecretKind::GitHub, 0);
        let mut d = RedactionCounts::default();
        d.add(SecretKind::Aws, 1);
        c.merge(&d);
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"aws":3,"private_key":1}"#
        );
        assert_eq!(c.total(), 4);
        let back: RedactionCounts = serde_json::from_str(r#"{"aws":3,"private_key":1}"#).unwrap();
        assert_eq!(back, c);
        assert_eq!(
            c.iter().collect::<Vec<_>>(),
            vec![(SecretKind::Aws, 3), (SecretKind::PrivateKey, 1)]
        );
    }

    #[test]
    fn kinds_round_trip() {
        for k in SecretKind::ALL {
            assert_eq!(SecretKind::from_name(k.as_str()), Some(k));
        }
    }

    #[test]
    fn nothing_to_redact_is_borrowed() {
        let mut c = RedactionCounts::default();
        let s = r#"{"type":"user","message":{"content":"the token limit is 200000"}}"#;
        assert!(matches!(redactor().redact(s, &mut c), Cow::Borrowed(_)));
        assert_eq!(c.total(), 0);
    }

    #[test]
    fn specific_beats_generic_and_counts_once() {
        let tok = "ghp_R8vX2kPq9LmZ4tWc7YbN1sDf6HjA3uEo5GiK";
        let (out, c) = redact(&format!("export GITHUB_TOKEN={tok}\n"));
        assert_eq!(out, "export GITHUB_TOKEN=[REDACTED:github]\n");
        assert_eq!(c.total(), 1);
        let (out, c) = redact(&format!(r#"{{"env": {{"GITHUB_TOKEN": "{tok}"}}}}"#));
        assert_eq!(out, r#"{"env": {"GITHUB_TOKEN": "[REDACTED:github]"}}"#);
        assert_eq!(c.get(SecretKind::GitHub), 1);
    }

    #[test]
    fn escaped_env_dump_in_a_json_line() {
        let line = r#"{"type":"user","message":{"content":[{"type":"tool_result","content":"export AWS_SECRET_ACCESS_KEY=Zq3vT9xLm2Rk8Wb4Yp7Nc1Hd6Fj0Gs5Ae3Ui9Ko2\nOPENAI_API_KEY=sk-proj-Xk29fLQmA7rT3vB8pN1cZ5yW0dH4gJ6sK2uE9oR7iM3nV8bC1xF5\n"}]}}"#;
        let (out, c) = redact(line);
        assert_eq!(c.get(SecretKind::Aws), 1);
        assert_eq!(c.get(SecretKind::OpenAi), 1);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let content = v["message"]["content"][0]["content"].as_str().unwrap();
        assert_eq!(
            content,
            "export AWS_SECRET_ACCESS_KEY=[REDACTED:aws]\nOPENAI_API_KEY=[REDACTED:openai]\n"
        );
    }

    #[test]
    fn json_name_value_pairs_and_argv_arrays() {
        let line = r#"{"environment":[{"name":"DB_PASSWORD","value":"Zk3vT9xLm2Rk8Wb4"}],"cmd":["mysql","--password","Qp7rW2sX9tY4uZ1v"],"n":{"name":"LOG_LEVEL","value":"debug"}}"#;
        let (out, c) = redact(line);
        assert_eq!(c.get(SecretKind::GenericSecret), 2, "{out}");
        assert_eq!(
            out,
            r#"{"environment":[{"name":"DB_PASSWORD","value":"[REDACTED:generic_secret]"}],"cmd":["mysql","--password","[REDACTED:generic_secret]"],"n":{"name":"LOG_LEVEL","value":"debug"}}"#
        );
    }

    #[test]
    fn json_bytes_outside_findings_are_kept() {
        // odd spacing, escaped slashes and a \u escape survive untouched
        let line = "{ \"url\" : \"https:\\/\\/x.test\\/\" ,\"k\":\"\\u00e9\",\"t\": \"Bearer q8Zt2LkV0pW4xR7nB1mC5yH3\" }";
        let (out, c) = redact(line);
        assert_eq!(c.get(SecretKind::BearerToken), 1);
        assert_eq!(
            out,
            "{ \"url\" : \"https:\\/\\/x.test\\/\" ,\"k\":\"\\u00e9\",\"t\": \"Bearer [REDACTED:bearer_token]\" }"
        );
    }

    #[test]
    fn plain_mode_keeps_escapes_intact() {
        // invalid JSON (truncated), so the plain detectors see the escapes
        let line = r#"{"content":"a\nAPI_TOKEN=q8Zt2LkV0pW4xR7nB1mC5yH3\n\"password\": \"Tr0ub4dor&3xyz\"\n"#;
        let (out, c) = redact(line);
        assert_eq!(c.get(SecretKind::GenericSecret), 2, "{out}");
        assert_eq!(
            out,
            r#"{"content":"a\nAPI_TOKEN=[REDACTED:generic_secret]\n\"password\": \"[REDACTED:generic_secret]\"\n"#
        );
    }

    #[test]
    fn names_the_gate_does_not_judge_alone() {
        let secret = "q8Zt2LkV0pW4xR7nB1mC5yH3";
        // a JSON key with a space: the name bytes before the colon are only `Key`
        let (out, c) = redact(&format!(r#"{{"API Key": "{secret}"}}"#));
        assert_eq!(c.get(SecretKind::GenericSecret), 1, "{out}");
        // an escape's letter glued to the name in raw JSON (`\napi_key`)
        let (out, c) = redact(&format!(r#"{{"content": "x\napi_key={secret}"}}"#));
        assert_eq!(c.get(SecretKind::GenericSecret), 1, "{out}");
        let (out, c) = redact(&format!(r#"{{"content": "C:\\napi_key={secret}"}}"#));
        assert_eq!(c.get(SecretKind::GenericSecret), 1, "{out}");
        // a keyword name that names no secret is left alone, in text and in JSON
        let (out, c) = redact(&format!("thread_key: {secret}\n"));
        assert_eq!(c.total(), 0, "{out}");
        let (out, c) = redact(&format!(r#"{{"content": "group_key = {secret}"}}"#));
        assert_eq!(c.total(), 0, "{out}");
    }

    #[test]
    fn redaction_is_idempotent() {
        let (once, _) = redact("TOKEN=q8Zt2LkV0pW4xR7nB1mC5yH3 postgres://u:s3cr3tPw9@db/x");
        let (twice, c) = redact(&once);
        assert_eq!(once, twice);
        assert_eq!(c.total(), 0);
    }
}

//! A store's policy: the budget a dream must fit, the paths it must not touch, the memory tests
//! its output must pass, and whether its result waits for review.
//!
//! The policy is data, validated here, stored beside the store and read by every dream. A
//! dream that cannot satisfy it fails and changes nothing; the policy is never "advice".

use serde::{Deserialize, Serialize};

use crate::content::MAX_CONTENT_BYTES;
use crate::error::{Error, Result};

/// Default limit on the bytes of all served memories of a store.
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 256 * 1024;
/// Default limit on one memory's bytes (under the contract's 102,400-byte content limit, so a
/// dream always has room to write what it keeps).
pub const DEFAULT_MAX_MEMORY_BYTES: u64 = 24 * 1024;
/// Claude Code loads the first 200 lines of `MEMORY.md` at session start…
pub const DEFAULT_INDEX_MAX_LINES: u32 = 200;
/// …or its first 25 KB, whichever ends first.
pub const DEFAULT_INDEX_MAX_BYTES: u64 = 25_000;
/// The index memory's path.
pub const DEFAULT_INDEX_PATH: &str = "/MEMORY.md";
/// Most memory tests a policy holds.
pub const MAX_TESTS: usize = 200;

/// The budget of a store, enforced by every dream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Budget {
    /// The most bytes all memories together may hold after a dream.
    pub max_total_bytes: u64,
    /// The most bytes one memory may hold after a dream.
    pub max_memory_bytes: u64,
    /// The index memory, loaded whole at the start of every session.
    pub index_path: String,
    /// The most lines of the index.
    pub index_max_lines: u32,
    /// The most bytes of the index.
    pub index_max_bytes: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
            max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
            index_path: DEFAULT_INDEX_PATH.to_string(),
            index_max_lines: DEFAULT_INDEX_MAX_LINES,
            index_max_bytes: DEFAULT_INDEX_MAX_BYTES,
        }
    }
}

/// An assertion about a store's memories that must keep holding after every dream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum MemoryTest {
    /// Some memory (or the one at `path`) contains `text`.
    MustContain {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
    /// No memory (or not the one at `path`) contains `text`.
    MustNotContain {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
    /// Searching the entries for `query` ranks an entry containing `expect` within the top `k`.
    Recall {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        query: String,
        expect: String,
        #[serde(default = "default_k")]
        k: u32,
    },
}

fn default_k() -> u32 {
    5
}

impl MemoryTest {
    /// The test's name, or a description of it.
    pub fn label(&self) -> String {
        match self {
            MemoryTest::MustContain { name: Some(n), .. }
            | MemoryTest::MustNotContain { name: Some(n), .. }
            | MemoryTest::Recall { name: Some(n), .. } => n.clone(),
            MemoryTest::MustContain { text, path, .. } => {
                format!("must contain {text:?}{}", in_path(path))
            }
            MemoryTest::MustNotContain { text, path, .. } => {
                format!("must not contain {text:?}{}", in_path(path))
            }
            MemoryTest::Recall {
                query, expect, k, ..
            } => format!("recall {query:?} finds {expect:?} in the top {k}"),
        }
    }

    fn validate(&self) -> Result<()> {
        let nonempty = |field: &'static str, s: &str| {
            if s.trim().is_empty() {
                Err(Error::invalid(field, "must not be empty"))
            } else {
                Ok(())
            }
        };
        match self {
            MemoryTest::MustContain { text, path, .. }
            | MemoryTest::MustNotContain { text, path, .. } => {
                nonempty("test.text", text)?;
                if let Some(p) = path {
                    crate::path::validate_path(p)?;
                }
            }
            MemoryTest::Recall {
                query, expect, k, ..
            } => {
                nonempty("test.query", query)?;
                nonempty("test.expect", expect)?;
                if !(1..=100).contains(k) {
                    return Err(Error::invalid(
                        "test.k",
                        format!("must be 1 to 100, got {k}"),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn in_path(path: &Option<String>) -> String {
    path.as_ref().map_or(String::new(), |p| format!(" in {p}"))
}

/// A store's policy.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    pub budget: Budget,
    /// Glob patterns of memory paths a dream leaves byte-identical (`/team/**`, `/MEMORY.md`):
    /// `*` and `?` within a path segment, `**` across segments.
    pub protected: Vec<String>,
    /// Assertions the output of every dream must pass.
    pub tests: Vec<MemoryTest>,
    /// Dreams end as proposals, applied only when approved.
    pub review: bool,
    /// When `reverie worker` dreams the store by itself; none by default.
    pub schedule: Schedule,
    /// What a direct write of memory content holding a secret does (`reverie put`, the memory
    /// routes, the memory tool, `remember`): refused by default. Transcripts are redacted
    /// whatever this says, and a store's name, description and metadata, session notes and key
    /// names always refuse one: they are shown wherever the store is listed.
    pub secrets: Secrets,
    /// Which curator dreams the store when a dream names none (`reverie worker`, `reverie
    /// dream` without `--model`), and what one model dream may spend.
    #[serde(skip_serializing_if = "ModelPolicy::is_default")]
    pub model: ModelPolicy,
}

/// A store's model settings: the curator its dreams use by default, and a model dream's budget.
/// A dream that would go over a limit fails before it sends the request that would, with the
/// store untouched.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelPolicy {
    /// The curator (`deterministic`, `claude-sonnet-4-6`, `openai:URL#MODEL`, `exec:CMD`);
    /// none: the configuration's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curator: Option<String>,
    /// Most input tokens one dream sends, cached or not (default [`DEFAULT_MAX_INPUT_TOKENS`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_input_tokens: Option<u64>,
    /// Most output tokens one dream may receive (default [`DEFAULT_MAX_OUTPUT_TOKENS`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
    /// Most one dream may cost, in US dollars, where the model's prices are known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_cost_usd: Option<Dollars>,
}

/// A model dream's input-token limit when the policy sets none.
pub const DEFAULT_MAX_INPUT_TOKENS: u64 = 2_000_000;
/// A model dream's output-token limit when the policy sets none.
pub const DEFAULT_MAX_OUTPUT_TOKENS: u64 = 200_000;

impl ModelPolicy {
    pub fn is_default(&self) -> bool {
        *self == ModelPolicy::default()
    }

    pub fn input_limit(&self) -> u64 {
        self.max_input_tokens.unwrap_or(DEFAULT_MAX_INPUT_TOKENS)
    }

    pub fn output_limit(&self) -> u64 {
        self.max_output_tokens.unwrap_or(DEFAULT_MAX_OUTPUT_TOKENS)
    }
}

/// An amount of US dollars; equal when the same number (policies compare for equality).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Dollars(pub f64);

impl PartialEq for Dollars {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for Dollars {}

/// A store's secrets policy for memory content written directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Secrets {
    /// The write is refused whole, naming the kind of secret and where it is.
    #[default]
    Refuse,
    /// The write is kept as written: for a store that is meant to hold credentials an agent
    /// needs, behind keys scoped to it.
    Allow,
}

/// A store's automatic dreams (`reverie worker`). Two triggers, either of which calls for a
/// dream, both held back until `min_interval_secs` have passed since the last dream:
/// `after_sessions` sessions no dream has read (Claude Code's auto-dream: 5 sessions and 24
/// hours), or a time of `cron` (a standard five-field pattern, in UTC, such as `0 3 * * *`)
/// passed since the last dream while at least one such session waits. With neither, the store
/// is never dreamed automatically.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Schedule {
    pub after_sessions: Option<u32>,
    pub cron: Option<String>,
    pub min_interval_secs: u64,
}

impl Schedule {
    /// The first time of the `cron` pattern after `after`, if there is a pattern.
    pub fn next_cron_time(&self, after: crate::Timestamp) -> Result<Option<crate::Timestamp>> {
        use std::str::FromStr as _;
        let Some(pattern) = &self.cron else {
            return Ok(None);
        };
        let cron = croner::Cron::from_str(pattern).map_err(|e| {
            Error::invalid(
                "schedule.cron",
                format!("{pattern:?} is not a cron pattern: {e}"),
            )
        })?;
        // croner works in whole seconds and keeps any fraction of the start in what it finds
        // (after 00:00:00.25, `0 3 * * *` gave 03:00:00.25): start from the whole second, which
        // it steps past, so that the time found is one of the pattern's and still later.
        let Some(start) = chrono::DateTime::from_timestamp(after.micros().div_euclid(1_000_000), 0)
        else {
            return Ok(None);
        };
        Ok(cron
            .find_next_occurrence(&start, false)
            .ok()
            .map(|t| crate::Timestamp(t.timestamp_micros())))
    }
}

/// The most sessions one dream reads (the contract's limit).
pub const MAX_DREAM_SESSIONS: u32 = 100;

impl Policy {
    /// Checks every field; the error names the field and the rule.
    pub fn validate(&self) -> Result<()> {
        let m = &self.model;
        if m.max_input_tokens == Some(0) {
            return Err(Error::invalid("model.max_input_tokens", "must be positive"));
        }
        if m.max_output_tokens == Some(0) {
            return Err(Error::invalid(
                "model.max_output_tokens",
                "must be positive",
            ));
        }
        if let Some(Dollars(c)) = m.max_cost_usd
            && !(c.is_finite() && c > 0.0)
        {
            return Err(Error::invalid(
                "model.max_cost_usd",
                format!("must be a positive number of dollars, got {c}"),
            ));
        }
        if m.curator
            .as_deref()
            .is_some_and(|c| c.trim().is_empty() || c.len() > 1024)
        {
            return Err(Error::invalid("model.curator", "must be 1 to 1024 bytes"));
        }
        let b = &self.budget;
        if b.max_total_bytes == 0 {
            return Err(Error::invalid("budget.max_total_bytes", "must be positive"));
        }
        if b.max_memory_bytes == 0 || b.max_memory_bytes > MAX_CONTENT_BYTES as u64 {
            return Err(Error::invalid(
                "budget.max_memory_bytes",
                format!(
                    "must be 1 to {MAX_CONTENT_BYTES} (the content limit), got {}",
                    b.max_memory_bytes
                ),
            ));
        }
        crate::path::validate_path(&b.index_path)?;
        if b.index_max_lines == 0 {
            return Err(Error::invalid("budget.index_max_lines", "must be positive"));
        }
        if b.index_max_bytes == 0 {
            return Err(Error::invalid("budget.index_max_bytes", "must be positive"));
        }
        for p in &self.protected {
            Glob::new(p)?;
        }
        if self.tests.len() > MAX_TESTS {
            return Err(Error::invalid(
                "tests",
                format!(
                    "has {} tests; at most {MAX_TESTS} are allowed",
                    self.tests.len()
                ),
            ));
        }
        for t in &self.tests {
            t.validate()?;
        }
        if let Some(n) = self.schedule.after_sessions
            && !(1..=MAX_DREAM_SESSIONS).contains(&n)
        {
            return Err(Error::invalid(
                "schedule.after_sessions",
                format!(
                    "must be 1 to {MAX_DREAM_SESSIONS} (the sessions one dream reads), got {n}"
                ),
            ));
        }
        if let Some(p) = &self.schedule.cron {
            if p.split_whitespace().count() != 5 {
                return Err(Error::invalid(
                    "schedule.cron",
                    format!("{p:?} must have five fields: minute hour day month weekday"),
                ));
            }
            // A pattern that parses but names no real time (`0 0 31 2 *`: February 31st)
            // would leave the store undreamed without a word.
            if self.schedule.next_cron_time(crate::Timestamp(0))?.is_none() {
                return Err(Error::invalid(
                    "schedule.cron",
                    format!("{p:?} never fires: no time matches it"),
                ));
            }
        }
        if self.schedule.min_interval_secs > 366 * 86_400 {
            return Err(Error::invalid(
                "schedule.min_interval_secs",
                "must be at most a year",
            ));
        }
        Ok(())
    }

    /// Whether a dream must leave the memory at `path` byte-identical.
    pub fn is_protected(&self, path: &str) -> bool {
        self.protected
            .iter()
            .filter_map(|p| Glob::new(p).ok())
            .any(|g| g.matches(path))
    }
}

/// A path pattern: `*` and `?` match within one segment, `**` matches any number of segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    segments: Vec<String>,
}

impl Glob {
    /// Parses a pattern; it must start with `/` like the paths it matches.
    pub fn new(pattern: &str) -> Result<Glob> {
        if !pattern.starts_with('/') || pattern.len() > crate::path::MAX_PATH_BYTES {
            return Err(Error::invalid(
                "protected",
                format!(
                    "{:?} is not a path pattern (it must start with / and be at most {} bytes)",
                    crate::path::shorten(pattern),
                    crate::path::MAX_PATH_BYTES
                ),
            ));
        }
        Ok(Glob {
            segments: pattern[1..].split('/').map(str::to_string).collect(),
        })
    }

    /// Does `path` match?
    pub fn matches(&self, path: &str) -> bool {
        let Some(rest) = path.strip_prefix('/') else {
            return false;
        };
        let parts: Vec<&str> = rest.split('/').collect();
        match_segments(&self.segments, &parts)
    }
}

/// Whether `parts` match `pattern` segment by segment, `**` standing for any number of
/// segments. Greedy with one backtrack point (the last `**` seen), so a pattern of many `**`
/// costs at most `pattern × parts` segment comparisons instead of exponentially many.
fn match_segments(pattern: &[String], parts: &[&str]) -> bool {
    let (mut p, mut s) = (0, 0);
    // After the latest `**`: the pattern index that follows it, and the part it resumes at.
    let mut star: Option<(usize, usize)> = None;
    while s < parts.len() {
        if pattern.get(p).is_some_and(|x| x == "**") {
            star = Some((p + 1, s));
            p += 1;
        } else if pattern
            .get(p)
            .is_some_and(|x| match_one(x.as_bytes(), parts[s].as_bytes()))
        {
            p += 1;
            s += 1;
        } else if let Some((after, at)) = star {
            // Let the `**` take one more segment and retry what follows it. An earlier `**`
            // never needs to be revisited: the later one can absorb whatever it would.
            p = after;
            s = at + 1;
            star = Some((after, at + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|x| x == "**")
}

/// `*` and `?` within one segment (byte-wise; `?` matches one byte of a multi-byte character,
/// which only matters for patterns that split characters). The same greedy walk as
/// [`match_segments`], one byte at a time: `O(pattern × segment)` whatever the stars.
fn match_one(p: &[u8], s: &[u8]) -> bool {
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < s.len() {
        match p.get(i) {
            Some(b'*') => {
                star = Some((i + 1, j));
                i += 1;
            }
            Some(&c) if c == b'?' || c == s[j] => {
                i += 1;
                j += 1;
            }
            _ => match star {
                Some((after, at)) => {
                    i = after;
                    j = at + 1;
                    star = Some((after, at + 1));
                }
                None => return false,
            },
        }
    }
    p[i..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_schedules() {
        let mut s = Schedule {
            cron: Some("0 3 * * *".into()),
            ..Schedule::default()
        };
        let at = crate::Timestamp::parse("2026-11-29T10:00:00Z").unwrap();
        let next = s.next_cron_time(at).unwrap().unwrap();
        assert_eq!(
            next,
            crate::Timestamp::parse("2026-11-30T03:00:00Z").unwrap()
        );
        let mut p = Policy {
            schedule: s.clone(),
            ..Policy::default()
        };
        p.validate().unwrap();
        for bad in ["0 3 * *", "61 3 * * *", "0 0 3 * * *", "nonsense"] {
            s.cron = Some(bad.into());
            p.schedule = s.clone();
            let e = p.validate().unwrap_err();
            assert!(e.to_string().contains("schedule.cron"), "{bad}: {e}");
        }
        // Regression (found by `tests/fuzz`): a start with a fraction of a second gave a
        // time with the same fraction, which is none of the pattern's.
        s.cron = Some("0 3 * * *".into());
        for (after, want) in [
            ("2026-11-29T10:00:00.25Z", "2026-11-30T03:00:00Z"),
            ("2026-11-30T02:59:59.999999Z", "2026-11-30T03:00:00Z"),
            ("2026-11-30T03:00:00.5Z", "2026-12-01T03:00:00Z"),
            ("1969-12-31T23:59:59.5Z", "1970-01-01T03:00:00Z"),
        ] {
            let after = crate::Timestamp::parse(after).unwrap();
            let want = crate::Timestamp::parse(want).unwrap();
            assert_eq!(s.next_cron_time(after).unwrap(), Some(want), "{after}");
        }
        s.cron = None;
        assert_eq!(s.next_cron_time(at).unwrap(), None);
        // Parses, but no day matches: refused by name.
        let never = Policy {
            schedule: Schedule {
                cron: Some("0 0 31 2 *".into()),
                ..Schedule::default()
            },
            ..Policy::default()
        };
        let e = never.validate().unwrap_err().to_string();
        assert!(e.contains("never fires"), "{e}");
    }

    #[test]
    fn globs() {
        for (pattern, path, want) in [
            ("/MEMORY.md", "/MEMORY.md", true),
            ("/MEMORY.md", "/memory.md", false),
            ("/team/**", "/team/a.md", true),
            ("/team/**", "/team/x/y/z.md", true),
            ("/team/**", "/teams/a.md", false),
            ("/team/*.md", "/team/a.md", true),
            ("/team/*.md", "/team/x/a.md", false),
            ("/**/secret.md", "/secret.md", true),
            ("/**/secret.md", "/a/b/secret.md", true),
            ("/a?.md", "/ab.md", true),
            ("/a?.md", "/a.md", false),
            ("/*", "/x", true),
            ("/*", "/x/y", false),
        ] {
            assert_eq!(
                Glob::new(pattern).unwrap().matches(path),
                want,
                "{pattern} {path}"
            );
        }
        assert!(Glob::new("team/**").is_err());
    }

    #[test]
    fn globs_keep_their_meaning_at_the_edges() {
        for (pattern, path, want) in [
            ("/team/**", "/team", true),
            ("/**", "/", true),
            ("/**", "/a/b/c", true),
            ("/a/**/b/**/c", "/a/x/b/y/z/c", true),
            ("/a/**/b/**/c", "/a/x/c/y/b", false),
            ("/a*b*c", "/aXbYc", true),
            ("/a*b*c", "/aXbYcd", false),
            ("/*.md", "/.md", true),
            ("/a**b", "/axxb", true),
            ("/a**b", "/ax/xb", false),
            ("/?", "/", false),
            ("/**/x/**", "/a/x", true),
        ] {
            assert_eq!(
                Glob::new(pattern).unwrap().matches(path),
                want,
                "{pattern} {path}"
            );
        }
    }

    /// Hardening: patterns that made the old recursive matcher backtrack exponentially (many
    /// `*` in a segment, many `**` segments) against long paths that almost match. This test
    /// returning at all is the assertion; on the old matcher it did not finish.
    #[test]
    fn pathological_globs_finish() {
        let stars = format!("/{}b", "*a".repeat(40));
        let long = format!("/{}", "a".repeat(1000));
        assert!(!Glob::new(&stars).unwrap().matches(&long));
        assert!(Glob::new(&stars).unwrap().matches(&format!("{long}b")));
        let p = Policy {
            protected: vec!["/*a*a*a*a*a*a*a*a*a*a*a*a*b".into()],
            ..Policy::default()
        };
        assert!(!p.is_protected(&long));

        let deep = format!("/{}b", "**/a/".repeat(60));
        let path = format!("/{}", vec!["a"; 300].join("/"));
        assert!(!Glob::new(&deep).unwrap().matches(&path));
        assert!(Glob::new(&deep).unwrap().matches(&format!("{path}/b")));
    }

    #[test]
    fn policies_parse_with_defaults_and_are_checked() {
        let p: Policy = serde_json::from_str(
            r#"{"protected": ["/team/**"], "tests": [
                {"type": "must_contain", "text": "cargo build --locked"},
                {"type": "recall", "query": "how to run tests", "expect": "scripts/test"}
            ]}"#,
        )
        .unwrap();
        p.validate().unwrap();
        assert_eq!(p.budget, Budget::default());
        assert!(p.is_protected("/team/a.md") && !p.is_protected("/a.md"));
        assert_eq!(
            p.tests[1],
            MemoryTest::Recall {
                name: None,
                query: "how to run tests".into(),
                expect: "scripts/test".into(),
                k: 5
            }
        );
        assert_eq!(p.tests[0].label(), "must contain \"cargo build --locked\"");

        for (json, field) in [
            (
                r#"{"budget": {"max_memory_bytes": 200000}}"#,
                "budget.max_memory_bytes",
            ),
            (
                r#"{"budget": {"max_total_bytes": 0}}"#,
                "budget.max_total_bytes",
            ),
            (r#"{"protected": ["nope"]}"#, "protected"),
            (
                r#"{"tests": [{"type": "must_contain", "text": " "}]}"#,
                "test.text",
            ),
            (
                r#"{"tests": [{"type": "recall", "query": "q", "expect": "e", "k": 0}]}"#,
                "test.k",
            ),
        ] {
            let p: Policy = serde_json::from_str(json).unwrap();
            let err = p.validate().unwrap_err().to_string();
            assert!(err.contains(field), "{json}: {err}");
        }
        assert!(serde_json::from_str::<Policy>(r#"{"budjet": {}}"#).is_err());
    }
}

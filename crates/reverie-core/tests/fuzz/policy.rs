//! A store's policy (`reverie_core::policy`): JSON policies built from its keys with values of
//! every type (and unknown keys at every level), glob patterns, and cron schedules. Checked:
//! deserialization and `validate` never panic; a refusal names one of the policy's fields; a
//! valid policy serializes back to itself; an unknown key is refused by name; `Glob` accepts
//! exactly the patterns that start with `/` and fit in 1,024 bytes, and matches exactly as a
//! straightforward recursive reference matcher does on small random patterns and paths;
//! patterns of many `*` and `**` against long paths that almost match finish in time (the
//! matcher is linear in pattern × path, where backtracking would be exponential); cron
//! patterns near the five-field grammar (ranges, steps, lists, names, `L`, `W`, `#`, `?`,
//! out-of-range numbers) validate in time, and for a valid one `next_cron_time` of any instant
//! never panics and, for patterns of plain numbers, ranges, steps and lists, gives the first
//! later minute that a reference cron matcher accepts.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use reverie_core::Timestamp;
use reverie_core::policy::{Glob, Policy, Schedule};
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------------------------
// Policies.

/// A value of any JSON type, with the shapes the policy's fields take over-represented.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop::sample::select(vec![
            0i64,
            1,
            5,
            100,
            101,
            200,
            24_576,
            102_400,
            102_401,
            -1,
            i64::MAX
        ])
        .prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        Just(json!(1.5)),
        prop::sample::select(vec![
            "/MEMORY.md",
            "/team/**",
            "team/**",
            "",
            " ",
            "/a//b",
            "/..",
            "0 3 * * *",
            "0 0 31 2 *",
            "* * * * * *",
            "refuse",
            "allow",
            "must_contain",
            "recall",
            "must_not_contain",
            "nonsense",
        ])
        .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z_]{1,8}", inner), 0..3)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// An object with some of `keys` (values from `field`), maybe an unknown key.
fn object(
    keys: &'static [&'static str],
    field: impl Strategy<Value = Value>,
) -> impl Strategy<Value = Value> {
    (
        prop::collection::vec((prop::sample::select(keys), field), 0..keys.len() + 1),
        prop::option::weighted(0.1, ("[a-z_]{1,10}", value())),
    )
        .prop_map(|(kv, unknown)| {
            let mut m: Map<String, Value> =
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            if let Some((k, v)) = unknown {
                m.insert(k, v);
            }
            Value::Object(m)
        })
}

const POLICY_KEYS: &[&str] = &[
    "budget",
    "protected",
    "tests",
    "review",
    "schedule",
    "secrets",
];
const BUDGET_KEYS: &[&str] = &[
    "max_total_bytes",
    "max_memory_bytes",
    "index_path",
    "index_max_lines",
    "index_max_bytes",
];
const TEST_KEYS: &[&str] = &["type", "name", "text", "path", "query", "expect", "k"];
const SCHEDULE_KEYS: &[&str] = &["after_sessions", "cron", "min_interval_secs"];

/// A policy-shaped JSON value.
fn policy_json() -> impl Strategy<Value = Value> {
    let field = prop_oneof![
        3 => object(BUDGET_KEYS, value()),
        2 => prop::collection::vec(prop_oneof![glob_pattern().prop_map(Value::from), value()], 0..4).prop_map(Value::Array),
        3 => prop::collection::vec(object(TEST_KEYS, value()), 0..4).prop_map(Value::Array),
        3 => object(SCHEDULE_KEYS, prop_oneof![cron().prop_map(Value::from), value()]),
        2 => value(),
    ];
    object(POLICY_KEYS, field)
}

/// The fields a policy refusal may name.
const FIELDS: &[&str] = &[
    "budget.max_total_bytes",
    "budget.max_memory_bytes",
    "budget.index_max_lines",
    "budget.index_max_bytes",
    "path",
    "protected",
    "tests",
    "test.text",
    "test.query",
    "test.expect",
    "test.k",
    "schedule.after_sessions",
    "schedule.cron",
    "schedule.min_interval_secs",
];

proptest! {
    #![proptest_config(crate::config(1500))]

    /// Policy JSON: no panic; an unknown key is refused by name; a policy that validates
    /// serializes back to itself; a refusal names a field of the policy.
    #[test]
    fn policies_parse_and_validate(v in policy_json()) {
        let text = v.to_string();
        let parsed = serde_json::from_str::<Policy>(&text);
        prop_assert_eq!(parsed.is_ok(), serde_json::from_value::<Policy>(v.clone()).is_ok());
        let policy = match parsed {
            Ok(p) => p,
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(!msg.is_empty());
                return Ok(());
            }
        };
        // Deserialization accepted no unknown key anywhere.
        for (key, known) in [("", POLICY_KEYS), ("budget", BUDGET_KEYS), ("schedule", SCHEDULE_KEYS)] {
            let obj = if key.is_empty() { Some(&v) } else { v.get(key) };
            if let Some(Value::Object(m)) = obj {
                for k in m.keys() {
                    prop_assert!(known.contains(&k.as_str()), "unknown {:?} accepted in {}", k, text);
                }
            }
        }
        let start = Instant::now();
        let verdict = policy.validate();
        prop_assert!(start.elapsed() < Duration::from_secs(5), "validate took {:?}: {}", start.elapsed(), text);
        match verdict {
            Ok(()) => {
                let back: Policy = serde_json::from_value(serde_json::to_value(&policy).map_err(|e| TestCaseError::fail(e.to_string()))?)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(&back, &policy);
                prop_assert!(back.validate().is_ok());
                for p in ["/MEMORY.md", "/team/a.md", "/", "x"] {
                    let _ = policy.is_protected(p);
                }
            }
            Err(e) => {
                let msg = e.to_string();
                let field = msg.strip_prefix("invalid ").and_then(|m| m.split(':').next());
                prop_assert!(field.is_some_and(|f| FIELDS.contains(&f)), "{:?} names no policy field", msg);
            }
        }
    }

    /// An unknown key at any level of a valid policy is refused, naming it.
    #[test]
    fn unknown_keys_are_refused(key in "[a-z_]{1,12}", level in 0usize..4) {
        let mut v = json!({
            "budget": {"max_total_bytes": 1000},
            "tests": [{"type": "must_contain", "text": "x"}],
            "schedule": {"after_sessions": 5},
        });
        let (target, known): (&mut Value, &[&str]) = match level {
            0 => (&mut v, POLICY_KEYS),
            1 => (&mut v["budget"], BUDGET_KEYS),
            2 => (&mut v["tests"][0], TEST_KEYS),
            _ => (&mut v["schedule"], SCHEDULE_KEYS),
        };
        prop_assume!(!known.contains(&key.as_str()));
        target[key.as_str()] = json!(1);
        let err = serde_json::from_value::<Policy>(v);
        prop_assert!(err.is_err(), "{:?} accepted at level {}", key, level);
        let msg = err.map(|_| ()).unwrap_err().to_string();
        prop_assert!(msg.contains(&format!("unknown field `{key}`")), "{}", msg);
    }
}

// ---------------------------------------------------------------------------------------------
// Globs.

/// A pattern near the glob grammar.
fn glob_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::collection::vec(
            prop::sample::select(vec!["**", "*", "?", "a", "b", "a*", "*b", "a?b", "**a", "", "*a*b*", "team", "*.md"]),
            0..6,
        )
        .prop_map(|s| format!("/{}", s.join("/"))),
        1 => "[/ab*?]{0,12}",
        1 => any::<String>(),
    ]
}

/// The reference: a segment of exactly `**` matches any number of path segments; in any
/// other segment `*` matches any bytes and `?` one byte, within one path segment.
fn reference_matches(pattern: &str, path: &str) -> bool {
    fn segments(p: &[&str], s: &[&str]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((&"**", rest)) => (0..=s.len()).any(|k| segments(rest, &s[k..])),
            Some((first, rest)) => {
                !s.is_empty() && bytes(first.as_bytes(), s[0].as_bytes()) && segments(rest, &s[1..])
            }
        }
    }
    fn bytes(p: &[u8], s: &[u8]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => (0..=s.len()).any(|k| bytes(rest, &s[k..])),
            Some((b'?', rest)) => !s.is_empty() && bytes(rest, &s[1..]),
            Some((c, rest)) => s.first() == Some(c) && bytes(rest, &s[1..]),
        }
    }
    let (Some(p), Some(s)) = (pattern.strip_prefix('/'), path.strip_prefix('/')) else {
        return false;
    };
    let p: Vec<&str> = p.split('/').collect();
    let s: Vec<&str> = s.split('/').collect();
    segments(&p, &s)
}

proptest! {
    #![proptest_config(crate::config(4000))]

    /// `Glob::new` accepts exactly the patterns that start with `/` and fit in 1,024 bytes,
    /// and refuses the others naming `protected`.
    #[test]
    fn globs_are_accepted_by_the_rules(pattern in prop_oneof![glob_pattern(), (1020usize..1030).prop_map(|n| format!("/{}", "*".repeat(n)))]) {
        let want = pattern.starts_with('/') && pattern.len() <= 1024;
        match Glob::new(&pattern) {
            Ok(_) => prop_assert!(want, "{:?}", pattern),
            Err(e) => {
                prop_assert!(!want, "{:?}: {}", pattern, e);
                prop_assert!(e.to_string().starts_with("invalid protected: "), "{}", e);
            }
        }
    }

    /// The matcher agrees with the reference on small patterns and paths.
    #[test]
    fn globs_match_like_the_reference(
        pattern in prop_oneof![
            3 => prop::collection::vec(prop::sample::select(vec!["**", "*", "?", "a", "b", "ab", "a*", "*b", "?a", "a**", "**b", "*a*", ""]), 0..6)
                .prop_map(|s| format!("/{}", s.join("/"))),
            2 => "/[ab*?/]{0,10}",
        ],
        path in prop_oneof![
            3 => prop::collection::vec("[ab]{0,3}", 0..6).prop_map(|s| format!("/{}", s.join("/"))),
            1 => "[/ab]{0,10}",
            1 => "/[abé]{0,4}",
        ],
    ) {
        let glob = Glob::new(&pattern).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(glob.matches(&path), reference_matches(&pattern, &path), "{:?} on {:?}", pattern, path);
        let policy = Policy { protected: vec![pattern.clone()], ..Policy::default() };
        prop_assert_eq!(policy.is_protected(&path), glob.matches(&path));
    }
}

proptest! {
    #![proptest_config(crate::config(300))]

    /// Many stars against long paths that almost match: linear in pattern × path, so each
    /// match of up to 1,024 × 1,024 bytes finishes well within a second even in a debug build
    /// (a backtracking matcher takes exponential time on these).
    #[test]
    fn globs_match_in_linear_time(
        unit in prop::sample::select(vec!["*a", "a*", "*", "**/a/", "**/", "*/", "?*", "**/*a*/"]),
        stars in 1usize..200,
        tail in prop::sample::select(vec!["b", "/b", "", "*b", "/**/b"]),
        seg in prop::sample::select(vec!["a", "aa", "a/a", "a/", "ab"]),
        len in 1usize..1000,
    ) {
        let pattern: String = format!("/{}{tail}", unit.repeat(stars));
        prop_assume!(pattern.len() <= 1024);
        let path: String = format!("/{}", seg.repeat(len));
        let path = &path[..path.len().min(1024)];
        let glob = Glob::new(&pattern).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let start = Instant::now();
        let _ = glob.matches(path);
        let _ = glob.matches(&format!("{path}b"));
        let took = start.elapsed();
        prop_assert!(took < Duration::from_secs(2), "{:?} on {} bytes took {:?}", pattern, path.len(), took);
    }
}

// ---------------------------------------------------------------------------------------------
// Cron.

/// One field near the cron grammar.
fn cron_field(max: u32) -> impl Strategy<Value = String> {
    let n = prop_oneof![4 => 0..=max + 1, 1 => prop::sample::select(vec![0, 7, 24, 31, 32, 60, 61, 65_535, 65_536, 99_999])];
    let simple = prop_oneof![
        4 => Just("*".to_string()),
        4 => n.clone().prop_map(|a| a.to_string()),
        2 => (n.clone(), n.clone()).prop_map(|(a, b)| format!("{a}-{b}")),
        2 => (n.clone(), 0u32..20).prop_map(|(a, s)| format!("{a}/{s}")),
        2 => (0u32..20).prop_map(|s| format!("*/{s}")),
        1 => (n.clone(), n.clone(), 0u32..20).prop_map(|(a, b, s)| format!("{a}-{b}/{s}")),
    ];
    let special = prop::sample::select(vec![
        "L", "5L", "15W", "LW", "1#2", "5#5", "0#6", "?", "MON", "MON-FRI", "SUN", "JAN",
        "JAN-DEC", "-SUN", "+1", "1-2-3", "*/", "/5", ",", "1,,2", "*,*", "", "@daily", "L-1", "W",
        "#",
    ])
    .prop_map(str::to_string);
    prop_oneof![
        6 => prop::collection::vec(simple, 1..3).prop_map(|v| v.join(",")),
        1 => special,
        1 => "[0-9*/,LW#?-]{1,6}",
    ]
}

/// One valid field of plain numbers, ranges, steps and lists within `min..=max`.
fn plain_field(min: u32, max: u32) -> impl Strategy<Value = String> {
    let part = prop_oneof![
        2 => (min..=max).prop_map(|a| a.to_string()),
        1 => (min..=max, min..=max).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
        1 => (1..=max.max(2)).prop_map(|s| format!("*/{s}")),
        1 => (min..=max, min..=max, 1u32..10).prop_map(|(a, b, s)| format!("{}-{}/{s}", a.min(b), a.max(b))),
    ];
    prop_oneof![
        3 => Just("*".to_string()),
        4 => prop::collection::vec(part, 1..4).prop_map(|v| v.join(",")),
    ]
}

/// A cron pattern near the five-field grammar (sometimes with 4, 6 or 7 fields).
fn cron() -> impl Strategy<Value = String> {
    let five = (
        cron_field(59),
        cron_field(23),
        cron_field(31),
        cron_field(12),
        cron_field(7),
    )
        .prop_map(|(a, b, c, d, e)| format!("{a} {b} {c} {d} {e}"));
    let plain = (
        plain_field(0, 59),
        plain_field(0, 23),
        plain_field(1, 31),
        plain_field(1, 12),
        plain_field(0, 7),
    )
        .prop_map(|(a, b, c, d, e)| format!("{a} {b} {c} {d} {e}"));
    prop_oneof![
        6 => five,
        6 => plain,
        1 => prop::sample::select(vec![
            "@daily", "@yearly", "0 0 * *", "0 0 * * * *", "0 0 * * * * 2030", "", "  0  3 * * *  ",
            // Never, rarely, or only with `+` (day of month and of week both).
            "0 0 31 2 *", "* * 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30,31 2 *", "0 0 29 2 *",
            "0 0 29 2 +1", "0 0 31 2 +1", "* * 31 2 +0#5", "0 0 L 2 *", "0 0 29W 2 *", "59 23 31 12 +5#5",
        ]).prop_map(str::to_string),
        1 => "[0-9*/ ,LW#?-]{0,20}",
    ]
}

/// One field of a plain pattern (numbers, `*`, ranges, steps and lists) as a set of values.
fn field_set(field: &str, min: u32, max: u32) -> Option<Vec<bool>> {
    let mut set = vec![false; max as usize + 1];
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok()?),
            None => (part, 1),
        };
        if step == 0 {
            return None;
        }
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (a.parse().ok()?, b.parse().ok()?)
        } else {
            let a: u32 = range.parse().ok()?;
            // `a/s` runs from `a` to the end of the field.
            (a, if part.contains('/') { max } else { a })
        };
        if lo < min || hi > max || lo > hi {
            return None;
        }
        let mut v = lo;
        while v <= hi {
            set[v as usize] = true;
            v += step;
        }
    }
    Some(set)
}

/// A reference matcher for plain five-field patterns (`None` for anything else): minute,
/// hour, day of month, month, day of week (0–7, both 0 and 7 Sunday); the day matches when
/// either day field does, unless one of them is `*`.
struct Plain {
    fields: [Vec<bool>; 5],
    dom_star: bool,
    dow_star: bool,
}

impl Plain {
    fn parse(pattern: &str) -> Option<Plain> {
        let f: Vec<&str> = pattern.split_whitespace().collect();
        if f.len() != 5
            || f.iter()
                .any(|x| x.contains(['L', 'W', '#', '?', 'M', 'J', 'S']))
        {
            return None;
        }
        let mut dow = field_set(f[4], 0, 7)?;
        if dow[7] {
            dow[0] = true;
        }
        Some(Plain {
            fields: [
                field_set(f[0], 0, 59)?,
                field_set(f[1], 0, 23)?,
                field_set(f[2], 1, 31)?,
                field_set(f[3], 1, 12)?,
                dow,
            ],
            dom_star: f[2] == "*",
            dow_star: f[4] == "*",
        })
    }

    fn matches(&self, t: &time::OffsetDateTime) -> bool {
        let [min, hour, dom, month, dow] = &self.fields;
        let day_of_month = dom[t.day() as usize];
        let day_of_week = dow[t.weekday().number_days_from_sunday() as usize];
        let day = match (self.dom_star, self.dow_star) {
            (true, true) => true,
            (true, false) => day_of_week,
            (false, true) => day_of_month,
            (false, false) => day_of_month || day_of_week,
        };
        min[t.minute() as usize] && hour[t.hour() as usize] && month[t.month() as usize] && day
    }
}

fn instant() -> impl Strategy<Value = i64> {
    prop_oneof![
        // 1970 to 2100.
        6 => 0i64..4_102_444_800_000_000,
        1 => prop::sample::select(vec![
            i64::MIN, i64::MAX, -1, 0, -62_135_596_800_000_000, 95_617_584_000_000_000,
            95_649_119_999_999_999, 253_402_300_799_999_999, 8_210_298_412_799_999_999,
        ]),
        1 => any::<i64>(),
    ]
}

proptest! {
    #![proptest_config(crate::config(500))]

    /// Cron patterns near the grammar: `validate` never panics and ends in time; for a valid
    /// pattern `next_cron_time` of any instant never panics and is later; for a plain
    /// pattern (and an instant from 1970 to 2100) it is the first later minute the reference
    /// accepts.
    #[test]
    fn cron_schedules(pattern in cron(), at in instant()) {
        let policy = Policy {
            schedule: Schedule { cron: Some(pattern.clone()), ..Schedule::default() },
            ..Policy::default()
        };
        let start = Instant::now();
        let verdict = policy.validate();
        prop_assert!(start.elapsed() < Duration::from_secs(5), "{:?} took {:?}", pattern, start.elapsed());
        if let Err(e) = &verdict {
            prop_assert!(e.to_string().starts_with("invalid schedule.cron: "), "{}", e);
            prop_assert!(e.to_string().contains(&format!("{pattern:?}")), "{}", e);
            return Ok(());
        }
        let start = Instant::now();
        let next = policy.schedule.next_cron_time(Timestamp(at));
        prop_assert!(start.elapsed() < Duration::from_secs(5), "{:?} at {} took {:?}", pattern, at, start.elapsed());
        let next = next.map_err(|e| TestCaseError::fail(e.to_string()))?;
        let Some(next) = next else { return Ok(()) };
        prop_assert!(next.0 > at, "{:?}: {} is not after {}", pattern, next.0, at);
        prop_assert_eq!(next.0 % 60_000_000, 0, "{:?}: not on a minute", pattern);
        // croner knows the years 1 to 5000; check against the reference from 1970 to 2100.
        prop_assume!((0..4_102_444_800_000_000).contains(&at));
        let Some(plain) = Plain::parse(&pattern) else { return Ok(()) };
        let t = |micros: i64| time::OffsetDateTime::from_unix_timestamp(micros.div_euclid(1_000_000));
        let Ok(found) = t(next.0) else { return Ok(()) };
        prop_assert!(plain.matches(&found), "{:?} gave {}, which it does not match", pattern, found);
        // No earlier minute matches (checked up to three days back).
        let first = (at.div_euclid(60_000_000) + 1) * 60_000_000;
        let mut m = next.0 - 60_000_000;
        let mut checked = 0;
        while m >= first && checked < 3 * 24 * 60 {
            if let Ok(tm) = t(m) {
                prop_assert!(!plain.matches(&tm), "{:?} after {}: {} matches before {}", pattern, at, tm, found);
            }
            m -= 60_000_000;
            checked += 1;
        }
    }
}

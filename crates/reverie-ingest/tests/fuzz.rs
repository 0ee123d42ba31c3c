//! Fuzzing the ingest front end: format detection, every format's parser (Claude Code, Codex,
//! Anthropic/OpenAI messages, plain text), whole-file reading and the redactor must never panic,
//! whatever bytes they get. Inputs are arbitrary bytes and text, and structure-aware mutations of
//! real transcript lines from `shared/data/transcripts`: truncation at every character boundary,
//! fields of the wrong type, invalid UTF-8, huge strings, deep nesting, Japanese text. Valid
//! lines must still parse, and redaction must stay idempotent.
//!
//! 256 cases per property by default (each property runs in a few seconds in a debug build);
//! `PROPTEST_CASES=20000` runs a longer campaign (FUZZING.md records the last one).

mod common;

use std::sync::OnceLock;

use proptest::prelude::*;
use reverie_ingest::detect::{Detected, detect, detect_with};
use reverie_ingest::normalize::Meta;
use reverie_ingest::read::{Limits, Msg, read_file};
use reverie_ingest::redact::{RedactionCounts, redactor};
use reverie_ingest::{claude, codex, messages, text};
use serde_json::Value;

/// Real transcript lines: up to 400, spread over every `.jsonl` file, each under 16 KB (so that
/// a case stays fast in a debug build; long lines are covered by the huge-string mutation).
fn real_lines() -> &'static [String] {
    static LINES: OnceLock<Vec<String>> = OnceLock::new();
    LINES.get_or_init(|| {
        let dir = common::data("transcripts");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        paths.sort();
        let mut out = Vec::new();
        for p in &paths {
            let text = std::fs::read_to_string(p).unwrap();
            let short: Vec<&str> = text.lines().filter(|l| l.len() < 16 * 1024).collect();
            let step = (short.len() / 8).max(1);
            out.extend(short.iter().step_by(step).take(8).map(|l| l.to_string()));
        }
        assert!(out.len() > 100, "only {} real lines", out.len());
        out
    })
}

fn cases() -> u32 {
    if std::env::var_os("PROPTEST_CASES").is_some() {
        ProptestConfig::default().cases
    } else {
        256
    }
}

/// Runs every parser on `text` (and what it parses to); never panics, or the test fails.
fn parse_all(text: &str) {
    let mut meta = Meta::default();
    if let Ok(line) = claude::Line::read(text) {
        line.events(1, &mut meta);
    }
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        claude::parse_line(&v, 1, &mut meta);
        codex::parse_line(&v, 1, &mut meta);
        if messages::is_conversation(&v) {
            messages::looks_openai(&v);
        }
        messages::parse_anthropic(&v, &mut meta);
        messages::parse_openai(&v, &mut meta);
    }
    text::parse(text);
}

/// Redacts `text` twice: the second pass changes nothing, and valid JSON stays valid.
fn redact_twice(text: &str) -> Result<(), TestCaseError> {
    let mut counts = RedactionCounts::default();
    let once = redactor().redact(text, &mut counts).into_owned();
    let mut again = RedactionCounts::default();
    let twice = redactor().redact(&once, &mut again);
    prop_assert_eq!(twice.as_ref(), once.as_str(), "redaction is not idempotent");
    prop_assert_eq!(again.total(), 0);
    if serde_json::from_str::<Value>(text).is_ok() {
        prop_assert!(serde_json::from_str::<Value>(&once).is_ok(), "JSON broken");
        // the ingest path's `redact_json` agrees
        let mut fast = RedactionCounts::default();
        let fast_out = redactor().redact_json(text, &mut fast);
        prop_assert_eq!(fast_out.as_ref(), once.as_str());
    }
    Ok(())
}

/// Reads `bytes` as a file the way ingest does (detection, line reading, redaction, parsing),
/// without a store: it must end with a report, whatever the bytes.
fn read_bytes(bytes: &[u8]) -> Vec<Msg> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl");
    std::fs::write(&path, bytes).unwrap();
    let mut msgs = Vec::new();
    read_file(
        &path,
        "t.jsonl",
        None,
        None,
        &Limits::default(),
        redactor(),
        &mut |m| {
            msgs.push(m);
            true
        },
    );
    assert!(matches!(msgs.last(), Some(Msg::Report(_))));
    msgs
}

/// Every node of a JSON value, depth first, as a mutable reference reached by index.
fn node_mut(v: &mut Value, mut n: usize) -> &mut Value {
    fn walk<'a>(v: &'a mut Value, n: &mut usize) -> Option<&'a mut Value> {
        if *n == 0 {
            return Some(v);
        }
        *n -= 1;
        match v {
            Value::Array(a) => a.iter_mut().find_map(|c| walk(c, n)),
            Value::Object(o) => o.values_mut().find_map(|c| walk(c, n)),
            _ => None,
        }
    }
    let count = count_nodes(v);
    n %= count;
    walk(v, &mut n).expect("index within the count")
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count_nodes).sum(),
        Value::Object(o) => o.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// A structure-aware mutation of a JSON line.
#[derive(Debug, Clone)]
enum Mutation {
    /// Replace node `i` with a value of another type.
    SwapType(usize, u8),
    /// Replace string node `i`'s content with a huge one (100 KB, ASCII or Japanese).
    Huge(usize, bool),
    /// Wrap node `i` in `depth` arrays or objects.
    Nest(usize, usize, bool),
    /// Insert Japanese text (with `、` and `。`) into every string at or after node `i`.
    Japanese(usize),
    /// Insert invalid UTF-8 bytes at byte `at` (proportional).
    InvalidBytes(usize, Vec<u8>),
    /// Cut the line at character boundary `at` (proportional).
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, t)| Mutation::SwapType(i, t)),
        (any::<usize>(), any::<bool>()).prop_map(|(i, j)| Mutation::Huge(i, j)),
        (any::<usize>(), 1..300usize, any::<bool>()).prop_map(|(i, d, o)| Mutation::Nest(i, d, o)),
        any::<usize>().prop_map(Mutation::Japanese),
        (
            any::<usize>(),
            prop::collection::vec(prop_oneof![0x80..=0xffu8, Just(0u8)], 1..8)
        )
            .prop_map(|(at, b)| Mutation::InvalidBytes(at, b)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

const JAPANESE: &str = "日本語のテキスト、句読点を含む。ビルドが失敗しました、再試行します。";

fn other_type(t: u8) -> Value {
    match t % 6 {
        0 => Value::Null,
        1 => Value::from(t.is_multiple_of(2)),
        2 => Value::from(-1.5e300),
        3 => Value::from("文字列"),
        4 => Value::from(vec![Value::Null, Value::from(1)]),
        _ => serde_json::json!({"type": 7, "content": [{"type": null}]}),
    }
}

/// Applies `m` to `line`; returns the bytes, and whether the result must still parse as the
/// original did (mutations that only change string contents keep a line valid).
fn apply(line: &str, m: &Mutation) -> (Vec<u8>, bool) {
    let parsed: Option<Value> = serde_json::from_str(line).ok();
    match (m, parsed) {
        (Mutation::SwapType(i, t), Some(mut v)) => {
            *node_mut(&mut v, *i) = other_type(*t);
            (v.to_string().into_bytes(), false)
        }
        (Mutation::Huge(i, japanese), Some(mut v)) => {
            let n = node_mut(&mut v, *i);
            if n.is_string() {
                *n = Value::from(if *japanese {
                    JAPANESE.repeat(100 * 1024 / JAPANESE.len())
                } else {
                    "a".repeat(100 * 1024)
                });
            }
            (v.to_string().into_bytes(), true)
        }
        (Mutation::Nest(i, depth, object), Some(mut v)) => {
            let n = node_mut(&mut v, *i);
            let mut inner = n.take();
            for _ in 0..*depth {
                inner = if *object {
                    serde_json::json!({ "content": inner })
                } else {
                    Value::from(vec![inner])
                };
            }
            *n = inner;
            (v.to_string().into_bytes(), false)
        }
        (Mutation::Japanese(i), Some(mut v)) => {
            let count = count_nodes(&v);
            for k in (*i % count)..count {
                if let Value::String(s) = node_mut(&mut v, k) {
                    let cut = s
                        .char_indices()
                        .nth(s.chars().count() / 2)
                        .map_or(0, |c| c.0);
                    s.insert_str(cut, JAPANESE);
                }
            }
            (v.to_string().into_bytes(), true)
        }
        (Mutation::InvalidBytes(at, bytes), _) => {
            let mut b = line.as_bytes().to_vec();
            let at = at % (b.len() + 1);
            b.splice(at..at, bytes.iter().copied());
            (b, false)
        }
        (Mutation::Truncate(at), _) => {
            let bounds: Vec<usize> = line.char_indices().map(|(i, _)| i).collect();
            let at = bounds.get(at % bounds.len().max(1)).copied().unwrap_or(0);
            (line.as_bytes()[..at].to_vec(), false)
        }
        // a line that is not JSON: mutate its bytes instead
        (_, None) => (line.as_bytes().to_vec(), false),
    }
}

/// Parses `line` with the parser of its format; true if it parsed.
fn parses(line: &str) -> bool {
    match serde_json::from_str::<Value>(line) {
        Ok(v) => match reverie_ingest::detect::line_format(&v) {
            Some(reverie_core::session::SourceFormat::ClaudeCode) => {
                claude::Line::read(line).is_ok()
            }
            _ => true,
        },
        Err(_) => false,
    }
}

/// Every real line parses, with the parser detection picks for it: the baseline that the
/// mutations below are measured against.
#[test]
fn real_lines_parse() {
    let lines = real_lines();
    for l in lines {
        assert!(
            parses(l),
            "a real line does not parse: {}",
            &l[..l.len().min(300)]
        );
        parse_all(l);
    }
}

/// Every real line under 4 KB, cut at every character boundary: detection and every parser
/// survive each prefix (redaction, slower, every 17th).
#[test]
fn every_truncation_of_real_lines() {
    let mut checked = 0;
    for l in real_lines().iter().filter(|l| l.len() < 4096).take(60) {
        for (k, (i, _)) in l.char_indices().enumerate() {
            let prefix = &l[..i];
            detect(prefix.as_bytes(), true);
            detect(prefix.as_bytes(), false);
            parse_all(prefix);
            if k % 17 == 0 {
                redact_twice(prefix).unwrap();
            }
            checked += 1;
        }
    }
    assert!(checked > 10_000, "{checked}");
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Detection of arbitrary bytes, whole or as a head, never panics.
    #[test]
    fn detection_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..4096), complete in any::<bool>()) {
        let d = detect(&bytes, complete);
        let streamed = detect_with(&bytes, complete, &bytes[..]).unwrap();
        if complete {
            prop_assert_eq!(d, streamed);
        }
    }

    /// A real line with a BOM or not, `\n` or `\r` after it, and up to 8 bytes of noise: still
    /// detected as the format of its line (a few bad bytes are damage, not binary).
    #[test]
    fn detection_of_json_like_heads(
        line in prop::sample::select(real_lines()),
        bom in any::<bool>(),
        cr in any::<bool>(),
        // no line breaks in the noise: with both `\r` and `\n` the ending is ambiguous
        noise in prop::collection::vec(any::<u8>().prop_map(|b| if b == b'\n' || b == b'\r' { b'#' } else { b }), 0..8),
    ) {
        let mut bytes = if bom { b"\xef\xbb\xbf".to_vec() } else { Vec::new() };
        bytes.extend(line.as_bytes());
        bytes.push(if cr { b'\r' } else { b'\n' });
        bytes.extend(&noise);
        let d = detect(&bytes, true);
        let format = serde_json::from_str::<Value>(&line).ok().and_then(|v| reverie_ingest::detect::line_format(&v));
        if let Some(f) = format {
            prop_assert_eq!(d, Detected::Lines(f));
        }
    }

    /// Every parser and the redactor on arbitrary text: no panic, redaction idempotent.
    #[test]
    fn parsers_never_panic_on_arbitrary_text(s in any::<String>()) {
        parse_all(&s);
        redact_twice(&s)?;
    }

    /// Every parser on arbitrary JSON-shaped text built from transcript vocabulary.
    #[test]
    fn parsers_never_panic_on_transcript_shaped_json(v in transcript_json()) {
        let s = v.to_string();
        parse_all(&s);
        redact_twice(&s)?;
    }

    /// Real lines, mutated: detection, every parser and the redactor survive, and mutations that
    /// only change string contents leave a line that still parses.
    #[test]
    fn mutated_real_lines(line in prop::sample::select(real_lines()), m in mutation()) {
        let (bytes, still_valid) = apply(&line, &m);
        detect(&bytes, true);
        detect(&bytes, false);
        let text = String::from_utf8_lossy(&bytes);
        parse_all(&text);
        if still_valid && parses(&line) {
            prop_assert!(parses(&text), "a valid mutation no longer parses: {:?}", m);
        }
        redact_twice(&text)?;
    }

    /// Whole files of real lines, mutated, with any line endings, a BOM and a NUL tail, read as
    /// ingest reads them: always a report, never a panic.
    #[test]
    fn whole_files_never_panic(
        lines in prop::collection::vec((prop::sample::select(real_lines()), mutation()), 1..6),
        ending in prop::sample::select(vec!["\n", "\r\n", "\r"]),
        bom in any::<bool>(),
        nul_tail in 0..600usize,
    ) {
        let mut bytes = if bom { b"\xef\xbb\xbf".to_vec() } else { Vec::new() };
        for (l, m) in &lines {
            bytes.extend(apply(l, m).0);
            bytes.extend(ending.as_bytes());
        }
        bytes.extend(std::iter::repeat_n(0u8, nul_tail));
        read_bytes(&bytes);
    }
}

/// JSON values shaped like transcript lines: the keys the parsers read, with values of any type.
fn transcript_json() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "type",
        "message",
        "content",
        "role",
        "text",
        "tool_use_id",
        "name",
        "input",
        "id",
        "payload",
        "timestamp",
        "sessionId",
        "uuid",
        "messages",
        "loglines",
        "tool_calls",
        "function",
        "arguments",
        "summary",
        "subtype",
        "is_error",
        "thinking",
        "toolUseResult",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            "user",
            "assistant",
            "system",
            "tool_use",
            "tool_result",
            "text",
            "thinking",
            "response_item",
            "event_msg",
            "session_meta",
            "function_call",
            "message",
            "",
            "、",
        ])
        .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::vec((key.clone(), inner), 0..8).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

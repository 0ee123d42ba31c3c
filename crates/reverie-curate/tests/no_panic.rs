//! No session can panic the curator: random sessions of user and assistant text, tool calls,
//! errors, summaries and hook lines, written from fragments in many scripts (Japanese with
//! `、` and `。`, Chinese, Arabic, Hindi, emoji, combining marks, zero-width characters) and
//! the shapes the extractors look for (requests, corrections, definitions, errors, paths,
//! relative dates), through every extractor and the whole pure pipeline. A dream over such
//! input either completes or fails cleanly, and gives the same output twice.

use proptest::prelude::*;
use reverie_core::policy::Policy;
use reverie_core::session::{Event, EventKind, Session, SourceFormat};
use reverie_core::timestamp::Timestamp;
use reverie_curate::curator::{Deterministic, Known};
use reverie_curate::extract::extract;
use reverie_curate::{DreamInput, SessionInput, StoreSnapshot};
use serde_json::json;

const FRAGMENTS: &[&str] = &[
    "このプロジェクトでは、必ず`pnpm`を使ってください。",
    "いいえ、それは違います、設定ファイルは`config/app.toml`です、",
    "覚えておいて：ステージングのDBはポート6543です、、、",
    "「テスト」は`cargo test`で実行します。",
    "不要使用npm，请用pnpm。",
    "لا تستخدم npm أبدا",
    "हमेशा `cargo fmt` चलाएँ।",
    "🚀👍🏽 done",
    "e\u{301}\u{301} cafe\u{301}",
    "zero\u{200b}width\u{feff}",
    "remember that ",
    "always ",
    "never ",
    "from now on, ",
    "no, ",
    "actually, use ",
    "don't ",
    "by 'tally' we mean ",
    " is short for ",
    "last night",
    "yesterday",
    "`git push --set-upstream origin feat/x`",
    "/home/user/proj/src/lib.rs:12:5",
    "error[E0432]: unresolved import",
    "fatal: ",
    "Exit code 1\n",
    "thread 'x' panicked at src/a.rs:1:2:\n",
    "Stop hook feedback:\n[~/.claude/hooks/stop.sh]: ",
    "PostToolUse:Edit hook additional context: [CREDO]\n",
    "4. Errors and fixes:\n   - ",
    "Fixed by running `bun install`.",
    "- ",
    "# ",
    "**",
    "\n",
    "\t",
    ". ",
    "? ",
    ": ",
    "—",
    "(",
    ")",
    "\"",
    "'",
    "`",
    "",
];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(FRAGMENTS).prop_map(str::to_string),
            1 => "\\PC{0,12}",
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        3 => text().prop_map(|t| Event::new(EventKind::User).with_text(t)),
        3 => text().prop_map(|t| Event::new(EventKind::Assistant).with_text(t)),
        2 => (text(), prop::sample::select(&["Bash", "Edit", "Read", "Write", "memory", "Task"][..]))
            .prop_map(|(t, tool)| {
                let mut e = Event::new(EventKind::ToolUse);
                e.tool_name = Some(tool.to_string());
                e.tool_use_id = Some("toolu_1".into());
                e.tool_input = Some(match tool {
                    "Bash" => json!({"command": t, "description": t}),
                    "memory" => json!({"command": "create", "path": "/memories/a.md", "file_text": t}),
                    _ => json!({"file_path": format!("/home/user/proj/{t}"), "old_string": t, "new_string": t, "content": t}),
                });
                e
            }),
        2 => (text(), any::<bool>()).prop_map(|(t, err)| {
            let mut e = Event::new(EventKind::ToolResult).with_text(t);
            e.tool_use_id = Some("toolu_1".into());
            e.is_error = err;
            e
        }),
        1 => text().prop_map(|t| Event::new(EventKind::Summary).with_text(t)),
    ]
}

fn session(i: usize, events: Vec<Event>) -> SessionInput {
    let base = Timestamp::parse("2026-03-13T09:12:00Z").unwrap();
    let events: Vec<Event> = events
        .into_iter()
        .enumerate()
        .map(|(k, mut e)| {
            e.seq = k as i64;
            e.timestamp = Some(Timestamp(base.0 + (i * 1000 + k) as i64 * 1_000_000));
            e
        })
        .collect();
    SessionInput {
        session: Session {
            id: format!("sesn_{i}"),
            memory_store_id: "memstore_p".into(),
            source_format: SourceFormat::ClaudeCode,
            source_path: None,
            source_session_id: None,
            project: Some("/home/user/proj".into()),
            git_branch: Some("feat/x".into()),
            model: None,
            agent_version: None,
            started_at: Some(base),
            ended_at: Some(base),
            event_count: events.len() as i64,
            error_count: 0,
            line_count: events.len() as i64,
            outcome: None,
            created_at: base,
            updated_at: base,
        },
        events,
    }
}

fn input(sessions: Vec<Vec<Event>>) -> DreamInput {
    DreamInput {
        dream_id: "drm_p".into(),
        store: StoreSnapshot {
            store_id: "memstore_p".into(),
            revision: 0,
            memories: Vec::new(),
            entries: Vec::new(),
            policy: Policy::default(),
        },
        sessions: sessions
            .into_iter()
            .enumerate()
            .map(|(i, e)| session(i, e))
            .collect(),
        servings: Vec::new(),
        instructions: None,
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

proptest! {
    // 300 cases in CI; `REVERIE_FUZZ_CASES=20000` for a longer campaign (FUZZING.md).
    #![proptest_config(ProptestConfig {
        cases: std::env::var("REVERIE_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(300),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_session_dreams_without_panic(sessions in prop::collection::vec(prop::collection::vec(event(), 0..24), 1..3)) {
        let inp = input(sessions);
        let got = extract(&inp, &Known::default());
        prop_assert_eq!(&got, &extract(&inp, &Known::default()));
        let a = block_on(reverie_curate::dream(&inp, &Deterministic));
        let b = block_on(reverie_curate::dream(&inp, &Deterministic));
        match (a, b) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a.changeset, b.changeset),
            (Err(a), Err(b)) => prop_assert_eq!(a.message, b.message),
            _ => prop_assert!(false, "the same input dreamed differently"),
        }
    }
}

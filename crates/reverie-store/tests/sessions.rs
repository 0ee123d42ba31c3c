//! Sessions in the store: creation, batches that carry their cursor, the refusal of a stale
//! batch, reset, reads and outcomes — on SQLite and PostgreSQL.

mod common;

use std::sync::Arc;

use common::new_store;
use reverie_core::ErrorType;
use reverie_core::Timestamp;
use reverie_core::session::{Event, EventKind, Outcome, OutcomeStatus, SessionMeta, SourceFormat};
use reverie_store::{NewSession, SessionBatch, Store};

on_both_backends!(
    batches_and_cursor,
    stale_batches_are_refused,
    reset_and_outcome,
    sessions_belong_to_their_store,
    a_stores_events_by_kind
);

fn events(from: i64, n: i64) -> Vec<Event> {
    (from..from + n)
        .map(|seq| {
            let mut e = match seq % 3 {
                0 => Event::new(EventKind::User).with_text(format!("message {seq}")),
                1 => {
                    let mut e = Event::new(EventKind::ToolUse);
                    e.tool_name = Some("Bash".into());
                    e.tool_use_id = Some(format!("toolu_{seq}"));
                    e.tool_input = Some(serde_json::json!({"command": "cargo test", "n": seq}));
                    e
                }
                _ => {
                    let mut e = Event::new(EventKind::ToolResult).with_text("exit 1\0nul");
                    e.tool_use_id = Some(format!("toolu_{}", seq - 1));
                    e.is_error = true;
                    e
                }
            };
            e.seq = seq;
            e.line = Some(seq + 1);
            e.sidechain = seq % 2 == 0;
            e.timestamp = Timestamp::parse(&format!("2026-01-01T00:00:{:02}Z", seq % 60));
            e
        })
        .collect()
}

fn batch(
    expect: (i64, i64),
    lines: std::ops::Range<i64>,
    ev: Vec<Event>,
    consumed: i64,
) -> SessionBatch {
    SessionBatch {
        expect_consumed: expect.0,
        expect_seq: expect.1,
        next_line: lines.end,
        lines: lines
            .map(|l| (l, format!("{{\"line\":{l}}}")))
            .collect::<Vec<_>>()
            .into(),
        events: ev,
        consumed_bytes: consumed,
        consumed_hash: Some(format!("hash-{consumed}")),
        meta: SessionMeta {
            project: Some("/repo".into()),
            model: Some("claude".into()),
            ..Default::default()
        },
    }
}

async fn batches_and_cursor(s: Arc<dyn Store>) {
    let st = new_store(&*s, "sessions").await;
    let new = NewSession {
        store_id: st.clone(),
        source_format: SourceFormat::ClaudeCode,
        source_path: Some("/tmp/a.jsonl".into()),
        outcome: None,
    };
    let session = s.create_session(new.clone()).await.unwrap();
    assert!(session.id.starts_with("sesn_"));
    assert_eq!(session.event_count, 0);
    // The same source cannot become two sessions.
    assert_eq!(
        s.create_session(new).await.unwrap_err().error_type(),
        ErrorType::Conflict
    );

    let first = s
        .append_to_session(&session.id, &batch((0, 0), 1..4, events(0, 3), 300))
        .await
        .unwrap();
    assert_eq!(
        (first.event_count, first.error_count, first.line_count),
        (3, 1, 3)
    );
    assert_eq!(first.project.as_deref(), Some("/repo"));
    let second = s
        .append_to_session(&session.id, &batch((300, 3), 4..9, events(3, 6), 900))
        .await
        .unwrap();
    assert_eq!(
        (second.event_count, second.error_count, second.line_count),
        (9, 3, 8)
    );
    assert_eq!(second.started_at, Timestamp::parse("2026-01-01T00:00:00Z"));
    assert_eq!(second.ended_at, Timestamp::parse("2026-01-01T00:00:08Z"));

    let state = s
        .session_source(&st, "/tmp/a.jsonl")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (state.consumed_bytes, state.next_seq, state.next_line),
        (900, 9, 9)
    );
    assert_eq!(state.consumed_hash.as_deref(), Some("hash-900"));
    assert!(
        s.session_source(&st, "/tmp/other.jsonl")
            .await
            .unwrap()
            .is_none()
    );

    let back = s.session_events(&session.id, -1, 100).await.unwrap();
    let mut want = events(0, 9);
    for e in &mut want {
        // PostgreSQL text holds no NUL: both backends store U+FFFD instead.
        e.text = e.text.take().map(|t| t.replace('\0', "\u{FFFD}"));
    }
    assert_eq!(back, want, "events round-trip exactly");
    let page = s.session_events(&session.id, 4, 2).await.unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![5, 6]);
    let lines = s.session_lines(&session.id, 3, 3).await.unwrap();
    assert_eq!(
        lines,
        vec![
            (3, "{\"line\":3}".into()),
            (4, "{\"line\":4}".into()),
            (5, "{\"line\":5}".into())
        ]
    );
    let listed = s.list_sessions(&st, None, None).await.unwrap();
    assert_eq!(listed.data.len(), 1);
    assert_eq!(
        serde_json::to_value(&listed.data[0]).unwrap()["type"],
        "session"
    );
}

async fn stale_batches_are_refused(s: Arc<dyn Store>) {
    let st = new_store(&*s, "stale").await;
    let session = s
        .create_session(NewSession {
            store_id: st,
            source_format: SourceFormat::CodexCli,
            source_path: None,
            outcome: None,
        })
        .await
        .unwrap();
    s.append_to_session(&session.id, &batch((0, 0), 1..2, events(0, 1), 10))
        .await
        .unwrap();
    // A second ingest that read from the same starting point loses.
    let err = s
        .append_to_session(&session.id, &batch((0, 0), 1..2, events(0, 1), 10))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), ErrorType::Conflict);
    assert!(
        err.to_string().contains("extended by another ingest"),
        "{err}"
    );
    // A batch whose events are numbered wrong is refused whole.
    let err = s
        .append_to_session(&session.id, &batch((10, 1), 2..3, events(5, 1), 20))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("expected 1"), "{err}");
    let now = s.get_session(&session.id).await.unwrap();
    assert_eq!(
        (now.event_count, now.line_count),
        (1, 1),
        "nothing of the refused batches was written"
    );
}

async fn reset_and_outcome(s: Arc<dyn Store>) {
    let st = new_store(&*s, "reset").await;
    let outcome = Outcome {
        status: OutcomeStatus::Failure,
        score: Some(0.25),
        note: Some("tests failed".into()),
    };
    let session = s
        .create_session(NewSession {
            store_id: st.clone(),
            source_format: SourceFormat::PlainText,
            source_path: Some("/t.txt".into()),
            outcome: Some(outcome.clone()),
        })
        .await
        .unwrap();
    assert_eq!(session.outcome, Some(outcome));
    s.append_to_session(&session.id, &batch((0, 0), 1..3, events(0, 4), 50))
        .await
        .unwrap();
    let reset = s.reset_session(&session.id).await.unwrap();
    assert_eq!(
        (reset.event_count, reset.line_count, reset.project.clone()),
        (0, 0, None)
    );
    assert!(
        s.session_events(&session.id, -1, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let state = s.session_source(&st, "/t.txt").await.unwrap().unwrap();
    assert_eq!((state.consumed_bytes, state.next_seq), (0, 0));

    let good = Outcome {
        status: OutcomeStatus::Success,
        score: None,
        note: None,
    };
    assert_eq!(
        s.set_session_outcome(&session.id, Some(good.clone()))
            .await
            .unwrap()
            .outcome,
        Some(good)
    );
    assert_eq!(
        s.set_session_outcome(&session.id, None)
            .await
            .unwrap()
            .outcome,
        None
    );
    let bad = Outcome {
        status: OutcomeStatus::Partial,
        score: Some(2.0),
        note: None,
    };
    assert_eq!(
        s.set_session_outcome(&session.id, Some(bad))
            .await
            .unwrap_err()
            .error_type(),
        ErrorType::InvalidRequest
    );
    assert_eq!(
        s.get_session("sesn_01Missing")
            .await
            .unwrap_err()
            .error_type(),
        ErrorType::NotFound
    );
    assert_eq!(
        s.get_session("mem_01Wrong").await.unwrap_err().error_type(),
        ErrorType::InvalidRequest
    );
    assert_eq!(
        s.session_events("sesn_01Missing", -1, 10)
            .await
            .unwrap_err()
            .error_type(),
        ErrorType::NotFound
    );
}

async fn sessions_belong_to_their_store(s: Arc<dyn Store>) {
    let st = new_store(&*s, "owner").await;
    let session = s
        .create_session(NewSession {
            store_id: st.clone(),
            source_format: SourceFormat::ClaudeCode,
            source_path: Some("/x".into()),
            outcome: None,
        })
        .await
        .unwrap();
    // The same file in another store is another session.
    let other = new_store(&*s, "other").await;
    s.create_session(NewSession {
        store_id: other.clone(),
        source_format: SourceFormat::ClaudeCode,
        source_path: Some("/x".into()),
        outcome: None,
    })
    .await
    .unwrap();
    s.archive_store(&other).await.unwrap();
    let err = s
        .create_session(NewSession {
            store_id: other,
            source_format: SourceFormat::ClaudeCode,
            source_path: Some("/y".into()),
            outcome: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), ErrorType::Conflict);
    s.delete_store(&st).await.unwrap();
    assert_eq!(
        s.get_session(&session.id).await.unwrap_err().error_type(),
        ErrorType::NotFound,
        "sessions go with their store"
    );
}

/// `store_events`: the events of some kinds across all of a store's sessions, by session and
/// then in order, over more than one page of the backend's reads; nothing of another store.
async fn a_stores_events_by_kind(s: Arc<dyn Store>) {
    let st = new_store(&*s, "by-kind").await;
    let other = new_store(&*s, "other").await;
    let mut made = Vec::new();
    for (store, path, n) in [
        (&st, "/tmp/a.jsonl", 9),
        (&st, "/tmp/b.jsonl", 5_010),
        (&other, "/tmp/c.jsonl", 9),
    ] {
        let session = s
            .create_session(NewSession {
                store_id: store.clone(),
                source_format: SourceFormat::ClaudeCode,
                source_path: Some(path.into()),
                outcome: None,
            })
            .await
            .unwrap();
        s.append_to_session(&session.id, &batch((0, 0), 1..2, events(0, n), 10))
            .await
            .unwrap();
        made.push((store.clone(), session.id, n));
    }
    let calls = s
        .store_events(&st, &[EventKind::ToolUse, EventKind::ToolResult])
        .await
        .unwrap();
    let mut want: Vec<(String, i64)> = made
        .iter()
        .filter(|(store, _, _)| *store == st)
        .flat_map(|(_, id, n)| {
            (0..*n)
                .filter(|seq| seq % 3 != 0)
                .map(|seq| (id.clone(), seq))
        })
        .collect();
    want.sort();
    let got: Vec<(String, i64)> = calls.iter().map(|(id, e)| (id.clone(), e.seq)).collect();
    assert_eq!(got.len(), 6 + 3_340);
    assert_eq!(got, want, "by session, then in order, across pages");
    assert!(
        calls
            .iter()
            .all(|(_, e)| matches!(e.kind, EventKind::ToolUse | EventKind::ToolResult))
    );
    // Read back whole: a tool call keeps its input, a result its text and error flag.
    let (_, use_event) = &calls[0];
    assert_eq!(use_event.tool_name.as_deref(), Some("Bash"));
    assert!(use_event.tool_input.is_some());
    let (_, result) = &calls[1];
    assert!(result.is_error);

    let users = s.store_events(&st, &[EventKind::User]).await.unwrap();
    assert_eq!(users.len(), 3 + 1_670);
    assert!(s.store_events(&st, &[]).await.unwrap().is_empty());
    for kinds in [&[EventKind::User][..], &[]] {
        assert_eq!(
            s.store_events("memstore_011c7Kj6IqkH81QNqo4s4dhR", kinds)
                .await
                .unwrap_err()
                .error_type(),
            ErrorType::NotFound
        );
    }
    assert_eq!(
        s.store_events("not a store", &[EventKind::User])
            .await
            .unwrap_err()
            .error_type(),
        ErrorType::InvalidRequest
    );
}

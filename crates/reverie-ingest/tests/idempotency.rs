//! Ingest is idempotent: the same file again changes nothing; a transcript that grew adds only
//! its new events; a file rewritten in place is refused unless `--replace`; JSON documents that
//! gained messages add only those. Outcomes can be set at ingest.

mod common;

use std::io::Write;

use common::Fresh;
use reverie_core::session::{Outcome, OutcomeStatus, SourceFormat};
use reverie_ingest::{FileStatus, Options};
use serde_json::json;

on_both_backends!(
    jsonl_growth_and_rewrites,
    documents_that_grow,
    outcomes_at_ingest,
    small_batches_make_one_session
);

fn line(i: usize) -> String {
    json!({"type": "user", "uuid": format!("u{i}"), "sessionId": "s", "timestamp": "2026-02-01T10:00:00Z",
           "message": {"role": "user", "content": format!("message {i}")}})
    .to_string()
}

fn lines(range: std::ops::Range<usize>) -> String {
    range.map(|i| line(i) + "\n").collect()
}

async fn jsonl_growth_and_rewrites(f: Fresh) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.jsonl");
    let p = path.to_str().unwrap();
    std::fs::write(&path, lines(0..10)).unwrap();
    let first = f.ingest(&[p], Options::default()).await;
    assert_eq!(
        (first.files[0].status, first.events_added),
        (FileStatus::Created, 10)
    );
    let id = first.files[0].session_id.clone().unwrap();

    let same = f.ingest(&[p], Options::default()).await;
    assert_eq!(
        (same.files[0].status, same.events_added, same.bytes_read),
        (FileStatus::Unchanged, 0, 0)
    );

    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(lines(10..15).as_bytes())
        .unwrap();
    let grown = f.ingest(&[p], Options::default()).await;
    assert_eq!(
        (grown.files[0].status, grown.events_added),
        (FileStatus::Appended, 5)
    );
    let events = f.events(&id).await;
    assert_eq!(events.len(), 15);
    assert!(
        events
            .iter()
            .enumerate()
            .all(|(i, e)| e.seq == i as i64
                && e.text.as_deref() == Some(&format!("message {i}")[..]))
    );
    let stored_lines: Vec<i64> = f.lines(&id).await.into_iter().map(|(l, _)| l).collect();
    assert_eq!(
        stored_lines,
        (1..=15).collect::<Vec<_>>(),
        "no line is stored twice"
    );

    // Rewritten in place (same length, different content): refused, nothing changes.
    let mut body = lines(0..15);
    body = body.replacen("message 3", "message X", 1);
    std::fs::write(&path, &body).unwrap();
    let rewritten = f.ingest(&[p], Options::default()).await;
    let r = &rewritten.files[0];
    assert_eq!(r.status, FileStatus::Failed);
    assert!(
        r.error
            .as_deref()
            .unwrap()
            .contains("rewritten, not appended (ingest it again with --replace)"),
        "{r:?}"
    );
    assert_eq!(f.events(&id).await.len(), 15);
    // Shrunk: refused too.
    std::fs::write(&path, lines(0..3)).unwrap();
    let shrunk = f.ingest(&[p], Options::default()).await;
    assert!(
        shrunk.files[0]
            .error
            .as_deref()
            .unwrap()
            .contains("less than the"),
        "{:?}",
        shrunk.files[0]
    );
    // --replace ingests it again from scratch, same session.
    let replaced = f
        .ingest(
            &[p],
            Options {
                replace: true,
                ..Options::default()
            },
        )
        .await;
    assert_eq!(
        (replaced.files[0].status, replaced.events_added),
        (FileStatus::Replaced, 3)
    );
    assert_eq!(replaced.files[0].session_id.as_deref(), Some(id.as_str()));
    assert_eq!(f.events(&id).await.len(), 3);
}

async fn documents_that_grow(f: Fresh) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat.json");
    let p = path.to_str().unwrap();
    let mut messages = vec![
        json!({"role": "user", "content": "hello"}),
        json!({"role": "assistant", "content": "hi"}),
    ];
    std::fs::write(
        &path,
        json!({"model": "claude-sonnet-4-5", "messages": messages}).to_string(),
    )
    .unwrap();
    let first = f.ingest(&[p], Options::default()).await;
    assert_eq!(
        (first.files[0].format, first.events_added),
        (Some(SourceFormat::AnthropicMessages), 2)
    );
    let id = first.files[0].session_id.clone().unwrap();
    assert_eq!(
        f.ingest(&[p], Options::default()).await.files[0].status,
        FileStatus::Unchanged
    );

    messages.push(json!({"role": "user", "content": "and again"}));
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&json!({"model": "claude-sonnet-4-5", "messages": messages}))
            .unwrap(),
    )
    .unwrap();
    let grown = f.ingest(&[p], Options::default()).await;
    assert_eq!(
        (grown.files[0].status, grown.events_added),
        (FileStatus::Appended, 1),
        "{:?}",
        grown.files[0]
    );
    let texts: Vec<String> = f
        .events(&id)
        .await
        .into_iter()
        .filter_map(|e| e.text)
        .collect();
    assert_eq!(texts, ["hello", "hi", "and again"]);

    messages[0] = json!({"role": "user", "content": "HELLO"});
    std::fs::write(&path, json!({"messages": messages}).to_string()).unwrap();
    let changed = f.ingest(&[p], Options::default()).await;
    assert!(
        changed.files[0]
            .error
            .as_deref()
            .unwrap()
            .contains("beyond adding messages at the end"),
        "{:?}",
        changed.files[0]
    );

    // Plain text, and OpenAI chat, detected from content whatever the name says.
    let text = dir.path().join("notes.json");
    std::fs::write(
        &text,
        "User: remember that the staging DB is on port 5433\nAssistant: Noted.\n",
    )
    .unwrap();
    let oa = dir.path().join("chat.txt");
    std::fs::write(&oa, json!({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": null,
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}]}).to_string()).unwrap();
    let report = f
        .ingest(
            &[text.to_str().unwrap(), oa.to_str().unwrap()],
            Options::default(),
        )
        .await;
    assert_eq!(report.files[0].format, Some(SourceFormat::PlainText));
    assert_eq!(report.files[1].format, Some(SourceFormat::OpenaiChat));
}

async fn outcomes_at_ingest(f: Fresh) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.jsonl");
    std::fs::write(&path, lines(0..2)).unwrap();
    let outcome = Outcome {
        status: OutcomeStatus::Partial,
        score: Some(0.5),
        note: Some("half the tests pass".into()),
    };
    let report = f
        .ingest(
            &[path.to_str().unwrap()],
            Options {
                outcome: Some(outcome.clone()),
                ..Options::default()
            },
        )
        .await;
    let s = f
        .store
        .get_session(report.files[0].session_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(s.outcome, Some(outcome));
    assert_eq!(
        s.started_at,
        reverie_core::Timestamp::parse("2026-02-01T10:00:00Z")
    );
}

async fn small_batches_make_one_session(f: Fresh) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.jsonl");
    std::fs::write(&path, lines(0..95)).unwrap();
    let limits = reverie_ingest::read::Limits {
        batch_events: 10,
        ..Default::default()
    };
    let report = f
        .ingest(
            &[path.to_str().unwrap()],
            Options {
                limits,
                ..Options::default()
            },
        )
        .await;
    assert_eq!(report.events_added, 95);
    let id = report.files[0].session_id.clone().unwrap();
    let s = f.store.get_session(&id).await.unwrap();
    assert_eq!((s.event_count, s.line_count), (95, 95));
    let state = f
        .store
        .session_source(
            &f.store_id,
            &std::fs::canonicalize(&path).unwrap().display().to_string(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        state.consumed_bytes as u64,
        std::fs::metadata(&path).unwrap().len()
    );
}

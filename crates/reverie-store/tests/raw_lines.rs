//! A session's raw lines, compressed in blocks, on SQLite and PostgreSQL: paged back exactly
//! across blocks and batches, merged with the uncompressed rows an earlier version wrote, a
//! batch that would store a line twice refused with nothing written, and a damaged block
//! reported by name instead of guessed at.

mod common;

use reverie_core::ErrorType;
use reverie_core::session::{SessionMeta, SourceFormat};
use reverie_store::{NewSession, SessionBatch, Store};

/// Line `n` of the test's transcript: JSON of varied length, non-ASCII included.
fn text(n: i64) -> String {
    format!(
        r#"{{"type":"assistant","n":{n},"text":"{}"}}"#,
        "données ".repeat((n as usize * 37) % 500)
    )
}

fn batch(consumed: i64, lines: Vec<i64>, next_line: i64) -> SessionBatch {
    SessionBatch {
        expect_consumed: consumed,
        expect_seq: 0,
        lines: lines
            .into_iter()
            .map(|n| (n, text(n)))
            .collect::<Vec<_>>()
            .into(),
        events: Vec::new(),
        consumed_bytes: consumed + 1,
        consumed_hash: None,
        next_line,
        meta: SessionMeta::default(),
    }
}

async fn session(s: &dyn Store) -> String {
    let store_id = common::new_store(s, "raw").await;
    s.create_session(NewSession {
        store_id,
        source_format: SourceFormat::ClaudeCode,
        source_path: Some("/tmp/raw.jsonl".into()),
        outcome: None,
    })
    .await
    .unwrap()
    .id
}

/// Every line from `from`, paged `limit` at a time as `sessions show --raw` does.
async fn all_lines(s: &dyn Store, id: &str, from: i64, limit: i64) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut at = from;
    loop {
        let page = s.session_lines(id, at, limit).await.unwrap();
        assert!(page.len() as i64 <= limit);
        let Some(last) = page.last().map(|l| l.0) else {
            return out;
        };
        out.extend(page);
        at = last + 1;
    }
}

async fn lines_page_back_exactly(fresh: common::Fresh) {
    let s = &*fresh.store;
    let id = session(s).await;
    // Two batches, with gaps where lines were blank or skipped, of ~1.5 MB in all: a dozen blocks.
    let first: Vec<i64> = (1..=1500).filter(|n| n % 11 != 0).collect();
    let second: Vec<i64> = (1502..=3000).filter(|n| n % 13 != 0).collect();
    s.append_to_session(&id, &batch(0, first.clone(), 1501))
        .await
        .unwrap();
    s.append_to_session(&id, &batch(1, second.clone(), 3001))
        .await
        .unwrap();
    let want: Vec<(i64, String)> = first.iter().chain(&second).map(|&n| (n, text(n))).collect();
    for limit in [1, 7, 1000, 10_000] {
        assert_eq!(all_lines(s, &id, 1, limit).await, want, "pages of {limit}");
    }
    // From the middle of a block, from a gap, and past the end.
    let from_gap = s.session_lines(&id, 11, 2).await.unwrap();
    assert_eq!(from_gap, vec![(12, text(12)), (13, text(13))]);
    let middle = s.session_lines(&id, 2000, 3).await.unwrap();
    assert_eq!(
        middle.iter().map(|l| l.0).collect::<Vec<_>>(),
        vec![2000, 2001, 2003] // 2002 is a gap
    );
    assert!(s.session_lines(&id, 3001, 10).await.unwrap().is_empty());

    // A batch that would store a line again is refused, and nothing of it is written.
    let again = s
        .append_to_session(&id, &batch(2, vec![2999, 3001], 3002))
        .await
        .unwrap_err();
    assert_eq!(again.error_type(), ErrorType::InvalidRequest, "{again}");
    assert!(again.to_string().contains("line 2999"), "{again}");
    assert_eq!(all_lines(s, &id, 1, 10_000).await, want);

    // Lines out of order within a batch are refused too.
    let unordered = s
        .append_to_session(&id, &batch(2, vec![3005, 3004], 3006))
        .await
        .unwrap_err();
    assert_eq!(unordered.error_type(), ErrorType::InvalidRequest);

    // Reset leaves no block behind.
    s.reset_session(&id).await.unwrap();
    assert!(s.session_lines(&id, 1, 10).await.unwrap().is_empty());
}

/// A session begun by a version that stored one uncompressed row per line, then appended to by
/// this one: reads give both, in line order.
async fn rows_written_before_blocks_are_read_with_them(fresh: common::Fresh) {
    let s = &*fresh.store;
    let id = session(s).await;
    common::sql(
        &fresh.url,
        &[
            "INSERT INTO session_lines (session_id, line, raw) SELECT id, 1, 'old one' FROM sessions",
            "INSERT INTO session_lines (session_id, line, raw) SELECT id, 3, 'old three' FROM sessions",
            "UPDATE sessions SET next_line = 4, line_count = 2",
        ],
    )
    .await;
    s.append_to_session(&id, &batch(0, vec![4, 5, 7], 8))
        .await
        .unwrap();
    let want = vec![
        (1, "old one".to_string()),
        (3, "old three".to_string()),
        (4, text(4)),
        (5, text(5)),
        (7, text(7)),
    ];
    assert_eq!(all_lines(s, &id, 1, 10_000).await, want);
    assert_eq!(all_lines(s, &id, 1, 2).await, want);
    assert_eq!(s.session_lines(&id, 2, 2).await.unwrap(), want[1..3]);
    s.reset_session(&id).await.unwrap();
    assert!(s.session_lines(&id, 1, 10).await.unwrap().is_empty());
}

/// A block whose bytes were damaged on disk, or written by a later version's codec, is
/// reported with the session and the lines it held; nothing panics, and the session's other
/// reads still work.
async fn a_damaged_block_is_reported_not_guessed_at(fresh: common::Fresh) {
    let s = &*fresh.store;
    let id = session(s).await;
    s.append_to_session(&id, &batch(0, (1..=40).collect(), 41))
        .await
        .unwrap();
    assert_eq!(s.session_lines(&id, 1, 100).await.unwrap().len(), 40);
    common::sql(
        &fresh.url,
        &["UPDATE session_line_blocks SET codec = 'zstd-9'"],
    )
    .await;
    let e = s.session_lines(&id, 5, 10).await.unwrap_err();
    assert_eq!(e.error_type(), ErrorType::Api, "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains(&id) && msg.contains("1 to 40") && msg.contains("zstd-9"),
        "{msg}"
    );
    common::sql(
        &fresh.url,
        &["UPDATE session_line_blocks SET codec = 'zstd-1', raw_bytes = raw_bytes + 1"],
    )
    .await;
    let e = s.session_lines(&id, 1, 10).await.unwrap_err();
    assert!(e.to_string().contains("cannot be read"), "{e}");
    assert_eq!(s.session_events(&id, -1, 10).await.unwrap().len(), 0);
    assert_eq!(s.get_session(&id).await.unwrap().line_count, 40);
}

/// A session created with its first batch (`start_session`): one transaction, so a refusal
/// of the store, the source or the batch leaves no session and no line behind.
async fn a_session_starts_with_its_first_batch(fresh: common::Fresh) {
    let s = &*fresh.store;
    let store_id = common::new_store(s, "start").await;
    let new = |path: &str| NewSession {
        store_id: store_id.clone(),
        source_format: SourceFormat::ClaudeCode,
        source_path: Some(path.into()),
        outcome: None,
    };
    let started = s
        .start_session(new("/tmp/a.jsonl"), &batch(0, vec![1, 2, 4], 5))
        .await
        .unwrap();
    assert_eq!((started.line_count, started.event_count), (3, 0));
    assert_eq!(
        all_lines(s, &started.id, 1, 100).await,
        vec![(1, text(1)), (2, text(2)), (4, text(4))]
    );
    let state = s
        .session_source(&store_id, "/tmp/a.jsonl")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            state.session_id.as_str(),
            state.consumed_bytes,
            state.next_line
        ),
        (started.id.as_str(), 1, 5)
    );

    let twice = s
        .start_session(new("/tmp/a.jsonl"), &batch(0, vec![1], 2))
        .await
        .unwrap_err();
    assert_eq!(twice.error_type(), ErrorType::Conflict, "{twice}");
    assert!(twice.to_string().contains("already ingested"), "{twice}");

    // A batch read from another cursor, or with its lines out of order: no session is left.
    let mut stale = batch(0, vec![1], 2);
    stale.expect_consumed = 7;
    let e = s
        .start_session(new("/tmp/b.jsonl"), &stale)
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), ErrorType::Conflict, "{e}");
    let e = s
        .start_session(new("/tmp/b.jsonl"), &batch(0, vec![3, 2], 4))
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), ErrorType::InvalidRequest, "{e}");
    assert!(
        s.session_source(&store_id, "/tmp/b.jsonl")
            .await
            .unwrap()
            .is_none()
    );

    let mut elsewhere = new("/tmp/c.jsonl");
    elsewhere.store_id = "memstore_0000000000000000000000".into();
    let e = s
        .start_session(elsewhere, &batch(0, vec![1], 2))
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), ErrorType::NotFound, "{e}");
    s.archive_store(&store_id).await.unwrap();
    let e = s
        .start_session(new("/tmp/d.jsonl"), &batch(0, vec![1], 2))
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), ErrorType::Conflict, "{e}");
    assert!(e.to_string().contains("archived"), "{e}");
    let listed = s.list_sessions(&store_id, None, None).await.unwrap();
    assert_eq!(listed.data.len(), 1, "only the first session exists");
}

macro_rules! both {
    ($($name:ident),+) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    super::$name(super::common::sqlite().await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    super::$name(super::common::postgres().await).await;
                }
            }
        )+
    };
}

both!(
    lines_page_back_exactly,
    a_session_starts_with_its_first_batch,
    rows_written_before_blocks_are_read_with_them,
    a_damaged_block_is_reported_not_guessed_at
);

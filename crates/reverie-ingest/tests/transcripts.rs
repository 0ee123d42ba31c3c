//! Every file in `../shared/data/transcripts` parses, and the events of each Claude Code file
//! agree with the counts its SOURCES.md table gives (computed independently of reverie):
//! non-empty lines, tool_use blocks, tool_result blocks, error results, sidechain lines,
//! summary lines and compaction boundaries. Queued messages and harness-injected (`isMeta`)
//! user lines are checked against their raw lines.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Fresh, data};
use reverie_core::session::{EventKind, SourceFormat};
use reverie_ingest::{FileStatus, Options};

on_both_backends!(every_transcript_parses_with_the_counts_of_sources_md);

/// SOURCES.md's Claude Code table: file name -> column -> value.
fn sources_table() -> BTreeMap<String, BTreeMap<String, String>> {
    let text = std::fs::read_to_string(data("transcripts/SOURCES.md")).unwrap();
    let section = text
        .split("## Claude Code")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    let mut rows = section.lines().filter(|l| l.starts_with('|'));
    let header: Vec<String> = rows
        .next()
        .unwrap()
        .split('|')
        .map(|c| c.trim().to_string())
        .collect();
    rows.next(); // the |---| line
    rows.map(|row| {
        let cells: Vec<String> = row.split('|').map(|c| c.trim().to_string()).collect();
        let map: BTreeMap<String, String> = header.iter().cloned().zip(cells).collect();
        (map["file"].clone(), map)
    })
    .collect()
}

async fn every_transcript_parses_with_the_counts_of_sources_md(f: Fresh) {
    let folder = data("transcripts");
    let report = f
        .ingest(&[folder.to_str().unwrap()], Options::default())
        .await;
    assert_eq!(
        report.failed,
        0,
        "{:#?}",
        report
            .files
            .iter()
            .filter(|f| f.error.is_some())
            .collect::<Vec<_>>()
    );
    for file in &report.files {
        assert!(
            file.skipped_lines.is_empty(),
            "{}: {:?}",
            file.path,
            file.skipped_lines
        );
        match file.status {
            FileStatus::Created => {}
            // The folder's notes (SOURCES.md, GOLD.md) and the curation benchmark's answer key
            // (gold.json) are not transcripts; every transcript must be ingested.
            FileStatus::Skipped => assert!(
                !file.path.ends_with(".jsonl") && !file.path.contains("/other/"),
                "{} skipped: {:?}",
                file.path,
                file.warnings
            ),
            other => panic!("{}: {other:?}", file.path),
        }
    }

    let table = sources_table();
    let (mut queued, mut meta) = (0, 0);
    assert!(
        table.len() >= 30,
        "SOURCES.md lists {} Claude Code files",
        table.len()
    );
    let by_name: BTreeMap<String, &reverie_ingest::FileReport> = report
        .files
        .iter()
        .map(|r| {
            (
                std::path::Path::new(&r.path)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .to_string(),
                r,
            )
        })
        .collect();
    for (name, cols) in &table {
        let file = by_name
            .get(name)
            .unwrap_or_else(|| panic!("{name} was not ingested"));
        assert_eq!(file.format, Some(SourceFormat::ClaudeCode), "{name}");
        let id = file.session_id.as_deref().unwrap();
        let session = f.store.get_session(id).await.unwrap();
        let events = f.events(id).await;
        let count = |pred: &dyn Fn(&reverie_core::session::Event) -> bool| {
            events.iter().filter(|e| pred(e)).count().to_string()
        };
        let sidechain_lines: BTreeSet<i64> = events
            .iter()
            .filter(|e| e.sidechain)
            .filter_map(|e| e.line)
            .collect();
        let checks = [
            ("lines", session.line_count.to_string()),
            ("tool_use", count(&|e| e.kind == EventKind::ToolUse)),
            ("tool_result", count(&|e| e.kind == EventKind::ToolResult)),
            (
                "err",
                count(&|e| e.kind == EventKind::ToolResult && e.is_error),
            ),
            ("err", session.error_count.to_string()),
            ("sidechain", sidechain_lines.len().to_string()),
            (
                "summary lines",
                count(&|e| e.kind == EventKind::Summary && e.subtype.is_none()),
            ),
            (
                "compact_boundary",
                count(&|e| e.kind == EventKind::Compaction),
            ),
        ];
        for (col, got) in checks {
            assert_eq!(&got, &cols[col], "{name}: column {col:?}");
        }
        // Every event's line is a stored raw line.
        let raw = f.lines(id).await;
        let lines: BTreeSet<i64> = raw.iter().map(|(l, _)| *l).collect();
        assert!(
            events
                .iter()
                .all(|e| e.line.is_some_and(|l| lines.contains(&l))),
            "{name}"
        );
        let (q, m) = queued_and_meta(name, &raw, &events);
        queued += q;
        meta += m;
    }
    assert!(
        queued > 0 && meta > 0,
        "{queued} queued, {meta} meta events"
    );
    // A message typed while the agent worked and then dropped from the queue: the enqueue
    // line is its only record.
    let file = by_name["obsessiondb__chkit__2c_116c8bd5b9_0_full.jsonl"];
    let events = f.events(file.session_id.as_deref().unwrap()).await;
    let at = |line: i64| -> Vec<_> {
        events
            .iter()
            .filter(|e| e.line == Some(line))
            .map(|e| (e.kind, e.subtype.clone(), e.text.clone()))
            .collect()
    };
    assert_eq!(
        at(135),
        [(
            EventKind::User,
            Some("queued".to_string()),
            Some("its the chx project and the CI config".to_string())
        )]
    );
    assert_eq!(
        at(137),
        [(EventKind::Other, Some("queue-operation".to_string()), None)]
    );

    // The other formats in other/: Codex rollouts and the Claude Code web session document.
    let other: Vec<_> = report
        .files
        .iter()
        .filter(|r| r.path.contains("/other/"))
        .collect();
    assert_eq!(other.len(), 5);
    for r in other {
        let want = if r.path.ends_with(".json") {
            SourceFormat::ClaudeCode
        } else {
            SourceFormat::CodexCli
        };
        assert_eq!(r.format, Some(want), "{}", r.path);
        assert!(r.events_added > 0, "{}", r.path);
    }

    // Ingesting again changes nothing.
    let again = f
        .ingest(&[folder.to_str().unwrap()], Options::default())
        .await;
    assert_eq!(again.unchanged, report.sessions_created);
    assert_eq!(again.events_added, 0);
}

/// Checks the events of `queue-operation` and `isMeta` lines against their raw lines, and
/// returns how many queued and meta events the file has.
///
/// An enqueue with string content is one `user` event `queued` holding the content; every other
/// queue line is one `other` event. The text events of a user line with `isMeta` are `meta`,
/// its tool results are not, and no other line has a `meta` event.
fn queued_and_meta(
    name: &str,
    raw: &[(i64, String)],
    events: &[reverie_core::session::Event],
) -> (usize, usize) {
    let (mut queued, mut meta) = (0, 0);
    for (line, text) in raw {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
            continue;
        };
        let of_line: Vec<_> = events.iter().filter(|e| e.line == Some(*line)).collect();
        let at = format!("{name}:{line}");
        match v["type"].as_str() {
            Some("queue-operation") => {
                assert_eq!(of_line.len(), 1, "{at}");
                let e = of_line[0];
                match (v["operation"].as_str(), v["content"].as_str()) {
                    (Some("enqueue"), Some(content)) => {
                        assert_eq!(
                            (e.kind, e.subtype.as_deref(), e.text.as_deref()),
                            (EventKind::User, Some("queued"), Some(content)),
                            "{at}"
                        );
                        queued += 1;
                    }
                    _ => assert_eq!(
                        (e.kind, e.subtype.as_deref(), e.text.as_deref()),
                        (EventKind::Other, Some("queue-operation"), None),
                        "{at}"
                    ),
                }
            }
            Some("user") if v["isMeta"] == true && v["isCompactSummary"] != true => {
                assert!(!of_line.is_empty(), "{at}");
                for e in of_line {
                    match e.kind {
                        EventKind::User => {
                            assert_eq!(e.subtype.as_deref(), Some("meta"), "{at}");
                            meta += 1;
                        }
                        EventKind::ToolResult => assert_eq!(e.subtype, None, "{at}"),
                        _ => {}
                    }
                }
            }
            _ => assert!(
                of_line
                    .iter()
                    .all(|e| !matches!(e.subtype.as_deref(), Some("meta" | "queued"))),
                "{at}"
            ),
        }
    }
    (queued, meta)
}

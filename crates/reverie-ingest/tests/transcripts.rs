//! Every file in `../shared/data/transcripts` parses, and the events of each Claude Code file
//! agree with the counts its SOURCES.md table gives (computed independently of reverie):
//! non-empty lines, tool_use blocks, tool_result blocks, error results, sidechain lines,
//! summary lines and compaction boundaries.

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
            FileStatus::Skipped => {
                assert!(file.path.ends_with("SOURCES.md"), "{} skipped", file.path)
            }
            other => panic!("{}: {other:?}", file.path),
        }
    }

    let table = sources_table();
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
        let lines: BTreeSet<i64> = f.lines(id).await.into_iter().map(|(l, _)| l).collect();
        assert!(
            events
                .iter()
                .all(|e| e.line.is_some_and(|l| lines.contains(&l))),
            "{name}"
        );
    }

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

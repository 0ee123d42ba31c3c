//! Bad input: each kind of broken or foreign file gets a warning or an error naming the file
//! and the line, never a panic, and the good lines of a file are kept.

mod common;

use std::io::Write;

use common::Fresh;
use reverie_core::session::EventKind;
use reverie_ingest::{FileReport, FileStatus, Options};

on_both_backends!(
    damaged_lines_are_named_and_the_rest_kept,
    foreign_and_empty_files,
    a_fifty_megabyte_line,
    a_folder_of_ten_thousand_files
);

fn user_line(uuid: &str, text: &str) -> String {
    serde_json::json!({"type": "user", "uuid": uuid, "sessionId": "s", "message": {"role": "user", "content": text}}).to_string()
}

fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

fn only(report: &reverie_ingest::IngestReport) -> &FileReport {
    assert_eq!(report.files.len(), 1, "{report:#?}");
    &report.files[0]
}

async fn damaged_lines_are_named_and_the_rest_kept(f: Fresh) {
    let dir = tempfile::tempdir().unwrap();
    let mut body = Vec::new();
    writeln!(body, "{}", user_line("u1", "first")).unwrap();
    writeln!(body, "{{\"type\": \"user\", \"message\": {{ broken").unwrap(); // line 2: invalid JSON
    body.extend_from_slice(b"{\"type\":\"user\",\"message\":{\"content\":\"caf\xe9\"}}\n"); // line 3: invalid UTF-8
    writeln!(body, "{}", user_line("u4", "fourth")).unwrap();
    writeln!(body).unwrap(); // line 5: blank
    body.extend_from_slice(user_line("u6", "sixth, still being writt").as_bytes()[..40].as_ref()); // truncated, no newline
    let path = write(dir.path(), "damaged.jsonl", &body);

    let report = f.ingest(&[&path], Options::default()).await;
    let file = only(&report);
    assert_eq!(file.status, FileStatus::Created);
    assert_eq!(file.path, path, "the report names the file");
    let skipped: Vec<(i64, &str)> = file
        .skipped_lines
        .iter()
        .map(|s| (s.line, s.reason.as_str()))
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert_eq!(skipped[0].0, 2);
    assert!(
        skipped[0].1.starts_with("invalid JSON:"),
        "{}",
        skipped[0].1
    );
    assert_eq!(skipped[1], (3, "invalid UTF-8 at byte 40 of the line"));
    assert_eq!(file.warnings.len(), 1);
    assert!(
        file.warnings[0].contains("line 6, the last, is incomplete"),
        "{}",
        file.warnings[0]
    );

    let id = file.session_id.clone().unwrap();
    let texts: Vec<String> = f
        .events(&id)
        .await
        .into_iter()
        .filter_map(|e| e.text)
        .collect();
    assert_eq!(texts, ["first", "fourth"], "the good lines are kept");

    // The writer finishes the last line: the next ingest adds it, and only it.
    let mut file_now = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file_now
        .write_all(&user_line("u6", "sixth, still being written").as_bytes()[40..])
        .unwrap();
    file_now.write_all(b"\n").unwrap();
    let again = f.ingest(&[&path], Options::default()).await;
    let again = only(&again);
    assert_eq!(
        (again.status, again.events_added),
        (FileStatus::Appended, 1)
    );
    assert!(
        again.skipped_lines.is_empty() && again.warnings.is_empty(),
        "{again:?}"
    );
    let events = f.events(&id).await;
    assert_eq!(
        events.last().unwrap().text.as_deref(),
        Some("sixth, still being written")
    );
    assert_eq!(events.last().unwrap().line, Some(6));
}

async fn foreign_and_empty_files(f: Fresh) {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.jsonl", b"");
    let blank = write(dir.path(), "blank.jsonl", b"\n\n  \n");
    let png = write(
        dir.path(),
        "image.jsonl",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10",
    );
    let rust = write(
        dir.path(),
        "main.rs",
        b"fn main() {\n    println!(\"hello\");\n}\n",
    );
    let json = write(
        dir.path(),
        "package.json",
        br#"{"name": "x", "version": "1.0.0"}"#,
    );
    let broken_json = write(
        dir.path(),
        "broken.json",
        br#"{"messages": [{"role": "user", "content": "hi"}"#,
    );

    for (path, status, needle) in [
        (&empty, FileStatus::Skipped, "empty file"),
        (&blank, FileStatus::Skipped, "empty file"),
        (
            &png,
            FileStatus::Failed,
            "not a transcript: a binary file (a PNG image, by its first bytes)",
        ),
        (&rust, FileStatus::Failed, "no speaker lines like `User:`"),
        (&json, FileStatus::Failed, "JSON, but no conversation in it"),
        (
            &broken_json,
            FileStatus::Failed,
            "invalid JSON (EOF while parsing",
        ),
    ] {
        let report = f.ingest(&[path], Options::default()).await;
        let file = only(&report);
        assert_eq!(file.status, status, "{path}: {file:?}");
        let said = file
            .error
            .clone()
            .unwrap_or_else(|| file.warnings.join(" "));
        assert!(said.contains(needle), "{path}: {said}");
        assert!(file.session_id.is_none(), "{path}: nothing stored for it");
    }
    // Inside a folder, what is not a transcript is passed over with a warning.
    let good = write(
        dir.path(),
        "good.jsonl",
        format!("{}\n", user_line("u", "hello")).as_bytes(),
    );
    let report = f
        .ingest(&[dir.path().to_str().unwrap()], Options::default())
        .await;
    assert_eq!(
        (report.sessions_created, report.failed),
        (1, 0),
        "{report:#?}"
    );
    assert_eq!(report.skipped_files, 6);
    assert!(
        report
            .files
            .iter()
            .any(|r| r.path == good && r.status == FileStatus::Created)
    );
    // Paths that name nothing.
    let report = f
        .ingest(
            &["/no/such/file.jsonl", "/no/such/*.jsonl"],
            Options::default(),
        )
        .await;
    let errors: Vec<&str> = report
        .files
        .iter()
        .map(|r| r.error.as_deref().unwrap())
        .collect();
    assert_eq!(
        errors,
        ["no such file or folder", "no file matches this pattern"]
    );
    // A store that does not exist is refused before anything is read.
    let err =
        reverie_ingest::Ingest::new(f.store.clone(), "memstore_01Missing", Options::default())
            .run(std::slice::from_ref(&good), &reverie_ingest::Quiet)
            .await
            .unwrap_err();
    assert!(
        err.to_string().contains("memstore_01Missing not found"),
        "{err}"
    );
}

async fn a_fifty_megabyte_line(f: Fresh) {
    let dir = tempfile::tempdir().unwrap();
    let huge = "x".repeat(50 << 20);
    let line = serde_json::json!({"type": "user", "uuid": "big", "message": {"content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": huge}
    ]}});
    let body = format!(
        "{}\n{line}\n{}\n",
        user_line("a", "before"),
        user_line("b", "after")
    );
    drop(huge);
    let path = write(dir.path(), "huge.jsonl", body.as_bytes());
    drop(body);
    let report = f.ingest(&[&path], Options::default()).await;
    let file = only(&report);
    assert_eq!(
        (file.status, file.lines_read, file.events_added),
        (FileStatus::Created, 3, 3),
        "{file:?}"
    );
    let events = f.events(file.session_id.as_deref().unwrap()).await;
    let result = events
        .iter()
        .find(|e| e.kind == EventKind::ToolResult)
        .unwrap();
    let text = result.text.as_deref().unwrap();
    assert!(
        text.len() < 300 * 1024,
        "event text is cut: {} bytes",
        text.len()
    );
    assert!(
        text.ends_with("more bytes in the raw transcript]"),
        "the cut says so"
    );
    assert_eq!(
        events.last().unwrap().text.as_deref(),
        Some("after"),
        "the lines after it are kept"
    );
}

async fn a_folder_of_ten_thousand_files(f: Fresh) {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..10_000 {
        let sub = dir.path().join(format!("p{}", i % 20));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(
            sub.join(format!("s{i:05}.jsonl")),
            format!("{}\n", user_line(&format!("u{i}"), &format!("message {i}"))),
        )
        .unwrap();
    }
    let report = f
        .ingest(&[dir.path().to_str().unwrap()], Options::default())
        .await;
    assert_eq!(
        (report.sessions_created, report.failed, report.events_added),
        (10_000, 0, 10_000)
    );
    let listed = f
        .store
        .list_sessions(&f.store_id, Some(100), None)
        .await
        .unwrap();
    assert_eq!(listed.data.len(), 100);
    let again = f
        .ingest(&[dir.path().to_str().unwrap()], Options::default())
        .await;
    assert_eq!(again.unchanged, 10_000);
}

//! Format detection on valid transcripts written in unusual ways: each file here was refused
//! whole before (as "invalid JSON" or "binary") although its lines are a transcript. Each is
//! built in a temporary folder and ingested end to end; a genuinely binary file is still
//! refused, with an error that names what it is.

mod common;

use common::Fresh;
use reverie_core::session::SourceFormat;
use reverie_ingest::{FileReport, FileStatus, Options};

on_both_backends!(
    a_first_line_longer_than_the_head,
    a_few_invalid_bytes_are_damage_not_binary,
    a_nul_filled_tail,
    an_unknown_first_line_type,
    a_byte_order_mark,
    carriage_return_line_endings,
    binary_files_are_refused_by_name
);

fn user_line(uuid: &str, text: &str) -> String {
    serde_json::json!({"type": "user", "uuid": uuid, "sessionId": "s", "message": {"role": "user", "content": text}}).to_string()
}

/// `n` user lines, each ending in `end`.
fn lines(n: usize, end: &str) -> Vec<u8> {
    (0..n)
        .map(|i| format!("{}{end}", user_line(&format!("u{i}"), &format!("line {i}"))))
        .collect::<String>()
        .into_bytes()
}

async fn ingest_one(f: &Fresh, name: &str, bytes: &[u8]) -> FileReport {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let path = path.display().to_string();
    let mut report = f.ingest(&[&path], Options::default()).await;
    assert_eq!(report.files.len(), 1, "{report:#?}");
    report.files.remove(0)
}

/// The file was read as a Claude Code transcript, its `n` lines all kept.
async fn read_whole(f: &Fresh, file: &FileReport, n: u64) {
    assert_eq!(file.status, FileStatus::Created, "{file:#?}");
    assert_eq!(file.format, Some(SourceFormat::ClaudeCode), "{file:#?}");
    assert_eq!(file.lines_read, n, "{file:#?}");
    assert!(file.skipped_lines.is_empty(), "{file:#?}");
    let events = f.events(file.session_id.as_deref().unwrap()).await;
    assert!(events.len() as u64 >= n, "{} events", events.len());
}

/// A first line of 300 KB, over the 256 KB head: it used to leave no complete line in the head,
/// so the file was read as one JSON document and refused as invalid JSON.
async fn a_first_line_longer_than_the_head(f: Fresh) {
    let long = "x".repeat(300 * 1024);
    let mut body = format!("{}\n", user_line("u0", &long)).into_bytes();
    body.extend(lines(3, "\n"));
    let file = ingest_one(&f, "long.jsonl", &body).await;
    read_whole(&f, &file, 4).await;
    let events = f.events(file.session_id.as_deref().unwrap()).await;
    // the event holds the line's text (cut, as every long text is, with a note)
    let text = events[0].text.as_deref().unwrap_or_default();
    assert!(
        text.starts_with(&long[..200 * 1024]),
        "{} bytes",
        text.len()
    );
}

/// 13 invalid bytes spread over the first 256 KB: the old check called more than 12 "binary".
/// Now the file is text with 13 damaged lines, each reported, and every other line kept.
async fn a_few_invalid_bytes_are_damage_not_binary(f: Fresh) {
    let mut body = Vec::new();
    let mut n = 0;
    while body.len() < 300 * 1024 {
        let mut line = user_line(&format!("u{n}"), &format!("line {n} {}", "y".repeat(100)));
        if n % 100 == 7 && n / 100 < 13 {
            line = line.replacen("yyy", "y\u{1}y", 1); // placeholder, replaced by 0xFF below
        }
        body.extend(line.into_bytes());
        body.push(b'\n');
        n += 1;
    }
    for b in body.iter_mut().filter(|b| **b == 1) {
        *b = 0xff;
    }
    assert_eq!(body.iter().filter(|&&b| b == 0xff).count(), 13);
    let file = ingest_one(&f, "damaged.jsonl", &body).await;
    assert_eq!(file.status, FileStatus::Created, "{file:#?}");
    assert_eq!(file.format, Some(SourceFormat::ClaudeCode));
    assert_eq!(file.skipped_count, 13, "{file:#?}");
    assert!(
        file.skipped_lines
            .iter()
            .all(|s| s.reason.starts_with("invalid UTF-8")),
        "{file:#?}"
    );
    assert_eq!(file.lines_read, n - 13);
}

/// A small transcript followed by 8 KB of NULs (a preallocated file, or a crash mid-write):
/// it was refused for "a NUL byte". Now its lines are read and the tail is left, with a warning.
async fn a_nul_filled_tail(f: Fresh) {
    let mut body = lines(3, "\n");
    let good = body.len() as u64;
    body.extend([0u8; 8192]);
    let file = ingest_one(&f, "tail.jsonl", &body).await;
    read_whole(&f, &file, 3).await;
    assert_eq!(file.bytes_read, good, "the NUL tail is not consumed");
    assert!(
        file.warnings.iter().any(|w| w.contains("NULs")),
        "{file:#?}"
    );
}

/// A first line of a type reverie does not know yet (a newer Claude Code's `custom-title`):
/// detection stopped at the first JSON object it did not recognise and read the file as one
/// document. Now it skips it and decides from the lines it knows, or from the line's shape.
async fn an_unknown_first_line_type(f: Fresh) {
    let mut body =
        br#"{"type":"custom-title","customTitle":"Fix the CI","sessionId":"s"}"#.to_vec();
    body.push(b'\n');
    body.extend(lines(2, "\n"));
    let file = ingest_one(&f, "future.jsonl", &body).await;
    read_whole(&f, &file, 3).await;

    // only lines of unknown types: the shape (`type` with `sessionId`/`uuid`) decides
    let only_unknown = concat!(
        r#"{"type":"custom-title","customTitle":"x","sessionId":"s"}"#,
        "\n",
        r#"{"type":"agent-name","name":"y","uuid":"u1","sessionId":"s"}"#,
        "\n"
    );
    let file = ingest_one(&f, "only-future.jsonl", only_unknown.as_bytes()).await;
    assert_eq!(file.status, FileStatus::Created, "{file:#?}");
    assert_eq!(file.format, Some(SourceFormat::ClaudeCode));
}

/// A UTF-8 byte order mark before the first line: detection saw no `{` and the parser no JSON.
async fn a_byte_order_mark(f: Fresh) {
    let mut body = b"\xef\xbb\xbf".to_vec();
    body.extend(lines(3, "\n"));
    let file = ingest_one(&f, "bom.jsonl", &body).await;
    read_whole(&f, &file, 3).await;
    let events = f.events(file.session_id.as_deref().unwrap()).await;
    assert_eq!(events[0].text.as_deref(), Some("line 0"));
}

/// Lines ended by `\r` alone: the file was one line, and (with a BOM or past the head) refused.
async fn carriage_return_line_endings(f: Fresh) {
    let file = ingest_one(&f, "mac.jsonl", &lines(4, "\r")).await;
    read_whole(&f, &file, 4).await;
    // and `\r\n` still works as before
    let file = ingest_one(&f, "dos.jsonl", &lines(4, "\r\n")).await;
    read_whole(&f, &file, 4).await;
}

/// A PNG with random bytes after its header, and random bytes with no header: refused, and the
/// error says why.
async fn binary_files_are_refused_by_name(f: Fresh) {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut noise = || {
        // xorshift: reproducible bytes with no structure
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u8
    };
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend((0..20_000).map(|_| noise()));
    let file = ingest_one(&f, "image.jsonl", &png).await;
    assert_eq!(file.status, FileStatus::Failed);
    let error = file.error.unwrap_or_default();
    assert!(
        error.contains("not a transcript: a binary file (a PNG image, by its first bytes)"),
        "{error}"
    );

    let random: Vec<u8> = (0..20_000).map(|_| noise()).collect();
    let file = ingest_one(&f, "random.jsonl", &random).await;
    assert_eq!(file.status, FileStatus::Failed);
    let error = file.error.unwrap_or_default();
    assert!(
        error.contains("not a transcript: a binary file (")
            && error.contains("are not text (invalid UTF-8 or control bytes)"),
        "{error}"
    );
}

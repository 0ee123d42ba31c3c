//! Reading one file into batches of events, on a blocking thread.
//!
//! JSON-lines transcripts stream line by line from where the last ingest stopped (the cursor),
//! so a file that grew yields only its new lines, and memory stays bounded whatever the file's
//! size. Documents (JSON or text) are read whole, and a grown document yields only the events
//! past those already stored. Every line or document is redacted before it is parsed, so what
//! is stored — raw lines and events alike — never holds a detected secret.
//!
//! The cursor is checked before reading: a file that no longer starts with the bytes that were
//! read last time (or that shrank) was rewritten, not appended, and is refused rather than
//! guessed at.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;

use reverie_core::session::{Event, SessionMeta, SourceFormat};
use serde_json::Value;

use crate::detect::{Detected, HEAD_BYTES, detect_with, is_blank, line_terminator, strip_bom};
use crate::lines::{Item, LineReader};
use crate::redact::{RedactionCounts, Redactor};
use crate::report::FileReport;
use crate::{claude, codex, messages, text};

/// Batch sizes and the document limit.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Events per batch (one transaction each).
    pub batch_events: usize,
    /// Raw bytes per batch.
    pub batch_bytes: usize,
    /// Largest document (JSON or text) read whole; JSON lines have no limit.
    pub max_document: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            batch_events: 5_000,
            batch_bytes: 8 << 20,
            max_document: 256 << 20,
        }
    }
}

/// One batch for the store.
#[derive(Debug)]
pub struct Chunk {
    pub lines: Vec<(i64, String)>,
    pub events: Vec<Event>,
    pub consumed: u64,
    pub next_line: i64,
    pub fingerprint: String,
    pub meta: SessionMeta,
    pub bytes: u64,
}

/// What the reader tells the writer.
#[derive(Debug)]
pub enum Msg {
    /// The file is a transcript in this format; batches follow.
    Start(SourceFormat),
    Chunk(Chunk),
    /// The end: the file's report (its status is settled by the writer).
    Report(FileReport),
}

/// Where the store says ingest of this file stopped.
#[derive(Debug, Clone)]
pub struct Resume {
    pub format: SourceFormat,
    pub consumed: u64,
    pub fingerprint: Option<String>,
    pub next_line: i64,
    pub next_seq: i64,
}

const DOC_PREFIX: &str = "doc:";

/// A fingerprint of the consumed part of a line file: its length, first 4 KiB and last 64 KiB.
/// Appending never changes it; rewriting what was read almost surely does.
fn fingerprint(file: &File, consumed: u64) -> io::Result<String> {
    let mut h = blake3::Hasher::new();
    h.update(&consumed.to_le_bytes());
    let head = consumed.min(4096) as usize;
    let mut buf = vec![0u8; head];
    file.read_exact_at(&mut buf, 0)?;
    h.update(&buf);
    let tail = consumed.min(65_536) as usize;
    buf.resize(tail, 0);
    file.read_exact_at(&mut buf, consumed - tail as u64)?;
    h.update(&buf);
    Ok(h.finalize().to_hex().to_string())
}

/// A fingerprint of a sequence of events, for documents: a grown document must reproduce the
/// events already stored before it can add more.
fn event_fingerprint(events: &[Event]) -> String {
    let mut h = blake3::Hasher::new();
    for e in events {
        for part in [
            Some(e.kind.as_str()),
            e.text.as_deref(),
            e.tool_name.as_deref(),
            e.tool_use_id.as_deref(),
            e.subtype.as_deref(),
        ] {
            h.update(part.unwrap_or("\u{0}").as_bytes());
            h.update(b"\x1f");
        }
        h.update(
            e.tool_input
                .as_ref()
                .map(Value::to_string)
                .unwrap_or_default()
                .as_bytes(),
        );
        h.update(if e.is_error { b"\x1e1" } else { b"\x1e0" });
    }
    format!("{DOC_PREFIX}{}", h.finalize().to_hex())
}

/// A reader of `File` from an offset, leaving the file's own cursor alone (detection reads the
/// file while `read_inner` still holds its cursor after the head).
struct ReadAt(File, u64);

impl Read for ReadAt {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read_at(buf, self.1)?;
        self.1 += n as u64;
        Ok(n)
    }
}

/// Is `format` one of JSON lines?
fn reads_lines(format: SourceFormat) -> bool {
    matches!(format, SourceFormat::ClaudeCode | SourceFormat::CodexCli)
}

/// One line of a JSON-lines transcript, validated, not yet turned into events.
#[allow(clippy::large_enum_variant)] // one at a time, on the stack
enum Parsed {
    Claude(claude::Line),
    Codex(Value),
}

impl Parsed {
    fn read(format: SourceFormat, text: &str) -> serde_json::Result<Parsed> {
        match format {
            SourceFormat::ClaudeCode => claude::Line::read(text).map(Parsed::Claude),
            _ => serde_json::from_str(text).map(Parsed::Codex),
        }
    }

    fn events(&self, line: i64, meta: &mut SessionMeta) -> Vec<Event> {
        match self {
            Parsed::Claude(l) => l.events(line, meta),
            Parsed::Codex(v) => codex::parse_line(v, line, meta),
        }
    }
}

/// Reads `path` and sends what it holds through `send` (which returns false when the writer
/// gave up). Always ends with a [`Msg::Report`].
pub fn read_file(
    path: &Path,
    display: &str,
    resume: Option<Resume>,
    forced: Option<SourceFormat>,
    limits: &Limits,
    redactor: &Redactor,
    send: &mut dyn FnMut(Msg) -> bool,
) {
    let mut report = FileReport::new(display);
    if let Err(message) = read_inner(path, resume, forced, limits, redactor, send, &mut report) {
        report = report.fail(message);
    }
    send(Msg::Report(report));
}

fn read_inner(
    path: &Path,
    resume: Option<Resume>,
    forced: Option<SourceFormat>,
    limits: &Limits,
    redactor: &Redactor,
    send: &mut dyn FnMut(Msg) -> bool,
    report: &mut FileReport,
) -> Result<(), String> {
    let mut file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let size = file
        .metadata()
        .map_err(|e| format!("cannot read its size: {e}"))?
        .len();
    let mut head = Vec::with_capacity(HEAD_BYTES.min(size as usize));
    (&mut file)
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| format!("cannot read: {e}"))?;
    let complete = head.len() as u64 == size;

    let is_doc_session = resume
        .as_ref()
        .and_then(|r| r.fingerprint.as_deref())
        .is_some_and(|f| f.starts_with(DOC_PREFIX));
    let layout = match &resume {
        Some(r) if r.consumed > 0 && is_doc_session => Detected::Document,
        Some(r) if r.consumed > 0 => Detected::Lines(r.format),
        // lines past the head are read from the file, so that a first line of any length is
        // probed whole
        _ => {
            let source = file.try_clone().map_err(|e| format!("cannot read: {e}"))?;
            let source = BufReader::new(ReadAt(source, 0));
            detect_with(&head, complete, source).map_err(|e| format!("cannot read: {e}"))?
        }
    };
    let term = line_terminator(&head);
    match layout {
        Detected::Empty => {
            report.status = crate::report::FileStatus::Skipped;
            report.warnings.push("empty file: nothing to ingest".into());
            Ok(())
        }
        Detected::Binary(why) => Err(format!("not a transcript: a binary file ({why})")),
        Detected::Lines(detected) => {
            let format = match forced {
                Some(f) if reads_lines(f) => f,
                Some(f) => {
                    return Err(format!(
                        "holds JSON lines ({detected}), which the forced format {f} does not read"
                    ));
                }
                None => resume.as_ref().map_or(detected, |r| r.format),
            };
            read_lines(
                &file, size, format, term, resume, limits, redactor, send, report,
            )
        }
        Detected::Document => {
            drop(head);
            read_document(
                &mut file, size, forced, resume, limits, redactor, send, report,
            )
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn read_lines(
    file: &File,
    size: u64,
    format: SourceFormat,
    term: u8,
    resume: Option<Resume>,
    limits: &Limits,
    redactor: &Redactor,
    send: &mut dyn FnMut(Msg) -> bool,
    report: &mut FileReport,
) -> Result<(), String> {
    let (start, mut next_line, mut seq) = match &resume {
        Some(r) if r.consumed > 0 => {
            if size < r.consumed {
                return Err(format!(
                    "is {size} bytes, less than the {} bytes already ingested: it was rewritten, not appended (ingest it again with --replace)",
                    r.consumed
                ));
            }
            let now = fingerprint(file, r.consumed).map_err(|e| format!("cannot read: {e}"))?;
            if Some(&now) != r.fingerprint.as_ref() {
                return Err(format!(
                    "changed within the {} bytes already ingested: it was rewritten, not appended (ingest it again with --replace)",
                    r.consumed
                ));
            }
            if size == r.consumed {
                return Ok(());
            }
            (r.consumed, r.next_line, r.next_seq)
        }
        Some(r) => (0, 1, r.next_seq),
        None => (0, 1, 0),
    };
    if !send(Msg::Start(format)) {
        return Ok(());
    }
    let mut reader_file = file.try_clone().map_err(|e| format!("cannot read: {e}"))?;
    reader_file
        .seek(SeekFrom::Start(start))
        .map_err(|e| format!("cannot read: {e}"))?;
    let mut reader = LineReader::new(
        BufReader::with_capacity(1 << 20, reader_file),
        start,
        next_line,
    )
    .with_terminator(term);
    let mut meta = SessionMeta::default();
    let mut counts = RedactionCounts::default();
    let mut chunk_lines: Vec<(i64, String)> = Vec::new();
    let mut chunk_events: Vec<Event> = Vec::new();
    let mut chunk_bytes = 0usize;
    let mut consumed = start;
    let mut flushed = start;

    let mut flush = |lines: &mut Vec<(i64, String)>,
                     events: &mut Vec<Event>,
                     bytes: &mut usize,
                     consumed: u64,
                     next_line: i64,
                     meta: &SessionMeta,
                     flushed: &mut u64|
     -> Result<bool, String> {
        if consumed == *flushed {
            return Ok(true);
        }
        let fp = fingerprint(file, consumed).map_err(|e| format!("cannot read: {e}"))?;
        let chunk = Chunk {
            lines: std::mem::take(lines),
            events: std::mem::take(events),
            consumed,
            next_line,
            fingerprint: fp,
            meta: meta.clone(),
            bytes: consumed - *flushed,
        };
        *bytes = 0;
        *flushed = consumed;
        Ok(send(Msg::Chunk(chunk)))
    };

    loop {
        let item = match reader.next_item() {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(e) => {
                report
                    .warnings
                    .push(format!("stopped reading at byte {consumed}: {e}"));
                break;
            }
        };
        match item {
            Item::TooLong { number, len, end } => {
                report.skip(
                    number,
                    format!(
                        "{:.1} MB long, over the {} MB line limit",
                        len as f64 / 1e6,
                        crate::lines::MAX_LINE_BYTES >> 20
                    ),
                );
                consumed = end;
                next_line = number + 1;
            }
            Item::Line {
                number,
                bytes,
                terminated,
                end,
            } => {
                // a byte order mark before the first line is no part of it
                let bytes = if number == 1 && start == 0 {
                    strip_bom(bytes)
                } else {
                    bytes
                };
                if is_blank(bytes) {
                    if !terminated && bytes.contains(&0) {
                        // a NUL-filled tail (preallocated, or a crash mid-write): not a line,
                        // and left unconsumed in case the writer fills it in
                        report.warnings.push(format!(
                            "ends in {} bytes of NULs (a preallocated or interrupted write): left unread",
                            bytes.len()
                        ));
                        break;
                    }
                    consumed = end;
                    next_line = number + 1;
                    continue;
                }
                let text = match std::str::from_utf8(bytes) {
                    Ok(t) => t,
                    Err(_) if !terminated => {
                        report.warnings.push(format!(
                            "line {number}, the last, is incomplete (no newline, not UTF-8): left for the next ingest"
                        ));
                        break;
                    }
                    Err(e) => {
                        report.skip(
                            number,
                            format!("invalid UTF-8 at byte {} of the line", e.valid_up_to()),
                        );
                        consumed = end;
                        next_line = number + 1;
                        continue;
                    }
                };
                // Validate first (only valid lines are kept, and redaction reads valid JSON
                // as JSON), then redact; a changed line is read again so that its events come
                // from the redacted text. Events are built only after redaction, so nothing
                // of a secret reaches them or the session's metadata.
                let parsed = match Parsed::read(format, text) {
                    Ok(p) => p,
                    Err(_) if !terminated => {
                        report.warnings.push(format!(
                            "line {number}, the last, is incomplete (no newline, not valid JSON): left for the next ingest"
                        ));
                        break;
                    }
                    Err(e) => {
                        report.skip(number, format!("invalid JSON: {e}"));
                        consumed = end;
                        next_line = number + 1;
                        continue;
                    }
                };
                let redacted = redactor.redact_json(text, &mut counts);
                let mut events = match &redacted {
                    std::borrow::Cow::Borrowed(_) => parsed.events(number, &mut meta),
                    std::borrow::Cow::Owned(r) => {
                        drop(parsed);
                        Parsed::read(format, r)
                            .expect("redaction keeps JSON valid")
                            .events(number, &mut meta)
                    }
                };
                for e in &mut events {
                    e.seq = seq;
                    seq += 1;
                }
                report.lines_read += 1;
                chunk_bytes += redacted.len();
                chunk_lines.push((number, redacted.into_owned()));
                chunk_events.extend(events);
                consumed = end;
                next_line = number + 1;
                if chunk_events.len() >= limits.batch_events || chunk_bytes >= limits.batch_bytes {
                    let go = flush(
                        &mut chunk_lines,
                        &mut chunk_events,
                        &mut chunk_bytes,
                        consumed,
                        next_line,
                        &meta,
                        &mut flushed,
                    )?;
                    if !go {
                        return Ok(());
                    }
                }
            }
        }
    }
    flush(
        &mut chunk_lines,
        &mut chunk_events,
        &mut chunk_bytes,
        consumed,
        next_line,
        &meta,
        &mut flushed,
    )?;
    report.bytes_read = consumed - start;
    report.redactions = counts;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn read_document(
    file: &mut File,
    size: u64,
    forced: Option<SourceFormat>,
    resume: Option<Resume>,
    limits: &Limits,
    redactor: &Redactor,
    send: &mut dyn FnMut(Msg) -> bool,
    report: &mut FileReport,
) -> Result<(), String> {
    if size > limits.max_document {
        return Err(format!(
            "is a {:.0} MB document; JSON and text transcripts are read whole and may be at most {} MB (JSON lines have no limit)",
            size as f64 / 1e6,
            limits.max_document >> 20
        ));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read: {e}"))?;
    // a byte order mark, a NUL-filled tail, and `\r`-only line endings are the writer's, not
    // the document's
    let bom = bytes.len() - strip_bom(&bytes).len();
    bytes.drain(..bom);
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    if line_terminator(&bytes) == b'\r' {
        for b in &mut bytes {
            if *b == b'\r' {
                *b = b'\n';
            }
        }
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "not a transcript: not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    let mut counts = RedactionCounts::default();
    let redacted = redactor.redact(&text, &mut counts).into_owned();
    drop(text);
    let mut meta = SessionMeta::default();
    let (format, mut events) = match serde_json::from_str::<Value>(&redacted) {
        Ok(doc) => {
            if let Some(lines) = doc.get("loglines").and_then(Value::as_array) {
                let mut events = Vec::new();
                for (i, line) in lines.iter().enumerate() {
                    events.extend(claude::parse_line(line, i as i64 + 1, &mut meta));
                }
                (SourceFormat::ClaudeCode, events)
            } else if messages::is_conversation(&doc) {
                let openai = match forced {
                    Some(SourceFormat::OpenaiChat) => true,
                    Some(SourceFormat::AnthropicMessages) | None => {
                        forced.is_none() && messages::looks_openai(&doc)
                    }
                    Some(f) => {
                        return Err(format!(
                            "is a JSON conversation, which the forced format {f} does not read"
                        ));
                    }
                };
                if openai {
                    (
                        SourceFormat::OpenaiChat,
                        messages::parse_openai(&doc, &mut meta),
                    )
                } else {
                    (
                        SourceFormat::AnthropicMessages,
                        messages::parse_anthropic(&doc, &mut meta),
                    )
                }
            } else {
                return Err(
                    "not a transcript: JSON, but no conversation in it (no `messages`, `loglines` or API response)".into(),
                );
            }
        }
        Err(json_err) => match text::parse(&redacted) {
            Some(events) => (SourceFormat::PlainText, events),
            None if redacted.trim_start().starts_with(['{', '[']) => {
                return Err(format!(
                    "not a transcript: invalid JSON ({json_err}) and no speaker lines like `User:`"
                ));
            }
            None => {
                return Err(
                    "not a transcript: not JSON lines, not a JSON conversation, and no speaker lines like `User:` / `Assistant:`"
                        .into(),
                );
            }
        },
    };
    // The fingerprint covers every event the session will hold once this batch is in.
    let fingerprint = event_fingerprint(&events);
    let (start_seq, line) = match &resume {
        Some(r) if r.consumed > 0 => {
            let n = r.next_seq as usize;
            if events.len() < n || Some(event_fingerprint(&events[..n])) != r.fingerprint {
                return Err(
                    "changed since it was ingested, beyond adding messages at the end (ingest it again with --replace)".into(),
                );
            }
            if events.len() == n {
                return Ok(());
            }
            events.drain(..n);
            (r.next_seq, r.next_line)
        }
        _ => (0, 1),
    };
    for (i, e) in events.iter_mut().enumerate() {
        e.seq = start_seq + i as i64;
    }
    if !send(Msg::Start(format)) {
        return Ok(());
    }
    report.lines_read = 1;
    report.bytes_read = size;
    report.redactions = counts;
    let chunk = Chunk {
        bytes: size,
        lines: vec![(line, redacted)],
        events,
        consumed: size,
        next_line: line + 1,
        fingerprint,
        meta,
    };
    send(Msg::Chunk(chunk));
    Ok(())
}

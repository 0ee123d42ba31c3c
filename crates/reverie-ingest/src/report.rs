//! What an ingest did, file by file and in total: the `--json` report of `reverie ingest`.

use reverie_core::session::SourceFormat;
use serde::Serialize;

use crate::redact::RedactionCounts;

/// Most skipped lines listed per file; the rest are counted.
pub const MAX_LISTED_SKIPS: usize = 100;

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// A new session was made from it.
    Created,
    /// It grew since the last ingest; the new events were added.
    Appended,
    /// Nothing new since the last ingest.
    Unchanged,
    /// Ingested again from scratch (`--replace`).
    Replaced,
    /// Not a transcript (or empty), passed over inside a folder.
    Skipped,
    /// It could not be ingested; `error` says why and nothing of it was stored.
    Failed,
}

/// A line that was left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedLine {
    pub line: i64,
    pub reason: String,
}

/// One file's report.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: String,
    pub status: FileStatus,
    pub session_id: Option<String>,
    pub format: Option<SourceFormat>,
    pub events_added: u64,
    pub lines_read: u64,
    pub bytes_read: u64,
    /// Up to [`MAX_LISTED_SKIPS`] skipped lines; `skipped_count` counts them all.
    pub skipped_lines: Vec<SkippedLine>,
    pub skipped_count: u64,
    pub warnings: Vec<String>,
    pub redactions: RedactionCounts,
    pub error: Option<String>,
}

impl FileReport {
    pub fn new(path: impl Into<String>) -> Self {
        FileReport {
            path: path.into(),
            status: FileStatus::Unchanged,
            session_id: None,
            format: None,
            events_added: 0,
            lines_read: 0,
            bytes_read: 0,
            skipped_lines: Vec::new(),
            skipped_count: 0,
            warnings: Vec::new(),
            redactions: RedactionCounts::default(),
            error: None,
        }
    }

    /// Records a skipped line.
    pub fn skip(&mut self, line: i64, reason: impl Into<String>) {
        self.skipped_count += 1;
        if self.skipped_lines.len() < MAX_LISTED_SKIPS {
            self.skipped_lines.push(SkippedLine {
                line,
                reason: reason.into(),
            });
        }
    }

    /// Marks the file failed.
    pub fn fail(mut self, error: impl Into<String>) -> Self {
        self.status = FileStatus::Failed;
        self.error = Some(error.into());
        self
    }
}

/// The whole ingest.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    pub files: Vec<FileReport>,
    pub sessions_created: u64,
    pub sessions_appended: u64,
    pub unchanged: u64,
    pub skipped_files: u64,
    pub failed: u64,
    pub events_added: u64,
    pub bytes_read: u64,
    pub skipped_lines: u64,
    pub redactions: RedactionCounts,
}

impl IngestReport {
    /// Adds a file's report to the totals.
    pub fn push(&mut self, f: FileReport) {
        match f.status {
            FileStatus::Created | FileStatus::Replaced => self.sessions_created += 1,
            FileStatus::Appended => self.sessions_appended += 1,
            FileStatus::Unchanged => self.unchanged += 1,
            FileStatus::Skipped => self.skipped_files += 1,
            FileStatus::Failed => self.failed += 1,
        }
        self.events_added += f.events_added;
        self.bytes_read += f.bytes_read;
        self.skipped_lines += f.skipped_count;
        self.redactions.merge(&f.redactions);
        self.files.push(f);
    }
}

//! The ingest pipeline: paths (files, folders, globs) in, sessions out.
//!
//! Each file is read on a blocking thread ([`read`](crate::read)) that hands batches to the
//! async writer over a small bounded channel, so parsing and writing overlap and memory stays
//! bounded. Every batch is one transaction that also moves the session's cursor, so an ingest
//! killed midway resumes where its last batch landed, and nothing is ever stored twice.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use reverie_core::session::{Outcome, SourceFormat};
use reverie_core::{Error, Result};
use reverie_store::{NewSession, SessionBatch, Store};

use crate::read::{Limits, Msg, Resume, read_file};
use crate::redact::redactor;
use crate::report::{FileReport, FileStatus, IngestReport};

/// How to ingest.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Ingest files already ingested again from scratch, rewritten or not.
    pub replace: bool,
    /// Set this outcome on every session ingested.
    pub outcome: Option<Outcome>,
    /// Use this format instead of detecting it.
    pub format: Option<SourceFormat>,
    pub limits: Limits,
}

/// Progress callbacks (a progress bar in the CLI; nothing in tests).
pub trait Progress: Send + Sync {
    fn begin(&self, _files: u64, _bytes: u64) {}
    fn file(&self, _path: &str) {}
    fn advance(&self, _bytes: u64) {}
    fn end(&self) {}
}

/// No progress display.
#[derive(Debug)]
pub struct Quiet;
impl Progress for Quiet {}

/// A file to ingest, and whether it was named (not found in a folder).
#[derive(Debug, Clone)]
pub struct Target {
    pub path: PathBuf,
    pub explicit: bool,
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// The error of an argument that names nothing on disk.
pub const NO_SUCH_PATH: &str = "no such file or folder";

/// Expands arguments into files: a file is itself, a folder is every file below it (sorted,
/// hidden entries and symlinked folders left out), a glob is its matches. Arguments that name
/// nothing come back as failed reports.
pub fn expand(args: &[String]) -> (Vec<Target>, Vec<FileReport>) {
    let mut targets = Vec::new();
    let mut failures = Vec::new();
    for arg in args {
        let path = PathBuf::from(arg);
        if path.exists() {
            add(&path, true, &mut targets, &mut failures);
        } else if has_glob(arg) {
            match glob::glob(arg) {
                Ok(paths) => {
                    let mut matched = false;
                    for p in paths.flatten() {
                        matched = true;
                        add(&p, true, &mut targets, &mut failures);
                    }
                    if !matched {
                        failures.push(FileReport::new(arg).fail("no file matches this pattern"));
                    }
                }
                Err(e) => {
                    failures.push(FileReport::new(arg).fail(format!("not a valid pattern: {e}")))
                }
            }
        } else {
            failures.push(FileReport::new(arg).fail(NO_SUCH_PATH));
        }
    }
    (targets, failures)
}

fn add(path: &Path, explicit: bool, targets: &mut Vec<Target>, failures: &mut Vec<FileReport>) {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            failures.push(
                FileReport::new(path.display().to_string()).fail(format!("cannot read: {e}")),
            );
            return;
        }
    };
    if meta.is_file() {
        targets.push(Target {
            path: path.to_path_buf(),
            explicit,
        });
        return;
    }
    if !meta.is_dir() {
        failures
            .push(FileReport::new(path.display().to_string()).fail("not a regular file or folder"));
        return;
    }
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
        Ok(rd) => rd.flatten().map(|e| e.path()).collect(),
        Err(e) => {
            failures.push(
                FileReport::new(path.display().to_string()).fail(format!("cannot list: {e}")),
            );
            return;
        }
    };
    entries.sort();
    for entry in entries {
        let hidden = entry
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        let symlink = std::fs::symlink_metadata(&entry)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false);
        if hidden || (symlink && entry.is_dir()) {
            continue;
        }
        add(&entry, false, targets, failures);
    }
}

/// An ingest into one store.
#[derive(Debug)]
pub struct Ingest {
    store: Arc<dyn Store>,
    store_id: String,
    options: Options,
}

impl Ingest {
    pub fn new(store: Arc<dyn Store>, store_id: impl Into<String>, options: Options) -> Self {
        Ingest {
            store,
            store_id: store_id.into(),
            options,
        }
    }

    /// Ingests every file the arguments name.
    pub async fn run(&self, args: &[String], progress: &dyn Progress) -> Result<IngestReport> {
        // Refuse an unknown or archived store before reading anything.
        let store = self.store.get_store(&self.store_id).await?;
        if store.archived_at.is_some() {
            return Err(Error::StoreArchived { store_id: store.id });
        }
        let (targets, failures) = expand(args);
        let mut report = IngestReport::default();
        for f in failures {
            report.push(f);
        }
        let total: u64 = targets
            .iter()
            .filter_map(|t| std::fs::metadata(&t.path).ok())
            .map(|m| m.len())
            .sum();
        progress.begin(targets.len() as u64, total);
        for t in &targets {
            progress.file(&t.path.display().to_string());
            let mut file = self.ingest_file(t, progress).await;
            if !t.explicit
                && file.status == FileStatus::Failed
                && file
                    .error
                    .as_deref()
                    .is_some_and(|e| e.starts_with("not a transcript"))
            {
                // Inside a folder, what is not a transcript is passed over, not an error.
                file.status = FileStatus::Skipped;
                file.warnings.push(file.error.take().unwrap_or_default());
            }
            report.push(file);
        }
        progress.end();
        Ok(report)
    }

    /// Ingests one file.
    pub async fn ingest_file(&self, target: &Target, progress: &dyn Progress) -> FileReport {
        let display = target.path.display().to_string();
        let canonical = match std::fs::canonicalize(&target.path) {
            Ok(p) => p,
            Err(e) => return FileReport::new(display).fail(format!("cannot open: {e}")),
        };
        let key = canonical.display().to_string();
        self.ingest_source(canonical, key, display, progress).await
    }

    /// Ingests the file at `path` as the source `key` (a session's identity in the store:
    /// ingesting the same key again appends only what is new), reported as `display`. The HTTP
    /// API uses it for uploaded transcripts, under keys of their own.
    pub async fn ingest_source(
        &self,
        canonical: PathBuf,
        key: String,
        display: String,
        progress: &dyn Progress,
    ) -> FileReport {
        let label = display.clone();
        let mut existing = match self.store.session_source(&self.store_id, &key).await {
            Ok(s) => s,
            Err(e) => return FileReport::new(display).fail(e.to_string()),
        };
        let mut replaced = false;
        if self.options.replace
            && let Some(s) = &existing
            && s.consumed_bytes > 0
        {
            if let Err(e) = self.store.reset_session(&s.session_id).await {
                return FileReport::new(display).fail(e.to_string());
            }
            replaced = true;
            existing = match self.store.session_source(&self.store_id, &key).await {
                Ok(s) => s,
                Err(e) => return FileReport::new(display).fail(e.to_string()),
            };
        }
        let resume = existing.as_ref().map(|s| Resume {
            format: s.source_format,
            consumed: s.consumed_bytes as u64,
            fingerprint: s.consumed_hash.clone(),
            next_line: s.next_line,
            next_seq: s.next_seq,
        });

        let (tx, mut rx) = tokio::sync::mpsc::channel::<Msg>(2);
        let (path, forced, limits) = (
            canonical.clone(),
            self.options.format,
            self.options.limits.clone(),
        );
        let reader = tokio::task::spawn_blocking(move || {
            let mut send = |m: Msg| tx.blocking_send(m).is_ok();
            read_file(
                &path,
                &display,
                resume,
                forced,
                &limits,
                redactor(),
                &mut send,
            );
        });

        let mut session_id = existing.as_ref().map(|s| s.session_id.clone());
        let mut format = existing.as_ref().map(|s| s.source_format);
        let mut created = false;
        let (mut at_bytes, mut at_seq) = existing
            .as_ref()
            .map_or((0, 0), |s| (s.consumed_bytes, s.next_seq));
        let mut events_added = 0u64;
        let mut failure: Option<String> = None;
        let mut final_report = None;
        while let Some(msg) = rx.recv().await {
            match msg {
                Msg::Start(detected) => {
                    format = Some(detected);
                    if session_id.is_none() {
                        let new = NewSession {
                            store_id: self.store_id.clone(),
                            source_format: detected,
                            source_path: Some(key.clone()),
                            outcome: None,
                        };
                        match self.store.create_session(new).await {
                            Ok(s) => {
                                session_id = Some(s.id);
                                created = true;
                            }
                            Err(e) => {
                                failure = Some(e.to_string());
                                break;
                            }
                        }
                    }
                }
                Msg::Chunk(c) => {
                    let id = session_id.as_deref().expect("a chunk follows Start");
                    let added = c.events.len() as u64;
                    let batch = SessionBatch {
                        expect_consumed: at_bytes,
                        expect_seq: at_seq,
                        lines: c.lines,
                        events: c.events,
                        consumed_bytes: c.consumed as i64,
                        consumed_hash: Some(c.fingerprint),
                        next_line: c.next_line,
                        meta: c.meta,
                    };
                    match self.store.append_to_session(id, &batch).await {
                        Ok(s) => {
                            at_bytes = batch.consumed_bytes;
                            at_seq = s.event_count;
                            events_added += added;
                            progress.advance(c.bytes);
                        }
                        Err(e) => {
                            failure = Some(e.to_string());
                            break;
                        }
                    }
                }
                Msg::Report(r) => final_report = Some(r),
            }
        }
        drop(rx);
        let _ = reader.await;
        let mut report = final_report.unwrap_or_else(|| FileReport::new(label));
        report.session_id = session_id.clone();
        report.events_added = events_added;
        if let Some(f) = failure {
            return report.fail(f);
        }
        if report.status == FileStatus::Failed || report.status == FileStatus::Skipped {
            return report;
        }
        report.status = match (replaced, created, events_added) {
            (true, _, _) => FileStatus::Replaced,
            (_, true, _) => FileStatus::Created,
            (_, _, 0) => FileStatus::Unchanged,
            _ => FileStatus::Appended,
        };
        report.format = format;
        if let (Some(id), Some(outcome)) = (&session_id, &self.options.outcome)
            && let Err(e) = self
                .store
                .set_session_outcome(id, Some(outcome.clone()))
                .await
        {
            return report.fail(e.to_string());
        }
        report
    }
}

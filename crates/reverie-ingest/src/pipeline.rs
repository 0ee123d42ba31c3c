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
use reverie_store::{Compressed, NewSession, SessionBatch, SourceState, Store};

use crate::read::{Chunk, Limits, Msg, Resume, read_file};
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

/// What a file's reader sends the writer: [`Msg`], with a batch's raw lines compressed.
enum Sent {
    Start(SourceFormat),
    Chunk(Chunk, Result<Compressed>),
    Report(FileReport),
}

/// A file whose reader is started, its batches not yet written.
struct Reading {
    key: String,
    label: String,
    existing: Option<SourceState>,
    replaced: bool,
    rx: tokio::sync::mpsc::Receiver<Sent>,
    reader: tokio::task::JoinHandle<()>,
}

/// A file opened for ingest, or its failure to open.
enum Opening {
    Reading(Reading),
    Failed(FileReport),
}

impl Opening {
    fn key(&self) -> Option<&str> {
        match self {
            Opening::Reading(r) => Some(&r.key),
            Opening::Failed(_) => None,
        }
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
        // The next file is opened, and its reader started, before this one's batches are
        // written: reading (parse, redact) and writing then overlap across files, where most
        // files are one batch and would leave one side idle. Two names of the same file are
        // never in flight at once: the second reads the cursor the first leaves.
        let mut next: Option<Opening> = None;
        for (i, t) in targets.iter().enumerate() {
            progress.file(&t.path.display().to_string());
            let current = match next.take() {
                Some(o) => o,
                None => self.open_target(t).await,
            };
            if let Some(after) = targets.get(i + 1) {
                let opened = self.open_target_unless(after, current.key()).await;
                next = opened;
            }
            let mut file = match current {
                Opening::Reading(r) => self.finish(r, progress).await,
                Opening::Failed(report) => report,
            };
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
        match self.open_target(target).await {
            Opening::Reading(r) => self.finish(r, progress).await,
            Opening::Failed(report) => report,
        }
    }

    async fn open_target(&self, target: &Target) -> Opening {
        self.open_target_unless(target, None)
            .await
            .expect("no file is busy")
    }

    /// Opens `target` unless it is the file of `busy` (a key in flight): that one is opened
    /// once the first is written.
    async fn open_target_unless(&self, target: &Target, busy: Option<&str>) -> Option<Opening> {
        let display = target.path.display().to_string();
        let canonical = match std::fs::canonicalize(&target.path) {
            Ok(p) => p,
            Err(e) => {
                let report = FileReport::new(display).fail(format!("cannot open: {e}"));
                return Some(Opening::Failed(report));
            }
        };
        let key = canonical.display().to_string();
        if Some(key.as_str()) == busy {
            return None;
        }
        Some(self.open(canonical, key, display).await)
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
        match self.open(canonical, key, display).await {
            Opening::Reading(r) => self.finish(r, progress).await,
            Opening::Failed(report) => report,
        }
    }

    /// Looks up where the source's ingest stopped (resetting it for `--replace`) and starts
    /// its reader; nothing is written for it until [`Ingest::finish`].
    async fn open(&self, canonical: PathBuf, key: String, display: String) -> Opening {
        let label = display.clone();
        let mut existing = match self.store.session_source(&self.store_id, &key).await {
            Ok(s) => s,
            Err(e) => return Opening::Failed(FileReport::new(display).fail(e.to_string())),
        };
        let mut replaced = false;
        if self.options.replace
            && let Some(s) = &existing
            && s.consumed_bytes > 0
        {
            if let Err(e) = self.store.reset_session(&s.session_id).await {
                return Opening::Failed(FileReport::new(display).fail(e.to_string()));
            }
            replaced = true;
            existing = match self.store.session_source(&self.store_id, &key).await {
                Ok(s) => s,
                Err(e) => return Opening::Failed(FileReport::new(display).fail(e.to_string())),
            };
        }
        let resume = existing.as_ref().map(|s| Resume {
            format: s.source_format,
            consumed: s.consumed_bytes as u64,
            fingerprint: s.consumed_hash.clone(),
            next_line: s.next_line,
            next_seq: s.next_seq,
        });

        let (tx, rx) = tokio::sync::mpsc::channel::<Sent>(2);
        let (path, forced, limits) = (canonical, self.options.format, self.options.limits.clone());
        let reader = tokio::task::spawn_blocking(move || {
            // A batch's raw lines are compressed here, on the reading thread: the writer is
            // the slower side, and this halves what it does besides the database's own work.
            let mut send = |m: Msg| {
                let m = match m {
                    Msg::Start(format) => Sent::Start(format),
                    Msg::Chunk(mut c) => {
                        let lines = Compressed::new(&std::mem::take(&mut c.lines));
                        Sent::Chunk(c, lines)
                    }
                    Msg::Report(r) => Sent::Report(r),
                };
                tx.blocking_send(m).is_ok()
            };
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
        Opening::Reading(Reading {
            key,
            label,
            existing,
            replaced,
            rx,
            reader,
        })
    }

    /// Writes what the reader of `r` sends, batch by batch, and settles the file's report.
    async fn finish(&self, r: Reading, progress: &dyn Progress) -> FileReport {
        let Reading {
            key,
            label,
            existing,
            replaced,
            mut rx,
            reader,
        } = r;
        let mut session_id = existing.as_ref().map(|s| s.session_id.clone());
        let mut format = existing.as_ref().map(|s| s.source_format);
        let mut created = false;
        let mut pending: Option<NewSession> = None;
        let (mut at_bytes, mut at_seq) = existing
            .as_ref()
            .map_or((0, 0), |s| (s.consumed_bytes, s.next_seq));
        let mut events_added = 0u64;
        let mut failure: Option<String> = None;
        let mut final_report = None;
        while let Some(msg) = rx.recv().await {
            match msg {
                Sent::Start(detected) => {
                    format = Some(detected);
                    if session_id.is_none() {
                        // Created with its first batch, in the same transaction.
                        pending = Some(NewSession {
                            store_id: self.store_id.clone(),
                            source_format: detected,
                            source_path: Some(key.clone()),
                            outcome: None,
                        });
                    }
                }
                Sent::Chunk(c, compressed) => {
                    let added = c.events.len() as u64;
                    let lines = match compressed {
                        Ok(lines) => lines.into(),
                        Err(e) => {
                            failure = Some(e.to_string());
                            break;
                        }
                    };
                    let batch = SessionBatch {
                        expect_consumed: at_bytes,
                        expect_seq: at_seq,
                        lines,
                        events: c.events,
                        consumed_bytes: c.consumed as i64,
                        consumed_hash: Some(c.fingerprint),
                        next_line: c.next_line,
                        meta: c.meta,
                    };
                    let written = match (pending.take(), session_id.as_deref()) {
                        (Some(new), _) => self.store.start_session(new, &batch).await,
                        (None, Some(id)) => self.store.append_to_session(id, &batch).await,
                        (None, None) => unreachable!("a chunk follows Start"),
                    };
                    match written {
                        Ok(s) => {
                            if session_id.is_none() {
                                session_id = Some(s.id.clone());
                                created = true;
                            }
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
                Sent::Report(r) => final_report = Some(r),
            }
        }
        drop(rx);
        let _ = reader.await;
        // A transcript with no batch (nothing but what is skipped) is still a session.
        if failure.is_none()
            && let Some(new) = pending.take()
        {
            match self.store.create_session(new).await {
                Ok(s) => {
                    session_id = Some(s.id);
                    created = true;
                }
                Err(e) => failure = Some(e.to_string()),
            }
        }
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
